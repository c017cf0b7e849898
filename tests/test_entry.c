/*
 * test_entry.c: the canonical encoding and hash, against vectors computed
 * independently in Python (tests/vectors/entry_vectors.json).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "digest.h"
#include "entry.h"

static json_t *vectors;

static void
setup(void)
{
	const char	*top = getenv("HL_TOP_SRCDIR");
	char		 path[1024];
	json_error_t	 err;

	ck_assert_int_eq(digest_init(), 0);
	snprintf(path, sizeof(path), "%s/tests/vectors/entry_vectors.json",
	    top != NULL ? top : ".");
	vectors = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(vectors != NULL, "cannot load %s: %s", path, err.text);
}

static void
teardown(void)
{
	json_decref(vectors);
	digest_fini();
}

static void
unhex(const char *hex, unsigned char *out, size_t len)
{
	size_t i;

	ck_assert_uint_eq(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		unsigned int b;
		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (unsigned char)b;
	}
}

static struct entry_posting postings[ENTRY_POSTINGS_MAX];

static void
load(json_t *v, struct entry *e)
{
	json_t	*ps, *p;
	size_t	 i;

	memset(e, 0, sizeof(*e));
	e->format = (int)json_integer_value(json_object_get(v, "format"));
	ps = json_object_get(v, "postings");
	json_array_foreach(ps, i, p) {
		ck_assert_uint_lt(i, ENTRY_POSTINGS_MAX);
		postings[i].account = json_string_value(json_object_get(p,
		    "account"));
		postings[i].debit = json_integer_value(json_object_get(p,
		    "debit"));
		postings[i].credit = json_integer_value(json_object_get(p,
		    "credit"));
	}
	e->postings = postings;
	e->npostings = json_array_size(ps);
	e->seq = json_integer_value(json_object_get(v, "seq"));
	e->tenant = json_string_value(json_object_get(v, "tenant"));
	e->endpoint = json_string_value(json_object_get(v, "endpoint"));
	e->event_id = json_string_value(json_object_get(v, "event_id"));
	e->kind = json_string_value(json_object_get(v, "kind"));
	e->payment_ref = json_string_value(json_object_get(v, "payment_ref"));
	e->amount = json_integer_value(json_object_get(v, "amount"));
	e->currency = json_string_value(json_object_get(v, "currency"));
	e->occurred_at = json_integer_value(json_object_get(v, "occurred_at"));
	e->recorded_at = json_integer_value(json_object_get(v, "recorded_at"));
	unhex(json_string_value(json_object_get(v, "body_sha256")),
	    e->body_sha256, sizeof(e->body_sha256));
	unhex(json_string_value(json_object_get(v, "prev_hash")),
	    e->prev_hash, sizeof(e->prev_hash));
}

START_TEST(vectors_match)
{
	json_t	*entries = json_object_get(vectors, "entries"), *v;
	size_t	 i;

	ck_assert_uint_eq(json_array_size(entries), 5);
	json_array_foreach(entries, i, v) {
		struct entry	 e;
		unsigned char	 buf[ENTRY_ENCODED_MAX], h[32];
		char		 hex[2 * ENTRY_ENCODED_MAX + 1], hh[65];
		long		 n;

		load(v, &e);
		n = entry_encode(&e, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		digest_hex(buf, (size_t)n, hex);
		ck_assert_str_eq(hex, json_string_value(json_object_get(v,
		    "encoding_hex")));
		ck_assert_int_eq(entry_hash(&e, h), 0);
		digest_hex(h, sizeof(h), hh);
		ck_assert_str_eq(hh, json_string_value(json_object_get(v,
		    "hash")));
	}
}
END_TEST

START_TEST(every_field_changes_the_hash)
{
	struct entry	 e, f;
	unsigned char	 h0[32], h1[32];
	int		 field;

	load(json_array_get(json_object_get(vectors, "entries"), 0), &e);
	ck_assert_int_eq(entry_hash(&e, h0), 0);
	for (field = 0; field < 12; field++) {
		f = e;
		switch (field) {
		case 0: f.seq++; break;
		case 1: f.tenant = "acmf"; break;
		case 2: f.endpoint = "stripf"; break;
		case 3: f.event_id = "evt_2"; break;
		case 4: f.kind = "refund"; break;
		case 5: f.payment_ref = "pi_2"; break;
		case 6: f.amount++; break;
		case 7: f.currency = "EUR"; break;
		case 8: f.occurred_at++; break;
		case 9: f.recorded_at++; break;
		case 10: f.body_sha256[31] ^= 1; break;
		case 11: f.prev_hash[0] ^= 0x80; break;
		}
		ck_assert_int_eq(entry_hash(&f, h1), 0);
		ck_assert_msg(memcmp(h0, h1, 32) != 0, "field %d not hashed",
		    field);
	}
}
END_TEST

START_TEST(postings_are_hashed)
{
	struct entry		 e;
	struct entry_posting	 copy[ENTRY_POSTINGS_MAX];
	unsigned char		 h0[32], h1[32];

	load(json_array_get(json_object_get(vectors, "entries"), 3), &e);
	ck_assert_int_eq(e.format, 2);
	ck_assert_uint_eq(e.npostings, 3);
	ck_assert_int_eq(entry_hash(&e, h0), 0);
	memcpy(copy, postings, sizeof(copy));
	e.postings = copy;
	copy[0].debit--;
	copy[1].debit++;
	ck_assert_int_eq(entry_hash(&e, h1), 0);
	ck_assert(memcmp(h0, h1, 32) != 0);
	memcpy(copy, postings, sizeof(copy));
	copy[2].account = "suspense";
	ck_assert_int_eq(entry_hash(&e, h1), 0);
	ck_assert(memcmp(h0, h1, 32) != 0);
	e.npostings = 2;
	ck_assert_int_eq(entry_hash(&e, h1), 0);
	ck_assert(memcmp(h0, h1, 32) != 0);
	/* A format-2 entry without postings, and unknown formats, have no
	 * encoding. */
	e.npostings = 0;
	ck_assert_int_eq(entry_hash(&e, h1), -1);
	e.npostings = ENTRY_POSTINGS_MAX + 1;
	ck_assert_int_eq(entry_hash(&e, h1), -1);
	e.npostings = 3;
	e.format = 3;
	ck_assert_int_eq(entry_hash(&e, h1), -1);
	ck_assert_int_eq(entry_account_valid("provider_balance"), 1);
	ck_assert_int_eq(entry_account_valid("cash"), 0);
}
END_TEST

