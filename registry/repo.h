/* Repositories: the one handle on "a repository somewhere", in the local
 * store or in a registry, that commands and pipelines work through without
 * asking which. Each operation below is written once for both places;
 * nothing above registry/ branches on whether a repository is remote.
 *
 * A handle opens its registry through the caller's opener (so the command's
 * TLS options and progress apply) and the store at its default root unless
 * the caller passes one; what it opened it closes. */
#ifndef MG_REPO_H
#define MG_REPO_H

#include "remote.h"

/* Opens a registry connection with the caller's options (TLS, progress). */
typedef int (*mg_remote_opener)(void *ctx, const char *registry, mg_remote **out, mg_error *err);

typedef struct mg_repo_opts {
	mg_store *store;              /* the local store; NULL: opened at its default root */
	mg_remote_opener open_remote; /* NULL: mg_remote_open, MODELGATE_INSECURE_REGISTRIES */
	void *ctx;                    /* for open_remote, and progress */
	mg_progress_fn progress;      /* hashing into a store opened here; NULL: none */
} mg_repo_opts;
#define MG_REPO_OPTS_INIT {NULL, NULL, NULL, NULL}

typedef struct mg_repo {
	mg_store *store;   /* the repository lives in the local store ... */
	mg_remote *remote; /* ... or in this registry (then store is NULL) */
	char *name;        /* "team/kws" */
	char label[512];   /* for messages: "host/team/kws" or "team/kws" */
	/* private */
	mg_store *own_store;
	mg_remote *own_remote;
} mg_repo;

/* Opens the repository of ref. */
int mg_repo_open(mg_repo *out, const mg_ref *ref, const mg_repo_opts *o, mg_error *err);
/* As mg_repo_open, sharing near's store or registry connection when ref
 * is in the same place (a copy within one registry mounts blobs). */
int mg_repo_open_near(mg_repo *out, const mg_ref *ref, const mg_repo *near, const mg_repo_opts *o,
		      mg_error *err);
void mg_repo_close(mg_repo *r);

/* The manifest with this digest, or (digest NULL) the one tag names, verified;
 * its digest to got and its media type to media_type (each may be NULL). */
int mg_repo_get_manifest(const mg_repo *r, const char *tag, const char *digest, mg_buf *out,
			 char got[MG_DIGEST_SIZE], char media_type[256], mg_error *err);
/* The manifest digest tag points at: MG_ENOTFOUND when there is no tag. */
int mg_repo_resolve(const mg_repo *r, const char *tag, char digest[MG_DIGEST_SIZE], mg_error *err);
/* As mg_repo_resolve, asking a registry with a HEAD only: the cheap
 * question a poll asks (its answer is checked when the manifest is read). */
int mg_repo_head(const mg_repo *r, const char *tag, char digest[MG_DIGEST_SIZE], mg_error *err);
/* The manifest digest ref names in r: its digest (checked to be there),
 * or what its tag points at. */
int mg_repo_digest_of(const mg_repo *r, const mg_ref *ref, char digest[MG_DIGEST_SIZE], mg_error *err);
/* Points tag at the stored manifest digest. */
int mg_repo_set_tag(const mg_repo *r, const char *tag, const char *digest, mg_error *err);
int mg_repo_put_blob(const mg_repo *r, const void *data, size_t len, char digest[MG_DIGEST_SIZE],
		     mg_error *err);
int mg_repo_read_blob(const mg_repo *r, const char *digest, size_t max, mg_buf *out, mg_error *err);
/* The OCI 1.1 fallback tag of subject's referrers: "sha256-<hex>". */
#define MG_REFERRERS_TAG_SIZE 80
void mg_referrers_tag(char out[MG_REFERRERS_TAG_SIZE], const char *subject);
/* The referrers index of subject (OCI 1.1): a registry's referrers API,
 * else the fallback tag "sha256-<hex>"; MG_ENOTFOUND when there is neither. */
int mg_repo_get_referrers(const mg_repo *r, const char *subject, mg_buf *out, mg_error *err);
/* Stores a manifest (or index) of media_type, tagged when tag is set. */
int mg_repo_put_manifest(const mg_repo *r, const char *tag, const void *data, size_t len,
			 const char *media_type, char digest[MG_DIGEST_SIZE], mg_error *err);

/* The artifact commands: push files as ref, pull ref's files into dir (as
 * mg_push_local / mg_pull_local say), remove ref's tag (or every tag of
 * its digest; *removed counts them). */
int mg_repo_push(const mg_repo *r, const mg_ref *ref, const char *const *files, size_t nfiles,
		 const mg_push_opts *opts, mg_push_result *res, mg_error *err);
int mg_repo_pull(const mg_repo *r, const mg_ref *ref, const char *dir, const mg_pull_opts *opts,
		 mg_manifest **out,
		 char digest[MG_DIGEST_SIZE], mg_error *err);
int mg_repo_remove(const mg_repo *r, const mg_ref *ref, size_t *removed, mg_error *err);
/* The tags of r (free with mg_remote_list_free): a registry's tag list,
 * or the store's names in r, in the store's order. */
int mg_repo_list_tags(const mg_repo *r, char ***tags, size_t *n, mg_error *err);

/* ---- copy ------------------------------------------------------------ */

typedef struct mg_copy_result {
	char digest[MG_DIGEST_SIZE];
	size_t blobs_copied;  /* sent or downloaded */
	size_t blobs_mounted; /* mounted from the source repository */
	size_t blobs_skipped; /* the destination had them */
	uint64_t bytes_copied;
} mg_copy_result;

/* Copies the artifact sref names in src to dref in dst (a tag, or by
 * digest), moving only blobs dst lacks. Into the local store the tag moves
 * last, after every blob is verified and stored: an interrupted copy moves
 * no tag. */
int mg_copy(const mg_repo *src, const mg_ref *sref, const mg_repo *dst, const mg_ref *dref,
	    mg_copy_result *res, mg_error *err);
/* Copies the artifact sref names into the store without a tag: its blobs
 * and its manifest, under their digests (a cache that commands read by
 * digest; gc clears it). res->digest is the manifest's. */
int mg_copy_untagged(const mg_repo *src, const mg_ref *sref, mg_store *store, mg_copy_result *res,
		     mg_error *err);

#endif
