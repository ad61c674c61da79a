/* deploy: moving an environment tag to a checked model version, the
 * append-only deployment history kept next to it in the registry, the
 * triggers that tell the CI systems (GitHub, GitLab, webhooks), and the
 * signed gate result attached to a model as an OCI referrer.
 *
 * Where things live, for repository R and environment E (local store or
 * registry alike):
 *   R:E             the deployed version
 *   R:E-previous    the version E pointed at before (rollback target)
 *   R:E-history     an artifact whose one layer is the history, JSON lines
 *   R:sha256-<hex>  the referrers fallback: an image index listing the
 *                   signed gate results of manifest sha256:<hex> (for
 *                   registries without the Referrers API, and the store)
 *
 * Ownership as in registry.h: what comes back through out belongs to the
 * caller and goes to the matching _free. Nothing here prints. */
#ifndef MG_DEPLOY_H
#define MG_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "pipelines/ci_env.h"
#include "registry/repo.h"
#include "util/util.h"

typedef struct mg_remote mg_remote;
struct mg_report;

#define MG_ARTIFACT_GATE_RESULT "application/vnd.modelgate.gate-result.v1+json"
#define MG_ARTIFACT_HISTORY "application/vnd.modelgate.deploy-history.v1"
#define MG_MEDIA_HISTORY "application/vnd.modelgate.deploy-history.v1+jsonl"
#define MG_MEDIA_DSSE "application/vnd.dsse.envelope.v1+json"
#define MG_MEDIA_EMPTY "application/vnd.oci.empty.v1+json"
#define MG_PREDICATE_GATE_RESULT "https://modelgate.dev/gate-result/v1"
#define MG_INTOTO_STATEMENT "https://in-toto.io/Statement/v1"
#define MG_DSSE_PAYLOAD_TYPE "application/vnd.in-toto+json"

/* ---- the history (deploy_history.c) ---------------------------------- */

typedef struct mg_trigger_result {
	char *name;
	int ok;
	long status;   /* last HTTP status, 0 when none */
	char *message; /* why it failed, or NULL */
	char *when;
} mg_trigger_result;

/* One tag move, with the outcome of its triggers gathered from the lines
 * that followed it (a rerun adds lines; a trigger counts as fired when any
 * of its lines is ok). */
typedef struct mg_history_entry {
	int64_t seq;      /* 1, 2, ... per environment */
	char *action;     /* "deploy" or "rollback" */
	char *env;
	char *digest;     /* what E points at after the move */
	char *previous;   /* what it pointed at before, or NULL */
	char *reference;  /* as the user typed it, or NULL */
	char *report_digest; /* sha256 of the report file, or NULL */
	char *report_status; /* "pass", ... or NULL */
	char *who;
	char *when;       /* RFC 3339 UTC */
	char *run_url;    /* the CI job, or NULL */
	mg_trigger_result *triggers;
	size_t ntriggers;
} mg_history_entry;

typedef struct mg_history {
	mg_history_entry *entries; /* oldest first */
	size_t n;
	char *text;                /* the JSON lines as stored */
	char tag_digest[MG_DIGEST_SIZE]; /* of E-history when read; "" if none */
} mg_history;

/* Reads the history of env: an empty history when there is none yet. */
int mg_history_read(mg_history **out, const mg_repo *t, const char *env, mg_error *err);
void mg_history_free(mg_history *h);
/* Appends lines (each one JSON object, '\n'-terminated) and moves E-history,
 * re-reading and retrying when another writer moved it meanwhile. */
int mg_history_append(const mg_repo *t, const char *env, const char *lines,
		      mg_error *err);
/* The history as JSON (an array of entries); caller frees. */
char *mg_history_to_json(const mg_history *h, mg_error *err);
/* Who is deploying: the CI's GITHUB_ACTOR or GITLAB_USER_LOGIN (ci may be
 * NULL), else USER or LOGNAME, else "unknown". */
const char *mg_deploy_who(const mg_ci_env *ci);

/* ---- triggers (trigger.c, trigger_fire.c) ---------------------------- */

typedef enum {
	MG_TRIGGER_GITHUB_DISPATCH, /* repository_dispatch */
	MG_TRIGGER_GITHUB_WORKFLOW, /* workflow_dispatch */
	MG_TRIGGER_GITLAB,          /* pipeline trigger */
	MG_TRIGGER_WEBHOOK,
} mg_trigger_kind;

