/*
 * report: the reconciliation report rendered for people.
 *
 * The report is built by reconcile.c, but most of its strings (messages,
 * payment and payout ids, the settlement file's name) come from providers
 * and customers, so they are handled as hostile: control bytes never reach
 * the cron mail as they are, and every string in the page is escaped.
 *
 * Nothing here depends on the locale or on how the C library prints a
 * double: money is printed from the integer minor units with the ISO
 * exponent, and rates and chart coordinates go through one fixed-point
 * formatter. The same report therefore gives the same bytes on every
 * machine, which is what lets a re-run reproduce a date's files exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "currency.h"
#include "report.h"

/* Bytes in one rendering: far beyond any real report, and small enough
 * that a corrupt one cannot exhaust memory. */
#define REPORT_MAX_OUT	((size_t)64 * 1024 * 1024)

/* Rates beyond this (100000%) are nonsense and are clamped, so that the
 * fixed-point arithmetic below cannot overflow. */
#define RATE_MAX	1000.0

/* The chart: its size and the plot area inside it, in SVG user units. */
#define CH_W		640
#define CH_H		200
#define CH_X0		56.0
#define CH_X1		624.0
#define CH_Y0		14.0
#define CH_Y1		170.0

struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void	 buf_printf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t	 cap;
	char	*p;

	if (b->failed)
		return;
	if (n > REPORT_MAX_OUT - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 8192;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Only for numbers and literals: report strings go through text_str() or
 * html_str(), which have no length limit. */
static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char	 tmp[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	buf_add(b, tmp, (size_t)n);
}

static char *
buf_finish(struct buf *b)
{
	if (b->failed) {
		free(b->s);
		return NULL;
	}
	if (b->s == NULL)
		return strdup("");
	return b->s;
}

/*
 * A string for the mail. Control bytes become '?': a message carrying a
 * newline must not be able to forge a line of the summary. Anything else
 * (UTF-8, which Jansson has validated) passes through.
 */
static void
text_str(struct buf *b, const char *s)
{
	const unsigned char	*p;
	size_t			 n;

	if (s == NULL) {
		buf_puts(b, "?");
		return;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		for (n = 0; p[n] >= 0x20 && p[n] != 0x7f; n++)
			;
		buf_add(b, (const char *)p, n);
		if (p[n] == '\0')
			break;
		buf_puts(b, "?");
		n++;
	}
}

/* A string for the page, as text or as a quoted attribute value. Control
 * bytes other than tab and newline are not allowed in HTML text. */
static void
html_str(struct buf *b, const char *s)
{
	const unsigned char	*p;
	const char		*rep;
	size_t			 n;

	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		for (n = 0; p[n] != '\0'; n++) {
			if (p[n] == '&' || p[n] == '<' || p[n] == '>' ||
			    p[n] == '"' || p[n] == '\'' || p[n] == 0x7f ||
			    (p[n] < 0x20 && p[n] != '\t' && p[n] != '\n'))
				break;
		}
		buf_add(b, (const char *)p, n);
		if (p[n] == '\0')
			break;
		switch (p[n]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			rep = "&#xFFFD;";
			break;
		}
		buf_puts(b, rep);
		n++;
	}
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A rate from the report: 0 when absent, and never negative, not finite
 * or beyond RATE_MAX. */
static double
rate(const json_t *o, const char *key)
{
	double	 v = json_number_value(json_object_get(o, key));

	if (!isfinite(v) || v < 0.0)
		return 0.0;
	return v > RATE_MAX ? RATE_MAX : v;
}

/*
 * v with decimals places (0 to 3), rounded half away from zero. Values
 * are clamped to 10^12 in magnitude so that the scaled value fits; every
 * value printed here is far smaller.
 */
static void
fmt_fixed(char *dst, size_t cap, double v, int decimals)
{
	static const unsigned long long scale[] = { 1, 10, 100, 1000 };
	unsigned long long	 u;
	double			 d;

	if (decimals < 0 || decimals > 3)
		decimals = 3;
	if (!isfinite(v))
		v = 0.0;
	if (v > 1e12)
		v = 1e12;
	else if (v < -1e12)
		v = -1e12;
	d = (v < 0.0 ? -v : v) * (double)scale[decimals] + 0.5;
	u = (unsigned long long)d;
	if (decimals == 0)
		snprintf(dst, cap, "%s%llu", v < 0.0 && u != 0 ? "-" : "", u);
	else
		snprintf(dst, cap, "%s%llu.%0*llu", v < 0.0 && u != 0 ? "-" :
		    "", u / scale[decimals], decimals, u % scale[decimals]);
}

/* A ratio as a percentage with two decimals: 0.075 is "7.50%". */
static void
buf_pct(struct buf *b, double ratio)
{
	char	 s[48];

	fmt_fixed(s, sizeof(s), ratio * 100.0, 2);
	buf_puts(b, s);
	buf_puts(b, "%");
}

/*
 * An amount in minor units as major units, by integer arithmetic:
 * 1534000 with exponent 2 is "15340.00", 1234 with 3 is "1.234".
 */
static void
fmt_money(char *dst, size_t cap, int64_t v, int exponent)
{
	uint64_t	 u, p = 1;
	int		 i;

	if (exponent < 0 || exponent > 18)
		exponent = 0;
	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	for (i = 0; i < exponent; i++)
		p *= 10;
	if (exponent == 0)
		snprintf(dst, cap, "%s%" PRIu64, v < 0 ? "-" : "", u);
	else
		snprintf(dst, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "",
		    u / p, exponent, u % p);
}

static const struct currency *
lookup(const char *code)
{
	return code != NULL ? currency_lookup(code, strlen(code)) : NULL;
}

/*
 * The amount v (a JSON integer in minor units) of currency code: "?" when
 * it is not an integer, and the bare minor units, marked as such, when
 * the code is not one the currency table knows. The code follows the
 * number when with_code is set.
 */
static void
buf_money(struct buf *b, const json_t *v, const char *code, int with_code,
    int html)
{
	const struct currency	*c = lookup(code);
	char			 s[48];

	if (json_is_integer(v)) {
		fmt_money(s, sizeof(s), json_integer_value(v), c != NULL ?
		    c->exponent : 0);
		buf_puts(b, s);
	} else
		buf_puts(b, "?");
	if (with_code && c != NULL) {
		buf_puts(b, " ");
		buf_puts(b, c->code);
	} else if (with_code && code != NULL) {
		buf_puts(b, " ");
		if (html)
			html_str(b, code);
		else
			text_str(b, code);
	}
	if (c == NULL && json_is_integer(v))
		buf_puts(b, " (minor units)");
}

static void
buf_int(struct buf *b, const json_t *v)
{
	if (json_is_integer(v))
		buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		buf_puts(b, "?");
}

/* "1 sale", "120 sales", "? sales". */
static void
buf_count(struct buf *b, const json_t *v, const char *one, const char *many)
{
	buf_int(b, v);
	buf_puts(b, " ");
	buf_puts(b, json_is_integer(v) && json_integer_value(v) == 1 ? one :
	    many);
}

static size_t
count_flags(const json_t *report)
{
	const json_t	*tenants = json_object_get(report, "tenants");
	size_t		 i, n = 0;

	for (i = 0; i < json_array_size(tenants); i++)
		n += json_array_size(json_object_get(json_array_get(tenants,
		    i), "flags"));
	return n;
}

/*
 * The lists of the settlement section, in the order of docs/reconcile.md,
 * with the columns of their tables. An amount column is printed in major
 * units when its row names a currency.
 */
enum col_kind {
	COL_PLAIN,
	COL_AMOUNT,
	COL_MATCH
};

struct col {
	const char	*key;
	const char	*label;
	enum col_kind	 kind;
};

struct list_spec {
	const char		*key;
	const char		*title;
	/* The text summary's nouns; NULL when it gives no count. */
	const char		*one;
	const char		*many;
	const struct col	*cols;
	size_t			 ncols;
};

static const struct col cols_missing_ledger[] = {
	{ "line", "Line", COL_PLAIN },
	{ "balance_transaction", "Balance transaction", COL_PLAIN },
	{ "category", "Category", COL_PLAIN },
	{ "source", "Source", COL_PLAIN },
	{ "payment", "Payment", COL_PLAIN },
	{ "currency", "Currency", COL_PLAIN },
	{ "gross", "Gross", COL_AMOUNT },
};
static const struct col cols_missing_settlement[] = {
	{ "seq", "Seq", COL_PLAIN },
	{ "event_id", "Event", COL_PLAIN },
	{ "kind", "Kind", COL_PLAIN },
	{ "payment", "Payment", COL_PLAIN },
	{ "currency", "Currency", COL_PLAIN },
	{ "amount", "Amount", COL_AMOUNT },
};
static const struct col cols_mismatches[] = {
	{ "line", "Line", COL_PLAIN },
	{ "source", "Source", COL_PLAIN },
	{ "payment", "Payment", COL_PLAIN },
	{ "field", "Field", COL_PLAIN },
	{ "ledger", "Ledger", COL_AMOUNT },
	{ "settlement", "Settlement", COL_AMOUNT },
};
static const struct col cols_fee_differences[] = {
	{ "line", "Line", COL_PLAIN },
	{ "payment", "Payment", COL_PLAIN },
	{ "currency", "Currency", COL_PLAIN },
	{ "ledger", "Ledger fee", COL_AMOUNT },
	{ "settlement", "Settlement fee", COL_AMOUNT },
};
static const struct col cols_fees_not_in_ledger[] = {
	{ "currency", "Currency", COL_PLAIN },
	{ "amount", "Amount", COL_AMOUNT },
	{ "lines", "Lines", COL_PLAIN },
};
static const struct col cols_payouts[] = {
	{ "payout", "Payout", COL_PLAIN },
	{ "currency", "Currency", COL_PLAIN },
	{ "lines", "Lines", COL_PLAIN },
	{ "gross", "Gross", COL_AMOUNT },
	{ "fee", "Fee", COL_AMOUNT },
	{ "net", "Net", COL_AMOUNT },
	{ "ledger", "Ledger", COL_AMOUNT },
	{ "matches", "Matches", COL_MATCH },
};
static const struct col cols_ignored[] = {
	{ "category", "Category", COL_PLAIN },
	{ "lines", "Lines", COL_PLAIN },
};

#define NCOLS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct list_spec settle_lists[] = {
	{ "missing_from_ledger", "Missing from the ledger",
	    "missing from ledger", "missing from ledger",
	    cols_missing_ledger, NCOLS(cols_missing_ledger) },
	{ "missing_from_settlement", "Missing from the settlement",
	    "missing from settlement", "missing from settlement",
	    cols_missing_settlement, NCOLS(cols_missing_settlement) },
	{ "mismatches", "Mismatches", "mismatch", "mismatches",
	    cols_mismatches, NCOLS(cols_mismatches) },
	{ "fee_differences", "Fee differences", "fee difference",
	    "fee differences", cols_fee_differences,
	    NCOLS(cols_fee_differences) },
	{ "fees_not_in_ledger", "Fees not in the ledger", NULL, NULL,
	    cols_fees_not_in_ledger, NCOLS(cols_fees_not_in_ledger) },
	{ "payouts", "Payouts", NULL, NULL, cols_payouts,
	    NCOLS(cols_payouts) },
	{ "ignored", "Ignored", NULL, NULL, cols_ignored,
	    NCOLS(cols_ignored) },
};

