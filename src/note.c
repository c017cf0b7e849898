/*
 * note: signed checkpoints in the C2SP tlog-checkpoint and signed-note
 * formats, with Ed25519 keys in the text forms of golang.org/x/mod's
 * sumdb/note package.
 *
 * Parsing is narrower than the formats allow, so that what is accepted
 * is a subset of what the Go package accepts and nothing has two
 * readings: names and origins are printable ASCII, base64 is canonical
 * and padded, key ids are lowercase hex, a checkpoint body has no blank
 * line, and our own key may sign a note only once. Every length is
 * bounded before it is used; the signed note as a whole by NOTE_MAX.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "note.h"

#define ALG_ED25519	0x01
#define KEYDATA_LEN	(1 + 32)	/* algorithm byte, key or seed */
#define KEYDATA_B64_MAX	88		/* 2 * KEYDATA_LEN, decoded */
#define SIG_LEN		(4 + crypto_sign_BYTES)
#define SIG_LINES_MAX	100		/* as the Go package */
#define SIG_PREFIX	"\xe2\x80\x94 "	/* U+2014 em dash, space */
#define SIG_PREFIX_LEN	(sizeof(SIG_PREFIX) - 1)
#define SIZE_DIGITS_MAX	20		/* in UINT64_MAX */
#define ROOT_B64_LEN	44		/* 32 bytes, padded */
#define KEY_FILE_MAX	512		/* key texts are < 200 bytes */
#define BODY_MAX	256		/* origin, size and root lines */

#define SIGNER_PREFIX	"PRIVATE+KEY+"
#define SIGNER_PREFIX_LEN	(sizeof(SIGNER_PREFIX) - 1)

#define BAD_NAME	"is not 1 to 128 printable ASCII bytes without space " \
			"or '+'"

static void seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Key names and origins: also safe to print in messages. */
static int
valid_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > NOTE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '+')
			return 0;
	return 1;
}

int
note_name_valid(const char *s, size_t len)
{
	return s != NULL && valid_name(s, len);
}

/* First 4 bytes of SHA-256(name "\n" 0x01 pk). */
static void
key_id(const char *name, size_t namelen, const unsigned char pk[32],
    unsigned char id[4])
{
	static const unsigned char	 sep[2] = { '\n', ALG_ED25519 };
	crypto_hash_sha256_state	 st;
	unsigned char			 h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, namelen);
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	memcpy(id, h, 4);
}

static int
parse_hex_id(const char *s, size_t len, unsigned char id[4])
{
	size_t	 i;
	int	 d;

	if (len != 8)
		return -1;
	memset(id, 0, 4);
	for (i = 0; i < 8; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		id[i / 2] = (unsigned char)(id[i / 2] << 4 | d);
	}
	return 0;
}

/*
 * The part common to both key forms: <name>+<key id>+<base64 keydata>.
 * The base64 alphabet has '+' in it, so only the first two split.
 * keydata may be a seed: the decoding buffer is wiped on the way out.
 */
