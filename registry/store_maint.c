/* Maintenance of the local store: gc (sweep the blobs no tag reaches, and
 * stray temporary files), fsck (re-hash every blob, check every reference)
 * and repair (fsck, then remove the corrupt blobs and the tags that can no
 * longer be read, so that a push or pull restores them). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

typedef struct digest_set {
	char (*d)[MG_DIGEST_SIZE];
	size_t n, cap;
} digest_set;

static int set_add(digest_set *set, const char *digest, mg_error *err)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->d[i], digest))
			return 0;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		void *p = realloc(set->d, cap * sizeof(*set->d));
		if (!p)
			return mg_error_set(err, MG_ENOMEM, "out of memory");
		set->d = p;
		set->cap = cap;
	}
	memcpy(set->d[set->n++], digest, MG_DIGEST_SIZE);
	return 0;
}

static int set_has(const digest_set *set, const char *digest)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->d[i], digest))
			return 1;
	return 0;
}

static int add_desc(digest_set *set, json_t *desc, mg_error *err)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	return d && mg_digest_valid(d) ? set_add(set, d, err) : 0;
}

/* Marks a manifest or index and everything it references; a manifest that
 * cannot be read stops the walk, since what it references is unknown. */
static int mark(mg_store *s, digest_set *set, const char *digest, int depth, mg_error *err)
{
	if (depth > 8)
		return mg_error_set(err, MG_ECORRUPT, "index nesting too deep at %s", digest);
	int rc = set_add(set, digest, err);
	mg_buf b = MG_BUF_INIT;
	if (rc || (rc = mg_store_read_blob(s, digest, MG_MANIFEST_MAX, &b, err)))
		goto done;
	json_t *m = json_loadb(b.data, b.len, 0, NULL);
	if (!m) {
		rc = mg_error_set(err, MG_ECORRUPT, "manifest %s in store '%s' is not JSON", digest, s->root);
		goto done;
	}
	rc = add_desc(set, json_object_get(m, "config"), err);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(m, "layers"), i, e) {
		if (!rc)
			rc = add_desc(set, e, err);
	}
	json_array_foreach(json_object_get(m, "manifests"), i, e) {
		const char *d = json_string_value(json_object_get(e, "digest"));
		if (!rc && d && mg_digest_valid(d))
			rc = mark(s, set, d, depth + 1, err);
	}
	json_decref(m);
done:
	mg_buf_free(&b);
	return rc;
}

static int is_hex64(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == 64;
}

int mg_store_gc(mg_store *s, mg_gc_stats *stats, mg_error *err)
{
	memset(stats, 0, sizeof(*stats));
	if (s->lockfd < 0)
		return mg_error_set(err, MG_EIO, "cannot lock store '%s' for gc (read-only?)", s->root);
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return mg_error_sys(err, MG_EIO, errno, "cannot lock store '%s'", s->root);
	digest_set live = {0};
	json_t *root = NULL;
	DIR *d = NULL;
	mg_buf path = MG_BUF_INIT;
	int rc = mg_store__load_index(s, &root, err);
	if (rc)
		goto done;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(root, "manifests"), i, e) {
		if ((rc = mark(s, &live, mg_store__entry_digest(e), 0, err)))
			goto done;
	}
	if (!(d = opendir(s->blobdir))) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", s->blobdir);
		goto done;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		int temp = !strncmp(de->d_name, ".tmp-", 5);
		if (!temp && !is_hex64(de->d_name))
			continue;
		char digest[MG_DIGEST_SIZE];
		snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name);
		if (!temp && set_has(&live, digest)) {
			stats->blobs_kept++;
			continue;
		}
		mg_buf_reset(&path);
		if ((rc = mg_buf_printf(&path, err, "%s/%s", s->blobdir, de->d_name)))
			goto done;
		struct stat st;
		uint64_t size = stat(path.data, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (unlink(path.data) < 0) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot remove '%s'", path.data);
			goto done;
		}
		if (temp) {
			stats->temp_removed++;
		} else {
			stats->blobs_removed++;
			stats->bytes_removed += size;
		}
	}
	/* the folders of links to artifacts' blobs (source.c): a cache */
	mg_buf_reset(&path);
	if (!(rc = mg_buf_printf(&path, err, "%s/links", s->root)))
		mg_remove_tree(path.data);
