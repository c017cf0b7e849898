/*
 * test_event: every fixture in tests/fixtures maps to exactly the money
 * movement docs/events.md promises, and every malformed field is refused
 * with a reason that names the field but never repeats its value.
 *
 * Fixtures are found through HL_TOP_SRCDIR (the top of the source tree),
 * or the current directory when it is unset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "body.h"
#include "event.h"

#define FIXTURE_MAX	(1024 * 1024)

#define ID_RULE		"must be 1 to 255 characters of A-Z a-z 0-9 _ . : -"
#define MAX_RULE	"exceeds the maximum for its currency " \
	"(10^12 major units)"

static char	 why[256];

static json_t *
parse(const char *s)
{
	json_t	*root = NULL;

	ck_assert_int_eq(body_parse((const unsigned char *)s, strlen(s),
	    &root), BODY_OK);
	return root;
}

/* A fixture read whole and passed through body_parse(), as the server
 * would receive it. */
static json_t *
fixture(const char *provider, const char *type)
{
	const char	*top = getenv("HL_TOP_SRCDIR");
	char		 path[4096];
	unsigned char	*buf;
	size_t		 len;
	json_t		*root = NULL;
	FILE		*f;

	if (top == NULL || *top == '\0')
		top = ".";
	snprintf(path, sizeof(path), "%s/tests/fixtures/%s/%s.json", top,
	    provider, type);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	buf = malloc(FIXTURE_MAX);
	ck_assert_ptr_nonnull(buf);
	len = fread(buf, 1, FIXTURE_MAX, f);
	ck_assert_msg(feof(f) && !ferror(f), "cannot read %s", path);
	fclose(f);
	ck_assert_msg(body_parse(buf, len, &root) == BODY_OK,
	    "%s does not parse", path);
	free(buf);
	return root;
}

static json_t *
stripe_object(json_t *root)
{
	json_t	*obj = json_object_get(json_object_get(root, "data"), "object");

	ck_assert_ptr_nonnull(obj);
	return obj;
}

static json_t *
neutral_data(json_t *root)
{
	json_t	*data = json_object_get(root, "data");

	ck_assert_ptr_nonnull(data);
	return data;
}

/* A JSON value from its text, scalars included. */
static json_t *
value(const char *text)
{
	json_t	*v = json_loads(text, JSON_DECODE_ANY, NULL);

	ck_assert_msg(v != NULL, "bad test value %s", text);
	return v;
}

static void
set(json_t *obj, const char *key, const char *text)
{
	ck_assert_int_eq(json_object_set_new(obj, key, value(text)), 0);
}

static void
set_str(json_t *obj, const char *key, const char *s)
{
	ck_assert_int_eq(json_object_set_new(obj, key, json_string(s)), 0);
}

static void
del(json_t *obj, const char *key)
{
	ck_assert_int_eq(json_object_del(obj, key), 0);
}

static enum event_result
map_stripe(json_t *root, struct event_move *m)
{
	memset(why, 'Z', sizeof(why));
	return event_map_stripe(root, m, why, sizeof(why));
}

static enum event_result
map_neutral(json_t *root, struct event_move *m)
{
	memset(why, 'Z', sizeof(why));
	return event_map_neutral(root, m, why, sizeof(why));
}

/* The capture-only and refund-only fields as every other kind has them. */
static void
check_no_extras(const struct event_move *m)
{
	ck_assert_int_eq(m->status, EVENT_STATUS_NONE);
	ck_assert(m->fee == 0);
	ck_assert_str_eq(m->sca_result, "");
	ck_assert_int_eq(m->liability_shift, -1);
}

/* Assert the mapping fails with exactly this reason, and clears *m. */
static void
stripe_refused(json_t *root, const char *reason)
{
	struct event_move	 m;

	ck_assert_int_eq(map_stripe(root, &m), EVENT_INVALID);
	ck_assert_str_eq(why, reason);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.id, "");
	ck_assert_str_eq(m.payment_ref, "");
	ck_assert(m.amount == 0);
	check_no_extras(&m);
	json_decref(root);
}

static void
neutral_refused(json_t *root, const char *reason)
{
	struct event_move	 m;

	ck_assert_int_eq(map_neutral(root, &m), EVENT_INVALID);
	ck_assert_str_eq(why, reason);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.type, "");
	ck_assert(m.amount == 0);
	check_no_extras(&m);
	json_decref(root);
}

/* Map a body that must succeed; the reason is shown when it does not. */
static void
stripe_ok(json_t *root, struct event_move *m)
{
	ck_assert_msg(map_stripe(root, m) == EVENT_OK, "refused: %s", why);
	ck_assert_str_eq(why, "");
}

static void
neutral_ok(json_t *root, struct event_move *m)
{
	ck_assert_msg(map_neutral(root, m) == EVENT_OK, "refused: %s", why);
	ck_assert_str_eq(why, "");
}

struct expect {
	const char	*file;
	enum event_kind	 kind;
	const char	*id;
	const char	*ref;
	const char	*object_id;
	int64_t		 amount;
	const char	*currency;
	int64_t		 occurred_at;
	int		 cumulative;
	enum event_status status;
	int64_t		 fee;
	const char	*sca_result;
	int		 liability_shift;
};

static void
check_move(const struct event_move *m, const struct expect *e,
    const char *type)
{
	ck_assert_int_eq(m->kind, e->kind);
	ck_assert_str_eq(m->type, type);
	ck_assert_str_eq(m->id, e->id);
	ck_assert_str_eq(m->payment_ref, e->ref);
	ck_assert_str_eq(m->object_id, e->object_id);
	ck_assert_msg(m->amount == e->amount, "amount %lld, want %lld",
	    (long long)m->amount, (long long)e->amount);
	ck_assert_str_eq(m->currency, e->currency);
	ck_assert_msg(m->occurred_at == e->occurred_at,
	    "occurred_at %lld, want %lld", (long long)m->occurred_at,
	    (long long)e->occurred_at);
	ck_assert_int_eq(m->cumulative, e->cumulative);
	ck_assert_str_eq(event_status_name(m->status),
	    event_status_name(e->status));
	ck_assert_int_eq(m->status, e->status);
	ck_assert_msg(m->fee == e->fee, "fee %lld, want %lld",
	    (long long)m->fee, (long long)e->fee);
	ck_assert_str_eq(m->sca_result, e->sca_result);
	ck_assert_int_eq(m->liability_shift, e->liability_shift);
}

#define PI_A	"pi_3PmXq2LkdIwHu7ix0Qk2rT9d"
#define CH_A	"ch_3PmXq2LkdIwHu7ix0h1jK2lM"
#define PI_C	"pi_3PmZ1xLkdIwHu7ix0mN7bV8c"
#define CH_C	"ch_3PmZ1xLkdIwHu7ix0cV5bN6m"
#define DP_C	"dp_1PmZk9LkdIwHu7ixq8W3eT5y"
#define PO	"po_1PnA2bLkdIwHu7ixZ9y8X7w6"
#define PI_B	"pi_3PmYbRLkdIwHu7ix1Lp9oI8u"
#define CH_B	"ch_3PmYbRLkdIwHu7ix1gH6jK7l"
#define RE_B	"re_3PmYbRLkdIwHu7ix1Rf5gT6y"
#define RE_B2	"re_3PmYbRLkdIwHu7ix1Xc2vB9n"
#define PO_F	"po_1PoC3dLkdIwHu7ixM4n5B6v7"

/* Shorthands for the last four fields: no status, fee, SCA outcome. */
#define ST_NONE		EVENT_STATUS_NONE, 0, "", -1
#define ST_OK		EVENT_STATUS_SUCCEEDED, 0, "", -1
#define ST_FAILED	EVENT_STATUS_FAILED, 0, "", -1

static const struct expect stripe_fixtures[] = {
	{ "payment_intent.succeeded", EVENT_CAPTURE,
	    "evt_3PmXq2LkdIwHu7ix0vT8aB3c", PI_A, "", 2000, "USD",
	    1723456790, 0, ST_NONE },
	{ "charge.succeeded", EVENT_CAPTURE,
	    "evt_3PmXq2LkdIwHu7ix0Fz7yU1w", PI_A, "", 2000, "USD",
	    1723456789, 0, EVENT_STATUS_NONE, 0, "authenticated", 1 },
	{ "charge.captured", EVENT_CAPTURE,
	    "evt_3PmYbRLkdIwHu7ix1Qw2eR3t", PI_B, "", 4500, "EUR",
	    1723463655, 0, ST_NONE },
	{ "charge.refunded", EVENT_REFUND,
	    "evt_3PmXq2LkdIwHu7ix0Rf4dE5s", PI_A, CH_A, 500, "USD",
	    1723543201, 1, ST_OK },
	{ "refund.created", EVENT_REFUND,
	    "evt_3PmXq2LkdIwHu7ix0Kj8hG9f", PI_A,
	    "re_3PmXq2LkdIwHu7ix0aQ1bR2c", 500, "USD", 1723543200, 0,
	    ST_OK },
	{ "refund.updated", EVENT_REFUND,
	    "evt_3PmYbRLkdIwHu7ix1Uu4rF5d", PI_B, RE_B, 1500, "EUR",
	    1723636806, 0, ST_OK },
	{ "charge.refund.updated", EVENT_REFUND,
	    "evt_3PmYbRLkdIwHu7ix1Hk9pL2m", PI_B, RE_B, 1500, "EUR",
	    1723636806, 0, ST_OK },
	{ "refund.failed", EVENT_REFUND,
	    "evt_3PmYbRLkdIwHu7ix1Ff6gH7j", PI_B, RE_B2, 1000, "EUR",
	    1724155200, 0, ST_FAILED },
	{ "charge.dispute.created", EVENT_DISPUTE_OPENED,
	    "evt_1PmZk9LkdIwHu7ixW2e3R4t5", PI_C, DP_C, 7500, "USD",
	    1723724401, 0, ST_NONE },
	{ "charge.dispute.closed", EVENT_DISPUTE_WON,
	    "evt_1Pt0aBLkdIwHu7ixY3u4I5o6", PI_C, DP_C, 7500, "USD",
	    1725360001, 0, ST_NONE },
	{ "payout.paid", EVENT_PAYOUT,
	    "evt_1PnSx4LkdIwHu7ixC5v6B7n8", PO, PO, 123456, "USD",
	    1723600802, 0, ST_OK },
	{ "payout.failed", EVENT_PAYOUT,
	    "evt_1PoD8eLkdIwHu7ixF2g3H4j5", PO_F, PO_F, 80000, "USD",
	    1723860005, 0, ST_FAILED },
	{ "customer.created", EVENT_NONE,
	    "evt_1PmXp0LkdIwHu7ixN1m2B3v4", "", "", 0, "", 1723456700, 0,
	    ST_NONE },
	{ "payment_intent.created", EVENT_NONE,
	    "evt_3PmXq2LkdIwHu7ix0pO9iU8y", "", "", 0, "", 1723456788, 0,
	    ST_NONE },
};

