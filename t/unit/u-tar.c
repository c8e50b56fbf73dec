/*
 * u-tar: lib/tar.c: safe path resolution, writing, and extraction of
 * good and hostile archives, in a scratch directory under /tmp.
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gz.h"
#include "strbuf.h"
#include "tap.h"
#include "tar.h"
#include "xmalloc.h"

static char top[64];
static int topfd;

static int
to_sb(void *arg, const void *p, size_t n)
{
	strbuf_add(arg, p, n);
	return 0;
}

static int
memfile(const void *p, size_t n)
{
	char path[] = "/tmp/u-tar.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1)
		return -1;
	unlink(path);
	if (n > 0 && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* A fresh directory under top; its fd. */
static int
fresh(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", top, name);
	if (system(cmd) != 0)
		return -1;
	if (mkdirat(topfd, name, 0755) == -1)
		return -1;
	return openat(topfd, name, O_RDONLY | O_DIRECTORY);
}

static void
add(struct tar_writer *w, const char *name, mode_t mode, const char *data,
    const char *link, time_t mtime)
{
	struct strbuf err = STRBUF_INIT;
	struct stat st;
	int fd = -1;

	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_mtim.tv_sec = mtime;
	st.st_uid = getuid();
	st.st_gid = getgid();
	if (S_ISREG(mode)) {
		st.st_size = (off_t)strlen(data);
		fd = memfile(data, strlen(data));
	}
	check_int(tar_writer_add(w, name, &st, link, fd, &err), ==, 0);
	if (err.len)
		test_msg("%s", err.buf);
	if (fd >= 0)
		close(fd);
	strbuf_release(&err);
}

static int
extract(const struct strbuf *tar, int dirfd, struct tar_xres *r, int raw)
{
	struct tar_xopt o = TAR_XOPT_INIT;
	int fd = memfile(tar->buf, tar->len), ret;

	o.raw = raw;
	ret = tar_extract(fd, dirfd, &o, r);
	close(fd);
	return ret;
}

static char *
slurp(int dirfd, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = openat(dirfd, name, O_RDONLY);

	if (fd == -1)
		return NULL;
	strbuf_read_fd(&sb, fd, 0);
	close(fd);
	return strbuf_detach(&sb, NULL);
}

static void
t_split(void)
{
	struct strbuf d = STRBUF_INIT, l = STRBUF_INIT;

	check_int(tar_split_path("a/b/c", &d, &l), ==, 0);
	check_str(d.buf, "a/b");
	check_str(l.buf, "c");
	check_int(tar_split_path("./a//b/./", &d, &l), ==, 0);
	check_str(d.buf, "a");
	check_str(l.buf, "b");
	check_int(tar_split_path("x", &d, &l), ==, 0);
	check_str(d.buf, "");
	check_str(l.buf, "x");
	check_int(tar_split_path("./", &d, &l), ==, 0);
	check_str(l.buf, "");
	check_int(tar_split_path("a/../b", &d, &l), ==, -1);
	check_int(errno, ==, EINVAL);
	check_int(tar_split_path("..", &d, &l), ==, -1);
	check_int(tar_split_path("a/..", &d, &l), ==, -1);
	check_int(tar_split_path("/etc/passwd", &d, &l), ==, -1);
	check_int(tar_split_path("a\\b", &d, &l), ==, -1);
	check_int(tar_split_path("..a/b..", &d, &l), ==, 0);
	strbuf_release(&d);
	strbuf_release(&l);
}

