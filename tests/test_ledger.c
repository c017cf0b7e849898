/*
 * test_ledger.c: appending, idempotency, the posting rules, group commit,
 * and verify against every kind of tampering a chain alone can catch.
 */
#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "digest.h"
#include "ledger.h"
#include "schema_sql.h"
#include "verify.h"
#include "writer.h"
#include "tmpdir.h"

static char	dir[256];
static char	db[300];
static char	err[512];

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "ledger");
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
	digest_fini();
}

static struct ledger_event
ev(const char *id, enum event_kind kind, const char *ref, int64_t amount,
    const char *body)
{
	struct ledger_event e;

	memset(&e, 0, sizeof(e));
	e.tenant = "acme";
	e.endpoint = "stripe";
	e.event_id = id;
	e.move.kind = kind;
	snprintf(e.move.type, sizeof(e.move.type), "test.%s",
	    event_kind_name(kind));
	snprintf(e.move.payment_ref, sizeof(e.move.payment_ref), "%s", ref);
	e.move.amount = amount;
	memcpy(e.move.currency, "USD", 4);
	e.move.occurred_at = 1764700000;
	digest_sha256(body, strlen(body), e.body_sha256);
	return e;
}

/* Apply one event in its own transaction. */
static enum ledger_result
apply1(struct ledger *lg, const struct ledger_event *e,
    struct ledger_outcome *out)
{
	enum ledger_result r;

	ck_assert_int_eq(ledger_begin(lg), 0);
	r = ledger_apply(lg, e, 1764700001, out);
	ck_assert_int_eq(ledger_commit(lg), 0);
	return r;
}

static int64_t
count(const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static enum verify_result
verify_file(struct verify_report *rep)
{
	struct ledger		*ro;
	enum verify_result	 r;

	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_msg(ro != NULL, "%s", err);
	r = verify_ledger(ro, rep);
	ledger_close(ro);
	return r;
}

/* A ledger of five entries: capture, three refunds (cumulative), payout. */
static void
build_five(void)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	e = ev("evt_1", EVENT_CAPTURE, "pi_1", 10000, "b1");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_2", EVENT_CAPTURE, "pi_2", 2500, "b2");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_3", EVENT_REFUND, "pi_1", 1000, "b3");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_4", EVENT_DISPUTE_OPENED, "pi_2", 2500, "b4");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_5", EVENT_PAYOUT, "po_1", 8000, "b5");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	ledger_close(lg);
}

START_TEST(append_and_replay)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;
	unsigned char		 h[32];

	lg = ledger_open(db, LEDGER_READ_WRITE, err, sizeof(err));
	ck_assert_msg(lg != NULL, "%s", err);
	ck_assert_int_eq(ledger_head(lg, h), 0);
	e = ev("evt_1", EVENT_CAPTURE, "pi_1", 1000, "body one");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	ck_assert_int_eq(out.status, 200);
	ck_assert_int_eq(out.seq, 1);
	ck_assert_str_eq(out.response,
	    "{\"result\":\"applied\",\"event_id\":\"evt_1\",\"seq\":1}");
	/* The same body again: the first answer, nothing new. */
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_REPLAYED);
	ck_assert_int_eq(out.status, 200);
	ck_assert_str_eq(out.response,
	    "{\"result\":\"applied\",\"event_id\":\"evt_1\",\"seq\":1}");
	/* The same id with another body: a conflict, nothing new. */
	e = ev("evt_1", EVENT_CAPTURE, "pi_1", 1000, "body two");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_CONFLICT);
	ck_assert_int_eq(out.status, 422);
	ck_assert_str_eq(out.response, "{\"error\":\"idempotency_conflict\","
	    "\"message\":\"this event id was already received with a "
	    "different body\"}");
	/* A receipt-only event. */
	e = ev("evt_c", EVENT_NONE, "", 0, "customer");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_RECORDED);
	ck_assert_str_eq(out.response,
	    "{\"result\":\"recorded\",\"event_id\":\"evt_c\"}");
	ck_assert_int_eq(ledger_head(lg, h), 1);
	ledger_close(lg);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts WHERE"
	    " entry_seq IS NULL AND outcome = 'recorded'"), 1);
}
END_TEST

