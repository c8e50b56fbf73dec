/*
 * serve.c: the HTTP server (tarballs, status page, health), and the
 * status and fsck commands.
 *
 * A tarball is made once per (tree, commit time), into
 * cache/gitmirror/TREE-TIME.tar.gz, and sent from the file, so no
 * request holds a tarball in memory and any number of clients can
 * download at once.  One is made at a time, by a thread of its own
 * into a temporary file: a plain GET that does not find the file, the
 * one that asked and any that come while it is made, follows that file
 * as it grows (chunked, no length), so the client has the first gzip
 * member while the rest is compressed; HEAD, range and HTTP/1.0
 * requests wait for the file.  A make that fails before its first
 * bytes is a 500; one that fails later cuts its followers' bodies
 * short.
 * After each new file the oldest files go until the cache is within
 * its size; a file being sent stays readable to its client after it is
 * removed.
 *
 * A revision the mirror lacks makes the server run "sync -q REPO", or,
 * for a request naming a change ref (ref=refs/changes/NN/CHANGE/PS, a
 * try build's), "fetch-ref REPO REF" (fetchref.c): one child at a time
 * per repo and ref, so a request that finds one running waits for it,
 * takes its outcome and looks again, and parallel requests for a new
 * commit all get it from one fetch.  The children are programs, not
 * forks: a fork of this threaded process could inherit a libgit2 lock
 * held by another request.  Fetches that start are limited per repo to
 * fetch_max a minute (a window of the last fetch_max start times):
 * past that, 503 with a Retry-After, so that asking for random ids
 * cannot make the farm fetch without end.
 *
 * The config is read again on SIGHUP and when the file changed and then
 * stayed the same for a check (checked each second: an editor writing
 * in place is not read half way).  Request threads look repos up under conf_lock, a
 * read lock, and keep only the name; the main loop swaps the config
 * under the write lock.  A config with problems is reported and the
 * old one kept.
 */
#include "compat.h"

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "git.h"
#include "httpd.h"
#include "json.h"
#include "farm.h"
#include "log.h"
#include "proc.h"
#include "rc.h"
#include "sig.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define STALE_TMP_S	3600	/* an unfinished tarball this old: dead */
#define FETCH_WINDOW_MS	60000	/* fetch_max fetches per repo in this */
#define CONF_CHECK_MS	1000	/* how often the config's stat is checked */
#define FETCH_RETRY_S	10	/* Retry-After when upstream failed a fetch */

/*
 * The tarball being made, under make_mu.  Its maker thread writes the
 * temporary file and counts the bytes; each request following it reads
 * them from rfd.  Freed by the last of them.
 */
enum { MAKE_RUNNING, MAKE_DONE, MAKE_FAILED };

struct make {
	char *name, *dir, *path, *tmp;	/* TREE-TIME.tar.gz, where */
	char *what;			/* "REPO COMMIT", for the log */
	char tree[GITX_HEXSZ + 1];
	long long mtime;
	struct gitx_repo *g;		/* the maker's */
	int wfd, rfd;
	off_t size;			/* bytes written so far */
	int state;
	int refs;			/* the maker and each follower */
};

/* a request following a make: the stream's argument */
struct follower {
	struct make *m;
	off_t off;
};

static pthread_mutex_t make_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t make_cv = PTHREAD_COND_INITIALIZER;
static struct make *making;	/* the one being made, or NULL */
static int makers;		/* maker threads not yet ended */
static int make_stop;		/* the server stops: abandon the making */
static pthread_rwlock_t conf_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t cache_max;
static char self_exe[4096];

/* a fetch child running: on its starter's stack, under fetch_mu */
struct inflight {
	const char *ref;	/* fetch-ref's, NULL for a sync */
	int done, rc;		/* finished, with this RC_* */
	int waiters;		/* requests waiting for it */
	struct inflight *link;
};

/* a repo's on-demand fetches, under fetch_mu; never freed */
struct fetcher {
	char *name;
	struct inflight *busy;
	long long *starts;	/* ring of the last fetch_max start times */
	size_t next;
	struct fetcher *link;
};
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetch_cv = PTHREAD_COND_INITIALIZER;
static struct fetcher *fetchers;
static int fetch_max;

