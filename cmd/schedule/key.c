/*
 * key.c: schedule key NAME, and the master key every key is made from
 * (DESIGN §2.1): the key of NAME is HMAC-SHA256(keys/master, NAME) in
 * lowercase hex, so the farm stores one secret and hands out keys it
 * can check without a table.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crypto.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"

#define KEY_LEN 32

static int
read_key(const char *path, unsigned char key[KEY_LEN], struct strbuf *err)
{
	struct stat st;
	ssize_t n;
	int fd, rc = RC_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return RC_NO;
		strbuf_addf(err, "open '%s': %s", path, strerror(errno));
		return errno == ELOOP ? RC_PERM : RC_TEMP;
	}
	if (fstat(fd, &st) != 0) {
		strbuf_addf(err, "stat '%s': %s", path, strerror(errno));
		rc = RC_TEMP;
	} else if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		strbuf_addf(err, "master key '%s': mode %03o: want a regular "
		    "file readable by its owner only (0600)", path,
		    (unsigned)st.st_mode & 0777);
		rc = RC_PERM;
	} else if (st.st_size != KEY_LEN) {
		strbuf_addf(err, "master key '%s': %lld bytes: want %d", path,
		    (long long)st.st_size, KEY_LEN);
		rc = RC_PERM;
	} else if ((n = pread_all(fd, key, KEY_LEN, 0)) != KEY_LEN) {
		strbuf_addf(err, "read '%s': %s", path,
		    n < 0 ? strerror(errno) : "short read");
		rc = RC_TEMP;
	}
	close(fd);
	return rc;
}

/*
 * Make keys/master: written whole to a temporary name, then linked to
 * its place, which fails when another process made it first (key and
 * serve may start at once): then theirs is the key.
 */
static int
make_key(const char *keys, const char *path, struct strbuf *err)
{
	unsigned char key[KEY_LEN];
	char tmp[64];
	int dfd, rc = RC_OK;

	if ((mkdir(keys, 0700) != 0 && errno == ENOENT &&
	    (mkdirs(cx.dir) != 0 || mkdir(keys, 0700) != 0)) ||
	    (dfd = open(keys, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		strbuf_addf(err, "create '%s': %s", keys, strerror(errno));
		return RC_TEMP;
	}
	if (random_bytes(key, sizeof(key)) != 0) {
		strbuf_addstr(err, "random bytes for the master key: failed");
		close(dfd);
		return RC_TEMP;
	}
	if (snprintf(tmp, sizeof(tmp), ".master.%ld", (long)getpid()) >=
	    (int)sizeof(tmp))
		abort();
	if (atomic_write(dfd, tmp, key, sizeof(key), 0600, err) != 0)
		rc = RC_TEMP;
	else if (linkat(dfd, tmp, dfd, "master", 0) != 0 && errno != EEXIST) {
		strbuf_addf(err, "create '%s': %s", path, strerror(errno));
		rc = RC_TEMP;
	} else if (fsync_dir(dfd) != 0) {
		strbuf_addf(err, "fsync '%s': %s", keys, strerror(errno));
		rc = RC_TEMP;
	}
	(void)unlinkat(dfd, tmp, 0);
	close(dfd);
	explicit_bzero(key, sizeof(key));
	return rc;
}

int
master_key(unsigned char key[32], int create, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, keys = STRBUF_INIT;
	int rc;

	farm_place(&path, cx.dir, FARM_MASTER_KEY);
	farm_place(&keys, cx.dir, FARM_KEYS);
	rc = read_key(path.buf, key, err);
	if (rc == RC_NO && !create)
		strbuf_addf(err, "no master key '%s'", path.buf);
	else if (rc == RC_NO && (rc = make_key(keys.buf, path.buf,
	    err)) == RC_OK)
		rc = read_key(path.buf, key, err);
	strbuf_release(&path);
	strbuf_release(&keys);
	return rc;
}

/* user-LOGIN, or a host type or builder of the config. */
static int
key_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 200 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._@+-") != n)
		return 0;
	if (strncmp(name, "user-", 5) == 0)
		return n > 5;
	return farmconf_hosttype(cx.conf, name) != NULL ||
	    farmconf_builder(cx.conf, name) != NULL;
}

int
cmd_key(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	unsigned char key[KEY_LEN];
	char hex[65];
	int rc;

	if (getopt(argc, argv, "") != -1 || argc - optind != 1)
		usage();
	load_conf(FC_HOSTTYPE | FC_BUILDER);
	if (!key_name_ok(argv[optind]))
		fatalx(RC_PERM, "key '%s': want user-LOGIN or a host type or "
		    "builder of the config '%s'", esc(argv[optind]),
		    cx.conf->path);
	if ((rc = master_key(key, 1, &err)) != RC_OK)
		fatalx(rc, "%s", err.buf);
	hmac_sha256_hex(key, sizeof(key), argv[optind], hex);
	explicit_bzero(key, sizeof(key));
	printf("%s\n", hex);
	strbuf_release(&err);
	return RC_OK;
}
