/*
 * test_body: body_parse() answers each fault with its own code, in the
 * documented order, and body_utf8_valid() follows Unicode's table of
 * well-formed sequences exactly.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "body.h"

static enum body_result
parse_bytes(const void *buf, size_t len)
{
	json_t			*root = (json_t *)0x1;
	enum body_result	 r;

	r = body_parse(buf, len, &root);
	if (r == BODY_OK) {
		ck_assert_ptr_nonnull(root);
		ck_assert(json_is_object(root));
		json_decref(root);
	} else
		ck_assert_ptr_null(root);
	return r;
}

static enum body_result
parse_str(const char *s)
{
	return parse_bytes(s, strlen(s));
}

/* depth nested objects {"a":{"a":...}} with an integer at the bottom. */
static char *
nested_objects(int depth)
{
	size_t	 cap = (size_t)depth * 6 + 8, off = 0;
	char	*s = malloc(cap);
	int	 i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < depth - 1; i++) {
		memcpy(s + off, "{\"a\":", 5);
		off += 5;
	}
	memcpy(s + off, "{\"a\":1}", 7);
	off += 7;
	for (i = 0; i < depth - 1; i++)
		s[off++] = '}';
	s[off] = '\0';
	return s;
}

START_TEST(test_empty)
{
	ck_assert_int_eq(parse_bytes("", 0), BODY_EMPTY);
	ck_assert_int_eq(parse_bytes(NULL, 0), BODY_EMPTY);
}
END_TEST

START_TEST(test_ok_object)
{
	static const char	 body[] = "{\"type\":\"x\",\"n\":[1,2,{}]}";
	json_t			*root = NULL;

	ck_assert_int_eq(body_parse((const unsigned char *)body,
	    sizeof(body) - 1, &root), BODY_OK);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(json_string_value(json_object_get(root, "type")),
	    "x");
	ck_assert_int_eq(json_array_size(json_object_get(root, "n")), 3);
	json_decref(root);

	/* Whitespace around the value is JSON, not trailing garbage. */
	ck_assert_int_eq(parse_str(" \t\r\n{}\r\n "), BODY_OK);
	ck_assert_int_eq(parse_str("{\"s\":\"caf\xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80\"}"), BODY_OK);
}
END_TEST

START_TEST(test_bom)
{
	ck_assert_int_eq(parse_str("\xef\xbb\xbf{}"), BODY_BOM);
	ck_assert_int_eq(parse_str("\xef\xbb\xbf"), BODY_BOM);
	/* A BOM anywhere else is just U+FEFF inside a string. */
	ck_assert_int_eq(parse_str("{\"a\":\"\xef\xbb\xbf\"}"), BODY_OK);
	/* A BOM outside a string, not at the start, is bad JSON. */
	ck_assert_int_eq(parse_str(" \xef\xbb\xbf{}"), BODY_BAD_JSON);
}
END_TEST

START_TEST(test_nul)
{
	static const char	 mid[] = "{\"a\":\"x\0y\"}";
	static const char	 end[] = "{}\0";
	static const char	 first[] = "\0{}";

	ck_assert_int_eq(parse_bytes(mid, sizeof(mid) - 1), BODY_NUL);
	ck_assert_int_eq(parse_bytes(end, sizeof(end) - 1), BODY_NUL);
	ck_assert_int_eq(parse_bytes(first, sizeof(first) - 1), BODY_NUL);
	/* The escaped form, in a value and in a member name. */
	ck_assert_int_eq(parse_str("{\"a\":\"x\\u0000y\"}"), BODY_NUL);
	ck_assert_int_eq(parse_str("{\"a\\u0000b\":1}"), BODY_NUL);
	/* Other escapes are fine. */
	ck_assert_int_eq(parse_str("{\"a\":\"\\u0001\\u00e9\\ud83d\\ude00\"}"),
	    BODY_OK);
}
END_TEST

