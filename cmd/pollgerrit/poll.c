/*
 * poll.c: one poll round for one server, and the watch loop.
 *
 * A round does all its network work first and all its disk work after:
 *
 *   1. take the server's lock (without waiting: busy means someone is
 *      polling it right now, which is as good as us doing it);
 *   2. query the changes updated since the cursor minus the overlap,
 *      every page, and the TryBot query; any failure ends the round
 *      here, with nothing written and the cursor where it was;
 *   3. under the corpus lock: catch up, then compare each change with
 *      its digest and append one record per change that really changed,
 *      oldest update first, in one batch;
 *   4. print the records, queue the try work, write the state file.
 *
 * A crash between any two steps repeats work on the next round and the
 * digests (caught up from the corpus) make the repeat no news.
 *
 * A query that finds many changes (a first poll) is not held in memory
 * whole: every FLUSH_AT changes, steps 3 and 4 run for those fetched so
 * far (less the try work), keeping the cursor where it was; a failure
 * later in the round keeps what they recorded.
 */
#include "compat.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "extern.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "sig.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define TRY_QUERY	"label:Run-TryBot=1 label:TryBot-Result=0 status:open"
#define MAX_BACKOFF_MS	300000LL
#define FLUSH_AT	1000

struct pending {
	struct change *c;
	struct json *msgs;	/* every message, record form */
};

struct fetch {
	struct server *s;
	struct pending *p;
	size_t n, alloc;
	size_t skipped;
	size_t seen;		/* changes fetched, flushed ones included */
	char *newest;		/* the latest update time fetched */
	int flush;		/* record every FLUSH_AT changes */
	int *news;
	struct strbuf *err;
};

static int record(struct server *s, struct fetch *f, struct fetch *t,
    int last, int *news, struct strbuf *err);
static void dedupe(struct fetch *f);

static void
fetch_free(struct fetch *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		change_free(f->p[i].c);
		json_free(f->p[i].msgs);
	}
	free(f->p);
	f->p = NULL;
	f->n = f->alloc = 0;
}

/* Record what was fetched so far, write the state and forget it. */
static int
flush(struct fetch *f)
{
	int rc;

	dedupe(f);
	if ((rc = record(f->s, f, NULL, 0, f->news, f->err)) == RC_OK)
		rc = state_save(f->s, f->err);
	fetch_free(f);
	return rc;
}

static int
collect(struct json *ci, void *arg)
{
	struct fetch *f = arg;
	struct strbuf e = STRBUF_INIT;
	struct change *c;
	struct json *msgs;
	int rc;

	rc = change_from_info(ci, &c, &msgs, &e);
	if (rc == RC_NO) {
		log_warnx("gerrit '%s': %s; skipped", f->s->name, e.buf);
		f->skipped++;
		rc = RC_OK;
	} else if (rc != RC_OK)
		strbuf_addf(f->err, "gerrit '%s': malformed change: %s",
		    f->s->name, e.buf);
	else {
		GROW(f->p, f->n + 1, f->alloc);
		f->p[f->n].c = c;
		f->p[f->n].msgs = msgs;
		f->n++;
		f->seen++;
		if (f->newest == NULL || gtime_cmp(c->updated, f->newest) > 0) {
			free(f->newest);
			f->newest = xstrdup(c->updated);
		}
		if (f->flush && f->n >= FLUSH_AT)
			rc = flush(f);
	}
	strbuf_release(&e);
	return rc;
}