START_TEST(test_stripe_fixture)
{
	const struct expect	*e = &stripe_fixtures[_i];
	json_t			*root = fixture("stripe", e->file);
	struct event_move	 m;

	ck_assert_msg(map_stripe(root, &m) == EVENT_OK, "%s: %s", e->file,
	    why);
	check_move(&m, e, e->file);
	json_decref(root);
}
END_TEST

static const struct expect neutral_fixtures[] = {
	{ "payment.captured", EVENT_CAPTURE, "", "pay_8Hq2mVt3LxW9", "",
	    2500, "EUR", 1796292000, 0, EVENT_STATUS_NONE, 0,
	    "authenticated", 1 },
	{ "payment.refunded", EVENT_REFUND, "evt_2Zt8Kq4Wm1Nc",
	    "pay_8Hq2mVt3LxW9", "rfd_3Lp9Xc7Vb2Qa", 1000, "EUR", 1796465730,
	    0, ST_OK },
	{ "refund.updated", EVENT_REFUND, "evt_6Rv3Np8Qs2Kb",
	    "pay_8Hq2mVt3LxW9", "rfd_5Mw2Hs8Ty4Pd", 500, "EUR", 1796739600,
	    0, ST_OK },
	{ "dispute.opened", EVENT_DISPUTE_OPENED, "", "pay_4Nc7Yt1Rk8Ds",
	    "dsp_6Wq2Ej9Hx3Mz", 15000, "USD", 1796889600, 0, ST_NONE },
	{ "dispute.won", EVENT_DISPUTE_WON, "", "pay_4Nc7Yt1Rk8Ds",
	    "dsp_6Wq2Ej9Hx3Mz", 15000, "USD", 1799621100, 0, ST_NONE },
	{ "dispute.lost", EVENT_DISPUTE_LOST, "", "pay_7Tb5Gh2Kp6Lw",
	    "dsp_1Vz8Rn4Cq7Ye", 4200, "GBP", 1799746200, 0, ST_NONE },
	{ "payout.paid", EVENT_PAYOUT, "", "pout_9Ks3Dm6Fv1Xr",
	    "pout_9Ks3Dm6Fv1Xr", 250000, "EUR", 1796623200, 0, ST_OK },
	{ "payout.failed", EVENT_PAYOUT, "", "pout_2Lq7Wn4Jc8Ts",
	    "pout_2Lq7Wn4Jc8Ts", 90000, "EUR", 1796796000, 0, ST_FAILED },
};

START_TEST(test_neutral_fixture)
{
	const struct expect	*e = &neutral_fixtures[_i];
	json_t			*root = fixture("neutral", e->file);
	struct event_move	 m;

	ck_assert_msg(map_neutral(root, &m) == EVENT_OK, "%s: %s", e->file,
	    why);
	check_move(&m, e, e->file);
	json_decref(root);
}
END_TEST

/* Each provider's events are refused by the other's mapper. */
START_TEST(test_cross_provider)
{
	neutral_refused(fixture("stripe", "payment_intent.succeeded"),
	    "timestamp is required");
	stripe_refused(fixture("neutral", "payment.captured"),
	    "id is required");
}
END_TEST

START_TEST(test_payment_reported_twice)
{
	json_t			*a = fixture("stripe",
	    "payment_intent.succeeded");
	json_t			*b = fixture("stripe", "charge.succeeded");
	struct event_move	 ma, mb;

	/* Both name the payment by its PaymentIntent, so the ledger can
	 * post the capture once. */
	ck_assert_int_eq(map_stripe(a, &ma), EVENT_OK);
	ck_assert_int_eq(map_stripe(b, &mb), EVENT_OK);
	ck_assert_str_eq(ma.payment_ref, mb.payment_ref);
	ck_assert_str_ne(ma.id, mb.id);
	ck_assert(ma.amount == mb.amount);
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(test_payer_identifiers)
{
	json_t			*b = fixture("stripe", "charge.succeeded");
	json_t			*pi = fixture("stripe", "payment_intent.succeeded");
	json_t			*n = fixture("neutral", "payment.captured");
	json_t			*data;
	struct event_move	 m;

	ck_assert_int_eq(map_stripe(b, &m), EVENT_OK);
	ck_assert_str_eq(m.customer, "cus_QdwEm4yNn0ZkLp");
	ck_assert_str_eq(m.card_fingerprint, "Xt5EWLLDS7FJjR1c");
	ck_assert_str_eq(m.card_country, "US");
	ck_assert_str_eq(m.card_brand, "visa");
	/* A payment intent carries no charge details. */
	ck_assert_int_eq(map_stripe(pi, &m), EVENT_OK);
	ck_assert_str_eq(m.customer, "");
	ck_assert_str_eq(m.card_fingerprint, "");
	/* Identifiers that are not plain words are dropped, not refused. */
	data = json_object_get(n, "data");
	json_object_set_new(data, "customer", json_string("cus_1 x"));
	json_object_set_new(data, "card_fingerprint", json_string("fp_9Zq"));
	json_object_set_new(data, "card_country", json_string("DEU"));
	json_object_set_new(data, "card_brand", json_string("mastercard"));
	ck_assert_int_eq(event_map_neutral(n, &m, NULL, 0), EVENT_OK);
	ck_assert_str_eq(m.customer, "");
	ck_assert_str_eq(m.card_fingerprint, "fp_9Zq");
	ck_assert_str_eq(m.card_country, "");
	ck_assert_str_eq(m.card_brand, "mastercard");
	json_decref(b);
	json_decref(pi);
	json_decref(n);
}
END_TEST

START_TEST(test_charge_uncaptured)
{
	json_t			*root = fixture("stripe", "charge.succeeded");
	struct event_move	 m;

	set(stripe_object(root), "captured", "false");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.id, "evt_3PmXq2LkdIwHu7ix0Fz7yU1w");
	ck_assert_str_eq(m.type, "charge.succeeded");
	ck_assert(m.occurred_at == 1723456789);
	ck_assert_str_eq(m.payment_ref, "");
	ck_assert_str_eq(m.object_id, "");
	ck_assert_str_eq(m.currency, "");
	ck_assert(m.amount == 0);
	json_decref(root);

	root = fixture("stripe", "charge.succeeded");
	del(stripe_object(root), "captured");
	stripe_refused(root, "data.object.captured must be true or false");
	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "captured", "\"true\"");
	stripe_refused(root, "data.object.captured must be true or false");
}
END_TEST

START_TEST(test_charge_ref_rule)
{
	json_t			*root;
	struct event_move	 m;

	/* No PaymentIntent: the charge is the payment. */
	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "payment_intent", "null");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_str_eq(m.payment_ref, CH_A);
	json_decref(root);

	root = fixture("stripe", "charge.captured");
	del(stripe_object(root), "payment_intent");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_str_eq(m.payment_ref, "ch_3PmYbRLkdIwHu7ix1gH6jK7l");
	json_decref(root);

	root = fixture("stripe", "charge.refunded");
	set(stripe_object(root), "payment_intent", "null");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_str_eq(m.payment_ref, CH_A);
	ck_assert_str_eq(m.object_id, CH_A);
	json_decref(root);

	/* An expanded or mistyped reference is refused, not guessed at. */
	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "payment_intent", "{\"id\":\"pi_1\"}");
	stripe_refused(root, "data.object.payment_intent must be a string");
	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "payment_intent", "5");
	stripe_refused(root, "data.object.payment_intent must be a string");
}
END_TEST

START_TEST(test_charge_amount_fallback)
{
	json_t			*root;
	struct event_move	 m;

	/* Before amount_captured existed, amount was the captured amount. */
	root = fixture("stripe", "charge.succeeded");
	del(stripe_object(root), "amount_captured");
	set(stripe_object(root), "amount", "3000");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert(m.amount == 3000);
	json_decref(root);

	/* A partial capture: amount_captured, not amount. */
	root = fixture("stripe", "charge.captured");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert(m.amount == 4500);
	json_decref(root);

	/* Present but null is not absent. */
	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "amount_captured", "null");
	stripe_refused(root, "data.object.amount_captured must be a positive "
	    "integer in minor units");
}
END_TEST

#define REFUND_STATUS_RULE \
	"must be succeeded, pending, requires_action, failed or canceled"

