/*
 * http.h: the HTTP client (libcurl behind this module).
 *
 * http_request makes any request; http_get, http_post and http_put_fd
 * are shorthands for the common shapes.  Each fills a struct http_resp
 * and returns an outcome class that maps straight to an exit code:
 *
 *   HTTP_OK        2xx (and 304 when the caller asked for it)
 *   HTTP_NOTFOUND  404 or 410                          -> RC_PERM or RC_NO
 *   HTTP_AUTH      401 or 403                          -> RC_PERM
 *   HTTP_PERM      other 4xx, a final 3xx (redirects are followed
 *                  for GET only; 304 without ok_304), malformed URL,
 *                  bad TLS certificate, body over the size cap
 *                                                      -> RC_PERM
 *   HTTP_TEMP      connect/DNS failure, timeout, 5xx, 408, 429, a
 *                  connection that died mid-transfer, a cancelled
 *                  request                             -> RC_TEMP
 *
 * http_class_rc() does that mapping (HTTP_NOTFOUND -> RC_PERM).
 * err always gets a one-line reason for anything but HTTP_OK, naming
 * the URL (escaped) and the status or transport error; never a password.
 *
 * Settings common to all requests (User-Agent "buildfarm/VERSION",
 * connect timeout, .netrc, CA bundle) live in http.c, never at call
 * sites.  Credentials: when opt->netrc is set, libcurl reads $NETRC or
 * ~/.netrc (CURL_NETRC_OPTIONAL); opt->user/opt->password set HTTP Basic
 * directly; opt->cookiefile sends cookies (~/.gitcookies).  Nothing here retries: retrying is the caller's decision.
 * Each thread keeps one libcurl handle between calls, so consecutive
 * requests from one thread reuse kept-alive connections.
 *
 * Calling sequence:
 *   struct http_opt opt = HTTP_OPT_INIT;
 *   struct http_resp r = HTTP_RESP_INIT;
 *   opt.timeout_ms = 10000; opt.max_body = 1 << 20;
 *   switch (http_get(url, &opt, &r, &err)) { ... r.status, r.body ... }
 *   http_resp_release(&r);
 */
#ifndef BF_HTTP_H
#define BF_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

enum http_class {
	HTTP_OK,
	HTTP_NOTFOUND,
	HTTP_AUTH,
	HTTP_PERM,
	HTTP_TEMP,
};

struct http_opt {
	long timeout_ms;	/* whole request; 0: none */
	long connect_timeout_ms;	/* 0: 10 s */
	/* abort when fewer than low_speed bytes/s arrive for low_speed_s s */
	long low_speed, low_speed_s;
	size_t max_body;	/* response body cap; 0: 64 MiB */
	int netrc;		/* use $NETRC or ~/.netrc if present */
	const char *user, *password;	/* HTTP Basic; never logged */
	const char *const *headers;	/* extra "Name: value", NULL-ended */
	int ok_304;		/* treat 304 Not Modified as HTTP_OK */
	/*
	 * Range request from byte range_from on (-1: none).  A 206 or a
	 * 200 are both HTTP_OK; resp.status tells which.
	 */
	long long range_from;
	/*
	 * When sink_fd >= 0 the body of a 2xx response is written there
	 * (write_all) instead of into resp.body, as it arrives; max_body
	 * still applies.  Any other response's body (an error page) goes
	 * to resp.body, cut at 64 KiB, and never to sink_fd.
	 */
	int sink_fd;
	const char *cacert;	/* CA file for https (tests); NULL: system */
	int insecure;		/* skip TLS verification (tests only) */
	/*
	 * A Netscape cookie file (as ~/.gitcookies): libcurl sends the
	 * cookies in it that apply to the URL.  Read at each request, never
	 * written; cookies the server sets are forgotten afterwards.
	 */
	const char *cookiefile;
};
#define HTTP_OPT_INIT { 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, -1, -1, \
	NULL, 0, NULL }

