#include "compat.h"

#include <sys/wait.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "log.h"
#include "strbuf.h"

/* log_escape(p, n) as a string, for check_str */
static const char *
escaped(const char *p, size_t n)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	log_escape(&sb, p, n);
	return sb.buf;
}
#define ESC(lit) escaped((lit), sizeof(lit) - 1)

static void
t_escape_ascii(void)
{
	check_str(ESC("plain text, 100% ASCII ~!"),
	    "plain text, 100% ASCII ~!");
	check_str(ESC("a\nb\tc\rd\\e"), "a\\nb\\tc\\rd\\\\e");
	check_str(ESC("\x01\x1b[2J\x7f"), "\\x01\\x1b[2J\\x7f");
	check_str(ESC("nul\0inside"), "nul\\x00inside");
	check_str(ESC(""), "");
}

static void
t_escape_utf8(void)
{
	/* valid UTF-8 of 2, 3 and 4 bytes passes */
	check_str(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check_str(ESC("\xc2\xa0"), "\xc2\xa0");		/* U+00A0 */
	check_str(ESC("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	/* invalid: stray bytes, truncated, overlong, surrogate, too big */
	check_str(ESC("\xff\xfe"), "\\xff\\xfe");
	check_str(ESC("\x80"), "\\x80");
	check_str(ESC("ab\xc3"), "ab\\xc3");
	check_str(ESC("\xe2\x82"), "\\xe2\\x82");
	check_str(ESC("\xc3(x"), "\\xc3(x");
	check_str(ESC("\xc0\xaf"), "\\xc0\\xaf");
	check_str(ESC("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	check_str(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	check_str(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	/* C1 controls are controls too */
	check_str(ESC("\xc2\x85\xc2\x9b"), "\\xc2\\x85\\xc2\\x9b");
}

static void
t_esc(void)
{
	const char *r[9];
	char name[8][8];
	int i;

	check_str(esc(NULL), "");
	check_str(esc("bad\nref"), "bad\\nref");
	check_str(escn("a\0b", 3), "a\\x00b");
	/* eight results can be used in one printf */
	for (i = 0; i < 8; i++) {
		snprintf(name[i], sizeof(name[i]), "s%d\t", i);
		r[i] = esc(name[i]);
	}
	for (i = 0; i < 8; i++) {
		char want[16];

		snprintf(want, sizeof(want), "s%d\\t", i);
		check_str(r[i], want);
	}
	/* the ninth reuses the first buffer */
	r[8] = esc("ninth");
	check(r[8] == r[0]);
	check_str(r[0], "ninth");
}

/* Each thread escapes its own name over and over; count wrong results. */
static void *
esc_loop(void *arg)
{
	const char *name = arg;
	char want[32];
	long bad = 0;
	int i;

	snprintf(want, sizeof(want), "%s\\n", name);
	for (i = 0; i < 20000; i++) {
		char in[32];
		const char *r;

		snprintf(in, sizeof(in), "%s\n", name);
		r = esc(in);
		if (strcmp(r, want) != 0)
			bad++;
	}
	return (void *)bad;
}

static void
t_esc_threads(void)
{
	static char names[4][16] = { "alpha", "bravo-bravo", "c", "delta.d" };
	pthread_t tid[4];
	void *bad;
	int i;

	for (i = 0; i < 4; i++)
		check_int(pthread_create(&tid[i], NULL, esc_loop, names[i]), ==,
		    0);
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], &bad);
		check_int((long)bad, ==, 0);
	}
}

static void
t_esc_truncate(void)
{
	char in[700];
	char want[700];
	const char *out;
	size_t i;

	/* exactly 512 bytes: whole, no "..." */
	memset(in, 'a', 512);
	in[512] = '\0';
	out = esc(in);
	check_int(strlen(out), ==, 512);
	check(strstr(out, "...") == NULL);

	/* 600 bytes: the first 512 and "..." */
	memset(in, 'a', 600);
	in[600] = '\0';
	out = esc(in);
	check_int(strlen(out), ==, 515);
	check(strncmp(out, in, 512) == 0);
	check_str(out + 512, "...");

	/* an escape is never cut in half: 511 a + "\n" escapes to 513 */
	memset(in, 'a', 511);
	in[511] = '\n';
	in[512] = '\0';
	out = esc(in);
	memset(want, 'a', 511);
	memcpy(want + 511, "...", 4);
	check_str(out, want);

	/* 510 a + "\x01": the 4-byte escape does not fit */
	memset(in, 'a', 510);
	memcpy(in + 510, "\x01z", 3);
	out = esc(in);
	memset(want, 'a', 510);
	memcpy(want + 510, "...", 4);
	check_str(out, want);

	/* nor a UTF-8 sequence: "\xe2\x82\xac" (3 bytes) at 510 */
	memset(in, 'b', 510);
	memcpy(in + 510, "\xe2\x82\xac", 4);
	out = esc(in);
	check_int(strlen(out), ==, 513);
	memset(want, 'b', 510);
	memcpy(want + 510, "...", 4);
	check_str(out, want);

	/*
	 * Long input cut inside a sequence: "xxx" and then "\xc3\xa9"s put
	 * a continuation byte at 512; no \xNN of half a character.
	 */
	memcpy(in, "xxx", 3);
	for (i = 3; i + 2 <= 600; i += 2)
		memcpy(in + i, "\xc3\xa9", 2);
	in[i] = '\0';
	out = esc(in);
	check(strstr(out, "\\x") == NULL);
	check_int(strlen(out), ==, 511 + 3);
	check_str(out + 511, "...");
}

/* Run fn with stderr going to a file; return what it wrote. */
static const char *
stderr_of(void (*fn)(void))
{
	static struct strbuf sb = STRBUF_INIT;
	char tmpl[] = "/tmp/u-log.XXXXXX";
	int fd, saved;

	strbuf_reset(&sb);
	fd = mkstemp(tmpl);
	if (fd < 0)
		return "(mkstemp failed)";
	unlink(tmpl);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	(void)strbuf_read_fd(&sb, fd, 0);
	close(fd);
	return sb.buf;
}

static void
do_warnx(void)
{
	log_warnx("bad ref '%s'", "a\nb\x1b" "c\td");
}

static void
do_warn(void)
{
	errno = ENOENT;
	log_warn("open %s", "x");
}

static void
do_info(void)
{
	log_info("info %d", 1);
	log_debug("debug %d", 2);
}

static void
do_long(void)
{
	static char big[5000];

	memset(big, 'L', sizeof(big) - 1);
	log_warnx("%s", big);
}

static void
do_long_warn(void)
{
	static char big[5000];

	memset(big, 'L', sizeof(big) - 1);
	errno = EPIPE;
	log_warn("%s", big);
}

static void
t_messages(void)
{
	const char *out;

	prog_init("/usr/local/bin/tool");
	check_str(prog_name(), "tool");
	prog_init("");	/* ignored */
	check_str(prog_name(), "tool");
	/* control characters but tab become '?', one line */
	check_str(stderr_of(do_warnx), "tool: bad ref 'a?b?c\td'\n");
	check_str(stderr_of(do_warn),
	    "tool: open x: No such file or directory\n");
	log_verbose = 0;
	check_str(stderr_of(do_info), "");
	log_verbose = 1;
	check_str(stderr_of(do_info), "tool: info 1\n");
	log_verbose = 2;
	check_str(stderr_of(do_info), "tool: info 1\ntool: debug 2\n");
	log_verbose = 0;
	/* a message too long for one line is cut and marked */
	out = stderr_of(do_long);
	check_int(strlen(out), ==, 4000 + 4);
	check(strncmp(out, "tool: LLL", 9) == 0);
	check_str(out + strlen(out) - 5, "L...\n");
	/* the reason of a _warn survives the cut */
	out = stderr_of(do_long_warn);
	check_str(out + 3996, "LLLL...: Broken pipe\n");
}

static void
t_fatal(void)
{
	int p[2], st = 0;
	pid_t pid;
	char buf[128];
	ssize_t n;

	if (pipe(p) < 0) {
		check(!"pipe");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		prog_init("ftool");
		errno = EACCES;
		fatal(111, "write %s", "f");
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	check(WIFEXITED(st));
	check_int(WEXITSTATUS(st), ==, 111);
	check(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	check_str(buf, "ftool: write f: Permission denied\n");

	if (pipe(p) < 0)
		return;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		prog_init("ftool");
		fatalx(100, "usage");
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	check_int(WEXITSTATUS(st), ==, 100);
	buf[n > 0 ? n : 0] = '\0';
	check_str(buf, "ftool: usage\n");
}

int
main(void)
{
	TEST(t_escape_ascii(), "log_escape: controls, backslash, NUL");
	TEST(t_escape_utf8(), "log_escape: valid UTF-8 passes, invalid: \\xNN");
	TEST(t_esc(), "esc/escn: NULL, NULs, eight rotating buffers");
	TEST(t_esc_threads(), "esc: each thread has its own buffers");
	TEST(t_esc_truncate(), "esc cuts at 512 bytes, never inside a unit");
	TEST(t_messages(), "warn/info/debug: prog name, filtering, length");
	TEST(t_fatal(), "fatal and fatalx print and exit with the code");
	return test_done();
}
