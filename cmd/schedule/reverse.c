/*
 * reverse.c: reverse buildlets, the coordinator's end (buildlet(1),
 * REVERSE MODE, has the protocol).
 *
 * GET /reverse, upgraded to "revdial", registers a machine of a reverse
 * pool once its X-Go-Builder-Key is the host type's key; the upgraded
 * connection is its control channel.  So that every machine is reached
 * the same way (build children, heartbeats, the gomote proxy: by URL
 * and password), each registration gets a loopback bridge: a socket
 * listening on 127.0.0.1:0, the machine's url.  Every connection
 * accepted there waits while the control channel asks the buildlet for
 * a data connection ({"type":"dial","path":"/reverse/data/ID"}); when
 * the buildlet's GET of that path arrives, upgraded, the two are
 * spliced (lib/relay) until either side ends.  The machine's password
 * is the host type's key, which the buildlet checks on every request
 * of a data connection.
 *
 * One thread per registration serves its control channel and its
 * bridge; one per data connection relays.  rev_mu guards the pending
 * and relayed connections; sched_mu (taken first, never inside rev_mu)
 * the machine table.  A registration ends when its control channel
 * does (EOF, an error, nothing heard for DEAD_MS), or when another
 * registration of the same host type and hostname replaces it: its
 * machine leaves the table and its data connections are cut, so a
 * build running there fails as an infrastructure failure and runs
 * again elsewhere (serve.c).
 */
#include "compat.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crypto.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "relay.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define PROTO		"revdial"
#define DATA_PREFIX	"/reverse/data/"
#define PING_MS		10000
#define DEAD_MS		35000
#define PENDING_MS	10000	/* a bridge connection waits for its dial */
#define MAX_PENDING	256	/* per machine */
#define LINE_MAX_LEN	4096
#define NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789._-"

/* A reverse host type's key, and the file build children read it from. */
struct rkey {
	const struct hosttype_conf *ht;
	char key[65];
	char *file;
};

/* One registration. */
struct rmachine {
	char *name;		/* the machine's: HOSTTYPE-HOSTNAME */
	const struct rkey *k;
	char *hostname, *version, *peer;
	long long connected;	/* wall s */
	long long keepalive;	/* wall s of the last message; atomic */
	struct httpd_upgrade *up;
	int ctl;		/* the control channel */
	int lsn;		/* the bridge */
	int port;
	int stopfd;		/* eventfd: replaced */
	struct strbuf in;	/* control input not yet a line */
};

/* A bridge connection: waiting for its data connection, then relayed. */
struct rconn {
	struct rconn *next;
	struct rmachine *rm;	/* NULL once rm is gone */
	char id[33];
	int cfd;		/* the accepted bridge connection */
	long long since;	/* mono_ms */
	int relayed;		/* its data connection came */
	struct httpd_upgrade *up;
};

static struct rkey *keys;
static size_t nkeys;
static pthread_mutex_t rev_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rconn *conns;	/* under rev_mu */

int
reverse_init(const unsigned char master[32], struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int rc = 0;

	keys = xcalloc(cx.conf->nhosttypes + 1, sizeof(*keys));
	farm_placef(&path, cx.dir, FARM_STATE, "schedule/reverse");
	for (i = 0; i < cx.conf->nhosttypes && rc == 0; i++) {
		const struct hosttype_conf *ht = &cx.conf->hosttypes[i];
		struct rkey *k = &keys[nkeys];
		struct strbuf line = STRBUF_INIT;

		if (ht->pool != POOL_REVERSE)
			continue;
		if (nkeys == 0 && (mkdirs(path.buf) == -1 ||
		    chmod(path.buf, 0700) == -1)) {
			strbuf_addf(err, "mkdir '%s': %s", esc(path.buf),
			    strerror(errno));
			rc = -1;
			break;
		}
		k->ht = ht;
		hmac_sha256_hex(master, 32, ht->name, k->key);
		strbuf_reset(&line);
		farm_placef(&line, cx.dir, FARM_STATE,
		    "schedule/reverse/%s.key", ht->name);
		k->file = strbuf_detach(&line, NULL);
		/* the machines' password file, for schedule build -p */
		strbuf_addf(&line, "%s\n", k->key);
		if (strchr(ht->name, '/') != NULL || atomic_write(AT_FDCWD,
		    k->file, line.buf, line.len, 0600, err) == -1) {
			if (err->len == 0)
				strbuf_addf(err, "hosttype \"%s\": a '/' in "
				    "the name", esc(ht->name));
			rc = -1;
		}
		bf_wipe(line.buf, line.alloc);
		strbuf_release(&line);
		nkeys++;
	}
	strbuf_release(&path);
	return rc;
}

