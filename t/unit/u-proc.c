#include "compat.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "proc.h"
#include "strbuf.h"
#include "timefmt.h"

/* Everything the child writes on our end of its pipe, which is closed. */
static void
slurp(struct strbuf *out, int fd)
{
	strbuf_reset(out);
	if (strbuf_read_fd(out, fd, 1 << 20) < 0)
		test_msg("read: %s", strerror(errno));
	close(fd);
}

/* Run /bin/sh -c script with stdout (and stderr) into out: the code. */
static int
sh_out(const char *script, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	struct proc p = PROC_INIT;

	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, script);
	p.io[0].how = PROC_DEVNULL;
	p.io[1].how = PROC_PIPE;
	p.io[2].how = PROC_STDOUT;
	if (proc_start(&p, &err) == -1) {
		test_msg("start: %s", err.buf);
		strbuf_release(&err);
		proc_clear(&p);
		return -1;
	}
	slurp(out, p.io[1].fd);
	strbuf_release(&err);
	return proc_finish(&p);
}

static void
t_pipes(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, eout = STRBUF_INIT;
	struct proc p = PROC_INIT;

	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "read x; echo \"got $x\"; echo oops >&2");
	p.io[0].how = p.io[1].how = p.io[2].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0)) {
		test_msg("%s", err.buf);
		return;
	}
	check_int(write(p.io[0].fd, "hi\n", 3), ==, 3);
	close(p.io[0].fd);
	slurp(&out, p.io[1].fd);
	slurp(&eout, p.io[2].fd);
	check_str(out.buf, "got hi\n");
	check_str(eout.buf, "oops\n");
	check_int(proc_finish(&p), ==, 0);
	check(p.pidfd == -1);

	/* stdin from /dev/null; stderr into stdout's pipe */
	check_int(sh_out("cat; echo one; echo two >&2", &out), ==, 0);
	check_str(out.buf, "one\ntwo\n");
	strbuf_release(&out);
	strbuf_release(&eout);
	strbuf_release(&err);
}

static void
t_devnull_out(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct proc p = PROC_INIT;

	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "echo lost; [ /proc/self/fd/1 -ef /dev/null ] && echo null >&2");
	p.io[1].how = PROC_DEVNULL;
	p.io[2].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	slurp(&out, p.io[2].fd);
	check_str(out.buf, "null\n");
	check_int(proc_finish(&p), ==, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
t_env(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct proc p = PROC_INIT;

	setenv("U_PROC_A", "1", 1);
	setenv("U_PROC_B", "2", 1);
	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "env | grep ^U_PROC_ | sort");
	strvec_push(&p.env, "U_PROC_A");
	strvec_push(&p.env, "U_PROC_C=3");
	strvec_push(&p.env, "U_PROC_C=4");
	p.io[1].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	slurp(&out, p.io[1].fd);
	check_str(out.buf, "U_PROC_B=2\nU_PROC_C=4\n");
	check_int(proc_finish(&p), ==, 0);

	proc_init(&p);
	strvec_push(&p.args, "/usr/bin/env");
	strvec_push(&p.env, "ONLY=this");
	p.env_replace = 1;
	p.io[1].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	slurp(&out, p.io[1].fd);
	check_str(out.buf, "ONLY=this\n");
	check_int(proc_finish(&p), ==, 0);
	unsetenv("U_PROC_A");
	unsetenv("U_PROC_B");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
t_dir(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct proc p = PROC_INIT;

	/* a name without a slash is found in $PATH */
	strvec_push(&p.args, "pwd");
	p.dir = "/usr";
	p.io[1].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0)) {
		test_msg("%s", err.buf);
		return;
	}
	slurp(&out, p.io[1].fd);
	check_str(out.buf, "/usr\n");
	check_int(proc_finish(&p), ==, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
t_status(void)
{
	static const struct {
		const char *script, *state;
		int code;
	} c[] = {
		{ "true", "ok", 0 },
		{ "exit 3", "exit status 3", 3 },
		{ "kill -TERM $$", "signal: terminated", 143 },
		{ "kill -KILL $$", "signal: killed", 137 },
		{ "kill -USR1 $$", "signal: user defined signal 1", 138 },
	};
	struct strbuf err = STRBUF_INIT, st = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct proc p = PROC_INIT;

		strvec_push(&p.args, "/bin/sh");
		strvec_push(&p.args, "-c");
		strvec_push(&p.args, c[i].script);
		if (!check_int(proc_start(&p, &err), ==, 0))
			continue;
		check_int(proc_finish(&p), ==, c[i].code);
		check_int(proc_exit_code(&p), ==, c[i].code);
		strbuf_reset(&st);
		proc_state(&p, &st);
		check_str(st.buf, c[i].state);
	}
	strbuf_release(&st);
	strbuf_release(&err);
}

static int fn_hang(void *arg);

