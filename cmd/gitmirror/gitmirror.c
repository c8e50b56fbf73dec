/*
 * gitmirror: mirror Git repositories, push them downstream, record new
 * commits in the corpus, serve source tarballs.
 *
 * Invariants:
 *   - every git operation goes through libgit2 (lib/git.c); network
 *     transfers run in a child process with a deadline, so a hung
 *     remote costs at most [repo] timeout seconds;
 *   - the corpus gets a record before anything depends on it: the state
 *     file (recorded ref tips) is written only after the append is
 *     durable, and on start the records appended after the state's seq
 *     are replayed into it, so a crash anywhere repeats nothing and
 *     loses nothing (sync.c);
 *   - the new-commit lines are printed at least once: from the corpus,
 *     after a printed-up-to seq that advances only once they are
 *     flushed (sync.c);
 *   - one sync per repo at a time (state/gitmirror/REPO.lock); a sync
 *     that finds the lock taken skips the repo as "nothing new" (exit 1);
 *   - tarballs depend only on the commit: entries in Git's tree order,
 *     mtime the commit time, owner 0, no gzip time stamp (archive.c).
 *
 * Files, under the farm's directory:
 *   config                       [repo "NAME"] sections
 *   corpus/                      git-ref and git records
 *   mirror/NAME.git              the bare mirrors
 *   state/gitmirror/NAME.json    recorded ref tips, the corpus seq, the
 *                                printed-up-to seq, status
 *   state/gitmirror/NAME.lock    flock(2)ed while syncing NAME
 *   mirror/NAME.git: refs/buildfarm/changes/
 *                                change refs fetched on demand
 *                                (fetchref.c), the mirror's own
 *   cache/gitmirror/             tarballs served, by tree and time
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "git.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "subcmd.h"
#include "xmalloc.h"

struct ctx cx;
static const char *dflag;
static struct farmconf *conf;

static void usage_to(FILE *, int) BF_NORETURN;

static void
usage_to(FILE *fp, int rc)
{
	fprintf(fp,
"usage: gitmirror [-hv] [-d dir] sync [-nq] [-j jobs] [repo ...]\n"
"       gitmirror [-hv] [-d dir] archive [-p prefix] repo rev\n"
"       gitmirror [-hv] [-d dir] fetch-ref repo ref\n"
"       gitmirror [-hv] [-d dir] serve [-f fetches] [-l addr] [-s cachesize]\n"
"       gitmirror [-hv] [-d dir] status [-j] [repo ...]\n"
"       gitmirror [-hv] [-d dir] fsck [repo ...]\n");
	exit(rc);
}

void
usage(void)
{
	usage_to(stderr, RC_PERM);
}

void
crash_point(const char *name)
{
	farm_crash_point("GITMIRROR_TEST_CRASH_AT", name);
}

void
mirror_path(struct strbuf *out, const struct repo_conf *r)
{
	farm_placef(out, cx.dir, FARM_MIRROR, "%s.git", r->name);
}

void
state_path(struct strbuf *out, const char *name, const char *ext)
{
	farm_placef(out, cx.dir, FARM_STATE, "gitmirror/%s%s", name, ext);
}

int
config_reload(struct strbuf *warn, struct strbuf *err)
{
	struct farmconf *fc;
	int rc;

	if ((rc = farmconf_load(&fc, cx.dir, FC_REPO, warn, err)) != RC_OK)
		return rc;
	farmconf_free(conf);
	conf = fc;
	cx.repos = conf->repos;
	cx.nrepos = conf->nrepos;
	return RC_OK;
}

/* The config, checked; every problem on its own line, then exit 100. */
static void
load_config(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	cx.dir = farm_dir(dflag);
	rc = config_reload(&warn, &err);
	log_lines(&warn);
	log_lines(&err);
	if (rc != RC_OK)
		exit(rc);
	strbuf_release(&warn);
	strbuf_release(&err);
}

struct repo_conf *
repo_find(const char *name)
{
	size_t i;

	for (i = 0; i < cx.nrepos; i++)
		if (strcmp(cx.repos[i].name, name) == 0)
			return &cx.repos[i];
	return NULL;
}

struct repo_conf **
repo_select(int argc, char **argv, size_t *n)
{
	struct repo_conf **v;
	int i;

	if (argc == 0) {
		v = xcalloc(cx.nrepos + 1, sizeof(*v));
		for (*n = 0; *n < cx.nrepos; (*n)++)
			v[*n] = &cx.repos[*n];
		return v;
	}
	v = xcalloc((size_t)argc + 1, sizeof(*v));
	for (i = 0; i < argc; i++)
		if ((v[i] = repo_find(argv[i])) == NULL)
			fatalx(RC_PERM, "no [repo \"%s\"] in the config",
			    esc(argv[i]));
	*n = (size_t)argc;
	return v;
}

