/*
 * books.c: a payment's target balances from its facts.
 *
 * Refunds: each refund id counts once, at its strongest status (failed
 * over succeeded over pending). Stripe's running total amount_refunded
 * (H, the total of the latest such event by the provider's event time)
 * is reconciled with the refunds known by id: succeeded ones (S) and
 * pending ones (P). Refunded is max(H, S). Pending is what S + P adds
 * beyond that, but never more than the capture has left: a pending refund
 * whose failure has not arrived yet must not make a later, real refund
 * look like an over-refund.
 *
 * Disputes: each dispute id counts once, closed (won, lost) over opened.
 * An open dispute holds its amount; a won one returns it; a lost one is
 * final.
 *
 * The limit: refunded + open disputes + lost disputes never exceed the
 * capture (else BOOKS_OVER_CAPTURE), and pending refunds are held only up
 * to what that leaves, so no payment ever gives back more than it took.
 */
#include "books.h"

#include <string.h>

/* Index of the first fact among f[0..i) with the same kind class and
 * object id as f[i], or i when f[i] is the first. */
static int	is_dispute(enum event_kind);

static size_t
first_same(const struct books_fact *f, size_t i, int disputes)
{
	size_t j;

	for (j = 0; j < i; j++) {
		int jd = is_dispute(f[j].kind);
		int jr = f[j].kind == EVENT_REFUND && !f[j].cumulative;

		if ((disputes ? jd : jr) &&
		    strcmp(f[j].object_id, f[i].object_id) == 0)
			return j;
	}
	return i;
}

static int
refund_rank(enum event_status s)
{
	return s == EVENT_STATUS_FAILED ? 3 : s == EVENT_STATUS_SUCCEEDED ? 2 :
	    1;
}

static int
is_dispute(enum event_kind k)
{
	return k == EVENT_DISPUTE_OPENED || k == EVENT_DISPUTE_WON ||
	    k == EVENT_DISPUTE_LOST;
}

/* Opened 1, won 2, lost 3. */
static int
dispute_rank(enum event_kind k)
{
	return k == EVENT_DISPUTE_OPENED ? 1 : k == EVENT_DISPUTE_WON ? 2 : 3;
}

static enum books_result
payout_target(const struct books_fact *f, size_t n, struct books_target *out)
{
	int64_t	 amount = f[0].amount;
	int	 failed = 0;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (f[i].kind != EVENT_PAYOUT)
			return BOOKS_REF_CONFLICT;
		if (f[i].amount != amount)
			return BOOKS_AMOUNT_CONFLICT;
		if (f[i].status == EVENT_STATUS_FAILED)
			failed = 1;
	}
	if (!failed) {
		out->balance[BOOKS_PAYOUTS] = amount;
		out->balance[BOOKS_PROVIDER_BALANCE] = -amount;
	}
	return BOOKS_OK;
}

static enum books_result
payment_target(const struct books_fact *f, size_t n, struct books_target *out)
{
	const struct books_fact	*cap = NULL;
	int			 rank[BOOKS_FACTS_MAX];
	int64_t			 H = 0, Hat = -1, S = 0, P = 0, Dh = 0, Dl = 0;
	int64_t			 C, R, out_total, Peff;
	size_t			 i, j;

	for (i = 0; i < n; i++) {
		if (f[i].kind == EVENT_PAYOUT)
			return BOOKS_REF_CONFLICT;
		if (f[i].kind == EVENT_CAPTURE) {
			if (cap == NULL)
				cap = &f[i];
			else if (f[i].amount != cap->amount)
				return BOOKS_CAPTURE_CONFLICT;
		}
		if (strcmp(f[i].currency, f[0].currency) != 0)
			return BOOKS_CURRENCY_MISMATCH;
	}
	if (cap == NULL)
		return BOOKS_NOT_CAPTURED;

	/* The strongest status of each refund and dispute id, kept at the
	 * index of its first fact. */
	for (i = 0; i < n; i++) {
		int d = is_dispute(f[i].kind), r;

		rank[i] = 0;
		if (f[i].kind == EVENT_REFUND && f[i].cumulative) {
			/* The latest total wins: a later, lower total is a
			 * refund that failed. Ties: the larger. */
			if (Hat < 0 || f[i].occurred_at > Hat ||
			    (f[i].occurred_at == Hat && f[i].amount > H)) {
				H = f[i].amount;
				Hat = f[i].occurred_at;
			}
			continue;
		}
		if (f[i].kind != EVENT_REFUND && !d)
			continue;
		j = first_same(f, i, d);
		if (f[j].amount != f[i].amount)
			return BOOKS_AMOUNT_CONFLICT;
		r = d ? dispute_rank(f[i].kind) : refund_rank(f[i].status);
		if (d && r + rank[j] == 5)	/* both won and lost */
			return BOOKS_STATUS_CONFLICT;
		if (r > rank[j])
			rank[j] = r;
	}
	for (i = 0; i < n; i++) {
		if (rank[i] == 0)
			continue;
		if (f[i].kind == EVENT_REFUND) {
			if (rank[i] == 2)
				S += f[i].amount;
			else if (rank[i] == 1)
				P += f[i].amount;
		} else if (rank[i] == 1)
			Dh += f[i].amount;
		else if (rank[i] == 3)
			Dl += f[i].amount;
	}

	C = cap->amount;
	R = H > S ? H : S;
	out_total = H > S + P ? H : S + P;
	Peff = out_total - R;
	/* Money that left or is held by a dispute can never exceed what
	 * came in. An open dispute that closes moves between Dh and Dl, so
	 * its close never breaks this. */
	if (R + Dh + Dl > C)
		return BOOKS_OVER_CAPTURE;
	if (Peff > C - R - Dh - Dl) {
		out->unheld = Peff - (C - R - Dh - Dl);
		Peff = C - R - Dh - Dl;
	}
	out->balance[cap->paid ? BOOKS_SALES : BOOKS_SUSPENSE] = -C;
	out->balance[BOOKS_FEES] = cap->fee;
	out->balance[BOOKS_REFUNDS] = R;
	out->balance[BOOKS_REFUNDS_PENDING] = Peff;
	out->balance[BOOKS_DISPUTES_OPEN] = Dh;
	out->balance[BOOKS_DISPUTES_LOST] = Dl;
	out->balance[BOOKS_PROVIDER_BALANCE] = C - cap->fee - R - Peff - Dh -
	    Dl;
	return BOOKS_OK;
}

enum books_result
books_target(const struct books_fact *f, size_t n, struct books_target *out)
{
	enum books_result r;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > BOOKS_FACTS_MAX)
		return BOOKS_NOT_CAPTURED;
	r = f[0].kind == EVENT_PAYOUT ? payout_target(f, n, out) :
	    payment_target(f, n, out);
	if (r != BOOKS_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

const char *
books_result_code(enum books_result r)
{
	switch (r) {
	case BOOKS_OK:			return "ok";
	case BOOKS_NOT_CAPTURED:	return "payment_not_captured";
	case BOOKS_OVER_CAPTURE:	return "exceeds_captured_amount";
	case BOOKS_CURRENCY_MISMATCH:	return "currency_mismatch";
	case BOOKS_CAPTURE_CONFLICT:	return "capture_amount_conflict";
	case BOOKS_AMOUNT_CONFLICT:	return "amount_conflict";
	case BOOKS_REF_CONFLICT:	return "reference_conflict";
	case BOOKS_STATUS_CONFLICT:	return "status_conflict";
	}
	return "unknown";
}
