/*
 * gomote.c: the remote-buildlet API of schedule serve, gomote(1)'s side,
 * as the original coordinator's (reference §3.2-3.3):
 *
 *   POST /buildlet/create   builderType, version [, hold]: a machine of
 *                           the builder's host type, leased to the caller
 *                           as the instance user-LOGIN-BUILDER-N
 *   GET  /buildlet/list     the caller's instances
 *   GET  /buildlet/builders the farm's builders, their host types and env
 *   X-Buildlet-Proxy: NAME  any buildlet request, passed on to NAME's
 *                           buildlet with its password; POST /halt
 *                           destroys the instance instead
 *
 * An instance is a machine of pool.c's table in state MACHINE_LEASED.
 * A create request waits in a queue of its own that the loop serves
 * (gomote_take in decide, then gomote_tick), so gomote users and builds
 * share the machines of a host type in turns, or the users first with
 * gomote-preempt.  The request's thread waits on cv and meanwhile
 * streams progress lines to a client that knows them.
 *
 * Instances are recorded in state/schedule/gomote/NAME (atomic_write)
 * and found again after a restart: their machine is the pool's record
 * (pool.c adopts command machines that answer), else the instance is
 * listed as lost until it expires or is destroyed.
 *
 * A proxied request runs on a worker thread (fwd_run; workers stay for
 * the next request, with their kept-alive connections), which hands the
 * answer's body over a socket pair to the server's stream, so that
 * /exec output arrives as produced, its trailers follow, and /tgz and
 * PUT bodies (httpd pipe mode) are never held in memory.  /connect-ssh
 * is the buildlet's 101 (bclient_connect_ssh), then ours, and lib/relay
 * between the two sockets.
 *
 * Everything here is under sched_mu but the network calls.
 */
#include "compat.h"

#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bclient.h"
#include "crypto.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "http.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "relay.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define MIN_VERSION	"20160922"	/* the oldest client served */
#define STREAM_VERSION	"20191119"	/* clients that read progress lines */
#define PROGRESS_S	10		/* a progress line at least this often */
#define SAVE_SLACK_S	60		/* expiry rewritten when it moved this much */
#define NAME_MAX_LEN	200
#define NEXPIRED	64		/* expired names remembered */
#define STOP_POLL_MS	200		/* how soon a stream sees httpd_stop */
#define WORKER_IDLE_S	60
#define SSH_DIAL_MS	30000		/* the buildlet's 101 /connect-ssh */		/* a proxy worker with nothing to do ends */

struct inst {
	char *name;		/* user-LOGIN-BUILDER-N */
	char *user;		/* user-LOGIN */
	char *builder, *hosttype;
	char *machine;		/* the pool's name of its machine */
	char *url;		/* its buildlet, as recorded */
	char *lost;		/* why it is gone after a restart, or NULL */
	long long created, expires;	/* wall s */
	long long saved;	/* expires as the record says it */
	int calls;		/* proxied requests in progress */
};

struct waiter {
	char *user;
	const struct builder_conf *bc;
	long long since;	/* wall s */
	struct inst *inst;	/* given by the loop, busy until answered */
	int gone;		/* the instance ended before its answer */
};

struct hold {
	char *machine, *item, *builder;
	long long until;	/* wall s */
};
/* state/schedule/held/MACHINE: a hold, to find it again after a restart */

static struct inst **iv;
static size_t ni, ai;
static struct waiter **wv;
static size_t nw, aw;
static struct hold *hv;
static size_t nh, ah;
static unsigned char *turn;	/* per host type: 1 when gomote's turn */
static int gdirfd = -1;		/* state/schedule/gomote */
static int hdirfd = -1;		/* state/schedule/held */
static unsigned char mkey[32];
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static struct inst *
inst_find(const char *name)
{
	size_t i;

	for (i = 0; i < ni; i++)
		if (strcmp(iv[i]->name, name) == 0)
			return iv[i];
	return NULL;
}

static void
inst_free(struct inst *in)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (wv[i]->inst == in) {
			wv[i]->inst = NULL;
			wv[i]->gone = 1;
		}

	for (i = 0; i < ni; i++)
		if (iv[i] == in) {
			memmove(&iv[i], &iv[i + 1], (ni - i - 1) * sizeof(*iv));
			ni--;
			break;
		}
	free(in->name);
	free(in->user);
	free(in->builder);
	free(in->hosttype);
	free(in->machine);
	free(in->url);
	free(in->lost);
	free(in);
}

static struct inst *
inst_add(void)
{
	struct inst *in = xcalloc(1, sizeof(*in));

	GROW(iv, ni + 1, ai);
	iv[ni++] = in;
	return in;
}

