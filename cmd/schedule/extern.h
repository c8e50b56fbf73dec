/*
 * extern.h: schedule's parts (schedule.c is the table of contents).
 */
#ifndef SCHEDULE_EXTERN_H
#define SCHEDULE_EXTERN_H

struct farmconf;

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

/* the commands: argv[0] is the command's name */
int cmd_add(int argc, char **argv);		/* find.c */
int cmd_build(int argc, char **argv);		/* build.c */
int cmd_find(int argc, char **argv);		/* find.c */
int cmd_key(int argc, char **argv);		/* key.c */
int cmd_serve(int argc, char **argv);		/* serve.c */
int cmd_status(int argc, char **argv);		/* status.c */

#endif
