/* Lists and deletion on a registry: the tag list of a repository and the
 * registry's catalog of repositories (both paged: followed to their end,
 * within bounds), and deleting a tag or a manifest (with the fallback for
 * registries that cannot delete a tag alone). */
#include "remote_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The most entries a list may have, over all its pages. */
#define LIST_MAX_ENTRIES 1000000
/* What a tag or repository name is made of: safe in a query as it is. */
#define LAST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"

int mg_remote_head_manifest(mg_remote *r, const char *repo, const char *tag,
			 char digest[MG_DIGEST_SIZE], mg_error *err)
{
	mg_remote_call c;
	int rc = mg_remote__call_start(&c, r, "HEAD", repo, "manifests", tag, 0, err);
	snprintf(c.what, sizeof(c.what), "tag '%s'", tag);
	c.q.accept = MG_ACCEPT_MANIFESTS;
	rc = mg_remote__call_send(&c, rc, err);
	if (!rc && c.q.status != 200)
		rc = mg_remote__call_status(&c, err);
	if (!rc && !mg_digest_valid(c.q.docker_digest))
		rc = mg_error_set(err, MG_ENET, "registry '%s' gave no digest for '%s:%s'", r->name, repo, tag);
	if (!rc)
		memcpy(digest, c.q.docker_digest, MG_DIGEST_SIZE);
	mg_remote__call_end(&c);
	return rc;
}

static int delete_manifest(mg_remote *r, const char *repo, const char *id, long *status,
			   mg_error *err)
{
	mg_remote_call c;
	int rc = mg_remote__call_start(&c, r, "DELETE", repo, "manifests", id, 1, err);
	snprintf(c.what, sizeof(c.what), mg_digest_valid(id) ? "manifest %s" : "tag '%s'", id);
	rc = mg_remote__call_send(&c, rc, err);
	*status = c.q.status;
	if (!rc && c.q.status != 202 && c.q.status != 200 && c.q.status != 400 && c.q.status != 405)
		rc = mg_remote__call_status(&c, err);
	mg_remote__call_end(&c);
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
	if ((rc = mg_remote_head_manifest(r, ref->repo, ref->tag, digest, err)) ||
	    (rc = mg_remote_list_tags(r, ref->repo, &tags, &n, err)))
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		if (strcmp(tags[i], ref->tag) && !(rc = mg_remote_head_manifest(r, ref->repo, tags[i], other, err)) &&
		    !strcmp(other, digest))
			rc = mg_error_set(err, MG_EINVAL, "registry '%s' cannot delete the tag '%s' alone, and "
					  "deleting its manifest would also remove the tag '%s' of "
					  "repository '%s'", r->name, ref->tag, tags[i], ref->repo);
	mg_remote_list_free(tags, n);
	if (!rc && !(rc = delete_manifest(r, ref->repo, digest, &status, err)) &&
	    (status == 400 || status == 405))
		rc = mg_error_set(err, MG_EINVAL, "registry '%s' does not allow deleting manifests (%ld); "
				  "it must be configured with deletion enabled", r->name, status);
	return rc;
}

void mg_remote_list_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One list: what is asked for (base/v2/<path>), the JSON key of its
 * entries, and for messages what it is and its repository (NULL for the
 * catalog). */
typedef struct list_spec {
	const char *path;
	const char *key;
	const char *scope;
	const char *repo;
	const char *what;
} list_spec;

int mg_remote__link_url(mg_buf *out, const mg_remote *r, const char *cur, const char *target,
			const char *what, mg_error *err)
{
	size_t bl = strlen(r->base);
	mg_buf_reset(out);
	if (target[0] == '/' && target[1] != '/')
		return mg_buf_printf(out, err, "%s%s", r->base, target);
	if (target[0] == '?')
		return mg_buf_printf(out, err, "%.*s%s", (int)strcspn(cur, "?"), cur, target);
	if (!strncasecmp(target, r->base, bl) && (target[bl] == '/' || target[bl] == '?'))
		return mg_buf_printf(out, err, "%s%s", r->base, target + bl);
	return mg_error_set(err, MG_ENET, "registry '%s' sent a link to the next page of %s that "
			    "is not on the registry ('%.300s'): not followed", r->name, what, target);
}

