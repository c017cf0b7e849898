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
 * once a minute while it stays failed, and once when it recovers.
 */
#include "writer.h"

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
 * while it lasts, one line when a batch commits again. Never a line per
 * failed batch: under load that would be hundreds a second. */
#define WRITER_NOTE_EVERY	60

static void
run_batch(struct writer *w, struct writer_job *batch)
{
	struct writer_job	*j, *next;
	int64_t			 now = (int64_t)time(NULL);
	int			 ok = ledger_begin(w->lg) == 0;
	size_t			 n = 0, nfailed = 0;
	unsigned long long	 nbad = 0;
	int64_t			 since = 0;
	char			 why[200] = "";
	enum { QUIET, DOWN, STILL, UP } note = QUIET;

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
	pthread_mutex_lock(&w->mu);
	if (ok) {
		w->batches++;
		w->jobs += n;
	}
	/* A batch is healthy when it committed and no event in it failed
	 * for want of storage. */
	if (ok && nfailed == 0) {
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
		    "batches in %lld s; answering 2xx again", nbad,
		    (long long)(now - since));
	else if (note == DOWN)
		log_msg("error", "ledger: storage unavailable (%s): deliveries "
		    "are answered 503 until a write succeeds; nothing partial "
		    "is kept", why);
	else if (note == STILL)
		log_msg("error", "ledger: storage still unavailable after %llu "
		    "failed batches in %lld s (%s)", nbad,
		    (long long)(now - since), why);
	for (j = batch; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		j->done(j, j->arg);
	}
	if (ok && w->after != NULL)
		w->after(w->after_cls, w->lg);
}

static void *
writer_main(void *arg)
{
	struct writer		*w = arg;
	struct writer_job	*batch, *last;
	size_t			 n;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
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
	struct writer	*w;
	int		 rc;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "writer: out of memory");
		return NULL;
	}
	w->lg = lg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
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
