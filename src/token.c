/*
 * token.c: API tokens, stored as the SHA-256 of their text.
 *
 * A token has 256 random bits, so a plain SHA-256 is enough to make the
 * stored column useless to whoever reads the file: there is nothing to
 * guess. Only the hash is ever compared, in constant time.
 */
#include "token.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "config.h"
#include "digest.h"

#define TOKEN_PREFIX	"hlt_"
#define TOKEN_RANDOM	32	/* bytes of randomness in a token */
#define BEARER		"Bearer"

static const char *
scope_name(enum token_scope scope)
{
	switch (scope) {
	case TOKEN_SCOPE_PAYMENTS_WRITE:
		return "payments:write";
	case TOKEN_SCOPE_LEDGER_READ:
		return "ledger:read";
	}
	return NULL;
}

enum token_scope
token_scope_parse(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "payments:write") == 0)
		return TOKEN_SCOPE_PAYMENTS_WRITE;
	if (strcmp(s, "ledger:read") == 0)
		return TOKEN_SCOPE_LEDGER_READ;
	return 0;
}

int
token_create(sqlite3 *db, const char *tenant, enum token_scope scope,
    char out[TOKEN_TEXT_MAX], char *err, size_t errlen)
{
	static const char	 sql[] = "INSERT INTO tokens (token_sha256, "
	    "tenant, scope, created_at) VALUES (?1, ?2, ?3, ?4)";
	unsigned char		 raw[TOKEN_RANDOM], h[DIGEST_SHA256_LEN];
	const char		*name = scope_name(scope);
	sqlite3_stmt		*st = NULL;
	size_t			 plen = sizeof(TOKEN_PREFIX) - 1;

	out[0] = '\0';
	if (tenant == NULL || !config_name_valid(tenant, strlen(tenant))) {
		snprintf(err, errlen, "tenant: must be 1 to %d of "
		    "[A-Za-z0-9_-]", CONFIG_NAME_MAX);
		return -1;
	}
	if (name == NULL) {
		snprintf(err, errlen, "scope: must be payments:write or "
		    "ledger:read");
		return -1;
	}
	/* 4 + 43 + 1 bytes: the prefix, unpadded base64url, the NUL. */
	memcpy(out, TOKEN_PREFIX, plen);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out + plen, TOKEN_TEXT_MAX - plen, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	if (digest_sha256(out, strlen(out), h) == -1) {
		snprintf(err, errlen, "cannot compute SHA-256");
		goto fail;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "cannot store the token: %s",
		    sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(st);
	sodium_memzero(h, sizeof(h));
	return 0;
fail:
	sqlite3_finalize(st);
	sodium_memzero(h, sizeof(h));
	sodium_memzero(out, TOKEN_TEXT_MAX);
	return -1;
}

static int
token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/*
 * "Bearer" (any case), exactly one space, then the token and nothing
 * else. Another scheme is as good as no header; the Bearer scheme with a
 * malformed credential is an invalid token. On success the token's
 * length is in *len and it starts at *tok.
 */
static enum token_result
parse_bearer(const char *v, const char **tok, size_t *len)
{
	size_t blen = sizeof(BEARER) - 1, n;

	if (v == NULL)
		return TOKEN_MISSING;
	if (strncasecmp(v, BEARER, blen) != 0 ||
	    (v[blen] != ' ' && v[blen] != '\0'))
		return TOKEN_MISSING;
	if (v[blen] == '\0')
		return TOKEN_INVALID;
	v += blen + 1;
	for (n = 0; n < TOKEN_TEXT_MAX && token_char((unsigned char)v[n]); n++)
		;
	if (n == 0 || n >= TOKEN_TEXT_MAX || v[n] != '\0')
		return TOKEN_INVALID;
	*tok = v;
	*len = n;
	return TOKEN_OK;
}

enum token_result
token_check(sqlite3 *db, const char *authorization, const char *tenant,
    size_t tenant_len, enum token_scope scope)
{
	static const char	 sql[] = "SELECT token_sha256, tenant, scope "
	    "FROM tokens WHERE token_sha256 = ?1";
	char			 copy[TOKEN_TEXT_MAX];
	unsigned char		 h[DIGEST_SHA256_LEN];
	const unsigned char	*stored;
	const char		*tok = NULL, *t, *s;
	sqlite3_stmt		*st = NULL;
	enum token_result	 r;
	size_t			 n = 0;
	int			 rc;

	if ((r = parse_bearer(authorization, &tok, &n)) != TOKEN_OK)
		return r;
	/* Hash a private copy, so that nothing but the digest outlives
	 * this call on our side. */
	memcpy(copy, tok, n);
	rc = digest_sha256(copy, n, h);
	sodium_memzero(copy, sizeof(copy));
	if (rc == -1) {
		r = TOKEN_ERROR;
		goto out;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC) != SQLITE_OK) {
		r = TOKEN_ERROR;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = TOKEN_INVALID;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = TOKEN_ERROR;
		goto out;
	}
	stored = sqlite3_column_blob(st, 0);
	if (stored == NULL || sqlite3_column_bytes(st, 0) != DIGEST_SHA256_LEN ||
	    sodium_memcmp(stored, h, DIGEST_SHA256_LEN) != 0) {
		r = TOKEN_INVALID;
		goto out;
	}
	t = (const char *)sqlite3_column_text(st, 1);
	s = (const char *)sqlite3_column_text(st, 2);
	if (t == NULL || s == NULL) {
		r = TOKEN_ERROR;
		goto out;
	}
	if ((size_t)sqlite3_column_bytes(st, 1) != tenant_len ||
	    memcmp(t, tenant, tenant_len) != 0)
		r = TOKEN_WRONG_TENANT;
	else if (token_scope_parse(s) != scope)
		r = TOKEN_NO_SCOPE;
	else
		r = TOKEN_OK;
out:
	/* Finalizing also ends the read transaction at once. */
	sqlite3_finalize(st);
	sodium_memzero(h, sizeof(h));
	return r;
}

