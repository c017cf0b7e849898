/*
 * proof.c: entries as JSON, inclusion and consistency proofs, and the
 * export an auditor verifies without SQLite.
 */
#include "proof.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "currency.h"
#include "entry.h"
#include "merkle.h"

#define EXPORT_LINE_MAX	65536	/* bytes in one exported entry */

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void
hex32(const unsigned char *b, char out[65])
{
	digest_hex(b, 32, out);
}

static int
unhex32(const char *s, unsigned char out[32])
{
	size_t bin_len;

	if (s == NULL || strlen(s) != 64)
		return -1;
	return sodium_hex2bin(out, 32, s, 64, NULL, &bin_len, NULL) == 0 &&
	    bin_len == 32 ? 0 : -1;
}

static json_t *
b64(const unsigned char h[32])
{
	char s[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(s, sizeof(s), h, 32, sodium_base64_VARIANT_ORIGINAL);
	return json_string(s);
}

static int
unb64(const json_t *v, unsigned char out[32])
{
	const char	*s = json_string_value(v);
	size_t		 n;

	if (s == NULL || strlen(s) != 44)
		return -1;
	return sodium_base642bin(out, 32, s, 44, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && n == 32 ? 0 : -1;
}

json_t *
proof_entry_json(struct ledger *lg, int64_t seq, char *err, size_t errlen)
{
	sqlite3		*db = ledger_db(lg);
	sqlite3_stmt	*st = NULL, *pst = NULL;
	json_t		*o = NULL, *ps;
	char		 a[65], b[65], c[65];
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT seq, format, tenant, endpoint,"
	    " event_id, kind, payment_ref, amount, currency, occurred_at,"
	    " recorded_at, body_sha256, prev_hash, hash FROM ledger WHERE"
	    " seq = ?1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT account, debit, credit FROM postings"
	    " WHERE seq = ?1 ORDER BY n", -1, &pst, NULL) != SQLITE_OK)
		goto sql;
	sqlite3_bind_int64(st, 1, seq);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			errf(err, errlen, "there is no entry %" PRId64, seq);
		else
			goto sql;
		goto fail;
	}
	if (sqlite3_column_bytes(st, 11) != 32 ||
	    sqlite3_column_bytes(st, 12) != 32 ||
	    sqlite3_column_bytes(st, 13) != 32) {
		errf(err, errlen, "entry %" PRId64 " is malformed", seq);
		goto fail;
	}
	hex32(sqlite3_column_blob(st, 11), a);
	hex32(sqlite3_column_blob(st, 12), b);
	hex32(sqlite3_column_blob(st, 13), c);
	o = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I,"
	    " s:s, s:s, s:s, s:[]}",
	    "seq", (json_int_t)sqlite3_column_int64(st, 0),
	    "format", sqlite3_column_int(st, 1),
	    "tenant", (const char *)sqlite3_column_text(st, 2),
	    "endpoint", (const char *)sqlite3_column_text(st, 3),
	    "event_id", (const char *)sqlite3_column_text(st, 4),
	    "kind", (const char *)sqlite3_column_text(st, 5),
	    "payment_ref", (const char *)sqlite3_column_text(st, 6),
	    "amount", (json_int_t)sqlite3_column_int64(st, 7),
	    "currency", (const char *)sqlite3_column_text(st, 8),
	    "occurred_at", (json_int_t)sqlite3_column_int64(st, 9),
	    "recorded_at", (json_int_t)sqlite3_column_int64(st, 10),
	    "body_sha256", a, "prev_hash", b, "hash", c, "postings");
	if (o == NULL) {
		errf(err, errlen, "entry %" PRId64 " cannot be encoded", seq);
		goto fail;
	}
	ps = json_object_get(o, "postings");
	sqlite3_bind_int64(pst, 1, seq);
	while ((rc = sqlite3_step(pst)) == SQLITE_ROW)
		json_array_append_new(ps, json_pack("{s:s, s:I, s:I}",
		    "account", (const char *)sqlite3_column_text(pst, 0),
		    "debit", (json_int_t)sqlite3_column_int64(pst, 1),
		    "credit", (json_int_t)sqlite3_column_int64(pst, 2)));
	if (rc != SQLITE_DONE)
		goto sql;
	sqlite3_finalize(st);
	sqlite3_finalize(pst);
	return o;
sql:
	errf(err, errlen, "reading the ledger failed: %s", sqlite3_errmsg(db));
