/*
 * faultfs.c: an LD_PRELOAD shim for the fault tests, built for `make check`
 * only and never linked into an installed program.
 *
 * While the file named by HL_FAULTFS_CONTROL exists, every write, sync,
 * truncate and allocation on a file under the directory HL_FAULTFS_DIR
 * fails with the errno the control file names: "ENOSPC" (the default),
 * "EIO" or "EROFS". With "EROFS" the directory also looks like a read-only
 * mount to open() for writing and to access(W_OK), as the kernel's would.
 * Once the control file is removed everything succeeds again. This is how
 * the tests give the daemon a full disk, a failing disk or a read-only
 * file system when they may not mount one. Files elsewhere (stderr,
 * sockets) are never touched.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* The errno the control file asks for, or 0 when there is none. */
static int
fault_wanted(void)
{
	static int	(*ropen)(const char *, int, ...);
	const char	*ctl = getenv("HL_FAULTFS_CONTROL");
	char		 what[16];
	ssize_t		 n;
	int		 cfd, saved = errno, e = ENOSPC;

	if (ctl == NULL)
		return 0;
	if (ropen == NULL)
		ropen = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT,
		    "open");
	if (ropen == NULL || (cfd = ropen(ctl, O_RDONLY | O_CLOEXEC)) == -1) {
		errno = saved;
		return 0;
	}
	n = read(cfd, what, sizeof(what) - 1);
	close(cfd);
	errno = saved;
	if (n > 0) {
		what[n] = '\0';
		if (strncmp(what, "EROFS", 5) == 0)
			e = EROFS;
		else if (strncmp(what, "EIO", 3) == 0)
			e = EIO;
	}
	return e;
}

/* Whether path (absolute, or relative to the working directory) is
 * HL_FAULTFS_DIR or under it. */
static int
under_dir(const char *path)
{
	const char	*dir = getenv("HL_FAULTFS_DIR");
	char		 abs[PATH_MAX];
	size_t		 dlen;
	int		 saved = errno;

	if (dir == NULL || (dlen = strlen(dir)) == 0 || path == NULL)
		return 0;
	if (path[0] != '/') {
		if (getcwd(abs, sizeof(abs)) == NULL ||
		    strlen(abs) + 1 + strlen(path) >= sizeof(abs)) {
			errno = saved;
			return 0;
		}
		strcat(abs, "/");
		strcat(abs, path);
		path = abs;
	}
	errno = saved;
	return strncmp(path, dir, dlen) == 0 && (path[dlen] == '/' ||
	    path[dlen] == '\0');
}

/* The errno to fail fd's write with, or 0 to let it through. */
static int
fault_for(int fd)
{
	char		 link[64], path[PATH_MAX];
	ssize_t		 n;
	int		 saved = errno, e;

	if ((e = fault_wanted()) == 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	errno = saved;
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return under_dir(path) ? e : 0;
}

/* EROFS for opening path for writing while a read-only file system is
 * asked for, else 0. */
static int
fault_open(const char *path, int flags)
{
	if ((flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) == 0)
		return 0;
	return fault_wanted() == EROFS && under_dir(path) ? EROFS : 0;
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

/* Opening for writing and asking for write access on a read-only file
 * system. open's mode is there only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, mode)	do {					\
	if ((flags) & (O_CREAT | O_TMPFILE)) {				\
		va_list ap_;						\
		va_start(ap_, flags);					\
		mode = va_arg(ap_, mode_t);				\
		va_end(ap_);						\
	}								\
} while (0)

#define FAIL_OPEN(path, flags)	do {					\
	int e_ = fault_open(path, flags);				\
	if (e_ != 0) {							\
		errno = e_;						\
		return -1;						\
	}								\
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	REAL(open);
	OPEN_MODE(flags, mode);
	FAIL_OPEN(path, flags);
	return real(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	REAL(open64);
	OPEN_MODE(flags, mode);
	FAIL_OPEN(path, flags);
	return real(path, flags, mode);
}

int
access(const char *path, int how)
{
	REAL(access);
	if ((how & W_OK) != 0 && fault_wanted() == EROFS && under_dir(path)) {
		errno = EROFS;
		return -1;
	}
	return real(path, how);
}
