/*
 * sync.c: one repo's round: fetch, record, push.
 *
 * What has been recorded is the set of ref tips in the state file plus
 * whatever the corpus holds after the state's seq.  Each round first
 * replays those later git-ref records into the tips (a crash after an
 * append but before the state write), and remembers the commits of
 * later git records (a crash in the middle of a batch, whose complete
 * lines stay), so that what it then finds new was never recorded.
 * A batch puts the git records before the git-ref records: a torn
 * batch keeps some commits but not the ref move, and the next round
 * records the move and only the commits still missing.
 *
 * The "REPO BRANCH COMMIT" lines are printed from the corpus, not from
 * the batch: each round prints the repo's git records after the state's
 * printed-up-to seq, flushes stdout, and only then advances that seq.
 * A crash before the advance prints the lines again; none is lost, and
 * commits recorded by a sync that printed nothing (sync -q, as serve
 * runs it) are printed by the next sync that prints.
 *
 * Repos sync in parallel (sync_repos), one thread each, so that one's
 * transfer overlaps another's.  The threads share the corpus handle
 * and stdout under corpus_mu: a repo's lines come out whole and
 * together, flushed before its cursor moves.  Each transfer is a fork
 * (lib/git.c) of this threaded process, and the child uses libgit2,
 * whose mutexes (the pack windows') another thread may hold at that
 * moment; so a thread's own libgit2 work holds git_lk shared, and a
 * fork waits for it exclusively (pthread_atfork), leaving the child
 * no libgit2 lock taken.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "git.h"
#include "json.h"
#include "lock.h"
#include "farm.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define MAX_STATE (256u << 20)

static struct mlog *corpus;
static pthread_mutex_t corpus_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t git_lk;
static pthread_once_t git_lk_once = PTHREAD_ONCE_INIT;

struct refmap {
	struct gitx_ref *v;
	size_t n, alloc;
	size_t *order;		/* replay: position of each entry */
};

struct state {
	uint64_t seq;
	uint64_t printed;	/* git records up to this seq were printed */
	struct refmap refs;
	struct status st;
	/* commits of git records after seq, sorted */
	char (*seen)[GITX_HEXSZ + 1];
	size_t nseen, aseen;
};

int
push_wanted(const char *name)
{
	static const char *const never[] = { "refs/changes/", "refs/users/",
	    "refs/cache-auto", "refs/pull/", GITX_PRIVATE };
	const char *s = NULL;
	size_t i;

	if (strncmp(name, "refs/", 5) != 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(never); i++)
		if (strncmp(name, never[i], strlen(never[i])) == 0)
			return 0;
	/* GitHub refuses branch and tag names that look like ids */
	if (strncmp(name, "refs/heads/", 11) == 0)
		s = name + 11;
	else if (strncmp(name, "refs/tags/", 10) == 0)
		s = name + 10;
	if (s != NULL && strlen(s) == GITX_HEXSZ &&
	    strspn(s, "0123456789abcdefABCDEF") == GITX_HEXSZ)
		return 0;
	return 1;
}

static int
refcmp(const void *a, const void *b)
{
	return strcmp(((const struct gitx_ref *)a)->name,
	    ((const struct gitx_ref *)b)->name);
}

static const char *
ref_get(const struct refmap *m, const char *name)
{
	struct gitx_ref key = { (char *)name, "" }, *f;

	if (m->n == 0)
		return NULL;
	f = bsearch(&key, m->v, m->n, sizeof(*m->v), refcmp);
	return f != NULL ? f->oid : NULL;
}

static void
ref_push(struct refmap *m, const char *name, const char *oid)
{
	GROW(m->v, m->n + 1, m->alloc);
	m->v[m->n].name = xstrdup(name);
	snprintf(m->v[m->n].oid, sizeof(m->v[m->n].oid), "%s", oid);
	m->n++;
}

/* sort by name, later entries winning; "" oids delete */
static _Thread_local const struct gitx_ref *sort_base;

