/* modelgate verify and unpack: reads a bundle with libarchive (tar with
 * gzip, zstd or no compression, and zip; no external filter programs) and
 * checks it against its manifest.json: only regular files and folders with
 * safe relative paths, no duplicates, every listed file present with its
 * sha256 and size, nothing unlisted, and the Ed25519 signature when a key
 * is given. Every problem becomes one line naming the entry or the
 * signature; only an unreadable, truncated or foreign file is an error.
 *
 * Unpack verifies first, then reads the archive a second time and extracts
 * it with libarchive's secure flags into a temporary folder next to the
 * destination, re-hashing every file against the verified digests, and
 * renames the folder into place only when everything matched. */
#include "package_int.h"

#include "pipelines/sign.h"

#include <archive.h>
#include <archive_entry.h>
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
	if (path[0] == '/')
		return "has an absolute path";
	if (!pkg_path_is_safe(path, *is_dir))
		return "has an unsafe path ('..', '.', empty or control characters)";
	return NULL;
}

static mg_bundle_entry *find_entry(mg_bundle_check *c, const char *path)
{
	for (size_t i = 0; i < c->nentries; i++)
		if (!strcmp(c->entries[i].path, path))
			return &c->entries[i];
	return NULL;
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

/* Reads an entry's data: hashed, and kept in keep (up to PKG_SMALL_MAX)
 * when keep is not NULL. */
static int read_data(struct archive *a, mg_bundle_entry *e, mg_buf *keep, mg_hash *h,
		     char *buf, const char *bundle, mg_error *err)
{
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, BLOCK);
		if (n < 0)
			return read_fail(a, bundle, e->path, err);
		if (n == 0)
			break;
		mg_hash_update(h, buf, (size_t)n);
		e->size += (uint64_t)n;
		if (keep) {
			if (e->size > PKG_SMALL_MAX)
				return mg_error_set(err, MG_EINVAL, "'%s': '%s' is larger than %zu bytes", bundle,
						    e->path, PKG_SMALL_MAX);
			int rc = mg_buf_append(keep, buf, (size_t)n, err);
			if (rc)
				return rc;
		}
	}
	mg_hash_final(h, e->digest);
	return 0;
}

static void compare(mg_bundle_check *c, const pkg_manifest *m, mg_error *err)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		const mg_bundle_entry *want = &m->files[i];
		const mg_bundle_entry *got = find_entry(c, want->path);
		if (!got)
			problem(c, err, "'%s' is listed in manifest.json but missing", want->path);
		else if (got->size != want->size)
			problem(c, err, "'%s' has %llu bytes, manifest.json says %llu", want->path,
				(unsigned long long)got->size, (unsigned long long)want->size);
		else if (strcmp(got->digest, want->digest) != 0)
			problem(c, err, "'%s' has digest %s, manifest.json says %s", want->path, got->digest,
				want->digest);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->files[j].path, want->path))
				problem(c, err, "'%s' is listed twice in manifest.json", want->path);
	}
	for (size_t i = 0; i < c->nentries; i++) {
		const char *p = c->entries[i].path;
		if (!strcmp(p, MG_BUNDLE_MANIFEST) || !strcmp(p, MG_BUNDLE_SIG))
			continue;
		int listed = 0;
		for (size_t j = 0; j < m->nfiles && !listed; j++)
			listed = !strcmp(m->files[j].path, p);
		if (!listed)
			problem(c, err, "'%s' is not listed in manifest.json", p);
	}
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
	if (pkg_sig_parse(mg_buf_cstr(sigjson), sigjson->len, c->key_id, &sig_b64, bundle, &e2)) {
		c->sig = MG_SIG_INVALID;
		return problem(c, err, "signature: %s", e2.msg);
	}
	int rc = 0;
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
	int rc = 0, has_manifest = 0, has_sig = 0;
	if (!c || !buf) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	c->ok = 1;
	if ((rc = mg_hash_new(&h, err)))
		goto done;
	if (!(a = open_reader(bundle, err))) {
		rc = err ? err->code : MG_EINVAL;
		goto done;
	}
	struct archive_entry *e;
	int r, first = 1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		first = 0;
		const char *path = archive_entry_pathname(e);
		int is_dir = 0;
		const char *why = entry_refusal(e, &is_dir);
		if (why) {
			rc = problem(c, err, "entry '%s' %s", path ? path : "", why);
		} else if (find_entry(c, path)) {
			rc = problem(c, err, "entry '%s' appears more than once", path);
		} else if (!is_dir) {
			if ((rc = add_entry(c, path, err)))
				goto done;
			mg_buf *keep = NULL;
			if (!strcmp(path, MG_BUNDLE_MANIFEST))
				keep = &manifest, has_manifest = 1;
			else if (!strcmp(path, MG_BUNDLE_SIG))
				keep = &sigjson, has_sig = 1;
			rc = read_data(a, &c->entries[c->nentries - 1], keep, h, buf, bundle, err);
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
		rc = problem(c, err, "%s", e2.msg);
		goto done;
	}
	memcpy(c->artifact_digest, m.artifact_digest, MG_DIGEST_SIZE);
	c->reference = m.reference;
	c->gate_status = m.gate_status;
	m.reference = m.gate_status = NULL;
	compare(c, &m, err);
	rc = check_signature(c, &manifest, &sigjson, has_sig, pub_key, bundle, err);
done:
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
 * order, and written under dir. The entry names were refused in the first
 * pass unless relative and free of ".." (entry_refusal), so prefixing dir is
 * safe; libarchive's no-absolute-paths flag would refuse dir itself, while
 * its no-dot-dot and symlink checks stay on. */
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
		if (!is_dir && (idx >= c->nentries || strcmp(c->entries[idx].path, path) != 0)) {
			rc = mg_error_set(err, MG_ECORRUPT, "'%s' changed since it was verified (entry '%s')",
					  bundle, path);
			break;
		}
		archive_entry_set_perm(e, is_dir ? 0755 : 0644);
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
		if (is_dir)
			continue;
		uint64_t size = 0;
		for (;;) {
			la_ssize_t n = archive_read_data(a, buf, BLOCK);
			if (n < 0) {
				rc = read_fail(a, bundle, path, err);
				break;
			}
			if (n == 0)
				break;
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
		if (size != c->entries[idx].size || strcmp(digest, c->entries[idx].digest) != 0) {
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
