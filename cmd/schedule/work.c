/*
 * work.c: the work model (extern.h says what it computes).
 *
 * The state is kept in the form the list is made from, so that making
 * it costs a walk over arrays:
 *   - per repo, per watched branch, its commits in log order (oldest
 *     first), each with one state byte per builder of the repo;
 *   - the results, by "builder\nrepo\nrev", as a done flag (a result
 *     sets it, a later retract clears it), copied into the state byte
 *     when the commit is known;
 *   - the items of the spools, parsed once each and kept by name (a
 *     spool item never changes and its name is never reused).
 * An update reads the logs from their cursors, rescans a spool only
 * when its new/ or cur/ changed (or may have: see spool_changed), and
 * makes the list again only when something changed.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
#include "timefmt.h"
#include "workitem.h"
#include "xmalloc.h"

/* A pair's state byte. */
#define ST_DONE		0x01	/* a result counts */
#define ST_QUEUED	0x02	/* an item of spool/work new/ or cur/ */
#define ST_STARTED	0x04	/* workq_started, until the spool shows it */

/* A string-keyed open-addressing table. */
struct hent {
	char *key;
	void *val;
};
struct htab {
	struct hent *v;
	size_t n, cap;		/* cap a power of 2, or 0 */
};

struct wq_commit {
	char rev[65];
	long long time;
	unsigned char *st;	/* per builder of the repo */
};

struct wq_branch {
	const char *name;	/* the config's string */
	struct wq_commit **v;	/* log order */
	size_t n, alloc;
};

struct wq_repo {
	const struct repo_conf *rc;
	struct wq_branch *br;	/* rc->branch order */
	struct htab commits;	/* rev -> struct wq_commit */
	int64_t maxbackfill;	/* over the builders with run steps */
};

/* A parsed spool item. */
struct wq_item {
	char *name;
	enum work_kind kind;
	const struct builder_conf *builder;
	struct wq_repo *repo;
	char rev[65];
	char *branch;
	long change, patchset;
	int prio;
	long long time;
	int ok;			/* usable (else warned about once) */
	unsigned gen;		/* the last scan that saw it */
	int sub;		/* SPOOL_NEW, SPOOL_CUR or SPOOL_FAIL there */
};

struct wq_spool {
	enum farm_place place;
	struct spool sp;
	int open;
	struct htab items;	/* name -> struct wq_item */
	struct timespec mtim[3], ctim[3];	/* new/, cur/, fail/ at the last scan */
	struct timespec scanned;
	int valid;		/* the above are set */
};

/* A (commit, builder) whose state byte has a mark to be cleared. */
struct mark {
	struct wq_commit *c;
	size_t b;
};
struct marks {
	struct mark *v;
	size_t n, alloc;
};

struct workq {
	struct sctx *cx;
	struct wq_repo *repos;	/* cx->conf->repos order */
	size_t nrepos;
	size_t *bidx;		/* builder (by index in conf) -> index in its repo */

	struct mlog *corpus, *results;
	struct mlog_cursor ccur, rcur;
	struct htab done;	/* "builder\nrepo\nrev" -> (void *)1 done, NULL not */

	struct wq_spool work, try;
	unsigned gen;
	struct marks queued, started;
	char **startednames;	/* items given to workq_started */
	size_t nstartednames;

	int dirty;		/* the list is to be made again */
	struct work *wv;	/* the list */
	const struct work **pv;
	size_t nw, awv;
};

/* ---- the table ---- */

