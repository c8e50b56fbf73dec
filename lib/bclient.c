/*
 * bclient.c: the buildlet protocol client.  Every call goes through
 * call(), which turns the client's settings into one http_request and
 * its outcome into an RC_* code and a message naming the buildlet.
 *
 * What is sent follows the original Go client (buildletclient.go):
 * form fields in the order of url.Values.Encode (sorted by key), cmd,
 * debug, dir and mode always present on /exec, all four parameters on
 * /ls, the user "gomote" for HTTP Basic.
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomicfile.h"
#include "bclient.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define SMALL_BODY	(1 << 20)	/* /status, /workdir, "OK" */
#define MAX_LS_LINE	(64 * 1024)	/* a path is at most 4 KiB */

struct call {
	const struct bclient *c;
	const char *method;
	struct strbuf url;
	struct strbuf what;	/* for messages, escaped: "exec 'x'" */
	const char *ctype;
	const void *body;
	size_t body_len;
	int body_fd;
	long timeout_ms;
	/* a streamed answer: where it goes */
	const struct bclient_sink *sink;
	int (*on_body)(const void *buf, size_t len, void *arg);
	void *arg;
	struct strbuf cb_err;
	int cb_temp;		/* the callback failed for a reason of ours */
	struct http_resp resp;
};

static void
call_init(struct call *k, const struct bclient *c, const char *method,
    const char *path)
{
	size_t n = strlen(c->url);

	memset(k, 0, sizeof(*k));
	k->c = c;
	k->method = method;
	strbuf_init(&k->url, 0);
	strbuf_init(&k->what, 0);
	strbuf_init(&k->cb_err, 0);
	while (n > 0 && c->url[n - 1] == '/')
		n--;
	strbuf_add(&k->url, c->url, n);
	strbuf_addstr(&k->url, path);
	k->body_fd = -1;
	k->timeout_ms = c->timeout_ms;
	k->resp = (struct http_resp)HTTP_RESP_INIT;
}

static void
call_release(struct call *k)
{
	strbuf_release(&k->url);
	strbuf_release(&k->what);
	strbuf_release(&k->cb_err);
	http_resp_release(&k->resp);
}

/* "name 'value'" for messages, value escaped. */
static void
what(struct call *k, const char *verb, const char *arg)
{
	strbuf_addstr(&k->what, verb);
	if (arg != NULL) {
		strbuf_addstr(&k->what, " '");
		log_escape(&k->what, arg, strlen(arg));
		strbuf_addch(&k->what, '\'');
	}
}

/* Append "key=value" to a query or form body, value percent-encoded. */
static void
add_field(struct strbuf *sb, const char *key, const char *val)
{
	if (sb->len > 0 && sb->buf[sb->len - 1] != '?')
		strbuf_addch(sb, '&');
	strbuf_addstr(sb, key);
	strbuf_addch(sb, '=');
	http_urlencode(sb, val != NULL ? val : "");
}

static void
add_fields(struct strbuf *sb, const char *key, const char *const *vals)
{
	for (; vals != NULL && *vals != NULL; vals++)
		add_field(sb, key, *vals);
}

/* "buildlet NAME: WHAT: " */
static void
err_prefix(const struct call *k, struct strbuf *err)
{
	const char *name = k->c->name != NULL ? k->c->name : k->c->url;

	strbuf_addstr(err, "buildlet ");
	log_escape(err, name, strlen(name));
	strbuf_addf(err, ": %s: ", k->what.buf);
}

/* A protocol violation by the buildlet: the machine is suspect. */
static int
bad_answer(const struct call *k, struct strbuf *err, const char *why)
{
	err_prefix(k, err);
	strbuf_addstr(err, why);
	return RC_TEMP;
}

static int
sink_body(const void *buf, size_t len, void *arg)
{
	struct call *k = arg;

	if (k->sink->fn != NULL)
		return k->sink->fn(buf, len, k->sink->arg);
	if (k->sink->fd >= 0 && write_all(k->sink->fd, buf, len) == -1) {
		strbuf_addf(&k->cb_err, "write: %s", strerror(errno));
		k->cb_temp = 1;
		return -1;
	}
	return 0;
}

