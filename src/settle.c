/*
 * settle.c: a provider's settlement report against the ledger.
 *
 * The file is read and checked whole before the ledger is consulted, so
 * that a malformed report gives an error and never half an answer. Every
 * record is bounded (SETTLE_MAX_LINE bytes, SETTLE_MAX_FIELDS fields,
 * SETTLE_MAX_LINES records) as it is read, before anything is kept.
 * Identifiers are held to the ledger's alphabet, so whatever reaches the
 * JSON object, and the reports rendered from it, is plain ASCII.
 *
 * Lines are matched against facts, not ledger entries: a fact is what a
 * provider said about one object (a refund, a dispute, a payout), where an
 * entry is only the difference it made. The other direction, movements
 * the file does not show, starts from the entries of the window.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "event.h"
#include "settle.h"

#define LAST_SECOND	INT64_C(253402300799)	/* 9999-12-31 23:59:59 */
#define CATEGORY_MAX	64		/* bytes in a reporting_category */
#define FEE_SUMS	256		/* more than the currency table holds */

/* The columns used; any other column is ignored. */
enum col {
	C_TXN, C_CREATED, C_CURRENCY, C_GROSS, C_FEE, C_NET, C_CATEGORY,
	C_SOURCE, C_PI, C_CHARGE, C_PAYOUT, NCOLS
};

static const struct {
	const char	*name;
	int		 required;
} cols[NCOLS] = {
	[C_TXN] = { "balance_transaction_id", 1 },
	[C_CREATED] = { "created_utc", 1 },
	[C_CURRENCY] = { "currency", 1 },
	[C_GROSS] = { "gross", 1 },
	[C_FEE] = { "fee", 1 },
	[C_NET] = { "net", 1 },
	[C_CATEGORY] = { "reporting_category", 1 },
	[C_SOURCE] = { "source_id", 1 },
	[C_PI] = { "payment_intent_id", 0 },
	[C_CHARGE] = { "charge_id", 0 },
	[C_PAYOUT] = { "automatic_payout_id", 0 },
};

/* What a line is matched against. */
enum cat {
	CAT_IGNORED, CAT_CHARGE, CAT_REFUND, CAT_DISPUTE, CAT_DISPUTE_REVERSAL,
	CAT_PAYOUT, CAT_PAYOUT_FAILURE
};

static const struct {
	const char	*name;
	enum cat	 cat;
} cats[] = {
	{ "charge", CAT_CHARGE },
	{ "payment", CAT_CHARGE },
	{ "refund", CAT_REFUND },
	{ "dispute", CAT_DISPUTE },
	{ "dispute_reversal", CAT_DISPUTE_REVERSAL },
	{ "payout", CAT_PAYOUT },
	{ "payout_reversal", CAT_PAYOUT_FAILURE },
	{ "payout_failure", CAT_PAYOUT_FAILURE },
};

#define NCATS (sizeof(cats) / sizeof(cats[0]))

/* One record of the file, checked. The strings live in mem. */
struct line {
	int64_t			 lineno;	/* where the record starts */
	enum cat		 cat;
	const char		*txn;
	const char		*category;
	const char		*source;	/* "" for some ignored lines */
	const char		*pi;		/* "" when absent */
	const char		*charge;	/* "" when absent */
	const char		*payout;	/* "" when absent */
	const char		*payment;	/* pi, else charge, else source */
	const struct currency	*cur;
	int64_t			 gross, fee, net;
	char			*mem;
};

enum cstate { CS_START, CS_UNQUOTED, CS_QUOTED, CS_QUOTE };

/* The CSV reader: one RFC 4180 record at a time into buf, each field
 * NUL-terminated at off[i]. Field text is never longer than the raw
 * bytes it came from, and each separator becomes one NUL, so a record of
 * SETTLE_MAX_LINE bytes always fits. */
struct csv {
	FILE		*f;
	int64_t		 line;		/* the line the next record starts on */
	int64_t		 start;		/* the line this record started on */
	size_t		 raw;		/* bytes of this record */
	size_t		 len;
	size_t		 nfields;
	size_t		 off[SETTLE_MAX_FIELDS];
	char		 buf[SETTLE_MAX_LINE + 1];
};

struct fee_sum {
	const struct currency	*cur;
	int64_t			 amount;
	int64_t			 lines;
};

/* A string the file holds, for the other direction of the match. */
enum set { SET_CHARGE, SET_REFUND, SET_REFUND_PAYMENT, SET_DISPUTE,
	SET_PAYOUT };

struct key {
	enum set	 set;
	const char	*s;
};

