#include "compat.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "json.h"
#include "mlog.h"
#include "rc.h"
#include "strbuf.h"
#include "tap.h"

static char dir[64];

static struct json *
rec(const char *text)
{
	struct strbuf err = STRBUF_INIT;
	struct json *j = json_parse(text, strlen(text), &err);

	strbuf_release(&err);
	return j;
}

static int
collect(const char *buf, size_t len, void *arg)
{
	strbuf_add(arg, buf, len);
	return 0;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
t_append_read(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct mlog *l = NULL;
	struct json *r[3];
	struct mlog_cursor cur = { 0, 0 };
	uint64_t first = 0;
	int i;

	check_int(mlog_open(&l, dir, 0, &err), ==, RC_PERM);
	strbuf_reset(&err);
	if (!check_int(mlog_open(&l, dir, MLOG_CREATE, &err), ==, RC_OK))
		return;
	r[0] = rec("{\"z\":1,\"a\":2}");
	r[1] = rec("{\"type\":\"gerrit\"}");
	r[2] = rec("{\"x\":\"\\u00e9\\n\"}");
	check_int(mlog_append(l, r, 3, "git", &first, &err), ==, RC_OK);
	check_int(first, ==, 1);
	for (i = 0; i < 3; i++)
		json_free(r[i]);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check_int(mlog_nsegs(l), ==, 1);
	check_str(mlog_seg(l, 0)->name, "0000.jsonl");
	check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(count_lines(out.buf), ==, 3);
	check(strncmp(out.buf, "{\"a\":2,\"seq\":1,\"time\":\"", 23) == 0);
	check(strstr(out.buf, "\"type\":\"gerrit\"}\n") != NULL);
	check(strstr(out.buf, "{\"seq\":3,") != NULL);
	check(strstr(out.buf, "\"x\":\"\xc3\xa9\\n\"}\n") != NULL);
	check_int(cur.seg, ==, 0);
	check_int(cur.off, ==, (long long)out.len);
	/* nothing new: nothing read */
	strbuf_reset(&out);
	check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(out.len, ==, 0);
	r[0] = rec("[1]");
	check_int(mlog_append(l, r, 1, "git", &first, &err), ==, RC_PERM);
	check(strstr(err.buf, "not a JSON object") != NULL);
	json_free(r[0]);
	strbuf_reset(&err);
	r[0] = rec("{\"a\":1}");
	check_int(mlog_append(l, r, 1, NULL, &first, &err), ==, RC_PERM);
	check(strstr(err.buf, "no string \"type\"") != NULL);
	json_free(r[0]);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&out);
}

static void
t_seal_seek(void)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct mlog *l = NULL;
	struct json *r[1];
	struct mlog_cursor cur;
	uint64_t first = 0, s;
	char hex[57];
	int i;

	mlog_open(&l, dir, 0, &err);
	mlog_set_seal_size(l, 300);
	for (i = 0; i < 20; i++) {
		r[0] = rec("{\"type\":\"git\",\"pad\":\"0123456789012345678901234567890123456789\"}");
		check_int(mlog_append(l, r, 1, NULL, &first, &err), ==, RC_OK);
		json_free(r[0]);
	}
	check_int(first, ==, 23);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	check_int(mlog_nsegs(l), >, 5);
	for (i = 0; i + 1 < (int)mlog_nsegs(l); i++) {
		const struct mlog_seg *sg = mlog_seg(l, (size_t)i);

		check(sg->sealed);
		check_int(sg->size, <=, 300);
		check_int(mlog_seg_hash(l, (size_t)i, sg->size, hex, &err), ==,
		    RC_OK);
		check_str(hex, sg->sha224);
	}
	check(!mlog_seg(l, mlog_nsegs(l) - 1)->sealed);
	/* seek to every seq and read it back first */
	for (s = 1; s <= 23; s++) {
		check_int(mlog_seek_seq(l, s, &cur, &err), ==, RC_OK);
		strbuf_reset(&out);
		check_int(mlog_read(l, &cur, collect, &out, &err), ==, RC_OK);
		check_int(count_lines(out.buf), ==, 24 - s);
		check_int(mlog_line_seq(out.buf, (size_t)(strchr(out.buf, '\n') - out.buf)), ==, s);
	}
	/* one segment only */
	cur.seg = 1;
	cur.off = 0;
	strbuf_reset(&out);
	check_int(mlog_read_seg(l, &cur, collect, &out, &err), ==, RC_OK);
	check_int(cur.seg, ==, 1);
	check_int((long long)out.len, ==, (long long)mlog_seg(l, 1)->size);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&out);
}

