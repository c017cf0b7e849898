/*
 * ratelimit.c: token buckets in fixed memory.
 *
 * The address slots form one array; a slot is on a hash chain (found by
 * address) and on a doubly linked list ordered by last use (the tail is
 * the idlest, the one to evict). Links are array indexes, NIL for none.
 * One mutex guards everything: a request holds it for a hash, a few
 * comparisons and some integer arithmetic.
 */
#include "ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define NANO		1000000000ull	/* token units per token */
#define NIL		UINT32_MAX
#define KEY_LEN		9		/* family byte, 8 address bytes */

struct bucket {
	uint64_t	 tokens;	/* billionths of a token */
	uint64_t	 last;		/* time of the last refill, ns */
	int		 init;
};

struct slot {
	unsigned char	 key[KEY_LEN];
	uint32_t	 chain;		/* next on the hash chain */
	uint32_t	 newer, older;	/* use order */
	struct bucket	 b;
};

struct named {
	struct ratelimit_limit	 lim;
	struct bucket		 b;
};

struct ratelimit {
	pthread_mutex_t		 mu;
	struct ratelimit_limit	 per_ip;
	struct slot		*slots;
	uint32_t		 nslots, used;
	uint32_t		*heads;		/* hash chains */
	uint32_t		 mask;		/* number of chains - 1 */
	uint32_t		 newest, oldest;
	unsigned char		 hkey[crypto_shorthash_KEYBYTES];
	struct named		*named;
	size_t			 nnamed;
};

static int
limit_ok(struct ratelimit_limit l)
{
	if (l.rate == 0)
		return 1;
	return l.rate <= RATELIMIT_RATE_MAX && l.burst >= 1 &&
	    l.burst <= RATELIMIT_BURST_MAX;
}

struct ratelimit *
ratelimit_new(size_t ip_slots, struct ratelimit_limit per_ip,
    const struct ratelimit_limit *named, size_t nnamed)
{
	struct ratelimit	*rl;
	size_t			 i, nchains;

	if (ip_slots == 0 || ip_slots > RATELIMIT_SLOTS_MAX ||
	    !limit_ok(per_ip))
		return NULL;
	for (i = 0; i < nnamed; i++)
		if (!limit_ok(named[i]))
			return NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	pthread_mutex_init(&rl->mu, NULL);
	for (nchains = 1; nchains < 2 * ip_slots; nchains *= 2)
		;
	rl->slots = calloc(ip_slots, sizeof(*rl->slots));
	rl->heads = malloc(nchains * sizeof(*rl->heads));
	rl->named = calloc(nnamed > 0 ? nnamed : 1, sizeof(*rl->named));
	if (rl->slots == NULL || rl->heads == NULL || rl->named == NULL) {
		ratelimit_free(rl);
		return NULL;
	}
	for (i = 0; i < nchains; i++)
		rl->heads[i] = NIL;
	for (i = 0; i < nnamed; i++)
		rl->named[i].lim = named[i];
	rl->nnamed = nnamed;
	rl->nslots = (uint32_t)ip_slots;
	rl->mask = (uint32_t)(nchains - 1);
	rl->newest = rl->oldest = NIL;
	rl->per_ip = per_ip;
	randombytes_buf(rl->hkey, sizeof(rl->hkey));
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->slots);
	free(rl->heads);
	free(rl->named);
	free(rl);
}

/* Bring b up to now under lim; a new bucket starts full. */
static void
refill(struct bucket *b, struct ratelimit_limit lim, uint64_t now)
{
	uint64_t cap = (uint64_t)lim.burst * NANO, need, elapsed;

	if (!b->init) {
		b->tokens = cap;
		b->last = now;
		b->init = 1;
		return;
	}
	if (now <= b->last)
		return;
	elapsed = now - b->last;
	b->last = now;
	if (b->tokens >= cap) {
		b->tokens = cap;
		return;
	}
	need = cap - b->tokens;
	/* elapsed * rate only when it cannot overflow: it is then below
	 * need + rate, which is below 2^64. */
	if (elapsed >= (need + lim.rate - 1) / lim.rate)
		b->tokens = cap;
	else
		b->tokens += elapsed * lim.rate;
}

/* Whole seconds until b holds one token, at least 1. */
static unsigned int
wait_seconds(const struct bucket *b, struct ratelimit_limit lim)
{
	uint64_t need = NANO - b->tokens;	/* b->tokens < NANO */
	uint64_t ns = (need + lim.rate - 1) / lim.rate;
	uint64_t s = (ns + NANO - 1) / NANO;

	return s < 1 ? 1 : (unsigned int)s;
}

