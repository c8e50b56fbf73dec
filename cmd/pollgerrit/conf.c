/*
 * conf.c: the servers pollgerrit talks to, from the [gerrit "NAME"]
 * sections that lib/farmconf.c read and checked.
 */
#include "compat.h"

#include <stdlib.h>

#include "extern.h"
#include "farmconf.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

/* A Gerrit time for the first poll: "2017-07-01 00:00:00.000000000" */
static char *
since_gtime(int64_t secs)
{
	struct strbuf t = STRBUF_INIT;

	gtime_format(&t, secs, 0);
	return strbuf_detach(&t, NULL);
}

int
conf_load(struct farmconf *fc, struct server **svp, size_t *np)
{
	struct server *sv;
	size_t i;

	if (fc->ngerrits == 0) {
		log_warnx("config '%s': no [gerrit \"NAME\"] section",
		    fc->path);
		return RC_PERM;
	}
	sv = xcalloc(fc->ngerrits, sizeof(*sv));
	for (i = 0; i < fc->ngerrits; i++) {
		const struct gerrit_conf *g = &fc->gerrits[i];
		struct server *s = &sv[i];

		s->lockfd = -1;
		s->name = g->name;
		s->url = g->url;
		s->host = g->host;
		s->path = g->path;
		s->https = g->https;
		s->projects = g->projects;
		s->nprojects = g->nprojects;
		s->gitcookies = g->gitcookies;
		s->timeout_ms = (long)g->timeout_s * 1000;
		s->rate = (int)g->rate;
		s->overlap = (int)g->overlap_s;
		s->pagesize = (int)g->pagesize;
		s->maxbody = (size_t)g->maxbody;
		s->since = g->has_since ? since_gtime(g->since) : NULL;
	}
	cx.conf = fc;
	*svp = sv;
	*np = fc->ngerrits;
	return RC_OK;
}

struct server *
conf_find(const char *name)
{
	size_t i;

	for (i = 0; i < cx.nservers; i++)
		if (strcmp(cx.servers[i].name, name) == 0)
			return &cx.servers[i];
	return NULL;
}

/* The servers named by operands, or all of them. */
int
conf_select(int argc, char **argv, struct server ***selp, size_t *np)
{
	struct server **sel;
	size_t i, n = 0;
	int bad = 0, k;

	sel = xcalloc(cx.nservers + (size_t)argc + 1, sizeof(*sel));
	if (argc == 0)
		for (i = 0; i < cx.nservers; i++)
			sel[n++] = &cx.servers[i];
	for (k = 0; k < argc; k++) {
		struct server *s = conf_find(argv[k]);

		if (s == NULL) {
			log_warnx("no [gerrit \"%s\"] in the config",
			    esc(argv[k]));
			bad++;
			continue;
		}
		for (i = 0; i < n && sel[i] != s; i++)
			;
		if (i == n)
			sel[n++] = s;
	}
	*selp = sel;
	*np = n;
	return bad ? RC_PERM : RC_OK;
}

void
conf_free(struct server *sv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(sv[i].since);
	free(sv);
	farmconf_free(cx.conf);
	cx.conf = NULL;
}