/* The text summary. */

static void
text_currency(struct buf *b, const json_t *cur)
{
	const char	*code = str(cur, "currency");
	const json_t	*sales = json_object_get(cur, "sales");
	const json_t	*refunds = json_object_get(cur, "refunds");
	const json_t	*disputes = json_object_get(cur, "disputes");
	const json_t	*base = json_object_get(cur, "baseline");
	const json_t	*rb, *db;

	buf_puts(b, "  ");
	text_str(b, code);
	buf_puts(b, ": ");
	buf_count(b, json_object_get(sales, "count"), "sale", "sales");
	buf_puts(b, " ");
	buf_money(b, json_object_get(sales, "amount"), code, 1, 0);
	buf_puts(b, ", ");
	buf_count(b, json_object_get(refunds, "count"), "refund", "refunds");
	buf_puts(b, " ");
	buf_money(b, json_object_get(refunds, "amount"), code, 1, 0);
	buf_puts(b, " (");
	buf_pct(b, rate(cur, "refund_rate"));
	buf_puts(b, "), ");
	buf_count(b, json_object_get(disputes, "count"), "dispute",
	    "disputes");
	buf_puts(b, " ");
	buf_money(b, json_object_get(disputes, "amount"), code, 1, 0);
	buf_puts(b, " (");
	buf_pct(b, rate(cur, "dispute_rate"));
	buf_puts(b, ")\n");

	if (!json_is_object(base))
		return;
	rb = json_object_get(base, "refund_rate");
	db = json_object_get(base, "dispute_rate");
	buf_puts(b, "    baseline: refund rate ");
	buf_pct(b, rate(rb, "median"));
	buf_puts(b, ", threshold ");
	buf_pct(b, rate(rb, "threshold"));
	buf_puts(b, "; dispute rate ");
	buf_pct(b, rate(db, "median"));
	buf_puts(b, ", threshold ");
	buf_pct(b, rate(db, "threshold"));
	buf_puts(b, "\n");
}

static void
text_programme(struct buf *b, const json_t *p)
{
	buf_puts(b, "  programme ");
	text_str(b, str(p, "network"));
	buf_puts(b, " ");
	text_str(b, str(p, "programme"));
	buf_puts(b, " ");
	text_str(b, str(p, "month"));
	buf_puts(b, " ");
	text_str(b, str(p, "currency"));
	buf_puts(b, ": ");
	text_str(b, str(p, "status"));
	buf_puts(b, ", ");
	buf_int(b, json_object_get(p, "disputes"));
	buf_puts(b, "/");
	buf_int(b, json_object_get(p, "transactions"));
	buf_puts(b, " disputes (");
	buf_pct(b, rate(p, "ratio"));
	buf_puts(b, "), limit ");
	buf_pct(b, rate(p, "threshold_ratio"));
	buf_puts(b, " and ");
	buf_int(b, json_object_get(p, "threshold_count"));
	buf_puts(b, "\n");
}

