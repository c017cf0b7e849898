/*
 * digest: SHA-256 and HMAC-SHA256 through OpenSSL 3's EVP interfaces.
 *
 * The algorithm objects are fetched once by digest_init(); the one-shot
 * helpers look the algorithm up on every call and are several times slower.
 */
#ifndef HL_DIGEST_H
#define HL_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN 32

/* One piece of a message that is hashed or MACed as the concatenation of
 * several pieces, so that callers never copy a body to prepend a header. */
struct digest_part {
	const void	*data;
	size_t		 len;
};

/* Fetch the algorithms. Call once at start-up before any thread uses this
 * module; returns 0, or -1 when OpenSSL cannot provide SHA-256/HMAC. */
int	digest_init(void);

/* Release what digest_init() fetched. Not thread-safe; call at exit. */
void	digest_fini(void);

/* out = SHA-256(data). Thread-safe after digest_init(). Returns 0 or -1. */
int	digest_sha256(const void *data, size_t len,
	    unsigned char out[DIGEST_SHA256_LEN]);

/* out = SHA-256(parts[0] || ... || parts[n-1]). Thread-safe. 0 or -1. */
int	digest_sha256_parts(const struct digest_part *parts, size_t n,
	    unsigned char out[DIGEST_SHA256_LEN]);

/* out = HMAC-SHA256(key, parts[0] || ... || parts[n-1]). Thread-safe.
 * Returns 0, or -1 on an OpenSSL failure (out is then zeroed). */
int	digest_hmac_sha256(const unsigned char *key, size_t keylen,
	    const struct digest_part *parts, size_t n,
	    unsigned char out[DIGEST_SHA256_LEN]);

/* Lower-case hex of len bytes into out, which holds 2*len+1 bytes. */
void	digest_hex(const unsigned char *in, size_t len, char *out);

#endif
