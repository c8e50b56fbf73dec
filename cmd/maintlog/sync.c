/*
 * sync: mirror a served log (maintner's /logs protocol) into LOGDIR.
 *
 * The mirror holds the writer lock for as long as it runs, so nothing
 * else appends to it.  Bytes from the network reach a segment file only
 * after the SHA-224 the index gives for that segment has been checked
 * over the local prefix plus the new bytes; until then they sit in a
 * dot-file ".NNNN.BASE.part" (BASE: the offset they start at), which is
 * what a later run resumes from.  A sealed remote segment is written
 * like a local seal: append, fsync, chmod 0444, rename, fsync the
 * directory.
 *
 * If the remote history no longer contains what we hold (a segment we
 * have is shorter, different or gone upstream), we stop with RC_PERM and
 * touch nothing: a rewritten log must not be merged into ours.
 */
#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crypto.h"
#include "extern.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define INDEX_MAX (16u << 20)

struct rseg {
	unsigned number;
	long long size;
	int sealed;
	char sha224[57];
	char *url;
};

struct syncer {
	struct mlog *l;
	const char *url;
	struct rseg *segs;
	size_t n;
	int moved;		/* something new arrived */
};

static void
free_index(struct syncer *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->segs[i].url);
	free(s->segs);
	s->segs = NULL;
	s->n = 0;
}

static int
parse_index(struct syncer *s, const char *body, size_t len,
    struct strbuf *err)
{
	struct strbuf abs = STRBUF_INIT;
	struct json *j;
	size_t i, n;

	j = json_parse(body, len, err);
	if (j == NULL || json_kind(j) != JK_ARRAY) {
		if (j != NULL)
			strbuf_addstr(err, "not a JSON array");
		json_free(j);
		return RC_PERM;
	}
	n = json_array_len(j);
	s->segs = xcalloc(n ? n : 1, sizeof(*s->segs));
	for (i = 0; i < n; i++) {
		struct json *o = json_array_at(j, i);
		const char *sha = json_str(json_get(o, "sha224"), NULL);
		const char *url = json_str(json_get(o, "url"), NULL);
		struct json *sealed = json_get(o, "sealed");
		int64_t num, size;

		if (!json_get_int(json_get(o, "number"), &num) ||
		    !json_get_int(json_get(o, "size"), &size) ||
		    sha == NULL || url == NULL || strlen(sha) != 56 ||
		    strspn(sha, "0123456789abcdef") != 56 || size < 0 ||
		    num != (int64_t)i) {
			strbuf_addf(err, "index entry %zu is malformed", i);
			s->n = i;
			json_free(j);
			return RC_PERM;
		}
		/* a hostile index must not make us fetch from elsewhere */
		if (http_resolve(s->url, url, &abs) < 0 ||
		    http_same_origin(s->url, abs.buf) != 1) {
			strbuf_addf(err, "index entry %zu: segment url '%s' "
			    "is not on the index's origin", i, esc(url));
			strbuf_release(&abs);
			s->n = i;
			json_free(j);
			return RC_PERM;
		}
		strbuf_reset(&abs);
		s->segs[i].number = (unsigned)num;
		s->segs[i].size = size;
		memcpy(s->segs[i].sha224, sha, 57);
		s->segs[i].url = xstrdup(url);
		/* without our "sealed" extension: all but the last are */
		s->segs[i].sealed = sealed != NULL ?
		    json_kind(sealed) == JK_TRUE : i + 1 < n;
		s->n = i + 1;
	}
	json_free(j);
	strbuf_release(&abs);
	return RC_OK;
}

/* GET the index; long-poll when wait >= 0.  RC_NO: 304 (unchanged). */
static int
fetch_index(struct syncer *s, long long wait, int hold_s, struct strbuf *err)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf u = STRBUF_INIT;
	enum http_class c;
	int rc;

	strbuf_addstr(&u, s->url);
	if (wait >= 0)
		strbuf_addf(&u, "%swaitsizenot=%lld",
		    strchr(s->url, '?') ? "&" : "?", wait);
	opt.timeout_ms = wait >= 0 ? (long)(hold_s + 30) * 1000 : 60000;
	opt.max_body = INDEX_MAX;
	opt.netrc = 1;
	opt.ok_304 = 1;
	c = http_get(u.buf, &opt, &r, err);
	if (c != HTTP_OK) {
		rc = http_class_rc(c);
		goto out;
	}
	if (r.status == 304) {
		rc = RC_NO;
		goto out;
	}
	free_index(s);
	rc = parse_index(s, r.body.buf, r.body.len, err);
	if (rc != RC_OK) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "bad index from '%s': %s", esc(s->url),
		    err->buf);
		strbuf_reset(err);
		strbuf_add(err, m.buf, m.len);
		strbuf_release(&m);
	}
