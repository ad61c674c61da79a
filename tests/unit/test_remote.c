/* Unit tests of the registry client's pure parts: WWW-Authenticate,
 * Retry-After, Range and Content-Range parsing, Link headers of paged
 * lists and the pages they may lead to, the origin credentials may go to,
 * URLs in messages, backoff, bearer scopes, base64, docker config.json
 * credentials and their lookup order, docker credential helpers (real
 * shell-script helpers run from PATH), login storage, and the verified
 * file writer that downloads go through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/http.h"
#include "registry/remote.h"
#include "registry/remote_int.h"
#include "net/web.h"
#include "scratch.h"

#include <netinet/in.h>
#include <sys/socket.h>

static const char *base;

static int setup(void **state)
{
	static int counter;
	(void)state;
	char name[32];
	snprintf(name, sizeof(name), "remote-%d", counter++);
	base = scratch_dir(name);
	unsetenv("MODELGATE_REGISTRY_USER");
	unsetenv("MODELGATE_REGISTRY_PASSWORD");
	unsetenv("CI_REGISTRY");
	unsetenv("CI_REGISTRY_USER");
	unsetenv("CI_REGISTRY_PASSWORD");
	unsetenv("GITHUB_TOKEN");
	unsetenv("GITHUB_ACTOR");
	setenv("DOCKER_CONFIG", base, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[4400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_challenge_bearer_with_all_params(void **state)
{
	(void)state;
	mg_challenge c;
	assert_int_equal(mg_http_parse_challenge(
				 "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
				 "scope=\"repository:team/kws:pull,push\"", &c), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.example.com/token");
	assert_string_equal(c.service, "registry.example.com");
	assert_string_equal(c.scope, "repository:team/kws:pull,push");
}

static void test_challenge_basic_and_case(void **state)
{
	(void)state;
	mg_challenge c;
	assert_int_equal(mg_http_parse_challenge("basic realm=\"modelgate-test\"", &c), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_string_equal(c.realm, "modelgate-test");
	assert_int_equal(mg_http_parse_challenge("BEARER realm=x , service=y", &c), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.service, "y");
}

static void test_challenge_rejects_malformed(void **state)
{
	(void)state;
	mg_challenge c;
	assert_int_not_equal(mg_http_parse_challenge("", &c), 0);
	assert_int_not_equal(mg_http_parse_challenge("Digest realm=\"x\"", &c), 0);
	assert_int_not_equal(mg_http_parse_challenge("Bearer service=\"x\"", &c), 0); /* no realm */
	assert_int_not_equal(mg_http_parse_challenge("Bearer realm=\"unterminated", &c), 0);
	assert_int_not_equal(mg_http_parse_challenge("Bearer realm", &c), 0);
}

