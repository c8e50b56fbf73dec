#include "compat.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

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
 * One easy handle per thread, kept between requests: libcurl keeps its
 * connection cache in the handle, so this is what gives keep-alive
 * across calls.  A handle (and so its cache) must never be used by two
 * threads at once, and libcurl does not support sharing a connection
 * cache between concurrent threads through a share object; a
 * per-thread handle sidesteps both.  The key's destructor frees the
 * handle when its thread exits.
 */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;
static int init_failed;

static void
free_handle(void *p)
{
	curl_easy_cleanup(p);
}

static void
init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    pthread_key_create(&handle_key, free_handle) != 0)
		init_failed = 1;
}

static CURL *
get_handle(void)
{
	CURL *c;

	pthread_once(&init_once, init);
	if (init_failed)
		return NULL;
	c = pthread_getspecific(handle_key);
	if (c != NULL) {
		curl_easy_reset(c);
		return c;
	}
	if ((c = curl_easy_init()) == NULL)
		return NULL;
	if (pthread_setspecific(handle_key, c) != 0) {
		curl_easy_cleanup(c);
		return NULL;
	}
	return c;
}

/* State shared by the callbacks of one transfer. */
struct xfer {
	const struct http_opt *opt;
	struct http_resp *resp;
	size_t max_body;
	int to_sink;		/* this response's body goes to sink_fd */
	int over_cap;		/* body went over max_body */
	int hdr_over;		/* headers went over MAX_HEADERS */
	int sink_errno;		/* write to sink_fd failed */
	int in_fd;		/* PUT body */
	int read_errno;		/* read from in_fd failed */
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
		if (!x->to_sink || r->body_len == 0) {
			strbuf_reset(&r->body);
			r->body_len = 0;
		}
		for (i = 1; s != NULL && i <= 3 && s + i < p + len &&
		    s[i] >= '0' && s[i] <= '9'; i++)
			st = st * 10 + (s[i] - '0');
		r->status = i == 4 ? st : 0;
		x->to_sink = x->opt->sink_fd >= 0 && r->status >= 200 &&
		    r->status < 300;
	} else if (len <= 2 && (len == 0 || p[0] == '\r' || p[0] == '\n'))
		return len;	/* the blank line after the headers */
	if (r->headers.len + len > MAX_HEADERS) {
		x->hdr_over = 1;
		return 0;
	}
	strbuf_add(&r->headers, p, len);
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct http_resp *r = x->resp;
	size_t len = size * n;

	if (x->opt->sink_fd >= 0 && !x->to_sink) {
		/*
		 * An error page while downloading to a file: keep its start
		 * in memory for the message, never in the caller's file.
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
		if (write_all(x->opt->sink_fd, p, len) == -1) {
			x->sink_errno = errno;
			return 0;
		}
	} else
		strbuf_add(&r->body, p, len);
	r->body_len += (long long)len;
	return len;
}

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	ssize_t got;

	do
		got = read(x->in_fd, p, size * n);
	while (got == -1 && errno == EINTR);
	if (got == -1) {
		x->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
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

static enum http_class
perform(const char *method, const char *url, const char *ctype,
    const void *body, size_t len, int in_fd, const struct http_opt *opt,
    struct http_resp *resp, struct strbuf *err)
{
	char ebuf[CURL_ERROR_SIZE];
	char range[32];
	struct curl_slist *hdrs = NULL, *h;
	struct strbuf line = STRBUF_INIT;
	struct xfer x;
	enum http_class cls;
	const char *s;
	CURLcode rc;
	CURL *c;
	int bad = 0;
	size_t i;

	if (opt == NULL)
		opt = &default_opt;
	resp->status = 0;
	resp->body_len = 0;
	strbuf_reset(&resp->body);
	strbuf_reset(&resp->headers);
	FREE_AND_NULL(resp->effective_url);

	range[0] = '\0';
	if (opt->range_from >= 0 && snprintf(range, sizeof(range), "%lld-",
	    opt->range_from) >= (int)sizeof(range)) {
		err_prefix(err, method, url);
		strbuf_addstr(err, "bad range");
		return HTTP_PERM;
	}
	if ((c = get_handle()) == NULL) {
		err_prefix(err, method, url);
		strbuf_addstr(err, "cannot initialise libcurl");
		return HTTP_TEMP;
	}
	memset(&x, 0, sizeof(x));
	x.opt = opt;
	x.resp = resp;
	x.max_body = opt->max_body ? opt->max_body : DEFAULT_MAX_BODY;
	x.in_fd = in_fd;
	ebuf[0] = '\0';

	for (i = 0; opt->headers != NULL && opt->headers[i] != NULL; i++)
		if ((h = curl_slist_append(hdrs, opt->headers[i])) != NULL)
			hdrs = h;
		else
			bad = 1;
	if (ctype != NULL) {
		strbuf_addf(&line, "Content-Type: %s", ctype);
		if ((h = curl_slist_append(hdrs, line.buf)) != NULL)
			hdrs = h;
		else
			bad = 1;
		strbuf_release(&line);
	}
	if (body != NULL || in_fd >= 0) {
		/* no 100-continue round trip; Go's client does not wait */
		if ((h = curl_slist_append(hdrs, "Expect:")) != NULL)
			hdrs = h;
		else
			bad = 1;
	}
	if (bad) {
		curl_slist_free_all(hdrs);
		err_prefix(err, method, url);
		strbuf_addstr(err, "out of memory");
		return HTTP_TEMP;
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "buildfarm/" BF_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
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
		curl_easy_setopt(c, CURLOPT_RANGE, range);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	} else if (in_fd >= 0) {
		/* no size given: libcurl sends HTTP/1.1 chunked */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	}

	rc = curl_easy_perform(c);

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK &&
	    s != NULL)
		resp->effective_url = xstrdup(s);
	/* nothing may point at our stack or at hdrs once we return */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);

	if (rc == CURLE_OK) {
		cls = status_class(resp->status, opt->ok_304);
		if (cls != HTTP_OK) {
			err_prefix(err, method, url);
			strbuf_addf(err, "HTTP %ld", resp->status);
			if (!x.to_sink)
				add_snippet(err, &resp->body);
		}
		return cls;
	}
	/*
	 * A refusal that arrived while we were still sending, or an error
	 * status whose body was too big to keep: the status is the news.
	 */
	if (resp->status >= 300 && (x.over_cap || rc == CURLE_SEND_ERROR)) {
		err_prefix(err, method, url);
		strbuf_addf(err, "HTTP %ld", resp->status);
		return status_class(resp->status, opt->ok_304);
	}
	err_prefix(err, method, url);
	if (x.over_cap) {
		strbuf_addf(err, "response body over %zu bytes", x.max_body);
		return HTTP_PERM;
	}
	if (x.hdr_over) {
		strbuf_addf(err, "response headers over %d bytes",
		    MAX_HEADERS);
		return HTTP_PERM;
	}
	if (x.sink_errno) {
		strbuf_addf(err, "write: %s", strerror(x.sink_errno));
		return HTTP_TEMP;
	}
	if (x.read_errno) {
		strbuf_addf(err, "read request body: %s",
		    strerror(x.read_errno));
		return HTTP_TEMP;
	}
	if (ebuf[0] != '\0') {
		size_t n = strlen(ebuf);

		while (n > 0 && (ebuf[n - 1] == '\n' || ebuf[n - 1] == '\r'))
			n--;
		log_escape(err, ebuf, n);
	} else
		strbuf_addstr(err, curl_easy_strerror(rc));
	return curl_class(rc);
}

enum http_class
http_get(const char *url, const struct http_opt *opt, struct http_resp *resp,
    struct strbuf *err)
{
	return perform("GET", url, NULL, NULL, 0, -1, opt, resp, err);
}

enum http_class
http_post(const char *url, const char *ctype, const void *body, size_t len,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err)
{
	/* POSTFIELDS must not be NULL or libcurl reads the body elsewhere */
	return perform("POST", url, ctype, body != NULL ? body : "", len, -1,
	    opt, resp, err);
}

enum http_class
http_put_fd(const char *url, const char *ctype, int fd,
    const struct http_opt *opt, struct http_resp *resp, struct strbuf *err)
{
	if (fd < 0) {
		err_prefix(err, "PUT", url);
		strbuf_addstr(err, "no request body");
		return HTTP_PERM;
	}
	return perform("PUT", url, ctype, NULL, 0, fd, opt, resp, err);
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

void
http_urlencode(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	/* what curl_easy_escape does, without needing a handle */
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			strbuf_addch(out, *p);
		else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[*p >> 4]);
			strbuf_addch(out, hex[*p & 15]);
		}
	}
}