fail:
	json_decref(o);
	sqlite3_finalize(st);
	sqlite3_finalize(pst);
	return NULL;
}

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
integer(const json_t *o, const char *k, int64_t *out)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* Fill e (strings borrowed from o) and its postings into p. */
static int
entry_from_json(const json_t *o, struct entry *e, struct entry_posting *p,
    char *err, size_t errlen)
{
	const json_t	*ps, *x;
	int64_t		 fmt;
	size_t		 i;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o) || integer(o, "seq", &e->seq) == -1 ||
	    integer(o, "format", &fmt) == -1 ||
	    integer(o, "amount", &e->amount) == -1 ||
	    integer(o, "occurred_at", &e->occurred_at) == -1 ||
	    integer(o, "recorded_at", &e->recorded_at) == -1 ||
	    (e->tenant = str(o, "tenant")) == NULL ||
	    (e->endpoint = str(o, "endpoint")) == NULL ||
	    (e->event_id = str(o, "event_id")) == NULL ||
	    (e->kind = str(o, "kind")) == NULL ||
	    (e->payment_ref = str(o, "payment_ref")) == NULL ||
	    (e->currency = str(o, "currency")) == NULL ||
	    unhex32(str(o, "body_sha256"), e->body_sha256) == -1 ||
	    unhex32(str(o, "prev_hash"), e->prev_hash) == -1 ||
	    (fmt != 1 && fmt != 2))
		return errf(err, errlen, "the entry is missing a field or has "
		    "one of the wrong type");
	e->format = (int)fmt;
	ps = json_object_get(o, "postings");
	if (!json_is_array(ps) || json_array_size(ps) > ENTRY_POSTINGS_MAX)
		return errf(err, errlen, "the entry's postings are malformed");
	json_array_foreach(ps, i, x) {
		if ((p[i].account = str(x, "account")) == NULL ||
		    integer(x, "debit", &p[i].debit) == -1 ||
		    integer(x, "credit", &p[i].credit) == -1)
			return errf(err, errlen, "posting %zu is malformed", i);
	}
	e->postings = p;
	e->npostings = json_array_size(ps);
	return 0;
}

int
proof_entry_hash(const json_t *entry, unsigned char hash[32], char *err,
    size_t errlen)
{
	struct entry		 e;
	struct entry_posting	 p[ENTRY_POSTINGS_MAX];

	if (entry_from_json(entry, &e, p, err, errlen) == -1)
		return -1;
	if (entry_hash(&e, hash) == -1)
		return errf(err, errlen, "the entry cannot be encoded");
	return 0;
}

static int
subtree(void *cls, uint64_t start, uint64_t count, unsigned char out[32])
{
	return ledger_merkle_subtree(cls, start, count, out);
}

/* The stored tree's root at size, compared with the checkpoint's. */
static int
stored_root_is(struct ledger *lg, const struct note_checkpoint *cp,
    const char *which, char *err, size_t errlen)
{
	unsigned char root[32];

	if (cp->size == 0)
		return errf(err, errlen, "%s tree is empty", which);
	if (ledger_merkle_subtree(lg, 0, cp->size, root) == -1)
		return errf(err, errlen, "this ledger has no tree of %" PRIu64
		    " entries, as %s has: it was cut short or is an older "
		    "copy", cp->size, which);
	if (memcmp(root, cp->root, 32) != 0)
		return errf(err, errlen, "this ledger's tree of %" PRIu64
		    " entries does not have %s root: one of them is of a "
		    "fork or a rewrite", cp->size, which);
	return 0;
}

json_t *
proof_inclusion(struct ledger *lg, int64_t seq, const struct note_checkpoint *cp,
    const char *cp_text, char *err, size_t errlen)
{
	unsigned char	 path[MERKLE_MAX_DEPTH][MERKLE_HASH_LEN], h[32];
	unsigned char	 leaf[32];
	char		 hex[65];
	json_t		*entry, *o, *arr;
	size_t		 n, i;

	if (seq < 1 || (uint64_t)seq > cp->size) {
		errf(err, errlen, "entry %" PRId64 " is not in the checkpoint's "
		    "tree of %" PRIu64 " entries", seq, cp->size);
		return NULL;
	}
	if (stored_root_is(lg, cp, "the checkpoint's", err, errlen) == -1)
		return NULL;
	if ((entry = proof_entry_json(lg, seq, err, errlen)) == NULL)
		return NULL;
	if (proof_entry_hash(entry, h, err, errlen) == -1 ||
	    merkle_inclusion_proof((uint64_t)seq - 1, cp->size, subtree, lg,
	    path, &n) == -1) {
		if (*err == '\0')
			errf(err, errlen, "cannot build the proof");
		json_decref(entry);
		return NULL;
	}
	/* The stored tree is a cache that verify checks only along its
	 * right edge: never hand out a proof that does not check. */
	if (merkle_leaf(h, 32, leaf) == -1 ||
	    !merkle_inclusion_verify((uint64_t)seq - 1, cp->size, leaf, path, n,
	    cp->root)) {
		errf(err, errlen, "TAMPERED: the stored Merkle tree is damaged: "
		    "the audit path of entry %" PRId64 " does not lead to the "
		    "checkpoint's root; no proof printed", seq);
		json_decref(entry);
		return NULL;
	}
	hex32(h, hex);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, b64(path[i]));
	o = json_pack("{s:o, s:s, s:I, s:I, s:o, s:s}", "entry", entry,
	    "entry_hash", hex, "leaf_index", (json_int_t)(seq - 1),
	    "tree_size", (json_int_t)cp->size, "proof", arr,
	    "checkpoint", cp_text);
	return o;
}

