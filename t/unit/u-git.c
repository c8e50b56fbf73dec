/* u-git: the repository half of lib/git.c that needs no network. */
#include "compat.h"

#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "git.h"
#include "rc.h"
#include "strbuf.h"

static char root[PATH_MAX];

static void
write_file(const char *name, const char *text)
{
	FILE *fp = fopen(name, "w");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0) {
		perror(name);
		exit(1);
	}
}

static void
t_netrc(void)
{
	char path[PATH_MAX + 16], *l = NULL, *p = NULL;

	snprintf(path, sizeof(path), "%s/netrc", root);
	write_file(path, "machine a.example login al password pa\n"
	    "machine b.example\n  login bo\n  password pb\n"
	    "default login dl password dp\n");
	check_int(gitx_netrc(path, "b.example", &l, &p), ==, RC_OK);
	check_str(l, "bo");
	check_str(p, "pb");
	free(l);
	free(p);
	check_int(gitx_netrc(path, "a.example", &l, &p), ==, RC_OK);
	check_str(l, "al");
	check_str(p, "pa");
	free(l);
	free(p);
	check_int(gitx_netrc(path, "other", &l, &p), ==, RC_OK);
	check_str(l, "dl");
	free(l);
	free(p);
	write_file(path, "machine a.example login al password pa\n");
	check_int(gitx_netrc(path, "c.example", &l, &p), ==, RC_NO);
	snprintf(path, sizeof(path), "%s/missing", root);
	check_int(gitx_netrc(path, "a.example", &l, &p), ==, RC_NO);
}

static void
t_empty_mirror(void)
{
	char path[PATH_MAX + 16], c[GITX_HEXSZ + 1], tr[GITX_HEXSZ + 1];
	struct strbuf err = STRBUF_INIT;
	struct gitx_repo *g = NULL;
	struct gitx_ref *refs = NULL;
	size_t n = 99;
	long long t;

	snprintf(path, sizeof(path), "%s/m.git", root);
	check_int(gitx_open(&g, path, &err), ==, RC_PERM);
	strbuf_reset(&err);
	check_int(gitx_init_mirror(path, &err), ==, RC_OK);
	check_int(gitx_init_mirror(path, &err), ==, RC_OK);
	check_int(gitx_open(&g, path, &err), ==, RC_OK);
	check_int(gitx_refs(g, &refs, &n, &err), ==, RC_OK);
	check_int(n, ==, 0);
	gitx_refs_free(refs, n);
	check_int(gitx_resolve(g, "master", c, tr, &t, &err), ==, RC_NO);
	strbuf_reset(&err);
	check_int(gitx_resolve(g, "master~1", c, tr, &t, &err), ==, RC_NO);
	check_int(gitx_resolve(g, "-x", c, tr, &t, &err), ==, RC_NO);
	check_int(gitx_resolve(g, "a..b", c, tr, &t, &err), ==, RC_NO);
	gitx_close(g);
	strbuf_release(&err);
}

static void
t_fetch_missing(void)
{
	char path[PATH_MAX + 16], url[PATH_MAX + 32];
	struct strbuf err = STRBUF_INIT;
	struct gitx_remote rm = { url, 5, NULL, NULL };

	snprintf(path, sizeof(path), "%s/m.git", root);
	snprintf(url, sizeof(url), "file://%s/nosuch.git", root);
	check_int(gitx_fetch(path, &rm, &err), ==, RC_TEMP);
	check(err.len > 0);
	strbuf_release(&err);
}

/*
 * The transfer child is this binary exec'd: main's gitx_child_main
 * call runs it, and it knows no push filter here.
 */
static void
t_child(void)
{
	char path[PATH_MAX + 16], url[PATH_MAX + 32];
	char *args[] = { "u-git", "--gitx-childish", NULL };
	struct strbuf err = STRBUF_INIT;
	struct gitx_remote rm = { url, 5, NULL, NULL };
	size_t n = 99;

	check_int(gitx_child_main(1, args, NULL), ==, -1);
	check_int(gitx_child_main(2, args, NULL), ==, -1);
	snprintf(path, sizeof(path), "%s/m.git", root);
	snprintf(url, sizeof(url), "file://%s/m.git", root);
	check_int(gitx_push(path, &rm, 0, 1, &n, &err), ==, RC_PERM);
	check(strstr(err.buf, "push: no ref filter") != NULL);
	check_int(n, ==, 0);
	strbuf_release(&err);
}

/* the output of the shell command cmd, one line, into out */
static void
sh_line(const char *cmd, char *out, size_t n)
{
	FILE *fp = popen(cmd, "r");

	if (fp == NULL || fgets(out, (int)n, fp) == NULL) {
		perror(cmd);
		exit(1);
	}
	out[strcspn(out, "\n")] = '\0';
	pclose(fp);
}