START_TEST(test_order)
{
	static const char	 bom_nul[] = "\xef\xbb\xbf{\"a\":\"\0\"}";
	static const char	 nul_utf8[] = "{\"a\":\"\0\xc0\x80\"}";
	char			*deep = nested_objects(40);
	size_t			 len = strlen(deep);

	ck_assert_int_eq(parse_bytes(bom_nul, sizeof(bom_nul) - 1), BODY_BOM);
	ck_assert_int_eq(parse_bytes(nul_utf8, sizeof(nul_utf8) - 1),
	    BODY_NUL);
	/* Bad UTF-8 is reported before depth, depth before JSON faults. */
	deep[len - 1] = (char)0xff;
	ck_assert_int_eq(parse_bytes(deep, len), BODY_BAD_UTF8);
	deep[len - 1] = ',';
	ck_assert_int_eq(parse_bytes(deep, len), BODY_TOO_DEEP);
	free(deep);
	/* Duplicate key and trailing garbage: the parser stops at the first. */
	ck_assert_int_eq(parse_str("{\"a\":1,\"a\":2} x"), BODY_DUPLICATE_KEY);
	ck_assert_int_eq(parse_str("[1,2] x"), BODY_BAD_JSON);
}
END_TEST

START_TEST(test_bad_utf8_in_body)
{
	ck_assert_int_eq(parse_str("{\"a\":\"\xc0\x80\"}"), BODY_BAD_UTF8);
	ck_assert_int_eq(parse_str("{\"a\":\"\xed\xa0\x80\"}"), BODY_BAD_UTF8);
	ck_assert_int_eq(parse_str("{\"a\":\"\xe2\x82\"}"), BODY_BAD_UTF8);
	ck_assert_int_eq(parse_str("{\"\xff\":1}"), BODY_BAD_UTF8);
	/* An escaped lone surrogate is valid UTF-8 but not valid JSON text. */
	ck_assert_int_eq(parse_str("{\"a\":\"\\ud800\"}"), BODY_BAD_JSON);
}
END_TEST

static const struct {
	const char	*bytes;
	size_t		 len;
	int		 valid;
} utf8_cases[] = {
	{ "", 0, 1 },
	{ "plain ASCII \x7f", 13, 1 },
	{ "\xc2\x80", 2, 1 },			/* U+0080 */
	{ "\xdf\xbf", 2, 1 },			/* U+07FF */
	{ "\xe0\xa0\x80", 3, 1 },		/* U+0800 */
	{ "\xed\x9f\xbf", 3, 1 },		/* U+D7FF */
	{ "\xee\x80\x80", 3, 1 },		/* U+E000 */
	{ "\xef\xbf\xbf", 3, 1 },		/* U+FFFF */
	{ "\xf0\x90\x80\x80", 4, 1 },		/* U+10000 */
	{ "\xf4\x8f\xbf\xbf", 4, 1 },		/* U+10FFFF */
	{ "\xc0\x80", 2, 0 },			/* overlong NUL */
	{ "\xc1\xbf", 2, 0 },			/* overlong U+007F */
	{ "\xe0\x80\x80", 3, 0 },		/* overlong NUL */
	{ "\xe0\x9f\xbf", 3, 0 },		/* overlong U+07FF */
	{ "\xf0\x80\x80\x80", 4, 0 },		/* overlong NUL */
	{ "\xf0\x8f\xbf\xbf", 4, 0 },		/* overlong U+FFFF */
	{ "\xed\xa0\x80", 3, 0 },		/* U+D800 */
	{ "\xed\xbf\xbf", 3, 0 },		/* U+DFFF */
	{ "\xed\xa0\xbd\xed\xb8\x80", 6, 0 },	/* CESU-8 surrogate pair */
	{ "\xf4\x90\x80\x80", 4, 0 },		/* U+110000 */
	{ "\xf5\x80\x80\x80", 4, 0 },
	{ "\xf8\x88\x80\x80\x80", 5, 0 },	/* old 5-byte form */
	{ "\xff", 1, 0 },
	{ "\xfe", 1, 0 },
	{ "\x80", 1, 0 },			/* lone continuation */
	{ "a\xbf", 2, 0 },
	{ "\xc3", 1, 0 },			/* truncated at the end */
	{ "\xe2\x82", 2, 0 },
	{ "\xf0\x9f\x98", 3, 0 },
	{ "\xe2\x82\x41", 3, 0 },		/* truncated, then ASCII */
	/* Truncated by the length, with a valid tail just beyond it. */
	{ "\xc3\xa9", 1, 0 },
	{ "\xe2\x82\xac", 2, 0 },
	{ "\xf0\x9f\x98\x80", 3, 0 },
	{ "\xc3\xc3\xa9", 3, 0 },		/* lead where a tail belongs */
	{ "\xf0\x9f\x98\x80\xf0", 5, 0 },
};

