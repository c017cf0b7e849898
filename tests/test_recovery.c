/*
 * test_recovery.c: the ledger and the writer after a storage error. A full
 * database is real here (PRAGMA max_page_count makes SQLite answer
 * SQLITE_FULL); a transaction SQLite rolled back by itself is reproduced
 * with a ROLLBACK behind the ledger's back. Afterwards the in-memory head
 * and Merkle frontier must equal what the file holds, nothing of a failed
 * event may be in the file, and the next append must chain on correctly.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "digest.h"
#include "ledger.h"
#include "verify.h"
#include "writer.h"
#include "tmpdir.h"

#define MAX_TRIES	2000	/* events before the full file must show */

static char	dir[256];
static char	db[300];
static char	err[512];
static char	ids[MAX_TRIES + 8][32];

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "recovery");
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
	digest_fini();
}

/* Capture n of 100 + n USD, id evt_<n>, payment pi_<n>. */
static struct ledger_event
capture(int n)
{
	struct ledger_event	e;
	char			body[32];

	memset(&e, 0, sizeof(e));
	snprintf(ids[n], sizeof(ids[n]), "evt_%d", n);
	e.tenant = "acme";
	e.endpoint = "stripe";
	e.event_id = ids[n];
	e.move.kind = EVENT_CAPTURE;
	snprintf(e.move.type, sizeof(e.move.type), "test.capture");
	snprintf(e.move.payment_ref, sizeof(e.move.payment_ref), "pi_%d", n);
	e.move.amount = 100 + n;
	memcpy(e.move.currency, "USD", 4);
	e.move.occurred_at = 1764700000;
	snprintf(body, sizeof(body), "body %d", n);
	digest_sha256(body, strlen(body), e.body_sha256);
	return e;
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

/* Verify the file, and check that lg's head and tree root are the file's. */
static void
check_matches_file(struct ledger *lg, int64_t entries)
{
	struct ledger		*ro;
	struct verify_report	 rep;
	unsigned char		 hash[DIGEST_SHA256_LEN], root[32];

	ck_assert_ptr_nonnull(ro = ledger_open(db, LEDGER_READ_ONLY, err,
	    sizeof(err)));
	ck_assert_int_eq(verify_ledger(ro, &rep), VERIFY_OK);
	ledger_close(ro);
	ck_assert_int_eq(rep.entries, entries);
	ck_assert_int_eq(ledger_head(lg, hash), rep.head_seq);
	ck_assert_mem_eq(hash, rep.head_hash, DIGEST_SHA256_LEN);
	ck_assert_int_eq(ledger_tree_root(lg, root), entries);
	if (entries > 0)
		ck_assert_mem_eq(root, rep.root, 32);
}

static void
limit_pages(struct ledger *lg, int on)
{
	char sql[64];

	/* max_page_count cannot go below the current size: asking for 1
	 * pins it there, so the next new page is SQLITE_FULL. */
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %s",
	    on ? "1" : "1073741823");
	ck_assert_int_eq(sqlite3_exec(ledger_db(lg), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/* The database fills up in the middle of a batch: the event that hit
 * SQLITE_FULL is answered 503 and leaves nothing; the head and the Merkle
 * frontier stay those of the file; after space returns, appending goes
 * on from there and the file verifies. */
START_TEST(full_database_mid_batch)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;
	int			 n, applied = 0, failed = -1, committed;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	e = capture(0);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &e, 1, &out), LEDGER_APPLIED);
	ck_assert_int_eq(ledger_commit(lg), 0);
	applied = 1;
	limit_pages(lg, 1);
	ck_assert_int_eq(ledger_begin(lg), 0);
	for (n = 1; n < MAX_TRIES && failed < 0; n++) {
		e = capture(n);
		if (ledger_apply(lg, &e, 1, &out) == LEDGER_FAILED) {
			ck_assert_int_eq(out.status, 503);
			failed = n;
		} else {
			ck_assert_int_eq(out.result, LEDGER_APPLIED);
			ck_assert_int_eq(out.seq, applied + 1);
			applied++;
		}
	}
	ck_assert_msg(failed > 0, "no SQLITE_FULL after %d events", n);
	/* Whether SQLite kept the rest of the transaction or rolled it all
	 * back, the file must agree with the ledger's memory of it. */
	committed = ledger_commit(lg) == 0 ? applied : 1;
	limit_pages(lg, 0);
	check_matches_file(lg, committed);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), committed);
	ck_assert_int_eq(count("SELECT count(*) FROM merkle_nodes WHERE"
	    " level = 0"), committed);

	/* Space is back: the event that failed goes in, chained on. */
	e = capture(failed);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &e, 1, &out), LEDGER_APPLIED);
	ck_assert_int_eq(out.seq, committed + 1);
	ck_assert_int_eq(ledger_commit(lg), 0);
	check_matches_file(lg, committed + 1);
	ledger_close(lg);
}
END_TEST