json_t *
token_list(sqlite3 *db, const char *tenant, char *err, size_t errlen)
{
	static const char	 sql[] = "SELECT lower(hex(substr(token_sha256,"
	    " 1, ?2))), tenant, scope, created_at FROM tokens WHERE ?1 IS NULL"
	    " OR tenant = ?1 ORDER BY tenant, created_at, token_sha256 "
	    "LIMIT ?3";
	sqlite3_stmt		*st = NULL;
	json_t			*a = NULL;
	int			 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, TOKEN_ID_LEN / 2) != SQLITE_OK ||
	    sqlite3_bind_int(st, 3, TOKEN_LIST_MAX) != SQLITE_OK ||
	    (a = json_array()) == NULL)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}",
		    "id", (const char *)sqlite3_column_text(st, 0),
		    "tenant", (const char *)sqlite3_column_text(st, 1),
		    "scope", (const char *)sqlite3_column_text(st, 2),
		    "created_at", (json_int_t)sqlite3_column_int64(st, 3))) ==
		    -1)
			goto fail;
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return a;
fail:
	snprintf(err, errlen, "tokens: %s", a == NULL && st != NULL ?
	    "out of memory" : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	json_decref(a);
	return NULL;
}

int
token_id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (n < TOKEN_ID_LEN || n > 2 * DIGEST_SHA256_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]))
			return 0;
	return 1;
}

int
token_revoke(sqlite3 *db, const char *id, char *tenant, char *scope,
    char *err, size_t errlen)
{
	static const char	 find[] = "SELECT token_sha256, tenant, scope "
	    "FROM tokens WHERE substr(lower(hex(token_sha256)), 1, "
	    "length(?1)) = lower(?1) LIMIT 2";
	static const char	 del[] = "DELETE FROM tokens WHERE "
	    "token_sha256 = ?1";
	unsigned char		 h[DIGEST_SHA256_LEN];
	sqlite3_stmt		*st = NULL;
	int			 rc, n = 0;

	if (!token_id_valid(id)) {
		snprintf(err, errlen, "--id must be %d to %d hexadecimal "
		    "characters", TOKEN_ID_LEN, 2 * DIGEST_SHA256_LEN);
		return -1;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, find, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ > 0)
			break;
		if (sqlite3_column_bytes(st, 0) != DIGEST_SHA256_LEN)
			goto fail;
		memcpy(h, sqlite3_column_blob(st, 0), sizeof(h));
		snprintf(tenant, CONFIG_NAME_MAX + 1, "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(scope, 16, "%s",
		    (const char *)sqlite3_column_text(st, 2));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (n > 1) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(err, errlen, "id %s is the start of more than one "
		    "token's hash; give more of it", id);
		return -1;
	}
	if (n == 1 && (sqlite3_prepare_v2(db, del, -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_bind_blob(st, 1, h, sizeof(h),
	    SQLITE_STATIC) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_changes(db) != 1))
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return n;
fail:
	snprintf(err, errlen, "tokens: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