START_TEST(test_utf8_table)
{
	ck_assert_msg(body_utf8_valid((const unsigned char *)
	    utf8_cases[_i].bytes, utf8_cases[_i].len) == utf8_cases[_i].valid,
	    "utf8 case %d", _i);
}
END_TEST

START_TEST(test_utf8_null)
{
	ck_assert_int_eq(body_utf8_valid(NULL, 0), 1);
	ck_assert_int_eq(body_utf8_valid(NULL, 1), 0);
}
END_TEST

START_TEST(test_depth_limit)
{
	char	*ok = nested_objects(BODY_MAX_DEPTH);
	char	*deep = nested_objects(BODY_MAX_DEPTH + 1);

	ck_assert_int_eq(BODY_MAX_DEPTH, 32);
	ck_assert_int_eq(parse_str(ok), BODY_OK);
	ck_assert_int_eq(parse_str(deep), BODY_TOO_DEEP);
	free(ok);
	free(deep);
}
END_TEST

START_TEST(test_depth_arrays)
{
	char	 buf[256];
	int	 i, off = 0;

	/* An object holding 31 nested arrays: 32 levels. */
	off += snprintf(buf + off, sizeof(buf) - off, "{\"a\":");
	for (i = 0; i < 31; i++)
		buf[off++] = '[';
	for (i = 0; i < 31; i++)
		buf[off++] = ']';
	buf[off++] = '}';
	buf[off] = '\0';
	ck_assert_int_eq(parse_str(buf), BODY_OK);

	off = snprintf(buf, sizeof(buf), "{\"a\":");
	for (i = 0; i < 32; i++)
		buf[off++] = '[';
	for (i = 0; i < 32; i++)
		buf[off++] = ']';
	buf[off++] = '}';
	buf[off] = '\0';
	ck_assert_int_eq(parse_str(buf), BODY_TOO_DEEP);
}
END_TEST

START_TEST(test_depth_siblings)
{
	char	*one = nested_objects(BODY_MAX_DEPTH - 1);
	char	*buf;
	size_t	 n = strlen(one);

	/* Depth is nesting, not the number of brackets. */
	buf = malloc(2 * n + 16);
	ck_assert_ptr_nonnull(buf);
	snprintf(buf, 2 * n + 16, "{\"x\":%s,\"y\":%s}", one, one);
	ck_assert_int_eq(parse_str(buf), BODY_OK);
	free(buf);
	free(one);
}
END_TEST

