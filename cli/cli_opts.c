/* Options from the commands' tables: the shared tables, getopt_long's
 * arrays made from a command's tables, and what cli_getopt adds to
 * getopt_long: a short option's value written -o=VALUE, and errors said in
 * one line, an unknown name with the nearest known one ("did you mean"),
 * rather than getopt's message followed by the usage. */
#include "cli.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

const mg_opt cli_common_opts[] = {
	{"json", 0, 'J', NULL, "Print the result as JSON on standard output."},
	{"quiet", 'q', 0, NULL, "Print no progress or notes; errors are still printed."},
	{"verbose", 'v', 0, NULL, "Say more about what is done."},
	{"help", 'h', 0, NULL, "Print this help and exit."},
	CLI_OPT_END};

const mg_opt cli_remote_opts[] = {
	{"insecure", 0, 'K', NULL,
	 "Talk plain HTTP, or TLS without verifying the certificate, to registries "
	 "(also for the hosts listed in MODELGATE_INSECURE_REGISTRIES)."},
	{"ca-file", 0, 'C', "FILE", "Trust the certificate authorities in FILE (PEM) for registries."},
	CLI_OPT_END};

static int opt_key(const mg_opt *o)
{
	return o->key ? o->key : o->letter;
}

const mg_opt *cli_opt_next(cli_opt_iter *it)
{
	for (;;) {
		const mg_opt *t = it->table < CLI_MAX_TABLES ? it->cmd->opts[it->table] : NULL;
		if (!t && it->table <= CLI_MAX_TABLES) {
			it->table = CLI_MAX_TABLES; /* the command's own are done */
			t = cli_common_opts;
		}
		if (!t)
			return NULL;
		if (t[it->i].name)
			return &t[it->i++];
		it->table++;
		it->i = 0;
	}
}

const mg_opt *cli_opt_find(const mg_cmd *cmd, int key)
{
	const mg_opt *o;
	for (cli_opt_iter it = {cmd, 0, 0}; (o = cli_opt_next(&it));)
		if (opt_key(o) == key)
			return o;
	return NULL;
}

/* The command's options as getopt_long takes them; an option without a
 * sentence or a key, or a key or name used twice, is a mistake in the
 * tables. */
static void build(mg_cli *cli)
{
	size_t n = 0;
	char *s = cli->shortopts;
	*s++ = ':'; /* a missing value is ':', told from an unknown option */
	const mg_opt *o;
	for (cli_opt_iter it = {cli->cmd, 0, 0}; (o = cli_opt_next(&it));) {
		assert(n < CLI_MAX_OPTS);
		assert(o->desc && (o->letter || o->key)); /* every option is described */
		assert(!o->letter || !o->key || o->key == o->letter);
		for (size_t k = 0; k < n; k++)
			assert(cli->longopts[k].val != opt_key(o) && strcmp(cli->longopts[k].name, o->name));
		cli->longopts[n++] = (struct option){o->name, o->arg ? required_argument : no_argument,
						     NULL, opt_key(o)};
		if (o->letter) {
			*s++ = o->letter;
			if (o->arg)
				*s++ = ':';
		}
	}
	cli->longopts[n] = (struct option){NULL, 0, NULL, 0};
	*s = '\0';
}

/* s as it may be printed (control characters escaped), in out */
static const char *escaped(const char *s, char *out, size_t len)
{
	mg_escape_controls(out, len, s);
	return out;
}

/* The long option word (--NAME or --NAME=VALUE) was not taken: unknown,
 * ambiguous, or given a value it does not take. */
static void bad_long(const mg_cli *cli, const char *word)
{
	char name[256], shown[1024];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(word + 2, "="), word + 2);
	escaped(name, shown, sizeof(shown));
	const mg_opt *o, *exact = NULL, *near = NULL, *prefix[2] = {NULL, NULL};
	size_t best = SIZE_MAX, nprefix = 0;
	for (cli_opt_iter it = {cli->cmd, 0, 0}; (o = cli_opt_next(&it));) {
		if (!strcmp(o->name, name))
			exact = o;
		else if (!strncmp(o->name, name, strlen(name)) && nprefix++ < 2)
			prefix[nprefix - 1] = o;
		size_t d = mg_nearness(name, o->name);
		if (d < best)
			best = d, near = o;
	}
	if (exact)
		fprintf(stderr, "modelgate %s: option '--%s' takes no value\n", cli->name, exact->name);
	else if (nprefix >= 2)
		fprintf(stderr, "modelgate %s: '--%s' is ambiguous: '--%s', '--%s'%s\n", cli->name,
			shown, prefix[0]->name, prefix[1]->name, nprefix > 2 ? ", ..." : "");
	else if (near)
		fprintf(stderr, "modelgate %s: '--%s' is not an option; did you mean '--%s'?\n",
			cli->name, shown, near->name);
	else
		fprintf(stderr, "modelgate %s: '--%s' is not an option; see 'modelgate help %s'\n",
			cli->name, shown, cli->name);
}

int cli_getopt(mg_cli *cli, int argc, char **argv)
{
	if (!cli->longopts[0].name)
		build(cli);
	opterr = 0;
	int c = getopt_long(argc, argv, cli->shortopts, cli->longopts, NULL);
	const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	int is_long = !strncmp(word, "--", 2);
	if (c == ':') {
		const mg_opt *o = cli_opt_find(cli->cmd, optopt);
		assert(o); /* getopt_long knows only the table's options */
		if (is_long || !o->letter)
			fprintf(stderr, "modelgate %s: option '--%s' needs a value (%s)\n", cli->name,
				o->name, o->arg);
		else
			fprintf(stderr, "modelgate %s: option '-%c' needs a value (%s)\n", cli->name,
				o->letter, o->arg);
		return '?';
	}
	if (c == '?') {
		char shown[1024];
		if (is_long && (!optopt || cli_opt_find(cli->cmd, optopt)))
			bad_long(cli, word);
		else /* a short one: the letter (or byte) itself */
			fprintf(stderr, "modelgate %s: '-%s' is not an option; see 'modelgate help %s'\n",
				cli->name, escaped((char[2]){(char)optopt, '\0'}, shown, sizeof(shown)),
				cli->name);
		return '?';
	}
	/* -o=VALUE: the value after '=' (--output=VALUE is getopt_long's own) */
	if (c > 0 && optarg && optarg[0] == '=' && !is_long && optarg != word)
		optarg++;
	return c;
}
