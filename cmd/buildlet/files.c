/*
 * files: putting files into the work directory and taking them away:
 * PUT /write, PUT and POST /writetgz, POST /removeall.
 *
 * Every name is resolved beneath the work directory one component at
 * a time without following symbolic links (tar_open_dir), so neither a
 * name from a request or an archive nor a link a command left behind
 * can make the buildlet write or remove anything outside it; a path
 * that goes through a link is refused with 400.  Messages for failures
 * name the absolute path as Go's errors did ("open /w/x: ...").
 */
#include "compat.h"

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "http.h"
#include "httpd.h"
#include "log.h"
#include "num.h"
#include "strbuf.h"
#include "tar.h"
#include "xmalloc.h"

#define COPY_BUF	(1024 * 1024)

/* Go's os.FileMode bits that are not plain permissions. */
#define GO_MODE_DIR	(1U << 31)
#define GO_MODE_SYMLINK	(1U << 27)
#define GO_MODE_DEVICE	(1U << 26)
#define GO_MODE_PIPE	(1U << 25)
#define GO_MODE_SOCKET	(1U << 24)
#define GO_MODE_TYPE	(GO_MODE_DIR | GO_MODE_SYMLINK | GO_MODE_DEVICE | \
	GO_MODE_PIPE | GO_MODE_SOCKET)

static void
reply_errno(struct httpd_req *req, int status, const char *op,
    const char *rel, int err)
{
	struct strbuf m = STRBUF_INIT;
	char ebuf[128];

	/* a full disk is 507 Insufficient Storage, not the server's fault */
	if (status == 500 && (err == ENOSPC || err == EDQUOT))
		status = 507;
	strbuf_addf(&m, "%s %s%s%s: %s", op, bl.workdir, *rel ? "/" : "",
	    rel, go_strerror(err, ebuf, sizeof(ebuf)));
	httpd_error(req, status, m.buf);
	strbuf_release(&m);
}

static void
reply_symlink(struct httpd_req *req, const char *what, const char *name)
{
	struct strbuf m = STRBUF_INIT;

	strbuf_addf(&m, "%s", what);
	go_quote(&m, name);
	strbuf_addstr(&m, " goes through a symbolic link");
	httpd_error(req, 400, m.buf);
	strbuf_release(&m);
}

/*
 * The mode parameter: a decimal os.FileMode (strconv.ParseInt, then
 * the uint32 conversion) that must be a regular file's.  Only its
 * permission bits are kept, as /writetgz keeps them: a client must not
 * make a set-uid file (of root, when the buildlet runs as root).
 * Returns 0 with *mode set, or -1.
 */
static int
parse_mode(const char *s, mode_t *mode)
{
	unsigned long long v = 0;
	int neg = 0;
	uint32_t m;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (1ULL << 62))
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (v > (neg ? (1ULL << 63) : (1ULL << 63) - 1))
		return -1;
	m = (uint32_t)(neg ? (unsigned long long)-(long long)v : v);
	if (m & GO_MODE_TYPE)
		return -1;
	*mode = m & 0777;
	return 0;
}

/*
 * 507 when writing need more bytes to fd's file system would leave
 * less than -min-free free: 1 after answering, else 0.
 */
static int
no_space(struct httpd_req *req, int fd, const char *rel,
    unsigned long long need)
{
	struct strbuf m = STRBUF_INIT;

	strbuf_addf(&m, "write %s: ", rel);
	if (tar_space_check(fd, need, bl.min_free, &m) == 0) {
		strbuf_release(&m);
		return 0;
	}
	httpd_error(req, 507, m.buf);
	strbuf_release(&m);
	return 1;
}