START_TEST(capture_posts_once_per_payment)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	e = ev("evt_pi", EVENT_CAPTURE, "pi_1", 2000, "pi");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_ch", EVENT_CAPTURE, "pi_1", 2000, "ch");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_RECORDED);
	ck_assert_str_eq(out.response, "{\"result\":\"recorded\",\"event_id\":"
	    "\"evt_ch\",\"note\":\"capture_already_posted\"}");
	ledger_close(lg);
	ck_assert_int_eq(count("SELECT sum(amount) FROM ledger WHERE kind ="
	    " 'capture'"), 2000);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts WHERE outcome ="
	    " 'duplicate'"), 1);
}
END_TEST

START_TEST(cumulative_refunds_post_increments)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	e = ev("evt_1", EVENT_CAPTURE, "pi_1", 1000, "c");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_2", EVENT_REFUND, "pi_1", 300, "r300");
	e.move.cumulative = 1;
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	e = ev("evt_3", EVENT_REFUND, "pi_1", 500, "r500");
	e.move.cumulative = 1;
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	/* A late copy of the first running total adds nothing. */
	e = ev("evt_4", EVENT_REFUND, "pi_1", 300, "r300 late");
	e.move.cumulative = 1;
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_RECORDED);
	ck_assert_str_eq(out.response, "{\"result\":\"recorded\",\"event_id\":"
	    "\"evt_4\",\"note\":\"refund_already_posted\"}");
	ledger_close(lg);
	ck_assert_int_eq(count("SELECT amount FROM ledger WHERE seq = 2"), 300);
	ck_assert_int_eq(count("SELECT amount FROM ledger WHERE seq = 3"), 200);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), 3);
}
END_TEST

START_TEST(failed_event_leaves_neighbours)
{
	struct ledger		*lg;
	struct ledger_outcome	 o1, o2, o3;
	struct ledger_event	 a, b, c;
	char			 longref[300];

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	a = ev("evt_a", EVENT_CAPTURE, "pi_a", 100, "a");
	b = ev("evt_b", EVENT_CAPTURE, "pi_b", 100, "b");
	c = ev("evt_c", EVENT_CAPTURE, "pi_c", 100, "c");
	/* A field too long to encode makes b fail inside the batch. */
	memset(longref, 'x', sizeof(longref) - 1);
	longref[sizeof(longref) - 1] = '\0';
	b.tenant = longref;
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &a, 1, &o1), LEDGER_APPLIED);
	ck_assert_int_eq(ledger_apply(lg, &b, 1, &o2), LEDGER_FAILED);
	ck_assert_int_eq(ledger_apply(lg, &c, 1, &o3), LEDGER_APPLIED);
	ck_assert_int_eq(ledger_commit(lg), 0);
	ck_assert_int_eq(o2.status, 503);
	ck_assert_int_eq(o1.seq, 1);
	ck_assert_int_eq(o3.seq, 2);
	ledger_close(lg);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts WHERE"
	    " event_id = 'evt_b'"), 0);
}
END_TEST

START_TEST(triggers_block_update_and_delete)
{
	sqlite3 *h;

	build_five();
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "UPDATE ledger SET amount = 1 WHERE"
	    " seq = 2", NULL, NULL, NULL), SQLITE_CONSTRAINT);
	ck_assert_str_eq(sqlite3_errmsg(h), "the ledger is append-only");
	ck_assert_int_eq(sqlite3_exec(h, "DELETE FROM ledger WHERE seq = 5",
	    NULL, NULL, NULL), SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_exec(h, "DELETE FROM receipts", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_exec(h, "INSERT OR REPLACE INTO ledger"
	    " SELECT * FROM ledger WHERE seq = 1", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT);
	ck_assert_int_eq(sqlite3_exec(h, "INSERT OR REPLACE INTO receipts"
	    " SELECT * FROM receipts LIMIT 1", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT);
	/* Appending out of order, or past a gap, is refused too. */
	ck_assert_int_eq(sqlite3_exec(h, "INSERT INTO ledger SELECT 7, tenant,"
	    " endpoint, 'evt_x', kind, payment_ref, amount, currency,"
	    " occurred_at, recorded_at, body_sha256, prev_hash, hash, format"
	    " FROM ledger WHERE seq = 1", NULL, NULL, NULL), SQLITE_CONSTRAINT);
	sqlite3_close(h);
	ck_assert_int_eq(count("SELECT sum(amount) FROM ledger"), 24000);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), 5);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), 5);
}
END_TEST

