/*
 * test_log: log_mask() masks emails, phone numbers and PANs and leaves
 * ids, timestamps and ordinary text alone; log_json() masks every string
 * of a line, msg and nested fields included, and writes one JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "log.h"

static char *
mask(const char *s)
{
	static char	out[1024];
	size_t		n;

	n = log_mask(s, strlen(s), out, sizeof(out));
	ck_assert_uint_eq(n, strlen(out));
	return out;
}

START_TEST(test_email)
{
	ck_assert_str_eq(mask("jane.doe@example.com"), "j***@***.com");
	ck_assert_str_eq(mask("/webhooks/jane.doe@example.com"),
	    "/webhooks/j***@***.com");
	ck_assert_str_eq(mask("to a+tag@mail.example.co.uk."),
	    "to a***@***.uk.");
	ck_assert_str_eq(mask("x@y.io and z@w.de"), "x***@***.io and z***@***.de");
	ck_assert_str_eq(mask("\"j0@ex.org\""), "\"j***@***.org\"");
	/* Not addresses: no dot in the domain, nothing before the '@'. */
	ck_assert_str_eq(mask("user@localhost"), "user@localhost");
	ck_assert_str_eq(mask("@example.com"), "@example.com");
	ck_assert_str_eq(mask("a@b."), "a@b.");
}
END_TEST

START_TEST(test_phone)
{
	ck_assert_str_eq(mask("+447911123489"), "+44********89");
	ck_assert_str_eq(mask("+44 7911 123489"), "+44********89");
	ck_assert_str_eq(mask("+1-415-555-0100"), "+14*******00");
	ck_assert_str_eq(mask("call 07911 123489 now"), "call 07*******89 now");
	ck_assert_str_eq(mask("020-7946-0958"), "02*******58");
	/* Too short, too long, glued to letters, or a bare national run. */
	ck_assert_str_eq(mask("+12345"), "+12345");
	ck_assert_str_eq(mask("+1234567890123456"), "+1234567890123456");
	ck_assert_str_eq(mask("0791112348"), "0791112348");
	ck_assert_str_eq(mask("v+447911123489x"), "v+447911123489x");
}
END_TEST

START_TEST(test_readable)
{
	static const char *const keep[] = {
		"evt_1NG8Du2eZvKYlo2CCJL6tb5j", "ch_3MmlLrLkdIwHu7ix0snN0B15",
		"1700000000", "2026-12-03T19:32:09.886Z", "127.0.0.1:8080",
		"/webhooks/stripe", "stopping on signal 15", "seq 0 of 100",
		"listen 127.0.0.1:0", "pi_0000000000000000000", "0",
		"amount 2000 USD", "1.5 ms", "+5", "a-0-b",
	};
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		ck_assert_str_eq(mask(keep[i]), keep[i]);
}
END_TEST

START_TEST(test_pan)
{
	ck_assert_str_eq(mask("4111 1111 1111 1111"), "**** **** **** 1111");
	ck_assert_str_eq(mask("n=4111111111111111;"), "n=************1111;");
	ck_assert_str_eq(mask("4111111111111112"), "4111111111111112");
	/* Punctuation a path or an id may carry joins the digits too. */
	ck_assert_str_eq(mask("/a/4111.1111.1111.1111"),
	    "/a/****.****.****.1111");
	ck_assert_str_eq(mask("/a/4111_1111_1111_1111"),
	    "/a/****_****_****_1111");
	ck_assert_str_eq(mask("/a/4111/1111/1111/1111"),
	    "/a/****/****/****/1111");
	ck_assert_str_eq(mask("4111+1111+1111+1111"), "****+****+****+1111");
	ck_assert_str_eq(mask("4111:1111:1111:1111"), "****:****:****:1111");
	ck_assert_str_eq(mask("msg_4242424242424242"), "msg_************4242");
	/* Two separators in a row still end a group. */
	ck_assert_str_eq(mask("4111..1111..1111..1111"),
	    "4111..1111..1111..1111");
}
END_TEST