static void
t_fetch_ref(void)
{
	char path[PATH_MAX + 16], url[PATH_MAX + 32], cmd[3 * PATH_MAX];
	char tip[GITX_HEXSZ + 1], base[GITX_HEXSZ + 1], oid[GITX_HEXSZ + 1];
	struct strbuf err = STRBUF_INIT;
	struct gitx_remote rm = { url, 10, NULL, NULL, NULL };
	struct gitx_repo *g = NULL;
	size_t n = 99;

	snprintf(path, sizeof(path), "%s/f.git", root);
	snprintf(url, sizeof(url), "file://%s/up", root);
	snprintf(cmd, sizeof(cmd), "cd '%s' && git init -q up && cd up && "
	    "git -c user.name=a -c user.email=a@b commit -q --allow-empty "
	    "-m a && git -c user.name=a -c user.email=a@b commit -q "
	    "--allow-empty -m b && git update-ref refs/changes/01/1/1 HEAD "
	    "&& git reset -q --hard HEAD~1 && git rev-parse HEAD", root);
	sh_line(cmd, base, sizeof(base));
	snprintf(cmd, sizeof(cmd), "git -C '%s/up' rev-parse "
	    "refs/changes/01/1/1", root);
	sh_line(cmd, tip, sizeof(tip));
	check_int(gitx_init_mirror(path, &err), ==, RC_OK);
	check_int(gitx_fetch_ref(path, &rm, "refs/changes/01/1/1",
	    GITX_PRIVATE "changes/01/1/1", oid, &err), ==, RC_OK);
	check_str(oid, tip);
	check_int(gitx_fetch_ref(path, &rm, "refs/changes/02/2/1",
	    GITX_PRIVATE "changes/02/2/1", oid, &err), ==, RC_NO);
	check(strstr(err.buf, "no ref refs/changes/02/2/1 upstream") != NULL);
	strbuf_reset(&err);
	/* the whole fetch prunes the ref upstream lacks, but not ours */
	snprintf(cmd, sizeof(cmd), "git -C '%s/up' update-ref -d "
	    "refs/changes/01/1/1", root);
	check_int(system(cmd), ==, 0);
	check_int(gitx_fetch(path, &rm, &err), ==, RC_OK);
	check_int(gitx_open(&g, path, &err), ==, RC_OK);
	check_int(gitx_reaches(g, tip, base, &err), ==, RC_OK);
	check_int(gitx_reaches(g, tip, tip, &err), ==, RC_OK);
	check_int(gitx_reaches(g, base, tip, &err), ==, RC_NO);
	check_int(gitx_refs_expire(g, GITX_PRIVATE, 1000, &n, &err), ==,
	    RC_OK);
	check_int(n, ==, 0);
	check_int(gitx_refs_expire(g, GITX_PRIVATE, 4000000000ll, &n, &err),
	    ==, RC_OK);
	check_int(n, ==, 1);
	gitx_close(g);
	strbuf_release(&err);
}

static void
t_ignore(void)
{
	char dir[PATH_MAX + 16], sub[PATH_MAX + 32], cmd[PATH_MAX + 64];
	struct strbuf err = STRBUF_INIT;
	struct gitx_ignore *ig;

	snprintf(dir, sizeof(dir), "%s/wt", root);
	snprintf(cmd, sizeof(cmd), "git init -q '%s'", dir);
	if (system(cmd) != 0) {
		test_skip("git init failed");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/.gitignore", dir);
	write_file(sub, "*.o\n/build/\n");
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0755);
	check_int(gitx_ignore_open(&ig, dir, &err), ==, RC_OK);
	check_int(gitx_ignored(ig, "a.o"), ==, 1);
	check_int(gitx_ignored(ig, "a.c"), ==, 0);
	check_int(gitx_ignored(ig, "build/"), ==, 1);
	check_int(gitx_ignored(ig, "build/x"), ==, 1);
	check_int(gitx_ignored(ig, "sub/build/"), ==, 0);
	gitx_ignore_close(ig);
	/* from a subdirectory, paths are relative to it */
	check_int(gitx_ignore_open(&ig, sub, &err), ==, RC_OK);
	check_int(gitx_ignored(ig, "x.o"), ==, 1);
	check_int(gitx_ignored(ig, "build/"), ==, 0);
	gitx_ignore_close(ig);
	/* no work tree above the ceiling: nothing is ignored */
	setenv("GIT_CEILING_DIRECTORIES", root, 1);
	check_int(gitx_ignore_open(&ig, root, &err), ==, RC_NO);
	check(ig == NULL);
	check_int(gitx_ignored(NULL, "a.o"), ==, 0);
	unsetenv("GIT_CEILING_DIRECTORIES");
	check_int(gitx_ignore_open(&ig, "/nonexistent/x", &err), ==, RC_TEMP);
	strbuf_release(&err);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	if ((rc = gitx_child_main(argc, argv, NULL)) != -1)
		_exit(rc);
	snprintf(root, sizeof(root), "%s/u-git.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	TEST(t_netrc(), "netrc: machine, layout, default, missing");
	TEST(t_empty_mirror(), "init, open, refs and resolve on an empty mirror");
	TEST(t_fetch_missing(), "a fetch from a missing repository fails, 111");
	TEST(t_child(), "the transfer child runs from main, no filter no push");
	TEST(t_fetch_ref(), "fetch one ref; prune spares ours; reaches; "
	    "expire");
	TEST(t_ignore(), "ignore rules of a work tree, from the top and below");
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			test_msg("could not remove %s", root);
	}
	return test_done();
}
