/*
 * event: maps a verified, parsed provider event to at most one money
 * movement. The mapping follows the providers' real payload shapes and is
 * documented in docs/events.md. Nothing here touches the ledger.
 */
#ifndef HL_EVENT_H
#define HL_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define EVENT_ID_MAX	255	/* bytes in an event id or reference */
#define EVENT_TYPE_MAX	127	/* bytes in an event type */

enum event_kind {
	EVENT_NONE = 0,		/* a receipt only: posts nothing */
	EVENT_CAPTURE,		/* money captured from the customer */
	EVENT_REFUND,		/* money returned to the customer */
	EVENT_DISPUTE_OPENED,	/* funds withdrawn by a dispute */
	EVENT_DISPUTE_WON,	/* withdrawn funds reinstated */
	EVENT_DISPUTE_LOST,	/* the withdrawal is final */
	EVENT_PAYOUT		/* balance paid out to the merchant's bank */
};

/* Where a refund or payout stands. A refund is pending until it succeeds
 * or fails; a failed payout returns its money to the provider balance. */
enum event_status {
	EVENT_STATUS_NONE = 0,		/* not a refund or payout */
	EVENT_STATUS_PENDING,
	EVENT_STATUS_SUCCEEDED,
	EVENT_STATUS_FAILED		/* failed or canceled */
};

struct event_move {
	enum event_kind	 kind;
	char		 type[EVENT_TYPE_MAX + 1];	/* provider's type */
	char		 id[EVENT_ID_MAX + 1];		/* provider's event id,
							   "" if the body has none */
	char		 payment_ref[EVENT_ID_MAX + 1];	/* pi_..., ch_..., po_... */
	char		 object_id[EVENT_ID_MAX + 1];	/* re_..., dp_..., or "" */
	int64_t		 amount;	/* minor units, > 0 when kind != NONE */
	char		 currency[4];	/* upper-case ISO 4217 */
	int64_t		 occurred_at;	/* provider's event time, Unix seconds */
	int		 cumulative;	/* amount is a running total (Stripe's
					   charge.refunded amount_refunded) */
	enum event_status status;	/* refunds and payouts; NONE otherwise */
	int64_t		 fee;		/* provider's fee on a capture, minor
					   units, 0 <= fee < amount; 0 if none */
	char		 sca_result[32];	/* 3DS outcome on a capture, e.g.
					   "authenticated"; "" when absent */
	int		 liability_shift;	/* 1 shifted, 0 not, -1 unknown */
	/* Who paid, on a capture, for the reconciler's patterns; "" when
	 * the event does not say. No card number is ever kept. */
	char		 customer[EVENT_ID_MAX + 1];	/* cus_... */
	char		 card_fingerprint[64];	/* Stripe's card fingerprint */
	char		 card_country[3];	/* ISO 3166 alpha-2 of the card */
	char		 card_brand[24];	/* "visa", "mastercard", ... */
};

enum event_result {
	EVENT_OK = 0,
	EVENT_INVALID		/* the body is not a usable event: why says */
};

/* Map a Stripe event object (the whole body). Fills *out; on EVENT_INVALID
 * writes a short reason, safe to return to the sender, into why. Unknown
 * event types give EVENT_OK with kind EVENT_NONE. Thread-safe. */
enum event_result event_map_stripe(const json_t *root, struct event_move *out,
	    char *why, size_t whylen);

/* Map an event in the neutral Standard Webhooks schema (docs/events.md).
 * Same contract as event_map_stripe(). */
enum event_result event_map_neutral(const json_t *root, struct event_move *out,
	    char *why, size_t whylen);

/* The ledger's name for kind ("capture", "refund", ...); "none" for
 * EVENT_NONE. */
const char	*event_kind_name(enum event_kind kind);

/* "none", "pending", "succeeded", "failed". */
const char	*event_status_name(enum event_status status);

/* Inverse of event_kind_name(); -1 for an unknown name. */
int		 event_kind_parse(const char *name);

/* Return 1 when len bytes at s are a usable identifier: 1 to EVENT_ID_MAX
 * bytes of [A-Za-z0-9_.:-]. */
int		 event_id_valid(const char *s, size_t len);

#endif
