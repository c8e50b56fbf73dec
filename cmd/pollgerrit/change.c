/*
 * change.c: what pollgerrit remembers of a change, and what counts as
 * a real change of state.
 *
 * A digest (struct change) holds the current patch set, status, votes
 * on the current patch set and the number of messages recorded.  The
 * same fields, in the same JSON shape, are the whole-state part of a
 * gerrit record (maintlog(5)) and an entry of the state file, so that
 * one parser reads both: replaying records rebuilds the digests.
 *
 * Votes are matched by account id; stream-events name accounts without
 * ids, so a vote whose id is unknown matches by e-mail, then user name.
 */
#include "compat.h"

#include <stdlib.h>
#include <strings.h>

#include "extern.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

static char *
dupstr(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

void
account_release(struct account *a)
{
	FREE_AND_NULL(a->name);
	FREE_AND_NULL(a->email);
	FREE_AND_NULL(a->username);
	a->id = 0;
}

void
account_copy(struct account *dst, const struct account *src)
{
	dst->id = src->id;
	dst->name = dupstr(src->name);
	dst->email = dupstr(src->email);
	dst->username = dupstr(src->username);
}

static int
account_same(const struct account *x, const struct account *y)
{
	if (x->id != 0 && y->id != 0)
		return x->id == y->id;
	if (!empty(x->email) && !empty(y->email))
		return strcasecmp(x->email, y->email) == 0;
	if (!empty(x->username) && !empty(y->username))
		return strcmp(x->username, y->username) == 0;
	return !empty(x->name) && !empty(y->name) &&
	    strcmp(x->name, y->name) == 0;
}

/* Order of votes within a label: by id, unknown ids last by e-mail. */
static int
account_cmp(const struct account *x, const struct account *y)
{
	if (x->id != y->id) {
		if (x->id == 0 || y->id == 0)
			return x->id == 0 ? 1 : -1;
		return x->id < y->id ? -1 : 1;
	}
	return strcmp(x->email != NULL ? x->email : "",
	    y->email != NULL ? y->email : "");
}

/* {"account_id", "name", "email"}: maintlog(5)'s account. */
struct json *
account_json(const struct account *a)
{
	struct json *j = json_new_object();

	if (a->id != 0)
		json_set_int(j, "account_id", a->id);
	json_set_str(j, "name", a->name != NULL ? a->name : "");
	if (!empty(a->email))
		json_set_str(j, "email", a->email);
	return j;
}

/*
 * Read an account from Gerrit's AccountInfo (_account_id) or from our
 * own JSON (account_id).  0, or -1 when a field has the wrong kind.
 */
static int
account_parse(const struct json *j, struct account *a)
{
	struct json *v;
	int64_t id = 0;

	memset(a, 0, sizeof(*a));
	if (j == NULL)
		return 0;
	if (json_kind(j) != JK_OBJECT)
		return -1;
	if ((v = json_get(j, "_account_id")) == NULL)
		v = json_get(j, "account_id");
	if (v != NULL && (!json_get_int(v, &id) || id < 0))
		return -1;
	a->id = id;
	if ((v = json_get(j, "name")) != NULL && json_kind(v) != JK_NULL) {
		if (json_str(v, NULL) == NULL)
			return -1;
		a->name = xstrdup(json_str(v, NULL));
	}
	if ((v = json_get(j, "email")) != NULL && json_str(v, NULL) != NULL)
		a->email = xstrdup(json_str(v, NULL));
	if ((v = json_get(j, "username")) != NULL && json_str(v, NULL) != NULL)
		a->username = xstrdup(json_str(v, NULL));
	return 0;
}

void
change_free(struct change *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->project);
	free(c->branch);
	free(c->change_id);
	free(c->subject);
	free(c->status);
	free(c->rev);
	free(c->updated);
	free(c->line);
	account_release(&c->owner);
	for (i = 0; i < c->nvotes; i++) {
		free(c->votes[i].label);
		account_release(&c->votes[i].who);
	}
	free(c->votes);
	free(c);
}

