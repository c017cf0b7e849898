/*
 * sig: webhook signature and timestamp verification over the raw body.
 *
 * Both parsers walk a header that strnlen() has already bounded, collect
 * at most SIG_MAX_CANDIDATES decoded signatures into a fixed array, and
 * only then compute MACs. A header with more is malformed rather than
 * partly read: no signer sends more than one per active secret, and a
 * good signature past the cap must not turn into a silent mismatch. The body is never copied: the signed content is
 * handed to the MAC as pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "digest.h"
#include "secret.h"
#include "sig.h"

#define TS_MAX_DIGITS	18	/* below 2^63 whatever the digits */
#define STDWH_B64_LEN	44	/* base64 of 32 bytes, padded */

struct candidates {
	unsigned char	 mac[SIG_MAX_CANDIDATES][DIGEST_SHA256_LEN];
	size_t		 n;
};

int
sig_parse_timestamp(const char *s, size_t len, int64_t *out)
{
	int64_t	 v = 0;
	size_t	 i;

	if (s == NULL || len == 0 || len > TS_MAX_DIGITS)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

enum sig_result
sig_check_time(int64_t ts, int64_t now, int64_t tolerance)
{
	uint64_t	 tol;

	tol = tolerance < 0 ? 0 : (uint64_t)tolerance;
	/* Unsigned differences cannot overflow whatever ts and now are. */
	if (ts < now && (uint64_t)now - (uint64_t)ts > tol)
		return SIG_STALE;
	if (ts > now && (uint64_t)ts - (uint64_t)now > tol)
		return SIG_FUTURE;
	return SIG_OK;
}

/*
 * Try every key against every candidate. Stopping once a key has matched
 * tells nothing an attacker can use; stopping inside the comparison would.
 */
static enum sig_result
match(const struct secret *keys, size_t nkeys, const struct digest_part *parts,
    size_t nparts, struct candidates *c)
{
	unsigned char	 mac[DIGEST_SHA256_LEN];
	size_t		 k, i;
	int		 ok = 0;

	if (keys == NULL)
		nkeys = 0;
	for (k = 0; k < nkeys && !ok; k++) {
		if (keys[k].key == NULL)
			continue;
		if (digest_hmac_sha256(keys[k].key, keys[k].len, parts, nparts,
		    mac) == -1)
			continue;
		for (i = 0; i < c->n; i++)
			ok |= sodium_memcmp(mac, c->mac[i], sizeof(mac)) == 0;
	}
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(c, sizeof(*c));
	return ok ? SIG_OK : SIG_MISMATCH;
}

static int
is_version(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return 1;
}

enum sig_result
sig_verify_stdwh(const struct secret *keys, size_t nkeys,
    const char *id, const char *timestamp, const char *signature,
    const unsigned char *body, size_t body_len,
    int64_t now, int64_t tolerance)
{
	struct candidates	 c;
	struct digest_part	 parts[5];
	enum sig_result		 r;
	const char		*p, *end, *tok, *comma;
	size_t			 idlen, tslen, siglen, toklen, binlen, i;
	int64_t			 ts;
	int			 entries = 0;

	if (id == NULL || timestamp == NULL || signature == NULL ||
	    signature[0] == '\0')
		return SIG_MISSING;

	idlen = strnlen(id, SIG_MAX_ID + 1);
	if (idlen == 0 || idlen > SIG_MAX_ID)
		return SIG_MALFORMED;
	for (i = 0; i < idlen; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return SIG_MALFORMED;

	tslen = strnlen(timestamp, TS_MAX_DIGITS + 1);
	if (sig_parse_timestamp(timestamp, tslen, &ts) == -1)
		return SIG_BAD_TIMESTAMP;
	if ((r = sig_check_time(ts, now, tolerance)) != SIG_OK)
		return r;

	siglen = strnlen(signature, SIG_MAX_HEADER + 1);
	if (siglen > SIG_MAX_HEADER)
		return SIG_MALFORMED;

	c.n = 0;
	p = signature;
	end = signature + siglen;
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		toklen = (size_t)(p - tok);
		if (toklen == 0)
			continue;
		if ((comma = memchr(tok, ',', toklen)) == NULL ||
		    !is_version(tok, (size_t)(comma - tok)) ||
		    comma + 1 == tok + toklen)
			continue;
		entries++;
		if (comma - tok != 2 || memcmp(tok, "v1", 2) != 0)
			continue;
		/* Signers pad; so the length alone rules most junk out. */
		if (tok + toklen - (comma + 1) != STDWH_B64_LEN)
			continue;
		if (c.n == SIG_MAX_CANDIDATES)
			return SIG_MALFORMED;
		if (sodium_base642bin(c.mac[c.n], DIGEST_SHA256_LEN, comma + 1,
		    STDWH_B64_LEN, NULL, &binlen, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    binlen != DIGEST_SHA256_LEN)
			continue;
		c.n++;
	}
	if (c.n == 0)
		return entries > 0 ? SIG_MISMATCH : SIG_MALFORMED;

	parts[0] = (struct digest_part){ id, idlen };
	parts[1] = (struct digest_part){ ".", 1 };
	parts[2] = (struct digest_part){ timestamp, tslen };
	parts[3] = (struct digest_part){ ".", 1 };
	parts[4] = (struct digest_part){ body, body_len };
	return match(keys, nkeys, parts, 5, &c);
}

static int
unhex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Exactly 2 * DIGEST_SHA256_LEN hex digits, either case, into out. */
static int
decode_hex_mac(const char *s, size_t len, unsigned char *out)
{
	size_t	 i;
	int	 hi, lo;

	if (len != 2 * DIGEST_SHA256_LEN)
		return -1;
	for (i = 0; i < DIGEST_SHA256_LEN; i++) {
		if ((hi = unhex((unsigned char)s[2 * i])) == -1 ||
		    (lo = unhex((unsigned char)s[2 * i + 1])) == -1)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

enum sig_result
sig_verify_stripe(const struct secret *keys, size_t nkeys,
    const char *header, const unsigned char *body, size_t body_len,
    int64_t now, int64_t tolerance)
{
	struct candidates	 c;
	struct digest_part	 parts[3];
	enum sig_result		 r;
	const char		*p, *end, *item, *iend, *eq, *t = NULL;
	size_t			 hlen, tlen = 0;
	int64_t			 ts;
	int			 saw_v1 = 0;

	if (header == NULL || header[0] == '\0')
		return SIG_MISSING;
	hlen = strnlen(header, SIG_MAX_HEADER + 1);
	if (hlen > SIG_MAX_HEADER)
		return SIG_MALFORMED;

	c.n = 0;
	p = header;
	end = header + hlen;
	while (p < end) {
		item = p;
		while (p < end && *p != ',')
			p++;
		iend = p;
		if (p < end)
			p++;		/* the comma */
		while (item < iend && (*item == ' ' || *item == '\t'))
			item++;
		while (iend > item && (iend[-1] == ' ' || iend[-1] == '\t'))
			iend--;
		if (item == iend)
			continue;
		if ((eq = memchr(item, '=', (size_t)(iend - item))) == NULL ||
		    eq == item)
			return SIG_MALFORMED;
		if (eq - item == 1 && item[0] == 't') {
			if (t != NULL)
				return SIG_MALFORMED;
			t = eq + 1;
			tlen = (size_t)(iend - t);
		} else if (eq - item == 2 && memcmp(item, "v1", 2) == 0) {
			saw_v1 = 1;
			if (c.n == SIG_MAX_CANDIDATES)
				return SIG_MALFORMED;
			if (decode_hex_mac(eq + 1, (size_t)(iend - (eq + 1)),
			    c.mac[c.n]) == 0)
				c.n++;
		}
	}
	if (t == NULL)
		return SIG_MALFORMED;
	if (sig_parse_timestamp(t, tlen, &ts) == -1)
		return SIG_BAD_TIMESTAMP;
	if ((r = sig_check_time(ts, now, tolerance)) != SIG_OK)
		return r;
	if (c.n == 0)
		return saw_v1 ? SIG_MISMATCH : SIG_MISSING;

	parts[0] = (struct digest_part){ t, tlen };
	parts[1] = (struct digest_part){ ".", 1 };
	parts[2] = (struct digest_part){ body, body_len };
	return match(keys, nkeys, parts, 3, &c);
}

const char *
sig_result_code(enum sig_result r)
{
	switch (r) {
	case SIG_OK:
		return "ok";
	case SIG_MISSING:
		return "signature_missing";
	case SIG_MALFORMED:
		return "signature_malformed";
	case SIG_BAD_TIMESTAMP:
		return "timestamp_invalid";
	case SIG_STALE:
		return "timestamp_stale";
	case SIG_FUTURE:
		return "timestamp_future";
	case SIG_MISMATCH:
		return "signature_mismatch";
	}
	return "unknown";
}

const char *
sig_result_message(enum sig_result r)
{
	switch (r) {
	case SIG_OK:
		return "The signature is valid.";
	case SIG_MISSING:
		return "A required signature header or part of it is missing.";
	case SIG_MALFORMED:
		return "The signature header is malformed.";
	case SIG_BAD_TIMESTAMP:
		return "The signature timestamp is not a valid Unix time.";
	case SIG_STALE:
		return "The signature timestamp is too old.";
	case SIG_FUTURE:
		return "The signature timestamp is too far in the future.";
	case SIG_MISMATCH:
		return "No signature matched.";
	}
	return "The signature could not be checked.";
}