/* state/schedule/gomote/NAME, replaced atomically */
static void
record_save(struct inst *in)
{
	struct json *o = json_new_object();
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	json_set_str(o, "name", in->name);
	json_set_str(o, "user", in->user);
	json_set_str(o, "builder", in->builder);
	json_set_str(o, "hosttype", in->hosttype);
	json_set_str(o, "machine", in->machine);
	json_set_str(o, "url", in->url != NULL ? in->url : "");
	json_set_int(o, "created", in->created);
	json_set_int(o, "expires", in->expires);
	json_dump(&sb, o);
	strbuf_addch(&sb, '\n');
	json_free(o);
	if (atomic_write(gdirfd, in->name, sb.buf, sb.len, 0644, &err) == -1)
		log_warnx("instance %s: %s", esc(in->name), err.buf);
	else
		in->saved = in->expires;
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void
record_remove(const char *name)
{
	if (unlinkat(gdirfd, name, 0) == -1 && errno != ENOENT)
		log_warn("remove instance record '%s'", esc(name));
	else
		fsync_dir(gdirfd);
}

static long long
idle_s(const char *hosttype)
{
	const struct hosttype_conf *ht = farmconf_hosttype(cx.conf, hosttype);

	return ht != NULL ? ht->gomote_idle_s : 1800;
}

/* Used now: the idle expiry starts again. */
static void
renew(struct inst *in)
{
	in->expires = time(NULL) + idle_s(in->hosttype);
	if (in->expires - in->saved >= SAVE_SLACK_S)
		record_save(in);
}

/* Lease m to user as a new instance of bc, recorded. */
static struct inst *
inst_new(const char *user, const struct builder_conf *bc, struct machine *m)
{
	struct strbuf name = STRBUF_INIT;
	struct inst *in;
	long n;

	/* the lowest free number, from 0 as the original */
	for (n = 0;; n++) {
		strbuf_setlen(&name, 0);
		strbuf_addf(&name, "%s-%s-%ld", user, bc->name, n);
		if (inst_find(name.buf) == NULL)
			break;
	}
	in = inst_add();
	in->name = strbuf_detach(&name, NULL);
	in->user = xstrdup(user);
	in->builder = xstrdup(bc->name);
	in->hosttype = xstrdup(m->ht->name);
	in->machine = xstrdup(m->name);
	in->url = m->url != NULL ? xstrdup(m->url) : NULL;
	in->created = time(NULL);
	in->expires = in->created + m->ht->gomote_idle_s;
	pool_lease(m, in->name);
	record_save(in);
	log_info("instance %s: machine %s for %s", esc(in->name),
	    esc(m->name), esc(user));
	return in;
}

/*
 * The names of the last instances that expired, so that the next
 * request for one says why it failed (the original's opaque 502 after
 * an expiry was a complaint).
 */
static struct {
	char *name;
	long long when;
} expired[NEXPIRED];
static size_t nexpired;

static void
expired_note(const struct inst *in)
{
	size_t k = nexpired++ % NEXPIRED;

	free(expired[k].name);
	expired[k].name = xstrdup(in->name);
	expired[k].when = time(NULL);
}

/* "unknown or expired buildlet", and when it expired if it did. */
static void
unknown(struct httpd_req *req, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	struct timespec ts = { 0, 0 };
	size_t i;

	strbuf_addstr(&sb, "unknown or expired buildlet");
	for (i = 0; i < NEXPIRED && i < nexpired; i++)
		if (expired[i].name != NULL &&
		    strcmp(expired[i].name, name) == 0) {
			ts.tv_sec = expired[i].when;
			strbuf_addf(&sb, ": %s expired, idle too long, at ",
			    name);
			time_rfc3339(&sb, ts, 0);
			break;
		}
	httpd_error(req, 502, sb.buf);
	strbuf_release(&sb);
}

/*
 * The instance ends: its machine is destroyed (a static one goes back
 * to its pool), or with keep goes back to its pool unused.
 */
static void
inst_end(struct inst *in, const char *why, int keep)
{
	struct machine *m = pool_find(in->machine);

	log_info("instance %s: %s", esc(in->name), why);
	if (in->lost == NULL && m != NULL && m->state == MACHINE_LEASED &&
	    m->item != NULL && strcmp(m->item, in->name) == 0)
		pool_unlease(m, !keep);
	record_remove(in->name);
	inst_free(in);
}

static void
inst_destroy(struct inst *in, const char *why)
{
	inst_end(in, why, 0);
}

static struct json *
inst_json(const struct inst *in)
{
	struct json *o = json_new_object();
	struct strbuf t = STRBUF_INIT;
	struct timespec ts = { 0, 0 };

	json_set_str(o, "User", in->user);
	json_set_str(o, "Name", in->name);
	json_set_str(o, "HostType", in->hosttype);
	json_set_str(o, "BuilderType", in->builder);
	ts.tv_sec = in->created;
	time_rfc3339(&t, ts, 0);
	json_set_str(o, "Created", t.buf);
	strbuf_setlen(&t, 0);
	ts.tv_sec = in->expires;
	time_rfc3339(&t, ts, 0);
	json_set_str(o, "Expires", t.buf);
	if (in->lost != NULL)
		json_set_str(o, "Lost", in->lost);
	strbuf_release(&t);
	return o;
}

/* ---- the loop's side ---- */

static void
waiter_grant(struct waiter *w, struct machine *m)
{
	w->inst = inst_new(w->user, w->bc, m);
	w->inst->calls++;	/* no expiry before the user knows it */
	pthread_cond_broadcast(&cv);
}

/* The first waiter for ht not served yet, or NULL. */
static struct waiter *
first_waiter(const struct hosttype_conf *ht)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (wv[i]->inst == NULL && !wv[i]->gone &&
		    wv[i]->bc->hosttype == ht)
			return wv[i];
	return NULL;
}

int
gomote_take(struct machine *m)
{
	const struct hosttype_conf *ht = m->ht;
	struct waiter *w = first_waiter(ht);
	size_t i = ht - cx.conf->hosttypes;

	if (w == NULL)
		return 0;
	if (!ht->gomote_preempt && !turn[i]) {
		turn[i] = 1;		/* this one is the build's */
		return 0;
	}
	turn[i] = 0;
	waiter_grant(w, m);
	return 1;
}

size_t
gomote_waiting(const struct hosttype_conf *ht)
{
	size_t i, n = 0;

	for (i = 0; i < nw; i++)
		n += wv[i]->inst == NULL && !wv[i]->gone &&
		    wv[i]->bc->hosttype == ht;
	return n;
}

static void
hold_save(const struct hold *h, const char *url)
{
	struct json *o = json_new_object();
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	json_set_str(o, "machine", h->machine);
	json_set_str(o, "item", h->item);
	json_set_str(o, "builder", h->builder);
	json_set_str(o, "url", url != NULL ? url : "");
	json_set_int(o, "until", h->until);
	json_dump(&sb, o);
	strbuf_addch(&sb, '\n');
	json_free(o);
	if (atomic_write(hdirfd, h->machine, sb.buf, sb.len, 0644, &err) == -1)
		log_warnx("machine %s: %s", esc(h->machine), err.buf);
	strbuf_release(&sb);
	strbuf_release(&err);
}

int
gomote_hold(struct machine *m, const char *item, const char *builder)
{
	const struct builder_conf *bc = builder != NULL ?
	    farmconf_builder(cx.conf, builder) : NULL;
	struct hold *h;

	if (bc == NULL || bc->hold_s <= 0 || m->state != MACHINE_BUSY)
		return 0;
	pool_hold(m, NULL);
	GROW(hv, nh + 1, ah);
	h = &hv[nh++];
	h->machine = xstrdup(m->name);
	h->item = xstrdup(item);
	h->builder = xstrdup(builder);
	h->until = time(NULL) + bc->hold_s;
	hold_save(h, m->url);
	log_info("machine %s: held for %lld s after item %s failed",
	    esc(m->name), (long long)bc->hold_s, esc(item));
	return 1;
}

