/* package: reproducible, optionally signed bundles of a model version that
 * passed its gates, and their verification and safe extraction.
 *
 * A bundle is a .tar.gz, .tar.zst or .zip holding, in this (byte) order:
 *
 *   files/NAME...            the model files
 *   manifest.json            every other entry's path, sha256 and size, the
 *                            artifact digest and the gate summary
 *   manifest.json.sig        {"algorithm":"ed25519","keyid":...,"signature":
 *                            base64} over the exact bytes of manifest.json
 *                            (signed bundles only)
 *   provenance.intoto.json   an in-toto Statement v1, SLSA provenance v1
 *   report.json              the gate report, byte for byte
 *   smoke/inputs/NAME...     optional smoke inputs and the outputs the
 *   smoke/expected/NAME...   model must give for them, checked on each
 *                            device after an update (docs/FLEET.md)
 *   smoke/tolerances.json    optional: how near they must be (run_once.h)
 *
 * Same inputs, same bytes: entries sorted, one fixed mtime, uid/gid 0, no
 * user or group names, mode 0644, no gzip timestamp, canonical JSON.
 *
 * The artifact digest is the OCI manifest digest for a store or registry
 * reference; for files given directly (a file, or a folder of files) the
 * file's sha256 when there is one, else the sha256 of the lines
 * "NAME\tsha256:HEX\tSIZE\n" of the files sorted by name (bytewise). A
 * report of a gate run on one of those files (which names that file's
 * sha256) is accepted for them.
 *
 * Ownership as in registry.h: what comes back through out belongs to the
 * caller and is released with its _free. Only package*.c include
 * archive.h; none of this prints. */
#ifndef MG_PACKAGE_H
#define MG_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "pipelines/ci_env.h"
#include "pipelines/pipelines.h"
#include "validator/report.h"

#define MG_BUNDLE_MEDIA_TYPE "application/vnd.modelgate.bundle.manifest.v1+json"
#define MG_BUNDLE_MANIFEST "manifest.json"
#define MG_BUNDLE_SIG "manifest.json.sig"
#define MG_BUNDLE_PROVENANCE "provenance.intoto.json"
#define MG_BUNDLE_REPORT "report.json"
#define MG_BUNDLE_FILES_DIR "files/"
#define MG_BUNDLE_SMOKE_DIR "smoke/"
#define MG_BUNDLE_SMOKE_TOLERANCES "tolerances.json" /* under smoke/ */

typedef enum { MG_BUNDLE_TAR_GZ, MG_BUNDLE_TAR_ZST, MG_BUNDLE_ZIP } mg_bundle_format;

/* The format an output name asks for: .tar.gz/.tgz, .tar.zst/.tzst, .zip;
 * MG_EINVAL naming path otherwise. */
int mg_bundle_format_for(const char *path, mg_bundle_format *out, mg_error *err);

/* May the artifact with this digest ship on this report? 0 when the report
 * passed (every gate that ran passed, at least one ran) and its model_digest
 * is digest; otherwise MG_EINVAL with a message saying which rule failed.
 * The same rule for package and deploy; callers refuse with exit 1. */
int mg_report_check_for(const mg_report *r, const char *digest, mg_error *err);

/* The fixed time of every entry: SOURCE_DATE_EPOCH when set (MG_EINVAL when
 * it is not a non-negative integer), else the commit time of git (may be
 * NULL), else 0. */
int mg_package_mtime(const mg_git_info *git, int64_t *out, mg_error *err);

typedef struct mg_package_file {
	const char *name;   /* its name in the bundle, under files/ (a safe name) */
	const char *path;   /* where its bytes are read from: a regular file, never
			       through a symbolic link (refused, MG_EINVAL) */
	const char *digest; /* the digest they must have, or NULL */
} mg_package_file;

typedef struct mg_package_opts {
	int version;
	const char *reference;       /* as the user named it: REF, FILE or DIR */
	const char *artifact_digest; /* the OCI manifest digest of a reference;
				      * NULL: computed from the files (see above) */
	const char *report_path;     /* report.json (required) */
	const char *sign_key;        /* Ed25519 private key, or NULL: unsigned */
	int64_t mtime;               /* see mg_package_mtime */
	const mg_git_info *git;      /* NULL outside git */
	const mg_ci_env *ci;         /* the CI run, for provenance; NULL: none */
	uint64_t release;            /* the fleet release counter recorded in
				      * manifest.json ("release"); 0: none */
	const mg_package_file *smoke; /* smoke files: name "inputs/NAME",
				       * "expected/NAME" or "tolerances.json"
				       * (checked) under smoke/, read whole */
	size_t nsmoke;
} mg_package_opts;
#define MG_PACKAGE_OPTS_VERSION 1
#define MG_PACKAGE_OPTS_INIT {MG_PACKAGE_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, 0}

