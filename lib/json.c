#include "compat.h"

#include <stdlib.h>

#include <jansson.h>

#include "json.h"
#include "strbuf.h"
#include "utf8.h"
#include "xmalloc.h"

#define J(x) ((json_t *)(x))
#define W(x) ((struct json *)(x))

/*
 * Scratch mode (json.h).  jansson makes a separate allocation of every
 * node, key, string and hash table, dozens for a record of a few hundred
 * bytes, and malloc and free were a tenth of the instructions of an
 * append.  The allocator is jansson's for the whole process, set before
 * main so that no thread can race with the change; outside scratch mode
 * it is malloc and free.
 */
#define SCRATCH_SIZE (256u << 10)

struct scratch {
	char *base;	/* NULL: not in scratch mode */
	size_t used;
	size_t live;	/* allocations from the block not yet freed */
};
static __thread struct scratch scratch;

static void *
scratch_malloc(size_t n)
{
	struct scratch *s = &scratch;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (s->base == NULL || n > SCRATCH_SIZE - s->used)
		return malloc(n);
	p = s->base + s->used;
	s->used += n;
	s->live++;
	return p;
}

static void
scratch_free(void *p)
{
	struct scratch *s = &scratch;

	if (s->base == NULL || (char *)p < s->base ||
	    (char *)p >= s->base + SCRATCH_SIZE) {
		free(p);
		return;
	}
	if (--s->live == 0)
		s->used = 0;
}

static void __attribute__((constructor))
scratch_init(void)
{
	json_set_alloc_funcs(scratch_malloc, scratch_free);
}

void
json_scratch_begin(void)
{
	if (scratch.base == NULL)
		scratch.base = xmalloc(SCRATCH_SIZE);
}

void
json_scratch_end(void)
{
	free(scratch.base);
	scratch.base = NULL;
}

struct json *
json_parse(const char *buf, size_t len, struct strbuf *err)
{
	json_error_t e;
	json_t *j;

	j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
	if (j == NULL) {
		strbuf_addf(err, "line %d column %d: %s", e.line, e.column,
		    e.text);
		return NULL;
	}
	return W(j);
}

void
json_free(struct json *j)
{
	if (j != NULL)
		json_decref(J(j));
}

struct json *
json_ref(struct json *j)
{
	return W(json_incref(J(j)));
}

enum json_kind
json_kind(const struct json *j)
{
	if (j == NULL)
		return JK_NULL;	/* an absent value reads as null */
	switch (json_typeof(J(j))) {
	case JSON_OBJECT: return JK_OBJECT;
	case JSON_ARRAY: return JK_ARRAY;
	case JSON_STRING: return JK_STRING;
	case JSON_INTEGER: return JK_INT;
	case JSON_REAL: return JK_REAL;
	case JSON_TRUE: return JK_TRUE;
	case JSON_FALSE: return JK_FALSE;
	case JSON_NULL: return JK_NULL;
	}
	return JK_NULL;
}

const char *
json_kind_name(enum json_kind k)
{
	static const char *names[] = {
		"object", "array", "string", "integer", "real", "true",
		"false", "null",
	};

	return (size_t)k < ARRAY_SIZE(names) ? names[k] : "?";
}

struct json *
json_get(const struct json *obj, const char *key)
{
	if (obj == NULL || !json_is_object(J(obj)))
		return NULL;
	return W(json_object_get(J(obj), key));
}

struct json *
json_get_path(const struct json *j, const char *path)
{
	const char *p = path, *dot;
	json_t *cur = J(j);
	char key[256];

	while (cur != NULL) {
		size_t n;

		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (json_is_object(cur))
			cur = json_object_get(cur, key);
		else if (json_is_array(cur) && n > 0 &&
		    strspn(key, "0123456789") == n && n < 10)
			cur = json_array_get(cur, (size_t)atol(key));
		else
			return NULL;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	return W(cur);
}

const char *
json_str(const struct json *j, size_t *lenp)
{
	if (j == NULL || !json_is_string(J(j)))
		return NULL;
	if (lenp != NULL)
		*lenp = json_string_length(J(j));
	return json_string_value(J(j));
}

int64_t
json_int(const struct json *j)
{
	int64_t v = 0;

	(void)json_get_int(j, &v);
	return v;
}

int
json_get_int(const struct json *j, int64_t *out)
{
	double d;

	if (j == NULL)
		return 0;
	if (json_is_integer(J(j))) {
		*out = (int64_t)json_integer_value(J(j));
		return 1;
	}
	if (json_is_real(J(j))) {
		d = json_real_value(J(j));
		if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d) {
			*out = (int64_t)d;
			return 1;
		}
	}
	return 0;
}

void
json_scalar_text(const struct json *j, struct strbuf *out)
{
	if (j == NULL)
		return;
	if (json_is_string(J(j)))
		strbuf_add(out, json_string_value(J(j)),
		    json_string_length(J(j)));
	else
		json_dump(out, j);
}

/* Is there a real in v?  The walk without the path, for the common no. */
static int
has_real(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_real(v))
		return 1;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if ((json_is_array(e) || json_is_object(e) ||
			    json_is_real(e)) && has_real(e))
				return 1;
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			if ((json_is_array(e) || json_is_object(e) ||
			    json_is_real(e)) && has_real(e))
				return 1;
	}
	return 0;
}

