/* deploy and rollback: move an environment's tag, record the move in the
 * history, then fire the triggers that have not fired for it.
 *
 * deploy D to E:   E-previous := E (when E existed), E := D
 * rollback of E:   E := E-previous, E-previous := what E was
 * The move is recorded before any trigger fires, and each trigger's outcome
 * after, so a failed trigger leaves the move recorded; running the same
 * deploy again (E already at D, last move a deploy of D), or the same
 * rollback again (last move a rollback, E still where it put it), moves no
 * tag and fires only the triggers without a success on record. */
#include "deploy.h"
#include "package.h"
#include "validator/report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mg_deploy_result_clear(mg_deploy_result *res)
{
	for (size_t i = 0; i < res->nfired; i++)
		mg_trigger_result_clear(&res->fired[i]);
	free(res->fired);
	memset(res, 0, sizeof(*res));
}

static int tag_of(mg_buf *b, const char *env, const char *suffix, mg_error *err)
{
	mg_buf_reset(b);
	return mg_buf_printf(b, err, "%s%s", env, suffix);
}

/* The digest tag points at, or "" when there is no such tag. */
static int resolve_opt(const mg_repo *t, const char *tag, char digest[MG_DIGEST_SIZE],
		       mg_error *err)
{
	mg_error e = {0};
	int rc = mg_repo_resolve(t, tag, digest, &e);
	if (rc == MG_ENOTFOUND) {
		digest[0] = '\0';
		return 0;
	}
	if (rc)
		*err = e;
	return rc;
}

static json_t *opt_str(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static int append_json_line(mg_buf *lines, json_t *o, mg_error *err)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	int rc = s ? mg_buf_printf(lines, err, "%s\n", s) : mg_error_set(err, MG_ENOMEM, "out of memory");
	free(s);
	return rc;
}

/* 1 when the last move is the one this run repeats. */
static const mg_history_entry *rerun_of(const mg_history *h, const mg_deploy_opts *o,
					const char *cur)
{
	if (!h->n)
		return NULL;
	const mg_history_entry *last = &h->entries[h->n - 1];
	if (strcmp(last->digest, cur))
		return NULL;
	if (o->rollback)
		return !strcmp(last->action, "rollback") ? last : NULL;
	return !strcmp(last->action, "deploy") && !strcmp(last->digest, o->digest) ? last : NULL;
}

static int trigger_done(const mg_history_entry *e, const char *name)
{
	for (size_t i = 0; e && i < e->ntriggers; i++)
		if (!strcmp(e->triggers[i].name, name))
			return e->triggers[i].ok;
	return 0;
}

/* Moves the tags; fills res->digest, res->previous. */
static int move_tags(const mg_repo *t, const mg_deploy_opts *o, const char *cur,
		     mg_deploy_result *res, mg_error *err)
{
	mg_buf prev_tag = MG_BUF_INIT;
	char prev[MG_DIGEST_SIZE];
	int rc = tag_of(&prev_tag, o->env, "-previous", err);
	if (o->rollback) {
		if (!rc)
			rc = resolve_opt(t, prev_tag.data, prev, err);
		if (!rc && !prev[0])
			rc = mg_error_set(err, MG_ENOTFOUND, "environment '%s' has no previous version to "
					  "roll back to (no tag '%s')", o->env, prev_tag.data);
		if (!rc && !cur[0])
			rc = mg_error_set(err, MG_ENOTFOUND, "environment '%s' has no deployed version "
					  "(no tag '%s')", o->env, o->env);
		if (!rc)
			rc = mg_repo_set_tag(t, o->env, prev, err);
		if (!rc)
			rc = mg_repo_set_tag(t, prev_tag.data, cur, err);
		if (!rc) {
			memcpy(res->digest, prev, MG_DIGEST_SIZE);
			memcpy(res->previous, cur, MG_DIGEST_SIZE);
		}
	} else {
		if (!rc && cur[0] && strcmp(cur, o->digest))
			rc = mg_repo_set_tag(t, prev_tag.data, cur, err);
		if (!rc && strcmp(cur, o->digest))
			rc = mg_repo_set_tag(t, o->env, o->digest, err);
		if (!rc) {
			snprintf(res->digest, MG_DIGEST_SIZE, "%s", o->digest);
			snprintf(res->previous, MG_DIGEST_SIZE, "%s", cur);
		}
	}
	mg_buf_free(&prev_tag);
	return rc;
}

static int fire_all(const mg_repo *t, const mg_deploy_opts *o,
		    const mg_history_entry *done, mg_trigger_event *ev, mg_deploy_result *res,
		    mg_error *err)
{
	size_t n = o->triggers ? o->triggers->n : 0;
	res->fired = calloc(n ? n : 1, sizeof(*res->fired));
	if (!res->fired)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	mg_buf lines = MG_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		const mg_trigger *tr = &o->triggers->v[i];
		if (trigger_done(done, tr->name)) {
			res->nskipped++;
			continue;
		}
		mg_trigger_result *r = &res->fired[res->nfired];
		rc = mg_trigger_fire(tr, ev, &o->http, r, err);
		if (rc)
			break;
		res->nfired++;
		res->nfailed += !r->ok;
		rc = append_json_line(&lines, json_pack("{s:s, s:I, s:s, s:b, s:i, s:o, s:s}", "type",
							"trigger", "seq", (json_int_t)ev->seq, "name",
							r->name, "ok", r->ok, "status", (int)r->status,
							"message", opt_str(r->message), "when", r->when),
				      err);
	}
	if (lines.len) { /* record what fired, even when a later one broke */
		mg_error e = {0};
		int r2 = mg_history_append(t, o->env, lines.data, &e);
		if (r2 && !rc) {
			*err = e;
			rc = r2;
		}
	}
	mg_buf_free(&lines);
	return rc;
}