static void
t_open_dir(void)
{
	int d = fresh("open"), fd;

	fd = tar_open_dir(d, "a/b/c", 1);
	check(fd >= 0);
	close(fd);
	check_int(tar_open_dir(d, "a/x", 0), ==, -1);
	check_int(errno, ==, ENOENT);
	check_int(symlinkat("/", d, "a/link"), ==, 0);
	check_int(tar_open_dir(d, "a/link/etc", 1), ==, -1);
	check_int(errno, ==, ELOOP);
	check_int(tar_open_dir(d, "a/link", 0), ==, -1);
	check_int(errno, ==, ELOOP);
	close(openat(d, "a/file", O_CREAT | O_WRONLY, 0644));
	check_int(tar_open_dir(d, "a/file/x", 1), ==, -1);
	check_int(errno, ==, ENOTDIR);
	check_int(tar_open_dir(d, "a/../..", 1), ==, -1);
	check_int(errno, ==, EINVAL);
	fd = tar_open_dir(d, "", 0);
	check(fd >= 0);
	close(fd);
	close(d);
}

static void
t_create_file(void)
{
	int d = fresh("create"), fd;
	char *s;

	/* a file elsewhere, hard-linked in: replaced, never written into */
	fd = openat(topfd, "outside", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check_int(write(fd, "keep\n", 5), ==, 5);
	close(fd);
	check_int(linkat(topfd, "outside", d, "hl", 0), ==, 0);
	fd = tar_create_file(d, "hl", 0600);
	check(fd >= 0);
	check_int(write(fd, "new\n", 4), ==, 4);
	close(fd);
	check_str(s = slurp(topfd, "outside"), "keep\n");
	free(s);
	check_str(s = slurp(d, "hl"), "new\n");
	free(s);

	check_int(symlinkat("../outside", d, "sl"), ==, 0);
	check_int(tar_create_file(d, "sl", 0644), ==, -1);
	check_int(errno, ==, ELOOP);
	check_int(mkdirat(d, "dir", 0755), ==, 0);
	check_int(tar_create_file(d, "dir", 0644), ==, -1);
	check_int(errno, ==, EISDIR);
	close(d);
}

static void
t_roundtrip(void)
{
	struct strbuf tar = STRBUF_INIT, gz = STRBUF_INIT,
	    err = STRBUF_INIT;
	struct tar_xres r = TAR_XRES_INIT;
	struct tar_writer *w;
	struct pgz_opt po = PGZ_OPT_INIT;
	struct pgz *p;
	struct stat st;
	char buf[65536], *s;
	ssize_t n;
	time_t future = time(NULL) + 100000;
	int d, fd;

	w = tar_writer_new(to_sb, &tar);
	add(w, "dir", S_IFDIR | 0700, NULL, NULL, 1000000000);
	add(w, "dir/file", S_IFREG | 0640, "contents\n", NULL, 1000000000);
	add(w, "dir/sub/future", S_IFREG | 04755, "x", NULL, future);
	add(w, "empty", S_IFREG | 0644, "", NULL, 1000000000);
	check_int(tar_writer_close(w, &err), ==, 0);
	tar_writer_free(w);
	/* two end blocks and no padding to 10240, as Go writes */
	check_int(tar.len % 512, ==, 0);
	check_int(tar.len, <, 10240);

	d = fresh("rt");
	check_int(extract(&tar, d, &r, 1), ==, 0);
	check_int(r.files, ==, 3);
	check_int(r.dirs, ==, 1);
	check_str(s = slurp(d, "dir/file"), "contents\n");
	free(s);
	check_int(fstatat(d, "dir/file", &st, 0), ==, 0);
	check_int(st.st_mode & 07777, ==, 0640);
	check_int(st.st_mtim.tv_sec, ==, 1000000000);
	/* directories are 0755, set-id bits are dropped */
	check_int(fstatat(d, "dir", &st, 0), ==, 0);
	check_int(st.st_mode & 07777, ==, 0755);
	check_int(fstatat(d, "dir/sub/future", &st, 0), ==, 0);
	check_int(st.st_mode & 07777, ==, 0755);
	/* a time in the future is clamped to the start of extraction */
	check(st.st_mtim.tv_sec <= time(NULL));
	check(st.st_mtim.tv_sec >= time(NULL) - 60);
	check_int(fstatat(d, "empty", &st, 0), ==, 0);
	check_int(st.st_size, ==, 0);
	close(d);

	/* the same through parallel gzip members */
	po.block = 1000;
	p = pgz_new(&po);
	check_int(pgz_write(p, tar.buf, tar.len), ==, 0);
	check_int(pgz_close(p), ==, 0);
	while ((n = pgz_read(p, buf, sizeof(buf))) > 0)
		strbuf_add(&gz, buf, (size_t)n);
	pgz_free(p);
	d = fresh("rtgz");
	check_int(extract(&gz, d, &r, 0), ==, 0);
	check_int(r.files, ==, 3);
	fd = openat(d, "dir/file", O_RDONLY);
	check(fd >= 0);
	close(fd);
	close(d);

	/* not gzip, in Go's words */
	d = fresh("notgz");
	check_int(extract(&tar, d, &r, 0), ==, -1);
	check_int(r.err, ==, TAR_XGZIP);
	check_str(r.msg.buf, "gzip: invalid header");
	/* cut short */
	strbuf_setlen(&gz, gz.len - 30);
	check_int(extract(&gz, d, &r, 0), ==, -1);
	check_int(r.err, ==, TAR_XFORMAT);
	close(d);
	tar_xres_release(&r);
	strbuf_release(&tar);
	strbuf_release(&gz);
	strbuf_release(&err);
}

static struct strbuf *
one_entry(struct strbuf *tar, const char *name, mode_t mode,
    const char *link)
{
	struct strbuf err = STRBUF_INIT;
	struct tar_writer *w;

	strbuf_reset(tar);
	w = tar_writer_new(to_sb, tar);
	add(w, name, mode, S_ISREG(mode) ? "x\n" : NULL, link, 1000000000);
	tar_writer_close(w, &err);
	tar_writer_free(w);
	strbuf_release(&err);
	return tar;
}

static void
t_hostile(void)
{
	struct strbuf tar = STRBUF_INIT;
	struct tar_xres r = TAR_XRES_INIT;
	struct stat st;
	int d = fresh("hostile");

	check_int(extract(one_entry(&tar, "../escaped", S_IFREG | 0644, NULL),
	    d, &r, 1), ==, -1);
	check_int(r.err, ==, TAR_XNAME);
	check_str(r.name.buf, "../escaped");
	check_int(extract(one_entry(&tar, "/tmp/escaped", S_IFREG | 0644,
	    NULL), d, &r, 1), ==, -1);
	check_int(r.err, ==, TAR_XNAME);
	check_int(extract(one_entry(&tar, "a/b/../../..", S_IFDIR | 0755,
	    NULL), d, &r, 1), ==, -1);
	check_int(r.err, ==, TAR_XNAME);
	check_int(extract(one_entry(&tar, "link", S_IFLNK | 0777, "/"), d, &r,
	    1), ==, -1);
	check_int(r.err, ==, TAR_XTYPE);
	check_int(r.mode & S_IFMT, ==, S_IFLNK);
	check_int(extract(one_entry(&tar, "fifo", S_IFIFO | 0644, NULL), d, &r,
	    1), ==, -1);
	check_int(r.err, ==, TAR_XTYPE);
	check_int(r.mode & S_IFMT, ==, S_IFIFO);

	/* a link planted on disk (by a command): not followed */
	check_int(symlinkat("..", d, "planted"), ==, 0);
	check_int(extract(one_entry(&tar, "planted/escaped", S_IFREG | 0644,
	    NULL), d, &r, 1), ==, -1);
	check_int(r.err, ==, TAR_XSYMLINK);
	check_int(extract(one_entry(&tar, "planted", S_IFREG | 0644, NULL),
	    d, &r, 1), ==, -1);
	check_int(r.err, ==, TAR_XSYMLINK);
	check_int(fstatat(topfd, "escaped", &st, AT_SYMLINK_NOFOLLOW), ==, -1);
	close(d);
	tar_xres_release(&r);
	strbuf_release(&tar);
}

static void
t_limits(void)
{
	struct strbuf tar = STRBUF_INIT, err = STRBUF_INIT;
	struct tar_xopt o = TAR_XOPT_INIT;
	struct tar_xres r = TAR_XRES_INIT;
	struct tar_writer *w;
	int d = fresh("limits"), fd;

	w = tar_writer_new(to_sb, &tar);
	add(w, "a", S_IFREG | 0644, "0123456789", NULL, 1000000000);
	add(w, "b", S_IFREG | 0644, "0123456789", NULL, 1000000000);
	tar_writer_close(w, &err);
	tar_writer_free(w);
	o.raw = 1;
	o.max_bytes = 15;
	fd = memfile(tar.buf, tar.len);
	check_int(tar_extract(fd, d, &o, &r), ==, -1);
	check_int(r.err, ==, TAR_XLIMIT);
	check_str(r.name.buf, "b");
	close(fd);

	/* an empty input is an empty archive */
	strbuf_reset(&tar);
	check_int(extract(&tar, d, &r, 1), ==, 0);
	check_int(r.files, ==, 0);
	close(d);
	tar_xres_release(&r);
	strbuf_release(&tar);
	strbuf_release(&err);
}

/* a file from memory is the same entry as the same file from an fd */
static void
t_mem(void)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;
	size_t n = 3 * 1024 * 1024 + 17, i;	/* more than one write piece */
	char *data = malloc(n);
	struct tar_writer *w;
	struct stat st;
	int fd;

	for (i = 0; i < n; i++)
		data[i] = (char)(i * 7 + i / 4096);
	w = tar_writer_new(to_sb, &a);
	check_int(tar_writer_add_mem(w, "d/big", 0755, 1000000000, data, n,
	    &err), ==, 0);
	check_int(tar_writer_add_mem(w, "d/empty", 0644, 1000000000, "", 0,
	    &err), ==, 0);
	check_int(tar_writer_close(w, &err), ==, 0);
	tar_writer_free(w);

	w = tar_writer_new(to_sb, &b);
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0755;
	st.st_size = (off_t)n;
	st.st_mtim.tv_sec = 1000000000;
	fd = memfile(data, n);
	check_int(tar_writer_add(w, "d/big", &st, NULL, fd, &err), ==, 0);
	close(fd);
	st.st_mode = S_IFREG | 0644;
	st.st_size = 0;
	check_int(tar_writer_add(w, "d/empty", &st, NULL, -1, &err), ==, 0);
	check_int(tar_writer_close(w, &err), ==, 0);
	tar_writer_free(w);

	check_int(a.len, ==, b.len);
	check_int(a.len > n, ==, 1);
	check_int(memcmp(a.buf, b.buf, a.len < b.len ? a.len : b.len), ==, 0);
	if (err.len)
		test_msg("%s", err.buf);
	free(data);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
}

int
main(void)
{
	char cmd[128];

	snprintf(top, sizeof(top), "/tmp/u-tar.%d", (int)getpid());
	if (mkdir(top, 0755) == -1 ||
	    (topfd = open(top, O_RDONLY | O_DIRECTORY)) == -1) {
		printf("1..0 # SKIP cannot make %s\n", top);
		return 0;
	}
	TEST(t_split(), "paths are split, and refused when they climb");
	TEST(t_open_dir(), "directories are opened without following links");
	TEST(t_create_file(), "files are new inodes; links are refused");
	TEST(t_roundtrip(), "written archives extract as they were");
	TEST(t_hostile(), "hostile names, types and planted links are refused");
	TEST(t_limits(), "the byte limit; an empty input");
	TEST(t_mem(), "a file from memory is written as one from an fd");
	close(topfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		test_msg("cannot remove %s", top);
	return test_done();
}
