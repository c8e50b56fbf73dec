/*
 * u-bclient: lib/bclient.c against our real buildlet (cmd/buildlet,
 * started here on 127.0.0.1 with a free port and a scratch work
 * directory) and against t/helper/fixture-buildlet, which answers with
 * the bytes of the original Go buildlet.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bclient.h"
#include "http.h"
#include "rc.h"
#include "strbuf.h"
#include "tap.h"
#include "timefmt.h"

#define WAIT_MS		30000	/* for a daemon to start or stop */
#define SLOW_MS		25000	/* a 30 s command must end well before */

static char root[PATH_MAX];	/* the source tree */
static char tmp[PATH_MAX - 64];
static pid_t bl_pid = -1, bl2_pid = -1, fx_pid = -1, bl3_pid = -1;
static char bl_url[64], bl2_url[64], fx_url[64], bl3_url[64];

static void
stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static void
cleanup(void)
{
	char cmd[PATH_MAX + 16];

	stop(&bl_pid);
	stop(&bl2_pid);
	stop(&fx_pid);
	stop(&bl3_pid);
	/* kept, with the buildlets' logs, when something failed */
	if (tap_failed_checks > 0)
		test_msg("scratch directory kept: %s", tmp);
	else if (tmp[0] != '\0' && snprintf(cmd, sizeof(cmd), "rm -rf '%s'",
	    tmp) < (int)sizeof(cmd) && system(cmd) != 0)
		test_msg("cannot remove %s", tmp);
}

static const char *
path(const char *name)
{
	static char buf[8][PATH_MAX];
	static int i;
	char *b = buf[i++ % 8];

	if (snprintf(b, PATH_MAX, "%s/%s", tmp, name) >= PATH_MAX)
		abort();
	return b;
}

static void
put(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || write_all(fd, text, strlen(text)) == -1)
		abort();
	close(fd);
}

static void
slurp(const char *file, struct strbuf *sb)
{
	int fd = open(file, O_RDONLY);

	strbuf_reset(sb);
	if (fd != -1) {
		strbuf_read_fd(sb, fd, 0);
		close(fd);
	}
}

/*
 * A buildlet on 127.0.0.1:0, its stderr in NAME.log; the port is read
 * from its "listening on 127.0.0.1:N" line.
 */
static pid_t
start_buildlet(const char *name, const char *pwfile, const char *sshport,
    char *url, size_t n)
{
	char exe[PATH_MAX + 32], wd[PATH_MAX], log[PATH_MAX], nm[64];
	struct strbuf sb = STRBUF_INIT;
	long long end = mono_ms() + WAIT_MS;
	const char *p;
	pid_t pid;
	int fd, port = 0;

	snprintf(exe, sizeof(exe), "%s/cmd/buildlet/buildlet", root);
	snprintf(nm, sizeof(nm), "%.32s.wd", name);
	snprintf(wd, sizeof(wd), "%s", path(nm));
	snprintf(nm, sizeof(nm), "%.32s.log", name);
	snprintf(log, sizeof(log), "%s", path(nm));
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) ==
		    -1 || dup2(fd, 2) == -1)
			_exit(127);
		if (sshport != NULL)
			execl(exe, "buildlet", "-listen", "127.0.0.1:0",
			    "-workdir", wd, "-password-file", pwfile,
			    "-ssh-port", sshport, (char *)NULL);
		else if (pwfile != NULL)
			execl(exe, "buildlet", "-listen", "127.0.0.1:0",
			    "-workdir", wd, "-password-file", pwfile,
			    (char *)NULL);
		else
			execl(exe, "buildlet", "-listen", "127.0.0.1:0",
			    "-workdir", wd, (char *)NULL);
		_exit(127);
	}
	while (mono_ms() < end && waitpid(pid, NULL, WNOHANG) == 0) {
		slurp(log, &sb);
		if ((p = strstr(sb.buf, "listening on 127.0.0.1:")) != NULL &&
		    sscanf(p, "listening on 127.0.0.1:%d", &port) == 1)
			break;
		usleep(20000);
	}
	strbuf_release(&sb);
	if (port <= 0) {
		test_msg("buildlet %s did not start; see %s", name, log);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	snprintf(url, n, "http://127.0.0.1:%d", port);
	return pid;
}

