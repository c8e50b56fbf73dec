/*
 * exec: POST /exec, run a command and stream its output.
 *
 * The request is checked and turned into an exec_spec first, so that
 * parameter errors are plain 400s.  Then the 200 and its headers
 * (Trailer: Process-State, X-Exit-Code) go out, and only then, from the
 * first call of the stream's read function, does the command start: so
 * a client sees the headers before the command runs, as with the
 * original.  Its standard output and standard error share one pipe,
 * whose bytes are sent as they come; its standard input is /dev/null.
 *
 * The command is the leader of a new session (so of a new process
 * group).  The group is killed with SIGKILL when the timeout parameter
 * expires, when the client goes away (seen as POLLRDHUP on the
 * connection while waiting for output), and when the buildlet stops.
 * A process that makes its own session or group escapes; see BUGS in
 * buildlet(1).
 *
 * Completion is "the pipe reached EOF and the command was reaped", as
 * Go's cmd.Wait waits for its output copier: a background process that
 * keeps the pipe open keeps the request open.  After a timeout kill the
 * pipe gets two more seconds, then the answer goes out regardless.
 */
#include "compat.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "httpd.h"
#include "log.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define KILL_GRACE_MS	2000	/* pipe wait after a timeout kill */
#define NOPIDFD_POLL_MS	20
#define SPAWN_STACK	32768	/* the child's, in spawn's frame */
#define CLOSE_MAX	65536	/* closefrom without close_range */

/*
 * ThreadSanitizer's clone() takes every child for a fork: in a CLONE_VM
 * child its bookkeeping lands in our memory, and this process then
 * refuses to start threads.  glibc's __clone is the same function,
 * without the interceptor.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BF_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(BF_TSAN)
int __clone(int (*)(void *), void *, int, void *, ...);
#define spawn_clone __clone
#else
#define spawn_clone clone
#endif

struct run {
	struct httpd_req *req;
	struct exec_spec spec;
	pid_t pid;
	int pidfd;		/* -1: poll waitpid instead */
	int out;		/* the pipe's read end */
	int conn;		/* the client's socket */
	int started, eof, exited, finished;
	int status;		/* from waitpid */
	long long t0, deadline, grace;	/* mono_ms(); 0: none */
	int timed_out, gone;
	struct strbuf pre;	/* the debug text, sent first */
	size_t prepos;
	struct run *next, **prevp;	/* the running list */
};

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct run *running;

/* Go's names of signals (syscall.Signal.String on Linux). */
static const char *const signames[] = {
	NULL, "hangup", "interrupt", "quit", "illegal instruction",
	"trace/breakpoint trap", "aborted", "bus error",
	"floating point exception", "killed", "user defined signal 1",
	"segmentation fault", "user defined signal 2", "broken pipe",
	"alarm clock", "terminated", "stack fault", "child exited",
	"continued", "stopped (signal)", "stopped", "stopped (tty input)",
	"stopped (tty output)", "urgent I/O condition",
	"CPU time limit exceeded", "file size limit exceeded",
	"virtual timer expired", "profiling timer expired", "window changed",
	"I/O possible", "power failure", "bad system call",
};

void
exec_spec_free(struct exec_spec *spec)
{
	size_t i;

	free(spec->path);
	free(spec->start_err);
	for (i = 0; spec->argv != NULL && spec->argv[i] != NULL; i++)
		free(spec->argv[i]);
	free(spec->argv);
	/* envp points into bl.env, the request and pathenv: build_env */
	free(spec->envp);
	free(spec->pathenv);
	free(spec->dir);
	memset(spec, 0, sizeof(*spec));
}

/* filepath.Join(a, b): a + "/" + b, cleaned. */
static char *
join(const char *a, const char *b)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;

	strbuf_addf(&in, "%s/%s", a, b);
	path_clean(&out, in.buf);
	strbuf_release(&in);
	return strbuf_detach(&out, NULL);
}

