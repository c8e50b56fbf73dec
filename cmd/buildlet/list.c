/*
 * list: GET /ls and GET /tgz, the two walks of a directory.
 *
 * Both walk like Go's filepath.Walk: pre-order, names in byte order,
 * symbolic links reported but never followed (and not descended
 * into), an error aborting the walk.  The walk goes through directory
 * descriptors opened with O_NOFOLLOW, so a link swapped in for a
 * directory mid-walk cannot lead it outside the work directory.
 *
 * /ls answers 500 "Walk error: ..." when the walk fails before any
 * line; later failures cut the chunked answer short (the original
 * closed the connection), so a client never takes half a listing for
 * a whole one.  /tgz writes the tar on a producer thread into a pgz
 * (parallel gzip members, or one member with pargzip=0), which the
 * connection's thread reads; a failure mid-walk likewise cuts the
 * answer short.
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

#include "crypto.h"
#include "extern.h"
#include "gz.h"
#include "httpd.h"
#include "log.h"
#include "strbuf.h"
#include "tar.h"
#include "timefmt.h"
#include "xmalloc.h"

#define LS_PREFETCH	(64 * 1024)	/* listing made before answering */
#define HASH_BUF	(64 * 1024)
/*
 * Levels.  pargzip=0 ("release mode") is gzip's default, with zlib.
 * The parallel members are libdeflate's at the same level 6: smaller
 * than gzip -6's on a Go tree in about half zlib's CPU time, which is
 * what lets two cores beat "tar czf" by more than 2x.
 */
#define TGZ_LEVEL_PAR	6
#define TGZ_LEVEL_ONE	6

/* ---- the walk ---- */

struct frame {
	int fd;
	char **names;
	size_t n, i;
	size_t rellen;		/* w->rel's length for this directory */
};

struct walk {
	struct frame *f;
	size_t nf, af;
	struct strbuf rel;	/* the entry just returned, relative */
	struct strbuf base;	/* the walk's root, absolute, for messages */
	int descend;		/* the entry just returned is a directory */
};

struct walk_ent {
	const char *rel;
	const char *name;
	int dirfd;		/* the directory holding name */
	struct stat st;
};

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
walk_err(struct walk *w, struct strbuf *err, const char *op, int e)
{
	char ebuf[128];

	strbuf_addf(err, "%s %s%s%s: %s", op, w->base.buf, w->rel.len ? "/" :
	    "", w->rel.buf, go_strerror(e, ebuf, sizeof(ebuf)));
}

/* Push directory fd (ours now), its names read and sorted. */
static int
push(struct walk *w, int fd, struct strbuf *err)
{
	struct frame *f;
	struct dirent *de;
	DIR *d;
	int dfd;

	GROW(w->f, w->nf + 1, w->af);
	f = &w->f[w->nf];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->rellen = w->rel.len;
	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(dfd)) == NULL) {
		walk_err(w, err, "open", errno);
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return -1;
	}
	{
		size_t alloc = 0;

		while ((errno = 0, de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			GROW(f->names, f->n + 1, alloc);
			f->names[f->n++] = xstrdup(de->d_name);
		}
	}
	if (errno != 0) {
		walk_err(w, err, "readdirent", errno);
		closedir(d);
		close(fd);
		while (f->n > 0)
			free(f->names[--f->n]);
		free(f->names);
		return -1;
	}
	closedir(d);
	/* an empty directory has no array, and qsort's may not be NULL */
	if (f->n > 1)
		qsort(f->names, f->n, sizeof(*f->names), cmp_names);
	w->nf++;
	return 0;
}

static void
pop(struct walk *w)
{
	struct frame *f = &w->f[--w->nf];

	close(f->fd);
	while (f->n > 0)
		free(f->names[--f->n]);
	free(f->names);
}