struct change *
change_dup(const struct change *o)
{
	struct change *c = xcalloc(1, sizeof(*c));
	size_t i;

	c->number = o->number;
	c->project = dupstr(o->project);
	c->branch = dupstr(o->branch);
	c->change_id = dupstr(o->change_id);
	c->subject = dupstr(o->subject);
	c->status = dupstr(o->status);
	c->rev = dupstr(o->rev);
	c->updated = dupstr(o->updated);
	c->patchset = o->patchset;
	c->nmsgs = o->nmsgs;
	c->seq = o->seq;
	account_copy(&c->owner, &o->owner);
	GROW(c->votes, o->nvotes, c->avotes);
	for (i = 0; i < o->nvotes; i++) {
		c->votes[i].label = xstrdup(o->votes[i].label);
		c->votes[i].value = o->votes[i].value;
		account_copy(&c->votes[i].who, &o->votes[i].who);
	}
	c->nvotes = o->nvotes;
	return c;
}

static int
vote_cmp(const void *a, const void *b)
{
	const struct vote *x = a, *y = b;
	int r = strcmp(x->label, y->label);

	return r != 0 ? r : account_cmp(&x->who, &y->who);
}

/* Set (value != 0) or remove (0) who's vote on label. */
void
change_set_vote(struct change *c, const char *label,
    const struct account *who, int value)
{
	size_t i;

	for (i = 0; i < c->nvotes; i++) {
		struct vote *v = &c->votes[i];

		if (strcmp(v->label, label) != 0 || !account_same(&v->who, who))
			continue;
		if (value != 0) {
			v->value = value;
			/* learn the id, name or e-mail we did not have */
			if (v->who.id == 0 && who->id != 0)
				v->who.id = who->id;
			if (empty(v->who.email) && !empty(who->email)) {
				free(v->who.email);
				v->who.email = xstrdup(who->email);
			}
			if (empty(v->who.name) && !empty(who->name)) {
				free(v->who.name);
				v->who.name = xstrdup(who->name);
			}
		} else {
			free(v->label);
			account_release(&v->who);
			memmove(v, v + 1, (c->nvotes - i - 1) * sizeof(*v));
			c->nvotes--;
		}
		goto sort;
	}
	if (value == 0)
		return;
	GROW(c->votes, c->nvotes + 1, c->avotes);
	c->votes[c->nvotes].label = xstrdup(label);
	c->votes[c->nvotes].value = value;
	account_copy(&c->votes[c->nvotes].who, who);
	c->nvotes++;
sort:
	qsort(c->votes, c->nvotes, sizeof(*c->votes), vote_cmp);
}

static int
votes_same(const struct change *a, const struct change *b)
{
	char used[256];
	size_t i, j;

	if (a->nvotes != b->nvotes)
		return 0;
	if (a->nvotes > sizeof(used)) {
		/* many votes: compare in order (both lists are sorted) */
		for (i = 0; i < a->nvotes; i++)
			if (strcmp(a->votes[i].label, b->votes[i].label) != 0 ||
			    a->votes[i].value != b->votes[i].value ||
			    !account_same(&a->votes[i].who, &b->votes[i].who))
				return 0;
		return 1;
	}
	memset(used, 0, sizeof(used));
	for (i = 0; i < a->nvotes; i++) {
		for (j = 0; j < b->nvotes; j++) {
			if (used[j] || a->votes[i].value != b->votes[j].value ||
			    strcmp(a->votes[i].label, b->votes[j].label) != 0 ||
			    !account_same(&a->votes[i].who, &b->votes[j].who))
				continue;
			used[j] = 1;
			break;
		}
		if (j == b->nvotes)
			return 0;
	}
	return 1;
}

