/*
 * serve: the log over HTTP, maintner's /logs protocol.
 *
 *   GET /logs[?startseg=N][&waitsizenot=N]   JSON index of segments
 *   GET /logs/N                              segment N, with Range
 *   GET /                                    a page pointing at /logs
 *
 * Read-only: it never takes the writer's lock, and shows a growing
 * segment only up to its last complete line, so a torn tail is never
 * served.  Each request opens its own view of the directory (struct
 * mlog is not shared between threads); long polls share the library's
 * one inotify watch of the log, whatever their number.  The one shared
 * thing here is the cached SHA-224 of the growing segment, so the index
 * does not rehash up to 16 MiB on every long-poll wake-up.  The cache
 * holds only while the file is the same (inode, size, mtime): nothing
 * but trust says an admin did not edit the segment in place, so any
 * change means hashing the bytes again from the start.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto.h"
#include "extern.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "rc.h"
#include "sig.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

struct server {
	const char *dir;
	int hold_s;		/* long-poll hold */
	struct httpd *h;	/* main's: set after the threads start */
	pthread_mutex_t mu;
	/* SHA-224 of the growing segment's first hlen bytes, as it was */
	unsigned hnum;
	off_t hlen;
	char hhex[57];
	struct stat hst;	/* the file then: st_ino, st_size, st_mtim */
	int hok;
};

struct segview {
	unsigned number;
	int sealed;
	off_t size;
	char sha224[57];
};

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * SHA-224 of the first len bytes of growing segment i: the cached one
 * when the file has not changed since, else hashed from the bytes.
 * Hashing is done under the lock, so that the long polls an append
 * wakes hash the segment once between them, not once each.
 */