static void
t_torn_tail(void)
{
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT, out = STRBUF_INIT;
	struct mlog *l = NULL;
	struct mlog_cursor cur = { 0, 0 };
	struct json *r[1];
	uint64_t first;
	struct stat st;
	off_t len, before;
	int fd;

	mlog_open(&l, dir, 0, &err);
	mlog_scan(l, &err);
	strbuf_addf(&p, "%s/%s", dir, mlog_seg(l, mlog_nsegs(l) - 1)->name);
	stat(p.buf, &st);
	before = st.st_size;
	fd = open(p.buf, O_WRONLY | O_APPEND);
	check_int(write(fd, "{\"type\":\"git\",\"to", 17), ==, 17);
	close(fd);
	mlog_scan(l, &err);
	check_int(mlog_seg_readable(l, mlog_nsegs(l) - 1, NULL, &len, &err),
	    ==, RC_OK);
	check_int(len, ==, before);
	r[0] = rec("{\"type\":\"git\",\"after\":1}");
	check_int(mlog_append(l, r, 1, NULL, &first, &err), ==, RC_OK);
	json_free(r[0]);
	check_int(first, ==, 24);
	stat(p.buf, &st);
	mlog_scan(l, &err);
	check_int(mlog_seek_seq(l, 24, &cur, &err), ==, RC_OK);
	mlog_read(l, &cur, collect, &out, &err);
	check(strncmp(out.buf, "{\"after\":1,\"seq\":24,", 20) == 0);
	check_int(count_lines(out.buf), ==, 1);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&p);
	strbuf_release(&out);
}

static void
t_foreign(void)
{
	struct strbuf err = STRBUF_INIT, p = STRBUF_INIT;
	struct mlog *l = NULL;
	int fd;

	mlog_open(&l, dir, 0, &err);
	strbuf_addf(&p, "%s/.hidden", dir);
	fd = open(p.buf, O_CREAT | O_WRONLY, 0644);
	close(fd);
	check_int(mlog_scan(l, &err), ==, RC_OK);
	unlink(p.buf);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/00001.jsonl", dir);
	fd = open(p.buf, O_CREAT | O_WRONLY, 0644);
	close(fd);
	check_int(mlog_scan(l, &err), ==, RC_PERM);
	check(strstr(err.buf, "foreign file '00001.jsonl'") != NULL);
	unlink(p.buf);
	mlog_close(l);
	strbuf_release(&err);
	strbuf_release(&p);
}

static void
t_watch(void)
{
	struct strbuf err = STRBUF_INIT;
	struct mlog *l = NULL;
	struct json *r[1];
	uint64_t first;
	pid_t pid;

	mlog_open(&l, dir, 0, &err);
	check_int(mlog_watch(l, &err), ==, RC_OK);
	check_int(mlog_wait(l, 50), ==, 0);
	pid = fork();
	if (pid == 0) {
		struct mlog *l2;

		usleep(100000);
		mlog_open(&l2, dir, 0, &err);
		r[0] = rec("{\"type\":\"git\"}");
		mlog_append(l2, r, 1, NULL, &first, &err);
		_exit(0);
	}
	check_int(mlog_wait(l, 5000), ==, 1);
	waitpid(pid, NULL, 0);
	mlog_close(l);
	strbuf_release(&err);
}

int
main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/u-mlog.%ld/log", (long)getpid());
	TEST(t_append_read(), "append and read: canonical lines, seqs, errors");
	TEST(t_seal_seek(), "sealing by size, hashes in names, seek to seq");
	TEST(t_torn_tail(), "a torn tail is hidden and cut by the next append");
	TEST(t_foreign(), "dot-files ignored, foreign files refused");
	TEST(t_watch(), "inotify wait wakes on another process's append");
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/u-mlog.%ld", (long)getpid());
	if (system(cmd) != 0)
		test_msg("cleanup failed");
	return test_done();
}
