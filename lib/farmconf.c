#include "compat.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "farm.h"
#include "farmconf.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

/*
 * The kinds of value buildfarm.conf(5) knows, and where each lands:
 * a string (char *), a repeated string (char ** and a size_t count), a
 * number (int64_t; booleans and durations too), a size (uint64_t) or
 * the pool kind.
 */
enum type {
	T_GITURL,	/* a URL libgit2 fetches, or user@host:path */
	T_HTTPURL,	/* http:// or https://, a host, no credentials */
	T_BRANCH,	/* a branch's short name */
	T_PROJECT,	/* a Gerrit project */
	T_PATH,		/* a file name, "~/" expanded */
	T_CMD,		/* a command line for /bin/sh -c */
	T_ENV,		/* KEY=VALUE */
	T_DIR,		/* a relative path without ".." */
	T_BOOL,
	T_NUM,		/* [min, max] */
	T_DUR,		/* seconds in [min, max], with a unit or not */
	T_SIZE,		/* bytes in [min, max], k, m, g */
	T_TIME,		/* a UTC date, or date and time: epoch seconds */
	T_POOL,		/* static, command or reverse */
	T_REF,		/* another section's name: the section checks it */
};

struct key {
	const char *name;
	enum type type;
	int multi;		/* may be repeated */
	size_t off, noff;	/* the field; multi: its count */
	int64_t min, max, def;
};

#define O(s, f) offsetof(struct s, f)
#define ONE(k, t, s, f) { k, t, 0, O(s, f), 0, 0, 0, 0 }
#define MANY(k, t, s, f, n) { k, t, 1, O(s, f), O(s, n), 0, 0, 0 }
#define NUM(k, t, s, f, min, max, def) { k, t, 0, O(s, f), 0, min, max, def }

static const struct key farm_keys[] = {
	ONE("url", T_HTTPURL, farmconf, url),
	ONE("source", T_HTTPURL, farmconf, source),
};

static const struct key dashboard_keys[] = {
	ONE("dir", T_PATH, farmconf, dashboard_dir),
};

static const struct key repo_keys[] = {
	ONE("upstream", T_GITURL, repo_conf, upstream),
	MANY("push", T_GITURL, repo_conf, push, npush),
	MANY("branch", T_BRANCH, repo_conf, branch, nbranch),
	NUM("mirror", T_BOOL, repo_conf, mirror, 0, 1, 0),
	NUM("backfill", T_NUM, repo_conf, backfill, 0, 1000000, 100),
	NUM("timeout", T_DUR, repo_conf, timeout_s, 1, 86400, 300),
	NUM("interval", T_DUR, repo_conf, interval_s, 1, 30 * 86400, 600),
	ONE("credentials", T_PATH, repo_conf, credentials),
	ONE("sshkey", T_PATH, repo_conf, sshkey),
	ONE("knownhosts", T_PATH, repo_conf, knownhosts),
	ONE("gerrit-project", T_PROJECT, repo_conf, gerrit_project),
};

static const struct key gerrit_keys[] = {
	ONE("url", T_HTTPURL, gerrit_conf, url),
	MANY("project", T_PROJECT, gerrit_conf, projects, nprojects),
	ONE("gitcookies", T_PATH, gerrit_conf, gitcookies),
	NUM("timeout", T_DUR, gerrit_conf, timeout_s, 1, 3600, 30),
	NUM("rate", T_NUM, gerrit_conf, rate, 1, 1000, 10),
	NUM("overlap", T_DUR, gerrit_conf, overlap_s, 0, 86400, 60),
	NUM("maxbody", T_SIZE, gerrit_conf, maxbody, 4096, 1 << 30, 32 << 20),
	NUM("pagesize", T_NUM, gerrit_conf, pagesize, 1, 10000, 100),
	NUM("since", T_TIME, gerrit_conf, since, 0, 0, 0),
};

