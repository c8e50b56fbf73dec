#include "compat.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "json.h"
#include "strbuf.h"
#include "xmalloc.h"

/* Parse a literal; NULL on error (err then says why). */
static struct json *
parse(const char *s, struct strbuf *err)
{
	strbuf_reset(err);
	return json_parse(s, strlen(s), err);
}

/* json_dump(j) as a string, for check_str */
static const char *
dump(const struct json *j)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	json_dump(&sb, j);
	return sb.buf;
}

static void
t_parse_errors(void)
{
	static const char *bad[] = {
		"", "{", "[1,]", "{\"a\" 1}", "{\"a\":1} x", "nul", "'x'",
		"\"unterminated", "[1] [2]", "\"bad \xff byte\"",
		"\"nul \\u0000 inside\"", "01",
	};
	struct strbuf err = STRBUF_INIT;
	struct json *j;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		j = parse(bad[i], &err);
		if (!check(j == NULL))
			test_msg("accepted '%s'", bad[i]);
		json_free(j);
		if (!check(strncmp(err.buf, "line 1 column ", 14) == 0))
			test_msg("err for '%s': '%s'", bad[i], err.buf);
	}
	/* the position is the error's */
	j = parse("{\n  \"a\": 1,\n  \"b\": ]\n}", &err);
	check(j == NULL);
	check(strncmp(err.buf, "line 3 column ", 14) == 0);
	strbuf_release(&err);
}

static void
t_duplicates(void)
{
	struct strbuf err = STRBUF_INIT;
	struct json *j;

	j = parse("{\"a\":1,\"b\":2,\"a\":3}", &err);
	check(j == NULL);
	check(strstr(err.buf, "duplicate") != NULL);
	/* also in nested objects */
	j = parse("[{\"x\":{\"k\":1,\"k\":1}}]", &err);
	check(j == NULL);
	/* the same key in different objects is fine */
	j = parse("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", &err);
	check(j != NULL);
	check_str(err.buf, "");
	json_free(j);
	strbuf_release(&err);
}

