/*
 * event: from a provider's event object to at most one money movement.
 *
 * Every field is checked for type, length and range before it is copied,
 * and the first fault ends the mapping with a reason built only from the
 * field's path and the rule it broke: nothing from the body is echoed, so
 * a reason is safe to send back and to log.
 *
 * The ledger's two cross-event rules (one capture per payment however many
 * Stripe events report it; charge.refunded's running total turned into an
 * increment) are not applied here: this module sees one event at a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "currency.h"
#include "event.h"

/* 9999-12-31T23:59:59Z: the last instant RFC 3339 can write. */
#define EVENT_TIME_MAX		INT64_C(253402300799)

/* The longest 3-D Secure outcome kept: sca_result less its NUL. */
#define SCA_RESULT_MAX	(sizeof(((struct event_move *)0)->sca_result) - 1)

/* The longest RFC 3339 timestamp accepted: nanoseconds and an offset. */
#define RFC3339_MAX		35	/* 2026-12-03T10:00:00.123456789+01:00 */
#define RFC3339_FRAC_MAX	9

struct ctx {
	char	*why;
	size_t	 whylen;
};

static const char *const kind_names[] = {
	[EVENT_NONE] = "none",
	[EVENT_CAPTURE] = "capture",
	[EVENT_REFUND] = "refund",
	[EVENT_DISPUTE_OPENED] = "dispute_opened",
	[EVENT_DISPUTE_WON] = "dispute_won",
	[EVENT_DISPUTE_LOST] = "dispute_lost",
	[EVENT_PAYOUT] = "payout"
};

#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

static const char *const status_names[] = {
	[EVENT_STATUS_NONE] = "none",
	[EVENT_STATUS_PENDING] = "pending",
	[EVENT_STATUS_SUCCEEDED] = "succeeded",
	[EVENT_STATUS_FAILED] = "failed"
};

#define NSTATUSES (sizeof(status_names) / sizeof(status_names[0]))

static int
fail(struct ctx *c, const char *path, const char *rule)
{
	if (c->why != NULL && c->whylen > 0)
		snprintf(c->why, c->whylen, "%s %s", path, rule);
	return -1;
}

/* The member name at the end of a dotted path. */
static const char *
leaf(const char *path)
{
	const char	*dot = strrchr(path, '.');

	return dot != NULL ? dot + 1 : path;
}

static int
id_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' ||
	    ch == '-';
}

int
event_id_valid(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL || len == 0 || len > EVENT_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!id_char((unsigned char)s[i]))
			return 0;
	return 1;
}

const char *
event_kind_name(enum event_kind kind)
{
	if ((size_t)kind >= NKINDS)
		return "none";
	return kind_names[kind];
}

const char *
event_status_name(enum event_status status)
{
	if ((size_t)status >= NSTATUSES)
		return "none";
	return status_names[status];
}