/* Go's exec.LookPath in the buildlet's own PATH. */
static char *
look_path(const char *file)
{
	struct strbuf p = STRBUF_INIT;
	const char *s, *e;
	struct stat st;

	for (s = bl.path != NULL ? bl.path : ""; ; s = e + 1) {
		e = strchrnul(s, ':');
		strbuf_reset(&p);
		if (e == s)
			strbuf_addch(&p, '.');
		else
			strbuf_add(&p, s, (size_t)(e - s));
		strbuf_addf(&p, "/%s", file);
		if (stat(p.buf, &st) == 0 && !S_ISDIR(st.st_mode) &&
		    (st.st_mode & 0111) != 0)
			return strbuf_detach(&p, NULL);
		if (*e == '\0')
			break;
	}
	strbuf_release(&p);
	return NULL;
}

/*
 * The environment: the base, the request's env (deduplicated, the
 * last value of a key at the place of the first), then the request's
 * path list in place of PATH.  The strings of envp belong to bl.env,
 * to the request, or (the new PATH) to spec->pathenv; all live as long
 * as the run.
 */
static void
build_env(struct exec_spec *spec, const char *const *env, size_t nenv,
    const char *const *path, size_t npath)
{
	struct strbuf np = STRBUF_INIT, *newpath = &np;
	size_t n = bl.nenv + nenv, i, pi;
	char **v = xreallocarray(NULL, n + 2, sizeof(*v));
	const char *orig = "";
	const char *s;

	for (i = 0; i < bl.nenv; i++)
		v[i] = bl.env[i];
	for (i = 0; i < nenv; i++)
		v[bl.nenv + i] = (char *)env[i];
	n = env_dedup(v, n);
	if (npath > 0) {
		for (pi = 0; pi < n; pi++)
			if (strncmp(v[pi], "PATH=", 5) == 0)
				break;
		if (pi < n)
			orig = v[pi] + 5;
		if (npath == 1 && strcmp(path[0], "$EMPTY") == 0) {
			if (pi < n) {
				memmove(v + pi, v + pi + 1,
				    (n - pi - 1) * sizeof(*v));
				n--;
			}
		} else {
			strbuf_addstr(newpath, "PATH=");
			for (i = 0; i < npath; i++) {
				if (i > 0)
					strbuf_addch(newpath, ':');
				if (strcmp(path[i], "$PATH") == 0) {
					strbuf_addstr(newpath, orig);
					continue;
				}
				for (s = path[i]; *s != '\0';) {
					if (strncmp(s, "$WORKDIR", 8) == 0) {
						strbuf_addstr(newpath,
						    bl.workdir);
						s += 8;
					} else
						strbuf_addch(newpath, *s++);
				}
			}
			spec->pathenv = strbuf_detach(newpath, NULL);
			if (pi < n)
				v[pi] = spec->pathenv;
			else
				v[n++] = spec->pathenv;
		}
	}
	v[n] = NULL;
	spec->envp = v;
}

int
exec_prepare(struct httpd_req *req, struct exec_spec *spec, int *status,
    struct strbuf *msg)
{
	const char *const *args, *const *env, *const *path;
	const char *cmd, *dir, *mode, *s;
	ssize_t nargs, nenv, npath;
	char *abscmd = NULL;
	size_t i;
	int sys;

