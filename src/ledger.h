/*
 * ledger: the SQLite database that holds receipts and the hash-chained
 * ledger (schema/, docs/ledger-format.md).
 *
 * A read-write handle belongs to exactly one thread, the writer, which is
 * the only code that appends. A read-only handle is what the verifier and
 * every report open; it cannot write by construction.
 */
#ifndef HL_LEDGER_H
#define HL_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "digest.h"
#include "event.h"

#define LEDGER_SCHEMA_VERSION	6
#define LEDGER_RESPONSE_MAX	512	/* bytes in a stored JSON response */

enum ledger_mode {
	LEDGER_READ_ONLY,
	LEDGER_READ_WRITE,		/* creates and migrates the file */
	LEDGER_READ_WRITE_EXISTING	/* the CLI's writes: never creates,
					   never migrates */
};

/* One verified event, handed to ledger_apply(). Strings are borrowed. */
struct ledger_event {
	const char		*tenant;
	const char		*endpoint;
	const char		*event_id;
	struct event_move	 move;
	unsigned char		 body_sha256[DIGEST_SHA256_LEN];
	int			 require_expectations;	/* the tenant's rule */
};

/* A payment the merchant expects: registered before the customer pays,
 * checked against the capture the provider reports. */
struct ledger_expectation {
	const char	*tenant;
	const char	*payment_ref;
	int64_t		 amount;	/* minor units, validated by the caller */
	char		 currency[4];	/* upper-case ISO 4217 */
};

/* An API request's idempotency record (IETF Idempotency-Key draft). */
struct ledger_api_key {
	const char	*tenant;
	const char	*key;		/* the Idempotency-Key value */
	unsigned char	 request_sha256[DIGEST_SHA256_LEN]; /* method, path,
					   body: what "same payload" means */
};

enum ledger_result {
	LEDGER_APPLIED,		/* receipt and ledger entry appended */
	LEDGER_RECORDED,	/* receipt appended, nothing to post */
	LEDGER_REPLAYED,	/* seen before with the same body */
	LEDGER_CONFLICT,	/* seen before with a different body */
	LEDGER_FAILED		/* storage error: nothing was recorded */
};

struct ledger_outcome {
	enum ledger_result	 result;
	int			 status;	/* HTTP status to answer */
	char			 response[LEDGER_RESPONSE_MAX]; /* JSON */
	int64_t			 seq;		/* entry, when APPLIED */
};

struct ledger;

/* Open path. LEDGER_READ_WRITE (the daemon) creates the file if needed,
 * sets WAL mode, synchronous=FULL and defensive mode, and applies pending
 * migrations; LEDGER_READ_WRITE_EXISTING (the command's writes) does the
 * same to a file that must already be a ledger of exactly this build's
 * schema version: it never creates a file and never migrates one. Both
 * refuse a file or directory this process cannot write (a read-only
 * mount, say) instead of opening it read-only. LEDGER_READ_ONLY opens
 * with SQLITE_OPEN_READONLY and checks that the schema version is one
 * this build knows; on a file system mounted read-only, with no
 * write-ahead log beside the file, it opens the file as immutable
 * (SQLite could not create its -shm index there). A missing file is
 * "PATH: no such ledger ..." in every mode but LEDGER_READ_WRITE.
 * Returns NULL with one line in err on failure. The handle is not
 * thread-safe: one thread uses it. */
struct ledger	*ledger_open(const char *path, enum ledger_mode mode,
		    char *err, size_t errlen);

/* Take the daemon's exclusive hold on the ledger at path (created empty
 * if missing), before ledger_open(): a second hookledgerd on the same
 * file is refused at start-up instead of failing its writes. Returns the
 * descriptor that holds it (close it to let go; the kernel does at exit,
 * kill -9 included), or -1 with one line in err. The command's writes
 * do not take it: they may run beside the daemon. */
int		 ledger_lock(const char *path, char *err, size_t errlen);

/* What ledger_open(LEDGER_READ_WRITE) checks of path before opening it,
 * for --check-config: a regular file or none yet, writable, in a
 * writable directory. 0, or -1 with one line in err. */
