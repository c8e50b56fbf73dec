#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "crypto.h"
#include "httpd-int.h"
#include "log.h"
#include "num.h"
#include "strbuf.h"
#include "xmalloc.h"

#define DEFAULT_MAX_BODY	(1024 * 1024)
#define DEFAULT_MAX_CONNS	1000
#define DEFAULT_TIMEOUT_S	300
#define PEM_MAX			(1024 * 1024)
#define PP_BUFSIZE		4096

static void
kv_add(struct kvlist *l, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	GROW(l->v, l->nr + 1, l->alloc);
	if (memchr(k, '\0', klen) != NULL ||
	    (v != NULL && memchr(v, '\0', vlen) != NULL))
		l->nul = 1;
	l->v[l->nr].key = xmemdupz(k, klen);
	l->v[l->nr].val = xmemdupz(v != NULL ? v : "", v != NULL ? vlen : 0);
	l->nr++;
}

static void
kv_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
	l->nul = 0;
	l->bad[0] = '\0';
}

/*
 * The first '%' of s[0..n) not followed by two hex digits (which
 * libmicrohttpd's decoder leaves as they are, where Go's ParseQuery
 * fails): copied to l->bad, as Go quotes it (at most 3 bytes).
 */
static int
find_bad_escape(struct kvlist *l, const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (s[i] != '%')
			continue;
		if (i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			i += 2;
			continue;
		}
		k = n - i < 3 ? n - i : 3;
		memcpy(l->bad, s + i, k);
		l->bad[k] = '\0';
		return 1;
	}
	return 0;
}

/*
 * Marks a request whose raw query holds a malformed %-escape: the
 * URI log callback's answer, which libmicrohttpd hands to the first
 * on_access call as *con_cls.  Only its address matters.
 */
static char bad_query_mark;

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	const char *q = strchr(uri, '?');
	struct kvlist l = { 0 };

	(void)cls;
	(void)conn;
	if (q != NULL && find_bad_escape(&l, q + 1, strlen(q + 1)))
		return &bad_query_mark;
	return NULL;
}

static const char *
kv_get(const struct kvlist *l, const char *key, int icase)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (icase ? strcasecmp(l->v[i].key, key) == 0 :
		    strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

static long long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- listen addresses ---- */

/*
 * Split "host:port", "[v6]:port" or ":port" into host (maybe empty)
 * and port.  Returns 0 or -1.
 */
static int
split_listen(const char *s, struct strbuf *host, int *port)
{
	const char *colon;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		strbuf_add(host, s + 1, (size_t)(rb - s - 1));
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;	/* no port, or v6 without brackets */
		strbuf_add(host, s, (size_t)(colon - s));
	}
	return num_parse_int(colon + 1, 0, 65535, port);
}

int
httpd_listen_is_loopback(const char *listen)
{
	struct strbuf host = STRBUF_INIT;
	struct in_addr a4;
	struct in6_addr a6;
	const char *p, *rb;
	int ret = 0;

	if (listen == NULL)
		return 0;
	if (listen[0] == '[') {
		if ((rb = strchr(listen, ']')) != NULL)
			strbuf_add(&host, listen + 1,
			    (size_t)(rb - listen - 1));
	} else if ((p = strchr(listen, ':')) != NULL && strchr(p + 1, ':') ==
	    NULL)
		strbuf_add(&host, listen, (size_t)(p - listen));
	else
		strbuf_addstr(&host, listen);	/* bare host or bare v6 */

	if (strcasecmp(host.buf, "localhost") == 0)
		ret = 1;
	else if (inet_pton(AF_INET, host.buf, &a4) == 1)
		ret = (ntohl(a4.s_addr) >> 24) == 127;
	else if (inet_pton(AF_INET6, host.buf, &a6) == 1)
		ret = IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	strbuf_release(&host);
	return ret;
}

static void
format_peer(const struct sockaddr *sa, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN], serv[8];
	socklen_t len;
	const char *h = host;

	snprintf(out, outsz, "?");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_UNIX) {
		snprintf(out, outsz, "unix");
		return;
	}
	if (sa->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (sa->sa_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	else
		return;
	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	/* a dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d */
	if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, ':') == NULL)
		h = host + 7;
	if (strchr(h, ':') != NULL) {
		if (snprintf(out, outsz, "[%s]:%s", h, serv) >= (int)outsz)
			snprintf(out, outsz, "?");
	} else if (snprintf(out, outsz, "%s:%s", h, serv) >= (int)outsz)
		snprintf(out, outsz, "?");
}

/* ---- the access log ---- */

