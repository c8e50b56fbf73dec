/*
 * util: the buildlet's pure helpers: its path rules and the Go
 * formats its answers must match byte for byte (strconv.Quote,
 * os.FileMode.String, strconv.ParseBool, syscall error texts), and the
 * environment rules of the original (envutil.Dedup).
 */
#include "compat.h"

#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "strbuf.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * The original's validRelPath (not empty, no backslash, not absolute,
 * no "../"), and also no ".." component at all: the original let ".."
 * and "a/.." through, so that a /removeall of ".." removed the work
 * directory's parent.
 */
int
valid_rel_path(const char *p)
{
	const char *s, *e;

	if (p[0] == '\0' || p[0] == '/' || strchr(p, '\\') != NULL)
		return 0;
	for (s = p; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchrnul(s, '/');
		if (e - s == 2 && s[0] == '.' && s[1] == '.')
			return 0;
	}
	return 1;
}

/* Go's path.Clean for the relative paths the buildlet takes. */
void
path_clean(struct strbuf *out, const char *p)
{
	size_t start = out->len, n, dotdot, slash;
	const char *s, *e;
	int rooted = p[0] == '/';

	if (rooted)
		strbuf_addch(out, '/');
	/* out[start + dotdot ..] may be backtracked over; before: ".." */
	dotdot = out->len - start;
	for (s = p; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchrnul(s, '/');
		n = (size_t)(e - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (out->len - start > dotdot) {
				/* drop the last element */
				slash = out->len;
				while (slash > start + dotdot &&
				    out->buf[slash - 1] != '/')
					slash--;
				strbuf_setlen(out, slash > start + dotdot ?
				    slash - 1 : start + dotdot);
			} else if (!rooted) {
				if (out->len > start)
					strbuf_addch(out, '/');
				strbuf_addstr(out, "..");
				dotdot = out->len - start;
			}
			continue;
		}
		if (out->len > start && !(rooted && out->len - start == 1))
			strbuf_addch(out, '/');
		strbuf_add(out, s, n);
	}
	if (out->len == start)
		strbuf_addch(out, '.');
}

/*
 * The original's validRelativeDir: no backslash, not absolute, and
 * after cleaning not "..", "../x" or "x/..".  "" and "." are the work
 * directory.  The cleaned path (what is then used) goes to clean.
 */
int
valid_rel_dir(const char *d, struct strbuf *clean)
{
	size_t n;

	strbuf_reset(clean);
	if (strchr(d, '\\') != NULL || d[0] == '/')
		return 0;
	path_clean(clean, d);
	n = clean->len;
	if (strcmp(clean->buf, "..") == 0 ||
	    strncmp(clean->buf, "../", 3) == 0 ||
	    (n >= 3 && strcmp(clean->buf + n - 3, "/..") == 0))
		return 0;
	return 1;
}

/* Go's unicode.IsPrint, for the runes it is likely to meet. */
static int
rune_printable(unsigned long r)
{
	if (r < 0x20 || (r >= 0x7f && r <= 0xa0) || r == 0xad)
		return 0;
	if ((r >= 0x200b && r <= 0x200f) || (r >= 0x2028 && r <= 0x202e) ||
	    (r >= 0x2060 && r <= 0x206f) || r == 0xfeff ||
	    (r >= 0xfff9 && r <= 0xfffb) || r == 0xfffe || r == 0xffff ||
	    (r >= 0xe000 && r <= 0xf8ff) || r >= 0xf0000)
		return 0;
	return 1;
}

/* Go's strconv.Quote (as fmt's %q prints a string). */
void
go_quote(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;
	uint32_t r;

	strbuf_addch(out, '"');
	while (left > 0) {
		n = utf8_decode(p, left, &r);
		if (n == 0) {
			strbuf_addf(out, "\\x%c%c", hex[*p >> 4], hex[*p & 15]);
			p++;
			left--;
			continue;
		}
		if (r == '"' || r == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (int)r);
		} else if (rune_printable(r))
			strbuf_add(out, p, n);
		else if (r == '\a')
			strbuf_addstr(out, "\\a");
		else if (r == '\b')
			strbuf_addstr(out, "\\b");
		else if (r == '\f')
			strbuf_addstr(out, "\\f");
		else if (r == '\n')
			strbuf_addstr(out, "\\n");
		else if (r == '\r')
			strbuf_addstr(out, "\\r");
		else if (r == '\t')
			strbuf_addstr(out, "\\t");
		else if (r == '\v')
			strbuf_addstr(out, "\\v");
		else if (r < ' ' || r == 0x7f)
			strbuf_addf(out, "\\x%02lx", (unsigned long)r);
		else if (r < 0x10000)
			strbuf_addf(out, "\\u%04lx", (unsigned long)r);
		else
			strbuf_addf(out, "\\U%08lx", (unsigned long)r);
		p += n;
		left -= n;
	}
	strbuf_addch(out, '"');
}

