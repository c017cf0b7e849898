/*
 * cli_audit.c: the auditor's and the merchant's proof commands: keygen,
 * checkpoint, prove, check-proof, consistency, export, verify-export.
 * Those that need no database open none.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "digest.h"
#include "merkle.h"
#include "note.h"
#include "proof.h"

#define FILE_MAX	(4 * 1024 * 1024)	/* a proof or checkpoint file */

static const char *const audit_commands[] = { "keygen", "checkpoint",
    "prove", "check-proof", "consistency", "export", "verify-export", NULL };

int
cli_audit_command(const char *cmd)
{
	size_t i;

	for (i = 0; audit_commands[i] != NULL; i++)
		if (strcmp(cmd, audit_commands[i]) == 0)
			return 1;
	return 0;
}

/* Read a whole small file into a malloc'd NUL-terminated buffer. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "hookledger: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(FILE_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	fclose(f);
	if (n > FILE_MAX) {
		fprintf(stderr, "hookledger: %s: larger than %d bytes\n", path,
		    FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
load_verifier(const struct opts *o, struct note_verifier *v)
{
	char err[300];

	if (o->pubkey == NULL) {
		cli_usage(o, "--pubkey FILE is required to check a "
		    "signature");
		return -1;
	}
	if (note_verifier_load(o->pubkey, v, err, sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		return -1;
	}
	return 0;
}

/* Read and verify the signed checkpoint in path; its text in *text. */
static int
open_checkpoint(const char *path, const struct note_verifier *v,
    struct note_checkpoint *cp, char **text, int *tampered)
{
	char	 err[300];
	size_t	 len;

	*tampered = 0;
	if ((*text = slurp(path, &len)) == NULL)
		return -1;
	if (note_open_checkpoint(*text, len, v, cp, err, sizeof(err)) == -1) {
		printf("BAD CHECKPOINT: %s: %s\n", path, err);
		free(*text);
		*text = NULL;
		*tampered = 1;
		return -1;
	}
	return 0;
}

int
cli_verify_opts(const struct opts *o, struct verify_opts *vo)
{
	struct note_verifier	 v;
	struct note_checkpoint	 cp;
	struct verify_checkpoint *cps;
	char			*text;
	size_t			 i;
	int			 tampered;

	memset(vo, 0, sizeof(*vo));
	if (o->ncheckpoints == 0)
		return 0;
	if (load_verifier(o, &v) == -1)
		return -1;
	if ((cps = calloc(o->ncheckpoints, sizeof(*cps))) == NULL)
		return -1;
	for (i = 0; i < o->ncheckpoints; i++) {
		if (open_checkpoint(o->checkpoints[i], &v, &cp, &text,
		    &tampered) == -1) {
			free(cps);
			/* A bad signature is evidence, not a usage error. */
			return tampered ? -2 : -1;
		}
		free(text);
		cps[i].size = cp.size;
		memcpy(cps[i].root, cp.root, sizeof(cp.root));
		cps[i].label = o->checkpoints[i];
	}
	vo->checkpoints = cps;
	vo->ncheckpoints = o->ncheckpoints;
	return 0;
}

void
cli_verify_opts_free(struct verify_opts *vo)
{
	free((void *)(uintptr_t)vo->checkpoints);
	vo->checkpoints = NULL;
}