int
event_kind_parse(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < NKINDS; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * Copy the identifier at path (a member of obj) into dst, which holds
 * EVENT_ID_MAX + 1 bytes. The length is checked before anything is copied.
 */
static int
get_id(struct ctx *c, const json_t *obj, const char *path, char *dst)
{
	const json_t	*v = json_object_get(obj, leaf(path));
	const char	*s;
	size_t		 len;

	if (v == NULL || json_is_null(v))
		return fail(c, path, "is required");
	if (!json_is_string(v))
		return fail(c, path, "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (!event_id_valid(s, len))
		return fail(c, path, "must be 1 to 255 characters of "
		    "A-Z a-z 0-9 _ . : -");
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* The event type: the identifier alphabet, at most EVENT_TYPE_MAX bytes. */
static int
get_type(struct ctx *c, const json_t *root, struct event_move *out)
{
	const json_t	*v = json_object_get(root, "type");
	size_t		 len;

	if (v == NULL || json_is_null(v))
		return fail(c, "type", "is required");
	if (!json_is_string(v))
		return fail(c, "type", "must be a string");
	len = json_string_length(v);
	if (len > EVENT_TYPE_MAX || !event_id_valid(json_string_value(v), len))
		return fail(c, "type", "must be 1 to 127 characters of "
		    "A-Z a-z 0-9 _ . : -");
	memcpy(out->type, json_string_value(v), len);
	out->type[len] = '\0';
	return 0;
}

/*
 * An amount in minor units: a JSON integer, never a real (10.5, or 1e3,
 * which Jansson parses as a real), a string or null, in
 * 1..CURRENCY_MAX_AMOUNT.
 */
static int
get_amount(struct ctx *c, const json_t *obj, const char *path, int64_t *out)
{
	const json_t	*v = json_object_get(obj, leaf(path));
	json_int_t	 n;

	if (v == NULL)
		return fail(c, path, "is required");
	if (!json_is_integer(v))
		return fail(c, path,
		    "must be a positive integer in minor units");
	n = json_integer_value(v);
	if (n <= 0)
		return fail(c, path,
		    "must be a positive integer in minor units");
	if (n > CURRENCY_MAX_AMOUNT)
		return fail(c, path, "exceeds 9007199254740991 minor units");
	*out = (int64_t)n;
	return 0;
}

/*
 * A running total in minor units, such as Stripe's amount_refunded: as
 * get_amount(), but 0 is a total too (every refund it counted failed).
 */
static int
get_total(struct ctx *c, const json_t *obj, const char *path, int64_t *out)
{
	const json_t	*v = json_object_get(obj, leaf(path));
	json_int_t	 n;

	if (v == NULL)
		return fail(c, path, "is required");
	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0)
		return fail(c, path,
		    "must be an integer of 0 or more in minor units");
	if (n > CURRENCY_MAX_AMOUNT)
		return fail(c, path, "exceeds 9007199254740991 minor units");
	*out = (int64_t)n;
	return 0;
}

static int
get_currency(struct ctx *c, const json_t *obj, const char *path,
    struct event_move *out, const struct currency **cur)
{
	const json_t	*v = json_object_get(obj, leaf(path));

	if (v == NULL || json_is_null(v))
		return fail(c, path, "is required");
	if (!json_is_string(v))
		return fail(c, path, "must be a string");
	*cur = currency_lookup(json_string_value(v), json_string_length(v));
	if (*cur == NULL)
		return fail(c, path, "must be an active ISO 4217 currency code");
	memcpy(out->currency, (*cur)->code, sizeof(out->currency));
	return 0;
}

/* When obj names its own kind ("object": "charge"), it must be want. */
static int
check_object(struct ctx *c, const json_t *obj, const char *path,
    const char *want)
{
	const json_t	*v = json_object_get(obj, "object");

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
		return fail(c, path, "names the wrong kind of object");
	return 0;
}

/*
 * Stripe's integer to ISO minor units. Stripe keeps ISK as a two-decimal
 * currency whose decimals must be 00, and sends its zero-decimal currencies
 * in whole units even where ISO has minor units (MGA, ISO exponent 2).
 * Every other amount Stripe sends is already in ISO minor units.
 */
static int
stripe_units(struct ctx *c, const char *path, const struct currency *cur,
    int64_t *amount)
{
	int64_t	 mul = 1;
	int	 i;

	if (strcmp(cur->code, "ISK") == 0) {
		if (*amount % 100 != 0)
			return fail(c, path,
			    "must be a multiple of 100 for ISK");
		*amount /= 100;
		return 0;
	}
	if (!cur->stripe_zero_decimal)
		return 0;
	for (i = 0; i < cur->exponent; i++)
		mul *= 10;
	if (*amount > CURRENCY_MAX_AMOUNT / mul)
		return fail(c, path, "exceeds 9007199254740991 minor units");
	*amount *= mul;
	return 0;
}

/*
 * An amount in ISO minor units against its currency's ceiling. The 2^53
 * bound in get_amount() only keeps JSON exact; this one refuses an amount
 * no payment reaches, such as cents sent where yen were meant.
 */
static int
check_max(struct ctx *c, const char *path, const struct currency *cur,
    int64_t amount)
{
	if (amount > currency_max_amount(cur))
		return fail(c, path, "exceeds the maximum for its currency "
		    "(10^12 major units)");
	return 0;
}

/* The currency first: the amount's unit depends on it. */
static int
stripe_money(struct ctx *c, const json_t *obj, const char *amount_path,
    struct event_move *out)
{
	const struct currency	*cur;

	if (get_currency(c, obj, "data.object.currency", out, &cur) == -1 ||
	    get_amount(c, obj, amount_path, &out->amount) == -1 ||
	    stripe_units(c, amount_path, cur, &out->amount) == -1 ||
	    check_max(c, amount_path, cur, out->amount) == -1)
		return -1;
	return 0;
}

/*
 * A charge's payment reference: its PaymentIntent when it has one, so
 * that payment_intent.succeeded and charge.succeeded name the same
 * payment; else the charge itself (charges made without a PaymentIntent).
 */
static int
stripe_charge_ref(struct ctx *c, const json_t *obj, struct event_move *out)
{
	const json_t	*pi = json_object_get(obj, "payment_intent");

	if (pi == NULL || json_is_null(pi))
		return get_id(c, obj, "data.object.id", out->payment_ref);
	return get_id(c, obj, "data.object.payment_intent", out->payment_ref);
}

/* A refund's or dispute's reference: its PaymentIntent, else its charge. */
static int
stripe_child_ref(struct ctx *c, const json_t *obj, struct event_move *out)
{
	const json_t	*pi = json_object_get(obj, "payment_intent");

	if (pi == NULL || json_is_null(pi))
		return get_id(c, obj, "data.object.charge", out->payment_ref);
	return get_id(c, obj, "data.object.payment_intent", out->payment_ref);
}

/* A required string member, compared without copying; *s may be kept. */
static int
get_word(struct ctx *c, const json_t *obj, const char *path, const char **s)
{
	const json_t	*v = json_object_get(obj, leaf(path));

	if (v == NULL || json_is_null(v))
		return fail(c, path, "is required");
	if (!json_is_string(v))
		return fail(c, path, "must be a string");
	*s = json_string_value(v);
	return 0;
}

/* A 3-D Secure outcome: 1 to SCA_RESULT_MAX bytes of [a-z_]. */
static int
sca_word_valid(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL || len == 0 || len > SCA_RESULT_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * payment_method_details.card.three_d_secure of a charge. It only
 * describes the capture, so a missing or odd block is left as unknown
 * rather than refusing money that did move.
 */
/* Copy an optional identifying string when it is a plain word of at most
 * cap - 1 bytes of [A-Za-z0-9_]; anything else is left empty. */
static void
optional_word(const json_t *v, char *dst, size_t cap)
{
	const char	*s;
	size_t		 len, i;

	if (!json_is_string(v))
		return;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len >= cap)
		return;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* The customer and card of a charge, when present: only identifiers, for
 * finding disputes clustered on one payer. */
static void
stripe_payer(const json_t *obj, struct event_move *out)
{
	const json_t *card;

	optional_word(json_object_get(obj, "customer"), out->customer,
	    sizeof(out->customer));
	card = json_object_get(json_object_get(obj, "payment_method_details"),
	    "card");
	optional_word(json_object_get(card, "fingerprint"),
	    out->card_fingerprint, sizeof(out->card_fingerprint));
	optional_word(json_object_get(card, "country"), out->card_country,
	    sizeof(out->card_country));
	if (strlen(out->card_country) != 2)
		out->card_country[0] = '\0';
	optional_word(json_object_get(card, "brand"), out->card_brand,
	    sizeof(out->card_brand));
}

static void
stripe_sca(const json_t *obj, struct event_move *out)
{
	const json_t	*v;
	const char	*s;
	size_t		 len;

	v = json_object_get(obj, "payment_method_details");
	v = json_object_get(v, "card");
	v = json_object_get(v, "three_d_secure");
	if (!json_is_object(v))
		return;
	v = json_object_get(v, "result");
	if (!json_is_string(v))
		return;
	s = json_string_value(v);
	len = json_string_length(v);
	if (!sca_word_valid(s, len))
		return;
	memcpy(out->sca_result, s, len);
	out->sca_result[len] = '\0';
	/* Stripe's two outcomes under which the issuer bears fraud losses. */
	out->liability_shift = strcmp(s, "authenticated") == 0 ||
	    strcmp(s, "attempt_acknowledged") == 0;
}

static int
stripe_payment_intent(struct ctx *c, const json_t *obj,
    struct event_move *out)
{
	if (check_object(c, obj, "data.object", "payment_intent") == -1 ||
	    get_id(c, obj, "data.object.id", out->payment_ref) == -1 ||
	    stripe_money(c, obj, "data.object.amount_received", out) == -1)
		return -1;
	out->kind = EVENT_CAPTURE;
	return 0;
}

/* charge.succeeded and charge.captured. */
static int
stripe_charge_capture(struct ctx *c, const json_t *obj, int need_captured,
    struct event_move *out)
{
	const char	*amount_path = "data.object.amount_captured";

	if (check_object(c, obj, "data.object", "charge") == -1)
		return -1;
	if (need_captured) {
		const json_t	*v = json_object_get(obj, "captured");

		if (v == NULL || !json_is_boolean(v))
			return fail(c, "data.object.captured",
			    "must be true or false");
		if (json_is_false(v))
			return 0;	/* authorised only: nothing moved */
	}
	/* Older API versions have no amount_captured. */
	if (json_object_get(obj, "amount_captured") == NULL)
		amount_path = "data.object.amount";
	if (stripe_charge_ref(c, obj, out) == -1 ||
	    stripe_money(c, obj, amount_path, out) == -1)
		return -1;
	stripe_sca(obj, out);
	stripe_payer(obj, out);
	out->kind = EVENT_CAPTURE;
	return 0;
}

static int
stripe_charge_refunded(struct ctx *c, const json_t *obj,
    struct event_move *out)
{
	const char		*path = "data.object.amount_refunded";
	const struct currency	*cur;

	if (check_object(c, obj, "data.object", "charge") == -1 ||
	    get_id(c, obj, "data.object.id", out->object_id) == -1 ||
	    stripe_charge_ref(c, obj, out) == -1 ||
	    get_currency(c, obj, "data.object.currency", out, &cur) == -1 ||
	    get_total(c, obj, path, &out->amount) == -1 ||
	    stripe_units(c, path, cur, &out->amount) == -1 ||
	    check_max(c, path, cur, out->amount) == -1)
		return -1;
	out->kind = EVENT_REFUND;
	out->status = EVENT_STATUS_SUCCEEDED;
	out->cumulative = 1;
	return 0;
}

/* Stripe's refund statuses. requires_action waits on the customer (a
 * bank detail for some methods): the money is still on its way out. */
static const struct {
	const char		*name;
	enum event_status	 status;
} stripe_refund_statuses[] = {
	{ "succeeded",		EVENT_STATUS_SUCCEEDED },
	{ "pending",		EVENT_STATUS_PENDING },
	{ "requires_action",	EVENT_STATUS_PENDING },
	{ "failed",		EVENT_STATUS_FAILED },
	{ "canceled",		EVENT_STATUS_FAILED }
};

/* refund.created, refund.updated, charge.refund.updated, refund.failed. */
static int
stripe_refund(struct ctx *c, const json_t *obj, int need_failed,
    struct event_move *out)
{
	enum event_status	 status = EVENT_STATUS_NONE;
	const char		*word;
	size_t			 i;

	if (check_object(c, obj, "data.object", "refund") == -1 ||
	    get_word(c, obj, "data.object.status", &word) == -1)
		return -1;
	for (i = 0; i < sizeof(stripe_refund_statuses) /
	    sizeof(stripe_refund_statuses[0]); i++)
		if (strcmp(word, stripe_refund_statuses[i].name) == 0) {
			status = stripe_refund_statuses[i].status;
			break;
		}
	if (status == EVENT_STATUS_NONE)
		return fail(c, "data.object.status", "must be succeeded, "
		    "pending, requires_action, failed or canceled");
	/* The event's name and the object's status must tell one story. */
	if (need_failed && status != EVENT_STATUS_FAILED)
		return fail(c, "data.object.status",
		    "must be failed or canceled for refund.failed");
	if (get_id(c, obj, "data.object.id", out->object_id) == -1 ||
	    stripe_child_ref(c, obj, out) == -1 ||
	    stripe_money(c, obj, "data.object.amount", out) == -1)
		return -1;
	out->kind = EVENT_REFUND;
	out->status = status;
	return 0;
}

static int
stripe_dispute(struct ctx *c, const json_t *obj, int closed,
    struct event_move *out)
{
	enum event_kind	 kind = EVENT_DISPUTE_OPENED;
	const char	*status;

	if (check_object(c, obj, "data.object", "dispute") == -1)
		return -1;
	if (closed) {
		if (get_word(c, obj, "data.object.status", &status) == -1)
			return -1;
		if (strcmp(status, "won") == 0)
			kind = EVENT_DISPUTE_WON;
		else if (strcmp(status, "lost") == 0)
			kind = EVENT_DISPUTE_LOST;
		else
			return 0;	/* warning_closed: never withdrawn */
	}
	if (get_id(c, obj, "data.object.id", out->object_id) == -1 ||
	    stripe_child_ref(c, obj, out) == -1 ||
	    stripe_money(c, obj, "data.object.amount", out) == -1)
		return -1;
	out->kind = kind;
	return 0;
}

/* payout.paid, and payout.failed or payout.canceled, which give the
 * money back to the provider balance. */
static int
stripe_payout(struct ctx *c, const json_t *obj, enum event_status status,
    struct event_move *out)
{
	if (check_object(c, obj, "data.object", "payout") == -1 ||
	    get_id(c, obj, "data.object.id", out->object_id) == -1 ||
	    stripe_money(c, obj, "data.object.amount", out) == -1)
		return -1;
	memcpy(out->payment_ref, out->object_id, sizeof(out->payment_ref));
	out->kind = EVENT_PAYOUT;
	out->status = status;
	return 0;
}

/* Clear everything that depends on the object, keeping id, type, time. */
static void
receipt_only(struct event_move *out)
{
	out->kind = EVENT_NONE;
	out->payment_ref[0] = '\0';
	out->object_id[0] = '\0';
	out->amount = 0;
	out->currency[0] = '\0';
	out->cumulative = 0;
	out->status = EVENT_STATUS_NONE;
	out->fee = 0;
	out->sca_result[0] = '\0';
	out->liability_shift = -1;
	out->customer[0] = '\0';
	out->card_fingerprint[0] = '\0';
	out->card_country[0] = '\0';
	out->card_brand[0] = '\0';
}

/* Every field empty; liability_shift is "unknown", not "not shifted". */
static void
clear(struct event_move *out)
{
	memset(out, 0, sizeof(*out));
	out->liability_shift = -1;
}

static enum event_result
invalid(struct event_move *out)
{
	clear(out);
	return EVENT_INVALID;
}

enum stripe_map {
	SM_NONE,
	SM_RECEIPT,
	SM_PAYMENT_INTENT,
	SM_CHARGE_SUCCEEDED,
	SM_CHARGE_CAPTURED,
	SM_CHARGE_REFUNDED,
	SM_REFUND,
	SM_REFUND_FAILED,
	SM_DISPUTE_CREATED,
	SM_DISPUTE_CLOSED,
	SM_PAYOUT,
	SM_PAYOUT_FAILED
};

static const struct {
	const char	*type;
	enum stripe_map	 map;
} stripe_types[] = {
	{ "payment_intent.succeeded",	SM_PAYMENT_INTENT },
	{ "charge.succeeded",		SM_CHARGE_SUCCEEDED },
	{ "charge.captured",		SM_CHARGE_CAPTURED },
	{ "charge.refunded",		SM_CHARGE_REFUNDED },
	{ "refund.created",		SM_REFUND },
	{ "refund.updated",		SM_REFUND },
	{ "charge.refund.updated",	SM_REFUND },
	{ "refund.failed",		SM_REFUND_FAILED },
	{ "charge.dispute.created",	SM_DISPUTE_CREATED },
	{ "charge.dispute.closed",	SM_DISPUTE_CLOSED },
	/* The same money as created and closed: posting these too would
	 * count a dispute twice. */
	{ "charge.dispute.funds_withdrawn",	SM_RECEIPT },
	{ "charge.dispute.funds_reinstated",	SM_RECEIPT },
	{ "payout.paid",		SM_PAYOUT },
	{ "payout.failed",		SM_PAYOUT_FAILED },
	{ "payout.canceled",		SM_PAYOUT_FAILED }
};

enum event_result
event_map_stripe(const json_t *root, struct event_move *out, char *why,
    size_t whylen)
{
	struct ctx	 c = { why, whylen };
	enum stripe_map	 map = SM_NONE;
	const json_t	*v, *data, *obj;
	json_int_t	 created;
	size_t		 i;
	int		 rc;

	clear(out);
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (!json_is_object(root)) {
		fail(&c, "body", "must be a JSON object");
		return invalid(out);
	}
	v = json_object_get(root, "object");
	if (v != NULL && (!json_is_string(v) ||
	    strcmp(json_string_value(v), "event") != 0)) {
		fail(&c, "object", "must be \"event\"");
		return invalid(out);
	}
	if (get_id(&c, root, "id", out->id) == -1 ||
	    get_type(&c, root, out) == -1)
		return invalid(out);
	v = json_object_get(root, "created");
	if (v == NULL || !json_is_integer(v) ||
	    (created = json_integer_value(v)) <= 0 ||
	    created > EVENT_TIME_MAX) {
		fail(&c, "created", "must be a positive integer of "
		    "Unix seconds");
		return invalid(out);
	}
	out->occurred_at = (int64_t)created;

	for (i = 0; i < sizeof(stripe_types) / sizeof(stripe_types[0]); i++)
		if (strcmp(out->type, stripe_types[i].type) == 0) {
			map = stripe_types[i].map;
			break;
		}
	if (map == SM_NONE || map == SM_RECEIPT)
		return EVENT_OK;

	data = json_object_get(root, "data");
	if (!json_is_object(data)) {
		fail(&c, "data", "must be an object");
		return invalid(out);
	}
	obj = json_object_get(data, "object");
	if (!json_is_object(obj)) {
		fail(&c, "data.object", "must be an object");
		return invalid(out);
	}

	switch (map) {
	case SM_PAYMENT_INTENT:
		rc = stripe_payment_intent(&c, obj, out);
		break;
	case SM_CHARGE_SUCCEEDED:
		rc = stripe_charge_capture(&c, obj, 1, out);
		break;
	case SM_CHARGE_CAPTURED:
		rc = stripe_charge_capture(&c, obj, 0, out);
		break;
	case SM_CHARGE_REFUNDED:
		rc = stripe_charge_refunded(&c, obj, out);
		break;
	case SM_REFUND:
		rc = stripe_refund(&c, obj, 0, out);
		break;
	case SM_REFUND_FAILED:
		rc = stripe_refund(&c, obj, 1, out);
		break;
	case SM_DISPUTE_CREATED:
		rc = stripe_dispute(&c, obj, 0, out);
		break;
	case SM_DISPUTE_CLOSED:
		rc = stripe_dispute(&c, obj, 1, out);
		break;
	case SM_PAYOUT:
		rc = stripe_payout(&c, obj, EVENT_STATUS_SUCCEEDED, out);
		break;
	case SM_PAYOUT_FAILED:
		rc = stripe_payout(&c, obj, EVENT_STATUS_FAILED, out);
		break;
	default:
		rc = 0;
		break;
	}
	if (rc == -1)
		return invalid(out);
	if (out->kind == EVENT_NONE)
		receipt_only(out);
	return EVENT_OK;
}

/* The value of n decimal digits at s, or -1 if any is not a digit. */
static int
digits(const char *s, int n)
{
	int	 v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * RFC 3339 date-time, strictly: YYYY-MM-DDTHH:MM:SS, an optional fraction
 * of 1 to 9 digits (dropped: the result is whole seconds), then Z or an
 * offset +hh:mm / -hh:mm. T and Z may be lower case, as RFC 3339 allows.
 * A leap second (:60) is refused, since Unix time cannot name it. No
 * locale, no timezone database, no strptime(3).
 */
static int
rfc3339_parse(const char *s, size_t len, int64_t *out)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int	 year, mon, day, hour, min, sec, oh, om, dim;
	int64_t	 t, off = 0;
	size_t	 i, n;

	if (len < 20 || len > RFC3339_MAX)
		return -1;
	if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if ((year = digits(s, 4)) < 0 || (mon = digits(s + 5, 2)) < 0 ||
	    (day = digits(s + 8, 2)) < 0 || (hour = digits(s + 11, 2)) < 0 ||
	    (min = digits(s + 14, 2)) < 0 || (sec = digits(s + 17, 2)) < 0)
		return -1;
	if (mon < 1 || mon > 12 || hour > 23 || min > 59 || sec > 59)
		return -1;
	dim = mdays[mon - 1] + (mon == 2 && leap_year(year));
	if (day < 1 || day > dim)
		return -1;

	i = 19;
	if (s[i] == '.') {
		for (n = 0, i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			n++;
		if (n < 1 || n > RFC3339_FRAC_MAX)
			return -1;
	}
	if (i >= len)
		return -1;	/* no zone */
	if (s[i] == 'Z' || s[i] == 'z') {
		if (i + 1 != len)
			return -1;
	} else if (s[i] == '+' || s[i] == '-') {
		if (len - i != 6 || s[i + 3] != ':' ||
		    (oh = digits(s + i + 1, 2)) < 0 ||
		    (om = digits(s + i + 4, 2)) < 0 || oh > 23 || om > 59)
			return -1;
		off = (int64_t)oh * 3600 + om * 60;
		if (s[i] == '-')
			off = -off;
	} else
		return -1;

	t = days_from_civil(year, mon, day) * 86400 + hour * 3600 +
	    min * 60 + sec - off;
	if (t <= 0 || t > EVENT_TIME_MAX)
		return -1;
	*out = t;
	return 0;
}

enum neutral_map {
	NM_NONE,
	NM_CAPTURE,
	NM_REFUND,		/* data.status optional, default "succeeded" */
	NM_REFUND_UPDATE,	/* data.status required */
	NM_DISPUTE,
	NM_PAYOUT
};

static const struct {
	const char		*type;
	enum neutral_map	 map;
	enum event_kind		 kind;
	enum event_status	 status;	/* a payout's, by its type */
} neutral_types[] = {
	{ "payment.captured",	NM_CAPTURE,	EVENT_CAPTURE,
	    EVENT_STATUS_NONE },
	{ "payment.refunded",	NM_REFUND,	EVENT_REFUND,
	    EVENT_STATUS_NONE },
	{ "refund.updated",	NM_REFUND_UPDATE, EVENT_REFUND,
	    EVENT_STATUS_NONE },
	{ "dispute.opened",	NM_DISPUTE,	EVENT_DISPUTE_OPENED,
	    EVENT_STATUS_NONE },
	{ "dispute.won",	NM_DISPUTE,	EVENT_DISPUTE_WON,
	    EVENT_STATUS_NONE },
	{ "dispute.lost",	NM_DISPUTE,	EVENT_DISPUTE_LOST,
	    EVENT_STATUS_NONE },
	{ "payout.paid",	NM_PAYOUT,	EVENT_PAYOUT,
	    EVENT_STATUS_SUCCEEDED },
	{ "payout.failed",	NM_PAYOUT,	EVENT_PAYOUT,
	    EVENT_STATUS_FAILED }
};

static int
neutral_money(struct ctx *c, const json_t *data, struct event_move *out)
{
	const struct currency	*cur;

	if (get_amount(c, data, "data.amount", &out->amount) == -1 ||
	    get_currency(c, data, "data.currency", out, &cur) == -1 ||
	    check_max(c, "data.amount", cur, out->amount) == -1)
		return -1;
	return 0;
}

/* A refund's data.status; absent or null means "succeeded" unless the
 * type requires it. */
static int
neutral_refund_status(struct ctx *c, const json_t *data, int required,
    struct event_move *out)
{
	static const struct {
		const char		*name;
		enum event_status	 status;
	} names[] = {
		{ "pending",	EVENT_STATUS_PENDING },
		{ "succeeded",	EVENT_STATUS_SUCCEEDED },
		{ "failed",	EVENT_STATUS_FAILED }
	};
	const json_t	*v = json_object_get(data, "status");
	size_t		 i;

	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(c, "data.status", "is required");
		out->status = EVENT_STATUS_SUCCEEDED;
		return 0;
	}
	if (json_is_string(v))
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(json_string_value(v), names[i].name) == 0) {
				out->status = names[i].status;
				return 0;
			}
	return fail(c, "data.status", "must be pending, succeeded or failed");
}

/*
 * A capture's optional data.fee and data.sca, read after the amount. A fee
 * below the amount is also below the currency's maximum.
 */
static int
neutral_capture_extras(struct ctx *c, const json_t *data,
    struct event_move *out)
{
	const json_t	*v, *sca;
	json_int_t	 fee;
	size_t		 len;

	v = json_object_get(data, "fee");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || (fee = json_integer_value(v)) < 0 ||
		    fee >= out->amount)
			return fail(c, "data.fee", "must be an integer in "
			    "minor units, at least 0 and less than "
			    "data.amount");
		out->fee = (int64_t)fee;
	}

	optional_word(json_object_get(data, "customer"), out->customer,
	    sizeof(out->customer));
	optional_word(json_object_get(data, "card_fingerprint"),
	    out->card_fingerprint, sizeof(out->card_fingerprint));
	optional_word(json_object_get(data, "card_country"), out->card_country,
	    sizeof(out->card_country));
	if (strlen(out->card_country) != 2)
		out->card_country[0] = '\0';
	optional_word(json_object_get(data, "card_brand"), out->card_brand,
	    sizeof(out->card_brand));

	sca = json_object_get(data, "sca");
	if (sca == NULL || json_is_null(sca))
		return 0;
	if (!json_is_object(sca))
		return fail(c, "data.sca", "must be an object");
	v = json_object_get(sca, "result");
	if (v == NULL || json_is_null(v))
		return fail(c, "data.sca.result", "is required");
	if (!json_is_string(v))
		return fail(c, "data.sca.result", "must be a string");
	len = json_string_length(v);
	if (!sca_word_valid(json_string_value(v), len))
		return fail(c, "data.sca.result",
		    "must be 1 to 31 characters of a-z _");
	memcpy(out->sca_result, json_string_value(v), len);
	out->sca_result[len] = '\0';
	v = json_object_get(sca, "liability_shift");
	if (v == NULL || !json_is_boolean(v))
		return fail(c, "data.sca.liability_shift",
		    "must be true or false");
	out->liability_shift = json_is_true(v);
	return 0;
}

