/* The compressed size of a model, as the size gate reports it: the bytes a
 * zstd stream of the file takes (what a device downloads when artifacts
 * travel compressed). The only file of the validator that uses libarchive. */
#include "validator_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static la_ssize_t count_bytes(struct archive *a, void *ctx, const void *buf, size_t len)
{
	(void)a;
	(void)buf;
	*(uint64_t *)ctx += len;
	return (la_ssize_t)len;
}

int mg_compressed_size(const char *path, uint64_t *out, mg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, MG_EINVAL, errno, "cannot read '%s'", path);
	struct archive *a = archive_write_new();
	struct archive_entry *e = NULL;
	char *buf = malloc(1u << 20);
	int rc = 0;
	*out = 0;
	if (!a || !buf || archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "zstd", "compression-level", "19") != ARCHIVE_OK ||
	    archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, count_bytes, NULL) != ARCHIVE_OK) {
		rc = mg_error_set(err, MG_ERROR, "cannot set up zstd compression: %s",
				  a ? archive_error_string(a) : "out of memory");
		goto done;
	}
	e = archive_entry_new();
	archive_entry_set_pathname(e, "model");
	archive_entry_set_filetype(e, AE_IFREG);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = mg_error_set(err, MG_ERROR, "cannot compress '%s': %s", path, archive_error_string(a));
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, buf, 1u << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
			goto done;
		}
		if (n == 0)
			break;
		if (archive_write_data(a, buf, (size_t)n) < 0) {
			rc = mg_error_set(err, MG_ERROR, "cannot compress '%s': %s", path, archive_error_string(a));
			goto done;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = mg_error_set(err, MG_ERROR, "cannot compress '%s': %s", path, archive_error_string(a));
done:
	archive_entry_free(e);
	archive_write_free(a);
	free(buf);
	close(fd);
	return rc;
}