/* SQLite may roll a whole transaction back by itself after SQLITE_FULL or
 * SQLITE_IOERR. The events after that in the batch must not be committed
 * one by one (their savepoints would otherwise begin and commit
 * transactions of their own, chained to entries that are gone), the
 * commit must fail, and the head must come back from the file. */
START_TEST(transaction_lost_mid_batch)
{
	struct ledger		*lg;
	struct ledger_outcome	 o1, o2, o3;
	struct ledger_event	 a, b, c;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	a = capture(1);
	b = capture(2);
	c = capture(3);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &a, 1, &o1), LEDGER_APPLIED);
	ck_assert_int_eq(ledger_in_txn(lg), 1);
	ck_assert_int_eq(sqlite3_exec(ledger_db(lg), "ROLLBACK", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(ledger_in_txn(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &b, 1, &o2), LEDGER_FAILED);
	ck_assert_int_eq(o2.status, 503);
	ck_assert_int_eq(ledger_commit(lg), -1);
	ck_assert_int_eq(count("SELECT count(*) FROM ledger"), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), 0);
	check_matches_file(lg, 0);

	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &b, 1, &o2), LEDGER_APPLIED);
	ck_assert_int_eq(o2.seq, 1);
	ck_assert_int_eq(ledger_apply(lg, &c, 1, &o3), LEDGER_APPLIED);
	ck_assert_int_eq(o3.seq, 2);
	ck_assert_int_eq(ledger_commit(lg), 0);
	check_matches_file(lg, 2);
	ledger_close(lg);
}
END_TEST

/* A transaction left open (a ROLLBACK that failed) must not stop every
 * later batch: begin rolls it back first. */
START_TEST(begin_after_open_transaction)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 a;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_begin(lg), 0);
	a = capture(1);
	ck_assert_int_eq(ledger_apply(lg, &a, 1, &out), LEDGER_APPLIED);
	ck_assert_int_eq(ledger_commit(lg), 0);
	check_matches_file(lg, 1);
	ledger_close(lg);
}
END_TEST

/* The writer's probe: a committed transaction that changes nothing (same
 * head, same tree, same schema version, the file verifies), and the next
 * event chains on as if it had not been there. It also clears a
 * transaction left open, as ledger_begin does. */
