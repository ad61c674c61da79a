/* Unit tests of references, annotations and the manifest format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

#define HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static mg_ref *parse_ok(const char *s)
{
	mg_ref *r = NULL;
	mg_error err = {0};
	int rc = mg_ref_parse(&r, s, &err);
	if (rc)
		fail_msg("'%s' did not parse: %s", s, err.msg);
	return r;
}

static void parse_bad(const char *s, const char *why)
{
	mg_ref *r = NULL;
	mg_error err = {0};
	assert_int_equal(mg_ref_parse(&r, s, &err), MG_EINVAL);
	assert_null(r);
	if (*s && !strstr(err.msg, s))
		fail_msg("error for '%s' does not name it: %s", s, err.msg);
	if (why && !strstr(err.msg, why))
		fail_msg("error for '%s' does not say '%s': %s", s, why, err.msg);
}

static void test_ref_local_tag(void **state)
{
	(void)state;
	mg_ref *r = parse_ok("kws:v3");
	assert_null(r->registry);
	assert_string_equal(r->repo, "kws");
	assert_string_equal(r->tag, "v3");
	assert_null(r->digest);
	assert_false(r->tag_implicit);
	char *name = mg_ref_store_name(r, NULL);
	assert_string_equal(name, "kws:v3");
	free(name);
	mg_ref_free(r);
}

static void test_ref_defaults_to_latest(void **state)
{
	(void)state;
	mg_ref *r = parse_ok("team/kws");
	assert_string_equal(r->repo, "team/kws");
	assert_string_equal(r->tag, "latest");
	assert_true(r->tag_implicit);
	mg_ref_free(r);
}

static void test_ref_by_digest(void **state)
{
	(void)state;
	mg_ref *r = parse_ok("kws@sha256:" HEX);
	assert_string_equal(r->digest, "sha256:" HEX);
	assert_null(r->tag);
	mg_ref_free(r);
	r = parse_ok("kws:v1@sha256:" HEX);
	assert_string_equal(r->tag, "v1");
	assert_string_equal(r->digest, "sha256:" HEX);
	mg_ref_free(r);
}

static void test_ref_registry_hosts(void **state)
{
	(void)state;
	mg_ref *r = parse_ok("localhost:5000/team/kws:v3");
	assert_string_equal(r->registry, "localhost:5000");
	assert_string_equal(r->repo, "team/kws");
	assert_string_equal(r->tag, "v3");
	mg_ref_free(r);
	r = parse_ok("ghcr.io/acme/kws");
	assert_string_equal(r->registry, "ghcr.io");
	assert_string_equal(r->tag, "latest");
	mg_ref_free(r);
	r = parse_ok("localhost/kws@sha256:" HEX);
	assert_string_equal(r->registry, "localhost");
	mg_ref_free(r);
	r = parse_ok("team/kws:v1"); /* "team" has no '.' or ':' */
	assert_null(r->registry);
	mg_ref_free(r);
}

