/*
 * gomote: borrow a buildlet from the terminal.
 *
 * An instance is a buildlet leased from the coordinator (schedule
 * serve: POST /buildlet/create, GET /buildlet/list, then the buildlet
 * protocol with X-Buildlet-Proxy: NAME), or, in direct mode, a buildlet
 * named BUILDER@HOST[:PORT] that gomote talks to itself.  Either way the
 * talking is lib/bclient's; the coordinator's own endpoints (those two
 * and GET /buildlet/builders, for create's prefix and run -builderenv)
 * are here.
 *
 *   gomote.c    identity, configuration, create, list and the commands
 *               that are one buildlet call each
 *   push.c      push: delta sync of a local tree by SHA-1
 *   ssh.c       ssh: OpenSSH over /connect-ssh
 *   progress.c  bytes, rate and ETA on a terminal
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bclient.h"
#include "extern.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "strvec.h"
#include "subcmd.h"
#include "xmalloc.h"

/* the oldest server that streams {"status":...} lines before the answer */
#define CREATE_VERSION	"20191119"
#define TOKEN_MAX	4096

static const char *uflag;	/* -user */
static char *login;		/* "user-NAME", the HTTP Basic user */
static char *token;
static char *coordinator;
static char *direct_url;	/* instance()'s, kept to the end */

static void
print_usage(FILE *fp)
{
	fprintf(fp,
"usage: gomote [-user login] create [-hold result] [builder]\n"
"       gomote [-user login] destroy instance\n"
"       gomote [-user login] list [-j]\n"
"       gomote [-user login] ls [-dR] [-skip dir,...] instance [dir]\n"
"       gomote [-user login] ping instance\n"
"       gomote [-user login] push [-dry-run] [-dest dir] [-dir dir] instance\n"
"       gomote [-user login] put [-mode mode] instance file [dest]\n"
"       gomote [-user login] puttar [-dir dir] [-url url] instance [file]\n"
"       gomote [-user login] gettar [-dir dir] instance\n"
"       gomote [-user login] rm instance path ...\n"
"       gomote [-user login] run [-debug] [-system] [-builderenv builder]\n"
"                [-dir dir] [-e key=value] [-path dir,...] instance cmd [arg ...]\n"
"       gomote [-user login] ssh instance\n");
}

void
usage(void)
{
	print_usage(stderr);
	exit(RC_PERM);
}

/* $XDG_CONFIG_HOME/gomote, else ~/.config/gomote, into out */
static void
config_dir(struct strbuf *out)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (x != NULL && x[0] == '/') {
		strbuf_addf(out, "%s/gomote", x);
		return;
	}
	if ((home == NULL || home[0] == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	strbuf_addf(out, "%s/.config/gomote", home != NULL ? home : "");
}

/*
 * The first line of file, trimmed: 1, 0 when it does not exist, -1
 * when it cannot be read (a message printed).
 */
static int
read_line(const char *file, struct strbuf *out)
{
	int fd;
	ssize_t n;
	char *nl;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("open %s", esc(file));
		return -1;
	}
	n = strbuf_read_fd(out, fd, TOKEN_MAX);
	close(fd);
	if (n < 0) {
		log_warn("read %s", esc(file));
		return -1;
	}
	if ((nl = memchr(out->buf, '\n', out->len)) != NULL)
		strbuf_setlen(out, (size_t)(nl - out->buf));
	strbuf_rtrim(out);
	return 1;
}

/*
 * Who we are to the coordinator and where it is (gomote(1), FILES):
 * the login from -user or $USER, renamed by user-LOGIN.user; the token
 * from user-LOGIN.token; the URL from $GOMOTE_COORDINATOR or the file
 * coordinator.
 */
