/*
 * farm.h: where the farm's state lives (buildfarm(7), FILES).
 *
 * farm_dir(dflag) returns the state directory: dflag (a tool's -d) if
 * not NULL, else $BUILDFARM_DIR, else /var/lib/buildfarm for root, else
 * $XDG_STATE_HOME/buildfarm, else $HOME/.local/state/buildfarm.
 * The string is static or dflag itself; never freed.
 *
 * farm_path(out, dflag, sub) appends farm_dir(dflag) + "/" + sub.
 */
#ifndef BF_FARM_H
#define BF_FARM_H

struct strbuf;

const char *farm_dir(const char *dflag);
void farm_path(struct strbuf *out, const char *dflag, const char *sub);

/*
 * Testing hook for crash tests: when the environment variable var
 * equals name, flush stdout and die by SIGKILL right here, so a test
 * can check that a crash at that point loses and repeats nothing.
 */
void farm_crash_point(const char *var, const char *name);

#endif
