/*
 * status.c: the daemon's HTTP pages, and schedule status.
 *
 *   /status        HTML without JavaScript, refreshed every 5 s; also
 *                  at / unless the dashboard's site is there (www.c)
 *   /status.json   the same as JSON (schedule(1) lists the fields)
 *   /log/ITEM      a running build's live log, chunked, followed until
 *                  the build ends; a finished one's log by its result
 *   /log/HASH      buildlogs/ab/HASH.gz, gunzipped
 *
 * The handlers run in the server's threads; the tables are the loop's,
 * read through serve_status under sched_mu.  The log files are read
 * without it.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"
#include "farm.h"
#include "gz.h"
#include "html.h"
#include "http.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define FOLLOW_MS	100

/* One table cell of o's key: its text, escaped. */
static void
cell(struct strbuf *out, const struct json *o, const char *key)
{
	struct strbuf t = STRBUF_INIT;
	struct json *v = json_get(o, key);

	if (v != NULL)
		json_scalar_text(v, &t);
	strbuf_addstr(out, "<td>");
	html_esc(out, t.buf);
	strbuf_addstr(out, "</td>");
	strbuf_release(&t);
}

static void
row(struct strbuf *out, const struct json *o, const char *const *keys)
{
	strbuf_addstr(out, "<tr>");
	for (; *keys != NULL; keys++)
		cell(out, o, *keys);
	strbuf_addstr(out, "</tr>\n");
}

static void
head(struct strbuf *out, const char *title, const char *const *keys)
{
	strbuf_addf(out, "<h2>%s</h2>\n<table>\n<tr>", title);
	for (; *keys != NULL; keys++)
		strbuf_addf(out, "<th>%s</th>", *keys);
	strbuf_addstr(out, "</tr>\n");
}

