/*
 * test_token.c: API tokens: creation, storage as a hash only, and the
 * strict parsing and checking of an Authorization header.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "digest.h"
#include "ledger.h"
#include "token.h"
#include "tmpdir.h"

static char		 dir[256];
static char		 path[300];
static char		 err[512];
static struct ledger	*lg;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "token");
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	lg = ledger_open(path, LEDGER_READ_WRITE, err, sizeof(err));
	ck_assert_msg(lg != NULL, "ledger_open: %s", err);
}

static void
teardown(void)
{
	ledger_close(lg);
	lg = NULL;
	tmpdir_remove(dir);
	digest_fini();
}

/* "Bearer " + tok into buf. */
static const char *
bearer(char *buf, size_t len, const char *tok)
{
	int n = snprintf(buf, len, "Bearer %s", tok);

	ck_assert(n > 0 && (size_t)n < len);
	return buf;
}

static int
is_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

static int64_t
count_rows(void)
{
	sqlite3_stmt	*st;
	int64_t		 n;

	ck_assert_int_eq(sqlite3_prepare_v2(ledger_db(lg),
	    "SELECT count(*) FROM tokens", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

START_TEST(scope_parse)
{
	ck_assert_int_eq(token_scope_parse("payments:write"),
	    TOKEN_SCOPE_PAYMENTS_WRITE);
	ck_assert_int_eq(token_scope_parse("ledger:read"),
	    TOKEN_SCOPE_LEDGER_READ);
	ck_assert_int_eq(token_scope_parse("ledger:write"), 0);
	ck_assert_int_eq(token_scope_parse("Ledger:read"), 0);
	ck_assert_int_eq(token_scope_parse("ledger:read "), 0);
	ck_assert_int_eq(token_scope_parse(""), 0);
	ck_assert_int_eq(token_scope_parse(NULL), 0);
}
END_TEST

START_TEST(create_and_check)
{
	char	tok[TOKEN_TEXT_MAX], tok2[TOKEN_TEXT_MAX], h[200];
	sqlite3	*db = ledger_db(lg);

	ck_assert_int_eq(token_create(db, "acme", TOKEN_SCOPE_LEDGER_READ, tok,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(tok), 47);
	ck_assert_int_eq(strncmp(tok, "hlt_", 4), 0);
	ck_assert_msg(is_b64url(tok + 4, 43), "not base64url: %s", tok);
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_OK);

	/* The scheme's name is case-insensitive. */
	snprintf(h, sizeof(h), "bEARER %s", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_OK);

	/* The tenant is compared over its length, not as a prefix. */
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acmex", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_OK);
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acm", 3,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_WRONG_TENANT);
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acmex", 5,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_WRONG_TENANT);

	/* Two tokens are never the same. */
	ck_assert_int_eq(token_create(db, "acme", TOKEN_SCOPE_LEDGER_READ, tok2,
	    err, sizeof(err)), 0);
	ck_assert_str_ne(tok, tok2);
	ck_assert_int_eq(count_rows(), 2);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(tok2, sizeof(tok2));
}
END_TEST

START_TEST(wrong_tenant_and_scope)
{
	char	rd[TOKEN_TEXT_MAX], wr[TOKEN_TEXT_MAX], h[200];
	sqlite3	*db = ledger_db(lg);

	ck_assert_int_eq(token_create(db, "acme", TOKEN_SCOPE_LEDGER_READ, rd,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(token_create(db, "globex", TOKEN_SCOPE_PAYMENTS_WRITE,
	    wr, err, sizeof(err)), 0);

	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), rd), "globex", 6,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_WRONG_TENANT);
	/* The tenant is checked before the scope: a foreign token learns
	 * nothing about the scopes of another tenant. */
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), rd), "globex", 6,
	    TOKEN_SCOPE_PAYMENTS_WRITE), TOKEN_WRONG_TENANT);
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), rd), "acme", 4,
	    TOKEN_SCOPE_PAYMENTS_WRITE), TOKEN_NO_SCOPE);

	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), wr), "globex", 6,
	    TOKEN_SCOPE_PAYMENTS_WRITE), TOKEN_OK);
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), wr), "globex", 6,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_NO_SCOPE);
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), wr), "acme", 4,
	    TOKEN_SCOPE_PAYMENTS_WRITE), TOKEN_WRONG_TENANT);
}
END_TEST