out:
	http_resp_release(&r);
	strbuf_release(&u);
	return rc;
}

/*
 * Download bytes [from, to) of remote segment rs into the part file
 * ".NNNN.FROM.part", resuming what an earlier run left there.  On
 * success *pfd is the part file (read/write) holding exactly to-from
 * bytes.
 */
static int
download(struct syncer *s, const struct rseg *rs, long long from,
    long long to, int *pfd, struct strbuf *err)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf name = STRBUF_INIT, url = STRBUF_INIT, hdr = STRBUF_INIT;
	const char *hdrs[2];
	struct stat st;
	enum http_class c;
	int fd, rc = RC_OK;
	int dirfd = mlog_dirfd(s->l);

	strbuf_addf(&name, ".%04u.%lld.part", rs->number, from);
	fd = openat(dirfd, name.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0) {
		strbuf_addf(err, "open '%s': %s", name.buf, strerror(errno));
		rc = RC_TEMP;
		goto out;
	}
	if (st.st_size > to - from) {
		/* more than we want: stale; start again */
		if (ftruncate(fd, 0) < 0) {
			strbuf_addf(err, "truncate '%s': %s", name.buf,
			    strerror(errno));
			rc = RC_TEMP;
			goto out;
		}
		st.st_size = 0;
	}
	if (st.st_size < to - from) {
		if (http_resolve(s->url, rs->url, &url) < 0) {
			strbuf_addf(err, "bad segment url '%s'", esc(rs->url));
			rc = RC_PERM;
			goto out;
		}
		strbuf_addf(&hdr, "Range: bytes=%lld-%lld",
		    from + (long long)st.st_size, to - 1);
		hdrs[0] = hdr.buf;
		hdrs[1] = NULL;
		opt.headers = hdrs;
		opt.timeout_ms = 0;
		opt.low_speed = 1;
		opt.low_speed_s = 60;
		opt.max_body = (size_t)(to - from - st.st_size);
		opt.netrc = 1;
		if (lseek(fd, 0, SEEK_END) < 0) {
			rc = RC_TEMP;
			goto out;
		}
		opt.sink_fd = fd;
		c = http_get(url.buf, &opt, &r, err);
		if (r.status >= 200 && r.status < 300 && r.status != 206) {
			/*
			 * What arrived is not the range we asked for (a whole
			 * segment may also overflow max_body: same news).
			 */
			(void)!ftruncate(fd, st.st_size);
			strbuf_reset(err);
			strbuf_addf(err, "'%s': the server ignored the Range "
			    "request (HTTP %ld, not 206)", esc(url.buf),
			    r.status);
			rc = RC_PERM;
			goto out;
		}
		if (c != HTTP_OK) {
			rc = http_class_rc(c);
			goto out;
		}
		if (fsync(fd) < 0 || fstat(fd, &st) < 0) {
			strbuf_addf(err, "fsync '%s': %s", name.buf,
			    strerror(errno));
			rc = RC_TEMP;
			goto out;
		}
		if (st.st_size != to - from) {
			strbuf_addf(err, "'%s': got %lld bytes of %lld",
			    esc(url.buf), (long long)st.st_size, to - from);
			rc = RC_TEMP;
			goto out;
		}
	}
	*pfd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	http_resp_release(&r);
	strbuf_release(&name);
	strbuf_release(&url);
	strbuf_release(&hdr);
	return rc;
}

static void
drop_part(struct syncer *s, unsigned num, long long from)
{
	struct strbuf name = STRBUF_INIT;

	strbuf_addf(&name, ".%04u.%lld.part", num, from);
	(void)unlinkat(mlog_dirfd(s->l), name.buf, 0);
	strbuf_release(&name);
}

/* Hash the first have bytes of local file lfd (or none), then all of pfd. */
static int
hash_parts(int lfd, long long have, int pfd, char hex[57])
{
	struct hash *h = hash_new(HASH_SHA224);
	char *buf = xmalloc(1 << 20);
	long long pos;
	int fd, pass, rc = 0;

	for (pass = 0; pass < 2 && rc == 0; pass++) {
		long long end;
		struct stat st;

		fd = pass == 0 ? lfd : pfd;
		if (fd < 0)
			continue;
		if (pass == 0)
			end = have;
		else if (fstat(fd, &st) == 0)
			end = st.st_size;
		else {
			rc = -1;
			break;
		}
		for (pos = 0; pos < end;) {
			size_t want = end - pos > (1 << 20) ? (1 << 20) :
			    (size_t)(end - pos);
			ssize_t r = pread_all(fd, buf, want, pos);

			if (r <= 0) {
				rc = -1;
				break;
			}
			hash_update(h, buf, (size_t)r);
			pos += r;
		}
	}
	hash_hex(h, hex);
	hash_free(h);
	free(buf);
	return rc;
}

