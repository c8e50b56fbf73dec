/*
 * u-gz: lib/gz.c, gzip reading (one or many members, Go's error words)
 * and parallel gzip writing, through pipes and temporary files.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <zlib.h>

#include "gz.h"
#include "strbuf.h"
#include "tap.h"
#include "xmalloc.h"

/* A temporary file holding p[0..n), rewound. */
static int
memfile(const void *p, size_t n)
{
	char path[] = "/tmp/u-gz.XXXXXX";
	int fd = mkstemp(path);

	if (fd == -1)
		return -1;
	unlink(path);
	if (n > 0 && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Some bytes that compress but not to nothing. */
static void
sample(struct strbuf *sb, size_t n)
{
	unsigned long x = 12345;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		strbuf_addch(sb, "abcdefgh\n "[(x >> 16) % 10]);
	}
}

struct drain {
	struct pgz *p;
	struct strbuf out;
	int stop_after;		/* cancel after this many bytes (0: never) */
	ssize_t last;
};

static void *
drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[7000];
	ssize_t n;

	while ((n = pgz_read(d->p, buf, sizeof(buf))) > 0) {
		strbuf_add(&d->out, buf, (size_t)n);
		if (d->stop_after > 0 && d->out.len >= (size_t)d->stop_after) {
			pgz_cancel(d->p);
			break;
		}
	}
	d->last = n;
	return NULL;
}

/* Compress in with opt through a pgz; the gzip bytes into out. */
static int
deflate_pgz(const struct pgz_opt *opt, const struct strbuf *in,
    struct strbuf *out, size_t piece)
{
	struct drain d;
	pthread_t t;
	size_t off, k;
	int ret = 0;

	memset(&d, 0, sizeof(d));
	strbuf_init(&d.out, 0);
	d.p = pgz_new(opt);
	pthread_create(&t, NULL, drain_main, &d);
	for (off = 0; off < in->len; off += k) {
		k = in->len - off < piece ? in->len - off : piece;
		if (pgz_write(d.p, in->buf + off, k) == -1)
			ret = -1;
	}
	if (pgz_close(d.p) == -1)
		ret = -1;
	pthread_join(t, NULL);
	pgz_free(d.p);
	strbuf_add(out, d.out.buf, d.out.len);
	strbuf_release(&d.out);
	return d.last == 0 ? ret : -1;
}

/* Decompress in; the bytes into out; returns the last gunz_read. */
static ssize_t
decompress(const void *in, size_t n, struct strbuf *out, struct gunz **zp)
{
	char buf[3000];
	struct gunz *z;
	ssize_t r;
	int fd = memfile(in, n);

	z = gunz_new(fd, -1);
	while ((r = gunz_read(z, buf, sizeof(buf))) > 0)
		strbuf_add(out, buf, (size_t)r);
	close(fd);
	*zp = z;
	return r;
}

static int
count_members(const struct strbuf *gz)
{
	size_t i;
	int n = 0;

	/* the header as zlib writes it: magic, deflate, no flags */
	for (i = 0; i + 4 <= gz->len; i++)
		if (memcmp(gz->buf + i, "\x1f\x8b\x08\x00", 4) == 0)
			n++;
	return n;
}

static void
t_roundtrip_single(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT;
	struct gunz *z;

	sample(&in, 3 * 1024 * 1024 + 17);
	o.single = 1;
	o.block = 100000;
	check_int(deflate_pgz(&o, &in, &gz, 65536), ==, 0);
	check(gz.len < in.len / 2);
	check_int(decompress(gz.buf, gz.len, &out, &z), ==, 0);
	check_int(out.len, ==, in.len);
	check(memcmp(out.buf, in.buf, in.len) == 0);
	check_int(count_members(&gz), >=, 1);
	gunz_free(z);
	strbuf_release(&in);
	strbuf_release(&gz);
	strbuf_release(&out);
}

