/*
 * buildlet-execbench: round trips of POST /exec over one kept-alive
 * connection (lib/http.c keeps it per thread), as the coordinator's
 * client makes them.  Prints the percentiles in milliseconds:
 *
 *   usage: buildlet-execbench URL N [form]
 *          buildlet-execbench -spawn N
 *   p50 0.612 p90 0.700 p99 0.950 max 2.100 n 2000
 *
 * The form defaults to cmd=/bin/true&mode=sys.  A round trip that
 * fails, or whose Process-State trailer is not "ok", stops the run
 * (exit 111).  The first 50 round trips warm up and are not counted.
 * With -spawn it times the floor instead: posix_spawn of /bin/true and
 * waitpid, in this process, with no HTTP.  Through a coordinator's
 * proxy: $EXECBENCH_USER and $EXECBENCH_PASSWORD are sent as HTTP
 * Basic, $EXECBENCH_PROXY as X-Buildlet-Proxy.
 */
#include "compat.h"

#include <sys/wait.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "http.h"
#include "strbuf.h"
#include "xmalloc.h"

#define WARMUP	50

extern char **environ;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000 + (double)t.tv_nsec / 1e6;
}

int
main(int argc, char *argv[])
{
	struct http_opt opt = HTTP_OPT_INIT;
	struct http_resp r = HTTP_RESP_INIT;
	struct strbuf err = STRBUF_INIT, st = STRBUF_INIT, proxy = STRBUF_INIT;
	const char *hdrs[2] = { NULL, NULL };
	const char *form = "cmd=/bin/true&mode=sys";
	double *ms, t0;
	long n, i;

	if (argc < 3 || argc > 4 || (n = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: buildlet-execbench url n [form]\n");
		return 100;
	}
	if (argc == 4)
		form = argv[3];
	ms = xcalloc((size_t)n, sizeof(*ms));
	opt.timeout_ms = 10000;
	opt.user = getenv("EXECBENCH_USER");
	opt.password = getenv("EXECBENCH_PASSWORD");
	if (getenv("EXECBENCH_PROXY") != NULL) {
		strbuf_addf(&proxy, "X-Buildlet-Proxy: %s",
		    getenv("EXECBENCH_PROXY"));
		hdrs[0] = proxy.buf;
		opt.headers = hdrs;
	}
	if (strcmp(argv[1], "-spawn") == 0) {
		char *av[] = { "/bin/true", NULL };
		pid_t pid;
		int ws;

		for (i = -WARMUP; i < n; i++) {
			t0 = now_ms();
			if (posix_spawn(&pid, av[0], NULL, NULL, av,
			    environ) != 0 || waitpid(pid, &ws, 0) != pid) {
				fprintf(stderr, "buildlet-execbench: spawn\n");
				return 111;
			}
			if (i >= 0)
				ms[i] = now_ms() - t0;
		}
		goto report;
	}
	for (i = -WARMUP; i < n; i++) {
		t0 = now_ms();
		if (http_post(argv[1], "application/x-www-form-urlencoded",
		    form, strlen(form), &opt, &r, &err) != HTTP_OK) {
			fprintf(stderr, "buildlet-execbench: %s\n", err.buf);
			return 111;
		}
		if (i >= 0)
			ms[i] = now_ms() - t0;
		if (http_resp_header(&r, "Process-State", &st) == -1 ||
		    strcmp(st.buf, "ok") != 0) {
			fprintf(stderr, "buildlet-execbench: Process-State "
			    "'%s'\n", st.buf);
			return 111;
		}
	}
report:
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("p50 %.3f p90 %.3f p99 %.3f max %.3f n %ld\n",
	    ms[n * 50 / 100], ms[n * 90 / 100], ms[n * 99 / 100], ms[n - 1],
	    n);
	http_resp_release(&r);
	strbuf_release(&err);
	strbuf_release(&st);
	strbuf_release(&proxy);
	free(ms);
	return 0;
}
