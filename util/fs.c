/* File helpers: whole-file reads with a size limit, folder creation, and
 * the temporary-file-fsync-rename dance that makes every write atomic. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int mg_fd_read(mg_buf *out, int fd, size_t max, int too_big, const char *name, mg_error *err)
{
	size_t start = out->len;
	int rc = 0;
	for (;;) {
		if ((rc = mg_buf_grow(out, 65536, err)))
			break;
		ssize_t n = read(fd, out->data + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", name);
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len - start > max) {
			rc = mg_error_set(err, too_big, "'%s' is larger than %zu bytes", name, max);
			break;
		}
	}
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}

int mg_file_read(mg_buf *out, const char *path, size_t max, mg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EIO, errno,
				    "cannot read '%s'", path);
	int rc = mg_fd_read(out, fd, max, MG_EINVAL, path, err);
	close(fd);
	return rc;
}

int mg_mkdirs(const char *dir, mg_error *err)
{
	char *p = mg_strdup(dir, err);
	if (!p)
		return MG_ENOMEM;
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot create folder '%s'", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (!rc) {
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			rc = mg_error_set(err, MG_EIO, "'%s' is not a folder", dir);
	}
	free(p);
	return rc;
}

int mg_tmpfile_open(int *fd_out, char **path_out, const char *dir, mg_error *err)
{
	static unsigned counter;
	mg_buf b = MG_BUF_INIT;
	for (int attempt = 0; attempt < 100; attempt++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		mg_buf_reset(&b);
		int rc = mg_buf_printf(&b, err, "%s/.tmp-%ld-%lx%x", dir, (long)getpid(),
				       (unsigned long)ts.tv_nsec, counter++);
		if (rc)
			return rc;
		int fd = open(b.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			*fd_out = fd;
			*path_out = mg_buf_detach(&b);
			return 0;
		}
		if (errno != EEXIST) {
			int e = errno;
			mg_buf_free(&b);
			return mg_error_sys(err, e == ENOENT ? MG_ENOTFOUND : MG_EIO, e,
					    "cannot create a file in '%s'", dir);
		}
	}
	mg_buf_free(&b);
	return mg_error_set(err, MG_EIO, "cannot create a temporary file in '%s'", dir);
}

int mg_write_all(int fd, const void *data, size_t len, const char *name, mg_error *err)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", name);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	char *dir = n ? strndup(path, n) : strdup(".");
	if (!dir)
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int mg_tmpfile_commit(int fd, const char *tmp, const char *path, mg_error *err)
{
	int rc = 0;
	if (fd >= 0 && fsync(fd) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", path);
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", path);
	if (!rc && rename(tmp, path) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot rename '%s' to '%s'", tmp, path);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	fsync_parent(path);
	return 0;
}

int mg_path_follow(char **out, const char *path, mg_error *err)
{
	*out = NULL;
	char *cur = mg_strdup(path, err);
	int rc = cur ? 0 : MG_ENOMEM;
	for (int hops = 0; !rc; hops++) {
		struct stat st;
		if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode)) {
			*out = cur;
			return 0;
		}
		if (hops == 40) {
			rc = mg_error_set(err, MG_EINVAL, "cannot follow '%s': too many levels of symbolic links", path);
			break;
		}
		char target[4096];
		ssize_t n = readlink(cur, target, sizeof(target) - 1);
		if (n < 0 || n == (ssize_t)sizeof(target) - 1) {
			rc = mg_error_sys(err, MG_EIO, n < 0 ? errno : ENAMETOOLONG, "cannot read the link '%s'", cur);
			break;
		}
		target[n] = '\0';
		char *slash = strrchr(cur, '/');
		char *next;
		if (target[0] == '/' || !slash) {
			next = mg_strdup(target, err);
		} else {
			slash[1] = '\0'; /* the link's folder, with its '/' */
			next = mg_path_join(cur, target, err);
		}
		free(cur);
		cur = next;
		rc = cur ? 0 : MG_ENOMEM;
	}
	free(cur);
	return rc;
}

static int write_atomic(const char *path, const void *data, size_t len, mg_error *err);

int mg_file_write_atomic(const char *path, const void *data, size_t len, mg_error *err)
{
	char *real = NULL;
	int rc = mg_path_follow(&real, path, err);
	if (!rc)
		rc = write_atomic(real, data, len, err);
	free(real);
	return rc;
}

static int write_atomic(const char *path, const void *data, size_t len, mg_error *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* a device or pipe (/dev/null, /dev/stdout): write to it, never
		 * rename a file over it */
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", path);
		int rc = mg_write_all(fd, data, len, path, err);
		close(fd);
		return rc;
	}
	char *dir = mg_strdup(path, err);
	if (!dir)
		return MG_ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int fd = -1;
	char *tmp = NULL;
	int rc = mg_tmpfile_open(&fd, &tmp, slash ? (*dir ? dir : "/") : ".", err);
	free(dir);
	if (rc)
		return rc;
	rc = mg_write_all(fd, data, len, path, err);
	if (rc) {
		close(fd);
		unlink(tmp);
	} else {
		rc = mg_tmpfile_commit(fd, tmp, path, err);
	}
	free(tmp);
	return rc;
}

char *mg_self_dir(void)
{
	char *self = realpath("/proc/self/exe", NULL);
	char *slash = self ? strrchr(self, '/') : NULL;
	if (slash)
		slash[slash == self] = '\0'; /* "/prog" lies in "/" */
	return self;
}

char *mg_path_join(const char *a, const char *b, mg_error *err)
{
	mg_buf out = MG_BUF_INIT;
	size_t la = strlen(a);
	while (la > 1 && a[la - 1] == '/')
		la--;
	if (mg_buf_append(&out, a, la, err) ||
	    (la && a[la - 1] != '/' && mg_buf_puts(&out, "/", err)) ||
	    mg_buf_puts(&out, b, err)) {
		mg_buf_free(&out);
		return NULL;
	}
	return mg_buf_detach(&out);
}

int mg_name_is_safe(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

void mg_format_size(char *out, size_t outlen, uint64_t bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, outlen, "%.1f %s", v, units[u]);
}

void mg_format_time(char *out, size_t outlen, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void mg_remove_tree(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
