/* rollout: a fleet's staged rollout (docs/FLEET.md). A rollout plan is a
 * small signed document the fleet tag points at while a new release goes
 * out: which release is the target, which the fleet ran before, the stages
 * (cumulative shares of the fleet), the thresholds, the salt of the
 * cohorts and where the rollout stands. Devices read it on every change
 * of the tag and work out their own release from it (mg_rollout_desired);
 * the controller (`modelgate rollout`) reads the devices' statuses, tallies
 * them per stage (mg_rollout_tally) and decides the next step
 * (mg_rollout_decide), writing a new plan when something moves. Nothing
 * runs beside the registry and the broker: the plan in the registry is the
 * whole state of a rollout. */
#ifndef MG_ROLLOUT_H
#define MG_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include "registry/repo.h"
#include "util/util.h"

#define MG_ARTIFACT_ROLLOUT "application/vnd.modelgate.rollout.v1"
#define MG_ROLLOUT_PAYLOAD_TYPE "application/vnd.modelgate.rollout+json"
#define MG_ROLLOUT_MAX_STAGES 16
/* cohorts are in basis points: 0..9999 */
#define MG_ROLLOUT_BP 10000

typedef enum mg_rollout_state {
	MG_ROLLOUT_RUNNING, /* stages going out */
	MG_ROLLOUT_HALTED,  /* too many failures: every device back on previous */
	MG_ROLLOUT_ABORTED, /* rollout abort: likewise */
	MG_ROLLOUT_DONE,    /* the last stage was healthy long enough */
} mg_rollout_state;

typedef struct mg_rollout_plan {
	char id[24];                   /* 16 hex, fixed for the rollout's life */
	char fleet[128];               /* the fleet (a name as tags are: mg_tag_valid) */
	char salt[40];                 /* 32 hex: cohorts differ per rollout */
	char target[MG_DIGEST_SIZE];   /* the release going out (a bundle artifact) */
	char previous[MG_DIGEST_SIZE]; /* what the fleet ran, "" when nothing */
	double stages[MG_ROLLOUT_MAX_STAGES]; /* cumulative percents, rising, the last 100 */
	size_t nstages;
	size_t stage;                  /* the stage going out now */
	double max_failures;           /* percent of the targeted devices */
	int64_t min_healthy_time;      /* seconds a stage stays healthy before the next */
	int rollback;                  /* the target may be older than what devices run */
	mg_rollout_state state;
	char reason[512];              /* why it halted or was aborted */
	int64_t started, stage_started; /* unix seconds */
} mg_rollout_plan;

const char *mg_rollout_state_name(mg_rollout_state s);

/* "5%,25%,100%" (the % optional) into p->stages; MG_EINVAL naming what is
 * wrong: not numbers, not rising, above 100, the last not 100. */
int mg_rollout_parse_stages(mg_rollout_plan *p, const char *s, mg_error *err);
/* "10m", "90s", "2h", "1d", "0": seconds; MG_EINVAL naming s. */
int mg_rollout_parse_duration(const char *s, int64_t *out, mg_error *err);

/* Canonical JSON of the plan (appended to out). */
int mg_rollout_encode(const mg_rollout_plan *p, mg_buf *out, mg_error *err);
/* A plan from JSON; MG_ECORRUPT naming `what` when it is not one. */
int mg_rollout_decode(mg_rollout_plan *p, const void *data, size_t len, const char *what,
		      mg_error *err);

/* The device's cohort in the rollout: the first 8 bytes of
 * sha256(salt ":" device_id) modulo MG_ROLLOUT_BP. Deterministic, so a
 * device's stage never changes during a rollout. */
unsigned mg_rollout_cohort(const char *salt, const char *device_id);
/* The stage (0-based) that reaches a cohort. */
size_t mg_rollout_stage_of(const mg_rollout_plan *p, unsigned cohort);
/* The release the plan gives device_id: the target once its stage is out
 * (and the rollout runs or is done), else previous; NULL when that is
 * nothing (keep what runs). *may_go_back: the plan lets this release in
 * even when it is older than what the device runs (it is previous, or the
 * plan is a rollback). */
const char *mg_rollout_desired(const mg_rollout_plan *p, const char *device_id, int *may_go_back);

/* Signs the plan (DSSE, Ed25519 key_path), stores it as an artifact in
 * repo and points tag at it, but only while tag still points at expect
 * ("" : at nothing): the tag is asked again just before it moves, and a
 * tag another controller moved meanwhile is MG_EINVAL saying so. The
 * plan's manifest digest to out. */
