/*
 * bclient.h: the client of the buildlet protocol (buildlet(1)), one
 * function per endpoint, built on lib/http.  It speaks to our buildlet
 * and to the original Go buildlet of July 2017 alike: what it sends is
 * what the original Go client sent, and it understands both the
 * original's answers and our additions (the X-Exit-Code trailer).
 *
 * A struct bclient is a plain description of one buildlet, filled in by
 * the caller and never changed by the calls, so one may serve several
 * threads at once (unless it has a conn):
 *
 *   struct bclient c = BCLIENT_INIT;
 *   c.url = "https://10.0.0.5:5936"; c.name = "linux-amd64-1";
 *   c.password = pw;
 *   if ((rc = bclient_exec(&c, &x, &res, &err)) != RC_OK)
 *           ... err.buf says which buildlet and what failed ...
 *   else if (res.code != 0)
 *           ... the command failed: res.state says how ...
 *
 * Every call returns an RC_* code (rc.h):
 *
 *   RC_OK    the buildlet did it.  For bclient_exec this includes a
 *            command that exited non-zero, was killed or could not
 *            start: that is the command's failure, told in the result.
 *   RC_PERM  the buildlet refused the request: a 4xx (a bad path, a
 *            bad password, an unknown endpoint), an https certificate
 *            that does not verify, a malformed URL.  Asking again will
 *            fail again.
 *   RC_TEMP  the buildlet or the way to it failed: connection refused
 *            or dropped mid-transfer, a 5xx, a timeout, a cancelled
 *            call, an answer that breaks the protocol (an /exec answer
 *            without its Process-State trailer, a malformed /ls line):
 *            the machine is suspect, the request is not.
 *
 * Anything but RC_OK puts one line in err, "buildlet NAME: WHAT: why",
 * where bytes from the network are escaped (log_escape); never the
 * password.
 *
 * Timeouts and cancellation hold for every call: timeout_ms bounds the
 * whole call, silence_s the time without a byte arriving, and setting
 * *cancel to nonzero from any thread (or a signal handler) makes a call
 * in progress return RC_TEMP within about 100 ms.
 *
 * POST /connect-ssh hands over a socket (bclient_connect_ssh): the
 * timeouts hold until its 101 answer, and a conn is not used for it.
 */
#ifndef BF_BCLIENT_H
#define BF_BCLIENT_H

#include <sys/types.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>

#include "strbuf.h"

struct http_conn;

#define BCLIENT_SILENCE_S	60	/* default silence_s */

struct bclient {
	const char *url;	/* "http://host:port" or https; no path */
	const char *name;	/* for messages; NULL: the URL */
	const char *user;	/* HTTP Basic user; NULL: "gomote" */
	const char *password;	/* NULL: send no credentials */
	const char *cacert;	/* CA file for https; NULL: the system's */
	/*
	 * When url is a coordinator that proxies to its buildlets: the
	 * buildlet's name, sent as X-Buildlet-Proxy.  NULL: none.
	 */
	const char *proxy;
	long timeout_ms;	/* whole call; 0: no limit */
	long silence_s;		/* nothing received for this long; 0: no limit */
	const volatile sig_atomic_t *cancel;	/* NULL: not cancellable */
	/*
	 * A reverse buildlet, which dialled in: the socket to speak over
	 * (never closed here; url's host then only names the Host header),
	 * or -1 to dial url's host.  With conn (http.h's http_conn over that
	 * socket) the calls keep one connection alive between them, and the
	 * client serves one thread at a time.
	 */
	int conn_fd;
	struct http_conn *conn;
};
#define BCLIENT_INIT { NULL, NULL, NULL, NULL, NULL, NULL, 0, \
	BCLIENT_SILENCE_S, NULL, -1, NULL }

/*
 * Where a response body goes: to fn as it arrives (return 0 to go on,
 * -1 to stop the call, which then fails with RC_PERM), else to fd
 * (a write error fails the call with RC_TEMP), else nowhere (fd -1).
 */
struct bclient_sink {
	int (*fn)(const void *buf, size_t len, void *arg);
	void *arg;
	int fd;
};
#define BCLIENT_SINK_INIT { NULL, NULL, -1 }

/* GET /status: the buildlet's protocol version (the original's is 15). */
int bclient_status(const struct bclient *c, int *version,
    struct strbuf *err);

/* GET /workdir: the absolute work directory, replacing out's contents. */
int bclient_workdir(const struct bclient *c, struct strbuf *out,
    struct strbuf *err);

/*
 * PUT /write: the file path (relative to the work directory) with the
 * permission bits mode & 0777, from len bytes at buf or from fd read
 * to its end (sent chunked).
 */
int bclient_write(const struct bclient *c, const char *path, mode_t mode,
    const void *buf, size_t len, struct strbuf *err);
int bclient_write_fd(const struct bclient *c, const char *path, mode_t mode,
    int fd, struct strbuf *err);

/*
 * PUT /writetgz: extract the gzip'd tar read from fd to its end (sent
 * chunked) into dir ("" or NULL: the work directory).
 */
int bclient_writetgz(const struct bclient *c, const char *dir, int fd,
    struct strbuf *err);
/*
 * POST /writetgz: the buildlet fetches url itself and extracts it into
 * dir.  *skipped (if not NULL) is set to 1 when it answered SKIP (dir
 * go1.4 exists already), else 0.
 */
int bclient_writetgz_url(const struct bclient *c, const char *dir,
    const char *url, int *skipped, struct strbuf *err);

