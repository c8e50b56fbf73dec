#include "compat.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "atomicfile.h"
#include "http.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#ifndef BF_VERSION
#define BF_VERSION "0.1"
#endif

#define DEFAULT_MAX_BODY	(64 * 1024 * 1024)
#define DEFAULT_CONNECT_MS	10000L
#define MAX_HEADERS		(256 * 1024)	/* all header lines together */
#define MAX_ERROR_BODY		(64 * 1024)	/* kept when sink_fd is set */
#define ERR_SNIPPET		200	/* body bytes quoted in err */

/*
 * A multi handle and an easy handle, kept between requests.  The
 * connection cache lives in the multi handle, so this is what gives
 * keep-alive across calls.  The multi interface (rather than
 * curl_easy_perform) lets the transfer loop wake every CANCEL_POLL_MS
 * to look at req->cancel.
 *
 * Each thread has one (the key's destructor frees it when its thread
 * exits): a handle, and so its cache, must never be used by two
 * threads at once, and libcurl does not support sharing a connection
 * cache between concurrent threads through a share object; a
 * per-thread handle sidesteps both.
 */
struct handle {
	CURLM *m;
	CURL *c;
};

/*
 * A socket someone else dialled.  libcurl gets it from the open-socket
 * callback, marked CURL_SOCKOPT_ALREADY_CONNECTED, and "closes" it
 * through a close-socket callback that leaves it open.  The connection
 * lives in the object's own multi handle, never in a thread's, so the
 * kept-alive connections to dialled hosts and this one never mix.
 */
struct http_conn {
	struct handle *h;
	struct curl_slist *connect_to;
	int fd;
	int fl;			/* fd's status flags, given back at the end */
	int handed;		/* libcurl holds the fd */
	int gone;		/* libcurl let go of it: the stream is spent */
};

#define CANCEL_POLL_MS	50
#define IDLE_POLL_MS	1000

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;
static int init_failed;

static void
handle_free(struct handle *h)
{
	if (h == NULL)
		return;
	if (h->c != NULL)
		curl_easy_cleanup(h->c);
	if (h->m != NULL)
		curl_multi_cleanup(h->m);
	free(h);
}

static void
free_handle(void *p)
{
	handle_free(p);
}

static void
init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    pthread_key_create(&handle_key, free_handle) != 0)
		init_failed = 1;
}

static struct handle *
handle_new(void)
{
	struct handle *h;

	pthread_once(&init_once, init);
	if (init_failed)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	if ((h->m = curl_multi_init()) == NULL ||
	    (h->c = curl_easy_init()) == NULL) {
		handle_free(h);
		return NULL;
	}
	return h;
}

static struct handle *
thread_handle(void)
{
	struct handle *h;

	pthread_once(&init_once, init);
	if (init_failed)
		return NULL;
	if ((h = pthread_getspecific(handle_key)) != NULL)
		return h;
	if ((h = handle_new()) == NULL)
		return NULL;
	if (pthread_setspecific(handle_key, h) != 0) {
		handle_free(h);
		return NULL;
	}
	return h;
}

/* State shared by the callbacks of one transfer. */
struct xfer {
	const struct http_req *req;
	const struct http_opt *opt;
	struct http_resp *resp;
	const char *method;
	struct curl_slist *hdrs;
	size_t max_body;
	int to_sink;		/* this response's body goes to the sink */
	int over_cap;		/* body went over max_body */
	int hdr_over;		/* headers went over MAX_HEADERS */
	int sink_errno;		/* write to sink_fd failed */
	int read_errno;		/* read from body_fd failed */
	int refused;		/* on_body or on_head returned -1 */
	int head_told;		/* on_head was called for this response */
	int cancelled;		/* *req->cancel was set */
	struct http_conn *conn;	/* speaking over a dialled-in socket */
	char range[32];
	char ebuf[CURL_ERROR_SIZE];
};

static const struct http_opt default_opt = HTTP_OPT_INIT;

/*
 * The URL for messages: userinfo (user:password@) removed, then
 * escaped so that hostile bytes cannot reach a terminal.
 */
