#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

int tap_failed_checks;
const char *tap_skip_reason;
static int count, failed;

int
tap_begin(void)
{
	tap_skip_reason = NULL;
	fflush(stdout);
	return tap_failed_checks;
}

void
tap_end(int ok, const char *fmt, ...)
{
	va_list ap;

	count++;
	if (!ok)
		failed++;
	printf("%sok %d - ", ok ? "" : "not ", count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (tap_skip_reason != NULL)
		printf(" # SKIP %s", tap_skip_reason);
	printf("\n");
	fflush(stdout);
}

int
test_done(void)
{
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}

void
test_msg(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int
tap_check(int ok, const char *file, int line, const char *expr)
{
	if (!ok) {
		tap_failed_checks++;
		printf("# check \"%s\" failed at %s:%d\n", expr, file, line);
	}
	return ok;
}

int
tap_check_int(long long a, const char *op, long long b, int ok,
    const char *file, int line, const char *ea, const char *eb)
{
	if (!ok) {
		tap_failed_checks++;
		printf("# check \"%s %s %s\" failed at %s:%d\n", ea, op, eb,
		    file, line);
		printf("#    left: %lld\n#   right: %lld\n", a, b);
	}
	return ok;
}

int
tap_check_str(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb)
{
	int ok = (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);

	if (!ok) {
		tap_failed_checks++;
		printf("# check \"!strcmp(%s, %s)\" failed at %s:%d\n", ea, eb,
		    file, line);
		printf("#    left: \"%s\"\n#   right: \"%s\"\n",
		    a ? a : "(null)", b ? b : "(null)");
	}
	return ok;
}