int mg_rollout_publish(const mg_repo *r, const char *tag, const char *expect,
		       const mg_rollout_plan *p, const char *key_path, char out[MG_DIGEST_SIZE],
		       mg_error *err);
/* Reads the plan stored as manifest digest: an MG_ARTIFACT_ROLLOUT
 * artifact whose envelope verifies with the public key pub (NULL: read
 * without checking the signature, for looking only). MG_ECORRUPT naming
 * the digest when it is not a plan or not signed by pub. */
int mg_rollout_read(const mg_repo *r, const char *digest, const char *pub, mg_rollout_plan *p,
		    mg_error *err);
/* As mg_rollout_read, for the manifest m (of digest) already read. */
int mg_rollout_open(const mg_repo *r, const mg_manifest *m, const char *digest, const char *pub,
		    mg_rollout_plan *p, mg_error *err);

/* ---- the controller's view --------------------------------------------- */

/* What devices of one stage (its own band of cohorts) are doing. */
typedef struct mg_rollout_count {
	size_t devices;  /* known to the broker */
	size_t healthy;  /* run the target and passed their health check */
	size_t failed;   /* refused the target or failed its health check */
	size_t updating; /* saw the current plan, not yet on the target */
	size_t back;     /* saw it halted or aborted, and run the previous release */
	size_t not_seen; /* have not reported since the current plan */
} mg_rollout_count;

/* A reason of failure, or a label, and how many failed devices share it. */
typedef struct mg_rollout_group {
	char what[400];   /* the reason with its numbers as '#', or "key=value" */
	char example[512]; /* one device's reason as it said it */
	size_t failed;    /* failed devices with it */
	size_t devices;   /* targeted devices with it (labels) */
} mg_rollout_group;

typedef struct mg_rollout_tally {
	mg_rollout_count stage[MG_ROLLOUT_MAX_STAGES];
	size_t targeted, healthy, failed; /* over the stages out so far */
	int64_t healthy_since;  /* the last proof among targeted devices, or the stage start */
	mg_rollout_group *reasons; /* as many as there are: a label may be one a device */
	size_t nreasons, reasons_cap;
	mg_rollout_group *labels;
	size_t nlabels, labels_cap;
	char waiting[512]; /* a few devices the stage waits for, "a, b, c and 4 more" */
	size_t nwaiting;
} mg_rollout_tally;

/* Starts a tally of the plan (stored as plan_digest); t holds nothing yet.
 * mg_rollout_tally_free releases what the adds allocated. */
void mg_rollout_tally_init(mg_rollout_tally *t, const mg_rollout_plan *p);
void mg_rollout_tally_free(mg_rollout_tally *t);
/* Adds one device's status.json (as the device publishes it); a status
 * that is not one, or of another fleet, is skipped (returns MG_ECORRUPT,
 * the tally unchanged); MG_ENOMEM when a new group finds no memory. */
int mg_rollout_tally_add(mg_rollout_tally *t, const mg_rollout_plan *p, const char *plan_digest,
			 const void *status, size_t len, mg_error *err);

typedef enum mg_rollout_step {
	MG_STEP_WAIT,    /* the stage is not yet healthy, or not for long enough */
	MG_STEP_ADVANCE, /* the next stage may go out */
	MG_STEP_FINISH,  /* the last stage is healthy: the rollout is done */
	MG_STEP_HALT,    /* too many failures: back to previous */
	MG_STEP_STOPPED, /* halted, aborted or done already: nothing to do */
} mg_rollout_step;

/* What the controller does next at time now, and why (into why). */
mg_rollout_step mg_rollout_decide(const mg_rollout_plan *p, const mg_rollout_tally *t, int64_t now,
				  char *why, size_t whylen);

/* ---- the view (rollout_view.c) ------------------------------------------ */

typedef enum mg_rollout_format {
	MG_ROLLOUT_TEXT,
	MG_ROLLOUT_JSON,
	MG_ROLLOUT_MARKDOWN,
	MG_ROLLOUT_HTML,
} mg_rollout_format;

/* The rollout as `rollout status` shows it: the plan, per stage the
 * devices targeted, healthy, failed, updating and not yet seen, the
 * failures grouped by reason and by label, and what the controller would
 * do next (step, why). Devices' words (reasons, labels) are escaped for
 * the format; text has no control characters left. */
int mg_rollout_view(mg_buf *out, mg_rollout_format f, const mg_rollout_plan *p,
		    const char *plan_digest, const mg_rollout_tally *t, mg_rollout_step step,
		    const char *why, mg_error *err);
const char *mg_rollout_step_name(mg_rollout_step s);

#endif