static void
t_roundtrip_members(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT;
	struct gunz *z;

	sample(&in, 1000003);
	o.threads = 4;
	o.block = 10000;
	o.level = 1;
	check_int(deflate_pgz(&o, &in, &gz, 777), ==, 0);
	/* one member a block: many, each a complete gzip stream */
	check_int(count_members(&gz), >=, 100);
	check_int(decompress(gz.buf, gz.len, &out, &z), ==, 0);
	check_int(out.len, ==, in.len);
	check(memcmp(out.buf, in.buf, in.len) == 0);
	gunz_free(z);
	strbuf_release(&in);
	strbuf_release(&gz);
	strbuf_release(&out);
}

/*
 * The members of the parallel mode (libdeflate's): the same input gives
 * the same bytes whatever the threads and the sizes of the writes, and
 * gunz reads them back.
 */
static void
t_members_stable(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT,
	    out = STRBUF_INIT;
	struct gunz *z;

	sample(&in, 5 * 1024 * 1024 + 333);
	o.level = 6;
	o.threads = 1;
	check_int(deflate_pgz(&o, &in, &a, 4096), ==, 0);
	o.threads = 3;
	check_int(deflate_pgz(&o, &in, &b, 1000003), ==, 0);
	check_int(a.len, ==, b.len);
	check(memcmp(a.buf, b.buf, a.len) == 0);
	check(a.len < in.len / 2);
	/* one 1 MiB block a member */
	check_int(count_members(&a), >=, 6);
	check_int(decompress(a.buf, a.len, &out, &z), ==, 0);
	check_int(out.len, ==, in.len);
	check(memcmp(out.buf, in.buf, in.len) == 0);
	gunz_free(z);
	strbuf_release(&in);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
}

static void
t_empty_input(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT;
	struct gunz *z;

	check_int(deflate_pgz(&o, &in, &gz, 1), ==, 0);
	check_int(count_members(&gz), ==, 1);
	check_int(decompress(gz.buf, gz.len, &out, &z), ==, 0);
	check_int(out.len, ==, 0);
	gunz_free(z);
	strbuf_release(&gz);
}

struct feeder {
	int fd;
	const struct strbuf *src;
	size_t piece;
};

/* Write src to fd in pieces of piece bytes, then close fd. */
static void *
feed_main(void *arg)
{
	struct feeder *f = arg;
	size_t off, k;

	for (off = 0; off < f->src->len; off += k) {
		k = f->src->len - off < f->piece ? f->src->len - off : f->piece;
		if (write(f->fd, f->src->buf + off, k) != (ssize_t)k)
			break;
	}
	close(f->fd);
	return NULL;
}

/* Decompress gz arriving through a pipe piece bytes at a time. */
static ssize_t
decompress_pieces(const struct strbuf *gz, size_t piece, struct strbuf *out)
{
	struct feeder f;
	struct gunz *z;
	pthread_t t;
	char buf[1000];
	ssize_t r;
	int p[2];

	if (pipe(p) == -1)
		return -2;
	f.fd = p[1];
	f.src = gz;
	f.piece = piece;
	pthread_create(&t, NULL, feed_main, &f);
	z = gunz_new(p[0], -1);
	while ((r = gunz_read(z, buf, sizeof(buf))) > 0)
		strbuf_add(out, buf, (size_t)r);
	pthread_join(t, NULL);
	gunz_free(z);
	close(p[0]);
	return r;
}

/*
 * Member boundaries, headers and trailers split anywhere by the reads
 * of a pipe: the same bytes come out whatever the pieces.
 */
static void
t_pieces(void)
{
	static const size_t pieces[] = { 1, 2, 7, 10, 11, 4093, 70000 };
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;

	sample(&in, 300007);
	o.block = 5000;
	o.threads = 2;
	check_int(deflate_pgz(&o, &in, &gz, 999), ==, 0);
	check_int(count_members(&gz), >=, 60);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		strbuf_reset(&out);
		check_int(decompress_pieces(&gz, pieces[i], &out), ==, 0);
		check_int(out.len, ==, in.len);
		check(out.len == in.len &&
		    memcmp(out.buf, in.buf, in.len) == 0);
	}
	strbuf_release(&in);
	strbuf_release(&gz);
	strbuf_release(&out);
}

/*
 * The optional header fields of RFC 1952 (FEXTRA, FNAME, FCOMMENT,
 * FHCRC), as gzip -N and other writers make them, in a second member.
 */
