#include "compat.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <git2.h>

#include "atomicfile.h"
#include "git.h"
#include "proc.h"
#include "rc.h"
#include "sshhosts.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init(void)
{
	git_libgit2_init();
	/*
	 * Reads trust the object database, as git's own readers do: every
	 * object was hashed when it came in (the indexer checks a fetched
	 * pack), and zlib's checksum still catches a damaged one.  Hashing
	 * each blob again on every read doubled the CPU time of an archive.
	 * gitx_fsck turns the check on for the whole process.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
}

struct cbarg {
	int (*fn)(const char *, const char *, void *);
	void *arg;
};

static int
each(const git_config_entry *e, void *p)
{
	struct cbarg *a = p;

	return a->fn(e->name, e->value, a->arg);
}

int
gitx_config_read(const char *path,
    int (*fn)(const char *name, const char *value, void *arg), void *arg,
    int *enoent, struct strbuf *err)
{
	git_config *cfg = NULL;
	struct cbarg a = { fn, arg };
	struct stat st;
	const git_error *ge;
	int rc;

	pthread_once(&once, init);
	*enoent = 0;
	/* libgit2 treats a missing file as empty; we want to know */
	if (stat(path, &st) < 0) {
		*enoent = errno == ENOENT;
		strbuf_addf(err, "read config '%s': %s", path, strerror(errno));
		return errno == ENOENT ? RC_PERM : RC_TEMP;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_addf(err, "read config '%s': not a regular file", path);
		return RC_PERM;
	}
	if (git_config_open_ondisk(&cfg, path) < 0) {
		ge = git_error_last();
		strbuf_addf(err, "config '%s': %s", path,
		    ge != NULL ? ge->message : "parse error");
		return RC_PERM;
	}
	rc = git_config_foreach(cfg, each, &a);
	git_config_free(cfg);
	if (rc < 0) {
		ge = git_error_last();
		strbuf_addf(err, "config '%s': %s", path,
		    ge != NULL ? ge->message : "read error");
		return RC_PERM;
	}
	return rc == 0 ? RC_OK : rc;
}

/* Repositories. */

struct gitx_repo {
	git_repository *repo;
};

static const char *
gmsg(void)
{
	const git_error *ge = git_error_last();

	return ge != NULL && ge->message != NULL ? ge->message : "unknown error";
}

int
gitx_init_mirror(const char *path, struct strbuf *err)
{
	git_repository *repo = NULL;

	pthread_once(&once, init);
	if (git_repository_open_bare(&repo, path) == 0) {
		git_repository_free(repo);
		return RC_OK;
	}
	if (git_repository_init(&repo, path, 1) < 0) {
		strbuf_addf(err, "init '%s': %s", path, gmsg());
		return RC_TEMP;
	}
	git_repository_free(repo);
	return RC_OK;
}

int
gitx_open(struct gitx_repo **rp, const char *path, struct strbuf *err)
{
	git_repository *repo;
	int rc;

	pthread_once(&once, init);
	if ((rc = git_repository_open_bare(&repo, path)) < 0) {
		strbuf_addf(err, "open '%s': %s", path, gmsg());
		return rc == GIT_ENOTFOUND ? RC_PERM : RC_TEMP;
	}
	*rp = xcalloc(1, sizeof(**rp));
	(*rp)->repo = repo;
	return RC_OK;
}

void
gitx_close(struct gitx_repo *r)
{
	if (r == NULL)
		return;
	git_repository_free(r->repo);
	free(r);
}

static int
refcmp(const void *a, const void *b)
{
	return strcmp(((const struct gitx_ref *)a)->name,
	    ((const struct gitx_ref *)b)->name);
}

int
gitx_refs(struct gitx_repo *r, struct gitx_ref **refs, size_t *n,
    struct strbuf *err)
{
	git_reference_iterator *it;
	git_reference *ref;
	struct gitx_ref *v = NULL;
	size_t nv = 0, av = 0;
	int e;

	if (git_reference_iterator_new(&it, r->repo) < 0) {
		strbuf_addf(err, "list refs: %s", gmsg());
		return RC_TEMP;
	}
	while ((e = git_reference_next(&ref, it)) == 0) {
		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
			if (nv == av) {
				av = av ? 2 * av : 64;
				v = xreallocarray(v, av, sizeof(*v));
			}
			v[nv].name = xstrdup(git_reference_name(ref));
			git_oid_tostr(v[nv].oid, sizeof(v[nv].oid),
			    git_reference_target(ref));
			nv++;
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (e != GIT_ITEROVER) {
		strbuf_addf(err, "list refs: %s", gmsg());
		gitx_refs_free(v, nv);
		return RC_TEMP;
	}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), refcmp);
	*refs = v;
	*n = nv;
	return RC_OK;
}

void
gitx_refs_free(struct gitx_ref *refs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(refs[i].name);
	free(refs);
}

int
gitx_refs_expire(struct gitx_repo *r, const char *prefix, long long before,
    size_t *n, struct strbuf *err)
{
	struct gitx_ref *v;
	git_reflog *log;
	const git_reflog_entry *e;
	size_t nv, i, pl = strlen(prefix);
	int rc;

	*n = 0;
	if ((rc = gitx_refs(r, &v, &nv, err)) != RC_OK)
		return rc;
	for (i = 0; i < nv && rc == RC_OK; i++) {
		if (strncmp(v[i].name, prefix, pl) != 0)
			continue;
		if (git_reflog_read(&log, r->repo, v[i].name) < 0) {
			strbuf_addf(err, "reflog %s: %s", v[i].name, gmsg());
			rc = RC_TEMP;
			break;
		}
		/* entry 0 is the newest; none (a ref made by hand): old */
		e = git_reflog_entry_byindex(log, 0);
		if (e == NULL ||
		    git_reflog_entry_committer(e)->when.time < before) {
			if (git_reference_remove(r->repo, v[i].name) < 0) {
				strbuf_addf(err, "delete %s: %s", v[i].name,
				    gmsg());
				rc = RC_TEMP;
			} else {
				/* libgit2 leaves a reflog of a loose ref */
				git_reflog_delete(r->repo, v[i].name);
				(*n)++;
			}
		}
		git_reflog_free(log);
	}
	gitx_refs_free(v, nv);
	return rc;
}