struct settle {
	sqlite3		*db;
	const char	*path;
	const char	*tenant;
	char		*err;
	size_t		 errlen;
	sqlite3_stmt	*by_ref;
	sqlite3_stmt	*by_object;
	struct line	*lines;
	size_t		 nlines;
	size_t		 cap;
	struct key	*keys;
	size_t		 nkeys;
	struct fee_sum	 fees[FEE_SUMS];
	size_t		 nfees;
	int		 clean;
	json_t		*o;
	json_t		*from_ledger;
	json_t		*from_settlement;
	json_t		*mismatches;
	json_t		*fee_diffs;
	json_t		*fees_json;
	json_t		*payouts;
	json_t		*ignored;
};

/* A fact looked for: the first one, oldest first, that did not end in an
 * exception that posted nothing. */
struct want {
	const char	*ref1, *ref2;	/* payment refs, or NULL */
	const char	*object;	/* object id, or NULL for any */
	const char	*kind;		/* a kind, or "dispute_" for any */
	const char	*prefer;	/* the kind tried first */
	const char	*status;	/* or NULL for any */
	int		 cumulative;
};

struct found {
	int		 rank;		/* 0 preferred kind, 1 other, 2 none */
	int64_t		 arrival;
	int64_t		 amount;
	int64_t		 fee;
	char		 currency[4];
};

#define FACT_SELECT	"SELECT f.arrival, f.kind, f.amount, f.currency, f.fee" \
	" FROM facts f WHERE f.tenant = ?1"
#define FACT_FILTER	" AND (?4 IS NULL OR f.object_id = ?4)" \
	" AND substr(f.kind, 1, length(?5)) = ?5" \
	" AND (?6 IS NULL OR f.status = ?6) AND f.cumulative = ?7" \
	" AND NOT EXISTS (SELECT 1 FROM exceptions x" \
	" WHERE x.endpoint = f.endpoint AND x.event_id = f.event_id" \
	" AND x.posted = 0)"

/* By payment reference, which the index (tenant, payment_ref) serves;
 * by object id alone, a scan, only for a line that names no payment.
 * Neither sorts nor has an IN list: either costs SQLite a temporary
 * b-tree on every run, and the few facts of one payment are easier ranked
 * by find_with(). The
 * kind is matched as a prefix (no kind is a prefix of another), not with
 * GLOB or LIKE, whose bound pattern would have SQLite prepare the
 * statement again whenever the pattern changes. */
static const char sql_by_ref[] = FACT_SELECT
    " AND f.payment_ref = ?2" FACT_FILTER;
static const char sql_by_object[] = FACT_SELECT
    " AND f.object_id = ?4" FACT_FILTER;

static const char sql_window[] = "SELECT l.seq, l.event_id, l.kind,"
    " l.payment_ref, l.currency, l.amount, coalesce(f.object_id, ''),"
    " coalesce(f.cumulative, 0) FROM ledger l LEFT JOIN facts f"
    " ON f.endpoint = l.endpoint AND f.event_id = l.event_id"
    " WHERE l.tenant = ?1 AND l.occurred_at >= ?2 AND l.occurred_at < ?3"
    " ORDER BY l.seq";

