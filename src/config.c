/*
 * config.c: parse the daemon's configuration file.
 *
 * Each error names the file and line and stops the load: start-up is the
 * one place where a fault ends the program, and it must say exactly where.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "note.h"
#include "ratelimit.h"

#define DEFAULT_MAX_BODY	262144
#define DEFAULT_TOLERANCE	300
#define LIMIT_MAX_BODY		(16 * 1024 * 1024)
#define LIMIT_TOLERANCE		86400
#define MEMORY_MIN		16384
#define MEMORY_MAX		(1024 * 1024)

struct parse {
	struct config	*cfg;
	const char	*path;
	int		 line;
	int		 need_secrets;
	struct config_endpoint *ep;	/* current endpoint section, or NULL */
	struct config_tenant *tn;	/* current tenant section, or NULL */
	char		*dir;		/* the config file's folder */
	unsigned int	 seen;		/* top-level keys seen, as bits */
	unsigned int	 ep_seen;	/* keys seen in this section */
	int		 burst_line;	/* where burst_per_ip is, or 0 */
	int		 ep_burst_line;	/* where this section's burst is */
	int		 header_line;	/* where max_header_bytes is */
	int		 memory_line;	/* where connection_memory is */
	char		*err;
	size_t		 errlen;
};

enum {
	SEEN_LISTEN = 1 << 0, SEEN_DATABASE = 1 << 1, SEEN_MAX_BODY = 1 << 2,
	SEEN_MAX_CONN = 1 << 3, SEEN_MAX_PER_IP = 1 << 4,
	SEEN_TIMEOUT = 1 << 5, SEEN_THREADS = 1 << 6, SEEN_ALERT = 1 << 7,
	SEEN_CP_KEY = 1 << 8, SEEN_CP_DIR = 1 << 9, SEEN_CP_ORIGIN = 1 << 10,
	SEEN_CP_EVERY = 1 << 11, SEEN_CP_INTERVAL = 1 << 12,
	SEEN_REQ_TIMEOUT = 1 << 13, SEEN_HDR_BYTES = 1 << 14,
	SEEN_HDR_COUNT = 1 << 15, SEEN_CONN_MEMORY = 1 << 16,
	SEEN_RATE_IP = 1 << 17, SEEN_BURST_IP = 1 << 18,
	SEEN_ALERT_TIMEOUT = 1 << 19,
	SEEN_TENANT = 1 << 0, SEEN_SCHEME = 1 << 1, SEEN_TOLERANCE = 1 << 2,
	SEEN_RATE = 1 << 3, SEEN_BURST = 1 << 4,	/* endpoint */
	SEEN_TN_RATE = 1 << 7, SEEN_TN_BURST = 1 << 8	/* tenant */
};

static int
fail_at(struct parse *p, int line, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
	return -1;
}

#define FAIL(p, ...)	fail_at((p), (p)->line, __VA_ARGS__)

int
config_name_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > CONFIG_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

/* Parse a decimal unsigned value within [min, max]. */
static int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Resolve a relative path against the config file's folder. */
static char *
resolve_path(const struct parse *p, const char *v)
{
	char	*out;
	size_t	 n;

	if (v[0] == '/' || p->dir == NULL)
		return strdup(v);
	n = strlen(p->dir) + 1 + strlen(v) + 1;
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%s/%s", p->dir, v);
	return out;
}

/* Under systemd, LoadCredential= hands secrets over in
 * $CREDENTIALS_DIRECTORY; a bare file name is looked up there. */
static char *
secret_path(const struct parse *p, const char *v)
{
	const char	*creds = getenv("CREDENTIALS_DIRECTORY");
	char		*out;
	size_t		 n;

	if (creds == NULL || *creds == '\0' || strchr(v, '/') != NULL)
		return resolve_path(p, v);
	n = strlen(creds) + 1 + strlen(v) + 1;
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(out, n, "%s/%s", creds, v);
	return out;
}