static int
parse_key(const char *text, size_t len, const char *form,
    char name[NOTE_NAME_MAX + 1], unsigned char id[4],
    unsigned char keydata[KEYDATA_LEN], char *err, size_t errlen)
{
	unsigned char	 raw[KEYDATA_B64_MAX / 4 * 3];
	const char	*end = text + len, *hex, *b64, *p;
	size_t		 namelen, b64len, rawlen = 0;
	int		 rc = -1;

	if (len == 0 || (p = memchr(text, '+', len)) == NULL)
		goto shape;
	namelen = (size_t)(p - text);
	hex = p + 1;
	if ((p = memchr(hex, '+', (size_t)(end - hex))) == NULL)
		goto shape;
	b64 = p + 1;
	b64len = (size_t)(end - b64);
	if (!valid_name(text, namelen)) {
		seterr(err, errlen, "key name " BAD_NAME);
		goto fail;
	}
	if (parse_hex_id(hex, (size_t)(p - hex), id) == -1) {
		seterr(err, errlen, "key id is not 8 lowercase hex digits");
		goto fail;
	}
	if (b64len > KEYDATA_B64_MAX) {
		seterr(err, errlen, "key data is not 33 bytes");
		goto fail;
	}
	if (sodium_base642bin(raw, sizeof(raw), b64, b64len, NULL, &rawlen,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		seterr(err, errlen, "key data is not base64");
		goto fail;
	}
	if (rawlen > 0 && raw[0] != ALG_ED25519) {
		seterr(err, errlen, "key algorithm is not Ed25519");
		goto fail;
	}
	if (rawlen != KEYDATA_LEN) {
		seterr(err, errlen, "key data is not 33 bytes");
		goto fail;
	}
	memcpy(name, text, namelen);
	name[namelen] = '\0';
	memcpy(keydata, raw, KEYDATA_LEN);
	rc = 0;
	goto fail;

shape:
	seterr(err, errlen, "key is not %s", form);
fail:
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

int
note_verifier_parse(const char *text, size_t len, struct note_verifier *v,
    char *err, size_t errlen)
{
	struct note_verifier	 nv;
	unsigned char		 keydata[KEYDATA_LEN], id[4];

	memset(v, 0, sizeof(*v));
	memset(&nv, 0, sizeof(nv));
	if (text == NULL)
		len = 0;
	if (parse_key(text, len, "<name>+<key id>+<key data>", nv.name,
	    nv.id, keydata, err, errlen) == -1)
		return -1;
	key_id(nv.name, strlen(nv.name), keydata + 1, id);
	if (memcmp(id, nv.id, sizeof(id)) != 0) {
		seterr(err, errlen, "key id does not match the key");
		return -1;
	}
	/* Small-order and non-canonical points could never sign anything
	 * honestly; refuse them here rather than at every verification. */
	if (crypto_core_ed25519_is_valid_point(keydata + 1) != 1) {
		seterr(err, errlen, "key is not a valid Ed25519 public key");
		return -1;
	}
	memcpy(nv.pk, keydata + 1, sizeof(nv.pk));
	*v = nv;
	return 0;
}

static int
signer_parse(const char *text, size_t len, struct note_signer *s,
    char *err, size_t errlen)
{
	unsigned char	 keydata[KEYDATA_LEN], pk[32], id[4];
	unsigned char	*sk = NULL;
	int		 rc = -1;

	if (len < SIGNER_PREFIX_LEN ||
	    memcmp(text, SIGNER_PREFIX, SIGNER_PREFIX_LEN) != 0) {
		seterr(err, errlen, "key does not start with " SIGNER_PREFIX);
		goto fail;
	}
	if (parse_key(text + SIGNER_PREFIX_LEN, len - SIGNER_PREFIX_LEN,
	    SIGNER_PREFIX "<name>+<key id>+<key data>", s->name, s->id,
	    keydata, err, errlen) == -1)
		goto fail;
	if ((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		seterr(err, errlen, "cannot allocate memory for the key");
		goto fail;
	}
	crypto_sign_seed_keypair(pk, sk, keydata + 1);
	/* The id names the public key, so it is checked only now. */
	key_id(s->name, strlen(s->name), pk, id);
	if (memcmp(id, s->id, sizeof(id)) != 0) {
		seterr(err, errlen, "key id does not match the key");
		goto fail;
	}
	if (sodium_mprotect_readonly(sk) != 0) {
		seterr(err, errlen, "cannot protect the key's memory");
		goto fail;
	}
	s->sk = sk;
	sk = NULL;
	rc = 0;

fail:
	sodium_free(sk);
	sodium_memzero(keydata, sizeof(keydata));
	if (rc == -1)
		sodium_memzero(s, sizeof(*s));
	return rc;
}

/*
 * Read a one-line key file into buf (cap bytes), without its newline.
 * A signer's file must be private to its owner. O_NONBLOCK keeps a FIFO
 * planted at path from stalling; it is refused as not a regular file.
 */
static int
read_key_file(const char *path, int owner_only, char *buf, size_t cap,
    size_t *len, char *why, size_t whylen)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK))
	    == -1) {
		seterr(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		seterr(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(why, whylen, "is not a regular file");
		goto fail;
	}
	if (owner_only && (st.st_mode & 077)) {
		seterr(why, whylen, "is readable or writable by group or "
		    "others (mode %04o); chmod 600 it",
		    (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	/* Read one byte past the limit to catch a file that grew since. */
	while (*len < cap) {
		n = read(fd, buf + *len, cap - *len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			seterr(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	if (*len >= cap) {
		seterr(why, whylen, "is larger than %zu bytes", cap - 1);
		goto fail;
	}
	if (*len > 0 && buf[*len - 1] == '\n')
		(*len)--;
	if (*len == 0) {
		seterr(why, whylen, "is empty");
		goto fail;
	}
	if (memchr(buf, '\n', *len) != NULL) {
		seterr(why, whylen, "has more than one line");
		goto fail;
	}
	close(fd);
	return 0;

fail:
	close(fd);
	return -1;
}

int
note_signer_load(const char *path, struct note_signer *s, char *err,
    size_t errlen)
{
	char	 buf[KEY_FILE_MAX + 1], why[128];
	size_t	 len;
	int	 rc = -1;

	memset(s, 0, sizeof(*s));
	/* sodium_malloc() needs the page size that sodium_init() finds. */
	if (sodium_init() < 0) {
		seterr(why, sizeof(why), "libsodium cannot be initialised");
		goto fail;
	}
	if (read_key_file(path, 1, buf, sizeof(buf), &len, why,
	    sizeof(why)) == -1)
		goto fail;
	if (signer_parse(buf, len, s, why, sizeof(why)) == -1)
		goto fail;
	rc = 0;

fail:
	sodium_memzero(buf, sizeof(buf));
	if (rc == -1)
		seterr(err, errlen, "signer key file %s: %s", path, why);
	return rc;
}

void
note_signer_free(struct note_signer *s)
{
	if (s == NULL)
		return;
	/* sodium_free() makes the pages writable again and wipes them. */
	sodium_free(s->sk);
	sodium_memzero(s, sizeof(*s));
}

int
note_verifier_load(const char *path, struct note_verifier *v, char *err,
    size_t errlen)
{
	char	 buf[KEY_FILE_MAX + 1], why[128];
	size_t	 len;

	memset(v, 0, sizeof(*v));
	if (read_key_file(path, 0, buf, sizeof(buf), &len, why,
	    sizeof(why)) == -1 ||
	    note_verifier_parse(buf, len, v, why, sizeof(why)) == -1) {
		seterr(err, errlen, "verifier key file %s: %s", path, why);
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
create_excl(const char *path, mode_t mode, char *err, size_t errlen)
{
	int	 fd;

	/* O_EXCL alone already refuses a symlink; O_NOFOLLOW says so. */
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		if (errno == EEXIST)
			seterr(err, errlen, "%s already exists; not "
			    "overwriting it", path);
		else
			seterr(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
	}
	return fd;
}

static int
finish_file(int fd, const char *path, const char *text, size_t len,
    char *err, size_t errlen)
{
	if (write_all(fd, text, len) == -1 || fsync(fd) == -1) {
		seterr(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
note_keygen(const char *name, const char *prefix, char *err, size_t errlen)
{
	char		 keypath[PATH_MAX], pubpath[PATH_MAX];
	char		 sktext[BODY_MAX], pktext[BODY_MAX];
	char		 b64[sodium_base64_ENCODED_LEN(KEYDATA_LEN,
			    sodium_base64_VARIANT_ORIGINAL)];
	unsigned char	 keydata[KEYDATA_LEN], pk[32], id[4];
	unsigned char	*sk = NULL;
	size_t		 namelen;
	int		 kfd = -1, pfd = -1, made_key = 0, made_pub = 0;
	int		 n, m, rc = -1;

	namelen = name == NULL ? 0 : strnlen(name, NOTE_NAME_MAX + 1);
	if (!valid_name(name, namelen)) {
		seterr(err, errlen, "key name " BAD_NAME);
		goto fail;
	}
	if (prefix == NULL || *prefix == '\0') {
		seterr(err, errlen, "no key file prefix");
		goto fail;
	}
	n = snprintf(keypath, sizeof(keypath), "%s.key", prefix);
	m = snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix);
	if (n < 0 || (size_t)n >= sizeof(keypath) || m < 0 ||
	    (size_t)m >= sizeof(pubpath)) {
		seterr(err, errlen, "key file prefix is too long");
		goto fail;
	}
	if (sodium_init() < 0) {
		seterr(err, errlen, "libsodium cannot be initialised");
		goto fail;
	}
	if ((sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		seterr(err, errlen, "cannot allocate memory for the key");
		goto fail;
	}

	keydata[0] = ALG_ED25519;
	randombytes_buf(keydata + 1, 32);
	crypto_sign_seed_keypair(pk, sk, keydata + 1);
	key_id(name, namelen, pk, id);
	sodium_bin2base64(b64, sizeof(b64), keydata, sizeof(keydata),
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(sktext, sizeof(sktext), SIGNER_PREFIX
	    "%s+%02x%02x%02x%02x+%s\n", name, id[0], id[1], id[2], id[3], b64);
	memcpy(keydata + 1, pk, 32);
	sodium_bin2base64(b64, sizeof(b64), keydata, sizeof(keydata),
	    sodium_base64_VARIANT_ORIGINAL);
	m = snprintf(pktext, sizeof(pktext), "%s+%02x%02x%02x%02x+%s\n", name,
	    id[0], id[1], id[2], id[3], b64);
	/* Cannot happen with a valid name; the check keeps it so. */
	if (n < 0 || (size_t)n >= sizeof(sktext) || m < 0 ||
	    (size_t)m >= sizeof(pktext)) {
		seterr(err, errlen, "key text is too long");
		goto fail;
	}

	/* Both files are claimed before the secret is written anywhere. */
	if ((kfd = create_excl(keypath, 0600, err, errlen)) == -1)
		goto fail;
	made_key = 1;
	if ((pfd = create_excl(pubpath, 0644, err, errlen)) == -1)
		goto fail;
	made_pub = 1;
	if (finish_file(kfd, keypath, sktext, (size_t)n, err, errlen) == -1 ||
	    finish_file(pfd, pubpath, pktext, (size_t)m, err, errlen) == -1)
		goto fail;
	n = close(kfd);
	kfd = -1;
	if (n == -1) {
		seterr(err, errlen, "cannot write %s: %s", keypath,
		    strerror(errno));
		goto fail;
	}
	m = close(pfd);
	pfd = -1;
	if (m == -1) {
		seterr(err, errlen, "cannot write %s: %s", pubpath,
		    strerror(errno));
		goto fail;
	}
	rc = 0;

fail:
	if (kfd != -1)
		close(kfd);
	if (pfd != -1)
		close(pfd);
	/* Half a key pair is no use, and a partial key file is a hazard. */
	if (rc == -1 && made_key)
		unlink(keypath);
	if (rc == -1 && made_pub)
		unlink(pubpath);
	sodium_free(sk);
	sodium_memzero(keydata, sizeof(keydata));
	sodium_memzero(sktext, sizeof(sktext));
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

int
note_sign_checkpoint(const struct note_signer *s,
    const struct note_checkpoint *c, char *out, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	char		 body[BODY_MAX];
	char		 root64[sodium_base64_ENCODED_LEN(NOTE_HASH_LEN,
			    sodium_base64_VARIANT_ORIGINAL)];
	char		 sig64[sodium_base64_ENCODED_LEN(SIG_LEN,
			    sodium_base64_VARIANT_ORIGINAL)];
	unsigned char	 sig[SIG_LEN];
	size_t		 olen, nlen, slen, bodylen, total, off;
	int		 n;

	if (len != NULL)
		*len = 0;
	if (out != NULL && cap > 0)
		out[0] = '\0';
	nlen = strnlen(s->name, sizeof(s->name));
	if (s->sk == NULL || !valid_name(s->name, nlen)) {
		seterr(err, errlen, "no signer key loaded");
		return -1;
	}
	olen = strnlen(c->origin, sizeof(c->origin));
	if (!valid_name(c->origin, olen)) {
		seterr(err, errlen, "checkpoint origin " BAD_NAME);
		return -1;
	}
	sodium_bin2base64(root64, sizeof(root64), c->root, NOTE_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(body, sizeof(body), "%s\n%" PRIu64 "\n%s\n", c->origin,
	    c->size, root64);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		seterr(err, errlen, "checkpoint body is too long");
		return -1;
	}
	bodylen = (size_t)n;
	memcpy(sig, s->id, 4);
	if (crypto_sign_detached(sig + 4, NULL, (const unsigned char *)body,
	    bodylen, s->sk) != 0) {
		seterr(err, errlen, "cannot sign the checkpoint");
		return -1;
	}
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig),
	    sodium_base64_VARIANT_ORIGINAL);
	slen = strlen(sig64);
	total = bodylen + 1 + SIG_PREFIX_LEN + nlen + 1 + slen + 1;
	if (out == NULL || total >= cap) {
		seterr(err, errlen, "signed note needs %zu bytes, have %zu",
		    total + 1, out == NULL ? 0 : cap);
		return -1;
	}
	off = 0;
	memcpy(out + off, body, bodylen);
	off += bodylen;
	out[off++] = '\n';
	memcpy(out + off, SIG_PREFIX, SIG_PREFIX_LEN);
	off += SIG_PREFIX_LEN;
	memcpy(out + off, s->name, nlen);
	off += nlen;
	out[off++] = ' ';
	memcpy(out + off, sig64, slen);
	off += slen;
	out[off++] = '\n';
	out[off] = '\0';
	if (len != NULL)
		*len = off;
	return 0;
}

/*
 * Signed notes are UTF-8 without ASCII control characters other than
 * newline. Overlong forms, surrogates and code points past U+10FFFF are
 * not UTF-8. Returns 0, or the fault.
 */
static const char *
text_fault(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 && s[i] != '\n')
				return "note has a control character other "
				    "than newline";
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return "note is not UTF-8";
		if (len - i <= n)
			return "note is not UTF-8";
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return "note is not UTF-8";
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "note is not UTF-8";
		i += n + 1;
	}
	return NULL;
}

/*
 * One signature line, without its newline: em dash, space, key name,
 * space, base64 of key id and signature. The decoded bytes go to raw
 * (cap bytes, enough for any line of a note within NOTE_MAX).
 */
static int
parse_sig_line(const char *line, size_t len, const char **name,
    size_t *namelen, unsigned char *raw, size_t cap, size_t *rawlen)
{
	const char	*p, *end = line + len;

	if (len < SIG_PREFIX_LEN ||
	    memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
		return -1;
	*name = line + SIG_PREFIX_LEN;
	if ((p = memchr(*name, ' ', (size_t)(end - *name))) == NULL)
		return -1;
	*namelen = (size_t)(p - *name);
	if (!valid_name(*name, *namelen))
		return -1;
	p++;
	if (sodium_base642bin(raw, cap, p, (size_t)(end - p), NULL, rawlen,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	/* A key id and at least one byte of signature, as Go asks. */
	if (*rawlen < 5)
		return -1;
	return 0;
}

static int
parse_size(const char *s, size_t len, uint64_t *size)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (len == 0 || len > SIZE_DIGITS_MAX || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*size = v;
	return 0;
}

/*
 * The body: origin, tree size and root hash lines, then extension lines,
 * which are ignored. Every line ends in a newline and none is empty:
 * the caller split the note at the first blank line.
 */
static int
parse_checkpoint(const char *body, size_t len, struct note_checkpoint *c,
    char *err, size_t errlen)
{
	const char	*p = body, *end = body + len, *nl;
	size_t		 rootlen = 0;

	nl = memchr(p, '\n', (size_t)(end - p));
	if (!valid_name(p, (size_t)(nl - p))) {
		seterr(err, errlen, "not a checkpoint: the origin " BAD_NAME);
		return -1;
	}
	memcpy(c->origin, p, (size_t)(nl - p));
	c->origin[nl - p] = '\0';
	p = nl + 1;
	if (p == end) {
		seterr(err, errlen, "not a checkpoint: no tree size line");
		return -1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	if (parse_size(p, (size_t)(nl - p), &c->size) == -1) {
		seterr(err, errlen, "not a checkpoint: the tree size is not "
		    "a decimal number below 2^64 without leading zeros");
		return -1;
	}
	p = nl + 1;
	if (p == end) {
		seterr(err, errlen, "not a checkpoint: no root hash line");
		return -1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl - p != ROOT_B64_LEN ||
	    sodium_base642bin(c->root, sizeof(c->root), p, ROOT_B64_LEN,
	    NULL, &rootlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    rootlen != NOTE_HASH_LEN) {
		seterr(err, errlen, "not a checkpoint: the root hash is not "
		    "32 bytes in padded base64");
		return -1;
	}
	return 0;
}

/*
 * Check that text is a well-formed signed note whose text has no blank
 * line, and find in it the signature line by v, if v is not NULL. On
 * success *bodylen is the length of the signed text, and *found says
 * whether v signed; if so, sig holds the decoded signature line (key id
 * first) when it is *siglen == SIG_LEN bytes long.
 */
static int
split_note(const char *text, size_t len, const struct note_verifier *v,
    size_t *bodylen, int *found, unsigned char sig[SIG_LEN],
    size_t *siglen, char *err, size_t errlen)
{
	unsigned char	 raw[NOTE_MAX / 4 * 3];
	const char	*p, *end, *nl, *name, *fault;
	size_t		 vnamelen = 0, namelen, rawlen, nsigs = 0;

	*bodylen = 0;
	*found = 0;
	*siglen = 0;
	if (v != NULL)
		vnamelen = strlen(v->name);
	if (text == NULL || len == 0) {
		seterr(err, errlen, "note is empty");
		return -1;
	}
	if (len > NOTE_MAX) {
		seterr(err, errlen, "note is longer than %d bytes", NOTE_MAX);
		return -1;
	}
	if ((fault = text_fault((const unsigned char *)text, len)) != NULL) {
		seterr(err, errlen, "%s", fault);
		return -1;
	}
	if (text[len - 1] != '\n') {
		seterr(err, errlen, "note does not end in a newline");
		return -1;
	}

	/* The text runs to the first blank line; a checkpoint has no other. */
	end = text + len;
	for (p = text; p < end && *p != '\n'; p = nl + 1)
		nl = memchr(p, '\n', (size_t)(end - p));
	if (p == text) {
		seterr(err, errlen, "note begins with a blank line");
		return -1;
	}
	if (p == end) {
		seterr(err, errlen, "note has no blank line before its "
		    "signatures");
		return -1;
	}
	*bodylen = (size_t)(p - text);
	if (++p == end) {
		seterr(err, errlen, "note has no signatures");
		return -1;
	}
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p) {
			seterr(err, errlen, "note has a blank line among its "
			    "signatures");
			return -1;
		}
		if (++nsigs > SIG_LINES_MAX) {
			seterr(err, errlen, "note has more than %d signatures",
			    SIG_LINES_MAX);
			return -1;
		}
		if (parse_sig_line(p, (size_t)(nl - p), &name, &namelen, raw,
		    sizeof(raw), &rawlen) == -1) {
			seterr(err, errlen, "note has a malformed signature "
			    "line");
			return -1;
		}
		/* Other keys' signatures, this name's other keys included,
		 * are not ours to judge. */
		if (v == NULL || namelen != vnamelen ||
		    memcmp(name, v->name, namelen) != 0 ||
		    memcmp(raw, v->id, 4) != 0)
			continue;
		if (*found) {
			seterr(err, errlen, "note has more than one signature "
			    "by %s", v->name);
			return -1;
		}
		*found = 1;
		*siglen = rawlen;
		if (rawlen == SIG_LEN)
			memcpy(sig, raw, SIG_LEN);
	}
	return 0;
}

int
note_open_checkpoint(const char *text, size_t len,
    const struct note_verifier *v, struct note_checkpoint *c, char *err,
    size_t errlen)
{
	struct note_checkpoint	 cp;
	unsigned char		 sig[SIG_LEN];
	size_t			 bodylen, siglen;
	int			 found;

	memset(c, 0, sizeof(*c));
	memset(&cp, 0, sizeof(cp));
	if (!valid_name(v->name, strnlen(v->name, sizeof(v->name)))) {
		seterr(err, errlen, "no verifier key loaded");
		return -1;
	}
	if (split_note(text, len, v, &bodylen, &found, sig, &siglen, err,
	    errlen) == -1)
		return -1;
	if (!found) {
		seterr(err, errlen, "no signature by %s", v->name);
		return -1;
	}
	if (siglen != SIG_LEN || crypto_sign_verify_detached(sig + 4,
	    (const unsigned char *)text, bodylen, v->pk) != 0) {
		seterr(err, errlen, "bad signature by %s", v->name);
		return -1;
	}
	/* Only a signed text is worth reading. */
	if (parse_checkpoint(text, bodylen, &cp, err, errlen) == -1)
		return -1;
	*c = cp;
	return 0;
}

int
note_parse_checkpoint(const char *text, size_t len,
    struct note_checkpoint *c, char *err, size_t errlen)
{
	struct note_checkpoint	 cp;
	unsigned char		 sig[SIG_LEN];
	size_t			 bodylen, siglen;
	int			 found;

	memset(c, 0, sizeof(*c));
	memset(&cp, 0, sizeof(cp));
	if (split_note(text, len, NULL, &bodylen, &found, sig, &siglen, err,
	    errlen) == -1 ||
	    parse_checkpoint(text, bodylen, &cp, err, errlen) == -1)
		return -1;
	*c = cp;
	return 0;
}
