/*
 * test_money.c: the money rules of the ledger, with exact balances:
 * double-entry postings, captures reported several times, cumulative and
 * pending refunds, disputes, payouts, expectations and their verdicts,
 * parking of early events, exceptions, and the property that final
 * balances do not depend on the order of delivery.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "balances.h"
#include "digest.h"
#include "ledger.h"
#include "reconcile.h"
#include "verify.h"
#include "tmpdir.h"

static char		 dir[256], db[300], err[512];
static struct ledger	*lg;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "money");
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	lg = ledger_open(db, LEDGER_READ_WRITE, err, sizeof(err));
	ck_assert_msg(lg != NULL, "%s", err);
}

static void
teardown(void)
{
	ledger_close(lg);
	lg = NULL;
	tmpdir_remove(dir);
	digest_fini();
}

/* One event as the mapper would hand it over. */
struct ev {
	const char		*id;
	enum event_kind		 kind;
	const char		*ref;
	const char		*object;
	int64_t			 amount;
	enum event_status	 status;
	int			 cumulative;
	const char		*currency;
	int64_t			 fee;
	int64_t			 at;		/* event time offset, seconds */
};

static struct ledger_outcome
send(const struct ev *e, int require)
{
	struct ledger_event	 le;
	struct ledger_outcome	 out;
	char			 body[600];

	memset(&le, 0, sizeof(le));
	le.tenant = "acme";
	le.endpoint = "stripe";
	le.event_id = e->id;
	le.require_expectations = require;
	le.move.kind = e->kind;
	snprintf(le.move.type, sizeof(le.move.type), "test.%s",
	    event_kind_name(e->kind));
	snprintf(le.move.payment_ref, sizeof(le.move.payment_ref), "%s",
	    e->ref);
	snprintf(le.move.object_id, sizeof(le.move.object_id), "%s",
	    e->object != NULL ? e->object : "");
	le.move.amount = e->amount;
	snprintf(le.move.currency, sizeof(le.move.currency), "%s",
	    e->currency != NULL ? e->currency : "USD");
	le.move.status = e->status;
	le.move.cumulative = e->cumulative;
	le.move.fee = e->fee;
	le.move.liability_shift = -1;
	le.move.occurred_at = 1764700000 + e->at;
	snprintf(body, sizeof(body), "%s|%d|%s|%" PRId64 "|%d", e->id,
	    (int)e->kind, e->ref, e->amount, (int)e->status);
	digest_sha256(body, strlen(body), le.body_sha256);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ledger_apply(lg, &le, 1764700001, &out);
	ck_assert_int_eq(ledger_commit(lg), 0);
	return out;
}

/* The tenant's balances as "account:currency=N" joined by spaces. */
static void
balances(char *out, size_t cap)
{
	json_t	*o, *b;
	size_t	 i, off = 0;

	o = balances_query(ledger_db(lg), "acme", BALANCES_NOW, err,
	    sizeof(err));
	ck_assert_msg(o != NULL, "%s", err);
	out[0] = '\0';
	json_array_foreach(json_object_get(o, "balances"), i, b) {
		json_int_t v = json_integer_value(json_object_get(b, "balance"));

		if (v == 0)
			continue;
		off += (size_t)snprintf(out + off, cap - off, "%s%s:%s=%lld",
		    off ? " " : "",
		    json_string_value(json_object_get(b, "account")),
		    json_string_value(json_object_get(b, "currency")),
		    (long long)v);
		ck_assert_uint_lt(off, cap);
	}
	json_decref(o);
}

static void
assert_balances(const char *want)
{
	char got[1024];

	balances(got, sizeof(got));
	ck_assert_str_eq(got, want);
}

static void
assert_verify(int64_t entries)
{
	struct verify_report	 rep;
	struct ledger		*ro;

	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_msg(ro != NULL, "%s", err);
	ck_assert_msg(verify_ledger(ro, &rep) == VERIFY_OK, "%s", rep.problem);
	ledger_close(ro);
	if (entries >= 0)
		ck_assert_int_eq(rep.entries, entries);
}