START_TEST(test_secrets)
{
	ck_assert_str_eq(mask("/webhooks/whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
	    "/webhooks/whsec_***");
	ck_assert_str_eq(mask("whsec_abc+/= tail"), "whsec_*** tail");
	ck_assert_str_eq(mask("token hlt_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyzw."),
	    "token hlt_***.");
	/* Inside a word it is not a prefix. */
	ck_assert_str_eq(mask("awhsec_x"), "awhsec_x");
	ck_assert_str_eq(mask("shlt_x"), "shlt_x");
	ck_assert_str_eq(mask("whsec"), "whsec");
	ck_assert_str_eq(mask("whole hlt"), "whole hlt");
}
END_TEST

START_TEST(test_truncates)
{
	char	out[8];
	size_t	n;

	n = log_mask("jane.doe@example.com", 20, out, sizeof(out));
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(out, "j***@**");
	ck_assert_uint_eq(log_mask("abc", 3, out, 0), 0);
}
END_TEST

struct capture {
	char	buf[8192];
	size_t	len;
	int	lines;
};

static void
capture_line(const char *line, size_t len, void *cls)
{
	struct capture *c = cls;

	ck_assert_uint_lt(c->len + len, sizeof(c->buf));
	memcpy(c->buf + c->len, line, len);
	c->len += len;
	c->buf[c->len] = '\0';
	c->lines++;
}

START_TEST(test_log_json_masks_every_string)
{
	struct capture	 c;
	json_t		*o, *f;
	json_error_t	 e;

	memset(&c, 0, sizeof(c));
	log_set_sink(capture_line, &c);
	log_json("info", "request from jane.doe@example.com", json_pack(
	    "{s:s, s:i, s:{s:s}, s:[s, s]}", "path",
	    "/webhooks/jane.doe@example.com", "status", 422, "nested",
	    "phone", "+447911123489", "list", "4111111111111111",
	    "evt_1NG8Du2eZvKYlo2CCJL6tb5j"));
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(c.lines, 1);
	ck_assert_uint_gt(c.len, 0);
	ck_assert_int_eq(c.buf[c.len - 1], '\n');
	ck_assert_ptr_null(strstr(c.buf, "jane.doe"));
	ck_assert_ptr_null(strstr(c.buf, "example"));
	ck_assert_ptr_null(strstr(c.buf, "7911123"));
	ck_assert_ptr_null(strstr(c.buf, "411111111111"));
	o = json_loads(c.buf, 0, &e);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "msg")),
	    "request from j***@***.com");
	ck_assert_str_eq(json_string_value(json_object_get(o, "path")),
	    "/webhooks/j***@***.com");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "status")), 422);
	f = json_object_get(o, "nested");
	ck_assert_str_eq(json_string_value(json_object_get(f, "phone")),
	    "+44********89");
	f = json_object_get(o, "list");
	ck_assert_str_eq(json_string_value(json_array_get(f, 0)),
	    "************1111");
	ck_assert_str_eq(json_string_value(json_array_get(f, 1)),
	    "evt_1NG8Du2eZvKYlo2CCJL6tb5j");
	ck_assert_str_eq(json_string_value(json_object_get(o, "level")),
	    "info");
	json_decref(o);
}
END_TEST

START_TEST(test_log_msg_masks)
{
	struct capture	 c;
	json_t		*o;

	memset(&c, 0, sizeof(c));
	log_set_sink(capture_line, &c);
	log_msg("warning", "mail %s at %s", "a.b@example.org", "+33 6 12 34 56 78");
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(c.lines, 1);
	o = json_loads(c.buf, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "msg")),
	    "mail a***@***.org at +33*******78");
	json_decref(o);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, test_email);
	tcase_add_test(tc, test_phone);
	tcase_add_test(tc, test_readable);
	tcase_add_test(tc, test_pan);
	tcase_add_test(tc, test_secrets);
	tcase_add_test(tc, test_truncates);
	tcase_add_test(tc, test_log_json_masks_every_string);
	tcase_add_test(tc, test_log_msg_masks);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
