/* Sources (source.h): paths taken as they are, references read from the
 * store where their blobs lie, registry references fetched into the store
 * once. The folder of links an artifact gets is named after its manifest
 * digest, made under a temporary name and renamed into place, so that two
 * commands reading the same artifact at once share one; a folder whose
 * links no longer resolve (gc removed the blobs, the store moved) is made
 * again. */
#include "source.h"
#include "artifact_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mg_source_close(mg_source *s)
{
	free(s->spec);
	free(s->path);
	free(s->model);
	mg_manifest_free(s->manifest);
	if (s->tmpdir)
		mg_remove_tree(s->tmpdir);
	free(s->tmpdir);
	memset(s, 0, sizeof(*s));
}

static int looks_like_path(const char *spec)
{
	const char *dot = strrchr(spec, '.');
	return spec[0] == '/' || !strncmp(spec, "./", 2) || !strncmp(spec, "../", 3) ||
	       (dot && !strchr(dot, '/') && (!strcmp(dot, ".onnx") || !strcmp(dot, ".npy")));
}

/* A path: a file gets its sha256 (through the digest cache). */
static int open_path(mg_source *s, const char *path, mg_error *err)
{
	if (!(s->path = mg_strdup(path, err)))
		return MG_ENOMEM;
	struct stat st;
	if (stat(path, &st) < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EINVAL, errno,
				    "cannot read '%s'", path);
	if (!S_ISREG(st.st_mode))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, MG_EINVAL, errno, "cannot read '%s'", path);
	int cached;
	uint64_t size;
	int rc = mg_file_digest(fd, path, s->digest, &size, &cached, err);
	close(fd);
	return rc;
}

/* The blob of layer l, where it lies, checked against its digest and size. */
static int check_blob(mg_store *store, const mg_desc *l, const char *spec, mg_buf *path,
		      mg_error *err)
{
	int rc = mg_store_blob_path(path, store, l->digest, err);
	if (rc)
		return rc;
	int fd = open(path->data, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ECORRUPT : MG_EIO, errno,
				    "'%s': cannot read its file '%s' (blob %s)", spec, l->title, l->digest);
	char got[MG_DIGEST_SIZE];
	uint64_t size = 0;
	int cached;
	rc = mg_file_digest(fd, path->data, got, &size, &cached, err);
	if (!rc && (strcmp(got, l->digest) || size != l->size)) {
		mg_file_digest_forget(fd);
		rc = mg_error_set(err, MG_ECORRUPT,
				  "'%s': its file '%s' is corrupt in the store (blob %s hashes to %s); "
				  "'modelgate fsck --repair' removes it",
				  spec, l->title, l->digest, got);
	}
	close(fd);
	return rc;
}

/* The link folder dir holds a working link for every layer. */
static int links_complete(const char *dir, const mg_manifest *m)
{
	for (size_t i = 0; i < m->nlayers; i++) {
		char *p = mg_path_join(dir, m->layers[i].title, NULL);
		struct stat st;
		int ok = p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == m->layers[i].size;
		free(p);
		if (!ok)
			return 0;
	}
	return 1;
}

/* Fills the new folder dir with a link per layer, to its blob's absolute
 * path. */
static int make_links(mg_store *store, const mg_manifest *m, const char *dir, mg_error *err)
{
	mg_buf blob = MG_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; !rc && i < m->nlayers; i++) {
		char *link = mg_path_join(dir, m->layers[i].title, err);
		char *target = NULL;
		rc = link ? mg_store_blob_path(&blob, store, m->layers[i].digest, err) : MG_ENOMEM;
		if (!rc && !(target = realpath(blob.data, NULL)))
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", blob.data);
		if (!rc && symlink(target, link) < 0)
			rc = mg_error_sys(err, MG_EIO, errno, "cannot create '%s'", link);
		free(target);
		free(link);
	}
	mg_buf_free(&blob);
	return rc;
}

/* s->path: the artifact's folder of links, in the store (shared, kept) or,
 * when the store cannot be written, in a temporary folder (removed on
 * close). */