static void test_retry_after_seconds_and_dates(void **state)
{
	(void)state;
	assert_int_equal(mg_http_retry_after("1", 0), 1);
	assert_int_equal(mg_http_retry_after("120 ", 0), 120);
	assert_int_equal(mg_http_retry_after(NULL, 0), -1);
	assert_int_equal(mg_http_retry_after("", 0), -1);
	assert_int_equal(mg_http_retry_after("soon", 0), -1);
	assert_int_equal(mg_http_retry_after("-5", 0), -1);
	/* Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 */
	assert_int_equal(mg_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10);
	assert_int_equal(mg_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void test_range_header_end(void **state)
{
	(void)state;
	assert_int_equal(mg_http_range_end("0-1023"), 1024);
	assert_int_equal(mg_http_range_end("bytes=0-0"), 1);
	assert_int_equal(mg_http_range_end(""), 0);
	assert_int_equal(mg_http_range_end(NULL), 0);
	assert_int_equal(mg_http_range_end("5-10"), -1); /* uploads start at 0 */
	assert_int_equal(mg_http_range_end("0-"), -1);
	assert_int_equal(mg_http_range_end("0-12x"), -1);
	assert_int_equal(mg_http_content_range_start("bytes 2097152-4194303/4194304"), 2097152);
	assert_int_equal(mg_http_content_range_start("bytes */100"), -1);
	assert_int_equal(mg_http_content_range_start("items 1-2/3"), -1);
}

static void test_link_header_next_target(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(mg_http_link_next("</v2/_catalog?last=b&n=2>; rel=\"next\"", out, sizeof(out)), 1);
	assert_string_equal(out, "/v2/_catalog?last=b&n=2");
	/* several links, rel lists, case, spaces, unquoted values, other params */
	assert_int_equal(mg_http_link_next("<https://r.example/v2/a/tags/list?n=1>; rel=prev , "
					   "<https://r.example/v2/a/tags/list?last=x>;title=\"a;b,c\"; "
					   "REL=\"last NEXT\"", out, sizeof(out)), 1);
	assert_string_equal(out, "https://r.example/v2/a/tags/list?last=x");
	assert_int_equal(mg_http_link_next("</p>; rel=\"prev\"", out, sizeof(out)), 0);
	assert_int_equal(mg_http_link_next("</p>; rel=\"nextpage\"", out, sizeof(out)), 0);
	assert_int_equal(mg_http_link_next("", out, sizeof(out)), 0);
	assert_int_equal(mg_http_link_next(NULL, out, sizeof(out)), 0);
	/* malformed, or too long for out */
	assert_int_equal(mg_http_link_next("/v2/_catalog; rel=next", out, sizeof(out)), -1);
	assert_int_equal(mg_http_link_next("</v2/_catalog; rel=next", out, sizeof(out)), -1);
	assert_int_equal(mg_http_link_next("</a>; rel=\"next", out, sizeof(out)), -1);
	assert_int_equal(mg_http_link_next("</a> rel=next", out, sizeof(out)), -1);
	assert_int_equal(mg_http_link_next("<>; rel=next", out, sizeof(out)), -1);
	assert_int_equal(mg_http_link_next("</v2/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4>; "
					   "rel=next", out, sizeof(out)), -1);
}

static void test_next_page_stays_on_the_registry(void **state)
{
	(void)state;
	mg_remote r = {.name = "reg.example:5000", .base = "https://reg.example:5000"};
	const char *cur = "https://reg.example:5000/v2/a/tags/list?n=10";
	mg_buf out = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_remote__link_url(&out, &r, cur, "/v2/a/tags/list?n=10&last=x", "t", &err), 0);
	assert_string_equal(out.data, "https://reg.example:5000/v2/a/tags/list?n=10&last=x");
	assert_int_equal(mg_remote__link_url(&out, &r, cur, "?n=10&last=y", "t", &err), 0);
	assert_string_equal(out.data, "https://reg.example:5000/v2/a/tags/list?n=10&last=y");
	assert_int_equal(mg_remote__link_url(&out, &r, cur, "HTTPS://reg.example:5000/v2/_catalog?last=z",
					     "t", &err), 0);
	assert_string_equal(out.data, "https://reg.example:5000/v2/_catalog?last=z");
	/* another host, port or scheme, a host-relative or a path-relative link */
	static const char *const refused[] = {
		"https://evil.example/v2/a/tags/list?last=x",
		"https://reg.example:5001/v2/a/tags/list",
		"https://reg.example:50000/v2/a/tags/list",
		"https://reg.example:5000.evil.example/v2/",
		"http://reg.example:5000/v2/a/tags/list",
		"//evil.example/v2/a/tags/list",
		"tags/list?last=x",
		"https://reg.example:5000",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(mg_remote__link_url(&out, &r, cur, refused[i], "the tag list", &err), MG_ENET);
		assert_non_null(strstr(err.msg, "is not on the registry"));
		assert_non_null(strstr(err.msg, "'reg.example:5000'"));
	}
	mg_buf_free(&out);
}

/* Credentials go to the registry's own scheme, host and port only. */
static void test_same_origin_is_scheme_host_and_port(void **state)
{
	(void)state;
	static const char *const same[][2] = {
		{"https://reg.example:5000/v2/", "https://reg.example:5000"},
		{"https://reg.example/v2/a/blobs/uploads/x?_state=1", "https://reg.example:443"},
		{"http://reg.example:80/v2/", "http://reg.example"},
		{"HTTPS://Reg.Example/v2/", "https://reg.example"},
		{"https://user:pw@reg.example/v2/", "https://reg.example"},
		{"http://[::1]:5000/v2/", "http://[::1]:5000"},
		{"http://[0:0:0:0:0:0:0:1]:5000/v2/", "http://[::1]:5000"},
		{"https://[::1]/v2/", "https://[::1]:443"},
		{"http://127.0.0.1:5000/x", "http://127.0.0.1:5000"},
	};
	static const char *const other[][2] = {
		{"http://reg.example/v2/", "https://reg.example"},          /* scheme */
		{"https://reg.example:443/v2/", "http://reg.example:443"},  /* scheme, same port */
		{"https://reg.example:5001/v2/", "https://reg.example:5000"}, /* port */
		{"https://reg.example:5000/v2/", "https://reg.example"},     /* port vs default */
		{"http://reg.example:443/v2/", "http://reg.example"},
		{"https://evil.example/v2/", "https://reg.example"},         /* host */
		{"https://reg.example.evil.example/v2/", "https://reg.example"},
		{"https://reg.example@evil.example/v2/", "https://reg.example"},
		{"http://127.0.0.2:5000/upload", "http://127.0.0.1:5000"},
		{"http://localhost:5000/v2/", "http://127.0.0.1:5000"},
		{"http://[::2]:5000/v2/", "http://[::1]:5000"},
		{"http://[::1]:5001/v2/", "http://[::1]:5000"},
		{"ftp://reg.example/v2/", "ftp://reg.example"},               /* not http(s) */
		{"/v2/a/blobs/uploads/x", "https://reg.example"},            /* not absolute */
		{"", "https://reg.example"},
		{"https://", "https://reg.example"},
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (!mg_http_same_origin(same[i][0], same[i][1]) || !mg_http_same_origin(same[i][1], same[i][0]))
			fail_msg("'%s' and '%s' should be one origin", same[i][0], same[i][1]);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (mg_http_same_origin(other[i][0], other[i][1]) || mg_http_same_origin(other[i][1], other[i][0]))
			fail_msg("'%s' and '%s' should be two origins", other[i][0], other[i][1]);
	assert_int_equal(mg_http_same_origin(NULL, "https://reg.example"), 0);
}

static void test_urls_in_messages_lose_secrets(void **state)
{
	(void)state;
	char out[256];
	mg_http_url_public("https://user:pa55@reg.example:5000/v2/a/blobs/uploads/u?_state=S#f", out,
			   sizeof(out));
	assert_string_equal(out, "https://reg.example:5000/v2/a/blobs/uploads/u");
	mg_http_url_public("http://127.0.0.2:81/token?service=x&scope=y", out, sizeof(out));
	assert_string_equal(out, "http://127.0.0.2:81/token");
	mg_http_url_public("https://reg.example", out, sizeof(out));
	assert_string_equal(out, "https://reg.example");
	mg_http_url_public("https://reg.example?access_token=T", out, sizeof(out));
	assert_string_equal(out, "https://reg.example");
	mg_http_url_public("https://a@b@reg.example/x/y@z", out, sizeof(out));
	assert_string_equal(out, "https://reg.example/x/y@z");
}

static void test_backoff_grows_is_capped_and_jittered(void **state)
{
	(void)state;
	assert_int_equal(mg_http_backoff_ms(1, 500, 0.5), 500);
	assert_int_equal(mg_http_backoff_ms(2, 500, 0.5), 1000);
	assert_int_equal(mg_http_backoff_ms(4, 500, 0.5), 4000);
	assert_int_equal(mg_http_backoff_ms(40, 500, 0.5), 30000);
	assert_int_equal(mg_http_backoff_ms(1, 1000, 0.0), 750);
	assert_true(mg_http_backoff_ms(1, 1000, 0.999) < 1250);
}

static void test_base64_round_trip(void **state)
{
	(void)state;
	static const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
					 {"user:p@ss:word", "dXNlcjpwQHNzOndvcmQ="}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = mg_base64_encode(cases[i][0], strlen(cases[i][0]), NULL);
		assert_non_null(e);
		assert_string_equal(e, cases[i][1]);
		free(e);
		mg_buf d = MG_BUF_INIT;
		assert_int_equal(mg_base64_decode(&d, cases[i][1], NULL), 0);
		assert_string_equal(mg_buf_cstr(&d), cases[i][0]);
		mg_buf_free(&d);
	}
	mg_buf d = MG_BUF_INIT;
	assert_int_equal(mg_base64_decode(&d, "Zm9v!", NULL), MG_EINVAL);
	assert_int_equal(mg_base64_decode(&d, "Zg=x", NULL), MG_EINVAL);
	mg_buf_free(&d);
}

static void test_docker_config_auth_entries(void **state)
{
	(void)state;
	const char *j = "{\"auths\":{\"https://ghcr.io\":{\"auth\":\"dXNlcjpwQHNzOndvcmQ=\"},"
			"\"localhost:5000\":{\"username\":\"u2\",\"password\":\"p2\"},"
			"\"bad.example\":{\"auth\":\"bm9jb2xvbg==\"}},\"credsStore\":\"desktop\"}";
	char *u = NULL, *p = NULL;
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "ghcr.io", &u, &p, NULL, NULL), 0);
	assert_string_equal(u, "user");
	assert_string_equal(p, "p@ss:word");
	free(u);
	free(p);
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "localhost:5000", &u, &p, NULL, NULL),
			 0);
	assert_string_equal(u, "u2");
	assert_string_equal(p, "p2");
	free(u);
	free(p);
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "ghcr.io:443", &u, &p, NULL, NULL),
			 MG_ENOTFOUND);
	mg_error err = {0};
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "bad.example", &u, &p, NULL, &err),
			 MG_EINVAL);
	assert_non_null(strstr(err.msg, "bad.example"));
	assert_int_equal(mg_auth_from_docker_config("{", 1, "x", &u, &p, NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "line 1"));
}

