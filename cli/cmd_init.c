/* modelgate init MODEL [-o FILE] [--force]: write a starting
 * modelgate.json for a model file. */
#include "cli.h"
#include "validator/validator.h"

#include <unistd.h>

int cmd_init(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		CLI_COMMON_OPTS};
	const char *out = "modelgate.json";
	int c, rc, force = 0;
	while ((c = getopt_long(argc, argv, "o:f" CLI_COMMON_SHORT, opts, NULL)) != -1) {
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
