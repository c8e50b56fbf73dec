/*
 * append: records from stdin, one JSON object a line (maintlog(1)).
 */
#include "compat.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
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

#define CHUNK_BYTES (256u << 10)	/* input per piece of work */
#define CHUNK_RECS 1024u
#define BUDGET (8u << 20)	/* input and encoded records in memory */
#define IDLE_MS 200	/* input stalled this long: release the lock */
#define BIG_LINE (64u << 10)	/* parsed one at a time */
#define SPARES 32	/* buffers kept for reuse */
#define SPARE_MAX (512u << 10)	/* larger ones (big lines) are freed */

/*
 * append streams: a reader thread cuts stdin into chunks of whole lines,
 * workers (one a CPU, at most 4) parse, check and encode them
 * (mlog_prep_add: nearly all the work), and the writer, this thread,
 * splices the seqs in under the lock and writes the chunks in order,
 * fsyncing and printing the seqs at the end of each batch of bflag
 * records (mlog_put_prep, mlog_sync).  The chunks in memory are bounded
 * by BUDGET: the reader waits for the writer.  Their buffers (the input
 * and the encoded text) go back to a pool for the next chunks, so that
 * memory once mapped is not mapped, faulted in and zeroed again: the
 * pool never holds more than the chunks in flight once did.
 *
 * The budget also overlaps each batch's fsync with the encoding of the
 * next chunks: the workers go on while the writer waits on the disk, and
 * wait only when an fsync takes longer than encoding a budget's worth of
 * input (about 60 ms on two cores).  Measured on 200,000 records with
 * -b 1000, the workers waited 0.04 s in all while the writer spent 0.37 s
 * in fsync (1.1 s on a busy disk, with 0.26 s of waiting): the work is
 * the parse and the dump.
 *
 * The writer starts only once all that was read is encoded and the input
 * has ended or the budget is full, so that a bad line in an input that
 * fits in the budget rejects the whole input before anything is written.
 * In a longer input a bad line stops the append there: the lines before
 * it are appended, the rest are not.
 */
struct chunk {
	struct chunk *next;
	struct strbuf in;	/* its lines; the last may lack its '\n' */
	size_t nlines;
	size_t line0;		/* number of its first line, from 1 */
	size_t cost;		/* its share of BUDGET */
	int done;		/* encoded, or failed */
	int rerr;		/* reading stdin failed: the errno */
	struct mlog_prep prep;	/* the encoded records */
	size_t bad;		/* number of its bad line, or 0 */
	struct strbuf why;
};

struct app {
	pthread_mutex_t mu;
	/*
	 * A parsed record can take many times its text (a 1 MiB line of
	 * small numbers, about 25 MiB): big lines are parsed one at a time,
	 * the memory given back after each.
	 */
	pthread_mutex_t big;
	pthread_cond_t cv;	/* any change; broadcast */
	struct chunk *head, *tail, *todo;
	size_t inflight;	/* the chunks' cost */
	int eof;		/* the reader is done */
	int blocked;		/* the reader waits for room in the budget */
	int stop;		/* a bad line: read and encode no more */
	const char *tflag;
	struct strbuf spare[SPARES];	/* the pool, under mu */
	size_t nspare;
};

/* A buffer from the pool (or a new one) with room for need bytes. */
static void
pool_get(struct app *a, struct strbuf *sb, size_t need)
{
	pthread_mutex_lock(&a->mu);
	if (a->nspare > 0)
		*sb = a->spare[--a->nspare];
	else
		strbuf_init(sb, 0);
	pthread_mutex_unlock(&a->mu);
	strbuf_grow(sb, need);
}

/* Give sb's buffer back to the pool; sb is left empty. */
static void
pool_put(struct app *a, struct strbuf *sb)
{
	pthread_mutex_lock(&a->mu);
	if (sb->alloc > 0 && sb->alloc <= SPARE_MAX && a->nspare < SPARES) {
		strbuf_reset(sb);
		a->spare[a->nspare++] = *sb;
		strbuf_init(sb, 0);
	}
	pthread_mutex_unlock(&a->mu);
	strbuf_release(sb);
}