static void
text_settlement(struct buf *b, const json_t *s)
{
	const json_t	*list, *it;
	size_t		 i, j, n;
	int		 first = 1;

	if (!json_is_object(s)) {
		buf_puts(b, "  settlement: not checked\n");
		return;
	}
	buf_puts(b, "  settlement ");
	text_str(b, str(s, "file"));
	buf_puts(b, " (");
	text_str(b, str(s, "format"));
	buf_puts(b, ", ");
	buf_count(b, json_object_get(s, "lines"), "line", "lines");
	buf_puts(b, json_is_true(json_object_get(s, "clean")) ?
	    "): clean\n" : "): discrepancies\n");

	buf_puts(b, "    ");
	for (i = 0; i < NCOLS(settle_lists); i++) {
		if (settle_lists[i].one == NULL)
			continue;
		n = json_array_size(json_object_get(s, settle_lists[i].key));
		buf_printf(b, "%s%zu %s", first ? "" : ", ", n,
		    n == 1 ? settle_lists[i].one : settle_lists[i].many);
		first = 0;
	}
	buf_puts(b, "\n");

	list = json_object_get(s, "fees_not_in_ledger");
	for (j = 0; j < json_array_size(list); j++) {
		it = json_array_get(list, j);
		buf_puts(b, "    fees not in ledger: ");
		buf_money(b, json_object_get(it, "amount"),
		    str(it, "currency"), 1, 0);
		buf_puts(b, " (");
		buf_count(b, json_object_get(it, "lines"), "line", "lines");
		buf_puts(b, ")\n");
	}
	list = json_object_get(s, "payouts");
	for (j = 0; j < json_array_size(list); j++) {
		it = json_array_get(list, j);
		buf_puts(b, "    payout ");
		text_str(b, str(it, "payout"));
		buf_puts(b, ": net ");
		buf_money(b, json_object_get(it, "net"), str(it, "currency"),
		    1, 0);
		buf_puts(b, ", ledger ");
		buf_money(b, json_object_get(it, "ledger"),
		    str(it, "currency"), 1, 0);
		buf_puts(b, json_is_true(json_object_get(it, "matches")) ?
		    ", matches\n" : ", DIFFERS\n");
	}
	list = json_object_get(s, "ignored");
	for (j = 0; j < json_array_size(list); j++) {
		it = json_array_get(list, j);
		buf_puts(b, "    ignored: ");
		text_str(b, str(it, "category"));
		buf_puts(b, " (");
		buf_count(b, json_object_get(it, "lines"), "line", "lines");
		buf_puts(b, ")\n");
	}
}

/* The open exceptions; nothing for a report made before they were in
 * it. */
static void
text_exceptions(struct buf *b, const json_t *x)
{
	const json_t	*list, *g;
	size_t		 i;

	if (!json_is_object(x))
		return;
	buf_puts(b, "  open exceptions: ");
	if (json_integer_value(json_object_get(x, "open")) == 0) {
		buf_puts(b, "none (threshold ");
		buf_int(b, json_object_get(x, "threshold"));
		buf_puts(b, ")\n");
		return;
	}
	buf_int(b, json_object_get(x, "open"));
	buf_puts(b, " (threshold ");
	buf_int(b, json_object_get(x, "threshold"));
	buf_puts(b, "), the oldest recorded ");
	text_str(b, str(x, "oldest"));
	buf_puts(b, ", ");
	buf_count(b, json_object_get(x, "oldest_age_days"), "day", "days");
	buf_puts(b, " old\n");
	list = json_object_get(x, "by_reason");
	for (i = 0; i < json_array_size(list); i++) {
		g = json_array_get(list, i);
		buf_puts(b, "    ");
		text_str(b, str(g, "reason"));
		buf_puts(b, ": ");
		buf_int(b, json_object_get(g, "count"));
		buf_puts(b, ", ");
		buf_money(b, json_object_get(g, "amount"), str(g, "currency"),
		    1, 0);
		buf_puts(b, "\n");
	}
	list = json_object_get(x, "payments");
	for (i = 0; i < json_array_size(list); i++) {
		buf_puts(b, i == 0 ? "    first payments: " : ", ");
		text_str(b, json_string_value(json_array_get(list, i)));
	}
	if (json_array_size(list) > 0)
		buf_puts(b, "\n");
}

/* Events parked waiting for their capture; nothing when there are none
 * or the report predates the section. */
static void
text_parked(struct buf *b, const json_t *x)
{
	if (!json_is_object(x) ||
	    json_integer_value(json_object_get(x, "count")) <= 0)
		return;
	buf_puts(b, "  parked events: ");
	buf_int(b, json_object_get(x, "count"));
	buf_puts(b, ", the oldest received ");
	text_str(b, str(x, "oldest"));
	buf_puts(b, ", ");
	buf_count(b, json_object_get(x, "oldest_age_days"), "day", "days");
	buf_puts(b, " old\n");
}

static void
text_tenant(struct buf *b, const json_t *t)
{
	const json_t	*list = json_object_get(t, "currencies");
	const json_t	*day = json_object_get(t, "day");
	const json_t	*f;
	size_t		 i, nflags;

	nflags = json_array_size(json_object_get(t, "flags"));
	buf_puts(b, "tenant ");
	text_str(b, str(t, "tenant"));
	buf_puts(b, " (");
	text_str(b, str(t, "timezone"));
	buf_puts(b, ")");
	if (json_is_object(day)) {
		buf_puts(b, ", ");
		text_str(b, str(day, "from"));
		buf_puts(b, " to ");
		text_str(b, str(day, "to"));
	}
	if (nflags == 0)
		buf_puts(b, ": clean\n");
	else
		buf_printf(b, ": %zu flag%s\n", nflags, nflags == 1 ? "" : "s");

	for (i = 0; i < json_array_size(list); i++)
		text_currency(b, json_array_get(list, i));
	list = json_object_get(t, "flags");
	for (i = 0; i < json_array_size(list); i++) {
		f = json_array_get(list, i);
		buf_puts(b, "  ! ");
		text_str(b, str(f, "kind"));
		buf_puts(b, ": ");
		text_str(b, str(f, "message"));
		buf_puts(b, "\n");
	}
	text_exceptions(b, json_object_get(t, "exceptions"));
	text_parked(b, json_object_get(t, "parked"));
	list = json_object_get(t, "programmes");
	for (i = 0; i < json_array_size(list); i++)
		text_programme(b, json_array_get(list, i));
	text_settlement(b, json_object_get(t, "settlement"));
}

