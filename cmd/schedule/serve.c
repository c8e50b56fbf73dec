/*
 * serve.c: schedule serve, the daemon.
 *
 * One thread runs the loop: it polls the signal fd, the spools' and
 * logs' watch fds, the build children's pidfds, the pool commands, and
 * wakes at least once a second for the timers.  Each turn it reads what
 * changed (workq_update), then starts the work in priority order on the
 * idle machines of each builder's host type.  sched_mu guards every
 * table; the loop holds it but while it polls, and the HTTP threads
 * (status.c) and the heartbeat thread (pool.c) take it for a moment.
 *
 * Every build is a child, "schedule build", started with the claim's
 * lock fd of its spool item kept open: the child holds the claim, the
 * daemon closes its copy.  So after a kill -9 of the daemon, a build
 * still running is a locked cur/ITEM and a dead one an unlocked one.
 * At start-up dead claims are requeued, and live ones (orphans of the
 * previous daemon) keep their machines busy: the loop asks once a
 * second whether their lock is gone (spool_stale; no thread blocks on
 * it), then requeues them too, and the new child finds the result the
 * orphan recorded (or builds again when it recorded none).
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "httpd.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "mlog.h"
#include "proc.h"
#include "rc.h"
#include "sig.h"
#include "spool.h"
#include "strbuf.h"
#include "timefmt.h"
#include "workitem.h"
#include "xmalloc.h"

#define MAX_POLL	1024
#define NRESULTS	20
#define HOUR_S		3600

pthread_mutex_t sched_mu = PTHREAD_MUTEX_INITIALIZER;

struct build {
	char *item;
	char *machine;		/* its name */
	struct proc *p;		/* NULL: an orphan of an earlier daemon */
	char *builder, *repo, *kind;
	char rev[65];
	int attempt;
	long long start;	/* wall s */
	long long wait_s;	/* in the queue before it */
	int cancelled;		/* serve_cancel: ends in done/ */
};

struct sample {			/* a build that ended, for the medians */
	const char *builder;	/* the config's */
	long long end;		/* wall s */
	long long wait_s, build_ms;
};

static struct spool work, trysp;
static struct workq *q;
static struct mlog *corpus, *results;
static struct mlog_cursor rcur;
static struct build **bv;
static size_t nb, ab;
static struct sample *sv;
static size_t nsv, asv;
static struct json *lastres[NRESULTS];	/* a ring of result records */
static size_t nres;
static long long started;		/* wall s, the daemon's start */
static char exe[PATH_MAX];
static int stopping;
static char *logerr;			/* why the logs cannot be read, or NULL */

static struct build *
build_add(const char *item, const char *machine)
{
	struct build *b = xcalloc(1, sizeof(*b));

	b->item = xstrdup(item);
	b->machine = machine != NULL ? xstrdup(machine) : NULL;
	b->start = time(NULL);
	if (nb == ab) {
		ab = ab ? 2 * ab : 16;
		bv = xreallocarray(bv, ab, sizeof(*bv));
	}
	bv[nb++] = b;
	return b;
}

static void
build_free(struct build *b)
{
	size_t i;

	for (i = 0; i < nb; i++)
		if (bv[i] == b) {
			memmove(&bv[i], &bv[i + 1], (nb - i - 1) * sizeof(*bv));
			nb--;
			break;
		}
	free(b->item);
	free(b->machine);
	free(b->builder);
	free(b->repo);
	free(b->kind);
	free(b);
}

static void
place(struct strbuf *out, const char *fmt, const char *name)
{
	strbuf_setlen(out, 0);
	farm_placef(out, cx.dir, FARM_STATE, fmt, name);
}

