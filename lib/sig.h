/*
 * sig.h: one signal idiom for every daemon (after s6's selfpipe).
 *
 * A daemon calls sig_init() in main() before it starts any thread.  The
 * signals it names are blocked in the calling thread, so every thread
 * started afterwards inherits the mask and no handler ever runs; they
 * queue on a signalfd instead, which one loop reads.  A signal that
 * arrives while the loop is busy stays pending on the fd, so it cannot
 * be lost between a check and a sleep (the race of
 * "while (!stop) pause();" and of a nanosleep nap).  SIGPIPE is ignored.
 *
 *   sig_init(SIGTERM, SIGINT, 0)   block them, open the fd; 0 ends the
 *                                  list.  -1 and err on failure.
 *   sig_fd()                       the fd for poll(2): readable while a
 *                                  signal is pending.  -1 before init.
 *   sig_next()                     take one pending signal: its number,
 *                                  or 0 when none is pending.
 *   sig_wait(ms)                   block until a signal arrives (its
 *                                  number) or ms pass (0); ms < 0: no
 *                                  timeout.  A nap that a signal cuts
 *                                  short.
 *   sig_restore()                  unblock the signals and close the fd
 *                                  (tests; a daemon never needs it).
 *
 * Children: the mask is inherited across fork and exec, so every child
 * must start with an empty mask and default dispositions.  lib/proc
 * does that for everything it starts; nothing else may fork/exec.
 *
 * The fd and the set are process-wide; sig_next and sig_wait are meant
 * for one thread (the main loop).  Another thread that must stop when
 * the loop does is told by the loop (a flag, a pipe), not by a signal.
 */
#ifndef BF_SIG_H
#define BF_SIG_H

struct strbuf;

int sig_init(struct strbuf *err, ...);
int sig_fd(void);
int sig_next(void);
int sig_wait(long long ms);
void sig_restore(void);

#endif
