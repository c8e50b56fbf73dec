#include "compat.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "json.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "tap.h"
#include "timefmt.h"

static char dir[64];

static struct json *
rec(const char *text)
{
	struct strbuf err = STRBUF_INIT;
	struct json *j = json_parse(text, strlen(text), &err);

	strbuf_release(&err);
	return j;
}

static int
collect(const char *buf, size_t len, void *arg)
{
	strbuf_add(arg, buf, len);
	return 0;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
t_append_read(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct mlog *l = NULL;
	struct json *r[3];
	struct mlog_cursor cur = { 0, 0 };
	uint64_t first = 0;
	int i;

	check_int(mlog_open(&l, dir, 0, &err), ==, RC_PERM);
	strbuf_reset(&err);
	if (!check_int(mlog_open(&l, dir, MLOG_CREATE, &err), ==, RC_OK))
		return;
	r[0] = rec("{\"z\":1,\"a\":2}");
	r[1] = rec("{\"type\":\"gerrit\"}");
	r[2] = rec("{\"x\":\"\\u00e9\\n\"}");
	check_int(mlog_append(l, r, 3, "git", &first, &err), ==, RC_OK);
	check_int(first, ==, 1);
	for (i = 0; i < 3; i++)
		json_free(r[i]);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check_int(mlog_nsegs(l), ==, 1);
	check_str(mlog_seg(l, 0)->name, "0000.jsonl");
	check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(count_lines(out.buf), ==, 3);
	check(strncmp(out.buf, "{\"a\":2,\"seq\":1,\"time\":\"", 23) == 0);
	check(strstr(out.buf, "\"type\":\"gerrit\"}\n") != NULL);
	check(strstr(out.buf, "{\"seq\":3,") != NULL);
	check(strstr(out.buf, "\"x\":\"\xc3\xa9\\n\"}\n") != NULL);
	check_int(cur.seg, ==, 0);
	check_int(cur.off, ==, (long long)out.len);
	/* nothing new: nothing read */
	strbuf_reset(&out);
	check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(out.len, ==, 0);
	r[0] = rec("[1]");
	check_int(mlog_append(l, r, 1, "git", &first, &err), ==, RC_PERM);
	check(strstr(err.buf, "not a JSON object") != NULL);
	json_free(r[0]);
	strbuf_reset(&err);
	r[0] = rec("{\"a\":1}");
	check_int(mlog_append(l, r, 1, NULL, &first, &err), ==, RC_PERM);
	check(strstr(err.buf, "record has no \"type\"") != NULL);
	json_free(r[0]);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&out);
}

/*
 * The envelope is put into the dumped text where the sorted keys put
 * it: each stored line is what json_dump makes of it parsed again.
 */
static void
t_envelope(void)
{
	static const char *in[] = {
		"{}",
		"{\"a\":{\"seq\":1,\"time\":2},\"zz\":[{\"u\":\"}\"}]}",
		"{\"seq\":\"old\",\"time\":0,\"type\":\"t\",\"x\":1}",
		"{\"se\":1,\"seqq\":2,\"sf\":3,\"tim\":4,\"timea\":5}",
		"{\"s\\\"q\":1,\"s\\u0001\":2,\"s\\\\\":3,\"t\\\"\":4}",
		"{\"s\\u00e9\":\"\\\"}\",\"a\":\"seq\\\":\",\"b\":null}",
		"{\"u\":true,\"v\":-1,\"w\":[]}",
		"{\"a\":false,\"b\":{}}",
	};
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, d = STRBUF_INIT;
	struct strbuf edir = STRBUF_INIT;
	struct json *r[ARRAY_SIZE(in)], *j;
	struct mlog *l = NULL;
	struct mlog_cursor cur = { 0, 0 };
	const char *line, *nl;
	uint64_t first = 0;
	size_t i;

	strbuf_addf(&edir, "%s-envelope", dir);
	if (!check_int(mlog_open(&l, edir.buf, MLOG_CREATE, &err), ==,
	    RC_OK))
		return;
	for (i = 0; i < ARRAY_SIZE(in); i++)
		check((r[i] = rec(in[i])) != NULL);
	check_int(mlog_append(l, r, ARRAY_SIZE(in), "e", &first, &err), ==,
	    RC_OK);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(count_lines(out.buf), ==, ARRAY_SIZE(in));
	for (i = 0, line = out.buf; i < ARRAY_SIZE(in) &&
	    (nl = strchr(line, '\n')) != NULL; i++, line = nl + 1) {
		json_free(r[i]);
		j = json_parse(line, (size_t)(nl - line), &err);
		if (!check(j != NULL))
			break;
		check_int(json_int(json_get(j, "seq")), ==, (long long)i + 1);
		check(json_str(json_get(j, "time"), NULL) != NULL);
		strbuf_reset(&d);
		json_dump(&d, j);
		if (!check(d.len == (size_t)(nl - line) &&
		    memcmp(d.buf, line, d.len) == 0))
			test_msg("record %zu: %.*s", i, (int)(nl - line), line);
		json_free(j);
	}
	check(strstr(out.buf, "{\"a\":{\"seq\":1,\"time\":2},\"seq\":2,") !=
	    NULL);
	check(strstr(out.buf, "\"type\":\"t\",\"x\":1}\n") != NULL);
	check(strstr(out.buf, "\"old\"") == NULL);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&d);
	strbuf_release(&edir);
}

