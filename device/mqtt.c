/* Status over MQTT: after each sync the device's status.json goes to its
 * broker as the retained message of modelgate/<fleet>/<device>/status, so
 * whoever subscribes later (a rollout controller, a dashboard) sees every
 * device's last state at once. One connection per publish: a device syncs
 * every few minutes, and a connection left open would be one more thing to
 * keep alive. libmosquitto speaks the protocol; this is the only file that
 * includes it. */
#include "device.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PUBLISH_TIMEOUT_MS 10000
#define MOSQ_ERR_TIMEOUT_SEEN (-1000) /* ours: no acknowledgement in time */

typedef struct progress {
	int connack;   /* the broker's answer to connecting: 0 accepted, -1 none yet */
	int published; /* the broker has the message */
} progress;

static void on_connect(struct mosquitto *m, void *ctx, int rc)
{
	(void)m;
	((progress *)ctx)->connack = rc;
}

static void on_publish(struct mosquitto *m, void *ctx, int mid)
{
	(void)m;
	(void)mid;
	((progress *)ctx)->published = 1;
}

int mg_device_mqtt_publish(const mg_device_config *c, const void *status, size_t len,
			   mg_error *err)
{
	const mg_device_mqtt *q = &c->mqtt;
	if (!q->host)
		return 0;
	int port = q->port ? q->port : q->ca_file ? 8883 : 1883;
	char topic[1024];
	snprintf(topic, sizeof(topic), "modelgate/%s/%s/status", c->fleet, c->device_id);
	const char *pass = q->password_env ? getenv(q->password_env) : NULL;
	if (q->password_env && !pass)
		return mg_error_set(err, MG_EINVAL, "mqtt: the password variable '%s' is not set",
				    q->password_env);
	mosquitto_lib_init();
	progress p = {-1, 0};
	int rc = MOSQ_ERR_NOMEM;
	const char *step = "set up";
	struct mosquitto *m = mosquitto_new(c->device_id, true, &p);
	if (m) {
		mosquitto_connect_callback_set(m, on_connect);
		mosquitto_publish_callback_set(m, on_publish);
		rc = q->username ? mosquitto_username_pw_set(m, q->username, pass) : MOSQ_ERR_SUCCESS;
		if (!rc && q->ca_file)
			rc = mosquitto_tls_set(m, q->ca_file, NULL, q->cert_file, q->key_file, NULL);
		if (!rc) {
			step = "reach";
			rc = mosquitto_connect(m, q->host, port, 30);
		}
		if (!rc)
			rc = mosquitto_publish(m, NULL, topic, (int)len, status, 1, true);
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long ms = 0; !rc && !p.published && p.connack <= 0; ms = (t.tv_sec - t0.tv_sec) * 1000 +
							    (t.tv_nsec - t0.tv_nsec) / 1000000) {
			if (ms > PUBLISH_TIMEOUT_MS) {
				rc = MOSQ_ERR_TIMEOUT_SEEN;
				break;
			}
			rc = mosquitto_loop(m, 200, 1);
			clock_gettime(CLOCK_MONOTONIC, &t);
		}
		mosquitto_disconnect(m);
		mosquitto_destroy(m);
	}
	int e = errno;
	mosquitto_lib_cleanup();
	if (p.connack > 0)
		return mg_error_set(err, MG_ENET, "the MQTT broker %s:%d refused the connection: %s", q->host,
				    port, mosquitto_connack_string(p.connack));
	if (rc == MOSQ_ERR_TIMEOUT_SEEN)
		return mg_error_set(err, MG_ENET, "the MQTT broker %s:%d did not acknowledge the status "
				    "within %d s", q->host, port, PUBLISH_TIMEOUT_MS / 1000);
	if (rc == MOSQ_ERR_ERRNO)
		return mg_error_sys(err, MG_ENET, e, "cannot %s the MQTT broker %s:%d", step, q->host, port);
	if (rc)
		return mg_error_set(err, MG_ENET, "cannot %s the MQTT broker %s:%d: %s", step, q->host, port,
				    mosquitto_strerror(rc));
	return 0;
}
