/*
 * build.c: schedule build, one build of one item on one buildlet, in the
 * foreground.  The daemon runs each build as this command in a child
 * process; an admin can run the very same thing by hand.
 *
 * The order matters for restart safety: the log is stored before the
 * result that names it is appended, and the result is appended (and
 * fsynced) before the live file goes.  A build killed before its result
 * is recorded is run again; one killed after is found recorded by the
 * next run, which then builds nothing.
 *
 * Whatever goes wrong between us and the buildlet (bclient's RC_TEMP,
 * and also RC_PERM: a machine that refuses us is no reason to fail the
 * commit) is an infrastructure failure: an attempt record, exit 111,
 * and the daemon tries another machine.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bclient.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "proc.h"
#include "rc.h"
#include "strbuf.h"
#include "timefmt.h"
#include "workitem.h"
#include "xmalloc.h"

#define PASSWORD_MAX 4096

struct build {
	const char *path;		/* the item file */
	const char *name;		/* its spool name: the last component */
	struct work_item wi;
	const struct builder_conf *b;
	const char *machine;		/* -m, or the URL's host:port */
	int64_t attempt;
	struct bclient c;
	struct blog *log;
	long long t0, deadline;		/* mono_ms() */
	char hash[65];
};

/* ---- the item and the config ---- */

static int
read_item(struct build *bd, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT, perr = STRBUF_INIT;
	const struct repo_conf *r;
	int fd, rc;

	if ((fd = open(bd->path, O_RDONLY | O_CLOEXEC)) == -1) {
		strbuf_addf(err, "open '%s': %s", bd->path, strerror(errno));
		return errno == ENOENT ? RC_PERM : RC_TEMP;
	}
	if (strbuf_read_fd(&buf, fd, WORK_ITEM_MAX) == -1) {
		strbuf_addf(err, "read '%s': %s", bd->path,
		    errno == EFBIG ? "more than 64 KiB" : strerror(errno));
		rc = errno == EFBIG ? RC_PERM : RC_TEMP;
		close(fd);
		strbuf_release(&buf);
		return rc;
	}
	close(fd);
	rc = workitem_parse(&bd->wi, buf.buf, buf.len, &perr);
	strbuf_release(&buf);
	if (rc != RC_OK) {
		strbuf_addf(err, "item '%s': %s", bd->path, perr.buf);
		strbuf_release(&perr);
		return rc;
	}
	if (bd->wi.builder == NULL || bd->wi.builder[0] == '\0') {
		strbuf_addf(err, "item '%s': no builder", bd->path);
		return RC_PERM;
	}
	bd->b = farmconf_builder(cx.conf, bd->wi.builder);
	if (bd->b == NULL) {
		strbuf_addf(err, "item '%s': builder '%s': no [builder] of "
		    "that name in '%s'", bd->path, bd->wi.builder,
		    cx.conf->path);
		return RC_PERM;
	}
	if (bd->b->nrun == 0 || bd->b->repo == NULL) {
		strbuf_addf(err, "config '%s': builder \"%s\": no run steps "
		    "(item '%s')", cx.conf->path, bd->b->name, bd->path);
		return RC_PERM;
	}
	r = farmconf_repo(cx.conf, bd->wi.repo);
	if (r != bd->b->repo) {
		strbuf_addf(err, "item '%s': repo '%s': builder \"%s\" "
		    "builds repo '%s'", bd->path, bd->wi.repo, bd->b->name,
		    bd->b->repo->name);
		return RC_PERM;
	}
	return RC_OK;
}

/* The first line of file, the buildlet's password. */
static int
read_password(const char *file, char **pw, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	int fd, rc;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		strbuf_addf(err, "open '%s': %s", file, strerror(errno));
		return errno == ENOENT || errno == EACCES ? RC_PERM : RC_TEMP;
	}
	if (strbuf_read_fd(&buf, fd, PASSWORD_MAX) == -1) {
		rc = errno == EFBIG ? RC_PERM : RC_TEMP;
		strbuf_addf(err, "read '%s': %s", file, strerror(errno));
		close(fd);
		strbuf_release(&buf);
		return rc;
	}
	close(fd);
	strbuf_setlen(&buf, strcspn(buf.buf, "\r\n"));
	*pw = strbuf_detach(&buf, NULL);
	return RC_OK;
}

