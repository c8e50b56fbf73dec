/*
 * u-httpd: the HTTP server on sockets it did not accept, the upgrade
 * hand-off, lib/relay, Basic credentials, and what a TLS listener does
 * with a connection's first bytes.
 */
#include "compat.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "relay.h"
#include "strbuf.h"
#include "tap.h"
#include "xmalloc.h"

#define WAIT_MS		5000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct strbuf logbuf = STRBUF_INIT;
/* the connection the last upgrade handed over */
static struct httpd_upgrade *got_up;
static int got_fd = -1;

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int
nthreads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait until the process has want threads; 0, or -1 after WAIT_MS. */
static int
wait_threads(int want)
{
	long long t0 = now_ms();

	while (nthreads() != want) {
		if (now_ms() - t0 > WAIT_MS) {
			test_msg("threads: %d, want %d", nthreads(), want);
			return -1;
		}
		usleep(10000);
	}
	return 0;
}

static void
on_up(struct httpd_upgrade *up, int fd, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	got_up = up;
	got_fd = fd;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void
handler(struct httpd_req *req, void *arg)
{
	const char *p = httpd_path(req);
	char *user = NULL, *pass = NULL;
	size_t len;

	(void)arg;
	if (strcmp(p, "/up") == 0)
		httpd_reply_upgrade(req, "test", on_up, NULL);
	else if (strcmp(p, "/auth") == 0) {
		if (httpd_basic_auth(req, &user, &pass) == 0)
			httpd_replyf(req, 200, "user=%s pass=%s", user, pass);
		else
			httpd_reply_auth(req, "test");
		if (user != NULL) {
			bf_wipe(pass, strlen(pass));
			free(user);
			free(pass);
		}
	} else {
		httpd_body(req, &len);
		httpd_replyf(req, 200, "%s %s %zu", httpd_method(req), p, len);
	}
}

static void
log_line(const char *line, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	strbuf_addf(&logbuf, "%s\n", line);
	pthread_mutex_unlock(&mu);
}

static struct httpd *
start(const char *listen)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	struct httpd *h;

	cfg.listen = listen;
	cfg.handler = handler;
	cfg.log = log_line;
	if ((h = httpd_start(&cfg, &err)) == NULL)
		test_msg("httpd_start: %s", err.buf);
	strbuf_release(&err);
	return h;
}

/* ---- a small client over one fd ---- */

static int
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, c, n, MSG_NOSIGNAL)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

/* Read what comes within WAIT_MS; bytes read, 0 at EOF, -1 error/timeout. */
static ssize_t
read_some(int fd, char *buf, size_t max)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, WAIT_MS) != 1)
		return -1;
	while ((n = read(fd, buf, max)) == -1 && errno == EINTR)
		;
	return n;
}

/* Read exactly n bytes into sb; 0 or -1. */
static int
read_n(int fd, struct strbuf *sb, size_t n)
{
	char buf[65536];
	ssize_t r;

	while (n > 0) {
		if ((r = read_some(fd, buf, n < sizeof(buf) ? n :
		    sizeof(buf))) <= 0)
			return -1;
		strbuf_add(sb, buf, (size_t)r);
		n -= (size_t)r;
	}
	return 0;
}

/*
 * One request, one response with a Content-Length; the head goes to
 * head (status line and headers), the body to body.  0 or -1.
 */
static int
roundtrip(int fd, const char *req, struct strbuf *head, struct strbuf *body)
{
	const char *end, *cl;
	size_t have;

	strbuf_reset(head);
	strbuf_reset(body);
	if (send_str(fd, req) == -1)
		return -1;
	while ((end = strstr(head->buf, "\r\n\r\n")) == NULL)
		if (read_n(fd, head, 1) == -1)
			return -1;
	have = head->len - (size_t)(end + 4 - head->buf);
	strbuf_setlen(head, (size_t)(end - head->buf));
	if ((cl = strcasestr(head->buf, "\r\nContent-Length: ")) == NULL)
		return -1;
	return have == 0 ? read_n(fd, body, strtoul(cl + 18, NULL, 10)) : -1;
}