static void
when(struct strbuf *out, long long t)
{
	struct timespec ts = { (time_t)t, 0 };

	if (t <= 0)
		strbuf_addch(out, '-');
	else
		time_rfc3339(out, ts, 0);
}

/*
 * The state of r: "failed" when the last attempt failed (whatever its
 * age), else "never", "hung" or "ok" by the age of the last complete
 * sync.
 */
static const char *
status_state(const struct repo_conf *r, const struct status *st,
    long long now)
{
	if (st->error[0] != '\0' || st->tried > st->synced)
		return "failed";
	if (st->synced <= 0)
		return "never";
	if (now - st->synced > r->interval_s)
		return "hung";
	return "ok";
}

int
status_line(const struct repo_conf *r, struct strbuf *out)
{
	struct status st;
	long long now = (long long)time(NULL);
	const char *state;

	status_read(r->name, &st);
	state = status_state(r, &st, now);
	strbuf_addf(out, "%s %s synced=", r->name, state);
	when(out, st.synced);
	strbuf_addstr(out, " fetched=");
	when(out, st.fetched);
	strbuf_addstr(out, " pushed=");
	when(out, st.pushed);
	if (st.synced > 0)
		strbuf_addf(out, " lag=%llds", now - st.synced);
	else
		strbuf_addstr(out, " lag=-");
	if (st.error[0] != '\0')
		strbuf_addf(out, " error=%s", esc(st.error));
	return strcmp(state, "ok") != 0;
}

static void
json_when(struct json *j, const char *key, long long t)
{
	struct strbuf sb = STRBUF_INIT;

	if (t <= 0) {
		json_set(j, key, json_new_null());
		return;
	}
	when(&sb, t);
	json_set_str(j, key, sb.buf);
	strbuf_release(&sb);
}

/* status_line as one JSON object; the error unescaped (JSON quotes it) */
static int
status_json_line(const struct repo_conf *r, struct strbuf *out)
{
	struct status st;
	struct json *j = json_new_object();
	long long now = (long long)time(NULL);
	const char *state;

	status_read(r->name, &st);
	state = status_state(r, &st, now);
	json_set_str(j, "repo", r->name);
	json_set_str(j, "state", state);
	json_when(j, "synced", st.synced);
	json_when(j, "fetched", st.fetched);
	json_when(j, "pushed", st.pushed);
	json_when(j, "tried", st.tried);
	json_set(j, "lag", st.synced > 0 ? json_new_int(now - st.synced) :
	    json_new_null());
	json_set(j, "error", st.error[0] != '\0' ?
	    json_new_strn(st.error, strlen(st.error)) : json_new_null());
	json_dump(out, j);
	json_free(j);
	return strcmp(state, "ok") != 0;
}

int
status_run(int argc, char **argv, int jflag)
{
	struct strbuf sb = STRBUF_INIT;
	struct repo_conf **sel;
	size_t n, i;
	int rc = RC_OK;

	sel = repo_select(argc, argv, &n);
	for (i = 0; i < n; i++) {
		strbuf_reset(&sb);
		if (jflag ? status_json_line(sel[i], &sb) :
		    status_line(sel[i], &sb))
			rc = RC_NO;
		printf("%s\n", sb.buf);
	}
	free(sel);
	strbuf_release(&sb);
	return rc;
}

struct fsck_arg {
	const char *repo;
	int bad;
};

static void
fsck_bad(const char *ref, const char *what, void *arg)
{
	struct fsck_arg *a = arg;

	log_warnx("fsck %s: %s: %s", a->repo, esc(ref), esc(what));
	a->bad = 1;
}

