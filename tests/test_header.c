/*
 * test_header: the Content-Type and Idempotency-Key grammars of header.h.
 */
#include <string.h>

#include <check.h>

#include "header.h"

START_TEST(test_json)
{
	ck_assert_int_eq(header_is_json("application/json"), 1);
	ck_assert_int_eq(header_is_json("Application/JSON"), 1);
	ck_assert_int_eq(header_is_json("application/json; charset=utf-8"), 1);
	ck_assert_int_eq(header_is_json(" \tapplication/json \t;v=1"), 1);
	ck_assert_int_eq(header_is_json(NULL), 0);
	ck_assert_int_eq(header_is_json(""), 0);
	ck_assert_int_eq(header_is_json("application/jso"), 0);
	ck_assert_int_eq(header_is_json("application/jsonx"), 0);
	ck_assert_int_eq(header_is_json("application/json x"), 0);
	ck_assert_int_eq(header_is_json("application/json-patch+json"), 0);
	ck_assert_int_eq(header_is_json("text/plain"), 0);
	ck_assert_int_eq(header_is_json("application/x-www-form-urlencoded"),
	    0);
}
END_TEST

START_TEST(test_idem_key)
{
	char	key[HEADER_IDEM_KEY_MAX + 2];

	ck_assert_int_eq(header_idem_key_ok("a", HEADER_IDEM_KEY_MAX), 1);
	ck_assert_int_eq(header_idem_key_ok("order 42/retry ~", 255), 1);
	ck_assert_int_eq(header_idem_key_ok(NULL, HEADER_IDEM_KEY_MAX), 0);
	ck_assert_int_eq(header_idem_key_ok("", HEADER_IDEM_KEY_MAX), 0);
	ck_assert_int_eq(header_idem_key_ok("a\tb", HEADER_IDEM_KEY_MAX), 0);
	ck_assert_int_eq(header_idem_key_ok("a\x7f", HEADER_IDEM_KEY_MAX), 0);
	ck_assert_int_eq(header_idem_key_ok("caf\xc3\xa9", 255), 0);
	memset(key, 'k', HEADER_IDEM_KEY_MAX);
	key[HEADER_IDEM_KEY_MAX] = '\0';
	ck_assert_int_eq(header_idem_key_ok(key, HEADER_IDEM_KEY_MAX), 1);
	key[HEADER_IDEM_KEY_MAX] = 'k';
	key[HEADER_IDEM_KEY_MAX + 1] = '\0';
	ck_assert_int_eq(header_idem_key_ok(key, HEADER_IDEM_KEY_MAX), 0);
	ck_assert_int_eq(header_idem_key_ok("abcd", 3), 0);
	ck_assert_int_eq(header_idem_key_ok("abc", 3), 1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("header");
	TCase	*tc = tcase_create("header");

	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_idem_key);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
