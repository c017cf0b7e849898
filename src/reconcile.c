/*
 * reconcile.c: the nightly report's numbers.
 *
 * Days are calendar days in the tenant's zone, found with mktime() under
 * TZ, so a day across a DST change is 23 or 25 hours. Money counts on the
 * day it occurred (the provider's event time). Rates are ratios of counts;
 * they are reported, never used to compute money.
 */
#include "reconcile.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balances.h"
#include "digest.h"
#include "settle.h"

#define HISTORY_MAX		91
#define SOON_AFTER_CAPTURE	3600	/* seconds: a refund this soon */
#define REPEATED_REFUNDS	3	/* refunds on one payment */
#define CLUSTER_DISPUTES	3	/* disputes on one payer */
#define EARLY_WARNING		0.75	/* of a programme's thresholds */
#define EXCEPTION_PAYMENTS	5	/* payment references shown */

/* The card networks' monthly dispute programmes, as data. */
static const struct programme {
	const char	*network;
	const char	*name;
	const char	*from;		/* first month it applies, YYYY-MM */
	const char	*until;		/* first month it no longer does */
	double		 ratio;		/* at or above */
	long		 count;		/* at or above */
	int		 count_above;	/* the count must exceed, not reach */
	int		 previous_month; /* denominator: last month's sales */
	const char	*source;
	const char	*effective;
} programmes[] = {
	{ "visa", "VAMP (merchant)", "2025-06", "2026-04", 0.022, 1500, 1, 0,
	  "Visa Acquirer Monitoring Program: merchant threshold 2.2% and more "
	  "than 1,500 disputes and fraud reports a month", "2025-06-01" },
	{ "visa", "VAMP (merchant)", "2026-04", NULL, 0.015, 1500, 1, 0,
	  "Visa Acquirer Monitoring Program: merchant threshold lowered to "
	  "1.5% from April 2026, with more than 1,500 a month", "2026-04-01" },
	{ "mastercard", "ECM", NULL, NULL, 0.015, 100, 0, 1,
	  "Mastercard Excessive Chargeback Merchant: 1.5% to 2.99% and 100 to "
	  "299 chargebacks, against the previous month's transactions",
	  "2023-01-01" },
	{ "mastercard", "HECM", NULL, NULL, 0.03, 300, 0, 1,
	  "Mastercard High Excessive Chargeback Merchant: 3% or more and 300 "
	  "or more chargebacks, against the previous month's transactions",
	  "2023-01-01" },
};

/* Where SCA applies: cards issued in the EEA and the United Kingdom. */
static const char sca_countries[] =
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IS IE IT LV LI LT LU MT NL NO "
    "PL PT RO SK SI ES SE GB";

struct day {
	char		 date[11];
	int64_t		 from, to;
};

struct metrics {
	int64_t		 sales, sales_amount;
	int64_t		 refunds, refunds_amount;
	int64_t		 disputes, disputes_amount;
};

static void
set_zone(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
}

static int
parse_date(const char *s, struct tm *tm)
{
	char	*end;

	memset(tm, 0, sizeof(*tm));
	if (strlen(s) != 10)
		return -1;
	end = strptime(s, "%Y-%m-%d", tm);
	if (end == NULL || *end != '\0' || tm->tm_year < 70 ||
	    tm->tm_year > 8099)
		return -1;
	return 0;
}

static int64_t
local_midnight(int year, int mon, int mday)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year;
	tm.tm_mon = mon;
	tm.tm_mday = mday;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int
reconcile_day_window(const char *zone, const char *date, int64_t *from,
    int64_t *to)
{
	struct tm tm, chk;
	time_t t;

	if (parse_date(date, &tm) == -1)
		return -1;
	set_zone(zone);
	*from = local_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday);
	*to = local_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday + 1);
	/* strptime accepts 2026-02-30; mktime would roll it over. */
	t = (time_t)*from;
	localtime_r(&t, &chk);
	if (chk.tm_mday != tm.tm_mday || chk.tm_mon != tm.tm_mon)
		return -1;
	return 0;
}

int
reconcile_yesterday(const char *zone, int64_t now, char out[11])
{
	struct tm	tm;
	time_t		t = (time_t)now;

	set_zone(zone);
	localtime_r(&t, &tm);
	tm.tm_mday -= 1;
	tm.tm_hour = 12;	/* away from any DST gap */
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	localtime_r(&t, &tm);
	return strftime(out, 11, "%Y-%m-%d", &tm) == 10 ? 0 : -1;
}

