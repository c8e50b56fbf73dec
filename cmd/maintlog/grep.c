/*
 * grep: records where every expression holds.
 *
 * Speed comes from grep's trick: the records are canonical JSON, so a
 * "field=value" can only match a line that contains value as JSON writes
 * it.  The record loop (mlog_each) memmems the mapped segment for the
 * longest such literal and parses only the lines it hits; lines without
 * it are never parsed.  Of the lines it hits, those whose top-level
 * fields decide every expression (line_test) are not parsed either.
 * What is left is the parse of the rest (dotted paths, lists, regular
 * expressions), so a grep through more than one segment (not -f) parses
 * on every CPU (at most 4), a segment at a time, each thread with its
 * own struct mlog, and writes the segments' matches in order.
 */
#include "compat.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "utf8.h"
#include "xmalloc.h"

enum op { OP_PRESENT, OP_EQ, OP_RE };

struct expr {
	enum op op;
	char *field;
	char *value;
	regex_t re;
	/*
	 * For line_test: a top-level field's key and an OP_EQ value as
	 * canonical JSON spells them in a string; NULL when it cannot say.
	 */
	struct strbuf qfield, qvalue;
};

struct grep {
	struct expr *e;
	size_t ne;
	struct strbuf lit;	/* prefilter literal, may be empty */
	int cflag;
};

/* Where matches go: stdout as the buffer fills, or kept (a segment's). */
struct sink {
	const struct grep *g;
	struct strbuf out;
	uint64_t matches;
	int keep;
};

/* One segment's grep, for the threads. */
struct part {
	unsigned seg;
	off_t off;
	struct sink sink;
	int rc, done;
	struct strbuf err;
};

#define AHEAD 4	/* segments a thread may run ahead of the output */

struct par {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *dir;
	struct part *p;
	size_t n, next, written;
};

static int
value_matches(const struct expr *e, const struct json *v)
{
	struct strbuf t = STRBUF_INIT;
	size_t i;
	int m;

	if (json_kind(v) == JK_ARRAY) {
		if (e->op == OP_EQ && e->value[0] == '[') {
			json_scalar_text(v, &t);
			m = strcmp(t.buf, e->value) == 0;
			strbuf_release(&t);
			return m;
		}
		/* a list field matches when any element does */
		for (i = 0; i < json_array_len(v); i++)
			if (value_matches(e, json_array_at(v, i)))
				return 1;
		return 0;
	}
	json_scalar_text(v, &t);
	if (e->op == OP_EQ)
		m = t.len == strlen(e->value) && memcmp(t.buf, e->value,
		    t.len) == 0;
	else
		m = regexec(&e->re, t.buf, 0, NULL, 0) == 0;
	strbuf_release(&t);
	return m;
}

static int
rec_matches(const struct grep *g, const struct json *j)
{
	size_t i;
	int m = 1;

	for (i = 0; i < g->ne && m; i++) {
		struct json *v = json_get_path(j, g->e[i].field);

		if (v == NULL)
			m = 0;
		else if (g->e[i].op != OP_PRESENT)
			m = value_matches(&g->e[i], v);
	}
	return m;
}

/*
 * The exact check on a stored line, without a parse (mlog_sel's test):
 * the log is canonical (maintlog(5)), so a top-level member's value has
 * one spelling, and "field=value" holds when that text is the value as
 * json_dump writes it: the JSON string of value, or value itself for a
 * number, true, false, null or an object (whose scalar text is its
 * canonical JSON), or an array when value is one.  An array otherwise,
 * a regular expression, a dotted path or a line the scan cannot read
 * is left to the parse (-1).
 */
