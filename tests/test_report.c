/*
 * test_report: the reconciliation report as text and as a page, from the
 * hand-written report in tests/fixtures/reconcile/report.json (found
 * through HL_TOP_SRCDIR), and the three files report_write() leaves.
 *
 * Money must come out of the integer minor units exactly, every string
 * from the report must be escaped in the page, the page must load nothing
 * and run nothing, and two renderings of one report must be the same
 * bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "report.h"

#define DATE		"2026-12-02"
#define ALERT_LINE	1024
#define CSP		"<meta http-equiv=\"Content-Security-Policy\" " \
	"content=\"default-src 'none'; style-src 'unsafe-inline'; " \
	"img-src data:\">"

static json_t *
fixture(void)
{
	const char	*top = getenv("HL_TOP_SRCDIR");
	char		 path[4096];
	json_error_t	 e;
	json_t		*r;

	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(path, sizeof(path), "%s/tests/fixtures/reconcile/report.json",
	    top);
	r = json_load_file(path, 0, &e);
	ck_assert_msg(r != NULL, "%s:%d: %s", path, e.line, e.text);
	return r;
}

/* Whether text has line as one whole line. */
static int
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

static size_t
count(const char *s, const char *needle)
{
	size_t	 n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* Whether s has word (any case) standing alone, not inside a longer
 * word: "nan" and "-nan" count, "tenant" does not. */
static int
has_word(const char *s, const char *word)
{
	const char	*p = s;
	size_t		 n = strlen(word);

	while ((p = strcasestr(p, word)) != NULL) {
		if ((p == s || !isalpha((unsigned char)p[-1])) &&
		    !isalpha((unsigned char)p[n]))
			return 1;
		p++;
	}
	return 0;
}

static int
has_nonfinite(const char *s)
{
	return has_word(s, "nan") || has_word(s, "inf") ||
	    has_word(s, "infinity");
}

/* Whether every coordinate attribute in the page is a plain decimal
 * number (and every points list a list of them). */
static int
coords_ok(const char *html)
{
	static const char *const attrs[] = { " x=\"", " y=\"", " cx=\"",
	    " cy=\"", " x1=\"", " y1=\"", " x2=\"", " y2=\"", " points=\"" };
	const char	*p;
	size_t		 i, n, seen = 0;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		for (p = html; (p = strstr(p, attrs[i])) != NULL; p += n) {
			p += strlen(attrs[i]);
			n = strspn(p, i == 8 ? "-0123456789., " :
			    "-0123456789.");
			if (n == 0 || p[n] != '"')
				return 0;
			seen++;
		}
	}
	return seen > 0;
}

/* Whether html has an attribute like onload= anywhere. */
static int
has_event_attr(const char *html)
{
	const char	*p = html;
	size_t		 n;

	while ((p = strcasestr(p, " on")) != NULL) {
		p += 3;
		for (n = 0; isalpha((unsigned char)p[n]); n++)
			;
		if (n > 0 && p[n] == '=')
			return 1;
	}
	return 0;
}

static char *
read_all(const char *path)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	size_t	 len;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	buf = malloc(1024 * 1024 + 1);
	ck_assert_ptr_nonnull(buf);
	len = fread(buf, 1, 1024 * 1024, f);
	ck_assert_msg(feof(f) && !ferror(f), "cannot read %s", path);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void
