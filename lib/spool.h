/*
 * spool.h: maildir-style work queues (buildfarm(7), FILES; DESIGN §4).
 *
 * A spool is a directory with five subdirectories on one filesystem:
 *
 *   tmp/    items being written; nobody else looks here
 *   new/    published items, waiting for a consumer
 *   cur/    claimed items, each flock(2)ed by the worker that holds it
 *   done/   finished items
 *   fail/   items that failed for good
 *
 * Every item keeps its name from tmp/ to done/ or fail/:
 * "<sec>.<usec>P<pid>Q<counter>.<host>", usec zero-padded to 6 digits
 * so that names sort in creation order (as far as the clock is right),
 * '/' and ':' in the host name replaced by '_'.  Names starting with
 * '.' are never items: listings skip them, and every function that
 * takes a name refuses them, as it refuses "" and names containing '/'
 * (RC_PERM).
 *
 * Claims: a worker takes an item by opening new/X, flocking it
 * (LOCK_EX|LOCK_NB) and only then renaming it to cur/X, so an item is
 * never in cur/ unlocked while its worker lives.  The kernel drops the
 * lock when the worker dies; an unlocked cur/X is therefore a dead
 * claim (spool_stale), which spool_requeue moves back to new/ under the
 * same lock, so it cannot steal a live claim.  A claimed item is mode
 * +x (the x bits of its mode set, as nq marks running jobs), cleared
 * again when it leaves cur/, so that "ls -l cur" shows the claims whose
 * workers are alive or died since the last recovery.
 *
 * Delivery count: every claim counts, in the dot-file cur/.X (the
 * decimal count and a newline; replaced by write to tmp/.X, fsync and
 * rename, under the item's lock).  It stays in cur/ while X moves
 * between new/ and cur/, and goes when X reaches done/ or fail/.  A
 * claim killed at any point leaves the count as it was or one higher,
 * never lower.  spool_requeue moves a dead claim whose count reached
 * max_claims to fail/ instead of new/, so an item that kills its
 * workers is tried max_claims times, not forever.  A count file that
 * does not hold a number reads as max_claims.
 *
 * Pruning (spool_prune): items of done/ or fail/ older than an age are
 * removed; a named item (spool_put_named) leaves an empty tombstone
 * .X in its directory, made before X goes, which spool_find finds
 * like the item, so that pruning never lets a name be queued again.
 * Items with spool_put's names leave none: their names are never made
 * again.
 *
 * Calling sequence, producer:
 *   struct spool sp;
 *   if (spool_open(&sp, dir, 1, &err) != RC_OK) ...
 *   rc = spool_put(&sp, json.buf, json.len, &name, &err);
 *   spool_close(&sp);
 *
 * Consumer:
 *   struct spool_names nv = SPOOL_NAMES_INIT;
 *   spool_list(&sp, "new", &nv, &err);
 *   for each nv.v[i]:
 *       rc = spool_claim(&sp, nv.v[i], &fd, &err);
 *       RC_NO: someone else has it, go on to the next
 *       RC_OK: spool_read(&sp, "cur", nv.v[i], &buf, max, &err);
 *              ... work ...
 *              spool_finish(&sp, nv.v[i], "done" or "fail", &err);
 *              close(fd);      (release the claim after the rename)
 *   spool_names_free(&nv);
 *
 * Recovery, at start-up of a consumer:
 *   for each name in cur/: if (spool_stale(&sp, name) == 1)
 *                               spool_requeue(&sp, name, &err);
 *
 * Waiting for work: spool_watch gives a descriptor for poll(2) that
 * turns readable when something arrives in new/; after it does,
 * spool_watch_drain, then list new/ again.  spool_wait_new does all of
 * that with a timeout.
 *
 * Return values: RC_OK; RC_NO for the expected negative answers given
 * with each function; RC_PERM for a bad argument (name, subdirectory),
 * a missing spool that was not to be created, or an item over the size
 * limit; RC_TEMP for any other system error.  err gets one line
 * "what 'path': reason" for everything but RC_OK.  Nothing exits or
 * prints.
 */
#ifndef BF_SPOOL_H
#define BF_SPOOL_H

#include <stddef.h>

struct strbuf;

#define SPOOL_MAX_CLAIMS 3	/* max_claims after spool_open */

enum spool_sub {
	SPOOL_TMP,
	SPOOL_NEW,
	SPOOL_CUR,
	SPOOL_DONE,
	SPOOL_FAIL,
	SPOOL_NSUB,
};

struct spool {
	int fd;			/* the spool directory */
	int sub[SPOOL_NSUB];	/* its subdirectories, by enum spool_sub */
	char *path;		/* for messages */
	int watch;		/* inotify on new/, or -1 (spool_watch) */
	int max_claims;		/* claims before fail/; 3 after open, 0: no limit */
};

/* A sorted list of item names; free with spool_names_free. */
struct spool_names {
	char **v;
	size_t n, alloc;
};
#define SPOOL_NAMES_INIT { NULL, 0, 0 }

/*
 * Open the spool at dir.  With create, make dir (and its parents) and
 * the subdirectories that are missing (mode 0755 less umask).  Without
 * create, a missing dir or subdirectory is RC_PERM.  On failure sp is
 * left closed; spool_close is harmless on it.
 */
int spool_open(struct spool *sp, const char *dir, int create,
    struct strbuf *err);
void spool_close(struct spool *sp);

/*
 * Publish data[0..len) as a new item: O_EXCL create in tmp/ (a new name
 * on EEXIST), write, fsync, rename into new/, fsync new/.  The item's
 * name is appended to name_out when that is not NULL.  On failure
 * nothing is left in tmp/ or new/.
 */
