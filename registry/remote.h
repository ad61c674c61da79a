/* registry: OCI registries over the Distribution API (GHCR, GitLab,
 * Harbor, distribution), credentials, and copying artifacts between the
 * local store and registries.
 *
 * Ownership as in registry.h. Nothing here prints: progress goes through
 * the caller's callback. Every byte downloaded is verified against its
 * digest while it streams; bad bytes are never kept. Credentials never
 * appear in error messages.
 *
 * Error codes: MG_ENET when a registry cannot be reached or keeps failing
 * (5xx, 429 after bounded retries, TLS); MG_EINVAL for refused credentials
 * (401/403); MG_ENOTFOUND for an unknown repository, tag or blob;
 * MG_ECORRUPT for bytes that do not match their digest. */
#ifndef MG_REMOTE_H
#define MG_REMOTE_H

#include "net/net.h"
#include "registry.h"

/* ---- credentials ----------------------------------------------------- */

/* Credentials for registry, first found of: MODELGATE_REGISTRY_USER and
 * MODELGATE_REGISTRY_PASSWORD; the CI's own (GitLab: CI_REGISTRY,
 * CI_REGISTRY_USER, CI_REGISTRY_PASSWORD; GitHub: GITHUB_TOKEN for ghcr.io);
 * $DOCKER_CONFIG/config.json (default ~/.docker), in the order of
 * mg_auth_from_docker_config. *user and *password are NULL when there are
 * none (anonymous; also when a credential helper has none). Caller frees.
 * A credential helper that is not on PATH is MG_EINVAL, one that fails
 * MG_ERROR; the error names it and the config file. When from is not
 * NULL it says where credentials came from, for messages ("" when none). */
#define MG_AUTH_FROM_SIZE 512
int mg_auth_lookup(const char *registry, char **user, char **password,
		   char from[MG_AUTH_FROM_SIZE], mg_error *err);
/* Finds registry in the text of a docker config.json, first of: the
 * "credHelpers" entry for the host; the "auths" entry, when it holds
 * credentials ("auth", or "username" and "password"); the "credsStore".
 * 0 and the decoded credentials of "auths"; or 0, *user NULL and in
 * *helper the NAME of the helper docker-credential-NAME to ask (caller
 * frees); MG_ENOTFOUND when it has nothing for registry. With helper NULL
 * only "auths" counts. */
int mg_auth_from_docker_config(const char *json, size_t len, const char *registry,
			       char **user, char **password, char **helper, mg_error *err);
/* Asks the docker credential helper docker-credential-NAME (found on
 * PATH) for registry's credentials: `get`, the host on its standard
 * input. 0 and them; MG_ENOTFOUND when it has none ("credentials not
 * found", or an empty answer); MG_EINVAL when it is not on PATH or holds
 * an identity token; MG_ERROR when it fails or answers nonsense. */
int mg_auth_helper_get(const char *helper, const char *registry, char **user, char **password,
		       mg_error *err);
/* Parses a helper's answer to `get` ({"ServerURL", "Username", "Secret"});
 * program and registry are for messages. Errors as mg_auth_helper_get. */
int mg_auth_helper_parse(const char *json, size_t len, const char *program, const char *registry,
			 char **user, char **password, mg_error *err);
/* The docker config.json path: $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json. */
int mg_auth_config_path(mg_buf *out, mg_error *err);
/* Records credentials for registry in the docker config.json (base64
 * "auth"), keeping everything else in it; atomically, mode 0600. It writes
 * "auths" also where a "credsStore" or "credHelpers" is configured (it
 * does not talk to helpers); lookups find it before the credsStore. */
int mg_auth_store(const char *registry, const char *user, const char *password, mg_error *err);
/* base64 (RFC 4648, padded); caller frees. */
char *mg_base64_encode(const void *data, size_t len, mg_error *err);
/* Decodes base64 into out (appending); MG_EINVAL when malformed. */
int mg_base64_decode(mg_buf *out, const char *s, mg_error *err);

