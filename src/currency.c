/*
 * currency: the ISO 4217 allowlist.
 *
 * The table is List One as published by the ISO 4217 maintenance agency
 * on 2024-06-25, less the codes that cannot denote a payment (precious
 * metals XAU XAG XPD XPT, the bond-market units XBA..XBD, the SDR, SUCRE
 * and ADB units XDR XSU XUA, the testing code XTS and "no currency" XXX),
 * plus XCG, the Caribbean guilder that replaced ANG in Curaçao and Sint
 * Maarten in 2025. ANG stays: refunds and disputes of payments made in it
 * keep arriving long after a currency is withdrawn.
 *
 * The exponent is ISO's minor unit, never the provider's. Stripe's list of
 * zero-decimal currencies is kept beside it because it is not the same
 * thing: Stripe sends MGA in whole ariary although ISO gives it two
 * decimals, and sends ISK with two decimals although ISO gives it none.
 *
 * Keep the table sorted by code: currency_lookup() searches it with
 * bsearch(3).
 */
#include <stdlib.h>
#include <string.h>

#include "currency.h"

static const struct currency currencies[] = {
	{ "AED", 2, 0 },
	{ "AFN", 2, 0 },
	{ "ALL", 2, 0 },
	{ "AMD", 2, 0 },
	{ "ANG", 2, 0 },
	{ "AOA", 2, 0 },
	{ "ARS", 2, 0 },
	{ "AUD", 2, 0 },
	{ "AWG", 2, 0 },
	{ "AZN", 2, 0 },
	{ "BAM", 2, 0 },
	{ "BBD", 2, 0 },
	{ "BDT", 2, 0 },
	{ "BGN", 2, 0 },
	{ "BHD", 3, 0 },
	{ "BIF", 0, 1 },
	{ "BMD", 2, 0 },
	{ "BND", 2, 0 },
	{ "BOB", 2, 0 },
	{ "BOV", 2, 0 },
	{ "BRL", 2, 0 },
	{ "BSD", 2, 0 },
	{ "BTN", 2, 0 },
	{ "BWP", 2, 0 },
	{ "BYN", 2, 0 },
	{ "BZD", 2, 0 },
	{ "CAD", 2, 0 },
	{ "CDF", 2, 0 },
	{ "CHE", 2, 0 },
	{ "CHF", 2, 0 },
	{ "CHW", 2, 0 },
	{ "CLF", 4, 0 },
	{ "CLP", 0, 1 },
	{ "CNY", 2, 0 },
	{ "COP", 2, 0 },
	{ "COU", 2, 0 },
	{ "CRC", 2, 0 },
	{ "CUC", 2, 0 },
	{ "CUP", 2, 0 },
	{ "CVE", 2, 0 },
	{ "CZK", 2, 0 },
	{ "DJF", 0, 1 },
	{ "DKK", 2, 0 },
	{ "DOP", 2, 0 },
	{ "DZD", 2, 0 },
	{ "EGP", 2, 0 },
	{ "ERN", 2, 0 },
	{ "ETB", 2, 0 },
	{ "EUR", 2, 0 },
	{ "FJD", 2, 0 },
	{ "FKP", 2, 0 },
	{ "GBP", 2, 0 },
	{ "GEL", 2, 0 },
	{ "GHS", 2, 0 },
	{ "GIP", 2, 0 },
	{ "GMD", 2, 0 },
	{ "GNF", 0, 1 },
	{ "GTQ", 2, 0 },
	{ "GYD", 2, 0 },
	{ "HKD", 2, 0 },
	{ "HNL", 2, 0 },
	{ "HTG", 2, 0 },
	{ "HUF", 2, 0 },
	{ "IDR", 2, 0 },
	{ "ILS", 2, 0 },
	{ "INR", 2, 0 },
	{ "IQD", 3, 0 },
	{ "IRR", 2, 0 },
	{ "ISK", 0, 0 },
	{ "JMD", 2, 0 },
	{ "JOD", 3, 0 },
	{ "JPY", 0, 1 },
	{ "KES", 2, 0 },
	{ "KGS", 2, 0 },
	{ "KHR", 2, 0 },
	{ "KMF", 0, 1 },
	{ "KPW", 2, 0 },
	{ "KRW", 0, 1 },
	{ "KWD", 3, 0 },
	{ "KYD", 2, 0 },
	{ "KZT", 2, 0 },
	{ "LAK", 2, 0 },
	{ "LBP", 2, 0 },
	{ "LKR", 2, 0 },
	{ "LRD", 2, 0 },
	{ "LSL", 2, 0 },
	{ "LYD", 3, 0 },
	{ "MAD", 2, 0 },
	{ "MDL", 2, 0 },
	{ "MGA", 2, 1 },
	{ "MKD", 2, 0 },
	{ "MMK", 2, 0 },
	{ "MNT", 2, 0 },
	{ "MOP", 2, 0 },
	{ "MRU", 2, 0 },
	{ "MUR", 2, 0 },
	{ "MVR", 2, 0 },
	{ "MWK", 2, 0 },
	{ "MXN", 2, 0 },
	{ "MXV", 2, 0 },
	{ "MYR", 2, 0 },
	{ "MZN", 2, 0 },
	{ "NAD", 2, 0 },
	{ "NGN", 2, 0 },
	{ "NIO", 2, 0 },
	{ "NOK", 2, 0 },
	{ "NPR", 2, 0 },
	{ "NZD", 2, 0 },
	{ "OMR", 3, 0 },
	{ "PAB", 2, 0 },
	{ "PEN", 2, 0 },
	{ "PGK", 2, 0 },
	{ "PHP", 2, 0 },
	{ "PKR", 2, 0 },
	{ "PLN", 2, 0 },
	{ "PYG", 0, 1 },
	{ "QAR", 2, 0 },
	{ "RON", 2, 0 },
	{ "RSD", 2, 0 },
	{ "RUB", 2, 0 },
	{ "RWF", 0, 1 },
	{ "SAR", 2, 0 },
	{ "SBD", 2, 0 },
	{ "SCR", 2, 0 },
	{ "SDG", 2, 0 },
	{ "SEK", 2, 0 },
	{ "SGD", 2, 0 },
	{ "SHP", 2, 0 },
	{ "SLE", 2, 0 },
	{ "SOS", 2, 0 },
	{ "SRD", 2, 0 },
	{ "SSP", 2, 0 },
	{ "STN", 2, 0 },
	{ "SVC", 2, 0 },
	{ "SYP", 2, 0 },
	{ "SZL", 2, 0 },
	{ "THB", 2, 0 },
	{ "TJS", 2, 0 },
	{ "TMT", 2, 0 },
	{ "TND", 3, 0 },
	{ "TOP", 2, 0 },
	{ "TRY", 2, 0 },
	{ "TTD", 2, 0 },
	{ "TWD", 2, 0 },
	{ "TZS", 2, 0 },
	{ "UAH", 2, 0 },
	{ "UGX", 0, 1 },
	{ "USD", 2, 0 },
	{ "USN", 2, 0 },
	{ "UYI", 0, 0 },
	{ "UYU", 2, 0 },
	{ "UYW", 4, 0 },
	{ "UZS", 2, 0 },
	{ "VED", 2, 0 },
	{ "VES", 2, 0 },
	{ "VND", 0, 1 },
	{ "VUV", 0, 1 },
	{ "WST", 2, 0 },
	{ "XAF", 0, 1 },
	{ "XCD", 2, 0 },
	{ "XCG", 2, 0 },
	{ "XOF", 0, 1 },
	{ "XPF", 0, 1 },
	{ "YER", 2, 0 },
	{ "ZAR", 2, 0 },
	{ "ZMW", 2, 0 },
	{ "ZWG", 2, 0 },
};