static void test_merge_scopes_adds_what_the_challenge_needs(void **state)
{
	(void)state;
	char out[256];
	/* a DELETE: the registry wants "delete", which the request lacks */
	assert_int_equal(mg_http_merge_scopes("repository:team/kws:pull,push",
					      "repository:team/kws:delete", out, sizeof(out)), 0);
	assert_string_equal(out, "repository:team/kws:pull,push repository:team/kws:delete");
	/* covered: the same resource with all its actions, in any order, or "*" */
	assert_int_equal(mg_http_merge_scopes("repository:a:push,pull repository:b:pull",
					      "repository:b:pull repository:a:pull,push", out, sizeof(out)), 0);
	assert_string_equal(out, "repository:a:push,pull repository:b:pull");
	assert_int_equal(mg_http_merge_scopes("repository:a:*", "repository:a:delete", out, sizeof(out)),
			 0);
	assert_string_equal(out, "repository:a:*");
	/* another repository whose name starts the same is not covered */
	assert_int_equal(mg_http_merge_scopes("repository:team/a:pull", "repository:team/ab:pull", out,
					      sizeof(out)), 0);
	assert_string_equal(out, "repository:team/a:pull repository:team/ab:pull");
	/* one side empty */
	assert_int_equal(mg_http_merge_scopes(NULL, "registry:catalog:*", out, sizeof(out)), 0);
	assert_string_equal(out, "registry:catalog:*");
	assert_int_equal(mg_http_merge_scopes("repository:a:pull", "", out, sizeof(out)), 0);
	assert_string_equal(out, "repository:a:pull");
	assert_int_equal(mg_http_merge_scopes(NULL, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* too small */
	assert_int_equal(mg_http_merge_scopes("repository:a:pull", "repository:b:pull", out, 20), -1);
}

static void test_docker_config_helper_order(void **state)
{
	(void)state;
	const char *j = "{\"auths\":{\"a.example\":{\"auth\":\"dTpw\"},\"b.example\":{},"
			"\"c.example\":{\"auth\":\"dTpw\"}},"
			"\"credHelpers\":{\"c.example\":\"per-host\",\"https://d.example\":\"d-helper\"},"
			"\"credsStore\":\"desktop\"}";
	char *u = NULL, *p = NULL, *h = NULL;
	/* credHelpers for the host comes first, even before a filled "auths" */
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "c.example", &u, &p, &h, NULL), 0);
	assert_null(u);
	assert_string_equal(h, "per-host");
	free(h);
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "d.example", &u, &p, &h, NULL), 0);
	assert_string_equal(h, "d-helper");
	free(h);
	/* then an "auths" entry with credentials, before the credsStore */
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "a.example", &u, &p, &h, NULL), 0);
	assert_null(h);
	assert_string_equal(u, "u");
	assert_string_equal(p, "p");
	free(u);
	free(p);
	/* an empty "auths" entry (docker's, with a store) and no entry: the store */
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "b.example", &u, &p, &h, NULL), 0);
	assert_string_equal(h, "desktop");
	free(h);
	assert_int_equal(mg_auth_from_docker_config(j, strlen(j), "e.example", &u, &p, &h, NULL), 0);
	assert_string_equal(h, "desktop");
	free(h);
	/* without a store: nothing */
	const char *k = "{\"auths\":{},\"credHelpers\":{\"x.example\":\"x\"}}";
	assert_int_equal(mg_auth_from_docker_config(k, strlen(k), "e.example", &u, &p, &h, NULL),
			 MG_ENOTFOUND);
	/* a name that is not a program name */
	const char *bad = "{\"credsStore\":\"../../bin/sh\"}";
	mg_error err = {0};
	assert_int_equal(mg_auth_from_docker_config(bad, strlen(bad), "e.example", &u, &p, &h, &err),
			 MG_EINVAL);
	assert_non_null(strstr(err.msg, "credsStore"));
	const char *num = "{\"credHelpers\":{\"e.example\":7}}";
	assert_int_equal(mg_auth_from_docker_config(num, strlen(num), "e.example", &u, &p, &h, &err),
			 MG_EINVAL);
}

