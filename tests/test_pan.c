/*
 * test_pan: the card-number rule of pan.h, on text, on parsed bodies and
 * on the masking of log strings.
 */
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "body.h"
#include "pan.h"

static int
text(const char *s)
{
	return pan_in_text(s, strlen(s));
}

/* body_parse() then pan_in_json(), as the daemon does. */
static int
body(const char *s)
{
	json_t	*root = NULL;
	int	 r;

	ck_assert_int_eq(body_parse((const unsigned char *)s, strlen(s),
	    &root), BODY_OK);
	r = pan_in_json(root, (const unsigned char *)s, strlen(s));
	json_decref(root);
	return r;
}

START_TEST(test_luhn)
{
	ck_assert_int_eq(pan_luhn("4111111111111111", 16), 1);
	ck_assert_int_eq(pan_luhn("4111111111111112", 16), 0);
	ck_assert_int_eq(pan_luhn("79927398713", 11), 1);
	ck_assert_int_eq(pan_luhn("79927398710", 11), 0);
	ck_assert_int_eq(pan_luhn("", 0), 0);
	ck_assert_int_eq(pan_luhn("41a1", 4), 0);
}
END_TEST

START_TEST(test_known_test_pans)
{
	ck_assert_int_eq(text("4111111111111111"), 1);		/* Visa */
	ck_assert_int_eq(text("378282246310005"), 1);		/* Amex, 15 */
	ck_assert_int_eq(text("4222222222222"), 1);		/* 13 */
	ck_assert_int_eq(text("6011000990139424"), 1);		/* Discover */
	ck_assert_int_eq(text("6011000990139424009"), 1);	/* 19 */
	ck_assert_int_eq(text("5555555555554444"), 1);		/* Mastercard */
	ck_assert_int_eq(text("card 4111111111111111 on file"), 1);
	ck_assert_int_eq(text("tok_4111111111111111"), 1);
	ck_assert_int_eq(text("(4111111111111111)"), 1);
}
END_TEST

START_TEST(test_separators)
{
	ck_assert_int_eq(text("4111 1111 1111 1111"), 1);
	ck_assert_int_eq(text("4111-1111-1111-1111"), 1);
	ck_assert_int_eq(text("4111 1111-1111 1111"), 1);
	ck_assert_int_eq(text("3782 822463 10005"), 1);
	ck_assert_int_eq(text("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"), 1);
	/* Two separators in a row, or another byte, end a group. */
	ck_assert_int_eq(text("4111  1111 1111 1111"), 0);
	ck_assert_int_eq(text("4111--1111-1111-1111"), 0);
	ck_assert_int_eq(text("4111.1111.1111.1111"), 0);
	ck_assert_int_eq(text("4111_1111_1111_1111"), 0);
	/* A trailing separator is not part of the group. */
	ck_assert_int_eq(text("4111 1111 1111 1111 "), 1);
	ck_assert_int_eq(text("-4111111111111111-"), 1);
}
END_TEST

START_TEST(test_not_pans)
{
	ck_assert_int_eq(text("4111111111111112"), 0);		/* Luhn */
	ck_assert_int_eq(text("4111 1111 1111 1112"), 0);
	ck_assert_int_eq(text("411111111117"), 0);		/* 12, Luhn ok */
	ck_assert_int_eq(text("41111111111111111115"), 0);	/* 20, Luhn ok */
	/* A longer run is one number, not searched inside: a PAN followed
	 * by more digits is not found (docs/operations.md). */
	ck_assert_int_eq(text("1234567890123456789012340"), 0);
	ck_assert_int_eq(text("41111111111111110000"), 0);
	ck_assert_int_eq(text("ch_3MmlLrLkdIwHu7ix0snN0B15"), 0);
	ck_assert_int_eq(text("evt_1NG8Du2eZvKYlo2CCJL6tb5j"), 0);
	ck_assert_int_eq(text("pi_3PmY1234567890"), 0);
	ck_assert_int_eq(text("1700000000"), 0);		/* timestamps */
	ck_assert_int_eq(text("9999999999"), 0);
	ck_assert_int_eq(text("1700000000 1700000001"), 0);	/* 20 */
	ck_assert_int_eq(text("2026-12-03T19:32:09Z"), 0);
	ck_assert_int_eq(text("0000000000000000"), 0);	/* starts with 0 */
	/* Glued to letters: an identifier, such as Stripe's SEPA refund
	 * reference (ISO 11649), whose digits happen to pass Luhn. */
	ck_assert_int_eq(text("RF18539007547034"), 0);
	ck_assert_int_eq(text("card4111111111111111"), 0);
	ck_assert_int_eq(text("4111111111111111x"), 0);
	ck_assert_int_eq(text("18539007547034"), 1);
	ck_assert_int_eq(text("04111111111111111"), 0);
	ck_assert_int_eq(text(""), 0);
}
END_TEST

