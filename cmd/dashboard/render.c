/*
 * render.c: the site (dashboard(1), FILES).
 *
 *   index.html                      the first repo's first branch, page 0
 *   grid/REPO/BRANCH/N.html         page N of the grid, newest first
 *   commit/REPO/AB/HASH.html        every builder on one commit (AB: its
 *                                   first two digits: directories of
 *                                   tens of thousands of new files are
 *                                   slow to fill)
 *   builder/NAME.html, NAME.svg     a builder's last results and a plot
 *   log/HASH                        a failed build's log, text
 *   index.json, failures.txt        for scripts
 *   style.css
 *
 * Names from the logs become file names through fsname, so nothing a
 * log holds can name a file outside OUTDIR, and every string of a log
 * shown in a page goes through html_esc.  Links are relative (ROOT is
 * "../" repeated), so any static server can serve OUTDIR anywhere.
 *
 * Pages are published by rename without an fsync each (a reader sees
 * the old page or the new one); dashboard.c makes them durable with
 * one syncfs before it saves the seqs rendered.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "gz.h"
#include "html.h"
#include "json.h"
#include "rc.h"
#include "strbuf.h"
#include "utf8.h"
#include "xmalloc.h"

#define MAX_LOG		(64u << 20)	/* log text written, at most */
#define SUBJECT_MAX	100		/* bytes of a subject shown */

static const char style[] =
"body{font-family:sans-serif;font-size:14px;margin:1em}\n"
"h1{font-size:1.4em;margin:0 0 .5em}\n"
"a{color:#375eab;text-decoration:none}\n"
"a:hover{text-decoration:underline}\n"
"table.build{border-collapse:collapse}\n"
"table.build td,table.build th{padding:0 .4em;white-space:nowrap}\n"
"table.build tbody tr:nth-child(even){background:#f4f4f4}\n"
"table.build tbody tr:hover{background:#ff9}\n"
"th.os,th.arch,th.note{font-weight:normal;font-size:80%}\n"
"td.hash{font-family:monospace}\n"
"td.desc{white-space:normal;min-width:20em}\n"
"td.result{text-align:center;font-size:83%}\n"
"td.fail a,.fail{color:#c00;font-weight:bold}\n"
"td.building a{color:#888}\n"
".nav-short{display:none}\n"
"#short:target~.toggle .nav-short,#short:target~.paginate .nav-short"
"{display:inline}\n"
"#short:target~.toggle .nav-all,#short:target~.paginate .nav-all"
"{display:none}\n"
"#short:target~table .unsupported{display:none}\n"
"details.branches{display:inline-block}\n"
"nav{margin:.3em 0}\n"
"pre.msg{background:#f4f4f4;padding:.5em}\n"
"table.results td,table.results th{padding:0 .6em;text-align:left}\n";

void
fsname(struct strbuf *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' ||
		    (*p == '.' && p != (const unsigned char *)s))
			strbuf_addch(out, *p);
		else
			strbuf_addf(out, "_%02X", *p);
	}
	if (*s == '\0')
		strbuf_addstr(out, "_");
}

/* Publish out/rel, making its directories when they are missing. */
static int
put(struct dash *d, const char *rel, const void *p, size_t n,
    struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT;
	const char *sl;
	size_t at = err->len;

	if (atomic_write_nosync(d->outfd, rel, p, n, 0644, err) == 0)
		return RC_OK;
	if ((sl = strrchr(rel, '/')) != NULL) {
		strbuf_addf(&dir, "%s/%.*s", d->out, (int)(sl - rel), rel);
		if (mkdirs(dir.buf) == 0) {
			strbuf_setlen(err, at);
			if (atomic_write_nosync(d->outfd, rel, p, n, 0644,
			    err) == 0) {
				strbuf_release(&dir);
				return RC_OK;
			}
		}
	}
	strbuf_release(&dir);
	return RC_TEMP;
}