	memset(spec, 0, sizeof(*spec));
	*status = 400;
	if (strcmp(httpd_method(req), "POST") != 0) {
		strbuf_addstr(msg, "requires POST method");
		return -1;
	}
	if (strcmp(httpd_version(req), "HTTP/1.0") == 0 ||
	    strcmp(httpd_version(req), "HTTP/0.9") == 0) {
		/* the trailer needs HTTP/1.1 */
		strbuf_addstr(msg, "HTTP/1.1 or higher required");
		return -1;
	}
	cmd = (s = httpd_form(req, "cmd")) != NULL ? s : "";
	dir = (s = httpd_form(req, "dir")) != NULL ? s : "";
	mode = (s = httpd_form(req, "mode")) != NULL ? s : "";
	sys = strcmp(mode, "sys") == 0;
	if ((s = httpd_form(req, "debug")) == NULL || parse_bool(s,
	    &spec->debug) == -1)
		spec->debug = 0;
	if ((s = httpd_form(req, "timeout")) != NULL && *s != '\0' &&
	    parse_timeout(s, &spec->timeout_ms) == -1) {
		strbuf_addstr(msg, "bad 'timeout' parameter");
		return -1;
	}
	if (sys) {
		if (*cmd == '\0') {
			strbuf_addstr(msg, "requires 'cmd' parameter");
			return -1;
		}
		if (*dir == '\0')
			spec->dir = xstrdup(bl.workdir);
		else if (dir[0] == '/')
			spec->dir = xstrdup(dir);
		else
			spec->dir = join(bl.workdir, dir);
		abscmd = xstrdup(cmd);
	} else {
		if (!valid_rel_path(cmd)) {
			strbuf_addstr(msg, "requires 'cmd' parameter");
			return -1;
		}
		abscmd = join(bl.workdir, cmd);
		if (strcmp(abscmd, bl.workdir) == 0) {
			/*
			 * "." or "./": no program, and its directory would
			 * be the work directory's parent
			 */
			free(abscmd);
			exec_spec_free(spec);
			strbuf_addstr(msg, "requires 'cmd' parameter");
			return -1;
		}
		if (*dir == '\0') {
			spec->dir = xstrdup(abscmd);
			*strrchr(spec->dir, '/') = '\0';
			if (spec->dir[0] == '\0') {
				free(spec->dir);
				spec->dir = xstrdup("/");
			}
		} else if (!valid_rel_path(dir)) {
			free(abscmd);
			exec_spec_free(spec);
			strbuf_addstr(msg, "bogus 'dir' parameter");
			return -1;
		} else
			spec->dir = join(bl.workdir, dir);
	}
	/* cmdArg, env and path come from the form body only */
	if ((nargs = form_values(req, "cmdArg", &args)) == -1 ||
	    (nenv = form_values(req, "env", &env)) == -1 ||
	    (npath = form_values(req, "path", &path)) == -1) {
		free(abscmd);
		exec_spec_free(spec);
		*status = 0;	/* form_values has answered */
		return -1;
	}
	if (nargs + nenv + npath > MAX_VALUES) {
		free(abscmd);
		exec_spec_free(spec);
		strbuf_addf(msg, "more than %d cmdArg, env and path "
		    "parameters", MAX_VALUES);
		return -1;
	}

	spec->argv = xreallocarray(NULL, (size_t)nargs + 2,
	    sizeof(*spec->argv));
	spec->argv[0] = abscmd;
	for (i = 0; i < (size_t)nargs; i++)
		spec->argv[i + 1] = xstrdup(args[i]);
	spec->argv[nargs + 1] = NULL;
	build_env(spec, env, (size_t)nenv, path, (size_t)npath);

	/* a name without a slash is looked up as exec.Command did */
	if (strchr(abscmd, '/') == NULL) {
		if ((spec->path = look_path(abscmd)) == NULL) {
			struct strbuf e = STRBUF_INIT;

			strbuf_addstr(&e, "exec: ");
			go_quote(&e, abscmd);
			strbuf_addstr(&e, ": executable file not found in "
			    "$PATH");
			spec->start_err = strbuf_detach(&e, NULL);
		}
	} else
		spec->path = xstrdup(abscmd);
	*status = 200;
	return 0;
}

/* ---- running ---- */

static void
running_add(struct run *x)
{
	pthread_mutex_lock(&running_mu);
	x->next = running;
	if (running != NULL)
		running->prevp = &x->next;
	x->prevp = &running;
	running = x;
	pthread_mutex_unlock(&running_mu);
}

static void
running_del(struct run *x)
{
	pthread_mutex_lock(&running_mu);
	if (x->prevp != NULL) {
		*x->prevp = x->next;
		if (x->next != NULL)
			x->next->prevp = x->prevp;
		x->prevp = NULL;
	}
	pthread_mutex_unlock(&running_mu);
}

void
exec_kill_all(void)
{
	struct run *x;

	pthread_mutex_lock(&running_mu);
	for (x = running; x != NULL; x = x->next)
		kill(-x->pid, SIGKILL);
	pthread_mutex_unlock(&running_mu);
}

