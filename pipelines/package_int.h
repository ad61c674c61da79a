/* Shared by package.c, package_json.c and package_verify.c; not public. */
#ifndef MG_PACKAGE_INT_H
#define MG_PACKAGE_INT_H

#include "pipelines/package.h"

/* The largest report.json package reads whole. */
#define PKG_SMALL_MAX ((size_t)256 << 20)

/* What package.c knows when it writes the small entries. */
typedef struct pkg_meta {
	const mg_package_opts *opts;
	const mg_report *report;
	const char *artifact_digest;
	const char *digest_method; /* "oci-manifest", "file-sha256", "folder-v1" */
	const mg_bundle_entry *models; /* files/..., sorted */
	size_t nmodels;
} pkg_meta;

/* The in-toto Statement, canonical JSON. */
int pkg_provenance_json(mg_buf *out, const pkg_meta *m, mg_error *err);
/* manifest.json, canonical JSON; extra lists the small entries that follow
 * it (provenance, report) with their digests, in bundle order. */
int pkg_manifest_json(mg_buf *out, const pkg_meta *m, const mg_bundle_entry *extra,
		      size_t nextra, mg_error *err);
/* manifest.json.sig */
int pkg_sig_json(mg_buf *out, const char *key_id, const char *sig_b64, mg_error *err);

/* What verify needs from manifest.json. */
typedef struct pkg_manifest {
	mg_bundle_entry *files;
	size_t nfiles;
	char *reference;
	char *gate_status;
	uint64_t release;
	char artifact_digest[MG_DIGEST_SIZE];
} pkg_manifest;

int pkg_manifest_parse(pkg_manifest *out, const char *json, size_t len, const char *bundle,
		       mg_error *err);
void pkg_manifest_clear(pkg_manifest *m);
/* manifest.json.sig: the key id and base64 signature (caller frees). */
int pkg_sig_parse(const char *json, size_t len, char key_id[MG_DIGEST_SIZE], char **sig_b64,
		  const char *bundle, mg_error *err);

/* 1 when path is a safe relative path: components that mg_name_is_safe, of
 * at most PKG_NAME_MAX bytes, no leading or doubled '/', a trailing '/' only
 * when dir. */
#define PKG_NAME_MAX 255
int pkg_path_is_safe(const char *path, int dir);

#endif
