#include "compat.h"

#include <limits.h>
#include <stdint.h>

#include "tap.h"
#include "num.h"
#include "strbuf.h"

static void
t_u64(void)
{
	static const char *bad[] = {
		"", "+1", "-1", " 1", "1 ", "1a", "0x10", "1.0", "1e3", "--",
		"18446744073709551616", "99999999999999999999999",
	};
	uint64_t v = 7;
	size_t i;

	check_int(num_parse_u64("0", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 0);
	check_int(num_parse_u64("007", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 7);
	check_int(num_parse_u64("18446744073709551615", 0, UINT64_MAX, &v),
	    ==, 0);
	check(v == UINT64_MAX);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 12345;
		if (!check_int(num_parse_u64(bad[i], 0, UINT64_MAX, &v), ==,
		    -1))
			test_msg("accepted \"%s\"", bad[i]);
		check_int(v, ==, 12345);	/* untouched on failure */
	}
	check_int(num_parse_u64(NULL, 0, 10, &v), ==, -1);
	/* the range is inclusive */
	check_int(num_parse_u64("5", 5, 10, &v), ==, 0);
	check_int(num_parse_u64("10", 5, 10, &v), ==, 0);
	check_int(v, ==, 10);
	check_int(num_parse_u64("4", 5, 10, &v), ==, -1);
	check_int(num_parse_u64("11", 5, 10, &v), ==, -1);
	check_int(v, ==, 10);
}

static void
t_i64(void)
{
	int64_t v = 3;

	check_int(num_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX,
	    &v), ==, 0);
	check(v == INT64_MIN);
	check_int(num_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX,
	    &v), ==, 0);
	check(v == INT64_MAX);
	check_int(num_parse_i64("-0", INT64_MIN, INT64_MAX, &v), ==, 0);
	check_int(v, ==, 0);
	check_int(num_parse_i64("-42", -100, 100, &v), ==, 0);
	check_int(v, ==, -42);
	v = 3;
	check_int(num_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX,
	    &v), ==, -1);
	check_int(num_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX,
	    &v), ==, -1);
	check_int(num_parse_i64("-", INT64_MIN, INT64_MAX, &v), ==, -1);
	check_int(num_parse_i64("--1", INT64_MIN, INT64_MAX, &v), ==, -1);
	check_int(num_parse_i64("+1", INT64_MIN, INT64_MAX, &v), ==, -1);
	check_int(num_parse_i64("1-", INT64_MIN, INT64_MAX, &v), ==, -1);
	check_int(num_parse_i64("", INT64_MIN, INT64_MAX, &v), ==, -1);
	check_int(num_parse_i64("-101", -100, 100, &v), ==, -1);
	check_int(num_parse_i64("101", -100, 100, &v), ==, -1);
	check_int(v, ==, 3);
}

static void
t_int(void)
{
	int v = 9;

	check_int(num_parse_int("2147483647", INT_MIN, INT_MAX, &v), ==, 0);
	check_int(v, ==, INT_MAX);
	check_int(num_parse_int("-2147483648", INT_MIN, INT_MAX, &v), ==, 0);
	check_int(v, ==, INT_MIN);
	v = 9;
	check_int(num_parse_int("2147483648", INT_MIN, INT_MAX, &v), ==, -1);
	check_int(num_parse_int("-2147483649", INT_MIN, INT_MAX, &v), ==, -1);
	check_int(num_parse_int("65536", 1, 65535, &v), ==, -1);
	check_int(num_parse_int("0", 1, 65535, &v), ==, -1);
	check_int(v, ==, 9);
	check_int(num_parse_int("65535", 1, 65535, &v), ==, 0);
	check_int(v, ==, 65535);
}

static void
t_size(void)
{
	uint64_t v = 1;

	check_int(num_parse_size("16M", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 16777216);
	check_int(num_parse_size("1k", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 1024);
	check_int(num_parse_size("3K", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 3072);
	check_int(num_parse_size("2g", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 2147483648LL);
	check_int(num_parse_size("512", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 512);
	check_int(num_parse_size("0k", 0, UINT64_MAX, &v), ==, 0);
	check_int(v, ==, 0);
	/* 2^34 G is 2^64: one past the top */
	check_int(num_parse_size("17179869183G", 0, UINT64_MAX, &v), ==, 0);
	check(v == 17179869183ULL << 30);
	v = 1;
	check_int(num_parse_size("17179869184G", 0, UINT64_MAX, &v), ==, -1);
	check_int(num_parse_size("k", 0, UINT64_MAX, &v), ==, -1);
	check_int(num_parse_size("", 0, UINT64_MAX, &v), ==, -1);
	check_int(num_parse_size("1T", 0, UINT64_MAX, &v), ==, -1);
	check_int(num_parse_size("1kb", 0, UINT64_MAX, &v), ==, -1);
	check_int(num_parse_size("1 k", 0, UINT64_MAX, &v), ==, -1);
	check_int(num_parse_size("-1k", 0, UINT64_MAX, &v), ==, -1);
	/* the range applies after the unit */
	check_int(num_parse_size("2k", 0, 2047, &v), ==, -1);
	check_int(num_parse_size("1k", 1025, UINT64_MAX, &v), ==, -1);
	check_int(v, ==, 1);
	check_int(num_parse_size("2k", 0, 2048, &v), ==, 0);
	check_int(v, ==, 2048);
}

static void
t_duration(void)
{
	static const char *bad[] = { "", "s", "1w", "1ms", "-1s", "1 s",
	    "1.5h", "+1", "1h30m", "106751991167301d" };
	static const struct {
		const char *s;
		int64_t v;
		const char *back;
	} good[] = {
		{ "0", 0, "0s" }, { "90", 90, "90s" }, { "90s", 90, "90s" },
		{ "10m", 600, "10m" }, { "2h", 7200, "2h" }, { "120m", 7200, "2h" },
		{ "7d", 604800, "7d" }, { "3601", 3601, "3601s" },
	};
	struct strbuf sb = STRBUF_INIT;
	int64_t v = 5;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		check_int(num_parse_duration(good[i].s, 0, INT64_MAX, &v), ==,
		    0);
		check_int(v, ==, good[i].v);
		strbuf_reset(&sb);
		num_format_duration(&sb, v);
		check_str(sb.buf, good[i].back);
	}
	v = 5;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (!check_int(num_parse_duration(bad[i], 0, INT64_MAX, &v),
		    ==, -1))
			test_msg("accepted \"%s\"", bad[i]);
	/* the range applies after the unit */
	check_int(num_parse_duration("2m", 0, 119, &v), ==, -1);
	check_int(num_parse_duration("1h", 3601, INT64_MAX, &v), ==, -1);
	check_int(v, ==, 5);
	strbuf_release(&sb);
}

int
main(void)
{
	TEST(t_u64(), "num_parse_u64: whole string, digits only, range");
	TEST(t_i64(), "num_parse_i64: both ends of int64, junk refused");
	TEST(t_int(), "num_parse_int: int limits and ranges");
	TEST(t_size(), "num_parse_size: k/m/g units, overflow, range");
	TEST(t_duration(), "num_parse_duration: s/m/h/d, range; formatted back");
	return test_done();
}