/* state/schedule/run/ITEM: which machine runs it */
static void
run_note(const struct build *b, const struct machine *m)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT, err = STRBUF_INIT;
	struct json *o = json_new_object();

	json_set_str(o, "item", b->item);
	json_set_str(o, "machine", m->name);
	json_set_str(o, "url", m->url);
	json_set_int(o, "daemon", getpid());
	json_set_int(o, "attempt", b->attempt);
	json_set_int(o, "start", b->start);
	json_dump(&sb, o);
	strbuf_addch(&sb, '\n');
	json_free(o);
	place(&path, "schedule/run/%s", b->item);
	if (atomic_write(AT_FDCWD, path.buf, sb.buf, sb.len, 0644, &err) == -1)
		log_warnx("%s", err.buf);
	strbuf_release(&path);
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void
run_unnote(const char *item)
{
	struct strbuf path = STRBUF_INIT;

	place(&path, "schedule/run/%s", item);
	if (unlink(path.buf) == -1 && errno != ENOENT)
		log_warn("remove '%s'", esc(path.buf));
	strbuf_release(&path);
}

/* The machine a note names, or NULL. */
static char *
run_machine(const char *item)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT, err = STRBUF_INIT;
	struct json *o;
	const char *s;
	char *name = NULL;
	int fd;

	place(&path, "schedule/run/%s", item);
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (strbuf_read_fd(&sb, fd, 65536) >= 0 &&
		    (o = json_parse(sb.buf, sb.len, &err)) != NULL) {
			if ((s = json_str(json_get(o, "machine"), NULL)) != NULL)
				name = xstrdup(s);
			json_free(o);
		}
		close(fd);
	}
	strbuf_release(&path);
	strbuf_release(&sb);
	strbuf_release(&err);
	return name;
}

/* Take the released claim back for spool_finish (it wants the lock). */
static int
relock(const char *item)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	strbuf_setlen(&path, 0);
	farm_placef(&path, cx.dir, FARM_SPOOL_WORK, "cur/%s", item);
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		fd = -1;
	}
	strbuf_release(&path);
	return fd;
}

static void
finish(const char *item, const char *to)
{
	struct strbuf err = STRBUF_INIT;
	int fd = relock(item);

	if (spool_finish(&work, item, to, &err) != RC_OK)
		log_warnx("%s", err.buf);
	if (fd >= 0)
		close(fd);
	strbuf_release(&err);
}

/* Back to new/ for another attempt; 0, or -1 when it went to fail/. */
static int
requeue(const char *item)
{
	struct strbuf err = STRBUF_INIT;
	int rc = spool_requeue(&work, item, &err);

	if (rc == RC_PERM)
		log_warnx("item %s: %s", esc(item), err.buf);
	else if (rc != RC_OK && rc != RC_NO)
		log_warnx("%s", err.buf);
	strbuf_release(&err);
	return rc == RC_PERM ? -1 : 0;
}

static void
sample(const struct build *b, long long build_ms)
{
	const struct builder_conf *bc;
	long long now = time(NULL);
	size_t i, j;

	if (b->builder == NULL ||
	    (bc = farmconf_builder(cx.conf, b->builder)) == NULL)
		return;
	/* drop the samples older than an hour */
	for (i = j = 0; i < nsv; i++)
		if (now - sv[i].end <= HOUR_S)
			sv[j++] = sv[i];
	nsv = j;
	if (nsv == asv) {
		asv = asv ? 2 * asv : 64;
		sv = xreallocarray(sv, asv, sizeof(*sv));
	}
	sv[nsv].builder = bc->name;
	sv[nsv].end = now;
	sv[nsv].wait_s = b->wait_s;
	sv[nsv++].build_ms = build_ms;
}

/* A child ended: 0, 1 done; 100 fail; anything else is the machine's. */
static void
child_done(struct build *b)
{
	struct machine *m = b->machine ? pool_find(b->machine) : NULL;
	int code = proc_exit_code(b->p), infra = 0;
	struct strbuf st = STRBUF_INIT;

	proc_state(b->p, &st);
	proc_clear(b->p);
	free(b->p);
	b->p = NULL;
	if (b->cancelled) {
		log_info("item %s: cancelled", esc(b->item));
		finish(b->item, "done");
	} else if (code == 0 || code == 1) {
		finish(b->item, "done");
		sample(b, (time(NULL) - b->start) * 1000);
	} else if (code == RC_PERM) {
		log_warnx("item %s: bad item or config (%s); in fail/",
		    esc(b->item), st.buf);
		finish(b->item, "fail");
	} else {
		log_warnx("item %s: attempt %d on %s: infrastructure failure "
		    "(%s)", esc(b->item), b->attempt,
		    b->machine ? esc(b->machine) : "?", st.buf);
		infra = 1;
		/* at the last attempt it goes to fail/, which settles it */
		requeue(b->item);
	}
	run_unnote(b->item);
	if (m != NULL)
		pool_release(m, infra);
	build_free(b);
	strbuf_release(&st);
}

