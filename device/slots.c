/* The state directory of the updater (docs/FLEET.md): two slots, a
 * `current` link, and what is known about each slot and about the device.
 * Every change is one rename(2), so a kill or a power cut at any moment
 * leaves each file either as it was or as it was meant to be: `current`
 * always names a slot that was complete when it was switched to. */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char mg_slot_current(const char *state_dir)
{
	char path[4096], target[64];
	snprintf(path, sizeof(path), "%s/current", state_dir);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	if (!strcmp(target, "slots/a"))
		return 'a';
	return strcmp(target, "slots/b") ? 0 : 'b';
}

static void meta_path(char *out, size_t n, const char *state_dir, char slot)
{
	snprintf(out, n, "%s/slots/%c.json", state_dir, slot);
}

int mg_slot_meta_read(const char *state_dir, char slot, mg_slot_meta *out, mg_error *err)
{
	char path[4096];
	meta_path(path, sizeof(path), state_dir, slot);
	memset(out, 0, sizeof(*out));
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, 64 << 10, err);
	if (rc)
		return rc;
	json_t *j = json_loadb(b.data, b.len, 0, NULL);
	const char *d = json_string_value(json_object_get(j, "digest"));
	const char *a = json_string_value(json_object_get(j, "artifact"));
	json_t *r = json_object_get(j, "release");
	if (!d || !a || !mg_digest_valid(d) || !mg_digest_valid(a) || !json_is_integer(r))
		rc = mg_error_set(err, MG_ECORRUPT, "'%s' is not a slot record", path);
	else {
		memcpy(out->digest, d, MG_DIGEST_SIZE);
		memcpy(out->artifact, a, MG_DIGEST_SIZE);
		out->release = (uint64_t)json_integer_value(r);
		out->proven = json_is_true(json_object_get(j, "proven"));
		out->proven_at = json_integer_value(json_object_get(j, "proven_at"));
	}
	json_decref(j);
	mg_buf_free(&b);
	return rc;
}

static int write_json(const char *path, json_t *j, mg_error *err)
{
	char *s = j ? json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "cannot write '%s': out of memory", path);
	mg_buf b = MG_BUF_INIT;
	int rc = mg_buf_printf(&b, err, "%s\n", s);
	free(s);
	if (!rc)
		rc = mg_file_write_atomic(path, b.data, b.len, err);
	mg_buf_free(&b);
	return rc;
}

int mg_slot_meta_write(const char *state_dir, char slot, const mg_slot_meta *m, mg_error *err)
{
	char path[4096];
	meta_path(path, sizeof(path), state_dir, slot);
	return write_json(path, json_pack("{s:s, s:s, s:I, s:b, s:I}", "digest", m->digest, "artifact",
					  m->artifact, "release", (json_int_t)m->release, "proven",
					  m->proven, "proven_at", (json_int_t)m->proven_at),
			  err);
}