static int
cmd_sync(int argc, char **argv)
{
	struct repo_conf **sel;
	size_t n, i;
	int ch, jobs = DEF_JOBS, rc = RC_NO;

	while ((ch = getopt(argc, argv, "+j:nq")) != -1) {
		switch (ch) {
		case 'j':
			if (num_parse_int(optarg, 1, 1000, &jobs) < 0)
				fatalx(RC_PERM, "bad job count '%s': want 1 "
				    "to 1000", esc(optarg));
			break;
		case 'n':
			cx.nflag = 1;
			break;
		case 'q':
			cx.qflag = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	load_config();
	sel = repo_select(argc, argv, &n);
	if (n == 0)
		log_warnx("no [repo] sections in the config");
	if (cx.nflag)
		for (i = 0; i < n; i++)
			rc = rc_worse(rc, sync_dry(sel[i]));
	else
		rc = sync_repos(sel, n, jobs);
	free(sel);
	return rc;
}

static int
cmd_archive(int argc, char **argv)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct gitx_repo *g;
	const char *prefix = "";
	struct repo_conf *r;
	int ch, rc;

	while ((ch = getopt(argc, argv, "+p:")) != -1) {
		if (ch != 'p')
			usage();
		prefix = optarg;
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage();
	if (strstr(prefix, "..") != NULL || *prefix == '/' ||
	    strlen(prefix) > 255)
		fatalx(RC_PERM, "bad prefix '%s'", esc(prefix));
	load_config();
	if ((r = repo_find(argv[0])) == NULL)
		fatalx(RC_PERM, "no [repo \"%s\"] in the config", esc(argv[0]));
	mirror_path(&path, r);
	if ((rc = gitx_open(&g, path.buf, &err)) != RC_OK)
		fatalx(rc, "%s: %s", r->name, err.buf);
	rc = archive_write(g, argv[1], prefix, 1, 0, &err);
	if (rc == RC_NO)
		fatalx(RC_PERM, "%s: unknown revision '%s'", r->name,
		    esc(argv[1]));
	if (rc != RC_OK)
		fatalx(rc, "archive %s %s: %s", r->name, esc(argv[1]),
		    err.buf);
	gitx_close(g);
	strbuf_release(&path);
	strbuf_release(&err);
	return RC_OK;
}

static int
cmd_serve(int argc, char **argv)
{
	const char *listen = DEF_LISTEN;
	uint64_t cachemax = DEF_CACHE;
	int ch, fetchmax = DEF_FETCHES;

	while ((ch = getopt(argc, argv, "+f:l:s:")) != -1) {
		switch (ch) {
		case 'f':
			if (num_parse_int(optarg, 0, 10000, &fetchmax) < 0)
				fatalx(RC_PERM, "bad fetch limit '%s': want 0 "
				    "to 10000 a minute", esc(optarg));
			break;
		case 'l':
			listen = optarg;
			break;
		case 's':
			if (num_parse_size(optarg, 1 << 20, UINT64_MAX / 2,
			    &cachemax) < 0)
				fatalx(RC_PERM, "bad cache size '%s': want "
				    "1m or more", esc(optarg));
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	load_config();
	return serve_run(listen, cachemax, fetchmax);
}

static int
cmd_status(int argc, char **argv)
{
	int ch, jflag = 0;

	while ((ch = getopt(argc, argv, "+j")) != -1) {
		if (ch != 'j')
			usage();
		jflag = 1;
	}
	load_config();
	return status_run(argc - optind, argv + optind, jflag);
}

static int
cmd_fsck(int argc, char **argv)
{
	load_config();
	return fsck_run(argc - 1, argv + 1);
}

static int
cmd_fetch_ref(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	char oid[GITX_HEXSZ + 1];
	struct repo_conf *r;
	int rc;

	if (argc != 3)
		usage();
	if (!changeref_ok(argv[2]))
		fatalx(RC_PERM, "bad ref '%s': want refs/changes/NN/CHANGE/"
		    "PATCHSET", esc(argv[2]));
	load_config();
	if ((r = repo_find(argv[1])) == NULL)
		fatalx(RC_PERM, "no [repo \"%s\"] in the config", esc(argv[1]));
	rc = fetch_ref(r, argv[2], oid, &err);
	if (rc == RC_NO)
		fatalx(RC_PERM, "%s: %s", r->name, esc(err.buf));
	if (rc != RC_OK)
		fatalx(rc, "%s: fetch %s: %s", r->name, argv[2], esc(err.buf));
	printf("%s\n", oid);
	strbuf_release(&err);
	return RC_OK;
}

int
main(int argc, char **argv)
{
	static const struct subcmd cmds[] = {
		{ "sync", cmd_sync },
		{ "archive", cmd_archive },
		{ "serve", cmd_serve },
		{ "status", cmd_status },
		{ "fsck", cmd_fsck },
		{ "fetch-ref", cmd_fetch_ref },
	};
	struct strbuf err = STRBUF_INIT;
	int ch, rc;

	if ((rc = gitx_child_main(argc, argv, push_wanted)) != -1)
		_exit(rc);
	prog_init(argv[0]);
	while ((ch = getopt(argc, argv, "+d:hv")) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			usage_to(stdout, RC_OK);
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if ((rc = subcmd_run(cmds, ARRAY_SIZE(cmds), argc, argv, &err)) < 0) {
		log_warnx("%s", err.buf);
		usage();
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		fatal(RC_TEMP, "write stdout");
	farmconf_free(conf);
	return rc;
}
