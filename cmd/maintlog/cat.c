/*
 * cat: the records, raw (copied in the kernel: as fast as cat(1)),
 * or with -t those of one type through the record loop; and follow,
 * which cat -f and grep -f share.
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
#include "num.h"
#include "rc.h"
#include "strbuf.h"

struct cat {
	struct mlog_sel sel;	/* sel.type: -t */
	struct strbuf out;
};

static void
flush_out(struct strbuf *out)
{
	if (out->len && write_all(1, out->buf, out->len) < 0)
		fatal(RC_TEMP, "write stdout");
	strbuf_reset(out);
}

static int
emit_rec(const struct mlog_rec *r, void *arg)
{
	struct cat *c = arg;

	strbuf_add(&c->out, r->line, r->len + 1);
	if (c->out.len >= (1 << 16))
		flush_out(&c->out);
	return 0;
}

static int
cat_step(struct mlog *l, struct mlog_cursor *cur, void *arg,
    struct strbuf *err)
{
	struct cat *c = arg;
	int rc;

	if (c->sel.type == NULL)
		return mlog_copy(l, cur, 1, err);
	rc = mlog_each(l, cur, &c->sel, emit_rec, c, err);
	flush_out(&c->out);
	return rc;
}

int
follow(struct mlog *l, struct mlog_cursor *cur, int once, stepfn *step,
    void *arg)
{
	struct strbuf err = STRBUF_INIT;
	int rc;

	if (!once && (rc = mlog_watch(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	for (;;) {
		if ((rc = step(l, cur, arg, &err)) != RC_OK)
			fatalx(rc, "%s", err.buf);
		if (once)
			return RC_OK;
		if (mlog_wait(l, -1) < 0)
			fatal(RC_TEMP, "inotify");
		if ((rc = mlog_scan(l, &err)) != RC_OK)
			fatalx(rc, "%s", err.buf);
	}
}

int
cmd_cat(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct mlog_cursor cur = { 0, 0 };
	struct cat c;
	struct mlog *l;
	uint64_t sflag = 0;
	int ch, fflag = 0, rc;

	memset(&c, 0, sizeof(c));
	strbuf_init(&c.out, 0);
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
			c.sel.type = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	l = open_log(0);
	if ((rc = mlog_scan(l, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	if (sflag > 1 && (rc = mlog_seek_seq(l, sflag, &cur, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	rc = follow(l, &cur, !fflag, cat_step, &c);
	strbuf_release(&c.out);
	strbuf_release(&err);
	return rc;
}