typedef struct mg_package_result {
	char artifact_digest[MG_DIGEST_SIZE];
	char manifest_digest[MG_DIGEST_SIZE]; /* sha256 of manifest.json */
	char key_id[MG_DIGEST_SIZE];          /* the signing key, "" unsigned */
	uint64_t bytes;                       /* size of the bundle */
	size_t nfiles;                        /* entries in the bundle */
	int refused; /* the report failed mg_report_check_for (exit 1) */
} mg_package_result;

/* Writes the bundle to out_path (a temporary file in its folder, renamed
 * into place; nothing is left behind on failure). The model files are
 * streamed, never held in memory; a file whose bytes do not match its
 * digest is MG_ECORRUPT. A report that fails mg_report_check_for is
 * MG_EINVAL with the check's message and res->refused set. */
int mg_package_write(const char *out_path, mg_bundle_format fmt, const mg_package_file *files,
		     size_t nfiles, const mg_package_opts *opts, mg_package_result *res,
		     mg_error *err);

/* ---- verify and unpack ------------------------------------------------ */

typedef enum {
	MG_SIG_NONE,      /* the bundle is not signed */
	MG_SIG_UNCHECKED, /* signed, no key given to check it */
	MG_SIG_VALID,
	MG_SIG_INVALID,
} mg_sig_status;

typedef struct mg_bundle_entry {
	char *path;
	char digest[MG_DIGEST_SIZE];
	uint64_t size;
} mg_bundle_entry;

/* What verify and unpack accept (README, "Security"): at most this many
 * entries in a bundle (files and folders) and files listed in its
 * manifest.json; a manifest.json of at most MG_BUNDLE_MANIFEST_MAX bytes and
 * a manifest.json.sig of at most MG_BUNDLE_SIG_MAX; names of at most 255
 * bytes per component (NAME_MAX). Over a limit the bundle is refused
 * (MG_EINVAL) before the rest is read. */
#define MG_BUNDLE_MAX_ENTRIES 16384
#define MG_BUNDLE_MANIFEST_MAX ((size_t)4 << 20)
#define MG_BUNDLE_SIG_MAX ((size_t)64 << 10)
/* Nor does it read more content than MG_BUNDLE_MAX_RATIO bytes for each
 * byte of the bundle plus MG_BUNDLE_SLACK: a compression bomb (zstd makes
 * 128 KiB of zeros from 4 bytes) is refused, MG_EINVAL. Real model files
 * stay far below it (deflate's own maximum, on zeros alone, is about 1032). */
#define MG_BUNDLE_MAX_RATIO 1024
#define MG_BUNDLE_SLACK ((uint64_t)64 << 20)

typedef struct mg_bundle_check {
	int ok;               /* every digest (and the signature, when checked) is right */
	char **problems;      /* one line each, naming the entry or the signature */
	size_t nproblems;
	mg_sig_status sig;
	char key_id[MG_DIGEST_SIZE]; /* the key the bundle says signed it, or "" */
	char artifact_digest[MG_DIGEST_SIZE];
	char *reference;      /* as recorded, or NULL */
	char *gate_status;    /* "pass", ... as recorded, or NULL */
	uint64_t release;     /* the release counter manifest.json records, 0: none */
	mg_bundle_entry *entries; /* every entry read, in archive order */
	size_t nentries;
} mg_bundle_check;

void mg_bundle_check_free(mg_bundle_check *c);

/* Reads the bundle once and checks it: only regular files (not sparse) and
 * folders, safe relative paths, no duplicates, no name that is both a file
 * and a folder (or lies inside a file), no folder that holds no listed
 * file, manifest.json present, every file it lists present with its sha256
 * and size, no file it does not list, and with pub_key the signature: what
 * passes, mg_bundle_unpack can extract. 0 and *out (ok or not, with the
 * problems) when the bundle could be read; MG_EINVAL naming the bundle when
 * it is not an archive, is truncated or over a limit above; MG_ENOMEM when
 * memory ran out; MG_EIO and friends when it cannot be read. */
int mg_bundle_verify(mg_bundle_check **out, const char *bundle, const char *pub_key,
		     mg_error *err);

/* Verifies the bundle, then extracts it into dir (which must not exist, or
 * be an empty folder) through a temporary folder next to it, with
 * libarchive's secure flags, re-checking every byte against the verified
 * digests and writing no more bytes of a file than verify counted (no
 * folder is created but those of the files); renamed into place only when
 * everything matched. *out as for
 * mg_bundle_verify; when it is not ok nothing is extracted and the return is
 * 0 (the caller looks at ok). */
int mg_bundle_unpack(mg_bundle_check **out, const char *bundle, const char *dir,
		     const char *pub_key, mg_error *err);

#endif