static char *
next_tok(char **sp)
{
	char *s = *sp, *e;

	s += strspn(s, " \t\r\n");
	if (*s == '\0')
		return NULL;
	e = s + strcspn(s, " \t\r\n");
	if (*e != '\0')
		*e++ = '\0';
	*sp = e;
	return s;
}

/* netrc: "machine HOST login L password P", tokens in any layout. */
int
gitx_netrc(const char *path, const char *host, char **login,
    char **password)
{
	struct strbuf p = STRBUF_INIT, buf = STRBUF_INIT;
	const char *home, *tok[3] = { NULL, NULL, NULL };
	char *s, *t;
	int fd, in = 0, rc = RC_NO;

	if (path == NULL)
		path = getenv("NETRC");
	if (path == NULL) {
		if ((home = getenv("HOME")) == NULL)
			return RC_NO;
		strbuf_addf(&p, "%s/.netrc", home);
		path = p.buf;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || strbuf_read_fd(&buf, fd, 1 << 20) < 0) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	for (s = buf.buf; (t = next_tok(&s)) != NULL;) {
		if (strcmp(t, "machine") == 0 || strcmp(t, "default") == 0) {
			if (in && tok[1] != NULL && tok[2] != NULL)
				break;
			in = strcmp(t, "default") == 0;
			if (!in && (t = next_tok(&s)) != NULL)
				in = strcmp(t, host) == 0;
			tok[1] = tok[2] = NULL;
		} else if (in && strcmp(t, "login") == 0) {
			tok[1] = next_tok(&s);
		} else if (in && strcmp(t, "password") == 0) {
			tok[2] = next_tok(&s);
		}
	}
	if (in && tok[1] != NULL && tok[2] != NULL) {
		*login = xstrdup(tok[1]);
		*password = xstrdup(tok[2]);
		rc = RC_OK;
	}
out:
	bf_wipe(buf.buf, buf.len);
	strbuf_release(&buf);
	strbuf_release(&p);
	return rc;
}

/* Transfers, in a child process with a deadline. */

struct pushx {
	int (*want)(const char *);
	int mirror;
	size_t batch;
	size_t npushed;
	int rejected;
	int efd;
};

struct xfer {
	const struct gitx_remote *rm;
	int tries;		/* credential requests since a connect */
	int auth_failed;	/* our credentials were refused or missing */
	int hostkey_failed;	/* the server's SSH key is not known */
	struct pushx *p;
	const char *src, *dst;	/* gitx_fetch_ref's */
};

/*
 * SSH: the server's host key must be in rm->knownhosts (NULL:
 * ~/.ssh/known_hosts) or /etc/ssh/ssh_known_hosts, before any key of
 * ours is offered.  TLS certificates are libgit2's to check.
 */
static int
cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct xfer *x = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	struct strbuf err = STRBUF_INIT, user = STRBUF_INIT;
	const char *files[2], *home;
	size_t n = 0;
	int rc;

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	if (x->rm->knownhosts != NULL)
		files[n++] = x->rm->knownhosts;
	else if ((home = getenv("HOME")) != NULL) {
		strbuf_addf(&user, "%s/.ssh/known_hosts", home);
		files[n++] = user.buf;
	}
	files[n++] = "/etc/ssh/ssh_known_hosts";
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		strbuf_addstr(&err, "ssh: libgit2 gave no host key to check");
		rc = RC_PERM;
	} else
		rc = sshhosts_check(files, n, host,
		    sshhosts_url_port(x->rm->url),
		    (const unsigned char *)hk->hostkey, hk->hostkey_len, &err);
	if (rc != RC_OK) {
		git_error_set_str(GIT_ERROR_SSH, err.buf);
		x->hostkey_failed = rc == RC_PERM;
	}
	strbuf_release(&err);
	strbuf_release(&user);
	return rc == RC_OK ? 0 : GIT_ECERTIFICATE;
}

static int
cred_cb(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *payload)
{
	struct xfer *x = payload;
	struct strbuf host = STRBUF_INIT, pub = STRBUF_INIT;
	const char *h, *e;
	char *login = NULL, *pass = NULL;
	int rc = GIT_PASSTHROUGH;

	if (x->tries++ > 0) {
		x->auth_failed = 1;
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && x->rm->sshkey != NULL) {
		strbuf_addf(&pub, "%s.pub", x->rm->sshkey);
		rc = git_credential_ssh_key_new(out, user ? user : "git",
		    access(pub.buf, R_OK) == 0 ? pub.buf : NULL,
		    x->rm->sshkey, NULL);
	} else if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		h = strstr(url, "://");
		h = h != NULL ? h + 3 : url;
		if ((e = strchr(h, '@')) != NULL && e < h + strcspn(h, "/"))
			h = e + 1;
		strbuf_add(&host, h, strcspn(h, ":/"));
		if (gitx_netrc(x->rm->netrc, host.buf, &login, &pass) ==
		    RC_OK) {
			rc = git_credential_userpass_plaintext_new(out, login,
			    pass);
			bf_wipe(pass, strlen(pass));
		}
		free(login);
		free(pass);
	}
	if (rc == GIT_PASSTHROUGH)
		x->auth_failed = 1;
	strbuf_release(&host);
	strbuf_release(&pub);
	return rc;
}

/* libgit2's error text to the parent */
static void
child_err(int fd, const char *what)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s: %s", what, gmsg());
	if (write_all(fd, sb.buf, sb.len) < 0)
		_exit(RC_TEMP);
	strbuf_release(&sb);
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Delete the local refs that the remote, whose refs are heads, lacks;
 * never those under GITX_PRIVATE.  libgit2's prune (which has no
 * negative refspecs) would take them all.
 */
