#include "compat.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
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

int
spool_claim(struct spool *sp, const char *name, int *lockfd,
    struct strbuf *err)
{
	int fd = -1, r;

	if (!name_ok(name))
		return bad_name(name, err);
	/*
	 * Lock first, rename second: a claim that showed up in cur/ before
	 * it was locked would look dead to spool_stale.
	 */
	r = try_lock(sp->sub[SPOOL_NEW], name, &fd);
	if (r < 0)
		return sys_err(sp, err, "claim", "new", name);
	if (r == 0) {
		strbuf_addf(err, "'%s/new/%s': claimed by someone else",
		    sp->path, name);
		return RC_NO;
	}
	if (renameat(sp->sub[SPOOL_NEW], name, sp->sub[SPOOL_CUR], name) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		if (e == ENOENT) {
			/* we locked it just as its claimer let go */
			strbuf_addf(err, "'%s/new/%s': claimed by someone else",
			    sp->path, name);
			return RC_NO;
		}
		return sys_err(sp, err, "claim", "new", name);
	}
	*lockfd = fd;
	return RC_OK;
}

int
spool_finish(struct spool *sp, const char *name, const char *to,
    struct strbuf *err)
{
	int i;

	if (!name_ok(name))
		return bad_name(name, err);
	i = to != NULL ? sub_index(to) : -1;
	if (i != SPOOL_DONE && i != SPOOL_FAIL) {
		strbuf_addf(err, "finish '%s': destination '%s' is not done "
		    "or fail", name, to != NULL ? to : "");
		return RC_PERM;
	}
	if (renameat(sp->sub[SPOOL_CUR], name, sp->sub[i], name) < 0) {
		int rc = errno == ENOENT ? RC_NO : RC_TEMP;

		(void)sys_err(sp, err, "finish", "cur", name);
		return rc;
	}
	if (fsync(sp->sub[i]) < 0)
		return sys_err(sp, err, "fsync", subname[i], NULL);
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
	int fd = -1, r, rc = RC_OK;

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
	if (renameat(sp->sub[SPOOL_CUR], name, sp->sub[SPOOL_NEW], name) < 0) {
		rc = errno == ENOENT ? RC_NO : RC_TEMP;
		(void)sys_err(sp, err, "requeue", "cur", name);
	} else if (fsync(sp->sub[SPOOL_NEW]) < 0)
		rc = sys_err(sp, err, "fsync", "new", NULL);
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
	static const int order[] = {
		SPOOL_NEW, SPOOL_CUR, SPOOL_DONE, SPOOL_FAIL, SPOOL_NEW,
		SPOOL_CUR,
	};
	struct stat st;
	size_t i;

	if (!name_ok(name)) {
		errno = EINVAL;
		return -2;
	}
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		if (fstatat(sp->sub[order[i]], name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0)
			return order[i];
		if (errno != ENOENT)
			return -2;
	}
	return -1;
}

int
spool_put_named(struct spool *sp, const char *name, const void *data,
    size_t len, struct strbuf *err)
{
	int fd = -1, r, rc = RC_TEMP;

	if (!name_ok(name))
		return bad_name(name, err);
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