static const struct key hosttype_keys[] = {
	NUM("pool", T_POOL, hosttype_conf, pool, 0, 0, POOL_STATIC),
	MANY("buildlet", T_HTTPURL, hosttype_conf, buildlet, nbuildlet),
	ONE("password-file", T_PATH, hosttype_conf, password_file),
	ONE("create", T_CMD, hosttype_conf, create),
	ONE("destroy", T_CMD, hosttype_conf, destroy),
	NUM("max", T_NUM, hosttype_conf, max, 1, 100000, 1),
	NUM("idle", T_DUR, hosttype_conf, idle_s, 0, 30 * 86400, 600),
	NUM("gomote-preempt", T_BOOL, hosttype_conf, gomote_preempt, 0, 1, 0),
	NUM("gomote-idle", T_DUR, hosttype_conf, gomote_idle_s, 1,
	    7 * 86400, 1800),
};

static const struct key builder_keys[] = {
	ONE("hosttype", T_REF, builder_conf, hosttype),
	ONE("repo", T_REF, builder_conf, repo),
	MANY("env", T_ENV, builder_conf, env, nenv),
	MANY("run", T_CMD, builder_conf, run, nrun),
	ONE("dir", T_DIR, builder_conf, dir),
	NUM("try", T_BOOL, builder_conf, try, 0, 1, 0),
	NUM("timeout", T_DUR, builder_conf, timeout_s, 1, 7 * 86400, 7200),
	NUM("step-timeout", T_DUR, builder_conf, step_timeout_s, 1,
	    7 * 86400, 3600),
	NUM("backfill", T_NUM, builder_conf, backfill, 0, 1000000, 30),
	NUM("hold", T_DUR, builder_conf, hold_s, 0, 7 * 86400, 0),
};

struct ld;

/*
 * The sections, in the order they are checked.  A named section is
 * [section "NAME"], an array of size elements at arr in struct farmconf,
 * whose first member is the char *name.
 */
struct section {
	const char *name;
	int bit;			/* FC_* */
	int named;
	const struct key *keys;
	size_t nkeys;
	size_t arr, n, size;
	void (*check)(struct ld *, void *);
};

/* A load in progress. */
struct ld {
	struct farmconf *fc;
	struct config *c;
	struct strbuf *err;
	int want;
	int bit;		/* the section being read */
	const char *sec, *name;	/* for messages */
	size_t nbad;
	struct strbuf k;
};

static void problem(struct ld *ld, const char *fmt, ...) BF_PRINTF(2, 3);

/* One line in err, escaped: values come from the file. */
static void
problem(struct ld *ld, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	if (!(ld->want & ld->bit))
		return;
	strbuf_addf(&line, "config '%s': %s", ld->fc->path, ld->sec);
	if (ld->name != NULL)
		strbuf_addf(&line, " \"%s\"", ld->name);
	strbuf_addstr(&line, ": ");
	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	log_escape(ld->err, line.buf, line.len);
	strbuf_addch(ld->err, '\n');
	strbuf_release(&line);
	ld->nbad++;
}

/* 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-' */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && s[0] != '.' && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* No control characters at all, or none but tab. */
static int
printable(const char *s, int tab)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < ' ' && !(tab && *p == '\t')) || *p == 0x7f)
			return 0;
	return 1;
}

static const char *
giturl_bad(const char *u)
{
	static const char *const schemes[] = { "https://", "http://",
	    "git://", "ssh://", "file://" };
	size_t i;

	if (strpbrk(u, " \t\r\n") == NULL && *u != '\0') {
		for (i = 0; i < ARRAY_SIZE(schemes); i++)
			if (strncmp(u, schemes[i], strlen(schemes[i])) == 0)
				break;
		if (i < ARRAY_SIZE(schemes) ? u[strlen(schemes[i])] != '\0' :
		    strchr(u, '@') != NULL && strchr(u, ':') != NULL)
			return NULL;
	}
	return "want a URL git can fetch: https, http, git, ssh, file or "
	    "user@host:path";
}

/*
 * host[:port] of a URL, as libcurl will take it: a DNS name or IPv4
 * address, or an IPv6 address in brackets, and a port from 1 to 65535.
 * (Not a libcurl call: every tool reads the config, not all link it.)
 */
