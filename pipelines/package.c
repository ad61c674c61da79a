/* modelgate package: writes a reproducible bundle with libarchive. The
 * model files are streamed once (read, hashed, compressed; never held in
 * memory) under files/, then the small entries that depend on their digests
 * (manifest.json, its signature, the provenance Statement) and the report
 * follow, so the entries are sorted by name and nothing is read twice.
 * Reproducible: fixed mtime, uid/gid 0, no names, mode 0644, pax (restricted)
 * tar without atime/ctime, gzip without timestamp, zstd at a fixed level;
 * zip, which keeps local times, is written with the time zone set to UTC.
 * The bundle is written to a temporary file next to the output and renamed
 * into place. */
#include "package_int.h"

#include "pipelines/sign.h"
#include "validator/run_once.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20)

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a > b && !strcmp(s + a - b, suffix);
}

int mg_bundle_format_for(const char *path, mg_bundle_format *out, mg_error *err)
{
	if (has_suffix(path, ".tar.gz") || has_suffix(path, ".tgz"))
		*out = MG_BUNDLE_TAR_GZ;
	else if (has_suffix(path, ".tar.zst") || has_suffix(path, ".tzst"))
		*out = MG_BUNDLE_TAR_ZST;
	else if (has_suffix(path, ".zip"))
		*out = MG_BUNDLE_ZIP;
	else
		return mg_error_set(err, MG_EINVAL,
				    "'%s': name the bundle .tar.gz, .tar.zst or .zip", path);
	return 0;
}

/* zip's entry times are local (DOS fields): libarchive converts with the
 * process's time zone, so a zip is written in UTC and the bytes do not
 * depend on the machine's zone. (package runs on one thread.) */
typedef struct tz_saved {
	int active; /* tz_utc ran: tz_restore has something to undo */
	int had;
	char *old;
} tz_saved;

static void tz_utc(tz_saved *s)
{
	const char *tz = getenv("TZ");
	s->active = 1;
	s->had = tz != NULL;
	s->old = tz ? strdup(tz) : NULL;
	setenv("TZ", "UTC0", 1);
	tzset();
}

static void tz_restore(tz_saved *s)
{
	if (!s->active)
		return;
	if (s->old)
		setenv("TZ", s->old, 1);
	else if (!s->had)
		unsetenv("TZ");
	free(s->old);
	tzset();
}

static int arc_fail(struct archive *a, const char *path, mg_error *err)
{
	const char *msg = a ? archive_error_string(a) : NULL;
	int e = a ? archive_errno(a) : 0;
	return mg_error_set(err, e == ENOSPC || e == EIO ? MG_EIO : MG_ERROR, "cannot write '%s': %s",
			    path, msg ? msg : "archive error");
}

