/*
 * config: the daemon's configuration file.
 *
 * The format is line-oriented: `key = value`, `#` comments, blank lines,
 * `[endpoint NAME]` and `[tenant NAME]` sections. Unknown keys, repeated single-valued keys and
 * malformed lines are errors, so that a typo never silently weakens the
 * service. Relative paths are taken relative to the config file's folder,
 * except that a secret_file given as a bare name is read from
 * $CREDENTIALS_DIRECTORY when systemd sets it (LoadCredential=).
 */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "secret.h"

#define CONFIG_MAX_LINE		1024	/* bytes in one line */
#define CONFIG_MAX_ENDPOINTS	64
#define CONFIG_MAX_SECRETS	4	/* secret_file lines per endpoint */
#define CONFIG_NAME_MAX		64	/* endpoint and tenant names */

enum config_scheme {
	CONFIG_SCHEME_STDWH,		/* "standard-webhooks" */
	CONFIG_SCHEME_STRIPE		/* "stripe" */
};

struct config_endpoint {
	char			 name[CONFIG_NAME_MAX + 1];
	char			 tenant[CONFIG_NAME_MAX + 1];
	enum config_scheme	 scheme;
	struct secret		 secrets[CONFIG_MAX_SECRETS];
	size_t			 nsecrets;
	int64_t			 tolerance;	/* seconds */
	unsigned int		 rate;		/* requests/s; 0: no limit */
	unsigned int		 burst;
	int			 line;		/* where the section starts */
};

/* Per-tenant settings, from [tenant NAME] sections. A tenant without a
 * section has the defaults. */
struct config_tenant {
	char			 name[CONFIG_NAME_MAX + 1];
	int			 require_expectations;	/* default 0 */
	char			 timezone[64];		/* IANA; "UTC" */
	unsigned int		 refund_spike_factor;	/* default 3 */
	unsigned int		 refund_spike_min_count;	/* default 5 */
	unsigned int		 dispute_spike_factor;	/* default 3 */
	unsigned int		 dispute_spike_min_count;	/* default 3 */
	unsigned int		 baseline_days;		/* default 28 */
	unsigned int		 exceptions_threshold;	/* open ones; 0 */
	unsigned int		 rate;		/* requests/s; 0: no limit */
	unsigned int		 burst;
	int			 line;
};

/* The settings of a tenant without a [tenant] section. */
void	config_tenant_defaults(struct config_tenant *t, const char *name);

#define CONFIG_MAX_TENANTS	256

struct config {
	char			*path;		/* as given */
	char			 listen_host[64];
	unsigned short		 listen_port;	/* 0: pick an ephemeral port */
	char			*database;	/* resolved path */
	size_t			 max_body;	/* bytes */
	unsigned int		 max_connections;
	unsigned int		 max_per_ip;
	unsigned int		 timeout;	/* idle seconds per connection */
	unsigned int		 request_timeout;	/* seconds per request */
	size_t			 max_header_bytes;	/* request line + headers */
	unsigned int		 max_headers;	/* header fields */
	size_t			 connection_memory;	/* bytes per connection */
	unsigned int		 rate_per_ip;	/* requests/s; 0: no limit */
	unsigned int		 burst_per_ip;
	unsigned int		 threads;	/* HTTP worker threads */
	struct config_endpoint	 endpoints[CONFIG_MAX_ENDPOINTS];
	size_t			 nendpoints;
	struct config_tenant	*tenants;	/* CONFIG_MAX_TENANTS slots */
	size_t			 ntenants;
	char			*alert_command;	/* run with the report, or NULL */
	unsigned int		 alert_timeout;	/* seconds; 60 */
	char			*checkpoint_key;	/* signer key file, or NULL */
	char			*checkpoint_dir;	/* where checkpoints go */
	char			*checkpoint_origin;	/* default: the key name */
	unsigned int		 checkpoint_every;	/* entries; 10000 */
	unsigned int		 checkpoint_interval;	/* minutes; 60 */
};

/* Read and check the file at path, loading every secret it names. When
 * need_secrets is 0, secret_file keys are checked for syntax only and no
 * secret is read (for commands that only need the database path).
 * Returns a config the caller frees with config_free(), or NULL with one
 * line "PATH:LINE: what is wrong" in err ("PATH: what is wrong" when no
 * single line is to blame).
 * Not thread-safe; start-up only. */
struct config	*config_load(const char *path, int need_secrets,
		    char *err, size_t errlen);

/* config_load() over len bytes at buf instead of a file (buf need not be
 * NUL terminated and may hold NULs, which are refused as in a file). path
 * names the text in errors and anchors relative paths as the file's
 * location would. Same result and ownership as config_load(). Not
 * thread-safe; start-up and tests only. */
struct config	*config_parse_buffer(const char *path, const char *buf,
		    size_t len, int need_secrets, char *err, size_t errlen);

/* Wipe the secrets and free everything; accepts NULL. */
void		 config_free(struct config *cfg);

/* The endpoint called name (len bytes), or NULL. Thread-safe: the config
 * is read-only once loaded. */
const struct config_endpoint *config_endpoint(const struct config *cfg,
		    const char *name, size_t len);

/* The [tenant NAME] settings of tenant, or NULL for the defaults.
 * Thread-safe. */
const struct config_tenant *config_tenant(const struct config *cfg,
		    const char *tenant);

/* Return 1 when len bytes at s make a usable endpoint or tenant name:
 * 1 to CONFIG_NAME_MAX bytes of [A-Za-z0-9_-]. */
int		 config_name_valid(const char *s, size_t len);

#endif
