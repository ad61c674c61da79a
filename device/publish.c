/* Where a device's status.json goes after each sync, besides its state
 * directory: the fleet's MQTT broker, as the retained message of
 * modelgate/<fleet>/<device>/status (net/mqtt.h speaks the protocol), and
 * an HTTP endpoint (status_url), as a POST signed with the HMAC the deploy
 * webhooks carry, so that one receiver checks both the same way. The
 * config names the variables that hold the password and the secret, read
 * here at the moment of sending, so that no secret is in a file. */
#include "device.h"
#include "net/mqtt.h"
#include "net/web.h"
#include "pipelines/deploy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POST_RETRIES 2 /* of a 429/5xx or a dropped connection */

int mg_device_mqtt_publish(const mg_device_config *c, const void *status, size_t len,
			   mg_error *err)
{
	const mg_device_mqtt *q = &c->mqtt;
	if (!q->host)
		return 0;
	const char *pass = q->password_env ? getenv(q->password_env) : NULL;
	if (q->password_env && !pass)
		return mg_error_set(err, MG_EINVAL, "mqtt: the password variable '%s' is not set",
				    q->password_env);
	mg_mqtt_opts o = {.host = q->host, .port = q->port, .username = q->username, .password = pass,
			  .ca_file = q->ca_file, .cert_file = q->cert_file, .key_file = q->key_file,
			  .client_id = c->device_id};
	char topic[1024];
	snprintf(topic, sizeof(topic), "modelgate/%s/%s/status", c->fleet, c->device_id);
	return mg_mqtt_publish(&o, topic, status, len, 1, err);
}

int mg_device_post_status(const mg_device_config *c, const void *status, size_t len,
			  mg_error *err)
{
	if (!c->status_url)
		return 0;
	const char *secret = getenv(c->status_secret_env);
	if (!secret)
		return mg_error_set(err, MG_EINVAL, "status_url: the secret variable '%s' is not set",
				    c->status_secret_env);
	char mac[65], sig[128];
	mg_hmac_sha256_hex(secret, strlen(secret), status, len, mac);
	snprintf(sig, sizeof(sig), "X-Modelgate-Signature-256: sha256=%s", mac);
	const char *headers[] = {sig, "X-Modelgate-Event: status", NULL};
	mg_web_req q = MG_WEB_REQ_INIT;
	q.method = "POST";
	q.url = c->status_url;
	q.headers = headers;
	q.content_type = "application/json";
	q.body = status;
	q.body_len = len;
	q.ca_file = c->ca_file;
	q.max_retries = POST_RETRIES;
	mg_web_resp r = MG_WEB_RESP_INIT;
	int rc = mg_web_request(&q, &r, err);
	char host[512];
	if (!rc && (r.status < 200 || r.status > 299) &&
	    !(rc = mg_web_url_host(c->status_url, host, sizeof(host), err)))
		rc = mg_error_set(err, MG_ENET, "the status endpoint '%s' answered %ld", host, r.status);
	mg_web_resp_free(&r);
	return rc;
}
