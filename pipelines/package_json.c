/* The JSON of a bundle: manifest.json (files, artifact, gate summary), the
 * in-toto provenance Statement, manifest.json.sig, and reading the first and
 * last back for verify. All written canonically (sorted keys, compact, one
 * final newline) so the same inputs give the same bytes. Also the rule
 * package and deploy share (mg_report_check_for), and the environment a
 * bundle is built in (SOURCE_DATE_EPOCH, the CI run). */
#include "package_int.h"
#include "ci_env.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define SLSA_PROVENANCE "https://slsa.dev/provenance/v1"
#define BUILD_TYPE "https://modelgate.dev/bundle/v1"

int mg_report_check_for(const mg_report *r, const char *digest, mg_error *err)
{
	size_t ran = 0;
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		if (g->status == MG_GATE_SKIP)
			continue;
		ran++;
		if (g->status != MG_GATE_PASS)
			return mg_error_set(err, MG_EINVAL, "the report says gate '%s' %s%s%s",
					    g->name ? g->name : "?",
					    g->status == MG_GATE_FAIL ? "failed" : "could not be evaluated",
					    g->reason ? ": " : "", g->reason ? g->reason : "");
	}
	if (!ran)
		return mg_error_set(err, MG_EINVAL, "the report has no gate that ran");
	if (!r->model_digest)
		return mg_error_set(err, MG_EINVAL, "the report names no model digest");
	if (strcmp(r->model_digest, digest) != 0)
		return mg_error_set(err, MG_EINVAL, "the report is for %s, not for %s", r->model_digest,
				    digest);
	return 0;
}

int mg_package_mtime(const mg_git_info *git, int64_t *out, mg_error *err)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end = NULL;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0 || end == sde)
			return mg_error_set(err, MG_EINVAL,
					    "SOURCE_DATE_EPOCH '%s' is not a number of seconds", sde);
		*out = (int64_t)v;
		return 0;
	}
	*out = git && git->commit ? git->commit_time : 0;
	return 0;
}

/* Finishes a document: canonical text plus a newline, appended to out;
 * steals root. */
static int dump(mg_buf *out, json_t *root, const char *what, mg_error *err)
{
	char *s = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "cannot write %s", what);
	int rc = mg_buf_puts(out, s, err);
	free(s);
	return rc ? rc : mg_buf_puts(out, "\n", err);
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *gate_summary(const mg_report *r)
{
	json_t *gates = json_array();
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		json_array_append_new(
			gates, json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o}", "name", str_or_null(g->name),
					 "kind", str_or_null(g->kind), "status", mg_gate_status_name(g->status),
					 "metric", str_or_null(g->metric), "value", num(g->value), "limit",
					 num(g->limit), "unit", str_or_null(g->unit)));
	}
	return json_pack("{s:s, s:o}", "status", mg_gate_status_name(mg_report_status(r)), "gates",
			 gates);
}

static json_t *file_entry(const mg_bundle_entry *e)
{
	return json_pack("{s:s, s:s, s:I}", "path", e->path, "sha256", mg_digest_hex(e->digest), "size",
			 (json_int_t)e->size);
}

int pkg_manifest_json(mg_buf *out, const pkg_meta *m, const mg_bundle_entry *extra,
		      size_t nextra, mg_error *err)
{
	json_t *files = json_array();
	for (size_t i = 0; i < m->nmodels; i++)
		json_array_append_new(files, file_entry(&m->models[i]));
	for (size_t i = 0; i < nextra; i++)
		json_array_append_new(files, file_entry(&extra[i]));
	char created[64];
	mg_format_time(created, sizeof(created), m->opts->mtime);
	json_t *root = json_pack(
		"{s:i, s:s, s:s, s:s, s:{s:o, s:s, s:s}, s:o, s:o, s:s}", "schemaVersion", 1, "mediaType",
		MG_BUNDLE_MEDIA_TYPE, "tool", "modelgate " MG_VERSION, "created", created, "artifact",
		"reference", str_or_null(m->opts->reference), "digest", m->artifact_digest,
		"digestMethod", m->digest_method, "files", files, "gates", gate_summary(m->report),
		"reportModelDigest", m->report->model_digest ? m->report->model_digest : "");
	/* only when set: bundles without a release keep their bytes */
	if (root && m->opts->release)
		json_object_set_new(root, "release", json_integer((json_int_t)m->opts->release));
	return dump(out, root, "manifest.json", err);
}