static void
t_seal_seek(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct mlog *l = NULL;
	struct json *r[1];
	struct mlog_cursor cur;
	uint64_t first = 0, s;
	char hex[57];
	int i;

	mlog_open(&l, dir, 0, &err);
	mlog_set_seal_size(l, 300);
	for (i = 0; i < 20; i++) {
		r[0] = rec("{\"type\":\"git\",\"pad\":\"0123456789012345678901234567890123456789\"}");
		check_int(mlog_append(l, r, 1, NULL, &first, &err), ==, RC_OK);
		json_free(r[0]);
	}
	check_int(first, ==, 23);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check_int(mlog_nsegs(l), >, 5);
	for (i = 0; i + 1 < (int)mlog_nsegs(l); i++) {
		const struct mlog_seg *sg = mlog_seg(l, (size_t)i);

		check(sg->sealed);
		check_int(sg->size, <=, 300);
		check_int(mlog_seg_hash(l, (size_t)i, sg->size, hex, &err), ==,
		    RC_OK);
		check_str(hex, sg->sha224);
	}
	check(!mlog_seg(l, mlog_nsegs(l) - 1)->sealed);
	/* seek to every seq and read it back first */
	for (s = 1; s <= 23; s++) {
		check_int(mlog_seek_seq(l, s, &cur, &err), ==, RC_OK);
		strbuf_reset(&out);
		check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
		check_int(count_lines(out.buf), ==, 24 - s);
		check_int(mlog_line_seq(out.buf, (size_t)(strchr(out.buf, '\n') - out.buf)), ==, s);
	}
	/* one segment only */
	cur.seg = 1;
	cur.off = 0;
	strbuf_reset(&out);
	check_int(mlog_read_seg(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(cur.seg, ==, 1);
	check_int((long long)out.len, ==, (long long)mlog_seg(l, 1)->size);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&out);
}

static void
t_torn_tail(void)
{
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT, out = STRBUF_INIT;
	struct mlog *l = NULL;
	struct mlog_cursor cur = { 0, 0 };
	struct json *r[1];
	uint64_t first;
	struct stat st;
	off_t len, before;
	int fd;

	mlog_open(&l, dir, 0, &err);
	mlog_scan(l, &err);
	strbuf_addf(&p, "%s/%s", dir, mlog_seg(l, mlog_nsegs(l) - 1)->name);
	stat(p.buf, &st);
	before = st.st_size;
	fd = open(p.buf, O_WRONLY | O_APPEND);
	check_int(write(fd, "{\"type\":\"git\",\"to", 17), ==, 17);
	close(fd);
	mlog_scan(l, &err);
	check_int(mlog_seg_readable(l, mlog_nsegs(l) - 1, NULL, &len, &err),
	    ==, RC_OK);
	check_int(len, ==, before);
	r[0] = rec("{\"type\":\"git\",\"after\":1}");
	check_int(mlog_append(l, r, 1, NULL, &first, &err), ==, RC_OK);
	json_free(r[0]);
	check_int(first, ==, 24);
	stat(p.buf, &st);
	mlog_scan(l, &err);
	check_int(mlog_seek_seq(l, 24, &cur, &err), ==, RC_OK);
	mlog_read(l, &cur, collect, &out, &err);
	check(strncmp(out.buf, "{\"after\":1,\"seq\":24,", 20) == 0);
	check_int(count_lines(out.buf), ==, 1);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&p);
	strbuf_release(&out);
}

