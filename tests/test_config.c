/*
 * test_config.c: the configuration file, its refusals and their lines.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "tmpdir.h"

static char	dir[256];
static char	conf[300];
static char	err[512];

static void
put(const char *name, const char *text, mode_t mode)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	tmpdir_make(dir, sizeof(dir), "config");
	snprintf(conf, sizeof(conf), "%s/hl.conf", dir);
	/* A Standard Webhooks secret: whsec_ + base64 of 24 bytes. */
	put("sw.key", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 0600);
	put("sw2.key", "whsec_8G/ES79pQo0JwVhSY86u5mRR7aqFDa+LvRXkNGsdBD8=", 0600);
	put("stripe.key", "whsec_0123456789abcdefghij\n", 0600);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

static struct config *
load_text(const char *text)
{
	put("hl.conf", text, 0600);
	return config_load(conf, 1, err, sizeof(err));
}

/* The error must be exactly "CONF:LINE: what". */
static void
assert_err(const char *text, int line, const char *what)
{
	char want[700];

	ck_assert_ptr_null(load_text(text));
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", conf, line, what);
	else
		snprintf(want, sizeof(want), "%s: %s", conf, what);
	ck_assert_str_eq(err, want);
}

START_TEST(full_config)
{
	struct config			*cfg;
	const struct config_endpoint	*ep;
	char				 db[400];

	cfg = load_text(
	    "# hookledgerd\n"
	    "listen = 127.0.0.1:8080\n"
	    "database = var/ledger.db\n"
	    "max_body = 1000\n"
	    "\n"
	    "[endpoint stripe]\n"
	    "  tenant = acme   \n"
	    "scheme = stripe\n"
	    "secret_file = stripe.key\n"
	    "[endpoint sw]\n"
	    "tenant = acme\n"
	    "scheme = standard-webhooks\n"
	    "secret_file = sw.key\n"
	    "secret_file = sw2.key\n"
	    "tolerance = 60\n");
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->listen_host, "127.0.0.1");
	ck_assert_uint_eq(cfg->listen_port, 8080);
	snprintf(db, sizeof(db), "%s/var/ledger.db", dir);
	ck_assert_str_eq(cfg->database, db);
	ck_assert_uint_eq(cfg->max_body, 1000);
	ck_assert_uint_eq(cfg->nendpoints, 2);
	ep = config_endpoint(cfg, "stripe", 6);
	ck_assert_ptr_nonnull(ep);
	ck_assert_str_eq(ep->tenant, "acme");
	ck_assert_int_eq(ep->scheme, CONFIG_SCHEME_STRIPE);
	ck_assert_uint_eq(ep->nsecrets, 1);
	/* Stripe's key is the whole string, whsec_ included. */
	ck_assert_uint_eq(ep->secrets[0].len, 26);
	ck_assert_int_eq(memcmp(ep->secrets[0].key, "whsec_0123456789abcdefghij",
	    26), 0);
	ck_assert_int_eq(ep->tolerance, 300);
	ep = config_endpoint(cfg, "sw", 2);
	ck_assert_ptr_nonnull(ep);
	ck_assert_int_eq(ep->scheme, CONFIG_SCHEME_STDWH);
	ck_assert_uint_eq(ep->nsecrets, 2);
	ck_assert_uint_eq(ep->secrets[0].len, 24);
	ck_assert_uint_eq(ep->secrets[1].len, 32);
	ck_assert_int_eq(ep->tolerance, 60);
	ck_assert_ptr_null(config_endpoint(cfg, "s", 1));
	ck_assert_ptr_null(config_endpoint(cfg, "stripes", 7));
	config_free(cfg);
}
END_TEST

START_TEST(defaults)
{
	struct config *cfg = load_text("listen = [::1]:0\ndatabase = /x.db\n");

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->listen_host, "::1");
	ck_assert_uint_eq(cfg->listen_port, 0);
	ck_assert_str_eq(cfg->database, "/x.db");
	ck_assert_uint_eq(cfg->max_body, 262144);
	ck_assert_uint_eq(cfg->nendpoints, 0);
	config_free(cfg);
}
END_TEST