/* A walk of directory fd (ours now); base names it in messages. */
static struct walk *
walk_open(int fd, const char *base, struct strbuf *err)
{
	struct walk *w = xcalloc(1, sizeof(*w));

	strbuf_init(&w->rel, 0);
	strbuf_init(&w->base, 0);
	strbuf_addstr(&w->base, base);
	if (push(w, fd, err) == -1) {
		strbuf_release(&w->rel);
		strbuf_release(&w->base);
		free(w);
		return NULL;
	}
	return w;
}

static void
walk_close(struct walk *w)
{
	if (w == NULL)
		return;
	while (w->nf > 0)
		pop(w);
	free(w->f);
	strbuf_release(&w->rel);
	strbuf_release(&w->base);
	free(w);
}

/* The next entry: 1, 0 at the end, -1 with a message in err. */
static int
walk_next(struct walk *w, struct walk_ent *e, struct strbuf *err)
{
	struct frame *f;
	int fd;

	if (w->descend) {
		w->descend = 0;
		f = &w->f[w->nf - 1];
		fd = openat(f->fd, f->names[f->i - 1], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			walk_err(w, err, "open", errno);
			return -1;
		}
		if (push(w, fd, err) == -1)
			return -1;
	}
	for (;;) {
		if (w->nf == 0)
			return 0;
		f = &w->f[w->nf - 1];
		if (f->i == f->n) {
			pop(w);
			continue;
		}
		strbuf_setlen(&w->rel, f->rellen);
		if (f->rellen > 0)
			strbuf_addch(&w->rel, '/');
		strbuf_addstr(&w->rel, f->names[f->i]);
		e->name = f->names[f->i];
		e->dirfd = f->fd;
		e->rel = w->rel.buf;
		f->i++;
		if (fstatat(f->fd, e->name, &e->st, AT_SYMLINK_NOFOLLOW) ==
		    -1) {
			walk_err(w, err, "lstat", errno);
			return -1;
		}
		w->descend = S_ISDIR(e->st.st_mode);
		return 1;
	}
}

/* Do not descend into the directory walk_next just returned. */
static void
walk_skip(struct walk *w)
{
	w->descend = 0;
}

/*
 * The directory a request names (already valid_rel_dir-cleaned),
 * opened for a walk; -1 after answering 500 as /ls does, or 400 when
 * the name goes through a symbolic link (the client's error).
 */
static int
open_base(struct httpd_req *req, int wfd, const char *clean,
    struct strbuf *base)
{
	struct strbuf m = STRBUF_INIT;
	char ebuf[128];
	int fd;

	strbuf_addstr(base, bl.workdir);
	if (strcmp(clean, ".") != 0)
		strbuf_addf(base, "/%s", clean);
	if ((fd = tar_open_dir(wfd, clean, 0)) >= 0)
		return fd;
	if (errno == ELOOP) {
		strbuf_addstr(&m, "bogus dir: ");
		go_quote(&m, clean);
		strbuf_addstr(&m, " goes through a symbolic link");
		httpd_error(req, 400, m.buf);
		strbuf_release(&m);
		return -1;
	}
	strbuf_addf(&m, "Walk error: %s %s: %s", errno == ENOENT ||
	    errno == ENOTDIR ? "lstat" : "open", base->buf, go_strerror(errno, ebuf, sizeof(ebuf)));
	httpd_error(req, 500, m.buf);
	strbuf_release(&m);
	return -1;
}

/* ---- /ls ---- */

struct ls {
	struct walk *w;
	int recursive, digest;
	const char *const *skip;	/* the request's, alive as long */
	size_t nskip;
	struct strbuf out;
	size_t pos;
	int done, failed;
	unsigned char *hbuf;
};

static int
sha1_file(int dirfd, const char *name, char hex[HASH_HEX_MAX],
    unsigned char *buf, int *errp)
{
	struct hash *h;
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		*errp = errno;
		return -1;
	}
	h = hash_new(HASH_SHA1);
	for (;;) {
		n = read(fd, buf, HASH_BUF);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		hash_update(h, buf, (size_t)n);
	}
	*errp = errno;
	close(fd);
	if (n == -1) {
		hash_free(h);
		return -1;
	}
	hash_hex(h, hex);
	hash_free(h);
	return 0;
}

