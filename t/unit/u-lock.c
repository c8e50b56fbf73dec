#include "compat.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "lock.h"
#include "rc.h"
#include "strbuf.h"

static char root[PATH_MAX];
static char path[PATH_MAX + 16];

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Fork a child that takes the lock with flags and holds it until it is
 * killed, or for hold_ms when that is > 0; returns its pid once it holds
 * the lock, or -1.
 */
static pid_t
holder(int flags, int hold_ms)
{
	int p[2];
	pid_t pid;
	char c = 0;

	if (pipe(p) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct strbuf err = STRBUF_INIT;
		int fd = -1;

		close(p[0]);
		c = lock_take(path, flags, -1, &fd, &err) == RC_OK ? 'y' : 'n';
		(void)!write(p[1], &c, 1);
		if (hold_ms > 0) {
			struct timespec ts = { hold_ms / 1000,
			    (long)(hold_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
			_exit(0);
		}
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1 || c != 'y') {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void
t_take(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stat st;
	int fd = -1, fd2 = -1;

	check_int(lock_take(path, 0, 0, &fd, &err), ==, RC_OK);
	check(fd >= 0);
	check_str(err.buf, "");
	check_int(stat(path, &st), ==, 0);
	check_int(st.st_mode & 0777, ==, 0644 & ~022);
	/* flock conflicts between two opens, even in one process */
	check_int(lock_take(path, LOCK_F_NB, 0, &fd2, &err), ==, RC_NO);
	check_int(fd2, ==, -1);
	lock_release(fd);
	check_int(lock_take(path, LOCK_F_NB, 0, &fd2, &err), ==, RC_OK);
	lock_release(fd2);
	lock_release(-1);	/* harmless */
	strbuf_release(&err);
}

static void
t_exclusive(void)
{
	struct strbuf err = STRBUF_INIT;
	long long t0, dt;
	pid_t pid;
	int fd = -1;

	pid = holder(0, 0);
	check(pid > 0);
	/* busy, not waiting: RC_NO at once, and no error message */
	t0 = now_ms();
	check_int(lock_take(path, LOCK_F_NB, 0, &fd, &err), ==, RC_NO);
	check_int(now_ms() - t0, <, 50);
	check_str(err.buf, "");
	check_int(lock_take(path, LOCK_F_NB | LOCK_F_SHARED, 0, &fd, &err), ==,
	    RC_NO);
	/* busy, waiting 100 ms: RC_TEMP after about 100 ms */
	t0 = now_ms();
	check_int(lock_take(path, 0, 100, &fd, &err), ==, RC_TEMP);
	dt = now_ms() - t0;
	check_int(dt, >=, 100);
	check_int(dt, <, 1000);
	check_str(err.buf, "lock busy after 100 ms");
	check_int(fd, ==, -1);
	/* timeout 0 without LOCK_F_NB: one try, then RC_TEMP */
	check_int(lock_take(path, 0, 0, &fd, &err), ==, RC_TEMP);
	/* the kernel drops the lock of the dead */
	reap(pid);
	check_int(lock_take(path, LOCK_F_NB, 0, &fd, &err), ==, RC_OK);
	lock_release(fd);
	strbuf_release(&err);
}

static void
t_shared(void)
{
	struct strbuf err = STRBUF_INIT;
	pid_t pid;
	int fd = -1;

	pid = holder(LOCK_F_SHARED, 0);
	check(pid > 0);
	check_int(lock_take(path, LOCK_F_SHARED | LOCK_F_NB, 0, &fd, &err), ==,
	    RC_OK);
	lock_release(fd);
	fd = -1;
	check_int(lock_take(path, LOCK_F_NB, 0, &fd, &err), ==, RC_NO);
	reap(pid);
	check_int(lock_take(path, LOCK_F_NB, 0, &fd, &err), ==, RC_OK);
	lock_release(fd);
	strbuf_release(&err);
}

static void
t_wait(void)
{
	struct strbuf err = STRBUF_INIT;
	long long t0, dt;
	pid_t pid;
	int fd = -1, st;

	/* released after 150 ms: a 5 s timeout gets it in between */
	pid = holder(0, 150);
	check(pid > 0);
	t0 = now_ms();
	check_int(lock_take(path, 0, 5000, &fd, &err), ==, RC_OK);
	dt = now_ms() - t0;
	check_int(dt, >=, 100);
	check_int(dt, <, 2000);
	lock_release(fd);
	waitpid(pid, &st, 0);
	/* and without a timeout */
	pid = holder(0, 100);
	check(pid > 0);
	fd = -1;
	check_int(lock_take(path, 0, -1, &fd, &err), ==, RC_OK);
	check(fd >= 0);
	lock_release(fd);
	waitpid(pid, &st, 0);
	check_str(err.buf, "");
	strbuf_release(&err);
}

static void
t_errors(void)
{
	struct strbuf err = STRBUF_INIT;
	char bad[PATH_MAX + 32];
	int fd = -1;

	snprintf(bad, sizeof(bad), "%s/nodir/lock", root);
	check_int(lock_take(bad, 0, 0, &fd, &err), ==, RC_TEMP);
	check_int(fd, ==, -1);
	check(strstr(err.buf, "open lock '") != NULL);
	check(strstr(err.buf, "/nodir/lock': No such file or directory") !=
	    NULL);
	strbuf_reset(&err);
	check_int(lock_fd(-1, LOCK_F_NB, 0, &err), ==, RC_TEMP);
	check_str(err.buf, "flock: Bad file descriptor");
	strbuf_release(&err);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	if (snprintf(root, sizeof(root), "%s/u-lock.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp") >= (int)sizeof(root) ||
	    mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/lock", root);
	umask(022);

	TEST(t_take(), "lock_take creates and locks; second open conflicts");
	TEST(t_exclusive(), "held by a child: NB is RC_NO, 100 ms is RC_TEMP");
	TEST(t_shared(), "shared locks coexist and exclude exclusive ones");
	TEST(t_wait(), "a waiting lock_take gets the lock when it is freed");
	TEST(t_errors(), "errors are RC_TEMP with a message");

	unlink(path);
	rmdir(root);
	return test_done();
}
