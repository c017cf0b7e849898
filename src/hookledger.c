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

#include "balances.h"
#include "config.h"
#include "currency.h"
#include "digest.h"
#include "event.h"
#include "ledger.h"
#include "reconcile.h"
#include "report.h"
#include "token.h"
#include "verify.h"
#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hookledger COMMAND (--db FILE | --config FILE) [OPTIONS]\n"
	    "\n"
	    "Commands:\n"
	    "  verify        Recompute every entry's hash, the chain and the\n"
	    "                postings, read-only. Exit 0 intact, 1 tampering\n"
	    "                found (the first bad entry is named), 2 usage or\n"
	    "                I/O error.\n"
	    "  expect        --tenant T --payment REF --amount N --currency XXX\n"
	    "                Register what a payment should be (N in minor\n"
	    "                units: 1050 is 10.50 USD). Exit 1 when it is\n"
	    "                already expected with other values.\n"
	    "  token create  --tenant T --scope payments:write|ledger:read\n"
	    "                Create an API token; it is printed once.\n"
	    "  balances      --tenant T [--at TIME] [--json]\n"
	    "                Account balances from the postings; TIME is Unix\n"
	    "                seconds or YYYY-MM-DDTHH:MM:SSZ (event time).\n"
	    "  exceptions    [--tenant T] [--json]\n"
	    "                Events that broke a rule or are not paid.\n"
	    "  verify        [--checkpoint FILE]... [--pubkey FILE] also proves\n"
	    "                that the ledger extends each signed checkpoint.\n"
	    "  keygen        --out PREFIX [--name NAME]   (no --db)\n"
	    "                Write PREFIX.key (0600) and PREFIX.pub (Ed25519).\n"
	    "  checkpoint    --key PREFIX.key [--origin NAME]\n"
	    "                Verify, then sign the head as a checkpoint (stdout).\n"
	    "  prove         --seq N --checkpoint FILE\n"
	    "                An inclusion proof of entry N, as JSON.\n"
	    "  check-proof   --proof FILE --pubkey FILE   (no --db)\n"
	    "  consistency   --old FILE --new FILE --pubkey FILE\n"
	    "                Prove and check that one checkpoint extends another.\n"
	    "  export        [--out FILE]  Entries as JSON Lines, with leaf hashes.\n"
	    "  verify-export FILE [--checkpoint FILE]... [--pubkey FILE]\n"
	    "                Verify an export without SQLite.   (no --db)\n"
	    "  reconcile     [--date YYYY-MM-DD] [--tenant T] [--settlement FILE]\n"
	    "                [--out DIR]\n"
	    "                The nightly report (docs/reconcile.md): verifies the\n"
	    "                ledger first. Exit 0 clean, 3 something flagged,\n"
	    "                1 the ledger failed verification, 2 usage or I/O.\n"
	    "\n"
	    "Options:\n"
	    "  --db FILE      the ledger database\n"
	    "  --config FILE  read the database path from hookledgerd's config\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n");
}


int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "tenant", required_argument, NULL, 't' },
		{ "payment", required_argument, NULL, 'p' },
		{ "amount", required_argument, NULL, 'a' },
		{ "currency", required_argument, NULL, 'u' },
		{ "scope", required_argument, NULL, 's' },
		{ "at", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "date", required_argument, NULL, 'D' },
		{ "settlement", required_argument, NULL, 'S' },
		{ "out", required_argument, NULL, 'O' },
		{ "checkpoint", required_argument, NULL, 'K' },
		{ "pubkey", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "origin", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' },
		{ "seq", required_argument, NULL, 'q' },
		{ "proof", required_argument, NULL, 'f' },
		{ "old", required_argument, NULL, 'o' },
		{ "new", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->db = optarg; break;
		case 'c': o->config = optarg; break;
		case 't': o->tenant = optarg; break;
		case 'p': o->payment = optarg; break;
		case 'a': o->amount = optarg; break;
		case 'u': o->currency = optarg; break;
		case 's': o->scope = optarg; break;
		case 'T': o->at = optarg; break;
		case 'j': o->json = 1; break;
		case 'D': o->date = optarg; break;
		case 'S': o->settlement = optarg; break;
		case 'O': o->out = optarg; break;
		case 'K':
			if (o->ncheckpoints == CLI_MAX_CHECKPOINTS) {
				fprintf(stderr, "hookledger: at most %d "
				    "--checkpoint\n", CLI_MAX_CHECKPOINTS);
				return -1;
			}
			o->checkpoints[o->ncheckpoints++] = optarg;
			break;
		case 'P': o->pubkey = optarg; break;
		case 'k': o->key = optarg; break;
		case 'g': o->origin = optarg; break;
		case 'n': o->name = optarg; break;
		case 'q': o->seq = optarg; break;
		case 'f': o->proof = optarg; break;
		case 'o': o->old = optarg; break;
		case 'N': o->new = optarg; break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return -1;
		}
	}
	/* One positional argument is allowed (verify-export's FILE). */
	if (optind < argc)
		o->arg = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "hookledger: unexpected argument \"%.64s\"\n",
		    argv[optind]);
		return -1;
	}
	return 0;
}

