/*
 * settle: match a provider's settlement report against the ledger.
 *
 * The first format is Stripe's itemised balance-transaction report (CSV,
 * amounts in major units as decimal strings). Amounts are converted to
 * minor units exactly, by string, never through a float. The ledger is
 * only read.
 */
#ifndef HL_SETTLE_H
#define HL_SETTLE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#define SETTLE_MAX_LINE		8192	/* bytes in one CSV record */
#define SETTLE_MAX_FIELDS	128	/* fields in one record */
#define SETTLE_MAX_LINES	1000000	/* records in one file */

/* Read the report at path and match it against tenant's ledger in db
 * (any connection that can read). window_from and window_to (Unix
 * seconds, half-open) are the period the report is reconciled for: ledger
 * movements that occurred in it but are absent from the file are
 * "missing_from_settlement". Returns a new JSON object (see
 * docs/reconcile.md, "settlement"), or NULL with one line in err for a
 * file that cannot be read or parsed (the line number named), or when a
 * ledger query fails. */
json_t	*settle_match(sqlite3 *db, const char *path, const char *tenant,
	    int64_t window_from, int64_t window_to, char *err, size_t errlen);

/* Convert a decimal string in major units ("12.50", "-3", "1500") to
 * minor units with exponent decimals; more decimals than exponent (other
 * than trailing zeros), a sign other than a leading '-', or a value
 * beyond 2^53 - 1 fail. Returns 0 or -1. */
int	 settle_parse_amount(const char *s, int exponent, int64_t *out);

#endif
