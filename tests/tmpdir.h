/*
 * tmpdir.h: a scratch folder for a unit test, made under $TMPDIR (or
 * /tmp) and removed with everything in it. Check assertions report a
 * failure of either. Header-only: each test program includes it once.
 */
#ifndef HL_TESTS_TMPDIR_H
#define HL_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <check.h>

/* Make dir (len bytes) a new folder named after name. */
static inline void
tmpdir_make(char *dir, size_t len, const char *name)
{
	const char	*base = getenv("TMPDIR");
	int		 n;

	n = snprintf(dir, len, "%s/hl-%s-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp", name);
	ck_assert(n > 0 && (size_t)n < len);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline int
tmpdir_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and everything below it; symlinks are not followed. */
static inline void
tmpdir_remove(const char *dir)
{
	ck_assert_int_eq(nftw(dir, tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS),
	    0);
}

#endif
