/*
 * extern.h: gomote's parts (gomote.c is the table of contents).
 */
#ifndef GOMOTE_EXTERN_H
#define GOMOTE_EXTERN_H

#include <stddef.h>

struct bclient;
struct strbuf;

/* the commands: argv[0] is the command's name */
int cmd_push(int argc, char **argv);		/* push.c */
int cmd_ssh(int argc, char **argv);		/* ssh.c */

/* gomote.c */
void usage(void) __attribute__((noreturn));
/*
 * The buildlet that the instance argument names: BUILDER@HOST[:PORT]
 * (direct, password $BUILDLET_PASSWORD) or an instance of the
 * coordinator (its URL, the user's name and token, X-Buildlet-Proxy).
 * Exits 100 when the coordinator or the token is not configured.  The
 * strings live until the program ends.
 */
void instance(const char *arg, struct bclient *c);
/*
 * A failed buildlet call's message and exit code: an instance the
 * coordinator does not know is told as such (expired or destroyed).
 */
int call_failed(const char *inst, int rc, const struct strbuf *err);

/* progress.c: bytes, rate and ETA on stderr, only when it is a terminal */
struct progress;
/* NULL (and every call below a no-op) when stderr is no terminal */
struct progress *progress_new(const char *label, long long total);
void progress_add(struct progress *p, size_t n);
void progress_end(struct progress *p, int ok);
/*
 * A pipe that gives what fd gives, counted in p by a thread of its own
 * (the caller reads the returned fd to EOF, then closes it and calls
 * progress_end, which waits for the thread).  Without p, fd itself.
 */
int progress_pipe(struct progress *p, int fd);

#endif
