/*
 * cli_token.c: the merchant's API tokens, `hookledger token create`,
 * `token list` and `token revoke`.
 *
 * Tokens live in the tokens table, outside the hash chain (docs/
 * ledger-format.md): revoking one deletes its row, and the daemon, which
 * looks every presented token up in the database, refuses it from its
 * next request on.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "config.h"
#include "token.h"

int
cli_token_create(const struct opts *o)
{
	struct ledger		*lg;
	enum token_scope	 scope;
	char			 tok[TOKEN_TEXT_MAX], err[256];
	int			 rc;

	if (cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->scope == NULL || (scope = token_scope_parse(o->scope)) == 0)
		return cli_usage(o, "--scope must be payments:write or "
		    "ledger:read");
	if ((lg = open_db(o, LEDGER_READ_WRITE_EXISTING, NULL)) == NULL)
		return EXIT_USAGE;
	rc = token_create(ledger_db(lg), o->tenant, scope, tok, err,
	    sizeof(err));
	ledger_close(lg);
	if (rc == -1) {
		cli_error(o, "%s", err);
		return EXIT_USAGE;
	}
	printf("%s\n", tok);
	fflush(stdout);
	sodium_memzero(tok, sizeof(tok));
	fprintf(stderr, "hookledger: token for tenant %s with scope %s; it is "
	    "shown only this once\n", o->tenant, o->scope);
	return EXIT_SUCCESS;
}

int
cli_token_list(const struct opts *o)
{
	struct ledger	*lg;
	json_t		*a, *x;
	char		 err[256], when[32];
	struct tm	 tm;
	time_t		 t;
	size_t		 i;
	int		 rc = EXIT_SUCCESS;

	if (o->tenant != NULL && cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL)
		return EXIT_USAGE;
	a = token_list(ledger_db(lg), o->tenant, err, sizeof(err));
	ledger_close(lg);
	if (a == NULL) {
		cli_error(o, "%s", err);
		return EXIT_USAGE;
	}
	if (o->json)
		rc = print_json(a);
	else if (json_array_size(a) == 0 && o->tenant != NULL)
		printf("no tokens for tenant %s\n", o->tenant);
	else if (json_array_size(a) == 0)
		printf("no tokens\n");
	else {
		printf("%-*s  %-16s %-15s %s\n", TOKEN_ID_LEN, "id", "tenant",
		    "scope", "created");
		json_array_foreach(a, i, x) {
			t = (time_t)json_integer_value(json_object_get(x,
			    "created_at"));
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("%-*s  %-16s %-15s %s\n", TOKEN_ID_LEN,
			    json_string_value(json_object_get(x, "id")),
			    json_string_value(json_object_get(x, "tenant")),
			    json_string_value(json_object_get(x, "scope")),
			    when);
		}
	}
	json_decref(a);
	return rc;
}

int
cli_token_revoke(const struct opts *o)
{
	struct ledger	*lg;
	char		 err[256], tenant[CONFIG_NAME_MAX + 1], scope[16];
	char		 id[TOKEN_ID_LEN + 1];
	int		 rc, i;

	if (o->id == NULL)
		return cli_usage(o, "--id is required");
	if (!token_id_valid(o->id))
		return cli_usage(o, "--id must be %d to 64 hexadecimal "
		    "characters (from hookledger token list)", TOKEN_ID_LEN);
	if ((lg = open_db(o, LEDGER_READ_WRITE_EXISTING, NULL)) == NULL)
		return EXIT_USAGE;
	rc = token_revoke(ledger_db(lg), o->id, tenant, scope, err,
	    sizeof(err));
	ledger_close(lg);
	if (rc == -1) {
		cli_error(o, "%s", err);
		return EXIT_USAGE;
	}
	if (rc == 0) {
		cli_error(o, "no token has id %s (hookledger token list shows "
		    "them)", o->id);
		return EXIT_USAGE;
	}
	for (i = 0; i < TOKEN_ID_LEN; i++)	/* token list's spelling */
		id[i] = (char)tolower((unsigned char)o->id[i]);
	id[TOKEN_ID_LEN] = '\0';
	printf("revoked token %s (tenant %s, scope %s): hookledgerd refuses "
	    "it from its next request\n", id, tenant, scope);
	return EXIT_SUCCESS;
}