static int
ordcmp(const void *a, const void *b)
{
	const struct gitx_ref *x = &sort_base[*(const size_t *)a];
	const struct gitx_ref *y = &sort_base[*(const size_t *)b];
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void
ref_settle(struct refmap *m)
{
	struct gitx_ref *v;
	size_t *ord, i, n = 0;

	if (m->n == 0)
		return;
	ord = xcalloc(m->n, sizeof(*ord));
	for (i = 0; i < m->n; i++)
		ord[i] = i;
	sort_base = m->v;
	qsort(ord, m->n, sizeof(*ord), ordcmp);
	v = xcalloc(m->n, sizeof(*v));
	for (i = 0; i < m->n; i++) {
		struct gitx_ref *e = &m->v[ord[i]];

		if (i + 1 < m->n &&
		    strcmp(e->name, m->v[ord[i + 1]].name) == 0) {
			free(e->name);
			continue;
		}
		if (e->oid[0] == '\0') {
			free(e->name);
			continue;
		}
		v[n++] = *e;
	}
	free(ord);
	free(m->v);
	m->v = v;
	m->n = n;
	m->alloc = m->n;
	if (m->alloc == 0) {
		free(m->v);
		m->v = NULL;
	}
}

static void
state_release(struct state *s)
{
	gitx_refs_free(s->refs.v, s->refs.n);
	free(s->seen);
	memset(s, 0, sizeof(*s));
}

static int
ref_cb(const char *key, struct json *val, void *arg)
{
	const char *v = json_str(val, NULL);

	if (v != NULL && strlen(v) == GITX_HEXSZ)
		ref_push(arg, key, v);
	return 0;
}

static void
status_from(struct status *st, const struct json *j)
{
	const char *e;

	memset(st, 0, sizeof(*st));
	st->fetched = json_int(json_get(j, "fetched"));
	st->pushed = json_int(json_get(j, "pushed"));
	st->synced = json_int(json_get(j, "synced"));
	st->tried = json_int(json_get(j, "tried"));
	if ((e = json_str(json_get(j, "error"), NULL)) != NULL)
		snprintf(st->error, sizeof(st->error), "%s", e);
}

/* The state file; a missing one is an empty state.  RC_* */
static int
state_load(const char *name, struct state *s, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	struct json *j;
	int fd, rc = RC_OK;

	memset(s, 0, sizeof(*s));
	state_path(&path, name, ".json");
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			strbuf_addf(err, "open '%s': %s", path.buf,
			    strerror(errno));
			rc = RC_TEMP;
		}
		goto out;
	}
	if (strbuf_read_fd(&buf, fd, MAX_STATE) < 0) {
		strbuf_addf(err, "read '%s': %s", path.buf, strerror(errno));
		close(fd);
		rc = RC_TEMP;
		goto out;
	}
	close(fd);
	strbuf_reset(err);
	if ((j = json_parse(buf.buf, buf.len, err)) == NULL) {
		strbuf_addf(err, " (state file '%s')", path.buf);
		rc = RC_PERM;
		goto out;
	}
	s->seq = (uint64_t)json_int(json_get(j, "seq"));
	/* a state from before the cursor: the old code printed up to seq */
	s->printed = json_get(j, "printed") != NULL ?
	    (uint64_t)json_int(json_get(j, "printed")) : s->seq;
	json_object_each(json_get(j, "refs"), ref_cb, &s->refs);
	ref_settle(&s->refs);
	status_from(&s->st, json_get(j, "status"));
	json_free(j);
out:
	strbuf_release(&path);
	strbuf_release(&buf);
	return rc;
}

static struct json *
status_json(const struct status *st)
{
	struct json *j = json_new_object();

	json_set_int(j, "fetched", st->fetched);
	json_set_int(j, "pushed", st->pushed);
	json_set_int(j, "synced", st->synced);
	json_set_int(j, "tried", st->tried);
	json_set_str(j, "error", st->error);
	return j;
}

static int
state_save(const char *name, const struct state *s, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct json *j = json_new_object(), *refs = json_new_object();
	size_t i;
	int rc;

	json_set_int(j, "seq", (int64_t)s->seq);
	json_set_int(j, "printed", (int64_t)s->printed);
	for (i = 0; i < s->refs.n; i++)
		json_set_str(refs, s->refs.v[i].name, s->refs.v[i].oid);
	json_set(j, "refs", refs);
	json_set(j, "status", status_json(&s->st));
	json_dump(&text, j);
	strbuf_addch(&text, '\n');
	json_free(j);
	state_path(&path, name, ".json");
	rc = atomic_write(AT_FDCWD, path.buf, text.buf, text.len, 0644, err) <
	    0 ? RC_TEMP : RC_OK;
	strbuf_release(&path);
	strbuf_release(&text);
	return rc;
}

