/*
 * maintlog: the farm's append-only, greppable mutation log.
 *
 * A log is a directory of segments of JSON lines (maintlog(5)); this
 * tool appends to it, reads it (cat, grep, follow), checks it (verify,
 * stat), serves it over HTTP with the maintner /logs protocol (serve) and
 * mirrors a served log (sync).  All format knowledge is in lib/mlog.c,
 * shared with the tools that write mutations.
 *
 * Invariants: an append that printed its seqs is on disk (fsync) and
 * stays there; readers never see a torn tail; seqs run 1, 2, 3 ...
 * without gaps or repeats, because they are only assigned under the
 * writer's flock from the last durable record.
 */
#include "compat.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "farm.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define MAX_INPUT ((size_t)1 << 30)	/* one append invocation */

static const char *dflag;

static void
print_usage(FILE *fp)
{
	fprintf(fp,
"usage: maintlog [-hv] [-d logdir] append [-b count] [-S size] [-t type]\n"
"       maintlog [-hv] [-d logdir] cat [-f] [-s seq] [-t type]\n"
"       maintlog [-hv] [-d logdir] grep [-cf] [-s seq] [-t type] expr ...\n"
"       maintlog [-hv] [-d logdir] stat [-j]\n"
"       maintlog [-hv] [-d logdir] verify\n"
"       maintlog [-hv] [-d logdir] serve [-l addr] [-w seconds]\n"
"       maintlog [-hv] [-d logdir] sync [-f] url\n");
}

void
usage(void)
{
	print_usage(stderr);
	exit(RC_PERM);
}

/* -h: the synopsis on stdout, exit 0 */
static void
help(void)
{
	print_usage(stdout);
	if (fflush(stdout) == EOF)
		exit(RC_TEMP);
	exit(RC_OK);
}

