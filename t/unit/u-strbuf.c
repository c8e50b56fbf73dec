#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "strbuf.h"

static void
t_init(void)
{
	struct strbuf sb = STRBUF_INIT;

	check(sb.buf != NULL);
	check_str(sb.buf, "");
	check_int(sb.len, ==, 0);
	check_int(sb.alloc, ==, 0);
	/* resetting the shared empty string is harmless */
	strbuf_reset(&sb);
	check(sb.buf == strbuf_empty);
	strbuf_init(&sb, 100);
	check_int(sb.alloc, >=, 101);
	check_int(sb.len, ==, 0);
	check_str(sb.buf, "");
	strbuf_release(&sb);
	check(sb.buf == strbuf_empty);
	check_int(sb.alloc, ==, 0);
}

static void
t_add(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, '-');
	strbuf_add(&sb, "xyz", 2);
	check_str(sb.buf, "abc-xy");
	check_int(sb.len, ==, 6);
	check_int(sb.alloc, >, sb.len);
	/* data may hold NULs; buf[len] is still a NUL */
	strbuf_add(&sb, "\0z", 2);
	check_int(sb.len, ==, 8);
	check(memcmp(sb.buf, "abc-xy\0z", 9) == 0);
	strbuf_setlen(&sb, 3);
	check_str(sb.buf, "abc");
	strbuf_reset(&sb);
	check_str(sb.buf, "");
	check_int(sb.len, ==, 0);
	strbuf_addstr(&sb, "");
	check_int(sb.len, ==, 0);
	strbuf_release(&sb);
}

static void
t_addf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char big[1001];

	strbuf_addf(&sb, "%s=%d", "k", 42);
	check_str(sb.buf, "k=42");
	strbuf_addf(&sb, "%s", "");
	check_int(sb.len, ==, 4);
	/* longer than the first guess: formatted a second time */
	memset(big, 'q', 1000);
	big[1000] = '\0';
	strbuf_addf(&sb, "[%s]", big);
	check_int(sb.len, ==, 4 + 1002);
	check(sb.buf[4] == '[' && sb.buf[5] == 'q' && sb.buf[1004] == 'q');
	check_int(sb.buf[1005], ==, ']');
	check_int(sb.buf[1006], ==, '\0');
	check_int(strlen(sb.buf), ==, 1006);
	strbuf_release(&sb);
}

static void
t_detach(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *s;

	/* even an empty strbuf detaches to a string the caller frees */
	s = strbuf_detach(&sb, &len);
	check(s != NULL && s != strbuf_empty);
	check_str(s, "");
	check_int(len, ==, 0);
	free(s);
	strbuf_addstr(&sb, "kept");
	s = strbuf_detach(&sb, &len);
	check_str(s, "kept");
	check_int(len, ==, 4);
	check(sb.buf == strbuf_empty);
	check_int(sb.len, ==, 0);
	check_int(sb.alloc, ==, 0);
	free(s);
	s = strbuf_detach(&sb, NULL);
	free(s);
}

static void
t_grow(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_grow(&sb, 10);
	check_int(sb.alloc, >=, 11);
	check_str(sb.buf, "");
	for (i = 0; i < 10000; i++)
		strbuf_addch(&sb, 'a' + (int)(i % 26));
	check_int(sb.len, ==, 10000);
	check_int(sb.alloc, >, 10000);
	check_int(sb.buf[9999], ==, 'a' + 9999 % 26);
	check_int(sb.buf[10000], ==, '\0');
	strbuf_release(&sb);
}

static void
t_rtrim(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, " lead stays \t\r\n \n");
	strbuf_rtrim(&sb);
	check_str(sb.buf, " lead stays");
	check_int(sb.len, ==, 11);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, " \t\n");
	strbuf_rtrim(&sb);
	check_str(sb.buf, "");
	check_int(sb.len, ==, 0);
	strbuf_release(&sb);
	strbuf_rtrim(&sb);	/* on the shared empty string */
	check_int(sb.len, ==, 0);
}

