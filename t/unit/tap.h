/*
 * tap.h: C unit tests that print TAP, run by prove beside the shell
 * tests (the API follows git's t/unit-tests/test-lib.h).
 *
 *   int main(void) {
 *           TEST(t_grow(), "strbuf grows");
 *           return test_done();
 *   }
 *   static void t_grow(void) {
 *           check_int(sb.len, ==, 3);
 *           check_str(sb.buf, "abc");
 *   }
 *
 * Each TEST prints "ok N - desc" or "not ok N - desc"; a failed check
 * prints "# check failed at file:line" with both values before it.
 * test_done prints the plan and returns the exit status for main.
 * test_skip(reason) inside a test marks it skipped.
 */
#ifndef BF_TAP_H
#define BF_TAP_H

#include <stdio.h>
#include <string.h>

extern int tap_failed_checks;
extern const char *tap_skip_reason;

int tap_begin(void);
void tap_end(int ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int test_done(void);
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_check(int ok, const char *file, int line, const char *expr);
int tap_check_int(long long a, const char *op, long long b, int ok,
    const char *file, int line, const char *ea, const char *eb);
int tap_check_str(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb);

#define TEST(call, ...) do { \
	int tap_before_ = tap_begin(); \
	call; \
	tap_end(tap_failed_checks == tap_before_, __VA_ARGS__); \
} while (0)

#define test_skip(reason) (tap_skip_reason = (reason))

#define check(expr) tap_check(!!(expr), __FILE__, __LINE__, #expr)
/* each operand is evaluated exactly once (a GNU statement expression) */
#define check_int(a, op, b) __extension__ ({ \
	long long tap_a_ = (long long)(a), tap_b_ = (long long)(b); \
	tap_check_int(tap_a_, #op, tap_b_, tap_a_ op tap_b_, __FILE__, \
	    __LINE__, #a, #b); \
})
#define check_str(a, b) tap_check_str((a), (b), __FILE__, __LINE__, #a, #b)

#endif