/* Percent-encode bytes outside keep (and unreserved) for the log. */
static void
log_pct(struct strbuf *out, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL ||
		    strchr(keep, *p) != NULL)
			strbuf_addch(out, *p);
		else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[*p >> 4]);
			strbuf_addch(out, hex[*p & 15]);
		}
	}
}

static void
log_request(struct httpd_req *req)
{
	struct httpd *h = req->h;
	struct strbuf line = STRBUF_INIT;
	size_t i;

	if (h->cfg.quiet)
		return;
	log_pct(&line, req->method, "");
	strbuf_addch(&line, ' ');
	log_pct(&line, req->path, "/:@!$'()*+,;=");
	for (i = 0; i < req->query.nr; i++) {
		strbuf_addch(&line, i == 0 ? '?' : '&');
		log_pct(&line, req->query.v[i].key, "/:@!$'()*,;");
		strbuf_addch(&line, '=');
		log_pct(&line, req->query.v[i].val, "/:@!$'()*,;");
	}
	strbuf_addf(&line, " %d %lld %lldms %s", req->status, req->bytes,
	    ms_since(&req->t0), req->peer);
	if (h->cfg.log != NULL)
		h->cfg.log(line.buf, h->cfg.arg);
	else
		log_warnx("%s", line.buf);
	strbuf_release(&line);
}

/* ---- requests ---- */

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	struct kvlist *l = cls;

	(void)kind;
	kv_add(l, key, klen, val, vlen);
	return MHD_YES;
}

static enum MHD_Result
on_post(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *ctype, const char *te,
    const char *data, uint64_t off, size_t size)
{
	struct httpd_req *req = cls;
	struct kv *last;
	size_t n;

	(void)kind;
	(void)filename;
	(void)ctype;
	(void)te;
	/* a long value arrives in pieces: off > 0 continues the last one */
	if (off > 0 && req->form.nr > 0 &&
	    strcmp((last = &req->form.v[req->form.nr - 1])->key, key) == 0) {
		if (memchr(data, '\0', size) != NULL)
			req->form.nul = 1;
		n = strlen(last->val);
		last->val = xrealloc(last->val, n + size + 1);
		memcpy(last->val + n, data, size);
		last->val[n + size] = '\0';
	} else
		kv_add(&req->form, key, strlen(key), data, size);
	return MHD_YES;
}

/* Decode a form key or value in place: '+' is a space, then %XX. */
static size_t
form_unescape(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '+')
			s[i] = ' ';
	s[n] = '\0';
	return MHD_http_unescape(s);
}

/*
 * libmicrohttpd's post processor refuses some forms that Go's
 * ParseQuery takes, such as a raw '=' in a value ("env=A=B", which
 * curl -d sends) or a key without '=', and then the whole form would
 * be lost.  For those, the buffered body is split as Go splits it: on
 * '&', then at the first '='.
 */
static void
form_split(struct httpd_req *req)
{
	char *s = xmemdupz(req->body.buf, req->body.len), *p = s, *amp, *eq;
	char *end = s + req->body.len;
	size_t klen, vlen;

	kv_free(&req->form);
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp > p) {
			eq = memchr(p, '=', (size_t)(amp - p));
			klen = form_unescape(p, (size_t)((eq != NULL ? eq :
			    amp) - p));
			vlen = eq != NULL ? form_unescape(eq + 1,
			    (size_t)(amp - eq - 1)) : 0;
			kv_add(&req->form, p, klen, eq != NULL ? eq + 1 : "",
			    vlen);
		}
		p = amp + 1;
	}
	free(s);
}

static int
is_urlencoded(const char *ct)
{
	static const char want[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(want) - 1;

	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

static struct httpd_req *
req_new(struct httpd *h, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version)
{
	const union MHD_ConnectionInfo *ci;
	struct httpd_req *req;

	req = xcalloc(1, sizeof(*req));
	clock_gettime(CLOCK_MONOTONIC, &req->t0);
	req->h = h;
	req->conn = conn;
	req->method = xstrdup(method);
	req->path = xstrdup(url);
	req->version = xstrdup(version);
	req->body_r = req->body_w = -1;
	strbuf_init(&req->body, 0);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	format_peer(ci != NULL ? ci->client_addr : NULL, req->peer,
	    sizeof(req->peer));
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	req->cc = ci != NULL ? ci->socket_context : NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	req->sock = ci != NULL ? (int)ci->connect_fd : -1;
	/*
	 * Copies, not MHD's lists: in pipe mode the handler reads them in
	 * its own thread while MHD may still be adding request trailers.
	 */
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect, &req->hdrs);
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, collect,
	    &req->query);
	return req;
}