static void
identity(void)
{
	struct strbuf dir = STRBUF_INIT, f = STRBUF_INIT, v = STRBUF_INIT;
	const char *u = uflag != NULL ? uflag : getenv("USER");
	const char *env;
	struct passwd *pw;
	int r;

	if (login != NULL)
		return;
	if ((u == NULL || *u == '\0') && (pw = getpwuid(getuid())) != NULL)
		u = pw->pw_name;
	if (u == NULL || *u == '\0' || strchr(u, '/') != NULL)
		fatalx(RC_PERM, "no user name: give -user");
	config_dir(&dir);

	strbuf_addf(&f, "%s/user-%s.user", dir.buf, u);
	if ((r = read_line(f.buf, &v)) == -1)
		exit(RC_TEMP);
	login = r == 1 && v.len > 0 ? xstrdup(v.buf) : xstrdup(u);
	strbuf_reset(&v);
	strbuf_reset(&f);
	strbuf_addf(&f, "user-%s", login);
	free(login);
	login = strbuf_detach(&f, NULL);

	strbuf_addf(&f, "%s/user-%s.token", dir.buf, u);
	if ((r = read_line(f.buf, &v)) == -1)
		exit(RC_TEMP);
	if (r == 0 || v.len == 0)
		fatalx(RC_PERM, "no token in %s: an admin of the farm makes "
		    "one with 'schedule key %s'; put it there", esc(f.buf),
		    esc(login));
	token = strbuf_detach(&v, NULL);

	if ((env = getenv("GOMOTE_COORDINATOR")) != NULL && *env != '\0')
		coordinator = xstrdup(env);
	else {
		strbuf_reset(&f);
		strbuf_addf(&f, "%s/coordinator", dir.buf);
		if ((r = read_line(f.buf, &v)) == -1)
			exit(RC_TEMP);
		if (r == 0 || v.len == 0)
			fatalx(RC_PERM, "no coordinator: set "
			    "$GOMOTE_COORDINATOR or write its URL in %s",
			    esc(f.buf));
		coordinator = strbuf_detach(&v, NULL);
	}
	strbuf_release(&dir);
	strbuf_release(&f);
	strbuf_release(&v);
}

void
instance(const char *arg, struct bclient *c)
{
	const char *at = strchr(arg, '@');
	struct strbuf u = STRBUF_INIT;

	*c = (struct bclient)BCLIENT_INIT;
	c->name = arg;
	if (at != NULL) {
		if (at == arg || at[1] == '\0')
			fatalx(RC_PERM, "bad instance '%s': want "
			    "BUILDER@HOST[:PORT]", esc(arg));
		strbuf_addf(&u, "http://%s", at + 1);
		if (strchr(at + 1, ':') == NULL)
			strbuf_addstr(&u, ":80");
		free(direct_url);
		c->url = direct_url = strbuf_detach(&u, NULL);
		c->password = getenv("BUILDLET_PASSWORD");
		return;
	}
	identity();
	c->url = coordinator;
	c->user = login;
	c->password = token;
	c->proxy = arg;
}

int
call_failed(const char *inst, int rc, const struct strbuf *err)
{
	if (strchr(inst, '@') == NULL &&
	    strstr(err->buf, "unknown or expired buildlet") != NULL) {
		log_warnx("instance %s does not exist: it expired or was "
		    "destroyed ('gomote list' shows yours)", esc(inst));
		return RC_PERM;
	}
	log_warnx("%s", err->buf);
	return rc;
}

/* The builder of an instance: BUILDER@..., or user-LOGIN-BUILDER-N. */
static char *
builder_of(const char *inst)
{
	const char *at = strchr(inst, '@'), *b, *e;
	size_t n;

	if (at != NULL)
		return xmemdupz(inst, (size_t)(at - inst));
	identity();
	n = strlen(login);
	if (strncmp(inst, login, n) != 0 || inst[n] != '-')
		return NULL;
	b = inst + n + 1;
	if ((e = strrchr(b, '-')) == NULL || e == b)
		return NULL;
	return xmemdupz(b, (size_t)(e - b));
}

/*
 * getopt for a command whose one option is -NAME VALUE: VALUE, or NULL
 * when it is not given; optind is then at the operands.
 */