START_TEST(secret_readable_by_others)
{
	put("open.key", "whsec_0123456789abcdefghij", 0644);
	ck_assert_ptr_null(load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = open.key\n"));
	ck_assert_msg(strncmp(err, conf, strlen(conf)) == 0 &&
	    strncmp(err + strlen(conf), ":6: ", 4) == 0 &&
	    strstr(err, "group or others") != NULL, "got: %s", err);
	ck_assert_ptr_null(strstr(err, "0123456789"));
}
END_TEST

START_TEST(secret_group_readable)
{
	put("grp.key", "whsec_0123456789abcdefghij", 0640);
	ck_assert_ptr_null(load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = grp.key\n"));
	ck_assert_msg(strstr(err, ":6: ") != NULL, "got: %s", err);
}
END_TEST

START_TEST(secret_short_or_empty)
{
	put("short.key", "whsec_012345678", 0600);	/* 15 bytes */
	put("empty.key", "", 0600);
	ck_assert_ptr_null(load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = short.key\n"));
	ck_assert_msg(strstr(err, ":6: ") != NULL &&
	    strstr(err, "16 bytes") != NULL, "got: %s", err);
	ck_assert_ptr_null(load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n\n"
	    "secret_file = empty.key\n"));
	ck_assert_msg(strstr(err, ":7: ") != NULL, "got: %s", err);
}
END_TEST

START_TEST(secret_missing_file)
{
	ck_assert_ptr_null(load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = nope.key\n"));
	ck_assert_msg(strstr(err, ":6: ") != NULL, "got: %s", err);
}
END_TEST

START_TEST(malformed_lines)
{
	assert_err("listen = 127.0.0.1:1\ndatabase = d\nbogus = 1\n", 3,
	    "unknown key \"bogus\"");
	assert_err("listen 127.0.0.1:1\n", 1, "expected key = value");
	assert_err("listen =\n", 1, "missing value for listen");
	assert_err("= x\n", 1, "missing key before =");
	assert_err("listen = 127.0.0.1\n", 1, "listen must be host:port");
	assert_err("listen = 127.0.0.1:65536\n", 1,
	    "listen port must be a number from 0 to 65535");
	assert_err("listen = a:1\nlisten = a:2\n", 2, "listen is given twice");
	assert_err("max_body = 10k\n", 1,
	    "max_body must be a byte count from 1 to 16777216");
	assert_err("max_body = 0\n", 1,
	    "max_body must be a byte count from 1 to 16777216");
	assert_err("[server]\n", 1, "unknown section; expected [endpoint NAME] "
	    "or [tenant NAME]");
	assert_err("[tenant a]\nrequire_expectations = maybe\n", 2,
	    "require_expectations must be yes or no");
	assert_err("[tenant a]\ntimezone = UTC\nx = 1\n", 3,
	    "unknown key \"x\" in [tenant a]");
	assert_err("[tenant a]\ntimezone = Mars/Olympus_Mons\n", 2,
	    "timezone \"Mars/Olympus_Mons\" is not a known IANA zone "
	    "(install tzdata?)");
	assert_err("[tenant a]\ntimezone = ../../etc/passwd\n", 2,
	    "timezone \"../../etc/passwd\" is not a known IANA zone "
	    "(install tzdata?)");
	assert_err("[tenant a]\nrefund_spike_factor = 0\n", 2,
	    "refund_spike_factor must be a whole number from 1 to 100");
	assert_err("[tenant a]\nbaseline_days = 6\n", 2,
	    "baseline_days must be a whole number from 7 to 91");
	assert_err("alert_command = mail\n", 1, "alert_command must be an "
	    "absolute path to a program (it is run without a shell)");
	assert_err("alert_timeout = 0\n", 1,
	    "alert_timeout must be a whole number from 1 to 3600");
	assert_err("alert_timeout = 3601\n", 1,
	    "alert_timeout must be a whole number from 1 to 3600");
	assert_err("[tenant a]\nexceptions_threshold = -1\n", 2,
	    "exceptions_threshold must be a whole number from 0 to 1000000");
	assert_err("[tenant a]\nexceptions_threshold = 1\n"
	    "exceptions_threshold = 2\n", 3,
	    "exceptions_threshold is given twice");
	assert_err("[tenant a]\n[tenant a]\n", 2, "tenant a is defined twice");
	assert_err("[endpoint a\n", 1, "a section header must end with ]");
	assert_err("[endpoint a/b]\n", 1,
	    "endpoint name must be 1 to 64 of [A-Za-z0-9_-]");
	assert_err("database = d\n", 0, "listen is required (host:port)");
	assert_err("listen = a:1\n", 0, "database is required (a path)");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\n"
	    "scheme = paypal\n", 4,
	    "scheme must be standard-webhooks or stripe");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\n"
	    "tenant = t\nsecret_file = stripe.key\n", 5,
	    "scheme must come before secret_file");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\n"
	    "tenant = t\nscheme = stripe\n", 3,
	    "[endpoint a] needs at least one secret_file");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\n"
	    "scheme = stripe\nsecret_file = stripe.key\n", 3,
	    "[endpoint a] needs a tenant");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\n"
	    "tenant = t\nscheme = stripe\nsecret_file = stripe.key\n"
	    "tolerance = -1\n", 7, "tolerance must be from 1 to 86400 seconds");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\n"
	    "tenant = t\nscheme = stripe\nsecret_file = stripe.key\n"
	    "max_body = 5\n", 7, "unknown key \"max_body\" in [endpoint a]");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\ntenant = t\n"
	    "scheme = stripe\nsecret_file = stripe.key\n[endpoint a]\n", 7,
	    "endpoint a is defined twice");
	assert_err("listen = a:1\x01\n", 1, "control character in line");
}
END_TEST

