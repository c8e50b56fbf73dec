#include "compat.h"

#include <limits.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "strbuf.h"
#include "xmalloc.h"

struct hash {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

static const EVP_MD *
kind_md(enum hash_kind kind)
{
	switch (kind) {
	case HASH_SHA1:
		return EVP_sha1();
	case HASH_SHA224:
		return EVP_sha224();
	case HASH_SHA256:
		return EVP_sha256();
	}
	return EVP_sha256();
}

size_t
hash_hex_len(enum hash_kind kind)
{
	return (size_t)EVP_MD_get_size(kind_md(kind)) * 2;
}

struct hash *
hash_new(enum hash_kind kind)
{
	struct hash *h = xcalloc(1, sizeof(*h));

	h->md = kind_md(kind);
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL || !EVP_DigestInit_ex(h->ctx, h->md, NULL))
		(void)xmalloc(SIZE_MAX);	/* no memory: report, exit */
	return h;
}

void
hash_update(struct hash *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

static void
tohex(const unsigned char *d, size_t n, char *hex)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[2 * n] = '\0';
}

void
hash_hex(struct hash *h, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, d, &n);
	tohex(d, n, hex);
	EVP_DigestInit_ex(h->ctx, h->md, NULL);
}

struct hash *
hash_copy(const struct hash *h)
{
	struct hash *c = xcalloc(1, sizeof(*c));

	c->md = h->md;
	c->ctx = EVP_MD_CTX_new();
	if (c->ctx == NULL || !EVP_MD_CTX_copy_ex(c->ctx, h->ctx))
		(void)xmalloc(SIZE_MAX);
	return c;
}

void
hash_free(struct hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void
hash_buf_hex(enum hash_kind kind, const void *p, size_t n, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(p, n, d, &len, kind_md(kind), NULL);
	tohex(d, len, hex);
}

void
ssh_fingerprint(const void *blob, size_t n, char out[SSH_FP_MAX])
{
	unsigned char d[EVP_MAX_MD_SIZE], b64[4 * ((32 + 2) / 3) + 1];
	unsigned int len = 0;
	int k;

	EVP_Digest(blob, n, d, &len, EVP_sha256(), NULL);
	k = EVP_EncodeBlock(b64, d, (int)len);	/* 44, with one '=' */
	while (k > 0 && b64[k - 1] == '=')
		k--;
	snprintf(out, SSH_FP_MAX, "SHA256:%.*s", k, (const char *)b64);
}

void
hmac_sha256_hex(const void *key, size_t keylen, const char *msg,
    char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
	    strlen(msg), d, &len);
	tohex(d, len, out);
	bf_wipe(d, sizeof(d));
}

int
ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* compare over b's length whatever a is, so timing shows no prefix */
	unsigned char diff = (unsigned char)(la != lb);
	size_t i;

	for (i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}

int
random_bytes(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -1;
}

ssize_t
crypto_base64_decode(const char *s, size_t n, unsigned char *out)
{
	static const char alphabet[64] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, pad = 0;
	int r;

	/*
	 * EVP_DecodeBlock decodes whole blocks but takes an '=' anywhere
	 * (and trims whitespace), so the shape is checked first; the
	 * streaming EVP_Decode* API checks it itself but keeps input in a
	 * context that EVP_ENCODE_CTX_free does not wipe.
	 */
	if (n % 4 != 0 || n > INT_MAX)
		return -1;
	if (n > 0 && s[n - 1] == '=')
		pad = n > 1 && s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (memchr(alphabet, s[i], sizeof(alphabet)) == NULL)
			return -1;
	if (n == 0)
		return 0;
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad)
		return -1;
	return (ssize_t)((size_t)r - pad);
}

void
crypto_base64_encode(struct strbuf *out, const void *p, size_t n)
{
	size_t need = (n + 2) / 3 * 4 + 1;
	int r;

	if (n > INT_MAX / 2)
		return;
	strbuf_grow(out, need);
	r = EVP_EncodeBlock((unsigned char *)out->buf + out->len, p, (int)n);
	strbuf_setlen(out, out->len + (size_t)r);
}
