#include "compat.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "atomicfile.h"
#include "strbuf.h"

static char root[PATH_MAX];
static int dfd = -1;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The names in dirfd/sub ("." for dirfd itself), sorted, space-separated. */
static const char *
listing(const char *sub)
{
	static struct strbuf sb = STRBUF_INIT;
	struct dirent **nl;
	int n, i;
	char path[PATH_MAX + 64];

	strbuf_reset(&sb);
	snprintf(path, sizeof(path), "%s/%s", root, sub);
	n = scandir(path, &nl, NULL, alphasort);
	if (n < 0)
		return "(scandir failed)";
	for (i = 0; i < n; i++) {
		if (strcmp(nl[i]->d_name, ".") != 0 &&
		    strcmp(nl[i]->d_name, "..") != 0) {
			if (sb.len)
				strbuf_addch(&sb, ' ');
			strbuf_addstr(&sb, nl[i]->d_name);
		}
		free(nl[i]);
	}
	free(nl);
	return sb.buf;
}

static const char *
contents(const char *name)
{
	static struct strbuf sb = STRBUF_INIT;
	int fd;

	strbuf_reset(&sb);
	fd = openat(dfd, name, O_RDONLY);
	if (fd < 0)
		return "(missing)";
	(void)strbuf_read_fd(&sb, fd, 0);
	close(fd);
	return sb.buf;
}

static void
t_write(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stat st;

	check_int(atomic_write(dfd, "f", "hello\n", 6, 0640, &err), ==, 0);
	check_str(err.buf, "");
	check_str(contents("f"), "hello\n");
	check_int(fstatat(dfd, "f", &st, 0), ==, 0);
	check_int(st.st_mode & 07777, ==, 0640);	/* umask or not */
	check_int(st.st_size, ==, 6);
	check_str(listing("."), "f");
	strbuf_release(&err);
}

static void
t_replace(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stat before, after;
	char buf[16];
	int rfd;

	check_int(fstatat(dfd, "f", &before, 0), ==, 0);
	rfd = openat(dfd, "f", O_RDONLY);
	check(rfd >= 0);
	check_int(atomic_write(dfd, "f", "second", 6, 0600, &err), ==, 0);
	check_str(contents("f"), "second");
	check_int(fstatat(dfd, "f", &after, 0), ==, 0);
	/* a new file renamed over the old one, not a rewrite in place */
	check(before.st_ino != after.st_ino);
	check_int(after.st_mode & 07777, ==, 0600);
	/* a reader that had the old file still reads it whole */
	memset(buf, 0, sizeof(buf));
	check_int(pread_all(rfd, buf, sizeof(buf), 0), ==, 6);
	check_str(buf, "hello\n");
	close(rfd);
	/* an empty file is a file */
	check_int(atomic_write(dfd, "empty", "", 0, 0644, &err), ==, 0);
	check_int(fstatat(dfd, "empty", &after, 0), ==, 0);
	check_int(after.st_size, ==, 0);
	check_str(listing("."), "empty f");
	check_str(err.buf, "");
	strbuf_release(&err);
}

static void
t_paths(void)
{
	struct strbuf err = STRBUF_INIT;
	char path[PATH_MAX + 64], cwd[PATH_MAX];

	/* a name with a directory part, relative to dirfd */
	check_int(mkdirat(dfd, "sub", 0755), ==, 0);
	check_int(atomic_write(dfd, "sub/g", "in sub", 6, 0644, &err), ==, 0);
	check_str(contents("sub/g"), "in sub");
	check_str(listing("sub"), "g");
	/* AT_FDCWD and an absolute path */
	snprintf(path, sizeof(path), "%s/sub/h", root);
	check_int(atomic_write(AT_FDCWD, path, "abs", 3, 0644, &err), ==, 0);
	check_str(contents("sub/h"), "abs");
	/* AT_FDCWD and a plain name */
	check(getcwd(cwd, sizeof(cwd)) != NULL);
	check_int(fchdir(dfd), ==, 0);
	check_int(atomic_write(AT_FDCWD, "cwdfile", "c", 1, 0644, &err), ==,
	    0);
	check_int(chdir(cwd), ==, 0);
	check_str(contents("cwdfile"), "c");
	check_str(listing("sub"), "g h");
	check_str(err.buf, "");
	strbuf_release(&err);
}

static void
t_fail(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stat st;

	/* a missing directory: -1, err says what, nothing made */
	check_int(atomic_write(dfd, "nodir/f", "x", 1, 0644, &err), ==, -1);
	check(strstr(err.buf, "create '") != NULL);
	check(strstr(err.buf, "nodir/") != NULL);
	check(strstr(err.buf, "No such file or directory") != NULL);
	check_int(fstatat(dfd, "nodir", &st, 0), ==, -1);
	/* the rename fails (a directory is in the way): temp removed */
	strbuf_reset(&err);
	check_int(mkdirat(dfd, "adir", 0755), ==, 0);
	check_int(mkdirat(dfd, "adir/x", 0755), ==, 0);
	check_int(atomic_write(dfd, "adir", "x", 1, 0644, &err), ==, -1);
	check(strstr(err.buf, "rename '") != NULL);
	check_int(fstatat(dfd, "adir", &st, 0), ==, 0);
	check(S_ISDIR(st.st_mode));
	check_str(listing("."), "adir cwdfile empty f sub");
	check_str(listing("adir"), "x");
	strbuf_release(&err);
}