static const struct rkey *
key_of(const char *hosttype)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].ht->name, hosttype) == 0)
			return &keys[i];
	return NULL;
}

/*
 * The host type of a request's X-Go-Host-Type whose X-Go-Builder-Key
 * is right, or NULL after a 412 and a log line (never the key).
 */
static const struct rkey *
authenticate(struct httpd_req *req)
{
	const char *type = httpd_header(req, "X-Go-Host-Type");
	const char *key = httpd_header(req, "X-Go-Builder-Key");
	const char *host = httpd_header(req, "X-Go-Builder-Hostname");
	const struct rkey *k;

	if (type == NULL || key == NULL) {
		httpd_error(req, 412, "want X-Go-Host-Type and "
		    "X-Go-Builder-Key");
		log_warnx("reverse: %s from %s: no host type or key",
		    esc(httpd_path(req)), esc(httpd_peer(req)));
		return NULL;
	}
	/* compared even for an unknown host type: the same time */
	k = key_of(type);
	if (!ct_streq(key, k != NULL ? k->key : "") || k == NULL) {
		httpd_error(req, 412, "bad key for host type");
		log_warnx("reverse: %s from %s: bad key for host type \"%s\" "
		    "(hostname %s)", esc(httpd_path(req)),
		    esc(httpd_peer(req)), esc(type),
		    host != NULL ? esc(host) : "?");
		return NULL;
	}
	return k;
}

static int
good_name(const char *s, size_t max)
{
	return s != NULL && *s != '\0' && strlen(s) <= max &&
	    strspn(s, NAME_CHARS) == strlen(s);
}