static const char *
hostport_bad(const char *host, const char *end)
{
	const char *p = host, *colon;
	char a6[64];
	unsigned char bin[16];
	long port;

	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL || (size_t)(rb - p - 1) >= sizeof(a6))
			return "bad IPv6 address";
		memcpy(a6, p + 1, (size_t)(rb - p - 1));
		a6[rb - p - 1] = '\0';
		if (inet_pton(AF_INET6, a6, bin) != 1)
			return "bad IPv6 address";
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return "bad host";
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		for (; p < (colon != NULL ? colon : end); p++)
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.' && *p != '_')
				return "bad host name";
	}
	if (colon == NULL)
		return NULL;
	for (port = 0, p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return "bad port: want 1 to 65535";
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return "bad port: want 1 to 65535";
	return NULL;
}

static const char *
httpurl_bad(const char *url)
{
	const char *host, *end;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return "want http:// or https://";
	if (!printable(url, 0) || strpbrk(url, " ?#") != NULL)
		return "no spaces, queries or fragments, please";
	end = host + strcspn(host, "/");
	/* never a password in the config or in our messages */
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return "credentials do not belong in the url";
	if (end == host || *host == ':')
		return "no host";
	return hostport_bad(host, end);
}

static const char *
branch_bad(const char *b)
{
	if (*b != '\0' && *b != '-' && *b != '/' && strlen(b) <= 200 &&
	    strstr(b, "..") == NULL && strstr(b, "//") == NULL &&
	    strpbrk(b, " ~^:?*[\\\t\r\n") == NULL &&
	    b[strlen(b) - 1] != '/' && strncmp(b, "refs/", 5) != 0)
		return NULL;
	return "not a branch name";
}

/* No control characters, spaces or quotes: safe inside a query. */
static const char *
project_bad(const char *s)
{
	if (*s == '\0' || strlen(s) > 255 || !printable(s, 0) ||
	    strpbrk(s, " \"\\") != NULL)
		return "not a project name";
	return NULL;
}

static const char *
env_bad(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	    "VWXYZ0123456789_");

	if (n == 0 || s[n] != '=' || (s[0] >= '0' && s[0] <= '9') ||
	    !printable(s, 1))
		return "want NAME=VALUE, NAME of letters, digits and '_'";
	return NULL;
}

static const char *
dir_bad(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '/' || strlen(s) > 255 || !printable(s, 0))
		return "want a relative path";
	for (p = s; *p != '\0'; p += strcspn(p, "/"), p += *p == '/')
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return "no '..', please";
	return NULL;
}

/* "2017-07-01" or "2017-07-01 12:00:00", UTC. */
static int
time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int n = -1;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
		    &tm.tm_mday, &n) != 3 || n != 10)
			return -1;
	} else if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n != 19 || strlen(s) != 19)
		return -1;
	if (s[4] != '-' || s[7] != '-' || strspn(s, "0123456789-: ") !=
	    strlen(s) || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || tm.tm_year < 1970)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	t = timegm(&tm);
	*out = (int64_t)t;
	return 0;
}

static char *
path_expand(const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	const char *home = getenv("HOME");

	if (strncmp(p, "~/", 2) == 0 && home != NULL) {
		strbuf_addf(&sb, "%s/%s", home, p + 2);
		return strbuf_detach(&sb, NULL);
	}
	return xstrdup(p);
}

/* "4k", "1g": a size as a person writes it */
static void
size_format(struct strbuf *out, int64_t v)
{
	static const char units[] = "gmk";
	int i;

	for (i = 0; i < 3; i++)
		if (v != 0 && v % ((int64_t)1 << (10 * (3 - i))) == 0) {
			strbuf_addf(out, "%lld%c",
			    (long long)(v >> (10 * (3 - i))), units[i]);
			return;
		}
	strbuf_addf(out, "%lld", (long long)v);
}

/* The string value v of key k, checked; NULL and a problem if bad. */
static char *
string(struct ld *ld, const struct key *k, const char *v)
{
	const char *why = NULL;

	switch (k->type) {
	case T_GITURL:
		why = giturl_bad(v);
		break;
	case T_HTTPURL:
		why = httpurl_bad(v);
		break;
	case T_BRANCH:
		why = branch_bad(v);
		break;
	case T_PROJECT:
		why = project_bad(v);
		break;
	case T_ENV:
		why = env_bad(v);
		break;
	case T_DIR:
		why = dir_bad(v);
		break;
	case T_CMD:
		if (*v == '\0' || !printable(v, 1))
			why = "want a command line";
		break;
	case T_PATH:
		if (*v == '\0' || !printable(v, 0))
			why = "want a file name";
		break;
	default:
		break;
	}
	if (why != NULL) {
		/* a URL may hold a password: say which key, not the value */
		if (k->type == T_HTTPURL && strchr(v, '@') != NULL)
			problem(ld, "%s: %s", k->name, why);
		else
			problem(ld, "%s '%s': %s", k->name, v, why);
		return NULL;
	}
	return k->type == T_PATH ? path_expand(v) : xstrdup(v);
}