static void
req_free(struct httpd_req *req)
{
	size_t i;

	if (req->pp != NULL)
		MHD_destroy_post_processor(req->pp);
	if (req->resp != NULL)
		MHD_destroy_response(req->resp);	/* never queued */
	if (req->body_r >= 0)
		close(req->body_r);
	if (req->body_w >= 0)
		close(req->body_w);
	kv_free(&req->hdrs);
	kv_free(&req->query);
	kv_free(&req->form);
	kv_free(&req->rhdrs);
	for (i = 0; i < req->nallocs; i++)
		free(req->allocs[i]);
	free(req->allocs);
	strbuf_release(&req->body);
	httpd_upgrade_req_free(req->upg);
	free(req->method);
	free(req->path);
	free(req->version);
	free(req);
}

/* ---- pipe mode ---- */

static void *
pipe_main(void *arg)
{
	struct httpd_req *req = arg;
	char buf[16384];
	ssize_t n;

	req->h->cfg.handler(req, req->h->cfg.arg);
	/*
	 * Whatever the handler left unread is drained here, so the
	 * connection thread writing the body never blocks on a full
	 * socket buffer; EOF comes when it closes its end.
	 */
	do
		n = read(req->body_r, buf, sizeof(buf));
	while (n > 0 || (n == -1 && errno == EINTR));
	return NULL;
}

static int
pipe_start(struct httpd_req *req)
{
	int sv[2];

	/*
	 * A socket pair rather than a pipe: send(MSG_NOSIGNAL) cannot
	 * raise SIGPIPE, and an aborted upload can be reported to the
	 * reader as ECONNRESET instead of a clean EOF (see pipe_finish).
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	req->body_r = sv[0];
	req->body_w = sv[1];
	if (pthread_create(&req->thr, NULL, pipe_main, req) != 0) {
		close(sv[0]);
		close(sv[1]);
		req->body_r = req->body_w = -1;
		return -1;
	}
	req->thr_running = 1;
	return 0;
}

static void
pipe_feed(struct httpd_req *req, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && req->body_w >= 0) {
		w = send(req->body_w, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* reader gone: discard the rest */
		p += w;
		n -= (size_t)w;
	}
}

/* End of body: EOF for the handler, then wait for it. */
static void
pipe_finish(struct httpd_req *req, int aborted)
{
	if (!req->thr_running)
		return;
	if (aborted) {
		/*
		 * Closing a unix stream socket with unread data in its own
		 * receive queue makes the peer's reads fail with ECONNRESET
		 * once it has read what was sent: so the handler can tell a
		 * truncated upload from a complete one.
		 */
		(void)send(req->body_r, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(req->body_w);
	req->body_w = -1;
	pthread_join(req->thr, NULL);
	req->thr_running = 0;
}

/* ---- queueing ---- */

/*
 * Reset the connection's idle timer (setting the timeout from 0 to
 * non-zero does that in MHD 0.9.75), so a handler or a stream read that
 * blocked longer than the idle timeout does not get its connection
 * closed under it.
 */
void
httpd_req_touch(struct httpd_req *req)
{
	const struct httpd_config *c = &req->h->cfg;
	unsigned t = c->timeout_s ? c->timeout_s : DEFAULT_TIMEOUT_S;

	if (c->untrusted_timeout_s && (req->cc == NULL ||
	    !atomic_load(&req->cc->trusted)))
		t = c->untrusted_timeout_s;

	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT,
	    0u);
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, t);
}

/*
 * httpd_trust may run in a pipe-mode handler's thread; the timeout is
 * the connection thread's to change, here, on its next call.
 */
static void
raise_timeout(struct httpd_req *req)
{
	if (req->cc != NULL && !req->cc->raised &&
	    atomic_load(&req->cc->trusted)) {
		req->cc->raised = 1;
		httpd_req_touch(req);
	}
}

static enum MHD_Result
queue(struct httpd_req *req)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t i;

	if (req->resp == NULL) {
		req->replied = 0;
		httpd_error(req, 500, "internal server error");
	}
	if ((r = req->resp) == NULL)
		return MHD_NO;
	raise_timeout(req);
	for (i = 0; i < req->rhdrs.nr; i++) {
		const struct kv *e = &req->rhdrs.v[i];

		/* a ctype given to the reply wins, as in Go's http.Error */
		if (strcasecmp(e->key, MHD_HTTP_HEADER_CONTENT_TYPE) == 0 &&
		    MHD_get_response_header(r, e->key) != NULL)
			continue;
		MHD_add_response_header(r, e->key, e->val);
	}
	/* and with none given nor added, Go's default for text */
	if (req->upg == NULL &&
	    MHD_get_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE) == NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    TEXT_PLAIN);
	ret = MHD_queue_response(req->conn, (unsigned)req->status, r);
	req->resp = NULL;
	req->queued = 1;
	req->live = ret == MHD_YES ? r : NULL;
	MHD_destroy_response(r);	/* MHD holds its own reference */
	return ret;
}

