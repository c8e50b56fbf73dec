/*
 * git.h: what the farm needs from libgit2 (the only module that
 * includes <git2.h>): reading git-config syntax files, and the
 * repository operations of gitmirror(1).
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

/*
 * Repositories.  Object ids are 40 lowercase hex digits plus NUL
 * (GITX_HEXSZ + 1 bytes).  Every function returns an RC_* code and
 * fills err on failure.
 *
 * gitx_init_mirror(path) makes an empty bare repository at path unless
 * one is there (RC_OK either way).  gitx_open opens an existing one
 * (RC_PERM when there is none).
 */
#define GITX_HEXSZ 40

struct gitx_repo;

int gitx_init_mirror(const char *path, struct strbuf *err);
int gitx_open(struct gitx_repo **rp, const char *path, struct strbuf *err);
void gitx_close(struct gitx_repo *r);

/*
 * The direct refs of a repository, sorted by name (symbolic refs such
 * as HEAD are left out).  gitx_refs_free releases the array.
 */
struct gitx_ref {
	char *name;
	char oid[GITX_HEXSZ + 1];
};
int gitx_refs(struct gitx_repo *r, struct gitx_ref **refs, size_t *n,
    struct strbuf *err);
void gitx_refs_free(struct gitx_ref *refs, size_t n);
/*
 * Delete the refs whose names start with prefix and whose reflog's
 * newest entry is older than before (seconds since the epoch), or
 * which have no reflog (gitx_fetch_ref writes one).  *n gets the
 * number deleted.
 */
int gitx_refs_expire(struct gitx_repo *r, const char *prefix,
    long long before, size_t *n, struct strbuf *err);

/*
 * Talking to a remote.  Both calls run the transfer in a child process
 * (fork, no exec) that is killed when it takes longer than timeout_s
 * seconds, so that a server that accepts and then says nothing cannot
 * hold us: a transfer killed at any moment leaves the repository as it
 * was or as the remote had it (refs are updated only after the objects
 * are written).  Credentials: for HTTP(S), the host's entry in the
 * netrc-format file netrc (NULL: $NETRC, else ~/.netrc); for SSH, the
 * private key file sshkey (its public key beside it as KEY.pub, if
 * any), offered only to a server whose host key is in the known_hosts
 * file knownhosts (NULL: ~/.ssh/known_hosts) or in
 * /etc/ssh/ssh_known_hosts.  Secrets are never put in err.
 *
 * Results: RC_OK; RC_TEMP when the remote is unreachable, fails or
 * times out; RC_PERM when it refused our credentials or its SSH host
 * key is unknown, changed or revoked.
 */
struct gitx_remote {
	const char *url;
	int timeout_s;
	const char *netrc;
	const char *sshkey;
	const char *knownhosts;
};

/*
 * Refs under GITX_PRIVATE are the local repository's own: gitx_fetch
 * neither fetches nor prunes them, whatever the remote has.
 */
#define GITX_PRIVATE	"refs/buildfarm/"

/*
 * Fetch every ref (refs/star to refs/star, forced) with prune, and point
 * HEAD at the remote's default branch.
 */
int gitx_fetch(const char *path, const struct gitx_remote *rm,
    struct strbuf *err);
/*
 * Fetch the one ref src of rm into the local ref dst (forced, nothing
 * pruned) and append the time to dst's reflog; oid gets dst's new
 * target.  RC_NO when rm has no ref src.
 */
int gitx_fetch_ref(const char *path, const struct gitx_remote *rm,
    const char *src, const char *dst, char oid[GITX_HEXSZ + 1],
    struct strbuf *err);
/*
 * Push to rm: every local ref for which want(name) is 1 and that the
 * remote lacks or has elsewhere (forced); when mirror is set, also
 * delete remote refs for which want(name) is 1 that the local
 * repository lacks.  want is the program's filter, given to
 * gitx_child_main.  At most batch refs per push.  *npushed gets the
 * number of refs updated or deleted.
 */
int gitx_push(const char *path, const struct gitx_remote *rm, int mirror,
    size_t batch, size_t *npushed, struct strbuf *err);

/*
 * The transfers above run in a child that is this program exec'd again
 * (/proc/self/exe) with GITX_CHILD_ARG as its first argument, since a
 * fork of a process with threads may not run libgit2.  So a program
 * that calls them calls this first thing in main: it returns -1 when
 * argv[1] is not GITX_CHILD_ARG, else runs the transfer and returns the
 * child's exit code, for main to pass to _exit (no exit handlers: the
 * child writes no stdio, and libgit2 keeps allocations that a leak
 * checker at exit would report).  want is the push filter (see
 * gitx_push); NULL if the program does not push.
 */