/* ---- the results log ---- */

struct seen {
	const struct build *bd;
	int counts;
	uint64_t seq;
};

static int
field_is(const struct json *rec, const char *key, const char *want)
{
	const char *v = json_str(json_get(rec, key), NULL);

	return v != NULL && strcmp(v, want) == 0;
}

static int
seen_rec(const struct mlog_rec *rec, void *arg)
{
	struct seen *s = arg;
	const struct work_item *wi = &s->bd->wi;
	int64_t change, patchset;

	if (!field_is(rec->obj, "builder", wi->builder) ||
	    !field_is(rec->obj, "repo", wi->repo) ||
	    !field_is(rec->obj, "rev", wi->rev))
		return 0;
	if (strcmp(rec->type, "retract") == 0) {
		s->counts = 0;
		return 0;
	}
	if (strcmp(rec->type, "result") != 0)
		return 0;
	/* a try result tested a patch set, not the commit on its own */
	if (wi->kind != WORK_TRY && json_get(rec->obj, "change") != NULL)
		return 0;
	if (wi->kind == WORK_TRY &&
	    (!json_get_int(json_get(rec->obj, "change"), &change) ||
	    !json_get_int(json_get(rec->obj, "patchset"), &patchset) ||
	    change != wi->change || patchset != wi->patchset))
		return 0;
	s->counts = 1;
	s->seq = rec->seq;
	return 0;
}

/*
 * Is there a result for this build that counts?  The seq of the last
 * such result, or 0.
 */
static int
recorded(struct mlog *l, const struct build *bd, uint64_t *seq,
    struct strbuf *err)
{
	struct mlog_cursor cur = { 0, 0 };
	struct mlog_sel sel = { NULL, NULL, 0, 0 };
	struct strbuf lit = STRBUF_INIT;
	struct seen s = { bd, 0, 0 };
	int rc;

	*seq = 0;
	if ((rc = mlog_scan(l, err)) != RC_OK)
		return rc;
	/* results and retractions both name the rev */
	strbuf_addf(&lit, "\"rev\":\"%s\"", bd->wi.rev);
	sel.lit = lit.buf;
	rc = mlog_each(l, &cur, &sel, seen_rec, &s, err);
	strbuf_release(&lit);
	if (rc == RC_OK && s.counts)
		*seq = s.seq;
	return rc;
}

/* The fields every record of this build has. */
static struct json *
new_rec(const struct build *bd)
{
	struct json *rec = json_new_object();

	json_set_str(rec, "builder", bd->b->name);
	json_set_str(rec, "repo", bd->wi.repo);
	json_set_str(rec, "rev", bd->wi.rev);
	json_set_str(rec, "kind", workitem_kind_name(bd->wi.kind));
	json_set_str(rec, "buildlet", bd->machine);
	json_set_int(rec, "attempt", bd->attempt);
	json_set_str(rec, "item", bd->name);
	return rec;
}

static int
append_rec(struct mlog *l, struct json *rec, const char *type,
    struct strbuf *err)
{
	uint64_t seq;
	int rc;

	rc = mlog_append(l, &rec, 1, type, &seq, err);
	json_free(rec);
	return rc;
}

/* ---- on the buildlet ---- */

/* Milliseconds left of the build, at least 1 (0 would mean no limit). */
static long
left_ms(const struct build *bd)
{
	long long n = bd->deadline - mono_ms();

	return n > 0 ? (long)n : 1;
}

static int
to_log(const void *buf, size_t len, void *arg)
{
	blog_write(arg, buf, len);
	return 0;
}