static void
head(struct strbuf *sb, const char *root, const char *title)
{
	strbuf_addstr(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>");
	html_esc(sb, title);
	strbuf_addf(sb, "</title>\n<link rel=\"stylesheet\" "
	    "href=\"%sstyle.css\">\n</head>\n<body>\n", root);
}

static void
foot(struct strbuf *sb)
{
	strbuf_addstr(sb, "</body>\n</html>\n");
}

/* ROOTgrid/REPO/BRANCH/N.html */
static void
grid_href(struct strbuf *sb, const char *root, const struct repo *r,
    size_t b, size_t page)
{
	strbuf_addf(sb, "%sgrid/", root);
	fsname(sb, r->name);
	strbuf_addch(sb, '/');
	fsname(sb, r->br[b].name);
	strbuf_addf(sb, "/%zu.html", page);
}

static void
commit_href(struct strbuf *sb, const char *root, const struct dash *d,
    const struct commit *c)
{
	strbuf_addf(sb, "%scommit/", root);
	fsname(sb, d->repos[c->repo].name);
	strbuf_addf(sb, "/%.2s/%s.html", c->hash, c->hash);
}

static void
builder_href(struct strbuf *sb, const char *root, const char *name,
    const char *ext)
{
	strbuf_addf(sb, "%sbuilder/", root);
	fsname(sb, name);
	strbuf_addstr(sb, ext);
}

/* "02 Jan 15:04" in UTC, from an RFC 3339 time with any offset. */
static void
short_time(struct strbuf *sb, const char *t)
{
	int y, mo, da, h, mi, s, n = 0, oh, om;
	const char *z;
	struct tm tm;
	time_t tt;
	char buf[32];

	if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &da,
	    &h, &mi, &s, &n) != 6 || n != 19)
		return;
	z = t + 19 + (t[19] == '.' ? 1 + strspn(t + 20, "0123456789") : 0);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = da;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tt = timegm(&tm);
	if ((*z == '+' || *z == '-') &&
	    sscanf(z + 1, "%2d:%2d", &oh, &om) == 2)
		tt -= (*z == '+' ? 1 : -1) * (time_t)(oh * 3600 + om * 60);
	if (gmtime_r(&tt, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%d %b %H:%M", &tm) > 0)
		strbuf_addstr(sb, buf);
}

/* The first line of msg, at most SUBJECT_MAX bytes of whole characters. */
static void
subject(struct strbuf *sb, const char *msg)
{
	size_t n, i = 0, k;

	if (msg == NULL)
		return;
	n = strcspn(msg, "\n");
	while (i < n && i < SUBJECT_MAX) {
		k = utf8_decode(msg + i, n - i, NULL);
		if (k == 0)
			k = 1;
		if (i + k > SUBJECT_MAX)
			break;
		i += k;
	}
	html_escn(sb, msg, i);
	if (i < n)
		strbuf_addstr(sb, "\xe2\x80\xa6");
}

static void
log_href(struct strbuf *sb, const char *root, const char *hash)
{
	strbuf_addf(sb, "%slog/%s", root, hash);
}

static void
live_href(struct strbuf *sb, const struct dash *d, const char *item)
{
	strbuf_addf(sb, "%s/log/", d->url != NULL ? d->url : "");
	html_esc(sb, item);
}

/* One grid cell (b NULL: not in a column of the grid). */
static void
cell_td(struct strbuf *sb, const struct dash *d, const char *root,
    const struct cell *cl, const struct builder *b)
{
	const char *u = b != NULL && b->unsupported ? " unsupported" : "";

	if (cl != NULL && cl->item != NULL) {
		strbuf_addf(sb, "<td class=\"result building%s\"><a href=\"",
		    u);
		live_href(sb, d, cl->item);
		strbuf_addstr(sb, "\" title=\"building\">\xe2\x80\xa6</a></td>");
	} else if (cl != NULL && cl->state == CELL_OK)
		strbuf_addf(sb, "<td class=\"result ok%s\">ok</td>", u);
	else if (cl != NULL && cl->state == CELL_FAIL) {
		strbuf_addf(sb, "<td class=\"result fail%s\">", u);
		if (cl->log[0] != '\0') {
			strbuf_addstr(sb, "<a href=\"");
			log_href(sb, root, cl->log);
			strbuf_addstr(sb, "\">fail</a></td>");
		} else
			strbuf_addstr(sb, "fail</td>");
	} else
		strbuf_addf(sb, "<td class=\"result%s\"></td>", u);
}

/* The header rows: the OS over its builders, the arch, the note. */
static void
grid_head(struct strbuf *sb, const struct dash *d, const struct repo *r,
    const char *root)
{
	struct strbuf os = STRBUF_INIT, os2 = STRBUF_INIT, a = STRBUF_INIT;
	const struct builder *b;
	size_t i, j;
	int notes = 0;

	strbuf_addstr(sb, "<thead>\n<tr><th colspan=\"4\"></th>");
	for (i = 0; i < r->ncols; i = j) {
		b = &d->b[r->cols[i]];
		builder_os(b->name, &os);
		for (j = i + 1; j < r->ncols; j++) {
			if (d->b[r->cols[j]].unsupported != b->unsupported ||
			    strcmp(builder_os(d->b[r->cols[j]].name, &os2),
			    os.buf) != 0)
				break;
		}
		strbuf_addf(sb, "<th class=\"os%s\" colspan=\"%zu\">",
		    b->unsupported ? " unsupported" : "", j - i);
		html_esc(sb, os.buf);
		strbuf_addstr(sb, "</th>");
	}
	strbuf_addstr(sb, "</tr>\n<tr><th colspan=\"4\"></th>");
	for (i = 0; i < r->ncols; i++) {
		b = &d->b[r->cols[i]];
		strbuf_addf(sb, "<th class=\"arch%s\" title=\"",
		    b->unsupported ? " unsupported" : "");
		html_esc(sb, b->name);
		strbuf_addstr(sb, "\"><a href=\"");
		builder_href(sb, root, b->name, ".html");
		strbuf_addstr(sb, "\">");
		html_esc(sb, builder_arch(b->name, &a));
		strbuf_addstr(sb, "</a></th>");
		if (*builder_note(b->name) != '\0')
			notes = 1;
	}
	strbuf_addstr(sb, "</tr>\n");
	if (notes) {
		strbuf_addstr(sb, "<tr><th colspan=\"4\"></th>");
		for (i = 0; i < r->ncols; i++) {
			b = &d->b[r->cols[i]];
			strbuf_addf(sb, "<th class=\"note%s\">",
			    b->unsupported ? " unsupported" : "");
			html_esc(sb, builder_note(b->name));
			strbuf_addstr(sb, "</th>");
		}
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</thead>\n");
	strbuf_release(&os);
	strbuf_release(&os2);
	strbuf_release(&a);
}

/* A link in two forms: without and with #short (CSS shows one). */
static void
nav_link(struct strbuf *sb, const char *href, const char *text)
{
	strbuf_addf(sb, "<a class=\"nav-all\" href=\"%s\">%s</a>"
	    "<a class=\"nav-short\" href=\"%s#short\">%s</a>\n",
	    href, text, href, text);
}

static void
grid_page(struct strbuf *sb, const struct dash *d, size_t ri, size_t bi,
    size_t page, const char *root)
{
	const struct repo *r = &d->repos[ri];
	const struct branch *br = &r->br[bi];
	const struct commit *c;
	struct strbuf t = STRBUF_INIT;
	size_t i, j, first, last, npages;

	npages = br->n == 0 ? 1 : (br->n + PER_PAGE - 1) / PER_PAGE;
	strbuf_addf(&t, "%s %s", r->name, br->name);
	if (page > 0)
		strbuf_addf(&t, " page %zu", page);
	strbuf_addstr(&t, " \xe2\x80\x93 build dashboard");
	head(sb, root, t.buf);
	strbuf_addstr(sb, "<h1>Build dashboard</h1>\n<nav class=\"repos\">"
	    "repositories:");
	for (i = 0; i < d->nrepos; i++) {
		if (d->repos[i].nbr == 0)
			continue;
		strbuf_addstr(sb, " <a href=\"");
		grid_href(sb, root, &d->repos[i], 0, 0);
		strbuf_addf(sb, "\"%s>", i == ri ? " class=\"current\"" : "");
		html_esc(sb, d->repos[i].name);
		strbuf_addstr(sb, "</a>");
	}
	strbuf_addstr(sb, "</nav>\n<details class=\"branches\"><summary>"
	    "branch: ");
	html_esc(sb, br->name);
	strbuf_addstr(sb, "</summary>\n<ul>\n");
	for (i = 0; i < r->nbr; i++) {
		strbuf_addstr(sb, "<li><a href=\"");
		grid_href(sb, root, r, i, 0);
		strbuf_addstr(sb, "\">");
		html_esc(sb, r->br[i].name);
		strbuf_addstr(sb, "</a></li>\n");
	}
	strbuf_addstr(sb, "</ul>\n</details>\n<span id=\"short\"></span>\n"
	    "<p class=\"toggle\"><a class=\"nav-all\" href=\"#short\">"
	    "show only first-class ports</a><a class=\"nav-short\" "
	    "href=\"#\">show all ports</a></p>\n");

	strbuf_addstr(sb, "<table class=\"build\">\n");
	grid_head(sb, d, r, root);
	strbuf_addstr(sb, "<tbody>\n");
	/* newest first: page p holds positions n-1-30p down to n-30(p+1) */
	first = br->n > page * PER_PAGE ? br->n - page * PER_PAGE : 0;
	last = first > PER_PAGE ? first - PER_PAGE : 0;
	for (i = first; i > last; i--) {
		c = &d->c[br->v[i - 1]];
		strbuf_addstr(sb, "<tr class=\"commit\"><td class=\"hash\">"
		    "<a href=\"");
		commit_href(sb, root, d, c);
		strbuf_addf(sb, "\">%.7s</a></td><td class=\"user\" title=\"",
		    c->hash);
		html_esc(sb, c->email);
		strbuf_addstr(sb, "\">");
		html_esc(sb, c->author);
		strbuf_addstr(sb, "</td><td class=\"time\">");
		short_time(sb, c->date);
		strbuf_addstr(sb, "</td><td class=\"desc\">");
		subject(sb, c->msg);
		strbuf_addstr(sb, "</td>");
		for (j = 0; j < r->ncols; j++)
			cell_td(sb, d, root, model_cell_of(c, r->cols[j]),
			    &d->b[r->cols[j]]);
		strbuf_addstr(sb, "</tr>\n");
	}
	if (first == last)
		strbuf_addf(sb, "<tr><td colspan=\"%zu\">no commits yet</td>"
		    "</tr>\n", 4 + r->ncols);
	strbuf_addstr(sb, "</tbody>\n</table>\n<nav class=\"paginate\">\n");
	if (page > 0) {
		strbuf_reset(&t);
		grid_href(&t, root, r, bi, page - 1);
		nav_link(sb, t.buf, "newer");
		strbuf_reset(&t);
		grid_href(&t, root, r, bi, 0);
		nav_link(sb, t.buf, "latest");
	}
	if (page + 1 < npages) {
		strbuf_reset(&t);
		grid_href(&t, root, r, bi, page + 1);
		nav_link(sb, t.buf, "older");
	}
	strbuf_addstr(sb, "</nav>\n");
	foot(sb);
	strbuf_release(&t);
}

static void
elapsed(struct strbuf *sb, int64_t ms)
{
	strbuf_addf(sb, "%lld.%llds", (long long)(ms / 1000),
	    (long long)(ms % 1000 / 100));
}

static void
commit_page(struct strbuf *sb, const struct dash *d, const struct commit *c)
{
	const struct repo *r = &d->repos[c->repo];
	const struct commit *p;
	const struct cell *cl;
	struct strbuf t = STRBUF_INIT;
	const char *root = "../../../";
	size_t i, j, rows = 0;

	strbuf_addf(&t, "%s %.12s \xe2\x80\x93 build dashboard", r->name,
	    c->hash);
	head(sb, root, t.buf);
	strbuf_addstr(sb, "<h1>");
	html_esc(sb, r->name);
	strbuf_addf(sb, " <span class=\"hash\">%s</span></h1>\n<nav>"
	    "<a href=\"", c->hash);
	grid_href(sb, root, r, (size_t)c->branch,
	    (r->br[c->branch].n - 1 - c->pos) / PER_PAGE);
	strbuf_addstr(sb, "\">back to the grid</a></nav>\n<table class=\""
	    "results\">\n<tr><th>branch</th><td>");
	html_esc(sb, r->br[c->branch].name);
	strbuf_addstr(sb, "</td></tr>\n<tr><th>author</th><td>");
	html_esc(sb, c->author);
	strbuf_addstr(sb, " &lt;");
	html_esc(sb, c->email);
	strbuf_addstr(sb, "&gt;</td></tr>\n<tr><th>date</th><td>");
	html_esc(sb, c->date);
	strbuf_addstr(sb, "</td></tr>\n");
	if (c->parent != NULL) {
		strbuf_addstr(sb, "<tr><th>parent</th><td class=\"hash\">");
		if ((p = model_lookup(d, c->repo, c->parent)) != NULL &&
		    p->branch >= 0) {
			strbuf_addstr(sb, "<a href=\"");
			commit_href(sb, root, d, p);
			strbuf_addstr(sb, "\">");
			html_esc(sb, c->parent);
			strbuf_addstr(sb, "</a>");
		} else
			html_esc(sb, c->parent);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</table>\n<pre class=\"msg\">");
	html_esc(sb, c->msg);
	strbuf_addstr(sb, "</pre>\n<table class=\"results\">\n<thead><tr>"
	    "<th>builder</th><th>result</th><th>elapsed</th><th>buildlet"
	    "</th><th>attempt</th><th>infrastructure failures</th>"
	    "<th>time</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < r->ncols; i++) {
		if ((cl = model_cell_of(c, r->cols[i])) == NULL)
			continue;
		rows++;
		strbuf_addstr(sb, "<tr><td><a href=\"");
		builder_href(sb, root, d->b[cl->builder].name, ".html");
		strbuf_addstr(sb, "\">");
		html_esc(sb, d->b[cl->builder].name);
		strbuf_addstr(sb, "</a></td>");
		cell_td(sb, d, root, cl, NULL);
		strbuf_addstr(sb, "<td>");
		if (cl->state != CELL_NONE)
			elapsed(sb, cl->elapsed_ms);
		strbuf_addstr(sb, "</td><td>");
		if (cl->state != CELL_NONE)
			html_esc(sb, cl->buildlet);
		strbuf_addstr(sb, "</td><td>");
		if (cl->state != CELL_NONE && cl->attempt > 0)
			strbuf_addf(sb, "%lld", (long long)cl->attempt);
		strbuf_addstr(sb, "</td><td>");
		for (j = 0; j < cl->natt; j++) {
			strbuf_addstr(sb, j > 0 ? "<br>" : "");
			strbuf_addf(sb, "%lld: ", (long long)cl->att[j].n);
			html_esc(sb, cl->att[j].buildlet);
			strbuf_addstr(sb, ": ");
			html_esc(sb, cl->att[j].reason);
		}
		if (cl->retracted > 0)
			strbuf_addf(sb, "%s%d retracted", cl->natt ? "<br>" :
			    "", cl->retracted);
		strbuf_addstr(sb, "</td><td>");
		if (cl->state != CELL_NONE)
			html_esc(sb, cl->time);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	if (rows == 0)
		strbuf_addstr(sb, "<tr><td colspan=\"7\">no results yet</td>"
		    "</tr>\n");
	strbuf_addstr(sb, "</tbody>\n</table>\n");
	foot(sb);
	strbuf_release(&t);
}

/* The builder's last results that count, oldest first (at most HISTORY). */
static size_t
recent(const struct builder *b, const struct hist **v)
{
	size_t i, n = 0;

	for (i = b->nh; i > 0 && n < HISTORY; i--)
		if (!b->h[i - 1].retracted)
			v[n++] = &b->h[i - 1];
	for (i = 0; i < n / 2; i++) {
		const struct hist *t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	return n;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A sparkline of build times (failures as red dots) over a bar of the
 * pass rate: green for passes, red for failures.
 */
static void
builder_svg(struct strbuf *sb, const struct hist *const *v, size_t n,
    size_t npass)
{
	const int w = 300, h = 40;
	int64_t max = 1;
	size_t i;
	double x, y, pw;

	for (i = 0; i < n; i++)
		if (v[i]->elapsed_ms > max)
			max = v[i]->elapsed_ms;
	strbuf_addf(sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"
	    "<title>build times of the last %zu results; %zu passed</title>\n"
	    "<polyline fill=\"none\" stroke=\"#375eab\" stroke-width=\"1\" "
	    "points=\"", w, h + 10, w, h + 10, n, npass);
	for (i = 0; i < n; i++) {
		x = n > 1 ? 2 + (double)i * (w - 4) / (double)(n - 1) : w / 2.0;
		y = 2 + (h - 4) * (1 - (double)v[i]->elapsed_ms / (double)max);
		strbuf_addf(sb, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
	strbuf_addstr(sb, "\"/>\n");
	for (i = 0; i < n; i++) {
		if (v[i]->ok)
			continue;
		x = n > 1 ? 2 + (double)i * (w - 4) / (double)(n - 1) : w / 2.0;
		y = 2 + (h - 4) * (1 - (double)v[i]->elapsed_ms / (double)max);
		strbuf_addf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" "
		    "fill=\"#c00\"/>\n", x, y);
	}
	pw = n > 0 ? (double)w * (double)npass / (double)n : 0;
	strbuf_addf(sb, "<rect x=\"0\" y=\"%d\" width=\"%.1f\" height=\"6\" "
	    "fill=\"#3a3\"/>\n<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
	    "height=\"6\" fill=\"%s\"/>\n</svg>\n", h + 3, pw, pw, h + 3,
	    w - pw, n > 0 ? "#c00" : "#ddd");
}

static void
builder_page(struct strbuf *sb, struct strbuf *svg, const struct dash *d,
    const struct builder *b)
{
	const struct hist **v = xcalloc(HISTORY, sizeof(*v));
	const struct commit *c;
	const struct cell *cl;
	struct strbuf t = STRBUF_INIT, a = STRBUF_INIT;
	int64_t *ms;
	size_t i, n, npass = 0, nok = 0;
	const char *root = "../";

	n = recent(b, v);
	ms = xcalloc(n + 1, sizeof(*ms));
	for (i = 0; i < n; i++)
		if (v[i]->ok) {
			npass++;
			ms[nok++] = v[i]->elapsed_ms;
		}
	qsort(ms, nok, sizeof(*ms), cmp_i64);
	builder_svg(svg, v, n, npass);

	strbuf_addf(&t, "%s \xe2\x80\x93 build dashboard", b->name);
	head(sb, root, t.buf);
	strbuf_addstr(sb, "<h1>");
	html_esc(sb, b->name);
	strbuf_addstr(sb, "</h1>\n<p>OS ");
	html_esc(sb, builder_os(b->name, &a));
	strbuf_addstr(sb, ", arch ");
	html_esc(sb, builder_arch(b->name, &a));
	strbuf_addstr(sb, b->unsupported ? ", not a first-class port" :
	    ", a first-class port");
	strbuf_addf(sb, ".</p>\n<p class=\"rate\">%zu of the last %zu "
	    "builds passed", npass, n);
	if (n > 0)
		strbuf_addf(sb, " (%zu%%)", npass * 100 / n);
	if (nok > 0) {
		strbuf_addstr(sb, "; median build time ");
		elapsed(sb, ms[nok / 2]);
	}
	strbuf_addstr(sb, ".</p>\n<p><img src=\"");
	fsname(sb, b->name);
	strbuf_addstr(sb, ".svg\" alt=\"build times and pass rate\" "
	    "width=\"300\" height=\"50\"></p>\n");
	strbuf_addstr(sb, "<table class=\"results\">\n<thead><tr><th>commit"
	    "</th><th>repo</th><th>result</th><th>elapsed</th><th>buildlet"
	    "</th><th>time</th></tr></thead>\n<tbody>\n");
	for (i = n; i > 0; i--) {
		c = &d->c[v[i - 1]->commit];
		if ((cl = model_cell_of(c, (unsigned)(b - d->b))) == NULL)
			continue;
		strbuf_addstr(sb, "<tr><td class=\"hash\">");
		if (c->branch >= 0) {
			strbuf_addstr(sb, "<a href=\"");
			commit_href(sb, root, d, c);
			strbuf_addf(sb, "\">%.7s</a>", c->hash);
		} else
			strbuf_addf(sb, "%.7s", c->hash);
		strbuf_addstr(sb, "</td><td>");
		html_esc(sb, d->repos[c->repo].name);
		strbuf_addstr(sb, "</td>");
		/* the result of this run, not the cell's latest */
		if (v[i - 1]->ok)
			strbuf_addstr(sb, "<td class=\"result ok\">ok</td>");
		else if (cl->state == CELL_FAIL && cl->log[0] != '\0') {
			strbuf_addstr(sb, "<td class=\"result fail\"><a href=\"");
			log_href(sb, root, cl->log);
			strbuf_addstr(sb, "\">fail</a></td>");
		} else
			strbuf_addstr(sb, "<td class=\"result fail\">fail</td>");
		strbuf_addstr(sb, "<td>");
		elapsed(sb, v[i - 1]->elapsed_ms);
		strbuf_addstr(sb, "</td><td>");
		html_esc(sb, cl->buildlet);
		strbuf_addstr(sb, "</td><td>");
		html_esc(sb, cl->time);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	if (n == 0)
		strbuf_addstr(sb, "<tr><td colspan=\"6\">no results yet</td>"
		    "</tr>\n");
	strbuf_addstr(sb, "</tbody>\n</table>\n");
	foot(sb);
	free(v);
	free(ms);
	strbuf_release(&t);
	strbuf_release(&a);
}

/* log/HASH: the stored log, gunzipped, unless already there. */
static int
log_page(struct dash *d, const char *hash, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, rel = STRBUF_INIT;
	struct gunz *z;
	char buf[65536];
	ssize_t n;
	int fd, rc = RC_OK;

	strbuf_addf(&rel, "log/%s", hash);
	if (faccessat(d->outfd, rel.buf, F_OK, 0) == 0)
		goto out;
	farm_placef(&path, d->dir, FARM_BUILDLOGS, "%.2s/%s.gz", hash, hash);
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) == -1)
		goto out;	/* not stored (yet): the link answers 404 */
	z = gunz_new(fd, -1);
	while ((n = gunz_read(z, buf, sizeof(buf))) > 0 &&
	    text.len < MAX_LOG)
		strbuf_add(&text, buf, (size_t)n);
	if (n < 0)
		strbuf_addf(&text, "\n[dashboard: log '%s': %s]\n", hash,
		    gunz_error(z));
	else if (n > 0)
		strbuf_addstr(&text, "\n[dashboard: log cut short]\n");
	gunz_free(z);
	close(fd);
	rc = put(d, rel.buf, text.buf, text.len, err);
out:
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&rel);
	return rc;
}

static void
log_url(struct strbuf *sb, const struct dash *d, const char *hash)
{
	strbuf_addf(sb, "%s/log/%s", d->url != NULL ? d->url : "", hash);
}

/*
 * index.json: the original's ?mode=json BuildStatus, for the newest
 * PER_PAGE commits of every branch; results "" / "ok" / the log URL.
 */
static void
index_json(struct strbuf *sb, const struct dash *d)
{
	struct json *top = json_new_object(), *bs = json_new_array(),
	    *revs = json_new_array(), *o, *a, *res;
	struct strbuf t = STRBUF_INIT;
	const struct commit *c;
	const struct cell *cl;
	size_t ri, bi, i;
	unsigned j;

	for (j = 0; j < d->nb; j++)
		json_append(bs, json_new_str(d->b[j].name));
	for (ri = 0; ri < d->nrepos; ri++)
		for (bi = 0; bi < d->repos[ri].nbr; bi++) {
			const struct branch *br = &d->repos[ri].br[bi];

			for (i = br->n; i > 0 && i + PER_PAGE > br->n; i--) {
				c = &d->c[br->v[i - 1]];
				o = json_new_object();
				json_set_str(o, "repo", d->repos[ri].name);
				json_set_str(o, "revision", c->hash);
				a = json_new_array();
				if (c->parent != NULL)
					json_append(a, json_new_str(c->parent));
				json_set(o, "parentRevisions", a);
				json_set_str(o, "goRevision", "");
				json_set_str(o, "date", c->date ? c->date : "");
				json_set_str(o, "branch", br->name);
				strbuf_reset(&t);
				strbuf_addf(&t, "%s <%s>", c->author ?
				    c->author : "", c->email ? c->email : "");
				json_set_str(o, "author", t.buf);
				json_set_str(o, "desc", c->msg ? c->msg : "");
				res = json_new_array();
				for (j = 0; j < d->nb; j++) {
					cl = model_cell_of(c, j);
					strbuf_reset(&t);
					if (cl != NULL && cl->state == CELL_OK)
						strbuf_addstr(&t, "ok");
					else if (cl != NULL &&
					    cl->state == CELL_FAIL)
						log_url(&t, d, cl->log);
					json_append(res, json_new_str(t.buf));
				}
				json_set(o, "results", res);
				json_append(revs, o);
			}
		}
	json_set(top, "builders", bs);
	json_set(top, "revisions", revs);
	json_dump_pretty(sb, top);
	strbuf_addch(sb, '\n');
	json_free(top);
	strbuf_release(&t);
}

/* failures.txt: "HASH BUILDER LOG-URL", newest commits first. */
static void
failures(struct strbuf *sb, const struct dash *d)
{
	const struct commit *c;
	size_t ri, bi, i, k;

	for (ri = 0; ri < d->nrepos; ri++)
		for (bi = 0; bi < d->repos[ri].nbr; bi++) {
			const struct branch *br = &d->repos[ri].br[bi];

			for (i = br->n; i > 0; i--) {
				c = &d->c[br->v[i - 1]];
				for (k = 0; k < c->ncells; k++) {
					if (c->cells[k].state != CELL_FAIL)
						continue;
					strbuf_addf(sb, "%s %s ", c->hash,
					    d->b[c->cells[k].builder].name);
					log_url(sb, d, c->cells[k].log);
					strbuf_addch(sb, '\n');
				}
			}
		}
}

static int
grid_put(struct dash *d, size_t ri, size_t bi, size_t page, struct strbuf *sb,
    struct strbuf *err)
{
	struct strbuf rel = STRBUF_INIT;
	int rc;

	strbuf_reset(sb);
	grid_page(sb, d, ri, bi, page, "../../../");
	grid_href(&rel, "", &d->repos[ri], bi, page);
	rc = put(d, rel.buf, sb->buf, sb->len, err);
	if (rc == RC_OK && ri == 0 && bi == 0 && page == 0) {
		strbuf_reset(sb);
		grid_page(sb, d, ri, bi, page, "");
		rc = put(d, "index.html", sb->buf, sb->len, err);
	}
	strbuf_release(&rel);
	return rc;
}

static int
render_grids(struct dash *d, struct strbuf *sb, struct strbuf *err)
{
	const struct commit *c;
	struct repo *r;
	struct branch *br;
	unsigned char **done;
	size_t ri, bi, i, p, np;
	int rc = RC_OK;

	for (ri = 0; ri < d->nrepos && rc == RC_OK; ri++) {
		r = &d->repos[ri];
		done = xcalloc(r->nbr + 1, sizeof(*done));
		for (bi = 0; bi < r->nbr && rc == RC_OK; bi++) {
			br = &r->br[bi];
			np = br->n == 0 ? 1 : (br->n + PER_PAGE - 1) / PER_PAGE;
			done[bi] = xcalloc(np, 1);
			if (!(d->all || r->dirty || br->dirty))
				continue;
			memset(done[bi], 1, np);
			for (p = 0; p < np && rc == RC_OK; p++)
				rc = grid_put(d, ri, bi, p, sb, err);
		}
		/* the pages of single commits that changed */
		for (i = 0; i < d->ndirtyc && rc == RC_OK; i++) {
			c = &d->c[d->dirtyc[i]];
			if (c->repo != ri || c->branch < 0)
				continue;
			br = &r->br[c->branch];
			p = (br->n - 1 - c->pos) / PER_PAGE;
			if (done[c->branch][p])
				continue;
			done[c->branch][p] = 1;
			rc = grid_put(d, ri, (size_t)c->branch, p, sb, err);
		}
		for (bi = 0; bi < r->nbr; bi++)
			free(done[bi]);
		free(done);
		r->dirty = 0;
		for (bi = 0; bi < r->nbr; bi++)
			r->br[bi].dirty = 0;
	}
	return rc;
}

/* Commit pages i, i + step, ... of v[0..n). */
struct part {
	struct dash *d;
	const size_t *v;
	size_t n, from, step;
	int rc;
	struct strbuf err;
};

static void *
commit_part(void *arg)
{
	struct part *pt = arg;
	struct strbuf sb = STRBUF_INIT, rel = STRBUF_INIT;
	const struct commit *c;
	size_t i;

	for (i = pt->from; i < pt->n && pt->rc == RC_OK; i += pt->step) {
		c = &pt->d->c[pt->v[i]];
		strbuf_reset(&sb);
		commit_page(&sb, pt->d, c);
		strbuf_reset(&rel);
		commit_href(&rel, "", pt->d, c);
		pt->rc = put(pt->d, rel.buf, sb.buf, sb.len, &pt->err);
	}
	strbuf_release(&sb);
	strbuf_release(&rel);
	return NULL;
}

/*
 * The commit pages to write, on two threads when there are many (a
 * first run writes thousands, and creating files costs the kernel
 * more than making the pages): the model is only read meanwhile.
 */
static int
render_commits(struct dash *d, struct strbuf *err)
{
	struct part pt[2];
	pthread_t th;
	size_t *v, n = 0, i;
	int k, nt, rc, started = 0;

	v = xcalloc(d->nc + 1, sizeof(*v));
	for (i = 0; i < d->nc; i++)
		if ((d->all || d->c[i].dirty) && d->c[i].branch >= 0)
			v[n++] = i;
	nt = n >= 1000 ? 2 : 1;
	for (k = 0; k < nt; k++) {
		pt[k].d = d;
		pt[k].v = v;
		pt[k].n = n;
		pt[k].from = (size_t)k;
		pt[k].step = (size_t)nt;
		pt[k].rc = RC_OK;
		strbuf_init(&pt[k].err, 0);
	}
	if (nt == 2)
		started = pthread_create(&th, NULL, commit_part, &pt[1]) == 0;
	if (nt == 2 && !started)
		pt[0].step = 1;		/* no thread: all of it here */
	commit_part(&pt[0]);
	if (started)
		pthread_join(th, NULL);
	rc = RC_OK;
	for (k = 0; k < nt; k++) {
		if (pt[k].rc != RC_OK && rc == RC_OK) {
			rc = pt[k].rc;
			strbuf_addstr(err, pt[k].err.buf);
		}
		strbuf_release(&pt[k].err);
	}
	free(v);
	return rc;
}

int
render(struct dash *d, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, svg = STRBUF_INIT, rel = STRBUF_INIT;
	size_t i;
	int rc = RC_OK;

	if (d->all)
		rc = put(d, "style.css", style, sizeof(style) - 1, err);
	if (rc == RC_OK && (d->all || d->any))
		rc = render_grids(d, &sb, err);
	if (rc == RC_OK && d->all && (d->nrepos == 0 || d->repos[0].nbr == 0)) {
		/* no branch to show: still an index, so the site is there */
		strbuf_reset(&sb);
		head(&sb, "", "build dashboard");
		strbuf_addstr(&sb, "<h1>Build dashboard</h1>\n<p>No commits "
		    "yet.</p>\n");
		foot(&sb);
		rc = put(d, "index.html", sb.buf, sb.len, err);
	}
	if (rc == RC_OK)
		rc = render_commits(d, err);
	for (i = 0; i < d->nb && rc == RC_OK; i++) {
		if (!(d->all || d->b[i].dirty))
			continue;
		strbuf_reset(&sb);
		strbuf_reset(&svg);
		builder_page(&sb, &svg, d, &d->b[i]);
		strbuf_reset(&rel);
		builder_href(&rel, "", d->b[i].name, ".html");
		if ((rc = put(d, rel.buf, sb.buf, sb.len, err)) != RC_OK)
			break;
		strbuf_reset(&rel);
		builder_href(&rel, "", d->b[i].name, ".svg");
		rc = put(d, rel.buf, svg.buf, svg.len, err);
		d->b[i].dirty = 0;
	}
	for (i = 0; i < d->nlogs && rc == RC_OK; i++)
		rc = log_page(d, d->logs[i], err);
	if (rc == RC_OK && (d->all || d->any)) {
		strbuf_reset(&sb);
		index_json(&sb, d);
		rc = put(d, "index.json", sb.buf, sb.len, err);
	}
	if (rc == RC_OK && (d->all || d->any)) {
		strbuf_reset(&sb);
		failures(&sb, d);
		rc = put(d, "failures.txt", sb.buf, sb.len, err);
	}
	if (rc == RC_OK) {
		for (i = 0; i < d->ndirtyc; i++)
			d->c[d->dirtyc[i]].dirty = 0;
		d->ndirtyc = 0;
		for (i = 0; i < d->nlogs; i++)
			free(d->logs[i]);
		d->nlogs = 0;
		d->all = d->any = 0;
	}
	strbuf_release(&sb);
	strbuf_release(&svg);
	strbuf_release(&rel);
	return rc;
}