tmpdir(char *dir, size_t cap)
{
	const char	*t = getenv("TMPDIR");

	if (t == NULL || *t == '\0')
		t = "/tmp";
	snprintf(dir, cap, "%s/test_report.XXXXXX", t);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
cleanup(const char *dir, const char *scope)
{
	static const char *const ext[] = { "json", "txt", "html" };
	char	 path[4096];
	size_t	 i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/reconcile-%s-%s.%s", dir, DATE,
		    scope, ext[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/reconcile-%s-%s.%s.tmp", dir,
		    DATE, scope, ext[i]);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

/*
 * A report with one tenant and one currency whose sales amount is amount
 * (any JSON value) in code, with the given rates and history.
 */
static json_t *
one_currency(const char *code, json_t *amount, double refund_rate,
    json_t *history, json_t *baseline)
{
	json_t	*cur, *r;

	cur = json_pack("{s:s, s:{s:i, s:o}, s:{s:i, s:i}, s:{s:i, s:i}, "
	    "s:f, s:f, s:o}", "currency", code,
	    "sales", "count", 1, "amount", amount,
	    "refunds", "count", 0, "amount", 0,
	    "disputes", "count", 0, "amount", 0,
	    "refund_rate", refund_rate, "dispute_rate", 0.0,
	    "history", history != NULL ? history : json_array());
	ck_assert_ptr_nonnull(cur);
	if (baseline != NULL)
		ck_assert_int_eq(json_object_set_new(cur, "baseline", baseline),
		    0);
	r = json_pack("{s:s, s:s, s:b, s:[{s:s, s:s, s:[o], s:[], s:[], "
	    "s:n}]}", "report", "hookledger-reconcile/1", "date", DATE,
	    "flagged", 0, "tenants", "tenant", "t1", "timezone", "UTC",
	    "currencies", cur, "programmes", "flags", "settlement");
	ck_assert_ptr_nonnull(r);
	return r;
}

/* The text's line for a one-currency report. */
static char *
currency_line(json_t *r)
{
	char	*text = report_text(r), *p, *end, *line;

	ck_assert_ptr_nonnull(text);
	p = strstr(text, "\n  ");
	ck_assert_ptr_nonnull(p);
	p += 1;
	end = strchr(p, '\n');
	ck_assert_ptr_nonnull(end);
	line = strndup(p, (size_t)(end - p));
	ck_assert_ptr_nonnull(line);
	free(text);
	return line;
}

START_TEST(test_text_fixture)
{
	json_t	*r = fixture();
	char	*text = report_text(r);

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strncmp(text, "hookledger reconciliation for 2026-12-02: "
	    "5 flags\n", 50) == 0, "first line: %.60s", text);
	ck_assert(has_line(text, "hookledger reconciliation for 2026-12-02: "
	    "5 flags"));
	ck_assert(has_line(text, "ledger: 1234 entries, head 1234 "
	    "9f2c4e1b7a3d5f6081726354a9b8c7d6"
	    "e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0"));
	ck_assert(has_line(text, "tenant acme (Europe/Berlin), "
	    "2026-12-01T23:00:00Z to 2026-12-02T23:00:00Z: 5 flags"));
	ck_assert(has_line(text, "  EUR: 120 sales 15340.00 EUR, 9 refunds "
	    "410.00 EUR (7.50%), 1 dispute 50.00 EUR (0.83%)"));
	ck_assert(has_line(text, "    baseline: refund rate 2.00%, threshold "
	    "6.00%; dispute rate 0.00%, threshold 1.00%"));
	ck_assert(has_line(text, "  JPY: 40 sales 250000 JPY, 1 refund "
	    "1500 JPY (2.50%), 0 disputes 0 JPY (0.00%)"));
	ck_assert(has_line(text, "  ! refund_spike: 9 refunds, rate 7.50% "
	    "against a baseline of 2.00%"));
	/* The mail is not HTML: the message goes out as it is. */
	ck_assert(has_line(text, "  ! refund_soon_after_capture: refunded 4 "
	    "minutes after its capture (note <b>&\"')"));
	ck_assert(has_line(text, "  programme mastercard ECM 2026-12 EUR: "
	    "warning, 95/7600 disputes (1.25%), limit 1.50% and 100"));
	ck_assert(has_line(text, "  settlement balance_transactions.csv "
	    "(stripe_balance_transactions, 42 lines): discrepancies"));
	ck_assert(has_line(text, "    1 missing from ledger, 1 missing from "
	    "settlement, 1 mismatch, 1 fee difference"));
	ck_assert(has_line(text, "    fees not in ledger: 12.34 EUR (40 "
	    "lines)"));
	ck_assert(has_line(text, "    payout po_1Q0acme001: net 971.00 EUR, "
	    "ledger 971.00 EUR, matches"));
	ck_assert(has_line(text, "    payout po_1Q0acme002: net -50.00 EUR, "
	    "ledger -40.00 EUR, DIFFERS"));
	ck_assert(has_line(text, "    ignored: transfer (2 lines)"));
	ck_assert(has_line(text, "tenant globex (Asia/Kuwait), "
	    "2026-12-01T21:00:00Z to 2026-12-02T21:00:00Z: clean"));
	ck_assert(has_line(text, "  KWD: 30 sales 912.345 KWD, 0 refunds "
	    "0.000 KWD (0.00%), 1 dispute 1.234 KWD (3.33%)"));
	ck_assert(has_line(text, "  settlement: not checked"));
	ck_assert_uint_eq(count(text, "\n  ! "), 5);
	ck_assert_uint_eq(count(text, "\n"), 28);
	free(text);
	json_decref(r);
}
END_TEST

/* The fixture with an open-exceptions section on acme, as reconcile.c
 * writes it (USD in a Berlin tenant: currencies are per exception). */
static json_t *
with_exceptions(void)
{
	json_t		*r = fixture(), *t;
	json_error_t	 e;

	t = json_array_get(json_object_get(r, "tenants"), 0);
	ck_assert_int_eq(json_object_set_new(t, "exceptions", json_loads(
	    "{\"open\": 3, \"by_reason\": ["
	    "{\"currency\": \"JPY\", \"reason\": \"currency_mismatch\","
	    " \"count\": 1, \"amount\": 1500},"
	    "{\"currency\": \"USD\", \"reason\": \"amount_mismatch\","
	    " \"count\": 1, \"amount\": 5000},"
	    "{\"currency\": \"USD\", \"reason\": \"exceeds_captured_amount\","
	    " \"count\": 1, \"amount\": 600}],"
	    "\"oldest\": \"2026-11-28T09:15:00Z\","
	    "\"payments\": [\"pi_<mm>\", \"pi_over\"],"
	    "\"oldest_age_days\": 4, \"threshold\": 0}", 0, &e)), 0);
	return r;
}

START_TEST(test_text_exceptions)
{
	json_t	*r = with_exceptions(), *x;
	char	*text;

	text = report_text(r);
	ck_assert_ptr_nonnull(text);
	ck_assert(has_line(text, "  open exceptions: 3 (threshold 0), the "
	    "oldest recorded 2026-11-28T09:15:00Z, 4 days old"));
	ck_assert(has_line(text, "    currency_mismatch: 1, 1500 JPY"));
	ck_assert(has_line(text, "    amount_mismatch: 1, 50.00 USD"));
	ck_assert(has_line(text, "    exceeds_captured_amount: 1, 6.00 USD"));
	ck_assert(has_line(text, "    first payments: pi_<mm>, pi_over"));
	ck_assert_uint_eq(count(text, "\n"), 28 + 5);
	free(text);
	/* None open: one line. */
	x = json_object_get(json_array_get(json_object_get(r, "tenants"), 0),
	    "exceptions");
	json_object_set_new(x, "open", json_integer(0));
	json_object_set_new(x, "by_reason", json_array());
	json_object_set_new(x, "payments", json_array());
	json_object_set_new(x, "oldest", json_null());
	json_object_set_new(x, "oldest_age_days", json_null());
	text = report_text(r);
	ck_assert(has_line(text, "  open exceptions: none (threshold 0)"));
	ck_assert_uint_eq(count(text, "\n"), 28 + 1);
	free(text);
	json_decref(r);
}
END_TEST

START_TEST(test_html_exceptions)
{
	json_t	*r = with_exceptions();
	char	*html;

	html = report_html(r);
	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_nonnull(strstr(html, "<h3>Open exceptions</h3>\n<p>3 open "
	    "(threshold 0); the oldest recorded 2026-11-28T09:15:00Z, 4 days "
	    "old."));
	ck_assert_ptr_nonnull(strstr(html, "<tr class=\"hot\"><td>USD</td>"
	    "<td>amount_mismatch</td><td class=\"n\">1</td><td class=\"n\">"
	    "50.00</td></tr>"));
	ck_assert_ptr_nonnull(strstr(html, "<td>JPY</td><td>currency_mismatch"
	    "</td><td class=\"n\">1</td><td class=\"n\">1500</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<p>First payments: <code>"
	    "pi_&lt;mm&gt;</code>, <code>pi_over</code></p>"));
	ck_assert_ptr_null(strstr(html, "pi_<mm>"));
	free(html);
	json_decref(r);
}
END_TEST

START_TEST(test_summary)
{
	json_t	*r = fixture();
	char	 s[ALERT_LINE], small[24];

	report_summary(r, s, sizeof(s));
	ck_assert_str_eq(s, "hookledger reconciliation for 2026-12-02: 5 "
	    "flags (acme: refund_spike, programme_warning, "
	    "refund_soon_after_capture, dispute_after_refund, settlement)");
	report_summary(r, small, sizeof(small));
	ck_assert_str_eq(small, "hookledger reconcili...");
	json_object_set_new(json_array_get(json_object_get(r, "tenants"), 0),
	    "flags", json_array());
	report_summary(r, s, sizeof(s));
	ck_assert_str_eq(s, "hookledger reconciliation for 2026-12-02: clean");
	json_decref(r);
}
END_TEST

START_TEST(test_text_clean)
{
	json_t	*r = fixture(), *t;
	char	*text;

	t = json_array_get(json_object_get(r, "tenants"), 0);
	ck_assert_int_eq(json_object_set_new(t, "flags", json_array()), 0);
	text = report_text(r);
	ck_assert_ptr_nonnull(text);
	ck_assert(has_line(text, "hookledger reconciliation for 2026-12-02: "
	    "clean"));
	ck_assert(has_line(text, "tenant acme (Europe/Berlin), "
	    "2026-12-01T23:00:00Z to 2026-12-02T23:00:00Z: clean"));
	ck_assert_uint_eq(count(text, "  ! "), 0);
	free(text);
	json_decref(r);
}
END_TEST

static const struct {
	const char	*code;
	json_int_t	 amount;
	const char	*want;
} money[] = {
	{ "EUR", 1534000, "15340.00 EUR" },
	{ "EUR", -1534000, "-15340.00 EUR" },
	{ "EUR", 0, "0.00 EUR" },
	{ "EUR", 5, "0.05 EUR" },
	{ "EUR", -5, "-0.05 EUR" },
	{ "EUR", 100, "1.00 EUR" },
	{ "eur", 1500, "15.00 EUR" },
	{ "JPY", 1500, "1500 JPY" },
	{ "JPY", -1500, "-1500 JPY" },
	{ "JPY", 0, "0 JPY" },
	{ "KWD", 1234, "1.234 KWD" },
	{ "KWD", -1, "-0.001 KWD" },
	{ "KWD", 1000, "1.000 KWD" },
	{ "CLF", 12345, "1.2345 CLF" },
	{ "USD", INT64_C(9007199254740991), "90071992547409.91 USD" },
	{ "USD", INT64_MIN, "-92233720368547758.08 USD" },
	{ "USD", INT64_MAX, "92233720368547758.07 USD" },
	/* Not in the table: the bare minor units, said to be such. */
	{ "ABC", 1500, "1500 ABC (minor units)" },
};

START_TEST(test_text_money)
{
	json_t	*r;
	char	*line, want[128];

	r = one_currency(money[_i].code, json_integer(money[_i].amount), 0.0,
	    NULL, NULL);
	line = currency_line(r);
	snprintf(want, sizeof(want), "1 sale %s, ", money[_i].want);
	ck_assert_msg(strstr(line, want) != NULL, "case %d: %s", _i, line);
	free(line);
	json_decref(r);
}
END_TEST

START_TEST(test_text_amount_not_integer)
{
	json_t	*r;
	char	*line;

	r = one_currency("EUR", json_real(15.5), 0.0, NULL, NULL);
	line = currency_line(r);
	ck_assert_str_eq(line, "  EUR: 1 sale ? EUR, 0 refunds 0.00 EUR "
	    "(0.00%), 0 disputes 0.00 EUR (0.00%)");
	free(line);
	json_decref(r);
	r = one_currency("EUR", json_string("1500"), 0.0, NULL, NULL);
	line = currency_line(r);
	ck_assert_ptr_nonnull(strstr(line, "1 sale ? EUR, "));
	free(line);
	json_decref(r);
}
END_TEST

static const struct {
	double		 rate;
	const char	*want;
} rates[] = {
	{ 0.075, "(7.50%)" },
	{ 1.0 / 120.0, "(0.83%)" },
	{ 1.0 / 3.0, "(33.33%)" },
	{ 2.0 / 3.0, "(66.67%)" },
	{ 0.0, "(0.00%)" },
	{ 1.0, "(100.00%)" },
	{ 2.5, "(250.00%)" },
	/* Nonsense from a broken report: clamped, never negative. */
	{ -0.5, "(0.00%)" },
	{ 1e300, "(100000.00%)" },
};

START_TEST(test_text_rates)
{
	json_t	*r;
	char	*line, want[64];

	r = one_currency("EUR", json_integer(100), rates[_i].rate, NULL, NULL);
	line = currency_line(r);
	snprintf(want, sizeof(want), "0 refunds 0.00 EUR %s, ", rates[_i].want);
	ck_assert_msg(strstr(line, want) != NULL, "case %d: %s", _i, line);
	free(line);
	json_decref(r);
}
END_TEST

/* A message cannot forge lines of the mail, nor send terminal escapes. */
START_TEST(test_text_control_bytes)
{
	json_t	*r = fixture(), *f;
	char	*text;

	f = json_array_get(json_object_get(json_array_get(json_object_get(r,
	    "tenants"), 0), "flags"), 0);
	ck_assert_int_eq(json_object_set_new(f, "message", json_string("a\n"
	    "hookledger reconciliation for 2026-12-02: clean\r\x1b[2Jz\x7f")),
	    0);
	text = report_text(r);
	ck_assert_ptr_nonnull(text);
	ck_assert(has_line(text, "  ! refund_spike: a?hookledger "
	    "reconciliation for 2026-12-02: clean??[2Jz?"));
	ck_assert(!has_line(text, "hookledger reconciliation for 2026-12-02: "
	    "clean"));
	ck_assert_ptr_null(strchr(text, '\x1b'));
	ck_assert_ptr_null(strchr(text, '\r'));
	free(text);
	json_decref(r);
}
END_TEST

START_TEST(test_html_fixture)
{
	json_t	*r = fixture();
	char	*html = report_html(r);

	ck_assert_ptr_nonnull(html);
	ck_assert_msg(strncmp(html, "<!doctype html>\n", 16) == 0, "%.40s",
	    html);
	ck_assert_ptr_nonnull(strstr(html, "<meta charset=\"utf-8\">"));
	ck_assert_ptr_nonnull(strstr(html, CSP));
	ck_assert_ptr_nonnull(strstr(html, "<style>"));
	/* Nothing to run, nothing fetched. */
	ck_assert_ptr_null(strcasestr(html, "<script"));
	ck_assert_ptr_null(strcasestr(html, "http://"));
	ck_assert_ptr_null(strcasestr(html, "https://"));
	ck_assert_ptr_null(strcasestr(html, "src="));
	ck_assert_ptr_null(strcasestr(html, "href="));
	ck_assert_ptr_null(strcasestr(html, "url("));
	ck_assert_ptr_null(strcasestr(html, "@import"));
	ck_assert(!has_event_attr(html));
	/* Two charts for each of the three currencies. */
	ck_assert_uint_eq(count(html, "<svg "), 6);
	ck_assert_uint_eq(count(html, "</svg>"), 6);
	ck_assert_uint_eq(count(html, "viewBox=\"0 0 640 200\""), 6);
	/* EUR's refund rate: 7.5% today, threshold 6%, axis up to 10%. */
	ck_assert_ptr_nonnull(strstr(html, "<line class=\"thr\" x1=\"56.0\" "
	    "y1=\"76.4\" x2=\"624.0\" y2=\"76.4\"/>"));
	ck_assert_ptr_nonnull(strstr(html, "<circle class=\"today hot\" "
	    "cx=\"624.0\" cy=\"53.0\" r=\"4.5\"/>"));
	ck_assert_ptr_nonnull(strstr(html, "text-anchor=\"end\">10%</text>"));
	/* Four days on the date's weekday in each chart's 28. */
	ck_assert_uint_eq(count(html, "<circle class=\"wk\""), 24);
	ck_assert_uint_eq(count(html, "<polyline "), 6);
	/* The report's numbers. */
	ck_assert_ptr_nonnull(strstr(html,
	    "<td class=\"n\">15340.00 EUR</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"n\">1500 JPY</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"n\">1.234 KWD</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"n\">-50.00</td>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"st-warning\">warning"
	    "</td>"));
	ck_assert_uint_eq(count(html, "<li><span class=\"kind\">"), 5);
	ck_assert(!has_nonfinite(html));
	ck_assert(coords_ok(html));
	free(html);
	json_decref(r);
}
END_TEST

START_TEST(test_html_escapes_fixture)
{
	json_t	*r = fixture();
	char	*html = report_html(r);

	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_nonnull(strstr(html, "refunded 4 minutes after its "
	    "capture (note &lt;b&gt;&amp;&quot;&#39;)"));
	ck_assert_ptr_null(strstr(html, "<b>&\"'"));
	ck_assert_ptr_null(strstr(html, "<b>"));
	free(html);
	json_decref(r);
}
END_TEST

/* Replace every string in v, at any depth, with s. */
static void
poison(json_t *v, const char *s)
{
	const char	*k;
	json_t		*x;
	size_t		 i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			if (json_is_string(x))
				ck_assert_int_eq(json_string_set(x, s), 0);
			else
				poison(x, s);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (json_is_string(x))
				ck_assert_int_eq(json_string_set(x, s), 0);
			else
				poison(x, s);
		}
	}
}