static void
t_header_fields(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT,
	    two = STRBUF_INIT;
	struct gunz *z;
	unsigned long crc;
	size_t h;

	sample(&in, 20000);
	o.single = 1;
	check_int(deflate_pgz(&o, &in, &gz, 4096), ==, 0);
	/* member 1 as written; member 2 the same data with every field */
	strbuf_add(&two, gz.buf, gz.len);
	h = two.len;
	strbuf_add(&two, "\x1f\x8b\x08\x1e\0\0\0\0\0\xff", 10);
	strbuf_add(&two, "\x04\0" "ab\x01\0", 6);	/* XLEN 4, a subfield */
	strbuf_add(&two, "go.tar\0", 7);
	strbuf_add(&two, "a comment\0", 10);
	crc = crc32(0, (const unsigned char *)two.buf + h, (uInt)(two.len - h));
	strbuf_addch(&two, (char)(crc & 0xff));
	strbuf_addch(&two, (char)((crc >> 8) & 0xff));
	strbuf_add(&two, gz.buf + 10, gz.len - 10);
	check_int(decompress(two.buf, two.len, &out, &z), ==, 0);
	check_int(out.len, ==, 2 * in.len);
	check(out.len == 2 * in.len &&
	    memcmp(out.buf, in.buf, in.len) == 0 &&
	    memcmp(out.buf + in.len, in.buf, in.len) == 0);
	gunz_free(z);
	strbuf_release(&in);
	strbuf_release(&gz);
	strbuf_release(&out);
	strbuf_release(&two);
}

static void
expect_error(const void *p, size_t n, enum gz_kind kind, const char *msg,
    size_t want_out)
{
	struct strbuf out = STRBUF_INIT;
	struct gunz *z;

	check_int(decompress(p, n, &out, &z), ==, -1);
	check_int(gunz_kind(z), ==, kind);
	check_str(gunz_error(z), msg);
	check_int(out.len, ==, want_out);
	gunz_free(z);
	strbuf_release(&out);
}

static void
t_errors(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT,
	    bad = STRBUF_INIT;
	struct gunz *z;

	expect_error("", 0, GZ_EHEADER, "EOF", 0);
	expect_error("\x1f\x8b\x08", 3, GZ_EHEADER, "unexpected EOF", 0);
	expect_error("hello, world\n", 13, GZ_EHEADER, "gzip: invalid header",
	    0);

	o.single = 1;
	sample(&in, 200000);
	deflate_pgz(&o, &in, &gz, 4096);
	/* cut short: some output, then unexpected EOF */
	check_int(decompress(gz.buf, gz.len - 100, &out, &z), ==, -1);
	check_int(gunz_kind(z), ==, GZ_EDATA);
	check_str(gunz_error(z), "unexpected EOF");
	check(out.len > 0 && out.len < in.len);
	gunz_free(z);

	/* a bad CRC-32 in the trailer */
	strbuf_add(&bad, gz.buf, gz.len);
	bad.buf[bad.len - 6] ^= 0x55;
	strbuf_reset(&out);
	check_int(decompress(bad.buf, bad.len, &out, &z), ==, -1);
	check_str(gunz_error(z), "gzip: invalid checksum");
	check_int(out.len, ==, in.len);
	gunz_free(z);

	/* a length (ISIZE) that does not match */
	strbuf_reset(&bad);
	strbuf_add(&bad, gz.buf, gz.len);
	bad.buf[bad.len - 4] ^= 0x01;
	strbuf_reset(&out);
	check_int(decompress(bad.buf, bad.len, &out, &z), ==, -1);
	check_str(gunz_error(z), "gzip: invalid checksum");
	gunz_free(z);

	/* deflate data that cannot be: a block of the reserved type 3 */
	expect_error("\x1f\x8b\x08\0\0\0\0\0\0\xff\x07", 11, GZ_EDATA,
	    "flate: corrupt input", 0);

	/* a second member that is not gzip */
	strbuf_reset(&bad);
	strbuf_add(&bad, gz.buf, gz.len);
	strbuf_addstr(&bad, "garbage after the member");
	expect_error(bad.buf, bad.len, GZ_EDATA, "gzip: invalid header",
	    in.len);

	/* zero bytes after the last member are padding, not an error */
	strbuf_reset(&bad);
	strbuf_add(&bad, gz.buf, gz.len);
	strbuf_grow(&bad, 5000);
	memset(bad.buf + bad.len, 0, 5000);
	strbuf_setlen(&bad, bad.len + 5000);
	strbuf_reset(&out);
	check_int(decompress(bad.buf, bad.len, &out, &z), ==, 0);
	check_int(out.len, ==, in.len);
	gunz_free(z);
	/* but zeros followed by something are not */
	strbuf_addch(&bad, 'x');
	expect_error(bad.buf, bad.len, GZ_EDATA, "gzip: invalid header",
	    in.len);

	strbuf_release(&in);
	strbuf_release(&gz);
	strbuf_release(&out);
	strbuf_release(&bad);
}