static int
cmd_keygen(const struct opts *o)
{
	char err[300];

	if (o->out == NULL) {
		return cli_usage(o, "--out is required");
	}
	if (note_keygen(o->name != NULL ? o->name : "hookledger", o->out, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_USAGE;
	}
	printf("wrote %s.key (keep it secret, mode 0600) and %s.pub (give it "
	    "to the auditors)\n", o->out, o->out);
	return EXIT_SUCCESS;
}

static int
cmd_checkpoint(const struct opts *o)
{
	struct note_signer	 s;
	struct note_checkpoint	 cp;
	struct verify_report	 rep;
	struct ledger		*lg;
	char			 err[300], note[NOTE_MAX];
	size_t			 len;
	enum verify_result	 r;

	memset(&s, 0, sizeof(s));
	if (o->key == NULL) {
		return cli_usage(o, "--key is required");
	}
	if (note_signer_load(o->key, &s, err, sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_USAGE;
	}
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL) {
		note_signer_free(&s);
		return EXIT_USAGE;
	}
	/* Never sign what does not verify. */
	r = verify_ledger(lg, &rep);
	ledger_close(lg);
	if (r != VERIFY_OK) {
		printf("%s: %s\nnot signed\n", r == VERIFY_TAMPERED ?
		    "TAMPERED" : "ERROR", rep.problem);
		note_signer_free(&s);
		return r == VERIFY_TAMPERED ? EXIT_TAMPERED : EXIT_USAGE;
	}
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", o->origin != NULL ?
	    o->origin : s.name);
	cp.size = (uint64_t)rep.entries;
	memcpy(cp.root, rep.root, sizeof(cp.root));
	if (note_sign_checkpoint(&s, &cp, note, sizeof(note), &len, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		note_signer_free(&s);
		return EXIT_USAGE;
	}
	note_signer_free(&s);
	fwrite(note, 1, len, stdout);
	return EXIT_SUCCESS;
}

/* The number of entries, or -1. */
static int64_t
ledger_size(struct ledger *lg)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if (sqlite3_prepare_v2(ledger_db(lg), "SELECT coalesce(max(seq), 0) "
	    "FROM ledger", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
cmd_prove(const struct opts *o)
{
	struct note_checkpoint	 cp;
	struct note_verifier	 v;
	struct ledger		*lg;
	json_t			*p;
	char			*text, err[300], *end;
	long long		 seq;
	int64_t			 size;
	size_t			 len;
	int			 rc;

	if (o->seq == NULL)
		return cli_usage(o, "--seq is required");
	if (o->ncheckpoints != 1)
		return cli_usage(o, "one --checkpoint is required");
	errno = 0;
	seq = strtoll(o->seq, &end, 10);
	if (*o->seq == '\0' || *end != '\0' || errno != 0 || seq < 1)
		return cli_usage(o, "--seq must be an entry number");
	if ((text = slurp(o->checkpoints[0], &len)) == NULL)
		return EXIT_USAGE;
	/* The proof carries the checkpoint; its signature is checked by
	 * whoever checks the proof. Parse it with its own key, if given. */
	if (o->pubkey != NULL) {
		if (load_verifier(o, &v) == -1 || note_open_checkpoint(text, len,
		    &v, &cp, err, sizeof(err)) == -1) {
			fprintf(stderr, "hookledger: %s: %s\n",
			    o->checkpoints[0], err);
			free(text);
			return EXIT_TAMPERED;
		}
	} else if (note_parse_checkpoint(text, len, &cp, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "hookledger: %s: %s\n", o->checkpoints[0], err);
		free(text);
		return EXIT_USAGE;
	}
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL) {
		free(text);
		return EXIT_USAGE;
	}
	/* An entry the ledger or the checkpoint does not have yet is a
	 * question asked too early, not evidence of tampering. */
	if ((size = ledger_size(lg)) < 0 || seq > size || (uint64_t)seq >
	    cp.size) {
		if (size < 0)
			cli_error(o, "cannot read the ledger's size: %s",
			    sqlite3_errmsg(ledger_db(lg)));
		else if (seq > size)
			cli_usage(o, "--seq %lld: the ledger has %lld entr%s", seq,
			    (long long)size, size == 1 ? "y" : "ies");
		else
			cli_usage(o, "--seq %lld: the checkpoint covers %" PRIu64
			    " entr%s; sign a newer one", seq, cp.size,
			    cp.size == 1 ? "y" : "ies");
		ledger_close(lg);
		free(text);
		return EXIT_USAGE;
	}
	p = proof_inclusion(lg, seq, &cp, text, err, sizeof(err));
	ledger_close(lg);
	free(text);
	if (p == NULL) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_TAMPERED;
	}
	rc = print_json(p);
	json_decref(p);
	return rc;
}

static json_t *
load_json(const char *path)
{
	json_error_t	 je;
	json_t		*j;
	char		*text;
	size_t		 len;

	if ((text = slurp(path, &len)) == NULL)
		return NULL;
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (j == NULL)
		fprintf(stderr, "hookledger: %s:%d: %s\n", path, je.line,
		    je.text);
	return j;
}

static int
cmd_check_proof(const struct opts *o)
{
	struct note_verifier	 v;
	json_t			*p;
	char			 err[300];
	int			 rc;

	if (o->proof == NULL) {
		return cli_usage(o, "--proof is required");
	}
	if (load_verifier(o, &v) == -1 || (p = load_json(o->proof)) == NULL)
		return EXIT_USAGE;
	rc = proof_check_inclusion(p, &v, err, sizeof(err));
	if (rc == 0)
		printf("ok: entry %" JSON_INTEGER_FORMAT " is in the tree of %"
		    JSON_INTEGER_FORMAT " entries signed by %s\n",
		    json_integer_value(json_object_get(json_object_get(p,
		    "entry"), "seq")), json_integer_value(json_object_get(p,
		    "tree_size")), v.name);
	else
		printf("INVALID: %s\n", err);
	json_decref(p);
	return rc == 0 ? EXIT_SUCCESS : EXIT_TAMPERED;
}

static int
cmd_consistency(const struct opts *o)
{
	struct note_verifier	 v;
	struct note_checkpoint	 oc, nc;
	struct ledger		*lg;
	json_t			*p;
	char			*ot = NULL, *nt = NULL, err[300];
	int			 tampered, rc = EXIT_USAGE;

	if (o->old == NULL || o->new == NULL) {
		return cli_usage(o, "--old and --new are required");
	}
	if (load_verifier(o, &v) == -1)
		return EXIT_USAGE;
	if (open_checkpoint(o->old, &v, &oc, &ot, &tampered) == -1 ||
	    open_checkpoint(o->new, &v, &nc, &nt, &tampered) == -1) {
		rc = tampered ? EXIT_TAMPERED : EXIT_USAGE;
		goto out;
	}
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL)
		goto out;
	p = proof_consistency(lg, &oc, &nc, err, sizeof(err));
	ledger_close(lg);
	if (p == NULL) {
		printf("INCONSISTENT: %s\n", err);
		rc = EXIT_TAMPERED;
		goto out;
	}
	if (proof_check_consistency(p, &oc, &nc, err, sizeof(err)) == -1) {
		printf("INCONSISTENT: %s\n", err);
		rc = EXIT_TAMPERED;
	} else {
		print_json(p);
		fprintf(stderr, "ok: the checkpoint of %" PRIu64 " entries "
		    "extends the one of %" PRIu64 "\n", nc.size, oc.size);
		rc = EXIT_SUCCESS;
	}
	json_decref(p);
out:
	free(ot);
	free(nt);
	return rc;
}

