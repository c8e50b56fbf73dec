/*
 * mlog.h: the farm's append-only logs (maintlog(5)).
 *
 * A log is a directory of segments, each a file of JSON lines:
 *
 *   lock                        flock(2)ed by writers
 *   NNNN.jsonl                  the growing segment (at most one, last)
 *   NNNN.<sha224>.jsonl         sealed segments, immutable, mode 0444
 *   .*                          temporaries; readers ignore them
 *
 * NNNN is the segment number in decimal, at least 4 digits, from 0 with
 * no gaps.  Each record is one JSON object on one line in canonical form
 * (compact, keys sorted) carrying "seq" (1, 2, 3, ... across the whole
 * log), "time" (RFC 3339 UTC with nanoseconds) and "type".  Anything
 * else in the directory is a foreign file and an error (RC_PERM).
 *
 * Durability: mlog_write assigns seqs, writes the records with one
 * write(2) per segment touched and fsyncs before it returns, all under
 * the exclusive lock.  A writer killed mid-write leaves a partial last
 * line (a torn tail): readers only ever see bytes up to the last '\n',
 * and the next writer cuts the tail off before appending.  A segment is
 * sealed when the next record would take it past the seal size (16 MiB
 * by default; records are never split): it is fsynced, hashed, made
 * read-only and renamed to its sealed name, then the directory is
 * fsynced.  A crash at any point leaves a valid log.
 *
 * Calling sequence for a writer:
 *   struct mlog *l;
 *   if (mlog_open(&l, dir, MLOG_CREATE, &err) != RC_OK) ...
 *   rc = mlog_append(l, recs, n, NULL, &first, &err);  (lock+write+unlock)
 *   mlog_close(l);
 * or mlog_lock / mlog_write ... / mlog_unlock to write several batches
 * under one lock.
 *
 * Readers (no lock needed):
 *   mlog_scan(l, &err)               refresh the list of segments
 *   mlog_each(l, &cur, &sel, fn, arg, &err)
 *                                    call fn on each record (parsed) from
 *                                    cursor cur to the current end: the
 *                                    record loop every reader uses
 *   mlog_read(l, &cur, fn, arg, &err) call fn on chunks of whole lines
 *                                    (raw bytes, for cat and copies)
 *   mlog_copy(l, &cur, fd, &err)     the same bytes written to fd, in
 *                                    the kernel (cat)
 *   mlog_watch(l, &err), mlog_wait(l, timeout_ms)
 *                                    block until the directory changes
 *                                    (one inotify watch per log and
 *                                    process, shared by every waiter)
 *
 * Every function returns an RC_* code (rc.h) and fills err on failure.
 */
#ifndef BF_MLOG_H
#define BF_MLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

struct json;
struct strbuf;

#define MLOG_SEAL_SIZE (16u << 20)
#define MLOG_MAX_LINE (1u << 20)	/* largest input record, bytes */
#define MLOG_MAX_STORED (MLOG_MAX_LINE + 4096)	/* largest stored line */
#define MLOG_LOCK_TIMEOUT_MS 30000

enum mlog_flags {
	MLOG_CREATE = 1 << 0,	/* create the directory if missing */
};

struct mlog_seg {
	unsigned number;
	int sealed;
	char sha224[57];	/* sealed: from the name; else "" */
	off_t size;		/* file size as of the last scan */
	char name[96];
};

struct mlog;

int mlog_open(struct mlog **lp, const char *dir, int flags,
    struct strbuf *err);
void mlog_close(struct mlog *l);
/*
 * Does dir look like a log: a directory holding a "lock" file or a
 * segment (NNNN.jsonl, NNNN.<sha224>.jsonl)?  0 also when it is missing
 * or unreadable.
 */
int mlog_is_log(const char *dir);
const char *mlog_dir(const struct mlog *l);
int mlog_dirfd(const struct mlog *l);
/* Seal size for writers (tests lower it); 0 restores the default. */
void mlog_set_seal_size(struct mlog *l, uint64_t size);

/* (Re)read the directory.  Foreign files, gaps, damage: RC_PERM. */
int mlog_scan(struct mlog *l, struct strbuf *err);
size_t mlog_nsegs(const struct mlog *l);
const struct mlog_seg *mlog_seg(const struct mlog *l, size_t i);
/* Index of segment number n in the last scan, or -1. */
long mlog_find(const struct mlog *l, unsigned n);

/*
 * Readable length of segment i: its size up to and including the last
 * '\n' (a torn tail is excluded).  Opens the file; *fdp gets a read
 * descriptor the caller closes (pass NULL to close it here).
 */
int mlog_seg_readable(struct mlog *l, size_t i, int *fdp, off_t *lenp,
    struct strbuf *err);
/* SHA-224 (hex) of the first len bytes of segment i. */
int mlog_seg_hash(struct mlog *l, size_t i, off_t len, char hex[57],
    struct strbuf *err);