static int
prune(git_repository *repo, const git_remote_head **heads, size_t nheads,
    int efd)
{
	struct gitx_repo r = { repo };
	struct gitx_ref *refs = NULL;
	struct strbuf err = STRBUF_INIT;
	const char **names;
	size_t nrefs = 0, i, pl = strlen(GITX_PRIVATE);
	int rc = RC_OK;

	if (gitx_refs(&r, &refs, &nrefs, &err) != RC_OK) {
		if (write_all(efd, err.buf, err.len) < 0)
			_exit(RC_TEMP);
		strbuf_release(&err);
		return RC_TEMP;
	}
	names = xcalloc(nheads + 1, sizeof(*names));
	for (i = 0; i < nheads; i++)
		names[i] = heads[i]->name;
	qsort(names, nheads, sizeof(*names), namecmp);
	for (i = 0; i < nrefs && rc == RC_OK; i++) {
		if (strncmp(refs[i].name, GITX_PRIVATE, pl) == 0 ||
		    bsearch(&refs[i].name, names, nheads, sizeof(*names),
		    namecmp) != NULL)
			continue;
		if (git_reference_remove(repo, refs[i].name) < 0) {
			child_err(efd, "prune");
			rc = RC_TEMP;
		}
	}
	free(names);
	gitx_refs_free(refs, nrefs);
	return rc;
}

/* a failed transfer's RC_*: permanent when it was our credentials */
static int
xfer_rc(const struct xfer *x)
{
	return x->auth_failed || x->hostkey_failed ? RC_PERM : RC_TEMP;
}

/*
 * Connect to fetch, *heads then being upstream's refs; fo filled in
 * for the download.  The caller frees *remote, even on failure.
 */
static int
fetch_connect(git_repository *repo, struct xfer *x, git_fetch_options *fo,
    git_remote **remote, const git_remote_head ***heads, size_t *nheads,
    int efd)
{
	fo->prune = GIT_FETCH_NO_PRUNE;
	fo->download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo->update_fetchhead = 0;
	fo->callbacks.credentials = cred_cb;
	fo->callbacks.certificate_check = cert_cb;
	fo->callbacks.payload = x;
	*remote = NULL;
	if (git_remote_create_anonymous(remote, repo, x->rm->url) < 0) {
		child_err(efd, "fetch");
		return RC_PERM;
	}
	x->tries = 0;
	if (git_remote_connect(*remote, GIT_DIRECTION_FETCH, &fo->callbacks,
	    NULL, NULL) < 0 || git_remote_ls(heads, nheads, *remote) < 0) {
		child_err(efd, "fetch");
		return xfer_rc(x);
	}
	return RC_OK;
}

/* the refspecs' refs, downloaded and updated over the connection */
static int
fetch_specs(git_remote *remote, struct xfer *x, git_fetch_options *fo,
    git_strarray *specs, int efd)
{
	if (git_remote_download(remote, specs, fo) < 0 ||
	    git_remote_update_tips(remote, &fo->callbacks, 0,
	    GIT_REMOTE_DOWNLOAD_TAGS_NONE, NULL) < 0) {
		child_err(efd, "fetch");
		return xfer_rc(x);
	}
	return RC_OK;
}

/*
 * What git_remote_fetch does, over one connection, with our prune; and
 * HEAD pointed at upstream's default branch.
 */
static int
do_fetch(git_repository *repo, struct xfer *x, int efd)
{
	git_remote *remote = NULL;
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	const git_remote_head **heads;
	git_buf def = GIT_BUF_INIT;
	char *spec = "+refs/*:refs/*";
	git_strarray specs = { &spec, 1 };
	size_t nheads;
	int rc;

	if ((rc = fetch_connect(repo, x, &fo, &remote, &heads, &nheads,
	    efd)) != RC_OK ||
	    (rc = fetch_specs(remote, x, &fo, &specs, efd)) != RC_OK)
		goto out;
	if (git_remote_ls(&heads, &nheads, remote) < 0) {
		child_err(efd, "fetch");
		rc = RC_TEMP;
		goto out;
	}
	rc = prune(repo, heads, nheads, efd);
	/* best effort: HEAD as upstream has it */
	if (git_remote_default_branch(&def, remote) == 0)
		git_repository_set_head(repo, def.ptr);
	git_buf_dispose(&def);
out:
	if (remote != NULL)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return rc;
}

/*
 * One ref: connect, find it among upstream's (RC_NO when it is not
 * there), download and update it alone, and append the time to its
 * reflog, which a bare repository does not keep by itself.
 */
static int
do_fetch_ref(git_repository *repo, struct xfer *x, int efd)
{
	git_remote *remote = NULL;
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	const git_remote_head **heads;
	git_reflog *log = NULL;
	git_signature *sig = NULL;
	git_oid oid;
	struct strbuf spec = STRBUF_INIT;
	git_strarray specs = { &spec.buf, 1 };
	size_t n, i;
	int rc;

	if ((rc = fetch_connect(repo, x, &fo, &remote, &heads, &n, efd)) !=
	    RC_OK)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, x->src) == 0)
			break;
	if (i == n) {
		strbuf_addf(&spec, "no ref %s upstream", x->src);
		if (write_all(efd, spec.buf, spec.len) < 0)
			_exit(RC_TEMP);
		rc = RC_NO;
		goto out;
	}
	strbuf_addf(&spec, "+%s:%s", x->src, x->dst);
	if ((rc = fetch_specs(remote, x, &fo, &specs, efd)) != RC_OK)
		goto out;
	if (git_reference_name_to_id(&oid, repo, x->dst) < 0 ||
	    git_reflog_read(&log, repo, x->dst) < 0 ||
	    git_signature_now(&sig, "gitmirror", "gitmirror@localhost") < 0 ||
	    git_reflog_append(log, &oid, sig, "fetch") < 0 ||
	    git_reflog_write(log) < 0) {
		child_err(efd, "reflog");
		rc = RC_TEMP;
	}
out:
	git_signature_free(sig);
	git_reflog_free(log);
	strbuf_release(&spec);
	if (remote != NULL)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	return rc;
}

static int
push_ref_cb(const char *ref, const char *status, void *payload)
{
	struct pushx *p = ((struct xfer *)payload)->p;
	struct strbuf sb = STRBUF_INIT;

	if (status != NULL) {
		strbuf_addf(&sb, "push %s: rejected: %s; ", ref, status);
		if (write_all(p->efd, sb.buf, sb.len) < 0)
			_exit(RC_TEMP);
		p->rejected = 1;
	} else {
		p->npushed++;
	}
	strbuf_release(&sb);
	return 0;
}