START_TEST(test_depth_strings)
{
	char	 buf[512];
	int	 off, i;

	/* Brackets inside strings do not count ... */
	off = snprintf(buf, sizeof(buf), "{\"a\":\"");
	for (i = 0; i < 100; i++)
		buf[off++] = '[';
	off += snprintf(buf + off, sizeof(buf) - off, "\",\"{{{{\":1}");
	ck_assert_int_eq(parse_str(buf), BODY_OK);

	/* ... nor after an escaped quote, which does not end the string ... */
	off = snprintf(buf, sizeof(buf), "{\"a\":\"\\\"");
	for (i = 0; i < 100; i++)
		buf[off++] = '{';
	off += snprintf(buf + off, sizeof(buf) - off, "\"}");
	ck_assert_int_eq(parse_str(buf), BODY_OK);

	/* ... but an escaped backslash does end it at the next quote. */
	off = snprintf(buf, sizeof(buf), "{\"a\":\"\\\\\",\"b\":");
	for (i = 0; i < 40; i++)
		buf[off++] = '[';
	for (i = 0; i < 40; i++)
		buf[off++] = ']';
	off += snprintf(buf + off, sizeof(buf) - off, "}");
	ck_assert_int_eq(parse_str(buf), BODY_TOO_DEEP);
}
END_TEST

START_TEST(test_depth_huge)
{
	size_t	 n = 1000000;
	char	*buf = malloc(n);

	/* A million brackets must be refused without recursion. */
	ck_assert_ptr_nonnull(buf);
	memset(buf, '[', n);
	ck_assert_int_eq(parse_bytes(buf, n), BODY_TOO_DEEP);
	memset(buf, '{', n);
	ck_assert_int_eq(parse_bytes(buf, n), BODY_TOO_DEEP);
	free(buf);
}
END_TEST

static const char *const bad_json[] = {
	"x",
	"{",
	"}",
	"{\"a\":1} x",			/* trailing garbage */
	"{\"a\":1}}",
	"{}{}",				/* two values */
	"{} []",
	"   ",
	"{'a':1}",
	"{\"a\":1,}",
	"{\"a\" 1}",
	"{a:1}",
	"{\"a\":01}",
	"{\"a\":NaN}",
	"{\"a\":\"\\x41\"}",
	"{\"a\":\"tab\there\"}",	/* raw control character */
	"{\"a\":tru}",
	"/* c */ {}",
};

START_TEST(test_bad_json)
{
	ck_assert_msg(parse_str(bad_json[_i]) == BODY_BAD_JSON,
	    "bad_json case %d", _i);
}
END_TEST

START_TEST(test_duplicate_key)
{
	char	*deep, *p;

	ck_assert_int_eq(parse_str("{\"a\":1,\"a\":1}"), BODY_DUPLICATE_KEY);
	ck_assert_int_eq(parse_str("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}"),
	    BODY_DUPLICATE_KEY);
	ck_assert_int_eq(parse_str("{\"x\":[{\"k\":1},{\"k\":2,\"k\":3}]}"),
	    BODY_DUPLICATE_KEY);
	/* The same name spelt with an escape is the same name. */
	ck_assert_int_eq(parse_str("{\"a\":1,\"\\u0061\":2}"),
	    BODY_DUPLICATE_KEY);
	/* The same name in different objects is fine. */
	ck_assert_int_eq(parse_str("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}"),
	    BODY_OK);

	/* A duplicate at depth 32, the deepest level allowed. */
	deep = nested_objects(BODY_MAX_DEPTH);
	p = strstr(deep, "{\"a\":1}");
	ck_assert_ptr_nonnull(p);
	{
		size_t	 n = strlen(deep);
		char	*buf = malloc(n + 16);
		size_t	 pre = (size_t)(p - deep);

		ck_assert_ptr_nonnull(buf);
		memcpy(buf, deep, pre);
		memcpy(buf + pre, "{\"a\":1,\"a\":2}", 13);
		memcpy(buf + pre + 13, p + 7, n - pre - 7 + 1);
		ck_assert_int_eq(parse_str(buf), BODY_DUPLICATE_KEY);
		free(buf);
	}
	free(deep);
}
END_TEST

