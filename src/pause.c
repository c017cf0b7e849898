/*
 * pause.c: the pauses table and the daemon's watcher over it.
 */
#include "pause.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"

/* What request threads see: never changed once published. */
struct pause_snapshot {
	int	 all;
	size_t	 n;
	char	(*tenants)[CONFIG_NAME_MAX + 1];	/* sorted */
};

struct pause_watch {
	sqlite3			*db;
	sqlite3_stmt		*version, *rows;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* wakes the thread to stop */
	int			 stopping;
	struct pause_snapshot	*snap;		/* under mu */
	int			 failing;	/* a reload failure was logged */
};

int
pause_reason_valid(const char *s)
{
	size_t i;

	for (i = 0; i <= PAUSE_REASON_MAX && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return i <= PAUSE_REASON_MAX;
}

static int
run(sqlite3 *db, const char *sql, const char *a, const char *b, int64_t n,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "pauses: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, n);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "pauses: %s", sqlite3_errmsg(db));
		return -1;
	}
	return sqlite3_changes(db) > 0 ? 1 : 0;
}

int
pause_add(sqlite3 *db, const char *tenant, const char *reason, int64_t now,
    char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int64_t		 n = 0;

	if (reason == NULL)
		reason = "";
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pauses", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n >= PAUSE_TENANTS_MAX) {
		snprintf(err, errlen, "already %d pauses: pause every tenant "
		    "instead", PAUSE_TENANTS_MAX);
		return -1;
	}
	if (!pause_reason_valid(reason)) {
		snprintf(err, errlen, "a reason is at most %d printable ASCII "
		    "characters", PAUSE_REASON_MAX);
		return -1;
	}
	return run(db, "INSERT INTO pauses (tenant, reason, paused_at) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (tenant) DO UPDATE SET "
	    "reason = excluded.reason",
	    tenant != NULL ? tenant : PAUSE_ALL, reason, now, err,
	    errlen) == -1 ? -1 : 0;
}

int
pause_remove(sqlite3 *db, const char *tenant, char *err, size_t errlen)
{
	return run(db, "DELETE FROM pauses WHERE tenant = ?1",
	    tenant != NULL ? tenant : PAUSE_ALL, NULL, 0, err, errlen);
}

json_t *
pause_list(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	json_t		*a;
	int		 rc;

	if (sqlite3_prepare_v2(db, "SELECT tenant, reason, paused_at FROM "
	    "pauses ORDER BY tenant <> '*', tenant", -1, &st, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "pauses: %s", sqlite3_errmsg(db));
		return NULL;
	}
	a = json_array();
	while (a != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I}",
		    "tenant", (const char *)sqlite3_column_text(st, 0),
		    "reason", (const char *)sqlite3_column_text(st, 1),
		    "paused_at", (json_int_t)sqlite3_column_int64(st, 2)));
	if (a == NULL || rc != SQLITE_DONE) {
		snprintf(err, errlen, "pauses: %s", a == NULL ?
		    "out of memory" : sqlite3_errmsg(db));
		json_decref(a);
		a = NULL;
	}
	sqlite3_finalize(st);
	return a;
}

/* ------------------------------------------------------------ watcher */

static void
snapshot_free(struct pause_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->tenants);
	free(s);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A new snapshot of the table, or NULL. */
