/*
 * hookledger: the operator's, the merchant's and the auditor's command.
 *
 * It links no HTTP code, and every subcommand opens only what it needs:
 * verify, balances and exceptions open the database read-only; expect and
 * token open it read-write for one transaction. None reads a secret.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "alert.h"
#include "balances.h"
#include "config.h"
#include "currency.h"
#include "digest.h"
#include "event.h"
#include "ledger.h"
#include "reconcile.h"
#include "report.h"
#include "verify.h"
#include "cli.h"

int
parse_opts(int argc, char **argv, const struct cli_command *c,
    struct opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, CLI_DB },
		{ "config", required_argument, NULL, CLI_CONFIG },
		{ "tenant", required_argument, NULL, CLI_TENANT },
		{ "payment", required_argument, NULL, CLI_PAYMENT },
		{ "amount", required_argument, NULL, CLI_AMOUNT },
		{ "currency", required_argument, NULL, CLI_CURRENCY },
		{ "scope", required_argument, NULL, CLI_SCOPE },
		{ "at", required_argument, NULL, CLI_AT },
		{ "json", no_argument, NULL, CLI_JSON },
		{ "date", required_argument, NULL, CLI_DATE },
		{ "settlement", required_argument, NULL, CLI_SETTLEMENT },
		{ "out", required_argument, NULL, CLI_OUT },
		{ "checkpoint", required_argument, NULL, CLI_CHECKPOINT },
		{ "pubkey", required_argument, NULL, CLI_PUBKEY },
		{ "key", required_argument, NULL, CLI_KEY },
		{ "origin", required_argument, NULL, CLI_ORIGIN },
		{ "name", required_argument, NULL, CLI_NAME },
		{ "seq", required_argument, NULL, CLI_SEQ },
		{ "proof", required_argument, NULL, CLI_PROOF },
		{ "old", required_argument, NULL, CLI_OLD },
		{ "new", required_argument, NULL, CLI_NEW },
		{ "reason", required_argument, NULL, CLI_REASON },
		{ "list", no_argument, NULL, CLI_LIST },
		{ "id", required_argument, NULL, CLI_ID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, i;

	memset(o, 0, sizeof(*o));
	o->cmd = c->name;
	optind = 1;
	opterr = 0;	/* our own one-line messages */
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch >= 0 && ch < CLI_NOPTS && ch != CLI_CHECKPOINT &&
		    (o->seen & CLI_BIT(ch)))
			return cli_usage(o, "%s is given twice",
			    cli_opt_name(ch)), -1;
		if (ch >= 0 && ch < CLI_NOPTS)
			o->seen |= CLI_BIT(ch);
		switch (ch) {
		case CLI_DB: o->db = optarg; break;
		case CLI_CONFIG: o->config = optarg; break;
		case CLI_TENANT: o->tenant = optarg; break;
		case CLI_PAYMENT: o->payment = optarg; break;
		case CLI_AMOUNT: o->amount = optarg; break;
		case CLI_CURRENCY: o->currency = optarg; break;
		case CLI_SCOPE: o->scope = optarg; break;
		case CLI_AT: o->at = optarg; break;
		case CLI_JSON: o->json = 1; break;
		case CLI_DATE: o->date = optarg; break;
		case CLI_SETTLEMENT: o->settlement = optarg; break;
		case CLI_OUT: o->out = optarg; break;
		case CLI_CHECKPOINT:
			if (o->ncheckpoints == CLI_MAX_CHECKPOINTS)
				return cli_usage(o, "at most %d --checkpoint",
				    CLI_MAX_CHECKPOINTS), -1;
			o->checkpoints[o->ncheckpoints++] = optarg;
			break;
		case CLI_PUBKEY: o->pubkey = optarg; break;
		case CLI_KEY: o->key = optarg; break;
		case CLI_ORIGIN: o->origin = optarg; break;
		case CLI_NAME: o->name = optarg; break;
		case CLI_SEQ: o->seq = optarg; break;
		case CLI_PROOF: o->proof = optarg; break;
		case CLI_OLD: o->old = optarg; break;
		case CLI_NEW: o->new = optarg; break;
		case CLI_REASON: o->reason = optarg; break;
		case CLI_LIST: o->list = 1; break;
		case CLI_ID: o->id = optarg; break;
		case 'h':
			cli_help_command(stdout, c);
			exit(EXIT_SUCCESS);
		case ':':
			return cli_usage(o, "%.64s needs a value",
			    argv[optind - 1]), -1;
		default:
			return cli_usage(o, "unknown option %.64s",
			    argv[optind - 1]), -1;
		}
	}
	/* One positional argument is allowed (verify-export's FILE). */
	if (optind < argc && (c->allowed & CLI_BIT(CLI_ARG))) {
		o->arg = argv[optind++];
		o->seen |= CLI_BIT(CLI_ARG);
	}
	if (optind != argc)
		return cli_usage(o, "unexpected argument \"%.64s\"",
		    argv[optind]), -1;
	for (i = 0; i < CLI_NOPTS; i++)
		if ((o->seen & CLI_BIT(i)) && !(c->allowed & CLI_BIT(i)))
			return cli_usage(o, "%s does not apply to %s",
			    cli_opt_name(i), c->name), -1;
	return 0;
}