void
serve_cancel(const char *item)
{
	size_t i;

	for (i = 0; i < nb; i++)
		if (bv[i]->p != NULL && strcmp(bv[i]->item, item) == 0) {
			bv[i]->cancelled = 1;
			(void)proc_kill(bv[i]->p, SIGKILL);
		}
}

/* An orphan's claim: once its holder is gone, requeue it. */
static void
orphan_tick(struct build *b)
{
	struct machine *m;
	int where = spool_find(&work, b->item);

	if (where == SPOOL_CUR && spool_stale(&work, b->item) != 1)
		return;
	log_info("item %s: the build of an earlier daemon ended",
	    esc(b->item));
	if (where == SPOOL_CUR)
		requeue(b->item);
	run_unnote(b->item);
	if (b->machine != NULL && (m = pool_find(b->machine)) != NULL)
		pool_release(m, 0);
	build_free(b);
}

static void
start_build(const struct work *w, struct machine *m)
{
	struct strbuf name = STRBUF_INIT, err = STRBUF_INIT, path = STRBUF_INIT;
	struct proc *p;
	struct build *b;
	long long now = time(NULL);
	int fd, rc;

	if (w->item != NULL)
		strbuf_addstr(&name, w->item);
	else {
		struct work_item wi = WORK_ITEM_INIT;
		struct strbuf text = STRBUF_INIT;

		wi.kind = w->kind;
		wi.repo = w->repo->name;
		wi.rev = (char *)w->rev;
		wi.builder = w->builder->name;
		wi.branch = w->branch;
		wi.change = w->change;
		wi.patchset = w->patchset;
		wi.prio = w->prio;
		workitem_encode(&wi, &text);
		rc = spool_put(&work, text.buf, text.len, &name, &err);
		strbuf_release(&text);
		if (rc != RC_OK) {
			log_warnx("%s", err.buf);
			goto out;
		}
	}
	if ((rc = spool_claim(&work, name.buf, &fd, &err)) != RC_OK) {
		if (rc != RC_NO)
			log_warnx("%s", err.buf);
		goto out;
	}
	b = build_add(name.buf, m->name);
	b->builder = xstrdup(w->builder->name);
	b->repo = xstrdup(w->repo->name);
	b->kind = xstrdup(workitem_kind_name(w->kind));
	snprintf(b->rev, sizeof(b->rev), "%s", w->rev);
	b->attempt = spool_claims(&work, name.buf);
	if (b->attempt < 1)
		b->attempt = 1;
	b->wait_s = now - (w->time > started ? w->time : started);
	if (b->wait_s < 0)
		b->wait_s = 0;
	run_note(b, m);

	p = xmalloc(sizeof(*p));
	proc_init(p);
	farm_placef(&path, cx.dir, FARM_SPOOL_WORK, "cur/%s", name.buf);
	strvec_pushv(&p->args, (const char *const[]){ "schedule", "-d",
	    cx.dir, "build", "-b", m->url, "-m", m->name, NULL });
	strvec_pushf(&p->args, "-a%d", b->attempt);
	if (m->pwfile != NULL)
		strvec_pushv(&p->args, (const char *const[]){ "-p", m->pwfile,
		    NULL });
	strvec_push(&p->args, path.buf);
	p->path = exe;
	p->io[0].how = PROC_DEVNULL;
	/* the child writes its log itself (blog.c) */
	p->io[1].how = PROC_DEVNULL;
	p->group = PROC_SESSION;
	p->keep_fds = &fd;
	p->nkeep_fds = 1;
	rc = proc_start(p, &err);
	close(fd);		/* the child holds the claim now */
	if (rc == -1) {
		log_warnx("item %s: %s", esc(name.buf), err.buf);
		proc_clear(p);
		free(p);
		requeue(name.buf);
		run_unnote(name.buf);
		build_free(b);
		goto out;
	}
	b->p = p;
	log_info("item %s: %s %s %.12s on %s, attempt %d", esc(name.buf),
	    esc(b->builder), esc(b->repo), b->rev, esc(m->name), b->attempt);
	pool_busy(m, name.buf);
	workq_started(q, w);
out:
	strbuf_release(&name);
	strbuf_release(&err);
	strbuf_release(&path);
}

