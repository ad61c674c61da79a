/* modelgate: the list of commands, global options and dispatch. */
#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const mg_cmd *const cli_commands[] = {
	&cli_cmd_push, &cli_cmd_pull, &cli_cmd_tag, &cli_cmd_ls, &cli_cmd_inspect, &cli_cmd_rm,
	&cli_cmd_copy, &cli_cmd_login, &cli_cmd_gc, &cli_cmd_fsck, &cli_cmd_gate,
	&cli_cmd_check_config, &cli_cmd_init,
	&cli_cmd_run, &cli_cmd_report, &cli_cmd_hook, &cli_cmd_comment, &cli_cmd_package,
	&cli_cmd_keygen, &cli_cmd_verify, &cli_cmd_unpack, &cli_cmd_attest, &cli_cmd_deploy,
	&cli_cmd_rollback, &cli_cmd_history, &cli_cmd_rollout, &cli_cmd_version, &cli_cmd_completion, &cli_cmd_help,
	NULL};

const mg_cmd *cli_find_command(const char *name)
{
	for (size_t i = 0; cli_commands[i]; i++)
		if (!strcmp(cli_commands[i]->name, name))
			return cli_commands[i];
	return NULL;
}

int cli_not_a_command(const char *word)
{
	const mg_cmd *near = NULL;
	size_t best = SIZE_MAX;
	for (size_t i = 0; cli_commands[i]; i++) {
		size_t d = mg_nearness(word, cli_commands[i]->name);
		if (d < best)
			best = d, near = cli_commands[i];
	}
	if (near)
		fprintf(stderr, "modelgate: '%s' is not a command; did you mean '%s'?\n", cli_text(word),
			near->name);
	else
		fprintf(stderr, "modelgate: '%s' is not a command; see 'modelgate help'\n", cli_text(word));
	return MG_EXIT_INPUT;
}

/* Whether word is a shared option (common or registry) that takes the next
 * word as its value. */
static int shared_takes_value(const char *word)
{
	const mg_opt *const tables[] = {cli_common_opts, cli_remote_opts};
	for (size_t t = 0; t < 2; t++)
		for (const mg_opt *o = tables[t]; o->name; o++)
			if (o->arg && ((word[1] == '-' && !strcmp(word + 2, o->name)) ||
				       (o->letter && word[1] == o->letter && !word[2])))
				return 1;
	return 0;
}

int cli_common_opt(mg_cli *cli, int c)
{
	switch (c) {
	case 'q':
		cli->quiet = 1;
		cli->verbose = 0;
		return -1;
	case 'v':
		cli->verbose = 1;
		cli->quiet = 0;
		return -1;
	case 'J':
		cli->json = 1;
		return -1;
	case 'K':
		cli->insecure = 1;
		return -1;
	case 'C':
		cli->ca_file = optarg;
		return -1;
	case 'h':
		cli_print_help(stdout, cli->cmd);
		return 0;
	default: /* cli_getopt said what was wrong */
		return MG_EXIT_INPUT;
	}
}

int cli_usage_error(mg_cli *cli, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "modelgate %s: ", cli->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (size_t i = 0; i < 4 && cli->cmd->synopsis[i]; i++)
		fprintf(stderr, "usage: modelgate %s %s\n", cli->name, cli->cmd->synopsis[i]);
	return MG_EXIT_INPUT;
}

int cli_fail(mg_cli *cli, const mg_error *err)
{
	(void)cli;
	fprintf(stderr, "modelgate: %s\n", err->msg[0] ? err->msg : "unknown error");
	return mg_error_exit_code(err->code ? err->code : MG_ERROR);
}

void cli_info(mg_cli *cli, const char *fmt, ...)
{
	if (cli->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

const char *cli_color(const mg_cli *cli, const char *code)
{
	if (!cli->color)
		return "";
	if (!strcmp(code, "0"))
		return "\033[0m";
	if (!strcmp(code, "1"))
		return "\033[1m";
	if (!strcmp(code, "31"))
		return "\033[31m";
	if (!strcmp(code, "32"))
		return "\033[32m";
	if (!strcmp(code, "33"))
		return "\033[33m";
	return "";
}

const char *cli_text(const char *s)
{
	static char ring[8][1024];
	static unsigned next;
	if (!s || !mg_has_controls(s))
		return s;
	char *out = ring[next++ % 8];
	mg_escape_controls(out, sizeof(ring[0]), s);
	return out;
}

int cli_print_json(void *json)
{
	return cli_print_json_digits(json, 0);
}

int cli_print_json_digits(void *json, int digits)
{
	json_t *j = json;
	if (!j)
		return MG_EXIT_INFRA;
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				       (digits ? JSON_REAL_PRECISION(digits) : 0));
	fputc('\n', stdout);
	json_decref(j);
	return rc ? MG_EXIT_INFRA : 0;
}

int main(int argc, char **argv)
{
	mg_cli cli = {0};
	const char *nc = getenv("NO_COLOR");
	cli.color = isatty(STDOUT_FILENO) && !(nc && *nc);
	mg_ci_env_read(&cli.ci);
	/* Options before the command are the command's own, written first
	 * (modelgate -q ls is modelgate ls -q): the command is the first word
	 * that is neither an option nor the value of one (--ca-file FILE). */
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--version")) {
			/* one line, as scripts read it; 'modelgate version' says more */
			printf("modelgate %s\n", MG_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_print_overview(stdout);
			return 0;
		}
		if (shared_takes_value(argv[i]))
			i++;
	}
	if (i >= argc) {
		cli_print_overview(stderr);
		return MG_EXIT_INPUT;
	}
	const mg_cmd *c = cli_find_command(argv[i]);
	if (!c)
		return cli_not_a_command(argv[i]);
	char *word = argv[i];
	memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof(*argv));
	argv[1] = word;
	cli.name = c->name;
	cli.cmd = c;
	optind = 1;
	int rc = c->fn(&cli, argc - 1, argv + 1);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "modelgate: cannot write to standard output\n");
		return MG_EXIT_INFRA;
	}
	return rc;
}
