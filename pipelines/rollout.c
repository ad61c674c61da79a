/* Staged rollouts (rollout.h): the plan's format and signature, the
 * cohorts, the release a plan gives a device, and the controller's tally
 * of device statuses and its decision.
 *
 * The plan is JSON in a DSSE envelope signed with the fleet key, stored
 * as an artifact (MG_ARTIFACT_ROLLOUT, one layer) the fleet tag points
 * at. Every change (a stage out, a halt, an abort) is a new plan with the
 * same id and salt, so cohorts never move under a rollout. The tag moves
 * only when it still points at the plan the controller read: registries
 * have no compare-and-set on tags, so the check is a second HEAD right
 * before the PUT, which narrows the race to a moment; a CI's own lock
 * (a GitHub concurrency group, a GitLab resource_group) closes it. */
#include "rollout.h"
#include "deploy.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLAN_MAX (1u << 20)

static const char *const state_names[] = {"running", "halted", "aborted", "done"};

const char *mg_rollout_state_name(mg_rollout_state s)
{
	return state_names[s];
}

int mg_rollout_parse_stages(mg_rollout_plan *p, const char *s, mg_error *err)
{
	p->nstages = 0;
	const char *c = s;
	while (*c) {
		char *end;
		double v = strtod(c, &end);
		if (end == c || !isfinite(v) || v <= 0 || v > 100)
			return mg_error_set(err, MG_EINVAL, "stages '%s': each stage is a percent of the "
					    "fleet above 0 and up to 100, as in 5%%,25%%,100%%", s);
		if (*end == '%')
			end++;
		if (*end && *end != ',')
			return mg_error_set(err, MG_EINVAL, "stages '%s': '%s' is not a percent", s, c);
		if (p->nstages && v <= p->stages[p->nstages - 1])
			return mg_error_set(err, MG_EINVAL, "stages '%s': each stage is a larger share of "
					    "the fleet than the one before", s);
		if (p->nstages == MG_ROLLOUT_MAX_STAGES)
			return mg_error_set(err, MG_EINVAL, "stages '%s': at most %d stages", s,
					    MG_ROLLOUT_MAX_STAGES);
		p->stages[p->nstages++] = v;
		c = *end ? end + 1 : end;
	}
	if (!p->nstages || p->stages[p->nstages - 1] != 100)
		return mg_error_set(err, MG_EINVAL, "stages '%s': the last stage is the whole fleet, 100%%",
				    s);
	return 0;
}

int mg_rollout_parse_duration(const char *s, int64_t *out, mg_error *err)
{
	char *end;
	double v = strtod(s, &end);
	double unit = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600
		: !strcmp(end, "d") ? 86400 : -1;
	if (end == s || unit < 0 || !isfinite(v) || v < 0 || v * unit > 365.0 * 86400)
		return mg_error_set(err, MG_EINVAL, "'%s' is not a duration: a number with s, m, h or d, "
				    "as in 10m", s);
	*out = (int64_t)llround(v * unit);
	return 0;
}

/* RFC 3339 UTC ("2026-11-25T12:00:00Z") to unix seconds; -1 when not. */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	return end && !*end ? (int64_t)timegm(&tm) : -1;
}

int mg_rollout_encode(const mg_rollout_plan *p, mg_buf *out, mg_error *err)
{
	char started[64], stage_started[64];
	mg_format_time(started, sizeof(started), p->started);
	mg_format_time(stage_started, sizeof(stage_started), p->stage_started);
	json_t *stages = json_array();
	for (size_t i = 0; i < p->nstages; i++)
		json_array_append_new(stages, json_real(p->stages[i]));
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:f, s:I, s:b, s:s, s:o, s:s, "
			      "s:s}", "schemaVersion", 1, "id", p->id, "fleet", p->fleet, "salt", p->salt,
			      "target", p->target, "previous",
			      p->previous[0] ? json_string(p->previous) : json_null(), "stages", stages,
			      "stage", (json_int_t)p->stage, "max_failures", p->max_failures,
			      "min_healthy_time", (json_int_t)p->min_healthy_time, "rollback", p->rollback,
			      "state", state_names[p->state], "reason",
			      p->reason[0] ? json_string(p->reason) : json_null(), "started", started,
			      "stage_started", stage_started);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	int rc = s ? mg_buf_puts(out, s, err) : mg_error_set(err, MG_ENOMEM, "out of memory");
	free(s);
	return rc;
}