void
handle_write(struct httpd_req *req)
{
	struct strbuf dir = STRBUF_INIT, leaf = STRBUF_INIT,
	    rel = STRBUF_INIT;
	const char *path, *ms, *cl;
	unsigned long long total = 0, since = 0;
	uint64_t clen;
	char *buf = NULL;
	mode_t mode;
	int wfd = -1, dfd = -1, fd = -1, in, saved;
	ssize_t n;

	if (strcmp(httpd_method(req), "PUT") != 0) {
		/* sic: the original's words */
		httpd_error(req, 400, "requires POST method");
		goto out;
	}
	path = httpd_query(req, "path");
	if (path == NULL || !valid_rel_path(path) ||
	    tar_split_path(path, &dir, &leaf) == -1) {
		httpd_error(req, 400, "bad path");
		goto out;
	}
	ms = httpd_query(req, "mode");
	if (parse_mode(ms != NULL ? ms : "", &mode) == -1) {
		httpd_error(req, 400, "bad mode");
		goto out;
	}
	strbuf_addf(&rel, "%s%s%s", dir.buf, dir.len ? "/" : "", leaf.buf);
	if ((wfd = workdir_open(req)) == -1)
		goto out;
	if ((dfd = tar_open_dir(wfd, dir.buf, 1)) == -1) {
		if (errno == ELOOP)
			reply_symlink(req, "bad path: ", path);
		else
			reply_errno(req, 500, "mkdir", dir.buf, errno);
		goto out;
	}
	if (leaf.len == 0) {
		reply_errno(req, 500, "open", rel.buf, EISDIR);
		goto out;
	}
	if ((fd = tar_create_file(dfd, leaf.buf, mode & 0777)) == -1) {
		if (errno == ELOOP)
			reply_symlink(req, "bad path: ", path);
		else
			reply_errno(req, 500, "open", rel.buf, errno);
		goto out;
	}
	/* the whole length at once when it is known, then as it comes */
	if ((cl = httpd_header(req, "Content-Length")) == NULL ||
	    num_parse_u64(cl, 0, UINT64_MAX, &clen) == -1)
		clen = 0;
	if (no_space(req, fd, rel.buf, clen))
		goto unlink;
	buf = xmalloc(COPY_BUF);
	in = httpd_body_fd(req);
	for (;;) {
		n = read(in, buf, COPY_BUF);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((total += (unsigned long long)n) > MAX_UPLOAD) {
			httpd_error(req, 413, "request body too large");
			goto unlink;
		}
		if (write_all(fd, buf, (size_t)n) == -1) {
			reply_errno(req, 500, "write", rel.buf, errno);
			goto unlink;
		}
		if ((since += (unsigned long long)n) >= SPACE_EVERY) {
			since = 0;
			if (no_space(req, fd, rel.buf, 0))
				goto unlink;
		}
	}
	if (n == -1) {
		/* the client went away mid-body: no half file */
		log_warnx("write %s: body cut short: %s", esc(rel.buf),
		    strerror(errno));
		httpd_error(req, 400, "request body cut short");
		goto unlink;
	}
	/* the exact mode, whatever the umask (Go chmods too) */
	if (fchmod(fd, mode) == -1) {
		reply_errno(req, 500, "chmod", rel.buf, errno);
		goto unlink;
	}
	saved = close(fd);
	fd = -1;
	if (saved == -1) {
		reply_errno(req, 500, "close", rel.buf, errno);
		goto unlink;
	}
	httpd_reply(req, 200, NULL, "OK", 2);
	goto out;
unlink:
	(void)unlinkat(dfd, leaf.buf, 0);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (wfd >= 0)
		close(wfd);
	free(buf);
	strbuf_release(&dir);
	strbuf_release(&leaf);
	strbuf_release(&rel);
}

/* ---- /writetgz ---- */

struct fetch {
	const char *url;
	int fd;			/* the pipe's write end: ours to close */
	enum http_class cls;
	struct http_resp resp;
	struct strbuf err;
};

static void *
fetch_main(void *arg)
{
	struct fetch *f = arg;
	struct http_opt opt = HTTP_OPT_INIT;

	opt.sink_fd = f->fd;
	opt.max_body = (size_t)MAX_UPLOAD;
	/* a server that stalls for a minute is gone */
	opt.low_speed = 1;
	opt.low_speed_s = 60;
	f->cls = http_get(f->url, &opt, &f->resp, &f->err);
	close(f->fd);
	return NULL;
}

