/*
 * test_merkle.c: the RFC 9162 Merkle tree against a second implementation
 * written here from the RFC's recursive definitions (MTH, PATH, PROOF and
 * SUBPROOF of 2.1, 2.1.3.1 and 2.1.4.1) with OpenSSL's SHA-256 used
 * directly, and against vectors computed in Python
 * (tests/vectors/merkle_vectors.json).
 *
 * The sweeps below check hundreds of thousands of cases; they count their
 * failures and assert once, so that Check does not record every pass.
 */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "digest.h"
#include "merkle.h"

#define HL	MERKLE_HASH_LEN
#define NMAX	64			/* every tree size 1..NMAX is swept */
#define PCAP	(MERKLE_MAX_DEPTH + 2)	/* room for a proof and extras */

static unsigned char	 leaves[NMAX][HL];
static unsigned char	 roots[NMAX + 1][HL];	/* roots[n]: naive MTH */

static unsigned long	 ncase, nfail;
static char		 first_fail[160];

/* SHA-256(prefix || a || b) without src/digest.c or src/merkle.c; a
 * negative prefix is none. Hot: asserts only on failure. */
static void
sha(int prefix, const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[HL])
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	unsigned char	 p = (unsigned char)prefix;
	unsigned int	 len = 0;
	int		 ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    (prefix < 0 || EVP_DigestUpdate(ctx, &p, 1) == 1) &&
	    (alen == 0 || EVP_DigestUpdate(ctx, a, alen) == 1) &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == HL;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		ck_abort_msg("OpenSSL SHA-256 failed");
}

/* The k of 2.1: the largest power of two smaller than n, n > 1. */
static uint64_t
naive_k(uint64_t n)
{
	uint64_t	 k = 1;

	while (k < n - k)
		k *= 2;
	return k;
}

/* MTH(D[n]) of 2.1, literally. */
static void
naive_mth(const unsigned char (*d)[HL], uint64_t n, unsigned char out[HL])
{
	unsigned char	 l[HL], r[HL];
	uint64_t	 k;

	if (n == 0) {
		sha(-1, NULL, 0, NULL, 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], HL);
		return;
	}
	k = naive_k(n);
	naive_mth(d, k, l);
	naive_mth(d + k, n - k, r);
	sha(1, l, HL, r, HL, out);
}

/* PATH(m, D[n]) of 2.1.3.1: appends to out[*len]. */
static void
naive_path(uint64_t m, const unsigned char (*d)[HL], uint64_t n,
    unsigned char out[][HL], size_t *len)
{
	uint64_t	 k;

	if (n == 1)
		return;
	k = naive_k(n);
	if (m < k) {
		naive_path(m, d, k, out, len);
		naive_mth(d + k, n - k, out[(*len)++]);
	} else {
		naive_path(m - k, d + k, n - k, out, len);
		naive_mth(d, k, out[(*len)++]);
	}
}

/* SUBPROOF(m, D[n], b) of 2.1.4.1: appends to out[*len]. */
static void
naive_subproof(uint64_t m, const unsigned char (*d)[HL], uint64_t n, int b,
    unsigned char out[][HL], size_t *len)
{
	uint64_t	 k;

	if (m == n) {
		if (!b)
			naive_mth(d, n, out[(*len)++]);
		return;
	}
	k = naive_k(n);
	if (m <= k) {
		naive_subproof(m, d, k, b, out, len);
		naive_mth(d + k, n - k, out[(*len)++]);
	} else {
		naive_subproof(m - k, d + k, n - k, 0, out, len);
		naive_mth(d, k, out[(*len)++]);
	}
}

/* PROOF(m, D[n]). */
static void
naive_proof(uint64_t m, const unsigned char (*d)[HL], uint64_t n,
    unsigned char out[][HL], size_t *len)
{
	*len = 0;
	naive_subproof(m, d, n, 1, out, len);
}

/* The subtree source the proofs are built from: the naive MTH over an
 * array, which also checks what merkle.c asks of it. */
struct source {
	const unsigned char	(*d)[HL];
	uint64_t		 size;
	unsigned long		 calls;
	int			 fail_at;	/* fail the call of this number */
	int			 bad;		/* a request broke the contract */
};

static int
source_get(void *cls, uint64_t start, uint64_t count, unsigned char out[HL])
{
	struct source	*s = cls;

	s->calls++;
	if (count == 0 || start > s->size || count > s->size - start) {
		s->bad = 1;
		return -1;
	}
	if (s->fail_at > 0 && s->calls == (unsigned long)s->fail_at)
		return -1;
	naive_mth(s->d + start, count, out);
	return 0;
}

static void
source_init(struct source *s, const unsigned char (*d)[HL], uint64_t size)
{
	memset(s, 0, sizeof(*s));
	s->d = d;
	s->size = size;
}

