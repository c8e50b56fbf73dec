/*
 * failed.c: the failed results of the results log (extern.h says what
 * counts as failed), and their stored logs.
 *
 * The table is a tsearch(3) tree keyed by (rev, builder, repo) holding
 * only triples that ever failed, so its size follows the failures, not
 * the log.  The whole log is read once; failed_retract reads again only
 * what was appended since, under the writer's lock, so that two runs at
 * once cannot retract the same result twice and a retraction never
 * cancels a result it did not see.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "farm.h"
#include "gz.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct failed {
	struct mlog *log;	/* NULL: there is no results log yet */
	struct mlog_cursor cur;	/* after the last record read */
	char *lit;
	void *root;		/* tsearch tree of struct fail */
	struct fail **v;	/* failed_list's answer */
	size_t n, alloc;
};

static int
fail_cmp(const void *a, const void *b)
{
	const struct fail *x = a, *y = b;
	int c;

	if ((c = strcmp(x->rev, y->rev)) != 0 ||
	    (c = strcmp(x->builder, y->builder)) != 0)
		return c;
	return strcmp(x->repo, y->repo);
}

static void
fail_free(void *p)
{
	struct fail *f = p;

	free(f->builder);
	free(f->repo);
	free(f->rev);
	free(f);
}

static int
on_rec(const struct mlog_rec *rec, void *arg)
{
	struct failed *t = arg;
	struct fail key, *f, **fp;
	const char *kind, *log;
	int failed;

	if (strcmp(rec->type, "result") == 0) {
		kind = json_str(json_get(rec->obj, "kind"), NULL);
		failed = json_kind(json_get(rec->obj, "ok")) == JK_FALSE &&
		    (kind == NULL || strcmp(kind, "try") != 0);
	} else if (strcmp(rec->type, "retract") == 0)
		failed = 0;
	else
		return 0;
	key.builder = (char *)json_str(json_get(rec->obj, "builder"), NULL);
	key.repo = (char *)json_str(json_get(rec->obj, "repo"), NULL);
	key.rev = (char *)json_str(json_get(rec->obj, "rev"), NULL);
	if (key.builder == NULL || key.repo == NULL || key.rev == NULL)
		return 0;
	fp = tfind(&key, &t->root, fail_cmp);
	if (fp == NULL && !failed)
		return 0;
	if (fp == NULL) {
		f = xcalloc(1, sizeof(*f));
		f->builder = xstrdup(key.builder);
		f->repo = xstrdup(key.repo);
		f->rev = xstrdup(key.rev);
		/* tsearch fails only for want of memory */
		if (tsearch(f, &t->root, fail_cmp) == NULL)
			fatalx(RC_TEMP, "out of memory");
	} else
		f = *fp;
	f->seq = rec->seq;
	f->failed = failed;
	f->log[0] = '\0';
	if (failed && (log = json_str(json_get(rec->obj, "log"), NULL)) !=
	    NULL && strlen(log) < sizeof(f->log))
		memcpy(f->log, log, strlen(log) + 1);
	return 0;
}

static int
read_new(struct failed *t, struct strbuf *err)
{
	struct mlog_sel sel = { NULL, NULL, 0, 0, 0 };
	int rc;

	sel.lit = t->lit;
	if ((rc = mlog_scan(t->log, err)) != RC_OK)
		return rc;
	return mlog_each(t->log, &t->cur, &sel, on_rec, t, err);
}

int
failed_open(struct failed **tp, const char *dir, const char *lit,
    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct failed *t;
	int rc;

	t = xcalloc(1, sizeof(*t));
	/* canonical JSON: "type":"result" and "type":"retract" */
	t->lit = xstrdup(lit != NULL ? lit : "\"type\":\"re");
	*tp = t;
	farm_place(&path, dir, FARM_RESULTS);
	if (!mlog_is_log(path.buf)) {
		strbuf_release(&path);
		return RC_OK;
	}
	rc = mlog_open(&t->log, path.buf, 0, err);
	strbuf_release(&path);
	if (rc != RC_OK)
		return rc;
	return read_new(t, err);
}

