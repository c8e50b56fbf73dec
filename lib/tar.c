#include "compat.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "gz.h"
#include "strbuf.h"
#include "tar.h"
#include "xmalloc.h"

#define RING_N		8		/* buffers between the two threads */
#define RING_BUF	(256 * 1024)
#define NCACHE		32		/* open directories kept, per writer */
#define MAXW		4		/* writer threads */
#define BUDGET		(16 * 1024 * 1024)	/* file data in flight */
#define WBUF		(1024 * 1024)	/* tar_writer file reads */
#define SPACE_EVERY	(8 * 1024 * 1024)	/* min_free checks */

/* ---- paths ---- */

/*
 * Walk the components of rel: fn(comp, len, arg) for each one that is
 * not empty or ".".  -1 with EINVAL for an absolute name, a ".."
 * component or a backslash, ENAMETOOLONG past PATH_MAX.
 */
static int
check_rel(const char *rel)
{
	const char *p, *e;
	size_t n;

	if (rel[0] == '/' || strchr(rel, '\\') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (strlen(rel) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = rel; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

int
tar_split_path(const char *rel, struct strbuf *dir, struct strbuf *leaf)
{
	const char *p, *e;
	size_t n;

	strbuf_reset(dir);
	strbuf_reset(leaf);
	if (check_rel(rel) == -1)
		return -1;
	for (p = rel; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (leaf->len > 0) {
			if (dir->len > 0)
				strbuf_addch(dir, '/');
			strbuf_add(dir, leaf->buf, leaf->len);
		}
		strbuf_reset(leaf);
		strbuf_add(leaf, p, n);
	}
	return 0;
}

int
tar_space_check(int fd, unsigned long long need, unsigned long long min_free,
    struct strbuf *err)
{
	struct statvfs sv;
	unsigned long long avail;

	if (min_free == 0 || fstatvfs(fd, &sv) == -1)
		return 0;	/* no floor, or none to be known: ENOSPC tells */
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	if (avail >= need && avail - need >= min_free)
		return 0;
	strbuf_addf(err, "not enough free space: %llu bytes free, %llu to "
	    "write, %llu to be kept free", avail, need, min_free);
	errno = ENOSPC;
	return -1;
}

/* Why openat(O_NOFOLLOW|O_DIRECTORY) refused name: ELOOP or ENOTDIR. */
static int
refusal(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return ELOOP;
	return ENOTDIR;
}

int
tar_open_dir(int dirfd, const char *rel, int create)
{
	const char *p, *e;
	char comp[NAME_MAX + 1];
	int fd, nfd, saved;
	size_t n;

	if (check_rel(rel) == -1)
		return -1;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	for (p = rel; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) == -1 && errno != EEXIST)
				goto fail;
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd == -1) {
			if (errno == ELOOP || errno == ENOTDIR)
				errno = refusal(fd, comp);
			goto fail;
		}
		close(fd);
		fd = nfd;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
tar_create_file(int dirfd, const char *leaf, mode_t mode)
{
	struct stat st;
	int fd, tries;

	for (tries = 0; tries < 5; tries++) {
		fd = openat(dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile: again */
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			errno = ELOOP;
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return -1;
		}
		if (unlinkat(dirfd, leaf, 0) == -1 && errno != ENOENT)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* ---- the input thread ---- */

/*
 * The reader thread fills buffers; the caller's thread hands them to
 * libarchive one at a time ("held" is the one libarchive is parsing,
 * returned on the next call).
 */
struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[RING_N];
	size_t len[RING_N];
	unsigned head, count;
	int held;
	int done;		/* the reader has finished */
	enum gz_kind kind;	/* how: GZ_OK at the clean end */
	char msg[160];
	int cancel;
	int cancel_w;		/* written to stop a blocked reader */
	int cancel_r;
	int fd, raw;
	unsigned long long total;	/* decompressed bytes */
	/* the consumer's: what libarchive was handed, and its last buffer */
	unsigned long long given;
	const unsigned char *last;
	size_t last_n;
};

/*
 * Plain reads for raw tar input, with gunz's cancellation: fills buf
 * up to max; a failure after some bytes shows on the next call.
 */
static ssize_t
raw_fill(struct ring *g, unsigned char *buf, size_t max,
    enum gz_kind *kind, char *msg, size_t msgsz)
{
	struct pollfd pfd[2];
	size_t got = 0;
	ssize_t n;

	while (got < max && *kind == GZ_OK) {
		pfd[0].fd = g->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = g->cancel_r;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			n = -1;
		} else if (pfd[1].revents != 0) {
			snprintf(msg, msgsz, "canceled");
			*kind = GZ_ECANCEL;
			break;
		} else
			n = read(g->fd, buf + got, max - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(msg, msgsz, "read: %s", strerror(errno));
			*kind = GZ_EIO;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == 0 && *kind != GZ_OK)
		return -1;
	return (ssize_t)got;
}

static void *
reader_main(void *arg)
{
	struct ring *g = arg;
	struct gunz *z = NULL;
	enum gz_kind kind = GZ_OK;
	char msg[sizeof(g->msg)];
	unsigned slot;
	ssize_t n;

	msg[0] = '\0';
	if (!g->raw)
		z = gunz_new(g->fd, g->cancel_r);
	for (;;) {
		pthread_mutex_lock(&g->mu);
		while (g->count == RING_N && !g->cancel)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->cancel) {
			g->done = 1;
			pthread_cond_broadcast(&g->cv);
			pthread_mutex_unlock(&g->mu);
			break;
		}
		slot = (g->head + g->count) % RING_N;
		pthread_mutex_unlock(&g->mu);

		if (z != NULL) {
			n = gunz_read(z, g->buf[slot], RING_BUF);
			if (n == -1) {
				kind = gunz_kind(z);
				snprintf(msg, sizeof(msg), "%s", gunz_error(z));
			}
		} else
			n = raw_fill(g, g->buf[slot], RING_BUF, &kind, msg,
			    sizeof(msg));

		pthread_mutex_lock(&g->mu);
		if (n > 0) {
			g->len[slot] = (size_t)n;
			g->count++;
			g->total += (unsigned long long)n;
		} else {
			g->done = 1;
			g->kind = kind;
			memcpy(g->msg, msg, sizeof(g->msg));
		}
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		if (n <= 0)
			break;
	}
	gunz_free(z);
	return NULL;
}

/*
 * The next buffer for the consumer, returning the one it held.
 * Returns its length, 0 at the end, -1 when the reader failed.
 */
static ssize_t
ring_next(struct ring *g, const void **p)
{
	ssize_t n;

	pthread_mutex_lock(&g->mu);
	if (g->held) {
		g->head = (g->head + 1) % RING_N;
		g->count--;
		g->held = 0;
		pthread_cond_broadcast(&g->cv);
	}
	while (g->count == 0 && !g->done)
		pthread_cond_wait(&g->cv, &g->mu);
	if (g->count > 0) {
		g->held = 1;
		*p = g->buf[g->head];
		n = (ssize_t)g->len[g->head];
	} else
		n = g->kind == GZ_OK ? 0 : -1;
	pthread_mutex_unlock(&g->mu);
	return n;
}

static void
ring_cancel(struct ring *g)
{
	pthread_mutex_lock(&g->mu);
	g->cancel = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	(void)!write(g->cancel_w, "x", 1);
}

/* ---- extraction ---- */

/*
 * The caller's thread parses the tar and hands each entry, data copied,
 * to one of a few writer threads, chosen by the entry's directory: so
 * files of different directories are created in parallel (the kernel
 * does much of the work of a create, and does it per directory), while
 * the entries of one directory, and so two entries of the same name,
 * are written in archive order.  Data in flight is bounded by BUDGET.
 */

enum job_kind {
	J_DIR,
	J_FILE,
};

struct job {
	struct job *next;
	enum job_kind kind;
	int first, last;	/* a file's first and last piece */
	char *name;		/* the entry, for messages (first piece) */
	char *dir, *leaf;	/* normalised (first piece) */
	mode_t mode;
	struct timespec mtime;
	long long size;
	unsigned char *data;
	size_t len;
	long long off;
};

struct dent {
	char *path;
	int fd;
	unsigned long used;
};

struct xctx;

struct worker {
	struct xctx *x;
	pthread_t thr;
	pthread_cond_t cv;
	struct job *head, **tailp;
	struct dent cache[NCACHE];
	unsigned long clock;
	int fd;			/* the file being written, or -1 */
	char *name;		/* its entry name */
	long long end, size;
	struct timespec mtime;
	unsigned long files, dirs;
};

struct xctx {
	struct archive *a;
	struct ring *g;
	int dirfd;
	const struct tar_xopt *o;
	struct tar_xres *r;
	struct timespec t0;
	struct strbuf dir, leaf;
	pthread_mutex_t mu;	/* guards r's error, the queues, inflight */
	pthread_cond_t space;
	atomic_int failed;
	size_t inflight;
	unsigned long long since_check;	/* data since the last min_free */
	int quit;
	struct worker w[MAXW];
	int nw;
};

static la_ssize_t
ring_read_cb(struct archive *a, void *arg, const void **p)
{
	struct ring *g = arg;
	ssize_t n = ring_next(g, p);

	if (n == -1) {
		archive_set_error(a, EIO, "%s", g->msg);
		return -1;
	}
	g->given += (unsigned long long)n;
	g->last = *p;
	g->last_n = (size_t)n;
	return n;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static int
xfail(struct xctx *x, enum tar_xerr err, const char *name, const char *fmt,
    ...) BF_PRINTF(4, 5);

/* Record a failure; the first one is the news.  Any thread.  -1. */
static int
xfail(struct xctx *x, enum tar_xerr err, const char *name, const char *fmt,
    ...)
{
	va_list ap;

	pthread_mutex_lock(&x->mu);
	if (x->r->err == TAR_XOK) {
		x->r->err = err;
		strbuf_reset(&x->r->name);
		if (name != NULL)
			strbuf_addstr(&x->r->name, name);
		strbuf_reset(&x->r->msg);
		va_start(ap, fmt);
		strbuf_vaddf(&x->r->msg, fmt, ap);
		va_end(ap);
		atomic_store(&x->failed, 1);
		pthread_cond_broadcast(&x->space);
	}
	pthread_mutex_unlock(&x->mu);
	return -1;
}

/* libarchive failed: the reader's failure if it had one, else its own. */
static int
xfail_archive(struct xctx *x, const char *name)
{
	struct ring *g = x->g;
	const char *s = archive_error_string(x->a);
	int done, kind;

	pthread_mutex_lock(&g->mu);
	done = g->done;
	kind = g->kind;
	pthread_mutex_unlock(&g->mu);
	if (done && kind != GZ_OK) {
		switch (kind) {
		case GZ_EHEADER:
			return xfail(x, TAR_XGZIP, name, "%s", g->msg);
		case GZ_EIO:
			return xfail(x, TAR_XREAD, name, "%s", g->msg);
		default:
			return xfail(x, TAR_XFORMAT, name, "%s", g->msg);
		}
	}
	return xfail(x, TAR_XFORMAT, name, "%s",
	    s != NULL ? s : "malformed archive");
}

static void
cache_drop(struct worker *w)
{
	int i;

	for (i = 0; i < NCACHE; i++) {
		free(w->cache[i].path);
		w->cache[i].path = NULL;
		if (w->cache[i].fd >= 0)
			close(w->cache[i].fd);
		w->cache[i].fd = -1;
	}
}

/* An fd for directory path (normalised), made when missing. */
static int
get_dir(struct worker *w, const char *path, const char *entry)
{
	struct dent *d, *victim = NULL;
	int i, fd;

	for (i = 0; i < NCACHE; i++) {
		d = &w->cache[i];
		if (d->path != NULL && strcmp(d->path, path) == 0) {
			d->used = ++w->clock;
			return d->fd;
		}
		if (victim == NULL || d->used < victim->used)
			victim = d;
	}
	if ((fd = tar_open_dir(w->x->dirfd, path, 1)) == -1) {
		if (errno == ELOOP)
			return xfail(w->x, TAR_XSYMLINK, entry, "tar file "
			    "entry %s: %s goes through a symbolic link", entry,
			    path);
		if (errno == EINVAL)
			return xfail(w->x, TAR_XNAME, entry, "bad name");
		return xfail(w->x, TAR_XIO, entry, "mkdir %s: %s", path,
		    strerror(errno));
	}
	free(victim->path);
	if (victim->fd >= 0)
		close(victim->fd);
	victim->path = xstrdup(path);
	victim->fd = fd;
	victim->used = ++w->clock;
	return fd;
}

static int
pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = pwrite(fd, s, n, off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static void
file_abandon(struct worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->name);
	w->name = NULL;
}

/* One piece of work, in a writer thread. */
static void
do_job(struct worker *w, struct job *j)
{
	struct timespec ts[2];
	int dfd, saved;

	if (j->kind == J_DIR) {
		if (get_dir(w, j->dir, j->name) >= 0)
			w->dirs++;
		return;
	}
	if (j->first) {
		file_abandon(w);
		if ((dfd = get_dir(w, j->dir, j->name)) == -1)
			return;
		w->fd = tar_create_file(dfd, j->leaf, j->mode);
		if (w->fd == -1) {
			if (errno == ELOOP)
				xfail(w->x, TAR_XSYMLINK, j->name, "tar file "
				    "entry %s: a symbolic link is in the way",
				    j->name);
			else
				xfail(w->x, TAR_XIO, j->name, "open %s: %s",
				    j->name, strerror(errno));
			return;
		}
		w->name = j->name;
		j->name = NULL;
		w->end = 0;
		w->size = j->size;
		w->mtime = j->mtime;
	}
	if (w->fd == -1)
		return;		/* its first piece failed */
	if (j->len > 0) {
		if (pwrite_all(w->fd, j->data, j->len, (off_t)j->off) == -1) {
			xfail(w->x, errno == ENOSPC || errno == EDQUOT ?
			    TAR_XNOSPACE : TAR_XIO, w->name, "write %s: %s",
			    w->name, strerror(errno));
			file_abandon(w);
			return;
		}
		if (j->off + (long long)j->len > w->end)
			w->end = j->off + (long long)j->len;
	}
	if (!j->last)
		return;
	/* a sparse file's hole at the end */
	if (w->end < w->size && ftruncate(w->fd, (off_t)w->size) == -1) {
		saved = errno;
		xfail(w->x, TAR_XIO, w->name, "truncate %s: %s", w->name,
		    strerror(saved));
		file_abandon(w);
		return;
	}
	ts[0] = ts[1] = w->mtime;
	/* like the original, a failure to set times is not fatal */
	(void)futimens(w->fd, ts);
	saved = close(w->fd);
	w->fd = -1;
	if (saved == -1)
		xfail(w->x, TAR_XIO, w->name, "close %s: %s", w->name,
		    strerror(errno));
	else
		w->files++;
	free(w->name);
	w->name = NULL;
}

static void
job_free(struct job *j)
{
	free(j->name);
	free(j->dir);
	free(j->leaf);
	free(j->data);
	free(j);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct xctx *x = w->x;
	struct job *j;

	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (w->head == NULL && !x->quit)
			pthread_cond_wait(&w->cv, &x->mu);
		if ((j = w->head) == NULL)
			break;	/* quit, and nothing left */
		if ((w->head = j->next) == NULL)
			w->tailp = &w->head;
		pthread_mutex_unlock(&x->mu);
		/* after a failure the rest is only thrown away */
		if (!atomic_load(&x->failed))
			do_job(w, j);
		pthread_mutex_lock(&x->mu);
		x->inflight -= j->len;
		pthread_cond_broadcast(&x->space);
		pthread_mutex_unlock(&x->mu);
		job_free(j);
		pthread_mutex_lock(&x->mu);
	}
	pthread_mutex_unlock(&x->mu);
	file_abandon(w);
	cache_drop(w);
	return NULL;
}

/* Queue j for the writer of its directory, waiting for room. */
static void
enqueue(struct xctx *x, struct job *j, const char *dir)
{
	struct worker *w;
	unsigned long h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)dir; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	w = &x->w[h % (unsigned long)x->nw];
	pthread_mutex_lock(&x->mu);
	while (x->inflight > 0 && x->inflight + j->len > BUDGET &&
	    !atomic_load(&x->failed))
		pthread_cond_wait(&x->space, &x->mu);
	x->inflight += j->len;
	j->next = NULL;
	*w->tailp = j;
	w->tailp = &j->next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&x->mu);
}

