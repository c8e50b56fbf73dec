#include "compat.h"

#include <sys/signalfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sig.h"
#include "strbuf.h"

static int sfd = -1;
static sigset_t blocked;

int
sig_init(struct strbuf *err, ...)
{
	va_list ap;
	int s, e;

	sigemptyset(&blocked);
	va_start(ap, err);
	while ((s = va_arg(ap, int)) != 0)
		sigaddset(&blocked, s);
	va_end(ap);
	signal(SIGPIPE, SIG_IGN);
	if ((e = pthread_sigmask(SIG_BLOCK, &blocked, NULL)) != 0) {
		strbuf_addf(err, "blocking signals: %s", strerror(e));
		return -1;
	}
	if (sfd >= 0)
		close(sfd);
	if ((sfd = signalfd(-1, &blocked, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		strbuf_addf(err, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
sig_fd(void)
{
	return sfd;
}

int
sig_next(void)
{
	struct signalfd_siginfo si;
	ssize_t n;

	if (sfd < 0)
		return 0;
	do
		n = read(sfd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * The deadline is kept in nanoseconds and each nap rounded up to the
 * next millisecond: in whole milliseconds both ends would be truncated,
 * and the wait could end up to 1 ms before ms had passed.
 */
int
sig_wait(long long ms)
{
	struct pollfd p;
	long long end, left;
	int s, r;

	if (ms > 1000000000000LL)	/* 31 years: as good as none */
		ms = -1;
	end = ms < 0 ? -1 : now_ns() + ms * 1000000;
	for (;;) {
		if ((s = sig_next()) != 0)
			return s;
		left = end < 0 ? -1 : end - now_ns();
		if (end >= 0 && left <= 0)
			return 0;
		if (sfd < 0) {
			/* not initialised: a plain nap */
			struct timespec ts;

			if (left < 0)
				left = 1000000000LL;
			ts.tv_sec = (time_t)(left / 1000000000LL);
			ts.tv_nsec = (long)(left % 1000000000LL);
			nanosleep(&ts, NULL);
			continue;
		}
		if (left > 0)
			left = (left + 999999) / 1000000;
		p.fd = sfd;
		p.events = POLLIN;
		r = poll(&p, 1, left < 0 ? -1 : left > 0x7fffffff ?
		    0x7fffffff : (int)left);
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

void
sig_restore(void)
{
	if (sfd >= 0) {
		close(sfd);
		sfd = -1;
	}
	pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
	sigemptyset(&blocked);
}
