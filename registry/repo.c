/* Repositories (repo.h): each operation once, for the store and for a
 * registry. The store has no repositories of its own, only names
 * "REPO:TAG" in its index; a handle's name prefixes its tags. */
#include "repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_remote(const mg_repo_opts *o, const char *registry, mg_remote **out, mg_error *err)
{
	if (o->open_remote)
		return o->open_remote(o->ctx, registry, out, err);
	mg_remote_opts ro = MG_REMOTE_OPTS_INIT;
	ro.insecure = mg_registry_listed_insecure(registry);
	return mg_remote_open(out, registry, &ro, NULL, NULL, err);
}

int mg_repo_open_near(mg_repo *out, const mg_ref *ref, const mg_repo *near, const mg_repo_opts *o,
		      mg_error *err)
{
	static const mg_repo_opts defaults = MG_REPO_OPTS_INIT;
	if (!o)
		o = &defaults;
	memset(out, 0, sizeof(*out));
	if (!(out->name = mg_strdup(ref->repo, err)))
		return MG_ENOMEM;
	int rc = 0;
	if (ref->registry && near && near->remote && !strcmp(mg_remote_name(near->remote), ref->registry))
		out->remote = near->remote;
	else if (ref->registry && !(rc = open_remote(o, ref->registry, &out->own_remote, err)))
		out->remote = out->own_remote;
	else if (!ref->registry && near && near->store)
		out->store = near->store;
	else if (!ref->registry && o->store)
		out->store = o->store;
	else if (!ref->registry && !(rc = mg_store_open_default(&out->own_store, err))) {
		out->store = out->own_store;
		mg_store_set_progress(out->store, o->progress, o->ctx);
	}
	if (rc) {
		mg_repo_close(out);
		return rc;
	}
	if (out->remote)
		snprintf(out->label, sizeof(out->label), "%s/%s", mg_remote_name(out->remote), out->name);
	else
		snprintf(out->label, sizeof(out->label), "%s", out->name);
	return 0;
}

int mg_repo_open(mg_repo *out, const mg_ref *ref, const mg_repo_opts *o, mg_error *err)
{
	return mg_repo_open_near(out, ref, NULL, o, err);
}

