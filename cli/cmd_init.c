/* modelgate init MODEL [--baseline REF] [--dataset REF|DIR] [--target
 * [NAME=]SPEC] [-o FILE] [--force]: write a starting modelgate.json for a
 * model file, pointing editors at the installed JSON Schema. */
#include "cli.h"
#include "validator/validator.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The JSON Schema installed with this modelgate: share/modelgate/ beside
 * bin/ (make install) or two levels up from libexec/modelgate/ (the release
 * tarball); NULL when modelgate runs from elsewhere (a build folder). */
static char *installed_schema(void)
{
	static const char *const rel[] = {"/../share/modelgate/modelgate.schema.json",
					  "/../../share/modelgate/modelgate.schema.json"};
	char *self = mg_self_dir(), *found = NULL;
	for (size_t i = 0; self && !found && i < sizeof(rel) / sizeof(rel[0]); i++) {
		char *path = mg_path_join(self, rel[i] + 1, NULL);
		found = path ? realpath(path, NULL) : NULL;
		free(path);
	}
	free(self);
	return found;
}

static int cmd_init(mg_cli *cli, int argc, char **argv)
{
	const char *out = "modelgate.json";
	mg_init_opts io = MG_INIT_OPTS_INIT;
	int c, rc, force = 0;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'f')
			force = 1;
		else if (c == 'b')
			io.baseline = optarg;
		else if (c == 'd')
			io.dataset = optarg;
		else if (c == 't')
			io.target = optarg;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing model file" : "too many arguments");
	mg_error err = {0};
	if (!force && access(out, F_OK) == 0) {
		mg_error_set(&err, MG_EEXISTS, "'%s' exists already; use --force to replace it", out);
		return cli_fail(cli, &err);
	}
	char *schema = installed_schema();
	io.schema = schema;
	mg_buf text = MG_BUF_INIT;
	rc = 0;
	if (mg_config_template(&text, argv[optind], &io, &err) ||
	    mg_file_write_atomic(out, text.data, text.len, &err))
		rc = cli_fail(cli, &err);
	else
		cli_info(cli, "wrote '%s': see what would run with 'modelgate check-config%s%s', "
			      "edit its gates, then run 'modelgate gate%s%s'\n", out,
			 strcmp(out, "modelgate.json") ? " -c " : "", strcmp(out, "modelgate.json") ? out : "",
			 strcmp(out, "modelgate.json") ? " -c " : "", strcmp(out, "modelgate.json") ? out : "");
	mg_buf_free(&text);
	free(schema);
	return rc;
}

static const mg_opt init_opts[] = {
	{"output", 'o', 0, "FILE", "Write the config to FILE (default modelgate.json)."},
	{"force", 'f', 0, NULL, "Replace FILE if it exists."},
	{"baseline", 'b', 0, "REF", "Compare with this baseline: with --dataset, accuracy and fidelity gates too."},
	{"dataset", 'd', 0, "REF|DIR", "The dataset (x.npy, y.npy) the accuracy and fidelity gates run."},
	{"target", 't', 0, "[NAME=]SPEC", "Measure latency and memory on this target (as gate --target takes it)."},
	CLI_OPT_END};

const mg_cmd cli_cmd_init = {
	.name = "init",
	.fn = cmd_init,
	.summary = "write a starting modelgate.json for a model",
	.description = "Reads the model file MODEL and writes a starting modelgate.json with size, "
		       "latency and memory gates for it, to edit.",
	.synopsis = {"MODEL [--baseline REF] [--dataset REF|DIR] [--target [NAME=]SPEC] [-o FILE] [--force] [OPTIONS]"},
	.opts = {init_opts},
	.examples = {{"modelgate init model.onnx", "Write modelgate.json for model.onnx."},
		     {"modelgate init model.tflite -o ci/modelgate.json --force",
		      "Write it elsewhere, replacing an older one."}},
};