static int
set_listen(struct parse *p, const char *v)
{
	const char	*colon;
	uint64_t	 port;
	size_t		 hlen;

	if ((colon = strrchr(v, ':')) == NULL)
		return FAIL(p, "listen must be host:port");
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		v++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(p->cfg->listen_host))
		return FAIL(p, "listen needs a host before the port");
	if (parse_uint(colon + 1, 0, 65535, &port) == -1)
		return FAIL(p, "listen port must be a number from 0 to 65535");
	memcpy(p->cfg->listen_host, v, hlen);
	p->cfg->listen_host[hlen] = '\0';
	p->cfg->listen_port = (unsigned short)port;
	return 0;
}

static int
once(struct parse *p, unsigned int *seen, unsigned int bit, const char *key)
{
	if (*seen & bit)
		return FAIL(p, "%s is given twice", key);
	*seen |= bit;
	return 0;
}

/* Key k, seen at most once (bit in *seen), a whole number min..max. */
static int
seen_uint(struct parse *p, unsigned int *seen, const char *k, const char *v,
    unsigned int bit, uint64_t min, uint64_t max, unsigned int *out)
{
	uint64_t n;

	if (once(p, seen, bit, k) == -1)
		return -1;
	if (parse_uint(v, min, max, &n) == -1)
		return FAIL(p, "%s must be a whole number from %llu to %llu", k,
		    (unsigned long long)min, (unsigned long long)max);
	*out = (unsigned int)n;
	return 0;
}

static int
top_uint(struct parse *p, const char *k, const char *v, unsigned int bit,
    uint64_t min, uint64_t max, unsigned int *out)
{
	return seen_uint(p, &p->seen, k, v, bit, min, max, out);
}

/* A burst without a rate would limit nothing, which is not what its
 * writer meant; a rate without a burst gets twice the rate, so that a
 * sender that keeps to the rate on average may bunch up a little. */
static int
finish_rate(struct parse *p, int burst_line, const char *rate_key,
    const char *burst_key, unsigned int rate, unsigned int *burst)
{
	if (burst_line > 0 && rate == 0)
		return fail_at(p, burst_line, "%s needs %s above 0", burst_key,
		    rate_key);
	if (burst_line == 0)
		*burst = rate > RATELIMIT_BURST_MAX / 2 ? RATELIMIT_BURST_MAX :
		    2 * rate;
	return 0;
}