static void
start_failed(struct run *x, const char *what, const char *arg, int err)
{
	struct strbuf e = STRBUF_INIT;
	char ebuf[128];

	strbuf_addf(&e, "%s %s: %s", what, arg,
	    go_strerror(err, ebuf, sizeof(ebuf)));
	free(x->spec.start_err);
	x->spec.start_err = strbuf_detach(&e, NULL);
}

/*
 * The child of spawn(), on its own small stack in the parent's memory
 * (CLONE_VM|CLONE_VFORK: the parent thread waits until the exec).  It
 * makes only raw system calls, which touch nothing of the parent's
 * but this frame and the argument block, and reports a failure through
 * a->err before it exits.  Signals are blocked on entry (spawn blocked
 * them), so no handler of the parent's can run here; every signal the
 * buildlet catches or ignores goes back to SIG_DFL before the unblock,
 * so a command starts with none ignored, whatever the buildlet itself
 * inherited (make, for one, passes signal 32 down ignored).
 */
struct child_args {
	const char *path, *dir;
	char *const *argv, *const *envp;
	int out;		/* the pipe's write end: stdout and stderr */
	const cpu_set_t *cpus;	/* the affinity to restore, or NULL */
	volatile int err;	/* set by a child that could not exec */
	volatile int chdir_failed;	/* ... and what failed was chdir */
};

/*
 * The kernel's struct sigaction, for SIG_DFL (all zero) and for reading
 * a handler (the first field on every architecture).  Raw calls reach
 * the signals glibc keeps for itself (32 and 33), which it refuses.
 */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#define NSIGS	64	/* the kernel's; glibc's _NSIG is one more */

/* the signals that the buildlet catches or ignores: dfl_scan */
static int dflsigs[NSIGS];
static size_t ndflsigs;
static pthread_once_t dfl_once = PTHREAD_ONCE_INIT;

/*
 * Which signals a command must have set back to SIG_DFL: those whose
 * disposition here is not SIG_DFL once, and always the ones that main
 * catches or ignores (even if it had not yet when this ran).
 */
static void
dfl_scan(void)
{
	static const int always[] = { SIGPIPE, SIGHUP, SIGINT, SIGQUIT,
	    SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD };
	struct kernel_sigaction ka;
	size_t i;
	int sig;

	for (sig = 1; sig <= NSIGS; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		for (i = 0; i < ARRAY_SIZE(always); i++)
			if (always[i] == sig)
				break;
		if (i == ARRAY_SIZE(always) && (syscall(SYS_rt_sigaction, sig,
		    NULL, &ka, sizeof(ka.mask)) == -1 ||
		    ka.handler == SIG_DFL))
			continue;
		dflsigs[ndflsigs++] = sig;
	}
}

static int
dup_to(int fd, int to)
{
	if (fd == to)	/* dup2 would keep close-on-exec */
		return syscall(SYS_fcntl, fd, F_SETFD, 0) == -1 ? -1 : 0;
	return syscall(SYS_dup2, fd, to) == -1 ? -1 : 0;
}

BF_NO_SANITIZE static int
child(void *arg)
{
	struct child_args *a = arg;
	struct kernel_sigaction dfl = { 0 };	/* SIG_DFL is 0 */
	struct rlimit rl;
	uint64_t none = 0;
	long fd;
	size_t i;

	/* a new session, so a new process group to kill as one */
	if (syscall(SYS_setsid) == -1)
		goto fail;
	for (i = 0; i < ndflsigs; i++)
		syscall(SYS_rt_sigaction, dflsigs[i], &dfl, NULL, sizeof(none));
	/* out may be 0, 1 or 2 if the buildlet started without them */
	if (dup_to(a->out, 1) == -1 || dup_to(a->out, 2) == -1)
		goto fail;
	if ((fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY)) ==
	    -1 || dup_to((int)fd, 0) == -1)
		goto fail;
	if (syscall(SYS_chdir, a->dir) == -1) {
		a->chdir_failed = 1;
		goto fail;
	}
	/* every other descriptor: sockets of other clients, files */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1) {
		/* before Linux 5.9 */
		if (syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) == -1 ||
		    rl.rlim_cur > CLOSE_MAX)
			rl.rlim_cur = CLOSE_MAX;
		for (fd = 3; fd < (long)rl.rlim_cur; fd++)
			syscall(SYS_close, fd);
	}
	if (a->cpus != NULL && syscall(SYS_sched_setaffinity, 0,
	    sizeof(*a->cpus), a->cpus) == -1)
		goto fail;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
	syscall(SYS_execve, a->path, a->argv, a->envp);