static void
add_url(struct strbuf *out, const char *url)
{
	const char *auth, *end, *at = NULL, *p;

	if ((p = strstr(url, "://")) != NULL) {
		auth = p + 3;
		end = auth + strcspn(auth, "/?#");
		for (p = auth; p < end; p++)
			if (*p == '@')
				at = p;
	}
	if (at != NULL) {
		log_escape(out, url, (size_t)(auth - url));
		log_escape(out, at + 1, strlen(at + 1));
	} else
		log_escape(out, url, strlen(url));
}

static enum http_class
status_class(long st, int ok_304)
{
	if (st >= 200 && st < 300)
		return HTTP_OK;
	/* 304 is only success to a caller that sent a conditional request */
	if (st == 304 && ok_304)
		return HTTP_OK;
	if (st == 404 || st == 410)
		return HTTP_NOTFOUND;
	if (st == 401 || st == 403)
		return HTTP_AUTH;
	if (st == 408 || st == 429 || (st >= 500 && st < 600))
		return HTTP_TEMP;
	/* other 4xx, and 1xx/3xx/odd codes as a final answer */
	return HTTP_PERM;
}

enum http_class
http_status_class(long status)
{
	return status_class(status, 0);
}

/*
 * Transport errors that will not go away by retrying.  Everything not
 * listed (connect, DNS, timeouts, resets, partial bodies) is TEMP.
 */
static enum http_class
curl_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return HTTP_PERM;
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
		return HTTP_AUTH;
	default:
		return HTTP_TEMP;
	}
}

/* Has the caller asked us to give up? */
static int
cancelled(struct xfer *x)
{
	/* set by another thread: an atomic load (a plain one is a race) */
	if (x->req->cancel != NULL &&
	    __atomic_load_n(x->req->cancel, __ATOMIC_RELAXED) != 0)
		x->cancelled = 1;
	return x->cancelled;
}

/*
 * Header lines, and after a chunked body its trailers: libcurl hands
 * both to this callback, so trailers land in resp.headers too.
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct http_resp *r = x->resp;
	size_t len = size * n;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (interim, redirect or final): start over */
		const char *s = memchr(p, ' ', len);
		long st = 0;
		int i;

		strbuf_reset(&r->headers);
		x->head_told = 0;
		if (!x->to_sink || r->body_len == 0) {
			strbuf_reset(&r->body);
			r->body_len = 0;
		}
		for (i = 1; s != NULL && i <= 3 && s + i < p + len &&
		    s[i] >= '0' && s[i] <= '9'; i++)
			st = st * 10 + (s[i] - '0');
		r->status = i == 4 ? st : 0;
		x->to_sink = (x->opt->sink_fd >= 0 ||
		    x->req->on_body != NULL) && r->status >= 200 &&
		    r->status < 300;
	} else if (len <= 2 && (len == 0 || p[0] == '\r' || p[0] == '\n')) {
		/* the blank line after the headers (or the trailers) */
		if (x->req->on_head != NULL && !x->head_told &&
		    r->status >= 200) {
			x->head_told = 1;
			if (x->req->on_head(r, x->req->arg) != 0) {
				x->refused = 1;
				return 0;
			}
		}
		return len;
	}
	if (r->headers.len + len > MAX_HEADERS) {
		x->hdr_over = 1;
		return 0;
	}
	strbuf_add(&r->headers, p, len);
	return len;
}

/* A 2xx body to the sink: on_body or sink_fd.  0, or -1 to abort. */
static int
to_sink(struct xfer *x, const char *p, size_t len)
{
	if (x->req->on_body != NULL) {
		if (x->req->on_body(p, len, x->req->arg) != 0) {
			x->refused = 1;
			return -1;
		}
	} else if (write_all(x->opt->sink_fd, p, len) == -1) {
		x->sink_errno = errno;
		return -1;
	}
	return 0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct http_resp *r = x->resp;
	size_t len = size * n;

	if (!x->to_sink && (x->opt->sink_fd >= 0 ||
	    x->req->on_body != NULL)) {
		/*
		 * An error page while the body should go elsewhere: keep
		 * its start in memory for the message, never in the sink.
		 */
		if (r->body.len < MAX_ERROR_BODY)
			strbuf_add(&r->body, p, len < MAX_ERROR_BODY -
			    r->body.len ? len : MAX_ERROR_BODY - r->body.len);
		r->body_len += (long long)len;
		return len;
	}
	if ((unsigned long long)r->body_len + len > x->max_body) {
		x->over_cap = 1;
		return 0;
	}
	if (x->to_sink) {
		if (to_sink(x, p, len) == -1)
			return 0;
	} else
		strbuf_add(&r->body, p, len);
	r->body_len += (long long)len;
	return len;
}