static int copy_str(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);
	if (!s || strlen(s) >= size)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int all_hex(const char *s, size_t n)
{
	size_t i = 0;
	while (s[i] && strchr("0123456789abcdef", s[i]))
		i++;
	return i == n && !s[i];
}

int mg_rollout_decode(mg_rollout_plan *p, const void *data, size_t len, const char *what,
		      mg_error *err)
{
	memset(p, 0, sizeof(*p));
	json_t *j = json_loadb(data, len, 0, NULL);
	const char *bad = !json_is_object(j) ? "not a JSON object" : NULL;
	if (!bad && json_integer_value(json_object_get(j, "schemaVersion")) != 1)
		bad = "schemaVersion is not 1";
	if (!bad && (copy_str(p->id, sizeof(p->id), json_object_get(j, "id")) || !all_hex(p->id, 16)))
		bad = "id is not 16 hex digits";
	if (!bad && (copy_str(p->fleet, sizeof(p->fleet), json_object_get(j, "fleet")) ||
		     !mg_tag_valid(p->fleet)))
		bad = "fleet is not a name";
	if (!bad && (copy_str(p->salt, sizeof(p->salt), json_object_get(j, "salt")) ||
		     !all_hex(p->salt, 32)))
		bad = "salt is not 32 hex digits";
	if (!bad && (copy_str(p->target, sizeof(p->target), json_object_get(j, "target")) ||
		     !mg_digest_valid(p->target)))
		bad = "target is not a digest";
	json_t *prev = json_object_get(j, "previous");
	if (!bad && !json_is_null(prev) &&
	    (copy_str(p->previous, sizeof(p->previous), prev) || !mg_digest_valid(p->previous)))
		bad = "previous is neither a digest nor null";
	json_t *stages = json_object_get(j, "stages");
	size_t i;
	json_t *v;
	if (!bad && (!json_is_array(stages) || !json_array_size(stages) ||
		     json_array_size(stages) > MG_ROLLOUT_MAX_STAGES))
		bad = "stages is not a list of 1 to 16 percents";
	json_array_foreach(stages, i, v) {
		double d = json_number_value(v);
		if (!bad && (!json_is_number(v) || d <= 0 || d > 100 || (i && d <= p->stages[i - 1])))
			bad = "stages do not rise from above 0 to at most 100";
		if (!bad)
			p->stages[p->nstages++] = d;
	}
	if (!bad && p->stages[p->nstages - 1] != 100)
		bad = "the last stage is not 100";
	json_t *st = json_object_get(j, "stage");
	if (!bad && (!json_is_integer(st) || json_integer_value(st) < 0 ||
		     (size_t)json_integer_value(st) >= p->nstages))
		bad = "stage is not one of the stages";
	p->stage = bad ? 0 : (size_t)json_integer_value(st);
	p->max_failures = json_number_value(json_object_get(j, "max_failures"));
	if (!bad && (!json_is_number(json_object_get(j, "max_failures")) || p->max_failures < 0 ||
		     p->max_failures > 100))
		bad = "max_failures is not a percent";
	json_t *mh = json_object_get(j, "min_healthy_time");
	p->min_healthy_time = json_integer_value(mh);
	if (!bad && (!json_is_integer(mh) || p->min_healthy_time < 0))
		bad = "min_healthy_time is not seconds";
	if (!bad && !json_is_boolean(json_object_get(j, "rollback")))
		bad = "rollback is not true or false";
	p->rollback = json_is_true(json_object_get(j, "rollback"));
	const char *state = json_string_value(json_object_get(j, "state"));
	size_t k = 0;
	while (state && k < sizeof(state_names) / sizeof(*state_names) && strcmp(state, state_names[k]))
		k++;
	if (!bad && (!state || k == sizeof(state_names) / sizeof(*state_names)))
		bad = "state is not running, halted, aborted or done";
	p->state = (mg_rollout_state)k;
	json_t *reason = json_object_get(j, "reason");
	if (!bad && !json_is_null(reason) && copy_str(p->reason, sizeof(p->reason), reason))
		bad = "reason is not text";
	p->started = parse_time(json_string_value(json_object_get(j, "started")));
	p->stage_started = parse_time(json_string_value(json_object_get(j, "stage_started")));
	if (!bad && (p->started < 0 || p->stage_started < 0))
		bad = "started or stage_started is not an RFC 3339 UTC time";
	json_decref(j);
	return bad ? mg_error_set(err, MG_ECORRUPT, "%s is not a rollout plan: %s", what, bad) : 0;
}

