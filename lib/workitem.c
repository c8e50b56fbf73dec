#include "compat.h"

#include <stdlib.h>

#include "json.h"
#include "rc.h"
#include "strbuf.h"
#include "workitem.h"
#include "xmalloc.h"

static const char *const kind_names[] = { "post", "try", "manual" };

/* The optional string fields, in no particular order. */
static const struct {
	const char *key;
	size_t off;
} str_fields[] = {
	{ "branch", offsetof(struct work_item, branch) },
	{ "change_id", offsetof(struct work_item, change_id) },
	{ "subject", offsetof(struct work_item, subject) },
	{ "gerrit", offsetof(struct work_item, gerrit) },
	{ "server", offsetof(struct work_item, server) },
};

#define STR_FIELD(wi, i) ((char **)((char *)(wi) + str_fields[i].off))

const char *
workitem_kind_name(enum work_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

void
workitem_release(struct work_item *wi)
{
	size_t i;

	FREE_AND_NULL(wi->repo);
	FREE_AND_NULL(wi->rev);
	FREE_AND_NULL(wi->builder);
	for (i = 0; i < ARRAY_SIZE(str_fields); i++)
		FREE_AND_NULL(*STR_FIELD(wi, i));
	wi->kind = WORK_POST;
	wi->change = wi->patchset = wi->prio = 0;
}

/*
 * The string field key of obj into *out: 0 when absent (and not
 * required), -1 with err set when it is not a string or is missing.
 */
static int
get_str(const struct json *obj, const char *key, int required, char **out,
    struct strbuf *err)
{
	struct json *v = json_get(obj, key);
	const char *s;

	if (v == NULL) {
		if (!required)
			return 0;
		strbuf_addf(err, "missing field '%s'", key);
		return -1;
	}
	if ((s = json_str(v, NULL)) == NULL) {
		strbuf_addf(err, "field '%s': not a string", key);
		return -1;
	}
	*out = xstrdup(s);
	return 0;
}

/* A name (repo, builder): 1 to 256 bytes, no control characters. */
static int
check_name(const char *key, const char *s, struct strbuf *err)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 256) {
		strbuf_addf(err, "field '%s': %s", key, n == 0 ? "empty" :
		    "longer than 256 bytes");
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			strbuf_addf(err, "field '%s': control character",
			    key);
			return -1;
		}
	return 0;
}

static int
check_rev(const char *s, struct strbuf *err)
{
	size_t n = strspn(s, "0123456789abcdef");

	if (s[n] != '\0' || (n != 40 && n != 64)) {
		strbuf_addf(err, "field 'rev': not 40 or 64 lowercase hex "
		    "digits");
		return -1;
	}
	return 0;
}

/* An integer field in [lo, hi]: 0 and *out untouched when absent. */
static int
get_int(const struct json *obj, const char *key, int required, int64_t lo,
    int64_t hi, const char *what, int64_t *out, struct strbuf *err)
{
	struct json *v = json_get(obj, key);
	int64_t n;

	if (v == NULL) {
		if (!required)
			return 0;
		strbuf_addf(err, "missing field '%s'", key);
		return -1;
	}
	if (json_kind(v) != JK_INT || !json_get_int(v, &n) || n < lo ||
	    n > hi) {
		strbuf_addf(err, "field '%s': not %s", key, what);
		return -1;
	}
	*out = n;
	return 0;
}

static int
parse_obj(struct work_item *wi, const struct json *j, struct strbuf *err)
{
	char *kind = NULL;
	size_t i;
	int is_try, r = -1;

	if (json_kind(j) != JK_OBJECT) {
		strbuf_addf(err, "not a JSON object but %s",
		    json_kind_name(json_kind(j)));
		return -1;
	}
	if (get_str(j, "kind", 1, &kind, err) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (strcmp(kind, kind_names[i]) == 0)
			break;
	if (i == ARRAY_SIZE(kind_names)) {
		strbuf_addf(err, "field 'kind': not \"post\", \"try\" or "
		    "\"manual\"");
		goto out;
	}
	wi->kind = (enum work_kind)i;
	is_try = wi->kind == WORK_TRY;
	if (get_str(j, "repo", 1, &wi->repo, err) < 0 ||
	    check_name("repo", wi->repo, err) < 0 ||
	    get_str(j, "rev", 1, &wi->rev, err) < 0 ||
	    check_rev(wi->rev, err) < 0 ||
	    get_str(j, "builder", !is_try, &wi->builder, err) < 0)
		goto out;
	/* "" in a try item is no builder: all of them */
	if (wi->builder != NULL && wi->builder[0] == '\0' && is_try)
		FREE_AND_NULL(wi->builder);
	if (wi->builder != NULL && check_name("builder", wi->builder, err) < 0)
		goto out;
	if (get_int(j, "change", is_try, 1, INT64_MAX, "a positive integer",
	    &wi->change, err) < 0 ||
	    get_int(j, "patchset", is_try, 1, INT64_MAX,
	    "a positive integer", &wi->patchset, err) < 0 ||
	    get_int(j, "prio", 0, -1000, 1000,
	    "an integer from -1000 to 1000", &wi->prio, err) < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(str_fields); i++)
		if (get_str(j, str_fields[i].key, 0, STR_FIELD(wi, i),
		    err) < 0)
			goto out;
	r = 0;
out:
	free(kind);
	return r;
}

int
workitem_parse(struct work_item *wi, const char *buf, size_t len,
    struct strbuf *err)
{
	struct json *j;
	int r;

	workitem_release(wi);
	if (len > WORK_ITEM_MAX) {
		strbuf_addf(err, "work item larger than %d bytes",
		    WORK_ITEM_MAX);
		return RC_PERM;
	}
	if ((j = json_parse(buf, len, err)) == NULL)
		return RC_PERM;
	r = parse_obj(wi, j, err);
	json_free(j);
	if (r < 0) {
		workitem_release(wi);
		return RC_PERM;
	}
	return RC_OK;
}

struct json *
workitem_json(const struct work_item *wi)
{
	struct json *j = json_new_object();
	size_t i;

	json_set_str(j, "kind", workitem_kind_name(wi->kind));
	json_set_str(j, "builder", wi->builder != NULL ? wi->builder : "");
	if (wi->repo != NULL)
		json_set_str(j, "repo", wi->repo);
	if (wi->rev != NULL)
		json_set_str(j, "rev", wi->rev);
	if (wi->change > 0)
		json_set_int(j, "change", wi->change);
	if (wi->patchset > 0)
		json_set_int(j, "patchset", wi->patchset);
	if (wi->prio != 0)
		json_set_int(j, "prio", wi->prio);
	for (i = 0; i < ARRAY_SIZE(str_fields); i++) {
		const char *s = *STR_FIELD(wi, i);

		if (s != NULL)
			json_set_str(j, str_fields[i].key, s);
	}
	return j;
}

void
workitem_encode(const struct work_item *wi, struct strbuf *out)
{
	struct json *j = workitem_json(wi);

	json_dump(out, j);
	strbuf_addch(out, '\n');
	json_free(j);
}