/*
 * A tool beside this program: in the build tree that is
 * cmd/NAME/NAME next to cmd/schedule/schedule, once installed the same
 * directory; else whatever $PATH has.
 */
void
tool_path(struct strbuf *out, const char *name)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;
	int i;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < 2; i++) {
			strbuf_reset(out);
			if (i == 0)
				strbuf_addf(out, "%s/../%s/%s", self, name,
				    name);
			else
				strbuf_addf(out, "%s/%s", self, name);
			if (access(out->buf, X_OK) == 0)
				return;
		}
	}
	strbuf_reset(out);
	strbuf_addstr(out, name);
}

/*
 * Put the source at the rev into the builder's dir: the buildlet fetches
 * it from gitmirror serve, or we stream gitmirror archive to it.
 */
static int
put_source(struct build *bd, struct strbuf *err)
{
	struct proc p = PROC_INIT;
	struct strbuf url = STRBUF_INIT, prog = STRBUF_INIT;
	const char *src = cx.conf->source;
	size_t n;
	int rc, code;

	bd->c.timeout_ms = left_ms(bd);
	if (src != NULL) {
		n = strlen(src);
		while (n > 0 && src[n - 1] == '/')
			n--;
		strbuf_addf(&url, "%.*s/%s.tar.gz?rev=%s", (int)n, src,
		    bd->wi.repo, bd->wi.rev);
		/* a patch set's commit: gitmirror may fetch its ref */
		if (bd->wi.kind == WORK_TRY)
			strbuf_addf(&url, "&ref=refs/changes/%02lld/%lld/%lld",
			    (long long)(bd->wi.change % 100),
			    (long long)bd->wi.change,
			    (long long)bd->wi.patchset);
		rc = bclient_writetgz_url(&bd->c, bd->b->dir, url.buf, NULL,
		    err);
		strbuf_release(&url);
		return rc;
	}
	tool_path(&prog, "gitmirror");
	strvec_push(&p.args, prog.buf);
	strvec_pushv(&p.args, (const char *[]){ "-d", cx.dir, "archive",
	    bd->wi.repo, bd->wi.rev, NULL });
	p.io[0].how = PROC_DEVNULL;
	p.io[1].how = PROC_PIPE;
	p.timeout_ms = left_ms(bd);
	if (proc_start(&p, err) == -1) {
		proc_clear(&p);
		strbuf_release(&prog);
		return RC_TEMP;
	}
	rc = bclient_writetgz(&bd->c, bd->b->dir, p.io[1].fd, err);
	/* a buildlet that stopped reading leaves gitmirror a broken pipe */
	close(p.io[1].fd);
	code = proc_finish(&p);
	if (code != 0) {
		/* its own message is on stderr; why the tar was bad, first */
		strbuf_reset(err);
		strbuf_addf(err, "%s archive %s %s: exit status %d", prog.buf,
		    bd->wi.repo, bd->wi.rev, code);
		rc = RC_TEMP;
	}
	strbuf_release(&prog);
	return rc;
}

/*
 * Run step i.  RC_OK with *ok saying whether the step succeeded, or the
 * buildlet's failure.
 */