static int
do_push(git_repository *repo, struct xfer *x)
{
	struct pushx *p = x->p;
	git_remote *remote = NULL;
	git_push_options po = GIT_PUSH_OPTIONS_INIT;
	const git_remote_head **heads;
	struct gitx_repo r = { repo };
	struct gitx_ref *refs = NULL;
	struct strbuf err = STRBUF_INIT;
	char **specs = NULL;
	size_t nheads, nrefs = 0, nspecs = 0, i, j, k;
	git_strarray sa;
	int rc = RC_OK, c, pass;

	po.callbacks.credentials = cred_cb;
	po.callbacks.certificate_check = cert_cb;
	po.callbacks.push_update_reference = push_ref_cb;
	po.callbacks.payload = x;
	if (git_remote_create_anonymous(&remote, repo, x->rm->url) < 0) {
		child_err(p->efd, "push");
		return RC_PERM;
	}
	if (gitx_refs(&r, &refs, &nrefs, &err) != RC_OK) {
		if (write_all(p->efd, err.buf, err.len) < 0)
			_exit(RC_TEMP);
		rc = RC_TEMP;
		goto out;
	}
	x->tries = 0;
	if (git_remote_connect(remote, GIT_DIRECTION_PUSH, &po.callbacks,
	    NULL, NULL) < 0 || git_remote_ls(&heads, &nheads, remote) < 0) {
		child_err(p->efd, "push");
		rc = x->auth_failed || x->hostkey_failed ? RC_PERM :
		    RC_TEMP;
		goto out;
	}
	specs = xcalloc(nrefs + nheads + 1, sizeof(*specs));
	/* as the original: branches first, then tags, then the rest */
	for (pass = 0; pass < 3; pass++)
	for (i = 0; i < nrefs; i++) {
		const git_remote_head *h = NULL;
		char hex[GITX_HEXSZ + 1];
		int heads_ = strncmp(refs[i].name, "refs/heads/", 11) == 0;
		int tags_ = strncmp(refs[i].name, "refs/tags/", 10) == 0;

		if ((pass == 0 && !heads_) || (pass == 1 && !tags_) ||
		    (pass == 2 && (heads_ || tags_)))
			continue;
		if (!p->want(refs[i].name))
			continue;
		for (j = 0; j < nheads; j++)
			if (strcmp(heads[j]->name, refs[i].name) == 0)
				h = heads[j];
		if (h != NULL) {
			git_oid_tostr(hex, sizeof(hex), &h->oid);
			if (strcmp(hex, refs[i].oid) == 0)
				continue;
		}
		specs[nspecs] = xmalloc(2 * strlen(refs[i].name) + 3);
		c = snprintf(specs[nspecs], 2 * strlen(refs[i].name) + 3,
		    "+%s:%s", refs[i].name, refs[i].name);
		if (c < 0)
			_exit(RC_TEMP);
		nspecs++;
	}
	for (j = 0; p->mirror && j < nheads; j++) {
		struct gitx_ref key = { (char *)heads[j]->name, "" };
		size_t ln;

		if (strncmp(heads[j]->name, "refs/", 5) != 0 ||
		    strstr(heads[j]->name, "^{}") != NULL ||
		    !p->want(heads[j]->name) ||
		    (nrefs > 0 && bsearch(&key, refs, nrefs, sizeof(*refs),
		    refcmp) != NULL))
			continue;
		ln = strlen(heads[j]->name) + 2;
		specs[nspecs] = xmalloc(ln);
		if (snprintf(specs[nspecs], ln, ":%s", heads[j]->name) < 0)
			_exit(RC_TEMP);
		nspecs++;
	}
	git_remote_disconnect(remote);
	for (k = 0; k < nspecs && rc == RC_OK; k += p->batch) {
		sa.strings = specs + k;
		sa.count = nspecs - k < p->batch ? nspecs - k : p->batch;
		x->tries = 0;
		if (git_remote_push(remote, &sa, &po) < 0) {
			child_err(p->efd, "push");
			rc = x->auth_failed || x->hostkey_failed ?
			    RC_PERM : RC_TEMP;
		}
	}
	if (rc == RC_OK && p->rejected)
		rc = RC_TEMP;
out:
	for (i = 0; i < nspecs; i++)
		free(specs[i]);
	free(specs);
	gitx_refs_free(refs, nrefs);
	strbuf_release(&err);
	git_remote_free(remote);
	return rc;
}

/*
 * The transfer child is this program again, exec'd (see git.h): a fork
 * of a process with threads may not run libgit2.  Its arguments after
 * GITX_CHILD_ARG, none secret; the URL, which may hold a password, is
 * in the environment.
 */
enum { XA_OP = 2, XA_PATH, XA_NETRC, XA_SSHKEY, XA_KNOWNHOSTS, XA_SRC,
	XA_DST, XA_MIRROR, XA_BATCH, XA_N };
#define XENV_URL	"BUILDFARM_GITX_URL"

/* "" for NULL, since an argument cannot be NULL */
static const char *
arg_or_null(const char *s)
{
	return *s == '\0' ? NULL : s;
}

/*
 * The transfer: any error text goes to its stdout (our pipe), and a
 * push ends with "#N", the number of refs it updated.
 */
