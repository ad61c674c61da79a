/* The updater's config file: one JSON object, read once at start. Every
 * key is known (a misspelt one would silently leave a default in force on
 * a device nobody watches), so an unknown key is bad input naming it. */
#include "device.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef enum { STR, INT, BOOL, LABELS } kind;

typedef struct key {
	const char *name;
	kind kind;
	int required;
	size_t off; /* of the field in mg_device_config */
} key;

#define F(field) offsetof(mg_device_config, field)
static const key keys[] = {
	{"fleet", STR, 1, F(fleet)},
	{"tag", STR, 1, F(tag)},
	{"public_key", STR, 1, F(public_key)},
	{"state_dir", STR, 1, F(state_dir)},
	{"device_id", STR, 0, F(device_id)},
	{"labels", LABELS, 0, F(labels)},
	{"poll_interval", INT, 0, F(poll_interval)},
	{"poll_jitter", INT, 0, F(poll_jitter)},
	{"insecure", BOOL, 0, F(insecure)},
	{"ca_file", STR, 0, F(ca_file)},
	{"health_cmd", STR, 0, F(health_cmd)},
	{"on_switch", STR, 0, F(on_switch)},
	{"cmd_timeout", INT, 0, F(cmd_timeout)},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int set_one(mg_device_config *c, const key *k, json_t *v, const char *path, mg_error *err)
{
	void *field = (char *)c + k->off;
	if (k->kind == STR) {
		if (!json_is_string(v) || !json_string_length(v))
			return mg_error_set(err, MG_EINVAL, "'%s': '%s' is not a non-empty string", path, k->name);
		return (*(char **)field = mg_strdup(json_string_value(v), err)) ? 0 : MG_ENOMEM;
	}
	if (k->kind == INT) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 86400 * 7)
			return mg_error_set(err, MG_EINVAL, "'%s': '%s' is not a whole number of seconds "
					    "from 0 to 604800", path, k->name);
		*(int *)field = (int)json_integer_value(v);
		return 0;
	}
	if (k->kind == BOOL) {
		if (!json_is_boolean(v))
			return mg_error_set(err, MG_EINVAL, "'%s': '%s' is not true or false", path, k->name);
		*(int *)field = json_is_true(v);
		return 0;
	}
	if (!json_is_object(v))
		return mg_error_set(err, MG_EINVAL, "'%s': 'labels' is not an object of strings", path);
	const char *name;
	json_t *lv;
	json_object_foreach(v, name, lv) {
		if (!json_is_string(lv))
			return mg_error_set(err, MG_EINVAL, "'%s': label '%s' is not a string", path, name);
		int rc = mg_kv_set(&c->labels, name, json_string_value(lv), err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The first line of the machine-id file, which systemd writes once. */
static int machine_id(mg_device_config *c, const char *file, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, file, 4096, err);
	if (!rc) {
		b.data[strcspn(b.data, "\r\n")] = '\0';
		if (!b.data[0])
			rc = mg_error_set(err, MG_EINVAL, "'%s' is empty: set 'device_id' in the config", file);
		else
			c->device_id = mg_buf_detach(&b);
	}
	mg_buf_free(&b);
	return rc;
}

int mg_device_config_read(mg_device_config **out, const char *path, const char *mid,
			  mg_error *err)
{
	*out = NULL;
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, 1 << 20, err);
	if (rc)
		return rc;
	json_error_t je;
	json_t *root = json_loadb(b.data, b.len, 0, &je);
	mg_buf_free(&b);
	if (!root || !json_is_object(root)) {
		rc = root ? mg_error_set(err, MG_EINVAL, "'%s' is not a JSON object", path)
			  : mg_error_set(err, MG_EINVAL, "'%s' is not valid JSON: %s (line %d, column %d)",
					 path, je.text, je.line, je.column);
		json_decref(root);
		return rc;
	}
	mg_device_config *c = calloc(1, sizeof(*c));
	if (!c) {
		json_decref(root);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	c->poll_interval = 300;
	c->poll_jitter = 60;
	c->cmd_timeout = 60;
	const char *name;
	json_t *v;
	json_object_foreach(root, name, v) {
		size_t i = 0;
		while (i < NKEYS && strcmp(keys[i].name, name))
			i++;
		if (i == NKEYS) {
			char safe[200];
			mg_escape_controls(safe, sizeof(safe), name);
			rc = mg_error_set(err, MG_EINVAL, "'%s': unknown key '%s'", path, safe);
		} else {
			rc = set_one(c, &keys[i], v, path, err);
		}
		if (rc)
			goto done;
	}
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].required && !json_object_get(root, keys[i].name)) {
			rc = mg_error_set(err, MG_EINVAL, "'%s': '%s' is missing", path, keys[i].name);
			goto done;
		}
	mg_ref *ref = NULL;
	if ((rc = mg_ref_parse(&ref, c->tag, err)))
		goto done;
	if (!ref->registry || ref->digest || ref->tag_implicit)
		rc = mg_error_set(err, MG_EINVAL, "'%s': 'tag' must name a tag in a registry "
				  "(HOST/REPO:TAG), not '%s'", path, c->tag);
	mg_ref_free(ref);
	if (!rc && !c->device_id)
		rc = machine_id(c, mid ? mid : "/etc/machine-id", err);
	if (!rc && !mg_name_is_safe(c->device_id))
		rc = mg_error_set(err, MG_EINVAL, "'%s': device id '%s' is not one safe name (no '/', "
				  "no control characters)", path, c->device_id);
done:
	json_decref(root);
	if (rc)
		mg_device_config_free(c);
	else
		*out = c;
	return rc;
}

void mg_device_config_free(mg_device_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].kind == STR)
			free(*(char **)((char *)c + keys[i].off));
	mg_kv_clear(&c->labels);
	free(c);
}
