/*
 * test_settle: a Stripe balance-transaction report matched against a
 * ledger built through ledger_apply(), as the daemon builds it: every
 * kind of discrepancy with its exact JSON, payout totals, the CSV dialect
 * (quotes, CRLF, a byte order mark) and every malformed record refused
 * with the line it is on.
 *
 * Fixtures (tests/fixtures/settlement/) are found through HL_TOP_SRCDIR,
 * or the current directory when it is unset.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "digest.h"
#include "ledger.h"
#include "settle.h"
#include "tmpdir.h"

/* 2026-12-01T00:00:00Z to 2026-12-02T00:00:00Z, and times in and before
 * it. */
#define DAY_FROM	INT64_C(1796083200)
#define DAY_TO		INT64_C(1796169600)
#define IN_DAY		INT64_C(1796119200)
#define DAY_BEFORE	INT64_C(1796032800)

static char		 dir[256], db[300], err[512];
static struct ledger	*lg;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "settle");
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	lg = ledger_open(db, LEDGER_READ_WRITE, err, sizeof(err));
	ck_assert_msg(lg != NULL, "%s", err);
}

static void
teardown(void)
{
	ledger_close(lg);
	lg = NULL;
	tmpdir_remove(dir);
	digest_fini();
}

/* One event as a mapper would hand it over. */
struct ev {
	const char		*id;
	enum event_kind		 kind;
	const char		*ref;
	const char		*object;
	int64_t			 amount;
	const char		*currency;
	enum event_status	 status;
	int			 cumulative;
	int64_t			 fee;
	int64_t			 at;
	const char		*tenant;
};

static void
put(const struct ev *e)
{
	struct ledger_event	 le;
	struct ledger_outcome	 out;
	char			 body[600];

	memset(&le, 0, sizeof(le));
	le.tenant = e->tenant != NULL ? e->tenant : "acme";
	le.endpoint = "stripe";
	le.event_id = e->id;
	le.move.kind = e->kind;
	snprintf(le.move.type, sizeof(le.move.type), "test.%s",
	    event_kind_name(e->kind));
	snprintf(le.move.payment_ref, sizeof(le.move.payment_ref), "%s",
	    e->ref);
	snprintf(le.move.object_id, sizeof(le.move.object_id), "%s",
	    e->object != NULL ? e->object : "");
	le.move.amount = e->amount;
	snprintf(le.move.currency, sizeof(le.move.currency), "%s",
	    e->currency != NULL ? e->currency : "USD");
	le.move.status = e->status;
	le.move.cumulative = e->cumulative;
	le.move.fee = e->fee;
	le.move.liability_shift = -1;
	le.move.occurred_at = e->at != 0 ? e->at : IN_DAY;
	snprintf(body, sizeof(body), "%s|%d|%s|%" PRId64, e->id, (int)e->kind,
	    e->ref, e->amount);
	digest_sha256(body, strlen(body), le.body_sha256);
	ck_assert_int_eq(ledger_begin(lg), 0);
	ledger_apply(lg, &le, IN_DAY + 1, &out);
	ck_assert_int_eq(ledger_commit(lg), 0);
	ck_assert_msg(out.status == 200, "%s: %s", e->id, out.response);
}

#define CAP(i, r, a, c)	\
	{ .id = i, .kind = EVENT_CAPTURE, .ref = r, .amount = a, \
	  .currency = c }
#define REF(i, r, re, a)	\
	{ .id = i, .kind = EVENT_REFUND, .ref = r, .object = re, \
	  .amount = a, .status = EVENT_STATUS_SUCCEEDED }
#define DSP(i, k, r, dp, a) \
	{ .id = i, .kind = EVENT_DISPUTE_##k, .ref = r, .object = dp, \
	  .amount = a }
