/*
 * verify.c: the auditor's recomputation of the ledger.
 *
 * The order of checks matters for the report: the chain is walked first,
 * so that an edit, a deleted row or a swap is named by the first entry it
 * breaks, before any coarser check (receipts, schema, books) speaks.
 */
#include "verify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "books.h"
#include "currency.h"
#include "entry.h"
#include "event.h"
#include "schema_sql.h"

static enum verify_result
bad(struct verify_report *out, int64_t seq, const char *fmt, ...)
{
	char	 msg[VERIFY_PROBLEM_MAX - 64];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out->bad_seq = seq;
	if (seq > 0)
		snprintf(out->problem, sizeof(out->problem), "entry %" PRId64
		    ": %s", seq, msg);
	else
		snprintf(out->problem, sizeof(out->problem), "%s", msg);
	return VERIFY_TAMPERED;
}

static enum verify_result
io_error(struct verify_report *out, sqlite3 *db, const char *what)
{
	int code = sqlite3_errcode(db) & 0xff;

	snprintf(out->problem, sizeof(out->problem), "%s: %s", what,
	    sqlite3_errmsg(db));
	/* A damaged or cut file is evidence, not a failure to read. */
	return code == SQLITE_CORRUPT ? VERIFY_TAMPERED : VERIFY_ERROR;
}

static enum verify_result
quick_check(sqlite3 *db, struct verify_report *out)
{
	sqlite3_stmt		*st;
	const unsigned char	*msg;
	enum verify_result	 r = VERIFY_OK;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return io_error(out, db, "cannot check the file");
	if (sqlite3_step(st) != SQLITE_ROW)
		r = io_error(out, db, "cannot check the file");
	else if ((msg = sqlite3_column_text(st, 0)) == NULL ||
	    strcmp((const char *)msg, "ok") != 0)
		r = bad(out, 0, "the database file is damaged: %.200s",
		    msg != NULL ? (const char *)msg : "?");
	sqlite3_finalize(st);
	return r;
}

/* A text column within bounds, or NULL. */
static const char *
text(sqlite3_stmt *st, int col)
{
	const unsigned char *s;

	/* The type first: reading a value as text converts it, after which
	 * its type is no longer what the file holds. */
	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return NULL;
	s = sqlite3_column_text(st, col);
	if (s == NULL ||
	    sqlite3_column_bytes(st, col) > ENTRY_TEXT_MAX ||
	    strlen((const char *)s) != (size_t)sqlite3_column_bytes(st, col))
		return NULL;
	return (const char *)s;
}

static const void *
blob32(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, col) != DIGEST_SHA256_LEN)
		return NULL;
	return sqlite3_column_blob(st, col);
}

/* Load the postings of e into p (accounts copied into acct) and check
 * that they balance: debits equal credits and both equal the amount. */
static enum verify_result
load_postings(sqlite3_stmt *pst, struct entry *e, struct entry_posting *p,
    char acct[][32], struct verify_report *out)
{
	size_t	 n = 0;
	int	 rc;

	sqlite3_bind_int64(pst, 1, e->seq);
	while ((rc = sqlite3_step(pst)) == SQLITE_ROW) {
		const char *a;
		int typed = sqlite3_column_type(pst, 0) == SQLITE_INTEGER &&
		    sqlite3_column_type(pst, 2) == SQLITE_INTEGER &&
		    sqlite3_column_type(pst, 3) == SQLITE_INTEGER;

		a = text(pst, 1);
		if (n == ENTRY_POSTINGS_MAX) {
			sqlite3_reset(pst);
			return bad(out, e->seq, "more than %d postings",
			    ENTRY_POSTINGS_MAX);
		}
		if (!typed || sqlite3_column_int64(pst, 0) != (int64_t)n ||
		    a == NULL || !entry_account_valid(a)) {
			sqlite3_reset(pst);
			return bad(out, e->seq, "posting %zu is missing or "
			    "malformed", n);
		}
		snprintf(acct[n], 32, "%s", a);
		p[n].account = acct[n];
		p[n].debit = sqlite3_column_int64(pst, 2);
		p[n].credit = sqlite3_column_int64(pst, 3);
		if (p[n].debit < 0 || p[n].credit < 0 ||
		    (p[n].debit == 0) == (p[n].credit == 0) ||
		    p[n].debit > CURRENCY_MAX_AMOUNT ||
		    p[n].credit > CURRENCY_MAX_AMOUNT) {
			sqlite3_reset(pst);
			return bad(out, e->seq, "posting %zu is malformed", n);
		}
		n++;
	}
	sqlite3_reset(pst);
	if (rc != SQLITE_DONE) {
		snprintf(out->problem, sizeof(out->problem), "cannot read "
		    "the postings of entry %" PRId64, e->seq);
		return VERIFY_ERROR;
	}
	e->postings = p;
	e->npostings = n;
	if (e->format == 1 && n > 0)
		return bad(out, e->seq, "a format-1 entry has postings");
	if (e->format == 2 && n == 0)
		return bad(out, e->seq, "its postings are missing");
	return VERIFY_OK;
}

/* After the hash has matched: the postings balance, and add up to the
 * entry's amount. */