fail:
	a->err = errno;
	syscall(SYS_exit_group, 127);
	return 127;
}

/*
 * Start a->path like posix_spawn, but cheaper: the child runs on a
 * stack in this frame, so there is no mmap and munmap (a TLB shootdown
 * in a threaded process), and it resets only the signals that are not
 * at SIG_DFL instead of asking about all 64.
 *
 * The child starts on this thread's CPU, which is idle until the exec
 * since this thread waits for it: Linux would put a new task on the
 * idlest CPU, and waking a halted virtual CPU costs more than /bin/true
 * takes to run (0.1 ms measured).  So this thread narrows its affinity
 * to its CPU for the clone, and the child restores the full set before
 * the exec; the command runs with the buildlet's affinity.
 *
 * *pidfd is the child's pidfd, from the clone itself where the kernel
 * can (Linux 5.2), else -1.  Returns 0 or the errno of the failure.
 */
static int
spawn(struct child_args *a, pid_t *pid, int *pidfd)
{
	char stack[SPAWN_STACK] __attribute__((aligned(16)));
	int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
	cpu_set_t cpus, here;
	sigset_t all, old;
	pid_t r;
	int rc, cpu;

	pthread_once(&dfl_once, dfl_scan);
	a->err = 0;
	a->chdir_failed = 0;
	a->cpus = NULL;
	*pidfd = -1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((cpu = sched_getcpu()) >= 0 && cpu < CPU_SETSIZE &&
	    sched_getaffinity(0, sizeof(cpus), &cpus) == 0 &&
	    CPU_COUNT(&cpus) > 1) {
		CPU_ZERO(&here);
		CPU_SET(cpu, &here);
		if (sched_setaffinity(0, sizeof(here), &here) == 0)
			a->cpus = &cpus;
	}
	*pid = spawn_clone(child, stack + sizeof(stack), flags | CLONE_PIDFD, a,
	    pidfd);
	if (*pid == -1 && errno == EINVAL) {
		*pidfd = -1;
		*pid = spawn_clone(child, stack + sizeof(stack), flags, a);
	}
	rc = *pid == -1 ? errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (a->cpus != NULL && sched_setaffinity(0, sizeof(cpus), &cpus) == -1)
		log_warn("exec: cannot restore this thread's CPU affinity");
	if (rc == 0 && a->err != 0) {
		rc = a->err;
		do
			r = waitpid(*pid, NULL, 0);
		while (r == -1 && errno == EINTR);
		if (*pidfd >= 0)
			close(*pidfd);
		*pidfd = -1;
	}
	return rc;
}

static void
start(struct run *x)
{
	struct child_args a;
	int p[2], rc;

	x->started = 1;
	x->t0 = mono_ms();
	if (x->spec.start_err != NULL)
		return;
	if (pipe2(p, O_CLOEXEC) == -1) {
		start_failed(x, "pipe", "", errno);
		return;
	}
	a.path = x->spec.path;
	a.dir = x->spec.dir;
	a.argv = x->spec.argv;
	a.envp = x->spec.envp;
	a.out = p[1];
	rc = spawn(&a, &x->pid, &x->pidfd);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		/* as Go's os.StartProcess, which checks the directory first */
		if (a.chdir_failed)
			start_failed(x, "chdir", x->spec.dir, rc);
		else
			start_failed(x, "fork/exec", x->spec.path, rc);
		return;
	}
	x->out = p[0];
	if (x->pidfd == -1)
		x->pidfd = (int)syscall(SYS_pidfd_open, x->pid, 0);
	running_add(x);
	if (x->spec.timeout_ms > 0)
		x->deadline = x->t0 + x->spec.timeout_ms;
}

