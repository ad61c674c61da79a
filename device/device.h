/* modelgate-device: the fleet updater that runs on each device
 * (docs/FLEET.md). A program over the project's library, like the CLI:
 * main.c reads the command line, config.c the config, sync.c makes one
 * update step (poll, verify, install into the inactive slot, switch,
 * prove, or switch back), smoke.c runs the release's model on the device,
 * slots.c keeps the state directory, publish.c sends the status to the
 * MQTT broker (net/mqtt.h) and the status URL.
 *
 * Ownership as in util.h: what comes back through out belongs to the
 * caller and is freed with its _free. */
#ifndef MG_DEVICE_H
#define MG_DEVICE_H

#include <stdint.h>

#include "registry/registry.h"

/* Where status.json goes as a retained MQTT message (publish.c). */
typedef struct mg_device_mqtt {
	char *host;         /* NULL: no MQTT */
	int port;           /* 0: 1883, or 8883 with TLS */
	char *username;
	char *password_env; /* the variable that holds the password */
	char *ca_file;      /* TLS: the broker's CA; with it, TLS is on */
	char *cert_file;    /* TLS client certificate and key */
	char *key_file;
} mg_device_mqtt;

/* The device's own budget for the smoke check (0: none). */
typedef struct mg_device_limits {
	double latency_ms; /* the median of the smoke check's runs */
	double memory_mb;  /* the agent's peak RSS, in MiB */
} mg_device_limits;

typedef struct mg_device_config {
	char *fleet;       /* "kws-prod": names the fleet in status and topics */
	char *tag;         /* the fleet tag: "localhost:5000/acme/kws:fleet-prod" */
	char *public_key;  /* the fleet key (Ed25519 public PEM) */
	char *state_dir;   /* slots, current, downloads, status.json */
	char *device_id;   /* from the config, else /etc/machine-id */
	mg_kv labels;      /* hw=rpi4, site=... */
	int poll_interval; /* seconds between polls (run) */
	int poll_jitter;   /* up to this many seconds more, at random */
	int insecure;      /* plain HTTP or unverified TLS to the registry */
	char *ca_file;     /* a private CA for the registry */
	char *health_cmd;  /* sh -c: exit 0 when the application is healthy */
	char *on_switch;   /* sh -c: after each switch of current */
	int cmd_timeout;   /* seconds each command may take */
	mg_device_mqtt mqtt;
	char *status_url;        /* status.json is also POSTed here (publish.c) */
	char *status_secret_env; /* the variable holding its HMAC secret */
	char *target_class;    /* the gate report's target whose latency and memory limits apply */
	int smoke_iterations;  /* timed runs of the smoke check; 0: 20 with a limit, else 1 */
	mg_device_limits limits;
} mg_device_config;

/* Reads the config at path: a JSON object of the keys above (docs/FLEET.md);
 * an unknown key, a missing required one or a value of the wrong type is
 * MG_EINVAL naming the file and the key. machine_id is where the device id
 * comes from when the config has none (NULL: /etc/machine-id). */
int mg_device_config_read(mg_device_config **out, const char *path, const char *machine_id,
			  mg_error *err);
void mg_device_config_free(mg_device_config *c);

/* ---- the state directory (slots.c) ---------------------------------- */

/* What a slot holds: the fleet release installed there. */
typedef struct mg_slot_meta {
	char digest[MG_DIGEST_SIZE];   /* the release's OCI manifest (the fleet tag's) */
	char artifact[MG_DIGEST_SIZE]; /* the model's artifact digest */
	uint64_t release;              /* its release counter */
	int proven;                    /* its health check passed on this device */
	int64_t proven_at;             /* when (unix seconds), 0 when not */
} mg_slot_meta;

/* The slot current points at ('a' or 'b'), or 0 when there is none yet. */
char mg_slot_current(const char *state_dir);
/* Reads slots/<slot>.json; MG_ENOTFOUND when the slot holds nothing. */
int mg_slot_meta_read(const char *state_dir, char slot, mg_slot_meta *out, mg_error *err);
/* Writes slots/<slot>.json atomically. */
int mg_slot_meta_write(const char *state_dir, char slot, const mg_slot_meta *m, mg_error *err);
/* Points current at slots/<slot>: a new link renamed over the old one. */
int mg_slot_switch(const char *state_dir, char slot, mg_error *err);

