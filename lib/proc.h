/*
 * proc.h: the one way to run a child process (after git's run-command:
 * a struct filled in by the caller, then start, poll or wait, finish).
 *
 * Calling sequence:
 *   struct proc p = PROC_INIT;
 *   strvec_push(&p.args, "/bin/sh");
 *   strvec_pushv(&p.args, (const char *[]){ "-c", line, NULL });
 *   strvec_push(&p.env, "GOOS=linux");     (added to environ)
 *   strvec_push(&p.env, "TMPDIR");         (removed from it)
 *   p.io[0].how = PROC_DEVNULL;
 *   p.io[1].how = PROC_PIPE;               (p.io[1].fd: our read end)
 *   p.io[2].how = PROC_STDOUT;
 *   p.group = PROC_SESSION;
 *   p.timeout_ms = 60000;
 *   if (proc_start(&p, &err) == -1) ... err holds Go's words ...
 *   ... read p.io[1].fd to EOF, close it ...
 *   code = proc_finish(&p);                (reaps, frees; exit code)
 *
 * The child starts with every signal at SIG_DFL and none blocked,
 * whatever the caller's dispositions and mask (see proc_start), and
 * with only descriptors 0, 1, 2 and those in keep_fds open.
 *
 * An exec child is started with clone(CLONE_VM|CLONE_VFORK) on a stack
 * in proc_start's frame, making only raw system calls until the exec:
 * no mmap of a child stack, no fork of the page tables.  The calling
 * thread waits until the exec (that is what VFORK means), so the child
 * first runs on that thread's CPU and restores the caller's full CPU
 * affinity before the exec.  Its failures (chdir, exec) come back to
 * proc_start as errors, in Go's words: "fork/exec PATH: no such file
 * or directory", "chdir DIR: not a directory".
 *
 * A function child (fn set) is a fork() that runs fn(arg) after the
 * same reset and exits with its return value.  It is a copy of a
 * process that may have threads: fn may do only what the child of such
 * a fork may (no lock another thread may hold, so no malloc or stdio,
 * and no threads); anything more, such as libgit2, execs a program
 * (see gitx_child_main in git.h).
 *
 * Deadline: with timeout_ms > 0, once that much time has passed since
 * the start, the child's group (its process group when group is
 * PROC_PGRP or PROC_SESSION, else the child alone) gets SIGTERM, and
 * SIGKILL kill_grace_ms later; with kill_grace_ms 0 it gets SIGKILL at
 * once.  If the child exits within the grace, the group gets its
 * SIGKILL then, before the child is reaped (while its id still names
 * the group), so a grandchild that ignores SIGTERM does not outlive
 * it.  The deadline is enforced by proc_wait and proc_finish, and by
 * proc_tick for a caller that runs its own poll loop.
 *
 * Not thread-safe per struct proc; distinct procs may be used from
 * distinct threads at once.
 */
#ifndef BF_PROC_H
#define BF_PROC_H

#include <sys/types.h>

#include "compat.h"
#include "strbuf.h"
#include "strvec.h"

#define PROC_KILL_GRACE_MS	5000	/* SIGTERM to SIGKILL, by default */
#define PROC_KEEP_MAX	16	/* at most this many keep_fds */

enum proc_how {
	PROC_INHERIT,	/* our descriptor of the same number */
	PROC_DEVNULL,	/* /dev/null: read-only as 0, write-only as 1, 2 */
	PROC_PIPE,	/* a new pipe; proc_start sets fd to our end
			 * (close-on-exec), which the caller closes */
	PROC_FD,	/* fd, which stays the caller's */
	PROC_STDOUT,	/* io[2] only: the same as the child's stdout */
};

enum proc_group {
	PROC_SAME,	/* stay in our process group */
	PROC_PGRP,	/* lead a new process group */
	PROC_SESSION,	/* lead a new session (so a new group too) */
};

struct proc {
	/* set by the caller */
	struct strvec args;	/* argv; args.v[0] names the program */
	const char *path;	/* the program to exec; NULL: args.v[0],
				 * searched in $PATH if it has no '/' */
	struct strvec env;	/* "K=V" sets K, "K" removes K, on top of
				 * environ; later entries win */
	int env_replace;	/* env is the whole environment instead */
	const char *dir;	/* where the child starts; NULL: here */
	struct {
		enum proc_how how;
		int fd;
	} io[3];		/* stdin, stdout, stderr */
	const int *keep_fds;	/* more descriptors (>= 3) the child keeps */
	size_t nkeep_fds;	/* ... at most PROC_KEEP_MAX */
	enum proc_group group;
	int pdeathsig;		/* sent to the child when the thread that
				 * started it exits (Linux's
				 * PR_SET_PDEATHSIG); 0: none */
	long long timeout_ms;	/* the deadline, from the start; 0: none */
	long long kill_grace_ms;	/* SIGTERM to SIGKILL; 0: SIGKILL */
	int (*fn)(void *arg);	/* a function child instead of an exec */
	void *arg;