/* What changed from old to c, in maintlog(5)'s order. */
size_t
change_diff(const struct change *old, const struct change *c,
    const char **ev)
{
	size_t n = 0;

	if (old == NULL) {
		ev[n++] = "new-change";
		return n;
	}
	if (c->patchset > old->patchset)
		ev[n++] = "new-patchset";
	if (strcmp(c->status, old->status) != 0)
		ev[n++] = "status";
	if (!votes_same(old, c))
		ev[n++] = "vote";
	if (c->nmsgs > old->nmsgs)
		ev[n++] = "message";
	return n;
}

static int
str_same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static int
account_identical(const struct account *a, const struct account *b)
{
	return a->id == b->id && str_same(a->name, b->name) &&
	    str_same(a->email, b->email);
}

/* Is there anything to write to the state file? */
int
change_same(const struct change *a, const struct change *b)
{
	size_t i;

	if (a->number != b->number || a->patchset != b->patchset ||
	    a->nmsgs != b->nmsgs || a->nvotes != b->nvotes ||
	    !str_same(a->project, b->project) ||
	    !str_same(a->branch, b->branch) ||
	    !str_same(a->change_id, b->change_id) ||
	    !str_same(a->subject, b->subject) ||
	    !str_same(a->status, b->status) || !str_same(a->rev, b->rev) ||
	    !account_identical(&a->owner, &b->owner))
		return 0;
	for (i = 0; i < a->nvotes; i++)
		if (strcmp(a->votes[i].label, b->votes[i].label) != 0 ||
		    a->votes[i].value != b->votes[i].value ||
		    !account_identical(&a->votes[i].who, &b->votes[i].who))
			return 0;
	return 1;
}

/* The query label:Run-TryBot=1 label:TryBot-Result=0 status:open. */
int
change_try_wanted(const struct change *c)
{
	size_t i;
	int run = 0;

	if (c->status == NULL || strcmp(c->status, "NEW") != 0 ||
	    c->patchset <= 0 || empty(c->rev))
		return 0;
	for (i = 0; i < c->nvotes; i++) {
		if (strcmp(c->votes[i].label, "TryBot-Result") == 0)
			return 0;
		if (strcmp(c->votes[i].label, "Run-TryBot") == 0 &&
		    c->votes[i].value == 1)
			run = 1;
	}
	return run;
}

/* Field helpers for the parsers: -1 when present with the wrong kind. */
static int
get_str(const struct json *o, const char *key, int required, char **out,
    struct strbuf *err, int64_t number)
{
	struct json *v = json_get(o, key);

	if (v == NULL || json_kind(v) == JK_NULL) {
		if (!required) {
			*out = xstrdup("");
			return 0;
		}
		strbuf_addf(err, "change %lld: no \"%s\"", (long long)number,
		    key);
		return -1;
	}
	if (json_str(v, NULL) == NULL) {
		strbuf_addf(err, "change %lld: \"%s\" is not a string",
		    (long long)number, key);
		return -1;
	}
	*out = xstrdup(json_str(v, NULL));
	return 0;
}

static int
get_int(const struct json *o, const char *key, int required, int64_t *out,
    struct strbuf *err, int64_t number)
{
	struct json *v = json_get(o, key);

	*out = 0;
	if (v == NULL) {
		if (!required)
			return 0;
		strbuf_addf(err, "change %lld: no \"%s\"", (long long)number,
		    key);
		return -1;
	}
	if (!json_get_int(v, out)) {
		strbuf_addf(err, "change %lld: \"%s\" is not an integer",
		    (long long)number, key);
		return -1;
	}
	return 0;
}

struct labarg {
	struct change *c;
	struct strbuf *err;
	int bad;
};

