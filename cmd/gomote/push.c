/*
 * push: make the buildlet's copy of a local tree like the local one,
 * sending only what differs (the original's algorithm, reference §3.5,
 * without its Go specifics):
 *
 *   1. one /ls of the destination, recursive, with SHA-1 digests;
 *   2. a walk of the local tree, leaving out .git and what git ignores
 *      there (libgit2, lib/git.c) and anything but files and
 *      directories (the buildlet takes no symbolic links);
 *   3. one /removeall of the remote entries that are gone locally (a
 *      remote entry that git ignores locally, a build's output, stays);
 *   4. one tarball of the files that are new or whose size or SHA-1
 *      differs, PUT to /writetgz.
 *
 * Steps 1 and 2 overlap: the listing, for which the buildlet hashes its
 * whole copy, runs on a thread while the local walk hashes every file
 * (on a machine with two cores the two hashings take the time of one).
 */
#include "compat.h"

#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bclient.h"
#include "crypto.h"
#include "extern.h"
#include "git.h"
#include "gz.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "strvec.h"
#include "tar.h"
#include "timefmt.h"
#include "xmalloc.h"

struct lfile {
	char *path;
	long long size;
	char hex[HASH_HEX_MAX];
};

struct push {
	const char *dir;		/* local */
	const char *dest;		/* remote, relative to the work dir */
	int dirfd;
	struct gitx_ignore *ig;
	struct bclient_dirlist remote;	/* sorted by name */
	struct strvec local;		/* every local path, dirs with '/' */
	struct lfile *files;		/* the local files, hashed */
	size_t nfiles, afiles;
	struct strvec send;		/* files to send */
	struct strvec rm;		/* remote paths to remove */
	long long send_bytes;
	int failed;
};

