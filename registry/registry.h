/* registry: where model versions live. References, the OCI artifact
 * (manifest) format, and the local store: an OCI image layout on disk.
 *
 * Ownership: every mg_x_new/parse/open gives the caller an object to release
 * with mg_x_free (which accepts NULL). Getters return borrowed pointers valid
 * while the parent lives. Every blob read from a store is verified against
 * its digest before it is handed out. */
#ifndef MG_REGISTRY_H
#define MG_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "util/util.h"

#define MG_MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MG_MEDIA_INDEX "application/vnd.oci.image.index.v1+json"
#define MG_MEDIA_CONFIG "application/vnd.modelgate.config.v1+json"
#define MG_ARTIFACT_MODEL "application/vnd.modelgate.model.v1"
#define MG_ARTIFACT_DATASET "application/vnd.modelgate.dataset.v1"
/* a signed bundle (pipelines/package.h) as one layer: a fleet release */
#define MG_ARTIFACT_BUNDLE "application/vnd.modelgate.bundle.v1"
#define MG_ANNOT_TITLE "org.opencontainers.image.title"
#define MG_ANNOT_REF_NAME "org.opencontainers.image.ref.name"
#define MG_ANNOT_CREATED "org.opencontainers.image.created"
#define MG_ANNOT_REVISION "org.opencontainers.image.revision"
#define MG_ANNOT_SOURCE "org.opencontainers.image.source"

/* Manifests and configs are small; anything larger is refused. */
#define MG_MANIFEST_MAX (4u << 20)
/* The most layers (files) an artifact has: a manifest listing more is
 * refused as it is read (MG_EINVAL), and push refuses to make one. Every
 * layer of a pull is a request and a file; this bounds the work a hostile
 * manifest can ask for at a few thousand of each. */
#define MG_MANIFEST_MAX_LAYERS 4096

/* ---- references ------------------------------------------------------ */

/*  kws:v3                      local store, repository kws, tag v3
 *  kws@sha256:<hex>            local store, by digest
 *  localhost:5000/team/kws:v3  a registry (first part has '.' or ':' or is
 *                              "localhost") */
typedef struct mg_ref {
	char *registry;   /* host[:port], NULL for the local store */
	char *repo;       /* lower-case path components */
	char *tag;        /* "latest" when neither tag nor digest was given */
	char *digest;     /* NULL unless "@sha256:..." was given */
	int tag_implicit; /* 1 when tag is the default "latest" */
} mg_ref;

int mg_ref_parse(mg_ref **out, const char *s, mg_error *err);
void mg_ref_free(mg_ref *ref);
/* 1 when s is a valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int mg_tag_valid(const char *s);
/* "repo:tag", the name a local store records in index.json. Caller frees. */
char *mg_ref_store_name(const mg_ref *ref, mg_error *err);
/* "[HOST/]REPO:TAG": ref's repository (where it is) with another tag. */
char *mg_ref_retag(const mg_ref *ref, const char *tag, mg_error *err);
/* 1 when registry ("host[:port]") names this machine's loopback interface
 * by itself: "localhost" (any case), an IPv4 literal in 127.0.0.0/8, or
 * "[::1]"; a name that merely resolves there (127.0.0.1.nip.io) does not
 * count. Such a registry may answer in plain HTTP without --insecure, as
 * docker allows. */
int mg_registry_is_loopback(const char *registry);

/* ---- annotations (ordered key/value list) ---------------------------- */

typedef struct mg_kv {
	char **keys;
	char **vals;
	size_t n;
} mg_kv;

#define MG_KV_INIT {NULL, NULL, 0}
/* Sets key to val, replacing an existing value. */
int mg_kv_set(mg_kv *kv, const char *key, const char *val, mg_error *err);
const char *mg_kv_get(const mg_kv *kv, const char *key);
void mg_kv_clear(mg_kv *kv);

/* ---- the OCI manifest of an artifact --------------------------------- */

typedef struct mg_desc {
	char *media_type;
	char digest[MG_DIGEST_SIZE];
	uint64_t size;
	char *title;      /* org.opencontainers.image.title, or NULL */
} mg_desc;

typedef struct mg_manifest {
	char *media_type;
	char *artifact_type; /* NULL when absent */
	mg_desc config;
	mg_desc *layers;
	size_t nlayers;
	mg_kv annotations;
} mg_manifest;

/* Parses and validates an image manifest; name is for messages. One of
 * more than MG_MANIFEST_MAX_LAYERS layers is MG_EINVAL. */
