/*
 * balances.c: balances, exceptions and one payment's state, all derived
 * by queries over postings and facts. Nothing here writes.
 */
#include "balances.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
balances_rfc3339(int64_t t, char out[21])
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		snprintf(out, 21, "0000-00-00T00:00:00Z");
		return;
	}
	snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u);
}

const char *
balances_errmsg(sqlite3 *db)
{
	const char *m = sqlite3_errmsg(db);

	if (m == NULL)
		return "out of memory";
	return strcmp(m, "integer overflow") == 0 ? BALANCES_OVERFLOW : m;
}

static json_t *
fail(sqlite3 *db, char *err, size_t errlen, json_t *o)
{
	snprintf(err, errlen, "query failed: %s", balances_errmsg(db));
	json_decref(o);
	return NULL;
}

json_t *
balances_query(sqlite3 *db, const char *tenant, int64_t at, char *err,
    size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	json_t		*o, *arr;
	char		 ts[21];
	int		 rc;

	o = json_pack("{s:s, s:n, s:[]}", "tenant", tenant, "at", "balances");
	if (o == NULL)
		return fail(db, err, errlen, NULL);
	if (at != BALANCES_NOW) {
		balances_rfc3339(at, ts);
		json_object_set_new(o, "at", json_string(ts));
	}
	arr = json_object_get(o, "balances");
	if (sqlite3_prepare_v2(db, "SELECT l.currency, p.account,"
	    " sum(p.debit) - sum(p.credit) FROM postings p JOIN ledger l"
	    " ON l.seq = p.seq WHERE l.tenant = ?1 AND l.occurred_at <= ?2"
	    " GROUP BY l.currency, p.account ORDER BY l.currency, p.account",
	    -1, &st, NULL) != SQLITE_OK)
		return fail(db, err, errlen, o);
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}",
		    "account", (const char *)sqlite3_column_text(st, 1),
		    "currency", (const char *)sqlite3_column_text(st, 0),
		    "balance", (json_int_t)sqlite3_column_int64(st, 2)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(db, err, errlen, o);
	return o;
}

/* One exception as read by exceptions_each(); strings live until the
 * callback returns. */
struct exception_row {
	const char	*tenant, *endpoint, *event_id, *payment_ref, *reason;
	int		 posted;
	int64_t		 recorded_at;
	int64_t		 amount;	/* of its event, from facts */
	const char	*currency;	/* "" when no fact (cannot happen) */
};

/*
 * The one query of what an exception is: the tenant's (every tenant's
 * when NULL) exceptions recorded before `before`, the newest limit of
 * them (every one when limit is -1), oldest first, each with the amount
 * and currency of its event. fn returns 0 to go on, -1 to stop.
 */
