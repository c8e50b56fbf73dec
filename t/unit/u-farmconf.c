#include "compat.h"

#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "farmconf.h"
#include "rc.h"
#include "strbuf.h"
#include "tap.h"

static char dir[64], path[96];

static void
write_config(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* err without the "config 'PATH': " that starts each line */
static void
strip(struct strbuf *out, const struct strbuf *err)
{
	const char *p = err->buf, *nl;
	size_t pre = strlen(path) + strlen("config '': ");

	strbuf_reset(out);
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if ((size_t)(nl - p) >= pre && strncmp(p, "config '", 8) == 0)
			strbuf_add(out, p + pre, (size_t)(nl + 1 - p - pre));
		else
			strbuf_add(out, p, (size_t)(nl + 1 - p));
	}
}

static const char full[] =
	"[farm]\n\turl = https://farm.example.org\n"
	"[repo \"go\"]\n\tupstream = https://go.googlesource.com/go\n"
	"\tpush = git@github.com:golang/go.git\n\tbranch = master\n"
	"\tbranch = release-branch.go1.9\n\tmirror\n"
	"[repo \"tools\"]\n\tupstream = https://go.googlesource.com/tools\n"
	"\tgerrit-project = x/tools\n\ttimeout = 10m\n"
	"[gerrit \"go-review\"]\n\turl = https://go-review.example.org/r/\n"
	"\tproject = go\n\tproject = x/tools\n\tsince = 2017-07-01\n"
	"\tmaxbody = 1m\n"
	"[hosttype \"linux-amd64\"]\n\tpool = static\n"
	"\tbuildlet = http://10.0.0.5:5936\n"
	"\tbuildlet = https://10.0.0.6\n\tpassword-file = /etc/bf/pw\n"
	"[hosttype \"kube\"]\n\tpool = command\n"
	"\tcreate = env/kubernetes/create-pod %n\n"
	"\tdestroy = env/kubernetes/delete-pod %n\n\tmax = 20\n\tidle = 5m\n"
	"\tgomote-preempt = true\n\tgomote-idle = 1h\n"
	"[hosttype \"arm\"]\n\tpool = reverse\n"
	"[builder \"linux-amd64\"]\n\thosttype = linux-amd64\n\trepo = go\n"
	"\tenv = GOARCH=amd64\n\tenv = GO_TEST_TIMEOUT_SCALE=2\n"
	"\trun = src/make.bash\n\trun = go/bin/go tool dist test\n"
	"\tdir = go\n\ttry = true\n\ttimeout = 3h\n\tstep-timeout = 45m\n"
	"\tbackfill = 10\n\thold = 15m\n"
	"[builder \"linux-amd64-kube\"]\n\thosttype = kube\n\trepo = go\n"
	"\trun = src/all.bash\n"
	"[builder \"tools-linux\"]\n\thosttype = kube\n\trepo = tools\n"
	"\trun = go test ./...\n\ttry\n"
	"[builder \"arm-gomote\"]\n\thosttype = arm\n";