struct http_resp {
	long status;		/* 0 when no HTTP response arrived */
	struct strbuf body;
	struct strbuf headers;	/* raw response header lines, "\r\n" ended */
	long long body_len;	/* bytes received (also with sink_fd) */
	char *effective_url;	/* after redirects; malloc'd or NULL */
};
#define HTTP_RESP_INIT { 0, STRBUF_INIT, STRBUF_INIT, 0, NULL }

/*
 * A request of any method.  Redirects are followed for a GET without a
 * body only.  A POST, PUT or PATCH without a body sends an empty one
 * (Content-Length: 0).  With on_body, opt->max_body caps the body only
 * when set (the callback sees the body and can stop it itself).
 */
struct http_req {
	const char *method;	/* NULL: "GET"; any token: "POST", "PUT", "DELETE"... */
	const char *url;
	const char *ctype;	/* request Content-Type, or NULL */
	const void *body;	/* request body from memory: body_len bytes */
	size_t body_len;
	int body_fd;		/* or read from this fd to EOF, sent chunked; -1: none */
	/*
	 * The body of a 2xx response, as it arrives (sink_fd and resp.body
	 * are then not used for it).  Return 0 to go on, -1 to abort the
	 * transfer: the call then returns HTTP_PERM with err "aborted by
	 * the receiver" unless the callback already wrote a reason into
	 * req->cb_err.
	 */
	int (*on_body)(const void *buf, size_t len, void *arg);
	void *arg;
	struct strbuf *cb_err;	/* where on_body may put its reason, or NULL */
	/*
	 * Set *cancel to nonzero from any thread (or a signal handler) to
	 * abort: the call returns HTTP_TEMP with err "... cancelled" within
	 * about 100 ms.  NULL: not cancellable.  Another thread sets it
	 * with an atomic store (__atomic_store_n), as it is read with an
	 * atomic load.
	 */
	const volatile sig_atomic_t *cancel;
	/*
	 * An already-connected socket to speak over (a reverse buildlet that
	 * dialled in); the URL's host is then only used for the Host header.
	 * -1: dial the URL's host as usual.  The fd is never closed by lib/http
	 * and the handle used for it never enters the shared connection cache.
	 */
	int conn_fd;
	/*
	 * Called once the headers of a final response (status 200 or more)
	 * are in, before any of its body: resp->status and resp->headers
	 * are set (a proxy answers its own client then, not after the
	 * body).  Return 0 to go on, -1 to abort as on_body does.  With a
	 * redirect followed, it is called for each response.  NULL: none.
	 */
	int (*on_head)(const struct http_resp *resp, void *arg);
};
#define HTTP_REQ_INIT { NULL, NULL, NULL, NULL, 0, -1, NULL, NULL, NULL, NULL, -1 }

enum http_class http_request(const struct http_req *req,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err);

/*
 * Several requests over one socket that someone else dialled (a reverse
 * buildlet): the object keeps its own libcurl handle, so consecutive
 * requests go over the one kept-alive connection.  http_conn_new(fd)
 * never closes fd; http_conn_free gives fd back with its file status
 * flags as they were (libcurl makes it non-blocking meanwhile).  Once
 * the peer or libcurl ended the HTTP connection (Connection: close, an
 * aborted transfer), every further request fails HTTP_TEMP with "the
 * connection is closed": the fd is then spent.  req->conn_fd is
 * ignored; the URL's host and port only name the Host header and must
 * stay the same.  Redirects are not followed.  One thread at a time.
 * http_request with conn_fd set is the one-request form (with https,
 * each call ends its TLS session).
 */
struct http_conn;
struct http_conn *http_conn_new(int fd);	/* NULL: bad fd or no memory */
enum http_class http_conn_request(struct http_conn *hc,
    const struct http_req *req, const struct http_opt *opt,
    struct http_resp *resp, struct strbuf *err);
void http_conn_free(struct http_conn *hc);

