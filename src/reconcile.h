/*
 * reconcile: the nightly report. For each tenant and currency, one
 * calendar day in the tenant's time zone: sales, refunds and disputes,
 * their rates against a trailing same-weekday baseline, the card
 * networks' monthly dispute programmes, patterns worth a look, and
 * optionally the provider's settlement file. docs/reconcile.md describes
 * the report. Read-only.
 */
#ifndef HL_RECONCILE_H
#define HL_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"
#include "verify.h"

struct reconcile_opts {
	const char		*date;		/* YYYY-MM-DD; NULL: yesterday
						   in each tenant's zone */
	const char		*tenant;	/* NULL: every tenant */
	const char		*settlement;	/* CSV path, needs tenant */
	const struct config	*cfg;		/* NULL: defaults */
	int64_t			 now;		/* Unix seconds, for yesterday */
};

/* Build the report over db (read-only) for a ledger that verify_ledger()
 * found intact (its summary in vr). Returns a new JSON object, or NULL
 * with one line in err, also when o->tenant is neither in o->cfg (a
 * [tenant] section or an endpoint's tenant) nor in the ledger. Sets TZ
 * while it runs: not thread-safe. */
json_t	*reconcile_run(sqlite3 *db, const struct reconcile_opts *o,
	    const struct verify_report *vr, char *err, size_t errlen);

/* The half-open Unix-seconds window of calendar day date (YYYY-MM-DD) in
 * IANA zone: 23, 24 or 25 hours long. 0, or -1 for a malformed date.
 * Not thread-safe (TZ). */
int	 reconcile_day_window(const char *zone, const char *date,
	    int64_t *from, int64_t *to);

/* Yesterday's date in zone, as seen at now. Not thread-safe (TZ). */
int	 reconcile_yesterday(const char *zone, int64_t now, char out[11]);

#endif