START_TEST(test_html_escapes_everything)
{
	json_t	*r = fixture();
	char	*html;

	poison(r, "<x y=\"1\" z='2'>&amp;</x>\x01");
	html = report_html(r);
	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_null(strstr(html, "<x"));
	ck_assert_ptr_null(strstr(html, "</x"));
	ck_assert_ptr_null(strstr(html, "'2'"));
	ck_assert_ptr_null(strstr(html, "\x01"));
	ck_assert_uint_gt(count(html, "&lt;x y=&quot;1&quot; z=&#39;2&#39;&gt;"
	    "&amp;amp;&lt;/x&gt;&#xFFFD;"), 40);
	ck_assert_uint_eq(count(html, "<svg "), 6);
	ck_assert(!has_nonfinite(html));
	ck_assert(coords_ok(html));
	free(html);
	json_decref(r);
}
END_TEST

START_TEST(test_deterministic)
{
	json_t	*r = fixture(), *copy;
	char	*a, *b;

	copy = json_deep_copy(r);
	ck_assert_ptr_nonnull(copy);
	a = report_html(r);
	b = report_html(copy);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(b);
	b = report_html(r);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = report_text(r);
	b = report_text(copy);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(copy);
	json_decref(r);
}
END_TEST

/* No history, no baseline, no sales: one point, and nothing divided by
 * zero. */