/* o.min_free: room for need more bytes?  0, or -1 (failed). */
static int
space_check(struct xctx *x, const char *name, long long need)
{
	struct strbuf m = STRBUF_INIT;

	if (tar_space_check(x->dirfd, need > 0 ? (unsigned long long)need : 0,
	    x->o->min_free, &m) == 0) {
		strbuf_release(&m);
		return 0;
	}
	xfail(x, TAR_XNOSPACE, name, "write %s: %s", name, m.buf);
	strbuf_release(&m);
	return -1;
}

static int
queue_file(struct xctx *x, struct archive_entry *e, const char *name)
{
	struct job *j, *cur;
	const void *buf;
	size_t size;
	la_int64_t off;
	int rc;

	if (x->leaf.len == 0)
		return xfail(x, TAR_XIO, name, "open %s: is a directory",
		    name);
	if (space_check(x, name, archive_entry_size(e)) == -1)
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->kind = J_FILE;
	j->first = 1;
	j->name = xstrdup(name);
	j->dir = xstrdup(x->dir.buf);
	j->leaf = xstrdup(x->leaf.buf);
	j->mode = archive_entry_perm(e) & 0777;
	j->size = archive_entry_size(e);
	j->mtime.tv_sec = archive_entry_mtime(e);
	j->mtime.tv_nsec = archive_entry_mtime_nsec(e);
	if (j->mtime.tv_sec > x->t0.tv_sec || (j->mtime.tv_sec ==
	    x->t0.tv_sec && j->mtime.tv_nsec > x->t0.tv_nsec))
		j->mtime = x->t0;
	/* each data block a piece; the last one is sent marked last */
	cur = j;
	for (;;) {
		rc = archive_read_data_block(x->a, &buf, &size, &off);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN || atomic_load(&x->failed)) {
			job_free(cur);
			return rc < ARCHIVE_WARN ? xfail_archive(x, name) : -1;
		}
		if (size == 0)
			continue;
		if (x->o->max_bytes > 0 && x->r->bytes + size >
		    x->o->max_bytes) {
			job_free(cur);
			return xfail(x, TAR_XLIMIT, name, "more than %llu "
			    "bytes of files", x->o->max_bytes);
		}
		x->r->bytes += size;
		if ((x->since_check += size) >= SPACE_EVERY) {
			x->since_check = 0;
			if (space_check(x, name, 0) == -1) {
				job_free(cur);
				return -1;
			}
		}
		if (cur->len > 0) {
			enqueue(x, cur, x->dir.buf);
			cur = xcalloc(1, sizeof(*cur));
			cur->kind = J_FILE;
		}
		cur->data = xmalloc(size);
		memcpy(cur->data, buf, size);
		cur->len = size;
		cur->off = off;
	}
	cur->last = 1;
	enqueue(x, cur, x->dir.buf);
	return 0;
}