/*
 * One line of the listing for the entry name in dirfd (rel: its name
 * in the listing): 0, or -1 with a message in err when its digest
 * cannot be made.
 */
static int
ls_line(struct strbuf *out, const char *base, const char *rel,
    const struct stat *st, int dirfd, const char *name, int digest,
    unsigned char *hbuf, struct strbuf *err)
{
	char hex[HASH_HEX_MAX];
	int eno;

	go_mode(out, st->st_mode);
	strbuf_addf(out, "\t%s", rel);
	if (S_ISREG(st->st_mode)) {
		strbuf_addf(out, "\t%lld\t", (long long)st->st_size);
		time_rfc3339(out, (struct timespec){ st->st_mtim.tv_sec, 0 },
		    0);
		if (digest) {
			if (sha1_file(dirfd, name, hex, hbuf, &eno) == -1) {
				strbuf_addf(err, "open %s%s%s: %s", base,
				    *rel ? "/" : "", rel, strerror(eno));
				return -1;
			}
			strbuf_addf(out, "\t%s", hex);
		}
	} else if (S_ISDIR(st->st_mode))
		strbuf_addch(out, '/');
	strbuf_addch(out, '\n');
	return 0;
}

/* Walk on until out holds want bytes, or the end, or a failure. */
static void
ls_fill(struct ls *l, size_t want, struct strbuf *err)
{
	struct walk_ent e;
	size_t i;
	int r, skipped;

	while (!l->done && !l->failed && l->out.len - l->pos < want) {
		r = walk_next(l->w, &e, err);
		if (r <= 0) {
			l->done = r == 0;
			l->failed = r == -1;
			break;
		}
		if (S_ISDIR(e.st.st_mode)) {
			for (skipped = 0, i = 0; i < l->nskip; i++)
				if (strcmp(e.rel, l->skip[i]) == 0)
					skipped = 1;
			if (skipped) {
				walk_skip(l->w);
				continue;
			}
			if (!l->recursive)
				walk_skip(l->w);
		}
		if (ls_line(&l->out, l->w->base.buf, e.rel, &e.st, e.dirfd,
		    e.name, l->digest, l->hbuf, err) == -1) {
			l->failed = 1;
			break;
		}
	}
}

/*
 * /ls of something that is not a directory: the original's walk
 * gives one line for it, with an empty name.  1 when answered, 0 when
 * clean is a directory or cannot be looked at here (open_base then
 * answers).
 */
