/*
 * u-http: lib/http.c against lib/httpd.c, both for real, on 127.0.0.1
 * with ephemeral ports.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "http.h"
#include "httpd.h"
#include "strbuf.h"
#include "tap.h"
#include "xmalloc.h"

#define PUT_SIZE	(20 * 1024 * 1024)
#define FILE_SIZE	10000

static struct httpd *srv;
static int port;
static char tmpdir[64];
static char filepath[128];
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf logbuf = STRBUF_INIT;

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char *
url(const char *path)
{
	static char buf[8][256];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "http://127.0.0.1:%d%s", port, path);
	return b;
}

/* ---- the server side ---- */

struct chunks {
	const char *const *parts;
	int i;
	int sleep_ms;		/* before the first chunk */
	int fail_at;		/* read returns -1 at this index; -1: never */
	struct httpd_req *req;
	int *done_flag;
};

static int stream_done_closed = -1;

static ssize_t
chunks_read(void *arg, char *buf, size_t max)
{
	struct chunks *c = arg;
	size_t n;

	if (c->sleep_ms && c->i == 0)
		usleep((useconds_t)c->sleep_ms * 1000);
	if (c->i == c->fail_at)
		return -1;
	if (c->parts[c->i] == NULL) {
		httpd_stream_trailer(c->req, "Process-State", "ok");
		return 0;
	}
	n = strlen(c->parts[c->i]);
	if (n > max)
		n = max;
	memcpy(buf, c->parts[c->i++], n);
	return (ssize_t)n;
}

static void
chunks_done(void *arg, int closed)
{
	struct chunks *c = arg;

	if (c->done_flag != NULL)
		__atomic_store_n(c->done_flag, closed, __ATOMIC_SEQ_CST);
	free(c);
}

static void
reply_stream(struct httpd_req *req, int sleep_ms, int fail_at)
{
	static const char *const parts[] = { "chunk1,", "chunk2", NULL };
	struct chunks *c = xcalloc(1, sizeof(*c));

	c->parts = parts;
	c->sleep_ms = sleep_ms;
	c->fail_at = fail_at;
	c->req = req;
	c->done_flag = sleep_ms || fail_at >= 0 ? NULL : &stream_done_closed;
	httpd_add_header(req, "Trailer", "Process-State");
	httpd_reply_stream(req, 200, NULL, chunks_read, chunks_done, c);
}

static void *
echo_main(void *arg)
{
	struct httpd_upgrade *up = arg;
	int fd = httpd_upgrade_fd(up);
	const void *extra;
	char buf[256];
	size_t len;
	ssize_t n;

	extra = httpd_upgrade_extra(up, &len);
	if (send(fd, extra, len, MSG_NOSIGNAL) == (ssize_t)len)
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
				break;
	httpd_upgrade_close(up);
	return NULL;
}

/* the upgraded connection gets a thread of its own */
static void
echo_fn(struct httpd_upgrade *up, int fd, void *arg)
{
	pthread_t t;

	(void)fd;
	(void)arg;
	if (up != NULL && pthread_create(&t, NULL, echo_main, up) == 0)
		pthread_detach(t);
	else if (up != NULL)
		httpd_upgrade_close(up);
}

static void
serve_put(struct httpd_req *req)
{
	struct hash *h = hash_new(HASH_SHA256);
	char hex[HASH_HEX_MAX], *buf = xmalloc(65536);
	const char *te = httpd_header(req, "Transfer-Encoding");
	long long total = 0;
	size_t blen;
	ssize_t n;
	int fd = httpd_body_fd(req);

	while ((n = read(fd, buf, 65536)) > 0) {
		hash_update(h, buf, (size_t)n);
		total += n;
	}
	hash_hex(h, hex);
	hash_free(h);
	free(buf);
	httpd_body(req, &blen);
	httpd_replyf(req, n == 0 ? 200 : 500,
	    "%s %lld te=%s cl=%s buffered=%zu", hex, total, te ? te : "-",
	    httpd_header(req, "Content-Length") ? "yes" : "no", blen);
}

/* What the handler of an aborted upload saw: bytes, then errno. */
static int abort_bytes = -1, abort_errno = -1;

static void
serve_putabort(struct httpd_req *req)
{
	char buf[256];
	ssize_t n;
	int total = 0;

	while ((n = read(httpd_body_fd(req), buf, sizeof(buf))) > 0)
		total += (int)n;
	__atomic_store_n(&abort_bytes, total, __ATOMIC_SEQ_CST);
	__atomic_store_n(&abort_errno, n == 0 ? 0 : errno, __ATOMIC_SEQ_CST);
	httpd_replyf(req, 200, "%d", total);
}

static void
join_vals(struct httpd_req *req, const char *key, struct strbuf *out)
{
	const char *const *v;
	size_t i, n;

	n = httpd_form_all(req, key, &v);
	strbuf_addf(out, "%s=", key);
	for (i = 0; i < n; i++)
		strbuf_addf(out, "%s[%s]", i ? "," : "", v[i]);
	strbuf_addch(out, ' ');
}

/* /block holds its request until the test lets go (or 10 s pass). */
static int block_release;

static void
block_wait(void)
{
	long long t0 = now_ms();

	while (!__atomic_load_n(&block_release, __ATOMIC_SEQ_CST) &&
	    now_ms() - t0 < 10000)
		usleep(10 * 1000);
}

static void
handler(struct httpd_req *req, void *arg)
{
	const char *p = httpd_path(req), *s;
	struct strbuf sb = STRBUF_INIT;
	char *user, *pass;
	size_t len;
	int fd;

	(void)arg;
	if (strcmp(p, "/qall") == 0) {
		const char *k, *v;
		size_t i;

		for (i = 0; httpd_query_at(req, i, &k, &v) == 0; i++)
			strbuf_addf(&sb, "%s=%s;", k, v ? v : "(null)");
		httpd_reply(req, 200, NULL, sb.buf, sb.len);
	} else if (strcmp(p, "/q") == 0) {
		join_vals(req, "a", &sb);
		s = httpd_query(req, "b");
		strbuf_addf(&sb, "b=%s", s ? s : "(none)");
		httpd_reply(req, 200, NULL, sb.buf, sb.len);
	} else if (strcmp(p, "/form") == 0) {
		join_vals(req, "cmd", &sb);
		join_vals(req, "e", &sb);
		join_vals(req, "k", &sb);
		s = httpd_form(req, "mode");
		strbuf_addf(&sb, "mode=%s ", s ? s : "(none)");
		s = httpd_form(req, "fromq");
		strbuf_addf(&sb, "fromq=%s", s ? s : "(none)");
		httpd_reply(req, 200, NULL, sb.buf, sb.len);
	} else if (strcmp(p, "/body") == 0) {
		httpd_body(req, &len);
		httpd_replyf(req, 200, "%zu", len);
	} else if (strcmp(p, "/status") == 0) {
		s = httpd_query(req, "code");
		httpd_error(req, s ? atoi(s) : 500, "status page");
	} else if (strcmp(p, "/big") == 0) {
		strbuf_grow(&sb, 100000);
		memset(sb.buf, 'x', 100000);
		strbuf_setlen(&sb, 100000);
		httpd_reply(req, 200, "application/octet-stream", sb.buf,
		    sb.len);
	} else if (strcmp(p, "/file") == 0) {
		fd = open(filepath, O_RDONLY);
		httpd_reply_fd(req, 200, "application/octet-stream", fd, 0,
		    FILE_SIZE, HTTPD_RANGE);
	} else if (strcmp(p, "/stream") == 0)
		reply_stream(req, 0, -1);
	else if (strcmp(p, "/slowstream") == 0)
		reply_stream(req, 1000, -1);
	else if (strcmp(p, "/veryslow") == 0)
		reply_stream(req, 1300, -1);
	else if (strcmp(p, "/die") == 0)
		reply_stream(req, 0, 1);
	else if (strcmp(p, "/json") == 0) {
		httpd_add_header(req, "Content-Type", "application/json");
		httpd_add_header(req, "X-Extra", "1");
		httpd_reply(req, 200, NULL, "{}", 2);
	} else if (strcmp(p, "/peer") == 0)
		httpd_replyf(req, 200, "%s", httpd_peer(req));
	else if (strcmp(p, "/sleep") == 0) {
		sleep(1);
		httpd_replyf(req, 200, "slept");
	} else if (strcmp(p, "/put") == 0)
		serve_put(req);
	else if (strcmp(p, "/putabort") == 0)
		serve_putabort(req);
	else if (strcmp(p, "/putnoread") == 0)
		httpd_replyf(req, 200, "ignored");
	else if (strcmp(p, "/up") == 0)
		httpd_reply_upgrade(req, "echo", echo_fn, NULL);
	else if (strcmp(p, "/auth") == 0) {
		if (httpd_basic_auth(req, &user, &pass) == 0 &&
		    strcmp(pass, "s3cret") == 0)
			httpd_replyf(req, 200, "user=%s", user);
		else
			httpd_reply_auth(req, "test");
		if (user != NULL) {
			bf_wipe(pass, strlen(pass));
			free(user);
			free(pass);
		}
	} else if (strcmp(p, "/method") == 0) {
		httpd_body(req, &len);
		s = httpd_header(req, "Content-Type");
		httpd_replyf(req, 200, "%s %zu %s", httpd_method(req), len,
		    s ? s : "-");
	} else if (strcmp(p, "/cookie") == 0) {
		s = httpd_header(req, "Cookie");
		httpd_add_header(req, "Set-Cookie", "fromserver=1; Path=/");
		httpd_replyf(req, 200, "%s", s ? s : "(none)");
	} else if (strcmp(p, "/block") == 0) {
		block_wait();
		httpd_replyf(req, 200, "released");
	} else if (strcmp(p, "/redir") == 0) {
		httpd_add_header(req, "Location", "/q?a=r");
		httpd_reply(req, 302, NULL, "moved\n", 6);
	} else if (strcmp(p, "/none") == 0)
		;	/* no reply at all: the wrapper sends 500 */
	else
		httpd_error(req, 404, "404 page not found");
	strbuf_release(&sb);
}

