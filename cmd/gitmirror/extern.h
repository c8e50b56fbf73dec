/*
 * extern.h: the parts of gitmirror(1).
 *
 * gitmirror.c  main, options, loading the configuration
 * sync.c       fetch, record in the corpus, push; per-repo state
 * archive.c    byte-stable tar.gz of a tree
 * fetchref.c   one change ref fetched on demand, and expired
 * serve.c      the HTTP server, status and fsck
 */
#ifndef GITMIRROR_EXTERN_H
#define GITMIRROR_EXTERN_H

#include <stddef.h>
#include <stdint.h>

#include "farmconf.h"		/* struct repo_conf: [repo "NAME"] */
#include "git.h"		/* GITX_HEXSZ */

struct strbuf;

#define PUSH_BATCH	200
#define DEF_LISTEN	"127.0.0.1:8585"
#define DEF_CACHE	(1ull << 30)
#define DEF_FETCHES	10	/* on-demand fetches per repo a minute */
/*
 * sync -j: repos synced at once.  A sync mostly waits on remotes and
 * forks, not on our CPUs, so the count is not the CPUs'; more than
 * this would hold many connections open to one upstream host.
 */
#define DEF_JOBS	8
/* a change ref fetched on demand is deleted when not fetched for this */
#define CHANGES_KEEP_S	(7 * 86400)

struct ctx {
	const char *dir;	/* the farm's state directory */
	struct repo_conf *repos;
	size_t nrepos;
	int nflag;
	int qflag;		/* sync -q: record, print nothing */
};
extern struct ctx cx;

void usage(void);
/*
 * Read the config again: RC_OK with cx's repos replaced (the old ones
 * freed: no one may hold them), else the problems in err and cx as it
 * was.
 */
int config_reload(struct strbuf *warn, struct strbuf *err);
struct repo_conf *repo_find(const char *name);
/* Repos named in argv (all when argc is 0); exits 100 on unknown ones. */
struct repo_conf **repo_select(int argc, char **argv, size_t *n);
void mirror_path(struct strbuf *out, const struct repo_conf *r);
void state_path(struct strbuf *out, const char *name, const char *ext);
/* Testing hook: GITMIRROR_TEST_CRASH_AT=NAME raises SIGKILL there. */
void crash_point(const char *name);

/* sync.c */
int sync_repo(struct repo_conf *r);
/*
 * sync_repo on each of v[0..n), up to jobs at once (one thread each);
 * the outcomes folded with rc_worse from RC_NO.
 */
int sync_repos(struct repo_conf **v, size_t n, int jobs);
int sync_dry(struct repo_conf *r);
/* the push filter: 1 when a downstream host may get name */
int push_wanted(const char *name);

/* the status file kept beside each repo's state */
struct status {
	long long fetched, pushed, synced;	/* last success, epoch s */
	long long tried;			/* last attempt */
	char error[512];			/* last error, "" if none */
};
int status_read(const char *name, struct status *st);
int status_write(const char *name, const struct status *st,
    struct strbuf *err);
/*
 * One line: "NAME ok|hung|never|failed synced=... fetched=... pushed=...
 * lag=... [error=...]"; 1 when the state is not ok.
 */
int status_line(const struct repo_conf *r, struct strbuf *out);

/* archive.c */
/*
 * Write the tar.gz of rev in r to fd.  RC_NO when rev is unknown,
 * RC_TEMP on I/O errors.  threads: gzip workers, 0 for every CPU.
 */
int archive_write(struct gitx_repo *g, const char *rev, const char *prefix,
    int fd, int threads, struct strbuf *err);
int archive_write_tree(struct gitx_repo *g, const char *tree,
    long long mtime, const char *prefix, int fd, int threads,
    struct strbuf *err);
/*
 * The same bytes handed to out(arg, p, n) as they are compressed; out
 * returns 0, or -1 with errno set to stop the making (RC_TEMP).
 */
int archive_write_tree_to(struct gitx_repo *g, const char *tree,
    long long mtime, const char *prefix,
    int (*out)(void *arg, const void *p, size_t n), void *arg, int threads,
    struct strbuf *err);

/* fetchref.c */
/* 1 when ref is "refs/changes/NN/CHANGE/PATCHSET", NN = CHANGE mod 100 */
int changeref_ok(const char *ref);
/* the name under which the mirror keeps the change ref ref */
void changeref_local(struct strbuf *out, const char *ref);
/*
 * Fetch the change ref ref of r's upstream into the mirror (made if
 * need be); oid gets its commit.  RC_NO when upstream has no such ref.
 */
int fetch_ref(struct repo_conf *r, const char *ref,
    char oid[GITX_HEXSZ + 1], struct strbuf *err);
/* Delete r's change refs not fetched for CHANGES_KEEP_S; logs. */
void changes_expire(struct repo_conf *r, struct gitx_repo *g);

/* serve.c */
/* fetchmax: fetches an unknown revision may cause per repo a minute */
int serve_run(const char *listen, uint64_t cachemax, int fetchmax);
int fsck_run(int argc, char **argv);
/* jflag: JSON lines */
int status_run(int argc, char **argv, int jflag);

#endif
