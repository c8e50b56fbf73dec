/*
 * state.c: what pollgerrit remembers of a server, and how recording
 * stays exactly-once across crashes.
 *
 * state/pollgerrit/NAME.json holds the query cursor, the accounts seen,
 * the corpus seq the state reflects and the corpus position just past
 * that record: one JSON line.  The digests of the changes seen are in
 * NAME.changes/, split by change number: K.json holds changes
 * K*1000 to K*1000+999, a JSON line each, sorted by number.  Each digest
 * carries the seq of the last record applied to it.  A poll reads only
 * the files of the changes it sees (state_want), and writing the state
 * rewrites only the files whose changes changed; then it forgets them,
 * so that memory is bounded by what a poll sees, not by what was ever
 * seen.
 *
 * The corpus append and the state write cannot be one atomic step, so:
 *
 *   - records are appended (and fsynced) first, the state files are
 *     written after (atomic_write), the changes' files before NAME.json;
 *   - before deciding what is new, a writer takes the corpus lock and
 *     replays the gerrit records of its server with a seq above the
 *     state's ("catching up"), so a record whose state write was lost
 *     to a crash is neither lost nor written again; a record is applied
 *     to a digest only when its seq is above the digest's, so a digest
 *     written before the crash is not counted twice;
 *   - the corpus lock is held from catching up to appending, so no
 *     record of this server can slip in between;
 *   - the cursor is only in NAME.json: after a crash it is older than it
 *     could be, and the next query asks for more than needed, which the
 *     digests then find to be no news.
 *
 * A state file of version 2 (all changes in NAME.json) is read and
 * written back in this form.
 *
 * NAME.lock serialises pollgerrit processes working for one server.
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "json.h"
#include "lock.h"
#include "farm.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define STATE_VERSION	3
#define MAX_STATE	((size_t)1 << 30)
#define BUCKET_SPAN	1000	/* change numbers per file */

int
state_lock(struct server *s, int wait_ms, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (s->lockfd >= 0)
		return RC_OK;
	farm_placef(&path, cx.dir, FARM_STATE, "pollgerrit/%s.lock",
	    s->name);
	rc = lock_take(path.buf, wait_ms == 0 ? LOCK_F_NB : 0, wait_ms,
	    &s->lockfd, err);
	if (rc == RC_NO)
		strbuf_addf(err, "gerrit '%s': another pollgerrit is working "
		    "on it (lock '%s')", s->name, path.buf);
	else if (rc != RC_OK)
		strbuf_addf(err, " (gerrit '%s')", s->name);
	strbuf_release(&path);
	return rc;
}

void
state_unlock(struct server *s)
{
	lock_release(s->lockfd);
	s->lockfd = -1;
}

static void
learn_change(struct state *st, const struct change *c)
{
	size_t i;

	accounts_learn(&st->acc, &c->owner);
	for (i = 0; i < c->nvotes; i++)
		accounts_learn(&st->acc, &c->votes[i].who);
}

/* The first line: everything but the changes. */
static int
parse_header(struct server *s, struct state *st, const char *buf, size_t len,
    struct strbuf *err)
{
	struct json *j, *v;
	const char *url;
	size_t i;
	int64_t n, seg, off;
	int rc = RC_PERM;

	if ((j = json_parse(buf, len, err)) == NULL)
		return RC_PERM;
	if (!json_get_int(json_get(j, "version"), &n) ||
	    (n != STATE_VERSION && n != 2)) {
		strbuf_addf(err, "not version %d", STATE_VERSION);
		goto out;
	}
	url = json_str(json_get(j, "server"), NULL);
	if (url == NULL || strcmp(url, s->url) != 0) {
		strbuf_addf(err, "it is the state of '%s', not of '%s' (move "
		    "it away to start afresh)", url ? esc(url) : "?", s->url);
		goto out;
	}
	if (!json_get_int(json_get(j, "seq"), &n) || n < 0) {
		strbuf_addstr(err, "no \"seq\"");
		goto out;
	}
	st->seq = (uint64_t)n;
	if ((v = json_get(j, "cursor")) != NULL && json_str(v, NULL) != NULL)
		st->cursor = xstrdup(json_str(v, NULL));
	v = json_get(j, "corpus");
	if (json_get_int(json_get(v, "segment"), &seg) &&
	    json_get_int(json_get(v, "offset"), &off) && seg >= 0 &&
	    seg <= 99999999 && off >= 0) {
		st->hint.seg = (unsigned)seg;
		st->hint.off = (off_t)off;
		st->hint_ok = 1;
	}
	v = json_get(j, "accounts");
	for (i = 0; i < json_array_len(v); i++) {
		struct json *a = json_array_at(v, i);
		struct account acc;

		memset(&acc, 0, sizeof(acc));
		if (!json_get_int(json_get(a, "account_id"), &acc.id))
			continue;
		acc.name = (char *)json_str(json_get(a, "name"), NULL);
		acc.email = (char *)json_str(json_get(a, "email"), NULL);
		acc.username = (char *)json_str(json_get(a, "username"), NULL);
		accounts_learn(&st->acc, &acc);
	}
	rc = RC_OK;
out:
	json_free(j);
	return rc;
}

