#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "strbuf.h"

int
write_all(int fd, const void *vp, size_t n)
{
	const char *p = vp;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
pread_all(int fd, void *vp, size_t n, off_t off)
{
	char *p = vp;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, off + (off_t)got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
mkdirs(const char *dir)
{
	struct strbuf p = STRBUF_INIT;
	const char *s;
	int rc = 0;

	if (*dir == '\0') {
		errno = ENOENT;
		return -1;
	}
	for (s = dir + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		strbuf_reset(&p);
		strbuf_add(&p, dir, (size_t)(s - dir));
		if (mkdir(p.buf, 0755) < 0 && errno != EEXIST)
			rc = -1;
		if (*s == '\0')
			break;
	}
	strbuf_release(&p);
	return rc;
}

int
fsync_dir(int dirfd)
{
	int fd, rc;

	if (dirfd == AT_FDCWD) {
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		rc = fsync(fd);
		close(fd);
		return rc;
	}
	return fsync(dirfd);
}

int
fsync_path(const char *dirpath)
{
	int fd, rc, e;

	fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int
publish(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, int sync, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *base;
	int fd = -1, rc = -1;
	unsigned tries;

	base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	for (tries = 0; tries < 100; tries++) {
		strbuf_reset(&tmp);
		strbuf_add(&tmp, name, (size_t)(base - name));
		strbuf_addf(&tmp, ".%s.%ld.%u", base, (long)getpid(), tries);
		fd = openat(dirfd, tmp.buf,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		strbuf_addf(err, "create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    (sync && fsync(fd) < 0)) {
		strbuf_addf(err, "write '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		strbuf_addf(err, "close '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp.buf, dirfd, name) < 0) {
		strbuf_addf(err, "rename '%s' to '%s': %s", tmp.buf, name,
		    strerror(errno));
		goto out;
	}
	strbuf_reset(&tmp);
	if (!sync) {
		rc = 0;
		goto out;
	}
	if (base != name) {
		struct strbuf dir = STRBUF_INIT;
		int dfd;

		strbuf_add(&dir, name, (size_t)(base - name));
		dfd = openat(dirfd, dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0) {
			strbuf_addf(err, "fsync '%s': %s", dir.buf,
			    strerror(errno));
			if (dfd >= 0)
				close(dfd);
			strbuf_release(&dir);
			goto out;
		}
		close(dfd);
		strbuf_release(&dir);
	} else if (fsync_dir(dirfd) < 0) {
		strbuf_addf(err, "fsync directory of '%s': %s", name,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp.len)
		unlinkat(dirfd, tmp.buf, 0);
	strbuf_release(&tmp);
	return rc;
}

int
atomic_write(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, struct strbuf *err)
{
	return publish(dirfd, name, data, len, mode, 1, err);
}

int
atomic_write_nosync(int dirfd, const char *name, const void *data,
    size_t len, mode_t mode, struct strbuf *err)
{
	return publish(dirfd, name, data, len, mode, 0, err);
}
