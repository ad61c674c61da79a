/* MQTT (mqtt.h) through libmosquitto, the one file that includes its
 * header. Each call connects, does its one thing (a QoS 1 publish until
 * the broker acknowledges it; a subscription whose retained messages are
 * handed over until the broker falls quiet) and disconnects, driving the
 * client's network loop itself in steps of at most 100 ms against a
 * monotonic deadline, so that no thread is started and no call outlives
 * its timeout. */
#include "mqtt.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <time.h>

#define PUBLISH_TIMEOUT_MS 10000
#define KEEPALIVE_S 30
#define STEP_MS 100
#define TIMED_OUT (-1000) /* ours: no acknowledgement in time */

typedef struct session {
	struct mosquitto *m;
	int connack;   /* the broker's answer to connecting: 0 accepted, -1 none yet */
	int acked;     /* publish: the broker has it; collect: 1 subscribed, -1 refused */
	int mid;       /* of the publish waited for */
	long last_ms;  /* collect: when the last message (or the acknowledgement) came */
	mg_mqtt_fn fn; /* collect: the caller's, and what it returned */
	void *ctx;
	int stop;
	int sys_errno; /* of a MOSQ_ERR_ERRNO */
} session;

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *m, void *ctx, int rc)
{
	(void)m;
	((session *)ctx)->connack = rc;
}

static void on_publish(struct mosquitto *m, void *ctx, int mid)
{
	(void)m;
	session *s = ctx;
	if (mid == s->mid)
		s->acked = 1;
}

static void on_subscribe(struct mosquitto *m, void *ctx, int mid, int n, const int *granted)
{
	(void)m;
	(void)mid;
	session *s = ctx;
	s->acked = n > 0 && granted[0] >= 0 && granted[0] <= 2 ? 1 : -1; /* 0x80: refused */
	s->last_ms = now_ms();
}

static void on_message(struct mosquitto *m, void *ctx, const struct mosquitto_message *msg)
{
	(void)m;
	session *s = ctx;
	s->last_ms = now_ms();
	if (!s->stop && msg->retain)
		s->stop = s->fn(s->ctx, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static int port_of(const mg_mqtt_opts *o)
{
	return o->port ? o->port : o->ca_file ? 8883 : 1883;
}

/* A client for o, connected (the CONNECT sent; the answer comes in the
 * loop); *step says what a failure was doing. A libmosquitto code. */
static int start(session *s, const mg_mqtt_opts *o, const char **step)
{
	mosquitto_lib_init();
	s->connack = -1;
	*step = "set up";
	s->m = mosquitto_new(o->client_id, true, s);
	if (!s->m)
		return errno == EINVAL ? MOSQ_ERR_INVAL : MOSQ_ERR_NOMEM;
	mosquitto_connect_callback_set(s->m, on_connect);
	mosquitto_publish_callback_set(s->m, on_publish);
	mosquitto_subscribe_callback_set(s->m, on_subscribe);
	mosquitto_message_callback_set(s->m, on_message);
	int rc = o->username ? mosquitto_username_pw_set(s->m, o->username, o->password) : MOSQ_ERR_SUCCESS;
	if (!rc && o->ca_file)
		rc = mosquitto_tls_set(s->m, o->ca_file, NULL, o->cert_file, o->key_file, NULL);
	if (!rc) {
		*step = "reach";
		rc = mosquitto_connect(s->m, o->host, port_of(o), KEEPALIVE_S);
	}
	if (rc == MOSQ_ERR_ERRNO)
		s->sys_errno = errno;
	return rc;
}

/* One step of the network loop, at most until deadline: TIMED_OUT past it. */
static int step_until(session *s, long deadline)
{
	long left = deadline - now_ms();
	if (left <= 0)
		return TIMED_OUT;
	int rc = mosquitto_loop(s->m, left < STEP_MS ? (int)left : STEP_MS, 1);
	if (rc == MOSQ_ERR_ERRNO)
		s->sys_errno = errno;
	return rc;
}

/* Disconnects and turns rc (or the broker's refusal) into ours; waiting
 * says what a timeout did not see. */
static int finish(session *s, const mg_mqtt_opts *o, int rc, const char *step, const char *waiting,
		  int timeout_ms, mg_error *err)
{
	if (s->m) {
		mosquitto_disconnect(s->m);
		mosquitto_destroy(s->m);
	}
	mosquitto_lib_cleanup();
	const char *h = o->host;
	int port = port_of(o);
	if (s->connack > 0)
		return mg_error_set(err, MG_ENET, "the MQTT broker %s:%d refused the connection: %s", h, port,
				    mosquitto_connack_string(s->connack));
	if (rc == TIMED_OUT)
		return mg_error_set(err, MG_ENET, "the MQTT broker %s:%d did not acknowledge %s within %d ms",
				    h, port, waiting, timeout_ms);
	if (rc == MOSQ_ERR_ERRNO)
		return mg_error_sys(err, MG_ENET, s->sys_errno, "cannot %s the MQTT broker %s:%d", step, h,
				    port);
	if (rc)
		return mg_error_set(err, MG_ENET, "cannot %s the MQTT broker %s:%d: %s", step, h, port,
				    mosquitto_strerror(rc));
	return 0;
}

int mg_mqtt_publish(const mg_mqtt_opts *o, const char *topic, const void *data, size_t len,
		    int retain, mg_error *err)
{
	if (!o->host)
		return 0;
	if (len > 256u << 20) /* MQTT's limit is 256 MiB */
		return mg_error_set(err, MG_EINVAL, "a message of %zu bytes to '%s' is too large for MQTT",
				    len, topic);
	session s = {0};
	const char *step;
	long deadline = now_ms() + PUBLISH_TIMEOUT_MS;
	int rc = start(&s, o, &step);
	if (!rc)
		rc = mosquitto_publish(s.m, &s.mid, topic, (int)len, data, 1, retain != 0);
	while (!rc && !s.acked && s.connack <= 0)
		rc = step_until(&s, deadline);
	return finish(&s, o, rc, step, "the message", PUBLISH_TIMEOUT_MS, err);
}

int mg_mqtt_collect(const mg_mqtt_opts *o, const char *filter, int quiet_ms, int timeout_ms,
		    mg_mqtt_fn fn, void *ctx, mg_error *err)
{
	if (!o->host)
		return 0;
	session s = {0};
	s.fn = fn;
	s.ctx = ctx;
	const char *step;
	long deadline = now_ms() + timeout_ms;
	int rc = start(&s, o, &step);
	if (!rc)
		rc = mosquitto_subscribe(s.m, NULL, filter, 1);
	while (!rc && !s.stop && s.connack <= 0 && s.acked >= 0 &&
	       !(s.acked && now_ms() - s.last_ms >= quiet_ms)) {
		rc = step_until(&s, deadline);
		if (rc == TIMED_OUT && s.acked)
			rc = 0; /* what came was handed over; the caller's time is up */
		if (!rc && now_ms() >= deadline)
			break;
	}
	int refused = s.acked < 0;
	char waiting[600];
	snprintf(waiting, sizeof(waiting), "the subscription to '%s'", filter);
	rc = finish(&s, o, rc, step, waiting, timeout_ms, err);
	if (!rc && refused)
		rc = mg_error_set(err, MG_ENET, "the MQTT broker %s:%d refused the subscription to '%s'",
				  o->host, port_of(o), filter);
	return rc ? rc : s.stop;
}
