/* The modelgate front end: argument parsing and dispatch only. Each command
 * lives in cli/cmd_<name>.c with its own option table and usage text, and
 * returns the process exit code. */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "pipelines/ci_env.h"
#include "pipelines/pipelines.h"
#include "registry/registry.h"
#include "registry/source.h"

typedef struct mg_cli {
	int quiet;
	int verbose;
	int json;
	int color;          /* stdout is a terminal and NO_COLOR is unset */
	const char *name;   /* the command being run */
	const char *usage;  /* its usage text */
	int insecure;       /* --insecure: plain HTTP / unverified TLS to registries */
	const char *ca_file; /* --ca-file FILE */
	mg_ci_env ci;       /* the CI around this run, read once at start */
} mg_cli;

typedef int (*mg_cmd_fn)(mg_cli *cli, int argc, char **argv);

typedef struct mg_cmd {
	const char *name;
	mg_cmd_fn fn;
	const char *summary;
	const char *usage;
} mg_cmd;

/* Options every command takes; append to a command's table. */
#define CLI_COMMON_OPTS                                     \
	{"json", no_argument, NULL, 'J'},                   \
	{"quiet", no_argument, NULL, 'q'},                  \
	{"verbose", no_argument, NULL, 'v'},                \
	{"help", no_argument, NULL, 'h'},                   \
	{NULL, 0, NULL, 0}
#define CLI_COMMON_SHORT "qvh"
/* Options of the commands that talk to registries (handled by
 * cli_common_opt); put before CLI_COMMON_OPTS. */
#define CLI_REMOTE_OPTS                                     \
	{"insecure", no_argument, NULL, 'K'},               \
	{"ca-file", required_argument, NULL, 'C'}

/* Handles a common option or a getopt error; returns -1 when handled and
 * the command goes on, else the exit code to return (0 for --help). */
int cli_common_opt(mg_cli *cli, int c);
/* Prints "modelgate NAME: msg" and the usage line; returns 2. */
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

int cmd_push(mg_cli *cli, int argc, char **argv);
int cmd_pull(mg_cli *cli, int argc, char **argv);
int cmd_tag(mg_cli *cli, int argc, char **argv);
int cmd_ls(mg_cli *cli, int argc, char **argv);
int cmd_inspect(mg_cli *cli, int argc, char **argv);
int cmd_rm(mg_cli *cli, int argc, char **argv);
int cmd_gc(mg_cli *cli, int argc, char **argv);
int cmd_fsck(mg_cli *cli, int argc, char **argv);
int cmd_copy(mg_cli *cli, int argc, char **argv);
int cmd_login(mg_cli *cli, int argc, char **argv);
int cmd_init(mg_cli *cli, int argc, char **argv);
int cmd_gate(mg_cli *cli, int argc, char **argv);
/* gate --dry-run (cli/cmd_gate.c) */
int cmd_check_config(mg_cli *cli, int argc, char **argv);
/* Prints a gate run's plan (a const mg_plan *, validator.h) as text or
 * --json (cli/cli_plan.c); returns the exit code: 0, or 3 when a target
 * the gates use did not answer. */
struct mg_plan;
int cli_print_plan(mg_cli *cli, const struct mg_plan *p);
int cmd_run(mg_cli *cli, int argc, char **argv);
int cmd_report(mg_cli *cli, int argc, char **argv);
int cmd_package(mg_cli *cli, int argc, char **argv);
int cmd_keygen(mg_cli *cli, int argc, char **argv);
int cmd_verify(mg_cli *cli, int argc, char **argv);
int cmd_unpack(mg_cli *cli, int argc, char **argv);
/* Prints a bundle check (cli/cmd_verify.c): each problem on stderr, the
 * summary on stdout (action: NULL for verify, or what unpack did); returns
 * the exit code. The check is a const mg_bundle_check *. */
struct mg_bundle_check;
int cli_print_bundle_check(mg_cli *cli, const char *bundle, const struct mg_bundle_check *c,
			   const char *action);
int cmd_hook(mg_cli *cli, int argc, char **argv);
int cmd_comment(mg_cli *cli, int argc, char **argv);
int cmd_deploy(mg_cli *cli, int argc, char **argv);
int cmd_rollback(mg_cli *cli, int argc, char **argv);
int cmd_history(mg_cli *cli, int argc, char **argv);
int cmd_attest(mg_cli *cli, int argc, char **argv);

#endif