/* Append part file pfd to the local growing segment lfd, fsync. */
static int
append_part(int lfd, int pfd, struct strbuf *err)
{
	char *buf = xmalloc(1 << 20);
	off_t pos = 0;
	ssize_t r;
	int rc = RC_OK;

	while ((r = pread(pfd, buf, 1 << 20, pos)) > 0) {
		if (write_all(lfd, buf, (size_t)r) < 0) {
			strbuf_addf(err, "append: %s", strerror(errno));
			rc = RC_TEMP;
			break;
		}
		pos += r;
	}
	if (rc == RC_OK && (r < 0 || fsync(lfd) < 0)) {
		strbuf_addf(err, "append: %s", strerror(errno));
		rc = RC_TEMP;
	}
	free(buf);
	return rc;
}

static int
seal_local(struct syncer *s, int fd, const struct rseg *rs,
    struct strbuf *err)
{
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
	int dirfd = mlog_dirfd(s->l), rc = RC_OK;

	mlog_growing_name(&from, rs->number);
	mlog_sealed_name(&to, rs->number, rs->sha224);
	if (fchmod(fd, 0444) < 0 || fsync(fd) < 0 ||
	    renameat(dirfd, from.buf, dirfd, to.buf) < 0 ||
	    fsync(dirfd) < 0) {
		strbuf_addf(err, "seal '%s': %s", from.buf, strerror(errno));
		rc = RC_TEMP;
	}
	strbuf_release(&from);
	strbuf_release(&to);
	return rc;
}

static int
split(struct syncer *s, unsigned num, const char *why, struct strbuf *err)
{
	strbuf_addf(err, "remote log '%s' no longer matches the local copy "
	    "at segment %04u (%s): history was rewritten or truncated "
	    "upstream; local log left untouched", esc(s->url), num, why);
	return RC_PERM;
}

/*
 * Bring local segment i (growing, have bytes) up to remote rs, or
 * create it when i is past the local end (have = 0, lfd = -1).
 */
static int
sync_seg(struct syncer *s, const struct rseg *rs, int lfd, long long have,
    struct strbuf *err)
{
	char hex[57];
	int pfd = -1, rc, dirfd = mlog_dirfd(s->l), own = 0, retried = 0;

	if (rs->size < have)
		return split(s, rs->number, "it is shorter upstream", err);
	if (rs->size > have) {
		rc = download(s, rs, have, rs->size, &pfd, err);
		if (rc != RC_OK)
			return rc;
	}
verify:
	if (hash_parts(lfd, have, pfd, hex) < 0) {
		strbuf_addf(err, "read segment %04u: %s", rs->number,
		    strerror(errno));
		rc = RC_TEMP;
		goto out;
	}
	if (strcmp(hex, rs->sha224) != 0) {
		if (pfd >= 0) {
			/* corrupt download or a rewritten prefix: start over */
			drop_part(s, rs->number, have);
			close(pfd);
			pfd = -1;
		}
		if (have == 0) {
			/*
			 * Perhaps a part file left by an earlier run was bad:
			 * try once more from scratch before giving up.
			 */
			if (!retried++) {
				rc = download(s, rs, 0, rs->size, &pfd, err);
				if (rc != RC_OK)
					goto out;
				goto verify;
			}
			strbuf_addf(err, "segment %04u from '%s' does not "
			    "match its SHA-224; not accepted", rs->number,
			    esc(s->url));
			rc = RC_PERM;
			goto out;
		}
		/* Fetch the whole segment to tell the two apart. */
		rc = download(s, rs, 0, rs->size, &pfd, err);
		if (rc != RC_OK)
			goto out;
		if (hash_parts(-1, 0, pfd, hex) == 0 &&
		    strcmp(hex, rs->sha224) == 0) {
			drop_part(s, rs->number, 0);
			rc = split(s, rs->number, "its start differs", err);
		} else {
			drop_part(s, rs->number, 0);
			strbuf_addf(err, "segment %04u from '%s' does not "
			    "match its SHA-224; not accepted", rs->number,
			    esc(s->url));
			rc = RC_PERM;
		}
		goto out;
	}
	if (pfd >= 0) {
		if (lfd < 0) {
			/* a new segment: the verified part becomes it */
			struct strbuf name = STRBUF_INIT, pname = STRBUF_INIT;

			mlog_growing_name(&name, rs->number);
			strbuf_addf(&pname, ".%04u.%lld.part", rs->number, have);
			if (fsync(pfd) < 0 || renameat(dirfd, pname.buf, dirfd,
			    name.buf) < 0 || fsync(dirfd) < 0) {
				strbuf_addf(err, "install '%s': %s", name.buf,
				    strerror(errno));
				rc = RC_TEMP;
			}
			strbuf_release(&name);
			strbuf_release(&pname);
			if (rc != RC_OK)
				goto out;
			lfd = pfd;
			own = 1;
			pfd = -1;
		} else {
			if ((rc = append_part(lfd, pfd, err)) != RC_OK)
				goto out;
			drop_part(s, rs->number, have);
		}
		s->moved = 1;
	}
	if (rs->sealed) {
		rc = seal_local(s, lfd, rs, err);
		if (rc == RC_OK)
			s->moved = 1;
	}
	rc = RC_OK;
out:
	if (pfd >= 0)
		close(pfd);
	if (own)
		close(lfd);
	return rc;
}