START_TEST(test_not_object)
{
	ck_assert_int_eq(parse_str("[]"), BODY_NOT_OBJECT);
	ck_assert_int_eq(parse_str("[{\"a\":1}]"), BODY_NOT_OBJECT);
	ck_assert_int_eq(parse_str("42"), BODY_NOT_OBJECT);
	ck_assert_int_eq(parse_str("\"s\""), BODY_NOT_OBJECT);
	ck_assert_int_eq(parse_str("null"), BODY_NOT_OBJECT);
	ck_assert_int_eq(parse_str("true"), BODY_NOT_OBJECT);
	ck_assert_int_eq(parse_str("1.5"), BODY_NOT_OBJECT);
}
END_TEST

/* Numbers Jansson cannot hold exactly are their own fault, not "bad
 * JSON": the body is well formed, the service cannot read it. */
START_TEST(test_number_range)
{
	ck_assert_int_eq(parse_str("{\"a\":9223372036854775807}"), BODY_OK);
	ck_assert_int_eq(parse_str("{\"a\":-9223372036854775808}"), BODY_OK);
	ck_assert_int_eq(parse_str("{\"a\":9223372036854775808}"),
	    BODY_NUMBER_RANGE);
	ck_assert_int_eq(parse_str("{\"a\":-9223372036854775809}"),
	    BODY_NUMBER_RANGE);
	ck_assert_int_eq(parse_str("{\"a\":12345678901234567890}"),
	    BODY_NUMBER_RANGE);
	ck_assert_int_eq(parse_str("{\"a\":-99999999999999999999}"),
	    BODY_NUMBER_RANGE);
	ck_assert_int_eq(parse_str("{\"a\":1e400}"), BODY_NUMBER_RANGE);
	ck_assert_int_eq(parse_str("{\"a\":1e400"), BODY_NUMBER_RANGE);
	ck_assert_int_eq(parse_str("{\"a\":1e30}"), BODY_OK);
}
END_TEST

START_TEST(test_codes)
{
	static const struct {
		enum body_result	 r;
		const char		*code;
	} codes[] = {
		{ BODY_OK, "ok" },
		{ BODY_EMPTY, "body_empty" },
		{ BODY_BOM, "body_bom" },
		{ BODY_BAD_UTF8, "body_bad_utf8" },
		{ BODY_NUL, "body_nul" },
		{ BODY_TOO_DEEP, "body_too_deep" },
		{ BODY_BAD_JSON, "body_bad_json" },
		{ BODY_DUPLICATE_KEY, "body_duplicate_key" },
		{ BODY_NOT_OBJECT, "body_not_object" },
		{ BODY_NUMBER_RANGE, "body_number_range" },
	};
	size_t	 i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char	*m = body_result_message(codes[i].r);

		ck_assert_str_eq(body_result_code(codes[i].r), codes[i].code);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_gt(strlen(m), 10);
		ck_assert_ptr_null(strchr(m, '%'));
		/* Each fault has its own message. */
		for (j = 0; j < i; j++)
			ck_assert_str_ne(m, body_result_message(codes[j].r));
	}
	ck_assert_str_eq(body_result_message(BODY_TOO_DEEP),
	    "The body nests arrays and objects more than 32 deep.");
	ck_assert_str_eq(body_result_code((enum body_result)99),
	    "body_unknown");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("body");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_ok_object);
	tcase_add_test(tc, test_bom);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_bad_utf8_in_body);
	tcase_add_loop_test(tc, test_bad_json, 0,
	    (int)(sizeof(bad_json) / sizeof(bad_json[0])));
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_test(tc, test_not_object);
	tcase_add_test(tc, test_number_range);
	tcase_add_test(tc, test_codes);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, test_utf8_table, 0,
	    (int)(sizeof(utf8_cases) / sizeof(utf8_cases[0])));
	tcase_add_test(tc, test_utf8_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("depth");
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_depth_arrays);
	tcase_add_test(tc, test_depth_siblings);
	tcase_add_test(tc, test_depth_strings);
	tcase_add_test(tc, test_depth_huge);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