static pid_t
start_fixture(char *url, size_t n)
{
	char exe[PATH_MAX + 32], line[32];
	ssize_t got;
	pid_t pid;
	int p[2];

	snprintf(exe, sizeof(exe), "%s/t/helper/fixture-buildlet", root);
	if (mkdir(path("fx"), 0700) == -1 || pipe(p) == -1 ||
	    (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 1);
		execl(exe, "fixture-buildlet", path("fx"), "secret",
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	got = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	if (got <= 0)
		return -1;
	line[got] = '\0';
	snprintf(url, n, "http://127.0.0.1:%d", atoi(line));
	return pid;
}

/* ---- collecting output ---- */

struct out {
	struct strbuf sb;
	int calls;
	volatile sig_atomic_t started;
	pid_t kill_pid;		/* SIGKILL this once output arrives */
	pid_t pgid;		/* the first line, when it is a number */
};

static int
out_fn(const void *buf, size_t len, void *arg)
{
	struct out *o = arg;

	strbuf_add(&o->sb, buf, len);
	o->calls++;
	__atomic_store_n(&o->started, 1, __ATOMIC_RELAXED);
	if (o->kill_pid > 0 && strchr(o->sb.buf, '\n') != NULL) {
		o->pgid = atoi(o->sb.buf);
		kill(o->kill_pid, SIGKILL);
		o->kill_pid = 0;
	}
	return 0;
}

static struct bclient
client(const char *url, const char *name)
{
	struct bclient c = BCLIENT_INIT;

	c.url = url;
	c.name = name;
	c.password = "secret";
	return c;
}

/* /bin/sh -c script in mode=sys, its output in o */
static int
sh(const struct bclient *c, const char *script, struct out *o,
    struct bclient_result *res, struct strbuf *err)
{
	const char *args[] = { "-c", script, NULL };
	struct bclient_exec x = BCLIENT_EXEC_INIT;

	x.cmd = "/bin/sh";
	x.sys = 1;
	x.args = args;
	x.out.fn = out_fn;
	x.out.arg = o;
	strbuf_reset(&o->sb);
	o->calls = 0;
	strbuf_reset(err);
	return bclient_exec(c, &x, res, err);
}

static const struct bclient_dirent *
find(const struct bclient_dirlist *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* ---- against our buildlet ---- */

static void
t_status(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct strbuf err = STRBUF_INIT, wd = STRBUF_INIT;
	char real[PATH_MAX];
	int v = 0;

	check_int(bclient_status(&c, &v, &err), ==, RC_OK);
	check_int(v, ==, 15);
	check_int(bclient_workdir(&c, &wd, &err), ==, RC_OK);
	check(realpath(path("bl1.wd"), real) != NULL);
	check_str(wd.buf, real);
	check_str(err.buf, "");
	strbuf_release(&err);
	strbuf_release(&wd);
}

static void
t_bad_password(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct strbuf err = STRBUF_INIT;
	int v = 0;

	c.password = "wrong";
	check_int(bclient_status(&c, &v, &err), ==, RC_PERM);
	check(strstr(err.buf, "buildlet bl1: status: ") == err.buf);
	check(strstr(err.buf, "403") != NULL);
	check(strstr(err.buf, "invalid password") != NULL);
	check(strstr(err.buf, "wrong") == NULL);
	strbuf_release(&err);
}

static int
count(const struct bclient_dirent *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void
t_write_ls(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct bclient_dirlist l = BCLIENT_DIRLIST_INIT;
	struct bclient_ls o = BCLIENT_LS_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct bclient_dirent *e;
	const char *skip[] = { "b", NULL };
	int fd, n = 0;

	check_int(bclient_write(&c, "a/hello.txt", 0644, "hello\n", 6, &err),
	    ==, RC_OK);
	put(path("data"), "hello\n");
	check((fd = open(path("data"), O_RDONLY)) >= 0);
	check_int(bclient_write_fd(&c, "a/b/data", 0755, fd, &err), ==,
	    RC_OK);
	close(fd);
	check_str(err.buf, "");

	o.recursive = o.digest = 1;
	check_int(bclient_ls_all(&c, "a", &o, &l, &err), ==, RC_OK);
	check_int(l.n, ==, 3);
	check((e = find(&l, "b/")) != NULL && S_ISDIR(e->mode) &&
	    e->size == -1 && e->digest == NULL);
	check((e = find(&l, "b/data")) != NULL && S_ISREG(e->mode) &&
	    (e->mode & 07777) == 0755 && e->size == 6 &&
	    strcmp(e->modestr, "-rwxr-xr-x") == 0 && e->digest != NULL &&
	    strcmp(e->digest, "f572d396fae9206628714fb2ce00f72e94f2258f") == 0);
	check((e = find(&l, "hello.txt")) != NULL &&
	    (e->mode & 07777) == 0644 && e->mtime > 1500000000 &&
	    e->mtime <= time(NULL) + 1);
	bclient_dirlist_release(&l);

	/* not recursive; skip; streamed one entry at a time */
	o.recursive = o.digest = 0;
	check_int(bclient_ls(&c, "a", &o, count, &n, &err), ==, RC_OK);
	check_int(n, ==, 2);
	o.recursive = 1;
	o.skip = skip;
	check_int(bclient_ls_all(&c, "a", &o, &l, &err), ==, RC_OK);
	check_int(l.n, ==, 1);
	check(find(&l, "hello.txt") != NULL);
	bclient_dirlist_release(&l);

	check_int(bclient_write(&c, "../x", 0644, "x", 1, &err), ==, RC_PERM);
	check(strstr(err.buf, "buildlet bl1: write '../x': ") == err.buf);
	strbuf_reset(&err);
	check_int(bclient_ls_all(&c, "../x", NULL, &l, &err), ==, RC_PERM);
	bclient_dirlist_release(&l);
	strbuf_reset(&err);
	check_int(bclient_ls_all(&c, "missing", NULL, &l, &err), ==, RC_TEMP);
	check(strstr(err.buf, "Walk error") != NULL);
	bclient_dirlist_release(&l);
	strbuf_release(&err);
}

/* The names and digests of a recursive listing, one per line. */
static void
listing(const struct bclient *c, const char *dir, struct strbuf *out,
    struct strbuf *err)
{
	struct bclient_dirlist l = BCLIENT_DIRLIST_INIT;
	struct bclient_ls o = BCLIENT_LS_INIT;
	size_t i;

	o.recursive = o.digest = 1;
	strbuf_reset(out);
	if (bclient_ls_all(c, dir, &o, &l, err) != RC_OK)
		strbuf_addstr(out, "error");
	for (i = 0; i < l.n; i++)
		strbuf_addf(out, "%s %s %s\n", l.v[i].modestr, l.v[i].name,
		    l.v[i].digest != NULL ? l.v[i].digest : "-");
	bclient_dirlist_release(&l);
}

static void
t_tgz(void)
{
	struct bclient c = client(bl_url, "bl1"), c2 = client(bl2_url, "bl2");
	struct bclient_sink s = BCLIENT_SINK_INIT;
	struct strbuf err = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct strbuf u = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };
	int fd, skipped = -1;

	/* a tarball round trip: /tgz to a file, the file to /writetgz */
	check((fd = open(path("a.tgz"), O_RDWR | O_CREAT | O_TRUNC,
	    0600)) >= 0);
	s.fd = fd;
	check_int(bclient_tgz(&c, "a", 0, &s, &err), ==, RC_OK);
	check(lseek(fd, 0, SEEK_SET) == 0);
	check_int(bclient_writetgz(&c, "c", fd, &err), ==, RC_OK);
	close(fd);
	listing(&c, "a", &a, &err);
	listing(&c, "c", &b, &err);
	check_str(b.buf, a.buf);
	check(strstr(a.buf, "f572d396fae9206628714fb2ce00f72e94f2258f") !=
	    NULL);

	/* to a callback, in one gzip member */
	s.fd = -1;
	s.fn = out_fn;
	s.arg = &o;
	check_int(bclient_tgz(&c, "a", 1, &s, &err), ==, RC_OK);
	check(o.sb.len > 20 && (unsigned char)o.sb.buf[0] == 0x1f &&
	    (unsigned char)o.sb.buf[1] == 0x8b);

	/* the buildlet fetches a tarball itself: bl2's /tgz */
	c2.password = NULL;
	check_int(bclient_write(&c2, "t/f", 0600, "hello\n", 6, &err), ==,
	    RC_OK);
	strbuf_addf(&u, "%s/tgz?dir=t", bl2_url);
	check_int(bclient_writetgz_url(&c, "d", u.buf, &skipped, &err), ==,
	    RC_OK);
	check_int(skipped, ==, 0);
	listing(&c, "d", &a, &err);
	check_str(a.buf, "-rw------- f f572d396fae9206628714fb2ce00f72e94f2258f\n");
	check_int(bclient_writetgz_url(&c, "go1.4", u.buf, &skipped, &err),
	    ==, RC_OK);
	check_int(skipped, ==, 0);
	check_int(bclient_writetgz_url(&c, "go1.4", u.buf, &skipped, &err),
	    ==, RC_OK);
	check_int(skipped, ==, 1);
	check_str(err.buf, "");

	/* removeall */
	{
		const char *rm[] = { "a", "c", "d", "go1.4", NULL };
		const char *bad[] = { "../x", NULL };

		check_int(bclient_removeall(&c, rm, &err), ==, RC_OK);
		listing(&c, ".", &a, &err);
		check_str(a.buf, "");
		check_int(bclient_removeall(&c, bad, &err), ==, RC_PERM);
	}
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&u);
	strbuf_release(&o.sb);
}

static void
t_exec(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_result res;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };
	const char *args[] = { "x y", NULL };
	const char *env[] = { "FOO=bar", NULL };
	const char *nopath[] = { NULL };
	int fd;

	/* streamed: lines with pauses arrive in more than one callback */
	check_int(sh(&c, "echo one; sleep 1; echo two >&2; sleep 1; "
	    "echo three", &o, &res, &err), ==, RC_OK);
	check_str(o.sb.buf, "one\ntwo\nthree\n");
	check_int(o.calls, >=, 2);
	check_int(res.code, ==, 0);
	check_str(res.state, "ok");
	check_int(res.started, ==, 1);

	check_int(sh(&c, "echo bye; exit 3", &o, &res, &err), ==, RC_OK);
	check_int(res.code, ==, 3);
	check_int(res.signal, ==, 0);
	check_str(res.state, "exit status 3");
	check_int(sh(&c, "kill -TERM $$", &o, &res, &err), ==, RC_OK);
	check_int(res.code, ==, 143);
	check_int(res.signal, ==, SIGTERM);
	check_str(res.state, "signal: terminated");

	/* a command that cannot start is a result too */
	x.cmd = "no-such-command";
	x.sys = 1;
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check_int(res.started, ==, 0);
	check_int(res.code, ==, 127);

	/* a script in the work directory, its args, env and output fd */
	strbuf_addstr(&sb, "#!/bin/sh\necho \"$1:$FOO:$(basename \"$(pwd)\")\"\n");
	check_int(bclient_write(&c, "s/run.sh", 0755, sb.buf, sb.len, &err),
	    ==, RC_OK);
	check((fd = open(path("exec.out"), O_RDWR | O_CREAT | O_TRUNC,
	    0600)) >= 0);
	x = (struct bclient_exec)BCLIENT_EXEC_INIT;
	x.cmd = "s/run.sh";
	x.args = args;
	x.env = env;
	x.out.fd = fd;
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	close(fd);
	slurp(path("exec.out"), &sb);
	check_str(sb.buf, "x y:bar:s\n");
	check_int(res.code, ==, 0);

	/* an empty PATH list removes PATH */
	x.cmd = "/usr/bin/env";
	x.sys = 1;
	x.args = NULL;
	x.path = nopath;
	x.out = (struct bclient_sink)BCLIENT_SINK_INIT;
	x.out.fn = out_fn;
	x.out.arg = &o;
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check(strstr(o.sb.buf, "\nFOO=bar\n") != NULL);
	check(strstr(o.sb.buf, "\nPATH=") == NULL &&
	    strncmp(o.sb.buf, "PATH=", 5) != 0);
	x.path = NULL;
	strbuf_reset(&o.sb);
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check(strstr(o.sb.buf, "\nPATH=") != NULL);

	/* debug */
	x.cmd = "s/run.sh";
	x.sys = 0;
	x.args = args;
	x.debug = 1;
	strbuf_reset(&o.sb);
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check(strncmp(o.sb.buf, ":: Running ", 11) == 0);
	check(strstr(o.sb.buf, "x y:bar:s\n") != NULL);

	/* 400 before the start: a bad request */
	x = (struct bclient_exec)BCLIENT_EXEC_INIT;
	x.cmd = "../x";
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_PERM);
	check(strstr(err.buf, "buildlet bl1: exec '../x': ") == err.buf);
	check(strchr(err.buf, '\n') == NULL);
	strbuf_release(&err);
	strbuf_release(&sb);
	strbuf_release(&o.sb);
}