static void
t_foreign(void)
{
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct mlog *l = NULL;
	int fd;

	mlog_open(&l, dir, 0, &err);
	strbuf_addf(&p, "%s/.hidden", dir);
	fd = open(p.buf, O_CREAT | O_WRONLY, 0644);
	close(fd);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	unlink(p.buf);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/00001.jsonl", dir);
	fd = open(p.buf, O_CREAT | O_WRONLY, 0644);
	close(fd);
	check_int(mlog_scan(l, &err), ==, RC_PERM);
	check(strstr(err.buf, "foreign file '00001.jsonl'") != NULL);
	unlink(p.buf);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&p);
}

static void
t_watch(void)
{
	struct strbuf err = STRBUF_INIT;
	struct mlog *l = NULL;
	struct json *r[1];
	uint64_t first;
	pid_t pid;

	mlog_open(&l, dir, 0, &err);
	check_int(mlog_watch(l, &err), ==, RC_OK);
	check_int(mlog_wait(l, 50), ==, 0);
	pid = fork();
	if (pid == 0) {
		struct mlog *l2;

		usleep(100000);
		mlog_open(&l2, dir, 0, &err);
		r[0] = rec("{\"type\":\"git\"}");
		mlog_append(l2, r, 1, NULL, &first, &err);
		_exit(0);
	}
	check_int(mlog_wait(l, 5000), ==, 1);
	waitpid(pid, NULL, 0);
	mlog_close(l);
	strbuf_release(&err);
}

/* mlog_each: collect "seq:type" of each record; stop at seq stop_at */
struct got {
	struct strbuf s;
	uint64_t stop_at;
};

static int
collect_rec(const struct mlog_rec *r, void *arg)
{
	struct got *g = arg;

	strbuf_addf(&g->s, "%llu:%s ", (unsigned long long)r->seq, r->type);
	if (r->line[0] != '{' || r->line[r->len] != '\n' ||
	    r->line[r->len - 1] != '}')
		strbuf_addstr(&g->s, "(bad line) ");
	return r->seq == g->stop_at ? 7 : 0;
}