static int open_writer(struct archive **out, int fd, mg_bundle_format fmt, const char *path,
		       mg_error *err)
{
	struct archive *a = archive_write_new();
	if (!a)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	int r;
	if (fmt == MG_BUNDLE_ZIP) {
		r = archive_write_set_format_zip(a);
	} else {
		r = archive_write_set_format_pax_restricted(a);
		if (r == ARCHIVE_OK && fmt == MG_BUNDLE_TAR_GZ) {
			r = archive_write_add_filter_gzip(a);
			if (r == ARCHIVE_OK) /* no time (nor name) in the gzip header */
				r = archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
		} else if (r == ARCHIVE_OK) {
			r = archive_write_add_filter_zstd(a);
			if (r == ARCHIVE_OK)
				r = archive_write_set_filter_option(a, "zstd", "compression-level", "3");
		}
	}
	if (r == ARCHIVE_OK)
		r = archive_write_open_fd(a, fd);
	if (r != ARCHIVE_OK) {
		int rc = arc_fail(a, path, err);
		archive_write_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static int write_header(struct archive *a, const char *name, uint64_t size, int64_t mtime,
			const char *bundle, mg_error *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	int r = archive_write_header(a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : arc_fail(a, bundle, err);
}

static int write_data(struct archive *a, const void *data, size_t len, const char *bundle,
		      mg_error *err)
{
	const char *p = data;
	while (len > 0) {
		la_ssize_t n = archive_write_data(a, p, len);
		if (n <= 0)
			return arc_fail(a, bundle, err);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_small(struct archive *a, const char *name, const mg_buf *b, int64_t mtime,
		       const char *bundle, mg_error *err)
{
	int rc = write_header(a, name, b->len, mtime, bundle, err);
	return rc ? rc : write_data(a, mg_buf_cstr(b), b->len, bundle, err);
}

/* Streams one model file into the archive, hashing it on the way. */
static int write_model(struct archive *a, const mg_package_file *f, mg_bundle_entry *e,
		       int64_t mtime, char *buf, mg_hash *h, const char *bundle, mg_error *err)
{
	/* no link is followed, and a FIFO put in a file's place cannot block */
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP)
		return mg_error_set(err, MG_EINVAL, "'%s' is a symbolic link: package follows no links",
				    f->path);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EIO, errno,
				    "cannot read '%s'", f->path);
	int rc = 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", f->path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = mg_error_set(err, MG_EINVAL, "'%s' is not a regular file", f->path);
		goto done;
	}
	e->size = (uint64_t)st.st_size;
	if ((rc = write_header(a, e->path, e->size, mtime, bundle, err)))
		goto done;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t done_bytes = 0;
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", f->path);
			goto done;
		}
		if (n == 0)
			break;
		if ((uint64_t)n > e->size - done_bytes) {
			rc = mg_error_set(err, MG_EIO, "'%s' grew while it was packaged", f->path);
			goto done;
		}
		mg_hash_update(h, buf, (size_t)n);
		if ((rc = write_data(a, buf, (size_t)n, bundle, err)))
			goto done;
		done_bytes += (uint64_t)n;
	}
	if (done_bytes != e->size) {
		rc = mg_error_set(err, MG_EIO, "'%s' shrank while it was packaged", f->path);
		goto done;
	}
	mg_hash_final(h, e->digest);
	if (f->digest && strcmp(f->digest, e->digest) != 0)
		rc = mg_error_set(err, MG_ECORRUPT, "'%s' has digest %s, expected %s", f->path, e->digest,
				  f->digest);
done:
	close(fd);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const mg_bundle_entry *)a)->path, ((const mg_bundle_entry *)b)->path);
}

/* sha256 of "NAME\tsha256:HEX\tSIZE\n" for each file, sorted by name. */
static int folder_digest(const mg_bundle_entry *models, size_t n, char out[MG_DIGEST_SIZE],
			 mg_error *err)
{
	mg_buf text = MG_BUF_INIT;
	int rc = 0;
	size_t skip = strlen(MG_BUNDLE_FILES_DIR);
	for (size_t i = 0; i < n && !rc; i++)
		rc = mg_buf_printf(&text, err, "%s\t%s\t%llu\n", models[i].path + skip, models[i].digest,
				   (unsigned long long)models[i].size);
	if (!rc)
		mg_digest_bytes(mg_buf_cstr(&text), text.len, out);
	mg_buf_free(&text);
	return rc;
}

/* The report must pass and name this artifact; a report of a gate run on a
 * plain file names that file's sha256, which is fine for files given
 * directly. */
static int check_report(const mg_report *r, const pkg_meta *m, mg_error *err)
{
	int rc = mg_report_check_for(r, m->artifact_digest, err);
	if (rc && m->opts->artifact_digest == NULL && r->model_digest) {
		for (size_t i = 0; i < m->nmodels; i++)
			if (!strcmp(m->models[i].digest, r->model_digest) &&
			    !mg_report_check_for(r, r->model_digest, NULL)) {
				mg_error_clear(err);
				return 0;
			}
	}
	return rc;
}

static int entry_for(mg_bundle_entry *e, const char *path, const mg_buf *b, mg_error *err)
{
	e->path = (char *)path;
	e->size = b->len;
	mg_digest_bytes(mg_buf_cstr(b), b->len, e->digest);
	(void)err;
	return 0;
}

static int cmp_file_name(const void *a, const void *b)
{
	return strcmp((*(const mg_package_file *const *)a)->name, (*(const mg_package_file *const *)b)->name);
}

/* smoke/tolerances.json is read as the device will read it, so that bad
 * text is refused here rather than on a device. */
static int check_tolerances(const mg_buf *text, const char *path, mg_error *err)
{
	mg_run_spec scratch = {.ntols = 0};
	return mg_run_tolerances_json(&scratch, text->data, text->len, path, err);
}

/* The smoke files of o, read whole (bytes[i]) and listed (ents[i], paths
 * under smoke/ that the caller frees), sorted by path. */
