/* cpuinfo_preload: libmodelgate-cpuinfo.so, an LD_PRELOAD library for the
 * aarch64 agent under qemu-user. qemu-aarch64 shows its guest the host's
 * /proc/cpuinfo, an x86 one, and ONNX Runtime's CPU detection crashes on
 * it. Preloaded in the guest (qemu-aarch64 -E LD_PRELOAD=...), this library
 * answers each read-only open of "/proc/cpuinfo" through open, open64,
 * openat, openat64, fopen or fopen64 (the calls ONNX Runtime, libstdc++ and
 * the agent make) with a new memory file holding an aarch64 cpuinfo: one
 * Neoverse N1 entry per online CPU, as QEMU_CPU=neoverse-n1 emulates. Every
 * other call goes on to the C library's own function (dlsym RTLD_NEXT). It
 * needs no privilege, keeps no state, and includes no modelgate header: it
 * is built for aarch64 only and installed as one file next to that agent. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define CPUINFO "/proc/cpuinfo"

/* One processor's entry as an arm64 kernel writes it on a Neoverse N1. */
#define ENTRY                                                                        \
	"processor\t: %d\n"                                                          \
	"BogoMIPS\t: 50.00\n"                                                        \
	"Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp "       \
	"asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\n"                          \
	"CPU implementer\t: 0x41\n"                                                  \
	"CPU architecture: 8\n"                                                      \
	"CPU variant\t: 0x3\n"                                                       \
	"CPU part\t: 0xd0c\n"                                                        \
	"CPU revision\t: 1\n\n"

typedef int open_fn(const char *, int, ...);
typedef int openat_fn(int, const char *, int, ...);
typedef FILE *fopen_fn(const char *, const char *);

/* A memory file with the text, at offset 0; -1 with errno set. */
static int cpuinfo_fd(int cloexec)
{
	int fd = memfd_create("cpuinfo", cloexec ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	int n = get_nprocs();
	for (int i = 0; i < (n > 0 ? n : 1); i++) {
		if (dprintf(fd, ENTRY, i) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int is_cpuinfo(const char *path, int flags)
{
	return path && !strcmp(path, CPUINFO) && (flags & O_ACCMODE) == O_RDONLY;
}

/* The mode argument exists only when flags create a file. */
#define MODE_ARG(flags, mode)                                                        \
	do {                                                                         \
		(mode) = 0;                                                          \
		if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {     \
			va_list ap;                                                  \
			va_start(ap, flags);                                         \
			(mode) = (mode_t)va_arg(ap, int);                            \
			va_end(ap);                                                  \
		}                                                                    \
	} while (0)

static int pass_open(const char *name, const char *path, int flags, mode_t mode)
{
	open_fn *real;
	*(void **)&real = dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(path, flags, mode);
}

static int pass_openat(const char *name, int dirfd, const char *path, int flags, mode_t mode)
{
	openat_fn *real;
	*(void **)&real = dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(dirfd, path, flags, mode);
}

static FILE *answer_fopen(const char *name, const char *path, const char *how)
{
	if (path && how && !strcmp(path, CPUINFO) && how[0] == 'r' && !strchr(how, '+')) {
		int fd = cpuinfo_fd(strchr(how, 'e') != NULL);
		FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
		if (fd >= 0 && !f) {
			int e = errno;
			close(fd);
			errno = e;
		}
		return f;
	}
	fopen_fn *real;
	*(void **)&real = dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return NULL;
	}
	return real(path, how);
}

int open(const char *path, int flags, ...)
{
	mode_t mode;
	MODE_ARG(flags, mode);
	return is_cpuinfo(path, flags) ? cpuinfo_fd(flags & O_CLOEXEC)
				       : pass_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode;
	MODE_ARG(flags, mode);
	return is_cpuinfo(path, flags) ? cpuinfo_fd(flags & O_CLOEXEC)
				       : pass_open("open64", path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;
	MODE_ARG(flags, mode);
	return is_cpuinfo(path, flags) ? cpuinfo_fd(flags & O_CLOEXEC)
				       : pass_openat("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;
	MODE_ARG(flags, mode);
	return is_cpuinfo(path, flags) ? cpuinfo_fd(flags & O_CLOEXEC)
				       : pass_openat("openat64", dirfd, path, flags, mode);
}

FILE *fopen(const char *path, const char *how)
{
	return answer_fopen("fopen", path, how);
}

FILE *fopen64(const char *path, const char *how)
{
	return answer_fopen("fopen64", path, how);
}