static int64_t
bucket_of(int64_t number)
{
	return number / BUCKET_SPAN;
}

static struct bucket *
bucket_find(const struct state *st, int64_t id)
{
	size_t i;

	for (i = 0; i < st->nbk; i++)
		if (st->bk[i].id == id)
			return &st->bk[i];
	return NULL;
}

static struct bucket *
bucket_add(struct state *st, int64_t id)
{
	GROW(st->bk, st->nbk + 1, st->abk);
	st->bk[st->nbk].id = id;
	st->bk[st->nbk].dirty = 0;
	return &st->bk[st->nbk++];
}

/*
 * Digests, a JSON line each, into the table; each keeps its line, so
 * that writing it again costs nothing unless it changed.  Digests
 * already in the table win: they are newer.  A version 2 state file
 * marks the buckets it fills dirty, to be written in the new form.
 */
static int
parse_changes(struct state *st, char *p, char *end, size_t lineno,
    int migrate, struct strbuf *err)
{
	char *nl;

	for (; p < end; p = nl + 1) {
		struct change *c;
		struct json *j;
		int64_t id;

		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			strbuf_addf(err, "line %zu: no newline", lineno);
			return RC_PERM;
		}
		if ((j = json_parse(p, (size_t)(nl - p), err)) == NULL ||
		    change_from_json(j, &c, err) != RC_OK) {
			json_free(j);
			strbuf_addf(err, " (line %zu)", lineno);
			return RC_PERM;
		}
		json_free(j);
		if (changes_get(&st->ch, c->number) != NULL) {
			change_free(c);
			continue;
		}
		id = bucket_of(c->number);
		if (migrate) {
			if (bucket_find(st, id) == NULL)
				bucket_add(st, id)->dirty = 1;
			st->dirty = 1;
		} else
			c->line = xmemdupz(p, (size_t)(nl - p));
		learn_change(st, c);
		changes_put(&st->ch, c);
	}
	return RC_OK;
}

/* NAME.json: the header, and in version 2 every change after it. */
static int
parse_state(struct server *s, struct state *st, char *buf, size_t len,
    struct strbuf *err)
{
	char *nl;
	int rc;

	nl = memchr(buf, '\n', len);
	if (nl == NULL) {
		strbuf_addstr(err, "no header line");
		return RC_PERM;
	}
	if ((rc = parse_header(s, st, buf, (size_t)(nl - buf), err)) != RC_OK)
		return rc;
	return parse_changes(st, nl + 1, buf + len, 1, 1, err);
}

static void
state_release(struct state *st)
{
	changes_free(&st->ch);
	accounts_free(&st->acc);
	free(st->cursor);
	free(st->bk);
	if (st->bfd >= 0)
		close(st->bfd);
	free(st);
}