static int
run_step(struct build *bd, size_t i, int *ok, struct strbuf *err)
{
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_result res;
	struct strvec env = STRVEC_INIT;
	const char *args[] = { "-c", bd->b->run[i], NULL };
	long long left;
	long tmo;
	size_t k;
	int rc;

	memset(&res, 0, sizeof(res));
	blog_printf(bd->log, "+ %s\n", bd->b->run[i]);
	left = bd->deadline - mono_ms();
	if (left <= 0) {
		blog_printf(bd->log, "  (step %zu: build timed out after %lld "
		    "s)\n", i + 1, (long long)bd->b->timeout_s);
		*ok = 0;
		return RC_OK;
	}
	tmo = (long)bd->b->step_timeout_s;
	if ((left + 999) / 1000 < tmo)
		tmo = (long)((left + 999) / 1000);
	for (k = 0; k < bd->b->nenv; k++)
		strvec_push(&env, bd->b->env[k]);
	x.cmd = "/bin/sh";
	x.sys = 1;
	x.args = args;
	x.env = (const char *const *)env.v;
	x.dir = bd->b->dir;
	x.timeout_s = tmo;
	x.out.fn = to_log;
	x.out.arg = bd->log;
	rc = bclient_exec(&bd->c, &x, &res, err);
	strvec_clear(&env);
	if (rc != RC_OK)
		return rc;
	*ok = res.code == 0;
	blog_printf(bd->log, "  (step %zu: %s%s, %lld.%lld s)\n", i + 1,
	    res.timed_out ? "timed out, " : "", res.state,
	    res.elapsed_ms / 1000, res.elapsed_ms % 1000 / 100);
	return RC_OK;
}

/*
 * Wipe, put the source, run the steps.  RC_OK with *ok saying whether
 * every step passed, else *failed the index of the step that failed
 * (from 0, as in the result record); or an infrastructure failure in
 * err.
 */
static int
run_build(struct build *bd, int *ok, size_t *failed, struct strbuf *err)
{
	static const char *const wipe[] = { ".", NULL };
	struct strbuf why = STRBUF_INIT;
	size_t i;
	int rc;

	*ok = 1;
	*failed = 0;
	bd->c.timeout_ms = left_ms(bd);
	if ((rc = bclient_removeall(&bd->c, wipe, err)) != RC_OK)
		return rc;
	if ((rc = put_source(bd, &why)) != RC_OK) {
		strbuf_addf(err, "could not put the source: %s", why.buf);
		strbuf_release(&why);
		return rc;
	}
	for (i = 0; i < bd->b->nrun; i++) {
		bd->c.timeout_ms = 0;
		if ((rc = run_step(bd, i, ok, err)) != RC_OK)
			return rc;
		if (!*ok) {
			*failed = i;
			break;
		}
	}
	return RC_OK;
}

/* ---- the command ---- */

/* The host:port of url, the default machine name. */
static char *
url_hostport(const char *url)
{
	const char *h = strstr(url, "://");

	h = h != NULL ? h + 3 : url;
	return xmemdupz(h, strcspn(h, "/"));
}

static int
infra(struct build *bd, struct mlog *l, const char *why)
{
	struct strbuf err = STRBUF_INIT;
	struct json *rec;

	log_warnx("%s: infrastructure failure: %s", bd->name, why);
	rec = new_rec(bd);
	json_set_str(rec, "reason", why);
	if (append_rec(l, rec, "attempt", &err) != RC_OK)
		log_warnx("%s", err.buf);
	strbuf_release(&err);
	return RC_TEMP;
}

