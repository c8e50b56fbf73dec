#include "compat.h"

#include <stdlib.h>
#include <strings.h>

#include "config.h"
#include "git.h"
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

size_t
config_names(const struct config *cc, const char ***names)
{
	struct config *c = (struct config *)cc;
	size_t i;

	GROW(c->vals, c->n + 1, c->avals);
	for (i = 0; i < c->n; i++)
		c->vals[i] = c->e[i].name;
	*names = c->vals;
	return c->n;
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
