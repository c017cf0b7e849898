/*
 * ratelimit: token buckets per client address and per named key (an
 * endpoint, a tenant), checked before anything costly is done for a
 * request.
 *
 * A bucket holds up to burst tokens and gains rate tokens a second. A
 * request takes one token from every bucket that applies to it, or from
 * none of them when any is empty; the caller then answers 429 with the
 * wait until the emptiest of those buckets holds a token again. Tokens are
 * counted in billionths, so the refill over any whole number of
 * nanoseconds is exact in integer arithmetic.
 *
 * The address table has a fixed number of slots, allocated once. When it
 * is full, the address seen least recently gives up its slot (it comes
 * back with a full bucket, which is what an idle address has anyway). An
 * IPv6 address is keyed by its /64, the block one host usually holds, so
 * that a client cannot mint a fresh bucket per address; an IPv4-mapped
 * IPv6 address is keyed as IPv4. Slots are found through a hash keyed
 * with random bytes, so that a sender cannot choose colliding addresses.
 *
 * The clock is the caller's (monotonic nanoseconds), so tests drive it.
 */
#ifndef HL_RATELIMIT_H
#define HL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define RATELIMIT_RATE_MAX	1000000		/* tokens per second */
#define RATELIMIT_BURST_MAX	10000000	/* tokens */
#define RATELIMIT_SLOTS_MAX	(1u << 24)	/* address slots */

/* A limit: rate tokens a second, up to burst. rate 0 means no limit. */
struct ratelimit_limit {
	unsigned int	 rate;
	unsigned int	 burst;
};

struct ratelimit;

/* A limiter with ip_slots address slots (1 to RATELIMIT_SLOTS_MAX), the
 * per-address limit per_ip, and nnamed named buckets whose limits are
 * named[0..nnamed-1] (copied). Limits must be within the maxima above,
 * with burst >= 1 when rate > 0. Returns NULL when out of memory or on a
 * limit out of range. */
struct ratelimit *ratelimit_new(size_t ip_slots, struct ratelimit_limit per_ip,
		    const struct ratelimit_limit *named, size_t nnamed);

/* Free; accepts NULL. */
void		 ratelimit_free(struct ratelimit *rl);

/* Where a refusal came from. */
#define RATELIMIT_BY_IP	((size_t)-1)

/*
 * Take one token for a request from peer (NULL, or an address family
 * other than AF_INET and AF_INET6: no address bucket) and from the named
 * buckets keys[0..nkeys-1] (distinct indexes below nnamed; one out of
 * range aborts),
 * at now_ns. Returns 0 when every bucket had a token and one was taken
 * from each. Returns 1 when one was empty: nothing is taken, *retry_after
 * is the whole seconds (at least 1) until every refusing bucket holds a
 * token again, and *by is RATELIMIT_BY_IP or the position in keys of the
 * bucket with the longest wait. Thread-safe; O(1) expected.
 */
int		 ratelimit_take(struct ratelimit *rl,
		    const struct sockaddr *peer, const size_t *keys,
		    size_t nkeys, uint64_t now_ns, unsigned int *retry_after,
		    size_t *by);

/* Addresses holding a slot now. Thread-safe. */
size_t		 ratelimit_ip_count(struct ratelimit *rl);

#endif