int pkg_sig_json(mg_buf *out, const char *key_id, const char *sig_b64, mg_error *err)
{
	return dump(out,
		    json_pack("{s:s, s:s, s:s, s:s}", "algorithm", "ed25519", "keyid", key_id, "signed",
			      MG_BUNDLE_MANIFEST, "signature", sig_b64),
		    MG_BUNDLE_SIG, err);
}

static json_t *digest_obj(const char *digest)
{
	return json_pack("{s:s}", "sha256", mg_digest_hex(digest));
}

int pkg_provenance_json(mg_buf *out, const pkg_meta *m, mg_error *err)
{
	const mg_package_opts *o = m->opts;
	json_t *subject = json_array();
	for (size_t i = 0; i < m->nmodels; i++)
		json_array_append_new(subject, json_pack("{s:s, s:o}", "name", m->models[i].path, "digest",
							 digest_obj(m->models[i].digest)));
	json_array_append_new(subject, json_pack("{s:s, s:o}", "name",
						 o->reference ? o->reference : "artifact", "digest",
						 digest_obj(m->artifact_digest)));

	json_t *deps = json_array();
	const mg_git_info *g = o->git;
	if (g && g->commit) {
		mg_buf uri = MG_BUF_INIT;
		int rc = 0;
		if (g->remote_url)
			rc = mg_buf_printf(&uri, err, "git+%s%s%s", g->remote_url, g->branch ? "@refs/heads/" : "",
					   g->branch ? g->branch : "");
		if (rc) {
			json_decref(subject);
			json_decref(deps);
			return rc;
		}
		json_t *dep = json_pack("{s:{s:s}, s:{s:o, s:b}}", "digest", "gitCommit", g->commit,
					"annotations", "branch", str_or_null(g->branch), "dirty", g->dirty);
		if (dep && uri.data)
			json_object_set_new(dep, "uri", json_string(uri.data));
		json_array_append_new(deps, dep);
		mg_buf_free(&uri);
	}
	const mg_ci_env *ci = o->ci;
	const char *builder = ci && ci->github_actions ? "https://github.com/actions/runner"
			      : ci && ci->gitlab_ci    ? "https://gitlab.com/gitlab-org/gitlab-runner"
						       : "https://modelgate.dev/local";
	mg_buf run_url = MG_BUF_INIT;
	json_t *metadata = json_object();
	int urc = mg_ci_run_url(&run_url, ci, err);
	if (urc) {
		json_decref(subject);
		json_decref(deps);
		json_decref(metadata);
		return urc;
	}
	if (run_url.len)
		json_object_set_new(metadata, "invocationId", json_string(run_url.data));
	mg_buf_free(&run_url);
	json_t *report = json_pack("{s:s, s:o}", "status",
				   mg_gate_status_name(mg_report_status(m->report)), "modelDigest",
				   str_or_null(m->report->model_digest));
	json_t *root = json_pack(
		"{s:s, s:o, s:s, s:{s:{s:s, s:{s:o, s:s, s:o}, s:o}, s:{s:{s:s, s:{s:s}}, s:o}}}", "_type",
		STATEMENT_TYPE, "subject", subject, "predicateType", SLSA_PROVENANCE, "predicate",
		"buildDefinition", "buildType", BUILD_TYPE, "externalParameters", "artifact",
		str_or_null(o->reference), "artifactDigest", m->artifact_digest, "report", report,
		"resolvedDependencies", deps, "runDetails", "builder", "id", builder, "version",
		"modelgate", MG_VERSION, "metadata", metadata);
	return dump(out, root, MG_BUNDLE_PROVENANCE, err);
}

/* ---- reading back ------------------------------------------------------ */

void pkg_manifest_clear(pkg_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->reference);
	free(m->gate_status);
	memset(m, 0, sizeof(*m));
}

static int hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* Did json_loadb fail for want of memory? When its very first allocation
 * fails jansson returns with the error text left empty (je zeroed before). */
static int out_of_memory(const json_error_t *je)
{
	return json_error_code(je) == json_error_out_of_memory || !je->text[0];
}

