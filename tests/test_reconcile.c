/*
 * test_reconcile.c: the nightly report over generated histories: quiet
 * days stay quiet, known spikes and patterns are flagged, the card
 * networks' programmes warn and breach at their thresholds, DST days in
 * a non-UTC zone are 23 or 25 hours, and a re-run is identical.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "digest.h"
#include "ledger.h"
#include "reconcile.h"
#include "verify.h"
#include "tmpdir.h"

static char		 dir[256], db[300], err[512];
static struct ledger	*lg;
static unsigned		 nev;

/* 2026-12-02T12:00:00Z, a Wednesday: the date the tests reconcile. */
#define DAY0	INT64_C(1796212800)
#define DAY	INT64_C(86400)

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "reconcile");
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	lg = ledger_open(db, LEDGER_READ_WRITE, err, sizeof(err));
	ck_assert_msg(lg != NULL, "%s", err);
	ck_assert_int_eq(ledger_begin(lg), 0);
	nev = 0;
}

static void
teardown(void)
{
	ledger_close(lg);
	tmpdir_remove(dir);
	digest_fini();
}

/* Append one event inside the open transaction. */
static void
ev(enum event_kind kind, const char *ref, const char *object, int64_t amount,
    enum event_status status, int64_t at, const char *brand,
    const char *customer)
{
	struct ledger_event	 le;
	struct ledger_outcome	 out;
	char			 id[32];

	memset(&le, 0, sizeof(le));
	snprintf(id, sizeof(id), "evt_%u", ++nev);
	le.tenant = "acme";
	le.endpoint = "stripe";
	le.event_id = id;
	le.move.kind = kind;
	snprintf(le.move.type, sizeof(le.move.type), "test");
	snprintf(le.move.payment_ref, sizeof(le.move.payment_ref), "%s", ref);
	snprintf(le.move.object_id, sizeof(le.move.object_id), "%s",
	    object != NULL ? object : "");
	le.move.amount = amount;
	memcpy(le.move.currency, "EUR", 4);
	le.move.status = status;
	le.move.occurred_at = at;
	le.move.liability_shift = -1;
	snprintf(le.move.card_brand, sizeof(le.move.card_brand), "%s",
	    brand != NULL ? brand : "");
	snprintf(le.move.customer, sizeof(le.move.customer), "%s",
	    customer != NULL ? customer : "");
	digest_sha256(id, strlen(id), le.body_sha256);
	ledger_apply(lg, &le, at, &out);
	ck_assert_msg(out.status == 200, "%s", out.response);
}

static void
capture(const char *ref, int64_t amount, int64_t at)
{
	ev(EVENT_CAPTURE, ref, NULL, amount, EVENT_STATUS_NONE, at, "visa",
	    NULL);
}

static void
refund(const char *ref, const char *re, int64_t amount, int64_t at)
{
	ev(EVENT_REFUND, ref, re, amount, EVENT_STATUS_SUCCEEDED, at, NULL,
	    NULL);
}

/* 29 days ending on DAY0: 20 captures a day and one refund a day. */
static void
quiet_history(int with_refunds)
{
	char	 ref[32], re[32];
	int	 d, i;

	for (d = 28; d >= 0; d--)
		for (i = 0; i < 20; i++) {
			snprintf(ref, sizeof(ref), "pi_%d_%d", d, i);
			capture(ref, 1000, DAY0 - d * DAY + i * 60);
			if (with_refunds && i == 0) {
				snprintf(re, sizeof(re), "re_%d", d);
				refund(ref, re, 100, DAY0 - d * DAY + 3 * 3600);
			}
		}
}

