/* Verified files: where downloaded blobs go. Bytes arrive in pieces (from
 * the HTTP engine), are hashed at once and handed to a background writer
 * (util/stream.c), so hashing overlaps the disk writes and the transfer;
 * memory stays at a few chunks whatever the size. Nothing is renamed into
 * place unless the bytes number the expected size and hash to the expected
 * digest: bad bytes are never kept. In the store, the destination is the
 * blob's own name (blobs/sha256/<hex>).
 *
 * Opening one costs nothing but its names: the temporary file, the hash
 * and the writer (a thread and its buffers) come with the first byte, and
 * verification syncs the file and lets all three go. So a pull of
 * thousands of layers holds a descriptor and a thread only for the few
 * blobs streaming at once (mg_remote_fetch_blobs bounds them), and the
 * verified ones wait for their commit as names on disk. */
#include "remote.h"
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (4u << 20)
/* Large blobs are written around the page cache: downloading, hashing and
 * writing then fit the two cores with the registry's share, and a 1 GiB
 * model does not push the rest of the machine's cache out. Reading it
 * afterwards comes from the disk. */
#define DIRECT_MIN ((uint64_t)64 << 20)

struct mg_vfile {
	char *dir; /* where the temporary file goes */
	char *dest;
	char *tmp;
	int fd; /* -1 before the first byte and once verified */
	char digest[MG_DIGEST_SIZE];
	uint64_t size; /* expected */
	uint64_t got;
	mg_hash *hash;
	mg_writer *w;
	char *buf; /* the writer buffer being filled */
	size_t cap;
	size_t fill;
	int committed;
	int verified;
	int content_named; /* dest is named by the digest: an existing one is the same */
};

void mg_vfile_free(mg_vfile *f)
{
	if (!f)
		return;
	mg_writer_free(f->w);
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp && !f->committed)
		unlink(f->tmp);
	mg_hash_free(f->hash);
	free(f->tmp);
	free(f->dest);
	free(f->dir);
	free(f);
}

/* At the first byte: the temporary file, the hash and the writer. */
static int start(mg_vfile *f, mg_error *err)
{
	assert(f->fd < 0 && !f->w && !f->hash);
	int rc = mg_hash_new(&f->hash, err);
	if (!rc)
		rc = mg_tmpfile_open(&f->fd, &f->tmp, f->dir, err);
	if (!rc)
		rc = mg_writer_new(&f->w, f->fd, f->dest, CHUNK, f->size >= DIRECT_MIN, err);
	if (rc) { /* as before: a later call may start again */
		mg_hash_free(f->hash);
		f->hash = NULL;
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		if (f->tmp)
			unlink(f->tmp);
		free(f->tmp);
		f->tmp = NULL;
	}
	return rc;
}

int mg_vfile_open(mg_vfile **out, const char *dir, const char *dest, const char *digest,
		  uint64_t size, mg_error *err)
{
	mg_vfile *f = calloc(1, sizeof(*f));
	if (!f)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	f->fd = -1;
	f->size = size;
	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	if (!(f->dest = mg_strdup(dest, err)) || !(f->dir = mg_strdup(dir, err))) {
		mg_vfile_free(f);
		return MG_ENOMEM;
	}
	*out = f;
	return 0;
}

int mg_store_blob_writer(mg_vfile **out, mg_store *s, const char *digest, uint64_t size,
			 mg_error *err)
{
	mg_buf path = MG_BUF_INIT;
	int rc = mg_store_blob_path(&path, s, digest, err);
	if (!rc)
		rc = mg_vfile_open(out, s->blobdir, path.data, digest, size, err);
	if (!rc)
		(*out)->content_named = 1;
	mg_buf_free(&path);
	return rc;
}

static int too_long(const mg_vfile *f, mg_error *err)
{
	return mg_error_set(err, MG_ECORRUPT, "blob %s is longer than the %llu bytes its "
			    "descriptor says; nothing was kept", f->digest,
			    (unsigned long long)f->size);
}

int mg_vfile_write(mg_vfile *f, const void *data, size_t len, mg_error *err)
{
	if (len > f->size - f->got)
		return too_long(f, err);
	if (!f->w) {
		int rc = start(f, err);
		if (rc)
			return rc;
	}
	mg_hash_update(f->hash, data, len);
	f->got += len;
	const char *p = data;
	while (len) {
		if (!f->buf)
			f->buf = mg_writer_buffer(f->w, &f->cap);
		size_t k = f->cap - f->fill < len ? f->cap - f->fill : len;
		memcpy(f->buf + f->fill, p, k);
		f->fill += k;
		p += k;
		len -= k;
		if (f->fill == f->cap) {
			int rc = mg_writer_submit(f->w, f->fill, err);
			f->buf = NULL;
			f->fill = 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

int mg_vfile_verify(mg_vfile *f, mg_error *err)
{
	if (f->verified)
		return 0;
	int rc = 0;
	if (f->fill) {
		rc = mg_writer_submit(f->w, f->fill, err);
		f->buf = NULL;
		f->fill = 0;
	}
	if (!rc && f->w)
		rc = mg_writer_finish(f->w, err);
	if (rc)
		return rc;
	if (f->got != f->size)
		return mg_error_set(err, MG_ECORRUPT, "blob %s ended after %llu of %llu bytes; "
				    "nothing was kept", f->digest, (unsigned long long)f->got,
				    (unsigned long long)f->size);
	char got[MG_DIGEST_SIZE];
	if (f->hash)
		mg_hash_final(f->hash, got);
	else
		mg_digest_bytes("", 0, got);
	if (strcmp(got, f->digest))
		return mg_error_set(err, MG_ECORRUPT, "blob %s was corrupted in transfer: its bytes "
				    "hash to %s; nothing was kept", f->digest, got);
	if (f->fd < 0 && (rc = start(f, err))) /* an empty blob: an empty file */
		return rc;
	/* the bytes are on disk: the thread, its buffers and the descriptor go */
	mg_writer_free(f->w);
	f->w = NULL;
	mg_hash_free(f->hash);
	f->hash = NULL;
	if (fsync(f->fd) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", f->dest);
	if (close(f->fd) < 0 && !rc)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", f->dest);
	f->fd = -1;
	f->verified = !rc;
	return rc;
}

int mg_vfile_commit(mg_vfile *f, mg_error *err)
{
	int rc = mg_vfile_verify(f, err);
	if (rc)
		return rc;
	struct stat st;
	if (f->content_named && stat(f->dest, &st) == 0 && (uint64_t)st.st_size == f->size)
		return 0; /* the store has it already: ours is dropped */
	/* else ours goes in its place, replacing a blob of the wrong size */
	rc = mg_tmpfile_commit(-1, f->tmp, f->dest, err); /* verify synced and closed it */
	f->committed = !rc;
	return rc;
}