static const struct {
	const char		*type;
	const char		*text;		/* data.object.status */
	enum event_status	 status;	/* NONE: refused with why */
	const char		*why;
} refund_cases[] = {
	{ "refund.created", "\"succeeded\"", EVENT_STATUS_SUCCEEDED, NULL },
	{ "refund.created", "\"pending\"", EVENT_STATUS_PENDING, NULL },
	{ "refund.created", "\"requires_action\"", EVENT_STATUS_PENDING,
	    NULL },
	{ "refund.created", "\"failed\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.created", "\"canceled\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.created", "\"processing\"", EVENT_STATUS_NONE,
	    REFUND_STATUS_RULE },
	{ "refund.created", "\"Succeeded\"", EVENT_STATUS_NONE,
	    REFUND_STATUS_RULE },
	{ "refund.created", "\"succeeded \"", EVENT_STATUS_NONE,
	    REFUND_STATUS_RULE },
	{ "refund.created", "\"cancelled\"", EVENT_STATUS_NONE,
	    REFUND_STATUS_RULE },
	{ "refund.created", "\"\"", EVENT_STATUS_NONE, REFUND_STATUS_RULE },
	{ "refund.created", "5", EVENT_STATUS_NONE, "must be a string" },
	{ "refund.created", "null", EVENT_STATUS_NONE, "is required" },
	{ "refund.updated", "\"succeeded\"", EVENT_STATUS_SUCCEEDED, NULL },
	{ "refund.updated", "\"pending\"", EVENT_STATUS_PENDING, NULL },
	{ "refund.updated", "\"requires_action\"", EVENT_STATUS_PENDING,
	    NULL },
	{ "refund.updated", "\"failed\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.updated", "\"canceled\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.updated", "\"refunded\"", EVENT_STATUS_NONE,
	    REFUND_STATUS_RULE },
	{ "charge.refund.updated", "\"succeeded\"", EVENT_STATUS_SUCCEEDED,
	    NULL },
	{ "charge.refund.updated", "\"pending\"", EVENT_STATUS_PENDING,
	    NULL },
	{ "charge.refund.updated", "\"requires_action\"",
	    EVENT_STATUS_PENDING, NULL },
	{ "charge.refund.updated", "\"failed\"", EVENT_STATUS_FAILED, NULL },
	{ "charge.refund.updated", "\"canceled\"", EVENT_STATUS_FAILED,
	    NULL },
	{ "charge.refund.updated", "[]", EVENT_STATUS_NONE,
	    "must be a string" },
	{ "refund.failed", "\"failed\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.failed", "\"canceled\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.failed", "\"succeeded\"", EVENT_STATUS_NONE,
	    "must be failed or canceled for refund.failed" },
	{ "refund.failed", "\"pending\"", EVENT_STATUS_NONE,
	    "must be failed or canceled for refund.failed" },
	{ "refund.failed", "\"requires_action\"", EVENT_STATUS_NONE,
	    "must be failed or canceled for refund.failed" },
	{ "refund.failed", "\"expired\"", EVENT_STATUS_NONE,
	    REFUND_STATUS_RULE },
	{ "refund.failed", "null", EVENT_STATUS_NONE, "is required" },
};

/* Every refund type, every status: the refund is posted whatever its
 * status, and the status says what the ledger does with it. */
START_TEST(test_refund_status)
{
	json_t			*root = fixture("stripe", "refund.created");
	struct event_move	 m;
	char			 reason[128];

	set_str(root, "type", refund_cases[_i].type);
	set(stripe_object(root), "status", refund_cases[_i].text);
	if (refund_cases[_i].why != NULL) {
		snprintf(reason, sizeof(reason), "data.object.status %s",
		    refund_cases[_i].why);
		stripe_refused(root, reason);
		return;
	}
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	ck_assert_int_eq(m.status, refund_cases[_i].status);
	ck_assert_str_eq(m.type, refund_cases[_i].type);
	ck_assert_str_eq(m.id, "evt_3PmXq2LkdIwHu7ix0Kj8hG9f");
	ck_assert_str_eq(m.payment_ref, PI_A);
	ck_assert_str_eq(m.object_id, "re_3PmXq2LkdIwHu7ix0aQ1bR2c");
	ck_assert(m.amount == 500);
	ck_assert_str_eq(m.currency, "USD");
	ck_assert_int_eq(m.cumulative, 0);
	ck_assert(m.fee == 0);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);
}
END_TEST

START_TEST(test_refund_fields)
{
	json_t			*root;
	struct event_move	 m;

	root = fixture("stripe", "refund.created");
	del(stripe_object(root), "status");
	stripe_refused(root, "data.object.status is required");

	/* Without a PaymentIntent the charge names the payment. */
	root = fixture("stripe", "refund.created");
	set(stripe_object(root), "payment_intent", "null");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	ck_assert_str_eq(m.payment_ref, CH_A);
	ck_assert_str_eq(m.object_id, "re_3PmXq2LkdIwHu7ix0aQ1bR2c");
	json_decref(root);
	root = fixture("stripe", "refund.failed");
	del(stripe_object(root), "payment_intent");
	stripe_ok(root, &m);
	ck_assert_str_eq(m.payment_ref, CH_B);
	ck_assert_str_eq(m.object_id, RE_B2);
	ck_assert_int_eq(m.status, EVENT_STATUS_FAILED);
	json_decref(root);

	root = fixture("stripe", "refund.created");
	set(stripe_object(root), "payment_intent", "null");
	set(stripe_object(root), "charge", "null");
	stripe_refused(root, "data.object.charge is required");

	root = fixture("stripe", "refund.created");
	set_str(stripe_object(root), "object", "charge");
	stripe_refused(root, "data.object names the wrong kind of object");
	root = fixture("stripe", "refund.updated");
	set_str(stripe_object(root), "object", "payout");
	stripe_refused(root, "data.object names the wrong kind of object");

	/* A pending or failed refund still names its id, payment and
	 * amount: the ledger holds or returns exactly that money. */
	root = fixture("stripe", "refund.updated");
	set_str(stripe_object(root), "status", "pending");
	del(stripe_object(root), "amount");
	stripe_refused(root, "data.object.amount is required");
	root = fixture("stripe", "refund.failed");
	del(stripe_object(root), "id");
	stripe_refused(root, "data.object.id is required");
	root = fixture("stripe", "refund.failed");
	set(stripe_object(root), "amount", "0");
	stripe_refused(root, "data.object.amount must be a positive integer "
	    "in minor units");
	root = fixture("stripe", "charge.refund.updated");
	del(root, "data");
	stripe_refused(root, "data must be an object");

	/* charge.refunded reports refunds that have succeeded. */
	root = fixture("stripe", "charge.refunded");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.status, EVENT_STATUS_SUCCEEDED);
	ck_assert_int_eq(m.cumulative, 1);
	json_decref(root);
}
END_TEST

START_TEST(test_payout_status)
{
	json_t			*root;
	struct event_move	 m;

	root = fixture("stripe", "payout.paid");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_PAYOUT);
	ck_assert_int_eq(m.status, EVENT_STATUS_SUCCEEDED);
	json_decref(root);

	/* A canceled payout never left: the same as a failed one. */
	root = fixture("stripe", "payout.failed");
	set_str(root, "type", "payout.canceled");
	set_str(stripe_object(root), "status", "canceled");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_PAYOUT);
	ck_assert_int_eq(m.status, EVENT_STATUS_FAILED);
	ck_assert_str_eq(m.type, "payout.canceled");
	ck_assert_str_eq(m.payment_ref, PO_F);
	ck_assert_str_eq(m.object_id, PO_F);
	ck_assert(m.amount == 80000);
	ck_assert_str_eq(m.currency, "USD");
	ck_assert(m.fee == 0);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);

	root = fixture("stripe", "payout.failed");
	set_str(stripe_object(root), "object", "refund");
	stripe_refused(root, "data.object names the wrong kind of object");
	root = fixture("stripe", "payout.failed");
	del(stripe_object(root), "id");
	stripe_refused(root, "data.object.id is required");
	root = fixture("stripe", "payout.failed");
	set_str(stripe_object(root), "currency", "zzz");
	stripe_refused(root, "data.object.currency must be an active ISO "
	    "4217 currency code");

	/* Other payout events move nothing the ledger tracks. */
	root = fixture("stripe", "payout.paid");
	set_str(root, "type", "payout.created");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	check_no_extras(&m);
	json_decref(root);

	/* The neutral schema: the type says it. */
	root = fixture("neutral", "payout.failed");
	del(neutral_data(root), "payout_id");
	neutral_refused(root, "data.payout_id is required");
	root = fixture("neutral", "payout.failed");
	set(neutral_data(root), "amount", "-1");
	neutral_refused(root, "data.amount must be a positive integer in "
	    "minor units");
	root = fixture("neutral", "payout.paid");
	set_str(root, "type", "payout.canceled");
	neutral_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	check_no_extras(&m);
	json_decref(root);
}
END_TEST