int
status_read(const char *name, struct status *st)
{
	struct state s;
	struct strbuf err = STRBUF_INIT;
	int rc = state_load(name, &s, &err);

	*st = s.st;
	state_release(&s);
	strbuf_release(&err);
	return rc;
}

/* Under corpus_mu, as is every use of corpus. */
static int
open_corpus(struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (corpus != NULL)
		return RC_OK;
	farm_place(&path, cx.dir, FARM_CORPUS);
	rc = mlog_open(&corpus, path.buf, MLOG_CREATE, err);
	strbuf_release(&path);
	return rc;
}

/* Replaying the corpus after the state's seq. */
struct replay {
	const char *name;
	struct state *s;
};

static int
seencmp(const void *a, const void *b)
{
	return memcmp(a, b, GITX_HEXSZ);
}

static int
replay_rec(const struct mlog_rec *r, void *arg)
{
	struct replay *rp = arg;
	const char *repo, *ref, *nw, *commit;

	repo = json_str(json_get(r->obj, "repo"), NULL);
	if (repo == NULL || strcmp(repo, rp->name) != 0)
		return 0;
	if (strcmp(r->type, "git-ref") == 0) {
		ref = json_str(json_get(r->obj, "ref"), NULL);
		nw = json_str(json_get(r->obj, "new"), NULL);
		if (ref != NULL && nw != NULL)
			ref_push(&rp->s->refs, ref, nw);
	} else if (strcmp(r->type, "git") == 0 &&
	    (commit = json_str(json_get(r->obj, "commit"), NULL)) != NULL &&
	    strlen(commit) == GITX_HEXSZ) {
		GROW(rp->s->seen, rp->s->nseen + 1, rp->s->aseen);
		memcpy(rp->s->seen[rp->s->nseen++], commit, GITX_HEXSZ + 1);
	}
	return 0;
}

/*
 * fn on each record of repo name after seq (of type, unless NULL), in
 * corpus order; *last gets the seq of the last record read, the repo's
 * or not (0 when none).
 */
static int
repo_records(const char *name, uint64_t after, const char *type,
    int (*fn)(const struct mlog_rec *, void *), void *arg, uint64_t *last,
    struct strbuf *err)
{
	struct strbuf pat = STRBUF_INIT;
	struct mlog_sel sel = { type, NULL, after, 0 };
	struct mlog_cursor cur;
	int rc;

	*last = 0;
	if ((rc = open_corpus(err)) != RC_OK ||
	    (rc = mlog_scan(corpus, err)) != RC_OK ||
	    (rc = mlog_seek_seq(corpus, after + 1, &cur, err)) != RC_OK)
		goto out;
	/* how canonical JSON spells the field; a cheap filter */
	strbuf_addstr(&pat, "\"repo\":");
	json_quote(&pat, name, strlen(name));
	sel.lit = pat.buf;
	rc = mlog_each(corpus, &cur, &sel, fn, arg, err);
	*last = sel.last;
out:
	strbuf_release(&pat);
	return rc;
}

static int
replay(const char *name, struct state *s, struct strbuf *err)
{
	struct replay rp = { name, s };
	uint64_t last;
	int rc;

	pthread_mutex_lock(&corpus_mu);
	rc = repo_records(name, s->seq, NULL, replay_rec, &rp, &last, err);
	pthread_mutex_unlock(&corpus_mu);
	if (rc != RC_OK) {
		strbuf_addstr(err, " (replaying the corpus)");
		return rc;
	}
	ref_settle(&s->refs);
	if (s->nseen > 1)
		qsort(s->seen, s->nseen, sizeof(*s->seen), seencmp);
	return RC_OK;
}

/* "2017-07-30T09:09:47-07:00", or with "Z" at offset 0 */
static void
git_time(struct strbuf *out, long long t, int off)
{
	time_t tt = (time_t)(t + (long long)off * 60);
	struct tm tm;
	char buf[64];

	gmtime_r(&tt, &tm);
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		buf[0] = '\0';
	strbuf_addstr(out, buf);
	if (off == 0)
		strbuf_addch(out, 'Z');
	else
		strbuf_addf(out, "%c%02d:%02d", off < 0 ? '-' : '+',
		    abs(off) / 60, abs(off) % 60);
}