static int
extract_entry(struct xctx *x, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	struct job *j;
	mode_t type;

	if (name == NULL)
		name = "";
	if (name[0] == '\0' || tar_split_path(name, &x->dir, &x->leaf) == -1 ||
	    (x->o->name_ok != NULL && !x->o->name_ok(name)))
		return xfail(x, TAR_XNAME, name, "invalid name");
	if (archive_entry_hardlink(e) != NULL) {
		x->r->mode = archive_entry_perm(e);
		return xfail(x, TAR_XTYPE, name, "tar file entry %s is a hard "
		    "link", name);
	}
	type = archive_entry_filetype(e);
	if (type == AE_IFREG)
		return queue_file(x, e, name);
	if (type == AE_IFDIR) {
		/* queued by its parent, like the files beside it */
		struct strbuf full = STRBUF_INIT;

		strbuf_addstr(&full, x->dir.buf);
		if (x->leaf.len > 0)
			strbuf_addf(&full, "%s%s", x->dir.len > 0 ? "/" : "",
			    x->leaf.buf);
		j = xcalloc(1, sizeof(*j));
		j->kind = J_DIR;
		j->name = xstrdup(name);
		j->dir = strbuf_detach(&full, NULL);
		enqueue(x, j, x->dir.buf);
		return 0;
	}
	x->r->mode = type | archive_entry_perm(e);
	return xfail(x, TAR_XTYPE, name, "tar file entry %s contained an "
	    "unsupported file type", name);
}

