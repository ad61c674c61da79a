/* modelgate: the command table, global options, help and dispatch. */
#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmd_help(mg_cli *cli, int argc, char **argv);

static const mg_cmd commands[] = {
	{"push", cmd_push, "store files as a model (or dataset) version",
	 "modelgate push REF FILE... [--annotation KEY=VALUE]... [--artifact-type TYPE] [--no-git]"
	 " [--insecure] [--ca-file FILE]"},
	{"pull", cmd_pull, "restore the files of a version",
	 "modelgate pull REF [-o DIR] [--insecure] [--ca-file FILE]"},
	{"tag", cmd_tag, "give a version another tag",
	 "modelgate tag REF NEWTAG|NEWREF [--insecure] [--ca-file FILE]"},
	{"ls", cmd_ls, "list the versions in the store or a repository, or a registry's repositories",
	 "modelgate ls [REPO | HOST/REPO | HOST:PORT | HOST/] [--insecure] [--ca-file FILE]"},
	{"inspect", cmd_inspect, "show a version's files, config and annotations, or what a model file declares",
	 "modelgate inspect REF [--raw] [--insecure] [--ca-file FILE] | modelgate inspect FILE [--json]"},
	{"rm", cmd_rm, "remove a tag (gc frees the blobs)",
	 "modelgate rm REF... [--insecure] [--ca-file FILE]"},
	{"copy", cmd_copy, "copy a version between the store and registries",
	 "modelgate copy SRC DST [--insecure] [--ca-file FILE]"},
	{"login", cmd_login, "store credentials for a registry (in docker's config.json)",
	 "modelgate login HOST [-u USER] --password-stdin [--insecure] [--ca-file FILE]"},
	{"gc", cmd_gc, "remove blobs no tag reaches, and stray temporary files", "modelgate gc"},
	{"fsck", cmd_fsck, "re-hash every blob and check every reference", "modelgate fsck [--repair]"},
	{"gate", cmd_gate, "evaluate the gates of modelgate.json: may this model ship?",
	 "modelgate gate [-c modelgate.json] [--model M] [--baseline B] [--target [NAME=]SPEC] "
	 "[--only GATE]... [--changed [--since REV | --pre-push]] [--report FILE] [--junit FILE] [--html FILE] [--markdown FILE] [--metrics FILE]"
	 " [--insecure] [--ca-file FILE]"},
	{"init", cmd_init, "write a starting modelgate.json for a model",
	 "modelgate init MODEL [-o FILE] [--force]"},
	{"run", cmd_run, "run a model on a target and measure its latency",
	 "modelgate run MODEL [--target local|qemu-aarch64|ssh://[USER@]HOST[:PORT]|exec:'PREFIX']"
	 " [--inputs DIR] [--outputs DIR] [--expect DIR [--rtol [OUTPUT=]X]... [--atol [OUTPUT=]X]...] [--warmup N]"
	 " [--iterations N] [--min-time S] [--threads N] [--shape NAME=DIMS]..."
	 " [--opt-level disabled|basic|extended|all] [--provider EP] [--timeout S] [--seed N] [--dequantize]"},
	{"report", cmd_report, "convert a saved report.json (table, junit, markdown, html, ...)",
	 "modelgate report REPORT.json [--format table|json|junit|markdown|annotations|github-outputs|"
	 "openmetrics|html] [-o FILE] [--exit-status] [--max-bytes N] [--max-annotations N]"},
	{"hook", cmd_hook, "install the git pre-push hook that gates changed models",
	 "modelgate hook install [-c modelgate.json] [--force] | modelgate hook uninstall"},
	{"comment", cmd_comment, "post a report as a comment on the current pull/merge request",
	 "modelgate comment --report REPORT.json [--key KEY] [--dry-run]"},
	{"package", cmd_package, "write a reproducible, signed bundle of a model that passed its gates",
	 "modelgate package REF|DIR|FILE --report report.json -o BUNDLE.tar.gz|.tar.zst|.zip"
	 " [--sign KEY] [--release N] [--smoke DIR] [--no-git] [--insecure] [--ca-file FILE]"},
	{"keygen", cmd_keygen, "write an Ed25519 key pair for signing bundles",
	 "modelgate keygen -o NAME [--force]"},
	{"verify", cmd_verify, "check a bundle's files and signature against its manifest",
	 "modelgate verify BUNDLE [--key KEY.pub]"},
	{"unpack", cmd_unpack, "verify a bundle, then extract it safely into a new folder",
	 "modelgate unpack BUNDLE -o DIR [--key KEY.pub]"},
	{"attest", cmd_attest, "attach a signed gate result to a model version (OCI referrer)",
	 "modelgate attest REF --report report.json --sign KEY [--insecure] [--ca-file FILE]"},
	{"deploy", cmd_deploy, "move an environment tag to a version that passed, fire the triggers",
	 "modelgate deploy REF --env NAME --report report.json [--trigger KIND:ARGS]... [-c modelgate.json]"
	 " [--token-env VAR] [--secret-env VAR] [--require-signed-report --key KEY.pub] [--insecure]"
	 " [--ca-file FILE]"},
	{"rollback", cmd_rollback, "move an environment tag back to its previous version",
	 "modelgate rollback [REPO] --env NAME [--trigger KIND:ARGS]... [-c modelgate.json]"
	 " [--token-env VAR] [--secret-env VAR] [--insecure] [--ca-file FILE]"},
	{"history", cmd_history, "show the deployments of an environment",
	 "modelgate history [REPO] --env NAME [-c modelgate.json] [--insecure] [--ca-file FILE]"},
	{"help", cmd_help, "show help for modelgate or a command", "modelgate help [COMMAND]"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const mg_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: modelgate [--version] [-q | -v] [--json] COMMAND [ARGS]\n\n"
		   "Validate ML models for edge devices in CI. Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nReferences: REPO[:TAG] or REPO@sha256:HEX in the local store at\n"
		   "$MODELGATE_HOME (default ~/.local/share/modelgate), or\n"
		   "HOST[:PORT]/REPO[:TAG|@sha256:HEX] in an OCI registry.\n"
		   "Exit codes: 0 ok, 1 a gate or check failed, 2 bad usage or input,\n"
		   "3 infrastructure failure. 'modelgate help COMMAND' for more.\n");
}