/* One round: make the local log equal the fetched index. */
static int
sync_round(struct syncer *s, long long *total, struct strbuf *err)
{
	struct mlog *l = s->l;
	size_t i, nl;
	int rc;

	if ((rc = mlog_scan(l, err)) != RC_OK)
		return rc;
	nl = mlog_nsegs(l);
	if (nl > s->n)
		return split(s, (unsigned)s->n, "it is gone upstream", err);
	for (i = 0; i < s->n; i++) {
		const struct rseg *rs = &s->segs[i];
		const struct mlog_seg *ls = i < nl ? mlog_seg(l, i) : NULL;

		if (ls != NULL && ls->sealed) {
			if (rs->size != ls->size ||
			    strcmp(rs->sha224, ls->sha224) != 0)
				return split(s, ls->number, "a sealed segment "
				    "differs", err);
			continue;
		}
		if (ls != NULL) {
			off_t len;
			int fd;

			rc = mlog_seg_readable(l, i, NULL, &len, err);
			if (rc != RC_OK)
				return rc;
			fd = openat(mlog_dirfd(l), ls->name,
			    O_RDWR | O_APPEND | O_CLOEXEC);
			if (fd < 0) {
				strbuf_addf(err, "open '%s': %s", ls->name,
				    strerror(errno));
				return RC_TEMP;
			}
			/* a torn tail cannot come from a verified copy */
			if (len != ls->size && ftruncate(fd, len) < 0) {
				close(fd);
				return RC_TEMP;
			}
			rc = sync_seg(s, rs, fd, len, err);
			close(fd);
		} else
			rc = sync_seg(s, rs, -1, 0, err);
		if (rc != RC_OK)
			return rc;
	}
	*total = 0;
	for (i = 0; i < s->n; i++)
		*total += s->segs[i].size;
	return RC_OK;
}

int
cmd_sync(int argc, char **argv)
{
	struct mlog *l;
	struct strbuf err = STRBUF_INIT;
	struct syncer s;
	long long total = 0, last_total = -1;
	int ch, fflag = 0, rc, backoff = 1, first = 1;

	while ((ch = getopt(argc, argv, "+f")) != -1) {
		switch (ch) {
		case 'f':
			fflag = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if (strncmp(argv[0], "http://", 7) != 0 &&
	    strncmp(argv[0], "https://", 8) != 0)
		fatalx(RC_PERM, "bad url '%s': want http:// or https://",
		    esc(argv[0]));
	l = open_log(MLOG_CREATE);
	memset(&s, 0, sizeof(s));
	s.l = l;
	s.url = argv[0];
	signal(SIGPIPE, SIG_IGN);
	if ((rc = mlog_lock(l, fflag ? -1 : MLOG_LOCK_TIMEOUT_MS, &err)) !=
	    RC_OK)
		fatalx(rc, "%s", err.buf);
	for (;;) {
		rc = fetch_index(&s, first ? -1 : total, 55, &err);
		if (rc == RC_OK)
			rc = sync_round(&s, &total, &err);
		if (rc == RC_OK && fflag && s.moved) {
			log_info("synced to %lld bytes", total);
			s.moved = 0;
		}
		if (rc == RC_OK || rc == RC_NO) {
			/*
			 * A server without long polls answers at once: do
			 * not spin, ask again in a second (as maintner does).
			 */
			if (fflag && rc == RC_OK && !first &&
			    total == last_total)
				sleep(1);
			last_total = total;
			first = 0;
			backoff = 1;
			if (!fflag)
				break;
			continue;
		}
		if (rc == RC_PERM || !fflag)
			break;
		/* a temporary failure while following: wait and go on */
		log_warnx("%s (retrying in %d s)", err.buf, backoff);
		strbuf_reset(&err);
		sleep((unsigned)backoff);
		if (backoff < 15)
			backoff *= 2;
		first = 1;
	}
	if (rc != RC_OK && rc != RC_NO)
		log_warnx("%s", err.buf);
	else
		rc = s.moved ? RC_OK : RC_NO;
	free_index(&s);
	strbuf_release(&err);
	return rc;
}