static const char *
string_option(int argc, char **argv, const char *name)
{
	const struct option lo[] = {
		{ name, required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *v = NULL;
	int ch;

	while ((ch = getopt_long_only(argc, argv, "+", lo, NULL)) != -1) {
		if (ch != 'o')
			usage();
		v = optarg;
	}
	return v;
}

/* ---- the coordinator's own endpoints ---- */

/*
 * A request to the coordinator: RC_OK, else said and its RC_*; with
 * no404, a 404 is RC_NO, unsaid.
 */
static int
coord_call(const char *method, const char *path, const struct strbuf *form,
    int (*on_body)(const void *, size_t, void *), void *arg,
    struct http_resp *resp, int no404)
{
	struct http_req req = HTTP_REQ_INIT;
	struct http_opt opt = HTTP_OPT_INIT;
	struct strbuf url = STRBUF_INIT, err = STRBUF_INIT;
	enum http_class cls;
	size_t n;

	identity();
	n = strlen(coordinator);
	while (n > 0 && coordinator[n - 1] == '/')
		n--;
	strbuf_add(&url, coordinator, n);
	strbuf_addstr(&url, path);
	req.method = method;
	req.url = url.buf;
	if (form != NULL) {
		req.ctype = "application/x-www-form-urlencoded";
		req.body = form->buf;
		req.body_len = form->len;
	}
	req.on_body = on_body;
	req.arg = arg;
	opt.user = login;
	opt.password = token;
	opt.max_body = 1 << 20;
	cls = http_request(&req, &opt, resp, &err);
	strbuf_release(&url);
	if (cls == HTTP_OK || (no404 && resp->status == 404)) {
		strbuf_release(&err);
		return cls == HTTP_OK ? RC_OK : RC_NO;
	}
	if (resp->status == 401 || resp->status == 403)
		log_warnx("coordinator: %s (is the token of %s right?)",
		    err.buf, esc(login));
	else
		log_warnx("coordinator: %s", err.buf);
	strbuf_release(&err);
	return http_class_rc(cls);
}

/*
 * The JSON array of GET path, the instance list or the builders, into
 * *out; coord_call's RC_*, *out NULL but for RC_OK.
 */
static int
coord_array(const char *path, struct json **out, int no404)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf jerr = STRBUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = coord_call("GET", path, NULL, NULL, NULL, &r,
	    no404)) != RC_OK)
		goto out;
	if ((*out = json_parse(r.body.buf, r.body.len, &jerr)) == NULL ||
	    json_kind(*out) != JK_ARRAY) {
		log_warnx("coordinator: %s: bad answer: %s", path,
		    jerr.len > 0 ? jerr.buf : "not an array");
		json_free(*out);
		*out = NULL;
		rc = RC_TEMP;
	}
out:
	http_resp_release(&r);
	strbuf_release(&jerr);
	return rc;
}

static const char *
field(const struct json *o, const char *key)
{
	const char *s = json_str(json_get(o, key), NULL);

	return s != NULL ? s : "";
}

/* "expires in 29m59s" from an RFC 3339 time */
static void
expires_in(struct strbuf *out, const char *t)
{
	struct tm tm;
	const char *end;
	time_t when;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL) {
		strbuf_addf(out, "expires %s", t);
		return;
	}
	when = timegm(&tm);
	strbuf_addstr(out, "expires in ");
	num_format_duration(out, when > time(NULL) ? when - time(NULL) : 0);
}

static int
cmd_list(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	struct json *a, *o;
	int ch, jflag = 0, rc;
	size_t i;

	while ((ch = getopt(argc, argv, "+j")) != -1)
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		default:
			usage();
		}
	if (optind != argc)
		usage();
	if ((rc = coord_array("/buildlet/list", &a, 0)) != RC_OK)
		return rc;
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		strbuf_reset(&sb);
		if (jflag)
			json_dump(&sb, o);
		else {
			strbuf_addf(&sb, "%s\t%s\t%s\t", esc(field(o, "Name")),
			    esc(field(o, "BuilderType")),
			    esc(field(o, "HostType")));
			if (json_get(o, "Lost") != NULL)
				strbuf_addf(&sb, "lost: %s",
				    esc(field(o, "Lost")));
			else
				expires_in(&sb, field(o, "Expires"));
		}
		puts(sb.buf);
	}
	json_free(a);
	strbuf_release(&sb);
	return fflush(stdout) == EOF ? RC_TEMP : RC_OK;
}