/* fmt's %q of a []string: ["a" "b"] */
void
go_quote_list(struct strbuf *out, char *const *v)
{
	size_t i;

	strbuf_addch(out, '[');
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (i > 0)
			strbuf_addch(out, ' ');
		go_quote(out, v[i]);
	}
	strbuf_addch(out, ']');
}

/* Go 1.8's os.FileMode.String() of what os.Lstat makes of st_mode. */
void
go_mode(struct strbuf *out, mode_t mode)
{
	static const char rwx[] = "rwxrwxrwx";
	size_t start = out->len;
	int i;

	/* the type letters of "dalTLDpSugct", in that order */
	if (S_ISDIR(mode))
		strbuf_addch(out, 'd');
	if (S_ISLNK(mode))
		strbuf_addch(out, 'L');
	if (S_ISBLK(mode) || S_ISCHR(mode))
		strbuf_addch(out, 'D');
	if (S_ISFIFO(mode))
		strbuf_addch(out, 'p');
	if (S_ISSOCK(mode))
		strbuf_addch(out, 'S');
	if (mode & S_ISUID)
		strbuf_addch(out, 'u');
	if (mode & S_ISGID)
		strbuf_addch(out, 'g');
	if (S_ISCHR(mode))
		strbuf_addch(out, 'c');
	if (mode & S_ISVTX)
		strbuf_addch(out, 't');
	if (out->len == start)
		strbuf_addch(out, '-');
	for (i = 0; i < 9; i++)
		strbuf_addch(out, mode & (1 << (8 - i)) ? rwx[i] : '-');
}

/* Go's strconv.ParseBool: 0 with *b set, or -1. */
int
parse_bool(const char *s, int *b)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcmp(s, yes[i]) == 0) {
			*b = 1;
			return 0;
		}
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (strcmp(s, no[i]) == 0) {
			*b = 0;
			return 0;
		}
	return -1;
}

static size_t
key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq != NULL ? (size_t)(eq - kv) : 0;
}

static unsigned long
key_hash(const char *k, size_t n)
{
	unsigned long h = 5381;
	size_t i;

	for (i = 0; i < n; i++)
		h = h * 33 ^ (unsigned char)k[i];
	return h;
}

/*
 * envutil.Dedup: for each key the last value wins, at the position of
 * the first; entries without a key ("=x", "x") are kept as they are.
 * Works in place on env[0..n) (pointers only, nothing freed) and
 * returns the new count.  Linear: a hash table of the keys seen.
 */
size_t
env_dedup(char **env, size_t n)
{
	size_t cap = 16, i, j, out = 0, klen, *slot;

	while (cap < n * 2)
		cap *= 2;
	slot = xcalloc(cap, sizeof(*slot));	/* out index + 1; 0: empty */
	for (i = 0; i < n; i++) {
		klen = key_len(env[i]);
		if (klen == 0) {
			env[out++] = env[i];
			continue;
		}
		for (j = key_hash(env[i], klen) & (cap - 1); slot[j] != 0;
		    j = (j + 1) & (cap - 1)) {
			const char *o = env[slot[j] - 1];

			if (key_len(o) == klen && memcmp(o, env[i], klen) == 0)
				break;
		}
		if (slot[j] != 0)
			env[slot[j] - 1] = env[i];
		else {
			slot[j] = out + 1;
			env[out++] = env[i];
		}
	}
	free(slot);
	return out;
}

/* The value of key in env[0..n), or NULL. */
const char *
env_get(char *const *env, size_t n, const char *key)
{
	size_t k = strlen(key), i;

	for (i = 0; i < n; i++)
		if (strncmp(env[i], key, k) == 0 && env[i][k] == '=')
			return env[i] + k + 1;
	return NULL;
}

/*
 * The /exec timeout: seconds, a whole or decimal number ("30",
 * "1.5"), more than 0 and at most a year.  0 with *ms set, or -1.
 */
int
parse_timeout(const char *s, long long *ms)
{
	long long whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 366LL * 86400)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (*p != '\0' || whole * 1000 + frac <= 0)
		return -1;
	*ms = whole * 1000 + frac;
	return 0;
}
