/*
 * secret: webhook signing keys, held in libsodium's guarded memory.
 *
 * A secret file holds one secret as the provider hands it out; one trailing
 * newline is ignored. How that string becomes HMAC key bytes depends on the
 * scheme, and the two must never share code paths: Standard Webhooks keys
 * are the base64 decoding of what follows "whsec_", Stripe keys are the
 * whole string, "whsec_" included.
 */
#ifndef HL_SECRET_H
#define HL_SECRET_H

#include <stddef.h>

#define SECRET_MIN_LEN	16	/* key bytes, after decoding */
#define SECRET_MAX_LEN	1024	/* bytes in a secret file */

enum secret_scheme {
	SECRET_STDWH,		/* Standard Webhooks: base64 after whsec_ */
	SECRET_STRIPE		/* Stripe: the whole string */
};

struct secret {
	unsigned char	*key;	/* sodium_malloc'd, read-only after load */
	size_t		 len;
};

/* Read and decode the secret in path for scheme. Refuses a file that is
 * not a regular file, is readable or writable by group or others, is
 * empty, is longer than SECRET_MAX_LEN, or decodes to fewer than
 * SECRET_MIN_LEN key bytes. On failure returns -1 and writes one line,
 * without the secret, to err. The caller owns *out: secret_clear() it. */
int	secret_load(const char *path, enum secret_scheme scheme,
	    struct secret *out, char *err, size_t errlen);

/* Decode the provider's string s (slen bytes) into key bytes, as
 * secret_load() does after reading the file. Same ownership and errors. */
int	secret_decode(const char *s, size_t slen, enum secret_scheme scheme,
	    struct secret *out, char *err, size_t errlen);

/* Wipe and free the key; accepts a zeroed or already cleared struct. */
void	secret_clear(struct secret *s);

#endif
