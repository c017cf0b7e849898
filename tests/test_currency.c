/*
 * test_currency: the ISO 4217 allowlist, its exponents, Stripe's
 * zero-decimal flags, each code's largest amount and the lookup's edge
 * cases.
 */
#include <string.h>

#include <check.h>

#include "currency.h"

/* Active codes in the table: ISO 4217 List One of 2024-06-25, less the
 * 13 non-payment codes, plus XCG. */
#define TABLE_SIZE	167

static const struct currency *
look(const char *s)
{
	return currency_lookup(s, strlen(s));
}

static const struct {
	const char	*code;
	int		 exponent;
	int		 zero_decimal;
} known[] = {
	{ "USD", 2, 0 }, { "EUR", 2, 0 }, { "GBP", 2, 0 }, { "CHF", 2, 0 },
	{ "JPY", 0, 1 }, { "KRW", 0, 1 }, { "VND", 0, 1 }, { "CLP", 0, 1 },
	{ "UGX", 0, 1 }, { "XAF", 0, 1 }, { "XOF", 0, 1 }, { "XPF", 0, 1 },
	{ "PYG", 0, 1 }, { "RWF", 0, 1 }, { "KMF", 0, 1 }, { "GNF", 0, 1 },
	{ "DJF", 0, 1 }, { "BIF", 0, 1 }, { "VUV", 0, 1 },
	/* ISO says two decimals; Stripe sends whole ariary. */
	{ "MGA", 2, 1 },
	/* ISO says none; Stripe sends two decimals that must be 00. */
	{ "ISK", 0, 0 },
	{ "HUF", 2, 0 }, { "TWD", 2, 0 },
	{ "KWD", 3, 0 }, { "BHD", 3, 0 }, { "JOD", 3, 0 }, { "OMR", 3, 0 },
	{ "TND", 3, 0 }, { "LYD", 3, 0 }, { "IQD", 3, 0 },
	{ "CLF", 4, 0 }, { "UYW", 4, 0 }, { "UYI", 0, 0 },
	/* Funds codes. */
	{ "BOV", 2, 0 }, { "CHE", 2, 0 }, { "CHW", 2, 0 }, { "COU", 2, 0 },
	{ "MXV", 2, 0 }, { "USN", 2, 0 },
	/* Codes of 2018-2025. */
	{ "VES", 2, 0 }, { "VED", 2, 0 }, { "SLE", 2, 0 }, { "ZWG", 2, 0 },
	{ "MRU", 2, 0 }, { "STN", 2, 0 }, { "XCG", 2, 0 },
	/* Currency unions. */
	{ "XCD", 2, 0 }, { "ANG", 2, 0 },
};

START_TEST(test_known)
{
	const struct currency	*c = look(known[_i].code);

	ck_assert_msg(c != NULL, "%s missing", known[_i].code);
	ck_assert_str_eq(c->code, known[_i].code);
	ck_assert_int_eq(c->exponent, known[_i].exponent);
	ck_assert_int_eq(c->stripe_zero_decimal, known[_i].zero_decimal);
}
END_TEST

static const char *const refused[] = {
	/* Not payments. */
	"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA",
	"XBA", "XBB", "XBC", "XBD",
	/* Withdrawn. */
	"HRK", "SLL", "ZWL", "VEF", "MRO", "STD", "LTL", "DEM", "BYR",
	/* Never codes. */
	"ABC", "ZZZ", "BTC",
	/* Not three ASCII letters. */
	"", "U", "US", "USDX", "US ", " US", "U1D", "840", "US-",
	"U\xc3\x9c" "D", "\xc3\x9cSD", "\xe9SD", "US\xe9",
};

START_TEST(test_refused)
{
	ck_assert_msg(look(refused[_i]) == NULL, "refused case %d", _i);
}
END_TEST

START_TEST(test_case_insensitive)
{
	const struct currency	*a = look("USD"), *b = look("usd"),
				*c = look("uSd"), *d = look("jpy");

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_eq(a, c);
	ck_assert_str_eq(b->code, "USD");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->code, "JPY");
	ck_assert_int_eq(d->exponent, 0);
}
END_TEST

START_TEST(test_length_bound)
{
	static const char	 nul[3] = { 'U', 'S', '\0' };
	const struct currency	*c;

	/* The length is what counts, not a terminator. */
	c = currency_lookup("USDX", 3);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->code, "USD");
	ck_assert_ptr_null(currency_lookup("USD", 2));
	ck_assert_ptr_null(currency_lookup("USD", 4));
	ck_assert_ptr_null(currency_lookup(nul, 3));
	ck_assert_ptr_null(currency_lookup(NULL, 3));
	ck_assert_ptr_null(currency_lookup(NULL, 0));
	/* Letters just outside A-Z and a-z in ASCII. */
	ck_assert_ptr_null(currency_lookup("@SD", 3));
	ck_assert_ptr_null(currency_lookup("[SD", 3));
	ck_assert_ptr_null(currency_lookup("`SD", 3));
	ck_assert_ptr_null(currency_lookup("{SD", 3));
}
END_TEST

