/*
 * timefmt.h: time stamps as the farm writes them.
 *
 * time_rfc3339(out, ts, nanos) appends ts in RFC 3339 UTC:
 * "2017-07-01T12:34:56.123456789Z" with nanos (always 9 digits), or
 * "2017-07-01T12:34:56Z" without.
 * time_now() is CLOCK_REALTIME; mono_ms() a monotonic clock in ms.
 */
#ifndef BF_TIMEFMT_H
#define BF_TIMEFMT_H

#include <time.h>

struct strbuf;

void time_rfc3339(struct strbuf *out, struct timespec ts, int nanos);
struct timespec time_now(void);
long long mono_ms(void);

#endif