done:
	if (d)
		closedir(d);
	mg_buf_free(&path);
	json_decref(root);
	free(live.d);
	flock(s->lockfd, LOCK_SH);
	return rc;
}

/* Hashes the file at path; 0 or an I/O error. */
static int hash_file(const char *path, char out[MG_DIGEST_SIZE], mg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
	int rc = mg_copy_hash(fd, path, -1, NULL, out, NULL, err);
	close(fd);
	return rc;
}

static void report(mg_fsck_cb cb, void *ctx, mg_fsck_kind kind, const char *digest,
		   const char *actual, const char *where)
{
	mg_fsck_problem p = {kind, digest, actual, where};
	if (cb)
		cb(&p, ctx);
}

/* Reports each blob that e's manifest references but the store lacks. */
static int check_refs(mg_store *s, json_t *e, mg_fsck_cb cb, void *ctx, size_t *nbad,
		      mg_error *err)
{
	const char *name = mg_store__entry_name(e);
	const char *digest = mg_store__entry_digest(e);
	if (!name)
		name = digest;
	if (!mg_store_has_blob(s, digest)) {
		report(cb, ctx, MG_FSCK_MISSING, digest, NULL, name);
		(*nbad)++;
		return 0;
	}
	mg_buf b = MG_BUF_INIT;
	mg_error ignored;
	if (mg_store_read_blob(s, digest, MG_MANIFEST_MAX, &b, &ignored)) {
		mg_buf_free(&b); /* a corrupt manifest is reported by the blob pass */
		return 0;
	}
	json_t *m = json_loadb(b.data, b.len, 0, NULL);
	mg_buf_free(&b);
	json_t *descs = json_array();
	if (!descs) {
		json_decref(m);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	if (json_object_get(m, "config"))
		json_array_append(descs, json_object_get(m, "config"));
	json_array_extend(descs, json_object_get(m, "layers"));
	json_array_extend(descs, json_object_get(m, "manifests"));
	size_t i;
	json_t *d;
	json_array_foreach(descs, i, d) {
		const char *dg = json_string_value(json_object_get(d, "digest"));
		if (dg && mg_digest_valid(dg) && !mg_store_has_blob(s, dg)) {
			report(cb, ctx, MG_FSCK_MISSING, dg, NULL, name);
			(*nbad)++;
		}
	}
	json_decref(descs);
	json_decref(m);
	return 0;
}

int mg_store_fsck(mg_store *s, mg_fsck_cb cb, void *ctx, size_t *nchecked, size_t *nbad,
		  mg_error *err)
{
	*nchecked = *nbad = 0;
	json_t *root = NULL;
	mg_buf path = MG_BUF_INIT;
	DIR *d = opendir(s->blobdir);
	int rc = 0;
	if (!d) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", s->blobdir);
		goto done;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, ".tmp-", 5)) {
			report(cb, ctx, MG_FSCK_TEMP, NULL, NULL, de->d_name);
			continue;
		}
		if (!is_hex64(de->d_name)) {
			report(cb, ctx, MG_FSCK_BADNAME, NULL, NULL, de->d_name);
			(*nbad)++;
			continue;
		}
		char want[MG_DIGEST_SIZE], got[MG_DIGEST_SIZE];
		snprintf(want, sizeof(want), "sha256:%.64s", de->d_name);
		mg_buf_reset(&path);
		if ((rc = mg_buf_printf(&path, err, "%s/%s", s->blobdir, de->d_name)) ||
		    (rc = hash_file(path.data, got, err)))
			goto done;
		(*nchecked)++;
		if (strcmp(want, got)) {
			report(cb, ctx, MG_FSCK_CORRUPT, want, got, de->d_name);
			(*nbad)++;
		}
	}
	if ((rc = mg_store__load_index(s, &root, err)))
		goto done;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(root, "manifests"), i, e) {
		if ((rc = check_refs(s, e, cb, ctx, nbad, err)))
			goto done;
	}