/* One label of Gerrit's LabelInfo map (DETAILED_LABELS): its votes. */
static int
label_info_each(const char *name, struct json *li, void *arg)
{
	struct labarg *a = arg;
	struct json *all;
	size_t i;

	if (json_kind(li) != JK_OBJECT) {
		strbuf_addf(a->err, "change %lld: label '%s' is not an object",
		    (long long)a->c->number, esc(name));
		a->bad = 1;
		return 1;
	}
	if ((all = json_get(li, "all")) == NULL)
		return 0;
	if (json_kind(all) != JK_ARRAY) {
		strbuf_addf(a->err, "change %lld: label '%s': \"all\" is not "
		    "an array", (long long)a->c->number, esc(name));
		a->bad = 1;
		return 1;
	}
	for (i = 0; i < json_array_len(all); i++) {
		struct json *ai = json_array_at(all, i);
		struct account who;
		int64_t value = 0;

		if (account_parse(ai, &who) < 0 || (json_get(ai, "value") !=
		    NULL && !json_get_int(json_get(ai, "value"), &value)) ||
		    value < -1000 || value > 1000) {
			account_release(&who);
			strbuf_addf(a->err, "change %lld: label '%s': bad vote "
			    "%zu", (long long)a->c->number, esc(name), i + 1);
			a->bad = 1;
			return 1;
		}
		if (value != 0)
			change_set_vote(a->c, name, &who, (int)value);
		account_release(&who);
	}
	return 0;
}

static int
labels_from_info(const struct json *labels, struct change *c,
    struct strbuf *err)
{
	struct labarg a;

	if (labels == NULL)
		return 0;
	if (json_kind(labels) != JK_OBJECT) {
		strbuf_addf(err, "change %lld: \"labels\" is not an object",
		    (long long)c->number);
		return -1;
	}
	a.c = c;
	a.err = err;
	a.bad = 0;
	json_object_each(labels, label_info_each, &a);
	return a.bad ? -1 : 0;
}

/* Gerrit's ChangeMessageInfo into a record's message. */
static struct json *
message_from_info(const struct json *m, int64_t number, struct strbuf *err)
{
	struct json *out, *v;
	struct strbuf t = STRBUF_INIT;
	struct account who;
	int64_t ps = 0;
	char *s;

	if (json_kind(m) != JK_OBJECT) {
		strbuf_addf(err, "change %lld: a message is not an object",
		    (long long)number);
		return NULL;
	}
	out = json_new_object();
	if (get_str(m, "id", 1, &s, err, number) < 0)
		goto bad;
	json_set_str(out, "id", s);
	free(s);
	if ((v = json_get(m, "author")) != NULL) {
		if (account_parse(v, &who) < 0) {
			account_release(&who);
			strbuf_addf(err, "change %lld: bad message author",
			    (long long)number);
			goto bad;
		}
		json_set(out, "author", account_json(&who));
		account_release(&who);
	}
	if (get_str(m, "date", 1, &s, err, number) < 0)
		goto bad;
	gtime_rfc3339(&t, s);
	free(s);
	json_set_str(out, "date", t.buf);
	strbuf_release(&t);
	if (get_str(m, "message", 0, &s, err, number) < 0)
		goto bad;
	json_set_str(out, "message", s);
	free(s);
	if (get_int(m, "_revision_number", 0, &ps, err, number) < 0)
		goto bad;
	json_set_int(out, "patchset", ps);
	return out;
bad:
	strbuf_release(&t);
	json_free(out);
	return NULL;
}

/*
 * A ChangeInfo (with CURRENT_REVISION, DETAILED_LABELS, MESSAGES,
 * DETAILED_ACCOUNTS) into a digest plus all its messages in record form.
 * RC_OK; RC_PERM when it is malformed; RC_NO when it cannot be recorded
 * (no current revision visible).  nmsgs is the number of messages.
 */
int
change_from_info(const struct json *ci, struct change **cp,
    struct json **msgsp, struct strbuf *err)
{
	struct change *c = xcalloc(1, sizeof(*c));
	struct json *msgs = json_new_array(), *v, *rev;
	struct strbuf t = STRBUF_INIT;
	size_t i;