/* The deploy policy: the report passed and names the digest; with
 * signed_by, a gate result signed by that key is attached to it. A refusal
 * is MG_EINVAL with res->refused set. */
static int check_policy(const mg_repo *t, const mg_deploy_opts *o, mg_deploy_result *res,
			mg_error *err)
{
	int rc = o->report ? mg_report_check_for(o->report, o->digest, err)
			   : mg_error_set(err, MG_EINVAL, "a deploy needs a gate report");
	if (!rc && o->signed_by) {
		mg_attest_found found;
		rc = mg_attest_find(t, o->digest, o->signed_by, &found, err);
		if (rc == MG_ENOTFOUND || rc == MG_ECORRUPT) {
			res->refused = 1;
			return MG_EINVAL;
		}
		if (!rc) {
			memcpy(res->signed_manifest, found.manifest, MG_DIGEST_SIZE);
			memcpy(res->signed_keyid, found.keyid, MG_DIGEST_SIZE);
		}
		return rc;
	}
	res->refused = rc != 0;
	return rc;
}

int mg_deploy_run(const mg_repo *t, const mg_deploy_opts *o, mg_deploy_result *res,
		  mg_error *err)
{
	memset(res, 0, sizeof(*res));
	if (!o->rollback && o->digest) {
		int rc = check_policy(t, o, res, err);
		if (rc)
			return rc;
	}
	if (!mg_tag_valid(o->env) || strlen(o->env) > 100)
		return mg_error_set(err, MG_EINVAL, "'%s' is not a valid environment name (a tag: "
				    "letters, digits, '_', '.', '-')", o->env);
	if (!o->rollback && (!o->digest || !mg_digest_valid(o->digest)))
		return mg_error_set(err, MG_EINVAL, "deploy needs a digest");
	mg_history *h = NULL;
	char cur[MG_DIGEST_SIZE], when[64];
	mg_buf url = MG_BUF_INIT;
	mg_buf line = MG_BUF_INIT;
	int rc = mg_trigger_check_env(o->triggers ? o->triggers : &(mg_trigger_list)MG_TRIGGER_LIST_INIT, err);
	if (!rc)
		rc = mg_history_read(&h, t, o->env, err);
	if (!rc)
		rc = resolve_opt(t, o->env, cur, err);
	if (rc)
		goto done;
	const mg_history_entry *again = rerun_of(h, o, cur);
	mg_trigger_event ev = {0};
	ev.action = o->rollback ? "rollback" : "deploy";
	ev.env = o->env;
	ev.repo = t->label;
	ev.who = mg_deploy_who(o->ci);
	ev.ci = o->ci;
	if (again) {
		snprintf(res->digest, MG_DIGEST_SIZE, "%s", again->digest);
		snprintf(res->previous, MG_DIGEST_SIZE, "%s", again->previous ? again->previous : "");
		res->seq = again->seq;
		ev.reference = again->reference;
		ev.report_digest = again->report_digest;
		ev.report_status = again->report_status;
		ev.who = again->who ? again->who : ev.who; /* the same payload as the first run */
		snprintf(when, sizeof(when), "%s", again->when ? again->when : "");
	} else {
		if ((rc = move_tags(t, o, cur, res, err)))
			goto done;
		res->moved = 1;
		res->seq = h->n ? h->entries[h->n - 1].seq + 1 : 1;
		mg_format_time(when, sizeof(when), (int64_t)time(NULL));
		ev.reference = o->rollback ? NULL : o->reference;
		ev.report_digest = o->rollback ? NULL : o->report_digest;
		ev.report_status = o->report && !o->rollback
					   ? mg_gate_status_name(mg_report_status(o->report)) : NULL;
		mg_ci_run_url(&url, o->ci, NULL); /* none when out of memory, as before */
		rc = append_json_line(&line,
				      json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o}",
						"type", "move", "seq", (json_int_t)res->seq, "action",
						ev.action, "env", o->env, "digest", res->digest,
						"previous", opt_str(res->previous), "reference",
						opt_str(ev.reference), "report_digest",
						opt_str(ev.report_digest), "report_status",
						opt_str(ev.report_status), "who", ev.who, "when", when,
						"run_url", opt_str(url.data)),
				      err);
		if (!rc)
			rc = mg_history_append(t, o->env, line.data, err);
		if (rc)
			goto done;
	}
	ev.digest = res->digest;
	ev.previous = res->previous[0] ? res->previous : NULL;
	ev.seq = res->seq;
	ev.when = when;
	for (size_t i = 0; o->report && !o->rollback && i < o->report->ngates; i++) {
		ev.gates_total += o->report->gates[i].status != MG_GATE_SKIP;
		ev.gates_passed += o->report->gates[i].status == MG_GATE_PASS;
	}
	mg_trigger_delivery_id(&ev);
	rc = fire_all(t, o, again, &ev, res, err);
done:
	mg_buf_free(&url);
	mg_buf_free(&line);
	mg_history_free(h);
	return rc;
}
