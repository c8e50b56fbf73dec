/*
 * pollgerrit: the farm's view of code review.
 *
 * It records Gerrit activity in the corpus log (one gerrit record per
 * change whose patch set, status, votes or messages changed), turns
 * TryBot requests (label:Run-TryBot=1 label:TryBot-Result=0 status:open)
 * into work items in spool/try, and posts results back as votes and
 * messages.  Gerrit is read by polling its REST API (poll, or watch for
 * a loop) or from "gerrit stream-events" on stdin (events).
 *
 * Invariants:
 *   - a record is appended (fsynced) before anything that depends on
 *     it: the digests, the cursor, the state file, the output;
 *   - nothing is recorded twice: before deciding what is new, the
 *     records of the server appended after the state file's seq are
 *     replayed under the corpus lock (state.c);
 *   - a failed or partial query changes nothing: all network work of a
 *     round comes before any disk work (poll.c);
 *   - one try item per (server, change, patch set), ever: its name is
 *     its identity (try.c);
 *   - one pollgerrit at a time per server (state/pollgerrit/NAME.lock);
 *     a poll that finds the lock taken exits 1, like one with no news.
 *
 * Files, under the farm's directory:
 *   config                      [gerrit "NAME"] sections
 *   corpus/                     the log gerrit records go to
 *   spool/try/                  try items, NAME-CHANGE-PATCHSET
 *   state/pollgerrit/NAME.json  cursor, digests, accounts, seq
 *   state/pollgerrit/NAME.lock  flock(2)ed while working on NAME
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

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "subcmd.h"
#include "xmalloc.h"

#define DEF_TRY_S	1
#define DEF_FULL_S	60

struct ctx cx = { .statefd = -1 };
static const char *dflag;
static int nflag;

static void usage_to(FILE *, int) BF_NORETURN;

static void
usage_to(FILE *fp, int rc)
{
	fprintf(fp,
"usage: pollgerrit [-hnv] [-d dir] poll [-j] [gerrit ...]\n"
"       pollgerrit [-hnv] [-d dir] watch [-j] [-I seconds] [-i seconds]\n"
"                  [gerrit ...]\n"
"       pollgerrit [-hnv] [-d dir] events [-j] [gerrit]\n"
"       pollgerrit [-hnv] [-d dir] review [-F file | -m message] [-g gerrit]\n"
"                  [-l label=value] [-s stamp] change revision\n"
"       pollgerrit [-hnv] [-d dir] query [-j] [-g gerrit] query ...\n");
	exit(rc);
}

void
usage(void)
{
	usage_to(stderr, RC_PERM);
}

/*
 * Testing hook: PG_TEST_CRASH_AT=NAME kills us with SIGKILL at the
 * named point (after-fetch, after-append, after-spool), so tests can
 * check that a crash there loses and repeats nothing.
 */
void
crash_point(const char *name)
{
	farm_crash_point("PG_TEST_CRASH_AT", name);
}

/* -j and nothing else: the option of poll, watch (partly) and events. */
static void
jflag_only(int *argcp, char ***argvp)
{
	int ch;

	while ((ch = getopt(*argcp, *argvp, "+j")) != -1) {
		if (ch != 'j')
			usage();
		cx.jflag = 1;
	}
	*argcp -= optind;
	*argvp += optind;
}

/* The farm's config and its [gerrit] sections; exits on problems. */
static void
load_config(void)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	struct farmconf *fc;
	int rc;

	cx.dir = farm_dir(dflag);
	rc = farmconf_load(&fc, cx.dir, FC_GERRIT, &warn, &err);
	log_lines(&warn);
	log_lines(&err);
	if (rc != RC_OK)
		exit(rc);
	if (conf_load(fc, &cx.servers, &cx.nservers) != RC_OK)
		exit(RC_PERM);
	strbuf_release(&warn);
	strbuf_release(&err);
}

