/* modelgate version: modelgate's version and the engines this machine can
 * run models with here: the agent, its ONNX Runtime library and its TFLite
 * engine, found as a local target finds them, without starting anything. */
#include "cli.h"
#include "runners/runners.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmd_version(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	mg_target_opts to = MG_TARGET_OPTS_INIT;
	mg_error err = {0};
	char *agent = NULL, *ort = NULL, tflite[4096] = "";
	if (!mg_locate_agent("x86_64", &to, &agent, &ort, &err)) {
		const char *slash = strrchr(agent, '/');
		snprintf(tflite, sizeof(tflite), "%.*s/libmodelgate-tflite.so",
			 slash ? (int)(slash - agent) : 1, slash ? agent : ".");
		if (access(tflite, R_OK) != 0)
			tflite[0] = '\0';
	}
	if (cli->json) {
		json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?}", "version", MG_VERSION, "agent",
				      agent, "onnxruntime", ort, "tflite", tflite[0] ? tflite : NULL,
				      "problem", agent ? NULL : err.msg);
		free(agent);
		free(ort);
		return cli_print_json(j);
	}
	printf("modelgate %s\n", MG_VERSION);
	if (agent) {
		printf("agent         %s\nONNX Runtime  %s\nTFLite        %s\n", agent, ort,
		       tflite[0] ? tflite : "not built (Arm NN engine: make deps, make)");
	} else {
		printf("engines       none found: %s\n", err.msg);
	}
	free(agent);
	free(ort);
	return 0;
}

const mg_cmd cli_cmd_version = {
	.name = "version",
	.fn = cmd_version,
	.summary = "show modelgate's version and the engines it finds",
	.description = "Prints modelgate's version, and where the agent, its ONNX Runtime library "
		       "and its TFLite engine (Arm NN) are, as a local target would find them. "
		       "'modelgate --version' prints the first line only, as scripts expect.",
	.synopsis = {"[--json]"},
	.opts = {NULL},
	.examples = {{"modelgate version", "Show the version and the engines."},
		     {"modelgate version --json", "The same as JSON, for scripts."}},
};
