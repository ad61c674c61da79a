/* Where a device's status.json goes after each sync, besides its state
 * directory: the fleet's MQTT broker, as the retained message of
 * modelgate/<fleet>/<device>/status (net/mqtt.h speaks the protocol). The
 * config names the variable that holds the password, read here at the
 * moment of sending, so that the secret is in no file. */
#include "device.h"
#include "net/mqtt.h"

#include <stdio.h>
#include <stdlib.h>

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