static int
top_key(struct parse *p, const char *k, const char *v)
{
	struct config	*cfg = p->cfg;
	uint64_t	 n;

	if (strcmp(k, "listen") == 0) {
		if (once(p, &p->seen, SEEN_LISTEN, k) == -1)
			return -1;
		return set_listen(p, v);
	}
	if (strcmp(k, "database") == 0) {
		if (once(p, &p->seen, SEEN_DATABASE, k) == -1)
			return -1;
		if ((cfg->database = resolve_path(p, v)) == NULL)
			return FAIL(p, "out of memory");
		return 0;
	}
	if (strcmp(k, "max_body") == 0) {
		if (once(p, &p->seen, SEEN_MAX_BODY, k) == -1)
			return -1;
		if (parse_uint(v, 1, LIMIT_MAX_BODY, &n) == -1)
			return FAIL(p, "max_body must be a byte count from 1 "
			    "to %d", LIMIT_MAX_BODY);
		cfg->max_body = (size_t)n;
		return 0;
	}
	if (strcmp(k, "max_connections") == 0) {
		if (once(p, &p->seen, SEEN_MAX_CONN, k) == -1)
			return -1;
		if (parse_uint(v, 1, 65536, &n) == -1)
			return FAIL(p, "max_connections must be from 1 to 65536");
		cfg->max_connections = (unsigned int)n;
		return 0;
	}
	if (strcmp(k, "max_connections_per_ip") == 0) {
		if (once(p, &p->seen, SEEN_MAX_PER_IP, k) == -1)
			return -1;
		if (parse_uint(v, 1, 65536, &n) == -1)
			return FAIL(p, "max_connections_per_ip must be from 1 "
			    "to 65536");
		cfg->max_per_ip = (unsigned int)n;
		return 0;
	}
	if (strcmp(k, "timeout") == 0) {
		if (once(p, &p->seen, SEEN_TIMEOUT, k) == -1)
			return -1;
		if (parse_uint(v, 1, 3600, &n) == -1)
			return FAIL(p, "timeout must be from 1 to 3600 seconds");
		cfg->timeout = (unsigned int)n;
		return 0;
	}
	if (strcmp(k, "checkpoint_key") == 0) {
		if (once(p, &p->seen, SEEN_CP_KEY, k) == -1)
			return -1;
		if ((cfg->checkpoint_key = secret_path(p, v)) == NULL)
			return FAIL(p, "out of memory");
		return 0;
	}
	if (strcmp(k, "checkpoint_dir") == 0) {
		if (once(p, &p->seen, SEEN_CP_DIR, k) == -1)
			return -1;
		if ((cfg->checkpoint_dir = resolve_path(p, v)) == NULL)
			return FAIL(p, "out of memory");
		if (access(cfg->checkpoint_dir, W_OK) != 0)
			return FAIL(p, "checkpoint_dir %.200s is not a writable "
			    "directory", cfg->checkpoint_dir);
		return 0;
	}
	if (strcmp(k, "checkpoint_origin") == 0) {
		if (once(p, &p->seen, SEEN_CP_ORIGIN, k) == -1)
			return -1;
		/* What the signer would refuse on every commit is refused
		 * here, before the daemon runs without checkpoints. */
		if (!note_name_valid(v, strlen(v)))
			return FAIL(p, "checkpoint_origin must be 1 to %d "
			    "printable ASCII characters without spaces or +",
			    NOTE_NAME_MAX);
		if ((cfg->checkpoint_origin = strdup(v)) == NULL)
			return FAIL(p, "out of memory");
		return 0;
	}
	if (strcmp(k, "checkpoint_every") == 0) {
		if (once(p, &p->seen, SEEN_CP_EVERY, k) == -1)
			return -1;
		if (parse_uint(v, 1, 100000000, &n) == -1)
			return FAIL(p, "checkpoint_every must be a number of "
			    "entries from 1 to 100000000");
		cfg->checkpoint_every = (unsigned int)n;
		return 0;
	}
	if (strcmp(k, "checkpoint_interval") == 0) {
		if (once(p, &p->seen, SEEN_CP_INTERVAL, k) == -1)
			return -1;
		if (parse_uint(v, 1, 10080, &n) == -1)
			return FAIL(p, "checkpoint_interval must be from 1 to "
			    "10080 minutes");
		cfg->checkpoint_interval = (unsigned int)n;
		return 0;
	}
	if (strcmp(k, "alert_command") == 0) {
		if (once(p, &p->seen, SEEN_ALERT, k) == -1)
			return -1;
		if (v[0] != '/')
			return FAIL(p, "alert_command must be an absolute path "
			    "to a program (it is run without a shell)");
		if ((cfg->alert_command = strdup(v)) == NULL)
			return FAIL(p, "out of memory");
		return 0;
	}
	if (strcmp(k, "alert_timeout") == 0)
		return top_uint(p, k, v, SEEN_ALERT_TIMEOUT, 1,
		    3600, &cfg->alert_timeout);
	if (strcmp(k, "request_timeout") == 0)
		return top_uint(p, k, v, SEEN_REQ_TIMEOUT, 1, 3600,
		    &cfg->request_timeout);
	if (strcmp(k, "max_headers") == 0)
		return top_uint(p, k, v, SEEN_HDR_COUNT, 1, 1000,
		    &cfg->max_headers);
	if (strcmp(k, "max_header_bytes") == 0) {
		if (once(p, &p->seen, SEEN_HDR_BYTES, k) == -1)
			return -1;
		if (parse_uint(v, 1024, MEMORY_MAX / 2, &n) == -1)
			return FAIL(p, "max_header_bytes must be from 1024 to %d",
			    MEMORY_MAX / 2);
		cfg->max_header_bytes = (size_t)n;
		p->header_line = p->line;
		return 0;
	}
	if (strcmp(k, "connection_memory") == 0) {
		if (once(p, &p->seen, SEEN_CONN_MEMORY, k) == -1)
			return -1;
		if (parse_uint(v, MEMORY_MIN, MEMORY_MAX, &n) == -1)
			return FAIL(p, "connection_memory must be from %d to %d "
			    "bytes", MEMORY_MIN, MEMORY_MAX);
		cfg->connection_memory = (size_t)n;
		p->memory_line = p->line;
		return 0;
	}
	if (strcmp(k, "rate_per_ip") == 0)
		return top_uint(p, k, v, SEEN_RATE_IP, 0, RATELIMIT_RATE_MAX,
		    &cfg->rate_per_ip);
	if (strcmp(k, "burst_per_ip") == 0) {
		p->burst_line = p->line;
		return top_uint(p, k, v, SEEN_BURST_IP, 1,
		    RATELIMIT_BURST_MAX, &cfg->burst_per_ip);
	}
	if (strcmp(k, "threads") == 0) {
		if (once(p, &p->seen, SEEN_THREADS, k) == -1)
			return -1;
		if (parse_uint(v, 1, 64, &n) == -1)
			return FAIL(p, "threads must be from 1 to 64");
		cfg->threads = (unsigned int)n;
		return 0;
	}
	return FAIL(p, "unknown key \"%.64s\"", k);
}