/*
 * Kill the command's group and reap the command.  It leaves the
 * running list first, so that exec_kill_all never signals a process
 * group whose leader was reaped (its id could be reused).
 */
static void
reap(struct run *x)
{
	pid_t r;

	if (!x->started || x->pid <= 0 || x->exited)
		return;
	kill(-x->pid, SIGKILL);
	running_del(x);
	do
		r = waitpid(x->pid, &x->status, 0);
	while (r == -1 && errno == EINTR);
	x->exited = 1;
}

/* Whether the command has exited, reaping it if so. */
static int
try_reap(struct run *x)
{
	pid_t r;

	if (x->exited)
		return 1;
	pthread_mutex_lock(&running_mu);
	do
		r = waitpid(x->pid, &x->status, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == x->pid || r == -1) {
		if (x->prevp != NULL) {
			*x->prevp = x->next;
			if (x->next != NULL)
				x->next->prevp = x->prevp;
			x->prevp = NULL;
		}
		x->exited = 1;
	}
	pthread_mutex_unlock(&running_mu);
	return x->exited;
}

static void
set_trailers(struct run *x)
{
	struct strbuf st = STRBUF_INIT;
	char code[16];
	int c, sig;

	if (x->spec.start_err != NULL) {
		strbuf_addstr(&st, x->spec.start_err);
		c = x->spec.path == NULL || strstr(x->spec.start_err,
		    "no such file") != NULL ? 127 : 126;
	} else if (WIFEXITED(x->status)) {
		c = WEXITSTATUS(x->status);
		if (c == 0)
			strbuf_addstr(&st, "ok");
		else
			strbuf_addf(&st, "exit status %d", c);
	} else if (WIFSIGNALED(x->status)) {
		sig = WTERMSIG(x->status);
		c = 128 + sig;
		if (sig > 0 && (size_t)sig < ARRAY_SIZE(signames))
			strbuf_addf(&st, "signal: %s", signames[sig]);
		else
			strbuf_addf(&st, "signal %d", sig);
		if (WCOREDUMP(x->status))
			strbuf_addstr(&st, " (core dumped)");
	} else {
		strbuf_addstr(&st, "unknown wait status");
		c = 255;
	}
	snprintf(code, sizeof(code), "%d", c);
	httpd_stream_trailer(x->req, "Process-State", st.buf);
	httpd_stream_trailer(x->req, "X-Exit-Code", code);
	if (x->timed_out)
		log_warnx("exec: %s: killed after the %lld ms timeout",
		    esc(x->spec.argv[0]), x->spec.timeout_ms);
	strbuf_release(&st);
}