/*
 * Validation of a record to be written, the same for every writer
 * (mlog_prep_add and so mlog_write and mlog_append call it): rec must
 * be a JSON object whose "type", or else type, is a valid type name
 * (mlog_valid_type), holding no number but integers (json_find_real).
 * RC_PERM with one of: "not a JSON object", "\"type\" is not a
 * string", "record has no \"type\"", "bad type 'T': want
 * [a-z0-9_.-], at most 64", "field 'P' is not an integer: records
 * hold integers only".
 */
int mlog_check_rec(const struct json *rec, const char *type,
    struct strbuf *err);
/* A type name: 1..64 of [a-z0-9_.-], not starting with '.' or '-'. */
int mlog_valid_type(const char *t);

/*
 * Writing.  mlog_lock takes the writer's lock, cuts a torn tail and
 * reads the last seq; it refuses (RC_PERM, the lock released) a log
 * whose last segment holding records has seqs that do not follow on
 * from the segment before without a gap or a repeat (its line count,
 * first and last seqs disagree), so that no writer numbers new records
 * from a bad one.
 */
int mlog_lock(struct mlog *l, int timeout_ms, struct strbuf *err);
void mlog_unlock(struct mlog *l);
/*
 * Append n records (JSON objects, stored with "seq" and "time" added,
 * and "type" = type when type is not NULL and the record has none) and
 * fsync.  The objects get "type" set as stored; any "seq" or "time" they
 * had is removed (the stored line has the assigned ones).  *first_seq gets the first seq assigned (the rest follow).
 * Needs mlog_lock.  Records that fail mlog_check_rec or would make a
 * line longer than MLOG_MAX_STORED are refused before anything is
 * written (RC_PERM).
 */
int mlog_write(struct mlog *l, struct json *const *recs, size_t n,
    const char *type, uint64_t *first_seq, struct strbuf *err);
int mlog_append(struct mlog *l, struct json *const *recs, size_t n,
    const char *type, uint64_t *first_seq, struct strbuf *err);
/*
 * Encoding ahead of the lock, for large batches: mlog_prep_add encodes
 * a record (canonical text, with the envelope left as placeholders) and
 * may run in any thread on its own struct mlog_prep; it sets "type" as
 * mlog_write does and leaves recs otherwise unchanged.  Errors are
 * RC_PERM (mlog_check_rec's, or over MLOG_MAX_STORED).
 * mlog_write_prep then appends records [from, to) of p under the lock,
 * assigning seqs and the time: only a splice and the I/O.
 *
 * mlog_put_prep is mlog_write_prep without the fsync, so that a batch
 * can be written in pieces; mlog_sync fsyncs what was put since the
 * last fsync (sealing a segment also makes what was put durable).  If a
 * write or the fsync fails, the segment is cut back to the last fsync
 * and mlog_last_seq falls back to match: every record put since is
 * gone, and the call returns RC_TEMP.
 */
struct mlog_prep {
	struct strbuf text;	/* encoded lines */
	size_t *ends, *seqpos, *timepos;
	size_t n, aends, aseq, atime;
};
void mlog_prep_init(struct mlog_prep *p);
void mlog_prep_release(struct mlog_prep *p);
int mlog_prep_add(struct mlog_prep *p, struct json *rec, const char *type,
    struct strbuf *err);
int mlog_write_prep(struct mlog *l, const struct mlog_prep *p, size_t from,
    size_t to, uint64_t *first_seq, struct strbuf *err);
int mlog_put_prep(struct mlog *l, const struct mlog_prep *p, size_t from,
    size_t to, uint64_t *first_seq, struct strbuf *err);
int mlog_sync(struct mlog *l, struct strbuf *err);
/* Last seq in the log (0 when empty); needs mlog_lock. */
uint64_t mlog_last_seq(const struct mlog *l);

/* Reading. */
struct mlog_cursor {
	unsigned seg;	/* segment number */
	off_t off;	/* byte offset in it, always at a line start */
};
/*
 * Call fn(buf, len, arg) with chunks of whole lines (each chunk ends in
 * '\n') from *cur to the readable end of the log, advancing *cur.
 * A non-zero return from fn stops the read and is returned.
 * Does not rescan: call mlog_scan first to see new segments.
 */
int mlog_read(struct mlog *l, struct mlog_cursor *cur,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg,
    struct strbuf *err);
/*
 * The same bytes written to outfd, copied in the kernel where it can
 * (copy_file_range, sendfile); a failed write is RC_TEMP, naming the
 * segment (errno is kept).
 */
int mlog_copy(struct mlog *l, struct mlog_cursor *cur, int outfd,
    struct strbuf *err);
/* The same as mlog_read, but only within segment cur->seg. */
int mlog_read_seg(struct mlog *l, struct mlog_cursor *cur,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg,
    struct strbuf *err);