static int
fail(struct settle *s, int64_t line, const char *fmt, ...)
{
	char	 what[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(s->err, s->errlen, "%s:%" PRId64 ": %s", s->path,
		    line, what);
	else
		snprintf(s->err, s->errlen, "%s: %s", s->path, what);
	return -1;
}

static int
db_fail(struct settle *s)
{
	return fail(s, 0, "ledger query failed: %s", sqlite3_errmsg(s->db));
}

int
settle_parse_amount(const char *s, int exponent, int64_t *out)
{
	int64_t	 v = 0;
	int	 neg = 0, digits = 0, frac = 0, point = 0;

	if (s == NULL || exponent < 0 || exponent > 15)
		return -1;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (point || digits == 0)
				return -1;
			point = 1;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		if (point && frac == exponent) {
			/* Beyond the minor unit only zeros say nothing. */
			if (*s != '0')
				return -1;
			continue;
		}
		if (v > (CURRENCY_MAX_AMOUNT - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
		if (point)
			frac++;
		else
			digits++;
	}
	if (digits == 0 || (point && s[-1] == '.'))
		return -1;
	for (; frac < exponent; frac++) {
		if (v > CURRENCY_MAX_AMOUNT / 10)
			return -1;
		v *= 10;
	}
	*out = neg ? -v : v;
	return 0;
}

/* Read one record. 1: a record; 0: end of file; -1: error in s->err. */
static int
csv_record(struct settle *s, struct csv *c)
{
	enum cstate	 st = CS_START;
	int		 ch;

	c->start = c->line;
	c->raw = c->len = 0;
	c->nfields = 1;
	c->off[0] = 0;
	for (;;) {
		ch = getc(c->f);
		if (ch == EOF) {
			if (ferror(c->f))
				return fail(s, c->start, "read error: %s",
				    strerror(errno));
			if (st == CS_QUOTED)
				return fail(s, c->start,
				    "unterminated quoted field");
			if (c->raw == 0)
				return 0;
			break;
		}
		if (ch == '\r' && st != CS_QUOTED) {
			if (getc(c->f) != '\n')
				return fail(s, c->start,
				    "carriage return without line feed");
			ch = '\n';
		}
		if (ch == '\n' && st != CS_QUOTED) {
			c->line++;
			break;
		}
		if (++c->raw > SETTLE_MAX_LINE)
			return fail(s, c->start, "record longer than %d bytes",
			    SETTLE_MAX_LINE);
		if (ch == '\0')
			return fail(s, c->start, "NUL byte");
		if (ch == ',' && st != CS_QUOTED) {
			if (c->nfields == SETTLE_MAX_FIELDS)
				return fail(s, c->start, "more than %d fields",
				    SETTLE_MAX_FIELDS);
			c->buf[c->len++] = '\0';
			c->off[c->nfields++] = c->len;
			st = CS_START;
			continue;
		}
		switch (st) {
		case CS_START:
			if (ch == '"') {
				st = CS_QUOTED;
				continue;
			}
			st = CS_UNQUOTED;
			break;
		case CS_UNQUOTED:
			if (ch == '"')
				return fail(s, c->start,
				    "quote inside an unquoted field");
			break;
		case CS_QUOTED:
			if (ch == '"') {
				st = CS_QUOTE;
				continue;
			}
			if (ch == '\n')
				c->line++;
			break;
		case CS_QUOTE:
			if (ch != '"')
				return fail(s, c->start,
				    "text after a closing quote");
			st = CS_QUOTED;
			break;
		}
		c->buf[c->len++] = (char)ch;
	}
	c->buf[c->len] = '\0';
	return 1;
}

static const char *
field(const struct csv *c, const int idx[NCOLS], enum col k)
{
	return idx[k] < 0 ? "" : c->buf + c->off[idx[k]];
}

/* The value of n decimal digits at t. */
static int
decimal(const char *t, size_t n)
{
	int	 v = 0;

	while (n-- > 0)
		v = v * 10 + (*t++ - '0');
	return v;
}

/* "YYYY-MM-DD HH:MM:SS" in UTC, or Unix seconds. */
static int
created_valid(const char *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	int64_t	 v = 0;
	int	 y, mo, d;
	size_t	 i, n = strlen(t);

	if (n >= 1 && n <= 12 && strspn(t, "0123456789") == n) {
		for (i = 0; i < n; i++)
			v = v * 10 + (t[i] - '0');
		return v <= LAST_SECOND;
	}
	if (n != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? t[i] < '0' || t[i] > '9' :
		    t[i] != shape[i])
			return 0;
	y = decimal(t, 4);
	mo = decimal(t + 5, 2);
	d = decimal(t + 8, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    decimal(t + 11, 2) > 23 || decimal(t + 14, 2) > 59 ||
	    decimal(t + 17, 2) > 59)
		return 0;
	return mo != 2 || d != 29 || (y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0));
}

static int
category_valid(const char *t)
{
	size_t	 n = strlen(t);

	return n >= 1 && n <= CATEGORY_MAX &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* An identifier, or "" where empty is allowed. */
static int
id_ok(const char *t, int may_be_empty)
{
	return (*t == '\0' && may_be_empty) || event_id_valid(t, strlen(t));
}

static int
header(struct settle *s, struct csv *c, int idx[NCOLS])
{
	size_t	 i;
	int	 k, rc;

	for (k = 0; k < NCOLS; k++)
		idx[k] = -1;
	if ((rc = csv_record(s, c)) <= 0)
		return rc == 0 ? fail(s, 1, "no header row") : -1;
	for (i = 0; i < c->nfields; i++)
		for (k = 0; k < NCOLS; k++) {
			if (strcmp(c->buf + c->off[i], cols[k].name) != 0)
				continue;
			if (idx[k] >= 0)
				return fail(s, 1, "column %s appears twice",
				    cols[k].name);
			idx[k] = (int)i;
		}
	for (k = 0; k < NCOLS; k++)
		if (cols[k].required && idx[k] < 0)
			return fail(s, 1, "no column %s", cols[k].name);
	return 0;
}

/* Check the record in c and keep it as the next line. */
static int
line_add(struct settle *s, const struct csv *c, const int idx[NCOLS],
    size_t nhdr)
{
	static const enum col ids[] = { C_TXN, C_CATEGORY, C_SOURCE, C_PI,
	    C_CHARGE, C_PAYOUT };
	static const enum col amounts[] = { C_GROSS, C_FEE, C_NET };
	const char	*v[sizeof(ids) / sizeof(ids[0])];
	struct line	*l, *grown;
	int64_t		*dst[3];
	const char	*cur;
	size_t		 i, n, total = 0;
	char		*p;

	if (c->nfields != nhdr)
		return fail(s, c->start, "%zu fields, the header has %zu",
		    c->nfields, nhdr);
	if (s->nlines == SETTLE_MAX_LINES)
		return fail(s, c->start, "more than %d records",
		    SETTLE_MAX_LINES);
	if (s->nlines == s->cap) {
		n = s->cap == 0 ? 256 : s->cap * 2;
		if (n > SETTLE_MAX_LINES)
			n = SETTLE_MAX_LINES;
		if ((grown = reallocarray(s->lines, n, sizeof(*grown))) ==
		    NULL)
			return fail(s, c->start, "out of memory");
		s->lines = grown;
		s->cap = n;
	}
	l = &s->lines[s->nlines];
	memset(l, 0, sizeof(*l));
	l->lineno = c->start;

	if (!id_ok(field(c, idx, C_TXN), 0))
		return fail(s, c->start, "%s is not an identifier",
		    cols[C_TXN].name);
	for (i = C_SOURCE; i <= C_PAYOUT; i++)
		if (!id_ok(field(c, idx, (enum col)i), 1))
			return fail(s, c->start, "%s is not an identifier",
			    cols[i].name);
	if (!category_valid(field(c, idx, C_CATEGORY)))
		return fail(s, c->start, "reporting_category is not a "
		    "category");
	if (!created_valid(field(c, idx, C_CREATED)))
		return fail(s, c->start, "created_utc is not a time");
	cur = field(c, idx, C_CURRENCY);
	if ((l->cur = currency_lookup(cur, strlen(cur))) == NULL)
		return fail(s, c->start, "unknown currency");
	dst[0] = &l->gross;
	dst[1] = &l->fee;
	dst[2] = &l->net;
	for (i = 0; i < 3; i++)
		if (settle_parse_amount(field(c, idx, amounts[i]),
		    l->cur->exponent, dst[i]) == -1)
			return fail(s, c->start, "%s is not an amount in %s",
			    cols[amounts[i]].name, l->cur->code);
	l->cat = CAT_IGNORED;
	for (i = 0; i < NCATS; i++)
		if (strcmp(field(c, idx, C_CATEGORY), cats[i].name) == 0)
			l->cat = cats[i].cat;
	if (l->cat != CAT_IGNORED && *field(c, idx, C_SOURCE) == '\0')
		return fail(s, c->start, "source_id is empty");

	/* Each string is at most EVENT_ID_MAX or CATEGORY_MAX bytes. */
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		v[i] = field(c, idx, ids[i]);
		total += strlen(v[i]) + 1;
	}
	if ((l->mem = malloc(total)) == NULL)
		return fail(s, c->start, "out of memory");
	p = l->mem;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		n = strlen(v[i]) + 1;
		memcpy(p, v[i], n);
		v[i] = p;
		p += n;
	}
	l->txn = v[0];
	l->category = v[1];
	l->source = v[2];
	l->pi = v[3];
	l->charge = v[4];
	l->payout = v[5];
	l->payment = *l->pi != '\0' ? l->pi : *l->charge != '\0' ?
	    l->charge : l->source;
	s->nlines++;
	return 0;
}

