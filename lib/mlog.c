#include "compat.h"

#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crypto.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

static int read_segs(struct mlog *l, struct mlog_cursor *cur, int one,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg, int outfd,
    struct strbuf *err);
struct watcher;
static void watcher_put(struct watcher *w);

struct mlog {
	char *dir;
	int dirfd;
	int lockfd;		/* >= 0 while we hold the writer lock */
	struct watcher *w;	/* shared, after mlog_watch */
	uint64_t wgen;		/* w's generation last seen */
	uint64_t seal_size;
	struct mlog_seg *segs;
	size_t nsegs, alloc;
	/* writer state, valid while locked */
	uint64_t last_seq;
	int wfd;		/* growing segment, or -1 */
	unsigned wnum;		/* its number (or the next to create) */
	off_t wsize;
	off_t synced;		/* wsize as of the last fsync */
	uint64_t synced_seq;	/* last_seq as of then */
	struct strbuf wbuf;	/* mlog_put_prep's lines, kept for the next */
	/*
	 * The growing segment's hash, fed as it is written, so that
	 * sealing need not read it back: covers [0, wsize); NULL when
	 * not started (a segment found at mlog_lock) or after a cut back.
	 */
	struct hash *wh;
};

#define WBUF_KEEP (4u << 20)	/* a larger wbuf is freed after use */

const char *
mlog_dir(const struct mlog *l)
{
	return l->dir;
}

int
mlog_dirfd(const struct mlog *l)
{
	return l->dirfd;
}

void
mlog_set_seal_size(struct mlog *l, uint64_t size)
{
	l->seal_size = size ? size : MLOG_SEAL_SIZE;
}

size_t
mlog_nsegs(const struct mlog *l)
{
	return l->nsegs;
}

const struct mlog_seg *
mlog_seg(const struct mlog *l, size_t i)
{
	return i < l->nsegs ? &l->segs[i] : NULL;
}

long
mlog_find(const struct mlog *l, unsigned n)
{
	/* segments are numbered 0..nsegs-1 after a successful scan */
	if (n < l->nsegs && l->segs[n].number == n)
		return (long)n;
	return -1;
}

void
mlog_growing_name(struct strbuf *out, unsigned n)
{
	strbuf_addf(out, "%04u.jsonl", n);
}

void
mlog_sealed_name(struct strbuf *out, unsigned n, const char *sha224)
{
	strbuf_addf(out, "%04u.%s.jsonl", n, sha224);
}

int
mlog_open(struct mlog **lp, const char *dir, int flags, struct strbuf *err)
{
	struct mlog *l;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && (flags & MLOG_CREATE)) {
		/* create parents too: a fresh farm has no state dir yet */
		if (mkdirs(dir) < 0) {
			strbuf_addf(err, "create log directory '%s': %s", dir,
			    strerror(errno));
			return RC_TEMP;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0) {
		strbuf_addf(err, "open log directory '%s': %s", dir,
		    strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? RC_PERM : RC_TEMP;
	}
	l = xcalloc(1, sizeof(*l));
	l->dir = xstrdup(dir);
	l->dirfd = fd;
	l->lockfd = l->wfd = -1;
	l->seal_size = MLOG_SEAL_SIZE;
	strbuf_init(&l->wbuf, 0);
	*lp = l;
	return RC_OK;
}

void
mlog_close(struct mlog *l)
{
	if (l == NULL)
		return;
	mlog_unlock(l);
	watcher_put(l->w);
	close(l->dirfd);
	free(l->segs);
	free(l->dir);
	strbuf_release(&l->wbuf);
	free(l);
}

/* Parse "NNNN.jsonl" or "NNNN.<56 hex>.jsonl"; 0 on success. */
static int
parse_name(const char *name, struct mlog_seg *seg)
{
	const char *p = name;
	unsigned long n = 0;
	size_t digits = 0, hex;
	char canon[96];

	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 99999999)
			return -1;
		p++;
		digits++;
	}
	if (digits < 4 || *p != '.')
		return -1;
	p++;
	memset(seg, 0, sizeof(*seg));
	seg->number = (unsigned)n;
	if (strcmp(p, "jsonl") == 0) {
		seg->sealed = 0;
	} else {
		hex = strspn(p, "0123456789abcdef");
		if (hex != 56 || strcmp(p + 56, ".jsonl") != 0)
			return -1;
		memcpy(seg->sha224, p, 56);
		seg->sha224[56] = '\0';
		seg->sealed = 1;
	}
	/* only the canonical spelling: no extra leading zeros */
	if (seg->sealed)
		snprintf(canon, sizeof(canon), "%04u.%s.jsonl", seg->number,
		    seg->sha224);
	else
		snprintf(canon, sizeof(canon), "%04u.jsonl", seg->number);
	if (strcmp(canon, name) != 0)
		return -1;
	memcpy(seg->name, canon, strlen(canon) + 1);
	return 0;
}

int
mlog_is_log(const char *dir)
{
	struct mlog_seg seg;
	struct dirent *de;
	DIR *d;
	int is = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!is && (de = readdir(d)) != NULL)
		is = strcmp(de->d_name, "lock") == 0 ||
		    parse_name(de->d_name, &seg) == 0;
	closedir(d);
	return is;
}

static int
segcmp(const void *a, const void *b)
{
	const struct mlog_seg *x = a, *y = b;

	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return x->sealed - y->sealed;
}

int
mlog_scan(struct mlog *l, struct strbuf *err)
{
	DIR *d;
	struct dirent *de;
	int fd;
	size_t i;

	fd = openat(l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		strbuf_addf(err, "read log directory '%s': %s", l->dir,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return RC_TEMP;
	}
	l->nsegs = 0;
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct mlog_seg seg;
		struct stat st;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "lock") == 0)
			continue;
		if (parse_name(de->d_name, &seg) < 0) {
			strbuf_addf(err, "foreign file '%s' in log directory "
			    "'%s'", de->d_name, l->dir);
			closedir(d);
			return RC_PERM;
		}
		if (fstatat(l->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;	/* renamed under us; rescan later */
			strbuf_addf(err, "stat '%s/%s': %s", l->dir, de->d_name,
			    strerror(errno));
			closedir(d);
			return RC_TEMP;
		}
		if (!S_ISREG(st.st_mode)) {
			strbuf_addf(err, "foreign file '%s' in log directory "
			    "'%s': not a regular file", de->d_name, l->dir);
			closedir(d);
			return RC_PERM;
		}
		seg.size = st.st_size;
		GROW(l->segs, l->nsegs + 1, l->alloc);
		l->segs[l->nsegs++] = seg;
	}
	closedir(d);
	if (l->nsegs > 1)
		qsort(l->segs, l->nsegs, sizeof(*l->segs), segcmp);
	for (i = 0; i < l->nsegs; i++) {
		if (l->segs[i].number != i) {
			/*
			 * A growing file beside the sealed file of the same
			 * number is the instant of a seal seen by a reader
			 * racing the rename; it cannot be, since rename is
			 * atomic -- so any mismatch is damage.
			 */
			strbuf_addf(err, "log directory '%s': segment %zu "
			    "missing or duplicated (found '%s')", l->dir, i,
			    l->segs[i].name);
			return RC_PERM;
		}
		if (!l->segs[i].sealed && i + 1 != l->nsegs) {
			strbuf_addf(err, "log directory '%s': growing segment "
			    "'%s' is not the last", l->dir, l->segs[i].name);
			return RC_PERM;
		}
	}
	return RC_OK;
}

