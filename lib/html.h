/*
 * html.h: text into HTML.
 *
 * html_esc(out, s) appends s with '<', '>', '&', '"' and '\'' as
 * character references, so that it reads as text in an element or in
 * a quoted attribute value whatever it holds; html_escn takes a
 * length.  NUL and the other control characters but tab, newline and
 * return, which HTML does not allow, become U+FFFD.  The other bytes
 * are copied: a page declared UTF-8 shows invalid sequences as U+FFFD.
 */
#ifndef BF_HTML_H
#define BF_HTML_H

#include <stddef.h>

struct strbuf;

void html_esc(struct strbuf *out, const char *s);
void html_escn(struct strbuf *out, const char *s, size_t n);

#endif
