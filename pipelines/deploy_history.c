/* The deployment history of an environment: append-only JSON lines kept in
 * the registry (or store) next to the environment's tag, as the one layer
 * of an artifact tagged E-history, so CI jobs on other machines see it.
 *
 * Two kinds of line: a tag move
 *   {"type":"move","seq":N,"action":"deploy"|"rollback","env":..,"digest":..,
 *    "previous":..,"reference":..,"report_digest":..,"report_status":..,
 *    "who":..,"when":..,"run_url":..}
 * and the outcome of one trigger fired for move N
 *   {"type":"trigger","seq":N,"name":..,"ok":true|false,"status":204,
 *    "message":..,"when":..}
 * Appending reads the current artifact, adds lines, stores a new one and
 * moves the tag, after checking the tag did not move meanwhile (else it
 * starts again: optimistic concurrency). */
#include "deploy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_MAX (64u << 20)
#define EMPTY_JSON "{}"
#define EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

const char *mg_deploy_who(const mg_ci_env *ci)
{
	if (ci && ci->github_actor)
		return ci->github_actor;
	if (ci && ci->gitlab_user_login)
		return ci->gitlab_user_login;
	static const char *const vars[] = {"USER", "LOGNAME"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return v;
	}
	return "unknown";
}

static void entry_free(mg_history_entry *e)
{
	free(e->action);
	free(e->env);
	free(e->digest);
	free(e->previous);
	free(e->reference);
	free(e->report_digest);
	free(e->report_status);
	free(e->who);
	free(e->when);
	free(e->run_url);
	for (size_t i = 0; i < e->ntriggers; i++)
		mg_trigger_result_clear(&e->triggers[i]);
	free(e->triggers);
}

void mg_history_free(mg_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		entry_free(&h->entries[i]);
	free(h->entries);
	free(h->text);
	free(h);
}

static char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? strdup(s) : NULL;
}

static int add_move(mg_history *h, json_t *o)
{
	mg_history_entry *v = realloc(h->entries, (h->n + 1) * sizeof(*v));
	if (!v)
		return MG_ENOMEM;
	h->entries = v;
	mg_history_entry *e = &v[h->n++];
	memset(e, 0, sizeof(*e));
	e->seq = (int64_t)json_integer_value(json_object_get(o, "seq"));
	e->action = jstr(o, "action");
	e->env = jstr(o, "env");
	e->digest = jstr(o, "digest");
	e->previous = jstr(o, "previous");
	e->reference = jstr(o, "reference");
	e->report_digest = jstr(o, "report_digest");
	e->report_status = jstr(o, "report_status");
	e->who = jstr(o, "who");
	e->when = jstr(o, "when");
	e->run_url = jstr(o, "run_url");
	return e->action && e->digest ? 0 : MG_ECORRUPT;
}

/* A trigger line: updates its move's result for that trigger (an ok
 * stays ok: a later failure of a rerun cannot unfire it). */
static int add_trigger(mg_history *h, json_t *o)
{
	int64_t seq = (int64_t)json_integer_value(json_object_get(o, "seq"));
	const char *name = json_string_value(json_object_get(o, "name"));
	mg_history_entry *e = NULL;
	for (size_t i = h->n; i-- > 0 && !e;)
		if (h->entries[i].seq == seq)
			e = &h->entries[i];
	if (!e || !name)
		return 0; /* a line we cannot place: ignored */
	mg_trigger_result *r = NULL;
	for (size_t i = 0; i < e->ntriggers && !r; i++)
		if (!strcmp(e->triggers[i].name, name))
			r = &e->triggers[i];
	if (!r) {
		mg_trigger_result *v = realloc(e->triggers, (e->ntriggers + 1) * sizeof(*v));
		if (!v)
			return MG_ENOMEM;
		e->triggers = v;
		r = &v[e->ntriggers++];
		memset(r, 0, sizeof(*r));
		if (!(r->name = strdup(name)))
			return MG_ENOMEM;
	}
	if (r->ok)
		return 0;
	free(r->message);
	free(r->when);
	r->ok = json_is_true(json_object_get(o, "ok"));
	r->status = (long)json_integer_value(json_object_get(o, "status"));
	r->message = jstr(o, "message");
	r->when = jstr(o, "when");
	return 0;
}

