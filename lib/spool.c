#include "compat.h"

#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

static const char *const subname[SPOOL_NSUB] = {
	"tmp", "new", "cur", "done", "fail",
};

/* Distinguishes the items one process puts within one microsecond. */
static atomic_ulong put_counter;

static int
sub_index(const char *sub)
{
	int i;

	for (i = 0; i < SPOOL_NSUB; i++)
		if (strcmp(sub, subname[i]) == 0)
			return i;
	return -1;
}

static int
name_ok(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL;
}

/* A name of the form spool_put makes: "<sec>.<usec>P<pid>Q<n>.<host>". */
static int
put_made_name(const char *s)
{
	static const char digits[] = "0123456789";
	size_t n;

	if ((n = strspn(s, digits)) == 0 || s[n] != '.')
		return 0;
	s += n + 1;
	if (strspn(s, digits) != 6 || s[6] != 'P')
		return 0;
	s += 7;
	if ((n = strspn(s, digits)) == 0 || s[n] != 'Q')
		return 0;
	s += n + 1;
	if ((n = strspn(s, digits)) == 0 || s[n] != '.')
		return 0;
	return s[n + 1] != '\0';
}

/* ".name": the item's count in cur/, its tombstone in done/ and fail/ */
static void
dot_name(struct strbuf *out, const char *name)
{
	strbuf_reset(out);
	strbuf_addch(out, '.');
	strbuf_addstr(out, name);
}

static int
bad_name(const char *name, struct strbuf *err)
{
	strbuf_addf(err, "bad spool item name '%s'", name != NULL ? name : "");
	return RC_PERM;
}

/* The RC for a failed system call: missing things are the caller's fault. */
static int
sys_rc(int e)
{
	return e == ENOENT || e == ENOTDIR ? RC_PERM : RC_TEMP;
}

static int
sys_err(struct spool *sp, struct strbuf *err, const char *what,
    const char *sub, const char *name)
{
	int e = errno;

	strbuf_addf(err, "%s '%s", what, sp->path);
	if (sub != NULL)
		strbuf_addf(err, "/%s", sub);
	if (name != NULL)
		strbuf_addf(err, "/%s", name);
	strbuf_addf(err, "': %s", strerror(e));
	errno = e;
	return RC_TEMP;
}

void
spool_close(struct spool *sp)
{
	int i;

	if (sp->watch >= 0)
		close(sp->watch);
	sp->watch = -1;
	for (i = 0; i < SPOOL_NSUB; i++) {
		if (sp->sub[i] >= 0)
			close(sp->sub[i]);
		sp->sub[i] = -1;
	}
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	FREE_AND_NULL(sp->path);
}

int
spool_open(struct spool *sp, const char *dir, int create, struct strbuf *err)
{
	int i, made = 0, rc;

	sp->fd = -1;
	sp->watch = -1;
	sp->max_claims = SPOOL_MAX_CLAIMS;
	for (i = 0; i < SPOOL_NSUB; i++)
		sp->sub[i] = -1;
	sp->path = xstrdup(dir);
	if (create && mkdirs(dir) < 0) {
		rc = sys_err(sp, err, "create spool", NULL, NULL);
		goto fail;
	}
	sp->fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->fd < 0) {
		(void)sys_err(sp, err, "open spool", NULL, NULL);
		rc = sys_rc(errno);
		goto fail;
	}
	for (i = 0; i < SPOOL_NSUB; i++) {
		if (create) {
			if (mkdirat(sp->fd, subname[i], 0755) == 0)
				made = 1;
			else if (errno != EEXIST) {
				rc = sys_err(sp, err, "create spool",
				    subname[i], NULL);
				goto fail;
			}
		}
		sp->sub[i] = openat(sp->fd, subname[i],
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sp->sub[i] < 0) {
			(void)sys_err(sp, err, "open spool", subname[i], NULL);
			rc = sys_rc(errno);
			goto fail;
		}
	}
	/* the new subdirectories must survive a crash like the items */
	if (made && fsync(sp->fd) < 0) {
		rc = sys_err(sp, err, "fsync spool", NULL, NULL);
		goto fail;
	}
	return RC_OK;
fail:
	spool_close(sp);
	return rc;
}

