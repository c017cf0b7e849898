/*
 * entry: one ledger entry and its hash.
 *
 * The hash commits to every field and to the previous entry's hash, through
 * a versioned, length-prefixed binary encoding (docs/ledger-format.md), so
 * that no two different entries share an encoding. Both the writer and the
 * verifier call entry_hash(): there is exactly one definition of it.
 */
#ifndef HL_ENTRY_H
#define HL_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define ENTRY_FORMAT_VERSION	2	/* what new entries are written in */
#define ENTRY_TEXT_MAX		255	/* bytes in any text field */
#define ENTRY_POSTINGS_MAX	16	/* postings in one entry */
#define ENTRY_ENCODED_MAX	4096	/* bytes in an encoding; a bound */

/* One side of a double-entry posting: exactly one of debit and credit is
 * non-zero. */
struct entry_posting {
	const char	*account;	/* one of entry_accounts */
	int64_t		 debit;
	int64_t		 credit;
};

struct entry {
	int64_t		 seq;		/* 1, 2, 3, ... without gaps */
	const char	*tenant;
	const char	*endpoint;
	const char	*event_id;
	const char	*kind;		/* event_kind_name() */
	const char	*payment_ref;
	int64_t		 amount;	/* minor units, > 0 */
	const char	*currency;	/* ISO 4217, upper case */
	int64_t		 occurred_at;	/* provider's event time, Unix s */
	int64_t		 recorded_at;	/* server clock at commit, Unix s */
	unsigned char	 body_sha256[DIGEST_SHA256_LEN];
	unsigned char	 prev_hash[DIGEST_SHA256_LEN];
	int		 format;	/* 1 (no postings) or 2 */
	const struct entry_posting *postings;	/* format 2: 1 or more */
	size_t		 npostings;
};

/* The accounts of a tenant's books, per currency. */
extern const char *const entry_accounts[];

/* Return 1 when name is one of entry_accounts. */
int	entry_account_valid(const char *name);

/* Write the canonical encoding of e into buf (cap bytes). Returns its
 * length, or -1 when a text field is longer than ENTRY_TEXT_MAX, the
 * format is unknown, a format-2 entry has no postings or more than
 * ENTRY_POSTINGS_MAX, or the encoding does not fit. Thread-safe. */
long	entry_encode(const struct entry *e, unsigned char *buf, size_t cap);

/* hash = SHA-256(entry_encode(e)). Returns 0, or -1 as entry_encode().
 * Thread-safe after digest_init(). */
int	entry_hash(const struct entry *e, unsigned char hash[DIGEST_SHA256_LEN]);

#endif
