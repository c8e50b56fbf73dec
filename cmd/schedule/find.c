/* find.c: scaffolding, replaced by the real command */
#include "compat.h"

#include "extern.h"
#include "log.h"
#include "rc.h"

int
cmd_find(int argc, char **argv)
{
	(void)argc;
	fatalx(RC_PERM, "%s: not built yet", argv[0]);
}

int
cmd_add(int argc, char **argv)
{
	(void)argc;
	fatalx(RC_PERM, "%s: not built yet", argv[0]);
}