static int
ls_one(struct httpd_req *req, int wfd, const char *clean, int digest)
{
	struct strbuf dir = STRBUF_INIT, leaf = STRBUF_INIT,
	    out = STRBUF_INIT, err = STRBUF_INIT, m = STRBUF_INIT;
	unsigned char *hbuf = NULL;
	struct stat st;
	int pfd = -1, done = 0;

	if (tar_split_path(clean, &dir, &leaf) == -1 || leaf.len == 0)
		goto out;
	if ((pfd = tar_open_dir(wfd, dir.len ? dir.buf : ".", 0)) == -1 ||
	    fstatat(pfd, leaf.buf, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
		goto out;
	done = 1;
	hbuf = xmalloc(HASH_BUF);
	strbuf_addf(&m, "%s/%s", bl.workdir, clean);
	if (ls_line(&out, m.buf, "", &st, pfd, leaf.buf, digest, hbuf,
	    &err) == -1) {
		strbuf_reset(&m);
		strbuf_addf(&m, "Walk error: %s", err.buf);
		httpd_error(req, 500, m.buf);
	} else
		httpd_reply(req, 200, NULL, out.buf, out.len);
out:
	if (pfd >= 0)
		close(pfd);
	free(hbuf);
	strbuf_release(&dir);
	strbuf_release(&leaf);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&m);
	return done;
}

static ssize_t
ls_read(void *arg, char *buf, size_t max)
{
	struct ls *l = arg;
	struct strbuf err = STRBUF_INIT;
	size_t k;

	if (l->out.len == l->pos) {
		strbuf_reset(&l->out);
		l->pos = 0;
		ls_fill(l, max, &err);
		if (l->failed && err.len > 0)
			log_warnx("ls: walk error: %s", esc(err.buf));
		strbuf_release(&err);
	}
	if (l->out.len > l->pos) {
		k = l->out.len - l->pos;
		if (k > max)
			k = max;
		memcpy(buf, l->out.buf + l->pos, k);
		l->pos += k;
		return (ssize_t)k;
	}
	/* the walk failed after lines went out: cut the answer */
	return l->failed ? -1 : 0;
}

static void
ls_free(void *arg, int closed)
{
	struct ls *l = arg;

	(void)closed;
	walk_close(l->w);
	strbuf_release(&l->out);
	free(l->hbuf);
	free(l);
}

void
handle_ls(struct httpd_req *req)
{
	struct strbuf clean = STRBUF_INIT, base = STRBUF_INIT,
	    err = STRBUF_INIT, m = STRBUF_INIT;
	const char *dir, *s;
	struct ls *l;
	ssize_t n;
	int wfd = -1, bfd;

	l = xcalloc(1, sizeof(*l));
	strbuf_init(&l->out, 0);
	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_error(req, 400, "requires GET method");
		goto fail;
	}
	dir = (s = httpd_form(req, "dir")) != NULL ? s : "";
	if ((s = httpd_form(req, "recursive")) == NULL ||
	    parse_bool(s, &l->recursive) == -1)
		l->recursive = 0;
	if ((s = httpd_form(req, "digest")) == NULL ||
	    parse_bool(s, &l->digest) == -1)
		l->digest = 0;
	if ((n = form_values(req, "skip", &l->skip, &m)) == -1) {
		httpd_error(req, 400, m.buf);
		goto fail;
	}
	l->nskip = (size_t)n;
	if ((wfd = workdir_open(req)) == -1)
		goto fail;
	if (!valid_rel_dir(dir, &clean)) {
		httpd_error(req, 400, "bogus dir");
		goto fail;
	}
	if (ls_one(req, wfd, clean.buf, l->digest))
		goto fail;
	if ((bfd = open_base(req, wfd, clean.buf, &base)) == -1)
		goto fail;
	if ((l->w = walk_open(bfd, base.buf, &err)) == NULL) {
		strbuf_addf(&m, "Walk error: %s", err.buf);
		httpd_error(req, 500, m.buf);
		goto fail;
	}
	l->hbuf = xmalloc(HASH_BUF);
	ls_fill(l, LS_PREFETCH, &err);
	if (l->failed && l->out.len == 0) {
		strbuf_addf(&m, "Walk error: %s", err.buf);
		httpd_error(req, 500, m.buf);
		goto fail;
	}
	if (l->failed)
		log_warnx("ls: walk error: %s", esc(err.buf));
	if (l->done) {
		/* all of it: one plain answer */
		httpd_reply(req, 200, NULL, l->out.buf, l->out.len);
		goto fail;
	}
	httpd_reply_stream(req, 200, NULL, ls_read, ls_free, l);
	l = NULL;
fail:
	if (l != NULL)
		ls_free(l, 0);
	if (wfd >= 0)
		close(wfd);
	strbuf_release(&clean);
	strbuf_release(&base);
	strbuf_release(&err);
	strbuf_release(&m);
}

/* ---- /tgz ---- */

struct tgz {
	struct walk *w;
	struct pgz *p;
	pthread_t thr;
	int thr_started;
};

static int
to_pgz(void *arg, const void *p, size_t n)
{
	return pgz_write(arg, p, n);
}