START_TEST(test_empty_history)
{
	json_t	*r = one_currency("EUR", json_integer(0), 0.0, NULL,
		    NULL);
	char	*html = report_html(r), *text = report_text(r);

	ck_assert_ptr_nonnull(html);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(count(html, "<svg "), 2);
	ck_assert_uint_eq(count(html, "<polyline class=\"line\" "
	    "points=\"624.0,170.0\"/>"), 2);
	ck_assert_uint_eq(count(html, "<line class=\"thr\""), 0);
	ck_assert_uint_eq(count(html, "text-anchor=\"end\">1%</text>"), 2);
	ck_assert(!has_nonfinite(html));
	ck_assert(coords_ok(html));
	ck_assert(has_line(text, "  EUR: 1 sale 0.00 EUR, 0 refunds 0.00 EUR "
	    "(0.00%), 0 disputes 0.00 EUR (0.00%)"));
	ck_assert(!has_nonfinite(text));
	free(html);
	free(text);
	json_decref(r);
}
END_TEST

/* A full history of zero rates and a zero baseline: the threshold line
 * lies on the axis and the y range is the minimum, 1%. */
START_TEST(test_zero_rates)
{
	json_t	*hist = json_array(), *r, *base;
	char	*html, day[16];
	int	 i;

	/* 2026-11-04 to 2026-12-01. */
	for (i = 4; i < 32; i++) {
		if (i <= 30)
			snprintf(day, sizeof(day), "2026-11-%02d", i);
		else
			snprintf(day, sizeof(day), "2026-12-%02d", i - 30);
		ck_assert_int_eq(json_array_append_new(hist, json_pack("{s:s, "
		    "s:i, s:i, s:i, s:f, s:f}", "date", day, "sales", 0,
		    "refunds", 0, "disputes", 0, "refund_rate", 0.0,
		    "dispute_rate", 0.0)), 0);
	}
	ck_assert_uint_eq(json_array_size(hist), 28);
	base = json_pack("{s:{s:f, s:f, s:f}, s:{s:f, s:f, s:f}}",
	    "refund_rate", "median", 0.0, "mad", 0.0, "threshold", 0.0,
	    "dispute_rate", "median", 0.0, "mad", 0.0, "threshold", 0.0);
	r = one_currency("EUR", json_integer(0), 0.0, hist, base);
	html = report_html(r);
	ck_assert_ptr_nonnull(html);
	ck_assert_uint_eq(count(html, "<svg "), 2);
	ck_assert_uint_eq(count(html, "<line class=\"thr\" x1=\"56.0\" "
	    "y1=\"170.0\" x2=\"624.0\" y2=\"170.0\"/>"), 2);
	ck_assert_uint_eq(count(html, "<circle class=\"today\" cx=\"624.0\" "
	    "cy=\"170.0\""), 2);
	ck_assert_uint_eq(count(html, "<circle class=\"wk\""), 8);
	/* 2026-11-04, -11, -18 and -25 were Wednesdays, as is the date. */
	ck_assert_uint_eq(count(html, "<circle class=\"wk\" cx=\"56.0\" "
	    "cy=\"170.0\" r=\"2.5\"/>\n<circle class=\"wk\" cx=\"198.0\" "
	    "cy=\"170.0\" r=\"2.5\"/>\n<circle class=\"wk\" cx=\"340.0\" "
	    "cy=\"170.0\" r=\"2.5\"/>\n<circle class=\"wk\" cx=\"482.0\" "
	    "cy=\"170.0\" r=\"2.5\"/>\n"), 2);
	ck_assert_uint_eq(count(html, "text-anchor=\"end\">1%</text>"), 2);
	ck_assert_uint_eq(count(html, "text-anchor=\"end\">0.25%</text>"), 2);
	ck_assert(!has_nonfinite(html));
	ck_assert(coords_ok(html));
	free(html);
	json_decref(r);
}
END_TEST

