/*
 * reverse.c: reverse mode (-reverse-type), for a worker that nobody can
 * dial: the buildlet dials the coordinator instead and serves its
 * ordinary API over connections it made itself.
 *
 * One thread keeps the control connection: GET /reverse with the
 * X-Go-* headers, upgraded (101) to a stream of JSON lines.  The
 * coordinator sends {"type":"dial","path":P} for every connection it
 * wants; a short-lived thread then dials P (GET, upgraded the same
 * way, with the same headers), and the connection goes to the HTTP
 * server as if it had been accepted (httpd_add_conn).  Each side sends
 * {"type":"ping"} every PING_MS and answers a ping with
 * {"type":"pong"}; a side that hears nothing for DEAD_MS gives the
 * connection up.  Whatever ends the control connection, the thread
 * dials again after a delay that doubles from 1 s to 30 s, with
 * jitter, and never gives up: only reverse_stop ends it.
 *
 * Data connections are authenticated like listen mode's: HTTP Basic
 * with the host type's key as the password (serve.c's check, since
 * bl.password is the key).
 */
#include "compat.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "extern.h"
#include "http.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define PING_MS		10000
#define DEAD_MS		35000
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	30000
#define LINE_MAX_LEN	4096	/* a control message */
#define UPGRADE_PROTO	"revdial"
#define STOP_WAIT_S	2

struct reverse rv;

static pthread_t ctl_thread;
static int ctl_started;
static int stopfd = -1;		/* eventfd: reverse_stop was called */
static pthread_mutex_t rv_mu = PTHREAD_MUTEX_INITIALIZER;
static int rv_stopping;		/* under rv_mu: bl.h is going away */

static int
stopping(void)
{
	int s;

	pthread_mutex_lock(&rv_mu);
	s = rv_stopping;
	pthread_mutex_unlock(&rv_mu);
	return s;
}

/* The registration headers; the strings are freed by headers_free. */
static void
headers_make(char *h[5])
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "X-Go-Host-Type: %s", rv.type);
	h[0] = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "X-Go-Builder-Key: %s", rv.key);
	h[1] = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "X-Go-Builder-Hostname: %s", rv.hostname);
	h[2] = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "X-Go-Builder-Version: %d", BUILDLET_VERSION);
	h[3] = strbuf_detach(&sb, NULL);
	h[4] = NULL;
}

static void
headers_free(char *h[5])
{
	size_t i;

	for (i = 0; h[i] != NULL; i++) {
		bf_wipe(h[i], strlen(h[i]));
		free(h[i]);
	}
}

/* GET coordinator + path, upgraded: the connection, or -1 with err. */
static int
dial(const char *path, struct strbuf *err)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp resp = HTTP_RESP_INIT;
	struct strbuf url = STRBUF_INIT;
	char *h[5];
	int fd = -1;

	headers_make(h);
	opt.headers = (const char *const *)h;
	opt.cacert = rv.cafile;
	strbuf_addf(&url, "%s%s", rv.coordinator, path);
	if (http_upgrade("GET", url.buf, UPGRADE_PROTO, &opt, &fd, &resp, err) !=
	    HTTP_OK)
		fd = -1;
	headers_free(h);
	http_resp_release(&resp);
	strbuf_release(&url);
	return fd;
}

/* A data connection: dialled, then served as if accepted. */
static void *
data_main(void *arg)
{
	struct strbuf err = STRBUF_INIT;
	char *path = arg;
	int fd;

	if ((fd = dial(path, &err)) == -1)
		log_warnx("reverse: data connection: %s", err.buf);
	else {
		pthread_mutex_lock(&rv_mu);
		if (rv_stopping)
			close(fd);
		else if (httpd_add_conn(bl.h, fd, &err) == -1)
			log_warnx("reverse: data connection: %s", err.buf);
		pthread_mutex_unlock(&rv_mu);
	}
	free(path);
	strbuf_release(&err);
	return NULL;
}

/* Paths the coordinator may send us to: its data endpoint, plain. */
static int
valid_data_path(const char *p)
{
	return strncmp(p, "/reverse/data/", 14) == 0 && p[14] != '\0' &&
	    strspn(p + 14, "0123456789abcdefABCDEF") == strlen(p + 14) &&
	    strlen(p) < 200;
}

static void
start_data(const char *path)
{
	pthread_attr_t attr;
	pthread_t t;
	char *p = xstrdup(path);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, data_main, p) != 0) {
		log_warnx("reverse: cannot start a thread for a data "
		    "connection");
		free(p);
	}
	pthread_attr_destroy(&attr);
}

static int
send_msg(int fd, const char *type)
{
	struct strbuf sb = STRBUF_INIT;
	ssize_t n;
	size_t off = 0;

	strbuf_addf(&sb, "{\"type\":\"%s\"}\n", type);
	while (off < sb.len) {
		n = send(fd, sb.buf + off, sb.len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			strbuf_release(&sb);
			return -1;
		}
		off += (size_t)n;
	}
	strbuf_release(&sb);
	return 0;
}