START_TEST(verify_intact)
{
	struct verify_report	 rep;
	struct ledger		*lg;
	unsigned char		 h[32];

	build_five();
	ck_assert_int_eq(verify_file(&rep), VERIFY_OK);
	ck_assert_int_eq(rep.entries, 5);
	ck_assert_int_eq(rep.head_seq, 5);
	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ck_assert_int_eq(ledger_head(lg, h), 5);
	ck_assert_int_eq(memcmp(h, rep.head_hash, 32), 0);
	ledger_close(lg);
}
END_TEST

START_TEST(verify_empty)
{
	struct verify_report	 rep;
	struct ledger		*lg;
	static const unsigned char zero[32];

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ledger_close(lg);
	ck_assert_int_eq(verify_file(&rep), VERIFY_OK);
	ck_assert_int_eq(rep.entries, 0);
	ck_assert_int_eq(rep.head_seq, 0);
	ck_assert_int_eq(memcmp(rep.head_hash, zero, 32), 0);
}
END_TEST

/* Drop the triggers on the file, run sql, and expect verify to name
 * entry seq with a problem starting with want. */
static void
tamper(const char *sql, int64_t seq, const char *want)
{
	struct verify_report	 rep;
	sqlite3			*h;
	char			 prefix[64];

	build_five();
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "DROP TRIGGER ledger_no_update;"
	    " DROP TRIGGER ledger_no_delete; DROP TRIGGER receipts_no_update;"
	    " DROP TRIGGER receipts_no_delete; DROP TRIGGER ledger_append_only;"
	    " DROP TRIGGER receipts_no_replace", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
	ck_assert_int_eq(verify_file(&rep), VERIFY_TAMPERED);
	ck_assert_int_eq(rep.bad_seq, seq);
	snprintf(prefix, sizeof(prefix), "entry %" PRId64 ": ", seq);
	ck_assert_msg(strncmp(rep.problem, prefix, strlen(prefix)) == 0 &&
	    strstr(rep.problem, want) != NULL, "got: %s", rep.problem);
}

START_TEST(tamper_edit_amount)
{
	tamper("UPDATE ledger SET amount = 100000 WHERE seq = 3", 3,
	    "hash mismatch");
}
END_TEST

START_TEST(tamper_edit_currency)
{
	tamper("UPDATE ledger SET currency = 'EUR' WHERE seq = 2", 2,
	    "hash mismatch");
}
END_TEST

START_TEST(tamper_delete_middle)
{
	tamper("DELETE FROM ledger WHERE seq = 3", 3,
	    "missing: the ledger goes from entry 2 to entry 4");
}
END_TEST

START_TEST(tamper_delete_and_renumber)
{
	/* Close the gap too: the chain still breaks at the moved entry. */
	tamper("DELETE FROM ledger WHERE seq = 3;"
	    " UPDATE ledger SET seq = seq - 1 WHERE seq > 3", 3,
	    "prev_hash does not match the hash of entry 2");
}
END_TEST