char *
report_text(const json_t *report)
{
	struct buf	 b = { NULL, 0, 0, 0 };
	const json_t	*tenants = json_object_get(report, "tenants");
	const json_t	*ledger = json_object_get(report, "ledger");
	size_t		 i, nflags = count_flags(report);

	buf_puts(&b, "hookledger reconciliation for ");
	text_str(&b, str(report, "date"));
	if (nflags == 0)
		buf_puts(&b, ": clean\n");
	else
		buf_printf(&b, ": %zu flag%s\n", nflags, nflags == 1 ? "" :
		    "s");
	if (json_is_object(ledger)) {
		buf_puts(&b, "ledger: ");
		buf_count(&b, json_object_get(ledger, "entries"), "entry",
		    "entries");
		buf_puts(&b, ", head ");
		buf_int(&b, json_object_get(ledger, "head_seq"));
		buf_puts(&b, " ");
		text_str(&b, str(ledger, "head_hash"));
		buf_puts(&b, "\n");
	}
	for (i = 0; i < json_array_size(tenants); i++) {
		buf_puts(&b, "\n");
		text_tenant(&b, json_array_get(tenants, i));
	}
	return buf_finish(&b);
}

void
report_summary(const json_t *report, char *out, size_t cap)
{
	struct buf	 b = { NULL, 0, 0, 0 };
	const json_t	*tenants = json_object_get(report, "tenants");
	const json_t	*t, *flags;
	size_t		 i, j, nflags = count_flags(report);
	int		 first = 1;

	if (cap == 0)
		return;
	buf_puts(&b, "hookledger reconciliation for ");
	text_str(&b, str(report, "date"));
	if (nflags == 0)
		buf_puts(&b, ": clean");
	else
		buf_printf(&b, ": %zu flag%s (", nflags, nflags == 1 ? "" :
		    "s");
	for (i = 0; nflags > 0 && i < json_array_size(tenants); i++) {
		t = json_array_get(tenants, i);
		flags = json_object_get(t, "flags");
		if (json_array_size(flags) == 0)
			continue;
		buf_puts(&b, first ? "" : "; ");
		first = 0;
		text_str(&b, str(t, "tenant"));
		buf_puts(&b, ":");
		for (j = 0; j < json_array_size(flags); j++) {
			buf_puts(&b, j == 0 ? " " : ", ");
			text_str(&b, str(json_array_get(flags, j), "kind"));
		}
	}
	if (nflags > 0)
		buf_puts(&b, ")");
	if (b.failed || b.s == NULL)
		snprintf(out, cap, "hookledger reconciliation: flagged");
	else if (b.len < cap)
		memcpy(out, b.s, b.len + 1);
	else if (cap > 4)
		snprintf(out, cap, "%.*s...", (int)(cap - 4), b.s);
	else
		out[0] = '\0';
	free(b.s);
}

/* The page. */

static const char html_head[] =
"<!doctype html>\n"
"<html lang=\"en\">\n"
"<head>\n"
"<meta charset=\"utf-8\">\n"
"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'; img-src data:\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<meta name=\"referrer\" content=\"no-referrer\">\n";

static const char html_style[] =
"<style>\n"
"body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",sans-serif;"
    "color:#1b1f23;background:#fff;max-width:72em;margin:1.5em auto;"
    "padding:0 1em}\n"
"h1{font-size:1.45em;margin:.2em 0}\n"
"h2{font-size:1.25em;margin:2em 0 .3em;padding-bottom:.2em;"
    "border-bottom:2px solid #d0d7de}\n"
"h3{font-size:1.05em;margin:1.4em 0 .4em}\n"
"h4{font-size:.95em;margin:1em 0 .3em}\n"
".muted,.tz{color:#57606a;font-weight:normal}\n"
".status{display:inline-block;font-weight:bold;padding:.2em .6em;"
    "border-radius:3px}\n"
".flagged{background:#ffebe9;color:#82071e}\n"
".clean{background:#dafbe1;color:#116329}\n"
"table{border-collapse:collapse;margin:.3em 0 .8em}\n"
"th,td{border:1px solid #d0d7de;padding:.2em .55em;text-align:left;"
    "vertical-align:top}\n"
"thead th{background:#f6f8fa}\n"
"td.n{text-align:right;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}\n"
"td.d{white-space:nowrap}\n"
".src{font-size:.85em;color:#57606a}\n"
".wide{overflow-x:auto}\n"
"tr.hot td,tr.hot th{background:#ffebe9}\n"
"ul.flags{list-style:none;padding:0;margin:.3em 0}\n"
"ul.flags li{background:#fff8c5;border-left:4px solid #bf8700;"
    "margin:.3em 0;padding:.35em .7em}\n"
".kind{font-family:ui-monospace,monospace;font-weight:bold}\n"
".st-warning{background:#fff8c5;font-weight:bold}\n"
".st-breach{background:#ffebe9;color:#82071e;font-weight:bold}\n"
".no{color:#82071e;font-weight:bold}\n"
"code{font-family:ui-monospace,monospace;font-size:.92em}\n"
".charts{display:flex;flex-wrap:wrap;gap:0 1.5em}\n"
"figure{margin:.3em 0 .8em}\n"
"figcaption{font-size:.85em;color:#57606a;max-width:640px}\n"
"svg.chart{display:block;max-width:100%;height:auto}\n"
"svg .axis{stroke:#57606a;stroke-width:1}\n"
"svg .grid{stroke:#eaeef2;stroke-width:1}\n"
"svg .line{fill:none;stroke:#0969da;stroke-width:1.5}\n"
"svg .thr{stroke:#cf222e;stroke-width:1;stroke-dasharray:6 4}\n"
"svg .wk{fill:#fff;stroke:#0969da;stroke-width:1.2}\n"
"svg .today{fill:#0969da;stroke:#fff;stroke-width:1}\n"
"svg .hot{fill:#cf222e}\n"
"svg text{font:11px system-ui,sans-serif;fill:#57606a}\n"
"svg text.thrlab{fill:#cf222e}\n"
"svg text.val{fill:#1b1f23;font-weight:bold}\n"
"footer{margin-top:3em;font-size:.85em;color:#57606a}\n"
"</style>\n";

/* "YYYY-MM-DD" as days since 1970-01-01 (the proleptic Gregorian
 * calendar; H. Hinnant's days_from_civil). Returns 0, or -1 when s is not
 * such a date. */
static int
parse_day(const char *s, long *out)
{
	long	 y, m, d, era, yoe, doy, doe;
	int	 i;

	if (s == NULL || strlen(s) != 10)
		return -1;
	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*out = era * 146097 + doe - 719468;
	return 0;
}

/* A coordinate, one decimal. */
static void
buf_coord(struct buf *b, double v)
{
	char	 s[48];

	fmt_fixed(s, sizeof(s), v, 1);
	buf_puts(b, s);
}

/* A percentage for an axis label: "0.25%", "2.5%", "10%". */
static void
buf_pct_short(struct buf *b, double pct)
{
	char	 s[48];
	size_t	 n;

	fmt_fixed(s, sizeof(s), pct, 2);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '0')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	buf_puts(b, s);
	buf_puts(b, "%");
}