int mg_manifest_parse(mg_manifest **out, const void *json, size_t len,
		      const char *name, mg_error *err);
/* Serialises canonically (sorted keys, compact): same manifest, same bytes. */
int mg_manifest_write(mg_buf *out, const mg_manifest *m, mg_error *err);
void mg_manifest_free(mg_manifest *m);

/* ---- the local store: an OCI image layout ---------------------------- */

typedef struct mg_store mg_store;

/* $MODELGATE_HOME, else $XDG_DATA_HOME/modelgate, else
 * ~/.local/share/modelgate. */
int mg_store_default_root(mg_buf *out, mg_error *err);

/* Opens the layout at root, creating it when root is missing or an empty
 * folder. A folder that has content but no oci-layout is refused. */
int mg_store_open(mg_store **out, const char *root, mg_error *err);
/* Opens the store at mg_store_default_root. */
int mg_store_open_default(mg_store **out, mg_error *err);
/* The same for a reader (ls, fsck, gc) that should leave no empty store
 * behind: *out is NULL, and 0 returned, when its root does not exist. */
int mg_store_find_default(mg_store **out, mg_error *err);
/* Progress of hashing the files mg_store_put_file takes in (kind
 * MG_PROGRESS_HASH, net/net.h); fn NULL: none. */
void mg_store_set_progress(mg_store *s, mg_progress_fn fn, void *ctx);
void mg_store_free(mg_store *s);
const char *mg_store_root(const mg_store *s);

/* Blobs. */
int mg_store_has_blob(const mg_store *s, const char *digest);
/* Where the blob of digest lies (whether or not it is there): the path
 * every reader of the store uses, so that none builds it itself. */
int mg_store_blob_path(mg_buf *out, const mg_store *s, const char *digest, mg_error *err);
/* Stores a file, reading it once; *existed is 1 when the blob was there
 * already, intact (then nothing new is kept). A blob of that digest whose
 * size or bytes are wrong is replaced, as is one put_bytes finds damaged. */
int mg_store_put_file(mg_store *s, const char *path, char digest[MG_DIGEST_SIZE],
		      uint64_t *size, int *existed, mg_error *err);
int mg_store_put_bytes(mg_store *s, const void *data, size_t len,
		       char digest[MG_DIGEST_SIZE], mg_error *err);
/* Reads a small blob (at most max bytes), verified. */
int mg_store_read_blob(mg_store *s, const char *digest, size_t max, mg_buf *out,
		       mg_error *err);
/* Copies a blob to dest (atomically), verifying it on the way; on a
 * mismatch dest is not created and the error names both digests. */
int mg_store_export_blob(mg_store *s, const char *digest, const char *dest,
			 mg_error *err);
/* Copies a blob into a new temporary file in dir, verified and synced, for
 * the caller to rename into place; *tmp (caller frees) is its path. */
int mg_store_export_tmp(mg_store *s, const char *digest, const char *dir, char **tmp,
			mg_error *err);

/* The index. A "name" is the org.opencontainers.image.ref.name of an entry. */
typedef struct mg_store_entry {
	char *name;
	char digest[MG_DIGEST_SIZE];
	char *media_type;
	char *artifact_type; /* NULL when absent */
	uint64_t size;
} mg_store_entry;

int mg_store_list(mg_store *s, mg_store_entry **out, size_t *n, mg_error *err);
void mg_store_entries_free(mg_store_entry *e, size_t n);
/* Resolves a local reference to a manifest digest. A tag names an index
 * entry ("repo:tag"; an implicit tag also matches a bare "repo" entry, as
 * `skopeo copy ... oci:DIR:NAME` writes); a digest must name a stored blob. */
int mg_store_resolve(mg_store *s, const mg_ref *ref, char digest[MG_DIGEST_SIZE],
		     mg_error *err);
/* Points name at a stored manifest, replacing what name pointed at. */
int mg_store_set_tag(mg_store *s, const char *name, const char *digest,
		     mg_error *err);
/* Removes the index entries ref names: its tag, or with a digest every tag
 * of that repository pointing at it. MG_ENOTFOUND when there is none. */
int mg_store_remove(mg_store *s, const mg_ref *ref, size_t *removed, mg_error *err);

typedef struct mg_gc_stats {
	size_t blobs_removed;
	uint64_t bytes_removed;
	size_t temp_removed;
	size_t blobs_kept;
} mg_gc_stats;

/* Removes every blob no index entry reaches, and stray temporary files.
 * Waits for pushes in progress to end first. */
