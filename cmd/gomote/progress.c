/*
 * progress: "put: 12.0 MB of 27.1 MB, 9.8 MB/s, ETA 2s" redrawn on
 * stderr at most five times a second while bytes move, and only when
 * stderr is a terminal: output meant for a log or a pipe stays clean.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "log.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define REDRAW_MS	200

struct progress {
	const char *label;
	long long total;	/* -1: unknown */
	long long done;
	long long start, drawn;	/* mono_ms() */
	int src, dst;		/* progress_pipe's: copy src to dst */
	int running;
	pthread_t th;
};

struct progress *
progress_new(const char *label, long long total)
{
	struct progress *p;

	if (!isatty(2))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->label = label;
	p->total = total;
	p->start = mono_ms();
	p->src = p->dst = -1;
	return p;
}

static void
human(struct strbuf *sb, double n)
{
	if (n >= 1e9)
		strbuf_addf(sb, "%.1f GB", n / 1e9);
	else if (n >= 1e6)
		strbuf_addf(sb, "%.1f MB", n / 1e6);
	else if (n >= 1e3)
		strbuf_addf(sb, "%.1f kB", n / 1e3);
	else
		strbuf_addf(sb, "%.0f B", n);
}

static void
draw(struct progress *p, int last)
{
	struct strbuf sb = STRBUF_INIT;
	long long ms = mono_ms() - p->start;
	double rate = ms > 0 ? (double)p->done * 1000 / (double)ms : 0;

	strbuf_addf(&sb, "\r%s: ", p->label);
	human(&sb, (double)p->done);
	if (p->total >= 0) {
		strbuf_addstr(&sb, " of ");
		human(&sb, (double)p->total);
	}
	strbuf_addstr(&sb, ", ");
	human(&sb, rate);
	strbuf_addstr(&sb, "/s");
	if (!last && p->total > p->done && rate > 0)
		strbuf_addf(&sb, ", ETA %.0fs",
		    (double)(p->total - p->done) / rate);
	strbuf_addstr(&sb, last ? "\033[K\n" : "\033[K");
	(void)write_all(2, sb.buf, sb.len);
	strbuf_release(&sb);
	p->drawn = mono_ms();
}

void
progress_add(struct progress *p, size_t n)
{
	if (p == NULL)
		return;
	p->done += (long long)n;
	if (mono_ms() - p->drawn >= REDRAW_MS)
		draw(p, 0);
}

static void *
pump(void *arg)
{
	struct progress *p = arg;
	char buf[64 * 1024];
	ssize_t n;

	for (;;) {
		if ((n = read(p->src, buf, sizeof(buf))) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0 || write_all(p->dst, buf, (size_t)n) == -1)
			break;
		progress_add(p, (size_t)n);
	}
	close(p->dst);
	return NULL;
}

int
progress_pipe(struct progress *p, int fd)
{
	int pv[2];

	if (p == NULL || pipe2(pv, O_CLOEXEC) == -1)
		return fd;
	p->src = fd;
	p->dst = pv[1];
	if (pthread_create(&p->th, NULL, pump, p) != 0) {
		close(pv[0]);
		close(pv[1]);
		return fd;
	}
	p->running = 1;
	return pv[0];
}

void
progress_end(struct progress *p, int ok)
{
	if (p == NULL)
		return;
	if (p->running)
		pthread_join(p->th, NULL);
	if (ok)
		draw(p, 1);
	else
		(void)write_all(2, "\r\033[K", 4);
	free(p);
}