static void
hold_drop(size_t i, int release)
{
	struct machine *m = pool_find(hv[i].machine);

	if (release && m != NULL && m->state == MACHINE_HELD)
		pool_unlease(m, 0);
	if (unlinkat(hdirfd, hv[i].machine, 0) == -1 && errno != ENOENT)
		log_warn("remove hold record '%s'", esc(hv[i].machine));
	free(hv[i].machine);
	free(hv[i].item);
	free(hv[i].builder);
	hv[i] = hv[--nh];
}

void
gomote_tick(void)
{
	long long now = time(NULL);
	struct machine *m;
	size_t i;

	for (i = 0; i < nw; i++) {
		const struct hosttype_conf *ht = wv[i]->bc->hosttype;

		if (wv[i]->inst != NULL || wv[i]->gone)
			continue;
		if ((m = pool_idle(ht)) != NULL)
			waiter_grant(wv[i], m);
		else
			pool_want(ht, gomote_waiting(ht));
	}
	for (i = ni; i-- > 0;)
		if (iv[i]->calls == 0 && now >= iv[i]->expires) {
			expired_note(iv[i]);
			inst_destroy(iv[i], "expired");
		}
	for (i = nh; i-- > 0;)
		if (now >= hv[i].until) {
			log_info("machine %s: hold of item %s over",
			    esc(hv[i].machine), esc(hv[i].item));
			hold_drop(i, 1);
		}
}