static int64_t
count(const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	ck_assert_int_eq(sqlite3_prepare_v2(ledger_db(lg), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

#define CAP(id, ref, amt)	{ id, EVENT_CAPTURE, ref, NULL, amt, 0, 0, NULL, 0, 0 }
#define REF(id, ref, re, amt, st) \
	{ id, EVENT_REFUND, ref, re, amt, EVENT_STATUS_##st, 0, NULL, 0, 0 }
#define CUM(id, ref, amt) \
	{ id, EVENT_REFUND, ref, "ch_x", amt, EVENT_STATUS_SUCCEEDED, 1, NULL, 0, 0 }
#define DSP(id, kind, ref, dp, amt) \
	{ id, EVENT_DISPUTE_##kind, ref, dp, amt, 0, 0, NULL, 0, 0 }
#define PAY(id, po, amt, st) \
	{ id, EVENT_PAYOUT, po, po, amt, EVENT_STATUS_##st, 0, NULL, 0, 0 }

START_TEST(capture_posts_double_entry)
{
	struct ev		 e = CAP("evt_1", "pi_1", 2000);
	struct ledger_outcome	 o = send(&e, 0);

	ck_assert_int_eq(o.status, 200);
	ck_assert_str_eq(o.response,
	    "{\"result\":\"applied\",\"event_id\":\"evt_1\",\"seq\":1}");
	assert_balances("provider_balance:USD=2000 sales:USD=-2000");
	ck_assert_int_eq(count("SELECT count(*) FROM postings WHERE seq = 1"),
	    2);
	assert_verify(1);
}
END_TEST

START_TEST(capture_reported_three_times_posts_once)
{
	struct ev pi = CAP("evt_pi", "pi_1", 2000);
	struct ev ch = CAP("evt_ch", "pi_1", 2000);
	struct ev cc = CAP("evt_cc", "pi_1", 2000);

	send(&pi, 0);
	ck_assert_str_eq(send(&ch, 0).response, "{\"result\":\"recorded\","
	    "\"event_id\":\"evt_ch\",\"note\":\"capture_already_posted\"}");
	send(&cc, 0);
	assert_balances("provider_balance:USD=2000 sales:USD=-2000");
	assert_verify(1);
}
END_TEST

START_TEST(fee_is_posted)
{
	struct ev e = CAP("evt_1", "pay_1", 2000);

	e.fee = 88;
	send(&e, 0);
	assert_balances("fees:USD=88 provider_balance:USD=1912 "
	    "sales:USD=-2000");
}
END_TEST

START_TEST(cumulative_refunds_and_refund_ids_count_once)
{
	struct ev evs[] = {
		CAP("evt_1", "pi_1", 1000),
		REF("evt_r1", "pi_1", "re_1", 300, SUCCEEDED),
		CUM("evt_c1", "pi_1", 300),	/* same refund, running total */
		CUM("evt_c2", "pi_1", 500),	/* a second refund of 200 */
		REF("evt_r2", "pi_1", "re_2", 200, SUCCEEDED),
	};
	size_t i;

	for (i = 0; i < 5; i++)
		send(&evs[i], 0);
	assert_balances("provider_balance:USD=500 refunds:USD=500 "
	    "sales:USD=-1000");
	assert_verify(3);
}
END_TEST

START_TEST(pending_refund_holds_then_settles_or_returns)
{
	struct ev evs[] = {
		CAP("evt_1", "pi_1", 1000),
		REF("evt_p", "pi_1", "re_1", 400, PENDING),
		REF("evt_p2", "pi_1", "re_2", 100, PENDING),
	};
	struct ev ok = REF("evt_s", "pi_1", "re_1", 400, SUCCEEDED);
	struct ev ko = REF("evt_f", "pi_1", "re_2", 100, FAILED);
	size_t i;

	for (i = 0; i < 3; i++)
		send(&evs[i], 0);
	assert_balances("provider_balance:USD=500 refunds_pending:USD=500 "
	    "sales:USD=-1000");
	send(&ok, 0);
	assert_balances("provider_balance:USD=500 refunds:USD=400 "
	    "refunds_pending:USD=100 sales:USD=-1000");
	send(&ko, 0);
	assert_balances("provider_balance:USD=600 refunds:USD=400 "
	    "sales:USD=-1000");
	assert_verify(5);
}
END_TEST

START_TEST(disputes_withdraw_reinstate_and_lose)
{
	struct ev evs[] = {
		CAP("evt_1", "pi_1", 1000),
		CAP("evt_2", "pi_2", 700),
		DSP("evt_d1", OPENED, "pi_1", "dp_1", 1000),
		DSP("evt_d2", OPENED, "pi_2", "dp_2", 700),
	};
	struct ev won = DSP("evt_w", WON, "pi_1", "dp_1", 1000);
	struct ev lost = DSP("evt_l", LOST, "pi_2", "dp_2", 700);
	size_t i;

	for (i = 0; i < 4; i++)
		send(&evs[i], 0);
	assert_balances("disputes_open:USD=1700 sales:USD=-1700");
	send(&won, 0);
	assert_balances("disputes_open:USD=700 provider_balance:USD=1000 "
	    "sales:USD=-1700");
	send(&lost, 0);
	assert_balances("disputes_lost:USD=700 provider_balance:USD=1000 "
	    "sales:USD=-1700");
	assert_verify(6);
}
END_TEST

START_TEST(payouts_and_failed_payouts)
{
	struct ev c = CAP("evt_1", "pi_1", 5000);
	struct ev p = PAY("evt_p", "po_1", 4000, SUCCEEDED);
	struct ev f = PAY("evt_f", "po_1", 4000, FAILED);

	send(&c, 0);
	send(&p, 0);
	assert_balances("payouts:USD=4000 provider_balance:USD=1000 "
	    "sales:USD=-5000");
	send(&f, 0);
	assert_balances("provider_balance:USD=5000 sales:USD=-5000");
	assert_verify(3);
}
END_TEST

START_TEST(refunds_never_exceed_capture)
{
	struct ev c = CAP("evt_1", "pi_1", 1000);
	struct ev r1 = REF("evt_r1", "pi_1", "re_1", 600, SUCCEEDED);
	struct ev r2 = REF("evt_r2", "pi_1", "re_2", 600, SUCCEEDED);
	struct ev l = DSP("evt_l", LOST, "pi_1", "dp_1", 1000);
	struct ledger_outcome o;

	send(&c, 0);
	send(&r1, 0);
	o = send(&r2, 0);
	ck_assert_int_eq(o.status, 200);
	ck_assert_str_eq(o.response, "{\"result\":\"exception\",\"event_id\":"
	    "\"evt_r2\",\"reason\":\"exceeds_captured_amount\"}");
	o = send(&l, 0);
	ck_assert_str_eq(o.response, "{\"result\":\"exception\",\"event_id\":"
	    "\"evt_l\",\"reason\":\"exceeds_captured_amount\"}");
	assert_balances("provider_balance:USD=400 refunds:USD=600 "
	    "sales:USD=-1000");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions WHERE posted"
	    " = 0 AND reason = 'exceeds_captured_amount'"), 2);
	/* Redelivery of the exception replays it and adds nothing. */
	ck_assert_str_eq(send(&r2, 0).response, "{\"result\":\"exception\","
	    "\"event_id\":\"evt_r2\",\"reason\":\"exceeds_captured_amount\"}");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 2);
	assert_verify(2);
}
END_TEST

START_TEST(other_currency_is_an_exception)
{
	struct ev c = CAP("evt_1", "pi_1", 1000);
	struct ev r = REF("evt_r", "pi_1", "re_1", 100, SUCCEEDED);

	r.currency = "EUR";
	send(&c, 0);
	ck_assert_str_eq(send(&r, 0).response, "{\"result\":\"exception\","
	    "\"event_id\":\"evt_r\",\"reason\":\"currency_mismatch\"}");
	assert_balances("provider_balance:USD=1000 sales:USD=-1000");
}
END_TEST

START_TEST(early_events_are_parked_then_posted)
{
	struct ev r = REF("evt_r", "pi_1", "re_1", 300, SUCCEEDED);
	struct ev d = DSP("evt_d", OPENED, "pi_1", "dp_1", 700);
	struct ev c = CAP("evt_c", "pi_1", 1000);

	ck_assert_str_eq(send(&r, 0).response, "{\"result\":\"parked\","
	    "\"event_id\":\"evt_r\",\"reason\":\"payment_not_captured\"}");
	send(&d, 0);
	assert_balances("");
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), 0);
	ck_assert_str_eq(send(&c, 0).response,
	    "{\"result\":\"applied\",\"event_id\":\"evt_c\",\"seq\":1}");
	/* The capture posts, then each parked event, in arrival order, as
	 * an entry of its own. */
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), 3);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger WHERE seq = 2"
	    " AND event_id = 'evt_r' AND kind = 'refund' AND amount = 300"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger WHERE seq = 3"
	    " AND event_id = 'evt_d' AND amount = 700"), 1);
	assert_balances("disputes_open:USD=700 refunds:USD=300 "
	    "sales:USD=-1000");
	assert_verify(3);
}
END_TEST