static void
html(struct strbuf *out, const struct json *st)
{
	static const char *const mkeys[] = { "name", "state", "item",
	    "idle_s", "url", "hostname", "version", "connected_s",
	    "keepalive_s", NULL };
	static const char *const qkeys[] = { "kind", "repo", "rev", "builder",
	    "wait_s", NULL };
	static const char *const rkeys[] = { "builder", "repo", "rev", "kind",
	    "ok", "failed_step", "elapsed_ms", "buildlet", "attempt", "log",
	    NULL };
	static const char *const skeys[] = { "builder", "builds",
	    "median_wait_s", "median_build_s", NULL };
	static const char *const gkeys[] = { "name", "machine", "expires_s",
	    "lost", NULL };
	static const char *const wkeys[] = { "user", "builder", "wait_s",
	    NULL };
	struct json *a, *o, *ms;
	size_t i, j;

	strbuf_addstr(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta http-equiv=\"refresh\" content=\"5\">"
	    "<title>schedule</title>\n<style>td,th{padding:0 .5em;"
	    "text-align:left}</style></head><body>\n<h1>schedule</h1>\n");
	if (json_get(st, "error") != NULL) {
		strbuf_addstr(out, "<p><b>no build starts:</b> ");
		html_esc(out, json_str(json_get(st, "error"), NULL));
		strbuf_addstr(out, "</p>\n");
	}

	a = json_get(st, "pools");
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		strbuf_addstr(out, "<h2>pool ");
		html_esc(out, json_str(json_get(o, "hosttype"), NULL));
		strbuf_addstr(out, " (");
		html_esc(out, json_str(json_get(o, "pool"), NULL));
		strbuf_addstr(out, ")</h2>\n");
		if (json_get(o, "error") != NULL) {
			strbuf_addstr(out, "<p><b>create failed:</b> ");
			html_esc(out, json_str(json_get(o, "error"), NULL));
			strbuf_addf(out, " (retry in %lld s)</p>\n",
			    (long long)json_int(json_get(o, "retry_s")));
		}
		strbuf_addstr(out, "<table>\n<tr>");
		for (j = 0; mkeys[j] != NULL; j++)
			strbuf_addf(out, "<th>%s</th>", mkeys[j]);
		strbuf_addstr(out, "</tr>\n");
		ms = json_get(o, "machines");
		for (j = 0; j < json_array_len(ms); j++)
			row(out, json_array_at(ms, j), mkeys);
		strbuf_addstr(out, "</table>\n");
	}

	strbuf_addstr(out, "<h2>running</h2>\n<table>\n<tr><th>item</th>"
	    "<th>builder</th><th>repo</th><th>rev</th><th>machine</th>"
	    "<th>attempt</th><th>elapsed_s</th></tr>\n");
	a = json_get(st, "running");
	for (i = 0; i < json_array_len(a); i++) {
		const char *item;

		o = json_array_at(a, i);
		item = json_str(json_get(o, "item"), NULL);
		strbuf_addstr(out, "<tr><td><a href=\"/log/");
		html_esc(out, item);
		strbuf_addstr(out, "\">");
		html_esc(out, item);
		strbuf_addstr(out, "</a></td>");
		cell(out, o, "builder");
		cell(out, o, "repo");
		cell(out, o, "rev");
		cell(out, o, "machine");
		cell(out, o, "attempt");
		cell(out, o, "elapsed_s");
		strbuf_addstr(out, "</tr>\n");
	}
	strbuf_addstr(out, "</table>\n");

	try_html(out, json_get(st, "try"));

	head(out, "queue", qkeys);
	a = json_get(st, "queue");
	for (i = 0; i < json_array_len(a); i++)
		row(out, json_array_at(a, i), qkeys);
	strbuf_addf(out, "</table>\n<p>%lld queued</p>\n",
	    (long long)json_int(json_get(st, "queued")));

	head(out, "last results", rkeys);
	a = json_get(st, "results");
	for (i = 0; i < json_array_len(a); i++) {
		const char *lg;

		o = json_array_at(a, i);
		strbuf_addstr(out, "<tr>");
		for (j = 0; rkeys[j + 1] != NULL; j++)
			cell(out, o, rkeys[j]);
		/* the build's log, by its hash (64 hex: nothing to escape) */
		lg = json_str(json_get(o, "log"), NULL);
		strbuf_addstr(out, "<td>");
		if (lg != NULL && strspn(lg, "0123456789abcdef") == 64 &&
		    lg[64] == '\0')
			strbuf_addf(out, "<a href=\"/log/%s\">log</a>", lg);
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</table>\n");

	head(out, "the last hour", skeys);
	a = json_get(st, "builders");
	for (i = 0; i < json_array_len(a); i++)
		row(out, json_array_at(a, i), skeys);
	strbuf_addstr(out, "</table>\n");
	head(out, "gomote instances", gkeys);
	a = json_get_path(st, "gomote.instances");
	for (i = 0; i < json_array_len(a); i++)
		row(out, json_array_at(a, i), gkeys);
	strbuf_addstr(out, "</table>\n");
	head(out, "gomote creates waiting", wkeys);
	a = json_get_path(st, "gomote.waiting");
	for (i = 0; i < json_array_len(a); i++)
		row(out, json_array_at(a, i), wkeys);
	strbuf_addstr(out, "</table>\n</body></html>\n");
}

/* A live log, followed until its build ends (the file is removed). */
struct tail {
	int fd;
	char *path;
	int ended;
	struct httpd_req *req;
};

static ssize_t
tail_read(void *arg, char *buf, size_t max)
{
	struct tail *t = arg;
	struct pollfd pfd;
	struct stat st;
	ssize_t n;

	for (;;) {
		if ((n = read(t->fd, buf, max)) != 0)
			return n < 0 ? -1 : n;
		if (t->ended ||
		    httpd_stopping(httpd_req_server(t->req)))
			return 0;
		/* gone: the build ended; read what it wrote last, once */
		if (stat(t->path, &st) == -1)
			t->ended = 1;
		else if ((pfd.fd = httpd_client_fd(t->req)) >= 0) {
			pfd.events = POLLRDHUP;
			if (poll(&pfd, 1, FOLLOW_MS) > 0)
				return -1;	/* the client went away */
		} else
			poll(NULL, 0, FOLLOW_MS);
	}
}