/* 1 when registry ("host:port") is listed in MODELGATE_INSECURE_REGISTRIES
 * (comma or space separated): the per-registry setting for plain HTTP or
 * an unverified certificate, as --insecure is per command. */
int mg_registry_listed_insecure(const char *registry);

/* ---- a registry ------------------------------------------------------ */

typedef struct mg_remote mg_remote;

/* Connects to registry ("host[:port]"), with credentials from
 * mg_auth_lookup (or user/password when given), checking /v2/. */
int mg_remote_open(mg_remote **out, const char *registry, const mg_remote_opts *o,
		   const char *user, const char *password, mg_error *err);
void mg_remote_free(mg_remote *r);
/* Checks that the registry accepts the credentials r was opened with (a
 * login): MG_EINVAL when it refuses them. */
int mg_remote_check_login(mg_remote *r, mg_error *err);
const char *mg_remote_name(const mg_remote *r);

/* The manifest ref names (by tag or digest), verified against its digest;
 * bytes appended to out, its media type to media_type (may be NULL). */
int mg_remote_get_manifest(mg_remote *r, const mg_ref *ref, mg_buf *out,
			   char digest[MG_DIGEST_SIZE], char media_type[256], mg_error *err);
/* The digest tag points at, from a HEAD of its manifest (no body moves):
 * MG_ENOTFOUND when there is no such tag. */
int mg_remote_head_manifest(mg_remote *r, const char *repo, const char *tag,
			    char digest[MG_DIGEST_SIZE], mg_error *err);
/* Stores a manifest under tag (or under its digest when tag is NULL). */
int mg_remote_put_manifest(mg_remote *r, const char *repo, const char *tag, const void *data,
			   size_t len, const char *media_type, mg_error *err);
/* The OCI Referrers API: an image index of the manifests whose subject is
 * digest (only those of artifact_type when not NULL), appended to out.
 * MG_ENOTFOUND when the registry has no Referrers API (404): then use the
 * fallback tag sha256-<hex>. */
int mg_remote_get_referrers(mg_remote *r, const char *repo, const char *digest,
			    const char *artifact_type, mg_buf *out, mg_error *err);
/* Deletes what ref names: a tag, or a manifest (all its tags) by digest. */
int mg_remote_delete(mg_remote *r, const mg_ref *ref, mg_error *err);
/* The tags of repo, sorted (free with mg_remote_list_free). Paged lists
 * are followed to their end: the Link rel="next" of each answer (on the
 * registry's own host only), else, after a full page, the next page from
 * the last entry (?last=); at most MG_LIST_MAX_PAGES pages. Each entry is
 * listed once; a Link back to a page asked for before, or a page with
 * nothing new and a Link, stops the walk (MG_ENET, naming the link). */
int mg_remote_list_tags(mg_remote *r, const char *repo, char ***tags, size_t *n, mg_error *err);
/* The repositories of the registry (its catalog), sorted, paged as the
 * tags are; MG_EINVAL or MG_ENOTFOUND when the registry does not offer its
 * catalog (401, 403, 404). */
int mg_remote_list_repositories(mg_remote *r, char ***repos, size_t *n, mg_error *err);
/* Frees the n names of a list and the list (NULL is fine). */
void mg_remote_list_free(char **names, size_t n);
#define MG_LIST_MAX_PAGES 10000

/* Blobs. *has is 1 when repo has the blob of size bytes: an answer that
 * gives it another size is taken as not having it (a digest has one size;
 * a registry saying otherwise is not trusted to hold the bytes). */
int mg_remote_has_blob(mg_remote *r, const char *repo, const char *digest, uint64_t size,
		       int *has, mg_error *err);
/* Mounts a blob from another repository of the same registry; *mounted is
 * 0 when the registry declined (then upload it). */
int mg_remote_mount_blob(mg_remote *r, const char *repo, const char *from, const char *digest,
			 int *mounted, mg_error *err);
/* Uploads size bytes of fd from its start. With digest NULL, the bytes are
 * hashed while they are sent and the digest goes to digest_out. Large blobs
 * go in chunks; an interrupted upload resumes where the registry says it
 * stopped. */
