/*
 * settle: the settlement report (Stripe balance-transaction CSV) reader
 * and the match against a ledger.
 *
 * Input: the CSV file, whole. It is handed to settle_match() through a
 * memory file (/proc/self/fd/N, opened by path as a real report is),
 * against a ledger made once per process in a scratch folder and holding
 * the events that tests/fixtures/settlement/clean.csv settles, so that
 * mutated seeds reach the matching as well as the parser.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memfd_create */
#endif
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "digest.h"
#include "event.h"
#include "ledger.h"
#include "settle.h"

#include "fuzz.h"

#define DAY_FROM	INT64_C(1796083200)	/* 2026-12-01T00:00:00Z */
#define DAY_TO		INT64_C(1796169600)
#define IN_DAY		INT64_C(1796119200)

static char		 dir[64], dbpath[96], csvpath[64];
static struct ledger	*lg;
static int		 fd = -1;

static void
cleanup(void)
{
	char	 p[128];

	ledger_close(lg);
	lg = NULL;
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	unlink(dbpath);
	rmdir(dir);
}

static void
put(const char *id, enum event_kind kind, const char *ref,
    const char *object, int64_t amount, const char *currency,
    enum event_status status)
{
	struct ledger_event	 le;
	struct ledger_outcome	 out;

	memset(&le, 0, sizeof(le));
	le.tenant = "acme";
	le.endpoint = "stripe";
	le.event_id = id;
	le.move.kind = kind;
	snprintf(le.move.type, sizeof(le.move.type), "fuzz.%s",
	    event_kind_name(kind));
	snprintf(le.move.payment_ref, sizeof(le.move.payment_ref), "%s", ref);
	snprintf(le.move.object_id, sizeof(le.move.object_id), "%s", object);
	le.move.amount = amount;
	snprintf(le.move.currency, sizeof(le.move.currency), "%s", currency);
	le.move.status = status;
	le.move.liability_shift = -1;
	le.move.occurred_at = IN_DAY;
	digest_sha256(id, strlen(id), le.body_sha256);
	if (ledger_begin(lg) == -1)
		fuzz_die("ledger_begin");
	ledger_apply(lg, &le, IN_DAY + 1, &out);
	if (ledger_commit(lg) == -1 || out.status != 200)
		fuzz_die("cannot build the ledger");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");
	char		 err[512];

	if (sodium_init() < 0 || digest_init() == -1)
		fuzz_die("cannot initialise libsodium or the digests");
	snprintf(dir, sizeof(dir), "%s/hl-fuzz-settle-XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fuzz_die("mkdtemp");
	snprintf(dbpath, sizeof(dbpath), "%s/ledger.db", dir);
	if ((lg = ledger_open(dbpath, LEDGER_READ_WRITE, err,
	    sizeof(err))) == NULL)
		fuzz_die(err);
	atexit(cleanup);
	put("evt_a", EVENT_CAPTURE, "pi_A", "", 2000, "USD",
	    EVENT_STATUS_NONE);
	put("evt_b", EVENT_CAPTURE, "pi_B", "", 5000, "USD",
	    EVENT_STATUS_NONE);
	put("evt_ra", EVENT_REFUND, "pi_A", "re_A", 500, "USD",
	    EVENT_STATUS_SUCCEEDED);
	put("evt_db", EVENT_DISPUTE_OPENED, "pi_B", "dp_B", 5000, "USD",
	    EVENT_STATUS_NONE);
	put("evt_po1", EVENT_PAYOUT, "po_1", "po_1", 1237, "USD",
	    EVENT_STATUS_SUCCEEDED);
	put("evt_j", EVENT_CAPTURE, "pi_J", "", 1500, "JPY",
	    EVENT_STATUS_NONE);
	if ((fd = memfd_create("settlement.csv", MFD_CLOEXEC)) == -1)
		fuzz_die("memfd_create");
	snprintf(csvpath, sizeof(csvpath), "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*o;
	char	 err[512];

	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		fuzz_die("cannot write the memory file");
	err[0] = '\0';
	o = settle_match(ledger_db(lg), csvpath, "acme", DAY_FROM, DAY_TO,
	    err, sizeof(err));
	if (o == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (!json_is_object(o) || !json_is_boolean(json_object_get(o,
	    "clean")))
		abort();
	json_decref(o);
	return 0;
}