static int
section_uint(struct parse *p, const char *k, const char *v, unsigned int bit,
    uint64_t min, uint64_t max, unsigned int *out)
{
	return seen_uint(p, &p->ep_seen, k, v, bit, min, max, out);
}

static int
endpoint_key(struct parse *p, const char *k, const char *v)
{
	struct config_endpoint	*ep = p->ep;
	uint64_t		 n;

	if (strcmp(k, "tenant") == 0) {
		if (once(p, &p->ep_seen, SEEN_TENANT, k) == -1)
			return -1;
		if (!config_name_valid(v, strlen(v)))
			return FAIL(p, "tenant must be 1 to %d of "
			    "[A-Za-z0-9_-]", CONFIG_NAME_MAX);
		memcpy(ep->tenant, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(k, "scheme") == 0) {
		if (once(p, &p->ep_seen, SEEN_SCHEME, k) == -1)
			return -1;
		if (ep->nsecrets > 0)
			return FAIL(p, "scheme must come before secret_file");
		if (strcmp(v, "standard-webhooks") == 0)
			ep->scheme = CONFIG_SCHEME_STDWH;
		else if (strcmp(v, "stripe") == 0)
			ep->scheme = CONFIG_SCHEME_STRIPE;
		else
			return FAIL(p, "scheme must be standard-webhooks "
			    "or stripe");
		return 0;
	}
	if (strcmp(k, "tolerance") == 0) {
		if (once(p, &p->ep_seen, SEEN_TOLERANCE, k) == -1)
			return -1;
		if (parse_uint(v, 1, LIMIT_TOLERANCE, &n) == -1)
			return FAIL(p, "tolerance must be from 1 to %d seconds",
			    LIMIT_TOLERANCE);
		ep->tolerance = (int64_t)n;
		return 0;
	}
	if (strcmp(k, "rate") == 0)
		return section_uint(p, k, v, SEEN_RATE, 0, RATELIMIT_RATE_MAX,
		    &ep->rate);
	if (strcmp(k, "burst") == 0) {
		p->ep_burst_line = p->line;
		return section_uint(p, k, v, SEEN_BURST, 1,
		    RATELIMIT_BURST_MAX, &ep->burst);
	}
	if (strcmp(k, "secret_file") == 0) {
		char	 serr[256];
		char	*file;
		int	 rc;

		if (!(p->ep_seen & SEEN_SCHEME))
			return FAIL(p, "scheme must come before secret_file");
		if (ep->nsecrets == CONFIG_MAX_SECRETS)
			return FAIL(p, "at most %d secret_file lines per "
			    "endpoint", CONFIG_MAX_SECRETS);
		if (!p->need_secrets) {
			ep->nsecrets++;
			return 0;
		}
		if ((file = secret_path(p, v)) == NULL)
			return FAIL(p, "out of memory");
		rc = secret_load(file, ep->scheme == CONFIG_SCHEME_STDWH ?
		    SECRET_STDWH : SECRET_STRIPE, &ep->secrets[ep->nsecrets],
		    serr, sizeof(serr));
		free(file);
		if (rc == -1)
			return FAIL(p, "%s", serr);
		ep->nsecrets++;
		return 0;
	}
	return FAIL(p, "unknown key \"%.64s\" in [endpoint %s]", k, ep->name);
}

void
config_tenant_defaults(struct config_tenant *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->timezone, sizeof(t->timezone), "UTC");
	t->refund_spike_factor = 3;
	t->refund_spike_min_count = 5;
	t->dispute_spike_factor = 3;
	t->dispute_spike_min_count = 3;
	t->baseline_days = 28;
}