static struct json *
sig_json(const struct gitx_sig *s)
{
	struct json *j = json_new_object();
	struct strbuf t = STRBUF_INIT;

	json_set(j, "name", json_new_strn(s->name, strlen(s->name)));
	json_set(j, "email", json_new_strn(s->email, strlen(s->email)));
	git_time(&t, s->time, s->offset);
	json_set_str(j, "time", t.buf);
	strbuf_release(&t);
	return j;
}

static struct json *
commit_json(const char *repo, const char *branch, const struct gitx_commit *c)
{
	struct json *j = json_new_object(), *par = json_new_array();
	size_t i;

	json_set_str(j, "type", "git");
	json_set_str(j, "repo", repo);
	json_set_str(j, "branch", branch);
	json_set_str(j, "commit", c->oid);
	json_set_str(j, "tree", c->tree);
	for (i = 0; i < c->nparents; i++)
		json_append(par, json_new_str(c->parents[i]));
	json_set(j, "parents", par);
	json_set(j, "author", sig_json(&c->author));
	json_set(j, "committer", sig_json(&c->committer));
	json_set(j, "msg", json_new_strn(c->msg, strlen(c->msg)));
	return j;
}

static struct json *
ref_json(const char *repo, const char *ref, const char *old,
    const char *nw)
{
	struct json *j = json_new_object();

	json_set_str(j, "type", "git-ref");
	json_set_str(j, "repo", repo);
	json_set_str(j, "ref", ref);
	json_set_str(j, "old", old);
	json_set_str(j, "new", nw);
	return j;
}

struct batch {
	struct json **recs;
	size_t n, alloc;
	char (*done)[GITX_HEXSZ + 1];	/* commits added this round */
	size_t ndone, adone;
};

static void
batch_add(struct batch *b, struct json *j)
{
	GROW(b->recs, b->n + 1, b->alloc);
	b->recs[b->n++] = j;
}

static int
is_seen(const struct state *s, const struct batch *b, const char *oid)
{
	size_t i;

	if (s->nseen > 0 && bsearch(oid, s->seen, s->nseen, sizeof(*s->seen),
	    seencmp) != NULL)
		return 1;
	for (i = 0; i < b->ndone; i++)
		if (memcmp(b->done[i], oid, GITX_HEXSZ) == 0)
			return 1;
	return 0;
}

/* The git records of the watched branches' new commits. */
static int
new_commits(struct repo_conf *r, struct gitx_repo *g, struct state *s,
    const struct gitx_ref *m, size_t nm, struct batch *b, struct strbuf *err)
{
	struct refmap mirror = { (struct gitx_ref *)m, nm, nm, NULL };
	struct strbuf ref = STRBUF_INIT;
	const char **hide;
	const char *tip, *old;
	char (*oids)[GITX_HEXSZ + 1] = NULL;
	size_t nhide = 0, i, j, n;
	int rc = RC_OK;

	hide = xcalloc(2 * r->nbranch + 1, sizeof(*hide));
	for (i = 0; i < r->nbranch; i++) {
		strbuf_reset(&ref);
		strbuf_addf(&ref, "refs/heads/%s", r->branch[i]);
		if ((old = ref_get(&s->refs, ref.buf)) != NULL)
			hide[nhide++] = old;
	}
	for (i = 0; i < r->nbranch && rc == RC_OK; i++) {
		strbuf_reset(&ref);
		strbuf_addf(&ref, "refs/heads/%s", r->branch[i]);
		tip = ref_get(&mirror, ref.buf);
		old = ref_get(&s->refs, ref.buf);
		if (tip == NULL || (old != NULL && strcmp(old, tip) == 0))
			continue;
		if (old == NULL && r->backfill == 0) {
			hide[nhide++] = tip;
			continue;
		}
		rc = gitx_walk(g, tip, hide, nhide, old == NULL ?
		    (size_t)r->backfill : 0, &oids, &n, err);
		for (j = 0; rc == RC_OK && j < n; j++) {
			struct gitx_commit c;

			if (is_seen(s, b, oids[j]))
				continue;
			if ((rc = gitx_commit_read(g, oids[j], &c, err)) !=
			    RC_OK)
				break;
			batch_add(b, commit_json(r->name, r->branch[i], &c));
			GROW(b->done, b->ndone + 1, b->adone);
			memcpy(b->done[b->ndone++], c.oid, GITX_HEXSZ + 1);
			gitx_commit_release(&c);
		}
		free(oids);
		oids = NULL;
		hide[nhide++] = tip;
	}
	free(hide);
	strbuf_release(&ref);
	return rc;
}