START_TEST(long_line)
{
	char	text[CONFIG_MAX_LINE + 64];

	memset(text, '#', sizeof(text));
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_err(text, 1, "line longer than 1024 bytes");
}
END_TEST

START_TEST(missing_file)
{
	ck_assert_ptr_null(config_load("/nonexistent/hl.conf", 1, err,
	    sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/hl.conf: cannot open: "
	    "No such file or directory");
}
END_TEST

START_TEST(without_secrets)
{
	struct config *cfg;

	put("open.key", "whsec_0123456789abcdefghij", 0644);
	put("hl.conf", "listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = open.key\n", 0600);
	/* A command that needs only the database path reads no secret. */
	cfg = config_load(conf, 0, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_null(cfg->endpoints[0].secrets[0].key);
	config_free(cfg);
	config_free(NULL);
}
END_TEST

/* The buffer entry point is the file parser: relative paths against the
 * named folder, NULs and errors as in a file, secrets read when asked. */
START_TEST(parse_buffer)
{
	static const char text[] = "listen = 127.0.0.1:9\ndatabase = l.db\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = stripe.key\n";
	static const char nul[] = "listen = 127.0.0.1:9\ndata\0base = d\n";
	struct config	*cfg;
	char		 path[300], want[400];

	snprintf(path, sizeof(path), "%s/virtual.conf", dir);
	cfg = config_parse_buffer(path, text, sizeof(text) - 1, 1, err,
	    sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	snprintf(want, sizeof(want), "%s/l.db", dir);
	ck_assert_str_eq(cfg->database, want);
	ck_assert_uint_eq(cfg->listen_port, 9);
	ck_assert_uint_eq(cfg->endpoints[0].nsecrets, 1);
	ck_assert_uint_eq(cfg->endpoints[0].secrets[0].len, 26);
	config_free(cfg);

	/* Not NUL terminated: the length bounds the read. */
	ck_assert_ptr_null(config_parse_buffer(path, text, 20, 0, err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "%s: database is required (a path)",
	    path);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_null(config_parse_buffer(path, nul, sizeof(nul) - 1, 0,
	    err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_null(config_parse_buffer(path, "", 0, 0, err,
	    sizeof(err)));
	snprintf(want, sizeof(want), "%s: listen is required (host:port)",
	    path);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(credentials_directory)
{
	struct config	*cfg;
	char		 creds[400];

	snprintf(creds, sizeof(creds), "%s/creds", dir);
	ck_assert_int_eq(mkdir(creds, 0700), 0);
	put("creds/stripe.whsec", "whsec_from_systemd_credential", 0400);
	ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
	cfg = load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = stripe.whsec\n"
	    "secret_file = stripe.key\n");
	/* The bare name comes from the credentials; stripe.key is not there. */
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, ":7: ") != NULL, "got: %s", err);
	cfg = load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = stripe.whsec\n"
	    "secret_file = ./stripe.key\n");
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->endpoints[0].secrets[0].len, 29);
	ck_assert_int_eq(memcmp(cfg->endpoints[0].secrets[0].key,
	    "whsec_from_systemd_credential", 29), 0);
	ck_assert_uint_eq(cfg->endpoints[0].secrets[1].len, 26);
	config_free(cfg);
	unsetenv("CREDENTIALS_DIRECTORY");
}
END_TEST

START_TEST(tenants)
{
	struct config *cfg;

	cfg = load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "alert_command = /usr/local/bin/alert\nalert_timeout = 90\n"
	    "[tenant strict]\nrequire_expectations = yes\n"
	    "timezone = Europe/Berlin\nrefund_spike_factor = 4\n"
	    "refund_spike_min_count = 7\ndispute_spike_factor = 5\n"
	    "dispute_spike_min_count = 2\nbaseline_days = 56\n"
	    "exceptions_threshold = 3\n"
	    "[endpoint a]\ntenant = strict\nscheme = stripe\n"
	    "secret_file = stripe.key\n"
	    "[tenant lax]\nrequire_expectations = no\n");
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->ntenants, 2);
	ck_assert_int_eq(config_tenant(cfg, "strict")->require_expectations, 1);
	ck_assert_int_eq(config_tenant(cfg, "lax")->require_expectations, 0);
	ck_assert_str_eq(config_tenant(cfg, "strict")->timezone,
	    "Europe/Berlin");
	ck_assert_uint_eq(config_tenant(cfg, "strict")->refund_spike_factor, 4);
	ck_assert_uint_eq(config_tenant(cfg, "strict")->refund_spike_min_count,
	    7);
	ck_assert_uint_eq(config_tenant(cfg, "strict")->dispute_spike_factor,
	    5);
	ck_assert_uint_eq(config_tenant(cfg, "strict")->dispute_spike_min_count,
	    2);
	ck_assert_uint_eq(config_tenant(cfg, "strict")->baseline_days, 56);
	/* A section sets only what it names; the rest are the defaults. */
	ck_assert_str_eq(config_tenant(cfg, "lax")->timezone, "UTC");
	ck_assert_uint_eq(config_tenant(cfg, "lax")->refund_spike_factor, 3);
	ck_assert_uint_eq(config_tenant(cfg, "lax")->baseline_days, 28);
	ck_assert_uint_eq(config_tenant(cfg, "strict")->exceptions_threshold,
	    3);
	ck_assert_uint_eq(config_tenant(cfg, "lax")->exceptions_threshold, 0);
	ck_assert_str_eq(cfg->alert_command, "/usr/local/bin/alert");
	ck_assert_uint_eq(cfg->alert_timeout, 90);
	ck_assert_ptr_null(config_tenant(cfg, "other"));
	ck_assert_str_eq(cfg->endpoints[0].tenant, "strict");
	config_free(cfg);
}
END_TEST

