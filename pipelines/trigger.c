/* Deploy triggers: what they are and where they come from. A trigger is a
 * GitHub repository_dispatch or workflow_dispatch, a GitLab pipeline
 * trigger, or a signed webhook; it is named on the command line
 * (`--trigger KIND:ARGS`) or in the "deploy" section of modelgate.json:
 *
 *   "deploy": {"triggers": [
 *     {"kind": "github-dispatch", "repository": "acme/fleet", "event_type": "model-deploy"},
 *     {"kind": "github-workflow", "repository": "acme/fleet", "workflow": "deploy.yml",
 *      "ref": "main", "inputs": {"channel": "beta"}},
 *     {"kind": "gitlab", "project": "42", "ref": "main", "variables": {"CHANNEL": "beta"}},
 *     {"kind": "webhook", "url": "https://hooks.example.com/deploy", "secret_env": "HOOK_SECRET"}]}
 *
 * Optional in each: "name" (recorded in the history; default KIND:TARGET),
 * "token_env", "api_url". Tokens and secrets are only ever named here, by
 * the variable that holds them; their values are read when a trigger fires
 * and never appear in a message. */
#include "deploy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"github-dispatch", "github-workflow", "gitlab", "webhook"};

void mg_trigger_list_clear(mg_trigger_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		mg_trigger *t = &l->v[i];
		free(t->name);
		free(t->repo);
		free(t->event);
		free(t->workflow);
		free(t->ref);
		free(t->url);
		free(t->api_url);
		free(t->token_env);
		free(t->secret_env);
		mg_kv_clear(&t->extra);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int kind_of(const char *s, size_t n, mg_trigger_kind *k)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (strlen(kind_names[i]) == n && !strncmp(kind_names[i], s, n)) {
			*k = (mg_trigger_kind)i;
			return 0;
		}
	return -1;
}

static int dup_to(char **dst, const char *s, size_t n, mg_error *err)
{
	free(*dst);
	*dst = strndup(s, n);
	return *dst ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
}

static int set_str(char **dst, const char *s, mg_error *err)
{
	return s ? dup_to(dst, s, strlen(s), err) : 0;
}

/* Defaults, the name, and the checks every trigger gets. */
static int finish_trigger(mg_trigger_list *l, mg_trigger *t, const char *where, mg_error *err)
{
	int rc = 0;
	switch (t->kind) {
	case MG_TRIGGER_GITHUB_DISPATCH:
	case MG_TRIGGER_GITHUB_WORKFLOW:
		if (!t->repo || !strchr(t->repo, '/') || strchr(t->repo, '/') == t->repo ||
		    strchr(strchr(t->repo, '/') + 1, '/') || !strchr(t->repo, '/')[1])
			return mg_error_set(err, MG_EINVAL, "%s: expected a GitHub repository OWNER/REPO, "
					    "got '%s'", where, t->repo ? t->repo : "");
		if (t->kind == MG_TRIGGER_GITHUB_DISPATCH && !t->event)
			rc = set_str(&t->event, "modelgate-deploy", err);
		if (t->kind == MG_TRIGGER_GITHUB_WORKFLOW && (!t->workflow || !*t->workflow))
			return mg_error_set(err, MG_EINVAL, "%s: a workflow_dispatch trigger needs a "
					    "workflow (file name or id)", where);
		if (!rc && !t->token_env)
			rc = set_str(&t->token_env, "GITHUB_TOKEN", err);
		break;
	case MG_TRIGGER_GITLAB:
		if (!t->repo || !*t->repo)
			return mg_error_set(err, MG_EINVAL, "%s: a gitlab trigger needs a project (id "
					    "or path)", where);
		if (!t->token_env)
			rc = set_str(&t->token_env, getenv("MODELGATE_GITLAB_TRIGGER_TOKEN")
							    ? "MODELGATE_GITLAB_TRIGGER_TOKEN"
							    : "CI_JOB_TOKEN", err);
		break;
	case MG_TRIGGER_WEBHOOK: /* always signed */
		if (!t->url || (strncmp(t->url, "http://", 7) && strncmp(t->url, "https://", 8)))
			return mg_error_set(err, MG_EINVAL, "%s: a webhook needs an http:// or https:// "
					    "URL", where);
		if (!t->secret_env)
			rc = set_str(&t->secret_env, "MODELGATE_WEBHOOK_SECRET", err);
		break;
	}
	if (!rc && !t->name) {
		mg_buf n = MG_BUF_INIT;
		const char *target = t->kind == MG_TRIGGER_WEBHOOK ? NULL : t->repo;
		if (t->kind == MG_TRIGGER_WEBHOOK) { /* the host and path, never the query */
			const char *u = strstr(t->url, "://") + 3;
			rc = mg_buf_printf(&n, err, "webhook:%.*s", (int)strcspn(u, "?#"), u);
		} else {
			rc = mg_buf_printf(&n, err, "%s:%s%s%s", kind_names[t->kind], target,
					   t->workflow ? ":" : "", t->workflow ? t->workflow : "");
		}
		t->name = rc ? NULL : mg_buf_detach(&n);
		mg_buf_free(&n);
	}
	for (size_t i = 0; !rc && i < l->n; i++)
		if (!strcmp(l->v[i].name, t->name))
			rc = mg_error_set(err, MG_EINVAL, "%s: a trigger named '%s' is there already; "
					  "give one a \"name\"", where, t->name);
	return rc;
}