static enum httpd_body_mode
body_mode(struct httpd_req *req, void *arg)
{
	(void)arg;
	return strncmp(httpd_path(req), "/put", 4) == 0 ? HTTPD_BODY_PIPE :
	    HTTPD_BODY_BUFFER;
}

static void
log_line(const char *line, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&log_mu);
	strbuf_addf(&logbuf, "%s\n", line);
	pthread_mutex_unlock(&log_mu);
}

/* ---- raw socket helpers ---- */

static int
dial(int p)
{
	struct sockaddr_in sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)p);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read into sb until it contains want (or EOF/timeout); 0 if found. */
static int
read_until(int fd, struct strbuf *sb, const char *want, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	struct pollfd pfd;
	char buf[4096];
	ssize_t n;

	while (memmem(sb->buf, sb->len, want, strlen(want)) == NULL) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return -1;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			return -1;
		strbuf_add(sb, buf, (size_t)n);
	}
	return 0;
}

/* 0 when the peer closes within timeout_ms (after any data). */
static int
wait_eof(int fd, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	struct pollfd pfd;
	char buf[256];
	ssize_t n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			return -1;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			return 0;
	}
}

/* ---- tests ---- */

static void
t_query(void)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, h = STRBUF_INIT;

	check_int(http_get(url("/q?a=1&b=x+y%21&a=2&a="), NULL, &r, &err),
	    ==, HTTP_OK);
	check_int(r.status, ==, 200);
	check_str(r.body.buf, "a=[1],[2],[] b=x y!");
	check_int(r.body_len, ==, (long long)r.body.len);
	check_str(err.buf, "");
	/* every parameter in request order, for a proxy */
	check_int(http_get(url("/qall?a=1&b=x+y%21&a=2&a="), NULL, &r, &err),
	    ==, HTTP_OK);
	check_str(r.body.buf, "a=1;b=x y!;a=2;a=;");
	/* a Content-Type set by the handler beats the default */
	check_int(http_get(url("/json"), NULL, &r, &err), ==, HTTP_OK);
	check_int(http_resp_header(&r, "Content-Type", &h), ==, 0);
	check_str(h.buf, "application/json");
	check_int(http_resp_header(&r, "x-extra", &h), ==, 0);
	check_str(h.buf, "1");
	check_int(http_resp_header(&r, "X-Missing", &h), ==, -1);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&h);
}

static void
t_form(void)
{
	static const char body[] = "cmd=go&cmd=test+-short&e=&mode=a%26b"
	    "&cmd=%C3%A9&k&cmd=last";
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, ct = STRBUF_INIT;

	check_int(http_post(url("/form?fromq=yes&mode=fromquery"),
	    "application/x-www-form-urlencoded", body, strlen(body), NULL,
	    &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "cmd=[go],[test -short],[\xc3\xa9],[last] "
	    "e=[] k=[] mode=a&b fromq=yes");
	check_int(http_resp_header(&r, "content-type", &ct), ==, 0);
	check_str(ct.buf, "text/plain; charset=utf-8");
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&ct);
}

static void
t_body_cap(void)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, big = STRBUF_INIT;

	strbuf_grow(&big, 5000);
	memset(big.buf, 'z', 5000);
	strbuf_setlen(&big, 5000);
	/* cap is 4096 in this server */
	check_int(http_post(url("/body"), "application/octet-stream", big.buf,
	    4096, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "4096");
	check_int(http_post(url("/body"), "application/octet-stream", big.buf,
	    big.len, NULL, &r, &err), ==, HTTP_PERM);
	check_int(r.status, ==, 413);
	check_str(r.body.buf, "request body too large\n");
	check(strstr(err.buf, "HTTP 413") != NULL);
	/* the connection is still good for the next request */
	strbuf_reset(&err);
	check_int(http_get(url("/q?b=1"), NULL, &r, &err), ==, HTTP_OK);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&big);
}

