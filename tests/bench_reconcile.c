/*
 * bench_reconcile: build a ledger of N entries through the real append
 * path (ledger_apply, in batches of 10,000 per transaction) spread over a
 * year, then time what the nightly job does: verify the whole ledger, and
 * reconcile one day. Run by scripts/bench-reconcile; not a test.
 *
 *	bench_reconcile DB N		build DB (unless it exists), then time
 *	bench_reconcile DB N verify	time verify only, beside the raw
 *					SHA-256 rate for as many hashes
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "digest.h"
#include "ledger.h"
#include "reconcile.h"
#include "verify.h"

#define T0	INT64_C(1764547200)	/* 2025-12-01T00:00:00Z */
#define DAYS	365

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
build(const char *path, long long n)
{
	struct ledger		*lg;
	struct ledger_event	 le;
	struct ledger_outcome	 out;
	char			 err[512], id[40];
	long long		 i, pay = 0;
	double			 t = now_s();

	if ((lg = ledger_open(path, LEDGER_READ_WRITE, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		int64_t at = T0 + (int64_t)(i * (DAYS * 86400LL) / n);
		int k = (int)(i % 50);

		if (i % 10000 == 0 && (i > 0 ? ledger_commit(lg) : 0) == 0 &&
		    ledger_begin(lg) == -1)
			return -1;
		memset(&le, 0, sizeof(le));
		snprintf(id, sizeof(id), "evt_%lld", i);
		le.tenant = i % 10 == 0 ? "globex" : "acme";
		le.endpoint = "stripe";
		le.event_id = id;
		le.move.liability_shift = -1;
		memcpy(le.move.currency, i % 3 == 0 ? "USD" : "EUR", 4);
		le.move.occurred_at = at;
		snprintf(le.move.type, sizeof(le.move.type), "bench");
		if (k < 4 && pay > 100) {	/* a refund of a recent payment */
			le.move.kind = EVENT_REFUND;
			le.move.status = EVENT_STATUS_SUCCEEDED;
			snprintf(le.move.payment_ref, sizeof(le.move.payment_ref),
			    "pi_%lld", pay - 50);
			snprintf(le.move.object_id, sizeof(le.move.object_id),
			    "re_%lld", i);
			le.move.amount = 100;
			memcpy(le.move.currency, (pay - 50) % 3 == 0 ? "USD" :
			    "EUR", 4);
			le.tenant = (pay - 50) % 10 == 0 ? "globex" : "acme";
		} else {
			le.move.kind = EVENT_CAPTURE;
			snprintf(le.move.payment_ref, sizeof(le.move.payment_ref),
			    "pi_%lld", i);
			le.move.amount = 1000 + i % 5000;
			snprintf(le.move.card_brand, sizeof(le.move.card_brand),
			    "%s", i % 2 ? "visa" : "mastercard");
			pay = i;
		}
		digest_sha256(id, strlen(id), le.body_sha256);
		ledger_apply(lg, &le, at, &out);
		if (out.result == LEDGER_FAILED) {
			fprintf(stderr, "apply failed at %lld\n", i);
			return -1;
		}
		if (i > 0 && i % 1000000 == 0)
			fprintf(stderr, "  %lld events, %.0f/s\n", i,
			    (double)i / (now_s() - t));
	}
	if (ledger_commit(lg) == -1)
		return -1;
	ledger_close(lg);
	fprintf(stderr, "built %lld events in %.1f s\n", n, now_s() - t);
	return 0;
}

int
main(int argc, char **argv)
{
	struct reconcile_opts	 o;
	struct verify_report	 rep;
	struct ledger		*lg;
	json_t			*r;
	char			 err[512];
	long long		 n;
	double			 t, tv;

	if (argc < 3 || argc > 4 || (n = atoll(argv[2])) < 1000 ||
	    (argc == 4 && strcmp(argv[3], "verify") != 0)) {
		fprintf(stderr, "usage: bench_reconcile DB N [verify] "
		    "(N >= 1000)\n");
		return 2;
	}
	if (sodium_init() < 0 || digest_init() == -1)
		return 2;
	/* An existing file is reused, so that a rerun times only the job. */
	if (access(argv[1], F_OK) != 0 && build(argv[1], n) == -1)
		return 1;
	if ((lg = ledger_open(argv[1], LEDGER_READ_ONLY, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t = now_s();
	if (verify_ledger(lg, &rep) != VERIFY_OK) {
		fprintf(stderr, "verify: %s\n", rep.problem);
		return 1;
	}
	tv = now_s() - t;
	printf("verify:    %" PRId64 " entries in %.2f s (%.0f entries/s)\n",
	    rep.entries, tv, (double)rep.entries / tv);
	if (argc == 4) {
		/* The same hashing done bare: one ~300-byte entry encoding
		 * and one 33-byte leaf per entry, nothing else. */
		unsigned char	 buf[300], h[32];
		int64_t		 i;
		double		 th;

		memset(buf, 'x', sizeof(buf));
		t = now_s();
		for (i = 0; i < rep.entries; i++) {
			buf[0] = (unsigned char)i;
			digest_sha256(buf, sizeof(buf), h);
			digest_sha256(buf, 33, h);
		}
		th = now_s() - t;
		printf("sha256:    the same %" PRId64 " x (300 + 33 bytes) "
		    "bare in %.2f s (%.0f entries/s)\n", rep.entries, th,
		    (double)rep.entries / th);
		printf("ratio:     verify runs at %.0f%% of the raw hashing "
		    "rate\n", 100.0 * th / tv);
		ledger_close(lg);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.date = "2026-06-15";
	t = now_s();
	if ((r = reconcile_run(ledger_db(lg), &o, &rep, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "reconcile: %s\n", err);
		return 1;
	}
	printf("reconcile: one day (%s), %zu tenants, in %.3f s\n", o.date,
	    json_array_size(json_object_get(r, "tenants")), now_s() - t);
	printf("total:     verify + reconcile as the nightly job runs them\n");
	json_decref(r);
	ledger_close(lg);
	return 0;
}