int mg_store_gc(mg_store *s, mg_gc_stats *stats, mg_error *err);

typedef enum { MG_FSCK_CORRUPT, MG_FSCK_MISSING, MG_FSCK_BADNAME, MG_FSCK_TEMP } mg_fsck_kind;
typedef struct mg_fsck_problem {
	mg_fsck_kind kind;
	const char *digest;  /* the expected digest */
	const char *actual;  /* for CORRUPT: the digest of the bytes found */
	const char *where;   /* who references it, or the file name */
} mg_fsck_problem;
typedef void (*mg_fsck_cb)(const mg_fsck_problem *p, void *ctx);

/* Re-hashes every blob and checks every reference. Calls cb for each
 * problem; *nbad counts corrupt, missing and misnamed blobs (not stray
 * temporary files). */
int mg_store_fsck(mg_store *s, mg_fsck_cb cb, void *ctx, size_t *nchecked,
		  size_t *nbad, mg_error *err);

typedef struct mg_repair_stats {
	size_t blobs_removed; /* corrupt blobs */
	size_t tags_removed;  /* entries whose manifest, or a blob it names, is bad */
} mg_repair_stats;
typedef void (*mg_repair_cb)(const char *what, const char *digest, const char *name,
			     void *ctx);

/* As mg_store_fsck, then removes what cannot be read: the corrupt blobs,
 * and every index entry whose manifest is corrupt or missing or names a
 * config, layer or manifest that is (so pushing or pulling it again
 * restores it). Calls removed(what, digest, name, ctx) for each removal,
 * what being "blob" (name NULL) or "tag" (name NULL for an untagged
 * entry). Holds the store exclusively, as gc does. */
int mg_store_repair(mg_store *s, mg_fsck_cb cb, mg_repair_cb removed, void *ctx,
		    size_t *nchecked, size_t *nbad, mg_repair_stats *stats, mg_error *err);

/* ---- artifacts: push and pull ---------------------------------------- */

typedef struct mg_push_opts {
	int version;
	const char *artifact_type; /* default MG_ARTIFACT_MODEL */
	const mg_kv *annotations;  /* extra manifest annotations */
	int64_t created;           /* seconds since the epoch, for "created" */
	/* NULL, or one per file: its layer's media type (ORAS's FILE:TYPE);
	 * a NULL entry is chosen from the file name */
	const char *const *media_types;
} mg_push_opts;
#define MG_PUSH_OPTS_VERSION 1
#define MG_PUSH_OPTS_INIT {MG_PUSH_OPTS_VERSION, NULL, NULL, 0, NULL}

typedef struct mg_push_result {
	char digest[MG_DIGEST_SIZE];
	uint64_t size;
	size_t files_new;     /* file blobs that were not stored before */
	size_t files_existed; /* file blobs that were already there */
	int model_known;      /* a file is a model formats/ reads (ONNX, TFLite) */
} mg_push_result;

/* Stores files (each under its base name) as one artifact tagged by ref. */
int mg_push_local(mg_store *s, const mg_ref *ref, const char *const *files,
		  size_t nfiles, const mg_push_opts *opts, mg_push_result *res,
		  mg_error *err);

/* Reads and verifies the manifest ref names. */
int mg_store_get_manifest(mg_store *s, const mg_ref *ref, mg_manifest **out,
			  char digest[MG_DIGEST_SIZE], mg_error *err);

typedef struct mg_pull_opts {
	int version;
	int force; /* replace a file of dir that holds other bytes */
	/* NULL, or MG_MANIFEST_MAX_LAYERS flags set for each layer whose file
	 * was in dir with its bytes already (the pull left it unchanged) */
	unsigned char *unchanged;
} mg_pull_opts;
#define MG_PULL_OPTS_VERSION 1
#define MG_PULL_OPTS_INIT {MG_PULL_OPTS_VERSION, 0, NULL}

/* Restores every layer of ref into dir under its title. Refuses unsafe
 * titles, and (unless opts->force) a file of dir under a title that holds
 * other bytes (MG_EEXISTS naming it), before anything is written; verifies
 * every file before any is renamed into place, so a corrupt layer leaves
 * dir as it was. The manifest goes to *out when out is not NULL. opts may
 * be NULL. */
int mg_pull_local(mg_store *s, const mg_ref *ref, const char *dir, const mg_pull_opts *opts,
		  mg_manifest **out, char digest[MG_DIGEST_SIZE], mg_error *err);

#endif