static struct pause_snapshot *
load(struct pause_watch *pw)
{
	struct pause_snapshot	*s;
	const unsigned char	*t;
	void			*p;
	int			 rc;
	size_t			 len, cap = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	while ((rc = sqlite3_step(pw->rows)) == SQLITE_ROW) {
		t = sqlite3_column_text(pw->rows, 0);
		len = (size_t)sqlite3_column_bytes(pw->rows, 0);
		if (t == NULL)
			continue;
		if (strcmp((const char *)t, PAUSE_ALL) == 0) {
			s->all = 1;
			continue;
		}
		/* Names the config could not hold pause nothing. */
		if (!config_name_valid((const char *)t, len))
			continue;
		if (s->n == PAUSE_TENANTS_MAX)
			break;		/* pause_add() refuses more */
		if (s->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((p = reallocarray(s->tenants, cap,
			    sizeof(*s->tenants))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			s->tenants = p;
		}
		memcpy(s->tenants[s->n++], t, len + 1);
	}
	sqlite3_reset(pw->rows);
	if (rc != SQLITE_DONE) {
		snapshot_free(s);
		return NULL;
	}
	/* No tenants may mean no array: qsort must not see NULL. */
	if (s->n > 1)
		qsort(s->tenants, s->n, sizeof(*s->tenants), cmp_name);
	return s;
}

static int
data_version(struct pause_watch *pw, int64_t *v)
{
	int rc = sqlite3_step(pw->version);

	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(pw->version, 0);
	sqlite3_reset(pw->version);
	return rc == SQLITE_ROW ? 0 : -1;
}

static void
log_change(const char *what, const char *tenant)
{
	log_json("info", what, json_pack("{s:s}", "tenant", tenant));
}

/* One log line per pause that took effect or was lifted between a and b
 * (a NULL at start-up: every pause in b is news). Both are sorted. */
static void
log_changes(const struct pause_snapshot *a, const struct pause_snapshot *b)
{
	size_t	i = 0, j = 0, na = a != NULL ? a->n : 0;
	int	c, all = a != NULL && a->all;

	if (!all && b->all)
		log_change("pause in effect", "*");
	if (all && !b->all)
		log_change("pause lifted", "*");
	while (i < na || j < b->n) {
		/* i < na only when a is not NULL. */
		if (i == na)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			/* cppcheck-suppress nullPointer */
			c = strcmp(a->tenants[i], b->tenants[j]);
		if (c < 0)
			/* cppcheck-suppress nullPointer */
			log_change("pause lifted", a->tenants[i++]);
		else if (c > 0)
			log_change("pause in effect", b->tenants[j++]);
		else
			i++, j++;
	}
}

static void
publish(struct pause_watch *pw, struct pause_snapshot *s)
{
	struct pause_snapshot *old;

	/* Only this thread publishes, so pw->snap is ours to read; logged
	 * first, a change is in the log before any request can see it. */
	log_changes(pw->snap, s);
	pthread_mutex_lock(&pw->mu);
	old = pw->snap;
	pw->snap = s;
	pthread_mutex_unlock(&pw->mu);
	/* Readers only use a snapshot under mu: old is unreachable now. */
	snapshot_free(old);
}

static void *
watch(void *arg)
{
	struct pause_watch	*pw = arg;
	struct pause_snapshot	*s;
	struct timespec		 until;
	int64_t			 seen = -1, v;
	int			 stop;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += PAUSE_POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&pw->mu);
		while (!pw->stopping && pthread_cond_timedwait(&pw->cv,
		    &pw->mu, &until) != ETIMEDOUT)
			;
		stop = pw->stopping;
		pthread_mutex_unlock(&pw->mu);
		if (stop)
			return NULL;
		/* data_version moves when another connection commits: a
		 * pause, or any ledger batch. Only then is the table read. */
		v = -1;		/* unknown: read the table again next time */
		if (data_version(pw, &v) == 0 && v == seen)
			continue;
		if ((s = load(pw)) == NULL) {
			if (!pw->failing)
				log_json("error", "cannot read the pauses; "
				    "keeping the last ones", json_pack("{s:s}",
				    "detail", sqlite3_errmsg(pw->db)));
			pw->failing = 1;
			continue;
		}
		if (pw->failing)
			log_msg("info", "pauses readable again");
		pw->failing = 0;
		seen = v;
		publish(pw, s);
	}
}

struct pause_watch *
pause_watch_start(const char *path, char *err, size_t errlen)
{
	struct pause_watch	*pw;
	pthread_condattr_t	 ca;
	int			 rc;

	if ((pw = calloc(1, sizeof(*pw))) == NULL) {
		snprintf(err, errlen, "pauses: out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &pw->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(pw->db, 1000) != SQLITE_OK ||
	    sqlite3_prepare_v2(pw->db, "PRAGMA data_version", -1,
	    &pw->version, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(pw->db, "SELECT tenant FROM pauses",
	    -1, &pw->rows, NULL) != SQLITE_OK ||
	    (pw->snap = load(pw)) == NULL) {
		snprintf(err, errlen, "%s: cannot read the pauses: %s", path,
		    pw->db != NULL ? sqlite3_errmsg(pw->db) : "out of memory");
		goto fail;
	}
	log_changes(NULL, pw->snap);
	pthread_mutex_init(&pw->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pw->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&pw->thread, NULL, watch, pw)) != 0) {
		snprintf(err, errlen, "pauses: cannot start a thread: %s",
		    strerror(rc));
		pthread_cond_destroy(&pw->cv);
		pthread_mutex_destroy(&pw->mu);
		goto fail;
	}
	return pw;
fail:
	sqlite3_finalize(pw->version);
	sqlite3_finalize(pw->rows);
	sqlite3_close(pw->db);
	snapshot_free(pw->snap);
	free(pw);
	return NULL;
}

void
pause_watch_stop(struct pause_watch *pw)
{
	if (pw == NULL)
		return;
	pthread_mutex_lock(&pw->mu);
	pw->stopping = 1;
	pthread_cond_signal(&pw->cv);
	pthread_mutex_unlock(&pw->mu);
	pthread_join(pw->thread, NULL);
	pthread_cond_destroy(&pw->cv);
	pthread_mutex_destroy(&pw->mu);
	sqlite3_finalize(pw->version);
	sqlite3_finalize(pw->rows);
	sqlite3_close(pw->db);
	snapshot_free(pw->snap);
	free(pw);
}

int
pause_active(struct pause_watch *pw, const char *tenant)
{
	int paused;

	if (pw == NULL)
		return 0;
	pthread_mutex_lock(&pw->mu);
	paused = pw->snap->all || (pw->snap->n > 0 && bsearch(tenant,
	    pw->snap->tenants, pw->snap->n, sizeof(*pw->snap->tenants),
	    cmp_name) != NULL);
	pthread_mutex_unlock(&pw->mu);
	return paused;
}