/* Only characters that need no quoting in a Gerrit query. */
static void
add_project(struct strbuf *q, const char *p)
{
	size_t n = strlen(p);

	if (strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._/-") == n)
		strbuf_addf(q, "project:%s", p);
	else
		strbuf_addf(q, "project:\"%s\"", p);
}

static void
add_projects(struct strbuf *q, const struct server *s)
{
	size_t i;

	if (s->nprojects == 0)
		return;
	strbuf_addstr(q, s->nprojects > 1 ? " (" : " ");
	for (i = 0; i < s->nprojects; i++) {
		if (i > 0)
			strbuf_addstr(q, " OR ");
		add_project(q, s->projects[i]);
	}
	if (s->nprojects > 1)
		strbuf_addch(q, ')');
}

/* after:"cursor - overlap", in seconds (after: is inclusive). */
static void
changes_query(const struct server *s, struct strbuf *q)
{
	const char *cur = s->st->cursor;
	int64_t secs = 0;
	long ns;
	struct tm tm;
	time_t t;

	if (cur != NULL && gtime_parse(cur, &secs, &ns) == 0)
		secs -= s->overlap;
	if (secs < 0)
		secs = 0;
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	strbuf_addf(q, "after:\"%04d-%02d-%02d %02d:%02d:%02d\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	add_projects(q, s);
}

static int
cmp_pending(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	int r = gtime_cmp(x->c->updated, y->c->updated);

	if (r != 0)
		return r;
	return x->c->number < y->c->number ? -1 : x->c->number > y->c->number;
}

static int
cmp_number_updated(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->c->number != y->c->number)
		return x->c->number < y->c->number ? -1 : 1;
	return gtime_cmp(x->c->updated, y->c->updated);
}

/*
 * One entry per change, the latest view (pages can overlap when a
 * change is updated while we page), sorted by update time.
 */
static void
dedupe(struct fetch *f)
{
	size_t i, j;

	if (f->n > 1)	/* f->p is NULL when nothing came */
		qsort(f->p, f->n, sizeof(*f->p), cmp_number_updated);
	for (i = j = 0; i < f->n; i++) {
		if (i + 1 < f->n &&
		    f->p[i + 1].c->number == f->p[i].c->number) {
			change_free(f->p[i].c);
			json_free(f->p[i].msgs);
			continue;
		}
		f->p[j++] = f->p[i];
	}
	f->n = j;
	if (f->n > 1)
		qsort(f->p, f->n, sizeof(*f->p), cmp_pending);
}

/* One line per record: as stored with -j, else the text form. */
void
print_records(const struct server *s, struct json **recs, size_t n,
    const struct strbuf *stored)
{
	struct strbuf ev = STRBUF_INIT;
	size_t i, k;

	if (cx.jflag) {
		fwrite(stored->buf, 1, stored->len, stdout);
		return;
	}
	for (k = 0; k < n; k++) {
		const struct json *rec = recs[k];
		struct json *e = json_get(rec, "event");

		strbuf_reset(&ev);
		for (i = 0; i < json_array_len(e); i++) {
			if (i > 0)
				strbuf_addch(&ev, ',');
			strbuf_addstr(&ev, json_str(json_array_at(e, i), NULL));
		}
		printf("%s %s %lld %lld %s %s %s\n", ev.buf, s->name,
		    (long long)json_int(json_get(rec, "change")),
		    (long long)json_int(json_get(rec, "patchset")),
		    esc(json_str(json_get(rec, "project"), NULL)),
		    esc(json_str(json_get(rec, "branch"), NULL)),
		    esc(json_str(json_get(rec, "status"), NULL)));
	}
	strbuf_release(&ev);
}

int
print_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("write stdout");
		return RC_TEMP;
	}
	return RC_OK;
}

/* The messages of p that are new against old, as a new array. */
static struct json *
new_messages(const struct change *old, const struct pending *p)
{
	struct json *out = json_new_array();
	size_t i = old != NULL ? (size_t)old->nmsgs : 0;

	for (; i < json_array_len(p->msgs); i++)
		json_append(out, json_ref(json_array_at(p->msgs, i)));
	return out;
}

static void
learn_messages(struct state *st, const struct json *msgs)
{
	size_t i;

	for (i = 0; i < json_array_len(msgs); i++) {
		struct json *au = json_get(json_array_at(msgs, i), "author");
		struct account a;

		memset(&a, 0, sizeof(a));
		if (!json_get_int(json_get(au, "account_id"), &a.id))
			continue;
		a.name = (char *)json_str(json_get(au, "name"), NULL);
		a.email = (char *)json_str(json_get(au, "email"), NULL);
		if (accounts_learn(&st->acc, &a))
			st->dirty = 1;
	}
}

/*
 * Steps 3 and 4 of a round, for the changes of f; the last of a round
 * also moves the cursor and does the try work of t.
 */