static void
t_exec_timeouts(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_result res;
	struct strbuf err = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };
	const char *args[] = { "30", NULL };

	/* the buildlet kills it: a result */
	x.cmd = "sleep";
	x.sys = 1;
	x.args = args;
	x.timeout_s = 1;
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check_int(res.signal, ==, SIGKILL);
	check_int(res.code, ==, 137);
	check_int(res.timed_out, ==, 1);
	check_int(res.elapsed_ms, <, SLOW_MS);

	/* silence: an infrastructure failure */
	c.silence_s = 2;
	x.timeout_s = 0;
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_TEMP);
	check_int(res.elapsed_ms, >=, 1000);
	check_int(res.elapsed_ms, <, SLOW_MS);
	check(strstr(err.buf, "buildlet bl1: exec 'sleep': ") == err.buf);
	test_msg("silence: %s", err.buf);

	/* the whole call, with output going on */
	c.silence_s = 0;
	c.timeout_ms = 2000;
	strbuf_reset(&err);
	check_int(sh(&c, "while :; do echo x; sleep 0.2; done", &o, &res,
	    &err), ==, RC_TEMP);
	check_int(o.calls, >=, 1);
	check_int(res.elapsed_ms, <, SLOW_MS);
	test_msg("timeout: %s", err.buf);
	strbuf_release(&err);
	strbuf_release(&o.sb);
}

