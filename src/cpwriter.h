/*
 * cpwriter: the daemon's signed checkpoints, written every N entries or M
 * minutes into a directory from which they are shipped off the machine.
 * An auditor holding one can later prove that the ledger was neither cut
 * short nor rewritten (hookledger verify --checkpoint).
 */
#ifndef HL_CPWRITER_H
#define HL_CPWRITER_H

#include <stddef.h>

#include "config.h"
#include "ledger.h"

struct cpwriter;

/* Load the signing key named by cfg. Returns NULL with err "" when the
 * config asks for no checkpoints, NULL with a line in err on a fault. */
struct cpwriter	*cpwriter_new(const struct config *cfg, char *err,
		    size_t errlen);

/* Wipe the key and free; accepts NULL. */
void		 cpwriter_free(struct cpwriter *cw);

/* The writer's after-commit hook (writer_after_commit()): sign and write
 * a checkpoint when enough entries or time have passed. cls is the
 * cpwriter. Writer thread only; failures are logged, never fatal. */
void		 cpwriter_after_commit(void *cls, struct ledger *lg);

/* Sign and write a checkpoint of lg's head now, if it has grown since the
 * last one. 0 or -1. Writer thread, or after the writer has stopped. */
int		 cpwriter_write(struct cpwriter *cw, struct ledger *lg);

#endif