char *
database_path(const struct opts *o)
{
	struct config	*cfg;
	char		 err[512], *path;

	if ((o->db == NULL) == (o->config == NULL)) {
		fprintf(stderr, "hookledger: give exactly one of --db FILE "
		    "or --config FILE\n");
		return NULL;
	}
	if (o->db != NULL)
		return strdup(o->db);
	if ((cfg = config_load(o->config, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
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
		fprintf(stderr, "hookledger: %s\n", err);
	if (pathp != NULL && lg != NULL)
		*pathp = path;
	else
		free(path);
	return lg;
}

static int
need_tenant(const struct opts *o)
{
	if (o->tenant == NULL || !config_name_valid(o->tenant,
	    strlen(o->tenant))) {
		fprintf(stderr, "hookledger: --tenant must be 1 to %d of "
		    "[A-Za-z0-9_-]\n", CONFIG_NAME_MAX);
		return -1;
	}
	return 0;
}

static void
verify_progress(void *cls, int64_t done, int64_t total)
{
	(void)cls;
	fprintf(stderr, "\rverify: %" PRId64 " of %" PRId64 " entries (%d%%)",
	    done, total, total > 0 ? (int)(100 * done / total) : 100);
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

static int
cmd_expect(const struct opts *o)
{
	struct ledger_expectation	 x;
	struct ledger_outcome		 out;
	const struct currency		*c;
	struct ledger			*lg;

	if (need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->payment == NULL || !event_id_valid(o->payment,
	    strlen(o->payment))) {
		fprintf(stderr, "hookledger: --payment must be 1 to %d of "
		    "[A-Za-z0-9_.:-]\n", EVENT_ID_MAX);
		return EXIT_USAGE;
	}
	if (o->currency == NULL || (c = currency_lookup(o->currency,
	    strlen(o->currency))) == NULL) {
		fprintf(stderr, "hookledger: --currency must be an ISO 4217 "
		    "code such as USD\n");
		return EXIT_USAGE;
	}
	memset(&x, 0, sizeof(x));
	if (o->amount == NULL || parse_amount(o->amount, c, &x.amount) == -1) {
		fprintf(stderr, "hookledger: --amount must be a whole number "
		    "of minor units from 1 to %" PRId64 " for %s\n",
		    currency_max_amount(c), c->code);
		return EXIT_USAGE;
	}
	x.tenant = o->tenant;
	x.payment_ref = o->payment;
	memcpy(x.currency, c->code, sizeof(x.currency));
	if ((lg = open_db(o, LEDGER_READ_WRITE, NULL)) == NULL)
		return EXIT_USAGE;
	ledger_expect(lg, NULL, &x, (int64_t)time(NULL), &out);
	ledger_close(lg);
	if (out.status >= 300) {
		fprintf(stderr, "hookledger: %s\n", out.response);
		return out.status == 409 ? EXIT_TAMPERED : EXIT_USAGE;
	}
	printf("%s\n", out.response);
	return EXIT_SUCCESS;
}

static int
cmd_token(int argc, char **argv)
{
	struct opts		 o;
	struct ledger		*lg;
	enum token_scope	 scope;
	char			 tok[TOKEN_TEXT_MAX], err[256];
	int			 rc;

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "usage: hookledger token create --tenant T "
		    "--scope payments:write|ledger:read (--db FILE | "
		    "--config FILE)\n");
		return EXIT_USAGE;
	}
	if (parse_opts(argc - 1, argv + 1, &o) == -1 || need_tenant(&o) == -1)
		return EXIT_USAGE;
	if (o.scope == NULL || (scope = token_scope_parse(o.scope)) == 0) {
		fprintf(stderr, "hookledger: --scope must be payments:write "
		    "or ledger:read\n");
		return EXIT_USAGE;
	}
	if ((lg = open_db(&o, LEDGER_READ_WRITE, NULL)) == NULL)
		return EXIT_USAGE;
	rc = token_create(ledger_db(lg), o.tenant, scope, tok, err,
	    sizeof(err));
	ledger_close(lg);
	if (rc == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_USAGE;
	}
	printf("%s\n", tok);
	fflush(stdout);
	sodium_memzero(tok, sizeof(tok));
	fprintf(stderr, "hookledger: token for tenant %s with scope %s; it is "
	    "shown only this once\n", o.tenant, o.scope);
	return EXIT_SUCCESS;
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

	if (need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->at != NULL && parse_time(o->at, &at) == -1) {
		fprintf(stderr, "hookledger: --at must be Unix seconds or "
		    "YYYY-MM-DDTHH:MM:SSZ\n");
		return EXIT_USAGE;
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

	if (o->tenant != NULL && need_tenant(o) == -1)
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
	}
	json_decref(r);
	return rc;
}

#define EXIT_FLAGGED	3

/* Run the operator's alert program with the report's path; no shell. */
static void
run_alert(const char *cmd, const char *path)
{
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "hookledger: cannot run %s: fork failed\n", cmd);
		return;
	}
	if (pid == 0) {
		execl(cmd, cmd, path, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fprintf(stderr, "hookledger: alert command %s failed\n", cmd);
}

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

	if (o->tenant != NULL && need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->settlement != NULL && o->tenant == NULL) {
		fprintf(stderr, "hookledger: --settlement needs --tenant: a "
		    "settlement file belongs to one merchant\n");
		return EXIT_USAGE;
	}
	if (o->date != NULL && reconcile_day_window("UTC", o->date, &from,
	    &to) == -1) {
		fprintf(stderr, "hookledger: --date must be a real calendar "
		    "date, YYYY-MM-DD\n");
		return EXIT_USAGE;
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
	if (rc == EXIT_FLAGGED && cfg != NULL && cfg->alert_command != NULL) {
		fflush(stdout);
		if (o->out != NULL)
			run_alert(cfg->alert_command, html);
		else
			fprintf(stderr, "hookledger: alert_command needs --out "
			    "DIR for a report to pass it\n");
	}
out:
	json_decref(report);
	ledger_close(lg);
	config_free(cfg);
	free(path);
	return rc;
}

static int
run(int argc, char **argv)
{
	struct opts	 o;
	const char	*cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("hookledger %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (sodium_init() < 0 || digest_init() == -1) {
		fprintf(stderr, "hookledger: cannot initialise the crypto "
		    "libraries\n");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (cli_audit_command(cmd)) {
		if (parse_opts(argc - 1, argv + 1, &o) == -1)
			return EXIT_USAGE;
		if (o.arg != NULL && strcmp(cmd, "verify-export") != 0)
			goto stray;
		return cli_audit_run(cmd, &o);
	}
	if (strcmp(cmd, "verify") != 0 && strcmp(cmd, "expect") != 0 &&
	    strcmp(cmd, "balances") != 0 && strcmp(cmd, "exceptions") != 0 &&
	    strcmp(cmd, "reconcile") != 0) {
		fprintf(stderr, "hookledger: unknown command \"%.32s\"\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (parse_opts(argc - 1, argv + 1, &o) == -1)
		return EXIT_USAGE;
	if (o.arg != NULL)
		goto stray;
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(&o);
	if (strcmp(cmd, "expect") == 0)
		return cmd_expect(&o);
	if (strcmp(cmd, "balances") == 0)
		return cmd_balances(&o);
	if (strcmp(cmd, "reconcile") == 0)
		return cmd_reconcile(&o);
	return cmd_exceptions(&o);
stray:
	fprintf(stderr, "hookledger: unexpected argument \"%.64s\"\n", o.arg);
	return EXIT_USAGE;
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