static int
record(struct server *s, struct fetch *f, struct fetch *t, int last,
    int *news, struct strbuf *err)
{
	struct state *st = s->st;
	struct json **recs = NULL;
	struct strbuf stored = STRBUF_INIT;
	int64_t *touched = NULL;
	size_t *from = NULL;
	size_t nrecs = 0, arecs = 0, afrom = 0, ntouched = 0, i, nev;
	const char *ev[8];
	int rc;

	if ((rc = state_record_begin(s, &touched, &ntouched, err)) != RC_OK)
		return rc;
	for (i = 0; i < f->n; i++) {
		struct pending *p = &f->p[i];
		const struct change *old;

		if ((rc = state_want(s, p->c->number, err)) != RC_OK) {
			state_record_end(s);
			goto out;
		}
		old = changes_get(&st->ch, p->c->number);
		/* messages Gerrit no longer shows are not news either */
		if (old != NULL && p->c->nmsgs < old->nmsgs)
			p->c->nmsgs = old->nmsgs;
		if ((nev = change_diff(old, p->c, ev)) == 0) {
			p->c->seq = old->seq;
			continue;
		}
		GROW(recs, nrecs + 1, arecs);
		GROW(from, nrecs + 1, afrom);
		from[nrecs] = i;
		recs[nrecs++] = change_record(s, p->c, ev, nev,
		    new_messages(old, p));
	}
	rc = state_record(s, recs, nrecs, &stored, err);
	state_record_end(s);
	if (rc != RC_OK)
		goto out;
	if (nrecs > 0)
		crash_point("after-append");
	for (i = 0; i < nrecs; i++)
		f->p[from[i]].c->seq = (int64_t)(st->seq - nrecs + 1 + i);

	/* the records are durable: the digests and the cursor may move */
	for (i = 0; i < f->n; i++) {
		struct pending *p = &f->p[i];
		const struct change *c = p->c, *old;
		size_t k;

		if (accounts_learn(&st->acc, &c->owner))
			st->dirty = 1;
		for (k = 0; k < c->nvotes; k++)
			if (accounts_learn(&st->acc, &c->votes[k].who))
				st->dirty = 1;
		learn_messages(st, p->msgs);
		old = changes_get(&st->ch, c->number);
		if (old != NULL && change_same(old, c))
			continue;	/* re-read through the overlap */
		state_put(s, p->c);
		p->c = NULL;
	}
	if (last && f->newest != NULL && (st->cursor == NULL ||
	    gtime_cmp(f->newest, st->cursor) > 0)) {
		free(st->cursor);
		st->cursor = xstrdup(f->newest);
		st->dirty = 1;
	}
	print_records(s, recs, nrecs, &stored);
	*news += (int)nrecs;
	if ((rc = print_flush()) != RC_OK)
		goto out;

	/* try work: what the query found, and what caught-up records ask */
	for (i = 0; t != NULL && i < t->n; i++) {
		rc = try_queue(s, t->p[i].c, err);
		if (rc == RC_OK)
			(*news)++;
		else if (rc != RC_NO)
			goto out;
	}
	rc = try_caught_up(s, touched, ntouched, err);
	if (rc == RC_OK)
		(*news)++;
	else if (rc != RC_NO)
		goto out;
	rc = print_flush();
	if (last)
		crash_point("after-spool");
out:
	for (i = 0; i < nrecs; i++)
		json_free(recs[i]);
	free(recs);
	free(from);
	free(touched);
	strbuf_release(&stored);
	return rc;
}

/* Try work only: the fast path of watch. */
static int
queue_only(struct server *s, struct fetch *t, int *news, struct strbuf *err)
{
	size_t i;
	int rc;

	for (i = 0; i < t->n; i++) {
		rc = try_queue(s, t->p[i].c, err);
		if (rc == RC_OK)
			(*news)++;
		else if (rc != RC_NO)
			return rc;
	}
	return print_flush();
}

/*
 * One round.  RC_OK something new, RC_NO nothing (or the server is
 * being polled by someone else), RC_PERM / RC_TEMP with a message
 * printed.
 */
