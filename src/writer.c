/*
 * writer.c: group commit.
 *
 * The queue is a singly linked list under one mutex. The writer swaps the
 * whole list out, so submitters never wait on a commit, and many requests
 * share one fsync. Each job runs in its own savepoint (ledger_apply), so
 * one bad event never fails its neighbours; only a failed COMMIT voids
 * the batch, and then every job in it is answered 503 and nothing of it
 * is in the file.
 *
 * A storage error (full disk, read-only or failing file system) wedges
 * nothing: the batch is rolled back, its requests are answered 503, the
 * head is reloaded from the file, and the next batch simply tries again.
 * The writer remembers whether the last batch failed, for the health
 * check, and logs once when storage fails (with SQLite's reason), at most
 * once a minute while it stays failed, and once when it recovers. While
 * it is failed and idle it tries a write of its own every second (a
 * probe), so that recovery is seen without waiting for a delivery.
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct writer {
	struct ledger		*lg;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct writer_job	*head, *tail;
	size_t			 queued;
	int			 stopping;
	unsigned long long	 batches, jobs;
	unsigned long long	 failed_batches;	/* since last success */
	int64_t			 failed_since;		/* 0: storage ok */
	int64_t			 failed_noted;		/* last log line of it */
	void			(*after)(void *, struct ledger *);
	void			*after_cls;
};

/* Copy the ledger's reason for the first failure of a batch. */
static void
keep_reason(struct writer *w, char *why, size_t len)
{
	if (why[0] == '\0')
		snprintf(why, len, "%s", ledger_errmsg(w->lg));
}

/* The log of a storage outage: one error line when it starts (with
 * SQLite's reason), a reminder at most every WRITER_NOTE_EVERY seconds
 * while it lasts, one line when a write commits again. Never a line per
 * failed batch: under load that would be hundreds a second. */
#define WRITER_NOTE_EVERY	60

/* While storage fails and no delivery comes, the writer tries a write of
 * its own this often, so that the health check turns 200 again once the
 * storage is back even when a load balancer has stopped sending. */
#define WRITER_PROBE_EVERY	1

/* Record whether a write (a batch, or a probe) left storage healthy, and
 * log the outage's start, reminders and end. healthy: it committed and no
 * event in it failed. why: SQLite's reason when not. */
static void
note_outcome(struct writer *w, int healthy, const char *why, int64_t now)
{
	unsigned long long	 nbad = 0;
	int64_t			 since = 0;
	enum { QUIET, DOWN, STILL, UP } note = QUIET;

	pthread_mutex_lock(&w->mu);
	if (healthy) {
		nbad = w->failed_batches;
		since = w->failed_since;
		w->failed_batches = 0;
		w->failed_since = 0;
		if (since != 0)
			note = UP;
	} else {
		if (w->failed_since == 0) {
			w->failed_since = now > 0 ? now : 1;
			w->failed_noted = now;
			note = DOWN;
		} else if (now - w->failed_noted >= WRITER_NOTE_EVERY) {
			w->failed_noted = now;
			note = STILL;
		}
		nbad = ++w->failed_batches;
		since = w->failed_since;
	}
	pthread_mutex_unlock(&w->mu);
	if (note == UP)
		log_msg("info", "ledger: storage recovered after %llu failed "
		    "writes in %lld s; answering 2xx again", nbad,
		    (long long)(now - since));
	else if (note == DOWN)
		log_msg("error", "ledger: storage unavailable (%s): deliveries "
		    "are answered 503 until a write succeeds; nothing partial "
		    "is kept", why);
	else if (note == STILL)
		log_msg("error", "ledger: storage still unavailable after %llu "
		    "failed writes in %lld s (%s)", nbad,
		    (long long)(now - since), why);
}