static void
t_classes(void)
{
	static const struct {
		int code;
		enum http_class cls;
	} cases[] = {
		{ 400, HTTP_PERM }, { 401, HTTP_AUTH }, { 403, HTTP_AUTH },
		{ 404, HTTP_NOTFOUND }, { 410, HTTP_NOTFOUND },
		{ 408, HTTP_TEMP }, { 429, HTTP_TEMP }, { 500, HTTP_TEMP },
		{ 503, HTTP_TEMP }, { 418, HTTP_PERM }, { 304, HTTP_PERM },
	};
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, u = STRBUF_INIT, h = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&u);
		strbuf_addf(&u, "/status?code=%d", cases[i].code);
		strbuf_reset(&err);
		if (!check_int(http_get(url(u.buf), NULL, &r, &err), ==,
		    cases[i].cls))
			test_msg("code %d: %s", cases[i].code, err.buf);
		check_int(r.status, ==, cases[i].code);
	}
	/* the message: URL, status, first line of the body */
	strbuf_reset(&err);
	http_get(url("/status?code=503"), NULL, &r, &err);
	strbuf_reset(&u);
	strbuf_addf(&u, "GET '%s': HTTP 503: status page",
	    url("/status?code=503"));
	check_str(err.buf, u.buf);
	/* Go's http.Error headers */
	check_int(http_resp_header(&r, "X-Content-Type-Options", &h), ==, 0);
	check_str(h.buf, "nosniff");
	/* no password in messages */
	strbuf_reset(&u);
	strbuf_addf(&u, "http://user:hunter2@127.0.0.1:%d/status?code=503",
	    port);
	strbuf_reset(&err);
	check_int(http_get(u.buf, NULL, &r, &err), ==, HTTP_TEMP);
	check(strstr(err.buf, "hunter2") == NULL);
	check(strstr(err.buf, "user") == NULL);
	check(strstr(err.buf, "127.0.0.1") != NULL);
	/* 304 is success only when asked for */
	opt.ok_304 = 1;
	strbuf_reset(&err);
	check_int(http_get(url("/status?code=304"), &opt, &r, &err), ==,
	    HTTP_OK);
	check_str(err.buf, "");
	/* 404 for an unknown path; a handler that forgot to reply: 500 */
	check_int(http_get(url("/nope"), NULL, &r, &err), ==, HTTP_NOTFOUND);
	check_int(http_get(url("/none"), NULL, &r, &err), ==, HTTP_TEMP);
	check_int(r.status, ==, 500);
	/* a redirect is followed for GET */
	check_int(http_get(url("/redir"), NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "a=[r] b=(none)");
	check(r.effective_url != NULL &&
	    strstr(r.effective_url, "/q?a=r") != NULL);
	check_int(http_class_rc(HTTP_OK), ==, 0);
	check_int(http_class_rc(HTTP_NOTFOUND), ==, 100);
	check_int(http_class_rc(HTTP_AUTH), ==, 100);
	check_int(http_class_rc(HTTP_PERM), ==, 100);
	check_int(http_class_rc(HTTP_TEMP), ==, 111);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&u);
	strbuf_release(&h);
}

static void
t_transport(void)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, u = STRBUF_INIT;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, dead;

	/* the server dies in the middle of the body */
	check_int(http_get(url("/die"), NULL, &r, &err), ==, HTTP_TEMP);
	check_int(r.status, ==, 200);
	test_msg("mid-body: %s", err.buf);
	/* nothing listening */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	dead = ntohs(sa.sin_port);
	close(fd);
	strbuf_addf(&u, "http://127.0.0.1:%d/", dead);
	strbuf_reset(&err);
	check_int(http_get(u.buf, NULL, &r, &err), ==, HTTP_TEMP);
	check_int(r.status, ==, 0);
	test_msg("refused: %s", err.buf);
	/* body over the client's cap */
	opt.max_body = 1000;
	strbuf_reset(&err);
	check_int(http_get(url("/big"), &opt, &r, &err), ==, HTTP_PERM);
	check(strstr(err.buf, "response body over 1000 bytes") != NULL);
	opt.max_body = 0;
	strbuf_reset(&err);
	check_int(http_get(url("/big"), &opt, &r, &err), ==, HTTP_OK);
	check_int(r.body.len, ==, 100000);
	/* malformed URL, wrong scheme */
	strbuf_reset(&err);
	check_int(http_get("http://[::1", NULL, &r, &err), ==, HTTP_PERM);
	check_int(http_get("ftp://127.0.0.1/", NULL, &r, &err), ==,
	    HTTP_PERM);
	/* a timeout */
	opt.timeout_ms = 200;
	strbuf_reset(&err);
	check_int(http_get(url("/sleep"), &opt, &r, &err), ==, HTTP_TEMP);
	test_msg("timeout: %s", err.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&u);
}

static void
t_range(void)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, h = STRBUF_INIT, want = STRBUF_INIT;
	const char *hdrs[2] = { NULL, NULL };
	int i;

	for (i = 0; i < FILE_SIZE; i++)
		strbuf_addch(&want, 'a' + i % 26);
	check_int(http_get(url("/file"), NULL, &r, &err), ==, HTTP_OK);
	check_int(r.status, ==, 200);
	check_int(r.body.len, ==, FILE_SIZE);
	check(r.body.len == want.len &&
	    memcmp(r.body.buf, want.buf, want.len) == 0);
	check_int(http_resp_header(&r, "Accept-Ranges", &h), ==, 0);
	check_str(h.buf, "bytes");

	opt.range_from = 9990;
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_OK);
	check_int(r.status, ==, 206);
	check_int(r.body.len, ==, 10);
	check(memcmp(r.body.buf, want.buf + 9990, 10) == 0);
	check_int(http_resp_header(&r, "Content-Range", &h), ==, 0);
	check_str(h.buf, "bytes 9990-9999/10000");

	opt.range_from = -1;
	hdrs[0] = "Range: bytes=100-104";
	opt.headers = hdrs;
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_OK);
	check_int(r.status, ==, 206);
	check_int(r.body.len, ==, 5);
	check(memcmp(r.body.buf, want.buf + 100, 5) == 0);

	hdrs[0] = "Range: bytes=-3";
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_OK);
	check_int(r.status, ==, 206);
	check(r.body.len == 3 && memcmp(r.body.buf, want.buf + 9997, 3) == 0);

	hdrs[0] = "Range: bytes=9999-20000";
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_OK);
	check(r.status == 206 && r.body.len == 1);

	hdrs[0] = "Range: bytes=10000-";
	strbuf_reset(&err);
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_PERM);
	check_int(r.status, ==, 416);
	check_int(http_resp_header(&r, "Content-Range", &h), ==, 0);
	check_str(h.buf, "bytes */10000");

	/* malformed or multiple ranges: the whole file */
	hdrs[0] = "Range: bytes=1-2,5-6";
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_OK);
	check(r.status == 200 && r.body.len == FILE_SIZE);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&h);
	strbuf_release(&want);
}

static void
t_sink(void)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT, path = STRBUF_INIT;
	int fd;

	strbuf_addf(&path, "%s/sink", tmpdir);
	fd = open(path.buf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	opt.sink_fd = fd;
	opt.range_from = 5000;
	check_int(http_get(url("/file"), &opt, &r, &err), ==, HTTP_OK);
	check_int(r.status, ==, 206);
	check_int(r.body.len, ==, 0);
	check_int(r.body_len, ==, 5000);
	lseek(fd, 0, SEEK_SET);
	strbuf_read_fd(&got, fd, 0);
	check_int(got.len, ==, 5000);
	check(got.len == 5000 && got.buf[0] == 'a' + 5000 % 26);
	/* an error page never lands in the sink */
	opt.range_from = -1;
	check_int(http_get(url("/status?code=404"), &opt, &r, &err), ==,
	    HTTP_NOTFOUND);
	check_int(lseek(fd, 0, SEEK_END), ==, 5000);
	check_str(r.body.buf, "status page\n");
	close(fd);
	unlink(path.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&got);
	strbuf_release(&path);
}

static void
t_stream(void)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, h = STRBUF_INIT, raw = STRBUF_INIT;
	long long t0;
	int fd;

	__atomic_store_n(&stream_done_closed, -1, __ATOMIC_SEQ_CST);
	check_int(http_get(url("/stream"), NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "chunk1,chunk2");
	check_int(http_resp_header(&r, "Transfer-Encoding", &h), ==, 0);
	check_str(h.buf, "chunked");
	check_int(http_resp_header(&r, "process-state", &h), ==, 0);
	check_str(h.buf, "ok");
	/* done() runs when MHD lets go of the response, maybe a bit later */
	t0 = now_ms();
	while (__atomic_load_n(&stream_done_closed, __ATOMIC_SEQ_CST) == -1 &&
	    now_ms() - t0 < 2000)
		usleep(1000);
	check_int(__atomic_load_n(&stream_done_closed, __ATOMIC_SEQ_CST), ==,
	    0);

	/* headers arrive before the first (slow) read() returns */
	if (!check((fd = dial(port)) >= 0))
		return;
	t0 = now_ms();
	dprintf(fd, "GET /slowstream HTTP/1.1\r\nHost: x\r\n\r\n");
	check_int(read_until(fd, &raw, "\r\n\r\n", 3000), ==, 0);
	check_int(now_ms() - t0, <, 500);
	check(strncmp(raw.buf, "HTTP/1.1 200", 12) == 0);
	check_int(read_until(fd, &raw, "Process-State: ok", 3000), ==, 0);
	check_int(now_ms() - t0, >=, 900);
	close(fd);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&h);
	strbuf_release(&raw);
}