/* Find the instances of the records again (sched_mu held). */
static void
adopt(const char *file)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	const char *keys[] = { "name", "user", "builder", "hosttype",
	    "machine" };
	const char *v[5], *url;
	struct json *o = NULL;
	struct machine *m;
	struct inst *in;
	int64_t t;
	size_t i;
	int fd;

	if ((fd = openat(gdirfd, file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    strbuf_read_fd(&sb, fd, 65536) < 0) {
		log_warn("read instance record '%s'", esc(file));
		goto out;
	}
	if ((o = json_parse(sb.buf, sb.len, &err)) == NULL)
		goto bad;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if ((v[i] = json_str(json_get(o, keys[i]), NULL)) == NULL)
			goto bad;
	if (strcmp(v[0], file) != 0 || inst_find(v[0]) != NULL)
		goto bad;
	in = inst_add();
	in->name = xstrdup(v[0]);
	in->user = xstrdup(v[1]);
	in->builder = xstrdup(v[2]);
	in->hosttype = xstrdup(v[3]);
	in->machine = xstrdup(v[4]);
	url = json_str(json_get(o, "url"), NULL);
	in->url = url != NULL && *url != '\0' ? xstrdup(url) : NULL;
	if (json_get_int(json_get(o, "created"), &t))
		in->created = t;
	if (json_get_int(json_get(o, "expires"), &t))
		in->expires = t;
	in->saved = in->expires;
	m = pool_find(in->machine);
	if (m == NULL || m->state != MACHINE_IDLE || m->url == NULL ||
	    in->url == NULL || strcmp(m->url, in->url) != 0) {
		in->lost = xstrdup("its machine did not come back after a "
		    "restart of the coordinator");
		log_warnx("instance %s: lost: machine %s did not come back",
		    esc(in->name), esc(in->machine));
	} else {
		pool_lease(m, in->name);
		log_info("instance %s: found again on machine %s",
		    esc(in->name), esc(m->name));
	}
	goto out;
bad:
	log_warnx("instance record '%s': not a record%s%s; left alone",
	    esc(file), err.len ? ": " : "", err.buf);
out:
	if (fd >= 0)
		close(fd);
	json_free(o);
	strbuf_release(&sb);
	strbuf_release(&err);
}

/* A hold of the record file, if its machine is back and idle. */
static void
adopt_hold(const char *file)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	const char *mname, *item, *builder, *url;
	struct json *o = NULL;
	struct machine *m;
	struct hold *h;
	int64_t until = 0;
	int fd;

	if ((fd = openat(hdirfd, file, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    strbuf_read_fd(&sb, fd, 65536) >= 0 &&
	    (o = json_parse(sb.buf, sb.len, &err)) != NULL &&
	    (mname = json_str(json_get(o, "machine"), NULL)) != NULL &&
	    strcmp(mname, file) == 0 &&
	    (item = json_str(json_get(o, "item"), NULL)) != NULL &&
	    (builder = json_str(json_get(o, "builder"), NULL)) != NULL &&
	    (url = json_str(json_get(o, "url"), NULL)) != NULL &&
	    json_get_int(json_get(o, "until"), &until) &&
	    until > time(NULL) && (m = pool_find(mname)) != NULL &&
	    m->state == MACHINE_IDLE && m->url != NULL &&
	    strcmp(m->url, url) == 0) {
		pool_hold(m, item);
		GROW(hv, nh + 1, ah);
		h = &hv[nh++];
		h->machine = xstrdup(mname);
		h->item = xstrdup(item);
		h->builder = xstrdup(builder);
		h->until = until;
		log_info("machine %s: held again for item %s", esc(mname),
		    esc(item));
	} else if (unlinkat(hdirfd, file, 0) == -1 && errno != ENOENT)
		log_warn("remove hold record '%s'", esc(file));
	if (fd >= 0)
		close(fd);
	json_free(o);
	strbuf_release(&sb);
	strbuf_release(&err);
}

/* state/schedule/SUB, made if need be: each record's name to fn. */
static int
read_dir(const char *sub, int *dfd, void (*fn)(const char *),
    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	farm_placef(&path, cx.dir, FARM_STATE, "schedule/%s", sub);
	if (mkdirs(path.buf) == -1 || (*dfd = open(path.buf,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(dup(*dfd))) == NULL) {
		strbuf_addf(err, "open '%s': %s", esc(path.buf),
		    strerror(errno));
		strbuf_release(&path);
		return RC_TEMP;
	}
	pthread_mutex_lock(&sched_mu);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			fn(de->d_name);
	pthread_mutex_unlock(&sched_mu);
	closedir(d);
	strbuf_release(&path);
	return RC_OK;
}

int
gomote_init(struct strbuf *err)
{
	int rc;

	if ((rc = master_key(mkey, 1, err)) != RC_OK)
		return rc;
	turn = xcalloc(cx.conf->nhosttypes + 1, 1);
	if ((rc = read_dir("gomote", &gdirfd, adopt, err)) != RC_OK)
		return rc;
	return read_dir("held", &hdirfd, adopt_hold, err);
}

struct json *
gomote_status(void)
{
	struct json *st = json_new_object(), *arr = json_new_array(), *o;
	long long now = time(NULL);
	size_t i;

	for (i = 0; i < ni; i++) {
		o = json_new_object();
		json_set_str(o, "name", iv[i]->name);
		json_set_str(o, "machine", iv[i]->machine);
		json_set_int(o, "expires_s", iv[i]->expires - now);
		if (iv[i]->lost != NULL)
			json_set_str(o, "lost", iv[i]->lost);
		json_append(arr, o);
	}
	json_set(st, "instances", arr);
	arr = json_new_array();
	for (i = 0; i < nw; i++) {
		if (wv[i]->inst != NULL || wv[i]->gone)
			continue;
		o = json_new_object();
		json_set_str(o, "user", wv[i]->user);
		json_set_str(o, "builder", wv[i]->bc->name);
		json_set_int(o, "wait_s", now - wv[i]->since);
		json_append(arr, o);
	}
	json_set(st, "waiting", arr);
	return st;
}

/* ---- the HTTP side ---- */

/* A login's characters: what names and file names can carry. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX_LEN && *s != '.' && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._@+-") == n;
}

/*
 * HTTP Basic user-LOGIN and its token, HMAC-SHA256(master key,
 * user-LOGIN): the user, or NULL once 400 or 401 is answered.
 */
static char *
auth(struct httpd_req *req)
{
	char *user, *pass, hex[65];
	int ok;

	if (httpd_basic_auth(req, &user, &pass) == -1) {
		httpd_error(req, 400, "missing or malformed Authorization "
		    "header");
		return NULL;
	}
	ok = strncmp(user, "user-", 5) == 0 && name_ok(user + 5);
	if (ok) {
		hmac_sha256_hex(mkey, sizeof(mkey), user, hex);
		ok = ct_streq(pass, hex);
		bf_wipe(hex, sizeof(hex));
	}
	bf_wipe(pass, strlen(pass));
	free(pass);
	if (!ok) {
		free(user);
		httpd_error(req, 401, "bad username or password");
		return NULL;
	}
	httpd_trust(req);
	return user;
}

static void
reply_json(struct httpd_req *req, const struct json *o)
{
	struct strbuf sb = STRBUF_INIT;

	json_dump_pretty(&sb, o);
	strbuf_addch(&sb, '\n');
	httpd_reply(req, 200, "application/json", sb.buf, sb.len);
	strbuf_release(&sb);
}

static int
cmp_inst(const void *a, const void *b)
{
	return strcmp((*(struct inst *const *)a)->name,
	    (*(struct inst *const *)b)->name);
}

static void
list(struct httpd_req *req, const char *user)
{
	struct json *arr = json_new_array();
	struct inst **v;
	size_t i, n = 0;

	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_error(req, 400, "GET required");
		json_free(arr);
		return;
	}
	pthread_mutex_lock(&sched_mu);
	v = xcalloc(ni + 1, sizeof(*v));
	for (i = 0; i < ni; i++)
		if (strcmp(iv[i]->user, user) == 0)
			v[n++] = iv[i];
	qsort(v, n, sizeof(*v), cmp_inst);
	for (i = 0; i < n; i++)
		json_append(arr, inst_json(v[i]));
	pthread_mutex_unlock(&sched_mu);
	free(v);
	reply_json(req, arr);
	json_free(arr);
}

static int
cmp_builder(const void *a, const void *b)
{
	return strcmp((*(const struct builder_conf *const *)a)->name,
	    (*(const struct builder_conf *const *)b)->name);
}

/*
 * The farm's builders, by name, with their host type and env: what
 * gomote create matches a prefix against and run -builderenv sets.
 * serve reads the config once and never replaces it; it is read under
 * sched_mu all the same, as every table the loop owns, so that a
 * reload by the loop would need no other lock here.
 */
static void
builders(struct httpd_req *req)
{
	const struct builder_conf **v;
	struct json *arr, *o, *env;
	size_t i, k, n;

	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_error(req, 400, "GET required");
		return;
	}
	arr = json_new_array();
	pthread_mutex_lock(&sched_mu);
	n = cx.conf->nbuilders;
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = &cx.conf->builders[i];
	qsort(v, n, sizeof(*v), cmp_builder);
	for (i = 0; i < n; i++) {
		o = json_new_object();
		json_set_str(o, "name", v[i]->name);
		json_set_str(o, "hosttype", v[i]->hosttype->name);
		env = json_new_array();
		for (k = 0; k < v[i]->nenv; k++)
			json_append(env, json_new_str(v[i]->env[k]));
		json_set(o, "env", env);
		json_append(arr, o);
	}
	pthread_mutex_unlock(&sched_mu);
	free(v);
	reply_json(req, arr);
	json_free(arr);
}

/* A create that waits: the stream's state. */
struct cstream {
	struct httpd_req *req;
	struct waiter *w;
	int progress;		/* the client reads progress lines */
	struct strbuf out;	/* what is to be sent */
	size_t off;
	int finished;
	struct strbuf last;	/* the last progress line */
	long long last_ms;
};

static void
waiter_remove(struct waiter *w)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (wv[i] == w) {
			memmove(&wv[i], &wv[i + 1], (nw - i - 1) * sizeof(*wv));
			nw--;
			break;
		}
	free(w->user);
	free(w);
}

