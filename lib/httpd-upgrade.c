#include "compat.h"

#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "httpd-int.h"
#include "xmalloc.h"

/*
 * An upgraded connection, the application's until httpd_upgrade_close.
 * The records stay in the server's list until then, so httpd_stop can
 * wake every one and wait for it before libmicrohttpd frees the
 * connections (MHD_upgrade_action on a stopped daemon is a use after
 * free).
 */
struct httpd_upgrade {
	struct httpd_upgrade *next;
	struct httpd *h;
	struct MHD_UpgradeResponseHandle *urh;
	int fd;			/* the application's dup of the socket */
	int conn_fd;		/* the client's socket, or -1: without TLS
				   the one fd duplicates */
	char *extra;
	size_t nextra;
};

/* What the handler asked httpd_reply_upgrade for. */
struct upg_req {
	void (*fn)(struct httpd_upgrade *up, int fd, void *arg);
	void *arg;
	int called;		/* fn has the connection */
};

static void
set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1 && (fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/*
 * Called by libmicrohttpd in the connection's thread once the 101 is
 * out.  Without TLS, that thread ends when this returns; with TLS it
 * goes on to carry the bytes between fd and the client.
 */
static void
on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls,
    const char *extra, size_t nextra, MHD_socket sock,
    struct MHD_UpgradeResponseHandle *urh)
{
	struct httpd_req *req = con_cls;
	struct httpd *h = cls;
	struct httpd_upgrade *up;
	const union MHD_ConnectionInfo *ci;
	int fd;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	pthread_mutex_lock(&h->mu);
	/*
	 * The application gets a descriptor of its own for the socket, and
	 * closes it in httpd_upgrade_close before libmicrohttpd closes
	 * sock: no descriptor is closed in one thread while another still
	 * reads it (ThreadSanitizer cannot see the order libmicrohttpd
	 * keeps between the two, and reported such a race in u-http).
	 */
	fd = -1;
	if (atomic_load(&h->stopping) || req == NULL || req->upg == NULL ||
	    (fd = fcntl(sock, F_DUPFD_CLOEXEC, 0)) == -1) {
		/* fn hears of it from httpd_upgrade_req_free */
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		pthread_mutex_unlock(&h->mu);
		return;
	}
	up = xcalloc(1, sizeof(*up));
	up->h = h;
	up->urh = urh;
	up->fd = fd;
	up->conn_fd = ci != NULL ? ci->connect_fd : -1;
	if (nextra > 0) {
		up->extra = xmemdupz(extra, nextra);
		up->nextra = nextra;
	}
	up->next = h->upgs;
	h->upgs = up;
	req->upg->called = 1;
	pthread_mutex_unlock(&h->mu);
	set_blocking(fd);
	req->upg->fn(up, fd, req->upg->arg);
}

void
httpd_reply_upgrade(struct httpd_req *req, const char *proto,
    void (*fn)(struct httpd_upgrade *up, int fd, void *arg), void *arg)
{
	struct MHD_Response *r;

	if (req->replied || req->upg != NULL) {
		fn(NULL, -1, arg);
		return;
	}
	req->upg = xcalloc(1, sizeof(*req->upg));
	req->upg->fn = fn;
	req->upg->arg = arg;
	r = MHD_create_response_for_upgrade(on_upgrade, req->h);
	if (r == NULL)
		return;		/* the client gets 500, fn its NULL */
	MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, proto);
	httpd_set_reply(req, 101, r, 0);
}

void
httpd_upgrade_req_free(struct upg_req *u)
{
	if (u == NULL)
		return;
	if (!u->called)
		u->fn(NULL, -1, u->arg);
	free(u);
}

int
httpd_upgrade_fd(const struct httpd_upgrade *up)
{
	return up->fd;
}

const void *
httpd_upgrade_extra(const struct httpd_upgrade *up, size_t *lenp)
{
	*lenp = up->nextra;
	return up->extra != NULL ? up->extra : "";
}

void
httpd_upgrade_close(struct httpd_upgrade *up)
{
	struct httpd *h = up->h;
	struct httpd_upgrade **pp;

	/*
	 * Under mu, so httpd_stop, which waits for the list to empty,
	 * cannot stop the daemon under MHD_upgrade_action.
	 */
	pthread_mutex_lock(&h->mu);
	for (pp = &h->upgs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == up) {
			*pp = up->next;
			break;
		}
	close(up->fd);
	MHD_upgrade_action(up->urh, MHD_UPGRADE_ACTION_CLOSE);
	pthread_cond_broadcast(&h->upg_cv);
	pthread_mutex_unlock(&h->mu);
	free(up->extra);
	free(up);
}

void
httpd_upgrades_stop(struct httpd *h)
{
	struct httpd_upgrade *up;

	/*
	 * stopping is set: no new ones start (on_upgrade checks it under
	 * mu).  Wake the live ones (reads see EOF, writes fail) and wait
	 * for their owners to close them.  Over TLS the client's socket
	 * goes down too: libmicrohttpd's thread that carries the bytes
	 * would otherwise wait for a client that vanished to close first,
	 * and MHD_stop_daemon for that thread.
	 */
	pthread_mutex_lock(&h->mu);
	for (up = h->upgs; up != NULL; up = up->next) {
		shutdown(up->fd, SHUT_RDWR);
		if (up->conn_fd >= 0)	/* again, or TLS's client side */
			shutdown(up->conn_fd, SHUT_RDWR);
	}
	while (h->upgs != NULL)
		pthread_cond_wait(&h->upg_cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}