void mg_repo_close(mg_repo *r)
{
	mg_remote_free(r->own_remote);
	mg_store_free(r->own_store);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

/* A reference to tag (default "latest") or digest in r. */
static mg_ref ref_of(const mg_repo *r, const char *tag, const char *digest)
{
	mg_ref ref = {0};
	ref.registry = r->remote ? (char *)mg_remote_name(r->remote) : NULL;
	ref.repo = r->name;
	ref.tag = (char *)(tag ? tag : "latest");
	ref.digest = (char *)digest;
	return ref;
}

int mg_repo_get_manifest(const mg_repo *r, const char *tag, const char *digest, mg_buf *out,
			 char got[MG_DIGEST_SIZE], char media_type[256], mg_error *err)
{
	mg_ref ref = ref_of(r, tag, digest);
	char d[MG_DIGEST_SIZE], mt[256] = "";
	int rc;
	if (r->remote) {
		rc = mg_remote_get_manifest(r->remote, &ref, out, d, mt, err);
	} else {
		rc = mg_store_resolve(r->store, &ref, d, err);
		if (!rc)
			rc = mg_store_read_blob(r->store, d, MG_MANIFEST_MAX, out, err);
		snprintf(mt, sizeof(mt), "%s", MG_MEDIA_MANIFEST);
	}
	if (!rc && got)
		memcpy(got, d, MG_DIGEST_SIZE);
	if (!rc && media_type)
		memcpy(media_type, mt, sizeof(mt));
	return rc;
}

int mg_repo_resolve(const mg_repo *r, const char *tag, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	if (!r->remote) {
		mg_ref ref = ref_of(r, tag, NULL);
		return mg_store_resolve(r->store, &ref, digest, err);
	}
	mg_buf b = MG_BUF_INIT;
	int rc = mg_repo_get_manifest(r, tag, NULL, &b, digest, NULL, err);
	mg_buf_free(&b);
	return rc;
}

int mg_repo_head(const mg_repo *r, const char *tag, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	if (!r->remote)
		return mg_repo_resolve(r, tag, digest, err);
	return mg_remote_head_manifest(r->remote, r->name, tag, digest, err);
}

int mg_repo_digest_of(const mg_repo *r, const mg_ref *ref, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	if (!ref->digest)
		return mg_repo_resolve(r, ref->tag, digest, err);
	mg_buf b = MG_BUF_INIT;
	int rc = mg_repo_get_manifest(r, NULL, ref->digest, &b, digest, NULL, err);
	mg_buf_free(&b);
	return rc;
}

int mg_repo_set_tag(const mg_repo *r, const char *tag, const char *digest, mg_error *err)
{
	if (!r->remote) {
		mg_buf name = MG_BUF_INIT;
		int rc = mg_buf_printf(&name, err, "%s:%s", r->name, tag);
		if (!rc)
			rc = mg_store_set_tag(r->store, name.data, digest, err);
		mg_buf_free(&name);
		return rc;
	}
	mg_buf b = MG_BUF_INIT;
	char mt[256];
	int rc = mg_repo_get_manifest(r, NULL, digest, &b, NULL, mt, err);
	if (!rc)
		rc = mg_remote_put_manifest(r->remote, r->name, tag, b.data, b.len,
					    mt[0] ? mt : MG_MEDIA_MANIFEST, err);
	mg_buf_free(&b);
	return rc;
}

int mg_repo_put_blob(const mg_repo *r, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
		     mg_error *err)
{
	if (r->remote)
		return mg_remote_push_blob_bytes(r->remote, r->name, data, len, digest, err);
	return mg_store_put_bytes(r->store, data, len, digest, err);
}

int mg_repo_read_blob(const mg_repo *r, const char *digest, size_t max, mg_buf *out, mg_error *err)
{
	if (r->remote)
		return mg_remote_read_blob(r->remote, r->name, digest, max, out, err);
	return mg_store_read_blob(r->store, digest, max, out, err);
}

void mg_referrers_tag(char out[MG_REFERRERS_TAG_SIZE], const char *subject)
{
	snprintf(out, MG_REFERRERS_TAG_SIZE, "sha256-%s", mg_digest_hex(subject));
}

int mg_repo_get_referrers(const mg_repo *r, const char *subject, mg_buf *out, mg_error *err)
{
	int rc = MG_ENOTFOUND;
	if (r->remote)
		rc = mg_remote_get_referrers(r->remote, r->name, subject, NULL, out, err);
	if (rc != MG_ENOTFOUND)
		return rc;
	char tag[MG_REFERRERS_TAG_SIZE];
	mg_referrers_tag(tag, subject);
	mg_buf_reset(out);
	mg_error_clear(err);
	return mg_repo_get_manifest(r, tag, NULL, out, NULL, NULL, err);
}

int mg_repo_put_manifest(const mg_repo *r, const char *tag, const void *data, size_t len,
			 const char *media_type, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	mg_digest_bytes(data, len, digest);
	if (r->remote)
		return mg_remote_put_manifest(r->remote, r->name, tag, data, len, media_type, err);
	char d[MG_DIGEST_SIZE];
	int rc = mg_store_put_bytes(r->store, data, len, d, err);
	if (!rc && tag)
		rc = mg_repo_set_tag(r, tag, d, err);
	return rc;
}

int mg_repo_push(const mg_repo *r, const mg_ref *ref, const char *const *files, size_t nfiles,
		 const mg_push_opts *opts, mg_push_result *res, mg_error *err)
{
	if (r->remote)
		return mg_push_remote(r->remote, ref, files, nfiles, opts, res, err);
	return mg_push_local(r->store, ref, files, nfiles, opts, res, err);
}

int mg_repo_pull(const mg_repo *r, const mg_ref *ref, const char *dir, const mg_pull_opts *opts,
		 mg_manifest **out, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	if (r->remote)
		return mg_pull_remote(r->remote, ref, dir, opts, out, digest, err);
	return mg_pull_local(r->store, ref, dir, opts, out, digest, err);
}

int mg_repo_remove(const mg_repo *r, const mg_ref *ref, size_t *removed, mg_error *err)
{
	*removed = 0;
	if (!r->remote)
		return mg_store_remove(r->store, ref, removed, err);
	int rc = mg_remote_delete(r->remote, ref, err);
	if (!rc)
		*removed = 1;
	return rc;
}

int mg_repo_list_tags(const mg_repo *r, char ***tags, size_t *n, mg_error *err)
{
	if (r->remote)
		return mg_remote_list_tags(r->remote, r->name, tags, n, err);
	mg_store_entry *e = NULL;
	size_t ne = 0, k = 0, len = strlen(r->name);
	int rc = mg_store_list(r->store, &e, &ne, err);
	char **out = rc ? NULL : calloc(ne ? ne : 1, sizeof(*out));
	if (!rc && !out)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < ne; i++) {
		const char *name = e[i].name;
		if (!name || strncmp(name, r->name, len) || name[len] != ':')
			continue;
		if (!(out[k++] = mg_strdup(name + len + 1, err)))
			rc = MG_ENOMEM;
	}
	mg_store_entries_free(e, ne);
	if (rc) {
		mg_remote_list_free(out, k);
		return rc;
	}
	*tags = out;
	*n = k;
	return 0;
}
