/*
 * body: the JSON body parser (UTF-8, NUL, depth, duplicate keys, trailing
 * bytes) over raw request bytes.
 *
 * Input: the body, whole. What body_parse() accepts must be an object;
 * what it refuses must leave *out NULL; and its UTF-8 verdict must agree
 * with body_utf8_valid().
 */
#include <jansson.h>

#include "body.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		*buf;
	json_t			*root = (json_t *)1;
	enum body_result	 r;

	buf = fuzz_copy(data, size);
	r = body_parse(buf, size, &root);
	if (body_result_code(r) == NULL || body_result_message(r) == NULL)
		abort();
	if ((r == BODY_OK) != (root != NULL))
		abort();
	if (r == BODY_OK && (!json_is_object(root) ||
	    !body_utf8_valid(buf, size)))
		abort();
	if (r == BODY_BAD_UTF8 && body_utf8_valid(buf, size))
		abort();
	json_decref(root);
	free(buf);
	return 0;
}
