/*
 * append: records from stdin, one JSON object a line (maintlog(1)).
 */
#include "compat.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "num.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define MAX_INPUT ((size_t)1 << 30)	/* one append invocation */

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
		const char *s = v->buf + v->offs[i];
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
		/* mlog_prep_add checks the record as every writer does */
		if (mlog_prep_add(&v->prep, rec, v->tflag, &v->why) != RC_OK &&
		    json_kind(rec) == JK_OBJECT && json_get(rec, "type") == NULL)
			strbuf_addstr(&v->why, " (use -t)");
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

int
cmd_append(int argc, char **argv)
{
	struct mlog *l;
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
			if (!mlog_valid_type(tflag))
				fatalx(RC_PERM, "bad type '%s': want "
				    "[a-z0-9_.-], at most 64", esc(tflag));
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	l = open_log(MLOG_CREATE);
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