	if (get_int(ci, "_number", 1, &c->number, err, 0) < 0)
		goto bad;
	if (c->number <= 0) {
		strbuf_addf(err, "change %lld: bad \"_number\"",
		    (long long)c->number);
		goto bad;
	}
	if (get_str(ci, "project", 1, &c->project, err, c->number) < 0 ||
	    get_str(ci, "branch", 1, &c->branch, err, c->number) < 0 ||
	    get_str(ci, "change_id", 0, &c->change_id, err, c->number) < 0 ||
	    get_str(ci, "subject", 0, &c->subject, err, c->number) < 0 ||
	    get_str(ci, "status", 1, &c->status, err, c->number) < 0 ||
	    get_str(ci, "updated", 1, &c->updated, err, c->number) < 0)
		goto bad;
	{
		int64_t secs;
		long ns;

		if (gtime_parse(c->updated, &secs, &ns) < 0) {
			strbuf_addf(err, "change %lld: bad \"updated\" '%s'",
			    (long long)c->number, esc(c->updated));
			goto bad;
		}
		/* one spelling, so that times compare as strings */
		strbuf_reset(&t);
		gtime_format(&t, secs, ns);
		free(c->updated);
		c->updated = strbuf_detach(&t, NULL);
	}
	if (account_parse(json_get(ci, "owner"), &c->owner) < 0) {
		strbuf_addf(err, "change %lld: bad \"owner\"",
		    (long long)c->number);
		goto bad;
	}
	if (labels_from_info(json_get(ci, "labels"), c, err) < 0)
		goto bad;
	if ((v = json_get(ci, "messages")) != NULL) {
		if (json_kind(v) != JK_ARRAY) {
			strbuf_addf(err, "change %lld: \"messages\" is not an "
			    "array", (long long)c->number);
			goto bad;
		}
		for (i = 0; i < json_array_len(v); i++) {
			struct json *m = message_from_info(json_array_at(v, i),
			    c->number, err);

			if (m == NULL)
				goto bad;
			json_append(msgs, m);
		}
	}
	c->nmsgs = (int64_t)json_array_len(msgs);
	if (get_str(ci, "current_revision", 0, &c->rev, err, c->number) < 0)
		goto bad;
	rev = json_get(json_get(ci, "revisions"), c->rev);
	if (json_get(ci, "revisions") != NULL &&
	    json_kind(json_get(ci, "revisions")) != JK_OBJECT) {
		strbuf_addf(err, "change %lld: \"revisions\" is not an object",
		    (long long)c->number);
		goto bad;
	}
	if (*c->rev == '\0' || rev == NULL) {
		strbuf_addf(err, "change %lld: no current revision",
		    (long long)c->number);
		change_free(c);
		json_free(msgs);
		return RC_NO;
	}
	if (get_int(rev, "_number", 1, &c->patchset, err, c->number) < 0)
		goto bad;
	*cp = c;
	*msgsp = msgs;
	return RC_OK;
bad:
	change_free(c);
	json_free(msgs);
	return RC_PERM;
}

static int
labels_json_each(const char *name, struct json *arr, void *arg)
{
	struct labarg *a = arg;
	size_t i;

	if (json_kind(arr) != JK_ARRAY) {
		a->bad = 1;
		return 1;
	}
	for (i = 0; i < json_array_len(arr); i++) {
		struct json *vj = json_array_at(arr, i);
		struct account who;
		int64_t value;

		if (account_parse(vj, &who) < 0 ||
		    !json_get_int(json_get(vj, "value"), &value) ||
		    value < -1000 || value > 1000) {
			account_release(&who);
			a->bad = 1;
			return 1;
		}
		change_set_vote(a->c, name, &who, (int)value);
		account_release(&who);
	}
	return 0;
}

