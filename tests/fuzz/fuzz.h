/*
 * fuzz.h: what the libFuzzer harnesses in tests/fuzz/ share.
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput(); scripts/fuzz
 * builds it with clang against a libhlcore.a built with the sanitizers.
 * Inputs are split into header lines and a body the way a request
 * carries them: header values are NUL-terminated strings of their own
 * (as libmicrohttpd hands them over), each in a separate allocation so
 * that AddressSanitizer sees a read one byte past its end.
 */
#ifndef HL_FUZZ_H
#define HL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken harness set-up is no finding: say so and stop. */
static inline void
fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz harness: %s\n", what);
	abort();
}

/* The next line of *data (without its '\n') as a new NUL-terminated
 * string, advancing past it; NULL when nothing is left, which stands for
 * an absent header. The caller frees. */
static inline char *
fuzz_line(const uint8_t **data, size_t *size)
{
	const uint8_t	*nl;
	size_t		 len;
	char		*s;

	if (*size == 0)
		return NULL;
	nl = memchr(*data, '\n', *size);
	len = nl != NULL ? (size_t)(nl - *data) : *size;
	if ((s = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");
	memcpy(s, *data, len);
	s[len] = '\0';
	*data += len + (nl != NULL);
	*size -= len + (nl != NULL);
	return s;
}

/* len bytes at data in an allocation of exactly len bytes (at least one),
 * so that a read past the end is caught. The caller frees. */
static inline unsigned char *
fuzz_copy(const uint8_t *data, size_t len)
{
	unsigned char	*p;

	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		fuzz_die("out of memory");
	if (len > 0)
		memcpy(p, data, len);
	return p;
}

#endif