/*
 * The record loop.  Call fn(rec, arg) on each record from *cur to the
 * readable end of the log (no rescan: call mlog_scan first), advancing
 * *cur, selected by sel (NULL: every record):
 *   type   only records whose top-level "type" is this
 *   lit    only lines holding these bytes, a prefilter the caller
 *          knows every wanted record passes (canonical JSON spells
 *          field values one way: "\"repo\":\"go\"")
 *   after  only records with seq > after
 *   one    only segment cur->seg (for readers splitting the segments
 *          over threads, each with its own struct mlog)
 * Lines that a filter rules out by a byte search (memmem) are not
 * parsed, so a selective loop costs little more than reading the
 * bytes.  sel->last is set to the seq of the last line read, selected
 * or not (0 when nothing was read): a reader rolling state forward
 * sets its seq to it.
 *
 * rec->obj is the parsed record and rec->line its stored text (without
 * the '\n'); both are valid only during the call.
 *
 *   test   an exact check cheaper than a parse, called (with arg) on
 *          each line the literals let through: 0 the record is not
 *          wanted (not parsed), 1 it is, -1 undecided (parsed as
 *          usual).  A record taken on a 1 reaches fn unparsed:
 *          rec->obj and rec->type are NULL, rec->seq comes from the
 *          line (mlog_line_member), and sel->type is checked the same
 *          way; a line whose "seq" or "type" the scan cannot read, or
 *          whose seq is not above the previous one, is parsed instead.  A non-zero return
 * from fn stops the loop with *cur just past that record, and is
 * returned (use values other than the RC_* codes, or set err).
 *
 * Bad lines: logs are checked on write (mlog_check_rec) and by maintlog
 * verify, so the loop does not re-verify lines it does not parse.  A
 * parsed line that is not a JSON object with an integer "seq" > 0 and a
 * string "type", or whose seq is not above the previous parsed line's,
 * stops the loop with RC_PERM and err naming the log, the segment and
 * the line ("log 'DIR' segment 0003 line 17: seq 5 after 9"); *cur is
 * then at that line.
 */
struct mlog_rec {
	const struct json *obj;
	const char *type;	/* obj's "type" */
	uint64_t seq;		/* obj's "seq" */
	const char *line;
	size_t len;
	struct mlog_cursor at;	/* where the line starts */
};
struct mlog_sel {
	const char *type;
	const char *lit;
	uint64_t after;
	uint64_t last;		/* out */
	int one;
	int (*test)(const char *line, size_t len, void *arg);
};
int mlog_each(struct mlog *l, struct mlog_cursor *cur, struct mlog_sel *sel,
    int (*fn)(const struct mlog_rec *rec, void *arg), void *arg,
    struct strbuf *err);
/* Cursor at the first record with seq >= seq (needs a scan). */
int mlog_seek_seq(struct mlog *l, uint64_t seq, struct mlog_cursor *cur,
    struct strbuf *err);
/*
 * Start watching the directory; call before reading so no change is
 * missed.  mlog_wait blocks until something changed since the watch or
 * the last mlog_wait, or timeout_ms passed (< 0: forever): 1 changed,
 * 0 timeout, -1 error (errno set).  A wake-up may be spurious (the
 * caller rescans and finds nothing new).
 *
 * One inotify instance per log directory and process serves every
 * struct mlog watching it, in any thread (the kernel allows few inotify
 * instances per user).  Changes bump a generation counter; one waiter
 * at a time polls the inotify descriptor and wakes the others through
 * a condition variable.
 *
 * For a poll(2) loop: mlog_watch_fd(l) is the shared inotify
 * descriptor; when poll says it is readable, mlog_changed(l) (never
 * blocks) drains it and says 1 if the log changed since the watch or
 * the last mlog_wait/mlog_changed.  A thread blocked in mlog_wait on the
 * same log may drain the descriptor first; a poll loop that shares its
 * log with such threads should also call mlog_changed on a timeout.
 */
int mlog_watch(struct mlog *l, struct strbuf *err);
int mlog_wait(struct mlog *l, int timeout_ms);
int mlog_watch_fd(const struct mlog *l);
int mlog_changed(struct mlog *l);

/* seq of a stored line (parses it); 0 when the line has none. */
uint64_t mlog_line_seq(const char *line, size_t len);
/*
 * Where a top-level member of a stored line is, without a parse: 1 and
 * [*vp, *vp + *vlenp) the text of the value of the member whose key,
 * as JSON text with its quotes, is qkey[0..qklen) ("\"type\""); 0 when
 * the record has no such member; -1 when the line does not look like a
 * stored record (parse it to know).
 *
 * This is no JSON parser: it relies on the line being what mlog_write
 * wrote (canonical, maintlog(5): compact, one object, strings as
 * json_dump writes them, so a key or a string has one spelling), which
 * every writer guarantees and the literal prefilter (sel->lit) already
 * relies on.  It only walks the top-level members, skipping each value
 * by its quotes and brackets; it checks nothing it skips.
 */
int mlog_line_member(const char *line, size_t len, const char *qkey,
    size_t qklen, const char **vp, size_t *vlenp);
/* Segment file names. */
void mlog_growing_name(struct strbuf *out, unsigned n);
void mlog_sealed_name(struct strbuf *out, unsigned n, const char *sha224);

#endif