/*
 * A request without a body, method (NULL: GET) of url, that the server
 * answers 101 Switching Protocols, after which the connection carries
 * raw bytes both ways: a reverse buildlet's control and data
 * connections (GET, proto "revdial"), the buildlet's /connect-ssh
 * (POST, "ssh").  proto, when not NULL, is asked for with Connection:
 * Upgrade and Upgrade: proto.  On HTTP_OK *fd is a blocking stream
 * socket, close-on-exec, the caller's to close.  Over http it is the TCP
 * connection itself (shutdown(SHUT_WR) half-closes it); over https one
 * end of a unix socket pair that a thread of lib/http pumps through the
 * TLS session (certificate checked as usual: opt->cacert,
 * opt->insecure) until *fd is closed; its writes never raise SIGPIPE.
 * No byte behind the 101 is consumed.  From opt: connect_timeout_ms,
 * timeout_ms (up to the 101; 0: 30 s), headers, user and password
 * (HTTP Basic), cacert, insecure.  Any other answer: its class (as
 * http_request's), resp->status, resp->headers, a short resp->body, and
 * err naming the URL and the status.
 *
 * libcurl 7.88 hands no socket back after a plain 101 (CONNECT_ONLY = 2
 * works for ws:// only), so libcurl only connects here and the request
 * and response heads are written and read over curl_easy_send/recv
 * (http-upgrade.c).
 */
enum http_class http_upgrade(const char *method, const char *url,
    const char *proto, const struct http_opt *opt, int *fd,
    struct http_resp *resp, struct strbuf *err);
/*
 * http_upgrade_wait(ms): wait, at most ms, for the pump threads of
 * https upgrades to end (each ends once its *fd is closed): 0, or -1 if
 * some still run.  A program calls it before it exits: the TLS
 * library's exit handlers free what a running pump still uses.
 */
int http_upgrade_wait(long long ms);

enum http_class http_get(const char *url, const struct http_opt *opt,
    struct http_resp *resp, struct strbuf *err);
/* POST with a body of the given content type (e.g. application/json). */
enum http_class http_post(const char *url, const char *ctype,
    const void *body, size_t len, const struct http_opt *opt,
    struct http_resp *resp, struct strbuf *err);
/* PUT with a body read from fd until EOF, sent chunked. */
enum http_class http_put_fd(const char *url, const char *ctype, int fd,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err);

/*
 * Response header value (first match, case-insensitive name, spaces
 * around the value trimmed) copied into out, replacing its contents;
 * returns 0, or -1 when absent.  Trailers are included.
 */
int http_resp_header(const struct http_resp *resp, const char *name,
    struct strbuf *out);
void http_resp_release(struct http_resp *resp);
/*
 * The Retry-After header of resp (RFC 9110 10.2.3), delay-seconds or an
 * HTTP-date, as seconds from now (0 for a date in the past): 0 and
 * *secs set, or -1 when the header is absent or malformed.
 */
int http_retry_after(const struct http_resp *resp, long long *secs);

/* The class of a final status as above (304 is not HTTP_OK here). */
enum http_class http_status_class(long status);
int http_class_rc(enum http_class c);
const char *http_class_name(enum http_class c);

/*
 * How many cookies of the Netscape cookie file (read by libcurl) apply
 * to url: domain, path, secure flag and expiry.  -1 with errno set when
 * the file cannot be read or url is not an http(s) URL (EINVAL).
 */
int http_cookie_count(const char *file, const char *url);

/*
 * Resolve ref (absolute URL, absolute path or relative path) against
 * base, appending the result to out.  Returns 0, or -1 when base is
 * not an absolute http(s) URL or ref is not a valid URL reference.
 */
int http_resolve(const char *base, const char *ref, struct strbuf *out);
/*
 * Do absolute http(s) URLs a and b have the same origin (scheme, host
 * and port, a default port spelt out or not)?  1 yes, 0 no, -1 when
 * either is not an absolute http(s) URL.
 */
int http_same_origin(const char *a, const char *b);

/*
 * Percent-encode s for a query value (RFC 3986 unreserved kept), with
 * curl_easy_escape; an s over 8 MB adds nothing.
 */
void http_urlencode(struct strbuf *out, const char *s);

#endif