static uint64_t
hstr(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct hent *
hslot(struct htab *t, const char *key)
{
	size_t i, mask = t->cap - 1;

	for (i = hstr(key) & mask; t->v[i].key != NULL; i = (i + 1) & mask)
		if (strcmp(t->v[i].key, key) == 0)
			break;
	return &t->v[i];
}

static void *
hget(struct htab *t, const char *key)
{
	struct hent *e;

	if (t->cap == 0)
		return NULL;
	e = hslot(t, key);
	return e->key != NULL ? e->val : NULL;
}

static int
hhas(struct htab *t, const char *key)
{
	return t->cap != 0 && hslot(t, key)->key != NULL;
}

static void
hput(struct htab *t, const char *key, void *val)
{
	struct hent *e, *old;
	size_t i, ocap;

	if ((t->n + 1) * 2 > t->cap) {
		old = t->v;
		ocap = t->cap;
		t->cap = ocap != 0 ? ocap * 2 : 64;
		t->v = xcalloc(t->cap, sizeof(*t->v));
		for (i = 0; i < ocap; i++)
			if (old[i].key != NULL)
				*hslot(t, old[i].key) = old[i];
		free(old);
	}
	e = hslot(t, key);
	if (e->key == NULL) {
		e->key = xstrdup(key);
		t->n++;
	}
	e->val = val;
}

/* Remove the entries for which drop(val) says so (backward-shift). */
static void
hsweep(struct htab *t, int (*drop)(void *val, void *arg), void *arg)
{
	struct hent *old = t->v;
	size_t i, ocap = t->cap;

	if (ocap == 0)
		return;
	t->v = xcalloc(ocap, sizeof(*t->v));
	t->n = 0;
	for (i = 0; i < ocap; i++) {
		if (old[i].key == NULL)
			continue;
		if (drop(old[i].val, arg)) {
			free(old[i].key);
			continue;
		}
		*hslot(t, old[i].key) = old[i];
		t->n++;
	}
	free(old);
}

static void
hfree(struct htab *t, void (*fn)(void *))
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		if (t->v[i].key == NULL)
			continue;
		free(t->v[i].key);
		if (fn != NULL)
			fn(t->v[i].val);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the model ---- */

static void
mark(struct marks *m, struct wq_commit *c, size_t b, unsigned char bit)
{
	if (c->st[b] & bit)
		return;
	c->st[b] |= bit;
	if (m->n == m->alloc) {
		m->alloc = m->alloc != 0 ? m->alloc * 2 : 64;
		m->v = xreallocarray(m->v, m->alloc, sizeof(*m->v));
	}
	m->v[m->n].c = c;
	m->v[m->n++].b = b;
}

static void
unmark(struct marks *m, unsigned char bit)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		m->v[i].c->st[m->v[i].b] &= (unsigned char)~bit;
	m->n = 0;
}

static struct wq_repo *
repo_of(struct workq *q, const struct repo_conf *rc)
{
	if (rc == NULL)
		return NULL;
	return &q->repos[rc - q->cx->conf->repos];
}

/* b's index in its repo's builders, or -1 when it runs nothing there. */
static long
builder_index(struct workq *q, const struct builder_conf *b,
    const struct wq_repo *r)
{
	if (b == NULL || b->repo != r->rc || b->nrun == 0)
		return -1;
	return (long)q->bidx[b - q->cx->conf->builders];
}

static void
pair_key(struct strbuf *k, const char *builder, const char *repo,
    const char *rev)
{
	strbuf_reset(k);
	strbuf_addf(k, "%s\n%s\n%s", builder, repo, rev);
}

int
full_rev(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return s[n] == '\0' && (n == 40 || n == 64);
}

/* Git's time with its offset ("2017-07-30T09:09:47-07:00") to epoch s. */
static long long
parse_time(const char *s)
{
	struct tm tm;
	const char *p;
	long long t;
	int sign, hh, mm;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	t = (long long)timegm(&tm);
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		sign = *p == '-' ? -1 : 1;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		t -= sign * (hh * 3600LL + mm * 60LL);
	}
	return t;
}

