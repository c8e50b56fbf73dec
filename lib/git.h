/*
 * git.h: what the farm needs from libgit2 (the only module that
 * includes <git2.h>).  For now: reading git-config syntax files.
 *
 * gitx_config_read(path, fn, arg, err) parses path with libgit2's
 * config parser and calls fn(name, value, arg) for every entry in file
 * order.  Names come normalised as git does: section and key lowercased,
 * subsection kept as written ("repo.Go.upstream" stays "repo.Go.upstream",
 * "Repo.go.Upstream" becomes "repo.go.upstream").  A key with no "="
 * (a bare boolean) has value NULL.  Returns RC_OK, RC_PERM on a syntax
 * error (err names the file and line) or RC_TEMP when the file cannot
 * be read; a missing file is RC_PERM with errno ENOENT kept in *enoent.
 */
#ifndef BF_GIT_H
#define BF_GIT_H

struct strbuf;

int gitx_config_read(const char *path,
    int (*fn)(const char *name, const char *value, void *arg), void *arg,
    int *enoent, struct strbuf *err);

#endif
