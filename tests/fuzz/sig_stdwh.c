/*
 * sig_stdwh: the Standard Webhooks webhook-id, webhook-timestamp and
 * webhook-signature headers and the verifier.
 *
 * Input: three lines, the values of webhook-id, webhook-timestamp and
 * webhook-signature, then the raw body. A header the input ends before is
 * absent (NULL). The timestamp line also goes through
 * sig_parse_timestamp() on its own. The clock is fixed so that the seeds'
 * timestamp is fresh.
 */
#include <sodium.h>

#include "digest.h"
#include "secret.h"
#include "sig.h"

#include "fuzz.h"

/* whsec_ + base64 of "hookledger fuzz stdwh key 32b!!!" */
#define FUZZ_SECRET	"whsec_aG9va2xlZGdlciBmdXp6IHN0ZHdoIGtleSAzMmIhISE="
#define FUZZ_NOW	INT64_C(1796119200)	/* 2026-12-01T10:00:00Z */
#define FUZZ_TOLERANCE	300

static struct secret	 keys[1];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	if (sodium_init() < 0 || digest_init() == -1)
		fuzz_die("cannot initialise libsodium or the digests");
	if (secret_decode(FUZZ_SECRET, strlen(FUZZ_SECRET), SECRET_STDWH,
	    &keys[0], err, sizeof(err)) == -1)
		fuzz_die(err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*id, *ts, *sig;
	unsigned char	*body;
	enum sig_result	 r;
	int64_t		 t;

	id = fuzz_line(&data, &size);
	ts = fuzz_line(&data, &size);
	sig = fuzz_line(&data, &size);
	body = fuzz_copy(data, size);
	if (ts != NULL && sig_parse_timestamp(ts, strlen(ts), &t) == 0 &&
	    t < 0)
		abort();
	r = sig_verify_stdwh(keys, 1, id, ts, sig, body, size, FUZZ_NOW,
	    FUZZ_TOLERANCE);
	if (sig_result_code(r) == NULL || sig_result_message(r) == NULL)
		abort();
	if ((id == NULL || ts == NULL || sig == NULL) && r != SIG_MISSING)
		abort();
	free(id);
	free(ts);
	free(sig);
	free(body);
	return 0;
}
