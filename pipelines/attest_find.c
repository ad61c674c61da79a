/* Finding and checking the signed gate result of a model version: list its
 * referrers (the Referrers API, else the sha256-<hex> fallback index), and
 * accept the first gate-result manifest whose subject is the model, whose
 * DSSE envelope verifies with the given public key, and whose Statement
 * names the model digest and says the gates passed. */
#include "deploy.h"
#include "registry/remote.h"
#include "sign.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVELOPE_MAX (4u << 20)

/* The referrers index of subject: from the API or the fallback tag; an
 * empty index when there is neither. */
static int list_referrers(const mg_repo *t, const char *subject, json_t **out,
			  mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	mg_error e = {0};
	int rc = mg_repo_get_referrers(t, subject, &b, &e);
	if (rc == MG_ENOTFOUND) {
		*out = json_pack("{s:[]}", "manifests");
		rc = 0;
	} else if (rc) {
		mg_error_set(err, e.code, "%s", e.msg);
	} else if (!(*out = json_loadb(b.data, b.len, 0, NULL))) {
		rc = mg_error_set(err, MG_ECORRUPT, "the referrers of %s are not a JSON index", subject);
	}
	mg_buf_free(&b);
	return rc;
}

/* Checks one gate-result manifest; 0 when it is good. */
static int check_one(const mg_repo *t, const char *subject, const char *mdigest,
		     const char *pub, mg_attest_found *found, mg_error *err)
{
	mg_buf mb = MG_BUF_INIT, eb = MG_BUF_INIT, payload = MG_BUF_INIT;
	json_t *m = NULL, *st = NULL;
	char what[200];
	snprintf(what, sizeof(what), "gate result %s", mdigest);
	int rc = mg_repo_get_manifest(t, NULL, mdigest, &mb, NULL, NULL, err);
	if (!rc && !(m = json_loadb(mb.data, mb.len, 0, NULL)))
		rc = mg_error_set(err, MG_ECORRUPT, "%s is not JSON", what);
	const char *sd = json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
	if (!rc && (!sd || strcmp(sd, subject)))
		rc = mg_error_set(err, MG_ECORRUPT, "%s is about %s, not %s", what, sd ? sd : "nothing",
				  subject);
	json_t *layer = json_array_get(json_object_get(m, "layers"), 0);
	const char *ld = json_string_value(json_object_get(layer, "digest"));
	if (!rc && (!ld || !mg_digest_valid(ld)))
		rc = mg_error_set(err, MG_ECORRUPT, "%s has no envelope layer", what);
	if (!rc)
		rc = mg_repo_read_blob(t, ld, ENVELOPE_MAX, &eb, err);
	if (!rc)
		rc = mg_dsse_open(eb.data, eb.len, MG_DSSE_PAYLOAD_TYPE, pub, what, &payload,
				  found->keyid, err);
	if (!rc && !(st = json_loadb(payload.data, payload.len, 0, NULL)))
		rc = mg_error_set(err, MG_ECORRUPT, "the statement of %s is not JSON", what);
	const char *ptyp = json_string_value(json_object_get(st, "predicateType"));
	const char *hex = json_string_value(json_object_get(
		json_object_get(json_array_get(json_object_get(st, "subject"), 0), "digest"), "sha256"));
	const char *status = json_string_value(
		json_object_get(json_object_get(st, "predicate"), "status"));
	if (!rc && (!ptyp || strcmp(ptyp, MG_PREDICATE_GATE_RESULT)))
		rc = mg_error_set(err, MG_ECORRUPT, "%s is not a modelgate gate result", what);
	if (!rc && (!hex || strcmp(hex, mg_digest_hex(subject))))
		rc = mg_error_set(err, MG_ECORRUPT, "the signed statement of %s names sha256:%s, not %s",
				  what, hex ? hex : "nothing", subject);
	if (!rc && (!status || strcmp(status, "pass")))
		rc = mg_error_set(err, MG_ECORRUPT, "the signed gate result %s says '%s', not 'pass'",
				  mdigest, status ? status : "nothing");
	if (!rc)
		snprintf(found->manifest, MG_DIGEST_SIZE, "%s", mdigest);
	json_decref(m);
	json_decref(st);
	mg_buf_free(&mb);
	mg_buf_free(&eb);
	mg_buf_free(&payload);
	return rc;
}

int mg_attest_find(const mg_repo *t, const char *subject_digest, const char *pub_path,
		   mg_attest_found *out, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	json_t *idx = NULL;
	int rc = list_referrers(t, subject_digest, &idx, err);
	if (rc)
		return rc;
	size_t i;
	json_t *d;
	mg_error last = {0};
	int found = 0;
	json_array_foreach(json_object_get(idx, "manifests"), i, d) {
		const char *at = json_string_value(json_object_get(d, "artifactType"));
		const char *md = json_string_value(json_object_get(d, "digest"));
		if (found || !at || strcmp(at, MG_ARTIFACT_GATE_RESULT) || !md || !mg_digest_valid(md))
			continue;
		out->checked++;
		mg_error e = {0};
		int r = check_one(t, subject_digest, md, pub_path, out, &e);
		if (!r)
			found = 1;
		else if (r == MG_EINVAL) { /* a bad key: no point going on */
			json_decref(idx);
			return mg_error_set(err, r, "%s", e.msg);
		} else
			last = e;
	}
	json_decref(idx);
	if (found)
		return 0;
	if (!out->checked)
		return mg_error_set(err, MG_ENOTFOUND, "%s has no signed gate result attached (see "
				    "'modelgate attest')", subject_digest);
	return mg_error_set(err, MG_ECORRUPT, "no valid signed gate result for %s: %s", subject_digest,
			    last.msg);
}