struct canceller {
	struct out *o;
	volatile sig_atomic_t *cancel;
};

static void *
cancel_main(void *arg)
{
	struct canceller *k = arg;
	long long end = mono_ms() + WAIT_MS;

	while (!__atomic_load_n(&k->o->started, __ATOMIC_RELAXED) &&
	    mono_ms() < end)
		usleep(10000);
	__atomic_store_n(k->cancel, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void
t_cancel(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct bclient_result res;
	struct strbuf err = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };
	volatile sig_atomic_t cancel = 0;
	struct canceller k = { &o, &cancel };
	pthread_t th;

	c.cancel = &cancel;
	check_int(pthread_create(&th, NULL, cancel_main, &k), ==, 0);
	check_int(sh(&c, "echo go; sleep 30", &o, &res, &err), ==, RC_TEMP);
	pthread_join(th, NULL);
	check_str(o.sb.buf, "go\n");
	check_int(res.elapsed_ms, <, SLOW_MS);
	test_msg("cancel: %s", err.buf);
	strbuf_release(&err);
	strbuf_release(&o.sb);
}

/* A socket connected to the buildlet at url, as a reverse one would be. */
static int
dial(const char *url)
{
	struct sockaddr_in sin;
	int s;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)atoi(strrchr(url, ':') + 1));
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(s);
		return -1;
	}
	return s;
}