typedef struct mg_trigger {
	mg_trigger_kind kind;
	char *name;       /* unique; recorded in the history */
	char *repo;       /* github: owner/repo; gitlab: project id or path */
	char *event;      /* repository_dispatch event_type */
	char *workflow;   /* workflow_dispatch: file name or id */
	char *ref;        /* workflow_dispatch and gitlab: git ref; NULL: the
			     CI's (GITHUB_REF_NAME, CI_DEFAULT_BRANCH), else main */
	char *url;        /* webhook */
	char *api_url;    /* overrides GITHUB_API_URL / CI_API_V4_URL */
	char *token_env;  /* the variable holding the token */
	char *secret_env; /* webhook: the variable holding the HMAC secret */
	mg_kv extra;      /* workflow inputs / gitlab variables, strings */
} mg_trigger;

typedef struct mg_trigger_list {
	mg_trigger *v;
	size_t n;
} mg_trigger_list;
#define MG_TRIGGER_LIST_INIT {NULL, 0}

/* Adds a trigger from a command-line spec:
 *   github-dispatch:OWNER/REPO[:EVENT_TYPE]
 *   github-workflow:OWNER/REPO:WORKFLOW[:REF]
 *   gitlab:PROJECT[:REF]
 *   webhook:URL
 * token_env/secret_env (may be NULL) override the default variables. */
int mg_trigger_parse_spec(mg_trigger_list *l, const char *spec, const char *token_env,
			  const char *secret_env, mg_error *err);
/* Adds the triggers of the "deploy" section of a modelgate.json text
 * (none when it has no such section); errors name file and JSON path. */
int mg_trigger_parse_config(mg_trigger_list *l, const char *text, size_t len, const char *file,
			    mg_error *err);
void mg_trigger_list_clear(mg_trigger_list *l);
/* Checks that every token and secret the triggers need is set, before
 * anything moves: MG_EINVAL naming the trigger and the variable. */
int mg_trigger_check_env(const mg_trigger_list *l, mg_error *err);

/* What a trigger tells. */
typedef struct mg_trigger_event {
	const char *action;    /* "deploy" or "rollback" */
	const char *env;
	const char *repo;      /* the model repository, with registry host */
	const char *digest;
	const char *previous;  /* or NULL */
	const char *reference; /* or NULL */
	const char *report_digest, *report_status; /* or NULL */
	size_t gates_passed, gates_total;
	int64_t seq;
	const char *when;      /* of the tag move */
	const char *who;
	const mg_ci_env *ci;   /* the CI run (API base, default ref), or NULL */
	char delivery[65];     /* idempotency key: mg_trigger_delivery_id */
} mg_trigger_event;

/* The idempotency key of an event: hex SHA-256 of env, digest, action and
 * seq (the same on every retry and rerun of one tag move). */
void mg_trigger_delivery_id(mg_trigger_event *ev);

/* A built request (for tests: what would be sent). Header lines hold
 * secrets: never print them. */
typedef struct mg_trigger_request {
	char *method, *url;
	char *headers[8]; /* NULL-terminated */
	char *content_type;
	mg_buf body;
	long want_status; /* the documented success status */
} mg_trigger_request;
int mg_trigger_build(const mg_trigger *t, const mg_trigger_event *ev, mg_trigger_request *out,
		     mg_error *err);
void mg_trigger_request_free(mg_trigger_request *r);

typedef struct mg_trigger_http {
	int insecure;
	const char *ca_file;
	int max_retries;
	long backoff_ms;
} mg_trigger_http;

/* Sends a trigger, retrying transient failures: 0 and res filled (ok or
 * not: a refused trigger is res->ok 0 with the status and a message). */
int mg_trigger_fire(const mg_trigger *t, const mg_trigger_event *ev, const mg_trigger_http *http,
		    mg_trigger_result *res, mg_error *err);
void mg_trigger_result_clear(mg_trigger_result *r);

/* HMAC-SHA256 of data under key, as 64 lowercase hex digits. */
void mg_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len,
			char out[65]);

/* ---- deploy and rollback (deploy.c) ---------------------------------- */

typedef struct mg_deploy_opts {
	int version;
	const char *env;
	const char *digest;        /* deploy: the checked version */
	const char *reference;     /* as typed, for the history and payloads */
	const struct mg_report *report;
	const char *report_digest;
	int rollback;
	const mg_trigger_list *triggers;
	mg_trigger_http http;
	const char *signed_by;     /* deploy: a public key; a gate result it signed
				      must be attached to digest. NULL: not required */
	const mg_ci_env *ci;       /* the CI run (who, run URL, triggers), or NULL */
} mg_deploy_opts;
#define MG_DEPLOY_OPTS_VERSION 1
#define MG_DEPLOY_OPTS_INIT {MG_DEPLOY_OPTS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, NULL, \
			     {0, NULL, 0, 0}, NULL, NULL}