static int
valid_type(const char *t)
{
	size_t n = strlen(t);

	return n > 0 && n <= 64 && strspn(t,
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n &&
	    t[0] != '.' && t[0] != '-';
}

/*
 * append: read every line first, validating and encoding it, so one bad
 * line rejects the whole invocation before anything is written; then
 * write batches of bflag records, each fsynced, printing the seqs of a
 * batch once it is durable.  Parsing and encoding (mlog_prep_add) are
 * nearly all the work, so large inputs are split over two threads; the
 * writer only splices seqs in under the lock.
 */
struct vjob {
	char *buf;		/* the input, lines NUL-terminated */
	size_t *offs, *lens;
	size_t from, to;	/* lines [from, to) */
	const char *tflag;
	struct mlog_prep prep;	/* the encoded records */
	size_t bad;		/* first bad line index + 1, or 0 */
	struct strbuf why;
};

static void *
validate(void *arg)
{
	struct vjob *v = arg;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	for (i = v->from; i < v->to; i++) {
		const char *s = v->buf + v->offs[i], *t;
		struct json *rec;

		if (v->lens[i] > MLOG_MAX_LINE) {
			strbuf_addf(&v->why, "record longer than %u bytes",
			    MLOG_MAX_LINE);
			goto bad;
		}
		rec = json_parse(s, v->lens[i], &err);
		if (rec == NULL) {
			strbuf_addf(&v->why, "malformed JSON: %s", err.buf);
			goto bad;
		}
		t = json_str(json_get(rec, "type"), NULL);
		if (json_kind(rec) != JK_OBJECT)
			strbuf_addstr(&v->why, "not a JSON object");
		else if (json_get(rec, "type") != NULL && t == NULL)
			strbuf_addstr(&v->why, "\"type\" is not a string");
		else if (t == NULL && v->tflag == NULL)
			strbuf_addstr(&v->why, "record has no \"type\" (use -t)");
		else if (t != NULL && !valid_type(t))
			strbuf_addf(&v->why, "bad type '%s'", esc(t));
		else if (mlog_prep_add(&v->prep, rec, v->tflag, &err) != RC_OK)
			strbuf_addstr(&v->why, err.buf);
		json_free(rec);
		if (v->why.len)
			goto bad;
	}
	strbuf_release(&err);
	return NULL;
bad:
	v->bad = i + 1;
	strbuf_release(&err);
	return NULL;
}

static int
cmd_append(struct mlog *l, int argc, char **argv)
{
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	size_t *offs = NULL, *lens = NULL, noffs = 0, aoffs = 0, alens = 0;
	size_t i, j, k, p;
	uint64_t bflag = 1000, Sflag = 0;
	const char *tflag = NULL;
	struct vjob v[2];
	pthread_t tid;
	int ch, rc = RC_OK, nthr;

	while ((ch = getopt(argc, argv, "+b:S:t:")) != -1) {
		switch (ch) {
		case 'b':
			if (num_parse_u64(optarg, 1, 1000000, &bflag) < 0)
				fatalx(RC_PERM, "bad batch size '%s'",
				    esc(optarg));
			break;
		case 'S':
			if (num_parse_size(optarg, 1024, (uint64_t)1 << 40,
			    &Sflag) < 0)
				fatalx(RC_PERM, "bad segment size '%s'",
				    esc(optarg));
			break;
		case 't':
			tflag = optarg;
			if (!valid_type(tflag))
				fatalx(RC_PERM, "bad type '%s': want "
				    "[a-z0-9_.-], at most 64", esc(tflag));
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	mlog_set_seal_size(l, Sflag);

	/* read it all, then cut it into lines */
	if (strbuf_read_fd(&in, 0, MAX_INPUT) < 0) {
		if (errno == EFBIG)
			fatalx(RC_PERM, "input over %zu bytes; nothing "
			    "appended", MAX_INPUT);
		fatal(RC_TEMP, "read stdin; nothing appended");
	}
	for (p = 0; p < in.len;) {
		char *nl = memchr(in.buf + p, '\n', in.len - p);
		size_t e = nl != NULL ? (size_t)(nl - in.buf) : in.len;

		GROW(offs, noffs + 1, aoffs);
		GROW(lens, noffs + 1, alens);
		offs[noffs] = p;
		lens[noffs++] = e - p;
		in.buf[e] = '\0';	/* in.buf[in.len] is the NUL already */
		p = e + 1;
	}
	if (noffs == 0) {
		strbuf_release(&in);
		return RC_OK;
	}

	/*
	 * Validate and encode, on two threads when there is enough work;
	 * the split falls on a batch boundary so batches stay whole.
	 */
	nthr = noffs >= 2000 ? 2 : 1;
	memset(v, 0, sizeof(v));
	for (i = 0; i < 2; i++) {
		v[i].buf = in.buf;
		v[i].offs = offs;
		v[i].lens = lens;
		v[i].tflag = tflag;
		mlog_prep_init(&v[i].prep);
		strbuf_init(&v[i].why, 0);
	}
	v[0].to = noffs;
	if (nthr == 2) {
		size_t half = noffs / 2 / bflag * bflag;

		if (half == 0)
			half = noffs / 2;
		v[0].to = v[1].from = half;
		v[1].to = noffs;
		if (pthread_create(&tid, NULL, validate, &v[1]) != 0)
			fatalx(RC_TEMP, "pthread_create failed");
	}
	validate(&v[0]);
	if (nthr == 2)
		pthread_join(tid, NULL);
	for (i = 0; i < 2; i++)
		if (v[i].bad)
			fatalx(RC_PERM, "line %zu: %s; nothing appended",
			    v[i].bad, v[i].why.buf);
	strbuf_release(&in);

	/* write */
	rc = mlog_lock(l, MLOG_LOCK_TIMEOUT_MS, &err);
	if (rc != RC_OK)
		fatalx(rc, "%s", err.buf);
	for (k = 0; k < (size_t)nthr && rc == RC_OK; k++) {
		struct mlog_prep *pp = &v[k].prep;

		for (i = 0; i < pp->n; i += bflag) {
			size_t n = pp->n - i < bflag ? pp->n - i : (size_t)bflag;
			uint64_t first;

			rc = mlog_write_prep(l, pp, i, i + n, &first, &err);
			if (rc != RC_OK) {
				log_warnx("%s", err.buf);
				if (v[k].from + i > 0)
					log_warnx("records of lines 1..%zu "
					    "were appended; the rest were not",
					    v[k].from + i);
				break;
			}
			for (j = 0; j < n; j++)
				printf("%llu\n", (unsigned long long)(first + j));
			if (fflush(stdout) == EOF)
				fatal(RC_TEMP, "write stdout");
		}
	}
	mlog_unlock(l);
	for (i = 0; i < 2; i++) {
		mlog_prep_release(&v[i].prep);
		strbuf_release(&v[i].why);
	}
	free(offs);
	free(lens);
	strbuf_release(&err);
	return rc;
}

/* Line filter: the records of one type (exact, top-level). */
struct catf {
	const char *type;
	struct strbuf lit;	/* "type":"X" */
};

static int
emit(const char *buf, size_t len)
{
	if (write_all(1, buf, len) < 0)
		fatal(RC_TEMP, "write stdout");
	return 0;
}

static int
cat_chunk(const char *buf, size_t len, void *arg)
{
	struct catf *f = arg;
	const char *p = buf, *end = buf + len;
	struct strbuf out = STRBUF_INIT;

	if (f->type == NULL)
		return emit(buf, len);
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), f->lit.buf,
		    f->lit.len);
		const char *ls, *le;
		struct strbuf e = STRBUF_INIT;
		struct json *j;

		if (hit == NULL)
			break;
		ls = hit;
		while (ls > p && ls[-1] != '\n')
			ls--;
		le = memchr(hit, '\n', (size_t)(end - hit));
		j = json_parse(ls, (size_t)(le - ls), &e);
		if (j != NULL) {
			const char *t = json_str(json_get(j, "type"), NULL);

			if (t != NULL && strcmp(t, f->type) == 0)
				strbuf_add(&out, ls, (size_t)(le - ls) + 1);
			json_free(j);
		}
		strbuf_release(&e);
		p = le + 1;
		if (out.len > (1 << 20)) {
			emit(out.buf, out.len);
			strbuf_reset(&out);
		}
	}
	emit(out.buf, out.len);
	strbuf_release(&out);
	return 0;
}

