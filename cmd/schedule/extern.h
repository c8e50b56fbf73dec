/*
 * extern.h: schedule's parts (schedule.c is the table of contents).
 */
#ifndef SCHEDULE_EXTERN_H
#define SCHEDULE_EXTERN_H

struct farmconf;
struct hosttype_conf;
struct json;
struct pollfd;
struct proc;

#include <pthread.h>

#include "strbuf.h"

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

/* pool.c: the machines of every host type, one table */
enum machine_state {
	MACHINE_CREATING,	/* its create command runs */
	MACHINE_IDLE,
	MACHINE_BUSY,		/* runs the build item */
	MACHINE_DEAD,		/* missed its heartbeats: left out */
	MACHINE_DESTROYING,	/* its destroy command runs or is due */
};
struct machine {
	char *name;		/* HOSTTYPE-N */
	const struct hosttype_conf *ht;
	char *url;		/* NULL while creating */
	char *pwfile;		/* the password's file, or NULL */
	char *password;		/* its first line, or NULL */
	enum machine_state state;
	char *item;		/* BUSY: the spool item it runs */
	long long idle_since;	/* wall seconds */
	long long created;	/* wall seconds */
	int misses;		/* heartbeats missed in a row */
	long long next_beat;	/* mono_ms of the next heartbeat */
	int beating;		/* the heartbeat thread has it */
	/* command pools: the create or destroy command */
	struct proc *cmd;
	int cmd_out;		/* its stdout, or -1 */
	struct strbuf out;
	int backoff_s;		/* destroy retries */
	long long retry_at;	/* mono_ms */
};
extern pthread_mutex_t sched_mu;	/* serve.c */
/*
 * The table is read and changed under sched_mu (serve.c), which the
 * loop holds but while it polls; the heartbeat thread and the HTTP
 * threads take it too.
 */
int pool_init(struct strbuf *err);	/* adopt or destroy the records */
void pool_shutdown(void);
struct machine *pool_idle(const struct hosttype_conf *ht);
struct machine *pool_find(const char *name);
/* want more machines of ht: start creates up to n more (max, backoff) */
void pool_want(const struct hosttype_conf *ht, size_t n);
void pool_busy(struct machine *m, const char *item);
/* the build on m ended; infra: the machine failed it */
void pool_release(struct machine *m, int infra);
/* the loop's fds: create and destroy commands, the heartbeat wake-up */
size_t pool_pollfds(struct pollfd *pfd, size_t max);
void pool_tick(void);		/* reap commands, idle, retries */
int pool_timeout(void);		/* ms until pool_tick is due; <= 1000 */
struct json *pool_status(void);	/* the pools array of status.json */
const char *machine_state_name(enum machine_state s);

#endif
