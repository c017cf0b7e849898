/*
 * merkle: the Merkle tree of RFC 9162 section 2.1 over the ledger's entry
 * hashes, with inclusion and consistency proofs.
 *
 *	leaf i = SHA-256(0x00 || entry hash i)
 *	node   = SHA-256(0x01 || left || right)
 *	MTH(D[n]) splits at k, the largest power of two smaller than n.
 *
 * The empty tree's hash is SHA-256 of nothing. Hashes are always 32 bytes.
 * Everything here is pure computation over caller memory: thread-safe.
 */
#ifndef HL_MERKLE_H
#define HL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN		32
#define MERKLE_MAX_DEPTH	64	/* proof length bound, and frontier */

/* leaf = SHA-256(0x00 || data[0..len)). 0 or -1 (OpenSSL failure). */
int	merkle_leaf(const unsigned char *data, size_t len,
	    unsigned char out[MERKLE_HASH_LEN]);

/* node = SHA-256(0x01 || left || right). 0 or -1. */
int	merkle_node(const unsigned char left[MERKLE_HASH_LEN],
	    const unsigned char right[MERKLE_HASH_LEN],
	    unsigned char out[MERKLE_HASH_LEN]);

/* The root of n leaf hashes (already leaf-hashed), by the definition;
 * O(n) time, O(log n) stack. n = 0 gives the empty tree's hash. */
int	merkle_root(const unsigned char (*leaves)[MERKLE_HASH_LEN], uint64_t n,
	    unsigned char out[MERKLE_HASH_LEN]);

/*
 * An incremental tree: the roots of the perfect subtrees along its right
 * edge, one per set bit of size. Appending costs O(log n) hashes, and the
 * root of the whole tree is available at any size in O(log n).
 */
struct merkle_frontier {
	uint64_t	 size;
	unsigned char	 node[MERKLE_MAX_DEPTH][MERKLE_HASH_LEN]; /* node[h]: the
					   perfect subtree of 2^h leaves, when
					   bit h of size is set */
};

void	merkle_frontier_init(struct merkle_frontier *f);

/* Append one leaf hash. 0 or -1. */
int	merkle_frontier_append(struct merkle_frontier *f,
	    const unsigned char leaf[MERKLE_HASH_LEN]);

/* The root of the tree of f->size leaves. 0 or -1. */
int	merkle_frontier_root(const struct merkle_frontier *f,
	    unsigned char out[MERKLE_HASH_LEN]);

/*
 * A source of subtree hashes for building proofs without holding every
 * leaf: get(cls, start, count, out) must give MTH of leaves
 * [start, start + count), count > 0, start + count <= the tree size.
 * Returns 0 or -1.
 */
typedef int (*merkle_subtree_fn)(void *cls, uint64_t start, uint64_t count,
	    unsigned char out[MERKLE_HASH_LEN]);

/* The audit path (RFC 9162 2.1.3.1) of leaf index in a tree of size
 * leaves: *n hashes into path (capacity MERKLE_MAX_DEPTH), leaf side up.
 * 0, or -1 for index >= size or a source failure. */
int	merkle_inclusion_proof(uint64_t index, uint64_t size,
	    merkle_subtree_fn get, void *cls,
	    unsigned char path[][MERKLE_HASH_LEN], size_t *n);

/* Verify an audit path (RFC 9162 2.1.3.2): 1 when leaf at index is in the
 * tree of size with the given root, else 0. */
int	merkle_inclusion_verify(uint64_t index, uint64_t size,
	    const unsigned char leaf[MERKLE_HASH_LEN],
	    const unsigned char path[][MERKLE_HASH_LEN], size_t n,
	    const unsigned char root[MERKLE_HASH_LEN]);

/* The consistency proof (RFC 9162 2.1.4.1) from tree size old to size
 * new, 0 < old <= new: *n hashes into proof. 0 or -1. */
int	merkle_consistency_proof(uint64_t old_size, uint64_t new_size,
	    merkle_subtree_fn get, void *cls,
	    unsigned char proof[][MERKLE_HASH_LEN], size_t *n);

/* Verify a consistency proof (RFC 9162 2.1.4.2): 1 when the tree of
 * new_size with new_root extends the tree of old_size with old_root. */
int	merkle_consistency_verify(uint64_t old_size, uint64_t new_size,
	    const unsigned char old_root[MERKLE_HASH_LEN],
	    const unsigned char new_root[MERKLE_HASH_LEN],
	    const unsigned char proof[][MERKLE_HASH_LEN], size_t n);

#endif
