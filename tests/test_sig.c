/*
 * test_sig: digest, timestamp and signature verification.
 *
 * The published vectors in $HL_VECTORS and our own Stripe vectors in
 * $HL_TOP_SRCDIR/tests/vectors are read at run time; every header edge
 * case is tabled here against the official Standard Webhooks vector and
 * against stripe-own-basic, whose signatures were computed with Python.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>
#include <sodium.h>

#include "digest.h"
#include "secret.h"
#include "sig.h"

#define ck_assert_sig(got, want) \
	ck_assert_str_eq(sig_result_code(got), sig_result_code(want))

/* stdwh-v1-official, from the Standard Webhooks libraries' tests. */
#define SW_SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_SECRET2	"whsec_8G/ES79pQo0JwVhSY86u5mRR7aqFDa+LvRXkNGsdBD8="
#define SW_ID		"msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS		"1614265330"
#define SW_NOW		INT64_C(1614265330)
#define SW_BODY		"{\"test\": 2432232314}"
#define SW_B64		"g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SW_SIG		"v1," SW_B64
#define SW_BAD		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
/* SW_BODY signed with SW_SECRET2 (stdwh-v1-rotation's expected_sig_new). */
#define SW_SIG2		"v1,/C4iuLX7iy90atjgLVXS+q78EzCuuTf4phlJ0G47sRE="
/* {"a":"x\0y"} signed whole, and only up to the NUL (Python hmac). */
#define SW_NUL_BODY	"{\"a\":\"x\0y\"}"
#define SW_NUL_SIG	"v1,b7yfkE975KEsGlQiHxnQrLz34m6HOYWs0DQUR7rnvP0="
#define SW_NUL_TRUNC	"v1,mrwGAsgswWH8XH/26FmLngTpVPR0j5mZEXZfcN60ICE="

/* stripe-own-basic from tests/vectors/stripe_vectors.json. */
#define ST_SECRET	"whsec_hookledger_stripe_test_A1"
#define ST_SECRET2	"whsec_hookledger_stripe_test_B2"
#define ST_TS		"1700000000"
#define ST_NOW		INT64_C(1700000000)
#define ST_BODY \
	"{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"charge.succeeded\"}"
#define ST_HEX \
	"ed34cf008677ec77d6e7724ca556af7bd9de1b2e47e21c19082c7457a6715b30"
#define ST_ZERO \
	"0000000000000000000000000000000000000000000000000000000000000000"

#define TOL		INT64_C(300)

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
}

static void
teardown(void)
{
	digest_fini();
}

static void
load_key(const char *s, enum secret_scheme scheme, struct secret *out)
{
	char	 err[256];

	ck_assert_msg(secret_decode(s, strlen(s), scheme, out, err,
	    sizeof(err)) == 0, "secret_decode: %s", err);
}

static enum sig_result
stdwh1(const char *secret, const char *id, const char *ts, const char *sig,
    const void *body, size_t body_len, int64_t now, int64_t tol)
{
	struct secret	 k;
	enum sig_result	 r;

	load_key(secret, SECRET_STDWH, &k);
	r = sig_verify_stdwh(&k, 1, id, ts, sig, body, body_len, now, tol);
	secret_clear(&k);
	return r;
}

static enum sig_result
stripe1(const char *secret, const char *header, const void *body,
    size_t body_len, int64_t now, int64_t tol)
{
	struct secret	 k;
	enum sig_result	 r;

	load_key(secret, SECRET_STRIPE, &k);
	r = sig_verify_stripe(&k, 1, header, body, body_len, now, tol);
	secret_clear(&k);
	return r;
}