static void
tally(int ok, const char *what, uint64_t a, uint64_t b, uint64_t c)
{
	ncase++;
	if (!ok && nfail++ == 0)
		snprintf(first_fail, sizeof(first_fail),
		    "%s (%" PRIu64 ", %" PRIu64 ", %" PRIu64 ")", what, a, b, c);
}

#define ASSERT_TALLY(expected) do {					\
	ck_assert_msg(nfail == 0, "%lu of %lu cases failed, first: %s",	\
	    nfail, ncase, first_fail);					\
	ck_assert_uint_eq(ncase, (expected));				\
} while (0)

static void
setup(void)
{
	unsigned char	 b;
	uint64_t	 n;

	ck_assert_int_eq(digest_init(), 0);
	for (n = 0; n < NMAX; n++) {
		b = (unsigned char)n;
		sha(0, &b, 1, NULL, 0, leaves[n]);
	}
	for (n = 0; n <= NMAX; n++)
		naive_mth(leaves, n, roots[n]);
	ncase = nfail = 0;
	first_fail[0] = '\0';
}

static void
teardown(void)
{
	digest_fini();
}

static void
unhex(const char *hex, unsigned char *out, size_t len)
{
	size_t	 i;

	ck_assert_ptr_nonnull(hex);
	ck_assert_uint_eq(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		unsigned int	 v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

/* Build both proofs with merkle.c from the naive source; assert success. */
static size_t
incl(uint64_t m, uint64_t n, unsigned char path[][HL])
{
	struct source	 s;
	size_t		 len = 99;

	source_init(&s, leaves, n);
	ck_assert_int_eq(merkle_inclusion_proof(m, n, source_get, &s, path,
	    &len), 0);
	ck_assert_int_eq(s.bad, 0);
	return len;
}

static size_t
cons(uint64_t m, uint64_t n, unsigned char proof[][HL])
{
	struct source	 s;
	size_t		 len = 99;

	source_init(&s, leaves, n);
	ck_assert_int_eq(merkle_consistency_proof(m, n, source_get, &s,
	    proof, &len), 0);
	ck_assert_int_eq(s.bad, 0);
	return len;
}

START_TEST(leaf_and_node)
{
	static const char	 empty_leaf[] =
	    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
	unsigned char		 out[HL], want[HL], data[3] = { 'a', 0, 'c' };
	char			 hex[2 * HL + 1];

	ck_assert_int_eq(merkle_leaf(NULL, 0, out), 0);
	digest_hex(out, HL, hex);
	ck_assert_str_eq(hex, empty_leaf);
	ck_assert_int_eq(merkle_leaf(data, sizeof(data), out), 0);
	sha(0, data, sizeof(data), NULL, 0, want);
	ck_assert_mem_eq(out, want, HL);
	ck_assert_int_eq(merkle_leaf(NULL, 1, out), -1);

	ck_assert_int_eq(merkle_node(leaves[3], leaves[7], out), 0);
	sha(1, leaves[3], HL, leaves[7], HL, want);
	ck_assert_mem_eq(out, want, HL);
	/* Order matters: the node is not symmetric. */
	ck_assert_int_eq(merkle_node(leaves[7], leaves[3], want), 0);
	ck_assert_mem_ne(out, want, HL);
}
END_TEST

START_TEST(root_matches_definition)
{
	static const char	 empty[] =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	unsigned char		 out[HL];
	char			 hex[2 * HL + 1];
	uint64_t		 n;

	ck_assert_int_eq(merkle_root(NULL, 0, out), 0);
	digest_hex(out, HL, hex);
	ck_assert_str_eq(hex, empty);
	ck_assert_int_eq(merkle_root(NULL, 1, out), -1);
	for (n = 0; n <= NMAX; n++) {
		ck_assert_int_eq(merkle_root(leaves, n, out), 0);
		tally(memcmp(out, roots[n], HL) == 0, "root", n, 0, 0);
	}
	ck_assert_mem_eq(roots[1], leaves[0], HL);
	ASSERT_TALLY(NMAX + 1);
}
END_TEST

START_TEST(frontier_matches_definition)
{
	struct merkle_frontier	 f;
	unsigned char		 out[HL];
	uint64_t		 n;

	merkle_frontier_init(&f);
	ck_assert_uint_eq(f.size, 0);
	ck_assert_int_eq(merkle_frontier_root(&f, out), 0);
	ck_assert_mem_eq(out, roots[0], HL);
	for (n = 1; n <= NMAX; n++) {
		ck_assert_int_eq(merkle_frontier_append(&f, leaves[n - 1]), 0);
		ck_assert_uint_eq(f.size, n);
		ck_assert_int_eq(merkle_frontier_root(&f, out), 0);
		tally(memcmp(out, roots[n], HL) == 0, "frontier", n, 0, 0);
		/* Asking for the root does not disturb further appends. */
		ck_assert_int_eq(merkle_frontier_root(&f, out), 0);
		tally(memcmp(out, roots[n], HL) == 0, "frontier", n, 1, 0);
	}
	ASSERT_TALLY(2 * NMAX);
}
END_TEST

START_TEST(frontier_refuses_overflow)
{
	struct merkle_frontier	 f, before;

	merkle_frontier_init(&f);
	f.size = UINT64_MAX;
	memset(f.node, 0x5a, sizeof(f.node));
	memcpy(&before, &f, sizeof(f));
	ck_assert_int_eq(merkle_frontier_append(&f, leaves[0]), -1);
	ck_assert_mem_eq(&f, &before, sizeof(f));
}
END_TEST

START_TEST(inclusion_proofs_match_definition)
{
	unsigned char	 got[PCAP][HL], want[PCAP][HL];
	uint64_t	 n, m;
	size_t		 len, wlen;

	for (n = 1; n <= NMAX; n++)
		for (m = 0; m < n; m++) {
			len = incl(m, n, got);
			wlen = 0;
			naive_path(m, leaves, n, want, &wlen);
			tally(len == wlen && memcmp(got, want, len * HL) == 0,
			    "path", m, n, len);
			tally(merkle_inclusion_verify(m, n, leaves[m],
			    (const unsigned char (*)[HL])got, len,
			    roots[n]) == 1, "verify", m, n, len);
		}
	/* Two cases for each of the 2080 (index, size) pairs. */
	ASSERT_TALLY(2 * 2080);
	len = incl(0, 1, got);
	ck_assert_uint_eq(len, 0);
	len = incl(5, 8, got);
	ck_assert_uint_eq(len, 3);
	len = incl(63, 64, got);
	ck_assert_uint_eq(len, 6);
}
END_TEST

START_TEST(consistency_proofs_match_definition)
{
	unsigned char	 got[PCAP][HL], want[PCAP][HL];
	uint64_t	 n, m;
	size_t		 len, wlen;

	for (n = 1; n <= NMAX; n++)
		for (m = 1; m <= n; m++) {
			len = cons(m, n, got);
			naive_proof(m, leaves, n, want, &wlen);
			tally(len == wlen && memcmp(got, want, len * HL) == 0,
			    "proof", m, n, len);
			tally(merkle_consistency_verify(m, n, roots[m],
			    roots[n], (const unsigned char (*)[HL])got,
			    len) == 1, "verify", m, n, len);
		}
	ASSERT_TALLY(2 * 2080);
	ck_assert_uint_eq(cons(5, 5, got), 0);
	ck_assert_uint_eq(cons(4, 8, got), 1);
	naive_mth(leaves + 4, 4, want[0]);
	ck_assert_mem_eq(got[0], want[0], HL);
}
END_TEST

START_TEST(vectors_match)
{
	const char	*top = getenv("HL_TOP_SRCDIR");
	char		 path[1024];
	json_error_t	 err;
	json_t		*v, *a, *x;
	unsigned char	 vl[8][HL], e[HL], h[HL], want[PCAP][HL];
	unsigned char	 got[PCAP][HL];
	struct merkle_frontier f;
	struct source	 s;
	char		 dec[24];
	size_t		 i, len;
	uint64_t	 idx, size, old_size, new_size;

	snprintf(path, sizeof(path), "%s/tests/vectors/merkle_vectors.json",
	    top != NULL ? top : ".");
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(v != NULL, "cannot load %s: %s", path, err.text);

	/* The entries are SHA-256 of "0" .. "7"; the leaves hash them. */
	a = json_object_get(v, "entries");
	ck_assert_uint_eq(json_array_size(a), 8);
	json_array_foreach(a, i, x) {
		unhex(json_string_value(x), e, HL);
		snprintf(dec, sizeof(dec), "%zu", i);
		sha(-1, dec, strlen(dec), NULL, 0, h);
		ck_assert_mem_eq(e, h, HL);
		ck_assert_int_eq(merkle_leaf(e, HL, vl[i]), 0);
		unhex(json_string_value(json_array_get(json_object_get(v,
		    "leaves"), i)), h, HL);
		ck_assert_mem_eq(vl[i], h, HL);
	}

	a = json_object_get(v, "roots");
	ck_assert_uint_eq(json_array_size(a), 9);
	merkle_frontier_init(&f);
	json_array_foreach(a, i, x) {
		unhex(json_string_value(x), want[0], HL);
		ck_assert_int_eq(merkle_root((const unsigned char (*)[HL])vl,
		    i, h), 0);
		ck_assert_mem_eq(h, want[0], HL);
		ck_assert_int_eq(merkle_frontier_root(&f, h), 0);
		ck_assert_mem_eq(h, want[0], HL);
		if (i < 8)
			ck_assert_int_eq(merkle_frontier_append(&f, vl[i]),
			    0);
	}

	x = json_object_get(v, "inclusion");
	idx = (uint64_t)json_integer_value(json_object_get(x, "index"));
	size = (uint64_t)json_integer_value(json_object_get(x, "size"));
	ck_assert_uint_eq(idx, 5);
	ck_assert_uint_eq(size, 7);
	a = json_object_get(x, "path");
	ck_assert_uint_eq(json_array_size(a), 3);
	for (i = 0; i < 3; i++)
		unhex(json_string_value(json_array_get(a, i)), want[i], HL);
	source_init(&s, (const unsigned char (*)[HL])vl, size);
	ck_assert_int_eq(merkle_inclusion_proof(idx, size, source_get, &s,
	    got, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(got, want, 3 * HL);
	unhex(json_string_value(json_array_get(json_object_get(v, "roots"),
	    size)), h, HL);
	ck_assert_int_eq(merkle_inclusion_verify(idx, size, vl[idx],
	    (const unsigned char (*)[HL])want, 3, h), 1);

	x = json_object_get(v, "consistency");
	old_size = (uint64_t)json_integer_value(json_object_get(x,
	    "old_size"));
	new_size = (uint64_t)json_integer_value(json_object_get(x,
	    "new_size"));
	ck_assert_uint_eq(old_size, 3);
	ck_assert_uint_eq(new_size, 7);
	a = json_object_get(x, "proof");
	ck_assert_uint_eq(json_array_size(a), 4);
	for (i = 0; i < 4; i++)
		unhex(json_string_value(json_array_get(a, i)), want[i], HL);
	source_init(&s, (const unsigned char (*)[HL])vl, new_size);
	ck_assert_int_eq(merkle_consistency_proof(old_size, new_size,
	    source_get, &s, got, &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(got, want, 4 * HL);
	unhex(json_string_value(json_array_get(json_object_get(v, "roots"),
	    old_size)), e, HL);
	ck_assert_int_eq(merkle_consistency_verify(old_size, new_size, e, h,
	    (const unsigned char (*)[HL])want, 4), 1);
	json_decref(v);
}
END_TEST

START_TEST(inclusion_bit_flips_rejected)
{
	unsigned char	 p[PCAP][HL], leaf[HL], root[HL];
	uint64_t	 n, m;
	size_t		 len, j, b;

	for (n = 1; n <= NMAX; n++)
		for (m = 0; m < n; m++) {
			len = incl(m, n, p);
			for (j = 0; j < len; j++)
				for (b = 0; b < HL; b++) {
					p[j][b] ^= 1u << (b % 8);
					tally(merkle_inclusion_verify(m, n,
					    leaves[m],
					    (const unsigned char (*)[HL])p,
					    len, roots[n]) == 0,
					    "path flip", m, n, j * HL + b);
					p[j][b] ^= 1u << (b % 8);
				}
			for (b = 0; b < HL; b++) {
				memcpy(leaf, leaves[m], HL);
				leaf[b] ^= 1u << (b % 8);
				tally(merkle_inclusion_verify(m, n, leaf,
				    (const unsigned char (*)[HL])p, len,
				    roots[n]) == 0, "leaf flip", m, n, b);
				memcpy(root, roots[n], HL);
				root[b] ^= 1u << (b % 8);
				tally(merkle_inclusion_verify(m, n, leaves[m],
				    (const unsigned char (*)[HL])p, len,
				    root) == 0, "root flip", m, n, b);
			}
			/* Unflipped, the same proof still verifies. */
			tally(merkle_inclusion_verify(m, n, leaves[m],
			    (const unsigned char (*)[HL])p, len,
			    roots[n]) == 1, "intact", m, n, 0);
		}
	/* 32 per path hash (11376 in all, counted in Python from the
	 * RFC's PATH), 64 + 1 per (index, size). */
	ASSERT_TALLY(32 * 11376 + 65 * 2080);
}
END_TEST

START_TEST(consistency_bit_flips_rejected)
{
	unsigned char	 p[PCAP][HL], r[HL];
	uint64_t	 n, m;
	size_t		 len, j, b;

	for (n = 2; n <= NMAX; n++)
		for (m = 1; m < n; m++) {
			len = cons(m, n, p);
			for (j = 0; j < len; j++)
				for (b = 0; b < HL; b++) {
					p[j][b] ^= 1u << (b % 8);
					tally(merkle_consistency_verify(m, n,
					    roots[m], roots[n],
					    (const unsigned char (*)[HL])p,
					    len) == 0, "proof flip", m, n,
					    j * HL + b);
					p[j][b] ^= 1u << (b % 8);
				}
			for (b = 0; b < HL; b++) {
				memcpy(r, roots[m], HL);
				r[b] ^= 1u << (b % 8);
				tally(merkle_consistency_verify(m, n, r,
				    roots[n], (const unsigned char (*)[HL])p,
				    len) == 0, "old root flip", m, n, b);
				memcpy(r, roots[n], HL);
				r[b] ^= 1u << (b % 8);
				tally(merkle_consistency_verify(m, n, roots[m],
				    r, (const unsigned char (*)[HL])p,
				    len) == 0, "new root flip", m, n, b);
			}
			tally(merkle_consistency_verify(m, n, roots[m],
			    roots[n], (const unsigned char (*)[HL])p,
			    len) == 1, "intact", m, n, 0);
		}
	/* Equal sizes: the roots alone decide. */
	for (n = 1; n <= NMAX; n++)
		for (b = 0; b < HL; b++) {
			memcpy(r, roots[n], HL);
			r[b] ^= 1u << (b % 8);
			tally(merkle_consistency_verify(n, n, r, roots[n],
			    NULL, 0) == 0, "equal old flip", n, n, b);
			tally(merkle_consistency_verify(n, n, roots[n], r,
			    NULL, 0) == 0, "equal new flip", n, n, b);
		}
	/* 32 per proof hash (11055 for old < new, counted in Python from
	 * the RFC's PROOF), 65 per pair (2016). */
	ASSERT_TALLY(32 * 11055 + 65 * 2016 + 64 * NMAX);
}
END_TEST

START_TEST(inclusion_length_changes_rejected)
{
	unsigned char	 p[PCAP][HL], q[PCAP][HL];
	uint64_t	 n, m;
	size_t		 len, j;

	for (n = 1; n <= NMAX; n++)
		for (m = 0; m < n; m++) {
			len = incl(m, n, p);
			/* One hash removed, at every position. */
			for (j = 0; j < len; j++) {
				memcpy(q, p, j * HL);
				memcpy(q[j], p[j + 1], (len - j - 1) * HL);
				tally(merkle_inclusion_verify(m, n, leaves[m],
				    (const unsigned char (*)[HL])q, len - 1,
				    roots[n]) == 0, "removed", m, n, j);
			}
			/* One extra: the root, a leaf, the leaf itself, at
			 * the end and at the start. */
			memcpy(q, p, len * HL);
			memcpy(q[len], roots[n], HL);
			tally(merkle_inclusion_verify(m, n, leaves[m],
			    (const unsigned char (*)[HL])q, len + 1,
			    roots[n]) == 0, "extra root", m, n, len);
			memcpy(q[len], leaves[(m + 1) % n], HL);
			tally(merkle_inclusion_verify(m, n, leaves[m],
			    (const unsigned char (*)[HL])q, len + 1,
			    roots[n]) == 0, "extra leaf", m, n, len);
			memcpy(q[0], leaves[m], HL);
			memcpy(q[1], p, len * HL);
			tally(merkle_inclusion_verify(m, n, leaves[m],
			    (const unsigned char (*)[HL])q, len + 1,
			    roots[n]) == 0, "extra first", m, n, len);
		}
	/* One removal per path hash (11376), three extras per pair. */
	ASSERT_TALLY(11376 + 3 * 2080);
}
END_TEST

START_TEST(consistency_length_changes_rejected)
{
	unsigned char	 p[PCAP][HL], q[PCAP][HL];
	uint64_t	 n, m;
	size_t		 len, j;

	for (n = 2; n <= NMAX; n++)
		for (m = 1; m < n; m++) {
			len = cons(m, n, p);
			for (j = 0; j < len; j++) {
				memcpy(q, p, j * HL);
				memcpy(q[j], p[j + 1], (len - j - 1) * HL);
				tally(merkle_consistency_verify(m, n, roots[m],
				    roots[n], (const unsigned char (*)[HL])q,
				    len - 1) == 0, "removed", m, n, j);
			}
			memcpy(q, p, len * HL);
			memcpy(q[len], roots[n], HL);
			tally(merkle_consistency_verify(m, n, roots[m],
			    roots[n], (const unsigned char (*)[HL])q,
			    len + 1) == 0, "extra last", m, n, len);
			/* The old root in front: what the verifier prepends
			 * itself for a power of two, and never the prover. */
			memcpy(q[0], roots[m], HL);
			memcpy(q[1], p, len * HL);
			tally(merkle_consistency_verify(m, n, roots[m],
			    roots[n], (const unsigned char (*)[HL])q,
			    len + 1) == 0, "extra first", m, n, len);
		}
	/* Equal sizes take only the empty proof. */
	for (n = 1; n <= NMAX; n++) {
		memcpy(q[0], roots[n], HL);
		tally(merkle_consistency_verify(n, n, roots[n], roots[n],
		    (const unsigned char (*)[HL])q, 1) == 0, "equal, 1", n,
		    n, 1);
		tally(merkle_consistency_verify(n, n, roots[n], roots[n],
		    NULL, 0) == 1, "equal, empty", n, n, 0);
	}
	ASSERT_TALLY(11055 + 2 * 2016 + 2 * NMAX);
}
END_TEST

START_TEST(inclusion_wrong_index_and_size_rejected)
{
	unsigned char	 p[PCAP][HL], w[PCAP][HL];
	uint64_t	 n, m, o;
	size_t		 len, wlen;

	for (n = 1; n <= NMAX; n++)
		for (m = 0; m < n; m++) {
			len = incl(m, n, p);
			for (o = 0; o <= NMAX; o++) {
				if (o == m)
					continue;
				/* The leaf moved to another index. */
				tally(merkle_inclusion_verify(o, n, leaves[m],
				    (const unsigned char (*)[HL])p, len,
				    roots[n]) == 0, "index", m, n, o);
			}
			for (o = 0; o <= NMAX; o++) {
				if (o == n)
					continue;
				/* Another size with its own true root. */
				tally(merkle_inclusion_verify(m, o, leaves[m],
				    (const unsigned char (*)[HL])p, len,
				    roots[o]) == 0, "size", m, n, o);
				/*
				 * With this tree's root, a size whose path
				 * has another length. (Sizes with the same
				 * path shape, as 3 and 4 for index 0, give
				 * the same computation: a size is only as
				 * good as the signed head binding it to its
				 * root.)
				 */
				if (o <= m)
					continue;
				wlen = 0;
				naive_path(m, leaves, o, w, &wlen);
				if (wlen == len)
					continue;
				tally(merkle_inclusion_verify(m, o, leaves[m],
				    (const unsigned char (*)[HL])p, len,
				    roots[n]) == 0, "size, same root", m, n,
				    o);
			}
		}
	/* Size 0 and index >= size, with a proof that fits nothing. */
	tally(merkle_inclusion_verify(0, 0, roots[0], NULL, 0, roots[0]) == 0,
	    "size 0", 0, 0, 0);
	tally(merkle_inclusion_verify(1, 1, leaves[0], NULL, 0,
	    leaves[0]) == 0, "index = size", 1, 1, 0);
	tally(merkle_inclusion_verify(UINT64_MAX, UINT64_MAX, leaves[0], NULL,
	    0, leaves[0]) == 0, "index = size", 0, 0, 0);
	tally(merkle_inclusion_verify(0, 1, leaves[0], NULL, 0,
	    leaves[0]) == 1, "single", 0, 1, 0);
	/* 2 * 64 per pair, 45696 sizes with another path length (counted in
	 * Python from the RFC's PATH), and the 4 above. */
	ASSERT_TALLY(2 * NMAX * 2080 + 45696 + 4);
}
END_TEST

START_TEST(consistency_wrong_sizes_rejected)
{
	unsigned char	 p[PCAP][HL], w[PCAP][HL];
	uint64_t	 n, m, o;
	size_t		 len, wlen;

	for (n = 2; n <= NMAX; n++)
		for (m = 1; m < n; m++) {
			len = cons(m, n, p);
			/* Other sizes, each with its own true root. */
			for (o = 1; o <= NMAX; o++) {
				if (o != m && o <= n)
					tally(merkle_consistency_verify(o, n,
					    roots[o], roots[n],
					    (const unsigned char (*)[HL])p,
					    len) == 0, "old size", m, n, o);
				if (o != n && o >= m)
					tally(merkle_consistency_verify(m, o,
					    roots[m], roots[o],
					    (const unsigned char (*)[HL])p,
					    len) == 0, "new size", m, n, o);
			}
			/*
			 * With these trees' roots, other sizes whose proofs
			 * have another length (same-length ones may share
			 * the computation, as for inclusion).
			 */
			for (o = 1; o <= NMAX; o++) {
				if (o != n && o > m) {
					naive_proof(m, leaves, o, w, &wlen);
					if (wlen != len)
						tally(merkle_consistency_verify(
						    m, o, roots[m], roots[n],
						    (const unsigned char (*)[HL])
						    p, len) == 0,
						    "new size, same roots", m,
						    n, o);
				}
				if (o != m && o < n) {
					naive_proof(o, leaves, n, w, &wlen);
					if (wlen != len)
						tally(merkle_consistency_verify(
						    o, n, roots[m], roots[n],
						    (const unsigned char (*)[HL])
						    p, len) == 0,
						    "old size, same roots", m,
						    n, o);
				}
			}
			/* Sizes swapped: old > new. */
			tally(merkle_consistency_verify(n, m, roots[n],
			    roots[m], (const unsigned char (*)[HL])p,
			    len) == 0, "swapped", m, n, 0);
			/* Old size 0, with the empty tree's root. */
			tally(merkle_consistency_verify(0, n, roots[0],
			    roots[n], (const unsigned char (*)[HL])p,
			    len) == 0, "old 0", m, n, 0);
		}
	tally(merkle_consistency_verify(0, 0, roots[0], roots[0], NULL,
	    0) == 0, "0 to 0", 0, 0, 0);
	tally(merkle_consistency_verify(2, 1, roots[1], roots[1], NULL,
	    0) == 0, "2 to 1", 2, 1, 0);
	/* Without the size check, steps 3 to 7 would take this one. */
	tally(merkle_consistency_verify(3, 1, roots[1], roots[1],
	    (const unsigned char (*)[HL])roots[1], 1) == 0, "3 to 1", 3, 1,
	    1);
	/* For old < new: new - 1 old sizes, 64 - old new sizes, and 2;
	 * 102232 sizes with another proof length (counted in Python from
	 * the RFC's PROOF); the 3 above. */
	ASSERT_TALLY(174720 + 102232 + 3);
}
END_TEST

START_TEST(generation_refuses_bad_input)
{
	unsigned char	 p[PCAP][HL];
	struct source	 s;
	size_t		 len;
	int		 k;

	source_init(&s, leaves, 8);
	len = 99;
	ck_assert_int_eq(merkle_inclusion_proof(8, 8, source_get, &s, p,
	    &len), -1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(merkle_inclusion_proof(0, 0, source_get, &s, p,
	    &len), -1);
	ck_assert_int_eq(merkle_inclusion_proof(0, 8, NULL, &s, p, &len), -1);
	len = 99;
	ck_assert_int_eq(merkle_consistency_proof(0, 8, source_get, &s, p,
	    &len), -1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(merkle_consistency_proof(8, 7, source_get, &s, p,
	    &len), -1);
	ck_assert_int_eq(merkle_consistency_proof(0, 0, source_get, &s, p,
	    &len), -1);
	ck_assert_int_eq(merkle_consistency_proof(3, 8, NULL, &s, p, &len),
	    -1);
	ck_assert_uint_eq(s.calls, 0);

	/* A source failing at each of its calls fails the proof. */
	for (k = 1; k <= 3; k++) {
		source_init(&s, leaves, 8);
		s.fail_at = k;
		len = 99;
		ck_assert_int_eq(merkle_inclusion_proof(5, 8, source_get, &s,
		    p, &len), -1);
		ck_assert_uint_eq(len, 0);
		ck_assert_uint_eq(s.calls, k);
	}
	for (k = 1; k <= 4; k++) {
		source_init(&s, leaves, 7);
		s.fail_at = k;
		len = 99;
		ck_assert_int_eq(merkle_consistency_proof(3, 7, source_get, &s,
		    p, &len), -1);
		ck_assert_uint_eq(len, 0);
		ck_assert_uint_eq(s.calls, k);
	}
}
END_TEST

/*
 * Trees of up to 2^64 - 1 equal leaves: the hash of a perfect subtree of
 * 2^h of them is perfect[h], so any subtree's MTH takes O(64) hashes and
 * proofs at the largest sizes can be generated and verified end to end.
 */
static unsigned char	 perfect[64][HL];

static void
uniform_mth(uint64_t n, unsigned char out[HL])
{
	unsigned char	 r[HL];
	uint64_t	 k;
	int		 h;

	if ((n & (n - 1)) == 0) {
		for (h = 0; (UINT64_C(1) << h) != n; h++)
			continue;
		memcpy(out, perfect[h], HL);
		return;
	}
	k = naive_k(n);
	uniform_mth(n - k, r);
	for (h = 0; (UINT64_C(1) << h) != k; h++)
		continue;
	sha(1, perfect[h], HL, r, HL, out);
}

struct usource {
	uint64_t	 size;
	unsigned long	 calls;
	int		 bad;
};

static int
usource_get(void *cls, uint64_t start, uint64_t count, unsigned char out[HL])
{
	struct usource	*s = cls;

	s->calls++;
	if (count == 0 || start > s->size || count > s->size - start) {
		s->bad = 1;
		return -1;
	}
	uniform_mth(count, out);
	return 0;
}

START_TEST(largest_sizes_bounded)
{
	unsigned char		 p[PCAP][HL], r1[HL], r2[HL];
	struct merkle_frontier	 f;
	struct usource		 s;
	size_t			 len;
	int			 h;
	const uint64_t		 top = UINT64_C(1) << 63;

	memcpy(perfect[0], leaves[0], HL);
	for (h = 1; h < 64; h++)
		sha(1, perfect[h - 1], HL, perfect[h - 1], HL, perfect[h]);

	/* The frontier, set to a huge size, agrees with the definition. */
	merkle_frontier_init(&f);
	f.size = UINT64_MAX - 1;
	for (h = 1; h < 64; h++)
		memcpy(f.node[h], perfect[h], HL);
	ck_assert_int_eq(merkle_frontier_root(&f, r1), 0);
	uniform_mth(UINT64_MAX - 1, r2);
	ck_assert_mem_eq(r1, r2, HL);
	ck_assert_int_eq(merkle_frontier_append(&f, leaves[0]), 0);
	ck_assert_uint_eq(f.size, UINT64_MAX);
	ck_assert_int_eq(merkle_frontier_root(&f, r1), 0);
	uniform_mth(UINT64_MAX, r2);
	ck_assert_mem_eq(r1, r2, HL);
	ck_assert_int_eq(merkle_frontier_append(&f, leaves[0]), -1);

	/* The deepest leaf of the largest tree: a 64-hash path. */
	memset(&s, 0, sizeof(s));
	s.size = UINT64_MAX;
	ck_assert_int_eq(merkle_inclusion_proof(0, UINT64_MAX, usource_get,
	    &s, p, &len), 0);
	ck_assert_uint_eq(len, 64);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_int_eq(merkle_inclusion_verify(0, UINT64_MAX, leaves[0],
	    (const unsigned char (*)[HL])p, len, r2), 1);
	ck_assert_int_eq(merkle_inclusion_verify(0, UINT64_MAX, leaves[1],
	    (const unsigned char (*)[HL])p, len, r2), 0);
	/* The last leaf sits at depth 63. */
	ck_assert_int_eq(merkle_inclusion_proof(UINT64_MAX - 1, UINT64_MAX,
	    usource_get, &s, p, &len), 0);
	ck_assert_uint_eq(len, 63);
	ck_assert_int_eq(merkle_inclusion_verify(UINT64_MAX - 1, UINT64_MAX,
	    leaves[0], (const unsigned char (*)[HL])p, len, r2), 1);
	/* 65 hashes are refused before they are looked at. */
	memset(p, 0, sizeof(p));
	ck_assert_int_eq(merkle_inclusion_verify(0, UINT64_MAX, leaves[0],
	    (const unsigned char (*)[HL])p, MERKLE_MAX_DEPTH + 1, r2), 0);
	ck_assert_int_eq(merkle_inclusion_verify(0, 2, leaves[0], NULL, 1,
	    r2), 0);

	/* Consistency at the limit: 64 hashes from 2^62 - 1 to 2^63. */
	memset(&s, 0, sizeof(s));
	s.size = top;
	ck_assert_int_eq(merkle_consistency_proof(top / 2 - 1, top,
	    usource_get, &s, p, &len), 0);
	ck_assert_uint_eq(len, 64);
	ck_assert_int_eq(s.bad, 0);
	uniform_mth(top / 2 - 1, r1);
	ck_assert_int_eq(merkle_consistency_verify(top / 2 - 1, top, r1,
	    perfect[63], (const unsigned char (*)[HL])p, len), 1);
	/* From 2^63 - 1 to beyond 2^63 it would take 65: refused, without
	 * asking the source for anything. */
	memset(&s, 0, sizeof(s));
	s.size = top + 1;
	len = 99;
	ck_assert_int_eq(merkle_consistency_proof(top - 1, top + 1,
	    usource_get, &s, p, &len), -1);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(s.calls, 0);
	ck_assert_int_eq(merkle_consistency_verify(top - 1, top + 1, r1, r2,
	    (const unsigned char (*)[HL])p, MERKLE_MAX_DEPTH + 1), 0);
	ck_assert_int_eq(merkle_consistency_verify(1, 2, r1, r2, NULL, 1), 0);
	/* And 2^63 to 2^64 - 1 is one hash. */
	memset(&s, 0, sizeof(s));
	s.size = UINT64_MAX;
	ck_assert_int_eq(merkle_consistency_proof(top, UINT64_MAX,
	    usource_get, &s, p, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(merkle_consistency_verify(top, UINT64_MAX,
	    perfect[63], r2, (const unsigned char (*)[HL])p, len), 1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("merkle");
	TCase	*tc = tcase_create("rfc9162");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, leaf_and_node);
	tcase_add_test(tc, root_matches_definition);
	tcase_add_test(tc, frontier_matches_definition);
	tcase_add_test(tc, frontier_refuses_overflow);
	tcase_add_test(tc, inclusion_proofs_match_definition);
	tcase_add_test(tc, consistency_proofs_match_definition);
	tcase_add_test(tc, vectors_match);
	tcase_add_test(tc, generation_refuses_bad_input);
	tcase_add_test(tc, largest_sizes_bounded);
	suite_add_tcase(s, tc);

	/*
	 * The exhaustive sweeps over every proof of every tree size up to
	 * NMAX: seconds here, over ten minutes under valgrind, whose run
	 * (make check-valgrind) leaves out the tag "sweep". The sanitized
	 * build runs them.
	 */
	tc = tcase_create("sweep");
	tcase_set_tags(tc, "sweep");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, inclusion_bit_flips_rejected);
	tcase_add_test(tc, consistency_bit_flips_rejected);
	tcase_add_test(tc, inclusion_length_changes_rejected);
	tcase_add_test(tc, consistency_length_changes_rejected);
	tcase_add_test(tc, inclusion_wrong_index_and_size_rejected);
	tcase_add_test(tc, consistency_wrong_sizes_rejected);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