static json_t *
run(const char *date, const struct config *cfg)
{
	struct reconcile_opts	 o;
	struct verify_report	 rep;
	struct ledger		*ro;
	json_t			*r;

	ck_assert_int_eq(ledger_commit(lg), 0);
	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_ptr_nonnull(ro);
	ck_assert_int_eq(verify_ledger(ro, &rep), VERIFY_OK);
	memset(&o, 0, sizeof(o));
	o.date = date;
	o.cfg = cfg;
	r = reconcile_run(ledger_db(ro), &o, &rep, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ledger_close(ro);
	ck_assert_int_eq(ledger_begin(lg), 0);
	return r;
}

static json_t *
tenant0(json_t *r)
{
	return json_array_get(json_object_get(r, "tenants"), 0);
}

/* The kinds of the flags, space-separated, in report order. */
static void
flag_kinds(json_t *r, char *out, size_t cap)
{
	json_t	*f;
	size_t	 i, off = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(tenant0(r), "flags"), i, f)
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
		    off ? " " : "", json_string_value(json_object_get(f,
		    "kind")));
}

static json_int_t
num(json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

START_TEST(quiet_history_is_clean)
{
	json_t	*r, *c;
	char	 kinds[512];

	quiet_history(1);
	r = run("2026-12-02", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "");
	ck_assert(json_is_false(json_object_get(r, "flagged")));
	c = json_array_get(json_object_get(tenant0(r), "currencies"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "currency")),
	    "EUR");
	ck_assert_int_eq(num(c, "sales", "count"), 20);
	ck_assert_int_eq(num(c, "sales", "amount"), 20000);
	ck_assert_int_eq(num(c, "refunds", "count"), 1);
	ck_assert_int_eq(num(c, "refunds", "amount"), 100);
	ck_assert_int_eq(num(c, "disputes", "count"), 0);
	ck_assert(json_real_value(json_object_get(c, "refund_rate")) == 0.05);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "history")), 28);
	ck_assert(json_real_value(json_object_get(json_object_get(
	    json_object_get(c, "baseline"), "refund_rate"), "median")) == 0.05);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    tenant0(r), "day"), "from")), "2026-12-02T00:00:00Z");
	json_decref(r);
}
END_TEST

START_TEST(refund_spike_is_flagged)
{
	json_t	*r;
	char	 kinds[512], re[32];
	int	 i;

	quiet_history(1);
	for (i = 1; i < 9; i++) {	/* 8 more refunds on the date */
		char ref[32];

		snprintf(ref, sizeof(ref), "pi_0_%d", i);
		snprintf(re, sizeof(re), "re_s%d", i);
		refund(ref, re, 100, DAY0 + 5 * 3600);
	}
	r = run("2026-12-02", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "refund_spike");
	ck_assert(json_is_true(json_object_get(r, "flagged")));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(tenant0(r), "flags"), 0), "message")),
	    "9 refunds, rate 45.00% against a baseline of 5.00% (threshold "
	    "15.00%)");
	json_decref(r);
}
END_TEST

START_TEST(one_refund_on_a_quiet_day_is_no_spike)
{
	json_t	*r;
	char	 kinds[512];

	quiet_history(0);
	refund("pi_0_3", "re_one", 100, DAY0 + 5 * 3600);
	r = run("2026-12-02", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "");
	json_decref(r);
}
END_TEST

START_TEST(thresholds_per_tenant)
{
	struct config		 cfg;
	struct config_tenant	 t;
	json_t			*r;
	char			 kinds[512];

	quiet_history(0);
	refund("pi_0_3", "re_a", 100, DAY0 + 5 * 3600);
	refund("pi_0_4", "re_b", 100, DAY0 + 5 * 3600);
	memset(&cfg, 0, sizeof(cfg));
	config_tenant_defaults(&t, "acme");
	t.refund_spike_min_count = 2;
	cfg.tenants = &t;
	cfg.ntenants = 1;
	r = run("2026-12-02", &cfg);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "refund_spike");
	json_decref(r);
}
END_TEST