/* A number-like value into *(int64_t or uint64_t *)p; problem if bad. */
static void
number(struct ld *ld, const struct key *k, const char *v, void *p)
{
	struct strbuf want = STRBUF_INIT;
	int64_t x = 0;
	uint64_t u;
	int ok = 0;

	switch (k->type) {
	case T_BOOL:
		if ((ok = *v == '\0' || !strcasecmp(v, "true") ||
		    !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
		    !strcmp(v, "1")))
			x = 1;
		else
			ok = !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
			    !strcasecmp(v, "off") || !strcmp(v, "0");
		strbuf_addstr(&want, "want true or false");
		break;
	case T_NUM:
		ok = num_parse_i64(v, k->min, k->max, &x) == 0;
		strbuf_addf(&want, "want a whole number from %lld to %lld",
		    (long long)k->min, (long long)k->max);
		break;
	case T_DUR:
		ok = num_parse_duration(v, k->min, k->max, &x) == 0;
		strbuf_addstr(&want, "want a duration from ");
		num_format_duration(&want, k->min);
		strbuf_addstr(&want, " to ");
		num_format_duration(&want, k->max);
		break;
	case T_SIZE:
		if ((ok = num_parse_size(v, (uint64_t)k->min,
		    (uint64_t)k->max, &u) == 0))
			*(uint64_t *)p = u;
		strbuf_addstr(&want, "want a size from ");
		size_format(&want, k->min);
		strbuf_addstr(&want, " to ");
		size_format(&want, k->max);
		break;
	case T_TIME:
		ok = time_parse(v, &x) == 0;
		strbuf_addstr(&want, "want YYYY-MM-DD or 'YYYY-MM-DD "
		    "HH:MM:SS' (UTC)");
		break;
	case T_POOL:
		if ((ok = !strcmp(v, "static")))
			x = POOL_STATIC;
		else if ((ok = !strcmp(v, "command")))
			x = POOL_COMMAND;
		else if ((ok = !strcmp(v, "reverse")))
			x = POOL_REVERSE;
		strbuf_addstr(&want, "want static, command or reverse");
		break;
	default:
		break;
	}
	if (!ok)
		problem(ld, "%s '%s': %s", k->name, v, want.buf);
	else if (k->type == T_POOL)
		*(enum pool_kind *)p = (enum pool_kind)x;
	else if (k->type != T_SIZE)
		*(int64_t *)p = x;
	strbuf_release(&want);
}

/* The key's values: config_get_all's array is scratch, so copy it. */
static size_t
values(struct ld *ld, const char *key, const char ***out)
{
	const char **v;
	size_t n;

	strbuf_reset(&ld->k);
	if (ld->name != NULL)
		strbuf_addf(&ld->k, "%s.%s.%s", ld->sec, ld->name, key);
	else
		strbuf_addf(&ld->k, "%s.%s", ld->sec, key);
	n = config_get_all(ld->c, ld->k.buf, &v);
	*out = xcalloc(n + 1, sizeof(**out));
	if (n > 0)
		memcpy(*out, v, n * sizeof(*v));
	return n;
}

/* The last value of key, or NULL. */
static const char *
lastval(struct ld *ld, const char *key)
{
	const char **v, *last = NULL;
	size_t n = values(ld, key, &v);

	if (n > 0)
		last = v[n - 1];
	free(v);
	return last;
}

/* The same, and a problem when a key of one value is given twice. */
static const char *
one(struct ld *ld, const char *key)
{
	const char **v, *last = NULL;
	size_t n = values(ld, key, &v);

	if (n > 1)
		problem(ld, "%s given %zu times", key, n);
	if (n > 0)
		last = v[n - 1];
	free(v);
	return last;
}

