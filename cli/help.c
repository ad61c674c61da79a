/* What the command tables say to people: the list of commands, each
 * command's help (usage, what it does, every option with its sentence,
 * examples), and the same as man pages (modelgate help --man [CMD], which
 * the Makefile runs into build/man/), all from the mg_cmd tables, so that
 * help, man pages and completions never disagree with the parsing. */
#include "cli.h"

#include <ctype.h>
#include <string.h>

#define WIDTH 79
#define DESC_COL 30

void cli_print_overview(FILE *f)
{
	fprintf(f, "usage: modelgate [--version] [-q | -v] [--json] COMMAND [ARGS]\n"
		   "       (options before COMMAND are COMMAND's own)\n\n"
		   "Validate ML models for edge devices in CI. Commands:\n");
	int width = 0;
	for (size_t i = 0; cli_commands[i]; i++)
		if ((int)strlen(cli_commands[i]->name) > width)
			width = (int)strlen(cli_commands[i]->name);
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-*s  %s\n", width, cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(f, "\nReferences: REPO[:TAG] or REPO@sha256:HEX in the local store at\n"
		   "$MODELGATE_HOME (default ~/.local/share/modelgate), or\n"
		   "HOST[:PORT]/REPO[:TAG|@sha256:HEX] in an OCI registry.\n"
		   "Exit codes: 0 ok, 1 a gate or check failed, 2 bad usage or input,\n"
		   "3 infrastructure failure. 'modelgate help COMMAND' for more.\n");
}