/* The host name as it may appear in an item name. */
static void
host_part(struct strbuf *out)
{
	char host[256];
	size_t i, start = out->len;

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		strbuf_addstr(out, "localhost");
	else {
		host[sizeof(host) - 1] = '\0';
		strbuf_addstr(out, host);
	}
	for (i = start; i < out->len; i++)
		if (out->buf[i] == '/' || out->buf[i] == ':')
			out->buf[i] = '_';
}

int
spool_put(struct spool *sp, const void *data, size_t len,
    struct strbuf *name_out, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, host = STRBUF_INIT;
	int fd = -1, rc = RC_TEMP, tries;

	host_part(&host);
	for (tries = 0; tries < 100; tries++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		strbuf_reset(&name);
		strbuf_addf(&name, "%lld.%06ldP%ldQ%lu.%s",
		    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(),
		    atomic_fetch_add(&put_counter, 1) + 1, host.buf);
		fd = openat(sp->sub[SPOOL_TMP], name.buf,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		(void)sys_err(sp, err, "create", "tmp", name.buf);
		goto out;
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		(void)sys_err(sp, err, "write", "tmp", name.buf);
		goto unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		(void)sys_err(sp, err, "close", "tmp", name.buf);
		goto unlink;
	}
	fd = -1;
	if (renameat(sp->sub[SPOOL_TMP], name.buf, sp->sub[SPOOL_NEW],
	    name.buf) < 0) {
		(void)sys_err(sp, err, "publish", "tmp", name.buf);
		goto unlink;
	}
	if (fsync(sp->sub[SPOOL_NEW]) < 0) {
		(void)sys_err(sp, err, "fsync", "new", NULL);
		/* not durable, so not published: take it back */
		(void)unlinkat(sp->sub[SPOOL_NEW], name.buf, 0);
		goto out;
	}
	if (name_out != NULL)
		strbuf_addstr(name_out, name.buf);
	rc = RC_OK;
	goto out;
unlink:
	(void)unlinkat(sp->sub[SPOOL_TMP], name.buf, 0);
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&name);
	strbuf_release(&host);
	return rc;
}

void
spool_names_free(struct spool_names *names)
{
	size_t i;

	for (i = 0; i < names->n; i++)
		free(names->v[i]);
	FREE_AND_NULL(names->v);
	names->n = names->alloc = 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
spool_list(struct spool *sp, const char *sub, struct spool_names *names,
    struct strbuf *err)
{
	struct dirent *de;
	DIR *d;
	int i, fd;

	spool_names_free(names);
	if ((i = sub_index(sub)) < 0) {
		strbuf_addf(err, "bad spool subdirectory '%s'", sub);
		return RC_PERM;
	}
	/* a fresh descriptor: fdopendir owns it, and offsets are shared */
	fd = openat(sp->fd, subname[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_err(sp, err, "open", subname[i], NULL);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return sys_err(sp, err, "open", subname[i], NULL);
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		GROW(names->v, names->n + 1, names->alloc);
		names->v[names->n++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		(void)sys_err(sp, err, "read", subname[i], NULL);
		closedir(d);
		spool_names_free(names);
		return RC_TEMP;
	}
	closedir(d);
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), cmp_names);
	return RC_OK;
}

/*
 * Open dirfd/name and try to flock it without waiting: 1 with *fdp
 * locked, 0 when someone else holds it or it does not exist (errno
 * says which), -1 on other errors.
 */
static int
try_lock(int dirfd, const char *name, int *fdp)
{
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		errno = e;
		return e == EWOULDBLOCK ? 0 : -1;
	}
	*fdp = fd;
	return 1;
}

/*
 * The count in cur/.name: 0 when there is none, max_claims (or INT_MAX
 * without a limit) when it holds no number, -1 with errno on errors.
 */
