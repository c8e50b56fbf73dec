#include "compat.h"

#include <stdlib.h>

#include "tap.h"
#include "strvec.h"

static void
t_empty(void)
{
	struct strvec sv = STRVEC_INIT;
	char **v;

	check(sv.v != NULL);
	check(sv.v[0] == NULL);
	check_int(sv.nr, ==, 0);
	strvec_pop(&sv);
	check_int(sv.nr, ==, 0);
	strvec_clear(&sv);
	check(sv.v[0] == NULL);
	v = strvec_detach(&sv);
	check(v != NULL && v[0] == NULL);
	check(v != strvec_empty);
	free(v);
}

static void
t_push(void)
{
	struct strvec sv = STRVEC_INIT;
	const char *const more[] = { "c", "d", NULL };
	char word[] = "a";
	size_t i;

	strvec_push(&sv, word);
	word[0] = 'x';		/* push copied it */
	check_str(strvec_pushf(&sv, "%s=%d", "b", 2), "b=2");
	strvec_pushv(&sv, more);
	check_int(sv.nr, ==, 4);
	check_str(sv.v[0], "a");
	check_str(sv.v[1], "b=2");
	check_str(sv.v[2], "c");
	check_str(sv.v[3], "d");
	check(sv.v[4] == NULL);
	strvec_pop(&sv);
	check_int(sv.nr, ==, 3);
	check(sv.v[3] == NULL);
	for (i = 0; i < 1000; i++)
		strvec_pushf(&sv, "%zu", i);
	check_int(sv.nr, ==, 1003);
	check_str(sv.v[1002], "999");
	check(sv.v[1003] == NULL);
	strvec_clear(&sv);
	check_int(sv.nr, ==, 0);
	check(sv.v[0] == NULL);
}

static void
t_detach(void)
{
	struct strvec sv = STRVEC_INIT;
	char **v;

	strvec_push(&sv, "one");
	strvec_push(&sv, "two");
	v = strvec_detach(&sv);
	check_int(sv.nr, ==, 0);
	check(sv.v[0] == NULL);
	check_str(v[0], "one");
	check_str(v[1], "two");
	check(v[2] == NULL);
	free(v[0]);
	free(v[1]);
	free(v);
	/* reusable after detach */
	strvec_push(&sv, "three");
	check_str(sv.v[0], "three");
	strvec_clear(&sv);
}

int
main(void)
{
	TEST(t_empty(), "an empty strvec is a valid empty array");
	TEST(t_push(), "push, pushf, pushv and pop keep the NULL at the end");
	TEST(t_detach(), "detach hands over the array and resets");
	return test_done();
}