int spool_put(struct spool *sp, const void *data, size_t len,
    struct strbuf *name_out, struct strbuf *err);

/*
 * Replace names with the items in sub ("tmp", "new", "cur", "done",
 * "fail"), sorted by strcmp (creation order), dot-files skipped.
 */
int spool_list(struct spool *sp, const char *sub, struct spool_names *names,
    struct strbuf *err);
void spool_names_free(struct spool_names *names);

/*
 * Claim new/name: RC_OK with *lockfd open (read-only, at the start of
 * the item) and holding the claim, its count one higher and its mode
 * +x; RC_NO when another worker claimed it first or is claiming it
 * right now (it is gone from new/ or locked).
 */
int spool_claim(struct spool *sp, const char *name, int *lockfd,
    struct strbuf *err);

/*
 * Clear the +x mark of the claimed cur/name, move it to to ("done" or
 * "fail", else RC_PERM), fsync that directory and remove its count.
 * RC_NO when cur/name does not exist.  Call it while still holding the
 * claim's lockfd.
 */
int spool_finish(struct spool *sp, const char *name, const char *to,
    struct strbuf *err);

/*
 * 1 when cur/name exists and nobody holds its lock (its worker died),
 * 0 when it is locked (live) or no longer in cur/, -1 with errno set
 * on other errors (EINVAL for a bad name).
 */
int spool_stale(struct spool *sp, const char *name);

/*
 * Move a dead claim cur/name back to new/, holding its lock while doing
 * so, its +x mark cleared.  RC_NO when it is locked (live) or gone from
 * cur/.  When it was claimed max_claims times or more, it goes to fail/
 * instead and its count is removed: RC_PERM, with err saying so.
 */
int spool_requeue(struct spool *sp, const char *name, struct strbuf *err);

/*
 * The number of times name was claimed while it was not yet in done/
 * or fail/ (0 for one never claimed), or -1 with errno set (EINVAL for
 * a bad name).
 */
int spool_claims(struct spool *sp, const char *name);

/*
 * Wake-ups: spool_watch returns a descriptor (non-blocking, close-on-
 * exec, owned by sp and closed by spool_close; the same one on every
 * call) that poll(2) reports readable once an item is published or
 * requeued into new/ after the call.  spool_watch_drain empties it;
 * drain before listing new/, not after, or an item may arrive unseen.
 * -1 / RC_TEMP with err on failure.
 *
 * spool_wait_new waits until new/ holds an item (at once when it holds
 * one already): RC_OK, or RC_NO when timeout_ms passed first (-1: no
 * timeout).  A signal ends the wait early as RC_NO when the caller's
 * handler does not restart poll(2).
 */
int spool_watch(struct spool *sp, struct strbuf *err);
void spool_watch_drain(struct spool *sp);
int spool_wait_new(struct spool *sp, int timeout_ms, struct strbuf *err);

/*
 * Wait until name is no longer held by a worker, as nq -w does: a
 * shared flock(2) on cur/name, which is granted once its worker has
 * finished or died.  Returns where the item is then: SPOOL_DONE or
 * SPOOL_FAIL (finished), SPOOL_NEW (not claimed: nothing to wait for,
 * or its worker died and it was requeued), SPOOL_CUR (its worker died
 * and nobody requeued it yet), -1 when the spool does not know name,
 * -2 with errno set on errors (EINTR: a signal interrupted the wait).
 * The shared lock is held only for an instant, but within it a claim
 * of the item or spool_stale sees it as held by someone else.
 */
int spool_wait_item(struct spool *sp, const char *name);

/*
 * Remove the items of sub ("done" or "fail", else RC_PERM) last moved
 * (st_ctime) at least age seconds ago, leaving a tombstone for each
 * named item (see above), and the counts left in cur/ by workers that
 * died after finishing an item.  *pruned (when not NULL) gets the
 * number of items removed.
 */
int spool_prune(struct spool *sp, const char *sub, long long age,
    size_t *pruned, struct strbuf *err);

/*
 * Replace out with the contents of sub/name.  RC_NO when the item does
 * not exist there, RC_PERM when it is larger than max bytes (0: no
 * limit).
 */
int spool_read(struct spool *sp, const char *sub, const char *name,
    struct strbuf *out, size_t max, struct strbuf *err);

/*
 * Items with names chosen by the producer, for work that must be queued
 * at most once ("server-change-patchset"): the name is the identity of
 * the work, and it is never reused, whatever became of the item.
 *
 * spool_find(sp, name) looks for name in new/, cur/, done/ and fail/:
 * the subdirectory index (SPOOL_NEW ... SPOOL_FAIL) where it is, -1
 * when it is nowhere, -2 with errno set on errors (EINVAL: bad name).
 * A pruned item's tombstone counts as the item.  Consumers may move
 * the item while it looks; the four directories are searched in the
 * order items move, then the tombstones, then new/ and cur/ once more,
 * so that only an item moved several times within the search (a claim,
 * requeue and claim again) could be missed.
 *
 * spool_put_named(sp, name, data, len, err) publishes data as new/name
 * unless spool_find finds name (RC_NO).  A name of spool_put's form is
 * refused (RC_PERM): pruning keeps no tombstone for those.  It writes
 * tmp/name (replacing
 * a leftover of a producer that died), fsyncs it, links it into new/
 * (never replacing an item there), fsyncs new/ and removes tmp/name.
 * Producers of one name must serialise among themselves (a lock); the
 * spool's consumers need not.
 */
int spool_find(struct spool *sp, const char *name);
int spool_put_named(struct spool *sp, const char *name, const void *data,
    size_t len, struct strbuf *err);

#endif