static int add(mg_trigger_list *l, mg_trigger *t, const char *where, mg_error *err)
{
	int rc = finish_trigger(l, t, where, err);
	mg_trigger *v = rc ? NULL : realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!rc && !v)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (rc) {
		mg_trigger_list one = {t, 1};
		t = NULL;
		mg_trigger_list_clear(&one); /* frees the fields, and t itself below */
		return rc;
	}
	l->v = v;
	l->v[l->n++] = *t;
	free(t);
	return 0;
}

int mg_trigger_parse_spec(mg_trigger_list *l, const char *spec, const char *token_env,
			  const char *secret_env, mg_error *err)
{
	char where[300];
	snprintf(where, sizeof(where), "--trigger '%.200s'", spec);
	size_t kn = strcspn(spec, ":");
	mg_trigger *t = calloc(1, sizeof(*t));
	if (!t)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	int rc = 0;
	if (kind_of(spec, kn, &t->kind) || !spec[kn] || !spec[kn + 1]) {
		free(t);
		return mg_error_set(err, MG_EINVAL, "%s: expected github-dispatch:OWNER/REPO[:EVENT], "
				    "github-workflow:OWNER/REPO:WORKFLOW[:REF], gitlab:PROJECT[:REF] or "
				    "webhook:URL", where);
	}
	const char *a = spec + kn + 1;
	if (t->kind == MG_TRIGGER_WEBHOOK) {
		rc = set_str(&t->url, a, err);
		if (!rc)
			rc = set_str(&t->secret_env, secret_env, err);
	} else {
		/* up to three ':'-separated fields after the kind */
		const char *f[3] = {NULL, NULL, NULL};
		size_t fl[3] = {0, 0, 0}, nf = 0;
		for (const char *p = a; nf < 3; nf++) {
			f[nf] = p;
			fl[nf] = nf == 2 ? strlen(p) : strcspn(p, ":");
			p += fl[nf];
			if (!*p) {
				nf++;
				break;
			}
			p++;
		}
		size_t maxf = t->kind == MG_TRIGGER_GITHUB_WORKFLOW ? 3 : 2;
		if (nf > maxf || (t->kind == MG_TRIGGER_GITHUB_WORKFLOW && nf < 2))
			rc = mg_error_set(err, MG_EINVAL, "%s: wrong number of ':' fields", where);
		if (!rc)
			rc = dup_to(&t->repo, f[0], fl[0], err);
		if (!rc && t->kind == MG_TRIGGER_GITHUB_DISPATCH && nf > 1)
			rc = dup_to(&t->event, f[1], fl[1], err);
		if (!rc && t->kind == MG_TRIGGER_GITHUB_WORKFLOW) {
			rc = dup_to(&t->workflow, f[1], fl[1], err);
			if (!rc && nf > 2)
				rc = dup_to(&t->ref, f[2], fl[2], err);
		}
		if (!rc && t->kind == MG_TRIGGER_GITLAB && nf > 1)
			rc = dup_to(&t->ref, f[1], fl[1], err);
		if (!rc && token_env)
			rc = set_str(&t->token_env, token_env, err);
	}
	if (rc) {
		mg_trigger_list one = {t, 1};
		mg_trigger_list_clear(&one);
		return rc;
	}
	return add(l, t, where, err);
}

static int cfg_string(char **dst, json_t *o, const char *key, const char *file, const char *path,
		      mg_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_string(v) || !*json_string_value(v))
		return mg_error_set(err, MG_EINVAL, "%s: %s.%s: expected a non-empty string", file, path,
				    key);
	return set_str(dst, json_string_value(v), err);
}

