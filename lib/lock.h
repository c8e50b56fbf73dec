/*
 * lock.h: flock(2) locks held on a descriptor for the lifetime of the
 * work.  The kernel drops them when the holder dies, so there is never a
 * stale lock to clean up.
 *
 * lock_take(path, flags, timeout_ms, &fd, err) opens (creating, mode
 * 0644) path and locks it:
 *   LOCK_F_SHARED  a shared lock instead of an exclusive one;
 *   LOCK_F_NB      do not wait: a lock held elsewhere returns RC_NO.
 * Without LOCK_F_NB it waits up to timeout_ms (< 0: forever) and returns
 * RC_TEMP on timeout.  On success it returns RC_OK and *fd holds the lock
 * until lock_release(*fd) or exit.  Errors return RC_TEMP with err set.
 *
 * lock_fd(fd, flags, timeout_ms, err) does the same on an open fd.
 */
#ifndef BF_LOCK_H
#define BF_LOCK_H

struct strbuf;

enum lock_flags {
	LOCK_F_SHARED = 1 << 0,
	LOCK_F_NB = 1 << 1,
};

int lock_take(const char *path, int flags, int timeout_ms, int *fdp,
    struct strbuf *err);
int lock_fd(int fd, int flags, int timeout_ms, struct strbuf *err);
void lock_release(int fd);

#endif