START_TEST(tamper_swap_rows)
{
	tamper("CREATE TEMP TABLE t AS SELECT * FROM ledger WHERE seq IN (2,3);"
	    " DELETE FROM ledger WHERE seq IN (2, 3);"
	    " INSERT INTO ledger SELECT CASE seq WHEN 2 THEN 3 ELSE 2 END,"
	    " tenant, endpoint, event_id, kind, payment_ref, amount, currency,"
	    " occurred_at, recorded_at, body_sha256, prev_hash, hash, format"
	    " FROM t",
	    2, "prev_hash does not match the hash of entry 1");
}
END_TEST

START_TEST(tamper_prev_hash)
{
	tamper("UPDATE ledger SET prev_hash = zeroblob(32) WHERE seq = 4", 4,
	    "prev_hash does not match the hash of entry 3");
}
END_TEST

START_TEST(tamper_receipt)
{
	tamper("UPDATE receipts SET entry_seq = 3 WHERE event_id = 'evt_2'",
	    2, "its receipt is missing or disagrees with it");
}
END_TEST

START_TEST(tamper_triggers_only)
{
	struct verify_report	 rep;
	sqlite3			*h;

	build_five();
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "DROP TRIGGER ledger_no_delete",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(verify_file(&rep), VERIFY_TAMPERED);
	ck_assert_str_eq(rep.problem, "the append-only trigger "
	    "ledger_no_delete is missing: the schema was altered");
}
END_TEST

START_TEST(tamper_types_in_loose_table)
{
	/* Rebuilt without STRICT, a column can hold any type; verify must
	 * look at the type the file holds, not a converted value. */
	tamper("CREATE TABLE l2 AS SELECT * FROM ledger; DROP TABLE ledger;"
	    " ALTER TABLE l2 RENAME TO ledger;"
	    " UPDATE ledger SET occurred_at = occurred_at || ' forged'"
	    " WHERE seq = 2", 2, "a field is missing or malformed");
}
END_TEST

START_TEST(tamper_blob_text)
{
	tamper("CREATE TABLE l2 AS SELECT * FROM ledger; DROP TABLE ledger;"
	    " ALTER TABLE l2 RENAME TO ledger;"
	    " UPDATE ledger SET currency = CAST(currency AS BLOB)"
	    " WHERE seq = 4", 4, "a field is missing or malformed");
}
END_TEST

START_TEST(dropped_table_is_tampering)
{
	struct verify_report	 rep;
	sqlite3			*h;

	build_five();
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "DROP TABLE ledger", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(verify_file(&rep), VERIFY_TAMPERED);
	ck_assert_str_eq(rep.problem, "the table ledger is missing: the "
	    "schema was altered");
}
END_TEST

START_TEST(cut_file_is_tampering)
{
	struct verify_report	 rep;
	char			 cmd[700], cut[320];

	build_five();
	snprintf(cut, sizeof(cut), "%s/cut.db", dir);
	snprintf(cmd, sizeof(cmd), "head -c 8192 '%s' > '%s'", db, cut);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_ptr_null(ledger_open(cut, LEDGER_READ_ONLY, err,
	    sizeof(err)));
	ck_assert_int_eq(verify_open_failure(cut, &rep), VERIFY_TAMPERED);
	ck_assert_int_eq(verify_open_failure("/nonexistent/x.db", &rep),
	    VERIFY_ERROR);
}
END_TEST

START_TEST(tamper_trigger_replaced)
{
	struct verify_report	 rep;
	sqlite3			*h;

	build_five();
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "DROP TRIGGER ledger_no_update;"
	    " CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger WHEN 0"
	    " BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_int_eq(verify_file(&rep), VERIFY_TAMPERED);
	ck_assert_str_eq(rep.problem, "the append-only trigger "
	    "ledger_no_update was replaced: the schema was altered");
}
END_TEST

START_TEST(not_a_ledger)
{
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(db, "w"));
	fputs("not a database at all, just some bytes that are long enough "
	    "to look like a header...........................................",
	    f);
	fclose(f);
	ck_assert_ptr_null(ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err)));
	ck_assert_ptr_null(ledger_open("/nonexistent/x.db", LEDGER_READ_ONLY,
	    err, sizeof(err)));
}
END_TEST