/*
 * Wait until body_fd has something to read, looking at the cancel flag
 * meanwhile (a pipe from a command may stay silent): 0, or -1 when
 * cancelled.
 */
static int
wait_readable(struct xfer *x)
{
	struct pollfd pfd;

	if (x->req->cancel == NULL)
		return 0;
	pfd.fd = x->req->body_fd;
	pfd.events = POLLIN;
	while (!cancelled(x))
		if (poll(&pfd, 1, CANCEL_POLL_MS) != 0)
			return 0;	/* ready, or an error read() will see */
	return -1;
}

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	ssize_t got;

	if (wait_readable(x) == -1)
		return CURL_READFUNC_ABORT;
	do
		got = read(x->req->body_fd, p, size * n);
	while (got == -1 && errno == EINTR && !cancelled(x));
	if (got == -1) {
		if (!x->cancelled)
			x->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

/* Also called while libcurl waits inside a state of its own. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return cancelled(arg);
}

/* "METHOD 'url': " */
static void
err_prefix(struct strbuf *err, const char *method, const char *url)
{
	strbuf_addf(err, "%s '", method);
	add_url(err, url);
	strbuf_addstr(err, "': ");
}

/* First line of an error body, escaped and cut, for the message. */
static void
add_snippet(struct strbuf *err, const struct strbuf *body)
{
	size_t n = strcspn(body->buf, "\r\n");

	if (n > body->len)
		n = body->len;
	if (n == 0)
		return;
	strbuf_addstr(err, ": ");
	log_escape(err, body->buf, n > ERR_SNIPPET ? ERR_SNIPPET : n);
	if (n > ERR_SNIPPET)
		strbuf_addstr(err, "...");
}

/* An HTTP token (RFC 9110 tchar), so a method cannot smuggle a line. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", *s) != NULL))
			return 0;
	return 1;
}

/* The request is well-formed: 0, or -1 with err set. */
static int
check_req(struct xfer *x, struct strbuf *err)
{
	const struct http_req *req = x->req;
	const char *why = NULL;

	if (req->url == NULL)
		why = "no URL";
	else if (!is_token(x->method))
		why = "bad method";
	else if (req->body != NULL && req->body_fd >= 0)
		why = "two request bodies";
	else if (x->opt->range_from >= 0 && snprintf(x->range,
	    sizeof(x->range), "%lld-", x->opt->range_from) >=
	    (int)sizeof(x->range))
		why = "bad range";
	if (why == NULL)
		return 0;
	err_prefix(err, x->method, req->url != NULL ? req->url : "");
	strbuf_addstr(err, why);
	return -1;
}

static int
add_header(struct curl_slist **hdrs, const char *line)
{
	struct curl_slist *h;

	if ((h = curl_slist_append(*hdrs, line)) == NULL)
		return -1;
	*hdrs = h;
	return 0;
}

/* The request's header list into x->hdrs: 0, or -1 out of memory. */
static int
build_headers(struct xfer *x)
{
	const struct http_opt *opt = x->opt;
	struct strbuf line = STRBUF_INIT;
	int bad = 0;
	size_t i;

	for (i = 0; opt->headers != NULL && opt->headers[i] != NULL; i++)
		bad |= add_header(&x->hdrs, opt->headers[i]);
	if (x->req->ctype != NULL) {
		strbuf_addf(&line, "Content-Type: %s", x->req->ctype);
		bad |= add_header(&x->hdrs, line.buf);
		strbuf_release(&line);
	} else	/* not libcurl's default for POSTFIELDS, a form type */
		bad |= add_header(&x->hdrs, "Content-Type:");
	/* no 100-continue round trip; Go's client does not wait */
	if (x->req->body != NULL || x->req->body_fd >= 0)
		bad |= add_header(&x->hdrs, "Expect:");
	return bad ? -1 : 0;
}

/* Everything but the method and the body. */
static void
set_common(CURL *c, struct xfer *x)
{
	const struct http_opt *opt = x->opt;
	const char *s;

	curl_easy_setopt(c, CURLOPT_URL, x->req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "buildfarm/" BF_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->ebuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	if (x->req->cancel != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms :
	    DEFAULT_CONNECT_MS);
	if (opt->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opt->timeout_ms);
	if (opt->low_speed > 0 && opt->low_speed_s > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, opt->low_speed);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, opt->low_speed_s);
	}
	if (opt->netrc) {
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		if ((s = getenv("NETRC")) != NULL && *s != '\0')
			curl_easy_setopt(c, CURLOPT_NETRC_FILE, s);
	}
	if (opt->user != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, opt->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD,
		    opt->password != NULL ? opt->password : "");
	}
	if (opt->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, opt->cacert);
	if (opt->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (opt->range_from >= 0)
		curl_easy_setopt(c, CURLOPT_RANGE, x->range);
	if (opt->cookiefile != NULL)
		curl_easy_setopt(c, CURLOPT_COOKIEFILE, opt->cookiefile);
}