enum event_result
event_map_neutral(const json_t *root, struct event_move *out, char *why,
    size_t whylen)
{
	struct ctx		 c = { why, whylen };
	enum neutral_map	 map = NM_NONE;
	enum event_kind		 kind = EVENT_NONE;
	enum event_status	 status = EVENT_STATUS_NONE;
	const json_t		*v, *data;
	size_t			 i;
	int			 rc = 0;

	clear(out);
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (!json_is_object(root)) {
		fail(&c, "body", "must be a JSON object");
		return invalid(out);
	}
	if (get_type(&c, root, out) == -1)
		return invalid(out);
	v = json_object_get(root, "timestamp");
	if (v == NULL || json_is_null(v)) {
		fail(&c, "timestamp", "is required");
		return invalid(out);
	}
	if (!json_is_string(v) || rfc3339_parse(json_string_value(v),
	    json_string_length(v), &out->occurred_at) == -1) {
		fail(&c, "timestamp", "must be an RFC 3339 date-time after "
		    "1970 with Z or a +hh:mm offset");
		return invalid(out);
	}
	/* The webhook-id header is the idempotency key; a body id is kept
	 * for the record only, and only when it is a clean identifier. */
	v = json_object_get(root, "id");
	if (json_is_string(v) &&
	    event_id_valid(json_string_value(v), json_string_length(v)))
		memcpy(out->id, json_string_value(v),
		    json_string_length(v) + 1);

	for (i = 0; i < sizeof(neutral_types) / sizeof(neutral_types[0]); i++)
		if (strcmp(out->type, neutral_types[i].type) == 0) {
			map = neutral_types[i].map;
			kind = neutral_types[i].kind;
			status = neutral_types[i].status;
			break;
		}
	if (map == NM_NONE)
		return EVENT_OK;

	data = json_object_get(root, "data");
	if (!json_is_object(data)) {
		fail(&c, "data", "must be an object");
		return invalid(out);
	}
	switch (map) {
	case NM_CAPTURE:
		rc = get_id(&c, data, "data.payment_id", out->payment_ref);
		break;
	case NM_REFUND:
	case NM_REFUND_UPDATE:
		rc = get_id(&c, data, "data.payment_id", out->payment_ref);
		if (rc == 0)
			rc = get_id(&c, data, "data.refund_id",
			    out->object_id);
		break;
	case NM_DISPUTE:
		rc = get_id(&c, data, "data.payment_id", out->payment_ref);
		if (rc == 0)
			rc = get_id(&c, data, "data.dispute_id",
			    out->object_id);
		break;
	case NM_PAYOUT:
		rc = get_id(&c, data, "data.payout_id", out->object_id);
		if (rc == 0)
			memcpy(out->payment_ref, out->object_id,
			    sizeof(out->payment_ref));
		break;
	default:
		break;
	}
	if (rc == -1 || neutral_money(&c, data, out) == -1)
		return invalid(out);

	switch (map) {
	case NM_CAPTURE:
		rc = neutral_capture_extras(&c, data, out);
		break;
	case NM_REFUND:
	case NM_REFUND_UPDATE:
		rc = neutral_refund_status(&c, data, map == NM_REFUND_UPDATE,
		    out);
		break;
	case NM_PAYOUT:
		out->status = status;
		break;
	default:
		break;
	}
	if (rc == -1)
		return invalid(out);
	out->kind = kind;
	return EVENT_OK;
}
