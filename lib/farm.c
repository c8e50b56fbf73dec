#include "compat.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static const char *const places[FARM_NPLACES] = {
	[FARM_CONFIG] = "config",
	[FARM_CORPUS] = "corpus",
	[FARM_RESULTS] = "results",
	[FARM_BUILDLOGS] = "buildlogs",
	[FARM_SPOOL_TRY] = "spool/try",
	[FARM_SPOOL_WORK] = "spool/work",
	[FARM_STATE] = "state",
	[FARM_MIRROR] = "mirror",
	[FARM_CACHE] = "cache",
	[FARM_WWW] = "www",
	[FARM_KEYS] = "keys",
	[FARM_MASTER_KEY] = "keys/master",
	[FARM_FLAKY] = "flaky",
};

const char *
farm_place_name(enum farm_place p)
{
	return (unsigned)p < FARM_NPLACES ? places[p] : NULL;
}

int
farm_place_lookup(const char *name)
{
	int i;

	for (i = 0; i < FARM_NPLACES; i++)
		if (strcmp(places[i], name) == 0)
			return i;
	return -1;
}

void
farm_place(struct strbuf *out, const char *dir, enum farm_place p)
{
	strbuf_addf(out, "%s/%s", dir, places[p]);
}

void
farm_placef(struct strbuf *out, const char *dir, enum farm_place p,
    const char *fmt, ...)
{
	va_list ap;

	farm_place(out, dir, p);
	strbuf_addch(out, '/');
	va_start(ap, fmt);
	strbuf_vaddf(out, fmt, ap);
	va_end(ap);
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
