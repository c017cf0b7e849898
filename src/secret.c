/*
 * secret: webhook signing keys, held in libsodium's guarded memory.
 *
 * The text of a secret passes through one stack buffer on its way from the
 * file to the key; that buffer is wiped on every path out. Error messages
 * name the file and the fault, never a byte of the secret.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "secret.h"

#define WHSEC_PREFIX	"whsec_"
#define WHSEC_PREFIX_LEN	(sizeof(WHSEC_PREFIX) - 1)

static void
seterr(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/*
 * The decoded length is only known after decoding, so the guarded buffer
 * is sized for the longest possible result and len records what is used.
 */
static int
decode_stdwh(const char *s, size_t slen, struct secret *out,
    char *err, size_t errlen)
{
	const char	*b64;
	unsigned char	*key = NULL;
	size_t		 b64len, maxlen, keylen = 0;

	if (slen < WHSEC_PREFIX_LEN ||
	    memcmp(s, WHSEC_PREFIX, WHSEC_PREFIX_LEN) != 0) {
		seterr(err, errlen, "secret does not start with whsec_");
		goto fail;
	}
	b64 = s + WHSEC_PREFIX_LEN;
	b64len = slen - WHSEC_PREFIX_LEN;
	if (b64len == 0) {
		seterr(err, errlen, "secret has nothing after whsec_");
		goto fail;
	}
	maxlen = b64len / 4 * 3 + 3;
	if ((key = sodium_malloc(maxlen)) == NULL) {
		seterr(err, errlen, "cannot allocate memory for secret");
		goto fail;
	}
	if (sodium_base642bin(key, maxlen, b64, b64len, NULL, &keylen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		sodium_memzero(key, maxlen);
		keylen = 0;
		if (sodium_base642bin(key, maxlen, b64, b64len, NULL, &keylen,
		    NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
			seterr(err, errlen,
			    "secret after whsec_ is not valid base64");
			goto fail;
		}
	}
	if (keylen < SECRET_MIN_LEN) {
		seterr(err, errlen, "secret is shorter than 16 bytes");
		goto fail;
	}
	if (sodium_mprotect_readonly(key) != 0) {
		seterr(err, errlen, "cannot protect secret memory");
		goto fail;
	}
	out->key = key;
	out->len = keylen;
	return 0;

fail:
	sodium_free(key);
	return -1;
}

static int
decode_stripe(const char *s, size_t slen, struct secret *out,
    char *err, size_t errlen)
{
	unsigned char	*key;

	/* Stripe's signing secrets all begin so; anything else is a key
	 * pasted from the wrong place, which would fail every delivery. */
	if (slen < 6 || memcmp(s, "whsec_", 6) != 0) {
		seterr(err, errlen, "a Stripe signing secret begins with "
		    "whsec_");
		return -1;
	}
	if (slen < SECRET_MIN_LEN) {
		seterr(err, errlen, "secret is shorter than 16 bytes");
		return -1;
	}
	if ((key = sodium_malloc(slen)) == NULL) {
		seterr(err, errlen, "cannot allocate memory for secret");
		return -1;
	}
	memcpy(key, s, slen);
	if (sodium_mprotect_readonly(key) != 0) {
		sodium_free(key);
		seterr(err, errlen, "cannot protect secret memory");
		return -1;
	}
	out->key = key;
	out->len = slen;
	return 0;
}

/* Secrets are printable ASCII without spaces: a stray space, tab, CR or
 * second newline would silently become part of the key. */
static int
printable(const char *s, size_t slen)
{
	size_t i;

	for (i = 0; i < slen; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
secret_decode(const char *s, size_t slen, enum secret_scheme scheme,
    struct secret *out, char *err, size_t errlen)
{
	out->key = NULL;
	out->len = 0;
	if (s == NULL || slen == 0) {
		seterr(err, errlen, "secret is empty");
		return -1;
	}
	if (slen > SECRET_MAX_LEN) {
		seterr(err, errlen, "secret is longer than 1024 bytes");
		return -1;
	}
	if (!printable(s, slen)) {
		seterr(err, errlen, "secret has a space, tab, control byte or "
		    "non-ASCII byte (one final newline is allowed)");
		return -1;
	}
	/* sodium_malloc() needs the page size that sodium_init() finds. */
	if (sodium_init() < 0) {
		seterr(err, errlen, "libsodium cannot be initialised");
		return -1;
	}
	switch (scheme) {
	case SECRET_STDWH:
		return decode_stdwh(s, slen, out, err, errlen);
	case SECRET_STRIPE:
		return decode_stripe(s, slen, out, err, errlen);
	}
	seterr(err, errlen, "unknown secret scheme");
	return -1;
}

int
secret_load(const char *path, enum secret_scheme scheme,
    struct secret *out, char *err, size_t errlen)
{
	char		 buf[SECRET_MAX_LEN + 1];
	char		 why[128];
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1;

	out->key = NULL;
	out->len = 0;
	/*
	 * O_NONBLOCK keeps a FIFO planted at path from stalling start-up;
	 * it is refused below as not a regular file.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK))
	    == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "is not a regular file");
		goto fail;
	}
	if (st.st_mode & 077) {
		snprintf(why, sizeof(why), "is readable or writable by group "
		    "or others (mode %04o); chmod 600 it",
		    (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	if (st.st_size > SECRET_MAX_LEN) {
		snprintf(why, sizeof(why), "is larger than %d bytes",
		    SECRET_MAX_LEN);
		goto fail;
	}
	/* Read one byte past the limit to catch a file that grew since. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, sizeof(why), "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECRET_MAX_LEN) {
		snprintf(why, sizeof(why), "is larger than %d bytes",
		    SECRET_MAX_LEN);
		goto fail;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len == 0) {
		snprintf(why, sizeof(why), "is empty");
		goto fail;
	}
	if (secret_decode(buf, len, scheme, out, why, sizeof(why)) == -1)
		goto fail;
	close(fd);
	sodium_memzero(buf, sizeof(buf));
	return 0;

fail:
	if (fd != -1)
		close(fd);
	sodium_memzero(buf, sizeof(buf));
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "secret file %s: %s", path, why);
	return -1;
}

void
secret_clear(struct secret *s)
{
	if (s == NULL)
		return;
	/* sodium_free() makes the pages writable again and wipes them. */
	sodium_free(s->key);
	sodium_memzero(s, sizeof(*s));
}