static int
call(struct call *k, struct strbuf *err)
{
	const struct bclient *c = k->c;
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_req req = HTTP_REQ_INIT;
	struct strbuf proxy = STRBUF_INIT, herr = STRBUF_INIT;
	const char *hdrs[2] = { NULL, NULL };
	enum http_class cls;
	int rc;

	opt.timeout_ms = k->timeout_ms;
	if (c->silence_s > 0) {
		opt.low_speed = 1;
		opt.low_speed_s = c->silence_s;
	}
	/* a streamed answer has no cap: its receiver sees it go by */
	if (k->on_body == NULL && k->sink == NULL)
		opt.max_body = SMALL_BODY;
	if (c->password != NULL) {
		opt.user = c->user != NULL ? c->user : "gomote";
		opt.password = c->password;
	}
	if (c->proxy != NULL) {
		strbuf_addf(&proxy, "X-Buildlet-Proxy: %s", c->proxy);
		hdrs[0] = proxy.buf;
		opt.headers = hdrs;
	}
	opt.cacert = c->cacert;

	req.method = k->method;
	req.url = k->url.buf;
	req.ctype = k->ctype;
	req.body = k->body;
	req.body_len = k->body_len;
	req.body_fd = k->body_fd;
	if (k->sink != NULL) {
		req.on_body = sink_body;
		req.arg = k;
	} else {
		req.on_body = k->on_body;
		req.arg = k->arg;
	}
	req.cb_err = &k->cb_err;
	req.cancel = c->cancel;
	req.conn_fd = c->conn_fd;

	if (c->conn != NULL)
		cls = http_conn_request(c->conn, &req, &opt, &k->resp, &herr);
	else
		cls = http_request(&req, &opt, &k->resp, &herr);
	strbuf_release(&proxy);
	if (cls == HTTP_OK) {
		strbuf_release(&herr);
		return RC_OK;
	}
	rc = k->cb_temp ? RC_TEMP : http_class_rc(cls);
	err_prefix(k, err);
	strbuf_add(err, herr.buf, herr.len);
	strbuf_release(&herr);
	return rc;
}

/* The whole small answer, trailing newline and spaces cut. */
static const char *
answer(struct call *k)
{
	strbuf_rtrim(&k->resp.body);
	return k->resp.body.buf;
}

int
bclient_status(const struct bclient *c, int *version, struct strbuf *err)
{
	struct strbuf jerr = STRBUF_INIT;
	struct call k;
	struct json *j;
	int64_t v;
	int rc;

	call_init(&k, c, "GET", "/status");
	what(&k, "status", NULL);
	if ((rc = call(&k, err)) != RC_OK)
		goto out;
	j = json_parse(k.resp.body.buf, k.resp.body.len, &jerr);
	if (j == NULL || !json_get_int(json_get(j, "Version"), &v) ||
	    v < 1 || v > INT32_MAX) {
		strbuf_addstr(&jerr, j == NULL ? "" : "no Version");
		err_prefix(&k, err);
		strbuf_addstr(err, "bad answer '");
		log_escape(err, k.resp.body.buf, k.resp.body.len < 128 ?
		    k.resp.body.len : 128);
		strbuf_addstr(err, "': ");
		strbuf_add(err, jerr.buf, jerr.len);
		rc = RC_TEMP;
	} else
		*version = (int)v;
	json_free(j);
out:
	strbuf_release(&jerr);
	call_release(&k);
	return rc;
}

int
bclient_workdir(const struct bclient *c, struct strbuf *out,
    struct strbuf *err)
{
	struct call k;
	int rc;

	call_init(&k, c, "GET", "/workdir");
	what(&k, "workdir", NULL);
	if ((rc = call(&k, err)) == RC_OK) {
		strbuf_reset(out);
		strbuf_addstr(out, answer(&k));
	}
	call_release(&k);
	return rc;
}

static int
put_file(const struct bclient *c, const char *path, mode_t mode,
    const void *buf, size_t len, int fd, struct strbuf *err)
{
	struct call k;
	int rc;

	call_init(&k, c, "PUT", "/write?");
	strbuf_addf(&k.url, "mode=%u", (unsigned)(mode & 0777));
	add_field(&k.url, "path", path);
	what(&k, "write", path);
	k.body = fd >= 0 ? NULL : buf != NULL ? buf : "";
	k.body_len = len;
	k.body_fd = fd;
	rc = call(&k, err);
	call_release(&k);
	return rc;
}