static void
t_conn(void)
{
	/* port 1: nothing listens there, the socket is the only way */
	struct bclient c = client("http://127.0.0.1:1", "rev");
	struct bclient_result res;
	struct strbuf err = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };
	int fd, n = 0, v = 0;

	/* one request over a socket */
	check((fd = dial(bl_url)) >= 0);
	c.conn_fd = fd;
	check_int(bclient_status(&c, &v, &err), ==, RC_OK);
	check_int(v, ==, 15);
	close(fd);

	/* several, over one kept-alive connection */
	check((fd = dial(bl_url)) >= 0);
	c.conn_fd = -1;
	check((c.conn = http_conn_new(fd)) != NULL);
	check_int(bclient_status(&c, &v, &err), ==, RC_OK);
	check_int(sh(&c, "echo hi", &o, &res, &err), ==, RC_OK);
	check_str(o.sb.buf, "hi\n");
	check_int(bclient_write(&c, "r/f", 0644, "x", 1, &err), ==, RC_OK);
	check_int(bclient_ls(&c, "r", NULL, count, &n, &err), ==, RC_OK);
	check_int(n, ==, 1);
	check_str(err.buf, "");
	http_conn_free(c.conn);
	close(fd);
	strbuf_release(&err);
	strbuf_release(&o.sb);
}

static void
t_refused(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct bclient c = client("http://127.0.0.1:1", "nobody");
	struct strbuf err = STRBUF_INIT;
	char url[64];
	int s, v;

	/* a port that was free a moment ago */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	check(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	check(getsockname(s, (struct sockaddr *)&sin, &len) == 0);
	close(s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d",
	    ntohs(sin.sin_port));
	c.url = url;
	check_int(bclient_status(&c, &v, &err), ==, RC_TEMP);
	check(strstr(err.buf, "buildlet nobody: status: ") == err.buf);
	strbuf_release(&err);
}

static void
t_halt(void)
{
	struct bclient c = client(bl_url, "bl1");
	struct strbuf err = STRBUF_INIT;
	long long end = mono_ms() + WAIT_MS;
	pid_t got = 0;
	int st = -1;

	check_int(bclient_halt(&c, &err), ==, RC_OK);
	while (mono_ms() < end && (got = waitpid(bl_pid, &st, WNOHANG)) == 0)
		usleep(20000);
	check_int(got, ==, bl_pid);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (got == bl_pid)
		bl_pid = -1;
	strbuf_release(&err);
}

static void
t_killed_mid_exec(void)
{
	struct bclient c = client(bl2_url, "bl2");
	struct bclient_result res;
	struct strbuf err = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };

	c.password = NULL;
	o.kill_pid = bl2_pid;
	check_int(sh(&c, "echo $$; sleep 30", &o, &res, &err), ==, RC_TEMP);
	check_int(res.elapsed_ms, <, SLOW_MS);
	test_msg("killed: %s", err.buf);
	if (o.pgid > 1)
		kill(-o.pgid, SIGKILL);
	waitpid(bl2_pid, NULL, 0);
	bl2_pid = -1;
	strbuf_release(&err);
	strbuf_release(&o.sb);
}