/* 1 when tenant is named by an [endpoint] or a [tenant] section. */
static int
config_knows(const struct config *cfg, const char *tenant)
{
	size_t i;

	for (i = 0; i < cfg->nendpoints; i++)
		if (strcmp(cfg->endpoints[i].tenant, tenant) == 0)
			return 1;
	return config_tenant(cfg, tenant) != NULL;
}

char *
database_path(const struct opts *o)
{
	struct config	*cfg;
	char		 err[512], *path;

	if ((o->db == NULL) == (o->config == NULL)) {
		cli_usage(o, "give exactly one of --db FILE or --config FILE");
		return NULL;
	}
	if (o->db != NULL)
		return strdup(o->db);
	if ((cfg = config_load(o->config, 0, err, sizeof(err))) == NULL) {
		cli_error(o, "%s", err);
		return NULL;
	}
	/* A config lists the tenants: a typo must not pause, or hand out a
	 * token for, a tenant that receives nothing. */
	if (o->tenant != NULL && !config_knows(cfg, o->tenant)) {
		cli_error(o, "tenant %s is not in %s: no [endpoint] or [tenant] "
		    "section names it", o->tenant, o->config);
		config_free(cfg);
		return NULL;
	}
	path = strdup(cfg->database);
	config_free(cfg);
	return path;
}

struct ledger *
open_db(const struct opts *o, enum ledger_mode mode, char **pathp)
{
	struct ledger	*lg;
	char		*path, err[512];

	if ((path = database_path(o)) == NULL)
		return NULL;
	if ((lg = ledger_open(path, mode, err, sizeof(err))) == NULL)
		cli_error(o, "%s", err);
	if (pathp != NULL && lg != NULL)
		*pathp = path;
	else
		free(path);
	return lg;
}

int
cli_need_tenant(const struct opts *o)
{
	if (o->tenant == NULL)
		return cli_usage(o, "--tenant is required"), -1;
	if (!config_name_valid(o->tenant, strlen(o->tenant)))
		return cli_usage(o, "--tenant must be 1 to %d of "
		    "[A-Za-z0-9_-]", CONFIG_NAME_MAX), -1;
	return 0;
}

static void
verify_progress(void *cls, int64_t done, int64_t total)
{
	(void)cls;
	fprintf(stderr, "\rverify: %" PRId64 " of %" PRId64 " entries (%d%%)",
	    done, total, total > 0 ? (int)(100 * done / total) : 100);
}

/* 1 when path is a zero-byte regular file with no write-ahead log
 * holding its pages. */