static void test_loopback_registries_are_named_by_address_or_localhost(void **state)
{
	(void)state;
	static const char *const yes[] = {
		"localhost", "localhost:5000", "LocalHost:5000", "127.0.0.1", "127.0.0.1:5000",
		"127.1.2.3:5000", "127.255.255.255", "[::1]", "[::1]:5000", "[0:0:0:0:0:0:0:1]:443",
	};
	static const char *const no[] = {
		"localhost.example.com", "localhost.example.com:5000", "mylocalhost:5000",
		"127.0.0.1.nip.io", "127.0.0.1.nip.io:5000", "128.0.0.1:5000", "10.0.0.1",
		"0.0.0.0:5000", "127.1", "127.0.0.01", "[::2]", "[::2]:5000", "[::ffff:127.0.0.1]",
		"::1", "[::1", "[::1]5000", "localhost:", "localhost:123456", "localhost:50x0",
		"ghcr.io", "registry.example.com:443", "",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!mg_registry_is_loopback(yes[i]))
			fail_msg("'%s' is loopback", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (mg_registry_is_loopback(no[i]))
			fail_msg("'%s' is not loopback", no[i]);
}

static void test_ref_rejects_bad_input(void **state)
{
	(void)state;
	parse_bad("", "empty");
	parse_bad("KWS:v1", "repository");
	parse_bad("kws:", "tag");
	parse_bad("kws:.hidden", "tag");
	parse_bad("kws@sha256:abc", "digest");
	parse_bad("kws@md5:" HEX, "digest");
	parse_bad("a//b", "repository");
	parse_bad("kws/", "repository");
	parse_bad("-kws", "repository");
	parse_bad("kws..x", "repository");
	parse_bad("localhost:5000/", "repository");
	parse_bad("a:b:c", NULL);
}

/* The first component is a registry host when it has '.' or ':' or is
 * "localhost"; then it must be a host name or address, with an optional
 * port: "../x" is no host to look up, but an invalid reference. */
static void test_ref_registry_host_must_be_a_host(void **state)
{
	(void)state;
	static const char *const good[] = {
		"localhost:5000/a", "ghcr.io/a", "Registry.Example.COM/a", "a-b.c-d.io:443/a",
		"127.0.0.1:5000/a", "[::1]:5000/a", "[::1]/a", "[2001:db8::7]:5000/a",
		"xn--bcher-kva.example/a", "1.2.3.4/a", "r.example:65535/a",
	};
	static const char *const bad[] = {
		"../x:v1", "./x:v1", "../../x", ".../x", "./x", "a../x", "..a/x", "a..b/x", ".a/x", "a./x",
		"-a.io/x", "a-.io/x", "a.-b.io/x", ":5000/x", "localhost:/x", "localhost:5000:1/x",
		"localhost:abc/x", "localhost:123456/x", "localhost:0/x", "localhost:65536/x",
		"[::1/x", "[]:5000/x", "[::g]/x", "[::1]5000/x", "::1/x", "a.io:5000]/x", "[1.2.3.4]/x",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		mg_ref *r = parse_ok(good[i]);
		if (strncmp(good[i], r->registry, strlen(r->registry)) || strcmp(r->repo, "a"))
			fail_msg("'%s' parsed as host '%s', repository '%s'", good[i], r->registry, r->repo);
		mg_ref_free(r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i], "registry host");
}

static void test_tag_validity(void **state)
{
	(void)state;
	assert_true(mg_tag_valid("v1.2-rc_3"));
	assert_true(mg_tag_valid("sha256-" HEX));
	assert_false(mg_tag_valid(""));
	assert_false(mg_tag_valid("-x"));
	assert_false(mg_tag_valid("a/b"));
	char long_tag[130];
	memset(long_tag, 'a', 129);
	long_tag[129] = '\0';
	assert_false(mg_tag_valid(long_tag));
	long_tag[128] = '\0';
	assert_true(mg_tag_valid(long_tag));
}

static void test_kv_replaces_existing_keys(void **state)
{
	(void)state;
	mg_kv kv = MG_KV_INIT;
	assert_int_equal(mg_kv_set(&kv, "a", "1", NULL), 0);
	assert_int_equal(mg_kv_set(&kv, "b", "2", NULL), 0);
	assert_int_equal(mg_kv_set(&kv, "a", "3", NULL), 0);
	assert_int_equal(kv.n, 2);
	assert_string_equal(mg_kv_get(&kv, "a"), "3");
	assert_null(mg_kv_get(&kv, "c"));
	mg_kv_clear(&kv);
	assert_int_equal(kv.n, 0);
}

static const char good_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"artifactType\":\"application/vnd.modelgate.model.v1\","
	"\"config\":{\"mediaType\":\"application/vnd.modelgate.config.v1+json\",\"digest\":\"sha256:" HEX "\",\"size\":2},"
	"\"layers\":[{\"mediaType\":\"application/vnd.onnx.model\",\"digest\":\"sha256:" HEX "\",\"size\":0,"
	"\"annotations\":{\"org.opencontainers.image.title\":\"model.onnx\"}}],"
	"\"annotations\":{\"org.opencontainers.image.created\":\"2026-01-01T00:00:00Z\"}}";

static void test_manifest_round_trips_canonically(void **state)
{
	(void)state;
	mg_manifest *m = NULL;
	mg_error err = {0};
	assert_int_equal(mg_manifest_parse(&m, good_manifest, strlen(good_manifest), "t", &err), 0);
	assert_string_equal(m->artifact_type, MG_ARTIFACT_MODEL);
	assert_int_equal(m->nlayers, 1);
	assert_string_equal(m->layers[0].title, "model.onnx");
	assert_int_equal(m->config.size, 2);
	assert_string_equal(mg_kv_get(&m->annotations, MG_ANNOT_CREATED), "2026-01-01T00:00:00Z");
	mg_buf a = MG_BUF_INIT, b = MG_BUF_INIT;
	assert_int_equal(mg_manifest_write(&a, m, &err), 0);
	mg_manifest *m2 = NULL;
	assert_int_equal(mg_manifest_parse(&m2, a.data, a.len, "t2", &err), 0);
	assert_int_equal(mg_manifest_write(&b, m2, &err), 0);
	assert_string_equal(a.data, b.data);
	/* canonical: sorted keys, no whitespace */
	assert_null(strchr(a.data, ' '));
	assert_true(strstr(a.data, "\"annotations\"") < strstr(a.data, "\"artifactType\""));
	mg_buf_free(&a);
	mg_buf_free(&b);
	mg_manifest_free(m);
	mg_manifest_free(m2);
}

static void manifest_bad(const char *json, const char *want)
{
	mg_manifest *m = NULL;
	mg_error err = {0};
	assert_int_equal(mg_manifest_parse(&m, json, strlen(json), "sha256:x", &err), MG_ECORRUPT);
	assert_null(m);
	if (!strstr(err.msg, "sha256:x") || !strstr(err.msg, want))
		fail_msg("expected '%s' in: %s", want, err.msg);
}

static void test_manifest_rejects_invalid_documents(void **state)
{
	(void)state;
	manifest_bad("{", "line 1");
	manifest_bad("[]", "expected an object");
	manifest_bad("{\"schemaVersion\":1}", "schemaVersion");
	manifest_bad("{\"schemaVersion\":2,\"mediaType\":\"x\"}", "mediaType");
	manifest_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:12\",\"size\":1},\"layers\":[]}",
		     "config: digest");
	manifest_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:" HEX "\",\"size\":-1},\"layers\":[]}",
		     "size");
	manifest_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:" HEX "\",\"size\":1}}",
		     "layers");
	manifest_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:" HEX "\",\"size\":1},"
		     "\"layers\":[{\"mediaType\":\"a\",\"digest\":\"sha256:" HEX "\",\"size\":1,\"annotations\":{\"org.opencontainers.image.title\":3}}]}",
		     "layers[0]");
	manifest_bad("{\"schemaVersion\":2,\"schemaVersion\":2}", "duplicate");
}

