/*
 * token: per-tenant, scoped API tokens for the merchant's backend.
 *
 * A token is shown once, when created, and stored only as its SHA-256.
 * Presented tokens are hashed and compared in constant time; a token of
 * one tenant never reveals that another tenant exists.
 */
#ifndef HL_TOKEN_H
#define HL_TOKEN_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

#define TOKEN_TEXT_MAX	96	/* bytes in a token's text, NUL included */
#define TOKEN_ID_LEN	12	/* hex digits of a token's public id */
#define TOKEN_LIST_MAX	100000	/* rows token_list() returns */

enum token_scope {
	TOKEN_SCOPE_PAYMENTS_WRITE = 1,	/* "payments:write" */
	TOKEN_SCOPE_LEDGER_READ = 2	/* "ledger:read" */
};

enum token_result {
	TOKEN_OK = 0,
	TOKEN_MISSING,		/* no Authorization: Bearer header: 401 */
	TOKEN_INVALID,		/* unknown or malformed token: 401 */
	TOKEN_WRONG_TENANT,	/* valid for another tenant: 404 */
	TOKEN_NO_SCOPE,		/* right tenant, scope not granted: 403 */
	TOKEN_ERROR		/* storage error: 503 */
};

/* Parse "payments:write" or "ledger:read"; returns the scope or 0. */
enum token_scope token_scope_parse(const char *s);

/* Create a token for tenant with scope and store its hash in db (opened
 * read-write). The token text ("hlt_" + 43 base64url characters) is
 * written to out, which holds TOKEN_TEXT_MAX bytes; the caller shows it
 * once and wipes it. Returns 0, or -1 with a line in err. */
int	token_create(sqlite3 *db, const char *tenant, enum token_scope scope,
	    char out[TOKEN_TEXT_MAX], char *err, size_t errlen);

/* Check the value of an Authorization header (NULL when absent) for
 * tenant (len bytes, from the URL) and scope, against db (any
 * connection that can read the tokens table). Thread-safe for distinct
 * connections. */
enum token_result token_check(sqlite3 *db, const char *authorization,
	    const char *tenant, size_t tenant_len, enum token_scope scope);

/* The tokens (of tenant, or every tenant's when NULL), at most
 * TOKEN_LIST_MAX, as a new JSON array of {"id", "tenant", "scope",
 * "created_at"} by tenant and creation: "id" is the first TOKEN_ID_LEN
 * hex digits of the token's SHA-256, which names it without revealing it.
 * NULL with a line in err. Any connection that can read the table. */
json_t	*token_list(sqlite3 *db, const char *tenant, char *err,
	    size_t errlen);

/* 1 when id (TOKEN_ID_LEN to 64 hex digits, any case) is the start of
 * the SHA-256 of hex digits. */
int	 token_id_valid(const char *id);

/* Revoke the one token whose SHA-256 starts with id (token_id_valid):
 * its row is deleted, so token_check() refuses it from the next request
 * on. db is read-write. 1 revoked (its tenant and scope copied to tenant
 * and scope, CONFIG_NAME_MAX + 1 and 16 bytes), 0 no such token, -1 with
 * a line in err (including an id that matches more than one token). */
int	 token_revoke(sqlite3 *db, const char *id, char *tenant,
	    char *scope, char *err, size_t errlen);

#endif
