/*
 * proc.c: starting, watching and reaping children (see proc.h).
 *
 * The exec path is the buildlet's measured one (posix_spawn in a
 * threaded process maps and unmaps a child stack, a TLB shootdown, and
 * resets all 64 signals with two system calls each): a CLONE_VM|
 * CLONE_VFORK child on a stack in proc_start's frame that makes raw
 * system calls only, so it touches nothing of ours but that frame and
 * struct child_args, and resets only the signals that are not at
 * SIG_DFL.
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "proc.h"
#include "timefmt.h"
#include "xmalloc.h"

#define SPAWN_STACK	32768	/* the exec child's, in spawn's frame */
#define CLOSE_MAX	65536	/* closefrom without close_range */
#define NOPIDFD_POLL_MS	20
#define NSIGS	64	/* the kernel's; glibc's _NSIG is one more */

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

/* child_args.src[i]: what becomes descriptor i */
#define SRC_LEAVE	-1
#define SRC_DEVNULL	-2
#define SRC_STDOUT	-3

extern char **environ;

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

/* the signals to set back to SIG_DFL in a child: dfl_scan */
static int dflsigs[NSIGS];
static size_t ndflsigs;
static pthread_once_t dfl_once = PTHREAD_ONCE_INIT;

/*
 * Which signals a child must have set back to SIG_DFL: those whose
 * disposition is not SIG_DFL when the first child starts, and always
 * the ones a daemon catches or ignores (even if it had not yet).  A
 * signal inherited ignored (make passes signal 32 down that way; nohup,
 * SIGHUP) is caught by the scan.
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

/*
 * What the child needs, prepared by proc_start so that the child only
 * makes system calls.
 */
struct child_args {
	const char *path, *dir;
	char *const *argv, *const *envp;
	int src[3];		/* a descriptor, or SRC_* */
	int keep[PROC_KEEP_MAX + 1];	/* sorted; + the fork's report */
	size_t nkeep;
	enum proc_group group;
	int pdeathsig;
	pid_t ppid;
	int fn_child;		/* leave glibc's own signals alone */
	const cpu_set_t *cpus;	/* the affinity to restore, or NULL */
	volatile int err;	/* set by a child that failed */
	volatile int chdir_failed;	/* ... and what failed was chdir */
};

static int
dup_to(int fd, int to)
{
	if (fd == to)	/* dup2 would keep close-on-exec */
		return syscall(SYS_fcntl, fd, F_SETFD, 0) == -1 ? -1 : 0;
	return syscall(SYS_dup2, fd, to) == -1 ? -1 : 0;
}

BF_NO_SANITIZE static void
close_fds(unsigned int lo, unsigned int hi)
{
	struct rlimit rl;
	long fd;

	if (lo > hi)
		return;
	if (syscall(SYS_close_range, lo, hi, 0U) == 0)
		return;
	/* before Linux 5.9 */
	if (syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur > CLOSE_MAX)
		rl.rlim_cur = CLOSE_MAX;
	for (fd = lo; fd < (long)rl.rlim_cur && fd <= (long)hi; fd++)
		syscall(SYS_close, fd);
}

/*
 * Everything but the exec, in either kind of child: 0, or -1 with
 * a->err (and a->chdir_failed) set.  Signals are blocked on entry
 * (proc_start blocked them), so no handler of the parent's runs here;
 * each one not at SIG_DFL goes back to it before the unblock, which is
 * left to the caller.
 */
