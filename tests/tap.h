/*
 * tap.h: the main() every Check suite shares. It runs the suite with its
 * results written as TAP to standard output, which automake's tap-driver
 * counts test by test, and exits non-zero on any failure.
 *
 * A suite file defines `static Suite *make_suite(void)` and then includes
 * this header at its end.
 */
#ifndef HL_TESTS_TAP_H
#define HL_TESTS_TAP_H

#include <check.h>
#include <stdlib.h>

static Suite *make_suite(void);

int
main(void)
{
	SRunner	*sr = srunner_create(make_suite());
	int	 failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
