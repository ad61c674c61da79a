/* Resolving what a modelgate.json names into files on this machine: a
 * model or dataset given as a path, a local store reference or a registry
 * reference. References are pulled (verified) into a private temporary
 * folder that mg_resolved_clear removes; every artifact gets a digest for
 * the report (the manifest's for references, the file's sha256 for paths). */
#include "registry/remote.h"
#include "validator_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mg_resolved_clear(mg_resolved *r)
{
	free(r->path);
	free(r->digest);
	free(r->spec);
	if (r->tmpdir)
		mg_remove_tree(r->tmpdir);
	free(r->tmpdir);
	memset(r, 0, sizeof(*r));
}

/* "dir/spec" for a relative path, the spec itself otherwise. */
static char *relative_to(const char *dir, const char *spec, mg_error *err)
{
	if (spec[0] == '/' || !dir || !strcmp(dir, "."))
		return mg_strdup(spec, err);
	return mg_path_join(dir, spec, err);
}

static int file_digest(const char *path, char digest[MG_DIGEST_SIZE], mg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EINVAL, errno,
				    "cannot read '%s'", path);
	int rc = mg_copy_hash(fd, path, -1, NULL, digest, NULL, err);
	close(fd);
	return rc;
}

/* Pulls ref (local store or registry) into a new temporary folder. */
static int pull_ref(mg_resolved *r, const mg_ref *ref, mg_manifest **m, mg_error *err)
{
	char tmpl[] = "/tmp/modelgate-gate.XXXXXX";
	if (!mkdtemp(tmpl))
		return mg_error_sys(err, MG_EIO, errno, "cannot create a temporary folder");
	if (!(r->tmpdir = mg_strdup(tmpl, err)))
		return MG_ENOMEM;
	char digest[MG_DIGEST_SIZE];
	int rc;
	if (ref->registry) {
		mg_remote *remote = NULL;
		mg_remote_opts o = MG_REMOTE_OPTS_INIT;
		o.insecure = mg_registry_listed_insecure(ref->registry);
		rc = mg_remote_open(&remote, ref->registry, &o, NULL, NULL, err);
		if (!rc)
			rc = mg_pull_remote(remote, ref, r->tmpdir, m, digest, err);
		mg_remote_free(remote);
	} else {
		mg_store *store = NULL;
		mg_buf root = MG_BUF_INIT;
		rc = mg_store_default_root(&root, err);
		if (!rc)
			rc = mg_store_open(&store, root.data, err);
		if (!rc)
			rc = mg_pull_local(store, ref, r->tmpdir, m, digest, err);
		mg_store_free(store);
		mg_buf_free(&root);
	}
	if (!rc && !(r->digest = mg_strdup(digest, err)))
		rc = MG_ENOMEM;
	return rc;
}

static int looks_like_path(const char *spec)
{
	const char *dot = strrchr(spec, '.');
	return spec[0] == '/' || spec[0] == '.' || (dot && (!strcmp(dot, ".onnx") || !strcmp(dot, ".npy")));
}

int mg_resolve(mg_resolved *out, const char *spec, const char *dir, int want_model, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = 0;
	char *path = relative_to(dir, spec, err);
	if (!path || !(out->spec = mg_strdup(spec, err))) {
		free(path);
		return MG_ENOMEM;
	}
	struct stat st;
	if (stat(path, &st) == 0 || looks_like_path(spec)) {
		out->path = path;
		if (stat(path, &st) < 0)
			rc = mg_error_sys(err, MG_EINVAL, errno, "cannot read '%s'", path);
		else if (S_ISREG(st.st_mode)) {
			char digest[MG_DIGEST_SIZE];
			if (!(rc = file_digest(path, digest, err)) && !(out->digest = mg_strdup(digest, err)))
				rc = MG_ENOMEM;
		}
		goto done;
	}
	free(path);
	mg_ref *ref = NULL;
	mg_manifest *m = NULL;
	mg_error perr = {0};
	if ((rc = mg_ref_parse(&ref, spec, &perr))) {
		rc = mg_error_set(err, MG_EINVAL, "'%s' is neither a file nor a reference (%s)", spec,
				  perr.msg);
		goto done;
	}
	rc = pull_ref(out, ref, &m, err);
	mg_ref_free(ref);
	if (rc)
		goto done;
	/* a model: the .onnx layer (or the only one); a dataset: the folder */
	const char *pick = NULL;
	for (size_t i = 0; want_model && i < m->nlayers && !pick; i++) {
		const char *dot = strrchr(m->layers[i].title, '.');
		if (dot && !strcmp(dot, ".onnx"))
			pick = m->layers[i].title;
	}
	if (want_model && !pick && m->nlayers == 1)
		pick = m->layers[0].title;
	if (want_model && !pick)
		rc = mg_error_set(err, MG_EINVAL, "'%s' has no .onnx file among its %zu files", spec, m->nlayers);
	else if (!(out->path = pick ? mg_path_join(out->tmpdir, pick, err) : mg_strdup(out->tmpdir, err)))
		rc = MG_ENOMEM;
	mg_manifest_free(m);
done:
	if (rc)
		mg_resolved_clear(out);
	return rc;
}