/*
 * What libmicrohttpd 0.9.75 lets through of the framing RFC 9112
 * forbids (a Content-Length it cannot parse it refuses itself): a
 * second Content-Length of another value (it frames the body by the
 * first, so the rest of the body would be read as the next request),
 * Content-Length beside Transfer-Encoding, and an HTTP/1.1 request
 * without Host.  The reason, or NULL.
 */
static const char *
framing_error(const struct httpd_req *req)
{
	const char *clen = NULL, *te = NULL;
	int host = 0;
	size_t i;

	for (i = 0; i < req->hdrs.nr; i++) {
		const struct kv *e = &req->hdrs.v[i];

		if (strcasecmp(e->key, "Content-Length") == 0) {
			if (clen != NULL && strcmp(clen, e->val) != 0)
				return "conflicting Content-Length headers";
			clen = e->val;
		} else if (strcasecmp(e->key, "Transfer-Encoding") == 0)
			te = e->val;
		else if (strcasecmp(e->key, "Host") == 0) {
			if (host++)
				return "more than one Host header";
		}
	}
	if (clen != NULL && te != NULL)
		return "Content-Length with Transfer-Encoding";
	if (!host && strcmp(req->version, "HTTP/1.0") != 0 &&
	    strcmp(req->version, "HTTP/0.9") != 0)
		return "missing Host header";
	return NULL;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct httpd *h = cls;
	struct httpd_req *req = *con_cls;
	size_t max = h->cfg.max_body ? h->cfg.max_body : DEFAULT_MAX_BODY;
	const char *s;
	uint64_t clen;
	size_t i;

	if (req == NULL || *con_cls == &bad_query_mark) {
		/*
		 * First call, headers only.  Queueing a reply now would cost
		 * keep-alive (platform-notes §1), so only set up.
		 */
		req = req_new(h, conn, url, method, version);
		if (*con_cls == &bad_query_mark) {
			/* name it from the decoded values (left as is) */
			for (i = 0; i < req->query.nr && !req->query.bad[0];
			    i++)
				if (!find_bad_escape(&req->query,
				    req->query.v[i].key,
				    strlen(req->query.v[i].key)))
					find_bad_escape(&req->query,
					    req->query.v[i].val,
					    strlen(req->query.v[i].val));
			if (!req->query.bad[0])
				memcpy(req->query.bad, "%", 2);
		}
		*con_cls = req;
		if ((s = framing_error(req)) != NULL) {
			/* the body is discarded and the connection closed */
			req->too_big = 1;
			httpd_add_header(req, "Connection", "close");
			httpd_error(req, 400, s);
			return queue(req);
		}
		req->mode = h->cfg.body_mode != NULL ?
		    h->cfg.body_mode(req, h->cfg.arg) : HTTPD_BODY_BUFFER;
		if (req->mode == HTTPD_BODY_PIPE) {
			if (pipe_start(req) == -1) {
				req->mode = HTTPD_BODY_BUFFER;
				req->too_big = 1;
				httpd_error(req, 500, "cannot start handler");
			}
			return MHD_YES;
		}
		if ((s = httpd_header(req, "Content-Length")) != NULL &&
		    num_parse_u64(s, 0, UINT64_MAX, &clen) == 0 &&
		    clen > max) {
			req->too_big = 1;
			/*
			 * A client waiting for 100-continue has not sent the
			 * body: refuse now (the connection then closes).
			 */
			if ((s = httpd_header(req, "Expect")) != NULL &&
			    strcasecmp(s, "100-continue") == 0) {
				httpd_error(req, 413, "request body too large");
				return queue(req);
			}
		}
		if (!req->too_big &&
		    is_urlencoded(httpd_header(req, "Content-Type")))
			req->pp = MHD_create_post_processor(conn, PP_BUFSIZE,
			    on_post, req);
		return MHD_YES;
	}

	raise_timeout(req);
	if (*size > 0) {
		if (req->mode == HTTPD_BODY_PIPE)
			pipe_feed(req, data, *size);
		else if (!req->too_big) {
			if (*size > max - req->body.len) {
				req->too_big = 1;	/* discard the rest */
				strbuf_release(&req->body);
				if (req->pp != NULL)
					MHD_destroy_post_processor(req->pp);
				req->pp = NULL;
				kv_free(&req->form);
			} else {
				strbuf_add(&req->body, data, *size);
				if (req->pp != NULL && MHD_post_process(req->pp,
				    data, *size) != MHD_YES) {
					/* not well-formed for MHD: see form_split */
					MHD_destroy_post_processor(req->pp);
					req->pp = NULL;
					kv_free(&req->form);
					req->pp_failed = 1;
				}
			}
		}
		*size = 0;
		return MHD_YES;
	}

	/* the whole body is in */
	if (req->queued)
		return MHD_YES;
	req->body_done = 1;
	if (req->mode == HTTPD_BODY_PIPE)
		pipe_finish(req, 0);
	else if (req->too_big) {
		if (!req->replied)
			httpd_error(req, 413, "request body too large");
	} else {
		if (req->pp != NULL) {
			/* flushes a last value not followed by '&' */
			if (MHD_destroy_post_processor(req->pp) != MHD_YES)
				req->pp_failed = 1;
			req->pp = NULL;
		}
		if (req->pp_failed)
			form_split(req);
		if (is_urlencoded(httpd_header(req, "Content-Type")))
			find_bad_escape(&req->form, req->body.buf,
			    req->body.len);
		h->cfg.handler(req, h->cfg.arg);
	}
	return queue(req);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_req *req = *con_cls;

	(void)cls;
	(void)conn;
	if (req == NULL || *con_cls == &bad_query_mark) {
		*con_cls = NULL;
		return;
	}
	*con_cls = NULL;
	pipe_finish(req, !req->body_done &&
	    toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
	log_request(req);
	req_free(req);
}

/* ---- connection limits ---- */

/* sa as an IPv6 address (IPv4 mapped) in out; -1 for other families. */
static int
addr_key(const struct sockaddr *sa, socklen_t len, struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12],
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		out->sin6_addr =
		    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return 0;
	}
	return -1;
}