#define PAY(i, po, a, c, st) \
	{ .id = i, .kind = EVENT_PAYOUT, .ref = po, .object = po, \
	  .amount = a, .currency = c, .status = EVENT_STATUS_##st }

static void
put_all(const struct ev *e, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		put(&e[i]);
}

static void
fixture(const char *name, char *path, size_t cap)
{
	const char	*top = getenv("HL_TOP_SRCDIR");

	if (top == NULL || *top == '\0')
		top = ".";
	ck_assert_int_lt(snprintf(path, cap, "%s/tests/fixtures/settlement/%s",
	    top, name), (int)cap);
}

/* A file of len bytes in the test's directory. */
static void
write_tmp(const char *name, const char *text, size_t len, char *path,
    size_t cap)
{
	FILE	*f;

	snprintf(path, cap, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
slurp(const char *path, size_t *len)
{
	char	*buf;
	FILE	*f;

	ck_assert_msg((f = fopen(path, "rb")) != NULL, "cannot open %s", path);
	ck_assert_ptr_nonnull(buf = malloc(65536));
	*len = fread(buf, 1, 65536, f);
	ck_assert(feof(f) && !ferror(f));
	fclose(f);
	return buf;
}

static json_t *
match(const char *path)
{
	json_t	*o;

	o = settle_match(ledger_db(lg), path, "acme", DAY_FROM, DAY_TO, err,
	    sizeof(err));
	ck_assert_msg(o != NULL, "%s", err);
	return o;
}

static json_t *
match_fixture(const char *name)
{
	char	 path[4096];

	fixture(name, path, sizeof(path));
	return match(path);
}

/* The compact JSON of o, or of its member key. */
static char *
dump(const json_t *o, const char *key)
{
	char	*s;

	if (key != NULL)
		o = json_object_get(o, key);
	ck_assert_ptr_nonnull(o);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void
assert_member(const json_t *o, const char *key, const char *want)
{
	char	*got = dump(o, key);

	ck_assert_str_eq(got, want);
	free(got);
}

static void
assert_refused(const char *path, const char *what)
{
	char	 want[4600];
	json_t	*o;

	snprintf(want, sizeof(want), "%s:%s", path, what);
	err[0] = '\0';
	o = settle_match(ledger_db(lg), path, "acme", DAY_FROM, DAY_TO, err,
	    sizeof(err));
	ck_assert_ptr_null(o);
	ck_assert_str_eq(err, want);
}

static void
assert_fixture_refused(const char *name, const char *what)
{
	char	 path[4096];

	fixture(name, path, sizeof(path));
	assert_refused(path, what);
}

static void
assert_text_refused(const char *text, const char *what)
{
	char	 path[400];

	write_tmp("bad.csv", text, strlen(text), path, sizeof(path));
	assert_refused(path, what);
}

/* The ledger clean.csv describes exactly, and a second tenant's capture
 * that must not leak into acme's reconciliation. */
static void
clean_ledger(void)
{
	const struct ev	 e[] = {
		CAP("evt_a", "pi_A", 2000, "USD"),
		CAP("evt_b", "pi_B", 5000, "USD"),
		REF("evt_ra", "pi_A", "re_A", 500),
		DSP("evt_db", OPENED, "pi_B", "dp_B", 5000),
		PAY("evt_po1", "po_1", 1237, "USD", SUCCEEDED),
		CAP("evt_j", "pi_J", 1500, "JPY"),
		{ .id = "evt_x", .kind = EVENT_CAPTURE, .ref = "pi_X",
		  .amount = 999, .tenant = "other" },
	};

	put_all(e, sizeof(e) / sizeof(e[0]));
}

#define CLEAN_JSON "{\"file\":\"clean.csv\"," \
	"\"format\":\"stripe_balance_transactions\",\"lines\":8," \
	"\"missing_from_ledger\":[],\"missing_from_settlement\":[]," \
	"\"mismatches\":[],\"fee_differences\":[]," \
	"\"fees_not_in_ledger\":[{\"currency\":\"JPY\",\"amount\":60," \
	"\"lines\":1},{\"currency\":\"USD\",\"amount\":263,\"lines\":2}]," \
	"\"payouts\":[{\"payout\":\"po_1\",\"currency\":\"USD\",\"lines\":4," \
	"\"gross\":1500,\"fee\":263,\"net\":1237,\"ledger\":1237," \
	"\"matches\":true}],\"ignored\":[{\"category\":\"fee\",\"lines\":1}," \
	"{\"category\":\"transfer\",\"lines\":1}],\"clean\":true}"

START_TEST(clean_file_matches_everything)
{
	json_t	*o;

	clean_ledger();
	o = match_fixture("clean.csv");
	assert_member(o, NULL, CLEAN_JSON);
	json_decref(o);
}
END_TEST

START_TEST(lost_capture_webhook_is_missing_from_ledger)
{
	const struct ev	 e[] = {
		CAP("evt_a", "pi_A", 2000, "USD"),
		REF("evt_ra", "pi_A", "re_A", 500),
		/* pi_B's capture never arrived: its dispute is parked. */
		DSP("evt_db", OPENED, "pi_B", "dp_B", 5000),
		PAY("evt_po1", "po_1", 1237, "USD", SUCCEEDED),
		CAP("evt_j", "pi_J", 1500, "JPY"),
	};
	json_t		*o;

	put_all(e, sizeof(e) / sizeof(e[0]));
	o = match_fixture("clean.csv");
	assert_member(o, "missing_from_ledger", "[{\"line\":3,"
	    "\"balance_transaction\":\"txn_2\",\"category\":\"charge\","
	    "\"source\":\"ch_B\",\"payment\":\"pi_B\",\"currency\":\"USD\","
	    "\"gross\":5000}]");
	assert_member(o, "missing_from_settlement", "[]");
	assert_member(o, "mismatches", "[]");
	assert_member(o, "fees_not_in_ledger", "[{\"currency\":\"JPY\","
	    "\"amount\":60,\"lines\":1},{\"currency\":\"USD\",\"amount\":88,"
	    "\"lines\":1}]");
	assert_member(o, "clean", "false");
	json_decref(o);
}
END_TEST

/* discrepancies.csv against a ledger that disagrees with it line by
 * line. */
static void
discrepancy_ledger(void)
{
	const struct ev	 e[] = {
		CAP("evt_m", "pi_M", 1500, "USD"),			/* 1 */
		REF("evt_rm", "pi_M", "re_M", 200),			/* 2 */
		CAP("evt_c", "pi_C", 2500, "USD"),			/* 3 */
		/* A neutral-schema capture, which carries its fee. */
		{ .id = "evt_f", .kind = EVENT_CAPTURE, .ref = "pi_F",
		  .amount = 1500, .fee = 45 },				/* 4 */
		{ .id = "evt_w", .kind = EVENT_CAPTURE, .ref = "pi_W",
		  .amount = 1000, .at = DAY_BEFORE },			/* 5 */
		DSP("evt_dw", OPENED, "pi_W", "dp_W", 1000),		/* 6 */
		PAY("evt_p9", "po_9", 8000, "USD", SUCCEEDED),		/* 7 */
		PAY("evt_p9f", "po_9", 8000, "USD", FAILED),		/* 8 */
		{ .id = "evt_g", .kind = EVENT_CAPTURE, .ref = "pi_G",
		  .amount = 700, .at = DAY_FROM },			/* 9 */
		{ .id = "evt_h", .kind = EVENT_CAPTURE, .ref = "pi_H",
		  .amount = 800, .at = DAY_BEFORE },			/* 10 */
		/* Paid, and never reported failed. */
		PAY("evt_p8", "po_8", 5000, "USD", SUCCEEDED),		/* 11 */
		{ .id = "evt_t", .kind = EVENT_CAPTURE, .ref = "pi_T",
		  .amount = 900, .at = DAY_TO },			/* 12 */
	};

	put_all(e, sizeof(e) / sizeof(e[0]));
}

START_TEST(lines_missing_from_ledger)
{
	json_t	*o;

	discrepancy_ledger();
	o = match_fixture("discrepancies.csv");
	assert_member(o, "lines", "9");
	assert_member(o, "missing_from_ledger", "["
	    "{\"line\":2,\"balance_transaction\":\"txn_d1\",\"category\":"
	    "\"charge\",\"source\":\"ch_L\",\"payment\":\"pi_L\",\"currency\":"
	    "\"USD\",\"gross\":3000},"
	    "{\"line\":7,\"balance_transaction\":\"txn_d6\",\"category\":"
	    "\"refund\",\"source\":\"re_Z\",\"payment\":\"pi_Z\",\"currency\":"
	    "\"USD\",\"gross\":-400},"
	    "{\"line\":8,\"balance_transaction\":\"txn_d7\",\"category\":"
	    "\"dispute_reversal\",\"source\":\"dp_W\",\"payment\":\"pi_W\","
	    "\"currency\":\"USD\",\"gross\":1000},"
	    "{\"line\":10,\"balance_transaction\":\"txn_d9\",\"category\":"
	    "\"payout_failure\",\"source\":\"po_8\",\"payment\":\"po_8\","
	    "\"currency\":\"USD\",\"gross\":-5000}]");
	assert_member(o, "clean", "false");
	json_decref(o);
}
END_TEST

START_TEST(capture_missing_from_settlement)
{
	json_t	*o;

	/* pi_G occurred at the window's first second; pi_H and pi_T are
	 * absent too, but occurred before it and at its end. */
	discrepancy_ledger();
	o = match_fixture("discrepancies.csv");
	assert_member(o, "missing_from_settlement", "[{\"seq\":9,"
	    "\"event_id\":\"evt_g\",\"kind\":\"capture\",\"payment\":\"pi_G\","
	    "\"currency\":\"USD\",\"amount\":700}]");
	json_decref(o);
}
END_TEST

START_TEST(amount_and_currency_mismatches)
{
	json_t	*o;

	discrepancy_ledger();
	o = match_fixture("discrepancies.csv");
	assert_member(o, "mismatches", "["
	    "{\"line\":3,\"source\":\"ch_M\",\"payment\":\"pi_M\",\"field\":"
	    "\"amount\",\"ledger\":1500,\"settlement\":1400},"
	    "{\"line\":4,\"source\":\"ch_C\",\"payment\":\"pi_C\",\"field\":"
	    "\"currency\",\"ledger\":\"USD\",\"settlement\":\"EUR\"},"
	    "{\"line\":6,\"source\":\"re_M\",\"payment\":\"pi_M\",\"field\":"
	    "\"amount\",\"ledger\":200,\"settlement\":300}]");
	json_decref(o);
}
END_TEST

START_TEST(fee_difference_where_ledger_has_fee)
{
	json_t	*o;

	discrepancy_ledger();
	o = match_fixture("discrepancies.csv");
	assert_member(o, "fee_differences", "[{\"line\":5,\"payment\":"
	    "\"pi_F\",\"currency\":\"USD\",\"ledger\":45,\"settlement\":73}]");
	/* The captures without a fee: pi_M (0.71 USD) and pi_C (0.50 EUR,
	 * whatever its currency mismatch). */
	assert_member(o, "fees_not_in_ledger", "[{\"currency\":\"EUR\","
	    "\"amount\":50,\"lines\":1},{\"currency\":\"USD\",\"amount\":71,"
	    "\"lines\":1}]");
	assert_member(o, "payouts", "[]");
	assert_member(o, "ignored", "[]");
	json_decref(o);
}
END_TEST

START_TEST(refund_dispute_and_payout_matched)
{
	json_t	*o;

	clean_ledger();
	o = match_fixture("clean.csv");
	/* re_A (line 4), dp_B (line 5) and po_1 (line 6) each found their
	 * fact, and each ledger entry its line. */
	assert_member(o, "missing_from_ledger", "[]");
	assert_member(o, "mismatches", "[]");
	assert_member(o, "missing_from_settlement", "[]");
	json_decref(o);
}
END_TEST

/* clean.csv against a ledger whose refund, dispute and payout disagree
 * by one cent each. */
START_TEST(refund_dispute_and_payout_amounts_differ)
{
	const struct ev	 e[] = {
		CAP("evt_a", "pi_A", 2000, "USD"),
		CAP("evt_b", "pi_B", 5000, "USD"),
		REF("evt_ra", "pi_A", "re_A", 501),
		DSP("evt_db", OPENED, "pi_B", "dp_B", 4999),
		PAY("evt_po1", "po_1", 1238, "USD", SUCCEEDED),
		CAP("evt_j", "pi_J", 1500, "JPY"),
	};
	json_t		*o;

	put_all(e, sizeof(e) / sizeof(e[0]));
	o = match_fixture("clean.csv");
	assert_member(o, "mismatches", "["
	    "{\"line\":4,\"source\":\"re_A\",\"payment\":\"pi_A\",\"field\":"
	    "\"amount\",\"ledger\":501,\"settlement\":500},"
	    "{\"line\":5,\"source\":\"dp_B\",\"payment\":\"pi_B\",\"field\":"
	    "\"amount\",\"ledger\":4999,\"settlement\":5000},"
	    "{\"line\":6,\"source\":\"po_1\",\"payment\":\"po_1\",\"field\":"
	    "\"amount\",\"ledger\":1238,\"settlement\":1237}]");
	assert_member(o, "payouts", "[{\"payout\":\"po_1\",\"currency\":"
	    "\"USD\",\"lines\":4,\"gross\":1500,\"fee\":263,\"net\":1237,"
	    "\"ledger\":1238,\"matches\":false}]");
	assert_member(o, "clean", "false");
	json_decref(o);
}
END_TEST

START_TEST(cumulative_refund_matches_by_payment)
{
	const struct ev	 e[] = {
		CAP("evt_a", "pi_A", 2000, "USD"),
		CAP("evt_b", "pi_B", 5000, "USD"),
		/* Only charge.refunded told the ledger of re_A. */
		{ .id = "evt_cr", .kind = EVENT_REFUND, .ref = "pi_A",
		  .object = "ch_A", .amount = 500, .cumulative = 1,
		  .status = EVENT_STATUS_SUCCEEDED },
		DSP("evt_db", OPENED, "pi_B", "dp_B", 5000),
		PAY("evt_po1", "po_1", 1237, "USD", SUCCEEDED),
		CAP("evt_j", "pi_J", 1500, "JPY"),
	};
	json_t		*o;

	put_all(e, sizeof(e) / sizeof(e[0]));
	o = match_fixture("clean.csv");
	assert_member(o, NULL, CLEAN_JSON);
	json_decref(o);
}
END_TEST

START_TEST(refund_the_ledger_refused_is_missing)
{
	const struct ev	 e[] = {
		CAP("evt_a", "pi_A", 2000, "USD"),
		CAP("evt_b", "pi_B", 5000, "USD"),
		/* More than was captured: an exception that posts nothing. */
		REF("evt_ra", "pi_A", "re_A", 2500),
		DSP("evt_db", OPENED, "pi_B", "dp_B", 5000),
		PAY("evt_po1", "po_1", 1237, "USD", SUCCEEDED),
		CAP("evt_j", "pi_J", 1500, "JPY"),
	};
	json_t		*o;

	put_all(e, sizeof(e) / sizeof(e[0]));
	o = match_fixture("clean.csv");
	assert_member(o, "missing_from_ledger", "[{\"line\":4,"
	    "\"balance_transaction\":\"txn_3\",\"category\":\"refund\","
	    "\"source\":\"re_A\",\"payment\":\"pi_A\",\"currency\":\"USD\","
	    "\"gross\":-500}]");
	assert_member(o, "mismatches", "[]");
	json_decref(o);
}
END_TEST

START_TEST(read_only_connection)
{
	struct ledger	*ro;
	char		 path[4096], *got;
	json_t		*o;

	clean_ledger();
	ro = ledger_open(db, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_msg(ro != NULL, "%s", err);
	fixture("clean.csv", path, sizeof(path));
	o = settle_match(ledger_db(ro), path, "acme", DAY_FROM, DAY_TO, err,
	    sizeof(err));
	ck_assert_msg(o != NULL, "%s", err);
	got = dump(o, NULL);
	ck_assert_str_eq(got, CLEAN_JSON);
	free(got);
	json_decref(o);
	ledger_close(ro);
}
END_TEST

START_TEST(payout_totals_per_automatic_payout)
{
	const struct ev	 e[] = {
		CAP("evt_1", "pi_1", 1000, "USD"),
		CAP("evt_2", "pi_2", 2000, "USD"),
		REF("evt_r2", "pi_2", "re_2", 500),
		CAP("evt_3", "pi_3", 3000, "EUR"),
		CAP("evt_4", "pi_4", 4000, "USD"),
		PAY("evt_pa", "po_A", 1412, "USD", SUCCEEDED),
		PAY("evt_pb", "po_B", 940, "USD", SUCCEEDED),
	};
	json_t		*o;

	put_all(e, sizeof(e) / sizeof(e[0]));
	o = match_fixture("payouts.csv");
	/* po_A's own line is not part of what it pays out; its EUR lines
	 * are a payout of their own, which the ledger has not seen in EUR;
	 * po_B is a cent short; po_C never reached the ledger. */
	assert_member(o, "payouts", "["
	    "{\"payout\":\"po_A\",\"currency\":\"EUR\",\"lines\":1,"
	    "\"gross\":3000,\"fee\":115,\"net\":2885,\"ledger\":null,"
	    "\"matches\":false},"
	    "{\"payout\":\"po_A\",\"currency\":\"USD\",\"lines\":2,"
	    "\"gross\":1500,\"fee\":88,\"net\":1412,\"ledger\":1412,"
	    "\"matches\":true},"
	    "{\"payout\":\"po_B\",\"currency\":\"USD\",\"lines\":1,"
	    "\"gross\":1000,\"fee\":59,\"net\":941,\"ledger\":940,"
	    "\"matches\":false},"
	    "{\"payout\":\"po_C\",\"currency\":\"USD\",\"lines\":1,"
	    "\"gross\":4000,\"fee\":146,\"net\":3854,\"ledger\":null,"
	    "\"matches\":false}]");
	assert_member(o, "missing_from_ledger", "[]");
	assert_member(o, "missing_from_settlement", "[]");
	assert_member(o, "mismatches", "[]");
	assert_member(o, "clean", "false");
	json_decref(o);
}
END_TEST

START_TEST(quoted_fields)
{
	const struct ev	 e[] = { CAP("evt_q", "pi_Q", 2000, "USD") };
	json_t		*o;

	put_all(e, 1);
	o = match_fixture("quoted.csv");
	/* Commas and "" inside quotes, a record over two lines (so the next
	 * one starts on line 5), columns in another order, an unknown
	 * column, and no payment_intent_id: the source is the payment. */
	assert_member(o, NULL, "{\"file\":\"quoted.csv\","
	    "\"format\":\"stripe_balance_transactions\",\"lines\":3,"
	    "\"missing_from_ledger\":["
	    "{\"line\":3,\"balance_transaction\":\"txn_q2\",\"category\":"
	    "\"charge\",\"source\":\"ch_R\",\"payment\":\"pi_R\",\"currency\":"
	    "\"USD\",\"gross\":1000},"
	    "{\"line\":5,\"balance_transaction\":\"txn_q3\",\"category\":"
	    "\"charge\",\"source\":\"ch_S\",\"payment\":\"ch_S\",\"currency\":"
	    "\"USD\",\"gross\":500}],"
	    "\"missing_from_settlement\":[],\"mismatches\":[],"
	    "\"fee_differences\":[],\"fees_not_in_ledger\":[{\"currency\":"
	    "\"USD\",\"amount\":88,\"lines\":1}],\"payouts\":[],\"ignored\":[],"
	    "\"clean\":false}");
	json_decref(o);
}
END_TEST

/* clean.csv rewritten by f into a file of the same name elsewhere. */
static json_t *
match_rewritten(int crlf, int bom)
{
	char	 path[4096], *in, *out;
	size_t	 len, i, n = 0;
	json_t	*o;

	fixture("clean.csv", path, sizeof(path));
	in = slurp(path, &len);
	ck_assert_ptr_nonnull(out = malloc(2 * len + 3));
	if (bom) {
		memcpy(out, "\xef\xbb\xbf", 3);
		n = 3;
	}
	for (i = 0; i < len; i++) {
		if (crlf && in[i] == '\n')
			out[n++] = '\r';
		out[n++] = in[i];
	}
	write_tmp("clean.csv", out, n, path, sizeof(path));
	free(in);
	free(out);
	o = match(path);
	return o;
}

START_TEST(crlf_line_ends)
{
	json_t	*o;

	clean_ledger();
	o = match_rewritten(1, 0);
	assert_member(o, NULL, CLEAN_JSON);
	json_decref(o);
}
END_TEST

START_TEST(byte_order_mark)
{
	json_t	*o;

	clean_ledger();
	o = match_rewritten(0, 1);
	assert_member(o, NULL, CLEAN_JSON);
	json_decref(o);
	o = match_rewritten(1, 1);
	assert_member(o, NULL, CLEAN_JSON);
	json_decref(o);
}
END_TEST

START_TEST(malformed_fixtures)
{
	assert_fixture_refused("bad_unterminated.csv",
	    "3: unterminated quoted field");
	assert_fixture_refused("bad_fields.csv",
	    "2: 10 fields, the header has 9");
	assert_fixture_refused("bad_amount.csv",
	    "3: gross is not an amount in USD");
	assert_fixture_refused("bad_currency.csv", "3: unknown currency");
}
END_TEST

#define HDR	"balance_transaction_id,created_utc,currency,gross,fee,net," \
	"reporting_category,source_id\n"

START_TEST(malformed_records)
{
	assert_text_refused("", "1: no header row");
	assert_text_refused("balance_transaction_id,created_utc,currency,"
	    "gross,fee,reporting_category,source_id\n", "1: no column net");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,1,0,1,charge,"
	    "ch_1,x\n", "2: 9 fields, the header has 8");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,1,0,1,charge\n",
	    "2: 7 fields, the header has 8");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,1,0,1,char\"ge,"
	    "ch_1\n", "2: quote inside an unquoted field");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,1,0,1,\"charge\""
	    "x,ch_1\n", "2: text after a closing quote");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,1,0,1,charge,"
	    "ch_1\rtxn_2\n", "2: carriage return without line feed");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,12.5.0,0,1,"
	    "charge,ch_1\n", "2: gross is not an amount in USD");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,jpy,1500,0.5,1500,"
	    "charge,ch_1\n", "2: fee is not an amount in JPY");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,hrk,1,0,1,charge,"
	    "ch_1\n", "2: unknown currency");
	assert_text_refused(HDR "txn 1,2026-12-01 10:00:00,usd,1,0,1,charge,"
	    "ch_1\n", "2: balance_transaction_id is not an identifier");
	assert_text_refused(HDR "txn_1,2026-12-01 10:00:00,usd,1,0,1,charge,"
	    "\n", "2: source_id is empty");
	assert_text_refused(HDR "txn_1,2026-02-29 10:00:00,usd,1,0,1,charge,"
	    "ch_1\n", "2: created_utc is not a time");
	assert_text_refused(HDR "txn_1,2026-12-01T10:00:00Z,usd,1,0,1,charge,"
	    "ch_1\n", "2: created_utc is not a time");
	assert_text_refused(HDR "txn_1,1796119200,usd,1,0,1,Charge,ch_1\n",
	    "2: reporting_category is not a category");
	assert_text_refused("fee," HDR, "1: column fee appears twice");
	assert_text_refused("\xef\xbb" HDR, "1: malformed byte order mark");
	assert_fixture_refused("no-such-file.csv",
	    " No such file or directory");
}
END_TEST