BF_NO_SANITIZE static int
child_setup(struct child_args *a)
{
	struct kernel_sigaction dfl = { 0 };	/* SIG_DFL is 0 */
	unsigned int lo;
	long fd;
	size_t i;
	int src[3];

	if (a->group == PROC_SESSION && syscall(SYS_setsid) == -1)
		goto fail;
	if (a->group == PROC_PGRP && syscall(SYS_setpgid, 0, 0) == -1)
		goto fail;
	if (a->pdeathsig != 0) {
		if (syscall(SYS_prctl, PR_SET_PDEATHSIG, a->pdeathsig, 0, 0,
		    0) == -1)
			goto fail;
		/* the parent died before the prctl */
		if (syscall(SYS_getppid) != a->ppid) {
			errno = ESRCH;
			goto fail;
		}
	}
	for (i = 0; i < ndflsigs; i++)
		if (!a->fn_child || (dflsigs[i] != 32 && dflsigs[i] != 33))
			syscall(SYS_rt_sigaction, dflsigs[i], &dfl, NULL,
			    sizeof(dfl.mask));
	for (i = 0; i < 3; i++) {
		src[i] = a->src[i];
		if (src[i] == SRC_DEVNULL) {
			if ((fd = syscall(SYS_openat, AT_FDCWD, "/dev/null",
			    (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC)) == -1)
				goto fail;
			src[i] = (int)fd;
		}
	}
	/*
	 * A source that is itself 0, 1 or 2 (we may have started without
	 * them) moves up first, so that no dup2 below clobbers another.
	 */
	for (i = 0; i < 3; i++)
		if (src[i] >= 0 && src[i] < 3 && src[i] != (int)i) {
			if ((fd = syscall(SYS_fcntl, src[i], F_DUPFD_CLOEXEC,
			    3)) == -1)
				goto fail;
			src[i] = (int)fd;
		}
	for (i = 0; i < 3; i++) {
		if (src[i] >= 0 && dup_to(src[i], (int)i) == -1)
			goto fail;
		if (src[i] == SRC_STDOUT && dup_to(1, 2) == -1)
			goto fail;
	}
	if (a->dir != NULL && syscall(SYS_chdir, a->dir) == -1) {
		a->chdir_failed = 1;
		goto fail;
	}
	/* every other descriptor: sockets of other clients, files */
	lo = 3;
	for (i = 0; i < a->nkeep; i++) {
		if (syscall(SYS_fcntl, a->keep[i], F_SETFD, 0) == -1)
			goto fail;
		if ((unsigned int)a->keep[i] > lo)
			close_fds(lo, (unsigned int)a->keep[i] - 1);
		lo = (unsigned int)a->keep[i] + 1;
	}
	close_fds(lo, ~0U);
	return 0;
fail:
	a->err = errno;
	return -1;
}

/*
 * The exec child, on its own small stack in the parent's memory
 * (CLONE_VM|CLONE_VFORK: the parent thread waits until the exec).  It
 * reports a failure through a->err before it exits.
 */
BF_NO_SANITIZE static int
child_exec(void *arg)
{
	struct child_args *a = arg;
	uint64_t none = 0;

	if (child_setup(a) == -1)
		goto out;
	if (a->cpus != NULL && syscall(SYS_sched_setaffinity, 0,
	    sizeof(*a->cpus), a->cpus) == -1)
		goto fail;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
	syscall(SYS_execve, a->path, a->argv, a->envp);
fail:
	a->err = errno;
out:
	syscall(SYS_exit_group, 127);
	return 127;
}

/*
 * Start the exec child like posix_spawn, but cheaper (see the top of
 * the file).  The child starts on this thread's CPU, which is idle
 * until the exec since this thread waits for it: Linux would put a new
 * task on the idlest CPU, and waking a halted virtual CPU costs more
 * than /bin/true takes to run (0.1 ms measured).  So this thread
 * narrows its affinity to its CPU for the clone, and the child
 * restores the full set before the exec; the program runs with the
 * caller's affinity.
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
	*pid = spawn_clone(child_exec, stack + sizeof(stack), flags | CLONE_PIDFD,
	    a, pidfd);
	if (*pid == -1 && errno == EINVAL) {
		*pidfd = -1;
		*pid = spawn_clone(child_exec, stack + sizeof(stack), flags, a);
	}
	rc = *pid == -1 ? errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* a thread left on one CPU would make every later child share it */
	if (a->cpus != NULL)
		(void)sched_setaffinity(0, sizeof(cpus), &cpus);
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

static int
intcmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/*
 * Start the function child: a fork, which reports a failed setup on a
 * pipe (it shares no memory with us) and otherwise closes it.  Returns
 * 0 or the errno of the failure, as spawn.
 */
static int
fork_fn(struct proc *p, struct child_args *a, char *const *envp,
    pid_t *pid)
{
	sigset_t all, old;
	int rep[2], msg[2];
	ssize_t n;
	pid_t r;

	if (pipe2(rep, O_CLOEXEC) == -1)
		return errno;
	a->err = 0;
	a->chdir_failed = 0;
	a->keep[a->nkeep++] = rep[1];
	qsort(a->keep, a->nkeep, sizeof(a->keep[0]), intcmp);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((*pid = fork()) == 0) {
		uint64_t none = 0;

		if (child_setup(a) == -1) {
			msg[0] = a->err;
			msg[1] = a->chdir_failed;
			(void)!write(rep[1], msg, sizeof(msg));
			_exit(127);
		}
		close(rep[1]);
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
		    sizeof(none));
		if (envp != NULL)
			environ = (char **)envp;
		_exit(p->fn(p->arg));
	}
	a->err = *pid == -1 ? errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(rep[1]);
	if (a->err == 0) {
		do
			n = read(rep[0], msg, sizeof(msg));
		while (n == -1 && errno == EINTR);
		if (n == (ssize_t)sizeof(msg)) {
			a->err = msg[0] != 0 ? msg[0] : EIO;
			a->chdir_failed = msg[1];
			do
				r = waitpid(*pid, NULL, 0);
			while (r == -1 && errno == EINTR);
		}
	}
	close(rep[0]);
	return a->err;
}