static int
addr_trusted(struct httpd *h, const struct sockaddr_in6 *a)
{
	size_t i, n;
	int found = 0;

	pthread_mutex_lock(&h->trust_mu);
	n = h->ntrusted < HTTPD_TRUSTED_ADDRS ? h->ntrusted :
	    HTTPD_TRUSTED_ADDRS;
	for (i = 0; i < n && !found; i++)
		found = memcmp(&h->trusted[i].sin6_addr, &a->sin6_addr,
		    sizeof(a->sin6_addr)) == 0;
	pthread_mutex_unlock(&h->trust_mu);
	return found;
}

/*
 * Called in the listening thread before a connection is set up: keep
 * the reserve free of untrusted connections, except for addresses that
 * were trusted before (a client with the password opening another
 * connection while strangers hold the rest).
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct httpd *h = cls;
	const struct httpd_config *c = &h->cfg;
	unsigned conns = c->max_conns ? c->max_conns : DEFAULT_MAX_CONNS;
	struct sockaddr_in6 a;

	if (c->reserve == 0 || atomic_load(&h->untrusted) + c->reserve <
	    conns)
		return MHD_YES;
	if (addr_key(sa, len, &a) == 0 && addr_trusted(h, &a))
		return MHD_YES;
	return MHD_NO;
}

static void
on_conn(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	struct httpd_conn *cc;

	(void)conn;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		cc = xcalloc(1, sizeof(*cc));
		atomic_init(&cc->trusted, 0);
		atomic_fetch_add(&h->untrusted, 1);
		*ctx = cc;
	} else if ((cc = *ctx) != NULL) {
		if (atomic_exchange(&cc->trusted, 1) == 0)
			atomic_fetch_sub(&h->untrusted, 1);
		free(cc);
		*ctx = NULL;
	}
}

void
httpd_trust(struct httpd_req *req)
{
	struct httpd *h = req->h;
	const union MHD_ConnectionInfo *ci;
	struct sockaddr_in6 a;

	if (req->cc == NULL || atomic_exchange(&req->cc->trusted, 1) != 0)
		return;
	atomic_fetch_sub(&h->untrusted, 1);
	ci = MHD_get_connection_info(req->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL ||
	    addr_key(ci->client_addr, sizeof(struct sockaddr_in6), &a) == -1 ||
	    addr_trusted(h, &a))
		return;
	pthread_mutex_lock(&h->trust_mu);
	h->trusted[h->ntrusted++ % HTTPD_TRUSTED_ADDRS] = a;
	pthread_mutex_unlock(&h->trust_mu);
}

/* ---- start and stop ---- */