static int
read_file(struct settle *s)
{
	struct csv	*c;
	int		 idx[NCOLS], ch, rc = -1;
	size_t		 nhdr;

	if ((c = malloc(sizeof(*c))) == NULL)
		return fail(s, 0, "out of memory");
	memset(c, 0, offsetof(struct csv, off));
	c->line = 1;
	if ((c->f = fopen(s->path, "re")) == NULL) {
		fail(s, 0, "%s", strerror(errno));
		goto done;
	}
	/* A byte order mark, as spreadsheets write, says nothing. */
	if ((ch = getc(c->f)) == 0xef) {
		/* Two reads, not one expression twice. */
		/* NOLINTNEXTLINE(misc-redundant-expression) */
		if (getc(c->f) != 0xbb || getc(c->f) != 0xbf) {
			fail(s, 1, "malformed byte order mark");
			goto done;
		}
	} else if (ch != EOF && ungetc(ch, c->f) == EOF) {
		fail(s, 1, "read error");
		goto done;
	}
	if (header(s, c, idx) == -1)
		goto done;
	nhdr = c->nfields;
	while ((rc = csv_record(s, c)) == 1) {
		/* Blank lines, such as a final one, are no record. */
		if (c->raw == 0)
			continue;
		if (line_add(s, c, idx, nhdr) == -1) {
			rc = -1;
			break;
		}
	}
done:
	if (c->f != NULL)
		fclose(c->f);
	free(c);
	return rc == 0 ? 0 : -1;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Rank the facts st finds (for payment ref, if st takes one) into f: the
 * fact of the preferred kind that arrived first, else the first of any
 * kind. */
static int
find_with(struct settle *s, sqlite3_stmt *st, const struct want *w,
    const char *ref, struct found *f)
{
	const unsigned char	*cur, *kind;
	int64_t			 arrival;
	int			 rc, rank;

	sqlite3_bind_text(st, 1, s->tenant, -1, SQLITE_STATIC);
	if (ref != NULL)
		sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	bind_text(st, 4, w->object);
	bind_text(st, 5, w->kind);
	bind_text(st, 6, w->status);
	sqlite3_bind_int(st, 7, w->cumulative);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arrival = sqlite3_column_int64(st, 0);
		kind = sqlite3_column_text(st, 1);
		rank = kind != NULL && strcmp((const char *)kind, w->prefer) ==
		    0 ? 0 : 1;
		if (rank > f->rank || (rank == f->rank && arrival > f->arrival))
			continue;
		f->rank = rank;
		f->arrival = arrival;
		f->amount = sqlite3_column_int64(st, 2);
		cur = sqlite3_column_text(st, 3);
		snprintf(f->currency, sizeof(f->currency), "%s",
		    cur != NULL ? (const char *)cur : "");
		f->fee = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s);
}

