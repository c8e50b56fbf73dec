/*
 * model.c: the commits, builders and results the pages show, read from
 * the corpus log (git) and the results log (result, attempt, retract).
 *
 * A commit is found by (repo, hash) in an open-addressing table; a
 * result may come before its commit's git record (the corpus is
 * synced separately), so commits are made on first sight and shown
 * once their record comes.  Builders are few (tens): a linear search.
 */
#include "compat.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "json.h"
#include "mlog.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
#include "workitem.h"
#include "xmalloc.h"

static char *
dupstr(const struct json *o, const char *key)
{
	const char *s = json_str(json_get(o, key), NULL);

	return s != NULL ? xstrdup(s) : NULL;
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return n == 0 ? (i == 40 || i == 64) : i == n;
}

static unsigned
repo_index(struct dash *d, const char *name, int create)
{
	size_t i;

	for (i = 0; i < d->nrepos; i++)
		if (strcmp(d->repos[i].name, name) == 0)
			return (unsigned)i;
	if (!create)
		return (unsigned)-1;
	d->repos = xreallocarray(d->repos, d->nrepos + 1, sizeof(*d->repos));
	memset(&d->repos[d->nrepos], 0, sizeof(d->repos[0]));
	d->repos[d->nrepos].name = xstrdup(name);
	return (unsigned)d->nrepos++;
}

static int
branch_index(struct repo *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nbr; i++)
		if (strcmp(r->br[i].name, name) == 0)
			return (int)i;
	r->br = xreallocarray(r->br, r->nbr + 1, sizeof(*r->br));
	memset(&r->br[r->nbr], 0, sizeof(r->br[0]));
	r->br[r->nbr].name = xstrdup(name);
	return (int)r->nbr++;
}

/* The configured repositories and branches first, in the file's order. */
void
model_init(struct dash *d, const struct farmconf *fc)
{
	size_t i, j;
	unsigned r;

	for (i = 0; fc != NULL && i < fc->nrepos; i++) {
		r = repo_index(d, fc->repos[i].name, 1);
		for (j = 0; j < fc->repos[i].nbranch; j++)
			(void)branch_index(&d->repos[r], fc->repos[i].branch[j]);
	}
}

static size_t
slot(const struct dash *d, unsigned repo, const char *hash)
{
	uint64_t h = 1469598103934665603ull ^ repo;
	size_t i;

	/* all of it: made-up hashes (tests, benches) share long prefixes */
	for (i = 0; hash[i] != '\0'; i++)
		h = (h ^ (unsigned char)hash[i]) * 1099511628211ull;
	return (size_t)(h & (d->ntab - 1));
}

static void
grow_table(struct dash *d)
{
	size_t i, j;

	free(d->tab);
	d->ntab = d->ntab != 0 ? d->ntab * 2 : 1024;
	d->tab = xcalloc(d->ntab, sizeof(*d->tab));
	for (i = 0; i < d->nc; i++) {
		for (j = slot(d, d->c[i].repo, d->c[i].hash); d->tab[j] != 0;
		    j = (j + 1) & (d->ntab - 1))
			;
		d->tab[j] = i + 1;
	}
}

const struct commit *
model_lookup(const struct dash *d, unsigned repo, const char *hash)
{
	const struct commit *c;
	size_t j;

	if (d->ntab == 0)
		return NULL;
	for (j = slot(d, repo, hash); d->tab[j] != 0;
	    j = (j + 1) & (d->ntab - 1)) {
		c = &d->c[d->tab[j] - 1];
		if (c->repo == repo && strcmp(c->hash, hash) == 0)
			return c;
	}
	return NULL;
}

struct commit *
model_commit(struct dash *d, unsigned repo, const char *hash, int create)
{
	const struct commit *found;
	struct commit *c;
	size_t j;

	if ((found = model_lookup(d, repo, hash)) != NULL)
		return &d->c[found - d->c];
	if (!create)
		return NULL;
	if (d->ntab == 0)
		grow_table(d);
	for (j = slot(d, repo, hash); d->tab[j] != 0;
	    j = (j + 1) & (d->ntab - 1))
		;
	if (d->nc == d->ac) {
		d->ac = d->ac != 0 ? d->ac * 2 : 1024;
		d->c = xreallocarray(d->c, d->ac, sizeof(*d->c));
	}
	c = &d->c[d->nc];
	memset(c, 0, sizeof(*c));
	c->repo = repo;
	c->branch = -1;
	snprintf(c->hash, sizeof(c->hash), "%s", hash);
	d->tab[j] = ++d->nc;
	if (d->nc * 2 > d->ntab)
		grow_table(d);
	return c;
}

