/* Sources: a model or a dataset as a user names it (a file or folder path,
 * a local store reference, a registry reference), made into files on this
 * machine the same way for every command that reads one (run, gate,
 * package).
 *
 * Nothing is copied. A store reference is read where its blobs lie (they
 * are immutable; each is checked against its digest, through the digest
 * cache for large ones). A registry reference is fetched into the store
 * once, by digest and without a tag (a cache that gc clears): the second
 * use of the same reference asks the registry which digest its tag names
 * and transfers nothing else. The files of an artifact appear under their
 * titles in a folder of links to the blobs (in the store's links/ folder,
 * or in a temporary folder when the store is read-only), because engines
 * and readers go by file names. */
#ifndef MG_SOURCE_H
#define MG_SOURCE_H

#include "repo.h"

typedef struct mg_source_opts {
	const char *base;  /* relative paths start here; NULL: the working folder */
	mg_repo_opts repo; /* how the store and registries are reached */
} mg_source_opts;
#define MG_SOURCE_OPTS_INIT {NULL, MG_REPO_OPTS_INIT}

typedef struct mg_source {
	char *spec;                  /* as given */
	char *path;                  /* the path (a file or a folder), or the artifact's folder */
	char digest[MG_DIGEST_SIZE]; /* the manifest's, the file's sha256, or "" for a folder */
	mg_manifest *manifest;       /* references only */
	int is_ref;
	char *model;                 /* set by mg_source_model */
	/* private */
	char *tmpdir; /* a link folder outside a read-only store */
} mg_source;

/* Opens spec: an existing path (or one that looks like a path: absolute,
 * ./, or ending in .onnx or .npy) is taken as it is; anything else must be
 * a reference. */
int mg_source_open(mg_source *out, const char *spec, const mg_source_opts *o, mg_error *err);
/* Sets s->model, the model file of a source: a file path itself,
 * or the one .onnx file of an artifact (its only file when it has no .onnx
 * file); an artifact of several .onnx files, or of several files none of
 * them .onnx, is an error naming the choice. */
int mg_source_model(mg_source *s, mg_error *err);
void mg_source_close(mg_source *s);

#endif