static int
line_test(const char *line, size_t len, void *arg)
{
	const struct grep *g = ((const struct sink *)arg)->g;
	const struct expr *e;
	const char *v;
	size_t i, vl;
	int r = 1, m;

	for (i = 0; i < g->ne; i++) {
		e = &g->e[i];
		if (e->qfield.len == 0) {
			r = -1;
			continue;
		}
		m = mlog_line_member(line, len, e->qfield.buf, e->qfield.len,
		    &v, &vl);
		if (m == 0)
			return 0;	/* no such field: no match */
		if (m < 0 || e->op == OP_RE) {
			r = -1;
			continue;
		}
		if (e->op == OP_PRESENT)
			continue;
		if (v[0] == '"' && e->qvalue.len == 0)
			r = -1;
		else if (v[0] == '"')
			m = vl == e->qvalue.len && memcmp(v, e->qvalue.buf,
			    vl) == 0;
		else if (v[0] == '[' && e->value[0] != '[')
			r = -1;	/* a list: any element may match */
		else
			m = vl == strlen(e->value) && memcmp(v, e->value,
			    vl) == 0;
		if (m == 0)
			return 0;
	}
	return r;
}

/* The JSON texts line_test compares with, where it can. */
static void
prep_test(struct expr *e)
{
	strbuf_init(&e->qfield, 0);
	strbuf_init(&e->qvalue, 0);
	/* every key and string in a log is valid UTF-8 */
	if (strchr(e->field, '.') != NULL ||
	    !utf8_valid(e->field, strlen(e->field)))
		return;
	json_quote(&e->qfield, e->field, strlen(e->field));
	if (e->op == OP_EQ && utf8_valid(e->value, strlen(e->value)))
		json_quote(&e->qvalue, e->value, strlen(e->value));
}

static void
flush_sink(struct sink *s)
{
	if (s->out.len && write_all(1, s->out.buf, s->out.len) < 0)
		fatal(RC_TEMP, "write stdout");
	strbuf_reset(&s->out);
}

static int
grep_rec(const struct mlog_rec *r, void *arg)
{
	struct sink *s = arg;

	/* no obj: line_test said it matches */
	if (r->obj != NULL && !rec_matches(s->g, r->obj))
		return 0;
	s->matches++;
	if (s->g->cflag)
		return 0;
	strbuf_add(&s->out, r->line, r->len + 1);
	if (!s->keep && s->out.len >= (1 << 16))
		flush_sink(s);
	return 0;
}

static int
grep_step(struct mlog *l, struct mlog_cursor *cur, void *arg,
    struct strbuf *err)
{
	struct sink *s = arg;
	struct mlog_sel sel = { NULL, NULL, 0, 0, 0 };
	int rc;

	sel.lit = s->g->lit.len ? s->g->lit.buf : NULL;
	sel.test = line_test;
	rc = mlog_each(l, cur, &sel, grep_rec, s, err);
	flush_sink(s);
	return rc;
}

static void *
part_worker(void *arg)
{
	struct par *pa = arg;
	struct strbuf err = STRBUF_INIT;
	struct mlog *l = NULL;
	struct part *p;
	int orc;

	if ((orc = mlog_open(&l, pa->dir, 0, &err)) == RC_OK)
		orc = mlog_scan(l, &err);
	pthread_mutex_lock(&pa->mu);
	for (;;) {
		while (pa->next < pa->n && pa->next >= pa->written + AHEAD)
			pthread_cond_wait(&pa->cv, &pa->mu);
		if (pa->next >= pa->n)
			break;
		p = &pa->p[pa->next++];
		pthread_mutex_unlock(&pa->mu);
		if (orc != RC_OK) {
			p->rc = orc;
			strbuf_addstr(&p->err, err.buf);
		} else {
			struct mlog_cursor cur = { p->seg, p->off };
			struct mlog_sel sel = { NULL, NULL, 0, 0, 1 };

			sel.lit = p->sink.g->lit.len ? p->sink.g->lit.buf :
			    NULL;
			sel.test = line_test;
			p->rc = mlog_each(l, &cur, &sel, grep_rec, &p->sink,
			    &p->err);
		}
		pthread_mutex_lock(&pa->mu);
		p->done = 1;
		pthread_cond_broadcast(&pa->cv);
	}
	pthread_mutex_unlock(&pa->mu);
	if (l != NULL)
		mlog_close(l);
	strbuf_release(&err);
	return NULL;
}

