/*
 * extern.h: pollgerrit's parts (pollgerrit.c is the table of contents).
 *
 *   conf.c    the servers, from the config's [gerrit "NAME"] sections
 *   gerrit.c  Gerrit REST: credentials, rate limit, requests, paging
 *   change.c  what pollgerrit remembers of a change (its digest), how a
 *             ChangeInfo, a corpus record or the state file becomes one,
 *             and what changed between two of them
 *   state.c   the per-server state file, the lock, catching up with the
 *             corpus, recording
 *   poll.c    one poll round, the watch loop, printing
 *   stream.c  gerrit stream-events on stdin
 *   try.c     TryBot work items in spool/try
 *   query.c   review and query, which only talk to Gerrit
 */
#ifndef POLLGERRIT_EXTERN_H
#define POLLGERRIT_EXTERN_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "mlog.h"
#include "spool.h"
#include "strbuf.h"

struct farmconf;
struct json;

/* json_kind, for values that may be absent (NULL). */
static inline int
kind_is(const struct json *j, enum json_kind k)
{
	return j != NULL && json_kind(j) == k;
}

/* Bounds on what we accept from Gerrit and from stdin. */
#define MAX_PAGES	100000
#define MAX_CHANGES	1000000
#define MAX_EVENT_LINE	((size_t)1 << 20)
#define MAX_MESSAGE	((size_t)1 << 20)	/* review -F */
#define LOCK_WAIT_MS	30000

/* A Gerrit account as records show it; id 0 when unknown. */
struct account {
	int64_t id;
	char *name, *email, *username;
};

/* One vote on the current patch set; value is never 0. */
struct vote {
	char *label;
	struct account who;
	int value;
};

/*
 * What pollgerrit remembers of a change: enough to tell a real change
 * of state (patch set, status, votes, number of messages) from a
 * repeat, and to write a record's whole-state fields.
 */
struct change {
	int64_t number;
	char *project, *branch, *change_id, *subject, *status, *rev;
	int64_t patchset;
	int64_t nmsgs;		/* messages recorded so far */
	struct account owner;
	struct vote *votes;	/* sorted by label, then account */
	size_t nvotes, avotes;
	char *updated;		/* Gerrit time of a poll's view */
	int64_t seq;		/* corpus seq of the last record applied */
	char *line;		/* its state file line, or NULL: a cache */
};

/* The open-addressing table of changes, by number. */
struct changes {
	struct change **slot;
	size_t cap, n;
};

/* Known accounts, for votes from stream-events (which carry no id). */
struct accounts {
	struct account **slot;	/* by id */
	size_t cap, n;
};

/* A file of the state's changes, loaded; see state.c. */
struct bucket {
	int64_t id;
	int dirty;
};

struct state {
	uint64_t seq;		/* last corpus seq this state reflects */
	char *cursor;		/* Gerrit time polled up to, or NULL */
	struct changes ch;	/* the changes of the loaded buckets */
	struct bucket *bk;
	size_t nbk, abk;
	int bfd;		/* NAME.changes/, or -1 */
	struct accounts acc;
	int dirty;		/* differs from the state file */
	struct mlog_cursor ccur;	/* corpus read position */
	int ccur_ok;
	struct mlog_cursor hint;	/* the state file's read position */
	int hint_ok;
};

/*
 * One [gerrit "NAME"] section, and what we hold for it.  The strings of
 * the section belong to cx.conf.
 */
struct server {
	char *name;
	char *url;		/* scheme://host[/prefix], no trailing '/' */
	char *host;
	char *path;		/* the prefix, "" or "/prefix" */
	int https;
	char **projects;
	size_t nprojects;
	char *gitcookies;
	long timeout_ms;
	int rate;		/* requests per second */
	int overlap;		/* seconds */
	int pagesize;
	size_t maxbody;
	char *since;		/* first poll: Gerrit time, or NULL */

	/* credentials (gerrit_auth) */
	int auth_done;
	int authed;		/* prefix /a to paths */
	int netrc;
	int cookies;		/* send the gitcookies file's cookies */
	char *credsrc;		/* where credentials came from */
	long long next_req_ms;	/* rate limit: earliest next request */
	unsigned long nreq;	/* requests made */

	int lockfd;
	struct state *st;

	/* watch: back-off */
	int fails;
	long long retry_after;	/* s, from a 429 or 503 this round; -1: none */
	long long next_full_ms, next_try_ms;
};

