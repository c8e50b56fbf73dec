#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "rc.h"
#include "strbuf.h"
#include "tap.h"

static char path[64];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
t_values(void)
{
	struct strbuf err = STRBUF_INIT;
	struct config *c = NULL;
	const char **v;
	int64_t n;
	int b;

	write_file("[farm]\n\turl = https://farm.example.org\n"
	    "[repo \"go\"]\n\tupstream = https://go.googlesource.com/go\n"
	    "\tpush = git@github.com:golang/go.git\n\tpush = /srv/b.git\n"
	    "\tbranch = master\n\tMirror\n\tbackfill = 25\n"
	    "[Repo \"Net\"]\n\tUpstream = https://x/net # comment\n"
	    "[gerrit \"go-review\"]\n\turl = https://go-review.example\n");
	check_int(config_load(&c, path, 0, &err), ==, RC_OK);
	if (c == NULL)
		return;
	check_str(config_get(c, "farm.url"), "https://farm.example.org");
	check_str(config_get(c, "repo.go.upstream"),
	    "https://go.googlesource.com/go");
	check_str(config_get(c, "repo.Net.upstream"), "https://x/net");
	check(config_get(c, "repo.net.upstream") == NULL);
	check_int(config_get_all(c, "repo.go.push", &v), ==, 2);
	check_str(v[0], "git@github.com:golang/go.git");
	check_str(v[1], "/srv/b.git");
	check_str(config_get(c, "repo.go.push"), "/srv/b.git");
	check_int(config_get_all(c, "repo.go.nothing", &v), ==, 0);
	check_int(config_subsections(c, "repo", &v), ==, 2);
	check_str(v[0], "go");
	check_str(v[1], "Net");
	check_int(config_subsections(c, "farm", &v), ==, 0);
	check_int(config_bool(c, "repo.go.mirror", 0, &b, &err), ==, 0);
	check_int(b, ==, 1);
	check_int(config_bool(c, "repo.Net.mirror", 0, &b, &err), ==, 0);
	check_int(b, ==, 0);
	check_int(config_int(c, "repo.go.backfill", 0, 1000, 100, &n, &err),
	    ==, 0);
	check_int(n, ==, 25);
	check_int(config_int(c, "repo.Net.backfill", 0, 1000, 100, &n, &err),
	    ==, 0);
	check_int(n, ==, 100);
	check_int(config_bool(c, "farm.url", 0, &b, &err), ==, -1);
	check(strstr(err.buf, "farm.url: not a boolean") != NULL);
	strbuf_reset(&err);
	check_int(config_int(c, "farm.url", 0, 10, 1, &n, &err), ==, -1);
	config_free(c);
	strbuf_release(&err);
}

static void
t_errors(void)
{
	struct strbuf err = STRBUF_INIT;
	struct config *c = NULL;

	write_file("[repo \"go\"\n\tupstream = x\n");
	check_int(config_load(&c, path, 0, &err), ==, RC_PERM);
	check(c == NULL);
	check(strstr(err.buf, path) != NULL);
	test_msg("%s", err.buf);
	strbuf_reset(&err);
	unlink(path);
	check_int(config_load(&c, path, 0, &err), ==, RC_PERM);
	check(strstr(err.buf, "No such file") != NULL);
	strbuf_reset(&err);
	check_int(config_load(&c, path, CONFIG_MISSING_OK, &err), ==, RC_OK);
	check(c != NULL && config_get(c, "a.b") == NULL);
	config_free(c);
	check_int(config_load(&c, "/", 0, &err), ==, RC_PERM);
	strbuf_release(&err);
}

static void
t_names(void)
{
	struct strbuf err = STRBUF_INIT;
	struct config *c = NULL;
	const char **v;

	write_file("[farm]\n\turl = u\n[repo \"go\"]\n\tpush = a\n"
	    "\tPush = b\n[Rep \"X\"]\n\tmirorr\n");
	check_int(config_load(&c, path, 0, &err), ==, RC_OK);
	if (c == NULL)
		return;
	check_int(config_names(c, &v), ==, 4);
	check_str(v[0], "farm.url");
	check_str(v[1], "repo.go.push");
	check_str(v[2], "repo.go.push");
	check_str(v[3], "rep.X.mirorr");
	config_free(c);
	strbuf_release(&err);
}

int
main(void)
{
	snprintf(path, sizeof(path), "/tmp/u-config.%ld", (long)getpid());
	TEST(t_values(), "values, multivars, subsections, typed getters");
	TEST(t_errors(), "syntax error, missing file, not a file");
	TEST(t_names(), "every key set, in file order");
	unlink(path);
	return test_done();
}