/* A write that fails (a file size limit) keeps the old file. */
static void
t_write_fail(void)
{
	struct strbuf err = STRBUF_INIT;
	struct rlimit old, rl;

	if (getrlimit(RLIMIT_FSIZE, &old) < 0) {
		check(!"getrlimit");
		return;
	}
	signal(SIGXFSZ, SIG_IGN);
	rl = old;
	rl.rlim_cur = 3;
	check_int(setrlimit(RLIMIT_FSIZE, &rl), ==, 0);
	check_int(atomic_write(dfd, "f", "0123456789", 10, 0644, &err), ==,
	    -1);
	check_int(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
	signal(SIGXFSZ, SIG_DFL);
	check(strstr(err.buf, "write '") != NULL);
	check(strstr(err.buf, "File too large") != NULL);
	check_str(contents("f"), "second");
	check_str(listing("."), "adir cwdfile empty f sub");
	strbuf_release(&err);
}

static void
t_helpers(void)
{
	char buf[8];
	int fd;

	fd = openat(dfd, "rw", O_RDWR | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0);
	check_int(write_all(fd, "0123456789", 10), ==, 0);
	check_int(pread_all(fd, buf, 4, 3), ==, 4);
	check(memcmp(buf, "3456", 4) == 0);
	/* short at EOF, 0 past it */
	check_int(pread_all(fd, buf, 8, 6), ==, 4);
	check(memcmp(buf, "6789", 4) == 0);
	check_int(pread_all(fd, buf, 8, 100), ==, 0);
	close(fd);
	errno = 0;
	check_int(write_all(fd, "x", 1), ==, -1);
	check_int(errno, ==, EBADF);
	check_int(fsync_dir(dfd), ==, 0);
	check_int(fsync_dir(AT_FDCWD), ==, 0);
	check_int(fsync_path(root), ==, 0);
	errno = 0;
	check_int(fsync_path("/nonexistent/dir"), ==, -1);
	check_int(errno, ==, ENOENT);
}

static void
t_mkdirs(void)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;

	strbuf_addf(&p, "%s/m1/m2/m3", root);
	check_int(mkdirs(p.buf), ==, 0);
	check_int(stat(p.buf, &st), ==, 0);
	check(S_ISDIR(st.st_mode));
	check_int(mkdirs(p.buf), ==, 0);	/* all there: fine */
	strbuf_addstr(&p, "/");
	check_int(mkdirs(p.buf), ==, 0);	/* trailing slash */
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/file", root);
	check_int(atomic_write(AT_FDCWD, p.buf, "x", 1, 0644, &p), ==, 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/file/sub", root);
	check_int(mkdirs(p.buf), ==, -1);
	check_int(errno, ==, ENOTDIR);
	errno = 0;
	check_int(mkdirs(""), ==, -1);
	check_int(errno, ==, ENOENT);
	strbuf_release(&p);
}

/* The same publication without the fsyncs: rename, mode, no temp. */
static void
t_nosync(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stat before, after, st;

	check_int(mkdirat(dfd, "ns", 0755), ==, 0);
	check_int(atomic_write_nosync(dfd, "ns/p", "one", 3, 0644, &err), ==,
	    0);
	check_str(contents("ns/p"), "one");
	check_int(fstatat(dfd, "ns/p", &before, 0), ==, 0);
	check_int(atomic_write_nosync(dfd, "ns/p", "two!", 4, 0644, &err), ==,
	    0);
	check_str(err.buf, "");
	check_str(contents("ns/p"), "two!");
	check_int(fstatat(dfd, "ns/p", &after, 0), ==, 0);
	check(before.st_ino != after.st_ino);
	check_int(after.st_mode & 07777, ==, 0644);
	check_str(listing("ns"), "p");
	check_int(atomic_write_nosync(dfd, "nodir/p", "x", 1, 0644, &err),
	    ==, -1);
	check(strstr(err.buf, "nodir/.p.") != NULL);
	check_int(fstatat(dfd, "nodir", &st, 0), ==, -1);
	strbuf_release(&err);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	if (snprintf(root, sizeof(root), "%s/u-atomicfile.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp") >= (int)sizeof(root) ||
	    mkdtemp(root) == NULL ||
	    (dfd = open(root, O_RDONLY | O_DIRECTORY)) < 0) {
		printf("Bail out! temporary directory: %s\n", strerror(errno));
		return 1;
	}
	umask(077);

	TEST(t_write(), "atomic_write writes data and mode, leaves no temp");
	TEST(t_replace(), "replaces by rename; old readers keep the old file");
	TEST(t_paths(), "names with directories, AT_FDCWD, absolute paths");
	TEST(t_fail(), "failures leave nothing behind and say why");
	TEST(t_write_fail(), "a failed write keeps the old file, no temp");
	TEST(t_helpers(), "write_all, pread_all, fsync_dir, fsync_path");
	TEST(t_mkdirs(), "mkdirs makes parents, accepts existing, reports ENOTDIR");
	TEST(t_nosync(), "atomic_write_nosync replaces by rename, leaves no temp");

	close(dfd);
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