static int
path_from(const json_t *arr, unsigned char p[][MERKLE_HASH_LEN], size_t *n)
{
	const json_t	*x;
	size_t		 i;

	if (!json_is_array(arr) || json_array_size(arr) > MERKLE_MAX_DEPTH)
		return -1;
	json_array_foreach(arr, i, x)
		if (unb64(x, p[i]) == -1)
			return -1;
	*n = json_array_size(arr);
	return 0;
}

int
proof_check_inclusion(const json_t *proof, const struct note_verifier *v,
    char *err, size_t errlen)
{
	struct note_checkpoint	 cp;
	unsigned char		 path[MERKLE_MAX_DEPTH][MERKLE_HASH_LEN];
	unsigned char		 h[32], claimed[32], leaf[32];
	const char		*text = str(proof, "checkpoint");
	int64_t			 index, size;
	size_t			 n;

	if (text == NULL || integer(proof, "leaf_index", &index) == -1 ||
	    integer(proof, "tree_size", &size) == -1 || index < 0 || size < 1 ||
	    unhex32(str(proof, "entry_hash"), claimed) == -1 ||
	    path_from(json_object_get(proof, "proof"), path, &n) == -1)
		return errf(err, errlen, "not an inclusion proof: a field is "
		    "missing or malformed");
	if (note_open_checkpoint(text, strlen(text), v, &cp, err, errlen) == -1)
		return -1;
	if (cp.size != (uint64_t)size)
		return errf(err, errlen, "the proof is for a tree of %" PRId64
		    " entries, the checkpoint's has %" PRIu64, size, cp.size);
	if (proof_entry_hash(json_object_get(proof, "entry"), h, err, errlen) ==
	    -1)
		return -1;
	if (memcmp(h, claimed, 32) != 0)
		return errf(err, errlen, "the entry's fields do not hash to "
		    "entry_hash: the entry was changed");
	if (integer(json_object_get(proof, "entry"), "seq", &size) == -1 ||
	    size != index + 1)
		return errf(err, errlen, "the entry's seq is not leaf_index + 1");
	if (merkle_leaf(h, 32, leaf) == -1 ||
	    !merkle_inclusion_verify((uint64_t)index, cp.size, leaf, path, n,
	    cp.root))
		return errf(err, errlen, "the audit path does not lead to the "
		    "checkpoint's root");
	return 0;
}

json_t *
proof_consistency(struct ledger *lg, const struct note_checkpoint *old,
    const struct note_checkpoint *new, char *err, size_t errlen)
{
	unsigned char	 p[MERKLE_MAX_DEPTH][MERKLE_HASH_LEN];
	json_t		*arr;
	size_t		 n, i;

	if (old->size > new->size) {
		errf(err, errlen, "the old checkpoint (%" PRIu64 " entries) is "
		    "larger than the new (%" PRIu64 ")", old->size, new->size);
		return NULL;
	}
	if (stored_root_is(lg, old, "the old checkpoint's", err, errlen) ==
	    -1 || stored_root_is(lg, new, "the new checkpoint's", err,
	    errlen) == -1)
		return NULL;
	if (merkle_consistency_proof(old->size, new->size, subtree, lg, p, &n) ==
	    -1) {
		errf(err, errlen, "cannot build the proof");
		return NULL;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, b64(p[i]));
	return json_pack("{s:I, s:I, s:o, s:o, s:o}", "old_size",
	    (json_int_t)old->size, "new_size", (json_int_t)new->size,
	    "old_root", b64(old->root), "new_root", b64(new->root),
	    "proof", arr);
}

