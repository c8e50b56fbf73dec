#include "compat.h"

#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tap.h"
#include "crypto.h"
#include "rc.h"
#include "sshhosts.h"
#include "strbuf.h"

/* two ed25519 keys from ssh-keygen, and what ssh-keygen -l says of A */
#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAIFW6lit9azlfKTtH7W7ghbDA3GET2Vh4Ja++YZ3XGfBf"
#define KEY_B "AAAAC3NzaC1lZDI1NTE5AAAAICAl50NyUi7hpGSjCQfIqzkDmCuCIWRIvI6wb/Z+BKbK"
#define FP_A "SHA256:3zzW7OZ8zR0kGQPZ1Hgd0wbMLHLlFOhu+ryUAg4MFi8"
/* ssh-keygen -H of "[example.org]:2222 A" and "mirror.example.org A" */
#define HASHED_PORT "|1|PYjxKWCd1pieCIVggi36n+jLb6c=|AXqoGo4fK0PMJKoWRJ340HWbJGs="
#define HASHED_MIRROR "|1|aya0y+GNphelBmW1oOzAPoH3s6E=|i6X165yHZhr8mh0Uf6X2QwohWqc="

static char root[4096];
static unsigned char key_a[64], key_b[64], key_odd[64];
static size_t len_a, len_b, len_odd;

static size_t
unb64(const char *s, unsigned char *out)
{
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)strlen(s));

	return (size_t)n - (strlen(s) % 4 == 0 && s[strlen(s) - 1] == '=');
}

/* root/name holding text; the name is the caller's to free */
static char *
file(const char *name, const char *text)
{
	char path[4200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF)
		test_msg("cannot write %s", path);
	return strdup(path);
}

/* sshhosts_check on one file, the message in err */
static int
check1(const char *path, const char *host, int port, const unsigned char *k,
    size_t n, struct strbuf *err)
{
	const char *files[] = { path };

	strbuf_reset(err);
	return sshhosts_check(files, 1, host, port, k, n, err);
}

static void
t_fingerprint(void)
{
	char fp[SSH_FP_MAX];

	check_int(len_a, ==, 51);
	ssh_fingerprint(key_a, len_a, fp);
	check_str(fp, FP_A);
}

static void
t_url_port(void)
{
	check_int(sshhosts_url_port("ssh://git@host:2222/x.git"), ==, 2222);
	check_int(sshhosts_url_port("ssh://host/x.git"), ==, 22);
	check_int(sshhosts_url_port("ssh://u@[::1]:2200/x"), ==, 2200);
	check_int(sshhosts_url_port("ssh://[::1]/x"), ==, 22);
	check_int(sshhosts_url_port("git+ssh://u@h:23/p"), ==, 23);
	check_int(sshhosts_url_port("ssh+git://h:24/p"), ==, 24);
	check_int(sshhosts_url_port("git@github.com:golang/go.git"), ==, 22);
	check_int(sshhosts_url_port("ssh://h:/x"), ==, 22);
	check_int(sshhosts_url_port("ssh://h:99999/x"), ==, 22);
	check_int(sshhosts_url_port("ssh://h:22x/x"), ==, 22);
	check_int(sshhosts_url_port("ssh://u:pw@h/x"), ==, 22);
}

static void
t_match(void)
{
	struct strbuf err = STRBUF_INIT;
	char *kh = file("known_hosts",
	    "# a comment, a blank line, lines libssh2 cannot parse\n"
	    "\n"
	    "@cert-authority *.example.org ssh-ed25519 " KEY_B "\n"
	    "this is not a known_hosts line\n"
	    "plain.example.org,[plain.example.org]:2022 ssh-ed25519 " KEY_A
	    " comment\n"
	    HASHED_PORT " ssh-ed25519 " KEY_A "\n"
	    HASHED_MIRROR " ssh-ed25519 " KEY_A "\n");

	check_int(check1(kh, "plain.example.org", 22, key_a, len_a, &err), ==,
	    RC_OK);
	check_int(check1(kh, "plain.example.org", 2022, key_a, len_a, &err),
	    ==, RC_OK);
	check_int(check1(kh, "example.org", 2222, key_a, len_a, &err), ==,
	    RC_OK);
	check_int(check1(kh, "mirror.example.org", 22, key_a, len_a, &err),
	    ==, RC_OK);
	check_str(err.buf, "");
	strbuf_release(&err);
	free(kh);
}