static void test_helper_answer_parsing(void **state)
{
	(void)state;
	char *u = NULL, *p = NULL;
	const char *ok = "{\"ServerURL\":\"reg.example\",\"Username\":\"bot\",\"Secret\":\"s3cr3t\"}\n";
	assert_int_equal(mg_auth_helper_parse(ok, strlen(ok), "docker-credential-x", "reg.example", &u, &p,
					      NULL), 0);
	assert_string_equal(u, "bot");
	assert_string_equal(p, "s3cr3t");
	free(u);
	free(p);
	/* nothing stored */
	const char *empty = "{\"ServerURL\":\"\",\"Username\":\"\",\"Secret\":\"\"}";
	assert_int_equal(mg_auth_helper_parse(empty, strlen(empty), "docker-credential-x", "reg.example",
					      &u, &p, NULL), MG_ENOTFOUND);
	assert_null(u);
	/* nonsense: named, and never with the secret */
	mg_error err = {0};
	const char *cases[] = {"", "not json", "[]", "{\"Username\":\"bot\"}",
			       "{\"Username\":1,\"Secret\":\"s3cr3t\"}"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mg_auth_helper_parse(cases[i], strlen(cases[i]), "docker-credential-x",
						      "reg.example", &u, &p, &err), MG_ERROR);
		assert_non_null(strstr(err.msg, "'docker-credential-x'"));
		assert_non_null(strstr(err.msg, "'reg.example'"));
		assert_null(strstr(err.msg, "s3cr3t"));
		assert_null(u);
		assert_null(p);
	}
	/* an identity token is refused clearly */
	const char *idt = "{\"Username\":\"<token>\",\"Secret\":\"refresh-s3cr3t\"}";
	assert_int_equal(mg_auth_helper_parse(idt, strlen(idt), "docker-credential-x", "reg.example", &u,
					      &p, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "identity token"));
	assert_null(strstr(err.msg, "s3cr3t"));
	assert_null(u);
}

