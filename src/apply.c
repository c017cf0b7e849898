/*
 * apply.c: what one verified event does to the ledger.
 *
 * Inside the writer's transaction and a savepoint of its own, an event is
 * checked against its receipt (replay, conflict), stored as a fact, and
 * then the payment's target balances (books.c) are recomputed from all its
 * facts; the difference from what is already posted becomes one balanced
 * entry. An event about a payment not captured yet is parked: it is kept
 * and answered 200, and posts when the capture arrives. An event that
 * would break a rule is recorded as an exception and posts nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "books.h"
#include "ledger_int.h"

const char *const ledger_stmt_sql[ST_COUNT] = {
	[ST_RECEIPT_GET] = "SELECT body_sha256, status, response FROM receipts"
	    " WHERE endpoint = ?1 AND event_id = ?2",
	[ST_RECEIPT_PUT] = "INSERT INTO receipts (endpoint, event_id, tenant,"
	    " event_type, body_sha256, received_at, outcome, entry_seq, status,"
	    " response) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_ENTRY_PUT] = "INSERT INTO ledger (seq, tenant, endpoint, event_id,"
	    " kind, payment_ref, amount, currency, occurred_at, recorded_at,"
	    " body_sha256, prev_hash, hash, format) VALUES (?1, ?2, ?3, ?4, ?5,"
	    " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[ST_POSTING_PUT] = "INSERT INTO postings (seq, n, account, debit,"
	    " credit) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_FACT_PUT] = "INSERT INTO facts (endpoint, event_id, tenant, kind,"
	    " payment_ref, object_id, amount, currency, status, cumulative, fee,"
	    " occurred_at, verdict, sca_result, liability_shift, customer,"
	    " card_fingerprint, card_country, card_brand) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	    " ?18, ?19)",
	[ST_FACTS_OF] = "SELECT f.arrival, f.endpoint, f.event_id, f.kind,"
	    " f.object_id, f.amount, f.currency, f.status, f.cumulative, f.fee,"
	    " f.occurred_at, f.verdict, r.body_sha256,"
	    " EXISTS (SELECT 1 FROM exceptions x WHERE x.endpoint = f.endpoint"
	    " AND x.event_id = f.event_id AND x.posted = 0)"
	    " FROM facts f LEFT JOIN receipts r ON r.endpoint = f.endpoint"
	    " AND r.event_id = f.event_id WHERE f.tenant = ?1"
	    " AND f.payment_ref = ?2 ORDER BY f.arrival LIMIT ?3",
	[ST_POSTED] = "SELECT p.account, sum(p.debit) - sum(p.credit)"
	    " FROM postings p JOIN ledger l ON l.seq = p.seq"
	    " WHERE l.tenant = ?1 AND l.payment_ref = ?2 GROUP BY p.account",
	[ST_EXCEPTION_PUT] = "INSERT INTO exceptions (endpoint, event_id,"
	    " tenant, payment_ref, reason, posted, recorded_at) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7)",
	[ST_EXPECT_GET] = "SELECT amount, currency FROM expectations"
	    " WHERE tenant = ?1 AND payment_ref = ?2",
	[ST_EXPECT_PUT] = "INSERT INTO expectations (tenant, payment_ref,"
	    " amount, currency, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_API_GET] = "SELECT request_sha256, status, response FROM"
	    " api_requests WHERE tenant = ?1 AND idem_key = ?2",
	[ST_API_PUT] = "INSERT INTO api_requests (tenant, idem_key,"
	    " request_sha256, status, response, created_at) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6)",
	[ST_MERKLE_PUT] = "INSERT INTO merkle_nodes (level, idx, hash) VALUES"
	    " (?1, ?2, ?3)",
	[ST_CAPTURED] = "SELECT 1 FROM facts f WHERE f.tenant = ?1"
	    " AND f.payment_ref = ?2 AND f.kind = 'capture' AND NOT EXISTS"
	    " (SELECT 1 FROM exceptions x WHERE x.endpoint = f.endpoint"
	    " AND x.event_id = f.event_id AND x.posted = 0) LIMIT 1",
	[ST_SAVEPOINT] = "SAVEPOINT event",
	[ST_RELEASE] = "RELEASE event",
	[ST_ROLLBACK_TO] = "ROLLBACK TO event",
};

/* One fact as loaded back for the payment it concerns. */
struct fact {
	struct books_fact	 b;
	char			 endpoint[64 + 1];
	char			 event_id[EVENT_ID_MAX + 1];
	char			 object_id[EVENT_ID_MAX + 1];
	char			 currency[4];
	char			 verdict[24];
	unsigned char		 body_sha256[DIGEST_SHA256_LEN];
	int64_t			 arrival;
	int64_t			 occurred_at;
	int			 excluded;
	int			 released;
};

