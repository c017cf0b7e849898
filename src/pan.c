/*
 * pan.c: card-number detection for bodies and masking for log lines.
 *
 * One scanner finds the digit groups of the rule in pan.h; the checks and
 * the mask differ only in what they do with a group that qualifies.
 */
#include "pan.h"

#include <stdio.h>
#include <string.h>

#define PAN_DEPTH_MAX	64	/* above body.h's limit: a guard only */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
pan_luhn(const char *d, size_t n)
{
	size_t	i;
	int	sum = 0, v, dbl = 0;

	if (n == 0)
		return 0;
	for (i = n; i-- > 0;) {
		if (!is_digit(d[i]))
			return 0;
		v = d[i] - '0';
		if (dbl && (v *= 2) > 9)
			v -= 9;
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

/*
 * The group starting at s[i], a digit: its end (one past its last digit)
 * in *end and its digits, up to PAN_MAX_DIGITS + 1 of them, in d. Returns
 * the number of digits in the group, which may exceed what d holds.
 */
/* Whether c joins two digits into one group. A space or a dash always
 * does. When masking (loose), so does one kind of punctuation per group,
 * the first met: "4111.1111.1111.1111/4000/0566/..." is two groups, as a
 * path writes two numbers, not one of 32 digits. */
static int
joins(char c, int loose, char *punct)
{
	if (c == ' ' || c == '-')
		return 1;
	if (!loose || (c != '.' && c != '_' && c != '/' && c != '+' &&
	    c != ':'))
		return 0;
	if (*punct == '\0')
		*punct = c;
	return *punct == c;
}

static size_t
group(const char *s, size_t len, size_t i, char d[PAN_MAX_DIGITS + 1],
    size_t *end, int loose)
{
	size_t	n = 0;
	char	punct = '\0';

	for (;;) {
		if (n <= PAN_MAX_DIGITS)
			d[n] = s[i];
		n++;
		i++;
		if (i < len && is_digit(s[i]))
			continue;
		/* One space or dash joins two digits; when masking, so does
		 * any punctuation a path or an id may carry. */
		if (i + 1 < len && is_digit(s[i + 1]) &&
		    joins(s[i], loose, &punct)) {
			i++;
			continue;
		}
		break;
	}
	*end = i;
	return n;
}

static int
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Digits glued to a letter belong to an identifier, such as the ISO 11649
 * creditor reference "RF18539007547034" in Stripe's SEPA refunds. */
static int
standalone(const char *s, size_t len, size_t start, size_t end)
{
	return (start == 0 || !is_letter(s[start - 1])) &&
	    (end == len || !is_letter(s[end]));
}

static int
qualifies(const char *d, size_t n)
{
	/* No card network issues a number that starts with 0 (ISO/IEC
	 * 7812), and zero-padded ids would pass Luhn. */
	return n >= PAN_MIN_DIGITS && n <= PAN_MAX_DIGITS && d[0] != '0' &&
	    pan_luhn(d, n);
}

int
pan_in_text(const char *s, size_t len)
{
	char	d[PAN_MAX_DIGITS + 1];
	size_t	i = 0, end, n;

	while (i < len) {
		if (!is_digit(s[i])) {
			i++;
			continue;
		}
		n = group(s, len, i, d, &end, 0);
		if (qualifies(d, n) && standalone(s, len, i, end))
			return 1;
		i = end;
	}
	return 0;
}

size_t
pan_mask(char *s, size_t len)
{
	char	d[PAN_MAX_DIGITS + 1];
	size_t	i = 0, j, end, n, seen, masked = 0;

	while (i < len) {
		if (!is_digit(s[i])) {
			i++;
			continue;
		}
		n = group(s, len, i, d, &end, 1);
		if (qualifies(d, n) && standalone(s, len, i, end)) {
			for (j = i, seen = 0; j < end; j++)
				if (is_digit(s[j]) && seen++ < n - 4)
					s[j] = '*';
			masked++;
		}
		i = end;
	}
	return masked;
}

/* The digits of the raw document outside its strings: its numbers, as
 * the sender wrote them (a real such as 4111111111111111.0 included). */
static int
raw_numbers(const unsigned char *raw, size_t len)
{
	char	d[PAN_MAX_DIGITS + 1];
	size_t	i = 0, n;
	int	in_string = 0;

	while (i < len) {
		if (in_string) {
			if (raw[i] == '\\')
				i++;
			else if (raw[i] == '"')
				in_string = 0;
			i++;
			continue;
		}
		if (raw[i] == '"') {
			in_string = 1;
			i++;
			continue;
		}
		if (!is_digit((char)raw[i])) {
			i++;
			continue;
		}
		/* Outside strings no separator joins digits: a number is one
		 * run of them. */
		for (n = 0; i < len && is_digit((char)raw[i]); i++, n++)
			if (n <= PAN_MAX_DIGITS)
				d[n] = (char)raw[i];
		if (qualifies(d, n))
			return 1;
	}
	return 0;
}

/* Recursion: at most PAN_DEPTH_MAX deep, checked on entry. */
/* NOLINTBEGIN(misc-no-recursion) */
static int
walk(json_t *v, int depth)
{
	const char	*key;
	json_t		*m;
	size_t		 i;
	char		 buf[32];
	int		 k;

	if (depth > PAN_DEPTH_MAX)
		return 1;	/* cannot happen after body_parse: refuse */
	switch (json_typeof(v)) {
	case JSON_STRING:
		return pan_in_text(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		k = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return k > 0 && pan_in_text(buf, (size_t)k);
	case JSON_OBJECT:
		json_object_foreach(v, key, m) {
			if (pan_in_text(key, strlen(key)) || walk(m, depth + 1))
				return 1;
		}
		return 0;
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(v); i++)
			if (walk(json_array_get(v, i), depth + 1))
				return 1;
		return 0;
	default:
		return 0;
	}
}
/* NOLINTEND(misc-no-recursion) */

int
pan_in_json(json_t *root, const unsigned char *raw, size_t len)
{
	if (root != NULL && walk(root, 0))
		return 1;
	return raw != NULL && raw_numbers(raw, len);
}