/* The builder of the array a named name, or NULL. */
static const struct json *
builder_find(const struct json *a, const char *name)
{
	size_t i;

	for (i = 0; i < json_array_len(a); i++)
		if (strcmp(field(json_array_at(a, i), "name"), name) == 0)
			return json_array_at(a, i);
	return NULL;
}

/*
 * The builder that arg means, as the original: the one of that name,
 * else the one whose name it is a prefix of; NULL, said, when there is
 * none or more than one.
 */
static const struct json *
builder_match(const struct json *a, const char *arg)
{
	const struct json *o, *match;
	struct strbuf names = STRBUF_INIT;
	size_t i, n = 0, len = strlen(arg);

	if ((match = builder_find(a, arg)) != NULL)
		return match;
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		if (strncmp(field(o, "name"), arg, len) != 0)
			continue;
		strbuf_addf(&names, "%s%s", n > 0 ? ", " : "",
		    esc(field(o, "name")));
		match = o;
		n++;
	}
	if (n == 0)
		log_warnx("no builder '%s' on the coordinator", esc(arg));
	else if (n > 1)
		log_warnx("builder '%s' is ambiguous: %s", esc(arg),
		    names.buf);
	strbuf_release(&names);
	return n == 1 ? match : NULL;
}

/*
 * The coordinator's builders (GET /buildlet/builders) into *a, or NULL
 * when it is the original, which has none: RC_OK, else said.
 */
static int
builders(struct json **a)
{
	int rc = coord_array("/buildlet/builders", a, 1);

	return rc == RC_NO ? RC_OK : rc;
}

/* gomote create without a builder: the builders and their host types */
static int
list_builders(void)
{
	struct json *a, *o;
	size_t i;
	int rc;

	if ((rc = builders(&a)) != RC_OK)
		return rc;
	if (a == NULL)
		usage();	/* the original's client knew them itself */
	for (i = 0; i < json_array_len(a); i++) {
		o = json_array_at(a, i);
		printf("%s\t%s\n", esc(field(o, "name")),
		    esc(field(o, "hosttype")));
	}
	json_free(a);
	return fflush(stdout) == EOF ? RC_TEMP : RC_OK;
}

/*
 * The answer to a create: progress lines {"status":...} (servers from
 * CREATE_VERSION on), then the instance as one JSON object, which the
 * 2017 servers indented over several lines.
 */
struct create {
	struct strbuf pending;
	struct json *inst;
};

static void
create_status(const struct json *o)
{
	struct strbuf sb = STRBUF_INIT;
	int64_t q;

	strbuf_addf(&sb, "create: %s", esc(field(o, "status")));
	if (json_get_int(json_get(o, "queue"), &q))
		strbuf_addf(&sb, ", %lld ahead", (long long)q);
	if (json_get(o, "waiting_for") != NULL)
		strbuf_addf(&sb, ": %s", esc(field(o, "waiting_for")));
	log_warnx("%s", sb.buf);
	strbuf_release(&sb);
}

/*
 * Consume the complete objects at the start of pending: each ends at a
 * newline (or, when last, at the end), so the text up to each newline
 * in turn is tried until it parses.
 */