static int
nwriters(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > MAXW ? MAXW : (int)n;
}

int
tar_extract(int fd, int dirfd, const struct tar_xopt *o, struct tar_xres *r)
{
	static const struct tar_xopt defaults = TAR_XOPT_INIT;
	struct archive_entry *e;
	struct ring g;
	struct xctx x;
	pthread_t thr;
	const void *p;
	int i, k, rc, pfd[2], tail = 0;
	ssize_t n;

	if (o == NULL)
		o = &defaults;
	r->err = TAR_XOK;
	strbuf_reset(&r->msg);
	strbuf_reset(&r->name);
	r->mode = 0;
	r->files = r->dirs = 0;
	r->bytes = 0;

	memset(&x, 0, sizeof(x));
	x.dirfd = dirfd;
	x.o = o;
	x.r = r;
	strbuf_init(&x.dir, 0);
	strbuf_init(&x.leaf, 0);
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.space, NULL);
	atomic_init(&x.failed, 0);
	clock_gettime(CLOCK_REALTIME, &x.t0);

	memset(&g, 0, sizeof(g));
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		xfail(&x, TAR_XIO, NULL, "pipe: %s", strerror(errno));
		goto out_nothread;
	}
	g.cancel_r = pfd[0];
	g.cancel_w = pfd[1];
	g.fd = fd;
	g.raw = o->raw;
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	for (i = 0; i < RING_N; i++)
		g.buf[i] = xmalloc(RING_BUF);
	x.g = &g;
	if (pthread_create(&thr, NULL, reader_main, &g) != 0) {
		xfail(&x, TAR_XIO, NULL, "cannot start a thread");
		goto out_ring;
	}
	k = nwriters();
	for (i = 0; i < k; i++) {
		struct worker *w = &x.w[i];

		w->x = &x;
		w->fd = -1;
		w->tailp = &w->head;
		for (rc = 0; rc < NCACHE; rc++)
			w->cache[rc].fd = -1;
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->thr, NULL, worker_main, w) != 0) {
			pthread_cond_destroy(&w->cv);
			break;
		}
		x.nw++;
	}

	x.a = archive_read_new();
	archive_read_support_format_tar(x.a);
	if (x.nw == 0) {
		xfail(&x, TAR_XIO, NULL, "cannot start a thread");
		goto stop;
	}
	/*
	 * An input with no bytes at all is an empty archive (Go's tar
	 * reader says io.EOF at once), which libarchive would call
	 * unrecognised: peek first.
	 */
	n = ring_next(&g, &p);
	if (n == 0)
		goto drain;
	if (n == -1) {
		xfail_archive(&x, NULL);
		goto stop;
	}
	pthread_mutex_lock(&g.mu);
	g.held = 0;		/* hand the peeked buffer to libarchive again */
	pthread_mutex_unlock(&g.mu);
	if (archive_read_open(x.a, &g, NULL, ring_read_cb, NULL) !=
	    ARCHIVE_OK) {
		xfail_archive(&x, NULL);
		goto stop;
	}
	while (!atomic_load(&x.failed)) {
		rc = archive_read_next_header(x.a, &e);
		if (rc == ARCHIVE_EOF) {
			tail = 1;
			break;
		}
		if (rc < ARCHIVE_WARN) {
			xfail_archive(&x, NULL);
			goto stop;
		}
		if (extract_entry(&x, e) == -1)
			goto stop;
	}
	/*
	 * What libarchive read ahead but did not consume after the end
	 * marker is the end of the last buffer it was given (its reads
	 * at the end are single blocks, so never more than that).
	 */
	if (tail) {
		la_int64_t used = archive_filter_bytes(x.a, 0);
		unsigned long long left = used >= 0 &&
		    (unsigned long long)used <= g.given ?
		    g.given - (unsigned long long)used : 0;

		if (left > g.last_n)
			left = g.last_n;
		if (!all_zero(g.last + g.last_n - left, (size_t)left))
			goto junk;
	}