/* The top of the y axis: the first of 1, 2, 5, 10, 20, 50... (percent)
 * at or above pct, and how many intervals make round ticks of it. The
 * bottom is 1%, so that a day of no refunds at all still draws an axis
 * and nothing is divided by zero. */
static double
axis_top(double pct, int *intervals)
{
	double	 m = 1.0;
	int	 e;

	for (e = 0; e < 7; e++) {	/* m = 10^e up to 10^6 */
		if (pct <= m) {
			*intervals = 4;
			return m;
		}
		if (pct <= 2.0 * m) {
			*intervals = 4;
			return 2.0 * m;
		}
		if (pct <= 5.0 * m) {
			*intervals = 5;
			return 5.0 * m;
		}
		m *= 10.0;
	}
	*intervals = 4;
	return m;
}

static double
chart_x(size_t i, size_t npoints)
{
	if (npoints < 2)
		return CH_X1;
	return CH_X0 + (CH_X1 - CH_X0) * (double)i / (double)(npoints - 1);
}

static double
chart_y(double ratio, double top)
{
	return CH_Y1 - (CH_Y1 - CH_Y0) * (ratio * 100.0 / top);
}

/*
 * One chart: the daily rate `key` ("refund_rate" or "dispute_rate") over
 * the history and the report's date, with the baseline's threshold as a
 * dashed line. The days that the baseline was computed from (the same
 * weekday as the date) are drawn as rings, the date itself as a dot, red
 * when it is above the threshold.
 */
static void
html_chart(struct buf *b, const json_t *cur, const char *key,
    const char *title, const char *date)
{
	const json_t	*hist = json_object_get(cur, "history");
	const json_t	*base;
	const char	*first;
	size_t		 i, n = json_array_size(hist), npoints = n + 1;
	double		 v, today = rate(cur, key), top, thr = 0.0, max;
	long		 dnum, hnum;
	int		 has_thr, has_date, k, intervals;

	base = json_object_get(json_object_get(cur, "baseline"), key);
	if ((has_thr = json_is_number(json_object_get(base, "threshold"))))
		thr = rate(base, "threshold");
	has_date = parse_day(date, &dnum) == 0;

	max = today > thr ? today : thr;
	for (i = 0; i < n; i++) {
		v = rate(json_array_get(hist, i), key);
		if (v > max)
			max = v;
	}
	/* A tenth of headroom above the highest point. */
	top = axis_top(max * 100.0 * 1.1, &intervals);

	buf_printf(b, "<figure>\n<svg class=\"chart\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", CH_W, CH_H,
	    CH_W, CH_H);
	buf_puts(b, "<title>");
	html_str(b, str(cur, "currency"));
	buf_puts(b, " ");
	buf_puts(b, title);
	buf_puts(b, " per day</title>\n");

	for (k = 0; k <= intervals; k++) {
		v = top * k / intervals;
		buf_puts(b, "<line class=\"grid\" x1=\"");
		buf_coord(b, CH_X0);
		buf_puts(b, "\" y1=\"");
		buf_coord(b, chart_y(v / 100.0, top));
		buf_puts(b, "\" x2=\"");
		buf_coord(b, CH_X1);
		buf_puts(b, "\" y2=\"");
		buf_coord(b, chart_y(v / 100.0, top));
		buf_puts(b, "\"/><text x=\"");
		buf_coord(b, CH_X0 - 6.0);
		buf_puts(b, "\" y=\"");
		buf_coord(b, chart_y(v / 100.0, top) + 4.0);
		buf_puts(b, "\" text-anchor=\"end\">");
		buf_pct_short(b, v);
		buf_puts(b, "</text>\n");
	}
	buf_puts(b, "<line class=\"axis\" x1=\"");
	buf_coord(b, CH_X0);
	buf_puts(b, "\" y1=\"");
	buf_coord(b, CH_Y0);
	buf_puts(b, "\" x2=\"");
	buf_coord(b, CH_X0);
	buf_puts(b, "\" y2=\"");
	buf_coord(b, CH_Y1);
	buf_puts(b, "\"/>\n<line class=\"axis\" x1=\"");
	buf_coord(b, CH_X0);
	buf_puts(b, "\" y1=\"");
	buf_coord(b, CH_Y1);
	buf_puts(b, "\" x2=\"");
	buf_coord(b, CH_X1);
	buf_puts(b, "\" y2=\"");
	buf_coord(b, CH_Y1);
	buf_puts(b, "\"/>\n");

	/* The first and the last day under the x axis. */
	first = n > 0 ? str(json_array_get(hist, 0), "date") : NULL;
	if (first != NULL) {
		buf_puts(b, "<text x=\"");
		buf_coord(b, CH_X0);
		buf_puts(b, "\" y=\"");
		buf_coord(b, CH_Y1 + 18.0);
		buf_puts(b, "\" text-anchor=\"start\">");
		html_str(b, first);
		buf_puts(b, "</text>\n");
	}
	buf_puts(b, "<text x=\"");
	buf_coord(b, CH_X1);
	buf_puts(b, "\" y=\"");
	buf_coord(b, CH_Y1 + 18.0);
	buf_puts(b, "\" text-anchor=\"end\">");
	html_str(b, date);
	buf_puts(b, "</text>\n");

	if (has_thr) {
		buf_puts(b, "<line class=\"thr\" x1=\"");
		buf_coord(b, CH_X0);
		buf_puts(b, "\" y1=\"");
		buf_coord(b, chart_y(thr, top));
		buf_puts(b, "\" x2=\"");
		buf_coord(b, CH_X1);
		buf_puts(b, "\" y2=\"");
		buf_coord(b, chart_y(thr, top));
		buf_puts(b, "\"/><text class=\"thrlab\" x=\"");
		buf_coord(b, CH_X0 + 4.0);
		buf_puts(b, "\" y=\"");
		buf_coord(b, chart_y(thr, top) - 4.0);
		buf_puts(b, "\">threshold ");
		buf_pct(b, thr);
		buf_puts(b, "</text>\n");
	}

	buf_puts(b, "<polyline class=\"line\" points=\"");
	for (i = 0; i < npoints; i++) {
		v = i < n ? rate(json_array_get(hist, i), key) : today;
		if (i > 0)
			buf_puts(b, " ");
		buf_coord(b, chart_x(i, npoints));
		buf_puts(b, ",");
		buf_coord(b, chart_y(v, top));
	}
	buf_puts(b, "\"/>\n");

	for (i = 0; has_date && i < n; i++) {
		if (parse_day(str(json_array_get(hist, i), "date"), &hnum) ==
		    -1 || hnum >= dnum || (dnum - hnum) % 7 != 0)
			continue;
		buf_puts(b, "<circle class=\"wk\" cx=\"");
		buf_coord(b, chart_x(i, npoints));
		buf_puts(b, "\" cy=\"");
		buf_coord(b, chart_y(rate(json_array_get(hist, i), key), top));
		buf_puts(b, "\" r=\"2.5\"/>\n");
	}
	buf_puts(b, has_thr && today > thr ? "<circle class=\"today hot\" "
	    "cx=\"" : "<circle class=\"today\" cx=\"");
	buf_coord(b, chart_x(n, npoints));
	buf_puts(b, "\" cy=\"");
	buf_coord(b, chart_y(today, top));
	buf_puts(b, "\" r=\"4.5\"/><text class=\"val\" x=\"");
	buf_coord(b, chart_x(n, npoints) - 8.0);
	buf_puts(b, "\" y=\"");
	buf_coord(b, chart_y(today, top) < CH_Y0 + 14.0 ?
	    chart_y(today, top) + 16.0 : chart_y(today, top) - 8.0);
	buf_puts(b, "\" text-anchor=\"end\">");
	buf_pct(b, today);
	buf_puts(b, "</text>\n</svg>\n<figcaption>");
	html_str(b, str(cur, "currency"));
	buf_puts(b, " ");
	buf_puts(b, title);
	buf_puts(b, " per day, in percent of sales, over the ");
	buf_printf(b, "%zu", n);
	buf_puts(b, n == 1 ? " day" : " days");
	buf_puts(b, " before ");
	html_str(b, date);
	buf_puts(b, " and on it (the dot). Rings: the same weekday, from "
	    "which the baseline is computed");
	if (has_thr)
		buf_puts(b, "; dashed: the threshold");
	buf_puts(b, ".</figcaption>\n</figure>\n");
}