static void
tail_done(void *arg, int closed)
{
	struct tail *t = arg;

	(void)closed;
	close(t->fd);
	free(t->path);
	free(t);
}

/* A finished log: gunz never closes its fd, so it travels along. */
struct unzip {
	struct gunz *z;
	int fd;
};

static ssize_t
unzip_read(void *arg, char *buf, size_t max)
{
	struct unzip *u = arg;

	return gunz_read(u->z, buf, max);
}

static void
unzip_done(void *arg, int closed)
{
	struct unzip *u = arg;

	(void)closed;
	gunz_free(u->z);
	close(u->fd);
	free(u);
}

static int
is_hash(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static void
serve_hash(struct httpd_req *req, const char *hash)
{
	struct strbuf path = STRBUF_INIT;
	struct unzip *u;
	int fd;

	farm_placef(&path, cx.dir, FARM_BUILDLOGS, "%.2s/%s.gz", hash, hash);
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) == -1) {
		httpd_error(req, errno == ENOENT ? 404 : 500,
		    errno == ENOENT ? "no such log" : "cannot open the log");
		strbuf_release(&path);
		return;
	}
	strbuf_release(&path);
	u = xmalloc(sizeof(*u));
	u->fd = fd;
	if ((u->z = gunz_new(fd, -1)) == NULL) {
		close(fd);
		free(u);
		httpd_error(req, 500, "cannot read the log");
		return;
	}
	httpd_add_header(req, "X-Content-Type-Options", "nosniff");
	httpd_reply_stream(req, 200, "text/plain; charset=utf-8", unzip_read,
	    unzip_done, u);
}

struct find_log {
	char hash[65];
};

static int
find_log(const struct mlog_rec *rec, void *arg)
{
	struct find_log *f = arg;
	const char *h = json_str(json_get(rec->obj, "log"), NULL);

	if (h != NULL && is_hash(h))
		snprintf(f->hash, sizeof(f->hash), "%s", h);
	return 0;
}

static void
serve_item(struct httpd_req *req, const char *item)
{
	struct strbuf path = STRBUF_INIT, lit = STRBUF_INIT, err = STRBUF_INIT;
	struct mlog_cursor cur = { 0, 0 };
	struct mlog_sel sel = { "result", NULL, 0, 0 };
	struct find_log f = { "" };
	struct mlog *l;
	struct tail *t;
	int fd;

	if (*item == '\0' || *item == '.' || strchr(item, '/') != NULL) {
		httpd_error(req, 400, "bad item name");
		return;
	}
	farm_placef(&path, cx.dir, FARM_STATE, "schedule/live/%s.log", item);
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
		t = xcalloc(1, sizeof(*t));
		t->fd = fd;
		t->path = strbuf_detach(&path, NULL);
		t->req = req;
		httpd_add_header(req, "X-Content-Type-Options", "nosniff");
		httpd_reply_stream(req, 200, "text/plain; charset=utf-8",
		    tail_read, tail_done, t);
		return;
	}
	/* finished: the last result of the item names its log */
	strbuf_setlen(&path, 0);
	farm_place(&path, cx.dir, FARM_RESULTS);
	strbuf_addstr(&lit, "\"item\":");
	json_quote(&lit, item, strlen(item));
	sel.lit = lit.buf;
	if (mlog_open(&l, path.buf, 0, &err) == RC_OK) {
		if (mlog_scan(l, &err) == RC_OK)
			(void)mlog_each(l, &cur, &sel, find_log, &f, &err);
		mlog_close(l);
	}
	if (f.hash[0] != '\0')
		serve_hash(req, f.hash);
	else
		httpd_error(req, 404, "no such build");
	strbuf_release(&path);
	strbuf_release(&lit);
	strbuf_release(&err);
}