static int
open_seg(struct mlog *l, size_t i, int flags, struct strbuf *err)
{
	int fd = openat(l->dirfd, l->segs[i].name, flags | O_CLOEXEC);

	if (fd < 0)
		strbuf_addf(err, "open '%s/%s': %s", l->dir, l->segs[i].name,
		    strerror(errno));
	return fd;
}

/* Offset just past the last '\n' in fd[0..size), or 0. */
static int
last_newline(int fd, off_t size, off_t *endp)
{
	char buf[65536];
	off_t pos = size;

	while (pos > 0) {
		size_t n = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t r;

		r = pread_all(fd, buf, n, pos - (off_t)n);
		if (r < 0)
			return -1;
		if ((size_t)r != n) {
			errno = EIO;
			return -1;
		}
		for (size_t j = n; j > 0; j--) {
			if (buf[j - 1] == '\n') {
				*endp = pos - (off_t)n + (off_t)j;
				return 0;
			}
		}
		pos -= (off_t)n;
	}
	*endp = 0;
	return 0;
}

int
mlog_seg_readable(struct mlog *l, size_t i, int *fdp, off_t *lenp,
    struct strbuf *err)
{
	struct stat st;
	int fd;

	if (i >= l->nsegs) {
		strbuf_addf(err, "no segment %zu in '%s'", i, l->dir);
		return RC_PERM;
	}
	fd = open_seg(l, i, O_RDONLY, err);
	if (fd < 0) {
		/* a growing segment sealed under us: caller rescans */
		return errno == ENOENT ? RC_NO : RC_TEMP;
	}
	if (fstat(fd, &st) < 0) {
		strbuf_addf(err, "stat '%s': %s", l->segs[i].name,
		    strerror(errno));
		close(fd);
		return RC_TEMP;
	}
	if (l->segs[i].sealed)
		*lenp = st.st_size;
	else if (last_newline(fd, st.st_size, lenp) < 0) {
		strbuf_addf(err, "read '%s/%s': %s", l->dir, l->segs[i].name,
		    strerror(errno));
		close(fd);
		return RC_TEMP;
	}
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return RC_OK;
}

int
mlog_seg_hash(struct mlog *l, size_t i, off_t len, char hex[57],
    struct strbuf *err)
{
	struct hash *h;
	char *buf;
	off_t pos = 0;
	int fd;

	if (i >= l->nsegs)
		return RC_PERM;
	fd = open_seg(l, i, O_RDONLY, err);
	if (fd < 0)
		return errno == ENOENT ? RC_NO : RC_TEMP;
	h = hash_new(HASH_SHA224);
	buf = xmalloc(1 << 20);
	while (pos < len) {
		size_t want = len - pos > (1 << 20) ? (1 << 20) : (size_t)(len - pos);
		ssize_t r = pread_all(fd, buf, want, pos);

		if (r <= 0) {
			strbuf_addf(err, "read '%s/%s': %s", l->dir,
			    l->segs[i].name, r < 0 ? strerror(errno) :
			    "file shorter than expected");
			free(buf);
			hash_free(h);
			close(fd);
			return RC_TEMP;
		}
		hash_update(h, buf, (size_t)r);
		pos += r;
	}
	hash_hex(h, hex);
	free(buf);
	hash_free(h);
	close(fd);
	return RC_OK;
}

uint64_t
mlog_line_seq(const char *line, size_t len)
{
	struct strbuf err = STRBUF_INIT;
	struct json *j;
	int64_t v = 0;

	j = json_parse(line, len, &err);
	strbuf_release(&err);
	if (j == NULL)
		return 0;
	if (!json_get_int(json_get(j, "seq"), &v) || v < 0)
		v = 0;
	json_free(j);
	return (uint64_t)v;
}

/*
 * The scan behind mlog_line_member.  p is at the opening quote of a
 * string: past its closing quote, or NULL.  A quote ends the string
 * unless an odd number of backslashes stands before it.
 */
static const char *
skip_string(const char *p, const char *e)
{
	const char *q, *b;

	for (p++; p < e; p = q + 1) {
		if ((q = memchr(p, '"', (size_t)(e - p))) == NULL)
			return NULL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if ((q - b) % 2 == 0)
			return q + 1;
	}
	return NULL;
}