static void
encode(struct chunk *c, struct app *a)
{
	struct strbuf err = STRBUF_INIT;
	const char *s = c->in.buf, *end = c->in.buf + c->in.len;
	size_t i;

	/* the encoded text is about the input plus the envelope */
	pool_get(a, &c->prep.text, c->in.len + 128 * c->nlines);
	for (i = 0; i < c->nlines; i++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		struct json *rec;

		if (n > MLOG_MAX_LINE) {
			strbuf_addf(&c->why, "record longer than %u bytes",
			    MLOG_MAX_LINE);
			goto bad;
		}
		if (n > BIG_LINE)
			pthread_mutex_lock(&a->big);
		rec = json_parse(s, n, &err);
		/* mlog_prep_add checks the record as every writer does */
		if (rec == NULL)
			strbuf_addf(&c->why, "malformed JSON: %s", err.buf);
		else if (mlog_prep_add(&c->prep, rec, a->tflag, &c->why) !=
		    RC_OK && json_kind(rec) == JK_OBJECT &&
		    json_get(rec, "type") == NULL)
			strbuf_addstr(&c->why, " (use -t)");
		json_free(rec);
		if (n > BIG_LINE) {
			(void)malloc_trim(0);	/* the arenas keep the tree */
			pthread_mutex_unlock(&a->big);
		}
		if (c->why.len)
			goto bad;
		s += n + 1;
	}
	strbuf_release(&err);
	return;
bad:
	c->bad = c->line0 + i;
	strbuf_release(&err);
}

static void *
worker(void *arg)
{
	struct app *a = arg;
	struct chunk *c;
	int skip;

	json_scratch_begin();	/* each record is parsed and freed here */
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->todo == NULL && !a->eof)
			pthread_cond_wait(&a->cv, &a->mu);
		if ((c = a->todo) == NULL)
			break;
		a->todo = c->next;
		skip = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (!skip)
			encode(c, a);
		pool_put(a, &c->in);	/* not needed any more */
		pthread_mutex_lock(&a->mu);
		if (c->bad || c->rerr)
			a->stop = 1;
		c->done = 1;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	json_scratch_end();
	return NULL;
}

static struct chunk *
chunk_new(size_t line0)
{
	struct chunk *c = xcalloc(1, sizeof(*c));

	c->line0 = line0;
	strbuf_init(&c->in, 0);
	mlog_prep_init(&c->prep);
	strbuf_init(&c->why, 0);
	return c;
}

static void
chunk_free(struct app *a, struct chunk *c)
{
	pool_put(a, &c->in);
	pool_put(a, &c->prep.text);
	mlog_prep_release(&c->prep);
	strbuf_release(&c->why);
	free(c);
}

/* Queue c for the workers once the budget has room; 0: stop reading. */
static int
queue(struct app *a, struct chunk *c)
{
	int ok, last = c->bad || c->rerr;

	c->cost = sizeof(*c) + 2 * c->in.len + 128 * c->nlines;
	pthread_mutex_lock(&a->mu);
	while (a->inflight > 0 && a->inflight + c->cost > BUDGET &&
	    !a->stop) {
		a->blocked = 1;
		pthread_cond_broadcast(&a->cv);
		pthread_cond_wait(&a->cv, &a->mu);
	}
	a->blocked = 0;
	if ((ok = !a->stop)) {
		if (a->tail != NULL)
			a->tail->next = c;
		else
			a->head = c;
		a->tail = c;
		if (a->todo == NULL)
			a->todo = c;
		a->inflight += c->cost;
		pthread_cond_broadcast(&a->cv);
	}
	pthread_mutex_unlock(&a->mu);
	if (!ok)
		chunk_free(a, c);
	return ok && !last;
}

/*
 * Cut what in holds into chunks of whole lines, at most CHUNK_BYTES
 * (a longer line is a chunk of its own) and CHUNK_RECS each, and queue
 * them; at eof the rest is the last line.  0: stop reading.
 */
static int
cut(struct app *a, struct strbuf *in, size_t *line, int eof)
{
	while (in->len >= CHUNK_BYTES || (eof && in->len > 0)) {
		size_t p = 0, n = 0;
		struct chunk *c;
		char *nl;

		while (n < CHUNK_RECS && p < in->len &&
		    (nl = memchr(in->buf + p, '\n', in->len - p)) != NULL &&
		    (n == 0 || (size_t)(nl - in->buf) < CHUNK_BYTES)) {
			p = (size_t)(nl - in->buf) + 1;
			n++;
		}
		c = chunk_new(*line);
		if (n == 0 && eof) {
			p = in->len;	/* the last line, without its '\n' */
			n = 1;
		} else if (n == 0 && in->len <= MLOG_MAX_LINE) {
			chunk_free(a, c);
			return 1;	/* a long line: read on */
		} else if (n == 0) {
			c->bad = *line;
			strbuf_addf(&c->why, "record longer than %u bytes",
			    MLOG_MAX_LINE);
			return queue(a, c);
		}
		pool_get(a, &c->in, p);
		strbuf_add(&c->in, in->buf, p);
		c->nlines = n;
		*line += n;
		memmove(in->buf, in->buf + p, in->len - p);
		strbuf_setlen(in, in->len - p);
		if (!queue(a, c))
			return 0;
	}
	return 1;
}

