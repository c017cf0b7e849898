/*
 * sig: webhook signature and timestamp verification over the raw body.
 *
 * Everything here runs before the body is parsed. Signatures are compared
 * in constant time; every configured secret is tried, so that a secret can
 * be rotated while both are live. Header values are hostile: each parser
 * bounds its input before it loops over it.
 */
#ifndef HL_SIG_H
#define HL_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"

#define SIG_MAX_HEADER		4096	/* bytes in one signature header */
#define SIG_MAX_CANDIDATES	16	/* signatures tried from one header */
#define SIG_MAX_ID		255	/* bytes in a webhook-id */

enum sig_result {
	SIG_OK = 0,
	SIG_MISSING,		/* a required header or part is absent */
	SIG_MALFORMED,		/* header present but not parseable */
	SIG_BAD_TIMESTAMP,	/* timestamp not digits only, or overflows */
	SIG_STALE,		/* older than now - tolerance */
	SIG_FUTURE,		/* newer than now + tolerance */
	SIG_MISMATCH		/* well formed, but no signature matched */
};

/* Parse a timestamp: 1 to 18 ASCII digits, nothing else (no sign, no
 * spaces). Returns 0 and sets *out, or -1. */
int	sig_parse_timestamp(const char *s, size_t len, int64_t *out);

/* Check ts against now within tolerance seconds, both ways.
 * Returns SIG_OK, SIG_STALE or SIG_FUTURE. */
enum sig_result	sig_check_time(int64_t ts, int64_t now, int64_t tolerance);

/* Standard Webhooks v1. id, timestamp and signature are the values of the
 * webhook-id, webhook-timestamp and webhook-signature headers (NULL when
 * absent). The signed content is id "." timestamp "." body. The signature
 * header is a space-separated list; entries other than "v1,<base64 of 32
 * bytes>" are skipped. With no usable v1 entry the result is SIG_MISMATCH
 * when some entry had the form "<version>,<value>", else SIG_MALFORMED.
 * Thread-safe. */
enum sig_result	sig_verify_stdwh(const struct secret *keys, size_t nkeys,
	    const char *id, const char *timestamp, const char *signature,
	    const unsigned char *body, size_t body_len,
	    int64_t now, int64_t tolerance);

/* Stripe. header is the Stripe-Signature value (NULL when absent):
 * comma-separated key=value items, optional white space around items,
 * exactly one t=, one or more v1=<64 hex>; v0 and unknown keys are
 * ignored. The signed content is t "." body. No t= or a second one is
 * SIG_MALFORMED; with no usable v1 the result is SIG_MISMATCH if some v1
 * item was malformed, SIG_MISSING if there was none. Thread-safe. */
enum sig_result	sig_verify_stripe(const struct secret *keys, size_t nkeys,
	    const char *header, const unsigned char *body, size_t body_len,
	    int64_t now, int64_t tolerance);

/* A stable lower_snake_case code for r, for responses and logs. */
const char	*sig_result_code(enum sig_result r);

/* A short human sentence for r, safe to show to the sender. */
const char	*sig_result_message(enum sig_result r);

#endif