static void
expect(const char *ref, int64_t amount, const char *cur)
{
	struct ledger_expectation	 x;
	struct ledger_outcome		 out;

	memset(&x, 0, sizeof(x));
	x.tenant = "acme";
	x.payment_ref = ref;
	x.amount = amount;
	snprintf(x.currency, sizeof(x.currency), "%s", cur);
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1764700000, &out),
	    LEDGER_APPLIED);
	ck_assert_int_eq(out.status, 201);
}

START_TEST(expectation_verdicts)
{
	struct ev ok = CAP("evt_ok", "pi_ok", 2000);
	struct ev bad = CAP("evt_bad", "pi_bad", 1999);
	struct ev cur = CAP("evt_cur", "pi_cur", 2000);
	struct ev none = CAP("evt_none", "pi_none", 500);
	json_t *p;
	int found;

	expect("pi_ok", 2000, "USD");
	expect("pi_bad", 2000, "USD");
	expect("pi_cur", 2000, "EUR");
	ck_assert_str_eq(send(&ok, 0).response,
	    "{\"result\":\"applied\",\"event_id\":\"evt_ok\",\"seq\":1}");
	ck_assert_str_eq(send(&bad, 0).response, "{\"result\":\"applied\","
	    "\"event_id\":\"evt_bad\",\"seq\":2,\"verdict\":\"amount_mismatch\"}");
	ck_assert_str_eq(send(&cur, 0).response, "{\"result\":\"applied\","
	    "\"event_id\":\"evt_cur\",\"seq\":3,\"verdict\":\"amount_mismatch\"}");
	send(&none, 0);
	/* Mismatched captures are money at the provider, never sales. */
	assert_balances("provider_balance:USD=6499 sales:USD=-2500 "
	    "suspense:USD=-3999");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions WHERE posted"
	    " = 1 AND reason = 'amount_mismatch'"), 2);
	p = balances_payment(ledger_db(lg), "acme", "pi_bad", &found, err,
	    sizeof(err));
	ck_assert_ptr_nonnull(p);
	ck_assert(json_is_false(json_object_get(p, "paid")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "captured"), "verdict")), "amount_mismatch");
	json_decref(p);
	p = balances_payment(ledger_db(lg), "acme", "pi_ok", &found, err,
	    sizeof(err));
	ck_assert(json_is_true(json_object_get(p, "paid")));
	json_decref(p);
	p = balances_payment(ledger_db(lg), "acme", "pi_none", &found, err,
	    sizeof(err));
	ck_assert(json_is_true(json_object_get(p, "paid")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(p,
	    "captured"), "verdict")), "unverified");
	json_decref(p);
	ck_assert_ptr_null(balances_payment(ledger_db(lg), "acme", "pi_nope",
	    &found, err, sizeof(err)));
	ck_assert_int_eq(found, 0);
	assert_verify(4);
}
END_TEST

