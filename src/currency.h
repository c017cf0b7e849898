/*
 * currency: the ISO 4217 allowlist and each code's minor-unit exponent.
 * The table lives in the code, not in configuration, so that an operator
 * cannot make an amount mean ten times what the provider meant.
 */
#ifndef HL_CURRENCY_H
#define HL_CURRENCY_H

#include <stddef.h>
#include <stdint.h>

/* The largest amount accepted in any currency, in minor units: 2^53 - 1,
 * the largest integer every JSON implementation keeps exactly. */
#define CURRENCY_MAX_AMOUNT	INT64_C(9007199254740991)

struct currency {
	char		code[4];	/* upper case, NUL-terminated */
	int		exponent;	/* minor units per major: 10^exponent */
	int		stripe_zero_decimal; /* Stripe sends whole units */
};

/* The largest amount accepted in currency c, in minor units: one trillion
 * (10^12) major units, and never more than CURRENCY_MAX_AMOUNT. */
int64_t	currency_max_amount(const struct currency *c);

/* Look up a three-letter code, case-insensitive, len bytes at s. Returns
 * the table entry, or NULL when the code is not an active ISO 4217 code. */
const struct currency *currency_lookup(const char *s, size_t len);

#endif