static int
read_pem(const char *path, struct strbuf *out, struct strbuf *err)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		strbuf_addstr(err, "open '");
		log_escape(err, path, strlen(path));
		strbuf_addf(err, "': %s", strerror(errno));
		return -1;
	}
	if (strbuf_read_fd(out, fd, PEM_MAX) == -1) {
		strbuf_addstr(err, "read '");
		log_escape(err, path, strlen(path));
		strbuf_addf(err, "': %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * libmicrohttpd says only "failed" (its log is off); bind a probe
 * socket to the same address to learn why, for the message.  Returns
 * 0 when binding works (so the trouble was elsewhere), else -1 with
 * the reason in err.
 */
static int
explain_bind(const struct sockaddr *sa, socklen_t len, struct strbuf *err)
{
	int fd, one = 1, ret = -1;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		strbuf_addf(err, "socket: %s", strerror(errno));
	else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, sa, len) == -1)
			strbuf_addf(err, "bind: %s", strerror(errno));
		else
			ret = 0;
		close(fd);
	}
	return ret;
}

static struct MHD_Daemon *
start_daemon(struct httpd *h, unsigned flags, const struct sockaddr *sa)
{
	const struct httpd_config *c = &h->cfg;
	unsigned conns = c->max_conns ? c->max_conns : DEFAULT_MAX_CONNS;
	unsigned tmo = c->untrusted_timeout_s ? c->untrusted_timeout_s :
	    c->timeout_s ? c->timeout_s : DEFAULT_TIMEOUT_S;

	flags |= MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_UPGRADE | MHD_USE_ITC;
	if (h->cert.len > 0) {
		flags |= MHD_USE_TLS;
		return MHD_start_daemon(flags, 0, on_accept, h, on_access, h,
		    MHD_OPTION_SOCK_ADDR, sa,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
		    MHD_OPTION_CONNECTION_LIMIT, conns,
		    MHD_OPTION_CONNECTION_TIMEOUT, tmo,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_per_addr,
		    MHD_OPTION_NOTIFY_CONNECTION, on_conn, h,
		    MHD_OPTION_HTTPS_MEM_KEY, h->key.buf,
		    MHD_OPTION_HTTPS_MEM_CERT, h->cert.buf,
		    MHD_OPTION_END);
	}
	return MHD_start_daemon(flags, 0, on_accept, h, on_access, h,
	    MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
	    MHD_OPTION_CONNECTION_LIMIT, conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, tmo,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_per_addr,
	    MHD_OPTION_NOTIFY_CONNECTION, on_conn, h,
	    MHD_OPTION_END);
}

/*
 * Serve on sa; h->d is NULL when that failed.  Over TLS, httpd accepts
 * the connections itself (httpd-accept.c, whose thread reads h->d: it
 * is set first) and libmicrohttpd listens nowhere.
 */
static void
start_listening(struct httpd *h, unsigned flags, const struct sockaddr *sa,
    socklen_t len)
{
	const struct httpd_config *c = &h->cfg;

	if (h->cert.len == 0) {
		h->d = start_daemon(h, flags, sa);
		return;
	}
	if ((h->d = start_daemon(h, MHD_USE_NO_LISTEN_SOCKET, NULL)) == NULL)
		return;
	if (httpd_accept_start(h, sa, len, (flags & MHD_USE_DUAL_STACK) != 0,
	    c->untrusted_timeout_s ? c->untrusted_timeout_s :
	    c->timeout_s ? c->timeout_s : DEFAULT_TIMEOUT_S) == -1) {
		MHD_stop_daemon(h->d);
		h->d = NULL;
	}
}

static void
httpd_free(struct httpd *h)
{
	if (h->key.alloc)
		bf_wipe(h->key.buf, h->key.len);
	strbuf_release(&h->key);
	strbuf_release(&h->cert);
	pthread_cond_destroy(&h->upg_cv);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->trust_mu);
	free(h);
}