void
status_handle(struct httpd_req *req, void *arg)
{
	const char *m = httpd_method(req), *p = httpd_path(req);
	struct strbuf sb = STRBUF_INIT;
	struct json *st;

	(void)arg;
	if (reverse_handle(req) || gomote_route(req))
		return;
	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		httpd_error(req, 405, "GET or HEAD only");
		return;
	}
	if (strcmp(p, "/status") == 0 || strcmp(p, "/status.json") == 0 ||
	    (strcmp(p, "/") == 0 && !www_present())) {
		st = serve_status();
		if (strcmp(p, "/status.json") != 0) {
			html(&sb, st);
			httpd_reply(req, 200, "text/html; charset=utf-8",
			    sb.buf, sb.len);
		} else {
			json_dump_pretty(&sb, st);
			strbuf_addch(&sb, '\n');
			httpd_reply(req, 200, "application/json", sb.buf,
			    sb.len);
		}
		json_free(st);
	} else if (strncmp(p, "/log/", 5) == 0 && is_hash(p + 5))
		serve_hash(req, p + 5);
	else if (strncmp(p, "/log/", 5) == 0)
		serve_item(req, p + 5);
	else if (strncmp(p, "/try/", 5) == 0)
		try_page(req, p + 5);
	else if (!www_present() || !www_serve(req, p))
		httpd_error(req, 404, "404 page not found");
	strbuf_release(&sb);
}

/* schedule status: plain tables, or one JSON object a line with -j */
static void
print_lines(const struct json *st)
{
	static const char *const secs[] = { "running", "queue", "results",
	    "builders", "try" };
	struct strbuf sb = STRBUF_INIT;
	struct json *a, *o, *ms;
	size_t i, j;

	if (json_get(st, "error") != NULL) {
		strbuf_addstr(&sb, "{\"type\":\"error\",\"error\":");
		json_dump(&sb, json_get(st, "error"));
		strbuf_addch(&sb, '}');
		puts(sb.buf);
	}
	a = json_get(st, "pools");
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		ms = json_get(o, "machines");
		for (j = 0; j < json_array_len(ms); j++) {
			struct json *m = json_ref(json_array_at(ms, j));

			json_set_str(m, "type", "machine");
			json_set_str(m, "hosttype",
			    json_str(json_get(o, "hosttype"), NULL));
			strbuf_setlen(&sb, 0);
			json_dump(&sb, m);
			puts(sb.buf);
			json_free(m);
		}
		if (json_get(o, "error") != NULL) {
			strbuf_setlen(&sb, 0);
			strbuf_addstr(&sb, "{\"type\":\"pool-error\",\"hosttype\":");
			json_dump(&sb, json_get(o, "hosttype"));
			strbuf_addstr(&sb, ",\"error\":");
			json_dump(&sb, json_get(o, "error"));
			strbuf_addch(&sb, '}');
			puts(sb.buf);
		}
	}
	for (i = 0; i < ARRAY_SIZE(secs); i++) {
		a = json_get(st, secs[i]);
		for (j = 0; j < json_array_len(a); j++) {
			o = json_array_at(a, j);
			strbuf_setlen(&sb, 0);
			strbuf_addstr(&sb, "{\"type\":");
			json_quote(&sb, secs[i], strlen(secs[i]));
			if (json_object_len(o) > 0) {
				struct strbuf rest = STRBUF_INIT;

				json_dump(&rest, o);
				strbuf_addch(&sb, ',');
				strbuf_add(&sb, rest.buf + 1, rest.len - 1);
				strbuf_release(&rest);
			} else
				strbuf_addch(&sb, '}');
			puts(sb.buf);
		}
	}
	strbuf_release(&sb);
}

static const char *
str(const struct json *o, const char *key)
{
	const char *s = json_str(json_get(o, key), NULL);

	return s != NULL ? s : "-";
}