/* proc_start fails with msg, leaving no child behind. */
static void
start_fails(struct proc *p, const char *msg)
{
	struct strbuf err = STRBUF_INIT;

	check_int(proc_start(p, &err), ==, -1);
	check_str(err.buf, msg);
	check_int(p->pid, ==, -1);
	check_int(waitpid(-1, NULL, WNOHANG), ==, -1);
	check_int(errno, ==, ECHILD);
	check_int(proc_finish(p), ==, -1);
	strbuf_release(&err);
}

static void
t_exec_fail(void)
{
	struct proc p = PROC_INIT;
	int fds;

	fds = open("/dev/null", O_RDONLY);	/* the lowest free number */
	close(fds);
	strvec_push(&p.args, "/no/such/program");
	p.io[1].how = PROC_PIPE;
	start_fails(&p, "fork/exec /no/such/program: no such file or "
	    "directory");
	/* no descriptor left open by the failure */
	check_int(open("/dev/null", O_RDONLY), ==, fds);
	close(fds);

	proc_init(&p);
	strvec_push(&p.args, "/etc/passwd");
	start_fails(&p, "fork/exec /etc/passwd: permission denied");
	proc_init(&p);
	strvec_push(&p.args, "/bin/true");
	p.dir = "/no/such/dir";
	start_fails(&p, "chdir /no/such/dir: no such file or directory");
	proc_init(&p);
	strvec_push(&p.args, "no-such-program-u-proc");
	start_fails(&p, "exec: \"no-such-program-u-proc\": executable file "
	    "not found in $PATH");
	proc_init(&p);
	p.dir = "/no/such/dir";
	p.fn = fn_hang;
	start_fails(&p, "chdir /no/such/dir: no such file or directory");
}

/*
 * The deadline: SIGTERM to the group, which kills the shell; the
 * grandchild ignores it, and gets SIGKILL.  We are a subreaper, so the
 * orphaned grandchild is our child and we see how it died.
 */
static void
t_deadline(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct proc p = PROC_INIT;
	char buf[32];
	long long t0;
	ssize_t n;
	pid_t gc;
	int st;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "sh -c 'trap \"\" TERM; echo $$; exec sleep 300' "
	    "& wait; echo never");
	p.io[1].how = PROC_PIPE;
	p.group = PROC_PGRP;
	p.timeout_ms = 300;
	p.kill_grace_ms = 3000;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	n = read(p.io[1].fd, buf, sizeof(buf) - 1);
	if (!check_int(n, >, 0))
		return;
	buf[n] = '\0';
	gc = (pid_t)atoi(buf);
	check_int(gc, >, 0);
	t0 = mono_ms();
	check_int(proc_wait(&p, -1), ==, 1);
	check(p.timed_out);
	strbuf_reset(&out);
	proc_state(&p, &out);
	check_str(out.buf, "signal: terminated");
	/* the grace was not waited out: the shell's death ended it */
	check_int(mono_ms() - t0, <, 2900);
	check_int(waitpid(gc, &st, 0), ==, gc);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	slurp(&out, p.io[1].fd);
	check_str(out.buf, "");
	proc_clear(&p);

	/* grace 0: SIGKILL at once */
	proc_init(&p);
	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "trap '' TERM; sleep 300 & wait");
	p.group = PROC_SESSION;
	p.timeout_ms = 100;
	p.kill_grace_ms = 0;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	check_int(proc_finish(&p), ==, 137);
	check(p.timed_out);
	/* its sleep, killed with it, comes to us */
	check_int(waitpid(-1, &st, 0), >, 0);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
t_pidfd(void)
{
	struct strbuf err = STRBUF_INIT;
	struct proc p = PROC_INIT;
	struct pollfd pfd;

	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "read x");
	p.io[0].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	if (p.pidfd < 0) {
		test_skip("no pidfd in this kernel");
		close(p.io[0].fd);
		proc_finish(&p);
		return;
	}
	pfd.fd = p.pidfd;
	pfd.events = POLLIN;
	check_int(poll(&pfd, 1, 0), ==, 0);
	check_int(proc_reap(&p, 0), ==, 0);
	check_int(proc_wait(&p, 50), ==, 0);
	close(p.io[0].fd);	/* read x ends */
	check_int(poll(&pfd, 1, 10000), ==, 1);
	check(pfd.revents & POLLIN);
	check_int(proc_reap(&p, 0), ==, 1);
	check_int(proc_finish(&p), ==, 1);
	strbuf_release(&err);
}

/* SigIgn and SigBlk of a child: both zero, though ours are not. */
static void
t_signals(void)
{
	struct strbuf out = STRBUF_INIT;

	check_int(sh_out("grep -E '^Sig(Blk|Ign):' /proc/self/status", &out),
	    ==, 0);
	check_str(out.buf, "SigBlk:\t0000000000000000\n"
	    "SigIgn:\t0000000000000000\n");
	strbuf_release(&out);
}

static int
fn_signals(void *arg)
{
	struct sigaction sa;
	sigset_t set;

	(void)arg;
	if (sigaction(SIGUSR2, NULL, &sa) == -1 || sa.sa_handler != SIG_DFL)
		return 1;
	if (sigprocmask(SIG_SETMASK, NULL, &set) == -1 ||
	    sigismember(&set, SIGUSR1))
		return 2;
	if (write(1, "hello", 5) != 5)
		return 3;
	return 7;
}

