/* Artifacts in the local store: push (files -> blobs, config, manifest,
 * tag) and pull (tag -> verified files under their titles). How files
 * become an artifact (config, layers, manifest) is shared with pushes to a
 * registry through mg_artifact__build, which stores blobs through a sink. */
#include "artifact_int.h"
#include "formats/model_info.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static const char *layer_media_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (dot && !strcasecmp(dot, ".onnx"))
		return "application/vnd.onnx.model";
	if (dot && !strcasecmp(dot, ".tflite"))
		return "application/vnd.tflite.model";
	if (dot && !strcasecmp(dot, ".json"))
		return "application/json";
	return "application/octet-stream";
}

/* The config blob: what the first model file declares, and when. */
static int make_config(mg_buf *out, const char *const *files, size_t nfiles, int64_t created,
		       int *model_known, mg_error *err)
{
	mg_model_info *info = NULL;
	for (size_t i = 0; i < nfiles && !info; i++) {
		int rc = mg_model_info_read(&info, files[i], err);
		if (rc)
			return rc;
		if (!strcmp(info->format, "unknown")) {
			mg_model_info_free(info);
			info = NULL;
		}
	}
	*model_known = info != NULL;
	char when[32];
	mg_format_time(when, sizeof(when), created);
	mg_buf declared = MG_BUF_INIT;
	json_t *j = NULL;
	if (info) {
		int rc = mg_model_info_json(&declared, info, err);
		if (!rc)
			j = json_loadb(declared.data, declared.len, 0, NULL);
		mg_buf_free(&declared);
		if (j)
			json_object_set_new(j, "framework", json_string(info->format));
		mg_model_info_free(info);
		if (rc)
			return rc;
	} else {
		j = json_pack("{s:s}", "format", "unknown");
	}
	if (j)
		json_object_set_new(j, "created", json_string(when));
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "cannot serialise config");
	int rc = mg_buf_puts(out, s, err);
	free(s);
	return rc;
}

int mg_artifact__check_titles(const char *const *names, size_t n, const char *what, mg_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !mg_name_is_safe(names[i]))
			return mg_error_set(err, MG_EINVAL, "%s: unsafe or missing file name '%s'", what,
					    names[i] ? names[i] : "");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(names[i], names[k]))
				return mg_error_set(err, MG_EINVAL, "%s: two files named '%s'", what, names[i]);
	}
	return 0;
}

/* Whether the file at path, if any, may be replaced by layer l: a missing
 * one may, one with l's bytes is *same, another only when forced. */
static int replaceable(const char *path, const mg_desc *l, int force, unsigned char *same,
		       mg_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
	if (S_ISDIR(st.st_mode))
		return mg_error_set(err, MG_EEXISTS, "'%s' is a folder: cannot pull a file there", path);
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == l->size) {
		char digest[MG_DIGEST_SIZE];
		uint64_t size;
		int cached, fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
		int rc = mg_file_digest(fd, path, digest, &size, &cached, err);
		close(fd);
		if (rc)
			return rc;
		if (!strcmp(digest, l->digest)) {
			*same = 1;
			return 0;
		}
	}
	if (force)
		return 0;
	return mg_error_set(err, MG_EEXISTS, "'%s' exists with other content; use --force to replace it", path);
}

int mg_artifact__pull_titles(const mg_manifest *m, const char *dir, const char *what,
			     const mg_pull_opts *opts, const char ***out, mg_error *err)
{
	const char **titles = calloc(m->nlayers ? m->nlayers : 1, sizeof(*titles));
	if (!titles)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nlayers; i++)
		titles[i] = m->layers[i].title;
	int rc = mg_artifact__check_titles(titles, m->nlayers, what, err);
	if (!rc && dir)
		rc = mg_mkdirs(dir, err);
	for (size_t i = 0; !rc && dir && i < m->nlayers; i++) {
		unsigned char same = 0;
		char *path = mg_path_join(dir, titles[i], err);
		rc = path ? replaceable(path, &m->layers[i], opts && opts->force, &same, err) : MG_ENOMEM;
		free(path);
		if (opts && opts->unchanged)
			opts->unchanged[i] = same;
	}
	if (rc) {
		free(titles);
		return rc;
	}
	*out = titles;
	return 0;
}