static int parse_lines(mg_history *h, const char *where, mg_error *err)
{
	size_t lineno = 0;
	for (const char *p = h->text; *p;) {
		size_t n = strcspn(p, "\n");
		lineno++;
		if (n) {
			json_error_t je;
			json_t *o = json_loadb(p, n, 0, &je);
			const char *type = json_string_value(json_object_get(o, "type"));
			int rc = !o || !type ? MG_ECORRUPT
			       : !strcmp(type, "move") ? add_move(h, o)
			       : !strcmp(type, "trigger") ? add_trigger(h, o) : 0;
			json_decref(o);
			if (rc == MG_ENOMEM)
				return mg_error_set(err, rc, "out of memory");
			if (rc)
				return mg_error_set(err, MG_ECORRUPT, "the deployment history %s is damaged "
						    "at line %zu", where, lineno);
		}
		p += n + (p[n] == '\n');
	}
	return 0;
}

static int history_tag(mg_buf *tag, const char *env, mg_error *err)
{
	mg_buf_reset(tag);
	return mg_buf_printf(tag, err, "%s-history", env);
}

int mg_history_read(mg_history **out, const mg_repo *t, const char *env, mg_error *err)
{
	mg_history *h = calloc(1, sizeof(*h));
	mg_buf tag = MG_BUF_INIT, man = MG_BUF_INIT, text = MG_BUF_INIT;
	json_t *m = NULL;
	char where[600];
	int rc = h ? history_tag(&tag, env, err) : mg_error_set(err, MG_ENOMEM, "out of memory");
	snprintf(where, sizeof(where), "'%.400s:%s'", t->label, tag.data ? tag.data : "");
	if (!rc) {
		mg_error e = {0};
		rc = mg_repo_get_manifest(t, tag.data, NULL, &man, h->tag_digest, NULL, &e);
		if (rc == MG_ENOTFOUND) { /* no history yet */
			h->tag_digest[0] = '\0';
			rc = 0;
			goto done;
		}
		if (rc)
			*err = e;
	}
	if (!rc && !(m = json_loadb(man.data, man.len, 0, NULL)))
		rc = mg_error_set(err, MG_ECORRUPT, "%s is not a JSON manifest", where);
	json_t *layer = json_array_get(json_object_get(m, "layers"), 0);
	const char *ld = json_string_value(json_object_get(layer, "digest"));
	if (!rc && (!ld || !mg_digest_valid(ld)))
		rc = mg_error_set(err, MG_ECORRUPT, "%s has no history layer", where);
	if (!rc)
		rc = mg_repo_read_blob(t, ld, HISTORY_MAX, &text, err);
done:
	if (!rc && !(h->text = strdup(text.data ? text.data : "")))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc)
		rc = parse_lines(h, where, err);
	json_decref(m);
	mg_buf_free(&tag);
	mg_buf_free(&man);
	mg_buf_free(&text);
	if (rc) {
		mg_history_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* Stores text as the history artifact and returns its manifest digest. */
static int store_history(const mg_repo *t, const char *env, const mg_buf *text,
			 char digest[MG_DIGEST_SIZE], mg_error *err)
{
	char ld[MG_DIGEST_SIZE], cd[MG_DIGEST_SIZE], created[64];
	int rc = mg_repo_put_blob(t, text->data, text->len, ld, err);
	if (!rc)
		rc = mg_repo_put_blob(t, EMPTY_JSON, 2, cd, err);
	if (rc)
		return rc;
	mg_format_time(created, sizeof(created), (int64_t)time(NULL));
	mg_buf title = MG_BUF_INIT;
	mg_buf_printf(&title, NULL, "%s-history.jsonl", env);
	json_t *m = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:I, s:{s:s}}], s:{s:s}}",
			      "schemaVersion", 2, "mediaType", MG_MEDIA_MANIFEST, "artifactType",
			      MG_ARTIFACT_HISTORY, "config", "mediaType", MG_MEDIA_EMPTY, "digest",
			      EMPTY_DIGEST, "size", 2, "layers", "mediaType", MG_MEDIA_HISTORY,
			      "digest", ld, "size", (json_int_t)text->len, "annotations",
			      MG_ANNOT_TITLE, title.data ? title.data : "history.jsonl", "annotations",
			      MG_ANNOT_CREATED, created);
	mg_buf_free(&title);
	char *s = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(m);
	rc = s ? mg_repo_put_manifest(t, NULL, s, strlen(s), MG_MEDIA_MANIFEST, digest, err)
	       : mg_error_set(err, MG_ENOMEM, "out of memory");
	free(s);
	return rc;
}