drain:
	/*
	 * The rest of the stream: the gzip trailer, and padding, which
	 * must be zeros (a second archive behind the first is refused,
	 * not silently dropped).
	 */
	while (!atomic_load(&x.failed) && (n = ring_next(&g, &p)) > 0)
		if (tail && !all_zero(p, (size_t)n))
			goto junk;
	if (!atomic_load(&x.failed) && n == -1)
		xfail_archive(&x, NULL);
	goto stop;
junk:
	xfail(&x, TAR_XFORMAT, NULL, "data after the end of the archive");
stop:
	ring_cancel(&g);
	pthread_join(thr, NULL);
	/* the writers finish what is queued (or throw it away) and end */
	pthread_mutex_lock(&x.mu);
	x.quit = 1;
	for (i = 0; i < x.nw; i++)
		pthread_cond_signal(&x.w[i].cv);
	pthread_mutex_unlock(&x.mu);
	for (i = 0; i < x.nw; i++) {
		pthread_join(x.w[i].thr, NULL);
		pthread_cond_destroy(&x.w[i].cv);
		r->files += x.w[i].files;
		r->dirs += x.w[i].dirs;
	}
	archive_read_free(x.a);
out_ring:
	for (i = 0; i < RING_N; i++)
		free(g.buf[i]);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
	close(pfd[0]);
	close(pfd[1]);
