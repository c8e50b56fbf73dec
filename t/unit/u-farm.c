#include "compat.h"

#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "farm.h"
#include "strbuf.h"

/*
 * farm_dir(dflag) in a child with the environment given as "NAME=value"
 * (or "NAME" to unset it), as uid nobody when asroot is 0 and we are
 * root; NULL when the child could not run.  A child, because farm_dir
 * computes its default once per process.
 */
static const char *
farm_dir_in(const char *dflag, int asroot, const char *const *env)
{
	static char buf[512];
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		return NULL;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		const char *d;

		close(p[0]);
		for (; *env != NULL; env++) {
			const char *eq = strchr(*env, '=');

			if (eq == NULL)
				unsetenv(*env);
			else {
				char name[64];

				snprintf(name, sizeof(name), "%.*s",
				    (int)(eq - *env), *env);
				setenv(name, eq + 1, 1);
			}
		}
		if (!asroot && geteuid() == 0 && setuid(65534) < 0)
			_exit(2);
		if (asroot && geteuid() != 0)
			_exit(3);
		d = farm_dir(dflag);
		(void)!write(p[1], d, strlen(d));
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0 || n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static const char *const all[] = {
	"BUILDFARM_DIR=/env/farm", "XDG_STATE_HOME=/xdg", "HOME=/home/u", NULL,
};
static const char *const no_bf[] = {
	"BUILDFARM_DIR", "XDG_STATE_HOME=/xdg", "HOME=/home/u", NULL,
};
static const char *const empty_bf[] = {
	"BUILDFARM_DIR=", "XDG_STATE_HOME=/xdg", "HOME=/home/u", NULL,
};
static const char *const no_xdg[] = {
	"BUILDFARM_DIR", "XDG_STATE_HOME", "HOME=/home/u", NULL,
};
static const char *const rel_xdg[] = {
	"BUILDFARM_DIR", "XDG_STATE_HOME=rel/state", "HOME=/home/u", NULL,
};

static void
t_flag_env(void)
{
	/* -d wins over everything; "" is no -d */
	check_str(farm_dir_in("/flag", 0, all), "/flag");
	check_str(farm_dir_in("", 0, all), "/env/farm");
	/* then $BUILDFARM_DIR */
	check_str(farm_dir_in(NULL, 0, all), "/env/farm");
}

static void
t_root(void)
{
	if (geteuid() != 0) {
		test_skip("not root");
		return;
	}
	check_str(farm_dir_in("/flag", 1, all), "/flag");
	check_str(farm_dir_in(NULL, 1, all), "/env/farm");
	check_str(farm_dir_in(NULL, 1, no_bf), "/var/lib/buildfarm");
	check_str(farm_dir_in(NULL, 1, empty_bf), "/var/lib/buildfarm");
}

static void
t_user(void)
{
	/* $XDG_STATE_HOME if absolute, else $HOME */
	check_str(farm_dir_in(NULL, 0, no_bf), "/xdg/buildfarm");
	check_str(farm_dir_in(NULL, 0, empty_bf), "/xdg/buildfarm");
	check_str(farm_dir_in(NULL, 0, no_xdg),
	    "/home/u/.local/state/buildfarm");
	check_str(farm_dir_in(NULL, 0, rel_xdg),
	    "/home/u/.local/state/buildfarm");
}

static void
t_path(void)
{
	struct strbuf sb = STRBUF_INIT;

	check_int(setenv("BUILDFARM_DIR", "/srv/farm", 1), ==, 0);
	strbuf_addstr(&sb, "path:");
	farm_path(&sb, NULL, "spool/try");
	check_str(sb.buf, "path:/srv/farm/spool/try");
	strbuf_reset(&sb);
	farm_path(&sb, "/d", "corpus");
	check_str(sb.buf, "/d/corpus");
	check_str(farm_dir("/d"), "/d");
	check_str(farm_dir(NULL), "/srv/farm");
	/* read at every call, not once */
	check_int(setenv("BUILDFARM_DIR", "/other", 1), ==, 0);
	check_str(farm_dir(NULL), "/other");
	strbuf_release(&sb);
}

static void
t_place(void)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	farm_place(&sb, "/d", FARM_RESULTS);
	check_str(sb.buf, "/d/results");
	strbuf_reset(&sb);
	farm_placef(&sb, "/d", FARM_STATE, "gitmirror/%s.ok", "go");
	check_str(sb.buf, "/d/state/gitmirror/go.ok");
	strbuf_reset(&sb);
	farm_place(&sb, "/d", FARM_MASTER_KEY);
	check_str(sb.buf, "/d/keys/master");
	check_str(farm_place_name(FARM_SPOOL_WORK), "spool/work");
	check_int(farm_place_lookup("corpus"), ==, FARM_CORPUS);
	check_int(farm_place_lookup("nope"), ==, -1);
	/* every place has a name and is found by it */
	for (i = 0; i < FARM_NPLACES; i++)
		check_int(farm_place_lookup(farm_place_name(i)), ==, i);
	strbuf_release(&sb);
}

int
main(void)
{
	TEST(t_flag_env(), "-d first, then $BUILDFARM_DIR");
	TEST(t_root(), "root without $BUILDFARM_DIR: /var/lib/buildfarm");
	TEST(t_user(), "others: $XDG_STATE_HOME/buildfarm, else $HOME/...");
	TEST(t_path(), "farm_path joins the farm directory and a name");
	TEST(t_place(), "the layout is named in one place");
	return test_done();
}
