#include "compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"
#include "utf8.h"

int log_verbose;
static const char *progname = "buildfarm";

void
prog_init(const char *argv0)
{
	const char *s;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	s = strrchr(argv0, '/');
	progname = s != NULL ? s + 1 : argv0;
}

const char *
prog_name(void)
{
	return progname;
}

static void
vreport(const char *fmt, va_list ap, int errnum)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_addf(&sb, "%s: ", progname);
	strbuf_vaddf(&sb, fmt, ap);
	if (sb.len > 4000) {
		/* one line, bounded: mark the cut */
		strbuf_setlen(&sb, 4000);
		strbuf_addstr(&sb, "...");
	}
	if (errnum)
		strbuf_addf(&sb, ": %s", strerror(errnum));
	for (i = 0; i < sb.len; i++) {
		unsigned char c = (unsigned char)sb.buf[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			sb.buf[i] = '?';
	}
	strbuf_addch(&sb, '\n');
	(void)!write(2, sb.buf, sb.len);
	strbuf_release(&sb);
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, e);
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	errno = e;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
}

void
fatal(int rc, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, e);
	va_end(ap);
	exit(rc);
}

void
fatalx(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	exit(rc);
}

void
log_escape(struct strbuf *out, const void *vp, size_t n)
{
	const unsigned char *p = vp;
	size_t i = 0, l;
	uint32_t cp;

	while (i < n) {
		unsigned char c = p[i];

		if (c == '\\') {
			strbuf_add(out, "\\\\", 2);
			i++;
		} else if (c == '\n') {
			strbuf_add(out, "\\n", 2);
			i++;
		} else if (c == '\t') {
			strbuf_add(out, "\\t", 2);
			i++;
		} else if (c == '\r') {
			strbuf_add(out, "\\r", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(out, "\\x%02x", c);
			i++;
		} else if ((l = utf8_decode(p + i, n - i, &cp)) != 0 &&
		    !(cp >= 0x80 && cp < 0xa0)) {
			/* C1 controls are escaped: some terminals obey them */
			strbuf_add(out, p + i, l);
			i += l;
		} else {
			strbuf_addf(out, "\\x%02x", c);
			i++;
		}
	}
}

const char *
escn(const void *p, size_t n)
{
	/* per thread: HTTP handlers log from several threads at once */
	static _Thread_local char ring[8][600];
	static _Thread_local unsigned slot;
	struct strbuf sb = STRBUF_INIT;
	char *out = ring[slot++ % 8];
	const unsigned char *up = p;
	size_t len, in = n;

	/* cut the input before a UTF-8 sequence that crosses byte 512 */
	if (in > 512) {
		in = 512;
		while (in > 509 && (up[in] & 0xc0) == 0x80)
			in--;
	}
	log_escape(&sb, p, in);
	len = sb.len;
	if (len > 512) {
		/*
		 * Keep whole escapes and UTF-8 sequences: every '\\' in sb
		 * starts an escape (\\, \n, \t, \r or \xNN).
		 */
		size_t i = 0, u;

		while (i < sb.len) {
			unsigned char c = (unsigned char)sb.buf[i];

			if (c == '\\')
				u = sb.buf[i + 1] == 'x' ? 4 : 2;
			else if (c >= 0xf0)
				u = 4;
			else if (c >= 0xe0)
				u = 3;
			else if (c >= 0xc0)
				u = 2;
			else
				u = 1;
			if (i + u > 512)
				break;
			i += u;
		}
		len = i;
	}
	memcpy(out, sb.buf, len);
	if (in < n || sb.len > len) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
	strbuf_release(&sb);
	return out;
}

const char *
esc(const char *s)
{
	return escn(s, s != NULL ? strlen(s) : 0);
}

void
log_lines(const struct strbuf *sb)
{
	const char *p, *nl;

	for (p = sb->buf; *p != '\0'; p = nl + (*nl != '\0')) {
		nl = p + strcspn(p, "\n");
		log_warnx("%.*s", (int)(nl - p), p);
	}
}