START_TEST(patterns_are_flagged)
{
	json_t	*r;
	char	 kinds[512];
	int	 i;

	capture("pi_soon", 5000, DAY0);
	refund("pi_soon", "re_soon", 500, DAY0 + 600);		/* 10 min */
	capture("pi_parts", 5000, DAY0 - 3 * DAY);
	refund("pi_parts", "re_p1", 100, DAY0 - 2 * DAY);
	refund("pi_parts", "re_p2", 100, DAY0 - DAY);
	refund("pi_parts", "re_p3", 100, DAY0 + 7200);
	capture("pi_twice", 5000, DAY0 - 5 * DAY);
	refund("pi_twice", "re_t", 5000, DAY0 - 4 * DAY);
	ev(EVENT_DISPUTE_OPENED, "pi_twice", "dp_t", 5000, EVENT_STATUS_NONE,
	    DAY0 + 3600, NULL, NULL);
	for (i = 0; i < 3; i++) {
		char ref[32], dp[32];

		snprintf(ref, sizeof(ref), "pi_c%d", i);
		snprintf(dp, sizeof(dp), "dp_c%d", i);
		ev(EVENT_CAPTURE, ref, NULL, 700, EVENT_STATUS_NONE,
		    DAY0 - 10 * DAY, "visa", "cus_bad");
		ev(EVENT_DISPUTE_OPENED, ref, dp, 700, EVENT_STATUS_NONE,
		    DAY0 - 2 * DAY + i * DAY, NULL, NULL);
	}
	capture("pi_over", 1000, DAY0 - DAY);
	refund("pi_over", "re_o1", 800, DAY0 - DAY + 60);
	refund("pi_over", "re_o2", 800, DAY0);		/* exception */
	refund("pi_over", "re_o3", 900, DAY0 + 60);	/* exception */
	r = run("2026-12-02", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "refund_soon_after_capture "
	    "repeated_partial_refunds dispute_after_refund dispute_cluster "
	    "refund_above_capture open_exceptions");
	json_decref(r);
}
END_TEST

static void
expect(const char *ref, int64_t amount)
{
	struct ledger_expectation	 x;
	struct ledger_outcome		 out;

	memset(&x, 0, sizeof(x));
	x.tenant = "acme";
	x.payment_ref = ref;
	x.amount = amount;
	memcpy(x.currency, "EUR", 4);
	/* Without an API key it runs a transaction of its own. */
	ck_assert_int_eq(ledger_commit(lg), 0);
	ck_assert_int_eq(ledger_expect(lg, NULL, &x, DAY0 - 10 * DAY, &out),
	    LEDGER_APPLIED);
	ck_assert_int_eq(ledger_begin(lg), 0);
}

