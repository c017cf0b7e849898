/*
 * cli.h: what the hookledger command's files share: its options and the
 * helpers that open what a subcommand needs. Private to the command.
 */
#ifndef HL_CLI_H
#define HL_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "ledger.h"
#include "verify.h"

#define EXIT_TAMPERED		1
#define EXIT_USAGE		2
#define CLI_MAX_CHECKPOINTS	16

/* The options, one bit each: what a command was given (opts.seen) and
 * what it accepts (cli_command.allowed). */
enum cli_opt {
	CLI_DB, CLI_CONFIG, CLI_TENANT, CLI_PAYMENT, CLI_AMOUNT, CLI_CURRENCY,
	CLI_SCOPE, CLI_AT, CLI_JSON, CLI_DATE, CLI_SETTLEMENT, CLI_OUT,
	CLI_CHECKPOINT, CLI_PUBKEY, CLI_KEY, CLI_ORIGIN, CLI_NAME, CLI_SEQ,
	CLI_PROOF, CLI_OLD, CLI_NEW, CLI_REASON, CLI_LIST, CLI_ID, CLI_ARG,
	CLI_NOPTS
};
#define CLI_BIT(o)	(1UL << (o))

/* One subcommand: its help and the options it accepts. */
struct cli_command {
	const char	*name;		/* "verify", "token create" */
	const char	*synopsis;	/* what follows the name */
	const char	*about;		/* one line, for the overview */
	const char	*text;		/* what it does, and its options */
	const char	*exits;		/* its exit statuses */
	unsigned long	 allowed;	/* CLI_BIT()s */
};

struct opts {
	const char	*cmd;		/* the subcommand, for messages */
	unsigned long	 seen;		/* CLI_BIT()s given */
	const char	*id;
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

/* Parse argv (argv[0] is the last word of the subcommand c) and refuse
 * what c does not accept. -1 after a usage line. */
int		 parse_opts(int argc, char **argv, const struct cli_command *c,
		    struct opts *o);

/* The command called name ("token create"), or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* Print the overview of every command, or one command's usage. */
void		 cli_help_overview(FILE *f);
void		 cli_help_command(FILE *f, const struct cli_command *c);

/* Print "hookledger CMD: MESSAGE (see hookledger CMD --help)" on stderr
 * for o's command; returns EXIT_USAGE. */
int		 cli_usage(const struct opts *o, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* The name of option opt, such as "--tenant". */
const char	*cli_opt_name(enum cli_opt opt);

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

/* 0 when --tenant is given and a valid name; -1 after a usage line. */
int		 cli_need_tenant(const struct opts *o);

/* Print "hookledger CMD: " and the formatted line on stderr. */
void		 cli_error(const struct opts *o, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* The token subcommands of cli_token.c: create, list, revoke. */
int		 cli_token_create(const struct opts *o);
int		 cli_token_list(const struct opts *o);
int		 cli_token_revoke(const struct opts *o);

#endif
