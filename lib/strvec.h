/*
 * strvec.h: a growable, NULL-terminated array of strings (git's strvec,
 * written anew), for argv and envp.
 *
 * Invariants:
 *   - v is never NULL: a fresh strvec points at a shared empty array,
 *     so v can go to execve or a loop at once;
 *   - v[nr] is NULL;
 *   - the strings belong to the strvec (each push copies); strvec_clear
 *     frees them and the array.
 *
 * Calling sequence:
 *   struct strvec sv = STRVEC_INIT;
 *   strvec_push(&sv, "ls");
 *   strvec_pushf(&sv, "--width=%d", w);
 *   ... use sv.v, sv.nr ...
 *   strvec_clear(&sv);          (or strvec_detach to keep the array)
 *
 * Allocation failure exits RC_TEMP (see xmalloc.h).
 */
#ifndef BF_STRVEC_H
#define BF_STRVEC_H

#include <stddef.h>

#include "compat.h"

struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
/* Append a copy of s; returns the copy. */
const char *strvec_push(struct strvec *sv, const char *s);
/* Append a formatted string; returns it. */
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
    BF_PRINTF(2, 3);
/* Append copies of the strings of the NULL-terminated array v. */
void strvec_pushv(struct strvec *sv, const char *const *v);
/* Remove and free the last string; nothing when empty. */
void strvec_pop(struct strvec *sv);
/* Free the strings and the array; sv is then as after STRVEC_INIT. */
void strvec_clear(struct strvec *sv);
/*
 * Hand the NULL-terminated array to the caller, who frees each string
 * and the array; sv is reset.  Never returns the shared empty array.
 */
char **strvec_detach(struct strvec *sv);

#endif
