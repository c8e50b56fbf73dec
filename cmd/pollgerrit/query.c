/*
 * query.c: the two commands that only talk to Gerrit: review (post
 * votes and a message on a revision) and query (list changes).
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"

/*
 * POST /changes/CHANGE/revisions/REVISION/review with
 * {"labels": {...}, "message": "..."}; labels is a "Name=value" list.
 */
int
review_post(struct server *s, const char *change, const char *revision,
    char **labels, size_t nlabels, const char *message)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct json *body = json_new_object(), *lj = json_new_object();
	size_t i;
	int rc;

	for (i = 0; i < nlabels; i++) {
		char *eq = strchr(labels[i], '=');
		int v;

		*eq = '\0';
		v = atoi(eq + 1);	/* checked by the caller */
		json_set_int(lj, labels[i], v);
		*eq = '=';
	}
	if (nlabels > 0)
		json_set(body, "labels", lj);
	else
		json_free(lj);
	if (message != NULL)
		json_set(body, "message", json_new_strn(message,
		    strlen(message)));
	strbuf_addstr(&path, "/changes/");
	http_urlencode(&path, change);
	strbuf_addstr(&path, "/revisions/");
	http_urlencode(&path, revision);
	strbuf_addstr(&path, "/review");
	if ((rc = gerrit_post(s, path.buf, body, &err)) != RC_OK)
		log_warnx("%s", err.buf);
	else
		log_info("gerrit '%s': reviewed %s revision %s", s->name,
		    esc(change), esc(revision));
	json_free(body);
	strbuf_release(&path);
	strbuf_release(&err);
	return rc;
}

struct listing {
	size_t n;
};

static int
list_one(struct json *ci, void *arg)
{
	struct listing *l = arg;
	struct strbuf out = STRBUF_INIT;
	const char *cur = json_str(json_get(ci, "current_revision"), NULL);
	struct json *rev = cur != NULL ?
	    json_get(json_get(ci, "revisions"), cur) : NULL;
	int64_t ps = 0;

	json_del(ci, "_more_changes");	/* paging, not the change */
	l->n++;
	if (cx.jflag) {
		json_dump(&out, ci);
		printf("%s\n", out.buf);
		strbuf_release(&out);
		return RC_OK;
	}
	(void)json_get_int(json_get(rev, "_number"), &ps);
	printf("%lld %lld %s %s %s\n",
	    (long long)json_int(json_get(ci, "_number")), (long long)ps,
	    esc(json_str(json_get(ci, "project"), NULL)),
	    esc(json_str(json_get(ci, "branch"), NULL)),
	    esc(json_str(json_get(ci, "subject"), NULL)));
	return RC_OK;
}

int
query_list(struct server *s, const char *q)
{
	struct strbuf err = STRBUF_INIT;
	struct listing l = { 0 };
	int rc;

	rc = gerrit_query(s, q, Q_REVISION, list_one, &l, &err);
	if (rc != RC_OK)
		log_warnx("%s", err.buf);
	if (print_flush() != RC_OK && rc == RC_OK)
		rc = RC_TEMP;
	strbuf_release(&err);
	if (rc != RC_OK)
		return rc;
	return l.n > 0 ? RC_OK : RC_NO;
}
