/*
 * cli.h: what the hookledger command's files share: its options and the
 * helpers that open what a subcommand needs. Private to the command.
 */
#ifndef HL_CLI_H
#define HL_CLI_H

#include <jansson.h>

#include "ledger.h"
#include "verify.h"

#define EXIT_TAMPERED		1
#define EXIT_USAGE		2
#define CLI_MAX_CHECKPOINTS	16

struct opts {
	const char	*db, *config, *tenant, *payment, *amount, *currency;
	const char	*scope, *at;
	const char	*date, *settlement, *out;
	const char	*checkpoints[CLI_MAX_CHECKPOINTS];
	size_t		 ncheckpoints;
	const char	*pubkey, *key, *origin, *name, *seq, *proof;
	const char	*old, *new;
	const char	*reason;
	const char	*arg;		/* one positional argument, if any */
	int		 json, list;
};

/* Parse argv (argv[0] is the subcommand). -1 after printing usage. */
int		 parse_opts(int argc, char **argv, struct opts *o);

/* --db or --config to a path the caller frees; NULL after a message. */
char		*database_path(const struct opts *o);

/* Open the database; NULL after a message. */
struct ledger	*open_db(const struct opts *o, enum ledger_mode mode,
		    char **pathp);

/* Print o indented; returns an exit status. */
int		 print_json(json_t *o);

/* The verify options for --checkpoint and --pubkey: every checkpoint's
 * signature is checked here. -1 after a message. */
int		 cli_verify_opts(const struct opts *o, struct verify_opts *vo);
void		 cli_verify_opts_free(struct verify_opts *vo);

/* The audit subcommands of cli_audit.c. */
int		 cli_audit_command(const char *cmd);
int		 cli_audit_run(const char *cmd, const struct opts *o);

/* The kill switch commands of cli_control.c: pause and resume. */
int		 cli_control_command(const char *cmd);
int		 cli_control_run(const char *cmd, const struct opts *o);

/* 0 when --tenant is a valid name; -1 after a message. */
int		 cli_need_tenant(const struct opts *o);

#endif
