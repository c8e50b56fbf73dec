#include "compat.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

#include <git2.h>

#include "git.h"
#include "rc.h"
#include "strbuf.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init(void)
{
	git_libgit2_init();
}

struct cbarg {
	int (*fn)(const char *, const char *, void *);
	void *arg;
};

static int
each(const git_config_entry *e, void *p)
{
	struct cbarg *a = p;

	return a->fn(e->name, e->value, a->arg);
}

int
gitx_config_read(const char *path,
    int (*fn)(const char *name, const char *value, void *arg), void *arg,
    int *enoent, struct strbuf *err)
{
	git_config *cfg = NULL;
	struct cbarg a = { fn, arg };
	struct stat st;
	const git_error *ge;
	int rc;

	pthread_once(&once, init);
	*enoent = 0;
	/* libgit2 treats a missing file as empty; we want to know */
	if (stat(path, &st) < 0) {
		*enoent = errno == ENOENT;
		strbuf_addf(err, "read config '%s': %s", path, strerror(errno));
		return errno == ENOENT ? RC_PERM : RC_TEMP;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_addf(err, "read config '%s': not a regular file", path);
		return RC_PERM;
	}
	if (git_config_open_ondisk(&cfg, path) < 0) {
		ge = git_error_last();
		strbuf_addf(err, "config '%s': %s", path,
		    ge != NULL ? ge->message : "parse error");
		return RC_PERM;
	}
	rc = git_config_foreach(cfg, each, &a);
	git_config_free(cfg);
	if (rc < 0) {
		ge = git_error_last();
		strbuf_addf(err, "config '%s': %s", path,
		    ge != NULL ? ge->message : "read error");
		return RC_PERM;
	}
	return rc == 0 ? RC_OK : rc;
}