static void
td_text(struct buf *b, const char *s)
{
	buf_puts(b, "<td>");
	html_str(b, s);
	buf_puts(b, "</td>");
}

static void
td_date(struct buf *b, const char *s)
{
	buf_puts(b, "<td class=\"d\">");
	html_str(b, s);
	buf_puts(b, "</td>");
}

static void
td_int(struct buf *b, const json_t *v)
{
	buf_puts(b, "<td class=\"n\">");
	if (json_is_integer(v))
		buf_int(b, v);
	buf_puts(b, "</td>");
}

static void
td_pct(struct buf *b, const json_t *o, const char *key)
{
	buf_puts(b, "<td class=\"n\">");
	if (json_is_number(json_object_get(o, key)))
		buf_pct(b, rate(o, key));
	buf_puts(b, "</td>");
}

/* Whether flags has one of kind for currency code. */
static int
has_flag(const json_t *flags, const char *kind, const char *code)
{
	const json_t	*f;
	const char	*k, *c;
	size_t		 i;

	for (i = 0; i < json_array_size(flags); i++) {
		f = json_array_get(flags, i);
		k = str(f, "kind");
		c = str(f, "currency");
		if (k != NULL && c != NULL && code != NULL &&
		    strcmp(k, kind) == 0 && strcmp(c, code) == 0)
			return 1;
	}
	return 0;
}

/* A row of the summary table, highlighted when the tenant's flags have
 * flag_kind for the currency. */
static void
html_summary_row(struct buf *b, const char *label, const json_t *cur,
    const char *what, const char *key, const char *flag_kind,
    const json_t *flags)
{
	const json_t	*m = json_object_get(cur, what);
	const json_t	*base = NULL;

	if (key != NULL)
		base = json_object_get(json_object_get(cur, "baseline"), key);

	if (flag_kind != NULL && has_flag(flags, flag_kind,
	    str(cur, "currency")))
		buf_puts(b, "<tr class=\"hot\">");
	else
		buf_puts(b, "<tr>");
	buf_puts(b, "<th>");
	buf_puts(b, label);
	buf_puts(b, "</th>");
	td_int(b, json_object_get(m, "count"));
	buf_puts(b, "<td class=\"n\">");
	buf_money(b, json_object_get(m, "amount"), str(cur, "currency"), 1, 1);
	buf_puts(b, "</td>");
	if (key == NULL) {
		buf_puts(b, "<td></td><td></td><td></td><td></td></tr>\n");
		return;
	}
	td_pct(b, cur, key);
	td_pct(b, base, "median");
	td_pct(b, base, "mad");
	td_pct(b, base, "threshold");
	buf_puts(b, "</tr>\n");
}

static void
html_currency(struct buf *b, const json_t *cur, const json_t *flags,
    const char *date)
{
	buf_puts(b, "<h3>");
	html_str(b, str(cur, "currency"));
	buf_puts(b, "</h3>\n<table class=\"summary\">\n<thead><tr><th></th>"
	    "<th>Count</th><th>Amount</th><th>Rate</th><th>Baseline median"
	    "</th><th>MAD</th><th>Threshold</th></tr></thead>\n<tbody>\n");
	html_summary_row(b, "Sales", cur, "sales", NULL, NULL, flags);
	html_summary_row(b, "Refunds", cur, "refunds", "refund_rate",
	    "refund_spike", flags);
	html_summary_row(b, "Disputes", cur, "disputes", "dispute_rate",
	    "dispute_spike", flags);
	buf_puts(b, "</tbody>\n</table>\n<div class=\"charts\">\n");
	html_chart(b, cur, "refund_rate", "refund rate", date);
	html_chart(b, cur, "dispute_rate", "dispute rate", date);
	buf_puts(b, "</div>\n");
}

static void
html_flags(struct buf *b, const json_t *flags)
{
	const json_t	*f;
	size_t		 i;

	buf_puts(b, "<h3>Flags</h3>\n");
	if (json_array_size(flags) == 0) {
		buf_puts(b, "<p><span class=\"status clean\">No flags</span>"
		    "</p>\n");
		return;
	}
	buf_puts(b, "<ul class=\"flags\">\n");
	for (i = 0; i < json_array_size(flags); i++) {
		f = json_array_get(flags, i);
		buf_puts(b, "<li><span class=\"kind\">");
		html_str(b, str(f, "kind"));
		buf_puts(b, "</span>");
		if (str(f, "currency") != NULL) {
			buf_puts(b, " <span class=\"muted\">");
			html_str(b, str(f, "currency"));
			buf_puts(b, "</span>");
		}
		if (str(f, "payment") != NULL) {
			buf_puts(b, " <code>");
			html_str(b, str(f, "payment"));
			buf_puts(b, "</code>");
		}
		buf_puts(b, ": ");
		html_str(b, str(f, "message"));
		buf_puts(b, "</li>\n");
	}
	buf_puts(b, "</ul>\n");
}

