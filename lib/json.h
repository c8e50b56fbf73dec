/*
 * json.h: JSON values (jansson behind this module; tools see only
 * struct json).
 *
 * Ownership: json_parse and json_new_* return a new reference the caller
 * releases with json_free.  json_get / json_get_path / json_array_at
 * return borrowed references, valid while the container lives.
 * json_set* take ownership of the value they are given (json_set) or
 * copy the scalar (json_set_str, json_set_int, json_set_bool).
 *
 * Text form: json_dump writes compact JSON with object keys sorted and
 * no newline, which is the canonical form of a log record (maintlog(5)).
 * Strings are written as UTF-8; control characters, '"' and '\\' are
 * escaped, so a dumped value never contains a raw newline.
 *
 * Parsing is strict: the whole input must be one JSON value, duplicate
 * object keys and NUL characters in strings are rejected, and text must
 * be valid UTF-8.  Errors go to err as "line L column C: reason".
 */
#ifndef BF_JSON_H
#define BF_JSON_H

#include <stddef.h>
#include <stdint.h>

struct json;
struct strbuf;

enum json_kind {
	JK_OBJECT,
	JK_ARRAY,
	JK_STRING,
	JK_INT,
	JK_REAL,
	JK_TRUE,
	JK_FALSE,
	JK_NULL,
};

struct json *json_parse(const char *buf, size_t len, struct strbuf *err);
void json_free(struct json *j);
struct json *json_ref(struct json *j);	/* one more reference */

/* The kind of j; NULL (an absent value) is JK_NULL. */
enum json_kind json_kind(const struct json *j);
const char *json_kind_name(enum json_kind k);

/* Object access; NULL when absent or j is not an object. */
struct json *json_get(const struct json *obj, const char *key);
/*
 * Dotted path: "labels.Run-TryBot.value".  Each component names an
 * object key; a component of digits also indexes an array.
 */
struct json *json_get_path(const struct json *j, const char *path);

/* Scalars; a wrong kind gives NULL / 0. */
const char *json_str(const struct json *j, size_t *lenp);
int64_t json_int(const struct json *j);
/* 1 and *out set when j is an integer (a real with integral value counts). */
int json_get_int(const struct json *j, int64_t *out);
/*
 * The text a scalar compares as in "field=value": a string's contents
 * (unescaped), or the JSON text of a number, true, false or null.
 * Objects and arrays give their compact JSON.
 */
void json_scalar_text(const struct json *j, struct strbuf *out);
/*
 * Is there a non-integer number (a JSON real: 0.1, 1.0, 1e3) in j, at
 * any depth?  1 and its dotted path ("f.0", as json_get_path reads it;
 * "" for j itself) appended to path, or 0.
 */
int json_find_real(const struct json *j, struct strbuf *path);

size_t json_array_len(const struct json *j);
struct json *json_array_at(const struct json *j, size_t i);
size_t json_object_len(const struct json *j);

struct json *json_new_object(void);
struct json *json_new_array(void);
struct json *json_new_str(const char *s);
/* NUL bytes and invalid UTF-8 sequences become U+FFFD; valid text stays. */
struct json *json_new_strn(const char *s, size_t n);
struct json *json_new_int(int64_t v);
struct json *json_new_bool(int v);
struct json *json_new_null(void);
void json_set(struct json *obj, const char *key, struct json *val);
void json_set_str(struct json *obj, const char *key, const char *s);
void json_set_int(struct json *obj, const char *key, int64_t v);
void json_set_bool(struct json *obj, const char *key, int v);
void json_del(struct json *obj, const char *key);
void json_append(struct json *arr, struct json *val);

/* Iterate an object's keys in sorted order: calls fn for each. */
int json_object_each(const struct json *obj,
    int (*fn)(const char *key, struct json *val, void *arg), void *arg);

/* Append the canonical compact text (sorted keys) of j to out. */
void json_dump(struct strbuf *out, const struct json *j);
/* Same, indented by 2 (for humans). */
void json_dump_pretty(struct strbuf *out, const struct json *j);
/* Append s as a JSON string literal, quotes included. */
void json_quote(struct strbuf *out, const char *s, size_t n);

/*
 * Scratch mode, for a thread that parses, uses and frees many small
 * values one after the other (maintlog append): between
 * json_scratch_begin and json_scratch_end, the library's allocations in
 * this thread are cut from a block of this thread's (256 KiB), and
 * freeing them costs nothing; the block is rewound whenever all that was
 * cut from it is freed.  What does not fit comes from malloc as usual.
 * A value made in scratch mode must be freed in the same thread, and
 * before json_scratch_end (which frees the block).
 */
void json_scratch_begin(void);
void json_scratch_end(void);

#endif
