/*
 * fuzz-tar: lib/tar.c's extraction against hostile archives.  The first
 * input byte chooses a plain tar (even) or gzip (odd); the rest is the
 * archive, extracted into a sandbox/in under a fresh /tmp directory
 * that also holds sandbox/outside/sentinel.  Whatever the archive, after
 * extraction:
 *
 *   - sandbox holds only "in" and "outside", outside only its sentinel,
 *     unchanged;
 *   - in holds only directories and regular files with one link each:
 *     no symbolic links, hard links, devices, FIFOs or sockets.
 *
 *   make fuzz && sh fuzz/run.sh 600 tar
 */
#include "compat.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "strbuf.h"
#include "tar.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static char top[64];
static int topfd = -1;

static void
setup(void)
{
	int fd;

	snprintf(top, sizeof(top), "/tmp/fuzz-tar.%d", (int)getpid());
	if (mkdir(top, 0755) == -1 ||
	    (topfd = open(top, O_RDONLY | O_DIRECTORY)) == -1 ||
	    mkdirat(topfd, "outside", 0755) == -1 ||
	    (fd = openat(topfd, "outside/sentinel", O_CREAT | O_WRONLY,
	    0644)) == -1) {
		perror(top);
		abort();
	}
	if (write(fd, "keep\n", 5) != 5)
		abort();
	close(fd);
}

/* Check directory fd's tree and remove it; returns the entry count. */
static int
check_and_remove(int fd, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int sub, n = 0;

	if (depth > 4096)
		abort();
	if ((d = fdopendir(fd)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			abort();
		if (S_ISDIR(st.st_mode)) {
			sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW);
			if (sub == -1)
				abort();
			check_and_remove(sub, depth + 1);
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == -1)
				abort();
		} else if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
			if (unlinkat(dirfd(d), de->d_name, 0) == -1)
				abort();
		} else {
			fprintf(stderr, "fuzz-tar: %s: mode %o, %lu links\n",
			    de->d_name, (unsigned)st.st_mode,
			    (unsigned long)st.st_nlink);
			abort();
		}
		n++;
		rewinddir(d);
	}
	closedir(d);
	return n;
}

static void
check_sandbox(void)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, n = 0;
	char buf[16];

	fd = openat(topfd, ".", O_RDONLY | O_DIRECTORY);
	if ((d = fdopendir(fd)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "in") != 0 &&
		    strcmp(de->d_name, "outside") != 0) {
			fprintf(stderr, "fuzz-tar: %s appeared outside\n",
			    de->d_name);
			abort();
		}
		n++;
	}
	closedir(d);
	if (n != 2)
		abort();
	fd = openat(topfd, "outside", O_RDONLY | O_DIRECTORY);
	if ((d = fdopendir(fd)) == NULL)
		abort();
	n = 0;
	while ((de = readdir(d)) != NULL)
		n++;
	closedir(d);
	if (n != 3)
		abort();	/* ., .. and sentinel */
	fd = openat(topfd, "outside/sentinel", O_RDONLY | O_NOFOLLOW);
	if (fd == -1 || fstat(fd, &st) == -1 || st.st_size != 5 ||
	    read(fd, buf, sizeof(buf)) != 5 || memcmp(buf, "keep\n", 5) != 0)
		abort();
	close(fd);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct tar_xopt o = TAR_XOPT_INIT;
	struct tar_xres r = TAR_XRES_INIT;
	int in, mfd;

	if (topfd == -1)
		setup();
	if (size < 1)
		return 0;
	o.raw = !(data[0] & 1);
	o.max_bytes = 64 << 20;
	if ((mfd = memfd_create("tar", 0)) == -1)
		abort();
	if (size > 1 && write(mfd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	lseek(mfd, 0, SEEK_SET);
	if (mkdirat(topfd, "in", 0755) == -1 ||
	    (in = openat(topfd, "in", O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	(void)tar_extract(mfd, in, &o, &r);
	close(mfd);
	check_sandbox();
	check_and_remove(in, 0);
	if (unlinkat(topfd, "in", AT_REMOVEDIR) == -1)
		abort();
	tar_xres_release(&r);
	return 0;
}
