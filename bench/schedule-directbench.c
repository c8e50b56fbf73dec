/*
 * schedule-directbench: the buildlet API calls of N builds of "true",
 * made directly with lib/bclient as schedule build makes them: per
 * build POST /removeall of ".", the source (PUT /writetgz of the file
 * TGZ, or POST /writetgz with url=TGZ when it is an http:// URL: the
 * buildlet fetches it) and POST /exec of /bin/sh -c true (mode=sys).
 * One thread per buildlet URL, the builds shared out evenly.  Prints
 * the wall time:
 *
 *   usage: schedule-directbench N TGZ URL...
 *   seconds 1.234 builds 200
 *
 * A call that fails, or a "true" that does not exit 0, stops the run
 * (exit 111).
 */
#include "compat.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bclient.h"
#include "rc.h"
#include "strbuf.h"
#include "xmalloc.h"

struct lane {
	pthread_t t;
	const char *url;
	const char *tgz;
	long n;
	int rc;
	struct strbuf err;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *
run_lane(void *arg)
{
	static const char *const wipe[] = { ".", NULL };
	static const char *const args[] = { "-c", "true", NULL };
	struct lane *l = arg;
	struct bclient c = BCLIENT_INIT;
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_result res;
	long i;
	int fd;

	c.url = l->url;
	x.cmd = "/bin/sh";
	x.sys = 1;
	x.args = args;
	for (i = 0; i < l->n; i++) {
		if ((l->rc = bclient_removeall(&c, wipe, &l->err)) != RC_OK)
			return NULL;
		if (strncmp(l->tgz, "http://", 7) == 0) {
			l->rc = bclient_writetgz_url(&c, NULL, l->tgz, NULL,
			    &l->err);
		} else if ((fd = open(l->tgz, O_RDONLY | O_CLOEXEC)) == -1) {
			strbuf_addf(&l->err, "open '%s' failed", l->tgz);
			l->rc = RC_TEMP;
			return NULL;
		} else {
			l->rc = bclient_writetgz(&c, NULL, fd, &l->err);
			close(fd);
		}
		if (l->rc != RC_OK ||
		    (l->rc = bclient_exec(&c, &x, &res, &l->err)) != RC_OK)
			return NULL;
		if (res.code != 0) {
			strbuf_addf(&l->err, "true: %s", res.state);
			l->rc = RC_TEMP;
			return NULL;
		}
	}
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct lane *lv;
	long n, nl, i;
	double t0;
	int rc = 0;

	if (argc < 4 || (n = atol(argv[1])) < 1) {
		fprintf(stderr, "usage: schedule-directbench n tgz url...\n");
		return 100;
	}
	nl = argc - 3;
	lv = xcalloc((size_t)nl, sizeof(*lv));
	t0 = now_s();
	for (i = 0; i < nl; i++) {
		lv[i].url = argv[3 + i];
		lv[i].tgz = argv[2];
		lv[i].n = n / nl + (i < n % nl);
		strbuf_init(&lv[i].err, 0);
		if (pthread_create(&lv[i].t, NULL, run_lane, &lv[i]) != 0) {
			fprintf(stderr, "schedule-directbench: pthread_create\n");
			return 111;
		}
	}
	for (i = 0; i < nl; i++) {
		pthread_join(lv[i].t, NULL);
		if (lv[i].rc != RC_OK) {
			fprintf(stderr, "schedule-directbench: %s\n",
			    lv[i].err.buf);
			rc = 111;
		}
	}
	if (rc == 0)
		printf("seconds %.3f builds %ld\n", now_s() - t0, n);
	return rc;
}