static int
fn_hang(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

static void
t_fn(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct proc p = PROC_INIT;

	p.fn = fn_signals;
	p.io[1].how = PROC_PIPE;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	slurp(&out, p.io[1].fd);
	check_str(out.buf, "hello");
	check_int(proc_finish(&p), ==, 7);

	proc_init(&p);
	p.fn = fn_hang;
	p.timeout_ms = 100;
	p.kill_grace_ms = 0;
	p.pdeathsig = SIGKILL;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	check_int(proc_finish(&p), ==, 137);
	strbuf_reset(&out);
	proc_state(&p, &out);
	check_str(out.buf, "signal: killed");
	strbuf_release(&out);
	strbuf_release(&err);
}

/* Only 0-2 and the kept descriptors reach the child. */
static void
t_fds(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, want = STRBUF_INIT;
	struct proc p = PROC_INIT;
	int leak, keep;

	leak = open("/dev/null", O_RDONLY);	/* not close-on-exec */
	keep = open("/dev/null", O_RDONLY);
	strvec_push(&p.args, "/bin/sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args, "cd /proc/self/fd && for f in *; do "
	    "test $f -gt 2 && test -e /proc/$$/fd/$f && echo $f; done");
	p.io[1].how = PROC_PIPE;
	p.keep_fds = &keep;
	p.nkeep_fds = 1;
	if (!check_int(proc_start(&p, &err), ==, 0))
		return;
	slurp(&out, p.io[1].fd);
	check_int(proc_finish(&p), ==, 0);
	strbuf_addf(&want, "%d\n", keep);
	check_str(out.buf, want.buf);
	close(leak);
	close(keep);
	strbuf_release(&out);
	strbuf_release(&want);
	strbuf_release(&err);
}

static void
t_expand(void)
{
	static const struct proc_var v[] = { { 'n', "a b'c $x" } };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, run = STRBUF_INIT;

	check_int(proc_expand(&out, "env/local/create %n", v, 1, &err), ==, 0);
	check_str(out.buf, "env/local/create 'a b'\\''c $x'");
	strbuf_reset(&out);
	check_int(proc_expand(&out, "100%% %n%%n", v, 1, &err), ==, 0);
	check_str(out.buf, "100% 'a b'\\''c $x'%n");
	strbuf_reset(&out);
	strbuf_addstr(&out, "kept");
	check_int(proc_expand(&out, "x %y", v, 1, &err), ==, -1);
	check_str(err.buf, "unknown %y in 'x %y'");
	check_str(out.buf, "kept");
	strbuf_reset(&err);
	check_int(proc_expand(&out, "x %", v, 1, &err), ==, -1);
	check_str(err.buf, "'%' at the end of 'x %'");
	/* the shell sees the value as one word, unchanged */
	strbuf_reset(&out);
	check_int(proc_expand(&out, "printf '[%%s]' %n", v, 1, &err), ==, 0);
	check_int(sh_out(out.buf, &run), ==, 0);
	check_str(run.buf, "[a b'c $x]");
	strbuf_release(&out);
	strbuf_release(&run);
	strbuf_release(&err);
}

static void
t_lookpath(void)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	check_int(proc_lookpath(&out, "sh", "/nonexistent::/bin", &err), ==, 0);
	check_str(out.buf, "/bin/sh");
	strbuf_reset(&out);
	/* a directory is not a program */
	check_int(proc_lookpath(&out, "bin", "/", &err), ==, -1);
	check_str(err.buf, "exec: \"bin\": executable file not found in $PATH");
	check_int(proc_lookpath(&out, "sh", NULL, NULL), ==, -1);
	strbuf_release(&out);
	strbuf_release(&err);
}

int
main(void)
{
	sigset_t set;

	/* as under nohup or make: the children must not inherit these */
	signal(SIGUSR2, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	TEST(t_pipes(), "stdin, stdout and stderr as pipes; stderr to stdout");
	TEST(t_devnull_out(), "stdout to /dev/null");
	TEST(t_env(), "env additions, removals and replacement");
	TEST(t_dir(), "the child starts in dir; a bare name is found in PATH");
	TEST(t_status(), "exit codes and Go's state strings");
	TEST(t_exec_fail(), "start failures in Go's words, nothing left behind");
	TEST(t_deadline(), "the deadline kills the group, grandchildren too");
	TEST(t_pidfd(), "the pidfd becomes readable in poll at exit");
	TEST(t_signals(), "signals at SIG_DFL and none blocked in the child");
	TEST(t_fn(), "a function child: clean signals, output, deadline");
	TEST(t_fds(), "only fds 0-2 and the kept ones reach the child");
	TEST(t_expand(), "%%n expands shell-quoted; %%%% and unknown %%X");
	TEST(t_lookpath(), "lookpath as Go's exec.LookPath");
	return test_done();
}