static void
create_lines(struct create *c, int last)
{
	struct strbuf jerr = STRBUF_INIT;
	struct json *o;
	const char *base, *nl;
	size_t used = 0, rest, end;

	for (;;) {
		base = c->pending.buf + used;
		rest = c->pending.len - used;
		o = NULL;
		for (end = 0; end < rest && o == NULL; ) {
			nl = memchr(base + end, '\n', rest - end);
			if (nl == NULL && !last)
				break;
			end = nl != NULL ? (size_t)(nl - base) + 1 : rest;
			strbuf_reset(&jerr);
			o = json_parse(base, end, &jerr);
		}
		if (o == NULL)
			break;
		if (json_get(o, "Name") == NULL &&
		    json_get(o, "status") != NULL) {
			create_status(o);
			json_free(o);
		} else {
			json_free(c->inst);
			c->inst = o;
		}
		used += end;
	}
	if (used > 0) {
		memmove(c->pending.buf, c->pending.buf + used,
		    c->pending.len - used);
		strbuf_setlen(&c->pending, c->pending.len - used);
	}
	strbuf_release(&jerr);
}

static int
create_body(const void *buf, size_t len, void *arg)
{
	struct create *c = arg;

	if (c->pending.len + len > (1 << 20))
		return -1;
	strbuf_add(&c->pending, buf, len);
	if (memchr(buf, '\n', len) != NULL)
		create_lines(c, 0);
	return 0;
}

static int
cmd_create(int argc, char **argv)
{
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf form = STRBUF_INIT;
	struct create c = { STRBUF_INIT, NULL };
	const struct json *b;
	struct json *o, *a = NULL;
	const char *hold = string_option(argc, argv, "hold");
	const char *bt = "";
	int rc;

	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage();
	if (argc == 0 && hold == NULL)
		return list_builders();
	/*
	 * a held machine is of the failed build's builder: no matching;
	 * nor with the original coordinator, which names no builders
	 */
	if (argc > 0 && hold == NULL) {
		if ((rc = builders(&a)) != RC_OK)
			return rc;
		if (a == NULL)
			bt = argv[0];
		else if ((b = builder_match(a, argv[0])) == NULL) {
			json_free(a);
			return RC_PERM;
		} else
			bt = field(b, "name");
	} else if (argc > 0)
		bt = argv[0];
	strbuf_addstr(&form, "builderType=");
	http_urlencode(&form, bt);
	if (hold != NULL) {
		strbuf_addstr(&form, "&hold=");
		http_urlencode(&form, hold);
	}
	strbuf_addstr(&form, "&version=" CREATE_VERSION);
	rc = coord_call("POST", "/buildlet/create", &form, create_body, &c,
	    &r, 0);
	if (rc == RC_OK) {
		create_lines(&c, 1);
		o = c.inst;
		if (o == NULL || json_str(json_get(o, "Name"), NULL) == NULL) {
			log_warnx("coordinator: /buildlet/create: no instance "
			    "in the answer");
			rc = RC_TEMP;
		} else
			printf("%s\n", esc(field(o, "Name")));
	} else if (argc > 0 && r.status == 400 &&
	    strstr(r.body.buf, "unknown builder") != NULL)
		log_warnx("no builder '%s' on the coordinator", esc(bt));
	json_free(a);
	json_free(c.inst);
	strbuf_release(&c.pending);
	strbuf_release(&form);
	http_resp_release(&r);
	if (rc == RC_OK && fflush(stdout) == EOF)
		rc = RC_TEMP;
	return rc;
}

/* ---- one buildlet call each ---- */

/* getopt for a command that takes only "instance" */
static const char *
one_instance(int argc, char **argv)
{
	if (getopt(argc, argv, "+") != -1 || optind + 1 != argc)
		usage();
	return argv[optind];
}

static int
cmd_destroy(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	const char *inst = one_instance(argc, argv);
	struct bclient c;
	int rc;

	instance(inst, &c);
	if ((rc = bclient_halt(&c, &err)) != RC_OK)
		rc = call_failed(inst, rc, &err);
	strbuf_release(&err);
	return rc;
}

static int
cmd_ping(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, wd = STRBUF_INIT;
	const char *inst = one_instance(argc, argv);
	struct bclient c;
	int rc;

	instance(inst, &c);
	c.timeout_ms = 30000;
	if ((rc = bclient_workdir(&c, &wd, &err)) != RC_OK)
		rc = call_failed(inst, rc, &err);
	strbuf_release(&err);
	strbuf_release(&wd);
	return rc;
}