/* ---- against the original's bytes ---- */

static void
t_orig(void)
{
	struct bclient c = client(fx_url, "orig");
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_dirlist l = BCLIENT_DIRLIST_INIT;
	struct bclient_ls lo = BCLIENT_LS_INIT;
	struct bclient_sink s = BCLIENT_SINK_INIT;
	struct bclient_result res;
	struct strbuf err = STRBUF_INIT, log = STRBUF_INIT, sb = STRBUF_INIT;
	struct out o = { STRBUF_INIT, 0, 0, 0, 0 };
	const char *args[] = { "-v", "a b", NULL };
	const char *env[] = { "A=1", NULL };
	const char *nopath[] = { NULL };
	const char *rm[] = { "a", "b", NULL };
	const struct bclient_dirent *e;
	int v = 0, fd, skipped = 0;

	check_int(bclient_status(&c, &v, &err), ==, RC_OK);
	check_int(v, ==, 15);
	check_int(bclient_workdir(&c, &sb, &err), ==, RC_OK);
	check_str(sb.buf, "/workdir");

	x.cmd = "tick";
	x.sys = 1;
	x.args = args;
	x.env = env;
	x.path = nopath;
	x.out.fn = out_fn;
	x.out.arg = &o;
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check_str(o.sb.buf, "tick 1\ntick 2\n");
	check_int(res.code, ==, 3);
	check_str(res.state, "exit status 3");
	x.args = x.env = x.path = NULL;
	x.sys = 0;
	x.cmd = "killed";
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check_int(res.signal, ==, SIGKILL);
	check_int(res.code, ==, 137);
	x.cmd = "nonexist";
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_OK);
	check_int(res.started, ==, 0);
	check_int(res.code, ==, 127);
	check_str(res.state, "fork/exec /workdir/nonexist: no such file or "
	    "directory");
	check_str(err.buf, "");
	x.cmd = "old";
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_TEMP);
	check(strstr(err.buf, "no Process-State trailer") != NULL);
	strbuf_reset(&err);
	x.cmd = "cut";
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_TEMP);
	test_msg("cut: %s", err.buf);
	strbuf_reset(&err);
	x.cmd = "";
	check_int(bclient_exec(&c, &x, &res, &err), ==, RC_PERM);
	check(strstr(err.buf, "requires 'cmd' parameter") != NULL);
	strbuf_reset(&err);

	lo.digest = 1;
	check_int(bclient_ls_all(&c, ".", &lo, &l, &err), ==, RC_OK);
	check_int(l.n, ==, 3);
	check((e = find(&l, "src/")) != NULL && S_ISDIR(e->mode) &&
	    (e->mode & 07777) == 0755);
	check((e = find(&l, "src/all.bash")) != NULL && S_ISREG(e->mode) &&
	    e->size == 4096 && e->mtime == 1500746645 && e->digest != NULL &&
	    strcmp(e->digest, "3da541559918a808c2402bba5012f6c60b27661c") == 0);
	check((e = find(&l, "src/link")) != NULL && S_ISLNK(e->mode) &&
	    (e->mode & 07777) == 0777);
	bclient_dirlist_release(&l);
	check_int(bclient_ls_all(&c, "missing", NULL, &l, &err), ==, RC_TEMP);
	check(strstr(err.buf, "Walk error: lstat /workdir/missing") != NULL);
	bclient_dirlist_release(&l);
	strbuf_reset(&err);

	s.fn = out_fn;
	s.arg = &o;
	strbuf_reset(&o.sb);
	check_int(bclient_tgz(&c, ".", 0, &s, &err), ==, RC_OK);
	check_int(o.sb.len, ==, 24);
	check_int(bclient_tgz(&c, "missing", 0, &s, &err), ==, RC_TEMP);
	test_msg("tgz: %s", err.buf);
	strbuf_reset(&err);

	put(path("t.tgz"), "not really a tarball\n");
	check((fd = open(path("t.tgz"), O_RDONLY)) >= 0);
	check_int(bclient_writetgz(&c, "go", fd, &err), ==, RC_OK);
	close(fd);
	slurp(path("fx/put.body"), &sb);
	check_str(sb.buf, "not really a tarball\n");
	check_int(bclient_writetgz_url(&c, "go1.4", "http://x/y.tgz",
	    &skipped, &err), ==, RC_OK);
	check_int(skipped, ==, 1);
	check_int(bclient_removeall(&c, rm, &err), ==, RC_OK);
	check_int(bclient_halt(&c, &err), ==, RC_OK);
	check_str(err.buf, "");

	c.password = "wrong";
	check_int(bclient_status(&c, &v, &err), ==, RC_PERM);
	check(strstr(err.buf, "invalid password") != NULL);

	/* what went over the wire */
	slurp(path("fx/requests.log"), &log);
	check(strstr(log.buf, "POST /exec HTTP/1.1\nbody: cmd=tick&"
	    "cmdArg=-v&cmdArg=a%20b&debug=false&dir=&env=A%3D1&mode=sys&"
	    "path=%24EMPTY\n") != NULL);
	check(strstr(log.buf, "body: cmd=killed&debug=false&dir=&mode=\n") !=
	    NULL);
	check(strstr(log.buf, "GET /ls?digest=true&dir=.&recursive=false "
	    "HTTP/1.1\n") != NULL);
	check(strstr(log.buf, "PUT /writetgz?dir=go HTTP/1.1\nbody: not "
	    "really a tarball\n\nchunked\n") != NULL);
	check(strstr(log.buf, "POST /writetgz?dir=go1.4 HTTP/1.1\nbody: "
	    "url=http%3A%2F%2Fx%2Fy.tgz\n") != NULL);
	check(strstr(log.buf, "POST /removeall HTTP/1.1\nbody: path=a&"
	    "path=b\n") != NULL);
	check(strstr(log.buf, "POST /halt HTTP/1.1\nGET") != NULL);
	strbuf_release(&err);
	strbuf_release(&log);
	strbuf_release(&sb);
	strbuf_release(&o.sb);
}