/* The state directory, the corpus and the try spool, opened once. */
static void
open_farm(void)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	farm_placef(&path, cx.dir, FARM_STATE, "pollgerrit");
	if (mkdirs(path.buf) < 0 || (cx.statefd = open(path.buf,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		fatal(RC_TEMP, "state directory '%s'", path.buf);
	strbuf_reset(&path);
	farm_place(&path, cx.dir, FARM_CORPUS);
	if ((rc = mlog_open(&cx.corpus, path.buf, MLOG_CREATE, &err)) !=
	    RC_OK)
		fatalx(rc, "%s", err.buf);
	if ((rc = try_open(&err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void
close_farm(void)
{
	size_t i;

	for (i = 0; i < cx.nservers; i++) {
		state_free(&cx.servers[i]);
		gerrit_release(&cx.servers[i]);
	}
	if (cx.try_open)
		spool_close(&cx.try);
	mlog_close(cx.corpus);
	if (cx.statefd >= 0)
		close(cx.statefd);
}

/* The one server a command works on: -g, or the only one there is. */
static struct server *
one_server(const char *name)
{
	struct server *s;

	if (name != NULL) {
		if ((s = conf_find(name)) == NULL)
			fatalx(RC_PERM, "no [gerrit \"%s\"] in the config",
			    esc(name));
		return s;
	}
	if (cx.nservers != 1)
		fatalx(RC_PERM, "%zu [gerrit] sections in the config: name "
		    "one", cx.nservers);
	return &cx.servers[0];
}

static int
cmd_poll(int argc, char **argv)
{
	struct server **sel;
	size_t n, i;
	int rc = RC_NO;

	jflag_only(&argc, &argv);
	load_config();
	if (conf_select(argc, argv, &sel, &n) != RC_OK)
		exit(RC_PERM);
	if (nflag) {
		free(sel);
		return RC_OK;
	}
	open_farm();
	for (i = 0; i < n; i++)
		rc = rc_worse(rc, poll_round(sel[i], POLL_CHANGES | POLL_TRY, 0));
	free(sel);
	return rc;
}

static int
cmd_watch(int argc, char **argv)
{
	struct server **sel;
	uint64_t try_s = DEF_TRY_S, full_s = DEF_FULL_S;
	size_t n;
	int ch, rc;

	while ((ch = getopt(argc, argv, "+I:i:j")) != -1) {
		switch (ch) {
		case 'I':
			if (num_parse_u64(optarg, 1, 86400, &full_s) < 0)
				fatalx(RC_PERM, "bad interval '%s': want 1 to "
				    "86400 seconds", esc(optarg));
			break;
		case 'i':
			if (num_parse_u64(optarg, 1, 86400, &try_s) < 0)
				fatalx(RC_PERM, "bad interval '%s': want 1 to "
				    "86400 seconds", esc(optarg));
			break;
		case 'j':
			cx.jflag = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	load_config();
	if (conf_select(argc, argv, &sel, &n) != RC_OK)
		exit(RC_PERM);
	if (nflag) {
		free(sel);
		return RC_OK;
	}
	open_farm();
	rc = watch_loop(sel, n, (long)try_s * 1000, (long)full_s * 1000);
	free(sel);
	return rc;
}

static int
cmd_events(int argc, char **argv)
{
	struct server *s;

	jflag_only(&argc, &argv);
	if (argc > 1)
		usage();
	load_config();
	s = one_server(argc == 1 ? argv[0] : NULL);
	if (nflag)
		return RC_OK;
	open_farm();
	return events_run(s);
}

/* "Label-Name=+1": a name Gerrit accepts and a small signed number. */
static int
label_ok(const char *s)
{
	const char *eq = strchr(s, '=');
	int v;

	if (eq == NULL || eq == s || (size_t)(eq - s) > 64 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_") != (size_t)(eq - s))
		return 0;
	eq++;
	if (*eq == '+' && *++eq == '-')
		return 0;
	return num_parse_int(eq, -1000, 1000, &v) == 0;
}

static char *
read_message(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fatal(errno == ENOENT || errno == EACCES ? RC_PERM : RC_TEMP,
		    "open '%s'", esc(path));
	if (strbuf_read_fd(&sb, fd, MAX_MESSAGE) < 0) {
		if (errno == EFBIG)
			fatalx(RC_PERM, "message file '%s': over %zu bytes",
			    esc(path), MAX_MESSAGE);
		fatal(RC_TEMP, "read '%s'", esc(path));
	}
	if (fd != 0)
		close(fd);
	return strbuf_detach(&sb, NULL);
}

static int
cmd_review(int argc, char **argv)
{
	const char *gflag = NULL, *mflag = NULL, *Fflag = NULL, *sflag = NULL;
	struct strbuf err = STRBUF_INIT;
	char **labels = NULL, *message = NULL;
	size_t nlabels = 0, i;
	struct server *s;
	int ch, rc;

	labels = xcalloc((size_t)argc + 1, sizeof(*labels));
	while ((ch = getopt(argc, argv, "+F:g:l:m:s:")) != -1) {
		switch (ch) {
		case 'F':
			Fflag = optarg;
			break;
		case 'g':
			gflag = optarg;
			break;
		case 'l':
			if (!label_ok(optarg))
				fatalx(RC_PERM, "bad label '%s': want "
				    "Name=value, such as TryBot-Result=+1",
				    esc(optarg));
			/* Gerrit keeps one vote per label: say, not pick */
			for (i = 0; i < nlabels; i++)
				if (strncmp(labels[i], optarg,
				    strcspn(optarg, "=") + 1) == 0)
					fatalx(RC_PERM, "label '%.*s' given "
					    "twice", (int)strcspn(optarg, "="),
					    esc(optarg));
			/* "+1": atoi takes the sign */
			labels[nlabels++] = optarg;
			break;
		case 'm':
			mflag = optarg;
			break;
		case 's':
			sflag = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || (Fflag != NULL && mflag != NULL))
		usage();
	if (nlabels == 0 && Fflag == NULL && mflag == NULL)
		fatalx(RC_PERM, "nothing to post: give -l, -m or -F");
	if (strspn(argv[1], "0123456789abcdef") != strlen(argv[1]) &&
	    strcmp(argv[1], "current") != 0)
		fatalx(RC_PERM, "bad revision '%s': want a commit (hex), a "
		    "patch set number or current", esc(argv[1]));
	load_config();
	s = one_server(gflag);
	message = Fflag != NULL ? read_message(Fflag) :
	    mflag != NULL ? xstrdup(mflag) : NULL;
	if (message != NULL && message[strspn(message, " \t\r\n")] == '\0')
		fatalx(RC_PERM, "empty message from %s: give some text, or "
		    "no %s", Fflag != NULL ? "-F" : "-m",
		    Fflag != NULL ? "-F" : "-m");
	rc = nflag ? RC_OK : review_post(s, argv[0], argv[1], labels, nlabels,
	    message);
	/*
	 * The stamp tells a caller that died meanwhile that Gerrit has the
	 * review; the review is posted whether or not it can be written.
	 */
	if (rc == RC_OK && !nflag && sflag != NULL &&
	    atomic_write(AT_FDCWD, sflag, "posted\n", 7, 0644, &err) == -1)
		log_warnx("%s", err.buf);
	strbuf_release(&err);
	free(message);
	free(labels);
	gerrit_release(s);
	return rc;
}

static int
cmd_query(int argc, char **argv)
{
	struct strbuf q = STRBUF_INIT;
	const char *gflag = NULL;
	struct server *s;
	int ch, i, rc;

	while ((ch = getopt(argc, argv, "+g:j")) != -1) {
		switch (ch) {
		case 'g':
			gflag = optarg;
			break;
		case 'j':
			cx.jflag = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < argc; i++)
		strbuf_addf(&q, "%s%s", i ? " " : "", argv[i]);
	load_config();
	s = one_server(gflag);
	rc = nflag ? RC_OK : query_list(s, q.buf);
	gerrit_release(s);
	strbuf_release(&q);
	return rc;
}

static const struct subcmd cmds[] = {
	{ "events", cmd_events },
	{ "poll", cmd_poll },
	{ "query", cmd_query },
	{ "review", cmd_review },
	{ "watch", cmd_watch },
};

int
main(int argc, char *argv[])
{
	struct strbuf err = STRBUF_INIT;
	int ch, rc;

	prog_init(argv[0]);
	while ((ch = getopt(argc, argv, "+d:hnv")) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			usage_to(stdout, RC_OK);
			break;
		case 'n':
			nflag = 1;
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
	if (print_flush() != RC_OK && rc != RC_PERM)
		rc = RC_TEMP;
	close_farm();
	conf_free(cx.servers, cx.nservers);
	return rc;
}
