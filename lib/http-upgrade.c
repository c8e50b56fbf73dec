/*
 * http-upgrade.c: http_upgrade, a request answered by 101 Switching
 * Protocols whose connection then belongs to the caller (a reverse
 * buildlet's control and data connections, gomote's ssh).
 *
 * libcurl 7.88 has no interface for a generic upgrade: its transfer
 * would take the bytes behind the 101 for a body.  So libcurl only
 * connects (CURLOPT_CONNECT_ONLY: DNS, TCP, TLS with the usual
 * certificate checks), and this file writes the request head and reads
 * the response head itself, one byte at a time so that nothing behind
 * the blank line is consumed.  Over https the TLS session stays
 * libcurl's: a pump thread moves bytes between it
 * (curl_easy_send/recv) and one end of a unix socket pair, whose other
 * end the caller gets.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "crypto.h"
#include "http.h"
#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"

#ifndef BF_VERSION
#define BF_VERSION "0.1"
#endif

#define UPG_HEAD_MAX	(16 * 1024)	/* the response head */
#define UPG_BODY_MAX	4096		/* an error body kept */
#define UPG_TIMEOUT_MS	30000L		/* default: up to the 101 */
#define PUMP_BUF	(64 * 1024)

static pthread_once_t upg_once = PTHREAD_ONCE_INIT;
static int upg_init_failed;

