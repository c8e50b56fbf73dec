/*
 * log.h: messages on stderr, in err(3) format, safe for hostile bytes.
 *
 * Every line is "prog: message" (plus ": strerror(errno)" for the _warn
 * and fatal variants).  The whole formatted message is filtered before it
 * is written: control characters other than tab, and bytes that would
 * not print, become '?' (git's vreportf rule), so a string from the
 * network cannot move the cursor or forge a second line.  Lines are
 * written with one write(2) each, so concurrent writers do not interleave
 * within a line.
 *
 * Only tools call these; library code fills a struct strbuf *err.
 *
 * Verbosity: log_info prints when log_verbose >= 1 (-v), log_debug when
 * log_verbose >= 2 (-vv).  Warnings and fatal errors always print.
 */
#ifndef BF_LOG_H
#define BF_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "compat.h"

struct strbuf;

extern int log_verbose;

/* Set the program name used in messages (basename of argv0). */
void prog_init(const char *argv0);
const char *prog_name(void);

void log_warn(const char *fmt, ...) BF_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) BF_PRINTF(1, 2);
void log_info(const char *fmt, ...) BF_PRINTF(1, 2);
void log_debug(const char *fmt, ...) BF_PRINTF(1, 2);
void fatal(int rc, const char *fmt, ...) BF_PRINTF(2, 3) BF_NORETURN;
void fatalx(int rc, const char *fmt, ...) BF_PRINTF(2, 3) BF_NORETURN;
/* Each line of sb as a log_warnx, for a library's many-line answer. */
void log_lines(const struct strbuf *sb);

/*
 * Append p[0..n) to out, escaped for display: printable ASCII and valid
 * UTF-8 pass; '\\', control bytes and invalid UTF-8 become \\, \n, \t,
 * \r or \xNN.  The result never contains a control character.
 */
void log_escape(struct strbuf *out, const void *p, size_t n);

/*
 * esc(s): s escaped as by log_escape, in one of 8 rotating buffers of
 * the calling thread, for use as a printf argument:
 *   log_warnx("bad ref '%s'", esc(ref));
 * The result stays valid until the same thread's eighth next call; do
 * not keep it or hand it to another thread.  Long strings are cut at
 * 512 bytes with "..." appended.
 */
const char *esc(const char *s);
const char *escn(const void *p, size_t n);

#endif
