/*
 * gz.h: gzip streams (ISA-L, libdeflate and zlib behind this module).
 *
 * Reading.  A gunz decompresses (with ISA-L's igzip, about twice
 * zlib's speed) a gzip stream of one or more members
 * (concatenated members are one valid gzip file, as gzip(1) and Go's
 * compress/gzip read them) pulled from a file descriptor:
 *
 *   struct gunz *z = gunz_new(fd, cancel_fd);
 *   while ((n = gunz_read(z, buf, sizeof(buf))) > 0)
 *           ... n bytes of tar ...
 *   if (n == -1) ... gunz_error(z) says why, gunz_kind(z) what kind ...
 *   gunz_free(z);
 *
 * gunz_read fills buf as far as it can (it blocks for input) and
 * returns the number of bytes placed, 0 at the clean end of the last
 * member, or -1.  The kinds of failure, with messages worded as Go's
 * compress/gzip words them so that callers can answer as the original
 * buildlet did:
 *
 *   GZ_EHEADER  the first member's header is missing or wrong: "EOF"
 *               (no input at all), "unexpected EOF" (fewer than 10
 *               bytes), "gzip: invalid header" (not gzip);
 *   GZ_EDATA    anything wrong later: "unexpected EOF" (cut short),
 *               "gzip: invalid checksum", "gzip: invalid header" (a
 *               bad second member), "flate: corrupt input";
 *   GZ_EIO      read(2) on fd failed: "read: <strerror>";
 *   GZ_ECANCEL  cancel_fd became readable (see below).
 *
 * cancel_fd (-1: none) lets another thread stop a reader blocked on a
 * slow fd: before each read(2) the reader polls fd and cancel_fd, and
 * fails with GZ_ECANCEL once cancel_fd is readable (an eventfd or pipe
 * the caller writes to).  fd is never closed by this module.
 *
 * Writing.  A pgz compresses a byte stream on worker threads, like Go's
 * pargzip: the input is cut into blocks (1 MiB by default) and each block
 * becomes an independent gzip member, compressed in parallel; the
 * members come out in order, and their concatenation is one valid gzip
 * file.  The members are libdeflate's (whole-buffer deflate: smaller
 * than zlib's at the same level, in about half the time).  With single
 * set, one worker compresses the whole input as one ordinary gzip
 * member with zlib (what "gzip -c" makes), still off the caller's
 * thread.  The output is a function of the input, the options and the
 * library's version: the same tree gives the same bytes.  One producer thread writes and one consumer thread reads:
 *
 *   producer                         consumer
 *   p = pgz_new(&opt);
 *   pgz_write(p, data, n); ...       while ((n = pgz_read(p, buf, max)) > 0)
 *   pgz_close(p);                            send(buf, n);
 *      (or pgz_abort(p) on failure)  (on -1 or when the reader goes away
 *                                     early: pgz_cancel(p))
 *   ... when both sides are done: pgz_free(p)
 *
 * pgz_write blocks while the producer is too far ahead (a bounded number
 * of blocks in flight, so memory stays under about (2 * threads + 2) *
 * 2 * block) and returns -1 once the consumer cancelled.  pgz_read
 * blocks until the next bytes in order are compressed; it returns 0
 * after the last byte following pgz_close, and -1 after pgz_abort.
 * Compression cannot fail except for lack of memory, which exits
 * (xmalloc.h).
 */
#ifndef BF_GZ_H
#define BF_GZ_H

#include <stddef.h>
#include <sys/types.h>

enum gz_kind {
	GZ_OK,
	GZ_EHEADER,
	GZ_EDATA,
	GZ_EIO,
	GZ_ECANCEL,
};

struct gunz;

struct gunz *gunz_new(int fd, int cancel_fd);
ssize_t gunz_read(struct gunz *z, void *buf, size_t n);
const char *gunz_error(const struct gunz *z);
enum gz_kind gunz_kind(const struct gunz *z);
/* Compressed bytes read from fd so far. */
unsigned long long gunz_in_bytes(const struct gunz *z);
void gunz_free(struct gunz *z);

struct pgz_opt {
	int threads;		/* workers; 0: the number of online CPUs */
	int level;		/* level 1..9 (libdeflate's, or zlib's if
				   single); 0: 6 */
	size_t block;		/* input bytes per member; 0: 1 MiB */
	int single;		/* one member, one worker (threads ignored) */
};
#define PGZ_OPT_INIT { 0, 0, 0, 0 }

struct pgz;

struct pgz *pgz_new(const struct pgz_opt *opt);
int pgz_write(struct pgz *p, const void *data, size_t n);
int pgz_close(struct pgz *p);
void pgz_abort(struct pgz *p);
ssize_t pgz_read(struct pgz *p, void *buf, size_t max);
void pgz_cancel(struct pgz *p);
void pgz_free(struct pgz *p);

#endif