int
bclient_write(const struct bclient *c, const char *path, mode_t mode,
    const void *buf, size_t len, struct strbuf *err)
{
	return put_file(c, path, mode, buf, len, -1, err);
}

int
bclient_write_fd(const struct bclient *c, const char *path, mode_t mode,
    int fd, struct strbuf *err)
{
	return put_file(c, path, mode, NULL, 0, fd, err);
}

int
bclient_writetgz(const struct bclient *c, const char *dir, int fd,
    struct strbuf *err)
{
	struct call k;
	int rc;

	call_init(&k, c, "PUT", "/writetgz?");
	add_field(&k.url, "dir", dir);
	what(&k, "writetgz", dir != NULL ? dir : "");
	k.body_fd = fd;
	rc = call(&k, err);
	call_release(&k);
	return rc;
}

int
bclient_writetgz_url(const struct bclient *c, const char *dir,
    const char *url, int *skipped, struct strbuf *err)
{
	struct strbuf form = STRBUF_INIT;
	struct call k;
	int rc;

	call_init(&k, c, "POST", "/writetgz?");
	add_field(&k.url, "dir", dir);
	what(&k, "writetgz", dir != NULL ? dir : "");
	strbuf_addstr(&k.what, " from");
	what(&k, "", url);
	add_field(&form, "url", url);
	k.ctype = "application/x-www-form-urlencoded";
	k.body = form.buf;
	k.body_len = form.len;
	rc = call(&k, err);
	if (rc == RC_OK && skipped != NULL)
		*skipped = strcmp(answer(&k), "SKIP") == 0;
	strbuf_release(&form);
	call_release(&k);
	return rc;
}

int
bclient_tgz(const struct bclient *c, const char *dir, int one_member,
    const struct bclient_sink *out, struct strbuf *err)
{
	static const struct bclient_sink none = BCLIENT_SINK_INIT;
	struct call k;
	int rc;

	call_init(&k, c, "GET", "/tgz?");
	add_field(&k.url, "dir", dir);
	if (one_member)
		add_field(&k.url, "pargzip", "0");
	what(&k, "tgz", dir != NULL ? dir : "");
	k.sink = out != NULL ? out : &none;
	rc = call(&k, err);
	call_release(&k);
	return rc;
}

/* A POST of a form (or of nothing) whose answer does not matter. */
static int
post_form(const struct bclient *c, const char *path, const char *verb,
    const struct strbuf *form, struct strbuf *err)
{
	struct call k;
	int rc;

	call_init(&k, c, "POST", path);
	what(&k, verb, NULL);
	k.ctype = form->len > 0 ? "application/x-www-form-urlencoded" : NULL;
	k.body = form->buf;
	k.body_len = form->len;
	rc = call(&k, err);
	call_release(&k);
	return rc;
}

int
bclient_removeall(const struct bclient *c, const char *const *paths,
    struct strbuf *err)
{
	struct strbuf form = STRBUF_INIT;
	int rc;

	if (paths == NULL || paths[0] == NULL)
		return RC_OK;
	add_fields(&form, "path", paths);
	rc = post_form(c, "/removeall", "removeall", &form, err);
	strbuf_release(&form);
	return rc;
}

int
bclient_halt(const struct bclient *c, struct strbuf *err)
{
	struct strbuf none = STRBUF_INIT;

	return post_form(c, "/halt", "halt", &none, err);
}

/* ---- /exec ---- */

/*
 * The number of the signal Go calls name: Go's words on Linux are the
 * C library's descriptions with a lower-case first letter ("killed",
 * "segmentation fault"), so glibc's sigdescr_np (thread-safe, unlike
 * strsignal) knows them all.  0 when unknown.
 */
static int
signal_number(const char *name, size_t n)
{
	const char *d;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if ((d = sigdescr_np(sig)) != NULL &&
		    strncasecmp(d, name, n) == 0 && d[n] == '\0')
			return sig;
	return 0;
}