static void
t_full(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	const struct hosttype_conf *h;
	const struct builder_conf *b;
	const struct gerrit_conf *g;
	const struct repo_conf *r;
	struct farmconf *fc = NULL;

	write_config(full);
	check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==, RC_OK);
	check_str(err.buf, "");
	check_str(warn.buf, "");
	if (fc == NULL)
		return;
	check_str(fc->path, path);
	check_str(fc->url, "https://farm.example.org");
	check_int(fc->nrepos, ==, 2);
	check_int(fc->ngerrits, ==, 1);
	check_int(fc->nhosttypes, ==, 3);
	check_int(fc->nbuilders, ==, 4);

	r = farmconf_repo(fc, "go");
	check(r == &fc->repos[0]);
	check_str(r->upstream, "https://go.googlesource.com/go");
	check_int(r->npush, ==, 1);
	check_str(r->push[0], "git@github.com:golang/go.git");
	check_int(r->nbranch, ==, 2);
	check_str(r->branch[1], "release-branch.go1.9");
	check_int(r->mirror, ==, 1);
	check_int(r->backfill, ==, 100);
	check_int(r->timeout_s, ==, 300);
	check_int(r->interval_s, ==, 600);
	check(r->gerrit_project == NULL && r->sshkey == NULL);
	check_int(r->nbuilders, ==, 2);
	check_str(r->builders[0]->name, "linux-amd64");
	check_str(r->builders[1]->name, "linux-amd64-kube");
	check_int(r->ntrybuilders, ==, 1);
	check_str(r->trybuilders[0]->name, "linux-amd64");
	r = farmconf_repo(fc, "tools");
	check_int(r->timeout_s, ==, 600);
	check_int(r->mirror, ==, 0);
	check_int(r->ntrybuilders, ==, 1);
	check_str(r->trybuilders[0]->name, "tools-linux");
	check(farmconf_repo(fc, "Go") == NULL);

	/* the Gerrit project's repo: by gerrit-project, else by name */
	check(farmconf_repo_for_project(fc, "go") == farmconf_repo(fc, "go"));
	check(farmconf_repo_for_project(fc, "x/tools") ==
	    farmconf_repo(fc, "tools"));
	check(farmconf_repo_for_project(fc, "tools") == NULL);
	check(farmconf_repo_for_project(fc, "net") == NULL);

	g = farmconf_gerrit(fc, "go-review");
	check(g != NULL);
	if (g != NULL) {
		check_str(g->url, "https://go-review.example.org/r");
		check_str(g->host, "go-review.example.org");
		check_str(g->path, "/r");
		check_int(g->https, ==, 1);
		check_int(g->nprojects, ==, 2);
		check_str(g->projects[1], "x/tools");
		check_int(g->has_since, ==, 1);
		check_int(g->since, ==, 1498867200);
		check_int(g->maxbody, ==, 1 << 20);
		check_int(g->timeout_s, ==, 30);
		check_int(g->rate, ==, 10);
		check_int(g->overlap_s, ==, 60);
		check_int(g->pagesize, ==, 100);
	}

	h = farmconf_hosttype(fc, "linux-amd64");
	check_int(h->pool, ==, POOL_STATIC);
	check_int(h->nbuildlet, ==, 2);
	check_str(h->buildlet[1], "https://10.0.0.6");
	check_str(h->password_file, "/etc/bf/pw");
	h = farmconf_hosttype(fc, "kube");
	check_int(h->pool, ==, POOL_COMMAND);
	check_str(h->create, "env/kubernetes/create-pod %n");
	check_str(h->destroy, "env/kubernetes/delete-pod %n");
	check_int(h->max, ==, 20);
	check_int(h->idle_s, ==, 300);
	check_int(h->gomote_preempt, ==, 1);
	check_int(h->gomote_idle_s, ==, 3600);
	h = farmconf_hosttype(fc, "arm");
	check_int(h->pool, ==, POOL_REVERSE);
	check_int(h->max, ==, 1);
	check_int(h->idle_s, ==, 600);
	check_int(h->gomote_preempt, ==, 0);
	check_int(h->gomote_idle_s, ==, 1800);

	b = farmconf_builder(fc, "linux-amd64");
	check(b->hosttype == farmconf_hosttype(fc, "linux-amd64"));
	check(b->repo == farmconf_repo(fc, "go"));
	check_int(b->nenv, ==, 2);
	check_str(b->env[1], "GO_TEST_TIMEOUT_SCALE=2");
	check_int(b->nrun, ==, 2);
	check_str(b->run[1], "go/bin/go tool dist test");
	check_str(b->dir, "go");
	check_int(b->try, ==, 1);
	check_int(b->timeout_s, ==, 3 * 3600);
	check_int(b->step_timeout_s, ==, 45 * 60);
	check_int(b->backfill, ==, 10);
	check_int(b->hold_s, ==, 15 * 60);
	b = farmconf_builder(fc, "linux-amd64-kube");
	check_int(b->hold_s, ==, 0);
	check_int(b->try, ==, 0);
	check(b->dir == NULL);
	check_int(b->timeout_s, ==, 7200);
	check_int(b->step_timeout_s, ==, 3600);
	check_int(b->backfill, ==, 30);
	b = farmconf_builder(fc, "arm-gomote");
	check(b->repo == NULL && b->nrun == 0);
	check(b->hosttype == farmconf_hosttype(fc, "arm"));
	check(farmconf_builder(fc, "nope") == NULL);
	farmconf_free(fc);
	strbuf_release(&warn);
	strbuf_release(&err);
}