int
fsck_run(int argc, char **argv)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct gitx_repo *g;
	struct repo_conf **sel;
	size_t n, i;
	int rc = RC_OK, r;

	sel = repo_select(argc, argv, &n);
	for (i = 0; i < n; i++) {
		struct fsck_arg a = { sel[i]->name, 0 };

		strbuf_reset(&path);
		strbuf_reset(&err);
		mirror_path(&path, sel[i]);
		if (access(path.buf, F_OK) < 0 && errno == ENOENT) {
			log_info("fsck %s: not mirrored yet", sel[i]->name);
			continue;
		}
		if ((r = gitx_open(&g, path.buf, &err)) != RC_OK) {
			log_warnx("fsck %s: %s", sel[i]->name, err.buf);
			rc = rc_worse(rc, RC_PERM);
			continue;
		}
		r = gitx_fsck(g, fsck_bad, &a, &err);
		if (r == RC_TEMP)
			log_warnx("fsck %s: %s", sel[i]->name, err.buf);
		else if (r == RC_OK)
			log_info("fsck %s: ok", sel[i]->name);
		rc = rc_worse(rc, r);
		gitx_close(g);
	}
	free(sel);
	strbuf_release(&path);
	strbuf_release(&err);
	return rc;
}

/*
 * "gitmirror -d DIR sync -q REPO" in a child, for a revision we lack
 * (-q leaves the new commits' lines to the next sync that prints), or
 * "gitmirror -d DIR fetch-ref REPO REF"; its exit code.
 */
static int
fetch_child(const char *name, const char *ref)
{
	struct strbuf err = STRBUF_INIT;
	struct proc p = PROC_INIT;
	int rc;

	if (ref == NULL)
		strvec_pushv(&p.args, (const char *const[]){ self_exe, "-d",
		    cx.dir, "sync", "-q", name, NULL });
	else
		strvec_pushv(&p.args, (const char *const[]){ self_exe, "-d",
		    cx.dir, "fetch-ref", name, ref, NULL });
	p.io[1].how = PROC_DEVNULL;
	if (proc_start(&p, &err) == -1)
		log_warnx("%s %s: %s", ref != NULL ? "fetch-ref" : "sync",
		    esc(name), err.buf);
	rc = proc_finish(&p);
	strbuf_release(&err);
	return rc;
}

static struct inflight *
inflight_find(const struct fetcher *f, const char *ref)
{
	struct inflight *i;

	for (i = f->busy; i != NULL; i = i->link)
		if (ref == NULL ? i->ref == NULL :
		    i->ref != NULL && strcmp(i->ref, ref) == 0)
			return i;
	return NULL;
}

static struct fetcher *
fetcher_get(const char *name)
{
	struct fetcher *f;

	for (f = fetchers; f != NULL; f = f->link)
		if (strcmp(f->name, name) == 0)
			return f;
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->starts = xcalloc((size_t)fetch_max + 1, sizeof(*f->starts));
	f->link = fetchers;
	fetchers = f;
	return f;
}

/*
 * Fetch repo name (a sync, or the one change ref ref) for a revision it
 * lacks, or wait for the same fetch under way: the fetch's exit code
 * (the caller looks again); -1 when the limit allows none now,
 * *retry_s then saying in how many seconds one may.
 */
static int
fetch_upstream(const char *name, const char *ref, long long *retry_s)
{
	struct inflight me = { ref, 0, 0, 0, NULL }, *i;
	struct fetcher *f;
	long long now, oldest;
	int rc;

	pthread_mutex_lock(&fetch_mu);
	f = fetcher_get(name);
	if ((i = inflight_find(f, ref)) != NULL) {
		if (ref != NULL)
			log_info("%s: waiting for the fetch of %s", name, ref);
		i->waiters++;
		while (!i->done)
			pthread_cond_wait(&fetch_cv, &fetch_mu);
		rc = i->rc;
		/* the last one out lets the starter unlink i */
		if (--i->waiters == 0)
			pthread_cond_broadcast(&fetch_cv);
		pthread_mutex_unlock(&fetch_mu);
		return rc;
	}
	now = mono_ms();
	oldest = f->starts[f->next];
	if (fetch_max == 0 || (oldest != 0 &&
	    now - oldest < FETCH_WINDOW_MS)) {
		*retry_s = fetch_max == 0 ? FETCH_WINDOW_MS / 1000 :
		    (FETCH_WINDOW_MS - (now - oldest) + 999) / 1000;
		pthread_mutex_unlock(&fetch_mu);
		return -1;
	}
	f->starts[f->next] = now;
	f->next = (f->next + 1) % (size_t)fetch_max;
	me.link = f->busy;
	f->busy = &me;
	pthread_mutex_unlock(&fetch_mu);

	if (ref != NULL)
		log_info("%s: fetching %s", name, ref);
	rc = fetch_child(name, ref);

	pthread_mutex_lock(&fetch_mu);
	me.done = 1;
	me.rc = rc;
	pthread_cond_broadcast(&fetch_cv);
	while (me.waiters > 0)
		pthread_cond_wait(&fetch_cv, &fetch_mu);
	for (i = f->busy; i != &me; i = i->link)
		if (i->link == &me)
			break;
	if (i == &me)
		f->busy = me.link;
	else
		i->link = me.link;
	pthread_mutex_unlock(&fetch_mu);
	return rc;
}

