/* DSSE v1 envelopes (the Dead Simple Signing Envelope of in-toto and
 * sigstore), the one signed wrapper of the project's signed JSON: the gate
 * result attached to a model (attest.c) and a fleet's rollout plan
 * (rollout.c).
 *   {"payloadType":TYPE,"payload":BASE64,
 *    "signatures":[{"keyid":"sha256:...","sig":BASE64}]}
 * sig signs PAE(TYPE, payload) = "DSSEv1 <len(TYPE)> TYPE <len(payload)> payload",
 * so a signature can never be taken for one over another type. */
#include "deploy.h"
#include "sign.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

int mg_dsse_pae(mg_buf *out, const char *payload_type, const void *payload, size_t len,
		mg_error *err)
{
	int rc = mg_buf_printf(out, err, "DSSEv1 %zu %s %zu ", strlen(payload_type), payload_type, len);
	if (!rc)
		rc = mg_buf_append(out, payload, len, err);
	return rc;
}

int mg_dsse_sign(mg_buf *out, const char *payload_type, const void *payload, size_t len,
		 const char *key_path, mg_error *err)
{
	mg_buf pae = MG_BUF_INIT, sig = MG_BUF_INIT;
	char keyid[MG_DIGEST_SIZE];
	char *b64 = mg_base64_encode(payload, len, err);
	int rc = b64 ? mg_dsse_pae(&pae, payload_type, payload, len, err) : MG_ENOMEM;
	if (!rc)
		rc = mg_sign(key_path, pae.data, pae.len, &sig, err);
	if (!rc)
		rc = mg_key_id(key_path, keyid, err);
	if (!rc) {
		json_t *env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", payload_type,
					"payload", b64, "signatures", "keyid", keyid, "sig", sig.data);
		char *s = env ? json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(env);
		rc = s ? mg_buf_puts(out, s, err) : mg_error_set(err, MG_ENOMEM, "out of memory");
		free(s);
	}
	free(b64);
	mg_buf_free(&pae);
	mg_buf_free(&sig);
	return rc;
}

int mg_dsse_open(const void *env_data, size_t env_len, const char *payload_type, const char *pub,
		 const char *what, mg_buf *payload, char keyid[MG_DIGEST_SIZE], mg_error *err)
{
	mg_buf pae = MG_BUF_INIT;
	json_t *env = json_loadb(env_data, env_len, 0, NULL);
	const char *ptype = json_string_value(json_object_get(env, "payloadType"));
	const char *p64 = json_string_value(json_object_get(env, "payload"));
	int rc = 0;
	if (!env)
		rc = mg_error_set(err, MG_ECORRUPT, "the envelope of %s is not JSON", what);
	else if (!ptype || !p64 || strcmp(ptype, payload_type))
		rc = mg_error_set(err, MG_ECORRUPT, "the envelope of %s is not a DSSE envelope of %s",
				  what, payload_type);
	else if (mg_base64_decode(payload, p64, NULL))
		rc = mg_error_set(err, MG_ECORRUPT, "the payload of %s is not base64", what);
	if (!rc)
		rc = mg_dsse_pae(&pae, ptype, payload->data ? payload->data : "", payload->len, err);
	/* any one signature by the key will do */
	size_t i;
	json_t *s;
	int verified = 0;
	mg_error ve = {0};
	json_array_foreach(json_object_get(env, "signatures"), i, s) {
		const char *sig = json_string_value(json_object_get(s, "sig"));
		const char *kid = json_string_value(json_object_get(s, "keyid"));
		if (rc || verified || !sig)
			continue;
		if (!mg_verify(pub, pae.data, pae.len, sig, what, &ve)) {
			verified = 1;
			if (keyid)
				snprintf(keyid, MG_DIGEST_SIZE, "%s", kid ? kid : "");
		} else if (ve.code == MG_EINVAL && strstr(ve.msg, pub)) {
			rc = mg_error_set(err, ve.code, "%s", ve.msg); /* the key itself is bad */
		}
	}
	if (!rc && !verified)
		rc = ve.code ? mg_error_set(err, MG_ECORRUPT, "%s", ve.msg)
			     : mg_error_set(err, MG_ECORRUPT, "%s has no signature", what);
	json_decref(env);
	mg_buf_free(&pae);
	return rc;
}

int mg_dsse_put(const mg_repo *t, const char *artifact_type, const void *env, size_t len,
		const mg_dsse_subject *subject, const char *tag, const char *created,
		char out[MG_DIGEST_SIZE], size_t *size, mg_error *err)
{
	char ed[MG_DIGEST_SIZE], cd[MG_DIGEST_SIZE];
	int rc = mg_repo_put_blob(t, env, len, ed, err);
	if (!rc)
		rc = mg_repo_put_blob(t, "{}", 2, cd, err);
	json_t *m = rc ? NULL
		: json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:I}], s:{s:s}}",
			    "schemaVersion", 2, "mediaType", MG_MEDIA_MANIFEST, "artifactType",
			    artifact_type, "config", "mediaType", MG_MEDIA_EMPTY, "digest", EMPTY_DIGEST,
			    "size", 2, "layers", "mediaType", MG_MEDIA_DSSE, "digest", ed, "size",
			    (json_int_t)len, "annotations", MG_ANNOT_CREATED, created);
	if (m && subject)
		json_object_set_new(m, "subject", json_pack("{s:s, s:s, s:I}", "mediaType",
							    subject->media_type, "digest", subject->digest,
							    "size", (json_int_t)subject->size));
	char *s = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!rc && !s)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc)
		rc = mg_repo_put_manifest(t, tag, s, strlen(s), MG_MEDIA_MANIFEST, out, err);
	if (!rc && size)
		*size = strlen(s);
	free(s);
	json_decref(m);
	return rc;
}
