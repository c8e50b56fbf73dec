#include "compat.h"

#include "utf8.h"

size_t
utf8_decode(const void *vp, size_t n, uint32_t *cpp)
{
	const unsigned char *p = vp;
	uint32_t cp, min;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		len = 1;
		cp = p[0];
		min = 0;
	} else if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cpp != NULL)
		*cpp = cp;
	return len;
}

int
utf8_valid(const void *vp, size_t n)
{
	const unsigned char *p = vp;
	size_t l;

	for (; n > 0; p += l, n -= l)
		if ((l = utf8_decode(p, n, NULL)) == 0)
			return 0;
	return 1;
}
