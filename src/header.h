/*
 * header: the grammars of the plain request headers hookledgerd reads
 * itself. The signature headers are sig.c's and Authorization is
 * token.c's; these are the rest. Each is a pure function of one
 * NUL-terminated value as libmicrohttpd hands it over: thread-safe, no
 * allocation, and it reads no further than the first byte it refuses.
 */
#ifndef HL_HEADER_H
#define HL_HEADER_H

#include <stddef.h>

#define HEADER_IDEM_KEY_MAX	255	/* bytes in an Idempotency-Key */

/* 1 when v is application/json (any case), optionally followed by
 * parameters after ';'; 0 otherwise, also for NULL. */
int	header_is_json(const char *v);

/* 1 when v is an Idempotency-Key of 1 to max printable ASCII bytes
 * (0x20 to 0x7e); 0 otherwise, also for NULL. Reads at most max + 1
 * bytes of v. */
int	header_idem_key_ok(const char *v, size_t max);

#endif
