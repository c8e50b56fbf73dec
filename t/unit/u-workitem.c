#include "compat.h"

#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "json.h"
#include "rc.h"
#include "strbuf.h"
#include "workitem.h"

#define REV "9a1c3e5f7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f01"

/* A try item as pollgerrit writes it. */
static const char try_item[] =
    "{\"branch\":\"master\",\"builder\":\"\",\"change\":101,"
    "\"change_id\":\"I0123\",\"gerrit\":\"go\",\"kind\":\"try\","
    "\"patchset\":1,\"repo\":\"go\",\"rev\":\"" REV "\","
    "\"server\":\"https://go-review.example.org\","
    "\"subject\":\"all: fix \\\"it\\\"\"}\n";

static void
t_try_round_trip(void)
{
	struct work_item wi = WORK_ITEM_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	check_int(workitem_parse(&wi, try_item, strlen(try_item), &err), ==,
	    RC_OK);
	check_str(err.buf, "");
	check_int(wi.kind, ==, WORK_TRY);
	check_str(wi.repo, "go");
	check_str(wi.rev, REV);
	check(wi.builder == NULL);	/* "": every try builder */
	check_int(wi.change, ==, 101);
	check_int(wi.patchset, ==, 1);
	check_str(wi.branch, "master");
	check_str(wi.change_id, "I0123");
	check_str(wi.gerrit, "go");
	check_str(wi.server, "https://go-review.example.org");
	check_str(wi.subject, "all: fix \"it\"");
	check_int(wi.prio, ==, 0);
	workitem_encode(&wi, &out);
	check_str(out.buf, try_item);
	workitem_release(&wi);
	check(wi.repo == NULL && wi.subject == NULL);
	strbuf_release(&err);
	strbuf_release(&out);
}

static void
t_post_round_trip(void)
{
	struct work_item wi = WORK_ITEM_INIT, back = WORK_ITEM_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf again = STRBUF_INIT;

	wi.kind = WORK_POST;
	wi.repo = "net";
	wi.rev = REV;
	wi.builder = "linux-amd64";
	wi.prio = -5;
	workitem_encode(&wi, &out);
	check_str(out.buf, "{\"builder\":\"linux-amd64\",\"kind\":\"post\","
	    "\"prio\":-5,\"repo\":\"net\",\"rev\":\"" REV "\"}\n");
	check_int(workitem_parse(&back, out.buf, out.len, &err), ==, RC_OK);
	check_int(back.kind, ==, WORK_POST);
	check_str(back.builder, "linux-amd64");
	check_int(back.prio, ==, -5);
	check(back.change == 0 && back.branch == NULL);
	workitem_encode(&back, &again);
	check_str(again.buf, out.buf);
	/* unknown fields are ignored and not kept; key order is free */
	strbuf_reset(&out);
	strbuf_addstr(&out, "{\"rev\":\"" REV "\",\"kind\":\"manual\","
	    "\"repo\":\"go\",\"who\":\"adg\",\"builder\":\"b\"}");
	check_int(workitem_parse(&back, out.buf, out.len, &err), ==, RC_OK);
	check_int(back.kind, ==, WORK_MANUAL);
	strbuf_reset(&again);
	workitem_encode(&back, &again);
	check_str(again.buf, "{\"builder\":\"b\",\"kind\":\"manual\","
	    "\"repo\":\"go\",\"rev\":\"" REV "\"}\n");
	/* a named try builder stays */
	strbuf_reset(&out);
	strbuf_addstr(&out, "{\"rev\":\"" REV "\",\"kind\":\"try\","
	    "\"repo\":\"go\",\"builder\":\"b\",\"change\":1,\"patchset\":2}");
	check_int(workitem_parse(&back, out.buf, out.len, &err), ==, RC_OK);
	check_str(back.builder, "b");
	check_str(err.buf, "");
	workitem_release(&back);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&again);
}