unsigned mg_rollout_cohort(const char *salt, const char *device_id)
{
	mg_buf b = MG_BUF_INIT;
	char d[MG_DIGEST_SIZE];
	if (mg_buf_printf(&b, NULL, "%s:%s", salt, device_id))
		return MG_ROLLOUT_BP - 1; /* out of memory: the last cohort, reached last */
	mg_digest_bytes(b.data, b.len, d);
	mg_buf_free(&b);
	char first[17];
	memcpy(first, mg_digest_hex(d), 16);
	first[16] = '\0';
	uint64_t v = strtoull(first, NULL, 16);
	return (unsigned)(v % MG_ROLLOUT_BP);
}

/* The cohorts below this one are in stage i (cumulative). */
static unsigned stage_bound(const mg_rollout_plan *p, size_t i)
{
	return (unsigned)llround(p->stages[i] * (MG_ROLLOUT_BP / 100));
}

size_t mg_rollout_stage_of(const mg_rollout_plan *p, unsigned cohort)
{
	size_t i = 0;
	while (i + 1 < p->nstages && cohort >= stage_bound(p, i))
		i++;
	return i;
}

const char *mg_rollout_desired(const mg_rollout_plan *p, const char *device_id, int *may_go_back)
{
	int out = p->state == MG_ROLLOUT_HALTED || p->state == MG_ROLLOUT_ABORTED ||
		  (p->state == MG_ROLLOUT_RUNNING &&
		   mg_rollout_stage_of(p, mg_rollout_cohort(p->salt, device_id)) > p->stage);
	const char *d = out ? (p->previous[0] ? p->previous : NULL) : p->target;
	*may_go_back = out || p->rollback;
	return d;
}

int mg_rollout_publish(const mg_repo *r, const char *tag, const char *expect,
		       const mg_rollout_plan *p, const char *key_path, char out[MG_DIGEST_SIZE],
		       mg_error *err)
{
	mg_buf plan = MG_BUF_INIT, env = MG_BUF_INIT;
	char created[64], now[MG_DIGEST_SIZE];
	mg_format_time(created, sizeof(created), (int64_t)time(NULL));
	int rc = mg_rollout_encode(p, &plan, err);
	if (!rc)
		rc = mg_dsse_sign(&env, MG_ROLLOUT_PAYLOAD_TYPE, plan.data, plan.len, key_path, err);
	if (!rc)
		rc = mg_dsse_put(r, MG_ARTIFACT_ROLLOUT, env.data, env.len, NULL, NULL, created, out, NULL,
				 err);
	if (!rc) {
		mg_error e = {0};
		int h = mg_repo_head(r, tag, now, &e);
		if (h == MG_ENOTFOUND)
			now[0] = '\0';
		else if (h)
			rc = mg_error_set(err, h, "%s", e.msg);
		if (!rc && strcmp(now, expect))
			rc = mg_error_set(err, MG_EINVAL, "the fleet tag '%s' moved to %s while this "
					  "controller worked (it read %s): another controller runs; "
					  "nothing was changed, run again", tag, now[0] ? now : "nothing",
					  expect[0] ? expect : "nothing");
	}
	if (!rc)
		rc = mg_repo_set_tag(r, tag, out, err);
	mg_buf_free(&plan);
	mg_buf_free(&env);
	return rc;
}

int mg_rollout_open(const mg_repo *r, const mg_manifest *m, const char *digest, const char *pub,
		    mg_rollout_plan *p, mg_error *err)
{
	mg_buf eb = MG_BUF_INIT, payload = MG_BUF_INIT;
	char what[128];
	snprintf(what, sizeof(what), "rollout plan %s", digest);
	int rc = 0;
	if (!m->artifact_type || strcmp(m->artifact_type, MG_ARTIFACT_ROLLOUT) || m->nlayers != 1)
		rc = mg_error_set(err, MG_ECORRUPT, "%s is not a rollout plan (artifactType %s)", digest,
				  m->artifact_type ? m->artifact_type : "none");
	if (!rc)
		rc = mg_repo_read_blob(r, m->layers[0].digest, PLAN_MAX, &eb, err);
	if (!rc && pub)
		rc = mg_dsse_open(eb.data, eb.len, MG_ROLLOUT_PAYLOAD_TYPE, pub, what, &payload, NULL, err);
	if (!rc && !pub) { /* looking only: the payload, unchecked */
		json_t *env = json_loadb(eb.data, eb.len, 0, NULL);
		const char *p64 = json_string_value(json_object_get(env, "payload"));
		if (!p64 || mg_base64_decode(&payload, p64, NULL))
			rc = mg_error_set(err, MG_ECORRUPT, "the envelope of %s has no payload", what);
		json_decref(env);
	}
	if (!rc)
		rc = mg_rollout_decode(p, payload.data, payload.len, what, err);
	mg_buf_free(&eb);
	mg_buf_free(&payload);
	return rc;
}

