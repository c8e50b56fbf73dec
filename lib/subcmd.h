/*
 * subcmd.h: the dispatch of tools with subcommands (maintlog, gitmirror,
 * pollgerrit): "tool [global options] command [options] [operands]".
 *
 *   static const struct subcmd cmds[] = {
 *           { "sync", cmd_sync },
 *           { "serve", cmd_serve },
 *   };
 *   ... after the global options, argv[0] is the command:
 *   if (argc < 1)
 *           usage();
 *   if ((rc = subcmd_run(cmds, ARRAY_SIZE(cmds), argc, argv, &err)) < 0) {
 *           log_warnx("%s", err.buf);
 *           usage();                      (exit 100)
 *   }
 *
 * subcmd_run finds argv[0] in cmds[0..n), resets getopt(3) fully (glibc:
 * optind = 0), so that the command parses its own options from argv[1]
 * with no state left from the tool's, and returns what the command
 * returns (an exit status, >= 0).  When argv[0] is not a command (or
 * argc < 1) it returns -1 with err "unknown command 'X'" (escaped).
 */
#ifndef BF_SUBCMD_H
#define BF_SUBCMD_H

#include <stddef.h>

struct strbuf;

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

int subcmd_run(const struct subcmd *cmds, size_t n, int argc, char **argv,
    struct strbuf *err);

#endif
