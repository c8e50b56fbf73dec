#include "compat.h"

#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "relay.h"
#include "xmalloc.h"

/* One direction: bytes read from `from`, not yet taken by `to`. */
struct dir {
	int from, to;
	char *buf;
	const char *p;		/* unsent bytes: in buf, or the caller's pre */
	size_t n;
	int eof;		/* from said EOF; to gets it once n is 0 */
	int done;		/* and it did */
};

static int
again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Send what can go now; -1 on a real error. */
static int
flush(struct dir *d)
{
	ssize_t w;

	while (d->n > 0) {
		w = send(d->to, d->p, d->n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1)
			return again() ? 0 : -1;
		d->p += w;
		d->n -= (size_t)w;
	}
	return 0;
}

/* Read what is there (only when the buffer is empty); -1 on error. */
static int
fill(struct dir *d)
{
	ssize_t r;

	r = recv(d->from, d->buf, RELAY_BUF, MSG_DONTWAIT);
	if (r == -1)
		return again() ? 0 : -1;
	if (r == 0)
		d->eof = 1;
	else {
		d->p = d->buf;
		d->n = (size_t)r;
	}
	return flush(d);
}

int
relay_run(int a, int b, const void *pre, size_t npre)
{
	struct dir d[2] = {
		{ a, b, NULL, pre, npre, 0, 0 },
		{ b, a, NULL, NULL, 0, 0, 0 },
	};
	struct pollfd pfd[4];
	int i, ret = 0, e = 0;

	d[0].buf = xmalloc(RELAY_BUF);
	d[1].buf = xmalloc(RELAY_BUF);
	for (;;) {
		for (i = 0; i < 2; i++)
			if (d[i].eof && d[i].n == 0 && !d[i].done) {
				shutdown(d[i].to, SHUT_WR);
				d[i].done = 1;
			}
		if (d[0].done && d[1].done)
			break;
		/* per direction: wait to read from, or to write to */
		for (i = 0; i < 2; i++) {
			pfd[2 * i].fd = !d[i].eof && d[i].n == 0 ?
			    d[i].from : -1;
			pfd[2 * i].events = POLLIN;
			pfd[2 * i + 1].fd = d[i].n > 0 ? d[i].to : -1;
			pfd[2 * i + 1].events = POLLOUT;
			pfd[2 * i].revents = pfd[2 * i + 1].revents = 0;
		}
		if (poll(pfd, 4, -1) == -1) {
			if (errno == EINTR)
				continue;
			ret = -1;
			break;
		}
		for (i = 0; i < 2; i++) {
			if ((pfd[2 * i + 1].revents != 0 && flush(&d[i]) == -1) ||
			    (pfd[2 * i].revents != 0 && fill(&d[i]) == -1)) {
				ret = -1;
				break;
			}
		}
		if (ret == -1)
			break;
	}
	if (ret == -1) {
		e = errno;
		shutdown(a, SHUT_RDWR);
		shutdown(b, SHUT_RDWR);
	}
	free(d[0].buf);
	free(d[1].buf);
	if (ret == -1)
		errno = e;
	return ret;
}
