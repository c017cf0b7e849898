/*
 * header.c: Content-Type and Idempotency-Key, refused on the first byte
 * that does not belong.
 */
#include <string.h>
#include <strings.h>

#include "header.h"

int
header_is_json(const char *v)
{
	static const char want[] = "application/json";

	if (v == NULL)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, want, sizeof(want) - 1) != 0)
		return 0;
	v += sizeof(want) - 1;
	while (*v == ' ' || *v == '\t')
		v++;
	return *v == '\0' || *v == ';';
}

int
header_idem_key_ok(const char *v, size_t max)
{
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; i <= max && v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return 0;
	return i >= 1 && i <= max;
}