int
gitx_child_main(int argc, char **argv, int (*want)(const char *name))
{
	struct gitx_remote rm = { NULL, 0, NULL, NULL, NULL };
	struct pushx p = { want, 0, 1, 0, 0, 1 };
	struct xfer x = { &rm, 0, 0, 0, NULL, NULL, NULL };
	git_repository *repo;
	const char *op, *u;
	char *url, buf[64];
	int rc, n;

	if (argc < 2 || strcmp(argv[1], GITX_CHILD_ARG) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	if (argc != XA_N || (u = getenv(XENV_URL)) == NULL) {
		static const char bad[] = "transfer child: bad arguments";

		return write_all(1, bad, sizeof(bad) - 1) < 0 ? RC_TEMP :
		    RC_PERM;
	}
	url = xstrdup(u);
	unsetenv(XENV_URL);
	op = argv[XA_OP];
	rm.url = url;
	rm.netrc = arg_or_null(argv[XA_NETRC]);
	rm.sshkey = arg_or_null(argv[XA_SSHKEY]);
	rm.knownhosts = arg_or_null(argv[XA_KNOWNHOSTS]);
	pthread_once(&once, init);
	if (git_repository_open_bare(&repo, argv[XA_PATH]) < 0) {
		child_err(1, "open");
		free(url);
		return RC_TEMP;
	}
	if (strcmp(op, "fetch-ref") == 0) {
		x.src = argv[XA_SRC];
		x.dst = argv[XA_DST];
		rc = do_fetch_ref(repo, &x, 1);
	} else if (strcmp(op, "push") == 0 && want == NULL) {
		child_err(1, "push: no ref filter given to gitx_child_main");
		rc = RC_PERM;
	} else if (strcmp(op, "push") == 0) {
		p.mirror = strcmp(argv[XA_MIRROR], "1") == 0;
		p.batch = strtoul(argv[XA_BATCH], NULL, 10);
		if (p.batch == 0)
			p.batch = 1;
		x.p = &p;
		rc = do_push(repo, &x);
		n = snprintf(buf, sizeof(buf), "\n#%zu", p.npushed);
		if (n > 0 && write_all(1, buf, (size_t)n) < 0)
			rc = RC_TEMP;
	} else if (strcmp(op, "fetch") == 0) {
		rc = do_fetch(repo, &x, 1);
	} else {
		child_err(1, "transfer child: no such operation");
		rc = RC_PERM;
	}
	git_repository_free(repo);
	free(url);
	return rc;
}

/*
 * Fetch (x->p NULL), fetch one ref (x->src set) or push in a child,
 * this program exec'd (gitx_child_main), that is killed (SIGKILL) at the
 * deadline, and with us if we are killed.
 */
static int
run_child(const char *path, struct xfer *x, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	const struct gitx_remote *rm = x->rm;
	struct pushx *p = x->p;
	struct proc cp = PROC_INIT;
	struct pollfd pfd;
	const char *op = x->src != NULL ? "fetch-ref" : p != NULL ? "push" :
	    "fetch";
	char buf[4096];
	ssize_t n;
	int st, rc;

	/* the file we run, even if it was replaced or removed since */
	cp.path = "/proc/self/exe";
	strvec_pushv(&cp.args, (const char *[]){ cp.path, GITX_CHILD_ARG, op,
	    path, rm->netrc ? rm->netrc : "", rm->sshkey ? rm->sshkey : "",
	    rm->knownhosts ? rm->knownhosts : "", x->src ? x->src : "",
	    x->dst ? x->dst : "", p != NULL && p->mirror ? "1" : "0",
	    NULL });
	strvec_pushf(&cp.args, "%zu", p != NULL ? p->batch : 1);
	strvec_pushf(&cp.env, "%s=%s", XENV_URL, rm->url);
	cp.io[1].how = PROC_PIPE;
	/* a sync killed with -9 takes its transfer with it */
	cp.pdeathsig = SIGKILL;
	cp.timeout_ms = (long long)rm->timeout_s * 1000;
	cp.kill_grace_ms = 0;
	if (proc_start(&cp, err) == -1) {
		proc_clear(&cp);
		return RC_TEMP;
	}
	rc = RC_OK;
	for (;;) {
		if (proc_tick(&cp)) {
			strbuf_reset(&out);
			strbuf_addf(&out, "timed out after %d s", rm->timeout_s);
			rc = -1;
			break;
		}
		pfd.fd = cp.io[1].fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, proc_timeout(&cp)) <= 0)
			continue;
		n = read(cp.io[1].fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len < 65536)
			strbuf_add(&out, buf, (size_t)n);
	}
	close(cp.io[1].fd);
	proc_finish(&cp);
	st = cp.status;
	if (rc == -1) {
		strbuf_add(err, out.buf, out.len);
		strbuf_release(&out);
		return RC_TEMP;
	}
	if (p != NULL) {
		char *h = strrchr(out.buf, '#');

		if (h != NULL) {
			p->npushed = strtoul(h + 1, NULL, 10);
			strbuf_setlen(&out, (size_t)(h - out.buf));
		}
		strbuf_rtrim(&out);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		rc = RC_OK;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == RC_PERM)
		rc = RC_PERM;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == RC_NO)
		rc = RC_NO;
	else
		rc = RC_TEMP;
	if (rc != RC_OK) {
		if (out.len == 0)
			strbuf_addstr(&out, WIFSIGNALED(st) ?
			    "transfer process killed" : "transfer failed");
		strbuf_add(err, out.buf, out.len);
	}
	strbuf_release(&out);
	return rc;
}

int
gitx_fetch(const char *path, const struct gitx_remote *rm,
    struct strbuf *err)
{
	struct xfer x = { rm, 0, 0, 0, NULL, NULL, NULL };

	pthread_once(&once, init);
	return run_child(path, &x, err);
}

int
gitx_fetch_ref(const char *path, const struct gitx_remote *rm,
    const char *src, const char *dst, char oid[GITX_HEXSZ + 1],
    struct strbuf *err)
{
	struct xfer x = { rm, 0, 0, 0, NULL, src, dst };
	git_repository *repo;
	git_oid id;
	int rc;

	pthread_once(&once, init);
	if ((rc = run_child(path, &x, err)) != RC_OK)
		return rc;
	if (git_repository_open_bare(&repo, path) < 0) {
		strbuf_addf(err, "open '%s': %s", path, gmsg());
		return RC_TEMP;
	}
	if (git_reference_name_to_id(&id, repo, dst) < 0) {
		strbuf_addf(err, "%s: %s", dst, gmsg());
		rc = RC_TEMP;
	} else
		git_oid_tostr(oid, GITX_HEXSZ + 1, &id);
	git_repository_free(repo);
	return rc;
}

int
gitx_push(const char *path, const struct gitx_remote *rm, int mirror,
    size_t batch, size_t *npushed, struct strbuf *err)
{
	struct pushx p = { NULL, mirror, batch ? batch : 1, 0, 0, -1 };
	struct xfer x = { rm, 0, 0, 0, &p, NULL, NULL };
	int rc;

	pthread_once(&once, init);
	rc = run_child(path, &x, err);
	*npushed = p.npushed;
	return rc;
}

/* History. */

static int
parse_oid(git_oid *oid, const char *hex, struct strbuf *err)
{
	if (strlen(hex) != GITX_HEXSZ || git_oid_fromstr(oid, hex) < 0) {
		strbuf_addf(err, "bad object id '%s'", hex);
		return -1;
	}
	return 0;
}