/* The error for an answer to a list request other than 200. */
static int list_status(const mg_remote *r, const mg_http_req *q, const list_spec *l,
		       mg_error *err)
{
	if (l->repo)
		return mg_remote__status(r, q, l->repo, l->what, err);
	char why[256];
	mg_http_error_text(q, why, sizeof(why));
	if (q->status != 401 && q->status != 403 && q->status != 404)
		return mg_error_set(err, q->status >= 500 ? MG_ENET : MG_EINVAL, "registry '%s' refused "
				    "its catalog (%ld%s%s)", r->name, q->status, why[0] ? ": " : "", why);
	return mg_error_set(err, q->status == 404 ? MG_ENOTFOUND : MG_EINVAL,
			    "registry '%s' does not offer its catalog of repositories (%ld%s%s): "
			    "%sname a repository, as in 'modelgate ls %s/REPO'", r->name, q->status,
			    why[0] ? ": " : "", why,
			    q->status == 401 && !r->has_user ? "log in with 'modelgate login', or " : "",
			    r->name);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The entries of a list so far, as a hash table of indexes into items, so
 * that each is taken once and a page that adds nothing is seen. */
typedef struct entry_set {
	struct {
		uint64_t h;
		size_t i1; /* index + 1; 0: empty */
	} *slot;
	size_t cap; /* a power of two, or 0 */
	size_t used;
} entry_set;

/* Whether s is in the set; else adds it as items[i] when add is set. */
static int set_has(entry_set *e, char *const *items, const char *s, size_t i, int add, mg_error *err)
{
	if (add && (e->used + 1) * 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		entry_set g = {calloc(cap, sizeof(*g.slot)), cap, 0};
		if (!g.slot)
			return mg_error_set(err, MG_ENOMEM, "out of memory");
		for (size_t k = 0; k < e->cap; k++)
			if (e->slot[k].i1) {
				size_t j = e->slot[k].h & (cap - 1);
				while (g.slot[j].i1)
					j = (j + 1) & (cap - 1);
				g.slot[j] = e->slot[k];
				g.used++;
			}
		free(e->slot);
		*e = g;
	}
	uint64_t h = hash_str(s);
	size_t j = e->cap ? h & (e->cap - 1) : 0;
	for (; e->cap && e->slot[j].i1; j = (j + 1) & (e->cap - 1))
		if (e->slot[j].h == h && !strcmp(items[e->slot[j].i1 - 1], s))
			return 1;
	if (add) {
		e->slot[j].h = h;
		e->slot[j].i1 = i + 1;
		e->used++;
	}
	return 0;
}

/* Appends the strings of the array key of a page's JSON that are not in
 * seen to *items (*n of them, room for *cap); *added says how many,
 * *has_last whether one of them is last (when last is not NULL). */
static int add_entries(const mg_remote *r, const mg_buf *body, const list_spec *l,
		       const char *last, entry_set *seen, char ***items, size_t *n, size_t *cap,
		       size_t *added, int *has_last, mg_error *err)
{
	json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	json_t *arr = json_object_get(j, l->key);
	int rc = 0;
	if (!json_is_object(j) || (arr && !json_is_array(arr) && !json_is_null(arr)))
		rc = mg_error_set(err, MG_ENET, "registry '%s' sent %s that is not JSON with \"%s\"",
				  r->name, l->what, l->key);
	size_t count = json_array_size(arr);
	*added = 0;
	*has_last = 0;
	if (!rc && *n + count > LIST_MAX_ENTRIES)
		rc = mg_error_set(err, MG_ENOMEM, "registry '%s' lists more than %d entries in %s",
				  r->name, LIST_MAX_ENTRIES, l->what);
	if (!rc && *n + count > *cap) {
		size_t want = *cap ? *cap : 64;
		while (want < *n + count)
			want *= 2;
		char **grown = realloc(*items, want * sizeof(char *));
		if (!grown)
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		else
			*items = grown, *cap = want;
	}
	for (size_t i = 0; !rc && i < count; i++) {
		const char *t = json_string_value(json_array_get(arr, i));
		if (!t)
			continue;
		if (last && !strcmp(t, last))
			*has_last = 1;
		if (set_has(seen, *items, t, *n, 0, err))
			continue; /* taken from an earlier page */
		if (!((*items)[*n] = strdup(t)))
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		else if ((rc = set_has(seen, *items, t, *n, 1, err)) < 0)
			free((*items)[*n]);
		else
			rc = 0, ++*n, ++*added;
	}
	json_decref(j);
	return rc;
}

/* Every entry of a paged list, sorted. Each answer's Link rel="next" names
 * the next page. Without one, a full page (as many entries as asked for
 * with ?n=) is followed by the page after its last entry (?last=), which
 * ends the list when it is empty, or when the registry ignored last and
 * sent that entry again (the page is then dropped). A registry that
 * loops (a Link to a page asked for before, or a page that adds nothing
 * and links to another) is an error at once, not 10000 requests. */
static int list_pages(mg_remote *r, const list_spec *l, char ***items, size_t *n, mg_error *err)
{
	unsigned page = r->o.page_size ? r->o.page_size : 100;
	mg_buf url = MG_BUF_INIT, next = MG_BUF_INIT, body = MG_BUF_INIT;
	char *last = NULL; /* the ?last= of the page asked for, if any */
	size_t cap = 0;
	entry_set seen = {0};
	uint64_t *urls = NULL; /* hashes of the pages asked for */
	*items = NULL;
	*n = 0;
	int rc = mg_buf_printf(&url, err, "%s/v2/%s?n=%u", r->base, l->path, page);
	for (int pages = 0; !rc && url.len; pages++) {
		if (pages == MG_LIST_MAX_PAGES) {
			rc = mg_error_set(err, MG_ENET, "registry '%s' sent more than %d pages of %s: "
					  "stopped", r->name, MG_LIST_MAX_PAGES, l->what);
			break;
		}
		uint64_t uh = hash_str(url.data);
		for (int k = 0; k < pages; k++)
			if (urls[k] == uh) {
				rc = mg_error_set(err, MG_ENET, "registry '%s' sent a link back to a page of %s "
						  "it sent before ('%.300s'): stopped", r->name, l->what, url.data);
				break;
			}
		uint64_t *grown = rc ? NULL : realloc(urls, ((size_t)pages + 1) * sizeof(*urls));
		if (!rc && !grown)
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		if (rc)
			break;
		urls = grown;
		urls[pages] = uh;
		mg_http_req q;
		mg_http_req_init(&q, "GET", url.data);
		q.scope = l->scope;
		q.out = &body;
		q.out_max = 16u << 20;
		mg_buf_reset(&body);
		rc = mg_remote__do(r, &q, err);
		if (!rc && q.status != 200)
			rc = list_status(r, &q, l, err);
		size_t before = *n, added = 0;
		int has_last = 0;
		if (!rc)
			rc = add_entries(r, &body, l, last, &seen, items, n, &cap, &added, &has_last, err);
		char target[sizeof(q.link)];
		int link = rc ? 0 : mg_http_link_next(q.link, target, sizeof(target));
		const char *end = *n > before ? (*items)[*n - 1] : NULL;
		int by_last = 0;
		mg_buf_reset(&next);
		if (link < 0) {
			rc = mg_error_set(err, MG_ENET, "registry '%s' sent a Link header that is not "
					  "understood with %s ('%.300s')", r->name, l->what, q.link);
		} else if (link && !added) {
			rc = mg_error_set(err, MG_ENET, "registry '%s' sent a page of %s with nothing new on it, "
					  "and a link to another ('%.300s'): stopped", r->name, l->what, target);
		} else if (link) {
			rc = mg_remote__link_url(&next, r, url.data, target, l->what, err);
		} else if (!rc && has_last) { /* it ignored last: this page is one seen before */
			for (size_t i = before; i < *n; i++)
				free((*items)[i]);
			*n = before;
			free(seen.slot); /* (nothing follows) */
			seen = (entry_set){0};
		} else if (!rc && added >= page && !end[strspn(end, LAST_CHARS)]) {
			by_last = 1;
			rc = mg_buf_printf(&next, err, "%s/v2/%s?n=%u&last=%s", r->base, l->path, page, end);
		}
		free(last);
		last = NULL;
		if (!rc && by_last && !(last = strdup(end)))
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		mg_buf tmp = url; /* the next page, if any, is the one to ask for */
		url = next;
		next = tmp;
		mg_http_req_free(&q);
	}
	if (!rc && *n) { /* (qsort must not be given an empty, NULL list) */
		qsort(*items, *n, sizeof(char *), cmp_str);
	} else if (rc) {
		mg_remote_list_free(*items, *n);
		*items = NULL;
		*n = 0;
	}
	free(last);
	free(urls);
	free(seen.slot);
	mg_buf_free(&url);
	mg_buf_free(&next);
	mg_buf_free(&body);
	return rc;
}

int mg_remote_list_tags(mg_remote *r, const char *repo, char ***tags, size_t *n, mg_error *err)
{
	char scope[600], path[600];
	mg_remote__scope(scope, sizeof(scope), repo, 0);
	snprintf(path, sizeof(path), "%s/tags/list", repo);
	list_spec l = {path, "tags", scope, repo, "the tag list"};
	return list_pages(r, &l, tags, n, err);
}

int mg_remote_list_repositories(mg_remote *r, char ***repos, size_t *n, mg_error *err)
{
	list_spec l = {"_catalog", "repositories", "registry:catalog:*", NULL, "the catalog"};
	return list_pages(r, &l, repos, n, err);
}
