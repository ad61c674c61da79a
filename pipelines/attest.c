/* The signed gate result: an in-toto Statement v1 whose subject is the
 * model manifest and whose predicate (type MG_PREDICATE_GATE_RESULT)
 * holds the dataset digest, the targets with their fingerprints and every
 * gate's name, status and figures; signed with Ed25519 in a DSSE envelope
 *   {"payloadType":"application/vnd.in-toto+json","payload":BASE64,
 *    "signatures":[{"keyid":"sha256:...","sig":BASE64}]}
 * where sig signs PAE(payloadType, payload) as DSSE v1 specifies; and
 * attached to the model as an OCI referrer: an image manifest with
 * artifactType MG_ARTIFACT_GATE_RESULT, the empty config, the envelope as
 * its one layer and `subject` the model manifest. The referrer is also
 * listed in the image index tagged sha256-<hex of the subject> (the
 * Referrers API's fallback tag scheme), which registries without the API
 * (distribution 2.8) and the local store rely on. */
#include "deploy.h"
#include "registry/remote.h"
#include "sign.h"
#include "validator/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *named_digest(const char *name, const char *digest)
{
	if (!digest)
		return json_null();
	return json_pack("{s:o, s:s}", "name", str(name), "digest", digest);
}

static json_t *fingerprint(const mg_fingerprint *f)
{
	if (!f)
		return json_null();
	return json_pack("{s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:b}", "cpu_model", str(f->cpu_model),
			 "cpu_count", f->cpu_count, "governor", str(f->governor), "pinning",
			 str(f->pinning), "kernel", str(f->kernel), "engine", str(f->engine), "arch",
			 str(f->arch), "emulated", f->emulated);
}

static json_t *gate(const mg_gate_result *g)
{
	json_t *figs = json_array();
	for (size_t i = 0; figs && i < g->nfigures; i++)
		json_array_append_new(figs, json_pack("{s:s, s:o, s:o, s:o}", "name", g->figures[i].name,
						      "value", num(g->figures[i].value), "baseline",
						      num(g->figures[i].baseline), "unit",
						      str(g->figures[i].unit)));
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
			 g->name, "kind", str(g->kind), "target", str(g->target), "status",
			 mg_gate_status_name(g->status), "reason", str(g->reason), "metric",
			 str(g->metric), "value", num(g->value), "limit", num(g->limit), "baseline",
			 num(g->baseline), "unit", str(g->unit), "figures", figs ? figs : json_array(),
			 "fingerprint", fingerprint(g->fingerprint));
}

int mg_attest_statement(mg_buf *out, const mg_report *r, const char *model_digest,
			mg_error *err)
{
	if (!mg_digest_valid(model_digest))
		return mg_error_set(err, MG_EINVAL, "'%s' is not a digest", model_digest);
	json_t *targets = json_array(), *gates = json_array();
	for (size_t i = 0; targets && i < r->ntargets; i++)
		json_array_append_new(targets, json_pack("{s:s, s:o, s:o, s:o}", "name",
							 r->targets[i].name, "spec", str(r->targets[i].spec),
							 "fingerprint",
							 fingerprint(r->targets[i].fingerprint), "error",
							 str(r->targets[i].error)));
	for (size_t i = 0; gates && i < r->ngates; i++)
		json_array_append_new(gates, gate(&r->gates[i]));
	json_t *pred = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "status",
				 mg_gate_status_name(mg_report_status(r)), "created", str(r->created),
				 "tool", str(r->tool_version), "git_commit", str(r->git_commit), "model",
				 named_digest(r->model, r->model_digest), "baseline",
				 named_digest(r->baseline, r->baseline_digest), "dataset",
				 named_digest(r->dataset, r->dataset_digest), "targets",
				 targets ? targets : json_array(), "gates", gates ? gates : json_array(),
				 "report_schema_version", json_integer(r->schema_version));
	json_t *st = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:o}", "_type", MG_INTOTO_STATEMENT,
			       "subject", "name", r->model ? r->model : "model", "digest", "sha256",
			       mg_digest_hex(model_digest), "predicateType",
			       MG_PREDICATE_GATE_RESULT, "predicate", pred ? pred : json_null());
	char *s = st ? json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(st);
	int rc = s ? mg_buf_puts(out, s, err) : mg_error_set(err, MG_ENOMEM, "out of memory");
	free(s);
	return rc;
}