static int
empty_file(const char *path)
{
	struct stat	 st;
	char		 wal[4096];

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size != 0)
		return 0;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return 0;
	return stat(wal, &st) == -1 || st.st_size == 0;
}

/* A zero-byte file is not a ledger (2), unless a signed checkpoint says
 * the ledger had entries: then it was cut to nothing (1). Frees path. */
static int
verify_empty(const struct opts *o, char *path)
{
	struct verify_opts	 vo;
	int			 rc;

	if (o->ncheckpoints == 0) {
		fprintf(stderr, "hookledger verify: %s: the file is empty: not "
		    "a ledger\n", path);
		free(path);
		return EXIT_USAGE;
	}
	if ((rc = cli_verify_opts(o, &vo)) < 0) {
		free(path);
		return rc == -2 ? EXIT_TAMPERED : EXIT_USAGE;
	}
	printf("TAMPERED: %s: the file is empty, but checkpoint %s has %"
	    PRIu64 " entries: the ledger was cut short\n", path,
	    vo.checkpoints[0].label, vo.checkpoints[0].size);
	cli_verify_opts_free(&vo);
	free(path);
	return EXIT_TAMPERED;
}

static int
cmd_verify(const struct opts *o)
{
	int			 rc;
	struct verify_opts	 vo;
	struct verify_report	 rep;
	struct ledger		*lg;
	char			*path, err[512];
	char			 hex[2 * DIGEST_SHA256_LEN + 1];
	enum verify_result	 r;

	if ((path = database_path(o)) == NULL)
		return EXIT_USAGE;
	if (empty_file(path))
		return verify_empty(o, path);
	if ((lg = ledger_open(path, LEDGER_READ_ONLY, err, sizeof(err))) ==
	    NULL) {
		if (verify_open_failure(path, &rep) == VERIFY_TAMPERED) {
			printf("TAMPERED: %s: %s\n", path, rep.problem);
			free(path);
			return EXIT_TAMPERED;
		}
		fprintf(stderr, "hookledger verify: %s\n", err);
		free(path);
		return EXIT_USAGE;
	}
	if ((rc = cli_verify_opts(o, &vo)) < 0) {
		ledger_close(lg);
		free(path);
		/* A checkpoint with a bad signature is evidence: exit 1. */
		return rc == -2 ? EXIT_TAMPERED : EXIT_USAGE;
	}
	/* Progress for a person watching; nothing for a pipe or cron. */
	if (isatty(STDERR_FILENO))
		vo.progress = verify_progress;
	r = verify_ledger_with(lg, &vo, &rep);
	if (vo.progress != NULL)
		fprintf(stderr, "\n");
	cli_verify_opts_free(&vo);
	ledger_close(lg);
	switch (r) {
	case VERIFY_OK:
		digest_hex(rep.head_hash, sizeof(rep.head_hash), hex);
		printf("ok: %" PRId64 " entries, head seq %" PRId64
		    ", head hash %s", rep.entries, rep.head_seq, hex);
		if (o->ncheckpoints > 0) {
			digest_hex(rep.root, sizeof(rep.root), hex);
			printf(", tree root %s, extends %zu checkpoint%s", hex,
			    o->ncheckpoints, o->ncheckpoints == 1 ? "" : "s");
		}
		printf("\n");
		break;
	case VERIFY_TAMPERED:
		printf("TAMPERED: %s: %s\n", path, rep.problem);
		break;
	case VERIFY_ERROR:
		fprintf(stderr, "hookledger verify: %s: %s\n", path,
		    rep.problem);
		break;
	}
	free(path);
	return r == VERIFY_OK ? EXIT_SUCCESS : r == VERIFY_TAMPERED ?
	    EXIT_TAMPERED : EXIT_USAGE;
}

/* A decimal integer in minor units, 1 .. the currency's maximum. */
static int
parse_amount(const char *s, const struct currency *c, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0' || strlen(s) > 16)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > currency_max_amount(c))
		return -1;
	*out = v;
	return 0;
}