/* Three requests on one connection; the server keeps it open. */
static void
three_requests(int fd)
{
	struct strbuf head = STRBUF_INIT, body = STRBUF_INIT;

	check_int(roundtrip(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", &head,
	    &body), ==, 0);
	check(strncmp(head.buf, "HTTP/1.1 200 ", 13) == 0);
	check(strcasestr(head.buf, "Connection: close") == NULL);
	check_str(body.buf, "GET /a 0");
	check_int(roundtrip(fd, "POST /b HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nxyz", &head, &body), ==, 0);
	check(strcasestr(head.buf, "Connection: close") == NULL);
	check_str(body.buf, "POST /b 3");
	check_int(roundtrip(fd, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n", &head,
	    &body), ==, 0);
	check_str(body.buf, "GET /c 0");
	strbuf_release(&head);
	strbuf_release(&body);
}

static void
t_nolisten_socketpair(void)
{
	struct strbuf err = STRBUF_INIT;
	struct httpd *h;
	char buf[16];
	int sv[2];

	if (!check((h = start(NULL)) != NULL))
		return;
	check_int(httpd_port(h), ==, 0);
	if (!check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
	    0))
		goto out;
	check_int(httpd_add_conn(h, sv[1], &err), ==, 0);
	three_requests(sv[0]);
	/* the client ends the connection; the server closes its end */
	shutdown(sv[0], SHUT_WR);
	check_int(read_some(sv[0], buf, sizeof(buf)), ==, 0);
	close(sv[0]);
	/* a socket that is not connected is refused (and closed) */
	strbuf_reset(&err);
	check_int(httpd_add_conn(h, socket(AF_INET, SOCK_STREAM, 0), &err), ==,
	    -1);
	check(strstr(err.buf, "getpeername") != NULL);
out:
	httpd_stop(h);
	pthread_mutex_lock(&mu);
	check(strstr(logbuf.buf, "GET /a 200 8 ") != NULL);
	check(strstr(logbuf.buf, "POST /b 200 9 ") != NULL);
	check(strstr(logbuf.buf, "ms unix\n") != NULL);
	strbuf_reset(&logbuf);
	pthread_mutex_unlock(&mu);
	strbuf_release(&err);
}

/*
 * What a reverse buildlet does: it dials, then serves HTTP on the
 * socket it dialled; the test is the coordinator that accepted.
 */
static void
t_nolisten_dialled(void)
{
	struct strbuf err = STRBUF_INIT;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct httpd *h = NULL;
	int l, c = -1, a = -1;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!check(l >= 0 && bind(l, (struct sockaddr *)&sa, len) == 0 &&
	    listen(l, 1) == 0 &&
	    getsockname(l, (struct sockaddr *)&sa, &len) == 0))
		goto out;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!check(c >= 0 &&
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0) ||
	    !check((a = accept(l, NULL, NULL)) >= 0))
		goto out;
	if (!check((h = start(NULL)) != NULL))
		goto out;
	check_int(httpd_add_conn(h, c, &err), ==, 0);
	c = -1;
	three_requests(a);
	/* a request is logged after its reply: look once all are over */
	httpd_stop(h);
	pthread_mutex_lock(&mu);
	check(strstr(logbuf.buf, "GET /c 200 8 ") != NULL);
	check(strstr(logbuf.buf, "ms 127.0.0.1:") != NULL);
	strbuf_reset(&logbuf);
	pthread_mutex_unlock(&mu);
	h = NULL;
out:
	if (h != NULL)
		httpd_stop(h);
	if (a >= 0)
		close(a);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	strbuf_release(&err);
}

/* Wait for on_up; the handed-over connection, or NULL after WAIT_MS. */
static struct httpd_upgrade *
wait_up(int *fd)
{
	struct timespec ts;
	struct httpd_upgrade *up;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&mu);
	while (got_up == NULL &&
	    pthread_cond_timedwait(&cv, &mu, &ts) == 0)
		;
	up = got_up;
	*fd = got_fd;
	got_up = NULL;
	got_fd = -1;
	pthread_mutex_unlock(&mu);
	return up;
}

