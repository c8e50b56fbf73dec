/* key.c: scaffolding, replaced by the real command */
#include "compat.h"

#include "extern.h"
#include "log.h"
#include "rc.h"

int
cmd_key(int argc, char **argv)
{
	(void)argc;
	fatalx(RC_PERM, "%s: not built yet", argv[0]);
}