/* Every kind of problem in one file: each on its own line. */
static void
t_problems(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT, got = STRBUF_INIT;
	struct farmconf *fc = NULL;

	write_config("[farm]\n\turl = farm.example.org\n"
	    "[repo \"go\"]\n\tupstream = https://x/go\n"
	    "\tgerrit-project = go\n"
	    "[repo \"golang\"]\n\tupstream = https://x/go\n"
	    "\tgerrit-project = go\n\ttimeout = 5x\n"
	    "[hosttype \"static\"]\n\tpool = static\n"
	    "\tbuildlet = ftp://10.0.0.5\n\tbuildlet = http://10.0.0.6\n"
	    "\tcreate = x\n"
	    "[hosttype \"empty\"]\n\tpool = static\n"
	    "[hosttype \"cmd\"]\n\tpool = command\n\tdestroy = d %n\n"
	    "\tbuildlet = http://h\n\tmax = 0\n"
	    "[hosttype \"what\"]\n\tpool = cloud\n"
	    "[hosttype \"none\"]\n\tmax = 2\n"
	    "[builder \"linux-amd64\"]\n\thosttype = nope\n\trepo = go\n"
	    "\trun = make\n"
	    "[builder \"b\"]\n\trepo = nosuch\n\trun = make\n"
	    "\tenv = 1X=2\n\tenv = NOEQUALS\n\tenv = GOOS=linux\n"
	    "\ttimeout = 2 hours\n\tstep-timeout = 0\n\ttry = maybe\n"
	    "\tdir = ../up\n"
	    "[builder \"c\"]\n\thosttype = cmd\n\thosttype = static\n"
	    "\tdir = /abs\n\ttry\n"
	    "[builder \"d\"]\n\thosttype = cmd\n\trepo = go\n"
	    "[builder \"e\"]\n\thosttype = cmd\n\trun = x\n"
	    "[builder \"f\"]\n\thosttype = cmd\n\tdir = a/../b\n"
	    "\tbakfill = 3\n");
	check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==, RC_PERM);
	check(fc == NULL);
	strip(&got, &err);
	check_str(got.buf,
	    "farm: url 'farm.example.org': want http:// or https://\n"
	    "repo \"golang\": timeout '5x': want a duration from 1s to 1d\n"
	    "hosttype \"static\": buildlet 'ftp://10.0.0.5': want http:// "
	    "or https://\n"
	    "hosttype \"static\": create: only for pool command\n"
	    "hosttype \"empty\": pool static needs a buildlet URL\n"
	    "hosttype \"cmd\": max '0': want a whole number from 1 to "
	    "100000\n"
	    "hosttype \"cmd\": buildlet: only for pool static\n"
	    "hosttype \"cmd\": pool command needs a create command\n"
	    "hosttype \"what\": pool 'cloud': want static, command or "
	    "reverse\n"
	    "hosttype \"none\": no pool: want static, command or reverse\n"
	    "builder \"linux-amd64\": hosttype 'nope' is not defined\n"
	    "builder \"b\": env '1X=2': want NAME=VALUE, NAME of letters, "
	    "digits and '_'\n"
	    "builder \"b\": env 'NOEQUALS': want NAME=VALUE, NAME of "
	    "letters, digits and '_'\n"
	    "builder \"b\": dir '../up': no '..', please\n"
	    "builder \"b\": try 'maybe': want true or false\n"
	    "builder \"b\": timeout '2 hours': want a duration from 1s to "
	    "7d\n"
	    "builder \"b\": step-timeout '0': want a duration from 1s to "
	    "7d\n"
	    "builder \"b\": no hosttype\n"
	    "builder \"b\": repo 'nosuch' is not defined\n"
	    "builder \"c\": hosttype given 2 times\n"
	    "builder \"c\": dir '/abs': want a relative path\n"
	    "builder \"c\": try without a repo\n"
	    "builder \"d\": repo 'go' but no run steps\n"
	    "builder \"e\": run steps but no repo\n"
	    "builder \"f\": dir 'a/../b': no '..', please\n"
	    "repo \"golang\": gerrit-project 'go': same as repo \"go\"\n"
	    "26 problems\n");
	/* unknown keys are warnings, not problems */
	strip(&got, &warn);
	check_str(got.buf, "unknown key 'bakfill' in [builder \"f\"] "
	    "(ignored)\n");

	/* what a tool does not read does not stop it */
	strbuf_reset(&err);
	strbuf_reset(&warn);
	check_int(farmconf_load(&fc, dir, FC_GERRIT, &warn, &err), ==, RC_OK);
	check_str(err.buf, "");
	farmconf_free(fc);
	/* a builder brings its references along */
	strbuf_reset(&err);
	write_config("[hosttype \"h\"]\n\tpool = reverse\n\tidle = 1s\n"
	    "[repo \"r\"]\n\tbranch = master\n[builder \"b\"]\n\thosttype = h\n");
	check_int(farmconf_load(&fc, dir, FC_BUILDER, &warn, &err), ==,
	    RC_PERM);
	strip(&got, &err);
	check_str(got.buf, "repo \"r\": no upstream\n"
	    "hosttype \"h\": idle: only for pool command\n"
	    "2 problems\n");
	strbuf_release(&warn);
	strbuf_release(&err);
	strbuf_release(&got);
}