/* Prints text from column col (the cursor is there), wrapped at WIDTH. */
static void wrap(FILE *f, const char *text, int col)
{
	int at = col;
	while (*text) {
		size_t n = strcspn(text, " ");
		if (at > col && at + 1 + (int)n > WIDTH) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", (int)n, text);
		at += (int)n;
		text += n;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

/* The command's description: its own, else its summary as a sentence. */
static void print_description(FILE *f, const mg_cmd *cmd)
{
	if (cmd->description) {
		wrap(f, cmd->description, 0);
		return;
	}
	char s[256];
	snprintf(s, sizeof(s), "%c%s.", toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	wrap(f, s, 0);
}

void cli_print_help(FILE *f, const mg_cmd *cmd)
{
	for (size_t i = 0; i < 4 && cmd->synopsis[i]; i++) {
		int col = fprintf(f, "%s modelgate %s ", i ? "      " : "usage:", cmd->name);
		wrap(f, cmd->synopsis[i], col);
	}
	fputc('\n', f);
	print_description(f, cmd);
	fprintf(f, "\nOptions:\n");
	const mg_opt *o;
	for (cli_opt_iter it = {cmd, 0, 0}; (o = cli_opt_next(&it));) {
		char spec[128];
		int n = snprintf(spec, sizeof(spec), "  %c%c%c --%s%s%s", o->letter ? '-' : ' ',
				 o->letter ? o->letter : ' ', o->letter ? ',' : ' ', o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		if (n + 2 <= DESC_COL)
			fprintf(f, "%-*s", DESC_COL, spec);
		else
			fprintf(f, "%s\n%*s", spec, DESC_COL, "");
		wrap(f, o->desc, DESC_COL);
	}
	fprintf(f, "\nExamples:\n");
	for (size_t i = 0; i < 3 && cmd->examples[i].line; i++) {
		fprintf(f, "  %s\n      ", cmd->examples[i].line);
		wrap(f, cmd->examples[i].what, 6);
	}
}

/* ---- man pages ---------------------------------------------------------- */

/* text with roff's special characters escaped */
static void roff(FILE *f, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else if ((*p == '.' || *p == '\'') && (p == text || p[-1] == '\n'))
			fprintf(f, "\\&%c", *p);
		else
			fputc(*p, f);
	}
}

static void man_head(FILE *f, const char *title, const char *name, const char *summary)
{
	fprintf(f, ".TH %s 1 \"\" \"modelgate %s\" \"modelgate manual\"\n.SH NAME\n", title, MG_VERSION);
	roff(f, name);
	fputs(" \\- ", f);
	roff(f, summary);
	fputc('\n', f);
}

static void man_command(FILE *f, const mg_cmd *cmd)
{
	char title[64], name[64];
	snprintf(name, sizeof(name), "modelgate-%s", cmd->name);
	size_t i = 0;
	for (; name[i]; i++)
		title[i] = (char)toupper((unsigned char)name[i]);
	title[i] = '\0';
	man_head(f, title, name, cmd->summary);
	fputs(".SH SYNOPSIS\n", f);
	for (i = 0; i < 4 && cmd->synopsis[i]; i++) {
		fprintf(f, "%s.B modelgate %s\n", i ? ".br\n" : "", cmd->name);
		roff(f, cmd->synopsis[i]);
		fputc('\n', f);
	}
	fputs(".SH DESCRIPTION\n", f);
	if (cmd->description)
		roff(f, cmd->description);
	else
		roff(f, cmd->summary);
	fputs("\n.SH OPTIONS\n", f);
	const mg_opt *o;
	for (cli_opt_iter it = {cmd, 0, 0}; (o = cli_opt_next(&it));) {
		fputs(".TP\n", f);
		if (o->letter)
			fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
		fputs("\\fB\\-\\-", f);
		roff(f, o->name);
		fputs("\\fR", f);
		if (o->arg) {
			fputs(" \\fI", f);
			roff(f, o->arg);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff(f, o->desc);
		fputc('\n', f);
	}
	fputs(".SH EXAMPLES\n", f);
	for (i = 0; i < 3 && cmd->examples[i].line; i++) {
		fputs(".PP\n", f);
		roff(f, cmd->examples[i].what);
		fputs("\n.PP\n.RS 4\n.nf\n", f);
		roff(f, cmd->examples[i].line);
		fputs("\n.fi\n.RE\n", f);
	}
	fputs(".SH SEE ALSO\n.BR modelgate (1)\n", f);
}

static void man_overview(FILE *f)
{
	man_head(f, "MODELGATE", "modelgate", "validate ML models for edge devices in CI");
	fputs(".SH SYNOPSIS\n.B modelgate\n[\\-\\-version] [\\-q | \\-v] [\\-\\-json] "
	      "\\fICOMMAND\\fR [\\fIARGS\\fR]\n"
	      ".SH DESCRIPTION\n"
	      "modelgate fetches model versions from a content\\-addressed store or an OCI "
	      "registry, runs accuracy, fidelity, latency, size and memory gates on local, "
	      "emulated and remote targets, reports, packages and deploys what passed.\n"
	      ".SH COMMANDS\n",
	      f);
	for (size_t i = 0; cli_commands[i]; i++) {
		fprintf(f, ".TP\n.BR modelgate\\-%s (1)\n", cli_commands[i]->name);
		roff(f, cli_commands[i]->summary);
		fputc('\n', f);
	}
	fputs(".SH REFERENCES\n"
	      "REPO[:TAG] or REPO@sha256:HEX names a version in the local store at "
	      "$MODELGATE_HOME (default ~/.local/share/modelgate); "
	      "HOST[:PORT]/REPO[:TAG|@sha256:HEX] one in an OCI registry.\n"
	      ".SH EXIT STATUS\n"
	      "0 success, 1 a gate or check failed, 2 bad usage or input, "
	      "3 infrastructure failure (registry or target unreachable, engine missing).\n",
	      f);
}

/* ---- modelgate help ----------------------------------------------------- */

enum { O_MAN = 256 };

static int cmd_help(mg_cli *cli, int argc, char **argv)
{
	int man = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == O_MAN)
			man = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, "too many arguments");
	const mg_cmd *cmd = NULL;
	if (optind < argc && !(cmd = cli_find_command(argv[optind])))
		return cli_not_a_command(argv[optind]);
	if (man && cmd)
		man_command(stdout, cmd);
	else if (man)
		man_overview(stdout);
	else if (cmd)
		cli_print_help(stdout, cmd);
	else
		cli_print_overview(stdout);
	return 0;
}

static const mg_opt help_opts[] = {
	{"man", 0, O_MAN, NULL, "Print the man page (roff) instead of the help text."},
	CLI_OPT_END};

const mg_cmd cli_cmd_help = {
	.name = "help",
	.fn = cmd_help,
	.summary = "show help for modelgate or a command",
	.description = "Lists the commands, or prints a command's help: the same text as "
		       "'modelgate COMMAND --help'.",
	.synopsis = {"[--man] [COMMAND]"},
	.opts = {help_opts},
	.examples = {{"modelgate help", "List the commands."},
		     {"modelgate help push", "Show push's options and examples."},
		     {"modelgate help --man push | man -l -", "Read push's man page."}},
};