/* Base64 (standard, padded) into a malloc'd buffer; the caller frees. */
static unsigned char *
b64_decode(const char *s, size_t *outlen)
{
	unsigned char	*buf;
	size_t		 len = strlen(s), max = len / 4 * 3 + 1;

	ck_assert_ptr_nonnull(buf = malloc(max));
	ck_assert_int_eq(sodium_base642bin(buf, max, s, len, NULL, outlen,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return buf;
}

/*
 * Load dir/name where dir comes from the environment variable env, or say
 * why not on a "# skip:" line and return NULL.
 */
static json_t *
load_json(const char *env, const char *name)
{
	json_error_t	 jerr;
	json_t		*root;
	const char	*dir;
	char		 path[4096];

	if ((dir = getenv(env)) == NULL || *dir == '\0') {
		printf("# skip: %s is not set, so %s cannot be found\n",
		    env, name);
		fflush(stdout);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((root = json_load_file(path, JSON_ALLOW_NUL, &jerr)) == NULL) {
		printf("# skip: cannot load %s: %s\n", path, jerr.text);
		fflush(stdout);
		return NULL;
	}
	return root;
}

static json_t *
find_vector(json_t *root, const char *id)
{
	json_t		*v;
	const char	*vid;
	size_t		 i;

	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		vid = json_string_value(json_object_get(v, "id"));
		if (vid != NULL && strcmp(vid, id) == 0)
			return v;
	}
	ck_abort_msg("vector %s not found", id);
	return NULL;
}

static const char *
jstr(json_t *o, const char *path1, const char *path2)
{
	json_t		*v = json_object_get(o, path1);
	const char	*s;

	if (path2 != NULL)
		v = json_object_get(v, path2);
	s = json_string_value(v);
	ck_assert_msg(s != NULL, "vector lacks %s%s%s", path1,
	    path2 ? "." : "", path2 ? path2 : "");
	return s;
}

/* digest */

START_TEST(test_sha256_abc)
{
	unsigned char	 md[DIGEST_SHA256_LEN];
	char		 hex[2 * DIGEST_SHA256_LEN + 1];

	ck_assert_int_eq(digest_sha256("abc", 3, md), 0);
	digest_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(test_sha256_parts)
{
	struct digest_part	 p[3] = {
		{ "a", 1 }, { NULL, 0 }, { "bc", 2 }
	};
	unsigned char		 md[DIGEST_SHA256_LEN];
	char			 hex[2 * DIGEST_SHA256_LEN + 1];

	ck_assert_int_eq(digest_sha256_parts(p, 3, md), 0);
	digest_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

/* RFC 4231 test case 2, the message split in two. */
START_TEST(test_hmac_rfc4231)
{
	struct digest_part	 p[2] = { { "what do ya ", 11 },
				    { "want for nothing?", 17 } };
	unsigned char		 mac[DIGEST_SHA256_LEN];
	char			 hex[2 * DIGEST_SHA256_LEN + 1];

	ck_assert_int_eq(digest_hmac_sha256((const unsigned char *)"Jefe", 4,
	    p, 2, mac), 0);
	digest_hex(mac, sizeof(mac), hex);
	ck_assert_str_eq(hex,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

START_TEST(test_digest_hex)
{
	const unsigned char	 in[3] = { 0x00, 0xab, 0xff };
	char			 out[7];

	memset(out, 'x', sizeof(out));
	digest_hex(in, 3, out);
	ck_assert_str_eq(out, "00abff");
	digest_hex(in, 0, out);
	ck_assert_str_eq(out, "");
}
END_TEST

/* sig_parse_timestamp */

static const struct {
	const char	*s;
	int		 rc;
	int64_t		 want;
} ts_cases[] = {
	{ "0", 0, 0 },
	{ "1614265330", 0, INT64_C(1614265330) },
	{ "000123", 0, 123 },
	{ "999999999999999999", 0, INT64_C(999999999999999999) },
	{ "", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "123abc", -1, 0 },
	{ "-5", -1, 0 },
	{ "1.5", -1, 0 },
	{ "1e9", -1, 0 },
	{ "0x10", -1, 0 },
	{ "1000000000000000000", -1, 0 },	/* 19 digits */
	{ "9223372036854775807", -1, 0 },	/* 2^63 - 1 */
	{ "9223372036854775808", -1, 0 },	/* 2^63 */
	{ "18446744073709551616", -1, 0 },	/* 2^64 */
};

START_TEST(test_parse_timestamp)
{
	int64_t	 v = -42;
	int	 rc;

	rc = sig_parse_timestamp(ts_cases[_i].s, strlen(ts_cases[_i].s), &v);
	ck_assert_msg(rc == ts_cases[_i].rc, "\"%s\": rc %d", ts_cases[_i].s,
	    rc);
	if (rc == 0)
		ck_assert_int_eq(v, ts_cases[_i].want);
	else
		ck_assert_int_eq(v, -42);
}
END_TEST

START_TEST(test_parse_timestamp_bounded)
{
	int64_t	 v = -1;

	/* The length, not a NUL, ends the input. */
	ck_assert_int_eq(sig_parse_timestamp("12345", 3, &v), 0);
	ck_assert_int_eq(v, 123);
	ck_assert_int_eq(sig_parse_timestamp("12\0", 3, &v), -1);
	ck_assert_int_eq(sig_parse_timestamp(NULL, 0, &v), -1);
}
END_TEST

/* sig_check_time */

static const struct {
	int64_t		 ts, now, tol;
	enum sig_result	 want;
} time_cases[] = {
	{ 1000, 1000, 300, SIG_OK },
	{ 1000, 1300, 300, SIG_OK },		/* exactly at tolerance */
	{ 1000, 1301, 300, SIG_STALE },
	{ 1300, 1000, 300, SIG_OK },
	{ 1301, 1000, 300, SIG_FUTURE },
	{ 1000, 1000, 0, SIG_OK },
	{ 1000, 1001, 0, SIG_STALE },
	{ 1001, 1000, 0, SIG_FUTURE },
	{ 1000, 1001, -5, SIG_STALE },		/* negative counts as 0 */
	{ 0, INT64_MAX, 300, SIG_STALE },
	{ INT64_MAX, INT64_MIN, 300, SIG_FUTURE },
	{ INT64_MIN, INT64_MAX, INT64_MAX, SIG_STALE },
	{ 0, INT64_MAX, INT64_MAX, SIG_OK },
};

START_TEST(test_check_time)
{
	ck_assert_sig(sig_check_time(time_cases[_i].ts, time_cases[_i].now,
	    time_cases[_i].tol), time_cases[_i].want);
}
END_TEST

/* sig_result_code and sig_result_message */

static const struct {
	enum sig_result	 r;
	const char	*code;
	const char	*msg;
} result_cases[] = {
	{ SIG_OK, "ok", "The signature is valid." },
	{ SIG_MISSING, "signature_missing",
	    "A required signature header or part of it is missing." },
	{ SIG_MALFORMED, "signature_malformed",
	    "The signature header is malformed." },
	{ SIG_BAD_TIMESTAMP, "timestamp_invalid",
	    "The signature timestamp is not a valid Unix time." },
	{ SIG_STALE, "timestamp_stale", "The signature timestamp is too old." },
	{ SIG_FUTURE, "timestamp_future",
	    "The signature timestamp is too far in the future." },
	{ SIG_MISMATCH, "signature_mismatch", "No signature matched." },
};

START_TEST(test_result_strings)
{
	ck_assert_str_eq(sig_result_code(result_cases[_i].r),
	    result_cases[_i].code);
	ck_assert_str_eq(sig_result_message(result_cases[_i].r),
	    result_cases[_i].msg);
}
END_TEST

START_TEST(test_result_unknown)
{
	ck_assert_str_eq(sig_result_code((enum sig_result)99), "unknown");
	ck_assert_str_eq(sig_result_message((enum sig_result)99),
	    "The signature could not be checked.");
}
END_TEST

/* Standard Webhooks: headers against stdwh-v1-official */

static const struct {
	const char	*name, *id, *ts, *sig;
	enum sig_result	 want;
} sw_cases[] = {
	{ "official", SW_ID, SW_TS, SW_SIG, SIG_OK },
	{ "no id", NULL, SW_TS, SW_SIG, SIG_MISSING },
	{ "no timestamp", SW_ID, NULL, SW_SIG, SIG_MISSING },
	{ "no signature", SW_ID, SW_TS, NULL, SIG_MISSING },
	{ "empty signature", SW_ID, SW_TS, "", SIG_MISSING },
	{ "missing beats malformed", "", SW_TS, NULL, SIG_MISSING },
	{ "empty id", "", SW_TS, SW_SIG, SIG_MALFORMED },
	{ "id with space", "msg 1", SW_TS, SW_SIG, SIG_MALFORMED },
	{ "id with tab", "msg\t1", SW_TS, SW_SIG, SIG_MALFORMED },
	{ "id with DEL", "msg\x7f", SW_TS, SW_SIG, SIG_MALFORMED },
	{ "id not ASCII", "msg_\xc3\xa9", SW_TS, SW_SIG, SIG_MALFORMED },
	{ "id before timestamp", "a b", "x", SW_SIG, SIG_MALFORMED },
	{ "empty timestamp", SW_ID, "", SW_SIG, SIG_BAD_TIMESTAMP },
	{ "signed timestamp", SW_ID, "+1614265330", SW_SIG, SIG_BAD_TIMESTAMP },
	{ "negative timestamp", SW_ID, "-1614265330", SW_SIG,
	    SIG_BAD_TIMESTAMP },
	{ "leading space", SW_ID, " 1614265330", SW_SIG, SIG_BAD_TIMESTAMP },
	{ "trailing space", SW_ID, "1614265330 ", SW_SIG, SIG_BAD_TIMESTAMP },
	{ "digits then letters", SW_ID, "1614265330abc", SW_SIG,
	    SIG_BAD_TIMESTAMP },
	{ "fraction", SW_ID, "1614265330.0", SW_SIG, SIG_BAD_TIMESTAMP },
	{ "19 digits", SW_ID, "1614265330000000000", SW_SIG,
	    SIG_BAD_TIMESTAMP },
	{ "2^63", SW_ID, "9223372036854775808", SW_SIG, SIG_BAD_TIMESTAMP },
	{ "timestamp before signature", SW_ID, "x", "garbage",
	    SIG_BAD_TIMESTAMP },
	{ "time before signature", SW_ID, "1614260000", "garbage", SIG_STALE },
	{ "spaces around", SW_ID, SW_TS, "   " SW_SIG "   ", SIG_OK },
	{ "bad then good", SW_ID, SW_TS, SW_BAD " " SW_SIG, SIG_OK },
	{ "good then bad", SW_ID, SW_TS, SW_SIG "  " SW_BAD, SIG_OK },
	{ "unknown versions skipped", SW_ID, SW_TS,
	    "v1a,AAAA v2," SW_B64 " junk " SW_SIG, SIG_OK },
	{ "bad only", SW_ID, SW_TS, SW_BAD, SIG_MISMATCH },
	{ "v2 only", SW_ID, SW_TS, "v2," SW_B64, SIG_MISMATCH },
	{ "version is case-sensitive", SW_ID, SW_TS, "V1," SW_B64,
	    SIG_MISMATCH },
	{ "v1 short base64", SW_ID, SW_TS, "v1,abc", SIG_MISMATCH },
	{ "v1 of 31 bytes", SW_ID, SW_TS,
	    "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", SIG_MISMATCH },
	{ "v1 of 33 bytes", SW_ID, SW_TS,
	    "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", SIG_MISMATCH },
	{ "v1 unpadded", SW_ID, SW_TS,
	    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", SIG_MISMATCH },
	{ "v1 url-safe alphabet", SW_ID, SW_TS,
	    "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", SIG_MISMATCH },
	{ "v1 bad character", SW_ID, SW_TS,
	    "v1,g0hM9SsE*OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SIG_MISMATCH },
	{ "tab is no separator", SW_ID, SW_TS, SW_BAD "\t" SW_SIG,
	    SIG_MISMATCH },
	{ "garbage", SW_ID, SW_TS, "garbage", SIG_MALFORMED },
	{ "only spaces", SW_ID, SW_TS, "   ", SIG_MALFORMED },
	{ "version alone", SW_ID, SW_TS, "v1", SIG_MALFORMED },
	{ "empty value", SW_ID, SW_TS, "v1,", SIG_MALFORMED },
	{ "empty version", SW_ID, SW_TS, "," SW_B64, SIG_MALFORMED },
	{ "semicolon", SW_ID, SW_TS, "v1;" SW_B64, SIG_MALFORMED },
	{ "equals", SW_ID, SW_TS, "v1=" SW_B64, SIG_MALFORMED },
};

START_TEST(test_stdwh_headers)
{
	enum sig_result	 r;

	r = stdwh1(SW_SECRET, sw_cases[_i].id, sw_cases[_i].ts,
	    sw_cases[_i].sig, SW_BODY, strlen(SW_BODY), SW_NOW, TOL);
	ck_assert_msg(r == sw_cases[_i].want, "%s: got %s, want %s",
	    sw_cases[_i].name, sig_result_code(r),
	    sig_result_code(sw_cases[_i].want));
}
END_TEST

static const struct {
	int64_t		 now, tol;
	enum sig_result	 want;
} sw_time_cases[] = {
	{ SW_NOW + 300, 300, SIG_OK },
	{ SW_NOW + 301, 300, SIG_STALE },
	{ SW_NOW - 300, 300, SIG_OK },
	{ SW_NOW - 301, 300, SIG_FUTURE },
	{ SW_NOW, 0, SIG_OK },
	{ SW_NOW + 1, 0, SIG_STALE },
	{ SW_NOW - 1, 0, SIG_FUTURE },
};

START_TEST(test_stdwh_tolerance)
{
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_SIG, SW_BODY,
	    strlen(SW_BODY), sw_time_cases[_i].now, sw_time_cases[_i].tol),
	    sw_time_cases[_i].want);
}
END_TEST

START_TEST(test_stdwh_nul_body)
{
	size_t	 len = sizeof(SW_NUL_BODY) - 1;

	ck_assert_uint_eq(len, 11);
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_NUL_SIG, SW_NUL_BODY,
	    len, SW_NOW, TOL), SIG_OK);
	/* Neither the signature of the bytes up to the NUL... */
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_NUL_TRUNC,
	    SW_NUL_BODY, len, SW_NOW, TOL), SIG_MISMATCH);
	/* ... nor the body cut at the NUL passes for the whole. */
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_NUL_SIG, SW_NUL_BODY,
	    strlen(SW_NUL_BODY), SW_NOW, TOL), SIG_MISMATCH);
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_NUL_TRUNC,
	    SW_NUL_BODY, strlen(SW_NUL_BODY), SW_NOW, TOL), SIG_OK);
}
END_TEST

