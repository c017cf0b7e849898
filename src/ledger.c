/*
 * ledger.c: open, migrate and append to the ledger database.
 *
 * Appending happens only through ledger_apply(), called by the writer
 * thread inside a transaction it owns. Each event gets a savepoint, so a
 * failing event rolls back alone and its neighbours in the batch commit.
 * The head (last seq and hash) is kept in memory, restored when a
 * savepoint rolls back and reloaded from the file when a commit fails.
 */
#include "ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "entry.h"
#include "schema_sql.h"

enum stmt_id {
	ST_RECEIPT_GET,
	ST_RECEIPT_PUT,
	ST_ENTRY_PUT,
	ST_CAPTURED,
	ST_REFUNDED,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_RECEIPT_GET] = "SELECT body_sha256, status, response FROM receipts"
	    " WHERE endpoint = ?1 AND event_id = ?2",
	[ST_RECEIPT_PUT] = "INSERT INTO receipts (endpoint, event_id, tenant,"
	    " event_type, body_sha256, received_at, outcome, entry_seq, status,"
	    " response) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_ENTRY_PUT] = "INSERT INTO ledger (seq, tenant, endpoint, event_id,"
	    " kind, payment_ref, amount, currency, occurred_at, recorded_at,"
	    " body_sha256, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	    " ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_CAPTURED] = "SELECT 1 FROM ledger WHERE tenant = ?1 AND"
	    " payment_ref = ?2 AND kind = 'capture' LIMIT 1",
	[ST_REFUNDED] = "SELECT coalesce(sum(amount), 0) FROM ledger WHERE"
	    " tenant = ?1 AND payment_ref = ?2 AND kind = 'refund'",
	[ST_SAVEPOINT] = "SAVEPOINT event",
	[ST_RELEASE] = "RELEASE event",
	[ST_ROLLBACK_TO] = "ROLLBACK TO event",
};

struct ledger {
	sqlite3		*db;
	enum ledger_mode mode;
	sqlite3_stmt	*stmt[ST_COUNT];
	int64_t		 head_seq;
	unsigned char	 head_hash[DIGEST_SHA256_LEN];
};