struct centry {
	char *name;
	off_t size;
	time_t mtime;
};

static int
centcmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Remove the oldest tarballs until the cache fits; keep is spared.
 * Also remove the temporary files (.NAME.tar.gz.XXXXXX) of tarballs
 * whose making was killed: one untouched for STALE_TMP_S seconds is not
 * being written by anyone.
 */
static void
cache_evict(const char *dir, const char *keep)
{
	struct centry *v = NULL;
	size_t n = 0, a = 0, i;
	uint64_t total = 0;
	struct dirent *d;
	struct stat st;
	time_t now = time(NULL);
	DIR *dp;
	int dfd;

	if ((dp = opendir(dir)) == NULL)
		return;
	dfd = dirfd(dp);
	while ((d = readdir(dp)) != NULL) {
		size_t l = strlen(d->d_name);

		if (d->d_name[0] == '.' && strstr(d->d_name, ".tar.gz.") !=
		    NULL && fstatat(dfd, d->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < now - STALE_TMP_S) {
			if (unlinkat(dfd, d->d_name, 0) == 0)
				log_warnx("removed '%s', left by a tarball "
				    "that was never finished", esc(d->d_name));
			continue;
		}
		if (d->d_name[0] == '.' || l < 7 ||
		    strcmp(d->d_name + l - 7, ".tar.gz") != 0 ||
		    fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		GROW(v, n + 1, a);
		v[n].name = xstrdup(d->d_name);
		v[n].size = st.st_size;
		v[n].mtime = st.st_mtime;
		total += (uint64_t)st.st_size;
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), centcmp);
	for (i = 0; i < n && total > cache_max; i++) {
		if (strcmp(v[i].name, keep) == 0)
			continue;
		if (unlinkat(dfd, v[i].name, 0) == 0)
			total -= (uint64_t)v[i].size;
	}
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(dp);
}

/* Under make_mu. */
static void
make_unref(struct make *m)
{
	if (--m->refs > 0)
		return;
	if (m->rfd >= 0)
		close(m->rfd);
	gitx_close(m->g);
	free(m->name);
	free(m->dir);
	free(m->path);
	free(m->tmp);
	free(m->what);
	free(m);
}

/* archive_write_tree_to's output: the file, then the followers */
static int
make_out(void *arg, const void *p, size_t n)
{
	struct make *m = arg;
	int stop;

	if (write_all(m->wfd, p, n) < 0)
		return -1;
	pthread_mutex_lock(&make_mu);
	m->size += (off_t)n;
	stop = make_stop;
	pthread_cond_broadcast(&make_cv);
	pthread_mutex_unlock(&make_mu);
	if (stop) {
		errno = ECANCELED;
		return -1;
	}
	return 0;
}

/*
 * The maker thread: the tarball into the temporary file, which is then
 * renamed into place and the cache trimmed, before the followers see
 * the end, so that a client that has the whole tarball finds it cached.
 */
static void *
make_main(void *arg)
{
	struct make *m = arg;
	struct strbuf err = STRBUF_INIT;
	int rc;

	rc = archive_write_tree_to(m->g, m->tree, m->mtime, "", make_out, m,
	    0, &err);
	if (close(m->wfd) < 0 && rc == RC_OK) {
		strbuf_addf(&err, "close '%s': %s", m->tmp, strerror(errno));
		rc = RC_TEMP;
	}
	if (rc == RC_OK && (chmod(m->tmp, 0644) < 0 ||
	    rename(m->tmp, m->path) < 0)) {
		strbuf_addf(&err, "publish '%s': %s", m->path,
		    strerror(errno));
		rc = RC_TEMP;
	}
	gitx_close(m->g);	/* its packs are mapped: let go now */
	m->g = NULL;
	if (rc == RC_OK) {
		cache_evict(m->dir, m->name);
	} else {
		unlink(m->tmp);
		log_warnx("%s: %s", m->what, esc(err.buf));
	}
	strbuf_release(&err);
	pthread_mutex_lock(&make_mu);
	m->state = rc == RC_OK ? MAKE_DONE : MAKE_FAILED;
	making = NULL;
	makers--;
	pthread_cond_broadcast(&make_cv);
	make_unref(m);
	pthread_mutex_unlock(&make_mu);
	return NULL;
}

/*
 * Start making the tarball of tree into dir, with *gp (which the maker
 * takes).  Under make_mu, with nothing being made.  NULL on failure.
 */
static struct make *
make_start(struct gitx_repo **gp, const char *tree, long long mtime,
    const char *dir, const char *name, const char *what, struct strbuf *err)
{
	struct make *m;
	struct strbuf sb = STRBUF_INIT;
	pthread_attr_t attr;
	pthread_t t;
	int e;

	if (mkdirs(dir) < 0) {
		strbuf_addf(err, "cache directory '%s': %s", dir,
		    strerror(errno));
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->dir = xstrdup(dir);
	strbuf_addf(&sb, "%s/%s", dir, name);
	m->path = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "%s/.%s.XXXXXX", dir, name);
	m->tmp = strbuf_detach(&sb, NULL);
	m->what = xstrdup(what);
	snprintf(m->tree, sizeof(m->tree), "%s", tree);
	m->mtime = mtime;
	m->rfd = -1;
	if ((m->wfd = mkostemp(m->tmp, O_CLOEXEC)) < 0) {
		strbuf_addf(err, "create '%s': %s", m->tmp, strerror(errno));
		m->refs = 1;
		make_unref(m);
		return NULL;
	}
	if ((m->rfd = open(m->tmp, O_RDONLY | O_CLOEXEC)) < 0) {
		strbuf_addf(err, "open '%s': %s", m->tmp, strerror(errno));
		goto fail;
	}
	m->g = *gp;
	*gp = NULL;
	m->refs = 2;	/* the maker's and the caller's */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&t, &attr, make_main, m);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		strbuf_addf(err, "pthread_create: %s", strerror(e));
		*gp = m->g;	/* the caller closes it */
		m->g = NULL;
		goto fail;
	}
	making = m;
	makers++;
	return m;
