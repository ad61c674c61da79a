/* Artifacts on a registry: push files (the artifact is built as for the
 * local store, artifact.c, with blobs going to the registry) and pull them
 * back into a folder (parallel downloads, verified while they stream,
 * each file renamed into place only when it matches its digest).
 *
 * A file the digest cache (digest_cache.c) knows costs a HEAD and, only if
 * the registry lacks it, the upload. A small unknown file is hashed first
 * (SHA-NI makes that a fraction of the upload). A large unknown one is
 * uploaded while a second thread hashes it, at six times the speed of a
 * loopback registry: once the digest is known the registry is asked, and
 * an upload it does not need is cancelled after a few small chunks. So a
 * first push costs what the transfer costs. A repeated one sends no blob
 * bytes: the digest cache knows the file, or (on a fresh machine, a CI
 * runner) the tag pushed to already holds a layer of the file's size, and
 * then the file is hashed first and asked for, as a small one is. */
#include "artifact_int.h"
#include "remote.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct push_ctx {
	mg_remote *r;
	const mg_ref *ref;
	mg_manifest *tagged; /* what the tag holds now, asked for once when needed */
	int asked;
} push_ctx;

/* 1 when the tag pushed to holds a layer of size bytes: likely this very
 * file. The tag's manifest is fetched the first time a large unknown file
 * asks; a tag that does not exist or cannot be read holds nothing (the
 * push then finds out what is wrong itself). */
static int tag_has_size(push_ctx *p, uint64_t size)
{
	if (!p->asked) {
		mg_buf bytes = MG_BUF_INIT;
		char digest[MG_DIGEST_SIZE];
		mg_error ignored = {0};
		p->asked = 1;
		if (!mg_remote_get_manifest(p->r, p->ref, &bytes, digest, NULL, &ignored))
			mg_manifest_parse(&p->tagged, bytes.data, bytes.len, digest, &ignored);
		mg_buf_free(&bytes);
	}
	for (size_t i = 0; p->tagged && i < p->tagged->nlayers; i++)
		if (p->tagged->layers[i].size == size)
			return 1;
	return 0;
}

/* Files this large go while they are hashed (mg_remote_push_blob_fd_racing),
 * unless the digest cache knows them. */
#define RACE_MIN ((uint64_t)64 << 20)

/* The hashing thread of a racing upload. */
typedef struct hasher {
	int fd;
	const char *path;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, rc;
	uint64_t size;
	char digest[MG_DIGEST_SIZE];
	mg_error err;
} hasher;

