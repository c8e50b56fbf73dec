/*
 * httpd.h: the HTTP server (libmicrohttpd behind this module).
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a
 * handler may block (a long poll, a running command) without holding
 * up other clients.  Keep-alive works: responses are queued after the
 * request body is complete, never on the headers-only first call (see
 * platform-notes §1, "MHD gotcha").
 *
 * Calling sequence:
 *   struct httpd_config cfg = HTTPD_CONFIG_INIT;
 *   cfg.listen = "127.0.0.1:0"; cfg.handler = serve; cfg.arg = state;
 *   struct httpd *h = httpd_start(&cfg, &err);
 *   ... httpd_port(h) ...
 *   httpd_stop(h);
 * With cfg.listen NULL the server listens nowhere and serves only the
 * sockets given to httpd_add_conn (a reverse buildlet dials out, then
 * serves its ordinary API over the connection it made).
 *
 * The handler is called once per request, in the connection's thread,
 * after the whole body has been received (buffered, at most
 * cfg.max_body bytes; a larger body is answered 413 without calling the
 * handler) -- unless cfg.body_mode says HTTPD_BODY_PIPE for the request,
 * in which case the handler runs while the body is still arriving and
 * reads it from httpd_body_fd(req) (one end of a unix socket pair that
 * reads like a pipe; EOF at the end of the body; chunked request bodies
 * without Content-Length are fine; when the client goes away mid-body,
 * read() fails with ECONNRESET after the bytes that did arrive, so a
 * truncated upload is never mistaken for a complete one).  A handler
 * that stops reading early simply closes nothing: the rest of the body
 * is discarded by the wrapper.  The reply is sent once the whole body
 * has arrived and the handler has returned.
 *
 * Framing that RFC 9112 forbids never reaches the handler: a request
 * with two different Content-Length headers, Content-Length beside
 * Transfer-Encoding, or (HTTP/1.1) no Host or two, is answered 400 and
 * the connection closed (libmicrohttpd refuses a Content-Length that
 * is not a number itself, with its own 400 page).
 *
 * The handler must call exactly one httpd_reply* function; if it
 * returns without one, the client gets 500.  Headers added with
 * httpd_add_header before the reply are sent with it.
 *
 * Every finished request is logged as one line through cfg.log (or to
 * stderr through log_warnx when cfg.log is NULL and cfg.quiet is 0):
 *   "GET /logs?waitsizenot=10 200 1234 55012ms 127.0.0.1:40312"
 * The query string is shown escaped; Authorization is never logged.
 */
#ifndef BF_HTTPD_H
#define BF_HTTPD_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;
struct httpd;
struct httpd_req;

enum httpd_body_mode {
	HTTPD_BODY_BUFFER,	/* default: whole body in memory, capped */
	HTTPD_BODY_PIPE,	/* stream the body to the handler */
};

struct httpd_config {
	/*
	 * "127.0.0.1:5936", "[::1]:0", ":8080" (every address), "localhost:0";
	 * NULL: no listening socket, connections come from httpd_add_conn
	 */
	const char *listen;
	/*
	 * PEM files; both or neither.  With a listen address, httpd then
	 * accepts itself: a connection waits (the untrusted timeout, at
	 * most max_per_addr from one address, 256 in all, the oldest
	 * making room) for its first bytes; a TLS handshake is served
	 * as from httpd_add_conn, plain HTTP gets Go's "400 Client sent
	 * an HTTP request to an HTTPS server.", anything else is closed.
	 */
	const char *tls_cert, *tls_key;
	void (*handler)(struct httpd_req *req, void *arg);
	void *arg;
	/* chosen per request after the headers arrived; NULL: BUFFER */
	enum httpd_body_mode (*body_mode)(struct httpd_req *req, void *arg);
	size_t max_body;	/* buffered body cap; 0: 1 MiB */
	unsigned max_conns;	/* 0: 1000 */
	unsigned timeout_s;	/* idle connection timeout; 0: 300 */
	void (*log)(const char *line, void *arg);
	int quiet;		/* no access log at all */
	/*
	 * Against connection exhaustion (see httpd_trust).  max_per_addr:
	 * connections open at once from one client address (0: no limit;
	 * unix sockets are not counted).  untrusted_timeout_s: the idle
	 * timeout of a connection until httpd_trust (0: timeout_s).
	 * reserve: of max_conns, how many untrusted connections may never
	 * take; a new connection from an address none of whose requests
	 * was trusted is refused (closed unanswered) while max_conns -
	 * reserve untrusted ones are open, one from an address that was
	 * trusted (the last HTTPD_TRUSTED_ADDRS such) is not.
	 */
	unsigned max_per_addr;
	unsigned untrusted_timeout_s;
	unsigned reserve;
};
#define HTTPD_CONFIG_INIT { NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, \
	NULL, 0, 0, 0, 0 }
