/* One sync of the updater (docs/FLEET.md has the whole picture): ask the
 * registry what the fleet tag points at (a HEAD: nothing else moves when it
 * is what runs); otherwise download that release's bundle, check it against
 * the fleet key (its signature, a passing gate result signed by the key
 * for its model, a release counter not below the running one), unpack it
 * into the slot that is not current, switch current to it, and prove it
 * on this device (on_switch, the smoke check of smoke.c, health_cmd),
 * switching back when it fails.
 *
 * Every step leaves the state directory as slots.c promises, so a kill at
 * any point leaves current on a complete release; a release that was
 * switched to but not proven is proven (or switched away from) by the next
 * sync before anything else; a download cut off goes on from its last
 * byte. MODELGATE_DEVICE_KILL_AT=STEP (download,
 * verify, unpack, switch, health) makes the process kill itself with
 * SIGKILL once STEP's work is done and before its result is recorded: how
 * the tests interrupt an update at each step. */
#include "device.h"
#include "pipelines/deploy.h"
#include "pipelines/package.h"
#include "pipelines/rollout.h"
#include "registry/repo.h"
#include "util/proc.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The bytes of a command's stderr kept for the reason of a failure. */
#define CMD_ERR_MAX 4096

static void kill_point(const char *step)
{
	const char *at = getenv("MODELGATE_DEVICE_KILL_AT");
	if (at && !strcmp(at, step))
		kill(getpid(), SIGKILL);
}

static int open_remote(void *ctx, const char *registry, mg_remote **out, mg_error *err)
{
	const mg_device_config *c = ctx;
	mg_remote_opts o = MG_REMOTE_OPTS_INIT;
	o.insecure = c->insecure;
	o.ca_file = c->ca_file;
	o.no_ping = 1; /* an idle poll is one HEAD: it finds the scheme and any auth itself */
	return mg_remote_open(out, registry, &o, NULL, NULL, err);
}

/* Runs `sh -c cmd` in the state directory with the release's facts in its
 * environment; 0 when it exits 0, else MG_EINVAL saying how it ended and
 * the last line it wrote to stderr. */
static int run_cmd(const mg_device_config *c, const char *what, const char *cmd, char slot,
		   const mg_slot_meta *m, mg_error *err)
{
	char e_dir[4200], e_slot[64], e_rel[64], e_art[128], e_dig[128];
	snprintf(e_dir, sizeof(e_dir), "MODELGATE_DEVICE_DIR=%s/current", c->state_dir);
	snprintf(e_slot, sizeof(e_slot), "MODELGATE_DEVICE_SLOT=%c", slot);
	snprintf(e_rel, sizeof(e_rel), "MODELGATE_DEVICE_RELEASE=%llu", (unsigned long long)m->release);
	snprintf(e_art, sizeof(e_art), "MODELGATE_DEVICE_ARTIFACT=%s", m->artifact);
	snprintf(e_dig, sizeof(e_dig), "MODELGATE_DEVICE_DIGEST=%s", m->digest);
	char *set[] = {e_dir, e_slot, e_rel, e_art, e_dig, NULL};
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	int p[2];
	if (pipe(p))
		return mg_error_sys(err, MG_EIO, errno, "cannot run %s", what);
	pid_t pid;
	int rc = mg_proc_spawn(&pid, argv, set, -1, p[1], p[1], MG_PROC_GROUP, err);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return rc;
	}
	mg_buf errs = MG_BUF_INIT;
	mg_proc_io io = MG_PROC_IO_INIT;
	io.err_fd = p[0];
	io.errs = &errs;
	io.err_max = CMD_ERR_MAX;
	int pumped = mg_proc_pump(&io, c->cmd_timeout * 1000, what, err);
	mg_proc_io_close(&io);
	int st = mg_proc_reap(pid, pumped == MG_PROC_TIMEOUT ? 0 : -1);
	/* the last line it wrote */
	char *s = errs.data ? errs.data : "";
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	char *last = strrchr(s, '\n');
	char said[512];
	mg_escape_controls(said, sizeof(said), last ? last + 1 : s);
	if (pumped == MG_PROC_TIMEOUT)
		rc = mg_error_set(err, MG_EINVAL, "%s took more than %d s", what, c->cmd_timeout);
	else if (pumped && pumped != MG_PROC_TOO_MUCH)
		rc = pumped;
	else if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		rc = mg_error_set(err, MG_EINVAL, "%s %s %d%s%s", what,
				  st >= 0 && WIFSIGNALED(st) ? "was killed by signal" : "exited with status",
				  st < 0 ? -1 : WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
				  said[0] ? ": " : "", said);
	mg_buf_free(&errs);
	return rc;
}

