/*
 * verify: recompute the whole ledger from the file, trusting nothing the
 * server wrote about it except the rows themselves.
 */
#ifndef HL_VERIFY_H
#define HL_VERIFY_H

#include <stdint.h>

#include "digest.h"
#include "ledger.h"
#include "merkle.h"

#define VERIFY_PROBLEM_MAX 512

enum verify_result {
	VERIFY_OK = 0,		/* intact */
	VERIFY_TAMPERED = 1,	/* problem names the first bad entry */
	VERIFY_ERROR = 2	/* could not read: problem says why */
};

/* A trusted checkpoint the ledger must extend (its signature already
 * checked by the caller). */
struct verify_checkpoint {
	uint64_t	 size;
	unsigned char	 root[DIGEST_SHA256_LEN];
	const char	*label;		/* for the report: its file name */
};

struct verify_opts {
	const struct verify_checkpoint *checkpoints;
	size_t		 ncheckpoints;
	/* Called every 65536 entries and at the end, when not NULL. */
	void		(*progress)(void *cls, int64_t done, int64_t total);
	void		*cls;
};

struct verify_report {
	int64_t		 entries;
	int64_t		 head_seq;
	unsigned char	 head_hash[DIGEST_SHA256_LEN];
	unsigned char	 root[DIGEST_SHA256_LEN];	/* Merkle tree head */
	int64_t		 bad_seq;	/* first bad entry, 0 if none named */
	char		 problem[VERIFY_PROBLEM_MAX];
};

/* Check, in order: the file's integrity (quick_check), every entry's
 * fields, seq continuity from 1, each prev_hash against the previous
 * entry's hash, each hash against its recomputation, the receipts'
 * agreement with the entries, the schema's objects (exactly schema/'s
 * triggers, tables and views), and that every payment's postings are
 * what books_target() makes of its facts, entry by entry, in the order
 * hookledgerd released them (docs/ledger-format.md). Stops at the first
 * fault. lg may be read-only. Not thread-safe for one lg. */
enum verify_result verify_ledger(struct ledger *lg, struct verify_report *out);

/* verify_ledger(), and also: the Merkle tree recomputed from the entries
 * matches the stored one, and the ledger extends every checkpoint in o:
 * its first size entries have exactly the checkpoint's root. A checkpoint
 * larger than the ledger is truncation or a rollback; a different root at
 * its size is a fork or a rewrite. */
enum verify_result verify_ledger_with(struct ledger *lg,
	    const struct verify_opts *o, struct verify_report *out);

/* When ledger_open() failed on path: VERIFY_TAMPERED (problem filled) if
 * the file is a damaged SQLite database, else VERIFY_ERROR. */
enum verify_result verify_open_failure(const char *path,
	    struct verify_report *out);

#endif
