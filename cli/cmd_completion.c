/* modelgate completion bash|zsh: the shell completion script, made from
 * the command tables: subcommands (also after 'help'), each command's
 * options, file names for an option's value, and for the commands that
 * reach the store or registries (those with the registry options) the
 * tagged versions of the local store, read from 'modelgate ls' each time
 * (silent when it fails), beside file names. */
#include "cli.h"

#include <string.h>

/* Whether cmd reaches stores (its tables include the registry options). */
static int takes_refs(const mg_cmd *cmd)
{
	for (size_t t = 0; t < CLI_MAX_TABLES && cmd->opts[t]; t++)
		if (cmd->opts[t] == cli_remote_opts)
			return 1;
	return 0;
}

/* The options of cmd (with values only: those that take a value), as the
 * shell sees them, separated by spaces. */
static void print_opts(FILE *f, const mg_cmd *cmd, int with_values)
{
	const mg_opt *o;
	const char *sep = "";
	for (cli_opt_iter it = {cmd, 0, 0}; (o = cli_opt_next(&it));) {
		if (with_values && !o->arg)
			continue;
		fprintf(f, "%s--%s", sep, o->name);
		if (o->letter)
			fprintf(f, " -%c", o->letter);
		sep = " ";
	}
}

/* The command names, separated by spaces. */
static void print_commands(FILE *f)
{
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", cli_commands[i]->name);
}

/* The commands that take references, as a case pattern: a|b|c. */
static void print_ref_commands(FILE *f)
{
	const char *sep = "";
	for (size_t i = 0; cli_commands[i]; i++)
		if (takes_refs(cli_commands[i])) {
			fprintf(f, "%s%s", sep, cli_commands[i]->name);
			sep = "|";
		}
}

static void bash(FILE *f)
{
	fputs("# bash completion for modelgate (made by 'modelgate completion bash')\n"
	      "_modelgate() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cmd= i\n"
	      "\tlocal cmds=\"",
	      f);
	print_commands(f);
	fputs("\"\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
	      "\tdone\n"
	      "\tif [ -z \"$cmd\" ] || { [ \"$cmd\" = help ] && [[ $cur != -* ]]; }; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$cmds\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tlocal opts= args=\n"
	      "\tcase $cmd in\n",
	      f);
	for (size_t i = 0; cli_commands[i]; i++) {
		fprintf(f, "\t%s) opts=\"", cli_commands[i]->name);
		print_opts(f, cli_commands[i], 0);
		fputs("\" args=\"", f);
		print_opts(f, cli_commands[i], 1);
		fputs("\" ;;\n", f);
	}
	fputs("\tesac\n"
	      /* an option's value: file names (complete -o default) */
	      "\tcase \" $args \" in *\" $prev \"*) return ;; esac\n"
	      "\tcase $cur in\n"
	      "\t-*) COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")) ;;\n"
	      "\t*)\n"
	      "\t\tcase $cmd in\n\t\t",
	      f);
	print_ref_commands(f);
	fputs(")\n"
	      "\t\t\tlocal refs\n"
	      "\t\t\trefs=$(\"${COMP_WORDS[0]}\" ls 2>/dev/null | awk 'NR > 1 { print $1 \":\" $2 }')\n"
	      /* bash splits REPO:TAG at ':': match the whole word, give back
	       * what follows its last ':' */
	      "\t\t\tlocal word=${COMP_LINE:0:COMP_POINT}\n"
	      "\t\t\tword=${word##*[[:space:]]}\n"
	      "\t\t\tCOMPREPLY=($(compgen -W \"$refs\" -- \"$word\"))\n"
	      "\t\t\tcase $word in *:*) COMPREPLY=(\"${COMPREPLY[@]#\"${word%:*}:\"}\") ;; esac\n"
	      "\t\t\t;;\n"
	      "\t\tesac\n"
	      "\t\t;;\n"
	      "\tesac\n"
	      "}\n"
	      "complete -o default -o nosort -F _modelgate modelgate\n",
	      f);
}