static int
on_git(const struct mlog_rec *rec, void *arg)
{
	struct workq *q = arg;
	struct strbuf k = STRBUF_INIT;
	const struct repo_conf *rc;
	const char *repo, *branch, *commit;
	struct wq_repo *r;
	struct wq_branch *br = NULL;
	struct wq_commit *c;
	size_t i;

	repo = json_str(json_get(rec->obj, "repo"), NULL);
	branch = json_str(json_get(rec->obj, "branch"), NULL);
	commit = json_str(json_get(rec->obj, "commit"), NULL);
	if (repo == NULL || branch == NULL || commit == NULL ||
	    !full_rev(commit) ||
	    (rc = farmconf_repo(q->cx->conf, repo)) == NULL)
		return 0;
	r = repo_of(q, rc);
	for (i = 0; i < rc->nbranch; i++)
		if (strcmp(rc->branch[i], branch) == 0)
			br = &r->br[i];
	if (br == NULL || hhas(&r->commits, commit))
		return 0;
	c = xcalloc(1, sizeof(*c));
	memcpy(c->rev, commit, strlen(commit) + 1);
	c->time = parse_time(json_str(json_get_path(rec->obj,
	    "committer.time"), NULL));
	c->st = xcalloc(rc->nbuilders + 1, 1);
	for (i = 0; i < rc->nbuilders; i++) {
		pair_key(&k, rc->builders[i]->name, rc->name, commit);
		if (hget(&q->done, k.buf) != NULL)
			c->st[i] |= ST_DONE;
	}
	strbuf_release(&k);
	hput(&r->commits, commit, c);
	if (br->n == br->alloc) {
		br->alloc = br->alloc != 0 ? br->alloc * 2 : 64;
		br->v = xreallocarray(br->v, br->alloc, sizeof(*br->v));
	}
	br->v[br->n++] = c;
	q->dirty = 1;
	return 0;
}

static int
on_result(const struct mlog_rec *rec, void *arg)
{
	struct workq *q = arg;
	struct strbuf k = STRBUF_INIT;
	const char *builder, *repo, *rev;
	const struct builder_conf *b;
	struct wq_repo *r;
	struct wq_commit *c;
	int done;
	long i;

	/* a try result tested a patch set: no post-submit result */
	if (strcmp(rec->type, "result") == 0 &&
	    json_get(rec->obj, "change") != NULL)
		return 0;
	if (strcmp(rec->type, "result") == 0)
		done = 1;
	else if (strcmp(rec->type, "retract") == 0)
		done = 0;
	else
		return 0;
	builder = json_str(json_get(rec->obj, "builder"), NULL);
	repo = json_str(json_get(rec->obj, "repo"), NULL);
	rev = json_str(json_get(rec->obj, "rev"), NULL);
	if (builder == NULL || repo == NULL || rev == NULL)
		return 0;
	pair_key(&k, builder, repo, rev);
	hput(&q->done, k.buf, done ? (void *)1 : NULL);
	strbuf_release(&k);
	if ((b = farmconf_builder(q->cx->conf, builder)) == NULL ||
	    (r = repo_of(q, farmconf_repo(q->cx->conf, repo))) == NULL ||
	    (i = builder_index(q, b, r)) < 0 ||
	    (c = hget(&r->commits, rev)) == NULL)
		return 0;
	if (done)
		c->st[i] |= ST_DONE;
	else
		c->st[i] &= (unsigned char)~ST_DONE;
	q->dirty = 1;
	return 0;
}

/*
 * Open a log that may not exist yet (a fresh farm): RC_NO while it does
 * not, and nothing is created.
 */
static int
log_open(struct workq *q, struct mlog **lp, enum farm_place p,
    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc = RC_OK;

	if (*lp != NULL)
		return RC_OK;
	farm_place(&path, q->cx->dir, p);
	if (!mlog_is_log(path.buf))
		rc = RC_NO;
	else
		rc = mlog_open(lp, path.buf, 0, err);
	strbuf_release(&path);
	return rc;
}

