/*
 * test_pause: the pauses table (add, replace, remove, list, limits) and
 * the watcher, which must publish a commit of another connection within
 * a bounded time and never answer for a tenant that is not paused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "digest.h"
#include "ledger.h"
#include "pause.h"
#include "tmpdir.h"

static char		 dir[256];
static char		 path[300];
static char		 err[512];
static struct ledger	*lg;

static void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(digest_init(), 0);
	tmpdir_make(dir, sizeof(dir), "pause");
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	lg = ledger_open(path, LEDGER_READ_WRITE, err, sizeof(err));
	ck_assert_msg(lg != NULL, "ledger_open: %s", err);
}

static void
teardown(void)
{
	ledger_close(lg);
	lg = NULL;
	tmpdir_remove(dir);
	digest_fini();
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Poll until pause_active(tenant) == want, up to 5 s. */
static int
await(struct pause_watch *pw, const char *tenant, int want)
{
	double			deadline = now_s() + 5.0;
	struct timespec		step = { 0, 10 * 1000000L };

	while (pause_active(pw, tenant) != want) {
		if (now_s() > deadline)
			return 0;
		nanosleep(&step, NULL);
	}
	return 1;
}

START_TEST(test_table)
{
	sqlite3	*db = ledger_db(lg);
	json_t	*a;
	char	 long_reason[PAUSE_REASON_MAX + 2];

	ck_assert_int_eq(pause_add(db, "acme", "incident 42", 100, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(pause_add(db, NULL, NULL, 200, err, sizeof(err)), 0);
	/* Pausing again replaces the reason and keeps the first time: the
	 * pause has lasted since then. */
	ck_assert_int_eq(pause_add(db, "acme", "incident 43", 300, err,
	    sizeof(err)), 0);
	a = pause_list(db, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(json_array_size(a), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a,
	    0), "tenant")), "*");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a,
	    0), "reason")), "");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a,
	    1), "reason")), "incident 43");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(a,
	    1), "paused_at")), 100);
	json_decref(a);

	ck_assert_int_eq(pause_remove(db, "acme", err, sizeof(err)), 1);
	ck_assert_int_eq(pause_remove(db, "acme", err, sizeof(err)), 0);
	ck_assert_int_eq(pause_remove(db, NULL, err, sizeof(err)), 1);
	a = pause_list(db, err, sizeof(err));
	ck_assert_uint_eq(json_array_size(a), 0);
	json_decref(a);

	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	ck_assert_int_eq(pause_add(db, "acme", long_reason, 1, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(pause_add(db, "acme", "tab\there", 1, err,
	    sizeof(err)), -1);
	long_reason[PAUSE_REASON_MAX] = '\0';
	ck_assert_int_eq(pause_reason_valid(long_reason), 1);
	ck_assert_int_eq(pause_reason_valid("caf\xc3\xa9"), 0);
}
END_TEST

START_TEST(test_watch)
{
	sqlite3			*db = ledger_db(lg);
	struct pause_watch	*pw;

	ck_assert_int_eq(pause_add(db, "early", NULL, 1, err, sizeof(err)), 0);
	pw = pause_watch_start(path, err, sizeof(err));
	ck_assert_msg(pw != NULL, "pause_watch_start: %s", err);
	/* Loaded at start, before the thread's first poll. */
	ck_assert_int_eq(pause_active(pw, "early"), 1);
	ck_assert_int_eq(pause_active(pw, "acme"), 0);

	ck_assert_int_eq(pause_add(db, "acme", "x", 2, err, sizeof(err)), 0);
	ck_assert_int_eq(await(pw, "acme", 1), 1);
	ck_assert_int_eq(pause_active(pw, "acm"), 0);
	ck_assert_int_eq(pause_active(pw, "acme2"), 0);
	ck_assert_int_eq(pause_active(pw, "globex"), 0);

	ck_assert_int_eq(pause_add(db, NULL, NULL, 3, err, sizeof(err)), 0);
	ck_assert_int_eq(await(pw, "globex", 1), 1);
	ck_assert_int_eq(pause_remove(db, NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(await(pw, "globex", 0), 1);
	ck_assert_int_eq(pause_active(pw, "acme"), 1);
	ck_assert_int_eq(pause_remove(db, "acme", err, sizeof(err)), 1);
	ck_assert_int_eq(await(pw, "acme", 0), 1);
	ck_assert_int_eq(pause_active(pw, "early"), 1);
	pause_watch_stop(pw);

	ck_assert_int_eq(pause_active(NULL, "early"), 0);
	pause_watch_stop(NULL);
}
END_TEST

START_TEST(test_watch_bad_path)
{
	ck_assert_ptr_null(pause_watch_start("/nonexistent/dir/ledger.db",
	    err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cannot read the pauses"));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("pause");
	TCase	*tc = tcase_create("pause");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_watch);
	tcase_add_test(tc, test_watch_bad_path);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