START_TEST(required_expectation_missing_is_not_paid)
{
	struct ev none = CAP("evt_none", "pi_none", 500);

	ck_assert_str_eq(send(&none, 1).response, "{\"result\":\"applied\","
	    "\"event_id\":\"evt_none\",\"seq\":1,\"verdict\":"
	    "\"no_expectation\"}");
	assert_balances("provider_balance:USD=500 suspense:USD=-500");
}
END_TEST

START_TEST(expectation_conflict)
{
	struct ledger_expectation	 x;
	struct ledger_outcome		 out;

	expect("pi_1", 2000, "USD");
	memset(&x, 0, sizeof(x));
	x.tenant = "acme";
	x.payment_ref = "pi_1";
	x.amount = 2000;
	memcpy(x.currency, "USD", 4);
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1, &out), LEDGER_RECORDED);
	ck_assert_int_eq(out.status, 200);
	x.amount = 2001;
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1, &out), LEDGER_CONFLICT);
	ck_assert_int_eq(out.status, 409);
	ck_assert_int_eq(count("SELECT amount FROM expectations"), 2000);
}
END_TEST

START_TEST(running_total_back_to_zero)
{
	struct ev c = CAP("evt_c", "pi_1", 2000);
	struct ev t1 = CUM("evt_t1", "pi_1", 500);
	struct ev f = REF("evt_f", "pi_1", "re_1", 500, FAILED);
	struct ev t0 = CUM("evt_t0", "pi_1", 0);

	send(&c, 0);
	send(&t1, 0);
	assert_balances("provider_balance:USD=1500 refunds:USD=500 "
	    "sales:USD=-2000");
	/* The failure of a refund the total counted waits for the total. */
	send(&f, 0);
	assert_balances("provider_balance:USD=1500 refunds:USD=500 "
	    "sales:USD=-2000");
	t0.at = 1;
	ck_assert_str_eq(send(&t0, 0).response, "{\"result\":\"applied\","
	    "\"event_id\":\"evt_t0\",\"seq\":3}");
	assert_balances("provider_balance:USD=2000 sales:USD=-2000");
	ck_assert_int_eq(count("SELECT count(*) FROM facts WHERE amount = 0"
	    " AND cumulative = 1"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 0);
	assert_verify(3);
}
END_TEST

/* Sums that pass 2^63 - 1 are said to be out of range, not a storage
 * fault, and the report names the reason rather than "not an error". */
START_TEST(sums_beyond_64_bits_are_said_plainly)
{
	struct ledger_event	 le;
	struct ledger_outcome	 out;
	struct reconcile_opts	 o;
	struct verify_report	 rep;
	struct ledger		*ro;
	char			 id[32], want[256];
	json_t			*r;
	int			 i;

	/* 1025 captures of 2^53 - 1 CLF pass 2^63 - 1. */
	ck_assert_int_eq(ledger_begin(lg), 0);
	for (i = 0; i < 1025; i++) {
		memset(&le, 0, sizeof(le));
		snprintf(id, sizeof(id), "evt_%d", i);
		le.tenant = "acme";
		le.endpoint = "stripe";
		le.event_id = id;
		le.move.kind = EVENT_CAPTURE;
		snprintf(le.move.type, sizeof(le.move.type), "test.capture");
		snprintf(le.move.payment_ref, sizeof(le.move.payment_ref),
		    "pi_%d", i);
		le.move.amount = INT64_C(9007199254740991);
		memcpy(le.move.currency, "CLF", 4);
		le.move.liability_shift = -1;
		le.move.occurred_at = 1764700000 + i;
		digest_sha256(id, strlen(id), le.body_sha256);
		ck_assert_int_eq(ledger_apply(lg, &le, 1764700000 + i, &out),
		    LEDGER_APPLIED);
	}
	ck_assert_int_eq(ledger_commit(lg), 0);

	ck_assert_ptr_null(balances_query(ledger_db(lg), "acme", BALANCES_NOW,
	    err, sizeof(err)));
	ck_assert_str_eq(err, "query failed: " BALANCES_OVERFLOW);

	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_ptr_nonnull(ro);
	ck_assert_int_eq(verify_ledger(ro, &rep), VERIFY_OK);
	memset(&o, 0, sizeof(o));
	o.date = "2025-12-02";
	r = reconcile_run(ledger_db(ro), &o, &rep, err, sizeof(err));
	ledger_close(ro);
	ck_assert_ptr_null(r);
	snprintf(want, sizeof(want), "reading the ledger failed: %s",
	    BALANCES_OVERFLOW);
	ck_assert_str_eq(err, want);
}
END_TEST

static int
paid(const char *ref)
{
	json_t	*p;
	int	 found, r;

	p = balances_payment(ledger_db(lg), "acme", ref, &found, err,
	    sizeof(err));
	ck_assert_msg(p != NULL, "%s: %s", ref, err);
	ck_assert(json_is_boolean(json_object_get(p, "paid")));
	r = json_is_true(json_object_get(p, "paid"));
	json_decref(p);
	return r;
}

START_TEST(paid_is_net_of_refunds_and_disputes)
{
	struct ev evs[] = {
		CAP("e1", "pi_full", 2000),
		REF("e2", "pi_full", "re_f", 2000, SUCCEEDED),
		CAP("e3", "pi_part", 2000),
		REF("e4", "pi_part", "re_p", 1999, SUCCEEDED),
		CAP("e5", "pi_pend", 2000),
		REF("e6", "pi_pend", "re_q", 2000, PENDING),
		CAP("e7", "pi_open", 2000),
		DSP("e8", OPENED, "pi_open", "dp_o", 2000),
		CAP("e9", "pi_lost", 2000),
		DSP("e10", OPENED, "pi_lost", "dp_l", 2000),
		DSP("e11", LOST, "pi_lost", "dp_l", 2000),
		CAP("e12", "pi_won", 2000),
		DSP("e13", OPENED, "pi_won", "dp_w", 2000),
		DSP("e14", WON, "pi_won", "dp_w", 2000),
		CAP("e15", "pi_cum", 2000),
		CUM("e16", "pi_cum", 2000),
		CAP("e17", "pi_plain", 2000),
	};
	size_t i;

	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		ck_assert_int_eq(send(&evs[i], 0).status, 200);
	ck_assert_int_eq(paid("pi_full"), 0);
	ck_assert_int_eq(paid("pi_part"), 1);
	ck_assert_int_eq(paid("pi_pend"), 0);
	ck_assert_int_eq(paid("pi_open"), 0);
	ck_assert_int_eq(paid("pi_lost"), 0);
	ck_assert_int_eq(paid("pi_won"), 1);
	ck_assert_int_eq(paid("pi_cum"), 0);
	ck_assert_int_eq(paid("pi_plain"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 0);
}
END_TEST

START_TEST(expectation_after_capture_is_refused)
{
	struct ev c = CAP("evt_c", "pi_Z", 2000);
	struct ev s = CAP("evt_s", "pi_S", 2000);
	struct ledger_expectation	 x;
	struct ledger_outcome		 out;

	send(&c, 0);
	memset(&x, 0, sizeof(x));
	x.tenant = "acme";
	x.payment_ref = "pi_Z";
	x.amount = 999999;
	memcpy(x.currency, "JPY", 4);
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1, &out), LEDGER_CONFLICT);
	ck_assert_int_eq(out.status, 409);
	ck_assert_str_eq(out.response, "{\"error\":\"payment_already_captured\","
	    "\"message\":\"this payment's capture is already posted and was "
	    "judged when it arrived; an expectation must be registered before "
	    "the capture\"}");
	/* Matching values too: the verdict stays the one of the arrival. */
	x.amount = 2000;
	memcpy(x.currency, "USD", 4);
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1, &out), LEDGER_CONFLICT);
	ck_assert_int_eq(out.status, 409);
	/* A capture held in suspense for want of an expectation. */
	send(&s, 1);
	x.payment_ref = "pi_S";
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1, &out), LEDGER_CONFLICT);
	ck_assert_int_eq(count("SELECT count(*) FROM expectations"), 0);
	ck_assert_int_eq(paid("pi_Z"), 1);
	ck_assert_int_eq(paid("pi_S"), 0);
	/* Before any capture, and for an expectation already stored, the
	 * answers are unchanged. */
	x.payment_ref = "pi_new";
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, 1, &out), LEDGER_APPLIED);
	ck_assert_int_eq(out.status, 201);
}
END_TEST

