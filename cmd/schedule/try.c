/*
 * try.c: TryBot runs (extern.h says what the daemon asks of them).
 *
 * A run is an item of spool/try (pollgerrit's, named GERRIT-CHANGE-PS),
 * claimed by the daemon and held under its flock for the run's life.
 * It becomes one spool/work item per TryBot builder of the repo, named
 * RUN.BUILDER (spool_put_named: made once, whatever becomes of it), run
 * like any build, before the post-submit work.  Their result records
 * carry the item's name; when each builder has one, the run votes.
 *
 * Posts go through "pollgerrit review -s STAMP" as a child that also
 * holds the run's claim (it inherits the lock fd, as build children
 * hold theirs).  The stamp, written by pollgerrit once Gerrit has
 * acknowledged the post, is what says "posted", so the daemon's own
 * death at any point loses nothing: a restart finds the claim held as
 * long as a poster lives, waits for it, and then reads the stamps.
 * Under state/schedule/try/:
 *   RUN.begun   stamp: "TryBots beginning" was posted
 *   RUN.vote    the vote decided, written before it is posted: the
 *               label's value (or "-" for none) on the first line, the
 *               message after it; a re-post sends the same bytes
 *   RUN.voted   stamp: the vote was posted
 * The final vote is decided once (RUN.vote) and posted until its stamp
 * exists; only a pollgerrit killed between Gerrit's answer and its
 * stamp makes a post repeat (DESIGN §7).
 *
 * Cancelling: a gerrit record (corpus) of the same change with a later
 * patch set, or a status other than NEW, cancels a run that has not
 * decided its vote: its queued builds are finished unrun, its running
 * ones killed (serve_cancel), no vote is posted, and the item goes to
 * done/.  The corpus is searched for the change when a run is adopted
 * and followed from then on.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "proc.h"
#include "rc.h"
#include "spool.h"
#include "strbuf.h"
#include "timefmt.h"
#include "workitem.h"
#include "xmalloc.h"

#define NDONE		50	/* finished runs kept for their pages */
#define BACKOFF_MAX_S	60
#define VOTE_MAX	(1 << 20)

enum tb_state { TB_WAIT, TB_OK, TB_FAILED, TB_BROKEN };

struct trybuilder {
	const struct builder_conf *b;
	enum tb_state st;
	char log[65];		/* TB_OK, TB_FAILED */
	long long elapsed_ms;
};

enum post { POST_NONE, POST_BEGIN, POST_VOTE };

struct run {
	char *name;		/* the spool/try item */
	struct work_item wi;
	const struct repo_conf *repo;
	int lockfd;		/* the claim; -1 once finished */
	struct trybuilder *bv;
	size_t nb;
	char *owner;		/* from the corpus, or NULL */
	char *cancel;		/* why it was cancelled, or NULL */
	char *state;		/* what it ended in, for its page */
	int begun, decided, voted;
	struct proc *poster;	/* pollgerrit review, or NULL */
	enum post posting;
	int backoff_s;
	long long retry_at;	/* mono_ms */
	long long start, end;	/* wall s */
};

static struct spool *work, *trysp;
static struct mlog *corpus, *results;
static struct mlog_cursor ccur;
static struct run **rv;		/* the live runs */
static size_t nr;
static struct run *donev[NDONE];	/* a ring of finished runs */
static size_t ndone;
static char **waitv;		/* cur/ items claimed by a live poster */
static size_t nwait;
static char *baseurl;		/* [farm] url, or the daemon's address */
static long long last_check;

static void
path_of(struct strbuf *out, const struct run *r, const char *ext)
{
	strbuf_reset(out);
	farm_placef(out, cx.dir, FARM_STATE, "schedule/try/%s.%s", r->name,
	    ext);
}

static int
exists(const struct run *r, const char *ext)
{
	struct strbuf p = STRBUF_INIT;
	int ok;

	path_of(&p, r, ext);
	ok = access(p.buf, F_OK) == 0;
	strbuf_release(&p);
	return ok;
}

/* RUN.BUILDER, the work item of b */
static void
item_of(struct strbuf *out, const struct run *r, const struct builder_conf *b)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s.%s", r->name, b->name);
}

static void
run_free(struct run *r)
{
	if (r == NULL)
		return;
	free(r->name);
	workitem_release(&r->wi);
	free(r->bv);
	free(r->owner);
	free(r->cancel);
	free(r->state);
	free(r);
}

/* ---- what the logs say ---- */

struct scan {
	struct run *r;
	int64_t ps;		/* the latest patch set seen */
	const char *status;
};

