/*
 * http-upgrade.c: a request answered by 101 Switching Protocols, after
 * which the connection carries raw bytes (the buildlet's /connect-ssh).
 *
 * libcurl 7.88 gives no socket back after a plain 101: a normal
 * transfer reads what follows as a body until the peer closes, and
 * CURLOPT_CONNECT_ONLY = 2 does the same for http:// (it stops after
 * the answer only for ws://, whose 101 must carry Sec-WebSocket-Accept).
 * So libcurl connects (DNS, TCP, TLS with the usual verification) in
 * CONNECT_ONLY = 1 mode, the request head is written here with
 * curl_easy_send, and the answer's head is read with curl_easy_recv up
 * to its blank line: only the status code is looked at, the header
 * lines are kept for the caller.  URL parsing is libcurl's (CURLU), the
 * Basic credentials' base64 lib/crypto's.
 *
 * After the 101 a thread of our own copies bytes between libcurl's
 * connection (curl_easy_recv/send, so TLS works too) and one end of a
 * socket pair; the caller gets the other end.
 */
#include "compat.h"

#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "crypto.h"
#include "http.h"
#include "log.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define HEAD_MAX	(64 * 1024)
#define DEFAULT_MS	30000L

struct pump {
	CURL *c;
	int sock;		/* libcurl's, for poll only */
	int sp;			/* our end of the socket pair */
	struct strbuf pre;	/* read past the head */
};

static void
fail(struct strbuf *err, const char *method, const char *url, const char *why)
{
	strbuf_addf(err, "%s '", method);
	log_escape(err, url, strlen(url));
	strbuf_addf(err, "': %s", why);
}

/* Wait until sock is ready for ev or the deadline passes: 0 or -1. */
static int
wait_sock(int sock, short ev, long long deadline)
{
	struct pollfd pfd = { sock, ev, 0 };
	long long left = deadline - mono_ms();
	int r;

	if (left <= 0)
		return -1;
	while ((r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left))) == 0 ||
	    (r == -1 && errno == EINTR))
		if ((left = deadline - mono_ms()) <= 0)
			return -1;
	return r > 0 ? 0 : -1;
}

static CURLcode
send_all(CURL *c, int sock, const char *p, size_t n, long long deadline)
{
	CURLcode rc;
	size_t sent;

	while (n > 0) {
		rc = curl_easy_send(c, p, n, &sent);
		if (rc == CURLE_AGAIN) {
			if (wait_sock(sock, POLLOUT, deadline) == -1)
				return CURLE_OPERATION_TIMEDOUT;
			continue;
		}
		if (rc != CURLE_OK)
			return rc;
		p += sent;
		n -= sent;
	}
	return CURLE_OK;
}

/* All of p to our socket, never raising SIGPIPE: 0 or -1. */
static int
to_sp(int sp, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(sp, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *
pump_main(void *arg)
{
	struct pump *u = arg;
	char buf[64 * 1024];
	struct pollfd pfd[2];
	int in_eof = 0, out_eof = 0;
	ssize_t n;
	size_t got;
	CURLcode rc;

	if (to_sp(u->sp, u->pre.buf, u->pre.len) == -1)
		goto out;
	while (!in_eof || !out_eof) {
		/* what TLS already holds is never announced by poll */
		while (!in_eof) {
			rc = curl_easy_recv(u->c, buf, sizeof(buf), &got);
			if (rc == CURLE_AGAIN)
				break;
			if (rc != CURLE_OK)
				goto out;
			if (got == 0) {
				shutdown(u->sp, SHUT_WR);
				in_eof = 1;
			} else if (to_sp(u->sp, buf, got) == -1)
				goto out;
		}
		pfd[0] = (struct pollfd){ u->sock, in_eof ? 0 : POLLIN, 0 };
		pfd[1] = (struct pollfd){ u->sp, out_eof ? 0 : POLLIN, 0 };
		if (in_eof && out_eof)
			break;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (!out_eof && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = read(u->sp, buf, sizeof(buf))) == -1) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				goto out;
			}
			if (n == 0) {
				shutdown(u->sock, SHUT_WR);
				out_eof = 1;
			} else if (send_all(u->c, u->sock, buf, (size_t)n,
			    mono_ms() + 3600 * 1000LL) != CURLE_OK)
				goto out;
		}
	}
out:
	shutdown(u->sp, SHUT_RDWR);
	close(u->sp);
	curl_easy_cleanup(u->c);
	strbuf_release(&u->pre);
	free(u);
	return NULL;
}

/* The request head into out: 0, or -1 with err. */
static int
head(struct strbuf *out, const struct http_req *req,
    const struct http_opt *opt, const char *method, struct strbuf *err)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	struct strbuf cred = STRBUF_INIT;
	size_t i;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, req->url, 0) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		fail(err, method, req->url, "malformed URL");
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
	strbuf_addf(out, "%s %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\n"
	    "User-Agent: buildfarm\r\nContent-Length: 0\r\n", method, path,
	    query != NULL ? "?" : "", query != NULL ? query : "", host,
	    port != NULL ? ":" : "", port != NULL ? port : "");
	if (opt->user != NULL && opt->password != NULL) {
		strbuf_addf(&cred, "%s:%s", opt->user, opt->password);
		strbuf_addstr(out, "Authorization: Basic ");
		crypto_base64_encode(out, cred.buf, cred.len);
		strbuf_addstr(out, "\r\n");
	}
	for (i = 0; opt->headers != NULL && opt->headers[i] != NULL; i++) {
		if (strpbrk(opt->headers[i], "\r\n") != NULL) {
			fail(err, method, req->url, "bad header");
			goto out;
		}
		strbuf_addf(out, "%s\r\n", opt->headers[i]);
	}
	strbuf_addstr(out, "\r\n");
	rc = 0;