int
gitx_walk(struct gitx_repo *r, const char *tip,
    const char *const *hide, size_t nhide, size_t limit,
    char (**oids)[GITX_HEXSZ + 1], size_t *n, struct strbuf *err)
{
	git_revwalk *w;
	git_odb *odb = NULL;
	git_oid oid;
	char (*v)[GITX_HEXSZ + 1] = NULL;
	char tmp[GITX_HEXSZ + 1];
	size_t nv = 0, av = 0, i;
	int e = 0;

	if (parse_oid(&oid, tip, err) < 0)
		return RC_PERM;
	if (git_revwalk_new(&w, r->repo) < 0) {
		strbuf_addf(err, "revwalk: %s", gmsg());
		return RC_TEMP;
	}
	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL);
	if (git_revwalk_push(w, &oid) < 0) {
		strbuf_addf(err, "revwalk %s: %s", tip, gmsg());
		git_revwalk_free(w);
		return RC_TEMP;
	}
	if (nhide > 0 && git_repository_odb(&odb, r->repo) < 0) {
		strbuf_addf(err, "revwalk: %s", gmsg());
		git_revwalk_free(w);
		return RC_TEMP;
	}
	for (i = 0; i < nhide; i++) {
		git_oid h;

		/* a hidden tip that is gone (rewritten away) hides nothing */
		if (git_oid_fromstr(&h, hide[i]) == 0 &&
		    git_odb_exists(odb, &h) == 1)
			(void)git_revwalk_hide(w, &h);
	}
	git_odb_free(odb);
	while ((limit == 0 || nv < limit) &&
	    (e = git_revwalk_next(&oid, w)) == 0) {
		if (nv == av) {
			av = av ? 2 * av : 64;
			v = xreallocarray(v, av, sizeof(*v));
		}
		git_oid_tostr(v[nv++], GITX_HEXSZ + 1, &oid);
	}
	if ((limit == 0 || nv < limit) && e != GIT_ITEROVER) {
		strbuf_addf(err, "revwalk %s: %s", tip, gmsg());
		git_revwalk_free(w);
		free(v);
		return RC_TEMP;
	}
	git_revwalk_free(w);
	for (i = 0; i < nv / 2; i++) {
		memcpy(tmp, v[i], sizeof(tmp));
		memcpy(v[i], v[nv - 1 - i], sizeof(tmp));
		memcpy(v[nv - 1 - i], tmp, sizeof(tmp));
	}
	*oids = v;
	*n = nv;
	return RC_OK;
}

static void
sig_copy(struct gitx_sig *d, const git_signature *s)
{
	d->name = xstrdup(s->name != NULL ? s->name : "");
	d->email = xstrdup(s->email != NULL ? s->email : "");
	d->time = (long long)s->when.time;
	d->offset = s->when.offset;
}

int
gitx_commit_read(struct gitx_repo *r, const char *hex,
    struct gitx_commit *c, struct strbuf *err)
{
	git_commit *co;
	git_oid oid;
	unsigned i;
	const char *m;

	memset(c, 0, sizeof(*c));
	if (parse_oid(&oid, hex, err) < 0)
		return RC_PERM;
	if (git_commit_lookup(&co, r->repo, &oid) < 0) {
		strbuf_addf(err, "commit %s: %s", hex, gmsg());
		return RC_TEMP;
	}
	memcpy(c->oid, hex, sizeof(c->oid));
	git_oid_tostr(c->tree, sizeof(c->tree), git_commit_tree_id(co));
	c->nparents = git_commit_parentcount(co);
	c->parents = xcalloc(c->nparents + 1, sizeof(*c->parents));
	for (i = 0; i < c->nparents; i++)
		git_oid_tostr(c->parents[i], GITX_HEXSZ + 1,
		    git_commit_parent_id(co, i));
	sig_copy(&c->author, git_commit_author(co));
	sig_copy(&c->committer, git_commit_committer(co));
	m = git_commit_message_raw(co);
	c->msg = xstrdup(m != NULL ? m : "");
	git_commit_free(co);
	return RC_OK;
}

void
gitx_commit_release(struct gitx_commit *c)
{
	free(c->parents);
	free(c->author.name);
	free(c->author.email);
	free(c->committer.name);
	free(c->committer.email);
	free(c->msg);
	memset(c, 0, sizeof(*c));
}

int
gitx_resolve(struct gitx_repo *r, const char *rev,
    char commit[GITX_HEXSZ + 1], char tree[GITX_HEXSZ + 1],
    long long *ctime, struct strbuf *err)
{
	git_object *obj = NULL, *peeled = NULL;
	git_commit *co;
	int e;

	/* a rev-parse expression could walk far: plain names only */
	if (*rev == '\0' || *rev == '-' || strlen(rev) > 255 ||
	    strpbrk(rev, ":^~{}\\ ") != NULL || strstr(rev, "..") != NULL) {
		strbuf_addf(err, "bad revision");
		return RC_NO;
	}
	if ((e = git_revparse_single(&obj, r->repo, rev)) < 0) {
		strbuf_addf(err, "revision not found: %s", gmsg());
		return e == GIT_ENOTFOUND || e == GIT_EAMBIGUOUS ||
		    e == GIT_EINVALIDSPEC ? RC_NO : RC_TEMP;
	}
	e = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (e < 0) {
		strbuf_addf(err, "not a commit: %s", gmsg());
		return RC_NO;
	}
	co = (git_commit *)peeled;
	git_oid_tostr(commit, GITX_HEXSZ + 1, git_commit_id(co));
	git_oid_tostr(tree, GITX_HEXSZ + 1, git_commit_tree_id(co));
	*ctime = (long long)git_commit_time(co);
	git_object_free(peeled);
	return RC_OK;
}

int
gitx_reaches(struct gitx_repo *r, const char *tip, const char *commit,
    struct strbuf *err)
{
	git_oid t, c;
	int e;

