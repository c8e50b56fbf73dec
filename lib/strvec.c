#include "compat.h"

#include <stdarg.h>
#include <stdlib.h>

#include "strbuf.h"
#include "strvec.h"
#include "xmalloc.h"

char *strvec_empty[1];

void
strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->nr = sv->alloc = 0;
}

/* Take s (already allocated) as the new last string. */
static const char *
push_nodup(struct strvec *sv, char *s)
{
	if (sv->v == strvec_empty)
		sv->v = NULL;
	GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
	return s;
}

const char *
strvec_push(struct strvec *sv, const char *s)
{
	return push_nodup(sv, xstrdup(s));
}

const char *
strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return push_nodup(sv, strbuf_detach(&sb, NULL));
}

void
strvec_pushv(struct strvec *sv, const char *const *v)
{
	for (; *v != NULL; v++)
		strvec_push(sv, *v);
}

void
strvec_pop(struct strvec *sv)
{
	if (sv->nr == 0)
		return;
	free(sv->v[--sv->nr]);
	sv->v[sv->nr] = NULL;
}

void
strvec_clear(struct strvec *sv)
{
	size_t i;

	if (sv->v != strvec_empty) {
		for (i = 0; i < sv->nr; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

char **
strvec_detach(struct strvec *sv)
{
	char **v;

	if (sv->v == strvec_empty)
		return xcalloc(1, sizeof(*v));
	v = sv->v;
	strvec_init(sv);
	return v;
}