static void
t_upgrade_handoff(void)
{
	struct strbuf err = STRBUF_INIT, in = STRBUF_INIT;
	struct httpd_upgrade *up;
	struct httpd *h;
	const char *extra, *end;
	char buf[64];
	size_t n;
	int sv[2], fd, before;

	if (!check((h = start(NULL)) != NULL))
		return;
	before = nthreads();
	if (!check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
	    0))
		goto out;
	check_int(httpd_add_conn(h, sv[1], &err), ==, 0);
	/* bytes right behind the request reach the application first */
	send_str(sv[0], "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
	    "Upgrade: test\r\n\r\nearly\n");
	if (!check((up = wait_up(&fd)) != NULL)) {
		close(sv[0]);
		goto out;
	}
	check_int(httpd_upgrade_fd(up), ==, fd);
	while ((end = strstr(in.buf, "\r\n\r\n")) == NULL)
		if (!check(read_n(sv[0], &in, 1) == 0))
			break;
	check(strncmp(in.buf, "HTTP/1.1 101 ", 13) == 0);
	check(strcasestr(in.buf, "\r\nUpgrade: test\r\n") != NULL);
	/*
	 * Nothing is parked on the upgraded connection: the connection's
	 * thread is gone while the application holds it.
	 */
	check_int(wait_threads(before), ==, 0);
	/* what the server read past the request, and the rest on fd */
	extra = httpd_upgrade_extra(up, &n);
	strbuf_reset(&in);
	strbuf_add(&in, extra, n);
	if (in.len < 6)
		read_n(fd, &in, 6 - in.len);
	check_str(in.buf, "early\n");
	/* both ways over the fd */
	check_int(send_all(fd, "ping\n", 5), ==, 0);
	check_int(read_some(sv[0], buf, sizeof(buf)), ==, 5);
	check(memcmp(buf, "ping\n", 5) == 0);
	check_int(send_all(sv[0], "pong\n", 5), ==, 0);
	check_int(read_some(fd, buf, sizeof(buf)), ==, 5);
	check(memcmp(buf, "pong\n", 5) == 0);
	/* the application ends it: the client sees EOF */
	httpd_upgrade_close(up);
	check_int(read_some(sv[0], buf, sizeof(buf)), ==, 0);
	close(sv[0]);
	check_int(wait_threads(before), ==, 0);
out:
	httpd_stop(h);
	strbuf_release(&err);
	strbuf_release(&in);
}

struct stopper {
	struct httpd *h;
	long long t;
};

static void *
stop_main(void *arg)
{
	struct stopper *s = arg;

	httpd_stop(s->h);
	s->t = now_ms();
	return NULL;
}

/* httpd_stop wakes an upgraded connection and waits for its close. */
static void
t_upgrade_stop(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stopper s;
	pthread_t thr;
	char buf[64];
	long long t;
	int sv[2], fd;
	struct httpd_upgrade *up;

	if (!check((s.h = start(NULL)) != NULL))
		return;
	if (!check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
	    0)) {
		httpd_stop(s.h);
		return;
	}
	check_int(httpd_add_conn(s.h, sv[1], &err), ==, 0);
	send_str(sv[0], "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
	    "Upgrade: test\r\n\r\n");
	if (!check((up = wait_up(&fd)) != NULL)) {
		httpd_stop(s.h);
		close(sv[0]);
		return;
	}
	s.t = 0;
	if (!check(pthread_create(&thr, NULL, stop_main, &s) == 0)) {
		httpd_upgrade_close(up);
		httpd_stop(s.h);
		close(sv[0]);
		return;
	}
	/* the application's read sees EOF; the stop waits for the close */
	check_int(read_some(fd, buf, sizeof(buf)), ==, 0);
	usleep(100000);
	t = now_ms();
	httpd_upgrade_close(up);
	pthread_join(thr, NULL);
	check_int(s.t, >=, t);
	close(sv[0]);
	strbuf_release(&err);
}

/* ---- relay ---- */

struct relay_job {
	int a, b;
	const char *pre;
	int ret;
	pthread_t thr;
};

static void *
relay_main(void *arg)
{
	struct relay_job *j = arg;

	j->ret = relay_run(j->a, j->b, j->pre, j->pre ? strlen(j->pre) : 0);
	return NULL;
}

/*
 * x[0] -- relay(x[1], y[0]) -- y[1]; one side ends first, the other
 * direction goes on until it ends too.
 */