/* Go's res.Status: "404 Not Found", from the status line as sent. */
static void
status_text(struct strbuf *out, const struct http_resp *r)
{
	const char *p = r->headers.buf, *e = strchr(p, '\r');
	const char *sp;

	if (strncmp(p, "HTTP/", 5) == 0 && e != NULL &&
	    (sp = memchr(p, ' ', (size_t)(e - p))) != NULL &&
	    e - sp > 5) {
		strbuf_add(out, sp + 1, (size_t)(e - sp - 1));
		return;
	}
	strbuf_addf(out, "%ld", r->status);
}

static void
reply_untar(struct httpd_req *req, const struct tar_xres *r)
{
	struct strbuf m = STRBUF_INIT;
	int status = 400;

	switch (r->err) {
	case TAR_XOK:
		break;
	case TAR_XGZIP:
		strbuf_addf(&m, "requires gzip-compressed body: %s",
		    r->msg.buf);
		break;
	case TAR_XFORMAT:
	case TAR_XLIMIT:
		strbuf_addf(&m, "tar error: %s", r->msg.buf);
		break;
	case TAR_XNAME:
		strbuf_addstr(&m, "tar file contained invalid name ");
		go_quote(&m, r->name.buf);
		break;
	case TAR_XTYPE:
		if ((r->mode & S_IFMT) == 0)
			strbuf_addf(&m, "tar file entry %s is a hard link; "
			    "not supported", r->name.buf);
		else {
			strbuf_addf(&m, "tar file entry %s contained "
			    "unsupported file type ", r->name.buf);
			go_mode(&m, r->mode);
		}
		break;
	case TAR_XSYMLINK:
		strbuf_addstr(&m, r->msg.buf);
		break;
	case TAR_XREAD:
		strbuf_addf(&m, "reading request body: %s", r->msg.buf);
		break;
	case TAR_XIO:
		status = 500;
		strbuf_addstr(&m, r->msg.buf);
		break;
	case TAR_XNOSPACE:
		status = 507;
		strbuf_addstr(&m, r->msg.buf);
		break;
	}
	httpd_error(req, status, m.buf);
	strbuf_release(&m);
}

static int
tar_name_ok(const char *name)
{
	return valid_rel_path(name);
}