/* The day offset days before date (negative offsets go forward). */
static int
day_at(const char *zone, const char *date, int offset, struct day *d)
{
	struct tm tm;
	time_t t;

	if (parse_date(date, &tm) == -1)
		return -1;
	set_zone(zone);
	tm.tm_mday -= offset;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	localtime_r(&t, &tm);
	if (strftime(d->date, sizeof(d->date), "%Y-%m-%d", &tm) != 10)
		return -1;
	return reconcile_day_window(zone, d->date, &d->from, &d->to);
}

static double
rate(int64_t part, int64_t whole)
{
	return whole > 0 ? (double)part / (double)whole : 0.0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	if (n == 0)
		return 0.0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One grouped count-and-sum query for a window; adds into m[]. */
static int
add_metric(sqlite3 *db, const char *sql, const char *tenant,
    const char *currency, int64_t from, int64_t to, int64_t *count,
    int64_t *amount)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(st, 0);
		*amount = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
day_metrics(sqlite3 *db, const char *tenant, const char *currency,
    int64_t from, int64_t to, struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	if (add_metric(db, "SELECT count(*), coalesce(sum(amount), 0) FROM"
	    " ledger WHERE tenant = ?1 AND currency = ?2 AND occurred_at >= ?3"
	    " AND occurred_at < ?4 AND kind = 'capture'", tenant, currency,
	    from, to, &m->sales, &m->sales_amount) == -1 ||
	    add_metric(db, "SELECT count(*), coalesce(sum(p.debit), 0) FROM"
	    " ledger l JOIN postings p ON p.seq = l.seq AND p.account ="
	    " 'refunds' AND p.debit > 0 WHERE l.tenant = ?1 AND l.currency = ?2"
	    " AND l.occurred_at >= ?3 AND l.occurred_at < ?4", tenant, currency,
	    from, to, &m->refunds, &m->refunds_amount) == -1 ||
	    add_metric(db, "SELECT count(*), coalesce(sum(p.debit), 0) FROM"
	    " ledger l JOIN postings p ON p.seq = l.seq AND p.account ="
	    " 'disputes_open' AND p.debit > 0 WHERE l.tenant = ?1 AND"
	    " l.currency = ?2 AND l.occurred_at >= ?3 AND l.occurred_at < ?4"
	    " AND l.kind = 'dispute_opened'", tenant, currency, from, to,
	    &m->disputes, &m->disputes_amount) == -1)
		return -1;
	return 0;
}

static json_t *
count_amount(int64_t count, int64_t amount)
{
	return json_pack("{s:I, s:I}", "count", (json_int_t)count, "amount",
	    (json_int_t)amount);
}

static void
flag(json_t *flags, const char *kind, const char *key, const char *value,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
flag(json_t *flags, const char *kind, const char *key, const char *value,
    const char *fmt, ...)
{
	char	 msg[300];
	va_list	 ap;
	json_t	*f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = json_pack("{s:s}", "kind", kind);
	if (key != NULL)
		json_object_set_new(f, key, json_string(value));
	json_object_set_new(f, "message", json_string(msg));
	json_array_append_new(flags, f);
}

/* Baseline of one rate over the same-weekday days of history. */
static json_t *
baseline(const double *rates, const int64_t *sales, size_t n,
    unsigned int factor, double *threshold, double *median_out)
{
	double	 v[HISTORY_MAX], dev[HISTORY_MAX], med, mad;
	size_t	 i, k = 0, all = 0;

	/* history[i] is n - i days before the date: same weekday when
	 * that distance is a multiple of seven. */
	for (i = 0; i < n; i++)
		if ((n - i) % 7 == 0 && sales[i] > 0)
			v[k++] = rates[i];
	if (k < 2) {		/* too few: every day with sales */
		for (i = 0, k = 0; i < n; i++)
			if (sales[i] > 0)
				v[k++] = rates[i];
		all = 1;
	}
	med = median(v, k);
	for (i = 0; i < k; i++)
		dev[i] = fabs(v[i] - med);
	mad = median(dev, k);
	/* Robust to outliers: median and MAD, never a mean. */
	*threshold = fmax((double)factor * med, med + 3.0 * 1.4826 * mad);
	*median_out = med;
	return json_pack("{s:f, s:f, s:f, s:i, s:b}", "median", med, "mad",
	    mad, "threshold", *threshold, "days", (int)k, "all_weekdays",
	    (int)all);
}

static json_t *
currency_section(sqlite3 *db, const struct config_tenant *t,
    const char *currency, const struct day *days, size_t ndays,
    json_t *flags)
{
	struct metrics	 m[HISTORY_MAX + 1];
	double		 rr[HISTORY_MAX], dr[HISTORY_MAX], rth, dth, rmed, dmed;
	int64_t		 sales[HISTORY_MAX];
	json_t		*o, *hist, *base;
	size_t		 i, n = ndays - 1;	/* days[n] is the date */
	const struct metrics *d;

	for (i = 0; i < ndays; i++)
		if (day_metrics(db, t->name, currency, days[i].from,
		    days[i].to, &m[i]) == -1)
			return NULL;
	hist = json_array();
	for (i = 0; i < n; i++) {
		rr[i] = rate(m[i].refunds, m[i].sales);
		dr[i] = rate(m[i].disputes, m[i].sales);
		sales[i] = m[i].sales;
		json_array_append_new(hist, json_pack("{s:s, s:I, s:I, s:I,"
		    " s:f, s:f}", "date", days[i].date, "sales",
		    (json_int_t)m[i].sales, "refunds", (json_int_t)m[i].refunds,
		    "disputes", (json_int_t)m[i].disputes, "refund_rate", rr[i],
		    "dispute_rate", dr[i]));
	}
	d = &m[n];
	base = json_object();
	json_object_set_new(base, "refund_rate", baseline(rr, sales, n,
	    t->refund_spike_factor, &rth, &rmed));
	json_object_set_new(base, "dispute_rate", baseline(dr, sales, n,
	    t->dispute_spike_factor, &dth, &dmed));
	o = json_pack("{s:s, s:o, s:o, s:o, s:f, s:f, s:o, s:o}",
	    "currency", currency,
	    "sales", count_amount(d->sales, d->sales_amount),
	    "refunds", count_amount(d->refunds, d->refunds_amount),
	    "disputes", count_amount(d->disputes, d->disputes_amount),
	    "refund_rate", rate(d->refunds, d->sales),
	    "dispute_rate", rate(d->disputes, d->sales),
	    "history", hist, "baseline", base);
	/* A spike needs both a rate above the baseline's threshold and a
	 * minimum count, so one refund on a quiet day is no spike. Without
	 * sales, the count alone decides. */
	if (d->refunds >= (int64_t)t->refund_spike_min_count &&
	    (d->sales == 0 || rate(d->refunds, d->sales) > rth))
		flag(flags, "refund_spike", "currency", currency, "%lld refunds,"
		    " rate %.2f%% against a baseline of %.2f%% (threshold "
		    "%.2f%%)", (long long)d->refunds,
		    100 * rate(d->refunds, d->sales), 100 * rmed, 100 * rth);
	if (d->disputes >= (int64_t)t->dispute_spike_min_count &&
	    (d->sales == 0 || rate(d->disputes, d->sales) > dth))
		flag(flags, "dispute_spike", "currency", currency, "%lld "
		    "disputes, rate %.2f%% against a baseline of %.2f%% "
		    "(threshold %.2f%%)", (long long)d->disputes,
		    100 * rate(d->disputes, d->sales), 100 * dmed, 100 * dth);
	return o;
}

/* Count one network's disputes and transactions in [from, to); cards of
 * unknown brand count for every network, erring towards a warning. */
static int
network_counts(sqlite3 *db, const char *tenant, const char *network,
    int64_t from, int64_t to, int64_t *disputes, int64_t *txns)
{
	sqlite3_stmt	*st;
	int		 rc, i;
	static const char *const sql[2] = {
	    "SELECT count(DISTINCT d.object_id) FROM facts d JOIN facts c"
	    " ON c.tenant = d.tenant AND c.payment_ref = d.payment_ref AND"
	    " c.kind = 'capture' WHERE d.tenant = ?1 AND d.kind ="
	    " 'dispute_opened' AND d.occurred_at >= ?2 AND d.occurred_at < ?3"
	    " AND (c.card_brand = ?4 OR c.card_brand = '')",
	    "SELECT count(DISTINCT payment_ref) FROM facts WHERE tenant = ?1"
	    " AND kind = 'capture' AND occurred_at >= ?2 AND occurred_at < ?3"
	    " AND (card_brand = ?4 OR card_brand = '')" };
	int64_t *out[2] = { disputes, txns };

	for (i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, from);
		sqlite3_bind_int64(st, 3, to);
		sqlite3_bind_text(st, 4, network, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		*out[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return -1;
	}
	return 0;
}

static json_t *
programmes_section(sqlite3 *db, const struct config_tenant *t,
    const char *date, int64_t day_to, json_t *flags)
{
	char		 month[8];
	struct tm	 tm;
	int64_t		 mfrom, pfrom, disputes, txns, ptx, dummy;
	json_t		*arr = json_array();
	size_t		 i;

	if (parse_date(date, &tm) == -1)
		return NULL;
	set_zone(t->timezone);
	mfrom = local_midnight(tm.tm_year, tm.tm_mon, 1);
	pfrom = local_midnight(tm.tm_year, tm.tm_mon - 1, 1);
	snprintf(month, sizeof(month), "%.7s", date);
	for (i = 0; i < sizeof(programmes) / sizeof(programmes[0]); i++) {
		const struct programme *p = &programmes[i];
		const char	*status = "ok";
		int64_t		 den;
		double		 r;
		int		 count_hit, count_near;

		if ((p->from != NULL && strcmp(month, p->from) < 0) ||
		    (p->until != NULL && strcmp(month, p->until) >= 0))
			continue;
		if (network_counts(db, t->name, p->network, mfrom, day_to,
		    &disputes, &txns) == -1 || network_counts(db, t->name,
		    p->network, pfrom, mfrom, &dummy, &ptx) == -1)
			return NULL;
		den = p->previous_month ? ptx : txns;
		r = rate(disputes, den);
		count_hit = p->count_above ? disputes > p->count :
		    disputes >= p->count;
		count_near = (double)disputes >= EARLY_WARNING *
		    (double)p->count;
		if (r >= p->ratio && count_hit)
			status = "breach";
		else if (r >= EARLY_WARNING * p->ratio && count_near)
			status = "warning";
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s,"
		    " s:I, s:I, s:f, s:f, s:i, s:s, s:s, s:s}",
		    "network", p->network, "programme", p->name,
		    "month", month, "currency", "all",
		    "disputes", (json_int_t)disputes,
		    "transactions", (json_int_t)den, "ratio", r,
		    "threshold_ratio", p->ratio, "threshold_count",
		    (int)p->count, "status", status, "source", p->source,
		    "effective", p->effective));
		if (strcmp(status, "ok") != 0)
			flag(flags, strcmp(status, "breach") == 0 ?
			    "programme_breach" : "programme_warning",
			    "programme", p->name, "%s %s %s: %lld disputes, "
			    "ratio %.2f%% (threshold %.2f%% and %s%ld)",
			    p->network, p->name, month, (long long)disputes,
			    100 * r, 100 * p->ratio, p->count_above ? "more "
			    "than " : "", p->count);
	}
	return arr;
}

/* Run a pattern query whose rows are (payment or payer, detail number)
 * and flag each. */
static int
pattern(sqlite3 *db, const char *sql, const char *tenant, int64_t from,
    int64_t to, int64_t since, json_t *flags, const char *kind,
    const char *key, const char *pre, const char *post)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	sqlite3_bind_int64(st, 4, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *who = (const char *)sqlite3_column_text(st, 0);
		long long n = sqlite3_column_int64(st, 1);

		flag(flags, kind, key, who != NULL ? who : "", "%s%lld%s", pre,
		    n, post);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
patterns(sqlite3 *db, const struct config_tenant *t, int64_t from,
    int64_t to, json_t *flags)
{
	int64_t since = from - (int64_t)t->baseline_days * 86400;

	/* ?4 is the start of the trailing window, for the clusters. */
	if (pattern(db, "SELECT r.payment_ref, min(r.occurred_at -"
	    " c.occurred_at) / 60 FROM ledger r JOIN ledger c ON c.tenant ="
	    " r.tenant AND c.payment_ref = r.payment_ref AND c.kind ="
	    " 'capture' WHERE r.tenant = ?1 AND r.kind = 'refund' AND"
	    " r.occurred_at >= ?2 AND r.occurred_at < ?3 AND ?4 = ?4 AND"
	    " r.occurred_at - c.occurred_at BETWEEN 0 AND "
	    "3600 GROUP BY r.payment_ref ORDER BY r.payment_ref", t->name,
	    from, to, since, flags, "refund_soon_after_capture", "payment",
	    "refunded ", " minutes after its capture") == -1)
		return -1;
	/* Refunds that reached the refunds account, not every report of
	 * one (a pending refund that then succeeds is one refund). */
	if (pattern(db, "SELECT l.payment_ref, count(*) FROM ledger l JOIN"
	    " postings p ON p.seq = l.seq AND p.account = 'refunds' AND"
	    " p.debit > 0 WHERE l.tenant = ?1 AND l.occurred_at < ?3 AND"
	    " ?4 = ?4 AND l.payment_ref IN (SELECT r.payment_ref FROM ledger r"
	    " JOIN postings q ON q.seq = r.seq AND q.account = 'refunds' AND"
	    " q.debit > 0 WHERE r.tenant = ?1 AND r.occurred_at >= ?2 AND"
	    " r.occurred_at < ?3) GROUP BY l.payment_ref HAVING count(*) >= 3"
	    " ORDER BY l.payment_ref", t->name, from, to, since, flags,
	    "repeated_partial_refunds", "payment",
	    "", " separate refunds on one payment") == -1)
		return -1;
	/* Only money actually refunded before the dispute counts: a refund
	 * that failed has come back. The disputes are read from the facts:
	 * one on a payment refunded in full is refused as an exception
	 * (exceeds_captured_amount) and posts nothing, yet is this very
	 * pattern. */
	if (pattern(db, "SELECT payment_ref, refunded FROM (SELECT"
	    " d.payment_ref, (SELECT coalesce(sum(p.debit) - sum(p.credit), 0)"
	    " FROM ledger r JOIN postings p ON p.seq = r.seq AND p.account ="
	    " 'refunds' WHERE r.tenant = d.tenant AND r.payment_ref ="
	    " d.payment_ref AND r.occurred_at <= d.occurred_at) AS refunded"
	    " FROM facts d WHERE d.tenant = ?1 AND d.kind = 'dispute_opened'"
	    " AND d.occurred_at >= ?2 AND d.occurred_at < ?3 AND ?4 = ?4)"
	    " WHERE refunded > 0 GROUP BY payment_ref ORDER BY payment_ref",
	    t->name, from, to, since, flags, "dispute_after_refund", "payment",
	    "disputed after ", " (minor units) had been refunded: the money "
	    "may be recovered twice") == -1)
		return -1;
	if (pattern(db, "SELECT c.customer, count(DISTINCT d.object_id) FROM"
	    " facts d JOIN facts c ON c.tenant = d.tenant AND c.payment_ref ="
	    " d.payment_ref AND c.kind = 'capture' WHERE d.tenant = ?1 AND"
	    " d.kind = 'dispute_opened' AND d.occurred_at >= ?4 AND"
	    " d.occurred_at < ?3 AND c.customer <> '' GROUP BY c.customer"
	    " HAVING count(DISTINCT d.object_id) >= 3 AND max(d.occurred_at)"
	    " >= ?2 ORDER BY c.customer", t->name, from, to, since, flags,
	    "dispute_cluster", "customer",
	    "", " disputes from one customer in the trailing window") == -1)
		return -1;
	if (pattern(db, "SELECT c.card_fingerprint, count(DISTINCT"
	    " d.object_id) FROM facts d JOIN facts c ON c.tenant = d.tenant AND"
	    " c.payment_ref = d.payment_ref AND c.kind = 'capture' WHERE"
	    " d.tenant = ?1 AND d.kind = 'dispute_opened' AND d.occurred_at >="
	    " ?4 AND d.occurred_at < ?3 AND c.card_fingerprint <> '' GROUP BY"
	    " c.card_fingerprint HAVING count(DISTINCT d.object_id) >= 3 AND"
	    " max(d.occurred_at) >= ?2 ORDER BY c.card_fingerprint", t->name,
	    from, to, since, flags, "dispute_cluster", "card_fingerprint",
	    "", " disputes on one card in the trailing window") == -1)
		return -1;
	/* By the refund attempts' own event time, like all money. */
	if (pattern(db, "SELECT x.payment_ref, count(*) FROM exceptions x"
	    " JOIN facts f ON f.endpoint = x.endpoint AND f.event_id ="
	    " x.event_id WHERE x.tenant = ?1 AND x.reason ="
	    " 'exceeds_captured_amount' AND f.occurred_at < ?3 AND ?4 = ?4"
	    " GROUP BY x.payment_ref HAVING count(*) >= 2 AND"
	    " max(f.occurred_at) >= ?2 ORDER BY x.payment_ref",
	    t->name, from, to, since, flags, "refund_above_capture", "payment",
	    "", " attempts to refund more than was captured") == -1)
		return -1;
	return 0;
}

/* Captures of the day where SCA applies, and those without a liability
 * shift; flagged from 3 such captures that are a tenth of them or more. */
static json_t *
sca_section(sqlite3 *db, const char *tenant, const char *currency,
    int64_t from, int64_t to, json_t *flags)
{
	sqlite3_stmt	*st;
	int64_t		 applicable = 0, without = 0, amount = 0;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT c.card_country, c.liability_shift,"
	    " c.amount FROM facts c WHERE c.tenant = ?1 AND c.currency = ?2"
	    " AND c.kind = 'capture' AND c.occurred_at >= ?3 AND"
	    " c.occurred_at < ?4 AND c.arrival = (SELECT min(x.arrival) FROM"
	    " facts x WHERE x.tenant = c.tenant AND x.payment_ref ="
	    " c.payment_ref AND x.kind = 'capture')", -1, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cc = (const char *)sqlite3_column_text(st, 0);

		if (cc == NULL || strlen(cc) != 2 ||
		    strstr(sca_countries, cc) == NULL)
			continue;
		applicable++;
		if (sqlite3_column_int(st, 1) != 1) {
			without++;
			amount += sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return NULL;
	if (without >= 3 && without * 10 >= applicable)
		flag(flags, "no_liability_shift", "currency", currency,
		    "%lld of %lld captures where SCA applies had no 3DS "
		    "liability shift", (long long)without,
		    (long long)applicable);
	return json_pack("{s:I, s:I, s:I}", "applicable",
	    (json_int_t)applicable, "without_shift", (json_int_t)without,
	    "amount_without_shift", (json_int_t)amount);
}

/* The tenant's open exceptions as of the end of the day (so that a
 * re-run reproduces the report), from balances.c; flagged above the
 * tenant's threshold. */
static json_t *
exceptions_section(sqlite3 *db, const struct config_tenant *t, int64_t to,
    json_t *flags, char *err, size_t errlen)
{
	json_t		*x;
	json_int_t	 open;
	int64_t		 oldest = 0, age = 0;

	if ((x = exceptions_summary(db, t->name, to, EXCEPTION_PAYMENTS,
	    &oldest, err, errlen)) == NULL)
		return NULL;
	open = json_integer_value(json_object_get(x, "open"));
	if (open > 0)
		age = (to - oldest) / 86400;
	json_object_set_new(x, "oldest_age_days", open > 0 ?
	    json_integer((json_int_t)age) : json_null());
	json_object_set_new(x, "threshold",
	    json_integer((json_int_t)t->exceptions_threshold));
	if (open > (json_int_t)t->exceptions_threshold)
		flag(flags, "open_exceptions", NULL, NULL, "%lld open "
		    "exception%s, more than the threshold of %u; the oldest, "
		    "recorded %s, is %lld day%s old", (long long)open,
		    open == 1 ? "" : "s", t->exceptions_threshold,
		    json_string_value(json_object_get(x, "oldest")),
		    (long long)age, age == 1 ? "" : "s");
	return x;
}

/* The tenant's events still parked at the end of the day, waiting for
 * their payment's capture; flagged once the oldest has waited a day. */
static json_t *
parked_section(sqlite3 *db, const struct config_tenant *t, int64_t to,
    json_t *flags, char *err, size_t errlen)
{
	json_t		*x;
	json_int_t	 n;
	int64_t		 oldest = 0, age = 0;

	if ((x = parked_summary(db, t->name, to, &oldest, err, errlen)) ==
	    NULL)
		return NULL;
	n = json_integer_value(json_object_get(x, "count"));
	if (n > 0)
		age = (to - oldest) / 86400;
	json_object_set_new(x, "oldest_age_days", n > 0 ?
	    json_integer((json_int_t)age) : json_null());
	if (n > 0 && age >= 1)
		flag(flags, "parked_events", NULL, NULL, "%lld event%s parked "
		    "waiting for a capture; the oldest, received %s, is %lld "
		    "day%s old", (long long)n, n == 1 ? "" : "s",
		    json_string_value(json_object_get(x, "oldest")),
		    (long long)age, age == 1 ? "" : "s");
	return x;
}

static char *
iso(int64_t t, char buf[21])
{
	balances_rfc3339(t, buf);
	return buf;
}

static json_t *
tenant_section(sqlite3 *db, const struct reconcile_opts *o,
    const struct config_tenant *t, char *err, size_t errlen)
{
	struct day	 days[HISTORY_MAX + 1];
	char		 date[11], a[21], b[21];
	sqlite3_stmt	*st;
	json_t		*out, *curs, *flags, *c, *progs, *sca, *exc, *park;
	size_t		 n = t->baseline_days, i;
	int		 rc;

	if (o->date != NULL)
		snprintf(date, sizeof(date), "%s", o->date);
	else if (reconcile_yesterday(t->timezone, o->now, date) == -1)
		goto bad_date;
	for (i = 0; i <= n; i++)
		if (day_at(t->timezone, date, (int)(n - i), &days[i]) == -1)
			goto bad_date;
	flags = json_array();
	curs = json_array();
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT currency FROM ledger WHERE"
	    " tenant = ?1 AND occurred_at >= ?2 AND occurred_at < ?3"
	    " ORDER BY currency", -1, &st, NULL) != SQLITE_OK)
		goto sql;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, days[0].from);
	sqlite3_bind_int64(st, 3, days[n].to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cur = (const char *)sqlite3_column_text(st, 0);

		if ((c = currency_section(db, t, cur, days, n + 1, flags)) ==
		    NULL || (sca = sca_section(db, t->name, cur, days[n].from,
		    days[n].to, flags)) == NULL) {
			/* The reason first: finalizing st, which did not
			 * fail, would replace it with "not an error". */
			snprintf(err, errlen, "reading the ledger failed: %s",
			    balances_errmsg(db));
			json_decref(c);
			sqlite3_finalize(st);
			goto fail;
		}
		json_object_set_new(c, "sca", sca);
		json_array_append_new(curs, c);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto sql;
	if ((progs = programmes_section(db, t, date, days[n].to, flags)) ==
	    NULL || patterns(db, t, days[n].from, days[n].to, flags) == -1) {
		json_decref(progs);
		goto sql;
	}
	if ((exc = exceptions_section(db, t, days[n].to, flags, err,
	    errlen)) == NULL || (park = parked_section(db, t, days[n].to,
	    flags, err, errlen)) == NULL) {
		json_decref(exc);
		json_decref(progs);
		json_decref(flags);
		json_decref(curs);
		return NULL;
	}
	out = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o,"
	    " s:o, s:n}", "tenant", t->name, "timezone", t->timezone, "date",
	    date, "day", "from", iso(days[n].from, a), "to", iso(days[n].to,
	    b), "currencies", curs, "programmes", progs, "exceptions", exc,
	    "parked", park, "flags", flags, "settlement");
	if (o->settlement != NULL) {
		json_t *s = settle_match(db, o->settlement, t->name,
		    days[n].from, days[n].to, err, errlen);

		if (s == NULL) {
			json_decref(out);
			return NULL;
		}
		if (!json_is_true(json_object_get(s, "clean")))
			flag(flags, "settlement", "file", json_string_value(
			    json_object_get(s, "file")), "the settlement file "
			    "disagrees with the ledger");
		json_object_set_new(out, "settlement", s);
	}
	return out;
bad_date:
	snprintf(err, errlen, "--date must be a real calendar date, "
	    "YYYY-MM-DD");
	return NULL;
sql:
	snprintf(err, errlen, "reading the ledger failed: %s",
	    balances_errmsg(db));
fail:
	json_decref(flags);
	json_decref(curs);
	return NULL;
}

