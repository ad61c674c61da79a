/* Fuzz target: the rollout plan decoder (a plan comes from a registry) and
 * the controller's reading of a device status (it comes from the broker)
 * never crash or leak. A plan either decodes to one whose fields keep the
 * promises rollout.h makes (stages rising to 100, the stage one of them, a
 * fleet name) or is MG_ECORRUPT naming it in one line; a status is tallied
 * or skipped, and the tally never counts more than it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pipelines/rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_rollout_plan p;
	mg_error err = {0};
	int rc = mg_rollout_decode(&p, data, size, "fuzz plan", &err);
	if (rc == 0) {
		if (!p.nstages || p.nstages > MG_ROLLOUT_MAX_STAGES || p.stage >= p.nstages ||
		    p.stages[p.nstages - 1] != 100 || !mg_tag_valid(p.fleet))
			abort();
		for (size_t i = 1; i < p.nstages; i++)
			if (p.stages[i] <= p.stages[i - 1])
				abort();
	} else if (rc != MG_ECORRUPT || !strstr(err.msg, "fuzz plan") || strchr(err.msg, '\n')) {
		abort();
	}
	/* the same bytes as a device's status, against a plan of fleet "kws" */
	memset(&p, 0, sizeof(p));
	strcpy(p.id, "0123456789abcdef");
	strcpy(p.fleet, "kws");
	strcpy(p.salt, "00112233445566778899aabbccddeeff");
	strcpy(p.target, "sha256:1111111111111111111111111111111111111111111111111111111111111111");
	if (mg_rollout_parse_stages(&p, "5%,25%,100%", NULL))
		abort();
	mg_rollout_tally *t = malloc(sizeof(*t));
	if (!t)
		return 0;
	mg_rollout_tally_init(t, &p);
	mg_error terr = {0};
	mg_rollout_tally_add(t, &p, p.target, data, size, &terr);
	if (t->targeted > 1 || t->healthy + t->failed > t->targeted || t->nreasons > 1)
		abort();
	char why[1024];
	mg_rollout_decide(&p, t, 0, why, sizeof(why));
	mg_buf out = MG_BUF_INIT;
	for (int f = MG_ROLLOUT_TEXT; f <= MG_ROLLOUT_HTML; f++) {
		mg_rollout_view(&out, (mg_rollout_format)f, &p, p.target, t, MG_STEP_WAIT, why, NULL);
		mg_buf_free(&out);
	}
	mg_rollout_tally_free(t);
	free(t);
	return 0;
}
