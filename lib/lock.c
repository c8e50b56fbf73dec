#include "compat.h"

#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "rc.h"
#include "strbuf.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
lock_fd(int fd, int flags, int timeout_ms, struct strbuf *err)
{
	int op = (flags & LOCK_F_SHARED) ? LOCK_SH : LOCK_EX;
	long long deadline;
	unsigned nap = 1;

	if (flags & LOCK_F_NB || timeout_ms >= 0) {
		deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
		for (;;) {
			struct timespec ts;

			if (flock(fd, op | LOCK_NB) == 0)
				return RC_OK;
			if (errno == EINTR)
				continue;
			if (errno != EWOULDBLOCK) {
				strbuf_addf(err, "flock: %s", strerror(errno));
				return RC_TEMP;
			}
			if (flags & LOCK_F_NB)
				return RC_NO;
			if (now_ms() >= deadline) {
				strbuf_addf(err, "lock busy after %d ms",
				    timeout_ms);
				return RC_TEMP;
			}
			/*
			 * flock has no timed wait; back off from 1 ms to
			 * 50 ms between tries.
			 */
			ts.tv_sec = 0;
			ts.tv_nsec = (long)nap * 1000000;
			nanosleep(&ts, NULL);
			if (nap < 50)
				nap *= 2;
		}
	}
	while (flock(fd, op) < 0) {
		if (errno != EINTR) {
			strbuf_addf(err, "flock: %s", strerror(errno));
			return RC_TEMP;
		}
	}
	return RC_OK;
}

int
lock_take(const char *path, int flags, int timeout_ms, int *fdp,
    struct strbuf *err)
{
	int fd, rc;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "open lock '%s': %s", path, strerror(errno));
		return RC_TEMP;
	}
	rc = lock_fd(fd, flags, timeout_ms, err);
	if (rc != RC_OK) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return RC_OK;
}

void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