static void
t_each(void)
{
	char d[96];
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct got g = { STRBUF_INIT, 0 };
	struct mlog_cursor cur = { 0, 0 }, c2;
	struct mlog_sel sel = { NULL, NULL, 0, 0 };
	struct mlog *l = NULL;
	struct json *r[6];
	uint64_t first;
	size_t i;
	int fd;

	snprintf(d, sizeof(d), "%s-each", dir);
	check_int(mlog_open(&l, d, MLOG_CREATE, &err), ==, RC_OK);
	mlog_set_seal_size(l, 120);	/* several segments */
	r[0] = rec("{\"type\":\"git\",\"repo\":\"go\"}");
	r[1] = rec("{\"type\":\"gerrit\",\"x\":{\"type\":\"git\"}}");
	r[2] = rec("{\"type\":\"git-ref\",\"repo\":\"go\"}");
	r[3] = rec("{\"type\":\"git\",\"repo\":\"net\"}");
	r[4] = rec("{\"type\":\"git\",\"repo\":\"go\"}");
	r[5] = rec("{\"type\":\"result\"}");
	check_int(mlog_append(l, r, 6, NULL, &first, &err), ==, RC_OK);
	for (i = 0; i < 6; i++)
		json_free(r[i]);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check(mlog_nsegs(l) > 1);

	check_int(mlog_each(l, &cur, NULL, collect_rec, &g, &err), ==, RC_OK);
	check_str(g.s.buf, "1:git 2:gerrit 3:git-ref 4:git "
	    "5:git 6:result ");

	/* type: top-level only, exact (not git-ref, not the nested one) */
	strbuf_reset(&g.s);
	cur.seg = 0;
	cur.off = 0;
	sel.type = "git";
	check_int(mlog_each(l, &cur, &sel, collect_rec, &g, &err), ==, RC_OK);
	check_str(g.s.buf, "1:git 4:git 5:git ");
	check_int(sel.last, ==, 6);

	/* a literal prefilter with the type; after */
	strbuf_reset(&g.s);
	cur.seg = 0;
	cur.off = 0;
	sel.lit = "\"repo\":\"go\"";
	sel.after = 1;
	check_int(mlog_each(l, &cur, &sel, collect_rec, &g, &err), ==, RC_OK);
	check_str(g.s.buf, "5:git ");
	check_int(sel.last, ==, 6);

	/* a non-zero return stops with the cursor just past that record */
	strbuf_reset(&g.s);
	cur.seg = 0;
	cur.off = 0;
	g.stop_at = 3;
	check_int(mlog_each(l, &cur, NULL, collect_rec, &g, &err), ==, 7);
	check_str(g.s.buf, "1:git 2:gerrit 3:git-ref ");
	strbuf_reset(&g.s);
	g.stop_at = 0;
	check_int(mlog_each(l, &cur, NULL, collect_rec, &g, &err), ==, RC_OK);
	check_str(g.s.buf, "4:git 5:git 6:result ");
	/* at the end: nothing more, cursor unchanged */
	c2 = cur;
	strbuf_reset(&g.s);
	check_int(mlog_each(l, &cur, NULL, collect_rec, &g, &err), ==, RC_OK);
	check_str(g.s.buf, "");
	check_int(cur.seg, ==, c2.seg);
	check_int(cur.off, ==, c2.off);

	/* a repeated seq stops the loop at that line: RC_PERM, named */
	mlog_close(l);
	strbuf_addf(&p, "%s-bad", dir);
	check_int(mkdir(p.buf, 0755), ==, 0);
	strbuf_addstr(&p, "/0000.jsonl");
	fd = open(p.buf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check_int(write(fd, "{\"seq\":1,\"time\":\"t\",\"type\":\"a\"}\n"
	    "{\"seq\":2,\"time\":\"t\",\"type\":\"a\"}\n"
	    "{\"seq\":2,\"time\":\"t\",\"type\":\"a\"}\n", 96), ==, 96);
	close(fd);
	strbuf_setlen(&p, p.len - strlen("/0000.jsonl"));
	check_int(mlog_open(&l, p.buf, 0, &err), ==, RC_OK);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	cur.seg = 0;
	cur.off = 0;
	strbuf_reset(&g.s);
	check_int(mlog_each(l, &cur, NULL, collect_rec, &g, &err), ==, RC_PERM);
	check(strstr(err.buf, "segment 0000 line 3: seq 2 after 2") != NULL);
	check_str(g.s.buf, "1:a 2:a ");
	check_int(cur.off, ==, 64);
	/* a line the filter rules out by its bytes is not looked at */
	strbuf_reset(&err);
	cur.off = 0;
	sel.type = "b";
	sel.lit = NULL;
	sel.after = 0;
	check_int(mlog_each(l, &cur, &sel, collect_rec, &g, &err), ==, RC_OK);
	check_int(sel.last, ==, 2);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&p);
	strbuf_release(&g.s);
}

/* mlog_line_member against jansson on canonical lines, and refusals */
static void
t_line_member(void)
{
	static const char *recs[] = {
		"{\"type\":\"git\",\"seq\":12,\"time\":\"t\"}",
		"{\"a\":\"x\\\"y\",\"b\":\"\\\\\",\"c\":\"\\\\\\\"}{[\","
		    "\"type\":\"r\"}",
		"{\"n\":{\"type\":\"inner\",\"l\":[1,\"]\",{\"x\":[]}]},"
		    "\"type\":\"outer\",\"z\":[\"a,b\",\"}\"]}",
		"{\"e\":{},\"f\":[],\"g\":true,\"h\":null,\"i\":-5,"
		    "\"j\":\"\\n\\u0001\xc3\xa9\"}",
		"{}",
	};
	static const char *keys[] = {
		"type", "seq", "time", "a", "b", "c", "n", "l", "x", "z",
		"e", "f", "g", "h", "i", "j", "inner",
	};
	static const char *bad[] = {
		"", "{", "[1]", "{\"a\":1", "{\"a\"1}", "{\"a\":}",
		"{\"a\":\"x}", "{\"a\":[1}", "{a:1}", "{\"a\":1;\"b\":2}",
	};
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT, want = STRBUF_INIT;
	struct strbuf qk = STRBUF_INIT;
	const char *v;
	size_t i, k, vl;
	int ok = 1, r;

	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct json *j = json_parse(recs[i], strlen(recs[i]), &err);

		check(j != NULL);
		strbuf_reset(&line);
		json_dump(&line, j);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			struct json *m = json_get(j, keys[k]);

			strbuf_reset(&qk);
			json_quote(&qk, keys[k], strlen(keys[k]));
			strbuf_reset(&want);
			if (m != NULL)
				json_dump(&want, m);
			r = mlog_line_member(line.buf, line.len, qk.buf, qk.len,
			    &v, &vl);
			if (r != (m != NULL) || (r == 1 && (vl != want.len ||
			    memcmp(v, want.buf, vl) != 0))) {
				test_msg("line %s key %s: %d", line.buf,
				    keys[k], r);
				ok = 0;
			}
		}
		json_free(j);
	}
	check(ok);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = mlog_line_member(bad[i], strlen(bad[i]), "\"b\"", 3, &v,
		    &vl);
		if (r != -1)
			test_msg("bad line %s: %d", bad[i], r);
		check_int(r, ==, -1);
	}
	strbuf_release(&err);
	strbuf_release(&line);
	strbuf_release(&want);
	strbuf_release(&qk);
}

