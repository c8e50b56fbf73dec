/*
 * schedule: the coordinator.  It finds the work (commits on watched
 * branches x builders - results, plus the spools), owns the pools of
 * buildlets, runs every build as a child process (schedule build),
 * records results and logs, and serves the status page.
 *
 *   work.c     the work model: what is to be built, in priority order
 *   find.c     find, add
 *   key.c      key
 *   build.c    build: one build on one buildlet
 *   blog.c     build logs: live file, header, buildlogs/
 *   pool.c     machines: static and command pools, heartbeats
 *   serve.c    serve: the loop, the children, restart recovery
 *   status.c   the HTTP pages, and status
 */
#include "compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "subcmd.h"

struct sctx cx;
static const char *dflag;

static void
print_usage(FILE *fp)
{
	fprintf(fp,
"usage: schedule [-hv] [-d dir] add [-p prio] repo rev builder\n"
"       schedule [-hv] [-d dir] build [-a attempt] -b url [-m name] [-p file] item\n"
"       schedule [-hv] [-d dir] find [-j] [-n count]\n"
"       schedule [-hv] [-d dir] key name\n"
"       schedule [-hv] [-d dir] serve [-l addr] [-tls-cert file -tls-key file]\n"
"       schedule [-hv] [-d dir] status [-j]\n");
}

void
usage(void)
{
	print_usage(stderr);
	exit(RC_PERM);
}

static void
help(void)
{
	print_usage(stdout);
	if (fflush(stdout) == EOF)
		exit(RC_TEMP);
	exit(RC_OK);
}

void
load_conf(int want)
{
	struct strbuf warn = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	rc = farmconf_load(&cx.conf, cx.dir, want, &warn, &err);
	log_lines(&warn);
	if (rc != RC_OK) {
		static const char one[] = ": 1 problem\n";
		size_t n = sizeof(one) - 1;
		char *nl = strchr(err.buf, '\n');

		/* one problem: its line says it all, without the count */
		if (nl != NULL && err.len > n &&
		    strcmp(err.buf + err.len - n, one) == 0 &&
		    strchr(nl + 1, '\n') == err.buf + err.len - 1)
			strbuf_setlen(&err, nl + 1 - err.buf);
		log_lines(&err);
		exit(rc);
	}
	strbuf_release(&warn);
	strbuf_release(&err);
}

static const struct subcmd cmds[] = {
	{ "add", cmd_add },
	{ "build", cmd_build },
	{ "find", cmd_find },
	{ "key", cmd_key },
	{ "serve", cmd_serve },
	{ "status", cmd_status },
};

int
main(int argc, char *argv[])
{
	struct strbuf err = STRBUF_INIT;
	int ch, rc;

	prog_init(argv[0]);
	while ((ch = getopt(argc, argv, "+d:hv")) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			help();
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
	cx.dir = farm_dir(dflag);
	if ((rc = subcmd_run(cmds, ARRAY_SIZE(cmds), argc, argv, &err)) < 0) {
		log_warnx("%s", err.buf);
		usage();
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		fatal(RC_TEMP, "write stdout");
	farmconf_free(cx.conf);
	return rc;
}