START_TEST(length_prefix_separates_fields)
{
	struct entry	 a, b;
	unsigned char	 ha[32], hb[32];

	load(json_array_get(json_object_get(vectors, "entries"), 0), &a);
	b = a;
	a.tenant = "ab";
	a.endpoint = "c";
	b.tenant = "a";
	b.endpoint = "bc";
	ck_assert_int_eq(entry_hash(&a, ha), 0);
	ck_assert_int_eq(entry_hash(&b, hb), 0);
	ck_assert(memcmp(ha, hb, 32) != 0);
}
END_TEST

START_TEST(overlong_field_refused)
{
	struct entry	 e;
	unsigned char	 h[32], small[16];
	char		 big[ENTRY_TEXT_MAX + 2];

	load(json_array_get(json_object_get(vectors, "entries"), 0), &e);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e.payment_ref = big;
	ck_assert_int_eq(entry_hash(&e, h), -1);
	big[ENTRY_TEXT_MAX] = '\0';
	ck_assert_int_eq(entry_hash(&e, h), 0);
	ck_assert_int_eq(entry_encode(&e, small, sizeof(small)), -1);
	e.tenant = NULL;
	ck_assert_int_eq(entry_hash(&e, h), -1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("entry");
	TCase	*tc = tcase_create("hash");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, vectors_match);
	tcase_add_test(tc, every_field_changes_the_hash);
	tcase_add_test(tc, postings_are_hashed);
	tcase_add_test(tc, length_prefix_separates_fields);
	tcase_add_test(tc, overlong_field_refused);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