static void
t_keepalive(void)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, first = STRBUF_INIT;

	check_int(http_get(url("/peer"), NULL, &r, &err), ==, HTTP_OK);
	strbuf_addstr(&first, r.body.buf);
	check(strncmp(first.buf, "127.0.0.1:", 10) == 0);
	check_int(http_get(url("/peer"), NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, first.buf);
	/* and after a POST and a PUT-less error page */
	check_int(http_post(url("/body"), "text/plain", "abc", 3, NULL, &r,
	    &err), ==, HTTP_OK);
	check_int(http_get(url("/status?code=404"), NULL, &r, &err), ==,
	    HTTP_NOTFOUND);
	check_int(http_get(url("/peer"), NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, first.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&first);
}

static void
t_pipe_put(void)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT, path = STRBUF_INIT;
	struct hash *h = hash_new(HASH_SHA256);
	char hex[HASH_HEX_MAX], *buf;
	uint32_t x = 12345;
	size_t i;
	int fd;

	buf = xmalloc(PUT_SIZE);
	for (i = 0; i < PUT_SIZE; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (char)(x >> 16);
	}
	hash_update(h, buf, PUT_SIZE);
	hash_hex(h, hex);
	hash_free(h);
	strbuf_addf(&path, "%s/put", tmpdir);
	fd = open(path.buf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	check_int(write(fd, buf, PUT_SIZE), ==, PUT_SIZE);
	free(buf);
	lseek(fd, 0, SEEK_SET);
	check_int(http_put_fd(url("/put"), "application/octet-stream", fd,
	    NULL, &r, &err), ==, HTTP_OK);
	strbuf_addf(&want, "%s %d te=chunked cl=no buffered=0", hex,
	    PUT_SIZE);
	check_str(r.body.buf, want.buf);
	check_str(err.buf, "");
	close(fd);
	unlink(path.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&want);
	strbuf_release(&path);
}

struct bg {
	const char *url;
	enum http_class cls;
	struct strbuf body;
};

static void *
bg_get(void *arg)
{
	struct bg *b = arg;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT;

	b->cls = http_get(b->url, NULL, &r, &err);
	strbuf_addstr(&b->body, r.body.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	return NULL;
}

static void
t_concurrent(void)
{
	struct bg b = { NULL, HTTP_PERM, STRBUF_INIT };
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT;
	pthread_t t;
	long long t0;

	b.url = url("/sleep");
	t0 = now_ms();
	pthread_create(&t, NULL, bg_get, &b);
	usleep(100 * 1000);
	check_int(http_get(url("/q?b=fast"), NULL, &r, &err), ==, HTTP_OK);
	check_int(now_ms() - t0, <, 600);
	check_str(r.body.buf, "a= b=fast");
	pthread_join(t, NULL);
	check_int(b.cls, ==, HTTP_OK);
	check_str(b.body.buf, "slept");
	check_int(now_ms() - t0, >=, 1000);
	strbuf_release(&b.body);
	http_resp_release(&r);
	strbuf_release(&err);
}

static void
t_upgrade(void)
{
	struct strbuf raw = STRBUF_INIT;
	int fd, i;

	for (i = 0; i < 2; i++) {
		if (!check((fd = dial(port)) >= 0))
			return;
		strbuf_reset(&raw);
		/* first round: data right behind the request (extra_in) */
		dprintf(fd, "GET /up HTTP/1.1\r\nHost: x\r\n"
		    "Connection: Upgrade\r\nUpgrade: echo\r\n\r\n%s",
		    i == 0 ? "hello\n" : "");
		check_int(read_until(fd, &raw, "\r\n\r\n", 3000), ==, 0);
		check(strncmp(raw.buf, "HTTP/1.1 101", 12) == 0);
		check(strcasestr(raw.buf, "\r\nUpgrade: echo\r\n") != NULL);
		if (i == 1)
			dprintf(fd, "hello\n");
		check_int(read_until(fd, &raw, "\r\n\r\nhello\n", 3000), ==, 0);
		dprintf(fd, "world\n");
		check_int(read_until(fd, &raw, "hello\nworld\n", 3000), ==, 0);
		shutdown(fd, SHUT_WR);
		check_int(wait_eof(fd, 3000), ==, 0);
		close(fd);
	}
	strbuf_release(&raw);
}

/* http_upgrade: the connection after the 101 is ours, nothing lost */
static void
t_http_upgrade(void)
{
	static const char *const hdrs[] = { "X-Test: 1", NULL };
	static const char *const bad[] = { "X-Test: 1\r\nX-Evil: 1", NULL };
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT;
	int fd = -1;

	opt.headers = hdrs;
	check_int(http_upgrade(NULL, url("/up"), "echo", &opt, &fd, &r, &err), ==,
	    HTTP_OK);
	check_int(r.status, ==, 101);
	if (check(fd >= 0)) {
		check_int(write(fd, "hello\n", 6), ==, 6);
		check_int(read_until(fd, &raw, "hello\n", 3000), ==, 0);
		check_str(raw.buf, "hello\n");
		shutdown(fd, SHUT_WR);
		check_int(wait_eof(fd, 3000), ==, 0);
		close(fd);
	}
	/* no 101: the class, the status and the body say why */
	strbuf_reset(&err);
	check_int(http_upgrade(NULL, url("/nothere"), "echo", &opt, &fd, &r, &err),
	    ==, HTTP_NOTFOUND);
	check_int(fd, ==, -1);
	check_int(r.status, ==, 404);
	check(strstr(err.buf, "HTTP 404: 404 page not found") != NULL);
	/* a header that would smuggle another one is refused unsent */
	opt.headers = bad;
	strbuf_reset(&err);
	check_int(http_upgrade(NULL, url("/up"), "echo", &opt, &fd, &r, &err), ==,
	    HTTP_PERM);
	/* nobody there */
	strbuf_reset(&err);
	check_int(http_upgrade(NULL, "http://127.0.0.1:1/up", "echo", NULL, &fd, &r,
	    &err), ==, HTTP_TEMP);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&raw);
}

static void
t_auth(void)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, h = STRBUF_INIT, raw = STRBUF_INIT;
	int fd;

	check_int(http_get(url("/auth"), &opt, &r, &err), ==, HTTP_AUTH);
	check_int(r.status, ==, 401);
	check_int(http_resp_header(&r, "WWW-Authenticate", &h), ==, 0);
	check_str(h.buf, "Basic realm=\"test\"");
	opt.user = "gomote";
	opt.password = "wrong";
	strbuf_reset(&err);
	check_int(http_get(url("/auth"), &opt, &r, &err), ==, HTTP_AUTH);
	check(strstr(err.buf, "wrong") == NULL);
	opt.password = "s3cret";
	check_int(http_get(url("/auth"), &opt, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "user=gomote");
	/* credentials from $NETRC */
	opt.user = opt.password = NULL;
	opt.netrc = 1;
	strbuf_reset(&h);
	strbuf_addf(&h, "%s/netrc", tmpdir);
	fd = open(h.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dprintf(fd, "machine 127.0.0.1 login netuser password s3cret\n");
	close(fd);
	setenv("NETRC", h.buf, 1);
	check_int(http_get(url("/auth"), &opt, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "user=netuser");
	unsetenv("NETRC");
	unlink(h.buf);
	/* malformed credentials are refused, not crashed on */
	if (check((fd = dial(port)) >= 0)) {
		dprintf(fd, "GET /auth HTTP/1.1\r\nHost: x\r\n"
		    "Authorization: Basic !!!=\r\nConnection: close\r\n\r\n");
		check_int(read_until(fd, &raw, "\r\n\r\n", 3000), ==, 0);
		check(strncmp(raw.buf, "HTTP/1.1 401", 12) == 0);
		close(fd);
	}
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&h);
	strbuf_release(&raw);
}

static void
t_pipe_edges(void)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT, path = STRBUF_INIT;
	char *buf;
	long long t0;
	int fd;

	/* the client goes away mid-body: the handler gets an error */
	if (check((fd = dial(port)) >= 0)) {
		dprintf(fd, "PUT /putabort HTTP/1.1\r\nHost: x\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
		usleep(100 * 1000);
		close(fd);
		t0 = now_ms();
		while (__atomic_load_n(&abort_errno, __ATOMIC_SEQ_CST) == -1 &&
		    now_ms() - t0 < 3000)
			usleep(10 * 1000);
		check_int(__atomic_load_n(&abort_bytes, __ATOMIC_SEQ_CST), ==,
		    5);
		check_int(__atomic_load_n(&abort_errno, __ATOMIC_SEQ_CST), ==,
		    ECONNRESET);
	}
	/* a handler that never reads: the wrapper drains the body */
	strbuf_addf(&path, "%s/mb", tmpdir);
	fd = open(path.buf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	buf = xcalloc(1, 1 << 20);
	check_int(write(fd, buf, 1 << 20), ==, 1 << 20);
	free(buf);
	lseek(fd, 0, SEEK_SET);
	check_int(http_put_fd(url("/putnoread"), NULL, fd, NULL, &r, &err),
	    ==, HTTP_OK);
	check_str(r.body.buf, "ignored");
	close(fd);
	unlink(path.buf);
	/* a buffered request with Expect: 100-continue, too big: 413 now */
	if (check((fd = dial(port)) >= 0)) {
		dprintf(fd, "POST /body HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
		check_int(read_until(fd, &raw, "\r\n\r\n", 3000), ==, 0);
		check(strncmp(raw.buf, "HTTP/1.1 413", 12) == 0);
		close(fd);
	}
	/* a form whose body arrives in two pieces, a value split across */
	if (check((fd = dial(port)) >= 0)) {
		struct strbuf body = STRBUF_INIT;

		strbuf_addstr(&body, "cmd=x&cmd=");
		while (body.len < 3000)
			strbuf_addstr(&body, "abcdefghij");
		strbuf_addstr(&body, "&mode=m");
		strbuf_reset(&raw);
		dprintf(fd, "POST /form HTTP/1.1\r\nHost: x\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    body.len);
		check_int(write(fd, body.buf, 1500), ==, 1500);
		usleep(50 * 1000);
		check_int(write(fd, body.buf + 1500, body.len - 1500), ==,
		    (ssize_t)body.len - 1500);
		check_int(read_until(fd, &raw, "mode=m fromq", 3000), ==, 0);
		check(strstr(raw.buf, "cmd=[x],[abcdefghij") != NULL);
		check(strstr(raw.buf, "abcdefghij] e=") != NULL);
		test_msg("form split: body %zu, reply %zu", body.len, raw.len);
		close(fd);
		strbuf_release(&body);
	}
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&raw);
	strbuf_release(&path);
}

/* ---- http_request ---- */

static void
t_methods(void)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, h = STRBUF_INIT;

	req.url = url("/method");
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "GET 0 -");
	req.method = "DELETE";
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "DELETE 0 -");
	/* a body with a method that is neither POST nor PUT */
	req.method = "PATCH";
	req.ctype = "text/plain";
	req.body = "hello";
	req.body_len = 5;
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "PATCH 5 text/plain");
	req.method = "PUT";
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "PUT 5 text/plain");
	/* POST without a body or type: Content-Length: 0, no type */
	req.method = "POST";
	req.ctype = NULL;
	req.body = NULL;
	req.body_len = 0;
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "POST 0 -");
	req.method = "HEAD";
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_int(r.status, ==, 200);
	check_int(r.body.len, ==, 0);
	check_int(http_resp_header(&r, "Content-Length", &h), ==, 0);
	check_str(h.buf, "8");	/* of "HEAD 0 -" */
	/* refused before anything is sent */
	req.method = "GET /x HTTP/1.1\r\nX-Evil: 1\r\n";
	strbuf_reset(&err);
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_PERM);
	check(strstr(err.buf, "bad method") != NULL);
	req.method = "PUT";
	req.body = "x";
	req.body_fd = 0;
	strbuf_reset(&err);
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_PERM);
	check(strstr(err.buf, "two request bodies") != NULL);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&h);
}

