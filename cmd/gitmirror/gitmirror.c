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
 *   - one sync per repo at a time (state/gitmirror/REPO.lock); a sync
 *     that finds the lock taken skips the repo as "nothing new" (exit 1);
 *   - tarballs depend only on the commit: entries in Git's tree order,
 *     mtime the commit time, owner 0, no gzip time stamp (archive.c).
 *
 * Files, under the farm's directory:
 *   config                       [repo "NAME"] sections
 *   corpus/                      git-ref and git records
 *   mirror/NAME.git              the bare mirrors
 *   state/gitmirror/NAME.json    recorded ref tips, the corpus seq, status
 *   state/gitmirror/NAME.lock    flock(2)ed while syncing NAME
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

#include "config.h"
#include "extern.h"
#include "farm.h"
#include "git.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct ctx cx;
static const char *dflag;
static struct config *conf;

static void usage_to(FILE *, int) BF_NORETURN;

static void
usage_to(FILE *fp, int rc)
{
	fprintf(fp,
"usage: gitmirror [-hv] [-d dir] sync [-n] [repo ...]\n"
"       gitmirror [-hv] [-d dir] archive [-p prefix] repo rev\n"
"       gitmirror [-hv] [-d dir] serve [-l addr] [-s cachesize]\n"
"       gitmirror [-hv] [-d dir] status [repo ...]\n"
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
mirror_path(struct strbuf *out, const struct repo *r)
{
	farm_placef(out, cx.dir, FARM_MIRROR, "%s.git", r->name);
}

void
state_path(struct strbuf *out, const char *name, const char *ext)
{
	farm_placef(out, cx.dir, FARM_STATE, "gitmirror/%s%s", name, ext);
}

/* 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-' */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && s[0] != '.' && s[0] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

/* A URL libgit2 can fetch: a scheme we know, or scp-like user@host:path. */
static int
url_ok(const char *u)
{
	static const char *const schemes[] = { "https://", "http://",
	    "git://", "ssh://", "file://" };
	size_t i;

	if (strpbrk(u, " \t\r\n") != NULL || *u == '\0')
		return 0;
	for (i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strncmp(u, schemes[i], strlen(schemes[i])) == 0)
			return u[strlen(schemes[i])] != '\0';
	return strchr(u, '@') != NULL && strchr(u, ':') != NULL;
}

/* a branch name git would take, short form */
static int
branch_ok(const char *b)
{
	return *b != '\0' && *b != '-' && *b != '/' && strlen(b) <= 200 &&
	    strstr(b, "..") == NULL && strstr(b, "//") == NULL &&
	    strpbrk(b, " ~^:?*[\\\t\r\n") == NULL &&
	    b[strlen(b) - 1] != '/' && strncmp(b, "refs/", 5) != 0;
}

static char *
path_expand(const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	const char *home = getenv("HOME");

	if (strncmp(p, "~/", 2) == 0 && home != NULL) {
		strbuf_addf(&sb, "%s/%s", home, p + 2);
		return strbuf_detach(&sb, NULL);
	}
	return xstrdup(p);
}

/* config_get_all's array is scratch space: keep a copy */
static size_t
get_all(const char *key, const char ***out)
{
	const char **v;
	size_t n = config_get_all(conf, key, &v);

	*out = xcalloc(n + 1, sizeof(**out));
	if (n > 0)
		memcpy(*out, v, n * sizeof(*v));
	return n;
}

/* Every problem on its own line; exits 100 if there was any. */
static void
load_config(void)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, k = STRBUF_INIT;
	const char **names, *v;
	size_t n, i, j;
	int rc, bad = 0;

	cx.dir = farm_dir(dflag);
	farm_place(&path, cx.dir, FARM_CONFIG);
	if ((rc = config_load(&conf, path.buf, 0, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	config_warn_unknown(conf);
	n = config_subsections(conf, "repo", &names);
	cx.repos = xcalloc(n + 1, sizeof(*cx.repos));
	cx.nrepos = n;
	for (i = 0; i < n; i++) {
		struct repo *r = &cx.repos[i];

		r->name = xstrdup(names[i]);
		if (!name_ok(r->name)) {
			log_warnx("config: bad repo name '%s': want 1 to 64 "
			    "letters, digits, '.', '_' or '-'", esc(r->name));
			bad = 1;
			continue;
		}
#define KEY(key) (strbuf_reset(&k), strbuf_addf(&k, "repo.%s.%s", \
	r->name, key), k.buf)
		r->upstream = config_get(conf, KEY("upstream"));
		if (r->upstream == NULL || !url_ok(r->upstream)) {
			log_warnx("config: [repo \"%s\"]: %s upstream URL",
			    esc(r->name), r->upstream ? "bad" : "no");
			bad = 1;
		}
		r->npush = get_all(KEY("push"), &r->push);
		for (j = 0; j < r->npush; j++)
			if (!url_ok(r->push[j])) {
				log_warnx("config: [repo \"%s\"]: bad push "
				    "URL '%s'", esc(r->name),
				    esc(r->push[j]));
				bad = 1;
			}
		r->nbranch = get_all(KEY("branch"), &r->branch);
		for (j = 0; j < r->nbranch; j++)
			if (!branch_ok(r->branch[j])) {
				log_warnx("config: [repo \"%s\"]: bad branch "
				    "'%s'", esc(r->name), esc(r->branch[j]));
				bad = 1;
			}
		strbuf_reset(&err);
		if (config_bool(conf, KEY("mirror"), 0, &r->mirror, &err) < 0 ||
		    config_int(conf, KEY("backfill"), 0, 1000000, DEF_BACKFILL,
		    &r->backfill, &err) < 0 ||
		    config_int(conf, KEY("timeout"), 1, 86400, DEF_TIMEOUT_S,
		    &r->timeout_s, &err) < 0 ||
		    config_int(conf, KEY("interval"), 1, 30 * 86400,
		    DEF_INTERVAL_S, &r->interval_s, &err) < 0) {
			log_warnx("config: %s", err.buf);
			bad = 1;
		}
		if ((v = config_get(conf, KEY("credentials"))) != NULL)
			r->credentials = path_expand(v);
		if ((v = config_get(conf, KEY("sshkey"))) != NULL)
			r->sshkey = path_expand(v);
		if ((v = config_get(conf, KEY("knownhosts"))) != NULL)
			r->knownhosts = path_expand(v);
#undef KEY
	}
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&k);
	if (bad)
		exit(RC_PERM);
}

struct repo *
repo_find(const char *name)
{
	size_t i;

	for (i = 0; i < cx.nrepos; i++)
		if (strcmp(cx.repos[i].name, name) == 0)
			return &cx.repos[i];
	return NULL;
}

struct repo **
repo_select(int argc, char **argv, size_t *n)
{
	struct repo **v;
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
	struct repo **sel;
	size_t n, i;
	int ch, rc = RC_NO;

	while ((ch = getopt(argc, argv, "+n")) != -1) {
		if (ch != 'n')
			usage();
		cx.nflag = 1;
	}
	argc -= optind;
	argv += optind;
	load_config();
	sel = repo_select(argc, argv, &n);
	if (n == 0)
		log_warnx("no [repo] sections in the config");
	for (i = 0; i < n; i++)
		rc = rc_worse(rc, cx.nflag ? sync_dry(sel[i]) :
		    sync_repo(sel[i]));
	free(sel);
	return rc;
}

static int
cmd_archive(int argc, char **argv)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct gitx_repo *g;
	const char *prefix = "";
	struct repo *r;
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
	int ch;

	while ((ch = getopt(argc, argv, "+l:s:")) != -1) {
		switch (ch) {
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
	return serve_run(listen, cachemax);
}

static int
cmd_status(int argc, char **argv)
{
	load_config();
	return status_run(argc - 1, argv + 1);
}

static int
cmd_fsck(int argc, char **argv)
{
	load_config();
	return fsck_run(argc - 1, argv + 1);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "sync", cmd_sync },
		{ "archive", cmd_archive },
		{ "serve", cmd_serve },
		{ "status", cmd_status },
		{ "fsck", cmd_fsck },
	};
	size_t i;
	int ch, rc;

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
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		optind = 1;
		rc = cmds[i].fn(argc, argv);
		if (fflush(stdout) != 0 || ferror(stdout))
			fatal(RC_TEMP, "write stdout");
		if (conf != NULL)
			config_free(conf);
		return rc;
	}
	log_warnx("unknown command '%s'", esc(argv[0]));
	usage();
}
