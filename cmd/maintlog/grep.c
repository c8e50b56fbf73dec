/*
 * grep: records where every expression holds.
 *
 * Speed comes from grep's trick: the records are canonical JSON, so a
 * "field=value" can only match a line that contains value as JSON writes
 * it.  The record loop (mlog_each) memmems the mapped segment for the
 * longest such literal and parses only the lines it hits; lines without
 * it are never parsed.
 */
#include "compat.h"

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
#include "xmalloc.h"

enum op { OP_PRESENT, OP_EQ, OP_RE };

struct expr {
	enum op op;
	char *field;
	char *value;
	regex_t re;
};

struct grep {
	struct expr *e;
	size_t ne;
	struct strbuf lit;	/* prefilter literal, may be empty */
	int cflag;
	uint64_t matches;
	struct strbuf out;
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
rec_matches(struct grep *g, const struct json *j)
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

static void
hit(struct grep *g, const char *p, size_t len)
{
	g->matches++;
	if (g->cflag)
		return;
	strbuf_add(&g->out, p, len + 1);
	if (g->out.len >= (1 << 16)) {
		if (write_all(1, g->out.buf, g->out.len) < 0)
			fatal(RC_TEMP, "write stdout");
		strbuf_reset(&g->out);
	}
}

static int
grep_rec(const struct mlog_rec *r, void *arg)
{
	struct grep *g = arg;

	if (rec_matches(g, r->obj))
		hit(g, r->line, r->len);
	return 0;
}

static int
grep_step(struct mlog *l, struct mlog_cursor *cur, void *arg,
    struct strbuf *err)
{
	struct grep *g = arg;
	struct mlog_sel sel = { NULL, NULL, 0, 0 };
	int rc;

	sel.lit = g->lit.len ? g->lit.buf : NULL;
	rc = mlog_each(l, cur, &sel, grep_rec, g, err);
	if (g->out.len && write_all(1, g->out.buf, g->out.len) < 0)
		fatal(RC_TEMP, "write stdout");
	strbuf_reset(&g->out);
	return rc;
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
	uint64_t sflag = 0;
	const char *tflag = NULL;
	int ch, fflag = 0, rc;
	size_t i;

	memset(&g, 0, sizeof(g));
	strbuf_init(&g.lit, 0);
	strbuf_init(&g.out, 0);
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
	follow(l, &cur, !fflag, grep_step, &g);
	if (g.cflag)
		printf("%llu\n", (unsigned long long)g.matches);
	if (fflush(stdout) == EOF)
		fatal(RC_TEMP, "write stdout");
	for (i = 0; i < g.ne; i++) {
		if (g.e[i].op == OP_RE)
			regfree(&g.e[i].re);
		free(g.e[i].field);
		free(g.e[i].value);
	}
	free(g.e);
	strbuf_release(&g.lit);
	strbuf_release(&g.out);
	strbuf_release(&lit);
	strbuf_release(&err);
	return g.matches ? RC_OK : RC_NO;
}