int
state_load(struct server *s, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	struct state *st;
	int fd, rc = RC_OK;

	if (s->st != NULL)
		return RC_OK;
	st = xcalloc(1, sizeof(*st));
	st->bfd = -1;
	strbuf_addf(&name, "%s.json", s->name);
	fd = openat(cx.statefd, name.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		strbuf_addf(err, "open state 'state/pollgerrit/%s': %s",
		    name.buf, strerror(errno));
		rc = RC_TEMP;
	} else if (fd < 0) {
		/* a first run: nothing recorded yet, polling from "since" */
		if (s->since != NULL)
			st->cursor = xstrdup(s->since);
	} else if (strbuf_read_fd(&buf, fd, MAX_STATE) < 0) {
		strbuf_addf(err, "read state 'state/pollgerrit/%s': %s",
		    name.buf, strerror(errno));
		rc = errno == EFBIG ? RC_PERM : RC_TEMP;
	} else if ((rc = parse_state(s, st, buf.buf, buf.len, &e)) != RC_OK)
		strbuf_addf(err, "state 'state/pollgerrit/%s': %s", name.buf,
		    e.buf);
	if (fd >= 0)
		close(fd);
	if (rc == RC_OK)
		s->st = st;
	else
		state_release(st);
	strbuf_release(&name);
	strbuf_release(&buf);
	strbuf_release(&e);
	return rc;
}

