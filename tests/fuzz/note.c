/*
 * note: the signed-note and checkpoint parser, and the verifier key
 * parser, which read checkpoint files and .pub files from outside.
 *
 * Input: the text, whole. It is parsed as a checkpoint, opened against a
 * fixed verifier (key A of tests/vectors/note_vectors.json, which signed
 * the seeds), and parsed as a verifier key. An opened checkpoint must
 * also parse, to the same contents.
 */
#include <sodium.h>

#include "note.h"

#include "fuzz.h"

#define FUZZ_VERIFIER	"hookledger.test/ledger+d9c27d2a+" \
	"AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"

static struct note_verifier	 key_a;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	if (sodium_init() < 0)
		fuzz_die("cannot initialise libsodium");
	if (note_verifier_parse(FUZZ_VERIFIER, strlen(FUZZ_VERIFIER), &key_a,
	    err, sizeof(err)) == -1)
		fuzz_die(err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct note_checkpoint	 parsed, opened;
	struct note_verifier	 v;
	char			*text, err[256];
	int			 p, o;

	text = (char *)fuzz_copy(data, size);
	p = note_parse_checkpoint(text, size, &parsed, err, sizeof(err));
	o = note_open_checkpoint(text, size, &key_a, &opened, err,
	    sizeof(err));
	if (o == 0 && (p != 0 || parsed.size != opened.size ||
	    strcmp(parsed.origin, opened.origin) != 0 ||
	    memcmp(parsed.root, opened.root, sizeof(parsed.root)) != 0))
		abort();
	(void)note_verifier_parse(text, size, &v, err, sizeof(err));
	free(text);
	return 0;
}
