#include "compat.h"

#include <string.h>

#include "html.h"
#include "strbuf.h"

void
html_escn(struct strbuf *out, const char *s, size_t n)
{
	size_t i, from = 0;
	const char *rep;

	strbuf_grow(out, n);
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			/* NUL and controls are not allowed in HTML text */
			if (((unsigned char)s[i] >= 0x20 && s[i] != 0x7f) ||
			    s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
				continue;
			rep = "\xef\xbf\xbd";
		}
		strbuf_add(out, s + from, i - from);
		strbuf_addstr(out, rep);
		from = i + 1;
	}
	strbuf_add(out, s + from, n - from);
}

void
html_esc(struct strbuf *out, const char *s)
{
	if (s != NULL)
		html_escn(out, s, strlen(s));
}