enum lookup { LOOKUP_NONE, LOOKUP_SAME, LOOKUP_DIFFERENT, LOOKUP_ERROR };

/* Look up a stored answer by key; same request hash: replay it. */
static enum lookup
stored_answer(sqlite3_stmt *st, const char *k1, const char *k2,
    const unsigned char hash[DIGEST_SHA256_LEN], struct ledger_outcome *out)
{
	enum lookup		 r = LOOKUP_ERROR;
	const void		*h;
	const unsigned char	*resp;
	int			 rc, n;

	sqlite3_bind_text(st, 1, k1, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k2, -1, SQLITE_STATIC);
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
		if (memcmp(h, hash, DIGEST_SHA256_LEN) != 0) {
			r = LOOKUP_DIFFERENT;
			goto done;
		}
		out->status = sqlite3_column_int(st, 1);
		memcpy(out->response, resp, (size_t)n);
		out->response[n] = '\0';
		out->result = LEDGER_REPLAYED;
		r = LOOKUP_SAME;
	}
done:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int
exception_put(struct ledger *lg, const char *endpoint, const char *event_id,
    const char *tenant, const char *ref, const char *reason, int posted,
    int64_t now)
{
	sqlite3_stmt *st = lg->stmt[ST_EXCEPTION_PUT];

	sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, posted);
	sqlite3_bind_int64(st, 7, now);
	return ledger_run(st);
}