static void
t_scalars(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct json *j;
	int64_t v = 0;
	size_t len = 0;

	j = parse("42", &err);
	check(j != NULL && json_kind(j) == JK_INT);
	check_int(json_int(j), ==, 42);
	json_free(j);
	j = parse("-9223372036854775808", &err);
	check(json_get_int(j, &v) == 1 && v == INT64_MIN);
	json_free(j);
	j = parse("3.0", &err);
	check_int(json_kind(j), ==, JK_REAL);
	check_int(json_get_int(j, &v), ==, 1);
	check_int(v, ==, 3);
	json_free(j);
	j = parse("3.5", &err);
	v = 7;
	check_int(json_get_int(j, &v), ==, 0);
	check_int(v, ==, 7);
	check_int(json_int(j), ==, 0);
	json_free(j);
	j = parse("\"caf\\u00e9\"", &err);
	check_str(json_str(j, &len), "caf\xc3\xa9");
	check_int(len, ==, 5);
	check_int(json_get_int(j, &v), ==, 0);
	check(json_str(NULL, NULL) == NULL);
	json_free(j);
	j = parse("true", &err);
	check_int(json_kind(j), ==, JK_TRUE);
	check(json_str(j, NULL) == NULL);
	json_free(j);
	j = parse(" null ", &err);
	check_int(json_kind(j), ==, JK_NULL);
	check_str(json_kind_name(json_kind(j)), "null");
	json_free(j);
	check_str(json_kind_name(JK_OBJECT), "object");
	check_str(json_kind_name(JK_INT), "integer");
	check_str(json_kind_name((enum json_kind)99), "?");
	check_int(json_int(NULL), ==, 0);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
t_dump(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct json *o, *a, *in, *j;

	o = json_new_object();
	json_set_int(o, "zeta", -5);
	json_set_str(o, "alpha", "x\"y\\z\n\x01");
	a = json_new_array();
	json_append(a, json_new_int(1));
	json_append(a, json_new_null());
	json_append(a, json_new_bool(0));
	json_append(a, json_new_str("caf\xc3\xa9"));
	json_set(o, "mid", a);
	in = json_new_object();
	json_set_bool(in, "y", 1);
	json_set_bool(in, "b", 0);
	json_set(o, "Upper", in);
	/* sorted (bytewise), compact, escaped, UTF-8 as is, no newline */
	check_str(dump(o), "{\"Upper\":{\"b\":false,\"y\":true},"
	    "\"alpha\":\"x\\\"y\\\\z\\n\\u0001\","
	    "\"mid\":[1,null,false,\"caf\xc3\xa9\"],\"zeta\":-5}");
	check_int(json_object_len(o), ==, 4);
	check_int(json_array_len(a), ==, 4);
	check_int(json_array_len(o), ==, 0);
	check_int(json_object_len(a), ==, 0);
	/* replacing and deleting keys */
	json_set_int(o, "zeta", 6);
	json_del(o, "Upper");
	json_del(o, "absent");
	check_str(dump(o), "{\"alpha\":\"x\\\"y\\\\z\\n\\u0001\","
	    "\"mid\":[1,null,false,\"caf\xc3\xa9\"],\"zeta\":6}");
	/* parse and dump is the canonical form */
	j = parse(" { \"z\" : [ 1 , 2.5 ] ,\n \"a\" : { } , \"m\":[]} ", &err);
	check_str(dump(j), "{\"a\":{},\"m\":[],\"z\":[1,2.5]}");
	json_free(j);
	/* pretty is for humans: indented, still sorted */
	json_dump_pretty(&sb, in = json_new_object());
	check_str(sb.buf, "{}");
	json_set_int(in, "b", 1);
	json_set_int(in, "a", 2);
	strbuf_reset(&sb);
	json_dump_pretty(&sb, in);
	check_str(sb.buf, "{\n  \"a\": 2,\n  \"b\": 1\n}");
	json_free(in);
	json_free(o);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
t_paths(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct json *j;

	j = parse("{\"labels\":{\"Run-TryBot\":{\"value\":1}},"
	    "\"revs\":[{\"n\":\"first\"},{\"n\":\"second\"}],"
	    "\"m\":[[10,11],[20,21]],\"7\":\"seven\"}", &err);
	check(j != NULL);
	check_int(json_int(json_get_path(j, "labels.Run-TryBot.value")), ==,
	    1);
	check_str(json_str(json_get_path(j, "revs.1.n"), NULL), "second");
	check_str(json_str(json_get_path(j, "revs.0.n"), NULL), "first");
	check_int(json_int(json_get_path(j, "m.1.0")), ==, 20);
	/* digits name an object key in an object */
	check_str(json_str(json_get_path(j, "7"), NULL), "seven");
	check(json_get_path(j, "labels") == json_get(j, "labels"));
	/* misses: absent keys, out of range, non-digits on arrays, */
	/* scalars in the middle, empty components */
	check(json_get_path(j, "labels.Code-Review.value") == NULL);
	check(json_get_path(j, "revs.2.n") == NULL);
	check(json_get_path(j, "revs.x") == NULL);
	check(json_get_path(j, "revs.-1") == NULL);
	check(json_get_path(j, "labels.Run-TryBot.value.x") == NULL);
	check(json_get_path(j, "revs..n") == NULL);
	check(json_get_path(j, "revs.99999999999999999999") == NULL);
	check(json_get(j, "nope") == NULL);
	check(json_get(json_get(j, "revs"), "n") == NULL);
	check(json_get(NULL, "x") == NULL);
	check(json_array_at(json_get(j, "revs"), 5) == NULL);
	check(json_array_at(NULL, 0) == NULL);
	json_free(j);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
t_scalar_text(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct json *j;
	static const struct {
		const char *key, *text;
	} want[] = {
		{ "s", "he said \"hi\"\n" },
		{ "i", "-42" },
		{ "r", "1.5" },
		{ "t", "true" },
		{ "f", "false" },
		{ "n", "null" },
		{ "o", "{\"a\":1,\"b\":[]}" },
		{ "e", "" },
	};
	size_t i;

	j = parse("{\"s\":\"he said \\\"hi\\\"\\n\",\"i\":-42,\"r\":1.5,"
	    "\"t\":true,\"f\":false,\"n\":null,\"o\":{\"b\":[],\"a\":1},"
	    "\"e\":\"\"}", &err);
	check(j != NULL);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "=");	/* appended to */
		json_scalar_text(json_get(j, want[i].key), &sb);
		check_str(sb.buf + 1, want[i].text);
		check_int(sb.buf[0], ==, '=');
	}
	strbuf_reset(&sb);
	json_scalar_text(NULL, &sb);
	check_str(sb.buf, "");
	json_free(j);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
t_strn(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct json *j;
	size_t len = 0;

	/* valid UTF-8 is kept, length and all */
	j = json_new_strn("caf\xc3\xa9 and more", 6);
	check_str(json_str(j, &len), "caf\xc3\xa9 ");
	check_int(len, ==, 6);
	json_free(j);
	/* an invalid byte becomes U+FFFD, ASCII stays */
	j = json_new_strn("ab\xff" "c", 4);
	check_str(json_str(j, &len), "ab\xef\xbf\xbd" "c");
	check_int(len, ==, 6);
	check_str(dump(j), "\"ab\xef\xbf\xbd" "c\"");
	json_free(j);
	/* a sequence cut short, as by a read limit */
	j = json_new_strn("x\xe2\x82", 3);
	check_str(json_str(j, NULL), "x\xef\xbf\xbd\xef\xbf\xbd");
	json_free(j);
	/* a dumped string never holds a raw NUL or newline */
	json_quote(&sb, "a\0b\n\"", 5);
	check_int(sb.len, ==, strlen(sb.buf));
	check(strchr(sb.buf, '\n') == NULL);
	check(sb.buf[0] == '"' && sb.buf[sb.len - 1] == '"');
	strbuf_reset(&sb);
	json_quote(&sb, "q\"\\", 3);
	check_str(sb.buf, "\"q\\\"\\\\\"");
	strbuf_reset(&sb);
	json_quote(&sb, "\xff", 1);
	check_str(sb.buf, "\"\xef\xbf\xbd\"");
	strbuf_release(&sb);
}

static int
collect(const char *key, struct json *val, void *arg)
{
	struct strbuf *sb = arg;

	strbuf_addf(sb, "%s=%lld;", key, (long long)json_int(val));
	return json_int(val) == 99 ? 5 : 0;
}

static void
t_each_ref(void)
{
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct json *j, *a;

	j = parse("{\"c\":3,\"a\":1,\"b\":2}", &err);
	check_int(json_object_each(j, collect, &sb), ==, 0);
	check_str(sb.buf, "a=1;b=2;c=3;");
	json_free(j);
	/* a non-zero return stops the walk and is returned */
	strbuf_reset(&sb);
	j = parse("{\"c\":3,\"a\":99,\"b\":2}", &err);
	check_int(json_object_each(j, collect, &sb), ==, 5);
	check_str(sb.buf, "a=99;");
	check_int(json_object_each(NULL, collect, &sb), ==, 0);
	/* a borrowed value outlives its container with a reference */
	a = json_ref(json_get(j, "c"));
	json_free(j);
	check_int(json_int(a), ==, 3);
	json_free(a);
	json_free(NULL);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void
t_find_real(void)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct json *j;

	j = parse("{\"a\":[1,{\"b\":[2,0.5]}],\"c\":-0,\"d\":1e400}", &err);
	check(j == NULL || json_find_real(j, &path));
	json_free(j);
	strbuf_reset(&path);
	j = parse("{\"a\":[1,{\"b\":[2,0.5]}],\"c\":-0}", &err);
	check_int(json_find_real(j, &path), ==, 1);
	check_str(path.buf, "a.1.b.1");
	json_free(j);
	strbuf_reset(&path);
	j = parse("{\"a\":[1,{\"b\":[2,-5]}],\"c\":-0,\"s\":\"0.5\"}",
	    &err);
	check_int(json_find_real(j, &path), ==, 0);
	check_str(path.buf, "");
	json_free(j);
	j = parse("1.0", &err);
	check_int(json_find_real(j, &path), ==, 1);
	check_str(path.buf, "");
	json_free(j);
	check_int(json_find_real(NULL, &path), ==, 0);
	strbuf_release(&err);
	strbuf_release(&path);
}

/* A literal, parsed; NULL when it does not parse. */
static struct json *
P(const char *s)
{
	struct strbuf err = STRBUF_INIT;
	struct json *j = json_parse(s, strlen(s), &err);

	strbuf_release(&err);
	return j;
}

/* scratch mode in a thread: values intact while alive, big ones fit */
static void *
scratch_thread(void *arg)
{
	struct strbuf out = STRBUF_INIT, big = STRBUF_INIT;
	struct json *kept, *j, *outside = arg;
	int i, *ok = xcalloc(1, sizeof(*ok));

	*ok = 1;
	json_scratch_begin();
	kept = P("{\"k\":\"kept\",\"n\":[1,2,3]}");
	for (i = 0; i < 20000; i++) {
		j = P("{\"type\":\"x\",\"s\":\"a string long enough to "
		    "need a block of its own\",\"o\":{\"a\":[1,{}]}}");
		json_set_str(j, "i", "v");
		json_free(j);
	}
	/* more than the block: the rest comes from malloc */
	strbuf_addch(&big, '[');
	for (i = 0; i < 100000; i++)
		strbuf_addstr(&big, i ? ",\"xx\"" : "\"xx\"");
	strbuf_addch(&big, ']');
	j = json_parse(big.buf, big.len, &out);
	if (j == NULL || json_array_len(j) != 100000)
		*ok = 0;
	json_free(j);
	json_dump(&out, kept);
	if (strcmp(out.buf, "{\"k\":\"kept\",\"n\":[1,2,3]}") != 0)
		*ok = 0;
	json_free(kept);
	json_free(outside);	/* made before, outside scratch mode */
	json_scratch_end();
	strbuf_release(&out);
	strbuf_release(&big);
	return ok;
}

static void
t_scratch(void)
{
	pthread_t tid[2];
	void *r;
	int i;

	for (i = 0; i < 2; i++)
		check_int(pthread_create(&tid[i], NULL, scratch_thread,
		    P("{\"made\":\"outside\"}")), ==, 0);
	for (i = 0; i < 2; i++) {
		check_int(pthread_join(tid[i], &r), ==, 0);
		check_int(*(int *)r, ==, 1);
		free(r);
	}
}

int
main(void)
{
	TEST(t_parse_errors(), "parse errors: NULL, \"line L column C: ...\"");
	TEST(t_duplicates(), "duplicate keys are rejected, at any depth");
	TEST(t_scalars(), "scalars: kinds, ints, reals, strings");
	TEST(t_dump(), "dump: sorted compact canonical form; pretty");
	TEST(t_paths(), "dotted paths with keys and array indexes");
	TEST(t_scalar_text(), "scalar_text of every kind");
	TEST(t_strn(), "new_strn and quote with invalid UTF-8 and NULs");
	TEST(t_each_ref(), "object_each in key order; json_ref");
	TEST(t_find_real(), "find_real names the first real's path");
	TEST(t_scratch(), "scratch mode: per-thread blocks, rewound when all is freed");
	return test_done();
}