static void
t_parse(void)
{
	struct bclient_result r;
	struct bclient_dirent e;
	char line[128];

	check_int(bclient_parse_state("signal: segmentation fault (core "
	    "dumped)", NULL, &r), ==, 0);
	check_int(r.signal, ==, SIGSEGV);
	check_int(r.code, ==, 128 + SIGSEGV);
	check_int(bclient_parse_state("signal: hangup", "129", &r), ==, 0);
	check_int(r.signal, ==, SIGHUP);
	check_int(bclient_parse_state("exit status 1", "x", &r), ==, -1);
	check_int(bclient_parse_state("exec: \"x\": executable file not "
	    "found in $PATH", NULL, &r), ==, 0);
	check_int(r.started, ==, 0);
	check_int(r.code, ==, 127);
	check_int(bclient_parse_state("fork/exec /w/x: permission denied",
	    "126", &r), ==, 0);
	check_int(r.code, ==, 126);

	snprintf(line, sizeof(line), "dtrwxrwxrwx\ttmp/");
	check_int(bclient_ls_parse(line, &e), ==, 0);
	check(S_ISDIR(e.mode) && (e.mode & 07777) == 01777);
	snprintf(line, sizeof(line), "-rwsr-xr-x\tsu\t1\t2017-07-22T18:04:05Z");
	check_int(bclient_ls_parse(line, &e), ==, -1);
	snprintf(line, sizeof(line), "urwxr-xr-x\tsu\t1\t2017-07-22T18:04:05Z");
	check_int(bclient_ls_parse(line, &e), ==, 0);
	check(S_ISREG(e.mode) && (e.mode & 07777) == 04755 && e.size == 1);
	snprintf(line, sizeof(line), "-rw-r--r--\tf/\t1\t2017-07-22T18:04:05Z");
	check_int(bclient_ls_parse(line, &e), ==, -1);
	snprintf(line, sizeof(line), "-rw-r--r--\tf\t1\t2017-07-22 18:04:05");
	check_int(bclient_ls_parse(line, &e), ==, -1);
	snprintf(line, sizeof(line), "-rw-r--r--\tf");
	check_int(bclient_ls_parse(line, &e), ==, -1);
}

