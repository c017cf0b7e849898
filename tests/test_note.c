/*
 * test_note: signed checkpoints and their keys.
 *
 * Known answers come from tests/vectors/note_vectors.json: notes and key
 * texts computed with Python's cryptography package, independently of
 * libsodium, and the key texts of golang.org/x/mod's sumdb/note tests.
 * Notes with bodies that note_sign_checkpoint() would never write are
 * signed here with libsodium directly, from the vectors' seeds, so that
 * they pass the signature check and reach the body parser.
 *
 * Files go to one mkdtemp() directory per test case, made and removed by
 * the parent process.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <sodium.h>

#include "note.h"

#define NAME_A		"hookledger.test/ledger"
#define NAME_B		"witness.example/w1"
#define EM		"\xe2\x80\x94"
#define ROOT_EX		"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
#define BODY_EX		NAME_A "\n20852163\n" ROOT_EX "\n"
#define BAD_NAME	"is not 1 to 128 printable ASCII bytes without space " \
			"or '+'"
#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

static char	 tmpdir[4096];
static char	 errbuf[512];
static json_t	*vectors;

static void
make_tmpdir(void)
{
	const char	*base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_note.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		tmpdir[0] = '\0';
}

static void
remove_tmpdir(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[8192];

	if (tmpdir[0] == '\0' || (d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

static void
setup(void)
{
	const char	*top = getenv("HL_TOP_SRCDIR");
	char		 path[4096];
	json_error_t	 jerr;

	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_msg(tmpdir[0] != '\0', "mkdtemp failed");
	memset(errbuf, 0, sizeof(errbuf));
	snprintf(path, sizeof(path), "%s/tests/vectors/note_vectors.json",
	    top != NULL ? top : ".");
	vectors = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(vectors != NULL, "cannot load %s: %s", path, jerr.text);
}

static void
teardown(void)
{
	json_decref(vectors);
	vectors = NULL;
}

/* vectors */

static const char *
jstr(json_t *o, const char *field)
{
	const char	*s = json_string_value(json_object_get(o, field));

	ck_assert_msg(s != NULL, "vector has no string %s", field);
	return s;
}

static json_t *
vkey(const char *key)
{
	json_t	*k;

	k = json_object_get(json_object_get(vectors, "keys"), key);
	ck_assert_ptr_nonnull(k);
	return k;
}

static json_t *
varray(const char *name)
{
	json_t	*a = json_object_get(vectors, name);

	ck_assert(json_is_array(a));
	ck_assert_uint_gt(json_array_size(a), 0);
	return a;
}

static const char *
go_key(const char *field)
{
	return jstr(json_object_get(vectors, "go_note_test"), field);
}

static void
unhex(const char *hex, unsigned char *out, size_t len)
{
	ck_assert_uint_eq(strlen(hex), 2 * len);
	ck_assert_int_eq(sodium_hex2bin(out, len, hex, 2 * len, NULL, NULL,
	    NULL), 0);
}

/* files */