/* An IANA zone name: letters, digits, / _ - +, no "..", and a compiled
 * zone file for it must exist. */
static int
zone_valid(const char *z)
{
	char		 path[256];
	const char	*dir = getenv("TZDIR");
	size_t		 i;

	if (*z == '\0' || *z == '/' || strstr(z, "..") != NULL ||
	    strlen(z) >= 64)
		return 0;
	for (i = 0; z[i] != '\0'; i++)
		if (!isalnum((unsigned char)z[i]) && strchr("/_-+", z[i]) ==
		    NULL)
			return 0;
	if (strcmp(z, "UTC") == 0)
		return 1;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir :
	    "/usr/share/zoneinfo", z);
	return access(path, R_OK) == 0;
}

static int
tenant_uint(struct parse *p, const char *k, const char *v, unsigned int bit,
    uint64_t min, uint64_t max, unsigned int *out)
{
	uint64_t n;

	if (once(p, &p->ep_seen, bit, k) == -1)
		return -1;
	if (parse_uint(v, min, max, &n) == -1)
		return FAIL(p, "%s must be a whole number from %llu to %llu", k,
		    (unsigned long long)min, (unsigned long long)max);
	*out = (unsigned int)n;
	return 0;
}

static int
tenant_key(struct parse *p, const char *k, const char *v)
{
	struct config_tenant *t = p->tn;

	if (strcmp(k, "timezone") == 0) {
		if (once(p, &p->ep_seen, 1 << 1, k) == -1)
			return -1;
		if (!zone_valid(v))
			return FAIL(p, "timezone \"%.64s\" is not a known IANA "
			    "zone (install tzdata?)", v);
		snprintf(t->timezone, sizeof(t->timezone), "%s", v);
		return 0;
	}
	if (strcmp(k, "refund_spike_factor") == 0)
		return tenant_uint(p, k, v, 1 << 2, 1, 100,
		    &t->refund_spike_factor);
	if (strcmp(k, "refund_spike_min_count") == 0)
		return tenant_uint(p, k, v, 1 << 3, 1, 1000000,
		    &t->refund_spike_min_count);
	if (strcmp(k, "dispute_spike_factor") == 0)
		return tenant_uint(p, k, v, 1 << 4, 1, 100,
		    &t->dispute_spike_factor);
	if (strcmp(k, "dispute_spike_min_count") == 0)
		return tenant_uint(p, k, v, 1 << 5, 1, 1000000,
		    &t->dispute_spike_min_count);
	if (strcmp(k, "baseline_days") == 0)
		return tenant_uint(p, k, v, 1 << 6, 7, 91,
		    &t->baseline_days);
	if (strcmp(k, "exceptions_threshold") == 0)
		return tenant_uint(p, k, v, 1 << 9, 0, 1000000,
		    &t->exceptions_threshold);
	if (strcmp(k, "rate") == 0)
		return section_uint(p, k, v, SEEN_TN_RATE, 0,
		    RATELIMIT_RATE_MAX, &t->rate);
	if (strcmp(k, "burst") == 0) {
		p->ep_burst_line = p->line;
		return section_uint(p, k, v, SEEN_TN_BURST, 1,
		    RATELIMIT_BURST_MAX, &t->burst);
	}
	if (strcmp(k, "require_expectations") == 0) {
		if (once(p, &p->ep_seen, SEEN_TENANT, k) == -1)
			return -1;
		if (strcmp(v, "yes") == 0)
			p->tn->require_expectations = 1;
		else if (strcmp(v, "no") == 0)
			p->tn->require_expectations = 0;
		else
			return FAIL(p, "require_expectations must be yes or no");
		return 0;
	}
	return FAIL(p, "unknown key \"%.64s\" in [tenant %s]", k, p->tn->name);
}