static int
send_line(int fd, const char *line)
{
	size_t off = 0, len = strlen(line);
	ssize_t n;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/*
 * A relay passes on each piece as it comes (a response's head, then its
 * chunks): Nagle's algorithm would hold the second piece back for the
 * client's delayed ACK, some 40 ms a round trip.  Fails harmlessly on a
 * unix socket (the TLS end of an upgrade).
 */
static void
nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* rm's bridge took a connection: ask the buildlet for its other half. */
static int
bridge_accept(struct rmachine *rm, struct strbuf *why)
{
	struct strbuf msg = STRBUF_INIT;
	unsigned char rnd[16];
	struct rconn *c;
	size_t i, n = 0;
	int fd;

	for (;;) {
		if ((fd = accept4(rm->lsn, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;	/* EAGAIN: all taken */
		}
		nodelay(fd);
		pthread_mutex_lock(&rev_mu);
		for (n = 0, c = conns; c != NULL; c = c->next)
			n += c->rm == rm && !c->relayed;
		pthread_mutex_unlock(&rev_mu);
		if (n >= MAX_PENDING || random_bytes(rnd, sizeof(rnd)) == -1) {
			log_warnx("machine %s: too many connections waiting "
			    "for the buildlet; one refused", esc(rm->name));
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->rm = rm;
		c->cfd = fd;
		c->since = mono_ms();
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(c->id + 2 * i, 3, "%02x", rnd[i]);
		pthread_mutex_lock(&rev_mu);
		c->next = conns;
		conns = c;
		pthread_mutex_unlock(&rev_mu);
		strbuf_reset(&msg);
		strbuf_addf(&msg, "{\"type\":\"dial\",\"path\":\"" DATA_PREFIX
		    "%s\"}\n", c->id);
		if (send_line(rm->ctl, msg.buf) == -1) {
			strbuf_addf(why, "write: %s", strerror(errno));
			strbuf_release(&msg);
			return -1;
		}
	}
	strbuf_release(&msg);
	return 0;
}

/* One control message: 0, or -1 to end the registration. */
static int
control_msg(struct rmachine *rm, const char *line, size_t len,
    struct strbuf *why)
{
	struct strbuf err = STRBUF_INIT;
	struct json *o;
	const char *type;
	int ret = 0;

	if ((o = json_parse(line, len, &err)) == NULL ||
	    (type = json_str(json_get(o, "type"), NULL)) == NULL) {
		strbuf_addf(why, "bad message '%s'", escn(line, len));
		ret = -1;
	} else if (strcmp(type, "ping") == 0 &&
	    send_line(rm->ctl, "{\"type\":\"pong\"}\n") == -1) {
		strbuf_addf(why, "write: %s", strerror(errno));
		ret = -1;
	}
	json_free(o);
	strbuf_release(&err);
	return ret;
}

/* Read what the control channel has: 0, or -1 when it ended. */
static int
control_read(struct rmachine *rm, struct strbuf *why)
{
	char buf[4096], *nl;
	ssize_t n;
	size_t len;

	if ((n = read(rm->ctl, buf, sizeof(buf))) <= 0) {
		if (n == -1 && errno == EINTR)
			return 0;
		strbuf_addstr(why, n == 0 ? "closed by the buildlet" :
		    strerror(errno));
		return -1;
	}
	__atomic_store_n(&rm->keepalive, (long long)time(NULL),
	    __ATOMIC_RELAXED);
	strbuf_add(&rm->in, buf, (size_t)n);
	while ((nl = memchr(rm->in.buf, '\n', rm->in.len)) != NULL) {
		len = (size_t)(nl - rm->in.buf);
		if (control_msg(rm, rm->in.buf, len, why) == -1)
			return -1;
		memmove(rm->in.buf, nl + 1, rm->in.len - len - 1);
		strbuf_setlen(&rm->in, rm->in.len - len - 1);
	}
	if (rm->in.len > LINE_MAX_LEN) {
		strbuf_addf(why, "a message over %d bytes", LINE_MAX_LEN);
		return -1;
	}
	return 0;
}

/* Bridge connections whose buildlet never dialled: closed. */
static void
expire_pending(struct rmachine *rm)
{
	struct rconn **pp, *c;
	long long now = mono_ms();

	pthread_mutex_lock(&rev_mu);
	for (pp = &conns; (c = *pp) != NULL;) {
		if (c->rm == rm && !c->relayed && now - c->since >= PENDING_MS) {
			log_warnx("machine %s: no data connection after %d s; "
			    "one bridge connection closed", esc(rm->name),
			    PENDING_MS / 1000);
			*pp = c->next;
			close(c->cfd);
			free(c);
		} else
			pp = &c->next;
	}
	pthread_mutex_unlock(&rev_mu);
}

/* rm is over: its machine leaves the table, its connections end. */
static void
rm_end(struct rmachine *rm, const char *why)
{
	struct rconn **pp, *c;
	struct machine *m;
	int gone = 0;

	pthread_mutex_lock(&sched_mu);
	if ((m = pool_find(rm->name)) != NULL && m->rev == rm) {
		log_warnx("machine %s: control connection ended (%s)%s",
		    esc(rm->name), why, m->item != NULL ?
		    "; its build fails" : "");
		pool_remove(m);
		gone = 1;
	}
	pthread_mutex_unlock(&sched_mu);
	if (!gone)
		log_warnx("machine %s: replaced by a new registration",
		    esc(rm->name));
	pthread_mutex_lock(&rev_mu);
	for (pp = &conns; (c = *pp) != NULL;) {
		if (c->rm != rm) {
			pp = &c->next;
			continue;
		}
		if (c->relayed) {
			/* its relay thread ends and frees it */
			shutdown(c->cfd, SHUT_RDWR);
			c->rm = NULL;
			pp = &c->next;
		} else {
			*pp = c->next;
			close(c->cfd);
			free(c);
		}
	}
	pthread_mutex_unlock(&rev_mu);
}

static void
rm_free(struct rmachine *rm)
{
	if (rm->lsn >= 0)
		close(rm->lsn);
	if (rm->stopfd >= 0)
		close(rm->stopfd);
	free(rm->name);
	free(rm->hostname);
	free(rm->version);
	free(rm->peer);
	strbuf_release(&rm->in);
	free(rm);
}

static void *
rm_main(void *arg)
{
	struct rmachine *rm = arg;
	struct strbuf why = STRBUF_INIT;
	struct pollfd pfd[3];
	long long pinged = mono_ms(), heard = mono_ms(), now, t;

	for (;;) {
		now = mono_ms();
		if (now - heard >= DEAD_MS) {
			strbuf_addf(&why, "nothing heard for %d s",
			    DEAD_MS / 1000);
			break;
		}
		if (now - pinged >= PING_MS) {
			if (send_line(rm->ctl, "{\"type\":\"ping\"}\n") == -1) {
				strbuf_addf(&why, "write: %s", strerror(errno));
				break;
			}
			pinged = now;
		}
		expire_pending(rm);
		t = pinged + PING_MS - now;
		if (t > 1000)
			t = 1000;	/* pending connections expire */
		pfd[0].fd = rm->ctl;
		pfd[1].fd = rm->lsn;
		pfd[2].fd = rm->stopfd;
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		if (poll(pfd, 3, (int)(t > 0 ? t : 0)) == -1) {
			if (errno == EINTR)
				continue;
			strbuf_addf(&why, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents != 0) {
			strbuf_addstr(&why, "replaced");
			break;
		}
		if (pfd[0].revents != 0) {
			if (control_read(rm, &why) == -1)
				break;
			heard = mono_ms();
		}
		if (pfd[1].revents != 0 && bridge_accept(rm, &why) == -1)
			break;
	}
	rm_end(rm, why.buf);
	httpd_upgrade_close(rm->up);
	rm_free(rm);
	strbuf_release(&why);
	return NULL;
}

/* A detached thread: 0, or -1 when none could start. */
static int
spawn(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

/* The loopback bridge: a listening socket on 127.0.0.1:0; -1 or fd. */
static int
bridge_open(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The control channel is ours: the machine joins the table. */
static void
on_control(struct httpd_upgrade *up, int fd, void *arg)
{
	struct rmachine *rm = arg;
	struct strbuf url = STRBUF_INIT;
	struct machine *m;
	const void *extra;
	size_t n;

	if (up == NULL) {
		rm_free(rm);
		return;
	}
	rm->up = up;
	rm->ctl = fd;
	extra = httpd_upgrade_extra(up, &n);
	strbuf_add(&rm->in, extra, n);
	rm->connected = time(NULL);
	rm->keepalive = rm->connected;
	if ((rm->lsn = bridge_open(&rm->port)) == -1 ||
	    (rm->stopfd = eventfd(0, EFD_CLOEXEC)) == -1) {
		log_warn("machine %s: no loopback bridge", esc(rm->name));
		httpd_upgrade_close(up);
		rm_free(rm);
		return;
	}
	strbuf_addf(&url, "http://127.0.0.1:%d", rm->port);
	pthread_mutex_lock(&sched_mu);
	if ((m = pool_find(rm->name)) != NULL && m->rev != NULL) {
		uint64_t one = 1;

		/* the original's rule: the newer registration wins */
		(void)!write(m->rev->stopfd, &one, sizeof(one));
		pool_remove(m);
	}
	m = pool_add(rm->k->ht, rm->name, url.buf, rm->k->file, rm->k->key);
	m->rev = rm;
	if (spawn(rm_main, rm) == -1) {
		pool_remove(m);
		pthread_mutex_unlock(&sched_mu);
		log_warnx("machine %s: cannot start its thread", esc(rm->name));
		httpd_upgrade_close(up);
		rm_free(rm);
	} else {
		log_warnx("machine %s: registered from %s, version %s, at %s",
		    esc(rm->name), esc(rm->peer), esc(rm->version),
		    url.buf);
		pthread_mutex_unlock(&sched_mu);
	}
	strbuf_release(&url);
}

static void
handle_register(struct httpd_req *req)
{
	const char *host = httpd_header(req, "X-Go-Builder-Hostname");
	const char *version = httpd_header(req, "X-Go-Builder-Version");
	const char *upg = httpd_header(req, "Upgrade");
	const struct rkey *k;
	struct rmachine *rm;
	struct machine *m;
	struct strbuf name = STRBUF_INIT;
	int clash;

	if ((k = authenticate(req)) == NULL)
		return;
	if (!good_name(host, 64)) {
		httpd_error(req, 400, "want X-Go-Builder-Hostname: letters, "
		    "digits, '.', '_' and '-', at most 64");
		return;
	}
	if (upg == NULL || strcasecmp(upg, PROTO) != 0) {
		httpd_error(req, 400, "want Upgrade: " PROTO);
		return;
	}
	strbuf_addf(&name, "%s-%s", k->ht->name, host);
	pthread_mutex_lock(&sched_mu);
	m = pool_find(name.buf);
	clash = m != NULL && (m->rev == NULL || m->ht != k->ht);
	pthread_mutex_unlock(&sched_mu);
	if (clash) {
		httpd_error(req, 409, "another machine has that name");
		log_warnx("reverse: machine name %s from %s taken by another "
		    "machine", esc(name.buf), esc(httpd_peer(req)));
		strbuf_release(&name);
		return;
	}
	rm = xcalloc(1, sizeof(*rm));
	rm->name = strbuf_detach(&name, NULL);
	rm->k = k;
	rm->hostname = xstrdup(host);
	rm->version = xstrdup(version != NULL && good_name(version, 32) ?
	    version : "?");
	rm->peer = xstrdup(httpd_peer(req));
	rm->ctl = rm->lsn = rm->stopfd = -1;
	strbuf_init(&rm->in, 0);
	httpd_reply_upgrade(req, PROTO, on_control, rm);
}

/* c leaves the list; its bridge connection is closed. */
static void
conn_drop(struct rconn *c)
{
	struct rconn **pp;

	pthread_mutex_lock(&rev_mu);
	for (pp = &conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	/* under rev_mu: rm_end never shuts down a number reused since */
	close(c->cfd);
	pthread_mutex_unlock(&rev_mu);
	free(c);
}

static void *
relay_main(void *arg)
{
	struct rconn *c = arg;
	struct httpd_upgrade *up = c->up;
	const void *extra;
	size_t n;

	extra = httpd_upgrade_extra(up, &n);
	(void)relay_run(httpd_upgrade_fd(up), c->cfd, extra, n);
	conn_drop(c);
	httpd_upgrade_close(up);
	return NULL;
}

/* The data connection is ours: splice it to its bridge connection. */
static void
on_data(struct httpd_upgrade *up, int fd, void *arg)
{
	struct rconn *c = arg;

	if (up != NULL) {
		nodelay(fd);
		c->up = up;
		if (spawn(relay_main, c) == 0)
			return;
		httpd_upgrade_close(up);
	}
	conn_drop(c);
}

static void
handle_data(struct httpd_req *req, const char *id)
{
	const struct rkey *k;
	struct rconn *c;

	if ((k = authenticate(req)) == NULL)
		return;
	pthread_mutex_lock(&rev_mu);
	for (c = conns; c != NULL; c = c->next)
		if (!c->relayed && c->rm != NULL && c->rm->k == k &&
		    strcmp(c->id, id) == 0)
			break;
	if (c != NULL)
		c->relayed = 1;
	pthread_mutex_unlock(&rev_mu);
	if (c == NULL) {
		httpd_error(req, 404, "no such data connection");
		return;
	}
	httpd_reply_upgrade(req, PROTO, on_data, c);
}

int
reverse_handle(struct httpd_req *req)
{
	const char *p = httpd_path(req);

	if (strcmp(p, "/reverse") != 0 &&
	    strncmp(p, DATA_PREFIX, strlen(DATA_PREFIX)) != 0)
		return 0;
	if (strcmp(httpd_method(req), "GET") != 0)
		httpd_error(req, 405, "GET only");
	else if (p[8] == '\0')
		handle_register(req);
	else
		handle_data(req, p + strlen(DATA_PREFIX));
	return 1;
}

void
reverse_status(const struct machine *m, struct json *o)
{
	const struct rmachine *rm = m->rev;
	long long now = time(NULL);

	json_set_str(o, "hostname", rm->hostname);
	json_set_str(o, "version", rm->version);
	json_set_int(o, "connected", rm->connected);
	json_set_int(o, "connected_s", now - rm->connected);
	json_set_int(o, "keepalive_s", now -
	    __atomic_load_n(&rm->keepalive, __ATOMIC_RELAXED));
}