/* Drop the mirror's own refs (fetchref.c): the corpus never sees them. */
static void
drop_private(struct gitx_ref *m, size_t *nm)
{
	size_t i, n = 0, pl = strlen(GITX_PRIVATE);

	for (i = 0; i < *nm; i++) {
		if (strncmp(m[i].name, GITX_PRIVATE, pl) == 0)
			free(m[i].name);
		else
			m[n++] = m[i];
	}
	*nm = n;
}

/*
 * Record what moved in the mirror since the state; *moved is set when
 * something was.  The state's tips and seq follow the append.
 */
static int
record(struct repo_conf *r, struct gitx_repo *g, struct state *s, int *moved,
    struct strbuf *err)
{
	struct batch b = { NULL, 0, 0, NULL, 0, 0 };
	struct gitx_ref *m = NULL;
	size_t nm = 0, i = 0, j = 0, k;
	uint64_t first;
	int rc, c;

	*moved = 0;
	if ((rc = replay(r->name, s, err)) != RC_OK ||
	    (rc = gitx_refs(g, &m, &nm, err)) != RC_OK)
		goto out;
	drop_private(m, &nm);
	if ((rc = new_commits(r, g, s, m, nm, &b, err)) != RC_OK)
		goto out;
	/* the ref moves, after the commits (see the top of this file) */
	while (i < nm || j < s->refs.n) {
		c = i == nm ? 1 : j == s->refs.n ? -1 :
		    strcmp(m[i].name, s->refs.v[j].name);
		if (c < 0) {
			batch_add(&b, ref_json(r->name, m[i].name, "",
			    m[i].oid));
			i++;
		} else if (c > 0) {
			batch_add(&b, ref_json(r->name, s->refs.v[j].name,
			    s->refs.v[j].oid, ""));
			j++;
		} else {
			if (strcmp(m[i].oid, s->refs.v[j].oid) != 0)
				batch_add(&b, ref_json(r->name, m[i].name,
				    s->refs.v[j].oid, m[i].oid));
			i++;
			j++;
		}
	}
	if (b.n > 0) {
		pthread_mutex_lock(&corpus_mu);
		if ((rc = open_corpus(err)) == RC_OK)
			rc = mlog_append(corpus, b.recs, b.n, NULL, &first,
			    err);
		pthread_mutex_unlock(&corpus_mu);
		if (rc != RC_OK)
			goto out;
		crash_point("after-append");
		s->seq = first + b.n - 1;
		*moved = 1;
	}
	/* the tips now recorded are the mirror's */
	gitx_refs_free(s->refs.v, s->refs.n);
	s->refs.v = m;
	s->refs.n = s->refs.alloc = nm;
	m = NULL;
	nm = 0;
	free(s->seen);
	s->seen = NULL;
	s->nseen = s->aseen = 0;
out:
	for (k = 0; k < b.n; k++)
		json_free(b.recs[k]);
	free(b.recs);
	free(b.done);
	gitx_refs_free(m, nm);
	return rc;
}

struct announce {
	const char *name;
	size_t n;
};

static int
announce_rec(const struct mlog_rec *rec, void *arg)
{
	struct announce *a = arg;
	const char *repo, *branch, *commit;

	repo = json_str(json_get(rec->obj, "repo"), NULL);
	branch = json_str(json_get(rec->obj, "branch"), NULL);
	commit = json_str(json_get(rec->obj, "commit"), NULL);
	if (repo == NULL || strcmp(repo, a->name) != 0 || branch == NULL ||
	    commit == NULL)
		return 0;
	printf("%s %s %s\n", repo, branch, commit);
	a->n++;
	return 0;
}

/*
 * Print the repo's git records after s->printed, flush, then advance
 * s->printed (in memory: the caller saves the state).  *n gets the
 * number of lines printed.
 */