/* One message from the coordinator: 0, or -1 to drop the connection. */
static int
control_msg(int fd, const char *line, size_t len, struct strbuf *why)
{
	struct strbuf err = STRBUF_INIT;
	struct json *o;
	const char *type, *path;
	int ret = 0;

	if ((o = json_parse(line, len, &err)) == NULL ||
	    (type = json_str(json_get(o, "type"), NULL)) == NULL) {
		strbuf_addf(why, "bad message '%s'", escn(line, len));
		ret = -1;
	} else if (strcmp(type, "dial") == 0) {
		path = json_str(json_get(o, "path"), NULL);
		if (path == NULL || !valid_data_path(path))
			log_warnx("reverse: dial to a bad path '%s' refused",
			    path != NULL ? esc(path) : "");
		else
			start_data(path);
	} else if (strcmp(type, "ping") == 0) {
		if (send_msg(fd, "pong") == -1) {
			strbuf_addf(why, "write: %s", strerror(errno));
			ret = -1;
		}
	}
	/* "pong", and types of later versions: heard, nothing to do */
	json_free(o);
	strbuf_release(&err);
	return ret;
}

/* Serve one control connection until it ends; why says how it ended. */
static void
control(int fd, struct strbuf *why)
{
	struct strbuf in = STRBUF_INIT;
	struct pollfd pfd[2];
	long long heard = mono_ms(), pinged = mono_ms(), now, t;
	char buf[4096], *nl;
	ssize_t n;

	for (;;) {
		now = mono_ms();
		if (now - heard >= DEAD_MS) {
			strbuf_addf(why, "nothing heard for %d s",
			    DEAD_MS / 1000);
			break;
		}
		if (now - pinged >= PING_MS) {
			if (send_msg(fd, "ping") == -1) {
				strbuf_addf(why, "write: %s", strerror(errno));
				break;
			}
			pinged = now;
		}
		t = pinged + PING_MS - now;
		if (heard + DEAD_MS - now < t)
			t = heard + DEAD_MS - now;
		pfd[0].fd = fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = stopfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, (int)(t > 0 ? t : 0)) == -1) {
			if (errno == EINTR)
				continue;
			strbuf_addf(why, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0) {
			strbuf_addstr(why, "stopping");
			break;
		}
		if (pfd[0].revents == 0)
			continue;
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			strbuf_addstr(why, n == 0 ? "closed by the coordinator" :
			    strerror(errno));
			break;
		}
		heard = mono_ms();
		strbuf_add(&in, buf, (size_t)n);
		while ((nl = memchr(in.buf, '\n', in.len)) != NULL) {
			size_t len = (size_t)(nl - in.buf);

			if (control_msg(fd, in.buf, len, why) == -1)
				goto out;
			memmove(in.buf, nl + 1, in.len - len - 1);
			strbuf_setlen(&in, in.len - len - 1);
		}
		if (in.len > LINE_MAX_LEN) {
			strbuf_addf(why, "a message over %d bytes",
			    LINE_MAX_LEN);
			break;
		}
	}
out:
	strbuf_release(&in);
}

/* Sleep ms, or less when reverse_stop is called: 1 when it was. */
static int
nap(long long ms)
{
	struct pollfd pfd = { stopfd, POLLIN, 0 };

	return poll(&pfd, 1, (int)ms) > 0;
}

static void *
control_main(void *arg)
{
	struct strbuf err = STRBUF_INIT;
	long long backoff = BACKOFF_MIN_MS, delay;
	uint32_t r;
	int fd;

	(void)arg;
	while (!stopping()) {
		strbuf_reset(&err);
		if ((fd = dial("/reverse", &err)) >= 0) {
			log_warnx("reverse: registered with %s as %s of host "
			    "type %s", esc(rv.coordinator), esc(rv.hostname),
			    esc(rv.type));
			backoff = BACKOFF_MIN_MS;
			control(fd, &err);
			close(fd);
			if (stopping())
				break;
			log_warnx("reverse: control connection lost: %s",
			    err.buf);
			strbuf_reset(&err);
			strbuf_addstr(&err, "reconnecting");
		}
		/* the delay, +-25% so that a farm's workers spread out */
		if (random_bytes(&r, sizeof(r)) == -1)
			r = (uint32_t)mono_ms();
		delay = backoff * 3 / 4 + (long long)(r % (backoff / 2 + 1));
		log_warnx("reverse: %s; retry in %lld ms", err.buf, delay);
		if (nap(delay))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    backoff * 2;
	}
	strbuf_release(&err);
	return NULL;
}

int
reverse_start(struct strbuf *err)
{
	if ((stopfd = eventfd(0, EFD_CLOEXEC)) == -1) {
		strbuf_addf(err, "eventfd: %s", strerror(errno));
		return -1;
	}
	if (pthread_create(&ctl_thread, NULL, control_main, NULL) != 0) {
		strbuf_addstr(err, "cannot start the reverse thread");
		return -1;
	}
	ctl_started = 1;
	return 0;
}

void
reverse_stop(void)
{
	struct timespec ts;
	uint64_t one = 1;

	pthread_mutex_lock(&rv_mu);
	rv_stopping = 1;
	pthread_mutex_unlock(&rv_mu);
	if (!ctl_started)
		return;
	(void)!write(stopfd, &one, sizeof(one));
	/* a dial in progress may take its connect timeout: not that long */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STOP_WAIT_S;
	if (pthread_timedjoin_np(ctl_thread, NULL, &ts) != 0)
		log_warnx("reverse: still dialling; stopping anyway");
	ctl_started = 0;
}
