/*
 * archive.c: the tar.gz of a commit's tree.
 *
 * Byte-stable by construction: entries come in Git's tree order, every
 * entry has the commit's time, owner 0 named root, modes are
 * 0755 for directories and executables and 0644 for other files, and
 * the gzip members (lib/gz.c) carry no time stamp and are cut at fixed
 * input offsets, so the bytes do not depend on the number of threads.
 * One thread walks the tree and writes the tar into the compressor;
 * the caller's thread writes the compressed bytes out.
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "git.h"
#include "gz.h"
#include "rc.h"
#include "strbuf.h"
#include "tar.h"

#define SUBMODULES ".gitmirror-submodules"

struct producer {
	struct gitx_repo *g;
	const char *tree;
	long long mtime;
	const char *prefix;
	struct pgz *z;
	struct tar_writer *w;
	struct strbuf name, subs, link, err;
	int rc;
};

static int
to_gz(void *arg, const void *p, size_t n)
{
	return pgz_write(arg, p, n);
}

static void
st_init(struct stat *st, mode_t mode, off_t size, long long mtime)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_size = size;
	st->st_mtim.tv_sec = (time_t)mtime;
}

static int
add_file(struct producer *p, const char *name, mode_t mode, const void *data,
    size_t len)
{
	return tar_writer_add_mem(p->w, name, mode, p->mtime, data, len,
	    &p->err);
}

static int
entry(const struct gitx_entry *e, void *arg)
{
	struct producer *p = arg;
	struct stat st;

	strbuf_reset(&p->name);
	strbuf_addf(&p->name, "%s%s", p->prefix, e->path);
	switch (e->mode & 0170000) {
	case 0040000:
		st_init(&st, S_IFDIR | 0755, 0, p->mtime);
		return tar_writer_add(p->w, p->name.buf, &st, NULL, -1,
		    &p->err);
	case 0120000:
		strbuf_reset(&p->link);
		strbuf_add(&p->link, e->data, e->len);
		st_init(&st, S_IFLNK | 0777, 0, p->mtime);
		return tar_writer_add(p->w, p->name.buf, &st, p->link.buf, -1,
		    &p->err);
	case 0160000:
		strbuf_addf(&p->subs, "%s %s\n", e->oid, e->path);
		return 0;
	default:
		return add_file(p, p->name.buf, (e->mode & 0111) ? 0755 :
		    0644, e->data, e->len);
	}
}

static void *
produce(void *arg)
{
	struct producer *p = arg;
	struct stat st;
	size_t pl = strlen(p->prefix);
	int rc = RC_OK;

	if (pl > 0 && p->prefix[pl - 1] == '/') {
		st_init(&st, S_IFDIR | 0755, 0, p->mtime);
		if (tar_writer_add(p->w, p->prefix, &st, NULL, -1, &p->err) <
		    0)
			rc = RC_TEMP;
	}
	if (rc == RC_OK)
		rc = gitx_tree_walk(p->g, p->tree, entry, p, &p->err);
	if (rc == -1)
		rc = RC_TEMP;
	if (rc == RC_OK && p->subs.len > 0) {
		strbuf_reset(&p->name);
		strbuf_addf(&p->name, "%s%s", p->prefix, SUBMODULES);
		if (add_file(p, p->name.buf, 0644, p->subs.buf, p->subs.len) <
		    0)
			rc = RC_TEMP;
	}
	if (rc == RC_OK && tar_writer_close(p->w, &p->err) < 0)
		rc = RC_TEMP;
	if (rc == RC_OK)
		pgz_close(p->z);
	else
		pgz_abort(p->z);
	p->rc = rc;
	return NULL;
}

int
archive_write_tree_to(struct gitx_repo *g, const char *tree, long long mtime,
    const char *prefix, int (*out)(void *arg, const void *p, size_t n),
    void *arg, int threads, struct strbuf *err)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct producer p = { g, tree, mtime, prefix, NULL, NULL,
	    STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, RC_OK };
	pthread_t t;
	char *buf;
	ssize_t n;
	int rc = RC_OK, e;

	o.threads = threads;
	/*
	 * Level 6, as gzip's and pigz's default: libdeflate's members
	 * are smaller than gzip -6's on Go's tree, and two cores beat
	 * "git archive | pigz -6" by the margin DESIGN §9 asks.
	 */
	o.level = 6;
	p.z = pgz_new(&o);
	p.w = tar_writer_new(to_gz, p.z);
	if ((e = pthread_create(&t, NULL, produce, &p)) != 0) {
		strbuf_addf(err, "pthread_create: %s", strerror(e));
		tar_writer_free(p.w);
		pgz_free(p.z);
		return RC_TEMP;
	}
	buf = malloc(1 << 16);
	while (buf != NULL && (n = pgz_read(p.z, buf, 1 << 16)) > 0) {
		if (out(arg, buf, (size_t)n) < 0) {
			strbuf_addf(err, "write: %s", strerror(errno));
			rc = RC_TEMP;
			break;
		}
	}
	if (buf == NULL) {
		strbuf_addstr(err, "out of memory");
		rc = RC_TEMP;
	}
	if (rc != RC_OK)
		pgz_cancel(p.z);
	pthread_join(t, NULL);
	if (rc == RC_OK && p.rc != RC_OK) {
		strbuf_add(err, p.err.buf, p.err.len);
		rc = p.rc;
	}
	free(buf);
	tar_writer_free(p.w);
	pgz_free(p.z);
	strbuf_release(&p.name);
	strbuf_release(&p.subs);
	strbuf_release(&p.link);
	strbuf_release(&p.err);
	return rc;
}

static int
to_fd(void *arg, const void *p, size_t n)
{
	return write_all(*(int *)arg, p, n);
}

int
archive_write_tree(struct gitx_repo *g, const char *tree, long long mtime,
    const char *prefix, int fd, int threads, struct strbuf *err)
{
	return archive_write_tree_to(g, tree, mtime, prefix, to_fd, &fd,
	    threads, err);
}

int
archive_write(struct gitx_repo *g, const char *rev, const char *prefix,
    int fd, int threads, struct strbuf *err)
{
	char commit[GITX_HEXSZ + 1], tree[GITX_HEXSZ + 1];
	long long t;
	int rc;

	if ((rc = gitx_resolve(g, rev, commit, tree, &t, err)) != RC_OK)
		return rc;
	return archive_write_tree(g, tree, t, prefix, fd, threads, err);
}
