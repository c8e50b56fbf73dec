/*
 * utf8.h: the one UTF-8 decoder (RFC 3629) every escaper and quoter uses.
 *
 * utf8_decode(p, n, &cp) returns the length (1 to 4) of the valid UTF-8
 * sequence at the start of p[0..n) and stores its code point in *cp (cp
 * may be NULL).  It returns 0, and leaves *cp alone, when p does not
 * start a valid sequence: n is 0, a continuation byte stands alone, the
 * sequence is cut short (by n or by a byte that is not a continuation),
 * it is an overlong form (C0 80 for NUL, E0 80 80, F0 80 80 80, ...), it
 * encodes a surrogate (U+D800 to U+DFFF) or a code point above U+10FFFF.
 * NUL is valid (length 1, U+0000): callers that refuse it say so.
 *
 * Callers that replace what is invalid step one byte and go on, as Go's
 * utf8.DecodeRune does.
 *
 * utf8_valid(p, n) is 1 when all of p[0..n) is valid UTF-8, else 0.
 */
#ifndef BF_UTF8_H
#define BF_UTF8_H

#include <stddef.h>
#include <stdint.h>

size_t utf8_decode(const void *p, size_t n, uint32_t *cp);
int utf8_valid(const void *p, size_t n);

#endif