int
poll_round(struct server *s, int what, int lock_wait_ms)
{
	struct strbuf err = STRBUF_INIT, q = STRBUF_INIT;
	struct fetch f, t;
	long long t0 = mono_ms();
	unsigned long req0 = s->nreq;
	int rc, news = 0;

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.s = t.s = s;
	f.err = t.err = &err;
	f.news = t.news = &news;
	f.flush = 1;
	if ((rc = state_lock(s, lock_wait_ms, &err)) != RC_OK) {
		if (rc == RC_NO)
			log_info("%s", err.buf);
		else
			log_warnx("%s", err.buf);
		strbuf_release(&err);
		return rc;
	}
	if ((rc = state_load(s, &err)) != RC_OK)
		goto out;

	if (what & POLL_CHANGES) {
		changes_query(s, &q);
		log_debug("gerrit '%s': query '%s'", s->name, q.buf);
		rc = gerrit_query(s, q.buf, Q_DETAIL, collect, &f, &err);
		if (rc != RC_OK)
			goto out;
		dedupe(&f);
	}
	if (what & POLL_TRY) {
		strbuf_reset(&q);
		strbuf_addstr(&q, TRY_QUERY);
		add_projects(&q, s);
		rc = gerrit_query(s, q.buf, Q_REVISION, collect, &t, &err);
		if (rc != RC_OK)
			goto out;
	}
	crash_point("after-fetch");

	if (what & POLL_CHANGES)
		rc = record(s, &f, &t, 1, &news, &err);
	else
		rc = queue_only(s, &t, &news, &err);
	if (rc != RC_OK)
		goto out;
	rc = state_save(s, &err);
	if (what & POLL_CHANGES)
		log_info("gerrit '%s': %zu change%s, %d new, %lu request%s, "
		    "%lld ms", s->name, f.seen, f.seen == 1 ? "" : "s", news,
		    s->nreq - req0, s->nreq - req0 == 1 ? "" : "s",
		    mono_ms() - t0);
out:
	if (rc != RC_OK)
		log_warnx("%s", err.buf);
	fetch_free(&f);
	fetch_free(&t);
	free(f.newest);
	free(t.newest);
	state_unlock(s);
	strbuf_release(&err);
	strbuf_release(&q);
	if (rc != RC_OK)
		return rc;
	return news > 0 ? RC_OK : RC_NO;
}

/*
 * A signal ends the nap early: that is how we stop.  One that came
 * while a round ran is still pending on sig_fd(), so it ends the next
 * nap at once instead of being lost.
 */
static void
nap(long long ms)
{
	if (ms > 0 && sig_wait(ms) != 0)
		cx.stop = 1;
}

/*
 * Poll until a signal: the TryBot query every try_ms, the full query
 * every full_ms.  A failing server backs off (doubling, at most five
 * minutes) without holding up the others.
 */
int
watch_loop(struct server **sel, size_t n, long try_ms, long full_ms)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (sig_init(&err, SIGTERM, SIGINT, SIGHUP, 0) < 0) {
		log_warnx("%s", err.buf);
		strbuf_release(&err);
		return RC_TEMP;
	}
	strbuf_release(&err);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++)
		sel[i]->next_full_ms = sel[i]->next_try_ms = mono_ms();
	while (!cx.stop) {
		long long now = mono_ms(), wake = now + full_ms;

		for (i = 0; i < n && !cx.stop; i++) {
			struct server *s = sel[i];
			int what, rc;

			if (now >= s->next_full_ms)
				what = POLL_CHANGES | POLL_TRY;
			else if (now >= s->next_try_ms)
				what = POLL_TRY;
			else
				continue;
			s->retry_after = -1;
			rc = poll_round(s, what, 0);
			now = mono_ms();
			if (rc == RC_OK || rc == RC_NO) {
				if (s->fails > 0)
					log_warnx("gerrit '%s': working again "
					    "after %d failed round%s", s->name,
					    s->fails, s->fails == 1 ? "" : "s");
				s->fails = 0;
				s->next_try_ms = now + try_ms;
				if (what & POLL_CHANGES)
					s->next_full_ms = now + full_ms;
			} else {
				long long d = try_ms;
				int k;

				s->fails++;
				for (k = 0; k < s->fails && d < MAX_BACKOFF_MS;
				    k++)
					d *= 2;
				if (s->retry_after >= 0) {
					/* the server's word, within bounds */
					d = s->retry_after * 1000;
					if (d < try_ms)
						d = try_ms;
				}
				if (d > MAX_BACKOFF_MS)
					d = MAX_BACKOFF_MS;
				if (s->retry_after >= 0)
					log_warnx("gerrit '%s': round failed; "
					    "Retry-After %lld s; next try in "
					    "%lld ms", s->name, s->retry_after,
					    d);
				else
					log_warnx("gerrit '%s': round failed; "
					    "next try in %lld ms", s->name, d);
				s->next_try_ms = now + d;
				if ((what & POLL_CHANGES) ||
				    s->next_full_ms < now + d)
					s->next_full_ms = now + d;
			}
		}
		for (i = 0; i < n; i++) {
			if (sel[i]->next_try_ms < wake)
				wake = sel[i]->next_try_ms;
			if (sel[i]->next_full_ms < wake)
				wake = sel[i]->next_full_ms;
		}
		if (!cx.stop)
			nap(wake - mono_ms());
	}
	log_info("stopping on a signal");
	return RC_OK;
}