START_TEST(probe_changes_nothing)
{
	struct ledger		*lg;
	struct ledger_outcome	 out;
	struct ledger_event	 e;
	int64_t			 version;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ck_assert_int_eq(ledger_probe(lg), 0);
	check_matches_file(lg, 0);
	e = capture(0);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &e, 1, &out), LEDGER_APPLIED);
	ck_assert_int_eq(ledger_commit(lg), 0);
	version = count("PRAGMA user_version");
	ck_assert_int_gt(version, 0);
	ck_assert_int_eq(ledger_probe(lg), 0);
	ck_assert_int_eq(ledger_probe(lg), 0);
	ck_assert_int_eq(count("PRAGMA user_version"), version);
	ck_assert_int_eq(count("SELECT count(*) FROM receipts"), 1);
	check_matches_file(lg, 1);
	ck_assert_int_eq(sqlite3_exec(ledger_db(lg), "BEGIN", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(ledger_probe(lg), 0);
	ck_assert_int_eq(ledger_in_txn(lg), 0);
	e = capture(1);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ck_assert_int_eq(ledger_apply(lg, &e, 1, &out), LEDGER_APPLIED);
	ck_assert_int_eq(out.seq, 2);
	ck_assert_int_eq(ledger_commit(lg), 0);
	check_matches_file(lg, 2);
	ledger_close(lg);
}
END_TEST

struct waiter {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
	struct writer_job	 job;
};

static void
on_done(struct writer_job *job, void *arg)
{
	struct waiter *wt = arg;

	(void)job;
	pthread_mutex_lock(&wt->mu);
	wt->done = 1;
	pthread_cond_signal(&wt->cv);
	pthread_mutex_unlock(&wt->mu);
}

static int
submit_wait(struct writer *w, int n)
{
	struct waiter wt;

	memset(&wt, 0, sizeof(wt));
	pthread_mutex_init(&wt.mu, NULL);
	pthread_cond_init(&wt.cv, NULL);
	wt.job.type = WRITER_EVENT;
	wt.job.ev = capture(n);
	wt.job.done = on_done;
	wt.job.arg = &wt;
	writer_submit(w, &wt.job);
	pthread_mutex_lock(&wt.mu);
	while (!wt.done)
		pthread_cond_wait(&wt.cv, &wt.mu);
	pthread_mutex_unlock(&wt.mu);
	pthread_cond_destroy(&wt.cv);
	pthread_mutex_destroy(&wt.mu);
	return wt.job.out.status;
}

/* Through the writer: a full database turns its storage state bad and
 * answers 503; the writer keeps serving; space returns and the next event
 * is 200 and the state is good again. */
START_TEST(writer_reports_and_recovers)
{
	struct ledger	*lg;
	struct writer	*w;
	int64_t		 since = -1;
	int		 n, status = 0, applied = 0;

	ck_assert_ptr_nonnull(lg = ledger_open(db, LEDGER_READ_WRITE, err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(w = writer_start(lg, err, sizeof(err)));
	ck_assert_int_eq(submit_wait(w, 0), 200);
	applied = 1;
	ck_assert_int_eq(writer_storage_ok(w, &since), 1);
	ck_assert_int_eq(since, 0);
	writer_stop(w);

	limit_pages(lg, 1);
	ck_assert_ptr_nonnull(w = writer_start(lg, err, sizeof(err)));
	for (n = 1; n < MAX_TRIES; n++) {
		if ((status = submit_wait(w, n)) != 200)
			break;
		applied++;
	}
	ck_assert_int_eq(status, 503);
	ck_assert_int_eq(writer_storage_ok(w, &since), 0);
	ck_assert_int_gt(since, 0);
	/* Still full: still 503, nothing half-written. */
	ck_assert_int_eq(submit_wait(w, n), 503);
	writer_stop(w);
	check_matches_file(lg, applied);

	limit_pages(lg, 0);
	ck_assert_ptr_nonnull(w = writer_start(lg, err, sizeof(err)));
	ck_assert_int_eq(submit_wait(w, n), 200);
	ck_assert_int_eq(writer_storage_ok(w, &since), 1);
	writer_stop(w);
	check_matches_file(lg, applied + 1);
	ledger_close(lg);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("recovery");
	TCase	*tc = tcase_create("storage errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_database_mid_batch);
	tcase_add_test(tc, transaction_lost_mid_batch);
	tcase_add_test(tc, begin_after_open_transaction);
	tcase_add_test(tc, writer_reports_and_recovers);
	tcase_add_test(tc, probe_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