/* mlog_each with sel->test: "seq:p" parsed, "seq:u" taken unparsed */
static int
collect_test(const struct mlog_rec *r, void *arg)
{
	strbuf_addf(arg, "%llu:%c ", (unsigned long long)r->seq,
	    r->obj != NULL ? 'p' : 'u');
	if (r->obj == NULL && r->type != NULL)
		strbuf_addstr(arg, "(type) ");
	return 0;
}

/* 0 for "skip", 1 for "take", -1 for anything else */
static int
test_by_repo(const char *line, size_t len, void *arg)
{
	(void)arg;
	if (memmem(line, len, "\"repo\":\"skip\"", 13) != NULL)
		return 0;
	if (memmem(line, len, "\"repo\":\"take\"", 13) != NULL)
		return 1;
	return -1;
}

static void
t_each_test(void)
{
	char d[96];
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT, p = STRBUF_INIT;
	struct mlog_cursor cur = { 0, 0 };
	struct mlog_sel sel = { NULL, NULL, 0, 0, 0, test_by_repo };
	const char *two =
	    "{\"repo\":\"take\",\"seq\":2,\"time\":\"t\",\"type\":\"a\"}\n"
	    "{\"repo\":\"take\",\"seq\":2,\"time\":\"t\",\"type\":\"a\"}\n";
	struct mlog *l = NULL;
	struct json *r[5];
	uint64_t first;
	size_t i;
	int fd;

	snprintf(d, sizeof(d), "%s-test", dir);
	check_int(mlog_open(&l, d, MLOG_CREATE, &err), ==, RC_OK);
	r[0] = rec("{\"type\":\"git\",\"repo\":\"take\"}");
	r[1] = rec("{\"type\":\"git\",\"repo\":\"skip\"}");
	r[2] = rec("{\"type\":\"git\",\"repo\":\"other\"}");
	r[3] = rec("{\"type\":\"gerrit\",\"repo\":\"take\"}");
	r[4] = rec("{\"type\":\"git\",\"repo\":\"take\"}");
	check_int(mlog_append(l, r, 5, NULL, &first, &err), ==, RC_OK);
	for (i = 0; i < 5; i++)
		json_free(r[i]);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check_int(mlog_each(l, &cur, &sel, collect_test, &got, &err), ==,
	    RC_OK);
	check_str(got.buf, "1:u 3:p 4:u 5:u ");
	check_int(sel.last, ==, 5);

	/* the type and after hold for records taken unparsed too */
	strbuf_reset(&got);
	cur.off = 0;
	sel.type = "git";
	sel.after = 1;
	check_int(mlog_each(l, &cur, &sel, collect_test, &got, &err), ==,
	    RC_OK);
	check_str(got.buf, "3:p 5:u ");
	check_int(sel.last, ==, 5);
	mlog_close(l);

	/* a seq out of order is parsed, so named, even where test says 1 */
	strbuf_addf(&p, "%s-test-bad", dir);
	check_int(mkdir(p.buf, 0755), ==, 0);
	strbuf_addstr(&p, "/0000.jsonl");
	fd = open(p.buf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	check_int(write(fd, two, strlen(two)), ==, (long long)strlen(two));
	close(fd);
	strbuf_setlen(&p, p.len - strlen("/0000.jsonl"));
	check_int(mlog_open(&l, p.buf, 0, &err), ==, RC_OK);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	cur.off = 0;
	sel.type = NULL;
	sel.after = 0;
	strbuf_reset(&got);
	check_int(mlog_each(l, &cur, &sel, collect_test, &got, &err), ==,
	    RC_PERM);
	check(strstr(err.buf, "segment 0000 line 2: seq 2 after 2") != NULL);
	check_str(got.buf, "2:u ");
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&got);
	strbuf_release(&p);
}

