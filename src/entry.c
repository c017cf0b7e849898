/*
 * entry.c: the canonical encoding of a ledger entry.
 *
 *	"HLE" 0x01			magic and format version
 *	u64be seq
 *	str tenant, str endpoint, str event_id, str kind, str payment_ref
 *	i64be amount
 *	str currency
 *	i64be occurred_at, i64be recorded_at
 *	32 bytes body_sha256, 32 bytes prev_hash
 *
 * and, in format 2 (magic "HLE" 0x02), then
 *
 *	u32be number of postings
 *	per posting: str account, i64be debit, i64be credit
 *
 * where str is a u32be byte length followed by the bytes, without a NUL.
 * Fixed-width integers and length prefixes make the encoding injective:
 * "ab"+"c" and "a"+"bc" encode differently.
 */
#include "entry.h"

#include <string.h>

struct enc {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	int		 bad;
};

static void
put(struct enc *w, const void *data, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
put_u64(struct enc *w, uint64_t v)
{
	unsigned char	b[8];
	int		i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	put(w, b, sizeof(b));
}

static void
put_u32(struct enc *w, uint32_t v)
{
	unsigned char b[4];

	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
	put(w, b, sizeof(b));
}

static void
put_str(struct enc *w, const char *s)
{
	size_t		n;

	if (s == NULL || (n = strnlen(s, ENTRY_TEXT_MAX + 1)) > ENTRY_TEXT_MAX) {
		w->bad = 1;
		return;
	}
	put_u32(w, (uint32_t)n);
	put(w, s, n);
}

const char *const entry_accounts[] = {
	"provider_balance",	/* money held for the merchant by the provider */
	"sales",		/* captured payments that count as paid */
	"suspense",		/* captured, but not paid: amount mismatch */
	"fees",			/* the provider's fees */
	"refunds",		/* refunds that succeeded */
	"refunds_pending",	/* refunds held until they succeed or fail */
	"disputes_open",	/* funds withdrawn by open disputes */
	"disputes_lost",	/* disputes lost: final */
	"payouts",		/* paid out to the merchant's bank */
	NULL
};

int
entry_account_valid(const char *name)
{
	size_t i;

	for (i = 0; entry_accounts[i] != NULL; i++)
		if (strcmp(entry_accounts[i], name) == 0)
			return 1;
	return 0;
}

long
entry_encode(const struct entry *e, unsigned char *buf, size_t cap)
{
	unsigned char	 magic[4] = { 'H', 'L', 'E', 0 };
	struct enc	 w = { buf, 0, cap, 0 };
	size_t		 i;

	if (e->format != 1 && e->format != 2)
		return -1;
	if (e->format == 2 && (e->npostings == 0 ||
	    e->npostings > ENTRY_POSTINGS_MAX || e->postings == NULL))
		return -1;
	magic[3] = (unsigned char)e->format;
	put(&w, magic, sizeof(magic));
	put_u64(&w, (uint64_t)e->seq);
	put_str(&w, e->tenant);
	put_str(&w, e->endpoint);
	put_str(&w, e->event_id);
	put_str(&w, e->kind);
	put_str(&w, e->payment_ref);
	put_u64(&w, (uint64_t)e->amount);
	put_str(&w, e->currency);
	put_u64(&w, (uint64_t)e->occurred_at);
	put_u64(&w, (uint64_t)e->recorded_at);
	put(&w, e->body_sha256, sizeof(e->body_sha256));
	put(&w, e->prev_hash, sizeof(e->prev_hash));
	if (e->format == 2) {
		put_u32(&w, (uint32_t)e->npostings);
		for (i = 0; i < e->npostings; i++) {
			put_str(&w, e->postings[i].account);
			put_u64(&w, (uint64_t)e->postings[i].debit);
			put_u64(&w, (uint64_t)e->postings[i].credit);
		}
	}
	return w.bad ? -1 : (long)w.len;
}

int
entry_hash(const struct entry *e, unsigned char hash[DIGEST_SHA256_LEN])
{
	unsigned char	 buf[ENTRY_ENCODED_MAX];
	long		 n;

	if ((n = entry_encode(e, buf, sizeof(buf))) == -1)
		return -1;
	return digest_sha256(buf, (size_t)n, hash);
}
