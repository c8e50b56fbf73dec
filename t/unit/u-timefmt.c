#include "compat.h"

#include <time.h>

#include "tap.h"
#include "strbuf.h"
#include "timefmt.h"

static const char *
fmt(long long sec, long nsec, int nanos)
{
	static struct strbuf sb = STRBUF_INIT;
	struct timespec ts;

	ts.tv_sec = (time_t)sec;
	ts.tv_nsec = nsec;
	strbuf_reset(&sb);
	time_rfc3339(&sb, ts, nanos);
	return sb.buf;
}

static void
t_known(void)
{
	check_str(fmt(0, 0, 0), "1970-01-01T00:00:00Z");
	check_str(fmt(0, 0, 1), "1970-01-01T00:00:00.000000000Z");
	check_str(fmt(1499000096, 123456789, 0), "2017-07-02T12:54:56Z");
	check_str(fmt(1499000096, 123456789, 1),
	    "2017-07-02T12:54:56.123456789Z");
	check_str(fmt(1234567890, 5, 1), "2009-02-13T23:31:30.000000005Z");
	check_str(fmt(1234567890, 999999999, 1),
	    "2009-02-13T23:31:30.999999999Z");
	/* leap day, the eve of 2100, before the epoch */
	check_str(fmt(951782400, 0, 0), "2000-02-29T00:00:00Z");
	check_str(fmt(4102444799LL, 0, 0), "2099-12-31T23:59:59Z");
	check_str(fmt(-1, 0, 0), "1969-12-31T23:59:59Z");
}

static void
t_appends(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct timespec ts = { 86400, 1 };

	strbuf_addstr(&sb, "time=");
	time_rfc3339(&sb, ts, 1);
	check_str(sb.buf, "time=1970-01-02T00:00:00.000000001Z");
	check_int(sb.len, ==, 5 + 30);
	strbuf_release(&sb);
}

static void
t_clocks(void)
{
	struct timespec a, ts = { 0, 30 * 1000000 };
	long long m0, m1;
	time_t t0;

	t0 = time(NULL);
	a = time_now();
	check_int(a.tv_sec, >=, t0);
	check_int(a.tv_sec, <=, t0 + 2);
	check(a.tv_nsec >= 0 && a.tv_nsec < 1000000000L);
	m0 = mono_ms();
	nanosleep(&ts, NULL);
	m1 = mono_ms();
	check_int(m1 - m0, >=, 30);
	check_int(m1 - m0, <, 5000);
}

int
main(void)
{
	TEST(t_known(), "known instants, with and without nanoseconds");
	TEST(t_appends(), "time_rfc3339 appends to what is there");
	TEST(t_clocks(), "time_now is the wall clock; mono_ms advances");
	return test_done();
}