int
bclient_parse_state(const char *state, const char *exit_code,
    struct bclient_result *res)
{
	const char *p, *cd;
	int n, code;

	snprintf(res->state, sizeof(res->state), "%s", state);
	res->started = 1;
	res->signal = 0;
	if (strcmp(state, "ok") == 0)
		res->code = 0;
	else if (strncmp(state, "exit status ", 12) == 0 &&
	    num_parse_int(state + 12, 0, INT_MAX, &n) == 0)
		res->code = n;
	else if (strncmp(state, "signal: ", 8) == 0) {
		p = state + 8;
		/* "signal: segmentation fault (core dumped)" */
		cd = strstr(p, " (core dumped)");
		res->signal = signal_number(p, cd != NULL ? (size_t)(cd - p) :
		    strlen(p));
		res->code = res->signal > 0 ? 128 + res->signal : 255;
	} else if (strncmp(state, "signal ", 7) == 0 &&
	    num_parse_int(state + 7, 1, 127, &n) == 0) {
		res->signal = n;
		res->code = 128 + n;
	} else {
		/* why it could not start, in Go's words or ours */
		res->started = 0;
		res->code = strstr(state, "no such file or directory") !=
		    NULL || strstr(state, "executable file not found") !=
		    NULL ? 127 : 126;
	}
	if (exit_code == NULL)
		return 0;
	if (num_parse_int(exit_code, 0, 255, &code) == -1)
		return -1;
	res->code = code;
	if (res->signal == 0 && res->started && code > 128 &&
	    strncmp(state, "signal", 6) == 0)
		res->signal = code - 128;
	return 0;
}

int
bclient_exec(const struct bclient *c, const struct bclient_exec *x,
    struct bclient_result *res, struct strbuf *err)
{
	static const char *const empty_path[] = { "$EMPTY", NULL };
	struct strbuf form = STRBUF_INIT, state = STRBUF_INIT,
	    code = STRBUF_INIT;
	char tbuf[32];
	long long t0 = mono_ms();
	struct call k;
	int rc;

	memset(res, 0, sizeof(*res));
	call_init(&k, c, "POST", "/exec");
	what(&k, "exec", x->cmd != NULL ? x->cmd : "");
	/* url.Values.Encode order: sorted by key */
	add_field(&form, "cmd", x->cmd);
	add_fields(&form, "cmdArg", x->args);
	add_field(&form, "debug", x->debug ? "true" : "false");
	add_field(&form, "dir", x->dir);
	add_fields(&form, "env", x->env);
	add_field(&form, "mode", x->sys ? "sys" : "");
	add_fields(&form, "path", x->path != NULL && x->path[0] == NULL ?
	    empty_path : x->path);
	if (x->timeout_s > 0) {
		if (snprintf(tbuf, sizeof(tbuf), "%ld", x->timeout_s) >=
		    (int)sizeof(tbuf))
			abort();
		add_field(&form, "timeout", tbuf);
		k.timeout_ms = (x->timeout_s + BCLIENT_EXEC_GRACE_S) * 1000;
	}
	k.ctype = "application/x-www-form-urlencoded";
	k.body = form.buf;
	k.body_len = form.len;
	k.sink = &x->out;
	rc = call(&k, err);
	res->elapsed_ms = mono_ms() - t0;
	if (rc != RC_OK)
		goto out;
	if (http_resp_header(&k.resp, "Process-State", &state) == -1) {
		rc = bad_answer(&k, err, "no Process-State trailer: the "
		    "answer was cut short");
		goto out;
	}
	if (bclient_parse_state(state.buf, http_resp_header(&k.resp,
	    "X-Exit-Code", &code) == 0 ? code.buf : NULL, res) == -1) {
		err_prefix(&k, err);
		strbuf_addstr(err, "bad X-Exit-Code '");
		log_escape(err, code.buf, code.len);
		strbuf_addch(err, '\'');
		rc = RC_TEMP;
		goto out;
	}
	res->timed_out = x->timeout_s > 0 && res->signal == SIGKILL &&
	    res->elapsed_ms >= x->timeout_s * 1000;
out:
	strbuf_release(&form);
	strbuf_release(&state);
	strbuf_release(&code);
	call_release(&k);
	return rc;
}

