/*
 * merkle: the Merkle tree of RFC 9162 section 2.1.
 *
 * Proof generation walks from the root down with integer arithmetic only,
 * recording which subtrees the proof needs, and asks the caller's source
 * for their hashes afterwards: a request that would not fit is refused
 * before any hash is fetched. Verification follows the bit-shifting
 * algorithms of 2.1.3.2 and 2.1.4.2 step by step, so that it can be read
 * against the RFC.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "digest.h"
#include "merkle.h"

/* A subtree named by its leaf range, as proofs are planned. */
struct range {
	uint64_t	 start;
	uint64_t	 count;
};

static const unsigned char leaf_prefix = 0x00;
static const unsigned char node_prefix = 0x01;

int
merkle_leaf(const unsigned char *data, size_t len,
    unsigned char out[MERKLE_HASH_LEN])
{
	struct digest_part	 parts[2];

	if (data == NULL && len > 0)
		return -1;
	parts[0].data = &leaf_prefix;
	parts[0].len = 1;
	parts[1].data = data;
	parts[1].len = len;
	return digest_sha256_parts(parts, 2, out);
}

int
merkle_node(const unsigned char left[MERKLE_HASH_LEN],
    const unsigned char right[MERKLE_HASH_LEN],
    unsigned char out[MERKLE_HASH_LEN])
{
	struct digest_part	 parts[3];

	parts[0].data = &node_prefix;
	parts[0].len = 1;
	parts[1].data = left;
	parts[1].len = MERKLE_HASH_LEN;
	parts[2].data = right;
	parts[2].len = MERKLE_HASH_LEN;
	return digest_sha256_parts(parts, 3, out);
}

/* The largest power of two smaller than n, for n >= 2. */
static uint64_t
split(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* MTH of n >= 1 leaves. Each level halves n at least, so the recursion is
 * at most ceil(log2 n) <= 64 deep. */
/* NOLINTBEGIN(misc-no-recursion) */
static int
root_of(const unsigned char (*leaves)[MERKLE_HASH_LEN], uint64_t n,
    unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char	 left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	uint64_t	 k;

	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_LEN);
		return 0;
	}
	k = split(n);
	if (root_of(leaves, k, left) == -1 ||
	    root_of(leaves + k, n - k, right) == -1)
		return -1;
	return merkle_node(left, right, out);
}
/* NOLINTEND(misc-no-recursion) */

int
merkle_root(const unsigned char (*leaves)[MERKLE_HASH_LEN], uint64_t n,
    unsigned char out[MERKLE_HASH_LEN])
{
	if (n == 0)
		return digest_sha256_parts(NULL, 0, out);
	if (leaves == NULL)
		return -1;
	return root_of(leaves, n, out);
}

