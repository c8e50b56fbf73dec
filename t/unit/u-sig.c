/*
 * u-sig: lib/sig, the daemons' signal idiom: signals blocked before
 * threads start and read from one fd, so none is lost between a check
 * and a sleep.
 */
#include "compat.h"

#include <sys/wait.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "sig.h"
#include "strbuf.h"
#include "tap.h"

static void
t_pending(void)
{
	/* raised before anyone waits: kept, not lost */
	check_int(raise(SIGUSR1), ==, 0);
	check_int(sig_wait(0), ==, SIGUSR1);
	check_int(sig_next(), ==, 0);
	check_int(sig_wait(0), ==, 0);
}

static void
t_timeout(void)
{
	struct timespec a, b;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	check_int(sig_wait(30), ==, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;
	/* a lower bound only: a busy machine may make it later */
	check_int(ms, >=, 30);
}

/*
 * Never early, not even by the part of a millisecond that whole
 * milliseconds at both ends would lose: many short waits, each
 * measured in nanoseconds.
 */
static void
t_not_early(void)
{
	struct timespec a, b;
	long long ns, least = -1;
	int i;

	for (i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (sig_wait(1) != 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns = (b.tv_sec - a.tv_sec) * 1000000000LL + b.tv_nsec -
		    a.tv_nsec;
		if (least < 0 || ns < least)
			least = ns;
	}
	check_int(i, ==, 1000);
	check_int(least, >=, 1000000);
}

static void
t_fd(void)
{
	struct pollfd p = { sig_fd(), POLLIN, 0 };

	check_int(sig_fd(), >=, 0);
	check_int(poll(&p, 1, 0), ==, 0);
	check_int(raise(SIGUSR2), ==, 0);
	check_int(poll(&p, 1, 0), ==, 1);
	check_int(sig_next(), ==, SIGUSR2);
	check_int(poll(&p, 1, 0), ==, 0);
}

static void *
mask_of_thread(void *arg)
{
	sigset_t *set = arg;

	pthread_sigmask(SIG_BLOCK, NULL, set);
	return NULL;
}

static void
t_threads(void)
{
	sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	check_int(pthread_create(&t, NULL, mask_of_thread, &set), ==, 0);
	pthread_join(t, NULL);
	check_int(sigismember(&set, SIGUSR1), ==, 1);
	check_int(sigismember(&set, SIGTERM), ==, 1);
}

/*
 * The race "while (!stop) pause();" loses: a signal from another
 * process that lands before the wait starts.  Here it always lands
 * first (the child has exited before we wait), and must still end a
 * wait with no timeout.
 */
static void
t_no_lost_wakeup(void)
{
	pid_t pid;
	int i, st;

	for (i = 0; i < 20; i++) {
		if ((pid = fork()) == 0) {
			kill(getppid(), SIGTERM);
			_exit(0);
		}
		check_int(waitpid(pid, &st, 0), ==, pid);
		check_int(sig_wait(-1), ==, SIGTERM);
	}
}

int
main(void)
{
	struct strbuf err = STRBUF_INIT;

	if (sig_init(&err, SIGUSR1, SIGUSR2, SIGTERM, 0) < 0) {
		printf("Bail out! %s\n", err.buf);
		return 1;
	}
	TEST(t_pending(), "a signal raised before the wait is kept");
	TEST(t_timeout(), "sig_wait times out with 0");
	TEST(t_not_early(), "sig_wait is never early by a fraction of a "
	    "millisecond");
	TEST(t_fd(), "sig_fd is readable while a signal is pending");
	TEST(t_threads(), "threads started after sig_init inherit the mask");
	TEST(t_no_lost_wakeup(), "a signal before the wait ends it: no lost "
	    "wake-up");
	sig_restore();
	strbuf_release(&err);
	return test_done();
}