static void
t_check_rec(void)
{
	struct strbuf err = STRBUF_INIT;
	struct json *j;

	j = rec("[1]");
	check_int(mlog_check_rec(j, "git", &err), ==, RC_PERM);
	check_str(err.buf, "not a JSON object");
	json_free(j);
	strbuf_reset(&err);
	j = rec("{\"type\":7}");
	check_int(mlog_check_rec(j, "git", &err), ==, RC_PERM);
	check_str(err.buf, "\"type\" is not a string");
	json_free(j);
	strbuf_reset(&err);
	j = rec("{}");
	check_int(mlog_check_rec(j, NULL, &err), ==, RC_PERM);
	check_str(err.buf, "record has no \"type\"");
	check_int(mlog_check_rec(j, "git", &err), ==, RC_OK);
	strbuf_reset(&err);
	check_int(mlog_check_rec(j, "Bad\n", &err), ==, RC_PERM);
	check_str(err.buf, "bad type 'Bad\\n': want [a-z0-9_.-], at most 64");
	json_free(j);
	check(mlog_valid_type("git-ref"));
	check(mlog_valid_type("a.b_c"));
	check(!mlog_valid_type("-x"));
	check(!mlog_valid_type(""));
	strbuf_release(&err);
}

/* Many threads, each with its own struct mlog, wait on one watch. */
#define NWAITERS 50

struct waiter {
	struct mlog *l;
	int r;
};

static void *
wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->r = mlog_wait(w->l, 20000);
	return NULL;
}

static void
t_watch_shared(void)
{
	struct strbuf err = STRBUF_INIT;
	struct waiter w[NWAITERS];
	pthread_t tid[NWAITERS];
	struct mlog *l2;
	struct json *r[1];
	uint64_t first;
	long long t0;
	int i, fd0 = -1, same = 1;

	for (i = 0; i < NWAITERS; i++) {
		check_int(mlog_open(&w[i].l, dir, 0, &err), ==, RC_OK);
		check_int(mlog_watch(w[i].l, &err), ==, RC_OK);
		if (i == 0)
			fd0 = mlog_watch_fd(w[i].l);
		else if (mlog_watch_fd(w[i].l) != fd0)
			same = 0;
	}
	check(fd0 >= 0);
	check(same);
	check_int(mlog_changed(w[0].l), ==, 0);
	for (i = 0; i < NWAITERS; i++)
		pthread_create(&tid[i], NULL, wait_thread, &w[i]);
	t0 = mono_ms();
	mlog_open(&l2, dir, 0, &err);
	r[0] = rec("{\"type\":\"git\"}");
	check_int(mlog_append(l2, r, 1, NULL, &first, &err), ==, RC_OK);
	json_free(r[0]);
	mlog_close(l2);
	for (i = 0; i < NWAITERS; i++) {
		pthread_join(tid[i], NULL);
		check_int(w[i].r, ==, 1);
	}
	/* woken by the append, not by the 20 s timeout */
	check_int(mono_ms() - t0, <, 10000);
	for (i = 0; i < NWAITERS; i++)
		mlog_close(w[i].l);
	strbuf_release(&err);
}

int
main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/u-mlog.%ld/log", (long)getpid());
	TEST(t_append_read(), "append and read: canonical lines, seqs, errors");
	TEST(t_envelope(), "the envelope goes where the sorted keys put it");
	TEST(t_seal_seek(), "sealing by size, hashes in names, seek to seq");
	TEST(t_torn_tail(), "a torn tail is hidden and cut by the next append");
	TEST(t_foreign(), "dot-files ignored, foreign files refused");
	TEST(t_watch(), "inotify wait wakes on another process's append");
	TEST(t_each(), "mlog_each: filters, after, last, stop, bad lines");
	TEST(t_check_rec(), "mlog_check_rec: the validation every writer uses");
	TEST(t_line_member(), "mlog_line_member finds top-level members");
	TEST(t_each_test(), "mlog_each: sel->test skips, takes or parses");
	TEST(t_watch_shared(), "one watch shared by many waiting threads");
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/u-mlog.%ld", (long)getpid());
	if (system(cmd) != 0)
		test_msg("cleanup failed");
	return test_done();
}
