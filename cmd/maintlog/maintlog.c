/*
 * maintlog: the farm's append-only, greppable mutation log.
 *
 * A log is a directory of segments of JSON lines (maintlog(5)); this
 * tool appends to it, reads it (cat, grep, follow), checks it (verify,
 * stat), serves it over HTTP with the maintner /logs protocol (serve) and
 * mirrors a served log (sync).  All format knowledge is in lib/mlog.c,
 * shared with the tools that write mutations.
 *
 * Invariants: an append that printed its seqs is on disk (fsync) and
 * stays there; readers never see a torn tail; seqs run 1, 2, 3 ...
 * without gaps or repeats, because they are only assigned under the
 * writer's flock from the last durable record.
 *
 *   append.c   append: validate and encode on two threads, write batches
 *   cat.c      cat, and follow (cat -f, grep -f)
 *   grep.c     grep: field expressions with a byte-search prefilter
 *   stat.c     stat
 *   verify.c   verify, and the segment walk stat shares
 *   serve.c    serve: the maintner /logs protocol
 *   sync.c     sync: mirror a served log
 */
#include "compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "extern.h"
#include "farm.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "subcmd.h"
#include "xmalloc.h"

static const char *dflag, *Lflag;
static struct mlog *thelog;

static void
print_usage(FILE *fp)
{
	fprintf(fp,
"usage: maintlog [-hv] [-d dir] [-L log] append [-b count] [-S size] [-t type]\n"
"       maintlog [-hv] [-d dir] [-L log] cat [-f] [-s seq] [-t type]\n"
"       maintlog [-hv] [-d dir] [-L log] grep [-cf] [-s seq] [-t type] expr ...\n"
"       maintlog [-hv] [-d dir] [-L log] stat [-j]\n"
"       maintlog [-hv] [-d dir] [-L log] verify\n"
"       maintlog [-hv] [-d dir] [-L log] serve [-l addr] [-w seconds]\n"
"       maintlog [-hv] [-d dir] [-L log] sync [-f] url\n");
}

void
usage(void)
{
	print_usage(stderr);
	exit(RC_PERM);
}

/* -h: the synopsis on stdout, exit 0 */
static void
help(void)
{
	print_usage(stdout);
	if (fflush(stdout) == EOF)
		exit(RC_TEMP);
	exit(RC_OK);
}

/*
 * Which directory is the log (maintlog(1), -d and -L): with -L, -d is
 * the state directory, as on every tool; without, -d is the log itself
 * when it is one, or when it holds no corpus/ (so "maintlog -d DIR" on
 * a new or plain log directory means that log, as it always did), and
 * the state directory otherwise.
 */
static void
log_path(struct strbuf *out)
{
	struct strbuf corpus = STRBUF_INIT;
	struct stat st;
	int place = FARM_CORPUS;

	if (Lflag != NULL) {
		place = farm_place_lookup(Lflag);
		if (place != FARM_CORPUS && place != FARM_RESULTS)
			fatalx(RC_PERM, "unknown log '%s': want corpus or "
			    "results", esc(Lflag));
		if (dflag != NULL && mlog_is_log(dflag))
			fatalx(RC_PERM, "-L %s: '%s' is a log directory, not "
			    "a state directory", esc(Lflag), esc(dflag));
	} else if (dflag != NULL) {
		farm_place(&corpus, dflag, FARM_CORPUS);
		if (mlog_is_log(dflag) || stat(corpus.buf, &st) < 0) {
			strbuf_addstr(out, dflag);
			strbuf_release(&corpus);
			return;
		}
		strbuf_release(&corpus);
	}
	farm_place(out, farm_dir(dflag), (enum farm_place)place);
}

struct mlog *
open_log(int flags)
{
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	if (thelog != NULL)
		return thelog;
	log_path(&dir);
	if ((rc = mlog_open(&thelog, dir.buf, flags, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	strbuf_release(&dir);
	return thelog;
}

static const struct subcmd cmds[] = {
	{ "append", cmd_append },
	{ "cat", cmd_cat },
	{ "grep", cmd_grep },
	{ "serve", cmd_serve },
	{ "stat", cmd_stat },
	{ "sync", cmd_sync },
	{ "verify", cmd_verify },
};

int
main(int argc, char *argv[])
{
	struct strbuf err = STRBUF_INIT;
	int ch, rc;

	prog_init(argv[0]);
	while ((ch = getopt(argc, argv, "+d:hL:v")) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			help();
			break;
		case 'L':
			Lflag = optarg;
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
	mlog_close(thelog);
	return rc;
}
