/*
 * stream.c: "gerrit stream-events" JSON lines on stdin, recorded and
 * queued as they arrive (sub-second TryBot latency), with the same
 * digests, records and try items as a poll.
 *
 * What a stream event can tell: new patch sets, votes (comment-added
 * and vote-deleted approvals), status changes (merged, abandoned,
 * restored).  What it cannot: message ids, and account ids (accounts
 * are looked up by e-mail or user name among those polls have seen).
 * Messages are therefore left to the next poll, which records them with
 * their ids; a record made here carries none.  ref-updated is printed
 * for pipelines (a git ref is gitmirror's to record, not ours).
 *
 * The server's lock is held while input is waiting and let go, after
 * writing the state file, whenever the stream goes quiet.
 */
#include "compat.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

/* stdin, line by line, able to tell whether more is waiting. */
struct lines {
	struct strbuf buf;
	size_t off;
	int eof;
};

static int
fill(struct lines *l)
{
	char chunk[65536];
	ssize_t n;

	if (l->off > 0 && l->off == l->buf.len) {
		strbuf_reset(&l->buf);
		l->off = 0;
	} else if (l->off > (1 << 20)) {
		memmove(l->buf.buf, l->buf.buf + l->off, l->buf.len - l->off);
		strbuf_setlen(&l->buf, l->buf.len - l->off);
		l->off = 0;
	}
	do
		n = read(0, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR && !cx.stop);
	if (n < 0)
		return -1;
	if (n == 0)
		l->eof = 1;
	else
		strbuf_add(&l->buf, chunk, (size_t)n);
	return 0;
}

/*
 * Next line into *line and *len (NUL-terminated in place): 1, 0 at end of
 * input, -1 on a read error, -2 for a line over the limit (skipped).
 */
static int
next_line(struct lines *l, char **line, size_t *len)
{
	int toolong = 0;

	for (;;) {
		char *s = l->buf.buf + l->off;
		char *nl = memchr(s, '\n', l->buf.len - l->off);

		if (nl != NULL || (l->eof && l->off < l->buf.len)) {
			size_t n = nl != NULL ? (size_t)(nl - s) :
			    l->buf.len - l->off;

			l->off += n + (nl != NULL);
			if (toolong || n > MAX_EVENT_LINE)
				return -2;
			s[n] = '\0';
			*line = s;
			*len = n;
			return 1;
		}
		if (l->eof)
			return toolong ? -2 : 0;
		if (l->buf.len - l->off > MAX_EVENT_LINE) {
			/* drop what we have of it, keep reading to its end */
			toolong = 1;
			l->off = l->buf.len;
		}
		if (fill(l) < 0)
			return -1;
	}
}

static int
waiting(struct lines *l)
{
	struct pollfd p;

	if (memchr(l->buf.buf + l->off, '\n', l->buf.len - l->off) != NULL)
		return 1;
	p.fd = 0;
	p.events = POLLIN;
	return poll(&p, 1, 0) > 0;
}

