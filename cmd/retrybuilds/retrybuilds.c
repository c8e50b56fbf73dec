/*
 * retrybuilds: retract failed results so that schedule builds them
 * again; find and redo the flaky ones.
 *
 *   failed.c   the failed results of the results log, and retracting
 *              them; reading their stored logs
 *   branch.c   the commits of a branch, for -branch
 *   flaky.c    the flaky patterns (DIR/flaky, or built in)
 *
 * The selection is the AND of the flags given, in increasing order of
 * cost: the failed triples of the results log (read once, prefiltered
 * by -builder or -hash), then -builder, -hash, -loghash and -branch on
 * the records, then -substr and -redo-flaky on the stored logs.  The
 * retractions are appended in one batch, under the log's lock after
 * reading what was appended meanwhile (failed.c), and printed once
 * they are durable.
 */
#include "compat.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "farm.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

/* how much of a build log -substr and -redo-flaky read */
#define LOG_MAX (64u << 20)
#define REASON_MAX 1024
#define SUBSTR_MAX 4096

struct opts {
	const char *dir;
	const char *branch, *builder, *hash, *loghash, *reason, *substr;
	int dry, flaky;
};

static void
print_usage(FILE *fp)
{
	fprintf(fp,
"usage: retrybuilds [-hn] [-d dir] [-branch branch] [-builder builder]\n"
"       [-hash hash] [-loghash hash] [-reason text] [-redo-flaky]\n"
"       [-substr text]\n");
}

static void
usage(void)
{
	print_usage(stderr);
	exit(RC_PERM);
}

static void
help(void)
{
	print_usage(stdout);
	if (fflush(stdout) == EOF)
		exit(RC_TEMP);
	exit(RC_OK);
}

/* A hex prefix, lowercased in place: 1 to 64 digits. */
static int
hex_prefix(char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		s[i] = (char)tolower((unsigned char)s[i]);
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return i >= 1 && i <= 64;
}

/* One line of printable text (UTF-8 allowed), 1 to max bytes. */
static int
one_line(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return i >= 1 && i <= max;
}

static void
parse(struct opts *o, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "branch", required_argument, NULL, 'B' },
		{ "builder", required_argument, NULL, 'b' },
		{ "hash", required_argument, NULL, 'H' },
		{ "loghash", required_argument, NULL, 'L' },
		{ "reason", required_argument, NULL, 'r' },
		{ "redo-flaky", no_argument, NULL, 'f' },
		{ "substr", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dflag = NULL;
	int ch, errors = 0;

	while ((ch = getopt_long_only(argc, argv, "d:hn", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'B':
			o->branch = optarg;
			break;
		case 'b':
			o->builder = optarg;
			break;
		case 'd':
			dflag = optarg;
			break;
		case 'f':
			o->flaky = 1;
			break;
		case 'H':
			if (!hex_prefix(optarg)) {
				log_warnx("bad -hash '%s': want 1 to 64 hex "
				    "digits", esc(optarg));
				errors++;
			}
			o->hash = optarg;
			break;
		case 'h':
			help();
			break;
		case 'L':
			if (!hex_prefix(optarg)) {
				log_warnx("bad -loghash '%s': want 1 to 64 "
				    "hex digits", esc(optarg));
				errors++;
			}
			o->loghash = optarg;
			break;
		case 'n':
			o->dry = 1;
			break;
		case 'r':
			if (!one_line(optarg, REASON_MAX)) {
				log_warnx("bad -reason '%s': want one line of "
				    "1 to %d bytes", esc(optarg), REASON_MAX);
				errors++;
			}
			o->reason = optarg;
			break;
		case 's':
			if (*optarg == '\0' || strlen(optarg) > SUBSTR_MAX) {
				log_warnx("bad -substr: want 1 to %d bytes",
				    SUBSTR_MAX);
				errors++;
			}
			o->substr = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((o->builder != NULL && *o->builder == '\0') ||
	    (o->branch != NULL && *o->branch == '\0')) {
		log_warnx("empty -builder or -branch");
		errors++;
	}
	if (o->builder == NULL && o->hash == NULL && o->loghash == NULL &&
	    o->substr == NULL && !o->flaky) {
		log_warnx("say which failures: -builder, -hash, -loghash, "
		    "-substr or -redo-flaky");
		errors++;
	}
	if (errors)
		usage();
	o->dir = farm_dir(dflag);
}

/* The default reason: how the failure was chosen, on one line. */
static void
default_reason(const struct opts *o, struct strbuf *sb)
{
	const char *flag[] = { "builder", "hash", "branch", "loghash",
	    "substr" };
	const char *val[] = { o->builder, o->hash, o->branch, o->loghash,
	    o->substr };
	size_t i;

	strbuf_addstr(sb, "retrybuilds");
	for (i = 0; i < ARRAY_SIZE(flag); i++) {
		if (val[i] == NULL)
			continue;
		strbuf_addf(sb, " -%s ", flag[i]);
		log_escape(sb, val[i], strlen(val[i]));
	}
}

/* The failures the record-level flags select, in log order. */
static size_t
select_records(const struct opts *o, struct fail **v, size_t n,
    const struct branch *br)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if ((o->builder != NULL &&
		    strcmp(v[i]->builder, o->builder) != 0) ||
		    (o->hash != NULL &&
		    strncmp(v[i]->rev, o->hash, strlen(o->hash)) != 0) ||
		    (o->loghash != NULL &&
		    strncmp(v[i]->log, o->loghash, strlen(o->loghash)) != 0) ||
		    (br != NULL && !branch_has(br, v[i]->repo, v[i]->rev)))
			continue;
		v[k++] = v[i];
	}
	return k;
}

static int
commit_cmp(const void *a, const void *b)
{
	const struct fail *x = *(struct fail *const *)a;
	const struct fail *y = *(struct fail *const *)b;
	int c;

	if ((c = strcmp(x->rev, y->rev)) != 0)
		return c;
	return strcmp(x->repo, y->repo);
}

/*
 * -hash names one commit: exit 100 with the candidates when its prefix
 * matches several among the selected failures.
 */
static void
check_unique(const struct opts *o, struct fail *const *v, size_t n)
{
	struct fail **s;
	size_t i, distinct = 0;

	if (o->hash == NULL || n < 2)
		return;
	s = xreallocarray(NULL, n, sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), commit_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || commit_cmp(&s[i - 1], &s[i]) != 0)
			s[distinct++] = s[i];
	if (distinct < 2) {
		free(s);
		return;
	}
	log_warnx("ambiguous -hash '%s': %zu failed commits start with it",
	    o->hash, distinct);
	for (i = 0; i < distinct; i++)
		log_warnx("candidate %s %s", esc(s[i]->repo), esc(s[i]->rev));
	exit(RC_PERM);
}