int
follow(struct mlog *l, struct mlog_cursor *cur, int once,
    int (*fn)(const char *buf, size_t len, void *arg), void *arg)
{
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (!once && (rc = mlog_watch(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	for (;;) {
		rc = mlog_read(l, cur, fn, arg, &err);
		if (rc != RC_OK)
			fatalx(rc, "%s", err.buf);
		if (once)
			return RC_OK;
		if (mlog_wait(l, -1) < 0)
			fatal(RC_TEMP, "inotify");
		if ((rc = mlog_scan(l, &err)) != RC_OK)
			fatalx(rc, "%s", err.buf);
	}
}

static int
cmd_cat(struct mlog *l, int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct mlog_cursor cur = { 0, 0 };
	struct catf f = { NULL, STRBUF_INIT };
	uint64_t sflag = 0;
	int ch, fflag = 0, rc;

	while ((ch = getopt(argc, argv, "+fs:t:")) != -1) {
		switch (ch) {
		case 'f':
			fflag = 1;
			break;
		case 's':
			if (num_parse_u64(optarg, 1, UINT64_MAX, &sflag) < 0)
				fatalx(RC_PERM, "bad seq '%s'", esc(optarg));
			break;
		case 't':
			f.type = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if (f.type != NULL) {
		strbuf_addstr(&f.lit, "\"type\":");
		json_quote(&f.lit, f.type, strlen(f.type));
	}
	if ((rc = mlog_scan(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	if (sflag > 1 && (rc = mlog_seek_seq(l, sflag, &cur, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	rc = follow(l, &cur, !fflag, cat_chunk, &f);
	strbuf_release(&f.lit);
	return rc;
}

struct segstat {
	uint64_t first, last, count;
	int bad;
	off_t bad_off;
	struct strbuf why;
	/* counts by type */
	char **types;
	uint64_t *counts;
	size_t ntypes, atypes, acounts;
	uint64_t expect;	/* verify: next seq wanted (0: don't check) */
	const char *segname;
};

static void
count_type(struct segstat *s, const char *t)
{
	size_t i;

	for (i = 0; i < s->ntypes; i++) {
		if (strcmp(s->types[i], t) == 0) {
			s->counts[i]++;
			return;
		}
	}
	GROW(s->types, s->ntypes + 1, s->atypes);
	GROW(s->counts, s->ntypes + 1, s->acounts);
	s->types[s->ntypes] = xstrdup(t);
	s->counts[s->ntypes++] = 1;
}

/* Check every line of a chunk: a JSON object with seq, time, type. */
static int
check_chunk(const char *buf, size_t len, struct segstat *s, off_t base)
{
	const char *p = buf, *end = buf + len;
	struct strbuf err = STRBUF_INIT;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)(nl - p);
		struct json *j;
		int64_t seq;
		const char *t;

		j = json_parse(p, ll, &err);
		if (j == NULL || json_kind(j) != JK_OBJECT) {
			strbuf_addf(&s->why, "not a JSON object%s%s",
			    j == NULL ? ": " : "", err.buf);
			goto bad;
		}
		if (!json_get_int(json_get(j, "seq"), &seq) || seq < 1) {
			strbuf_addstr(&s->why, "no valid \"seq\"");
			goto bad;
		}
		if (s->expect && (uint64_t)seq != s->expect) {
			strbuf_addf(&s->why, "seq %lld where %llu was expected "
			    "(%s)", (long long)seq,
			    (unsigned long long)s->expect,
			    (uint64_t)seq < s->expect ? "repeat" : "gap");
			goto bad;
		}
		if ((t = json_str(json_get(j, "type"), NULL)) == NULL) {
			strbuf_addf(&s->why, "seq %lld: no string \"type\"",
			    (long long)seq);
			goto bad;
		}
		if (json_str(json_get(j, "time"), NULL) == NULL) {
			strbuf_addf(&s->why, "seq %lld: no string \"time\"",
			    (long long)seq);
			goto bad;
		}
		count_type(s, t);
		if (s->count == 0)
			s->first = (uint64_t)seq;
		s->last = (uint64_t)seq;
		s->count++;
		if (s->expect)
			s->expect = (uint64_t)seq + 1;
		json_free(j);
		p = nl + 1;
		continue;
bad:
		json_free(j);
		s->bad = 1;
		s->bad_off = base + (off_t)(p - buf);
		strbuf_release(&err);
		return 1;
	}
	strbuf_release(&err);
	return 0;
}

struct chunkarg {
	struct segstat *s;
	off_t base;
};

static int
check_cb(const char *buf, size_t len, void *arg)
{
	struct chunkarg *a = arg;
	int r = check_chunk(buf, len, a->s, a->base);

	a->base += (off_t)len;
	return r;
}

/*
 * Walk every segment, checking lines and (verify) hashes.  Prints the
 * stat lines or the first problem.
 */
static int
walk(struct mlog *l, int verify, int jflag)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct segstat s;
	size_t i, k;
	uint64_t total = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	strbuf_init(&s.why, 0);
	if ((rc = mlog_scan(l, &err)) != RC_OK) {
		if (verify && rc == RC_PERM)
			printf("%s\n", err.buf);
		fatalx(rc, "%s", err.buf);
	}
	s.expect = verify ? 1 : 0;
	for (i = 0; i < mlog_nsegs(l); i++) {
		const struct mlog_seg *seg = mlog_seg(l, i);
		struct mlog_cursor cur = { seg->number, 0 };
		struct chunkarg a = { &s, 0 };
		char hex[57];
		off_t len;

		s.count = s.first = s.last = 0;
		if ((rc = mlog_seg_readable(l, i, NULL, &len, &err)) != RC_OK)
			fatalx(rc == RC_NO ? RC_TEMP : rc, "%s", err.buf);
		if (seg->sealed && verify) {
			if ((rc = mlog_seg_hash(l, i, len, hex, &err)) != RC_OK)
				fatalx(rc, "%s", err.buf);
			if (strcmp(hex, seg->sha224) != 0) {
				printf("segment %04u '%s': SHA-224 is %s, not "
				    "the %s of its name\n", seg->number,
				    seg->name, hex, seg->sha224);
				goto damaged;
			}
		} else if (seg->sealed) {
			memcpy(hex, seg->sha224, sizeof(hex));
		} else if ((rc = mlog_seg_hash(l, i, len, hex, &err)) != RC_OK)
			fatalx(rc, "%s", err.buf);
		if (seg->sealed && len > 0) {
			/* a sealed segment must end with a complete line */
			int fd;
			char c;
			off_t full;

			mlog_seg_readable(l, i, &fd, &full, &err);
			if (pread_all(fd, &c, 1, full - 1) != 1 || c != '\n') {
				close(fd);
				printf("segment %04u '%s': ends without a "
				    "newline\n", seg->number, seg->name);
				goto damaged;
			}
			close(fd);
		}
		rc = mlog_read_seg(l, &cur, check_cb, &a, &err);
		if (rc != RC_OK && !s.bad)
			fatalx(rc, "%s", err.buf);
		if (s.bad) {
			printf("segment %04u '%s' offset %lld: %s\n",
			    seg->number, seg->name, (long long)s.bad_off,
			    s.why.buf);
			goto damaged;
		}
		if (verify && !seg->sealed && len != seg->size)
			log_warnx("segment %04u: torn tail of %lld bytes "
			    "(cut by the next append)", seg->number,
			    (long long)(seg->size - len));
		if (verify && seg->sealed && s.count == 0) {
			printf("segment %04u '%s': sealed but empty\n",
			    seg->number, seg->name);
			goto damaged;
		}
		total += s.count;
		if (verify)
			continue;
		if (jflag)
			printf("{\"first\":%llu,\"last\":%llu,\"records\":%llu,"
			    "\"segment\":%u,\"sha224\":\"%s\",\"size\":%lld,"
			    "\"state\":\"%s\"}\n",
			    (unsigned long long)s.first,
			    (unsigned long long)s.last,
			    (unsigned long long)s.count, seg->number, hex,
			    (long long)len, seg->sealed ? "sealed" : "growing");
		else
			printf("segment %04u %s %lld %s %llu-%llu\n",
			    seg->number, seg->sealed ? "sealed" : "growing",
			    (long long)len, hex, (unsigned long long)s.first,
			    (unsigned long long)s.last);
	}
	if (!verify) {
		/* types in name order */
		for (i = 1; i < s.ntypes; i++)
			for (k = i; k > 0 &&
			    strcmp(s.types[k - 1], s.types[k]) > 0; k--) {
				char *t = s.types[k];
				uint64_t c = s.counts[k];

				s.types[k] = s.types[k - 1];
				s.counts[k] = s.counts[k - 1];
				s.types[k - 1] = t;
				s.counts[k - 1] = c;
			}
		for (i = 0; i < s.ntypes; i++) {
			if (jflag) {
				strbuf_reset(&out);
				json_quote(&out, s.types[i], strlen(s.types[i]));
				printf("{\"records\":%llu,\"type\":%s}\n",
				    (unsigned long long)s.counts[i], out.buf);
			} else
				printf("type %s %llu\n", esc(s.types[i]),
				    (unsigned long long)s.counts[i]);
		}
		if (jflag)
			printf("{\"records\":%llu,\"segments\":%zu}\n",
			    (unsigned long long)total, mlog_nsegs(l));
		else
			printf("total %zu segments %llu records\n",
			    mlog_nsegs(l), (unsigned long long)total);
	}
	rc = RC_OK;
	if (0) {
damaged:
		rc = RC_PERM;
	}
	for (i = 0; i < s.ntypes; i++)
		free(s.types[i]);
	free(s.types);
	free(s.counts);
	strbuf_release(&s.why);
	strbuf_release(&err);
	strbuf_release(&out);
	if (fflush(stdout) == EOF)
		fatal(RC_TEMP, "write stdout");
	return rc;
}

static int
cmd_stat(struct mlog *l, int argc, char **argv)
{
	int ch, jflag = 0;

	while ((ch = getopt(argc, argv, "+j")) != -1) {
		switch (ch) {
		case 'j':
			jflag = 1;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	return walk(l, 0, jflag);
}

static int
cmd_verify(struct mlog *l, int argc, char **argv)
{
	if (getopt(argc, argv, "+") != -1 || argc != optind)
		usage();
	return walk(l, 1, 0);
}

static const struct {
	const char *name;
	int (*fn)(struct mlog *, int, char **);
	int create;
} cmds[] = {
	{ "append", cmd_append, 1 },
	{ "cat", cmd_cat, 0 },
	{ "grep", cmd_grep, 0 },
	{ "serve", cmd_serve, 0 },
	{ "stat", cmd_stat, 0 },
	{ "sync", cmd_sync, 1 },
	{ "verify", cmd_verify, 0 },
};

int
main(int argc, char *argv[])
{
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	struct mlog *l;
	size_t i;
	int ch, rc;

	prog_init(argv[0]);
	while ((ch = getopt(argc, argv, "+d:hv")) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			help();
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(cmds)) {
		log_warnx("unknown command '%s'", esc(argv[0]));
		usage();
	}
	if (dflag != NULL)
		strbuf_addstr(&dir, dflag);
	else
		farm_place(&dir, farm_dir(NULL), FARM_CORPUS);
	rc = mlog_open(&l, dir.buf, cmds[i].create ? MLOG_CREATE : 0, &err);
	if (rc != RC_OK)
		fatalx(rc, "%s", err.buf);
	optind = 0;	/* glibc: rescan from argv[1] of the command */
	rc = cmds[i].fn(l, argc, argv);
	mlog_close(l);
	strbuf_release(&dir);
	return rc;
}