START_TEST(test_stdwh_empty_body)
{
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS,
	    "v1,v48jdbgvh29KJz2Qc+ghw8G6vG3nAKnujWBg8oM/62A=", NULL, 0,
	    SW_NOW, TOL), SIG_OK);
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_SIG, NULL, 0,
	    SW_NOW, TOL), SIG_MISMATCH);
}
END_TEST

START_TEST(test_stdwh_rotation)
{
	struct secret	 k[3];

	load_key(SW_SECRET, SECRET_STDWH, &k[0]);
	load_key(SW_SECRET2, SECRET_STDWH, &k[1]);
	load_key("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    SECRET_STDWH, &k[2]);
	/* Either key, in either place, accepts its own signature. */
	ck_assert_sig(sig_verify_stdwh(k, 2, SW_ID, SW_TS, SW_SIG,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_OK);
	ck_assert_sig(sig_verify_stdwh(k, 2, SW_ID, SW_TS, SW_SIG2,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_OK);
	ck_assert_sig(sig_verify_stdwh(k + 1, 2, SW_ID, SW_TS, SW_SIG,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_MISMATCH);
	ck_assert_sig(sig_verify_stdwh(k + 1, 2, SW_ID, SW_TS, SW_SIG2,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_OK);
	/* The wrong key alone, and no key at all, accept nothing. */
	ck_assert_sig(sig_verify_stdwh(k + 2, 1, SW_ID, SW_TS, SW_SIG,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_MISMATCH);
	ck_assert_sig(sig_verify_stdwh(k, 0, SW_ID, SW_TS, SW_SIG,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_MISMATCH);
	ck_assert_sig(sig_verify_stdwh(NULL, 0, SW_ID, SW_TS, SW_SIG,
	    (const unsigned char *)SW_BODY, strlen(SW_BODY), SW_NOW, TOL),
	    SIG_MISMATCH);
	secret_clear(&k[0]);
	secret_clear(&k[1]);
	secret_clear(&k[2]);
}
END_TEST

/* n - 1 wrong v1 entries, then the right one, at position n. */
static char *
stdwh_many(size_t n)
{
	char	*h;
	size_t	 i, cap = n * (sizeof(SW_BAD) + 1) + 1;

	ck_assert_ptr_nonnull(h = calloc(1, cap));
	for (i = 1; i < n; i++) {
		strcat(h, SW_BAD);
		strcat(h, " ");
	}
	strcat(h, SW_SIG);
	return h;
}

START_TEST(test_stdwh_max_candidates)
{
	char	*h;

	h = stdwh_many(SIG_MAX_CANDIDATES);
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, h, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_OK);
	free(h);
	/* One more is malformed, not a mismatch: the good one is last. */
	h = stdwh_many(SIG_MAX_CANDIDATES + 1);
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, h, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_MALFORMED);
	free(h);
}
END_TEST

/* Entries that are not v1 do not use up candidate slots. */
START_TEST(test_stdwh_skipped_do_not_count)
{
	char	 h[2048] = "";
	size_t	 i;

	for (i = 0; i < 2 * SIG_MAX_CANDIDATES; i++)
		strcat(h, "v2," SW_B64 " ");
	strcat(h, SW_SIG);
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, h, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_OK);
}
END_TEST

START_TEST(test_stdwh_header_length)
{
	char	 h[SIG_MAX_HEADER + 2];
	size_t	 n = strlen(SW_SIG);

	/* The signature, then spaces up to exactly SIG_MAX_HEADER bytes. */
	memcpy(h, SW_SIG, n);
	memset(h + n, ' ', SIG_MAX_HEADER - n);
	h[SIG_MAX_HEADER] = '\0';
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, h, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_OK);
	h[SIG_MAX_HEADER] = ' ';
	h[SIG_MAX_HEADER + 1] = '\0';
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, h, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_MALFORMED);
}
END_TEST

START_TEST(test_stdwh_id_length)
{
	char	 id[SIG_MAX_ID + 2];

	memset(id, 'a', SIG_MAX_ID);
	id[SIG_MAX_ID] = '\0';
	/* A well-formed id that was not the one signed. */
	ck_assert_sig(stdwh1(SW_SECRET, id, SW_TS, SW_SIG, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_MISMATCH);
	id[SIG_MAX_ID] = 'a';
	id[SIG_MAX_ID + 1] = '\0';
	ck_assert_sig(stdwh1(SW_SECRET, id, SW_TS, SW_SIG, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_MALFORMED);
}
END_TEST

/* Stripe: headers against stripe-own-basic */

static const struct {
	const char	*name, *header;
	enum sig_result	 want;
} st_cases[] = {
	{ "basic", "t=" ST_TS ",v1=" ST_HEX, SIG_OK },
	{ "null", NULL, SIG_MISSING },
	{ "empty", "", SIG_MISSING },
	{ "space after comma", "t=" ST_TS ", v1=" ST_HEX, SIG_OK },
	{ "tab after comma", "t=" ST_TS ",\tv1=" ST_HEX, SIG_OK },
	{ "spaces around", "  t=" ST_TS " , v1=" ST_HEX "  ", SIG_OK },
	{ "upper-case hex", "t=" ST_TS ",v1="
	    "ED34CF008677EC77D6E7724CA556AF7BD9DE1B2E47E21C19082C7457A6715B30",
	    SIG_OK },
	{ "t last", "v1=" ST_HEX ",t=" ST_TS, SIG_OK },
	{ "v0 and unknown ignored", "t=" ST_TS ",v0=" ST_ZERO ",x=1,v1="
	    ST_HEX, SIG_OK },
	{ "bad then good", "t=" ST_TS ",v1=" ST_ZERO ",v1=" ST_HEX, SIG_OK },
	{ "good then bad", "t=" ST_TS ",v1=" ST_HEX ",v1=" ST_ZERO, SIG_OK },
	{ "malformed v1 then good", "t=" ST_TS ",v1=xyz,v1=" ST_HEX, SIG_OK },
	{ "trailing comma", "t=" ST_TS ",v1=" ST_HEX ",", SIG_OK },
	{ "empty item", "t=" ST_TS ",,v1=" ST_HEX, SIG_OK },
	{ "wrong v1", "t=" ST_TS ",v1=" ST_ZERO, SIG_MISMATCH },
	{ "v1 of 63 hex", "t=" ST_TS ",v1="
	    "ed34cf008677ec77d6e7724ca556af7bd9de1b2e47e21c19082c7457a6715b3",
	    SIG_MISMATCH },
	{ "v1 of 65 hex", "t=" ST_TS ",v1=" ST_HEX "0", SIG_MISMATCH },
	{ "v1 not hex", "t=" ST_TS ",v1="
	    "gd34cf008677ec77d6e7724ca556af7bd9de1b2e47e21c19082c7457a6715b30",
	    SIG_MISMATCH },
	{ "v1 empty", "t=" ST_TS ",v1=", SIG_MISMATCH },
	{ "v1 with inner space", "t=" ST_TS ",v1= " ST_HEX, SIG_MISMATCH },
	{ "no v1", "t=" ST_TS, SIG_MISSING },
	{ "v0 only", "t=" ST_TS ",v0=" ST_HEX, SIG_MISSING },
	{ "unknown version only", "t=" ST_TS ",v2=" ST_HEX, SIG_MISSING },
	{ "no t", "v1=" ST_HEX, SIG_MALFORMED },
	{ "key is case-sensitive", "T=" ST_TS ",v1=" ST_HEX, SIG_MALFORMED },
	{ "two t", "t=" ST_TS ",t=" ST_TS ",v1=" ST_HEX, SIG_MALFORMED },
	{ "two t, first bad", "t=x,t=" ST_TS ",v1=" ST_HEX, SIG_MALFORMED },
	{ "item without =", "t=" ST_TS ",garbage,v1=" ST_HEX, SIG_MALFORMED },
	{ "item with empty key", "t=" ST_TS ",=x,v1=" ST_HEX, SIG_MALFORMED },
	{ "only spaces", "   ", SIG_MALFORMED },
	{ "only commas", ",,,", SIG_MALFORMED },
	{ "semicolons", "t=" ST_TS ";v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "empty t", "t=,v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "signed t", "t=+" ST_TS ",v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "negative t", "t=-" ST_TS ",v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "space inside t", "t= " ST_TS ",v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "t then letters", "t=" ST_TS "abc,v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "t of 19 digits", "t=1700000000000000000,v1=" ST_HEX,
	    SIG_BAD_TIMESTAMP },
	{ "t of 2^63", "t=9223372036854775808,v1=" ST_HEX, SIG_BAD_TIMESTAMP },
	{ "timestamp before v1", "t=x", SIG_BAD_TIMESTAMP },
	{ "time before v1", "t=1699990000", SIG_STALE },
	{ "leading zeros signed differently", "t=0" ST_TS ",v1=" ST_HEX,
	    SIG_MISMATCH },
};

START_TEST(test_stripe_headers)
{
	enum sig_result	 r;

	r = stripe1(ST_SECRET, st_cases[_i].header, ST_BODY, strlen(ST_BODY),
	    ST_NOW, TOL);
	ck_assert_msg(r == st_cases[_i].want, "%s: got %s, want %s",
	    st_cases[_i].name, sig_result_code(r),
	    sig_result_code(st_cases[_i].want));
}
END_TEST

static const struct {
	int64_t		 now, tol;
	enum sig_result	 want;
} st_time_cases[] = {
	{ ST_NOW + 300, 300, SIG_OK },
	{ ST_NOW + 301, 300, SIG_STALE },
	{ ST_NOW - 300, 300, SIG_OK },
	{ ST_NOW - 301, 300, SIG_FUTURE },
	{ ST_NOW, 0, SIG_OK },
	{ ST_NOW + 1, 0, SIG_STALE },
	{ ST_NOW - 1, 0, SIG_FUTURE },
};

START_TEST(test_stripe_tolerance)
{
	ck_assert_sig(stripe1(ST_SECRET, "t=" ST_TS ",v1=" ST_HEX, ST_BODY,
	    strlen(ST_BODY), st_time_cases[_i].now, st_time_cases[_i].tol),
	    st_time_cases[_i].want);
}
END_TEST

static char *
stripe_many(size_t n)
{
	char	*h;
	size_t	 i, cap = 16 + n * (sizeof(",v1=" ST_ZERO)) + 1;

	ck_assert_ptr_nonnull(h = calloc(1, cap));
	strcat(h, "t=" ST_TS);
	for (i = 1; i < n; i++)
		strcat(h, ",v1=" ST_ZERO);
	strcat(h, ",v1=" ST_HEX);
	return h;
}

START_TEST(test_stripe_max_candidates)
{
	char	*h;

	h = stripe_many(SIG_MAX_CANDIDATES);
	ck_assert_sig(stripe1(ST_SECRET, h, ST_BODY, strlen(ST_BODY), ST_NOW,
	    TOL), SIG_OK);
	free(h);
	h = stripe_many(SIG_MAX_CANDIDATES + 1);
	ck_assert_sig(stripe1(ST_SECRET, h, ST_BODY, strlen(ST_BODY), ST_NOW,
	    TOL), SIG_MALFORMED);
	free(h);
}
END_TEST

START_TEST(test_stripe_header_length)
{
	char	 h[SIG_MAX_HEADER + 2];
	size_t	 n = strlen("t=" ST_TS ",v1=" ST_HEX);

	memcpy(h, "t=" ST_TS ",v1=" ST_HEX, n);
	memset(h + n, ' ', SIG_MAX_HEADER - n);
	h[SIG_MAX_HEADER] = '\0';
	ck_assert_sig(stripe1(ST_SECRET, h, ST_BODY, strlen(ST_BODY), ST_NOW,
	    TOL), SIG_OK);
	h[SIG_MAX_HEADER] = ' ';
	h[SIG_MAX_HEADER + 1] = '\0';
	ck_assert_sig(stripe1(ST_SECRET, h, ST_BODY, strlen(ST_BODY), ST_NOW,
	    TOL), SIG_MALFORMED);
}
END_TEST

START_TEST(test_stripe_rotation)
{
	struct secret	 k[2];
	const char	*h = "t=" ST_TS ",v1=" ST_HEX;

	load_key(ST_SECRET2, SECRET_STRIPE, &k[0]);
	load_key(ST_SECRET, SECRET_STRIPE, &k[1]);
	ck_assert_sig(sig_verify_stripe(k, 2, h,
	    (const unsigned char *)ST_BODY, strlen(ST_BODY), ST_NOW, TOL),
	    SIG_OK);
	ck_assert_sig(sig_verify_stripe(k, 1, h,
	    (const unsigned char *)ST_BODY, strlen(ST_BODY), ST_NOW, TOL),
	    SIG_MISMATCH);
	ck_assert_sig(sig_verify_stripe(k, 0, h,
	    (const unsigned char *)ST_BODY, strlen(ST_BODY), ST_NOW, TOL),
	    SIG_MISMATCH);
	secret_clear(&k[0]);
	secret_clear(&k[1]);
}
END_TEST

/* The Stripe key is the secret's text: decoding it as Standard Webhooks
 * would give other key bytes and must not verify. */
START_TEST(test_schemes_do_not_mix)
{
	ck_assert_sig(stdwh1(SW_SECRET, SW_ID, SW_TS, SW_SIG, SW_BODY,
	    strlen(SW_BODY), SW_NOW, TOL), SIG_OK);
	ck_assert_sig(stripe1(SW_SECRET, "t=" ST_TS ",v1=" ST_HEX, ST_BODY,
	    strlen(ST_BODY), ST_NOW, TOL), SIG_MISMATCH);
}
END_TEST

/* The shared vectors, read from $HL_VECTORS */

#define SHARED_FILE	"webhook_signature_vectors.json"

static const struct {
	const char	*id;
	const char	*secret;	/* NULL: the vector's own "secret" */
	enum sig_result	 want;
} shared_cases[] = {
	{ "stdwh-v1-official", NULL, SIG_OK },
	{ "stdwh-v1-bad-sig", NULL, SIG_MISMATCH },
	{ "stdwh-v1-rotation", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    SIG_OK },
	{ "stdwh-v1-rotation",
	    "whsec_8G/ES79pQo0JwVhSY86u5mRR7aqFDa+LvRXkNGsdBD8=", SIG_OK },
	{ "stdwh-v1-trailing-newline", NULL, SIG_MISMATCH },
	{ "stdwh-v1-utf8-body", NULL, SIG_OK },
	{ "stripe-v1", NULL, SIG_OK },
	{ "stripe-v1-rotation-and-spaces", "whsec_rotated_secret_2", SIG_OK },
	{ "stripe-v1-rotation-and-spaces", "whsec_test_secret", SIG_MISMATCH },
};

START_TEST(test_shared_vectors)
{
	json_t		*root, *v;
	struct secret	 k;
	unsigned char	*body;
	const char	*secret;
	size_t		 body_len;
	int64_t		 now;
	enum sig_result	 r;
	int		 stripe;

	if ((root = load_json("HL_VECTORS", SHARED_FILE)) == NULL)
		return;
	v = find_vector(root, shared_cases[_i].id);
	secret = shared_cases[_i].secret != NULL ? shared_cases[_i].secret :
	    jstr(v, "secret", NULL);
	stripe = strncmp(shared_cases[_i].id, "stripe-", 7) == 0;
	ck_assert(json_is_integer(json_object_get(v, "expect_valid_at")));
	now = json_integer_value(json_object_get(v, "expect_valid_at"));
	body = b64_decode(jstr(v, "body_b64", NULL), &body_len);
	load_key(secret, stripe ? SECRET_STRIPE : SECRET_STDWH, &k);
	if (stripe)
		r = sig_verify_stripe(&k, 1,
		    jstr(v, "headers", "Stripe-Signature"), body, body_len,
		    now, TOL);
	else
		r = sig_verify_stdwh(&k, 1,
		    jstr(v, "headers", "webhook-id"),
		    jstr(v, "headers", "webhook-timestamp"),
		    jstr(v, "headers", "webhook-signature"), body, body_len,
		    now, TOL);
	ck_assert_msg(r == shared_cases[_i].want, "%s: got %s, want %s",
	    shared_cases[_i].id, sig_result_code(r),
	    sig_result_code(shared_cases[_i].want));
	secret_clear(&k);
	free(body);
	json_decref(root);
}
END_TEST

/* Both secrets of each rotation vector configured at once. */
START_TEST(test_shared_rotation_both)
{
	static const char	*ids[] = { "stdwh-v1-rotation",
				    "stripe-v1-rotation-and-spaces" };
	json_t			*root, *v, *s;
	struct secret		 k[2];
	unsigned char		*body;
	size_t			 body_len, i, j;
	int64_t			 now;
	enum sig_result		 r;

	if ((root = load_json("HL_VECTORS", SHARED_FILE)) == NULL)
		return;
	for (i = 0; i < 2; i++) {
		v = find_vector(root, ids[i]);
		ck_assert_uint_eq(json_array_size(json_object_get(v,
		    "secrets_accepted")), 2);
		json_array_foreach(json_object_get(v, "secrets_accepted"),
		    j, s)
			load_key(json_string_value(s),
			    i ? SECRET_STRIPE : SECRET_STDWH, &k[j]);
		now = json_integer_value(json_object_get(v,
		    "expect_valid_at"));
		body = b64_decode(jstr(v, "body_b64", NULL), &body_len);
		if (i)
			r = sig_verify_stripe(k, 2,
			    jstr(v, "headers", "Stripe-Signature"), body,
			    body_len, now, TOL);
		else
			r = sig_verify_stdwh(k, 2,
			    jstr(v, "headers", "webhook-id"),
			    jstr(v, "headers", "webhook-timestamp"),
			    jstr(v, "headers", "webhook-signature"), body,
			    body_len, now, TOL);
		ck_assert_sig(r, SIG_OK);
		secret_clear(&k[0]);
		secret_clear(&k[1]);
		free(body);
	}
	json_decref(root);
}
END_TEST

/* Our own Stripe vectors, from $HL_TOP_SRCDIR/tests/vectors */

#define OWN_FILE	"tests/vectors/stripe_vectors.json"
#define OWN_COUNT	18

START_TEST(test_own_stripe_vectors)
{
	json_t		*root, *v, *s;
	struct secret	 k[4];
	unsigned char	*body;
	const char	*utf8, *want;
	size_t		 body_len, i, nk;
	enum sig_result	 r;

	if ((root = load_json("HL_TOP_SRCDIR", OWN_FILE)) == NULL)
		return;
	ck_assert_uint_eq(json_array_size(json_object_get(root, "vectors")),
	    OWN_COUNT);
	v = json_array_get(json_object_get(root, "vectors"), _i);
	ck_assert_ptr_nonnull(v);
	nk = json_array_size(json_object_get(v, "secrets"));
	ck_assert(nk >= 1 && nk <= 4);
	json_array_foreach(json_object_get(v, "secrets"), i, s)
		load_key(json_string_value(s), SECRET_STRIPE, &k[i]);
	body = b64_decode(jstr(v, "body_b64", NULL), &body_len);
	/* body_utf8 must be the same bytes, NULs included. */
	utf8 = jstr(v, "body_utf8", NULL);
	ck_assert_uint_eq(json_string_length(json_object_get(v, "body_utf8")),
	    body_len);
	ck_assert(body_len == 0 || memcmp(utf8, body, body_len) == 0);
	r = sig_verify_stripe(k, nk, jstr(v, "header", NULL), body, body_len,
	    json_integer_value(json_object_get(v, "now")),
	    json_integer_value(json_object_get(v, "tolerance")));
	want = jstr(v, "expect", NULL);
	ck_assert_msg(strcmp(sig_result_code(r), want) == 0,
	    "%s: got %s, want %s", jstr(v, "id", NULL), sig_result_code(r),
	    want);
	ck_assert_int_eq(json_is_true(json_object_get(v, "expect_valid")),
	    r == SIG_OK);
	for (i = 0; i < nk; i++)
		secret_clear(&k[i]);
	free(body);
	json_decref(root);
}
END_TEST

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("sig");
	TCase	*tc;

	tc = tcase_create("digest");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sha256_abc);
	tcase_add_test(tc, test_sha256_parts);
	tcase_add_test(tc, test_hmac_rfc4231);
	tcase_add_test(tc, test_digest_hex);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_timestamp, 0, NELEM(ts_cases));
	tcase_add_test(tc, test_parse_timestamp_bounded);
	tcase_add_loop_test(tc, test_check_time, 0, NELEM(time_cases));
	tcase_add_loop_test(tc, test_result_strings, 0, NELEM(result_cases));
	tcase_add_test(tc, test_result_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("stdwh");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_stdwh_headers, 0, NELEM(sw_cases));
	tcase_add_loop_test(tc, test_stdwh_tolerance, 0, NELEM(sw_time_cases));
	tcase_add_test(tc, test_stdwh_nul_body);
	tcase_add_test(tc, test_stdwh_empty_body);
	tcase_add_test(tc, test_stdwh_rotation);
	tcase_add_test(tc, test_stdwh_max_candidates);
	tcase_add_test(tc, test_stdwh_skipped_do_not_count);
	tcase_add_test(tc, test_stdwh_header_length);
	tcase_add_test(tc, test_stdwh_id_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("stripe");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_stripe_headers, 0, NELEM(st_cases));
	tcase_add_loop_test(tc, test_stripe_tolerance, 0, NELEM(st_time_cases));
	tcase_add_test(tc, test_stripe_max_candidates);
	tcase_add_test(tc, test_stripe_header_length);
	tcase_add_test(tc, test_stripe_rotation);
	tcase_add_test(tc, test_schemes_do_not_mix);
	suite_add_tcase(s, tc);

	tc = tcase_create("vectors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_shared_vectors, 0, NELEM(shared_cases));
	tcase_add_test(tc, test_shared_rotation_both);
	tcase_add_loop_test(tc, test_own_stripe_vectors, 0, OWN_COUNT);
	suite_add_tcase(s, tc);

	return s;
}

#include "tap.h"
