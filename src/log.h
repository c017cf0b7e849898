/*
 * log: one JSON object per line on standard error, for journald or any
 * collector. Callers pass only fields they chose; a body, a secret or a
 * signature is never given to this module.
 *
 * Every string value of a line (msg included, at any depth) is masked
 * before it is written, whoever built it, because a path, a sender's
 * header or libmicrohttpd's own message can carry personal data:
 *
 *   email   jane.doe@example.com  ->  j***@***.com
 *   phone   +44 7911 123489       ->  +44********89
 *           07911 123489          ->  07*******89
 *   PAN     4111 1111 1111 1111   ->  **** **** **** 1111
 *   secret  whsec_MfKQ9r8G...     ->  whsec_***
 *
 * Event ids, Unix timestamps and other numbers stay readable: see
 * log_mask() for the exact rules.
 */
#ifndef HL_LOG_H
#define HL_LOG_H

#include <stddef.h>

#include <jansson.h>

#define LOG_STRING_MAX	2048	/* bytes of one string value kept */

/* Write {"ts":..., "level":level, "msg":msg, ...fields} as one line with
 * a single write(2), every string masked. Steals the reference to fields
 * (may be NULL). Thread-safe. Never fails loudly: a log line that cannot
 * be written is dropped, never the request. */
void	log_json(const char *level, const char *msg, json_t *fields);

/* log_json(level, formatted message, NULL). Thread-safe. */
void	log_msg(const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Mask len bytes at s into out (cap bytes, NUL-terminated; cap of
 * 2 * len + 16 always suffices, less truncates). The rules:
 *  - an email address (local@domain.tld, local of [A-Za-z0-9._%+-],
 *    domain of [A-Za-z0-9.-] with a dot) keeps the first character of
 *    its local part and its top-level domain;
 *  - a phone number keeps its first two and last two digits: '+' then
 *    7 to 15 digits, or a national number starting with 0, 10 to 15
 *    digits in groups joined by single spaces or dashes (at least two
 *    groups, so that a bare 10-digit timestamp is not one); separators
 *    are dropped;
 *  - a PAN-like group (pan.h, pan_mask(): separators include . _ / + :)
 *    keeps its last four digits;
 *  - a Stripe signing secret (whsec_...) or an API token (hlt_...) keeps
 *    only its prefix: whsec_***.
 * Returns the length written. Thread-safe.
 */
size_t	log_mask(const char *s, size_t len, char *out, size_t cap);

/* Where lines go instead of standard error, for tests: fn(line, len, cls)
 * gets each line with its newline. NULL restores standard error. Call
 * before other threads log. */
void	log_set_sink(void (*fn)(const char *line, size_t len, void *cls),
	    void *cls);

#endif
