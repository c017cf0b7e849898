-- hookledger schema, version 4: the Merkle tree over the entry hashes
-- (RFC 9162 section 2.1, docs/ledger-format.md).
--
-- One row per perfect subtree: level 0 holds the leaf hashes, level h the
-- root of leaves [idx * 2^h, (idx + 1) * 2^h). Each append adds its leaf
-- and the subtrees it completes, so no append recomputes the tree, and
-- any proof needs O(log n) rows. The rows are a cache for proofs: verify
-- recomputes the tree from the entries and never trusts them.
CREATE TABLE merkle_nodes (
	level	INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
	idx	INTEGER NOT NULL CHECK (idx >= 0),
	hash	BLOB NOT NULL CHECK (length(hash) = 32),
	PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER merkle_no_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'merkle nodes are append-only'); END;
CREATE TRIGGER merkle_no_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'merkle nodes are append-only'); END;