/* Start what the idle machines can take; ask the pools for more. */
static void
decide(void)
{
	const struct work **v;
	size_t i, n, *want;
	struct machine *m;

	want = xcalloc(cx.conf->nhosttypes + 1, sizeof(*want));
	n = workq_list(q, &v);
	for (i = 0; i < n; i++) {
		const struct work *w = v[i];
		const struct hosttype_conf *ht;

		/* a try item of spool/try is a run's (try.c) */
		if (w->builder == NULL ||
		    (w->kind == WORK_TRY && !try_wants(w->item)) ||
		    w->repo == NULL || (ht = w->builder->hosttype) == NULL)
			continue;
		if ((m = pool_idle(ht)) != NULL)
			start_build(w, m);
		else
			want[ht - cx.conf->hosttypes]++;
	}
	for (i = 0; i < cx.conf->nhosttypes; i++)
		if (want[i] > 0)
			pool_want(&cx.conf->hosttypes[i], want[i]);
	free(want);
}

static int
keep_result(const struct mlog_rec *rec, void *arg)
{
	(void)arg;
	try_result(rec->obj);
	json_free(lastres[nres % NRESULTS]);
	lastres[nres % NRESULTS] = json_ref((struct json *)rec->obj);
	nres++;
	return 0;
}

/* The results appended since the last look, for the status page. */
static int
follow_results(struct strbuf *err)
{
	struct mlog_sel sel = { "result", NULL, 0, 0 };
	int rc;

	if ((rc = mlog_scan(results, err)) == RC_OK)
		rc = mlog_each(results, &rcur, &sel, keep_result, NULL, err);
	return rc;
}

/*
 * A log that cannot be read (a garbage line, a foreign file) stops the
 * starting of builds: the work model may be wrong, and no build could
 * record its result.  The daemon serves its pages on, says so once, and
 * reads again each turn (at least every second) until the log is mended.
 */
static void
logs_readable(int rc, const char *why)
{
	if (rc == RC_OK) {
		if (logerr != NULL)
			log_warnx("the logs can be read again; builds start");
		free(logerr);
		logerr = NULL;
		return;
	}
	if (logerr == NULL || strcmp(logerr, why) != 0)
		log_warnx("%s; no build starts until it can be read", why);
	free(logerr);
	logerr = xstrdup(why);
}

