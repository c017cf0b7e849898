/*
 * cli_help.c: the one table of the command's subcommands: their help text
 * and the options each accepts. `hookledger --help` prints the overview,
 * `hookledger CMD --help` that command's usage; a usage error is one
 * line pointing at the latter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define LEDGER	(CLI_BIT(CLI_DB) | CLI_BIT(CLI_CONFIG))
#define DB_OPTS \
	"  --db FILE        the ledger database (hookledgerd creates it)\n" \
	"  --config FILE    or: hookledgerd's config, for its database path\n"
#define CONFIG_TENANT \
	"                   (with --config: a tenant that config names)\n"
#define EXIT_IO		"  2  usage error, no such ledger, or I/O error\n"

static const char *const opt_names[CLI_NOPTS] = {
	"--db", "--config", "--tenant", "--payment", "--amount", "--currency",
	"--scope", "--at", "--json", "--date", "--settlement", "--out",
	"--checkpoint", "--pubkey", "--key", "--origin", "--name", "--seq",
	"--proof", "--old", "--new", "--reason", "--list", "--id", "FILE"
};

static const struct cli_command commands[] = {
	{ "verify", "(--db FILE | --config FILE) [--checkpoint FILE]... "
	    "[--pubkey FILE]",
	  "check every hash, the chain, the postings and the Merkle tree",
	  "Recompute every entry's hash, the chain, the postings and the Merkle\n"
	  "tree, read-only, and that every payment's postings are what its\n"
	  "facts make them. With checkpoints, also prove that the ledger\n"
	  "extends each. A zero-byte file is not a ledger (exit 2), but with\n"
	  "a checkpoint it is a ledger cut short (exit 1).\n\n"
	  DB_OPTS
	  "  --checkpoint FILE  a signed checkpoint (up to 16); needs --pubkey\n"
	  "  --pubkey FILE    the checkpoint signer's public key\n",
	  "  0  intact\n"
	  "  1  tampering found (the first bad entry or checkpoint is named)\n"
	  EXIT_IO,
	  LEDGER | CLI_BIT(CLI_CHECKPOINT) | CLI_BIT(CLI_PUBKEY) },
	{ "expect", "(--db FILE | --config FILE) --tenant T --payment REF "
	    "--amount N --currency XXX [--json]",
	  "register what a payment should be",
	  "Register what a payment should be, before the customer pays.\n\n"
	  DB_OPTS
	  "  --tenant T       the merchant\n"
	  CONFIG_TENANT
	  "  --payment REF    the provider's payment id, such as pi_...\n"
	  "  --amount N       minor units: 1050 is 10.50 USD\n"
	  "  --currency XXX   ISO 4217 code\n"
	  "  --json           print the API's JSON answer instead of a line\n",
	  "  0  registered, or already registered with the same values\n"
	  "  1  already registered with another amount or currency, or the\n"
	  "     payment's capture is already posted\n"
	  EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) | CLI_BIT(CLI_PAYMENT) |
	  CLI_BIT(CLI_AMOUNT) | CLI_BIT(CLI_CURRENCY) | CLI_BIT(CLI_JSON) },
	{ "token create", "(--db FILE | --config FILE) --tenant T "
	    "--scope payments:write|ledger:read",
	  "create an API token (printed once)",
	  "Create an API token for the merchant's backend. It is printed once\n"
	  "on stdout; only its SHA-256 is stored.\n\n"
	  DB_OPTS
	  "  --tenant T       the merchant\n"
	  CONFIG_TENANT
	  "  --scope S        payments:write (POST payments) or ledger:read\n",
	  "  0  created\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) | CLI_BIT(CLI_SCOPE) },
	{ "token list", "(--db FILE | --config FILE) [--tenant T] [--json]",
	  "list the API tokens, never their text",
	  "List the API tokens: id (the start of the token's SHA-256), tenant,\n"
	  "scope and creation time. A token's text is never stored or shown.\n\n"
	  DB_OPTS
	  "  --tenant T       only this merchant's tokens\n"
	  CONFIG_TENANT
	  "  --json           as a JSON array\n",
	  "  0  listed (maybe none)\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) | CLI_BIT(CLI_JSON) },
	{ "token revoke", "(--db FILE | --config FILE) --id ID",
	  "revoke an API token",
	  "Revoke a token: its row is deleted, and hookledgerd refuses it (401)\n"
	  "from its next request.\n\n"
	  DB_OPTS
	  "  --id ID          its id from token list (or more of its hash)\n",
	  "  0  revoked\n"
	  "  2  usage error, no token with that id, no such ledger, or I/O "
	  "error\n",
	  LEDGER | CLI_BIT(CLI_ID) },
	{ "balances", "(--db FILE | --config FILE) --tenant T [--at TIME] "
	    "[--json]",
	  "account balances from the postings",
	  "Every account's balance per currency, summed from the postings.\n\n"
	  DB_OPTS
	  "  --tenant T       the merchant\n"
	  CONFIG_TENANT
	  "  --at TIME        as of the event time TIME: Unix seconds or\n"
	  "                   YYYY-MM-DDTHH:MM:SSZ\n"
	  "  --json           as JSON\n",
	  "  0  printed\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) | CLI_BIT(CLI_AT) | CLI_BIT(CLI_JSON) },
	{ "exceptions", "(--db FILE | --config FILE) [--tenant T] [--json]",
	  "events that broke a rule, are not paid, or are parked",
	  "Events that broke a rule, captures that do not count as paid, and\n"
	  "events parked until their payment's capture arrives.\n\n"
	  DB_OPTS
	  "  --tenant T       only this merchant's\n"
	  CONFIG_TENANT
	  "  --json           as JSON\n",
	  "  0  printed (maybe none)\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) | CLI_BIT(CLI_JSON) },
	{ "keygen", "--out PREFIX [--name NAME]",
	  "make an Ed25519 checkpoint signing key",
	  "Write PREFIX.key (mode 0600, keep it secret) and PREFIX.pub (give\n"
	  "it to the auditors). Needs no database.\n\n"
	  "  --out PREFIX     where to write; existing files are not replaced\n"
	  "  --name NAME      the key's name (default hookledger)\n",
	  "  0  written\n  2  usage or I/O error, or the files exist\n",
	  CLI_BIT(CLI_OUT) | CLI_BIT(CLI_NAME) },
	{ "checkpoint", "(--db FILE | --config FILE) --key PREFIX.key "
	    "[--origin NAME]",
	  "verify, then sign the head as a checkpoint",
	  "Verify the ledger, then print its head signed as a C2SP checkpoint.\n\n"
	  DB_OPTS
	  "  --key FILE       the signing key from keygen\n"
	  "  --origin NAME    the checkpoint's origin (default: the key's name)\n",
	  "  0  signed\n  1  the ledger failed verification: nothing signed\n"
	  EXIT_IO,
	  LEDGER | CLI_BIT(CLI_KEY) | CLI_BIT(CLI_ORIGIN) },
	{ "prove", "(--db FILE | --config FILE) --seq N --checkpoint FILE "
	    "[--pubkey FILE]",
	  "an inclusion proof of one entry, as JSON",
	  "Print an inclusion proof of entry N under the checkpoint as JSON.\n\n"
	  DB_OPTS
	  "  --seq N          the entry, 1 to the checkpoint's size\n"
	  "  --checkpoint FILE  the signed checkpoint\n"
	  "  --pubkey FILE    also check the checkpoint's signature\n",
	  "  0  printed\n"
	  "  1  the ledger does not have the checkpoint's tree, or (with\n"
	  "     --pubkey) the checkpoint's signature is bad\n"
	  "  2  usage error (an entry beyond the ledger or the checkpoint\n"
	  "     included), no such ledger, or I/O error\n",
	  LEDGER | CLI_BIT(CLI_SEQ) | CLI_BIT(CLI_CHECKPOINT) |
	  CLI_BIT(CLI_PUBKEY) },
	{ "check-proof", "--proof FILE --pubkey FILE",
	  "check an inclusion proof offline",
	  "Check a proof from prove without the database.\n\n"
	  "  --proof FILE     the proof\n"
	  "  --pubkey FILE    the checkpoint signer's public key\n",
	  "  0  valid\n  1  invalid\n  2  usage or I/O error\n",
	  CLI_BIT(CLI_PROOF) | CLI_BIT(CLI_PUBKEY) },
	{ "consistency", "(--db FILE | --config FILE) --old FILE --new FILE "
	    "--pubkey FILE",
	  "prove that a newer checkpoint extends an older",
	  "Build the consistency proof between two checkpoints from the ledger\n"
	  "and check it; the proof is printed as JSON.\n\n"
	  DB_OPTS
	  "  --old FILE       the older checkpoint\n"
	  "  --new FILE       the newer checkpoint\n"
	  "  --pubkey FILE    their signer's public key\n",
	  "  0  the newer extends the older\n"
	  "  1  it does not (a fork, or old and new swapped), or a bad "
	  "signature\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_OLD) | CLI_BIT(CLI_NEW) | CLI_BIT(CLI_PUBKEY) },
	{ "export", "(--db FILE | --config FILE) [--out FILE]",
	  "the entries as JSON Lines, with leaf hashes",
	  "Write every entry as one JSON object per line, with its leaf hash.\n\n"
	  DB_OPTS
	  "  --out FILE       a new file instead of stdout\n",
	  "  0  written\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_OUT) },
	{ "verify-export", "FILE [--checkpoint FILE]... [--pubkey FILE]",
	  "verify an export without SQLite",
	  "Verify an export as verify does a ledger. Needs no database.\n\n"
	  "  FILE             the export\n"
	  "  --checkpoint FILE  a signed checkpoint (up to 16); needs --pubkey\n"
	  "  --pubkey FILE    the checkpoint signer's public key\n",
	  "  0  intact\n  1  tampered (the line is named)\n"
	  "  2  usage or I/O error\n",
	  CLI_BIT(CLI_ARG) | CLI_BIT(CLI_CHECKPOINT) | CLI_BIT(CLI_PUBKEY) },
	{ "reconcile", "(--db FILE | --config FILE) [--date YYYY-MM-DD] "
	    "[--tenant T] [--settlement FILE] [--out DIR] [--json]",
	  "the nightly report (docs/reconcile.md)",
	  "Verify the ledger, then report the day per tenant and currency.\n\n"
	  DB_OPTS
	  "  --date DAY       the day (default: yesterday)\n"
	  "  --tenant T       only this merchant\n"
	  CONFIG_TENANT
	  "  --settlement FILE  the provider's file to match; needs --tenant\n"
	  "  --out DIR        write JSON, text and HTML reports there\n"
	  "  --json           print the JSON report\n",
	  "  0  clean\n  1  the ledger failed verification\n" EXIT_IO
	  "  3  something was flagged\n"
	  "  4  something was flagged and the alert was not delivered\n",
	  LEDGER | CLI_BIT(CLI_DATE) | CLI_BIT(CLI_TENANT) |
	  CLI_BIT(CLI_SETTLEMENT) | CLI_BIT(CLI_OUT) | CLI_BIT(CLI_JSON) },
	{ "pause", "(--db FILE | --config FILE) [--tenant T] [--reason TEXT] "
	    "| --list [--json]",
	  "the kill switch: hookledgerd answers 503 paused",
	  "Within a second, hookledgerd answers the tenant's deliveries and API\n"
	  "writes 503 \"paused\" (every tenant's without --tenant).\n\n"
	  DB_OPTS
	  "  --tenant T       the merchant to pause\n"
	  CONFIG_TENANT
	  "  --reason TEXT    why, up to 200 printable ASCII characters\n"
	  "  --list           show the pauses instead\n"
	  "  --json           with --list: as JSON\n",
	  "  0  paused, or listed\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) | CLI_BIT(CLI_REASON) |
	  CLI_BIT(CLI_LIST) | CLI_BIT(CLI_JSON) },
	{ "resume", "(--db FILE | --config FILE) [--tenant T]",
	  "lift a pause",
	  "Lift the tenant's pause (without --tenant: the every-tenant pause;\n"
	  "tenants paused on their own stay paused).\n\n"
	  DB_OPTS
	  "  --tenant T       the merchant to resume\n"
	  CONFIG_TENANT,
	  "  0  resumed, or it was not paused\n" EXIT_IO,
	  LEDGER | CLI_BIT(CLI_TENANT) },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

const struct cli_command *
cli_command_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

const char *
cli_opt_name(enum cli_opt opt)
{
	return opt < CLI_NOPTS ? opt_names[opt] : "?";
}

void
cli_help_overview(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hookledger COMMAND [OPTIONS]\n\n"
	    "The operator's, the merchant's and the auditor's command for a\n"
	    "hookledgerd ledger. Commands:\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].about);
	fprintf(f, "\nRun hookledger COMMAND --help for its options and exit "
	    "statuses.\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n");
}

void
cli_help_command(FILE *f, const struct cli_command *c)
{
	fprintf(f, "usage: hookledger %s %s\n\n%s\nExit status:\n%s", c->name,
	    c->synopsis, c->text, c->exits);
}

int
cli_usage(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hookledger %s: ", o->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see hookledger %s --help)\n", o->cmd);
	return EXIT_USAGE;
}

void
cli_error(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hookledger %s: ", o->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}