void
handle_writetgz(struct httpd_req *req)
{
	struct tar_xopt o = TAR_XOPT_INIT;
	struct tar_xres r = TAR_XRES_INIT;
	struct strbuf clean = STRBUF_INIT, m = STRBUF_INIT;
	struct fetch f;
	const char *dir = httpd_query(req, "dir"), *method = httpd_method(req);
	const char *url;
	struct stat st;
	pthread_t thr;
	int wfd, bfd = -1, in, p[2] = { -1, -1 }, fetching = 0;

	memset(&f, 0, sizeof(f));
	if ((wfd = workdir_open(req)) == -1)
		goto out;
	if (dir != NULL && *dir != '\0') {
		if (!valid_rel_dir(dir, &clean)) {
			httpd_error(req, 400, "bogus dir");
			goto out;
		}
		/* a blind write of the bootstrap toolchain is done once */
		if (strcmp(method, "POST") == 0 &&
		    strcmp(clean.buf, "go1.4") == 0 &&
		    fstatat(wfd, "go1.4", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			httpd_reply(req, 200, NULL, "SKIP", 4);
			goto out;
		}
	}
	if ((bfd = tar_open_dir(wfd, clean.buf, 1)) == -1) {
		if (errno == ELOOP)
			reply_symlink(req, "bogus dir: ", dir);
		else {
			char ebuf[128];

			strbuf_addf(&m, "mkdir of base: mkdir %s/%s: %s",
			    bl.workdir, clean.buf, go_strerror(errno, ebuf,
			    sizeof(ebuf)));
			httpd_error(req, 500, m.buf);
		}
		goto out;
	}
	if (strcmp(method, "PUT") == 0)
		in = httpd_body_fd(req);
	else if (strcmp(method, "POST") == 0) {
		url = httpd_form(req, "url");
		if (url == NULL || *url == '\0') {
			httpd_error(req, 400, "missing url POST param");
			goto out;
		}
		if (pipe2(p, O_CLOEXEC) == -1) {
			httpd_error(req, 500, "pipe failed");
			goto out;
		}
		f.url = url;
		f.fd = p[1];
		f.resp = (struct http_resp)HTTP_RESP_INIT;
		strbuf_init(&f.err, 0);
		if (pthread_create(&thr, NULL, fetch_main, &f) != 0) {
			close(p[1]);
			httpd_error(req, 500, "cannot start a thread");
			goto out;
		}
		fetching = 1;
		in = p[0];
	} else {
		httpd_error(req, 400, "requires PUT or POST method");
		goto out;
	}

	o.max_bytes = MAX_UPLOAD;
	o.min_free = bl.min_free;
	o.name_ok = tar_name_ok;
	tar_extract(in, bfd, &o, &r);
	if (fetching) {
		/* a fetch still writing sees EPIPE once nobody reads */
		close(p[0]);
		p[0] = -1;
		pthread_join(thr, NULL);
		if (f.resp.status != 0 && f.resp.status != 200) {
			strbuf_addstr(&m, "writetgz: fetching provided URL ");
			go_quote(&m, f.url);
			strbuf_addstr(&m, ": ");
			status_text(&m, &f.resp);
			httpd_error(req, 500, m.buf);
			goto out;
		}
		/*
		 * A fetch that broke shows as a cut-short archive; one that
		 * broke because the archive was refused (we stopped reading)
		 * is not the news.
		 */
		if (f.cls != HTTP_OK && (r.err == TAR_XOK ||
		    strstr(r.msg.buf, "EOF") != NULL)) {
			strbuf_addf(&m, "fetching URL %s: %s", f.url, f.err.buf);
			httpd_error(req, 500, m.buf);
			goto out;
		}
	}
	if (r.err != TAR_XOK) {
		log_warnx("writetgz: %s", esc(r.msg.buf));
		reply_untar(req, &r);
		goto out;
	}
	httpd_reply(req, 200, NULL, "OK", 2);
out:
	if (fetching) {
		http_resp_release(&f.resp);
		strbuf_release(&f.err);
	}
	if (p[0] >= 0)
		close(p[0]);
	if (bfd >= 0)
		close(bfd);
	if (wfd >= 0)
		close(wfd);
	tar_xres_release(&r);
	strbuf_release(&clean);
	strbuf_release(&m);
}

/* ---- /removeall ---- */

static int remove_entry(int dfd, const char *name, struct strbuf *rel,
    struct strbuf *err);

static void
rm_error(struct strbuf *err, const char *op, const struct strbuf *rel,
    int e)
{
	char ebuf[128];

	if (err->len == 0)
		strbuf_addf(err, "%s %s%s%s: %s", op, bl.workdir,
		    rel->len ? "/" : "", rel->buf,
		    go_strerror(e, ebuf, sizeof(ebuf)));
}

/* Remove the contents of directory dfd; rel names it for messages. */
static int
empty_dir_rel(int dfd, struct strbuf *rel, struct strbuf *err)
{
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, alloc = 0, i, len = rel->len;
	DIR *d;
	int fd, ret = 0;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		rm_error(err, "open", rel, errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* names first: removing while reading may skip entries */
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		rm_error(err, "readdir", rel, errno);
		ret = -1;
	}
	closedir(d);
	for (i = 0; i < nr; i++) {
		if (ret == 0) {
			if (len > 0)
				strbuf_addch(rel, '/');
			strbuf_addstr(rel, names[i]);
			if (remove_entry(dfd, names[i], rel, err) == -1)
				ret = -1;
			strbuf_setlen(rel, len);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int
empty_dir(int dirfd, struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT;
	int ret = empty_dir_rel(dirfd, &rel, err);

	strbuf_release(&rel);
	return ret;
}

/*
 * Remove name in dfd, recursively, never following a symbolic link.
 * A directory that forbids removing its entries (a read-only Go module
 * cache) is made writable first: it is ours to remove.
 */
static int
remove_entry(int dfd, const char *name, struct strbuf *rel,
    struct strbuf *err)
{
	struct stat st;
	int fd, tries, flag = 0, e = 0;

	for (tries = 0; tries < 4; tries++) {
		if (unlinkat(dfd, name, flag) == 0 || errno == ENOENT)
			return 0;
		e = errno;
		if ((e == EISDIR || e == EPERM) && flag == 0) {
			if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
				if (errno == ENOENT)
					return 0;
				rm_error(err, "lstat", rel, errno);
				return -1;
			}
			if (!S_ISDIR(st.st_mode))
				break;
			fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd == -1) {
				rm_error(err, "open", rel, errno);
				return -1;
			}
			if (empty_dir_rel(fd, rel, err) == -1) {
				close(fd);
				return -1;
			}
			close(fd);
			flag = AT_REMOVEDIR;
			continue;
		}
		/* the parent is read-only: open it up and try again */
		if (e == EACCES && fstat(dfd, &st) == 0 &&
		    (st.st_mode & 0700) != 0700 &&
		    fchmod(dfd, (st.st_mode & 07777) | 0700) == 0)
			continue;
		break;
	}
	rm_error(err, "unlinkat", rel, e);
	return -1;
}

void
handle_removeall(struct httpd_req *req)
{
	struct strbuf dir = STRBUF_INIT, leaf = STRBUF_INIT,
	    rel = STRBUF_INIT, err = STRBUF_INIT, m = STRBUF_INIT;
	const char *const *paths;
	ssize_t n, i;
	int wfd = -1, dfd;

	if (strcmp(httpd_method(req), "POST") != 0) {
		httpd_error(req, 400, "requires POST method");
		goto out;
	}
	if ((n = form_values(req, "path", &paths, &m)) == -1) {
		httpd_error(req, 400, m.buf);
		goto out;
	}
	if (n == 0) {
		httpd_error(req, 400, "requires 'path' parameter");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!valid_rel_path(paths[i]) ||
		    tar_split_path(paths[i], &dir, &leaf) == -1) {
			strbuf_addstr(&m, "bad 'path' parameter: ");
			go_quote(&m, paths[i]);
			httpd_error(req, 400, m.buf);
			goto out;
		}
	if ((wfd = workdir_open(req)) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		tar_split_path(paths[i], &dir, &leaf);
		if (leaf.len == 0) {
			/* "." empties the work directory, which stays */
			if (empty_dir(wfd, &err) == -1)
				break;
			continue;
		}
		if ((dfd = tar_open_dir(wfd, dir.buf, 0)) == -1) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;	/* nothing there to remove */
			if (errno == ELOOP) {
				reply_symlink(req, "bad 'path' parameter: ",
				    paths[i]);
				goto out;
			}
			strbuf_reset(&rel);
			strbuf_addstr(&rel, dir.buf);
			rm_error(&err, "open", &rel, errno);
			break;
		}
		strbuf_reset(&rel);
		strbuf_addf(&rel, "%s%s%s", dir.buf, dir.len ? "/" : "",
		    leaf.buf);
		if (remove_entry(dfd, leaf.buf, &rel, &err) == -1) {
			close(dfd);
			break;
		}
		close(dfd);
	}
	if (err.len > 0) {
		httpd_error(req, 500, err.buf);
		goto out;
	}
	httpd_reply(req, 200, NULL, "", 0);
out:
	if (wfd >= 0)
		close(wfd);
	strbuf_release(&dir);
	strbuf_release(&leaf);
	strbuf_release(&rel);
	strbuf_release(&err);
	strbuf_release(&m);
}