START_TEST(test_timestamps_never)
{
	char	buf[16];
	long	t;

	/* Every 10-digit Unix time of this century's range, sampled. */
	for (t = 1000000000L; t <= 9999999999L; t += 9973) {
		snprintf(buf, sizeof(buf), "%ld", t);
		ck_assert_int_eq(text(buf), 0);
	}
}
END_TEST

START_TEST(test_false_positive_documented)
{
	/* A 13-digit millisecond timestamp that passes Luhn is refused:
	 * the documented cost of the rule. */
	ck_assert_int_eq(text("1700000000004"), 1);
	ck_assert_int_eq(text("1700000000000"), 0);
}
END_TEST

START_TEST(test_json_shapes)
{
	ck_assert_int_eq(body("{\"card\":\"4111111111111111\"}"), 1);
	ck_assert_int_eq(body("{\"card\":\"\\u0034111111111111111\"}"), 1);
	ck_assert_int_eq(body("{\"card\":\"4111\\u00201111\\u00201111\\u0020"
	    "1111\"}"), 1);
	ck_assert_int_eq(body("{\"n\":4111111111111111}"), 1);
	ck_assert_int_eq(body("{\"n\":-4111111111111111}"), 1);
	ck_assert_int_eq(body("{\"n\":4111111111111111.0}"), 1);
	ck_assert_int_eq(body("{\"4111111111111111\":1}"), 1);
	ck_assert_int_eq(body("{\"41\\u00311111111111111\":1}"), 1);
	ck_assert_int_eq(body("{\"a\":[{\"b\":[\"x\",\"4111-1111-1111-1111\"]}]}"),
	    1);
	ck_assert_int_eq(body("{\"amex\":378282246310005}"), 1);
	/* Not card data. */
	ck_assert_int_eq(body("{\"id\":\"ch_3MmlLrLkdIwHu7ix0snN0B15\","
	    "\"created\":1700000000,\"amount\":2000}"), 0);
	ck_assert_int_eq(body("{\"n\":4111111111111112}"), 0);
	ck_assert_int_eq(body("{\"s\":\"a\\\"4111111111111112\"}"), 0);
	ck_assert_int_eq(body("{\"n\":411111111117}"), 0);
	ck_assert_int_eq(body("{\"a\":[1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6]}"), 0);
	ck_assert_int_eq(body("{\"a\":[4111,1111,1111,1111]}"), 0);
}
END_TEST

START_TEST(test_mask)
{
	char	s[] = "card 4111 1111 1111 1111, amex 378282246310005, "
	    "ts 1700000000, bad 4111111111111112";
	size_t	n;

	n = pan_mask(s, strlen(s));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(s, "card **** **** **** 1111, amex ***********0005, "
	    "ts 1700000000, bad 4111111111111112");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("pan");
	TCase	*tc = tcase_create("pan");

	tcase_add_test(tc, test_luhn);
	tcase_add_test(tc, test_known_test_pans);
	tcase_add_test(tc, test_separators);
	tcase_add_test(tc, test_not_pans);
	tcase_add_test(tc, test_timestamps_never);
	tcase_add_test(tc, test_false_positive_documented);
	tcase_add_test(tc, test_json_shapes);
	tcase_add_test(tc, test_mask);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