/* 1 found, 0 not, -1 error. */
static int
fact_find(struct settle *s, const struct want *w, struct found *f)
{
	f->rank = 2;
	f->arrival = 0;
	if (w->ref1 != NULL) {
		if (find_with(s, s->by_ref, w, w->ref1, f) == -1)
			return -1;
		if (w->ref2 != NULL && strcmp(w->ref2, w->ref1) != 0 &&
		    find_with(s, s->by_ref, w, w->ref2, f) == -1)
			return -1;
	} else if (w->object != NULL &&
	    find_with(s, s->by_object, w, NULL, f) == -1)
		return -1;
	return f->rank < 2;
}

static int
append(struct settle *s, json_t *arr, json_t *v)
{
	if (json_array_append_new(arr, v) == -1)
		return fail(s, 0, "out of memory");
	return 0;
}

static int64_t
absolute(int64_t v)
{
	return v < 0 ? -v : v;	/* |v| <= 2^53 - 1: never overflows */
}

/* Add v to *sum, keeping every total exact in JSON. */
static int
add(struct settle *s, const struct line *l, int64_t *sum, int64_t v)
{
	if (absolute(*sum + v) > CURRENCY_MAX_AMOUNT)
		return fail(s, l->lineno, "a total is beyond 2^53 - 1");
	*sum += v;
	return 0;
}

static int
missing(struct settle *s, const struct line *l)
{
	s->clean = 0;
	return append(s, s->from_ledger, json_pack("{s:I, s:s, s:s, s:s, s:s,"
	    " s:s, s:I}", "line", (json_int_t)l->lineno,
	    "balance_transaction", l->txn, "category", l->category,
	    "source", l->source, "payment", l->payment,
	    "currency", l->cur->code, "gross", (json_int_t)l->gross));
}

static int
mismatch_currency(struct settle *s, const struct line *l,
    const struct found *f)
{
	s->clean = 0;
	return append(s, s->mismatches, json_pack("{s:I, s:s, s:s, s:s, s:s,"
	    " s:s}", "line", (json_int_t)l->lineno, "source", l->source,
	    "payment", l->payment, "field", "currency", "ledger", f->currency,
	    "settlement", l->cur->code));
}

static int
mismatch_amount(struct settle *s, const struct line *l, int64_t ledger,
    int64_t settlement)
{
	s->clean = 0;
	return append(s, s->mismatches, json_pack("{s:I, s:s, s:s, s:s, s:I,"
	    " s:I}", "line", (json_int_t)l->lineno, "source", l->source,
	    "payment", l->payment, "field", "amount", "ledger",
	    (json_int_t)ledger, "settlement", (json_int_t)settlement));
}

/* Stripe's webhooks never carry the fee: the report is where it is
 * learnt, which is worth a total but is no discrepancy. */
static int
fee_not_in_ledger(struct settle *s, const struct line *l)
{
	size_t	 i;

	if (l->fee == 0)
		return 0;
	for (i = 0; i < s->nfees && s->fees[i].cur != l->cur; i++)
		;
	if (i == s->nfees) {
		if (s->nfees == FEE_SUMS)
			return fail(s, l->lineno, "too many currencies");
		s->fees[s->nfees].cur = l->cur;
		s->fees[s->nfees].amount = 0;
		s->fees[s->nfees].lines = 0;
		s->nfees++;
	}
	s->fees[i].lines++;
	return add(s, l, &s->fees[i].amount, absolute(l->fee));
}

