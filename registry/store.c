/* The local store: an OCI image layout (oci-layout, index.json,
 * blobs/sha256/<hex>) that skopeo and umoci read too.
 *
 * Every blob is written to a temporary file in blobs/sha256, fsynced and
 * renamed to its digest, so a killed process leaves at worst a stray
 * ".tmp-*" file that gc removes. index.json is replaced the same way, under
 * an exclusive flock on ".index.lock". Every open store holds a shared flock
 * on ".lock"; gc takes it exclusively, so it never sweeps blobs that a push
 * in progress has written but not yet tagged. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

#define INDEX_MAX (64u << 20)

const char *mg_store_root(const mg_store *s)
{
	return s->root;
}

int mg_store_default_root(mg_buf *out, mg_error *err)
{
	const char *home = getenv("MODELGATE_HOME");
	if (home && *home)
		return mg_buf_puts(out, home, err);
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg)
		return mg_buf_printf(out, err, "%s/modelgate", xdg);
	home = getenv("HOME");
	if (!home || !*home)
		return mg_error_set(err, MG_EINVAL, "neither MODELGATE_HOME nor HOME is set");
	return mg_buf_printf(out, err, "%s/.local/share/modelgate", home);
}

int mg_store_blob_path(mg_buf *out, const mg_store *s, const char *digest, mg_error *err)
{
	mg_buf_reset(out);
	return mg_buf_printf(out, err, "%s/%s", s->blobdir, mg_digest_hex(digest));
}

/* 1 when path holds nothing but what creating a store puts there (by
 * another process now, or one that was killed): a process that finds no
 * oci-layout and then sees it appear must not call the folder foreign. */
static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, ".lock") && strcmp(e->d_name, ".index.lock") &&
		    strcmp(e->d_name, "blobs") && strcmp(e->d_name, "index.json") &&
		    strcmp(e->d_name, "oci-layout") && strncmp(e->d_name, ".tmp-", 5)) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

