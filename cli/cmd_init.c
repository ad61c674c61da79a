/* modelgate init MODEL [--baseline REF] [--dataset REF|DIR] [--target
 * [NAME=]SPEC] [-o FILE] [--force]: write a starting modelgate.json for a
 * model file, pointing editors at the installed JSON Schema. */
#include "cli.h"
#include "validator/validator.h"

#include <limits.h>
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
	char self[PATH_MAX], path[PATH_MAX + 64], *found = NULL;
	if (!realpath("/proc/self/exe", self))
		return NULL;
	char *slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	for (size_t i = 0; !found && i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", self, rel[i]);
		found = realpath(path, NULL);
	}
	return found;
}

int cmd_init(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{"baseline", required_argument, NULL, 'b'},
		{"dataset", required_argument, NULL, 'd'},
		{"target", required_argument, NULL, 't'},
		CLI_COMMON_OPTS};
	const char *out = "modelgate.json";
	mg_init_opts io = MG_INIT_OPTS_INIT;
	int c, rc, force = 0;
	while ((c = getopt_long(argc, argv, "o:fb:d:t:" CLI_COMMON_SHORT, opts, NULL)) != -1) {
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