static int
match_charge(struct settle *s, const struct line *l)
{
	struct want	 w = { l->payment, *l->charge != '\0' ? l->charge :
	    NULL, NULL, "capture", "capture", NULL, 0 };
	struct found	 f;
	int		 rc;

	if ((rc = fact_find(s, &w, &f)) <= 0)
		return rc == 0 ? missing(s, l) : -1;
	if (f.fee == 0 && fee_not_in_ledger(s, l) == -1)
		return -1;
	/* Amounts in two currencies do not compare. */
	if (strcmp(f.currency, l->cur->code) != 0)
		return mismatch_currency(s, l, &f);
	if (f.amount != l->gross && mismatch_amount(s, l, f.amount,
	    l->gross) == -1)
		return -1;
	if (f.fee > 0 && f.fee != absolute(l->fee)) {
		s->clean = 0;
		return append(s, s->fee_diffs, json_pack("{s:I, s:s, s:s, s:I,"
		    " s:I}", "line", (json_int_t)l->lineno, "payment",
		    l->payment, "currency", l->cur->code, "ledger",
		    (json_int_t)f.fee, "settlement",
		    (json_int_t)absolute(l->fee)));
	}
	return 0;
}

/* Refunds, disputes and payouts: found by their own id. */
static int
match_object(struct settle *s, const struct line *l)
{
	struct want	 w;
	struct found	 f;
	int		 rc;

	memset(&w, 0, sizeof(w));
	w.object = l->source;
	if (*l->pi != '\0' || *l->charge != '\0') {
		w.ref1 = *l->pi != '\0' ? l->pi : l->charge;
		w.ref2 = *l->charge != '\0' ? l->charge : l->pi;
	}
	switch (l->cat) {
	case CAT_REFUND:
		w.kind = w.prefer = "refund";
		break;
	case CAT_DISPUTE:
		w.kind = "dispute_";
		w.prefer = "dispute_opened";
		break;
	case CAT_DISPUTE_REVERSAL:
		w.kind = w.prefer = "dispute_won";
		break;
	case CAT_PAYOUT:
	case CAT_PAYOUT_FAILURE:
		w.ref1 = w.ref2 = l->source;	/* a payout is its own payment */
		w.kind = w.prefer = "payout";
		w.status = l->cat == CAT_PAYOUT ? "succeeded" : "failed";
		break;
	default:
		return 0;
	}
	if ((rc = fact_find(s, &w, &f)) == -1)
		return -1;
	if (rc == 0 && l->cat == CAT_REFUND && w.ref1 != NULL) {
		/* Only charge.refunded's running total may have told the
		 * ledger of it: that total does not compare with one refund. */
		w.object = NULL;
		w.cumulative = 1;
		if ((rc = fact_find(s, &w, &f)) != 0)
			return rc == 1 ? 0 : -1;
	}
	if (rc == 0)
		return missing(s, l);
	if (strcmp(f.currency, l->cur->code) != 0)
		return mismatch_currency(s, l, &f);
	if (f.amount != absolute(l->gross))
		return mismatch_amount(s, l, f.amount, absolute(l->gross));
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	const struct key	*x = a, *y = b;

	if (x->set != y->set)
		return x->set < y->set ? -1 : 1;
	return strcmp(x->s, y->s);
}

static void
key_add(struct settle *s, enum set set, const char *v)
{
	if (*v == '\0')
		return;
	s->keys[s->nkeys].set = set;
	s->keys[s->nkeys].s = v;
	s->nkeys++;
}

/* What the file shows, by the names the ledger's entries carry. */
static int
keys_build(struct settle *s)
{
	const struct line	*l;
	size_t			 i;

	/* At most three keys a line; nlines <= SETTLE_MAX_LINES. */
	if ((s->keys = calloc(s->nlines * 3 + 1, sizeof(*s->keys))) == NULL)
		return fail(s, 0, "out of memory");
	for (i = 0; i < s->nlines; i++) {
		l = &s->lines[i];
		switch (l->cat) {
		case CAT_CHARGE:
			key_add(s, SET_CHARGE, l->payment);
			key_add(s, SET_CHARGE, l->charge);
			break;
		case CAT_REFUND:
			key_add(s, SET_REFUND, l->source);
			key_add(s, SET_REFUND_PAYMENT, l->pi);
			key_add(s, SET_REFUND_PAYMENT, l->charge);
			break;
		case CAT_DISPUTE:
		case CAT_DISPUTE_REVERSAL:
			key_add(s, SET_DISPUTE, l->source);
			break;
		case CAT_PAYOUT:
		case CAT_PAYOUT_FAILURE:
			key_add(s, SET_PAYOUT, l->source);
			break;
		case CAT_IGNORED:
			break;
		}
	}
	qsort(s->keys, s->nkeys, sizeof(*s->keys), cmp_key);
	return 0;
}