static int read_smoke(const mg_package_opts *o, mg_buf *bytes, mg_bundle_entry *ents, mg_error *err)
{
	const mg_package_file **order = calloc(o->nsmoke ? o->nsmoke : 1, sizeof(*order));
	if (!order)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < o->nsmoke; i++)
		order[i] = &o->smoke[i];
	qsort(order, o->nsmoke, sizeof(*order), cmp_file_name);
	int rc = 0;
	for (size_t i = 0; !rc && i < o->nsmoke; i++) {
		const char *name = order[i]->name, *slash = strchr(name, '/');
		int tol = !strcmp(name, MG_BUNDLE_SMOKE_TOLERANCES);
		mg_buf path = MG_BUF_INIT;
		if (!tol && (!slash || (strncmp(name, "inputs/", 7) && strncmp(name, "expected/", 9)) ||
			     !mg_name_is_safe(slash + 1)))
			rc = mg_error_set(err, MG_EINVAL, "smoke file '%s' is not inputs/NAME, expected/NAME or "
					  MG_BUNDLE_SMOKE_TOLERANCES, name);
		else if (i && !strcmp(order[i - 1]->name, name))
			rc = mg_error_set(err, MG_EINVAL, "two smoke files are named '%s'", name);
		else if (!(rc = mg_file_read(&bytes[i], order[i]->path, PKG_SMALL_MAX, err)) &&
			 !(rc = tol ? check_tolerances(&bytes[i], order[i]->path, err) : 0) &&
			 !(rc = mg_buf_printf(&path, err, "%s%s", MG_BUNDLE_SMOKE_DIR, name)))
			rc = entry_for(&ents[i], path.data, &bytes[i], err);
		if (!rc)
			ents[i].path = mg_buf_detach(&path);
		mg_buf_free(&path);
	}
	free(order);
	return rc;
}