/* 1 when name is a tenant of the config (a [tenant] section or an
 * endpoint's tenant) or of the ledger, 0 when not, -1 on error. */
static int
tenant_known(sqlite3 *db, const struct config *cfg, const char *name)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	if (cfg != NULL && config_tenant(cfg, name) != NULL)
		return 1;
	for (i = 0; cfg != NULL && i < cfg->nendpoints; i++)
		if (strcmp(cfg->endpoints[i].tenant, name) == 0)
			return 1;
	if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM facts WHERE"
	    " tenant = ?1) OR EXISTS (SELECT 1 FROM ledger WHERE tenant = ?1)",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	i = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? (int)i : -1;
}

json_t *
reconcile_run(sqlite3 *db, const struct reconcile_opts *o,
    const struct verify_report *vr, char *err, size_t errlen)
{
	struct config_tenant	 t;
	const struct config_tenant *ct;
	sqlite3_stmt		*st;
	json_t			*report, *tenants, *ts;
	char			 hex[2 * DIGEST_SHA256_LEN + 1], date[11];
	int			 rc, flagged = 0;
	size_t			 i;

	tenants = json_array();
	ts = json_array();
	/* Every tenant named in the config or present in the ledger. A
	 * tenant named on the command line must be one of them: a typo in a
	 * cron line must not give a clean report every night. */
	if (o->tenant != NULL) {
		if ((rc = tenant_known(db, o->cfg, o->tenant)) == -1)
			goto sql;
		if (rc == 0) {
			snprintf(err, errlen, "--tenant %s: no such tenant (not "
			    "in the config, nothing in the ledger)", o->tenant);
			goto fail;
		}
		json_array_append_new(ts, json_string(o->tenant));
	}
	else {
		if (sqlite3_prepare_v2(db, "SELECT DISTINCT tenant FROM facts"
		    " UNION SELECT DISTINCT tenant FROM ledger ORDER BY 1", -1,
		    &st, NULL) != SQLITE_OK)
			goto sql;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			json_array_append_new(ts, json_string((const char *)
			    sqlite3_column_text(st, 0)));
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto sql;
		for (i = 0; o->cfg != NULL && i < o->cfg->ntenants; i++) {
			size_t j, dup = 0;

			for (j = 0; j < json_array_size(ts); j++)
				dup |= strcmp(json_string_value(json_array_get(
				    ts, j)), o->cfg->tenants[i].name) == 0;
			if (!dup)
				json_array_append_new(ts,
				    json_string(o->cfg->tenants[i].name));
		}
	}
	for (i = 0; i < json_array_size(ts); i++) {
		const char	*name = json_string_value(json_array_get(ts, i));
		json_t		*sec;

		ct = o->cfg != NULL ? config_tenant(o->cfg, name) : NULL;
		if (ct != NULL)
			t = *ct;
		else
			config_tenant_defaults(&t, name);
		if ((sec = tenant_section(db, o, &t, err, errlen)) == NULL)
			goto fail;
		flagged |= json_array_size(json_object_get(sec, "flags")) > 0;
		json_array_append_new(tenants, sec);
	}
	digest_hex(vr->head_hash, sizeof(vr->head_hash), hex);
	/* Without --date each tenant has its own yesterday; the report is
	 * named after the first one's. */
	if (o->date == NULL && json_array_size(tenants) > 0)
		snprintf(date, sizeof(date), "%s", json_string_value(
		    json_object_get(json_array_get(tenants, 0), "date")));
	else if (o->date == NULL &&
	    reconcile_yesterday("UTC", o->now, date) == -1)
		goto fail;
	else if (o->date != NULL)
		snprintf(date, sizeof(date), "%s", o->date);
	report = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:s}, s:b, s:o}",
	    "report", "hookledger-reconcile/1",
	    "date", date,
	    "scope", o->tenant != NULL ? o->tenant : "all",
	    "ledger", "entries", (json_int_t)vr->entries, "head_seq",
	    (json_int_t)vr->head_seq, "head_hash", hex,
	    "flagged", flagged, "tenants", tenants);
	json_decref(ts);
	return report;
sql:
	snprintf(err, errlen, "reading the ledger failed: %s",
	    balances_errmsg(db));
fail:
	json_decref(ts);
	json_decref(tenants);
	return NULL;
}
