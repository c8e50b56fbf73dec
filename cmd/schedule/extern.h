/*
 * extern.h: schedule's parts (schedule.c is the table of contents).
 */
#ifndef SCHEDULE_EXTERN_H
#define SCHEDULE_EXTERN_H

#include <stddef.h>

#include "html.h"		/* html_esc, for the pages */
#include "workitem.h"

#include <pthread.h>

#include "httpd.h"
#include "strbuf.h"

struct builder_conf;
struct farmconf;
struct hosttype_conf;
struct json;
struct pollfd;
struct proc;
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

/*
 * www.c: the dashboard's output directory ([dashboard] dir) as static
 * files.  www_present: does it hold index.html?  www_serve: reply with
 * the regular file at the request's path under it (".../" means
 * ".../index.html") and return 1, or return 0 without replying when
 * there is none or the path is refused (a component starting with '.',
 * a symlink on the way).
 */
struct httpd_req;
int www_present(void);
int www_serve(struct httpd_req *req, const char *path);

/* the commands: argv[0] is the command's name */
int cmd_add(int argc, char **argv);		/* find.c */
int cmd_build(int argc, char **argv);		/* build.c */
int cmd_find(int argc, char **argv);		/* find.c */
int cmd_key(int argc, char **argv);		/* key.c */
int cmd_serve(int argc, char **argv);		/* serve.c */
int cmd_status(int argc, char **argv);		/* status.c */

/* pool.c: the machines of every host type, one table */
enum machine_state {
	MACHINE_CREATING,	/* its create command runs */
	MACHINE_IDLE,
	MACHINE_BUSY,		/* runs the build item */
	MACHINE_DEAD,		/* missed its heartbeats: left out */
	MACHINE_DESTROYING,	/* its destroy command runs or is due */
	MACHINE_LEASED,		/* a gomote instance: item is its name */
	MACHINE_HELD,		/* kept after item failed (builder hold) */
	MACHINE_NSTATES
};
struct machine {
	char *name;		/* HOSTTYPE-N */
	const struct hosttype_conf *ht;
	char *url;		/* NULL while creating */
	char *pwfile;		/* the password's file, or NULL */
	char *password;		/* its first line, or NULL */
	enum machine_state state;
	char *item;		/* BUSY: the spool item it runs */
	long long idle_since;	/* wall seconds */
	long long created;	/* wall seconds */
	int misses;		/* heartbeats missed in a row */
	long long next_beat;	/* mono_ms of the next heartbeat */
	int beating;		/* the heartbeat thread has it */
	/* command pools: the create or destroy command */
	struct proc *cmd;
	int cmd_out;		/* its stdout, or -1 */
	struct strbuf out;
	int backoff_s;		/* destroy retries */
	long long retry_at;	/* mono_ms */
	struct rmachine *rev;	/* reverse pools: its registration */
};
extern pthread_mutex_t sched_mu;	/* serve.c */
/*
 * The table is read and changed under sched_mu (serve.c), which the
 * loop holds but while it polls; the heartbeat thread and the HTTP
 * threads take it too.
 */
int pool_init(struct strbuf *err);	/* adopt or destroy the records */
void pool_shutdown(void);
struct machine *pool_idle(const struct hosttype_conf *ht);
struct machine *pool_find(const char *name);
/* want more machines of ht: start creates up to n more (max, backoff) */
void pool_want(const struct hosttype_conf *ht, size_t n);
void pool_busy(struct machine *m, const char *item);
/* the build on m ended; infra: the machine failed it */
void pool_release(struct machine *m, int infra);
/*
 * gomote: pool_lease gives an idle machine to what (an instance name);
 * pool_hold keeps a busy one after its build (or an idle one again after
 * a restart, item its build's); pool_unlease ends either:
 * back to idle, or with unmake the destroy command of a command pool.
 * pool_wake makes the loop turn soon (from any thread); pool_count
 * counts ht's machines by state.
 */
void pool_lease(struct machine *m, const char *what);
void pool_hold(struct machine *m, const char *item);
void pool_unlease(struct machine *m, int unmake);
void pool_wake(void);
void pool_count(const struct hosttype_conf *ht, size_t n[MACHINE_NSTATES]);
/* the loop's fds: create and destroy commands, the heartbeat wake-up */
size_t pool_pollfds(struct pollfd *pfd, size_t max);
void pool_tick(void);		/* reap commands, idle, retries */
int pool_timeout(void);		/* ms until pool_tick is due; <= 1000 */
struct json *pool_status(void);	/* the pools array of status.json */
/* reverse pools: a machine that registered, and one that went away */
struct machine *pool_add(const struct hosttype_conf *ht, const char *name,
    const char *url, const char *pwfile, const char *password);
