#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"

static char root[PATH_MAX];
static char spdir[PATH_MAX + 32];
static struct spool sp;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
exists(const char *sub, const char *name)
{
	char path[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/%s/%s", spdir, sub, name);
	return access(path, F_OK) == 0;
}

static void
t_put_named(void)
{
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;

	check_int(spool_put_named(&sp, "go-101-1", "{}", 2, &err), ==, RC_OK);
	check_str(err.buf, "");
	check(exists("new", "go-101-1"));
	check(!exists("tmp", "go-101-1"));
	check_int(spool_read(&sp, "new", "go-101-1", &got, 0, &err), ==,
	    RC_OK);
	check_str(got.buf, "{}");
	check_int(spool_find(&sp, "go-101-1"), ==, SPOOL_NEW);
	check_int(spool_find(&sp, "go-101-2"), ==, -1);
	/* a second put of the name is refused and changes nothing */
	check_int(spool_put_named(&sp, "go-101-1", "x", 1, &err), ==, RC_NO);
	check(strstr(err.buf, "already queued") != NULL);
	check_int(spool_read(&sp, "new", "go-101-1", &got, 0, &err), ==,
	    RC_OK);
	check_str(got.buf, "{}");
	strbuf_release(&err);
	strbuf_release(&got);
}

static void
t_never_twice(void)
{
	struct strbuf err = STRBUF_INIT;
	int fd = -1;

	/* claimed: still there */
	check_int(spool_claim(&sp, "go-101-1", &fd, &err), ==, RC_OK);
	check_int(spool_find(&sp, "go-101-1"), ==, SPOOL_CUR);
	check_int(spool_put_named(&sp, "go-101-1", "y", 1, &err), ==, RC_NO);
	/* done: still there */
	check_int(spool_finish(&sp, "go-101-1", "done", &err), ==, RC_OK);
	close(fd);
	check_int(spool_find(&sp, "go-101-1"), ==, SPOOL_DONE);
	check_int(spool_put_named(&sp, "go-101-1", "y", 1, &err), ==, RC_NO);
	check(!exists("new", "go-101-1"));
	/* failed: still there */
	check_int(spool_put_named(&sp, "go-102-1", "z", 1, &err), ==, RC_OK);
	check_int(spool_claim(&sp, "go-102-1", &fd, &err), ==, RC_OK);
	check_int(spool_finish(&sp, "go-102-1", "fail", &err), ==, RC_OK);
	close(fd);
	check_int(spool_find(&sp, "go-102-1"), ==, SPOOL_FAIL);
	check_int(spool_put_named(&sp, "go-102-1", "z", 1, &err), ==, RC_NO);
	strbuf_release(&err);
}

static void
t_leftovers(void)
{
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	char path[PATH_MAX + 128];
	int fd;

	/* a producer died after writing tmp/: the next put replaces it */
	snprintf(path, sizeof(path), "%s/tmp/go-103-1", spdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0);
	check_int(write(fd, "half a long item", 16), ==, 16);
	close(fd);
	check_int(spool_put_named(&sp, "go-103-1", "ok", 2, &err), ==, RC_OK);
	check_int(spool_read(&sp, "new", "go-103-1", &got, 0, &err), ==,
	    RC_OK);
	check_str(got.buf, "ok");
	check(!exists("tmp", "go-103-1"));
	/* ... or died between link and unlink: the leftover goes */
	snprintf(path, sizeof(path), "%s/tmp/go-103-1", spdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	close(fd);
	check_int(spool_put_named(&sp, "go-103-1", "ok", 2, &err), ==, RC_NO);
	check(!exists("tmp", "go-103-1"));
	strbuf_release(&err);
	strbuf_release(&got);
}

static void
touch(const char *sub, const char *name)
{
	char path[PATH_MAX + 128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", spdir, sub, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0);
	check_int(write(fd, "1\n", 2), ==, 2);
	close(fd);
}

/* Pruning done/ and fail/ never lets a named item be queued again. */
static void
t_prune(void)
{
	struct strbuf err = STRBUF_INIT, uniq = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;
	size_t n = 99;
	int fd = -1;

	/* just finished: younger than an hour */
	check_int(spool_prune(&sp, "done", 3600, &n, &err), ==, RC_OK);
	check_int(n, ==, 0);
	check(exists("done", "go-101-1"));
	/* an item with spool_put's name, finished too */
	check_int(spool_put(&sp, "u", 1, &uniq, &err), ==, RC_OK);
	check_int(spool_claim(&sp, uniq.buf, &fd, &err), ==, RC_OK);
	check_int(spool_finish(&sp, uniq.buf, "done", &err), ==, RC_OK);
	close(fd);
	/* counts: one a crash in finish left, one of an item still queued */
	touch("cur", ".go-101-1");
	touch("cur", ".go-103-1");
	check_int(spool_prune(&sp, "done", 0, &n, &err), ==, RC_OK);
	check_str(err.buf, "");
	check_int(n, ==, 2);
	check(!exists("done", "go-101-1"));
	check(!exists("done", uniq.buf));
	check_int(spool_list(&sp, "done", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 0);
	/* the named one left a tombstone, the other none */
	check(exists("done", ".go-101-1"));
	{
		struct strbuf dot = STRBUF_INIT;

		strbuf_addf(&dot, ".%s", uniq.buf);
		check(!exists("done", dot.buf));
		strbuf_release(&dot);
	}
	check_int(spool_find(&sp, "go-101-1"), ==, SPOOL_DONE);
	check_int(spool_put_named(&sp, "go-101-1", "y", 1, &err), ==, RC_NO);
	check(strstr(err.buf, "already queued") != NULL);
	check(!exists("new", "go-101-1"));
	check(!exists("cur", ".go-101-1"));
	check(exists("cur", ".go-103-1"));
	/* fail/ likewise */
	check_int(spool_prune(&sp, "fail", 0, &n, &err), ==, RC_OK);
	check_int(n, ==, 1);
	check(exists("fail", ".go-102-1"));
	check_int(spool_find(&sp, "go-102-1"), ==, SPOOL_FAIL);
	check_int(spool_put_named(&sp, "go-102-1", "z", 1, &err), ==, RC_NO);
	/* again: tombstones are not items, nothing to do */
	check_int(spool_prune(&sp, "done", 0, &n, &err), ==, RC_OK);
	check_int(n, ==, 0);
	check(exists("done", ".go-101-1"));
	/* only done/ and fail/ are pruned */
	strbuf_reset(&err);
	check_int(spool_prune(&sp, "new", 0, &n, &err), ==, RC_PERM);
	check(strstr(err.buf, "'new'") != NULL);
	check(exists("new", "go-103-1"));
	spool_names_free(&nv);
	strbuf_release(&err);
	strbuf_release(&uniq);
}

static void
t_bad_names(void)
{
	struct strbuf err = STRBUF_INIT;

	/* spool_put's names are not for named items */
	check_int(spool_put_named(&sp, "1500000000.000001P12Q1.host", "x", 1,
	    &err), ==, RC_PERM);
	check(strstr(err.buf, "spool_put") != NULL);
	check_int(spool_put_named(&sp, "1500000000.000001P12Q1", "x", 1,
	    &err), ==, RC_OK);
	check_int(spool_put_named(&sp, ".hidden", "x", 1, &err), ==, RC_PERM);
	check_int(spool_put_named(&sp, "a/b", "x", 1, &err), ==, RC_PERM);
	check_int(spool_put_named(&sp, "", "x", 1, &err), ==, RC_PERM);
	errno = 0;
	check_int(spool_find(&sp, "../x"), ==, -2);
	check_int(errno, ==, EINVAL);
	strbuf_release(&err);
}

int
main(void)
{
	struct strbuf err = STRBUF_INIT;
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/u-spool-named.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(spdir, sizeof(spdir), "%s/spool", root);
	if (spool_open(&sp, spdir, 1, &err) != RC_OK) {
		printf("Bail out! %s\n", err.buf);
		return 1;
	}
	TEST(t_put_named(), "put_named publishes once; find says where");
	TEST(t_never_twice(), "never twice, whether claimed, done or failed");
	TEST(t_leftovers(), "leftovers of a dead producer are cleaned up");
	TEST(t_prune(), "pruning leaves tombstones of named items");
	TEST(t_bad_names(), "bad names are refused");
	spool_close(&sp);
	(void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	strbuf_release(&err);
	return test_done();
}
