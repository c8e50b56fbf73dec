/*
 * www.c: the dashboard's site (dashboard(1)), [dashboard] dir, served
 * as static files at "/" when it holds an index.html.
 *
 * Only regular files under the directory are served: a path with a
 * component that starts with '.' ("..", the dashboard's temporaries),
 * a backslash or an empty component is refused, and every component is
 * opened with O_NOFOLLOW from its parent, so no symlink leads out.
 */
#include "compat.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"
#include "farmconf.h"
#include "httpd.h"
#include "strbuf.h"

#define MAX_PATH	1024

static const struct {
	const char *ext, *ctype;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static void
www_dir(struct strbuf *out)
{
	farmconf_www(out, cx.conf, cx.dir);
}

int
www_present(void)
{
	struct strbuf p = STRBUF_INIT;
	int ok;

	www_dir(&p);
	strbuf_addstr(&p, "/index.html");
	ok = access(p.buf, F_OK) == 0;
	strbuf_release(&p);
	return ok;
}

/* The file of path, opened without following a symlink, or -1. */
static int
open_beneath(const char *root, const char *path)
{
	struct strbuf comp = STRBUF_INIT;
	const char *p = path + 1, *sl;
	int dfd, fd;

	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		sl = strchr(p, '/');
		strbuf_reset(&comp);
		strbuf_add(&comp, p, sl != NULL ? (size_t)(sl - p) : strlen(p));
		if (comp.len == 0)
			strbuf_addstr(&comp, "index.html");	/* ".../" */
		if (comp.buf[0] == '.') {
			fd = -1;
			break;
		}
		fd = openat(dfd, comp.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    (sl != NULL ? O_DIRECTORY : O_NONBLOCK));
		if (sl == NULL || fd == -1)
			break;
		close(dfd);
		dfd = fd;
		p = sl + 1;
	}
	close(dfd);
	strbuf_release(&comp);
	return fd;
}

int
www_serve(struct httpd_req *req, const char *path)
{
	struct strbuf root = STRBUF_INIT;
	const char *ctype = "text/plain; charset=utf-8";
	struct stat st;
	size_t i, n = strlen(path);
	int fd;

	if (*path != '/' || n > MAX_PATH || strchr(path, '\\') != NULL ||
	    strstr(path, "//") != NULL)
		return 0;
	www_dir(&root);
	fd = open_beneath(root.buf, path);
	strbuf_release(&root);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (path[n - 1] == '/')
		ctype = types[0].ctype;
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		size_t k = strlen(types[i].ext);

		if (n > k && strcmp(path + n - k, types[i].ext) == 0)
			ctype = types[i].ctype;
	}
	httpd_add_header(req, "X-Content-Type-Options", "nosniff");
	httpd_reply_fd(req, 200, ctype, fd, 0, st.st_size, HTTPD_RANGE);
	return 1;
}
