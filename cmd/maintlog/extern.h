/*
 * extern.h: maintlog's parts (maintlog.c is the table of contents).
 */
#ifndef MAINTLOG_EXTERN_H
#define MAINTLOG_EXTERN_H

#include <stdint.h>

struct mlog;
struct mlog_cursor;
struct strbuf;

/* the commands: argv[0] is the command's name */
int cmd_append(int argc, char **argv);		/* append.c */
int cmd_cat(int argc, char **argv);		/* cat.c */
int cmd_grep(int argc, char **argv);		/* grep.c */
int cmd_serve(int argc, char **argv);		/* serve.c */
int cmd_stat(int argc, char **argv);		/* stat.c */
int cmd_sync(int argc, char **argv);		/* sync.c */
int cmd_verify(int argc, char **argv);		/* verify.c */

/* maintlog.c */
void usage(void) __attribute__((noreturn));
/*
 * The log that -d and -L name (maintlog(1)), opened with flags
 * (MLOG_CREATE); exits 100 or 111 when it cannot be opened.  main
 * closes it after the command.
 */
struct mlog *open_log(int flags);

/* cat.c */
/*
 * Follow the log from cur (at a line start): step reads from cur to the
 * end (mlog_read or mlog_each), then follow waits for more, forever,
 * unless once.  A failed step is fatal.
 */
typedef int stepfn(struct mlog *l, struct mlog_cursor *cur, void *arg,
    struct strbuf *err);
int follow(struct mlog *l, struct mlog_cursor *cur, int once, stepfn *step,
    void *arg);

/* verify.c: check every segment; print the stat lines unless verify */
int walk(struct mlog *l, int verify, int jflag);

#endif
