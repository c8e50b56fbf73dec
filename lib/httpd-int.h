/*
 * httpd-int.h: what lib/httpd.c (the server and its requests),
 * lib/httpd-reply.c (replies) and lib/httpd-upgrade.c (101 Switching
 * Protocols) share.  Not for tools: they see httpd.h.
 */
#ifndef BF_HTTPD_INT_H
#define BF_HTTPD_INT_H

#include <sys/types.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <microhttpd.h>

#include "httpd.h"
#include "strbuf.h"

#define TEXT_PLAIN		"text/plain; charset=utf-8"

struct kv {
	char *key;
	char *val;
};

struct kvlist {
	struct kv *v;
	size_t nr, alloc;
	int nul;		/* a key or value held a NUL byte */
	char bad[4];		/* the first malformed %-escape, or "" */
};

struct upg_req;
struct httpd_accept;

/* A connection's state across its requests (MHD's socket context). */
struct httpd_conn {
	atomic_int trusted;	/* httpd_trust was called */
	int raised;		/* its timeout is timeout_s (conn thread) */
};

struct httpd {
	struct MHD_Daemon *d;
	struct httpd_config cfg;
	struct strbuf cert, key;	/* PEM text, alive as long as d */
	int port;
	atomic_int stopping;
	pthread_mutex_t mu;	/* guards upgs */
	pthread_cond_t upg_cv;	/* signalled when one leaves upgs */
	struct httpd_upgrade *upgs;
	atomic_uint untrusted;	/* connections open and not trusted */
	pthread_mutex_t trust_mu;	/* guards trusted, ntrusted */
	struct sockaddr_in6 trusted[HTTPD_TRUSTED_ADDRS];	/* v4 mapped */
	size_t ntrusted;	/* ever added; slot ntrusted % N is next */
	struct httpd_accept *acc;	/* TLS on a listen address */
};

struct httpd_req {
	struct httpd *h;
	struct MHD_Connection *conn;
	struct httpd_conn *cc;	/* NULL when MHD gave none */
	char *method, *path, *version;
	char peer[INET6_ADDRSTRLEN + 8];
	struct timespec t0;
	struct kvlist hdrs, query, form;
	void **allocs;		/* httpd_form_all arrays */
	size_t nallocs, aallocs;

	enum httpd_body_mode mode;
	struct strbuf body;
	struct MHD_PostProcessor *pp;
	int too_big;		/* buffered body over the cap: discard */
	int body_done;		/* the final access-handler call came */
	int pp_failed;		/* the post processor refused the form */

	/* pipe mode: the handler runs in thr and reads body_r */
	int body_r, body_w;
	int sock;		/* the connection, for httpd_client_fd */
	pthread_t thr;
	int thr_running;

	/* the reply, recorded by httpd_reply*, queued by on_access */
	struct kvlist rhdrs;
	struct MHD_Response *resp;
	struct MHD_Response *live;	/* queued; valid while it is sent */
	struct upg_req *upg;
	int status;
	int replied;
	int queued;
	long long bytes;
};

/* httpd.c: restart the connection's idle timer. */
void httpd_req_touch(struct httpd_req *req);

/* httpd-reply.c: record r as the reply; a second reply is dropped. */
void httpd_set_reply(struct httpd_req *req, int status,
    struct MHD_Response *r, long long bytes);

/*
 * httpd-upgrade.c: wake every upgraded connection and wait until its
 * owner closed it; free what the handler asked for (telling its fn
 * when the upgrade never happened).
 */
void httpd_upgrades_stop(struct httpd *h);
void httpd_upgrade_req_free(struct upg_req *u);

/*
 * httpd-accept.c: listen on sa (dual: an IPv6 socket that takes IPv4
 * too) and accept in a thread of its own, for a TLS server whose
 * libmicrohttpd listens nowhere.  Each connection waits (at most
 * timeout_s, at most cfg.max_per_addr from one address) for its first
 * bytes: a TLS handshake goes to httpd_add_conn, a plain HTTP request
 * gets Go's 400, anything else is closed.  Sets h->port and h->acc;
 * 0, or -1 with errno.  httpd_accept_stop joins the thread and closes
 * the listening socket and the waiting connections (none when
 * httpd_accept_start was not called or failed).
 */
int httpd_accept_start(struct httpd *h, const struct sockaddr *sa,
    socklen_t len, int dual, unsigned timeout_s);
void httpd_accept_stop(struct httpd *h);

#endif