/* Proves the release in slot on this device: on_switch, the smoke check
 * (smoke.c; what it measured to res->smoke), then health_cmd. */
static int prove(const mg_device_config *c, char slot, const mg_slot_meta *m, mg_sync_result *res,
		 mg_error *err)
{
	int rc = c->on_switch ? run_cmd(c, "on_switch", c->on_switch, slot, m, err) : 0;
	mg_buf said = MG_BUF_INIT;
	if (!rc)
		rc = mg_device_smoke(c, slot, &said, err);
	if (!rc)
		snprintf(res->smoke, sizeof(res->smoke), "%s", said.data ? said.data : "");
	mg_buf_free(&said);
	if (!rc && c->health_cmd)
		rc = run_cmd(c, "health_cmd", c->health_cmd, slot, m, err);
	return rc;
}

/* The release in slot failed to prove itself (why in err): current goes
 * back to the other slot when it holds a proven release, whose on_switch
 * runs again; the refused release's digest is remembered. */
static int fall_back(const mg_device_config *c, char slot, const mg_slot_meta *m,
		     mg_sync_result *res, mg_error *err)
{
	char other = slot == 'a' ? 'b' : 'a';
	mg_slot_meta om;
	mg_error e = {0};
	char reason[1200];
	snprintf(reason, sizeof(reason), "release %llu (%s) failed its health check: %s",
		 (unsigned long long)m->release, m->digest, err->msg);
	if (!mg_slot_meta_read(c->state_dir, other, &om, NULL) && om.proven) {
		if (mg_slot_switch(c->state_dir, other, &e))
			return mg_error_set(err, e.code, "%s; and switching back failed: %s", reason, e.msg);
		res->changed = 1;
		if (c->on_switch && run_cmd(c, "on_switch", c->on_switch, other, &om, &e))
			snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
				 "; back on release %llu, whose %s", (unsigned long long)om.release, e.msg);
		else
			snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
				 "; back on release %llu", (unsigned long long)om.release);
		memcpy(res->running, om.digest, MG_DIGEST_SIZE);
	}
	mg_device_status st = {"fail", reason, m->digest, reason, 0};
	mg_status_write(c, &st, NULL);
	res->refused = 1;
	return mg_error_set(err, MG_EINVAL, "%s", reason);
}

/* A release current points at but never proved (the last sync was cut off
 * after the switch): prove it now, or fall back. */
static int finish_switch(const mg_device_config *c, char slot, mg_slot_meta *m,
			 mg_sync_result *res, mg_error *err)
{
	if (prove(c, slot, m, res, err))
		return fall_back(c, slot, m, res, err);
	kill_point("health");
	m->proven = 1;
	m->proven_at = (int64_t)time(NULL);
	return mg_slot_meta_write(c->state_dir, slot, m, err);
}

/* Refuses the release digest for reason (in err): nothing on the device
 * changes but status.json. */
static int refuse(const mg_device_config *c, const char *digest, mg_sync_result *res, mg_error *err)
{
	mg_device_status st = {"none", err->msg, digest, err->msg, 0};
	mg_status_write(c, &st, NULL);
	res->refused = 1;
	return MG_EINVAL;
}

/* Downloads the release's one bundle to download/<hex>/NAME (hex: of the
 * release's manifest), through download/<blob hex>.part, which a kill
 * leaves for the next sync to go on from; its path to bundle (caller
 * frees). A finished download is not fetched again. */