/* a comma-separated list into sv */
static void
split_commas(struct strvec *sv, const char *s)
{
	const char *e;

	for (; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchrnul(s, ',');
		if (e > s)
			strvec_pushf(sv, "%.*s", (int)(e - s), s);
	}
}

static int
ls_line(const struct bclient_dirent *e, void *arg)
{
	struct strbuf *sb = arg;
	char t[32];
	struct tm tm;

	strbuf_reset(sb);
	strbuf_addf(sb, "%s\t%s", e->modestr, e->name);
	if (S_ISREG(e->mode)) {
		gmtime_r(&e->mtime, &tm);
		if (strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			t[0] = '\0';
		strbuf_addf(sb, "\t%lld\t%s", e->size, t);
		if (e->digest != NULL)
			strbuf_addf(sb, "\t%s", e->digest);
	}
	strbuf_addch(sb, '\n');
	return fwrite(sb->buf, 1, sb->len, stdout) == sb->len ? 0 : -1;
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "skip", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	struct bclient_ls o = BCLIENT_LS_INIT;
	struct strvec skip = STRVEC_INIT;
	struct bclient c;
	int ch, rc;

	while ((ch = getopt_long_only(argc, argv, "+dR", lo, NULL)) != -1)
		switch (ch) {
		case 'd':
			o.digest = 1;
			break;
		case 'R':
			o.recursive = 1;
			break;
		case 's':
			split_commas(&skip, optarg);
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage();
	o.skip = (const char *const *)skip.v;
	instance(argv[0], &c);
	rc = bclient_ls(&c, argc > 1 ? argv[1] : ".", &o, ls_line, &line,
	    &err);
	if (rc != RC_OK)
		rc = call_failed(argv[0], rc, &err);
	else if (fflush(stdout) == EOF)
		rc = RC_TEMP;
	strvec_clear(&skip);
	strbuf_release(&err);
	strbuf_release(&line);
	return rc;
}

static int
cmd_rm(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct bclient c;
	int rc;

	if (getopt(argc, argv, "+") != -1 || argc - optind < 2)
		usage();
	instance(argv[optind], &c);
	rc = bclient_removeall(&c, (const char *const *)argv + optind + 1,
	    &err);
	if (rc != RC_OK)
		rc = call_failed(argv[optind], rc, &err);
	strbuf_release(&err);
	return rc;
}

static int
cmd_put(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct progress *p;
	struct bclient c;
	struct stat st;
	const char *src, *dest, *slash;
	char *end;
	int ch, rc, fd, in, mflag = -1;

	while ((ch = getopt_long_only(argc, argv, "+", lo, NULL)) != -1)
		switch (ch) {
		case 'm':
			errno = 0;
			mflag = (int)strtol(optarg, &end, 8);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    mflag < 0 || mflag > 0777)
				fatalx(RC_PERM, "-mode %s: want octal "
				    "permission bits", esc(optarg));
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3)
		usage();
	src = argv[1];
	if (strcmp(src, "-") == 0) {
		if (argc < 3)
			fatalx(RC_PERM, "put from standard input: give dest");
		fd = 0;
		st.st_mode = 0666;
		st.st_size = -1;
	} else if ((fd = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		fatal(errno == ENOENT || errno == EACCES ? RC_PERM : RC_TEMP,
		    "%s", esc(src));
	else if (!S_ISREG(st.st_mode))
		fatalx(RC_PERM, "%s: not a regular file", esc(src));
	if (argc == 3)
		dest = argv[2];
	else
		dest = (slash = strrchr(src, '/')) != NULL ? slash + 1 : src;
	instance(argv[0], &c);
	p = progress_new("put", S_ISREG(st.st_mode) && fd != 0 ?
	    (long long)st.st_size : -1);
	in = progress_pipe(p, fd);
	rc = bclient_write_fd(&c, dest, mflag >= 0 ? (mode_t)mflag :
	    st.st_mode & 0777, in, &err);
	if (in != fd)
		close(in);
	progress_end(p, rc == RC_OK);
	if (rc != RC_OK)
		rc = call_failed(argv[0], rc, &err);
	if (fd != 0)
		close(fd);
	strbuf_release(&err);
	return rc;
}

static int
cmd_puttar(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct progress *p;
	struct bclient c;
	struct stat st;
	const char *dir = NULL, *url = NULL;
	int ch, rc, fd = 0, in;

	while ((ch = getopt_long_only(argc, argv, "+", lo, NULL)) != -1)
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2 || (url != NULL && argc > 1))
		usage();
	instance(argv[0], &c);
	if (url != NULL) {
		rc = bclient_writetgz_url(&c, dir, url, NULL, &err);
		goto out;
	}
	if (argc > 1 && strcmp(argv[1], "-") != 0 &&
	    (fd = open(argv[1], O_RDONLY | O_CLOEXEC)) == -1)
		fatal(errno == ENOENT || errno == EACCES ? RC_PERM : RC_TEMP,
		    "%s", esc(argv[1]));
	p = progress_new("puttar", fd != 0 && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode) ? (long long)st.st_size : -1);
	in = progress_pipe(p, fd);
	rc = bclient_writetgz(&c, dir, in, &err);
	if (in != fd)
		close(in);
	progress_end(p, rc == RC_OK);
	if (fd != 0)
		close(fd);
out:
	if (rc != RC_OK)
		rc = call_failed(argv[0], rc, &err);
	strbuf_release(&err);
	return rc;
}

struct gettar {
	struct progress *p;
	int failed;
};

static int
gettar_out(const void *buf, size_t len, void *arg)
{
	struct gettar *g = arg;

	if (write_all(1, buf, len) == -1) {
		g->failed = errno;
		return -1;
	}
	progress_add(g->p, len);
	return 0;
}

static int
cmd_gettar(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct bclient_sink out = BCLIENT_SINK_INIT;
	struct gettar g = { NULL, 0 };
	struct bclient c;
	const char *dir = string_option(argc, argv, "dir");
	int rc;

	if (optind + 1 != argc)
		usage();
	instance(argv[optind], &c);
	g.p = progress_new("gettar", -1);
	out.fn = gettar_out;
	out.arg = &g;
	rc = bclient_tgz(&c, dir, 0, &out, &err);
	progress_end(g.p, rc == RC_OK);
	if (g.failed != 0) {
		errno = g.failed;
		log_warn("write");
		rc = RC_TEMP;
	} else if (rc != RC_OK)
		rc = call_failed(argv[optind], rc, &err);
	strbuf_release(&err);
	return rc;
}

/*
 * run -builderenv b through the coordinator: GO_BUILDER_NAME and the
 * env of b's configuration into env, as a build of b has them.  b must
 * have the host type of the instance's builder, as the original wanted.
 */
static int
builder_env(const char *inst, const char *b, struct strvec *env)
{
	const struct json *bo, *io, *e;
	const char *s;
	struct json *a;
	char *ib;
	size_t i;
	int rc;

	if ((rc = builders(&a)) != RC_OK)
		return rc;
	if (a == NULL) {
		log_warnx("the coordinator names no builders: -builderenv %s "
		    "sets GO_BUILDER_NAME alone", esc(b));
		strvec_pushf(env, "GO_BUILDER_NAME=%s", b);
		return RC_OK;
	}
	ib = builder_of(inst);
	io = ib != NULL ? builder_find(a, ib) : NULL;
	if ((bo = builder_find(a, b)) == NULL) {
		log_warnx("no builder '%s' on the coordinator", esc(b));
		rc = RC_PERM;
	} else if (io != NULL && strcmp(field(io, "hosttype"),
	    field(bo, "hosttype")) != 0) {
		log_warnx("-builderenv %s: host type %s, but %s is of host "
		    "type %s", esc(b), esc(field(bo, "hosttype")), esc(inst),
		    esc(field(io, "hosttype")));
		rc = RC_PERM;
	} else {
		strvec_pushf(env, "GO_BUILDER_NAME=%s", b);
		e = json_get(bo, "env");
		for (i = 0; i < json_array_len(e); i++)
			if ((s = json_str(json_array_at(e, i), NULL)) != NULL)
				strvec_push(env, s);
	}
	free(ib);
	json_free(a);
	return rc;
}

static int
cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "builderenv", required_argument, NULL, 'b' },
		{ "debug", no_argument, NULL, 'D' },
		{ "dir", required_argument, NULL, 'd' },
		{ "path", required_argument, NULL, 'p' },
		{ "system", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT;
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_result res;
	struct strvec env = STRVEC_INIT, eflag = STRVEC_INIT;
	struct strvec path = STRVEC_INIT;
	const char *benv = NULL;
	char *builder = NULL;
	struct bclient c;
	int ch, rc, pflag = 0;

	while ((ch = getopt_long_only(argc, argv, "+e:", lo, NULL)) != -1)
		switch (ch) {
		case 'b':
			benv = optarg;
			break;
		case 'd':
			x.dir = optarg;
			break;
		case 'D':
			x.debug = 1;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL)
				fatalx(RC_PERM, "-e %s: want KEY=VALUE",
				    esc(optarg));
			strvec_push(&eflag, optarg);
			break;
		case 'p':
			pflag = 1;
			if (strcmp(optarg, "EMPTY") != 0)
				split_commas(&path, optarg);
			break;
		case 's':
			x.sys = 1;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	instance(argv[0], &c);
	c.silence_s = 0;	/* a quiet command is no dead buildlet */
	/* first, so that -e can override it */
	if (benv != NULL && strchr(argv[0], '@') == NULL) {
		if ((rc = builder_env(argv[0], benv, &env)) != RC_OK)
			goto out;
	} else if ((builder = benv != NULL ? xstrdup(benv) :
	    builder_of(argv[0])) != NULL)
		strvec_pushf(&env, "GO_BUILDER_NAME=%s", builder);
	strvec_pushv(&env, (const char *const *)eflag.v);
	x.cmd = argv[1];
	if (argv[1][0] == '/')
		x.sys = 1;
	x.args = (const char *const *)argv + 2;
	x.env = (const char *const *)env.v;
	if (pflag)
		x.path = (const char *const *)path.v;
	x.out.fd = 1;
	rc = bclient_exec(&c, &x, &res, &err);
	if (rc != RC_OK)
		rc = call_failed(argv[0], rc, &err);
	else if (res.code != 0) {
		if (!res.started)
			log_warnx("%s: %s", esc(argv[1]), esc(res.state));
		rc = res.code;
	}
out:
	free(builder);
	strvec_clear(&env);
	strvec_clear(&eflag);
	strvec_clear(&path);
	strbuf_release(&err);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct subcmd cmds[] = {
		{ "create", cmd_create },
		{ "destroy", cmd_destroy },
		{ "gettar", cmd_gettar },
		{ "list", cmd_list },
		{ "ls", cmd_ls },
		{ "ping", cmd_ping },
		{ "push", cmd_push },
		{ "put", cmd_put },
		{ "puttar", cmd_puttar },
		{ "rm", cmd_rm },
		{ "run", cmd_run },
		{ "ssh", cmd_ssh },
	};
	struct strbuf err = STRBUF_INIT;
	int rc;

	prog_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	argc--;
	argv++;
	while (argc > 0 && argv[0][0] == '-') {
		if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "-help") == 0) {
			print_usage(stdout);
			return fflush(stdout) == EOF ? RC_TEMP : RC_OK;
		}
		if (strcmp(argv[0], "-user") != 0 || argc < 2)
			usage();
		uflag = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		usage();
	if ((rc = subcmd_run(cmds, ARRAY_SIZE(cmds), argc, argv, &err)) < 0) {
		log_warnx("%s", err.buf);
		usage();
	}
	strbuf_release(&err);
	return rc;
}