int mg_rollout_read(const mg_repo *r, const char *digest, const char *pub, mg_rollout_plan *p,
		    mg_error *err)
{
	mg_buf mb = MG_BUF_INIT;
	mg_manifest *m = NULL;
	int rc = mg_repo_get_manifest(r, NULL, digest, &mb, NULL, NULL, err);
	if (!rc)
		rc = mg_manifest_parse(&m, mb.data, mb.len, digest, err);
	if (!rc)
		rc = mg_rollout_open(r, m, digest, pub, p, err);
	mg_manifest_free(m);
	mg_buf_free(&mb);
	return rc;
}

/* ---- the tally ------------------------------------------------------- */

void mg_rollout_tally_init(mg_rollout_tally *t, const mg_rollout_plan *p)
{
	memset(t, 0, sizeof(*t));
	t->healthy_since = p->stage_started;
}

void mg_rollout_tally_free(mg_rollout_tally *t)
{
	free(t->reasons);
	free(t->labels);
	t->reasons = t->labels = NULL;
	t->nreasons = t->reasons_cap = t->nlabels = t->labels_cap = 0;
}

/* reason with every run of digits (and the hex of digests) as '#': what
 * devices failing the same way share. */
static void mask_numbers(char *out, size_t size, const char *s)
{
	size_t n = 0;
	while (*s && n + 1 < size) {
		if (!strncmp(s, "sha256:", 7)) {
			s += 7;
			while (isxdigit((unsigned char)*s))
				s++;
			out[n++] = '#';
		} else if (isdigit((unsigned char)*s)) {
			while (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1])))
				s++;
			out[n++] = '#';
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
}

/* The group named what in g (n of cap), added when new; NULL when out of
 * memory. */
static mg_rollout_group *group(mg_rollout_group **g, size_t *n, size_t *cap, const char *what)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*g)[i].what, what))
			return &(*g)[i];
	if (*n == *cap) {
		size_t want = *cap ? *cap * 2 : 16;
		mg_rollout_group *more = realloc(*g, want * sizeof(**g));
		if (!more)
			return NULL;
		*g = more;
		*cap = want;
	}
	mg_rollout_group *x = &(*g)[(*n)++];
	memset(x, 0, sizeof(*x));
	snprintf(x->what, sizeof(x->what), "%s", what);
	return x;
}

static void note_waiting(mg_rollout_tally *t, const char *device)
{
	size_t len = strlen(t->waiting);
	if (t->nwaiting < 5 && len + strlen(device) + 3 < sizeof(t->waiting))
		snprintf(t->waiting + len, sizeof(t->waiting) - len, "%s%s", len ? ", " : "", device);
	t->nwaiting++;
}