/* Each bad item and the start of its message. */
static const struct {
	const char *json, *msg;
} bad[] = {
	{ "[1]", "not a JSON object" },
	{ "{\"kind\":\"try\"", "line 1" },
	{ "{\"repo\":\"go\",\"rev\":\"" REV "\",\"builder\":\"b\"}",
	    "missing field 'kind'" },
	{ "{\"kind\":\"post\",\"rev\":\"" REV "\",\"builder\":\"b\"}",
	    "missing field 'repo'" },
	{ "{\"kind\":\"post\",\"repo\":\"\",\"rev\":\"" REV "\","
	    "\"builder\":\"b\"}", "field 'repo': empty" },
	{ "{\"kind\":\"post\",\"repo\":7,\"rev\":\"" REV "\","
	    "\"builder\":\"b\"}", "field 'repo': not a string" },
	{ "{\"kind\":\"build\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"builder\":\"b\"}", "field 'kind': not \"post\", \"try\" or" },
	{ "{\"kind\":\"POST\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"builder\":\"b\"}", "field 'kind'" },
	{ "{\"kind\":\"post\",\"repo\":\"go\",\"builder\":\"b\"}",
	    "missing field 'rev'" },
	{ "{\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"master\","
	    "\"builder\":\"b\"}", "field 'rev': not 40 or 64" },
	{ "{\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"" REV "\"}",
	    "missing field 'builder'" },
	{ "{\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"builder\":\"\"}", "field 'builder': empty" },
	{ "{\"kind\":\"try\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"patchset\":1}", "missing field 'change'" },
	{ "{\"kind\":\"try\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"change\":1}", "missing field 'patchset'" },
	{ "{\"kind\":\"try\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"change\":1,\"patchset\":0}",
	    "field 'patchset': not a positive integer" },
	{ "{\"kind\":\"try\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"change\":1,\"patchset\":-3}",
	    "field 'patchset': not a positive integer" },
	{ "{\"kind\":\"try\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"change\":1,\"patchset\":\"2\"}",
	    "field 'patchset': not a positive integer" },
	{ "{\"kind\":\"try\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"change\":1,\"patchset\":1.5}",
	    "field 'patchset': not a positive integer" },
	{ "{\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"builder\":\"b\",\"prio\":1001}", "field 'prio'" },
	{ "{\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"" REV "\","
	    "\"builder\":\"b\",\"subject\":null}",
	    "field 'subject': not a string" },
	{ "{\"kind\":\"post\",\"repo\":\"a\\nb\",\"rev\":\"" REV "\","
	    "\"builder\":\"b\"}", "field 'repo': control character" },
};

static void
t_bad(void)
{
	struct work_item wi = WORK_ITEM_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&err);
		if (!check_int(workitem_parse(&wi, bad[i].json,
		    strlen(bad[i].json), &err), ==, RC_PERM) ||
		    !check(strncmp(err.buf, bad[i].msg,
		    strlen(bad[i].msg)) == 0))
			test_msg("item %zu: %s", i, err.buf);
		check(wi.repo == NULL && wi.rev == NULL && wi.builder == NULL);
	}
	strbuf_release(&err);
}

static void
t_oversized(void)
{
	struct work_item wi = WORK_ITEM_INIT;
	struct strbuf err = STRBUF_INIT, big = STRBUF_INIT;
	size_t pad, want;

	strbuf_addstr(&big, "{\"kind\":\"post\",\"repo\":\"go\",\"rev\":\""
	    REV "\",\"builder\":\"b\",\"subject\":\"");
	pad = want = WORK_ITEM_MAX - big.len - 2;
	while (pad-- > 0)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "\"}");
	check_int(big.len, ==, WORK_ITEM_MAX);
	check_int(workitem_parse(&wi, big.buf, big.len, &err), ==, RC_OK);
	check_int(strlen(wi.subject), ==, want);
	strbuf_setlen(&big, big.len - 2);
	strbuf_addstr(&big, "x\"}");
	strbuf_reset(&err);
	check_int(workitem_parse(&wi, big.buf, big.len, &err), ==, RC_PERM);
	check_str(err.buf, "work item larger than 65536 bytes");
	check(wi.subject == NULL);
	strbuf_release(&err);
	strbuf_release(&big);
}

int
main(void)
{
	TEST(t_try_round_trip(), "a try item of pollgerrit: same bytes back");
	TEST(t_post_round_trip(), "post and manual items round trip");
	TEST(t_bad(), "bad items are refused with a clear reason");
	TEST(t_oversized(), "items over WORK_ITEM_MAX are refused");
	return test_done();
}
