/*
 * proof: what an auditor or a merchant can check without the database:
 * entries as JSON, inclusion proofs of one entry under a signed
 * checkpoint, consistency proofs between two checkpoints, and the JSON
 * Lines export of the whole ledger (docs/ledger-format.md).
 */
#ifndef HL_PROOF_H
#define HL_PROOF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ledger.h"
#include "note.h"
#include "verify.h"

/* Entry seq and its postings as a JSON object (hashes in lower-case hex).
 * NULL with err when there is no such entry or a read fails. Read-only. */
json_t	*proof_entry_json(struct ledger *lg, int64_t seq, char *err,
	    size_t errlen);

/* Recompute the hash of an entry given as proof_entry_json() writes it.
 * 0, or -1 with err for a malformed entry. */
int	 proof_entry_hash(const json_t *entry, unsigned char hash[32],
	    char *err, size_t errlen);

/* An inclusion proof for entry seq in the tree of the checkpoint, whose
 * signed text is cp_text: {"entry":{...}, "entry_hash":hex,
 * "leaf_index":N, "tree_size":N, "proof":[base64...],
 * "checkpoint":"..."}. The stored tree must have the checkpoint's root at
 * its size, else NULL with err. */
json_t	*proof_inclusion(struct ledger *lg, int64_t seq,
	    const struct note_checkpoint *cp, const char *cp_text,
	    char *err, size_t errlen);

/* Check an inclusion proof offline: the checkpoint is signed by v, the
 * entry hashes to entry_hash, and the audit path leads from its leaf to
 * the checkpoint's root. 0 valid, or -1 with err saying what failed. */
int	 proof_check_inclusion(const json_t *proof,
	    const struct note_verifier *v, char *err, size_t errlen);

/* A consistency proof between two checkpoints of this ledger:
 * {"old_size":N, "new_size":N, "old_root":b64, "new_root":b64,
 *  "proof":[base64...]}. NULL with err if the stored tree disagrees with
 * either checkpoint. */
json_t	*proof_consistency(struct ledger *lg, const struct note_checkpoint *old,
	    const struct note_checkpoint *new, char *err, size_t errlen);

/* Check a consistency proof against the two (already verified)
 * checkpoints. 0 valid, or -1 with err. */
int	 proof_check_consistency(const json_t *proof,
	    const struct note_checkpoint *old, const struct note_checkpoint *new,
	    char *err, size_t errlen);

/* Write every entry as one JSON line (proof_entry_json() plus
 * "entry_hash" and "leaf_hash") to out. 0 or -1 with err. Read-only. */
int	 proof_export(struct ledger *lg, FILE *out, char *err, size_t errlen);

/* Verify an export read from in, without SQLite: the chain, every hash,
 * the postings' balance, and every checkpoint in o. Fills out as
 * verify_ledger() does. */
enum verify_result proof_verify_export(FILE *in, const struct verify_opts *o,
	    struct verify_report *out);

#endif
