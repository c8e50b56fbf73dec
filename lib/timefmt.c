#include "compat.h"

#include <time.h>

#include "strbuf.h"
#include "timefmt.h"

void
time_rfc3339(struct strbuf *out, struct timespec ts, int nanos)
{
	struct tm tm;
	time_t t = ts.tv_sec;

	gmtime_r(&t, &tm);
	strbuf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (nanos)
		strbuf_addf(out, ".%09ld", ts.tv_nsec);
	strbuf_addch(out, 'Z');
}

struct timespec
time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