int mg_store__lock(mg_store *s, const char *name, int op, int *fd_out, mg_error *err)
{
	char *path = mg_path_join(s->root, name, err);
	if (!path)
		return MG_ENOMEM;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int rc = 0;
	if (fd < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot open lock file '%s'", path);
	else
		while (flock(fd, op) < 0) {
			if (errno == EINTR)
				continue;
			rc = mg_error_sys(err, MG_EIO, errno, "cannot lock '%s'", path);
			close(fd);
			fd = -1;
			break;
		}
	free(path);
	*fd_out = fd;
	return rc;
}

static int file_exists(const char *dir, const char *name)
{
	char *p = mg_path_join(dir, name, NULL);
	int yes = p && access(p, F_OK) == 0;
	free(p);
	return yes;
}

static int refuse_foreign(const char *root, mg_error *err)
{
	return mg_error_set(err, MG_EINVAL,
			    "'%s' is not an OCI image layout (no oci-layout file); "
			    "point MODELGATE_HOME at an empty or new folder", root);
}

/* Creates the layout under the index lock, so that processes opening a new
 * store at once agree: index.json first, oci-layout last, and whoever comes
 * second finds a complete layout. */
static int init_layout(mg_store *s, mg_error *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	static const char index[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MG_MEDIA_INDEX "\",\"manifests\":[]}";
	struct stat st;
	if (stat(s->root, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_is_empty(s->root)))
		return refuse_foreign(s->root, err);
	int fd = -1;
	char *path = NULL;
	int rc = mg_mkdirs(s->root, err);
	if (rc || (rc = mg_store__lock(s, ".index.lock", LOCK_EX, &fd, err)))
		goto done;
	if (file_exists(s->root, "oci-layout"))
		goto done; /* another process made it meanwhile */
	if (!dir_is_empty(s->root)) {
		rc = refuse_foreign(s->root, err);
		goto done;
	}
	if ((rc = mg_mkdirs(s->blobdir, err)))
		goto done;
	if (!(path = mg_path_join(s->root, "oci-layout", err))) {
		rc = MG_ENOMEM;
		goto done;
	}
	if ((rc = mg_file_write_atomic(s->index_path, index, sizeof(index) - 1, err)))
		goto done;
	rc = mg_file_write_atomic(path, layout, sizeof(layout) - 1, err);
done:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

void mg_store_free(mg_store *s)
{
	if (!s)
		return;
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->root);
	free(s->blobdir);
	free(s->index_path);
	free(s);
}

static int open_default(mg_store **out, int create, mg_error *err)
{
	mg_buf root = MG_BUF_INIT;
	int rc = mg_store_default_root(&root, err);
	*out = NULL;
	if (!rc && (create || access(root.data, F_OK) == 0)) /* a folder not a store is refused */
		rc = mg_store_open(out, root.data, err);
	mg_buf_free(&root);
	return rc;
}

int mg_store_open_default(mg_store **out, mg_error *err)
{
	return open_default(out, 1, err);
}

int mg_store_find_default(mg_store **out, mg_error *err)
{
	return open_default(out, 0, err);
}

int mg_store_open(mg_store **out, const char *root, mg_error *err)
{
	int rc = 0;
	mg_store *s = calloc(1, sizeof(*s));
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	s->lockfd = -1;
	s->root = mg_path_join(root, ".", err);
	if (s->root) /* keep the root as given, without the "/." */
		s->root[strlen(s->root) - 2] = '\0';
	s->blobdir = mg_path_join(root, "blobs/sha256", err);
	s->index_path = mg_path_join(root, "index.json", err);
	if (!s->root || !s->blobdir || !s->index_path) {
		rc = MG_ENOMEM;
		goto done;
	}
	if (!file_exists(root, "oci-layout") && (rc = init_layout(s, err)))
		goto done;
	if (mg_store__lock(s, ".lock", LOCK_SH, &s->lockfd, NULL) < 0)
		s->lockfd = -1; /* a read-only store can still be read */
done:
	if (rc) {
		mg_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int mg_store_has_blob(const mg_store *s, const char *digest)
{
	mg_buf p = MG_BUF_INIT;
	int have = 0;
	if (!mg_store_blob_path(&p, s, digest, NULL))
		have = access(p.data, F_OK) == 0;
	mg_buf_free(&p);
	return have;
}

int mg_store__has_blob_of_size(const mg_store *s, const char *digest, uint64_t size)
{
	mg_buf p = MG_BUF_INIT;
	struct stat st;
	int have = !mg_store_blob_path(&p, s, digest, NULL) && stat(p.data, &st) == 0 &&
		   (uint64_t)st.st_size == size;
	mg_buf_free(&p);
	return have;
}

void mg_store_set_progress(mg_store *s, mg_progress_fn fn, void *ctx)
{
	s->progress = fn;
	s->progress_ctx = ctx;
}

/* What hashing a file into the store tells its progress function. */
typedef struct hash_watch {
	const mg_store *s;
	const char *what;
	uint64_t total;
} hash_watch;

static void on_hashed(void *ctx, uint64_t done, int finished)
{
	const hash_watch *w = ctx;
	w->s->progress(w->s->progress_ctx, MG_PROGRESS_HASH, w->what, done, w->total, finished);
}

/* mg_copy_hash of a file of total bytes into the store, with progress
 * when the store has a progress function. */
static int copy_hash(const mg_store *s, int fd, const char *src, uint64_t total, int out_fd,
		     char digest[MG_DIGEST_SIZE], uint64_t *size, mg_error *err)
{
	const char *slash = strrchr(src, '/');
	hash_watch w = {s, slash ? slash + 1 : src, total};
	return mg_copy_hash_watch(fd, src, out_fd, s->root, digest, size, s->progress ? on_hashed : NULL,
				  &w, err);
}

/* Streams fd into a new temporary blob file, hashing on the way. */
static int stream_to_tmp(mg_store *s, int fd, const char *src, uint64_t total,
			 char digest[MG_DIGEST_SIZE], uint64_t *size, char **tmp_out, int *tmpfd_out,
			 mg_error *err)
{
	int tfd = -1;
	char *tmp = NULL;
	int rc = mg_tmpfile_open(&tfd, &tmp, s->blobdir, err);
	if (!rc)
		rc = copy_hash(s, fd, src, total, tfd, digest, size, err);
	if (rc && tfd >= 0) {
		close(tfd);
		unlink(tmp);
		free(tmp);
		tfd = -1;
		tmp = NULL;
	}
	*tmp_out = tmp;
	*tmpfd_out = tfd;
	return rc;
}

/* 1 when the stored blob of digest has `size` bytes that hash to digest.
 * A push relies on such a blob instead of writing its own copy, so it is
 * checked then, and only then: a size that differs costs a stat, and the
 * bytes are hashed only when the pushed bytes have just been hashed too
 * (every local push hashes what it stores), so relying on a blob never
 * costs more than the push of it did, and no other blob is read. A blob that
 * is missing, unreadable or damaged is 0: the push replaces it. */
static int blob_intact(const mg_store *s, const char *digest, uint64_t size)
{
	mg_buf path = MG_BUF_INIT;
	int ok = 0, fd = -1;
	struct stat st;
	char got[MG_DIGEST_SIZE];
	if (mg_store_blob_path(&path, s, digest, NULL) ||
	    (fd = open(path.data, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		goto done;
	ok = !mg_copy_hash(fd, path.data, -1, NULL, got, NULL, NULL) && !strcmp(got, digest);
done:
	if (fd >= 0)
		close(fd);
	mg_buf_free(&path);
	return ok;
}

/* Renames a finished temporary file to its digest, or drops it when an
 * intact blob is there already (checked unless the caller has just found
 * it is not); a damaged one is replaced atomically: a reader sees the old
 * file or the new one. */
static int commit_blob(mg_store *s, int tfd, char *tmp, const char *digest, uint64_t size,
		       int check, int *existed, mg_error *err)
{
	mg_buf path = MG_BUF_INIT;
	int rc = mg_store_blob_path(&path, s, digest, err);
	if (!rc && check && blob_intact(s, digest, size)) {
		close(tfd);
		unlink(tmp);
		if (existed)
			*existed = 1;
	} else if (!rc) {
		rc = mg_tmpfile_commit(tfd, tmp, path.data, err);
		if (existed)
			*existed = 0;
	} else {
		close(tfd);
		unlink(tmp);
	}
	mg_buf_free(&path);
	free(tmp);
	return rc;
}

/* 1 when some blob has exactly `size` bytes: then a large file may be one
 * the store holds already, and is worth hashing before copying. */
static int have_blob_of_size(const mg_store *s, off_t size)
{
	DIR *d = opendir(s->blobdir);
	if (!d)
		return 0;
	struct dirent *e;
	struct stat st;
	int found = 0;
	while (!found && (e = readdir(d)))
		found = e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
			st.st_size == size;
	closedir(d);
	return found;
}

#define HASH_FIRST_MIN ((off_t)16 << 20)

int mg_store_put_file(mg_store *s, const char *path, char digest[MG_DIGEST_SIZE], uint64_t *size,
		      int *existed, mg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EINVAL, errno,
				    "cannot read '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return mg_error_set(err, MG_EINVAL, "'%s' is not a regular file", path);
	}
	/* A large file the store may hold already: hash it first, and write
	 * nothing if it is there intact. Otherwise one pass reads, hashes and
	 * writes, and the copy replaces a damaged blob of the same digest. */
	char first[MG_DIGEST_SIZE] = "";
	int rc = 0;
	if (st.st_size >= HASH_FIRST_MIN && have_blob_of_size(s, st.st_size)) {
		if ((rc = copy_hash(s, fd, path, (uint64_t)st.st_size, -1, first, size, err)) == 0 &&
		    blob_intact(s, first, *size)) {
			memcpy(digest, first, MG_DIGEST_SIZE);
			*existed = 1;
			close(fd);
			return 0;
		}
		if (!rc && lseek(fd, 0, SEEK_SET) < 0)
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
	}
	char *tmp = NULL;
	int tfd = -1;
	if (!rc)
		rc = stream_to_tmp(s, fd, path, (uint64_t)st.st_size, digest, size, &tmp, &tfd, err);
	close(fd);
	if (rc)
		return rc;
	if (first[0] && strcmp(first, digest)) {
		close(tfd);
		unlink(tmp);
		free(tmp);
		return mg_error_set(err, MG_EINVAL, "'%s' changed while it was being stored; try again", path);
	}
	return commit_blob(s, tfd, tmp, digest, *size, !first[0], existed, err);
}

int mg_store_put_bytes(mg_store *s, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
		       mg_error *err)
{
	mg_digest_bytes(data, len, digest);
	if (blob_intact(s, digest, len)) /* small blobs: configs and manifests */
		return 0;
	int tfd = -1;
	char *tmp = NULL;
	int rc = mg_tmpfile_open(&tfd, &tmp, s->blobdir, err);
	if (rc)
		return rc;
	if ((rc = mg_write_all(tfd, data, len, s->root, err))) {
		close(tfd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	return commit_blob(s, tfd, tmp, digest, len, 0, NULL, err);
}

static int open_blob(const mg_store *s, const char *digest, int *fd_out, mg_error *err)
{
	mg_buf path = MG_BUF_INIT;
	int rc = mg_store_blob_path(&path, s, digest, err);
	if (rc)
		return rc;
	int fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rc = errno == ENOENT /* a reference to it exists: the store is damaged */
			? mg_error_set(err, MG_ECORRUPT, "blob %s is missing from store '%s' (see 'modelgate fsck --repair')",
				       digest, s->root)
			: mg_error_sys(err, MG_EIO, errno, "cannot read blob %s in store '%s'", digest, s->root);
	mg_buf_free(&path);
	*fd_out = fd;
	return rc;
}

int mg_store__corrupt(mg_error *err, const mg_store *s, const char *want, const char *got)
{
	return mg_error_set(err, MG_ECORRUPT,
			    "blob %s in store '%s' is corrupt: its content hashes to %s "
			    "(see 'modelgate fsck --repair')", want, s->root, got);
}

int mg_store_read_blob(mg_store *s, const char *digest, size_t max, mg_buf *out, mg_error *err)
{
	int fd;
	int rc = open_blob(s, digest, &fd, err);
	if (rc)
		return rc;
	size_t start = out->len;
	rc = mg_fd_read(out, fd, max, MG_ECORRUPT, digest, err);
	close(fd);
	if (rc)
		return rc;
	char got[MG_DIGEST_SIZE];
	mg_digest_bytes(out->data + start, out->len - start, got);
	if (strcmp(got, digest)) {
		out->len = start; /* bad bytes are never handed out */
		out->data[start] = '\0';
		return mg_store__corrupt(err, s, digest, got);
	}
	return 0;
}

int mg_store_export_tmp(mg_store *s, const char *digest, const char *dir, char **tmp_out,
			mg_error *err)
{
	int fd;
	int rc = open_blob(s, digest, &fd, err);
	if (rc)
		return rc;
	char *tmp = NULL;
	int tfd = -1;
	char got[MG_DIGEST_SIZE];
	if ((rc = mg_tmpfile_open(&tfd, &tmp, dir, err)) ||
	    (rc = mg_copy_hash(fd, digest, tfd, tmp, got, NULL, err)))
		goto done;
	if (strcmp(got, digest)) {
		rc = mg_store__corrupt(err, s, digest, got);
		goto done;
	}
	if (fsync(tfd) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", tmp);
done:
	if (tfd >= 0 && close(tfd) < 0 && !rc)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", tmp);
	if (rc && tmp) {
		unlink(tmp);
		free(tmp);
		tmp = NULL;
	}
	close(fd);
	*tmp_out = tmp;
	return rc;
}

int mg_store_export_blob(mg_store *s, const char *digest, const char *dest, mg_error *err)
{
	char *dir = mg_strdup(dest, err);
	if (!dir)
		return MG_ENOMEM;
	char *slash = strrchr(dir, '/');
	const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
	char *tmp = NULL;
	int rc = mg_store_export_tmp(s, digest, d, &tmp, err);
	if (!rc && rename(tmp, dest) < 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot rename '%s' to '%s'", tmp, dest);
		unlink(tmp);
	}
	free(tmp);
	free(dir);
	return rc;
}

/* ---- index.json ------------------------------------------------------ */

int mg_store__load_index(mg_store *s, json_t **out, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, s->index_path, INDEX_MAX, err);
	if (rc) {
		mg_buf_free(&b);
		return rc;
	}
	json_error_t jerr;
	json_t *root = json_loadb(b.data, b.len, 0, &jerr);
	mg_buf_free(&b);
	if (!root)
		return mg_error_set(err, MG_ECORRUPT, "'%s' is not valid JSON: line %d, column %d: %s",
				    s->index_path, jerr.line, jerr.column, jerr.text);
	json_t *m = json_object_get(root, "manifests");
	if (!json_is_array(m)) {
		json_decref(root);
		return mg_error_set(err, MG_ECORRUPT, "'%s' is not an OCI index: no 'manifests' array",
				    s->index_path);
	}
	size_t i;
	json_t *e;
	json_array_foreach(m, i, e) {
		json_t *d = json_object_get(e, "digest");
		if (!json_is_string(d) || !mg_digest_valid(json_string_value(d))) {
			json_decref(root);
			return mg_error_set(err, MG_ECORRUPT, "'%s': manifests[%zu].digest is not a sha256 digest",
					    s->index_path, i);
		}
	}
	*out = root;
	return 0;
}

static int save_index(mg_store *s, json_t *root, mg_error *err)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return mg_error_set(err, MG_ENOMEM, "cannot serialise '%s'", s->index_path);
	int rc = mg_file_write_atomic(s->index_path, text, strlen(text), err);
	free(text);
	return rc;
}

const char *mg_store__entry_name(json_t *e)
{
	return json_string_value(json_object_get(json_object_get(e, "annotations"), MG_ANNOT_REF_NAME));
}

const char *mg_store__entry_digest(json_t *e)
{
	return json_string_value(json_object_get(e, "digest"));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void mg_store_entries_free(mg_store_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].name);
		free(e[i].media_type);
		free(e[i].artifact_type);
	}
	free(e);
}

int mg_store_list(mg_store *s, mg_store_entry **out, size_t *n, mg_error *err)
{
	json_t *root;
	int rc = mg_store__load_index(s, &root, err);
	if (rc)
		return rc;
	json_t *m = json_object_get(root, "manifests");
	size_t count = json_array_size(m);
	mg_store_entry *e = calloc(count ? count : 1, sizeof(*e));
	if (!e) {
		json_decref(root);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		json_t *j = json_array_get(m, i);
		memcpy(e[i].digest, mg_store__entry_digest(j), MG_DIGEST_SIZE);
		e[i].name = dup_or_null(mg_store__entry_name(j));
		e[i].media_type = dup_or_null(json_string_value(json_object_get(j, "mediaType")));
		e[i].artifact_type = dup_or_null(json_string_value(json_object_get(j, "artifactType")));
		json_int_t sz = json_integer_value(json_object_get(j, "size"));
		e[i].size = sz > 0 ? (uint64_t)sz : 0;
	}
	json_decref(root);
	*out = e;
	*n = count;
	return 0;
}

int mg_store_resolve(mg_store *s, const mg_ref *ref, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	if (ref->registry)
		return mg_error_set(err, MG_EINVAL, "'%s/%s' is a registry reference, not a local one",
				    ref->registry, ref->repo);
	if (ref->digest) {
		if (!mg_store_has_blob(s, ref->digest))
			return mg_error_set(err, MG_ENOTFOUND, "no %s@%s in store '%s' (see 'modelgate ls')",
					    ref->repo, ref->digest, s->root);
		memcpy(digest, ref->digest, MG_DIGEST_SIZE);
		return 0;
	}
	json_t *root;
	int rc = mg_store__load_index(s, &root, err);
	if (rc)
		return rc;
	char *name = mg_ref_store_name(ref, err);
	if (!name) {
		json_decref(root);
		return MG_ENOMEM;
	}
	const char *found = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(root, "manifests"), i, e) {
		const char *n = mg_store__entry_name(e);
		if (n && (!strcmp(n, name) || (ref->tag_implicit && !strcmp(n, ref->repo) && !found)))
			found = mg_store__entry_digest(e);
		if (n && !strcmp(n, name))
			break;
	}
	if (found)
		memcpy(digest, found, MG_DIGEST_SIZE);
	else
		rc = mg_error_set(err, MG_ENOTFOUND, "no '%s' in store '%s' (see 'modelgate ls')", name,
				  s->root);
	free(name);
	json_decref(root);
	return rc;
}

int mg_store__edit_index(mg_store *s, mg_store__index_edit_fn fn, void *ctx, mg_error *err)
{
	int fd;
	int rc = mg_store__lock(s, ".index.lock", LOCK_EX, &fd, err);
	if (rc)
		return rc;
	json_t *root = NULL;
	if (!(rc = mg_store__load_index(s, &root, err))) {
		rc = fn(json_object_get(root, "manifests"), ctx, err);
		if (rc == 1)
			rc = save_index(s, root, err);
	}
	json_decref(root);
	close(fd);
	return rc;
}

struct tag_edit {
	const char *name;
	json_t *entry;
};

static int tag_fn(json_t *manifests, void *ctx, mg_error *err)
{
	struct tag_edit *t = ctx;
	for (size_t i = json_array_size(manifests); i-- > 0;) {
		const char *n = mg_store__entry_name(json_array_get(manifests, i));
		if (n && !strcmp(n, t->name))
			json_array_remove(manifests, i);
	}
	if (json_array_append(manifests, t->entry))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	return 1;
}

int mg_store_set_tag(mg_store *s, const char *name, const char *digest, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_store_read_blob(s, digest, MG_MANIFEST_MAX, &b, err);
	if (rc) {
		mg_buf_free(&b);
		return rc;
	}
	json_t *m = json_loadb(b.data, b.len, 0, NULL);
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	const char *at = json_string_value(json_object_get(m, "artifactType"));
	json_t *entry = json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType", mt ? mt : MG_MEDIA_MANIFEST,
				  "digest", digest, "size", (json_int_t)b.len, "annotations",
				  MG_ANNOT_REF_NAME, name);
	if (entry && at)
		json_object_set_new(entry, "artifactType", json_string(at));
	json_decref(m);
	mg_buf_free(&b);
	if (!entry)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	struct tag_edit t = {name, entry};
	rc = mg_store__edit_index(s, tag_fn, &t, err);
	json_decref(entry);
	return rc;
}

struct rm_edit {
	const mg_ref *ref;
	size_t removed;
};

static int name_in_repo(const char *name, const char *repo)
{
	size_t n = strlen(repo);
	return !strncmp(name, repo, n) && (name[n] == ':' || name[n] == '\0');
}

static int rm_fn(json_t *manifests, void *ctx, mg_error *err)
{
	struct rm_edit *r = ctx;
	char *want = r->ref->digest ? NULL : mg_ref_store_name(r->ref, err);
	if (!r->ref->digest && !want)
		return MG_ENOMEM;
	for (size_t i = json_array_size(manifests); i-- > 0;) {
		json_t *e = json_array_get(manifests, i);
		const char *n = mg_store__entry_name(e);
		if (!n)
			continue;
		int hit = r->ref->digest ? name_in_repo(n, r->ref->repo) &&
						   !strcmp(mg_store__entry_digest(e), r->ref->digest)
					 : !strcmp(n, want) ||
						   (r->ref->tag_implicit && !strcmp(n, r->ref->repo));
		if (hit) {
			json_array_remove(manifests, i);
			r->removed++;
		}
	}
	free(want);
	return r->removed ? 1 : 0;
}

int mg_store_remove(mg_store *s, const mg_ref *ref, size_t *removed, mg_error *err)
{
	struct rm_edit r = {ref, 0};
	int rc = mg_store__edit_index(s, rm_fn, &r, err);
	if (rc)
		return rc;
	*removed = r.removed;
	if (!r.removed)
		return mg_error_set(err, MG_ENOTFOUND, "no '%s%s%s' in store '%s' (see 'modelgate ls')",
				    ref->repo, ref->digest ? "@" : ":", ref->digest ? ref->digest : ref->tag,
				    s->root);
	return 0;
}