struct httpd *
httpd_start(const struct httpd_config *cfg, struct strbuf *err)
{
	struct strbuf host = STRBUF_INIT;
	struct addrinfo hints, *res = NULL, *ai, *pick;
	struct sockaddr_in6 any6;
	struct sockaddr_in any4;
	const struct sockaddr *sa;
	socklen_t salen;
	const union MHD_DaemonInfo *di;
	struct httpd *h;
	char portstr[8];
	int port, rc;

	if (cfg->handler == NULL) {
		strbuf_addstr(err, "httpd: no handler");
		return NULL;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		strbuf_addstr(err, "httpd: TLS needs both a certificate and "
		    "a key");
		return NULL;
	}
	if (cfg->listen != NULL &&
	    split_listen(cfg->listen, &host, &port) == -1) {
		strbuf_addstr(err, "bad listen address '");
		log_escape(err, cfg->listen, strlen(cfg->listen));
		strbuf_addstr(err, "': want host:port, [v6]:port or :port");
		strbuf_release(&host);
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->cfg = *cfg;
	h->cfg.listen = NULL;	/* the caller's strings are not ours */
	h->cfg.tls_cert = h->cfg.tls_key = NULL;
	strbuf_init(&h->cert, 0);
	strbuf_init(&h->key, 0);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->upg_cv, NULL);
	pthread_mutex_init(&h->trust_mu, NULL);
	atomic_init(&h->stopping, 0);
	atomic_init(&h->untrusted, 0);
	if (cfg->tls_cert != NULL &&
	    (read_pem(cfg->tls_cert, &h->cert, err) == -1 ||
	    read_pem(cfg->tls_key, &h->key, err) == -1))
		goto fail;

	if (cfg->listen == NULL) {
		/* connections come only through httpd_add_conn */
		if ((h->d = start_daemon(h, MHD_USE_NO_LISTEN_SOCKET,
		    NULL)) == NULL) {
			strbuf_addstr(err, h->cert.len > 0 ? "httpd: cannot "
			    "start HTTPS server (bad key or certificate?)" :
			    "httpd: cannot start HTTP server");
			goto fail;
		}
		strbuf_release(&host);
		return h;
	}
	if (host.len == 0) {
		/* every address: one dual-stack socket, else IPv4 alone */
		memset(&any6, 0, sizeof(any6));
		any6.sin6_family = AF_INET6;
		any6.sin6_addr = in6addr_any;
		any6.sin6_port = htons((uint16_t)port);
		start_listening(h, MHD_USE_DUAL_STACK,
		    (struct sockaddr *)&any6, sizeof(any6));
		memset(&any4, 0, sizeof(any4));
		any4.sin_family = AF_INET;
		any4.sin_addr.s_addr = htonl(INADDR_ANY);
		any4.sin_port = htons((uint16_t)port);
		if (h->d == NULL)
			start_listening(h, 0, (struct sockaddr *)&any4,
			    sizeof(any4));
		sa = (struct sockaddr *)&any4;
		salen = sizeof(any4);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		/*
		 * No AI_ADDRCONFIG: it hides "localhost" on a host whose
		 * only interface is the loopback one (CI sandboxes).
		 */
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(portstr, sizeof(portstr), "%d", port);
		if ((rc = getaddrinfo(host.buf, portstr, &hints, &res)) != 0) {
			strbuf_addstr(err, "listen '");
			log_escape(err, cfg->listen, strlen(cfg->listen));
			strbuf_addf(err, "': %s", gai_strerror(rc));
			goto fail;
		}
		/* like Go, prefer IPv4 when a name has both ("localhost") */
		for (pick = res, ai = res; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == AF_INET) {
				pick = ai;
				break;
			}
		sa = pick->ai_addr;
		salen = pick->ai_addrlen;
		start_listening(h, sa->sa_family == AF_INET6 ?
		    MHD_USE_IPv6 : 0, sa, salen);
	}
	if (h->d == NULL) {
		strbuf_addstr(err, "listen '");
		log_escape(err, cfg->listen, strlen(cfg->listen));
		strbuf_addstr(err, "': ");
		if (explain_bind(sa, salen, err) == 0)
			strbuf_addstr(err, h->cert.len > 0 ? "cannot start "
			    "HTTPS server (bad key or certificate?)" :
			    "cannot start HTTP server");
		goto fail;
	}
	if (res != NULL)
		freeaddrinfo(res);
	strbuf_release(&host);
	if (h->acc == NULL) {
		di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
		h->port = di != NULL ? di->port : port;
	}
	return h;
fail:
	if (res != NULL)
		freeaddrinfo(res);
	strbuf_release(&host);
	httpd_free(h);
	return NULL;
}

int
httpd_port(const struct httpd *h)
{
	return h->port;
}