static enum verify_result
check_balance(const struct entry *e, struct verify_report *out)
{
	int64_t	 debits = 0, credits = 0;
	size_t	 i;

	for (i = 0; i < e->npostings; i++) {
		debits += e->postings[i].debit;
		credits += e->postings[i].credit;
	}
	if (debits != credits)
		return bad(out, e->seq, "unbalanced: debits %" PRId64
		    " != credits %" PRId64, debits, credits);
	if (e->format == 2 && debits != e->amount)
		return bad(out, e->seq, "its postings (%" PRId64 ") do not "
		    "add up to its amount", debits);
	return VERIFY_OK;
}

static int64_t
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The recomputed tree at the checkpoint's size against its root. */
static enum verify_result
check_root(const struct merkle_frontier *fr, const struct verify_checkpoint *c,
    struct verify_report *out)
{
	unsigned char	 root[MERKLE_HASH_LEN];
	char		 hex[2 * MERKLE_HASH_LEN + 1];

	if (merkle_frontier_root(fr, root) == -1)
		return bad(out, 0, "cannot hash the Merkle tree");
	if (memcmp(root, c->root, MERKLE_HASH_LEN) == 0)
		return VERIFY_OK;
	digest_hex(root, sizeof(root), hex);
	return bad(out, (int64_t)c->size, "the ledger does not extend "
	    "checkpoint %s: its first %" PRIu64 " entries have root %s, not "
	    "the checkpoint's (a fork, a rewrite or a restored copy)",
	    c->label, c->size, hex);
}

/* The stored tree is a cache for proofs; it must agree with the tree
 * recomputed from the entries, at least along its right edge. */
static enum verify_result
check_stored_tree(sqlite3 *db, const struct merkle_frontier *fr,
    struct verify_report *out)
{
	sqlite3_stmt	*st;
	int		 h, rc, same;

	if (scalar(db, "SELECT count(*) FROM merkle_nodes WHERE level = 0") !=
	    (int64_t)fr->size)
		return bad(out, 0, "the stored Merkle tree has a different "
		    "number of leaves than the ledger has entries");
	if (sqlite3_prepare_v2(db, "SELECT hash FROM merkle_nodes WHERE"
	    " level = ?1 AND idx = ?2", -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the Merkle tree");
	for (h = 0; h < MERKLE_MAX_DEPTH; h++) {
		if (!(fr->size >> h & 1))
			continue;
		sqlite3_bind_int(st, 1, h);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)((fr->size >> h) - 1));
		rc = sqlite3_step(st);
		same = rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) ==
		    MERKLE_HASH_LEN && memcmp(sqlite3_column_blob(st, 0),
		    fr->node[h], MERKLE_HASH_LEN) == 0;
		sqlite3_reset(st);
		if (!same) {
			sqlite3_finalize(st);
			return bad(out, 0, "the stored Merkle tree disagrees with "
			    "the entries");
		}
	}
	sqlite3_finalize(st);
	return VERIFY_OK;
}