START_TEST(record_length_is_bounded)
{
	static char	 text[3 * SETTLE_MAX_LINE];
	static const char hdr[] = "balance_transaction_id,created_utc,"
	    "currency,gross,fee,net,reporting_category,source_id,description\n";
	static const char rec[] = "txn_1,1796119200,jpy,1,0,1,transfer,,";
	char		 path[400];
	size_t		 n;
	json_t		*o;

	/* A record of exactly SETTLE_MAX_LINE bytes, then one more. */
	memcpy(text, hdr, strlen(hdr));
	n = strlen(hdr);
	memcpy(text + n, rec, strlen(rec));
	n += strlen(rec);
	memset(text + n, 'x', SETTLE_MAX_LINE - strlen(rec));
	n += SETTLE_MAX_LINE - strlen(rec);
	text[n++] = '\n';
	write_tmp("long.csv", text, n, path, sizeof(path));
	o = match(path);
	assert_member(o, "ignored", "[{\"category\":\"transfer\",\"lines\":1}]");
	json_decref(o);

	text[n - 1] = 'x';
	text[n++] = '\n';
	write_tmp("long.csv", text, n, path, sizeof(path));
	assert_refused(path, "2: record longer than 8192 bytes");
}
END_TEST

START_TEST(field_count_is_bounded)
{
	char	 text[2048], path[400];
	size_t	 n = 0, i;

	n = (size_t)snprintf(text, sizeof(text), "%s", HDR);
	n--;					/* the newline */
	for (i = 8; i <= SETTLE_MAX_FIELDS; i++)
		text[n++] = ',';		/* field i + 1 */
	text[n++] = '\n';
	write_tmp("wide.csv", text, n, path, sizeof(path));
	assert_refused(path, "1: more than 128 fields");
}
END_TEST

