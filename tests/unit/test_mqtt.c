/* Unit tests of net/mqtt.c against a real broker: Debian's mosquitto,
 * started by the test on a free loopback port with a generated config and
 * password file, and stopped at the end. Retained messages published by
 * another client (mosquitto_pub) are all collected; a topic with none
 * returns after the quiet time; the callback can stop a collect; a
 * publish comes back byte for byte; a wrong password is the broker's
 * refusal and a port nobody listens on is said as such, both naming
 * host:port. Skipped when mosquitto is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/mqtt.h"
#include "scratch.h"

#define MOSQUITTO "/usr/sbin/mosquitto"
#define PASSWORD "s3cret-unit"

static const char *dir;
static int port;
static pid_t broker;

/* A loopback port that was free a moment ago. */
static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || getsockname(s, (struct sockaddr *)&a, &n))
		return -1;
	close(s);
	return ntohs(a.sin_port);
}

static int listening(int p)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int ok = s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a));
	if (s >= 0)
		close(s);
	return ok;
}

static int start_broker(void **state)
{
	(void)state;
	if (access(MOSQUITTO, X_OK))
		return 0; /* each test skips */
	dir = scratch_dir("mqtt");
	char cmd[4000], conf[1100];
	snprintf(cmd, sizeof(cmd), "mosquitto_passwd -b -c '%s/passwd' devices " PASSWORD " 2>/dev/null", dir);
	if (system(cmd) || (port = free_port()) < 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
	FILE *f = fopen(conf, "w");
	const struct passwd *pw = getpwuid(getuid());
	if (!f || !pw)
		return -1;
	/* (as root, mosquitto would become the user mosquitto, who cannot read dir) */
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s/passwd\n"
		"persistence false\nuser %s\n", port, dir, pw->pw_name);
	fclose(f);
	if ((broker = fork()) < 0)
		return -1;
	if (!broker) {
		char log[1100];
		snprintf(log, sizeof(log), "%s/mosquitto.log", dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(MOSQUITTO, MOSQUITTO, "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (listening(port))
			return 0;
		usleep(50000);
	}
	return -1;
}

static int stop_broker(void **state)
{
	(void)state;
	if (broker > 0) {
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
	}
	if (!dir)
		return 0;
	char cmd[1100];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static mg_mqtt_opts opts(const char *password)
{
	mg_mqtt_opts o = {.host = "127.0.0.1", .port = port, .username = "devices", .password = password};
	return o;
}

static void need_broker(void)
{
	if (broker <= 0)
		skip();
}

/* Retains data under topic through another client. */
static void pub_retained(const char *topic, const char *data)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "mosquitto_pub -h 127.0.0.1 -p %d -u devices -P " PASSWORD
		 " -q 1 -r -t '%s' -m '%s'", port, topic, data);
	assert_int_equal(system(cmd), 0);
}

typedef struct seen {
	int n;
	char topic[8][128];
	char data[8][128];
	int stop_after; /* 0: never */
} seen;

static int collect_fn(void *ctx, const char *topic, const void *data, size_t len)
{
	seen *s = ctx;
	if (s->n < 8) {
		snprintf(s->topic[s->n], sizeof(s->topic[0]), "%s", topic);
		snprintf(s->data[s->n], sizeof(s->data[0]), "%.*s", (int)len, (const char *)data);
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void test_mqtt_collect_gets_every_retained_status(void **state)
{
	(void)state;
	need_broker();
	pub_retained("modelgate/t1/dev-a/status", "{\"release\":1}");
	pub_retained("modelgate/t1/dev-b/status", "{\"release\":2}");
	pub_retained("modelgate/t1/dev-c/status", "{\"release\":3}");
	pub_retained("modelgate/other/dev-d/status", "{\"release\":9}");
	mg_mqtt_opts o = opts(PASSWORD);
	seen s = {0};
	mg_error err = {0};
	assert_int_equal(mg_mqtt_collect(&o, "modelgate/t1/+/status", 300, 5000, collect_fn, &s, &err), 0);
	assert_int_equal(s.n, 3);
	int found = 0;
	for (int i = 0; i < 3; i++) {
		char want[64];
		char dev = s.topic[i][sizeof("modelgate/t1/dev-") - 1];
		assert_true(dev >= 'a' && dev <= 'c');
		snprintf(want, sizeof(want), "{\"release\":%d}", dev - 'a' + 1);
		assert_string_equal(s.data[i], want);
		found |= 1 << (dev - 'a');
	}
	assert_int_equal(found, 7);
}

static void test_mqtt_publish_comes_back_from_collect(void **state)
{
	(void)state;
	need_broker();
	mg_mqtt_opts o = opts(PASSWORD);
	o.client_id = "dev-unit";
	mg_error err = {0};
	const char msg[] = "{\"health\":\"pass\"}";
	assert_int_equal(mg_mqtt_publish(&o, "modelgate/t2/dev-unit/status", msg, sizeof(msg) - 1, 1, &err), 0);
	o.client_id = NULL;
	seen s = {0};
	assert_int_equal(mg_mqtt_collect(&o, "modelgate/t2/#", 300, 5000, collect_fn, &s, &err), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.topic[0], "modelgate/t2/dev-unit/status");
	assert_string_equal(s.data[0], msg);
}

static void test_mqtt_collect_of_empty_topic_returns_after_quiet_time(void **state)
{
	(void)state;
	need_broker();
	mg_mqtt_opts o = opts(PASSWORD);
	seen s = {0};
	mg_error err = {0};
	long t0 = now_ms();
	assert_int_equal(mg_mqtt_collect(&o, "modelgate/nobody/+/status", 400, 5000, collect_fn, &s, &err), 0);
	long took = now_ms() - t0;
	assert_int_equal(s.n, 0);
	assert_true(took >= 400);
	assert_true(took < 4000);
}

static void test_mqtt_collect_stops_when_callback_says_so(void **state)
{
	(void)state;
	need_broker();
	pub_retained("modelgate/t3/dev-a/status", "a");
	pub_retained("modelgate/t3/dev-b/status", "b");
	mg_mqtt_opts o = opts(PASSWORD);
	seen s = {.stop_after = 1};
	mg_error err = {0};
	assert_int_equal(mg_mqtt_collect(&o, "modelgate/t3/+/status", 300, 5000, collect_fn, &s, &err), 7);
	assert_int_equal(s.n, 1);
}

static void test_mqtt_wrong_password_is_brokers_refusal(void **state)
{
	(void)state;
	need_broker();
	mg_mqtt_opts o = opts("wrong");
	seen s = {0};
	mg_error err = {0};
	char want[200];
	snprintf(want, sizeof(want), "the MQTT broker 127.0.0.1:%d refused the connection: Connection "
		 "Refused: not authorised.", port);
	assert_int_equal(mg_mqtt_collect(&o, "modelgate/t1/+/status", 300, 5000, collect_fn, &s, &err), MG_ENET);
	assert_string_equal(err.msg, want);
	assert_int_equal(s.n, 0);
	mg_error_clear(&err);
	assert_int_equal(mg_mqtt_publish(&o, "modelgate/t1/x/status", "x", 1, 1, &err), MG_ENET);
	assert_string_equal(err.msg, want);
}

static void test_mqtt_unreachable_broker_names_host_and_port(void **state)
{
	(void)state;
	int p = free_port();
	assert_true(p > 0);
	mg_mqtt_opts o = {.host = "127.0.0.1", .port = p};
	seen s = {0};
	mg_error err = {0};
	char want[200];
	snprintf(want, sizeof(want), "cannot reach the MQTT broker 127.0.0.1:%d: Connection refused", p);
	assert_int_equal(mg_mqtt_collect(&o, "modelgate/#", 100, 2000, collect_fn, &s, &err), MG_ENET);
	assert_string_equal(err.msg, want);
	mg_error_clear(&err);
	assert_int_equal(mg_mqtt_publish(&o, "modelgate/x", "x", 1, 1, &err), MG_ENET);
	assert_string_equal(err.msg, want);
}

static void test_mqtt_without_host_does_nothing(void **state)
{
	(void)state;
	mg_mqtt_opts o = {0};
	seen s = {0};
	assert_int_equal(mg_mqtt_publish(&o, "t", "x", 1, 1, NULL), 0);
	assert_int_equal(mg_mqtt_collect(&o, "t", 100, 100, collect_fn, &s, NULL), 0);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mqtt_collect_gets_every_retained_status),
		cmocka_unit_test(test_mqtt_publish_comes_back_from_collect),
		cmocka_unit_test(test_mqtt_collect_of_empty_topic_returns_after_quiet_time),
		cmocka_unit_test(test_mqtt_collect_stops_when_callback_says_so),
		cmocka_unit_test(test_mqtt_wrong_password_is_brokers_refusal),
		cmocka_unit_test(test_mqtt_unreachable_broker_names_host_and_port),
		cmocka_unit_test(test_mqtt_without_host_does_nothing),
	};
	return cmocka_run_group_tests(tests, start_broker, stop_broker);
}