/* Not a report at all: still a page and a summary, not a crash. */
START_TEST(test_not_a_report)
{
	json_t	*v[3];
	char	*s;
	int	 i;

	v[0] = json_object();
	v[1] = json_array();
	v[2] = json_pack("{s:i, s:[i, s, {s:i}]}", "date", 5, "tenants", 1,
	    "x", "currencies", 7);
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(v[i]);
		s = report_text(v[i]);
		ck_assert_ptr_nonnull(s);
		ck_assert_str_eq(strtok(s, "\n"),
		    "hookledger reconciliation for ?: clean");
		free(s);
		s = report_html(v[i]);
		ck_assert_ptr_nonnull(s);
		ck_assert_ptr_nonnull(strstr(s, "</html>\n"));
		free(s);
		json_decref(v[i]);
	}
}
END_TEST

START_TEST(test_write)
{
	json_t		*r = fixture(), *back;
	json_error_t	 e;
	struct stat	 st;
	char		 dir[512], path[1024], html_path[1024], err[256];
	char		*want, *got;
	static const char *const ext[] = { "json", "txt", "html" };
	int		 i, pass;

	umask(022);
	tmpdir(dir, sizeof(dir));
	for (pass = 0; pass < 2; pass++) {
		err[0] = '\0';
		ck_assert_msg(report_write(r, dir, html_path,
		    sizeof(html_path), err, sizeof(err)) == 0, "%s", err);
		snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-all.html",
		    dir);
		ck_assert_str_eq(html_path, path);
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path),
			    "%s/reconcile-2026-12-02-all.%s", dir, ext[i]);
			ck_assert_int_eq(stat(path, &st), 0);
			ck_assert(S_ISREG(st.st_mode));
			ck_assert_int_eq(st.st_mode & 07777, 0640);
			strcat(path, ".tmp");
			ck_assert_int_eq(stat(path, &st), -1);
			ck_assert_int_eq(errno, ENOENT);
		}
	}

	snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-all.txt", dir);
	got = read_all(path);
	want = report_text(r);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);

	snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-all.html", dir);
	got = read_all(path);
	want = report_html(r);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);

	snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-all.json", dir);
	got = read_all(path);
	ck_assert_uint_gt(strlen(got), 2);
	ck_assert_str_eq(got + strlen(got) - 2, "}\n");
	ck_assert_ptr_nonnull(strstr(got, "{\n  \"report\": "
	    "\"hookledger-reconcile/1\",\n  \"date\": \"2026-12-02\",\n"));
	free(got);
	back = json_load_file(path, 0, &e);
	ck_assert_msg(back != NULL, "%s", e.text);
	ck_assert(json_equal(back, r));
	json_decref(back);

	cleanup(dir, "all");
	json_decref(r);
}
END_TEST

