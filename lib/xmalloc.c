#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "rc.h"
#include "xmalloc.h"

static void BF_NORETURN
oom(size_t n)
{
	/* No allocation here: we are out of memory. */
	char buf[128];
	int len;

	len = snprintf(buf, sizeof(buf), "%s: out of memory (%zu bytes)\n",
	    prog_name(), n);
	if (len > 0 && (size_t)len < sizeof(buf))
		(void)!write(2, buf, (size_t)len);
	_exit(RC_TEMP);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xmemdupz(s, strlen(s));
}

char *
xmemdupz(const void *p, size_t n)
{
	char *q;

	if (n == SIZE_MAX)
		oom(n);
	q = xmalloc(n + 1);
	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

void
bf_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}
