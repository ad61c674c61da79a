/* cpuinfo_probe: a tiny aarch64 program for t_run_qemu.sh that opens files
 * the way ONNX Runtime and libstdc++ do, to test libmodelgate-cpuinfo.so
 * under qemu-aarch64. Built by the test with aarch64-linux-gnu-gcc.
 *
 *   cpuinfo_probe read FUNC PATH     PATH's bytes, read through FUNC (open,
 *                                    open64, openat, openat64: with
 *                                    O_CLOEXEC; fopen, fopen64: "re"), to
 *                                    stdout; exit 4 if the descriptor lost
 *                                    close-on-exec
 *   cpuinfo_probe create FUNC PATH   creates PATH, mode 0640, through FUNC
 *                                    (the open family) and writes "created"
 *
 * Exit 3 with a message when a call fails, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int open_with(const char *fn, const char *path, int flags, mode_t mode)
{
	if (!strcmp(fn, "open"))
		return open(path, flags, mode);
	if (!strcmp(fn, "open64"))
		return open64(path, flags, mode);
	if (!strcmp(fn, "openat"))
		return openat(AT_FDCWD, path, flags, mode);
	if (!strcmp(fn, "openat64"))
		return openat64(AT_FDCWD, path, flags, mode);
	errno = EINVAL;
	return -1;
}

static FILE *fopen_with(const char *fn, const char *path, const char *how)
{
	if (!strcmp(fn, "fopen"))
		return fopen(path, how);
	if (!strcmp(fn, "fopen64"))
		return fopen64(path, how);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "read") && strcmp(argv[1], "create"))) {
		fprintf(stderr, "usage: cpuinfo_probe read|create FUNC PATH\n");
		return 2;
	}
	const char *fn = argv[2], *path = argv[3];
	int is_f = !strncmp(fn, "fopen", 5);
	if (!strcmp(argv[1], "create")) {
		int fd = is_f ? -1 : open_with(fn, path, O_WRONLY | O_CREAT | O_EXCL, 0640);
		if (fd < 0 || write(fd, "created\n", 8) != 8 || close(fd)) {
			fprintf(stderr, "cpuinfo_probe: %s '%s': %s\n", fn, path, strerror(errno));
			return 3;
		}
		return 0;
	}
	FILE *f = is_f ? fopen_with(fn, path, "re") : NULL;
	int fd = is_f ? (f ? fileno(f) : -1) : open_with(fn, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "cpuinfo_probe: %s '%s': %s\n", fn, path, strerror(errno));
		return 3;
	}
	int cloexec = fcntl(fd, F_GETFD) & FD_CLOEXEC;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0) {
		fprintf(stderr, "cpuinfo_probe: reading '%s': %s\n", path, strerror(errno));
		return 3;
	}
	if (f)
		fclose(f);
	else
		close(fd);
	return cloexec ? 0 : 4;
}