static ssize_t
exec_read(void *arg, char *buf, size_t max)
{
	struct run *x = arg;
	struct pollfd pfd[3];
	int npfd, ipipe, ipid, iconn, tmo;
	long long now;
	ssize_t n;
	size_t k;

	if (x->prepos < x->pre.len) {
		k = x->pre.len - x->prepos;
		if (k > max)
			k = max;
		memcpy(buf, x->pre.buf + x->prepos, k);
		x->prepos += k;
		return (ssize_t)k;
	}
	if (!x->started)
		start(x);
	if (x->finished)
		return 0;
	if (x->spec.start_err != NULL) {
		x->finished = 1;
		set_trailers(x);
		return 0;
	}
	for (;;) {
		if (x->eof && (x->exited || try_reap(x))) {
			x->finished = 1;
			set_trailers(x);
			return 0;
		}
		npfd = 0;
		ipipe = ipid = iconn = -1;
		if (!x->eof) {
			pfd[npfd].fd = x->out;
			pfd[npfd].events = POLLIN;
			ipipe = npfd++;
		}
		if (!x->exited && x->pidfd >= 0) {
			pfd[npfd].fd = x->pidfd;
			pfd[npfd].events = POLLIN;
			ipid = npfd++;
		}
		if (x->conn >= 0) {
			pfd[npfd].fd = x->conn;
			pfd[npfd].events = POLLRDHUP;
			iconn = npfd++;
		}
		now = mono_ms();
		tmo = -1;
		if (x->deadline > 0 && !x->timed_out)
			tmo = x->deadline > now ? (int)(x->deadline - now) : 0;
		if (x->grace > 0)
			tmo = x->grace > now ? (int)(x->grace - now) : 0;
		if (!x->exited && x->pidfd < 0 && (tmo == -1 ||
		    tmo > NOPIDFD_POLL_MS))
			tmo = NOPIDFD_POLL_MS;
		if (poll(pfd, (nfds_t)npfd, tmo) == -1 && errno != EINTR) {
			log_warn("exec: poll");
			return -1;
		}
		if (iconn >= 0 && pfd[iconn].revents != 0) {
			/* the client went away: no orphans */
			x->gone = 1;
			reap(x);
			log_warnx("exec: %s: client went away; process group "
			    "%d killed", esc(x->spec.argv[0]), (int)x->pid);
			return -1;
		}
		if (ipipe >= 0 && pfd[ipipe].revents != 0) {
			n = read(x->out, buf, max);
			if (n > 0)
				return n;
			if (n == -1 && errno == EINTR)
				continue;
			x->eof = 1;	/* EOF, or an error we cannot help */
		}
		if (ipid >= 0 && pfd[ipid].revents != 0)
			try_reap(x);
		else if (x->pidfd < 0)
			try_reap(x);
		now = mono_ms();
		if (x->deadline > 0 && !x->timed_out && now >= x->deadline) {
			x->timed_out = 1;
			kill(-x->pid, SIGKILL);
			x->grace = now + KILL_GRACE_MS;
		} else if (x->grace > 0 && now >= x->grace) {
			/* something outside the group holds the pipe */
			x->eof = 1;
			reap(x);
		}
	}
}

static void
exec_done(void *arg, int closed)
{
	struct run *x = arg;

	if (x->started && !x->exited) {
		/* the client went away while we were sending */
		reap(x);
		if (closed && !x->gone)
			log_warnx("exec: %s: client went away; process group "
			    "%d killed", esc(x->spec.argv[0]), (int)x->pid);
	}
	running_del(x);
	if (x->out >= 0)
		close(x->out);
	if (x->pidfd >= 0)
		close(x->pidfd);
	strbuf_release(&x->pre);
	exec_spec_free(&x->spec);
	free(x);
}

void
handle_exec(struct httpd_req *req)
{
	struct strbuf msg = STRBUF_INIT;
	struct run *x;
	int status, fd;

	x = xcalloc(1, sizeof(*x));
	x->out = x->pidfd = -1;
	strbuf_init(&x->pre, 0);
	if (exec_prepare(req, &x->spec, &status, &msg) == -1) {
		if (status != 0)
			httpd_error(req, status, msg.buf);
		goto fail;
	}
	if ((fd = workdir_open(req)) == -1)
		goto fail;
	close(fd);
	x->req = req;
	x->conn = httpd_client_fd(req);
	if (x->spec.debug) {
		strbuf_addstr(&x->pre, ":: Running ");
		strbuf_addstr(&x->pre, x->spec.path != NULL ? x->spec.path :
		    x->spec.argv[0]);
		strbuf_addstr(&x->pre, " with args ");
		go_quote_list(&x->pre, x->spec.argv);
		strbuf_addstr(&x->pre, " and env ");
		go_quote_list(&x->pre, x->spec.envp);
		strbuf_addf(&x->pre, " in dir %s\n\n", x->spec.dir);
	}
	httpd_add_header(req, "Trailer", "Process-State, X-Exit-Code");
	httpd_reply_stream(req, 200, NULL, exec_read, exec_done, x);
	strbuf_release(&msg);
	return;
fail:
	strbuf_release(&msg);
	strbuf_release(&x->pre);
	exec_spec_free(&x->spec);
	free(x);
}
