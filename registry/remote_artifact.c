/* Artifacts on a registry: push files (the artifact is built as for the
 * local store, artifact.c, with blobs going to the registry) and pull them
 * back into a folder (parallel downloads, verified while they stream,
 * each file renamed into place only when it matches its digest).
 *
 * A push hashes each file first (SHA-NI makes that a fraction of the
 * upload), so that blobs the registry has are not sent at all, and a file
 * of known digest can go in one monolithic PUT. */
#include "artifact_int.h"
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct push_ctx {
	mg_remote *r;
	const char *repo;
} push_ctx;

static int put_file(void *ctx, const char *path, const char *title, mg_desc *layer, int *existed,
		    mg_error *err)
{
	push_ctx *p = ctx;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EINVAL, errno,
				    "cannot read '%s'", path);
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path) : 0;
	uint64_t size = 0;
	if (!rc)
		rc = mg_copy_hash(fd, path, -1, NULL, layer->digest, &size, err);
	if (!rc && size != (uint64_t)st.st_size)
		rc = mg_error_set(err, MG_EIO, "'%s' changed while it was read", path);
	layer->size = size;
	int has = 0;
	if (!rc)
		rc = mg_remote_has_blob(p->r, p->repo, layer->digest, &has, err);
	*existed = has;
	char got[MG_DIGEST_SIZE];
	if (!rc && !has)
		rc = mg_remote_push_blob_fd(p->r, p->repo, fd, size, layer->digest, got, title, err);
	close(fd);
	return rc;
}

static int put_bytes(void *ctx, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
		     mg_error *err)
{
	push_ctx *p = ctx;
	return mg_remote_push_blob_bytes(p->r, p->repo, data, len, digest, err);
}

int mg_push_remote(mg_remote *r, const mg_ref *ref, const char *const *files, size_t nfiles,
		   const mg_push_opts *opts, mg_push_result *res, mg_error *err)
{
	if (ref->digest)
		return mg_error_set(err, MG_EINVAL, "cannot push to '%s/%s@%s': give a tag, not a digest",
				    mg_remote_name(r), ref->repo, ref->digest);
	push_ctx p = {r, ref->repo};
	const mg_artifact_sink sink = {put_file, put_bytes, &p};
	mg_buf json = MG_BUF_INIT;
	int rc = mg_artifact__build(files, nfiles, opts, &sink, &json, res, err);
	if (!rc)
		rc = mg_remote_put_manifest(r, ref->repo, ref->tag, json.data, json.len,
					    MG_MEDIA_MANIFEST, err);
	mg_buf_free(&json);
	return rc;
}

int mg_pull_remote(mg_remote *r, const mg_ref *ref, const char *dir, mg_manifest **out,
		   char digest[MG_DIGEST_SIZE], mg_error *err)
{
	mg_buf bytes = MG_BUF_INIT;
	mg_manifest *m = NULL;
	mg_vfile **files = NULL;
	const char **titles = NULL;
	int rc = mg_remote_get_manifest(r, ref, &bytes, digest, NULL, err);
	if (!rc)
		rc = mg_manifest_parse(&m, bytes.data, bytes.len, digest, err);
	if (rc)
		goto done;
	size_t n = m->nlayers;
	titles = calloc(n ? n : 1, sizeof(*titles));
	files = calloc(n ? n : 1, sizeof(*files));
	if (!titles || !files) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		titles[i] = m->layers[i].title;
	if ((rc = mg_artifact__check_titles(titles, n, digest, err)) || (rc = mg_mkdirs(dir, err)))
		goto done;
	for (size_t i = 0; i < n && !rc; i++) {
		char *dest = mg_path_join(dir, titles[i], err);
		rc = dest ? mg_vfile_open(&files[i], dir, dest, m->layers[i].digest, m->layers[i].size, err)
			  : MG_ENOMEM;
		free(dest);
	}
	if (!rc)
		rc = mg_remote_fetch_blobs(r, ref->repo, m->layers, n, files, err);
done:
	for (size_t i = 0; files && m && i < m->nlayers; i++)
		mg_vfile_free(files[i]);
	free(files);
	free(titles);
	mg_buf_free(&bytes);
	if (!rc && out)
		*out = m;
	else
		mg_manifest_free(m);
	return rc;
}