static void
t_refuse(void)
{
	struct strbuf err = STRBUF_INIT;
	char *kh = file("known_hosts2",
	    HASHED_MIRROR " ssh-ed25519 " KEY_A "\n"
	    "[other.example.org]:2222 ssh-ed25519 " KEY_B "\n");

	check_int(check1(kh, "mirror.example.org", 22, key_b, len_b, &err),
	    ==, RC_PERM);
	check(strstr(err.buf, "ssh: the ssh-ed25519 host key of "
	    "mirror.example.org (SHA256:") == err.buf);
	check(strstr(err.buf, ") is not the one known_hosts has: changed, "
	    "or someone in the middle") != NULL);
	check_int(check1(kh, "new.example.org", 22, key_a, len_a, &err), ==,
	    RC_PERM);
	check_str(err.buf, "ssh: no ssh-ed25519 host key for new.example.org "
	    "in known_hosts (it offers " FP_A ")");
	/* the port counts: no entry for example.org:22 */
	check_int(check1(kh, "other.example.org", 22, key_a, len_a, &err), ==,
	    RC_PERM);
	check_int(check1(kh, "mirror.example.org", 22, key_odd, len_odd, &err),
	    ==, RC_PERM);
	check(strncmp(err.buf, "ssh: mirror.example.org offers a host key of "
	    "unknown type (SHA256:", 61) == 0);
	check_int(check1(kh, "mirror.example.org", 22, key_a, 3, &err), ==,
	    RC_PERM);
	strbuf_release(&err);
	free(kh);
}

static void
t_revoked(void)
{
	struct strbuf err = STRBUF_INIT;
	char *files[2];

	files[0] = file("known_hosts3", "mirror.example.org ssh-ed25519 "
	    KEY_A "\n");
	files[1] = file("revoked", "@revoked mirror.example.org "
	    "ssh-ed25519 " KEY_A "\n");
	check_int(sshhosts_check((const char *const *)files, 1,
	    "mirror.example.org", 22, key_a, len_a, &err), ==, RC_OK);
	check_int(sshhosts_check((const char *const *)files, 2,
	    "mirror.example.org", 22, key_a, len_a, &err), ==, RC_PERM);
	check_str(err.buf, "ssh: the ssh-ed25519 host key of "
	    "mirror.example.org (" FP_A ") is revoked");
	strbuf_release(&err);
	free(files[0]);
	free(files[1]);
}

static void
t_files(void)
{
	struct strbuf err = STRBUF_INIT;
	char missing[4200], *kh;
	const char *files[2];

	snprintf(missing, sizeof(missing), "%s/nonexistent", root);
	files[0] = missing;
	files[1] = kh = file("known_hosts4", "mirror.example.org ssh-ed25519 "
	    KEY_A "\n");
	check_int(sshhosts_check(files, 2, "mirror.example.org", 22, key_a,
	    len_a, &err), ==, RC_OK);
	check_int(sshhosts_check(files, 1, "mirror.example.org", 22, key_a,
	    len_a, &err), ==, RC_PERM);
	/* a directory cannot be read: a temporary failure */
	files[0] = root;
	strbuf_reset(&err);
	check_int(sshhosts_check(files, 2, "mirror.example.org", 22, key_a,
	    len_a, &err), ==, RC_TEMP);
	check(strstr(err.buf, "ssh: ") == err.buf);
	strbuf_release(&err);
	free(kh);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");
	static const char *const names[] = { "known_hosts", "known_hosts2",
	    "known_hosts3", "known_hosts4", "revoked" };
	static const unsigned char odd[] = { 0, 0, 0, 7, 's', 's', 'h', '-',
	    'f', 'o', 'o', 0, 0, 0, 1, 'x' };

	if (snprintf(root, sizeof(root), "%s/u-sshhosts.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp") >= (int)sizeof(root) ||
	    mkdtemp(root) == NULL) {
		printf("Bail out! temporary directory: %s\n", strerror(errno));
		return 1;
	}
	len_a = unb64(KEY_A, key_a);
	len_b = unb64(KEY_B, key_b);
	memcpy(key_odd, odd, sizeof(odd));
	len_odd = sizeof(odd);

	TEST(t_fingerprint(), "ssh_fingerprint is what ssh-keygen -l prints");
	TEST(t_url_port(), "the port of SSH URLs, 22 by default");
	TEST(t_match(), "plain, [host]:port and hashed names match");
	TEST(t_refuse(), "changed, unknown, other port, odd keys: refused");
	TEST(t_revoked(), "@revoked wins over a listed key");
	TEST(t_files(), "a missing file is empty; an unreadable one fails");

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		(void)unlink(p);
	}
	(void)rmdir(root);
	return test_done();
}