/* Numbers come as JSON numbers or, from older servers, as strings. */
static int
get_num(const struct json *j, int64_t *out)
{
	const char *s = json_str(j, NULL);
	char *end;

	if (json_get_int(j, out))
		return 0;
	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

static const char *
str(const struct json *o, const char *key)
{
	const char *s = json_str(json_get(o, key), NULL);

	return s != NULL ? s : "";
}

/* A stream account, completed from the accounts polls have seen. */
static void
stream_account(const struct state *st, const struct json *j,
    struct account *a)
{
	const struct account *k;
	const char *email = json_str(json_get(j, "email"), NULL);
	const char *user = json_str(json_get(j, "username"), NULL);

	memset(a, 0, sizeof(*a));
	if ((k = accounts_find(&st->acc, email, user)) != NULL) {
		account_copy(a, k);
		return;
	}
	if (json_str(json_get(j, "name"), NULL) != NULL)
		a->name = xstrdup(str(j, "name"));
	if (email != NULL)
		a->email = xstrdup(email);
	if (user != NULL)
		a->username = xstrdup(user);
}

static void
drop_label(struct change *c, const char *label)
{
	size_t i = 0;

	while (i < c->nvotes) {
		if (strcmp(c->votes[i].label, label) == 0) {
			free(c->votes[i].label);
			account_release(&c->votes[i].who);
			memmove(c->votes + i, c->votes + i + 1,
			    (c->nvotes - i - 1) * sizeof(*c->votes));
			c->nvotes--;
		} else
			i++;
	}
}

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

/*
 * Gerrit's own rule: only an open change is merged or abandoned, only an
 * abandoned one restored.  An event that breaks it is older than what we
 * know (a stream read twice), and no news.
 */
static void
set_status(struct change *c, const char *to, const char *from)
{
	int open = strcmp(c->status, "NEW") == 0 ||
	    strcmp(c->status, "DRAFT") == 0 ||
	    strcmp(c->status, "SUBMITTED") == 0;

	if (strcmp(from, "NEW") == 0 ? open : strcmp(c->status, from) == 0)
		set_str(&c->status, to);
}

/*
 * A patch set newer than the one we know: it becomes current, and the
 * TryBot votes (never carried to a new patch set) go.
 */
static void
new_patchset(struct change *c, int64_t ps, const char *rev,
    const struct json *change)
{
	if (ps <= c->patchset)
		return;
	c->patchset = ps;
	set_str(&c->rev, rev);
	if (json_str(json_get(change, "subject"), NULL) != NULL)
		set_str(&c->subject, str(change, "subject"));
	drop_label(c, "Run-TryBot");
	drop_label(c, "TryBot-Result");
}

/* A change we have not seen, as far as the event describes it. */
static struct change *
change_from_event(const struct state *st, const struct json *change,
    int64_t number)
{
	struct change *c = xcalloc(1, sizeof(*c));
	const char *status = json_str(json_get(change, "status"), NULL);

	c->number = number;
	c->project = xstrdup(str(change, "project"));
	c->branch = xstrdup(str(change, "branch"));
	c->change_id = xstrdup(str(change, "id"));
	c->subject = xstrdup(str(change, "subject"));
	c->status = xstrdup(status != NULL ? status : "NEW");
	c->rev = xstrdup("");
	stream_account(st, json_get(change, "owner"), &c->owner);
	return c;
}

static int
apply_approvals(struct change *c, const struct state *st,
    const struct json *ev, const char *who_key)
{
	struct json *ap = json_get(ev, "approvals");
	struct account who;
	size_t i;

	if (ap == NULL)
		return 0;
	if (json_kind(ap) != JK_ARRAY)
		return -1;
	stream_account(st, json_get(ev, who_key), &who);
	for (i = 0; i < json_array_len(ap); i++) {
		struct json *a = json_array_at(ap, i);
		const char *label = json_str(json_get(a, "type"), NULL);
		int64_t v;

		if (label == NULL || *label == '\0' ||
		    get_num(json_get(a, "value"), &v) < 0 || v < -1000 ||
		    v > 1000) {
			account_release(&who);
			return -1;
		}
		change_set_vote(c, label, &who, (int)v);
	}
	account_release(&who);
	return 0;
}

static void
print_ref(const struct server *s, const struct json *ru)
{
	if (cx.jflag) {
		struct json *j = json_new_object();
		struct strbuf out = STRBUF_INIT;

		json_set_str(j, "event", "ref-updated");
		json_set_str(j, "gerrit", s->name);
		json_set_str(j, "server", s->url);
		json_set_str(j, "project", str(ru, "project"));
		json_set_str(j, "ref", str(ru, "refName"));
		json_set_str(j, "old", str(ru, "oldRev"));
		json_set_str(j, "new", str(ru, "newRev"));
		json_dump(&out, j);
		printf("%s\n", out.buf);
		json_free(j);
		strbuf_release(&out);
	} else
		printf("ref-updated %s %s %s %s\n", s->name,
		    esc(str(ru, "project")), esc(str(ru, "refName")),
		    esc(str(ru, "newRev")));
}

/* Record one change event; the server is locked and loaded. */
static int
change_event(struct server *s, const char *type, const struct json *ev,
    size_t lineno, int *news)
{
	struct state *st = s->st;
	struct strbuf err = STRBUF_INIT, stored = STRBUF_INIT;
	const struct json *change = json_get(ev, "change");
	const struct json *ps = json_get(ev, "patchSet");
	struct change *old, *c = NULL;
	struct json *rec = NULL;
	int64_t number, psn = 0, *touched = NULL;
	size_t ntouched = 0, nev;
	const char *evs[8], *rev = NULL;
	int rc;

	if (!kind_is(change, JK_OBJECT) ||
	    get_num(json_get(change, "number"), &number) < 0 || number <= 0 ||
	    json_str(json_get(change, "project"), NULL) == NULL ||
	    json_str(json_get(change, "branch"), NULL) == NULL) {
		log_warnx("stdin line %zu: %s without change number, project "
		    "or branch; skipped", lineno, esc(type));
		return RC_OK;
	}
	if (ps != NULL && (get_num(json_get(ps, "number"), &psn) < 0 ||
	    (rev = json_str(json_get(ps, "revision"), NULL)) == NULL)) {
		log_warnx("stdin line %zu: %s with a bad patchSet; skipped",
		    lineno, esc(type));
		return RC_OK;
	}
	if ((rc = state_record_begin(s, &touched, &ntouched, &err)) != RC_OK)
		goto out;
	if ((rc = state_want(s, number, &err)) != RC_OK) {
		state_record_end(s);
		goto out;
	}
	old = changes_get(&st->ch, number);
	c = old != NULL ? change_dup(old) : change_from_event(st, change,
	    number);
	if (rev != NULL)
		new_patchset(c, psn, rev, change);
	if (strcmp(type, "comment-added") == 0 ||
	    strcmp(type, "vote-deleted") == 0) {
		/* votes count on the current patch set only */
		if (psn == c->patchset && apply_approvals(c, st, ev,
		    *type == 'c' ? "author" : "reviewer") < 0) {
			log_warnx("stdin line %zu: %s with bad approvals; "
			    "skipped", lineno, esc(type));
			state_record_end(s);
			goto out;
		}
	} else if (strcmp(type, "change-merged") == 0)
		set_status(c, "MERGED", "NEW");
	else if (strcmp(type, "change-abandoned") == 0)
		set_status(c, "ABANDONED", "NEW");
	else if (strcmp(type, "change-restored") == 0)
		set_status(c, "NEW", "ABANDONED");

	if (c->patchset <= 0 || *c->rev == '\0') {
		/* nothing we could write a record for */
		log_warnx("stdin line %zu: %s of change %lld, whose patch set "
		    "is unknown; skipped", lineno, esc(type),
		    (long long)number);
		state_record_end(s);
		goto out;
	}
	if ((nev = change_diff(old, c, evs)) > 0) {
		rec = change_record(s, c, evs, nev, NULL);
		rc = state_record(s, &rec, 1, &stored, &err);
	}
	state_record_end(s);
	if (rc != RC_OK)
		goto out;
	if (rec != NULL) {
		crash_point("after-append");
		print_records(s, &rec, 1, &stored);
		(*news)++;
		c->seq = (int64_t)st->seq;
		state_put(s, c);
		c = NULL;
	}
	if ((rc = print_flush()) != RC_OK)
		goto out;
	old = changes_get(&st->ch, number);
	if (old != NULL && change_try_wanted(old)) {
		rc = try_queue(s, old, &err);
		if (rc == RC_OK)
			(*news)++;
		else if (rc != RC_NO)
			goto out;
	}
	rc = try_caught_up(s, touched, ntouched, &err);
	if (rc == RC_OK)
		(*news)++;
	else if (rc != RC_NO)
		goto out;
	rc = print_flush();
	crash_point("after-spool");
out:
	if (rc != RC_OK)
		log_warnx("%s", err.buf);
	change_free(c);
	json_free(rec);
	free(touched);
	strbuf_release(&err);
	strbuf_release(&stored);
	return rc;
}

static int
one_event(struct server *s, const char *line, size_t len, size_t lineno,
    int *news, int *locked)
{
	struct strbuf err = STRBUF_INIT;
	struct json *ev;
	const char *type;
	int rc = RC_OK;

	if (strspn(line, " \t\r") == len)
		return RC_OK;	/* a blank line says nothing */
	if ((ev = json_parse(line, len, &err)) == NULL ||
	    json_kind(ev) != JK_OBJECT ||
	    (type = json_str(json_get(ev, "type"), NULL)) == NULL) {
		log_warnx("stdin line %zu: not a stream event%s%s; skipped",
		    lineno, ev == NULL ? ": " : "", err.buf);
		goto out;
	}
	if (strcmp(type, "ref-updated") == 0) {
		if (!kind_is(json_get(ev, "refUpdate"), JK_OBJECT)) {
			log_warnx("stdin line %zu: ref-updated without "
			    "refUpdate; skipped", lineno);
			goto out;
		}
		/* printed for pipelines, not recorded: no news of ours */
		print_ref(s, json_get(ev, "refUpdate"));
		rc = print_flush();
		goto out;
	}
	if (strcmp(type, "patchset-created") != 0 &&
	    strcmp(type, "comment-added") != 0 &&
	    strcmp(type, "vote-deleted") != 0 &&
	    strcmp(type, "change-merged") != 0 &&
	    strcmp(type, "change-abandoned") != 0 &&
	    strcmp(type, "change-restored") != 0) {
		log_info("stdin line %zu: event '%s' ignored", lineno,
		    esc(type));
		goto out;
	}
	if (!*locked) {
		if ((rc = state_lock(s, LOCK_WAIT_MS, &err)) != RC_OK ||
		    (rc = state_load(s, &err)) != RC_OK) {
			log_warnx("%s", err.buf);
			state_unlock(s);
			goto out;
		}
		*locked = 1;
	}
	rc = change_event(s, type, ev, lineno, news);
out:
	json_free(ev);
	strbuf_release(&err);
	return rc;
}

static int
quiet(struct server *s, int *locked)
{
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (!*locked)
		return RC_OK;
	if ((rc = state_save(s, &err)) != RC_OK)
		log_warnx("%s", err.buf);
	state_unlock(s);
	*locked = 0;
	strbuf_release(&err);
	return rc;
}

int
events_run(struct server *s)
{
	struct lines in;
	char *line;
	size_t len, lineno = 0;
	int r, rc = RC_OK, news = 0, locked = 0;

	memset(&in, 0, sizeof(in));
	strbuf_init(&in.buf, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!cx.stop && (r = next_line(&in, &line, &len)) != 0) {
		lineno++;
		if (r == -1) {
			log_warn("read stdin");
			rc = RC_TEMP;
			break;
		}
		if (r == -2)
			log_warnx("stdin line %zu: longer than %zu bytes; "
			    "skipped", lineno, MAX_EVENT_LINE);
		else if ((rc = one_event(s, line, len, lineno, &news,
		    &locked)) != RC_OK)
			break;
		if (!waiting(&in) && (rc = quiet(s, &locked)) != RC_OK)
			break;
	}
	if (quiet(s, &locked) != RC_OK && rc == RC_OK)
		rc = RC_TEMP;
	strbuf_release(&in.buf);
	if (rc != RC_OK)
		return rc;
	return news > 0 ? RC_OK : RC_NO;
}