void
merkle_frontier_init(struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int
merkle_frontier_append(struct merkle_frontier *f,
    const unsigned char leaf[MERKLE_HASH_LEN])
{
	unsigned char	 carry[MERKLE_HASH_LEN];
	unsigned int	 h;

	/* Beyond this, size would wrap and node[] would need a 65th slot. */
	if (f->size == UINT64_MAX)
		return -1;
	/*
	 * Like a binary increment: each set low bit of size is a perfect
	 * subtree that merges with the carry. Nothing in f changes until
	 * every hash has succeeded, so a failure leaves f as it was.
	 */
	memcpy(carry, leaf, MERKLE_HASH_LEN);
	for (h = 0; h < MERKLE_MAX_DEPTH && (f->size >> h & 1) != 0; h++)
		if (merkle_node(f->node[h], carry, carry) == -1)
			return -1;
	/* Unreachable while size < UINT64_MAX, but node[] ends here. */
	if (h >= MERKLE_MAX_DEPTH)
		return -1;
	memcpy(f->node[h], carry, MERKLE_HASH_LEN);
	f->size++;
	return 0;
}

int
merkle_frontier_root(const struct merkle_frontier *f,
    unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char	 acc[MERKLE_HASH_LEN];
	unsigned int	 h;
	int		 have = 0;

	if (f->size == 0)
		return digest_sha256_parts(NULL, 0, out);
	/*
	 * The tree of size leaves is its perfect subtrees, largest first,
	 * each the left child of the node above the rest: fold from the
	 * smallest up.
	 */
	for (h = 0; h < MERKLE_MAX_DEPTH; h++) {
		if ((f->size >> h & 1) == 0)
			continue;
		if (!have) {
			memcpy(acc, f->node[h], MERKLE_HASH_LEN);
			have = 1;
		} else if (merkle_node(f->node[h], acc, acc) == -1)
			return -1;
	}
	memcpy(out, acc, MERKLE_HASH_LEN);
	return 0;
}

/*
 * Ask the source for the planned subtrees, last planned first: plans run
 * from the root down, proofs from the leaf up.
 */
static int
fetch(const struct range *plan, size_t np, merkle_subtree_fn get, void *cls,
    unsigned char out[][MERKLE_HASH_LEN], size_t *n)
{
	size_t	 i;

	for (i = 0; i < np; i++) {
		const struct range	*r = &plan[np - 1 - i];

		if (get(cls, r->start, r->count, out[i]) == -1)
			goto fail;
	}
	*n = np;
	return 0;

fail:
	memset(out, 0, np * MERKLE_HASH_LEN);
	return -1;
}

int
merkle_inclusion_proof(uint64_t index, uint64_t size,
    merkle_subtree_fn get, void *cls,
    unsigned char path[][MERKLE_HASH_LEN], size_t *n)
{
	struct range	 plan[MERKLE_MAX_DEPTH];
	uint64_t	 start = 0, count = size, m = index, k;
	size_t		 np = 0;

	if (n == NULL)
		return -1;
	*n = 0;
	if (index >= size || get == NULL || path == NULL)
		return -1;
	/* PATH(m, D[n]) of 2.1.3.1, unrolled from the root down. */
	while (count > 1) {
		if (np == MERKLE_MAX_DEPTH)
			return -1;
		k = split(count);
		if (m < k) {
			plan[np].start = start + k;
			plan[np].count = count - k;
			count = k;
		} else {
			plan[np].start = start;
			plan[np].count = k;
			start += k;
			m -= k;
			count -= k;
		}
		np++;
	}
	return fetch(plan, np, get, cls, path, n);
}

int
merkle_consistency_proof(uint64_t old_size, uint64_t new_size,
    merkle_subtree_fn get, void *cls,
    unsigned char proof[][MERKLE_HASH_LEN], size_t *n)
{
	struct range	 plan[MERKLE_MAX_DEPTH];
	uint64_t	 start = 0, count = new_size, m = old_size, k;
	size_t		 np = 0;
	int		 whole = 1;

	if (n == NULL)
		return -1;
	*n = 0;
	if (old_size == 0 || old_size > new_size || get == NULL ||
	    proof == NULL)
		return -1;
	/*
	 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of 2.1.4.1, unrolled:
	 * whole is its b, true while the old tree is a left edge subtree.
	 * Beyond 2^63 leaves the proof can take 65 hashes, which is refused.
	 */
	while (m != count) {
		if (np == MERKLE_MAX_DEPTH)
			return -1;
		k = split(count);
		if (m <= k) {
			plan[np].start = start + k;
			plan[np].count = count - k;
			count = k;
		} else {
			plan[np].start = start;
			plan[np].count = k;
			start += k;
			m -= k;
			count -= k;
			whole = 0;
		}
		np++;
	}
	if (!whole) {
		if (np == MERKLE_MAX_DEPTH)
			return -1;
		plan[np].start = start;
		plan[np].count = count;
		np++;
	}
	return fetch(plan, np, get, cls, proof, n);
}

int
merkle_inclusion_verify(uint64_t index, uint64_t size,
    const unsigned char leaf[MERKLE_HASH_LEN],
    const unsigned char path[][MERKLE_HASH_LEN], size_t n,
    const unsigned char root[MERKLE_HASH_LEN])
{
	unsigned char	 r[MERKLE_HASH_LEN];
	uint64_t	 fn, sn;
	size_t		 i;

	if (n > MERKLE_MAX_DEPTH || (path == NULL && n > 0))
		return 0;
	/* Step 1. */
	if (index >= size)
		return 0;
	/* Steps 2 and 3. */
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);
	/* Step 4. */
	for (i = 0; i < n; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) != 0 || fn == sn) {
			if (merkle_node(path[i], r, r) == -1)
				return 0;
			/* Only when LSB(fn) was not set; else a no-op. */
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (merkle_node(r, path[i], r) == -1)
			return 0;
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5. */
	return sn == 0 && memcmp(r, root, MERKLE_HASH_LEN) == 0;
}

int
merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
    const unsigned char old_root[MERKLE_HASH_LEN],
    const unsigned char new_root[MERKLE_HASH_LEN],
    const unsigned char proof[][MERKLE_HASH_LEN], size_t n)
{
	const unsigned char	*c;
	unsigned char		 fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	uint64_t		 fn, sn;
	size_t			 i, len;
	int			 prepend;

	if (n > MERKLE_MAX_DEPTH || (proof == NULL && n > 0))
		return 0;
	if (old_size == 0 || old_size > new_size)
		return 0;
	/* PROOF(m, D[m]) is empty: equal sizes prove only equal roots. */
	if (old_size == new_size)
		return n == 0 &&
		    memcmp(old_root, new_root, MERKLE_HASH_LEN) == 0;
	/* Step 1. */
	if (n == 0)
		return 0;
	/* Step 2: first_hash becomes element 0 without being copied in. */
	prepend = (old_size & (old_size - 1)) == 0;
	len = n + (prepend ? 1 : 0);
	/* Step 3. */
	fn = old_size - 1;
	sn = new_size - 1;
	/* Step 4. */
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 5. */
	c = prepend ? old_root : proof[0];
	memcpy(fr, c, MERKLE_HASH_LEN);
	memcpy(sr, c, MERKLE_HASH_LEN);
	/* Step 6. */
	for (i = 1; i < len; i++) {
		c = proof[prepend ? i - 1 : i];
		if (sn == 0)
			return 0;
		if ((fn & 1) != 0 || fn == sn) {
			if (merkle_node(c, fr, fr) == -1 ||
			    merkle_node(c, sr, sr) == -1)
				return 0;
			/* Only when LSB(fn) was not set; else a no-op. */
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else if (merkle_node(sr, c, sr) == -1)
			return 0;
		fn >>= 1;
		sn >>= 1;
	}
	/* Step 7. */
	return memcmp(fr, old_root, MERKLE_HASH_LEN) == 0 &&
	    memcmp(sr, new_root, MERKLE_HASH_LEN) == 0 && sn == 0;
}