static size_t
key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq != NULL ? (size_t)(eq - kv) : strlen(kv);
}

static int
same_key(const char *a, const char *b)
{
	size_t n = key_len(a);

	return n == key_len(b) && memcmp(a, b, n) == 0;
}

/*
 * environ with the changes of add ("K=V" sets, "K" removes, the last
 * of a key wins): an array of borrowed strings, which the caller frees.
 */
static char **
merge_env(char *const *add)
{
	size_t n, m, k = 0, i, j;
	char **v;

	for (n = 0; environ[n] != NULL; n++)
		;
	for (m = 0; add[m] != NULL; m++)
		;
	v = xreallocarray(NULL, n + m + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		for (j = 0; j < m; j++)
			if (same_key(environ[i], add[j]))
				break;
		if (j == m)
			v[k++] = environ[i];
	}
	for (i = 0; i < m; i++) {
		if (strchr(add[i], '=') == NULL)
			continue;
		for (j = i + 1; j < m; j++)
			if (same_key(add[i], add[j]))
				break;
		if (j == m)
			v[k++] = add[i];
	}
	v[k] = NULL;
	return v;
}

void
proc_init(struct proc *p)
{
	struct proc init = PROC_INIT;

	*p = init;
}

int
proc_start(struct proc *p, struct strbuf *err)
{
	struct strbuf prog = STRBUF_INIT;
	struct child_args a;
	char ebuf[128];
	char **envp = NULL;
	int pipes[3][2], i, rc;
	size_t k;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < 3; i++)
		pipes[i][0] = pipes[i][1] = -1;
	pthread_once(&dfl_once, dfl_scan);
	p->pid = -1;
	p->pidfd = -1;
	p->exited = p->timed_out = p->stage = 0;
	p->deadline = p->kill_at = 0;
	if (p->fn == NULL) {
		if (p->args.nr == 0) {
			strbuf_addstr(err, "no program to run");
			return -1;
		}
		if (p->path != NULL)
			a.path = p->path;
		else if (strchr(p->args.v[0], '/') != NULL)
			a.path = p->args.v[0];
		else if (proc_lookpath(&prog, p->args.v[0], getenv("PATH"),
		    err) == -1)
			return -1;
		else
			a.path = prog.buf;
	}
	if (p->nkeep_fds > PROC_KEEP_MAX) {
		strbuf_addf(err, "more than %d descriptors to keep",
		    PROC_KEEP_MAX);
		goto fail;
	}
	for (k = 0; k < p->nkeep_fds; k++)
		a.keep[k] = p->keep_fds[k];
	a.nkeep = p->nkeep_fds;
	qsort(a.keep, a.nkeep, sizeof(a.keep[0]), intcmp);
	for (i = 0; i < 3; i++) {
		switch (p->io[i].how) {
		case PROC_INHERIT:
			a.src[i] = SRC_LEAVE;
			break;
		case PROC_DEVNULL:
			a.src[i] = SRC_DEVNULL;
			break;
		case PROC_PIPE:
			if (pipe2(pipes[i], O_CLOEXEC) == -1) {
				strbuf_addf(err, "pipe: %s",
				    go_strerror(errno, ebuf, sizeof(ebuf)));
				goto fail;
			}
			a.src[i] = pipes[i][i == 0 ? 0 : 1];
			break;
		case PROC_FD:
			a.src[i] = p->io[i].fd;
			break;
		case PROC_STDOUT:
			if (i == 2) {
				a.src[i] = SRC_STDOUT;
				break;
			}
			/* FALLTHROUGH */
		default:
			strbuf_addf(err, "bad way %d for descriptor %d",
			    (int)p->io[i].how, i);
			goto fail;
		}
	}
	if (p->env_replace)
		a.envp = p->env.v;
	else if (p->env.nr > 0)
		a.envp = envp = merge_env(p->env.v);
	else
		a.envp = environ;
	a.argv = p->args.v;
	a.dir = p->dir;
	a.group = p->group;
	a.pdeathsig = p->pdeathsig;
	a.ppid = getpid();
	if (p->fn != NULL) {
		a.fn_child = 1;
		rc = fork_fn(p, &a, p->env_replace || envp != NULL ?
		    a.envp : NULL, &p->pid);
		if (rc == 0)
			p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	} else {
		rc = spawn(&a, &p->pid, &p->pidfd);
		if (rc == 0 && p->pidfd == -1)
			p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	}
	if (rc != 0) {
		p->pid = -1;
		/* as Go's os.StartProcess, which checks the directory */
		if (a.chdir_failed)
			strbuf_addf(err, "chdir %s: %s", p->dir,
			    go_strerror(rc, ebuf, sizeof(ebuf)));
		else if (p->fn != NULL)
			strbuf_addf(err, "fork: %s",
			    go_strerror(rc, ebuf, sizeof(ebuf)));
		else
			strbuf_addf(err, "fork/exec %s: %s", a.path,
			    go_strerror(rc, ebuf, sizeof(ebuf)));
		goto fail;
	}
	for (i = 0; i < 3; i++) {
		if (pipes[i][0] == -1)
			continue;
		close(pipes[i][i == 0 ? 0 : 1]);
		p->io[i].fd = pipes[i][i == 0 ? 1 : 0];
	}
	if (p->timeout_ms > 0)
		p->deadline = mono_ms() + p->timeout_ms;
	free(envp);
	strbuf_release(&prog);
	return 0;