static void
gerrit_rec(struct run *r, const struct json *o)
{
	const char *server = json_str(json_get(o, "server"), NULL);
	const char *status = json_str(json_get(o, "status"), NULL);
	struct strbuf why = STRBUF_INIT;
	const char *owner;
	int64_t change, ps;

	if (r->cancel != NULL || r->decided ||
	    !json_get_int(json_get(o, "change"), &change) ||
	    !json_get_int(json_get(o, "patchset"), &ps) ||
	    change != r->wi.change ||
	    (server != NULL && r->wi.server != NULL &&
	    strcmp(server, r->wi.server) != 0))
		return;
	if (ps == r->wi.patchset) {
		owner = json_str(json_get_path(o, "owner.name"), NULL);
		if (owner == NULL)
			owner = json_str(json_get_path(o, "owner.email"), NULL);
		if (owner != NULL) {
			free(r->owner);
			r->owner = xstrdup(owner);
		}
	}
	if (ps > r->wi.patchset) {
		strbuf_addf(&why, "superseded by patch set %lld",
		    (long long)ps);
		r->cancel = strbuf_detach(&why, NULL);
	} else if (status != NULL && strcmp(status, "NEW") != 0 &&
	    strcmp(status, "DRAFT") != 0) {
		strbuf_addf(&why, "change %s", strcmp(status, "MERGED") == 0 ?
		    "merged" : strcmp(status, "ABANDONED") == 0 ? "abandoned" :
		    status);
		r->cancel = strbuf_detach(&why, NULL);
	}
}

static int
on_gerrit(const struct mlog_rec *rec, void *arg)
{
	struct run *r = arg;
	size_t i;

	if (r != NULL)
		gerrit_rec(r, rec->obj);
	else
		for (i = 0; i < nr; i++)
			gerrit_rec(rv[i], rec->obj);
	return 0;
}

static void
result_rec(struct run *r, const struct json *o)
{
	const char *item = json_str(json_get(o, "item"), NULL);
	const char *lg = json_str(json_get(o, "log"), NULL);
	size_t n = strlen(r->name), i;
	int64_t ms = 0;

	if (item == NULL || strncmp(item, r->name, n) != 0 ||
	    item[n] != '.' || r->decided)
		return;
	for (i = 0; i < r->nb; i++) {
		if (strcmp(item + n + 1, r->bv[i].b->name) != 0)
			continue;
		r->bv[i].st = json_kind(json_get(o, "ok")) == JK_TRUE ?
		    TB_OK : TB_FAILED;
		snprintf(r->bv[i].log, sizeof(r->bv[i].log), "%s",
		    lg != NULL ? lg : "");
		(void)json_get_int(json_get(o, "elapsed_ms"), &ms);
		r->bv[i].elapsed_ms = ms;
	}
}

static int
on_result(const struct mlog_rec *rec, void *arg)
{
	result_rec(arg, rec->obj);
	return 0;
}

void
try_result(const struct json *rec)
{
	size_t i;

	for (i = 0; i < nr; i++)
		result_rec(rv[i], rec);
}

/* Every record of l holding lit, from the start. */
static int
search(struct mlog *l, const char *type, const char *lit,
    int (*fn)(const struct mlog_rec *, void *), void *arg,
    struct strbuf *err)
{
	struct mlog_cursor cur = { 0, 0 };
	struct mlog_sel sel = { type, lit, 0, 0, 0 };
	int rc;

	if ((rc = mlog_scan(l, err)) != RC_OK)
		return rc;
	if (mlog_nsegs(l) > 0)
		cur.seg = mlog_seg(l, 0)->number;
	return mlog_each(l, &cur, &sel, fn, arg, err);
}

/* ---- cancelling and finishing ---- */

/* Take a queued build of the run out of new/, unrun. */
static void
drop_item(const char *item)
{
	struct strbuf err = STRBUF_INIT;
	int fd;

	if (spool_claim(work, item, &fd, &err) == RC_OK) {
		if (spool_finish(work, item, "done", &err) != RC_OK)
			log_warnx("%s", err.buf);
		close(fd);
	}
	strbuf_release(&err);
}

static void
cancel_builds(struct run *r)
{
	struct strbuf item = STRBUF_INIT;
	size_t i;

	for (i = 0; i < r->nb; i++) {
		if (r->bv[i].st != TB_WAIT)
			continue;
		item_of(&item, r, r->bv[i].b);
		switch (spool_find(work, item.buf)) {
		case SPOOL_NEW:
			drop_item(item.buf);
			break;
		case SPOOL_CUR:
			serve_cancel(item.buf);
			break;
		}
	}
	strbuf_release(&item);
}