/* Fill obj from the section's keys; defaults for those not given. */
static void
fill(struct ld *ld, const struct section *s, void *obj)
{
	const struct key *k;
	const char **v, *one_v;
	char *p = obj, **arr, *x;
	size_t i, j, n;

	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		if (k->multi) {
			n = values(ld, k->name, &v);
			arr = xcalloc(n + 1, sizeof(*arr));
			*(char ***)(p + k->off) = arr;
			for (j = 0; j < n; j++)
				if ((x = string(ld, k, v[j])) != NULL)
					arr[(*(size_t *)(p + k->noff))++] = x;
			free(v);
			continue;
		}
		one_v = one(ld, k->name);
		switch (k->type) {
		case T_REF:
			break;
		case T_BOOL: case T_NUM: case T_DUR: case T_TIME: case T_POOL:
			if (k->type == T_POOL)
				*(enum pool_kind *)(p + k->off) =
				    (enum pool_kind)k->def;
			else
				*(int64_t *)(p + k->off) = k->def;
			if (one_v != NULL)
				number(ld, k, one_v, p + k->off);
			break;
		case T_SIZE:
			*(uint64_t *)(p + k->off) = (uint64_t)k->def;
			if (one_v != NULL)
				number(ld, k, one_v, p + k->off);
			break;
		default:
			if (one_v != NULL)
				*(char **)(p + k->off) = string(ld, k, one_v);
			break;
		}
	}
}

static void
check_repo(struct ld *ld, void *obj)
{
	struct repo_conf *r = obj;

	if (r->upstream == NULL && lastval(ld, "upstream") == NULL)
		problem(ld, "no upstream");
}

static void
check_gerrit(struct ld *ld, void *obj)
{
	struct gerrit_conf *g = obj;
	const char *host, *end, *colon;
	size_t n;

	g->has_since = lastval(ld, "since") != NULL;
	if (g->gitcookies != NULL && access(g->gitcookies, R_OK) < 0)
		problem(ld, "gitcookies '%s': %s", g->gitcookies,
		    strerror(errno));
	if (g->url == NULL) {
		if (lastval(ld, "url") == NULL)
			problem(ld, "no url");
		return;
	}
	n = strlen(g->url);
	while (n > 0 && g->url[n - 1] == '/')
		g->url[--n] = '\0';
	g->https = strncmp(g->url, "https://", 8) == 0;
	host = g->url + (g->https ? 8 : 7);
	end = host + strcspn(host, "/");
	colon = memchr(host, ':', (size_t)(end - host));
	g->host = xmemdupz(host, (size_t)((colon != NULL ? colon : end) -
	    host));
	g->path = xstrdup(end);
}

static void
check_hosttype(struct ld *ld, void *obj)
{
	struct hosttype_conf *h = obj;
	const char *v = lastval(ld, "pool");

	if (v == NULL)
		problem(ld, "no pool: want static, command or reverse");
	if (v == NULL || (strcmp(v, "static") != 0 &&
	    strcmp(v, "command") != 0 && strcmp(v, "reverse") != 0))
		return;		/* its keys can be checked against no pool */
	/* keys of another kind of pool are a mistake, not a no-op */
	if (h->pool != POOL_STATIC) {
		if (h->nbuildlet > 0)
			problem(ld, "buildlet: only for pool static");
		if (h->password_file != NULL)
			problem(ld, "password-file: only for pool static");
	}
	if (h->pool != POOL_COMMAND) {
		static const char *const cmdkeys[] = { "create", "destroy",
		    "max", "idle" };
		size_t i;

		for (i = 0; i < ARRAY_SIZE(cmdkeys); i++)
			if (lastval(ld, cmdkeys[i]) != NULL)
				problem(ld, "%s: only for pool command",
				    cmdkeys[i]);
	}
	if (h->pool == POOL_STATIC && lastval(ld, "buildlet") == NULL)
		problem(ld, "pool static needs a buildlet URL");
	if (h->pool == POOL_COMMAND && lastval(ld, "create") == NULL)
		problem(ld, "pool command needs a create command");
}

