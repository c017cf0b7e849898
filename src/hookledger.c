/*
 * hookledger: the operator's and the auditor's command.
 *
 * It links no HTTP code, and every subcommand opens only what it needs:
 * verify opens the database read-only and never reads a secret.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "digest.h"
#include "ledger.h"
#include "verify.h"

#define EXIT_TAMPERED	1
#define EXIT_USAGE	2

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hookledger COMMAND [OPTIONS]\n"
	    "\n"
	    "Commands:\n"
	    "  verify  (--db FILE | --config FILE)\n"
	    "          Recompute every entry's hash and the chain, read-only.\n"
	    "          Exit 0 when intact, 1 when tampering is found (the first\n"
	    "          bad entry is named), 2 on a usage or I/O error.\n"
	    "\n"
	    "Options:\n"
	    "  --db FILE      the ledger database\n"
	    "  --config FILE  read the database path from hookledgerd's config\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n");
}

/* Resolve --db or --config to a database path the caller must free. */
static char *
database_path(const char *db, const char *conf)
{
	struct config	*cfg;
	char		 err[512], *path;

	if ((db == NULL) == (conf == NULL)) {
		fprintf(stderr, "hookledger: give exactly one of --db FILE "
		    "or --config FILE\n");
		return NULL;
	}
	if (db != NULL)
		return strdup(db);
	if ((cfg = config_load(conf, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	path = strdup(cfg->database);
	config_free(cfg);
	return path;
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct verify_report	 rep;
	struct ledger		*lg;
	const char		*db = NULL, *conf = NULL;
	char			*path, err[512];
	char			 hex[2 * DIGEST_SHA256_LEN + 1];
	enum verify_result	 r;
	int			 ch;

	while ((ch = getopt_long(argc, argv, "d:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((path = database_path(db, conf)) == NULL)
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
	r = verify_ledger(lg, &rep);
	ledger_close(lg);
	switch (r) {
	case VERIFY_OK:
		digest_hex(rep.head_hash, sizeof(rep.head_hash), hex);
		printf("ok: %" PRId64 " entries, head seq %" PRId64
		    ", head hash %s\n", rep.entries, rep.head_seq, hex);
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

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("hookledger %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (sodium_init() < 0 || digest_init() == -1) {
		fprintf(stderr, "hookledger: cannot initialise the crypto "
		    "libraries\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	fprintf(stderr, "hookledger: unknown command \"%.32s\"\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