fail:
	for (i = 0; i < 3; i++) {
		if (pipes[i][0] != -1)
			close(pipes[i][0]);
		if (pipes[i][1] != -1)
			close(pipes[i][1]);
	}
	free(envp);
	strbuf_release(&prog);
	return -1;
}

int
proc_kill(struct proc *p, int sig)
{
	if (p->pid <= 0 || p->exited)
		return 0;
	return kill(p->group != PROC_SAME ? -p->pid : p->pid, sig);
}

int
proc_reap(struct proc *p, int block)
{
	siginfo_t si;
	pid_t r;
	int e;

	if (p->exited)
		return 1;
	if (p->pid <= 0) {
		errno = ECHILD;
		return -1;
	}
	if (p->stage == 1) {
		/* after SIGTERM, the group's SIGKILL comes before the reap */
		memset(&si, 0, sizeof(si));
		do
			e = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT |
			    (block ? 0 : WNOHANG));
		while (e == -1 && errno == EINTR);
		if (e == 0 && si.si_pid == p->pid) {
			proc_kill(p, SIGKILL);
			p->stage = 2;
		} else if (e == 0)
			return 0;
	}
	do
		r = waitpid(p->pid, &p->status, block ? 0 : WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return 0;
	p->exited = 1;
	if (r == p->pid)
		return 1;
	e = errno;
	p->status = 255 << 8;	/* exit status 255 */
	errno = e;
	return -1;
}

int
proc_timeout(const struct proc *p)
{
	long long t;

	if (p->exited || p->deadline == 0 || p->stage == 2)
		return -1;
	t = (p->stage == 0 ? p->deadline : p->kill_at) - mono_ms();
	if (t < 0)
		return 0;
	return t > INT_MAX ? INT_MAX : (int)t;
}

int
proc_tick(struct proc *p)
{
	long long now;

	if (p->exited || p->deadline == 0 || p->stage == 2)
		return 0;
	now = mono_ms();
	if (p->stage == 0 && now >= p->deadline) {
		p->timed_out = 1;
		if (p->kill_grace_ms > 0) {
			proc_kill(p, SIGTERM);
			p->kill_at = now + p->kill_grace_ms;
			p->stage = 1;
		} else {
			proc_kill(p, SIGKILL);
			p->stage = 2;
		}
		return 1;
	}
	if (p->stage == 1 && now >= p->kill_at) {
		proc_kill(p, SIGKILL);
		p->stage = 2;
		return 1;
	}
	return 0;
}