static int
count_read(struct spool *sp, const char *name)
{
	struct strbuf dot = STRBUF_INIT, buf = STRBUF_INIT;
	char *end;
	long n;
	int fd, e;

	dot_name(&dot, name);
	fd = openat(sp->sub[SPOOL_CUR], dot.buf,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	strbuf_release(&dot);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (strbuf_read_fd(&buf, fd, 32) < 0 && errno != EFBIG) {
		e = errno;
		close(fd);
		strbuf_release(&buf);
		errno = e;
		return -1;
	}
	close(fd);
	errno = 0;
	n = strtol(buf.buf, &end, 10);
	if (errno != 0 || end == buf.buf || (*end != '\n' && *end != '\0') ||
	    n < 0 || n > INT_MAX - 1)
		n = sp->max_claims > 0 ? sp->max_claims : INT_MAX - 1;
	strbuf_release(&buf);
	return (int)n;
}

/* Replace cur/.name with n: tmp/.name, fsync, rename. */
static int
count_write(struct spool *sp, const char *name, int n)
{
	struct strbuf dot = STRBUF_INIT, num = STRBUF_INIT;
	int fd, r = -1, e;

	dot_name(&dot, name);
	strbuf_addf(&num, "%d\n", n);
	fd = openat(sp->sub[SPOOL_TMP], dot.buf,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		if (write_all(fd, num.buf, num.len) == 0 && fsync(fd) == 0)
			r = 0;
		e = errno;
		if (close(fd) < 0 && r == 0) {
			r = -1;
			e = errno;
		}
		if (r == 0 && renameat(sp->sub[SPOOL_TMP], dot.buf,
		    sp->sub[SPOOL_CUR], dot.buf) < 0) {
			r = -1;
			e = errno;
		}
		if (r < 0)
			(void)unlinkat(sp->sub[SPOOL_TMP], dot.buf, 0);
		errno = e;
	}
	strbuf_release(&dot);
	strbuf_release(&num);
	return r;
}

static void
count_remove(struct spool *sp, const char *name)
{
	struct strbuf dot = STRBUF_INIT;

	dot_name(&dot, name);
	(void)unlinkat(sp->sub[SPOOL_CUR], dot.buf, 0);
	strbuf_release(&dot);
}

/*
 * Set (on) or clear the x bits of the item open as fd.  Only a mark for
 * people: the lock is what tells live claims, so failure is ignored.
 */
static void
mark(int fd, int on)
{
	struct stat st;
	mode_t m;

	if (fstat(fd, &st) < 0)
		return;
	m = st.st_mode & 07777;
	m = on ? m | 0111 : m & ~(mode_t)0111;
	if (m != (st.st_mode & 07777))
		(void)fchmod(fd, m);
}

/* 1 when dirfd/name is the file open as fd, 0 when not, -1 on errors. */
static int
same_file(int fd, int dirfd, const char *name)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0)
		return -1;
	if (fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
claimed_by_other(struct spool *sp, const char *name, struct strbuf *err)
{
	strbuf_addf(err, "'%s/new/%s': claimed by someone else", sp->path,
	    name);
	return RC_NO;
}

int
spool_claim(struct spool *sp, const char *name, int *lockfd,
    struct strbuf *err)
{
	int fd = -1, n, r;

	if (!name_ok(name))
		return bad_name(name, err);
	/*
	 * Lock first, rename second: a claim that showed up in cur/ before
	 * it was locked would look dead to spool_stale.
	 */
	r = try_lock(sp->sub[SPOOL_NEW], name, &fd);
	if (r < 0)
		return sys_err(sp, err, "claim", "new", name);
	if (r == 0)
		return claimed_by_other(sp, name, err);
	/*
	 * Count only a claim that will succeed: we may have locked it just
	 * as its claimer let go, after moving it on.  While we hold the lock
	 * nobody else moves new/name.
	 */
	if ((r = same_file(fd, sp->sub[SPOOL_NEW], name)) <= 0) {
		close(fd);
		if (r == 0)
			return claimed_by_other(sp, name, err);
		return sys_err(sp, err, "claim", "new", name);
	}
	/* counted before the move: a crash in between counts one too many */
	if ((n = count_read(sp, name)) < 0 ||
	    count_write(sp, name, n == INT_MAX - 1 ? n : n + 1) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return sys_err(sp, err, "count claim of", "cur", name);
	}
	if (renameat(sp->sub[SPOOL_NEW], name, sp->sub[SPOOL_CUR], name) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return sys_err(sp, err, "claim", "new", name);
	}
	/* after the move: a crash in between leaves a dead claim unmarked */
	mark(fd, 1);
	*lockfd = fd;
	return RC_OK;
}

int
spool_claims(struct spool *sp, const char *name)
{
	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	return count_read(sp, name);
}

int
spool_finish(struct spool *sp, const char *name, const char *to,
    struct strbuf *err)
{
	int i, fd;

	if (!name_ok(name))
		return bad_name(name, err);
	i = to != NULL ? sub_index(to) : -1;
	if (i != SPOOL_DONE && i != SPOOL_FAIL) {
		strbuf_addf(err, "finish '%s': destination '%s' is not done "
		    "or fail", name, to != NULL ? to : "");
		return RC_PERM;
	}
	/* unmarked first: a crash after it leaves a dead claim unmarked */
	if ((fd = openat(sp->sub[SPOOL_CUR], name,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		mark(fd, 0);
		close(fd);
	}
	if (renameat(sp->sub[SPOOL_CUR], name, sp->sub[i], name) < 0) {
		int rc = errno == ENOENT ? RC_NO : RC_TEMP;

		(void)sys_err(sp, err, "finish", "cur", name);
		return rc;
	}
	if (fsync(sp->sub[i]) < 0)
		return sys_err(sp, err, "fsync", subname[i], NULL);
	/* a crash before this leaves the count to spool_prune */
	count_remove(sp, name);
	return RC_OK;
}

int
spool_stale(struct spool *sp, const char *name)
{
	int fd = -1, r;

	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	r = try_lock(sp->sub[SPOOL_CUR], name, &fd);
	if (r <= 0)
		return r;
	close(fd);
	return 1;
}

int
spool_requeue(struct spool *sp, const char *name, struct strbuf *err)
{
	int fd = -1, n, r, rc = RC_OK, to;

	if (!name_ok(name))
		return bad_name(name, err);
	r = try_lock(sp->sub[SPOOL_CUR], name, &fd);
	if (r < 0)
		return sys_err(sp, err, "requeue", "cur", name);
	if (r == 0) {
		strbuf_addf(err, "requeue '%s/cur/%s': %s", sp->path, name,
		    errno == ENOENT ? "no such item" : "claim is live");
		return RC_NO;
	}
	if ((n = count_read(sp, name)) < 0) {
		rc = sys_err(sp, err, "read claim count of", "cur", name);
		close(fd);
		return rc;
	}
	to = sp->max_claims > 0 && n >= sp->max_claims ? SPOOL_FAIL : SPOOL_NEW;
	mark(fd, 0);
	if (renameat(sp->sub[SPOOL_CUR], name, sp->sub[to], name) < 0) {
		rc = errno == ENOENT ? RC_NO : RC_TEMP;
		(void)sys_err(sp, err, "requeue", "cur", name);
	} else if (fsync(sp->sub[to]) < 0)
		rc = sys_err(sp, err, "fsync", subname[to], NULL);
	else if (to == SPOOL_FAIL) {
		count_remove(sp, name);
		strbuf_addf(err, "requeue '%s/cur/%s': claimed %d times, "
		    "moved to fail/", sp->path, name, n);
		rc = RC_PERM;
	}
	close(fd);
	return rc;
}

int
spool_read(struct spool *sp, const char *sub, const char *name,
    struct strbuf *out, size_t max, struct strbuf *err)
{
	int i, fd, rc = RC_OK;

	if (!name_ok(name))
		return bad_name(name, err);
	if ((i = sub_index(sub)) < 0) {
		strbuf_addf(err, "bad spool subdirectory '%s'", sub);
		return RC_PERM;
	}
	strbuf_reset(out);
	fd = openat(sp->sub[i], name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = errno == ENOENT ? RC_NO : RC_TEMP;
		(void)sys_err(sp, err, "open", subname[i], name);
		return rc;
	}
	if (strbuf_read_fd(out, fd, max) < 0) {
		if (errno == EFBIG) {
			strbuf_addf(err, "read '%s/%s/%s': larger than %zu "
			    "bytes", sp->path, subname[i], name, max);
			rc = RC_PERM;
		} else
			rc = sys_err(sp, err, "read", subname[i], name);
		strbuf_reset(out);
	}
	close(fd);
	return rc;
}

int
spool_find(struct spool *sp, const char *name)
{
	/* a negative entry: the tombstone in that directory */
	static const int order[] = {
		SPOOL_NEW, SPOOL_CUR, SPOOL_DONE, SPOOL_FAIL, -SPOOL_DONE,
		-SPOOL_FAIL, SPOOL_NEW, SPOOL_CUR,
	};
	struct strbuf dot = STRBUF_INIT;
	struct stat st;
	size_t i;
	int r = -1;

	if (!name_ok(name)) {
		errno = EINVAL;
		return -2;
	}
	dot_name(&dot, name);
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		int sub = order[i] < 0 ? -order[i] : order[i];

		if (fstatat(sp->sub[sub], order[i] < 0 ? dot.buf : name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0) {
			r = sub;
			break;
		}
		if (errno != ENOENT) {
			r = -2;
			break;
		}
	}
	strbuf_release(&dot);
	return r;
}

int
spool_put_named(struct spool *sp, const char *name, const void *data,
    size_t len, struct strbuf *err)
{
	int fd = -1, r, rc = RC_TEMP;

	if (!name_ok(name))
		return bad_name(name, err);
	if (put_made_name(name)) {
		strbuf_addf(err, "named item '%s': spool_put makes names like "
		    "this", name);
		return RC_PERM;
	}
	if ((r = spool_find(sp, name)) >= 0) {
		/* a tmp/name left between link and unlink by a dead producer */
		(void)unlinkat(sp->sub[SPOOL_TMP], name, 0);
		strbuf_addf(err, "'%s/%s/%s': already queued", sp->path,
		    subname[r], name);
		return RC_NO;
	}
	if (r == -2)
		return sys_err(sp, err, "look for", NULL, name);
	/* O_TRUNC, not O_EXCL: a tmp/name left by a dead producer is ours */
	fd = openat(sp->sub[SPOOL_TMP], name,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sys_err(sp, err, "create", "tmp", name);
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		(void)sys_err(sp, err, "write", "tmp", name);
		goto unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		(void)sys_err(sp, err, "close", "tmp", name);
		goto unlink;
	}
	fd = -1;
	/* link, unlike rename, never replaces an item already in new/ */
	if (linkat(sp->sub[SPOOL_TMP], name, sp->sub[SPOOL_NEW], name,
	    0) < 0) {
		if (errno == EEXIST) {
			strbuf_addf(err, "'%s/new/%s': already queued",
			    sp->path, name);
			rc = RC_NO;
		} else
			(void)sys_err(sp, err, "publish", "tmp", name);
		goto unlink;
	}
	if (fsync(sp->sub[SPOOL_NEW]) < 0) {
		(void)sys_err(sp, err, "fsync", "new", NULL);
		/* not durable, so not published: take it back */
		(void)unlinkat(sp->sub[SPOOL_NEW], name, 0);
		goto unlink;
	}
	rc = RC_OK;
unlink:
	if (fd >= 0)
		close(fd);
	(void)unlinkat(sp->sub[SPOOL_TMP], name, 0);
	return rc;
}

int
spool_watch(struct spool *sp, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	if (sp->watch >= 0)
		return sp->watch;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		(void)sys_err(sp, err, "watch", "new", NULL);
		return -1;
	}
	/* link(2) (spool_put_named) creates, rename(2) moves to */
	strbuf_addf(&path, "%s/new", sp->path);
	if (inotify_add_watch(fd, path.buf, IN_CREATE | IN_MOVED_TO |
	    IN_ONLYDIR) < 0) {
		(void)sys_err(sp, err, "watch", "new", NULL);
		close(fd);
		fd = -1;
	}
	strbuf_release(&path);
	sp->watch = fd;
	return fd;
}

void
spool_watch_drain(struct spool *sp)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	if (sp->watch < 0)
		return;
	while (read(sp->watch, buf, sizeof(buf)) > 0)
		;
}

int
spool_wait_new(struct spool *sp, int timeout_ms, struct strbuf *err)
{
	struct spool_names nv = SPOOL_NAMES_INIT;
	struct pollfd pfd;
	long long end = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc, left;

	if (spool_watch(sp, err) < 0)
		return RC_TEMP;
	for (;;) {
		spool_watch_drain(sp);
		rc = spool_list(sp, "new", &nv, err);
		if (rc != RC_OK || nv.n > 0)
			break;
		left = -1;
		if (timeout_ms >= 0) {
			long long d = end - mono_ms();

			left = d < 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
		}
		pfd.fd = sp->watch;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, left);
		if (rc == 0 || (rc < 0 && errno == EINTR)) {
			rc = RC_NO;
			break;
		}
		if (rc < 0) {
			rc = sys_err(sp, err, "wait for", "new", NULL);
			break;
		}
	}
	spool_names_free(&nv);
	return rc;
}

