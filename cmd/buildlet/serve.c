/*
 * serve: the buildlet's HTTP routes, authentication and the small
 * endpoints (/, /status, /workdir, /halt, /debug/x).
 *
 * Routes and their checks follow the original's ServeMux: exact paths;
 * anything else is "/", which answers 404 for every path but "/"
 * itself, without authentication.  Every other route but /debug/x
 * needs the password when one is set (HTTP Basic, the user name
 * ignored, compared in constant time): 403 "invalid password"
 * otherwise, as the original said.
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto.h"
#include "extern.h"
#include "httpd.h"
#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"

struct buildlet bl;

struct route {
	const char *path;
	void (*fn)(struct httpd_req *req);
	int auth;
};

static void handle_root(struct httpd_req *req);
static void handle_status(struct httpd_req *req);
static void handle_workdir(struct httpd_req *req);
static void handle_halt(struct httpd_req *req);
static void handle_debug_x(struct httpd_req *req);

static const struct route routes[] = {
	{ "/connect-ssh", handle_connect_ssh, 1 },
	{ "/debug/x", handle_debug_x, 0 },
	{ "/exec", handle_exec, 1 },
	{ "/halt", handle_halt, 1 },
	{ "/ls", handle_ls, 1 },
	{ "/removeall", handle_removeall, 1 },
	{ "/status", handle_status, 1 },
	{ "/tgz", handle_tgz, 1 },
	{ "/workdir", handle_workdir, 1 },
	{ "/write", handle_write, 1 },
	{ "/writetgz", handle_writetgz, 1 },
};

static int
authorized(struct httpd_req *req)
{
	char *user = NULL, *pass = NULL;
	int ok;

	if (bl.password == NULL)
		return 1;
	/* Go's r.BasicAuth: no or bad credentials mean an empty password */
	if (httpd_basic_auth(req, &user, &pass) == -1)
		ok = ct_streq("", bl.password);
	else
		ok = ct_streq(pass, bl.password);
	if (pass != NULL) {
		bf_wipe(pass, strlen(pass));
		free(pass);
	}
	free(user);
	return ok;
}

void
serve(struct httpd_req *req, void *arg)
{
	const char *path = httpd_path(req);
	size_t i;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(routes); i++)
		if (strcmp(path, routes[i].path) == 0)
			break;
	if (i == ARRAY_SIZE(routes)) {
		handle_root(req);
		return;
	}
	if (routes[i].auth) {
		if (!authorized(req)) {
			httpd_error(req, 403, "invalid password");
			return;
		}
		/* the long idle timeout, and room kept for it */
		httpd_trust(req);
	}
	if (params_have_nul(req))
		return;
	routes[i].fn(req);
}

/* Uploads are streamed to the handler; everything else is buffered. */
enum httpd_body_mode
body_mode(struct httpd_req *req, void *arg)
{
	const char *path = httpd_path(req);

	(void)arg;
	if (strcmp(httpd_method(req), "PUT") == 0 &&
	    (strcmp(path, "/write") == 0 || strcmp(path, "/writetgz") == 0))
		return HTTPD_BODY_PIPE;
	return HTTPD_BODY_BUFFER;
}

int
params_have_nul(struct httpd_req *req)
{
	struct strbuf m = STRBUF_INIT;
	const char *bad;

	if (httpd_param_nul(req)) {
		httpd_error(req, 400, "parameter holds a NUL byte");
		return 1;
	}
	/* Go's ParseQuery fails here; acting on the raw text would guess */
	if ((bad = httpd_param_bad_escape(req)) != NULL) {
		strbuf_addstr(&m, "invalid URL escape ");
		go_quote(&m, bad);
		httpd_error(req, 400, m.buf);
		strbuf_release(&m);
		return 1;
	}
	return 0;
}

ssize_t
form_values(struct httpd_req *req, const char *key, const char *const **vals,
    struct strbuf *why)
{
	size_t n = httpd_form_all(req, key, vals), i;