/* Past the value at p (a member's), or NULL. */
static const char *
skip_value(const char *p, const char *e)
{
	size_t depth = 0;

	if (p >= e)
		return NULL;
	if (*p == '"')
		return skip_string(p, e);
	if (*p != '{' && *p != '[') {
		/* an integer, true, false or null */
		while (p < e && ((*p >= '0' && *p <= '9') || *p == '-' ||
		    (*p >= 'a' && *p <= 'z')))
			p++;
		return p;
	}
	while (p < e) {
		switch (*p) {
		case '"':
			if ((p = skip_string(p, e)) == NULL)
				return NULL;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
	return NULL;
}

/*
 * The member whose key's opening quote is at p, before e: *vp gets the
 * start of its value (the key is [p, *vp - 1) with its quotes); returns
 * the end of the value, or NULL when p is not at such a member.
 */
static const char *
skip_member(const char *p, const char *e, const char **vp)
{
	const char *q;

	if (p >= e || *p != '"' || (q = skip_string(p, e)) == NULL ||
	    q >= e || *q != ':')
		return NULL;
	*vp = ++q;
	if ((q = skip_value(q, e)) == NULL || q == *vp)
		return NULL;
	return q;
}

int
mlog_line_member(const char *line, size_t len, const char *qkey,
    size_t qklen, const char **vp, size_t *vlenp)
{
	const char *p = line + 1, *e = line + len - 1, *k, *v;

	if (len < 2 || line[0] != '{' || *e != '}')
		return -1;
	if (p == e)
		return 0;
	for (;;) {
		k = p;
		if ((p = skip_member(p, e, &v)) == NULL)
			return -1;
		if ((size_t)(v - 1 - k) == qklen && memcmp(k, qkey, qklen) == 0) {
			*vp = v;
			*vlenp = (size_t)(p - v);
			return 1;
		}
		if (p == e)
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

/* seq of the last line in fd[0..end); 0 when empty; -1 on damage. */
static int
last_line_seq(int fd, off_t end, uint64_t *seq)
{
	off_t start;
	char *buf;
	ssize_t r;
	size_t n;

	*seq = 0;
	if (end == 0)
		return 0;
	start = end > (off_t)MLOG_MAX_STORED + 1 ? end - (off_t)MLOG_MAX_STORED - 1 : 0;
	n = (size_t)(end - start);
	buf = xmalloc(n);
	r = pread_all(fd, buf, n, start);
	if (r < 0 || (size_t)r != n) {
		free(buf);
		return -1;
	}
	/* buf ends in '\n'; find the one before it */
	{
		size_t j = n - 1;

		while (j > 0 && buf[j - 1] != '\n')
			j--;
		*seq = mlog_line_seq(buf + j, n - 1 - j);
	}
	free(buf);
	return *seq == 0 ? -1 : 0;
}

/*
 * The seqs of segment i, the last one holding records (fd[0..end)),
 * must go on from the segment before without a gap or a repeat: its
 * first seq is one past the previous segment's last, and its last seq,
 * *last, is first + lines - 1.  A writer that numbered from a bad last
 * record would carry the damage on, so writers refuse such a log until
 * it is repaired (maintlog(1) says how).  Costs one read of the segment
 * and the parse of two lines; sealed segments before it are checked by
 * maintlog verify, not here.
 */
static int
check_seqs(struct mlog *l, size_t i, int fd, off_t end, uint64_t last,
    struct strbuf *err)
{
	char *buf = xmalloc(1 << 20), *nl;
	uint64_t first, prev = 0, lines = 0;
	off_t pos = 0;
	ssize_t r;
	int rc = RC_OK;

	while (pos < end) {
		size_t want = end - pos > (1 << 20) ? (1 << 20) :
		    (size_t)(end - pos);
		const char *p;

		if ((r = pread_all(fd, buf, want, pos)) <= 0) {
			strbuf_addf(err, "read '%s/%s': %s", l->dir,
			    l->segs[i].name, r < 0 ? strerror(errno) :
			    "file shorter than expected");
			rc = RC_TEMP;
			goto out;
		}
		for (p = buf; (p = memchr(p, '\n', buf + r - p)) != NULL; p++)
			lines++;
		pos += r;
	}
	/* the first line, at most MLOG_MAX_STORED bytes */
	r = pread_all(fd, buf, end < (off_t)(1 << 20) ? (size_t)end : 1 << 20,
	    0);
	nl = r > 0 ? memchr(buf, '\n', (size_t)r) : NULL;
	first = nl != NULL ? mlog_line_seq(buf, (size_t)(nl - buf)) : 0;
	if (i > 0) {
		int pfd = open_seg(l, i - 1, O_RDONLY, err);

		if (pfd < 0) {
			rc = RC_TEMP;
			goto out;
		}
		if (last_line_seq(pfd, l->segs[i - 1].size, &prev) < 0)
			prev = UINT64_MAX;
		close(pfd);
	}
	if (first == 0 || first != prev + 1 || last != first + lines - 1) {
		strbuf_addf(err, "log '%s': the seqs of '%s' do not follow "
		    "on without a gap (%llu lines, seqs %llu to %llu",
		    l->dir, l->segs[i].name, (unsigned long long)lines,
		    (unsigned long long)first, (unsigned long long)last);
		if (i > 0)
			strbuf_addf(err, ", after %llu",
			    (unsigned long long)prev);
		strbuf_addstr(err, "); run maintlog verify and repair the "
		    "log before appending");
		rc = RC_PERM;
	}
out:
	free(buf);
	return rc;
}

static int
load_tail(struct mlog *l, struct strbuf *err)
{
	int rc;

	rc = mlog_scan(l, err);
	if (rc != RC_OK)
		return rc;
	l->last_seq = 0;
	l->wfd = -1;
	l->wnum = (unsigned)l->nsegs;
	l->wsize = 0;
	hash_free(l->wh);	/* what the hash covers is read again */
	l->wh = NULL;
	if (l->nsegs == 0)
		return RC_OK;

	size_t i = l->nsegs - 1;
	struct mlog_seg *s = &l->segs[i];
	off_t end;
	int fd;

	fd = open_seg(l, i, s->sealed ? O_RDONLY : O_RDWR | O_APPEND, err);
	if (fd < 0)
		return RC_TEMP;
	if (last_newline(fd, s->size, &end) < 0) {
		strbuf_addf(err, "read '%s/%s': %s", l->dir, s->name,
		    strerror(errno));
		close(fd);
		return RC_TEMP;
	}
	if (!s->sealed && end != s->size) {
		/* a torn tail from a writer that died mid-write: cut it */
		if (ftruncate(fd, end) < 0 || fsync(fd) < 0) {
			strbuf_addf(err, "truncate torn tail of '%s/%s': %s",
			    l->dir, s->name, strerror(errno));
			close(fd);
			return RC_TEMP;
		}
		s->size = end;
	}
	if (end == 0 && i > 0) {
		/* empty growing segment: the last seq is in the one before */
		int pfd = open_seg(l, i - 1, O_RDONLY, err);

		if (pfd < 0) {
			close(fd);
			return RC_TEMP;
		}
		if (last_line_seq(pfd, l->segs[i - 1].size, &l->last_seq) < 0) {
			strbuf_addf(err, "log '%s': cannot read the last seq "
			    "of '%s' (damaged? run maintlog verify)", l->dir,
			    l->segs[i - 1].name);
			close(pfd);
			close(fd);
			return RC_PERM;
		}
		rc = check_seqs(l, i - 1, pfd, l->segs[i - 1].size,
		    l->last_seq, err);
		close(pfd);
	} else if (last_line_seq(fd, end, &l->last_seq) < 0) {
		strbuf_addf(err, "log '%s': cannot read the last seq of '%s' "
		    "(damaged? run maintlog verify)", l->dir, s->name);
		close(fd);
		return RC_PERM;
	} else if (end > 0)
		rc = check_seqs(l, i, fd, end, l->last_seq, err);
	if (rc != RC_OK) {
		close(fd);
		return rc;
	}
	if (s->sealed) {
		close(fd);
	} else {
		l->wfd = fd;
		l->wnum = s->number;
		l->wsize = end;
	}
	l->synced = l->wsize;
	l->synced_seq = l->last_seq;
	return RC_OK;
}

int
mlog_lock(struct mlog *l, int timeout_ms, struct strbuf *err)
{
	int rc, fd;

	if (l->lockfd >= 0)
		return RC_OK;
	fd = openat(l->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		strbuf_addf(err, "open '%s/lock': %s", l->dir, strerror(errno));
		return errno == EACCES || errno == EROFS ? RC_PERM : RC_TEMP;
	}
	rc = lock_fd(fd, 0, timeout_ms, err);
	if (rc != RC_OK) {
		close(fd);
		return rc;
	}
	l->lockfd = fd;
	rc = load_tail(l, err);
	if (rc != RC_OK)
		mlog_unlock(l);
	return rc;
}

void
mlog_unlock(struct mlog *l)
{
	hash_free(l->wh);
	l->wh = NULL;
	if (l->wfd >= 0) {
		close(l->wfd);
		l->wfd = -1;
	}
	if (l->lockfd >= 0) {
		close(l->lockfd);
		l->lockfd = -1;
	}
}

uint64_t
mlog_last_seq(const struct mlog *l)
{
	return l->last_seq;
}

/* Seal the growing segment: fsync, hash, chmod, rename, fsync dir. */
static int
seal(struct mlog *l, struct strbuf *err)
{
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
	struct hash *h;
	char hex[HASH_HEX_MAX], *buf;
	off_t pos = 0;
	int rc = RC_TEMP;

	/* a segment not hashed as it was written is read back */
	if ((h = l->wh) == NULL)
		h = hash_new(HASH_SHA224);
	else
		pos = l->wsize;
	l->wh = NULL;
	buf = xmalloc(1 << 20);
	while (pos < l->wsize) {
		ssize_t r = pread(l->wfd, buf, 1 << 20, pos);

		if (r <= 0) {
			strbuf_addf(err, "read segment %04u for sealing: %s",
			    l->wnum, r < 0 ? strerror(errno) : "short file");
			goto out;
		}
		hash_update(h, buf, (size_t)r);
		pos += r;
	}
	hash_hex(h, hex);
	mlog_growing_name(&from, l->wnum);
	mlog_sealed_name(&to, l->wnum, hex);
	if (fchmod(l->wfd, 0444) < 0 || fsync(l->wfd) < 0 ||
	    renameat(l->dirfd, from.buf, l->dirfd, to.buf) < 0 ||
	    fsync(l->dirfd) < 0) {
		strbuf_addf(err, "seal '%s/%s': %s", l->dir, from.buf,
		    strerror(errno));
		goto out;
	}
	close(l->wfd);
	l->wfd = -1;
	l->wnum++;
	l->wsize = l->synced = 0;
	l->synced_seq = l->last_seq;
	rc = RC_OK;
out:
	free(buf);
	hash_free(h);
	strbuf_release(&from);
	strbuf_release(&to);
	return rc;
}

static int
create_growing(struct mlog *l, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	int fd;

	mlog_growing_name(&name, l->wnum);
	fd = openat(l->dirfd, name.buf,
	    O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || fsync(l->dirfd) < 0) {
		strbuf_addf(err, "create '%s/%s': %s", l->dir, name.buf,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		strbuf_release(&name);
		return RC_TEMP;
	}
	strbuf_release(&name);
	l->wfd = fd;
	l->wsize = l->synced = 0;
	hash_free(l->wh);
	l->wh = hash_new(HASH_SHA224);
	return RC_OK;
}

/*
 * A write or fsync failed: cut back to the last fsync, so that no half
 * batch is left, and forget the seqs written since.
 */
static int
cut_back(struct mlog *l, const char *what, struct strbuf *err)
{
	int e = errno;

	strbuf_addf(err, "%s '%s/%04u.jsonl': %s", what, l->dir, l->wnum,
	    strerror(e));
	if (ftruncate(l->wfd, l->synced) == 0)
		(void)fsync(l->wfd);
	hash_free(l->wh);	/* it took in what is cut off */
	l->wh = NULL;
	l->wsize = l->synced;
	l->last_seq = l->synced_seq;
	/* a full disk or quota is temporary: retry after cleanup */
	return RC_TEMP;
}

/* write whole lines to the growing segment (mlog_sync makes them durable) */
static int
flush(struct mlog *l, const char *buf, size_t len, struct strbuf *err)
{
	int rc;

	if (len == 0)
		return RC_OK;
	if (l->wfd < 0 && (rc = create_growing(l, err)) != RC_OK)
		return rc;
	if (write_all(l->wfd, buf, len) < 0)
		return cut_back(l, "append to", err);
	if (l->wh != NULL)
		hash_update(l->wh, buf, len);
	l->wsize += (off_t)len;
	return RC_OK;
}

int
mlog_sync(struct mlog *l, struct strbuf *err)
{
	if (l->wfd >= 0 && l->wsize != l->synced && fsync(l->wfd) < 0)
		return cut_back(l, "fsync", err);
	l->synced = l->wsize;
	l->synced_seq = l->last_seq;
	return RC_OK;
}

/*
 * Placeholders for the envelope.  A record is encoded (parse, dump with
 * sorted keys: the expensive part) in any thread, before the lock is
 * taken, with "seq" and "time" members holding two random tokens put
 * into the dumped text where the sorted order puts them; the writer
 * then only splices the real seq and time in at the positions noted.
 * The tokens are 128 random bits each, so that a record cannot contain
 * them by accident (the positions do not rely on it).
 */
static char tok_seq[40], tok_time[40];
static char qtok_seq[40], qtok_time[40];	/* as JSON strings: 37 bytes */
static pthread_once_t tok_once = PTHREAD_ONCE_INIT;

static void
tok_init(void)
{
	unsigned char r[32];
	static const char x[] = "0123456789abcdef";
	int i;

	if (random_bytes(r, sizeof(r)) < 0) {
		/* no CSPRNG: still unique per process and time */
		struct timespec ts = time_now();

		for (i = 0; i < 32; i++)
			r[i] = (unsigned char)((ts.tv_nsec >> (i % 8)) ^
			    (getpid() >> (i % 4)) ^ (i * 37));
	}
	for (i = 0; i < 16; i++) {
		tok_seq[2 * i] = x[r[i] >> 4];
		tok_seq[2 * i + 1] = x[r[i] & 15];
		tok_time[2 * i] = x[r[16 + i] >> 4];
		tok_time[2 * i + 1] = x[r[16 + i] & 15];
	}
	memcpy(tok_seq + 32, "seq", 4);
	memcpy(tok_time + 32, "tim", 4);
	qtok_seq[0] = qtok_time[0] = '"';
	memcpy(qtok_seq + 1, tok_seq, 35);
	memcpy(qtok_time + 1, tok_time, 35);
	qtok_seq[36] = qtok_time[36] = '"';
}

void
mlog_prep_init(struct mlog_prep *p)
{
	memset(p, 0, sizeof(*p));
	strbuf_init(&p->text, 0);
	pthread_once(&tok_once, tok_init);
}

void
mlog_prep_release(struct mlog_prep *p)
{
	strbuf_release(&p->text);
	free(p->ends);
	free(p->seqpos);
	free(p->timepos);
	memset(p, 0, sizeof(*p));
	strbuf_init(&p->text, 0);
}

int
mlog_valid_type(const char *t)
{
	size_t n = strlen(t);

	return n > 0 && n <= 64 && strspn(t,
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n &&
	    t[0] != '.' && t[0] != '-';
}

int
mlog_check_rec(const struct json *rec, const char *type, struct strbuf *err)
{
	struct strbuf path;
	const struct json *tv;
	const char *t;

	if (json_kind(rec) != JK_OBJECT) {
		strbuf_addstr(err, "not a JSON object");
		return RC_PERM;
	}
	tv = json_get(rec, "type");
	if (tv != NULL && (t = json_str(tv, NULL)) == NULL) {
		strbuf_addstr(err, "\"type\" is not a string");
		return RC_PERM;
	}
	if (tv == NULL && (t = type) == NULL) {
		strbuf_addstr(err, "record has no \"type\"");
		return RC_PERM;
	}
	if (!mlog_valid_type(t)) {
		/* no esc(): its buffers are static, and this runs in threads */
		strbuf_addstr(err, "bad type '");
		log_escape(err, t, strlen(t) > 64 ? 64 : strlen(t));
		strbuf_addstr(err, "': want [a-z0-9_.-], at most 64");
		return RC_PERM;
	}
	/*
	 * jansson keeps a real as a double and writes it back with 17
	 * digits (0.1 becomes 0.10000000000000001), so a real could not
	 * be stored as given; maintlog(5) allows integers only.
	 */
	strbuf_init(&path, 0);
	if (json_find_real(rec, &path)) {
		strbuf_addstr(err, "field '");
		log_escape(err, path.buf, path.len > 200 ? 200 : path.len);
		strbuf_addstr(err, "' is not an integer: records hold "
		    "integers only");
		strbuf_release(&path);
		return RC_PERM;
	}
	strbuf_release(&path);
	return RC_OK;
}

/*
 * Where the members "seq" and "time" go in t[0..n), the canonical text
 * of an object that has neither: *sp and *tp get the offset of the first
 * member whose key sorts after the one, or of the closing brace.  -1
 * when t does not read as such an object.  The keys are compared as
 * written: json_dump escapes only bytes below 0x20, '"' and '\\', and
 * both they and the escape's '\\' sort below the letters of "seq" and
 * "time", so the order is strcmp's, which JSON_SORT_KEYS follows.
 */
static int
envelope_slots(const char *t, size_t n, size_t *sp, size_t *tp)
{
	const char *p = t + 1, *e = t + n - 1, *q, *v;
	size_t l;
	int c;

	if (n < 2 || t[0] != '{' || *e != '}')
		return -1;
	*sp = (size_t)-1;
	while (p < e) {
		if ((q = skip_member(p, e, &v)) == NULL)
			return -1;
		l = (size_t)(v - 1 - p) - 2;	/* the key, without quotes */
		if (*sp == (size_t)-1 &&
		    ((c = memcmp(p + 1, "seq", l < 3 ? l : 3)) > 0 ||
		    (c == 0 && l > 3)))
			*sp = (size_t)(p - t);
		if ((c = memcmp(p + 1, "time", l < 4 ? l : 4)) > 0 ||
		    (c == 0 && l > 4)) {
			*tp = (size_t)(p - t);
			return 0;
		}
		p = q;
		if (p < e && *p++ != ',')
			return -1;
	}
	if (*sp == (size_t)-1)
		*sp = (size_t)(e - t);
	*tp = (size_t)(e - t);
	return 0;
}

/*
 * Put member "key":tok (tok 37 bytes) into sb at offset at, a member's
 * start or the closing brace or the comma after the member before;
 * return the offset of tok.
 */
static size_t
put_member(struct strbuf *sb, size_t at, const char *key, const char *tok)
{
	char m[64];
	size_t kl = strlen(key), n = 0, tokat;

	if (sb->buf[at] != '"' && sb->buf[at - 1] != '{')
		m[n++] = ',';
	m[n++] = '"';
	memcpy(m + n, key, kl);
	n += kl;
	m[n++] = '"';
	m[n++] = ':';
	tokat = at + n;
	memcpy(m + n, tok, 37);
	n += 37;
	if (sb->buf[at] == '"')
		m[n++] = ',';
	strbuf_grow(sb, n);
	memmove(sb->buf + at + n, sb->buf + at, sb->len - at);
	memcpy(sb->buf + at, m, n);
	strbuf_setlen(sb, sb->len + n);
	return tokat;
}

int
mlog_prep_add(struct mlog_prep *p, struct json *r, const char *type,
    struct strbuf *err)
{
	size_t before = p->text.len, s, t, len;

	if (mlog_check_rec(r, type, err) != RC_OK)
		return RC_PERM;
	if (type != NULL && json_get(r, "type") == NULL)
		json_set_str(r, "type", type);
	/*
	 * The envelope is put into the text rather than into the object:
	 * setting and deleting two members, dumping them and finding them
	 * again cost more than the walk over the top-level members.
	 */
	json_del(r, "seq");
	json_del(r, "time");
	json_dump(&p->text, r);
	if (envelope_slots(p->text.buf + before, p->text.len - before, &s,
	    &t) < 0) {
		/* json_dump wrote something else than the object checked */
		strbuf_setlen(&p->text, before);
		strbuf_addstr(err, "record cannot be encoded");
		return RC_PERM;
	}
	/* "seq" < "time": s <= t, and putting seq shifts time */
	t = put_member(&p->text, before + t, "time", qtok_time);
	len = p->text.len;
	s = put_member(&p->text, before + s, "seq", qtok_seq);
	t += p->text.len - len;
	strbuf_addch(&p->text, '\n');
	if (p->text.len - before > MLOG_MAX_STORED) {
		strbuf_setlen(&p->text, before);
		strbuf_addf(err, "record over the limit of %u bytes",
		    MLOG_MAX_STORED);
		return RC_PERM;
	}
	GROW(p->ends, p->n + 1, p->aends);
	GROW(p->seqpos, p->n + 1, p->aseq);
	GROW(p->timepos, p->n + 1, p->atime);
	p->seqpos[p->n] = s;
	p->timepos[p->n] = t;
	p->ends[p->n] = p->text.len;
	p->n++;
	return RC_OK;
}

/* Splice record i of p with its seq and time into out. */
static void
splice_rec(struct strbuf *out, const struct mlog_prep *p, size_t i,
    uint64_t seq, const char *ts, size_t tslen)
{
	size_t b = i ? p->ends[i - 1] : 0, e = p->ends[i];
	size_t s = p->seqpos[i], t = p->timepos[i];
	size_t first = s < t ? s : t, second = s < t ? t : s;
	char num[24];
	int nl;

	nl = snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
	strbuf_add(out, p->text.buf + b, first - b);
	if (first == s)
		strbuf_add(out, num, (size_t)nl);
	else {
		strbuf_addch(out, '"');
		strbuf_add(out, ts, tslen);
		strbuf_addch(out, '"');
	}
	strbuf_add(out, p->text.buf + first + 37, second - first - 37);
	if (second == s)
		strbuf_add(out, num, (size_t)nl);
	else {
		strbuf_addch(out, '"');
		strbuf_add(out, ts, tslen);
		strbuf_addch(out, '"');
	}
	strbuf_add(out, p->text.buf + second + 37, e - second - 37);
}

int
mlog_put_prep(struct mlog *l, const struct mlog_prep *p, size_t from,
    size_t to, uint64_t *first_seq, struct strbuf *err)
{
	struct strbuf *lines = &l->wbuf, ts = STRBUF_INIT;
	uint64_t seq = l->last_seq;
	size_t *ends, i, done = 0;
	int rc = RC_OK;

	if (l->lockfd < 0) {
		strbuf_addstr(err, "mlog_write without the lock");
		return RC_PERM;
	}
	if (to > p->n || from > to) {
		strbuf_addstr(err, "mlog_write_prep: bad range");
		return RC_PERM;
	}
	time_rfc3339(&ts, time_now(), 1);
	ends = xcalloc(to - from + 1, sizeof(*ends));
	strbuf_grow(lines, (from < to ? p->ends[to - 1] -
	    (from ? p->ends[from - 1] : 0) : 0) + (to - from) * 40);
	for (i = from; i < to; i++) {
		splice_rec(lines, p, i, seq + (i - from) + 1, ts.buf, ts.len);
		ends[i - from] = lines->len;
	}
	/* write, sealing where the next record would pass the seal size */
	for (i = 0; i < to - from; i++) {
		size_t b = i ? ends[i - 1] : 0;

		if (l->wsize + (off_t)(b - done) > 0 &&
		    (uint64_t)(l->wsize + (off_t)(ends[i] - done)) >
		    l->seal_size) {
			if ((rc = flush(l, lines->buf + done, b - done, err)) !=
			    RC_OK)
				goto out;
			/* sealing makes the records before i durable */
			l->last_seq = seq + i;
			if (l->wfd >= 0 && (rc = seal(l, err)) != RC_OK)
				goto out;
			done = b;
		}
	}
	if ((rc = flush(l, lines->buf + done, lines->len - done, err)) != RC_OK)
		goto out;
	*first_seq = seq + 1;
	l->last_seq = seq + (to - from);
out:
	free(ends);
	if (lines->alloc > WBUF_KEEP)
		strbuf_release(lines);
	else
		strbuf_reset(lines);
	strbuf_release(&ts);
	return rc;
}

int
mlog_write_prep(struct mlog *l, const struct mlog_prep *p, size_t from,
    size_t to, uint64_t *first_seq, struct strbuf *err)
{
	uint64_t seq = l->last_seq;
	int rc;

	rc = mlog_put_prep(l, p, from, to, first_seq, err);
	if (rc == RC_OK)
		rc = mlog_sync(l, err);
	if (rc != RC_OK && l->synced_seq > seq)
		strbuf_addf(err, " (records %zu..%zu were appended)",
		    from + 1, from + (size_t)(l->synced_seq - seq));
	return rc;
}

int
mlog_write(struct mlog *l, struct json *const *recs, size_t n,
    const char *type, uint64_t *first_seq, struct strbuf *err)
{
	struct mlog_prep p;
	size_t i;
	int rc = RC_OK;

	mlog_prep_init(&p);
	for (i = 0; i < n && rc == RC_OK; i++) {
		rc = mlog_prep_add(&p, recs[i], type, err);
		if (rc != RC_OK) {
			struct strbuf m = STRBUF_INIT;

			strbuf_addf(&m, "record %zu: %s", i + 1, err->buf);
			strbuf_reset(err);
			strbuf_add(err, m.buf, m.len);
			strbuf_release(&m);
		}
	}
	if (rc == RC_OK)
		rc = mlog_write_prep(l, &p, 0, n, first_seq, err);
	mlog_prep_release(&p);
	return rc;
}

int
mlog_append(struct mlog *l, struct json *const *recs, size_t n,
    const char *type, uint64_t *first_seq, struct strbuf *err)
{
	int rc, held = l->lockfd >= 0;

	if (!held && (rc = mlog_lock(l, MLOG_LOCK_TIMEOUT_MS, err)) != RC_OK)
		return rc;
	rc = mlog_write(l, recs, n, type, first_seq, err);
	if (!held)
		mlog_unlock(l);
	return rc;
}

int
mlog_read(struct mlog *l, struct mlog_cursor *cur,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg,
    struct strbuf *err)
{
	return read_segs(l, cur, 0, fn, arg, -1, err);
}

int
mlog_read_seg(struct mlog *l, struct mlog_cursor *cur,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg,
    struct strbuf *err)
{
	return read_segs(l, cur, 1, fn, arg, -1, err);
}

int
mlog_copy(struct mlog *l, struct mlog_cursor *cur, int outfd,
    struct strbuf *err)
{
	return read_segs(l, cur, 0, NULL, NULL, outfd, err);
}

/*
 * Copy in[off, off + len) to out in the kernel where it can:
 * copy_file_range to a file, sendfile to a pipe or socket (or a file
 * opened with O_APPEND, which copy_file_range refuses), else read and
 * write.  -1 with errno set on failure.
 */
static int
copy_range(int in, off_t off, off_t len, int out)
{
	char buf[65536];
	int how = 0;
	ssize_t r;

	while (len > 0) {
		size_t n = len > (off_t)1 << 30 ? (size_t)1 << 30 : (size_t)len;

		if (how == 0) {
			r = copy_file_range(in, &off, out, NULL, n, 0);
			if (r < 0 && errno != EINTR && errno != EIO &&
			    errno != ENOSPC && errno != EFBIG) {
				how = 1;	/* not between these two */
				continue;
			}
		} else if (how == 1) {
			r = sendfile(out, in, &off, n);
			if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
				how = 2;
				continue;
			}
		} else {
			r = pread(in, buf, n < sizeof(buf) ? n : sizeof(buf),
			    off);
			if (r > 0 && write_all(out, buf, (size_t)r) < 0)
				return -1;
			if (r > 0)
				off += r;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* the file shrank */
			return -1;
		}
		len -= r;
	}
	return 0;
}

static int
read_segs(struct mlog *l, struct mlog_cursor *cur, int one,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg, int outfd,
    struct strbuf *err)
{
	for (;;) {
		long i = mlog_find(l, cur->seg);
		off_t len;
		int fd, rc;
		char *map;

		if (i < 0)
			return RC_OK;	/* nothing there (yet) */
		rc = mlog_seg_readable(l, (size_t)i, &fd, &len, err);
		if (rc == RC_NO) {
			/* sealed under us: pick up the new name */
			strbuf_reset(err);
			if ((rc = mlog_scan(l, err)) != RC_OK)
				return rc;
			continue;
		}
		if (rc != RC_OK)
			return rc;
		if (cur->off > len) {
			close(fd);
			strbuf_addf(err, "log '%s' shrank under the reader "
			    "(segment %04u)", l->dir, cur->seg);
			return RC_PERM;
		}
		if (len > cur->off && fn == NULL) {
			if (copy_range(fd, cur->off, len - cur->off, outfd) < 0) {
				strbuf_addf(err, "copy '%s/%s': %s", l->dir,
				    l->segs[i].name, strerror(errno));
				close(fd);
				return RC_TEMP;
			}
			cur->off = len;
		} else if (len > cur->off) {
			off_t pg = cur->off & ~(off_t)(sysconf(_SC_PAGESIZE) - 1);

			map = mmap(NULL, (size_t)(len - pg), PROT_READ,
			    MAP_PRIVATE, fd, pg);
			if (map == MAP_FAILED) {
				strbuf_addf(err, "mmap '%s/%s': %s", l->dir,
				    l->segs[i].name, strerror(errno));
				close(fd);
				return RC_TEMP;
			}
			(void)madvise(map, (size_t)(len - pg), MADV_SEQUENTIAL);
			rc = fn(map + (cur->off - pg), (size_t)(len - cur->off),
			    arg);
			munmap(map, (size_t)(len - pg));
			if (rc != 0) {
				close(fd);
				return rc;
			}
			cur->off = len;
		}
		close(fd);
		if (one || !l->segs[i].sealed || (size_t)i + 1 >= l->nsegs)
			return RC_OK;
		cur->seg++;
		cur->off = 0;
	}
}

int
mlog_seek_seq(struct mlog *l, uint64_t seq, struct mlog_cursor *cur,
    struct strbuf *err)
{
	size_t i, best = 0;
	int fd, rc;
	off_t len, off;
	char *map;

	cur->seg = 0;
	cur->off = 0;
	if (seq <= 1 || l->nsegs == 0)
		return RC_OK;
	/* the last segment whose first record has seq <= wanted */
	for (i = 0; i < l->nsegs; i++) {
		char buf[256];
		uint64_t first;
		ssize_t r;
		char *nl;
		struct strbuf line = STRBUF_INIT;

		rc = mlog_seg_readable(l, i, &fd, &len, err);
		if (rc != RC_OK)
			return rc;
		if (len == 0) {
			close(fd);
			break;
		}
		r = pread_all(fd, buf, sizeof(buf), 0);
		nl = r > 0 ? memchr(buf, '\n', (size_t)r) : NULL;
		if (nl != NULL) {
			first = mlog_line_seq(buf, (size_t)(nl - buf));
		} else {
			/* a long first line: read it whole */
			char *big = xmalloc(MLOG_MAX_STORED + 1);

			r = pread_all(fd, big, MLOG_MAX_STORED + 1, 0);
			nl = r > 0 ? memchr(big, '\n', (size_t)r) : NULL;
			first = nl ? mlog_line_seq(big, (size_t)(nl - big)) : 0;
			free(big);
		}
		strbuf_release(&line);
		close(fd);
		if (first == 0 || first > seq)
			break;
		best = i;
	}
	cur->seg = l->segs[best].number;
	rc = mlog_seg_readable(l, best, &fd, &len, err);
	if (rc != RC_OK)
		return rc;
	if (len == 0) {
		close(fd);
		return RC_OK;
	}
	map = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		strbuf_addf(err, "mmap: %s", strerror(errno));
		return RC_TEMP;
	}
	/*
	 * Seqs rise along the segment: binary search over line starts,
	 * parsing only the O(log n) lines probed.  lo is a line start whose
	 * seq is < seq (or 0), hi a line start (or len) whose seq is >= seq.
	 */
	{
		off_t lo = 0, hi = len;

		if (mlog_line_seq(map, (size_t)((char *)memchr(map, '\n',
		    (size_t)len) - map)) >= seq)
			hi = 0;
		while (hi > 0) {
			off_t mid = lo + (hi - lo) / 2, ls;
			char *nl;

			/* the start of the line holding byte mid ... */
			nl = memrchr(map + lo, '\n', (size_t)(mid - lo));
			ls = nl != NULL ? (off_t)(nl - map) + 1 : lo;
			if (ls <= lo) {
				/* ... or else the line after lo */
				nl = memchr(map + lo, '\n', (size_t)(len - lo));
				ls = (off_t)(nl - map) + 1;
			}
			if (ls >= hi)
				break;	/* hi is the line right after lo */
			nl = memchr(map + ls, '\n', (size_t)(len - ls));
			if (mlog_line_seq(map + ls, (size_t)(nl - (map + ls))) < seq)
				lo = ls;
			else
				hi = ls;
		}
		off = hi;
	}
	munmap(map, (size_t)len);
	cur->off = off;
	return RC_OK;
}

/*
 * The record loop.  read_segs hands over chunks of whole lines; each
 * chunk starts at cur as it stands during the call.
 */
struct each {
	struct mlog *l;
	struct mlog_cursor *cur;
	struct mlog_sel *sel;
	int (*fn)(const struct mlog_rec *, void *);
	void *arg;
	struct strbuf *err;
	const char *pre, *sec;	/* byte searches: first, then in the line */
	size_t prelen, seclen;
	const char *tval;	/* sel->type as JSON text, for sel->test */
	size_t tvallen;
	uint64_t prev;		/* seq of the last line parsed */
	const char *prevline;	/* that line, within the current chunk */
	int stopped;
	off_t stop;		/* where *cur goes when stopped */
};

/* Lines before offset off of segment seg, 1-based line of off. */
static unsigned long long
line_number(struct mlog *l, unsigned seg, off_t off)
{
	char buf[65536];
	unsigned long long n = 1;
	off_t pos = 0;
	long i = mlog_find(l, seg);
	int fd;

	if (i < 0 || (fd = openat(l->dirfd, l->segs[i].name,
	    O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (pos < off) {
		size_t want = off - pos > (off_t)sizeof(buf) ? sizeof(buf) :
		    (size_t)(off - pos);
		ssize_t r = pread(fd, buf, want, pos);
		char *p = buf, *e;

		if (r <= 0)
			break;
		e = buf + r;
		while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
			n++;
			p++;
		}
		pos += r;
	}
	close(fd);
	return pos == off ? n : 0;
}

/*
 * Parse line [ls, le) of the chunk at buf and check its envelope.
 * NULL after filling e->err (and setting the stop) on a bad line.
 */
static struct json *
each_parse(struct each *e, const char *buf, const char *ls, const char *le,
    uint64_t *seqp, const char **typep)
{
	struct strbuf why = STRBUF_INIT;
	struct json *j;
	int64_t seq;

	j = json_parse(ls, (size_t)(le - ls), &why);
	if (j == NULL || json_kind(j) != JK_OBJECT) {
		if (j != NULL)
			strbuf_addstr(&why, "not a JSON object");
		goto bad;
	}
	if (!json_get_int(json_get(j, "seq"), &seq) || seq < 1) {
		strbuf_addstr(&why, "no valid \"seq\"");
		goto bad;
	}
	if ((uint64_t)seq <= e->prev) {
		strbuf_addf(&why, "seq %lld after %llu", (long long)seq,
		    (unsigned long long)e->prev);
		goto bad;
	}
	if ((*typep = json_str(json_get(j, "type"), NULL)) == NULL) {
		strbuf_addf(&why, "seq %lld: no string \"type\"",
		    (long long)seq);
		goto bad;
	}
	e->prev = *seqp = (uint64_t)seq;
	e->prevline = ls;
	strbuf_release(&why);
	return j;
bad:
	json_free(j);
	e->stopped = 1;
	e->stop = e->cur->off + (off_t)(ls - buf);
	strbuf_addf(e->err, "log '%s' segment %04u line %llu: %s", e->l->dir,
	    e->cur->seg, line_number(e->l, e->cur->seg, e->stop), why.buf);
	strbuf_release(&why);
	return NULL;
}

/*
 * sel->test on line [ls, le), and the envelope read by mlog_line_member
 * when it says 1: 0 skip the line, 1 take it unparsed (*seqp set), -1
 * parse it.
 */
static int
each_test(struct each *e, const char *ls, const char *le, uint64_t *seqp)
{
	const char *v;
	size_t vl, i;
	uint64_t seq = 0;
	int r;

	if ((r = e->sel->test(ls, (size_t)(le - ls), e->arg)) != 1)
		return r;
	if (mlog_line_member(ls, (size_t)(le - ls), "\"seq\"", 5, &v,
	    &vl) != 1 || vl == 0 || vl > 19 || v[0] == '0')
		return -1;
	for (i = 0; i < vl; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		seq = seq * 10 + (uint64_t)(v[i] - '0');
	}
	if (seq <= e->prev)
		return -1;	/* the parse says what is wrong */
	if (e->tval != NULL) {
		if (mlog_line_member(ls, (size_t)(le - ls), "\"type\"", 6, &v,
		    &vl) != 1 || v[0] != '"')
			return -1;
		if (vl != e->tvallen || memcmp(v, e->tval, vl) != 0)
			return 0;
	}
	e->prev = *seqp = seq;
	e->prevline = ls;
	return 1;
}

static int
each_chunk(const char *buf, size_t len, void *arg)
{
	struct each *e = arg;
	const char *p = buf, *end = buf + len, *ls, *le, *type;
	struct mlog_rec rec;
	struct json *j;
	uint64_t seq;
	int r;

	e->prevline = NULL;
	while (p < end) {
		if (e->pre != NULL) {
			const char *h = memmem(p, (size_t)(end - p), e->pre,
			    e->prelen);

			if (h == NULL)
				break;
			ls = memrchr(p, '\n', (size_t)(h - p));
			ls = ls != NULL ? ls + 1 : p;
		} else
			ls = p;
		le = memchr(ls, '\n', (size_t)(end - ls));
		p = le + 1;
		if (e->sec != NULL && memmem(ls, (size_t)(le - ls), e->sec,
		    e->seclen) == NULL)
			continue;
		j = NULL;
		type = NULL;
		r = e->sel->test != NULL ? each_test(e, ls, le, &seq) : -1;
		if (r == 0)
			continue;
		if (r < 0 &&
		    (j = each_parse(e, buf, ls, le, &seq, &type)) == NULL)
			return RC_PERM;
		if ((type != NULL && e->sel->type != NULL &&
		    strcmp(type, e->sel->type) != 0) || seq <= e->sel->after) {
			json_free(j);
			continue;
		}
		rec.obj = j;
		rec.type = type;
		rec.seq = seq;
		rec.line = ls;
		rec.len = (size_t)(le - ls);
		rec.at.seg = e->cur->seg;
		rec.at.off = e->cur->off + (off_t)(ls - buf);
		e->sel->last = seq;
		r = e->fn(&rec, e->arg);
		json_free(j);
		if (r != 0) {
			e->stopped = 1;
			e->stop = e->cur->off + (off_t)(p - buf);
			return r;
		}
	}
	/* the seq of the chunk's last line, for sel->last */
	ls = memrchr(buf, '\n', len - 1);
	ls = ls != NULL ? ls + 1 : buf;
	if (ls != e->prevline) {
		if ((j = each_parse(e, buf, ls, end - 1, &seq, &type)) == NULL)
			return RC_PERM;
		json_free(j);
	}
	e->sel->last = e->prev;
	return 0;
}

int
mlog_each(struct mlog *l, struct mlog_cursor *cur, struct mlog_sel *sel,
    int (*fn)(const struct mlog_rec *rec, void *arg), void *arg,
    struct strbuf *err)
{
	struct mlog_sel all = { NULL, NULL, 0, 0 };
	struct strbuf tlit = STRBUF_INIT;
	struct each e;
	int rc;

	if (sel == NULL)
		sel = &all;
	sel->last = 0;
	memset(&e, 0, sizeof(e));
	e.l = l;
	e.cur = cur;
	e.sel = sel;
	e.fn = fn;
	e.arg = arg;
	e.err = err;
	if (sel->type != NULL) {
		/* how canonical JSON spells it; nested "type"s pass too */
		strbuf_addstr(&tlit, "\"type\":");
		json_quote(&tlit, sel->type, strlen(sel->type));
		e.tval = tlit.buf + 7;
		e.tvallen = tlit.len - 7;
	}
	/* search the longer literal first: it rules out more */
	if (sel->lit != NULL && strlen(sel->lit) >= tlit.len) {
		e.pre = sel->lit;
		e.prelen = strlen(sel->lit);
		if (tlit.len) {
			e.sec = tlit.buf;
			e.seclen = tlit.len;
		}
	} else if (tlit.len) {
		e.pre = tlit.buf;
		e.prelen = tlit.len;
		if (sel->lit != NULL) {
			e.sec = sel->lit;
			e.seclen = strlen(sel->lit);
		}
	}
	rc = read_segs(l, cur, sel->one, each_chunk, &e, -1, err);
	if (e.stopped)
		cur->off = e.stop;
	strbuf_release(&tlit);
	return rc;
}

/*
 * One inotify instance per log directory and process, shared by every
 * struct mlog watching it: the kernel allows a user few instances
 * (fs.inotify.max_user_instances, often 128), and a server holding one
 * per long poll ran out.  A change bumps gen; the waiter that holds
 * "polling" sleeps in poll(2) on the descriptor, drains it, bumps gen
 * and broadcasts; the others sleep on cv.  When the poller leaves (its
 * timeout), it broadcasts too, so another waiter takes over.
 */
struct watcher {
	struct watcher *next;
	dev_t dev;
	ino_t ino;
	int fd;
	unsigned refs;
	uint64_t gen;
	int polling;
	pthread_cond_t cv;
};

static pthread_mutex_t watchers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct watcher *watchers;

static void
watcher_put(struct watcher *w)
{
	struct watcher **pp;

	if (w == NULL)
		return;
	pthread_mutex_lock(&watchers_mu);
	if (--w->refs == 0) {
		for (pp = &watchers; *pp != w; pp = &(*pp)->next)
			;
		*pp = w->next;
		close(w->fd);
		pthread_cond_destroy(&w->cv);
		free(w);
	}
	pthread_mutex_unlock(&watchers_mu);
}

/* Read every pending event; 1 if there was any.  Never blocks. */
static int
drain(int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	int any = 0;

	while (read(fd, buf, sizeof(buf)) > 0)
		any = 1;
	return any;
}

int
mlog_watch(struct mlog *l, struct strbuf *err)
{
	pthread_condattr_t ca;
	struct watcher *w;
	struct stat st;
	int fd;

	if (l->w != NULL)
		return RC_OK;
	if (fstat(l->dirfd, &st) < 0) {
		strbuf_addf(err, "stat '%s': %s", l->dir, strerror(errno));
		return RC_TEMP;
	}
	pthread_mutex_lock(&watchers_mu);
	for (w = watchers; w != NULL; w = w->next)
		if (w->dev == st.st_dev && w->ino == st.st_ino)
			break;
	if (w == NULL) {
		fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd < 0 || inotify_add_watch(fd, l->dir,
		    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
		    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
			strbuf_addf(err, "inotify on '%s': %s", l->dir,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			pthread_mutex_unlock(&watchers_mu);
			return RC_TEMP;
		}
		w = xcalloc(1, sizeof(*w));
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->fd = fd;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cv, &ca);
		pthread_condattr_destroy(&ca);
		w->next = watchers;
		watchers = w;
	}
	w->refs++;
	l->w = w;
	l->wgen = w->gen;
	pthread_mutex_unlock(&watchers_mu);
	return RC_OK;
}

int
mlog_wait(struct mlog *l, int timeout_ms)
{
	struct watcher *w = l->w;
	long long deadline = timeout_ms >= 0 ? mono_ms() + timeout_ms : 0;
	struct pollfd pfd;
	struct timespec ts;
	int r, e, any;

	if (w == NULL) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&watchers_mu);
	for (;;) {
		long long left = timeout_ms >= 0 ? deadline - mono_ms() : -1;

		if (w->gen != l->wgen) {
			l->wgen = w->gen;
			pthread_mutex_unlock(&watchers_mu);
			return 1;
		}
		if (timeout_ms >= 0 && left <= 0)
			break;
		if (!w->polling) {
			w->polling = 1;
			pthread_mutex_unlock(&watchers_mu);
			pfd.fd = w->fd;
			pfd.events = POLLIN;
			r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
			e = errno;
			any = r > 0 && drain(w->fd);
			pthread_mutex_lock(&watchers_mu);
			w->polling = 0;
			if (any)
				w->gen++;
			/* news, or the poller's seat is free */
			pthread_cond_broadcast(&w->cv);
			if (r < 0 && e != EINTR) {
				pthread_mutex_unlock(&watchers_mu);
				errno = e;
				return -1;
			}
			continue;
		}
		if (timeout_ms < 0)
			pthread_cond_wait(&w->cv, &watchers_mu);
		else {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += left / 1000;
			ts.tv_nsec += (left % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->cv, &watchers_mu, &ts);
		}
	}
	pthread_mutex_unlock(&watchers_mu);
	return 0;
}

int
mlog_watch_fd(const struct mlog *l)
{
	return l->w != NULL ? l->w->fd : -1;
}

int
mlog_changed(struct mlog *l)
{
	struct watcher *w = l->w;
	int changed;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&watchers_mu);
	if (drain(w->fd)) {
		w->gen++;
		pthread_cond_broadcast(&w->cv);
	}
	changed = w->gen != l->wgen;
	l->wgen = w->gen;
	pthread_mutex_unlock(&watchers_mu);
	return changed;
}