static int
growing_hash(struct server *sv, struct mlog *l, size_t i, off_t len,
    char hex[57], struct strbuf *err)
{
	const struct mlog_seg *seg = mlog_seg(l, i);
	struct hash *h = NULL;
	struct stat st;
	off_t from = 0;
	char buf[65536];
	int fd, rc = RC_OK;

	fd = openat(mlog_dirfd(l), seg->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(err, "open '%s': %s", seg->name, strerror(errno));
		rc = errno == ENOENT ? RC_NO : RC_TEMP;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	pthread_mutex_lock(&sv->mu);
	if (sv->hok && sv->hnum == seg->number && sv->hlen == len &&
	    same_file(&sv->hst, &st)) {
		memcpy(hex, sv->hhex, 57);
		goto out;
	}
	/* the stat came first: a change while we read shows next time */
	h = hash_new(HASH_SHA224);
	while (from < len) {
		size_t want = len - from > (off_t)sizeof(buf) ? sizeof(buf) :
		    (size_t)(len - from);
		ssize_t r = pread(fd, buf, want, from);

		if (r <= 0) {
			strbuf_addf(err, "read '%s': %s", seg->name,
			    r < 0 ? strerror(errno) : "short file");
			rc = RC_TEMP;
			goto out;
		}
		hash_update(h, buf, (size_t)r);
		from += r;
	}
	hash_hex(h, hex);
	memcpy(sv->hhex, hex, 57);
	sv->hnum = seg->number;
	sv->hlen = len;
	sv->hst = st;
	sv->hok = 1;
out:
	pthread_mutex_unlock(&sv->mu);
	close(fd);
	hash_free(h);
	return rc;
}

/* The segments as clients may see them; *sum gets their total size. */
static int
view(struct server *sv, struct mlog *l, struct segview **vp, size_t *np,
    long long *sum, struct strbuf *err)
{
	struct segview *v = NULL;
	size_t i, n = 0, alloc = 0;
	int rc, tries = 0;

again:
	n = 0;
	*sum = 0;
	if ((rc = mlog_scan(l, err)) != RC_OK)
		goto fail;
	for (i = 0; i < mlog_nsegs(l); i++) {
		const struct mlog_seg *seg = mlog_seg(l, i);
		off_t len;

		rc = mlog_seg_readable(l, i, NULL, &len, err);
		if (rc == RC_NO && tries++ < 5) {
			/* sealed while we looked: look again */
			strbuf_reset(err);
			goto again;
		}
		if (rc != RC_OK)
			goto fail;
		if (!seg->sealed && len == 0)
			continue;	/* nothing to show yet */
		GROW(v, n + 1, alloc);
		v[n].number = seg->number;
		v[n].sealed = seg->sealed;
		v[n].size = len;
		if (seg->sealed)
			memcpy(v[n].sha224, seg->sha224, 57);
		else if ((rc = growing_hash(sv, l, i, len, v[n].sha224,
		    err)) != RC_OK) {
			if (rc == RC_NO && tries++ < 5) {
				strbuf_reset(err);
				goto again;
			}
			goto fail;
		}
		*sum += len;
		n++;
	}
	*vp = v;
	*np = n;
	return RC_OK;
fail:
	free(v);
	return rc;
}

static void
serve_index(struct server *sv, struct httpd_req *req)
{
	struct strbuf err = STRBUF_INIT, body = STRBUF_INIT, num = STRBUF_INIT;
	const char *ws = httpd_query(req, "waitsizenot");
	const char *ss = httpd_query(req, "startseg");
	struct segview *v = NULL;
	struct json *arr;
	struct mlog *l = NULL;
	long long sum, wait = -1;
	long long deadline;
	int64_t start = 0, w;
	size_t i, n = 0;
	int rc;

	if (ss != NULL && num_parse_i64(ss, INT64_MIN, INT64_MAX, &start) < 0) {
		httpd_error(req, 400, "bad startseg");
		return;
	}
	if (start < 0) {
		httpd_error(req, 400, "negative startseg");
		return;
	}
	if (ws != NULL) {
		if (num_parse_i64(ws, INT64_MIN, INT64_MAX, &w) < 0 || w < 0) {
			httpd_error(req, 400, "bad waitsizenot");
			return;
		}
		wait = w;
	}
	if ((rc = mlog_open(&l, sv->dir, 0, &err)) != RC_OK)
		goto fail;
	if (wait >= 0 && (rc = mlog_watch(l, &err)) != RC_OK)
		goto fail;
	deadline = mono_ms() + (long long)sv->hold_s * 1000;
	for (;;) {
		if ((rc = view(sv, l, &v, &n, &sum, &err)) != RC_OK)
			goto fail;
		if (wait < 0 || sum != wait)
			break;
		free(v);
		v = NULL;
		if (mono_ms() >= deadline ||
		    httpd_stopping(httpd_req_server(req))) {
			httpd_reply(req, 304, NULL, "", 0);
			mlog_close(l);
			return;
		}
		/* wake at least every second to notice a shutdown */
		long long left = deadline - mono_ms();

		if (mlog_wait(l, left > 1000 ? 1000 : (int)(left > 0 ? left : 0)) < 0) {
			strbuf_addf(&err, "inotify: %s", strerror(errno));
			rc = RC_TEMP;
			goto fail;
		}
	}
	if (start >= (int64_t)n)
		start = 0;	/* as maintner: past the end means all */
	arr = json_new_array();
	for (i = (size_t)start; i < n; i++) {
		struct json *o = json_new_object();

		json_set_int(o, "number", v[i].number);
		json_set_int(o, "size", v[i].size);
		json_set_str(o, "sha224", v[i].sha224);
		json_set_bool(o, "sealed", v[i].sealed);
		strbuf_reset(&num);
		strbuf_addf(&num, "/logs/%u", v[i].number);
		json_set_str(o, "url", num.buf);
		json_append(arr, o);
	}
	json_dump_pretty(&body, arr);
	strbuf_addch(&body, '\n');
	json_free(arr);
	strbuf_reset(&num);
	strbuf_addf(&num, "%lld", sum);
	httpd_add_header(req, "X-Sum-Segment-Size", num.buf);
	httpd_reply(req, 200, "application/json", body.buf, body.len);
	goto out;
fail:
	log_warnx("%s", err.buf);
	httpd_error(req, rc == RC_PERM ? 500 : 503, "log unavailable");
out:
	free(v);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&body);
	strbuf_release(&num);
}