static const char *
path_in(const char *name)
{
	static char	 path[4200];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Write len bytes of s to name in tmpdir with mode, replacing it. */
static const char *
put_at(const char *name, const void *s, size_t len, mode_t mode)
{
	const char	*path = path_in(name);
	int		 fd;

	unlink(path);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600),
	    -1);
	ck_assert_int_eq(write(fd, s, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static const char *
put_line(const char *name, const char *text, mode_t mode)
{
	char	 buf[1024];

	ck_assert_uint_lt(strlen(text), sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s\n", text);
	return put_at(name, buf, strlen(buf), mode);
}

static char *
slurp(const char *path)
{
	static char	 buf[1024];
	ssize_t		 n;
	int		 fd;

	ck_assert_int_ne(fd = open(path, O_RDONLY), -1);
	ck_assert_int_ge(n = read(fd, buf, sizeof(buf) - 1), 0);
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* keys */

static void
load_signer(const char *key, struct note_signer *s)
{
	const char	*path;

	path = put_line("signer.key", jstr(vkey(key), "signer_key"), 0600);
	ck_assert_msg(note_signer_load(path, s, errbuf, sizeof(errbuf)) == 0,
	    "%s", errbuf);
}

static void
load_verifier(const char *key, struct note_verifier *v)
{
	const char	*t = jstr(vkey(key), "verifier_key");

	ck_assert_msg(note_verifier_parse(t, strlen(t), v, errbuf,
	    sizeof(errbuf)) == 0, "%s", errbuf);
}

/* The signature line key signs body with, made without src/note.c. */
static const char *
sig_line(const char *key, const char *body)
{
	static char	 line[256];
	unsigned char	 seed[32], pk[32], sk[64], sig[68];
	char		 b64[sodium_base64_ENCODED_LEN(68,
			    sodium_base64_VARIANT_ORIGINAL)];

	unhex(jstr(vkey(key), "seed_hex"), seed, sizeof(seed));
	unhex(jstr(vkey(key), "key_id"), sig, 4);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig + 4, NULL, (const unsigned char *)body,
	    strlen(body), sk);
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(line, sizeof(line), EM " %s %s\n", jstr(vkey(key), "name"),
	    b64);
	return line;
}

/* body, blank line, then key's signature line. */
static const char *
signed_by(const char *key, const char *body)
{
	static char	 note[2 * NOTE_MAX];

	snprintf(note, sizeof(note), "%s\n%s", body, sig_line(key, body));
	return note;
}

static const char *
cat3(const char *a, const char *b, const char *c)
{
	static char	 buf[4 * NOTE_MAX];

	snprintf(buf, sizeof(buf), "%s%s%s", a, b, c);
	return buf;
}

/* Opening len bytes of note with v fails with want; c is left zero. */
static void
assert_open_fails(const char *note, size_t len,
    const struct note_verifier *v, const char *want)
{
	struct note_checkpoint	 c, zero;

	memset(&c, 0x5a, sizeof(c));
	memset(&zero, 0, sizeof(zero));
	errbuf[0] = '\0';
	ck_assert_int_eq(note_open_checkpoint(note, len, v, &c, errbuf,
	    sizeof(errbuf)), -1);
	if (want != NULL)
		ck_assert_str_eq(errbuf, want);
	else
		ck_assert_uint_gt(strlen(errbuf), 0);
	ck_assert_mem_eq(&c, &zero, sizeof(c));
}

/* A note that is not well formed is refused alike with or without a
 * signature check. */
static void
assert_malformed(const char *note, size_t len, const struct note_verifier *v,
    const char *want)
{
	struct note_checkpoint	 c, zero;
	char			 first[sizeof(errbuf)];

	assert_open_fails(note, len, v, want);
	snprintf(first, sizeof(first), "%s", errbuf);
	memset(&c, 0x5a, sizeof(c));
	memset(&zero, 0, sizeof(zero));
	errbuf[0] = '\0';
	ck_assert_int_eq(note_parse_checkpoint(note, len, &c, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, first);
	ck_assert_mem_eq(&c, &zero, sizeof(c));
}

static void
open_ok(const char *note, const struct note_verifier *v,
    struct note_checkpoint *c)
{
	ck_assert_msg(note_open_checkpoint(note, strlen(note), v, c, errbuf,
	    sizeof(errbuf)) == 0, "%s", errbuf);
}

static void
assert_checkpoint(const struct note_checkpoint *c, const char *origin,
    uint64_t size, const char *root64)
{
	unsigned char	 root[NOTE_HASH_LEN];

	ck_assert_int_eq(sodium_base642bin(root, sizeof(root), root64,
	    strlen(root64), NULL, NULL, NULL, sodium_base64_VARIANT_ORIGINAL),
	    0);
	ck_assert_str_eq(c->origin, origin);
	ck_assert_uint_eq(c->size, size);
	ck_assert_mem_eq(c->root, root, NOTE_HASH_LEN);
}

static const char *
no_sig_by(const char *name)
{
	static char	 buf[256];

	snprintf(buf, sizeof(buf), "no signature by %s", name);
	return buf;
}

static const char *
bad_sig_by(const char *name)
{
	static char	 buf[256];

	snprintf(buf, sizeof(buf), "bad signature by %s", name);
	return buf;
}

/* key generation */

START_TEST(test_keygen)
{
	struct note_signer	 s;
	struct note_verifier	 v;
	struct note_checkpoint	 c, got;
	struct stat		 st;
	char			 prefix[4200], keypath[4300], pubpath[4300];
	char			 want[256], note[NOTE_MAX], sk[256], *p;
	size_t			 len;

	umask(022);
	snprintf(prefix, sizeof(prefix), "%s/ledger", tmpdir);
	snprintf(keypath, sizeof(keypath), "%s.key", prefix);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix);
	ck_assert_msg(note_keygen(NAME_A, prefix, errbuf, sizeof(errbuf)) == 0,
	    "%s", errbuf);

	ck_assert_int_eq(lstat(keypath, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(lstat(pubpath, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);

	/* PRIVATE+KEY+name+8 hex+44 base64, one line; the same id in both. */
	snprintf(sk, sizeof(sk), "%s", slurp(keypath));
	ck_assert_uint_eq(strlen(sk), 12 + strlen(NAME_A) + 1 + 8 + 1 + 44 + 1);
	ck_assert_int_eq(strncmp(sk, "PRIVATE+KEY+" NAME_A "+", 12 +
	    strlen(NAME_A) + 1), 0);
	ck_assert_ptr_eq(strchr(sk, '\n'), sk + strlen(sk) - 1);
	p = slurp(pubpath);
	ck_assert_uint_eq(strlen(p), strlen(NAME_A) + 1 + 8 + 1 + 44 + 1);
	ck_assert_ptr_eq(strchr(p, '\n'), p + strlen(p) - 1);
	ck_assert_mem_eq(p, sk + 12, strlen(NAME_A) + 1 + 8 + 1);
	/* Base64 of 0x01 and 32 bytes always begins with A. */
	ck_assert_int_eq(p[strlen(NAME_A) + 10], 'A');
	sodium_memzero(sk, sizeof(sk));

	ck_assert_msg(note_signer_load(keypath, &s, errbuf, sizeof(errbuf))
	    == 0, "%s", errbuf);
	ck_assert_msg(note_verifier_load(pubpath, &v, errbuf, sizeof(errbuf))
	    == 0, "%s", errbuf);
	ck_assert_str_eq(s.name, NAME_A);
	ck_assert_str_eq(v.name, NAME_A);
	ck_assert_mem_eq(s.id, v.id, 4);
	ck_assert_mem_eq(s.sk + 32, v.pk, 32);
	snprintf(want, sizeof(want), "%s+%02x%02x%02x%02x+", NAME_A, v.id[0],
	    v.id[1], v.id[2], v.id[3]);
	ck_assert_int_eq(strncmp(slurp(pubpath), want, strlen(want)), 0);

	memset(&c, 0, sizeof(c));
	strcpy(c.origin, NAME_A);
	c.size = 42;
	memset(c.root, 0xab, sizeof(c.root));
	ck_assert_int_eq(note_sign_checkpoint(&s, &c, note, sizeof(note), &len,
	    errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(len, strlen(note));
	open_ok(note, &v, &got);
	ck_assert_mem_eq(&got, &c, sizeof(c));
	note_signer_free(&s);
}
END_TEST

/* Two key pairs from two calls differ. */
START_TEST(test_keygen_random)
{
	char	 a[256], pa[4200], pb[4200];

	snprintf(pa, sizeof(pa), "%s/a", tmpdir);
	snprintf(pb, sizeof(pb), "%s/b", tmpdir);
	ck_assert_int_eq(note_keygen("x", pa, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(note_keygen("x", pb, errbuf, sizeof(errbuf)), 0);
	snprintf(a, sizeof(a), "%s", slurp(path_in("a.pub")));
	ck_assert_str_ne(a, slurp(path_in("b.pub")));
	snprintf(a, sizeof(a), "%s", slurp(path_in("a.key")));
	ck_assert_str_ne(a, slurp(path_in("b.key")));
}
END_TEST

START_TEST(test_keygen_no_overwrite)
{
	struct stat	 st;
	char		 prefix[4200], want[8192], key[256], pub[256];

	/* Both files exist: neither is touched. */
	snprintf(prefix, sizeof(prefix), "%s/k", tmpdir);
	ck_assert_int_eq(note_keygen(NAME_A, prefix, errbuf, sizeof(errbuf)),
	    0);
	snprintf(key, sizeof(key), "%s", slurp(path_in("k.key")));
	snprintf(pub, sizeof(pub), "%s", slurp(path_in("k.pub")));
	ck_assert_int_eq(note_keygen(NAME_A, prefix, errbuf, sizeof(errbuf)),
	    -1);
	snprintf(want, sizeof(want), "%s already exists; not overwriting it",
	    path_in("k.key"));
	ck_assert_str_eq(errbuf, want);
	ck_assert_str_eq(slurp(path_in("k.key")), key);
	ck_assert_str_eq(slurp(path_in("k.pub")), pub);

	/* Only the .pub exists: it stays, and no .key is left behind. */
	put_line("p.pub", "something else", 0644);
	snprintf(prefix, sizeof(prefix), "%s/p", tmpdir);
	ck_assert_int_eq(note_keygen(NAME_A, prefix, errbuf, sizeof(errbuf)),
	    -1);
	snprintf(want, sizeof(want), "%s already exists; not overwriting it",
	    path_in("p.pub"));
	ck_assert_str_eq(errbuf, want);
	ck_assert_int_eq(lstat(path_in("p.key"), &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(slurp(path_in("p.pub")), "something else\n");

	/* A dangling symlink where the key goes is not followed. */
	snprintf(want, sizeof(want), "%s", path_in("target"));
	ck_assert_int_eq(symlink(want, path_in("s.key")), 0);
	snprintf(prefix, sizeof(prefix), "%s/s", tmpdir);
	ck_assert_int_eq(note_keygen(NAME_A, prefix, errbuf, sizeof(errbuf)),
	    -1);
	snprintf(want, sizeof(want), "%s already exists; not overwriting it",
	    path_in("s.key"));
	ck_assert_str_eq(errbuf, want);
	ck_assert_int_eq(lstat(path_in("target"), &st), -1);
	ck_assert_int_eq(lstat(path_in("s.pub"), &st), -1);
}
END_TEST

static const char *bad_names[] = {
	"", "a b", "a+b", "tab\there", "new\nline", "caf\xc3\xa9", "\x7f",
	/* 129 bytes */
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

START_TEST(test_keygen_bad_name)
{
	struct stat	 st;
	char		 prefix[4200];

	snprintf(prefix, sizeof(prefix), "%s/n", tmpdir);
	ck_assert_int_eq(note_keygen(bad_names[_i], prefix, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "key name " BAD_NAME);
	ck_assert_int_eq(lstat(path_in("n.key"), &st), -1);
	ck_assert_int_eq(lstat(path_in("n.pub"), &st), -1);
}
END_TEST

START_TEST(test_keygen_bad_prefix)
{
	char	 prefix[PATH_MAX + 16], want[8192];

	ck_assert_int_eq(note_keygen("x", "", errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "no key file prefix");
	memset(prefix, 'p', sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	ck_assert_int_eq(note_keygen("x", prefix, errbuf, sizeof(errbuf)),
	    -1);
	ck_assert_str_eq(errbuf, "key file prefix is too long");
	snprintf(prefix, sizeof(prefix), "%s/nodir/k", tmpdir);
	ck_assert_int_eq(note_keygen("x", prefix, errbuf, sizeof(errbuf)),
	    -1);
	snprintf(want, sizeof(want), "cannot create %s.key: No such file or "
	    "directory", prefix);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

/* known keys */

static const char *vector_keys[] = { "A", "B", "A2" };

START_TEST(test_vector_keys)
{
	struct note_signer	 s;
	struct note_verifier	 v;
	json_t			*k = vkey(vector_keys[_i]);
	unsigned char		 pk[32], id[4];

	unhex(jstr(k, "public_hex"), pk, sizeof(pk));
	unhex(jstr(k, "key_id"), id, sizeof(id));
	load_signer(vector_keys[_i], &s);
	load_verifier(vector_keys[_i], &v);
	ck_assert_str_eq(s.name, jstr(k, "name"));
	ck_assert_mem_eq(s.id, id, 4);
	ck_assert_mem_eq(s.sk + 32, pk, 32);
	ck_assert_str_eq(v.name, jstr(k, "name"));
	ck_assert_mem_eq(v.id, id, 4);
	ck_assert_mem_eq(v.pk, pk, 32);
	note_signer_free(&s);
}
END_TEST

/* The Go package's own test keys. */
START_TEST(test_go_keys)
{
	static const unsigned char	 peter_id[4] = {
		0xc7, 0x4f, 0x20, 0xa3
	};
	static const unsigned char	 enoch_id[4] = {
		0xaf, 0x0c, 0xfe, 0x78
	};
	struct note_signer		 s;
	struct note_verifier		 v;
	const char			*t;

	put_line("peter.key", go_key("peter_signer"), 0600);
	ck_assert_msg(note_signer_load(path_in("peter.key"), &s, errbuf,
	    sizeof(errbuf)) == 0, "%s", errbuf);
	t = go_key("peter_verifier");
	ck_assert_int_eq(note_verifier_parse(t, strlen(t), &v, errbuf,
	    sizeof(errbuf)), 0);
	ck_assert_str_eq(s.name, "PeterNeumann");
	ck_assert_str_eq(v.name, "PeterNeumann");
	ck_assert_mem_eq(s.id, peter_id, 4);
	ck_assert_mem_eq(v.id, peter_id, 4);
	ck_assert_mem_eq(s.sk + 32, v.pk, 32);
	note_signer_free(&s);
	t = go_key("enoch_verifier");
	ck_assert_int_eq(note_verifier_parse(t, strlen(t), &v, errbuf,
	    sizeof(errbuf)), 0);
	ck_assert_str_eq(v.name, "EnochRoot");
	ck_assert_mem_eq(v.id, enoch_id, 4);
}
END_TEST

/* As TestNewVerifier: no proper substring and no one-byte change of a
 * good key is a good key. */
START_TEST(test_go_verifier_manglings)
{
	struct note_verifier	 v, zero;
	char			 b[128];
	size_t			 i, j, n;

	memset(&zero, 0, sizeof(zero));
	snprintf(b, sizeof(b), "%s", go_key("peter_verifier"));
	n = strlen(b);
	for (i = 0; i <= n; i++)
		for (j = i; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memset(&v, 0x5a, sizeof(v));
			ck_assert_msg(note_verifier_parse(b + i, j - i, &v,
			    errbuf, sizeof(errbuf)) == -1, "%.*s accepted",
			    (int)(j - i), b + i);
			ck_assert_mem_eq(&v, &zero, sizeof(v));
		}
	for (i = 0; i < n; i++) {
		b[i]++;
		ck_assert_msg(note_verifier_parse(b, n, &v, errbuf,
		    sizeof(errbuf)) == -1, "%s accepted", b);
		b[i]--;
	}
	ck_assert_int_eq(note_verifier_parse(b, n, &v, errbuf, sizeof(errbuf)),
	    0);
}
END_TEST

/* As TestNewSigner, through a key file. */
START_TEST(test_go_signer_manglings)
{
	struct note_signer	 s, zero;
	char			 b[128];
	const char		*path;
	size_t			 i, j, n;

	memset(&zero, 0, sizeof(zero));
	snprintf(b, sizeof(b), "%s", go_key("peter_signer"));
	n = strlen(b);
	for (i = 0; i < n; i++)
		for (j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			path = put_at("m.key", b + i, j - i, 0600);
			memset(&s, 0x5a, sizeof(s));
			ck_assert_msg(note_signer_load(path, &s, errbuf,
			    sizeof(errbuf)) == -1, "%.*s accepted",
			    (int)(j - i), b + i);
			ck_assert_mem_eq(&s, &zero, sizeof(s));
		}
	for (i = 0; i < n; i++) {
		b[i]++;
		path = put_at("m.key", b, n, 0600);
		ck_assert_msg(note_signer_load(path, &s, errbuf,
		    sizeof(errbuf)) == -1, "%s accepted", b);
		b[i]--;
	}
	path = put_at("m.key", b, n, 0600);
	ck_assert_int_eq(note_signer_load(path, &s, errbuf, sizeof(errbuf)), 0);
	note_signer_free(&s);
}
END_TEST

#define VKEY_A_DATA	"AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
#define NOT_VFORM	"key is not <name>+<key id>+<key data>"
#define BAD_ID		"key id is not 8 lowercase hex digits"
#define NOT_B64		"key data is not base64"

static const struct {
	const char	*text;
	const char	*err;
} bad_verifiers[] = {
	{ "", NOT_VFORM },
	{ NAME_A, NOT_VFORM },
	{ NAME_A "+d9c27d2a", NOT_VFORM },
	{ NAME_A "d9c27d2a" VKEY_A_DATA, NOT_VFORM },
	{ "+d9c27d2a+" VKEY_A_DATA, "key name " BAD_NAME },
	{ "hookledger test+d9c27d2a+" VKEY_A_DATA, "key name " BAD_NAME },
	{ NAME_A "+D9C27D2A+" VKEY_A_DATA, BAD_ID },
	{ NAME_A "+d9c27d2+" VKEY_A_DATA, BAD_ID },
	{ NAME_A "+d9c27d2a0+" VKEY_A_DATA, BAD_ID },
	{ NAME_A "+d9c27d2g+" VKEY_A_DATA, BAD_ID },
	{ NAME_A "++" VKEY_A_DATA, BAD_ID },
	{ NAME_A "+d9c27d2b+" VKEY_A_DATA, "key id does not match the key" },
	{ NAME_A "+d9c27d2a+", "key data is not 33 bytes" },
	{ NAME_A "+d9c27d2a+" VKEY_A_DATA "=", NOT_B64 },
	{ NAME_A "+d9c27d2a+" VKEY_A_DATA "\n", NOT_B64 },
	{ NAME_A "+d9c27d2a+" VKEY_A_DATA " ", NOT_B64 },
	{ NAME_A "+d9c27d2a+AQOhB7_zzhC-HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
	    NOT_B64 },
	{ NAME_A "+d9c27d2a+" VKEY_A_DATA VKEY_A_DATA VKEY_A_DATA,
	    "key data is not 33 bytes" },
	/* A signer key is not a verifier key. */
	{ "PRIVATE+KEY+" NAME_A "+d9c27d2a+"
	    "AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f", BAD_ID },
	/* Go's wrong-length key has non-zero bits after its last byte. */
	{ "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
	    "BADKEY==", NOT_B64 },
	{ "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	    "key algorithm is not Ed25519" },
};

START_TEST(test_bad_verifier_text)
{
	struct note_verifier	 v, zero;
	const char		*t = bad_verifiers[_i].text;

	memset(&zero, 0, sizeof(zero));
	memset(&v, 0x5a, sizeof(v));
	ck_assert_int_eq(note_verifier_parse(t, strlen(t), &v, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, bad_verifiers[_i].err);
	ck_assert_mem_eq(&v, &zero, sizeof(v));
}
END_TEST

/* Wrong algorithm, wrong lengths and bad points, with matching ids. */
START_TEST(test_bad_verifier_vectors)
{
	struct note_verifier	 v;
	json_t			*a = varray("bad_verifiers"), *e;
	const char		*t;
	size_t			 i;

	json_array_foreach(a, i, e) {
		t = jstr(e, "text");
		ck_assert_int_eq(note_verifier_parse(t, strlen(t), &v, errbuf,
		    sizeof(errbuf)), -1);
		ck_assert_str_eq(errbuf, jstr(e, "error"));
	}
	ck_assert_uint_eq(i, 5);
}
END_TEST

static const char *
signer_err(const char *path, const char *fault)
{
	static char	 buf[8192];

	snprintf(buf, sizeof(buf), "signer key file %s: %s", path, fault);
	return buf;
}

static void
assert_signer_refused(const char *path, const char *fault)
{
	struct note_signer	 s, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&s, 0x5a, sizeof(s));
	ck_assert_int_eq(note_signer_load(path, &s, errbuf, sizeof(errbuf)),
	    -1);
	ck_assert_str_eq(errbuf, signer_err(path, fault));
	ck_assert_mem_eq(&s, &zero, sizeof(s));
}

#define SKEY_A_DATA	"AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
#define NOT_PRIVATE	"key does not start with PRIVATE+KEY+"

static const struct {
	const char	*text;
	const char	*err;
} bad_signers[] = {
	{ NAME_A "+d9c27d2a+" VKEY_A_DATA, NOT_PRIVATE },
	{ "private+key+" NAME_A "+d9c27d2a+" SKEY_A_DATA, NOT_PRIVATE },
	{ "PRIVATE+KEY" NAME_A "+d9c27d2a+" SKEY_A_DATA, NOT_PRIVATE },
	{ "PRIVATE+KEY+", "key is not PRIVATE+KEY+<name>+<key id>+<key data>" },
	{ "PRIVATE+KEY+" NAME_A "+d9c27d2a",
	    "key is not PRIVATE+KEY+<name>+<key id>+<key data>" },
	{ "PRIVATE+KEY+PRIVATE+KEY+" NAME_A "+d9c27d2a+" SKEY_A_DATA, BAD_ID },
	{ "PRIVATE+KEY+" NAME_A "+d9c27d2b+" SKEY_A_DATA,
	    "key id does not match the key" },
	{ "PRIVATE+KEY+" NAME_A "+D9C27D2A+" SKEY_A_DATA, BAD_ID },
	{ "PRIVATE+KEY+" NAME_A "+d9c27d2a+" SKEY_A_DATA "\r", NOT_B64 },
	{ "PRIVATE+KEY+" NAME_A "+d9c27d2a+" SKEY_A_DATA "\n",
	    "has more than one line" },
	{ "\nPRIVATE+KEY+" NAME_A "+d9c27d2a+" SKEY_A_DATA,
	    "has more than one line" },
	{ "PRIVATE+KEY+ " NAME_A "+d9c27d2a+" SKEY_A_DATA,
	    "key name " BAD_NAME },
};

START_TEST(test_bad_signer_text)
{
	const char	*path;

	path = put_line("bad.key", bad_signers[_i].text, 0600);
	assert_signer_refused(path, bad_signers[_i].err);
}
END_TEST

START_TEST(test_bad_signer_vectors)
{
	json_t	*a = varray("bad_signers"), *e;
	size_t	 i;

	json_array_foreach(a, i, e)
		assert_signer_refused(put_line("bad.key", jstr(e, "text"),
		    0600), jstr(e, "error"));
	ck_assert_uint_eq(i, 4);
}
END_TEST

static const struct {
	mode_t	 mode;
	int	 ok;
} mode_cases[] = {
	{ 0600, 1 }, { 0400, 1 }, { 0700, 1 },
	{ 0640, 0 }, { 0604, 0 }, { 0644, 0 }, { 0620, 0 }, { 0602, 0 },
	{ 0610, 0 }, { 0601, 0 }, { 0660, 0 }, { 0666, 0 },
};

START_TEST(test_signer_modes)
{
	struct note_signer	 s;
	const char		*path;
	char			 fault[128];
	mode_t			 mode = mode_cases[_i].mode;

	path = put_line("mode.key", jstr(vkey("A"), "signer_key"), mode);
	if (!mode_cases[_i].ok) {
		snprintf(fault, sizeof(fault), "is readable or writable by "
		    "group or others (mode %04o); chmod 600 it",
		    (unsigned int)mode);
		assert_signer_refused(path, fault);
		return;
	}
	ck_assert_msg(note_signer_load(path, &s, errbuf, sizeof(errbuf)) == 0,
	    "%s", errbuf);
	ck_assert_str_eq(s.name, NAME_A);
	note_signer_free(&s);
}
END_TEST

START_TEST(test_signer_file_kinds)
{
	struct note_signer	 s;
	char			 big[600];
	const char		*key = jstr(vkey("A"), "signer_key");

	assert_signer_refused(tmpdir, "is not a regular file");
	ck_assert_int_eq(mkfifo(path_in("fifo"), 0600), 0);
	assert_signer_refused(path_in("fifo"), "is not a regular file");
	assert_signer_refused(path_in("absent"), "No such file or directory");
	assert_signer_refused(put_at("e.key", "", 0, 0600), "is empty");
	assert_signer_refused(put_at("e.key", "\n", 1, 0600), "is empty");
	memset(big, 'A', sizeof(big));
	assert_signer_refused(put_at("big.key", big, 513, 0600),
	    "is larger than 512 bytes");
	/* 512 bytes are read, and then refused as a key. */
	assert_signer_refused(put_at("big.key", big, 512, 0600),
	    NOT_PRIVATE);
	/* Without its newline, a key file is still good. */
	ck_assert_int_eq(note_signer_load(put_at("nonl.key", key, strlen(key),
	    0600), &s, errbuf, sizeof(errbuf)), 0);
	note_signer_free(&s);
}
END_TEST

START_TEST(test_verifier_load)
{
	struct note_verifier	 v;
	char			 want[8192], two[512];
	const char		*t = jstr(vkey("B"), "verifier_key"), *path;

	/* Public: group and others may read it. */
	path = put_line("b.pub", t, 0644);
	ck_assert_int_eq(note_verifier_load(path, &v, errbuf, sizeof(errbuf)),
	    0);
	ck_assert_str_eq(v.name, NAME_B);
	path = put_at("b.pub", t, strlen(t), 0444);
	ck_assert_int_eq(note_verifier_load(path, &v, errbuf, sizeof(errbuf)),
	    0);
	ck_assert_str_eq(v.name, NAME_B);

	snprintf(two, sizeof(two), "%s\n%s\n", t, t);
	path = put_at("two.pub", two, strlen(two), 0644);
	ck_assert_int_eq(note_verifier_load(path, &v, errbuf, sizeof(errbuf)),
	    -1);
	snprintf(want, sizeof(want), "verifier key file %s: has more than "
	    "one line", path);
	ck_assert_str_eq(errbuf, want);
	ck_assert_int_eq(note_verifier_load(tmpdir, &v, errbuf,
	    sizeof(errbuf)), -1);
	snprintf(want, sizeof(want), "verifier key file %s: is not a regular "
	    "file", tmpdir);
	ck_assert_str_eq(errbuf, want);
	path = put_at("empty.pub", "", 0, 0644);
	ck_assert_int_eq(note_verifier_load(path, &v, errbuf, sizeof(errbuf)),
	    -1);
	snprintf(want, sizeof(want), "verifier key file %s: is empty", path);
	ck_assert_str_eq(errbuf, want);
}
END_TEST

START_TEST(test_signer_free)
{
	struct note_signer	 s, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&s, 0, sizeof(s));
	note_signer_free(&s);
	note_signer_free(NULL);
	load_signer("A", &s);
	ck_assert_ptr_nonnull(s.sk);
	note_signer_free(&s);
	ck_assert_mem_eq(&s, &zero, sizeof(s));
	note_signer_free(&s);
}
END_TEST

/* The secret key is read-only once loaded: a write faults. */
START_TEST(test_signer_read_only)
{
	struct note_signer	 s;

	load_signer("A", &s);
	((volatile unsigned char *)s.sk)[0] ^= 1;
	ck_abort_msg("writing the key did not fault");
}
END_TEST

/* signing */

static void
vector_checkpoint(json_t *e, struct note_checkpoint *c)
{
	char	*end;

	memset(c, 0, sizeof(*c));
	ck_assert_uint_le(strlen(jstr(e, "origin")), NOTE_NAME_MAX);
	strcpy(c->origin, jstr(e, "origin"));
	errno = 0;
	c->size = strtoull(jstr(e, "size"), &end, 10);
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(*end, '\0');
	unhex(jstr(e, "root_hex"), c->root, sizeof(c->root));
}

START_TEST(test_known_answers)
{
	struct note_signer	 s;
	struct note_verifier	 v;
	struct note_checkpoint	 c, got;
	json_t			*a = varray("checkpoints"), *e;
	char			 note[NOTE_MAX];
	size_t			 i, len;

	json_array_foreach(a, i, e) {
		vector_checkpoint(e, &c);
		load_signer(jstr(e, "key"), &s);
		load_verifier(jstr(e, "key"), &v);
		ck_assert_msg(note_sign_checkpoint(&s, &c, note, sizeof(note),
		    &len, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
		ck_assert_str_eq(note, jstr(e, "note"));
		ck_assert_uint_eq(len, strlen(jstr(e, "note")));
		open_ok(jstr(e, "note"), &v, &got);
		ck_assert_mem_eq(&got, &c, sizeof(c));
		note_signer_free(&s);
	}
	ck_assert_uint_eq(i, 5);
}
END_TEST

START_TEST(test_sign_open_round_trip)
{
	static const uint64_t	 sizes[] = {
		0, 1, 9, 10, 99, 100, UINT64_C(1) << 32,
		UINT64_C(9223372036854775807), UINT64_C(9223372036854775808),
		UINT64_MAX - 1, UINT64_MAX
	};
	struct note_signer	 s;
	struct note_verifier	 v;
	struct note_checkpoint	 c, got;
	char			 note[NOTE_MAX], digits[32], want[NOTE_MAX];
	size_t			 i, len;

	load_signer("B", &s);
	load_verifier("B", &v);
	for (i = 0; i < (size_t)NELEM(sizes); i++) {
		memset(&c, 0, sizeof(c));
		/* Longest origins every other time. */
		if (i % 2)
			memset(c.origin, 'o', NOTE_NAME_MAX);
		else
			strcpy(c.origin, "o");
		c.size = sizes[i];
		randombytes_buf(c.root, sizeof(c.root));
		ck_assert_int_eq(note_sign_checkpoint(&s, &c, note,
		    sizeof(note), &len, errbuf, sizeof(errbuf)), 0);
		ck_assert_uint_eq(len, strlen(note));
		open_ok(note, &v, &got);
		ck_assert_mem_eq(&got, &c, sizeof(c));
		/* The size is written plainly in decimal. */
		snprintf(digits, sizeof(digits), "\n%" PRIu64 "\n", c.size);
		ck_assert_ptr_nonnull(strstr(note, digits));
		/* The output is exactly what the test's own signer makes. */
		snprintf(want, sizeof(want), "%s", note);
		*strstr(want, "\n\n" EM) = '\0';
		strcat(want, "\n");
		ck_assert_str_eq(note, signed_by("B", want));
	}
	note_signer_free(&s);
}
END_TEST

START_TEST(test_sign_buffer)
{
	struct note_signer	 s;
	struct note_checkpoint	 c;
	const char		*want = BODY_EX;
	char			 note[NOTE_MAX], msg[128];
	size_t			 len, need;

	load_signer("A", &s);
	memset(&c, 0, sizeof(c));
	strcpy(c.origin, NAME_A);
	c.size = 20852163;
	ck_assert_int_eq(sodium_base642bin(c.root, sizeof(c.root), ROOT_EX,
	    strlen(ROOT_EX), NULL, NULL, NULL,
	    sodium_base64_VARIANT_ORIGINAL), 0);
	want = signed_by("A", want);
	need = strlen(want) + 1;
	ck_assert_int_eq(note_sign_checkpoint(&s, &c, note, need, &len,
	    errbuf, sizeof(errbuf)), 0);
	ck_assert_str_eq(note, want);
	ck_assert_uint_eq(len, need - 1);
	memset(note, 'x', sizeof(note));
	len = 99;
	ck_assert_int_eq(note_sign_checkpoint(&s, &c, note, need - 1, &len,
	    errbuf, sizeof(errbuf)), -1);
	snprintf(msg, sizeof(msg), "signed note needs %zu bytes, have %zu",
	    need, need - 1);
	ck_assert_str_eq(errbuf, msg);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(note_sign_checkpoint(&s, &c, note, 0, &len,
	    errbuf, sizeof(errbuf)), -1);
	snprintf(msg, sizeof(msg), "signed note needs %zu bytes, have 0",
	    need);
	ck_assert_str_eq(errbuf, msg);
	ck_assert_int_eq(note_sign_checkpoint(&s, &c, note, sizeof(note), NULL,
	    errbuf, sizeof(errbuf)), 0);
	ck_assert_str_eq(note, want);
	note_signer_free(&s);
}
END_TEST

START_TEST(test_sign_bad_input)
{
	struct note_signer	 s;
	struct note_checkpoint	 c;
	char			 note[NOTE_MAX];
	size_t			 len, i;

	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	strcpy(c.origin, NAME_A);
	ck_assert_int_eq(note_sign_checkpoint(&s, &c, note, sizeof(note), &len,
	    errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "no signer key loaded");
	load_signer("A", &s);
	for (i = 0; i < (size_t)NELEM(bad_names); i++) {
		memset(&c, 0, sizeof(c));
		memcpy(c.origin, bad_names[i], strlen(bad_names[i]) >
		    NOTE_NAME_MAX ? NOTE_NAME_MAX + 1 : strlen(bad_names[i]));
		ck_assert_int_eq(note_sign_checkpoint(&s, &c, note,
		    sizeof(note), &len, errbuf, sizeof(errbuf)), -1);
		ck_assert_str_eq(errbuf, "checkpoint origin " BAD_NAME);
		ck_assert_uint_eq(len, 0);
	}
	note_signer_free(&s);
}
END_TEST

/* opening */

START_TEST(test_open_no_verifier)
{
	struct note_verifier	 v;

	memset(&v, 0, sizeof(v));
	assert_open_fails(signed_by("A", BODY_EX), strlen(signed_by("A",
	    BODY_EX)), &v, "no verifier key loaded");
}
END_TEST

/* Every one-bit change anywhere in a signed note is caught. */
START_TEST(test_bit_flips)
{
	struct note_verifier	 v;
	char			 note[NOTE_MAX];
	size_t			 i, len;
	int			 bit;

	load_verifier("A", &v);
	snprintf(note, sizeof(note), "%s",
	    jstr(json_array_get(varray("checkpoints"), 1), "note"));
	len = strlen(note);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			note[i] ^= (char)(1 << bit);
			assert_open_fails(note, len, &v, NULL);
			note[i] ^= (char)(1 << bit);
		}
}
END_TEST

/* Change one character of the note at the first occurrence of from. */
static const char *
edit(const char *note, const char *from, const char *to)
{
	static char	 buf[2 * NOTE_MAX];
	const char	*p = strstr(note, from);

	ck_assert_ptr_nonnull(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - note), note, to,
	    p + strlen(from));
	return buf;
}

START_TEST(test_tampered)
{
	struct note_verifier	 v;
	const char		*note, *t;

	load_verifier("A", &v);
	note = jstr(json_array_get(varray("checkpoints"), 1), "note");
	/* "2cJ9Kr" carries the key id d9c27d2a; later characters the
	 * signature. */
	t = edit(note, "2cJ9KrRW", "2cJ9KrRX");
	assert_open_fails(t, strlen(t), &v, bad_sig_by(NAME_A));
	/* The last character holds two bits that must be zero. */
	t = edit(note, "OV5EOvhHQU=", "OV5EOvhHQV=");
	assert_open_fails(t, strlen(t), &v, "note has a malformed signature "
	    "line");
	t = edit(note, "OV5EOvhHQU=", "OV5EOvhHQE=");
	assert_open_fails(t, strlen(t), &v, bad_sig_by(NAME_A));
	t = edit(note, "2cJ9KrRW", "2cJ8KrRW");
	assert_open_fails(t, strlen(t), &v, no_sig_by(NAME_A));
	t = edit(note, "/Xajj", "/Xakj");
	assert_open_fails(t, strlen(t), &v, bad_sig_by(NAME_A));
	t = edit(note, "\n20852163\n", "\n20852162\n");
	assert_open_fails(t, strlen(t), &v, bad_sig_by(NAME_A));
	t = edit(note, "\n20852163\n", "\n020852163\n");
	assert_open_fails(t, strlen(t), &v, bad_sig_by(NAME_A));
	t = edit(note, "ledger\n2", "ledgeR\n2");
	assert_open_fails(t, strlen(t), &v, bad_sig_by(NAME_A));
	t = edit(note, EM " hookledger.test/ledger ",
	    EM " hookledger.test/ledgeR ");
	assert_open_fails(t, strlen(t), &v, no_sig_by(NAME_A));
	t = edit(note, EM " hook", "- hook");
	assert_open_fails(t, strlen(t), &v, "note has a malformed signature "
	    "line");
}
END_TEST

START_TEST(test_other_keys)
{
	struct note_verifier	 va, va2, vb;
	json_t			*a = varray("checkpoints");
	const char		*by_a = jstr(json_array_get(a, 1), "note");
	const char		*by_b = jstr(json_array_get(a, 3), "note");
	const char		*by_a2 = jstr(json_array_get(a, 4), "note");

	load_verifier("A", &va);
	load_verifier("A2", &va2);
	load_verifier("B", &vb);
	assert_open_fails(by_b, strlen(by_b), &va, no_sig_by(NAME_A));
	assert_open_fails(by_a, strlen(by_a), &vb, no_sig_by(NAME_B));
	/* Same name, another key. */
	assert_open_fails(by_a2, strlen(by_a2), &va, no_sig_by(NAME_A));
	assert_open_fails(by_a, strlen(by_a), &va2, no_sig_by(NAME_A));
	/* Same name and id, another key: a hand-made verifier, since real
	 * ids of distinct keys collide once in 2^32. */
	memcpy(va2.id, va.id, 4);
	assert_open_fails(by_a, strlen(by_a), &va2, bad_sig_by(NAME_A));
}
END_TEST

START_TEST(test_cosigned)
{
	struct note_verifier	 va, vb, va2;
	struct note_checkpoint	 c;
	char			 sa[256], sb[256], sa2[256], note[NOTE_MAX];
	const char		*junk = EM " other.example/x AAAAAAA=\n";

	load_verifier("A", &va);
	load_verifier("B", &vb);
	load_verifier("A2", &va2);
	snprintf(sa, sizeof(sa), "%s", sig_line("A", BODY_EX));
	snprintf(sb, sizeof(sb), "%s", sig_line("B", BODY_EX));
	snprintf(sa2, sizeof(sa2), "%s", sig_line("A2", BODY_EX));

	snprintf(note, sizeof(note), "%s\n%s%s%s%s", BODY_EX, junk, sb, sa2,
	    sa);
	open_ok(note, &va, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	open_ok(note, &vb, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	open_ok(note, &va2, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	snprintf(note, sizeof(note), "%s\n%s%s", BODY_EX, sa, junk);
	open_ok(note, &va, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	assert_open_fails(note, strlen(note), &vb, no_sig_by(NAME_B));

	/* Someone else's bad signature is not ours to judge. */
	snprintf(note, sizeof(note), "%s\n%s%s", BODY_EX, sa,
	    sig_line("B", NAME_A "\n1\n" ROOT_EX "\n"));
	open_ok(note, &va, &c);
	assert_open_fails(note, strlen(note), &vb, bad_sig_by(NAME_B));
}
END_TEST

START_TEST(test_bad_signature_our_id)
{
	struct note_verifier	 v;
	char			 note[NOTE_MAX], line[256];
	unsigned char		 raw[80];
	char			 b64[128];
	size_t			 n;

	load_verifier("A", &v);
	/* Our name and id with too few or too many signature bytes. */
	for (n = 5; n <= 69; n += 64) {
		memset(raw, 0, sizeof(raw));
		memcpy(raw, v.id, 4);
		sodium_bin2base64(b64, sizeof(b64), raw, n,
		    sodium_base64_VARIANT_ORIGINAL);
		snprintf(note, sizeof(note), "%s\n" EM " " NAME_A " %s\n",
		    BODY_EX, b64);
		assert_open_fails(note, strlen(note), &v, bad_sig_by(NAME_A));
	}
	/* Our name and id in front of B's signature. */
	snprintf(line, sizeof(line), "%s", sig_line("B", BODY_EX));
	ck_assert_int_eq(sodium_base642bin(raw, sizeof(raw),
	    strrchr(line, ' ') + 1, strlen(strrchr(line, ' ') + 1) - 1, NULL,
	    &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(n, 68);
	memcpy(raw, v.id, 4);
	sodium_bin2base64(b64, sizeof(b64), raw, n,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(note, sizeof(note), "%s\n" EM " " NAME_A " %s\n", BODY_EX,
	    b64);
	assert_open_fails(note, strlen(note), &v, bad_sig_by(NAME_A));
}
END_TEST

START_TEST(test_duplicate_signature)
{
	struct note_verifier	 v;
	char			 note[NOTE_MAX], sa[256];

	load_verifier("A", &v);
	snprintf(sa, sizeof(sa), "%s", sig_line("A", BODY_EX));
	snprintf(note, sizeof(note), "%s\n%s%s", BODY_EX, sa, sa);
	assert_open_fails(note, strlen(note), &v, "note has more than one "
	    "signature by " NAME_A);
	snprintf(note, sizeof(note), "%s\n%s%s%s", BODY_EX, sa,
	    sig_line("B", BODY_EX), sa);
	assert_open_fails(note, strlen(note), &v, "note has more than one "
	    "signature by " NAME_A);
}
END_TEST

START_TEST(test_truncated)
{
	struct note_verifier	 v;
	const char		*note;
	size_t			 i, len, bodylen = strlen(BODY_EX);

	load_verifier("A", &v);
	note = jstr(json_array_get(varray("checkpoints"), 1), "note");
	len = strlen(note);
	for (i = 0; i < len; i++)
		assert_malformed(note, i, &v, NULL);
	assert_malformed(note, 0, &v, "note is empty");
	assert_malformed(NULL, 0, &v, "note is empty");
	assert_malformed(note, len - 1, &v, "note does not end in a newline");
	assert_malformed(note, bodylen, &v, "note has no blank line before "
	    "its signatures");
	assert_malformed(note, bodylen + 1, &v, "note has no signatures");
	/* Cut inside the em dash: no longer UTF-8. */
	assert_malformed(note, bodylen + 2, &v, "note is not UTF-8");
	assert_malformed(note, bodylen + 3, &v, "note is not UTF-8");
}
END_TEST

START_TEST(test_crlf)
{
	struct note_verifier	 v;
	const char		*note, *p;
	char			 crlf[2 * NOTE_MAX];
	size_t			 n = 0;

	load_verifier("A", &v);
	note = signed_by("A", BODY_EX);
	for (p = note; *p != '\0'; p++) {
		if (*p == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	crlf[n] = '\0';
	assert_malformed(crlf, n, &v, "note has a control character other "
	    "than newline");
	note = edit(signed_by("A", BODY_EX), "ledger\n2", "ledger\r\n2");
	assert_malformed(note, strlen(note), &v, "note has a control "
	    "character other than newline");
	/* Even under the signature. */
	note = signed_by("A", NAME_A "\r\n20852163\n" ROOT_EX "\n");
	assert_malformed(note, strlen(note), &v, "note has a control "
	    "character other than newline");
}
END_TEST

START_TEST(test_blank_lines)
{
	struct note_verifier	 v;
	char			 sa[256], two[512];
	const char		*t;

	load_verifier("A", &v);
	snprintf(sa, sizeof(sa), "%s", sig_line("A", BODY_EX));
	t = cat3("\n", BODY_EX "\n", sa);
	assert_malformed(t, strlen(t), &v, "note begins with a blank line");
	t = cat3(BODY_EX, "\n\n", sa);
	assert_malformed(t, strlen(t), &v, "note has a blank line among its "
	    "signatures");
	t = cat3(BODY_EX "\n", sa, "\n");
	assert_malformed(t, strlen(t), &v, "note has a blank line among its "
	    "signatures");
	snprintf(two, sizeof(two), "%s\n%s", sa, sa);
	t = cat3(BODY_EX "\n", two, "");
	assert_malformed(t, strlen(t), &v, "note has a blank line among its "
	    "signatures");
	/* A blank line inside the body ends it early, and what follows is
	 * no signature. Signed as a whole, it is still refused. */
	t = signed_by("A", NAME_A "\n\n20852163\n" ROOT_EX "\n");
	assert_malformed(t, strlen(t), &v, "note has a malformed signature "
	    "line");
	t = signed_by("A", "\n");
	assert_malformed(t, strlen(t), &v, "note begins with a blank line");
}
END_TEST

#define NOT_SIZE	"not a checkpoint: the tree size is not a decimal " \
			"number below 2^64 without leading zeros"
#define NOT_ROOT	"not a checkpoint: the root hash is not 32 bytes in " \
			"padded base64"
#define NOT_ORIGIN	"not a checkpoint: the origin " BAD_NAME
#define X32		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X128		X32 X32 X32 X32

/* Bodies signed by A, so that only the body parser can refuse them. */
static const struct {
	const char	*body;
	const char	*err;
} bad_bodies[] = {
	{ NAME_A "\n", "not a checkpoint: no tree size line" },
	{ NAME_A "\n5\n", "not a checkpoint: no root hash line" },
	{ NAME_A "\n012\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n00\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n+12\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n-1\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n 12\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n12 \n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n1_000\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n0x10\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n1e3\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n\xd9\xa1\xd9\xa2\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n18446744073709551616\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n99999999999999999999\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n184467440737095516150\n" ROOT_EX "\n", NOT_SIZE },
	{ NAME_A "\n" ROOT_EX "\n20852163\n", NOT_SIZE },
	/* The last character carries two bits that must be zero. */
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
	    NOT_ROOT },
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
	    NOT_ROOT },
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I==\n",
	    NOT_ROOT },
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
	    NOT_ROOT },
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",
	    NOT_ROOT },
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
	    NOT_ROOT },
	{ NAME_A "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx q2I=\n",
	    NOT_ROOT },
	{ NAME_A "\n5\n0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0"
	    "378f68f1ab62\n", NOT_ROOT },
	{ NAME_A "\n5\n=\n", NOT_ROOT },
	{ "hook ledger\n5\n" ROOT_EX "\n", NOT_ORIGIN },
	{ "hook+ledger\n5\n" ROOT_EX "\n", NOT_ORIGIN },
	{ "caf\xc3\xa9\n5\n" ROOT_EX "\n", NOT_ORIGIN },
	{ X128 "x\n5\n" ROOT_EX "\n", NOT_ORIGIN },
};

START_TEST(test_bad_body)
{
	struct note_verifier	 v;
	const char		*t = signed_by("A", bad_bodies[_i].body);

	load_verifier("A", &v);
	assert_malformed(t, strlen(t), &v, bad_bodies[_i].err);
}
END_TEST

START_TEST(test_good_bodies)
{
	struct note_verifier	 v;
	struct note_checkpoint	 c;

	load_verifier("A", &v);
	open_ok(signed_by("A", X128 "\n0\n" ROOT_EX "\n"), &v, &c);
	assert_checkpoint(&c, X128, 0, ROOT_EX);
	open_ok(signed_by("A", NAME_A "\n18446744073709551615\n" ROOT_EX
	    "\n"), &v, &c);
	assert_checkpoint(&c, NAME_A, UINT64_MAX, ROOT_EX);
	/* Extension lines are read past; any UTF-8 will do. */
	open_ok(signed_by("A", BODY_EX "ext one\n" EM " not a signature\n"
	    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e\x7f\n"), &v, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	/* The origin need not be the key's name. */
	open_ok(signed_by("A", "other.example/log\n1\n" ROOT_EX "\n"), &v, &c);
	assert_checkpoint(&c, "other.example/log", 1, ROOT_EX);
}
END_TEST

static const char *bad_utf8[] = {
	"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
	"\xf0\x80\x80\xaf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
	"\x80", "x\xe2\x82", "\xc3"
};

START_TEST(test_bad_utf8)
{
	struct note_verifier	 v;
	char			 body[256];
	const char		*t;

	load_verifier("A", &v);
	snprintf(body, sizeof(body), "%sext %s\n", BODY_EX, bad_utf8[_i]);
	t = signed_by("A", body);
	assert_malformed(t, strlen(t), &v, "note is not UTF-8");
}
END_TEST

START_TEST(test_control_chars)
{
	static const char	 ctl[] = "\x01\t\x1b\x0b\x0c";
	struct note_verifier	 v;
	char			 body[256], nul[NOTE_MAX];
	const char		*t;
	size_t			 i, len;

	load_verifier("A", &v);
	for (i = 0; i < sizeof(ctl) - 1; i++) {
		snprintf(body, sizeof(body), "%sext %c\n", BODY_EX, ctl[i]);
		t = signed_by("A", body);
		assert_malformed(t, strlen(t), &v, "note has a control "
		    "character other than newline");
	}
	/* A NUL, which needs the length to be seen. */
	t = signed_by("A", BODY_EX);
	len = strlen(t);
	memcpy(nul, t, len);
	nul[strlen(NAME_A)] = '\0';
	assert_malformed(nul, len, &v, "note has a control character other "
	    "than newline");
}
END_TEST

#define MALFORMED	"note has a malformed signature line"

static const char *bad_sig_lines[] = {
	"-- " NAME_A " AAAAAAA=\n",
	EM NAME_A " AAAAAAA=\n",
	EM "  " NAME_A " AAAAAAA=\n",
	EM "\xc2\xa0" NAME_A " AAAAAAA=\n",
	"\xe2\x80\x93 " NAME_A " AAAAAAA=\n",	/* en dash */
	EM " " NAME_A "\n",
	EM " " NAME_A " \n",
	EM " " NAME_A "  AAAAAAA=\n",
	EM " " NAME_A " AAAAAAA= \n",
	EM " " NAME_A " AAAAAAA\n",
	EM " " NAME_A " AAAAAAB=\n",
	EM " " NAME_A " AAAAAA==\n",
	EM " " NAME_A " AAAA\n",
	EM " " NAME_A " AAAA-AA=\n",
	EM " a+b AAAAAAA=\n",
	EM " caf\xc3\xa9 AAAAAAA=\n",
	EM " " X128 "x AAAAAAA=\n",
	EM " \n",
	EM "\n",
	"x\n",
};

/* Malformed lines are refused wherever they are, even beside a good
 * signature: the note as a whole is not well formed. */
START_TEST(test_bad_sig_line)
{
	struct note_verifier	 v;
	char			 sa[256];
	const char		*t;

	load_verifier("A", &v);
	snprintf(sa, sizeof(sa), "%s", sig_line("A", BODY_EX));
	t = cat3(BODY_EX "\n", sa, bad_sig_lines[_i]);
	assert_malformed(t, strlen(t), &v, MALFORMED);
	t = cat3(BODY_EX "\n", bad_sig_lines[_i], sa);
	assert_malformed(t, strlen(t), &v, MALFORMED);
}
END_TEST

START_TEST(test_signature_count)
{
	struct note_verifier	 v;
	struct note_checkpoint	 c;
	char			 note[NOTE_MAX];
	const char		*other = EM " w.example/x AAAAAAA=\n";
	size_t			 i;

	load_verifier("A", &v);
	snprintf(note, sizeof(note), "%s\n%s", BODY_EX, sig_line("A",
	    BODY_EX));
	for (i = 1; i < 100; i++)
		strcat(note, other);
	open_ok(note, &v, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	strcat(note, other);
	assert_malformed(note, strlen(note), &v, "note has more than 100 "
	    "signatures");
}
END_TEST

START_TEST(test_note_size)
{
	struct note_verifier	 v;
	struct note_checkpoint	 c;
	char			 body[NOTE_MAX + 64], t[2 * NOTE_MAX];
	size_t			 siglen, fill;

	load_verifier("A", &v);
	siglen = strlen(sig_line("A", BODY_EX));
	/* body, "ext ", fill bytes, newline; blank line; signature line */
	fill = NOTE_MAX - strlen(BODY_EX) - 4 - 1 - 1 - siglen;
	snprintf(body, sizeof(body), "%sext %0*d\n", BODY_EX, (int)fill, 0);
	snprintf(t, sizeof(t), "%s", signed_by("A", body));
	ck_assert_uint_eq(strlen(t), NOTE_MAX);
	open_ok(t, &v, &c);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
	snprintf(body, sizeof(body), "%sext %0*d\n", BODY_EX, (int)fill + 1,
	    0);
	snprintf(t, sizeof(t), "%s", signed_by("A", body));
	ck_assert_uint_eq(strlen(t), NOTE_MAX + 1);
	assert_malformed(t, strlen(t), &v, "note is longer than 8192 bytes");
}
END_TEST

/* parsing without a key */

START_TEST(test_parse_known)
{
	struct note_checkpoint	 c, want;
	json_t			*a = varray("checkpoints"), *e;
	const char		*note;
	size_t			 i;

	json_array_foreach(a, i, e) {
		vector_checkpoint(e, &want);
		note = jstr(e, "note");
		ck_assert_msg(note_parse_checkpoint(note, strlen(note), &c,
		    errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
		ck_assert_mem_eq(&c, &want, sizeof(c));
	}
	ck_assert_uint_eq(i, 5);
}
END_TEST

/* No signature is checked: a forged size is read as it stands. */
START_TEST(test_parse_unchecked)
{
	struct note_checkpoint	 c;
	const char		*t;
	char			 note[NOTE_MAX];

	t = edit(signed_by("A", BODY_EX), "\n20852163\n", "\n20852162\n");
	ck_assert_int_eq(note_parse_checkpoint(t, strlen(t), &c, errbuf,
	    sizeof(errbuf)), 0);
	assert_checkpoint(&c, NAME_A, 20852162, ROOT_EX);
	snprintf(note, sizeof(note), "%s\n" EM " " NAME_A " AAAAAAA=\n"
	    EM " " NAME_A " AAAAAAA=\n", BODY_EX);
	ck_assert_int_eq(note_parse_checkpoint(note, strlen(note), &c, errbuf,
	    sizeof(errbuf)), 0);
	assert_checkpoint(&c, NAME_A, 20852163, ROOT_EX);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("note");
	TCase	*tc;

	tc = tcase_create("keys");
	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_keygen);
	tcase_add_test(tc, test_keygen_random);
	tcase_add_test(tc, test_keygen_no_overwrite);
	tcase_add_loop_test(tc, test_keygen_bad_name, 0, NELEM(bad_names));
	tcase_add_test(tc, test_keygen_bad_prefix);
	tcase_add_loop_test(tc, test_vector_keys, 0, NELEM(vector_keys));
	tcase_add_test(tc, test_go_keys);
	tcase_add_test(tc, test_go_verifier_manglings);
	tcase_add_test(tc, test_go_signer_manglings);
	tcase_add_loop_test(tc, test_bad_verifier_text, 0,
	    NELEM(bad_verifiers));
	tcase_add_test(tc, test_bad_verifier_vectors);
	tcase_add_loop_test(tc, test_bad_signer_text, 0, NELEM(bad_signers));
	tcase_add_test(tc, test_bad_signer_vectors);
	tcase_add_loop_test(tc, test_signer_modes, 0, NELEM(mode_cases));
	tcase_add_test(tc, test_signer_file_kinds);
	tcase_add_test(tc, test_verifier_load);
	tcase_add_test(tc, test_signer_free);
	suite_add_tcase(s, tc);

	/*
	 * A deliberate fault, in a case of its own: ASan and valgrind
	 * intercept the SIGSEGV (and without a fork it would end the
	 * whole run), so their stages leave out the tag "fault".
	 */
	tc = tcase_create("fault");
	tcase_set_tags(tc, "fault");
	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test_raise_signal(tc, test_signer_read_only, SIGSEGV);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_known_answers);
	tcase_add_test(tc, test_sign_open_round_trip);
	tcase_add_test(tc, test_sign_buffer);
	tcase_add_test(tc, test_sign_bad_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_no_verifier);
	tcase_add_test(tc, test_bit_flips);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_other_keys);
	tcase_add_test(tc, test_cosigned);
	tcase_add_test(tc, test_bad_signature_our_id);
	tcase_add_test(tc, test_duplicate_signature);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_blank_lines);
	tcase_add_loop_test(tc, test_bad_body, 0, NELEM(bad_bodies));
	tcase_add_test(tc, test_good_bodies);
	tcase_add_loop_test(tc, test_bad_utf8, 0, NELEM(bad_utf8));
	tcase_add_test(tc, test_control_chars);
	tcase_add_loop_test(tc, test_bad_sig_line, 0, NELEM(bad_sig_lines));
	tcase_add_test(tc, test_signature_count);
	tcase_add_test(tc, test_note_size);
	tcase_add_test(tc, test_parse_known);
	tcase_add_test(tc, test_parse_unchecked);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