static int
log_follow(struct workq *q, struct mlog **lp, enum farm_place p,
    struct mlog_cursor *cur, struct mlog_sel *sel,
    int (*fn)(const struct mlog_rec *, void *), struct strbuf *err)
{
	int rc;

	if ((rc = log_open(q, lp, p, err)) == RC_NO)
		return RC_OK;
	if (rc != RC_OK || (rc = mlog_scan(*lp, err)) != RC_OK)
		return rc;
	return mlog_each(*lp, cur, sel, fn, q, err);
}

/* ---- the spools ---- */

static void
item_free(void *p)
{
	struct wq_item *it = p;

	free(it->name);
	free(it->branch);
	free(it);
}

static int
item_stale(void *val, void *arg)
{
	struct wq_item *it = val;

	if (it->gen == *(unsigned *)arg)
		return 0;
	item_free(it);
	return 1;
}

/* Epoch seconds of an item: from spool_put's name, else its mtime. */
static long long
item_time(struct wq_spool *s, int sub, const char *name)
{
	struct stat st;
	char *end;
	long long t;

	t = strtoll(name, &end, 10);
	if (end != name && *end == '.')
		return t;
	if (fstatat(s->sp.sub[sub], name, &st, 0) == 0)
		return (long long)st.st_mtim.tv_sec;
	return 0;
}

/*
 * Read and check an item once: it->ok says whether it can be listed;
 * problems are said once, here.  RC_NO when it moved away meanwhile.
 */
static int
item_load(struct workq *q, struct wq_spool *s, int sub, const char *name,
    struct wq_item **itp, struct strbuf *err)
{
	static const char *subname[] = { "tmp", "new", "cur", "done",
	    "fail" };
	struct strbuf buf = STRBUF_INIT, e = STRBUF_INIT;
	struct work_item wi = WORK_ITEM_INIT;
	const struct repo_conf *rc;
	struct wq_item *it;
	int rc_;

	rc_ = spool_read(&s->sp, subname[sub], name, &buf, WORK_ITEM_MAX, &e);
	if (rc_ == RC_NO) {
		strbuf_release(&buf);
		strbuf_release(&e);
		return RC_NO;
	}
	it = xcalloc(1, sizeof(*it));
	it->name = xstrdup(name);
	it->time = item_time(s, sub, name);
	if (rc_ == RC_TEMP) {
		strbuf_add(err, e.buf, e.len);
		strbuf_release(&buf);
		strbuf_release(&e);
		item_free(it);
		return RC_TEMP;
	}
	if (rc_ != RC_OK || workitem_parse(&wi, buf.buf, buf.len, &e) != RC_OK)
		goto bad;
	it->kind = wi.kind;
	if ((rc = farmconf_repo(q->cx->conf, wi.repo)) == NULL &&
	    (rc = farmconf_repo_for_project(q->cx->conf, wi.repo)) == NULL) {
		strbuf_addf(&e, "repo '%s' is not in the config", wi.repo);
		goto bad;
	}
	it->repo = repo_of(q, rc);
	if (wi.builder != NULL && *wi.builder != '\0') {
		it->builder = farmconf_builder(q->cx->conf, wi.builder);
		if (it->builder == NULL) {
			strbuf_addf(&e, "builder '%s' is not in the config",
			    wi.builder);
			goto bad;
		}
		if (builder_index(q, it->builder, it->repo) < 0) {
			strbuf_addf(&e, "builder '%s' builds nothing of repo "
			    "'%s'", wi.builder, rc->name);
			goto bad;
		}
	} else if (wi.kind != WORK_TRY) {
		strbuf_addstr(&e, "no builder");
		goto bad;
	}
	memcpy(it->rev, wi.rev, strlen(wi.rev) + 1);
	it->branch = wi.branch != NULL ? xstrdup(wi.branch) : NULL;
	it->change = (long)wi.change;
	it->patchset = (long)wi.patchset;
	it->prio = (int)wi.prio;
	it->ok = 1;
	goto out;
bad:
	log_warnx("item '%s/%s/%s': %s (left alone)", s->sp.path,
	    subname[sub], name, e.buf);
out:
	workitem_release(&wi);
	strbuf_release(&buf);
	strbuf_release(&e);
	*itp = it;
	return RC_OK;
}