static int download(const mg_device_config *c, const mg_repo *repo, const char *digest,
		    char **bundle, mg_error *err)
{
	assert(repo->remote); /* the config's tag names a registry */
	mg_buf mb = MG_BUF_INIT, dir = MG_BUF_INIT, part = MG_BUF_INIT, path = MG_BUF_INIT;
	mg_manifest *m = NULL;
	int rc = mg_repo_get_manifest(repo, NULL, digest, &mb, NULL, NULL, err);
	if (!rc)
		rc = mg_manifest_parse(&m, mb.data, mb.len, digest, err);
	if (!rc && (!m->artifact_type || strcmp(m->artifact_type, MG_ARTIFACT_BUNDLE) ||
		    m->nlayers != 1 || !m->layers[0].title || !mg_name_is_safe(m->layers[0].title)))
		rc = mg_error_set(err, MG_EINVAL, "'%s' (%s) is not a fleet release: one bundle pushed "
				  "with --artifact-type bundle", c->tag, digest);
	if (!rc)
		rc = mg_buf_printf(&dir, err, "%s/download/%s", c->state_dir, mg_digest_hex(digest));
	if (!rc)
		rc = mg_buf_printf(&path, err, "%s/%s", dir.data, m->layers[0].title);
	if (!rc)
		rc = mg_buf_printf(&part, err, "%s/download/%s.part", c->state_dir,
				   mg_digest_hex(m->layers[0].digest));
	struct stat sb;
	if (!rc && stat(path.data, &sb) && !(rc = mg_mkdirs(dir.data, err))) {
		rc = mg_remote_fetch_blob_resumable(repo->remote, repo->name, &m->layers[0], part.data,
						    path.data, err);
		if (!rc)
			kill_point("download");
	}
	if (!rc)
		*bundle = mg_buf_detach(&path);
	mg_manifest_free(m);
	mg_buf_free(&mb);
	mg_buf_free(&dir);
	mg_buf_free(&part);
	mg_buf_free(&path);
	return rc;
}

/* Checks the downloaded bundle against the fleet key and what runs; a
 * refusal is MG_EINVAL with the reason (an older release only when the
 * rollout plan lets it back: may_go_back). The model digest and release to
 * next. */
static int check_release(const mg_device_config *c, const mg_repo *repo, const char *bundle,
			 const mg_slot_meta *running, int may_go_back, mg_slot_meta *next, mg_error *err)
{
	mg_bundle_check *chk = NULL;
	int rc = mg_bundle_verify(&chk, bundle, c->public_key, err);
	if (rc) /* MG_EINVAL: not a bundle at all, refused as it is */
		return rc;
	if (!chk->ok)
		rc = mg_error_set(err, MG_EINVAL, "the bundle of %s does not verify: %s", next->digest,
				  chk->nproblems ? chk->problems[0] : "unknown problem");
	else if (chk->sig != MG_SIG_VALID)
		rc = mg_error_set(err, MG_EINVAL, "the bundle of %s is not signed by the fleet key", next->digest);
	else if (!chk->release)
		rc = mg_error_set(err, MG_EINVAL, "the bundle of %s carries no release counter "
				  "(package --release N)", next->digest);
	else if (running && chk->release < running->release && !may_go_back)
		rc = mg_error_set(err, MG_EINVAL, "release %llu (%s) is older than release %llu, which "
				  "runs, and no rollout plan lets it back in",
				  (unsigned long long)chk->release, next->digest,
				  (unsigned long long)running->release);
	if (!rc) {
		next->release = chk->release;
		memcpy(next->artifact, chk->artifact_digest, MG_DIGEST_SIZE);
		mg_attest_found found;
		mg_error e = {0};
		int r = mg_attest_find(repo, next->artifact, c->public_key, &found, &e);
		if (r == MG_ENOTFOUND || r == MG_ECORRUPT)
			rc = mg_error_set(err, MG_EINVAL, "release %llu (%s) has no passing gate result signed "
					  "by the fleet key: %s", (unsigned long long)next->release,
					  next->digest, e.msg);
		else if (r)
			rc = mg_error_set(err, r, "%s", e.msg);
	}
	mg_bundle_check_free(chk);
	return rc;
}

/* Unpacks bundle into the slot that is not current (emptied first: its
 * release is older than the proven one current holds), then records it. */
static int install(const mg_device_config *c, const char *bundle, char slot, const mg_slot_meta *m,
		   mg_error *err)
{
	char dir[4096], meta[4096];
	snprintf(dir, sizeof(dir), "%s/slots/%c", c->state_dir, slot);
	snprintf(meta, sizeof(meta), "%s/slots/%c.json", c->state_dir, slot);
	if (unlink(meta) && errno != ENOENT)
		return mg_error_sys(err, MG_EIO, errno, "cannot remove '%s'", meta);
	mg_remove_tree(dir);
	mg_bundle_check *chk = NULL;
	int rc = mg_bundle_unpack(&chk, bundle, dir, c->public_key, err);
	if (!rc && !chk->ok)
		rc = mg_error_set(err, MG_ECORRUPT, "'%s' changed after it was verified", bundle);
	mg_bundle_check_free(chk);
	if (!rc)
		kill_point("unpack");
	return rc ? rc : mg_slot_meta_write(c->state_dir, slot, m, err);
}