static int
exceptions_each(sqlite3 *db, const char *tenant, int64_t before,
    int64_t limit, int (*fn)(const struct exception_row *, void *),
    void *arg)
{
	struct exception_row	 r;
	sqlite3_stmt		*st = NULL;
	const char		*cur;
	int			 rc;

	if (sqlite3_prepare_v2(db, "SELECT x.tenant, x.endpoint, x.event_id,"
	    " x.payment_ref, x.reason, x.posted, x.recorded_at, f.amount,"
	    " f.currency FROM (SELECT * FROM exceptions WHERE (?1 IS NULL OR"
	    " tenant = ?1) AND recorded_at < ?3 ORDER BY id DESC LIMIT ?2) x"
	    " LEFT JOIN facts f ON f.endpoint = x.endpoint AND f.event_id ="
	    " x.event_id ORDER BY x.id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (tenant != NULL)
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.tenant = (const char *)sqlite3_column_text(st, 0);
		r.endpoint = (const char *)sqlite3_column_text(st, 1);
		r.event_id = (const char *)sqlite3_column_text(st, 2);
		r.payment_ref = (const char *)sqlite3_column_text(st, 3);
		r.reason = (const char *)sqlite3_column_text(st, 4);
		r.posted = sqlite3_column_int(st, 5);
		r.recorded_at = sqlite3_column_int64(st, 6);
		r.amount = sqlite3_column_int64(st, 7);
		cur = (const char *)sqlite3_column_text(st, 8);
		r.currency = cur != NULL ? cur : "";
		if (r.tenant == NULL || r.endpoint == NULL ||
		    r.event_id == NULL || r.payment_ref == NULL ||
		    r.reason == NULL || fn(&r, arg) == -1) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
list_row(const struct exception_row *r, void *arg)
{
	char	 ts[21];

	balances_rfc3339(r->recorded_at, ts);
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s,"
	    " s:s, s:b, s:s}", "tenant", r->tenant, "endpoint", r->endpoint,
	    "event_id", r->event_id, "payment_ref", r->payment_ref, "reason",
	    r->reason, "posted", r->posted, "recorded_at", ts));
}

/*
 * Parked events as of `before`: received before it as "parked" (an event
 * about a payment with no capture yet), and whose payment still had no
 * capture received before it that counts (one refused by an exception
 * that posted nothing does not release them). Oldest first, at most
 * limit. Each row: tenant, endpoint, event_id, payment_ref, kind,
 * amount, currency, received_at.
 */
static const char parked_sql[] = "SELECT r.tenant, r.endpoint, r.event_id,"
    " f.payment_ref, f.kind, f.amount, f.currency, r.received_at"
    " FROM receipts r JOIN facts f ON f.endpoint = r.endpoint"
    " AND f.event_id = r.event_id WHERE r.outcome = 'parked'"
    " AND (?1 IS NULL OR r.tenant = ?1) AND r.received_at < ?2"
    " AND NOT EXISTS (SELECT 1 FROM facts g JOIN receipts q"
    " ON q.endpoint = g.endpoint AND q.event_id = g.event_id"
    " WHERE g.tenant = f.tenant AND g.payment_ref = f.payment_ref"
    " AND g.kind = 'capture' AND q.received_at < ?2 AND NOT EXISTS"
    " (SELECT 1 FROM exceptions x WHERE x.endpoint = g.endpoint"
    " AND x.event_id = g.event_id AND x.posted = 0))"
    " ORDER BY r.received_at, f.arrival LIMIT ?3";

static int
parked_list(sqlite3 *db, const char *tenant, int64_t limit, json_t *arr)
{
	sqlite3_stmt	*st = NULL;
	char		 ts[21];
	int		 rc;

	if (sqlite3_prepare_v2(db, parked_sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (tenant != NULL)
		sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, INT64_MAX);
	sqlite3_bind_int64(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c[5];
		int i;

		for (i = 0; i < 5; i++)
			c[i] = (const char *)sqlite3_column_text(st, i);
		if (c[0] == NULL || c[1] == NULL || c[2] == NULL ||
		    c[3] == NULL || c[4] == NULL)
			break;
		balances_rfc3339(sqlite3_column_int64(st, 7), ts);
		if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s,"
		    " s:s, s:I, s:s, s:s, s:s}", "tenant", c[0], "endpoint",
		    c[1], "event_id", c[2], "payment_ref", c[3], "kind", c[4],
		    "amount", (json_int_t)sqlite3_column_int64(st, 5),
		    "currency", (const char *)sqlite3_column_text(st, 6) !=
		    NULL ? (const char *)sqlite3_column_text(st, 6) : "",
		    "reason", "payment_not_captured", "received_at", ts)) == -1)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

json_t *
exceptions_query(sqlite3 *db, const char *tenant, size_t limit, char *err,
    size_t errlen)
{
	json_t	*o;

	if ((o = json_pack("{s:[], s:[]}", "exceptions", "parked")) == NULL)
		return fail(db, err, errlen, NULL);
	if (limit > INT64_MAX)
		limit = INT64_MAX;
	if (exceptions_each(db, tenant, INT64_MAX, (int64_t)limit, list_row,
	    json_object_get(o, "exceptions")) == -1 ||
	    parked_list(db, tenant, (int64_t)limit,
	    json_object_get(o, "parked")) == -1)
		return fail(db, err, errlen, o);
	return o;
}

json_t *
parked_summary(sqlite3 *db, const char *tenant, int64_t before,
    int64_t *oldest, char *err, size_t errlen)
{
	sqlite3_stmt	*st = NULL;
	int64_t		 n = 0;
	char		 ts[21];
	int		 rc;

	*oldest = 0;
	if (sqlite3_prepare_v2(db, parked_sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, err, errlen, NULL);
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int64(st, 3, -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (n++ == 0)
			*oldest = sqlite3_column_int64(st, 7);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "query failed: %s", balances_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	sqlite3_finalize(st);
	if (n > 0)
		balances_rfc3339(*oldest, ts);
	return json_pack("{s:I, s:o}", "count", (json_int_t)n, "oldest",
	    n > 0 ? json_string(ts) : json_null());
}

/* What exceptions_summary() adds up: one group per currency and reason,
 * sorted at the end. */
struct summary_group {
	char		 currency[4];
	char		 reason[EXCEPTIONS_REASON_MAX + 1];
	int64_t		 count, amount;
};

struct summary {
	struct summary_group	*groups;
	size_t			 ngroups;
	int64_t			 open, oldest;
	json_t			*payments;
	size_t			 npayments;
	int			 overflow;
};

static int
summary_row(const struct exception_row *r, void *arg)
{
	struct summary		*s = arg;
	struct summary_group	*g = NULL;
	size_t			 i;

	if (strlen(r->currency) >= sizeof(g->currency) ||
	    strlen(r->reason) > EXCEPTIONS_REASON_MAX) {
		s->overflow = 1;
		return -1;
	}
	for (i = 0; i < s->ngroups && g == NULL; i++)
		if (strcmp(s->groups[i].currency, r->currency) == 0 &&
		    strcmp(s->groups[i].reason, r->reason) == 0)
			g = &s->groups[i];
	if (g == NULL) {
		if (s->ngroups == EXCEPTIONS_GROUPS_MAX) {
			s->overflow = 1;
			return -1;
		}
		g = &s->groups[s->ngroups++];
		snprintf(g->currency, sizeof(g->currency), "%s", r->currency);
		snprintf(g->reason, sizeof(g->reason), "%s", r->reason);
	}
	if (__builtin_add_overflow(g->amount, r->amount, &g->amount)) {
		s->overflow = 1;
		return -1;
	}
	g->count++;
	if (s->open++ == 0)
		s->oldest = r->recorded_at;
	for (i = 0; i < json_array_size(s->payments); i++)
		if (strcmp(json_string_value(json_array_get(s->payments, i)),
		    r->payment_ref) == 0)
			return 0;
	if (json_array_size(s->payments) < s->npayments)
		return json_array_append_new(s->payments,
		    json_string(r->payment_ref));
	return 0;
}

static int
cmp_group(const void *a, const void *b)
{
	const struct summary_group *x = a, *y = b;
	int c = strcmp(x->currency, y->currency);

	return c != 0 ? c : strcmp(x->reason, y->reason);
}

json_t *
exceptions_summary(sqlite3 *db, const char *tenant, int64_t before,
    size_t npayments, int64_t *oldest, char *err, size_t errlen)
{
	struct summary	 s;
	json_t		*o = NULL, *groups;
	char		 ts[21];
	size_t		 i;

	memset(&s, 0, sizeof(s));
	s.npayments = npayments;
	if ((s.groups = calloc(EXCEPTIONS_GROUPS_MAX, sizeof(*s.groups))) ==
	    NULL || (s.payments = json_array()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (exceptions_each(db, tenant, before, -1, summary_row, &s) == -1) {
		if (s.overflow)
			snprintf(err, errlen, "exceptions of tenant %s: more "
			    "than %d kinds, or an amount out of range", tenant,
			    EXCEPTIONS_GROUPS_MAX);
		else
			snprintf(err, errlen, "query failed: %s",
			    balances_errmsg(db));
		goto fail;
	}
	qsort(s.groups, s.ngroups, sizeof(*s.groups), cmp_group);
	groups = json_array();
	for (i = 0; i < s.ngroups; i++)
		json_array_append_new(groups, json_pack("{s:s, s:s, s:I, s:I}",
		    "currency", s.groups[i].currency, "reason",
		    s.groups[i].reason, "count", (json_int_t)s.groups[i].count,
		    "amount", (json_int_t)s.groups[i].amount));
	if (s.open > 0)
		balances_rfc3339(s.oldest, ts);
	*oldest = s.oldest;
	o = json_pack("{s:I, s:o, s:o, s:o}", "open", (json_int_t)s.open,
	    "by_reason", groups, "oldest", s.open > 0 ? json_string(ts) :
	    json_null(), "payments", s.payments);
	s.payments = NULL;
	if (o == NULL)
		snprintf(err, errlen, "out of memory");
fail:
	json_decref(s.payments);
	free(s.groups);
	return o;
}

/* The balance of one account of one payment. */
static int
account_sum(sqlite3 *db, const char *tenant, const char *ref,
    const char *account, int64_t *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(p.debit) -"
	    " sum(p.credit), 0) FROM postings p JOIN ledger l ON l.seq = p.seq"
	    " WHERE l.tenant = ?1 AND l.payment_ref = ?2 AND p.account = ?3",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

json_t *
balances_payment(sqlite3 *db, const char *tenant, const char *ref, int *found,
    char *err, size_t errlen)
{
	static const char *const accts[] = { "refunds", "refunds_pending",
	    "disputes_open", "disputes_lost", "sales" };
	static const char *const keys[] = { "refunded", "refund_pending",
	    "disputed", "dispute_lost", NULL };
	sqlite3_stmt	*st = NULL;
	json_t		*o = NULL, *cap = json_null(), *exp = json_null();
	int64_t		 v, sales = 0, back = 0;
	size_t		 i;
	int		 rc;

	*found = 0;
	if (sqlite3_prepare_v2(db, "SELECT amount, currency FROM expectations"
	    " WHERE tenant = ?1 AND payment_ref = ?2", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*found = 1;
		json_decref(exp);
		exp = json_pack("{s:I, s:s}", "amount",
		    (json_int_t)sqlite3_column_int64(st, 0), "currency",
		    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	/* The capture that counts is the first one not excluded. */
	if (sqlite3_prepare_v2(db, "SELECT f.amount, f.currency, f.verdict,"
	    " (SELECT max(g.sca_result) FROM facts g WHERE g.tenant = f.tenant"
	    " AND g.payment_ref = f.payment_ref AND g.kind = 'capture'),"
	    " (SELECT max(g.liability_shift) FROM facts g WHERE"
	    " g.tenant = f.tenant AND g.payment_ref = f.payment_ref"
	    " AND g.kind = 'capture') FROM facts f WHERE f.tenant = ?1"
	    " AND f.payment_ref = ?2 AND f.kind = 'capture' AND NOT EXISTS"
	    " (SELECT 1 FROM exceptions x WHERE x.endpoint = f.endpoint AND"
	    " x.event_id = f.event_id AND x.posted = 0) ORDER BY f.arrival"
	    " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *sca = (const char *)sqlite3_column_text(st, 3);
		int shift = sqlite3_column_int(st, 4);

		*found = 1;
		json_decref(cap);
		cap = json_pack("{s:I, s:s, s:s, s:o, s:o}", "amount",
		    (json_int_t)sqlite3_column_int64(st, 0), "currency",
		    (const char *)sqlite3_column_text(st, 1), "verdict",
		    (const char *)sqlite3_column_text(st, 2), "sca_result",
		    sca != NULL && *sca != '\0' ? json_string(sca) : json_null(),
		    "liability_shift", shift < 0 ? json_null() :
		    json_boolean(shift));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	if (!*found) {
		json_decref(cap);
		json_decref(exp);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:o, s:o}", "tenant", tenant, "payment", ref,
	    "expected", exp, "captured", cap);
	exp = cap = NULL;
	if (o == NULL)
		goto fail;
	for (i = 0; i < sizeof(accts) / sizeof(accts[0]); i++) {
		if (account_sum(db, tenant, ref, accts[i], &v) == -1)
			goto fail;
		if (keys[i] != NULL) {
			json_object_set_new(o, keys[i], json_integer(v));
			back += v;
		} else
			sales = -v;
	}
	/* Paid: its capture posted to sales (verified, or unverified where
	 * no expectation is required), and something of it is still the
	 * merchant's: captured - refunded - refund pending - open disputes
	 * - lost disputes > 0. Each term is at most the capture (books.c),
	 * so the sum cannot overflow. */
	json_object_set_new(o, "paid", json_boolean(sales > 0 &&
	    sales - back > 0));
	return o;
fail:
	snprintf(err, errlen, "query failed: %s", balances_errmsg(db));
	sqlite3_finalize(st);
	json_decref(cap);
	json_decref(exp);
	json_decref(o);
	return NULL;
}
