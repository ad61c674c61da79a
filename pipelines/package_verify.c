/* modelgate verify and unpack: reads a bundle with libarchive (tar with
 * gzip, zstd or no compression, and zip; no external filter programs) and
 * checks it against its manifest.json: only regular files (not sparse) and
 * folders with safe relative paths, no duplicates, no name that is a file
 * and a folder, every listed file present with its sha256 and size, nothing
 * unlisted (folders included), and the Ed25519 signature when a key is
 * given. Every problem becomes one line naming the entry or the signature;
 * only an unreadable, truncated, foreign or oversized file is an error.
 * Names are looked up in a hash table, so the cost is linear in the
 * entries, and their number is capped (MG_BUNDLE_MAX_ENTRIES).
 *
 * Unpack verifies first, then reads the archive a second time and extracts
 * the files (folders come from their names) with libarchive's secure flags
 * into a temporary folder next to the destination, re-hashing every file
 * against the verified digests and stopping at the verified size, and
 * renames the folder into place only when everything matched. */
#include "package_int.h"

#include "pipelines/sign.h"

#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK ((size_t)1 << 20)

void mg_bundle_check_free(mg_bundle_check *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nproblems; i++)
		free(c->problems[i]);
	free(c->problems);
	for (size_t i = 0; i < c->nentries; i++)
		free(c->entries[i].path);
	free(c->entries);
	free(c->reference);
	free(c->gate_status);
	free(c);
}