/* A sync that failed for want of the registry or the disk: status.json
 * says why, and keeps what it knew of the running release. */
static void record_failure(const mg_device_config *c, const char *why)
{
	char slot = mg_slot_current(c->state_dir);
	mg_slot_meta m;
	int proven = slot && !mg_slot_meta_read(c->state_dir, slot, &m, NULL) && m.proven;
	mg_device_status st = {proven ? "pass" : "none", why, NULL, NULL, 1};
	mg_status_write(c, &st, NULL);
}

/* The download of a release, once it is installed or refused. */
static void drop_download(const char *dl, const char *digest)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dl, mg_digest_hex(digest));
	mg_remove_tree(path);
}

/* What the fleet tag (at manifest digest head) asks of this device: a
 * release (a bundle artifact: that one), or a rollout plan signed by the
 * fleet key (the release it gives this device's cohort). A plan is
 * remembered in plan.json, so that an unchanged tag costs the HEAD alone
 * (as a release does: it is what runs). A plan that does not verify is
 * MG_EINVAL. */
static int fleet_wants(const mg_device_config *c, const mg_repo *repo, const char *head,
		       mg_fleet_seen *seen, mg_error *err)
{
	if (!mg_fleet_seen_read(c->state_dir, seen) && !strcmp(seen->tag, head))
		return 0;
	memset(seen, 0, sizeof(*seen));
	memcpy(seen->tag, head, MG_DIGEST_SIZE);
	mg_buf mb = MG_BUF_INIT;
	mg_manifest *m = NULL;
	int rc = mg_repo_get_manifest(repo, NULL, head, &mb, NULL, NULL, err);
	if (!rc)
		rc = mg_manifest_parse(&m, mb.data, mb.len, head, err);
	const char *type = rc || !m->artifact_type ? "" : m->artifact_type;
	if (!rc && !strcmp(type, MG_ARTIFACT_ROLLOUT)) {
		mg_rollout_plan p;
		rc = mg_rollout_open(repo, m, head, c->public_key, &p, err);
		if (rc == MG_ECORRUPT)
			rc = mg_error_set(err, MG_EINVAL, "the fleet tag's rollout plan %s is refused: %s",
					  head, err->msg);
		else if (!rc && strcmp(p.fleet, c->fleet))
			rc = mg_error_set(err, MG_EINVAL, "the rollout plan %s is for fleet '%s', not '%s'",
					  head, p.fleet, c->fleet);
		const char *d = rc ? NULL : mg_rollout_desired(&p, c->device_id, &seen->may_go_back);
		if (d)
			memcpy(seen->desired, d, MG_DIGEST_SIZE);
		seen->is_plan = 1;
		if (!rc)
			rc = mg_fleet_seen_write(c->state_dir, seen, err);
	} else if (!rc) {
		memcpy(seen->desired, head, MG_DIGEST_SIZE); /* a release itself (checked when read) */
		mg_fleet_seen_forget(c->state_dir);
	}
	mg_manifest_free(m);
	mg_buf_free(&mb);
	return rc;
}

/* The release asked for is the proven one in the other slot (a halted
 * rollout sends the device back): current goes back to it, no download. */
static int switch_back(const mg_device_config *c, char slot, const mg_slot_meta *m,
		       mg_sync_result *res, mg_error *err)
{
	int rc = mg_slot_switch(c->state_dir, slot, err);
	if (rc)
		return rc;
	res->changed = 1;
	memcpy(res->running, m->digest, MG_DIGEST_SIZE);
	mg_error e = {0};
	if (c->on_switch && run_cmd(c, "on_switch", c->on_switch, slot, m, &e))
		fprintf(stderr, "modelgate-device: back on release %llu, but %s\n",
			(unsigned long long)m->release, e.msg);
	mg_device_status st = {"pass", NULL, NULL, NULL, 1};
	return mg_status_write(c, &st, err);
}

