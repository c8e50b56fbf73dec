/*
 * fetchref.c: one change ref fetched on demand, into a namespace of
 * the mirror's own.
 *
 * A try build wants a patch set's commit, which is on no branch: its
 * name upstream is Gerrit's refs/changes/NN/CHANGE/PATCHSET, and the
 * mirror may not have it yet.  fetch-ref brings that one ref, and no
 * other, into refs/buildfarm/changes/NN/CHANGE/PATCHSET: sync's fetch
 * neither overwrites nor prunes refs/buildfarm/ (GITX_PRIVATE,
 * lib/git.c), its record step leaves the namespace out of the corpus
 * (sync.c) and its push filter out of every downstream.
 *
 * Each fetch appends its time to the ref's reflog; sync deletes the
 * refs not fetched for CHANGES_KEEP_S, so that they do not pile up.
 * The commits stay in the mirror (nothing collects them), so a tarball
 * asked for again by id is still served after its ref is gone.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "git.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"

#define CHANGES		"refs/changes/"
#define LOCAL_CHANGES	GITX_PRIVATE "changes/"

/* digits at s, none leading 0, at most 9: their count, 0 if not so */
static size_t
number(const char *s, long *v)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 9 || s[0] == '0')
		return 0;
	*v = strtol(s, NULL, 10);
	return n;
}

int
changeref_ok(const char *ref)
{
	const char *p = ref;
	long change, ps;
	size_t n;
	int nn;

	if (strncmp(p, CHANGES, strlen(CHANGES)) != 0)
		return 0;
	p += strlen(CHANGES);
	if (strspn(p, "0123456789") != 2 || p[2] != '/')
		return 0;
	nn = (p[0] - '0') * 10 + (p[1] - '0');
	p += 3;
	if ((n = number(p, &change)) == 0 || p[n] != '/')
		return 0;
	p += n + 1;
	if ((n = number(p, &ps)) == 0 || p[n] != '\0')
		return 0;
	return change % 100 == nn;
}

void
changeref_local(struct strbuf *out, const char *ref)
{
	strbuf_addf(out, "%s%s", LOCAL_CHANGES, ref + strlen(CHANGES));
}

int
fetch_ref(struct repo_conf *r, const char *ref, char oid[GITX_HEXSZ + 1],
    struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, local = STRBUF_INIT;
	struct gitx_remote rm = { r->upstream, (int)r->timeout_s,
	    r->credentials, r->sshkey, r->knownhosts };
	int rc;

	/* a repo not synced yet: the mirror as sync would start it */
	farm_place(&path, cx.dir, FARM_MIRROR);
	if (mkdirs(path.buf) < 0) {
		strbuf_addf(err, "mirror directory '%s': %s", path.buf,
		    strerror(errno));
		rc = RC_TEMP;
		goto out;
	}
	strbuf_reset(&path);
	mirror_path(&path, r);
	if ((rc = gitx_init_mirror(path.buf, err)) != RC_OK)
		goto out;
	changeref_local(&local, ref);
	log_info("%s: fetch %s from %s", r->name, ref, esc(r->upstream));
	rc = gitx_fetch_ref(path.buf, &rm, ref, local.buf, oid, err);
out:
	strbuf_release(&path);
	strbuf_release(&local);
	return rc;
}

void
changes_expire(struct repo_conf *r, struct gitx_repo *g)
{
	struct strbuf err = STRBUF_INIT;
	size_t n = 0;

	if (gitx_refs_expire(g, LOCAL_CHANGES, (long long)time(NULL) -
	    CHANGES_KEEP_S, &n, &err) != RC_OK)
		log_warnx("%s: expire %s: %s", r->name, LOCAL_CHANGES,
		    esc(err.buf));
	if (n > 0)
		log_info("%s: deleted %zu change refs not fetched for %d "
		    "days", r->name, n, CHANGES_KEEP_S / 86400);
	strbuf_release(&err);
}
