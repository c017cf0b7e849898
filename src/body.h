/*
 * body: from verified raw bytes to a JSON object, rejecting on the first
 * fault. Called only after the signature over the same bytes has passed.
 */
#ifndef HL_BODY_H
#define HL_BODY_H

#include <stddef.h>
#include <jansson.h>

#define BODY_MAX_DEPTH 32	/* nesting of arrays and objects */

enum body_result {
	BODY_OK = 0,
	BODY_EMPTY,		/* zero bytes */
	BODY_BOM,		/* starts with a UTF-8 byte order mark */
	BODY_BAD_UTF8,		/* not valid UTF-8 (overlongs, surrogates too) */
	BODY_NUL,		/* a raw NUL byte, or \u0000 in a string */
	BODY_TOO_DEEP,		/* nesting beyond BODY_MAX_DEPTH */
	BODY_BAD_JSON,		/* not JSON, or trailing bytes after it */
	BODY_DUPLICATE_KEY,	/* a member name repeats within an object */
	BODY_NOT_OBJECT,	/* valid JSON, but not an object */
	BODY_NUMBER_RANGE	/* a number beyond int64 or double */
};

/* Parse len bytes at buf. On BODY_OK *out holds a new reference the caller
 * must json_decref(); otherwise *out is NULL. Thread-safe. */
enum body_result body_parse(const unsigned char *buf, size_t len,
	    json_t **out);

/* Stable lower_snake_case code for r, for responses and logs. */
const char	*body_result_code(enum body_result r);

/* A short sentence for r, safe to show to the sender. */
const char	*body_result_message(enum body_result r);

/* Return 1 when len bytes at s are valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. */
int	body_utf8_valid(const unsigned char *s, size_t len);

#endif