/* s inside single quotes */
static void squote(FILE *f, const char *s)
{
	for (; *s; s++)
		fputs(*s == '\'' ? "'\\''" : (char[2]){*s, 0}, f);
}

/* 'NAME:DESCRIPTION', as _describe takes it */
static void describe_item(FILE *f, const char *sep, const char *dashes, const char *name,
			  const char *desc)
{
	fprintf(f, "%s'%s%s:", sep, dashes, name);
	squote(f, desc);
	fputc('\'', f);
}

static void zsh(FILE *f)
{
	fputs("#compdef modelgate\n"
	      "# zsh completion for modelgate (made by 'modelgate completion zsh')\n"
	      "_modelgate() {\n"
	      "\tlocal -a cmds opts args refs\n"
	      "\tcmds=(",
	      f);
	for (size_t i = 0; cli_commands[i]; i++)
		describe_item(f, i ? " " : "", "", cli_commands[i]->name, cli_commands[i]->summary);
	fputs(")\n"
	      "\tif (( CURRENT == 2 )) || [[ ${words[2]} == help && $PREFIX != -* ]]; then\n"
	      "\t\t_describe -t commands 'modelgate command' cmds\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tcase ${words[2]} in\n",
	      f);
	for (size_t i = 0; cli_commands[i]; i++) {
		fprintf(f, "\t%s) opts=(", cli_commands[i]->name);
		const mg_opt *o;
		const char *sep = "";
		for (cli_opt_iter it = {cli_commands[i], 0, 0}; (o = cli_opt_next(&it)); sep = " ") {
			describe_item(f, sep, "--", o->name, o->desc);
			if (o->letter)
				describe_item(f, " ", "-", (char[2]){o->letter, 0}, o->desc);
		}
		fputs(") args=(", f);
		print_opts(f, cli_commands[i], 1);
		fputs(") ;;\n", f);
	}
	fputs("\tesac\n"
	      /* an option's value: file names */
	      "\tif (( ${args[(Ie)${words[CURRENT-1]}]} )); then\n"
	      "\t\t_files\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tif [[ $PREFIX == -* ]]; then\n"
	      "\t\t_describe -t options 'option' opts\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tcase ${words[2]} in\n\t",
	      f);
	print_ref_commands(f);
	fputs(")\n"
	      "\t\trefs=(${(f)\"$(${words[1]} ls 2>/dev/null | awk 'NR > 1 { print $1 \":\" $2 }')\"})\n"
	      "\t\tcompadd -S '' -a refs\n"
	      "\t\t;;\n"
	      "\tesac\n"
	      "\t_files\n"
	      "}\n"
	      "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
	      "\t_modelgate \"$@\"\n"
	      "else\n"
	      "\tcompdef _modelgate modelgate\n"
	      "fi\n",
	      f);
}

static int cmd_completion(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "name the shell: bash or zsh"
							      : "too many arguments");
	if (!strcmp(argv[optind], "bash"))
		bash(stdout);
	else if (!strcmp(argv[optind], "zsh"))
		zsh(stdout);
	else
		return cli_usage_error(cli, "'%s' is not a shell this completes: bash or zsh",
				       cli_text(argv[optind]));
	return 0;
}

const mg_cmd cli_cmd_completion = {
	.name = "completion",
	.fn = cmd_completion,
	.summary = "print the bash or zsh completion script",
	.description = "Prints the completion script for bash or zsh: it completes commands, "
		       "their options, and the versions of the local store.",
	.synopsis = {"bash|zsh"},
	.opts = {NULL},
	.examples = {{"source <(modelgate completion bash)", "Complete modelgate in this bash."},
		     {"modelgate completion zsh >~/.zfunc/_modelgate",
		      "Install it for zsh (with ~/.zfunc in fpath)."}},
};
