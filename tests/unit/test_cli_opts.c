/* Unit tests of the command line's parsing from a command's tables
 * (cli/cli_opts.c): the getopt_long arrays made of them, -o=VALUE, the
 * one-line errors, and how near a word must be for "did you mean". The
 * messages as users see them are tested by tests/cli/t_cli_help.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

enum { O_LONG_ONLY = 256 };

static const mg_opt test_opts[] = {
	{"output", 'o', 0, "DIR", "Where to write."},
	{"annotation", 'a', 0, "KEY=VALUE", "An annotation."},
	{"long-only", 0, O_LONG_ONLY, NULL, "A flag without a short form."},
	CLI_OPT_END};

static const mg_cmd test_cmd = {
	.name = "test",
	.summary = "a command for the tests",
	.synopsis = {"[OPTIONS]"},
	.opts = {test_opts, cli_remote_opts},
};

/* Parses argv (NULL-terminated) as the command test; the keys cli_getopt
 * returned (up to 8) into keys and the values into vals; how many. */
static size_t parse(char **argv, int *keys, const char **vals)
{
	static mg_cli cli;
	memset(&cli, 0, sizeof(cli));
	cli.name = test_cmd.name;
	cli.cmd = &test_cmd;
	int argc = 0;
	while (argv[argc])
		argc++;
	optind = 1;
	size_t n = 0;
	int c;
	while ((c = cli_getopt(&cli, argc, argv)) != -1 && n < 8) {
		keys[n] = c;
		vals[n++] = optarg;
		if (c == '?')
			break;
	}
	return n;
}

static void test_cli_opts_short_value_after_equals(void **state)
{
	(void)state;
	char *argv[] = {"test", "-o=/tmp/x", "-a", "k=v", "--output=/tmp/y", "-o", "=z", "-qo=w", NULL};
	int keys[8];
	const char *vals[8];
	assert_int_equal(parse(argv, keys, vals), 6);
	assert_int_equal(keys[0], 'o');
	assert_string_equal(vals[0], "/tmp/x");
	assert_int_equal(keys[1], 'a');
	assert_string_equal(vals[1], "k=v"); /* a value's own '=' stays */
	assert_string_equal(vals[2], "/tmp/y");
	assert_string_equal(vals[3], "=z"); /* a separate word is the value as given */
	assert_int_equal(keys[4], 'q');
	assert_int_equal(keys[5], 'o');
	assert_string_equal(vals[5], "w");
}

static void test_cli_opts_keys_of_shared_and_long_only_options(void **state)
{
	(void)state;
	char *argv[] = {"test", "--long-only", "--insecure", "--ca-file", "ca.pem", "--json", NULL};
	int keys[8];
	const char *vals[8];
	assert_int_equal(parse(argv, keys, vals), 4);
	assert_int_equal(keys[0], O_LONG_ONLY);
	assert_int_equal(keys[1], 'K');
	assert_int_equal(keys[2], 'C');
	assert_string_equal(vals[2], "ca.pem");
	assert_int_equal(keys[3], 'J');
	assert_ptr_equal(cli_opt_find(&test_cmd, O_LONG_ONLY), &test_opts[2]);
	assert_null(cli_opt_find(&test_cmd, 'Z'));
}

static void test_cli_opts_errors_are_question_marks(void **state)
{
	(void)state;
	char *unknown[] = {"test", "--anotation", "x", NULL};
	char *missing[] = {"test", "-o", NULL};
	char *unwanted[] = {"test", "--long-only=1", NULL};
	char *short_unknown[] = {"test", "-Z", NULL};
	char **cases[] = {unknown, missing, unwanted, short_unknown};
	for (size_t i = 0; i < 4; i++) {
		int keys[8];
		const char *vals[8];
		assert_int_equal(parse(cases[i], keys, vals), 1);
		assert_int_equal(keys[0], '?');
	}
}

int main(void)
{
	/* the errors' lines go to stderr; the tests look at the keys */
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_opts_short_value_after_equals),
		cmocka_unit_test(test_cli_opts_keys_of_shared_and_long_only_options),
		cmocka_unit_test(test_cli_opts_errors_are_question_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
