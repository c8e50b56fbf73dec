/*
 * sshhosts: SSH host keys against known_hosts files, with libssh2's
 * parser and matcher (plain and hashed names, "[host]:port").  libssh2
 * wants a session for its known-hosts list; one that never connects
 * serves.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <libssh2.h>

#include "crypto.h"
#include "rc.h"
#include "sshhosts.h"
#include "strbuf.h"

#define LINE_MAX_BYTES	16384	/* longer lines are skipped */

/* The key type named at the start of an SSH key blob, for libssh2. */
static int
blob_type(const unsigned char *key, size_t len, struct strbuf *name)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
		{ "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519 },
		{ "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
		{ "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256 },
		{ "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384 },
		{ "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521 },
		{ "ssh-dss", LIBSSH2_KNOWNHOST_KEY_SSHDSS },
	};
	size_t n, i;

	if (len < 4)
		return -1;
	n = (size_t)key[0] << 24 | (size_t)key[1] << 16 |
	    (size_t)key[2] << 8 | key[3];
	if (n > len - 4)
		return -1;
	strbuf_reset(name);
	strbuf_add(name, key + 4, n);
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(name->buf, types[i].name) == 0)
			return types[i].type;
	return -1;
}

/*
 * Load one file: ordinary lines into kh, "@revoked" ones into rev.
 * Returns RC_OK (also for a file that does not exist) or RC_TEMP.
 */
static int
load(LIBSSH2_KNOWNHOSTS *kh, LIBSSH2_KNOWNHOSTS *rev, const char *path,
    struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	LIBSSH2_KNOWNHOSTS *to;
	const char *p;
	FILE *fp;
	int r;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return RC_OK;
		strbuf_addf(err, "ssh: %s: %s", path, strerror(errno));
		return RC_TEMP;
	}
	while ((r = strbuf_getline(&line, fp, LINE_MAX_BYTES)) != EOF) {
		if (r == -2)
			continue;
		for (p = line.buf; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		to = kh;
		if (*p == '@') {
			if (strncmp(p, "@revoked", 8) != 0 ||
			    (p[8] != ' ' && p[8] != '\t'))
				continue;	/* @cert-authority */
			for (p += 8; *p == ' ' || *p == '\t'; p++)
				;
			to = rev;
		}
		/* a line libssh2 cannot parse holds nothing we could match */
		(void)libssh2_knownhost_readline(to, p, strlen(p),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	r = ferror(fp) ? RC_TEMP : RC_OK;
	if (r != RC_OK)
		strbuf_addf(err, "ssh: %s: read error", path);
	fclose(fp);
	strbuf_release(&line);
	return r;
}

int
sshhosts_check(const char *const *files, size_t nfiles, const char *host,
    int port, const unsigned char *key, size_t len, struct strbuf *err)
{
	LIBSSH2_SESSION *s = NULL;
	LIBSSH2_KNOWNHOSTS *kh = NULL, *rev = NULL;
	struct strbuf name = STRBUF_INIT, where = STRBUF_INIT;
	char fp[SSH_FP_MAX];
	size_t i;
	int type, mask, inited = 0, rc = RC_PERM;

	ssh_fingerprint(key, len, fp);
	if (port == 22)
		strbuf_addstr(&where, host);
	else
		strbuf_addf(&where, "[%s]:%d", host, port);
	if ((type = blob_type(key, len, &name)) == -1) {
		strbuf_addf(err, "ssh: %s offers a host key of unknown type "
		    "(%s)", where.buf, fp);
		goto out;
	}
	if (libssh2_init(0) != 0) {
		strbuf_addstr(err, "ssh: cannot set up libssh2");
		rc = RC_TEMP;
		goto out;
	}
	inited = 1;
	if ((s = libssh2_session_init()) == NULL ||
	    (kh = libssh2_knownhost_init(s)) == NULL ||
	    (rev = libssh2_knownhost_init(s)) == NULL) {
		strbuf_addstr(err, "ssh: cannot set up libssh2");
		rc = RC_TEMP;
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if ((rc = load(kh, rev, files[i], err)) != RC_OK)
			goto out;
	mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
	    type;
	if (libssh2_knownhost_checkp(rev, host, port, (const char *)key, len,
	    mask, NULL) == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		strbuf_addf(err, "ssh: the %s host key of %s (%s) is revoked",
		    name.buf, where.buf, fp);
		rc = RC_PERM;
		goto out;
	}
	switch (libssh2_knownhost_checkp(kh, host, port, (const char *)key,
	    len, mask, NULL)) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		rc = RC_OK;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		strbuf_addf(err, "ssh: the %s host key of %s (%s) is not the "
		    "one known_hosts has: changed, or someone in the middle",
		    name.buf, where.buf, fp);
		rc = RC_PERM;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		strbuf_addf(err, "ssh: no %s host key for %s in known_hosts "
		    "(it offers %s)", name.buf, where.buf, fp);
		rc = RC_PERM;
		break;
	default:
		strbuf_addstr(err, "ssh: libssh2 cannot check the host key");
		rc = RC_TEMP;
		break;
	}
out:
	if (kh != NULL)
		libssh2_knownhost_free(kh);
	if (rev != NULL)
		libssh2_knownhost_free(rev);
	if (s != NULL)
		libssh2_session_free(s);
	if (inited)
		libssh2_exit();	/* counted: libgit2 holds its own */
	strbuf_release(&name);
	strbuf_release(&where);
	return rc;
}

int
sshhosts_url_port(const char *url)
{
	static const char *const schemes[] = { "ssh://", "ssh+git://",
	    "git+ssh://" };
	const char *h, *e, *c;
	size_t i;
	long port;
	char *end;

	for (i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
			break;
	if (i == ARRAY_SIZE(schemes))
		return 22;
	h = url + strlen(schemes[i]);
	e = h + strcspn(h, "/");
	if ((c = memchr(h, '@', (size_t)(e - h))) != NULL)
		h = c + 1;
	if (*h == '[') {	/* [v6 address] */
		if ((c = memchr(h, ']', (size_t)(e - h))) == NULL)
			return 22;
		h = c + 1;
	}
	if ((c = memchr(h, ':', (size_t)(e - h))) == NULL || c + 1 == e)
		return 22;
	errno = 0;
	port = strtol(c + 1, &end, 10);
	if (errno != 0 || end != e || port < 1 || port > 65535)
		return 22;
	return (int)port;
}
