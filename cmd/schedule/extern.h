/*
 * extern.h: schedule's parts (schedule.c is the table of contents).
 */
#ifndef SCHEDULE_EXTERN_H
#define SCHEDULE_EXTERN_H

#include <stddef.h>

#include "workitem.h"

struct builder_conf;
struct farmconf;
struct repo_conf;
struct strbuf;

/* what every command shares: schedule.c fills it */
struct sctx {
	const char *dir;		/* the state directory (farm_dir) */
	struct farmconf *conf;		/* after load_conf */
};
extern struct sctx cx;

/* schedule.c */
void usage(void) __attribute__((noreturn));
/*
 * Read the config of cx.dir into cx.conf with the sections want
 * (farmconf.h FC_*); every problem on stderr, then exit 100 (111 on
 * I/O errors).  Unknown keys are warned about.
 */
void load_conf(int want);

/*
 * work.c: the work model.  Work = commits of each repo's watched
 * branches (corpus "git" records) x the repo's builders with run steps
 * - pairs with a counting result (results log; a later "retract" of the
 * same triple undoes one) - pairs queued or running in spool/work, +
 * the items of spool/work/new and spool/try/new.  One total order:
 *   1. try items (spool/try/new), oldest first
 *   2. manual items (spool/work/new), higher prio first, then oldest
 *   3. release branches (all but a repo's first branch), newest first
 *   4. the default branch (the first), newest first
 * round-robin between repos within 3 and 4, and at most the builder's
 * backfill newest commits per builder per branch.  Items of
 * spool/work/new of kind post (requeued after an infrastructure
 * failure, or left by a crash) come right after the manual items,
 * oldest first: they were started once already.  An item that does not
 * parse or names what the config does not have is warned about once
 * and left out.
 *
 * The model follows the logs through cursors: workq_update reads the
 * records appended since the last call and rescans the spools' new/
 * and cur/, so a decision costs little however long the logs are.
 * Nothing is written.
 */
struct work {				/* one unit of work */
	enum work_kind kind;		/* WORK_POST, WORK_TRY, WORK_MANUAL */
	const struct builder_conf *builder; /* NULL: a try item for every try builder */
	const struct repo_conf *repo;
	char rev[65];
	char *branch;			/* post work, or NULL */
	char *item;			/* the spool item's name, when it is one */
	long change, patchset;		/* try */
	int prio;
	long long time;			/* commit time or item time (epoch s) */
};
struct workq;
/* A model of cx (config loaded with FC_BUILDER), not yet read: RC_*. */
int workq_open(struct workq **qp, struct sctx *cx, struct strbuf *err);
/* Read the new records, rescan the spools: RC_OK, RC_PERM, RC_TEMP. */
int workq_update(struct workq *q, struct strbuf *err);
/* The work in priority order; *v is valid until the next update. */
size_t workq_list(struct workq *q, const struct work ***v);
/*
 * The daemon started w (or finished it) without waiting for the logs or
 * the spool to say so: it is left out of the list from now on.
 */
void workq_started(struct workq *q, const struct work *w);
void workq_close(struct workq *q);
/* A full commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits. */
int full_rev(const char *s);

/*
 * key.c: the master key, keys/master (32 bytes): read into key; when it
 * is missing and create is set, made of random bytes, mode 0600,
 * atomically.  RC_OK, RC_NO (missing, !create), RC_PERM (wrong size or
 * mode), RC_TEMP, err filled.
 */
int master_key(unsigned char key[32], int create, struct strbuf *err);

/*
 * blog.c: a build's log, written as it is produced to the live file
 * state/schedule/live/ITEM.log and to standard output (failures there
 * are said once and do not stop the build).
 *   blog_open    create (truncate) the live file; RC_TEMP on failure
 *   blog_write, blog_printf   append text
 *   blog_store   end the text and publish it, gzip'd, as
 *                buildlogs/AB/HASH.gz (HASH its SHA-256, into hash)
 *   blog_close   remove the live file and free (NULL: nothing)
 */
struct blog;
int blog_open(struct blog **bp, const char *dir, const char *item,
    struct strbuf *err);
void blog_write(struct blog *b, const void *p, size_t n);
void blog_printf(struct blog *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int blog_store(struct blog *b, const char *dir, char hash[65],
    struct strbuf *err);
void blog_close(struct blog *b);

/* the commands: argv[0] is the command's name */
int cmd_add(int argc, char **argv);		/* find.c */
int cmd_build(int argc, char **argv);		/* build.c */
int cmd_find(int argc, char **argv);		/* find.c */
int cmd_key(int argc, char **argv);		/* key.c */
int cmd_serve(int argc, char **argv);		/* serve.c */
int cmd_status(int argc, char **argv);		/* status.c */

#endif
