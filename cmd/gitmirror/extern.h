/*
 * extern.h: the parts of gitmirror(1).
 *
 * gitmirror.c  main, options, the configuration ([repo "NAME"])
 * sync.c       fetch, record in the corpus, push; per-repo state
 * archive.c    byte-stable tar.gz of a tree
 * serve.c      the HTTP server, status and fsck
 */
#ifndef GITMIRROR_EXTERN_H
#define GITMIRROR_EXTERN_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct gitx_repo;

#define DEF_BACKFILL	100
#define DEF_TIMEOUT_S	300
#define DEF_INTERVAL_S	600
#define PUSH_BATCH	200
#define DEF_LISTEN	"127.0.0.1:8585"
#define DEF_CACHE	(1ull << 30)

struct repo {
	const char *name;
	const char *upstream;
	const char **push;
	size_t npush;
	const char **branch;
	size_t nbranch;
	int mirror;
	int64_t backfill;
	int64_t timeout_s;
	int64_t interval_s;
	const char *credentials;	/* netrc-format file, or NULL */
	const char *sshkey;
	const char *knownhosts;		/* known_hosts file, or NULL */
};

struct ctx {
	const char *dir;	/* the farm's state directory */
	struct repo *repos;
	size_t nrepos;
	int nflag;
};
extern struct ctx cx;

void usage(void);
struct repo *repo_find(const char *name);
/* Repos named in argv (all when argc is 0); exits 100 on unknown ones. */
struct repo **repo_select(int argc, char **argv, size_t *n);
void mirror_path(struct strbuf *out, const struct repo *r);
void state_path(struct strbuf *out, const char *name, const char *ext);
/* Testing hook: GITMIRROR_TEST_CRASH_AT=NAME raises SIGKILL there. */
void crash_point(const char *name);

/* sync.c */
int sync_repo(struct repo *r);
int sync_dry(struct repo *r);
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
/* One line: "NAME ok|hung|broken fetched=... pushed=... lag=... error=..." */
int status_line(const struct repo *r, struct strbuf *out);

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

/* serve.c */
int serve_run(const char *listen, uint64_t cachemax);
int fsck_run(int argc, char **argv);
int status_run(int argc, char **argv);

#endif
