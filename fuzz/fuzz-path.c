/*
 * fuzz-path: the buildlet's path rules and Go formats (cmd/buildlet/
 * util.c) and the path splitting of lib/tar.c, against their promises:
 *
 *   - valid_rel_path never lets through an absolute name, a backslash
 *     or a ".." component, and tar_split_path agrees with it;
 *   - what valid_rel_dir accepts cleans to no ".." component at all;
 *   - path_clean is idempotent;
 *   - go_quote gives a quoted string without control bytes;
 *   - env_dedup leaves each key once, with its last value.
 *
 *   make fuzz && sh fuzz/run.sh 600 path
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "strbuf.h"
#include "tar.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int
has_dotdot(const char *p)
{
	const char *s, *e;

	for (s = p; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchrnul(s, '/');
		if (e - s == 2 && s[0] == '.' && s[1] == '.')
			return 1;
	}
	return 0;
}

static void
check_env(char *s)
{
	char **v = NULL, *p, *nl;
	size_t n = 0, alloc = 0, m, i, j, ki, kj;

	for (p = s; p != NULL; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		GROW(v, n + 1, alloc);
		v[n++] = p;
	}
	m = env_dedup(v, n);
	if (m > n)
		abort();
	for (i = 0; i < m; i++) {
		ki = strchr(v[i], '=') != NULL ? (size_t)(strchr(v[i], '=') -
		    v[i]) : 0;
		if (ki == 0)
			continue;
		for (j = i + 1; j < m; j++) {
			kj = strchr(v[j], '=') != NULL ?
			    (size_t)(strchr(v[j], '=') - v[j]) : 0;
			if (ki == kj && memcmp(v[i], v[j], ki) == 0)
				abort();	/* a key twice */
		}
	}
	free(v);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct strbuf c1 = STRBUF_INIT, c2 = STRBUF_INIT, q = STRBUF_INIT,
	    d = STRBUF_INIT, l = STRBUF_INIT;
	char *s = xmemdupz(data, size);
	long long ms;
	size_t i;
	int b;

	if (valid_rel_path(s)) {
		if (s[0] == '/' || strchr(s, '\\') != NULL || has_dotdot(s))
			abort();
		if (tar_split_path(s, &d, &l) == -1 && strlen(s) < 4096)
			abort();
		if (has_dotdot(d.buf) || has_dotdot(l.buf) ||
		    strchr(l.buf, '/') != NULL)
			abort();
	}
	if (valid_rel_dir(s, &c1)) {
		if (c1.buf[0] == '/' || has_dotdot(c1.buf))
			abort();
	}
	strbuf_reset(&c1);
	path_clean(&c1, s);
	path_clean(&c2, c1.buf);
	if (strcmp(c1.buf, c2.buf) != 0)
		abort();
	go_quote(&q, s);
	if (q.len < 2 || q.buf[0] != '"' || q.buf[q.len - 1] != '"')
		abort();
	for (i = 0; i < q.len; i++)
		if ((unsigned char)q.buf[i] < 0x20 || q.buf[i] == 0x7f)
			abort();
	if (parse_timeout(s, &ms) == 0 && (ms <= 0 ||
	    ms > 366LL * 86400 * 1000 + 999))
		abort();
	(void)parse_bool(s, &b);
	check_env(s);
	strbuf_release(&c1);
	strbuf_release(&c2);
	strbuf_release(&q);
	strbuf_release(&d);
	strbuf_release(&l);
	free(s);
	return 0;
}
