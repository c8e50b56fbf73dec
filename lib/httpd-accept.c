#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "httpd-int.h"
#include "xmalloc.h"

/*
 * Over TLS the listening socket is ours, not libmicrohttpd's: it hands
 * the first bytes to GnuTLS, which fails the handshake of a plain HTTP
 * request without a word, where Go's net/http answers it.  One thread
 * accepts, waits for each connection's first bytes with a deadline,
 * and then hands a TLS handshake to libmicrohttpd (httpd_add_conn,
 * where its connection limit, per-address limit and the accept policy
 * apply) or answers plain HTTP as Go does.
 */

#define PENDING_MAX	256	/* connections waiting for their first bytes */
#define ACCEPT_BATCH	64	/* accepts per round, so pending ones get a turn */
#define PAUSE_MS	100	/* no accept after EMFILE and the like */
#define DRAIN_MAX	65536

/* Go's answer (net/http, serve) to plain HTTP on a TLS listener. */
static const char plain_reply[] = "HTTP/1.0 400 Bad Request\r\n\r\n"
    "Client sent an HTTP request to an HTTPS server.\n";

struct pending {
	int fd;
	struct sockaddr_storage ss;
	socklen_t len;
	long long deadline;	/* ms, CLOCK_MONOTONIC */
};

struct httpd_accept {
	struct httpd *h;
	int lfd;
	int wake[2];		/* httpd_accept_stop writes a byte */
	pthread_t thr;
	long long timeout_ms;
	unsigned per_addr;	/* 0: no limit */
	/* in accept order, so p[0] has the nearest deadline */
	struct pending p[PENDING_MAX];
	size_t n;
	struct pollfd pfd[2 + PENDING_MAX];
};

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->
		    sin_addr, &((const struct sockaddr_in *)(const void *)b)->
		    sin_addr, sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->
		    sin6_addr, &((const struct sockaddr_in6 *)(const void *)b)->
		    sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/* The first five bytes of a request, as Go's tlsRecordHeaderLooksLikeHTTP. */
static int
looks_like_http(const char *b)
{
	static const char *const starts[] = {
		"GET /", "HEAD ", "POST ", "PUT /", "OPTIO",
	};
	size_t i;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		if (memcmp(b, starts[i], 5) == 0)
			return 1;
	return 0;
}

/*
 * Answer plain HTTP and close.  What the client sent is read first, as
 * far as it has arrived: closing a socket with unread bytes sends a
 * reset, which can destroy the answer before the client read it.
 */
