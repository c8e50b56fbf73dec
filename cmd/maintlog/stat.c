/*
 * stat: segments, records by type and totals (maintlog(1)).
 */
#include "compat.h"

#include <getopt.h>

#include "extern.h"

int
cmd_stat(int argc, char **argv)
{
	int ch, jflag = 0;

	while ((ch = getopt(argc, argv, "+j")) != -1) {
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	return walk(open_log(0), 0, jflag);
}