static int problem(mg_bundle_check *c, mg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int problem(mg_bundle_check *c, mg_error *err, const char *fmt, ...)
{
	mg_buf b = MG_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	int rc = mg_buf_puts(&b, line, err);
	char **p = rc ? NULL : realloc(c->problems, (c->nproblems + 1) * sizeof(*p));
	if (!p) {
		mg_buf_free(&b);
		return rc ? rc : mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	c->problems = p;
	c->problems[c->nproblems++] = mg_buf_detach(&b);
	c->ok = 0;
	return 0;
}

static struct archive *open_reader(const char *bundle, mg_error *err)
{
	struct archive *a = archive_read_new();
	if (!a) {
		mg_error_set(err, MG_ENOMEM, "out of memory");
		return NULL;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, bundle, BLOCK) != ARCHIVE_OK) {
		int e = archive_errno(a);
		const char *msg = archive_error_string(a);
		if (e == ENOENT || e == EACCES || e == EISDIR)
			mg_error_sys(err, e == ENOENT ? MG_ENOTFOUND : MG_EINVAL, e, "cannot read '%s'", bundle);
		else
			mg_error_set(err, MG_EINVAL, "'%s' is not a valid bundle (.tar.gz, .tar.zst or .zip): %s",
				     bundle, msg ? msg : "unknown format");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int read_fail(struct archive *a, const char *bundle, const char *entry, mg_error *err)
{
	const char *msg = archive_error_string(a);
	if (entry)
		return mg_error_set(err, MG_EINVAL, "'%s' is truncated or corrupt at '%s': %s", bundle,
				    entry, msg ? msg : "read error");
	return mg_error_set(err, MG_EINVAL, "'%s' is not a valid bundle (.tar.gz, .tar.zst or .zip): %s",
			    bundle, msg ? msg : "read error");
}

/* 1 when a component of path is longer than a file system takes. */
static int has_long_name(const char *path)
{
	for (const char *s = path, *slash;; s = slash + 1) {
		slash = strchr(s, '/');
		if ((size_t)((slash ? slash : s + strlen(s)) - s) > PKG_NAME_MAX)
			return 1;
		if (!slash)
			return 0;
	}
}

/* Why an entry may not be in a bundle, or NULL when it may. */
static const char *entry_refusal(struct archive_entry *e, int *is_dir)
{
	const char *path = archive_entry_pathname(e);
	mode_t type = archive_entry_filetype(e);
	*is_dir = type == AE_IFDIR;
	if (!path || !*path)
		return "has no name";
	if (archive_entry_hardlink(e))
		return "is a hard link";
	if (type == AE_IFLNK || archive_entry_symlink(e))
		return "is a symbolic link";
	if (type != AE_IFREG && type != AE_IFDIR)
		return "is not a regular file or folder (device, fifo or socket)";
	/* holes read as zeros: a few bytes of archive could stand for 1 TiB */
	if (archive_entry_sparse_count(e) > 0)
		return "is a sparse file";
	if (path[0] == '/')
		return "has an absolute path";
	if (has_long_name(path))
		return "has a name longer than 255 bytes in one component";
	if (!pkg_path_is_safe(path, *is_dir))
		return "has an unsafe path ('..', '.', empty or control characters)";
	return NULL;
}

/* ---- names -------------------------------------------------------------- */

/* A fixed hash table of names (without a trailing '/'), borrowed from their
 * owners, with linear probing; never more than MG_BUNDLE_MAX_ENTRIES names,
 * so never more than half full. */
#define INDEX_SLOTS ((size_t)MG_BUNDLE_MAX_ENTRIES * 2)

typedef struct name_slot {
	const char *name; /* NULL: free */
	size_t len;
	size_t idx;  /* into the owner's array */
	int is_dir;
	int used;    /* a folder that holds a listed file */
} name_slot;

typedef struct name_index {
	name_slot *slots;
	size_t n;
} name_index;

static size_t name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (size_t)(h % INDEX_SLOTS);
}

static int index_init(name_index *t, mg_error *err)
{
	t->n = 0;
	if (!(t->slots = calloc(INDEX_SLOTS, sizeof(*t->slots))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	return 0;
}

/* The slot of the name s[0..len), or the free slot where it would go. */
static name_slot *index_slot(const name_index *t, const char *s, size_t len)
{
	for (size_t i = name_hash(s, len);; i = (i + 1) % INDEX_SLOTS) {
		name_slot *x = &t->slots[i];
		if (!x->name || (x->len == len && !memcmp(x->name, s, len)))
			return x;
	}
}

static name_slot *index_find(const name_index *t, const char *s, size_t len)
{
	name_slot *x = index_slot(t, s, len);
	return x->name ? x : NULL;
}

static name_slot *index_add(name_index *t, const char *s, size_t len, size_t idx, int is_dir)
{
	name_slot *x = index_slot(t, s, len);
	assert(!x->name && t->n < MG_BUNDLE_MAX_ENTRIES);
	*x = (name_slot){s, len, idx, is_dir, 0};
	t->n++;
	return x;
}

static size_t name_len(const char *path)
{
	size_t len = strlen(path);
	return len && path[len - 1] == '/' ? len - 1 : len;
}

static mg_bundle_entry *find_entry(mg_bundle_check *c, const name_index *t, const char *path)
{
	const name_slot *x = index_find(t, path, strlen(path));
	return x && !x->is_dir ? &c->entries[x->idx] : NULL;
}

static int add_entry(mg_bundle_check *c, const char *path, mg_error *err)
{
	mg_bundle_entry *p = realloc(c->entries, (c->nentries + 1) * sizeof(*p));
	if (!p)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	c->entries = p;
	memset(&p[c->nentries], 0, sizeof(*p));
	if (!(p[c->nentries].path = mg_strdup(path, err)))
		return MG_ENOMEM;
	c->nentries++;
	return 0;
}

/* How many bytes of content verify reads from a bundle of this size. */
static uint64_t read_budget(const char *bundle)
{
	struct stat st;
	uint64_t size = stat(bundle, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
	if (size > (UINT64_MAX - MG_BUNDLE_SLACK) / MG_BUNDLE_MAX_RATIO)
		return UINT64_MAX;
	return size * MG_BUNDLE_MAX_RATIO + MG_BUNDLE_SLACK;
}

/* Reads an entry's data: hashed, and kept in keep (up to max bytes) when
 * keep is not NULL; *left is what the bundle may still expand to. */
static int read_data(struct archive *a, mg_bundle_entry *e, mg_buf *keep, size_t max,
		     uint64_t *left, mg_hash *h, char *buf, const char *bundle, mg_error *err)
{
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, BLOCK);
		if (n < 0)
			return read_fail(a, bundle, e->path, err);
		if (n == 0)
			break;
		if ((uint64_t)n > *left)
			return mg_error_set(err, MG_EINVAL,
					    "'%s' expands to more than %d times its size plus %llu MiB (at '%s'): "
					    "refused as a compression bomb",
					    bundle, MG_BUNDLE_MAX_RATIO,
					    (unsigned long long)(MG_BUNDLE_SLACK >> 20), e->path);
		*left -= (uint64_t)n;
		mg_hash_update(h, buf, (size_t)n);
		e->size += (uint64_t)n;
		if (keep) {
			if (e->size > max)
				return mg_error_set(err, MG_EINVAL, "'%s': '%s' is larger than %zu bytes (the limit)",
						    bundle, e->path, max);
			int rc = mg_buf_append(keep, buf, (size_t)n, err);
			if (rc)
				return rc;
		}
	}
	mg_hash_final(h, e->digest);
	return 0;
}

/* Every listed file present and right, listed once; every entry listed;
 * no file inside another; no folder without a listed file. */
static int compare(mg_bundle_check *c, name_index *entries, char *const *dirs,
		   size_t ndirs, const pkg_manifest *m, mg_error *err)
{
	name_index listed = {0};
	int rc = index_init(&listed, err);
	for (size_t i = 0; !rc && i < m->nfiles; i++) {
		const mg_bundle_entry *want = &m->files[i];
		const mg_bundle_entry *got = find_entry(c, entries, want->path);
		if (!got)
			rc = problem(c, err, "'%s' is listed in manifest.json but missing", want->path);
		else if (got->size != want->size)
			rc = problem(c, err, "'%s' has %llu bytes, manifest.json says %llu", want->path,
				(unsigned long long)got->size, (unsigned long long)want->size);
		else if (strcmp(got->digest, want->digest) != 0)
			rc = problem(c, err, "'%s' has digest %s, manifest.json says %s", want->path, got->digest,
				want->digest);
		size_t len = strlen(want->path);
		if (rc)
			break;
		if (index_find(&listed, want->path, len))
			rc = problem(c, err, "'%s' is listed twice in manifest.json", want->path);
		else
			index_add(&listed, want->path, len, i, 0);
		if (!got)
			continue;
		/* its folders hold a listed file; none of them may be a file */
		for (const char *slash = strchr(want->path, '/'); !rc && slash;
		     slash = strchr(slash + 1, '/')) {
			name_slot *up = index_find(entries, want->path, (size_t)(slash - want->path));
			if (up && !up->is_dir)
				rc = problem(c, err, "'%s' is inside '%.*s', which is a file", want->path,
					(int)(slash - want->path), want->path);
			else if (up)
				up->used = 1;
		}
	}
	for (size_t i = 0; !rc && i < c->nentries; i++) {
		const char *p = c->entries[i].path;
		if (!strcmp(p, MG_BUNDLE_MANIFEST) || !strcmp(p, MG_BUNDLE_SIG))
			continue;
		if (!index_find(&listed, p, strlen(p)))
			rc = problem(c, err, "'%s' is not listed in manifest.json", p);
	}
	for (size_t i = 0; !rc && i < ndirs; i++) {
		const name_slot *x = index_find(entries, dirs[i], name_len(dirs[i]));
		if (x && x->is_dir && !x->used)
			rc = problem(c, err, "folder '%.*s/' holds no file listed in manifest.json",
				(int)name_len(dirs[i]), dirs[i]);
	}
	free(listed.slots);
	return rc;
}

static int check_signature(mg_bundle_check *c, const mg_buf *manifest, const mg_buf *sigjson,
			   int has_sig, const char *pub_key, const char *bundle, mg_error *err)
{
	char *sig_b64 = NULL;
	mg_error e2 = {0};
	if (!has_sig) {
		c->sig = MG_SIG_NONE;
		if (pub_key)
			return problem(c, err, "signature: the bundle is not signed (no %s)", MG_BUNDLE_SIG);
		return 0;
	}
	int rc = pkg_sig_parse(mg_buf_cstr(sigjson), sigjson->len, c->key_id, &sig_b64, bundle, &e2);
	if (rc == MG_ENOMEM) {
		if (err)
			*err = e2;
		return rc;
	}
	if (rc) {
		c->sig = MG_SIG_INVALID;
		return problem(c, err, "signature: %s", e2.msg);
	}
	if (!pub_key) {
		c->sig = MG_SIG_UNCHECKED;
	} else {
		char want[MG_DIGEST_SIZE];
		if ((rc = mg_key_id(pub_key, want, err)))
			goto done;
		rc = mg_verify(pub_key, mg_buf_cstr(manifest), manifest->len, sig_b64, MG_BUNDLE_MANIFEST,
			       &e2);
		if (rc == MG_ECORRUPT || (rc == MG_EINVAL && strstr(e2.msg, "base64"))) {
			c->sig = MG_SIG_INVALID;
			if (strcmp(want, c->key_id) != 0)
				rc = problem(c, err, "signature: %s was signed by key %s, not by '%s' (%s)",
					     MG_BUNDLE_MANIFEST, c->key_id, pub_key, want);
			else
				rc = problem(c, err, "signature: %s", e2.msg);
		} else if (rc) {
			if (err)
				*err = e2;
		} else {
			c->sig = MG_SIG_VALID;
		}
	}
done:
	free(sig_b64);
	return rc;
}

int mg_bundle_verify(mg_bundle_check **out, const char *bundle, const char *pub_key,
		     mg_error *err)
{
	mg_bundle_check *c = calloc(1, sizeof(*c));
	char *buf = malloc(BLOCK);
	mg_hash *h = NULL;
	struct archive *a = NULL;
	mg_buf manifest = MG_BUF_INIT, sigjson = MG_BUF_INIT;
	pkg_manifest m = {0};
	name_index names = {0}; /* every entry */
	char **dirs = NULL;     /* the folder entries, as named */
	size_t ndirs = 0, count = 0;
	uint64_t left = read_budget(bundle);
	int rc = 0, has_manifest = 0, has_sig = 0;
	if (!c || !buf) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	c->ok = 1;
	if ((rc = mg_hash_new(&h, err)) || (rc = index_init(&names, err)))
		goto done;
	if (!(a = open_reader(bundle, err))) {
		rc = err ? err->code : MG_EINVAL;
		goto done;
	}
	struct archive_entry *e;
	int r, first = 1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		first = 0;
		if (++count > MG_BUNDLE_MAX_ENTRIES) {
			rc = mg_error_set(err, MG_EINVAL, "'%s' has more than %d entries (the limit)", bundle,
					  MG_BUNDLE_MAX_ENTRIES);
			goto done;
		}
		const char *path = archive_entry_pathname(e);
		int is_dir = 0;
		const char *why = entry_refusal(e, &is_dir);
		const name_slot *dup = why ? NULL : index_find(&names, path, name_len(path));
		if (why) {
			rc = problem(c, err, "entry '%s' %s", path ? path : "", why);
		} else if (dup && dup->is_dir == is_dir) {
			rc = problem(c, err, "entry '%s' appears more than once", path);
		} else if (dup) {
			rc = problem(c, err, "entry '%s' is a folder named like the file '%s'",
				     is_dir ? path : dirs[dup->idx], is_dir ? c->entries[dup->idx].path : path);
		} else if (is_dir) {
			char **d = realloc(dirs, (ndirs + 1) * sizeof(*d));
			if (!d) {
				rc = mg_error_set(err, MG_ENOMEM, "out of memory");
				goto done;
			}
			dirs = d;
			if (!(dirs[ndirs] = mg_strdup(path, err))) {
				rc = MG_ENOMEM;
				goto done;
			}
			index_add(&names, dirs[ndirs], name_len(path), ndirs, 1);
			ndirs++;
		} else {
			if ((rc = add_entry(c, path, err)))
				goto done;
			mg_bundle_entry *got = &c->entries[c->nentries - 1];
			index_add(&names, got->path, strlen(got->path), c->nentries - 1, 0);
			mg_buf *keep = NULL;
			size_t max = 0;
			if (!strcmp(path, MG_BUNDLE_MANIFEST))
				keep = &manifest, max = MG_BUNDLE_MANIFEST_MAX, has_manifest = 1;
			else if (!strcmp(path, MG_BUNDLE_SIG))
				keep = &sigjson, max = MG_BUNDLE_SIG_MAX, has_sig = 1;
			rc = read_data(a, got, keep, max, &left, h, buf, bundle, err);
		}
		if (rc)
			goto done;
	}
	if (r != ARCHIVE_EOF) {
		rc = read_fail(a, bundle, first ? NULL : (c->nentries ? c->entries[c->nentries - 1].path : NULL),
			       err);
		goto done;
	}
	if (first) {
		rc = mg_error_set(err, MG_EINVAL, "'%s' is an empty archive, not a bundle", bundle);
		goto done;
	}
	if (!has_manifest) {
		rc = problem(c, err, "'%s' has no %s", bundle, MG_BUNDLE_MANIFEST);
		goto done;
	}
	mg_error e2 = {0};
	if (pkg_manifest_parse(&m, mg_buf_cstr(&manifest), manifest.len, bundle, &e2)) {
		if (e2.code == MG_ENOMEM) {
			if (err)
				*err = e2;
			rc = e2.code;
		} else {
			rc = problem(c, err, "%s", e2.msg);
		}
		goto done;
	}
	memcpy(c->artifact_digest, m.artifact_digest, MG_DIGEST_SIZE);
	c->reference = m.reference;
	c->gate_status = m.gate_status;
	c->release = m.release;
	m.reference = m.gate_status = NULL;
	if ((rc = compare(c, &names, dirs, ndirs, &m, err)))
		goto done;
	rc = check_signature(c, &manifest, &sigjson, has_sig, pub_key, bundle, err);
done:
	for (size_t i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	free(names.slots);
	if (a)
		archive_read_free(a);
	pkg_manifest_clear(&m);
	mg_buf_free(&manifest);
	mg_buf_free(&sigjson);
	mg_hash_free(h);
	free(buf);
	if (rc) {
		mg_bundle_check_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- unpack -------------------------------------------------------------- */

static int write_fail(struct archive *w, const char *entry, mg_error *err)
{
	const char *msg = archive_error_string(w);
	return mg_error_set(err, MG_EIO, "cannot extract '%s': %s", entry, msg ? msg : "write error");
}

/* The second pass: every entry again, checked against the verified list in
 * order, and the files written under dir, none longer than verified. The
 * entry names were refused in the first pass unless relative and free of
 * ".." (entry_refusal), so prefixing dir is safe; libarchive's
 * no-absolute-paths flag would refuse dir itself, while its no-dot-dot and
 * symlink checks stay on. Folder entries are not written: the folders are
 * those of the files, made as their parents. */
static int extract(struct archive *a, const mg_bundle_check *c, const char *bundle, char *buf,
		   mg_hash *h, const char *dir, mg_error *err)
{
	struct archive *w = archive_write_disk_new();
	if (!w)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						  ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						  ARCHIVE_EXTRACT_NO_OVERWRITE | ARCHIVE_EXTRACT_TIME);
	mg_buf full = MG_BUF_INIT;
	int rc = 0, r;
	size_t idx = 0;
	struct archive_entry *e;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		int is_dir = 0;
		const char *path = archive_entry_pathname(e);
		if (entry_refusal(e, &is_dir)) {
			rc = mg_error_set(err, MG_ECORRUPT, "'%s' changed since it was verified (entry '%s')",
					  bundle, path ? path : "");
			break;
		}
		if (is_dir)
			continue;
		if (idx >= c->nentries || strcmp(c->entries[idx].path, path) != 0) {
			rc = mg_error_set(err, MG_ECORRUPT, "'%s' changed since it was verified (entry '%s')",
					  bundle, path);
			break;
		}
		const uint64_t want = c->entries[idx].size;
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)want); /* not the size it claims now */
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		mg_buf_reset(&full);
		if ((rc = mg_buf_printf(&full, err, "%s/%s", dir, path)))
			break;
		archive_entry_copy_pathname(e, full.data);
		path = full.data + strlen(dir) + 1; /* the old name went with the copy */
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			rc = write_fail(w, path, err);
			break;
		}
		uint64_t size = 0;
		for (;;) {
			la_ssize_t n = archive_read_data(a, buf, BLOCK);
			if (n < 0) {
				rc = read_fail(a, bundle, path, err);
				break;
			}
			if (n == 0)
				break;
			if ((uint64_t)n > want - size) {
				rc = mg_error_set(err, MG_ECORRUPT,
						  "'%s' changed since it was verified (entry '%s' is longer)", bundle,
						  path);
				break;
			}
			mg_hash_update(h, buf, (size_t)n);
			size += (uint64_t)n;
			if (archive_write_data(w, buf, (size_t)n) != n) {
				rc = write_fail(w, path, err);
				break;
			}
		}
		if (rc)
			break;
		char digest[MG_DIGEST_SIZE];
		mg_hash_final(h, digest);
		if (size != want || strcmp(digest, c->entries[idx].digest) != 0) {
			rc = mg_error_set(err, MG_ECORRUPT, "'%s' changed since it was verified (entry '%s')",
					  bundle, path);
			break;
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			rc = write_fail(w, path, err);
			break;
		}
		idx++;
	}
	if (!rc && r != ARCHIVE_EOF)
		rc = read_fail(a, bundle, NULL, err);
	if (!rc && idx != c->nentries)
		rc = mg_error_set(err, MG_ECORRUPT, "'%s' changed since it was verified", bundle);
	if (archive_write_close(w) != ARCHIVE_OK && !rc)
		rc = write_fail(w, ".", err);
	archive_write_free(w);
	mg_buf_free(&full);
	return rc;
}

