/* modelgate-device: the fleet updater's command line. `sync --once` makes
 * one sync (for cron or a CI job); `sync` syncs forever, at the config's
 * poll interval plus a random jitter (as the systemd unit runs it). One
 * updater at a time per state directory: a lock file, held while it syncs.
 *
 * Exit codes as modelgate's: 0 the device runs the fleet's release, 1 the
 * release was refused (the device keeps what it ran), 2 bad usage or
 * config, 3 the registry or the disk failed. */
#include "device.h"
#include "pipelines/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: modelgate-device [--config FILE] sync [--once]\n"
	"FILE defaults to /etc/modelgate/device.json (docs/FLEET.md has its keys)\n";

static int fail(const mg_error *err)
{
	fprintf(stderr, "modelgate-device: %s\n", err->msg);
	return mg_error_exit_code(err->code);
}

/* status.json to the MQTT broker and the status URL, when the config
 * names them; a failure is said, and is the exit code of a sync that went
 * well otherwise. */
static int publish(const mg_device_config *c, int code)
{
	if (!c->mqtt.host && !c->status_url)
		return code;
	mg_error err = {0};
	char path[4096];
	snprintf(path, sizeof(path), "%s/status.json", c->state_dir);
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, 1 << 20, &err), rc2 = 0;
	if (rc) {
		fprintf(stderr, "modelgate-device: status not sent: %s\n", err.msg);
	} else {
		if ((rc = mg_device_mqtt_publish(c, b.data, b.len, &err)))
			fprintf(stderr, "modelgate-device: status not published: %s\n", err.msg);
		if ((rc2 = mg_device_post_status(c, b.data, b.len, &err)))
			fprintf(stderr, "modelgate-device: status not posted: %s\n", err.msg);
	}
	mg_buf_free(&b);
	rc = rc ? rc : rc2;
	return code ? code : rc ? mg_error_exit_code(rc) : 0;
}

/* One sync under the state directory's lock; its exit code. */
static int sync_once(const mg_device_config *c)
{
	mg_error err = {0};
	char lock[4096];
	snprintf(lock, sizeof(lock), "%s/lock", c->state_dir);
	if (mg_mkdirs(c->state_dir, &err))
		return fail(&err);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		mg_error_sys(&err, MG_EIO, errno, "cannot open '%s'", lock);
		return fail(&err);
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		mg_error_set(&err, MG_ENET, "another updater is syncing '%s'", c->state_dir);
		return fail(&err);
	}
	mg_sync_result res;
	int rc = mg_device_sync(c, &res, &err);
	close(fd);
	if (rc && res.refused) {
		fprintf(stderr, "modelgate-device: refused: %s\n", err.msg);
		return publish(c, MG_EXIT_GATE);
	}
	if (rc)
		return publish(c, fail(&err));
	if (res.smoke[0])
		printf("%s\n", res.smoke);
	printf("%s %s\n", res.changed ? "switched to" : "up to date:", res.running);
	fflush(stdout);
	return publish(c, 0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	const char *config = "/etc/modelgate/device.json", *cmd = NULL;
	int once = 0, c;
	/* options go before or after the command */
	while (optind < argc) {
		if ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) == -1) {
			if (cmd) {
				cmd = NULL; /* a second command word */
				break;
			}
			cmd = argv[optind++];
			continue;
		}
		if (c == 'c')
			config = optarg;
		else if (c == 'o')
			once = 1;
		else if (c == 'h' || c == 'V') {
			fputs(c == 'h' ? usage : "modelgate-device " MG_VERSION "\n", stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return MG_EXIT_INPUT;
		}
	}
	if (!cmd || strcmp(cmd, "sync")) {
		fprintf(stderr, "modelgate-device: %s\n%s", cmd ? "unknown command" : "missing command 'sync'",
			usage);
		return MG_EXIT_INPUT;
	}
	mg_device_config *cfg = NULL;
	mg_error err = {0};
	char keyid[MG_DIGEST_SIZE];
	if (mg_device_config_read(&cfg, config, getenv("MODELGATE_DEVICE_MACHINE_ID"), &err) ||
	    mg_key_id(cfg->public_key, keyid, &err)) {
		mg_device_config_free(cfg);
		return fail(&err);
	}
	int rc = sync_once(cfg);
	/* a service goes on whatever one sync met (a tag not there yet, a
	 * registry down): the config, the one thing it cannot outlive, is read */
	for (srand((unsigned)(time(NULL) ^ getpid())); !once;) {
		sleep((unsigned)(cfg->poll_interval +
				 (cfg->poll_jitter ? rand() % (cfg->poll_jitter + 1) : 0)));
		rc = sync_once(cfg);
	}
	mg_device_config_free(cfg);
	return rc;
}