static void
errf(char *err, size_t errlen, const char *path, const char *what,
    sqlite3 *db)
{
	snprintf(err, errlen, "%s: %s: %s", path, what,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

static int
exec1(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Apply each schema file above the file's version, each in its own
 * transaction together with its user_version bump. */
static int
migrate(struct ledger *lg, const char *path, char *err, size_t errlen)
{
	const int	 latest = (int)(sizeof(schema_sql) / sizeof(schema_sql[0]));
	char		 bump[64];
	int		 v;

	if (user_version(lg->db, &v) == -1) {
		errf(err, errlen, path, "cannot read user_version", lg->db);
		return -1;
	}
	if (v > latest) {
		snprintf(err, errlen, "%s: schema version %d is newer than this "
		    "build knows (%d)", path, v, latest);
		return -1;
	}
	for (; v < latest; v++) {
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		if (exec1(lg->db, "BEGIN IMMEDIATE") == -1 ||
		    exec1(lg->db, schema_sql[v]) == -1 ||
		    exec1(lg->db, bump) == -1 ||
		    exec1(lg->db, "COMMIT") == -1) {
			errf(err, errlen, path, "migration failed", lg->db);
			exec1(lg->db, "ROLLBACK");
			return -1;
		}
	}
	return 0;
}

static int
load_head(struct ledger *lg)
{
	sqlite3_stmt	*st;
	int		 rc;

	lg->head_seq = 0;
	memset(lg->head_hash, 0, sizeof(lg->head_hash));
	if (sqlite3_prepare_v2(lg->db, "SELECT seq, hash FROM ledger ORDER BY"
	    " seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != DIGEST_SHA256_LEN) {
			sqlite3_finalize(st);
			return -1;
		}
		lg->head_seq = sqlite3_column_int64(st, 0);
		memcpy(lg->head_hash, sqlite3_column_blob(st, 1),
		    DIGEST_SHA256_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

struct ledger *
ledger_open(const char *path, enum ledger_mode mode, char *err, size_t errlen)
{
	struct ledger	*lg;
	int		 flags, i, v;

	if ((lg = calloc(1, sizeof(*lg))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	lg->mode = mode;
	flags = SQLITE_OPEN_NOMUTEX | (mode == LEDGER_READ_WRITE ?
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	if (sqlite3_open_v2(path, &lg->db, flags, NULL) != SQLITE_OK) {
		errf(err, errlen, path, "cannot open", lg->db);
		goto fail;
	}
	sqlite3_extended_result_codes(lg->db, 1);
	sqlite3_busy_timeout(lg->db, 5000);
	if (sqlite3_db_config(lg->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(lg->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) !=
	    SQLITE_OK) {
		errf(err, errlen, path, "cannot enable defensive mode", lg->db);
		goto fail;
	}
	if (mode == LEDGER_READ_ONLY) {
		if (user_version(lg->db, &v) == -1) {
			errf(err, errlen, path, "not a readable SQLite database",
			    lg->db);
			goto fail;
		}
		if (v < 1 || v > LEDGER_SCHEMA_VERSION) {
			snprintf(err, errlen, "%s: schema version %d is not a "
			    "hookledger ledger this build knows", path, v);
			goto fail;
		}
		return lg;
	}
	/* WAL lets readers (verify, reports) run beside the writer; FULL
	 * makes every commit durable before a 2xx is sent. */
	if (exec1(lg->db, "PRAGMA journal_mode = WAL") == -1 ||
	    exec1(lg->db, "PRAGMA synchronous = FULL") == -1 ||
	    exec1(lg->db, "PRAGMA recursive_triggers = ON") == -1 ||
	    exec1(lg->db, "PRAGMA foreign_keys = ON") == -1) {
		errf(err, errlen, path, "cannot set pragmas", lg->db);
		goto fail;
	}
	if (migrate(lg, path, err, errlen) == -1)
		goto fail;
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(lg->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &lg->stmt[i], NULL) != SQLITE_OK) {
			errf(err, errlen, path, "cannot prepare", lg->db);
			goto fail;
		}
	}
	if (load_head(lg) == -1) {
		errf(err, errlen, path, "cannot read the ledger head", lg->db);
		goto fail;
	}
	return lg;
fail:
	ledger_close(lg);
	return NULL;
}

void
ledger_close(struct ledger *lg)
{
	int i;

	if (lg == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(lg->stmt[i]);
	sqlite3_close(lg->db);
	free(lg);
}

sqlite3 *
ledger_db(struct ledger *lg)
{
	return lg->db;
}

int64_t
ledger_head(const struct ledger *lg, unsigned char hash[DIGEST_SHA256_LEN])
{
	memcpy(hash, lg->head_hash, DIGEST_SHA256_LEN);
	return lg->head_seq;
}

int
ledger_begin(struct ledger *lg)
{
	if (lg->head_seq < 0 && load_head(lg) == -1) {
		lg->head_seq = -1;
		return -1;
	}
	return exec1(lg->db, "BEGIN IMMEDIATE");
}

int
ledger_commit(struct ledger *lg)
{
	if (exec1(lg->db, "COMMIT") == 0)
		return 0;
	exec1(lg->db, "ROLLBACK");
	if (load_head(lg) == -1)
		lg->head_seq = -1;	/* poisoned: the next apply fails */
	return -1;
}

/* Run a statement that returns no rows; the statement is reset. */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
respond(struct ledger_outcome *out, enum ledger_result r, int status,
    json_t *body)
{
	char *s;

	out->result = r;
	out->status = status;
	s = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII)
	    : NULL;
	if (s == NULL || strlen(s) >= sizeof(out->response)) {
		/* Cannot happen with bounded ids; fail closed if it does. */
		free(s);
		json_decref(body);
		ledger_outcome_failed(out);
		return;
	}
	memcpy(out->response, s, strlen(s) + 1);
	free(s);
	json_decref(body);
}

void
ledger_outcome_failed(struct ledger_outcome *out)
{
	out->result = LEDGER_FAILED;
	out->status = 503;
	out->seq = 0;
	snprintf(out->response, sizeof(out->response), "{\"error\":"
	    "\"storage_unavailable\",\"message\":\"the ledger could not "
	    "record this event; nothing was recorded, retry later\"}");
}

enum lookup { LOOKUP_NONE, LOOKUP_SAME, LOOKUP_DIFFERENT, LOOKUP_ERROR };

static enum lookup
receipt_lookup(struct ledger *lg, const struct ledger_event *ev,
    struct ledger_outcome *out)
{
	sqlite3_stmt	*st = lg->stmt[ST_RECEIPT_GET];
	enum lookup	 r = LOOKUP_ERROR;
	const void	*h;
	const unsigned char *resp;
	int		 rc, n;

	sqlite3_bind_text(st, 1, ev->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = LOOKUP_NONE;
	else if (rc == SQLITE_ROW) {
		h = sqlite3_column_blob(st, 0);
		resp = sqlite3_column_text(st, 2);
		n = sqlite3_column_bytes(st, 2);
		if (h == NULL || sqlite3_column_bytes(st, 0) != DIGEST_SHA256_LEN
		    || resp == NULL || n <= 0 ||
		    (size_t)n >= sizeof(out->response))
			goto done;
		if (memcmp(h, ev->body_sha256, DIGEST_SHA256_LEN) != 0) {
			r = LOOKUP_DIFFERENT;
			goto done;
		}
		out->status = sqlite3_column_int(st, 1);
		memcpy(out->response, resp, (size_t)n);
		out->response[n] = '\0';
		r = LOOKUP_SAME;
	}
done:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

/* Decide what the movement posts: *amount > 0 to post that much, 0 to
 * post nothing with *note saying why. -1 on a storage error. */
static int
posting_amount(struct ledger *lg, const struct ledger_event *ev,
    int64_t *amount, const char **note)
{
	const struct event_move	*m = &ev->move;
	sqlite3_stmt		*st;
	int64_t			 already;
	int			 rc;

	*note = NULL;
	*amount = m->amount;
	if (m->kind == EVENT_CAPTURE) {
		/* One payment is reported by several Stripe events. */
		st = lg->stmt[ST_CAPTURED];
		sqlite3_bind_text(st, 1, ev->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->payment_ref, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc == SQLITE_ROW) {
			*amount = 0;
			*note = "capture_already_posted";
		} else if (rc != SQLITE_DONE)
			return -1;
	} else if (m->kind == EVENT_REFUND && m->cumulative) {
		/* Stripe's amount_refunded is a running total: post only
		 * what it adds to the refunds already posted. */
		st = lg->stmt[ST_REFUNDED];
		sqlite3_bind_text(st, 1, ev->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->payment_ref, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		already = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_ROW)
			return -1;
		if (m->amount <= already) {
			*amount = 0;
			*note = "refund_already_posted";
		} else
			*amount = m->amount - already;
	}
	return 0;
}

static int
append_entry(struct ledger *lg, const struct ledger_event *ev, int64_t amount,
    int64_t recorded_at, int64_t *seq_out)
{
	sqlite3_stmt	*st = lg->stmt[ST_ENTRY_PUT];
	struct entry	 e;
	unsigned char	 hash[DIGEST_SHA256_LEN];

	if (lg->head_seq < 0 || lg->head_seq == INT64_MAX)
		return -1;
	memset(&e, 0, sizeof(e));
	e.seq = lg->head_seq + 1;
	e.tenant = ev->tenant;
	e.endpoint = ev->endpoint;
	e.event_id = ev->event_id;
	e.kind = event_kind_name(ev->move.kind);
	e.payment_ref = ev->move.payment_ref;
	e.amount = amount;
	e.currency = ev->move.currency;
	e.occurred_at = ev->move.occurred_at;
	e.recorded_at = recorded_at;
	memcpy(e.body_sha256, ev->body_sha256, DIGEST_SHA256_LEN);
	memcpy(e.prev_hash, lg->head_hash, DIGEST_SHA256_LEN);
	if (entry_hash(&e, hash) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, e.seq);
	sqlite3_bind_text(st, 2, e.tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e.endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e.event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e.payment_ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, e.amount);
	sqlite3_bind_text(st, 8, e.currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e.occurred_at);
	sqlite3_bind_int64(st, 10, e.recorded_at);
	sqlite3_bind_blob(st, 11, e.body_sha256, DIGEST_SHA256_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, e.prev_hash, DIGEST_SHA256_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 13, hash, DIGEST_SHA256_LEN, SQLITE_STATIC);
	if (run(st) == -1)
		return -1;
	lg->head_seq = e.seq;
	memcpy(lg->head_hash, hash, DIGEST_SHA256_LEN);
	*seq_out = e.seq;
	return 0;
}

static int
append_receipt(struct ledger *lg, const struct ledger_event *ev,
    int64_t received_at, const char *outcome, int64_t seq,
    const struct ledger_outcome *out)
{
	sqlite3_stmt *st = lg->stmt[ST_RECEIPT_PUT];

	sqlite3_bind_text(st, 1, ev->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->move.type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, ev->body_sha256, DIGEST_SHA256_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, received_at);
	sqlite3_bind_text(st, 7, outcome, -1, SQLITE_STATIC);
	if (seq > 0)
		sqlite3_bind_int64(st, 8, seq);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int(st, 9, out->status);
	sqlite3_bind_text(st, 10, out->response, -1, SQLITE_STATIC);
	return run(st);
}

enum ledger_result
ledger_apply(struct ledger *lg, const struct ledger_event *ev,
    int64_t recorded_at, struct ledger_outcome *out)
{
	unsigned char	 saved_hash[DIGEST_SHA256_LEN];
	int64_t		 saved_seq = lg->head_seq, amount, seq = 0;
	const char	*note;

	memset(out, 0, sizeof(*out));
	memcpy(saved_hash, lg->head_hash, sizeof(saved_hash));
	if (lg->mode != LEDGER_READ_WRITE || run(lg->stmt[ST_SAVEPOINT]) == -1)
		goto failed;

	switch (receipt_lookup(lg, ev, out)) {
	case LOOKUP_SAME:
		out->result = LEDGER_REPLAYED;
		run(lg->stmt[ST_RELEASE]);
		return out->result;
	case LOOKUP_DIFFERENT:
		respond(out, LEDGER_CONFLICT, 422, json_pack("{s:s, s:s}",
		    "error", "idempotency_conflict", "message", "this event id "
		    "was already received with a different body"));
		run(lg->stmt[ST_RELEASE]);
		return out->result;
	case LOOKUP_ERROR:
		goto fail;
	case LOOKUP_NONE:
		break;
	}

	if (ev->move.kind == EVENT_NONE) {
		amount = 0;
		note = NULL;
	} else if (posting_amount(lg, ev, &amount, &note) == -1)
		goto fail;

	if (amount > 0) {
		if (append_entry(lg, ev, amount, recorded_at, &seq) == -1)
			goto fail;
		out->seq = seq;
		respond(out, LEDGER_APPLIED, 200, json_pack("{s:s, s:s, s:I}",
		    "result", "applied", "event_id", ev->event_id,
		    "seq", (json_int_t)seq));
	} else if (note != NULL)
		respond(out, LEDGER_RECORDED, 200, json_pack("{s:s, s:s, s:s}",
		    "result", "recorded", "event_id", ev->event_id,
		    "note", note));
	else
		respond(out, LEDGER_RECORDED, 200, json_pack("{s:s, s:s}",
		    "result", "recorded", "event_id", ev->event_id));
	if (out->result == LEDGER_FAILED)
		goto fail;
	if (append_receipt(lg, ev, recorded_at, seq > 0 ? "applied" :
	    note != NULL ? "duplicate" : "recorded", seq, out) == -1)
		goto fail;
	if (run(lg->stmt[ST_RELEASE]) == -1)
		goto fail;
	return out->result;
fail:
	run(lg->stmt[ST_ROLLBACK_TO]);
	run(lg->stmt[ST_RELEASE]);
	lg->head_seq = saved_seq;
	memcpy(lg->head_hash, saved_hash, sizeof(saved_hash));
failed:
	ledger_outcome_failed(out);
	return out->result;
}
