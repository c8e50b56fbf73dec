/*
 * compat.h: first include of every .c file in buildfarm.
 *
 * Sets the feature macros (POSIX.1-2008 plus the GNU/BSD extensions we
 * rely on: flock(2), memmem(3), pipe2(2), the *at() calls), declares the
 * few helpers that some platforms lack, and pulls in banned.h so that
 * unsafe string functions fail to compile.
 */
#ifndef BF_COMPAT_H
#define BF_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define BF_NORETURN __attribute__((noreturn))
#define BF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BF_UNUSED __attribute__((unused))
/* code that runs in a vfork-style child, which shares our memory */
#define BF_NO_SANITIZE \
    __attribute__((no_sanitize("address", "undefined", "thread")))
#else
#define BF_NORETURN
#define BF_PRINTF(f, a)
#define BF_UNUSED
#define BF_NO_SANITIZE
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Wipe a secret so the compiler cannot elide it.  glibc >= 2.25 has
 * explicit_bzero; this wrapper exists so call sites do not care.
 */
void bf_wipe(void *p, size_t n);

/*
 * Pledge-style privilege narrowing; a no-op where the OS has no pledge(2).
 */
static inline int
xpledge(const char *promises, const char *execpromises)
{
	(void)promises;
	(void)execpromises;
	return 0;
}

#include "banned.h"

#endif
