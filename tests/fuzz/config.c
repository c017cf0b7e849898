/*
 * config: the daemon's configuration parser, through
 * config_parse_buffer(), the same code as config_load() without the file.
 *
 * Input: the file's text, whole. Secrets are checked for syntax only
 * (need_secrets 0) so that no run reads files named by the input. A
 * refusal must say where; an accepted config must hold its invariants.
 */
#include "config.h"

#include "fuzz.h"

#define FUZZ_PATH	"/etc/hookledger/hookledgerd.conf"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cfg;
	char		 err[512];
	size_t		 i;

	err[0] = '\0';
	cfg = config_parse_buffer(FUZZ_PATH, (const char *)data, size, 0,
	    err, sizeof(err));
	if (cfg == NULL) {
		if (strncmp(err, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
			abort();
		return 0;
	}
	if (cfg->database == NULL || cfg->nendpoints > CONFIG_MAX_ENDPOINTS ||
	    cfg->ntenants > CONFIG_MAX_TENANTS ||
	    cfg->max_per_ip > cfg->max_connections)
		abort();
	for (i = 0; i < cfg->nendpoints; i++) {
		const struct config_endpoint *ep = &cfg->endpoints[i];

		if (!config_name_valid(ep->name, strlen(ep->name)) ||
		    config_endpoint(cfg, ep->name, strlen(ep->name)) == NULL ||
		    ep->nsecrets > CONFIG_MAX_SECRETS)
			abort();
	}
	for (i = 0; i < cfg->ntenants; i++)
		if (config_tenant(cfg, cfg->tenants[i].name) == NULL)
			abort();
	config_free(cfg);
	return 0;
}
