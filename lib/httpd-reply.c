#include "compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "httpd-int.h"
#include "num.h"
#include "strbuf.h"
#include "xmalloc.h"

#define STREAM_BLOCK		(32 * 1024)

/*
 * A streamed response.  It belongs to the MHD response and is freed by
 * its free callback, which libmicrohttpd may run after the request
 * (and so req) is gone; req is only used from inside read().
 */
struct stream {
	ssize_t (*read)(void *arg, char *buf, size_t max);
	void (*done)(void *arg, int closed);
	void *arg;
	struct httpd_req *req;
	int eof;
};

/* ---- replies ---- */

/* Record r as the reply; a second reply is a bug and is dropped. */
void
httpd_set_reply(struct httpd_req *req, int status, struct MHD_Response *r,
    long long bytes)
{
	if (r == NULL)
		return;		/* out of memory: the client gets 500 */
	if (req->replied) {
		MHD_destroy_response(r);
		return;
	}
	req->replied = 1;
	req->resp = r;
	req->status = status;
	req->bytes = bytes;
}

static struct MHD_Response *
buffer_response(const char *ctype, const void *body, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)(len ? body : ""),
	    MHD_RESPMEM_MUST_COPY);
	if (r != NULL && ctype != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	return r;
}

void
httpd_reply(struct httpd_req *req, int status, const char *ctype,
    const void *body, size_t len)
{
	if (req->replied)
		return;
	httpd_set_reply(req, status, buffer_response(ctype, body, len),
	    (long long)len);
}

void
httpd_replyf(struct httpd_req *req, int status, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	httpd_reply(req, status, NULL, sb.buf, sb.len);
	strbuf_release(&sb);
}

void
httpd_error(struct httpd_req *req, int status, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;
	struct MHD_Response *r;

	if (req->replied)
		return;
	strbuf_addf(&sb, "%s\n", msg);
	r = buffer_response(TEXT_PLAIN, sb.buf, sb.len);
	if (r != NULL)
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	httpd_set_reply(req, status, r, (long long)sb.len);
	strbuf_release(&sb);
}

void
httpd_reply_auth(struct httpd_req *req, const char *realm)
{
	struct strbuf v = STRBUF_INIT;
	const char *p;

	strbuf_addstr(&v, "Basic realm=\"");
	for (p = realm; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addch(&v, '\\');
		if ((unsigned char)*p >= 0x20 && *p != 0x7f)
			strbuf_addch(&v, *p);
	}
	strbuf_addch(&v, '"');
	httpd_add_header(req, "WWW-Authenticate", v.buf);
	strbuf_release(&v);
	httpd_error(req, 401, "unauthorized");
}

/*
 * One range of "bytes=a-b", "bytes=a-" or "bytes=-n" against size.
 * Returns 1 with [*a, *b] set, 0 to ignore the header (malformed or
 * several ranges: RFC 9110 lets us send the whole thing), -1 when
 * unsatisfiable.
 */
static int
parse_range(const char *s, off_t size, off_t *a, off_t *b)
{
	uint64_t x, y;
	const char *dash;
	char num[24];
	size_t n;

	if (strncasecmp(s, "bytes=", 6) != 0)
		return 0;
	s += 6;
	while (*s == ' ')
		s++;
	if (strchr(s, ',') != NULL || (dash = strchr(s, '-')) == NULL)
		return 0;
	n = strcspn(dash + 1, " ");
	if (dash[1 + n + strspn(dash + 1 + n, " ")] != '\0')
		return 0;
	if (dash == s) {
		/* suffix: the last n bytes */
		if (n == 0 || n >= sizeof(num))
			return 0;
		memcpy(num, dash + 1, n);
		num[n] = '\0';
		if (num_parse_u64(num, 0, INT64_MAX, &y) == -1)
			return 0;
		if (y == 0 || size == 0)
			return -1;
		*a = (uint64_t)size > y ? size - (off_t)y : 0;
		*b = size - 1;
		return 1;
	}
	if ((size_t)(dash - s) >= sizeof(num))
		return 0;
	memcpy(num, s, (size_t)(dash - s));
	num[dash - s] = '\0';
	if (num_parse_u64(num, 0, INT64_MAX, &x) == -1)
		return 0;
	if (n == 0)
		y = UINT64_MAX;
	else {
		if (n >= sizeof(num))
			return 0;
		memcpy(num, dash + 1, n);
		num[n] = '\0';
		if (num_parse_u64(num, 0, UINT64_MAX, &y) == -1 || y < x)
			return 0;
	}
	if (x >= (uint64_t)size)
		return -1;
	*a = (off_t)x;
	*b = y >= (uint64_t)size ? size - 1 : (off_t)y;
	return 1;
}

void
httpd_reply_fd(struct httpd_req *req, int status, const char *ctype,
    int fd, off_t off, off_t len, int flags)
{
	struct MHD_Response *r;
	const char *rh;
	char cr[80];
	off_t a = 0, b = 0;
	int pr = 0;

	if (req->replied || off < 0 || len < 0) {
		close(fd);
		return;
	}
	if ((flags & HTTPD_RANGE) && status == 200 &&
	    (rh = httpd_header(req, "Range")) != NULL)
		pr = parse_range(rh, len, &a, &b);
	if (pr == -1) {
		close(fd);
		httpd_error(req, 416, "requested range not satisfiable");
		if (req->resp != NULL) {
			snprintf(cr, sizeof(cr), "bytes */%lld",
			    (long long)len);
			MHD_add_response_header(req->resp,
			    MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			MHD_add_response_header(req->resp,
			    MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
		}
		return;
	}
	if (pr == 1) {
		if (snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld",
		    (long long)a, (long long)b, (long long)len) >=
		    (int)sizeof(cr)) {
			close(fd);
			return;
		}
		status = 206;
		off += a;
		len = b - a + 1;
	}
	if (len == 0) {
		close(fd);
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	} else if ((r = MHD_create_response_from_fd_at_offset64(
	    (uint64_t)len, fd, (uint64_t)off)) == NULL)
		close(fd);
	if (r == NULL)
		return;
	if (ctype != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	if (flags & HTTPD_RANGE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES,
		    "bytes");
	if (pr == 1)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	httpd_set_reply(req, status, r, (long long)len);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	ssize_t n;

	(void)pos;
	n = st->read(st->arg, buf, max);
	httpd_req_touch(st->req);
	if (n > 0 && (size_t)n <= max) {
		st->req->bytes += n;
		return n;
	}
	if (n == 0) {
		st->eof = 1;
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
stream_free(void *cls)
{
	struct stream *st = cls;

	if (st->done != NULL)
		st->done(st->arg, !st->eof);
	free(st);
}

void
httpd_reply_stream(struct httpd_req *req, int status, const char *ctype,
    ssize_t (*read)(void *arg, char *buf, size_t max),
    void (*done)(void *arg, int closed), void *arg)
{
	struct MHD_Response *r;
	struct stream *st;

	if (req->replied) {
		if (done != NULL)
			done(arg, 1);
		return;
	}
	st = xcalloc(1, sizeof(*st));
	st->read = read;
	st->done = done;
	st->arg = arg;
	st->req = req;
	/* unknown size on HTTP/1.1: MHD sends it chunked, headers first */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
	    stream_read, st, stream_free);
	if (r == NULL) {
		stream_free(st);
		return;
	}
	if (ctype != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	httpd_set_reply(req, status, r, 0);
}

void
httpd_stream_trailer(struct httpd_req *req, const char *name,
    const char *value)
{
	/* called from read(), while the response is being sent */
	if (req->live != NULL)
		MHD_add_response_footer(req->live, name, value);
}
