#include "compat.h"

#include <stdlib.h>
#include <strings.h>

#include "config.h"
#include "git.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct entry {
	char *name, *value;
};

struct config {
	char *path;
	struct entry *e;
	size_t n, alloc;
	/* scratch arrays handed out by the getters, freed with c */
	const char **vals;
	size_t avals;
	const char **subs;	/* owned strings, nsubs of them */
	size_t nsubs, asubs;
};

static int
add(const char *name, const char *value, void *arg)
{
	struct config *c = arg;

	GROW(c->e, c->n + 1, c->alloc);
	c->e[c->n].name = xstrdup(name);
	c->e[c->n].value = xstrdup(value != NULL ? value : "");
	c->n++;
	return 0;
}

int
config_load(struct config **cp, const char *path, int flags,
    struct strbuf *err)
{
	struct config *c = xcalloc(1, sizeof(*c));
	int rc, enoent;

	c->path = xstrdup(path);
	rc = gitx_config_read(path, add, c, &enoent, err);
	if (rc != RC_OK && enoent && (flags & CONFIG_MISSING_OK)) {
		strbuf_reset(err);
		rc = RC_OK;
	}
	if (rc != RC_OK) {
		config_free(c);
		return rc;
	}
	*cp = c;
	return RC_OK;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->e[i].name);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->vals);
	for (i = 0; i < c->nsubs; i++)
		free((char *)c->subs[i]);
	free(c->subs);
	free(c->path);
	free(c);
}

const char *
config_path(const struct config *c)
{
	return c->path;
}

const char *
config_get(const struct config *c, const char *key)
{
	size_t i;

	for (i = c->n; i > 0; i--)
		if (strcmp(c->e[i - 1].name, key) == 0)
			return c->e[i - 1].value;
	return NULL;
}

size_t
config_get_all(const struct config *cc, const char *key, const char ***vals)
{
	struct config *c = (struct config *)cc;
	size_t i, n = 0;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->e[i].name, key) != 0)
			continue;
		GROW(c->vals, n + 1, c->avals);
		c->vals[n++] = c->e[i].value;
	}
	*vals = c->vals;
	return n;
}

size_t
config_subsections(const struct config *cc, const char *section,
    const char ***names)
{
	struct config *c = (struct config *)cc;
	size_t i, j, n = 0, sl = strlen(section);

	for (i = 0; i < c->nsubs; i++)
		free((char *)c->subs[i]);
	c->nsubs = 0;
	for (i = 0; i < c->n; i++) {
		const char *nm = c->e[i].name, *last;
		size_t len;

		if (strncmp(nm, section, sl) != 0 || nm[sl] != '.')
			continue;
		last = strrchr(nm, '.');
		if (last == nm + sl)
			continue;	/* section.key: no subsection */
		len = (size_t)(last - nm) - sl - 1;
		for (j = 0; j < n; j++)
			if (strlen(c->subs[j]) == len &&
			    strncmp(c->subs[j], nm + sl + 1, len) == 0)
				break;
		if (j < n)
			continue;
		GROW(c->subs, n + 1, c->asubs);
		c->subs[n++] = xmemdupz(nm + sl + 1, len);
		c->nsubs = n;
	}
	*names = c->subs;
	return n;
}

/*
 * buildfarm.conf(5): the sections the farm's tools read, and their
 * keys.  A tool that reads a new key adds it here and to the page.
 */
static const struct {
	const char *section;
	int named;		/* [section "NAME"] rather than [section] */
	const char *const *keys;
} schema[] = {
	{ "farm", 0, (const char *const[]){ "url", NULL } },
	{ "gerrit", 1, (const char *const[]){ "url", "project", "gitcookies",
	    "timeout", "rate", "overlap", "maxbody", "pagesize", "since",
	    NULL } },
	{ "repo", 1, (const char *const[]){ "upstream", "push", "branch",
	    "mirror", "backfill", "timeout", "interval", "credentials",
	    "sshkey", "knownhosts", NULL } },
};

static void
report(struct strbuf *out, size_t *n, const char *line)
{
	const char *p, *nl;
	size_t l = strlen(line);

	/* once each: a key may be set many times */
	for (p = out->buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if ((size_t)(nl - p) == l && strncmp(p, line, l) == 0)
			return;
	strbuf_addstr(out, line);
	strbuf_addch(out, '\n');
	(*n)++;
}

size_t
config_unknown(const struct config *c, struct strbuf *out)
{
	struct strbuf line = STRBUF_INIT;
	size_t i, j, k, n = 0;

	for (i = 0; i < c->n; i++) {
		const char *nm = c->e[i].name, *dot = strchr(nm, '.');
		const char *last = strrchr(nm, '.'), *sec;
		int named;

		if (dot == NULL)
			continue;	/* libgit2 gives none such */
		named = last != dot;
		for (j = 0; j < ARRAY_SIZE(schema); j++)
			if (strncmp(schema[j].section, nm,
			    (size_t)(dot - nm)) == 0 &&
			    schema[j].section[dot - nm] == '\0')
				break;
		strbuf_reset(&line);
		if (j == ARRAY_SIZE(schema)) {
			strbuf_addf(&line, "unknown section [%s]",
			    escn(nm, (size_t)(dot - nm)));
			report(out, &n, line.buf);
			continue;
		}
		sec = schema[j].section;
		if (named != schema[j].named) {
			strbuf_addf(&line, named ? "[%s] takes no name: " :
			    "[%s] needs a name: ", sec);
		} else {
			for (k = 0; schema[j].keys[k] != NULL; k++)
				if (strcmp(schema[j].keys[k], last + 1) == 0)
					break;
			if (schema[j].keys[k] != NULL)
				continue;
			strbuf_addf(&line, "unknown key '%s' in ",
			    esc(last + 1));
		}
		/* where, as the file says it: [sec] or [sec "NAME"] */
		if (named)
			strbuf_addf(&line, "[%s \"%s\"]", sec,
			    escn(dot + 1, (size_t)(last - dot - 1)));
		else if (schema[j].named)
			strbuf_addf(&line, "[%s \"NAME\"]", sec);
		else
			strbuf_addf(&line, "[%s]", sec);
		report(out, &n, line.buf);
	}
	strbuf_release(&line);
	return n;
}

void
config_warn_unknown(const struct config *c)
{
	struct strbuf out = STRBUF_INIT;
	char *p, *nl;

	config_unknown(c, &out);
	for (p = out.buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		log_warnx("config '%s': %s (ignored)", esc(c->path), p);
	}
	strbuf_release(&out);
}

int
config_bool(const struct config *c, const char *key, int def, int *out,
    struct strbuf *err)
{
	const char *v = config_get(c, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (*v == '\0' || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
	    !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else {
		strbuf_addf(err, "config '%s': %s: not a boolean", c->path, key);
		return -1;
	}
	return 0;
}

int
config_int(const struct config *c, const char *key, int64_t min,
    int64_t max, int64_t def, int64_t *out, struct strbuf *err)
{
	const char *v = config_get(c, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (num_parse_i64(v, min, max, out) < 0) {
		strbuf_addf(err, "config '%s': %s: want an integer in "
		    "[%lld, %lld]", c->path, key, (long long)min,
		    (long long)max);
		return -1;
	}
	return 0;
}