/* The segments from cur on, over threads; the matches in order. */
static uint64_t
grep_par(struct mlog *l, const struct mlog_cursor *cur, const struct grep *g,
    size_t nthr)
{
	struct par pa;
	pthread_t tid[4];
	uint64_t matches = 0;
	size_t i, i0 = (size_t)mlog_find(l, cur->seg);

	memset(&pa, 0, sizeof(pa));
	pa.dir = mlog_dir(l);
	pa.n = mlog_nsegs(l) - i0;
	pa.p = xcalloc(pa.n, sizeof(*pa.p));
	for (i = 0; i < pa.n; i++) {
		pa.p[i].seg = mlog_seg(l, i0 + i)->number;
		pa.p[i].off = i == 0 ? cur->off : 0;
		pa.p[i].sink.g = g;
		pa.p[i].sink.keep = 1;
		strbuf_init(&pa.p[i].sink.out, 0);
		strbuf_init(&pa.p[i].err, 0);
	}
	if (pthread_mutex_init(&pa.mu, NULL) != 0 ||
	    pthread_cond_init(&pa.cv, NULL) != 0)
		fatalx(RC_TEMP, "pthread_mutex_init failed");
	for (i = 0; i < nthr; i++)
		if (pthread_create(&tid[i], NULL, part_worker, &pa) != 0)
			fatalx(RC_TEMP, "pthread_create failed");
	for (i = 0; i < pa.n; i++) {
		struct part *p = &pa.p[i];

		pthread_mutex_lock(&pa.mu);
		while (!p->done)
			pthread_cond_wait(&pa.cv, &pa.mu);
		pthread_mutex_unlock(&pa.mu);
		if (p->rc != RC_OK)
			fatalx(p->rc, "%s", p->err.buf);
		flush_sink(&p->sink);
		matches += p->sink.matches;
		strbuf_release(&p->sink.out);
		strbuf_release(&p->err);
		pthread_mutex_lock(&pa.mu);
		pa.written++;
		pthread_cond_broadcast(&pa.cv);
		pthread_mutex_unlock(&pa.mu);
	}
	for (i = 0; i < nthr; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&pa.mu);
	pthread_cond_destroy(&pa.cv);
	free(pa.p);
	return matches;
}

/* The literal a matching line must contain, for one expression. */
static void
literal(const struct expr *e, struct strbuf *out)
{
	const char *last;

	strbuf_reset(out);
	if (e->op == OP_EQ && (e->value[0] == '{' || e->value[0] == '['))
		return;	/* an object or array: compared as canonical JSON */
	if (e->op == OP_EQ) {
		/* the value as JSON writes it inside a string */
		json_quote(out, e->value, strlen(e->value));
		memmove(out->buf, out->buf + 1, out->len - 2);
		strbuf_setlen(out, out->len - 2);
		return;
	}
	/* the key of the last path component */
	last = strrchr(e->field, '.');
	last = last != NULL ? last + 1 : e->field;
	if (strspn(last, "0123456789") == strlen(last))
		return;	/* an array index: no literal */
	json_quote(out, last, strlen(last));
	strbuf_addch(out, ':');
}