static int
key_has(const struct settle *s, enum set set, const char *v)
{
	struct key	 k = { set, v };

	return bsearch(&k, s->keys, s->nkeys, sizeof(*s->keys), cmp_key) !=
	    NULL;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

/* The window's entries whose movement the file does not show. */
static int
match_window(struct settle *s, int64_t from, int64_t to)
{
	sqlite3_stmt	*st;
	const char	*kind, *ref, *obj;
	int		 rc, shown;

	if (sqlite3_prepare_v2(s->db, sql_window, -1, &st, NULL) != SQLITE_OK)
		return db_fail(s);
	sqlite3_bind_text(st, 1, s->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		kind = col_text(st, 2);
		ref = col_text(st, 3);
		obj = col_text(st, 6);
		if (strcmp(kind, "capture") == 0)
			shown = key_has(s, SET_CHARGE, ref);
		else if (strcmp(kind, "refund") == 0)
			shown = *obj != '\0' && sqlite3_column_int(st, 7) == 0 ?
			    key_has(s, SET_REFUND, obj) :
			    key_has(s, SET_REFUND_PAYMENT, ref);
		else if (strncmp(kind, "dispute_", 8) == 0)
			shown = key_has(s, SET_DISPUTE, obj);
		else if (strcmp(kind, "payout") == 0)
			shown = key_has(s, SET_PAYOUT, *obj != '\0' ? obj :
			    ref);
		else
			shown = 0;
		if (shown)
			continue;
		s->clean = 0;
		if (append(s, s->from_settlement, json_pack("{s:I, s:s, s:s,"
		    " s:s, s:s, s:I}", "seq",
		    (json_int_t)sqlite3_column_int64(st, 0),
		    "event_id", col_text(st, 1), "kind", kind, "payment", ref,
		    "currency", col_text(st, 4),
		    "amount", (json_int_t)sqlite3_column_int64(st, 5))) == -1) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s);
}

static int
cmp_payout(const void *a, const void *b)
{
	const struct line	*x = *(const struct line *const *)a;
	const struct line	*y = *(const struct line *const *)b;
	int			 c;

	if ((c = strcmp(x->payout, y->payout)) != 0)
		return c;
	if ((c = strcmp(x->cur->code, y->cur->code)) != 0)
		return c;
	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static int
payout_emit(struct settle *s, const struct line *first, int64_t n,
    const int64_t sum[3])
{
	struct want	 w = { first->payout, NULL, NULL, "payout", "payout",
	    "succeeded", 0 };
	struct found	 f;
	json_t		*ledger;
	int		 rc, match;

	if ((rc = fact_find(s, &w, &f)) == -1)
		return -1;
	/* A payout is paid in one currency; another one is not it. */
	if (rc == 1 && strcmp(f.currency, first->cur->code) != 0)
		rc = 0;
	match = rc == 1 && f.amount == sum[2];
	if (!match)
		s->clean = 0;
	ledger = rc == 1 ? json_integer(f.amount) : json_null();
	return append(s, s->payouts, json_pack("{s:s, s:s, s:I, s:I, s:I,"
	    " s:I, s:o, s:b}", "payout", first->payout, "currency",
	    first->cur->code, "lines", (json_int_t)n, "gross",
	    (json_int_t)sum[0], "fee", (json_int_t)sum[1], "net",
	    (json_int_t)sum[2], "ledger", ledger, "matches", match));
}

/* Lines by automatic payout and currency. The payout's own line is the
 * money leaving, not part of what it pays out. */
static int
match_payouts(struct settle *s)
{
	const struct line	**v, *l, *first = NULL;
	size_t			 i, n = 0;
	int64_t			 sum[3] = { 0, 0, 0 }, count = 0;
	int			 rc = -1;

	if ((v = calloc(s->nlines + 1, sizeof(*v))) == NULL)
		return fail(s, 0, "out of memory");
	for (i = 0; i < s->nlines; i++) {
		l = &s->lines[i];
		if (*l->payout != '\0' && l->cat != CAT_PAYOUT &&
		    l->cat != CAT_PAYOUT_FAILURE)
			v[n++] = l;
	}
	qsort(v, n, sizeof(*v), cmp_payout);
	for (i = 0; i <= n; i++) {
		if (first != NULL && (i == n || strcmp(v[i]->payout,
		    first->payout) != 0 || v[i]->cur != first->cur)) {
			if (payout_emit(s, first, count, sum) == -1)
				goto done;
			first = NULL;
		}
		if (i == n)
			break;
		if (first == NULL) {
			first = v[i];
			sum[0] = sum[1] = sum[2] = count = 0;
		}
		count++;
		if (add(s, v[i], &sum[0], v[i]->gross) == -1 ||
		    add(s, v[i], &sum[1], v[i]->fee) == -1 ||
		    add(s, v[i], &sum[2], v[i]->net) == -1)
			goto done;
	}
	rc = 0;
done:
	free(v);
	return rc;
}

static int
cmp_category(const void *a, const void *b)
{
	const struct line	*x = *(const struct line *const *)a;
	const struct line	*y = *(const struct line *const *)b;

	return strcmp(x->category, y->category);
}

static int
match_ignored(struct settle *s)
{
	const struct line	**v;
	size_t			 i, j, n = 0;
	int			 rc = -1;

	if ((v = calloc(s->nlines + 1, sizeof(*v))) == NULL)
		return fail(s, 0, "out of memory");
	for (i = 0; i < s->nlines; i++)
		if (s->lines[i].cat == CAT_IGNORED)
			v[n++] = &s->lines[i];
	qsort(v, n, sizeof(*v), cmp_category);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(v[j]->category,
		    v[i]->category) == 0; j++)
			;
		if (append(s, s->ignored, json_pack("{s:s, s:I}", "category",
		    v[i]->category, "lines", (json_int_t)(j - i))) == -1)
			goto done;
	}
	rc = 0;
done:
	free(v);
	return rc;
}

