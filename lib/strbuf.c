#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "strbuf.h"
#include "xmalloc.h"

char strbuf_empty[1];

void
strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_empty;
	if (hint)
		strbuf_grow(sb, hint);
}

void
strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *
strbuf_detach(struct strbuf *sb, size_t *lenp)
{
	char *s;

	if (sb->alloc == 0)
		strbuf_grow(sb, 0);
	s = sb->buf;
	if (lenp != NULL)
		*lenp = sb->len;
	strbuf_init(sb, 0);
	return s;
}

void
strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need;
	int fresh = sb->alloc == 0;

	if (extra > SIZE_MAX - sb->len - 1)
		(void)xmalloc(SIZE_MAX);	/* reports and exits */
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	if (fresh)
		sb->buf = NULL;
	if (need < sb->alloc * 3 / 2)
		need = sb->alloc * 3 / 2;
	if (need < 64)
		need = 64;
	sb->buf = xrealloc(sb->buf, need);
	sb->alloc = need;
	if (fresh)
		sb->buf[0] = '\0';
}

void
strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (sb->alloc == 0) {
		/* only 0 is valid for the shared empty string */
		return;
	}
	sb->len = len;
	sb->buf[len] = '\0';
}

void
strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	strbuf_setlen(sb, sb->len + len);
}

void
strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len] = (char)c;
	strbuf_setlen(sb, sb->len + 1);
}

void
strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		if (n < 0)
			return;
	}
	strbuf_setlen(sb, sb->len + (size_t)n);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

ssize_t
strbuf_read_fd(struct strbuf *sb, int fd, size_t max)
{
	size_t start = sb->len;
	ssize_t n;

	for (;;) {
		size_t room;

		strbuf_grow(sb, 65536);
		room = sb->alloc - sb->len - 1;
		if (max && room > max - (sb->len - start) + 1)
			room = max - (sb->len - start) + 1;
		n = read(fd, sb->buf + sb->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		strbuf_setlen(sb, sb->len + (size_t)n);
		if (max && sb->len - start > max) {
			strbuf_setlen(sb, start + max);
			errno = EFBIG;
			return -1;
		}
	}
	return (ssize_t)(sb->len - start);
}

int
strbuf_getline(struct strbuf *sb, FILE *fp, size_t max)
{
	int c, toolong = 0;

	strbuf_reset(sb);
	while ((c = getc_unlocked(fp)) != EOF) {
		if (c == '\n')
			return toolong ? -2 : 0;
		if (max && sb->len >= max) {
			toolong = 1;
			continue;
		}
		strbuf_grow(sb, 1);
		sb->buf[sb->len++] = (char)c;
		sb->buf[sb->len] = '\0';
	}
	if (toolong)
		return -2;
	return sb->len ? 0 : EOF;
}

void
strbuf_rtrim(struct strbuf *sb)
{
	size_t n = sb->len;

	while (n > 0 && (sb->buf[n - 1] == ' ' || sb->buf[n - 1] == '\t' ||
	    sb->buf[n - 1] == '\n' || sb->buf[n - 1] == '\r'))
		n--;
	strbuf_setlen(sb, n);
}