static void
halfclose(int first_x)
{
	struct strbuf got = STRBUF_INIT;
	struct relay_job j;
	int x[2], y[2], s1, s2;

	if (!check(socketpair(AF_UNIX, SOCK_STREAM, 0, x) == 0))
		return;
	if (!check(socketpair(AF_UNIX, SOCK_STREAM, 0, y) == 0))
		return;
	j.a = x[1];
	j.b = y[0];
	j.pre = "pre:";
	if (!check(pthread_create(&j.thr, NULL, relay_main, &j) == 0))
		return;
	s1 = first_x ? x[0] : y[1];
	s2 = first_x ? y[1] : x[0];
	check_int(send_all(s1, "hello", 5), ==, 0);
	shutdown(s1, SHUT_WR);
	/* s2 gets the bytes, then EOF */
	while (read_n(s2, &got, 1) == 0)
		;
	check_str(got.buf, first_x ? "pre:hello" : "hello");
	if (!first_x) {
		/* the bytes read before went y's way, first */
		strbuf_reset(&got);
		check_int(read_n(s1, &got, 4), ==, 0);
		check_str(got.buf, "pre:");
	}
	/* the other way is still open */
	check_int(send_all(s2, "back", 4), ==, 0);
	strbuf_reset(&got);
	check_int(read_n(s1, &got, 4), ==, 0);
	check_str(got.buf, "back");
	shutdown(s2, SHUT_WR);
	check_int(read_some(s1, (char[8]){ 0 }, 8), ==, 0);
	pthread_join(j.thr, NULL);
	check_int(j.ret, ==, 0);
	close(x[0]);
	close(x[1]);
	close(y[0]);
	close(y[1]);
	strbuf_release(&got);
}

static void
t_relay_halfclose(void)
{
	halfclose(1);
	halfclose(0);
}

#define BIG	(8 * 1024 * 1024)

struct writer {
	int fd;
	unsigned char seed;
	pthread_t thr;
};

static void
fill_pattern(unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7 + i / 4093);
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	unsigned char *p = xmalloc(BIG);

	fill_pattern(p, BIG, w->seed);
	send_all(w->fd, p, BIG);
	shutdown(w->fd, SHUT_WR);
	free(p);
	return NULL;
}

/* 8 MiB each way at once: neither direction waits for the other. */
static void
t_relay_big(void)
{
	struct relay_job j;
	struct writer wx, wy;
	struct strbuf got[2] = { STRBUF_INIT, STRBUF_INIT };
	struct pollfd p[2];
	unsigned char *want = xmalloc(BIG);
	char buf[65536];
	int x[2], y[2], i, open_ = 2;
	ssize_t n;

	if (!check(socketpair(AF_UNIX, SOCK_STREAM, 0, x) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM, 0, y) == 0))
		goto out;
	j.a = x[1];
	j.b = y[0];
	j.pre = NULL;
	wx.fd = x[0];
	wx.seed = 1;
	wy.fd = y[1];
	wy.seed = 2;
	pthread_create(&j.thr, NULL, relay_main, &j);
	pthread_create(&wx.thr, NULL, writer_main, &wx);
	pthread_create(&wy.thr, NULL, writer_main, &wy);
	p[0].fd = y[1];	/* what x sent */
	p[1].fd = x[0];	/* what y sent */
	while (open_ > 0) {
		for (i = 0; i < 2; i++)
			p[i].events = POLLIN;
		if (!check(poll(p, 2, WAIT_MS * 4) > 0))
			break;
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0)
				strbuf_add(&got[i], buf, (size_t)n);
			else {
				p[i].fd = -1;
				open_--;
			}
		}
	}
	pthread_join(wx.thr, NULL);
	pthread_join(wy.thr, NULL);
	pthread_join(j.thr, NULL);
	check_int(j.ret, ==, 0);
	check_int(got[0].len, ==, BIG);
	check_int(got[1].len, ==, BIG);
	fill_pattern(want, BIG, 1);
	check(got[0].len == BIG && memcmp(got[0].buf, want, BIG) == 0);
	fill_pattern(want, BIG, 2);
	check(got[1].len == BIG && memcmp(got[1].buf, want, BIG) == 0);
	for (i = 0; i < 2; i++) {
		close(x[i]);
		close(y[i]);
	}
out:
	free(want);
	strbuf_release(&got[0]);
	strbuf_release(&got[1]);
}

