#include "compat.h"

#include <stdio.h>

#include "tap.h"
#include "crypto.h"
#include "strbuf.h"

#define SHA1_EMPTY	"da39a3ee5e6b4b0d3255bfef95601890afd80709"
#define SHA1_ABC	"a9993e364706816aba3e25717850c26c9cd0d89d"
#define SHA224_EMPTY \
	"d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"
#define SHA224_ABC \
	"23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
#define SHA256_EMPTY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_AB \
	"fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603"
/* FIPS 180-2's two-block message */
#define MSG448	"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define SHA256_448 \
	"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

static void
t_known(void)
{
	char hex[HASH_HEX_MAX];

	hash_buf_hex(HASH_SHA1, "", 0, hex);
	check_str(hex, SHA1_EMPTY);
	hash_buf_hex(HASH_SHA1, "abc", 3, hex);
	check_str(hex, SHA1_ABC);
	hash_buf_hex(HASH_SHA224, "", 0, hex);
	check_str(hex, SHA224_EMPTY);
	hash_buf_hex(HASH_SHA224, "abc", 3, hex);
	check_str(hex, SHA224_ABC);
	hash_buf_hex(HASH_SHA256, "", 0, hex);
	check_str(hex, SHA256_EMPTY);
	hash_buf_hex(HASH_SHA256, "abc", 3, hex);
	check_str(hex, SHA256_ABC);
	hash_buf_hex(HASH_SHA256, MSG448, strlen(MSG448), hex);
	check_str(hex, SHA256_448);
	check_int(hash_hex_len(HASH_SHA1), ==, 40);
	check_int(hash_hex_len(HASH_SHA224), ==, 56);
	check_int(hash_hex_len(HASH_SHA256), ==, 64);
}

static void
t_incremental(void)
{
	char hex[HASH_HEX_MAX];
	struct hash *h;
	size_t i;

	h = hash_new(HASH_SHA224);
	hash_update(h, "a", 1);
	hash_update(h, "", 0);
	hash_update(h, "bc", 2);
	hash_hex(h, hex);
	check_str(hex, SHA224_ABC);
	/* hash_hex resets: nothing since is the empty message */
	hash_hex(h, hex);
	check_str(hex, SHA224_EMPTY);
	hash_free(h);

	/* byte by byte across the block boundary */
	h = hash_new(HASH_SHA256);
	for (i = 0; i < strlen(MSG448); i++)
		hash_update(h, MSG448 + i, 1);
	hash_hex(h, hex);
	check_str(hex, SHA256_448);
	hash_update(h, "abc", 3);
	hash_hex(h, hex);
	check_str(hex, SHA256_ABC);
	hash_free(h);

	h = hash_new(HASH_SHA1);
	hash_update(h, "abc", 3);
	hash_hex(h, hex);
	check_str(hex, SHA1_ABC);
	hash_free(h);
	hash_free(NULL);
}

static void
t_copy(void)
{
	char hex[HASH_HEX_MAX];
	struct hash *h, *c;

	h = hash_new(HASH_SHA256);
	hash_update(h, "ab", 2);
	c = hash_copy(h);
	/* the copy goes its own way from the prefix ... */
	hash_update(h, "c", 1);
	hash_hex(h, hex);
	check_str(hex, SHA256_ABC);
	hash_hex(c, hex);
	check_str(hex, SHA256_AB);
	hash_free(c);
	/* ... and a copy of a copy too, with the original untouched */
	hash_update(h, "a", 1);
	c = hash_copy(h);
	hash_update(c, "bc", 2);
	hash_hex(c, hex);
	check_str(hex, SHA256_ABC);
	hash_update(h, "b", 1);
	hash_hex(h, hex);
	check_str(hex, SHA256_AB);
	hash_free(c);
	hash_free(h);
}