static int
end_section(struct parse *p)
{
	struct config_endpoint *ep = p->ep;
	int			burst_line = p->ep_burst_line;

	p->ep_burst_line = 0;
	if (p->tn != NULL && finish_rate(p, burst_line, "rate", "burst",
	    p->tn->rate, &p->tn->burst) == -1)
		return -1;
	p->tn = NULL;
	if (ep == NULL)
		return 0;
	if (finish_rate(p, burst_line, "rate", "burst", ep->rate,
	    &ep->burst) == -1)
		return -1;
	if (!(p->ep_seen & SEEN_TENANT))
		return fail_at(p, ep->line, "[endpoint %s] needs a tenant",
		    ep->name);
	if (!(p->ep_seen & SEEN_SCHEME))
		return fail_at(p, ep->line, "[endpoint %s] needs a scheme",
		    ep->name);
	if (ep->nsecrets == 0)
		return fail_at(p, ep->line, "[endpoint %s] needs at least "
		    "one secret_file", ep->name);
	p->ep = NULL;
	return 0;
}

static char *
section_name(char *name)
{
	size_t len;

	while (*name == ' ' || *name == '\t')
		name++;
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		name[--len] = '\0';
	return name;
}

static int
tenant_section(struct parse *p, char *name)
{
	size_t i, len;

	name = section_name(name);
	len = strlen(name);
	if (!config_name_valid(name, len))
		return FAIL(p, "tenant name must be 1 to %d of [A-Za-z0-9_-]",
		    CONFIG_NAME_MAX);
	for (i = 0; i < p->cfg->ntenants; i++)
		if (strcmp(p->cfg->tenants[i].name, name) == 0)
			return FAIL(p, "tenant %s is defined twice", name);
	if (p->cfg->ntenants == CONFIG_MAX_TENANTS)
		return FAIL(p, "at most %d tenant sections", CONFIG_MAX_TENANTS);
	p->tn = &p->cfg->tenants[p->cfg->ntenants++];
	config_tenant_defaults(p->tn, name);
	p->tn->line = p->line;
	p->ep_seen = 0;
	return 0;
}