int pkg_manifest_parse(pkg_manifest *out, const char *json, size_t len, const char *bundle,
		       mg_error *err)
{
	memset(out, 0, sizeof(*out));
	json_error_t je = {0};
	json_t *root = json_loadb(json, len, 0, &je);
	if (!root && out_of_memory(&je))
		return mg_error_set(err, MG_ENOMEM, "'%s': out of memory reading manifest.json", bundle);
	if (!root)
		return mg_error_set(err, MG_EINVAL, "'%s': manifest.json is not valid JSON: %s (line %d, column %d)",
				    bundle, je.text, je.line, je.column);
	int rc = 0;
	json_t *files = json_object_get(root, "files");
	json_t *art = json_object_get(root, "artifact");
	const char *digest = json_string_value(json_object_get(art, "digest"));
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	if (!mt || strcmp(mt, MG_BUNDLE_MEDIA_TYPE) != 0 || !json_is_array(files) || !digest ||
	    !mg_digest_valid(digest)) {
		rc = mg_error_set(err, MG_EINVAL,
				  "'%s': manifest.json is not a modelgate bundle manifest (mediaType, "
				  "artifact.digest or files missing)", bundle);
		goto done;
	}
	memcpy(out->artifact_digest, digest, MG_DIGEST_SIZE);
	json_t *rel = json_object_get(root, "release");
	if (rel && (!json_is_integer(rel) || json_integer_value(rel) < 1)) {
		rc = mg_error_set(err, MG_EINVAL, "'%s': manifest.json's release is not a positive integer",
				  bundle);
		goto done;
	}
	out->release = rel ? (uint64_t)json_integer_value(rel) : 0;
	const char *ref = json_string_value(json_object_get(art, "reference"));
	const char *st = json_string_value(json_object_get(json_object_get(root, "gates"), "status"));
	if ((ref && !(out->reference = mg_strdup(ref, err))) ||
	    (st && !(out->gate_status = mg_strdup(st, err)))) {
		rc = MG_ENOMEM;
		goto done;
	}
	size_t n = json_array_size(files);
	if (n > MG_BUNDLE_MAX_ENTRIES) {
		rc = mg_error_set(err, MG_EINVAL, "'%s': manifest.json lists more than %d files (the limit)",
				  bundle, MG_BUNDLE_MAX_ENTRIES);
		goto done;
	}
	out->files = calloc(n ? n : 1, sizeof(*out->files));
	if (!out->files) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(files, i);
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *hex = json_string_value(json_object_get(f, "sha256"));
		json_t *size = json_object_get(f, "size");
		if (!path || !hex || !hex64(hex) || !json_is_integer(size) || json_integer_value(size) < 0 ||
		    !pkg_path_is_safe(path, 0)) {
			rc = mg_error_set(err, MG_EINVAL, "'%s': manifest.json: files[%zu] is not a valid entry",
					  bundle, i);
			goto done;
		}
		mg_bundle_entry *e = &out->files[out->nfiles];
		if (!(e->path = mg_strdup(path, err))) {
			rc = MG_ENOMEM;
			goto done;
		}
		snprintf(e->digest, sizeof(e->digest), "sha256:%s", hex);
		e->size = (uint64_t)json_integer_value(size);
		out->nfiles++;
	}
done:
	json_decref(root);
	if (rc)
		pkg_manifest_clear(out);
	return rc;
}

int pkg_sig_parse(const char *json, size_t len, char key_id[MG_DIGEST_SIZE], char **sig_b64,
		  const char *bundle, mg_error *err)
{
	json_error_t je = {0};
	json_t *root = json_loadb(json, len, 0, &je);
	if (!root && out_of_memory(&je))
		return mg_error_set(err, MG_ENOMEM, "'%s': out of memory reading manifest.json.sig", bundle);
	const char *alg = json_string_value(json_object_get(root, "algorithm"));
	const char *kid = json_string_value(json_object_get(root, "keyid"));
	const char *sig = json_string_value(json_object_get(root, "signature"));
	int rc = 0;
	if (!alg || strcmp(alg, "ed25519") != 0 || !sig || !kid || !mg_digest_valid(kid))
		rc = mg_error_set(err, MG_EINVAL,
				  "'%s': manifest.json.sig is not an ed25519 signature record", bundle);
	else if (!(*sig_b64 = mg_strdup(sig, err)))
		rc = MG_ENOMEM;
	else
		memcpy(key_id, kid, MG_DIGEST_SIZE);
	json_decref(root);
	return rc;
}

int pkg_path_is_safe(const char *path, int dir)
{
	size_t len = strlen(path);
	if (!len || path[0] == '/' || len > 4096)
		return 0;
	if (path[len - 1] == '/') {
		if (!dir)
			return 0;
		len--;
	}
	char buf[4097];
	memcpy(buf, path, len);
	buf[len] = '\0';
	for (char *s = buf, *slash;; s = slash + 1) {
		slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		if (!mg_name_is_safe(s) || strlen(s) > PKG_NAME_MAX)
			return 0;
		if (!slash)
			return 1;
	}
}
