#include "compat.h"

#include <getopt.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"
#include "subcmd.h"

int
subcmd_run(const struct subcmd *cmds, size_t n, int argc, char **argv,
    struct strbuf *err)
{
	size_t i;

	if (argc < 1) {
		strbuf_addstr(err, "no command");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == n) {
		strbuf_addstr(err, "unknown command '");
		log_escape(err, argv[0], strlen(argv[0]));
		strbuf_addch(err, '\'');
		return -1;
	}
	/*
	 * optind = 0 makes glibc's getopt start over (its hidden state
	 * too, such as a half-scanned "-ab" cluster), and then scan from
	 * argv[1], past the command's name.
	 */
	optind = 0;
	return cmds[i].fn(argc, argv);
}
