/*
 * digest: SHA-256 and HMAC-SHA256 through OpenSSL 3's EVP interfaces.
 *
 * The fetched algorithm objects are shared and only read after
 * digest_init(); every call builds its own context, so that no lock is
 * needed on the request path.
 */
#include <stddef.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "digest.h"

static EVP_MD	*sha256_md;
static EVP_MAC	*hmac_mac;

int
digest_init(void)
{
	if (sha256_md != NULL && hmac_mac != NULL)
		return 0;
	digest_fini();
	if ((sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		goto fail;
	if ((hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto fail;
	return 0;

fail:
	digest_fini();
	return -1;
}

void
digest_fini(void)
{
	EVP_MAC_free(hmac_mac);
	hmac_mac = NULL;
	EVP_MD_free(sha256_md);
	sha256_md = NULL;
}

int
digest_sha256(const void *data, size_t len,
    unsigned char out[DIGEST_SHA256_LEN])
{
	struct digest_part	 part = { data, len };

	return digest_sha256_parts(&part, 1, out);
}

int
digest_sha256_parts(const struct digest_part *parts, size_t n,
    unsigned char out[DIGEST_SHA256_LEN])
{
	EVP_MD_CTX	*ctx = NULL;
	unsigned int	 outlen = 0;
	size_t		 i;

	if (sha256_md == NULL || (parts == NULL && n > 0))
		goto fail;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto fail;
	if (!EVP_DigestInit_ex2(ctx, sha256_md, NULL))
		goto fail;
	for (i = 0; i < n; i++) {
		if (parts[i].len == 0)
			continue;
		if (parts[i].data == NULL ||
		    !EVP_DigestUpdate(ctx, parts[i].data, parts[i].len))
			goto fail;
	}
	if (!EVP_DigestFinal_ex(ctx, out, &outlen) ||
	    outlen != DIGEST_SHA256_LEN)
		goto fail;
	EVP_MD_CTX_free(ctx);
	return 0;

fail:
	EVP_MD_CTX_free(ctx);
	memset(out, 0, DIGEST_SHA256_LEN);
	return -1;
}

int
digest_hmac_sha256(const unsigned char *key, size_t keylen,
    const struct digest_part *parts, size_t n,
    unsigned char out[DIGEST_SHA256_LEN])
{
	EVP_MAC_CTX	*ctx = NULL;
	OSSL_PARAM	 params[2];
	char		 mdname[] = "SHA256";
	size_t		 outlen = 0, i;

	if (hmac_mac == NULL || (key == NULL && keylen > 0) ||
	    (parts == NULL && n > 0))
		goto fail;
	/*
	 * A NULL key would tell the provider to reuse the context's key,
	 * which a fresh context does not have; an empty key is still a key.
	 */
	if (key == NULL)
		key = (const unsigned char *)"";
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    mdname, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(hmac_mac)) == NULL)
		goto fail;
	if (!EVP_MAC_init(ctx, key, keylen, params))
		goto fail;
	for (i = 0; i < n; i++) {
		if (parts[i].len == 0)
			continue;
		if (parts[i].data == NULL ||
		    !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
			goto fail;
	}
	if (!EVP_MAC_final(ctx, out, &outlen, DIGEST_SHA256_LEN) ||
	    outlen != DIGEST_SHA256_LEN)
		goto fail;
	/* The provider wipes its copy of the key when the context is freed. */
	EVP_MAC_CTX_free(ctx);
	return 0;

fail:
	EVP_MAC_CTX_free(ctx);
	memset(out, 0, DIGEST_SHA256_LEN);
	return -1;
}

void
digest_hex(const unsigned char *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}
