/*
 * balances: the read side of the double-entry ledger. Balances are always
 * derived from postings; nothing here writes.
 */
#ifndef HL_BALANCES_H
#define HL_BALANCES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#define BALANCES_NOW	INT64_MAX	/* no --at: every entry */

/* What err says when a sum of amounts does not fit in 64 bits (SQLite's
 * "integer overflow"); callers may look for it with strstr(). */
#define BALANCES_OVERFLOW	"a sum of amounts exceeds the 64-bit range " \
	"of minor units"

/* The reason the last statement on db failed, in words for an operator:
 * BALANCES_OVERFLOW for SQLite's integer overflow, else sqlite3_errmsg().
 * Read it before any other statement on db is reset or finalized, since
 * that replaces the reason with "not an error". */
const char	*balances_errmsg(sqlite3 *db);

/* The tenant's balance of every account in every currency, from entries
 * whose event occurred at or before at (Unix seconds):
 *   {"tenant":T, "at":"RFC3339"|null, "balances":[{"account":A,
 *    "currency":C, "balance":N}, ...]}
 * sorted by currency then account; N is debit minus credit in minor units.
 * Returns a new reference, or NULL with a line in err. Read-only. */
json_t	*balances_query(sqlite3 *db, const char *tenant, int64_t at,
	    char *err, size_t errlen);

/* The exceptions, oldest first, for one tenant or (tenant NULL) all, and
 * the events still parked waiting for their payment's capture:
 *   {"exceptions":[{"tenant":T, "endpoint":E, "event_id":I,
 *    "payment_ref":P, "reason":R, "posted":bool, "recorded_at":"RFC3339"},
 *    ...], "parked":[{"tenant":T, "endpoint":E, "event_id":I,
 *    "payment_ref":P, "kind":K, "amount":N, "currency":C,
 *    "reason":"payment_not_captured", "received_at":"RFC3339"}, ...]}
 * at most limit exceptions (newest limit when more) and the oldest limit
 * parked events. NULL with err on failure. */
json_t	*exceptions_query(sqlite3 *db, const char *tenant, size_t limit,
	    char *err, size_t errlen);

#define EXCEPTIONS_GROUPS_MAX	256	/* currency and reason pairs */
#define EXCEPTIONS_REASON_MAX	40	/* bytes of a reason */

/* The tenant's exceptions recorded before `before` (Unix seconds), the
 * same ones exceptions_query() lists, added up:
 *   {"open":N, "by_reason":[{"currency":C, "reason":R, "count":N,
 *    "amount":A}, ...], "oldest":"RFC3339"|null, "payments":[P, ...]}
 * by_reason sorted by currency then reason, A the sum of the events'
 * amounts in minor units; oldest the earliest recorded_at; payments the
 * first npayments distinct payment references, oldest first; *oldest
 * the earliest recorded_at in Unix seconds (0 when none). Every
 * exception counts: none is ever closed. NULL with err on failure. */
json_t	*exceptions_summary(sqlite3 *db, const char *tenant, int64_t before,
	    size_t npayments, int64_t *oldest, char *err, size_t errlen);

/* The tenant's events parked as of `before` (received before it, their
 * payment's capture not yet received by then), counted:
 *   {"count":N, "oldest":"RFC3339"|null}
 * *oldest the earliest received_at in Unix seconds (0 when none). NULL
 * with err on failure. */
json_t	*parked_summary(sqlite3 *db, const char *tenant, int64_t before,
	    int64_t *oldest, char *err, size_t errlen);

/* A payment's state as the merchant's backend asks it ("may I ship?"):
 *   {"tenant":T, "payment":P, "expected":{"amount":N,"currency":C}|null,
 *    "captured":{"amount":N,"currency":C,"verdict":V,"sca_result":S|null,
 *    "liability_shift":bool|null}|null, "paid":bool, "refunded":N,
 *    "refund_pending":N, "disputed":N, "dispute_lost":N}
 * paid is true only for a capture verified against its expectation, or
 * unverified where the tenant does not require one (posted to sales, not
 * suspense), of which something is still the merchant's: captured -
 * refunded - refund_pending - disputed - dispute_lost > 0. Returns NULL with
 * *found = 0 when the tenant knows no such payment. */
json_t	*balances_payment(sqlite3 *db, const char *tenant,
	    const char *payment_ref, int *found, char *err, size_t errlen);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into out (21 bytes). */
void	 balances_rfc3339(int64_t t, char out[21]);

#endif