static void
t_unknown(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT, got = STRBUF_INIT;
	struct farmconf *fc = NULL;

	write_config("[farm]\n\turl = https://farm.example.org\n"
	    "[repo \"go\"]\n\tupstream = https://x/go\n\tmirorr = true\n"
	    "\tmirorr = false\n\tbranch = master\n\tsshkey = k\n"
	    "\tknownhosts = h\n"
	    "[repo \"go.net\"]\n\tupstream = https://x/net\n\tPush = y:z@w\n"
	    "[gerrit \"g\"]\n\turl = http://u\n\tproject = go\n"
	    "\tprojects = net\n"
	    "[rep \"go\"]\n\tupstream = https://x/go\n"
	    "[repo]\n\tupstream = z\n"
	    "[farm \"x\"]\n\turl = w\n"
	    "[Gerrit \"g\"]\n\tRate = 5\n"
	    "[builder \"b\"]\n\thosttype = h\n\tpool = static\n"
	    "[hosttype \"h\"]\n\tpool = reverse\n\tExpect = 3\n");
	check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==, RC_OK);
	check_str(err.buf, "");
	strip(&got, &warn);
	check_str(got.buf,
	    "unknown key 'mirorr' in [repo \"go\"] (ignored)\n"
	    "unknown key 'projects' in [gerrit \"g\"] (ignored)\n"
	    "unknown section [rep] (ignored)\n"
	    "[repo] needs a name: [repo \"NAME\"] (ignored)\n"
	    "[farm] takes no name: [farm \"x\"] (ignored)\n"
	    "unknown key 'pool' in [builder \"b\"] (ignored)\n"
	    "unknown key 'expect' in [hosttype \"h\"] (ignored)\n");
	if (fc != NULL)
		check_int(fc->gerrits[0].rate, ==, 5);
	farmconf_free(fc);
	/* a missing file, a syntax error: one line each */
	strbuf_reset(&err);
	unlink(path);
	check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==, RC_PERM);
	check(fc == NULL);
	check(strchr(err.buf, '\n') == err.buf + err.len - 1);
	strbuf_reset(&err);
	write_config("[repo \"go\"\n");
	check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==, RC_PERM);
	check(strchr(err.buf, '\n') == err.buf + err.len - 1);
	strbuf_release(&warn);
	strbuf_release(&err);
	strbuf_release(&got);
}