static void
check_builder(struct ld *ld, void *obj)
{
	struct builder_conf *b = obj;
	const char *h, *r;

	if ((h = lastval(ld, "hosttype")) == NULL)
		problem(ld, "no hosttype");
	else if ((b->hosttype = farmconf_hosttype(ld->fc, h)) == NULL)
		problem(ld, "hosttype '%s' is not defined", h);
	if ((r = lastval(ld, "repo")) != NULL &&
	    (b->repo = farmconf_repo(ld->fc, r)) == NULL)
		problem(ld, "repo '%s' is not defined", r);
	if (r != NULL && b->nrun == 0)
		problem(ld, "repo '%s' but no run steps", r);
	if (r == NULL && b->nrun > 0)
		problem(ld, "run steps but no repo");
	if (r == NULL && b->try)
		problem(ld, "try without a repo");
}

static const struct section sections[] = {
	{ "farm", FC_FARM, 0, farm_keys, ARRAY_SIZE(farm_keys), 0, 0, 0,
	    NULL },
	{ "dashboard", FC_FARM, 0, dashboard_keys, ARRAY_SIZE(dashboard_keys),
	    0, 0, 0, NULL },
	{ "repo", FC_REPO, 1, repo_keys, ARRAY_SIZE(repo_keys),
	    O(farmconf, repos), O(farmconf, nrepos), sizeof(struct repo_conf),
	    check_repo },
	{ "gerrit", FC_GERRIT, 1, gerrit_keys, ARRAY_SIZE(gerrit_keys),
	    O(farmconf, gerrits), O(farmconf, ngerrits),
	    sizeof(struct gerrit_conf), check_gerrit },
	{ "hosttype", FC_HOSTTYPE, 1, hosttype_keys,
	    ARRAY_SIZE(hosttype_keys), O(farmconf, hosttypes),
	    O(farmconf, nhosttypes), sizeof(struct hosttype_conf),
	    check_hosttype },
	/* after hosttype and repo: it refers to them */
	{ "builder", FC_BUILDER, 1, builder_keys, ARRAY_SIZE(builder_keys),
	    O(farmconf, builders), O(farmconf, nbuilders),
	    sizeof(struct builder_conf), check_builder },
};

static void
load_section(struct ld *ld, const struct section *s)
{
	const char **v;
	char **names, *base;
	size_t n, i;

	ld->sec = s->name;
	ld->bit = s->bit;
	ld->name = NULL;
	if (!s->named) {
		fill(ld, s, ld->fc);
		return;
	}
	/* config_subsections' array is scratch: copy the names first */
	n = config_subsections(ld->c, s->name, &v);
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = xstrdup(v[i]);
	base = xcalloc(n + 1, s->size);
	*(void **)((char *)ld->fc + s->arr) = base;
	*(size_t *)((char *)ld->fc + s->n) = n;
	for (i = 0; i < n; i++) {
		void *obj = base + i * s->size;

		*(char **)obj = names[i];	/* the name is the first member */
		ld->name = names[i];
		if (!name_ok(names[i]))
			problem(ld, "bad name: want 1 to 64 letters, digits, "
			    "'.', '_' or '-', not starting with '.' or '-'");
		fill(ld, s, obj);
		s->check(ld, obj);
	}
	ld->name = NULL;
	free(names);
}

/* Checks across sections, once all are read. */
static void
check_across(struct ld *ld)
{
	struct farmconf *fc = ld->fc;
	size_t i, j;

	ld->sec = "gerrit";
	ld->bit = FC_GERRIT;
	for (i = 0; i < fc->ngerrits; i++)
		for (j = 0; j < i; j++) {
			if (fc->gerrits[i].url == NULL ||
			    fc->gerrits[j].url == NULL ||
			    strcmp(fc->gerrits[i].url, fc->gerrits[j].url) != 0)
				continue;
			ld->name = fc->gerrits[i].name;
			problem(ld, "url '%s': same as gerrit \"%s\"",
			    fc->gerrits[i].url, fc->gerrits[j].name);
			break;
		}
	ld->sec = "repo";
	ld->bit = FC_REPO;
	for (i = 0; i < fc->nrepos; i++)
		for (j = 0; j < i; j++) {
			if (fc->repos[i].gerrit_project == NULL ||
			    fc->repos[j].gerrit_project == NULL ||
			    strcmp(fc->repos[i].gerrit_project,
			    fc->repos[j].gerrit_project) != 0)
				continue;
			ld->name = fc->repos[i].name;
			problem(ld, "gerrit-project '%s': same as repo \"%s\"",
			    fc->repos[i].gerrit_project, fc->repos[j].name);
			break;
		}
	ld->name = NULL;
	/* each repo's builders and TryBot set, in file order */
	for (i = 0; i < fc->nrepos; i++) {
		struct repo_conf *r = &fc->repos[i];

		r->builders = xcalloc(fc->nbuilders + 1, sizeof(*r->builders));
		r->trybuilders = xcalloc(fc->nbuilders + 1,
		    sizeof(*r->trybuilders));
		for (j = 0; j < fc->nbuilders; j++) {
			if (fc->builders[j].repo != r)
				continue;
			r->builders[r->nbuilders++] = &fc->builders[j];
			if (fc->builders[j].try)
				r->trybuilders[r->ntrybuilders++] =
				    &fc->builders[j];
		}
	}
}