static void
unlink_state(struct run *r)
{
	static const char *const ext[] = { "begun", "vote", "voted" };
	struct strbuf p = STRBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ext); i++) {
		path_of(&p, r, ext[i]);
		if (unlink(p.buf) == -1 && errno != ENOENT)
			log_warn("remove '%s'", esc(p.buf));
	}
	strbuf_release(&p);
}

/* The run is over: its item to done/ or fail/, its page kept a while. */
static void
finish_run(struct run *r, const char *to, const char *state)
{
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (spool_finish(trysp, r->name, to, &err) != RC_OK)
		log_warnx("%s", err.buf);
	close(r->lockfd);
	r->lockfd = -1;
	/* the item in done/ or fail/ is the record now */
	unlink_state(r);
	log_info("try %s: %s", esc(r->name), state);
	free(r->state);
	r->state = xstrdup(state);
	r->end = time(NULL);
	for (i = 0; i < nr; i++)
		if (rv[i] == r) {
			memmove(&rv[i], &rv[i + 1], (nr - i - 1) * sizeof(*rv));
			nr--;
			break;
		}
	run_free(donev[ndone % NDONE]);
	donev[ndone++ % NDONE] = r;
	strbuf_release(&err);
}

/* ---- posting ---- */

static void
post(struct run *r, enum post what)
{
	struct strbuf stamp = STRBUF_INIT, err = STRBUF_INIT,
	    prog = STRBUF_INIT, vpath = STRBUF_INIT, msg = STRBUF_INIT;
	struct proc *p;
	char label[32];
	ssize_t n;
	int fd = -1;

	path_of(&stamp, r, what == POST_BEGIN ? "begun" : "voted");
	tool_path(&prog, "pollgerrit");
	p = xmalloc(sizeof(*p));
	proc_init(p);
	strvec_pushv(&p->args, (const char *const[]){ prog.buf, "-d", cx.dir,
	    "review", "-s", stamp.buf, NULL });
	if (r->wi.gerrit != NULL)
		strvec_pushv(&p->args, (const char *const[]){ "-g",
		    r->wi.gerrit, NULL });
	p->io[0].how = PROC_DEVNULL;
	if (what == POST_BEGIN) {
		strbuf_addf(&msg, "TryBots beginning. Status page: "
		    "%s/try/%lld/%lld", baseurl, (long long)r->wi.change,
		    (long long)r->wi.patchset);
		strvec_pushv(&p->args, (const char *const[]){ "-m", msg.buf,
		    NULL });
	} else {
		/* the decided vote: its first line, then the message */
		path_of(&vpath, r, "vote");
		if ((fd = open(vpath.buf, O_RDONLY | O_CLOEXEC)) == -1 ||
		    (n = read(fd, label, sizeof(label) - 1)) <= 0) {
			log_warn("try %s: read '%s'", esc(r->name),
			    esc(vpath.buf));
			goto fail;
		}
		label[n] = '\0';
		label[strcspn(label, "\n")] = '\0';
		if (lseek(fd, (off_t)strlen(label) + 1, SEEK_SET) == -1) {
			log_warn("try %s: seek '%s'", esc(r->name),
			    esc(vpath.buf));
			goto fail;
		}
		if (strcmp(label, "-") != 0)
			strvec_pushf(&p->args, "-lTryBot-Result=%s", label);
		strvec_pushv(&p->args, (const char *const[]){ "-F", "-",
		    NULL });
		p->io[0].how = PROC_FD;
		p->io[0].fd = fd;
	}
	strvec_pushf(&p->args, "%lld", (long long)r->wi.change);
	strvec_push(&p->args, r->wi.rev);
	p->path = prog.buf;
	p->io[1].how = PROC_DEVNULL;
	p->group = PROC_SESSION;
	/* the poster holds the claim: a restart waits for it */
	p->keep_fds = &r->lockfd;
	p->nkeep_fds = 1;
	if (proc_start(p, &err) == -1) {
		log_warnx("try %s: %s", esc(r->name), err.buf);
		goto fail;
	}
	r->poster = p;
	r->posting = what;
	p = NULL;
fail:
	if (p != NULL) {
		proc_clear(p);
		free(p);
		r->retry_at = mono_ms() + 1000;
	}
	if (fd >= 0)
		close(fd);
	strbuf_release(&stamp);
	strbuf_release(&err);
	strbuf_release(&prog);
	strbuf_release(&vpath);
	strbuf_release(&msg);
}

