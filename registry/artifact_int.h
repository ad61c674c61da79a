/* Internal to registry/: how files become an artifact, shared by pushes to
 * the local store (artifact.c) and to a registry (remote_artifact.c). */
#ifndef MG_ARTIFACT_INT_H
#define MG_ARTIFACT_INT_H

#include "registry.h"

/* Where the blobs of an artifact go. put_file stores a file and fills
 * layer->digest and layer->size (*existed: it was there already). */
typedef struct mg_artifact_sink {
	int (*put_file)(void *ctx, const char *path, const char *title, mg_desc *layer,
			int *existed, mg_error *err);
	int (*put_bytes)(void *ctx, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
			 mg_error *err);
	void *ctx;
} mg_artifact_sink;

/* Checks the files, stores each and the config through sink, and writes
 * the manifest to json (not stored); res->digest and res->size name it. */
int mg_artifact__build(const char *const *files, size_t nfiles, const mg_push_opts *opts,
		       const mg_artifact_sink *sink, mg_buf *json, mg_push_result *res,
		       mg_error *err);
/* Every name is a safe single path component, and no two are equal. */
int mg_artifact__check_titles(const char *const *names, size_t n, const char *what,
			      mg_error *err);
/* Where a pull goes: the layer titles of m (borrowed from m; caller frees
 * the array), checked as above, and dir created (unless NULL); a file of
 * dir under a title that holds other bytes refused unless opts->force
 * (opts may be NULL), and opts->unchanged filled. */
int mg_artifact__pull_titles(const mg_manifest *m, const char *dir, const char *what,
			     const mg_pull_opts *opts, const char ***out, mg_error *err);

#endif