static const struct section *
section_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sections); i++)
		if (strncmp(sections[i].name, name, len) == 0 &&
		    sections[i].name[len] == '\0')
			return &sections[i];
	return NULL;
}

/* A line in warn, once each: a key may be set many times. */
static void
warn_once(struct strbuf *warn, const char *path, const struct strbuf *what)
{
	struct strbuf line = STRBUF_INIT;
	const char *p, *nl;

	strbuf_addf(&line, "config '%s': ", path);
	log_escape(&line, what->buf, what->len);
	strbuf_addstr(&line, " (ignored)\n");
	for (p = warn->buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if ((size_t)(nl + 1 - p) == line.len &&
		    strncmp(p, line.buf, line.len) == 0)
			break;
	if (nl == NULL)
		strbuf_add(warn, line.buf, line.len);
	strbuf_release(&line);
}

/* The sections and keys that buildfarm.conf(5) does not list. */
static void
unknown(const struct config *c, const char *path, struct strbuf *warn)
{
	struct strbuf what = STRBUF_INIT;
	const struct section *s;
	const char **names;
	size_t i, j, n = config_names(c, &names);

	for (i = 0; i < n; i++) {
		const char *nm = names[i], *dot = strchr(nm, '.');
		const char *last = strrchr(nm, '.');
		int named;

		if (dot == NULL)
			continue;	/* libgit2 gives none such */
		named = last != dot;
		strbuf_reset(&what);
		if ((s = section_find(nm, (size_t)(dot - nm))) == NULL) {
			strbuf_addf(&what, "unknown section [%.*s]",
			    (int)(dot - nm), nm);
			warn_once(warn, path, &what);
			continue;
		}
		if (named != s->named) {
			strbuf_addf(&what, named ? "[%s] takes no name: " :
			    "[%s] needs a name: ", s->name);
		} else {
			for (j = 0; j < s->nkeys; j++)
				if (strcmp(s->keys[j].name, last + 1) == 0)
					break;
			if (j < s->nkeys)
				continue;
			strbuf_addf(&what, "unknown key '%s' in ", last + 1);
		}
		/* where, as the file says it: [sec] or [sec "NAME"] */
		if (named)
			strbuf_addf(&what, "[%s \"%.*s\"]", s->name,
			    (int)(last - dot - 1), dot + 1);
		else if (s->named)
			strbuf_addf(&what, "[%s \"NAME\"]", s->name);
		else
			strbuf_addf(&what, "[%s]", s->name);
		warn_once(warn, path, &what);
	}
	strbuf_release(&what);
}

int
farmconf_load(struct farmconf **fcp, const char *dir, int want,
    struct strbuf *warn, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct ld ld;
	size_t i;
	int rc;

	*fcp = NULL;
	memset(&ld, 0, sizeof(ld));
	strbuf_init(&ld.k, 0);
	farm_place(&path, dir, FARM_CONFIG);
	if ((rc = config_load(&ld.c, path.buf, 0, err)) != RC_OK) {
		strbuf_addch(err, '\n');
		strbuf_release(&path);
		return rc;
	}
	ld.fc = xcalloc(1, sizeof(*ld.fc));
	ld.fc->path = strbuf_detach(&path, NULL);
	ld.err = err;
	ld.want = want;
	if (want & FC_BUILDER)
		ld.want |= FC_HOSTTYPE | FC_REPO;
	unknown(ld.c, ld.fc->path, warn);
	for (i = 0; i < ARRAY_SIZE(sections); i++)
		load_section(&ld, &sections[i]);
	check_across(&ld);
	config_free(ld.c);
	strbuf_release(&ld.k);
	if (ld.nbad > 0) {
		strbuf_addf(err, "config '%s': %zu problem%s\n", ld.fc->path,
		    ld.nbad, ld.nbad == 1 ? "" : "s");
		farmconf_free(ld.fc);
		return RC_PERM;
	}
	*fcp = ld.fc;
	return RC_OK;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
farmconf_free(struct farmconf *fc)
{
	size_t i;

	if (fc == NULL)
		return;
	for (i = 0; i < fc->nrepos; i++) {
		struct repo_conf *r = &fc->repos[i];

		free(r->name);
		free(r->upstream);
		free_strings(r->push, r->npush);
		free_strings(r->branch, r->nbranch);
		free(r->credentials);
		free(r->sshkey);
		free(r->knownhosts);
		free(r->gerrit_project);
		free(r->builders);
		free(r->trybuilders);
	}
	for (i = 0; i < fc->ngerrits; i++) {
		struct gerrit_conf *g = &fc->gerrits[i];

		free(g->name);
		free(g->url);
		free(g->host);
		free(g->path);
		free_strings(g->projects, g->nprojects);
		free(g->gitcookies);
	}
	for (i = 0; i < fc->nhosttypes; i++) {
		struct hosttype_conf *h = &fc->hosttypes[i];

		free(h->name);
		free_strings(h->buildlet, h->nbuildlet);
		free(h->password_file);
		free(h->create);
		free(h->destroy);
	}
	for (i = 0; i < fc->nbuilders; i++) {
		struct builder_conf *b = &fc->builders[i];

		free(b->name);
		free_strings(b->env, b->nenv);
		free_strings(b->run, b->nrun);
		free(b->dir);
	}
	free(fc->repos);
	free(fc->gerrits);
	free(fc->hosttypes);
	free(fc->builders);
	free(fc->url);
	free(fc->source);
	free(fc->dashboard_dir);
	free(fc->path);
	free(fc);
}

/* Every named section's struct starts with its char *name. */
static const void *
by_name(const void *arr, size_t n, size_t size, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *p = (const char *)arr + i * size;

		if (strcmp(*(char *const *)p, name) == 0)
			return p;
	}
	return NULL;
}

const struct repo_conf *
farmconf_repo(const struct farmconf *fc, const char *name)
{
	return by_name(fc->repos, fc->nrepos, sizeof(*fc->repos), name);
}

const struct repo_conf *
farmconf_repo_for_project(const struct farmconf *fc, const char *project)
{
	const struct repo_conf *r;
	size_t i;

	for (i = 0; i < fc->nrepos; i++)
		if (fc->repos[i].gerrit_project != NULL &&
		    strcmp(fc->repos[i].gerrit_project, project) == 0)
			return &fc->repos[i];
	if ((r = farmconf_repo(fc, project)) != NULL &&
	    r->gerrit_project == NULL)
		return r;
	return NULL;
}

const struct gerrit_conf *
farmconf_gerrit(const struct farmconf *fc, const char *name)
{
	return by_name(fc->gerrits, fc->ngerrits, sizeof(*fc->gerrits), name);
}

const struct hosttype_conf *
farmconf_hosttype(const struct farmconf *fc, const char *name)
{
	return by_name(fc->hosttypes, fc->nhosttypes, sizeof(*fc->hosttypes),
	    name);
}

const struct builder_conf *
farmconf_builder(const struct farmconf *fc, const char *name)
{
	return by_name(fc->builders, fc->nbuilders, sizeof(*fc->builders),
	    name);
}

void
farmconf_www(struct strbuf *out, const struct farmconf *fc, const char *dir)
{
	const char *d = fc != NULL ? fc->dashboard_dir : NULL;

	if (d == NULL)
		farm_place(out, dir, FARM_WWW);
	else if (*d == '/')
		strbuf_addstr(out, d);
	else
		strbuf_addf(out, "%s/%s", dir, d);
}
