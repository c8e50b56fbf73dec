#include "compat.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"

static char root[PATH_MAX];
static char spdir[PATH_MAX + 32];
static struct spool sp;
static char *item[4];		/* names of the items t_put made */
static int held_fd = -1;	/* our claim on item[0] */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Number of entries in spdir/sub, dot-files included. */
static int
count_files(const char *sub)
{
	char path[PATH_MAX + 64];
	int fd, n = 0;
	DIR *d;
	struct dirent *de;

	if (snprintf(path, sizeof(path), "%s/%s", spdir, sub) >=
	    (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) < 0 ||
	    (d = fdopendir(fd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
in_list(const struct spool_names *nv, const char *name)
{
	size_t i;

	for (i = 0; i < nv->n; i++)
		if (strcmp(nv->v[i], name) == 0)
			return 1;
	return 0;
}

static void
t_open_missing(void)
{
	struct strbuf err = STRBUF_INIT;
	struct spool s2;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/nope", root);
	check_int(spool_open(&s2, path, 0, &err), ==, RC_PERM);
	check(strstr(err.buf, "/nope") != NULL);
	check(strstr(err.buf, "No such file") != NULL);
	check_int(s2.fd, ==, -1);
	check(s2.path == NULL);
	spool_close(&s2);	/* harmless on a failed open */
	check(access(path, F_OK) < 0);
	strbuf_release(&err);
}

static void
t_open_create(void)
{
	static const char *subs[] = { "tmp", "new", "cur", "done", "fail" };
	struct strbuf err = STRBUF_INIT;
	struct spool s2;
	struct stat st;
	char path[PATH_MAX + 64];
	size_t i;

	/* parents are made too */
	check_int(spool_open(&sp, spdir, 1, &err), ==, RC_OK);
	check_str(err.buf, "");
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		snprintf(path, sizeof(path), "%s/%s", spdir, subs[i]);
		check(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	}
	/* an existing spool opens without create, and with it */
	check_int(spool_open(&s2, spdir, 0, &err), ==, RC_OK);
	spool_close(&s2);
	check_int(spool_open(&s2, spdir, 1, &err), ==, RC_OK);
	spool_close(&s2);
	check_int(s2.fd, ==, -1);
	/* a spool missing a subdirectory is not a spool */
	snprintf(path, sizeof(path), "%s/half", root);
	check_int(mkdir(path, 0755), ==, 0);
	check_int(spool_open(&s2, path, 0, &err), ==, RC_PERM);
	check(strstr(err.buf, "/half/tmp") != NULL);
	strbuf_release(&err);
}

static void
t_put(void)
{
	static const char *data[] = { "one", "two", "three", "four" };
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] == '/' || host[i] == ':')
			host[i] = '_';
	for (i = 0; i < ARRAY_SIZE(data); i++) {
		strbuf_reset(&name);
		check_int(spool_put(&sp, data[i], strlen(data[i]), &name,
		    &err), ==, RC_OK);
		item[i] = strbuf_detach(&name, NULL);
	}
	check_str(err.buf, "");
	/* <sec>.<usec>P<pid>Q<counter>.<host> */
	for (i = 0; i < ARRAY_SIZE(data); i++) {
		const char *p = item[i];
		size_t n = strspn(p, "0123456789");

		check(n >= 10 && p[n] == '.');
		p += n + 1;
		check_int(strspn(p, "0123456789"), ==, 6);
		p += 6;
		strbuf_reset(&want);
		strbuf_addf(&want, "P%ldQ", (long)getpid());
		check(strncmp(p, want.buf, want.len) == 0);
		p += want.len;
		n = strspn(p, "0123456789");
		check(n >= 1);
		check(p[n] == '.');
		if (host[0] != '\0')
			check_str(p + n + 1, host);
	}
	/* the counter distinguishes every put of this process */
	check(strcmp(item[0], item[1]) != 0 && strcmp(item[1], item[2]) != 0);

	check_int(spool_list(&sp, "new", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 4);
	for (i = 0; i < ARRAY_SIZE(data); i++)
		check(in_list(&nv, item[i]));
	for (i = 1; i < nv.n; i++)
		check_int(strcmp(nv.v[i - 1], nv.v[i]), <, 0);
	/* tmp/ is left empty, contents are exact */
	check_int(count_files("tmp"), ==, 0);
	check_int(spool_read(&sp, "new", item[2], &got, 0, &err), ==, RC_OK);
	check_str(got.buf, "three");
	check_int(got.len, ==, 5);
	/* an empty item is an item */
	strbuf_reset(&name);
	check_int(spool_put(&sp, "", 0, &name, &err), ==, RC_OK);
	check_int(spool_read(&sp, "new", name.buf, &got, 0, &err), ==, RC_OK);
	check_int(got.len, ==, 0);
	check_int(unlinkat(sp.sub[SPOOL_NEW], name.buf, 0), ==, 0);
	/* name_out may be NULL */
	check_int(spool_put(&sp, "anon", 4, NULL, &err), ==, RC_OK);
	check_int(spool_list(&sp, "new", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 5);
	for (i = 0; i < nv.n; i++) {
		if (in_list(&(struct spool_names){ item, 4, 4 }, nv.v[i]))
			continue;
		check_int(spool_read(&sp, "new", nv.v[i], &got, 0, &err), ==,
		    RC_OK);
		check_str(got.buf, "anon");
		check_int(unlinkat(sp.sub[SPOOL_NEW], nv.v[i], 0), ==, 0);
	}
	check_int(spool_list(&sp, "tmp", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 0);
	spool_names_free(&nv);
	check(nv.v == NULL && nv.n == 0);
	strbuf_release(&err);
	strbuf_release(&name);
	strbuf_release(&want);
	strbuf_release(&got);
}

static void
t_dotfiles(void)
{
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;
	int fd, lfd = -1;

	fd = openat(sp.sub[SPOOL_NEW], ".hidden", O_WRONLY | O_CREAT, 0644);
	check(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = openat(sp.sub[SPOOL_DONE], ".x", O_WRONLY | O_CREAT, 0644);
	check(fd >= 0);
	if (fd >= 0)
		close(fd);
	check_int(count_files("new"), ==, 5);
	check_int(spool_list(&sp, "new", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 4);
	check(!in_list(&nv, ".hidden"));
	check_int(spool_list(&sp, "done", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 0);
	/* names that are not items are refused everywhere */
	check_int(spool_claim(&sp, ".hidden", &lfd, &err), ==, RC_PERM);
	check(strstr(err.buf, "'.hidden'") != NULL);
	check_int(spool_claim(&sp, "", &lfd, &err), ==, RC_PERM);
	check_int(spool_claim(&sp, "../new/x", &lfd, &err), ==, RC_PERM);
	check_int(lfd, ==, -1);
	check_int(spool_read(&sp, "new", ".hidden", &got, 0, &err), ==,
	    RC_PERM);
	check_int(spool_finish(&sp, ".hidden", "done", &err), ==, RC_PERM);
	check_int(spool_requeue(&sp, "a/b", &err), ==, RC_PERM);
	errno = 0;
	check_int(spool_stale(&sp, ".hidden"), ==, -1);
	check_int(errno, ==, EINVAL);
	/* the dot-file is still where it was */
	check_int(count_files("new"), ==, 5);
	spool_names_free(&nv);
	strbuf_release(&err);
	strbuf_release(&got);
}

static void
t_claim_twice(void)
{
	struct strbuf err = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;
	char buf[16];
	int fd2 = -1;
	ssize_t n;

	check_int(spool_claim(&sp, item[0], &held_fd, &err), ==, RC_OK);
	check_str(err.buf, "");
	check(held_fd >= 0);
	/* the second claim of the same item loses */
	check_int(spool_claim(&sp, item[0], &fd2, &err), ==, RC_NO);
	check(strstr(err.buf, item[0]) != NULL);
	check_int(fd2, ==, -1);
	check_int(spool_list(&sp, "cur", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 1);
	check(in_list(&nv, item[0]));
	check_int(spool_list(&sp, "new", &nv, &err), ==, RC_OK);
	check(!in_list(&nv, item[0]));
	/* the claim's descriptor reads the item */
	n = read(held_fd, buf, sizeof(buf));
	check_int(n, ==, 3);
	check(n == 3 && memcmp(buf, "one", 3) == 0);
	/* a live claim is neither stale nor requeued */
	check_int(spool_stale(&sp, item[0]), ==, 0);
	strbuf_reset(&err);
	check_int(spool_requeue(&sp, item[0], &err), ==, RC_NO);
	check(strstr(err.buf, "live") != NULL);
	/* nonexistent items */
	check_int(spool_claim(&sp, "123.000000P1Q1.nohost", &fd2, &err), ==,
	    RC_NO);
	check_int(spool_stale(&sp, "123.000000P1Q1.nohost"), ==, 0);
	spool_names_free(&nv);
	strbuf_release(&err);
}

/* Eight processes claim one item at once: exactly one wins. */
static void
t_claim_race(void)
{
	enum { N = 8 };
	struct strbuf err = STRBUF_INIT;
	pid_t pid[N];
	int gate[2], i, won = 0, lost = 0, other = 0;
	char c;

	if (pipe(gate) < 0) {
		check(!"pipe");
		return;
	}
	fflush(stdout);
	for (i = 0; i < N; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct strbuf e = STRBUF_INIT;
			int fd = -1, rc;

			close(gate[1]);
			(void)!read(gate[0], &c, 1);	/* EOF: go */
			rc = spool_claim(&sp, item[1], &fd, &e);
			_exit(rc == RC_OK ? 0 : rc == RC_NO ? 1 : 2);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < N; i++) {
		int st;

		if (pid[i] < 0 || waitpid(pid[i], &st, 0) < 0 ||
		    !WIFEXITED(st))
			other++;
		else if (WEXITSTATUS(st) == 0)
			won++;
		else if (WEXITSTATUS(st) == 1)
			lost++;
		else
			other++;
	}
	check_int(won, ==, 1);
	check_int(lost, ==, N - 1);
	check_int(other, ==, 0);
	/* the winner is dead, so its claim is stale */
	check_int(spool_stale(&sp, item[1]), ==, 1);
	check_int(count_files("cur"), ==, 4);	/* two items, two counts */
	strbuf_release(&err);
}

/* A child claims and dies: the claim turns stale and can be requeued. */
static void
t_stale(void)
{
	struct strbuf err = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;
	int p[2], st;
	pid_t pid;
	char c = 0;

	if (pipe(p) < 0) {
		check(!"pipe");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct strbuf e = STRBUF_INIT;
		int fd = -1;

		close(p[0]);
		c = spool_claim(&sp, item[2], &fd, &e) == RC_OK ? 'y' : 'n';
		(void)!write(p[1], &c, 1);
		for (;;)
			pause();
	}
	close(p[1]);
	check(pid > 0);
	check_int(read(p[0], &c, 1), ==, 1);
	close(p[0]);
	check_int(c, ==, 'y');
	/* live in the child: not stale, not requeued, not claimable */
	check_int(spool_stale(&sp, item[2]), ==, 0);
	check_int(spool_requeue(&sp, item[2], &err), ==, RC_NO);
	check_int(spool_list(&sp, "cur", &nv, &err), ==, RC_OK);
	check(in_list(&nv, item[2]));
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	check_int(spool_stale(&sp, item[2]), ==, 1);
	strbuf_reset(&err);
	check_int(spool_requeue(&sp, item[2], &err), ==, RC_OK);
	check_str(err.buf, "");
	check_int(spool_list(&sp, "new", &nv, &err), ==, RC_OK);
	check(in_list(&nv, item[2]));
	check_int(spool_list(&sp, "cur", &nv, &err), ==, RC_OK);
	check(!in_list(&nv, item[2]));
	/* gone from cur/: neither stale nor requeued again */
	check_int(spool_stale(&sp, item[2]), ==, 0);
	check_int(spool_requeue(&sp, item[2], &err), ==, RC_NO);
	/* the requeued item can be claimed again, with its contents */
	{
		struct strbuf got = STRBUF_INIT;
		int fd = -1;

		check_int(spool_claim(&sp, item[2], &fd, &err), ==, RC_OK);
		check_int(spool_read(&sp, "cur", item[2], &got, 0, &err), ==,
		    RC_OK);
		check_str(got.buf, "three");
		check_int(spool_finish(&sp, item[2], "done", &err), ==, RC_OK);
		close(fd);
		strbuf_release(&got);
	}
	spool_names_free(&nv);
	strbuf_release(&err);
}

static void
t_finish(void)
{
	struct strbuf err = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;

	check_int(spool_finish(&sp, item[0], "done", &err), ==, RC_OK);
	check_str(err.buf, "");
	close(held_fd);
	held_fd = -1;
	check_int(spool_list(&sp, "done", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 2);
	check(in_list(&nv, item[0]) && in_list(&nv, item[2]));
	/* twice: it is no longer in cur/ */
	check_int(spool_finish(&sp, item[0], "done", &err), ==, RC_NO);
	/* only done and fail are destinations */
	strbuf_reset(&err);
	check_int(spool_finish(&sp, item[1], "new", &err), ==, RC_PERM);
	check(strstr(err.buf, "'new'") != NULL);
	check_int(spool_finish(&sp, item[1], "bogus", &err), ==, RC_PERM);
	check_int(spool_finish(&sp, item[1], NULL, &err), ==, RC_PERM);
	check_int(spool_finish(&sp, item[1], "fail", &err), ==, RC_OK);
	check_int(spool_list(&sp, "fail", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 1);
	check(in_list(&nv, item[1]));
	check_int(spool_list(&sp, "cur", &nv, &err), ==, RC_OK);
	check_int(nv.n, ==, 0);
	spool_names_free(&nv);
	strbuf_release(&err);
}

static void
t_read(void)
{
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	struct spool_names nv = SPOOL_NAMES_INIT;

	strbuf_addstr(&got, "junk");
	check_int(spool_read(&sp, "done", item[0], &got, 3, &err), ==, RC_OK);
	check_str(got.buf, "one");
	check_int(spool_read(&sp, "done", item[0], &got, 2, &err), ==,
	    RC_PERM);
	check(strstr(err.buf, "larger than 2 bytes") != NULL);
	check_int(got.len, ==, 0);
	check_int(spool_read(&sp, "new", item[0], &got, 0, &err), ==, RC_NO);
	check_int(spool_read(&sp, "bogus", item[0], &got, 0, &err), ==,
	    RC_PERM);
	strbuf_reset(&err);
	check_int(spool_list(&sp, "bogus", &nv, &err), ==, RC_PERM);
	check_str(err.buf, "bad spool subdirectory 'bogus'");
	check_int(nv.n, ==, 0);
	strbuf_release(&err);
	strbuf_release(&got);
}

/* A put that cannot create its file leaves nothing behind. */
static void
t_put_fail(void)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	struct spool s2;
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];

	snprintf(path, sizeof(path), "%s/broken", root);
	check_int(spool_open(&s2, path, 1, &err), ==, RC_OK);
	snprintf(tmp, sizeof(tmp), "%s/tmp", path);
	check_int(rmdir(tmp), ==, 0);
	check_int(spool_put(&s2, "x", 1, &name, &err), ==, RC_TEMP);
	check(strstr(err.buf, "create '") != NULL);
	check(strstr(err.buf, "/broken/tmp/") != NULL);
	check_int(name.len, ==, 0);
	snprintf(tmp, sizeof(tmp), "%s/new", path);
	check_int(rmdir(tmp), ==, 0);	/* fails unless empty */
	spool_close(&s2);
	strbuf_release(&err);
	strbuf_release(&name);
}

/* A put whose write fails (a file size limit) leaves nothing either. */
static void
t_put_write_fail(void)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	struct rlimit old, rl;
	int before = count_files("new");

	if (getrlimit(RLIMIT_FSIZE, &old) < 0) {
		check(!"getrlimit");
		return;
	}
	signal(SIGXFSZ, SIG_IGN);
	rl = old;
	rl.rlim_cur = 4;
	check_int(setrlimit(RLIMIT_FSIZE, &rl), ==, 0);
	check_int(spool_put(&sp, "0123456789", 10, &name, &err), ==, RC_TEMP);
	check_int(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
	signal(SIGXFSZ, SIG_DFL);
	check(strstr(err.buf, "write '") != NULL);
	check(strstr(err.buf, "File too large") != NULL);
	check_int(name.len, ==, 0);
	check_int(count_files("tmp"), ==, 0);
	check_int(count_files("new"), ==, before);
	strbuf_release(&err);
	strbuf_release(&name);
}

/* The x bits of sub/name, or -1 when it is missing. */
static int
xbits(const char *sub, const char *name)
{
	struct stat st;
	int i = strcmp(sub, "new") == 0 ? SPOOL_NEW :
	    strcmp(sub, "cur") == 0 ? SPOOL_CUR :
	    strcmp(sub, "done") == 0 ? SPOOL_DONE : SPOOL_FAIL;

	if (fstatat(sp.sub[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return (int)(st.st_mode & 0111);
}

/*
 * Fork a worker that claims name, says 'y' (or 'n') on a pipe and then
 * waits to be killed, or with finish set, waits for a byte on a second
 * pipe and finishes the item to done.  Returns its pid; *ctl gets the
 * write end of the second pipe.
 */
static pid_t
worker(const char *name, int finish, int *ctl)
{
	int p[2], q[2];
	pid_t pid;
	char c = 0;

	if (pipe(p) < 0 || pipe(q) < 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct strbuf e = STRBUF_INIT;
		int fd = -1;

		close(p[0]);
		close(q[1]);
		c = spool_claim(&sp, name, &fd, &e) == RC_OK ? 'y' : 'n';
		(void)!write(p[1], &c, 1);
		if (!finish)
			for (;;)
				pause();
		(void)!read(q[0], &c, 1);
		_exit(spool_finish(&sp, name, "done", &e) == RC_OK ? 0 : 1);
	}
	close(p[1]);
	close(q[0]);
	if (pid < 0 || read(p[0], &c, 1) != 1 || c != 'y') {
		close(p[0]);
		close(q[1]);
		return -1;
	}
	close(p[0]);
	if (ctl != NULL)
		*ctl = q[1];
	else
		close(q[1]);
	return pid;
}

static void
kill_wait(pid_t pid)
{
	int st;

	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

/* A wake-up descriptor turns readable on a put; spool_wait_new returns. */
static void
t_watch(void)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	struct spool s2;
	struct pollfd pfd;
	char path[PATH_MAX + 64];
	int fd, st;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/watched", root);
	check_int(spool_open(&s2, path, 1, &err), ==, RC_OK);
	fd = spool_watch(&s2, &err);
	check(fd >= 0);
	check_int(spool_watch(&s2, &err), ==, fd);
	pfd.fd = fd;
	pfd.events = POLLIN;
	check_int(poll(&pfd, 1, 0), ==, 0);
	/* nothing there: a wait times out */
	check_int(spool_wait_new(&s2, 0, &err), ==, RC_NO);
	check_int(spool_put(&s2, "w", 1, &name, &err), ==, RC_OK);
	check_int(poll(&pfd, 1, 10000), ==, 1);
	spool_watch_drain(&s2);
	check_int(poll(&pfd, 1, 0), ==, 0);
	/* an item already there: at once */
	check_int(spool_wait_new(&s2, 0, &err), ==, RC_OK);
	check_int(unlinkat(s2.sub[SPOOL_NEW], name.buf, 0), ==, 0);
	/* named items arrive by link(2): readable too */
	check_int(spool_put_named(&s2, "n-1-1", "x", 1, &err), ==, RC_OK);
	check_int(poll(&pfd, 1, 10000), ==, 1);
	check_int(unlinkat(s2.sub[SPOOL_NEW], "n-1-1", 0), ==, 0);
	spool_watch_drain(&s2);
	/* a blocking wait ends when another process puts an item */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct strbuf e = STRBUF_INIT;

		_exit(spool_put(&s2, "late", 4, NULL, &e) == RC_OK ? 0 : 1);
	}
	check_int(spool_wait_new(&s2, 60000, &err), ==, RC_OK);
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	spool_close(&s2);
	check_int(s2.watch, ==, -1);
	strbuf_release(&err);
	strbuf_release(&name);
}

/* 1 when a process waits for a flock (a "->" line in /proc/locks). */
static int
lock_waiter(pid_t pid)
{
	char line[512], want[32];
	FILE *fp;
	int found = 0;

	snprintf(want, sizeof(want), " %ld ", (long)pid);
	if ((fp = fopen("/proc/locks", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "->") != NULL && strstr(line, want) != NULL)
			found = 1;
	fclose(fp);
	if (!found)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return found;
}

/* Fork a process that runs spool_wait_item(name) and exits with it + 2. */
static pid_t
waiter(const char *name)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(spool_wait_item(&sp, name) + 2);
	return pid;
}

static int
waiter_result(pid_t pid)
{
	int st;

	if (pid <= 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -100;
	return WEXITSTATUS(st) - 2;
}

/* spool_wait_item blocks while the worker holds the item. */
static void
t_wait_item(void)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	time_t end;
	pid_t w, p;
	int ctl = -1, blocked = 0;

	check_int(spool_put(&sp, "waited", 6, &name, &err), ==, RC_OK);
	check_int(spool_wait_item(&sp, name.buf), ==, SPOOL_NEW);
	check_int(spool_wait_item(&sp, "no-such-item"), ==, -1);
	errno = 0;
	check_int(spool_wait_item(&sp, ".x"), ==, -2);
	check_int(errno, ==, EINVAL);

	p = worker(name.buf, 1, &ctl);
	check(p > 0);
	w = waiter(name.buf);
	check(w > 0);
	/* wait until the waiter is blocked on the item's lock */
	for (end = time(NULL) + 30; time(NULL) < end;)
		if ((blocked = lock_waiter(w)))
			break;
	check(blocked);
	check_int(waitpid(w, NULL, WNOHANG), ==, 0);
	/* let the worker finish: the waiter learns it is done */
	check_int(write(ctl, "g", 1), ==, 1);
	close(ctl);
	check_int(waiter_result(w), ==, SPOOL_DONE);
	check_int(waiter_result(p), ==, -2);	/* the worker's exit 0 */
	check_int(spool_wait_item(&sp, name.buf), ==, SPOOL_DONE);

	/* a worker that dies leaves its item in cur/: the waiter says so */
	strbuf_reset(&name);
	check_int(spool_put(&sp, "dies", 4, &name, &err), ==, RC_OK);
	p = worker(name.buf, 0, NULL);
	check(p > 0);
	w = waiter(name.buf);
	for (end = time(NULL) + 30; time(NULL) < end;)
		if ((blocked = lock_waiter(w)))
			break;
	check(blocked);
	kill_wait(p);
	check_int(waiter_result(w), ==, SPOOL_CUR);
	check_int(spool_requeue(&sp, name.buf, &err), ==, RC_OK);
	check_int(spool_wait_item(&sp, name.buf), ==, SPOOL_NEW);
	check_int(unlinkat(sp.sub[SPOOL_NEW], name.buf, 0), ==, 0);
	strbuf_release(&err);
	strbuf_release(&name);
}

/* A live claim is +x; it loses the mark when it leaves cur/. */
static void
t_mark(void)
{
	struct strbuf err = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	pid_t p;
	int fd = -1;

	check_int(spool_put(&sp, "a", 1, &a, &err), ==, RC_OK);
	check_int(spool_put(&sp, "b", 1, &b, &err), ==, RC_OK);
	check_int(xbits("new", a.buf), ==, 0);
	check_int(spool_claim(&sp, a.buf, &fd, &err), ==, RC_OK);
	check_int(xbits("cur", a.buf), ==, 0111);
	check_int(spool_finish(&sp, a.buf, "done", &err), ==, RC_OK);
	close(fd);
	check_int(xbits("done", a.buf), ==, 0);
	/* a dead worker's mark goes with the requeue */
	p = worker(b.buf, 0, NULL);
	check(p > 0);
	check_int(xbits("cur", b.buf), ==, 0111);
	kill_wait(p);
	check_int(spool_requeue(&sp, b.buf, &err), ==, RC_OK);
	check_int(xbits("new", b.buf), ==, 0);
	check_int(unlinkat(sp.sub[SPOOL_NEW], b.buf, 0), ==, 0);
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
}

/*
 * An item whose workers die (SIGKILL, N times) goes to fail/ at the
 * N-th requeue, with its count: never looping, never lost.
 */
static void
t_delivery_count(void)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	struct strbuf dot = STRBUF_INIT;
	int i, n = 4;
	pid_t p;

	check_int(sp.max_claims, ==, 3);
	sp.max_claims = n;
	check_int(spool_put(&sp, "deadly", 6, &name, &err), ==, RC_OK);
	strbuf_addf(&dot, ".%s", name.buf);
	check_int(spool_claims(&sp, name.buf), ==, 0);
	for (i = 1; i <= n; i++) {
		p = worker(name.buf, 0, NULL);
		check(p > 0);
		check_int(spool_claims(&sp, name.buf), ==, i);
		kill_wait(p);
		check_int(spool_stale(&sp, name.buf), ==, 1);
		strbuf_reset(&err);
		if (i < n) {
			check_int(spool_requeue(&sp, name.buf, &err), ==,
			    RC_OK);
			check_int(spool_find(&sp, name.buf), ==, SPOOL_NEW);
			check_int(spool_claims(&sp, name.buf), ==, i);
		} else {
			check_int(spool_requeue(&sp, name.buf, &err), ==,
			    RC_PERM);
			check(strstr(err.buf, "claimed 4 times") != NULL);
			check(strstr(err.buf, "fail/") != NULL);
		}
	}
	check_int(spool_find(&sp, name.buf), ==, SPOOL_FAIL);
	check_int(xbits("fail", name.buf), ==, 0);
	/* the count went with it; the listings never showed it */
	check(faccessat(sp.sub[SPOOL_CUR], dot.buf, F_OK, 0) < 0);
	check_int(spool_claims(&sp, name.buf), ==, 0);
	sp.max_claims = 3;
	strbuf_release(&err);
	strbuf_release(&name);
	strbuf_release(&dot);
}

/*
 * Workers killed at random moments of their claim: the item is never
 * lost and its count never goes down, and is higher after every claim
 * that reached cur/.
 */
static void
t_count_crash(void)
{
	struct strbuf err = STRBUF_INIT, name = STRBUF_INIT;
	int round, prev = 0, n, where, bad = 0;
	unsigned seed = (unsigned)getpid();

	sp.max_claims = 0;	/* no limit: this is about the count */
	check_int(spool_put(&sp, "crash", 5, &name, &err), ==, RC_OK);
	for (round = 0; round < 60; round++) {
		struct timespec ts = { 0, (long)(rand_r(&seed) % 3000) * 1000 };
		pid_t pid;

		fflush(stdout);
		if ((pid = fork()) == 0) {
			struct strbuf e = STRBUF_INIT;
			int fd = -1;

			(void)spool_claim(&sp, name.buf, &fd, &e);
			for (;;)
				pause();
		}
		if (pid < 0) {
			bad++;
			break;
		}
		nanosleep(&ts, NULL);	/* a random moment, not a wait */
		kill_wait(pid);
		where = spool_find(&sp, name.buf);
		n = spool_claims(&sp, name.buf);
		if ((where != SPOOL_NEW && where != SPOOL_CUR) || n < prev ||
		    (where == SPOOL_CUR && n < prev + 1)) {
			test_msg("round %d: where %d count %d before %d",
			    round, where, n, prev);
			bad++;
			break;
		}
		prev = n;
		if (where == SPOOL_CUR &&
		    spool_requeue(&sp, name.buf, &err) != RC_OK) {
			bad++;
			break;
		}
	}
	check_int(bad, ==, 0);
	check(prev > 0);
	check_int(spool_find(&sp, name.buf), ==, SPOOL_NEW);
	check_int(unlinkat(sp.sub[SPOOL_NEW], name.buf, 0), ==, 0);
	sp.max_claims = 3;
	strbuf_release(&err);
	strbuf_release(&name);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");
	size_t i;

	if (snprintf(root, sizeof(root), "%s/u-spool.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp") >= (int)sizeof(root) ||
	    mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(spdir, sizeof(spdir), "%s/a/b/spool", root);

	TEST(t_open_missing(), "open of a missing spool is RC_PERM");
	TEST(t_open_create(), "open with create makes dir, parents, subdirs");
	TEST(t_put(), "put names, lists, reads items; tmp left empty");
	TEST(t_dotfiles(), "dot-files are skipped and refused as names");
	TEST(t_claim_twice(), "second claim of an item is RC_NO");
	TEST(t_claim_race(), "eight racing claims: exactly one wins");
	TEST(t_stale(), "claim of a dead child is stale and requeued");
	TEST(t_finish(), "finish moves to done or fail only");
	TEST(t_read(), "read limits, missing items, bad subdirectories");
	TEST(t_put_fail(), "failed put leaves nothing in tmp or new");
	TEST(t_put_write_fail(), "a put that cannot write leaves nothing");
	TEST(t_watch(), "the watch fd turns readable on a put; wait_new");
	TEST(t_wait_item(), "wait_item returns when the worker finishes");
	TEST(t_mark(), "live claims are +x, nothing else is");
	TEST(t_delivery_count(), "killed N times, an item goes to fail/");
	TEST(t_count_crash(), "kills within claims never lose an item or count");

	spool_close(&sp);
	for (i = 0; i < ARRAY_SIZE(item); i++)
		free(item[i]);
	rm_rf(root);
	return test_done();
}
