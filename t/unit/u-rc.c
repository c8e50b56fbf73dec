#include "compat.h"

#include "tap.h"
#include "rc.h"

static void
t_order(void)
{
	static const int worst_first[] = { RC_PERM, 2, RC_TEMP, RC_OK, RC_NO };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(worst_first); i++)
		for (j = i; j < ARRAY_SIZE(worst_first); j++) {
			check_int(rc_worse(worst_first[i], worst_first[j]), ==,
			    worst_first[i]);
			check_int(rc_worse(worst_first[j], worst_first[i]), ==,
			    worst_first[i]);
		}
	/* two statuses of commands: the first wins */
	check_int(rc_worse(2, 3), ==, 2);
	check_int(rc_worse(3, 2), ==, 3);
}

static void
t_fold(void)
{
	int rc = RC_NO;

	rc = rc_worse(rc, RC_NO);
	check_int(rc, ==, RC_NO);
	rc = rc_worse(rc, RC_OK);
	check_int(rc, ==, RC_OK);
	rc = rc_worse(rc, RC_NO);
	check_int(rc, ==, RC_OK);
	rc = rc_worse(rc, RC_TEMP);
	check_int(rc, ==, RC_TEMP);
	rc = rc_worse(rc, RC_OK);
	check_int(rc, ==, RC_TEMP);
}

int
main(void)
{
	TEST(t_order(), "rc_worse: perm, other, temp, ok, no");
	TEST(t_fold(), "rc_worse folds a list from RC_NO");
	return test_done();
}
