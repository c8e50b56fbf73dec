#include "compat.h"

#include <limits.h>

#include "num.h"
#include "strbuf.h"

/* Digits only; no sign.  Returns -1 on empty, junk or overflow. */
static int
digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (s == NULL || digits(s, strlen(s), &v) < 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v;
	int64_t r;
	int neg = 0;

	if (s == NULL)
		return -1;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (digits(s, strlen(s), &v) < 0)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		r = (int64_t)v;
	}
	if (r < min || r > max)
		return -1;
	*out = r;
	return 0;
}

int
num_parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;

	if (num_parse_i64(s, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int
num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t n;
	uint64_t v, mul = 1;

	if (s == NULL || (n = strlen(s)) == 0)
		return -1;
	switch (s[n - 1]) {
	case 'k': case 'K': mul = 1024; n--; break;
	case 'm': case 'M': mul = 1024 * 1024; n--; break;
	case 'g': case 'G': mul = 1024 * 1024 * 1024; n--; break;
	}
	if (digits(s, n, &v) < 0 || v > UINT64_MAX / mul)
		return -1;
	v *= mul;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	char unit;
	int64_t secs;
} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };

int
num_parse_duration(const char *s, int64_t min, int64_t max, int64_t *out)
{
	size_t n, i;
	uint64_t v;
	int64_t mul = 1;

	if (s == NULL || (n = strlen(s)) == 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (s[n - 1] == units[i].unit) {
			mul = units[i].secs;
			n--;
			break;
		}
	if (digits(s, n, &v) < 0 || v > (uint64_t)(INT64_MAX / mul))
		return -1;
	if ((int64_t)v * mul < min || (int64_t)v * mul > max)
		return -1;
	*out = (int64_t)v * mul;
	return 0;
}

void
num_format_duration(struct strbuf *out, int64_t secs)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(units) - 1; i++)
		if (secs != 0 && secs % units[i].secs == 0)
			break;
	strbuf_addf(out, "%lld%c", (long long)(secs / units[i].secs),
	    units[i].unit);
}