/* "2000 USD (20.00)": minor units, and major units for people. */
static void
format_amount(char *buf, size_t cap, int64_t v, const struct currency *c)
{
	char	frac[8];
	int64_t	p = 1, r;
	int	e, n;

	n = c->exponent < (int)sizeof(frac) ? c->exponent : 0;
	for (e = 0; e < n; e++)
		p *= 10;
	frac[n] = '\0';
	for (r = v % p, e = n - 1; e >= 0; e--, r /= 10)
		frac[e] = (char)('0' + r % 10);
	if (n > 0)
		snprintf(buf, cap, "%" PRId64 " %s (%" PRId64 ".%s)", v, c->code,
		    v / p, frac);
	else
		snprintf(buf, cap, "%" PRId64 " %s", v, c->code);
}

/* The conflict, said with the values already registered. */
static void
expect_conflict(sqlite3 *db, const struct opts *o,
    const struct ledger_expectation *x)
{
	static const char	 sql[] = "SELECT amount, currency FROM "
	    "expectations WHERE tenant = ?1 AND payment_ref = ?2";
	sqlite3_stmt		*st = NULL;
	const char		*cur;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, x->tenant, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_bind_text(st, 2, x->payment_ref, -1,
	    SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    (cur = (const char *)sqlite3_column_text(st, 1)) != NULL)
		cli_error(o, "payment %s of tenant %s is already expected as "
		    "%" PRId64 " %.3s, not %" PRId64 " %s; an expectation cannot "
		    "be changed", x->payment_ref, x->tenant,
		    (int64_t)sqlite3_column_int64(st, 0), cur, x->amount,
		    x->currency);
	else
		cli_error(o, "payment %s of tenant %s is already expected with "
		    "another amount or currency", x->payment_ref, x->tenant);
	sqlite3_finalize(st);
}

static int
cmd_expect(const struct opts *o)
{
	struct ledger_expectation	 x;
	struct ledger_outcome		 out;
	const struct currency		*c;
	struct ledger			*lg;
	char				 amount[64];

	if (cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->payment == NULL)
		return cli_usage(o, "--payment is required");
	if (!event_id_valid(o->payment, strlen(o->payment)))
		return cli_usage(o, "--payment must be 1 to %d of "
		    "[A-Za-z0-9_.:-]", EVENT_ID_MAX);
	if (o->currency == NULL || (c = currency_lookup(o->currency,
	    strlen(o->currency))) == NULL)
		return cli_usage(o, "--currency must be an ISO 4217 code such "
		    "as USD");
	memset(&x, 0, sizeof(x));
	if (o->amount == NULL || parse_amount(o->amount, c, &x.amount) == -1)
		return cli_usage(o, "--amount must be a whole number of minor "
		    "units from 1 to %" PRId64 " for %s",
		    currency_max_amount(c), c->code);
	x.tenant = o->tenant;
	x.payment_ref = o->payment;
	memcpy(x.currency, c->code, sizeof(x.currency));
	if ((lg = open_db(o, LEDGER_READ_WRITE_EXISTING, NULL)) == NULL)
		return EXIT_USAGE;
	ledger_expect(lg, NULL, &x, (int64_t)time(NULL), &out);
	if (out.status == 409 && !o->json && strstr(out.response,
	    "\"payment_already_captured\"") != NULL)
		cli_error(o, "payment %s of tenant %s is already captured; an "
		    "expectation must be registered before the capture",
		    x.payment_ref, x.tenant);
	else if (out.status == 409 && !o->json)
		expect_conflict(ledger_db(lg), o, &x);
	ledger_close(lg);
	if (o->json && (out.status < 300 || out.status == 409))
		printf("%s\n", out.response);
	else if (out.status < 300) {
		format_amount(amount, sizeof(amount), x.amount, c);
		printf("%s: payment %s of tenant %s is expected as %s\n",
		    out.status == 201 ? "registered" : "already registered",
		    x.payment_ref, x.tenant, amount);
	} else if (out.status != 409)
		cli_error(o, "cannot store the expectation (the ledger is busy "
		    "or unwritable)");
	return out.status < 300 ? EXIT_SUCCESS : out.status == 409 ?
	    EXIT_TAMPERED : EXIT_USAGE;
}