static void
t_hmac(void)
{
	char out[65], key[131];

	/* RFC 4231 test case 2 */
	hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", out);
	check_str(out, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	/* test case 1: 20 bytes of 0x0b */
	memset(key, 0x0b, 20);
	hmac_sha256_hex(key, 20, "Hi There", out);
	check_str(out, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	/* test case 6: a key longer than the block is hashed first */
	memset(key, 0xaa, 131);
	hmac_sha256_hex(key, 131,
	    "Test Using Larger Than Block-Size Key - Hash Key First", out);
	check_str(out, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	check_int(strlen(out), ==, 64);
}

static void
t_ct_streq(void)
{
	check_int(ct_streq("secret", "secret"), ==, 1);
	check_int(ct_streq("", ""), ==, 1);
	check_int(ct_streq("secret", "secreT"), ==, 0);
	check_int(ct_streq("xecret", "secret"), ==, 0);
	check_int(ct_streq("secret", "secret2"), ==, 0);
	check_int(ct_streq("secret2", "secret"), ==, 0);
	check_int(ct_streq("", "a"), ==, 0);
	check_int(ct_streq("a", ""), ==, 0);
}

static void
t_random(void)
{
	unsigned char a[32], b[32], zero[32];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	check_int(random_bytes(a, sizeof(a)), ==, 0);
	check_int(random_bytes(b, sizeof(b)), ==, 0);
	check(memcmp(a, b, sizeof(a)) != 0);
	check(memcmp(a, zero, sizeof(a)) != 0);
	check_int(random_bytes(a, 0), ==, 0);
}

/* decode s; -1, or the length with the bytes in out (NUL-terminated) */
static ssize_t
b64(const char *s, char *out)
{
	ssize_t n = crypto_base64_decode(s, strlen(s), (unsigned char *)out);

	if (n >= 0)
		out[n] = '\0';
	return n;
}

static void
t_base64(void)
{
	static const char *const bad[] = {
		"YQ=", "YQ", "YWJ", "!!!=", "YQ==YQ==", "Y=Q=", "=YWJ",
		"YW=j", "YQ===", "YWJjZA", " YWJj", "YWJj ", "YW Jj",
		"YWJj\n", "YQ=A", "====", "Y-_j",
	};
	char out[64];
	size_t i;

	check_int(b64("", out), ==, 0);
	check_int(b64("YWJj", out), ==, 3);
	check_str(out, "abc");
	check_int(b64("YQ==", out), ==, 1);
	check_str(out, "a");
	check_int(b64("YWI=", out), ==, 2);
	check_str(out, "ab");
	check_int(b64("Z29tb3RlOnMzY3JldA==", out), ==, 13);
	check_str(out, "gomote:s3cret");
	check_int(b64("+/+/", out), ==, 3);
	check(memcmp(out, "\xfb\xff\xbf", 3) == 0);
	/* a NUL decodes (the caller decides), and counts */
	check_int(b64("dQBwOnA=", out), ==, 5);
	check(memcmp(out, "u\0p:p", 5) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!check_int(b64(bad[i], out), ==, -1))
			test_msg("accepted '%s'", bad[i]);
	/* a NUL inside the input is not base64 either */
	check_int(crypto_base64_decode("YQ\0=", 4, (unsigned char *)out), ==,
	    -1);
}

static void
t_base64_encode(void)
{
	struct strbuf sb = STRBUF_INIT;

	crypto_base64_encode(&sb, "", 0);
	check_str(sb.buf, "");
	crypto_base64_encode(&sb, "f", 1);
	check_str(sb.buf, "Zg==");
	strbuf_reset(&sb);
	crypto_base64_encode(&sb, "fo", 2);
	check_str(sb.buf, "Zm8=");
	strbuf_reset(&sb);
	crypto_base64_encode(&sb, "gomote:pw", 9);
	check_str(sb.buf, "Z29tb3RlOnB3");
	/* appended */
	crypto_base64_encode(&sb, "\xff\xfe", 2);
	check_str(sb.buf, "Z29tb3RlOnB3//4=");
	strbuf_release(&sb);
}

int
main(void)
{
	TEST(t_known(), "SHA-1/224/256 of \"\", \"abc\" and 448 bits");
	TEST(t_incremental(), "incremental updates; hash_hex resets");
	TEST(t_copy(), "hash_copy hashes a prefix and goes on");
	TEST(t_hmac(), "HMAC-SHA256: RFC 4231 cases 1, 2 and 6");
	TEST(t_ct_streq(), "ct_streq: equal, different, prefixes, empty");
	TEST(t_random(), "random_bytes fills with fresh bytes");
	TEST(t_base64(), "crypto_base64_decode: padding, alphabet, shape");
	TEST(t_base64_encode(), "crypto_base64_encode: RFC 4648 cases, appends");
	return test_done();
}