START_TEST(limits)
{
	struct config			*cfg;
	const struct config_endpoint	*ep;

	/* The defaults, when nothing is said. */
	cfg = load_text("listen = 127.0.0.1:1\ndatabase = d\n");
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->max_header_bytes, 8192);
	ck_assert_uint_eq(cfg->max_headers, 64);
	ck_assert_uint_eq(cfg->connection_memory, 65536);
	ck_assert_uint_eq(cfg->timeout, 15);
	ck_assert_uint_eq(cfg->request_timeout, 30);
	ck_assert_uint_eq(cfg->max_connections, 1024);
	ck_assert_uint_eq(cfg->max_per_ip, 256);
	ck_assert_uint_eq(cfg->rate_per_ip, 1000);
	ck_assert_uint_eq(cfg->burst_per_ip, 2000);
	config_free(cfg);

	cfg = load_text("listen = 127.0.0.1:1\ndatabase = d\n"
	    "max_header_bytes = 4096\nmax_headers = 20\n"
	    "connection_memory = 16384\ntimeout = 5\nrequest_timeout = 9\n"
	    "rate_per_ip = 50\n"
	    "[endpoint a]\ntenant = t\nscheme = stripe\n"
	    "secret_file = stripe.key\nrate = 7\n"
	    "[endpoint b]\ntenant = t\nscheme = stripe\n"
	    "secret_file = stripe.key\nrate = 3\nburst = 1\n"
	    "[tenant t]\nburst = 40\nrate = 20\n"
	    "[tenant u]\nrate = 0\n");
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->max_header_bytes, 4096);
	ck_assert_uint_eq(cfg->max_headers, 20);
	ck_assert_uint_eq(cfg->connection_memory, 16384);
	ck_assert_uint_eq(cfg->timeout, 5);
	ck_assert_uint_eq(cfg->request_timeout, 9);
	/* A rate without a burst gets twice the rate. */
	ck_assert_uint_eq(cfg->rate_per_ip, 50);
	ck_assert_uint_eq(cfg->burst_per_ip, 100);
	ck_assert_ptr_nonnull(ep = config_endpoint(cfg, "a", 1));
	ck_assert_uint_eq(ep->rate, 7);
	ck_assert_uint_eq(ep->burst, 14);
	ck_assert_ptr_nonnull(ep = config_endpoint(cfg, "b", 1));
	ck_assert_uint_eq(ep->rate, 3);
	ck_assert_uint_eq(ep->burst, 1);
	ck_assert_uint_eq(config_tenant(cfg, "t")->rate, 20);
	ck_assert_uint_eq(config_tenant(cfg, "t")->burst, 40);
	ck_assert_uint_eq(config_tenant(cfg, "u")->rate, 0);
	ck_assert_uint_eq(config_tenant(cfg, "u")->burst, 0);
	config_free(cfg);

	/* rate_per_ip = 0 turns the per-address limit off. */
	cfg = load_text("listen = 127.0.0.1:1\ndatabase = d\nrate_per_ip = 0\n");
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->rate_per_ip, 0);
	ck_assert_uint_eq(cfg->burst_per_ip, 0);
	config_free(cfg);
}
END_TEST