static void
html_programmes(struct buf *b, const json_t *list)
{
	const json_t	*p;
	const char	*st;
	size_t		 i;

	if (json_array_size(list) == 0)
		return;
	buf_puts(b, "<h3>Card-network programmes</h3>\n<div class=\"wide\">"
	    "<table>\n<thead><tr><th>Network</th><th>Programme</th>"
	    "<th>Month</th><th>Currency</th><th>Disputes</th>"
	    "<th>Transactions</th><th>Ratio</th><th>Threshold</th>"
	    "<th>Status</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < json_array_size(list); i++) {
		p = json_array_get(list, i);
		buf_puts(b, "<tr>");
		td_text(b, str(p, "network"));
		buf_puts(b, "<td>");
		html_str(b, str(p, "programme"));
		buf_puts(b, "<div class=\"src\">");
		html_str(b, str(p, "source"));
		if (str(p, "effective") != NULL) {
			buf_puts(b, ", effective ");
			html_str(b, str(p, "effective"));
		}
		buf_puts(b, "</div></td>");
		td_date(b, str(p, "month"));
		td_text(b, str(p, "currency"));
		td_int(b, json_object_get(p, "disputes"));
		td_int(b, json_object_get(p, "transactions"));
		td_pct(b, p, "ratio");
		buf_puts(b, "<td class=\"n\">");
		buf_pct(b, rate(p, "threshold_ratio"));
		buf_puts(b, " and ");
		buf_int(b, json_object_get(p, "threshold_count"));
		buf_puts(b, "</td>");
		/* The class comes from a fixed list, never from the report. */
		st = str(p, "status");
		if (st != NULL && strcmp(st, "warning") == 0)
			buf_puts(b, "<td class=\"st-warning\">");
		else if (st != NULL && strcmp(st, "breach") == 0)
			buf_puts(b, "<td class=\"st-breach\">");
		else
			buf_puts(b, "<td>");
		html_str(b, st);
		buf_puts(b, "</td>");
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody>\n</table></div>\n");
}

static void
html_cell(struct buf *b, const json_t *row, const struct col *c)
{
	const json_t	*v = json_object_get(row, c->key);

	if (json_is_integer(v)) {
		buf_puts(b, "<td class=\"n\">");
		if (c->kind == COL_AMOUNT && lookup(str(row, "currency")) !=
		    NULL)
			buf_money(b, v, str(row, "currency"), 0, 1);
		else
			buf_int(b, v);
		buf_puts(b, "</td>");
	} else if (json_is_string(v))
		td_text(b, json_string_value(v));
	else if (json_is_true(v))
		buf_puts(b, "<td>yes</td>");
	else if (json_is_false(v))
		buf_puts(b, c->kind == COL_MATCH ?
		    "<td><span class=\"no\">no</span></td>" : "<td>no</td>");
	else
		buf_puts(b, "<td></td>");
}

static void
html_settlement(struct buf *b, const json_t *s)
{
	const struct list_spec	*ls;
	const json_t		*list;
	size_t			 i, j, k;

	buf_puts(b, "<h3>Settlement</h3>\n");
	if (!json_is_object(s)) {
		buf_puts(b, "<p class=\"muted\">Not checked: no settlement "
		    "file was given.</p>\n");
		return;
	}
	buf_puts(b, "<p>File <code>");
	html_str(b, str(s, "file"));
	buf_puts(b, "</code>, format <code>");
	html_str(b, str(s, "format"));
	buf_puts(b, "</code>, ");
	buf_count(b, json_object_get(s, "lines"), "line", "lines");
	buf_puts(b, json_is_true(json_object_get(s, "clean")) ?
	    ": <span class=\"status clean\">clean</span></p>\n" :
	    ": <span class=\"status flagged\">discrepancies</span></p>\n");
	for (i = 0; i < NCOLS(settle_lists); i++) {
		ls = &settle_lists[i];
		list = json_object_get(s, ls->key);
		buf_puts(b, "<h4>");
		buf_puts(b, ls->title);
		buf_printf(b, " (%zu)</h4>\n", json_array_size(list));
		if (json_array_size(list) == 0) {
			buf_puts(b, "<p class=\"muted\">None.</p>\n");
			continue;
		}
		buf_puts(b, "<div class=\"wide\"><table>\n<thead><tr>");
		for (k = 0; k < ls->ncols; k++) {
			buf_puts(b, "<th>");
			buf_puts(b, ls->cols[k].label);
			buf_puts(b, "</th>");
		}
		buf_puts(b, "</tr></thead>\n<tbody>\n");
		for (j = 0; j < json_array_size(list); j++) {
			buf_puts(b, "<tr>");
			for (k = 0; k < ls->ncols; k++)
				html_cell(b, json_array_get(list, j),
				    &ls->cols[k]);
			buf_puts(b, "</tr>\n");
		}
		buf_puts(b, "</tbody>\n</table></div>\n");
	}
}

static void
html_exceptions(struct buf *b, const json_t *x)
{
	const json_t	*list, *g;
	size_t		 i;

	if (!json_is_object(x))
		return;
	buf_puts(b, "<h3>Open exceptions</h3>\n");
	if (json_integer_value(json_object_get(x, "open")) == 0) {
		buf_puts(b, "<p class=\"muted\">None (threshold ");
		buf_int(b, json_object_get(x, "threshold"));
		buf_puts(b, ").</p>\n");
		return;
	}
	buf_puts(b, "<p>");
	buf_int(b, json_object_get(x, "open"));
	buf_puts(b, " open (threshold ");
	buf_int(b, json_object_get(x, "threshold"));
	buf_puts(b, "); the oldest recorded ");
	html_str(b, str(x, "oldest"));
	buf_puts(b, ", ");
	buf_count(b, json_object_get(x, "oldest_age_days"), "day", "days");
	buf_puts(b, " old. <span class=\"muted\">Listed by <code>hookledger "
	    "exceptions</code>.</span></p>\n<table>\n<thead><tr><th>Currency"
	    "</th><th>Reason</th><th>Count</th><th>Amount</th></tr></thead>\n"
	    "<tbody>\n");
	list = json_object_get(x, "by_reason");
	for (i = 0; i < json_array_size(list); i++) {
		g = json_array_get(list, i);
		buf_puts(b, "<tr class=\"hot\">");
		td_text(b, str(g, "currency"));
		td_text(b, str(g, "reason"));
		td_int(b, json_object_get(g, "count"));
		buf_puts(b, "<td class=\"n\">");
		buf_money(b, json_object_get(g, "amount"), str(g, "currency"),
		    0, 1);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody>\n</table>\n");
	list = json_object_get(x, "payments");
	for (i = 0; i < json_array_size(list); i++) {
		buf_puts(b, i == 0 ? "<p>First payments: <code>" :
		    "</code>, <code>");
		html_str(b, json_string_value(json_array_get(list, i)));
	}
	if (json_array_size(list) > 0)
		buf_puts(b, "</code></p>\n");
}

static void
html_parked(struct buf *b, const json_t *x)
{
	if (!json_is_object(x) ||
	    json_integer_value(json_object_get(x, "count")) <= 0)
		return;
	buf_puts(b, "<h3>Parked events</h3>\n<p>");
	buf_int(b, json_object_get(x, "count"));
	buf_puts(b, " waiting for their payment's capture; the oldest received ");
	html_str(b, str(x, "oldest"));
	buf_puts(b, ", ");
	buf_count(b, json_object_get(x, "oldest_age_days"), "day", "days");
	buf_puts(b, " old. <span class=\"muted\">Listed by <code>hookledger "
	    "exceptions</code>.</span></p>\n");
}

static void
html_tenant(struct buf *b, const json_t *t, const char *date)
{
	const json_t	*list = json_object_get(t, "currencies");
	const json_t	*day = json_object_get(t, "day");
	size_t		 i, nflags;

	nflags = json_array_size(json_object_get(t, "flags"));
	buf_puts(b, "<section class=\"tenant\">\n<h2>");
	html_str(b, str(t, "tenant"));
	buf_puts(b, " <span class=\"tz\">");
	html_str(b, str(t, "timezone"));
	buf_puts(b, "</span> ");
	if (nflags == 0)
		buf_puts(b, "<span class=\"status clean\">clean</span>");
	else
		buf_printf(b, "<span class=\"status flagged\">%zu flag%s"
		    "</span>", nflags, nflags == 1 ? "" : "s");
	buf_puts(b, "</h2>\n");
	if (json_is_object(day)) {
		buf_puts(b, "<p class=\"muted\">From ");
		html_str(b, str(day, "from"));
		buf_puts(b, " to ");
		html_str(b, str(day, "to"));
		buf_puts(b, "</p>\n");
	}
	html_flags(b, json_object_get(t, "flags"));
	for (i = 0; i < json_array_size(list); i++)
		html_currency(b, json_array_get(list, i),
		    json_object_get(t, "flags"), date);
	html_exceptions(b, json_object_get(t, "exceptions"));
	html_parked(b, json_object_get(t, "parked"));
	html_programmes(b, json_object_get(t, "programmes"));
	html_settlement(b, json_object_get(t, "settlement"));
	buf_puts(b, "</section>\n");
}

char *
report_html(const json_t *report)
{
	struct buf	 b = { NULL, 0, 0, 0 };
	const json_t	*tenants = json_object_get(report, "tenants");
	const json_t	*ledger = json_object_get(report, "ledger");
	const char	*date = str(report, "date");
	size_t		 i, nflags = count_flags(report);

	buf_puts(&b, html_head);
	buf_puts(&b, "<title>hookledger reconciliation for ");
	html_str(&b, date);
	buf_puts(&b, "</title>\n");
	buf_puts(&b, html_style);
	buf_puts(&b, "</head>\n<body>\n<h1>hookledger reconciliation for ");
	html_str(&b, date);
	buf_puts(&b, "</h1>\n<p>");
	if (nflags == 0)
		buf_puts(&b, "<span class=\"status clean\">clean</span>");
	else
		buf_printf(&b, "<span class=\"status flagged\">%zu flag%s"
		    "</span>", nflags, nflags == 1 ? "" : "s");
	buf_puts(&b, "</p>\n");
	if (json_is_object(ledger)) {
		buf_puts(&b, "<p class=\"muted\">Ledger: ");
		buf_count(&b, json_object_get(ledger, "entries"), "entry",
		    "entries");
		buf_puts(&b, ", head ");
		buf_int(&b, json_object_get(ledger, "head_seq"));
		buf_puts(&b, " <code>");
		html_str(&b, str(ledger, "head_hash"));
		buf_puts(&b, "</code></p>\n");
	}
	for (i = 0; i < json_array_size(tenants); i++)
		html_tenant(&b, json_array_get(tenants, i), date);
	buf_puts(&b, "<footer>");
	html_str(&b, str(report, "report"));
	buf_puts(&b, "</footer>\n</body>\n</html>\n");
	return buf_finish(&b);
}

/* Writing the files. */

static void
seterr(char *err, size_t errlen, const char *path, int errnum)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errnum));
}

