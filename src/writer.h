/*
 * writer: the one thread that owns the read-write ledger connection.
 *
 * Request handlers submit verified events and wait; the writer takes every
 * job queued so far (up to WRITER_BATCH_MAX), applies them in one
 * transaction with one fsync, and only after the commit calls each job's
 * done() callback. A job's outcome is therefore never a 2xx before its
 * data is durable.
 */
#ifndef HL_WRITER_H
#define HL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

#define WRITER_BATCH_MAX	256

enum writer_job_type {
	WRITER_EVENT = 0,		/* a verified webhook event */
	WRITER_EXPECT			/* an expectation from the API */
};

struct writer_job {
	enum writer_job_type	 type;
	struct ledger_event	 ev;	/* in, WRITER_EVENT */
	struct ledger_expectation expect; /* in, WRITER_EXPECT */
	struct ledger_api_key	 key;	/* in, WRITER_EXPECT */
	struct ledger_outcome	 out;	/* out: valid inside done() */
	/* Called on the writer thread once the outcome is final (after the
	 * commit, or on failure). It must not block. */
	void			(*done)(struct writer_job *job, void *arg);
	void			*arg;
	struct writer_job	*next;	/* private to the writer */
};

struct writer;

/* Start the writer thread over lg, which it then owns until
 * writer_stop(). Returns NULL with a line in err. */
struct writer	*writer_start(struct ledger *lg, char *err, size_t errlen);

/* Queue job. Thread-safe. The job must stay valid until done() has been
 * called. After writer_stop() has begun, done() is called at once with a
 * 503 outcome. */
void		 writer_submit(struct writer *w, struct writer_job *job);

/* Finish every queued job, stop the thread and free w; accepts NULL. The
 * ledger is not closed. */
void		 writer_stop(struct writer *w);

/* Have fn(cls, lg) called on the writer thread after every batch that
 * committed, once its requests have been answered (signed checkpoints are
 * written from there). Call before the first submit. */
void		 writer_after_commit(struct writer *w,
		    void (*fn)(void *cls, struct ledger *lg), void *cls);

/* Number of batches and jobs committed so far, for logs and benchmarks.
 * Thread-safe. */
void		 writer_stats(struct writer *w, unsigned long long *batches,
		    unsigned long long *jobs);

/* 1 when the last batch committed with every event recorded, 0 while
 * storage is failing (full disk, read-only or failing file system); then
 * *since, if not NULL, is the Unix time of the first failed batch. It
 * turns 1 again with the first batch that commits, or, with no delivery
 * queued, the first probe write that does (the writer tries one every
 * second while storage is failing). Thread-safe. */
int		 writer_storage_ok(struct writer *w, int64_t *since);

#endif