int
spool_wait_item(struct spool *sp, const char *name)
{
	int fd, r, e;

	for (;;) {
		if ((r = spool_find(sp, name)) != SPOOL_CUR)
			return r;
		fd = openat(sp->sub[SPOOL_CUR], name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* it moved on: look again */
			return -2;
		}
		if (flock(fd, LOCK_SH) < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -2;
		}
		/* nobody holds it: still in cur/ means its worker died */
		r = same_file(fd, sp->sub[SPOOL_CUR], name);
		e = errno;
		close(fd);
		errno = e;
		if (r != 0)
			return r > 0 ? SPOOL_CUR : -2;
	}
}

/* Remove the dot-files of dir that belong to items now in done/ or fail/. */
static int
prune_dots(struct spool *sp, int sub, struct strbuf *err)
{
	struct dirent *de;
	DIR *d;
	int fd, r;

	fd = openat(sp->fd, subname[sub], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_err(sp, err, "open", subname[sub], NULL);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return sys_err(sp, err, "open", subname[sub], NULL);
	}
	/* an item in done/ or fail/ never moves again, so its count is dead */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || !name_ok(de->d_name + 1))
			continue;
		r = spool_find(sp, de->d_name + 1);
		if (r == SPOOL_DONE || r == SPOOL_FAIL)
			(void)unlinkat(sp->sub[sub], de->d_name, 0);
	}
	closedir(d);
	return RC_OK;
}