int
proof_check_consistency(const json_t *proof, const struct note_checkpoint *old,
    const struct note_checkpoint *new, char *err, size_t errlen)
{
	unsigned char	 p[MERKLE_MAX_DEPTH][MERKLE_HASH_LEN];
	int64_t		 os, ns;
	size_t		 n;

	if (integer(proof, "old_size", &os) == -1 ||
	    integer(proof, "new_size", &ns) == -1 ||
	    path_from(json_object_get(proof, "proof"), p, &n) == -1)
		return errf(err, errlen, "not a consistency proof");
	if ((uint64_t)os != old->size || (uint64_t)ns != new->size)
		return errf(err, errlen, "the proof is for other tree sizes");
	if (old->size == new->size)
		return memcmp(old->root, new->root, 32) == 0 && n == 0 ? 0 :
		    errf(err, errlen, "two checkpoints of %" PRIu64 " entries "
		    "with different roots: the ledger forked", old->size);
	if (!merkle_consistency_verify(old->size, new->size, old->root,
	    new->root, p, n))
		return errf(err, errlen, "the new checkpoint does not extend "
		    "the old one");
	return 0;
}

int
proof_export(struct ledger *lg, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	unsigned char	 h[32], leaf[32];
	char		 hex[65], *line;
	json_t		*e;
	int		 rc;

	if (sqlite3_prepare_v2(ledger_db(lg), "SELECT seq FROM ledger ORDER BY"
	    " seq", -1, &st, NULL) != SQLITE_OK)
		return errf(err, errlen, "reading the ledger failed: %s",
		    sqlite3_errmsg(ledger_db(lg)));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((e = proof_entry_json(lg, sqlite3_column_int64(st, 0), err,
		    errlen)) == NULL)
			break;
		if (unhex32(str(e, "hash"), h) == -1 ||
		    merkle_leaf(h, 32, leaf) == -1) {
			json_decref(e);
			errf(err, errlen, "an entry's hash is malformed");
			break;
		}
		hex32(h, hex);
		json_object_set_new(e, "entry_hash", json_string(hex));
		json_object_del(e, "hash");
		hex32(leaf, hex);
		json_object_set_new(e, "leaf_hash", json_string(hex));
		line = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER |
		    JSON_ENSURE_ASCII);
		json_decref(e);
		if (line == NULL || fprintf(out, "%s\n", line) < 0) {
			free(line);
			errf(err, errlen, "cannot write the export");
			break;
		}
		free(line);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return fflush(out) == 0 ? 0 : errf(err, errlen, "cannot write the "
	    "export");
}

/* A fault on line lineno of an export; seq is the entry it should hold. */
static enum verify_result
bad(struct verify_report *out, int64_t lineno, int64_t seq,
    const char *fmt, ...)
{
	char	 msg[VERIFY_PROBLEM_MAX - 64];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out->bad_seq = seq;
	if (lineno > 0)
		snprintf(out->problem, sizeof(out->problem), "line %" PRId64
		    ": %s", lineno, msg);
	else
		snprintf(out->problem, sizeof(out->problem), "%s", msg);
	return VERIFY_TAMPERED;
}

/*
 * The checks verify makes of a row, made of an exported entry: an export
 * rewritten whole hashes consistently, so only these and the checkpoints
 * stand between it and a forged ledger. Bounding every posting also keeps
 * the sums below from overflowing. NULL, or the fault.
 */
static const char *
entry_fault(const struct entry *e)
{
	int64_t	 debits = 0, credits = 0;
	size_t	 i;

	if (event_kind_parse(e->kind) <= 0)
		return "its kind is unknown";
	if (e->amount <= 0 || e->amount > CURRENCY_MAX_AMOUNT)
		return "its amount is not a positive integer within limits";
	if (currency_lookup(e->currency, strlen(e->currency)) == NULL)
		return "its currency is unknown";
	if (e->format == 1 && e->npostings > 0)
		return "a format-1 entry has postings";
	if (e->format == 2 && e->npostings == 0)
		return "its postings are missing";
	for (i = 0; i < e->npostings; i++) {
		const struct entry_posting *q = &e->postings[i];

		if (!entry_account_valid(q->account) || q->debit < 0 ||
		    q->credit < 0 || (q->debit == 0) == (q->credit == 0) ||
		    q->debit > CURRENCY_MAX_AMOUNT ||
		    q->credit > CURRENCY_MAX_AMOUNT)
			return "a posting is malformed";
		debits += q->debit;
		credits += q->credit;
	}
	if (debits != credits || (e->format == 2 && debits != e->amount))
		return "its postings do not balance";
	return NULL;
}