static void
serve_segment(struct server *sv, struct httpd_req *req, const char *ns)
{
	struct strbuf err = STRBUF_INIT;
	struct mlog *l = NULL;
	uint64_t num;
	long i;
	off_t len;
	int fd, rc, tries = 0;

	if (num_parse_u64(ns, 0, 99999999, &num) < 0) {
		httpd_error(req, 400, "bad segment number");
		return;
	}
	if ((rc = mlog_open(&l, sv->dir, 0, &err)) != RC_OK)
		goto fail;
again:
	if ((rc = mlog_scan(l, &err)) != RC_OK)
		goto fail;
	if ((i = mlog_find(l, (unsigned)num)) < 0) {
		httpd_error(req, 404, "no such segment");
		goto out;
	}
	rc = mlog_seg_readable(l, (size_t)i, &fd, &len, &err);
	if (rc == RC_NO && tries++ < 5) {
		strbuf_reset(&err);
		goto again;
	}
	if (rc != RC_OK)
		goto fail;
	httpd_reply_fd(req, 200, "application/octet-stream", fd, 0, len,
	    HTTPD_RANGE);
	goto out;
fail:
	log_warnx("%s", err.buf);
	httpd_error(req, 503, "log unavailable");
out:
	mlog_close(l);
	strbuf_release(&err);
}

static void
handle(struct httpd_req *req, void *arg)
{
	struct server *sv = arg;
	const char *m = httpd_method(req), *p = httpd_path(req);

	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		httpd_error(req, 400, "GET or HEAD only");
		return;
	}
	if (strcmp(p, "/logs") == 0)
		serve_index(sv, req);
	else if (strncmp(p, "/logs/", 6) == 0)
		serve_segment(sv, req, p + 6);
	else if (strcmp(p, "/") == 0) {
		static const char page[] = "<!DOCTYPE html>\n<html><head>"
		    "<title>maintlog</title></head><body>\n<p>This is a "
		    "<a href=\"/logs\">maintlog</a> server: an append-only "
		    "log of JSON lines (maintlog(5)).</p>\n</body></html>\n";

		httpd_reply(req, 200, "text/html; charset=utf-8", page,
		    sizeof(page) - 1);
	} else
		httpd_error(req, 404, "404 page not found");
}

int
cmd_serve(int argc, char **argv)
{
	struct mlog *l;
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	struct server sv;
	const char *lflag = "127.0.0.1:5938";
	int ch, rc, wflag = 55;

	while ((ch = getopt(argc, argv, "+l:w:")) != -1) {
		switch (ch) {
		case 'l':
			lflag = optarg;
			break;
		case 'w':
			if (num_parse_int(optarg, 1, 3600, &wflag) < 0)
				fatalx(RC_PERM, "bad hold time '%s'",
				    esc(optarg));
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	/* refuse to start on a log we could not serve */
	l = open_log(0);
	if ((rc = mlog_scan(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);

	memset(&sv, 0, sizeof(sv));
	sv.dir = mlog_dir(l);
	sv.hold_s = wflag;
	pthread_mutex_init(&sv.mu, NULL);
	cfg.listen = lflag;
	cfg.handler = handle;
	cfg.arg = &sv;
	/* before the server's threads start, so that they inherit it */
	if (sig_init(&err, SIGINT, SIGTERM, 0) < 0)
		fatalx(RC_TEMP, "%s", err.buf);
	sv.h = httpd_start(&cfg, &err);
	if (sv.h == NULL)
		fatalx(RC_TEMP, "listen on '%s': %s", esc(lflag), err.buf);
	/* with port 0, the kernel's choice: maintlog(1) promises the form */
	log_warnx("listening on %.*s:%d, serving '%s'",
	    (int)(strrchr(lflag, ':') - lflag), lflag, httpd_port(sv.h),
	    esc(sv.dir));
	while (sig_wait(-1) == 0)
		;
	httpd_stop(sv.h);
	pthread_mutex_destroy(&sv.mu);
	strbuf_release(&err);
	return RC_OK;
}