/* A record's (or a state entry's) whole-state fields into a digest. */
int
change_from_json(const struct json *j, struct change **cp, struct strbuf *err)
{
	struct change *c = xcalloc(1, sizeof(*c));
	struct labarg a;
	struct json *v;

	if (get_int(j, "change", 1, &c->number, err, 0) < 0 ||
	    get_str(j, "project", 1, &c->project, err, c->number) < 0 ||
	    get_str(j, "branch", 1, &c->branch, err, c->number) < 0 ||
	    get_str(j, "change_id", 0, &c->change_id, err, c->number) < 0 ||
	    get_str(j, "subject", 0, &c->subject, err, c->number) < 0 ||
	    get_str(j, "status", 1, &c->status, err, c->number) < 0 ||
	    get_str(j, "rev", 0, &c->rev, err, c->number) < 0 ||
	    get_int(j, "patchset", 1, &c->patchset, err, c->number) < 0 ||
	    get_int(j, "messages_seen", 0, &c->nmsgs, err, c->number) < 0 ||
	    get_int(j, "seq", 0, &c->seq, err, c->number) < 0)
		goto bad;
	if (account_parse(json_get(j, "owner"), &c->owner) < 0) {
		strbuf_addf(err, "change %lld: bad \"owner\"",
		    (long long)c->number);
		goto bad;
	}
	a.c = c;
	a.err = err;
	a.bad = 0;
	if ((v = json_get(j, "labels")) != NULL) {
		if (json_kind(v) != JK_OBJECT)
			a.bad = 1;
		else
			json_object_each(v, labels_json_each, &a);
	}
	if (a.bad) {
		strbuf_addf(err, "change %lld: bad \"labels\"",
		    (long long)c->number);
		goto bad;
	}
	*cp = c;
	return RC_OK;
bad:
	change_free(c);
	return RC_PERM;
}

/* The whole-state fields; for the state file also what only it keeps. */
struct json *
change_json(const struct change *c, int for_state)
{
	struct json *j = json_new_object(), *labels = json_new_object();
	struct json *arr = NULL;
	size_t i;

	json_set_int(j, "change", c->number);
	json_set_str(j, "project", c->project);
	json_set_str(j, "branch", c->branch);
	json_set_str(j, "change_id", c->change_id);
	json_set_str(j, "subject", c->subject);
	json_set_str(j, "status", c->status);
	json_set_str(j, "rev", c->rev);
	json_set_int(j, "patchset", c->patchset);
	json_set(j, "owner", account_json(&c->owner));
	for (i = 0; i < c->nvotes; i++) {
		const struct vote *v = &c->votes[i];
		struct json *vj = account_json(&v->who);

		if (v->who.id != 0)
			json_del(vj, "email");
		json_set_int(vj, "value", v->value);
		if (i == 0 || strcmp(v->label, c->votes[i - 1].label) != 0) {
			arr = json_new_array();
			json_set(labels, v->label, arr);
		}
		json_append(arr, vj);
	}
	json_set(j, "labels", labels);
	if (for_state) {
		json_set_int(j, "messages_seen", c->nmsgs);
		if (c->seq > 0)
			json_set_int(j, "seq", c->seq);
	}
	return j;
}

struct json *
change_record(const struct server *s, const struct change *c,
    const char *const *events, size_t nev, struct json *msgs)
{
	struct json *r = change_json(c, 0), *ev = json_new_array();
	size_t i;

	json_set_str(r, "server", s->url);
	for (i = 0; i < nev; i++)
		json_append(ev, json_new_str(events[i]));
	json_set(r, "event", ev);
	json_set(r, "messages", msgs != NULL ? msgs : json_new_array());
	return r;
}

/* The tables: open addressing, linear probing, at most half full. */
static size_t
slot_of(int64_t key, size_t cap)
{
	return (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ULL) >> 20) &
	    (cap - 1);
}

struct change *
changes_get(const struct changes *t, int64_t number)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = slot_of(number, t->cap); t->slot[i] != NULL;
	    i = (i + 1) & (t->cap - 1))
		if (t->slot[i]->number == number)
			return t->slot[i];
	return NULL;
}