/* Recovery of spool/work/cur: dead claims go back, live ones wait. */
static void
recover(void)
{
	struct spool_names nv = SPOOL_NAMES_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (spool_list(&work, "cur", &nv, &err) != RC_OK)
		fatalx(RC_TEMP, "%s", err.buf);
	for (i = 0; i < nv.n; i++) {
		char *mname;

		if (spool_stale(&work, nv.v[i]) == 1) {
			log_info("item %s: requeued after a crash",
			    esc(nv.v[i]));
			requeue(nv.v[i]);
			run_unnote(nv.v[i]);
			continue;
		}
		mname = run_machine(nv.v[i]);
		log_info("item %s: still built by an earlier daemon on %s",
		    esc(nv.v[i]), mname != NULL ? esc(mname) : "?");
		build_add(nv.v[i], mname);
		free(mname);
	}
	spool_names_free(&nv);
	strbuf_release(&err);
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static long long
median(long long *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_ll);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The builders' medians over the last hour. */
static struct json *
stats_json(long long now)
{
	struct json *arr = json_new_array(), *o;
	long long *wv = xcalloc(nsv + 1, sizeof(*wv));
	long long *bv_ = xcalloc(nsv + 1, sizeof(*bv_));
	size_t i, j, n;

	for (i = 0; i < cx.conf->nbuilders; i++) {
		const char *name = cx.conf->builders[i].name;

		for (j = n = 0; j < nsv; j++)
			if (sv[j].builder == name && now - sv[j].end <= HOUR_S) {
				wv[n] = sv[j].wait_s;
				bv_[n++] = sv[j].build_ms;
			}
		if (n == 0)
			continue;
		o = json_new_object();
		json_set_str(o, "builder", name);
		json_set_int(o, "builds", n);
		json_set_int(o, "median_wait_s", median(wv, n));
		json_set_int(o, "median_build_s", (median(bv_, n) + 500) / 1000);
		json_append(arr, o);
	}
	free(wv);
	free(bv_);
	return arr;
}

struct json *
serve_status(void)
{
	struct json *st = json_new_object(), *arr, *o;
	const struct work **v;
	long long now = time(NULL);
	size_t i, n;

	pthread_mutex_lock(&sched_mu);
	json_set_int(st, "time", now);
	json_set_int(st, "started", started);
	json_set_bool(st, "stopping", stopping);
	if (logerr != NULL)
		json_set_str(st, "error", logerr);
	json_set(st, "pools", pool_status());

	arr = json_new_array();
	for (i = 0; i < nb; i++) {
		const struct build *b = bv[i];

		o = json_new_object();
		json_set_str(o, "item", b->item);
		if (b->machine != NULL)
			json_set_str(o, "machine", b->machine);
		if (b->builder != NULL) {
			json_set_str(o, "builder", b->builder);
			json_set_str(o, "repo", b->repo);
			json_set_str(o, "rev", b->rev);
			json_set_str(o, "kind", b->kind);
			json_set_int(o, "attempt", b->attempt);
		}
		json_set_int(o, "elapsed_s", now - b->start);
		json_set_bool(o, "orphan", b->p == NULL);
		json_append(arr, o);
	}
	json_set(st, "running", arr);

	arr = json_new_array();
	n = q != NULL ? workq_list(q, &v) : 0;
	json_set_int(st, "queued", n);
	for (i = 0; i < n && i < 100; i++) {
		const struct work *w = v[i];
		long long since = w->time > started ? w->time : started;

		o = json_new_object();
		json_set_str(o, "kind", workitem_kind_name(w->kind));
		if (w->repo != NULL)
			json_set_str(o, "repo", w->repo->name);
		json_set_str(o, "rev", w->rev);
		if (w->builder != NULL)
			json_set_str(o, "builder", w->builder->name);
		if (w->item != NULL)
			json_set_str(o, "item", w->item);
		json_set_int(o, "wait_s", now > since ? now - since : 0);
		json_append(arr, o);
	}
	json_set(st, "queue", arr);

	arr = json_new_array();
	for (i = 0; i < NRESULTS && i < nres; i++)
		json_append(arr, json_ref(lastres[(nres - 1 - i) % NRESULTS]));
	json_set(st, "results", arr);
	json_set(st, "builders", stats_json(now));
	json_set(st, "try", try_status());
	pthread_mutex_unlock(&sched_mu);
	return st;
}

/* state/schedule/addr: the URL clients use */
static void
write_addr(const char *listen, int port, int tls)
{
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT, err = STRBUF_INIT;
	const char *colon = strrchr(listen, ':');
	int hl = (int)(colon - listen);

	strbuf_addstr(&sb, tls ? "https://" : "http://");
	if (hl == 0 || strncmp(listen, "0.0.0.0", hl) == 0)
		strbuf_addstr(&sb, "127.0.0.1");
	else if (strncmp(listen, "[::]", hl) == 0)
		strbuf_addstr(&sb, "[::1]");
	else
		strbuf_add(&sb, listen, hl);
	strbuf_addf(&sb, ":%d\n", port);
	place(&path, "schedule/%s", "addr");
	if (atomic_write(AT_FDCWD, path.buf, sb.buf, sb.len, 0644, &err) == -1)
		fatalx(RC_TEMP, "%s", err.buf);
	strbuf_release(&sb);
	strbuf_release(&path);
	strbuf_release(&err);
}

static struct mlog *
open_log(enum farm_place where)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct mlog *l;
	int rc;

	farm_place(&path, cx.dir, where);
	if ((rc = mlog_open(&l, path.buf, MLOG_CREATE, &err)) != RC_OK ||
	    (rc = mlog_watch(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	strbuf_release(&path);
	strbuf_release(&err);
	return l;
}

static void
open_spool(struct spool *sp, enum farm_place where)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	farm_place(&path, cx.dir, where);
	if ((rc = spool_open(sp, path.buf, 1, &err)) != RC_OK ||
	    spool_watch(sp, &err) < 0)
		fatalx(rc != RC_OK ? rc : RC_TEMP, "%s", err.buf);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void
serve_usage(void)
{
	usage();
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct pollfd pfd[MAX_POLL];
	unsigned char key[32];
	struct httpd *h;
	const char *lflag = "127.0.0.1:8119", *cert = NULL, *tkey = NULL;
	long long last_orphan = 0;
	ssize_t len;
	size_t i, n;
	int ch, rc, lockfd, sig, timeout, cchanged;

	while ((ch = getopt_long_only(argc, argv, "+l:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			cert = optarg;
			break;
		case 'k':
			tkey = optarg;
			break;
		case 'l':
			lflag = optarg;
			break;
		default:
			serve_usage();
		}
	}
	if (argc != optind || (cert == NULL) != (tkey == NULL))
		serve_usage();
	if (strrchr(lflag, ':') == NULL)
		fatalx(RC_PERM, "bad listen address '%s': want HOST:PORT",
		    esc(lflag));
	/* the status page, and later the gomote API: no plain HTTP abroad */
	if (cert == NULL && !httpd_listen_is_loopback(lflag))
		fatalx(RC_PERM, "listen address '%s' is not loopback: give "
		    "-tls-cert and -tls-key", esc(lflag));
	load_conf(FC_ALL);

	place(&path, "%s", "schedule");
	if (mkdirs(path.buf) == -1)
		fatal(RC_TEMP, "mkdir '%s'", esc(path.buf));
	place(&path, "schedule/%s", "lock");
	if ((rc = lock_take(path.buf, LOCK_F_NB, 0, &lockfd, &err)) == RC_NO)
		fatalx(RC_TEMP, "already running in '%s'", esc(cx.dir));
	else if (rc != RC_OK)
		fatalx(RC_TEMP, "%s", err.buf);
	if ((rc = master_key(key, 1, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	explicit_bzero(key, sizeof(key));
	place(&path, "schedule/%s", "run");
	if (mkdirs(path.buf) == -1)
		fatal(RC_TEMP, "mkdir '%s'", esc(path.buf));
	place(&path, "schedule/%s", "live");
	if (mkdirs(path.buf) == -1)
		fatal(RC_TEMP, "mkdir '%s'", esc(path.buf));
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		fatal(RC_TEMP, "readlink /proc/self/exe");
	exe[len] = '\0';
	started = time(NULL);

	/* before any thread starts, so that every thread inherits it */
	if (sig_init(&err, SIGINT, SIGTERM, 0) < 0)
		fatalx(RC_TEMP, "%s", err.buf);
	open_spool(&work, FARM_SPOOL_WORK);
	open_spool(&trysp, FARM_SPOOL_TRY);
	corpus = open_log(FARM_CORPUS);
	results = open_log(FARM_RESULTS);
	strbuf_setlen(&err, 0);
	if ((rc = mlog_scan(results, &err)) == RC_OK &&
	    mlog_nsegs(results) > 0)
		rcur.seg = mlog_seg(results, mlog_nsegs(results) - 1)->number;
	if (rc == RC_OK)
		rc = follow_results(&err);
	logs_readable(rc, err.buf);

	recover();
	if ((rc = pool_init(&err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	/* the heartbeat thread runs already: the table is under the lock */
	pthread_mutex_lock(&sched_mu);
	for (i = 0; i < nb; i++) {
		struct machine *m = bv[i]->machine ?
		    pool_find(bv[i]->machine) : NULL;

		if (m != NULL && m->state == MACHINE_IDLE)
			pool_busy(m, bv[i]->item);
	}
	pthread_mutex_unlock(&sched_mu);
	if ((rc = workq_open(&q, &cx, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);

	cfg.listen = lflag;
	cfg.tls_cert = cert;
	cfg.tls_key = tkey;
	cfg.handler = status_handle;
	cfg.quiet = 1;
	if ((h = httpd_start(&cfg, &err)) == NULL)
		fatalx(RC_TEMP, "listen on '%s': %s", esc(lflag), err.buf);
	write_addr(lflag, httpd_port(h), cert != NULL);
	/* with port 0, the kernel's choice: schedule(1) promises the form */
	log_warnx("listening on %.*s:%d%s, serving '%s'",
	    (int)(strrchr(lflag, ':') - lflag), lflag, httpd_port(h),
	    cert != NULL ? " with TLS" : "", esc(cx.dir));
	/* after write_addr: without [farm] url, Gerrit links to it */
	try_init(&work, &trysp, corpus, results);

	pthread_mutex_lock(&sched_mu);
	for (;;) {
		while ((sig = sig_next()) > 0) {
			log_warnx("stopping on signal %d; %zu builds run on",
			    sig, nb);
			stopping = 1;
		}
		if (stopping)
			break;
		for (i = nb; i-- > 0;) {
			struct build *b = bv[i];

			if (b->p != NULL && proc_reap(b->p, 0) == 1)
				child_done(b);
		}
		if (mono_ms() - last_orphan >= 1000) {
			last_orphan = mono_ms();
			for (i = nb; i-- > 0;)
				if (bv[i]->p == NULL)
					orphan_tick(bv[i]);
		}
		pool_tick();
		spool_watch_drain(&work);
		spool_watch_drain(&trysp);
		cchanged = mlog_changed(corpus);
		strbuf_setlen(&err, 0);
		rc = RC_OK;
		if (mlog_changed(results) || logerr != NULL)
			rc = follow_results(&err);
		if (rc == RC_OK)
			rc = workq_update(q, &err);
		logs_readable(rc, err.buf);
		try_tick(cchanged);
		if (logerr == NULL)
			decide();

		n = 0;
		pfd[n].fd = sig_fd();
		pfd[n++].events = POLLIN;
		pfd[n].fd = spool_watch(&work, &err);
		pfd[n++].events = POLLIN;
		pfd[n].fd = spool_watch(&trysp, &err);
		pfd[n++].events = POLLIN;
		pfd[n].fd = mlog_watch_fd(corpus);
		pfd[n++].events = POLLIN;
		pfd[n].fd = mlog_watch_fd(results);
		pfd[n++].events = POLLIN;
		timeout = pool_timeout();
		if (try_timeout() < timeout)
			timeout = try_timeout();
		for (i = 0; i < nb && n < MAX_POLL / 2; i++) {
			if (bv[i]->p == NULL)
				continue;
			if (bv[i]->p->pidfd < 0)
				timeout = timeout > 20 ? 20 : timeout;
			else {
				pfd[n].fd = bv[i]->p->pidfd;
				pfd[n++].events = POLLIN;
			}
		}
		n += pool_pollfds(pfd + n, MAX_POLL - n);
		n += try_pollfds(pfd + n, MAX_POLL - n);
		pthread_mutex_unlock(&sched_mu);
		if (poll(pfd, n, timeout) == -1 && errno != EINTR)
			fatal(RC_TEMP, "poll");
		pthread_mutex_lock(&sched_mu);
	}
	pthread_mutex_unlock(&sched_mu);
	/* the builds run on: their children hold their claims */
	httpd_stop(h);
	pool_shutdown();
	strbuf_release(&err);
	strbuf_release(&path);
	return RC_OK;
}