static int
cmp_fee(const void *a, const void *b)
{
	const struct fee_sum	*x = a, *y = b;

	return strcmp(x->cur->code, y->cur->code);
}

static int
fees_emit(struct settle *s)
{
	size_t	 i;

	qsort(s->fees, s->nfees, sizeof(s->fees[0]), cmp_fee);
	for (i = 0; i < s->nfees; i++)
		if (append(s, s->fees_json, json_pack("{s:s, s:I, s:I}",
		    "currency", s->fees[i].cur->code, "amount",
		    (json_int_t)s->fees[i].amount, "lines",
		    (json_int_t)s->fees[i].lines)) == -1)
			return -1;
	return 0;
}

/* The object with its keys in the documented order, arrays empty. */
static int
skeleton(struct settle *s)
{
	const char	*base = strrchr(s->path, '/');
	json_t		**arrays[] = { &s->from_ledger, &s->from_settlement,
	    &s->mismatches, &s->fee_diffs, &s->fees_json, &s->payouts,
	    &s->ignored };
	static const char *const names[] = { "missing_from_ledger",
	    "missing_from_settlement", "mismatches", "fee_differences",
	    "fees_not_in_ledger", "payouts", "ignored" };
	json_t		*name;
	size_t		 i;

	base = base != NULL ? base + 1 : s->path;
	if ((name = json_string(base)) == NULL)
		return fail(s, 0, "the file name is not UTF-8");
	if ((s->o = json_object()) == NULL ||
	    json_object_set_new(s->o, "file", name) == -1 ||
	    json_object_set_new(s->o, "format",
	    json_string("stripe_balance_transactions")) == -1 ||
	    json_object_set_new(s->o, "lines",
	    json_integer((json_int_t)s->nlines)) == -1)
		return fail(s, 0, "out of memory");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((*arrays[i] = json_array()) == NULL ||
		    json_object_set_new(s->o, names[i], *arrays[i]) == -1)
			return fail(s, 0, "out of memory");
	return 0;
}

json_t *
settle_match(sqlite3 *db, const char *path, const char *tenant,
    int64_t window_from, int64_t window_to, char *err, size_t errlen)
{
	struct settle	*s;
	json_t		*o = NULL;
	size_t		 i;
	int		 ok = 0, txn = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	s->db = db;
	s->path = path;
	s->tenant = tenant;
	s->err = err;
	s->errlen = errlen;
	s->clean = 1;
	if (read_file(s) == -1 || skeleton(s) == -1)
		goto done;
	/* One snapshot for every query, whatever the writer appends
	 * meanwhile; and one lock, not one per line. */
	if (sqlite3_get_autocommit(db)) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			db_fail(s);
			goto done;
		}
		txn = 1;
	}
	if (sqlite3_prepare_v2(db, sql_by_ref, -1, &s->by_ref, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, sql_by_object, -1,
	    &s->by_object, NULL) != SQLITE_OK) {
		db_fail(s);
		goto done;
	}
	for (i = 0; i < s->nlines; i++)
		if ((s->lines[i].cat == CAT_CHARGE ? match_charge(s,
		    &s->lines[i]) : match_object(s, &s->lines[i])) == -1)
			goto done;
	if (keys_build(s) == -1 || match_window(s, window_from,
	    window_to) == -1 || fees_emit(s) == -1 ||
	    match_payouts(s) == -1 || match_ignored(s) == -1 ||
	    json_object_set_new(s->o, "clean", json_boolean(s->clean)) == -1)
		goto done;
	ok = 1;
done:
	sqlite3_finalize(s->by_ref);
	sqlite3_finalize(s->by_object);
	if (txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < s->nlines; i++)
		free(s->lines[i].mem);
	free(s->lines);
	free(s->keys);
	if (ok)
		o = s->o;
	else
		json_decref(s->o);
	free(s);
	return o;
}