fail:
	close(m->wfd);
	unlink(m->tmp);
	m->refs = 1;
	make_unref(m);
	return NULL;
}

/*
 * The cached tarball of tree (made with *gp, which may be taken):
 * 0 with *fd open on the file when it was there or, without follow,
 * once it is made; with follow (a plain GET) and the tarball not there,
 * 1 with *mp the make, which has its first bytes, to follow and unref;
 * -1 when it cannot be had, err saying why unless the maker logged it.
 */
static int
cache_get(struct gitx_repo **gp, const char *tree, long long mtime,
    const char *what, int follow, int *fd, struct make **mp,
    struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, name = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	struct make *m = NULL;
	int ret = -1;

	farm_placef(&dir, cx.dir, FARM_CACHE, "gitmirror");
	strbuf_addf(&name, "%s-%lld.tar.gz", tree, mtime);
	strbuf_addf(&path, "%s/%s", dir.buf, name.buf);
	if ((*fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		ret = 0;
		goto out;
	}
	pthread_mutex_lock(&make_mu);
	/* one making at a time: another tree's first */
	while (making != NULL && strcmp(making->name, name.buf) != 0 &&
	    !make_stop)
		pthread_cond_wait(&make_cv, &make_mu);
	if (make_stop) {
		strbuf_addstr(err, "the server is stopping");
		goto unlock;
	}
	if ((*fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		ret = 0;
		goto unlock;
	}
	if (making != NULL) {
		m = making;
		m->refs++;
	} else if ((m = make_start(gp, tree, mtime, dir.buf, name.buf, what,
	    err)) == NULL) {
		goto unlock;
	}
	/*
	 * Until the first bytes (a make that fails before them is a 500),
	 * or for HEAD and ranges the end; a plain GET then follows even a
	 * make that is done by now, so that a miss is always chunked.
	 */
	while (m->state == MAKE_RUNNING && (!follow || m->size == 0))
		pthread_cond_wait(&make_cv, &make_mu);
	if (follow && m->state != MAKE_FAILED) {
		*mp = m;
		ret = 1;
		goto unlock;
	}
	if (m->state == MAKE_DONE &&
	    (*fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0)
		ret = 0;
	else if (m->state == MAKE_DONE)
		strbuf_addf(err, "open '%s': %s", path.buf, strerror(errno));
	make_unref(m);
unlock:
	pthread_mutex_unlock(&make_mu);
out:
	strbuf_release(&dir);
	strbuf_release(&name);
	strbuf_release(&path);
	return ret;
}

/* The stream of a request following a make: its bytes as they come. */
static ssize_t
follow_read(void *arg, char *buf, size_t max)
{
	struct follower *f = arg;
	struct make *m = f->m;
	off_t size;
	ssize_t n;
	int state;

	pthread_mutex_lock(&make_mu);
	while (m->state == MAKE_RUNNING && m->size == f->off)
		pthread_cond_wait(&make_cv, &make_mu);
	size = m->size;
	state = m->state;
	pthread_mutex_unlock(&make_mu);
	/* a failed make: cut the body short, so the client knows */
	if (state == MAKE_FAILED)
		return -1;
	if (f->off == size)
		return 0;
	if ((off_t)max > size - f->off)
		max = (size_t)(size - f->off);
	do
		n = pread(m->rfd, buf, max, f->off);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	f->off += n;
	return n;
}

static void
follow_done(void *arg, int closed)
{
	struct follower *f = arg;

	(void)closed;
	pthread_mutex_lock(&make_mu);
	make_unref(f->m);
	pthread_mutex_unlock(&make_mu);
	free(f);
}

static void
html_esc(struct strbuf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '<')
			strbuf_addstr(out, "&lt;");
		else if (*s == '>')
			strbuf_addstr(out, "&gt;");
		else if (*s == '&')
			strbuf_addstr(out, "&amp;");
		else
			strbuf_addch(out, *s);
	}
}

static void
status_page(struct httpd_req *req)
{
	struct strbuf page = STRBUF_INIT, line = STRBUF_INIT;
	size_t i;

	strbuf_addstr(&page, "<!DOCTYPE html>\n<html><head><title>gitmirror"
	    "</title></head><body>\n<h1>gitmirror</h1>\n<pre>\n");
	pthread_rwlock_rdlock(&conf_lock);
	for (i = 0; i < cx.nrepos; i++) {
		strbuf_reset(&line);
		status_line(&cx.repos[i], &line);
		html_esc(&page, line.buf);
		strbuf_addch(&page, '\n');
	}
	pthread_rwlock_unlock(&conf_lock);
	strbuf_addstr(&page, "</pre>\n</body></html>\n");
	httpd_reply(req, 200, "text/html; charset=utf-8", page.buf, page.len);
	strbuf_release(&page);
	strbuf_release(&line);
}

/* gitx_resolve in the mirror at path; *gp is the repo opened, or NULL */
static int
resolve(const char *path, const char *rev, struct gitx_repo **gp,
    char *commit, char *tree, long long *t, struct strbuf *err)
{
	int rc;

	gitx_close(*gp);
	*gp = NULL;
	strbuf_reset(err);
	rc = gitx_open(gp, path, err);
	if (rc == RC_OK)
		rc = gitx_resolve(*gp, rev, commit, tree, t, err);
	return rc;
}

/*
 * After fetch-ref: RC_OK when commit is what the mirror's copy of the
 * change ref ref points to or an ancestor, so that a ref names the
 * commits it can give and no other.
 */
static int
in_ref(struct gitx_repo *g, const char *ref, const char *commit,
    struct strbuf *err)
{
	struct strbuf local = STRBUF_INIT;
	char tip[GITX_HEXSZ + 1], tree[GITX_HEXSZ + 1];
	long long t;
	int rc;

	changeref_local(&local, ref);
	if ((rc = gitx_resolve(g, local.buf, tip, tree, &t, err)) == RC_OK)
		rc = gitx_reaches(g, tip, commit, err);
	strbuf_release(&local);
	return rc;
}

static void
tarball(struct httpd_req *req, const char *name)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	char commit[GITX_HEXSZ + 1], tree[GITX_HEXSZ + 1], buf[32];
	char what[80 + GITX_HEXSZ + 2];
	const char *rev = httpd_query(req, "rev");
	struct follower *f;
	struct make *m = NULL;
	const char *ref = httpd_query(req, "ref");
	struct gitx_repo *g = NULL;
	struct repo_conf *r;
	struct stat st;
	long long t, retry = 0;
	int rc, frc = RC_OK, fd, follow;

	pthread_rwlock_rdlock(&conf_lock);
	if ((r = repo_find(name)) != NULL)
		mirror_path(&path, r);
	pthread_rwlock_unlock(&conf_lock);
	/* from here on only name: a reload may free r */
	if (r == NULL) {
		httpd_error(req, 404, "no such repository");
		goto out;
	}
	if (rev == NULL || *rev == '\0' || httpd_param_nul(req)) {
		httpd_error(req, 400, "missing rev");
		goto out;
	}
	if (ref != NULL && !changeref_ok(ref)) {
		httpd_error(req, 400, "bad ref: want refs/changes/NN/CHANGE/"
		    "PATCHSET");
		goto out;
	}
	rc = resolve(path.buf, rev, &g, commit, tree, &t, &err);
	if (rc != RC_OK) {
		/*
		 * as the original: fetch, then try again; also when the limit
		 * allows no fetch, for one may have just finished
		 */
		if ((frc = fetch_upstream(name, ref, &retry)) != -1)
			retry = 0;
		rc = resolve(path.buf, rev, &g, commit, tree, &t, &err);
		if (rc == RC_OK && ref != NULL && frc == RC_OK)
			rc = in_ref(g, ref, commit, &err);
	}
	if (rc != RC_OK && retry > 0) {
		snprintf(buf, sizeof(buf), "%lld", retry);
		httpd_add_header(req, "Retry-After", buf);
		httpd_error(req, 503, "unknown revision, and too many fetches "
		    "of this repository: try again later");
		goto out;
	}
	/* 100: no such ref upstream, or refused; anything else may pass */
	if (rc != RC_OK && ref != NULL && frc != RC_OK && frc != RC_PERM) {
		snprintf(buf, sizeof(buf), "%d", FETCH_RETRY_S);
		httpd_add_header(req, "Retry-After", buf);
		httpd_error(req, 503, "unknown revision, and its ref could "
		    "not be fetched: try again later");
		goto out;
	}
	if (rc == RC_NO || rc == RC_PERM) {
		httpd_error(req, 404, "unknown revision");
		goto out;
	}
	if (rc != RC_OK) {
		log_warnx("%s: %s", name, esc(err.buf));
		httpd_error(req, 500, "cannot read the repository");
		goto out;
	}
	/* HTTP/1.0 has no chunks: a body cut short would look whole */
	follow = strcmp(httpd_method(req), "GET") == 0 &&
	    httpd_header(req, "Range") == NULL &&
	    strcmp(httpd_version(req), "HTTP/1.0") != 0;
	snprintf(what, sizeof(what), "%s %s", name, commit);
	if ((rc = cache_get(&g, tree, t, what, follow, &fd, &m, &err)) < 0 ||
	    (rc == 0 && fstat(fd, &st) < 0)) {
		if (rc == 0)
			strbuf_addf(&err, "fstat: %s", strerror(errno));
		if (err.len > 0)
			log_warnx("%s: %s", what, esc(err.buf));
		if (rc == 0)
			close(fd);
		httpd_error(req, 500, "cannot make the tarball");
		goto out;
	}
	httpd_add_header(req, "X-Gitmirror-Commit", commit);
	if (rc == 1) {
		f = xcalloc(1, sizeof(*f));
		f->m = m;
		httpd_reply_stream(req, 200, "application/x-compressed",
		    follow_read, follow_done, f);
	} else {
		httpd_reply_fd(req, 200, "application/x-compressed", fd, 0,
		    st.st_size, HTTPD_RANGE);
	}
out:
	gitx_close(g);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void
handler(struct httpd_req *req, void *arg)
{
	const char *m = httpd_method(req), *p = httpd_path(req);
	size_t l = strlen(p);
	char name[80];

	(void)arg;
	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		httpd_add_header(req, "Allow", "GET, HEAD");
		httpd_error(req, 405, "method not allowed");
	} else if (strcmp(p, "/") == 0) {
		status_page(req);
	} else if (strcmp(p, "/healthz") == 0) {
		httpd_reply(req, 200, NULL, "ok\n", 3);
	} else if (l > 8 && l - 7 < sizeof(name) && strchr(p + 1, '/') ==
	    NULL && strcmp(p + l - 7, ".tar.gz") == 0) {
		memcpy(name, p + 1, l - 8);
		name[l - 8] = '\0';
		tarball(req, name);
	} else {
		httpd_error(req, 404, "not found");
	}
}

