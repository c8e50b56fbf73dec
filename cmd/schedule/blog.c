/*
 * blog.c: a build's log.  The text goes, as it is produced, to the live
 * file state/schedule/live/NAME.log (which the daemon's /log/NAME
 * follows), to standard output, into the SHA-256 that will name it and
 * into a gzip stream compressed on a worker thread.  At the end the
 * compressed bytes become buildlogs/AB/HASH.gz (temp + fsync + rename)
 * and, once the caller has recorded the result, the live file goes.
 *
 * The live file and standard output are for watching: a failure to
 * write them is said once and the build goes on.  What is stored comes
 * from the stream itself, so it is the whole text either way.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crypto.h"
#include "extern.h"
#include "farm.h"
#include "gz.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct blog {
	struct strbuf live;	/* the live file's path */
	int fd;			/* the live file, or -1 once it failed */
	int out_ok;		/* standard output still takes it */
	struct hash *h;
	struct pgz *p;
	pthread_t thr;
	struct strbuf gz;	/* the compressed log, filled by thr */
	int gz_failed;
};

static void *
drain(void *arg)
{
	struct blog *b = arg;
	char buf[65536];
	ssize_t n;

	while ((n = pgz_read(b->p, buf, sizeof(buf))) > 0)
		strbuf_add(&b->gz, buf, (size_t)n);
	if (n < 0)
		b->gz_failed = 1;
	return NULL;
}

int
blog_open(struct blog **bp, const char *dir, const char *item,
    struct strbuf *err)
{
	struct pgz_opt opt = PGZ_OPT_INIT;
	struct strbuf ldir = STRBUF_INIT;
	struct blog *b;
	int rc;

	*bp = NULL;
	farm_placef(&ldir, dir, FARM_STATE, "schedule/live");
	if (mkdirs(ldir.buf) == -1) {
		strbuf_addf(err, "mkdir '%s': %s", ldir.buf, strerror(errno));
		strbuf_release(&ldir);
		return RC_TEMP;
	}
	strbuf_release(&ldir);
	b = xcalloc(1, sizeof(*b));
	strbuf_init(&b->live, 0);
	strbuf_init(&b->gz, 0);
	farm_placef(&b->live, dir, FARM_STATE, "schedule/live/%s.log", item);
	/* a live file left by a killed attempt starts again */
	b->fd = open(b->live.buf, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0644);
	if (b->fd == -1) {
		strbuf_addf(err, "open '%s': %s", b->live.buf,
		    strerror(errno));
		strbuf_release(&b->live);
		free(b);
		return RC_TEMP;
	}
	b->out_ok = 1;
	b->h = hash_new(HASH_SHA256);
	opt.single = 1;
	b->p = pgz_new(&opt);
	if ((rc = pthread_create(&b->thr, NULL, drain, b)) != 0) {
		strbuf_addf(err, "pthread_create: %s", strerror(rc));
		pgz_abort(b->p);
		pgz_free(b->p);
		hash_free(b->h);
		close(b->fd);
		unlink(b->live.buf);
		strbuf_release(&b->live);
		free(b);
		return RC_TEMP;
	}
	*bp = b;
	return RC_OK;
}

void
blog_write(struct blog *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	hash_update(b->h, p, n);
	(void)pgz_write(b->p, p, n);
	if (b->fd != -1 && write_all(b->fd, p, n) == -1) {
		log_warn("write '%s'", b->live.buf);
		close(b->fd);
		b->fd = -1;
	}
	/* stdout unbuffered, so that whoever reads it follows the build */
	if (b->out_ok && write_all(STDOUT_FILENO, p, n) == -1)
		b->out_ok = 0;
}

void
blog_printf(struct blog *b, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	blog_write(b, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* End the stream and the thread; 0, or -1 when compression failed. */
static int
blog_stop(struct blog *b)
{
	if (b->p == NULL)
		return 0;
	pgz_close(b->p);
	pthread_join(b->thr, NULL);
	pgz_free(b->p);
	b->p = NULL;
	return b->gz_failed ? -1 : 0;
}

int
blog_store(struct blog *b, const char *dir, char hash[65], struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, name = STRBUF_INIT;
	int dfd, rc = RC_TEMP;

	hash_hex(b->h, hash);
	if (blog_stop(b) == -1) {
		strbuf_addstr(err, "compressing the log failed");
		return RC_TEMP;
	}
	farm_placef(&path, dir, FARM_BUILDLOGS, "%.2s", hash);
	strbuf_addf(&name, "%s.gz", hash);
	if (mkdirs(path.buf) == -1) {
		strbuf_addf(err, "mkdir '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	if ((dfd = open(path.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		strbuf_addf(err, "open '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	/*
	 * Content-addressed: a log of the same text may be there already
	 * (the same build run twice), and is then the same bytes.
	 */
	if (atomic_write(dfd, name.buf, b->gz.buf, b->gz.len, 0444, err) == 0)
		rc = RC_OK;
	close(dfd);
	/* buildlogs/ itself, which holds a new fan-out dir the first time */
	strbuf_reset(&path);
	farm_place(&path, dir, FARM_BUILDLOGS);
	if (rc == RC_OK && fsync_path(path.buf) == -1) {
		strbuf_addf(err, "fsync '%s': %s", path.buf, strerror(errno));
		rc = RC_TEMP;
	}
out:
	strbuf_release(&path);
	strbuf_release(&name);
	return rc;
}

void
blog_close(struct blog *b)
{
	if (b == NULL)
		return;
	(void)blog_stop(b);
	if (b->fd != -1)
		close(b->fd);
	if (unlink(b->live.buf) == -1 && errno != ENOENT)
		log_warn("unlink '%s'", b->live.buf);
	hash_free(b->h);
	strbuf_release(&b->live);
	strbuf_release(&b->gz);
	free(b);
}