struct canceller {
	int fd;
};

static void *
cancel_main(void *arg)
{
	struct canceller *c = arg;

	usleep(50000);
	(void)!write(c->fd, "x", 1);
	return NULL;
}

static void
t_cancel_reader(void)
{
	struct canceller c;
	struct gunz *z;
	pthread_t t;
	char buf[100];
	int in[2], cn[2];

	check_int(pipe(in), ==, 0);
	check_int(pipe(cn), ==, 0);
	/* a header arrives, then nothing: the reader blocks */
	check_int(write(in[1], "\x1f\x8b\x08\0\0\0\0\0\0\xff", 10), ==, 10);
	z = gunz_new(in[0], cn[0]);
	c.fd = cn[1];
	pthread_create(&t, NULL, cancel_main, &c);
	check_int(gunz_read(z, buf, sizeof(buf)), ==, -1);
	check_int(gunz_kind(z), ==, GZ_ECANCEL);
	pthread_join(t, NULL);
	gunz_free(z);
	close(in[0]);
	close(in[1]);
	close(cn[0]);
	close(cn[1]);
}

static void
t_cancel_writer(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct strbuf in = STRBUF_INIT;
	struct drain d;
	pthread_t t;
	int rc = 0, i;

	sample(&in, 100000);
	memset(&d, 0, sizeof(d));
	strbuf_init(&d.out, 0);
	o.threads = 2;
	o.block = 10000;
	d.p = pgz_new(&o);
	d.stop_after = 5000;
	pthread_create(&t, NULL, drain_main, &d);
	/* far more than the blocks in flight: the reader's cancel ends it */
	for (i = 0; i < 1000 && rc == 0; i++)
		rc = pgz_write(d.p, in.buf, in.len);
	check_int(rc, ==, -1);
	pthread_join(t, NULL);
	check(d.out.len >= 5000);
	pgz_free(d.p);
	strbuf_release(&d.out);
	strbuf_release(&in);
}

static void
t_abort(void)
{
	struct pgz_opt o = PGZ_OPT_INIT;
	struct drain d;
	pthread_t t;

	memset(&d, 0, sizeof(d));
	strbuf_init(&d.out, 0);
	d.p = pgz_new(&o);
	pthread_create(&t, NULL, drain_main, &d);
	check_int(pgz_write(d.p, "abc", 3), ==, 0);
	pgz_abort(d.p);
	pthread_join(t, NULL);
	check_int(d.last, ==, -1);
	pgz_free(d.p);
	strbuf_release(&d.out);
}

int
main(void)
{
	TEST(t_roundtrip_single(), "one member, read back");
	TEST(t_roundtrip_members(), "parallel members, read back as one stream");
	TEST(t_members_stable(),
	    "members: the same bytes whatever the threads, read back");
	TEST(t_empty_input(), "no input gives one empty member");
	TEST(t_pieces(), "members split anywhere by a pipe's reads");
	TEST(t_header_fields(), "FEXTRA, FNAME, FCOMMENT, FHCRC are skipped");
	TEST(t_errors(), "errors in Go's words; zero padding is not one");
	TEST(t_cancel_reader(), "a blocked reader is cancelled");
	TEST(t_cancel_writer(), "the writer learns that the reader went away");
	TEST(t_abort(), "an aborted stream fails the reader");
	return test_done();
}
