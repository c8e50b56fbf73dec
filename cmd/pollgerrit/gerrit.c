/*
 * gerrit.c: the Gerrit REST API, as far as pollgerrit needs it.
 *
 * Requests go through lib/http (libcurl), one at a time, no faster than
 * the server's rate, each bounded by its timeout and body cap.  Every
 * JSON answer starts with Gerrit's XSSI guard ")]}'" and a newline,
 * which is dropped before parsing.  Credentials, in order: cookies
 * from the configured gitcookies file, HTTP Basic from .netrc (libcurl
 * reads both; we only look whether they have the host), or none.  With
 * credentials, paths get Gerrit's "/a" prefix.  Secrets are never
 * printed: messages name the file they came from.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "git.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "rc.h"
#include "sig.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

/* Gerrit time: "2006-01-02 15:04:05.999999999", UTC. */
int
gtime_parse(const char *s, int64_t *secs, long *nanos)
{
	struct tm tm;
	int n = 0, i;
	long ns = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return -1;
	for (i = 0; i < 19; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? s[i] != ' ' :
		    (i == 13 || i == 16) ? s[i] != ':' :
		    (s[i] < '0' || s[i] > '9'))
			return -1;
	if (s[19] == '.') {
		for (i = 20; i < 29 && s[i] >= '0' && s[i] <= '9'; i++)
			ns = ns * 10 + (s[i] - '0');
		if (i == 20 || s[i] != '\0')
			return -1;
		for (; i < 29; i++)
			ns *= 10;
	} else if (s[19] != '\0')
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	t = timegm(&tm);
	*secs = (int64_t)t;
	*nanos = ns;
	return 0;
}

void
gtime_format(struct strbuf *out, int64_t secs, long nanos)
{
	struct tm tm;
	time_t t = (time_t)secs;

	gmtime_r(&t, &tm);
	strbuf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d.%09ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, nanos);
}

int
gtime_cmp(const char *a, const char *b)
{
	int64_t sa, sb;
	long na, nb;

	if (a == NULL || b == NULL)
		return a == b ? 0 : a == NULL ? -1 : 1;
	if (strlen(a) == 29 && strlen(b) == 29)
		return strcmp(a, b);	/* both spelt by gtime_format */
	if (gtime_parse(a, &sa, &na) < 0 || gtime_parse(b, &sb, &nb) < 0)
		return strcmp(a, b);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return na < nb ? -1 : na > nb;
}

/* "2017-07-30T17:02:11Z", with the fraction when there is one. */
void
gtime_rfc3339(struct strbuf *out, const char *gt)
{
	struct timespec ts;
	int64_t secs;
	long nanos;
	size_t at;

	if (gtime_parse(gt, &secs, &nanos) < 0) {
		strbuf_addstr(out, gt);
		return;
	}
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = nanos;
	at = out->len;
	time_rfc3339(out, ts, nanos != 0);
	if (nanos != 0) {
		/* trim "123000000Z" to "123Z" */
		size_t z = out->len - 1, e = z;

		while (e > at && out->buf[e - 1] == '0')
			e--;
		memmove(out->buf + e, out->buf + z, 1);
		strbuf_setlen(out, e + 1);
	}
}

int
gerrit_auth(struct server *s, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT, src = STRBUF_INIT;
	const char *nrc, *home;
	char *login = NULL, *pass = NULL;
	int rc = RC_OK, n;

	if (s->auth_done)
		return RC_OK;
	if (s->gitcookies != NULL) {
		if ((n = http_cookie_count(s->gitcookies, s->url)) < 0) {
			strbuf_addf(err, "gerrit '%s': read gitcookies '%s': "
			    "%s", s->name, s->gitcookies, strerror(errno));
			rc = errno == ENOENT || errno == EACCES ? RC_PERM :
			    RC_TEMP;
			goto out;
		}
		if (n > 0) {
			s->cookies = 1;
			s->authed = 1;
			strbuf_addf(&src, "a cookie from gitcookies '%s'",
			    s->gitcookies);
			s->credsrc = strbuf_detach(&src, NULL);
			goto done;
		}
		log_warnx("gerrit '%s': gitcookies '%s' has no cookie for "
		    "'%s'; trying .netrc", s->name, s->gitcookies, s->host);
	}
	/* the file libcurl reads (lib/http.c) */
	if ((nrc = getenv("NETRC")) != NULL && *nrc != '\0')
		strbuf_addstr(&p, nrc);
	else if ((home = getenv("HOME")) != NULL)
		strbuf_addf(&p, "%s/.netrc", home);
	if (p.len > 0 && gitx_netrc(p.buf, s->host, &login, &pass) == RC_OK) {
		bf_wipe(pass, strlen(pass));
		free(login);
		free(pass);
		s->netrc = 1;
		s->authed = 1;
		strbuf_addf(&src, ".netrc '%s'", p.buf);
		s->credsrc = strbuf_detach(&src, NULL);
		goto done;
	}
	s->credsrc = xstrdup("no credentials (no gitcookies cookie, no "
	    ".netrc entry for the host)");
done:
	log_info("gerrit '%s': using %s", s->name, s->credsrc);
	s->auth_done = 1;
out:
	strbuf_release(&p);
	return rc;
}

void
gerrit_release(struct server *s)
{
	s->cookies = 0;
	FREE_AND_NULL(s->credsrc);
	s->auth_done = 0;
}

/* Wait until the rate limit allows the next request. */
static void
pace(struct server *s)
{
	long long now = mono_ms(), gap = 1000 / s->rate;

	if (now < s->next_req_ms) {
		/* watch's signals cut the wait short (sig.h) */
		if (sig_wait(s->next_req_ms - now) != 0)
			cx.stop = 1;
		now = s->next_req_ms;
	}
	s->next_req_ms = now + gap;
}

