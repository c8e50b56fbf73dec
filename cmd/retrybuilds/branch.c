/*
 * branch.c: the commits of one branch, from the corpus log's "git"
 * records (maintlog(5)), for -branch.
 */
#include "compat.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "farm.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct branch {
	const char *name;
	void *root;		/* tsearch tree of "rev\nrepo" */
};

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
key(struct strbuf *k, const char *repo, const char *rev)
{
	strbuf_reset(k);
	strbuf_addf(k, "%s\n%s", rev, repo);
}

static int
on_git(const struct mlog_rec *rec, void *arg)
{
	struct branch *b = arg;
	struct strbuf k = STRBUF_INIT;
	const char *branch, *repo, *rev;
	char *s, **node;

	branch = json_str(json_get(rec->obj, "branch"), NULL);
	repo = json_str(json_get(rec->obj, "repo"), NULL);
	rev = json_str(json_get(rec->obj, "commit"), NULL);
	if (branch == NULL || repo == NULL || rev == NULL ||
	    strcmp(branch, b->name) != 0)
		return 0;
	key(&k, repo, rev);
	s = strbuf_detach(&k, NULL);
	if ((node = tsearch(s, &b->root, key_cmp)) == NULL)
		fatalx(RC_TEMP, "out of memory");
	if (*node != s)
		free(s);	/* already there */
	return 0;
}

int
branch_open(struct branch **bp, const char *dir, const char *name,
    struct strbuf *err)
{
	struct mlog_sel sel = { "git", NULL, 0, 0, 0 };
	struct mlog_cursor cur = { 0, 0 };
	struct strbuf path = STRBUF_INIT, lit = STRBUF_INIT;
	struct mlog *l;
	struct branch *b;
	int rc;

	b = xcalloc(1, sizeof(*b));
	b->name = name;
	*bp = b;
	farm_place(&path, dir, FARM_CORPUS);
	if (!mlog_is_log(path.buf)) {
		strbuf_release(&path);
		return RC_OK;
	}
	rc = mlog_open(&l, path.buf, 0, err);
	strbuf_release(&path);
	if (rc != RC_OK)
		return rc;
	strbuf_addstr(&lit, "\"branch\":");
	json_quote(&lit, name, strlen(name));
	sel.lit = lit.buf;
	if ((rc = mlog_scan(l, err)) == RC_OK)
		rc = mlog_each(l, &cur, &sel, on_git, b, err);
	strbuf_release(&lit);
	mlog_close(l);
	return rc;
}

int
branch_has(const struct branch *b, const char *repo, const char *rev)
{
	struct strbuf k = STRBUF_INIT;
	int has;

	key(&k, repo, rev);
	has = tfind(k.buf, &b->root, key_cmp) != NULL;
	strbuf_release(&k);
	return has;
}

void
branch_close(struct branch *b)
{
	if (b == NULL)
		return;
	tdestroy(b->root, free);
	free(b);
}