static void *
reader(void *arg)
{
	struct app *a = arg;
	struct strbuf in = STRBUF_INIT;
	size_t line = 1;
	int eof = 0;

	while (!eof) {
		ssize_t r;

		strbuf_grow(&in, CHUNK_BYTES);
		r = read(0, in.buf + in.len, CHUNK_BYTES);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			struct chunk *c = chunk_new(line);

			c->rerr = errno;
			queue(a, c);
			break;
		}
		if (r == 0)
			eof = 1;
		else
			strbuf_setlen(&in, in.len + (size_t)r);
		if (!cut(a, &in, &line, eof))
			break;
	}
	strbuf_release(&in);
	pthread_mutex_lock(&a->mu);
	a->eof = 1;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct writer {
	struct mlog *l;
	int locked;
	uint64_t bflag;
	uint64_t first;		/* seq of the batch's first record */
	size_t inbatch;		/* records put in this batch */
	size_t appended;	/* records durable, so lines 1.. appended */
	struct strbuf err;
	struct strbuf out;	/* the seqs of a batch, printed at its end */
	pthread_t tid[5];	/* the reader and the workers */
	size_t ntid;
};

/*
 * Append seq and a newline to out: a printf for each seq took a third of
 * the writer's CPU time, which the workers need.
 */
static void
add_seq(struct strbuf *out, uint64_t seq)
{
	char d[24], *p = d + sizeof(d);

	*--p = '\n';
	do
		*--p = (char)('0' + seq % 10);
	while ((seq /= 10) != 0);
	strbuf_add(out, p, (size_t)(d + sizeof(d) - p));
}

/*
 * End the batch: fsync, print the seqs that are durable (after a failed
 * write or fsync, those before the last seal in the batch, if any).
 */
static int
end_batch(struct writer *w)
{
	uint64_t s;
	int rc;

	if (w->inbatch == 0)
		return RC_OK;
	rc = mlog_sync(w->l, &w->err);
	strbuf_reset(&w->out);
	for (s = w->first; s <= mlog_last_seq(w->l); s++)
		add_seq(&w->out, s);
	if (fwrite(w->out.buf, 1, w->out.len, stdout) != w->out.len ||
	    fflush(stdout) == EOF)
		fatal(RC_TEMP, "write stdout");
	w->appended += (size_t)(s - w->first);
	w->first = s;
	w->inbatch = 0;
	return rc;
}

/* Stop with msg, saying what was appended. */
static void BF_NORETURN
give_up(struct writer *w, int rc, const char *msg)
{
	struct strbuf m = STRBUF_INIT;
	size_t i;

	/*
	 * The threads are left running, not joined: the reader may wait
	 * on stdin for ever.  Detached, they are not the exit's leaks.
	 */
	for (i = 0; i < w->ntid; i++)
		pthread_detach(w->tid[i]);
	strbuf_addstr(&m, msg);
	if (w->locked && end_batch(w) != RC_OK)
		log_warnx("%s", w->err.buf);
	if (w->locked)
		mlog_unlock(w->l);
	if (w->appended)
		fatalx(rc, "%s; records of lines 1..%zu were appended, the "
		    "rest were not", m.buf, w->appended);
	fatalx(rc, "%s; nothing appended", m.buf);
}

/* A bad line or a failed read in c: stop. */
static void BF_NORETURN
fail_chunk(struct writer *w, struct chunk *c)
{
	struct strbuf m = STRBUF_INIT;

	if (c->rerr) {
		strbuf_addf(&m, "read stdin: %s", strerror(c->rerr));
		give_up(w, RC_TEMP, m.buf);
	}
	strbuf_addf(&m, "line %zu: %s", c->bad, c->why.buf);
	give_up(w, RC_PERM, m.buf);
}

/* Write the records of c, in batches. */
static void
write_chunk(struct writer *w, struct chunk *c)
{
	struct mlog_prep *p = &c->prep;
	size_t i, n;
	uint64_t first;
	int rc;

	if (!w->locked && p->n > 0) {
		if ((rc = mlog_lock(w->l, MLOG_LOCK_TIMEOUT_MS, &w->err)) !=
		    RC_OK)
			give_up(w, rc, w->err.buf);
		w->locked = 1;
	}
	for (i = 0; i < p->n; i += n) {
		n = p->n - i < w->bflag - w->inbatch ? p->n - i :
		    (size_t)(w->bflag - w->inbatch);
		if (w->inbatch == 0)
			w->first = mlog_last_seq(w->l) + 1;
		rc = mlog_put_prep(w->l, p, i, i + n, &first, &w->err);
		if (rc == RC_OK) {
			w->inbatch += n;
			if (w->inbatch == w->bflag)
				rc = end_batch(w);
		}
		if (rc != RC_OK) {
			/* the batch was cut back: print what is durable */
			w->inbatch = (size_t)(mlog_last_seq(w->l) + 1 -
			    w->first);
			give_up(w, rc, w->err.buf);
		}
	}
}