int mg_remote_push_blob_fd(mg_remote *r, const char *repo, int fd, uint64_t size,
			   const char *digest, char digest_out[MG_DIGEST_SIZE], const char *what,
			   mg_error *err);
/* Gives the digest of bytes being hashed elsewhere: 1 and the digest when
 * it is known, 0 when not yet (wait = 0; with wait = 1 it blocks until it
 * is), or an error. */
typedef int (*mg_digest_poll_fn)(void *ctx, int wait, char digest[MG_DIGEST_SIZE],
				 mg_error *err);
/* Uploads size bytes of fd while another thread hashes them, so a large
 * file costs no hashing pass before it goes: in chunks (small ones first),
 * and once poll gives the digest the registry is asked whether it has the
 * blob; if it has, the upload is cancelled and *existed is 1. */
int mg_remote_push_blob_fd_racing(mg_remote *r, const char *repo, int fd, uint64_t size,
				  mg_digest_poll_fn poll, void *ctx, char digest_out[MG_DIGEST_SIZE],
				  int *existed, const char *what, mg_error *err);
int mg_remote_push_blob_bytes(mg_remote *r, const char *repo, const void *data, size_t len,
			      char digest_out[MG_DIGEST_SIZE], mg_error *err);
/* A small blob (at most max bytes), verified. */
int mg_remote_read_blob(mg_remote *r, const char *repo, const char *digest, size_t max,
			mg_buf *out, mg_error *err);

/* A place a downloaded blob goes to: bytes are hashed on the way and kept
 * only when they match digest (see mg_vfile_*). */
typedef struct mg_vfile mg_vfile;
/* Opens a verified file: bytes go to a temporary file in dir, which
 * commit renames to dest when they hash to digest and number size. */
int mg_vfile_open(mg_vfile **out, const char *dir, const char *dest, const char *digest,
		  uint64_t size, mg_error *err);
/* A verified file whose destination is the store's blob for digest. */
int mg_store_blob_writer(mg_vfile **out, mg_store *s, const char *digest, uint64_t size,
			 mg_error *err);
int mg_vfile_write(mg_vfile *f, const void *data, size_t len, mg_error *err);
/* Writes out what is pending and checks size and digest; on a mismatch
 * the error names both digests (and free removes the bytes). */
int mg_vfile_verify(mg_vfile *f, mg_error *err);
/* Verifies, then renames into place. */
int mg_vfile_commit(mg_vfile *f, mg_error *err);
/* Removes the temporary file (unless committed) and frees f. */
void mg_vfile_free(mg_vfile *f);

/* Downloads n blobs of repo into the verified files, in order, at most
 * the parallel option at once, and commits them only when every one is
 * verified. Each file is verified as its download ends, so only the
 * downloads in progress hold a descriptor, a thread and buffers. */
int mg_remote_fetch_blobs(mg_remote *r, const char *repo, const mg_desc *descs, size_t n,
			  mg_vfile *const *files, mg_error *err);

/* Downloads the blob d of repo to dest through partial, a file that
 * survives the process: what partial holds already (from a download that
 * was cut off, even by a kill) is hashed again and only the rest is asked
 * for (Range). dest appears, by rename, only when every byte is there and
 * hashes to d's digest; bytes that do not are removed (MG_ECORRUPT). */
int mg_remote_fetch_blob_resumable(mg_remote *r, const char *repo, const mg_desc *d,
				   const char *partial, const char *dest, mg_error *err);

/* ---- artifacts on a registry ---------------------------------------- */

/* As mg_push_local, to ref on r: each file is uploaded unless the registry
 * has it already (files_existed counts those). */
int mg_push_remote(mg_remote *r, const mg_ref *ref, const char *const *files, size_t nfiles,
		   const mg_push_opts *opts, mg_push_result *res, mg_error *err);
/* As mg_pull_local, from ref on r. */
int mg_pull_remote(mg_remote *r, const mg_ref *ref, const char *dir, const mg_pull_opts *opts,
		   mg_manifest **out,
		   char digest[MG_DIGEST_SIZE], mg_error *err);

#endif