/* The verdict of a capture against the merchant's expectation. */
static int
capture_verdict(struct ledger *lg, const struct ledger_event *ev,
    const char **verdict)
{
	sqlite3_stmt		*st = lg->stmt[ST_EXPECT_GET];
	const unsigned char	*cur;
	int			 rc;

	sqlite3_bind_text(st, 1, ev->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->move.payment_ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cur = sqlite3_column_text(st, 1);
		*verdict = sqlite3_column_int64(st, 0) == ev->move.amount &&
		    cur != NULL && strcmp((const char *)cur,
		    ev->move.currency) == 0 ? "verified" : "amount_mismatch";
	} else if (rc == SQLITE_DONE)
		*verdict = ev->require_expectations ? "no_expectation" :
		    "unverified";
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
fact_put(struct ledger *lg, const struct ledger_event *ev, const char *verdict)
{
	sqlite3_stmt		*st = lg->stmt[ST_FACT_PUT];
	const struct event_move	*m = &ev->move;

	sqlite3_bind_text(st, 1, ev->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event_kind_name(m->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->payment_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->object_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, m->amount);
	sqlite3_bind_text(st, 8, m->currency, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, event_status_name(m->status), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 10, m->cumulative);
	sqlite3_bind_int64(st, 11, m->fee);
	sqlite3_bind_int64(st, 12, m->occurred_at);
	sqlite3_bind_text(st, 13, verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, m->sca_result, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 15, m->liability_shift);
	sqlite3_bind_text(st, 16, m->customer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, m->card_fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, m->card_country, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, m->card_brand, -1, SQLITE_STATIC);
	return ledger_run(st);
}

static void
copy_text(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? (const char *)src : "");
}

static int
status_parse(const char *s)
{
	if (strcmp(s, "pending") == 0)
		return EVENT_STATUS_PENDING;
	if (strcmp(s, "succeeded") == 0)
		return EVENT_STATUS_SUCCEEDED;
	if (strcmp(s, "failed") == 0)
		return EVENT_STATUS_FAILED;
	return EVENT_STATUS_NONE;
}

/* Load every fact of (tenant, ref), oldest first; *n <= BOOKS_FACTS_MAX,
 * or *n = BOOKS_FACTS_MAX + 1 when there are more. */
static int
facts_load(struct ledger *lg, const char *tenant, const char *ref,
    struct fact *f, size_t *n)
{
	sqlite3_stmt	*st = lg->stmt[ST_FACTS_OF];
	size_t		 i = 0;
	int		 rc, kind;

	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, BOOKS_FACTS_MAX + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fact *x = &f[i];

		if (i == BOOKS_FACTS_MAX) {
			i++;
			break;
		}
		memset(x, 0, sizeof(*x));
		x->arrival = sqlite3_column_int64(st, 0);
		copy_text(x->endpoint, sizeof(x->endpoint),
		    sqlite3_column_text(st, 1));
		copy_text(x->event_id, sizeof(x->event_id),
		    sqlite3_column_text(st, 2));
		kind = event_kind_parse((const char *)sqlite3_column_text(st,
		    3));
		copy_text(x->object_id, sizeof(x->object_id),
		    sqlite3_column_text(st, 4));
		x->b.amount = sqlite3_column_int64(st, 5);
		copy_text(x->currency, sizeof(x->currency),
		    sqlite3_column_text(st, 6));
		x->b.status = status_parse((const char *)
		    sqlite3_column_text(st, 7));
		x->b.cumulative = sqlite3_column_int(st, 8);
		x->b.fee = sqlite3_column_int64(st, 9);
		x->occurred_at = sqlite3_column_int64(st, 10);
		x->b.occurred_at = x->occurred_at;
		copy_text(x->verdict, sizeof(x->verdict),
		    sqlite3_column_text(st, 11));
		if (sqlite3_column_bytes(st, 12) == DIGEST_SHA256_LEN)
			memcpy(x->body_sha256, sqlite3_column_blob(st, 12),
			    DIGEST_SHA256_LEN);
		x->excluded = sqlite3_column_int(st, 13);
		if (kind <= 0)
			break;		/* cannot happen: rc stays ROW */
		x->b.kind = (enum event_kind)kind;
		x->b.object_id = x->object_id;
		x->b.currency = x->currency;
		x->b.paid = strcmp(x->verdict, "verified") == 0 ||
		    strcmp(x->verdict, "unverified") == 0;
		i++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*n = i;
	return rc == SQLITE_DONE || (rc == SQLITE_ROW && i > BOOKS_FACTS_MAX) ?
	    0 : -1;
}

static int
posted_load(struct ledger *lg, const char *tenant, const char *ref,
    struct books_target *posted)
{
	sqlite3_stmt	*st = lg->stmt[ST_POSTED];
	size_t		 a;
	int		 rc;

	memset(posted, 0, sizeof(*posted));
	sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *acct = (const char *)sqlite3_column_text(st, 0);

		for (a = 0; a < BOOKS_NACCOUNTS; a++)
			if (acct != NULL && strcmp(acct, entry_accounts[a]) == 0)
				posted->balance[a] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Post target - posted for fact y as one entry; *seq = 0 when there is no
 * difference. posted is advanced to target. */
static int
post_delta(struct ledger *lg, const char *tenant, const char *ref,
    const struct fact *y, const struct books_target *target,
    struct books_target *posted, int64_t now, int64_t *seq)
{
	struct entry_posting	 p[BOOKS_NACCOUNTS];
	struct entry		 e;
	int64_t			 d, debits = 0;
	size_t			 a, n = 0;

	*seq = 0;
	for (a = 0; a < BOOKS_NACCOUNTS; a++) {
		d = target->balance[a] - posted->balance[a];
		if (d == 0)
			continue;
		p[n].account = entry_accounts[a];
		p[n].debit = d > 0 ? d : 0;
		p[n].credit = d < 0 ? -d : 0;
		debits += p[n].debit;
		n++;
	}
	if (n == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	e.tenant = tenant;
	e.endpoint = y->endpoint;
	e.event_id = y->event_id;
	e.kind = event_kind_name(y->b.kind);
	e.payment_ref = ref;
	e.amount = debits;
	e.currency = y->currency;
	e.occurred_at = y->occurred_at;
	e.recorded_at = now;
	memcpy(e.body_sha256, y->body_sha256, DIGEST_SHA256_LEN);
	e.postings = p;
	e.npostings = n;
	if (ledger_append(lg, &e, seq) == -1)
		return -1;
	*posted = *target;
	return 0;
}

/* Facts go to the heap: BOOKS_FACTS_MAX of them are too big for a
 * thread's stack. */
struct work {
	struct fact		 facts[BOOKS_FACTS_MAX + 1];
	struct books_fact	 cand[BOOKS_FACTS_MAX];
	struct fact		*release[BOOKS_FACTS_MAX];
};

/* The outcome of the incoming event x. */
struct verdict_out {
	const char	*result;	/* applied, recorded, parked, exception */
	const char	*reason;	/* note or exception reason */
	const char	*capture_verdict; /* when x is an unpaid capture */
	int64_t		 seq;
};

static int
has_payout(const struct work *w, size_t n, const struct fact *x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (&w->facts[i] != x && !w->facts[i].excluded &&
		    w->facts[i].b.kind == EVENT_PAYOUT)
			return 1;
	return 0;
}

/* Why an event that posted nothing posted nothing, for its answer. */
static const char *
no_post_reason(const struct books_fact *b, const struct books_target *t)
{
	if (b->kind == EVENT_CAPTURE)
		return "capture_already_posted";
	if (b->kind != EVENT_REFUND)
		return "no_change";
	if (!b->cumulative && b->status == EVENT_STATUS_PENDING &&
	    t->unheld > 0)
		return "pending_refund_not_held";
	return "refund_already_posted";
}


static int
release_facts(struct ledger *lg, const struct ledger_event *ev,
    struct work *w, size_t n, struct fact *x, int64_t now,
    struct verdict_out *vo)
{
	struct books_target	 target, posted;
	enum books_result	 br;
	size_t			 i, k, nrel = 0, nbase;
	int			 prior_capture = 0;
	const char		*ref = ev->move.payment_ref;

	for (i = 0; i < n; i++)
		if (&w->facts[i] != x && !w->facts[i].excluded &&
		    w->facts[i].b.kind == EVENT_CAPTURE &&
		    w->facts[i].arrival < x->arrival)
			prior_capture = 1;

	/* What was released before x, and what x releases. The first and
	 * the last release alike, for different reasons, kept apart. */
	/* NOLINTNEXTLINE(bugprone-branch-clone) */
	if (x->b.kind == EVENT_PAYOUT || prior_capture) {
		for (i = 0; i < n; i++)
			if (&w->facts[i] != x && !w->facts[i].excluded)
				w->facts[i].released = 1;
		w->release[nrel++] = x;
	} else if (x->b.kind == EVENT_CAPTURE) {
		/* Payouts were released when they arrived; a capture under
		 * the same reference must meet them, not hide them. */
		for (i = 0; i < n; i++)
			if (&w->facts[i] != x && !w->facts[i].excluded &&
			    w->facts[i].b.kind == EVENT_PAYOUT)
				w->facts[i].released = 1;
		w->release[nrel++] = x;
		for (i = 0; i < n; i++)
			if (&w->facts[i] != x && !w->facts[i].excluded &&
			    !w->facts[i].released)
				w->release[nrel++] = &w->facts[i];
	} else if (has_payout(w, n, x)) {
		/* A refund or dispute under a payout's reference. */
		for (i = 0; i < n; i++)
			if (&w->facts[i] != x && !w->facts[i].excluded)
				w->facts[i].released = 1;
		w->release[nrel++] = x;
	} else {
		vo->result = "parked";
		vo->reason = "payment_not_captured";
		return 0;
	}
	if (posted_load(lg, ev->tenant, ref, &posted) == -1)
		return -1;

	for (k = 0; k < nrel; k++) {
		struct fact	*y = w->release[k];
		int64_t		 seq;
		int		 first_capture;

		/* The candidate set: released facts, then y, oldest first
		 * except that y comes last; books only needs the first
		 * capture first, which the release order guarantees. */
		nbase = 0;
		first_capture = y->b.kind == EVENT_CAPTURE;
		for (i = 0; i < n; i++)
			if (w->facts[i].released) {
				w->cand[nbase++] = w->facts[i].b;
				if (w->facts[i].b.kind == EVENT_CAPTURE)
					first_capture = 0;
			}
		if (first_capture) {
			memmove(&w->cand[1], &w->cand[0],
			    nbase * sizeof(w->cand[0]));
			w->cand[0] = y->b;
		} else
			w->cand[nbase] = y->b;
		nbase++;
		br = books_target(w->cand, nbase, &target);
		if (br != BOOKS_OK) {
			if (exception_put(lg, y->endpoint, y->event_id,
			    ev->tenant, ref, books_result_code(br), 0, now) == -1)
				return -1;
			if (y == x) {
				vo->result = "exception";
				vo->reason = books_result_code(br);
			}
			continue;
		}
		if (post_delta(lg, ev->tenant, ref, y, &target, &posted, now,
		    &seq) == -1)
			return -1;
		y->released = 1;
		if (first_capture && !y->b.paid && exception_put(lg,
		    y->endpoint, y->event_id, ev->tenant, ref, y->verdict, 1,
		    now) == -1)
			return -1;
		if (y != x)
			continue;
		vo->seq = seq;
		vo->result = seq > 0 ? "applied" : "recorded";
		if (first_capture && !y->b.paid)
			vo->capture_verdict = strcmp(y->verdict,
			    "amount_mismatch") == 0 ? "amount_mismatch" :
			    "no_expectation";
		if (seq == 0)
			vo->reason = no_post_reason(&x->b, &target);
	}
	return 0;
}

static json_t *
answer_json(const struct ledger_event *ev, const struct verdict_out *vo)
{
	json_t *o = json_pack("{s:s, s:s}", "result", vo->result, "event_id",
	    ev->event_id);

	if (o == NULL)
		return NULL;
	if (vo->seq > 0)
		json_object_set_new(o, "seq", json_integer(vo->seq));
	if (vo->capture_verdict != NULL)
		json_object_set_new(o, "verdict",
		    json_string(vo->capture_verdict));
	if (vo->reason != NULL)
		json_object_set_new(o, strcmp(vo->result, "recorded") == 0 ?
		    "note" : "reason", json_string(vo->reason));
	return o;
}

static int
receipt_put(struct ledger *lg, const struct ledger_event *ev, int64_t now,
    const char *outcome, int64_t seq, const struct ledger_outcome *out)
{
	sqlite3_stmt *st = lg->stmt[ST_RECEIPT_PUT];

	sqlite3_bind_text(st, 1, ev->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->move.type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, ev->body_sha256, DIGEST_SHA256_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_text(st, 7, outcome, -1, SQLITE_STATIC);
	if (seq > 0)
		sqlite3_bind_int64(st, 8, seq);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_int(st, 9, out->status);
	sqlite3_bind_text(st, 10, out->response, -1, SQLITE_STATIC);
	return ledger_run(st);
}

/* Store the fact and work out what it posts. */
static int
apply_money(struct ledger *lg, const struct ledger_event *ev, int64_t now,
    struct verdict_out *vo)
{
	struct work	*w;
	const char	*verdict = "";
	struct fact	*x = NULL;
	size_t		 n, i;
	int		 rc = -1;

	if (ev->move.kind == EVENT_CAPTURE &&
	    capture_verdict(lg, ev, &verdict) == -1)
		return -1;
	if (fact_put(lg, ev, verdict) == -1)
		return -1;
	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	if (facts_load(lg, ev->tenant, ev->move.payment_ref, w->facts, &n) ==
	    -1)
		goto done;
	if (n > BOOKS_FACTS_MAX) {
		vo->result = "exception";
		vo->reason = "too_many_events";
		rc = exception_put(lg, ev->endpoint, ev->event_id, ev->tenant,
		    ev->move.payment_ref, vo->reason, 0, now);
		goto done;
	}
	for (i = 0; i < n; i++)
		if (strcmp(w->facts[i].endpoint, ev->endpoint) == 0 &&
		    strcmp(w->facts[i].event_id, ev->event_id) == 0)
			x = &w->facts[i];
	if (x == NULL)
		goto done;		/* just inserted: cannot happen */
	memcpy(x->body_sha256, ev->body_sha256, DIGEST_SHA256_LEN);
	rc = release_facts(lg, ev, w, n, x, now, vo);
done:
	free(w);
	return rc;
}

enum ledger_result
ledger_apply(struct ledger *lg, const struct ledger_event *ev,
    int64_t recorded_at, struct ledger_outcome *out)
{
	struct ledger_head	 saved;
	struct verdict_out	 vo;
	const char		*outcome;

	memset(out, 0, sizeof(*out));
	memset(&vo, 0, sizeof(vo));
	ledger_save_head(lg, &saved);
	/* Outside a transaction SAVEPOINT would begin one and RELEASE commit
	 * it: the event would be committed alone, chained to entries of a
	 * batch that was lost. */
	if (lg->mode != LEDGER_READ_WRITE || !ledger_in_txn(lg) ||
	    ledger_run(lg->stmt[ST_SAVEPOINT]) == -1)
		goto failed;

	switch (stored_answer(lg->stmt[ST_RECEIPT_GET], ev->endpoint,
	    ev->event_id, ev->body_sha256, out)) {
	case LOOKUP_SAME:
		ledger_run(lg->stmt[ST_RELEASE]);
		return out->result;
	case LOOKUP_DIFFERENT:
		ledger_respond(out, LEDGER_CONFLICT, 422, json_pack("{s:s, s:s}",
		    "error", "idempotency_conflict", "message", "this event id "
		    "was already received with a different body"));
		ledger_run(lg->stmt[ST_RELEASE]);
		return out->result;
	case LOOKUP_ERROR:
		goto fail;
	case LOOKUP_NONE:
		break;
	}

	if (ev->move.kind == EVENT_NONE)
		vo.result = "recorded";
	else if (apply_money(lg, ev, recorded_at, &vo) == -1 ||
	    vo.result == NULL)
		goto fail;
	out->seq = vo.seq;
	ledger_respond(out, vo.seq > 0 ? LEDGER_APPLIED : LEDGER_RECORDED, 200,
	    answer_json(ev, &vo));
	if (out->result == LEDGER_FAILED)
		goto fail;
	outcome = vo.seq > 0 ? "applied" : vo.reason != NULL &&
	    strcmp(vo.result, "recorded") == 0 ? "duplicate" : vo.result;
	if (receipt_put(lg, ev, recorded_at, outcome, vo.seq, out) == -1 ||
	    ledger_run(lg->stmt[ST_RELEASE]) == -1)
		goto fail;
	return out->result;
fail:
	/* Keep SQLite's reason before the rollback replaces it. */
	ledger_keep_error(lg, "event");
	ledger_run(lg->stmt[ST_ROLLBACK_TO]);
	ledger_run(lg->stmt[ST_RELEASE]);
	ledger_restore_head(lg, &saved);
	ledger_outcome_failed(out);
	return out->result;
failed:
	snprintf(lg->last_error, sizeof(lg->last_error), "%s",
	    lg->mode != LEDGER_READ_WRITE ? "read-only handle" :
	    !ledger_in_txn(lg) ? "the batch's transaction was rolled back" :
	    sqlite3_errmsg(lg->db));
	ledger_outcome_failed(out);
	return out->result;
}

static json_t *
expectation_json(const struct ledger_expectation *x)
{
	return json_pack("{s:s, s:I, s:s, s:s}", "payment", x->payment_ref,
	    "amount", (json_int_t)x->amount, "currency", x->currency,
	    "status", "expected");
}

/* Insert the expectation, or compare it with the one stored. */
static int
expect_put(struct ledger *lg, const struct ledger_expectation *x, int64_t now,
    struct ledger_outcome *out)
{
	sqlite3_stmt		*st = lg->stmt[ST_EXPECT_GET];
	const unsigned char	*cur;
	int			 rc, same = 0;

	sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->payment_ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cur = sqlite3_column_text(st, 1);
		same = sqlite3_column_int64(st, 0) == x->amount &&
		    cur != NULL && strcmp((const char *)cur, x->currency) == 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW) {
		if (same)
			ledger_respond(out, LEDGER_RECORDED, 200,
			    expectation_json(x));
		else
			ledger_respond(out, LEDGER_CONFLICT, 409, json_pack(
			    "{s:s, s:s}", "error", "expectation_conflict",
			    "message", "this payment is already expected with "
			    "another amount or currency"));
		return 0;
	}
	if (rc != SQLITE_DONE)
		return -1;
	/* A capture is judged once, when it arrives: an expectation
	 * registered after it could never be compared with it. */
	st = lg->stmt[ST_CAPTURED];
	sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->payment_ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW) {
		ledger_respond(out, LEDGER_CONFLICT, 409, json_pack("{s:s, s:s}",
		    "error", "payment_already_captured", "message", "this "
		    "payment's capture is already posted and was judged when it "
		    "arrived; an expectation must be registered before the "
		    "capture"));
		return 0;
	}
	if (rc != SQLITE_DONE)
		return -1;
	st = lg->stmt[ST_EXPECT_PUT];
	sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->payment_ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, x->amount);
	sqlite3_bind_text(st, 4, x->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (ledger_run(st) == -1)
		return -1;
	ledger_respond(out, LEDGER_APPLIED, 201, expectation_json(x));
	return 0;
}

enum ledger_result
ledger_expect(struct ledger *lg, const struct ledger_api_key *key,
    const struct ledger_expectation *x, int64_t now,
    struct ledger_outcome *out)
{
	sqlite3_stmt	*st;
	int		 own_txn = key == NULL;

	memset(out, 0, sizeof(*out));
	if (lg->mode == LEDGER_READ_ONLY)
		goto failed;
	if (own_txn && ledger_begin(lg) == -1)
		goto failed;
	if (!ledger_in_txn(lg))
		goto failed;	/* lost earlier in the batch: see ledger_apply */
	if (ledger_run(lg->stmt[ST_SAVEPOINT]) == -1)
		goto fail;
	if (key != NULL) {
		switch (stored_answer(lg->stmt[ST_API_GET], key->tenant,
		    key->key, key->request_sha256, out)) {
		case LOOKUP_SAME:
			ledger_run(lg->stmt[ST_RELEASE]);
			return out->result;
		case LOOKUP_DIFFERENT:
			ledger_respond(out, LEDGER_CONFLICT, 422, json_pack(
			    "{s:s, s:s}", "error", "idempotency_conflict",
			    "message", "this Idempotency-Key was already used "
			    "with a different request"));
			ledger_run(lg->stmt[ST_RELEASE]);
			return out->result;
		case LOOKUP_ERROR:
			goto fail;
		case LOOKUP_NONE:
			break;
		}
	}
	if (expect_put(lg, x, now, out) == -1 || out->result == LEDGER_FAILED)
		goto fail;
	if (key != NULL) {
		st = lg->stmt[ST_API_PUT];
		sqlite3_bind_text(st, 1, key->tenant, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key->key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, key->request_sha256,
		    DIGEST_SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, out->status);
		sqlite3_bind_text(st, 5, out->response, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now);
		if (ledger_run(st) == -1)
			goto fail;
	}
	if (ledger_run(lg->stmt[ST_RELEASE]) == -1)
		goto fail;
	if (own_txn && ledger_commit(lg) == -1)
		goto failed;
	return out->result;
fail:
	ledger_run(lg->stmt[ST_ROLLBACK_TO]);
	ledger_run(lg->stmt[ST_RELEASE]);
	if (own_txn)
		ledger_commit(lg);
failed:
	ledger_outcome_failed(out);
	return out->result;
}