static unsigned
builder_index(struct dash *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nb; i++)
		if (strcmp(d->b[i].name, name) == 0)
			return (unsigned)i;
	d->b = xreallocarray(d->b, d->nb + 1, sizeof(*d->b));
	memset(&d->b[d->nb], 0, sizeof(d->b[0]));
	d->b[d->nb].name = xstrdup(name);
	d->b[d->nb].prio = builder_prio(name);
	d->b[d->nb].unsupported = builder_unsupported(name);
	return (unsigned)d->nb++;
}

static int
colcmp(const struct dash *d, unsigned a, unsigned b)
{
	const struct builder *x = &d->b[a], *y = &d->b[b];

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Builder b has results in repo r: a column of its grid. */
static void
add_column(struct dash *d, struct repo *r, unsigned b)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		if (r->cols[i] == b)
			return;
	r->cols = xreallocarray(r->cols, r->ncols + 1, sizeof(*r->cols));
	for (i = r->ncols; i > 0 && colcmp(d, r->cols[i - 1], b) > 0; i--)
		r->cols[i] = r->cols[i - 1];
	r->cols[i] = b;
	r->ncols++;
	if (d->mark)
		r->dirty = 1;
}

const struct cell *
model_cell_of(const struct commit *c, unsigned b)
{
	size_t i;

	for (i = 0; i < c->ncells; i++)
		if (c->cells[i].builder == b)
			return &c->cells[i];
	return NULL;
}

struct cell *
model_cell(struct dash *d, struct commit *c, unsigned b, int create)
{
	const struct cell *found = model_cell_of(c, b);

	(void)d;
	if (found != NULL)
		return &c->cells[found - c->cells];
	if (!create)
		return NULL;
	if (c->ncells == c->acells) {
		c->acells = c->acells != 0 ? c->acells * 2 : 8;
		c->cells = xreallocarray(c->cells, c->acells,
		    sizeof(*c->cells));
	}
	memset(&c->cells[c->ncells], 0, sizeof(c->cells[0]));
	c->cells[c->ncells].builder = b;
	return &c->cells[c->ncells++];
}

void
model_dirty(struct dash *d, struct commit *c)
{
	d->any = 1;
	if (c->dirty)
		return;
	c->dirty = 1;
	if (d->ndirtyc == d->adirtyc) {
		d->adirtyc = d->adirtyc != 0 ? d->adirtyc * 2 : 64;
		d->dirtyc = xreallocarray(d->dirtyc, d->adirtyc,
		    sizeof(*d->dirtyc));
	}
	d->dirtyc[d->ndirtyc++] = (size_t)(c - d->c);
}

/* A git record: a commit of a watched branch. */
int
model_git(const struct mlog_rec *rec, void *arg)
{
	struct dash *d = arg;
	const struct json *o = rec->obj, *a;
	const char *repo, *branch, *hash;
	struct commit *c;
	struct branch *br;
	unsigned r;

	if (strcmp(rec->type, "git") != 0)
		return 0;
	repo = json_str(json_get(o, "repo"), NULL);
	branch = json_str(json_get(o, "branch"), NULL);
	hash = json_str(json_get(o, "commit"), NULL);
	if (repo == NULL || branch == NULL || hash == NULL || !is_hex(hash, 0))
		return 0;
	r = repo_index(d, repo, 1);
	c = model_commit(d, r, hash, 1);
	if (c->branch >= 0)
		return 0;		/* recorded twice: the first counts */
	c->branch = branch_index(&d->repos[r], branch);
	a = json_get(o, "author");
	c->author = dupstr(a, "name");
	c->email = dupstr(a, "email");
	c->date = dupstr(a, "time");
	c->msg = dupstr(o, "msg");
	a = json_get(o, "parents");
	if (json_array_len(a) > 0 &&
	    json_str(json_array_at(a, 0), NULL) != NULL)
		c->parent = xstrdup(json_str(json_array_at(a, 0), NULL));
	br = &d->repos[r].br[c->branch];
	if (br->n == br->alloc) {
		br->alloc = br->alloc != 0 ? br->alloc * 2 : 256;
		br->v = xreallocarray(br->v, br->alloc, sizeof(*br->v));
	}
	c->pos = br->n;
	br->v[br->n++] = (size_t)(c - d->c);
	if (d->mark) {
		br->dirty = 1;		/* every page moves down a row */
		model_dirty(d, c);
	}
	return 0;
}