/*
 * The method and the body.  libcurl picks the method from how the body
 * is given (POSTFIELDS: POST, UPLOAD: PUT, else GET); any other method
 * is a CUSTOMREQUEST on top, which changes only the request line.
 */
static void
set_method(CURL *c, struct xfer *x)
{
	const struct http_req *req = x->req;
	const char *m = x->method, *implied;

	if (req->body != NULL || (req->body_fd < 0 &&
	    (strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 ||
	    strcmp(m, "PATCH") == 0))) {
		/* a POST or PUT without a body still says Content-Length: 0 */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		    req->body != NULL ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? req->body_len : 0));
		implied = "POST";
	} else if (req->body_fd >= 0) {
		/* no size given: libcurl sends HTTP/1.1 chunked */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		implied = "PUT";
	} else if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		implied = "HEAD";
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		implied = "GET";
	}
	if (strcmp(m, implied) != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	else if (strcmp(m, "GET") == 0) {
		/* redirects are followed for GET only */
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	}
}

/*
 * Run the transfer on h's multi handle, waking at least every
 * CANCEL_POLL_MS when the request is cancellable.
 */
static CURLcode
run(CURLM *m, CURL *c, struct xfer *x)
{
	CURLcode rc = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left, wait_ms;

	wait_ms = x->req->cancel != NULL ? CANCEL_POLL_MS : IDLE_POLL_MS;
	if (curl_multi_add_handle(m, c) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	for (;;) {
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			rc = CURLE_OUT_OF_MEMORY;
			break;
		}
		if (running == 0)
			break;
		if (cancelled(x)) {
			rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_poll(m, NULL, 0, wait_ms, NULL) !=
		    CURLM_OK) {
			rc = CURLE_RECV_ERROR;
			break;
		}
	}
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c)
			rc = msg->data.result;
	/* a transfer cut short leaves its connection closed, not cached */
	curl_multi_remove_handle(m, c);
	return rc;
}

/* The outcome of a finished transfer: class and err. */
static enum http_class
outcome(struct xfer *x, CURLcode rc, struct strbuf *err)
{
	struct http_resp *resp = x->resp;
	const struct http_req *req = x->req;
	enum http_class cls;

	if (rc == CURLE_OK) {
		cls = status_class(resp->status, x->opt->ok_304);
		if (cls != HTTP_OK) {
			err_prefix(err, x->method, req->url);
			strbuf_addf(err, "HTTP %ld", resp->status);
			if (!x->to_sink)
				add_snippet(err, &resp->body);
		}
		return cls;
	}
	err_prefix(err, x->method, req->url);
	if (x->cancelled) {
		strbuf_addstr(err, "cancelled");
		return HTTP_TEMP;
	}
	if (x->refused) {
		if (req->cb_err != NULL && req->cb_err->len > 0)
			strbuf_add(err, req->cb_err->buf, req->cb_err->len);
		else
			strbuf_addstr(err, "aborted by the receiver");
		return HTTP_PERM;
	}
	/*
	 * A refusal that arrived while we were still sending, or an error
	 * status whose body was too big to keep: the status is the news.
	 */
	if (resp->status >= 300 && (x->over_cap || rc == CURLE_SEND_ERROR)) {
		strbuf_addf(err, "HTTP %ld", resp->status);
		return status_class(resp->status, x->opt->ok_304);
	}
	if (x->over_cap) {
		strbuf_addf(err, "response body over %zu bytes", x->max_body);
		return HTTP_PERM;
	}
	if (x->hdr_over) {
		strbuf_addf(err, "response headers over %d bytes",
		    MAX_HEADERS);
		return HTTP_PERM;
	}
	if (x->sink_errno) {
		strbuf_addf(err, "write: %s", strerror(x->sink_errno));
		return HTTP_TEMP;
	}
	if (x->read_errno) {
		strbuf_addf(err, "read request body: %s",
		    strerror(x->read_errno));
		return HTTP_TEMP;
	}
	if (x->conn != NULL && x->conn->gone && resp->status == 0) {
		strbuf_addstr(err, "the connection is closed");
		return HTTP_TEMP;
	}
	if (x->ebuf[0] != '\0') {
		size_t n = strlen(x->ebuf);

		while (n > 0 && (x->ebuf[n - 1] == '\n' ||
		    x->ebuf[n - 1] == '\r'))
			n--;
		log_escape(err, x->ebuf, n);
	} else
		strbuf_addstr(err, curl_easy_strerror(rc));
	return curl_class(rc);
}