	/* set by proc_start and proc_reap */
	pid_t pid;		/* -1 until started */
	int pidfd;		/* readable once the child exits; -1 if the
				 * kernel has none (poll every 20 ms then) */
	int exited;		/* reaped: status is valid */
	int status;		/* from waitpid */
	int timed_out;		/* the deadline passed and was acted on */

	/* private */
	long long deadline, kill_at;	/* mono_ms(); 0: none */
	int stage;		/* 0, 1 SIGTERM sent, 2 SIGKILL sent */
};

#define PROC_INIT { .args = STRVEC_INIT, .env = STRVEC_INIT, \
	.kill_grace_ms = PROC_KILL_GRACE_MS, .pid = -1, .pidfd = -1 }
void proc_init(struct proc *p);

/*
 * Start the child.  0, or -1 with one line in err (Go's words for an
 * exec: "fork/exec /x: permission denied", "chdir /d: no such file or
 * directory", "exec: \"x\": executable file not found in $PATH"); after
 * a failure nothing was left running or open, and proc_clear (or
 * proc_finish) frees args and env.
 */
int proc_start(struct proc *p, struct strbuf *err);

/*
 * Reap the child if it has exited (block 0) or once it does (block 1),
 * without acting on the deadline.  1 reaped (or reaped before), 0 still
 * running, -1 with errno when waitpid fails (the child is then taken as
 * gone: exited is set, status 0 is not claimed, see proc_state).
 */
int proc_reap(struct proc *p, int block);

/*
 * For a poll loop: milliseconds until the deadline next needs
 * proc_tick (0: now), or -1 when nothing is pending.  Poll pidfd for
 * POLLIN (when it is -1, poll at most 20 ms and call proc_reap).
 */
int proc_timeout(const struct proc *p);
/* Act on the deadline if it is due: 1 if a signal was sent now. */
int proc_tick(struct proc *p);

/*
 * Wait up to timeout_ms (-1: as long as it takes) for the child to
 * exit, enforcing its deadline meanwhile, and reap it.  1 reaped, 0 the
 * wait timed out (the child runs on), -1 on error.
 */
int proc_wait(struct proc *p, long long timeout_ms);

/*
 * Signal the child's group (see the deadline above), or the child
 * alone if it has no group of its own.  Nothing once it is reaped,
 * since its id may then be another's.  0 or -1.
 */
int proc_kill(struct proc *p, int sig);

/*
 * proc_wait(p, -1), then proc_clear.  Returns proc_exit_code, or -1
 * when the child never started.
 */
int proc_finish(struct proc *p);
/*
 * Free args and env and close the pidfd; the struct is then as after
 * PROC_INIT but for its settings.  The caller's pipe ends stay open.
 */
void proc_clear(struct proc *p);

/* The exit code of a reaped child: its status, or 128+N for signal N. */
int proc_exit_code(const struct proc *p);
/*
 * How a reaped child ended, as the buildlet's Process-State trailer
 * says it (Go's os.ProcessState strings, but "ok" for exit status 0):
 * "ok", "exit status 3", "signal: killed", "signal: aborted (core
 * dumped)".
 */
void proc_state(const struct proc *p, struct strbuf *out);

/*
 * Go's exec.LookPath of file in the colon-separated list pathlist (an
 * empty element is "."): the path of an executable regular file into
 * out, 0; or -1 with err "exec: \"FILE\": executable file not found in
 * $PATH".
 */
int proc_lookpath(struct strbuf *out, const char *file, const char *pathlist,
    struct strbuf *err);

/* Go's text for an errno: the C library's, first letter lowercase. */
const char *go_strerror(int errnum, char *buf, size_t size);

/*
 * Command templates such as a pool's "create = env/local/create %n".
 * proc_expand appends line to out with each "%X" for a letter X in vars
 * replaced by its value, single-quoted for the shell (see
 * proc_sh_quote), since the result runs as /bin/sh -c LINE; "%%" is
 * "%".  Any other "%X", or a lone "%" at the end, is an error: -1 and
 * err "unknown %X in 'LINE'", out unchanged.
 */
struct proc_var {
	char letter;
	const char *value;
};
int proc_expand(struct strbuf *out, const char *line,
    const struct proc_var *vars, size_t nvars, struct strbuf *err);
/* s as one shell word: 'it'\''s', so nothing in s is special. */
void proc_sh_quote(struct strbuf *out, const char *s);

#endif