#define NCURRENCIES (sizeof(currencies) / sizeof(currencies[0]))

/* One trillion major units: far beyond any single card payment, yet it
 * stops an amount sent in the wrong unit long before 2^53. */
#define MAX_MAJOR	INT64_C(1000000000000)

int64_t
currency_max_amount(const struct currency *c)
{
	int64_t	 max = MAX_MAJOR;
	int	 i;

	if (c == NULL)
		return 0;
	for (i = 0; i < c->exponent; i++) {
		if (max > CURRENCY_MAX_AMOUNT / 10)
			return CURRENCY_MAX_AMOUNT;
		max *= 10;
	}
	return max < CURRENCY_MAX_AMOUNT ? max : CURRENCY_MAX_AMOUNT;
}

static int
cmp_code(const void *key, const void *elem)
{
	const struct currency	*c = elem;

	return strcmp(key, c->code);
}

const struct currency *
currency_lookup(const char *s, size_t len)
{
	char	 code[4];
	size_t	 i;

	if (s == NULL || len != 3)
		return NULL;
	/* ASCII only, by hand: toupper(3) would consult the locale. */
	for (i = 0; i < 3; i++) {
		unsigned char	 ch = (unsigned char)s[i];

		if (ch >= 'a' && ch <= 'z')
			ch = (unsigned char)(ch - 'a' + 'A');
		else if (ch < 'A' || ch > 'Z')
			return NULL;
		code[i] = (char)ch;
	}
	code[3] = '\0';
	return bsearch(code, currencies, NCURRENCIES, sizeof(currencies[0]),
	    cmp_code);
}