/* The ordering property: one event set, many delivery orders with
 * redeliveries mixed in, identical final balances every time. */
START_TEST(pending_refund_failing_late_is_order_independent)
{
	/* re_a pending 600 fails; re_b 600 succeeds. Whether re_b arrives
	 * before or after re_a's failure, the books end the same and re_b
	 * is never an over-refund. */
	struct ev c = CAP("evt_c", "pi_1", 1000);
	struct ev a = REF("evt_a", "pi_1", "re_a", 600, PENDING);
	struct ev af = REF("evt_af", "pi_1", "re_a", 600, FAILED);
	struct ev b = REF("evt_b", "pi_1", "re_b", 600, SUCCEEDED);

	send(&c, 0);
	send(&a, 0);
	ck_assert_str_eq(send(&b, 0).response, "{\"result\":\"applied\","
	    "\"event_id\":\"evt_b\",\"seq\":3}");
	/* Until the failure arrives, the hold is what the capture has left. */
	assert_balances("refunds:USD=600 "
	    "refunds_pending:USD=400 sales:USD=-1000");
	send(&af, 0);
	assert_balances("provider_balance:USD=400 refunds:USD=600 "
	    "sales:USD=-1000");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 0);
	assert_verify(4);
}
END_TEST

START_TEST(capture_under_a_payout_reference)
{
	struct ev p = PAY("evt_p", "X1", 300, SUCCEEDED);
	struct ev c = CAP("evt_c", "X1", 1000);

	send(&p, 0);
	ck_assert_str_eq(send(&c, 0).response, "{\"result\":\"exception\","
	    "\"event_id\":\"evt_c\",\"reason\":\"reference_conflict\"}");
	assert_balances("payouts:USD=300 provider_balance:USD=-300");
	assert_verify(1);
}
END_TEST