/* The table's key for an address; 0 when it has none. */
static int
make_key(const struct sockaddr *sa, unsigned char key[KEY_LEN])
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	memset(key, 0, KEY_LEN);
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
		return 1;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (memcmp(s6->sin6_addr.s6_addr, mapped, sizeof(mapped)) == 0) {
		key[0] = 4;
		memcpy(key + 1, s6->sin6_addr.s6_addr + 12, 4);
		return 1;
	}
	key[0] = 6;
	memcpy(key + 1, s6->sin6_addr.s6_addr, 8);	/* the /64 */
	return 1;
}

static uint32_t
chain_of(const struct ratelimit *rl, const unsigned char key[KEY_LEN])
{
	unsigned char	h[crypto_shorthash_BYTES];
	uint32_t	v;

	crypto_shorthash(h, key, KEY_LEN, rl->hkey);
	memcpy(&v, h, sizeof(v));
	return v & rl->mask;
}

static void
unlink_use(struct ratelimit *rl, uint32_t i)
{
	struct slot *s = &rl->slots[i];

	if (s->newer != NIL)
		rl->slots[s->newer].older = s->older;
	else
		rl->newest = s->older;
	if (s->older != NIL)
		rl->slots[s->older].newer = s->newer;
	else
		rl->oldest = s->newer;
}

static void
push_newest(struct ratelimit *rl, uint32_t i)
{
	struct slot *s = &rl->slots[i];

	s->newer = NIL;
	s->older = rl->newest;
	if (rl->newest != NIL)
		rl->slots[rl->newest].newer = i;
	rl->newest = i;
	if (rl->oldest == NIL)
		rl->oldest = i;
}

/* Take slot i off its hash chain. */
static void
unchain(struct ratelimit *rl, uint32_t i)
{
	uint32_t *p = &rl->heads[chain_of(rl, rl->slots[i].key)];

	while (*p != i) {
		if (*p == NIL)
			abort();	/* a slot in use is on its chain */
		p = &rl->slots[*p].chain;
	}
	*p = rl->slots[i].chain;
}

/* The slot of key, made the newest; a free or the idlest slot when key
 * has none. */
static struct slot *
lookup(struct ratelimit *rl, const unsigned char key[KEY_LEN])
{
	uint32_t	 c = chain_of(rl, key), i;
	struct slot	*s;

	for (i = rl->heads[c]; i != NIL; i = rl->slots[i].chain)
		if (memcmp(rl->slots[i].key, key, KEY_LEN) == 0) {
			unlink_use(rl, i);
			push_newest(rl, i);
			return &rl->slots[i];
		}
	if (rl->used < rl->nslots)
		i = rl->used++;
	else {
		i = rl->oldest;
		unchain(rl, i);
		unlink_use(rl, i);
	}
	s = &rl->slots[i];
	memcpy(s->key, key, KEY_LEN);
	memset(&s->b, 0, sizeof(s->b));
	s->chain = rl->heads[c];
	rl->heads[c] = i;
	push_newest(rl, i);
	return s;
}

int
ratelimit_take(struct ratelimit *rl, const struct sockaddr *peer,
    const size_t *keys, size_t nkeys, uint64_t now_ns,
    unsigned int *retry_after, size_t *by)
{
	unsigned char	 key[KEY_LEN];
	struct bucket	*ipb = NULL;
	unsigned int	 w, worst = 0;
	size_t		 i;

	for (i = 0; i < nkeys; i++)
		if (keys[i] >= rl->nnamed)
			abort();
	pthread_mutex_lock(&rl->mu);
	if (rl->per_ip.rate > 0 && make_key(peer, key)) {
		ipb = &lookup(rl, key)->b;
		refill(ipb, rl->per_ip, now_ns);
		if (ipb->tokens < NANO) {
			worst = wait_seconds(ipb, rl->per_ip);
			*by = RATELIMIT_BY_IP;
		}
	}
	for (i = 0; i < nkeys; i++) {
		struct named *n = &rl->named[keys[i]];

		if (n->lim.rate == 0)
			continue;
		refill(&n->b, n->lim, now_ns);
		if (n->b.tokens < NANO &&
		    (w = wait_seconds(&n->b, n->lim)) > worst) {
			worst = w;
			*by = i;
		}
	}
	if (worst > 0) {
		pthread_mutex_unlock(&rl->mu);
		*retry_after = worst;
		return 1;
	}
	if (ipb != NULL)
		ipb->tokens -= NANO;
	for (i = 0; i < nkeys; i++)
		if (rl->named[keys[i]].lim.rate > 0)
			rl->named[keys[i]].b.tokens -= NANO;
	pthread_mutex_unlock(&rl->mu);
	return 0;
}

size_t
ratelimit_ip_count(struct ratelimit *rl)
{
	size_t n;

	pthread_mutex_lock(&rl->mu);
	n = rl->used;
	pthread_mutex_unlock(&rl->mu);
	return n;
}
