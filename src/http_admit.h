/*
 * http_admit: the first look at a request whose headers have arrived,
 * before its body is read or any signature or token is checked: the size
 * and number of its header fields, then its rate limits.
 *
 * Which buckets a request draws on (ratelimit.h):
 *
 *   GET /healthz                 none: a health check must answer while
 *                                the service is busy, and costs nothing
 *   /webhooks/NAME               the client address, the endpoint NAME
 *                                and the tenant it belongs to
 *   /v1/tenants/T/...            the client address and the tenant T
 *   anything else                the client address
 *
 * An endpoint or tenant without a configured rate has no bucket.
 */
#ifndef HL_HTTP_ADMIT_H
#define HL_HTTP_ADMIT_H

#include <stddef.h>

#include <microhttpd.h>

#include "config.h"

/* Address slots of the per-address rate table: about 48 bytes each. */
#define HTTP_ADMIT_IP_SLOTS	65536

enum http_admit_verdict {
	HTTP_ADMIT_PASS = 0,
	HTTP_ADMIT_HEADERS,	/* answer 431 */
	HTTP_ADMIT_RATE		/* answer 429 with Retry-After */
};

struct http_admit;

/* The admission state for cfg, which must outlive it. NULL when out of
 * memory. */
struct http_admit *http_admit_new(const struct config *cfg);

/* Free; accepts NULL. */
void		 http_admit_free(struct http_admit *ad);

/* Judge the request on conn for url (as routed). On HTTP_ADMIT_RATE,
 * *retry_after is the whole seconds to announce (at least 1) and *limit
 * names the limit that refused it ("ip", "endpoint" or "tenant", for the
 * log). Call from the connection's handler; thread-safe. */
enum http_admit_verdict http_admit(struct http_admit *ad,
		    struct MHD_Connection *conn, const char *url,
		    const char *method, unsigned int *retry_after,
		    const char **limit);

#endif