static void
t_urls(void)
{
	static const char *const good[] = {
		"http://h", "https://h:1/p", "http://127.0.0.1:65535",
		"https://[::1]:8080/x", "http://[fe80::1]", "http://a_b.c-d:80",
	};
	static const char *const bad[][2] = {
		{ "http://h:99999", "bad port: want 1 to 65535" },
		{ "http://h:0", "bad port: want 1 to 65535" },
		{ "http://h:", "bad port: want 1 to 65535" },
		{ "http://h:8x", "bad port: want 1 to 65535" },
		{ "http://h:123456789012345678901", "bad port: want 1 to 65535" },
		{ "http://h!x/", "bad host name" },
		{ "http://[::g]/", "bad IPv6 address" },
		{ "http://[::1]x/", "bad host" },
		{ "http://[::1/", "bad IPv6 address" },
	};
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT, got = STRBUF_INIT;
	struct strbuf text = STRBUF_INIT, want = STRBUF_INIT;
	struct farmconf *fc = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		strbuf_reset(&text);
		strbuf_addf(&text, "[farm]\n\turl = %s\n", good[i]);
		write_config(text.buf);
		check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==,
		    RC_OK);
		farmconf_free(fc);
		fc = NULL;
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&text);
		strbuf_addf(&text, "[farm]\n\turl = %s\n", bad[i][0]);
		write_config(text.buf);
		strbuf_reset(&err);
		check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==,
		    RC_PERM);
		strip(&got, &err);
		strbuf_reset(&want);
		strbuf_addf(&want, "farm: url '%s': %s\n1 problem\n", bad[i][0],
		    bad[i][1]);
		check_str(got.buf, want.buf);
	}
	strbuf_release(&warn);
	strbuf_release(&err);
	strbuf_release(&got);
	strbuf_release(&text);
	strbuf_release(&want);
}

static void
t_www(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT, w = STRBUF_INIT;
	struct farmconf *fc = NULL;

	farmconf_www(&w, NULL, "/farm");
	check_str(w.buf, "/farm/www");
	write_config("[repo \"go\"]\n\tupstream = https://example.org/go\n");
	check_int(farmconf_load(&fc, dir, FC_ALL, &warn, &err), ==, RC_OK);
	check(fc->dashboard_dir == NULL);
	strbuf_reset(&w);
	farmconf_www(&w, fc, "/farm");
	check_str(w.buf, "/farm/www");
	farmconf_free(fc);
	write_config("[dashboard]\n\tdir = site/out\n");
	check_int(farmconf_load(&fc, dir, FC_FARM, &warn, &err), ==, RC_OK);
	check_str(warn.buf, "");
	strbuf_reset(&w);
	farmconf_www(&w, fc, "/farm");
	check_str(w.buf, "/farm/site/out");
	farmconf_free(fc);
	write_config("[dashboard]\n\tdir = /srv/www\n");
	check_int(farmconf_load(&fc, dir, FC_FARM, &warn, &err), ==, RC_OK);
	strbuf_reset(&w);
	farmconf_www(&w, fc, "/farm");
	check_str(w.buf, "/srv/www");
	farmconf_free(fc);
	strbuf_release(&warn);
	strbuf_release(&err);
	strbuf_release(&w);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/u-farmconf.%ld", (long)getpid());
	snprintf(path, sizeof(path), "%s/config", dir);
	if (mkdir(dir, 0700) < 0) {
		perror(dir);
		return 1;
	}
	TEST(t_full(), "a full config: every section into its struct");
	TEST(t_problems(), "every problem of a file, a line each");
	TEST(t_unknown(), "unknown sections and keys are warnings, each once");
	TEST(t_urls(), "http URLs: host, IPv6 and port checked in full");
	TEST(t_www(), "[dashboard] dir: the default, relative and absolute");
	unlink(path);
	rmdir(dir);
	return test_done();
}
