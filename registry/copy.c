/* Copying an artifact between any two of the local store and registries,
 * moving only the blobs the destination lacks: the store is asked
 * directly, a registry with HEAD; on the same registry a blob is mounted
 * from the source repository rather than sent again.
 *
 * Into the local store, blobs are downloaded in parallel, verified while
 * they stream and committed under their digest only when they match; the
 * manifest follows, and the tag moves last. A copy interrupted at any
 * point therefore moves no tag and leaves no bad blob (at most a stray
 * temporary file, which gc removes). Between two registries a blob goes
 * through a verified temporary file, so memory stays bounded. */
#include "repo.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One end of a copy: a repository and the reference in it. */
typedef struct end {
	const mg_repo *r;
	const mg_ref *ref;
} end;

/* Downloads the blobs of a registry into the store, in parallel. */
static int fetch_into_store(const end *src, mg_store *s, const mg_desc *d, size_t n,
			    mg_error *err)
{
	mg_vfile **files = calloc(n ? n : 1, sizeof(*files));
	int rc = files ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++)
		rc = mg_store_blob_writer(&files[i], s, d[i].digest, d[i].size, err);
	if (!rc)
		rc = mg_remote_fetch_blobs(src->r->remote, src->ref->repo, d, n, files, err);
	for (size_t i = 0; files && i < n; i++)
		mg_vfile_free(files[i]);
	free(files);
	return rc;
}

/* Sends one blob of the source (store or another registry) to dst. */
static int send_blob(const end *src, const end *dst, const mg_desc *d,
		     mg_error *err)
{
	mg_buf path = MG_BUF_INIT;
	char *tmpdir = NULL;
	mg_vfile *vf = NULL;
	int fd = -1, rc = 0;
	const char *what = d->title ? d->title : d->digest;
	if (src->r->store) {
		rc = mg_store_blob_path(&path, src->r->store, d->digest, err);
	} else {
		const char *t = getenv("TMPDIR");
		tmpdir = mg_strdup(t && *t ? t : "/tmp", err);
		rc = tmpdir ? mg_buf_printf(&path, err, "%s/.modelgate-copy-%ld-%s", tmpdir,
					    (long)getpid(), mg_digest_hex(d->digest))
			    : MG_ENOMEM;
		if (!rc)
			rc = mg_vfile_open(&vf, tmpdir, path.data, d->digest, d->size, err);
		if (!rc)
			rc = mg_remote_fetch_blobs(src->r->remote, src->ref->repo, d, 1, &vf, err);
	}
	if (!rc && (fd = open(path.data, O_RDONLY | O_CLOEXEC)) < 0)
		rc = mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EIO, errno,
				  "cannot read blob %s", d->digest);
	char got[MG_DIGEST_SIZE];
	if (!rc)
		rc = mg_remote_push_blob_fd(dst->r->remote, dst->ref->repo, fd, d->size, d->digest, got,
					    what, err);
	if (fd >= 0)
		close(fd);
	if (vf)
		unlink(path.data);
	mg_vfile_free(vf);
	free(tmpdir);
	mg_buf_free(&path);
	return rc;
}

static int same_registry(const end *a, const end *b)
{
	return a->r->remote && b->r->remote &&
	       !strcmp(mg_remote_name(a->r->remote), mg_remote_name(b->r->remote));
}