static void
queue_log(struct dash *d, const char *log)
{
	if (d->nlogs == d->alogs) {
		d->alogs = d->alogs != 0 ? d->alogs * 2 : 64;
		d->logs = xreallocarray(d->logs, d->alogs, sizeof(*d->logs));
	}
	d->logs[d->nlogs++] = xstrdup(log);
}

static void
clear_attempts(struct cell *cl)
{
	size_t i;

	for (i = 0; i < cl->natt; i++) {
		free(cl->att[i].buildlet);
		free(cl->att[i].reason);
	}
	cl->natt = 0;
}

/*
 * A result, attempt or retract record of the grid as an event: 1, or 0
 * for records the grid does not show (try builds, bad fields).
 */
int
model_event(const struct mlog_rec *rec, struct event *ev)
{
	const struct json *o = rec->obj;
	const char *builder, *repo, *rev, *log, *kind;

	memset(ev, 0, sizeof(*ev));
	if (strcmp(rec->type, "result") == 0)
		ev->type = EV_RESULT;
	else if (strcmp(rec->type, "attempt") == 0)
		ev->type = EV_ATTEMPT;
	else if (strcmp(rec->type, "retract") == 0)
		ev->type = EV_RETRACT;
	else
		return 0;
	builder = json_str(json_get(o, "builder"), NULL);
	repo = json_str(json_get(o, "repo"), NULL);
	rev = json_str(json_get(o, "rev"), NULL);
	kind = json_str(json_get(o, "kind"), NULL);
	if (builder == NULL || *builder == '\0' || repo == NULL ||
	    rev == NULL || !is_hex(rev, 0))
		return 0;
	/* a try build tests a patch set, not a commit of the grid */
	if ((kind != NULL && strcmp(kind, "try") == 0) ||
	    json_get(o, "change") != NULL)
		return 0;
	ev->seq = rec->seq;
	ev->builder = xstrdup(builder);
	ev->repo = xstrdup(repo);
	snprintf(ev->rev, sizeof(ev->rev), "%s", rev);
	log = json_str(json_get(o, "log"), NULL);
	snprintf(ev->log, sizeof(ev->log), "%s",
	    log != NULL && is_hex(log, 64) ? log : "");
	ev->ok = json_kind(json_get(o, "ok")) == JK_TRUE;
	ev->elapsed_ms = json_int(json_get(o, "elapsed_ms"));
	ev->attempt = json_int(json_get(o, "attempt"));
	ev->buildlet = dupstr(o, "buildlet");
	ev->time = dupstr(o, "time");
	ev->reason = dupstr(o, "reason");
	return 1;
}

void
model_event_free(struct event *ev)
{
	free(ev->builder);
	free(ev->repo);
	free(ev->buildlet);
	free(ev->time);
	free(ev->reason);
	memset(ev, 0, sizeof(*ev));
}