/* The stand-in for sshd: greets, then echoes, one connection. */
static void *
echo_main(void *arg)
{
	int ls = *(int *)arg, c;
	char buf[4096];
	ssize_t n;

	if ((c = accept(ls, NULL, NULL)) == -1)
		return NULL;
	if (write_all(c, "SSH-2.0-echo\r\n", 14) == 0)
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write_all(c, buf, (size_t)n) == -1)
				break;
	close(c);
	return NULL;
}

/* Read exactly n bytes of fd into buf (NUL-terminated): 0 or -1. */
static int
read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && (r = read(fd, buf + got, n - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	return got == n ? 0 : -1;
}

static void
t_connect_ssh(void)
{
	struct strbuf err = STRBUF_INIT;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct bclient c;
	char port[16], buf[64];
	pthread_t th;
	int ls, fd = -1;

	/* bl3's sshd is echo_main's socket */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) == -1) {
		test_msg("cannot listen: %s", strerror(errno));
		check(0);
		return;
	}
	snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
	bl3_pid = start_buildlet("bl3", path("pw"), port, bl3_url,
	    sizeof(bl3_url));
	check(bl3_pid > 0);
	if (bl3_pid < 0 || pthread_create(&th, NULL, echo_main, &ls) != 0) {
		close(ls);
		return;
	}
	c = client(bl3_url, "bl3");
	c.password = "wrong";
	check_int(bclient_connect_ssh(&c, NULL, NULL, &fd, &err), ==, RC_PERM);
	check(fd == -1);
	check(strstr(err.buf, "buildlet bl3: connect-ssh: ") == err.buf);
	check(strstr(err.buf, "403") != NULL);
	strbuf_reset(&err);
	c.password = "secret";
	check_int(bclient_connect_ssh(&c, NULL, NULL, &fd, &err), ==, RC_OK);
	check(fd >= 0);
	check_int(read_n(fd, buf, 14), ==, 0);
	check_str(buf, "SSH-2.0-echo\r\n");
	check_int(write_all(fd, "ping\n", 5), ==, 0);
	check_int(read_n(fd, buf, 5), ==, 0);
	check_str(buf, "ping\n");
	/* a half-close reaches the far end, whose close comes back */
	shutdown(fd, SHUT_WR);
	check_int(read(fd, buf, sizeof(buf)), ==, 0);
	close(fd);
	pthread_join(th, NULL);
	close(ls);
	strbuf_release(&err);
}

int
main(int argc, char **argv)
{
	const char *t = getenv("TMPDIR");
	char *p;
	int i;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	/* the tree is three levels above t/unit/bin/u-bclient */
	if (realpath("/proc/self/exe", root) == NULL)
		return 1;
	for (i = 0; i < 4 && (p = strrchr(root, '/')) != NULL; i++)
		*p = '\0';
	snprintf(tmp, sizeof(tmp), "%s/u-bclient.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return 1;
	atexit(cleanup);
	put(path("pw"), "secret\n");
	bl_pid = start_buildlet("bl1", path("pw"), NULL, bl_url,
	    sizeof(bl_url));
	bl2_pid = start_buildlet("bl2", NULL, NULL, bl2_url, sizeof(bl2_url));
	fx_pid = start_fixture(fx_url, sizeof(fx_url));
	if (bl_pid < 0 || bl2_pid < 0 || fx_pid < 0) {
		printf("Bail out! cannot start the servers\n");
		return 1;
	}

	TEST(t_parse(), "Process-State words and /ls lines parse");
	TEST(t_status(), "status and workdir");
	TEST(t_bad_password(), "a bad password is RC_PERM, named");
	TEST(t_write_ls(), "write from memory and fd, ls in its forms");
	TEST(t_tgz(), "tgz, writetgz from fd and from a URL, removeall");
	TEST(t_exec(), "exec: streamed output, statuses, args, env, path");
	TEST(t_exec_timeouts(), "exec: remote timeout, silence, whole call");
	TEST(t_cancel(), "a call cancelled from another thread");
	TEST(t_conn(), "calls over a socket dialled by someone else");
	TEST(t_refused(), "connection refused is RC_TEMP");
	TEST(t_killed_mid_exec(), "a buildlet killed mid-exec is RC_TEMP");
	TEST(t_halt(), "halt stops the buildlet");
	TEST(t_orig(), "the original buildlet's bytes");
	TEST(t_connect_ssh(), "connect-ssh: a byte pipe after the 101");
	return test_done();
}