static void
walk_fn(const void *node, VISIT which, void *arg)
{
	struct failed *t = arg;
	struct fail *f = *(struct fail *const *)node;

	if (which != postorder && which != leaf)
		return;
	if (!f->failed)
		return;
	if (t->n == t->alloc) {
		t->alloc = t->alloc != 0 ? t->alloc * 2 : 64;
		t->v = xreallocarray(t->v, t->alloc, sizeof(*t->v));
	}
	t->v[t->n++] = f;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct fail *x = *(struct fail *const *)a;
	const struct fail *y = *(struct fail *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t
failed_list(struct failed *t, struct fail ***vp)
{
	t->n = 0;
	twalk_r(t->root, walk_fn, t);
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), seq_cmp);
	*vp = t->v;
	return t->n;
}

int
failed_retract(struct failed *t, struct fail **v, size_t n,
    const char *const *reasons, size_t *nout, struct strbuf *err)
{
	struct json **recs;
	uint64_t *seq, first;
	size_t i, nrec = 0;
	int rc;

	*nout = 0;
	if (n == 0 || t->log == NULL)
		return RC_OK;
	seq = xreallocarray(NULL, n, sizeof(*seq));
	for (i = 0; i < n; i++)
		seq[i] = v[i]->seq;
	if ((rc = mlog_lock(t->log, MLOG_LOCK_TIMEOUT_MS, err)) != RC_OK) {
		free(seq);
		return rc;
	}
	if ((rc = read_new(t, err)) != RC_OK)
		goto out;
	recs = xreallocarray(NULL, n, sizeof(*recs));
	for (i = 0; i < n; i++) {
		v[i]->drop = v[i]->seq != seq[i] || !v[i]->failed;
		if (v[i]->drop)
			continue;
		recs[nrec] = json_new_object();
		json_set_str(recs[nrec], "builder", v[i]->builder);
		json_set_str(recs[nrec], "repo", v[i]->repo);
		json_set_str(recs[nrec], "rev", v[i]->rev);
		json_set_str(recs[nrec], "reason", reasons[i]);
		if (v[i]->log[0] != '\0')
			json_set_str(recs[nrec], "log", v[i]->log);
		nrec++;
	}
	if (nrec > 0)
		rc = mlog_write(t->log, recs, nrec, "retract", &first, err);
	for (i = 0; i < nrec; i++)
		json_free(recs[i]);
	free(recs);
	if (rc == RC_OK)
		*nout = nrec;
out:
	mlog_unlock(t->log);
	free(seq);
	return rc;
}

void
failed_close(struct failed *t)
{
	if (t == NULL)
		return;
	tdestroy(t->root, fail_free);
	mlog_close(t->log);
	free(t->lit);
	free(t->v);
	free(t);
}

int
buildlog_text(const char *dir, const char *hash, size_t max,
    struct strbuf *out, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct gunz *z;
	ssize_t r;
	size_t i;
	int fd, rc = RC_OK;

	strbuf_reset(out);
	farm_placef(&path, dir, FARM_BUILDLOGS, "%.2s/%s.gz", hash, hash);
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = errno == ENOENT ? RC_NO : RC_TEMP;
		strbuf_addf(err, "open '%s': %s", path.buf, strerror(errno));
		strbuf_release(&path);
		return rc;
	}
	if ((z = gunz_new(fd, -1)) == NULL) {
		strbuf_addf(err, "read '%s': out of memory", path.buf);
		rc = RC_TEMP;
		goto out;
	}
	while (out->len < max) {
		strbuf_grow(out, 65536);
		r = gunz_read(z, out->buf + out->len,
		    max - out->len < 65536 ? max - out->len : 65536);
		if (r == 0)
			break;
		if (r < 0) {
			strbuf_addf(err, "read '%s': %s", path.buf,
			    gunz_error(z));
			rc = gunz_kind(z) == GZ_EIO ? RC_TEMP : RC_PERM;
			break;
		}
		strbuf_setlen(out, out->len + (size_t)r);
	}
	gunz_free(z);
	for (i = 0; i < out->len; i++)
		if (out->buf[i] == '\0')
			out->buf[i] = ' ';
out:
	close(fd);
	strbuf_release(&path);
	return rc;
}