START_TEST(latest_running_total_wins)
{
	struct ev c = CAP("evt_c", "pi_1", 2000);
	struct ev t1 = CUM("evt_t1", "pi_1", 500);
	struct ev t2 = CUM("evt_t2", "pi_1", 1);

	/* A later, lower total is a refund that failed; t2 is one second
	 * later by the provider's clock, whatever the arrival order. */
	send(&c, 0);
	t2.at = 1;
	send(&t2, 0);
	send(&t1, 0);
	assert_balances("provider_balance:USD=1999 refunds:USD=1 "
	    "sales:USD=-2000");
}
END_TEST

START_TEST(open_disputes_count_against_the_capture)
{
	struct ev c = CAP("evt_c", "pi_H", 2000);
	struct ev d1 = DSP("evt_d1", OPENED, "pi_H", "dp_H1", 2000);
	struct ev d2 = DSP("evt_d2", OPENED, "pi_H", "dp_H2", 2000);
	struct ev r = REF("evt_r", "pi_H", "re_H", 2000, PENDING);

	send(&c, 0);
	send(&d1, 0);
	/* A second dispute of the whole capture would give back 4000. */
	ck_assert_str_eq(send(&d2, 0).response, "{\"result\":\"exception\","
	    "\"event_id\":\"evt_d2\",\"reason\":\"exceeds_captured_amount\"}");
	/* A pending refund is held only up to what is left: nothing. */
	ck_assert_str_eq(send(&r, 0).response, "{\"result\":\"recorded\","
	    "\"event_id\":\"evt_r\",\"note\":\"pending_refund_not_held\"}");
	assert_balances("disputes_open:USD=2000 sales:USD=-2000");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions WHERE"
	    " event_id = 'evt_d2' AND reason = 'exceeds_captured_amount'"
	    " AND posted = 0"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 1);
	assert_verify(2);
}
END_TEST

