/*
 * extern.h: maintlog's parts (maintlog.c is the table of contents).
 */
#ifndef MAINTLOG_EXTERN_H
#define MAINTLOG_EXTERN_H

#include <stdint.h>

struct mlog;

/* grep.c */
int cmd_grep(struct mlog *l, int argc, char **argv);
/* serve.c */
int cmd_serve(struct mlog *l, int argc, char **argv);
/* sync.c */
int cmd_sync(struct mlog *l, int argc, char **argv);
/* maintlog.c */
void usage(void) __attribute__((noreturn));
/*
 * Follow the log from cur (at a line start) calling fn on each chunk of
 * whole lines, as mlog_read does, and then wait for more, forever.
 */
struct mlog_cursor;
int follow(struct mlog *l, struct mlog_cursor *cur, int once,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg);

#endif