static int
announce(struct repo_conf *r, struct state *s, size_t *n, struct strbuf *err)
{
	struct announce a = { r->name, 0 };
	uint64_t last;
	int rc, ferr = 0;

	pthread_mutex_lock(&corpus_mu);
	rc = repo_records(r->name, s->printed, "git", announce_rec, &a, &last,
	    err);
	if (fflush(stdout) != 0 || ferror(stdout))
		ferr = errno;
	pthread_mutex_unlock(&corpus_mu);
	*n = a.n;
	if (ferr != 0) {
		strbuf_reset(err);
		strbuf_addf(err, "write stdout: %s", strerror(ferr));
		return RC_TEMP;
	}
	if (rc != RC_OK) {
		strbuf_addstr(err, " (printing new commits)");
		return rc;
	}
	crash_point("after-print");
	if (last > s->printed)
		s->printed = last;
	return RC_OK;
}

int
sync_dry(struct repo_conf *r)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;

	mirror_path(&path, r);
	printf("%s: fetch %s into %s%s\n", r->name, esc(r->upstream),
	    esc(path.buf), access(path.buf, F_OK) == 0 ? "" : " (clone)");
	for (i = 0; i < r->nbranch; i++)
		printf("%s: record new commits of %s\n", r->name,
		    esc(r->branch[i]));
	for (i = 0; i < r->npush; i++)
		printf("%s: push to %s%s\n", r->name, esc(r->push[i]),
		    r->mirror ? " (mirror)" : "");
	strbuf_release(&path);
	return RC_OK;
}

static void
set_error(struct status *st, const char *what)
{
	snprintf(st->error, sizeof(st->error), "%s", what);
}

int
sync_repo(struct repo_conf *r)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf msg = STRBUF_INIT;
	struct gitx_remote rm = { r->upstream, (int)r->timeout_s,
	    r->credentials, r->sshkey, r->knownhosts };
	struct gitx_repo *g = NULL;
	struct state s;
	size_t i, npushed, total = 0, nprinted = 0;
	long long now = (long long)time(NULL);
	int rc, frc, lockfd = -1, moved = 0, failed = 0, prc;

	state_path(&path, "", "");
	if (mkdirs(path.buf) < 0) {
		log_warn("%s: state directory '%s'", r->name, path.buf);
		strbuf_release(&path);
		return RC_TEMP;
	}
	strbuf_reset(&path);
	state_path(&path, r->name, ".lock");
	rc = lock_take(path.buf, LOCK_F_NB, 0, &lockfd, &err);
	if (rc == RC_NO) {
		log_info("%s: another sync holds the lock; skipped", r->name);
		strbuf_release(&path);
		strbuf_release(&err);
		return RC_NO;
	}
	if (rc != RC_OK) {
		log_warnx("%s: %s", r->name, err.buf);
		goto done0;
	}
	if ((rc = state_load(r->name, &s, &err)) != RC_OK) {
		log_warnx("%s: %s", r->name, err.buf);
		goto done1;
	}
	s.st.tried = now;
	strbuf_reset(&path);
	farm_place(&path, cx.dir, FARM_MIRROR);
	if (mkdirs(path.buf) < 0) {
		log_warn("%s: mirror directory '%s'", r->name, path.buf);
		rc = RC_TEMP;
		goto done;
	}
	strbuf_reset(&path);
	mirror_path(&path, r);
	pthread_rwlock_rdlock(&git_lk);
	rc = gitx_init_mirror(path.buf, &err);
	pthread_rwlock_unlock(&git_lk);
	if (rc != RC_OK) {
		log_warnx("%s: %s", r->name, err.buf);
		set_error(&s.st, err.buf);
		goto done;
	}
	log_info("%s: fetch %s", r->name, esc(r->upstream));
	strbuf_reset(&err);
	frc = gitx_fetch(path.buf, &rm, &err);
	if (frc != RC_OK) {
		strbuf_reset(&msg);
		strbuf_addf(&msg, "fetch %s: %s", r->upstream, err.buf);
		log_warnx("%s: %s", r->name, esc(msg.buf));
		set_error(&s.st, msg.buf);
		failed = frc;
	} else {
		s.st.fetched = (long long)time(NULL);
	}
	crash_point("after-fetch");
	/* even after a failed fetch: an earlier round may have fetched */
	strbuf_reset(&err);
	pthread_rwlock_rdlock(&git_lk);
	if ((rc = gitx_open(&g, path.buf, &err)) == RC_OK) {
		changes_expire(r, g);
		rc = record(r, g, &s, &moved, &err);
	}
	gitx_close(g);
	pthread_rwlock_unlock(&git_lk);
	if (rc != RC_OK) {
		strbuf_reset(&msg);
		strbuf_addf(&msg, "record: %s", err.buf);
		log_warnx("%s: %s", r->name, esc(msg.buf));
		set_error(&s.st, msg.buf);
		failed = rc_worse(failed ? failed : RC_OK, rc);
	}
	if (!cx.qflag) {
		strbuf_reset(&err);
		if ((rc = announce(r, &s, &nprinted, &err)) != RC_OK) {
			strbuf_reset(&msg);
			strbuf_addf(&msg, "print: %s", err.buf);
			log_warnx("%s: %s", r->name, esc(msg.buf));
			set_error(&s.st, msg.buf);
			failed = rc_worse(failed ? failed : RC_OK, rc);
		}
		/* the cursor now, not after the pushes: fewer repeats */
		strbuf_reset(&err);
		if (nprinted > 0 && state_save(r->name, &s, &err) != RC_OK)
			log_warnx("%s: %s", r->name, err.buf);
	}
	for (i = 0; frc == RC_OK && i < r->npush; i++) {
		struct gitx_remote pm = { r->push[i], (int)r->timeout_s,
		    r->credentials, r->sshkey, r->knownhosts };

		log_info("%s: push to %s", r->name, esc(r->push[i]));
		strbuf_reset(&err);
		npushed = 0;
		prc = gitx_push(path.buf, &pm, r->mirror,
		    PUSH_BATCH, &npushed, &err);
		total += npushed;
		if (prc != RC_OK) {
			strbuf_reset(&msg);
			strbuf_addf(&msg, "push %s: %s", r->push[i], err.buf);
			log_warnx("%s: %s", r->name, esc(msg.buf));
			set_error(&s.st, msg.buf);
			failed = rc_worse(failed ? failed : RC_OK, prc);
		}
	}
	if (frc == RC_OK && !failed) {
		s.st.synced = (long long)time(NULL);
		if (r->npush > 0)
			s.st.pushed = s.st.synced;
		s.st.error[0] = '\0';
	}
	if (total > 0)
		log_info("%s: pushed %zu refs", r->name, total);
	rc = failed ? failed : moved || total > 0 || nprinted > 0 ? RC_OK :
	    RC_NO;