/* Postings whose entry does not exist. */
static enum verify_result
stray_postings(sqlite3 *db, int64_t seen, struct verify_report *out)
{
	sqlite3_stmt	*st;
	int64_t		 total = -1, first = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*), (SELECT min(p.seq) FROM"
	    " postings p WHERE p.seq NOT IN (SELECT seq FROM ledger))"
	    " FROM postings", -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the postings");
	if (sqlite3_step(st) == SQLITE_ROW) {
		total = sqlite3_column_int64(st, 0);
		first = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (total == seen)
		return VERIFY_OK;
	return bad(out, first, "postings exist for an entry that is not in "
	    "the ledger");
}

static enum verify_result
walk_chain(sqlite3 *db, const struct verify_opts *o, struct verify_report *out)
{
	struct merkle_frontier	 fr;
	unsigned char		 leaf[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	int64_t			 total = 0;
	size_t			 c;
	sqlite3_stmt	*st;
	struct entry	 e;
	unsigned char	 prev[DIGEST_SHA256_LEN], h[DIGEST_SHA256_LEN];
	char		 hex[2 * DIGEST_SHA256_LEN + 1];
	const void	*body, *stored_prev, *stored_hash;
	sqlite3_stmt	*pst;
	struct entry_posting p[ENTRY_POSTINGS_MAX];
	char		 accounts[ENTRY_POSTINGS_MAX][32];
	int64_t		 expect = 1, postings_seen = 0;
	int		 typed;
	enum verify_result r = VERIFY_OK;
	int		 rc;

	memset(prev, 0, sizeof(prev));
	merkle_frontier_init(&fr);
	if (o->progress != NULL)
		total = scalar(db, "SELECT coalesce(max(seq), 0) FROM ledger");
	for (c = 0; c < o->ncheckpoints; c++)
		if (o->checkpoints[c].size == 0 &&
		    (r = check_root(&fr, &o->checkpoints[c], out)) != VERIFY_OK)
			return r;
	if (sqlite3_prepare_v2(db, "SELECT seq, tenant, endpoint, event_id,"
	    " kind, payment_ref, amount, currency, occurred_at, recorded_at,"
	    " body_sha256, prev_hash, hash, format FROM ledger ORDER BY seq",
	    -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the ledger");
	if (sqlite3_prepare_v2(db, "SELECT n, account, debit, credit FROM"
	    " postings WHERE seq = ?1 ORDER BY n", -1, &pst, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(st);
		return io_error(out, db, "cannot read the postings");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		typed = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
		    sqlite3_column_type(st, 6) == SQLITE_INTEGER &&
		    sqlite3_column_type(st, 8) == SQLITE_INTEGER &&
		    sqlite3_column_type(st, 9) == SQLITE_INTEGER &&
		    sqlite3_column_type(st, 13) == SQLITE_INTEGER;
		e.seq = sqlite3_column_int64(st, 0);
		if (e.seq != expect) {
			r = e.seq > expect ? bad(out, expect, "missing: the "
			    "ledger goes from entry %" PRId64 " to entry %"
			    PRId64, expect - 1, e.seq) : bad(out, e.seq,
			    "out of sequence (expected entry %" PRId64 ")",
			    expect);
			goto done;
		}
		e.tenant = text(st, 1);
		e.endpoint = text(st, 2);
		e.event_id = text(st, 3);
		e.kind = text(st, 4);
		e.payment_ref = text(st, 5);
		e.amount = sqlite3_column_int64(st, 6);
		e.currency = text(st, 7);
		e.occurred_at = sqlite3_column_int64(st, 8);
		e.recorded_at = sqlite3_column_int64(st, 9);
		body = blob32(st, 10);
		stored_prev = blob32(st, 11);
		stored_hash = blob32(st, 12);
		if (!typed || e.tenant == NULL || e.endpoint == NULL ||
		    e.event_id == NULL || e.kind == NULL ||
		    e.payment_ref == NULL || e.currency == NULL ||
		    body == NULL || stored_prev == NULL || stored_hash == NULL) {
			r = bad(out, e.seq, "a field is missing or malformed");
			goto done;
		}
		if (event_kind_parse(e.kind) <= 0) {
			r = bad(out, e.seq, "unknown kind \"%.32s\"", e.kind);
			goto done;
		}
		if (e.amount <= 0 || e.amount > CURRENCY_MAX_AMOUNT) {
			r = bad(out, e.seq, "amount is not a positive integer "
			    "within limits");
			goto done;
		}
		if (currency_lookup(e.currency, strlen(e.currency)) == NULL) {
			r = bad(out, e.seq, "unknown currency \"%.8s\"",
			    e.currency);
			goto done;
		}
		memcpy(e.body_sha256, body, DIGEST_SHA256_LEN);
		e.format = sqlite3_column_int(st, 13);
		if (e.format != 1 && e.format != 2) {
			r = bad(out, e.seq, "unknown format %d", e.format);
			goto done;
		}
		if ((r = load_postings(pst, &e, p, accounts, out)) !=
		    VERIFY_OK)
			goto done;
		postings_seen += (int64_t)e.npostings;
		if (memcmp(stored_prev, prev, DIGEST_SHA256_LEN) != 0) {
			r = e.seq == 1 ? bad(out, e.seq, "prev_hash of the "
			    "first entry is not all zeros") : bad(out, e.seq,
			    "prev_hash does not match the hash of entry %"
			    PRId64 " (entries deleted, reordered or replaced)",
			    e.seq - 1);
			goto done;
		}
		memcpy(e.prev_hash, prev, DIGEST_SHA256_LEN);
		if (entry_hash(&e, h) == -1) {
			r = bad(out, e.seq, "fields too long to encode");
			goto done;
		}
		if (memcmp(h, stored_hash, DIGEST_SHA256_LEN) != 0) {
			digest_hex(h, sizeof(h), hex);
			r = bad(out, e.seq, "hash mismatch: its fields were "
			    "changed (recomputed %s)", hex);
			goto done;
		}
		if ((r = check_balance(&e, out)) != VERIFY_OK)
			goto done;
		memcpy(prev, h, sizeof(prev));
		out->entries++;
		out->head_seq = e.seq;
		expect++;
		if (merkle_leaf(h, sizeof(h), leaf) == -1 ||
		    merkle_frontier_append(&fr, leaf) == -1) {
			r = bad(out, e.seq, "cannot hash into the Merkle tree");
			goto done;
		}
		for (c = 0; c < o->ncheckpoints; c++)
			if (o->checkpoints[c].size == fr.size &&
			    (r = check_root(&fr, &o->checkpoints[c], out)) !=
			    VERIFY_OK)
				goto done;
		if (o->progress != NULL && (out->entries & 0xffff) == 0)
			o->progress(o->cls, out->entries, total);
	}
	if (rc != SQLITE_DONE)
		r = io_error(out, db, "cannot read the ledger");
	memcpy(out->head_hash, prev, sizeof(prev));
	if (merkle_frontier_root(&fr, root) == -1)
		r = io_error(out, db, "cannot hash the Merkle tree");
	memcpy(out->root, root, sizeof(root));
	if (o->progress != NULL)
		o->progress(o->cls, out->entries, total);
	for (c = 0; r == VERIFY_OK && c < o->ncheckpoints; c++)
		if (o->checkpoints[c].size > fr.size)
			r = bad(out, 0, "checkpoint %s has %" PRIu64 " entries but "
			    "the ledger has %" PRIu64 ": entries were cut off "
			    "its end or an older copy was restored",
			    o->checkpoints[c].label, o->checkpoints[c].size,
			    fr.size);
	if (r == VERIFY_OK)
		r = stray_postings(db, postings_seen, out);
	if (r == VERIFY_OK && scalar(db, "PRAGMA user_version") >= 4)
		r = check_stored_tree(db, &fr, out);
done:
	sqlite3_finalize(st);
	sqlite3_finalize(pst);
	return r;
}

/* Run a query that yields the seq of the first disagreement, if any. */
static enum verify_result
first_row(sqlite3 *db, const char *sql, int64_t *seq, int *found,
    struct verify_report *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	*found = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the receipts");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*found = 1;
		*seq = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return io_error(out, db, "cannot read the receipts");
	return VERIFY_OK;
}

static enum verify_result
check_receipts(sqlite3 *db, struct verify_report *out)
{
	enum verify_result	 r;
	int64_t			 seq;
	int			 found;

	r = first_row(db, "SELECT l.seq FROM ledger l LEFT JOIN receipts r"
	    " ON r.endpoint = l.endpoint AND r.event_id = l.event_id"
	    " WHERE r.event_id IS NULL OR (r.entry_seq IS NOT NULL AND"
	    " r.entry_seq IS NOT l.seq) OR r.tenant IS NOT l.tenant"
	    " OR r.body_sha256 IS NOT l.body_sha256"
	    " ORDER BY l.seq LIMIT 1", &seq, &found, out);
	if (r != VERIFY_OK)
		return r;
	if (found)
		return bad(out, seq, "its receipt is missing or disagrees "
		    "with it");
	r = first_row(db, "SELECT r.entry_seq FROM receipts r LEFT JOIN"
	    " ledger l ON l.seq = r.entry_seq WHERE r.entry_seq IS NOT NULL"
	    " AND (l.seq IS NULL OR l.endpoint IS NOT r.endpoint"
	    " OR l.event_id IS NOT r.event_id) ORDER BY r.entry_seq LIMIT 1",
	    &seq, &found, out);
	if (r != VERIFY_OK)
		return r;
	if (found)
		return bad(out, seq, "a receipt points at it, but the entry "
		    "there belongs to another event or is gone");
	return VERIFY_OK;
}

/* The names of the objects of one type ("TABLE", "TRIGGER", "VIEW") that
 * schema file sql creates: each at the start of a line, "CREATE TYPE name".
 * Calls fn(cls, name) for each; stops early when fn returns nonzero. */
static int
schema_names(const char *sql, const char *type,
    int (*fn)(void *, const char *), void *cls)
{
	char		 head[32], name[64];
	const char	*p = sql;
	size_t		 n;
	int		 rc;

	snprintf(head, sizeof(head), "CREATE %s ", type);
	while ((p = strstr(p, head)) != NULL) {
		if (p != sql && p[-1] != '\n') {
			p++;
			continue;
		}
		p += strlen(head);
		for (n = 0; n + 1 < sizeof(name) && (p[n] == '_' ||
		    (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9'));
		    n++)
			name[n] = p[n];
		name[n] = '\0';
		if ((rc = fn(cls, name)) != 0)
			return rc;
	}
	return 0;
}

struct schema_probe {
	const char	*want;		/* the name looked for */
	int		 found;
};

static int
probe_name(void *cls, const char *name)
{
	struct schema_probe *pr = cls;

	if (strcmp(name, pr->want) == 0)
		pr->found = 1;
	return pr->found;
}

/* 1 when schema files 1 to version create an object of type named name. */
static int
schema_has(int version, const char *type, const char *name)
{
	struct schema_probe	 pr = { name, 0 };
	int			 v;

	for (v = 1; v <= version && v <= (int)(sizeof(schema_sql) /
	    sizeof(schema_sql[0])); v++)
		if (schema_names(schema_sql[v - 1], type, probe_name, &pr))
			return 1;
	return 0;
}

struct trigger_walk {
	sqlite3_stmt		*st;
	sqlite3			*db;
	struct verify_report	*out;
	enum verify_result	 r;
};

/* One trigger of the schema: present, and exactly as schema/ defines it. */
static int
trigger_present(void *cls, const char *name)
{
	struct trigger_walk	*w = cls;
	const unsigned char	*sql;
	char			 want[1024];
	int			 rc, same;

	if (ledger_trigger_sql(name, want, sizeof(want)) == -1)
		abort();	/* schema_sql.h and ledger.c disagree */
	sqlite3_bind_text(w->st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(w->st);
	sql = rc == SQLITE_ROW ? sqlite3_column_text(w->st, 0) : NULL;
	same = sql != NULL && strcmp((const char *)sql, want) == 0;
	sqlite3_reset(w->st);
	if (rc == SQLITE_DONE)
		w->r = bad(w->out, 0, "the append-only trigger %s is missing: "
		    "the schema was altered", name);
	else if (rc != SQLITE_ROW)
		w->r = io_error(w->out, w->db, "cannot read the schema");
	else if (!same)
		w->r = bad(w->out, 0, "the append-only trigger %s was replaced: "
		    "the schema was altered", name);
	return w->r != VERIFY_OK;
}

/* The schema's objects are exactly those of schema/ up to the file's
 * version: every trigger there, each with its exact definition, and no
 * table, view or trigger that schema/ does not create (an extra trigger
 * could make inserts vanish: RAISE(IGNORE)). SQLite's own tables are
 * allowed; indexes are not checked. */
static enum verify_result
check_schema(sqlite3 *db, struct verify_report *out)
{
	int			 version = (int)scalar(db,
				    "PRAGMA user_version");
	struct trigger_walk	 w;
	sqlite3_stmt		*st;
	const char		*type, *name;
	int			 v, rc, known;

	memset(&w, 0, sizeof(w));
	w.db = db;
	w.out = out;
	if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_schema WHERE"
	    " type = 'trigger' AND name = ?1", -1, &w.st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the schema");
	for (v = 1; v <= version && v <= (int)(sizeof(schema_sql) /
	    sizeof(schema_sql[0])) && w.r == VERIFY_OK; v++)
		schema_names(schema_sql[v - 1], "TRIGGER", trigger_present, &w);
	sqlite3_finalize(w.st);
	if (w.r != VERIFY_OK)
		return w.r;

	if (sqlite3_prepare_v2(db, "SELECT type, name FROM sqlite_schema"
	    " WHERE type IN ('table', 'view', 'trigger') ORDER BY type, name",
	    -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the schema");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		type = (const char *)sqlite3_column_text(st, 0);
		name = text(st, 1);
		if (type == NULL || name == NULL)
			known = 0;
		else if (strcmp(type, "table") == 0)
			known = schema_has(version, "TABLE", name) ||
			    strcmp(name, "sqlite_sequence") == 0 ||
			    strcmp(name, "sqlite_stat1") == 0 ||
			    strcmp(name, "sqlite_stat4") == 0;
		else if (strcmp(type, "trigger") == 0)
			known = schema_has(version, "TRIGGER", name);
		else
			known = schema_has(version, "VIEW", name);
		if (!known) {
			enum verify_result r = bad(out, 0, "the %s %.64s is not "
			    "in the schema: the schema was altered",
			    type != NULL ? type : "object",
			    name != NULL ? name : "(unreadable)");

			sqlite3_finalize(st);
			return r;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return io_error(out, db, "cannot read the schema");
	return VERIFY_OK;
}

/*
 * The books check: every payment's postings are what its facts make them.
 *
 * hookledgerd posts, for each fact it releases, the payment's new target
 * (books_target() over the facts released so far) minus what is already
 * posted. Replaying that, payment by payment, catches a fact altered
 * after its entries were written, even when a later entry was computed
 * from the altered fact: the entries before it no longer follow.
 */

/* One fact as books reads it, with what ties it to its entry. */
struct vb_fact {
	struct books_fact	 b;
	char			 endpoint[ENTRY_TEXT_MAX + 1];
	char			 event_id[ENTRY_TEXT_MAX + 1];
	char			 object_id[ENTRY_TEXT_MAX + 1];
	char			 currency[4];
	int64_t			 arrival;
};

/* One entry of the payment: its event and what its postings add. */
struct vb_entry {
	int64_t		 seq;
	char		 endpoint[ENTRY_TEXT_MAX + 1];
	char		 event_id[ENTRY_TEXT_MAX + 1];
	char		 currency[4];
	int64_t		 delta[BOOKS_NACCOUNTS];
	int		 used;
};

/* One payment: its facts that count (not refused as exceptions) in the
 * order hookledgerd released them, and its entries in seq order. */
struct vb_payment {
	char		 tenant[ENTRY_TEXT_MAX + 1];
	char		 ref[ENTRY_TEXT_MAX + 1];
	struct vb_fact	 f[BOOKS_FACTS_MAX];
	struct books_fact order[BOOKS_FACTS_MAX];
	size_t		 nf;
	struct vb_entry	 e[BOOKS_FACTS_MAX];
	size_t		 ne;
};

/* The events an exception refused (posted = 0): they post nothing, and
 * their facts do not count. Sorted by (endpoint, event_id). */
#define VB_REFUSED_MAX	(1 << 24)

struct vb_refused {
	char	**key;		/* "endpoint\0event_id", malloc'd */
	size_t	  n;
};

static int
vb_refused_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = strcmp(x, y);

	return c != 0 ? c : strcmp(x + strlen(x) + 1, y + strlen(y) + 1);
}

static void
vb_refused_free(struct vb_refused *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->key[i]);
	free(rs->key);
	rs->key = NULL;
	rs->n = 0;
}

static char *
vb_refused_key(const char *ep, const char *id)
{
	size_t	 a = strlen(ep), b = strlen(id);
	char	*k = malloc(a + b + 2);

	if (k != NULL) {
		memcpy(k, ep, a + 1);
		memcpy(k + a + 1, id, b + 1);
	}
	return k;
}

/* Load every refused event, once; VERIFY_ERROR when it cannot. */
static enum verify_result
vb_refused_load(sqlite3 *db, struct vb_refused *rs, struct verify_report *out)
{
	sqlite3_stmt	*st;
	size_t		 cap = 0;
	char		**grown;
	const char	*ep, *id;
	int		 rc;

	memset(rs, 0, sizeof(*rs));
	if (sqlite3_prepare_v2(db, "SELECT endpoint, event_id FROM exceptions"
	    " WHERE posted = 0", -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the exceptions");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ep = text(st, 0);
		id = text(st, 1);
		if (ep == NULL || id == NULL)
			continue;	/* matches no fact's event */
		if (rs->n == VB_REFUSED_MAX)
			break;
		if (rs->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((grown = realloc(rs->key, cap * sizeof(*grown))) ==
			    NULL)
				break;
			rs->key = grown;
		}
		if ((rs->key[rs->n] = vb_refused_key(ep, id)) == NULL)
			break;
		rs->n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		vb_refused_free(rs);
		snprintf(out->problem, sizeof(out->problem), "cannot load the "
		    "refused events (more than %d, or out of memory)",
		    VB_REFUSED_MAX);
		return VERIFY_ERROR;
	}
	if (rs->n > 0)
		qsort(rs->key, rs->n, sizeof(rs->key[0]), vb_refused_cmp);
	return VERIFY_OK;
}

static int
vb_refused_has(const struct vb_refused *rs, const char *ep, const char *id)
{
	size_t	 lo = 0, hi = rs->n, mid;
	int	 c;

	while (lo < hi) {	/* at most log2(VB_REFUSED_MAX) + 1 rounds */
		mid = lo + (hi - lo) / 2;
		c = strcmp(ep, rs->key[mid]);
		if (c == 0)
			c = strcmp(id, rs->key[mid] + strlen(rs->key[mid]) + 1);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int
vb_status(const char *s, enum event_status *out)
{
	static const enum event_status all[] = { EVENT_STATUS_NONE,
	    EVENT_STATUS_PENDING, EVENT_STATUS_SUCCEEDED, EVENT_STATUS_FAILED };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, event_status_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

/* Compare (tenant, ref) keys as SQLite's BINARY collation orders them. */
static int
vb_keycmp(const char *t1, const char *r1, const char *t2, const char *r2)
{
	int c = strcmp(t1, t2);

	return c != 0 ? c : strcmp(r1, r2);
}

/* Read the current row of the facts query into the payment; 1 if the
 * fact counts, 0 if an exception refused its event (rs), -1 if it is
 * malformed. */
static int
vb_fact_read(sqlite3_stmt *st, const struct vb_refused *rs,
    struct vb_payment *pay)
{
	struct vb_fact	*x;
	const char	*ep, *id, *kind, *obj, *cur, *status, *verdict;
	int		 k;

	ep = text(st, 2);
	id = text(st, 3);
	if (ep != NULL && id != NULL && vb_refused_has(rs, ep, id))
		return 0;
	if (pay->nf == BOOKS_FACTS_MAX)
		return -1;
	x = &pay->f[pay->nf];
	kind = text(st, 4);
	obj = text(st, 5);
	cur = text(st, 7);
	status = text(st, 8);
	verdict = text(st, 12);
	if (ep == NULL || id == NULL || kind == NULL || obj == NULL ||
	    cur == NULL || strlen(cur) != 3 || status == NULL ||
	    verdict == NULL || (k = event_kind_parse(kind)) <= 0 ||
	    vb_status(status, &x->b.status) == -1 ||
	    sqlite3_column_type(st, 6) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 10) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 11) != SQLITE_INTEGER)
		return -1;
	snprintf(x->endpoint, sizeof(x->endpoint), "%s", ep);
	snprintf(x->event_id, sizeof(x->event_id), "%s", id);
	snprintf(x->object_id, sizeof(x->object_id), "%s", obj);
	snprintf(x->currency, sizeof(x->currency), "%s", cur);
	x->arrival = sqlite3_column_int64(st, 1);
	x->b.kind = (enum event_kind)k;
	x->b.object_id = x->object_id;
	x->b.amount = sqlite3_column_int64(st, 6);
	x->b.currency = x->currency;
	x->b.cumulative = sqlite3_column_int(st, 9);
	x->b.fee = sqlite3_column_int64(st, 10);
	x->b.occurred_at = sqlite3_column_int64(st, 11);
	x->b.paid = strcmp(verdict, "verified") == 0 ||
	    strcmp(verdict, "unverified") == 0;
	pay->nf++;
	return 1;
}

/* Read the current row of the postings query into the payment's entry
 * seq (a new one when seq differs from the last); -1 if malformed. */
static int
vb_posting_read(sqlite3_stmt *st, struct vb_payment *pay)
{
	struct vb_entry	*e;
	const char	*ep, *id, *cur, *acct;
	int64_t		 seq = sqlite3_column_int64(st, 2);
	size_t		 a;

	if (pay->ne == 0 || pay->e[pay->ne - 1].seq != seq) {
		if (pay->ne == BOOKS_FACTS_MAX)
			return -1;
		e = &pay->e[pay->ne];
		memset(e, 0, sizeof(*e));
		ep = text(st, 3);
		id = text(st, 4);
		cur = text(st, 5);
		if (ep == NULL || id == NULL || cur == NULL || strlen(cur) != 3)
			return -1;
		e->seq = seq;
		snprintf(e->endpoint, sizeof(e->endpoint), "%s", ep);
		snprintf(e->event_id, sizeof(e->event_id), "%s", id);
		snprintf(e->currency, sizeof(e->currency), "%s", cur);
		pay->ne++;
	}
	e = &pay->e[pay->ne - 1];
	if ((acct = text(st, 6)) == NULL)
		return -1;
	for (a = 0; a < BOOKS_NACCOUNTS; a++)
		if (strcmp(acct, entry_accounts[a]) == 0)
			break;
	if (a == BOOKS_NACCOUNTS)
		return -1;
	/* Each bounded by 2^53 - 1 (the chain walk checked), at most 16
	 * per entry and BOOKS_FACTS_MAX entries: no overflow. */
	e->delta[a] += sqlite3_column_int64(st, 7) -
	    sqlite3_column_int64(st, 8);
	return 0;
}

static int
vb_entry_cmp(const void *a, const void *b)
{
	const struct vb_entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The running postings against the target of the facts released so far;
 * seq is the entry last posted (0: none yet). */
static enum verify_result
vb_compare(const struct vb_payment *pay, const struct books_target *t,
    const int64_t posted[BOOKS_NACCOUNTS], const char *currency, int64_t seq,
    struct verify_report *out)
{
	size_t a;

	for (a = 0; a < BOOKS_NACCOUNTS; a++)
		if (t->balance[a] != posted[a])
			return bad(out, seq, "payment %s/%s: %s %s: its facts "
			    "make the balance %" PRId64 ", its postings %"
			    PRId64 " (debit minus credit): a fact or a "
			    "posting was altered", pay->tenant, pay->ref,
			    entry_accounts[a], currency, t->balance[a],
			    posted[a]);
	return VERIFY_OK;
}

/* Replay one payment: release its facts in hookledgerd's order, and
 * check after each that the postings so far equal the target. */
static enum verify_result
vb_replay(struct vb_payment *pay, struct verify_report *out)
{
	struct books_target	 t;
	enum books_result	 br;
	int64_t			 posted[BOOKS_NACCOUNTS];
	int64_t			 last = 0;
	const char		*currency = pay->nf > 0 ? pay->f[0].currency :
				    pay->ne > 0 ? pay->e[0].currency : "?";
	size_t			 i, j, n = 0, cap = pay->nf, no = 0;
	enum verify_result	 r;

	memset(posted, 0, sizeof(posted));
	qsort(pay->e, pay->ne, sizeof(pay->e[0]), vb_entry_cmp);
	/* The release order: a payout, or a fact after the first capture,
	 * is released when it arrives; facts before the first capture wait
	 * for it, and it releases them, oldest first, after itself. Without
	 * a capture or a payout nothing is released: nothing posts. */
	for (i = 0; i < pay->nf && cap == pay->nf; i++)
		if (pay->f[i].b.kind == EVENT_CAPTURE)
			cap = i;
	for (i = 0; i < pay->nf; i++)
		if (pay->f[i].b.kind == EVENT_PAYOUT)
			break;
	n = cap == pay->nf && i == pay->nf ? 0 : pay->nf;
	for (i = 0; i < n; i++) {
		size_t			 k;
		const struct vb_fact	*x;

		/* the i-th fact released: the capture first, then those
		 * parked before it, then the rest as they arrived */
		k = cap == pay->nf || i > cap ? i : i == 0 ? cap : i - 1;
		x = &pay->f[k];
		pay->order[no++] = x->b;
		br = books_target(pay->order, no, &t);
		if (br != BOOKS_OK)
			return bad(out, last, "payment %s/%s: its facts, up to "
			    "the one of event %s, break a rule (%s), yet none "
			    "was refused: a fact was altered or an exception "
			    "deleted", pay->tenant,
			    pay->ref, x->event_id, books_result_code(br));
		for (j = 0; j < pay->ne; j++)
			if (strcmp(pay->e[j].event_id, x->event_id) == 0 &&
			    strcmp(pay->e[j].endpoint, x->endpoint) == 0)
				break;
		if (j < pay->ne) {
			if (pay->e[j].seq < last)
				return bad(out, pay->e[j].seq, "payment %s/%s: "
				    "posted out of the order its facts were "
				    "released in: a fact was altered",
				    pay->tenant, pay->ref);
			if (strcmp(pay->e[j].currency, x->currency) != 0)
				return bad(out, pay->e[j].seq, "payment %s/%s: "
				    "the entry is in %s, its fact in %s: a fact "
				    "was altered", pay->tenant, pay->ref,
				    pay->e[j].currency, x->currency);
			for (k = 0; k < BOOKS_NACCOUNTS; k++)
				posted[k] += pay->e[j].delta[k];
			pay->e[j].used = 1;
			last = pay->e[j].seq;
		}
		if ((r = vb_compare(pay, &t, posted, currency, last, out)) !=
		    VERIFY_OK)
			return r;
	}
	for (j = 0; j < pay->ne; j++)
		if (!pay->e[j].used)
			return bad(out, pay->e[j].seq, "payment %s/%s: no "
			    "released fact of this payment is its event's: a "
			    "fact was altered, deleted or refused afterwards",
			    pay->tenant, pay->ref);
	return VERIFY_OK;
}

/* Every payment's facts against its postings: one pass over the facts
 * in (tenant, payment, arrival) order beside one pass over the postings
 * in (tenant, payment) order, both along an index. */
static enum verify_result
check_books(sqlite3 *db, struct verify_report *out)
{
	sqlite3_stmt		*fs = NULL, *ps = NULL;
	struct vb_payment	*pay = NULL;
	struct vb_refused	 rs;
	enum verify_result	 r = VERIFY_OK;
	int			 frc, prc, c;
	const char		*ft, *fr, *pt, *pr;

	if (scalar(db, "PRAGMA user_version") < 2)
		return VERIFY_OK;	/* no facts before schema 2 */
	if ((r = vb_refused_load(db, &rs, out)) != VERIFY_OK)
		return r;
	if (sqlite3_prepare_v2(db, "SELECT f.tenant, f.arrival, f.endpoint,"
	    " f.event_id, f.kind, f.object_id, f.amount, f.currency, f.status,"
	    " f.cumulative, f.fee, f.occurred_at, f.verdict, f.payment_ref"
	    " FROM facts f ORDER BY f.tenant, f.payment_ref, f.arrival", -1,
	    &fs, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT l.tenant, l.payment_ref, l.seq,"
	    " l.endpoint, l.event_id, l.currency, p.account, p.debit, p.credit"
	    " FROM ledger l JOIN postings p ON p.seq = l.seq"
	    " ORDER BY l.tenant, l.payment_ref, l.kind, l.seq", -1, &ps,
	    NULL) != SQLITE_OK) {
		r = io_error(out, db, "cannot read the facts");
		goto fail;
	}
	if ((pay = malloc(sizeof(*pay))) == NULL) {
		snprintf(out->problem, sizeof(out->problem), "out of memory");
		r = VERIFY_ERROR;
		goto fail;
	}
	frc = sqlite3_step(fs);
	prc = sqlite3_step(ps);
	/* Each round consumes at least one row: bounded by the rows. */
	while (frc == SQLITE_ROW || prc == SQLITE_ROW) {
		ft = frc == SQLITE_ROW ? text(fs, 0) : NULL;
		fr = frc == SQLITE_ROW ? text(fs, 13) : NULL;
		pt = prc == SQLITE_ROW ? text(ps, 0) : NULL;
		pr = prc == SQLITE_ROW ? text(ps, 1) : NULL;
		if ((frc == SQLITE_ROW && (ft == NULL || fr == NULL)) ||
		    (prc == SQLITE_ROW && (pt == NULL || pr == NULL))) {
			r = bad(out, 0, "a fact or an entry names its payment "
			    "in a malformed way");
			goto fail;
		}
		c = ft == NULL ? 1 : pt == NULL ? -1 : vb_keycmp(ft, fr, pt, pr);
		pay->nf = pay->ne = 0;
		snprintf(pay->tenant, sizeof(pay->tenant), "%s", c <= 0 ? ft : pt);
		snprintf(pay->ref, sizeof(pay->ref), "%s", c <= 0 ? fr : pr);
		while (c <= 0 && frc == SQLITE_ROW &&
		    (ft = text(fs, 0)) != NULL && (fr = text(fs, 13)) != NULL &&
		    strcmp(ft, pay->tenant) == 0 && strcmp(fr, pay->ref) == 0) {
			if (vb_fact_read(fs, &rs, pay) == -1) {
				r = bad(out, 0, "payment %s/%s: a fact is "
				    "malformed, or there are more than %d",
				    pay->tenant, pay->ref, BOOKS_FACTS_MAX);
				goto fail;
			}
			frc = sqlite3_step(fs);
		}
		while (c >= 0 && prc == SQLITE_ROW &&
		    (pt = text(ps, 0)) != NULL && (pr = text(ps, 1)) != NULL &&
		    strcmp(pt, pay->tenant) == 0 && strcmp(pr, pay->ref) == 0) {
			if (vb_posting_read(ps, pay) == -1) {
				r = bad(out, sqlite3_column_int64(ps, 2),
				    "payment %s/%s: an entry is malformed, or "
				    "the payment has more than %d", pay->tenant,
				    pay->ref, BOOKS_FACTS_MAX);
				goto fail;
			}
			prc = sqlite3_step(ps);
		}
		if ((r = vb_replay(pay, out)) != VERIFY_OK)
			goto fail;
	}
	if (frc != SQLITE_DONE || prc != SQLITE_DONE)
		r = io_error(out, db, "cannot read the facts and postings");
fail:
	free(pay);
	vb_refused_free(&rs);
	sqlite3_finalize(fs);
	sqlite3_finalize(ps);
	return r;
}

/* Every table of the schema is there: a dropped table is tampering,
 * not a read error. */
static enum verify_result
check_tables(sqlite3 *db, struct verify_report *out)
{
	/* Each table, with the schema version that brought it. Schema 5's
	 * pauses is control state, not ledger data: it is not required. */
	static const struct { const char *name; int since; } names[] = {
	    { "ledger", 1 }, { "receipts", 1 }, { "postings", 2 },
	    { "facts", 2 }, { "exceptions", 2 }, { "expectations", 2 },
	    { "merkle_nodes", 4 } };
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc, version = (int)scalar(db, "PRAGMA user_version");

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE"
	    " type = 'table' AND name = ?1", -1, &st, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot read the schema");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (version < names[i].since)
			continue;
		sqlite3_bind_text(st, 1, names[i].name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE) {
			sqlite3_finalize(st);
			return bad(out, 0, "the table %s is missing: the schema "
			    "was altered", names[i].name);
		}
		if (rc != SQLITE_ROW) {
			sqlite3_finalize(st);
			return io_error(out, db, "cannot read the schema");
		}
	}
	sqlite3_finalize(st);
	return VERIFY_OK;
}

enum verify_result
verify_open_failure(const char *path, struct verify_report *out)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	int		 rc;

	memset(out, 0, sizeof(*out));
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema",
		    -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK :
		    sqlite3_errcode(db);
	sqlite3_finalize(st);
	sqlite3_close(db);
	if ((rc & 0xff) != SQLITE_CORRUPT)
		return VERIFY_ERROR;
	snprintf(out->problem, sizeof(out->problem), "the database file is "
	    "damaged or cut short");
	return VERIFY_TAMPERED;
}

enum verify_result
verify_ledger(struct ledger *lg, struct verify_report *out)
{
	static const struct verify_opts none;

	return verify_ledger_with(lg, &none, out);
}

enum verify_result
verify_ledger_with(struct ledger *lg, const struct verify_opts *o,
    struct verify_report *out)
{
	sqlite3			*db = ledger_db(lg);
	enum verify_result	 r;

	memset(out, 0, sizeof(*out));
	/* One read transaction: a writer appending meanwhile cannot make
	 * the walk see half of its work. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return io_error(out, db, "cannot start a read transaction");
	if ((r = quick_check(db, out)) == VERIFY_OK &&
	    (r = check_tables(db, out)) == VERIFY_OK &&
	    (r = walk_chain(db, o, out)) == VERIFY_OK &&
	    (r = check_receipts(db, out)) == VERIFY_OK &&
	    (r = check_schema(db, out)) == VERIFY_OK)
		r = check_books(db, out);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}