START_TEST(test_dispute_closed)
{
	json_t			*root;
	struct event_move	 m;

	root = fixture("stripe", "charge.dispute.closed");
	set_str(stripe_object(root), "status", "lost");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_DISPUTE_LOST);
	ck_assert_str_eq(m.payment_ref, PI_C);
	ck_assert_str_eq(m.object_id, DP_C);
	ck_assert(m.amount == 7500);
	json_decref(root);

	root = fixture("stripe", "charge.dispute.closed");
	set_str(stripe_object(root), "status", "warning_closed");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.object_id, "");
	check_no_extras(&m);
	json_decref(root);

	root = fixture("stripe", "charge.dispute.closed");
	set(stripe_object(root), "status", "1");
	stripe_refused(root, "data.object.status must be a string");

	root = fixture("stripe", "charge.dispute.created");
	set(stripe_object(root), "payment_intent", "null");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_DISPUTE_OPENED);
	ck_assert_str_eq(m.payment_ref, CH_C);
	json_decref(root);

	/* Only created and closed move money; the funds events carry the
	 * same money again and are receipts. */
	root = fixture("stripe", "charge.dispute.created");
	set_str(root, "type", "charge.dispute.funds_withdrawn");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.type, "charge.dispute.funds_withdrawn");
	ck_assert_str_eq(m.id, "evt_1PmZk9LkdIwHu7ixW2e3R4t5");
	ck_assert_str_eq(m.payment_ref, "");
	ck_assert_str_eq(m.object_id, "");
	ck_assert(m.amount == 0);
	check_no_extras(&m);
	json_decref(root);
	root = fixture("stripe", "charge.dispute.closed");
	set_str(root, "type", "charge.dispute.funds_reinstated");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.object_id, "");
	ck_assert(m.amount == 0);
	check_no_extras(&m);
	json_decref(root);
	/* Receipts need no object: a malformed one is not looked at. */
	root = fixture("stripe", "charge.dispute.closed");
	set_str(root, "type", "charge.dispute.funds_reinstated");
	set_str(stripe_object(root), "currency", "zzz");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	json_decref(root);
	root = fixture("stripe", "charge.dispute.created");
	set_str(root, "type", "charge.dispute.funds_withdrawn");
	del(root, "data");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	json_decref(root);
}
END_TEST

START_TEST(test_stripe_units)
{
	json_t			*root;
	struct event_move	 m;

	/* ISK: Stripe's 10000 is 100.00 ISK, which ISO writes as 100. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "isk");
	set(stripe_object(root), "amount_received", "10000");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert(m.amount == 100);
	ck_assert_str_eq(m.currency, "ISK");
	json_decref(root);

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "isk");
	set(stripe_object(root), "amount_received", "10050");
	stripe_refused(root, "data.object.amount_received must be a multiple "
	    "of 100 for ISK");

	root = fixture("stripe", "refund.created");
	set_str(stripe_object(root), "currency", "ISK");
	set(stripe_object(root), "amount", "50");
	stripe_refused(root, "data.object.amount must be a multiple of 100 "
	    "for ISK");

	/* JPY: whole yen in Stripe and in ISO. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "jpy");
	set(stripe_object(root), "amount_received", "5000");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert(m.amount == 5000);
	ck_assert_str_eq(m.currency, "JPY");
	json_decref(root);

	/* KWD: three decimals in both. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "kwd");
	set(stripe_object(root), "amount_received", "12340");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert(m.amount == 12340);
	json_decref(root);

	/* MGA: whole ariary in Stripe, two decimals in ISO. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "mga");
	set(stripe_object(root), "amount_received", "5000");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert(m.amount == 500000);
	ck_assert_str_eq(m.currency, "MGA");
	json_decref(root);

	/* The MGA maximum, 10^12 ariary, is 10^14 minor units. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "mga");
	set(stripe_object(root), "amount_received", "1000000000000");
	stripe_ok(root, &m);
	ck_assert(m.amount == INT64_C(100000000000000));
	json_decref(root);

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "mga");
	set(stripe_object(root), "amount_received", "1000000000001");
	stripe_refused(root, "data.object.amount_received " MAX_RULE);

	/* Too large to convert at all. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "mga");
	set(stripe_object(root), "amount_received", "90071992547410");
	stripe_refused(root, "data.object.amount_received exceeds "
	    "9007199254740991 minor units");

	/* The ISK maximum, 10^12 krónur, arrives as 10^14. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "isk");
	set(stripe_object(root), "amount_received", "100000000000000");
	stripe_ok(root, &m);
	ck_assert(m.amount == INT64_C(1000000000000));
	json_decref(root);

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "isk");
	set(stripe_object(root), "amount_received", "100000000000100");
	stripe_refused(root, "data.object.amount_received " MAX_RULE);

	/* The largest amount there is, in the one kind of currency whose
	 * trillion reaches it. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "currency", "clf");
	set(stripe_object(root), "amount_received", "9007199254740991");
	stripe_ok(root, &m);
	ck_assert(m.amount == INT64_C(9007199254740991));
	json_decref(root);
}
END_TEST

static const struct {
	const char	*currency;
	const char	*max;		/* largest accepted, minor units */
	const char	*over;		/* one more */
	const char	*rule;		/* why "over" is refused */
} max_cases[] = {
	{ "JPY", "1000000000000", "1000000000001", MAX_RULE },
	{ "USD", "100000000000000", "100000000000001", MAX_RULE },
	{ "KWD", "1000000000000000", "1000000000000001", MAX_RULE },
	{ "CLF", "9007199254740991", "9007199254740992",
	    "exceeds 9007199254740991 minor units" },
};

/*
 * Each currency's maximum, through every amount field the mappers read:
 * capture, refund (amount and amount_refunded), dispute and payout.
 */
START_TEST(test_currency_max)
{
	static const struct {
		const char	*file;
		const char	*field;
	} stripe_amounts[] = {
		{ "payment_intent.succeeded", "amount_received" },
		{ "charge.succeeded", "amount_captured" },
		{ "charge.refunded", "amount_refunded" },
		{ "refund.updated", "amount" },
		{ "charge.dispute.created", "amount" },
		{ "payout.failed", "amount" },
	};
	static const char *const neutral_files[] = {
		"payment.captured", "refund.updated", "dispute.lost",
		"payout.paid",
	};
	json_t			*root;
	struct event_move	 m;
	char			 reason[128];
	int64_t			 max = strtoll(max_cases[_i].max, NULL, 10);
	size_t			 i;

	for (i = 0; i < sizeof(stripe_amounts) / sizeof(stripe_amounts[0]);
	    i++) {
		root = fixture("stripe", stripe_amounts[i].file);
		set_str(stripe_object(root), "currency",
		    max_cases[_i].currency);
		set(stripe_object(root), stripe_amounts[i].field,
		    max_cases[_i].max);
		stripe_ok(root, &m);
		ck_assert_msg(m.amount == max, "%s %s: %lld",
		    stripe_amounts[i].file, max_cases[_i].currency,
		    (long long)m.amount);
		ck_assert_str_eq(m.currency, max_cases[_i].currency);
		json_decref(root);

		root = fixture("stripe", stripe_amounts[i].file);
		set_str(stripe_object(root), "currency",
		    max_cases[_i].currency);
		set(stripe_object(root), stripe_amounts[i].field,
		    max_cases[_i].over);
		snprintf(reason, sizeof(reason), "data.object.%s %s",
		    stripe_amounts[i].field, max_cases[_i].rule);
		stripe_refused(root, reason);
	}
	for (i = 0; i < sizeof(neutral_files) / sizeof(neutral_files[0]);
	    i++) {
		root = fixture("neutral", neutral_files[i]);
		set_str(neutral_data(root), "currency",
		    max_cases[_i].currency);
		set(neutral_data(root), "amount", max_cases[_i].max);
		neutral_ok(root, &m);
		ck_assert(m.amount == max);
		json_decref(root);

		root = fixture("neutral", neutral_files[i]);
		set_str(neutral_data(root), "currency",
		    max_cases[_i].currency);
		set(neutral_data(root), "amount", max_cases[_i].over);
		snprintf(reason, sizeof(reason), "data.amount %s",
		    max_cases[_i].rule);
		neutral_refused(root, reason);
	}
}
END_TEST

static const struct {
	const char	*text;		/* three_d_secure.result */
	const char	*sca;		/* "" when the field is ignored */
	int		 shift;
} stripe_sca_cases[] = {
	{ "\"authenticated\"", "authenticated", 1 },
	{ "\"attempt_acknowledged\"", "attempt_acknowledged", 1 },
	{ "\"exempted\"", "exempted", 0 },
	{ "\"failed\"", "failed", 0 },
	{ "\"not_supported\"", "not_supported", 0 },
	{ "\"processing_error\"", "processing_error", 0 },
	{ "\"abcdefghijklmnopqrstuvwxyz_abcd\"",
	    "abcdefghijklmnopqrstuvwxyz_abcd", 0 },		/* 31 */
	{ "\"abcdefghijklmnopqrstuvwxyz_abcde\"", "", -1 },	/* 32 */
	{ "\"Authenticated\"", "", -1 },
	{ "\"authenticated \"", "", -1 },
	{ "\"attempt-acknowledged\"", "", -1 },
	{ "\"authentifi\u00e9\"", "", -1 },
	{ "\"\"", "", -1 },
	{ "null", "", -1 },
	{ "true", "", -1 },
	{ "1", "", -1 },
	{ "{\"value\":\"authenticated\"}", "", -1 },
};

/* 3-D Secure on a charge is recorded, never a reason to refuse money
 * that moved: a result that cannot be kept is left unknown. */
START_TEST(test_stripe_sca)
{
	json_t			*root, *card;
	struct event_move	 m;

	root = fixture("stripe", "charge.succeeded");
	card = json_object_get(json_object_get(stripe_object(root),
	    "payment_method_details"), "card");
	ck_assert_ptr_nonnull(card);
	set(json_object_get(card, "three_d_secure"), "result",
	    stripe_sca_cases[_i].text);
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_CAPTURE);
	ck_assert(m.amount == 2000);
	ck_assert_str_eq(m.sca_result, stripe_sca_cases[_i].sca);
	ck_assert_int_eq(m.liability_shift, stripe_sca_cases[_i].shift);
	ck_assert(m.fee == 0);
	ck_assert_int_eq(m.status, EVENT_STATUS_NONE);
	json_decref(root);

	/* The same on a manual capture. */
	root = fixture("stripe", "charge.captured");
	card = json_object_get(json_object_get(stripe_object(root),
	    "payment_method_details"), "card");
	ck_assert_ptr_nonnull(card);
	set(card, "three_d_secure", "{}");
	set(json_object_get(card, "three_d_secure"), "result",
	    stripe_sca_cases[_i].text);
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_CAPTURE);
	ck_assert_str_eq(m.sca_result, stripe_sca_cases[_i].sca);
	ck_assert_int_eq(m.liability_shift, stripe_sca_cases[_i].shift);
	json_decref(root);
}
END_TEST