static int
cmd_export(const struct opts *o)
{
	struct ledger	*lg;
	FILE		*f = stdout;
	char		 err[300];
	int		 rc;

	if (o->out != NULL && (f = fopen(o->out, "wxe")) == NULL) {
		fprintf(stderr, "hookledger: %s: %s\n", o->out,
		    strerror(errno));
		return EXIT_USAGE;
	}
	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL) {
		if (f != stdout)
			fclose(f);
		return EXIT_USAGE;
	}
	/* One read transaction: the export is one consistent snapshot. */
	sqlite3_exec(ledger_db(lg), "BEGIN", NULL, NULL, NULL);
	rc = proof_export(lg, f, err, sizeof(err));
	sqlite3_exec(ledger_db(lg), "COMMIT", NULL, NULL, NULL);
	ledger_close(lg);
	if (f != stdout && fclose(f) != 0)
		rc = -1;
	if (rc == -1) {
		fprintf(stderr, "hookledger: %s\n", err);
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}

static int
cmd_verify_export(const struct opts *o)
{
	struct verify_opts	 vo;
	struct verify_report	 rep;
	enum verify_result	 r;
	char			 hex[65];
	FILE			*f;
	int			 rc;

	if (o->arg == NULL) {
		return cli_usage(o, "the export FILE is required");
	}
	if ((rc = cli_verify_opts(o, &vo)) < 0)
		return rc == -2 ? EXIT_TAMPERED : EXIT_USAGE;
	if ((f = fopen(o->arg, "re")) == NULL) {
		fprintf(stderr, "hookledger: %s: %s\n", o->arg, strerror(errno));
		cli_verify_opts_free(&vo);
		return EXIT_USAGE;
	}
	r = proof_verify_export(f, &vo, &rep);
	fclose(f);
	cli_verify_opts_free(&vo);
	if (r == VERIFY_OK) {
		digest_hex(rep.head_hash, 32, hex);
		printf("ok: %" PRId64 " entries, head seq %" PRId64 ", head hash "
		    "%s", rep.entries, rep.head_seq, hex);
		digest_hex(rep.root, 32, hex);
		printf(", tree root %s\n", hex);
		return EXIT_SUCCESS;
	}
	if (r == VERIFY_TAMPERED)
		printf("TAMPERED: %s: %s\n", o->arg, rep.problem);
	else
		fprintf(stderr, "hookledger: %s: %s\n", o->arg, rep.problem);
	return r == VERIFY_TAMPERED ? EXIT_TAMPERED : EXIT_USAGE;
}

int
cli_audit_run(const char *cmd, const struct opts *o)
{
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(o);
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(o);
	if (strcmp(cmd, "prove") == 0)
		return cmd_prove(o);
	if (strcmp(cmd, "check-proof") == 0)
		return cmd_check_proof(o);
	if (strcmp(cmd, "consistency") == 0)
		return cmd_consistency(o);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(o);
	return cmd_verify_export(o);
}