/*
 * The fds handed to libcurl as connected, for connect() below.  Only
 * looked at when a connect() failed with EISCONN, which no other
 * caller expects to see on a hot path.
 */
static pthread_mutex_t preconn_mu = PTHREAD_MUTEX_INITIALIZER;
static int *preconn;
static size_t npreconn, apreconn;

static void
preconn_add(int fd)
{
	pthread_mutex_lock(&preconn_mu);
	if (npreconn == apreconn) {
		apreconn = apreconn ? 2 * apreconn : 8;
		preconn = xreallocarray(preconn, apreconn, sizeof(*preconn));
	}
	preconn[npreconn++] = fd;
	pthread_mutex_unlock(&preconn_mu);
}

static void
preconn_del(int fd)
{
	size_t i;

	pthread_mutex_lock(&preconn_mu);
	for (i = 0; i < npreconn; i++)
		if (preconn[i] == fd) {
			preconn[i] = preconn[--npreconn];
			break;
		}
	pthread_mutex_unlock(&preconn_mu);
}

static int
preconnected(int fd)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&preconn_mu);
	for (i = 0; i < npreconn && !found; i++)
		found = preconn[i] == fd;
	pthread_mutex_unlock(&preconn_mu);
	return found;
}

typedef int (*connect_fn)(int, __CONST_SOCKADDR_ARG, socklen_t);
static pthread_once_t connect_once = PTHREAD_ONCE_INIT;
static connect_fn real_connect;

static void
find_connect(void)
{
	real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
}

/*
 * libcurl 7.88 calls connect() even on a socket its open-socket
 * callback marked CURL_SOCKOPT_ALREADY_CONNECTED (curl/curl#10626,
 * fixed in 8.0.0), and gives up on the EISCONN.  A connect() defined in
 * the executable wins over libc's for libcurl's calls; every binary
 * that can use conn_fd links this file, so it has this one.  It turns
 * EISCONN into success for our registered fds only, and is the real
 * connect() for every other call.  (__CONST_SOCKADDR_ARG: glibc
 * declares connect with a transparent union under _GNU_SOURCE.)
 */
int
connect(int fd, __CONST_SOCKADDR_ARG sa, socklen_t len)
{
	int rc, e;

	pthread_once(&connect_once, find_connect);
	if (real_connect == NULL) {
		errno = ENOSYS;
		return -1;
	}
	rc = real_connect(fd, sa, len);
	if (rc == -1 && errno == EISCONN) {
		e = errno;
		if (preconnected(fd))
			return 0;
		errno = e;
	}
	return rc;
}

static curl_socket_t
conn_open(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct http_conn *hc = arg;

	(void)addr;
	/* once the first connection is over, the fd is no new one */
	if (purpose != CURLSOCKTYPE_IPCXN || hc->handed || hc->gone)
		return CURL_SOCKET_BAD;
	hc->handed = 1;
	preconn_add(hc->fd);
	return hc->fd;
}

static int
conn_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	(void)arg;
	(void)fd;
	(void)purpose;
	return CURL_SOCKOPT_ALREADY_CONNECTED;
}

static int
conn_close(void *arg, curl_socket_t fd)
{
	struct http_conn *hc = arg;

	preconn_del(fd);
	hc->handed = 0;
	hc->gone = 1;
	return 0;
}