int mg_attest_sign(mg_buf *out, const char *statement, size_t len, const char *key_path,
		   mg_error *err)
{
	return mg_dsse_sign(out, MG_DSSE_PAYLOAD_TYPE, statement, len, key_path, err);
}

/* Adds desc to the fallback index tagged sha256-<hex> (read, add, write). */
static int add_to_fallback(const mg_repo *t, const char *subject, json_t *desc,
			   mg_error *err)
{
	mg_buf cur = MG_BUF_INIT;
	json_t *idx = NULL;
	char tag[MG_REFERRERS_TAG_SIZE];
	mg_referrers_tag(tag, subject);
	int rc = 0;
	mg_error e = {0};
	int r2 = mg_repo_get_manifest(t, tag, NULL, &cur, NULL, NULL, &e);
	if (r2 == MG_ENOTFOUND)
		idx = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MG_MEDIA_INDEX,
				"manifests");
	else if (r2)
		rc = mg_error_set(err, e.code, "%s", e.msg);
	else if (!(idx = json_loadb(cur.data, cur.len, 0, NULL)) ||
		 !json_is_array(json_object_get(idx, "manifests")))
		rc = mg_error_set(err, MG_ECORRUPT, "the referrers index '%s' is not an image index",
				  tag);
	if (!rc && !idx)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	json_t *ms = json_object_get(idx, "manifests");
	size_t i;
	json_t *d;
	int have = 0;
	json_array_foreach(ms, i, d)
		have |= json_equal(json_object_get(d, "digest"), json_object_get(desc, "digest"));
	if (!rc && !have)
		json_array_append(ms, desc);
	char *s = !rc ? json_dumps(idx, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char got[MG_DIGEST_SIZE];
	if (!rc && !s)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc && !have)
		rc = mg_repo_put_manifest(t, tag, s, strlen(s), MG_MEDIA_INDEX, got, err);
	free(s);
	json_decref(idx);
	mg_buf_free(&cur);
	return rc;
}

int mg_attest_attach(const mg_repo *t, const char *subject_digest, const void *envelope,
		     size_t len, char out[MG_DIGEST_SIZE], mg_error *err)
{
	mg_buf subj = MG_BUF_INIT;
	char created[64];
	size_t size = 0;
	int rc = mg_repo_get_manifest(t, NULL, subject_digest, &subj, NULL, NULL, err);
	json_t *sm = rc ? NULL : json_loadb(subj.data, subj.len, 0, NULL);
	const char *smt = json_string_value(json_object_get(sm, "mediaType"));
	mg_format_time(created, sizeof(created), (int64_t)time(NULL));
	mg_dsse_subject sub = {smt ? smt : MG_MEDIA_MANIFEST, subject_digest, subj.len};
	if (!rc)
		rc = mg_dsse_put(t, MG_ARTIFACT_GATE_RESULT, envelope, len, &sub, NULL, created, out, &size,
				 err);
	json_t *desc = rc ? NULL
		: json_pack("{s:s, s:s, s:I, s:s, s:{s:s}}", "mediaType", MG_MEDIA_MANIFEST, "digest",
			    out, "size", (json_int_t)size, "artifactType", MG_ARTIFACT_GATE_RESULT,
			    "annotations", MG_ANNOT_CREATED, created);
	if (!rc && !desc)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	/* the fallback index is kept even where the Referrers API exists: the
	 * store needs it, and it costs one small manifest */
	if (!rc)
		rc = add_to_fallback(t, subject_digest, desc, err);
	json_decref(desc);
	json_decref(sm);
	mg_buf_free(&subj);
	return rc;
}