/* Process-wide: the farm's paths and open handles. */
struct ctx {
	const char *dir;
	int statefd;		/* DIR/state/pollgerrit */
	struct mlog *corpus;
	struct spool try;
	int try_open;
	int jflag;
	struct farmconf *conf;
	struct server *servers;
	size_t nservers;
	volatile int stop;	/* a signal asked us to finish */
};
extern struct ctx cx;

/* pollgerrit.c */
void usage(void) __attribute__((noreturn));
void crash_point(const char *name);

/* conf.c */
/* Takes fc, which conf_free frees. */
int conf_load(struct farmconf *fc, struct server **sv, size_t *n);
struct server *conf_find(const char *name);
int conf_select(int argc, char **argv, struct server ***sel, size_t *n);
void conf_free(struct server *sv, size_t n);

/* gerrit.c */
enum query_opts {
	Q_DETAIL = 1 << 0,	/* labels, messages, accounts */
	Q_REVISION = 1 << 1,	/* current revision and commit only */
};
int gerrit_auth(struct server *s, struct strbuf *err);
int gerrit_query(struct server *s, const char *q, int opts,
    int (*fn)(struct json *ci, void *arg), void *arg, struct strbuf *err);
int gerrit_post(struct server *s, const char *path, const struct json *body,
    struct strbuf *err);
void gerrit_release(struct server *s);
int gtime_parse(const char *s, int64_t *secs, long *nanos);
void gtime_format(struct strbuf *out, int64_t secs, long nanos);
int gtime_cmp(const char *a, const char *b);
void gtime_rfc3339(struct strbuf *out, const char *gtime);

/* change.c */
void account_release(struct account *a);
void account_copy(struct account *dst, const struct account *src);
struct json *account_json(const struct account *a);
void change_free(struct change *c);
struct change *change_dup(const struct change *c);
int change_from_info(const struct json *ci, struct change **cp,
    struct json **msgs, struct strbuf *err);
int change_from_json(const struct json *j, struct change **cp,
    struct strbuf *err);
struct json *change_json(const struct change *c, int for_state);
struct json *change_record(const struct server *s, const struct change *c,
    const char *const *events, size_t nev, struct json *msgs);
size_t change_diff(const struct change *old, const struct change *c,
    const char **events);
int change_same(const struct change *a, const struct change *b);
void change_set_vote(struct change *c, const char *label,
    const struct account *who, int value);
int change_try_wanted(const struct change *c);
struct change *changes_get(const struct changes *t, int64_t number);
void changes_put(struct changes *t, struct change *c);
void changes_free(struct changes *t);
struct account *accounts_get(const struct accounts *t, int64_t id);
const struct account *accounts_find(const struct accounts *t,
    const char *email, const char *username);
int accounts_learn(struct accounts *t, const struct account *a);
void accounts_free(struct accounts *t);

/* state.c */
int state_lock(struct server *s, int wait_ms, struct strbuf *err);
void state_unlock(struct server *s);
int state_load(struct server *s, struct strbuf *err);
int state_save(struct server *s, struct strbuf *err);
int state_want(struct server *s, int64_t number, struct strbuf *err);
void state_put(struct server *s, struct change *c);
void state_free(struct server *s);
int state_record_begin(struct server *s, int64_t **touched, size_t *ntouched,
    struct strbuf *err);
int state_record(struct server *s, struct json **recs, size_t n,
    struct strbuf *stored, struct strbuf *err);
void state_record_end(struct server *s);

/* poll.c */
enum poll_what {
	POLL_CHANGES = 1 << 0,
	POLL_TRY = 1 << 1,
};
int poll_round(struct server *s, int what, int lock_wait_ms);
int watch_loop(struct server **sel, size_t n, long try_ms, long full_ms);
void print_records(const struct server *s, struct json **recs, size_t n,
    const struct strbuf *stored);
int print_flush(void);

/* stream.c */
int events_run(struct server *s);

/* query.c */
int review_post(struct server *s, const char *change, const char *revision,
    char **labels, size_t nlabels, const char *message);
int query_list(struct server *s, const char *q);

/* try.c */
int try_open(struct strbuf *err);
int try_queue(struct server *s, const struct change *c, struct strbuf *err);
int try_caught_up(struct server *s, const int64_t *touched, size_t n,
    struct strbuf *err);

#endif