static int cfg_map(mg_kv *kv, json_t *o, const char *key, const char *file, const char *path,
		   mg_error *err)
{
	json_t *m = json_object_get(o, key);
	if (!m)
		return 0;
	if (!json_is_object(m))
		return mg_error_set(err, MG_EINVAL, "%s: %s.%s: expected an object of strings", file,
				    path, key);
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v) {
		if (!json_is_string(v))
			return mg_error_set(err, MG_EINVAL, "%s: %s.%s.%s: expected a string", file, path,
					    key, k);
		int rc = mg_kv_set(kv, k, json_string_value(v), err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_one(mg_trigger_list *l, json_t *o, const char *file, const char *path,
		     mg_error *err)
{
	static const char *const keys[] = {"kind", "name", "repository", "event_type", "workflow",
					   "ref", "project", "url", "api_url", "token_env",
					   "secret_env", "inputs", "variables", NULL};
	if (!json_is_object(o))
		return mg_error_set(err, MG_EINVAL, "%s: %s: expected an object", file, path);
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k))
			i++;
		const char *near = !keys[i] && strncmp(k, "//", 2) ? mg_closest(k, keys) : NULL;
		if (near)
			return mg_error_set(err, MG_EINVAL, "%s: %s.%s: unknown key; did you mean '%s'?", file,
					    path, k, near);
		if (!keys[i] && strncmp(k, "//", 2))
			return mg_error_set(err, MG_EINVAL, "%s: %s.%s: unknown key", file, path, k);
	}
	const char *kind = json_string_value(json_object_get(o, "kind"));
	mg_trigger tmp = {0};
	if (!kind || kind_of(kind, strlen(kind), &tmp.kind))
		return mg_error_set(err, MG_EINVAL, "%s: %s.kind: expected github-dispatch, "
				    "github-workflow, gitlab or webhook", file, path);
	mg_trigger *t = calloc(1, sizeof(*t));
	if (!t)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	t->kind = tmp.kind;
	const char *target = t->kind == MG_TRIGGER_GITLAB ? "project" : "repository";
	int rc = cfg_string(&t->name, o, "name", file, path, err);
	if (!rc && t->kind != MG_TRIGGER_WEBHOOK)
		rc = cfg_string(&t->repo, o, target, file, path, err);
	if (!rc)
		rc = cfg_string(&t->event, o, "event_type", file, path, err);
	if (!rc)
		rc = cfg_string(&t->workflow, o, "workflow", file, path, err);
	if (!rc)
		rc = cfg_string(&t->ref, o, "ref", file, path, err);
	if (!rc)
		rc = cfg_string(&t->url, o, "url", file, path, err);
	if (!rc)
		rc = cfg_string(&t->api_url, o, "api_url", file, path, err);
	if (!rc)
		rc = cfg_string(&t->token_env, o, "token_env", file, path, err);
	if (!rc)
		rc = cfg_string(&t->secret_env, o, "secret_env", file, path, err);
	if (!rc)
		rc = cfg_map(&t->extra, o, t->kind == MG_TRIGGER_GITLAB ? "variables" : "inputs", file,
			     path, err);
	if (rc) {
		mg_trigger_list one = {t, 1};
		mg_trigger_list_clear(&one);
		return rc;
	}
	char where[600];
	snprintf(where, sizeof(where), "%s: %s", file, path);
	return add(l, t, where, err);
}

int mg_trigger_parse_config(mg_trigger_list *l, const char *text, size_t len, const char *file,
			    mg_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (!root)
		return mg_error_set(err, MG_EINVAL, "%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
	int rc = 0;
	json_t *d = json_object_get(root, "deploy");
	json_t *tr = d ? json_object_get(d, "triggers") : NULL;
	if (d && !json_is_object(d))
		rc = mg_error_set(err, MG_EINVAL, "%s: deploy: expected an object", file);
	else if (d) {
		const char *k;
		json_t *v;
		json_object_foreach(d, k, v)
			if (!rc && strcmp(k, "triggers") && strncmp(k, "//", 2))
				rc = mg_error_set(err, MG_EINVAL, "%s: deploy.%s: unknown key (expected "
						  "triggers)", file, k);
	}
	if (!rc && tr && !json_is_array(tr))
		rc = mg_error_set(err, MG_EINVAL, "%s: deploy.triggers: expected a list", file);
	size_t i;
	json_t *o;
	json_array_foreach(tr, i, o) {
		char path[64];
		snprintf(path, sizeof(path), "deploy.triggers[%zu]", i);
		if (!rc)
			rc = parse_one(l, o, file, path, err);
	}
	json_decref(root);
	return rc;
}

int mg_trigger_check_env(const mg_trigger_list *l, mg_error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const mg_trigger *t = &l->v[i];
		const char *need = t->kind == MG_TRIGGER_WEBHOOK ? t->secret_env : t->token_env;
		const char *v = need ? getenv(need) : NULL;
		if (need && (!v || !*v))
			return mg_error_set(err, MG_EINVAL, "trigger '%s' needs the %s in the variable "
					    "'%s', which is not set", t->name,
					    t->kind == MG_TRIGGER_WEBHOOK ? "webhook secret" : "token", need);
	}
	return 0;
}
