#include "compat.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "farm.h"
#include "strbuf.h"

const char *
farm_dir(const char *dflag)
{
	static struct strbuf dir = STRBUF_INIT;
	const char *s;

	if (dflag != NULL && *dflag != '\0')
		return dflag;
	if ((s = getenv("BUILDFARM_DIR")) != NULL && *s != '\0')
		return s;
	if (geteuid() == 0)
		return "/var/lib/buildfarm";
	if (dir.len == 0) {
		if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
			strbuf_addf(&dir, "%s/buildfarm", s);
		else
			strbuf_addf(&dir, "%s/.local/state/buildfarm",
			    (s = getenv("HOME")) != NULL ? s : "");
	}
	return dir.buf;
}

void
farm_path(struct strbuf *out, const char *dflag, const char *sub)
{
	strbuf_addf(out, "%s/%s", farm_dir(dflag), sub);
}

void
farm_crash_point(const char *var, const char *name)
{
	const char *at = getenv(var);

	if (at != NULL && strcmp(at, name) == 0) {
		fflush(stdout);
		raise(SIGKILL);
	}
}