out_nothread:
	strbuf_release(&x.dir);
	strbuf_release(&x.leaf);
	pthread_cond_destroy(&x.space);
	pthread_mutex_destroy(&x.mu);
	return r->err == TAR_XOK ? 0 : -1;
}

void
tar_xres_release(struct tar_xres *r)
{
	strbuf_release(&r->msg);
	strbuf_release(&r->name);
}

/* ---- writing ---- */

struct tar_writer {
	struct archive *a;
	struct archive_entry *e;
	int (*out)(void *arg, const void *p, size_t n);
	void *arg;
	int failed;
	unsigned char *buf;
};

static la_ssize_t
write_cb(struct archive *a, void *arg, const void *p, size_t n)
{
	struct tar_writer *w = arg;

	if (w->out(w->arg, p, n) == -1) {
		w->failed = 1;
		archive_set_error(a, EPIPE, "output closed");
		return -1;
	}
	return (la_ssize_t)n;
}

struct tar_writer *
tar_writer_new(int (*out)(void *arg, const void *p, size_t n), void *arg)
{
	struct tar_writer *w = xcalloc(1, sizeof(*w));

	w->out = out;
	w->arg = arg;
	w->a = archive_write_new();
	w->e = archive_entry_new();
	w->buf = xmalloc(WBUF);
	archive_write_set_format_pax_restricted(w->a);
	/* no blocking to 10240: the stream ends after the two zero blocks */
	archive_write_set_bytes_per_block(w->a, 0);
	if (archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK)
		w->failed = 1;
	return w;
}

