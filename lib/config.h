/*
 * config.h: the farm's configuration file (buildfarm.conf(5)), in
 * git-config syntax, read through libgit2's parser (lib/git.c).
 *
 * The whole file is read once into memory; lookups are then cheap and
 * the struct may be shared read-only between threads.
 *
 * Keys are "section.key" or "section.subsection.key" with section and
 * key in lowercase (as git normalises them) and the subsection as
 * written:  config_get(c, "repo.go.upstream").
 *
 *   config_load(&c, path, flags, err)  RC_OK, RC_PERM (syntax, missing
 *                                      file unless CONFIG_MISSING_OK),
 *                                      RC_TEMP (I/O)
 *   config_get(c, key)                 last value, or NULL
 *   config_get_all(c, key, &vals)      every value in file order
 *   config_subsections(c, sec, &names) distinct subsections of a
 *                                      section, in first-seen order
 *   config_names(c, &names)            every key set, in file order, as
 *                                      often as it is set
 *   config_bool / config_int           typed values with a default;
 *                                      -1 and err on a bad value
 *   config_free(c)
 *
 * What the sections and keys mean, and which there are, is
 * lib/farmconf.h's business.
 *
 * A bare key ("[repo "x"] mirror" with no "=") is boolean true and its
 * string value is "".
 */
#ifndef BF_CONFIG_H
#define BF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct config;

enum config_flags {
	CONFIG_MISSING_OK = 1 << 0,	/* a missing file is an empty config */
};

int config_load(struct config **cp, const char *path, int flags,
    struct strbuf *err);
void config_free(struct config *c);
const char *config_path(const struct config *c);

const char *config_get(const struct config *c, const char *key);
size_t config_get_all(const struct config *c, const char *key,
    const char ***vals);
size_t config_subsections(const struct config *c, const char *section,
    const char ***names);
int config_bool(const struct config *c, const char *key, int def, int *out,
    struct strbuf *err);
int config_int(const struct config *c, const char *key, int64_t min,
    int64_t max, int64_t def, int64_t *out, struct strbuf *err);
size_t config_names(const struct config *c, const char ***names);

#endif
