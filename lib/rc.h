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

#endif