static void
t_body_fd(void)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;
	struct hash *h = hash_new(HASH_SHA256);
	char hex[HASH_HEX_MAX];
	int p[2];

	/* POST from a pipe: chunked, no Content-Length */
	if (!check(pipe(p) == 0))
		return;
	check_int(write(p[1], "streamed body", 13), ==, 13);
	close(p[1]);
	hash_update(h, "streamed body", 13);
	hash_hex(h, hex);
	hash_free(h);
	req.method = "POST";
	req.url = url("/put");
	req.body_fd = p[0];
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	strbuf_addf(&want, "%s 13 te=chunked cl=no buffered=0", hex);
	check_str(r.body.buf, want.buf);
	close(p[0]);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&want);
}

struct sink {
	struct strbuf got;
	int calls;
	int fail_at;		/* return -1 on this call; 0: never */
	const char *why;	/* and put this into cb_err */
	struct strbuf *cb_err;
};

static int
sink_fn(const void *buf, size_t len, void *arg)
{
	struct sink *k = arg;

	if (++k->calls == k->fail_at) {
		if (k->why != NULL)
			strbuf_addstr(k->cb_err, k->why);
		return -1;
	}
	strbuf_add(&k->got, buf, len);
	return 0;
}

/* on_head: what it saw, and whether the body had begun */
struct head {
	int calls, fail;
	long status;
	size_t body_then;
	struct sink *k;
};

static int
head_fn(const struct http_resp *resp, void *arg)
{
	struct head *hd = arg;

	hd->calls++;
	hd->status = resp->status;
	hd->body_then = hd->k->got.len;
	return hd->fail ? -1 : 0;
}

static int
head_sink_fn(const void *buf, size_t len, void *arg)
{
	return sink_fn(buf, len, ((struct head *)arg)->k);
}

static void
t_on_head(void)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT;
	struct sink k = { STRBUF_INIT, 0, 0, NULL, NULL };
	struct head hd = { 0, 0, 0, 0, &k };

	req.url = url("/stream");
	req.on_head = head_fn;
	req.on_body = head_sink_fn;
	req.arg = &hd;
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_int(hd.calls, ==, 1);	/* not again for the trailers */
	check_int(hd.status, ==, 200);
	check_int(hd.body_then, ==, 0);
	check_str(k.got.buf, "chunk1,chunk2");
	/* an error page has headers too */
	hd.calls = 0;
	req.url = url("/status?code=404");
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_NOTFOUND);
	check_int(hd.calls, ==, 1);
	check_int(hd.status, ==, 404);
	/* -1 stops the transfer before the body */
	hd.fail = 1;
	strbuf_reset(&k.got);
	strbuf_reset(&err);
	req.url = url("/stream");
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_PERM);
	check_int(k.got.len, ==, 0);
	check(strstr(err.buf, "aborted by the receiver") != NULL);
	strbuf_release(&k.got);
	http_resp_release(&r);
	strbuf_release(&err);
}

