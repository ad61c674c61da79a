/* modelgate init MODEL [-o FILE] [--force]: write a starting
 * modelgate.json for a model file. */
#include "cli.h"
#include "validator/validator.h"

#include <unistd.h>

static int cmd_init(mg_cli *cli, int argc, char **argv)
{
	const char *out = "modelgate.json";
	int c, rc, force = 0;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'f')
			force = 1;
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
	mg_buf text = MG_BUF_INIT;
	rc = 0;
	if (mg_config_template(&text, argv[optind], &err) ||
	    mg_file_write_atomic(out, text.data, text.len, &err))
		rc = cli_fail(cli, &err);
	else
		cli_info(cli, "wrote '%s': edit its gates, then run 'modelgate gate'\n", out);
	mg_buf_free(&text);
	return rc;
}

static const mg_opt init_opts[] = {
	{"output", 'o', 0, "FILE", "Write the config to FILE (default modelgate.json)."},
	{"force", 'f', 0, NULL, "Replace FILE if it exists."},
	CLI_OPT_END};

const mg_cmd cli_cmd_init = {
	.name = "init",
	.fn = cmd_init,
	.summary = "write a starting modelgate.json for a model",
	.description = "Reads the model file MODEL and writes a starting modelgate.json with size, "
		       "latency and memory gates for it, to edit.",
	.synopsis = {"MODEL [-o FILE] [--force] [OPTIONS]"},
	.opts = {init_opts},
	.examples = {{"modelgate init model.onnx", "Write modelgate.json for model.onnx."},
		     {"modelgate init model.tflite -o ci/modelgate.json --force",
		      "Write it elsewhere, replacing an older one."}},
};