out:
	if (cred.len > 0)
		memset(cred.buf, 0, cred.len);
	strbuf_release(&cred);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

static enum http_class
answer_class(long st)
{
	if (st == 401 || st == 403)
		return HTTP_AUTH;
	if (st == 404 || st == 410)
		return HTTP_NOTFOUND;
	if (st == 408 || st == 429 || st >= 500)
		return HTTP_TEMP;
	return HTTP_PERM;
}

enum http_class
http_upgrade(const struct http_req *req, const struct http_opt *opt,
    struct http_resp *resp, int *fd, struct strbuf *err)
{
	const char *method = req->method != NULL ? req->method : "POST";
	struct strbuf h = STRBUF_INIT, in = STRBUF_INIT;
	long long deadline;
	curl_socket_t sock = CURL_SOCKET_BAD;
	enum http_class cls = HTTP_TEMP;
	struct pump *u;
	pthread_t th;
	CURL *c;
	CURLcode rc;
	char *end = NULL, buf[4096];
	size_t got, hl, n;
	int sp[2];

	*fd = -1;
	resp->status = 0;
	strbuf_reset(&resp->body);
	strbuf_reset(&resp->headers);
	deadline = mono_ms() + (opt->timeout_ms > 0 ? opt->timeout_ms :
	    DEFAULT_MS);
	if (head(&h, req, opt, method, err) == -1) {
		strbuf_release(&h);
		return HTTP_PERM;
	}
	if ((c = curl_easy_init()) == NULL) {
		fail(err, method, req->url, "cannot initialise libcurl");
		strbuf_release(&h);
		return HTTP_TEMP;
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : 10000L);
	if (opt->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, opt->cacert);
	if (opt->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if ((rc = curl_easy_perform(c)) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK ||
	    sock == CURL_SOCKET_BAD ||
	    (rc = send_all(c, sock, h.buf, h.len, deadline)) != CURLE_OK) {
		fail(err, method, req->url, curl_easy_strerror(rc));
		if (rc == CURLE_PEER_FAILED_VERIFICATION ||
		    rc == CURLE_URL_MALFORMAT ||
		    rc == CURLE_UNSUPPORTED_PROTOCOL)
			cls = HTTP_PERM;
		goto fail;
	}
	/* the answer's head, up to its blank line */
	while ((end = memmem(in.buf, in.len, "\r\n\r\n", 4)) == NULL) {
		if (in.len > HEAD_MAX) {
			fail(err, method, req->url, "answer head too long");
			goto fail;
		}
		rc = curl_easy_recv(c, buf, sizeof(buf), &got);
		if (rc == CURLE_AGAIN) {
			if (wait_sock(sock, POLLIN, deadline) == -1) {
				fail(err, method, req->url,
				    "timeout waiting for the answer");
				goto fail;
			}
			continue;
		}
		if (rc != CURLE_OK || got == 0) {
			fail(err, method, req->url, rc != CURLE_OK ?
			    curl_easy_strerror(rc) : "connection closed "
			    "before an answer");
			goto fail;
		}
		strbuf_add(&in, buf, got);
	}
	hl = (size_t)(end - in.buf) + 4;
	strbuf_add(&resp->headers, in.buf, hl);
	if (in.len < 12 || strncmp(in.buf, "HTTP/1.", 7) != 0 ||
	    in.buf[8] != ' ' || (resp->status = strtol(in.buf + 9, NULL,
	    10)) < 100 || resp->status > 599) {
		resp->status = 0;
		fail(err, method, req->url, "not an HTTP answer");
		goto fail;
	}
	if (resp->status != 101) {
		strbuf_add(&resp->body, in.buf + hl, in.len - hl);
		cls = answer_class(resp->status);
		strbuf_addf(err, "%s '", method);
		log_escape(err, req->url, strlen(req->url));
		strbuf_addf(err, "': %ld", resp->status);
		n = strcspn(resp->body.buf, "\r\n");
		if (n > 0) {
			strbuf_addstr(err, ": ");
			log_escape(err, resp->body.buf, n > 200 ? 200 : n);
		}
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		fail(err, method, req->url, strerror(errno));
		goto fail;
	}
	u = xcalloc(1, sizeof(*u));
	u->c = c;
	u->sock = (int)sock;
	u->sp = sp[1];
	strbuf_init(&u->pre, 0);
	strbuf_add(&u->pre, in.buf + hl, in.len - hl);
	if (pthread_create(&th, NULL, pump_main, u) != 0) {
		fail(err, method, req->url, "cannot start a thread");
		close(sp[0]);
		close(sp[1]);
		strbuf_release(&u->pre);
		free(u);
		goto fail;
	}
	pthread_detach(th);
	*fd = sp[0];
	strbuf_release(&h);
	strbuf_release(&in);
	return HTTP_OK;
fail:
	curl_easy_cleanup(c);
	strbuf_release(&h);
	strbuf_release(&in);
	return cls;
}
