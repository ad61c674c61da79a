/* modelgate completion bash|zsh: the shell completion script, made from
 * the command tables: subcommands, each command's options, and for the
 * commands that take references the tagged versions of the local store
 * (from 'modelgate ls', silent when it fails). Placeholder for now. */
#include "cli.h"

static int cmd_completion(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	return cli_usage_error(cli, "not yet");
}

const mg_cmd cli_cmd_completion = {
	.name = "completion",
	.fn = cmd_completion,
	.summary = "print the bash or zsh completion script",
	.synopsis = {"bash|zsh"},
	.opts = {NULL},
	.examples = {{"source <(modelgate completion bash)", "Complete modelgate in this bash."},
		     {"modelgate completion zsh >~/.zfunc/_modelgate", "Install it for zsh."}},
};