/* The open-exceptions section of tenant0(r), as one compact string. */
static char *
exceptions_of(json_t *r)
{
	return json_dumps(json_object_get(tenant0(r), "exceptions"),
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
}

START_TEST(open_exceptions_are_a_finding)
{
	struct config		 cfg;
	struct config_tenant	 t;
	json_t			*r;
	char			 kinds[512], *x;

	/* 50.00 EUR captured against 60.00 expected: in suspense, an
	 * amount_mismatch recorded 2026-11-30T12:00:00Z. */
	expect("pi_mm", 6000);
	capture("pi_mm", 5000, DAY0 - 2 * DAY);
	/* A refund above what is left of the capture, on the date. */
	capture("pi_over", 1000, DAY0 - DAY);
	refund("pi_over", "re_o1", 800, DAY0 - DAY + 60);
	refund("pi_over", "re_o2", 700, DAY0 + 60);
	/* Another, recorded after the date: not in its report. */
	refund("pi_over", "re_o3", 900, DAY0 + DAY);

	r = run("2026-12-02", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "open_exceptions");
	ck_assert(json_is_true(json_object_get(r, "flagged")));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(tenant0(r), "flags"), 0), "message")),
	    "2 open exceptions, more than the threshold of 0; the oldest, "
	    "recorded 2026-11-30T12:00:00Z, is 2 days old");
	x = exceptions_of(r);
	ck_assert_str_eq(x, "{\"open\":2,\"by_reason\":["
	    "{\"currency\":\"EUR\",\"reason\":\"amount_mismatch\","
	    "\"count\":1,\"amount\":5000},"
	    "{\"currency\":\"EUR\",\"reason\":\"exceeds_captured_amount\","
	    "\"count\":1,\"amount\":700}],"
	    "\"oldest\":\"2026-11-30T12:00:00Z\","
	    "\"payments\":[\"pi_mm\",\"pi_over\"],"
	    "\"oldest_age_days\":2,\"threshold\":0}");
	free(x);
	json_decref(r);

	/* The day before: only the mismatch was open. */
	r = run("2026-12-01", NULL);
	x = exceptions_of(r);
	ck_assert_str_eq(x, "{\"open\":1,\"by_reason\":["
	    "{\"currency\":\"EUR\",\"reason\":\"amount_mismatch\","
	    "\"count\":1,\"amount\":5000}],"
	    "\"oldest\":\"2026-11-30T12:00:00Z\",\"payments\":[\"pi_mm\"],"
	    "\"oldest_age_days\":1,\"threshold\":0}");
	free(x);
	json_decref(r);

	/* Before any: clean, and the section says so. */
	r = run("2026-11-29", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "");
	ck_assert(json_is_false(json_object_get(r, "flagged")));
	x = exceptions_of(r);
	ck_assert_str_eq(x, "{\"open\":0,\"by_reason\":[],\"oldest\":null,"
	    "\"payments\":[],\"oldest_age_days\":null,\"threshold\":0}");
	free(x);
	json_decref(r);

	/* At the tenant's threshold: reported, not flagged. */
	memset(&cfg, 0, sizeof(cfg));
	config_tenant_defaults(&t, "acme");
	t.exceptions_threshold = 2;
	cfg.tenants = &t;
	cfg.ntenants = 1;
	r = run("2026-12-02", &cfg);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "");
	ck_assert_int_eq(num(tenant0(r), "exceptions", "open"), 2);
	ck_assert_int_eq(num(tenant0(r), "exceptions", "threshold"), 2);
	json_decref(r);
	/* One below it: flagged again. */
	t.exceptions_threshold = 1;
	r = run("2026-12-02", &cfg);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "open_exceptions");
	json_decref(r);
}
END_TEST

/* The parked section of tenant0(r), as one compact string. */
static char *
parked_of(json_t *r)
{
	return json_dumps(json_object_get(tenant0(r), "parked"),
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
}

START_TEST(parked_events_are_counted)
{
	json_t	*r;
	char	 kinds[512], *x;

	/* Two refunds whose captures have not arrived: one received
	 * 2026-11-30T12:00:00Z, one on the date; pi_p2's capture arrives
	 * the day after the date. */
	refund("pi_p1", "re_p1", 500, DAY0 - 2 * DAY);
	refund("pi_p2", "re_p2", 300, DAY0 + 60);
	capture("pi_p2", 1000, DAY0 + DAY);

	r = run("2026-11-30", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "");
	x = parked_of(r);
	ck_assert_str_eq(x, "{\"count\":1,\"oldest\":\"2026-11-30T12:00:00Z\","
	    "\"oldest_age_days\":0}");
	free(x);
	json_decref(r);

	r = run("2026-12-02", NULL);
	flag_kinds(r, kinds, sizeof(kinds));
	ck_assert_str_eq(kinds, "parked_events");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(tenant0(r), "flags"), 0), "message")),
	    "2 events parked waiting for a capture; the oldest, received "
	    "2026-11-30T12:00:00Z, is 2 days old");
	x = parked_of(r);
	ck_assert_str_eq(x, "{\"count\":2,\"oldest\":\"2026-11-30T12:00:00Z\","
	    "\"oldest_age_days\":2}");
	free(x);
	json_decref(r);

	/* pi_p2's capture released its refund; pi_p1's still waits. */
	r = run("2026-12-03", NULL);
	x = parked_of(r);
	ck_assert_str_eq(x, "{\"count\":1,\"oldest\":\"2026-11-30T12:00:00Z\","
	    "\"oldest_age_days\":3}");
	free(x);
	json_decref(r);

	r = run("2026-11-29", NULL);
	x = parked_of(r);
	ck_assert_str_eq(x, "{\"count\":0,\"oldest\":null,"
	    "\"oldest_age_days\":null}");
	free(x);
	json_decref(r);
}
END_TEST