int
httpd_add_conn(struct httpd *h, int fd, struct strbuf *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (atomic_load(&h->stopping)) {
		close(fd);
		strbuf_addstr(err, "httpd: stopping");
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		/* not connected (or not a socket): MHD would only fail */
		strbuf_addf(err, "httpd: getpeername: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (len == 0 || len > sizeof(ss))	/* an unnamed unix socket */
		len = sizeof(ss.ss_family);
	/* MHD closes fd when it fails, and when the connection ends */
	if (MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, len) !=
	    MHD_YES) {
		strbuf_addf(err, "httpd: cannot serve the connection: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
httpd_stopping(const struct httpd *h)
{
	return atomic_load(&((struct httpd *)h)->stopping);
}

void
httpd_stop(struct httpd *h)
{
	if (h == NULL)
		return;
	atomic_store(&h->stopping, 1);
	httpd_accept_stop(h);
	httpd_upgrades_stop(h);
	MHD_stop_daemon(h->d);
	httpd_free(h);
}

/* ---- request accessors ---- */

struct httpd *
httpd_req_server(struct httpd_req *req)
{
	return req->h;
}

const char *
httpd_method(struct httpd_req *req)
{
	return req->method;
}

const char *
httpd_path(struct httpd_req *req)
{
	return req->path;
}

const char *
httpd_version(struct httpd_req *req)
{
	return req->version;
}

const char *
httpd_peer(struct httpd_req *req)
{
	return req->peer;
}

const char *
httpd_header(struct httpd_req *req, const char *name)
{
	return kv_get(&req->hdrs, name, 1);
}

const char *
httpd_query(struct httpd_req *req, const char *key)
{
	return kv_get(&req->query, key, 0);
}

int
httpd_query_at(struct httpd_req *req, size_t i, const char **key,
    const char **val)
{
	if (i >= req->query.nr)
		return -1;
	*key = req->query.v[i].key;
	*val = req->query.v[i].val;
	return 0;
}

const char *
httpd_form(struct httpd_req *req, const char *key)
{
	const char *v;

	if ((v = kv_get(&req->form, key, 0)) != NULL)
		return v;
	return kv_get(&req->query, key, 0);
}

size_t
httpd_form_all(struct httpd_req *req, const char *key,
    const char *const **vals)
{
	const struct kvlist *l = &req->form;
	const char **arr;
	size_t i, n = 0;

	if (kv_get(l, key, 0) == NULL)
		l = &req->query;
	for (i = 0; i < l->nr; i++)
		n += strcmp(l->v[i].key, key) == 0;
	arr = xcalloc(n + 1, sizeof(*arr));
	for (i = 0, n = 0; i < l->nr; i++)
		if (strcmp(l->v[i].key, key) == 0)
			arr[n++] = l->v[i].val;
	GROW(req->allocs, req->nallocs + 1, req->aallocs);
	req->allocs[req->nallocs++] = arr;
	*vals = arr;
	return n;
}

const void *
httpd_body(struct httpd_req *req, size_t *lenp)
{
	if (lenp != NULL)
		*lenp = req->body.len;
	return req->body.buf;
}

int
httpd_body_fd(struct httpd_req *req)
{
	return req->mode == HTTPD_BODY_PIPE ? req->body_r : -1;
}

int
httpd_param_nul(struct httpd_req *req)
{
	return req->query.nul || req->form.nul;
}

const char *
httpd_param_bad_escape(struct httpd_req *req)
{
	if (req->query.bad[0])
		return req->query.bad;
	return req->form.bad[0] ? req->form.bad : NULL;
}

int
httpd_client_fd(struct httpd_req *req)
{
	return req->sock;
}

int
httpd_basic_auth(struct httpd_req *req, char **user, char **pass)
{
	const char *a = httpd_header(req, "Authorization"), *colon;
	unsigned char *buf;
	ssize_t n;
	size_t len;

	*user = *pass = NULL;
	if (a == NULL || strncasecmp(a, "Basic ", 6) != 0)
		return -1;
	for (a += 6; *a == ' '; a++)
		;
	len = strcspn(a, " \t");
	if (a[len] != '\0' && a[len + strspn(a + len, " \t")] != '\0')
		return -1;
	buf = xmalloc(CRYPTO_B64_DECODED_MAX(len) + 1);
	/* a NUL would cut the name or password short: refuse it */
	if ((n = crypto_base64_decode(a, len, buf)) < 0 ||
	    (colon = memchr(buf, ':', (size_t)n)) == NULL ||
	    memchr(buf, '\0', (size_t)n) != NULL) {
		bf_wipe(buf, CRYPTO_B64_DECODED_MAX(len) + 1);
		free(buf);
		return -1;
	}
	*user = xmemdupz(buf, (size_t)(colon - (char *)buf));
	*pass = xmemdupz(colon + 1, (size_t)(n - (colon + 1 - (char *)buf)));
	bf_wipe(buf, CRYPTO_B64_DECODED_MAX(len) + 1);
	free(buf);
	return 0;
}

void
httpd_add_header(struct httpd_req *req, const char *name, const char *value)
{
	kv_add(&req->rhdrs, name, strlen(name), value, strlen(value));
}
