/*
 * farmconf.h: the farm's configuration (buildfarm.conf(5)) as structs,
 * checked once for every tool.  lib/config.h is the raw reader under it;
 * the list of sections and keys, their types, defaults and ranges live
 * in farmconf.c and nowhere else.
 *
 *   farmconf_load(&fc, dir, want, warn, err)
 *       reads farm_place(dir, FARM_CONFIG) and fills fc.  RC_OK; RC_PERM
 *       when the file is missing, does not parse or has problems in the
 *       sections named by want (FC_* bits, FC_ALL for all of them);
 *       RC_TEMP on I/O errors.  err gets one line per problem, each
 *       ending in '\n', then "config 'PATH': N problems"; a problem
 *       names the file, the section and the key:
 *           config 'DIR/config': builder "linux-amd64": hosttype 'nope' is not defined
 *       warn gets a line per unknown section or key, which is not a
 *       problem:
 *           config 'DIR/config': unknown key 'mirorr' in [repo "go"] (ignored)
 *       A section's references are checked with it: FC_BUILDER implies
 *       FC_HOSTTYPE and FC_REPO.  Sections outside want are filled as far
 *       as they parse but must not be used.  On RC_OK *fcp is set and
 *       the caller frees it; otherwise *fcp is NULL.
 *   farmconf_free(fc)
 *
 * Lookups, all NULL when there is no such thing:
 *   farmconf_repo(fc, name)              [repo "name"]
 *   farmconf_repo_for_project(fc, p)     the repo of Gerrit project p:
 *       the repo whose gerrit-project is p, else [repo "p"] when it has no
 *       gerrit-project naming another project
 *   farmconf_gerrit(fc, name)            [gerrit "name"]
 *   farmconf_hosttype(fc, name)          [hosttype "name"]
 *   farmconf_builder(fc, name)           [builder "name"]
 * A repo's builders are r->builders, its TryBot set r->trybuilders, both
 * in file order.
 *
 * The structs are read-only after the load and may be shared between
 * threads.  Paths have "~/" expanded; durations are in seconds.
 */
#ifndef BF_FARMCONF_H
#define BF_FARMCONF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct builder_conf;

/* [repo "NAME"]: a Git repository (gitmirror(1), schedule) */
struct repo_conf {
	char *name;
	char *upstream;
	char **push;
	size_t npush;
	char **branch;			/* watched branches, short names */
	size_t nbranch;
	int64_t mirror;			/* bool */
	int64_t backfill;		/* commits recorded of a new branch */
	int64_t timeout_s;		/* one fetch or push */
	int64_t interval_s;		/* expected time between syncs */
	char *credentials;		/* netrc file, or NULL */
	char *sshkey;			/* or NULL */
	char *knownhosts;		/* or NULL */
	char *gerrit_project;		/* or NULL */
	/* filled from the [builder] sections */
	const struct builder_conf **builders;
	size_t nbuilders;
	const struct builder_conf **trybuilders;
	size_t ntrybuilders;
};

/* [gerrit "NAME"]: a Gerrit server (pollgerrit(1)) */
struct gerrit_conf {
	char *name;
	char *url;		/* scheme://host[:port][/prefix], no '/' at the end */
	char *host;		/* without the port */
	char *path;		/* the prefix: "" or "/prefix" */
	int https;
	char **projects;
	size_t nprojects;
	char *gitcookies;	/* readable at load time, or NULL */
	int64_t timeout_s;
	int64_t rate;		/* requests per second */
	int64_t overlap_s;
	int64_t pagesize;
	uint64_t maxbody;
	int has_since;
	int64_t since;		/* epoch seconds, when has_since */
};

enum pool_kind {
	POOL_STATIC,		/* the buildlet URLs listed */
	POOL_COMMAND,		/* create and destroy commands */
	POOL_REVERSE,		/* machines that dial in */
};

/* [hosttype "NAME"]: a kind of machine and where to get one (schedule) */
struct hosttype_conf {
	char *name;
	enum pool_kind pool;
	char **buildlet;	/* static: http:// or https:// URLs */
	size_t nbuildlet;
	char *password_file;	/* static: or NULL */
	char *create;		/* command: "%n" is the instance name */
	char *destroy;		/* command: or NULL */
	int64_t max;		/* command: machines at once */
	int64_t idle_s;		/* command: idle time before destroy */
	int64_t gomote_preempt;	/* bool: gomote users before post builds */
	int64_t gomote_idle_s;	/* a gomote instance's idle expiry */
};

/* [builder "NAME"]: what to run on which host type (schedule) */
struct builder_conf {
	char *name;
	const struct hosttype_conf *hosttype;
	const struct repo_conf *repo;	/* NULL: only for gomote */
	char **env;		/* KEY=VALUE */
	size_t nenv;
	char **run;		/* steps, each a /bin/sh -c line */
	size_t nrun;
	char *dir;		/* under the work dir, or NULL for itself */
	int64_t try;		/* bool: in its repo's TryBot set */
	int64_t timeout_s;	/* the whole build */
	int64_t step_timeout_s;	/* each step */
	int64_t backfill;	/* commits per branch built back when new */
	int64_t hold_s;		/* a failed build's machine kept this long */
};

struct farmconf {
	char *path;		/* the file */
	char *url;		/* [farm] url, or NULL */
	char *source;		/* [farm] source: gitmirror serve, or NULL */
	char *dashboard_dir;	/* [dashboard] dir, or NULL */
	struct repo_conf *repos;
	size_t nrepos;
	struct gerrit_conf *gerrits;
	size_t ngerrits;
	struct hosttype_conf *hosttypes;
	size_t nhosttypes;
	struct builder_conf *builders;
	size_t nbuilders;
};

enum farmconf_want {
	FC_FARM = 1 << 0,
	FC_REPO = 1 << 1,
	FC_GERRIT = 1 << 2,
	FC_HOSTTYPE = 1 << 3,
	FC_BUILDER = 1 << 4,
	FC_ALL = (1 << 5) - 1,
};

int farmconf_load(struct farmconf **fcp, const char *dir, int want,
    struct strbuf *warn, struct strbuf *err);
void farmconf_free(struct farmconf *fc);

const struct repo_conf *farmconf_repo(const struct farmconf *fc,
    const char *name);
const struct repo_conf *farmconf_repo_for_project(const struct farmconf *fc,
    const char *project);
const struct gerrit_conf *farmconf_gerrit(const struct farmconf *fc,
    const char *name);
const struct hosttype_conf *farmconf_hosttype(const struct farmconf *fc,
    const char *name);
const struct builder_conf *farmconf_builder(const struct farmconf *fc,
    const char *name);

/*
 * Append the dashboard's output directory (dashboard(1)): [dashboard]
 * dir, relative to the state directory dir unless absolute, else
 * farm_place(dir, FARM_WWW).  [dashboard] is read with FC_FARM; fc may
 * be NULL (no config: the default).
 */
void farmconf_www(struct strbuf *out, const struct farmconf *fc,
    const char *dir);

#endif
