/*
 * verify.c: the auditor's recomputation of the ledger.
 *
 * The order of checks matters for the report: the chain is walked first,
 * so that an edit, a deleted row or a swap is named by the first entry it
 * breaks, before any coarser check (receipts, triggers) speaks.
 */
#include "verify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	    (r = check_receipts(db, out)) == VERIFY_OK)
		r = check_schema(db, out);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}