START_TEST(test_write_scope)
{
	json_t	*r = fixture();
	char	 dir[512], path[1024], html_path[1024], err[256];
	struct stat st;

	tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(json_object_set_new(r, "scope", json_string("acme")),
	    0);
	ck_assert_msg(report_write(r, dir, html_path, sizeof(html_path), err,
	    sizeof(err)) == 0, "%s", err);
	snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-acme.html", dir);
	ck_assert_str_eq(html_path, path);
	snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-acme.json", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/reconcile-2026-12-02-acme.txt", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	cleanup(dir, "acme");
	json_decref(r);
}
END_TEST

/* The scope and the date become part of a file name. */
static const char *const bad_names[][2] = {
	{ "scope", "../etc" },
	{ "scope", "a/b" },
	{ "scope", "" },
	{ "scope", ".hidden" },
	{ "scope", "acme corp" },
	{ "date", "2026-12-02/../../x" },
	{ "date", "../../etc/x" },
	{ "date", "2026-13-02" },
	{ "date", "2026-12-2" },
	{ "date", "" },
};

START_TEST(test_write_bad_names)
{
	json_t	*r = fixture();
	char	 dir[512], err[256], html_path[1024];

	tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(json_object_set_new(r, bad_names[_i][0],
	    json_string(bad_names[_i][1])), 0);
	err[0] = '\0';
	strcpy(html_path, "unchanged");
	ck_assert_int_eq(report_write(r, dir, html_path, sizeof(html_path), err,
	    sizeof(err)), -1);
	ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0, "%s", err);
	ck_assert_str_eq(html_path, "unchanged");
	/* Nothing was written: the directory is empty again. */
	ck_assert_int_eq(rmdir(dir), 0);
	json_decref(r);
}
END_TEST

