/*
 * rc.h: the exit codes every buildfarm tool uses (buildfarm(7)).
 *
 *   RC_OK    0    did what was asked
 *   RC_NO    1    expected negative answer ("nothing new", "no match",
 *                 "lock held by someone else"); only where a page says so
 *   RC_PERM  100  permanent failure: usage, bad config, malformed input,
 *                 HTTP 4xx (but 408/429), authentication refused.
 *                 Retrying the same thing will fail the same way.
 *   RC_TEMP  111  temporary failure: I/O, DNS, connect, timeout, HTTP
 *                 5xx/408/429, out of memory, lock timeout.  Retry later.
 *
 * A tool that waits for a user command exits with that command's status,
 * or 128+N when signal N killed it.
 */
#ifndef BF_RC_H
#define BF_RC_H

enum rc {
	RC_OK = 0,
	RC_NO = 1,
	RC_PERM = 100,
	RC_TEMP = 111,
};

/*
 * rc_worse(a, b): the code to exit with when a tool did several things
 * (one per repo, per server) that ended in a and b.  Worst first:
 *
 *   RC_PERM   a permanent failure: retrying the lot will not help
 *   other     any other code (a command's status): a failure of its own
 *   RC_TEMP   a temporary failure: retry later
 *   RC_OK     something was done (news)
 *   RC_NO     nothing to do
 *
 * So "one repo had news, the others none" is RC_OK, and one temporary
 * failure among successes is RC_TEMP.  Between two "other" codes, a wins.
 * Fold a list from RC_NO: rc = RC_NO; for (...) rc = rc_worse(rc, r);
 */
static inline int
rc_rank_(int rc)
{
	switch (rc) {
	case RC_NO:
		return 0;
	case RC_OK:
		return 1;
	case RC_TEMP:
		return 2;
	case RC_PERM:
		return 4;
	default:
		return 3;
	}
}

static inline int
rc_worse(int a, int b)
{
	return rc_rank_(b) > rc_rank_(a) ? b : a;
}

#endif