START_TEST(blank_lines_and_no_final_newline)
{
	char	 path[400];
	json_t	*o;
	const char	*text = HDR "\n"
	    "txn_1,1796119200,usd,-1.00,0,-1.00,transfer,tr_1\n\n"
	    "txn_2,1796119200,usd,-1.00,0,-1.00,transfer,tr_2";

	write_tmp("blank.csv", text, strlen(text), path, sizeof(path));
	o = match(path);
	assert_member(o, "lines", "2");
	assert_member(o, "ignored", "[{\"category\":\"transfer\",\"lines\":2}]");
	assert_member(o, "clean", "true");
	json_decref(o);
}
END_TEST

START_TEST(parse_amount)
{
	static const struct {
		const char	*s;
		int		 exponent;
		int		 rc;
		int64_t		 want;
	} t[] = {
		{ "12.50", 2, 0, 1250 },
		{ "12.5", 2, 0, 1250 },
		{ "12", 2, 0, 1200 },
		{ "-3", 2, 0, -300 },
		{ "-0.07", 2, 0, -7 },
		{ "0", 2, 0, 0 },
		{ "1500", 0, 0, 1500 },
		{ "1500.00", 0, 0, 1500 },
		{ "12.340", 2, 0, 1234 },
		{ "1.234", 3, 0, 1234 },
		{ "0.0001", 4, 0, 1 },
		{ "90071992547409.91", 2, 0, INT64_C(9007199254740991) },
		{ "-90071992547409.91", 2, 0, -INT64_C(9007199254740991) },
		{ "90071992547409.92", 2, -1, 0 },
		{ "9007199254740992", 0, -1, 0 },
		{ "99999999999999999999999", 0, -1, 0 },
		{ "12.345", 2, -1, 0 },
		{ "1500.5", 0, -1, 0 },
		{ "", 2, -1, 0 },
		{ "-", 2, -1, 0 },
		{ "+1", 2, -1, 0 },
		{ "--1", 2, -1, 0 },
		{ "1-", 2, -1, 0 },
		{ ".5", 2, -1, 0 },
		{ "1.", 2, -1, 0 },
		{ "1..0", 2, -1, 0 },
		{ "1.2.3", 2, -1, 0 },
		{ " 1", 2, -1, 0 },
		{ "1,000.00", 2, -1, 0 },
		{ "1e3", 2, -1, 0 },
		{ "0x10", 2, -1, 0 },
	};
	size_t	 i;
	int64_t	 v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 42;
		ck_assert_msg(settle_parse_amount(t[i].s, t[i].exponent, &v) ==
		    t[i].rc, "\"%s\"", t[i].s);
		ck_assert_msg(v == (t[i].rc == 0 ? t[i].want : 42),
		    "\"%s\" gave %" PRId64, t[i].s, v);
	}
	ck_assert_int_eq(settle_parse_amount(NULL, 2, &v), -1);
	ck_assert_int_eq(settle_parse_amount("1", -1, &v), -1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("settle");
	TCase	*tm = tcase_create("match");
	TCase	*tc = tcase_create("csv");
	TCase	*ta = tcase_create("amount");

	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, clean_file_matches_everything);
	tcase_add_test(tm, lost_capture_webhook_is_missing_from_ledger);
	tcase_add_test(tm, lines_missing_from_ledger);
	tcase_add_test(tm, capture_missing_from_settlement);
	tcase_add_test(tm, amount_and_currency_mismatches);
	tcase_add_test(tm, fee_difference_where_ledger_has_fee);
	tcase_add_test(tm, refund_dispute_and_payout_matched);
	tcase_add_test(tm, refund_dispute_and_payout_amounts_differ);
	tcase_add_test(tm, cumulative_refund_matches_by_payment);
	tcase_add_test(tm, refund_the_ledger_refused_is_missing);
	tcase_add_test(tm, payout_totals_per_automatic_payout);
	tcase_add_test(tm, read_only_connection);
	suite_add_tcase(s, tm);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, quoted_fields);
	tcase_add_test(tc, crlf_line_ends);
	tcase_add_test(tc, byte_order_mark);
	tcase_add_test(tc, malformed_fixtures);
	tcase_add_test(tc, malformed_records);
	tcase_add_test(tc, record_length_is_bounded);
	tcase_add_test(tc, field_count_is_bounded);
	tcase_add_test(tc, blank_lines_and_no_final_newline);
	suite_add_tcase(s, tc);
	tcase_add_test(ta, parse_amount);
	suite_add_tcase(s, ta);
	return s;
}

#include "tap.h"
