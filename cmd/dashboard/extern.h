/*
 * extern.h: dashboard's parts (dashboard.c is the table of contents).
 *
 * The model is everything the pages show, built from the two logs and
 * kept up to date record by record; each change marks what it touches
 * dirty, and the renderer writes the dirty pages and nothing else.
 */
#ifndef DASHBOARD_EXTERN_H
#define DASHBOARD_EXTERN_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct farmconf;
struct mlog_rec;

#define PER_PAGE	30	/* commits per grid page, as the original */
#define HISTORY		100	/* results a builder page plots */

enum cell_state {
	CELL_NONE,		/* no result (or it was retracted) */
	CELL_OK,
	CELL_FAIL,
};

struct attempt {			/* an infrastructure failure */
	char *buildlet;
	char *reason;
	int64_t n;
};

/* One builder's outcome on one commit. */
struct cell {
	unsigned builder;
	enum cell_state state;
	char log[65];			/* "" when the record had none */
	int64_t elapsed_ms;
	int64_t attempt;
	char *buildlet;
	char *time;			/* the result record's */
	struct attempt *att;		/* since the last result */
	size_t natt, aatt;
	int retracted;			/* results retracted so far */
	char *item;			/* building: the spool item, or NULL */
};

struct commit {
	unsigned repo;
	int branch;			/* -1 until its git record is read */
	size_t pos;			/* in its branch, oldest first */
	char hash[65];
	char *author, *email;
	char *date;			/* the author's time, as recorded */
	char *msg;
	char *parent;			/* the first parent, or NULL */
	struct cell *cells;
	size_t ncells, acells;
	int dirty;
};

struct branch {
	char *name;
	size_t *v;			/* commits, oldest first */
	size_t n, alloc;
	int dirty;			/* every page (a commit came) */
};

struct repo {
	char *name;
	struct branch *br;
	size_t nbr;
	unsigned *cols;			/* builders with results here, sorted */
	size_t ncols;
	int dirty;			/* every page (the columns changed) */
};

struct hist {				/* one result of a builder */
	size_t commit;
	int ok;
	int retracted;
	int64_t elapsed_ms;
};

struct builder {
	char *name;
	int prio;			/* the original's column order */
	int unsupported;		/* not a first-class port */
	struct hist *h;
	size_t nh, ah;
	int dirty;
};

struct dash {
	const char *dir;		/* state directory */
	const char *out;		/* OUTDIR */
	int outfd;
	const char *url;		/* [farm] url, or NULL */
	struct commit *c;
	size_t nc, ac;
	size_t *tab;			/* open addressing: commit index + 1 */
	size_t ntab;
	struct repo *repos;
	size_t nrepos;
	struct builder *b;
	size_t nb;
	size_t *dirtyc;			/* commits marked dirty */
	size_t ndirtyc, adirtyc;
	char **logs;			/* failure logs to write */
	size_t nlogs, alogs;
	int mark;			/* mark what changes dirty */
	int all;			/* render everything */
	int any;			/* something changed */
};

/* model.c */
void model_init(struct dash *d, const struct farmconf *fc);
/* mlog_each callbacks: git records; result, attempt and retract */
int model_git(const struct mlog_rec *rec, void *arg);
int model_result(const struct mlog_rec *rec, void *arg);
/*
 * model_result in two steps, so that records can be parsed on other
 * threads and applied in order: model_event (1 when the grid shows
 * the record), model_apply (which marks what changes dirty when
 * d->mark is set), model_event_free.
 */
struct event {
	enum { EV_RESULT, EV_ATTEMPT, EV_RETRACT } type;
	uint64_t seq;
	char *builder, *repo, *buildlet, *time, *reason;
	char rev[65], log[65];
	int ok;
	int64_t elapsed_ms, attempt;
};
int model_event(const struct mlog_rec *rec, struct event *ev);
void model_apply(struct dash *d, struct event *ev);
void model_event_free(struct event *ev);
/*
 * Mark running builds: items of spool/work/cur with a live log in
 * state/schedule/live.  *set is "ITEM REPO REV BUILDER\n" lines, the
 * previous set on entry (cells it names are cleared and marked dirty
 * when they change), the new one on return.
 */
void model_building(struct dash *d, struct strbuf *set);
/* Find (or with create, make) a commit or a commit's cell. */
struct commit *model_commit(struct dash *d, unsigned repo,
    const char *hash, int create);
struct cell *model_cell(struct dash *d, struct commit *c, unsigned b,
    int create);
/* The same lookups for readers of the model (the renderer). */
const struct commit *model_lookup(const struct dash *d, unsigned repo,
    const char *hash);
const struct cell *model_cell_of(const struct commit *c, unsigned b);
void model_dirty(struct dash *d, struct commit *c);
/* The original's grouping of builder names. */
const char *builder_os(const char *name, struct strbuf *out);
const char *builder_arch(const char *name, struct strbuf *out);
const char *builder_note(const char *name);
int builder_prio(const char *name);
int builder_unsupported(const char *name);

/* render.c: the dirty pages, then the machine-readable files */
int render(struct dash *d, struct strbuf *err);
/* s as a file name: [A-Za-z0-9.-] kept but a leading '.', others _XX */
void fsname(struct strbuf *out, const char *s);

#endif