static void
t_on_body(void)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, h = STRBUF_INIT, cberr = STRBUF_INIT;
	struct sink k = { STRBUF_INIT, 0, 0, NULL, NULL };

	/* a chunked body streamed to the callback, then its trailer */
	req.url = url("/stream");
	req.on_body = sink_fn;
	req.arg = &k;
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(k.got.buf, "chunk1,chunk2");
	check_int(r.body.len, ==, 0);
	check_int(r.body_len, ==, 13);
	check_int(http_resp_header(&r, "Process-State", &h), ==, 0);
	check_str(h.buf, "ok");
	/* beyond the default cap: no cap unless the caller sets one */
	strbuf_reset(&k.got);
	req.url = url("/big");
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_int(k.got.len, ==, 100000);
	opt.max_body = 1000;
	strbuf_reset(&err);
	check_int(http_request(&req, &opt, &r, &err), ==, HTTP_PERM);
	check(strstr(err.buf, "response body over 1000 bytes") != NULL);
	/* an error page goes to resp.body, never to the callback */
	strbuf_reset(&k.got);
	k.calls = 0;
	req.url = url("/status?code=404");
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_NOTFOUND);
	check_int(k.calls, ==, 0);
	check_str(r.body.buf, "status page\n");
	/* the callback stops the transfer */
	k.fail_at = 1;
	k.calls = 0;
	req.url = url("/stream");
	strbuf_reset(&err);
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_PERM);
	check_str(err.buf + strlen(err.buf) - 23, "aborted by the receiver");
	k.calls = 0;
	k.why = "disk full";
	k.cb_err = &cberr;
	req.cb_err = &cberr;
	strbuf_reset(&err);
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_PERM);
	check(strstr(err.buf, "/stream': disk full") != NULL);
	/* and the next request is fine */
	req.on_body = NULL;
	check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "chunk1,chunk2");
	strbuf_release(&k.got);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&h);
	strbuf_release(&cberr);
}

struct canceller {
	volatile sig_atomic_t *flag;
	int after_ms;
	long long at;		/* when the flag was set */
};

static void *
cancel_later(void *arg)
{
	struct canceller *cn = arg;

	usleep((useconds_t)cn->after_ms * 1000);
	cn->at = now_ms();
	__atomic_store_n(cn->flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* GET /block or a PUT from a silent pipe, cancelled from a thread. */
static void
cancel_one(struct http_req *req, const char *what)
{
	static volatile sig_atomic_t flag;
	struct canceller cn = { &flag, 200, 0 };
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT;
	enum http_class cls;
	pthread_t t;
	long long done;

	flag = 0;
	req->cancel = &flag;
	pthread_create(&t, NULL, cancel_later, &cn);
	cls = http_request(req, NULL, &r, &err);
	done = now_ms();
	pthread_join(t, NULL);
	check_int(cls, ==, HTTP_TEMP);
	check_str(err.buf + strlen(err.buf) - 9, "cancelled");
	/* ~100 ms is the promise; a busy machine gets a few seconds */
	check_int(done - cn.at, <, 3000);
	test_msg("%s: cancelled after %lld ms", what, done - cn.at);
	check_int(done - cn.at, >=, 0);
	/* set before the call: nothing is sent */
	flag = 1;
	strbuf_reset(&err);
	check_int(http_request(req, NULL, &r, &err), ==, HTTP_TEMP);
	check(strstr(err.buf, "cancelled") != NULL);
	http_resp_release(&r);
	strbuf_release(&err);
}

static void
t_cancel(void)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT;
	int p[2];

	__atomic_store_n(&block_release, 0, __ATOMIC_SEQ_CST);
	req.url = url("/block");
	cancel_one(&req, "waiting for the response");
	/* a request body from a pipe that stays silent */
	if (check(pipe(p) == 0)) {
		req.method = "PUT";
		req.url = url("/put");
		req.body_fd = p[0];
		cancel_one(&req, "sending from a silent pipe");
		close(p[0]);
		close(p[1]);
	}
	__atomic_store_n(&block_release, 1, __ATOMIC_SEQ_CST);
	/* the thread's handle works on */
	check_int(http_get(url("/q?b=after"), NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "a= b=after");
	http_resp_release(&r);
	strbuf_release(&err);
}

/* "127.0.0.1:PORT" of fd's own end */
static void
local_addr(int fd, struct strbuf *out)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	strbuf_reset(out);
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		strbuf_addf(out, "127.0.0.1:%d", ntohs(sa.sin_port));
}

static void
t_conn_fd(void)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, me = STRBUF_INIT;
	struct sink k = { STRBUF_INIT, 0, 0, NULL, NULL };
	struct http_conn *hc;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	const char *hdrs[] = { "Connection: close", NULL };
	struct http_opt opt = HTTP_OPT_INIT;
	int fd, i, fl;

	/* the connect() of lib/http is the real one for other sockets */
	if (!check((fd = dial(port)) >= 0))
		return;
	getpeername(fd, (struct sockaddr *)&sa, &sl);
	errno = 0;
	check_int(connect(fd, (struct sockaddr *)&sa, sl), ==, -1);
	check_int(errno, ==, EISCONN);
	fl = fcntl(fd, F_GETFL);

	/* three requests over the one connection we dialled */
	local_addr(fd, &me);
	check(me.len > 0);
	if (!check((hc = http_conn_new(fd)) != NULL))
		return;
	/* a host name that does not resolve: only the Host header */
	req.url = "http://buildlet.invalid/peer";
	for (i = 0; i < 3; i++) {
		strbuf_reset(&err);
		if (!check_int(http_conn_request(hc, &req, NULL, &r, &err),
		    ==, HTTP_OK))
			test_msg("%s", err.buf);
		check_str(r.body.buf, me.buf);
	}
	/* a body, and a streamed answer with its trailer */
	req.method = "POST";
	req.url = "http://buildlet.invalid/method";
	req.ctype = "text/plain";
	req.body = "abc";
	req.body_len = 3;
	check_int(http_conn_request(hc, &req, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "POST 3 text/plain");
	req = (struct http_req)HTTP_REQ_INIT;
	req.url = "http://buildlet.invalid/stream";
	req.on_body = sink_fn;
	req.arg = &k;
	check_int(http_conn_request(hc, &req, NULL, &r, &err), ==, HTTP_OK);
	check_str(k.got.buf, "chunk1,chunk2");
	check_int(http_resp_header(&r, "Process-State", &k.got), ==, 0);
	check_str(k.got.buf, "ok");
	http_conn_free(hc);
	/* the fd is still open, blocking as before, and still ours */
	check_int(fcntl(fd, F_GETFL), ==, fl);
	req = (struct http_req)HTTP_REQ_INIT;
	req.url = "http://buildlet.invalid/peer";
	req.conn_fd = fd;
	for (i = 0; i < 3; i++) {
		check_int(http_request(&req, NULL, &r, &err), ==, HTTP_OK);
		check_str(r.body.buf, me.buf);
	}
	/* the thread's own handle never picked the fd up */
	check_int(http_get(url("/peer"), NULL, &r, &err), ==, HTTP_OK);
	check(strcmp(r.body.buf, me.buf) != 0);
	/* the peer ends the connection: the fd is spent, not closed */
	if (check((hc = http_conn_new(fd)) != NULL)) {
		opt.headers = hdrs;
		check_int(http_conn_request(hc, &req, &opt, &r, &err), ==,
		    HTTP_OK);
		check_str(r.body.buf, me.buf);
		strbuf_reset(&err);
		check_int(http_conn_request(hc, &req, NULL, &r, &err), ==,
		    HTTP_TEMP);
		check(strstr(err.buf, "the connection is closed") != NULL);
		test_msg("after close: %s", err.buf);
		http_conn_free(hc);
	}
	check(fcntl(fd, F_GETFD) != -1);
	check_int(wait_eof(fd, 3000), ==, 0);
	close(fd);
	check(http_conn_new(-1) == NULL);
	strbuf_release(&k.got);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&me);
}