/*
 * Write len bytes to path through path.tmp, synced before the rename so
 * that a crash leaves either the old file or the whole new one.
 * O_NOFOLLOW: the directory may be shared, and a symbolic link planted at
 * the temporary name must not redirect the write.
 */
static int
write_file(const char *path, const char *data, size_t len, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX];
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd = -1, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		seterr(err, errlen, path, ENAMETOOLONG);
		return -1;
	}
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd == -1) {
		seterr(err, errlen, tmp, errno);
		return -1;
	}
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	e = close(fd);
	fd = -1;
	if (e == -1)
		goto fail;
	if (rename(tmp, path) == -1) {
		e = errno;
		unlink(tmp);
		seterr(err, errlen, path, e);
		return -1;
	}
	return 0;

fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	seterr(err, errlen, tmp, e);
	return -1;
}

/* "YYYY-MM-DD", digits and dashes only: the date becomes part of a file
 * name. */
static int
date_valid(const char *s)
{
	long	 d;

	return parse_day(s, &d) == 0;
}

int
report_write(const json_t *report, const char *dir, char *html_path,
    size_t cap, char *err, size_t errlen)
{
	static const char *const ext[3] = { "json", "txt", "html" };
	char		*body[3] = { NULL, NULL, NULL };
	char		 path[3][PATH_MAX];
	const char	*date = str(report, "date");
	const char	*scope = "all";
	const json_t	*sc = json_object_get(report, "scope");
	char		*js;
	size_t		 n;
	int		 i, fd, rc = -1;

	if (!date_valid(date)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: the report has no valid "
			    "date", dir);
		return -1;
	}
	if (sc != NULL && !json_is_null(sc)) {
		scope = json_string_value(sc);
		if (scope == NULL || !config_name_valid(scope,
		    strlen(scope))) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s: the report's scope "
				    "is not a tenant name", dir);
			return -1;
		}
	}
	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(path[i], sizeof(path[i]),
		    "%s/reconcile-%s-%s.%s", dir, date, scope, ext[i]) >=
		    sizeof(path[i]) - 4) {
			seterr(err, errlen, dir, ENAMETOOLONG);
			return -1;
		}
	}
	if (html_path != NULL && strlen(path[2]) >= cap) {
		seterr(err, errlen, path[2], ENAMETOOLONG);
		return -1;
	}

	/* Render all three before writing any, so that running out of
	 * memory leaves no partial set behind. */
	if ((js = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
	    != NULL) {
		n = strlen(js);
		if ((body[0] = malloc(n + 2)) != NULL) {
			memcpy(body[0], js, n);
			body[0][n] = '\n';
			body[0][n + 1] = '\0';
		}
		free(js);
	}
	if (body[0] == NULL || (body[1] = report_text(report)) == NULL ||
	    (body[2] = report_html(report)) == NULL) {
		seterr(err, errlen, dir, ENOMEM);
		goto fail;
	}

	for (i = 0; i < 3; i++)
		if (write_file(path[i], body[i], strlen(body[i]), err,
		    errlen) == -1)
			goto fail;
	/* The renames are durable once the directory is. Some file systems
	 * cannot sync a directory (EINVAL); nothing more can be done there. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		seterr(err, errlen, dir, errno);
		goto fail;
	}
	if (fsync(fd) == -1 && errno != EINVAL) {
		seterr(err, errlen, dir, errno);
		close(fd);
		goto fail;
	}
	close(fd);
	if (html_path != NULL)
		memcpy(html_path, path[2], strlen(path[2]) + 1);
	rc = 0;

fail:
	for (i = 0; i < 3; i++)
		free(body[i]);
	return rc;
}