void pool_remove(struct machine *m);
const char *machine_state_name(enum machine_state s);

/*
 * gomote.c: the remote-buildlet API (gomote(1) and schedule(1) say it):
 * /buildlet/create, /buildlet/list, /buildlet/builders and the
 * X-Buildlet-Proxy proxy.
 *   gomote_init       after pool_init: the master key, and the instances
 *                     recorded in state/schedule/gomote found again
 *   gomote_route      from the HTTP handler: 1 when the request was the
 *                     API's (and answered), 0 when it is someone else's
 *   gomote_body_mode  httpd's body_mode: proxied PUT bodies stream
 * With sched_mu held, from the loop:
 *   gomote_take       an idle machine m that a build would take: 1 when
 *                     it went to a waiting create instead (the host
 *                     type's gomote-preempt, else in turns)
 *   gomote_waiting    creates of ht waiting for a machine
 *   gomote_tick       serve waiters, expire idle instances and holds
 *   gomote_status     its instances and waiting creates, as JSON
 *   gomote_hold       the build of item on m failed: 1 when builder's
 *                     hold keeps m (MACHINE_HELD) instead of releasing it
 */
int gomote_init(struct strbuf *err);
int gomote_route(struct httpd_req *req);
enum httpd_body_mode gomote_body_mode(struct httpd_req *req, void *arg);
int gomote_take(struct machine *m);
size_t gomote_waiting(const struct hosttype_conf *ht);
void gomote_tick(void);
struct json *gomote_status(void);	/* the "gomote" of status.json */
int gomote_hold(struct machine *m, const char *item, const char *builder);

/* serve.c: the tables as status.json says them (takes sched_mu) */
struct json *serve_status(void);

/*
 * reverse.c: reverse buildlets (buildlet -reverse-type).
 *   reverse_init    the reverse host types' keys, from the master key,
 *                   and their files state/schedule/reverse/HOSTTYPE.key
 *                   (the machines' password files); 0 or -1 with err
 *   reverse_handle  GET /reverse (registration, the control channel)
 *                   and GET /reverse/data/ID (a data connection): 1
 *                   when it answered req, 0 when the path is not its
 *   reverse_status  a reverse machine's fields of status.json
 * Registrations join the machine table under sched_mu, each with a
 * loopback bridge for its url; see reverse.c.
 */
struct rmachine;
struct httpd_req;
int reverse_init(const unsigned char master[32], struct strbuf *err);
int reverse_handle(struct httpd_req *req);
void reverse_status(const struct machine *m, struct json *o);

/* status.c: the HTTP server's handler */
struct httpd_req;
void status_handle(struct httpd_req *req, void *arg);

/* build.c: the path of a sibling tool (gitmirror, pollgerrit) */
void tool_path(struct strbuf *out, const char *name);

/*
 * serve.c: kill the running build of item, which then ends in done/
 * rather than being retried (a cancelled try build).
 */
void serve_cancel(const char *item);

/*
 * try.c: TryBot runs, one per item of spool/try, claimed by the daemon:
 * a build per TryBot builder of the repo (spool/work items RUN.BUILDER
 * of kind try), "TryBots beginning" and the TryBot-Result vote posted
 * through pollgerrit review, exactly once across restarts; a later
 * patch set, or the change merged or abandoned, cancels the run.  All
 * under sched_mu.
 *   try_init     at start-up, after the spools and logs are open:
 *                requeue the runs of a dead daemon
 *   try_tick     the loop's turn: adopt new items, follow the corpus
 *                (corpus_changed: its watch fired), reap posters,
 *                post, vote, cancel
 *   try_result   a result record the daemon read
 *   try_wants    should the try work item be built?  0 drops it (its
 *                run is over) or keeps it waiting (not adopted yet)
 *   try_pollfds, try_timeout   the posters, for the loop's poll
 *   try_status   the runs as status.json's "try" array
 *   try_html     that array as a table of the status page
 *   try_page     /try/CHANGE/PATCHSET (rest is what follows /try/)
 */
struct mlog;
struct spool;
void try_init(struct spool *work, struct spool *trysp, struct mlog *corpus,
    struct mlog *results);
void try_tick(int corpus_changed);
void try_result(const struct json *rec);
int try_wants(const char *item);
size_t try_pollfds(struct pollfd *pfd, size_t max);
int try_timeout(void);
struct json *try_status(void);
void try_html(struct strbuf *out, const struct json *runs);
void try_page(struct httpd_req *req, const char *rest);

#endif