/* Over hc's socket: no DNS (an IP literal to "connect" to), no close. */
static void
set_conn(CURL *c, struct http_conn *hc)
{
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, conn_open);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, hc);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, conn_sockopt);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, conn_close);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, hc);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, hc->connect_to);
	/* a redirect would need a connection of its own */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
}

struct http_conn *
http_conn_new(int fd)
{
	struct http_conn *hc;
	struct curl_slist *l;
	struct handle *h;
	int fl;

	if (fd < 0 || (fl = fcntl(fd, F_GETFL)) == -1)
		return NULL;
	if ((h = handle_new()) == NULL)
		return NULL;
	/* any host and port of the URL: "connect" to 127.0.0.1 */
	if ((l = curl_slist_append(NULL, "::127.0.0.1:")) == NULL) {
		handle_free(h);
		return NULL;
	}
	hc = xcalloc(1, sizeof(*hc));
	hc->h = h;
	hc->connect_to = l;
	hc->fd = fd;
	hc->fl = fl;
	return hc;
}

void
http_conn_free(struct http_conn *hc)
{
	if (hc == NULL)
		return;
	/* closes the cached connection, through conn_close */
	handle_free(hc->h);
	if (hc->handed)
		preconn_del(hc->fd);
	curl_slist_free_all(hc->connect_to);
	/* libcurl made it non-blocking */
	fcntl(hc->fd, F_SETFL, hc->fl);
	free(hc);
}

/* One request on handle h (reset here; nothing of it stays behind). */
static enum http_class
perform(struct handle *h, struct http_conn *hc, const struct http_req *req,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err)
{
	struct xfer x;
	CURLcode rc;
	const char *s;
	CURL *c;

	if (opt == NULL)
		opt = &default_opt;
	resp->status = 0;
	resp->body_len = 0;
	strbuf_reset(&resp->body);
	strbuf_reset(&resp->headers);
	FREE_AND_NULL(resp->effective_url);

	memset(&x, 0, sizeof(x));
	x.req = req;
	x.opt = opt;
	x.resp = resp;
	x.method = req->method != NULL ? req->method : "GET";
	x.conn = hc;
	if (check_req(&x, err) == -1)
		return HTTP_PERM;
	if (h == NULL) {
		err_prefix(err, x.method, req->url);
		strbuf_addstr(err, "cannot initialise libcurl");
		return HTTP_TEMP;
	}
	if (opt->max_body > 0)
		x.max_body = opt->max_body;
	else	/* a callback sees the body as it goes and can stop it */
		x.max_body = req->on_body != NULL ? SIZE_MAX :
		    DEFAULT_MAX_BODY;
	if (build_headers(&x) == -1) {
		curl_slist_free_all(x.hdrs);
		err_prefix(err, x.method, req->url);
		strbuf_addstr(err, "out of memory");
		return HTTP_TEMP;
	}
	/*
	 * The cookie engine outlives curl_easy_reset, so cookies get an
	 * easy handle of their own, gone with them after the request; the
	 * connection cache is the multi handle's and is still shared.
	 */
	if (opt->cookiefile == NULL)
		c = h->c;
	else if ((c = curl_easy_init()) == NULL) {
		curl_slist_free_all(x.hdrs);
		err_prefix(err, x.method, req->url);
		strbuf_addstr(err, "cannot initialise libcurl");
		return HTTP_TEMP;
	}
	curl_easy_reset(c);
	set_common(c, &x);
	set_method(c, &x);
	if (hc != NULL)
		set_conn(c, hc);

	rc = run(h->m, c, &x);

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK &&
	    s != NULL)
		resp->effective_url = xstrdup(s);
	/* nothing may point at our stack or at hdrs once we return */
	if (c != h->c)
		curl_easy_cleanup(c);
	else
		curl_easy_reset(c);
	curl_slist_free_all(x.hdrs);
	return outcome(&x, rc, err);
}

enum http_class
http_conn_request(struct http_conn *hc, const struct http_req *req,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err)
{
	return perform(hc->h, hc, req, opt, resp, err);
}

enum http_class
http_request(const struct http_req *req, const struct http_opt *opt,
    struct http_resp *resp, struct strbuf *err)
{
	struct http_conn *hc;
	enum http_class cls;