int		 ledger_check_path(const char *path, char *err, size_t errlen);

/* Close; accepts NULL. */
void		 ledger_close(struct ledger *lg);

/* The SQLite handle, for read-only queries by the verifier and reports. */
sqlite3		*ledger_db(struct ledger *lg);

/* Start a write transaction (BEGIN IMMEDIATE). 0 or -1. */
int		 ledger_begin(struct ledger *lg);

/* Commit. 0, or -1 after rolling back: then every outcome of this
 * transaction is void, and the in-memory head and Merkle frontier are
 * reloaded from the file (or, if that fails too, reloaded by the next
 * ledger_begin()). Also -1 when SQLite already rolled the transaction
 * back by itself after SQLITE_FULL or SQLITE_IOERR. */
int		 ledger_commit(struct ledger *lg);

/* Write and commit a transaction that changes nothing (the header's
 * user_version rewritten with its value), to learn whether storage takes
 * writes again. 0, or -1 with the reason in ledger_errmsg(). Only the
 * writer thread calls this, with no transaction open. */
int		 ledger_probe(struct ledger *lg);

/* Why the last ledger_begin(), ledger_commit() or ledger_probe() that
 * returned -1, or ledger_apply() that returned LEDGER_FAILED, failed, as
 * SQLite said it before the rollback. Valid until the next call on lg;
 * owned by lg. Writer thread only. */
const char	*ledger_errmsg(const struct ledger *lg);

/* 1 while a transaction is open on lg, 0 once it has ended, including
 * when SQLite ended it by itself after a storage error. */
int		 ledger_in_txn(struct ledger *lg);

/* Apply one event inside the open transaction, in a savepoint of its own,
 * so that its failure leaves its neighbours in the batch untouched. With
 * no transaction open (never begun, or lost to a storage error earlier in
 * the batch) it does nothing and answers 503, so that no event is ever
 * committed on its own outside the batch.
 * recorded_at is the server time to stamp. Always fills *out; returns its
 * result. Only the writer thread calls this. */
enum ledger_result ledger_apply(struct ledger *lg, const struct ledger_event *ev,
		    int64_t recorded_at, struct ledger_outcome *out);

/* Register an expectation inside the open transaction (writer thread) or,
 * from the CLI, in a transaction of its own (lg opened read-write by the
 * CLI; then pass key NULL). Answers: 201 {"payment":P,"amount":N,
 * "currency":C,"status":"expected"} when new; 200 with the same body when
 * the identical expectation exists; 409 expectation_conflict when one with
 * other values exists; 409 payment_already_captured when there is none and
 * the payment's capture is already posted. With key: a key seen before with the same request
 * replays its first answer (LEDGER_REPLAYED), with another request gives
 * 422 idempotency_conflict. Always fills *out; returns its result. */
enum ledger_result ledger_expect(struct ledger *lg, const struct ledger_api_key *key,
		    const struct ledger_expectation *x, int64_t now,
		    struct ledger_outcome *out);

/* Fill out with the answer for a storage failure (503). */
void		 ledger_outcome_failed(struct ledger_outcome *out);

/* Copy the CREATE TRIGGER statement for trigger name, exactly as the
 * schema files define it and SQLite stores it, into buf. 0, or -1 when
 * there is no such trigger or it does not fit. Thread-safe. */
int		 ledger_trigger_sql(const char *name, char *buf, size_t cap);

/* MTH of leaves [start, start + count) from the stored subtrees, for
 * proofs; count > 0 and the range within the tree. Any mode. 0 or -1. */
int		 ledger_merkle_subtree(struct ledger *lg, uint64_t start,
		    uint64_t count, unsigned char out[32]);

/* The Merkle tree head of a read-write handle, from memory: returns the
 * tree size (= head seq) and writes its root, or -1. Writer thread only. */
int64_t		 ledger_tree_root(const struct ledger *lg, unsigned char root[32]);

/* The head: number of the last entry (0 when empty) and its hash (zeros
 * when empty). Read-write handles only. */
int64_t		 ledger_head(const struct ledger *lg,
		    unsigned char hash[DIGEST_SHA256_LEN]);

#endif