#define HTTPD_TRUSTED_ADDRS	16

struct httpd *httpd_start(const struct httpd_config *cfg, struct strbuf *err);
int httpd_port(const struct httpd *h);	/* 0 without a listen address */
/*
 * Serve HTTP on fd, a connected stream socket the process got some other
 * way (one it dialled itself, as a reverse buildlet does, or one end of
 * a socket pair), exactly as if the server had accepted it: requests,
 * keep-alive, upgrades, TLS, the idle timeout and the access log (peer
 * "unix" for a unix socket).  The server owns fd from the call on, also
 * when it fails: it closes it when the connection ends.  Works with or
 * without a listening socket.  0, or -1 with err.
 */
int httpd_add_conn(struct httpd *h, int fd, struct strbuf *err);
/*
 * The request proved itself (it authenticated): its connection gets the
 * idle timeout timeout_s from now on and no longer counts as untrusted,
 * and its client address joins the trusted ones (see httpd_config).
 * Call it from the handler, in any mode; more than once is harmless.
 */
void httpd_trust(struct httpd_req *req);
/* 1 once httpd_stop has begun: blocking handlers should return soon. */
int httpd_stopping(const struct httpd *h);
void httpd_stop(struct httpd *h);

/* 1 when listen names only loopback addresses (127/8, ::1, localhost). */
int httpd_listen_is_loopback(const char *listen);

/* Request accessors; strings live as long as the request. */
struct httpd *httpd_req_server(struct httpd_req *req);
const char *httpd_method(struct httpd_req *req);
const char *httpd_path(struct httpd_req *req);	/* decoded, no query */
const char *httpd_version(struct httpd_req *req);	/* "HTTP/1.1" */
const char *httpd_peer(struct httpd_req *req);	/* "127.0.0.1:40312" */
const char *httpd_header(struct httpd_req *req, const char *name);
/* First value of a query parameter, or NULL. */
const char *httpd_query(struct httpd_req *req, const char *key);
/*
 * The i-th query parameter, decoded, in request order (to pass a query
 * on): 0 with *key and *val set, or -1 when there are not that many.
 */
int httpd_query_at(struct httpd_req *req, size_t i, const char **key,
    const char **val);
/*
 * Form field: from an application/x-www-form-urlencoded body (buffered
 * mode) or, failing that, the query string.  httpd_form_all returns how
 * many values key has and points *vals at them (an array that lives as
 * long as the request), in request order, for repeated fields.
 */
const char *httpd_form(struct httpd_req *req, const char *key);
size_t httpd_form_all(struct httpd_req *req, const char *key,
    const char *const **vals);
/* Buffered body (empty in pipe mode). */
const void *httpd_body(struct httpd_req *req, size_t *lenp);
/* Pipe mode: the read end of the body; -1 in buffered mode. */
int httpd_body_fd(struct httpd_req *req);
/*
 * 1 when a query or form key or value held a NUL byte (%00): the
 * accessors above return C strings, which end at it, so a caller that
 * acts on names should refuse such a request rather than act on a
 * shorter name than the client sent.
 */
int httpd_param_nul(struct httpd_req *req);
/*
 * The first malformed %-escape ('%' without two hex digits after it)
 * of the query string or of a form-encoded body, as Go's ParseQuery
 * quotes it ("%zz"), or NULL.  The accessors keep such an escape as
 * it came, where Go's ParseQuery fails.
 */