/* Gets every blob of the manifest to dst; counts in res. */
static int copy_blobs(const end *src, const end *dst, const mg_manifest *m,
		      mg_copy_result *res, mg_error *err)
{
	size_t n = m->nlayers + 1;
	mg_desc *all = calloc(n, sizeof(*all));
	mg_desc *need = calloc(n, sizeof(*need));
	size_t nneed = 0;
	int rc = all && need ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc) {
		all[0] = m->config;
		memcpy(all + 1, m->layers, m->nlayers * sizeof(*all));
	}
	for (size_t i = 0; !rc && i < n; i++) {
		int has = 0, mounted = 0;
		for (size_t k = 0; k < nneed && !has; k++) /* the same blob twice */
			has = !strcmp(need[k].digest, all[i].digest);
		if (has)
			continue;
		if (dst->r->store)
			has = mg_store__has_blob_of_size(dst->r->store, all[i].digest, all[i].size);
		else
			rc = mg_remote_has_blob(dst->r->remote, dst->ref->repo, all[i].digest, all[i].size,
						&has, err);
		if (!rc && !has && same_registry(src, dst) && strcmp(src->ref->repo, dst->ref->repo))
			rc = mg_remote_mount_blob(dst->r->remote, dst->ref->repo, src->ref->repo,
						  all[i].digest, &mounted, err);
		if (rc)
			break;
		if (has) {
			res->blobs_skipped++;
		} else if (mounted) {
			res->blobs_mounted++;
		} else {
			need[nneed++] = all[i];
			res->blobs_copied++;
			res->bytes_copied += all[i].size;
		}
	}
	if (!rc && dst->r->store && nneed)
		rc = src->r->remote ? fetch_into_store(src, dst->r->store, need, nneed, err)
				 : mg_error_set(err, MG_ECORRUPT, "blob %s is missing from store '%s'",
						need[0].digest, mg_store_root(dst->r->store));
	for (size_t i = 0; !rc && dst->r->remote && i < nneed; i++)
		rc = send_blob(src, dst, &need[i], err);
	free(all);
	free(need);
	return rc;
}

/* The copy; into the store with the tag of dst's reference, or none. */
static int copy_artifact(const end *src, const end *dst, int tag,
			 mg_copy_result *res, mg_error *err)
{
	memset(res, 0, sizeof(*res));
	mg_buf bytes = MG_BUF_INIT;
	mg_manifest *m = NULL;
	char media_type[256], digest[MG_DIGEST_SIZE], stored[MG_DIGEST_SIZE];
	char *name = NULL;
	int rc = mg_repo_get_manifest(src->r, src->ref->tag, src->ref->digest, &bytes, digest, media_type, err);
	if (!rc && strcmp(media_type, MG_MEDIA_MANIFEST) && media_type[0])
		rc = mg_error_set(err, MG_EINVAL, "'%s' is a '%s', not an OCI image manifest: modelgate "
				  "copies single artifacts", src->ref->repo, media_type);
	if (!rc)
		rc = mg_manifest_parse(&m, bytes.data, bytes.len, digest, err);
	if (!rc && dst->ref->digest && strcmp(dst->ref->digest, digest))
		rc = mg_error_set(err, MG_EINVAL, "the source is %s, not %s", digest, dst->ref->digest);
	if (!rc)
		rc = copy_blobs(src, dst, m, res, err);
	if (rc)
		goto done;
	if (dst->r->remote) {
		rc = mg_remote_put_manifest(dst->r->remote, dst->ref->repo,
					    dst->ref->digest ? NULL : dst->ref->tag, bytes.data, bytes.len,
					    MG_MEDIA_MANIFEST, err);
	} else {
		if (!(rc = mg_store_put_bytes(dst->r->store, bytes.data, bytes.len, stored, err)) && tag &&
		    !(name = mg_ref_store_name(dst->ref, err)))
			rc = MG_ENOMEM;
		if (!rc && tag) /* last: the tag moves only when everything is in */
			rc = mg_store_set_tag(dst->r->store, name, stored, err);
	}
	if (!rc)
		memcpy(res->digest, digest, MG_DIGEST_SIZE);
done:
	free(name);
	mg_manifest_free(m);
	mg_buf_free(&bytes);
	return rc;
}

int mg_copy(const mg_repo *src, const mg_ref *sref, const mg_repo *dst, const mg_ref *dref,
	    mg_copy_result *res, mg_error *err)
{
	if (dref->digest && !dst->remote)
		return mg_error_set(err, MG_EINVAL, "cannot copy to '%s@%s': give a tag", dref->repo,
				    dref->digest);
	end s = {src, sref}, d = {dst, dref};
	return copy_artifact(&s, &d, 1, res, err);
}

int mg_copy_untagged(const mg_repo *src, const mg_ref *sref, mg_store *store, mg_copy_result *res,
		     mg_error *err)
{
	mg_repo in_store = {.store = store, .name = sref->repo};
	end s = {src, sref}, d = {&in_store, sref};
	return copy_artifact(&s, &d, 0, res, err);
}