/* A peer that goes away mid-stream: -1, and the other side is cut. */
static void
t_relay_reset(void)
{
	struct relay_job j;
	char buf[8];
	int x[2], y[2];

	if (!check(socketpair(AF_UNIX, SOCK_STREAM, 0, x) == 0 &&
	    socketpair(AF_UNIX, SOCK_STREAM, 0, y) == 0))
		return;
	j.a = x[1];
	j.b = y[0];
	j.pre = NULL;
	pthread_create(&j.thr, NULL, relay_main, &j);
	/* y's end closes with unread bytes: the relay's write fails */
	close(y[1]);
	send_all(x[0], "lost", 4);
	check_int(read_some(x[0], buf, sizeof(buf)), ==, 0);
	pthread_join(j.thr, NULL);
	check_int(j.ret, ==, -1);
	close(x[0]);
	close(x[1]);
	close(y[0]);
}

/* ---- Basic credentials ---- */

static void
auth(int fd, const char *cred, const char *want)
{
	struct strbuf head = STRBUF_INIT, body = STRBUF_INIT, req = STRBUF_INIT;

	strbuf_addf(&req, "GET /auth HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: %s\r\n\r\n", cred);
	check_int(roundtrip(fd, req.buf, &head, &body), ==, 0);
	if (want != NULL) {
		check(strncmp(head.buf, "HTTP/1.1 200 ", 13) == 0);
		if (!check_str(body.buf, want))
			test_msg("for %s", cred);
	} else if (!check(strncmp(head.buf, "HTTP/1.1 401 ", 13) == 0))
		test_msg("for %s: %s", cred, head.buf);
	strbuf_release(&head);
	strbuf_release(&body);
	strbuf_release(&req);
}

static void
t_basic_auth(void)
{
	struct strbuf err = STRBUF_INIT;
	struct httpd *h;
	int sv[2];

	if (!check((h = start(NULL)) != NULL))
		return;
	if (!check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
	    0))
		goto out;
	check_int(httpd_add_conn(h, sv[1], &err), ==, 0);
	/* gomote:s3cret, then u:, :p and a colon in the password */
	auth(sv[0], "Basic Z29tb3RlOnMzY3JldA==", "user=gomote pass=s3cret");
	auth(sv[0], "basic   Z29tb3RlOnMzY3JldA==", "user=gomote pass=s3cret");
	auth(sv[0], "Basic dTo=", "user=u pass=");
	auth(sv[0], "Basic OnA=", "user= pass=p");
	auth(sv[0], "Basic dTpwOnE=", "user=u pass=p:q");
	/* not base64, unpadded, no colon, a NUL in the user or password */
	auth(sv[0], "Basic !!!=", NULL);
	auth(sv[0], "Basic Z29tb3RlOnMzY3JldA", NULL);
	auth(sv[0], "Basic Z29t=b3RlOnMzY3JldA=", NULL);
	auth(sv[0], "Basic dXNlcg==", NULL);
	auth(sv[0], "Basic dQB2OnA=", NULL);	/* "u\0v:p" */
	auth(sv[0], "Basic dTpwAHE=", NULL);	/* "u:p\0q" */
	auth(sv[0], "Basic Z29tb3RlOnMzY3JldA== x", NULL);
	auth(sv[0], "Bearer Z29tb3RlOnMzY3JldA==", NULL);
	close(sv[0]);
out:
	httpd_stop(h);
	pthread_mutex_lock(&mu);
	check(strstr(logbuf.buf, "s3cret") == NULL);
	check(strstr(logbuf.buf, "Z29tb3RlOnMzY3JldA") == NULL);
	strbuf_reset(&logbuf);
	pthread_mutex_unlock(&mu);
	strbuf_release(&err);
}

/* ---- TLS: the first bytes decide ---- */

/* A TCP connection from src (127.0.0.x) to 127.0.0.1:port, or -1. */
static int
dial(const char *src, int port)
{
	struct sockaddr_in sa;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		sa.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
	}
	close(fd);
	return -1;
}

/* Everything until EOF into sb: 0, or -1 when it did not end in time. */
static int
read_to_eof(int fd, struct strbuf *sb)
{
	char buf[4096];
	ssize_t n;

	while ((n = read_some(fd, buf, sizeof(buf))) > 0)
		strbuf_add(sb, buf, (size_t)n);
	return n == 0 ? 0 : -1;
}

