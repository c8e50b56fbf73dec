/*
 * extern.h: the buildlet's parts (buildlet.c is the table of contents).
 */
#ifndef BUILDLET_EXTERN_H
#define BUILDLET_EXTERN_H

#include <sys/types.h>
#include <stddef.h>

#include "httpd.h"
#include "proc.h"	/* go_strerror */

struct strbuf;

/*
 * What the buildlet reports in /status: the original's protocol level
 * of July 2017 (15: /connect-ssh), which this buildlet speaks in full.
 * Its extensions (X-Exit-Code, timeout) are seen by their presence.
 */
#define BUILDLET_VERSION 15

/* Size limits (documented in buildlet(1)). */
#define MAX_FORM	(10 << 20)	/* a buffered body, so any form */
#define MAX_FIELD	(1 << 20)	/* one form or query value */
#define MAX_VALUES	65536		/* cmdArg + env + path, skip, path */
#define MAX_UPLOAD	(64ULL << 30)	/* /write body, /writetgz data */
#define DEFAULT_MIN_FREE "512M"	/* -min-free */
#define SPACE_EVERY	(8 << 20)	/* /write: bytes between min-free checks */

/* Connection limits (SECURITY in buildlet(1)). */
#define MAX_CONNS	1000	/* open at once */
#define MAX_CONNS_ADDR	64	/* from one client address */
#define RESERVE_CONNS	200	/* of MAX_CONNS, for addresses that logged in */
#define UNAUTH_TIMEOUT_S 10	/* idle timeout until a request logs in */

/* The configuration, set up by main() before the server starts. */
struct buildlet {
	char *workdir;		/* absolute, no trailing slash */
	char *password;		/* NULL: no authentication */
	const char *halt_cmd;	/* NULL: /halt only ends the process */
	int ssh_port;
	unsigned long long min_free;	/* bytes writes leave free; 0: none */
	char **env;		/* the commands' base environment */
	size_t nenv;
	const char *path;	/* PATH for finding commands (mode=sys) */
	struct httpd *h;
};
extern struct buildlet bl;

/* serve.c */
void serve(struct httpd_req *req, void *arg);
enum httpd_body_mode body_mode(struct httpd_req *req, void *arg);
/* the work directory, made again if it was removed; -1 after a 500 */
int workdir_open(struct httpd_req *req);
/* 400 when a request parameter held a NUL byte or a bad %-escape */
int params_have_nul(struct httpd_req *req);
/*
 * The values of a repeatable field, or -1 with why filled (too many,
 * too long: a 400, which the caller sends as its endpoint sends errors)
 */
ssize_t form_values(struct httpd_req *req, const char *key,
    const char *const **vals, struct strbuf *why);
void halt_later(void);

/* exec.c */
void handle_exec(struct httpd_req *req);
/* the process groups of running commands, killed on shutdown */
void exec_kill_all(void);
/*
 * Kill and reap what finished commands left behind (all: everything
 * any command left); see exec.c.  The buildlet must be a subreaper.
 */
void kill_orphans(int all);
/*
 * An /exec request checked and turned into what to run, without
 * running it (exec.c; the form fuzzer calls it too).
 */
struct exec_spec {
	char *path;		/* the program, resolved: NULL if not found */
	char *start_err;	/* why it cannot start (Go's words), or NULL */
	char **argv;		/* NULL-terminated */
	char **envp;		/* NULL-terminated, deduplicated */
	char *pathenv;		/* the "PATH=" string made from path */
	char *dir;
	char *reldir;		/* dir beneath the work dir, to check; or NULL */
	char *relcmd;		/* the program beneath it, to check; or NULL */
	int debug;
	long long timeout_ms;	/* 0: none */
};
int exec_prepare(struct httpd_req *req, struct exec_spec *spec,
    int *status, struct strbuf *msg);
void exec_spec_free(struct exec_spec *spec);
/*
 * Whether reldir and relcmd resolve beneath the work directory wfd
 * without a symbolic link: 0, or -1 with a 400's message in msg.
 */
int exec_confine(const struct exec_spec *spec, int wfd, struct strbuf *msg);

/* files.c */
void handle_write(struct httpd_req *req);
void handle_writetgz(struct httpd_req *req);
void handle_removeall(struct httpd_req *req);
/* remove everything in directory dirfd (not dirfd itself): 0 or -1 */
int empty_dir(int dirfd, struct strbuf *err);

/* list.c */
void handle_ls(struct httpd_req *req);
void handle_tgz(struct httpd_req *req);

/* ssh.c */
void handle_connect_ssh(struct httpd_req *req);

/*
 * reverse.c: reverse mode.  main() fills rv, starts the HTTP server
 * without a listening socket, then reverse_start; reverse_stop before
 * httpd_stop.  The protocol is in buildlet(1), REVERSE MODE.
 */
struct reverse {
	const char *type;	/* -reverse-type: the host type */
	const char *coordinator;	/* its URL, no trailing slash */
	const char *hostname;
	const char *cafile;	/* -ca-file, or NULL: the system's */
	char *key;		/* the host type's key (also bl.password) */
};
extern struct reverse rv;
int reverse_start(struct strbuf *err);
void reverse_stop(void);

/* util.c: pure functions, fuzzed by fuzz/fuzz-path.c */
int valid_rel_path(const char *p);
int valid_rel_dir(const char *d, struct strbuf *clean);
void path_clean(struct strbuf *out, const char *p);
void go_quote(struct strbuf *out, const char *s);
void go_quote_list(struct strbuf *out, char *const *v);
void go_mode(struct strbuf *out, mode_t mode);
int parse_bool(const char *s, int *b);
size_t env_dedup(char **env, size_t n);
const char *env_get(char *const *env, size_t n, const char *key);
int parse_timeout(const char *s, long long *ms);

#endif