START_TEST(test_stripe_sca_absent)
{
	static const char *const blocks[] = {
		"null", "\"authenticated\"", "[]", "true", "{}",
		"{\"result_reason\":\"abandoned\"}",
	};
	json_t			*root, *card;
	struct event_move	 m;
	size_t			 i;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		root = fixture("stripe", "charge.succeeded");
		card = json_object_get(json_object_get(stripe_object(root),
		    "payment_method_details"), "card");
		set(card, "three_d_secure", blocks[i]);
		stripe_ok(root, &m);
		ck_assert_int_eq(m.kind, EVENT_CAPTURE);
		ck_assert_str_eq(m.sca_result, "");
		ck_assert_int_eq(m.liability_shift, -1);
		json_decref(root);
	}

	root = fixture("stripe", "charge.succeeded");
	del(json_object_get(json_object_get(stripe_object(root),
	    "payment_method_details"), "card"), "three_d_secure");
	stripe_ok(root, &m);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);

	root = fixture("stripe", "charge.succeeded");
	set(json_object_get(stripe_object(root), "payment_method_details"),
	    "card", "null");
	stripe_ok(root, &m);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);

	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "payment_method_details", "\"card\"");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_CAPTURE);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);

	/* Only captures carry it: a refunded charge's block is not read. */
	root = fixture("stripe", "charge.refunded");
	card = json_object_get(json_object_get(stripe_object(root),
	    "payment_method_details"), "card");
	set(card, "three_d_secure", "{\"result\":\"authenticated\"}");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);

	/* Nor does an authorisation that captured nothing. */
	root = fixture("stripe", "charge.succeeded");
	set(stripe_object(root), "captured", "false");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	check_no_extras(&m);
	json_decref(root);
}
END_TEST

/* Neutral captures: data.sca and data.fee, both optional. */
START_TEST(test_neutral_capture_extras)
{
	json_t			*root;
	struct event_move	 m;

	root = fixture("neutral", "payment.captured");
	set(json_object_get(neutral_data(root), "sca"), "liability_shift",
	    "false");
	set_str(json_object_get(neutral_data(root), "sca"), "result",
	    "exempted");
	set(neutral_data(root), "fee", "73");
	neutral_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_CAPTURE);
	ck_assert_str_eq(m.sca_result, "exempted");
	ck_assert_int_eq(m.liability_shift, 0);
	ck_assert(m.fee == 73);
	ck_assert(m.amount == 2500);
	ck_assert_int_eq(m.status, EVENT_STATUS_NONE);
	json_decref(root);

	/* Absent and null are the same: unknown, no fee. */
	root = fixture("neutral", "payment.captured");
	del(neutral_data(root), "sca");
	del(neutral_data(root), "fee");
	neutral_ok(root, &m);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	ck_assert(m.fee == 0);
	json_decref(root);
	root = fixture("neutral", "payment.captured");
	set(neutral_data(root), "sca", "null");
	set(neutral_data(root), "fee", "null");
	neutral_ok(root, &m);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	ck_assert(m.fee == 0);
	json_decref(root);

	/* The fee is below the amount: one less is the most. */
	root = fixture("neutral", "payment.captured");
	set(neutral_data(root), "fee", "2499");
	neutral_ok(root, &m);
	ck_assert(m.fee == 2499);
	json_decref(root);

	root = fixture("neutral", "payment.captured");
	set(neutral_data(root), "sca", "{\"result\":"
	    "\"abcdefghijklmnopqrstuvwxyz_abcd\",\"liability_shift\":true}");
	neutral_ok(root, &m);
	ck_assert_str_eq(m.sca_result, "abcdefghijklmnopqrstuvwxyz_abcd");
	ck_assert_int_eq(m.liability_shift, 1);
	json_decref(root);

	/* Other kinds ignore both. */
	root = fixture("neutral", "payment.refunded");
	set(neutral_data(root), "fee", "10");
	set(neutral_data(root), "sca", "{\"result\":\"authenticated\","
	    "\"liability_shift\":true}");
	neutral_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	ck_assert(m.fee == 0);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);
	root = fixture("neutral", "payout.paid");
	set(neutral_data(root), "fee", "\"x\"");
	set(neutral_data(root), "sca", "7");
	neutral_ok(root, &m);
	ck_assert(m.fee == 0);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);
}
END_TEST

#define FEE_RULE	"data.fee must be an integer in minor units, at " \
	"least 0 and less than data.amount"
#define SCA_RULE	"data.sca.result must be 1 to 31 characters of a-z _"

static const struct {
	const char	*member;	/* in data */
	const char	*text;
	const char	*why;
} bad_extras[] = {
	{ "fee", "2500", FEE_RULE },
	{ "fee", "2501", FEE_RULE },
	{ "fee", "-1", FEE_RULE },
	{ "fee", "9007199254740992", FEE_RULE },
	{ "fee", "1.5", FEE_RULE },
	{ "fee", "0.0", FEE_RULE },
	{ "fee", "\"73\"", FEE_RULE },
	{ "fee", "true", FEE_RULE },
	{ "fee", "{\"amount\":73}", FEE_RULE },
	{ "sca", "\"authenticated\"", "data.sca must be an object" },
	{ "sca", "[]", "data.sca must be an object" },
	{ "sca", "true", "data.sca must be an object" },
	{ "sca", "{\"liability_shift\":true}", "data.sca.result is required" },
	{ "sca", "{\"result\":null,\"liability_shift\":true}",
	    "data.sca.result is required" },
	{ "sca", "{\"result\":1,\"liability_shift\":true}",
	    "data.sca.result must be a string" },
	{ "sca", "{\"result\":\"\",\"liability_shift\":true}", SCA_RULE },
	{ "sca", "{\"result\":\"Authenticated\",\"liability_shift\":true}",
	    SCA_RULE },
	{ "sca", "{\"result\":\"3ds\",\"liability_shift\":true}",
	    SCA_RULE },
	{ "sca", "{\"result\":\"abcdefghijklmnopqrstuvwxyz_abcde\","
	    "\"liability_shift\":true}", SCA_RULE },
	{ "sca", "{\"result\":\"authenticated\"}",
	    "data.sca.liability_shift must be true or false" },
	{ "sca", "{\"result\":\"authenticated\",\"liability_shift\":null}",
	    "data.sca.liability_shift must be true or false" },
	{ "sca", "{\"result\":\"authenticated\",\"liability_shift\":1}",
	    "data.sca.liability_shift must be true or false" },
	{ "sca", "{\"result\":\"authenticated\","
	    "\"liability_shift\":\"true\"}",
	    "data.sca.liability_shift must be true or false" },
};

START_TEST(test_neutral_bad_extras)
{
	json_t	*root = fixture("neutral", "payment.captured");

	set(neutral_data(root), bad_extras[_i].member, bad_extras[_i].text);
	neutral_refused(root, bad_extras[_i].why);
}
END_TEST