START_TEST(unknown_tenant_is_refused)
{
	struct reconcile_opts	 o;
	struct verify_report	 rep;
	struct config		 cfg;
	struct config_tenant	 t;
	struct ledger		*ro;
	json_t			*r;

	capture("pi_1", 1000, DAY0);
	ck_assert_int_eq(ledger_commit(lg), 0);
	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_ptr_nonnull(ro);
	ck_assert_int_eq(verify_ledger(ro, &rep), VERIFY_OK);
	memset(&o, 0, sizeof(o));
	o.date = "2026-12-02";
	o.tenant = "nosuch";
	ck_assert_ptr_null(reconcile_run(ledger_db(ro), &o, &rep, err,
	    sizeof(err)));
	ck_assert_str_eq(err, "--tenant nosuch: no such tenant (not in the "
	    "config, nothing in the ledger)");
	/* In the ledger, or in the config only: known. */
	o.tenant = "acme";
	r = reconcile_run(ledger_db(ro), &o, &rep, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	memset(&cfg, 0, sizeof(cfg));
	config_tenant_defaults(&t, "nosuch");
	cfg.tenants = &t;
	cfg.ntenants = 1;
	o.cfg = &cfg;
	o.tenant = "nosuch";
	r = reconcile_run(ledger_db(ro), &o, &rep, err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	ledger_close(ro);
	ck_assert_int_eq(ledger_begin(lg), 0);
}
END_TEST

START_TEST(dst_days_in_a_zone)
{
	int64_t from, to;

	/* Berlin leaves summer time on 2026-10-25: a 25-hour day. */
	ck_assert_int_eq(reconcile_day_window("Europe/Berlin", "2026-10-25",
	    &from, &to), 0);
	ck_assert_int_eq(from, INT64_C(1792879200));	/* 10-24 22:00Z */
	ck_assert_int_eq(to - from, 25 * 3600);
	/* ... and enters it on 2026-03-29: 23 hours. */
	ck_assert_int_eq(reconcile_day_window("Europe/Berlin", "2026-03-29",
	    &from, &to), 0);
	ck_assert_int_eq(from, INT64_C(1774738800));	/* 03-28 23:00Z */
	ck_assert_int_eq(to - from, 23 * 3600);
	ck_assert_int_eq(reconcile_day_window("UTC", "2026-03-29", &from,
	    &to), 0);
	ck_assert_int_eq(to - from, 24 * 3600);
	ck_assert_int_eq(reconcile_day_window("UTC", "2026-02-30", &from,
	    &to), -1);
	ck_assert_int_eq(reconcile_day_window("UTC", "2026-2-3", &from,
	    &to), -1);
}
END_TEST

START_TEST(money_counts_on_its_local_day)
{
	struct config		 cfg;
	struct config_tenant	 t;
	json_t			*r, *c;

	/* 2026-10-25T22:30Z is 23:30 on the 25th in Berlin (CET). */
	capture("pi_late", 1000, INT64_C(1792967400));
	/* 2026-10-24T21:59:59Z is 23:59:59 on the 24th (CEST). */
	capture("pi_before", 2000, INT64_C(1792879199));
	memset(&cfg, 0, sizeof(cfg));
	config_tenant_defaults(&t, "acme");
	snprintf(t.timezone, sizeof(t.timezone), "Europe/Berlin");
	cfg.tenants = &t;
	cfg.ntenants = 1;
	r = run("2026-10-25", &cfg);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    tenant0(r), "day"), "from")), "2026-10-24T22:00:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    tenant0(r), "day"), "to")), "2026-10-25T23:00:00Z");
	c = json_array_get(json_object_get(tenant0(r), "currencies"), 0);
	ck_assert_int_eq(num(c, "sales", "count"), 1);
	ck_assert_int_eq(num(c, "sales", "amount"), 1000);
	json_decref(r);
}
END_TEST

