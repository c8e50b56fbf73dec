/*
 * extern.h: schedule's parts (schedule.c is the table of contents).
 */
#ifndef SCHEDULE_EXTERN_H
#define SCHEDULE_EXTERN_H

#include <stddef.h>

struct farmconf;
struct strbuf;

/* what every command shares: schedule.c fills it */
struct sctx {
	const char *dir;		/* the state directory (farm_dir) */
	struct farmconf *conf;		/* after load_conf */
};
extern struct sctx cx;

/* schedule.c */
void usage(void) __attribute__((noreturn));
/*
 * Read the config of cx.dir into cx.conf with the sections want
 * (farmconf.h FC_*); every problem on stderr, then exit 100 (111 on
 * I/O errors).  Unknown keys are warned about.
 */
void load_conf(int want);

/*
 * blog.c: a build's log, written as it is produced to the live file
 * state/schedule/live/ITEM.log and to standard output (failures there
 * are said once and do not stop the build).
 *   blog_open    create (truncate) the live file; RC_TEMP on failure
 *   blog_write, blog_printf   append text
 *   blog_store   end the text and publish it, gzip'd, as
 *                buildlogs/AB/HASH.gz (HASH its SHA-256, into hash)
 *   blog_close   remove the live file and free (NULL: nothing)
 */
struct blog;
int blog_open(struct blog **bp, const char *dir, const char *item,
    struct strbuf *err);
void blog_write(struct blog *b, const void *p, size_t n);
void blog_printf(struct blog *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int blog_store(struct blog *b, const char *dir, char hash[65],
    struct strbuf *err);
void blog_close(struct blog *b);

/* the commands: argv[0] is the command's name */
int cmd_add(int argc, char **argv);		/* find.c */
int cmd_build(int argc, char **argv);		/* build.c */
int cmd_find(int argc, char **argv);		/* find.c */
int cmd_key(int argc, char **argv);		/* key.c */
int cmd_serve(int argc, char **argv);		/* serve.c */
int cmd_status(int argc, char **argv);		/* status.c */

#endif