	if (req->conn_fd < 0)
		return perform(thread_handle(), NULL, req, opt, resp, err);
	if ((hc = http_conn_new(req->conn_fd)) == NULL) {
		err_prefix(err, req->method != NULL ? req->method : "GET",
		    req->url != NULL ? req->url : "");
		strbuf_addstr(err, "cannot use the connection");
		return HTTP_TEMP;
	}
	cls = http_conn_request(hc, req, opt, resp, err);
	http_conn_free(hc);
	return cls;
}

enum http_class
http_get(const char *url, const struct http_opt *opt, struct http_resp *resp,
    struct strbuf *err)
{
	struct http_req req = HTTP_REQ_INIT;

	req.url = url;
	return http_request(&req, opt, resp, err);
}

enum http_class
http_post(const char *url, const char *ctype, const void *body, size_t len,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err)
{
	struct http_req req = HTTP_REQ_INIT;

	req.method = "POST";
	req.url = url;
	req.ctype = ctype;
	req.body = body;
	req.body_len = len;
	return http_request(&req, opt, resp, err);
}

enum http_class
http_put_fd(const char *url, const char *ctype, int fd,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err)
{
	struct http_req req = HTTP_REQ_INIT;

	if (fd < 0) {
		err_prefix(err, "PUT", url);
		strbuf_addstr(err, "no request body");
		return HTTP_PERM;
	}
	req.method = "PUT";
	req.url = url;
	req.ctype = ctype;
	req.body_fd = fd;
	return http_request(&req, opt, resp, err);
}

int
http_resp_header(const struct http_resp *resp, const char *name,
    struct strbuf *out)
{
	const char *p = resp->headers.buf, *end = p + resp->headers.len;
	const char *eol, *v, *ve;
	size_t nlen = strlen(name);

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) <= nlen || p[nlen] != ':' ||
		    strncasecmp(p, name, nlen) != 0)
			continue;
		v = p + nlen + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == '\r' || ve[-1] == '\n' ||
		    ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		strbuf_reset(out);
		strbuf_add(out, v, (size_t)(ve - v));
		return 0;
	}
	return -1;
}

void
http_resp_release(struct http_resp *resp)
{
	strbuf_release(&resp->body);
	strbuf_release(&resp->headers);
	FREE_AND_NULL(resp->effective_url);
	resp->status = 0;
	resp->body_len = 0;
}

int
http_class_rc(enum http_class c)
{
	switch (c) {
	case HTTP_OK:
		return RC_OK;
	case HTTP_TEMP:
		return RC_TEMP;
	case HTTP_NOTFOUND:
	case HTTP_AUTH:
	case HTTP_PERM:
	default:
		return RC_PERM;
	}
}

const char *
http_class_name(enum http_class c)
{
	switch (c) {
	case HTTP_OK:
		return "ok";
	case HTTP_NOTFOUND:
		return "not found";
	case HTTP_AUTH:
		return "auth";
	case HTTP_PERM:
		return "permanent";
	case HTTP_TEMP:
		return "temporary";
	}
	return "unknown";
}

/*
 * Does a line of libcurl's cookie list, "[#HttpOnly_]domain  tailmatch
 * path  secure  expiry  name  value" (tab-separated), apply?
 */
static int
cookie_applies(const char *line, const char *host, const char *path,
    int secure, time_t now)
{
	const char *f[7], *p = line, *dom;
	size_t n, dlen, hlen = strlen(host), plen;

	if (strncmp(p, "#HttpOnly_", 10) == 0)
		p += 10;
	for (n = 0; n < 7; n++) {
		f[n] = p;
		if (n < 6 && (p = strchr(p, '\t')) == NULL)
			return 0;
		p++;
	}
	dom = f[0];
	dlen = (size_t)(f[1] - 1 - f[0]);
	if (*dom == '.') {
		dom++;
		dlen--;
	}
	if (!(dlen == hlen && strncasecmp(host, dom, dlen) == 0) &&
	    !(strncmp(f[1], "TRUE\t", 5) == 0 && hlen > dlen &&
	    host[hlen - dlen - 1] == '.' &&
	    strncasecmp(host + hlen - dlen, dom, dlen) == 0))
		return 0;
	plen = (size_t)(f[3] - 1 - f[2]);
	if (strncmp(path, f[2], plen) != 0 || (path[plen] != '\0' &&
	    path[plen] != '/' && (plen == 0 || f[2][plen - 1] != '/')))
		return 0;
	if (strncmp(f[3], "TRUE\t", 5) == 0 && !secure)
		return 0;
	return f[4][0] == '0' || strtoll(f[4], NULL, 10) >= (long long)now;
}