static void
parse_expr(struct expr *e, const char *s)
{
	size_t n = strcspn(s, "=~");

	if (n == 0)
		fatalx(RC_PERM, "bad expression '%s': no field name", esc(s));
	e->field = xmemdupz(s, n);
	if (s[n] == '\0') {
		e->op = OP_PRESENT;
		return;
	}
	e->value = xstrdup(s + n + 1);
	if (s[n] == '=') {
		e->op = OP_EQ;
		/*
		 * An object or array value matches a field whose canonical
		 * JSON text is the same: canonicalise it once here.
		 */
		if (e->value[0] == '{' || e->value[0] == '[') {
			struct strbuf err = STRBUF_INIT, c = STRBUF_INIT;
			struct json *j = json_parse(e->value, strlen(e->value),
			    &err);

			if (j == NULL)
				fatalx(RC_PERM, "bad JSON value in '%s': %s",
				    esc(s), err.buf);
			json_dump(&c, j);
			json_free(j);
			free(e->value);
			e->value = strbuf_detach(&c, NULL);
			strbuf_release(&err);
		}
		return;
	}
	e->op = OP_RE;
	if (regcomp(&e->re, e->value, REG_EXTENDED | REG_NOSUB) != 0)
		fatalx(RC_PERM, "bad regular expression '%s'", esc(e->value));
}

int
cmd_grep(int argc, char **argv)
{
	struct mlog *l;
	struct strbuf err = STRBUF_INIT, lit = STRBUF_INIT;
	struct mlog_cursor cur = { 0, 0 };
	struct grep g;
	struct sink sink;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t sflag = 0;
	const char *tflag = NULL;
	int ch, fflag = 0, rc;
	size_t i;

	memset(&g, 0, sizeof(g));
	strbuf_init(&g.lit, 0);
	memset(&sink, 0, sizeof(sink));
	sink.g = &g;
	strbuf_init(&sink.out, 0);
	while ((ch = getopt(argc, argv, "+cfs:t:")) != -1) {
		switch (ch) {
		case 'c':
			g.cflag = 1;
			break;
		case 'f':
			fflag = 1;
			break;
		case 's':
			if (num_parse_u64(optarg, 1, UINT64_MAX, &sflag) < 0)
				fatalx(RC_PERM, "bad seq '%s'", esc(optarg));
			break;
		case 't':
			tflag = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (fflag && g.cflag)
		fatalx(RC_PERM, "-c and -f exclude each other");
	g.ne = (size_t)argc + (tflag != NULL);
	g.e = xcalloc(g.ne, sizeof(*g.e));
	for (i = 0; i < (size_t)argc; i++)
		parse_expr(&g.e[i], argv[i]);
	if (tflag != NULL) {
		g.e[i].op = OP_EQ;
		g.e[i].field = xstrdup("type");
		g.e[i].value = xstrdup(tflag);
	}
	for (i = 0; i < g.ne; i++)
		prep_test(&g.e[i]);
	/* the longest literal filters best */
	for (i = 0; i < g.ne; i++) {
		literal(&g.e[i], &lit);
		if (lit.len > g.lit.len) {
			strbuf_reset(&g.lit);
			strbuf_add(&g.lit, lit.buf, lit.len);
		}
	}
	l = open_log(0);
	if ((rc = mlog_scan(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	if (sflag > 1 && (rc = mlog_seek_seq(l, sflag, &cur, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	if (!fflag && ncpu > 1 && mlog_find(l, cur.seg) >= 0 &&
	    mlog_nsegs(l) - (size_t)mlog_find(l, cur.seg) > 1)
		sink.matches = grep_par(l, &cur, &g, ncpu > 4 ? 4 :
		    (size_t)ncpu);
	else
		follow(l, &cur, !fflag, grep_step, &sink);
	if (g.cflag)
		printf("%llu\n", (unsigned long long)sink.matches);
	if (fflush(stdout) == EOF)
		fatal(RC_TEMP, "write stdout");
	for (i = 0; i < g.ne; i++) {
		if (g.e[i].op == OP_RE)
			regfree(&g.e[i].re);
		free(g.e[i].field);
		free(g.e[i].value);
		strbuf_release(&g.e[i].qfield);
		strbuf_release(&g.e[i].qvalue);
	}
	free(g.e);
	strbuf_release(&g.lit);
	strbuf_release(&sink.out);
	strbuf_release(&lit);
	strbuf_release(&err);
	return sink.matches ? RC_OK : RC_NO;
}
