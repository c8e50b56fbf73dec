#include "compat.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"
#include "subcmd.h"
#include "tap.h"

static char seen[64];

/* "a [-x] [-y arg] operand": record what getopt gave */
static int
cmd_a(int argc, char **argv)
{
	int ch;

	seen[0] = '\0';
	while ((ch = getopt(argc, argv, "+xy:")) != -1) {
		size_t n = strlen(seen);

		if (ch == 'y')
			snprintf(seen + n, sizeof(seen) - n, "y=%s,", optarg);
		else
			snprintf(seen + n, sizeof(seen) - n, "%c,", ch);
	}
	if (optind < argc) {
		size_t n = strlen(seen);

		snprintf(seen + n, sizeof(seen) - n, "op=%s", argv[optind]);
	}
	return 42;
}

static int
cmd_b(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const struct subcmd cmds[] = {
	{ "a", cmd_a },
	{ "b", cmd_b },
};

static void
t_run(void)
{
	struct strbuf err = STRBUF_INIT;
	char a0[] = "tool", a1[] = "-vx", a2[] = "a", a3[] = "-xy", a4[] = "v",
	    a5[] = "op";
	char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
	int ch;

	/* the tool's own options, stopped inside a cluster */
	opterr = 0;
	ch = getopt(6, argv, "+v");
	check_int(ch, ==, 'v');
	/* the command parses from its argv[1], with no state left over */
	check_int(subcmd_run(cmds, 2, 4, argv + 2, &err), ==, 42);
	check_str(seen, "x,y=v,op=op");
	check_int(err.len, ==, 0);
	strbuf_release(&err);
}

static void
t_unknown(void)
{
	struct strbuf err = STRBUF_INIT;
	char a0[] = "fr\nob";
	char *argv[] = { a0, NULL };

	check_int(subcmd_run(cmds, 2, 1, argv, &err), ==, -1);
	check_str(err.buf, "unknown command 'fr\\nob'");
	strbuf_reset(&err);
	check_int(subcmd_run(cmds, 2, 0, argv + 1, &err), ==, -1);
	check_str(err.buf, "no command");
	strbuf_release(&err);
}

int
main(void)
{
	TEST(t_run(), "the command runs with getopt reset for it");
	TEST(t_unknown(), "an unknown command: -1 and its name, escaped");
	return test_done();
}