/* What status.json says (written atomically after every sync). */
typedef struct mg_device_status {
	const char *health;     /* "pass", "fail" or "none" */
	const char *last_error; /* the last sync's error; NULL: none */
	const char *rejected;   /* the release digest refused last, or NULL */
	const char *rejected_reason; /* why it was refused */
	int carry;              /* rejected NULL: keep status.json's refusal (the
				   fleet may still offer that release) */
} mg_device_status;
int mg_status_write(const mg_device_config *c, const mg_device_status *s, mg_error *err);
/* The release digest status.json records as refused ("" when none). */
void mg_status_rejected(const char *state_dir, char out[MG_DIGEST_SIZE]);

/* What the fleet tag last pointed at and what it asked of this device
 * (plan.json): the tag's manifest digest, the release it gives this device
 * ("" : keep what runs), whether that may be older than what runs, and
 * whether the tag pointed at a rollout plan (then status.json names it). */
typedef struct mg_fleet_seen {
	char tag[MG_DIGEST_SIZE];
	char desired[MG_DIGEST_SIZE];
	int may_go_back;
	int is_plan;
} mg_fleet_seen;
/* MG_ENOTFOUND when there is no (good) plan.json. */
int mg_fleet_seen_read(const char *state_dir, mg_fleet_seen *out);
int mg_fleet_seen_write(const char *state_dir, const mg_fleet_seen *s, mg_error *err);
/* The tag names a release, no plan: plan.json goes. */
void mg_fleet_seen_forget(const char *state_dir);

/* ---- where the status goes (publish.c) -------------------------------- */

/* Publishes status.json's bytes as the retained message of the topic
 * modelgate/<fleet>/<device>/status (QoS 1) and waits until the broker has
 * it; MG_ENET naming the broker when it cannot, MG_EINVAL when the password
 * variable is not set. Nothing when c has no mqtt host. */
int mg_device_mqtt_publish(const mg_device_config *c, const void *status, size_t len,
			   mg_error *err);

/* POSTs status.json's bytes to the config's status_url, signed as the
 * deploy webhooks are (X-Modelgate-Signature-256: sha256=HMAC-SHA256 of the
 * body under the secret in status_secret_env); any 2xx is success, else
 * MG_ENET naming the host and the answer; MG_EINVAL when the secret
 * variable is not set. Nothing when c has no status_url. */
int mg_device_post_status(const mg_device_config *c, const void *status, size_t len,
			  mg_error *err);
/* ---- the smoke check (smoke.c) --------------------------------------- */

/* Runs the model of the release in slot on this device, on the bundle's
 * smoke inputs (random ones when it has none and a limit applies): its
 * outputs must be the expected ones, its median latency and the agent's
 * peak memory within the limits of the config and of the release's gate
 * report for the config's target_class (docs/FLEET.md). 0 when it passes
 * or has nothing to check, with one line on what it measured appended to
 * said; MG_EINVAL with the reason when it fails. */
int mg_device_smoke(const mg_device_config *c, char slot, mg_buf *said, mg_error *err);

/* ---- one sync (sync.c) ------------------------------------------------ */

typedef struct mg_sync_result {
	int changed;  /* current moved to the fleet tag's release */
	int refused;  /* the release was refused; current is what ran before */
	char running[MG_DIGEST_SIZE]; /* the release current holds, "" none */
	char smoke[1024]; /* what the smoke check of a release proven now measured, "" none */
} mg_sync_result;

/* Brings the device to the fleet tag's release. 0: it runs it (or did
 * already). A refused release (not signed by the fleet key, no passing
 * gate result signed by it, older than what runs, failed health check) is
 * MG_EINVAL with the reason and res->refused set; the device keeps the
 * release it ran. Other codes: the registry or the disk failed; current is
 * a complete release whatever happened, and the next sync goes on. */
int mg_device_sync(const mg_device_config *c, mg_sync_result *res, mg_error *err);

#endif