static int
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/*
 * The subdirectories of a spool that the model reads: new/ always;
 * for spool/work also cur/ (running) and fail/, whose items settle
 * their (builder, rev) as a result does, so that what failed for good
 * (a bad item, three infrastructure failures) is not queued again.
 */
static const int scan_subs[3] = { SPOOL_NEW, SPOOL_CUR, SPOOL_FAIL };

/*
 * Did one of the n scanned subdirectories change since the last scan?
 * A directory's times have the granularity of the kernel's clock tick,
 * so a change in the tick of the last scan could leave them as they
 * were: while the last scan is within a second of them, say yes.
 */
static int
spool_changed(struct wq_spool *s, int n)
{
	const int *sub = scan_subs;
	struct stat st;
	int i, changed = !s->valid;

	for (i = 0; i < n; i++) {
		if (fstat(s->sp.sub[sub[i]], &st) != 0)
			return 1;
		if (!s->valid || !ts_eq(st.st_mtim, s->mtim[i]) ||
		    !ts_eq(st.st_ctim, s->ctim[i]) ||
		    s->scanned.tv_sec <= st.st_mtim.tv_sec + 1 ||
		    s->scanned.tv_sec <= st.st_ctim.tv_sec + 1)
			changed = 1;
		s->mtim[i] = st.st_mtim;
		s->ctim[i] = st.st_ctim;
	}
	s->valid = 1;
	return changed;
}

/*
 * Rescan s's new/ (and cur/ and fail/ with cur): *changed is set when
 * it did.  A spool that does not exist yet is empty.
 */
static int
spool_rescan(struct workq *q, struct wq_spool *s, int cur, int force,
    int *changed, struct strbuf *err)
{
	static const char *subname[] = { "tmp", "new", "cur", "done",
	    "fail" };
	struct spool_names nv = SPOOL_NAMES_INIT;
	struct strbuf path = STRBUF_INIT;
	struct wq_item *it;
	struct stat st;
	int k, sub, n = cur ? 3 : 1, rc = RC_OK;
	size_t i;

	if (!s->open) {
		/* nothing is created: find changes nothing on disk */
		farm_place(&path, q->cx->dir, s->place);
		if (stat(path.buf, &st) != 0 && errno == ENOENT)
			rc = RC_NO;
		else
			rc = spool_open(&s->sp, path.buf, 0, err);
		strbuf_release(&path);
		if (rc == RC_NO)
			return RC_OK;
		if (rc != RC_OK)
			return rc;
		s->open = 1;
	}
	if (!spool_changed(s, n) && !force)
		return RC_OK;
	s->scanned = time_now();
	*changed = 1;
	q->gen++;
	for (k = 0; k < n; k++) {
		sub = scan_subs[k];
		if ((rc = spool_list(&s->sp, subname[sub], &nv, err)) != RC_OK)
			break;
		for (i = 0; i < nv.n; i++) {
			if ((it = hget(&s->items, nv.v[i])) == NULL) {
				rc = item_load(q, s, sub, nv.v[i], &it, err);
				if (rc == RC_NO)
					continue;	/* moved: next scan */
				if (rc != RC_OK)
					break;
				hput(&s->items, nv.v[i], it);
			}
			it->gen = q->gen;
			it->sub = sub;
		}
		if (rc != RC_OK)
			break;
	}
	spool_names_free(&nv);
	if (rc == RC_NO)
		rc = RC_OK;
	hsweep(&s->items, item_stale, &q->gen);
	return rc;
}