/* Open NAME.changes/ (creating it when create is set); RC_NO: none. */
static int
bucket_dir(struct server *s, int create, struct strbuf *err)
{
	struct state *st = s->st;
	struct strbuf name = STRBUF_INIT;
	int rc = RC_OK;

	if (st->bfd >= 0)
		return RC_OK;
	strbuf_addf(&name, "%s.changes", s->name);
	if (create) {
		if (mkdirat(cx.statefd, name.buf, 0755) == 0) {
			if (fsync_dir(cx.statefd) < 0) {
				strbuf_addf(err, "fsync 'state/pollgerrit': "
				    "%s", strerror(errno));
				rc = RC_TEMP;
			}
		} else if (errno != EEXIST) {
			strbuf_addf(err, "mkdir 'state/pollgerrit/%s': %s",
			    name.buf, strerror(errno));
			rc = RC_TEMP;
		}
	}
	if (rc == RC_OK && (st->bfd = openat(cx.statefd, name.buf,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && !create)
			rc = RC_NO;
		else {
			strbuf_addf(err, "open 'state/pollgerrit/%s': %s",
			    name.buf, strerror(errno));
			rc = RC_TEMP;
		}
	}
	strbuf_release(&name);
	return rc;
}

/*
 * Load the digests of the file that holds change number, unless they
 * are loaded: changes_get then finds the change if it was ever seen.
 */
int
state_want(struct server *s, int64_t number, struct strbuf *err)
{
	struct state *st = s->st;
	struct strbuf name = STRBUF_INIT, buf = STRBUF_INIT, e = STRBUF_INIT;
	int64_t id = bucket_of(number);
	int fd = -1, rc;

	if (bucket_find(st, id) != NULL)
		return RC_OK;
	if ((rc = bucket_dir(s, 0, err)) == RC_NO) {
		bucket_add(st, id);
		return RC_OK;
	}
	if (rc != RC_OK)
		return rc;
	strbuf_addf(&name, "%lld.json", (long long)id);
	fd = openat(st->bfd, name.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		strbuf_addf(err, "open state 'state/pollgerrit/%s.changes/%s': "
		    "%s", s->name, name.buf, strerror(errno));
		rc = RC_TEMP;
	} else if (fd >= 0 && strbuf_read_fd(&buf, fd, MAX_STATE) < 0) {
		strbuf_addf(err, "read state 'state/pollgerrit/%s.changes/%s': "
		    "%s", s->name, name.buf, strerror(errno));
		rc = errno == EFBIG ? RC_PERM : RC_TEMP;
	} else if ((rc = parse_changes(st, buf.buf, buf.buf + buf.len, 0, 0,
	    &e)) != RC_OK)
		strbuf_addf(err, "state 'state/pollgerrit/%s.changes/%s': %s",
		    s->name, name.buf, e.buf);
	if (fd >= 0)
		close(fd);
	if (rc == RC_OK)
		bucket_add(st, id);
	strbuf_release(&name);
	strbuf_release(&buf);
	strbuf_release(&e);
	return rc;
}

/* Replace the digest of c's change (state_want has loaded its file). */
void
state_put(struct server *s, struct change *c)
{
	struct state *st = s->st;
	struct bucket *b = bucket_find(st, bucket_of(c->number));

	if (b == NULL) {
		/* a digest written without its neighbours would lose them */
		log_warnx("change %lld stored without state_want",
		    (long long)c->number);
		abort();
	}
	free(c->line);
	c->line = NULL;
	changes_put(&st->ch, c);
	b->dirty = 1;
	st->dirty = 1;
}

static int
cmp_number(const void *a, const void *b)
{
	const struct change *x = *(struct change *const *)a;
	const struct change *y = *(struct change *const *)b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct account *x = *(struct account *const *)a;
	const struct account *y = *(struct account *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Write the files of the dirty buckets; cv[0..n) sorted by number. */
static int
save_buckets(struct server *s, struct change **cv, size_t n,
    struct strbuf *err)
{
	struct state *st = s->st;
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT;
	size_t i, k;
	int rc = RC_OK;

	for (i = 0; i < n && rc == RC_OK; i = k) {
		int64_t id = bucket_of(cv[i]->number);
		struct bucket *b = bucket_find(st, id);

		for (k = i; k < n && bucket_of(cv[k]->number) == id; k++)
			;
		if (b == NULL || !b->dirty)
			continue;
		if ((rc = bucket_dir(s, 1, err)) != RC_OK)
			break;
		strbuf_reset(&out);
		for (; i < k; i++) {
			if (cv[i]->line == NULL) {
				struct strbuf l = STRBUF_INIT;
				struct json *j = change_json(cv[i], 1);

				json_dump(&l, j);
				json_free(j);
				cv[i]->line = strbuf_detach(&l, NULL);
			}
			strbuf_addstr(&out, cv[i]->line);
			strbuf_addch(&out, '\n');
		}
		strbuf_reset(&name);
		strbuf_addf(&name, "%lld.json", (long long)id);
		if (atomic_write(st->bfd, name.buf, out.buf, out.len, 0644,
		    err) < 0) {
			strbuf_addf(err, " (state of gerrit '%s')", s->name);
			rc = RC_TEMP;
		} else
			b->dirty = 0;
	}
	strbuf_release(&out);
	strbuf_release(&name);
	return rc;
}

/*
 * Write what changed, the changes' files first, then forget the
 * digests: the next state_want reads them again.
 */
int
state_save(struct server *s, struct strbuf *err)
{
	struct state *st = s->st;
	struct json *j, *arr, *pos;
	struct strbuf out = STRBUF_INIT, name = STRBUF_INIT;
	struct change **cv;
	struct account **av;
	size_t i, n;
	int rc = RC_OK;

	if (st == NULL)
		return RC_OK;
	if (!st->dirty)
		goto forget;
	cv = xcalloc(st->ch.n + 1, sizeof(*cv));
	for (i = n = 0; i < st->ch.cap; i++)
		if (st->ch.slot[i] != NULL)
			cv[n++] = st->ch.slot[i];
	qsort(cv, n, sizeof(*cv), cmp_number);
	rc = save_buckets(s, cv, n, err);
	free(cv);
	if (rc != RC_OK)
		return rc;
	crash_point("after-changes");

	j = json_new_object();
	json_set_int(j, "version", STATE_VERSION);
	json_set_str(j, "server", s->url);
	json_set_int(j, "seq", (int64_t)st->seq);
	if (st->cursor != NULL)
		json_set_str(j, "cursor", st->cursor);
	if (st->ccur_ok) {
		pos = json_new_object();
		json_set_int(pos, "segment", st->ccur.seg);
		json_set_int(pos, "offset", (int64_t)st->ccur.off);
		json_set(j, "corpus", pos);
	}
	/* sorted, so that the file is the same for the same state */
	av = xcalloc(st->acc.n + 1, sizeof(*av));
	for (i = n = 0; i < st->acc.cap; i++)
		if (st->acc.slot[i] != NULL)
			av[n++] = st->acc.slot[i];
	qsort(av, n, sizeof(*av), cmp_id);
	arr = json_new_array();
	for (i = 0; i < n; i++) {
		struct json *a = account_json(av[i]);

		if (av[i]->username != NULL)
			json_set_str(a, "username", av[i]->username);
		json_append(arr, a);
	}
	json_set(j, "accounts", arr);
	free(av);
	json_dump(&out, j);
	strbuf_addch(&out, '\n');
	json_free(j);
	strbuf_addf(&name, "%s.json", s->name);
	if (atomic_write(cx.statefd, name.buf, out.buf, out.len, 0644,
	    err) < 0) {
		strbuf_addf(err, " (state of gerrit '%s')", s->name);
		rc = RC_TEMP;
	} else
		st->dirty = 0;
	strbuf_release(&out);
	strbuf_release(&name);
	if (rc != RC_OK)
		return rc;
forget:
	changes_free(&st->ch);
	st->nbk = 0;
	return RC_OK;
}

void
state_free(struct server *s)
{
	if (s->st == NULL)
		return;
	state_release(s->st);
	s->st = NULL;
}

/* Catching up: the records of one chunk of corpus lines. */
struct catchup {
	struct server *s;
	int64_t *touched;
	size_t ntouched, atouched;
	struct strbuf *err;
	int rc;
};

static void
touch(struct catchup *a, int64_t number)
{
	size_t i;

	for (i = 0; i < a->ntouched; i++)
		if (a->touched[i] == number)
			return;
	GROW(a->touched, a->ntouched + 1, a->atouched);
	a->touched[a->ntouched++] = number;
}

/* Replay one gerrit record of our server onto the digests. */
static int
replay(struct catchup *a, const struct json *rec, uint64_t seq)
{
	struct state *st = a->s->st;
	struct strbuf e = STRBUF_INIT;
	struct change *c, *old;
	struct json *msgs;
	size_t i;

	if (change_from_json(rec, &c, &e) != RC_OK) {
		/* someone else's mistake must not stop us; say so */
		log_warnx("corpus: unreadable gerrit record: %s; skipped",
		    e.buf);
		strbuf_release(&e);
		return 0;
	}
	c->seq = (int64_t)seq;
	if ((a->rc = state_want(a->s, c->number, a->err)) != RC_OK) {
		change_free(c);
		return -1;
	}
	old = changes_get(&st->ch, c->number);
	if (old != NULL && old->seq >= c->seq) {
		/* its digest was written before the state file */
		touch(a, c->number);
		change_free(c);
		return 0;
	}
	msgs = json_get(rec, "messages");
	c->nmsgs = (old != NULL ? old->nmsgs : 0) +
	    (int64_t)json_array_len(msgs);
	if (old != NULL && old->updated != NULL)
		c->updated = xstrdup(old->updated);
	learn_change(st, c);
	for (i = 0; i < json_array_len(msgs); i++) {
		struct json *au = json_get(json_array_at(msgs, i), "author");
		struct account acc;

		memset(&acc, 0, sizeof(acc));
		if (json_get_int(json_get(au, "account_id"), &acc.id)) {
			acc.name = (char *)json_str(json_get(au, "name"), NULL);
			acc.email = (char *)json_str(json_get(au, "email"),
			    NULL);
			accounts_learn(&st->acc, &acc);
		}
	}
	touch(a, c->number);
	state_put(a->s, c);
	strbuf_release(&e);
	return 0;
}

static int
catchup_rec(const struct mlog_rec *r, void *arg)
{
	struct catchup *a = arg;
	const char *srv = json_str(json_get(r->obj, "server"), NULL);

	if (srv != NULL && strcmp(srv, a->s->url) == 0 &&
	    replay(a, r->obj, r->seq) < 0)
		return -1;
	return 0;
}

/*
 * Does the state file's corpus position still point just past the
 * record with its seq?  Then catching up can start there, instead of
 * seeking by seq through a segment.
 */
static int
hint_holds(const struct state *st)
{
	struct strbuf e = STRBUF_INIT;
	size_t want = 4096;
	char *buf = NULL;
	off_t len;
	long i;
	int fd = -1, ok = 0;

	if ((i = mlog_find(cx.corpus, st->hint.seg)) < 0 ||
	    mlog_seg_readable(cx.corpus, (size_t)i, &fd, &len, &e) != RC_OK)
		goto out;
	if (st->hint.off > len || (st->hint.off == 0 && st->seq > 0))
		goto out;
	if (st->hint.off == 0) {
		ok = 1;
		goto out;
	}
	/* the line that ends at the position, read back in growing steps */
	for (;;) {
		size_t n = (off_t)want < st->hint.off ? want :
		    (size_t)st->hint.off;
		char *nl;

		buf = xrealloc(buf, n);
		if (pread_all(fd, buf, n, st->hint.off - (off_t)n) !=
		    (ssize_t)n || buf[n - 1] != '\n')
			goto out;
		nl = n > 1 ? memrchr(buf, '\n', n - 1) : NULL;
		if (nl != NULL || (off_t)n == st->hint.off) {
			const char *l = nl != NULL ? nl + 1 : buf;

			ok = mlog_line_seq(l, (size_t)(buf + n - 1 - l)) ==
			    st->seq;
			goto out;
		}
		if (want > MLOG_MAX_STORED)
			goto out;
		want *= 4;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	strbuf_release(&e);
	return ok;
}

/*
 * Take the corpus lock and catch up.  *touched gets the numbers of the
 * changes that records written by others (or before a crash) changed;
 * the caller frees it.  On success the lock is held until
 * state_record_end.
 */
int
state_record_begin(struct server *s, int64_t **touched, size_t *ntouched,
    struct strbuf *err)
{
	struct state *st = s->st;
	struct strbuf lit = STRBUF_INIT;
	struct mlog_sel sel = { NULL, NULL, 0, 0 };
	struct catchup a;
	int rc;

	*touched = NULL;
	*ntouched = 0;
	if ((rc = mlog_lock(cx.corpus, LOCK_WAIT_MS, err)) != RC_OK)
		return rc;
	if (!st->ccur_ok && st->hint_ok && hint_holds(st)) {
		st->ccur = st->hint;
		st->ccur_ok = 1;
	}
	st->hint_ok = 0;
	if (!st->ccur_ok) {
		rc = mlog_seek_seq(cx.corpus, st->seq + 1, &st->ccur, err);
		if (rc != RC_OK)
			goto fail;
		st->ccur_ok = 1;
	}
	memset(&a, 0, sizeof(a));
	a.s = s;
	a.err = err;
	/* the records of our server, as canonical JSON spells them */
	strbuf_addstr(&lit, "\"server\":");
	json_quote(&lit, s->url, strlen(s->url));
	sel.type = "gerrit";
	sel.lit = lit.buf;
	sel.after = st->seq;
	rc = mlog_each(cx.corpus, &st->ccur, &sel, catchup_rec, &a, err);
	strbuf_release(&lit);
	if (rc == -1)
		rc = a.rc;
	if (rc != RC_OK) {
		free(a.touched);
		st->ccur_ok = 0;
		goto fail;
	}
	if (sel.last > st->seq) {
		st->seq = sel.last;
		st->dirty = 1;
	}
	if (a.ntouched > 0)
		log_info("gerrit '%s': caught up with %zu change%s recorded "
		    "in the corpus", s->name, a.ntouched,
		    a.ntouched == 1 ? "" : "s");
	*touched = a.touched;
	*ntouched = a.ntouched;
	return RC_OK;
fail:
	mlog_unlock(cx.corpus);
	return rc;
}

static int
keep_lines(const char *buf, size_t len, void *arg)
{
	if (arg != NULL)
		strbuf_add(arg, buf, len);
	return 0;
}

/*
 * Append n records.  The read position moves past them; stored (when
 * not NULL) gets them as they were written, seq and time included.
 */
int
state_record(struct server *s, struct json **recs, size_t n,
    struct strbuf *stored, struct strbuf *err)
{
	struct state *st = s->st;
	uint64_t first;
	int rc;

	if (n == 0)
		return RC_OK;
	rc = mlog_write(cx.corpus, recs, n, "gerrit", &first, err);
	if (rc != RC_OK)
		return rc;
	st->seq = first + n - 1;
	st->dirty = 1;
	/*
	 * We hold the lock and had read to the end: what follows our read
	 * position is exactly our records.
	 */
	if (mlog_scan(cx.corpus, err) != RC_OK ||
	    mlog_read(cx.corpus, &st->ccur, keep_lines, stored, err) !=
	    RC_OK) {
		/* the records are safe; the next catch-up seeks by seq */
		log_warnx("%s", err->buf);
		strbuf_reset(err);
		st->ccur_ok = 0;
	}
	return RC_OK;
}

void
state_record_end(struct server *s)
{
	(void)s;
	mlog_unlock(cx.corpus);
}