static const struct {
	const char		*type;
	const char		*text;		/* NULL: data.status absent */
	enum event_status	 status;
	const char		*why;		/* NULL: accepted */
} neutral_refund_cases[] = {
	{ "payment.refunded", NULL, EVENT_STATUS_SUCCEEDED, NULL },
	{ "payment.refunded", "null", EVENT_STATUS_SUCCEEDED, NULL },
	{ "payment.refunded", "\"succeeded\"", EVENT_STATUS_SUCCEEDED, NULL },
	{ "payment.refunded", "\"pending\"", EVENT_STATUS_PENDING, NULL },
	{ "payment.refunded", "\"failed\"", EVENT_STATUS_FAILED, NULL },
	{ "payment.refunded", "\"canceled\"", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
	{ "payment.refunded", "\"requires_action\"", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
	{ "payment.refunded", "\"Pending\"", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
	{ "payment.refunded", "\"\"", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
	{ "payment.refunded", "1", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
	{ "refund.updated", NULL, EVENT_STATUS_NONE,
	    "data.status is required" },
	{ "refund.updated", "null", EVENT_STATUS_NONE,
	    "data.status is required" },
	{ "refund.updated", "\"succeeded\"", EVENT_STATUS_SUCCEEDED, NULL },
	{ "refund.updated", "\"pending\"", EVENT_STATUS_PENDING, NULL },
	{ "refund.updated", "\"failed\"", EVENT_STATUS_FAILED, NULL },
	{ "refund.updated", "\"refunded\"", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
	{ "refund.updated", "[\"failed\"]", EVENT_STATUS_NONE,
	    "data.status must be pending, succeeded or failed" },
};

START_TEST(test_neutral_refund_status)
{
	json_t			*root = fixture("neutral", "payment.refunded");
	struct event_move	 m;

	set_str(root, "type", neutral_refund_cases[_i].type);
	if (neutral_refund_cases[_i].text != NULL)
		set(neutral_data(root), "status",
		    neutral_refund_cases[_i].text);
	if (neutral_refund_cases[_i].why != NULL) {
		neutral_refused(root, neutral_refund_cases[_i].why);
		return;
	}
	neutral_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	ck_assert_int_eq(m.status, neutral_refund_cases[_i].status);
	ck_assert_str_eq(m.type, neutral_refund_cases[_i].type);
	ck_assert_str_eq(m.payment_ref, "pay_8Hq2mVt3LxW9");
	ck_assert_str_eq(m.object_id, "rfd_3Lp9Xc7Vb2Qa");
	ck_assert(m.amount == 1000);
	ck_assert_str_eq(m.currency, "EUR");
	ck_assert_int_eq(m.cumulative, 0);
	ck_assert(m.fee == 0);
	ck_assert_str_eq(m.sca_result, "");
	ck_assert_int_eq(m.liability_shift, -1);
	json_decref(root);
}
END_TEST

START_TEST(test_neutral_refund_updated)
{
	json_t	*root;

	/* The same data as payment.refunded: ids and money required. */
	root = fixture("neutral", "refund.updated");
	del(neutral_data(root), "refund_id");
	neutral_refused(root, "data.refund_id is required");
	root = fixture("neutral", "refund.updated");
	del(neutral_data(root), "payment_id");
	neutral_refused(root, "data.payment_id is required");
	root = fixture("neutral", "refund.updated");
	del(neutral_data(root), "currency");
	neutral_refused(root, "data.currency is required");
	root = fixture("neutral", "refund.updated");
	set(neutral_data(root), "amount", "5.0");
	neutral_refused(root, "data.amount must be a positive integer in "
	    "minor units");
	root = fixture("neutral", "refund.updated");
	del(root, "data");
	neutral_refused(root, "data must be an object");
}
END_TEST

START_TEST(test_status_names)
{
	static const char *const names[] = {
		"none", "pending", "succeeded", "failed"
	};
	int	 k;

	ck_assert_int_eq(EVENT_STATUS_NONE, 0);
	ck_assert_int_eq(EVENT_STATUS_FAILED, 3);
	for (k = EVENT_STATUS_NONE; k <= EVENT_STATUS_FAILED; k++)
		ck_assert_str_eq(event_status_name((enum event_status)k),
		    names[k]);
	ck_assert_str_eq(event_status_name((enum event_status)4), "none");
	ck_assert_str_eq(event_status_name((enum event_status)-1), "none");
}
END_TEST

static const struct {
	const char	*text;		/* NULL: the member is absent */
	const char	*rule;
} bad_amounts[] = {
	{ "10.5", "must be a positive integer in minor units" },
	{ "\"1000\"", "must be a positive integer in minor units" },
	{ "1e3", "must be a positive integer in minor units" },
	{ "1000.0", "must be a positive integer in minor units" },
	{ "-5", "must be a positive integer in minor units" },
	{ "0", "must be a positive integer in minor units" },
	{ "-0", "must be a positive integer in minor units" },
	{ "null", "must be a positive integer in minor units" },
	{ "true", "must be a positive integer in minor units" },
	{ "[1000]", "must be a positive integer in minor units" },
	{ "{\"value\":1000}", "must be a positive integer in minor units" },
	{ "9007199254740992", "exceeds 9007199254740991 minor units" },
	{ "9223372036854775807", "exceeds 9007199254740991 minor units" },
	{ "-9223372036854775808", "must be a positive integer in minor units" },
	{ NULL, "is required" },
};

START_TEST(test_stripe_bad_amount)
{
	json_t	*root = fixture("stripe", "payment_intent.succeeded");
	char	 reason[128];

	if (bad_amounts[_i].text == NULL)
		del(stripe_object(root), "amount_received");
	else
		set(stripe_object(root), "amount_received",
		    bad_amounts[_i].text);
	snprintf(reason, sizeof(reason), "data.object.amount_received %s",
	    bad_amounts[_i].rule);
	stripe_refused(root, reason);
}
END_TEST

START_TEST(test_neutral_bad_amount)
{
	json_t	*root = fixture("neutral", "payment.captured");
	char	 reason[128];

	if (bad_amounts[_i].text == NULL)
		del(neutral_data(root), "amount");
	else
		set(neutral_data(root), "amount", bad_amounts[_i].text);
	snprintf(reason, sizeof(reason), "data.amount %s",
	    bad_amounts[_i].rule);
	neutral_refused(root, reason);
}
END_TEST

static const struct {
	const char	*text;
	const char	*rule;
} bad_currencies[] = {
	{ "\"xxx\"", "must be an active ISO 4217 currency code" },
	{ "\"XAU\"", "must be an active ISO 4217 currency code" },
	{ "\"HRK\"", "must be an active ISO 4217 currency code" },
	{ "\"usdx\"", "must be an active ISO 4217 currency code" },
	{ "\"us\"", "must be an active ISO 4217 currency code" },
	{ "\"\"", "must be an active ISO 4217 currency code" },
	{ "\"u\\u00e9d\"", "must be an active ISO 4217 currency code" },
	{ "840", "must be a string" },
	{ "null", "is required" },
	{ NULL, "is required" },
};

START_TEST(test_bad_currency)
{
	json_t	*root;
	char	 reason[128];

	root = fixture("stripe", "payout.paid");
	if (bad_currencies[_i].text == NULL)
		del(stripe_object(root), "currency");
	else
		set(stripe_object(root), "currency", bad_currencies[_i].text);
	snprintf(reason, sizeof(reason), "data.object.currency %s",
	    bad_currencies[_i].rule);
	stripe_refused(root, reason);

	root = fixture("neutral", "payout.paid");
	if (bad_currencies[_i].text == NULL)
		del(neutral_data(root), "currency");
	else
		set(neutral_data(root), "currency", bad_currencies[_i].text);
	snprintf(reason, sizeof(reason), "data.currency %s",
	    bad_currencies[_i].rule);
	neutral_refused(root, reason);
}
END_TEST


START_TEST(test_stripe_envelope)
{
	json_t			*root;
	struct event_move	 m;

	root = fixture("stripe", "payment_intent.succeeded");
	del(root, "id");
	stripe_refused(root, "id is required");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "id", "5");
	stripe_refused(root, "id must be a string");
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "id", "evt 1");
	stripe_refused(root, "id " ID_RULE);
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "id", "");
	stripe_refused(root, "id " ID_RULE);

	root = fixture("stripe", "payment_intent.succeeded");
	del(root, "type");
	stripe_refused(root, "type is required");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "type", "[]");
	stripe_refused(root, "type must be a string");
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "type", "payment_intent succeeded");
	stripe_refused(root, "type must be 1 to 127 characters of "
	    "A-Z a-z 0-9 _ . : -");

	root = fixture("stripe", "payment_intent.succeeded");
	del(root, "created");
	stripe_refused(root, "created must be a positive integer of Unix "
	    "seconds");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "created", "\"1723456790\"");
	stripe_refused(root, "created must be a positive integer of Unix "
	    "seconds");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "created", "1723456790.0");
	stripe_refused(root, "created must be a positive integer of Unix "
	    "seconds");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "created", "0");
	stripe_refused(root, "created must be a positive integer of Unix "
	    "seconds");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "created", "-1");
	stripe_refused(root, "created must be a positive integer of Unix "
	    "seconds");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "created", "253402300800");
	stripe_refused(root, "created must be a positive integer of Unix "
	    "seconds");

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "object", "account");
	stripe_refused(root, "object must be \"event\"");
	root = fixture("stripe", "payment_intent.succeeded");
	set(root, "object", "null");
	stripe_refused(root, "object must be \"event\"");

	/* "object" may be left out. */
	root = fixture("stripe", "payment_intent.succeeded");
	del(root, "object");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_CAPTURE);
	json_decref(root);

	root = fixture("stripe", "payment_intent.succeeded");
	del(root, "data");
	stripe_refused(root, "data must be an object");
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(json_object_get(root, "data"), "object", PI_A);
	stripe_refused(root, "data.object must be an object");
	root = fixture("stripe", "payment_intent.succeeded");
	del(stripe_object(root), "id");
	stripe_refused(root, "data.object.id is required");
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(stripe_object(root), "object", "charge");
	stripe_refused(root, "data.object names the wrong kind of object");
	root = fixture("stripe", "charge.refunded");
	set(stripe_object(root), "amount_refunded", "-1");
	stripe_refused(root, "data.object.amount_refunded must be an integer "
	    "of 0 or more in minor units");
	root = fixture("stripe", "charge.refunded");
	set(stripe_object(root), "amount_refunded", "0.0");
	stripe_refused(root, "data.object.amount_refunded must be an integer "
	    "of 0 or more in minor units");
	/* A running total of 0: every refund it counted failed. */
	root = fixture("stripe", "charge.refunded");
	set(stripe_object(root), "amount_refunded", "0");
	stripe_ok(root, &m);
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	ck_assert_int_eq(m.amount, 0);
	ck_assert_int_eq(m.cumulative, 1);
	ck_assert_int_eq(m.status, EVENT_STATUS_SUCCEEDED);
	json_decref(root);
	root = fixture("stripe", "payout.paid");
	set_str(stripe_object(root), "id", "po/1");
	stripe_refused(root, "data.object.id " ID_RULE);

	stripe_refused(parse("{\"a\":1}"), "id is required");
	stripe_refused(json_array(), "body must be a JSON object");
}
END_TEST