const char *httpd_param_bad_escape(struct httpd_req *req);
/*
 * The connection's socket, only to poll(2) for POLLRDHUP while a
 * stream's read() waits for something else (a command that prints
 * nothing for a long time), so that a client that went away is noticed;
 * never read, write or close it.  -1 when unknown.
 */
int httpd_client_fd(struct httpd_req *req);
/*
 * HTTP Basic credentials, or -1 when absent/malformed.  The strings
 * are the caller's to wipe (bf_wipe) and free.
 */
int httpd_basic_auth(struct httpd_req *req, char **user, char **pass);

/* Response building. */
void httpd_add_header(struct httpd_req *req, const char *name,
    const char *value);
/*
 * A complete body (copied).  ctype NULL: the Content-Type given with
 * httpd_add_header, else "text/plain; charset=utf-8" (also for the
 * other httpd_reply* functions).
 */
void httpd_reply(struct httpd_req *req, int status, const char *ctype,
    const void *body, size_t len);
/* printf-style text body. */
void httpd_replyf(struct httpd_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Go's http.Error: text/plain; charset=utf-8, X-Content-Type-Options:
 * nosniff, body msg + "\n".
 */
void httpd_error(struct httpd_req *req, int status, const char *msg);
/* 401 with WWW-Authenticate: Basic realm="realm". */
void httpd_reply_auth(struct httpd_req *req, const char *realm);
/*
 * len bytes of fd from offset off (the wrapper owns fd and closes it).
 * With HTTPD_RANGE the request's "Range: bytes=a-b" (single range) is
 * honoured: 206 with Content-Range, 416 when unsatisfiable, and
 * Accept-Ranges: bytes is sent.
 */
enum { HTTPD_RANGE = 1 };
void httpd_reply_fd(struct httpd_req *req, int status, const char *ctype,
    int fd, off_t off, off_t len, int flags);
/*
 * A streamed body of unknown length (chunked).  read() is called from
 * the connection's thread whenever the client can take more; it returns
 * > 0 bytes placed in buf, 0 at the end of the body, or -1 to abort the
 * connection (the client sees a truncated chunked body).  Before it
 * returns 0 it may call httpd_stream_trailer to send trailers (declare
 * them with httpd_add_header(req, "Trailer", "Name") first).  done(arg)
 * is called once when the response is finished or the client went away;
 * closed tells which (1: client disconnected early).
 * Headers are flushed to the client before read() is first called.
 */
void httpd_reply_stream(struct httpd_req *req, int status, const char *ctype,
    ssize_t (*read)(void *arg, char *buf, size_t max),
    void (*done)(void *arg, int closed), void *arg);
void httpd_stream_trailer(struct httpd_req *req, const char *name,
    const char *value);
/*
 * 101 Switching Protocols with Upgrade: proto; then the connection is
 * the application's.  fn(up, fd, arg) is called once, in the
 * connection's thread, with the raw socket (blocking; over HTTPS, one
 * end of a socket pair that libmicrohttpd encrypts into the
 * connection).  Bytes the client sent right behind the request were
 * already read by the server: httpd_upgrade_extra returns them, to be
 * taken as read from fd before anything else.
 *
 * fn must return soon (over HTTPS, the connection's thread carries the
 * bytes only after it returned): it hands up to whatever serves it (a
 * thread, a poll loop), which ends the connection with
 * httpd_upgrade_close(up), from any thread, exactly once.  Never close
 * fd itself; write to it with send(MSG_NOSIGNAL), since the client may
 * be gone.  httpd_stop shuts every upgraded fd not yet closed down
 * (reads see EOF, writes fail) and waits for its httpd_upgrade_close.
 *
 * When the upgrade does not happen (the client went away before the
 * 101, the server is stopping, a reply was already given), fn is called
 * with up NULL and fd -1, so that it can free arg.
 */
struct httpd_upgrade;
void httpd_reply_upgrade(struct httpd_req *req, const char *proto,
    void (*fn)(struct httpd_upgrade *up, int fd, void *arg), void *arg);
int httpd_upgrade_fd(const struct httpd_upgrade *up);
const void *httpd_upgrade_extra(const struct httpd_upgrade *up,
    size_t *lenp);
void httpd_upgrade_close(struct httpd_upgrade *up);

#endif