typedef struct mg_deploy_result {
	char digest[MG_DIGEST_SIZE];   /* E now */
	char previous[MG_DIGEST_SIZE]; /* E before, "" if none */
	int64_t seq;
	int moved;     /* the tag moved now (0: a rerun of the last move) */
	mg_trigger_result *fired; /* the triggers fired now */
	size_t nfired;
	size_t nfailed;
	size_t nskipped; /* fired ok by an earlier run */
	int refused;     /* deploy refused by policy (exit 1), nothing moved */
	char signed_manifest[MG_DIGEST_SIZE]; /* with signed_by: the gate result */
	char signed_keyid[MG_DIGEST_SIZE];    /* that verified, and its key */
} mg_deploy_result;

/* Deploys (or, with opts->rollback, rolls back) and fires the triggers
 * that have not fired for this tag move yet. A deploy is refused (MG_EINVAL
 * with res->refused set, before anything moves) unless its report passes
 * mg_report_check_for the digest and, with signed_by, a gate result signed
 * by that key is attached to the digest (mg_attest_find). A failed trigger
 * leaves the tag moved and recorded: the result counts it in nfailed (and
 * the call returns 0). A rerun for the tag move last recorded moves
 * nothing. */
int mg_deploy_run(const mg_repo *t, const mg_deploy_opts *opts, mg_deploy_result *res,
		  mg_error *err);
void mg_deploy_result_clear(mg_deploy_result *res);

/* ---- the signed gate result (attest.c, attest_find.c) ---------------- */

/* The in-toto Statement of a report for the model digest: subject the
 * model, predicate the dataset digest, targets with fingerprints, and
 * every gate's name, status and figures. Canonical JSON (sorted keys). */
int mg_attest_statement(mg_buf *out, const struct mg_report *r, const char *model_digest,
			mg_error *err);
/* DSSE pre-authentication encoding of a payload (dsse.c). */
int mg_dsse_pae(mg_buf *out, const char *payload_type, const void *payload, size_t len,
		mg_error *err);
/* A DSSE envelope of payload, of payload_type, signed with the Ed25519
 * private key (appended to out, compact JSON). */
int mg_dsse_sign(mg_buf *out, const char *payload_type, const void *payload, size_t len,
		 const char *key_path, mg_error *err);
/* Opens an envelope: it must be of payload_type and carry a signature by
 * the public key pub; the payload to payload (appended), the signing key's
 * id to keyid (may be NULL). MG_ECORRUPT (naming `what`) when it is not
 * such an envelope or no signature verifies, MG_EINVAL for a bad key. */
int mg_dsse_open(const void *env, size_t len, const char *payload_type, const char *pub,
		 const char *what, mg_buf *payload, char keyid[MG_DIGEST_SIZE], mg_error *err);
/* The manifest a referrer names as its subject. */
typedef struct mg_dsse_subject {
	const char *media_type, *digest;
	size_t size;
} mg_dsse_subject;
/* Stores an envelope as an OCI artifact: a manifest of artifact_type with
 * the empty config, the envelope as its one layer, the created annotation
 * and subject when set; tagged when tag is set. Its digest to out and its
 * length to size (may be NULL). */
int mg_dsse_put(const mg_repo *t, const char *artifact_type, const void *env, size_t len,
		const mg_dsse_subject *subject, const char *tag, const char *created,
		char out[MG_DIGEST_SIZE], size_t *size, mg_error *err);
/* A DSSE envelope of the statement signed with the Ed25519 key. */
int mg_attest_sign(mg_buf *out, const char *statement, size_t len, const char *key_path,
		   mg_error *err);
/* Attaches an envelope to subject_digest as a referrer (manifest with
 * subject, artifactType MG_ARTIFACT_GATE_RESULT), and lists it in the
 * sha256-<hex> fallback index. The referrer manifest's digest to out. */
int mg_attest_attach(const mg_repo *t, const char *subject_digest, const void *envelope,
		     size_t len, char out[MG_DIGEST_SIZE], mg_error *err);

typedef struct mg_attest_found {
	char manifest[MG_DIGEST_SIZE]; /* the referrer that verified */
	char keyid[MG_DIGEST_SIZE];
	size_t checked;                /* gate results looked at */
} mg_attest_found;

/* Finds a gate result of subject_digest signed by the public key whose
 * statement names that digest and passed. MG_ENOTFOUND when there is no
 * gate result at all; MG_ECORRUPT (the message says why, for the last one
 * seen) when none verified and passed. */
int mg_attest_find(const mg_repo *t, const char *subject_digest, const char *pub_path,
		   mg_attest_found *out, mg_error *err);

#endif