static void
run_batch(struct writer *w, struct writer_job *batch)
{
	struct writer_job	*j, *next;
	int64_t			 now = (int64_t)time(NULL);
	int			 ok = ledger_begin(w->lg) == 0;
	size_t			 n = 0, nfailed = 0;
	char			 why[200] = "";

	if (!ok)
		keep_reason(w, why, sizeof(why));
	for (j = batch; j != NULL; j = j->next) {
		if (ok && j->type == WRITER_EXPECT)
			ledger_expect(w->lg, &j->key, &j->expect, now, &j->out);
		else if (ok)
			ledger_apply(w->lg, &j->ev, now, &j->out);
		else
			ledger_outcome_failed(&j->out);
		if (ok && j->out.result == LEDGER_FAILED)
			keep_reason(w, why, sizeof(why));
		if (j->out.result == LEDGER_FAILED)
			nfailed++;
		n++;
	}
	if (ok && ledger_commit(w->lg) == -1) {
		keep_reason(w, why, sizeof(why));
		ok = 0;
		for (j = batch; j != NULL; j = j->next)
			ledger_outcome_failed(&j->out);
	}
	if (ok) {
		pthread_mutex_lock(&w->mu);
		w->batches++;
		w->jobs += n;
		pthread_mutex_unlock(&w->mu);
	}
	note_outcome(w, ok && nfailed == 0, why, now);
	for (j = batch; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		j->done(j, j->arg);
	}
	if (ok && w->after != NULL)
		w->after(w->after_cls, w->lg);
}

/* A write of no event while storage is failing and nothing is queued:
 * its outcome counts as a batch's. Called without w->mu. */
static void
probe(struct writer *w)
{
	char	why[200] = "";
	int	ok = ledger_probe(w->lg) == 0;

	if (!ok)
		keep_reason(w, why, sizeof(why));
	note_outcome(w, ok, why, (int64_t)time(NULL));
}

static void *
writer_main(void *arg)
{
	struct writer		*w = arg;
	struct writer_job	*batch, *last;
	struct timespec		 until;
	size_t			 n;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping) {
			if (w->failed_since == 0) {
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += WRITER_PROBE_EVERY;
			if (pthread_cond_timedwait(&w->cv, &w->mu, &until) !=
			    ETIMEDOUT || w->head != NULL || w->stopping ||
			    w->failed_since == 0)
				continue;
			pthread_mutex_unlock(&w->mu);
			probe(w);
			pthread_mutex_lock(&w->mu);
		}
		if (w->head == NULL && w->stopping)
			break;
		/* Take up to WRITER_BATCH_MAX jobs from the front. */
		batch = last = w->head;
		for (n = 1; n < WRITER_BATCH_MAX && last->next != NULL; n++)
			last = last->next;
		w->head = last->next;
		if (w->head == NULL)
			w->tail = NULL;
		last->next = NULL;
		w->queued -= n;
		pthread_mutex_unlock(&w->mu);
		run_batch(w, batch);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct writer *
writer_start(struct ledger *lg, char *err, size_t errlen)
{
	struct writer		*w;
	pthread_condattr_t	 ca;
	int			 rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "writer: out of memory");
		return NULL;
	}
	w->lg = lg;
	pthread_mutex_init(&w->mu, NULL);
	/* The probe's wait is measured on the monotonic clock: setting the
	 * wall clock neither delays nor hurries it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		snprintf(err, errlen, "writer: cannot start thread: %s",
		    strerror(rc));
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

void
writer_submit(struct writer *w, struct writer_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		ledger_outcome_failed(&job->out);
		job->done(job, job->arg);
		return;
	}
	if (w->tail != NULL)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	w->queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void
writer_after_commit(struct writer *w, void (*fn)(void *, struct ledger *),
    void *cls)
{
	pthread_mutex_lock(&w->mu);
	w->after = fn;
	w->after_cls = cls;
	pthread_mutex_unlock(&w->mu);
}

void
writer_stats(struct writer *w, unsigned long long *batches,
    unsigned long long *jobs)
{
	pthread_mutex_lock(&w->mu);
	*batches = w->batches;
	*jobs = w->jobs;
	pthread_mutex_unlock(&w->mu);
}

int
writer_storage_ok(struct writer *w, int64_t *since)
{
	int ok;

	pthread_mutex_lock(&w->mu);
	ok = w->failed_since == 0;
	if (since != NULL)
		*since = w->failed_since;
	pthread_mutex_unlock(&w->mu);
	return ok;
}
