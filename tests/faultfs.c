/*
 * faultfs.c: an LD_PRELOAD shim for the fault tests, built for `make check`
 * only and never linked into an installed program.
 *
 * While the file named by HL_FAULTFS_CONTROL exists, every write, sync,
 * truncate and allocation on a file under the directory HL_FAULTFS_DIR
 * fails with the errno the control file names ("ENOSPC", the default, or
 * "EROFS"); once it is removed they succeed again. This is how the tests
 * give the daemon a full disk or a read-only file system when they may
 * not mount one. Files elsewhere (stderr, sockets) are never touched.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* The errno to fail fd's write with, or 0 to let it through. */
static int
fault_for(int fd)
{
	const char	*ctl = getenv("HL_FAULTFS_CONTROL");
	const char	*dir = getenv("HL_FAULTFS_DIR");
	char		 link[64], path[PATH_MAX], what[16];
	ssize_t		 n;
	size_t		 dlen;
	int		 cfd, saved = errno, e = ENOSPC;

	if (ctl == NULL || dir == NULL || (dlen = strlen(dir)) == 0)
		return 0;
	if ((cfd = open(ctl, O_RDONLY | O_CLOEXEC)) == -1) {
		errno = saved;
		return 0;
	}
	n = read(cfd, what, sizeof(what) - 1);
	close(cfd);
	if (n > 0) {
		what[n] = '\0';
		if (strncmp(what, "EROFS", 5) == 0)
			e = EROFS;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	errno = saved;
	if (n <= 0)
		return 0;
	path[n] = '\0';
	if (strncmp(path, dir, dlen) != 0 || (path[dlen] != '/' &&
	    path[dlen] != '\0'))
		return 0;
	return e;
}

#define REAL(name)	static __typeof__(name) *real;			\
	if (real == NULL)						\
		real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

#define FAIL_IF(fd, ret)	do {					\
	int e_ = fault_for(fd);						\
	if (e_ != 0) {							\
		errno = e_;						\
		return ret;						\
	}								\
} while (0)

ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(write);
	FAIL_IF(fd, -1);
	return real(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	FAIL_IF(fd, -1);
	return real(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64);
	FAIL_IF(fd, -1);
	return real(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	FAIL_IF(fd, -1);
	return real(fd, iov, cnt);
}

int
fsync(int fd)
{
	REAL(fsync);
	FAIL_IF(fd, -1);
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(fdatasync);
	FAIL_IF(fd, -1);
	return real(fd);
}

int
ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	FAIL_IF(fd, -1);
	return real(fd, len);
}

int
ftruncate64(int fd, off64_t len)
{
	REAL(ftruncate64);
	FAIL_IF(fd, -1);
	return real(fd, len);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	REAL(fallocate);
	FAIL_IF(fd, -1);
	return real(fd, mode, off, len);
}

int
fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	REAL(fallocate64);
	FAIL_IF(fd, -1);
	return real(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int
posix_fallocate(int fd, off_t off, off_t len)
{
	int e;

	REAL(posix_fallocate);
	if ((e = fault_for(fd)) != 0)
		return e;
	return real(fd, off, len);
}

int
posix_fallocate64(int fd, off64_t off, off64_t len)
{
	int e;

	REAL(posix_fallocate64);
	if ((e = fault_for(fd)) != 0)
		return e;
	return real(fd, off, len);
}