START_TEST(test_write_scope_not_string)
{
	json_t	*r = fixture();
	char	 dir[512], err[256], html_path[1024];

	tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(json_object_set_new(r, "scope", json_integer(1)), 0);
	ck_assert_int_eq(report_write(r, dir, html_path, sizeof(html_path), err,
	    sizeof(err)), -1);
	ck_assert_int_eq(rmdir(dir), 0);
	json_decref(r);
}
END_TEST

START_TEST(test_write_missing_dir)
{
	json_t	*r = fixture();
	char	 dir[512], missing[600], err[1024], html_path[1024];
	char	 want[700];

	tmpdir(dir, sizeof(dir));
	snprintf(missing, sizeof(missing), "%s/no-such-dir", dir);
	err[0] = '\0';
	ck_assert_int_eq(report_write(r, missing, html_path, sizeof(html_path),
	    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/reconcile-2026-12-02-all.json.tmp: %s",
	    missing, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(rmdir(dir), 0);
	json_decref(r);
}
END_TEST

/* A path that does not fit html_path is refused before anything is
 * written. */
START_TEST(test_write_small_cap)
{
	json_t	*r = fixture();
	char	 dir[512], err[1024], html_path[16];

	tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(report_write(r, dir, html_path, sizeof(html_path),
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "reconcile-2026-12-02-all.html: "));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENAMETOOLONG)));
	ck_assert_int_eq(rmdir(dir), 0);
	json_decref(r);
}
END_TEST