static void
answer_plain(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	if (send(fd, plain_reply, sizeof(plain_reply) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(plain_reply) - 1) {
		shutdown(fd, SHUT_WR);
		while (total < DRAIN_MAX && (n = recv(fd, buf, sizeof(buf),
		    MSG_DONTWAIT)) > 0)
			total += (size_t)n;
	}
	close(fd);
}

/*
 * A pending connection became readable.  1 when it left the set (handed
 * over or closed), 0 when it is to wait on.
 */
static int
first_bytes(struct httpd_accept *a, struct pending *p)
{
	struct strbuf err = STRBUF_INIT;
	char b[5];
	ssize_t n;
	int one = 1;

	n = recv(p->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	if (n >= 1 && b[0] == 0x16) {
		/* a TLS handshake record: libmicrohttpd's from here on */
		setsockopt(p->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
		httpd_add_conn(a->h, p->fd, &err);	/* closes on failure */
		strbuf_release(&err);
	} else if (n == (ssize_t)sizeof(b) && looks_like_http(b))
		answer_plain(p->fd);
	else
		close(p->fd);	/* not TLS, not HTTP, or gone: as Go does */
	return 1;
}

/* Take a new connection into the set, or close it. */
static void
admit(struct httpd_accept *a, int fd, const struct sockaddr_storage *ss,
    socklen_t len)
{
	struct pending *p;
	unsigned same = 0;
	size_t i;
	int five = 5;

	if (a->per_addr > 0) {
		for (i = 0; i < a->n; i++)
			same += same_addr(&a->p[i].ss, ss);
		if (same >= a->per_addr) {
			close(fd);
			return;
		}
	}
	if (a->n == PENDING_MAX) {
		/*
		 * Full of clients that say nothing: the oldest goes, so
		 * that a flood of them cannot lock out one that speaks.
		 */
		close(a->p[0].fd);
		memmove(&a->p[0], &a->p[1], (a->n - 1) * sizeof(a->p[0]));
		a->n--;
	}
	/*
	 * Readable only once 5 bytes are there (or at EOF): a TLS record
	 * header, or enough of a request to tell HTTP, without waking up
	 * for every byte of a client that trickles.
	 */
	setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &five, sizeof(five));
	p = &a->p[a->n++];
	p->fd = fd;
	p->ss = *ss;
	p->len = len;
	p->deadline = now_ms() + a->timeout_ms;
}

/* Accept what is waiting; -1 when accept should pause (out of fds). */
static int
accept_some(struct httpd_accept *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		fd = accept4(a->lfd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				return -1;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			continue;	/* ECONNABORTED, EINTR, EPROTO... */
		}
		if (atomic_load(&a->h->stopping))
			close(fd);
		else
			admit(a, fd, &ss, len);
	}
	return 0;
}

static void *
accept_main(void *arg)
{
	struct httpd_accept *a = arg;
	long long now, pause_until = 0;
	size_t i, j;
	int tmo, rc;

	for (;;) {
		now = now_ms();
		a->pfd[0].fd = a->wake[0];
		a->pfd[0].events = POLLIN;
		a->pfd[1].fd = now < pause_until ? -1 : a->lfd;
		a->pfd[1].events = POLLIN;
		for (i = 0; i < a->n; i++) {
			a->pfd[2 + i].fd = a->p[i].fd;
			a->pfd[2 + i].events = POLLIN;
			a->pfd[2 + i].revents = 0;
		}
		tmo = -1;
		if (a->n > 0)
			tmo = a->p[0].deadline <= now ? 0 :
			    (int)(a->p[0].deadline - now);
		if (now < pause_until && (tmo == -1 ||
		    pause_until - now < tmo))
			tmo = (int)(pause_until - now);
		rc = poll(a->pfd, 2 + a->n, tmo);
		if (rc == -1 && errno != EINTR)
			break;	/* cannot happen with valid fds */
		if (rc > 0 && a->pfd[0].revents != 0)
			break;
		now = now_ms();
		for (i = j = 0; i < a->n; i++) {
			if (rc > 0 && a->pfd[2 + i].revents != 0 &&
			    first_bytes(a, &a->p[i]))
				continue;
			if (now >= a->p[i].deadline) {
				close(a->p[i].fd);	/* never spoke */
				continue;
			}
			a->p[j++] = a->p[i];
		}
		a->n = j;
		if (rc > 0 && a->pfd[1].fd != -1 && a->pfd[1].revents != 0 &&
		    accept_some(a) == -1) {
			if (a->n > 0) {
				/* room for those that will speak */
				close(a->p[0].fd);
				memmove(&a->p[0], &a->p[1],
				    (a->n - 1) * sizeof(a->p[0]));
				a->n--;
			} else
				pause_until = now + PAUSE_MS;
		}
	}
	return NULL;
}

static int
listen_on(const struct sockaddr *sa, socklen_t len, int dual)
{
	int fd, one = 1, v6only = !dual, e;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1) ||
	    bind(fd, sa, len) == -1 || listen(fd, SOMAXCONN) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
httpd_accept_start(struct httpd *h, const struct sockaddr *sa,
    socklen_t len, int dual, unsigned timeout_s)
{
	struct httpd_accept *a;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int e;

	a = xcalloc(1, sizeof(*a));
	a->h = h;
	a->timeout_ms = (long long)timeout_s * 1000;
	a->per_addr = h->cfg.max_per_addr;
	a->wake[0] = a->wake[1] = -1;
	if ((a->lfd = listen_on(sa, len, dual)) == -1)
		goto fail;
	if (getsockname(a->lfd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    pipe2(a->wake, O_CLOEXEC) == -1 ||
	    (errno = pthread_create(&a->thr, NULL, accept_main, a)) != 0)
		goto fail;
	h->port = ss.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port) :
	    ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	h->acc = a;
	return 0;
fail:
	e = errno;
	if (a->lfd != -1)
		close(a->lfd);
	if (a->wake[0] != -1) {
		close(a->wake[0]);
		close(a->wake[1]);
	}
	free(a);
	errno = e;
	return -1;
}

void
httpd_accept_stop(struct httpd *h)
{
	struct httpd_accept *a = h->acc;
	size_t i;

	if (a == NULL)
		return;
	while (write(a->wake[1], "x", 1) == -1 && errno == EINTR)
		;
	pthread_join(a->thr, NULL);
	for (i = 0; i < a->n; i++)
		close(a->p[i].fd);
	close(a->lfd);
	close(a->wake[0]);
	close(a->wake[1]);
	free(a);
	h->acc = NULL;
}