/*
 * GET /tgz: dir as a gzip'd tar, to out.  one_member asks for a single
 * gzip member (pargzip=0) instead of parallel 1 MiB members.
 */
int bclient_tgz(const struct bclient *c, const char *dir, int one_member,
    const struct bclient_sink *out, struct strbuf *err);

/*
 * POST /removeall: remove each path of the NULL-ended list,
 * recursively ("." empties the work directory).  No paths: nothing is
 * sent.
 */
int bclient_removeall(const struct bclient *c, const char *const *paths,
    struct strbuf *err);

/* POST /halt: the buildlet stops (and runs its -halt-cmd) a second later. */
int bclient_halt(const struct bclient *c, struct strbuf *err);

/* POST /exec: what to run. */
struct bclient_exec {
	/*
	 * sys: cmd is a program, looked up in the buildlet's PATH, and
	 * dir is absolute or relative to the work directory; else cmd is
	 * a path in the work directory and dir defaults to its directory.
	 */
	const char *cmd;
	int sys;
	const char *const *args;	/* cmdArg..., NULL-ended; or NULL */
	const char *const *env;		/* "KEY=value"..., NULL-ended */
	/*
	 * Replaces PATH: elements, NULL-ended, "$PATH" and "$WORKDIR"
	 * expanded by the buildlet; an empty list removes PATH; NULL
	 * leaves it alone.
	 */
	const char *const *path;
	const char *dir;		/* NULL or "": the default */
	int debug;			/* output starts with the command line */
	/*
	 * The buildlet kills the command's process group after this many
	 * seconds (our buildlet's extension; the original ignores it), and
	 * the call gives up BCLIENT_EXEC_GRACE_S later whatever
	 * c->timeout_ms says.  0: no limit but c->timeout_ms.
	 */
	long timeout_s;
	struct bclient_sink out;	/* standard output and error, merged */
};
#define BCLIENT_EXEC_INIT { NULL, 0, NULL, NULL, NULL, NULL, 0, 0, \
	BCLIENT_SINK_INIT }
#define BCLIENT_EXEC_GRACE_S	30

struct bclient_result {
	/*
	 * The exit status; 128+n when signal n killed the command; 127
	 * when it was not found, 126 when it could not run otherwise.
	 */
	int code;
	int signal;		/* the signal that killed it, or 0 */
	int started;		/* 0: the command could not start */
	int timed_out;		/* killed by SIGKILL once timeout_s had passed */
	long long elapsed_ms;	/* the whole call */
	char state[256];	/* the Process-State trailer (cut), unescaped */
};

/*
 * Run x->cmd, its output to x->out as it arrives, the outcome in res
 * (from X-Exit-Code when the buildlet sends it, else from the words of
 * Process-State).
 */
int bclient_exec(const struct bclient *c, const struct bclient_exec *x,
    struct bclient_result *res, struct strbuf *err);

/*
 * Parse a Process-State text (and X-Exit-Code value, or NULL) into
 * code, signal and started of res; state is copied to res->state.
 * Words that are not "ok", "exit status N" or "signal: NAME" are why
 * the command could not start.  Returns 0, or -1 when exit_code is not
 * a number from 0 to 255 (the words alone then decide).
 */
int bclient_parse_state(const char *state, const char *exit_code,
    struct bclient_result *res);

/* GET /ls: one entry per line of the answer. */
struct bclient_dirent {
	char *name;		/* relative to dir; directories end in '/' */
	char *modestr;		/* Go's FileMode string, "-rw-r--r--" */
	mode_t mode;		/* S_IFDIR, S_IFREG, S_IFLNK... | 07777 bits */
	long long size;		/* regular files; -1 for others */
	time_t mtime;		/* regular files; 0 for others */
	char *digest;		/* SHA-1 in hex, with digest; else NULL */
};

struct bclient_ls {
	int recursive;
	int digest;		/* ask for each regular file's SHA-1 */
	const char *const *skip;	/* directories to leave out, NULL-ended */
};
#define BCLIENT_LS_INIT { 0, 0, NULL }

/*
 * List dir, calling fn for each entry as its line arrives (the entry's
 * strings live until fn returns; fn returns 0 to go on, -1 to stop,
 * which fails the call with RC_PERM).
 */
int bclient_ls(const struct bclient *c, const char *dir,
    const struct bclient_ls *o,
    int (*fn)(const struct bclient_dirent *e, void *arg), void *arg,
    struct strbuf *err);

/* The whole listing, entries and their strings owned by the list. */
struct bclient_dirlist {
	struct bclient_dirent *v;
	size_t n, alloc;
};
#define BCLIENT_DIRLIST_INIT { NULL, 0, 0 }
int bclient_ls_all(const struct bclient *c, const char *dir,
    const struct bclient_ls *o, struct bclient_dirlist *out,
    struct strbuf *err);
void bclient_dirlist_release(struct bclient_dirlist *l);

/*
 * Parse one /ls line (without its newline; line is modified and the
 * entry points into it).  Returns 0, or -1 when it is malformed.
 */
int bclient_ls_parse(char *line, struct bclient_dirent *e);

/*
 * POST /connect-ssh: a byte pipe to the machine's sshd, in *fd (a
 * socket; see http_upgrade in http.h).  With user and key (an
 * authorized_keys line) set, the buildlet first adds key to that
 * user's ~/.ssh/authorized_keys.  Not over a reverse buildlet's conn
 * (RC_PERM).
 */
int bclient_connect_ssh(const struct bclient *c, const char *user,
    const char *key, int *fd, struct strbuf *err);

#endif
