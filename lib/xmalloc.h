/*
 * xmalloc.h: allocation that cannot fail.
 *
 * Each wrapper prints "prog: out of memory" and exits RC_TEMP (111) when
 * the allocator fails; this is the one place library code may exit.
 * xreallocarray and GROW check the multiplication for overflow.
 */
#ifndef BF_XMALLOC_H
#define BF_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xmemdupz(const void *p, size_t n);	/* n bytes plus a NUL */

/*
 * GROW(arr, nr, alloc): make room for at least nr elements in arr,
 * whose current capacity is alloc; grows geometrically.
 */
#define GROW(arr, nr, alloc) do { \
	if ((size_t)(nr) > (size_t)(alloc)) { \
		size_t grow_n_ = (size_t)(alloc) < 8 ? 8 : (size_t)(alloc) * 2; \
		if (grow_n_ < (size_t)(nr)) \
			grow_n_ = (size_t)(nr); \
		(arr) = xreallocarray((arr), grow_n_, sizeof(*(arr))); \
		(alloc) = grow_n_; \
	} \
} while (0)

#define FREE_AND_NULL(p) do { free(p); (p) = NULL; } while (0)

#endif
