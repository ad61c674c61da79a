/* net/mqtt: the fleet's status channel over an MQTT broker. A device
 * publishes its status.json as a retained message (modelgate-device); the
 * CLI reads every device's retained status back (a rollout's progress).
 * One connection per call: devices publish every few minutes and the CLI
 * reads once per command, so nothing is kept open between calls.
 *
 * Everything is borrowed for the call. Nothing here prints. Errors are
 * MG_ENET naming the broker as host:port (refused, with the broker's
 * reason; not reached; no acknowledgement in time). libmosquitto stays in
 * mqtt.c. */
#ifndef MG_NET_MQTT_H
#define MG_NET_MQTT_H

#include <stddef.h>

#include "util/util.h"

typedef struct mg_mqtt_opts {
	const char *host;        /* NULL: no MQTT */
	int port;                /* 0: 1883, or 8883 with TLS */
	const char *username;
	const char *password;    /* the password itself (callers read it from an env variable) */
	const char *ca_file;     /* TLS on when set */
	const char *cert_file, *key_file; /* client certificate */
	const char *client_id;   /* NULL: a random one */
} mg_mqtt_opts;

/* Publishes one message (QoS 1) and waits for the broker's acknowledgement. */
int mg_mqtt_publish(const mg_mqtt_opts *o, const char *topic, const void *data, size_t len,
		    int retain, mg_error *err);

/* Subscribes to filter (e.g. "modelgate/prod/+/status") and calls fn for each RETAINED message
 * the broker sends; returns once no message came for quiet_ms after the subscription was
 * acknowledged (or after timeout_ms in all). fn returning nonzero stops and is returned.
 * Reaching timeout_ms after the acknowledgement is 0 (what came was given to fn); before it,
 * MG_ENET. A filter the broker does not grant is MG_ENET naming it. */
typedef int (*mg_mqtt_fn)(void *ctx, const char *topic, const void *data, size_t len);
int mg_mqtt_collect(const mg_mqtt_opts *o, const char *filter, int quiet_ms, int timeout_ms,
		    mg_mqtt_fn fn, void *ctx, mg_error *err);

#endif