/* The config file's identity: any change to it changes this. */
static void
conf_stamp(struct stat *st)
{
	struct strbuf path = STRBUF_INIT;

	farm_place(&path, cx.dir, FARM_CONFIG);
	if (stat(path.buf, st) < 0)
		memset(st, 0, sizeof(*st));
	strbuf_release(&path);
}

static int
stamp_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void
reload(const char *why)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	pthread_rwlock_wrlock(&conf_lock);
	rc = config_reload(&warn, &err);
	pthread_rwlock_unlock(&conf_lock);
	log_lines(&warn);
	log_lines(&err);
	if (rc == RC_OK)
		log_warnx("config read again (%s): %zu repos", why, cx.nrepos);
	else
		log_warnx("config not read again (%s): kept the one before",
		    why);
	strbuf_release(&warn);
	strbuf_release(&err);
}

int
serve_run(const char *listen, uint64_t cachemax, int fetchmax)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, dir = STRBUF_INIT;
	struct stat was, now, loaded;
	struct httpd *h;
	ssize_t n;
	int sig;

	cache_max = cachemax;
	fetch_max = fetchmax;
	conf_stamp(&was);
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		fatal(RC_TEMP, "readlink /proc/self/exe");
	self_exe[n] = '\0';
	/* before the server's threads start, so that they inherit it */
	if (sig_init(&err, SIGINT, SIGTERM, SIGHUP, 0) < 0)
		fatalx(RC_TEMP, "%s", err.buf);
	farm_placef(&dir, cx.dir, FARM_CACHE, "gitmirror");
	cache_evict(dir.buf, "");
	cfg.listen = listen;
	cfg.handler = handler;
	if ((h = httpd_start(&cfg, &err)) == NULL)
		fatalx(RC_TEMP, "%s", err.buf);
	/* with port 0, the kernel's choice: gitmirror(1) promises the form */
	log_warnx("listening on %.*s:%d", (int)(strrchr(listen, ':') - listen),
	    listen, httpd_port(h));
	loaded = was;
	for (;;) {
		sig = sig_wait(CONF_CHECK_MS);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		conf_stamp(&now);
		if (sig == SIGHUP) {
			reload("SIGHUP");
			loaded = now;
		} else if (stamp_same(&was, &now) &&
		    !stamp_same(&loaded, &now)) {
			/* unchanged for a check: not half written */
			reload("changed");
			loaded = now;
		}
		was = now;
	}
	/* a tarball being made is abandoned, its followers cut short */
	pthread_mutex_lock(&make_mu);
	make_stop = 1;
	pthread_cond_broadcast(&make_cv);
	pthread_mutex_unlock(&make_mu);
	httpd_stop(h);
	pthread_mutex_lock(&make_mu);
	while (makers > 0)
		pthread_cond_wait(&make_cv, &make_mu);
	pthread_mutex_unlock(&make_mu);
	strbuf_release(&err);
	strbuf_release(&dir);
	return RC_OK;
}
