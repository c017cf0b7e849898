/*
 * header: the plain request headers a webhook or API request carries,
 * read the way the daemon reads them: Content-Type, Idempotency-Key and
 * Authorization (a Bearer token looked up in a ledger's tokens table).
 *
 * Input: up to three lines, each a header value (a missing line is an
 * absent header): Content-Type, Idempotency-Key, Authorization. A seed
 * carries the token the set-up creates, so mutations start from TOKEN_OK.
 */
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "digest.h"
#include "header.h"
#include "ledger.h"
#include "token.h"

#include "fuzz.h"

#define FUZZ_TENANT	"acme"

static struct ledger	*lg;
static char		 dir[64];

static void
cleanup(void)
{
	char path[128];

	ledger_close(lg);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ledger.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ledger.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 path[128], err[256], tok[TOKEN_TEXT_MAX];

	if (sodium_init() < 0 || digest_init() == -1)
		fuzz_die("cannot initialise libsodium or the digests");
	snprintf(dir, sizeof(dir), "%s/hl-fuzz-header-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		fuzz_die("mkdtemp");
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	if ((lg = ledger_open(path, LEDGER_READ_WRITE, err,
	    sizeof(err))) == NULL)
		fuzz_die(err);
	atexit(cleanup);
	/* A token nobody knows: the seeds only reach TOKEN_INVALID and the
	 * other refusals, which is where the parsing is. */
	if (token_create(ledger_db(lg), FUZZ_TENANT, TOKEN_SCOPE_LEDGER_READ,
	    tok, err, sizeof(err)) == -1)
		fuzz_die(err);
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*ctype, *idem, *authz;
	enum token_result	 r;
	int			 ok;
	size_t			 n;

	ctype = fuzz_line(&data, &size);
	idem = fuzz_line(&data, &size);
	authz = fuzz_line(&data, &size);

	ok = header_is_json(ctype);
	if (ctype == NULL && ok)
		abort();
	ok = header_idem_key_ok(idem, HEADER_IDEM_KEY_MAX);
	if (ok) {
		n = strlen(idem);
		if (n < 1 || n > HEADER_IDEM_KEY_MAX)
			abort();
	}
	r = token_check(ledger_db(lg), authz, FUZZ_TENANT,
	    strlen(FUZZ_TENANT), TOKEN_SCOPE_LEDGER_READ);
	if (authz == NULL && r != TOKEN_MISSING)
		abort();
	/* Nobody holds the token: no input may authenticate. */
	if (r == TOKEN_OK || r == TOKEN_ERROR)
		abort();
	free(ctype);
	free(idem);
	free(authz);
	return 0;
}
