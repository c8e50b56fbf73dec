/*
 * crypto.h: hashing and keys (OpenSSL's libcrypto behind this module).
 *
 * Incremental SHA-224 / SHA-256:
 *   struct hash *h = hash_new(HASH_SHA224);
 *   hash_update(h, p, n); ...
 *   hash_hex(h, hex);      hex must hold HASH_HEX_MAX bytes; h is reset
 *   hash_free(h);
 * hash_copy duplicates a running state (to hash a prefix and go on).
 *
 * hmac_sha256_hex(key, keylen, msg, out) writes 64 hex digits and a NUL;
 * the farm's keys are HMAC-SHA256(master, NAME) in lowercase hex.
 *
 * ct_streq(a, b) compares two secrets in time that depends only on their
 * lengths, never on where they first differ.
 *
 * random_bytes fills p with n bytes from the kernel's CSPRNG; 0 or -1.
 *
 * crypto_base64_decode(s, n, out) decodes standard base64 (RFC 4648 §4:
 * the + and / alphabet, padded to a multiple of 4, no whitespace) from
 * s[0..n) into out, which must hold CRYPTO_B64_DECODED_MAX(n) bytes;
 * it returns the decoded length or -1 when s is malformed.  Nothing of
 * s or out is left behind elsewhere, so the caller can wipe a secret.
 * crypto_base64_encode appends the padded base64 of n bytes to a strbuf.
 * ssh_fingerprint(blob, n, out) writes an SSH public key's fingerprint
 * as ssh-keygen -l prints it: "SHA256:" and the unpadded base64 of the
 * SHA-256 of the key blob.
 */
#ifndef BF_CRYPTO_H
#define BF_CRYPTO_H

#include <stddef.h>
#include <sys/types.h>

enum hash_kind {
	HASH_SHA1,
	HASH_SHA224,
	HASH_SHA256,
};

#define HASH_HEX_MAX 65

struct hash;

struct hash *hash_new(enum hash_kind kind);
void hash_update(struct hash *h, const void *p, size_t n);
void hash_hex(struct hash *h, char *hex);
struct hash *hash_copy(const struct hash *h);
void hash_free(struct hash *h);
/* One-shot helper: hex digest of p[0..n). */
void hash_buf_hex(enum hash_kind kind, const void *p, size_t n, char *hex);
size_t hash_hex_len(enum hash_kind kind);

void hmac_sha256_hex(const void *key, size_t keylen, const char *msg,
    char out[65]);
int ct_streq(const char *a, const char *b);
int random_bytes(void *p, size_t n);

#define CRYPTO_B64_DECODED_MAX(n)	((n) / 4 * 3)
ssize_t crypto_base64_decode(const char *s, size_t n, unsigned char *out);
/* Append the standard, padded base64 of p[0..n) to out (HTTP Basic). */
struct strbuf;
void crypto_base64_encode(struct strbuf *out, const void *p, size_t n);

#define SSH_FP_MAX 51	/* "SHA256:", 43 characters and a NUL */
void ssh_fingerprint(const void *blob, size_t n, char out[SSH_FP_MAX]);

#endif