static void
t_cookies(void)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&path, "%s/cookies", tmpdir);
	if (!check((f = fopen(path.buf, "w")) != NULL))
		return;
	fprintf(f, "# Netscape HTTP Cookie File\n"
	    "127.0.0.1\tFALSE\t/\tFALSE\t2147483647\to\tgit-x=c00k1e\n"
	    "#HttpOnly_.other.example\tTRUE\t/\tTRUE\t0\tx\tnot-for-us\n"
	    "127.0.0.1\tFALSE\t/\tFALSE\t1\texpired\tgone\n"
	    "127.0.0.1\tFALSE\t/\tTRUE\t0\tsecure\ttls-only\n"
	    "127.0.0.1\tFALSE\t/sub\tFALSE\t0\tsub\tpath\n"
	    ".example.org\tTRUE\t/\tFALSE\t0\tdom\tany\n");
	fclose(f);
	/* as libcurl, secure cookies go to localhost over http too */
	check_int(http_cookie_count(path.buf, url("/")), ==, 2);
	check_int(http_cookie_count(path.buf, url("/sub/x")), ==, 3);
	check_int(http_cookie_count(path.buf, url("/subway")), ==, 2);
	check_int(http_cookie_count(path.buf, "http://10.0.0.1/"), ==, 0);
	check_int(http_cookie_count(path.buf, "https://127.0.0.1/"), ==, 2);
	check_int(http_cookie_count(path.buf, "http://a.b.example.org/"), ==,
	    1);
	check_int(http_cookie_count(path.buf, "http://example.org/"), ==, 1);
	check_int(http_cookie_count(path.buf, "http://badexample.org/"), ==,
	    0);
	check_int(http_cookie_count(path.buf, "https://x.other.example/"), ==,
	    1);
	errno = 0;
	check_int(http_cookie_count("/nonexistent/c", url("/")), ==, -1);
	check_int(errno, ==, ENOENT);
	check_int(http_cookie_count(path.buf, "ftp://127.0.0.1/"), ==, -1);
	/* what libcurl sends */
	opt.cookiefile = path.buf;
	check_int(http_get(url("/cookie"), &opt, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "secure=tls-only; o=git-x=c00k1e");
	check_int(http_get(url("/sub/cookie"), &opt, &r, &err), ==,
	    HTTP_NOTFOUND);
	/* neither the file's cookies nor the server's stay behind */
	check_int(http_get(url("/cookie"), NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "(none)");
	check_int(http_get(url("/cookie"), &opt, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "secure=tls-only; o=git-x=c00k1e");
	unlink(path.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&path);
}

static void
t_stop_and_timeout(void)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, raw = STRBUF_INIT, u = STRBUF_INIT;
	struct httpd *h;
	long long t0;
	int fd;

	cfg.listen = "127.0.0.1:0";
	cfg.handler = handler;
	cfg.quiet = 1;
	cfg.timeout_s = 1;
	if (!check((h = httpd_start(&cfg, &err)) != NULL))
		return;
	/* a read() slower than the idle timeout does not lose the reply */
	strbuf_addf(&u, "http://127.0.0.1:%d/veryslow", httpd_port(h));
	check_int(http_get(u.buf, NULL, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "chunk1,chunk2");
	/* stopping wakes an upgraded connection's fn */
	if (check((fd = dial(httpd_port(h))) >= 0)) {
		dprintf(fd, "GET /up HTTP/1.1\r\nHost: x\r\n"
		    "Connection: Upgrade\r\nUpgrade: echo\r\n\r\n");
		check_int(read_until(fd, &raw, "\r\n\r\n", 3000), ==, 0);
		check(strncmp(raw.buf, "HTTP/1.1 101", 12) == 0);
		t0 = now_ms();
		httpd_stop(h);
		h = NULL;
		check_int(now_ms() - t0, <, 2000);
		check_int(wait_eof(fd, 3000), ==, 0);
		close(fd);
	}
	if (h != NULL)
		httpd_stop(h);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&raw);
	strbuf_release(&u);
}

static void
t_tls(void)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, cmd = STRBUF_INIT, u = STRBUF_INIT;
	struct strbuf key = STRBUF_INIT, crt = STRBUF_INIT;
	struct httpd *h;

	strbuf_addf(&key, "%s/key.pem", tmpdir);
	strbuf_addf(&crt, "%s/cert.pem", tmpdir);
	strbuf_addf(&cmd, "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-subj /CN=localhost -days 1 -keyout %s -out %s >/dev/null 2>&1",
	    key.buf, crt.buf);
	if (system(cmd.buf) != 0) {
		test_skip("openssl cannot make a certificate");
		goto out;
	}
	cfg.listen = "localhost:0";
	cfg.tls_cert = crt.buf;
	cfg.tls_key = key.buf;
	cfg.handler = handler;
	cfg.quiet = 1;
	if (!check((h = httpd_start(&cfg, &err)) != NULL)) {
		test_msg("%s", err.buf);
		goto out;
	}
	strbuf_addf(&u, "https://localhost:%d/q?a=tls", httpd_port(h));
	opt.cacert = crt.buf;
	check_int(http_get(u.buf, &opt, &r, &err), ==, HTTP_OK);
	check_str(r.body.buf, "a=[tls] b=(none)");
	opt.cacert = NULL;
	strbuf_reset(&err);
	check_int(http_get(u.buf, &opt, &r, &err), ==, HTTP_PERM);
	test_msg("untrusted: %s", err.buf);
	opt.insecure = 1;
	check_int(http_get(u.buf, &opt, &r, &err), ==, HTTP_OK);
	httpd_stop(h);
	/* a key that is not a key */
	cfg.tls_key = crt.buf;
	strbuf_reset(&err);
	check((h = httpd_start(&cfg, &err)) == NULL);
	check(err.len > 0);
	if (h != NULL)
		httpd_stop(h);
out:
	unlink(key.buf);
	unlink(crt.buf);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&cmd);
	strbuf_release(&u);
	strbuf_release(&key);
	strbuf_release(&crt);
}

static void
t_start_errors(void)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, l = STRBUF_INIT;
	struct httpd *h;

	cfg.handler = handler;
	cfg.quiet = 1;
	cfg.listen = "127.0.0.1";
	check(httpd_start(&cfg, &err) == NULL);
	check(strstr(err.buf, "bad listen address") != NULL);
	strbuf_addf(&l, "127.0.0.1:%d", port);
	cfg.listen = l.buf;
	strbuf_reset(&err);
	check(httpd_start(&cfg, &err) == NULL);
	check(strstr(err.buf, "in use") != NULL);
	test_msg("%s", err.buf);
	cfg.listen = ":0";
	strbuf_reset(&err);
	if (check((h = httpd_start(&cfg, &err)) != NULL)) {
		check_int(httpd_port(h), >, 0);
		httpd_stop(h);
	}
	cfg.listen = "[::1]:0";
	strbuf_reset(&err);
	h = httpd_start(&cfg, &err);
	if (h != NULL)
		httpd_stop(h);
	else
		test_msg("no ::1 here: %s", err.buf);
	strbuf_release(&err);
	strbuf_release(&l);
}

