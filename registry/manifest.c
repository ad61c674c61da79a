/* The OCI image manifest of a modelgate artifact: parsing with validation
 * (every error names the manifest and the JSON path), and canonical
 * serialisation, so that the same artifact always has the same digest. */
#include "registry.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void desc_clear(mg_desc *d)
{
	free(d->media_type);
	free(d->title);
	memset(d, 0, sizeof(*d));
}

void mg_manifest_free(mg_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	free(m->artifact_type);
	desc_clear(&m->config);
	for (size_t i = 0; i < m->nlayers; i++)
		desc_clear(&m->layers[i]);
	free(m->layers);
	mg_kv_clear(&m->annotations);
	free(m);
}

static int bad(mg_error *err, const char *name, const char *path, const char *what)
{
	return mg_error_set(err, MG_ECORRUPT, "manifest '%s' is invalid: %s: %s", name, path, what);
}

static int parse_annotations(mg_kv *kv, json_t *obj, const char *name, const char *path,
			     mg_error *err)
{
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return bad(err, name, path, "expected an object");
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v))
			return bad(err, name, path, "expected string values");
		int rc = mg_kv_set(kv, k, json_string_value(v), err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_desc(mg_desc *d, json_t *j, const char *name, const char *path, mg_error *err)
{
	if (!json_is_object(j))
		return bad(err, name, path, "expected an object");
	json_t *mt = json_object_get(j, "mediaType");
	json_t *dg = json_object_get(j, "digest");
	json_t *sz = json_object_get(j, "size");
	if (!json_is_string(mt))
		return bad(err, name, path, "mediaType: expected a string");
	if (!json_is_string(dg) || !mg_digest_valid(json_string_value(dg)))
		return bad(err, name, path, "digest: expected 'sha256:' and 64 hex digits");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return bad(err, name, path, "size: expected a non-negative integer");
	memcpy(d->digest, json_string_value(dg), MG_DIGEST_SIZE);
	d->size = (uint64_t)json_integer_value(sz);
	if (!(d->media_type = strdup(json_string_value(mt))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	json_t *ann = json_object_get(j, "annotations");
	if (ann && !json_is_object(ann))
		return bad(err, name, path, "annotations: expected an object");
	json_t *title = json_object_get(ann, MG_ANNOT_TITLE);
	if (title) {
		if (!json_is_string(title))
			return bad(err, name, path, "title annotation: expected a string");
		if (!(d->title = strdup(json_string_value(title))))
			return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	return 0;
}

int mg_manifest_parse(mg_manifest **out, const void *data, size_t len, const char *name,
		      mg_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return mg_error_set(err, MG_ECORRUPT, "manifest '%s' is not valid JSON: line %d, column %d: %s",
				    name, jerr.line, jerr.column, jerr.text);
	int rc = 0;
	mg_manifest *m = calloc(1, sizeof(*m));
	if (!m) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if (!json_is_object(root)) {
		rc = bad(err, name, "$", "expected an object");
		goto done;
	}
	json_t *sv = json_object_get(root, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		rc = bad(err, name, "schemaVersion", "expected 2");
		goto done;
	}
	json_t *mt = json_object_get(root, "mediaType");
	if (mt && (!json_is_string(mt) || strcmp(json_string_value(mt), MG_MEDIA_MANIFEST))) {
		rc = bad(err, name, "mediaType", "expected '" MG_MEDIA_MANIFEST "'");
		goto done;
	}
	if (!(m->media_type = strdup(MG_MEDIA_MANIFEST))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	json_t *at = json_object_get(root, "artifactType");
	if (at) {
		if (!json_is_string(at)) {
			rc = bad(err, name, "artifactType", "expected a string");
			goto done;
		}
		if (!(m->artifact_type = strdup(json_string_value(at)))) {
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
			goto done;
		}
	}
	if ((rc = parse_desc(&m->config, json_object_get(root, "config"), name, "config", err)))
		goto done;
	json_t *layers = json_object_get(root, "layers");
	if (!json_is_array(layers)) {
		rc = bad(err, name, "layers", "expected an array");
		goto done;
	}
	size_t n = json_array_size(layers);
	if (n > MG_MANIFEST_MAX_LAYERS) {
		rc = mg_error_set(err, MG_EINVAL, "manifest '%s' lists %zu layers, more than the %d an "
				  "artifact may have", name, n, MG_MANIFEST_MAX_LAYERS);
		goto done;
	}
	if (n && !(m->layers = calloc(n, sizeof(*m->layers)))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof(path), "layers[%zu]", i);
		m->nlayers = i + 1;
		if ((rc = parse_desc(&m->layers[i], json_array_get(layers, i), name, path, err)))
			goto done;
	}
	rc = parse_annotations(&m->annotations, json_object_get(root, "annotations"), name,
			       "annotations", err);
done:
	json_decref(root);
	if (rc) {
		mg_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static json_t *desc_json(const mg_desc *d)
{
	json_t *j = json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest,
			      "size", (json_int_t)d->size);
	if (j && d->title)
		json_object_set_new(j, "annotations", json_pack("{s:s}", MG_ANNOT_TITLE, d->title));
	return j;
}

int mg_manifest_write(mg_buf *out, const mg_manifest *m, mg_error *err)
{
	json_t *root = json_pack("{s:i, s:s}", "schemaVersion", 2, "mediaType", MG_MEDIA_MANIFEST);
	json_t *layers = json_array();
	int ok = root && layers;
	if (ok && m->artifact_type)
		ok = !json_object_set_new(root, "artifactType", json_string(m->artifact_type));
	if (ok)
		ok = !json_object_set_new(root, "config", desc_json(&m->config));
	for (size_t i = 0; ok && i < m->nlayers; i++)
		ok = !json_array_append_new(layers, desc_json(&m->layers[i]));
	if (ok) {
		ok = !json_object_set(root, "layers", layers);
	}
	if (ok && m->annotations.n) {
		json_t *ann = json_object();
		for (size_t i = 0; ann && i < m->annotations.n; i++)
			json_object_set_new(ann, m->annotations.keys[i], json_string(m->annotations.vals[i]));
		ok = !json_object_set_new(root, "annotations", ann);
	}
	char *s = ok ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(layers);
	json_decref(root);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "cannot serialise manifest");
	int rc = mg_buf_puts(out, s, err);
	free(s);
	return rc;
}