START_TEST(dispute_close_is_never_refused)
{
	struct ev c = CAP("evt_c", "pi_H", 2000);
	struct ev d = DSP("evt_d", OPENED, "pi_H", "dp_H", 2000);
	struct ev r = REF("evt_r", "pi_H", "re_H", 500, SUCCEEDED);
	struct ev l = DSP("evt_l", LOST, "pi_H", "dp_H", 2000);

	send(&c, 0);
	send(&d, 0);
	ck_assert_str_eq(send(&r, 0).response, "{\"result\":\"exception\","
	    "\"event_id\":\"evt_r\",\"reason\":\"exceeds_captured_amount\"}");
	assert_balances("disputes_open:USD=2000 sales:USD=-2000");
	ck_assert_str_eq(send(&l, 0).response, "{\"result\":\"applied\","
	    "\"event_id\":\"evt_l\",\"seq\":3}");
	assert_balances("disputes_lost:USD=2000 sales:USD=-2000");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 1);
	assert_verify(3);
}
END_TEST

START_TEST(pending_refund_held_within_open_dispute)
{
	struct ev c = CAP("evt_c", "pi_E", 3000);
	struct ev r = REF("evt_r", "pi_E", "re_E", 1500, PENDING);
	struct ev d = DSP("evt_d", OPENED, "pi_E", "dp_E", 2000);
	struct ev w = DSP("evt_w", WON, "pi_E", "dp_E", 2000);

	send(&c, 0);
	send(&r, 0);
	assert_balances("provider_balance:USD=1500 refunds_pending:USD=1500 "
	    "sales:USD=-3000");
	/* The dispute fits (2000 <= 3000); the hold shrinks to the 1000
	 * left, as if the dispute had come first. */
	send(&d, 0);
	assert_balances("disputes_open:USD=2000 refunds_pending:USD=1000 "
	    "sales:USD=-3000");
	send(&w, 0);
	assert_balances("provider_balance:USD=1500 refunds_pending:USD=1500 "
	    "sales:USD=-3000");
	ck_assert_int_eq(count("SELECT count(*) FROM exceptions"), 0);
	assert_verify(4);
}
END_TEST

static const struct ev property_set[] = {
	CAP("e01", "pi_A", 10000),
	CAP("e02", "pi_A", 10000),		/* charge.succeeded */
	REF("e03", "pi_A", "re_A1", 1500, PENDING),
	REF("e04", "pi_A", "re_A1", 1500, SUCCEEDED),
	CUM("e05", "pi_A", 1500),
	REF("e06", "pi_A", "re_A2", 500, SUCCEEDED),
	CUM("e07", "pi_A", 2000),
	CAP("e08", "pi_B", 4200),
	DSP("e09", OPENED, "pi_B", "dp_B", 4200),
	DSP("e10", WON, "pi_B", "dp_B", 4200),
	CAP("e11", "pi_C", 999),
	DSP("e12", OPENED, "pi_C", "dp_C", 999),
	DSP("e13", LOST, "pi_C", "dp_C", 999),
	CAP("e14", "pi_D", 3000),
	REF("e15", "pi_D", "re_D1", 700, PENDING),
	REF("e16", "pi_D", "re_D1", 700, FAILED),
	REF("e17", "pi_D", "re_D2", 300, PENDING),
	PAY("e18", "po_1", 5000, SUCCEEDED),
	PAY("e19", "po_2", 800, SUCCEEDED),
	PAY("e20", "po_2", 800, FAILED),
	CAP("e21", "pi_E", 3000),
	DSP("e22", OPENED, "pi_E", "dp_E", 2000),
	REF("e23", "pi_E", "re_E", 1500, PENDING),
	CAP("e24", "pi_F", 2000),
	DSP("e25", OPENED, "pi_F", "dp_F", 2000),
	DSP("e26", LOST, "pi_F", "dp_F", 2000),
	CAP("e27", "pi_G", 1000),
	CUM("e28", "pi_G", 500),
	REF("e29", "pi_G", "re_G", 500, FAILED),
	{ "e30", EVENT_REFUND, "pi_G", "ch_x", 0, EVENT_STATUS_SUCCEEDED, 1,
	    NULL, 0, 1 },			/* the total back to 0 */
};
#define NPROP (sizeof(property_set) / sizeof(property_set[0]))
static const char property_want[] = "disputes_lost:USD=2999 "
    "disputes_open:USD=2000 payouts:USD=5000 provider_balance:USD=10900 "
    "refunds:USD=2000 refunds_pending:USD=1300 sales:USD=-24199";