/* The poster ended: 0 posted, 100 refused for good, else again later. */
static void
posted(struct run *r)
{
	struct strbuf st = STRBUF_INIT;
	int code = proc_exit_code(r->poster);
	enum post what = r->posting;

	proc_state(r->poster, &st);
	proc_clear(r->poster);
	free(r->poster);
	r->poster = NULL;
	r->posting = POST_NONE;
	if (code == 0) {
		r->backoff_s = 0;
		if (what == POST_BEGIN)
			r->begun = 1;
		else
			r->voted = 1;
	} else if (code == RC_PERM) {
		log_warnx("try %s: Gerrit refused the %s (pollgerrit review: "
		    "%s); in fail/", esc(r->name), what == POST_BEGIN ?
		    "beginning message" : "vote", st.buf);
		free(r->cancel);
		r->cancel = xstrdup("Gerrit refused the post");
		cancel_builds(r);
		finish_run(r, "fail", what == POST_BEGIN ?
		    "failed: Gerrit refused the beginning message" :
		    "failed: Gerrit refused the vote");
	} else {
		r->backoff_s = r->backoff_s ? r->backoff_s * 2 : 1;
		if (r->backoff_s > BACKOFF_MAX_S)
			r->backoff_s = BACKOFF_MAX_S;
		log_warnx("try %s: posting the %s failed (pollgerrit review: "
		    "%s); again in %d s", esc(r->name), what == POST_BEGIN ?
		    "beginning message" : "vote", st.buf, r->backoff_s);
		r->retry_at = mono_ms() + r->backoff_s * 1000LL;
	}
	strbuf_release(&st);
}

/* Decide the vote from the results, and write it before posting it. */
static int
decide_vote(struct run *r)
{
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT, err = STRBUF_INIT;
	size_t i, nfail = 0, nbroken = 0;
	int rc = 0;

	for (i = 0; i < r->nb; i++) {
		nfail += r->bv[i].st == TB_FAILED;
		nbroken += r->bv[i].st == TB_BROKEN;
	}
	if (nfail > 0) {
		strbuf_addf(&sb, "-1\n%zu of %zu TryBots failed:\n", nfail,
		    r->nb);
		for (i = 0; i < r->nb; i++)
			if (r->bv[i].st == TB_FAILED)
				strbuf_addf(&sb, "Failed on %s: %s/log/%s\n",
				    r->bv[i].b->name, baseurl, r->bv[i].log);
	} else if (nbroken > 0)
		/* an infrastructure failure is never voted on */
		strbuf_addf(&sb, "-\n%zu of %zu TryBots could not run "
		    "(infrastructure failures), so there is no vote:\n",
		    nbroken, r->nb);
	else
		strbuf_addstr(&sb, "+1\nTryBots are happy.\n");
	for (i = 0; nfail == 0 && i < r->nb; i++)
		if (r->bv[i].st == TB_BROKEN)
			strbuf_addf(&sb, "Could not run on %s.\n",
			    r->bv[i].b->name);
	strbuf_addf(&sb, "\nStatus page: %s/try/%lld/%lld\n", baseurl,
	    (long long)r->wi.change, (long long)r->wi.patchset);
	path_of(&path, r, "vote");
	if (atomic_write(AT_FDCWD, path.buf, sb.buf, sb.len, 0644,
	    &err) == -1) {
		log_warnx("try %s: %s", esc(r->name), err.buf);
		rc = -1;
	} else
		r->decided = 1;
	strbuf_release(&sb);
	strbuf_release(&path);
	strbuf_release(&err);
	return rc;
}

/* ---- adopting ---- */

static void
queue_builds(struct run *r)
{
	struct strbuf item = STRBUF_INIT, text = STRBUF_INIT,
	    err = STRBUF_INIT;
	struct work_item wi = r->wi;
	size_t i;
	int rc;

	for (i = 0; i < r->nb; i++) {
		if (r->bv[i].st != TB_WAIT)
			continue;
		item_of(&item, r, r->bv[i].b);
		wi.builder = (char *)r->bv[i].b->name;
		wi.repo = r->repo->name;
		strbuf_reset(&text);
		workitem_encode(&wi, &text);
		rc = spool_put_named(work, item.buf, text.buf, text.len, &err);
		if (rc != RC_OK && rc != RC_NO) {
			log_warnx("try %s: %s", esc(r->name), err.buf);
			strbuf_reset(&err);
		}
	}
	strbuf_release(&item);
	strbuf_release(&text);
	strbuf_release(&err);
}

