/*
 * strbuf.h: growable byte buffers (git's contract, written anew).
 *
 * Invariants:
 *   - buf is never NULL: a fresh strbuf points at a shared empty string,
 *     so it can be printed without checks;
 *   - buf[len] is always '\0', so buf is a C string when the data has no
 *     NUL bytes; the data itself may contain NULs;
 *   - alloc is 0 while buf is the shared empty string, then the size of
 *     the allocation (always > len).
 *
 * Calling sequence:
 *   struct strbuf sb = STRBUF_INIT;
 *   strbuf_addf(&sb, "%s=%d", k, v);
 *   ... use sb.buf, sb.len ...
 *   strbuf_release(&sb);          (or strbuf_detach to keep the string)
 *
 * Allocation failure exits RC_TEMP (see xmalloc.h).
 */
#ifndef BF_STRBUF_H
#define BF_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "compat.h"

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_empty[];
#define STRBUF_INIT { 0, 0, strbuf_empty }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the contents; sb is then as after STRBUF_INIT. */
void strbuf_release(struct strbuf *sb);
/* Hand the string to the caller (who frees it); sb is reset. */
char *strbuf_detach(struct strbuf *sb, size_t *lenp);
/* Make room for extra more bytes (plus the NUL). */
void strbuf_grow(struct strbuf *sb, size_t extra);
/* Set the length (must be < alloc, or 0); writes the NUL. */
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) BF_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/*
 * Append everything readable from fd until EOF, at most max bytes in all
 * (0: no limit).  Returns the number of bytes added, or -1 with errno set
 * (EFBIG when the limit would be passed; what was read stays in sb).
 */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd, size_t max);

/*
 * Read one line from fp (without the '\n') into sb, replacing its
 * contents.  Returns 0, or EOF at end of input with nothing read.
 * Lines longer than max bytes (0: no limit) make it return -2 with the
 * rest of the line consumed and sb holding the first max bytes.
 */
int strbuf_getline(struct strbuf *sb, FILE *fp, size_t max);

/* Remove trailing whitespace. */
void strbuf_rtrim(struct strbuf *sb);

#endif