/* What the waiter waits for, as a JSON line (sched_mu held). */
static void
progress(struct cstream *c, struct strbuf *out)
{
	const struct hosttype_conf *ht = c->w->bc->hosttype;
	struct json *o = json_new_object();
	struct strbuf why = STRBUF_INIT;
	size_t n[MACHINE_NSTATES], i, ahead = 0;

	for (i = 0; i < nw && wv[i] != c->w; i++)
		ahead += wv[i]->inst == NULL && !wv[i]->gone &&
		    wv[i]->bc->hosttype == ht;
	pool_count(ht, n);
	strbuf_addf(&why, "a machine of host type %s: %zu busy with builds, "
	    "%zu creating, %zu with gomote users", ht->name,
	    n[MACHINE_BUSY] + n[MACHINE_HELD], n[MACHINE_CREATING],
	    n[MACHINE_LEASED]);
	if (ht->pool == POOL_COMMAND)
		strbuf_addf(&why, " (at most %lld)", (long long)ht->max);
	json_set_str(o, "status", "waiting");
	json_set_int(o, "queue", ahead);
	json_set_str(o, "hosttype", ht->name);
	json_set_int(o, "busy", n[MACHINE_BUSY] + n[MACHINE_HELD]);
	json_set_int(o, "creating", n[MACHINE_CREATING]);
	json_set_int(o, "gomote", n[MACHINE_LEASED]);
	json_set_str(o, "waiting_for", why.buf);
	json_dump(out, o);
	strbuf_addch(out, '\n');
	json_free(o);
	strbuf_release(&why);
}

/* Wipe the work dir of a machine that may have served someone else. */
static void
wipe(const char *url, const char *password, const char *name)
{
	static const char *const all[] = { ".", NULL };
	struct strbuf err = STRBUF_INIT;
	struct bclient c = BCLIENT_INIT;

	c.url = url;
	c.password = password;
	c.name = name;
	c.timeout_ms = 60000;
	if (bclient_removeall(&c, all, &err) != RC_OK)
		log_warnx("%s", err.buf);
	strbuf_release(&err);
}

/* The instance is ready: its work dir wiped, the answer in c->out. */
static void
create_answer(struct cstream *c)
{
	struct inst *in = c->w->inst;
	struct machine *m = pool_find(in->machine);
	char *url = m != NULL && m->url != NULL ? xstrdup(m->url) : NULL;
	char *pw = m != NULL && m->password != NULL ?
	    xstrdup(m->password) : NULL;
	char *name = xstrdup(in->name);
	struct json *o = inst_json(in);

	pthread_mutex_unlock(&sched_mu);
	if (url != NULL)
		wipe(url, pw, name);
	if (c->progress)
		json_dump(&c->out, o);
	else
		json_dump_pretty(&c->out, o);
	strbuf_addch(&c->out, '\n');
	json_free(o);
	free(url);
	if (pw != NULL) {
		bf_wipe(pw, strlen(pw));
		free(pw);
	}
	free(name);
	pthread_mutex_lock(&sched_mu);
}

/* 1 when the client of req hung up. */
static int
client_gone(struct httpd_req *req)
{
	struct pollfd pfd;

	if ((pfd.fd = httpd_client_fd(req)) < 0)
		return 0;
	pfd.events = POLLRDHUP;
	return poll(&pfd, 1, 0) > 0;
}

static ssize_t
create_read(void *arg, char *buf, size_t max)
{
	struct cstream *c = arg;
	struct timespec ts;
	size_t n;

	while (c->off == c->out.len) {
		if (c->finished)
			return 0;
		if (client_gone(c->req) ||
		    httpd_stopping(httpd_req_server(c->req)))
			return -1;
		pthread_mutex_lock(&sched_mu);
		strbuf_setlen(&c->out, 0);
		c->off = 0;
		if (c->w->inst != NULL)
			create_answer(c);
		if (c->w->inst != NULL) {
			c->w->inst->calls--;
			renew(c->w->inst);
			waiter_remove(c->w);
			c->w = NULL;
			c->finished = 1;
		} else if (c->w->gone) {
			/* destroyed before it was answered */
			strbuf_setlen(&c->out, 0);
			if (c->progress)
				strbuf_addstr(&c->out, "{\"error\":\"the instance "
				    "was destroyed before it was ready\"}\n");
			waiter_remove(c->w);
			c->w = NULL;
			c->finished = 1;
			if (c->out.len == 0) {
				pthread_mutex_unlock(&sched_mu);
				return -1;
			}
		} else if (c->progress) {
			struct strbuf line = STRBUF_INIT;

			progress(c, &line);
			if (strcmp(line.buf, c->last.buf) != 0 ||
			    mono_ms() - c->last_ms >= PROGRESS_S * 1000) {
				strbuf_add(&c->out, line.buf, line.len);
				strbuf_setlen(&c->last, 0);
				strbuf_add(&c->last, line.buf, line.len);
				c->last_ms = mono_ms();
			}
			strbuf_release(&line);
		}
		if (c->out.len == 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 500 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&cv, &sched_mu, &ts);
		}
		pthread_mutex_unlock(&sched_mu);
	}
	n = c->out.len - c->off < max ? c->out.len - c->off : max;
	memcpy(buf, c->out.buf + c->off, n);
	c->off += n;
	return (ssize_t)n;
}

static void
create_done(void *arg, int closed)
{
	struct cstream *c = arg;

	(void)closed;
	pthread_mutex_lock(&sched_mu);
	if (c->w != NULL) {
		/* gone before its answer: the machine goes back, unused */
		if (c->w->inst != NULL)
			inst_end(c->w->inst, "its client went away", 1);
		waiter_remove(c->w);
	}
	pthread_mutex_unlock(&sched_mu);
	strbuf_release(&c->out);
	strbuf_release(&c->last);
	free(c);
}

struct find_item {
	const char *key;
	char *item, *builder;
};

static int
find_item(const struct mlog_rec *rec, void *arg)
{
	struct find_item *f = arg;
	const char *lg = json_str(json_get(rec->obj, "log"), NULL);
	const char *it = json_str(json_get(rec->obj, "item"), NULL);
	const char *b = json_str(json_get(rec->obj, "builder"), NULL);

	if (it != NULL && ((lg != NULL && strcmp(lg, f->key) == 0) ||
	    strcmp(it, f->key) == 0)) {
		free(f->item);
		free(f->builder);
		f->item = xstrdup(it);
		f->builder = b != NULL ? xstrdup(b) : NULL;
	}
	return 0;
}