int mg_package_write(const char *out_path, mg_bundle_format fmt, const mg_package_file *files,
		     size_t nfiles, const mg_package_opts *o, mg_package_result *res, mg_error *err)
{
	if (!o || o->version != MG_PACKAGE_OPTS_VERSION || !o->report_path)
		return mg_error_set(err, MG_EINVAL, "package: options missing");
	if (nfiles == 0)
		return mg_error_set(err, MG_EINVAL, "nothing to package");
	mg_report *report = NULL;
	mg_bundle_entry *models = NULL;
	const mg_package_file **order = NULL;
	struct archive *a = NULL;
	mg_hash *h = NULL;
	char *buf = NULL, *tmp = NULL, *dir = NULL;
	int fd = -1;
	mg_buf report_bytes = MG_BUF_INIT, prov = MG_BUF_INIT, manifest = MG_BUF_INIT,
	       sig = MG_BUF_INIT, sigjson = MG_BUF_INIT;
	mg_bundle_entry *extra = NULL; /* provenance, report, the smoke files */
	mg_buf *smoke = NULL;
	char key_id[MG_DIGEST_SIZE] = "";
	tz_saved tz = {0, 0, NULL};
	int rc = 0;

	/* the report first: a failed one stops us before any byte is written */
	if ((rc = mg_file_read(&report_bytes, o->report_path, PKG_SMALL_MAX, err)) ||
	    (rc = mg_report_parse_json(&report, mg_buf_cstr(&report_bytes), report_bytes.len,
					o->report_path, err)))
		goto done;
	if (res)
		memset(res, 0, sizeof(*res));
	if ((rc = mg_report_check_for(report, report->model_digest ? report->model_digest : "", err))) {
		if (res)
			res->refused = 1;
		goto done;
	}
	if (o->sign_key && (rc = mg_key_id(o->sign_key, key_id, err)))
		goto done;

	models = calloc(nfiles, sizeof(*models));
	buf = malloc(CHUNK);
	extra = calloc(2 + o->nsmoke, sizeof(*extra));
	smoke = calloc(o->nsmoke ? o->nsmoke : 1, sizeof(*smoke));
	if (!models || !buf || !extra || !smoke) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = read_smoke(o, smoke, extra + 2, err)))
		goto done;
	mg_buf names = MG_BUF_INIT;
	for (size_t i = 0; i < nfiles; i++) {
		if (!mg_name_is_safe(files[i].name)) {
			rc = mg_error_set(err, MG_EINVAL, "'%s' is not a safe file name", files[i].name);
			break;
		}
		mg_buf_reset(&names);
		if ((rc = mg_buf_printf(&names, err, "%s%s", MG_BUNDLE_FILES_DIR, files[i].name)))
			break;
		models[i].path = mg_buf_detach(&names);
		models[i].size = i; /* the index of files[], until sorted */
	}
	mg_buf_free(&names);
	if (rc)
		goto done;
	qsort(models, nfiles, sizeof(*models), cmp_entry);
	for (size_t i = 1; i < nfiles; i++)
		if (!strcmp(models[i - 1].path, models[i].path)) {
			rc = mg_error_set(err, MG_EINVAL, "two files are named '%s'",
					  models[i].path + strlen(MG_BUNDLE_FILES_DIR));
			goto done;
		}
	order = calloc(nfiles, sizeof(*order));
	if (!order) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nfiles; i++)
		order[i] = &files[models[i].size];

	if (!(dir = mg_strdup(out_path, err))) {
		rc = MG_ENOMEM;
		goto done;
	}
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	if (fmt == MG_BUNDLE_ZIP)
		tz_utc(&tz);
	if ((rc = mg_tmpfile_open(&fd, &tmp, slash ? dir : ".", err)) ||
	    (rc = mg_hash_new(&h, err)) || (rc = open_writer(&a, fd, fmt, out_path, err)))
		goto done;

	for (size_t i = 0; i < nfiles; i++)
		if ((rc = write_model(a, order[i], &models[i], o->mtime, buf, h, out_path, err)))
			goto done;

	pkg_meta m = {o, report, NULL, NULL, models, nfiles};
	char computed[MG_DIGEST_SIZE];
	if (o->artifact_digest) {
		m.artifact_digest = o->artifact_digest;
		m.digest_method = "oci-manifest";
	} else if (nfiles == 1) {
		m.artifact_digest = models[0].digest;
		m.digest_method = "file-sha256";
	} else {
		if ((rc = folder_digest(models, nfiles, computed, err)))
			goto done;
		m.artifact_digest = computed;
		m.digest_method = "folder-v1";
	}
	if ((rc = check_report(report, &m, err))) {
		if (res)
			res->refused = 1;
		goto done;
	}

	if ((rc = pkg_provenance_json(&prov, &m, err)) ||
	    (rc = entry_for(&extra[0], MG_BUNDLE_PROVENANCE, &prov, err)) ||
	    (rc = entry_for(&extra[1], MG_BUNDLE_REPORT, &report_bytes, err)) ||
	    (rc = pkg_manifest_json(&manifest, &m, extra, 2 + o->nsmoke, err)))
		goto done;
	if (o->sign_key &&
	    ((rc = mg_sign(o->sign_key, manifest.data, manifest.len, &sig, err)) ||
	     (rc = pkg_sig_json(&sigjson, key_id, sig.data, err))))
		goto done;

	if ((rc = write_small(a, MG_BUNDLE_MANIFEST, &manifest, o->mtime, out_path, err)) ||
	    (o->sign_key && (rc = write_small(a, MG_BUNDLE_SIG, &sigjson, o->mtime, out_path, err))) ||
	    (rc = write_small(a, MG_BUNDLE_PROVENANCE, &prov, o->mtime, out_path, err)) ||
	    (rc = write_small(a, MG_BUNDLE_REPORT, &report_bytes, o->mtime, out_path, err)))
		goto done;
	for (size_t i = 0; i < o->nsmoke; i++)
		if ((rc = write_small(a, extra[2 + i].path, &smoke[i], o->mtime, out_path, err)))
			goto done;
	if (archive_write_close(a) != ARCHIVE_OK) {
		rc = arc_fail(a, out_path, err);
		goto done;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", out_path);
		goto done;
	}
	if (res) {
		memcpy(res->artifact_digest, m.artifact_digest, MG_DIGEST_SIZE);
		mg_digest_bytes(manifest.data, manifest.len, res->manifest_digest);
		memcpy(res->key_id, key_id, MG_DIGEST_SIZE);
		res->bytes = (uint64_t)st.st_size;
		res->nfiles = nfiles + 3 + (o->sign_key != NULL) + o->nsmoke;
	}
	rc = mg_tmpfile_commit(fd, tmp, out_path, err);
	fd = -1;
done:
	if (a)
		archive_write_free(a);
	tz_restore(&tz);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (models)
		for (size_t i = 0; i < nfiles; i++)
			free(models[i].path);
	free(models);
	for (size_t i = 0; extra && i < o->nsmoke; i++)
		free(extra[2 + i].path);
	free(extra);
	for (size_t i = 0; smoke && i < o->nsmoke; i++)
		mg_buf_free(&smoke[i]);
	free(smoke);
	free(order);
	free(buf);
	free(tmp);
	free(dir);
	mg_hash_free(h);
	mg_report_free(report);
	mg_buf_free(&report_bytes);
	mg_buf_free(&prov);
	mg_buf_free(&manifest);
	mg_buf_free(&sig);
	mg_buf_free(&sigjson);
	return rc;
}
