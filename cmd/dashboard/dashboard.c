/*
 * dashboard: the build grid, as static files, from the logs.
 *
 *   model.c    commits, builders and results, from the corpus log's
 *              git records and the results log; running builds from
 *              spool/work/cur and state/schedule/live
 *   render.c   the pages: grid, commits, builders (with an SVG plot),
 *              logs, index.json, failures.txt
 *
 * Threads: the sealed segments of the results log are parsed two at a
 * time (read_pairs) and the commit pages written on two threads; the
 * model is changed only by the main thread, never while another runs.
 *
 * Every run reads both logs into the model, marking dirty what records
 * newer than the seqs saved in state/dashboard/state touch, renders
 * the dirty pages, syncs OUTDIR's file system and then saves the seqs:
 * a crash re-renders, never skips.  With -f it keeps the model and
 * follows both logs (inotify), checking the running builds every
 * second.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "lock.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "sig.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define FOLLOW_MS	1000	/* running builds are checked this often */

static void
print_usage(FILE *fp)
{
	fprintf(fp, "usage: dashboard [-fhv] [-d dir] [-o outdir]\n");
}

static void __attribute__((noreturn))
usage(void)
{
	print_usage(stderr);
	exit(RC_PERM);
}

/* What state/dashboard/state keeps between runs. */
struct saved {
	struct strbuf outdir;
	uint64_t corpus, results;
	struct strbuf building;		/* "ITEM REPO REV BUILDER\n" lines */
};

static void
load_saved(struct saved *s, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *line, *nl;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (strbuf_read_fd(&sb, fd, 16 << 20) < 0)
		strbuf_reset(&sb);
	close(fd);
	for (line = sb.buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (strncmp(line, "outdir ", 7) == 0)
			strbuf_addstr(&s->outdir, line + 7);
		else if (strncmp(line, "corpus ", 7) == 0)
			s->corpus = strtoull(line + 7, NULL, 10);
		else if (strncmp(line, "results ", 8) == 0)
			s->results = strtoull(line + 8, NULL, 10);
		else if (strncmp(line, "building ", 9) == 0)
			strbuf_addf(&s->building, "%s\n", line + 9);
	}
	strbuf_release(&sb);
}