/* ---- /ls ---- */

/* Go's FileMode.String(): type letters (or '-'), then rwxrwxrwx. */
static int
parse_mode(const char *s, mode_t *out)
{
	static const char rwx[] = "rwxrwxrwx";
	size_t n = strlen(s), i;
	mode_t m = 0, type = 0;

	if (n < 10)
		return -1;
	for (i = 0; i < 9; i++) {
		if (s[n - 9 + i] == rwx[i])
			m |= 0400 >> i;
		else if (s[n - 9 + i] != '-')
			return -1;
	}
	for (i = 0; i < n - 9; i++)
		switch (s[i]) {
		case '-':
			if (n != 10)
				return -1;
			break;
		case 'd': type = S_IFDIR; break;
		case 'L': type = S_IFLNK; break;
		case 'D': type = type == S_IFCHR ? S_IFCHR : S_IFBLK; break;
		case 'c': type = S_IFCHR; break;
		case 'p': type = S_IFIFO; break;
		case 'S': type = S_IFSOCK; break;
		case 'u': m |= S_ISUID; break;
		case 'g': m |= S_ISGID; break;
		case 't': m |= S_ISVTX; break;
		case 'a': case 'l': case 'T': case '?':
			break;
		default:
			return -1;
		}
	*out = m | (type != 0 ? type : S_IFREG);
	return 0;
}

static int
parse_mtime(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL ||
	    strcmp(end, "Z") != 0)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
bclient_ls_parse(char *line, struct bclient_dirent *e)
{
	char *f[6];
	size_t nf = 0, i;
	int64_t size;
	char *p = line;

	memset(e, 0, sizeof(*e));
	for (;;) {
		if (nf == ARRAY_SIZE(f))
			return -1;
		f[nf++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	if (parse_mode(f[0], &e->mode) == -1 || f[1][0] == '\0')
		return -1;
	e->modestr = f[0];
	e->name = f[1];
	e->size = -1;
	if (S_ISDIR(e->mode) != (f[1][strlen(f[1]) - 1] == '/'))
		return -1;
	if (!S_ISREG(e->mode))
		return nf == 2 ? 0 : -1;
	if ((nf != 4 && nf != 5) ||
	    num_parse_i64(f[2], 0, INT64_MAX, &size) == -1 ||
	    parse_mtime(f[3], &e->mtime) == -1)
		return -1;
	e->size = size;
	if (nf == 5) {
		if (strlen(f[4]) != 40)
			return -1;
		for (i = 0; i < 40; i++)
			if (strchr("0123456789abcdef", f[4][i]) == NULL)
				return -1;
		e->digest = f[4];
	}
	return 0;
}

struct lsstate {
	struct call *k;
	struct strbuf line;
	int (*fn)(const struct bclient_dirent *e, void *arg);
	void *arg;
};

static int
ls_line(struct lsstate *ls)
{
	struct bclient_dirent e;
	struct strbuf *why = &ls->k->cb_err;

	if (strlen(ls->line.buf) != ls->line.len ||
	    bclient_ls_parse(ls->line.buf, &e) == -1) {
		strbuf_addstr(why, "bad line '");
		log_escape(why, ls->line.buf, ls->line.len < 200 ?
		    ls->line.len : 200);
		strbuf_addch(why, '\'');
		ls->k->cb_temp = 1;
		return -1;
	}
	return ls->fn(&e, ls->arg);
}

static int
ls_body(const void *buf, size_t len, void *arg)
{
	struct lsstate *ls = arg;
	const char *p = buf, *end = p + len, *nl;
	int rc;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (ls->line.len + (size_t)((nl != NULL ? nl : end) - p) >
		    MAX_LS_LINE) {
			strbuf_addf(&ls->k->cb_err, "a line over %d bytes",
			    MAX_LS_LINE);
			ls->k->cb_temp = 1;
			return -1;
		}
		if (nl == NULL)
			break;
		strbuf_add(&ls->line, p, (size_t)(nl - p));
		rc = ls_line(ls);
		strbuf_reset(&ls->line);
		if (rc == -1)
			return -1;
		p = nl + 1;
	}
	strbuf_add(&ls->line, p, (size_t)(end - p));
	return 0;
}

int
bclient_ls(const struct bclient *c, const char *dir,
    const struct bclient_ls *o,
    int (*fn)(const struct bclient_dirent *e, void *arg), void *arg,
    struct strbuf *err)
{
	static const struct bclient_ls none = BCLIENT_LS_INIT;
	struct lsstate ls;
	struct call k;
	int rc;

	if (o == NULL)
		o = &none;
	call_init(&k, c, "GET", "/ls?");
	/* url.Values.Encode order, all four always, as the Go client */
	add_field(&k.url, "digest", o->digest ? "true" : "false");
	add_field(&k.url, "dir", dir != NULL && *dir != '\0' ? dir : ".");
	add_field(&k.url, "recursive", o->recursive ? "true" : "false");
	add_fields(&k.url, "skip", o->skip);
	what(&k, "ls", dir != NULL ? dir : "");
	memset(&ls, 0, sizeof(ls));
	ls.k = &k;
	strbuf_init(&ls.line, 0);
	ls.fn = fn;
	ls.arg = arg;
	k.on_body = ls_body;
	k.arg = &ls;
	rc = call(&k, err);
	if (rc == RC_OK && ls.line.len > 0)
		rc = bad_answer(&k, err, "the answer ends inside a line");
	strbuf_release(&ls.line);
	call_release(&k);
	return rc;
}

static int
collect(const struct bclient_dirent *e, void *arg)
{
	struct bclient_dirlist *l = arg;
	struct bclient_dirent *d;

	GROW(l->v, l->n + 1, l->alloc);
	d = &l->v[l->n++];
	*d = *e;
	d->name = xstrdup(e->name);
	d->modestr = xstrdup(e->modestr);
	d->digest = e->digest != NULL ? xstrdup(e->digest) : NULL;
	return 0;
}

int
bclient_ls_all(const struct bclient *c, const char *dir,
    const struct bclient_ls *o, struct bclient_dirlist *out,
    struct strbuf *err)
{
	return bclient_ls(c, dir, o, collect, out, err);
}

void
bclient_dirlist_release(struct bclient_dirlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].modestr);
		free(l->v[i].digest);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

