/*
 * cli_control.c: the kill switch, `hookledger pause` and `resume`.
 *
 * Each opens the database read-write for one statement in the pauses
 * table; the running daemon notices within a second (pause.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "pause.h"

int
cli_control_command(const char *cmd)
{
	return strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0;
}

static int
list(const struct opts *o)
{
	struct ledger	*lg;
	json_t		*a, *p;
	char		 err[256], when[32];
	struct tm	 tm;
	time_t		 t;
	size_t		 i;
	int		 rc = EXIT_SUCCESS;

	if ((lg = open_db(o, LEDGER_READ_ONLY, NULL)) == NULL)
		return EXIT_USAGE;
	a = pause_list(ledger_db(lg), err, sizeof(err));
	ledger_close(lg);
	if (a == NULL) {
		cli_error(o, "%s", err);
		return EXIT_USAGE;
	}
	if (o->json)
		rc = print_json(a);
	else if (json_array_size(a) == 0)
		printf("no pauses: hookledgerd accepts every tenant's "
		    "deliveries\n");
	else
		json_array_foreach(a, i, p) {
			t = (time_t)json_integer_value(json_object_get(p,
			    "paused_at"));
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			printf("%-20s paused since %s  %s\n",
			    strcmp(json_string_value(json_object_get(p,
			    "tenant")), PAUSE_ALL) == 0 ? "(all tenants)" :
			    json_string_value(json_object_get(p, "tenant")),
			    when, json_string_value(json_object_get(p,
			    "reason")));
		}
	json_decref(a);
	return rc;
}

/* The tenants still paused on their own, for the message after the
 * every-tenant pause is lifted. */
static void
print_remaining(sqlite3 *db)
{
	json_t		*a, *p;
	char		 err[256];
	size_t		 i;
	const char	*t;

	if ((a = pause_list(db, err, sizeof(err))) == NULL)
		return;
	json_array_foreach(a, i, p) {
		t = json_string_value(json_object_get(p, "tenant"));
		if (strcmp(t, PAUSE_ALL) != 0)
			printf("tenant %s stays paused: hookledger resume "
			    "--tenant %s\n", t, t);
	}
	json_decref(a);
}

static int
pause_or_resume(const char *cmd, const struct opts *o)
{
	struct ledger	*lg;
	json_t		*a;
	char		 err[256];
	int		 rc, all_paused = 0;

	if ((lg = open_db(o, LEDGER_READ_WRITE_EXISTING, NULL)) == NULL)
		return EXIT_USAGE;
	if (strcmp(cmd, "pause") == 0) {
		rc = pause_add(ledger_db(lg), o->tenant, o->reason,
		    (int64_t)time(NULL), err, sizeof(err));
		if (rc == 0 && o->tenant != NULL)
			printf("paused tenant %s: hookledgerd answers 503 within "
			    "1 s\n", o->tenant);
		else if (rc == 0)
			printf("paused all tenants: hookledgerd answers 503 "
			    "within 1 s\n");
	} else {
		rc = pause_remove(ledger_db(lg), o->tenant, err, sizeof(err));
		if (rc >= 0 && (a = pause_list(ledger_db(lg), err,
		    sizeof(err))) != NULL) {
			all_paused = json_array_size(a) > 0 &&
			    strcmp(json_string_value(json_object_get(
			    json_array_get(a, 0), "tenant")), PAUSE_ALL) == 0;
			json_decref(a);
		}
		if (rc == 1 && o->tenant != NULL)
			printf("resumed tenant %s: hookledgerd accepts its "
			    "deliveries within 1 s%s\n", o->tenant, all_paused ?
			    ", once all tenants are resumed (hookledger resume)" :
			    "");
		else if (rc == 0 && o->tenant != NULL)
			printf("tenant %s was not paused%s\n", o->tenant,
			    all_paused ? "; all tenants are (hookledger resume)" :
			    "");
		else if (rc == 1)
			printf("resumed all tenants: hookledgerd accepts "
			    "deliveries within 1 s\n");
		else if (rc == 0)
			printf("all tenants were not paused\n");
		if (rc >= 0 && o->tenant == NULL)
			print_remaining(ledger_db(lg));
	}
	ledger_close(lg);
	if (rc < 0) {
		cli_error(o, "%s", err);
		return EXIT_USAGE;
	}
	return EXIT_SUCCESS;
}

int
cli_control_run(const char *cmd, const struct opts *o)
{
	if (o->tenant != NULL && cli_need_tenant(o) == -1)
		return EXIT_USAGE;
	if (o->list && (o->tenant != NULL || o->reason != NULL))
		return cli_usage(o, "--list goes alone: hookledger pause "
		    "--list");
	if (o->list)
		return list(o);
	if (o->json)
		return cli_usage(o, "--json goes with --list");
	if (o->reason != NULL && !pause_reason_valid(o->reason))
		return cli_usage(o, "--reason is at most %d printable ASCII "
		    "characters", PAUSE_REASON_MAX);
	return pause_or_resume(cmd, o);
}