/* The QUEUED marks from spool/work's items. */
static void
mark_queued(struct workq *q)
{
	struct htab *t = &q->work.items;
	struct wq_item *it;
	struct wq_commit *c;
	size_t i;
	long b;

	unmark(&q->queued, ST_QUEUED);
	for (i = 0; i < t->cap; i++) {
		if (t->v[i].key == NULL)
			continue;
		it = t->v[i].val;
		if (!it->ok || (b = builder_index(q, it->builder,
		    it->repo)) < 0 ||
		    (c = hget(&it->repo->commits, it->rev)) == NULL)
			continue;
		mark(&q->queued, c, (size_t)b, ST_QUEUED);
	}
}

/* ---- the list ---- */

static struct work *
push(struct workq *q)
{
	struct work *w;

	if (q->nw == q->awv) {
		q->awv = q->awv != 0 ? q->awv * 2 : 256;
		q->wv = xreallocarray(q->wv, q->awv, sizeof(*q->wv));
	}
	w = &q->wv[q->nw++];
	memset(w, 0, sizeof(*w));
	return w;
}

static int
started_item(struct workq *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->nstartednames; i++)
		if (strcmp(q->startednames[i], name) == 0)
			return 1;
	return 0;
}

static void
push_item(struct workq *q, const struct wq_item *it)
{
	struct work *w = push(q);

	w->kind = it->kind;
	w->builder = it->builder;
	w->repo = it->repo->rc;
	memcpy(w->rev, it->rev, sizeof(w->rev));
	w->branch = it->branch;
	w->item = it->name;
	w->change = it->change;
	w->patchset = it->patchset;
	w->prio = it->prio;
	w->time = it->time;
}

enum iclass { IC_TRY, IC_MANUAL, IC_POST };

static int
item_class(const struct wq_item *it)
{
	switch (it->kind) {
	case WORK_TRY:
		return IC_TRY;
	case WORK_MANUAL:
		return IC_MANUAL;
	default:
		return IC_POST;
	}
}

