/*
 * verify and stat: walk every segment, checking each line (a JSON
 * object with seq, time and type) and, for verify, the seq order and
 * the SHA-224 of sealed segments.  verify checks every line, unlike the
 * readers' record loop (mlog_each), which trusts what it skips.
 */
#include "compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomicfile.h"
#include "extern.h"
#include "json.h"
#include "log.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

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

int
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

int
cmd_verify(int argc, char **argv)
{
	if (getopt(argc, argv, "+") != -1 || argc != optind)
		usage();
	return walk(open_log(0), 1, 0);
}
