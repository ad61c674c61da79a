/* The modelgate front end: argument parsing and dispatch only. Each command
 * lives in cli/cmd_<name>.c with its table (mg_cmd: options, synopsis,
 * examples; cli/help.c makes help, man pages and completions of it), and
 * returns the process exit code. */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "pipelines/ci_env.h"
#include "pipelines/pipelines.h"
#include "registry/registry.h"
#include "registry/source.h"

/* One option of a command: the single source of its getopt entry, its
 * line in the help and the man page, and its shell completion. */
typedef struct mg_opt {
	const char *name; /* long name, used as --name */
	char letter;      /* short form -letter, or 0 for none */
	int key;          /* what cli_getopt returns for it; 0: the letter */
	const char *arg;  /* the value's name ("DIR", "N"), or NULL: a flag */
	const char *desc; /* one sentence */
} mg_opt;
#define CLI_OPT_END {NULL, 0, 0, NULL, NULL}

/* An example of a command: the command line and what it does. */
typedef struct mg_example {
	const char *line;
	const char *what;
} mg_example;

typedef struct mg_cli mg_cli;
typedef int (*mg_cmd_fn)(mg_cli *cli, int argc, char **argv);

/* A command: what its help, man page and completions say, and the option
 * tables (each ending with CLI_OPT_END) its parsing is built from. The
 * common options (cli_common_opts) follow its own on every command. */
#define CLI_MAX_TABLES 4
typedef struct mg_cmd {
	const char *name;
	mg_cmd_fn fn;
	const char *summary;     /* its line in the command list */
	const char *description; /* a sentence or two for its help */
	const char *synopsis[4]; /* its forms, each after "modelgate NAME " */
	const mg_opt *opts[CLI_MAX_TABLES]; /* its own, then shared ones */
	mg_example examples[3];
} mg_cmd;

/* Shared option tables: every command's (-q, -v, --json, --help), and
 * those of the commands that talk to registries (--insecure, --ca-file);
 * cli_common_opt handles both. */
extern const mg_opt cli_common_opts[];
extern const mg_opt cli_remote_opts[];

#define CLI_MAX_OPTS 64
struct mg_cli {
	int quiet;
	int verbose;
	int json;
	int color;          /* stdout is a terminal and NO_COLOR is unset */
	const char *name;   /* the command being run */
	const mg_cmd *cmd;  /* and its table */
	int insecure;       /* --insecure: plain HTTP / unverified TLS to registries */
	const char *ca_file; /* --ca-file FILE */
	mg_ci_env ci;       /* the CI around this run, read once at start */
	/* getopt_long's view of cmd's options, made by the first cli_getopt */
	struct option longopts[CLI_MAX_OPTS + 1];
	char shortopts[3 * CLI_MAX_OPTS + 2];
};

/* getopt_long over the command's tables: the key of the next option (its
 * value in optarg), -1 after the last, or '?' when the command line is
 * wrong, said in one line on stderr (an unknown option with the nearest
 * one as "did you mean", a missing or unwanted value). A short option's
 * attached value may be written -o=VALUE, as --output=VALUE. */
int cli_getopt(mg_cli *cli, int argc, char **argv);
/* The option of the command whose key is key, or NULL. */
const mg_opt *cli_opt_find(const mg_cmd *cmd, int key);
/* Walks a command's options, its own tables then the common one:
 *     for (cli_opt_iter it = {cmd}; (o = cli_opt_next(&it));) ... */
typedef struct cli_opt_iter {
	const mg_cmd *cmd;
	size_t table, i;
} cli_opt_iter;
const mg_opt *cli_opt_next(cli_opt_iter *it);

/* Handles a common option or cli_getopt's '?'; returns -1 when handled and
 * the command goes on, else the exit code to return (0 for --help, which
 * prints the command's help). */
