/* One face for the two places an environment can live: the local store
 * and a registry repository. Deploy, the history and the gate-result
 * referrers go through these few calls (resolve a tag, move it, read and
 * store blobs and manifests), so each is written once for both. */
#include "deploy.h"
#include "registry/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mg_ref ref_of(const mg_deploy_target *t, const char *tag, const char *digest)
{
	mg_ref r = {0};
	r.registry = t->remote ? (char *)mg_remote_name(t->remote) : NULL;
	r.repo = (char *)t->repo;
	r.tag = (char *)(tag ? tag : "latest");
	r.digest = (char *)digest;
	return r;
}

void mg_target_name(const mg_deploy_target *t, char *out, size_t cap)
{
	if (t->remote)
		snprintf(out, cap, "%s/%s", mg_remote_name(t->remote), t->repo);
	else
		snprintf(out, cap, "%s", t->repo);
}

int mg_target_get_manifest(const mg_deploy_target *t, const char *tag, const char *digest,
			   mg_buf *out, char got[MG_DIGEST_SIZE], mg_error *err)
{
	mg_ref r = ref_of(t, tag, digest);
	char d[MG_DIGEST_SIZE];
	int rc;
	if (t->remote) {
		rc = mg_remote_get_manifest(t->remote, &r, out, d, NULL, err);
	} else {
		rc = mg_store_resolve(t->store, &r, d, err);
		if (!rc)
			rc = mg_store_read_blob(t->store, d, MG_MANIFEST_MAX, out, err);
	}
	if (!rc && got)
		memcpy(got, d, MG_DIGEST_SIZE);
	return rc;
}

int mg_target_resolve(const mg_deploy_target *t, const char *tag, char digest[MG_DIGEST_SIZE],
		      mg_error *err)
{
	if (!t->remote) {
		mg_ref r = ref_of(t, tag, NULL);
		return mg_store_resolve(t->store, &r, digest, err);
	}
	mg_buf b = MG_BUF_INIT;
	int rc = mg_target_get_manifest(t, tag, NULL, &b, digest, err);
	mg_buf_free(&b);
	return rc;
}

int mg_target_set_tag(const mg_deploy_target *t, const char *tag, const char *digest,
		      mg_error *err)
{
	if (!t->remote) {
		mg_buf name = MG_BUF_INIT;
		int rc = mg_buf_printf(&name, err, "%s:%s", t->repo, tag);
		if (!rc)
			rc = mg_store_set_tag(t->store, name.data, digest, err);
		mg_buf_free(&name);
		return rc;
	}
	mg_buf b = MG_BUF_INIT;
	mg_ref r = ref_of(t, NULL, digest);
	char d[MG_DIGEST_SIZE], mt[256];
	int rc = mg_remote_get_manifest(t->remote, &r, &b, d, mt, err);
	if (!rc)
		rc = mg_remote_put_manifest(t->remote, t->repo, tag, b.data, b.len,
					    mt[0] ? mt : MG_MEDIA_MANIFEST, err);
	mg_buf_free(&b);
	return rc;
}

int mg_target_put_blob(const mg_deploy_target *t, const void *data, size_t len,
		       char digest[MG_DIGEST_SIZE], mg_error *err)
{
	if (t->remote)
		return mg_remote_push_blob_bytes(t->remote, t->repo, data, len, digest, err);
	return mg_store_put_bytes(t->store, data, len, digest, err);
}

int mg_target_read_blob(const mg_deploy_target *t, const char *digest, size_t max, mg_buf *out,
			mg_error *err)
{
	if (t->remote)
		return mg_remote_read_blob(t->remote, t->repo, digest, max, out, err);
	return mg_store_read_blob(t->store, digest, max, out, err);
}

int mg_target_put_manifest(const mg_deploy_target *t, const char *tag, const void *data,
			   size_t len, const char *media_type, char digest[MG_DIGEST_SIZE],
			   mg_error *err)
{
	mg_digest_bytes(data, len, digest);
	if (t->remote)
		return mg_remote_put_manifest(t->remote, t->repo, tag, data, len, media_type, err);
	char d[MG_DIGEST_SIZE];
	int rc = mg_store_put_bytes(t->store, data, len, d, err);
	if (!rc && tag)
		rc = mg_target_set_tag(t, tag, d, err);
	return rc;
}
