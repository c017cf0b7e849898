/*
 * pause: the kill switch. An operator pauses one tenant, or every
 * tenant, with `hookledger pause`; hookledgerd then answers its webhook
 * deliveries and its API writes 503 "paused" with Retry-After, before any
 * ledger work, so providers retry later and nothing is lost. `hookledger
 * resume` lifts it.
 *
 * The pauses live in the database's pauses table (schema/005_control.sql),
 * control state outside the hash chain. The daemon never queries it per
 * request: a watcher thread polls PRAGMA data_version on a read-only
 * connection every PAUSE_POLL_MS, reloads the table when another
 * connection has committed, and publishes an immutable snapshot that
 * request threads consult under a mutex.
 */
#ifndef HL_PAUSE_H
#define HL_PAUSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#define PAUSE_ALL		"*"	/* the tenant column's "every tenant" */
#define PAUSE_REASON_MAX	200	/* bytes of printable ASCII */
#define PAUSE_TENANTS_MAX	4096	/* rows the daemon reads */
#define PAUSE_POLL_MS		250
#define PAUSE_RETRY_AFTER	30	/* seconds, in the 503's Retry-After */

/* 1 when s is at most PAUSE_REASON_MAX bytes of printable ASCII. */
int		 pause_reason_valid(const char *s);

/* Pause tenant (NULL: every tenant) for reason (may be NULL), stamped
 * now; pausing again replaces the reason and keeps the first time. db is
 * read-write. 0, or -1 with a line in err. */
int		 pause_add(sqlite3 *db, const char *tenant, const char *reason,
		    int64_t now, char *err, size_t errlen);

/* Lift the pause of tenant (NULL: the every-tenant pause; the tenants'
 * own pauses stay). 1 when one was lifted, 0 when there was none, -1 with
 * a line in err. */
int		 pause_remove(sqlite3 *db, const char *tenant, char *err,
		    size_t errlen);

/* The pauses as a new JSON array of {"tenant","reason","paused_at"},
 * "*" first; NULL with a line in err. */
json_t		*pause_list(sqlite3 *db, char *err, size_t errlen);

struct pause_watch;

/* Open path read-only, load the pauses and start the watcher thread.
 * NULL with a line in err (start-up error). */
struct pause_watch *pause_watch_start(const char *path, char *err,
		    size_t errlen);

/* Stop the thread, close and free; accepts NULL. Call after the request
 * threads have stopped. */
void		 pause_watch_stop(struct pause_watch *pw);

/* 1 when tenant's deliveries are paused (its own pause or the every-
 * tenant one), per the latest snapshot; 0 otherwise or when pw is NULL.
 * Thread-safe, no database access. */
int		 pause_active(struct pause_watch *pw, const char *tenant);

#endif
