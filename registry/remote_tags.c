/* Tags and deletion on a registry: the tag list, and deleting a tag or a
 * manifest (with the fallback for registries that cannot delete a tag
 * alone). */
#include "remote_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* HEAD of a manifest: its digest, or MG_ENOTFOUND. */
static int head_manifest(mg_remote *r, const char *repo, const char *tag,
			 char digest[MG_DIGEST_SIZE], mg_error *err)
{
	char scope[600], what[300];
	mg_remote__scope(scope, sizeof(scope), repo, 0);
	snprintf(what, sizeof(what), "tag '%s'", tag);
	mg_buf url = MG_BUF_INIT;
	mg_http_req q;
	int rc = mg_remote__url(&url, r, repo, "manifests", tag, err);
	mg_http_req_init(&q, "HEAD", url.data);
	q.scope = scope;
	q.accept = MG_ACCEPT_MANIFESTS;
	if (!rc)
		rc = mg_http_do(r->http, &q, err);
	if (!rc && q.status != 200)
		rc = mg_remote__status(r, &q, repo, what, err);
	if (!rc && !mg_digest_valid(q.docker_digest))
		rc = mg_error_set(err, MG_ENET, "registry '%s' gave no digest for '%s:%s'", r->name, repo, tag);
	if (!rc)
		memcpy(digest, q.docker_digest, MG_DIGEST_SIZE);
	mg_http_req_free(&q);
	mg_buf_free(&url);
	return rc;
}

static int delete_manifest(mg_remote *r, const char *repo, const char *id, long *status,
			   mg_error *err)
{
	char scope[600], what[300];
	mg_remote__scope(scope, sizeof(scope), repo, 1);
	snprintf(what, sizeof(what), mg_digest_valid(id) ? "manifest %s" : "tag '%s'", id);
	mg_buf url = MG_BUF_INIT;
	mg_http_req q;
	int rc = mg_remote__url(&url, r, repo, "manifests", id, err);
	mg_http_req_init(&q, "DELETE", url.data);
	q.scope = scope;
	if (!rc)
		rc = mg_http_do(r->http, &q, err);
	*status = q.status;
	if (!rc && q.status != 202 && q.status != 200 && q.status != 400 && q.status != 405)
		rc = mg_remote__status(r, &q, repo, what, err);
	mg_http_req_free(&q);
	mg_buf_free(&url);
	return rc;
}

int mg_remote_delete(mg_remote *r, const mg_ref *ref, mg_error *err)
{
	long status = 0;
	if (ref->digest) {
		int rc = delete_manifest(r, ref->repo, ref->digest, &status, err);
		if (!rc && (status == 400 || status == 405))
			rc = mg_error_set(err, MG_EINVAL, "registry '%s' does not allow deleting manifests "
					  "(%ld); it must be configured with deletion enabled", r->name, status);
		return rc;
	}
	int rc = delete_manifest(r, ref->repo, ref->tag, &status, err);
	if (rc || (status != 400 && status != 405))
		return rc;
	/* Deleting a tag alone is optional in the API (distribution refuses
	 * it): delete the manifest, when no other tag points at it. */
	char digest[MG_DIGEST_SIZE], other[MG_DIGEST_SIZE];
	char **tags = NULL;
	size_t n = 0;
	if ((rc = head_manifest(r, ref->repo, ref->tag, digest, err)) ||
	    (rc = mg_remote_list_tags(r, ref->repo, &tags, &n, err)))
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		if (strcmp(tags[i], ref->tag) && !(rc = head_manifest(r, ref->repo, tags[i], other, err)) &&
		    !strcmp(other, digest))
			rc = mg_error_set(err, MG_EINVAL, "registry '%s' cannot delete the tag '%s' alone, and "
					  "deleting its manifest would also remove the tag '%s' of "
					  "repository '%s'", r->name, ref->tag, tags[i], ref->repo);
	for (size_t i = 0; i < n; i++)
		free(tags[i]);
	free(tags);
	if (!rc && !(rc = delete_manifest(r, ref->repo, digest, &status, err)) &&
	    (status == 400 || status == 405))
		rc = mg_error_set(err, MG_EINVAL, "registry '%s' does not allow deleting manifests (%ld); "
				  "it must be configured with deletion enabled", r->name, status);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mg_remote_list_tags(mg_remote *r, const char *repo, char ***tags, size_t *n, mg_error *err)
{
	char scope[600];
	mg_remote__scope(scope, sizeof(scope), repo, 0);
	mg_buf url = MG_BUF_INIT, body = MG_BUF_INIT;
	mg_http_req q;
	int rc = mg_remote__url(&url, r, repo, "tags", "list", err);
	mg_http_req_init(&q, "GET", url.data);
	q.scope = scope;
	q.out = &body;
	q.out_max = 16u << 20;
	*tags = NULL;
	*n = 0;
	if (!rc)
		rc = mg_http_do(r->http, &q, err);
	if (!rc && q.status != 200)
		rc = mg_remote__status(r, &q, repo, "the tag list", err);
	json_t *j = rc ? NULL : json_loadb(body.data, body.len, 0, NULL);
	if (!rc && !json_is_object(j))
		rc = mg_error_set(err, MG_ENET, "registry '%s' sent a tag list that is not JSON", r->name);
	json_t *arr = json_object_get(j, "tags");
	size_t count = json_array_size(arr);
	if (!rc && !(*tags = calloc(count ? count : 1, sizeof(char *))))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < count; i++) {
		const char *t = json_string_value(json_array_get(arr, i));
		if (t && !((*tags)[(*n)++] = strdup(t)))
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	if (!rc)
		qsort(*tags, *n, sizeof(char *), cmp_str);
	json_decref(j);
	mg_http_req_free(&q);
	mg_buf_free(&url);
	mg_buf_free(&body);
	return rc;
}