static int
cmp_dirent(const void *a, const void *b)
{
	return strcmp(((const struct bclient_dirent *)a)->name,
	    ((const struct bclient_dirent *)b)->name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct bclient_dirent *
remote_find(const struct push *p, const char *name)
{
	struct bclient_dirent key;

	if (p->remote.n == 0)
		return NULL;	/* no array: bsearch must not see NULL */
	key.name = (char *)name;
	return bsearch(&key, p->remote.v, p->remote.n, sizeof(key),
	    cmp_dirent);
}

/* The SHA-1 of file rel in hex, or -1 (a message printed). */
static int
sha1_file(struct push *p, const char *rel, char hex[HASH_HEX_MAX])
{
	char buf[64 * 1024];
	struct hash *h;
	ssize_t n;
	int fd;

	if ((fd = openat(p->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW))
	    == -1) {
		log_warn("%s/%s", esc(p->dir), esc(rel));
		return -1;
	}
	h = hash_new(HASH_SHA1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		hash_update(h, buf, (size_t)n);
	if (n == -1)
		log_warn("read %s/%s", esc(p->dir), esc(rel));
	else
		hash_hex(h, hex);
	hash_free(h);
	close(fd);
	return n == -1 ? -1 : 0;
}

static void
local_file(struct push *p, const char *rel, const struct stat *st)
{
	struct lfile *f;

	strvec_push(&p->local, rel);
	if (p->nfiles == p->afiles) {
		p->afiles = p->afiles > 0 ? 2 * p->afiles : 256;
		p->files = xreallocarray(p->files, p->afiles,
		    sizeof(*p->files));
	}
	f = &p->files[p->nfiles];
	if (sha1_file(p, rel, f->hex) == -1) {
		p->failed = 1;
		return;
	}
	f->path = xstrdup(rel);
	f->size = st->st_size;
	p->nfiles++;
}

/* The local files that are not on the buildlet as they are here. */
static void
find_changed(struct push *p)
{
	const struct bclient_dirent *e;
	size_t i;

	for (i = 0; i < p->nfiles; i++) {
		e = remote_find(p, p->files[i].path);
		if (e != NULL && S_ISREG(e->mode) &&
		    e->size == p->files[i].size && e->digest != NULL &&
		    strcmp(e->digest, p->files[i].hex) == 0)
			continue;
		strvec_push(&p->send, p->files[i].path);
		p->send_bytes += p->files[i].size;
	}
}

/* The remote listing, on a thread of its own. */
struct lister {
	const struct bclient *c;
	struct push *p;
	struct strbuf err;
	int rc;
};

static void *
lister_main(void *arg)
{
	struct lister *l = arg;
	struct bclient_ls o = BCLIENT_LS_INIT;

	o.recursive = 1;
	o.digest = 1;
	l->rc = bclient_ls_all(l->c, l->p->dest, &o, &l->p->remote, &l->err);
	return NULL;
}

/* Walk directory rel ("" for the top), recursively. */
static void
walk(struct push *p, const char *rel)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, ig;

	fd = openat(p->dirfd, rel[0] != '\0' ? rel : ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("%s/%s", esc(p->dir), esc(rel));
		if (fd != -1)
			close(fd);
		p->failed = 1;
		return;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s%s", rel, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			log_warn("%s/%s", esc(p->dir), esc(path.buf));
			p->failed = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			strbuf_addch(&path, '/');
		else if (!S_ISREG(st.st_mode))
			continue;
		if ((ig = gitx_ignored(p->ig, path.buf)) == 1)
			continue;
		if (ig == -1) {
			log_warnx("%s/%s: cannot tell whether git ignores it",
			    esc(p->dir), esc(path.buf));
			p->failed = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			strvec_push(&p->local, path.buf);
			walk(p, path.buf);
		} else
			local_file(p, path.buf, &st);
	}
	if (errno != 0) {
		log_warn("readdir %s/%s", esc(p->dir), esc(rel));
		p->failed = 1;
	}
	closedir(d);
	strbuf_release(&path);
}

/* Remote entries with no local counterpart, a directory for all it holds. */
static void
find_gone(struct push *p)
{
	const char *cut = NULL;
	size_t i, ncut = 0;
	const char *name;
	int ig;

	qsort(p->local.v, p->local.nr, sizeof(char *), cmp_str);
	for (i = 0; i < p->remote.n; i++) {
		name = p->remote.v[i].name;
		if (cut != NULL && strncmp(name, cut, ncut) == 0)
			continue;
		cut = NULL;
		if (bsearch(&name, p->local.v, p->local.nr, sizeof(char *),
		    cmp_str) != NULL)
			continue;
		if ((ig = gitx_ignored(p->ig, name)) != 0) {
			if (ig == 1 && name[strlen(name) - 1] == '/') {
				cut = name;
				ncut = strlen(name);
			}
			continue;
		}
		strvec_push(&p->rm, name);
		if (name[strlen(name) - 1] == '/') {
			cut = name;
			ncut = strlen(name);
		}
	}
}

/* ---- the tarball: tar_writer -> pgz on one thread, pgz -> file here ---- */

struct pack {
	struct push *p;
	struct pgz *z;
	struct strbuf err;
	int failed;
};

static int
to_pgz(void *arg, const void *buf, size_t n)
{
	struct pack *k = arg;

	return pgz_write(k->z, buf, n);
}

static void *
pack_main(void *arg)
{
	struct pack *k = arg;
	struct push *p = k->p;
	struct tar_writer *w = tar_writer_new(to_pgz, k);
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < p->send.nr && !k->failed; i++) {
		if ((fd = openat(p->dirfd, p->send.v[i],
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
		    fstat(fd, &st) == -1) {
			strbuf_addf(&k->err, "%s/%s: %s", esc(p->dir),
			    esc(p->send.v[i]), strerror(errno));
			k->failed = 1;
		} else if (tar_writer_add(w, p->send.v[i], &st, NULL, fd,
		    &k->err) == -1)
			k->failed = 1;
		if (fd != -1)
			close(fd);
	}
	if (!k->failed && tar_writer_close(w, &k->err) == -1)
		k->failed = 1;
	tar_writer_free(w);
	if (k->failed)
		pgz_abort(k->z);
	else
		pgz_close(k->z);
	return NULL;
}

/* The tarball of p->send in an unlinked temporary file: its fd, or -1. */
static int
pack(struct push *p)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct pack k;
	struct strbuf tmp = STRBUF_INIT;
	const char *t = getenv("TMPDIR");
	char buf[64 * 1024];
	pthread_t th;
	ssize_t n;
	int fd, werr = 0;

	strbuf_addf(&tmp, "%s/gomote-push.XXXXXX", t != NULL && *t != '\0' ?
	    t : "/tmp");
	if ((fd = mkostemp(tmp.buf, O_CLOEXEC)) == -1) {
		log_warn("%s", esc(tmp.buf));
		strbuf_release(&tmp);
		return -1;
	}
	unlink(tmp.buf);
	strbuf_release(&tmp);
	memset(&k, 0, sizeof(k));
	k.p = p;
	strbuf_init(&k.err, 0);
	k.z = pgz_new(&o);
	if (pthread_create(&th, NULL, pack_main, &k) != 0) {
		log_warnx("cannot start a thread");
		pgz_free(k.z);
		close(fd);
		return -1;
	}
	while ((n = pgz_read(k.z, buf, sizeof(buf))) > 0)
		if (!werr && write_all(fd, buf, (size_t)n) == -1)
			werr = errno;
	if (werr != 0)
		pgz_cancel(k.z);
	pthread_join(th, NULL);
	pgz_free(k.z);
	if (k.failed || werr != 0 || n == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		if (k.failed)
			log_warnx("tarball: %s", k.err.buf);
		else
			log_warnx("tarball: %s", strerror(werr != 0 ? werr :
			    errno));
		close(fd);
		fd = -1;
	}
	strbuf_release(&k.err);
	return fd;
}

static int
missing_dir(const struct strbuf *err)
{
	return strstr(err->buf, "no such file or directory") != NULL;
}

int
cmd_push(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "dest", required_argument, NULL, 'D' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf err = STRBUF_INIT, rpath = STRBUF_INIT;
	struct strvec rmv = STRVEC_INIT;
	struct lister l;
	struct stat st;
	pthread_t th;
	struct progress *pr;
	struct push p;
	struct bclient c;
	const char *inst;
	int ch, rc, dry = 0, fd, in;
	char *dtrim = NULL;
	size_t i, n;

	memset(&p, 0, sizeof(p));
	p.dir = getenv("GOROOT") != NULL && *getenv("GOROOT") != '\0' ?
	    getenv("GOROOT") : ".";
	p.dest = "go";
	strvec_init(&p.local);
	strvec_init(&p.send);
	strvec_init(&p.rm);
	while ((ch = getopt_long_only(argc, argv, "+", lo, NULL)) != -1)
		switch (ch) {
		case 'n':
			dry = 1;
			break;
		case 'D':
			p.dest = optarg;
			break;
		case 'd':
			p.dir = optarg;
			break;
		default:
			usage();
		}
	if (optind + 1 != argc)
		usage();
	inst = argv[optind];
	/* "go/" is "go" */
	for (n = strlen(p.dest); n > 1 && p.dest[n - 1] == '/'; n--)
		;
	p.dest = dtrim = xmemdupz(p.dest, n);
	if (p.dest[0] == '\0' || p.dest[0] == '/')
		fatalx(RC_PERM, "-dest %s: want a directory relative to the "
		    "work directory", esc(p.dest));
	if ((p.dirfd = open(p.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal(RC_PERM, "%s", esc(p.dir));
	switch (gitx_ignore_open(&p.ig, p.dir, &err)) {
	case RC_OK:
	case RC_NO:
		break;
	default:
		fatalx(RC_TEMP, "%s", err.buf);
	}

	instance(inst, &c);
	l.c = &c;
	l.p = &p;
	strbuf_init(&l.err, 0);
	if (pthread_create(&th, NULL, lister_main, &l) != 0)
		fatalx(RC_TEMP, "cannot start a thread");
	walk(&p, "");
	pthread_join(th, NULL);
	rc = l.rc;
	/* a destination that is not there yet is an empty one */
	if (rc != RC_OK && missing_dir(&l.err))
		rc = RC_OK;
	else if (rc != RC_OK)
		rc = call_failed(inst, rc, &l.err);
	strbuf_release(&l.err);
	if (rc != RC_OK)
		goto out;
	if (p.failed) {
		rc = RC_TEMP;
		goto out;
	}
	/* an empty listing has no array at all, which qsort must not see */
	if (p.remote.n > 0)
		qsort(p.remote.v, p.remote.n, sizeof(*p.remote.v),
		    cmp_dirent);
	find_changed(&p);
	find_gone(&p);

	if (dry) {
		for (i = 0; i < p.rm.nr; i++)
			printf("rm %s\n", esc(p.rm.v[i]));
		for (i = 0; i < p.send.nr; i++)
			printf("put %s\n", esc(p.send.v[i]));
		rc = fflush(stdout) == EOF ? RC_TEMP : RC_OK;
		goto out;
	}
	for (i = 0; i < p.rm.nr; i++) {
		strbuf_reset(&rpath);
		strbuf_addf(&rpath, "%s/%s", p.dest, p.rm.v[i]);
		strbuf_rtrim(&rpath);
		if (rpath.buf[rpath.len - 1] == '/')
			strbuf_setlen(&rpath, rpath.len - 1);
		strvec_push(&rmv, rpath.buf);
	}
	if ((rc = bclient_removeall(&c, (const char *const *)rmv.v, &err))
	    != RC_OK) {
		rc = call_failed(inst, rc, &err);
		goto out;
	}
	if (p.send.nr > 0) {
		if ((fd = pack(&p)) == -1) {
			rc = RC_TEMP;
			goto out;
		}
		pr = progress_new("push", fstat(fd, &st) == 0 ?
		    (long long)st.st_size : -1);
		in = progress_pipe(pr, fd);
		rc = bclient_writetgz(&c, p.dest, in, &err);
		if (in != fd)
			close(in);
		progress_end(pr, rc == RC_OK);
		close(fd);
		if (rc != RC_OK) {
			rc = call_failed(inst, rc, &err);
			goto out;
		}
	}
	if (isatty(2))
		log_warnx("push: %zu files sent (%lld bytes before "
		    "compression), %zu removed", p.send.nr, p.send_bytes,
		    p.rm.nr);
out:
	bclient_dirlist_release(&p.remote);
	for (i = 0; i < p.nfiles; i++)
		free(p.files[i].path);
	free(p.files);
	strvec_clear(&p.local);
	strvec_clear(&p.send);
	strvec_clear(&p.rm);
	strvec_clear(&rmv);
	gitx_ignore_close(p.ig);
	close(p.dirfd);
	free(dtrim);
	strbuf_release(&err);
	strbuf_release(&rpath);
	return rc;
}