/* Unix seconds, or YYYY-MM-DDTHH:MM:SSZ. */
static int
parse_time(const char *s, int64_t *out)
{
	struct tm	 tm;
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && v >= 0) {
		*out = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int
print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s == NULL)
		return EXIT_USAGE;
	printf("%s\n", s);
	free(s);
	return EXIT_SUCCESS;
}

static int
cmd_balances(const struct opts *o)
{
	struct ledger	*lg;
	json_t		*r, *b;
	int64_t		 at = BALANCES_NOW;
	char		 err[512];
	size_t		 i;
	int		 rc;

	if (cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->at != NULL && parse_time(o->at, &at) == -1) {
		return cli_usage(o, "--at must be Unix seconds or "
		    "YYYY-MM-DDTHH:MM:SSZ");
	}
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL)
		return EXIT_USAGE;
	r = balances_query(ledger_db(lg), o->tenant, at, err, sizeof(err));
	ledger_close(lg);
	if (r == NULL) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->json)
		rc = print_json(r);
	else {
		printf("%-8s %-18s %20s\n", "currency", "account", "balance");
		json_array_foreach(json_object_get(r, "balances"), i, b) {
			const struct currency *c = currency_lookup(
			    json_string_value(json_object_get(b, "currency")), 3);
			json_int_t v = json_integer_value(json_object_get(b,
			    "balance"));
			long long p = 1;
			int e;

			for (e = 0; c != NULL && e < c->exponent; e++)
				p *= 10;
			/* Minor units, and the same in major units for
			 * people; the ledger itself never divides. */
			printf("%-8s %-18s %20lld  (%s%lld",
			    json_string_value(json_object_get(b, "currency")),
			    json_string_value(json_object_get(b, "account")),
			    (long long)v, v < 0 ? "-" : "",
			    (long long)(v < 0 ? -v : v) / p);
			if (c != NULL && c->exponent > 0)
				printf(".%0*lld", c->exponent,
				    (long long)(v < 0 ? -v : v) % p);
			printf(")\n");
		}
		rc = EXIT_SUCCESS;
	}
	json_decref(r);
	return rc;
}

static int
cmd_exceptions(const struct opts *o)
{
	struct ledger	*lg;
	json_t		*r, *x;
	char		 err[512];
	size_t		 i;
	int		 rc = EXIT_SUCCESS;

	if (o->tenant != NULL && cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL)
		return EXIT_USAGE;
	r = exceptions_query(ledger_db(lg), o->tenant, 100000, err,
	    sizeof(err));
	ledger_close(lg);
	if (r == NULL) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_USAGE;
	}
	if (o->json)
		rc = print_json(r);
	else {
		for (i = 0; i < json_array_size(json_object_get(r,
		    "exceptions")); i++) {
			x = json_array_get(json_object_get(r, "exceptions"), i);
			printf("%s  %-12s %-24s %-28s %-28s %s\n",
			    json_string_value(json_object_get(x, "recorded_at")),
			    json_string_value(json_object_get(x, "tenant")),
			    json_string_value(json_object_get(x, "reason")),
			    json_string_value(json_object_get(x, "payment_ref")),
			    json_string_value(json_object_get(x, "event_id")),
			    json_is_true(json_object_get(x, "posted")) ?
			    "posted to suspense" : "posted nothing");
		}
		for (i = 0; i < json_array_size(json_object_get(r, "parked"));
		    i++) {
			x = json_array_get(json_object_get(r, "parked"), i);
			printf("%s  %-12s %-24s %-28s %-28s %s\n",
			    json_string_value(json_object_get(x, "received_at")),
			    json_string_value(json_object_get(x, "tenant")),
			    "parked",
			    json_string_value(json_object_get(x, "payment_ref")),
			    json_string_value(json_object_get(x, "event_id")),
			    "waiting for its capture");
		}
	}
	json_decref(r);
	return rc;
}