START_TEST(malformed_headers)
{
	char	tok[TOKEN_TEXT_MAX], h[300], longtok[TOKEN_TEXT_MAX + 8];
	sqlite3	*db = ledger_db(lg);
	size_t	i;

	ck_assert_int_eq(token_create(db, "acme", TOKEN_SCOPE_LEDGER_READ, tok,
	    err, sizeof(err)), 0);

	ck_assert_int_eq(token_check(db, NULL, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);
	ck_assert_int_eq(token_check(db, "", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);
	ck_assert_int_eq(token_check(db, "Basic x", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);
	snprintf(h, sizeof(h), "Bearerx %s", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);
	snprintf(h, sizeof(h), "Token %s", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);

	ck_assert_int_eq(token_check(db, "Bearer", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	ck_assert_int_eq(token_check(db, "Bearer ", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	ck_assert_int_eq(token_check(db, "Bearer  x", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	/* The right token, spoiled only by its framing. */
	snprintf(h, sizeof(h), "Bearer  %s", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	snprintf(h, sizeof(h), "Bearer\t%s", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);
	snprintf(h, sizeof(h), "Bearer %s ", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	snprintf(h, sizeof(h), "Bearer %s,", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	snprintf(h, sizeof(h), "Bearer %s=", tok);
	ck_assert_int_eq(token_check(db, h, "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);

	/* Characters outside base64url, standard base64's included. */
	ck_assert_int_eq(token_check(db, "Bearer hlt_a+b", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	ck_assert_int_eq(token_check(db, "Bearer hlt_a/b", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	ck_assert_int_eq(token_check(db, "Bearer hlt_a.b", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	ck_assert_int_eq(token_check(db, "Bearer hlt_\xc3\xa9", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);

	/* Over-long: TOKEN_TEXT_MAX characters, one more than fits. */
	for (i = 0; i < TOKEN_TEXT_MAX; i++)
		longtok[i] = 'A';
	longtok[TOKEN_TEXT_MAX] = '\0';
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), longtok), "acme",
	    4, TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	/* The longest that is parsed is merely unknown. */
	longtok[TOKEN_TEXT_MAX - 1] = '\0';
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), longtok), "acme",
	    4, TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);

	/* And the well-formed header still works. */
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_OK);
}
END_TEST

START_TEST(unknown_token)
{
	char	tok[TOKEN_TEXT_MAX], h[200];
	sqlite3	*db = ledger_db(lg);
	size_t	n;

	ck_assert_int_eq(token_create(db, "acme", TOKEN_SCOPE_LEDGER_READ, tok,
	    err, sizeof(err)), 0);
	/* One character changed. */
	n = strlen(tok);
	tok[n - 1] = tok[n - 1] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	/* Truncated. */
	tok[n - 1] = '\0';
	ck_assert_int_eq(token_check(db, bearer(h, sizeof(h), tok), "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
	ck_assert_int_eq(token_check(db, "Bearer hlt_x", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_INVALID);
}
END_TEST

START_TEST(stored_as_hash_only)
{
	char			 tok[TOKEN_TEXT_MAX];
	unsigned char		 want[DIGEST_SHA256_LEN];
	sqlite3			*db = ledger_db(lg);
	sqlite3_stmt		*st;
	const unsigned char	*blob;
	int			 ncols, i;

	ck_assert_int_eq(token_create(db, "acme", TOKEN_SCOPE_PAYMENTS_WRITE,
	    tok, err, sizeof(err)), 0);
	ck_assert_int_eq(digest_sha256(tok, strlen(tok), want), 0);

	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT * FROM tokens", -1, &st,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ncols = sqlite3_column_count(st);
	ck_assert_int_eq(ncols, 4);
	ck_assert_str_eq(sqlite3_column_name(st, 0), "token_sha256");
	ck_assert_int_eq(sqlite3_column_type(st, 0), SQLITE_BLOB);
	ck_assert_int_eq(sqlite3_column_bytes(st, 0), DIGEST_SHA256_LEN);
	blob = sqlite3_column_blob(st, 0);
	ck_assert_mem_eq(blob, want, DIGEST_SHA256_LEN);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 1), "acme");
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 2),
	    "payments:write");
	ck_assert_int_eq(sqlite3_column_type(st, 3), SQLITE_INTEGER);
	ck_assert_int_gt(sqlite3_column_int64(st, 3), 1700000000);
	/* No column holds the token's text, or any part of its random
	 * part long enough to matter. */
	for (i = 1; i < ncols; i++) {
		const char *v = (const char *)sqlite3_column_text(st, i);

		ck_assert_ptr_nonnull(v);
		ck_assert_ptr_null(strstr(v, tok + 4));
		ck_assert_ptr_null(strstr(v, "hlt_"));
	}
	ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}
END_TEST

START_TEST(create_refuses_bad_input)
{
	char	tok[TOKEN_TEXT_MAX];
	sqlite3	*db = ledger_db(lg);

	ck_assert_int_eq(token_create(db, "ac/me", TOKEN_SCOPE_LEDGER_READ, tok,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(tok, "");
	ck_assert_int_eq(token_create(db, "", TOKEN_SCOPE_LEDGER_READ, tok,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(token_create(db, "acme", 0, tok, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(tok, "");
	ck_assert_int_eq(count_rows(), 0);
}
END_TEST

START_TEST(read_only_connection)
{
	char		 tok[TOKEN_TEXT_MAX], h[200];
	struct ledger	*ro;

	ck_assert_int_eq(token_create(ledger_db(lg), "acme",
	    TOKEN_SCOPE_LEDGER_READ, tok, err, sizeof(err)), 0);
	ro = ledger_open(path, LEDGER_READ_ONLY, err, sizeof(err));
	ck_assert_msg(ro != NULL, "ledger_open read-only: %s", err);
	ck_assert_int_eq(token_check(ledger_db(ro), bearer(h, sizeof(h), tok),
	    "acme", 4, TOKEN_SCOPE_LEDGER_READ), TOKEN_OK);
	/* A token cannot be created through a read-only connection. */
	ck_assert_int_eq(token_create(ledger_db(ro), "acme",
	    TOKEN_SCOPE_LEDGER_READ, tok, err, sizeof(err)), -1);
	ck_assert_str_eq(tok, "");
	ledger_close(ro);
}
END_TEST

START_TEST(storage_error)
{
	char	 tok[TOKEN_TEXT_MAX], h[200];
	sqlite3	*empty;

	ck_assert_int_eq(token_create(ledger_db(lg), "acme",
	    TOKEN_SCOPE_LEDGER_READ, tok, err, sizeof(err)), 0);
	/* A database without the tokens table. */
	ck_assert_int_eq(sqlite3_open(":memory:", &empty), SQLITE_OK);
	ck_assert_int_eq(token_check(empty, bearer(h, sizeof(h), tok), "acme",
	    4, TOKEN_SCOPE_LEDGER_READ), TOKEN_ERROR);
	/* A malformed header is refused before any storage is asked. */
	ck_assert_int_eq(token_check(empty, "Basic x", "acme", 4,
	    TOKEN_SCOPE_LEDGER_READ), TOKEN_MISSING);
	sqlite3_close(empty);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("token");
	TCase	*tc = tcase_create("token");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, scope_parse);
	tcase_add_test(tc, create_and_check);
	tcase_add_test(tc, wrong_tenant_and_scope);
	tcase_add_test(tc, malformed_headers);
	tcase_add_test(tc, unknown_token);
	tcase_add_test(tc, stored_as_hash_only);
	tcase_add_test(tc, create_refuses_bad_input);
	tcase_add_test(tc, read_only_connection);
	tcase_add_test(tc, storage_error);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