static int check_readable(const char *path, mg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EINVAL, errno,
				    "cannot read '%s'", path);
	struct stat st;
	int ok = fstat(fd, &st) == 0, regular = ok && S_ISREG(st.st_mode);
	close(fd);
	if (ok && S_ISDIR(st.st_mode))
		return mg_error_set(err, MG_EINVAL, "'%s' is a folder: name the files in it", path);
	return regular ? 0 : mg_error_set(err, MG_EINVAL, "'%s' is not a regular file", path);
}

int mg_artifact__build(const char *const *files, size_t nfiles, const mg_push_opts *opts,
		       const mg_artifact_sink *sink, mg_buf *json, mg_push_result *res,
		       mg_error *err)
{
	static const mg_push_opts defaults = MG_PUSH_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	if (nfiles == 0)
		return mg_error_set(err, MG_EINVAL, "nothing to push: name at least one file");
	if (nfiles > MG_MANIFEST_MAX_LAYERS)
		return mg_error_set(err, MG_EINVAL, "cannot push %zu files: an artifact may have at most "
				    "%d (package them into one bundle)", nfiles, MG_MANIFEST_MAX_LAYERS);
	memset(res, 0, sizeof(*res));
	int rc = 0;
	mg_buf config = MG_BUF_INIT;
	mg_manifest m = {0};
	const char **titles = calloc(nfiles, sizeof(*titles));
	m.layers = calloc(nfiles, sizeof(*m.layers));
	if (!titles || !m.layers) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nfiles; i++)
		titles[i] = base_name(files[i]);
	for (size_t i = 0; i < nfiles; i++) /* refuse bad input before storing anything */
		if ((rc = check_readable(files[i], err)))
			goto done;
	if ((rc = mg_artifact__check_titles(titles, nfiles, "push", err)))
		goto done;
	int64_t created = opts->created ? opts->created : (int64_t)time(NULL);
	if ((rc = make_config(&config, files, nfiles, created, &res->model_known, err)))
		goto done;
	for (size_t i = 0; i < nfiles; i++) {
		mg_desc *l = &m.layers[i];
		int existed = 0;
		m.nlayers = i + 1;
		if ((rc = sink->put_file(sink->ctx, files[i], titles[i], l, &existed, err)))
			goto done;
		l->media_type = (char *)(opts->media_types && opts->media_types[i] ? opts->media_types[i]
					 : layer_media_type(titles[i]));
		l->title = (char *)titles[i];
		if (existed)
			res->files_existed++;
		else
			res->files_new++;
	}
	m.artifact_type = (char *)(opts->artifact_type ? opts->artifact_type : MG_ARTIFACT_MODEL);
	m.config.media_type = MG_MEDIA_CONFIG;
	m.config.size = config.len;
	if ((rc = sink->put_bytes(sink->ctx, config.data, config.len, m.config.digest, err)))
		goto done;
	char when[32];
	mg_format_time(when, sizeof(when), created);
	for (size_t i = 0; opts->annotations && i < opts->annotations->n; i++)
		if ((rc = mg_kv_set(&m.annotations, opts->annotations->keys[i],
				    opts->annotations->vals[i], err)))
			goto done;
	if (!mg_kv_get(&m.annotations, MG_ANNOT_CREATED) &&
	    (rc = mg_kv_set(&m.annotations, MG_ANNOT_CREATED, when, err)))
		goto done;
	if ((rc = mg_manifest_write(json, &m, err)))
		goto done;
	mg_digest_bytes(json->data, json->len, res->digest);
	res->size = json->len;