#define EXIT_FLAGGED	3
#define EXIT_ALERT	4	/* flagged, and the alert was not delivered */

static int
cmd_reconcile(const struct opts *o)
{
	struct reconcile_opts	 ro;
	struct verify_report	 rep;
	struct config		*cfg = NULL;
	struct ledger		*lg = NULL;
	json_t			*report = NULL;
	char			*path = NULL, err[512], html[1024], *text;
	int			 rc = EXIT_USAGE;
	int64_t			 from, to;

	if (o->tenant != NULL && cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->settlement != NULL && o->tenant == NULL) {
		return cli_usage(o, "--settlement needs --tenant: a "
		    "settlement file belongs to one merchant");
	}
	if (o->date != NULL && reconcile_day_window("UTC", o->date, &from,
	    &to) == -1) {
		return cli_usage(o, "--date must be a real calendar "
		    "date, YYYY-MM-DD");
	}
	if (o->config != NULL && (cfg = config_load(o->config, 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if ((path = database_path(o)) == NULL)
		goto out;
	if ((lg = ledger_open(path, LEDGER_READ_ONLY, err, sizeof(err))) ==
	    NULL) {
		if (verify_open_failure(path, &rep) == VERIFY_TAMPERED) {
			printf("TAMPERED: %s: %s\n", path, rep.problem);
			rc = EXIT_TAMPERED;
		} else
			fprintf(stderr, "hookledger: %s\n", err);
		goto out;
	}
	/* A tampered ledger is never reconciled: its numbers mean nothing. */
	switch (verify_ledger(lg, &rep)) {
	case VERIFY_OK:
		break;
	case VERIFY_TAMPERED:
		printf("TAMPERED: %s: %s\nnot reconciled: the ledger failed "
		    "verification\n", path, rep.problem);
		rc = EXIT_TAMPERED;
		goto out;
	default:
		fprintf(stderr, "hookledger: %s: %s\n", path, rep.problem);
		goto out;
	}
	memset(&ro, 0, sizeof(ro));
	ro.date = o->date;
	ro.tenant = o->tenant;
	ro.settlement = o->settlement;
	ro.cfg = cfg;
	ro.now = (int64_t)time(NULL);
	if ((report = reconcile_run(ledger_db(lg), &ro, &rep, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "hookledger: %s\n", err);
		goto out;
	}
	if (o->json)
		print_json(report);
	else if ((text = report_text(report)) != NULL) {
		fputs(text, stdout);
		free(text);
	}
	if (o->out != NULL && mkdir(o->out, 0750) == -1 && errno != EEXIST) {
		fprintf(stderr, "hookledger: %s: %s\n", o->out,
		    strerror(errno));
		goto out;
	}
	if (o->out != NULL && report_write(report, o->out, html,
	    sizeof(html), err, sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		goto out;
	}
	rc = json_is_true(json_object_get(report, "flagged")) ? EXIT_FLAGGED :
	    EXIT_SUCCESS;
	if (rc == EXIT_FLAGGED && cfg != NULL && cfg->alert_command != NULL &&
	    alert_run(cfg->alert_command, cfg->alert_timeout, report,
	    o->out != NULL ? html : NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		rc = EXIT_ALERT;
	}
out:
	json_decref(report);
	ledger_close(lg);
	config_free(cfg);
	free(path);
	return rc;
}

/* `hookledger token --help`: the three token commands. */
static void
token_help(void)
{
	static const char *const sub[] = { "token create", "token list",
	    "token revoke" };
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (i > 0)
			printf("\n");
		cli_help_command(stdout, cli_command_find(sub[i]));
	}
}

static int
is_help(const char *s)
{
	return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0;
}

static int
run(int argc, char **argv)
{
	const struct cli_command	*c;
	struct opts			 o;
	char				 name[32];
	int				 words = 1;

	if (argc < 2) {
		fprintf(stderr, "hookledger: a command is required (see "
		    "hookledger --help)\n");
		return EXIT_USAGE;
	}
	if (is_help(argv[1]) || (strcmp(argv[1], "help") == 0 && argc == 2)) {
		cli_help_overview(stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("hookledger %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	/* hookledger help CMD [SUB] is hookledger CMD [SUB] --help. */
	if (strcmp(argv[1], "help") == 0) {
		snprintf(name, sizeof(name), "%.12s%s%.12s", argv[2],
		    argc > 3 ? " " : "", argc > 3 ? argv[3] : "");
		if (strcmp(name, "token") == 0) {
			token_help();
			return EXIT_SUCCESS;
		}
		if ((c = cli_command_find(name)) == NULL) {
			fprintf(stderr, "hookledger: unknown command \"%.32s\" "
			    "(see hookledger --help)\n", name);
			return EXIT_USAGE;
		}
		cli_help_command(stdout, c);
		return EXIT_SUCCESS;
	}
	if (strcmp(argv[1], "token") == 0) {
		if (argc > 2 && is_help(argv[2])) {
			token_help();
			return EXIT_SUCCESS;
		}
		if (argc < 3 || (strcmp(argv[2], "create") != 0 &&
		    strcmp(argv[2], "list") != 0 &&
		    strcmp(argv[2], "revoke") != 0)) {
			fprintf(stderr, "hookledger token: expected create, "
			    "list or revoke (see hookledger token --help)\n");
			return EXIT_USAGE;
		}
		snprintf(name, sizeof(name), "token %s", argv[2]);
		words = 2;
	} else
		snprintf(name, sizeof(name), "%.31s", argv[1]);
	if ((c = cli_command_find(name)) == NULL) {
		fprintf(stderr, "hookledger: unknown command \"%.32s\" (see "
		    "hookledger --help)\n", argv[1]);
		return EXIT_USAGE;
	}
	if (parse_opts(argc - words, argv + words, c, &o) == -1)
		return EXIT_USAGE;
	if (sodium_init() < 0 || digest_init() == -1) {
		fprintf(stderr, "hookledger: cannot initialise the crypto "
		    "libraries\n");
		return EXIT_USAGE;
	}
	if (strcmp(c->name, "token create") == 0)
		return cli_token_create(&o);
	if (strcmp(c->name, "token list") == 0)
		return cli_token_list(&o);
	if (strcmp(c->name, "token revoke") == 0)
		return cli_token_revoke(&o);
	if (cli_control_command(c->name))
		return cli_control_run(c->name, &o);
	if (cli_audit_command(c->name))
		return cli_audit_run(c->name, &o);
	if (strcmp(c->name, "verify") == 0)
		return cmd_verify(&o);
	if (strcmp(c->name, "expect") == 0)
		return cmd_expect(&o);
	if (strcmp(c->name, "balances") == 0)
		return cmd_balances(&o);
	if (strcmp(c->name, "reconcile") == 0)
		return cmd_reconcile(&o);
	return cmd_exceptions(&o);
}

int
main(int argc, char **argv)
{
	int	 rc = run(argc, argv);

	/*
	 * What went to standard output (an export, a checkpoint, a proof, a
	 * token) went through a buffer: a write error (a full disk under
	 * `> file`) shows only now, and must not end in success.
	 */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "hookledger: standard output: %s\n",
		    errno != 0 ? strerror(errno) : "write error");
		if (rc == EXIT_SUCCESS)
			rc = EXIT_USAGE;
	}
	return rc;
}
