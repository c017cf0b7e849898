/*
 * sig_stripe: the Stripe-Signature header parser and verifier.
 *
 * Input: the header value, a '\n', then the raw body. Without a '\n' the
 * whole input is the header and the body is empty. The clock is fixed so
 * that the seeds' t= is fresh: a seed signed with FUZZ_SECRET reaches
 * SIG_OK, and mutations reach every refusal.
 */
#include <sodium.h>

#include "digest.h"
#include "secret.h"
#include "sig.h"

#include "fuzz.h"

#define FUZZ_SECRET	"whsec_hookledgerFuzzStripeSecret0123456789"
#define FUZZ_NOW	INT64_C(1796119200)	/* 2026-12-01T10:00:00Z */
#define FUZZ_TOLERANCE	300

static struct secret	 keys[2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	if (sodium_init() < 0 || digest_init() == -1)
		fuzz_die("cannot initialise libsodium or the digests");
	if (secret_decode(FUZZ_SECRET, strlen(FUZZ_SECRET), SECRET_STRIPE,
	    &keys[0], err, sizeof(err)) == -1)
		fuzz_die(err);
	/* The second slot stays empty, as a rotated-out secret leaves it. */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*header;
	unsigned char	*body;
	enum sig_result	 r;

	header = fuzz_line(&data, &size);
	body = fuzz_copy(data, size);
	r = sig_verify_stripe(keys, 2, header, body, size, FUZZ_NOW,
	    FUZZ_TOLERANCE);
	if (sig_result_code(r) == NULL || sig_result_message(r) == NULL)
		abort();
	if (header == NULL && r != SIG_MISSING)
		abort();
	free(header);
	free(body);
	return 0;
}