int mg_slot_switch(const char *state_dir, char slot, mg_error *err)
{
	char tmp[4096], cur[4096], target[16];
	snprintf(tmp, sizeof(tmp), "%s/.current.new", state_dir);
	snprintf(cur, sizeof(cur), "%s/current", state_dir);
	snprintf(target, sizeof(target), "slots/%c", slot);
	unlink(tmp);
	if (symlink(target, tmp))
		return mg_error_sys(err, MG_EIO, errno, "cannot make the link '%s'", tmp);
	if (rename(tmp, cur)) {
		int e = errno;
		unlink(tmp);
		return mg_error_sys(err, MG_EIO, e, "cannot switch '%s' to %s", cur, target);
	}
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int mg_status_write(const mg_device_config *c, const mg_device_status *s, mg_error *err)
{
	char path[4096], now[64];
	snprintf(path, sizeof(path), "%s/status.json", c->state_dir);
	mg_format_time(now, sizeof(now), (int64_t)time(NULL));
	json_t *labels = json_object();
	for (size_t i = 0; i < c->labels.n; i++)
		json_object_set_new(labels, c->labels.keys[i], json_string(c->labels.vals[i]));
	char slot = mg_slot_current(c->state_dir);
	mg_slot_meta m;
	int has = slot && !mg_slot_meta_read(c->state_dir, slot, &m, NULL);
	char proven_at[64];
	mg_format_time(proven_at, sizeof(proven_at), has ? m.proven_at : 0);
	/* a refusal stands until another release is installed */
	json_t *was = NULL;
	if (s->carry && !s->rejected) {
		mg_buf b = MG_BUF_INIT;
		if (!mg_file_read(&b, path, 1 << 20, NULL))
			was = json_loadb(b.data, b.len, 0, NULL);
		mg_buf_free(&b);
	}
	const char *rejected = was ? json_string_value(json_object_get(was, "rejected")) : s->rejected;
	const char *reason = was ? json_string_value(json_object_get(was, "rejected_reason"))
				 : s->rejected_reason;
	mg_fleet_seen seen;
	int plan = !mg_fleet_seen_read(c->state_dir, &seen) && seen.is_plan;
	json_t *j = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:s, s:o, s:o}",
			      "schemaVersion", 1, "fleet", c->fleet, "device", c->device_id, "labels",
			      labels, "slot", slot ? json_sprintf("%c", slot) : json_null(), "digest",
			      has ? json_string(m.digest) : json_null(), "artifact",
			      has ? json_string(m.artifact) : json_null(), "release",
			      has ? json_integer((json_int_t)m.release) : json_null(), "health",
			      s->health, "last_error", s->last_error ? json_string(s->last_error) : json_null(),
			      "rejected", rejected ? json_string(rejected) : json_null(), "time", now,
			      "proven_at", has && m.proven ? json_string(proven_at) : json_null(), "plan",
			      plan ? json_string(seen.tag) : json_null());
	if (j)
		json_object_set_new(j, "rejected_reason", reason ? json_string(reason) : json_null());
	json_decref(was);
	return write_json(path, j, err);
}

void mg_status_rejected(const char *state_dir, char out[MG_DIGEST_SIZE])
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/status.json", state_dir);
	out[0] = '\0';
	mg_buf b = MG_BUF_INIT;
	if (mg_file_read(&b, path, 1 << 20, NULL))
		return;
	json_t *j = json_loadb(b.data, b.len, 0, NULL);
	const char *r = json_string_value(json_object_get(j, "rejected"));
	if (r && mg_digest_valid(r))
		memcpy(out, r, MG_DIGEST_SIZE);
	json_decref(j);
	mg_buf_free(&b);
}

int mg_fleet_seen_read(const char *state_dir, mg_fleet_seen *out)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/plan.json", state_dir);
	memset(out, 0, sizeof(*out));
	mg_buf b = MG_BUF_INIT;
	if (mg_file_read(&b, path, 64 << 10, NULL))
		return MG_ENOTFOUND;
	json_t *j = json_loadb(b.data, b.len, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "tag"));
	const char *d = json_string_value(json_object_get(j, "desired"));
	int rc = t && mg_digest_valid(t) && (!d || mg_digest_valid(d)) ? 0 : MG_ENOTFOUND;
	if (!rc) {
		memcpy(out->tag, t, MG_DIGEST_SIZE);
		if (d)
			memcpy(out->desired, d, MG_DIGEST_SIZE);
		out->may_go_back = json_is_true(json_object_get(j, "may_go_back"));
		out->is_plan = json_is_true(json_object_get(j, "is_plan"));
	}
	json_decref(j);
	mg_buf_free(&b);
	return rc;
}

int mg_fleet_seen_write(const char *state_dir, const mg_fleet_seen *s, mg_error *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/plan.json", state_dir);
	return write_json(path, json_pack("{s:s, s:o, s:b, s:b}", "tag", s->tag, "desired",
					  s->desired[0] ? json_string(s->desired) : json_null(),
					  "may_go_back", s->may_go_back, "is_plan", s->is_plan),
			  err);
}

void mg_fleet_seen_forget(const char *state_dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/plan.json", state_dir);
	unlink(path);
}
