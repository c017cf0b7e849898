/*
 * books: what a payment's accounts should hold, given everything the
 * providers have said about it.
 *
 * The ledger never posts "the amount in this event". It keeps every
 * event's facts, computes the target balances of the payment from the
 * whole set, and posts the difference from what is already posted. The
 * target is a function of the set of facts, not of their order, so final
 * balances cannot depend on the order of delivery, and a fact repeated by
 * several events (one capture reported three times, one refund reported
 * as refund.created and in charge.refunded's running total) counts once.
 * Pure computation: no I/O, thread-safe.
 */
#ifndef HL_BOOKS_H
#define HL_BOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define BOOKS_FACTS_MAX	256	/* facts about one payment */

/* In the order of entry_accounts[]. */
enum books_account {
	BOOKS_PROVIDER_BALANCE,
	BOOKS_SALES,
	BOOKS_SUSPENSE,
	BOOKS_FEES,
	BOOKS_REFUNDS,
	BOOKS_REFUNDS_PENDING,
	BOOKS_DISPUTES_OPEN,
	BOOKS_DISPUTES_LOST,
	BOOKS_PAYOUTS,
	BOOKS_NACCOUNTS
};

struct books_fact {
	enum event_kind		 kind;
	const char		*object_id;	/* refund/dispute/payout id */
	int64_t			 amount;
	const char		*currency;
	enum event_status	 status;
	int			 cumulative;
	int64_t			 fee;
	int			 paid;		/* capture verdict counts as paid */
	int64_t			 occurred_at;	/* provider's event time */
};

enum books_result {
	BOOKS_OK = 0,
	BOOKS_NOT_CAPTURED,	/* nothing captured yet: park */
	BOOKS_OVER_CAPTURE,	/* refunds + open and lost disputes > captured */
	BOOKS_CURRENCY_MISMATCH,
	BOOKS_CAPTURE_CONFLICT,	/* two captures with different amounts */
	BOOKS_AMOUNT_CONFLICT,	/* one refund/dispute/payout, two amounts */
	BOOKS_REF_CONFLICT,	/* one reference used by a payout and a payment */
	BOOKS_STATUS_CONFLICT	/* one dispute both won and lost */
};

/* Signed target balance per account, debit positive; they sum to zero.
 * unheld: pending refunds beyond what the capture has left, which are
 * not held (0 for a payout). */
struct books_target {
	int64_t	 balance[BOOKS_NACCOUNTS];
	int64_t	 unheld;
};

/* Compute the target of one payment (or payout) reference from its facts
 * f[0..n), n <= BOOKS_FACTS_MAX, in arrival order (the first capture
 * fixes the captured amount and verdict). On anything but BOOKS_OK *out
 * is zeroed. */
enum books_result books_target(const struct books_fact *f, size_t n,
	    struct books_target *out);

/* Stable lower_snake_case reason for r, for exceptions and answers. */
const char	*books_result_code(enum books_result r);

#endif