static void
changes_insert(struct change **slot, size_t cap, struct change *c)
{
	size_t i;

	for (i = slot_of(c->number, cap); slot[i] != NULL;
	    i = (i + 1) & (cap - 1))
		;
	slot[i] = c;
}

/* Insert c, replacing (and freeing) the change with its number. */
void
changes_put(struct changes *t, struct change *c)
{
	size_t i;

	if (t->cap > 0) {
		for (i = slot_of(c->number, t->cap); t->slot[i] != NULL;
		    i = (i + 1) & (t->cap - 1)) {
			if (t->slot[i]->number == c->number) {
				if (t->slot[i] != c)
					change_free(t->slot[i]);
				t->slot[i] = c;
				return;
			}
		}
	}
	if ((t->n + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct change **ns = xcalloc(ncap, sizeof(*ns));

		for (i = 0; i < t->cap; i++)
			if (t->slot[i] != NULL)
				changes_insert(ns, ncap, t->slot[i]);
		free(t->slot);
		t->slot = ns;
		t->cap = ncap;
	}
	changes_insert(t->slot, t->cap, c);
	t->n++;
}

void
changes_free(struct changes *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		change_free(t->slot[i]);
	FREE_AND_NULL(t->slot);
	t->cap = t->n = 0;
}

struct account *
accounts_get(const struct accounts *t, int64_t id)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = slot_of(id, t->cap); t->slot[i] != NULL;
	    i = (i + 1) & (t->cap - 1))
		if (t->slot[i]->id == id)
			return t->slot[i];
	return NULL;
}

/* Linear: only stream-events look accounts up this way, a few a line. */
const struct account *
accounts_find(const struct accounts *t, const char *email,
    const char *username)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		const struct account *a = t->slot[i];

		if (a == NULL)
			continue;
		if (!empty(email) && !empty(a->email) &&
		    strcasecmp(email, a->email) == 0)
			return a;
	}
	for (i = 0; i < t->cap && !empty(username); i++) {
		const struct account *a = t->slot[i];

		if (a != NULL && !empty(a->username) &&
		    strcmp(username, a->username) == 0)
			return a;
	}
	return NULL;
}

static int
update_field(char **dst, const char *src)
{
	if (empty(src) || (*dst != NULL && strcmp(*dst, src) == 0))
		return 0;
	free(*dst);
	*dst = xstrdup(src);
	return 1;
}

/* Remember a (by id); 1 when that changed what we knew. */
int
accounts_learn(struct accounts *t, const struct account *a)
{
	struct account *e;
	size_t i;

	if (a->id == 0)
		return 0;
	if ((e = accounts_get(t, a->id)) != NULL)
		return update_field(&e->name, a->name) |
		    update_field(&e->email, a->email) |
		    update_field(&e->username, a->username);
	if ((t->n + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64, j;
		struct account **ns = xcalloc(ncap, sizeof(*ns));

		for (i = 0; i < t->cap; i++) {
			if (t->slot[i] == NULL)
				continue;
			for (j = slot_of(t->slot[i]->id, ncap); ns[j] != NULL;
			    j = (j + 1) & (ncap - 1))
				;
			ns[j] = t->slot[i];
		}
		free(t->slot);
		t->slot = ns;
		t->cap = ncap;
	}
	e = xcalloc(1, sizeof(*e));
	account_copy(e, a);
	for (i = slot_of(e->id, t->cap); t->slot[i] != NULL;
	    i = (i + 1) & (t->cap - 1))
		;
	t->slot[i] = e;
	t->n++;
	return 1;
}

void
accounts_free(struct accounts *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		if (t->slot[i] != NULL) {
			account_release(t->slot[i]);
			free(t->slot[i]);
		}
	}
	FREE_AND_NULL(t->slot);
	t->cap = t->n = 0;
}