	if (parse_oid(&t, tip, err) < 0 || parse_oid(&c, commit, err) < 0)
		return RC_PERM;
	if (git_oid_equal(&t, &c))
		return RC_OK;
	if ((e = git_graph_descendant_of(r->repo, &t, &c)) < 0) {
		strbuf_addf(err, "history of %s: %s", tip, gmsg());
		return RC_TEMP;
	}
	return e == 1 ? RC_OK : RC_NO;
}

/* Trees. */

struct twalk {
	git_repository *repo;
	struct strbuf path;
	int (*fn)(const struct gitx_entry *, void *);
	void *arg;
	struct strbuf *err;
};

static int
twalk(struct twalk *t, const git_tree *tree)
{
	size_t i, n = git_tree_entrycount(tree), base = t->path.len;
	struct gitx_entry e;
	char hex[GITX_HEXSZ + 1];
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		git_object *obj = NULL;

		strbuf_setlen(&t->path, base);
		if (base > 0)
			strbuf_addch(&t->path, '/');
		strbuf_addstr(&t->path, git_tree_entry_name(te));
		git_oid_tostr(hex, sizeof(hex), git_tree_entry_id(te));
		e.path = t->path.buf;
		e.mode = (unsigned)git_tree_entry_filemode_raw(te);
		e.oid = hex;
		e.data = NULL;
		e.len = 0;
		switch (git_tree_entry_type(te)) {
		case GIT_OBJECT_TREE:
			if (git_tree_entry_to_object(&obj, t->repo, te) < 0)
				goto bad;
			if ((rc = t->fn(&e, t->arg)) == 0)
				rc = twalk(t, (git_tree *)obj);
			break;
		case GIT_OBJECT_BLOB:
			if (git_tree_entry_to_object(&obj, t->repo, te) < 0)
				goto bad;
			e.data = git_blob_rawcontent((git_blob *)obj);
			e.len = (size_t)git_blob_rawsize((git_blob *)obj);
			rc = t->fn(&e, t->arg);
			break;
		default:	/* a submodule's commit */
			rc = t->fn(&e, t->arg);
			break;
		}
		git_object_free(obj);
		continue;
bad:
		strbuf_addf(t->err, "%s: %s", t->path.buf, gmsg());
		rc = -1;
	}
	strbuf_setlen(&t->path, base);
	return rc;
}

int
gitx_tree_walk(struct gitx_repo *r, const char *tree,
    int (*fn)(const struct gitx_entry *e, void *arg), void *arg,
    struct strbuf *err)
{
	struct twalk t = { r->repo, STRBUF_INIT, fn, arg, err };
	git_tree *tr;
	git_oid oid;
	int rc;

	if (parse_oid(&oid, tree, err) < 0)
		return RC_PERM;
	if (git_tree_lookup(&tr, r->repo, &oid) < 0) {
		strbuf_addf(err, "tree %s: %s", tree, gmsg());
		return RC_TEMP;
	}
	rc = twalk(&t, tr);
	git_tree_free(tr);
	strbuf_release(&t.path);
	if (rc == -1 && err->len == 0)
		strbuf_addstr(err, "tree walk failed");
	return rc < 0 ? RC_TEMP : rc;
}

/* fsck: a set of object ids already checked, open addressing. */

struct oidset {
	git_oid *v;
	unsigned char *used;
	size_t n, cap;
};

static int
oidset_add(struct oidset *s, const git_oid *o)
{
	size_t i, h;

	if (2 * (s->n + 1) > s->cap) {
		struct oidset t = { NULL, NULL, 0, s->cap ? 2 * s->cap : 1024 };

		t.v = xcalloc(t.cap, sizeof(*t.v));
		t.used = xcalloc(t.cap, 1);
		for (i = 0; i < s->cap; i++)
			if (s->used[i])
				oidset_add(&t, &s->v[i]);
		free(s->v);
		free(s->used);
		*s = t;
	}
	memcpy(&h, o->id, sizeof(h));
	for (i = h & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], o))
			return 0;
	s->used[i] = 1;
	git_oid_cpy(&s->v[i], o);
	s->n++;
	return 1;
}

struct fsck {
	git_repository *repo;
	git_odb *odb;
	struct oidset seen;	/* objects read */
	struct oidset seenc;	/* commits whose trees were checked */
	struct strbuf what;
};

/* Read (and so hash-check) an object and, for trees, what they hold. */
static int
check_obj(struct fsck *f, const git_oid *oid, int depth)
{
	git_odb_object *o;
	git_tree *tree;
	git_object_t type;
	char hex[GITX_HEXSZ + 1];
	size_t i, n;
	int rc = 0;

	if (!oidset_add(&f->seen, oid))
		return 0;
	git_oid_tostr(hex, sizeof(hex), oid);
	if (git_odb_read(&o, f->odb, oid) < 0) {
		strbuf_addf(&f->what, "object %s: %s", hex, gmsg());
		return -1;
	}
	type = git_odb_object_type(o);
	git_odb_object_free(o);
	if (type == GIT_OBJECT_TAG) {
		git_tag *tag;

		if (git_tag_lookup(&tag, f->repo, oid) < 0) {
			strbuf_addf(&f->what, "tag %s: %s", hex, gmsg());
			return -1;
		}
		rc = depth > 16 ? 0 : check_obj(f, git_tag_target_id(tag),
		    depth + 1);
		git_tag_free(tag);
		return rc;
	}
	if (type != GIT_OBJECT_TREE)
		return 0;
	if (git_tree_lookup(&tree, f->repo, oid) < 0) {
		strbuf_addf(&f->what, "tree %s: %s", hex, gmsg());
		return -1;
	}
	n = git_tree_entrycount(tree);
	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);

		if (git_tree_entry_type(te) != GIT_OBJECT_COMMIT)
			rc = check_obj(f, git_tree_entry_id(te), depth);
	}
	git_tree_free(tree);
	return rc;
}

