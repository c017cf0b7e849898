/*
 * test_secret: loading and decoding webhook secrets.
 *
 * Files go to one mkdtemp() directory per test case, made and removed by
 * the parent process, so that a test that fails or hangs leaves nothing
 * behind.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "secret.h"

#define SW_SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_KEY_HEX	"31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0"
#define ST_SECRET	"whsec_hookledger_stripe_test_A1"

static char	 tmpdir[4096];
static char	 errbuf[512];

static void
make_tmpdir(void)
{
	const char	*base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_secret.XXXXXX", base);
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
setup_sodium(void)
{
	ck_assert_int_ge(sodium_init(), 0);
}

static void
setup(void)
{
	setup_sodium();
	ck_assert_msg(tmpdir[0] != '\0', "mkdtemp failed");
	memset(errbuf, 0, sizeof(errbuf));
}

/* A new file in tmpdir holding len bytes of s, with mode; path returned. */
static const char *
put(const void *s, size_t len, mode_t mode)
{
	static char	 path[4200];
	int		 fd;

	snprintf(path, sizeof(path), "%s/secret.XXXXXX", tmpdir);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, s, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static const char *
puts0600(const char *s)
{
	return put(s, strlen(s), 0600);
}

static void
assert_hex(const struct secret *k, const char *want)
{
	char	 hex[2 * SECRET_MAX_LEN + 1];

	ck_assert_uint_le(k->len, SECRET_MAX_LEN);
	sodium_bin2hex(hex, sizeof(hex), k->key, k->len);
	ck_assert_str_eq(hex, want);
}

/* The message secret_load() gives for path and fault. */
static const char *
want_err(const char *path, const char *fault)
{
	static char	 buf[8192];

	snprintf(buf, sizeof(buf), "secret file %s: %s", path, fault);
	return buf;
}

static void
assert_refused(const char *path, enum secret_scheme scheme, const char *fault)
{
	struct secret	 k = { (unsigned char *)&k, 99 };

	ck_assert_int_eq(secret_load(path, scheme, &k, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, want_err(path, fault));
	ck_assert_ptr_null(k.key);
	ck_assert_uint_eq(k.len, 0);
}

/* permissions and file type */

static const struct {
	mode_t	 mode;
	int	 ok;
} mode_cases[] = {
	{ 0600, 1 }, { 0400, 1 }, { 0200, 1 }, { 0700, 1 },
	{ 0640, 0 }, { 0604, 0 }, { 0644, 0 }, { 0620, 0 }, { 0602, 0 },
	{ 0610, 0 }, { 0601, 0 }, { 0666, 0 },
};

START_TEST(test_modes)
{
	struct secret	 k = { NULL, 0 };
	const char	*path;
	char		 fault[128];
	mode_t		 mode = mode_cases[_i].mode;

	path = put(ST_SECRET, strlen(ST_SECRET), mode);
	if (!mode_cases[_i].ok) {
		snprintf(fault, sizeof(fault), "is readable or writable by "
		    "group or others (mode %04o); chmod 600 it",
		    (unsigned int)mode);
		assert_refused(path, SECRET_STRIPE, fault);
		return;
	}
	/* Root reads a 0200 file anyway; others cannot open it at all. */
	if (mode == 0200 && geteuid() != 0) {
		ck_assert_int_eq(secret_load(path, SECRET_STRIPE, &k, errbuf,
		    sizeof(errbuf)), -1);
		ck_assert_str_eq(errbuf, want_err(path, "Permission denied"));
		return;
	}
	ck_assert_msg(secret_load(path, SECRET_STRIPE, &k, errbuf,
	    sizeof(errbuf)) == 0, "%s", errbuf);
	ck_assert_uint_eq(k.len, strlen(ST_SECRET));
	ck_assert_mem_eq(k.key, ST_SECRET, k.len);
	secret_clear(&k);
}
END_TEST

START_TEST(test_directory)
{
	assert_refused(tmpdir, SECRET_STRIPE, "is not a regular file");
}
END_TEST

/* A FIFO must be refused without waiting for a writer. */
START_TEST(test_fifo)
{
	char	 path[4200];

	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	assert_refused(path, SECRET_STRIPE, "is not a regular file");
}
END_TEST

START_TEST(test_nonexistent)
{
	char	 path[4200];

	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	assert_refused(path, SECRET_STRIPE, "No such file or directory");
}
END_TEST

/* size and newline */

START_TEST(test_empty_file)
{
	assert_refused(puts0600(""), SECRET_STRIPE, "is empty");
	assert_refused(puts0600("\n"), SECRET_STRIPE, "is empty");
	assert_refused(puts0600("\r\n"), SECRET_STDWH, "is empty");
}
END_TEST

START_TEST(test_size_limit)
{
	char		 buf[SECRET_MAX_LEN + 2];
	struct secret	 k = { NULL, 0 };
	const char	*path;

	memset(buf, 'k', sizeof(buf));
	memcpy(buf, "whsec_", 6);
	path = put(buf, SECRET_MAX_LEN, 0600);
	ck_assert_msg(secret_load(path, SECRET_STRIPE, &k, errbuf,
	    sizeof(errbuf)) == 0, "%s", errbuf);
	ck_assert_uint_eq(k.len, SECRET_MAX_LEN);
	secret_clear(&k);
	assert_refused(put(buf, SECRET_MAX_LEN + 1, 0600), SECRET_STRIPE,
	    "is larger than 1024 bytes");
	/* The limit counts the file's bytes, newline included. */
	buf[SECRET_MAX_LEN] = '\n';
	assert_refused(put(buf, SECRET_MAX_LEN + 1, 0600), SECRET_STRIPE,
	    "is larger than 1024 bytes");
}
END_TEST

START_TEST(test_newline_stripped)
{
	static const char	*files[] = {
		ST_SECRET, ST_SECRET "\n", ST_SECRET "\r\n"
	};
	struct secret		 k = { NULL, 0 };
	size_t			 i;

	for (i = 0; i < 3; i++) {
		ck_assert_msg(secret_load(puts0600(files[i]), SECRET_STRIPE,
		    &k, errbuf, sizeof(errbuf)) == 0, "%s", errbuf);
		ck_assert_uint_eq(k.len, strlen(ST_SECRET));
		ck_assert_mem_eq(k.key, ST_SECRET, k.len);
		secret_clear(&k);
	}
}
END_TEST

/* Only one newline goes; a second is part of the secret. */
START_TEST(test_one_newline_only)
{
	struct secret	 k = { NULL, 0 };
	const char	*path;

	/* A second newline or a lone CR would become part of the key and
	 * fail every delivery: refused, not kept. */
	ck_assert_int_eq(secret_load(puts0600(ST_SECRET "\n\n"),
	    SECRET_STRIPE, &k, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "control byte"));
	ck_assert_int_eq(secret_load(puts0600(ST_SECRET "\r"),
	    SECRET_STRIPE, &k, errbuf, sizeof(errbuf)), -1);
	ck_assert_int_eq(secret_load(puts0600(" " ST_SECRET),
	    SECRET_STRIPE, &k, errbuf, sizeof(errbuf)), -1);
	path = puts0600(SW_SECRET "\n\n");
	assert_refused(path, SECRET_STDWH, "secret has a space, tab, control "
	    "byte or non-ASCII byte (one final newline is allowed)");
}
END_TEST

/* key lengths */

START_TEST(test_stripe_min_len)
{
	struct secret	 k = { NULL, 0 };

	assert_refused(puts0600("whsec_123456789"), SECRET_STRIPE,
	    "secret is shorter than 16 bytes");
	ck_assert_int_eq(secret_load(puts0600("whsec_1234567890\n"),
	    SECRET_STRIPE, &k, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(k.len, 16);
	secret_clear(&k);
}
END_TEST

START_TEST(test_stdwh_min_len)
{
	struct secret	 k = { NULL, 0 };

	/* 15 zero bytes, then 16. */
	assert_refused(puts0600("whsec_AAAAAAAAAAAAAAAAAAAA"), SECRET_STDWH,
	    "secret is shorter than 16 bytes");
	ck_assert_int_eq(secret_load(
	    puts0600("whsec_AAAAAAAAAAAAAAAAAAAAAA==\n"), SECRET_STDWH, &k,
	    errbuf, sizeof(errbuf)), 0);
	assert_hex(&k, "00000000000000000000000000000000");
	secret_clear(&k);
}
END_TEST

/* decoding */

START_TEST(test_stdwh_official_key)
{
	struct secret	 k = { NULL, 0 };

	ck_assert_int_eq(secret_load(puts0600(SW_SECRET "\n"), SECRET_STDWH,
	    &k, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(k.len, 24);
	assert_hex(&k, SW_KEY_HEX);
	secret_clear(&k);
}
END_TEST

START_TEST(test_stdwh_padding)
{
	static const char	*forms[] = {
		"whsec_8G/ES79pQo0JwVhSY86u5mRR7aqFDa+LvRXkNGsdBD8=",
		"whsec_8G/ES79pQo0JwVhSY86u5mRR7aqFDa+LvRXkNGsdBD8"
	};
	struct secret		 k = { NULL, 0 };
	size_t			 i;

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(secret_decode(forms[i], strlen(forms[i]),
		    SECRET_STDWH, &k, errbuf, sizeof(errbuf)), 0);
		assert_hex(&k, "f06fc44bbf69428d09c1585263ceaee66451edaa850da"
		    "f8bbd15e4346b1d043f");
		secret_clear(&k);
	}
}
END_TEST

#define NO_PREFIX	"secret does not start with whsec_"
#define NOT_B64		"secret after whsec_ is not valid base64"

static const struct {
	const char	*s;
	const char	*fault;
} bad_stdwh[] = {
	{ "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NO_PREFIX },
	{ "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NO_PREFIX },
	{ "whsec", NO_PREFIX },
	{ "whsec_", "secret has nothing after whsec_" },
	{ "whsec_!!!!notbase64!!!!notbase64", NOT_B64 },
	{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", NOT_B64 },
	{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw===", NOT_B64 },
	{ "whsec_MfKQ9r8GKYqrTwjU PD8ILPZIo2LaLaSw", "secret has a space, tab,"
	    " control byte or non-ASCII byte (one final newline is allowed)" },
	{ "whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw", NOT_B64 },
	/* Non-zero bits after the last byte. */
	{ "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB==", NOT_B64 },
};

START_TEST(test_stdwh_bad)
{
	struct secret	 k = { (unsigned char *)&k, 99 };
	const char	*s = bad_stdwh[_i].s;

	ck_assert_int_eq(secret_decode(s, strlen(s), SECRET_STDWH, &k, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, bad_stdwh[_i].fault);
	ck_assert_ptr_null(k.key);
	ck_assert_uint_eq(k.len, 0);
	assert_refused(puts0600(s), SECRET_STDWH, bad_stdwh[_i].fault);
}
END_TEST

/* Stripe uses the string itself, whsec_ and all, even when it would also
 * decode as Standard Webhooks base64. */
START_TEST(test_stripe_whole_string)
{
	struct secret	 k = { NULL, 0 };

	ck_assert_int_eq(secret_load(puts0600(SW_SECRET "\n"), SECRET_STRIPE,
	    &k, errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(k.len, strlen(SW_SECRET));
	ck_assert_mem_eq(k.key, SW_SECRET, k.len);
	secret_clear(&k);
	ck_assert_int_eq(secret_decode("no_prefix_at_all", 16, SECRET_STRIPE,
	    &k, errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "a Stripe signing secret begins with whsec_");
}
END_TEST

START_TEST(test_decode_bounds)
{
	char		 big[SECRET_MAX_LEN + 1];
	struct secret	 k = { NULL, 0 };

	ck_assert_int_eq(secret_decode(NULL, 0, SECRET_STRIPE, &k, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "secret is empty");
	ck_assert_int_eq(secret_decode("", 0, SECRET_STDWH, &k, errbuf,
	    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "secret is empty");
	memset(big, 'k', sizeof(big));
	memcpy(big, "whsec_", 6);
	ck_assert_int_eq(secret_decode(big, sizeof(big), SECRET_STRIPE, &k,
	    errbuf, sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "secret is longer than 1024 bytes");
	ck_assert_int_eq(secret_decode(big, SECRET_MAX_LEN, SECRET_STRIPE, &k,
	    errbuf, sizeof(errbuf)), 0);
	ck_assert_uint_eq(k.len, SECRET_MAX_LEN);
	secret_clear(&k);
}
END_TEST

/* errors */

START_TEST(test_error_has_no_secret)
{
	static const char	*s[] = {
		"Sup3rS3cr3tVal", "whsec_!Sup3rS3cr3tValue!",
		"Sup3rS3cr3tValue"
	};
	static const enum secret_scheme	 scheme[] = {
		SECRET_STRIPE, SECRET_STDWH, SECRET_STDWH
	};
	struct secret	 k = { NULL, 0 };
	size_t		 i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(secret_load(puts0600(s[i]), scheme[i], &k,
		    errbuf, sizeof(errbuf)), -1);
		ck_assert_ptr_null(strstr(errbuf, "Sup3r"));
		ck_assert_ptr_null(strstr(errbuf, "S3cr3t"));
	}
}
END_TEST

START_TEST(test_error_buffer)
{
	struct secret	 k = { NULL, 0 };
	char		 small[8];

	ck_assert_int_eq(secret_load(tmpdir, SECRET_STRIPE, &k, NULL, 0), -1);
	ck_assert_int_eq(secret_decode("short", 5, SECRET_STRIPE, &k, NULL, 0),
	    -1);
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(secret_decode("whsec_1", 7, SECRET_STRIPE, &k, small,
	    sizeof(small)), -1);
	ck_assert_str_eq(small, "secret ");
}
END_TEST

/* memory */

START_TEST(test_clear)
{
	struct secret	 k = { NULL, 0 };

	secret_clear(&k);
	secret_clear(NULL);
	ck_assert_int_eq(secret_decode(ST_SECRET, strlen(ST_SECRET),
	    SECRET_STRIPE, &k, errbuf, sizeof(errbuf)), 0);
	ck_assert_ptr_nonnull(k.key);
	secret_clear(&k);
	ck_assert_ptr_null(k.key);
	ck_assert_uint_eq(k.len, 0);
	secret_clear(&k);
	ck_assert_ptr_null(k.key);
}
END_TEST

/* The key is read-only once loaded: a write faults. */
START_TEST(test_key_read_only)
{
	struct secret	 k = { NULL, 0 };

	ck_assert_int_eq(secret_decode(ST_SECRET, strlen(ST_SECRET),
	    SECRET_STRIPE, &k, errbuf, sizeof(errbuf)), 0);
	ck_assert_int_eq(k.key[0], 'w');
	((volatile unsigned char *)k.key)[0] = 'x';
	ck_abort_msg("writing the key did not fault");
}
END_TEST

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("secret");
	TCase	*tc;

	tc = tcase_create("file");
	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_modes, 0, NELEM(mode_cases));
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_nonexistent);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_newline_stripped);
	tcase_add_test(tc, test_one_newline_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_unchecked_fixture(tc, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_stripe_min_len);
	tcase_add_test(tc, test_stdwh_min_len);
	tcase_add_test(tc, test_stdwh_official_key);
	tcase_add_test(tc, test_stdwh_padding);
	tcase_add_loop_test(tc, test_stdwh_bad, 0, NELEM(bad_stdwh));
	tcase_add_test(tc, test_stripe_whole_string);
	tcase_add_test(tc, test_decode_bounds);
	tcase_add_test(tc, test_error_has_no_secret);
	tcase_add_test(tc, test_error_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, setup_sodium, NULL);
	tcase_add_test(tc, test_clear);
	suite_add_tcase(s, tc);

	/*
	 * A deliberate fault, in a case of its own: ASan and valgrind
	 * intercept the SIGSEGV (and without a fork it would end the
	 * whole run), so their stages leave out the tag "fault".
	 */
	tc = tcase_create("fault");
	tcase_set_tags(tc, "fault");
	tcase_add_checked_fixture(tc, setup_sodium, NULL);
	tcase_add_test_raise_signal(tc, test_key_read_only, SIGSEGV);
	suite_add_tcase(s, tc);

	return s;
}

#include "tap.h"
