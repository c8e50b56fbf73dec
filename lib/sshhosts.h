/*
 * sshhosts.h: is this the key of that SSH server?  Checked against
 * OpenSSH known_hosts files with libssh2's parser, as ssh(1) would:
 * plain and hashed (|1|...) host names, "[host]:port" for a port other
 * than 22, several key types per host, "@revoked" lines.  Lines that
 * libssh2 cannot parse (and "@cert-authority" ones: certificates are
 * not checked) are skipped.
 *
 * sshhosts_check(files, n, host, port, key, len, err): key is the
 * server's public key blob as the SSH protocol sends it (the bytes that
 * known_hosts holds in base64).  A file that does not exist holds no
 * keys.  Returns
 *   RC_OK    a file lists this key for host (and none revokes it);
 *   RC_PERM  no file lists a key of this type for host, or one lists a
 *            different one, or the key is revoked: err says which, in
 *            one line that names the key's SHA256 fingerprint;
 *   RC_TEMP  a file could not be read.
 */
#ifndef BF_SSHHOSTS_H
#define BF_SSHHOSTS_H

struct strbuf;

int sshhosts_check(const char *const *files, size_t nfiles,
    const char *host, int port, const unsigned char *key, size_t len,
    struct strbuf *err);

/*
 * The port of an SSH remote URL: the one in ssh://[user@]host:port/...
 * (also ssh+git:// and git+ssh://), else 22 (scp-like user@host:path).
 */
int sshhosts_url_port(const char *url);

#endif