/* create -hold RESULT: the held machine of that failed build. */
static void
create_held(struct httpd_req *req, const char *user, const char *key)
{
	struct strbuf path = STRBUF_INIT, lit = STRBUF_INIT, err = STRBUF_INIT;
	struct mlog_cursor cur = { 0, 0 };
	struct mlog_sel sel = { "result", NULL, 0, 0, 0 };
	struct find_item f = { key, NULL, NULL };
	const struct builder_conf *bc;
	struct machine *m = NULL;
	struct inst *in = NULL;
	struct json *o = NULL;
	struct mlog *l;
	size_t i;

	if (!name_ok(key)) {
		httpd_error(req, 400, "bad hold: want a result's log hash "
		    "or item");
		return;
	}
	farm_place(&path, cx.dir, FARM_RESULTS);
	json_quote(&lit, key, strlen(key));
	sel.lit = lit.buf;
	if (mlog_open(&l, path.buf, 0, &err) == RC_OK) {
		if (mlog_scan(l, &err) == RC_OK)
			(void)mlog_each(l, &cur, &sel, find_item, &f, &err);
		mlog_close(l);
	}
	pthread_mutex_lock(&sched_mu);
	for (i = 0; f.item != NULL && i < nh; i++)
		if (strcmp(hv[i].item, f.item) == 0)
			break;
	if (f.item != NULL && i < nh &&
	    (bc = farmconf_builder(cx.conf, hv[i].builder)) != NULL &&
	    (m = pool_find(hv[i].machine)) != NULL &&
	    m->state == MACHINE_HELD) {
		hold_drop(i, 0);
		in = inst_new(user, bc, m);
		o = inst_json(in);
	}
	pthread_mutex_unlock(&sched_mu);
	if (o != NULL) {
		reply_json(req, o);
		json_free(o);
	} else
		httpd_error(req, 404, "no machine is held for that result");
	free(f.item);
	free(f.builder);
	strbuf_release(&path);
	strbuf_release(&lit);
	strbuf_release(&err);
}

static void
create(struct httpd_req *req, const char *user)
{
	const char *version = httpd_form(req, "version");
	const char *bt = httpd_form(req, "builderType");
	const char *hold = httpd_form(req, "hold");
	const struct builder_conf *bc = NULL;
	struct cstream *c;
	struct waiter *w;

	if (strcmp(httpd_method(req), "POST") != 0) {
		httpd_error(req, 400, "POST required");
		return;
	}
	if (version == NULL || strcmp(version, MIN_VERSION) < 0) {
		httpd_error(req, 400, "client version too old");
		return;
	}
	if (hold != NULL && *hold != '\0') {
		create_held(req, user, hold);
		return;
	}
	if (bt == NULL || *bt == '\0') {
		httpd_error(req, 400, "missing builderType");
		return;
	}
	if ((bc = farmconf_builder(cx.conf, bt)) == NULL) {
		httpd_error(req, 400, "unknown builder type");
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->user = xstrdup(user);
	w->bc = bc;
	w->since = time(NULL);
	c = xcalloc(1, sizeof(*c));
	c->req = req;
	c->w = w;
	c->progress = strcmp(version, STREAM_VERSION) >= 0;
	strbuf_init(&c->out, 0);
	strbuf_init(&c->last, 0);
	pthread_mutex_lock(&sched_mu);
	GROW(wv, nw + 1, aw);
	wv[nw++] = w;
	pthread_mutex_unlock(&sched_mu);
	pool_wake();
	httpd_reply_stream(req, 200, "application/json", create_read,
	    create_done, c);
}

/* ---- the proxy ---- */

struct fwd {
	struct httpd_req *req;
	char *inst;		/* the instance's name */
	char *url, *password;
	struct http_req hr;
	struct http_opt opt;
	struct http_resp resp;
	struct strbuf err;
	enum http_class cls;
	int sp[2];		/* the body: fwd_main writes 1, the stream reads 0 */
	struct fwd *next;	/* in the workers' queue */
	int started, joined;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int head, finished;	/* guarded by mu */
	long status;		/* of a 2xx answer, once head */
	char *ctype, *trailer;	/* of a 2xx answer */
	volatile sig_atomic_t cancel;
};

static int
fwd_head(const struct http_resp *resp, void *arg)
{
	struct fwd *f = arg;
	struct strbuf v = STRBUF_INIT;

	pthread_mutex_lock(&f->mu);
	if (resp->status >= 200 && resp->status < 300) {
		if (http_resp_header(resp, "Content-Type", &v) == 0)
			f->ctype = strbuf_detach(&v, NULL);
		if (http_resp_header(resp, "Trailer", &v) == 0)
			f->trailer = strbuf_detach(&v, NULL);
		f->status = resp->status;
		f->head = 1;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	strbuf_release(&v);
	return 0;
}

/* send(2) all of buf to a socket whose peer may be gone: 0 or -1. */
static int
send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int
fwd_body(const void *buf, size_t len, void *arg)
{
	struct fwd *f = arg;

	/* -1: the client went away */
	return send_all(f->sp[1], buf, len);
}

static void
fwd_run(struct fwd *f)
{
	f->cls = http_request(&f->hr, &f->opt, &f->resp, &f->err);
	shutdown(f->sp[1], SHUT_WR);
	pthread_mutex_lock(&f->mu);
	f->finished = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Wait until the request's worker is done with it. */
static void
fwd_join(struct fwd *f)
{
	pthread_mutex_lock(&f->mu);
	while (!f->finished)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	f->joined = 1;
}

/*
 * The workers: threads that stay for the next request (WORKER_IDLE_S),
 * each with lib/http's per-thread handle, so the connections to the
 * buildlets are kept alive between requests.
 */
static pthread_mutex_t wk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wk_cv = PTHREAD_COND_INITIALIZER;
static struct fwd *wk_head, **wk_tail = &wk_head;
static int wk_idle;

static void *
worker_main(void *arg)
{
	struct timespec ts;
	struct fwd *f;

	(void)arg;
	pthread_mutex_lock(&wk_mu);
	for (;;) {
		while (wk_head == NULL) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += WORKER_IDLE_S;
			wk_idle++;
			if (pthread_cond_timedwait(&wk_cv, &wk_mu, &ts) ==
			    ETIMEDOUT && wk_head == NULL) {
				wk_idle--;
				pthread_mutex_unlock(&wk_mu);
				return NULL;
			}
			wk_idle--;
		}
		f = wk_head;
		if ((wk_head = f->next) == NULL)
			wk_tail = &wk_head;
		pthread_mutex_unlock(&wk_mu);
		fwd_run(f);
		pthread_mutex_lock(&wk_mu);
	}
}

/* Hand f to an idle worker, or to a new one: 0, or -1. */
static int
fwd_submit(struct fwd *f)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc = 0;

	pthread_mutex_lock(&wk_mu);
	if (wk_idle == 0) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, worker_main, NULL);
		pthread_attr_destroy(&attr);
	}
	if (rc == 0) {
		f->next = NULL;
		*wk_tail = f;
		wk_tail = &f->next;
		pthread_cond_signal(&wk_cv);
	}
	pthread_mutex_unlock(&wk_mu);
	return rc == 0 ? 0 : -1;
}