static int
section(struct parse *p, char *s)
{
	char	*end, *name;
	size_t	 i, len;

	if (end_section(p) == -1)
		return -1;
	if ((end = strchr(s, ']')) == NULL || end[1] != '\0')
		return FAIL(p, "a section header must end with ]");
	*end = '\0';
	s++;
	if (strncmp(s, "tenant ", 7) == 0 || strncmp(s, "tenant\t", 7) == 0)
		return tenant_section(p, s + 7);
	if (strncmp(s, "endpoint ", 9) != 0 && strncmp(s, "endpoint\t", 9) != 0)
		return FAIL(p, "unknown section; expected [endpoint NAME] or "
		    "[tenant NAME]");
	name = s + 9;
	while (*name == ' ' || *name == '\t')
		name++;
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		name[--len] = '\0';
	if (!config_name_valid(name, len))
		return FAIL(p, "endpoint name must be 1 to %d of [A-Za-z0-9_-]",
		    CONFIG_NAME_MAX);
	for (i = 0; i < p->cfg->nendpoints; i++)
		if (strcmp(p->cfg->endpoints[i].name, name) == 0)
			return FAIL(p, "endpoint %s is defined twice", name);
	if (p->cfg->nendpoints == CONFIG_MAX_ENDPOINTS)
		return FAIL(p, "at most %d endpoints", CONFIG_MAX_ENDPOINTS);
	p->ep = &p->cfg->endpoints[p->cfg->nendpoints++];
	memcpy(p->ep->name, name, len + 1);
	p->ep->tolerance = DEFAULT_TOLERANCE;
	p->ep->line = p->line;
	p->ep_seen = 0;
	return 0;
}

static char *
trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

static int
parse_line(struct parse *p, char *line)
{
	char	*s, *eq, *k, *v;
	size_t	 i;

	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t' &&
		    line[i] != '\r')
			return FAIL(p, "control character in line");
	s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '[')
		return section(p, s);
	if ((eq = strchr(s, '=')) == NULL)
		return FAIL(p, "expected key = value");
	*eq = '\0';
	k = trim(s);
	v = trim(eq + 1);
	if (*k == '\0')
		return FAIL(p, "missing key before =");
	if (*v == '\0')
		return FAIL(p, "missing value for %.64s", k);
	if (p->tn != NULL)
		return tenant_key(p, k, v);
	return p->ep != NULL ? endpoint_key(p, k, v) : top_key(p, k, v);
}

/* Read one line of f into line (CONFIG_MAX_LINE + 1 bytes), without its
 * '\n', NUL terminated, its length in *len. NUL bytes are kept, so that
 * the caller sees them: fgets() would hide everything after one. 1: a
 * line; 0: end of file (or a read error, which ferror() tells); -1: the
 * line is longer than CONFIG_MAX_LINE. */
static int
read_line(FILE *f, char *line, size_t *len)
{
	size_t	 n = 0;
	int	 ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (n == CONFIG_MAX_LINE)
			return -1;
		line[n++] = (char)ch;
	}
	line[n] = '\0';
	*len = n;
	return ch == EOF && n == 0 ? 0 : 1;
}

/* Parse the open stream f, which is closed before returning; path names
 * it in errors and anchors relative paths. */