int
cmd_build(int argc, char **argv)
{
	struct build bd;
	struct strbuf err = STRBUF_INIT, rdir = STRBUF_INIT;
	struct mlog *l;
	struct json *rec;
	const char *bflag = NULL, *pflag = NULL, *slash;
	char *pw = NULL, *hostport = NULL;
	uint64_t seq;
	size_t failed;
	int ch, ok, rc;

	memset(&bd, 0, sizeof(bd));
	bd.wi = (struct work_item)WORK_ITEM_INIT;
	bd.c = (struct bclient)BCLIENT_INIT;
	bd.attempt = 1;
	while ((ch = getopt(argc, argv, "+a:b:m:p:")) != -1) {
		switch (ch) {
		case 'a':
			if (num_parse_i64(optarg, 1, 1000, &bd.attempt) == -1)
				fatalx(RC_PERM, "-a '%s': want a number from 1 "
				    "to 1000", esc(optarg));
			break;
		case 'b':
			bflag = optarg;
			break;
		case 'm':
			bd.machine = optarg;
			break;
		case 'p':
			pflag = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || bflag == NULL)
		usage();
	if (strncmp(bflag, "http://", 7) != 0 &&
	    strncmp(bflag, "https://", 8) != 0)
		fatalx(RC_PERM, "-b '%s': want an http:// or https:// URL",
		    esc(bflag));
	bd.path = argv[0];
	slash = strrchr(bd.path, '/');
	bd.name = slash != NULL ? slash + 1 : bd.path;
	if (bd.name[0] == '\0' || bd.name[0] == '.')
		fatalx(RC_PERM, "item '%s': not a spool item name",
		    esc(bd.path));
	if (bd.machine == NULL)
		bd.machine = hostport = url_hostport(bflag);

	load_conf(FC_FARM | FC_BUILDER);
	if ((rc = read_item(&bd, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	if (pflag != NULL && (rc = read_password(pflag, &pw, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);

	/*
	 * A results log that cannot be read or written (a damaged line) is
	 * mended by hand and is no fault of the item: 111, so that the item
	 * waits in the queue rather than failing.
	 */
	farm_place(&rdir, cx.dir, FARM_RESULTS);
	if (mlog_open(&l, rdir.buf, MLOG_CREATE, &err) != RC_OK ||
	    recorded(l, &bd, &seq, &err) != RC_OK)
		fatalx(RC_TEMP, "%s", err.buf);
	if (seq != 0) {
		printf("%s: already recorded: builder %s repo %s rev %s "
		    "(result seq %llu)\n", bd.name, bd.b->name, bd.wi.repo,
		    bd.wi.rev, (unsigned long long)seq);
		rc = RC_OK;
		goto out;
	}

	/* stdout may be a pipe whose reader goes: that ends no build */
	signal(SIGPIPE, SIG_IGN);
	bd.c.url = bflag;
	bd.c.name = bd.machine;
	bd.c.password = pw;
	/* steps may be quiet for long: their timeout is what bounds them */
	bd.c.silence_s = (long)bd.b->step_timeout_s + BCLIENT_EXEC_GRACE_S;
	bd.t0 = mono_ms();
	bd.deadline = bd.t0 + bd.b->timeout_s * 1000;
	if ((rc = blog_open(&bd.log, cx.dir, bd.name, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	blog_printf(bd.log, "builder %s, repo %s, rev %s, buildlet %s, "
	    "attempt %lld\n", bd.b->name, bd.wi.repo, bd.wi.rev, bd.machine,
	    (long long)bd.attempt);
	if (bd.wi.kind == WORK_TRY)
		blog_printf(bd.log, "change %lld, patch set %lld\n",
		    (long long)bd.wi.change, (long long)bd.wi.patchset);

	if (run_build(&bd, &ok, &failed, &err) != RC_OK) {
		blog_printf(bd.log, "infrastructure failure: %s\n", err.buf);
		rc = infra(&bd, l, err.buf);
		goto out;
	}
	if ((rc = blog_store(bd.log, cx.dir, bd.hash, &err)) != RC_OK)
		fatalx(rc, "%s: %s", bd.name, err.buf);
	rec = new_rec(&bd);
	json_set_bool(rec, "ok", ok);
	if (!ok)
		json_set_int(rec, "failed_step", (int64_t)failed);
	json_set_str(rec, "log", bd.hash);
	json_set_int(rec, "elapsed_ms", mono_ms() - bd.t0);
	if (bd.wi.kind == WORK_TRY) {
		json_set_int(rec, "change", bd.wi.change);
		json_set_int(rec, "patchset", bd.wi.patchset);
	}
	if (append_rec(l, rec, "result", &err) != RC_OK)
		fatalx(RC_TEMP, "%s: %s", bd.name, err.buf);
	rc = ok ? RC_OK : RC_NO;
out:
	blog_close(bd.log);
	mlog_close(l);
	workitem_release(&bd.wi);
	free(pw);
	free(hostport);
	strbuf_release(&err);
	strbuf_release(&rdir);
	return rc;
}