/* Every commit reachable from oid and not from hide[]. */
static int
check_history(struct fsck *f, const git_oid *oid, const git_oid *hide,
    size_t nhide)
{
	git_revwalk *w;
	git_commit *c;
	git_oid co;
	char hex[GITX_HEXSZ + 1];
	size_t i;
	int e, rc = 0;

	if (git_revwalk_new(&w, f->repo) < 0 || git_revwalk_push(w, oid) < 0) {
		strbuf_addf(&f->what, "history: %s", gmsg());
		return -1;
	}
	for (i = 0; i < nhide; i++)
		(void)git_revwalk_hide(w, &hide[i]);
	while (rc == 0 && (e = git_revwalk_next(&co, w)) == 0) {
		git_oid_tostr(hex, sizeof(hex), &co);
		if (!oidset_add(&f->seenc, &co))
			continue;
		if (git_odb_exists(f->odb, &co) == 0) {
			strbuf_addf(&f->what, "commit %s missing", hex);
			rc = -1;
			break;
		}
		if (git_commit_lookup(&c, f->repo, &co) < 0) {
			strbuf_addf(&f->what, "commit %s: %s", hex, gmsg());
			rc = -1;
			break;
		}
		rc = check_obj(f, git_commit_tree_id(c), 0);
		git_commit_free(c);
	}
	if (rc == 0 && e != GIT_ITEROVER) {
		strbuf_addf(&f->what, "history: %s", gmsg());
		rc = -1;
	}
	git_revwalk_free(w);
	return rc;
}

int
gitx_fsck(struct gitx_repo *r,
    void (*bad)(const char *ref, const char *what, void *arg), void *arg,
    struct strbuf *err)
{
	struct fsck f = { r->repo, NULL, { NULL, NULL, 0, 0 },
	    { NULL, NULL, 0, 0 }, STRBUF_INIT };
	git_reference_iterator *it;
	git_reference *ref;
	git_object *obj, *peeled;
	git_oid *ok = NULL;
	size_t nok = 0, aok = 0;
	int e, damaged = 0, rc;

	/* every object read is hashed and compared with its name */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
	if (git_repository_odb(&f.odb, r->repo) < 0 ||
	    git_reference_iterator_new(&it, r->repo) < 0) {
		strbuf_addf(err, "fsck: %s", gmsg());
		git_odb_free(f.odb);
		return RC_TEMP;
	}
	while ((e = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref);

		strbuf_reset(&f.what);
		obj = peeled = NULL;
		if (git_reference_peel(&obj, ref, GIT_OBJECT_ANY) < 0) {
			strbuf_addf(&f.what, "does not resolve: %s", gmsg());
			rc = -1;
		} else if (check_obj(&f, git_object_id(obj), 0) < 0) {
			rc = -1;
		} else if (git_object_type(obj) == GIT_OBJECT_COMMIT) {
			rc = check_history(&f, git_object_id(obj), ok, nok);
			if (rc == 0) {
				if (nok == aok) {
					aok = aok ? 2 * aok : 64;
					ok = xreallocarray(ok, aok, sizeof(*ok));
				}
				git_oid_cpy(&ok[nok++], git_object_id(obj));
			}
		} else {
			rc = 0;
		}
		/* the ref itself: its direct target must exist too */
		if (rc == 0 && git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    git_object_lookup(&peeled, r->repo,
		    git_reference_target(ref), GIT_OBJECT_ANY) < 0) {
			strbuf_addf(&f.what, "target: %s", gmsg());
			rc = -1;
		}
		if (rc < 0) {
			bad(name, f.what.buf, arg);
			damaged = 1;
		}
		git_object_free(peeled);
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (e != GIT_ITEROVER && e != 0) {
		strbuf_addf(&f.what, "list refs: %s", gmsg());
		bad("(refs)", f.what.buf, arg);
		damaged = 1;
	}
	free(ok);
	free(f.seen.v);
	free(f.seen.used);
	free(f.seenc.v);
	free(f.seenc.used);
	strbuf_release(&f.what);
	git_odb_free(f.odb);
	return damaged ? RC_PERM : RC_OK;
}

/* Ignore rules of a work tree. */

struct gitx_ignore {
	git_repository *repo;
	char *prefix;		/* dir relative to the work tree, "" or "a/b/" */
	struct strbuf path;
};

/* "a/b" as "a/b/" */
static char *
dir_prefix(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/", rel);
	return strbuf_detach(&sb, NULL);
}

int
gitx_ignore_open(struct gitx_ignore **ip, const char *dir,
    struct strbuf *err)
{
	git_repository *repo;
	const char *wd;
	char *real, *wreal;
	size_t n;
	int rc;

	*ip = NULL;
	pthread_once(&once, init);
	if ((real = realpath(dir, NULL)) == NULL) {
		strbuf_addf(err, "%s: %s", dir, strerror(errno));
		return RC_TEMP;
	}
	/* as git finds it: GIT_DIR, GIT_CEILING_DIRECTORIES... */
	if ((rc = git_repository_open_ext(&repo, real,
	    GIT_REPOSITORY_OPEN_FROM_ENV, NULL)) < 0) {
		free(real);
		if (rc == GIT_ENOTFOUND)
			return RC_NO;
		strbuf_addf(err, "open the repository of '%s': %s", dir,
		    gmsg());
		return RC_TEMP;
	}
	if ((wd = git_repository_workdir(repo)) == NULL ||
	    (wreal = realpath(wd, NULL)) == NULL) {
		git_repository_free(repo);
		free(real);
		return RC_NO;
	}
	n = strlen(wreal);
	if (strncmp(real, wreal, n) != 0 ||
	    (real[n] != '\0' && real[n] != '/')) {
		git_repository_free(repo);
		free(real);
		free(wreal);
		return RC_NO;
	}
	*ip = xcalloc(1, sizeof(**ip));
	(*ip)->repo = repo;
	strbuf_init(&(*ip)->path, 0);
	(*ip)->prefix = real[n] == '\0' ? xstrdup("") :
	    dir_prefix(real + n + 1);
	free(real);
	free(wreal);
	return RC_OK;
}

int
gitx_ignored(struct gitx_ignore *ig, const char *path)
{
	int ignored;

	if (ig == NULL)
		return 0;
	strbuf_reset(&ig->path);
	strbuf_addstr(&ig->path, ig->prefix);
	strbuf_addstr(&ig->path, path);
	if (git_ignore_path_is_ignored(&ignored, ig->repo, ig->path.buf) < 0)
		return -1;
	return ignored != 0;
}

void
gitx_ignore_close(struct gitx_ignore *ig)
{
	if (ig == NULL)
		return;
	git_repository_free(ig->repo);
	strbuf_release(&ig->path);
	free(ig->prefix);
	free(ig);
}
