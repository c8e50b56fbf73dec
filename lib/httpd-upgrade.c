#include "compat.h"

#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "httpd-int.h"
#include "xmalloc.h"

/*
 * A running upgraded connection.  The records live in the server's
 * list until their thread has been joined, so httpd_stop can wake and
 * wait for every one before libmicrohttpd frees the connections
 * (MHD_upgrade_action on a stopped daemon is a use after free).
 */
struct upg {
	struct upg *next;
	void (*fn)(int fd, void *arg);
	void *arg;
	char *extra;
	size_t nextra;
	int sock;
	struct MHD_UpgradeResponseHandle *urh;
	pthread_t thr;
	atomic_int done;
};

/* What the handler asked httpd_reply_upgrade for. */
struct upg_req {
	void (*fn)(int fd, void *arg);
	void *arg;
};

/* ---- upgrades ---- */

struct relay {
	int from, to;
	const char *pre;	/* bytes to deliver first */
	size_t npre;
};

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy one direction until EOF or error, then pass the EOF on. */
static void *
relay_main(void *arg)
{
	struct relay *r = arg;
	char buf[16384];
	ssize_t n;

	if (r->npre > 0 && send_all(r->to, r->pre, r->npre) == -1)
		goto out;
	for (;;) {
		n = read(r->from, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || send_all(r->to, buf, (size_t)n) == -1)
			break;
	}
out:
	shutdown(r->to, SHUT_WR);
	return NULL;
}

static void
set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/*
 * Bytes MHD read past the request go first: fn gets one end of a
 * socket pair, and two relay threads copy between the other end and
 * the connection, starting with those bytes.
 */
static void
run_bridged(struct upg *u)
{
	struct relay in, out;
	pthread_t tin, tout;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return;
	in.from = u->sock;
	in.to = sv[1];
	in.pre = u->extra;
	in.npre = u->nextra;
	out.from = sv[1];
	out.to = u->sock;
	out.pre = NULL;
	out.npre = 0;
	if (pthread_create(&tin, NULL, relay_main, &in) != 0) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pthread_create(&tout, NULL, relay_main, &out) != 0) {
		shutdown(u->sock, SHUT_RDWR);
		pthread_join(tin, NULL);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	u->fn(sv[0], u->arg);
	close(sv[0]);		/* out sees EOF once fn's output is sent */
	pthread_join(tout, NULL);
	shutdown(u->sock, SHUT_RDWR);	/* wakes in */
	pthread_join(tin, NULL);
	close(sv[1]);
}

static void *
upg_main(void *arg)
{
	struct upg *u = arg;

	set_blocking(u->sock);
	if (u->nextra > 0)
		run_bridged(u);
	else
		u->fn(u->sock, u->arg);
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	atomic_store(&u->done, 1);
	return NULL;
}

static void
on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls,
    const char *extra, size_t nextra, MHD_socket sock,
    struct MHD_UpgradeResponseHandle *urh)
{
	struct httpd_req *req = con_cls;
	struct httpd *h = cls;
	struct upg *u, **pp;

	(void)conn;
	pthread_mutex_lock(&h->mu);
	/* reap finished ones so the list stays short */
	for (pp = &h->upgs; (u = *pp) != NULL;) {
		if (atomic_load(&u->done)) {
			*pp = u->next;
			pthread_join(u->thr, NULL);
			free(u->extra);
			free(u);
		} else
			pp = &u->next;
	}
	if (atomic_load(&h->stopping) || req == NULL || req->upg == NULL) {
		pthread_mutex_unlock(&h->mu);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	u = xcalloc(1, sizeof(*u));
	u->fn = req->upg->fn;
	u->arg = req->upg->arg;
	u->sock = sock;
	u->urh = urh;
	atomic_init(&u->done, 0);
	if (nextra > 0) {
		u->extra = xmemdupz(extra, nextra);
		u->nextra = nextra;
	}
	if (pthread_create(&u->thr, NULL, upg_main, u) != 0) {
		pthread_mutex_unlock(&h->mu);
		free(u->extra);
		free(u);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	u->next = h->upgs;
	h->upgs = u;
	pthread_mutex_unlock(&h->mu);
}

void
httpd_reply_upgrade(struct httpd_req *req, const char *proto,
    void (*fn)(int fd, void *arg), void *arg)
{
	struct MHD_Response *r;

	if (req->replied)
		return;
	r = MHD_create_response_for_upgrade(on_upgrade, req->h);
	if (r == NULL)
		return;
	MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, proto);
	req->upg = xcalloc(1, sizeof(*req->upg));
	req->upg->fn = fn;
	req->upg->arg = arg;
	httpd_set_reply(req, 101, r, 0);
}

void
httpd_upgrades_stop(struct httpd *h)
{
	struct upg *u, *next;

	/*
	 * Upgraded connections first: wake their threads (reads return
	 * EOF) and wait, since MHD frees them in MHD_stop_daemon.  No new
	 * ones start once stopping is set (on_upgrade checks it under mu).
	 */
	pthread_mutex_lock(&h->mu);
	for (u = h->upgs; u != NULL; u = u->next)
		if (!atomic_load(&u->done))
			shutdown(u->sock, SHUT_RDWR);
	u = h->upgs;
	h->upgs = NULL;
	pthread_mutex_unlock(&h->mu);
	for (; u != NULL; u = next) {
		next = u->next;
		pthread_join(u->thr, NULL);
		free(u->extra);
		free(u);
	}
}