START_TEST(test_stripe_unknown_type)
{
	json_t			*root;
	struct event_move	 m;

	/* An unmapped type needs only id, type and created. */
	root = parse("{\"id\":\"evt_1\",\"type\":\"invoice.paid\","
	    "\"created\":1}");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.id, "evt_1");
	ck_assert_str_eq(m.type, "invoice.paid");
	ck_assert(m.occurred_at == 1);
	json_decref(root);

	stripe_refused(parse("{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}"),
	    "created must be a positive integer of Unix seconds");
	stripe_refused(parse("{\"type\":\"invoice.paid\",\"created\":1}"),
	    "id is required");
	stripe_refused(parse("{\"id\":\"evt_1\",\"created\":1}"),
	    "type is required");

	/* A mapped type in another case is not that type. */
	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "type", "Payment_Intent.Succeeded");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	json_decref(root);
}
END_TEST

static char *
repeat(char c, size_t n, const char *prefix)
{
	size_t	 p = strlen(prefix);
	char	*s = malloc(p + n + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, p);
	memset(s + p, c, n);
	s[p + n] = '\0';
	return s;
}

START_TEST(test_long_ids)
{
	char			*id255 = repeat('a', 255 - 4, "evt_");
	char			*id256 = repeat('a', 256 - 4, "evt_");
	char			*pi256 = repeat('b', 256 - 3, "pi_");
	char			*type127 = repeat('x', 127 - 2, "x.");
	char			*type128 = repeat('x', 128 - 2, "x.");
	json_t			*root;
	struct event_move	 m;

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "id", id255);
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_str_eq(m.id, id255);
	json_decref(root);

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "id", id256);
	stripe_refused(root, "id " ID_RULE);

	root = fixture("stripe", "charge.succeeded");
	set_str(stripe_object(root), "payment_intent", pi256);
	stripe_refused(root, "data.object.payment_intent " ID_RULE);

	root = fixture("stripe", "customer.created");
	set_str(root, "type", type127);
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_str_eq(m.type, type127);
	json_decref(root);

	root = fixture("stripe", "customer.created");
	set_str(root, "type", type128);
	stripe_refused(root, "type must be 1 to 127 characters of "
	    "A-Z a-z 0-9 _ . : -");

	root = fixture("neutral", "payment.refunded");
	set_str(neutral_data(root), "refund_id", id256);
	neutral_refused(root, "data.refund_id " ID_RULE);

	root = fixture("neutral", "payout.paid");
	set_str(neutral_data(root), "payout_id", id255);
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert_str_eq(m.payment_ref, id255);
	ck_assert_str_eq(m.object_id, id255);
	json_decref(root);

	free(id255);
	free(id256);
	free(pi256);
	free(type127);
	free(type128);
}
END_TEST

/* Reasons are built from field names only: no input comes back. */
START_TEST(test_why_is_clean)
{
	json_t			*root;
	struct event_move	 m;

	root = fixture("stripe", "payment_intent.succeeded");
	set_str(root, "id", "evt_<script>alert(1)</script>");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_INVALID);
	ck_assert_ptr_null(strstr(why, "script"));
	json_decref(root);

	root = fixture("stripe", "payment_intent.succeeded");
	set(stripe_object(root), "amount_received", "\"31337\"");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_INVALID);
	ck_assert_ptr_null(strstr(why, "31337"));
	json_decref(root);

	root = fixture("neutral", "payment.captured");
	set_str(neutral_data(root), "currency", "QZQ");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_INVALID);
	ck_assert_ptr_null(strstr(why, "QZQ"));
	json_decref(root);

	root = fixture("neutral", "payment.captured");
	set_str(root, "timestamp", "2026-02-30T10:00:00Z");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_INVALID);
	ck_assert_ptr_null(strstr(why, "2026"));
	json_decref(root);
}
END_TEST

START_TEST(test_why_buffer)
{
	json_t			*root = parse("{\"type\":\"x\",\"created\":1}");
	struct event_move	 m;
	char			 small[5];

	memset(small, 'Z', sizeof(small));
	ck_assert_int_eq(event_map_stripe(root, &m, small, sizeof(small)),
	    EVENT_INVALID);
	ck_assert_str_eq(small, "id i");
	ck_assert_int_eq(event_map_stripe(root, &m, NULL, 0), EVENT_INVALID);
	ck_assert_int_eq(event_map_neutral(root, &m, NULL, 0), EVENT_INVALID);

	/* Success leaves an empty reason. */
	json_decref(root);
	root = fixture("stripe", "payout.paid");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_str_eq(why, "");
	json_decref(root);
}
END_TEST