static int cmd_help(mg_cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc < 2) {
		print_overview(stdout);
		return 0;
	}
	const mg_cmd *c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "modelgate: '%s' is not a modelgate command; see 'modelgate help'\n", argv[1]);
		return MG_EXIT_INPUT;
	}
	printf("usage: %s\n\n%s\n\nCommon options: -q/--quiet, -v/--verbose, --json, -h/--help\n",
	       c->usage, c->summary);
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
		printf("usage: %s\n", cli->usage);
		return 0;
	default: /* getopt printed what was wrong */
		fprintf(stderr, "usage: %s\n", cli->usage);
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
	fprintf(stderr, "\nusage: %s\n", cli->usage);
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
	json_t *j = json;
	if (!j)
		return MG_EXIT_INFRA;
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
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
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--version")) {
			printf("modelgate %s\n", MG_VERSION);
			return 0;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			cli.quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			cli.verbose = 1;
		} else if (!strcmp(a, "--json")) {
			cli.json = 1;
		} else if (!strcmp(a, "--insecure")) {
			cli.insecure = 1;
		} else if (!strcmp(a, "--ca-file") && i + 1 < argc) {
			cli.ca_file = argv[++i];
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_overview(stdout);
			return 0;
		} else {
			fprintf(stderr, "modelgate: unknown option '%s'\n", a);
			print_overview(stderr);
			return MG_EXIT_INPUT;
		}
	}
	if (i == argc) {
		print_overview(stderr);
		return MG_EXIT_INPUT;
	}
	const mg_cmd *c = find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "modelgate: '%s' is not a modelgate command; see 'modelgate help'\n", argv[i]);
		return MG_EXIT_INPUT;
	}
	cli.name = c->name;
	cli.usage = c->usage;
	/* getopt names the program by argv[0]: make it "modelgate COMMAND" */
	char prog[64];
	snprintf(prog, sizeof(prog), "modelgate %s", c->name);
	argv[i] = prog;
	optind = 1;
	opterr = 1;
	int rc = c->fn(&cli, argc - i, argv + i);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "modelgate: cannot write to standard output\n");
		return MG_EXIT_INFRA;
	}
	return rc;
}