/*
 * One request.  path starts with '/' and has its query, if any.  On
 * success *out (when not NULL) gets the parsed JSON answer.
 */
static int
request(struct server *s, const char *method, const char *path,
    const struct json *body, struct json **out, struct strbuf *err)
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf url = STRBUF_INIT, b = STRBUF_INIT, e = STRBUF_INIT;
	const char *hdrs[2];
	enum http_class cls;
	const char *p;
	size_t skip = 0;
	int rc = RC_OK;

	if ((rc = gerrit_auth(s, err)) != RC_OK)
		return rc;
	strbuf_addf(&url, "%s%s%s", s->url, s->authed ? "/a" : "", path);
	opt.timeout_ms = s->timeout_ms;
	opt.max_body = s->maxbody;
	opt.netrc = s->netrc;
	opt.cookiefile = s->cookies ? s->gitcookies : NULL;
	hdrs[0] = "Accept: application/json";
	hdrs[1] = NULL;
	opt.headers = hdrs;
	pace(s);
	s->nreq++;
	if (body != NULL) {
		json_dump(&b, body);
		cls = http_post(url.buf, "application/json; charset=UTF-8",
		    b.buf, b.len, &opt, &r, &e);
	} else
		cls = http_get(url.buf, &opt, &r, &e);
	log_debug("%s %s: %ld", method, esc(url.buf), r.status);
	if (cls != HTTP_OK) {
		long long ra;

		/* watch waits as long as an overloaded server asks */
		if ((r.status == 429 || r.status == 503) &&
		    http_retry_after(&r, &ra) == 0)
			s->retry_after = ra;
		rc = http_class_rc(cls);
		strbuf_addf(err, "gerrit '%s': %s", s->name, e.buf);
		if (cls == HTTP_AUTH)
			strbuf_addf(err, "; credentials tried: %s",
			    s->credsrc);
		goto out;
	}
	if (out == NULL)
		goto out;
	/* the XSSI guard: drop the first line when it is ")]}'" */
	p = r.body.buf;
	if (r.body.len >= 4 && memcmp(p, ")]}'", 4) == 0) {
		const char *nl = memchr(p, '\n', r.body.len);

		skip = nl != NULL ? (size_t)(nl - p) + 1 : r.body.len;
	}
	strbuf_reset(&e);
	*out = json_parse(p + skip, r.body.len - skip, &e);
	if (*out == NULL) {
		strbuf_addf(err, "gerrit '%s': malformed JSON from %s '%s': %s",
		    s->name, method, esc(url.buf), e.buf);
		rc = RC_PERM;
	}
out:
	http_resp_release(&r);
	strbuf_release(&url);
	strbuf_release(&b);
	strbuf_release(&e);
	return rc;
}

int
gerrit_post(struct server *s, const char *path, const struct json *body,
    struct strbuf *err)
{
	return request(s, "POST", path, body, NULL, err);
}

int
gerrit_query(struct server *s, const char *q, int opts,
    int (*fn)(struct json *ci, void *arg), void *arg, struct strbuf *err)
{
	static const char *detail[] = {
		"CURRENT_REVISION", "CURRENT_COMMIT", "DETAILED_LABELS",
		"MESSAGES", "DETAILED_ACCOUNTS", NULL,
	};
	static const char *revision[] = {
		"CURRENT_REVISION", "CURRENT_COMMIT", NULL,
	};
	const char **o = (opts & Q_DETAIL) ? detail : revision;
	struct strbuf path = STRBUF_INIT;
	struct json *page = NULL;
	size_t start = 0, i, n, pages;
	int rc = RC_OK, more = 1;

	for (pages = 0; more && rc == RC_OK; pages++) {
		if (pages >= MAX_PAGES || start >= MAX_CHANGES) {
			strbuf_addf(err, "gerrit '%s': query '%s': more than "
			    "%d changes", s->name, esc(q), MAX_CHANGES);
			rc = RC_PERM;
			break;
		}
		strbuf_reset(&path);
		strbuf_addstr(&path, "/changes/?q=");
		http_urlencode(&path, q);
		strbuf_addf(&path, "&n=%d", s->pagesize);
		if (start > 0)
			strbuf_addf(&path, "&S=%zu", start);
		for (i = 0; o[i] != NULL; i++)
			strbuf_addf(&path, "&o=%s", o[i]);
		if ((rc = request(s, "GET", path.buf, NULL, &page, err)) !=
		    RC_OK)
			break;
		if (json_kind(page) != JK_ARRAY) {
			strbuf_addf(err, "gerrit '%s': query '%s': the answer "
			    "is a JSON %s, not an array", s->name, esc(q),
			    json_kind_name(json_kind(page)));
			rc = RC_PERM;
			break;
		}
		n = json_array_len(page);
		more = 0;
		for (i = 0; i < n && rc == RC_OK; i++) {
			struct json *ci = json_array_at(page, i);

			if (json_kind(ci) != JK_OBJECT) {
				strbuf_addf(err, "gerrit '%s': query '%s': "
				    "change %zu is not a JSON object", s->name,
				    esc(q), start + i + 1);
				rc = RC_PERM;
				break;
			}
			if (i + 1 == n &&
			    kind_is(json_get(ci, "_more_changes"), JK_TRUE))
				more = 1;
			rc = fn(ci, arg);
		}
		start += n;
		json_free(page);
		page = NULL;
		if (n == 0)
			more = 0;
	}
	json_free(page);
	strbuf_release(&path);
	return rc;
}