int mg_rollout_tally_add(mg_rollout_tally *t, const mg_rollout_plan *p, const char *plan_digest,
			 const void *status, size_t len, mg_error *err)
{
	json_t *j = json_loadb(status, len, 0, NULL);
	const char *fleet = json_string_value(json_object_get(j, "fleet"));
	const char *dev = json_string_value(json_object_get(j, "device"));
	if (!fleet || !dev || strcmp(fleet, p->fleet)) {
		int rc = mg_error_set(err, MG_ECORRUPT, "a status of %s is not one of fleet '%s'",
				      dev ? dev : "an unnamed device", p->fleet);
		json_decref(j);
		return rc;
	}
	const char *digest = json_string_value(json_object_get(j, "digest"));
	const char *health = json_string_value(json_object_get(j, "health"));
	const char *rejected = json_string_value(json_object_get(j, "rejected"));
	const char *seen = json_string_value(json_object_get(j, "plan"));
	const char *why = json_string_value(json_object_get(j, "rejected_reason"));
	int oom = 0;
	size_t s = mg_rollout_stage_of(p, mg_rollout_cohort(p->salt, dev));
	mg_rollout_count *c = &t->stage[s];
	c->devices++;
	/* the stages that went out (all of them once done) */
	int targeted = p->state == MG_ROLLOUT_DONE || s <= p->stage;
	int healthy = digest && !strcmp(digest, p->target) && health && !strcmp(health, "pass");
	int failed = !healthy && rejected && !strcmp(rejected, p->target);
	int saw = seen && plan_digest && !strcmp(seen, plan_digest);
	int stopped = p->state == MG_ROLLOUT_HALTED || p->state == MG_ROLLOUT_ABORTED;
	if (healthy) {
		c->healthy++;
		int64_t proven = parse_time(json_string_value(json_object_get(j, "proven_at")));
		if (targeted && proven > t->healthy_since)
			t->healthy_since = proven;
	} else if (failed) {
		c->failed++;
		char masked[400];
		mask_numbers(masked, sizeof(masked), why ? why : "no reason given");
		mg_rollout_group *g = group(&t->reasons, &t->nreasons, &t->reasons_cap, masked);
		if (!g)
			oom = 1;
		else if (!g->failed++)
			snprintf(g->example, sizeof(g->example), "%s: %s", dev, why ? why : "no reason given");
	} else if (saw && stopped && digest && !strcmp(digest, p->previous)) {
		c->back++;
	} else if (saw) {
		c->updating++;
	} else {
		c->not_seen++;
	}
	if (targeted) {
		t->targeted++;
		t->healthy += healthy;
		t->failed += failed;
		if (!healthy && !failed)
			note_waiting(t, dev);
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(j, "labels"), k, v) {
			char kv[400];
			snprintf(kv, sizeof(kv), "%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
			mg_rollout_group *g = group(&t->labels, &t->nlabels, &t->labels_cap, kv);
			if (!g) {
				oom = 1;
				continue;
			}
			g->devices++;
			g->failed += failed;
		}
	}
	int rc = oom ? mg_error_set(err, MG_ENOMEM, "out of memory tallying the status of %s", dev) : 0;
	json_decref(j);
	return rc;
}

mg_rollout_step mg_rollout_decide(const mg_rollout_plan *p, const mg_rollout_tally *t, int64_t now,
				  char *why, size_t whylen)
{
	if (p->state != MG_ROLLOUT_RUNNING) {
		snprintf(why, whylen, "the rollout is %s%s%s", state_names[p->state],
			 p->reason[0] ? ": " : "", p->reason);
		return MG_STEP_STOPPED;
	}
	if (t->failed && t->failed * 100.0 > p->max_failures * (double)t->targeted) {
		snprintf(why, whylen, "%zu of %zu devices failed at stage %zu (%g%%), more than "
			 "max-failures %g%%", t->failed, t->targeted, p->stage + 1,
			 p->stages[p->stage], p->max_failures);
		return MG_STEP_HALT;
	}
	if (t->healthy + t->failed < t->targeted) {
		char more[64] = "";
		if (t->nwaiting > 5)
			snprintf(more, sizeof(more), " and %zu more", t->nwaiting - 5);
		snprintf(why, whylen, "stage %zu (%g%%): %zu of %zu devices are on the release and "
			 "healthy; waiting for %s%s", p->stage + 1, p->stages[p->stage], t->healthy,
			 t->targeted, t->waiting, more);
		return MG_STEP_WAIT;
	}
	int64_t healthy_for = now - t->healthy_since;
	if (healthy_for < p->min_healthy_time) {
		snprintf(why, whylen, "stage %zu (%g%%): healthy for %llds of the %llds it must be",
			 p->stage + 1, p->stages[p->stage], (long long)healthy_for,
			 (long long)p->min_healthy_time);
		return MG_STEP_WAIT;
	}
	if (p->stage + 1 == p->nstages) {
		snprintf(why, whylen, "the last stage (%g%%) is healthy: %zu devices on the release",
			 p->stages[p->stage], t->healthy);
		return MG_STEP_FINISH;
	}
	snprintf(why, whylen, "stage %zu (%g%%) is healthy (%zu devices%s): stage %zu (%g%%) goes out",
		 p->stage + 1, p->stages[p->stage], t->healthy, t->failed ? ", some failed" : "",
		 p->stage + 2, p->stages[p->stage + 1]);
	return MG_STEP_ADVANCE;
}
