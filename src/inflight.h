/*
 * inflight: the idempotency keys whose first copy is being processed now.
 *
 * A second copy that arrives while the first is between verification and
 * commit is answered 409 instead of racing it. The set is bounded by the
 * number of connections, since each key is held by one request.
 */
#ifndef HL_INFLIGHT_H
#define HL_INFLIGHT_H

#include <stddef.h>

struct inflight;

/* A set for up to cap keys. NULL when out of memory. */
struct inflight	*inflight_new(size_t cap);

/* Free; accepts NULL. */
void		 inflight_free(struct inflight *set);

/* Claim (endpoint, id). Returns 0 when claimed, 1 when another request
 * holds it, -1 when the set is full. Thread-safe. */
int		 inflight_claim(struct inflight *set, const char *endpoint,
		    const char *id);

/* Release a claim made by inflight_claim(). Thread-safe. */
void		 inflight_release(struct inflight *set, const char *endpoint,
		    const char *id);

#endif