/* A file holding n bytes of a known pattern, opened for reading. */
static int
pattern_fd(size_t n)
{
	char tmpl[] = "/tmp/u-strbuf.XXXXXX";
	char *buf = malloc(n ? n : 1);
	size_t i;
	int fd;

	for (i = 0; i < n; i++)
		buf[i] = (char)('A' + i % 23);
	fd = mkstemp(tmpl);
	if (fd >= 0) {
		unlink(tmpl);
		if (write(fd, buf, n) != (ssize_t)n ||
		    lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			fd = -1;
		}
	}
	free(buf);
	return fd;
}

static void
t_read_fd(void)
{
	struct strbuf sb = STRBUF_INIT;
	int fd;

	/* more than one 64 KiB read, appended after what was there */
	strbuf_addstr(&sb, ">");
	fd = pattern_fd(200000);
	check(fd >= 0);
	check_int(strbuf_read_fd(&sb, fd, 0), ==, 200000);
	check_int(sb.len, ==, 200001);
	check_int(sb.buf[0], ==, '>');
	check_int(sb.buf[1], ==, 'A');
	check_int(sb.buf[200000], ==, 'A' + 199999 % 23);
	check_int(sb.buf[200001], ==, '\0');
	close(fd);

	/* exactly the limit is fine */
	strbuf_reset(&sb);
	fd = pattern_fd(100);
	check_int(strbuf_read_fd(&sb, fd, 100), ==, 100);
	close(fd);

	/* one byte over: EFBIG, and the first max bytes are kept */
	strbuf_reset(&sb);
	fd = pattern_fd(101);
	errno = 0;
	check_int(strbuf_read_fd(&sb, fd, 100), ==, -1);
	check_int(errno, ==, EFBIG);
	check_int(sb.len, ==, 100);
	close(fd);

	/* a limit counts only what this call adds */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "0123456789");
	fd = pattern_fd(5);
	check_int(strbuf_read_fd(&sb, fd, 5), ==, 5);
	check_str(sb.buf, "0123456789ABCDE");
	close(fd);

	/* empty input, and a bad descriptor */
	fd = pattern_fd(0);
	check_int(strbuf_read_fd(&sb, fd, 0), ==, 0);
	close(fd);
	errno = 0;
	check_int(strbuf_read_fd(&sb, -1, 0), ==, -1);
	check_int(errno, ==, EBADF);
	check_int(sb.len, ==, 15);
	strbuf_release(&sb);
}

static void
t_getline(void)
{
	static char text[] = "one\ntwo\n\nexactly5\ntoo long line\nx\nlast";
	struct strbuf sb = STRBUF_INIT;
	FILE *fp;

	fp = fmemopen(text, strlen(text), "r");
	if (fp == NULL) {
		check(!"fmemopen");
		return;
	}
	check_int(strbuf_getline(&sb, fp, 0), ==, 0);
	check_str(sb.buf, "one");
	strbuf_addstr(&sb, "junk");	/* replaced, not appended to */
	check_int(strbuf_getline(&sb, fp, 0), ==, 0);
	check_str(sb.buf, "two");
	check_int(strbuf_getline(&sb, fp, 0), ==, 0);
	check_str(sb.buf, "");
	check_int(strbuf_getline(&sb, fp, 8), ==, 0);
	check_str(sb.buf, "exactly5");
	/* too long: -2, the first max bytes, the rest of the line eaten */
	check_int(strbuf_getline(&sb, fp, 8), ==, -2);
	check_str(sb.buf, "too long");
	check_int(strbuf_getline(&sb, fp, 8), ==, 0);
	check_str(sb.buf, "x");
	/* a last line without '\n' is a line */
	check_int(strbuf_getline(&sb, fp, 0), ==, 0);
	check_str(sb.buf, "last");
	check_int(strbuf_getline(&sb, fp, 0), ==, EOF);
	check_str(sb.buf, "");
	fclose(fp);
	strbuf_release(&sb);
}

int
main(void)
{
	TEST(t_init(), "a fresh strbuf is an empty string, never NULL");
	TEST(t_add(), "add, addstr, addch, setlen, reset; NULs kept");
	TEST(t_addf(), "addf, also past the first buffer size");
	TEST(t_detach(), "detach hands over a string, even an empty one");
	TEST(t_grow(), "grow and many small appends");
	TEST(t_rtrim(), "rtrim removes trailing whitespace only");
	TEST(t_read_fd(), "read_fd: large input, limits, errors");
	TEST(t_getline(), "getline: lines, empty lines, limit, last line");
	return test_done();
}