	if (n > MAX_VALUES) {
		strbuf_addf(why, "too many '%s' parameters (at most %d)", key,
		    MAX_VALUES);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (strlen((*vals)[i]) > MAX_FIELD) {
			strbuf_addf(why, "'%s' parameter longer than %d bytes",
			    key, MAX_FIELD);
			return -1;
		}
	return (ssize_t)n;
}

int
workdir_open(struct httpd_req *req)
{
	char ebuf[128];
	struct strbuf m = STRBUF_INIT;
	int fd;

	/*
	 * Opened per request, as the original ran MkdirAll per request:
	 * a command may have removed the directory.
	 */
	fd = open(bl.workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (mkdir(bl.workdir, 0755) == -1 && errno != EEXIST)
			goto fail;
		fd = open(bl.workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
fail:
	strbuf_addf(&m, "mkdir %s: %s", bl.workdir,
	    go_strerror(errno, ebuf, sizeof(ebuf)));
	httpd_error(req, 500, m.buf);
	strbuf_release(&m);
	return -1;
}

static void
handle_root(struct httpd_req *req)
{
	if (strcmp(httpd_path(req), "/") != 0) {
		httpd_error(req, 404, "404 page not found");
		return;
	}
	httpd_replyf(req, 200, "buildlet running on linux-%s\n",
#if defined(__x86_64__)
	    "amd64"
#elif defined(__i386__)
	    "386"
#elif defined(__aarch64__)
	    "arm64"
#elif defined(__arm__)
	    "arm"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	    "ppc64le"
#elif defined(__powerpc64__)
	    "ppc64"
#elif defined(__s390x__)
	    "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
	    "riscv64"
#elif defined(__mips__)
	    "mips"
#else
	    "unknown"
#endif
	    );
}

static void
handle_status(struct httpd_req *req)
{
	char body[32];
	int n;

	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_error(req, 400, "requires GET method");
		return;
	}
	n = snprintf(body, sizeof(body), "{\"Version\":%d}",
	    BUILDLET_VERSION);
	httpd_reply(req, 200, "application/json; charset=utf-8", body,
	    (size_t)n);
}

static void
handle_workdir(struct httpd_req *req)
{
	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_error(req, 400, "requires GET method");
		return;
	}
	httpd_reply(req, 200, NULL, bl.workdir, strlen(bl.workdir));
}

static void *
halt_main(void *arg)
{
	(void)arg;
	sleep(1);
	log_warnx("halting: /halt was called");
	/* main() waits for this signal, then stops and runs -halt-cmd */
	kill(getpid(), SIGUSR1);
	return NULL;
}

void
halt_later(void)
{
	pthread_t thr;

	if (pthread_create(&thr, NULL, halt_main, NULL) == 0)
		pthread_detach(thr);
	else
		kill(getpid(), SIGUSR1);	/* at once, then */
}

static void
handle_halt(struct httpd_req *req)
{
	if (strcmp(httpd_method(req), "POST") != 0) {
		httpd_error(req, 400, "requires POST method");
		return;
	}
	/* act in a second, so this reply gets out first */
	halt_later();
	httpd_reply(req, 200, NULL, "", 0);
}

/* Unauthenticated: n bytes of 'X' (at most 1 MiB), to test the MTU. */
static void
handle_debug_x(struct httpd_req *req)
{
	const char *s = httpd_form(req, "n");
	long n = 0;
	char *buf, *end;

	if (s != NULL) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || end == s || n < 0)
			n = 0;	/* Go's Atoi error gave 0 */
	}
	if (n > 1 << 20)
		n = 1 << 20;
	buf = xmalloc((size_t)n + 1);
	memset(buf, 'X', (size_t)n);
	httpd_reply(req, 200, "text/plain; charset=utf-8", buf, (size_t)n);
	free(buf);
}
