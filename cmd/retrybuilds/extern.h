/*
 * extern.h: retrybuilds' parts (retrybuilds.c is the table of contents).
 */
#ifndef RETRYBUILDS_EXTERN_H
#define RETRYBUILDS_EXTERN_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * failed.c: the results log as a table of triples (builder, repo, rev)
 * whose last result failed.
 *
 * A triple's state is given by its last record: a result with "ok"
 * false of a kind other than "try" makes it failed; any other result,
 * or a retract, makes it not failed (so a failure already retracted is
 * never retracted twice).  Only triples that ever failed are kept.
 *
 *   struct failed *t;
 *   failed_open(&t, dir, &sel, &err)       read the results log
 *   n = failed_list(t, &v)                 the failed triples, log order
 *   failed_retract(t, v, n, reasons, &err) under the writer's lock: read
 *                                          what was appended since, drop
 *                                          the triples it changed, append
 *                                          a retract per triple left
 *   failed_close(t)
 *
 * Only records selected by the literal sel (a byte string every wanted
 * record holds, as mlog_sel's lit; NULL: none) are read.
 */
struct fail {
	char *builder, *repo, *rev;
	char log[65];		/* the failed result's log, "" if none */
	uint64_t seq;		/* of the triple's last record */
	int failed;
	int drop;		/* out of failed_retract: changed meanwhile */
};
struct failed;

int failed_open(struct failed **tp, const char *dir, const char *lit,
    struct strbuf *err);
size_t failed_list(struct failed *t, struct fail ***vp);
/*
 * Append a retract record per v[i] that is still failed, with reason
 * reasons[i], in one batch; v[i]->drop is set on the others.  The number
 * appended goes to *nout.
 */
int failed_retract(struct failed *t, struct fail **v, size_t n,
    const char *const *reasons, size_t *nout, struct strbuf *err);
void failed_close(struct failed *t);

/*
 * The text of stored build log hash (buildlogs/AB/HASH.gz), gunzipped,
 * into out: at most max bytes (the rest is not read); NUL bytes become
 * spaces, so that out.buf is the text as a C string.  RC_NO when there
 * is no such log.
 */
int buildlog_text(const char *dir, const char *hash, size_t max,
    struct strbuf *out, struct strbuf *err);

/*
 * branch.c: the commits recorded on a branch (corpus log "git" records,
 * each recorded once per repository with the branch it was first seen
 * on).
 */
struct branch;
int branch_open(struct branch **bp, const char *dir, const char *name,
    struct strbuf *err);
int branch_has(const struct branch *b, const char *repo, const char *rev);
void branch_close(struct branch *b);

/*
 * flaky.c: the flaky patterns, extended regular expressions matched
 * against a whole build log.  flaky_load reads path, one pattern per
 * line, '#' lines and empty lines skipped; when path does not exist,
 * the built-in patterns (the phrases of Go's retrybuilds) are used.
 * flaky_match gives the first pattern (its text) that text matches, or
 * NULL.
 */
struct flaky;
int flaky_load(struct flaky **fp, const char *path, struct strbuf *err);
const char *flaky_match(const struct flaky *f, const char *text);
void flaky_free(struct flaky *f);

#endif
