/* Internal to registry/: the local store's handle and its blob, lock and
 * index helpers (defined in store.c), shared by the files of the store
 * (store.c, store_maint.c, store_writer.c) and by copy.c, which reads the
 * blobs of a store in place and skips those it already has when it copies
 * between the store and registries. */
#ifndef MG_STORE_INT_H
#define MG_STORE_INT_H

#include <jansson.h>

#include "registry.h"

struct mg_store {
	char *root;
	char *blobdir;
	char *index_path;
	int lockfd; /* shared flock while open; -1 on a read-only store */
	mg_progress_fn progress; /* hashing files put into it (mg_store_set_progress) */
	void *progress_ctx;
};

int mg_store__lock(mg_store *s, const char *name, int op, int *fd_out, mg_error *err);
int mg_store__load_index(mg_store *s, json_t **out, mg_error *err);
const char *mg_store__entry_name(json_t *e);
const char *mg_store__entry_digest(json_t *e);
/* Runs fn on index.json's manifests array under the index lock, and saves
 * the index when fn returns 1. */
typedef int (*mg_store__index_edit_fn)(json_t *manifests, void *ctx, mg_error *err);
int mg_store__edit_index(mg_store *s, mg_store__index_edit_fn fn, void *ctx, mg_error *err);
/* 1 when the blob of digest is there with `size` bytes. What a copy into
 * the store checks before skipping a blob (it hashes nothing it skips); a
 * blob of another size is damaged and fetched again. */
int mg_store__has_blob_of_size(const mg_store *s, const char *digest, uint64_t size);
int mg_store__corrupt(mg_error *err, const mg_store *s, const char *want, const char *got);

#endif