START_TEST(test_out_cleared)
{
	json_t			*root = fixture("stripe", "payout.paid");
	struct event_move	 m;

	/* A failure late in the mapping leaves nothing half-filled. */
	memset(&m, 'A', sizeof(m));
	set_str(stripe_object(root), "currency", "zzz");
	ck_assert_int_eq(map_stripe(root, &m), EVENT_INVALID);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.id, "");
	ck_assert_str_eq(m.type, "");
	ck_assert_str_eq(m.object_id, "");
	ck_assert_str_eq(m.payment_ref, "");
	ck_assert(m.occurred_at == 0);
	check_no_extras(&m);
	json_decref(root);

	/* Likewise after a late fault in a capture's extras. */
	root = fixture("neutral", "payment.captured");
	memset(&m, 'A', sizeof(m));
	set(neutral_data(root), "fee", "2500");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_INVALID);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.payment_ref, "");
	ck_assert(m.amount == 0);
	ck_assert_str_eq(m.currency, "");
	check_no_extras(&m);
	json_decref(root);

	/* And a receipt carries nothing either. */
	root = fixture("stripe", "customer.created");
	memset(&m, 'A', sizeof(m));
	ck_assert_int_eq(map_stripe(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	check_no_extras(&m);
	json_decref(root);
}
END_TEST

START_TEST(test_neutral_fields)
{
	json_t			*root;
	struct event_move	 m;

	/* A body id that is not a clean identifier is ignored. */
	root = fixture("neutral", "payment.refunded");
	set_str(root, "id", "evt 2");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert_str_eq(m.id, "");
	ck_assert_int_eq(m.kind, EVENT_REFUND);
	json_decref(root);
	root = fixture("neutral", "payment.refunded");
	set(root, "id", "42");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert_str_eq(m.id, "");
	json_decref(root);

	/* Currency in any case, stored upper. */
	root = fixture("neutral", "payment.captured");
	set_str(neutral_data(root), "currency", "eur");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert_str_eq(m.currency, "EUR");
	json_decref(root);

	/* Neutral amounts are ISO minor units already, ISK included. */
	root = fixture("neutral", "payment.captured");
	set_str(neutral_data(root), "currency", "ISK");
	set(neutral_data(root), "amount", "150");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert(m.amount == 150);
	json_decref(root);
	root = fixture("neutral", "payment.captured");
	set_str(neutral_data(root), "currency", "MGA");
	set(neutral_data(root), "amount", "150");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert(m.amount == 150);
	json_decref(root);

	/* A refund's amount is its own, never a running total. */
	root = fixture("neutral", "payment.refunded");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert_int_eq(m.cumulative, 0);
	json_decref(root);

	root = fixture("neutral", "payment.captured");
	del(neutral_data(root), "payment_id");
	neutral_refused(root, "data.payment_id is required");
	root = fixture("neutral", "payment.refunded");
	del(neutral_data(root), "refund_id");
	neutral_refused(root, "data.refund_id is required");
	root = fixture("neutral", "dispute.opened");
	del(neutral_data(root), "dispute_id");
	neutral_refused(root, "data.dispute_id is required");
	root = fixture("neutral", "dispute.won");
	set(neutral_data(root), "payment_id", "7");
	neutral_refused(root, "data.payment_id must be a string");
	root = fixture("neutral", "payout.paid");
	del(neutral_data(root), "payout_id");
	neutral_refused(root, "data.payout_id is required");
	root = fixture("neutral", "payment.captured");
	del(root, "data");
	neutral_refused(root, "data must be an object");
	root = fixture("neutral", "payment.captured");
	set(root, "data", "[]");
	neutral_refused(root, "data must be an object");
	root = fixture("neutral", "payment.captured");
	del(root, "type");
	neutral_refused(root, "type is required");
	neutral_refused(json_string("x"), "body must be a JSON object");
}
END_TEST

START_TEST(test_neutral_unknown_type)
{
	json_t			*root;
	struct event_move	 m;

	root = parse("{\"type\":\"payment.authorized\","
	    "\"timestamp\":\"2026-12-03T10:00:00Z\"}");
	ck_assert_int_eq(map_neutral(root, &m), EVENT_OK);
	ck_assert_int_eq(m.kind, EVENT_NONE);
	ck_assert_str_eq(m.type, "payment.authorized");
	ck_assert(m.occurred_at == 1796292000);
	ck_assert_str_eq(m.id, "");
	json_decref(root);

	neutral_refused(parse("{\"type\":\"payment.authorized\"}"),
	    "timestamp is required");
	neutral_refused(parse("{\"type\":\"payment.authorized\","
	    "\"timestamp\":null}"), "timestamp is required");
	neutral_refused(parse("{\"type\":\"payment.authorized\","
	    "\"timestamp\":1796292000}"), "timestamp must be an RFC 3339 "
	    "date-time after 1970 with Z or a +hh:mm offset");
	neutral_refused(parse("{\"timestamp\":\"2026-12-03T10:00:00Z\"}"),
	    "type is required");
}
END_TEST

static const struct {
	const char	*ts;
	int64_t		 t;
} good_times[] = {
	{ "2026-12-03T10:00:00Z", 1796292000 },
	{ "2026-12-03t10:00:00z", 1796292000 },
	{ "2026-12-03T11:00:00+01:00", 1796292000 },
	{ "2026-12-03T05:30:00-04:30", 1796292000 },
	{ "2026-12-04T09:59:00+23:59", 1796292000 },
	{ "2026-12-03T10:00:00-00:00", 1796292000 },
	{ "2026-12-03T10:00:00+00:00", 1796292000 },
	{ "2026-12-03T10:00:00.5Z", 1796292000 },
	{ "2026-12-03T10:00:00.999999999Z", 1796292000 },
	{ "2026-12-03T11:00:00.123456789+01:00", 1796292000 },
	{ "1970-01-01T00:00:01Z", 1 },
	{ "1970-01-01T01:00:01+01:00", 1 },
	{ "2000-02-29T00:00:00Z", 951782400 },
	{ "2024-02-29T12:00:00Z", 1709208000 },
	{ "2024-12-31T23:59:59Z", 1735689599 },
	{ "2025-01-01T00:00:00Z", 1735689600 },
	{ "2038-01-19T03:14:08Z", INT64_C(2147483648) },
	{ "2100-03-01T00:00:00Z", INT64_C(4107542400) },
	{ "9999-12-31T23:59:59Z", INT64_C(253402300799) },
};

START_TEST(test_rfc3339_good)
{
	json_t			*root = fixture("neutral", "payment.captured");
	struct event_move	 m;

	set_str(root, "timestamp", good_times[_i].ts);
	ck_assert_msg(map_neutral(root, &m) == EVENT_OK, "%s refused",
	    good_times[_i].ts);
	ck_assert_msg(m.occurred_at == good_times[_i].t, "%s gave %lld",
	    good_times[_i].ts, (long long)m.occurred_at);
	json_decref(root);
}
END_TEST

static const char *const bad_times[] = {
	"2026-02-30T10:00:00Z",		/* no February 30 */
	"2025-02-29T10:00:00Z",		/* not a leap year */
	"1900-02-29T00:00:00Z",		/* century, not a leap year */
	"2026-04-31T00:00:00Z",
	"2026-12-32T00:00:00Z",
	"2026-12-00T10:00:00Z",
	"2026-13-03T10:00:00Z",
	"2026-00-03T10:00:00Z",
	"2026-12-03T24:00:00Z",		/* hour 24 */
	"2026-12-03T10:60:00Z",
	"2026-12-03T23:59:60Z",		/* leap second */
	"2026-12-03T10:00:00",		/* no zone */
	"2026-12-03T10:00:00.123",	/* no zone after a fraction */
	"2026-12-03",
	"2026-12-03T10:00Z",		/* no seconds */
	"2026-12-03T10:00:00.Z",	/* empty fraction */
	"2026-12-03T10:00:00,5Z",
	"2026-12-03T10:00:00.1234567890Z",	/* 10 fraction digits */
	"2026-12-03 10:00:00Z",		/* space for T */
	"2026-12-03T10:00:00+0100",	/* offset without colon */
	"2026-12-03T10:00:00+01",
	"2026-12-03T10:00:00+24:00",
	"2026-12-03T10:00:00+01:60",
	"2026-12-03T10:00:00UTC",
	"2026-12-03T10:00:00Zjunk",
	"2026-12-03T10:00:00+01:00x",
	"2026-12-03T10:00:00Z ",
	" 2026-12-03T10:00:00Z",
	"26-12-03T10:00:00Z",
	"2026-12-3T10:00:00Z",
	"+2026-12-03T10:00:00Z",
	"2026/12/03T10:00:00Z",
	"2026-1a-03T10:00:00Z",
	"1970-01-01T00:00:00Z",		/* not after 1970 */
	"1969-12-31T23:59:59Z",
	"1970-01-01T00:30:00+01:00",
	"0000-01-01T00:00:00Z",
	"",
	"1796292000",
	"Thu, 03 Dec 2026 10:00:00 GMT",
};

START_TEST(test_rfc3339_bad)
{
	json_t			*root = fixture("neutral", "payment.captured");

	set_str(root, "timestamp", bad_times[_i]);
	neutral_refused(root, "timestamp must be an RFC 3339 date-time after "
	    "1970 with Z or a +hh:mm offset");
}
END_TEST

START_TEST(test_kind_names)
{
	static const char *const names[] = {
		"none", "capture", "refund", "dispute_opened", "dispute_won",
		"dispute_lost", "payout"
	};
	int	 k;

	ck_assert_int_eq(EVENT_NONE, 0);
	ck_assert_int_eq(EVENT_PAYOUT, 6);
	for (k = EVENT_NONE; k <= EVENT_PAYOUT; k++) {
		ck_assert_str_eq(event_kind_name((enum event_kind)k), names[k]);
		ck_assert_int_eq(event_kind_parse(names[k]), k);
	}
	ck_assert_str_eq(event_kind_name((enum event_kind)7), "none");
	ck_assert_str_eq(event_kind_name((enum event_kind)-1), "none");
	ck_assert_int_eq(event_kind_parse(NULL), -1);
	ck_assert_int_eq(event_kind_parse(""), -1);
	ck_assert_int_eq(event_kind_parse("Capture"), -1);
	ck_assert_int_eq(event_kind_parse("capture "), -1);
	ck_assert_int_eq(event_kind_parse("dispute"), -1);
}
END_TEST

START_TEST(test_id_valid)
{
	static const char	 nul[] = "evt\0x";
	char			*s255 = repeat('Z', 255, "");

	ck_assert_int_eq(event_id_valid("evt_1", 5), 1);
	ck_assert_int_eq(event_id_valid("a:b.c-d_E9", 10), 1);
	ck_assert_int_eq(event_id_valid(s255, 255), 1);
	ck_assert_int_eq(event_id_valid(s255, 256), 0);
	ck_assert_int_eq(event_id_valid("", 0), 0);
	ck_assert_int_eq(event_id_valid(NULL, 0), 0);
	ck_assert_int_eq(event_id_valid(NULL, 5), 0);
	ck_assert_int_eq(event_id_valid(nul, 5), 0);
	ck_assert_int_eq(event_id_valid("a b", 3), 0);
	ck_assert_int_eq(event_id_valid("a/b", 3), 0);
	ck_assert_int_eq(event_id_valid("a\"b", 3), 0);
	ck_assert_int_eq(event_id_valid("a\nb", 3), 0);
	ck_assert_int_eq(event_id_valid("\xc3\xa9", 2), 0);
	/* Only len bytes are looked at. */
	ck_assert_int_eq(event_id_valid("evt 1", 3), 1);
	free(s255);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("event");
	TCase	*tc;

	tc = tcase_create("fixtures");
	tcase_add_loop_test(tc, test_stripe_fixture, 0,
	    (int)(sizeof(stripe_fixtures) / sizeof(stripe_fixtures[0])));
	tcase_add_loop_test(tc, test_neutral_fixture, 0,
	    (int)(sizeof(neutral_fixtures) / sizeof(neutral_fixtures[0])));
	tcase_add_test(tc, test_cross_provider);
	suite_add_tcase(s, tc);

	tc = tcase_create("stripe");
	tcase_add_test(tc, test_payment_reported_twice);
	tcase_add_test(tc, test_payer_identifiers);
	tcase_add_test(tc, test_charge_uncaptured);
	tcase_add_test(tc, test_charge_ref_rule);
	tcase_add_test(tc, test_charge_amount_fallback);
	tcase_add_loop_test(tc, test_refund_status, 0,
	    (int)(sizeof(refund_cases) / sizeof(refund_cases[0])));
	tcase_add_test(tc, test_refund_fields);
	tcase_add_test(tc, test_payout_status);
	tcase_add_test(tc, test_dispute_closed);
	tcase_add_test(tc, test_stripe_units);
	tcase_add_loop_test(tc, test_stripe_sca, 0,
	    (int)(sizeof(stripe_sca_cases) / sizeof(stripe_sca_cases[0])));
	tcase_add_test(tc, test_stripe_sca_absent);
	tcase_add_test(tc, test_stripe_envelope);
	tcase_add_test(tc, test_stripe_unknown_type);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_loop_test(tc, test_stripe_bad_amount, 0,
	    (int)(sizeof(bad_amounts) / sizeof(bad_amounts[0])));
	tcase_add_loop_test(tc, test_neutral_bad_amount, 0,
	    (int)(sizeof(bad_amounts) / sizeof(bad_amounts[0])));
	tcase_add_loop_test(tc, test_bad_currency, 0,
	    (int)(sizeof(bad_currencies) / sizeof(bad_currencies[0])));
	tcase_add_test(tc, test_long_ids);
	tcase_add_test(tc, test_why_is_clean);
	tcase_add_test(tc, test_why_buffer);
	tcase_add_test(tc, test_out_cleared);
	tcase_add_test(tc, test_id_valid);
	tcase_add_test(tc, test_kind_names);
	tcase_add_test(tc, test_status_names);
	tcase_add_loop_test(tc, test_currency_max, 0,
	    (int)(sizeof(max_cases) / sizeof(max_cases[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("neutral");
	tcase_add_test(tc, test_neutral_fields);
	tcase_add_test(tc, test_neutral_unknown_type);
	tcase_add_test(tc, test_neutral_capture_extras);
	tcase_add_loop_test(tc, test_neutral_bad_extras, 0,
	    (int)(sizeof(bad_extras) / sizeof(bad_extras[0])));
	tcase_add_loop_test(tc, test_neutral_refund_status, 0,
	    (int)(sizeof(neutral_refund_cases) /
	    sizeof(neutral_refund_cases[0])));
	tcase_add_test(tc, test_neutral_refund_updated);
	tcase_add_loop_test(tc, test_rfc3339_good, 0,
	    (int)(sizeof(good_times) / sizeof(good_times[0])));
	tcase_add_loop_test(tc, test_rfc3339_bad, 0,
	    (int)(sizeof(bad_times) / sizeof(bad_times[0])));
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