START_TEST(visa_vamp_breach)
{
	json_t	*r, *p;
	char	 ref[32], dp[32];
	size_t	 i;

	/* 1,501 disputes on 1,501 payments this month: far above 1.5%. */
	for (i = 0; i < 1501; i++) {
		snprintf(ref, sizeof(ref), "pi_v%zu", i);
		snprintf(dp, sizeof(dp), "dp_v%zu", i);
		capture(ref, 100, DAY0 - 12 * 3600);
		ev(EVENT_DISPUTE_OPENED, ref, dp, 100, EVENT_STATUS_NONE,
		    DAY0 - 6 * 3600, NULL, NULL);
	}
	r = run("2026-12-02", NULL);
	p = json_array_get(json_object_get(tenant0(r), "programmes"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(p, "programme")),
	    "VAMP (merchant)");
	ck_assert_int_eq(json_integer_value(json_object_get(p, "disputes")),
	    1501);
	ck_assert(json_real_value(json_object_get(p, "threshold_ratio")) ==
	    0.015);
	ck_assert_str_eq(json_string_value(json_object_get(p, "status")),
	    "breach");
	json_decref(r);
}
END_TEST

START_TEST(mastercard_ecm_uses_last_month)
{
	json_t	*r, *p;
	char	 ref[32], dp[32];
	size_t	 i;

	/* 5,000 Mastercard sales in November, 100 chargebacks in December:
	 * 2% of last month's transactions and 100 chargebacks is ECM. */
	for (i = 0; i < 5000; i++) {
		snprintf(ref, sizeof(ref), "pi_m%zu", i);
		ev(EVENT_CAPTURE, ref, NULL, 100, EVENT_STATUS_NONE,
		    DAY0 - 15 * DAY, "mastercard", NULL);
	}
	for (i = 0; i < 100; i++) {
		snprintf(ref, sizeof(ref), "pi_m%zu", i);
		snprintf(dp, sizeof(dp), "dp_m%zu", i);
		ev(EVENT_DISPUTE_OPENED, ref, dp, 100, EVENT_STATUS_NONE, DAY0,
		    NULL, NULL);
	}
	r = run("2026-12-02", NULL);
	json_array_foreach(json_object_get(tenant0(r), "programmes"), i, p) {
		const char *name = json_string_value(json_object_get(p,
		    "programme"));
		const char *st = json_string_value(json_object_get(p, "status"));

		if (strcmp(name, "ECM") == 0) {
			ck_assert_int_eq(json_integer_value(json_object_get(p,
			    "transactions")), 5000);
			ck_assert_str_eq(st, "breach");
		} else if (strcmp(name, "HECM") == 0)
			ck_assert_str_eq(st, "ok");
		else	/* VAMP: 100 is far below 1,500 */
			ck_assert_str_eq(st, "ok");
	}
	json_decref(r);
}
END_TEST

START_TEST(rerun_is_identical)
{
	json_t	*a, *b;
	char	*sa, *sb;

	quiet_history(1);
	a = run("2026-12-02", NULL);
	b = run("2026-12-02", NULL);
	sa = json_dumps(a, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	sb = json_dumps(b, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	ck_assert_str_eq(sa, sb);
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("reconcile");
	TCase	*tc = tcase_create("report");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, quiet_history_is_clean);
	tcase_add_test(tc, refund_spike_is_flagged);
	tcase_add_test(tc, one_refund_on_a_quiet_day_is_no_spike);
	tcase_add_test(tc, thresholds_per_tenant);
	tcase_add_test(tc, patterns_are_flagged);
	tcase_add_test(tc, open_exceptions_are_a_finding);
	tcase_add_test(tc, parked_events_are_counted);
	tcase_add_test(tc, unknown_tenant_is_refused);
	tcase_add_test(tc, dst_days_in_a_zone);
	tcase_add_test(tc, money_counts_on_its_local_day);
	tcase_add_test(tc, visa_vamp_breach);
	tcase_add_test(tc, mastercard_ecm_uses_last_month);
	tcase_add_test(tc, rerun_is_identical);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