/* One cell changes; the cell takes the strings it keeps from ev. */
void
model_apply(struct dash *d, struct event *ev)
{
	struct builder *b;
	struct commit *c;
	struct cell *cl;
	struct attempt *at;
	unsigned r, bi;
	size_t i;

	r = repo_index(d, ev->repo, 1);
	c = model_commit(d, r, ev->rev, 1);
	bi = builder_index(d, ev->builder);
	b = &d->b[bi];
	switch (ev->type) {
	case EV_RESULT:
		cl = model_cell(d, c, bi, 1);
		add_column(d, &d->repos[r], bi);
		cl->state = ev->ok ? CELL_OK : CELL_FAIL;
		memcpy(cl->log, ev->log, sizeof(cl->log));
		cl->elapsed_ms = ev->elapsed_ms;
		cl->attempt = ev->attempt;
		free(cl->buildlet);
		cl->buildlet = ev->buildlet;
		ev->buildlet = NULL;
		free(cl->time);
		cl->time = ev->time;
		ev->time = NULL;
		if (b->nh == b->ah) {
			b->ah = b->ah != 0 ? b->ah * 2 : 256;
			b->h = xreallocarray(b->h, b->ah, sizeof(*b->h));
		}
		b->h[b->nh].commit = (size_t)(c - d->c);
		b->h[b->nh].ok = cl->state == CELL_OK;
		b->h[b->nh].retracted = 0;
		b->h[b->nh].elapsed_ms = cl->elapsed_ms;
		b->nh++;
		if (d->mark && cl->state == CELL_FAIL && cl->log[0] != '\0')
			queue_log(d, cl->log);
		break;
	case EV_ATTEMPT:
		cl = model_cell(d, c, bi, 1);
		if (cl->state != CELL_NONE)
			clear_attempts(cl);	/* a rebuild after a retract */
		if (cl->natt == cl->aatt) {
			cl->aatt = cl->aatt != 0 ? cl->aatt * 2 : 4;
			cl->att = xreallocarray(cl->att, cl->aatt,
			    sizeof(*cl->att));
		}
		at = &cl->att[cl->natt++];
		at->buildlet = ev->buildlet;
		at->reason = ev->reason;
		ev->buildlet = ev->reason = NULL;
		at->n = ev->attempt;
		break;
	case EV_RETRACT:
		if ((cl = model_cell(d, c, bi, 0)) == NULL)
			return;
		if (cl->state != CELL_NONE)
			cl->retracted++;
		cl->state = CELL_NONE;
		cl->log[0] = '\0';
		clear_attempts(cl);
		for (i = b->nh; i > 0; i--)
			if (b->h[i - 1].commit == (size_t)(c - d->c))
				b->h[i - 1].retracted = 1;
		break;
	}
	if (d->mark) {
		b->dirty = 1;
		model_dirty(d, c);
	}
}

int
model_result(const struct mlog_rec *rec, void *arg)
{
	struct event ev;

	if (model_event(rec, &ev)) {
		model_apply(arg, &ev);
		model_event_free(&ev);
	}
	return 0;
}

/* Is there a line "ITEM ..." in set? */
static const char *
set_find(const struct strbuf *set, const char *line, size_t n)
{
	const char *p;

	for (p = set->buf; *p != '\0'; p = strchr(p, '\n') + 1)
		if (strncmp(p, line, n) == 0 && p[n] == '\n')
			return p;
	return NULL;
}

/*
 * Set or clear the item of the cell of line "ITEM REPO REV BUILDER",
 * and mark its commit dirty when mark is set.
 */
static void
set_cell(struct dash *d, const char *line, size_t n, int on, int mark)
{
	struct strbuf f[4] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
	    STRBUF_INIT };
	const char *p = line, *sp;
	struct commit *c;
	struct cell *cl;
	unsigned r, b;
	int i;

	for (i = 0; i < 4; i++) {
		sp = memchr(p, i < 3 ? ' ' : '\n', (size_t)(line + n + 1 - p));
		if (sp == NULL)
			sp = line + n;
		strbuf_add(&f[i], p, (size_t)(sp - p));
		p = sp + 1;
	}
	if ((r = repo_index(d, f[1].buf, 0)) != (unsigned)-1 &&
	    (c = model_commit(d, r, f[2].buf, 0)) != NULL) {
		b = builder_index(d, f[3].buf);
		if (on)
			add_column(d, &d->repos[r], b);
		if ((cl = model_cell(d, c, b, on)) != NULL) {
			free(cl->item);
			cl->item = on ? xstrdup(f[0].buf) : NULL;
		}
		if (mark)
			model_dirty(d, c);
	}
	for (i = 0; i < 4; i++)
		strbuf_release(&f[i]);
}