/* dir must not exist, or be an empty folder, which remove_empty removes
 * (the temporary folder is renamed over its place). */
static int check_dest(const char *dir, int remove_empty, mg_error *err)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : mg_error_sys(err, MG_EIO, errno, "cannot use '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return mg_error_set(err, MG_EEXISTS, "'%s' exists and is not a folder", dir);
	DIR *d = opendir(dir);
	if (!d)
		return mg_error_sys(err, MG_EIO, errno, "cannot use '%s'", dir);
	struct dirent *de;
	int empty = 1;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (!empty)
		return mg_error_set(err, MG_EEXISTS, "'%s' is not empty; unpack into a new folder", dir);
	if (remove_empty && rmdir(dir) < 0)
		return mg_error_sys(err, MG_EIO, errno, "cannot use '%s'", dir);
	return 0;
}

int mg_bundle_unpack(mg_bundle_check **out, const char *bundle, const char *dir,
		     const char *pub_key, mg_error *err)
{
	mg_bundle_check *c = NULL;
	int rc = mg_bundle_verify(&c, bundle, pub_key, err);
	if (rc)
		return rc;
	if (!c->ok) {
		*out = c;
		return 0;
	}
	if ((rc = check_dest(dir, 0, err))) {
		mg_bundle_check_free(c);
		return rc;
	}
	struct archive *a = NULL;
	mg_hash *h = NULL;
	char *buf = NULL, *parent = NULL, *tmp = NULL;
	mg_buf t = MG_BUF_INIT;
	if (!(parent = mg_strdup(dir, err))) {
		rc = MG_ENOMEM;
		goto done;
	}
	size_t len = strlen(parent);
	while (len > 1 && parent[len - 1] == '/')
		parent[--len] = '\0';
	char *slash = strrchr(parent, '/');
	const char *pdir = ".";
	if (slash) {
		slash[slash == parent] = '\0';
		pdir = parent;
	}
	if ((rc = mg_mkdirs(pdir, err)) || (rc = mg_buf_printf(&t, err, "%s/.mg-unpack-XXXXXX", pdir)))
		goto done;
	tmp = mg_buf_detach(&t);
	if (!mkdtemp(tmp)) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot create a folder in '%s'", pdir);
		free(tmp);
		tmp = NULL;
		goto done;
	}
	if (chmod(tmp, 0755) < 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot set the mode of '%s'", tmp);
		goto done;
	}
	if (!(buf = malloc(BLOCK))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = mg_hash_new(&h, err)))
		goto done;
	if (!(a = open_reader(bundle, err))) {
		rc = err ? err->code : MG_EINVAL;
		goto done;
	}
	if ((rc = extract(a, c, bundle, buf, h, tmp, err)))
		goto done;
	if ((rc = check_dest(dir, 1, err)))
		goto done;
	if (rename(tmp, dir) < 0) {
		rc = mg_error_sys(err, errno == ENOTEMPTY || errno == EEXIST ? MG_EEXISTS : MG_EIO, errno,
				  "cannot rename '%s' to '%s'", tmp, dir);
		goto done;
	}
	free(tmp);
	tmp = NULL;
done:
	if (tmp) {
		mg_remove_tree(tmp);
		free(tmp);
	}
	if (a)
		archive_read_free(a);
	mg_hash_free(h);
	free(buf);
	free(parent);
	if (rc) {
		mg_bundle_check_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