static int
werr(struct tar_writer *w, struct strbuf *err, const char *what,
    const char *name)
{
	const char *s = archive_error_string(w->a);

	strbuf_addf(err, "%s %s: %s", what, name, s != NULL ? s : "failed");
	w->failed = 1;
	return -1;
}

/* The header for name, its name (with a directory's '/') left in nm. */
static int
add_header(struct tar_writer *w, const char *name, const struct stat *st,
    const char *linkname, struct strbuf *nm, struct strbuf *err)
{
	if (w->failed) {
		strbuf_addstr(err, "tar stream already failed");
		return -1;
	}
	strbuf_addstr(nm, name);
	if (S_ISDIR(st->st_mode) && (nm->len == 0 ||
	    nm->buf[nm->len - 1] != '/'))
		strbuf_addch(nm, '/');
	archive_entry_clear(w->e);
	archive_entry_copy_pathname(w->e, nm->buf);
	archive_entry_set_mode(w->e, st->st_mode);
	archive_entry_set_uid(w->e, st->st_uid);
	archive_entry_set_gid(w->e, st->st_gid);
	/* as the original: names a reader on another machine can map */
	archive_entry_copy_uname(w->e, "root");
	archive_entry_copy_gname(w->e, "root");
	archive_entry_set_mtime(w->e, st->st_mtim.tv_sec, 0);
	archive_entry_set_size(w->e, S_ISREG(st->st_mode) ? st->st_size : 0);
	if (S_ISLNK(st->st_mode))
		archive_entry_copy_symlink(w->e, linkname != NULL ? linkname :
		    "");
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		archive_entry_set_rdev(w->e, st->st_rdev);
	if (archive_write_header(w->a, w->e) < ARCHIVE_WARN)
		return werr(w, err, "write header for", nm->buf);
	return 0;
}

