/*
 * conf.c: the [gerrit "NAME"] sections of the farm's config
 * (buildfarm.conf(5)).  Every problem is reported, not just the first;
 * the caller exits RC_PERM when there were any.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "extern.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define DEF_TIMEOUT	30
#define DEF_RATE	10
#define DEF_OVERLAP	60
#define DEF_PAGESIZE	100
#define DEF_MAXBODY	((uint64_t)32 << 20)

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n && s[0] != '.' &&
	    s[0] != '-';
}

/* No control characters, spaces or quotes: safe inside a query. */
static int
project_ok(const char *s)
{
	const unsigned char *p;

	if (*s == '\0' || strlen(s) > 255)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Split url into the parts requests need; scheme+host[:port] with an
 * optional path prefix, nothing else.
 */
static int
parse_url(struct server *s, const char *url, const char *name)
{
	const char *p, *host, *end;
	size_t n;

	if (strncmp(url, "https://", 8) == 0) {
		s->https = 1;
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else {
		log_warnx("gerrit '%s': url '%s': want http:// or https://",
		    name, esc(url));
		return -1;
	}
	for (p = url; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' ||
		    *p == '#') {
			log_warnx("gerrit '%s': url '%s': no spaces, queries "
			    "or fragments, please", name, esc(url));
			return -1;
		}
	}
	end = host + strcspn(host, "/");
	if (memchr(host, '@', (size_t)(end - host)) != NULL) {
		/* never a password in the config or in our messages */
		log_warnx("gerrit '%s': url: credentials do not belong in the "
		    "url; use gitcookies or .netrc", name);
		return -1;
	}
	if (end == host || *host == ':') {
		log_warnx("gerrit '%s': url '%s': no host", name, esc(url));
		return -1;
	}
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	s->url = xmemdupz(url, n);
	p = memchr(host, ':', (size_t)(end - host));
	s->host = xmemdupz(host, (size_t)((p != NULL ? p : end) - host));
	s->path = xstrdup(s->url + (end - url));
	return 0;
}

/* The last value of key, complaining when it is given more than once. */
static const char *
one(struct config *c, const char *name, const char *key, int *bad)
{
	struct strbuf k = STRBUF_INIT;
	const char **vals;
	const char *v = NULL;
	size_t n;

	strbuf_addf(&k, "gerrit.%s.%s", name, key);
	n = config_get_all(c, k.buf, &vals);
	if (n > 1) {
		log_warnx("gerrit '%s': %s given %zu times", name, key, n);
		(*bad)++;
	}
	if (n > 0)
		v = vals[n - 1];
	strbuf_release(&k);
	return v;
}

static int64_t
number(struct config *c, const char *name, const char *key, int64_t min,
    int64_t max, int64_t def, int *bad)
{
	const char *v = one(c, name, key, bad);
	int64_t x;

	if (v == NULL)
		return def;
	if (num_parse_i64(v, min, max, &x) < 0) {
		log_warnx("gerrit '%s': %s '%s': want a whole number from "
		    "%lld to %lld", name, key, esc(v), (long long)min,
		    (long long)max);
		(*bad)++;
		return def;
	}
	return x;
}

/* "2017-07-01" or "2017-07-01 12:00:00" as a Gerrit time. */
static char *
parse_since(const char *v)
{
	struct strbuf t = STRBUF_INIT;
	int64_t secs;
	long nanos;

	if (strlen(v) == 10)
		strbuf_addf(&t, "%s 00:00:00", v);
	else
		strbuf_addstr(&t, v);
	if (gtime_parse(t.buf, &secs, &nanos) < 0) {
		strbuf_release(&t);
		return NULL;
	}
	strbuf_reset(&t);
	gtime_format(&t, secs, nanos);
	return strbuf_detach(&t, NULL);
}

static int
load_one(struct config *c, const char *name, struct server *s)
{
	const char **vals;
	const char *v;
	uint64_t size;
	size_t i, n;
	int bad = 0;
	struct strbuf k = STRBUF_INIT;

	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
	s->name = xstrdup(name);
	if (!name_ok(name)) {
		log_warnx("gerrit '%s': bad name: want letters, digits, '.', "
		    "'_' and '-', at most 64", esc(name));
		bad++;
	}
	if ((v = one(c, name, "url", &bad)) == NULL) {
		log_warnx("gerrit '%s': no url", esc(name));
		bad++;
	} else if (parse_url(s, v, esc(name)) < 0)
		bad++;

	strbuf_addf(&k, "gerrit.%s.project", name);
	n = config_get_all(c, k.buf, &vals);
	s->projects = xcalloc(n + 1, sizeof(*s->projects));
	for (i = 0; i < n; i++) {
		if (!project_ok(vals[i])) {
			log_warnx("gerrit '%s': bad project '%s'", esc(name),
			    esc(vals[i]));
			bad++;
			continue;
		}
		s->projects[s->nprojects++] = xstrdup(vals[i]);
	}
	strbuf_release(&k);

	if ((v = one(c, name, "gitcookies", &bad)) != NULL) {
		const char *home = getenv("HOME");

		if (strncmp(v, "~/", 2) == 0 && home != NULL) {
			strbuf_addf(&k, "%s/%s", home, v + 2);
			s->gitcookies = strbuf_detach(&k, NULL);
		} else
			s->gitcookies = xstrdup(v);
		if (access(s->gitcookies, R_OK) < 0) {
			log_warn("gerrit '%s': gitcookies '%s'", esc(name),
			    esc(s->gitcookies));
			bad++;
		}
	}
	s->timeout_ms = (long)number(c, name, "timeout", 1, 3600, DEF_TIMEOUT,
	    &bad) * 1000;
	s->rate = (int)number(c, name, "rate", 1, 1000, DEF_RATE, &bad);
	s->overlap = (int)number(c, name, "overlap", 0, 86400, DEF_OVERLAP,
	    &bad);
	s->pagesize = (int)number(c, name, "pagesize", 1, 10000, DEF_PAGESIZE,
	    &bad);
	s->maxbody = DEF_MAXBODY;
	if ((v = one(c, name, "maxbody", &bad)) != NULL) {
		if (num_parse_size(v, 4096, (uint64_t)1 << 30, &size) < 0) {
			log_warnx("gerrit '%s': maxbody '%s': want a size from "
			    "4k to 1g", esc(name), esc(v));
			bad++;
		} else
			s->maxbody = (size_t)size;
	}
	if ((v = one(c, name, "since", &bad)) != NULL &&
	    (s->since = parse_since(v)) == NULL) {
		log_warnx("gerrit '%s': since '%s': want YYYY-MM-DD or "
		    "'YYYY-MM-DD HH:MM:SS' (UTC)", esc(name), esc(v));
		bad++;
	}
	return bad;
}

int
conf_load(struct config *c, struct server **svp, size_t *np)
{
	const char **names;
	struct server *sv;
	size_t n, i, j;
	int bad = 0;

	n = config_subsections(c, "gerrit", &names);
	if (n == 0) {
		log_warnx("config '%s': no [gerrit \"NAME\"] section",
		    config_path(c));
		return RC_PERM;
	}
	sv = xcalloc(n, sizeof(*sv));
	/* names is scratch space of c: copy each before the next lookup */
	for (i = 0; i < n; i++) {
		char *name = xstrdup(names[i]);

		bad += load_one(c, name, &sv[i]);
		free(name);
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (sv[i].url != NULL && sv[j].url != NULL &&
			    strcmp(sv[i].url, sv[j].url) == 0) {
				log_warnx("gerrit '%s': same url as gerrit "
				    "'%s'", esc(sv[i].name), esc(sv[j].name));
				bad++;
			}
	*svp = sv;
	*np = n;
	if (bad)
		log_warnx("config '%s': %d problem%s", config_path(c), bad,
		    bad == 1 ? "" : "s");
	return bad ? RC_PERM : RC_OK;
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
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct server *s = &sv[i];

		free(s->name);
		free(s->url);
		free(s->host);
		free(s->path);
		for (j = 0; j < s->nprojects; j++)
			free(s->projects[j]);
		free(s->projects);
		free(s->gitcookies);
		free(s->since);
	}
	free(sv);
}