void
model_building(struct dash *d, struct strbuf *set)
{
	struct strbuf path = STRBUF_INIT, now = STRBUF_INIT, buf = STRBUF_INIT,
	    err = STRBUF_INIT, live = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;
	struct work_item wi = WORK_ITEM_INIT;
	struct spool sp;
	const char *p, *nl;
	size_t i;

	farm_place(&path, d->dir, FARM_SPOOL_WORK);
	if (spool_open(&sp, path.buf, 0, &err) == RC_OK) {
		if (spool_list(&sp, "cur", &nv, &err) != RC_OK)
			nv.n = 0;
		for (i = 0; i < nv.n; i++) {
			strbuf_reset(&live);
			farm_placef(&live, d->dir, FARM_STATE,
			    "schedule/live/%s.log", nv.v[i]);
			if (access(live.buf, F_OK) != 0 ||
			    spool_read(&sp, "cur", nv.v[i], &buf,
			    WORK_ITEM_MAX, &err) != RC_OK ||
			    workitem_parse(&wi, buf.buf, buf.len, &err) != RC_OK)
				continue;
			if (wi.kind != WORK_TRY && wi.builder != NULL &&
			    *wi.builder != '\0' &&
			    strpbrk(wi.builder, " \n") == NULL &&
			    strpbrk(wi.repo, " \n") == NULL)
				strbuf_addf(&now, "%s %s %s %s\n", nv.v[i],
				    wi.repo, wi.rev, wi.builder);
			workitem_release(&wi);
		}
		spool_names_free(&nv);
		spool_close(&sp);
	}
	/* what stopped, then what runs (the pages change where it started) */
	for (p = set->buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (set_find(&now, p, (size_t)(nl - p)) == NULL)
			set_cell(d, p, (size_t)(nl - p), 0, 1);
	for (p = now.buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		set_cell(d, p, (size_t)(nl - p), 1,
		    set_find(set, p, (size_t)(nl - p)) == NULL);
	strbuf_reset(set);
	strbuf_add(set, now.buf, now.len);
	strbuf_release(&path);
	strbuf_release(&now);
	strbuf_release(&buf);
	strbuf_release(&err);
	strbuf_release(&live);
}

/*
 * Builder names are GOOS-GOARCH[-NOTE]; the grid groups them as the
 * original's ui.go did: by OS (race builders together as "race"), the
 * arch beneath ("x64" for amd64; a race builder shows its OS).
 */
static int
is_race(const char *name)
{
	size_t n = strlen(name);

	return strstr(name, "-race-") != NULL ||
	    (n >= 5 && strcmp(name + n - 5, "-race") == 0);
}

static int
is_temp(const char *name)
{
	size_t n = strlen(name);

	return n >= 5 && strcmp(name + n - 5, "-temp") == 0;
}

static const char *
os_only(const char *name, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_add(out, name, strcspn(name, "-"));
	return out->buf;
}

const char *
builder_os(const char *name, struct strbuf *out)
{
	if (is_race(name)) {
		strbuf_reset(out);
		strbuf_addstr(out, "race");
		return out->buf;
	}
	return os_only(name, out);
}

const char *
builder_arch(const char *name, struct strbuf *out)
{
	const char *a;
	size_t n;

	if (is_race(name))
		return os_only(name, out);
	strbuf_reset(out);
	if ((a = strchr(name, '-')) == NULL)
		return out->buf;
	a++;
	n = strcspn(a, "-");
	if (n == 5 && strncmp(a, "amd64", 5) == 0)
		strbuf_addstr(out, "x64");
	else
		strbuf_add(out, a, n);
	return out->buf;
}

/* What follows GOOS-GOARCH-, or "" (and for race builders, but "race"). */
const char *
builder_note(const char *name)
{
	const char *a = strchr(name, '-');

	if (a == NULL || (a = strchr(a + 1, '-')) == NULL ||
	    strcmp(a + 1, "race") == 0)
		return "";
	return a + 1;
}

static int
os_prio(const char *os)
{
	static const struct {
		const char *os;
		int prio;
	} t[] = {
		{ "all", 0 }, { "darwin", 1 }, { "freebsd", 1 },
		{ "linux", 1 }, { "windows", 1 }, { "race", 2 },
		{ "android", 3 }, { "openbsd", 4 }, { "netbsd", 5 },
		{ "dragonfly", 6 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(t[i].os, os) == 0)
			return t[i].prio;
	return -1;
}

int
builder_prio(const char *name)
{
	struct strbuf os = STRBUF_INIT;
	int p;

	if (is_race(name))
		p = 2;
	else if ((p = os_prio(os_only(name, &os))) < 0)
		p = 10;
	strbuf_release(&os);
	return p + (is_temp(name) ? 20 : 0);
}

/* Not first-class: -temp, or an OS of priority above 1 but race,
 * android and all. */
int
builder_unsupported(const char *name)
{
	struct strbuf os = STRBUF_INIT;
	int p, u;

	if (is_temp(name))
		return 1;
	builder_os(name, &os);
	if (strcmp(os.buf, "race") == 0 || strcmp(os.buf, "android") == 0 ||
	    strcmp(os.buf, "all") == 0)
		u = 0;
	else
		u = (p = os_prio(os.buf)) < 0 || p > 1;
	strbuf_release(&os);
	return u;
}
