/*
 * farm.h: where the farm's state lives (buildfarm(7), FILES; DESIGN §2).
 *
 * farm_dir(dflag) returns the state directory: dflag (a tool's -d) if
 * not NULL, else $BUILDFARM_DIR, else /var/lib/buildfarm for root, else
 * $XDG_STATE_HOME/buildfarm, else $HOME/.local/state/buildfarm.
 * The string is static or dflag itself; never freed.
 *
 * The layout is named here and nowhere else: a tool asks for a place,
 * never spells "%s/corpus".
 *
 *   farm_place(out, dir, FARM_CORPUS)         appends "DIR/corpus"
 *   farm_placef(out, dir, FARM_STATE, "gitmirror/%s.ok", name)
 *                                             appends "DIR/state/gitmirror/NAME.ok"
 *   farm_place_name(FARM_RESULTS)             "results"
 *   farm_place_lookup("results")              FARM_RESULTS, or -1
 *
 * dir is a state directory (farm_dir's answer).  farm_path(out, dflag,
 * sub) is the older form, farm_dir(dflag) + "/" + sub, kept for paths
 * given by the user.
 */
#ifndef BF_FARM_H
#define BF_FARM_H

struct strbuf;

enum farm_place {
	FARM_CONFIG,		/* config              buildfarm.conf(5) */
	FARM_CORPUS,		/* corpus/             git, gerrit records */
	FARM_RESULTS,		/* results/            result, attempt, retract */
	FARM_BUILDLOGS,		/* buildlogs/          ab/HASH.gz */
	FARM_SPOOL_TRY,		/* spool/try/          try work from pollgerrit */
	FARM_SPOOL_WORK,	/* spool/work/         builds asked for by hand */
	FARM_STATE,		/* state/              cursors, per tool */
	FARM_MIRROR,		/* mirror/             NAME.git */
	FARM_CACHE,		/* cache/              gitmirror tarballs */
	FARM_WWW,		/* www/                dashboard output */
	FARM_KEYS,		/* keys/               master */
	FARM_MASTER_KEY,	/* keys/master         32 bytes, mode 0600 */
	FARM_FLAKY,		/* flaky               retrybuilds' patterns */
	FARM_NPLACES,
};

const char *farm_dir(const char *dflag);
void farm_path(struct strbuf *out, const char *dflag, const char *sub);

void farm_place(struct strbuf *out, const char *dir, enum farm_place p);
void farm_placef(struct strbuf *out, const char *dir, enum farm_place p,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *farm_place_name(enum farm_place p);
int farm_place_lookup(const char *name);

/*
 * Testing hook for crash tests: when the environment variable var
 * equals name, flush stdout and die by SIGKILL right here, so a test
 * can check that a crash at that point loses and repeats nothing.
 */
void farm_crash_point(const char *var, const char *name);

#endif