/* Claim new/NAME and make it a run, from what the disk and logs say. */
static void
adopt(const char *name)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT, lit = STRBUF_INIT;
	const struct builder_conf *const *tb;
	struct run *r;
	struct stat st;
	size_t i, n;
	int fd, rc;

	if ((rc = spool_claim(trysp, name, &fd, &err)) != RC_OK) {
		if (rc != RC_NO)
			log_warnx("%s", err.buf);
		goto out;
	}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	r->wi = (struct work_item)WORK_ITEM_INIT;
	r->lockfd = fd;
	r->start = fstat(fd, &st) == 0 ? (long long)st.st_mtim.tv_sec :
	    (long long)time(NULL);
	rc = spool_read(trysp, "cur", name, &buf, WORK_ITEM_MAX, &err);
	if (rc == RC_OK && (rc = workitem_parse(&r->wi, buf.buf, buf.len,
	    &err)) == RC_OK && r->wi.kind != WORK_TRY) {
		strbuf_addstr(&err, "not a try item");
		rc = RC_PERM;
	}
	if (rc == RC_OK &&
	    (r->repo = farmconf_repo(cx.conf, r->wi.repo)) == NULL &&
	    (r->repo = farmconf_repo_for_project(cx.conf,
	    r->wi.repo)) == NULL) {
		strbuf_addf(&err, "repo '%s' is not in the config", r->wi.repo);
		rc = RC_PERM;
	}
	if (rc == RC_OK) {
		tb = r->repo->trybuilders;
		n = r->repo->ntrybuilders;
		r->bv = xcalloc(n + 1, sizeof(*r->bv));
		for (i = 0; i < n; i++)
			if (tb[i]->nrun > 0 && (r->wi.builder == NULL ||
			    r->wi.builder[0] == '\0' ||
			    strcmp(r->wi.builder, tb[i]->name) == 0))
				r->bv[r->nb++].b = tb[i];
		if (r->nb == 0) {
			strbuf_addf(&err, "repo '%s' has no TryBot builder "
			    "with run steps", r->repo->name);
			rc = RC_PERM;
		}
	}
	rv = xreallocarray(rv, nr + 1, sizeof(*rv));
	rv[nr++] = r;
	if (rc != RC_OK) {
		log_warnx("try %s: %s", esc(name), err.buf);
		finish_run(r, rc == RC_PERM ? "fail" : "done", err.buf);
		goto out;
	}

	r->begun = exists(r, "begun");
	r->decided = exists(r, "vote");
	r->voted = exists(r, "voted");
	/* what became of the change, and which builds are done */
	strbuf_reset(&err);
	strbuf_addf(&lit, "\"change\":%lld,", (long long)r->wi.change);
	if (search(corpus, "gerrit", lit.buf, on_gerrit, r, &err) != RC_OK)
		log_warnx("try %s: %s", esc(name), err.buf);
	strbuf_reset(&lit);
	strbuf_reset(&err);
	strbuf_addf(&lit, "\"item\":\"%s.", name);
	if (search(results, "result", lit.buf, on_result, r, &err) != RC_OK)
		log_warnx("try %s: %s", esc(name), err.buf);
	log_info("try %s: change %lld patch set %lld, %zu builders%s",
	    esc(name), (long long)r->wi.change, (long long)r->wi.patchset,
	    r->nb, r->begun ? ", begun before" : "");
	if (r->cancel == NULL && !r->decided)
		queue_builds(r);
out:
	strbuf_release(&buf);
	strbuf_release(&err);
	strbuf_release(&lit);
}

/* ---- the loop's turn ---- */

/* A run whose daemon died goes back to new/, to be adopted again. */
static void
requeue_run(const char *name)
{
	struct strbuf err = STRBUF_INIT;
	int rc = spool_requeue(trysp, name, &err);

	if (rc != RC_OK && rc != RC_NO)
		log_warnx("%s", err.buf);
	strbuf_release(&err);
}

/*
 * The builds still waiting: one that failed for good without a result
 * (fail/: its infrastructure) is broken; one that is nowhere (its put
 * failed) is queued again.
 */
static void
check_builds(struct run *r)
{
	struct strbuf item = STRBUF_INIT;
	size_t i;
	int lost = 0;

	for (i = 0; i < r->nb; i++) {
		if (r->bv[i].st != TB_WAIT)
			continue;
		item_of(&item, r, r->bv[i].b);
		switch (spool_find(work, item.buf)) {
		case SPOOL_FAIL:
			r->bv[i].st = TB_BROKEN;
			break;
		case -1:
			lost = 1;
			break;
		}
	}
	if (lost)
		queue_builds(r);
	strbuf_release(&item);
}