int cli_common_opt(mg_cli *cli, int c);
/* Prints "modelgate NAME: msg" and the usage lines; returns 2. */
int cli_usage_error(mg_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "modelgate: msg" for err and returns its exit code. */
int cli_fail(mg_cli *cli, const mg_error *err);
/* Prints to stderr unless -q. */
void cli_info(mg_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An ANSI colour sequence ("31" red, "32" green, "33" yellow, "1" bold, "0"
 * reset) when colour is on, else "". */
const char *cli_color(const mg_cli *cli, const char *code);
/* Outside text (names from a registry, a model or a report) as it may be
 * printed: s itself, or an escaped copy (mg_escape_controls) in one of a few
 * static buffers that the following calls reuse; NULL stays NULL. */
const char *cli_text(const char *s);

/* Prints a jansson value (void * to keep jansson out of this header) as
 * indented JSON to stdout; steals the reference. */
int cli_print_json(void *json);
/* As cli_print_json, with reals in at most digits significant digits (a
 * limit as written, 0.95 rather than 0.94999999999999996). */
int cli_print_json_digits(void *json, int digits);

/* Registries (cli/cli_remote.c). Connects to a registry with the command's
 * --insecure/--ca-file (and MODELGATE_INSECURE_REGISTRIES), showing
 * progress on stderr unless -q. */
typedef struct mg_remote mg_remote;
int cli_remote_open(mg_cli *cli, const char *registry, mg_remote **out, mg_error *err);
/* How the command reaches repositories (registry/repo.h) and reads models
 * and datasets (registry/source.h): registries through cli_remote_open,
 * with the command's options; the store at its default root. */
void cli_repo_opts(mg_cli *cli, mg_repo_opts *o);
void cli_source_opts(mg_cli *cli, mg_source_opts *o);
/* Opens the repository of ref so. */
int cli_repo_open(mg_cli *cli, mg_repo *out, const mg_ref *ref, mg_error *err);
/* As cli_remote_open, with these credentials (not looked up). */
int cli_remote_login(mg_cli *cli, const char *registry, const char *user, const char *password,
		     mg_remote **out, mg_error *err);
/* Copies src to dst (references as typed), printing only errors; the exit
 * code, and the manifest digest in digest. Used by copy, and by tag with a
 * registry on either side. */
int cli_copy(mg_cli *cli, const char *src, const char *dst, char digest[MG_DIGEST_SIZE]);

/* Prints a gate run's plan (a const mg_plan *, validator.h) as text or
 * --json (cli/cli_plan.c); returns the exit code: 0, or 3 when a target
 * the gates use did not answer. */
struct mg_plan;
int cli_print_plan(mg_cli *cli, const struct mg_plan *p);
/* Prints a bundle check (cli/cmd_verify.c): each problem on stderr, the
 * summary on stdout (action: NULL for verify, or what unpack did); returns
 * the exit code. The check is a const mg_bundle_check *. */
struct mg_bundle_check;
int cli_print_bundle_check(mg_cli *cli, const char *bundle, const struct mg_bundle_check *c,
			   const char *action);

/* The commands, each defined in its cli/cmd_<name>.c. */
extern const mg_cmd cli_cmd_push, cli_cmd_pull, cli_cmd_tag, cli_cmd_ls, cli_cmd_inspect,
	cli_cmd_rm, cli_cmd_gc, cli_cmd_fsck, cli_cmd_copy, cli_cmd_login, cli_cmd_init,
	cli_cmd_gate, cli_cmd_run, cli_cmd_report, cli_cmd_package, cli_cmd_keygen,
	cli_cmd_verify, cli_cmd_unpack, cli_cmd_hook, cli_cmd_comment, cli_cmd_deploy,
	cli_cmd_rollback, cli_cmd_history, cli_cmd_attest, cli_cmd_help, cli_cmd_version,
	cli_cmd_completion, cli_cmd_check_config, cli_cmd_rollout;
/* All of them in the order 'modelgate help' lists them, NULL-terminated
 * (cli/main.c). */
extern const mg_cmd *const cli_commands[];
/* The command called name, or NULL. */
const mg_cmd *cli_find_command(const char *name);
/* Says "modelgate: 'word' is not a command" in one line, with the nearest
 * command if one is near; returns 2. */
int cli_not_a_command(const char *word);
/* Prints the list of commands with their summaries to f. */
void cli_print_overview(FILE *f);
/* Prints the help of cmd (what --help and 'help CMD' print) to f. */
void cli_print_help(FILE *f, const mg_cmd *cmd);

#endif