int mg_device_sync(const mg_device_config *c, mg_sync_result *res, mg_error *err)
{
	memset(res, 0, sizeof(*res));
	mg_buf slots = MG_BUF_INIT, dl = MG_BUF_INIT;
	mg_ref *tag = NULL;
	mg_repo repo = {0};
	char *bundle = NULL;
	int rc = mg_buf_printf(&slots, err, "%s/slots", c->state_dir);
	if (!rc)
		rc = mg_buf_printf(&dl, err, "%s/download", c->state_dir);
	if (!rc)
		rc = mg_mkdirs(slots.data, err);
	if (!rc)
		rc = mg_mkdirs(dl.data, err);
	if (rc)
		goto done;

	/* what runs; a switch the last sync did not prove is proven first */
	char cur = mg_slot_current(c->state_dir);
	mg_slot_meta running = {0};
	int has_running = cur && !mg_slot_meta_read(c->state_dir, cur, &running, NULL);
	if (has_running && !running.proven && (rc = finish_switch(c, cur, &running, res, err)))
		goto done;
	cur = mg_slot_current(c->state_dir);
	has_running = cur && !mg_slot_meta_read(c->state_dir, cur, &running, NULL);
	if (has_running)
		memcpy(res->running, running.digest, MG_DIGEST_SIZE);

	mg_repo_opts ro = MG_REPO_OPTS_INIT;
	ro.open_remote = open_remote;
	ro.ctx = (void *)c;
	mg_slot_meta next = {0};
	char head[MG_DIGEST_SIZE], rejected[MG_DIGEST_SIZE];
	if ((rc = mg_ref_parse(&tag, c->tag, err)) || (rc = mg_repo_open(&repo, tag, &ro, err)) ||
	    (rc = mg_repo_head(&repo, tag->tag, head, err)))
		goto done;
	mg_status_rejected(c->state_dir, rejected);
	mg_fleet_seen seen = {0};
	if (has_running && !strcmp(head, running.digest))
		memcpy(seen.desired, head, MG_DIGEST_SIZE); /* the tag names what runs */
	else if (strcmp(head, rejected) && (rc = fleet_wants(c, &repo, head, &seen, err))) {
		if (rc == MG_EINVAL)
			rc = refuse(c, head, res, err);
		goto done;
	}
	if (!strcmp(head, rejected) || !strcmp(seen.desired, rejected)) {
		rc = mg_error_set(err, MG_EINVAL, "release %s was refused before; waiting for another",
				  !strcmp(head, rejected) ? head : seen.desired);
		res->refused = 1;
		goto done;
	}
	if (!seen.desired[0] || (has_running && !strcmp(seen.desired, running.digest))) {
		/* what runs is what the fleet wants (or the plan has nothing for it) */
		mg_device_status st = {has_running && running.proven ? "pass" : "none", NULL, NULL, NULL, 1};
		rc = mg_status_write(c, &st, err);
		goto done;
	}
	memcpy(next.digest, seen.desired, MG_DIGEST_SIZE);
	char other = cur == 'a' ? 'b' : 'a';
	mg_slot_meta om;
	if (has_running && !mg_slot_meta_read(c->state_dir, other, &om, NULL) && om.proven &&
	    !strcmp(om.digest, next.digest) && (seen.may_go_back || om.release >= running.release)) {
		rc = switch_back(c, other, &om, res, err);
		goto done;
	}
	if ((rc = download(c, &repo, next.digest, &bundle, err)))
		goto done;
	rc = check_release(c, &repo, bundle, has_running ? &running : NULL, seen.may_go_back, &next, err);
	if (rc == MG_EINVAL) {
		rc = refuse(c, next.digest, res, err);
		drop_download(dl.data, next.digest);
		goto done;
	}
	if (rc)
		goto done;
	kill_point("verify");
	char slot = cur == 'a' ? 'b' : 'a';
	if ((rc = install(c, bundle, slot, &next, err)) || (rc = mg_slot_switch(c->state_dir, slot, err)))
		goto done;
	res->changed = 1;
	memcpy(res->running, next.digest, MG_DIGEST_SIZE);
	kill_point("switch");
	if ((rc = finish_switch(c, slot, &next, res, err)))
		goto done;
	mg_device_status st = {"pass", NULL, NULL, NULL, 0};
	rc = mg_status_write(c, &st, err);
	drop_download(dl.data, next.digest);
done:
	if (rc && !res->refused && err)
		record_failure(c, err->msg);
	free(bundle);
	mg_repo_close(&repo);
	mg_ref_free(tag);
	mg_buf_free(&slots);
	mg_buf_free(&dl);
	return rc;
}