int
http_cookie_count(const char *file, const char *url)
{
	struct curl_slist *list = NULL, *l;
	char *host = NULL, *path = NULL, *scheme = NULL;
	CURLU *u = NULL;
	CURL *c = NULL;
	int fd, n = -1, e = EINVAL, secure;

	/* libcurl skips a file it cannot open without a word */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	close(fd);
	pthread_once(&init_once, init);
	if ((u = curl_url()) == NULL || (c = curl_easy_init()) == NULL) {
		e = ENOMEM;
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out;
	/* libcurl sends secure cookies to localhost over http too */
	secure = strcmp(scheme, "https") == 0 ||
	    strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
	    strcmp(host, "[::1]") == 0;
	/* a handle of its own: the cookies never meet a request */
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, file);
	curl_easy_setopt(c, CURLOPT_COOKIELIST, "RELOAD");
	if (curl_easy_getinfo(c, CURLINFO_COOKIELIST, &list) != CURLE_OK) {
		e = ENOMEM;
		goto out;
	}
	for (n = 0, l = list; l != NULL; l = l->next) {
		n += cookie_applies(l->data, host, path, secure, time(NULL));
		bf_wipe(l->data, strlen(l->data));
	}
out:
	curl_slist_free_all(list);
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (n == -1)
		errno = e;
	return n;
}

int
http_resolve(const char *base, const char *ref, struct strbuf *out)
{
	CURLU *u;
	char *s = NULL;
	int ret = -1;

	pthread_once(&init_once, init);
	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK)
		goto out;
	if (strcmp(s, "http") != 0 && strcmp(s, "https") != 0)
		goto out;
	curl_free(s);
	s = NULL;
	/* with a base in the handle, a relative ref is resolved against it */
	if (curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out;
	strbuf_addstr(out, s);
	ret = 0;
out:
	curl_free(s);
	curl_url_cleanup(u);
	return ret;
}

int
http_retry_after(const struct http_resp *resp, long long *secs)
{
	struct strbuf v = STRBUF_INIT;
	time_t t, now = time(NULL);
	int ret = -1;

	if (http_resp_header(resp, "Retry-After", &v) < 0)
		goto out;
	if (v.len > 0 && v.len <= 12 && strspn(v.buf, "0123456789") == v.len) {
		*secs = strtoll(v.buf, NULL, 10);
		ret = 0;
	} else if (v.len > 0 && (t = curl_getdate(v.buf, NULL)) != -1) {
		*secs = t > now ? (long long)(t - now) : 0;
		ret = 0;
	}
out:
	strbuf_release(&v);
	return ret;
}

/* "scheme://host:port" of an http(s) URL, the port spelt out; -1: bad. */
static int
origin_of(const char *url, struct strbuf *out)
{
	CURLU *u;
	char *sch = NULL, *host = NULL, *port = NULL;
	int ret = -1;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK && (strcmp(sch, "http") == 0 ||
	    strcmp(sch, "https") == 0)) {
		strbuf_addf(out, "%s://%s:%s", sch, host, port);
		ret = 0;
	}
	curl_free(sch);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ret;
}

int
http_same_origin(const char *a, const char *b)
{
	struct strbuf oa = STRBUF_INIT, ob = STRBUF_INIT;
	int ret = -1;

	pthread_once(&init_once, init);
	if (origin_of(a, &oa) == 0 && origin_of(b, &ob) == 0)
		ret = strcasecmp(oa.buf, ob.buf) == 0;
	strbuf_release(&oa);
	strbuf_release(&ob);
	return ret;
}

void
http_urlencode(struct strbuf *out, const char *s)
{
	char *e;

	/*
	 * The handle argument is unused since libcurl 7.82.  NULL then
	 * means out of memory or s over libcurl's 8 MB input limit.
	 */
	pthread_once(&init_once, init);
	if ((e = curl_easy_escape(NULL, s, 0)) == NULL)
		return;
	strbuf_addstr(out, e);
	curl_free(e);
}
