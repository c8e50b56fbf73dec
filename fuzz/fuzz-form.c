/*
 * fuzz-form: form bodies through the whole HTTP stack the buildlet
 * uses: libmicrohttpd and lib/httpd.c parse them (with its fallback
 * splitter for forms libmicrohttpd refuses), then the buildlet's
 * exec_prepare and the /removeall and /ls parameter checks take them,
 * in a server in this process on 127.0.0.1.  Nothing is run or
 * removed; the handler checks what would be:
 *
 *   - a prepared command has an argv, an absolute directory, and an
 *     environment with each key once; outside mode=sys its directory
 *     and program are inside the work directory;
 *   - every removeall path that passes has no ".." component.
 *
 * The first input byte chooses the route (/exec or /removeall) and
 * whether the form also goes in the query string; the rest is the
 * body, sent with Content-Length and Connection: close.
 *
 *   make fuzz && sh fuzz/run.sh 600 form
 */
#include "compat.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"
#include "httpd.h"
#include "strbuf.h"
#include "tar.h"

extern char **environ;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct httpd *srv;
static int port;

static int
under_workdir(const char *p)
{
	size_t n = strlen(bl.workdir);

	return strncmp(p, bl.workdir, n) == 0 && (p[n] == '\0' ||
	    p[n] == '/') && strstr(p, "/../") == NULL &&
	    (strlen(p) < 3 || strcmp(p + strlen(p) - 3, "/..") != 0);
}

static void
check_exec(struct httpd_req *req)
{
	struct strbuf msg = STRBUF_INIT;
	struct exec_spec spec;
	const char *mode = httpd_form(req, "mode");
	size_t i, j, ki, kj;
	int status;

	if (exec_prepare(req, &spec, &status, &msg) == 0) {
		if (spec.argv == NULL || spec.argv[0] == NULL ||
		    spec.dir == NULL || spec.dir[0] != '/' || spec.envp == NULL)
			abort();
		if ((mode == NULL || strcmp(mode, "sys") != 0) &&
		    (!under_workdir(spec.dir) || !under_workdir(spec.argv[0])))
			abort();
		for (i = 0; spec.envp[i] != NULL; i++) {
			const char *eq = strchr(spec.envp[i], '=');

			ki = eq != NULL ? (size_t)(eq - spec.envp[i]) : 0;
			for (j = i + 1; ki > 0 && spec.envp[j] != NULL; j++) {
				eq = strchr(spec.envp[j], '=');
				kj = eq != NULL ? (size_t)(eq - spec.envp[j]) : 0;
				if (ki == kj &&
				    memcmp(spec.envp[i], spec.envp[j], ki) == 0)
					abort();
			}
		}
		exec_spec_free(&spec);
		httpd_reply(req, 200, NULL, "ok", 2);
	} else if (status != 0)
		httpd_error(req, status, msg.buf);
	strbuf_release(&msg);
}

static void
check_removeall(struct httpd_req *req)
{
	struct strbuf d = STRBUF_INIT, l = STRBUF_INIT;
	const char *const *paths;
	ssize_t n, i;

	if ((n = form_values(req, "path", &paths)) == -1)
		return;
	for (i = 0; i < n; i++)
		if (valid_rel_path(paths[i]) &&
		    tar_split_path(paths[i], &d, &l) == 0 &&
		    (strstr(d.buf, "..") != NULL && (strcmp(d.buf, "..") == 0 ||
		    strncmp(d.buf, "../", 3) == 0 || strstr(d.buf, "/../") ||
		    (d.len >= 3 && strcmp(d.buf + d.len - 3, "/..") == 0))))
			abort();
	httpd_reply(req, 200, NULL, "", 0);
	strbuf_release(&d);
	strbuf_release(&l);
}

static void
handler(struct httpd_req *req, void *arg)
{
	(void)arg;
	if (params_have_nul(req))
		return;
	if (strcmp(httpd_path(req), "/exec") == 0)
		check_exec(req);
	else
		check_removeall(req);
}

static void
quiet(const char *line, void *arg)
{
	(void)line;
	(void)arg;
}

static void
setup(void)
{
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t n;

	bl.workdir = "/tmp/fuzz-form-wd";
	bl.path = "/usr/bin:/bin";
	for (n = 0; environ[n] != NULL; n++)
		;
	bl.env = environ;
	bl.nenv = n;
	cfg.listen = "127.0.0.1:0";
	cfg.handler = handler;
	cfg.max_body = MAX_FORM;
	cfg.log = quiet;
	if ((srv = httpd_start(&cfg, &err)) == NULL) {
		fprintf(stderr, "fuzz-form: %s\n", err.buf);
		abort();
	}
	port = httpd_port(srv);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct strbuf rq = STRBUF_INIT;
	struct linger lin = { 1, 0 };
	struct sockaddr_in sin;
	char buf[4096];
	const char *path;
	ssize_t n;
	int s;

	if (srv == NULL)
		setup();
	if (size < 1)
		return 0;
	path = (data[0] & 1) ? "/removeall" : "/exec";
	strbuf_addf(&rq, "POST %s", path);
	if (data[0] & 2) {
		/* the same bytes as a query string, where they are allowed */
		strbuf_addch(&rq, '?');
		for (n = 1; (size_t)n < size && n < 512; n++)
			strbuf_addch(&rq, data[n] > ' ' && data[n] < 0x7f &&
			    data[n] != '#' ? data[n] : '+');
	}
	strbuf_addf(&rq, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n", size - 1);
	strbuf_add(&rq, data + 1, size - 1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/*
	 * A reset on close leaves no TIME_WAIT behind: a million
	 * connections would use up the ephemeral ports otherwise.
	 */
	for (n = 0;; n++) {
		if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			abort();
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
		close(s);
		if (n == 100)
			abort();
		usleep(10000);
	}
	/* the server may answer and close before taking it all */
	(void)send(s, rq.buf, rq.len, MSG_NOSIGNAL);
	while ((n = read(s, buf, sizeof(buf))) > 0)
		;
	close(s);
	strbuf_release(&rq);
	return 0;
}