static void
step(struct run *r, int second)
{
	size_t i;
	int all = 1;

	if (r->poster != NULL) {
		if (proc_reap(r->poster, 0) != 1)
			return;
		posted(r);
		if (r->lockfd < 0)
			return;		/* finished in fail/ */
	}
	if (r->voted) {
		finish_run(r, "done", "voted");
		return;
	}
	if (r->cancel != NULL && !r->decided) {
		cancel_builds(r);
		finish_run(r, "done", r->cancel);
		return;
	}
	if (mono_ms() < r->retry_at)
		return;
	if (!r->begun) {
		post(r, POST_BEGIN);
		return;
	}
	if (!r->decided && second)
		check_builds(r);
	for (i = 0; i < r->nb; i++)
		if (r->bv[i].st == TB_WAIT)
			all = 0;
	if (!r->decided && all && decide_vote(r) == -1)
		r->retry_at = mono_ms() + 1000;
	if (r->decided)
		post(r, POST_VOTE);
}

void
try_tick(int corpus_changed)
{
	struct spool_names nv = SPOOL_NAMES_INIT;
	struct mlog_sel sel = { "gerrit", NULL, 0, 0, 0 };
	struct strbuf err = STRBUF_INIT;
	int second = mono_ms() - last_check >= 1000;
	size_t i, j;

	if (second) {
		last_check = mono_ms();
		/* claims of an earlier daemon's posters, once they end */
		for (i = j = 0; i < nwait; i++) {
			if (spool_stale(trysp, waitv[i]) == 0 &&
			    spool_find(trysp, waitv[i]) == SPOOL_CUR) {
				waitv[j++] = waitv[i];
				continue;
			}
			requeue_run(waitv[i]);
			free(waitv[i]);
		}
		nwait = j;
	}
	if (corpus_changed || second) {
		if (mlog_scan(corpus, &err) != RC_OK ||
		    mlog_each(corpus, &ccur, &sel, on_gerrit, NULL,
		    &err) != RC_OK)
			log_warnx("%s", err.buf);
		strbuf_reset(&err);
	}
	if (spool_list(trysp, "new", &nv, &err) != RC_OK)
		log_warnx("%s", err.buf);
	for (i = 0; i < nv.n; i++)
		adopt(nv.v[i]);
	spool_names_free(&nv);
	for (i = nr; i-- > 0;)
		step(rv[i], second);
	strbuf_release(&err);
}

int
try_wants(const char *item)
{
	size_t i, j, n;

	for (i = 0; i < nr; i++) {
		n = strlen(rv[i]->name);
		if (strncmp(item, rv[i]->name, n) != 0 || item[n] != '.')
			continue;
		for (j = 0; j < rv[i]->nb; j++)
			if (strcmp(item + n + 1, rv[i]->bv[j].b->name) == 0)
				return rv[i]->cancel == NULL &&
				    !rv[i]->decided;
	}
	/* a run whose earlier daemon's poster lives: adopted later */
	for (i = 0; i < nwait; i++) {
		n = strlen(waitv[i]);
		if (strncmp(item, waitv[i], n) == 0 && item[n] == '.')
			return 0;
	}
	/* a build of a run that is over (or was never ours) */
	drop_item(item);
	return 0;
}

size_t
try_pollfds(struct pollfd *pfd, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < nr && n < max; i++)
		if (rv[i]->poster != NULL && rv[i]->poster->pidfd >= 0) {
			pfd[n].fd = rv[i]->poster->pidfd;
			pfd[n++].events = POLLIN;
		}
	return n;
}

int
try_timeout(void)
{
	long long now = mono_ms(), t = 1000;
	size_t i;

	for (i = 0; i < nr; i++) {
		if (rv[i]->poster != NULL && rv[i]->poster->pidfd < 0)
			t = t > 20 ? 20 : t;
		else if (rv[i]->poster == NULL && rv[i]->retry_at > now &&
		    rv[i]->retry_at - now < t)
			t = rv[i]->retry_at - now;
	}
	return (int)t;
}