/* The call ended: the instance's idle expiry starts now. */
static void
fwd_free(struct fwd *f)
{
	struct inst *in;

	if (f->started && !f->joined) {
		__atomic_store_n(&f->cancel, 1, __ATOMIC_RELAXED);
		shutdown(f->sp[0], SHUT_RDWR);
		fwd_join(f);
	}
	pthread_mutex_lock(&sched_mu);
	if ((in = inst_find(f->inst)) != NULL) {
		in->calls--;
		renew(in);
	}
	pthread_mutex_unlock(&sched_mu);
	close(f->sp[0]);
	close(f->sp[1]);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	http_resp_release(&f->resp);
	strbuf_release(&f->err);
	free((char *)f->hr.url);
	free((char *)f->hr.method);
	free(f->inst);
	free(f->url);
	if (f->password != NULL) {
		bf_wipe(f->password, strlen(f->password));
		free(f->password);
	}
	free(f->ctype);
	free(f->trailer);
	free(f);
}

static ssize_t
fwd_read(void *arg, char *buf, size_t max)
{
	struct fwd *f = arg;
	struct pollfd pfd[2];
	struct strbuf v = STRBUF_INIT, name = STRBUF_INIT;
	const char *p, *e;
	ssize_t n;

	pfd[0].fd = f->sp[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = httpd_client_fd(f->req);
	pfd[1].events = POLLRDHUP;
	for (;;) {
		if ((n = recv(f->sp[0], buf, max, MSG_DONTWAIT)) > 0)
			return n;
		if (n == 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (httpd_stopping(httpd_req_server(f->req)))
			return -1;
		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, STOP_POLL_MS) > 0 &&
		    pfd[1].fd >= 0 && (pfd[1].revents & POLLRDHUP) &&
		    !(pfd[0].revents & POLLIN))
			return -1;	/* the client went away */
	}
	fwd_join(f);
	if (f->cls != HTTP_OK) {
		log_warnx("instance %s: %s", esc(f->inst), f->err.buf);
		return -1;	/* cut short, as the buildlet's answer was */
	}
	/* the trailers the buildlet declared, as it sent them */
	for (p = f->trailer; p != NULL && *p != '\0'; p = e) {
		p += strspn(p, " ,");
		e = p + strcspn(p, " ,");
		if (e == p)
			break;
		strbuf_setlen(&name, 0);
		strbuf_add(&name, p, e - p);
		if (http_resp_header(&f->resp, name.buf, &v) == 0)
			httpd_stream_trailer(f->req, name.buf, v.buf);
	}
	strbuf_release(&v);
	strbuf_release(&name);
	return 0;
}

static void
fwd_done(void *arg, int closed)
{
	(void)closed;
	fwd_free(arg);
}

/* The URL of the buildlet's side: its path and the same query. */
static int
fwd_url(struct httpd_req *req, const char *base, struct strbuf *url)
{
	const char *p = httpd_path(req), *k, *v;
	size_t i;

	if (*p != '/' || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789/._-~") != strlen(p))
		return -1;
	strbuf_addstr(url, base);
	strbuf_addstr(url, p);
	for (i = 0; httpd_query_at(req, i, &k, &v) == 0; i++) {
		strbuf_addch(url, i == 0 ? '?' : '&');
		http_urlencode(url, k);
		if (v != NULL) {
			strbuf_addch(url, '=');
			http_urlencode(url, v);
		}
	}
	return 0;
}

static void
forward(struct httpd_req *req, struct fwd *f)
{
	struct strbuf url = STRBUF_INIT;
	const void *body;
	size_t len;

	if (fwd_url(req, f->url, &url) == -1) {
		httpd_error(req, 400, "bad path");
		fwd_free(f);
		strbuf_release(&url);
		return;
	}
	f->hr.url = strbuf_detach(&url, NULL);
	f->hr.method = xstrdup(httpd_method(req));
	f->hr.ctype = httpd_header(req, "Content-Type");
	if (httpd_body_fd(req) >= 0)
		f->hr.body_fd = httpd_body_fd(req);
	else if ((body = httpd_body(req, &len)) != NULL && len > 0) {
		f->hr.body = body;
		f->hr.body_len = len;
	}
	f->hr.on_head = fwd_head;
	f->hr.on_body = fwd_body;
	f->hr.arg = f;
	f->hr.cancel = &f->cancel;
	if (f->password != NULL) {
		f->opt.user = "gomote";
		f->opt.password = f->password;
	}
	if (fwd_submit(f) == -1) {
		httpd_error(req, 500, "cannot start a thread");
		fwd_free(f);
		return;
	}
	f->started = 1;
	pthread_mutex_lock(&f->mu);
	while (!f->head && !f->finished)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	if (f->head) {
		if (f->trailer != NULL)
			httpd_add_header(req, "Trailer", f->trailer);
		httpd_reply_stream(req, (int)f->status, f->ctype != NULL ?
		    f->ctype : "application/octet-stream", fwd_read,
		    fwd_done, f);
		return;
	}
	fwd_join(f);
	if (f->resp.status == 0) {
		strbuf_reset(&url);
		strbuf_addf(&url, "buildlet %s: %s", f->inst, f->err.buf);
		log_warnx("%s", url.buf);
		httpd_error(req, 502, url.buf);
	} else {
		struct strbuf ct = STRBUF_INIT;

		if (http_resp_header(&f->resp, "Content-Type", &ct) == -1)
			strbuf_addstr(&ct, "text/plain; charset=utf-8");
		httpd_reply(req, (int)f->resp.status, ct.buf, f->resp.body.buf,
		    f->resp.body.len);
		strbuf_release(&ct);
	}
	strbuf_release(&url);
	fwd_free(f);
}

/* ---- /connect-ssh ---- */

/* The buildlet's side of /connect-ssh: a socket to its sshd in *fd. */
static int
ssh_dial(const struct fwd *f, const char *user, const char *key, int *fd,
    struct strbuf *err)
{
	struct bclient c = BCLIENT_INIT;

	c.url = f->url;
	c.name = f->inst;
	c.password = f->password;
	c.timeout_ms = SSH_DIAL_MS;
	return bclient_connect_ssh(&c, user, key, fd, err);
}

struct ssh {
	struct fwd *f;		/* the instance's call, ended with the relay */
	int bfd;		/* to the buildlet's sshd */
	struct httpd_upgrade *up;
	int cfd;
	char *cextra;		/* the client's bytes behind its request */
	size_t ncextra;
};

static void
ssh_free(struct ssh *x)
{
	if (x->bfd >= 0)
		close(x->bfd);
	free(x->cextra);
	fwd_free(x->f);
	free(x);
}

/* A session: both ways until both ends are done; no expiry meanwhile. */
static void *
ssh_main(void *arg)
{
	struct ssh *x = arg;

	(void)relay_run(x->cfd, x->bfd, x->cextra, x->ncextra);
	httpd_upgrade_close(x->up);
	ssh_free(x);
	return NULL;
}

static void
ssh_upgraded(struct httpd_upgrade *up, int fd, void *arg)
{
	struct ssh *x = arg;
	const void *p;
	pthread_attr_t attr;
	pthread_t t;
	size_t n;
	int rc;

	if (up == NULL) {
		ssh_free(x);
		return;
	}
	x->up = up;
	x->cfd = fd;
	if ((p = httpd_upgrade_extra(up, &n)) != NULL && n > 0) {
		x->cextra = xmemdupz(p, n);
		x->ncextra = n;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, ssh_main, x);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warnx("instance %s: cannot start an ssh relay thread",
		    esc(x->f->inst));
		httpd_upgrade_close(up);
		ssh_free(x);
	}
}

