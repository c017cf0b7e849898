/*
 * ledger_int.h: what ledger.c (storage) and apply.c (the rules) share.
 * Private to those two files.
 */
#ifndef HL_LEDGER_INT_H
#define HL_LEDGER_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "entry.h"
#include "ledger.h"
#include "merkle.h"

enum stmt_id {
	ST_RECEIPT_GET,
	ST_RECEIPT_PUT,
	ST_ENTRY_PUT,
	ST_POSTING_PUT,
	ST_FACT_PUT,
	ST_FACTS_OF,
	ST_POSTED,
	ST_EXCEPTION_PUT,
	ST_EXPECT_GET,
	ST_EXPECT_PUT,
	ST_API_GET,
	ST_API_PUT,
	ST_MERKLE_PUT,
	ST_CAPTURED,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_COUNT
};

struct ledger {
	sqlite3		*db;
	enum ledger_mode mode;
	sqlite3_stmt	*stmt[ST_COUNT];
	int64_t		 head_seq;
	unsigned char	 head_hash[DIGEST_SHA256_LEN];
	struct merkle_frontier frontier;	/* the tree of head_seq leaves */
	sqlite3_stmt	*merkle_get;	/* prepared on first use, any mode */
	char		 last_error[160];	/* of the last failed event */
};

struct ledger_head {
	int64_t		 seq;
	unsigned char	 hash[DIGEST_SHA256_LEN];
	struct merkle_frontier frontier;
};

extern const char *const ledger_stmt_sql[ST_COUNT];

/* Step a statement that returns no rows, then reset it. 0 or -1. */
int	ledger_run(sqlite3_stmt *st);

/* Set out to status and the compact JSON of body (stolen). */
void	ledger_respond(struct ledger_outcome *out, enum ledger_result r,
	    int status, json_t *body);

/* Keep SQLite's reason for the failure of a step of lg, with its extended
 * result code, in lg->last_error before a rollback replaces it; what
 * names the step. Writer thread only. */
void	ledger_keep_error(struct ledger *lg, const char *what);

void	ledger_save_head(const struct ledger *lg, struct ledger_head *h);
void	ledger_restore_head(struct ledger *lg, const struct ledger_head *h);

/* Append e (its seq, format and prev_hash are set here) with its
 * postings, and advance the head. 0, or -1 on a storage error. */
int	ledger_append(struct ledger *lg, struct entry *e, int64_t *seq_out);

#endif