/* ---- /connect-ssh ---- */

int
bclient_connect_ssh(const struct bclient *c, const char *user,
    const char *key, int *fd, struct strbuf *err)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct strbuf h[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	struct strbuf herr = STRBUF_INIT;
	const char *hdrs[4];
	enum http_class cls;
	struct call k;
	size_t n = 0;
	int rc = RC_OK;

	*fd = -1;
	call_init(&k, c, "POST", "/connect-ssh");
	what(&k, "connect-ssh", NULL);
	if (c->conn != NULL || c->conn_fd >= 0) {
		err_prefix(&k, err);
		strbuf_addstr(err, "not over a dialled-in connection");
		call_release(&k);
		return RC_PERM;
	}
	if (c->proxy != NULL) {
		strbuf_addf(&h[n], "X-Buildlet-Proxy: %s", c->proxy);
		hdrs[n] = h[n].buf;
		n++;
	}
	if (user != NULL && key != NULL) {
		strbuf_addf(&h[n], "X-Go-Ssh-User: %s", user);
		hdrs[n] = h[n].buf;
		n++;
		strbuf_addf(&h[n], "X-Go-Authorized-Key: %s", key);
		hdrs[n] = h[n].buf;
		n++;
	}
	hdrs[n] = NULL;
	opt.headers = hdrs;
	opt.timeout_ms = c->timeout_ms;
	opt.cacert = c->cacert;
	if (c->password != NULL) {
		opt.user = c->user != NULL ? c->user : "gomote";
		opt.password = c->password;
	}
	if ((cls = http_upgrade("POST", k.url.buf, "ssh", &opt, fd, &k.resp,
	    &herr)) != HTTP_OK) {
		rc = http_class_rc(cls);
		err_prefix(&k, err);
		strbuf_add(err, herr.buf, herr.len);
	}
	for (n = 0; n < 3; n++)
		strbuf_release(&h[n]);
	strbuf_release(&herr);
	call_release(&k);
	return rc;
}