int
proc_wait(struct proc *p, long long timeout_ms)
{
	long long end = timeout_ms >= 0 ? mono_ms() + timeout_ms : -1, left;
	struct pollfd pfd;
	int r, tmo;

	for (;;) {
		if ((r = proc_reap(p, 0)) != 0)
			return r;
		proc_tick(p);
		tmo = proc_timeout(p);
		if (tmo == -1 && end == -1 && p->stage != 1)
			return proc_reap(p, 1);
		if (end >= 0) {
			if ((left = end - mono_ms()) <= 0)
				return 0;
			if (tmo == -1 || tmo > left)
				tmo = (int)(left > INT_MAX ? INT_MAX : left);
		}
		if (p->pidfd < 0 && (tmo == -1 || tmo > NOPIDFD_POLL_MS))
			tmo = NOPIDFD_POLL_MS;
		pfd.fd = p->pidfd;
		pfd.events = POLLIN;
		if (poll(&pfd, p->pidfd >= 0 ? 1 : 0, tmo) == -1 &&
		    errno != EINTR)
			return -1;
	}
}

void
proc_clear(struct proc *p)
{
	strvec_clear(&p->args);
	strvec_clear(&p->env);
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

int
proc_finish(struct proc *p)
{
	int code = -1;

	if (p->pid > 0 && proc_wait(p, -1) != 0)
		code = proc_exit_code(p);
	proc_clear(p);
	return code;
}

int
proc_exit_code(const struct proc *p)
{
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	if (WIFSIGNALED(p->status))
		return 128 + WTERMSIG(p->status);
	return 255;
}

void
proc_state(const struct proc *p, struct strbuf *out)
{
	int sig;

	if (!p->exited)
		strbuf_addstr(out, "not reaped");
	else if (WIFEXITED(p->status)) {
		if (WEXITSTATUS(p->status) == 0)
			strbuf_addstr(out, "ok");
		else
			strbuf_addf(out, "exit status %d",
			    WEXITSTATUS(p->status));
	} else if (WIFSIGNALED(p->status)) {
		sig = WTERMSIG(p->status);
		if (sig > 0 && (size_t)sig < ARRAY_SIZE(signames))
			strbuf_addf(out, "signal: %s", signames[sig]);
		else
			strbuf_addf(out, "signal %d", sig);
		if (WCOREDUMP(p->status))
			strbuf_addstr(out, " (core dumped)");
	} else
		strbuf_addstr(out, "unknown wait status");
}

int
proc_lookpath(struct strbuf *out, const char *file, const char *pathlist,
    struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	const char *s, *e;
	struct stat st;

	for (s = pathlist; s != NULL; s = *e != '\0' ? e + 1 : NULL) {
		e = strchrnul(s, ':');
		strbuf_reset(&p);
		if (e == s)
			strbuf_addch(&p, '.');
		else
			strbuf_add(&p, s, (size_t)(e - s));
		strbuf_addf(&p, "/%s", file);
		if (stat(p.buf, &st) == 0 && !S_ISDIR(st.st_mode) &&
		    (st.st_mode & 0111) != 0) {
			strbuf_add(out, p.buf, p.len);
			strbuf_release(&p);
			return 0;
		}
	}
	strbuf_release(&p);
	if (err != NULL)
		strbuf_addf(err, "exec: \"%s\": executable file not found in "
		    "$PATH", file);
	return -1;
}

/*
 * Go's texts for errno values are the C library's with a lowercase
 * first letter ("no such file or directory").
 */
const char *
go_strerror(int errnum, char *buf, size_t size)
{
	const char *s = strerrordesc_np(errnum);

	if (s == NULL)
		snprintf(buf, size, "errno %d", errnum);
	else
		snprintf(buf, size, "%s", s);
	if (buf[0] != '\0' && buf[1] != '\0' && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

void
proc_sh_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

int
proc_expand(struct strbuf *out, const char *line,
    const struct proc_var *vars, size_t nvars, struct strbuf *err)
{
	size_t start = out->len, i;
	const char *s;

	for (s = line; *s != '\0'; s++) {
		if (*s != '%') {
			strbuf_addch(out, *s);
			continue;
		}
		if (s[1] == '%') {
			strbuf_addch(out, '%');
			s++;
			continue;
		}
		for (i = 0; i < nvars && s[1] != '\0'; i++)
			if (vars[i].letter == s[1])
				break;
		if (s[1] == '\0' || i == nvars) {
			strbuf_setlen(out, start);
			if (s[1] == '\0')
				strbuf_addf(err, "'%%' at the end of '%s'",
				    line);
			else
				strbuf_addf(err, "unknown %%%c in '%s'", s[1],
				    line);
			return -1;
		}
		proc_sh_quote(out, vars[i].value);
		s++;
	}
	return 0;
}