done:
	mg_kv_clear(&m.annotations);
	free(m.layers); /* the layer strings are borrowed */
	free(titles);
	mg_buf_free(&config);
	return rc;
}

static int store_put_file(void *ctx, const char *path, const char *title, mg_desc *layer,
			  int *existed, mg_error *err)
{
	(void)title;
	return mg_store_put_file(ctx, path, layer->digest, &layer->size, existed, err);
}

static int store_put_bytes(void *ctx, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
			   mg_error *err)
{
	return mg_store_put_bytes(ctx, data, len, digest, err);
}

int mg_push_local(mg_store *s, const mg_ref *ref, const char *const *files, size_t nfiles,
		  const mg_push_opts *opts, mg_push_result *res, mg_error *err)
{
	if (ref->registry || ref->digest)
		return mg_error_set(err, MG_EINVAL, "cannot push to '%s%s%s': give a tag, not a digest",
				    ref->repo, ref->digest ? "@" : "", ref->digest ? ref->digest : "");
	mg_store_entry *entries = NULL;
	size_t nentries = 0;
	int irc = mg_store_list(s, &entries, &nentries, err); /* a broken index: store nothing */
	mg_store_entries_free(entries, nentries);
	if (irc)
		return irc;
	const mg_artifact_sink sink = {store_put_file, store_put_bytes, s};
	mg_buf json = MG_BUF_INIT;
	char *name = NULL;
	int rc = mg_artifact__build(files, nfiles, opts, &sink, &json, res, err);
	if (!rc)
		rc = mg_store_put_bytes(s, json.data, json.len, res->digest, err);
	if (!rc && !(name = mg_ref_store_name(ref, err)))
		rc = MG_ENOMEM;
	if (!rc)
		rc = mg_store_set_tag(s, name, res->digest, err);
	free(name);
	mg_buf_free(&json);
	return rc;
}

int mg_store_get_manifest(mg_store *s, const mg_ref *ref, mg_manifest **out,
			  char digest[MG_DIGEST_SIZE], mg_error *err)
{
	int rc = mg_store_resolve(s, ref, digest, err);
	if (rc)
		return rc;
	mg_buf b = MG_BUF_INIT;
	if (!(rc = mg_store_read_blob(s, digest, MG_MANIFEST_MAX, &b, err)))
		rc = mg_manifest_parse(out, b.data, b.len, digest, err);
	mg_buf_free(&b);
	return rc;
}

int mg_pull_local(mg_store *s, const mg_ref *ref, const char *dir, const mg_pull_opts *opts,
		  mg_manifest **out, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	mg_manifest *m = NULL;
	int rc = mg_store_get_manifest(s, ref, &m, digest, err);
	if (rc)
		return rc;
	size_t n = m->nlayers;
	const char **titles = NULL;
	char **tmps = calloc(n ? n : 1, sizeof(*tmps));
	if (!tmps) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = mg_artifact__pull_titles(m, dir, digest, opts, &titles, err)))
		goto done;
	for (size_t i = 0; i < n; i++) /* verify everything first ... */
		if ((rc = mg_store_export_tmp(s, m->layers[i].digest, dir, &tmps[i], err)))
			goto done;
	for (size_t i = 0; i < n; i++) { /* ... then put it in place */
		char *dest = mg_path_join(dir, titles[i], err);
		if (!dest) {
			rc = MG_ENOMEM;
			goto done;
		}
		if (rename(tmps[i], dest) < 0)
			rc = mg_error_sys(err, MG_EIO, errno, "cannot rename '%s' to '%s'", tmps[i], dest);
		free(dest);
		if (rc)
			goto done;
		free(tmps[i]);
		tmps[i] = NULL;
	}
done:
	for (size_t i = 0; tmps && i < n; i++) {
		if (tmps[i])
			unlink(tmps[i]);
		free(tmps[i]);
	}
	free(tmps);
	free(titles);
	if (!rc && out)
		*out = m;
	else
		mg_manifest_free(m);
	return rc;
}