static void
t_resolve(void)
{
	static const char *const cases[][3] = {
		{ "http://h/a/b/c", "d", "http://h/a/b/d" },
		{ "http://h/a/b/c", "/x/y", "http://h/x/y" },
		{ "http://h/a/b/c", "../x", "http://h/a/x" },
		{ "http://h/a/b/", "seg/1", "http://h/a/b/seg/1" },
		{ "http://h:81/a", "?q=1", "http://h:81/a?q=1" },
		{ "http://h/a", "https://o/p", "https://o/p" },
		{ "https://h/a", "//o/p", "https://o/p" },
	};
	struct strbuf out = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&out);
		check_int(http_resolve(cases[i][0], cases[i][1], &out), ==, 0);
		check_str(out.buf, cases[i][2]);
	}
	strbuf_reset(&out);
	check_int(http_resolve("ftp://h/a", "b", &out), ==, -1);
	check_int(http_resolve("/just/a/path", "b", &out), ==, -1);
	check_int(http_resolve("", "b", &out), ==, -1);
	check_int(out.len, ==, 0);
	check_int(http_same_origin("http://h/logs", "http://H:80/logs/0"), ==, 1);
	check_int(http_same_origin("https://h:443/a", "https://h/b"), ==, 1);
	check_int(http_same_origin("http://h/a", "https://h/a"), ==, 0);
	check_int(http_same_origin("http://h:81/a", "http://h/a"), ==, 0);
	check_int(http_same_origin("http://h/a", "http://g/a"), ==, 0);
	check_int(http_same_origin("http://h/a", "/a"), ==, -1);
	check_int(http_same_origin("http://h/a", "ftp://h/a"), ==, -1);
	{
		struct http_resp r = HTTP_RESP_INIT;
		long long ra = -7;

		check_int(http_retry_after(&r, &ra), ==, -1);
		strbuf_addstr(&r.headers, "HTTP/1.1 429 X\r\n"
		    "Retry-After:  120 \r\n\r\n");
		check_int(http_retry_after(&r, &ra), ==, 0);
		check_int(ra, ==, 120);
		strbuf_reset(&r.headers);
		strbuf_addstr(&r.headers, "Retry-After: Wed, 21 Oct 2015 "
		    "07:28:00 GMT\r\n");
		check_int(http_retry_after(&r, &ra), ==, 0);
		check_int(ra, ==, 0);	/* in the past */
		strbuf_reset(&r.headers);
		strbuf_addstr(&r.headers, "Retry-After: soon\r\n");
		check_int(http_retry_after(&r, &ra), ==, -1);
		strbuf_reset(&r.headers);
		strbuf_addstr(&r.headers, "Retry-After: -5\r\n");
		check_int(http_retry_after(&r, &ra), ==, -1);
		http_resp_release(&r);
	}
	http_urlencode(&out, "a b&c=d/é~");
	check_str(out.buf, "a%20b%26c%3Dd%2F%C3%A9~");
	strbuf_reset(&out);
	http_urlencode(&out, "AZaz09-._~ +%?#[]@!$'()*,;:\x01\x7f\xff");
	check_str(out.buf, "AZaz09-._~%20%2B%25%3F%23%5B%5D%40%21%24%27%28%29"
	    "%2A%2C%3B%3A%01%7F%FF");
	strbuf_reset(&out);
	http_urlencode(&out, "");
	check_int(out.len, ==, 0);
	strbuf_release(&out);
}

static void
t_loopback(void)
{
	check_int(httpd_listen_is_loopback("127.0.0.1:80"), ==, 1);
	check_int(httpd_listen_is_loopback("127.1.2.3:0"), ==, 1);
	check_int(httpd_listen_is_loopback("127.0.0.1"), ==, 1);
	check_int(httpd_listen_is_loopback("[::1]:8080"), ==, 1);
	check_int(httpd_listen_is_loopback("[::1]"), ==, 1);
	check_int(httpd_listen_is_loopback("::1"), ==, 1);
	check_int(httpd_listen_is_loopback("localhost:0"), ==, 1);
	check_int(httpd_listen_is_loopback("localhost"), ==, 1);
	check_int(httpd_listen_is_loopback(":8080"), ==, 0);
	check_int(httpd_listen_is_loopback("0.0.0.0:80"), ==, 0);
	check_int(httpd_listen_is_loopback("[::]:80"), ==, 0);
	check_int(httpd_listen_is_loopback("10.0.0.1:80"), ==, 0);
	check_int(httpd_listen_is_loopback("example.com:80"), ==, 0);
	check_int(httpd_listen_is_loopback("128.0.0.1:80"), ==, 0);
	check_int(httpd_listen_is_loopback(""), ==, 0);
}

static void
t_log(void)
{
	pthread_mutex_lock(&log_mu);
	check(strstr(logbuf.buf, "GET /q?a=1&b=x%20y!&a=2&a= 200 ") != NULL);
	check(strstr(logbuf.buf, "POST /body 413 23 ") != NULL);
	check(strstr(logbuf.buf, "PUT /put 200 ") != NULL);
	check(strstr(logbuf.buf, "GET /up 101 0 ") != NULL);
	check(strstr(logbuf.buf, "s3cret") == NULL);
	check(strstr(logbuf.buf, "Authorization") == NULL);
	check(strstr(logbuf.buf, "ms 127.0.0.1:") != NULL);
	pthread_mutex_unlock(&log_mu);
}

int
main(void)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT;
	long long t0 = now_ms();
	int fd, i;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/u-http.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(filepath, sizeof(filepath), "%s/file", tmpdir);
	for (i = 0; i < FILE_SIZE; i++)
		strbuf_addch(&data, 'a' + i % 26);
	fd = open(filepath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, data.buf, data.len) != (ssize_t)data.len) {
		perror("write");
		return 1;
	}
	close(fd);
	strbuf_release(&data);

	cfg.listen = "127.0.0.1:0";
	cfg.handler = handler;
	cfg.body_mode = body_mode;
	cfg.max_body = 4096;
	cfg.log = log_line;
	srv = httpd_start(&cfg, &err);
	if (srv == NULL) {
		printf("Bail out! httpd_start: %s\n", err.buf);
		return 1;
	}
	port = httpd_port(srv);

	TEST(t_query(), "GET with a query, repeated keys");
	TEST(t_form(), "POST form with repeated and empty fields");
	TEST(t_body_cap(), "buffered body cap answers 413");
	TEST(t_classes(), "status codes map to outcome classes");
	TEST(t_transport(), "transport failures and the client body cap");
	TEST(t_range(), "httpd_reply_fd ranges: 206 and 416");
	TEST(t_sink(), "sink_fd gets the body, never an error page");
	TEST(t_stream(), "streamed response: chunked, trailer, early headers");
	TEST(t_keepalive(), "keep-alive connection is reused");
	TEST(t_pipe_put(), "pipe mode: 20 MB chunked PUT hashed in handler");
	TEST(t_concurrent(), "a blocking handler does not hold up others");
	TEST(t_upgrade(), "upgrade to an echo protocol");
	TEST(t_http_upgrade(), "http_upgrade: the connection after a 101");
	TEST(t_auth(), "basic auth");
	TEST(t_pipe_edges(), "pipe abort and drain, 100-continue, split form");
	TEST(t_methods(), "http_request: methods and bodies from memory");
	TEST(t_body_fd(), "http_request: POST from a pipe, chunked");
	TEST(t_on_body(), "http_request: on_body, trailers, abort");
	TEST(t_on_head(), "http_request: on_head before the body");
	TEST(t_cancel(), "http_request: cancel from another thread");
	TEST(t_conn_fd(), "conn_fd: requests over a socket we dialled");
	TEST(t_cookies(), "cookie file: what applies, what is sent");
	TEST(t_stop_and_timeout(), "slow stream vs idle timeout, stop upgrade");
	TEST(t_tls(), "TLS with a self-signed certificate");
	TEST(t_start_errors(), "listen addresses and start errors");
	TEST(t_resolve(), "http_resolve and http_urlencode");
	TEST(t_loopback(), "httpd_listen_is_loopback");
	httpd_stop(srv);
	TEST(t_log(), "access log lines");

	unlink(filepath);
	rmdir(tmpdir);
	strbuf_release(&err);
	strbuf_release(&logbuf);
	test_msg("took %lld ms", now_ms() - t0);
	return test_done();
}
