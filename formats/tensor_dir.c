/* tensor_dir: a folder of tensors, as `modelgate run --inputs/--outputs/
 * --expect` and the validator use them: ONNX test data (input_N.pb,
 * output_N.pb, by position) or one NAME.npy per tensor (by name). */
#include "formats/tensor.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NAME.npy with unsafe characters replaced. */
static void npy_name(char *out, size_t len, const char *name)
{
	size_t k = 0;
	for (const char *p = name; *p && k + 5 < len; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		out[k] = ok && !(k == 0 && c == '.') ? c : '_';
		k++;
	}
	if (k == 0)
		out[k++] = '_';
	snprintf(out + k, len - k, ".npy");
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The only .npy in dir, or "" when there are none or several; *count is
 * how many there are. */
static int only_npy(const char *dir, char *out, size_t len, size_t *count, mg_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return mg_error_sys(err, errno == ENOENT ? MG_EINVAL : MG_EIO, errno,
				    "cannot read the folder '%s'", dir);
	struct dirent *e;
	*count = 0;
	out[0] = '\0';
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n > 4 && !strcmp(e->d_name + n - 4, ".npy") && ++*count == 1)
			snprintf(out, len, "%s", e->d_name);
	}
	closedir(d);
	if (*count != 1)
		out[0] = '\0';
	return 0;
}

int mg_tensor_dir_read(mg_tensor ***out, mg_tensor_format *fmt, const char *dir,
		       const char *prefix, const char *const *names, size_t n, mg_error *err)
{
	*out = NULL;
	char path[4096], file[512];
	mg_tensor **ts = calloc(n ? n : 1, sizeof(*ts));
	if (!ts)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	int rc = 0;
	snprintf(path, sizeof(path), "%s/%s_0.pb", dir, prefix);
	if (exists(path)) {
		*fmt = MG_TFMT_PB;
		size_t k = 0;
		for (;; k++) {
			snprintf(path, sizeof(path), "%s/%s_%zu.pb", dir, prefix, k);
			if (!exists(path))
				break;
			if (k < n && (rc = mg_tensor_pb_read(&ts[k], path, err)))
				goto done;
		}
		if (k != n) {
			rc = mg_error_set(err, MG_EINVAL, "'%s' has %zu %s_N.pb file(s), the model has %zu %ss",
					  dir, k, prefix, n, prefix);
			goto done;
		}
	} else {
		*fmt = MG_TFMT_NPY;
		size_t count;
		char only[256];
		if ((rc = only_npy(dir, only, sizeof(only), &count, err)))
			goto done;
		for (size_t i = 0; i < n; i++) {
			npy_name(file, sizeof(file), names[i]);
			snprintf(path, sizeof(path), "%s/%s", dir, file);
			if (!exists(path) && n == 1 && only[0])
				snprintf(path, sizeof(path), "%s/%s", dir, only);
			else if (!exists(path)) {
				rc = mg_error_set(err, MG_EINVAL, "no '%s' in '%s' for the %s '%s' "
								  "(nor %s_0.pb)", file, dir, prefix, names[i], prefix);
				goto done;
			}
			if ((rc = mg_npy_read(&ts[i], path, err)))
				goto done;
		}
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = mg_tensor_set_name(ts[i], names[i], err)))
			goto done;
	*out = ts;
	ts = NULL;
done:
	mg_tensors_free(ts, n);
	return rc;
}

int mg_tensor_dir_write(const char *dir, mg_tensor_format fmt, const char *prefix,
			mg_tensor *const *ts, size_t n, mg_error *err)
{
	int rc = mg_mkdirs(dir, err);
	char path[4096], file[512];
	for (size_t i = 0; !rc && i < n; i++) {
		mg_buf b = MG_BUF_INIT;
		if (fmt == MG_TFMT_PB) {
			snprintf(file, sizeof(file), "%s_%zu.pb", prefix, i);
			rc = mg_tensor_pb_write(&b, ts[i], err);
		} else {
			npy_name(file, sizeof(file), ts[i]->name);
			rc = mg_npy_write(&b, ts[i], err);
		}
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		if (!rc)
			rc = mg_file_write_atomic(path, b.data ? b.data : "", b.len, err);
		mg_buf_free(&b);
	}
	return rc;
}