/*
 * The failures whose logs match -substr and -redo-flaky; reasons[i] gets
 * the reason for v[i] (or NULL: not selected).  *rc gets worse when a log
 * cannot be read.
 */
static size_t
select_logs(const struct opts *o, const struct flaky *fl, struct fail **v,
    size_t n, char **reasons, int *rc)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT,
	    dflt = STRBUF_INIT;
	const char *pat = NULL;
	size_t i, k = 0;
	int r;

	default_reason(o, &dflt);
	for (i = 0; i < n; i++) {
		if (o->substr != NULL || fl != NULL) {
			strbuf_reset(&err);
			if (v[i]->log[0] == '\0')
				continue;
			r = buildlog_text(o->dir, v[i]->log, LOG_MAX, &text,
			    &err);
			if (r != RC_OK) {
				/* a lost or damaged log is skipped, said */
				log_warnx("%s %s %s: %s", esc(v[i]->repo),
				    esc(v[i]->rev), esc(v[i]->builder),
				    err.buf);
				if (r == RC_TEMP)
					*rc = rc_worse(*rc, r);
				continue;
			}
			if (o->substr != NULL &&
			    strstr(text.buf, o->substr) == NULL)
				continue;
			if (fl != NULL && (pat = flaky_match(fl, text.buf)) ==
			    NULL)
				continue;
		}
		v[k] = v[i];
		if (o->reason != NULL)
			reasons[k] = xstrdup(o->reason);
		else if (fl != NULL) {
			strbuf_reset(&err);
			strbuf_addf(&err, "flaky: %s", pat);
			reasons[k] = xstrdup(err.buf);
		} else
			reasons[k] = xstrdup(dflt.buf);
		k++;
	}
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&dflt);
	return k;
}

int
main(int argc, char *argv[])
{
	struct opts o = { 0 };
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT,
	    lit = STRBUF_INIT;
	struct failed *t = NULL;
	struct branch *br = NULL;
	struct flaky *fl = NULL;
	struct fail **v;
	char **reasons;
	size_t n, i, done;
	int rc = RC_NO, r;

	prog_init(argv[0]);
	parse(&o, argc, argv);

	if (o.flaky) {
		farm_place(&path, o.dir, FARM_FLAKY);
		if ((r = flaky_load(&fl, path.buf, &err)) != RC_OK)
			fatalx(r, "%s", err.buf);
	}
	/* a prefilter: the records of a triple all name its builder and rev */
	if (o.builder != NULL) {
		strbuf_addstr(&lit, "\"builder\":");
		json_quote(&lit, o.builder, strlen(o.builder));
	} else if (o.hash != NULL)
		strbuf_addf(&lit, "\"rev\":\"%s", o.hash);
	if ((r = failed_open(&t, o.dir, lit.len > 0 ? lit.buf : NULL,
	    &err)) != RC_OK)
		fatalx(r, "results log: %s", err.buf);
	if (o.branch != NULL &&
	    (r = branch_open(&br, o.dir, o.branch, &err)) != RC_OK)
		fatalx(r, "corpus log: %s", err.buf);

	n = failed_list(t, &v);
	n = select_records(&o, v, n, br);
	check_unique(&o, v, n);
	reasons = xcalloc(n + 1, sizeof(*reasons));
	n = select_logs(&o, fl, v, n, reasons, &rc);

	if (!o.dry &&
	    (r = failed_retract(t, v, n, (const char *const *)reasons, &done,
	    &err)) != RC_OK)
		fatalx(r, "results log: %s", err.buf);
	for (i = 0; i < n; i++) {
		if (!o.dry && v[i]->drop)
			continue;
		printf("%s %s %s %s\n", v[i]->repo, v[i]->rev, v[i]->builder,
		    reasons[i]);
		rc = rc_worse(rc, RC_OK);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		fatal(RC_TEMP, "write stdout");

	for (i = 0; i < n; i++)
		free(reasons[i]);
	free(reasons);
	flaky_free(fl);
	branch_close(br);
	failed_close(t);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&lit);
	return rc;
}