static void *hash_main(void *arg)
{
	hasher *h = arg;
	char digest[MG_DIGEST_SIZE];
	uint64_t size = 0;
	int cached = 0;
	mg_error e = {0};
	int rc = mg_file_digest(h->fd, h->path, digest, &size, &cached, &e);
	pthread_mutex_lock(&h->mu);
	h->rc = rc;
	h->err = e;
	h->size = size;
	memcpy(h->digest, digest, MG_DIGEST_SIZE);
	h->done = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static int hash_poll(void *ctx, int wait, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	hasher *h = ctx;
	pthread_mutex_lock(&h->mu);
	while (wait && !h->done)
		pthread_cond_wait(&h->cv, &h->mu);
	int rc = !h->done ? 0 : h->rc ? h->rc : 1;
	if (rc == 1)
		memcpy(digest, h->digest, MG_DIGEST_SIZE);
	else if (rc < 0 && err)
		*err = h->err;
	pthread_mutex_unlock(&h->mu);
	return rc;
}

/* Uploads fd while a thread hashes it. */
static int put_racing(push_ctx *p, int fd, const char *path, const char *title, uint64_t size,
		      mg_desc *layer, int *existed, mg_error *err)
{
	hasher h = {.fd = fd, .path = path};
	pthread_mutex_init(&h.mu, NULL);
	pthread_cond_init(&h.cv, NULL);
	int e = pthread_create(&h.thread, NULL, hash_main, &h);
	int rc = e ? mg_error_sys(err, MG_ENOMEM, e, "cannot start a thread to hash '%s'", path) : 0;
	if (!rc)
		rc = mg_remote_push_blob_fd_racing(p->r, p->ref->repo, fd, size, hash_poll, &h,
						   layer->digest, existed, title, err);
	if (!e) {
		pthread_join(h.thread, NULL);
		if (!rc && h.rc) {
			rc = h.rc;
			if (err)
				*err = h.err;
		}
		if (!rc && h.size != size) /* the registry has checked the digest */
			rc = mg_error_set(err, MG_EIO, "'%s' changed while it was read", path);
	}
	layer->size = size;
	pthread_mutex_destroy(&h.mu);
	pthread_cond_destroy(&h.cv);
	return rc;
}

static int put_file(void *ctx, const char *path, const char *title, mg_desc *layer, int *existed,
		    mg_error *err)
{
	push_ctx *p = ctx;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EINVAL, errno,
				    "cannot read '%s'", path);
	struct stat st;
	uint64_t size = 0;
	int cached = mg_file_digest_lookup(fd, layer->digest, &size), has = 0, rc = 0;
	if (!cached && !fstat(fd, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= RACE_MIN &&
	    !tag_has_size(p, (uint64_t)st.st_size)) {
		rc = put_racing(p, fd, path, title, (uint64_t)st.st_size, layer, existed, err);
		close(fd);
		return rc;
	}
	if (!cached)
		rc = mg_file_digest(fd, path, layer->digest, &size, &cached, err);
	layer->size = size;
	if (!rc)
		rc = mg_remote_has_blob(p->r, p->ref->repo, layer->digest, size, &has, err);
	*existed = has;
	char got[MG_DIGEST_SIZE];
	if (!rc && !has)
		rc = mg_remote_push_blob_fd(p->r, p->ref->repo, fd, size, layer->digest, got, title, err);
	if (rc == MG_ECORRUPT && cached) {
		/* the registry refused the remembered digest: forget it, and
		 * send the file again, hashing it while it goes */
		mg_file_digest_forget(fd);
		mg_error_clear(err);
		rc = mg_remote_push_blob_fd(p->r, p->ref->repo, fd, size, NULL, layer->digest, title, err);
	}
	close(fd);
	return rc;
}

static int put_bytes(void *ctx, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
		     mg_error *err)
{
	push_ctx *p = ctx;
	return mg_remote_push_blob_bytes(p->r, p->ref->repo, data, len, digest, err);
}

int mg_push_remote(mg_remote *r, const mg_ref *ref, const char *const *files, size_t nfiles,
		   const mg_push_opts *opts, mg_push_result *res, mg_error *err)
{
	if (ref->digest)
		return mg_error_set(err, MG_EINVAL, "cannot push to '%s/%s@%s': give a tag, not a digest",
				    mg_remote_name(r), ref->repo, ref->digest);
	push_ctx p = {r, ref, NULL, 0};
	const mg_artifact_sink sink = {put_file, put_bytes, &p};
	mg_buf json = MG_BUF_INIT;
	int rc = mg_artifact__build(files, nfiles, opts, &sink, &json, res, err);
	if (!rc)
		rc = mg_remote_put_manifest(r, ref->repo, ref->tag, json.data, json.len,
					    MG_MEDIA_MANIFEST, err);
	mg_buf_free(&json);
	mg_manifest_free(p.tagged);
	return rc;
}

int mg_pull_remote(mg_remote *r, const mg_ref *ref, const char *dir, const mg_pull_opts *opts,
		   mg_manifest **out, char digest[MG_DIGEST_SIZE], mg_error *err)
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
	files = calloc(n ? n : 1, sizeof(*files));
	if (!files) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = mg_artifact__pull_titles(m, dir, digest, opts, &titles, err)))
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