/*
 * POST /connect-ssh: the buildlet's 101 first (its errors are the
 * client's: 4xx as 400, the rest as 502), then ours, then the relay.
 */
static void
ssh_proxy(struct httpd_req *req, struct fwd *f)
{
	struct ssh *x = xcalloc(1, sizeof(*x));
	struct strbuf err = STRBUF_INIT;
	int rc;

	x->f = f;
	x->bfd = -1;
	rc = ssh_dial(f, httpd_header(req, "X-Go-Ssh-User"),
	    httpd_header(req, "X-Go-Authorized-Key"), &x->bfd, &err);
	if (rc != RC_OK) {
		httpd_error(req, rc == RC_PERM ? 400 : 502, err.buf);
		ssh_free(x);
	} else
		httpd_reply_upgrade(req, "ssh", ssh_upgraded, x);
	strbuf_release(&err);
}

static void
proxy(struct httpd_req *req, const char *user, const char *name)
{
	struct inst *in;
	struct machine *m;
	struct fwd *f;

	pthread_mutex_lock(&sched_mu);
	if ((in = inst_find(name)) == NULL) {
		unknown(req, name);
		pthread_mutex_unlock(&sched_mu);
		return;
	}
	if (strcmp(in->user, user) != 0) {
		pthread_mutex_unlock(&sched_mu);
		httpd_error(req, 401, "you don't own that buildlet");
		return;
	}
	if (strcmp(httpd_path(req), "/halt") == 0 &&
	    strcmp(httpd_method(req), "POST") == 0) {
		inst_destroy(in, "destroyed by its user");
		pthread_mutex_unlock(&sched_mu);
		httpd_reply(req, 200, NULL, "", 0);
		return;
	}
	if (in->lost != NULL) {
		pthread_mutex_unlock(&sched_mu);
		httpd_error(req, 502, "buildlet lost: its machine did not come "
		    "back after a restart of the coordinator");
		return;
	}
	m = pool_find(in->machine);
	if (m == NULL || m->url == NULL) {
		pthread_mutex_unlock(&sched_mu);
		httpd_error(req, 502, "unknown or expired buildlet");
		return;
	}
	f = xcalloc(1, sizeof(*f));
	f->req = req;
	f->inst = xstrdup(in->name);
	f->url = xstrdup(m->url);
	f->password = m->password != NULL ? xstrdup(m->password) : NULL;
	in->calls++;
	renew(in);
	pthread_mutex_unlock(&sched_mu);

	f->hr = (struct http_req)HTTP_REQ_INIT;
	f->opt = (struct http_opt)HTTP_OPT_INIT;
	f->resp = (struct http_resp)HTTP_RESP_INIT;
	strbuf_init(&f->err, 0);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sp) == -1) {
		f->sp[0] = f->sp[1] = -1;
		httpd_error(req, 500, "cannot make a socket pair");
		fwd_free(f);
		return;
	}
	if (strcmp(httpd_path(req), "/connect-ssh") == 0)
		ssh_proxy(req, f);
	else
		forward(req, f);
}

enum httpd_body_mode
gomote_body_mode(struct httpd_req *req, void *arg)
{
	(void)arg;
	/* a tarball or a file on its way to the buildlet: never in memory */
	if (httpd_header(req, "X-Buildlet-Proxy") != NULL &&
	    strcmp(httpd_method(req), "PUT") == 0)
		return HTTPD_BODY_PIPE;
	return HTTPD_BODY_BUFFER;
}

int
gomote_route(struct httpd_req *req)
{
	const char *p = httpd_path(req);
	const char *name = httpd_header(req, "X-Buildlet-Proxy");
	char *user;

	if (name == NULL && strcmp(p, "/buildlet/create") != 0 &&
	    strcmp(p, "/buildlet/list") != 0 &&
	    strcmp(p, "/buildlet/builders") != 0)
		return 0;
	if ((user = auth(req)) == NULL)
		return 1;
	if (name != NULL)
		proxy(req, user, name);
	else if (strcmp(p, "/buildlet/create") == 0)
		create(req, user);
	else if (strcmp(p, "/buildlet/builders") == 0)
		builders(req);
	else
		list(req, user);
	free(user);
	return 1;
}
