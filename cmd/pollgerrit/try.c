/*
 * try.c: TryBot work into spool/try (buildfarm(7), DESIGN §4).
 *
 * One item per (server, change, patch set), named "NAME-CHANGE-PATCHSET":
 * the name is the identity of the work, so "queued before, whatever
 * became of it" is a look for that name in new/, cur/, done/ and fail/
 * (spool_put_named).  The per-server lock makes us the only producer of
 * these names.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>

#include "extern.h"
#include "farm.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
#include "workitem.h"

int
try_open(struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (cx.try_open)
		return RC_OK;
	farm_place(&path, cx.dir, FARM_SPOOL_TRY);
	rc = spool_open(&cx.try, path.buf, 1, err);
	if (rc == RC_OK)
		cx.try_open = 1;
	strbuf_release(&path);
	return rc;
}

/* The item borrows c's and s's strings: not to be released. */
static void
item_of(struct work_item *wi, const struct server *s, const struct change *c)
{
	wi->kind = WORK_TRY;
	/* none: schedule runs every builder of the repo with try = true */
	wi->builder = NULL;
	wi->repo = c->project;
	wi->rev = c->rev;
	wi->branch = c->branch;
	wi->change = c->number;
	wi->patchset = c->patchset;
	wi->change_id = c->change_id;
	wi->subject = c->subject;
	wi->gerrit = s->name;
	wi->server = s->url;
}

/* Queue c's current patch set: RC_OK queued now, RC_NO queued before. */
int
try_queue(struct server *s, const struct change *c, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT, data = STRBUF_INIT;
	struct work_item wi = WORK_ITEM_INIT;
	struct json *j;
	int rc;

	if ((rc = try_open(err)) != RC_OK)
		return rc;
	strbuf_addf(&name, "%s-%lld-%lld", s->name, (long long)c->number,
	    (long long)c->patchset);
	item_of(&wi, s, c);
	workitem_encode(&wi, &data);
	rc = spool_put_named(&cx.try, name.buf, data.buf, data.len, err);
	if (rc == RC_NO)
		strbuf_reset(err);
	if (rc == RC_OK) {
		if (cx.jflag) {
			struct strbuf out = STRBUF_INIT;

			j = workitem_json(&wi);
			json_set_str(j, "event", "try");
			json_set_str(j, "item", name.buf);
			json_dump(&out, j);
			printf("%s\n", out.buf);
			strbuf_release(&out);
			json_free(j);
		} else
			printf("try %s %lld %lld %s %s %s\n", s->name,
			    (long long)c->number, (long long)c->patchset,
			    esc(c->project), esc(c->branch), esc(c->rev));
		log_info("gerrit '%s': queued try work '%s'", s->name,
		    name.buf);
	}
	strbuf_release(&name);
	strbuf_release(&data);
	return rc;
}

/*
 * Changes that caught-up records left wanting a TryBot run: the process
 * that recorded them may have died before queueing.
 */
int
try_caught_up(struct server *s, const int64_t *touched, size_t n,
    struct strbuf *err)
{
	size_t i;
	int rc, queued = 0;

	for (i = 0; i < n; i++) {
		const struct change *c = changes_get(&s->st->ch, touched[i]);

		if (c == NULL || !change_try_wanted(c))
			continue;
		rc = try_queue(s, c, err);
		if (rc == RC_OK)
			queued++;
		else if (rc != RC_NO)
			return rc;
	}
	return queued ? RC_OK : RC_NO;
}