START_TEST(order_does_not_matter)
{
	uint64_t	 rng = 0x9e3779b97f4a7c15ULL + (uint64_t)_i * 7919;
	size_t		 order[NPROP * 2], n = 0, i, j, t;

	/* Every event once, a third of them twice. */
	for (i = 0; i < NPROP; i++) {
		order[n++] = i;
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((rng >> 33) % 3 == 0)
			order[n++] = i;
	}
	for (i = n - 1; i > 0; i--) {	/* Fisher-Yates */
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (size_t)((rng >> 33) % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++) {
		struct ledger_outcome o = send(&property_set[order[i]], 0);

		ck_assert_int_eq(o.status, 200);
		ck_assert_msg(strstr(o.response, "\"exception\"") == NULL,
		    "order %d: %s", _i, o.response);
	}
	assert_balances(property_want);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), NPROP);
	assert_verify(-1);
}
END_TEST

/* Tampering with postings is caught like tampering with entries. */
static void
tamper(const char *sql, const char *want)
{
	struct verify_report	 rep;
	struct ledger		*ro;
	size_t			 i;

	for (i = 0; i < 6; i++)
		send(&property_set[i], 0);
	ck_assert_int_eq(sqlite3_exec(ledger_db(lg), "DROP TRIGGER"
	    " postings_no_update; DROP TRIGGER postings_no_delete;"
	    " DROP TRIGGER postings_no_replace", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(ledger_db(lg), sql, NULL, NULL, NULL) ==
	    SQLITE_OK, "%s", sqlite3_errmsg(ledger_db(lg)));
	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_ptr_nonnull(ro);
	ck_assert_int_eq(verify_ledger(ro, &rep), VERIFY_TAMPERED);
	ledger_close(ro);
	ck_assert_msg(strncmp(rep.problem, want, strlen(want)) == 0,
	    "got: %s", rep.problem);
}

START_TEST(tamper_posting_amount)
{
	tamper("UPDATE postings SET debit = debit + 1 WHERE seq = 1 AND n = 0",
	    "entry 1: hash mismatch: its fields were changed (recomputed ");
}
END_TEST

START_TEST(tamper_posting_deleted)
{
	tamper("DELETE FROM postings WHERE seq = 2 AND n = 1",
	    "entry 2: hash mismatch");
}
END_TEST

START_TEST(tamper_posting_added)
{
	tamper("INSERT INTO postings VALUES (99, 0, 'sales', 0, 5)",
	    "entry 99: postings exist for an entry that is not in the ledger");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("money");
	TCase	*tc = tcase_create("rules");
	TCase	*tp = tcase_create("property");
	TCase	*tt = tcase_create("tamper");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, capture_posts_double_entry);
	tcase_add_test(tc, capture_reported_three_times_posts_once);
	tcase_add_test(tc, fee_is_posted);
	tcase_add_test(tc, cumulative_refunds_and_refund_ids_count_once);
	tcase_add_test(tc, pending_refund_holds_then_settles_or_returns);
	tcase_add_test(tc, disputes_withdraw_reinstate_and_lose);
	tcase_add_test(tc, payouts_and_failed_payouts);
	tcase_add_test(tc, refunds_never_exceed_capture);
	tcase_add_test(tc, other_currency_is_an_exception);
	tcase_add_test(tc, early_events_are_parked_then_posted);
	tcase_add_test(tc, expectation_verdicts);
	tcase_add_test(tc, required_expectation_missing_is_not_paid);
	tcase_add_test(tc, expectation_conflict);
	tcase_add_test(tc, pending_refund_failing_late_is_order_independent);
	tcase_add_test(tc, capture_under_a_payout_reference);
	tcase_add_test(tc, latest_running_total_wins);
	tcase_add_test(tc, open_disputes_count_against_the_capture);
	tcase_add_test(tc, dispute_close_is_never_refused);
	tcase_add_test(tc, pending_refund_held_within_open_dispute);
	tcase_add_test(tc, paid_is_net_of_refunds_and_disputes);
	tcase_add_test(tc, running_total_back_to_zero);
	tcase_add_test(tc, sums_beyond_64_bits_are_said_plainly);
	tcase_add_test(tc, expectation_after_capture_is_refused);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_loop_test(tp, order_does_not_matter, 0, 200);
	suite_add_tcase(s, tp);
	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_add_test(tt, tamper_posting_amount);
	tcase_add_test(tt, tamper_posting_deleted);
	tcase_add_test(tt, tamper_posting_added);
	suite_add_tcase(s, tt);
	return s;
}

#include "tap.h"