static int
item_cmp(const void *a, const void *b)
{
	const struct wq_item *x = *(const struct wq_item *const *)a;
	const struct wq_item *y = *(const struct wq_item *const *)b;

	if (item_class(x) != item_class(y))
		return item_class(x) - item_class(y);
	if (x->kind == WORK_MANUAL && x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The listable items of new/ of both spools, in order. */
static void
list_items(struct workq *q)
{
	struct wq_spool *sv[2] = { &q->try, &q->work };
	struct wq_item **v = NULL;
	struct wq_item *it;
	size_t i, j, n = 0, alloc = 0;

	for (j = 0; j < 2; j++)
		for (i = 0; i < sv[j]->items.cap; i++) {
			if (sv[j]->items.v[i].key == NULL)
				continue;
			it = sv[j]->items.v[i].val;
			if (!it->ok || it->sub != SPOOL_NEW ||
			    started_item(q, it->name))
				continue;
			if (n == alloc) {
				alloc = alloc != 0 ? alloc * 2 : 64;
				v = xreallocarray(v, alloc, sizeof(*v));
			}
			v[n++] = it;
		}
	if (n > 1)
		qsort(v, n, sizeof(*v), item_cmp);
	for (i = 0; i < n; i++)
		push_item(q, v[i]);
	free(v);
}

/*
 * The post work of one repo in one class, a generator: the commits of
 * its branches newest first (several branches merged by commit time),
 * for each the builders in file order.
 */
struct gen {
	struct wq_repo *r;
	size_t from, to;	/* branches [from, to) */
	size_t *pos;		/* per branch: commits left (index + 1) */
	struct wq_commit *c;	/* the commit being walked, or NULL */
	size_t cbr, b;		/* its branch, the next builder */
};

static int
gen_next(struct workq *q, struct gen *g)
{
	const struct repo_conf *rc = g->r->rc;
	const struct builder_conf *bc;
	struct wq_branch *br;
	struct wq_commit *c;
	size_t i, best;
	struct work *w;

	for (;;) {
		if (g->c == NULL) {
			best = SIZE_MAX;
			for (i = g->from; i < g->to; i++) {
				br = &g->r->br[i];
				/* only the newest maxbackfill can be listed */
				if (g->pos[i - g->from] == 0 ||
				    (int64_t)(br->n - g->pos[i - g->from]) >=
				    g->r->maxbackfill)
					continue;
				c = br->v[g->pos[i - g->from] - 1];
				if (best == SIZE_MAX || c->time > g->c->time) {
					best = i;
					g->c = c;
				}
			}
			if (best == SIZE_MAX)
				return 0;
			g->cbr = best;
			g->b = 0;
			g->pos[best - g->from]--;
		}
		br = &g->r->br[g->cbr];
		/* the commit's place from the newest: 0, 1, ... */
		i = br->n - 1 - g->pos[g->cbr - g->from];
		for (; g->b < rc->nbuilders; g->b++) {
			bc = rc->builders[g->b];
			if (bc->nrun == 0 || g->c->st[g->b] != 0 ||
			    (int64_t)i >= bc->backfill)
				continue;
			w = push(q);
			w->kind = WORK_POST;
			w->builder = bc;
			w->repo = rc;
			memcpy(w->rev, g->c->rev, sizeof(w->rev));
			w->branch = (char *)br->name;
			w->time = g->c->time;
			g->b++;
			return 1;
		}
		g->c = NULL;
	}
}

/* Round-robin between the repos over branches [from, to) of each. */
static void
list_post(struct workq *q, int release)
{
	struct gen *g;
	size_t i, j, live;
	struct wq_repo *r;

	g = xcalloc(q->nrepos, sizeof(*g));
	for (i = 0; i < q->nrepos; i++) {
		r = &q->repos[i];
		g[i].r = r;
		g[i].from = release ? 1 : 0;
		g[i].to = release ? r->rc->nbranch : (r->rc->nbranch > 0);
		if (g[i].to < g[i].from)
			g[i].to = g[i].from;
		g[i].pos = xcalloc(g[i].to - g[i].from + 1, sizeof(size_t));
		for (j = g[i].from; j < g[i].to; j++)
			g[i].pos[j - g[i].from] = r->br[j].n;
	}
	do {
		live = 0;
		for (i = 0; i < q->nrepos; i++)
			if (g[i].r != NULL) {
				if (gen_next(q, &g[i]))
					live++;
				else
					g[i].r = NULL;
			}
	} while (live > 0);
	for (i = 0; i < q->nrepos; i++)
		free(g[i].pos);
	free(g);
}

static void
list_make(struct workq *q)
{
	size_t i;

	q->nw = 0;
	list_items(q);
	list_post(q, 1);
	list_post(q, 0);
	q->pv = xreallocarray(q->pv, q->nw + 1, sizeof(*q->pv));
	for (i = 0; i < q->nw; i++)
		q->pv[i] = &q->wv[i];
	q->dirty = 0;
}

/* ---- the interface ---- */

int
workq_open(struct workq **qp, struct sctx *sc, struct strbuf *err)
{
	const struct farmconf *fc = sc->conf;
	struct workq *q;
	struct wq_repo *r;
	size_t i, j;

	(void)err;
	q = xcalloc(1, sizeof(*q));
	q->cx = sc;
	q->nrepos = fc->nrepos;
	q->repos = xcalloc(fc->nrepos + 1, sizeof(*q->repos));
	q->bidx = xcalloc(fc->nbuilders + 1, sizeof(*q->bidx));
	for (i = 0; i < fc->nrepos; i++) {
		r = &q->repos[i];
		r->rc = &fc->repos[i];
		r->br = xcalloc(r->rc->nbranch + 1, sizeof(*r->br));
		for (j = 0; j < r->rc->nbranch; j++)
			r->br[j].name = r->rc->branch[j];
		for (j = 0; j < r->rc->nbuilders; j++) {
			q->bidx[r->rc->builders[j] - fc->builders] = j;
			if (r->rc->builders[j]->nrun > 0 &&
			    r->rc->builders[j]->backfill > r->maxbackfill)
				r->maxbackfill = r->rc->builders[j]->backfill;
		}
	}
	q->work.place = FARM_SPOOL_WORK;
	q->try.place = FARM_SPOOL_TRY;
	q->dirty = 1;
	*qp = q;
	return RC_OK;
}

int
workq_update(struct workq *q, struct strbuf *err)
{
	struct mlog_sel gsel = { "git", NULL, 0, 0 };
	/* canonical JSON: "type":"result" and "type":"retract" */
	struct mlog_sel rsel = { NULL, "\"type\":\"re", 0, 0 };
	int rc, changed = 0, force, dirty0 = q->dirty;
	size_t i;

	q->dirty = 0;
	if ((rc = log_follow(q, &q->corpus, FARM_CORPUS, &q->ccur, &gsel,
	    on_git, err)) != RC_OK)
		return rc;
	/* new commits may be what a queued item names */
	force = q->dirty || q->started.n > 0 || q->nstartednames > 0;
	if ((rc = log_follow(q, &q->results, FARM_RESULTS, &q->rcur, &rsel,
	    on_result, err)) != RC_OK)
		return rc;
	if ((rc = spool_rescan(q, &q->work, 1, force, &changed,
	    err)) != RC_OK ||
	    (rc = spool_rescan(q, &q->try, 0, 0, &changed, err)) != RC_OK)
		return rc;
	if (changed) {
		mark_queued(q);
		/* the spool shows what was started now */
		unmark(&q->started, ST_STARTED);
		for (i = 0; i < q->nstartednames; i++)
			free(q->startednames[i]);
		q->nstartednames = 0;
		q->dirty = 1;
	}
	if (q->dirty || dirty0)
		list_make(q);
	return RC_OK;
}

size_t
workq_list(struct workq *q, const struct work ***v)
{
	if (q->pv == NULL)
		list_make(q);
	*v = q->pv;
	return q->nw;
}

void
workq_started(struct workq *q, const struct work *w)
{
	struct wq_repo *r;
	struct wq_commit *c;
	long b;

	q->dirty = 1;
	if (w->item != NULL) {
		q->startednames = xreallocarray(q->startednames,
		    q->nstartednames + 1, sizeof(*q->startednames));
		q->startednames[q->nstartednames++] = xstrdup(w->item);
		return;
	}
	if ((r = repo_of(q, w->repo)) == NULL ||
	    (b = builder_index(q, w->builder, r)) < 0 ||
	    (c = hget(&r->commits, w->rev)) == NULL)
		return;
	mark(&q->started, c, (size_t)b, ST_STARTED);
}

static void
commit_free(void *p)
{
	struct wq_commit *c = p;

	free(c->st);
	free(c);
}

void
workq_close(struct workq *q)
{
	size_t i, j;

	if (q == NULL)
		return;
	for (i = 0; i < q->nrepos; i++) {
		for (j = 0; j < q->repos[i].rc->nbranch; j++)
			free(q->repos[i].br[j].v);
		free(q->repos[i].br);
		hfree(&q->repos[i].commits, commit_free);
	}
	free(q->repos);
	free(q->bidx);
	mlog_close(q->corpus);
	mlog_close(q->results);
	hfree(&q->done, NULL);
	hfree(&q->work.items, item_free);
	hfree(&q->try.items, item_free);
	if (q->work.open)
		spool_close(&q->work.sp);
	if (q->try.open)
		spool_close(&q->try.sp);
	free(q->queued.v);
	free(q->started.v);
	for (i = 0; i < q->nstartednames; i++)
		free(q->startednames[i]);
	free(q->startednames);
	free(q->wv);
	free(q->pv);
	free(q);
}