int
tar_writer_add(struct tar_writer *w, const char *name, const struct stat *st,
    const char *linkname, int fd, struct strbuf *err)
{
	struct strbuf nm = STRBUF_INIT;
	off_t left;
	ssize_t n;
	int ret = -1;

	if (add_header(w, name, st, linkname, &nm, err) < 0)
		goto out;
	if (S_ISREG(st->st_mode)) {
		for (left = st->st_size; left > 0; left -= n) {
			n = read(fd, w->buf, left < WBUF ? (size_t)left : WBUF);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n == -1) {
				strbuf_addf(err, "read %s: %s", nm.buf,
				    strerror(errno));
				w->failed = 1;
				goto out;
			}
			if (n == 0) {
				strbuf_addf(err, "read %s: file shrank while "
				    "being archived", nm.buf);
				w->failed = 1;
				goto out;
			}
			if (archive_write_data(w->a, w->buf, (size_t)n) != n) {
				werr(w, err, "write", nm.buf);
				goto out;
			}
		}
	}
	ret = 0;
out:
	strbuf_release(&nm);
	return ret;
}

int
tar_writer_add_mem(struct tar_writer *w, const char *name, mode_t mode,
    long long mtime, const void *data, size_t len, struct strbuf *err)
{
	struct strbuf nm = STRBUF_INIT;
	const unsigned char *p = data;
	struct stat st;
	la_ssize_t n;
	int ret = -1;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | (mode & 07777);
	st.st_size = (off_t)len;
	st.st_mtim.tv_sec = (time_t)mtime;
	if (add_header(w, name, &st, NULL, &nm, err) < 0)
		goto out;
	/* libarchive takes at most SSIZE_MAX a call: pieces of WBUF */
	while (len > 0) {
		n = archive_write_data(w->a, p, len < WBUF ? len : WBUF);
		if (n <= 0) {
			werr(w, err, "write", nm.buf);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	ret = 0;
out:
	strbuf_release(&nm);
	return ret;
}

int
tar_writer_close(struct tar_writer *w, struct strbuf *err)
{
	if (w->failed) {
		strbuf_addstr(err, "tar stream already failed");
		return -1;
	}
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		werr(w, err, "finish", "archive");
		return -1;
	}
	return 0;
}

void
tar_writer_free(struct tar_writer *w)
{
	if (w == NULL)
		return;
	archive_entry_free(w->e);
	archive_write_free(w->a);
	free(w->buf);
	free(w);
}