/* The command's write mode never creates a file and never migrates one. */
START_TEST(existing_mode_never_creates)
{
	struct ledger	*lg;
	sqlite3		*h;
	sqlite3_stmt	*st;
	char		 want[400];
	int		 v = -1;

	ck_assert_ptr_null(ledger_open(db, LEDGER_READ_WRITE_EXISTING, err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "%s: no such ledger (only hookledgerd "
	    "creates one)", db);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(access(db, F_OK), -1);

	/* A ledger of an older schema is left as it is. */
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE t (x); PRAGMA "
	    "user_version = 4", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_ptr_null(ledger_open(db, LEDGER_READ_WRITE_EXISTING, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "schema version 4 is older than "
	    "this build's 6; start hookledgerd on it once"));
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "DROP TABLE t; PRAGMA user_version = "
	    "0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_ptr_null(ledger_open(db, LEDGER_READ_WRITE_EXISTING, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a hookledger ledger"));

	/* Once the daemon's mode has made it, the command's opens it. */
	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ledger_close(lg);
	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE_EXISTING,
	    err, sizeof(err)));
	ck_assert_int_eq(sqlite3_prepare_v2(ledger_db(lg), "PRAGMA "
	    "user_version", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	ledger_close(lg);
	ck_assert_int_eq(v, LEDGER_SCHEMA_VERSION);
}
END_TEST

/* Group commit: many threads submit at once; each gets its own answer. */
struct submitter {
	struct writer		*w;
	int			 n;
	struct writer_job	 job;
	char			 id[32];
	char			 ref[32];
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
};

static void
sub_done(struct writer_job *job, void *arg)
{
	struct submitter *s = arg;

	pthread_mutex_lock(&s->mu);
	s->done = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *
sub_main(void *arg)
{
	struct submitter *s = arg;

	snprintf(s->id, sizeof(s->id), "evt_%d", s->n);
	snprintf(s->ref, sizeof(s->ref), "pi_%d", s->n);
	s->job.ev = ev(s->id, EVENT_CAPTURE, s->ref, 100 + s->n, s->id);
	s->job.done = sub_done;
	s->job.arg = s;
	writer_submit(s->w, &s->job);
	pthread_mutex_lock(&s->mu);
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

START_TEST(group_commit)
{
	enum { N = 64 };
	static struct submitter	 subs[N];
	pthread_t		 th[N];
	struct ledger		*lg;
	struct writer		*w;
	struct verify_report	 rep;
	unsigned long long	 batches, jobs;
	int			 i, seen[N + 1];

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(w = writer_start(lg, err, sizeof(err)));
	for (i = 0; i < N; i++) {
		memset(&subs[i], 0, sizeof(subs[i]));
		subs[i].w = w;
		subs[i].n = i;
		pthread_mutex_init(&subs[i].mu, NULL);
		pthread_cond_init(&subs[i].cv, NULL);
		ck_assert_int_eq(pthread_create(&th[i], NULL, sub_main,
		    &subs[i]), 0);
	}
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(subs[i].job.out.result, LEDGER_APPLIED);
		ck_assert_int_ge(subs[i].job.out.seq, 1);
		ck_assert_int_le(subs[i].job.out.seq, N);
		seen[subs[i].job.out.seq]++;
	}
	for (i = 1; i <= N; i++)
		ck_assert_int_eq(seen[i], 1);
	writer_stats(w, &batches, &jobs);
	ck_assert_uint_eq(jobs, N);
	ck_assert_uint_ge(batches, 1);
	ck_assert_uint_le(batches, N);
	writer_stop(w);
	ledger_close(lg);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), N);
	ck_assert_int_eq(count("SELECT sum(amount) FROM ledger"),
	    N * 100 + N * (N - 1) / 2);
	ck_assert_int_eq(verify_file(&rep), VERIFY_OK);
	ck_assert_int_eq(rep.entries, N);
}
END_TEST