/* A plain request on fd gets exactly Go's answer, then EOF. */
static void
plain_400(int fd)
{
	struct strbuf sb = STRBUF_INIT;

	check_int(send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ==, 0);
	check_int(read_to_eof(fd, &sb), ==, 0);
	check_str(sb.buf, "HTTP/1.0 400 Bad Request\r\n\r\n"
	    "Client sent an HTTP request to an HTTPS server.\n");
	strbuf_release(&sb);
}

static void
t_tls_first_bytes(void)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, cmd = STRBUF_INIT, sb = STRBUF_INIT;
	char dir[] = "/tmp/u-httpd.XXXXXX", key[64], crt[64];
	struct httpd *h = NULL;
	int base = nthreads(), fd[4] = { -1, -1, -1, -1 }, c, i, port;
	long long t0;

	if (mkdtemp(dir) == NULL) {
		test_skip("mkdtemp failed");
		return;
	}
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(crt, sizeof(crt), "%s/cert.pem", dir);
	strbuf_addf(&cmd, "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-subj /CN=localhost -days 1 -keyout %s -out %s >/dev/null 2>&1",
	    key, crt);
	if (system(cmd.buf) != 0) {
		test_skip("openssl cannot make a certificate");
		goto out;
	}
	cfg.listen = "127.0.0.1:0";
	cfg.tls_cert = crt;
	cfg.tls_key = key;
	cfg.handler = handler;
	cfg.quiet = 1;
	cfg.max_per_addr = 2;
	cfg.untrusted_timeout_s = 1;
	if (!check((h = httpd_start(&cfg, &err)) != NULL)) {
		test_msg("%s", err.buf);
		goto out;
	}
	port = httpd_port(h);
	check_int(port, >, 0);
	if (!check((c = dial("127.0.0.1", port)) >= 0))
		goto out;
	plain_400(c);
	close(c);

	/* two silent ones wait, a third from the same address does not */
	t0 = now_ms();
	for (i = 0; i < 3; i++)
		if (!check((fd[i] = dial("127.0.0.3", port)) >= 0))
			goto out;
	check_int(read_to_eof(fd[2], &sb), ==, 0);
	/* meanwhile another address is answered */
	if (check((c = dial("127.0.0.2", port)) >= 0)) {
		plain_400(c);
		close(c);
	}
	check_int(read_to_eof(fd[0], &sb), ==, 0);
	check_int(read_to_eof(fd[1], &sb), ==, 0);
	check_int(now_ms() - t0, >=, 900);
	check_int((int)sb.len, ==, 0);

	/* httpd_stop closes one still waiting, and joins the thread */
	if (!check((fd[3] = dial("127.0.0.3", port)) >= 0))
		goto out;
	if (check((c = dial("127.0.0.2", port)) >= 0)) {
		plain_400(c);	/* accepted after fd[3]: that one waits */
		close(c);
	}
	httpd_stop(h);
	h = NULL;
	check_int(read_to_eof(fd[3], &sb), ==, 0);
	check_int((int)sb.len, ==, 0);
	check_int(wait_threads(base), ==, 0);
out:
	if (h != NULL)
		httpd_stop(h);
	for (i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	unlink(key);
	unlink(crt);
	rmdir(dir);
	strbuf_release(&err);
	strbuf_release(&cmd);
	strbuf_release(&sb);
}

int
main(void)
{
	TEST(t_nolisten_socketpair(), "no listening socket: keep-alive on a "
	    "socket pair");
	TEST(t_nolisten_dialled(), "no listening socket: serve a TCP "
	    "connection the process dialled");
	TEST(t_upgrade_handoff(), "upgrade: the application gets the fd; "
	    "no thread parked");
	TEST(t_upgrade_stop(), "upgrade: httpd_stop wakes the application "
	    "and waits for its close");
	TEST(t_relay_halfclose(), "relay: half-close either way first");
	TEST(t_relay_big(), "relay: 8 MiB both ways at once");
	TEST(t_relay_reset(), "relay: a peer gone mid-stream ends it with -1");
	TEST(t_basic_auth(), "Basic credentials: valid, malformed, NUL "
	    "refused");
	TEST(t_tls_first_bytes(), "TLS: plain HTTP gets 400, silent ones "
	    "time out, per address, stop closes them");
	strbuf_release(&logbuf);
	return test_done();
}