int
json_find_real(const struct json *j, struct strbuf *path)
{
	size_t at = path->len, i;
	const char *k;
	json_t *v;

	/* the path is made only on the way to a real, which is rare */
	if (j == NULL || !has_real(J(j)))
		return 0;
	if (json_is_real(J(j)))
		return 1;
	if (json_is_array(J(j))) {
		json_array_foreach(J(j), i, v) {
			strbuf_addf(path, "%s%zu", at ? "." : "", i);
			if (json_find_real(W(v), path))
				return 1;
			strbuf_setlen(path, at);
		}
	} else if (json_is_object(J(j))) {
		json_object_foreach(J(j), k, v) {
			strbuf_addf(path, "%s%s", at ? "." : "", k);
			if (json_find_real(W(v), path))
				return 1;
			strbuf_setlen(path, at);
		}
	}
	return 0;
}

size_t
json_array_len(const struct json *j)
{
	return j != NULL && json_is_array(J(j)) ? json_array_size(J(j)) : 0;
}

struct json *
json_array_at(const struct json *j, size_t i)
{
	return j != NULL ? W(json_array_get(J(j), i)) : NULL;
}

size_t
json_object_len(const struct json *j)
{
	return j != NULL && json_is_object(J(j)) ? json_object_size(J(j)) : 0;
}

static struct json *
chk(json_t *j)
{
	if (j == NULL)
		(void)xmalloc(SIZE_MAX);	/* jansson only fails on ENOMEM */
	return W(j);
}

struct json *json_new_object(void) { return chk(json_object()); }
struct json *json_new_array(void) { return chk(json_array()); }
struct json *json_new_int(int64_t v) { return chk(json_integer(v)); }
struct json *json_new_bool(int v) { return chk(json_boolean(v)); }
struct json *json_new_null(void) { return chk(json_null()); }

struct json *
json_new_str(const char *s)
{
	return json_new_strn(s, strlen(s));
}

struct json *
json_new_strn(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	struct strbuf sb = STRBUF_INIT;
	size_t i, l;

	if (j != NULL)
		return W(j);
	/* NUL or invalid UTF-8: keep every valid sequence, replace the rest */
	for (i = 0; i < n; i += l) {
		l = s[i] != '\0' ? utf8_decode(s + i, n - i, NULL) : 0;
		if (l == 0) {
			strbuf_addstr(&sb, "\xef\xbf\xbd");
			l = 1;
		} else
			strbuf_add(&sb, s + i, l);
	}
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return chk(j);
}

void
json_set(struct json *obj, const char *key, struct json *val)
{
	if (json_object_set_new(J(obj), key, J(val)) < 0)
		(void)xmalloc(SIZE_MAX);
}

void
json_set_str(struct json *obj, const char *key, const char *s)
{
	json_set(obj, key, json_new_str(s));
}

void
json_set_int(struct json *obj, const char *key, int64_t v)
{
	json_set(obj, key, json_new_int(v));
}

void
json_set_bool(struct json *obj, const char *key, int v)
{
	json_set(obj, key, json_new_bool(v));
}

void
json_del(struct json *obj, const char *key)
{
	json_object_del(J(obj), key);
}

void
json_append(struct json *arr, struct json *val)
{
	if (json_array_append_new(J(arr), J(val)) < 0)
		(void)xmalloc(SIZE_MAX);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
json_object_each(const struct json *obj,
    int (*fn)(const char *key, struct json *val, void *arg), void *arg)
{
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0, i;
	int rc = 0;

	if (obj == NULL || !json_is_object(J(obj)))
		return 0;
	keys = xreallocarray(NULL, json_object_size(J(obj)) + 1,
	    sizeof(*keys));
	json_object_foreach(J(obj), k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmpstr);
	for (i = 0; i < n && rc == 0; i++)
		rc = fn(keys[i], W(json_object_get(J(obj), keys[i])), arg);
	free(keys);
	return rc;
}

/*
 * jansson calls this for every token, often a byte or two: while there
 * is room, a plain copy, the NUL written once at the end (dump_end).
 */
static int
dump_cb(const char *buf, size_t size, void *data)
{
	struct strbuf *sb = data;

	if (sb->alloc - sb->len > size) {
		memcpy(sb->buf + sb->len, buf, size);
		sb->len += size;
	} else
		strbuf_add(sb, buf, size);
	return 0;
}

static void
dump_end(struct strbuf *out)
{
	if (out->alloc)
		strbuf_setlen(out, out->len);
}

void
json_dump(struct strbuf *out, const struct json *j)
{
	json_dump_callback(J(j), dump_cb, out,
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(17));
	dump_end(out);
}

void
json_dump_pretty(struct strbuf *out, const struct json *j)
{
	json_dump_callback(J(j), dump_cb, out,
	    JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	dump_end(out);
}

void
json_quote(struct strbuf *out, const char *s, size_t n)
{
	json_t *j = J(json_new_strn(s, n));

	json_dump_callback(j, dump_cb, out, JSON_ENCODE_ANY);
	dump_end(out);
	json_decref(j);
}
