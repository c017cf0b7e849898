/*
 * http_admit.c: header limits and rate limits, ahead of everything else.
 *
 * Named buckets: endpoint i of the config is key i, tenant j is key
 * CONFIG_MAX_ENDPOINTS + j.
 */
#include "http_admit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "ratelimit.h"

#define WEBHOOK_PREFIX	"/webhooks/"
#define TENANTS_PREFIX	API_PREFIX "tenants/"

struct http_admit {
	const struct config	*cfg;
	struct ratelimit	*rl;
};

struct http_admit *
http_admit_new(const struct config *cfg)
{
	struct http_admit	*ad;
	struct ratelimit_limit	*named;
	struct ratelimit_limit	 ip = { cfg->rate_per_ip, cfg->burst_per_ip };
	size_t			 i, n = CONFIG_MAX_ENDPOINTS + cfg->ntenants;

	if ((named = calloc(n, sizeof(*named))) == NULL)
		return NULL;
	for (i = 0; i < cfg->nendpoints; i++) {
		named[i].rate = cfg->endpoints[i].rate;
		named[i].burst = cfg->endpoints[i].burst;
	}
	for (i = 0; i < cfg->ntenants; i++) {
		named[CONFIG_MAX_ENDPOINTS + i].rate = cfg->tenants[i].rate;
		named[CONFIG_MAX_ENDPOINTS + i].burst = cfg->tenants[i].burst;
	}
	if ((ad = calloc(1, sizeof(*ad))) == NULL ||
	    (ad->rl = ratelimit_new(HTTP_ADMIT_IP_SLOTS, ip, named, n)) ==
	    NULL) {
		free(ad);
		free(named);
		return NULL;
	}
	free(named);
	ad->cfg = cfg;
	return ad;
}

void
http_admit_free(struct http_admit *ad)
{
	if (ad == NULL)
		return;
	ratelimit_free(ad->rl);
	free(ad);
}

static enum MHD_Result
count_field(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	size_t *n = cls;

	(*n)++;
	return MHD_YES;
}

/* The bucket of tenant (len bytes), if it has a section. */
static int
tenant_key(const struct config *cfg, const char *tenant, size_t len,
    size_t *key)
{
	size_t i;

	for (i = 0; i < cfg->ntenants; i++)
		if (strlen(cfg->tenants[i].name) == len &&
		    memcmp(cfg->tenants[i].name, tenant, len) == 0) {
			*key = CONFIG_MAX_ENDPOINTS + i;
			return 1;
		}
	return 0;
}

/* The named buckets url draws on, in keys[2]; kinds[] says what each is.
 * Returns how many. */
static size_t
route_keys(const struct config *cfg, const char *url, size_t keys[2],
    const char *kinds[2])
{
	const struct config_endpoint	*ep;
	const char			*name, *slash;
	size_t				 n = 0;

	if (strncmp(url, WEBHOOK_PREFIX, sizeof(WEBHOOK_PREFIX) - 1) == 0) {
		name = url + sizeof(WEBHOOK_PREFIX) - 1;
		if ((ep = config_endpoint(cfg, name, strlen(name))) == NULL)
			return 0;
		keys[n] = (size_t)(ep - cfg->endpoints);
		kinds[n++] = "endpoint";
		if (tenant_key(cfg, ep->tenant, strlen(ep->tenant), &keys[n]))
			kinds[n++] = "tenant";
		return n;
	}
	if (strncmp(url, TENANTS_PREFIX, sizeof(TENANTS_PREFIX) - 1) == 0) {
		name = url + sizeof(TENANTS_PREFIX) - 1;
		slash = strchr(name, '/');
		if (tenant_key(cfg, name, slash != NULL ? (size_t)(slash -
		    name) : strlen(name), &keys[n]))
			kinds[n++] = "tenant";
	}
	return n;
}

enum http_admit_verdict
http_admit(struct http_admit *ad, struct MHD_Connection *conn,
    const char *url, const char *method, unsigned int *retry_after,
    const char **limit)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*peer = NULL;
	const char			*kinds[2];
	struct timespec			 ts;
	size_t				 keys[2], nkeys, nfields = 0, by;

	/* MHD counts the bytes of the request line and the header fields
	 * as they came, up to the blank line. */
	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci != NULL && ci->header_size > ad->cfg->max_header_bytes)
		return HTTP_ADMIT_HEADERS;
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, count_field,
	    &nfields);
	if (nfields > ad->cfg->max_headers)
		return HTTP_ADMIT_HEADERS;

	if (strcmp(url, "/healthz") == 0 && (strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0))
		return HTTP_ADMIT_PASS;
	nkeys = route_keys(ad->cfg, url, keys, kinds);
	if ((ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS)) != NULL)
		peer = ci->client_addr;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ratelimit_take(ad->rl, peer, keys, nkeys,
	    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
	    retry_after, &by) == 0)
		return HTTP_ADMIT_PASS;
	*limit = by == RATELIMIT_BY_IP ? "ip" : kinds[by];
	return HTTP_ADMIT_RATE;
}