START_TEST(limit_refusals)
{
	assert_err("max_header_bytes = 1023\n", 1,
	    "max_header_bytes must be from 1024 to 524288");
	assert_err("max_headers = 0\n", 1,
	    "max_headers must be a whole number from 1 to 1000");
	assert_err("max_headers = 1001\n", 1,
	    "max_headers must be a whole number from 1 to 1000");
	assert_err("connection_memory = 8192\n", 1,
	    "connection_memory must be from 16384 to 1048576 bytes");
	assert_err("request_timeout = 0\n", 1,
	    "request_timeout must be a whole number from 1 to 3600");
	assert_err("request_timeout = 3601\n", 1,
	    "request_timeout must be a whole number from 1 to 3600");
	assert_err("request_timeout = 5\nrequest_timeout = 5\n", 2,
	    "request_timeout is given twice");
	assert_err("rate_per_ip = 1000001\n", 1,
	    "rate_per_ip must be a whole number from 0 to 1000000");
	assert_err("rate_per_ip = 1.5\n", 1,
	    "rate_per_ip must be a whole number from 0 to 1000000");
	assert_err("burst_per_ip = 0\n", 1,
	    "burst_per_ip must be a whole number from 1 to 10000000");
	/* The line blamed is the one that breaks the rule. */
	assert_err("listen = a:1\ndatabase = d\nburst_per_ip = 5\n"
	    "rate_per_ip = 0\n", 3, "burst_per_ip needs rate_per_ip above 0");
	assert_err("listen = a:1\ndatabase = d\nmax_header_bytes = 9000\n"
	    "connection_memory = 16384\n", 4, "max_header_bytes (9000) must "
	    "be at most half of connection_memory (16384), which also holds "
	    "the parsed headers and the answer");
	assert_err("listen = a:1\ndatabase = d\nconnection_memory = 16384\n"
	    "max_header_bytes = 8193\n", 4, "max_header_bytes (8193) must "
	    "be at most half of connection_memory (16384), which also holds "
	    "the parsed headers and the answer");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\ntenant = t\n"
	    "scheme = stripe\nsecret_file = stripe.key\nburst = 3\n"
	    "[tenant t]\n", 7, "burst needs rate above 0");
	assert_err("listen = a:1\ndatabase = d\n[tenant t]\nburst = 3\n"
	    "rate = 0\n", 4, "burst needs rate above 0");
	assert_err("[tenant t]\nrate = -1\n", 2,
	    "rate must be a whole number from 0 to 1000000");
	assert_err("[tenant t]\nrate = 1\nrate = 2\n", 3,
	    "rate is given twice");
	assert_err("listen = a:1\ndatabase = d\n[endpoint a]\ntenant = t\n"
	    "scheme = stripe\nsecret_file = stripe.key\nburst = 0\n", 7,
	    "burst must be a whole number from 1 to 10000000");
}
END_TEST

START_TEST(names)
{
	ck_assert_int_eq(config_name_valid("stripe-live_1", 13), 1);
	ck_assert_int_eq(config_name_valid("", 0), 0);
	ck_assert_int_eq(config_name_valid("a.b", 3), 0);
	ck_assert_int_eq(config_name_valid("a%2f", 4), 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_config);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, secret_readable_by_others);
	tcase_add_test(tc, secret_group_readable);
	tcase_add_test(tc, secret_short_or_empty);
	tcase_add_test(tc, secret_missing_file);
	tcase_add_test(tc, malformed_lines);
	tcase_add_test(tc, long_line);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, without_secrets);
	tcase_add_test(tc, parse_buffer);
	tcase_add_test(tc, credentials_directory);
	tcase_add_test(tc, tenants);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, limit_refusals);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
