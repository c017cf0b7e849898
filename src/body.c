/*
 * body: the raw bytes of a verified request, checked in a fixed order so
 * that one body always gets one answer, and parsed by Jansson only after
 * the cheap byte-level checks have passed.
 *
 * Jansson parses nested values by recursion. It stops at 2048 levels, but
 * a parser that any input can drive that deep costs stack in every worker
 * thread, so the depth is bounded here by a flat scan first: Jansson never
 * sees a body nested beyond BODY_MAX_DEPTH.
 */
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "body.h"

#define STR(x)	#x
#define XSTR(x)	STR(x)

static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };

int
body_utf8_valid(const unsigned char *s, size_t len)
{
	size_t	 i = 0;

	if (s == NULL)
		return len == 0;
	/*
	 * The well-formed byte sequences of Unicode 15, table 3-7. The
	 * second byte's range is what excludes overlong forms (E0, F0),
	 * surrogates (ED) and code points above U+10FFFF (F4).
	 */
	while (i < len) {
		unsigned char	 c = s[i];
		unsigned char	 lo = 0x80, hi = 0xbf;
		size_t		 n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return 0;	/* 80..C1, F5..FF never lead */
		if (len - i - 1 < n)
			return 0;	/* truncated */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Return 1 when brackets outside strings never nest deeper than
 * BODY_MAX_DEPTH. The scan does not validate: a stray closing bracket
 * only stops the count going negative, and Jansson rejects the rest.
 */
static int
depth_ok(const unsigned char *s, size_t len)
{
	size_t	 i, depth = 0;
	int	 instr = 0;

	for (i = 0; i < len; i++) {
		unsigned char	 c = s[i];

		if (instr) {
			if (c == '\\')
				i++;	/* whatever follows is escaped */
			else if (c == '"')
				instr = 0;
			continue;
		}
		switch (c) {
		case '"':
			instr = 1;
			break;
		case '[':
		case '{':
			if (++depth > BODY_MAX_DEPTH)
				return 0;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return 1;
}

enum body_result
body_parse(const unsigned char *buf, size_t len, json_t **out)
{
	json_error_t	 err;
	json_t		*root;

	*out = NULL;
	if (buf == NULL || len == 0)
		return BODY_EMPTY;
	if (len >= sizeof(bom) && memcmp(buf, bom, sizeof(bom)) == 0)
		return BODY_BOM;
	if (memchr(buf, '\0', len) != NULL)
		return BODY_NUL;
	if (!body_utf8_valid(buf, len))
		return BODY_BAD_UTF8;
	if (!depth_ok(buf, len))
		return BODY_TOO_DEEP;

	/*
	 * Without JSON_ALLOW_NUL Jansson refuses \u0000; without
	 * JSON_DISABLE_EOF_CHECK it refuses bytes after the value.
	 * JSON_DECODE_ANY lets a scalar root load, so that "42" is told
	 * apart from garbage and answered BODY_NOT_OBJECT like "[]".
	 */
	root = json_loadb((const char *)buf, len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (root == NULL) {
		switch (json_error_code(&err)) {
		case json_error_null_character:
		case json_error_null_byte_in_key:
			return BODY_NUL;
		case json_error_duplicate_key:
			return BODY_DUPLICATE_KEY;
		case json_error_numeric_overflow:
			return BODY_NUMBER_RANGE;
		default:
			return BODY_BAD_JSON;
		}
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return BODY_NOT_OBJECT;
	}
	*out = root;
	return BODY_OK;
}

const char *
body_result_code(enum body_result r)
{
	switch (r) {
	case BODY_OK:
		return "ok";
	case BODY_EMPTY:
		return "body_empty";
	case BODY_BOM:
		return "body_bom";
	case BODY_BAD_UTF8:
		return "body_bad_utf8";
	case BODY_NUL:
		return "body_nul";
	case BODY_TOO_DEEP:
		return "body_too_deep";
	case BODY_BAD_JSON:
		return "body_bad_json";
	case BODY_DUPLICATE_KEY:
		return "body_duplicate_key";
	case BODY_NOT_OBJECT:
		return "body_not_object";
	case BODY_NUMBER_RANGE:
		return "body_number_range";
	}
	return "body_unknown";
}

const char *
body_result_message(enum body_result r)
{
	switch (r) {
	case BODY_OK:
		return "The body is a JSON object.";
	case BODY_EMPTY:
		return "The body is empty.";
	case BODY_BOM:
		return "The body starts with a byte order mark.";
	case BODY_BAD_UTF8:
		return "The body is not valid UTF-8.";
	case BODY_NUL:
		return "The body contains a NUL character.";
	case BODY_TOO_DEEP:
		return "The body nests arrays and objects more than "
		    XSTR(BODY_MAX_DEPTH) " deep.";
	case BODY_BAD_JSON:
		return "The body is not a single well-formed JSON value.";
	case BODY_DUPLICATE_KEY:
		return "A JSON object in the body repeats a member name.";
	case BODY_NOT_OBJECT:
		return "The body is JSON but not a JSON object.";
	case BODY_NUMBER_RANGE:
		return "A number in the body is too large to read exactly "
		    "(integers go up to 9223372036854775807).";
	}
	return "The body was rejected.";
}