/* Writes an executable shell script docker-credential-NAME into base. */
static void write_helper(const char *name, const char *body)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/docker-credential-%s", base, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void test_helper_runs_from_path(void **state)
{
	(void)state;
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL, path[4400];
	snprintf(path, sizeof(path), "%s:%s", base, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	/* the protocol: argument "get", the host on stdin (no newline) */
	write_helper("good", "[ \"$1\" = get ] || exit 9\nhost=$(cat)\n"
			     "[ \"$host\" = reg.example:5000 ] || { echo 'credentials not found in native "
			     "keychain'; exit 1; }\n"
			     "printf '{\"ServerURL\":\"%s\",\"Username\":\"bot\",\"Secret\":\"pw\"}' \"$host\"");
	char *u = NULL, *p = NULL;
	assert_int_equal(mg_auth_helper_get("good", "reg.example:5000", &u, &p, NULL), 0);
	assert_string_equal(u, "bot");
	assert_string_equal(p, "pw");
	free(u);
	free(p);
	assert_int_equal(mg_auth_helper_get("good", "other.example", &u, &p, NULL), MG_ENOTFOUND);
	assert_null(u);
	/* through the lookup: a credsStore in config.json */
	char cfg[4200];
	snprintf(cfg, sizeof(cfg), "%s/config.json", base);
	const char *store = "{\"credsStore\":\"good\"}";
	assert_int_equal(mg_file_write_atomic(cfg, store, strlen(store), NULL), 0);
	char from[MG_AUTH_FROM_SIZE];
	assert_int_equal(mg_auth_lookup("reg.example:5000", &u, &p, from, NULL), 0);
	assert_string_equal(u, "bot");
	assert_non_null(strstr(from, "credential helper 'docker-credential-good'"));
	free(u);
	free(p);
	assert_int_equal(mg_auth_lookup("other.example", &u, &p, NULL, NULL), 0); /* anonymous */
	assert_null(u);
	/* a failing helper: its name, the registry, its message */
	mg_error err = {0};
	write_helper("locked", "cat >/dev/null; echo 'the keychain is locked' >&2; exit 3");
	assert_int_equal(mg_auth_helper_get("locked", "reg.example", &u, &p, &err), MG_ERROR);
	assert_non_null(strstr(err.msg, "'docker-credential-locked'"));
	assert_non_null(strstr(err.msg, "'reg.example'"));
	assert_non_null(strstr(err.msg, "exit 3"));
	assert_non_null(strstr(err.msg, "the keychain is locked"));
	/* not on PATH: bad input, named; through the lookup, the file too */
	assert_int_equal(mg_auth_helper_get("absent", "reg.example", &u, &p, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'docker-credential-absent'"));
	assert_non_null(strstr(err.msg, "PATH"));
	const char *absent = "{\"credHelpers\":{\"reg.example\":\"absent\"},\"credsStore\":\"good\"}";
	assert_int_equal(mg_file_write_atomic(cfg, absent, strlen(absent), NULL), 0);
	assert_int_equal(mg_auth_lookup("reg.example", &u, &p, NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, cfg));
	/* endless output is stopped */
	write_helper("chatty", "cat >/dev/null; yes '{\"Username\":\"bot\",\"Secret\":\"pw\"}'");
	assert_int_equal(mg_auth_helper_get("chatty", "reg.example", &u, &p, &err), MG_ERROR);
	assert_non_null(strstr(err.msg, "wrote more than"));
	/* killed */
	write_helper("crash", "kill -9 $$");
	assert_int_equal(mg_auth_helper_get("crash", "reg.example", &u, &p, &err), MG_ERROR);
	assert_non_null(strstr(err.msg, "signal 9"));
	/* a helper that does not read its input and exits at once */
	write_helper("quick", "exit 0");
	assert_int_equal(mg_auth_helper_get("quick", "reg.example", &u, &p, &err), MG_ERROR);
	assert_null(u);
	if (old)
		setenv("PATH", old, 1);
	free(old);
}

static void test_lookup_order_env_ci_github_config(void **state)
{
	(void)state;
	char *u = NULL, *p = NULL, from[MG_AUTH_FROM_SIZE];
	assert_int_equal(mg_auth_lookup("reg.example", &u, &p, from, NULL), 0); /* nothing: anonymous */
	assert_null(u);
	assert_string_equal(from, "");
	assert_null(p);
	assert_int_equal(mg_auth_store("reg.example", "from-config", "pw0", NULL), 0);
	assert_int_equal(mg_auth_lookup("reg.example", &u, &p, from, NULL), 0);
	assert_string_equal(u, "from-config");
	assert_non_null(strstr(from, "config.json'")); /* where, for messages */
	free(u);
	free(p);
	setenv("CI_REGISTRY", "reg.example", 1);
	setenv("CI_REGISTRY_USER", "gitlab-ci-token", 1);
	setenv("CI_REGISTRY_PASSWORD", "job-token", 1);
	assert_int_equal(mg_auth_lookup("reg.example", &u, &p, from, NULL), 0);
	assert_string_equal(u, "gitlab-ci-token");
	assert_string_equal(from, "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD");
	assert_string_equal(p, "job-token");
	free(u);
	free(p);
	assert_int_equal(mg_auth_lookup("other.example", &u, &p, NULL, NULL), 0);
	assert_null(u);
	setenv("MODELGATE_REGISTRY_USER", "mine", 1);
	setenv("MODELGATE_REGISTRY_PASSWORD", "pw1", 1);
	assert_int_equal(mg_auth_lookup("reg.example", &u, &p, from, NULL), 0);
	assert_string_equal(u, "mine");
	assert_string_equal(from, "MODELGATE_REGISTRY_USER/MODELGATE_REGISTRY_PASSWORD");
	free(u);
	free(p);
	unsetenv("MODELGATE_REGISTRY_USER");
	setenv("GITHUB_TOKEN", "ghs_token", 1);
	assert_int_equal(mg_auth_lookup("ghcr.io", &u, &p, NULL, NULL), 0);
	assert_string_equal(u, "x-access-token");
	assert_string_equal(p, "ghs_token");
	free(u);
	free(p);
}

static void test_login_store_is_private_and_keeps_other_keys(void **state)
{
	(void)state;
	char path[4200];
	snprintf(path, sizeof(path), "%s/config.json", base);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"auths\":{\"a.example\":{\"auth\":\"eDp5\"}},\"credHelpers\":{\"b\":\"c\"}}", f);
	fclose(f);
	assert_int_equal(mg_auth_store("localhost:5000", "ci", "s3cret", NULL), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	mg_buf text = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&text, path, 1 << 20, NULL), 0);
	assert_non_null(strstr(text.data, "\"credHelpers\""));
	assert_non_null(strstr(text.data, "eDp5"));
	assert_non_null(strstr(text.data, "Y2k6czNjcmV0")); /* base64 "ci:s3cret" */
	assert_null(strstr(text.data, "s3cret"));
	mg_buf_free(&text);
	char *u = NULL, *p = NULL;
	assert_int_equal(mg_auth_lookup("localhost:5000", &u, &p, NULL, NULL), 0);
	assert_string_equal(p, "s3cret");
	free(u);
	free(p);
}

static void test_vfile_keeps_only_matching_bytes(void **state)
{
	(void)state;
	char dest[4200], digest[MG_DIGEST_SIZE];
	snprintf(dest, sizeof(dest), "%s/out.bin", base);
	static char data[5 << 20];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	mg_digest_bytes(data, sizeof(data), digest);
	/* good bytes, in uneven pieces */
	mg_vfile *f = NULL;
	assert_int_equal(mg_vfile_open(&f, base, dest, digest, sizeof(data), NULL), 0);
	for (size_t off = 0; off < sizeof(data);) {
		size_t n = sizeof(data) - off < 777777 ? sizeof(data) - off : 777777;
		assert_int_equal(mg_vfile_write(f, data + off, n, NULL), 0);
		off += n;
	}
	assert_int_equal(mg_vfile_commit(f, NULL), 0);
	mg_vfile_free(f);
	assert_int_equal(access(dest, F_OK), 0);
	unlink(dest);
	/* one flipped byte: both digests named, nothing kept */
	data[12345] ^= 1;
	mg_error err = {0};
	assert_int_equal(mg_vfile_open(&f, base, dest, digest, sizeof(data), NULL), 0);
	assert_int_equal(mg_vfile_write(f, data, sizeof(data), NULL), 0);
	assert_int_equal(mg_vfile_commit(f, &err), MG_ECORRUPT);
	mg_vfile_free(f);
	assert_non_null(strstr(err.msg, digest));
	assert_non_null(strstr(err.msg, "hash to sha256:"));
	assert_int_not_equal(access(dest, F_OK), 0);
	/* too many bytes, and too few */
	assert_int_equal(mg_vfile_open(&f, base, dest, digest, 10, NULL), 0);
	assert_int_equal(mg_vfile_write(f, data, 11, &err), MG_ECORRUPT);
	mg_vfile_free(f);
	assert_int_equal(mg_vfile_open(&f, base, dest, digest, 10, NULL), 0);
	assert_int_equal(mg_vfile_write(f, data, 9, NULL), 0);
	assert_int_equal(mg_vfile_commit(f, &err), MG_ECORRUPT);
	assert_non_null(strstr(err.msg, "ended after 9 of 10 bytes"));
	mg_vfile_free(f);
	/* no temporary file is left behind */
	char cmd[4400];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", base);
	assert_int_equal(system(cmd), 0);
}

/* The descriptors this process has open. */
static int open_fds(void)
{
	int n = 0;
	char path[64];
	for (int fd = 0; fd < 4096; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* Opening a verified file costs no descriptor, file or thread: they come
 * with the first byte and go once it is verified (a pull of thousands of
 * layers holds them only for the downloads in progress). */
static void test_vfile_holds_a_descriptor_only_while_bytes_stream(void **state)
{
	(void)state;
	char dest[4200], empty[4200], digest[MG_DIGEST_SIZE], none[MG_DIGEST_SIZE];
	snprintf(dest, sizeof(dest), "%s/lazy.bin", base);
	snprintf(empty, sizeof(empty), "%s/empty.bin", base);
	mg_digest_bytes("0123456789", 10, digest);
	mg_digest_bytes("", 0, none);
	char cmd[4400];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", base);
	int before = open_fds();
	mg_vfile *f = NULL, *g = NULL;
	assert_int_equal(mg_vfile_open(&f, base, dest, digest, 10, NULL), 0);
	assert_int_equal(mg_vfile_open(&g, base, empty, none, 0, NULL), 0);
	assert_int_equal(open_fds(), before);
	assert_int_equal(system(cmd), 0); /* no temporary file yet */
	assert_int_equal(mg_vfile_write(f, "01234", 5, NULL), 0);
	assert_int_equal(open_fds(), before + 1);
	assert_int_equal(mg_vfile_write(f, "56789", 5, NULL), 0);
	assert_int_equal(mg_vfile_verify(f, NULL), 0);
	assert_int_equal(mg_vfile_verify(g, NULL), 0); /* an empty blob: an empty file */
	assert_int_equal(open_fds(), before);
	assert_int_equal(mg_vfile_commit(f, NULL), 0);
	assert_int_equal(mg_vfile_commit(g, NULL), 0);
	mg_vfile_free(f);
	mg_vfile_free(g);
	struct stat st;
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(stat(empty, &st), 0);
	assert_int_equal(st.st_size, 0);
	unlink(dest);
	unlink(empty);
	assert_int_equal(system(cmd), 0);
}

/* A port nothing listens on (bound, then closed). */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Web requests share the registry engine but speak of a server, not a
 * registry; max_retries < 0 sends once. */
static void test_web_errors_name_the_server_not_a_registry(void **state)
{
	(void)state;
	char url[64], want[64];
	int port = dead_port();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	snprintf(want, sizeof(want), "cannot reach '127.0.0.1:%d' (POST /hook)", port);
	mg_web_req req = MG_WEB_REQ_INIT;
	req.method = "POST";
	req.url = url;
	req.max_retries = -1;
	mg_web_resp resp = MG_WEB_RESP_INIT;
	mg_error err = {0};
	assert_int_equal(mg_web_request(&req, &resp, &err), MG_ENET);
	if (!strstr(err.msg, want) || strstr(err.msg, "registry") || strstr(err.msg, "after retrying"))
		fail_msg("message '%s' is not '%s...', or speaks of a registry or retries", err.msg, want);
	mg_web_resp_free(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_web_errors_name_the_server_not_a_registry),
		cmocka_unit_test(test_challenge_bearer_with_all_params),
		cmocka_unit_test(test_challenge_basic_and_case),
		cmocka_unit_test(test_challenge_rejects_malformed),
		cmocka_unit_test(test_retry_after_seconds_and_dates),
		cmocka_unit_test(test_range_header_end),
		cmocka_unit_test(test_link_header_next_target),
		cmocka_unit_test(test_next_page_stays_on_the_registry),
		cmocka_unit_test(test_same_origin_is_scheme_host_and_port),
		cmocka_unit_test(test_urls_in_messages_lose_secrets),
		cmocka_unit_test(test_backoff_grows_is_capped_and_jittered),
		cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_docker_config_auth_entries),
		cmocka_unit_test(test_merge_scopes_adds_what_the_challenge_needs),
		cmocka_unit_test(test_docker_config_helper_order),
		cmocka_unit_test(test_helper_answer_parsing),
		cmocka_unit_test_setup_teardown(test_helper_runs_from_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_order_env_ci_github_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_store_is_private_and_keeps_other_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vfile_keeps_only_matching_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfile_holds_a_descriptor_only_while_bytes_stream,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