int
spool_prune(struct spool *sp, const char *sub, long long age,
    size_t *pruned, struct strbuf *err)
{
	struct spool_names nv = SPOOL_NAMES_INIT, old = SPOOL_NAMES_INIT;
	struct strbuf dot = STRBUF_INIT;
	struct stat st;
	time_t now = time(NULL);
	size_t i, n = 0;
	int s, fd, rc;

	if (pruned != NULL)
		*pruned = 0;
	s = sub != NULL ? sub_index(sub) : -1;
	if (s != SPOOL_DONE && s != SPOOL_FAIL) {
		strbuf_addf(err, "prune '%s': not done or fail",
		    sub != NULL ? sub : "");
		return RC_PERM;
	}
	if ((rc = spool_list(sp, sub, &nv, err)) != RC_OK)
		return rc;
	/* first the tombstones, durable, then the items: see spool.h */
	for (i = 0; i < nv.n; i++) {
		if (fstatat(sp->sub[s], nv.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			rc = sys_err(sp, err, "prune", subname[s], nv.v[i]);
			goto out;
		}
		if ((long long)now - (long long)st.st_ctime < age)
			continue;
		if (!put_made_name(nv.v[i])) {
			dot_name(&dot, nv.v[i]);
			fd = openat(sp->sub[s], dot.buf, O_WRONLY | O_CREAT |
			    O_CLOEXEC | O_NOFOLLOW, 0644);
			if (fd < 0) {
				rc = sys_err(sp, err, "make tombstone",
				    subname[s], dot.buf);
				goto out;
			}
			close(fd);
		}
		GROW(old.v, old.n + 1, old.alloc);
		old.v[old.n++] = nv.v[i];
		nv.v[i] = NULL;
	}
	if (old.n > 0 && fsync(sp->sub[s]) < 0) {
		rc = sys_err(sp, err, "fsync", subname[s], NULL);
		goto out;
	}
	for (i = 0; i < old.n; i++) {
		if (unlinkat(sp->sub[s], old.v[i], 0) == 0)
			n++;
		else if (errno != ENOENT) {
			rc = sys_err(sp, err, "prune", subname[s], old.v[i]);
			break;
		}
	}
	if (n > 0 && fsync(sp->sub[s]) < 0 && rc == RC_OK)
		rc = sys_err(sp, err, "fsync", subname[s], NULL);
	if (rc == RC_OK)
		rc = prune_dots(sp, SPOOL_CUR, err);
	if (rc == RC_OK)
		rc = prune_dots(sp, SPOOL_TMP, err);
out:
	if (pruned != NULL)
		*pruned = n;
	strbuf_release(&dot);
	spool_names_free(&nv);
	spool_names_free(&old);
	return rc;
}
