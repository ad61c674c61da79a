/* The updater's config file: one JSON object, read once at start. Every
 * key is known (a misspelt one would silently leave a default in force on
 * a device nobody watches), so an unknown key is bad input naming it. */
#include "device.h"
#include "net/web.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef enum { STR, INT, BOOL, LABELS, MQTT, NUM, LIMITS } kind;

typedef struct key {
	const char *name;
	kind kind;
	int required;
	size_t off; /* of the field in mg_device_config */
} key;

#define M(field) offsetof(mg_device_mqtt, field)
static const key mqtt_keys[] = {
	{"host", STR, 1, M(host)},
	{"port", INT, 0, M(port)},
	{"username", STR, 0, M(username)},
	{"password_env", STR, 0, M(password_env)},
	{"ca_file", STR, 0, M(ca_file)},
	{"cert_file", STR, 0, M(cert_file)},
	{"key_file", STR, 0, M(key_file)},
};
#define NMQTT (sizeof(mqtt_keys) / sizeof(mqtt_keys[0]))

#define L(field) offsetof(mg_device_limits, field)
static const key limit_keys[] = {
	{"latency_ms", NUM, 0, L(latency_ms)},
	{"memory_mb", NUM, 0, L(memory_mb)},
};
#define NLIMITS (sizeof(limit_keys) / sizeof(limit_keys[0]))

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
	{"mqtt", MQTT, 0, F(mqtt)},
	{"status_url", STR, 0, F(status_url)},
	{"status_secret_env", STR, 0, F(status_secret_env)},
	{"target_class", STR, 0, F(target_class)},
	{"smoke_iterations", INT, 0, F(smoke_iterations)},
	{"limits", LIMITS, 0, F(limits)},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int set_keys(void *base, const key *table, size_t n, json_t *obj, const char *path,
		    const char *prefix, mg_error *err);

static int set_one(void *base, const key *k, json_t *v, const char *path, const char *prefix,
		   mg_error *err)
{
	void *field = (char *)base + k->off;
	if (k->kind == MQTT) {
		if (!json_is_object(v))
			return mg_error_set(err, MG_EINVAL, "'%s': 'mqtt' is not an object", path);
		return set_keys(field, mqtt_keys, NMQTT, v, path, "mqtt.", err);
	}
	if (k->kind == LIMITS) {
		if (!json_is_object(v))
			return mg_error_set(err, MG_EINVAL, "'%s': 'limits' is not an object", path);
		return set_keys(field, limit_keys, NLIMITS, v, path, "limits.", err);
	}
	if (k->kind == NUM) {
		if (!json_is_number(v) || !(json_number_value(v) > 0))
			return mg_error_set(err, MG_EINVAL, "'%s': '%s%s' is not a number above 0", path, prefix,
					    k->name);
		*(double *)field = json_number_value(v);
		return 0;
	}
	if (k->kind == STR) {
		if (!json_is_string(v) || !json_string_length(v))
			return mg_error_set(err, MG_EINVAL, "'%s': '%s' is not a non-empty string", path, k->name);
		free(*(char **)field);
		return (*(char **)field = mg_strdup(json_string_value(v), err)) ? 0 : MG_ENOMEM;
	}
	if (k->kind == INT) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 86400 * 7)
			return mg_error_set(err, MG_EINVAL, "'%s': '%s' is not a whole number from 0 to "
					    "604800", path, k->name);
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
		int rc = mg_kv_set(field, name, json_string_value(lv), err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Sets the fields of base from the keys of obj: an unknown key, a missing
 * required one or a bad value is MG_EINVAL naming it (prefix + name). */
static int set_keys(void *base, const key *table, size_t n, json_t *obj, const char *path,
		    const char *prefix, mg_error *err)
{
	const char *name;
	json_t *v;
	json_object_foreach(obj, name, v) {
		size_t i = 0;
		while (i < n && strcmp(table[i].name, name))
			i++;
		if (i == n) {
			char safe[200];
			mg_escape_controls(safe, sizeof(safe), name);
			return mg_error_set(err, MG_EINVAL, "'%s': unknown key '%s%s'", path, prefix, safe);
		}
		int rc = set_one(base, &table[i], v, path, prefix, err);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < n; i++)
		if (table[i].required && !json_object_get(obj, table[i].name))
			return mg_error_set(err, MG_EINVAL, "'%s': '%s%s' is missing", path, prefix,
					    table[i].name);
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
	if ((rc = set_keys(c, keys, NKEYS, root, path, "", err)))
		goto done;
	if (json_object_get(root, "smoke_iterations") && !c->smoke_iterations) {
		rc = mg_error_set(err, MG_EINVAL, "'%s': 'smoke_iterations' is not a whole number from 1 to "
				  "604800", path);
		goto done;
	}
	mg_ref *ref = NULL;
	mg_error re = {0};
	if ((rc = mg_ref_parse(&ref, c->tag, &re))) {
		rc = mg_error_set(err, rc, "'%s': 'tag': %s", path, re.msg);
		goto done;
	}
	if (!ref->registry || ref->digest || ref->tag_implicit)
		rc = mg_error_set(err, MG_EINVAL, "'%s': 'tag' must name a tag in a registry "
				  "(HOST/REPO:TAG), not '%s'", path, c->tag);
	mg_ref_free(ref);
	char host[512];
	mg_error e = {0};
	if (!rc && c->status_url && mg_web_url_host(c->status_url, host, sizeof(host), &e))
		rc = mg_error_set(err, MG_EINVAL, "'%s': 'status_url': %s", path, e.msg);
	if (!rc && !c->status_url != !c->status_secret_env)
		rc = mg_error_set(err, MG_EINVAL, "'%s': '%s' needs '%s' (the status is signed)", path,
				  c->status_url ? "status_url" : "status_secret_env",
				  c->status_url ? "status_secret_env" : "status_url");
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
	for (size_t i = 0; i < NMQTT; i++)
		if (mqtt_keys[i].kind == STR)
			free(*(char **)((char *)&c->mqtt + mqtt_keys[i].off));
	mg_kv_clear(&c->labels);
	free(c);
}