done:
	if (d)
		closedir(d);
	json_decref(root);
	mg_buf_free(&path);
	return rc;
}

/* ---- repair ------------------------------------------------------------ */

typedef struct repair {
	mg_store *s;
	mg_fsck_cb cb;
	mg_repair_cb removed;
	void *ctx;
	digest_set corrupt;
	int nomem;
	size_t tags_removed;
} repair;

static void collect(const mg_fsck_problem *p, void *ctx)
{
	repair *r = ctx;
	if (p->kind == MG_FSCK_CORRUPT && set_add(&r->corrupt, p->digest, NULL))
		r->nomem = 1;
	if (r->cb)
		r->cb(p, r->ctx);
}

static int bad_blob(const repair *r, const char *digest)
{
	return set_has(&r->corrupt, digest) || !mg_store_has_blob(r->s, digest);
}

/* 1 when the manifest at digest, or a blob it names, is missing or corrupt:
 * what the fsck pass found, nothing more (a manifest that cannot be read
 * for another reason, such as permissions, is kept). */
static int unreadable(const repair *r, const char *digest)
{
	if (bad_blob(r, digest))
		return 1;
	mg_buf b = MG_BUF_INIT;
	int rc = mg_store_read_blob(r->s, digest, MG_MANIFEST_MAX, &b, NULL);
	json_t *m = rc ? NULL : json_loadb(b.data, b.len, 0, NULL);
	mg_buf_free(&b);
	int bad = 0;
	const char *d = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	if (d && mg_digest_valid(d))
		bad = bad_blob(r, d);
	static const char *const lists[] = {"layers", "manifests"};
	for (size_t k = 0; k < 2 && !bad; k++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(m, lists[k]), i, e) {
			d = json_string_value(json_object_get(e, "digest"));
			if (d && mg_digest_valid(d) && bad_blob(r, d)) {
				bad = 1;
				break;
			}
		}
	}
	json_decref(m);
	return bad;
}

static int untag_fn(json_t *manifests, void *ctx, mg_error *err)
{
	(void)err;
	repair *r = ctx;
	for (size_t i = 0; i < json_array_size(manifests);) {
		json_t *e = json_array_get(manifests, i);
		const char *d = mg_store__entry_digest(e);
		if (!unreadable(r, d)) {
			i++;
			continue;
		}
		if (r->removed)
			r->removed("tag", d, mg_store__entry_name(e), r->ctx);
		json_array_remove(manifests, i);
		r->tags_removed++;
	}
	return r->tags_removed ? 1 : 0;
}

int mg_store_repair(mg_store *s, mg_fsck_cb cb, mg_repair_cb removed, void *ctx,
		    size_t *nchecked, size_t *nbad, mg_repair_stats *stats, mg_error *err)
{
	memset(stats, 0, sizeof(*stats));
	*nchecked = *nbad = 0;
	if (s->lockfd < 0)
		return mg_error_set(err, MG_EIO, "cannot lock store '%s' for repair (read-only?)", s->root);
	while (flock(s->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return mg_error_sys(err, MG_EIO, errno, "cannot lock store '%s'", s->root);
	repair r = {s, cb, removed, ctx, {0}, 0, 0};
	mg_buf path = MG_BUF_INIT;
	int rc = mg_store_fsck(s, collect, &r, nchecked, nbad, err);
	if (!rc && r.nomem)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	/* Tags first: a repair cut short leaves corrupt blobs no tag names,
	 * which the next fsck still reports, never a tag without its blob. */
	if (!rc)
		rc = mg_store__edit_index(s, untag_fn, &r, err);
	stats->tags_removed = r.tags_removed;
	for (size_t i = 0; !rc && i < r.corrupt.n; i++) {
		if ((rc = mg_store_blob_path(&path, s, r.corrupt.d[i], err)))
			break;
		if (unlink(path.data) < 0 && errno != ENOENT) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot remove '%s'", path.data);
			break;
		}
		stats->blobs_removed++;
		if (removed)
			removed("blob", r.corrupt.d[i], NULL, ctx);
	}
	mg_buf_free(&path);
	free(r.corrupt.d);
	flock(s->lockfd, LOCK_SH);
	return rc;
}