enum verify_result
proof_verify_export(FILE *in, const struct verify_opts *o,
    struct verify_report *out)
{
	struct merkle_frontier	 fr;
	struct entry		 e;
	struct entry_posting	 p[ENTRY_POSTINGS_MAX];
	unsigned char		 prev[32], h[32], claimed[32], leaf[32];
	unsigned char		 claimed_leaf[32], root[32];
	const char		*fault;
	char			*line, err[200];
	json_t			*j;
	json_error_t		 je;
	int64_t			 lineno, want;
	size_t			 c, len;
	enum verify_result	 r = VERIFY_OK;

	memset(out, 0, sizeof(*out));
	memset(prev, 0, sizeof(prev));
	merkle_frontier_init(&fr);
	if ((line = malloc(EXPORT_LINE_MAX + 2)) == NULL) {
		snprintf(out->problem, sizeof(out->problem), "out of memory");
		return VERIFY_ERROR;
	}
	while (fgets(line, EXPORT_LINE_MAX + 2, in) != NULL) {
		/* One entry per line, in order: line N holds entry N. */
		lineno = want = out->entries + 1;
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			r = bad(out, lineno, want, "longer than %d bytes, cut "
			    "short, or has a NUL byte", EXPORT_LINE_MAX);
			goto done;
		}
		if ((j = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES,
		    &je)) == NULL) {
			r = bad(out, lineno, want, "not JSON (column %d)",
			    je.column);
			goto done;
		}
		if (entry_from_json(j, &e, p, err, sizeof(err)) == -1) {
			json_decref(j);
			r = bad(out, lineno, want, "not an exported entry: %s",
			    err);
			goto done;
		}
		if (e.seq != want)
			r = bad(out, lineno, want, "holds entry %" PRId64 ", "
			    "expected entry %" PRId64 " (lines deleted, added "
			    "or reordered)", e.seq, want);
		else if (memcmp(e.prev_hash, prev, 32) != 0)
			r = bad(out, lineno, want, "entry %" PRId64 ": "
			    "prev_hash is not the entry_hash of line %" PRId64
			    " (entries deleted, reordered or replaced)", e.seq,
			    lineno - 1);
		else if (entry_hash(&e, h) == -1 ||
		    unhex32(str(j, "entry_hash"), claimed) == -1 ||
		    memcmp(h, claimed, 32) != 0)
			r = bad(out, lineno, want, "entry %" PRId64 ": hash "
			    "mismatch: its fields were changed", e.seq);
		else if (merkle_leaf(h, 32, leaf) == -1 ||
		    unhex32(str(j, "leaf_hash"), claimed_leaf) == -1 ||
		    memcmp(leaf, claimed_leaf, 32) != 0)
			r = bad(out, lineno, want, "entry %" PRId64 ": "
			    "leaf_hash is not the leaf of its entry hash",
			    e.seq);
		else if ((fault = entry_fault(&e)) != NULL)
			r = bad(out, lineno, want, "entry %" PRId64 ": %s",
			    e.seq, fault);
		json_decref(j);
		if (r != VERIFY_OK)
			goto done;
		memcpy(prev, h, 32);
		out->entries++;
		out->head_seq = e.seq;
		if (merkle_frontier_append(&fr, leaf) == -1) {
			r = bad(out, lineno, want, "cannot hash the tree");
			goto done;
		}
		for (c = 0; c < o->ncheckpoints; c++)
			if (o->checkpoints[c].size == fr.size &&
			    (merkle_frontier_root(&fr, root) == -1 ||
			    memcmp(root, o->checkpoints[c].root, 32) != 0)) {
				r = bad(out, lineno, want, "the export does not "
				    "extend checkpoint %s: its first %" PRIu64
				    " entries have another root (a fork or a "
				    "rewrite)", o->checkpoints[c].label,
				    o->checkpoints[c].size);
				goto done;
			}
	}
	if (ferror(in)) {
		snprintf(out->problem, sizeof(out->problem), "cannot read the "
		    "export");
		r = VERIFY_ERROR;
		goto done;
	}
	for (c = 0; c < o->ncheckpoints; c++)
		if (o->checkpoints[c].size > fr.size) {
			r = bad(out, 0, 0, "checkpoint %s has %" PRIu64 " entries "
			    "but the export has %" PRIu64 ": entries were cut "
			    "off its end or it is of an older copy",
			    o->checkpoints[c].label, o->checkpoints[c].size,
			    fr.size);
			goto done;
		}
	memcpy(out->head_hash, prev, 32);
	if (merkle_frontier_root(&fr, out->root) == -1)
		r = bad(out, 0, 0, "cannot hash the tree");
done:
	free(line);
	return r;
}
