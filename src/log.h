/*
 * log: one JSON object per line on standard error, for journald or any
 * collector. Callers pass only fields they chose; a body, a secret or a
 * signature is never given to this module.
 */
#ifndef HL_LOG_H
#define HL_LOG_H

#include <jansson.h>

/* Write {"ts":..., "level":level, "msg":msg, ...fields} as one line with
 * a single write(2). Steals the reference to fields (may be NULL).
 * Thread-safe. Never fails loudly: a log line that cannot be written is
 * dropped, never the request. */
void	log_json(const char *level, const char *msg, json_t *fields);

/* log_json(level, formatted message, NULL). Thread-safe. */
void	log_msg(const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