/* A symbolic link planted at a temporary name is not followed. */
START_TEST(test_write_tmp_symlink)
{
	json_t	*r = fixture();
	char	 dir[512], victim[600], lnk[700], err[1024];
	char	 html_path[1024];
	char	*got;
	FILE	*f;

	tmpdir(dir, sizeof(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	f = fopen(victim, "w");
	ck_assert_ptr_nonnull(f);
	fputs("keep\n", f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(lnk, sizeof(lnk), "%s/reconcile-2026-12-02-all.json.tmp",
	    dir);
	ck_assert_int_eq(symlink(victim, lnk), 0);
	ck_assert_int_eq(report_write(r, dir, html_path, sizeof(html_path),
	    err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err,
	    "reconcile-2026-12-02-all.json.tmp: "));
	got = read_all(victim);
	ck_assert_str_eq(got, "keep\n");
	free(got);
	unlink(lnk);
	ck_assert_int_eq(unlink(victim), 0);
	cleanup(dir, "all");
	json_decref(r);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("report");
	TCase	*tc;

	tc = tcase_create("text");
	tcase_add_test(tc, test_text_fixture);
	tcase_add_test(tc, test_text_clean);
	tcase_add_test(tc, test_text_exceptions);
	tcase_add_test(tc, test_html_exceptions);
	tcase_add_test(tc, test_summary);
	tcase_add_loop_test(tc, test_text_money, 0,
	    sizeof(money) / sizeof(money[0]));
	tcase_add_test(tc, test_text_amount_not_integer);
	tcase_add_loop_test(tc, test_text_rates, 0,
	    sizeof(rates) / sizeof(rates[0]));
	tcase_add_test(tc, test_text_control_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("html");
	tcase_add_test(tc, test_html_fixture);
	tcase_add_test(tc, test_html_escapes_fixture);
	tcase_add_test(tc, test_html_escapes_everything);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_empty_history);
	tcase_add_test(tc, test_zero_rates);
	tcase_add_test(tc, test_not_a_report);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_write_scope);
	tcase_add_loop_test(tc, test_write_bad_names, 0,
	    sizeof(bad_names) / sizeof(bad_names[0]));
	tcase_add_test(tc, test_write_scope_not_string);
	tcase_add_test(tc, test_write_missing_dir);
	tcase_add_test(tc, test_write_small_cap);
	tcase_add_test(tc, test_write_tmp_symlink);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