int
cmd_append(int argc, char **argv)
{
	struct app a;
	struct writer w;
	struct chunk *c;
	struct mlog_prep dummy;
	pthread_condattr_t ca;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i, nw = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (size_t)ncpu;
	uint64_t bflag = 1000, Sflag = 0;
	const char *tflag = NULL;
	int ch, started = 0;

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
	memset(&w, 0, sizeof(w));
	w.l = open_log(MLOG_CREATE);
	w.bflag = bflag;
	strbuf_init(&w.err, 0);
	strbuf_init(&w.out, 0);
	mlog_set_seal_size(w.l, Sflag);

	/*
	 * Chunk buffers are allocated in one thread and freed in another:
	 * from the heap, the arenas would keep them all.  Mapped, memory
	 * in use is memory in flight.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 64 << 10);
	/*
	 * The first mlog_prep_init draws the envelope placeholders from
	 * the random generator: here, so that its per-thread state is this
	 * thread's, freed at exit, even when a bad line ends the process
	 * with the threads still running.
	 */
	mlog_prep_init(&dummy);
	mlog_prep_release(&dummy);
	memset(&a, 0, sizeof(a));
	a.tflag = tflag;
	if (pthread_mutex_init(&a.mu, NULL) != 0 ||
	    pthread_mutex_init(&a.big, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&a.cv, &ca) != 0 ||
	    pthread_create(&w.tid[w.ntid++], NULL, reader, &a) != 0)
		fatalx(RC_TEMP, "pthread_create failed");
	for (i = 0; i < nw; i++)
		if (pthread_create(&w.tid[w.ntid++], NULL, worker, &a) != 0)
			fatalx(RC_TEMP, "pthread_create failed");

	pthread_mutex_lock(&a.mu);
	for (;;) {
		struct timespec ts;

		/*
		 * Start once what was read is encoded and the input ended or
		 * filled the budget; then write each chunk once encoded.
		 */
		if (!started) {
			int all = 1;

			for (c = a.head; c != NULL && all; c = c->next)
				all = c->done;
			if (!all || (!a.eof && !a.blocked)) {
				pthread_cond_wait(&a.cv, &a.mu);
				continue;
			}
			started = 1;
			/* a bad line before the first write: nothing at all */
			for (c = a.head; c != NULL; c = c->next)
				if (c->bad || c->rerr)
					fail_chunk(&w, c);
		}
		if ((c = a.head) == NULL && a.eof)
			break;
		if (c == NULL || !c->done) {
			if (!w.locked) {
				pthread_cond_wait(&a.cv, &a.mu);
				continue;
			}
			/* input stalls: end the batch, let other writers in */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += IDLE_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_cond_timedwait(&a.cv, &a.mu, &ts) == 0 ||
			    (a.head != NULL && a.head->done))
				continue;
			pthread_mutex_unlock(&a.mu);
			if (end_batch(&w) != RC_OK)
				give_up(&w, RC_TEMP, w.err.buf);
			mlog_unlock(w.l);
			w.locked = 0;
			pthread_mutex_lock(&a.mu);
			continue;
		}
		pthread_mutex_unlock(&a.mu);
		write_chunk(&w, c);
		if (c->bad || c->rerr)
			fail_chunk(&w, c);
		pthread_mutex_lock(&a.mu);
		a.head = c->next;
		if (a.tail == c)
			a.tail = NULL;
		a.inflight -= c->cost;
		pthread_cond_broadcast(&a.cv);
		pthread_mutex_unlock(&a.mu);
		chunk_free(&a, c);
		pthread_mutex_lock(&a.mu);
	}
	pthread_mutex_unlock(&a.mu);
	for (i = 0; i < w.ntid; i++)
		pthread_join(w.tid[i], NULL);
	w.ntid = 0;
	if (w.locked) {
		if (end_batch(&w) != RC_OK)
			give_up(&w, RC_TEMP, w.err.buf);
		mlog_unlock(w.l);
	}
	while (a.nspare > 0)
		strbuf_release(&a.spare[--a.nspare]);
	pthread_mutex_destroy(&a.mu);
	pthread_mutex_destroy(&a.big);
	pthread_cond_destroy(&a.cv);
	pthread_condattr_destroy(&ca);
	strbuf_release(&w.err);
	strbuf_release(&w.out);
	return RC_OK;
}