static void
print_text(const struct json *st)
{
	struct json *a, *o, *ms, *m;
	size_t i, j;

	if (json_get(st, "error") != NULL)
		printf("no build starts: %s\n", esc(str(st, "error")));
	printf("%-24s %-10s %-40s %s\n", "MACHINE", "STATE", "BUILD", "IDLE");
	a = json_get(st, "pools");
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		ms = json_get(o, "machines");
		for (j = 0; j < json_array_len(ms); j++) {
			m = json_array_at(ms, j);
			printf("%-24s %-10s %-40s ", esc(str(m, "name")),
			    str(m, "state"), esc(str(m, "item")));
			if (json_get(m, "idle_s") != NULL)
				printf("%llds\n", (long long)json_int(
				    json_get(m, "idle_s")));
			else
				printf("-\n");
		}
		if (json_get(o, "error") != NULL)
			printf("# %s: %s\n", esc(str(o, "hosttype")),
			    esc(str(o, "error")));
	}
	printf("\n%-40s %-20s %-12s %-24s %s\n", "RUNNING", "BUILDER", "REV",
	    "MACHINE", "ELAPSED");
	a = json_get(st, "running");
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		printf("%-40s %-20s %-12.12s %-24s %llds\n",
		    esc(str(o, "item")), esc(str(o, "builder")),
		    str(o, "rev"), esc(str(o, "machine")),
		    (long long)json_int(json_get(o, "elapsed_s")));
	}
	printf("\n%-8s %-12s %-12s %-20s %s\n", "QUEUE", "REPO", "REV",
	    "BUILDER", "WAIT");
	a = json_get(st, "queue");
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		printf("%-8s %-12s %-12.12s %-20s %llds\n", str(o, "kind"),
		    esc(str(o, "repo")), esc(str(o, "rev")),
		    esc(str(o, "builder")),
		    (long long)json_int(json_get(o, "wait_s")));
	}
	printf("\n%-20s %-12s %-12s %-6s %-24s %s\n", "RESULT", "REPO", "REV",
	    "OK", "BUILDLET", "ELAPSED");
	a = json_get(st, "results");
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		printf("%-20s %-12s %-12.12s %-6s %-24s %.1fs\n",
		    esc(str(o, "builder")), esc(str(o, "repo")),
		    esc(str(o, "rev")),
		    json_kind(json_get(o, "ok")) == JK_TRUE ? "ok" : "FAIL",
		    esc(str(o, "buildlet")),
		    (double)json_int(json_get(o, "elapsed_ms")) / 1000);
	}
	printf("\n%-14s %-32s %s\n", "TRY", "STATE", "ELAPSED");
	a = json_get(st, "try");
	for (i = 0; i < json_array_len(a); i++) {
		char cps[48];	/* two 64-bit numbers and a slash fit */

		o = json_array_at(a, i);
		(void)snprintf(cps, sizeof(cps), "%lld/%lld",
		    (long long)json_int(json_get(o, "change")),
		    (long long)json_int(json_get(o, "patchset")));
		printf("%-14s %-32s %llds\n", cps, esc(str(o, "state")),
		    (long long)json_int(json_get(o, "elapsed_s")));
	}
}

int
cmd_status(int argc, char **argv)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp resp = HTTP_RESP_INIT;
	struct strbuf path = STRBUF_INIT, url = STRBUF_INIT, err = STRBUF_INIT;
	struct json *st;
	int ch, jflag = 0, fd;

	while ((ch = getopt(argc, argv, "+j")) != -1) {
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	farm_placef(&path, cx.dir, FARM_STATE, "schedule/addr");
	if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) == -1 ||
	    strbuf_read_fd(&url, fd, 4096) < 0)
		fatal(RC_TEMP, "no daemon: read '%s'", esc(path.buf));
	close(fd);
	strbuf_rtrim(&url);
	strbuf_addstr(&url, "/status.json");
	opt.timeout_ms = 30000;
	if (http_get(url.buf, &opt, &resp, &err) != HTTP_OK)
		fatalx(RC_TEMP, "no daemon answers: %s", err.buf);
	if ((st = json_parse(resp.body.buf, resp.body.len, &err)) == NULL)
		fatalx(RC_TEMP, "%s: %s", esc(url.buf), err.buf);
	if (jflag)
		print_lines(st);
	else
		print_text(st);
	json_free(st);
	http_resp_release(&resp);
	strbuf_release(&path);
	strbuf_release(&url);
	strbuf_release(&err);
	return RC_OK;
}
