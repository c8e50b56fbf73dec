/*
 * flaky.c: what a flaky failure's log looks like.
 *
 * The built-in patterns are the phrases of Go's retrybuilds (isFlaky),
 * escaped as extended regular expressions; scripts/flaky.example holds
 * the same list for an admin to copy to DIR/flaky and extend.  The
 * original's other tests look at the shape of its logs (fewer than two
 * lines, starting with "exit status "), which ours, starting with a
 * header line, never have.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

#define FLAKY_MAX_FILE (1u << 20)

static const char *const builtin[] = {
	"No space left on device",
	"fatal error: error in backend: IO failure on output stream",
	"Boffset: unknown state 0",
	"Bseek: unknown state 0",
	"error exporting repository: exit status",
	"remote error: User Is Over Quota",
	"fatal: remote did not send all necessary objects",
	"Failed to schedule \"",
	"fatal: destination path '.*' already exists and is not an empty "
	    "directory\\.",
	"lookup _xmpp-server\\._tcp\\.google\\.com\\. on 8\\.8\\.8\\.8:53: "
	    "dial udp 8\\.8\\.8\\.8:53: i/o timeout",
	"lookup _xmpp-server\\._tcp\\.google\\.com on",
	"lookup gmail\\.com\\. on 8\\.8\\.8\\.8:53: dial udp "
	    "8\\.8\\.8\\.8:53: i/o timeout",
	"lookup gmail\\.com on 8\\.8\\.8\\.8:53",
	"lookup www\\.mit\\.edu on ",
	"undefined: runtime\\.SetMutexProfileFraction",
	"make\\.bat: The parameter is incorrect",
};

struct flaky {
	char **text;
	regex_t *re;
	size_t n;
};

static int
add(struct flaky *f, const char *pat, struct strbuf *err)
{
	char msg[256];
	int e;

	f->text = xreallocarray(f->text, f->n + 1, sizeof(*f->text));
	f->re = xreallocarray(f->re, f->n + 1, sizeof(*f->re));
	if ((e = regcomp(&f->re[f->n], pat, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(e, &f->re[f->n], msg, sizeof(msg));
		strbuf_addf(err, "bad pattern '%s': %s", pat, msg);
		return RC_PERM;
	}
	f->text[f->n++] = xstrdup(pat);
	return RC_OK;
}

static int
load_file(struct flaky *f, const char *path, int fd, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, e = STRBUF_INIT;
	char *line, *nl, *end;
	size_t lineno = 0;
	int rc = RC_OK, e_no;

	if (strbuf_read_fd(&sb, fd, FLAKY_MAX_FILE) == -1) {
		e_no = errno;
		strbuf_addf(err, "read '%s': %s", path, e_no == EFBIG ?
		    "over 1 MiB" : strerror(e_no));
		strbuf_release(&sb);
		return e_no == EFBIG ? RC_PERM : RC_TEMP;
	}
	end = sb.buf + sb.len;
	for (line = sb.buf; line < end && rc == RC_OK; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (memchr(line, '\0', (size_t)(nl - line)) != NULL) {
			strbuf_addf(err, "'%s' line %zu: NUL byte", path,
			    lineno);
			rc = RC_PERM;
		} else if (*line != '\0' && *line != '#' &&
		    (rc = add(f, line, &e)) != RC_OK)
			strbuf_addf(err, "'%s' line %zu: %s", path, lineno,
			    e.buf);
	}
	strbuf_release(&e);
	strbuf_release(&sb);
	return rc;
}

int
flaky_load(struct flaky **fp, const char *path, struct strbuf *err)
{
	struct flaky *f;
	size_t i;
	int fd, rc = RC_OK;

	f = xcalloc(1, sizeof(*f));
	*fp = f;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			strbuf_addf(err, "open '%s': %s", path,
			    strerror(errno));
			return RC_TEMP;
		}
		for (i = 0; i < ARRAY_SIZE(builtin) && rc == RC_OK; i++)
			rc = add(f, builtin[i], err);
		return rc;
	}
	rc = load_file(f, path, fd, err);
	close(fd);
	return rc;
}

const char *
flaky_match(const struct flaky *f, const char *text)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (regexec(&f->re[i], text, 0, NULL, 0) == 0)
			return f->text[i];
	return NULL;
}

void
flaky_free(struct flaky *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		regfree(&f->re[i]);
		free(f->text[i]);
	}
	free(f->re);
	free(f->text);
	free(f);
}