#define GITX_CHILD_ARG	"--gitx-child"
int gitx_child_main(int argc, char **argv, int (*want)(const char *name));

/*
 * History.  gitx_walk lists the commits reachable from tip and from
 * none of hide[0..nhide) (hidden ids that do not exist are ignored),
 * with parents before children; with limit > 0, only the newest limit
 * of them (in topological order), still oldest first.  *oids is an
 * array of *n ids the caller frees.
 */
int gitx_walk(struct gitx_repo *r, const char *tip,
    const char *const *hide, size_t nhide, size_t limit,
    char (**oids)[GITX_HEXSZ + 1], size_t *n, struct strbuf *err);

struct gitx_sig {
	char *name, *email;
	long long time;		/* seconds since the epoch */
	int offset;		/* minutes east of UTC */
};
struct gitx_commit {
	char oid[GITX_HEXSZ + 1];
	char tree[GITX_HEXSZ + 1];
	char (*parents)[GITX_HEXSZ + 1];
	size_t nparents;
	struct gitx_sig author, committer;
	char *msg;		/* raw message, as stored */
};
int gitx_commit_read(struct gitx_repo *r, const char *oid,
    struct gitx_commit *c, struct strbuf *err);
void gitx_commit_release(struct gitx_commit *c);

/*
 * Resolve a revision (an id, an abbreviated id, a ref or a short ref
 * name) to a commit: its id, its tree and its committer time.  RC_NO
 * when rev names nothing or no commit.
 */
int gitx_resolve(struct gitx_repo *r, const char *rev,
    char commit[GITX_HEXSZ + 1], char tree[GITX_HEXSZ + 1],
    long long *ctime, struct strbuf *err);

/*
 * RC_OK when commit (an id) is tip (an id) or one of its ancestors,
 * RC_NO when it is not.
 */
int gitx_reaches(struct gitx_repo *r, const char *tip, const char *commit,
    struct strbuf *err);

/*
 * Walk a tree depth first in Git's tree order, calling fn for every
 * entry: path relative to the tree's root, mode as Git records it
 * (040000 tree, 0100644, 0100755, 0120000 symlink, 0160000 submodule),
 * and for blobs their contents (valid during the call).  A non-zero
 * return from fn stops the walk and is returned.
 */
struct gitx_entry {
	const char *path;
	unsigned mode;
	const char *oid;
	const void *data;
	size_t len;
};
int gitx_tree_walk(struct gitx_repo *r, const char *tree,
    int (*fn)(const struct gitx_entry *e, void *arg), void *arg,
    struct strbuf *err);

/*
 * Check the repository: every ref resolves, and every object reachable
 * from it exists and hashes to its id.  bad(ref, what, arg) is called
 * once per damaged ref.  RC_OK when all is well, RC_PERM when anything
 * was damaged, RC_TEMP when the check itself could not run.
 */
int gitx_fsck(struct gitx_repo *r,
    void (*bad)(const char *ref, const char *what, void *arg), void *arg,
    struct strbuf *err);

/*
 * The login and password for host in a netrc-format file (NULL:
 * $NETRC, else ~/.netrc).  RC_OK with *login and *password set (the
 * caller wipes and frees them), RC_NO when the file or the host's
 * entry is missing.
 */
int gitx_netrc(const char *path, const char *host, char **login,
    char **password);

/*
 * The ignore rules of the work tree that holds dir (.gitignore files,
 * .git/info/exclude, core.excludesFile), as git status applies them;
 * the work tree is found as git finds it (GIT_DIR,
 * GIT_CEILING_DIRECTORIES).
 * gitx_ignore_open returns RC_OK, or RC_NO when dir is in no work tree
 * (*ip is then NULL and nothing is ignored), or RC_TEMP.
 * gitx_ignored(ig, path) says whether path, relative to dir and '/'
 * separated, is ignored: 1 yes, 0 no (also for ig NULL), -1 on error.
 */
struct gitx_ignore;
int gitx_ignore_open(struct gitx_ignore **ip, const char *dir,
    struct strbuf *err);
int gitx_ignored(struct gitx_ignore *ig, const char *path);
void gitx_ignore_close(struct gitx_ignore *ig);

#endif