void
try_init(struct spool *w, struct spool *t, struct mlog *c, struct mlog *res)
{
	struct spool_names nv = SPOOL_NAMES_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	off_t len;
	size_t i;
	int fd;

	work = w;
	trysp = t;
	corpus = c;
	results = res;
	/* a run killed with the daemon is adopted again, however often */
	trysp->max_claims = 0;
	farm_placef(&path, cx.dir, FARM_STATE, "schedule/%s", "try");
	if (mkdirs(path.buf) == -1)
		fatal(RC_TEMP, "mkdir '%s'", esc(path.buf));
	/* the links in Gerrit: [farm] url, else where we listen */
	if (cx.conf->url != NULL)
		baseurl = xstrdup(cx.conf->url);
	else {
		strbuf_reset(&path);
		farm_placef(&path, cx.dir, FARM_STATE, "schedule/%s", "addr");
		if ((fd = open(path.buf, O_RDONLY | O_CLOEXEC)) >= 0) {
			strbuf_reset(&err);
			if (strbuf_read_fd(&err, fd, 4096) > 0)
				baseurl = xmemdupz(err.buf,
				    strcspn(err.buf, "\r\n"));
			close(fd);
		}
		if (baseurl == NULL)
			baseurl = xstrdup("http://127.0.0.1:8119");
	}
	while (strlen(baseurl) > 0 && baseurl[strlen(baseurl) - 1] == '/')
		baseurl[strlen(baseurl) - 1] = '\0';
	/* the corpus from its end: adopting a run searches what came before */
	strbuf_reset(&err);
	if (mlog_scan(corpus, &err) == RC_OK && mlog_nsegs(corpus) > 0) {
		i = mlog_nsegs(corpus) - 1;
		if (mlog_seg_readable(corpus, i, NULL, &len, &err) == RC_OK) {
			ccur.seg = mlog_seg(corpus, i)->number;
			ccur.off = len;
		}
	}
	/* runs of an earlier daemon: dead ones again, live ones later */
	strbuf_reset(&err);
	if (spool_list(trysp, "cur", &nv, &err) != RC_OK)
		fatalx(RC_TEMP, "%s", err.buf);
	for (i = 0; i < nv.n; i++) {
		if (spool_stale(trysp, nv.v[i]) == 1) {
			requeue_run(nv.v[i]);
			continue;
		}
		log_info("try %s: an earlier daemon's post runs on",
		    esc(nv.v[i]));
		waitv = xreallocarray(waitv, nwait + 1, sizeof(*waitv));
		waitv[nwait++] = xstrdup(nv.v[i]);
	}
	spool_names_free(&nv);
	strbuf_release(&err);
	strbuf_release(&path);
}

/* ---- the pages ---- */

static const char *
tb_name(const struct run *r, const struct trybuilder *t)
{
	struct strbuf item = STRBUF_INIT;
	const char *s;

	switch (t->st) {
	case TB_OK:
		return "ok";
	case TB_FAILED:
		return "failed";
	case TB_BROKEN:
		return "infrastructure failure";
	default:
		break;
	}
	if (r->lockfd < 0)
		return "cancelled";
	item_of(&item, r, t->b);
	s = spool_find(work, item.buf) == SPOOL_CUR ? "running" : "queued";
	strbuf_release(&item);
	return s;
}

static struct json *
run_json(const struct run *r, long long now)
{
	struct json *o = json_new_object(), *a = json_new_array(), *b;
	size_t i;

	json_set_str(o, "item", r->name);
	json_set_int(o, "change", r->wi.change);
	json_set_int(o, "patchset", r->wi.patchset);
	if (r->repo != NULL || r->wi.repo != NULL)
		json_set_str(o, "repo", r->repo != NULL ? r->repo->name :
		    r->wi.repo);
	if (r->wi.rev != NULL)
		json_set_str(o, "rev", r->wi.rev);
	if (r->wi.subject != NULL)
		json_set_str(o, "subject", r->wi.subject);
	if (r->owner != NULL)
		json_set_str(o, "owner", r->owner);
	json_set_str(o, "state", r->state != NULL ? r->state :
	    r->cancel != NULL ? r->cancel : r->voted ? "voted" :
	    r->decided ? "voting" : r->begun ? "building" : "beginning");
	json_set_int(o, "elapsed_s", (r->end ? r->end : now) - r->start);
	for (i = 0; i < r->nb; i++) {
		b = json_new_object();
		json_set_str(b, "builder", r->bv[i].b->name);
		json_set_str(b, "state", tb_name(r, &r->bv[i]));
		if (r->bv[i].log[0] != '\0')
			json_set_str(b, "log", r->bv[i].log);
		if (r->bv[i].st == TB_OK || r->bv[i].st == TB_FAILED)
			json_set_int(b, "elapsed_ms", r->bv[i].elapsed_ms);
		json_append(a, b);
	}
	json_set(o, "builders", a);
	return o;
}

struct json *
try_status(void)
{
	struct json *a = json_new_array();
	long long now = time(NULL);
	size_t i;

	for (i = 0; i < nr; i++)
		json_append(a, run_json(rv[i], now));
	for (i = 0; i < NDONE && i < ndone; i++)
		json_append(a, run_json(donev[(ndone - 1 - i) % NDONE], now));
	return a;
}