int mg_history_append(const mg_repo *t, const char *env, const char *lines,
		      mg_error *err)
{
	mg_buf tag = MG_BUF_INIT;
	int rc = history_tag(&tag, env, err);
	for (int attempt = 0; !rc; attempt++) {
		mg_history *h = NULL;
		mg_buf text = MG_BUF_INIT;
		char md[MG_DIGEST_SIZE], now[MG_DIGEST_SIZE];
		rc = mg_history_read(&h, t, env, err);
		if (!rc)
			rc = mg_buf_puts(&text, h->text, err);
		if (!rc)
			rc = mg_buf_puts(&text, lines, err);
		if (!rc)
			rc = store_history(t, env, &text, md, err);
		if (!rc) { /* did another writer move the tag meanwhile? */
			mg_error e = {0};
			int r2 = mg_repo_resolve(t, tag.data, now, &e);
			if (r2 == MG_ENOTFOUND)
				now[0] = '\0';
			else if (r2)
				rc = mg_error_set(err, e.code, "%s", e.msg);
		}
		int raced = !rc && strcmp(now, h->tag_digest);
		if (!rc && !raced)
			rc = mg_repo_set_tag(t, tag.data, md, err);
		mg_history_free(h);
		mg_buf_free(&text);
		if (rc || !raced)
			break;
		if (attempt >= 8) {
			rc = mg_error_set(err, MG_ENET, "the deployment history of '%s' keeps changing "
					  "under this write; try again", env);
			break;
		}
		struct timespec ts = {0, (long)(20 + attempt * 30) * 1000000L};
		nanosleep(&ts, NULL);
	}
	mg_buf_free(&tag);
	return rc;
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *mg_history_to_json(const mg_history *h, mg_error *err)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < h->n; i++) {
		const mg_history_entry *e = &h->entries[i];
		json_t *tr = json_array();
		for (size_t k = 0; tr && k < e->ntriggers; k++) {
			const mg_trigger_result *r = &e->triggers[k];
			json_array_append_new(tr, json_pack("{s:s, s:b, s:i, s:o, s:o}", "name", r->name,
							    "ok", r->ok, "status", (int)r->status,
							    "message", jstr_or_null(r->message), "when",
							    jstr_or_null(r->when)));
		}
		json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				      "seq", (json_int_t)e->seq, "action", e->action, "env",
				      jstr_or_null(e->env), "digest", e->digest, "previous",
				      jstr_or_null(e->previous), "reference", jstr_or_null(e->reference),
				      "report_digest", jstr_or_null(e->report_digest), "report_status",
				      jstr_or_null(e->report_status), "who", jstr_or_null(e->who), "when",
				      jstr_or_null(e->when), "run_url", jstr_or_null(e->run_url),
				      "triggers", tr ? tr : json_array());
		json_array_append_new(a, o);
	}
	char *s = a ? json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(a);
	if (!s)
		mg_error_set(err, MG_ENOMEM, "out of memory");
	return s;
}