START_TEST(reopen_continues_chain)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;
	struct verify_report	 rep;

	build_five();
	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	e = ev("evt_6", EVENT_CAPTURE, "pi_6", 1, "b6");
	ck_assert_int_eq(apply1(lg, &e, &out), LEDGER_APPLIED);
	ck_assert_int_eq(out.seq, 6);
	ledger_close(lg);
	ck_assert_int_eq(verify_file(&rep), VERIFY_OK);
	ck_assert_int_eq(rep.entries, 6);
}
END_TEST

/* A ledger of schema 5 keeps its facts, row for row, through the rebuild
 * of schema 6, which lets a running refund total of 0 in. */
START_TEST(schema_5_migrates_with_its_facts)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;
	struct verify_report	 rep;
	sqlite3			*h;
	int			 i;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(sqlite3_exec(h, schema_sql[i], NULL, NULL,
		    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h, "INSERT INTO facts (endpoint,"
	    " event_id, tenant, kind, payment_ref, object_id, amount, currency,"
	    " status, cumulative, fee, occurred_at, verdict, sca_result,"
	    " liability_shift, customer) VALUES ('stripe', 'evt_old', 'acme',"
	    " 'refund', 'pi_old', 'ch_old', 300, 'USD', 'succeeded', 1, 0,"
	    " 1764700000, '', '', -1, 'cus_1'); PRAGMA user_version = 5", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	e = ev("evt_0", EVENT_REFUND, "pi_z", 0, "b0");
	e.move.cumulative = 1;
	e.move.status = EVENT_STATUS_SUCCEEDED;
	snprintf(e.move.object_id, sizeof(e.move.object_id), "ch_z");
	apply1(lg, &e, &out);
	ck_assert_int_eq(out.status, 200);
	ledger_close(lg);
	ck_assert_int_eq(count("PRAGMA user_version"), 6);
	ck_assert_int_eq(count("SELECT count(*) FROM facts WHERE arrival = 1"
	    " AND event_id = 'evt_old' AND amount = 300 AND cumulative = 1"
	    " AND customer = 'cus_1'"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM facts WHERE arrival = 2"
	    " AND event_id = 'evt_0' AND amount = 0"), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'trigger' AND tbl_name = 'facts'"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'index' AND name IN ('facts_payment', 'facts_occurred',"
	    " 'receipts_parked')"), 3);
	ck_assert_int_eq(verify_file(&rep), VERIFY_OK);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("ledger");
	TCase	*tc = tcase_create("append");
	TCase	*tv = tcase_create("verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, append_and_replay);
	tcase_add_test(tc, schema_5_migrates_with_its_facts);
	tcase_add_test(tc, capture_posts_once_per_payment);
	tcase_add_test(tc, cumulative_refunds_post_increments);
	tcase_add_test(tc, failed_event_leaves_neighbours);
	tcase_add_test(tc, triggers_block_update_and_delete);
	tcase_add_test(tc, group_commit);
	tcase_add_test(tc, reopen_continues_chain);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tv, setup, teardown);
	tcase_add_test(tv, verify_intact);
	tcase_add_test(tv, verify_empty);
	tcase_add_test(tv, tamper_edit_amount);
	tcase_add_test(tv, tamper_edit_currency);
	tcase_add_test(tv, tamper_delete_middle);
	tcase_add_test(tv, tamper_delete_and_renumber);
	tcase_add_test(tv, tamper_swap_rows);
	tcase_add_test(tv, tamper_prev_hash);
	tcase_add_test(tv, tamper_receipt);
	tcase_add_test(tv, tamper_triggers_only);
	tcase_add_test(tv, tamper_types_in_loose_table);
	tcase_add_test(tv, tamper_blob_text);
	tcase_add_test(tv, dropped_table_is_tampering);
	tcase_add_test(tv, cut_file_is_tampering);
	tcase_add_test(tv, tamper_trigger_replaced);
	tcase_add_test(tv, not_a_ledger);
	tcase_add_test(tv, existing_mode_never_creates);
	suite_add_tcase(s, tv);
	return s;
}

#include "tap.h"
