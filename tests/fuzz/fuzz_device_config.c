/* Fuzz target: the device updater's config reader (device/config.c) never
 * crashes or leaks, and either gives a config with its required keys or
 * says why not in one line naming the file (MG_EINVAL, or MG_ENOMEM). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/device.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], id[64];
	snprintf(path, sizeof(path), "/tmp/fuzz-device-%ld.json", (long)getpid());
	snprintf(id, sizeof(id), "/tmp/fuzz-machine-id-%ld", (long)getpid());
	if (fuzz_write_file(path, data, size) || fuzz_write_file(id, "0123abcd\n", 9))
		return 0;
	mg_device_config *c = NULL;
	mg_error err = {0};
	/* a device id from the config, else from this machine-id file */
	int rc = mg_device_config_read(&c, path, id, &err);
	if (rc == 0) {
		if (!c || !c->fleet || !c->tag || !c->public_key || !c->state_dir || !c->device_id)
			abort();
	} else if (c || (rc != MG_EINVAL && rc != MG_ENOMEM) || !strstr(err.msg, path) ||
		   strchr(err.msg, '\n')) {
		abort();
	}
	mg_device_config_free(c);
	unlink(path);
	unlink(id);
	return 0;
}