static void *
tgz_main(void *arg)
{
	struct tgz *t = arg;
	struct strbuf err = STRBUF_INIT, link = STRBUF_INIT;
	struct tar_writer *tw;
	struct walk_ent e;
	ssize_t n;
	int r, fd;

	tw = tar_writer_new(to_pgz, t->p);
	while ((r = walk_next(t->w, &e, &err)) == 1) {
		fd = -1;
		strbuf_reset(&link);
		if (S_ISREG(e.st.st_mode)) {
			fd = openat(e.dirfd, e.name, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (fd == -1) {
				strbuf_addf(&err, "open %s: %s", e.rel,
				    strerror(errno));
				r = -1;
				break;
			}
		} else if (S_ISLNK(e.st.st_mode)) {
			strbuf_grow(&link, PATH_MAX);
			n = readlinkat(e.dirfd, e.name, link.buf, PATH_MAX);
			if (n == -1) {
				strbuf_addf(&err, "readlink %s: %s", e.rel,
				    strerror(errno));
				r = -1;
				break;
			}
			strbuf_setlen(&link, (size_t)n);
		}
		r = tar_writer_add(tw, e.rel, &e.st, link.buf, fd, &err);
		if (fd >= 0)
			close(fd);
		if (r == -1)
			break;
	}
	if (r == 0 && tar_writer_close(tw, &err) == 0)
		pgz_close(t->p);
	else {
		/* the reader went away, or the walk failed: cut it short */
		if (err.len > 0 && strcmp(err.buf, "tar stream already "
		    "failed") != 0 && strstr(err.buf, "output closed") == NULL)
			log_warnx("tgz: walk error: %s", esc(err.buf));
		pgz_abort(t->p);
	}
	tar_writer_free(tw);
	strbuf_release(&err);
	strbuf_release(&link);
	return NULL;
}

static ssize_t
tgz_read(void *arg, char *buf, size_t max)
{
	struct tgz *t = arg;

	return pgz_read(t->p, buf, max);
}

static void
tgz_done(void *arg, int closed)
{
	struct tgz *t = arg;

	(void)closed;
	pgz_cancel(t->p);
	if (t->thr_started)
		pthread_join(t->thr, NULL);
	pgz_free(t->p);
	walk_close(t->w);
	free(t);
}

void
handle_tgz(struct httpd_req *req)
{
	struct strbuf clean = STRBUF_INIT, base = STRBUF_INIT,
	    err = STRBUF_INIT, m = STRBUF_INIT;
	struct pgz_opt o = PGZ_OPT_INIT;
	const char *dir, *s;
	struct tgz *t;
	int wfd = -1, bfd;

	if (strcmp(httpd_method(req), "GET") != 0) {
		httpd_error(req, 400, "requires GET method");
		goto out;
	}
	if ((wfd = workdir_open(req)) == -1)
		goto out;
	dir = (s = httpd_form(req, "dir")) != NULL ? s : "";
	if (!valid_rel_dir(dir, &clean)) {
		httpd_error(req, 400, "bogus dir");
		goto out;
	}
	if ((bfd = open_base(req, wfd, clean.buf, &base)) == -1)
		goto out;
	t = xcalloc(1, sizeof(*t));
	if ((t->w = walk_open(bfd, base.buf, &err)) == NULL) {
		strbuf_addf(&m, "Walk error: %s", err.buf);
		httpd_error(req, 500, m.buf);
		free(t);
		goto out;
	}
	s = httpd_form(req, "pargzip");
	o.single = s != NULL && strcmp(s, "0") == 0;
	o.level = o.single ? TGZ_LEVEL_ONE : TGZ_LEVEL_PAR;
	t->p = pgz_new(&o);
	if (pthread_create(&t->thr, NULL, tgz_main, t) == 0)
		t->thr_started = 1;
	else
		pgz_abort(t->p);
	httpd_reply_stream(req, 200, "application/x-gzip", tgz_read, tgz_done,
	    t);
out:
	if (wfd >= 0)
		close(wfd);
	strbuf_release(&clean);
	strbuf_release(&base);
	strbuf_release(&err);
	strbuf_release(&m);
}