static int
save(const struct saved *s, const char *path, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p, *nl;
	int rc;

	strbuf_addf(&sb, "outdir %s\ncorpus %" PRIu64 "\nresults %" PRIu64
	    "\n", s->outdir.buf, s->corpus, s->results);
	for (p = s->building.buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		strbuf_addf(&sb, "building %.*s\n", (int)(nl - p), p);
	rc = atomic_write(AT_FDCWD, path, sb.buf, sb.len, 0644, err) == 0 ?
	    RC_OK : RC_TEMP;
	strbuf_release(&sb);
	return rc;
}

/* One of the two logs, followed. */
struct follow {
	enum farm_place place;
	struct mlog *l;
	struct mlog *l2;		/* for the second reading thread */
	struct mlog_cursor cur;
	uint64_t saved;			/* seq rendered by the last run */
	uint64_t last;			/* seq read */
	int (*fn)(const struct mlog_rec *, void *);
	struct dash *d;
	int watch;
};

static int
on_rec(const struct mlog_rec *rec, void *arg)
{
	struct follow *f = arg;

	f->d->mark = f->d->all || rec->seq > f->saved;
	return f->fn(rec, f->d);
}

/* The grid's events of one segment, parsed apart from the model. */
struct segjob {
	struct mlog *l;
	struct mlog_cursor cur;
	struct event *ev;
	size_t n, alloc;
	uint64_t last;
	int rc;
	struct strbuf err;
};

static int
collect(const struct mlog_rec *rec, void *arg)
{
	struct segjob *j = arg;

	if (j->n == j->alloc) {
		j->alloc = j->alloc != 0 ? j->alloc * 2 : 4096;
		j->ev = xreallocarray(j->ev, j->alloc, sizeof(*j->ev));
	}
	if (model_event(rec, &j->ev[j->n]))
		j->n++;
	return 0;
}

static void *
segjob_run(void *arg)
{
	struct segjob *j = arg;
	struct mlog_sel sel = { NULL, NULL, 0, 0, 1 };

	j->rc = mlog_each(j->l, &j->cur, &sel, collect, j, &j->err);
	j->last = sel.last;
	return NULL;
}

/*
 * The sealed segments of the results log two at a time, parsed on two
 * threads (parsing is most of a first run's reading), then applied in
 * order.  What is left, the growing segment, is read as usual.
 */
static int
read_pairs(struct follow *f, struct strbuf *err)
{
	struct segjob j[2];
	pthread_t th;
	long i;
	size_t k, e;
	int rc = RC_OK, started;

	for (;;) {
		i = mlog_find(f->l, f->cur.seg);
		if (i < 0 || (size_t)i + 1 >= mlog_nsegs(f->l) ||
		    !mlog_seg(f->l, (size_t)i)->sealed ||
		    !mlog_seg(f->l, (size_t)i + 1)->sealed)
			return RC_OK;
		if (f->l2 == NULL &&
		    (rc = mlog_open(&f->l2, mlog_dir(f->l), 0, err)) != RC_OK)
			return rc;
		if ((rc = mlog_scan(f->l2, err)) != RC_OK)
			return rc;
		memset(j, 0, sizeof(j));
		for (k = 0; k < 2; k++)
			strbuf_init(&j[k].err, 0);
		j[0].l = f->l;
		j[0].cur = f->cur;
		j[1].l = f->l2;
		j[1].cur.seg = mlog_seg(f->l, (size_t)i + 1)->number;
		started = pthread_create(&th, NULL, segjob_run, &j[1]) == 0;
		segjob_run(&j[0]);
		if (started)
			pthread_join(th, NULL);
		else
			segjob_run(&j[1]);
		for (k = 0; k < 2; k++) {
			if (j[k].rc != RC_OK && rc == RC_OK) {
				rc = j[k].rc;
				strbuf_addstr(err, j[k].err.buf);
			}
			for (e = 0; e < j[k].n; e++) {
				if (rc == RC_OK) {
					f->d->mark = f->d->all ||
					    j[k].ev[e].seq > f->saved;
					model_apply(f->d, &j[k].ev[e]);
				}
				model_event_free(&j[k].ev[e]);
			}
			free(j[k].ev);
			strbuf_release(&j[k].err);
			if (j[k].last > f->last)
				f->last = j[k].last;
		}
		if (rc != RC_OK)
			return rc;
		f->cur.seg = j[1].cur.seg + 1;
		f->cur.off = 0;
	}
}

/* Read what is new in f's log (opening it once it exists). */
static int
follow_read(struct follow *f, const char *dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct mlog_sel sel = { NULL, NULL, 0, 0, 0 };
	int rc = RC_OK;

	if (f->l == NULL) {
		farm_place(&path, dir, f->place);
		if (mlog_is_log(path.buf) &&
		    (rc = mlog_open(&f->l, path.buf, 0, err)) == RC_OK &&
		    f->watch)
			rc = mlog_watch(f->l, err);
		strbuf_release(&path);
		if (f->l == NULL || rc != RC_OK)
			return rc;
	}
	if (f->place == FARM_CORPUS) {
		sel.type = "git";
		sel.lit = "\"type\":\"git\"";
	}
	if ((rc = mlog_scan(f->l, err)) == RC_OK && f->place == FARM_RESULTS)
		rc = read_pairs(f, err);
	if (rc == RC_OK)
		rc = mlog_each(f->l, &f->cur, &sel, on_rec, f, err);
	if (sel.last > f->last)
		f->last = sel.last;
	return rc;
}

int
main(int argc, char *argv[])
{
	/* static: what lives until exit is reachable, not leaked */
	static struct strbuf err = STRBUF_INIT, warn = STRBUF_INIT,
	    out = STRBUF_INIT, st = STRBUF_INIT, lockp = STRBUF_INIT,
	    idx = STRBUF_INIT;
	static struct saved sv = { STRBUF_INIT, 0, 0, STRBUF_INIT };
	static struct follow fl[2];
	static struct farmconf *fc;
	static struct dash d;
	const char *dflag = NULL, *oflag = NULL;
	struct pollfd pfd[3];
	int ch, fflag = 0, following = 0, wrote, lockfd, rc, i;
	long long t0;

	prog_init(argv[0]);
	while ((ch = getopt(argc, argv, "d:fho:v")) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'f':
			fflag = 1;
			break;
		case 'h':
			print_usage(stdout);
			return fflush(stdout) == EOF ? RC_TEMP : RC_OK;
		case 'o':
			oflag = optarg;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	memset(&d, 0, sizeof(d));
	d.dir = farm_dir(dflag);
	rc = farmconf_load(&fc, d.dir, FC_FARM | FC_REPO, &warn, &err);
	log_lines(&warn);
	if (rc != RC_OK) {
		log_lines(&err);
		return rc;
	}
	d.url = fc->url;
	if (oflag != NULL)
		strbuf_addstr(&out, oflag);
	else
		farmconf_www(&out, fc, d.dir);
	d.out = out.buf;
	if (mkdirs(d.out) == -1 ||
	    (d.outfd = open(d.out, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal(RC_TEMP, "output directory '%s'", esc(d.out));
	farm_placef(&st, d.dir, FARM_STATE, "dashboard");
	if (mkdirs(st.buf) == -1)
		fatal(RC_TEMP, "mkdir '%s'", esc(st.buf));
	strbuf_addf(&lockp, "%s/lock", st.buf);
	strbuf_addstr(&st, "/state");
	if ((rc = lock_take(lockp.buf, LOCK_F_NB, 0, &lockfd, &err)) ==
	    RC_NO)
		fatalx(RC_TEMP, "another dashboard runs on '%s'", esc(d.dir));
	else if (rc != RC_OK)
		fatalx(rc, "%s", err.buf);
	if (fflag && sig_init(&err, SIGTERM, SIGINT, SIGHUP, 0) == -1)
		fatalx(RC_TEMP, "%s", err.buf);

	/* a new OUTDIR, or one that lost its pages: everything */
	load_saved(&sv, st.buf);
	strbuf_addf(&idx, "%s/index.html", d.out);
	if (strcmp(sv.outdir.buf, d.out) != 0 || access(idx.buf, F_OK) != 0) {
		d.all = 1;
		sv.corpus = sv.results = 0;
	}
	strbuf_reset(&sv.outdir);
	strbuf_addstr(&sv.outdir, d.out);
	model_init(&d, fc);

	memset(fl, 0, sizeof(fl));
	fl[0].place = FARM_CORPUS;
	fl[0].fn = model_git;
	fl[0].saved = sv.corpus;
	fl[1].place = FARM_RESULTS;
	fl[1].fn = model_result;
	fl[1].saved = sv.results;
	for (i = 0; i < 2; i++) {
		fl[i].d = &d;
		fl[i].watch = fflag;
	}

	for (;;) {
		t0 = mono_ms();
		for (i = 0; i < 2; i++)
			if ((rc = follow_read(&fl[i], d.dir, &err)) != RC_OK)
				fatalx(rc, "%s", err.buf);
		model_building(&d, &sv.building);
		log_debug("read the logs in %lld ms", mono_ms() - t0);
		wrote = d.all || d.any;
		if (wrote) {
			if ((rc = render(&d, &err)) != RC_OK)
				fatalx(rc, "%s", err.buf);
			if (syncfs(d.outfd) == -1)
				fatal(RC_TEMP, "sync '%s'", esc(d.out));
		}
		if (wrote || fl[0].last != sv.corpus ||
		    fl[1].last != sv.results) {
			sv.corpus = fl[0].last;
			sv.results = fl[1].last;
			if ((rc = save(&sv, st.buf, &err)) != RC_OK)
				fatalx(rc, "%s", err.buf);
			for (i = 0; i < 2; i++)
				fl[i].saved = fl[i].last;
		}
		if (wrote)
			log_info("rendered in %lld ms", mono_ms() - t0);
		if (!fflag)
			return wrote ? RC_OK : RC_NO;
		if (!following) {
			log_info("following the logs");
			following = 1;
		}
		/* wait for a record, a signal, or the next look at builds */
		pfd[0].fd = sig_fd();
		for (i = 0; i < 2; i++)
			pfd[i + 1].fd = fl[i].l != NULL ?
			    mlog_watch_fd(fl[i].l) : -1;
		for (i = 0; i < 3; i++)
			pfd[i].events = POLLIN;
		if (poll(pfd, 3, FOLLOW_MS) == -1 && errno != EINTR)
			fatal(RC_TEMP, "poll");
		if (sig_next() != 0)
			break;
		for (i = 0; i < 2; i++)
			if (fl[i].l != NULL)
				(void)mlog_changed(fl[i].l);
	}
	return RC_OK;
}
