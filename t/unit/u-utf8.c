#include "compat.h"

#include "tap.h"
#include "utf8.h"

/* utf8_decode of a literal (without its NUL) */
#define DEC(lit, cp) utf8_decode((lit), sizeof(lit) - 1, (cp))

static void
t_valid(void)
{
	uint32_t cp = 0;

	check_int(DEC("a", &cp), ==, 1);
	check_int(cp, ==, 'a');
	check_int(utf8_decode("\0", 1, &cp), ==, 1);
	check_int(cp, ==, 0);
	check_int(DEC("\x7f", &cp), ==, 1);
	check_int(DEC("\xc2\x80", &cp), ==, 2);
	check_int(cp, ==, 0x80);
	check_int(DEC("\xc3\xa9z", &cp), ==, 2);
	check_int(cp, ==, 0xe9);
	check_int(DEC("\xdf\xbf", &cp), ==, 2);
	check_int(cp, ==, 0x7ff);
	check_int(DEC("\xe0\xa0\x80", &cp), ==, 3);
	check_int(cp, ==, 0x800);
	check_int(DEC("\xe2\x82\xac", &cp), ==, 3);
	check_int(cp, ==, 0x20ac);
	check_int(DEC("\xed\x9f\xbf", &cp), ==, 3);
	check_int(cp, ==, 0xd7ff);
	check_int(DEC("\xee\x80\x80", &cp), ==, 3);
	check_int(cp, ==, 0xe000);
	check_int(DEC("\xef\xbf\xbf", &cp), ==, 3);
	check_int(cp, ==, 0xffff);
	check_int(DEC("\xf0\x90\x80\x80", &cp), ==, 4);
	check_int(cp, ==, 0x10000);
	check_int(DEC("\xf4\x8f\xbf\xbf", &cp), ==, 4);
	check_int(cp, ==, 0x10ffff);
	check_int(DEC("\xf0\x9f\x98\x80", NULL), ==, 4);
}

static void
t_overlong(void)
{
	uint32_t cp = 12345;

	check_int(DEC("\xc0\x80", &cp), ==, 0);
	check_int(DEC("\xc1\xbf", &cp), ==, 0);
	check_int(DEC("\xe0\x80\x80", &cp), ==, 0);
	check_int(DEC("\xe0\x9f\xbf", &cp), ==, 0);
	check_int(DEC("\xf0\x80\x80\x80", &cp), ==, 0);
	check_int(DEC("\xf0\x8f\xbf\xbf", &cp), ==, 0);
	/* *cp is left alone */
	check_int(cp, ==, 12345);
}

static void
t_surrogates(void)
{
	check_int(DEC("\xed\xa0\x80", NULL), ==, 0);
	check_int(DEC("\xed\xaf\xbf", NULL), ==, 0);
	check_int(DEC("\xed\xb0\x80", NULL), ==, 0);
	check_int(DEC("\xed\xbf\xbf", NULL), ==, 0);
	/* a CESU-8 pair is two surrogates, not one character */
	check_int(DEC("\xed\xa0\xbd\xed\xb8\x80", NULL), ==, 0);
}

static void
t_range(void)
{
	check_int(DEC("\xf4\x90\x80\x80", NULL), ==, 0);
	check_int(DEC("\xf7\xbf\xbf\xbf", NULL), ==, 0);
	/* 5- and 6-byte forms of RFC 2279, and bytes never used */
	check_int(DEC("\xf8\x88\x80\x80\x80", NULL), ==, 0);
	check_int(DEC("\xfc\x84\x80\x80\x80\x80", NULL), ==, 0);
	check_int(DEC("\xfe", NULL), ==, 0);
	check_int(DEC("\xff", NULL), ==, 0);
}

static void
t_truncated(void)
{
	check_int(utf8_decode("a", 0, NULL), ==, 0);
	check_int(DEC("\x80", NULL), ==, 0);
	check_int(DEC("\xbf\x80", NULL), ==, 0);
	check_int(DEC("\xc3", NULL), ==, 0);
	check_int(DEC("\xc3z", NULL), ==, 0);
	check_int(DEC("\xe2\x82", NULL), ==, 0);
	check_int(DEC("\xe2\x82z", NULL), ==, 0);
	check_int(DEC("\xf0\x9f\x98", NULL), ==, 0);
	check_int(DEC("\xf0\x9f\x98\xc3\xa9", NULL), ==, 0);
	/* n cuts it, whatever follows in memory */
	check_int(utf8_decode("\xe2\x82\xac", 2, NULL), ==, 0);
	check_int(utf8_decode("\xf0\x9f\x98\x80", 3, NULL), ==, 0);
	/* a NUL ends a C string: not a continuation */
	check_int(utf8_decode("\xc3\0", 2, NULL), ==, 0);
}

static void
t_whole(void)
{
	check_int(utf8_valid("", 0), ==, 1);
	check_int(utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9), ==, 1);
	check_int(utf8_valid("caf\xc3", 4), ==, 0);	/* cut short */
	check_int(utf8_valid("\xc3\xa9\xff", 3), ==, 0);
	check_int(utf8_valid("a\xed\xa0\x80", 4), ==, 0);	/* surrogate */
}

int
main(void)
{
	TEST(t_valid(), "utf8_decode: 1 to 4 bytes, the edges of each length");
	TEST(t_overlong(), "utf8_decode rejects overlong forms");
	TEST(t_surrogates(), "utf8_decode rejects surrogates");
	TEST(t_range(), "utf8_decode rejects > U+10FFFF and 5-, 6-byte forms");
	TEST(t_truncated(), "utf8_decode rejects truncated sequences");
	TEST(t_whole(), "utf8_valid: all of a string, or not");
	return test_done();
}
