/*
 * find.c: schedule find, the work in the order the daemon would start
 * it (work.c), and schedule add, a build asked for by hand.
 */
#include "compat.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "json.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
#include "workitem.h"

static void
str_or_null(struct json *j, const char *key, const char *s)
{
	json_set(j, key, s != NULL ? json_new_str(s) : json_new_null());
}

/* One line of find -j: every field of w, absent ones null. */
static void
work_json(struct strbuf *out, const struct work *w)
{
	struct json *j = json_new_object();

	json_set_str(j, "kind", workitem_kind_name(w->kind));
	json_set_str(j, "repo", w->repo->name);
	json_set_str(j, "rev", w->rev);
	str_or_null(j, "builder", w->builder != NULL ? w->builder->name :
	    NULL);
	str_or_null(j, "hosttype", w->builder != NULL ?
	    w->builder->hosttype->name : NULL);
	str_or_null(j, "branch", w->branch);
	str_or_null(j, "item", w->item);
	json_set_int(j, "change", w->change);
	json_set_int(j, "patchset", w->patchset);
	json_set_int(j, "prio", w->prio);
	json_set_int(j, "time", w->time);
	json_dump(out, j);
	json_free(j);
}

int
cmd_find(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	const struct work **v;
	const struct work *w;
	struct workq *q;
	int ch, jflag = 0, rc, max = 0;
	size_t i, n;

	while ((ch = getopt(argc, argv, "jn:")) != -1) {
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		case 'n':
			if (num_parse_int(optarg, 1, 1000000000, &max) != 0)
				fatalx(RC_PERM, "-n '%s': want a count from 1",
				    esc(optarg));
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	load_conf(FC_REPO | FC_BUILDER);
	if ((rc = workq_open(&q, &cx, &err)) != RC_OK ||
	    (rc = workq_update(q, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	n = workq_list(q, &v);
	if (max > 0 && n > (size_t)max)
		n = (size_t)max;
	for (i = 0; i < n; i++) {
		w = v[i];
		strbuf_reset(&out);
		if (jflag)
			work_json(&out, w);
		else {
			strbuf_addf(&out, "%s %s %s %s",
			    workitem_kind_name(w->kind), w->repo->name, w->rev,
			    w->builder != NULL ? w->builder->name : "-");
			if (w->kind == WORK_TRY)
				strbuf_addf(&out, " %ld/%ld", w->change,
				    w->patchset);
		}
		strbuf_addch(&out, '\n');
		fwrite(out.buf, 1, out.len, stdout);
	}
	workq_close(q);
	strbuf_release(&out);
	strbuf_release(&err);
	return n > 0 ? RC_OK : RC_NO;
}

int
cmd_add(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, data = STRBUF_INIT,
	    name = STRBUF_INIT, path = STRBUF_INIT;
	struct work_item wi = WORK_ITEM_INIT;
	const struct builder_conf *b;
	const struct repo_conf *r;
	struct spool sp;
	int ch, prio = 0, rc;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		switch (ch) {
		case 'p':
			if (num_parse_int(optarg, -1000, 1000, &prio) != 0)
				fatalx(RC_PERM, "-p '%s': want a priority "
				    "from -1000 to 1000", esc(optarg));
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		usage();
	load_conf(FC_REPO | FC_BUILDER);
	if ((r = farmconf_repo(cx.conf, argv[0])) == NULL)
		fatalx(RC_PERM, "repo '%s' is not in the config '%s'",
		    esc(argv[0]), cx.conf->path);
	if (!full_rev(argv[1]))
		fatalx(RC_PERM, "rev '%s': want a full commit id, 40 or 64 "
		    "lowercase hex digits (no prefixes, no names)",
		    esc(argv[1]));
	if ((b = farmconf_builder(cx.conf, argv[2])) == NULL)
		fatalx(RC_PERM, "builder '%s' is not in the config '%s'",
		    esc(argv[2]), cx.conf->path);
	if (b->repo != r)
		fatalx(RC_PERM, "builder '%s' does not build repo '%s'",
		    b->name, r->name);
	if (b->nrun == 0)
		fatalx(RC_PERM, "builder '%s' has no run steps", b->name);
	wi.kind = WORK_MANUAL;
	wi.repo = r->name;
	wi.rev = argv[1];
	wi.builder = b->name;
	wi.prio = prio;
	workitem_encode(&wi, &data);
	farm_place(&path, cx.dir, FARM_SPOOL_WORK);
	if ((rc = spool_open(&sp, path.buf, 1, &err)) != RC_OK ||
	    (rc = spool_put(&sp, data.buf, data.len, &name, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	spool_close(&sp);
	printf("%s\n", name.buf);
	strbuf_release(&err);
	strbuf_release(&data);
	strbuf_release(&name);
	strbuf_release(&path);
	return RC_OK;
}