void
try_html(struct strbuf *out, const struct json *runs)
{
	struct json *o;
	size_t i;

	strbuf_addstr(out, "<h2>try runs</h2>\n<table>\n<tr><th>change</th>"
	    "<th>subject</th><th>owner</th><th>state</th><th>elapsed_s</th>"
	    "</tr>\n");
	for (i = 0; i < json_array_len(runs); i++) {
		o = json_array_at(runs, i);
		strbuf_addf(out, "<tr><td><a href=\"/try/%lld/%lld\">%lld/%lld"
		    "</a></td><td>", (long long)json_int(json_get(o, "change")),
		    (long long)json_int(json_get(o, "patchset")),
		    (long long)json_int(json_get(o, "change")),
		    (long long)json_int(json_get(o, "patchset")));
		html_esc(out, json_str(json_get(o, "subject"), NULL));
		strbuf_addstr(out, "</td><td>");
		html_esc(out, json_str(json_get(o, "owner"), NULL));
		strbuf_addstr(out, "</td><td>");
		html_esc(out, json_str(json_get(o, "state"), NULL));
		strbuf_addf(out, "</td><td>%lld</td></tr>\n",
		    (long long)json_int(json_get(o, "elapsed_s")));
	}
	strbuf_addstr(out, "</table>\n");
}

/* /try/CHANGE/PATCHSET: the run's page, or its JSON with ?json=1 */
void
try_page(struct httpd_req *req, const char *rest)
{
	struct strbuf sb = STRBUF_INIT;
	struct json *a, *o = NULL, *bs, *b;
	long long change, ps;
	const char *lg;
	size_t i;
	char c;

	if (sscanf(rest, "%lld/%lld%c", &change, &ps, &c) != 2) {
		httpd_error(req, 404, "404 page not found");
		return;
	}
	pthread_mutex_lock(&sched_mu);
	a = try_status();
	pthread_mutex_unlock(&sched_mu);
	for (i = 0; i < json_array_len(a) && o == NULL; i++)
		if (json_int(json_get(json_array_at(a, i), "change")) ==
		    change && json_int(json_get(json_array_at(a, i),
		    "patchset")) == ps)
			o = json_array_at(a, i);
	if (o == NULL) {
		httpd_error(req, 404, "no such try run");
		json_free(a);
		return;
	}
	if (httpd_query(req, "json") != NULL) {
		json_dump_pretty(&sb, o);
		strbuf_addch(&sb, '\n');
		httpd_reply(req, 200, "application/json", sb.buf, sb.len);
		goto out;
	}
	strbuf_addf(&sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta http-equiv=\"refresh\" content=\"5\"><title>try %lld/%lld"
	    "</title>\n<style>td,th{padding:0 .5em;text-align:left}</style>"
	    "</head><body>\n<h1>TryBots: change %lld, patch set %lld</h1>\n"
	    "<p>", change, ps, change, ps);
	html_esc(&sb, json_str(json_get(o, "subject"), NULL));
	strbuf_addstr(&sb, "<br>owner: ");
	html_esc(&sb, json_str(json_get(o, "owner"), NULL));
	strbuf_addstr(&sb, "<br>rev: ");
	html_esc(&sb, json_str(json_get(o, "rev"), NULL));
	strbuf_addstr(&sb, "<br>state: ");
	html_esc(&sb, json_str(json_get(o, "state"), NULL));
	strbuf_addf(&sb, "<br>elapsed: %lld s</p>\n<table>\n<tr><th>builder"
	    "</th><th>state</th><th>log</th></tr>\n",
	    (long long)json_int(json_get(o, "elapsed_s")));
	bs = json_get(o, "builders");
	for (i = 0; i < json_array_len(bs); i++) {
		b = json_array_at(bs, i);
		strbuf_addstr(&sb, "<tr><td>");
		html_esc(&sb, json_str(json_get(b, "builder"), NULL));
		strbuf_addstr(&sb, "</td><td>");
		html_esc(&sb, json_str(json_get(b, "state"), NULL));
		strbuf_addstr(&sb, "</td><td>");
		/* a hash, or the live log by the build's item */
		if ((lg = json_str(json_get(b, "log"), NULL)) != NULL &&
		    strspn(lg, "0123456789abcdef") == 64 && lg[64] == '\0')
			strbuf_addf(&sb, "<a href=\"/log/%s\">log</a>", lg);
		else if ((lg = json_str(json_get(b, "state"), NULL)) != NULL &&
		    strcmp(lg, "running") == 0) {
			strbuf_addstr(&sb, "<a href=\"/log/");
			html_esc(&sb, json_str(json_get(o, "item"), NULL));
			strbuf_addch(&sb, '.');
			html_esc(&sb, json_str(json_get(b, "builder"), NULL));
			strbuf_addstr(&sb, "\">live</a>");
		}
		strbuf_addstr(&sb, "</td></tr>\n");
	}
	strbuf_addstr(&sb, "</table>\n</body></html>\n");
	httpd_reply(req, 200, "text/html; charset=utf-8", sb.buf, sb.len);
out:
	json_free(a);
	strbuf_release(&sb);
}