/*
 * Every three-letter code, in both cases: the table has exactly
 * TABLE_SIZE entries reachable by bsearch, which also shows it is sorted.
 */
START_TEST(test_enumerate)
{
	char	 up[4] = "AAA", lo[4] = "aaa";
	int	 a, b, c, n = 0, zero = 0, e[5] = { 0 };

	for (a = 0; a < 26; a++)
		for (b = 0; b < 26; b++)
			for (c = 0; c < 26; c++) {
				const struct currency	*p, *q;

				up[0] = (char)('A' + a);
				up[1] = (char)('A' + b);
				up[2] = (char)('A' + c);
				lo[0] = (char)('a' + a);
				lo[1] = (char)('a' + b);
				lo[2] = (char)('a' + c);
				p = currency_lookup(up, 3);
				q = currency_lookup(lo, 3);
				ck_assert_ptr_eq(p, q);
				if (p == NULL)
					continue;
				n++;
				ck_assert_str_eq(p->code, up);
				ck_assert(p->exponent >= 0 && p->exponent <= 4);
				e[p->exponent]++;
				zero += p->stripe_zero_decimal;
			}
	ck_assert_int_eq(n, TABLE_SIZE);
	ck_assert_int_eq(zero, 16);
	ck_assert_int_eq(e[0], 17);
	ck_assert_int_eq(e[1], 0);
	ck_assert_int_eq(e[3], 7);
	ck_assert_int_eq(e[4], 2);
	ck_assert_int_eq(e[2], TABLE_SIZE - 17 - 7 - 2);
}
END_TEST

START_TEST(test_max_amount)
{
	/* 2^53 - 1. */
	ck_assert(CURRENCY_MAX_AMOUNT == INT64_C(9007199254740991));
	ck_assert(CURRENCY_MAX_AMOUNT == (INT64_C(1) << 53) - 1);
}
END_TEST

static const struct {
	const char	*code;
	int64_t		 max;
} maxima[] = {
	{ "JPY", INT64_C(1000000000000) },		/* 10^12 */
	{ "ISK", INT64_C(1000000000000) },
	{ "USD", INT64_C(100000000000000) },		/* 10^14 */
	{ "MGA", INT64_C(100000000000000) },
	{ "KWD", INT64_C(1000000000000000) },		/* 10^15 */
	{ "BHD", INT64_C(1000000000000000) },
	{ "CLF", INT64_C(9007199254740991) },		/* 10^16, capped */
	{ "UYW", INT64_C(9007199254740991) },
};

START_TEST(test_currency_max)
{
	const struct currency	*c = look(maxima[_i].code);

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(currency_max_amount(c) == maxima[_i].max,
	    "%s: %lld", maxima[_i].code, (long long)currency_max_amount(c));
}
END_TEST

/* Every code's maximum is 10^(12 + exponent), or 2^53 - 1 below it. */
START_TEST(test_currency_max_all)
{
	char	 code[4] = "AAA";
	int	 a, b, c, i, n = 0, capped = 0;

	for (a = 0; a < 26; a++)
		for (b = 0; b < 26; b++)
			for (c = 0; c < 26; c++) {
				const struct currency	*p;
				int64_t			 want = 1;

				code[0] = (char)('A' + a);
				code[1] = (char)('A' + b);
				code[2] = (char)('A' + c);
				if ((p = currency_lookup(code, 3)) == NULL)
					continue;
				for (i = 0; i < 12 + p->exponent; i++)
					want *= 10;
				if (want > CURRENCY_MAX_AMOUNT) {
					want = CURRENCY_MAX_AMOUNT;
					capped++;
				}
				ck_assert_msg(currency_max_amount(p) == want,
				    "%s", code);
				n++;
			}
	ck_assert_int_eq(n, TABLE_SIZE);
	ck_assert_int_eq(capped, 2);
	ck_assert(currency_max_amount(NULL) == 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("currency");
	TCase	*tc = tcase_create("lookup");

	tcase_add_loop_test(tc, test_known, 0,
	    (int)(sizeof(known) / sizeof(known[0])));
	tcase_add_loop_test(tc, test_refused, 0,
	    (int)(sizeof(refused) / sizeof(refused[0])));
	tcase_add_test(tc, test_case_insensitive);
	tcase_add_test(tc, test_length_bound);
	tcase_add_test(tc, test_enumerate);
	tcase_add_test(tc, test_max_amount);
	tcase_add_loop_test(tc, test_currency_max, 0,
	    (int)(sizeof(maxima) / sizeof(maxima[0])));
	tcase_add_test(tc, test_currency_max_all);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