static void
upg_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		upg_init_failed = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait until the socket is ready for ev or the deadline: 0 or -1. */
static int
wait_sock(curl_socket_t s, short ev, long long deadline)
{
	struct pollfd pfd = { s, ev, 0 };
	long long left;
	int n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static int
send_all(CURL *c, curl_socket_t s, const char *p, size_t len,
    long long deadline)
{
	size_t n;
	CURLcode rc;

	while (len > 0) {
		rc = curl_easy_send(c, p, len, &n);
		if (rc == CURLE_AGAIN) {
			if (wait_sock(s, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		if (rc != CURLE_OK) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* One byte, or 0 at EOF, -1 on error (errno). */
static int
recv_byte(CURL *c, curl_socket_t s, char *ch, long long deadline)
{
	size_t n;
	CURLcode rc;

	for (;;) {
		rc = curl_easy_recv(c, ch, 1, &n);
		if (rc == CURLE_AGAIN) {
			if (wait_sock(s, POLLIN, deadline) == -1)
				return -1;
			continue;
		}
		if (rc != CURLE_OK) {
			errno = ECONNRESET;
			return -1;
		}
		return n == 1 ? 1 : 0;
	}
}

/* The request head: METHOD path, Host, Upgrade and the caller's headers. */
static int
request_head(const char *method, const char *url, const char *proto,
    const struct http_opt *opt, struct strbuf *out)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	struct strbuf cred = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
	strbuf_addf(out, "%s %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n"
	    "User-Agent: buildfarm/" BF_VERSION "\r\n", method, path,
	    query != NULL ? "?" : "", query != NULL ? query : "", host,
	    port != NULL ? ":" : "", port != NULL ? port : "");
	if (strcmp(method, "GET") != 0)
		strbuf_addstr(out, "Content-Length: 0\r\n");
	if (proto != NULL)
		strbuf_addf(out, "Connection: Upgrade\r\nUpgrade: %s\r\n",
		    proto);
	if (opt->user != NULL && opt->password != NULL) {
		strbuf_addf(&cred, "%s:%s", opt->user, opt->password);
		strbuf_addstr(out, "Authorization: Basic ");
		crypto_base64_encode(out, cred.buf, cred.len);
		strbuf_addstr(out, "\r\n");
	}
	for (i = 0; opt->headers != NULL && opt->headers[i] != NULL; i++) {
		/* a line break would start a header of its own */
		if (strpbrk(opt->headers[i], "\r\n") != NULL)
			goto out;
		strbuf_addf(out, "%s\r\n", opt->headers[i]);
	}
	strbuf_addstr(out, "\r\n");
	ret = 0;
out:
	if (cred.len > 0)
		memset(cred.buf, 0, cred.len);
	strbuf_release(&cred);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return ret;
}

/* The status of a response head, or 0 when it is not "HTTP/1.x NNN". */
static long
head_status(const char *h)
{
	long st = 0;
	int i;

	if (strncmp(h, "HTTP/1.", 7) != 0 || h[7] == '\0' || h[8] != ' ')
		return 0;
	for (i = 9; i < 12; i++) {
		if (h[i] < '0' || h[i] > '9')
			return 0;
		st = st * 10 + (h[i] - '0');
	}
	return h[12] == ' ' || h[12] == '\r' ? st : 0;
}

/* The pump of an https upgrade: the TLS session <-> a socket pair end. */
struct pump {
	CURL *c;
	curl_socket_t s;	/* libcurl's socket, to poll */
	int fd;			/* our end of the pair */
	pthread_t t;
	int done;		/* under pumps_mu: t is about to return */
	struct pump *next;
};

/*
 * The pumps, joined (not detached) so that http_upgrade_wait can know
 * that each has ended, its thread's TLS state freed included: the TLS
 * library's exit handlers must not run beside one.
 */
static pthread_mutex_t pumps_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pump *pumps;

/*
 * Join the pumps that are done, or with deadline >= 0 all of them,
 * until deadline (CLOCK_REALTIME ms): 0, or -1 if some still run.
 */
static int
pumps_join(long long deadline)
{
	struct pump **pp, *p, *kept = NULL;
	struct timespec ts;
	int done, r = 0;

	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000;
	pthread_mutex_lock(&pumps_mu);
	for (pp = &pumps; (p = *pp) != NULL; ) {
		if (!p->done && deadline < 0) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		done = p->done;
		pthread_mutex_unlock(&pumps_mu);
		if ((done ? pthread_join(p->t, NULL) :
		    pthread_timedjoin_np(p->t, NULL, &ts)) == 0)
			free(p);
		else {
			/* still running: given up on, kept for later */
			p->next = kept;
			kept = p;
			r = -1;
		}
		pthread_mutex_lock(&pumps_mu);
		pp = &pumps;	/* the list may have changed meanwhile */
	}
	while ((p = kept) != NULL) {
		kept = p->next;
		p->next = pumps;
		pumps = p;
	}
	pthread_mutex_unlock(&pumps_mu);
	return r;
}

int
http_upgrade_wait(long long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return pumps_join(ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 +
	    (ms > 0 ? ms : 0));
}

static void *
pump_main(void *arg)
{
	struct pump *p = arg;
	char *up = xmalloc(PUMP_BUF), *down = xmalloc(PUMP_BUF);
	size_t nup = 0, offup = 0, ndown = 0, offdown = 0, n;
	int remote_eof = 0, shut = 0, progress;
	struct pollfd pfd[2];
	CURLcode rc;
	ssize_t r;

	for (;;) {
		progress = 0;
		pfd[0].fd = pfd[1].fd = -1;
		pfd[0].events = pfd[1].events = 0;
		/* remote -> local */
		if (ndown == 0 && !remote_eof) {
			rc = curl_easy_recv(p->c, down, PUMP_BUF, &n);
			if (rc == CURLE_AGAIN)
				pfd[1].events |= POLLIN;
			else if (rc != CURLE_OK || n == 0)
				remote_eof = 1;
			else {
				ndown = n;
				offdown = 0;
			}
			progress |= rc != CURLE_AGAIN;
		}
		if (ndown > 0) {
			r = send(p->fd, down + offdown, ndown, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			if (r > 0) {
				offdown += (size_t)r;
				ndown -= (size_t)r;
				progress = 1;
			} else if (r == -1 && errno != EAGAIN && errno != EINTR)
				break;
			else
				pfd[0].events |= POLLOUT;
		}
		if (remote_eof && ndown == 0 && !shut) {
			shutdown(p->fd, SHUT_WR);
			shut = 1;
		}
		/* local -> remote: local EOF ends it all (TLS has no half) */
		if (nup == 0) {
			r = recv(p->fd, up, PUMP_BUF, MSG_DONTWAIT);
			if (r == 0 || (r == -1 && errno != EAGAIN &&
			    errno != EINTR))
				break;
			if (r > 0) {
				nup = (size_t)r;
				offup = 0;
				progress = 1;
			} else
				pfd[0].events |= POLLIN;
		}
		if (nup > 0) {
			if (remote_eof)
				nup = 0;	/* nobody to take it */
			else {
				rc = curl_easy_send(p->c, up + offup, nup, &n);
				if (rc == CURLE_OK) {
					offup += n;
					nup -= n;
					progress = 1;
				} else if (rc == CURLE_AGAIN)
					pfd[1].events |= POLLOUT;
				else
					remote_eof = 1;
			}
		}
		if (progress)
			continue;
		if (pfd[0].events)
			pfd[0].fd = p->fd;
		if (pfd[1].events)
			pfd[1].fd = p->s;
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
	}
	curl_easy_cleanup(p->c);
	close(p->fd);
	free(up);
	free(down);
	pthread_mutex_lock(&pumps_mu);
	p->done = 1;
	pthread_mutex_unlock(&pumps_mu);
	return NULL;
}

enum http_class
http_upgrade(const char *method, const char *url, const char *proto,
    const struct http_opt *opt, int *fdp, struct http_resp *resp,
    struct strbuf *err)
{
	struct strbuf head = STRBUF_INIT;
	enum http_class cls = HTTP_TEMP;
	long long deadline;
	curl_socket_t s = CURL_SOCKET_BAD;
	char ebuf[CURL_ERROR_SIZE] = "", ch;
	int sv[2], tls, fl, r;
	CURL *c = NULL;
	CURLcode rc;

	*fdp = -1;
	if (method == NULL)
		method = "GET";
	if (opt == NULL) {
		static const struct http_opt def = HTTP_OPT_INIT;

		opt = &def;
	}
	deadline = now_ms() + (opt->timeout_ms > 0 ? opt->timeout_ms :
	    UPG_TIMEOUT_MS);
	tls = strncasecmp(url, "https://", 8) == 0;
	if (!tls && strncasecmp(url, "http://", 7) != 0) {
		strbuf_addf(err, "%s ", method);
		log_escape(err, url, strlen(url));
		strbuf_addstr(err, ": not an http(s) URL");
		return HTTP_PERM;
	}
	pthread_once(&upg_once, upg_init);
	if (upg_init_failed || (c = curl_easy_init()) == NULL) {
		strbuf_addstr(err, "libcurl: cannot start");
		return HTTP_TEMP;
	}
	if (request_head(method, url, proto, opt, &head) == -1) {
		strbuf_addf(err, "%s ", method);
		log_escape(err, url, strlen(url));
		strbuf_addstr(err, ": malformed URL or header");
		cls = HTTP_PERM;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 15L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 15L);
	if (opt->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, opt->cacert);
	if (opt->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK ||
	    s == CURL_SOCKET_BAD) {
		strbuf_addf(err, "%s ", method);
		log_escape(err, url, strlen(url));
		strbuf_addstr(err, ": ");
		if (ebuf[0] != '\0')
			log_escape(err, ebuf, strcspn(ebuf, "\r\n"));
		else
			strbuf_addstr(err, curl_easy_strerror(rc));
		cls = rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_SSL_CACERT_BADFILE ||
		    rc == CURLE_URL_MALFORMAT ? HTTP_PERM : HTTP_TEMP;
		goto out;
	}
	if (send_all(c, s, head.buf, head.len, deadline) == -1)
		goto io_err;
	strbuf_reset(&head);
	strbuf_reset(&resp->headers);
	strbuf_reset(&resp->body);
	resp->status = 0;
	while (!(head.len >= 4 &&
	    memcmp(head.buf + head.len - 4, "\r\n\r\n", 4) == 0)) {
		if ((r = recv_byte(c, s, &ch, deadline)) <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			goto io_err;
		}
		if (head.len >= UPG_HEAD_MAX) {
			strbuf_addf(err, "%s ", method);
			log_escape(err, url, strlen(url));
			strbuf_addf(err, ": response head over %d bytes",
			    UPG_HEAD_MAX);
			cls = HTTP_PERM;
			goto out;
		}
		strbuf_addch(&head, ch);
	}
	strbuf_add(&resp->headers, head.buf, head.len);
	resp->status = head_status(head.buf);
	if (resp->status != 101) {
		struct strbuf cl = STRBUF_INIT;
		long long len = 0;

		/* a short error body says why (a bad key, say) */
		if (http_resp_header(resp, "Content-Length", &cl) == 0)
			len = strtoll(cl.buf, NULL, 10);
		strbuf_release(&cl);
		while (len-- > 0 && resp->body.len < UPG_BODY_MAX &&
		    recv_byte(c, s, &ch, deadline) == 1)
			strbuf_addch(&resp->body, ch);
		strbuf_addf(err, "%s ", method);
		log_escape(err, url, strlen(url));
		if (resp->status == 0) {
			strbuf_addstr(err, ": not an HTTP/1 response");
			cls = HTTP_PERM;
		} else {
			strbuf_addf(err, ": HTTP %ld", resp->status);
			if (resp->body.len > 0) {
				strbuf_addstr(err, ": ");
				log_escape(err, resp->body.buf,
				    strcspn(resp->body.buf, "\r\n"));
			}
			/* a 2xx is no success: it did not upgrade */
			cls = resp->status / 100 == 2 ? HTTP_PERM :
			    http_status_class(resp->status);
		}
		goto out;
	}
	if (!tls) {
		/* the TCP connection itself, blocking again */
		if ((*fdp = fcntl(s, F_DUPFD_CLOEXEC, 3)) == -1)
			goto io_err;
		if ((fl = fcntl(*fdp, F_GETFL)) != -1)
			(void)fcntl(*fdp, F_SETFL, fl & ~O_NONBLOCK);
		cls = HTTP_OK;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		goto io_err;
	{
		struct pump *p = xmalloc(sizeof(*p));

		(void)pumps_join(-1);
		p->c = c;
		p->s = s;
		p->fd = sv[1];
		p->done = 0;
		pthread_mutex_lock(&pumps_mu);
		r = pthread_create(&p->t, NULL, pump_main, p);
		if (r == 0) {
			p->next = pumps;
			pumps = p;
		}
		pthread_mutex_unlock(&pumps_mu);
		if (r != 0) {
			free(p);
			close(sv[0]);
			close(sv[1]);
			errno = r;
			goto io_err;
		}
	}
	c = NULL;		/* the pump's */
	*fdp = sv[0];
	cls = HTTP_OK;
	goto out;
io_err:
	strbuf_addf(err, "%s ", method);
	log_escape(err, url, strlen(url));
	strbuf_addf(err, ": %s", strerror(errno));
	cls = HTTP_TEMP;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	strbuf_release(&head);
	return cls;
}