/* A manifest of n layers, all the same descriptor, parsed. */
static int parse_layers(size_t n, mg_manifest **m, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_buf_puts(&b, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:"
			     HEX "\",\"size\":1},\"layers\":[", NULL);
	for (size_t i = 0; !rc && i < n; i++)
		rc = mg_buf_printf(&b, NULL, "%s{\"mediaType\":\"a\",\"digest\":\"sha256:" HEX
				   "\",\"size\":1}", i ? "," : "");
	if (!rc)
		rc = mg_buf_puts(&b, "]}", NULL);
	assert_int_equal(rc, 0);
	rc = mg_manifest_parse(m, b.data, b.len, "sha256:x", err);
	mg_buf_free(&b);
	return rc;
}

static void test_manifest_refuses_more_layers_than_the_cap(void **state)
{
	(void)state;
	mg_manifest *m = NULL;
	mg_error err = {0};
	assert_int_equal(parse_layers(MG_MANIFEST_MAX_LAYERS, &m, &err), 0);
	assert_int_equal(m->nlayers, MG_MANIFEST_MAX_LAYERS);
	mg_manifest_free(m);
	m = NULL;
	assert_int_equal(parse_layers(MG_MANIFEST_MAX_LAYERS + 1, &m, &err), MG_EINVAL);
	assert_null(m);
	if (!strstr(err.msg, "sha256:x") || !strstr(err.msg, "lists 4097 layers") ||
	    !strstr(err.msg, "more than the 4096"))
		fail_msg("unexpected message: %s", err.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_local_tag),
		cmocka_unit_test(test_ref_defaults_to_latest),
		cmocka_unit_test(test_ref_by_digest),
		cmocka_unit_test(test_ref_registry_hosts),
		cmocka_unit_test(test_loopback_registries_are_named_by_address_or_localhost),
		cmocka_unit_test(test_ref_rejects_bad_input),
		cmocka_unit_test(test_ref_registry_host_must_be_a_host),
		cmocka_unit_test(test_tag_validity),
		cmocka_unit_test(test_kv_replaces_existing_keys),
		cmocka_unit_test(test_manifest_round_trips_canonically),
		cmocka_unit_test(test_manifest_rejects_invalid_documents),
		cmocka_unit_test(test_manifest_refuses_more_layers_than_the_cap),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