static int link_folder(mg_source *s, mg_store *store, mg_error *err)
{
	mg_buf dir = MG_BUF_INIT, tmp = MG_BUF_INIT;
	int rc = mg_buf_printf(&dir, err, "%s/links", mg_store_root(store));
	int in_store = !rc && !mg_mkdirs(dir.data, NULL) && access(dir.data, W_OK) == 0;
	if (!rc)
		rc = mg_buf_printf(&dir, err, "/%s", mg_digest_hex(s->digest));
	if (!rc && links_complete(dir.data, s->manifest)) {
		s->path = mg_buf_detach(&dir);
		return 0;
	}
	if (!rc)
		rc = in_store ? mg_buf_printf(&tmp, err, "%s/links/.tmp-XXXXXX", mg_store_root(store))
			      : mg_buf_printf(&tmp, err, "/tmp/modelgate-links.XXXXXX");
	if (!rc && !mkdtemp(tmp.data))
		rc = mg_error_sys(err, MG_EIO, errno, "cannot create a folder for '%s'", s->spec);
	else if (!rc && !(rc = make_links(store, s->manifest, tmp.data, err)) && in_store) {
		/* replace a broken folder; a complete one made meanwhile wins */
		if (!links_complete(dir.data, s->manifest))
			mg_remove_tree(dir.data);
		if (rename(tmp.data, dir.data) < 0 && !links_complete(dir.data, s->manifest))
			rc = mg_error_sys(err, MG_EIO, errno, "cannot rename '%s' to '%s'", tmp.data, dir.data);
	}
	if (!rc && in_store) {
		s->path = mg_buf_detach(&dir);
	} else if (!rc) {
		s->path = mg_buf_detach(&tmp);
		rc = (s->tmpdir = mg_strdup(s->path, err)) ? 0 : MG_ENOMEM;
	}
	if (tmp.data && !strstr(tmp.data, "XXXXXX"))
		mg_remove_tree(tmp.data);
	mg_buf_free(&dir);
	mg_buf_free(&tmp);
	return rc;
}

static int open_ref(mg_source *s, const mg_ref *ref, const mg_source_opts *o, mg_error *err)
{
	/* the store, to read from or to fetch into: a registry's artifact is
	 * read from the store by digest once it is there */
	mg_ref local = {.repo = ref->repo, .tag = ref->tag, .digest = ref->digest};
	mg_repo store, remote = {0};
	mg_copy_result res;
	int rc = mg_repo_open(&store, &local, &o->repo, err);
	if (rc)
		return rc;
	if (ref->registry && !(rc = mg_repo_open(&remote, ref, &o->repo, err)) &&
	    !(rc = mg_copy_untagged(&remote, ref, store.store, &res, err)))
		local.digest = res.digest;
	mg_repo_close(&remote);
	if (!rc)
		rc = mg_store_get_manifest(store.store, &local, &s->manifest, s->digest, err);
	s->is_ref = 1;
	const char **titles = NULL;
	if (!rc)
		rc = mg_artifact__pull_titles(s->manifest, NULL, s->spec, NULL, &titles, err);
	free(titles);
	mg_buf path = MG_BUF_INIT;
	for (size_t i = 0; !rc && i < s->manifest->nlayers; i++)
		rc = check_blob(store.store, &s->manifest->layers[i], s->spec, &path, err);
	mg_buf_free(&path);
	if (!rc)
		rc = link_folder(s, store.store, err);
	mg_repo_close(&store);
	return rc;
}

int mg_source_open(mg_source *out, const char *spec, const mg_source_opts *o, mg_error *err)
{
	static const mg_source_opts defaults = MG_SOURCE_OPTS_INIT;
	if (!o)
		o = &defaults;
	memset(out, 0, sizeof(*out));
	int rc;
	char *path = spec[0] == '/' || !o->base || !strcmp(o->base, ".") ? mg_strdup(spec, err)
									 : mg_path_join(o->base, spec, err);
	if (!path || !(out->spec = mg_strdup(spec, err))) {
		free(path);
		return MG_ENOMEM;
	}
	struct stat st;
	if (stat(path, &st) == 0 || looks_like_path(spec)) {
		rc = open_path(out, path, err);
	} else {
		mg_ref *ref = NULL;
		mg_error perr = {0};
		if (mg_ref_parse(&ref, spec, &perr))
			rc = mg_error_set(err, MG_EINVAL, "'%s' is neither a file nor a reference (%s)", spec,
					  perr.msg);
		else
			rc = open_ref(out, ref, o, err);
		mg_ref_free(ref);
	}
	free(path);
	if (rc)
		mg_source_close(out);
	return rc;
}

static int is_model_title(const char *t)
{
	size_t n = strlen(t);
	return n > 5 && !strcmp(t + n - 5, ".onnx");
}

int mg_source_model(mg_source *s, mg_error *err)
{
	if (s->model)
		return 0;
	if (!s->is_ref) {
		s->model = mg_strdup(s->path, err);
		return s->model ? 0 : MG_ENOMEM;
	}
	const mg_manifest *m = s->manifest;
	const char *pick = NULL;
	size_t n = 0;
	for (size_t i = 0; i < m->nlayers; i++)
		if (is_model_title(m->layers[i].title)) {
			pick = m->layers[i].title;
			n++;
		}
	if (!n && m->nlayers == 1)
		pick = m->layers[0].title;
	else if (n != 1)
		return mg_error_set(err, MG_EINVAL, "'%s' has %s .onnx file among its %zu files: cannot tell "
				    "which is the model", s->spec, n ? "more than one" : "no", m->nlayers);
	s->model = mg_path_join(s->path, pick, err);
	return s->model ? 0 : MG_ENOMEM;
}