done:
	strbuf_reset(&err);
	if (state_save(r->name, &s, &err) != RC_OK) {
		log_warnx("%s: %s", r->name, err.buf);
		rc = rc_worse(rc, RC_TEMP);
	}
	state_release(&s);
done1:
	lock_release(lockfd);
done0:
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&msg);
	return rc;
}

static void
fork_prepare(void)
{
	pthread_rwlock_wrlock(&git_lk);
}

static void
fork_done(void)
{
	pthread_rwlock_unlock(&git_lk);
}

static void
git_lk_init(void)
{
	pthread_rwlockattr_t a;

	/* a fork waiting for the lock goes before threads wanting it next */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&git_lk, &a);
	pthread_rwlockattr_destroy(&a);
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

struct pool {
	pthread_mutex_t mu;
	struct repo_conf **v;
	size_t n, next;
	int rc;
};

static void *
worker(void *arg)
{
	struct pool *p = arg;
	size_t i;
	int rc;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i == p->n)
			return NULL;
		rc = sync_repo(p->v[i]);
		pthread_mutex_lock(&p->mu);
		p->rc = rc_worse(p->rc, rc);
		pthread_mutex_unlock(&p->mu);
	}
}

int
sync_repos(struct repo_conf **v, size_t n, int jobs)
{
	struct pool p = { PTHREAD_MUTEX_INITIALIZER, v, n, 0, RC_NO };
	pthread_t *t;
	size_t nt = 0, i, want;
	int e;

	pthread_once(&git_lk_once, git_lk_init);
	want = jobs > 1 && n > 1 ? ((size_t)jobs < n ? (size_t)jobs : n) - 1 :
	    0;
	t = xcalloc(want + 1, sizeof(*t));
	for (i = 0; i < want; i++) {
		if ((e = pthread_create(&t[nt], NULL, worker, &p)) != 0) {
			/* fewer at once; the repos all still sync */
			log_warnx("pthread_create: %s", strerror(e));
			break;
		}
		nt++;
	}
	worker(&p);
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	free(t);
	pthread_mutex_destroy(&p.mu);
	return p.rc;
}
