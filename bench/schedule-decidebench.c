/*
 * schedule-decidebench: the time of one scheduling decision of
 * schedule serve, with the work model of cmd/schedule/work.c linked in.
 * A decision is workq_update after one new record (a result of the
 * build decided last time, or every tenth time a new commit) and the
 * walk of the list to the first item whose builder's host type has a
 * free machine.  The state directory (config, corpus, results) is made
 * by bench/schedule-decide.sh.
 *
 *   usage: schedule-decidebench DIR MACHINES DECISIONS
 *   first 45.1 ms items 10000 p50 0.210 p90 0.300 p99 0.500 max 0.9 walk 812
 *
 * first is the first update (reading the logs from the start), the
 * percentiles are of the decisions in milliseconds, walk the mean
 * number of items looked at.  The MACHINES are spread evenly over the
 * host types; all are busy but those of one host type, chosen as the
 * host type of the last item listed (the worst case for the walk) and
 * chosen again when its work runs out.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"
#include "farmconf.h"
#include "json.h"
#include "mlog.h"
#include "farm.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct sctx cx;

static double
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what, struct strbuf *err)
{
	fprintf(stderr, "schedule-decidebench: %s: %s\n", what,
	    err != NULL ? err->buf : "");
	exit(111);
}

static struct mlog *
open_log(enum farm_place p)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct mlog *l;

	farm_place(&path, cx.dir, p);
	if (mlog_open(&l, path.buf, MLOG_CREATE, &err) != RC_OK)
		die("open log", &err);
	strbuf_release(&path);
	return l;
}

int
main(int argc, char *argv[])
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	struct mlog *results, *corpus;
	const struct work **v;
	const struct work *pick;
	struct workq *q;
	struct json *j, *who;
	double t0, first, *dt, walks = 0;
	size_t i, k, n, nd, free_ht = 0, nitems;
	uint64_t seq;
	long nmach;
	char rev[41];

	if (argc != 4)
		die("usage: schedule-decidebench DIR MACHINES DECISIONS", NULL);
	cx.dir = argv[1];
	nmach = atol(argv[2]);
	nd = (size_t)atol(argv[3]);
	if (farmconf_load(&cx.conf, cx.dir, FC_REPO | FC_BUILDER, &warn,
	    &err) != RC_OK)
		die("config", &err);
	results = open_log(FARM_RESULTS);
	corpus = open_log(FARM_CORPUS);
	if (workq_open(&q, &cx, &err) != RC_OK)
		die("workq_open", &err);
	t0 = ms();
	if (workq_update(q, &err) != RC_OK)
		die("workq_update", &err);
	first = ms() - t0;
	nitems = workq_list(q, &v);
	if (nitems == 0)
		die("no work", NULL);
	dt = xcalloc(nd, sizeof(*dt));
	pick = NULL;
	for (k = 0; k < nd; k++) {
		/* the record that wakes the daemon up: not timed */
		j = json_new_object();
		if (k % 10 == 9 || pick == NULL) {
			snprintf(rev, sizeof(rev), "%040zx", k + 1);
			json_set_str(j, "repo", cx.conf->repos[k %
			    cx.conf->nrepos].name);
			json_set_str(j, "branch", cx.conf->repos[k %
			    cx.conf->nrepos].branch[0]);
			json_set_str(j, "commit", rev);
			who = json_new_object();
			json_set_str(who, "time", "2026-01-01T00:00:00Z");
			json_set(j, "committer", who);
			if (mlog_append(corpus, &j, 1, "git", &seq,
			    &err) != RC_OK)
				die("append", &err);
		} else {
			json_set_str(j, "builder", pick->builder->name);
			json_set_str(j, "repo", pick->repo->name);
			json_set_str(j, "rev", pick->rev);
			json_set_str(j, "kind", "post");
			json_set_bool(j, "ok", 1);
			if (mlog_append(results, &j, 1, "result", &seq,
			    &err) != RC_OK)
				die("append", &err);
		}
		json_free(j);

		t0 = ms();
		if (workq_update(q, &err) != RC_OK)
			die("workq_update", &err);
		n = workq_list(q, &v);
		pick = NULL;
		for (i = 0; i < n; i++)
			if ((size_t)(v[i]->builder->hosttype -
			    cx.conf->hosttypes) == free_ht) {
				pick = v[i];
				break;
			}
		dt[k] = ms() - t0;
		walks += (double)(i < n ? i + 1 : n);
		if (pick != NULL)
			workq_started(q, pick);
		else if (n > 0)	/* its work ran out: free another */
			free_ht = (size_t)(v[n - 1]->builder->hosttype -
			    cx.conf->hosttypes);
	}
	qsort(dt, nd, sizeof(*dt), dcmp);
	printf("first %.1f ms items %zu machines %ld p50 %.3f p90 %.3f "
	    "p99 %.3f max %.3f walk %.0f\n", first, nitems, nmach,
	    dt[nd / 2], dt[nd * 9 / 10], dt[nd * 99 / 100], dt[nd - 1],
	    walks / (double)nd);
	workq_close(q);
	mlog_close(results);
	mlog_close(corpus);
	farmconf_free(cx.conf);
	free(dt);
	return 0;
}