static struct config *
config_read(const char *path, FILE *f, int need_secrets, char *err,
    size_t errlen)
{
	struct parse	 p;
	struct config	*cfg = NULL;
	char		 line[CONFIG_MAX_LINE + 1] = "";
	size_t		 len;
	int		 rc;
	const char	*slash;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.err = err;
	p.errlen = errlen;
	p.need_secrets = need_secrets;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		fail_at(&p, 0, "out of memory");
		goto fail;
	}
	p.cfg = cfg;
	cfg->max_body = DEFAULT_MAX_BODY;
	cfg->max_connections = 1024;
	cfg->max_per_ip = 256;
	cfg->timeout = 15;
	cfg->request_timeout = 30;
	cfg->max_header_bytes = 8192;
	cfg->max_headers = 64;
	cfg->connection_memory = 65536;
	cfg->rate_per_ip = 1000;
	cfg->threads = 2;
	cfg->checkpoint_every = 10000;
	cfg->checkpoint_interval = 60;
	cfg->alert_timeout = 60;
	if ((cfg->tenants = calloc(CONFIG_MAX_TENANTS,
	    sizeof(*cfg->tenants))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		fail_at(&p, 0, "out of memory");
		goto fail;
	}
	if ((slash = strrchr(path, '/')) != NULL &&
	    (p.dir = strndup(path, (size_t)(slash - path) + (slash == path)))
	    == NULL) {
		fail_at(&p, 0, "out of memory");
		goto fail;
	}
	while ((rc = read_line(f, line, &len)) != 0) {
		p.line++;
		if (rc == -1) {
			FAIL(&p, "line longer than %d bytes", CONFIG_MAX_LINE);
			goto fail;
		}
		if (memchr(line, '\0', len) != NULL) {
			FAIL(&p, "NUL byte in line");
			goto fail;
		}
		if (parse_line(&p, line) == -1)
			goto fail;
	}
	if (ferror(f)) {
		fail_at(&p, p.line, "read error: %s", strerror(errno));
		goto fail;
	}
	if (end_section(&p) == -1)
		goto fail;
	if (!(p.seen & SEEN_LISTEN)) {
		fail_at(&p, 0, "listen is required (host:port)");
		goto fail;
	}
	if (!(p.seen & SEEN_DATABASE)) {
		fail_at(&p, 0, "database is required (a path)");
		goto fail;
	}
	if ((cfg->checkpoint_key == NULL) != (cfg->checkpoint_dir == NULL)) {
		fail_at(&p, 0, "checkpoint_key and checkpoint_dir go together");
		goto fail;
	}
	if (finish_rate(&p, p.burst_line, "rate_per_ip", "burst_per_ip",
	    cfg->rate_per_ip, &cfg->burst_per_ip) == -1)
		goto fail;
	if (cfg->max_header_bytes > cfg->connection_memory / 2) {
		fail_at(&p, p.header_line > p.memory_line ? p.header_line :
		    p.memory_line, "max_header_bytes (%zu) must be at most half "
		    "of connection_memory (%zu), which also holds the parsed "
		    "headers and the answer", cfg->max_header_bytes,
		    cfg->connection_memory);
		goto fail;
	}
	if (cfg->max_per_ip > cfg->max_connections)
		cfg->max_per_ip = cfg->max_connections;
	fclose(f);
	free(p.dir);
	sodium_memzero(line, sizeof(line));
	return cfg;
fail:
	if (f != NULL)
		fclose(f);
	free(p.dir);
	sodium_memzero(line, sizeof(line));
	config_free(cfg);
	return NULL;
}

struct config *
config_load(const char *path, int need_secrets, char *err, size_t errlen)
{
	FILE	*f;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	return config_read(path, f, need_secrets, err, errlen);
}

struct config *
config_parse_buffer(const char *path, const char *buf, size_t len,
    int need_secrets, char *err, size_t errlen)
{
	FILE	*f;

	/* fmemopen() wants a writable buffer, but mode "r" never writes. */
	if ((f = fmemopen((void *)(uintptr_t)buf, len, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	return config_read(path, f, need_secrets, err, errlen);
}

void
config_free(struct config *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nendpoints; i++)
		for (j = 0; j < CONFIG_MAX_SECRETS; j++)
			secret_clear(&cfg->endpoints[i].secrets[j]);
	free(cfg->tenants);
	free(cfg->alert_command);
	free(cfg->checkpoint_key);
	free(cfg->checkpoint_dir);
	free(cfg->checkpoint_origin);
	free(cfg->path);
	free(cfg->database);
	free(cfg);
}

const struct config_tenant *
config_tenant(const struct config *cfg, const char *tenant)
{
	size_t i;

	for (i = 0; i < cfg->ntenants; i++)
		if (strcmp(cfg->tenants[i].name, tenant) == 0)
			return &cfg->tenants[i];
	return NULL;
}

const struct config_endpoint *
config_endpoint(const struct config *cfg, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->nendpoints; i++) {
		const struct config_endpoint *ep = &cfg->endpoints[i];
		if (strlen(ep->name) == len && memcmp(ep->name, name, len) == 0)
			return ep;
	}
	return NULL;
}
