/* Unit tests of the local store: blobs, tags, push/pull, gc, fsck,
 * corruption and concurrent writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry/registry.h"
#include "scratch.h"

static const char *base;

static char *path_in(const char *name)
{
	static char p[8][4200];
	static int slot;
	char *out = p[slot++ % 8];
	snprintf(out, 4200, "%s/%s", base, name);
	return out;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static size_t count_dir(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (!prefix || !strncmp(e->d_name, prefix, strlen(prefix))))
			n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	static int counter;
	char name[32];
	snprintf(name, sizeof(name), "store-%d", counter++);
	base = scratch_dir(name);
	mg_store *s = NULL;
	mg_error err = {0};
	if (mg_store_open(&s, path_in("store"), &err))
		fail_msg("%s", err.msg);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	mg_store_free(*state);
	char cmd[4400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd);
}

static mg_ref *ref(const char *s)
{
	mg_ref *r = NULL;
	assert_int_equal(mg_ref_parse(&r, s, NULL), 0);
	return r;
}

static void push(mg_store *s, const char *refname, const char *file, char digest[MG_DIGEST_SIZE])
{
	mg_ref *r = ref(refname);
	const char *files[] = {file};
	mg_push_result res;
	mg_error err = {0};
	mg_push_opts po = MG_PUSH_OPTS_INIT;
	po.created = 1700000000; /* same config blob for every push */
	if (mg_push_local(s, r, files, 1, &po, &res, &err))
		fail_msg("push %s: %s", refname, err.msg);
	if (digest)
		memcpy(digest, res.digest, MG_DIGEST_SIZE);
	mg_ref_free(r);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static char *blob_file(const char *digest)
{
	static char p[4200];
	snprintf(p, sizeof(p), "%s/store/blobs/sha256/%s", base, digest + 7);
	return p;
}

static void test_open_creates_a_layout_skopeo_can_read(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&b, path_in("store/oci-layout"), 1000, NULL), 0);
	assert_string_equal(b.data, "{\"imageLayoutVersion\":\"1.0.0\"}");
	mg_buf_reset(&b);
	assert_int_equal(mg_file_read(&b, path_in("store/index.json"), 1000, NULL), 0);
	assert_non_null(strstr(b.data, "\"manifests\":[]"));
	mg_buf_free(&b);
}

static void test_open_refuses_a_folder_that_is_not_a_layout(void **state)
{
	(void)state;
	mkdir(path_in("other"), 0755);
	write_file(path_in("other/notes.txt"), "keep me", 7);
	mg_store *s = NULL;
	mg_error err = {0};
	assert_int_equal(mg_store_open(&s, path_in("other"), &err), MG_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, path_in("other")));
	assert_non_null(strstr(err.msg, "not an OCI image layout"));
	assert_int_equal(count_dir(path_in("other"), NULL), 1);
}

static void test_put_file_stores_same_bytes_once(void **state)
{
	mg_store *s = *state;
	write_file(path_in("a.bin"), "hello", 5);
	char d1[MG_DIGEST_SIZE], d2[MG_DIGEST_SIZE], want[MG_DIGEST_SIZE];
	uint64_t size;
	int existed = -1;
	mg_error err = {0};
	assert_int_equal(mg_store_put_file(s, path_in("a.bin"), d1, &size, &existed, &err), 0);
	mg_digest_bytes("hello", 5, want);
	assert_string_equal(d1, want);
	assert_int_equal(size, 5);
	assert_int_equal(existed, 0);
	size_t before = count_dir(path_in("store/blobs/sha256"), NULL);
	struct stat st1, st2;
	assert_int_equal(stat(blob_file(d1), &st1), 0);
	assert_int_equal(mg_store_put_file(s, path_in("a.bin"), d2, &size, &existed, &err), 0);
	assert_int_equal(existed, 1);
	assert_string_equal(d1, d2);
	assert_int_equal(count_dir(path_in("store/blobs/sha256"), NULL), before);
	assert_int_equal(stat(blob_file(d1), &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
}

static void test_put_file_streams_large_files(void **state)
{
	mg_store *s = *state;
	size_t n = (5u << 20) + 12345; /* several read chunks and a tail */
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 2654435761u >> 13);
	write_file(path_in("big.bin"), data, n);
	char d[MG_DIGEST_SIZE], want[MG_DIGEST_SIZE];
	uint64_t size;
	int existed;
	assert_int_equal(mg_store_put_file(s, path_in("big.bin"), d, &size, &existed, NULL), 0);
	mg_digest_bytes(data, n, want);
	assert_string_equal(d, want);
	assert_int_equal(size, n);
	free(data);
	assert_int_equal(count_dir(path_in("store/blobs/sha256"), ".tmp-"), 0);
}

/* Bytes this process has passed to write(2) so far. */
static long long bytes_written(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	assert_non_null(f);
	char line[128];
	long long v = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void test_put_file_writes_nothing_for_a_large_stored_file(void **state)
{
	mg_store *s = *state;
	size_t n = 17u << 20; /* large enough to be hashed before copying */
	char *data = calloc(1, n);
	data[n / 2] = 1;
	write_file(path_in("large.bin"), data, n);
	free(data);
	char d1[MG_DIGEST_SIZE], d2[MG_DIGEST_SIZE];
	uint64_t size;
	int existed;
	assert_int_equal(mg_store_put_file(s, path_in("large.bin"), d1, &size, &existed, NULL), 0);
	assert_int_equal(existed, 0);
	long long before = bytes_written();
	assert_int_equal(mg_store_put_file(s, path_in("large.bin"), d2, &size, &existed, NULL), 0);
	assert_true(bytes_written() - before < 4096);
	assert_int_equal(existed, 1);
	assert_int_equal(size, n);
	assert_string_equal(d1, d2);
	/* another file of the same size is hashed first, then stored */
	data = calloc(1, n);
	write_file(path_in("other.bin"), data, n);
	free(data);
	assert_int_equal(mg_store_put_file(s, path_in("other.bin"), d2, &size, &existed, NULL), 0);
	assert_int_equal(existed, 0);
	assert_string_not_equal(d1, d2);
	assert_true(mg_store_has_blob(s, d2));
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_store_read_blob(s, d2, n, &b, NULL), 0);
	assert_int_equal(b.len, n);
	mg_buf_free(&b);
}

static void test_put_file_names_missing_and_odd_inputs(void **state)
{
	mg_store *s = *state;
	char d[MG_DIGEST_SIZE];
	uint64_t size;
	int existed;
	mg_error err = {0};
	assert_int_equal(mg_store_put_file(s, path_in("nope.onnx"), d, &size, &existed, &err), MG_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nope.onnx"));
	assert_int_equal(mg_store_put_file(s, base, d, &size, &existed, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(count_dir(path_in("store/blobs/sha256"), NULL), 0);
}

static void test_read_blob_refuses_corrupt_bytes(void **state)
{
	mg_store *s = *state;
	char d[MG_DIGEST_SIZE];
	assert_int_equal(mg_store_put_bytes(s, "some bytes", 10, d, NULL), 0);
	flip_byte(blob_file(d), 3);
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_buf_puts(&b, "prefix", NULL), 0);
	assert_int_equal(mg_store_read_blob(s, d, 100, &b, &err), MG_ECORRUPT);
	assert_string_equal(b.data, "prefix"); /* nothing handed out */
	char actual[MG_DIGEST_SIZE];
	mg_digest_bytes("somd bytes", 10, actual);
	assert_non_null(strstr(err.msg, d));
	assert_non_null(strstr(err.msg, actual));
	mg_buf_free(&b);
}

static void test_export_blob_leaves_nothing_when_corrupt(void **state)
{
	mg_store *s = *state;
	char d[MG_DIGEST_SIZE];
	assert_int_equal(mg_store_put_bytes(s, "model weights", 13, d, NULL), 0);
	mkdir(path_in("out"), 0755);
	mg_error err = {0};
	assert_int_equal(mg_store_export_blob(s, d, path_in("out/m.onnx"), &err), 0);
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&b, path_in("out/m.onnx"), 100, NULL), 0);
	assert_string_equal(b.data, "model weights");
	mg_buf_free(&b);
	flip_byte(blob_file(d), 0);
	assert_int_equal(mg_store_export_blob(s, d, path_in("out/n.onnx"), &err), MG_ECORRUPT);
	assert_int_equal(access(path_in("out/n.onnx"), F_OK), -1);
	assert_int_equal(count_dir(path_in("out"), NULL), 1);
}

static void test_push_and_pull_round_trip(void **state)
{
	mg_store *s = *state;
	write_file(path_in("model.onnx"), "not really onnx", 15);
	write_file(path_in("labels.txt"), "yes\nno\n", 7);
	mg_ref *r = ref("kws:v1");
	const char *files[] = {path_in("model.onnx"), path_in("labels.txt")};
	mg_kv ann = MG_KV_INIT;
	mg_kv_set(&ann, "team", "audio", NULL);
	mg_push_opts po = MG_PUSH_OPTS_INIT;
	po.annotations = &ann;
	po.created = 1700000000;
	mg_push_result res;
	mg_error err = {0};
	/* not a parseable ONNX model: push refuses it and stores nothing new */
	assert_int_equal(mg_push_local(s, r, files, 2, &po, &res, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "model.onnx"));
	write_file(path_in("model.bin"), "weights", 7);
	files[0] = path_in("model.bin");
	assert_int_equal(mg_push_local(s, r, files, 2, &po, &res, &err), 0);
	assert_int_equal(res.files_new, 2);
	char again[MG_DIGEST_SIZE];
	memcpy(again, res.digest, MG_DIGEST_SIZE);
	assert_int_equal(mg_push_local(s, r, files, 2, &po, &res, &err), 0);
	assert_int_equal(res.files_existed, 2);
	assert_string_equal(res.digest, again); /* same inputs, same digest */

	mg_manifest *m = NULL;
	char d[MG_DIGEST_SIZE];
	assert_int_equal(mg_pull_local(s, r, path_in("pulled"), NULL, &m, d, &err), 0);
	assert_string_equal(d, res.digest);
	assert_string_equal(m->artifact_type, MG_ARTIFACT_MODEL);
	assert_string_equal(mg_kv_get(&m->annotations, "team"), "audio");
	assert_string_equal(mg_kv_get(&m->annotations, MG_ANNOT_CREATED), "2023-11-14T22:13:20Z");
	mg_manifest_free(m);
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&b, path_in("pulled/labels.txt"), 100, NULL), 0);
	assert_string_equal(b.data, "yes\nno\n");
	mg_buf_free(&b);
	mg_kv_clear(&ann);
	mg_ref_free(r);
}

static void test_push_refuses_duplicate_names_and_digest_refs(void **state)
{
	mg_store *s = *state;
	mkdir(path_in("x"), 0755);
	write_file(path_in("m.bin"), "a", 1);
	write_file(path_in("x/m.bin"), "b", 1);
	const char *files[] = {path_in("m.bin"), path_in("x/m.bin")};
	mg_push_result res;
	mg_error err = {0};
	mg_ref *r = ref("kws:v1");
	assert_int_equal(mg_push_local(s, r, files, 2, NULL, &res, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "two files named 'm.bin'"));
	mg_ref_free(r);
	r = ref("kws@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(mg_push_local(s, r, files, 1, NULL, &res, &err), MG_EINVAL);
	mg_ref_free(r);
	assert_int_equal(count_dir(path_in("store/blobs/sha256"), NULL), 0);
}

static void test_pull_refuses_unsafe_titles(void **state)
{
	mg_store *s = *state;
	char blob[MG_DIGEST_SIZE], cfg[MG_DIGEST_SIZE], man[MG_DIGEST_SIZE];
	assert_int_equal(mg_store_put_bytes(s, "evil", 4, blob, NULL), 0);
	assert_int_equal(mg_store_put_bytes(s, "{}", 2, cfg, NULL), 0);
	char json[1024];
	snprintf(json, sizeof(json),
		 "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"%s\",\"size\":2},"
		 "\"layers\":[{\"mediaType\":\"b\",\"digest\":\"%s\",\"size\":4,"
		 "\"annotations\":{\"org.opencontainers.image.title\":\"../escape\"}}]}", cfg, blob);
	assert_int_equal(mg_store_put_bytes(s, json, strlen(json), man, NULL), 0);
	assert_int_equal(mg_store_set_tag(s, "evil:v1", man, NULL), 0);
	mg_ref *r = ref("evil:v1");
	mg_error err = {0};
	assert_int_equal(mg_pull_local(s, r, path_in("out/inner"), NULL, NULL, man, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "../escape"));
	assert_int_equal(access(path_in("out/escape"), F_OK), -1);
	assert_int_equal(access(path_in("out/inner"), F_OK), -1);
	mg_ref_free(r);
}

static void test_tags_move_resolve_and_remove(void **state)
{
	mg_store *s = *state;
	write_file(path_in("a.bin"), "a", 1);
	write_file(path_in("b.bin"), "b", 1);
	char da[MG_DIGEST_SIZE], db[MG_DIGEST_SIZE], got[MG_DIGEST_SIZE];
	push(s, "kws:v1", path_in("a.bin"), da);
	push(s, "kws:v2", path_in("b.bin"), db);
	assert_int_equal(mg_store_set_tag(s, "kws:prod", da, NULL), 0);
	assert_int_equal(mg_store_set_tag(s, "kws:prod", db, NULL), 0); /* moves */
	mg_ref *r = ref("kws:prod");
	assert_int_equal(mg_store_resolve(s, r, got, NULL), 0);
	assert_string_equal(got, db);
	mg_ref_free(r);
	mg_store_entry *e;
	size_t n;
	assert_int_equal(mg_store_list(s, &e, &n, NULL), 0);
	assert_int_equal(n, 3);
	mg_store_entries_free(e, n);

	/* a bare name, as `skopeo copy ... oci:DIR:name` writes, matches an implicit tag */
	assert_int_equal(mg_store_set_tag(s, "bare", da, NULL), 0);
	r = ref("bare");
	assert_int_equal(mg_store_resolve(s, r, got, NULL), 0);
	assert_string_equal(got, da);
	mg_ref_free(r);

	mg_error err = {0};
	size_t removed;
	char byd[200];
	snprintf(byd, sizeof(byd), "kws@%s", db);
	r = ref(byd);
	assert_int_equal(mg_store_remove(s, r, &removed, &err), 0);
	assert_int_equal(removed, 2); /* v2 and prod */
	assert_int_equal(mg_store_remove(s, r, &removed, &err), MG_ENOTFOUND);
	mg_ref_free(r);
	r = ref("kws:v2");
	assert_int_equal(mg_store_resolve(s, r, got, &err), MG_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'kws:v2'"));
	mg_ref_free(r);
	r = ref("kws:v1");
	assert_int_equal(mg_store_resolve(s, r, got, NULL), 0);
	mg_ref_free(r);
}

static void test_gc_keeps_reachable_and_removes_the_rest(void **state)
{
	mg_store *s = *state;
	write_file(path_in("a.bin"), "shared", 6);
	write_file(path_in("b.bin"), "only-b", 6);
	char da[MG_DIGEST_SIZE], db[MG_DIGEST_SIZE];
	push(s, "one:v1", path_in("a.bin"), da);
	push(s, "two:v1", path_in("b.bin"), db);
	write_file(path_in("store/blobs/sha256/.tmp-1-dead"), "partial", 7);
	mg_ref *r = ref("two:v1");
	size_t removed;
	assert_int_equal(mg_store_remove(s, r, &removed, NULL), 0);
	mg_ref_free(r);
	mg_gc_stats st;
	mg_error err = {0};
	assert_int_equal(mg_store_gc(s, &st, &err), 0);
	assert_int_equal(st.temp_removed, 1);
	assert_int_equal(st.blobs_removed, 2); /* two's manifest and file; the config is shared */
	assert_int_equal(st.blobs_kept, 3);
	assert_false(mg_store_has_blob(s, db));
	assert_true(mg_store_has_blob(s, da));
	r = ref("one:v1");
	assert_int_equal(mg_pull_local(s, r, path_in("out"), NULL, NULL, da, &err), 0);
	mg_ref_free(r);
	size_t checked, bad;
	assert_int_equal(mg_store_fsck(s, NULL, NULL, &checked, &bad, &err), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(checked, 3);
}

typedef struct seen {
	int corrupt, missing, temp;
	char where[256];
} seen;

static void on_problem(const mg_fsck_problem *p, void *ctx)
{
	seen *s = ctx;
	if (p->kind == MG_FSCK_CORRUPT)
		s->corrupt++;
	if (p->kind == MG_FSCK_MISSING) {
		s->missing++;
		snprintf(s->where, sizeof(s->where), "%s", p->where);
	}
	if (p->kind == MG_FSCK_TEMP)
		s->temp++;
}

static void test_fsck_finds_corrupt_missing_and_stray_files(void **state)
{
	mg_store *s = *state;
	write_file(path_in("a.bin"), "alpha", 5);
	write_file(path_in("b.bin"), "beta", 4);
	char da[MG_DIGEST_SIZE], dfile[MG_DIGEST_SIZE];
	push(s, "a:v1", path_in("a.bin"), da);
	push(s, "b:v1", path_in("b.bin"), NULL);
	mg_digest_bytes("beta", 4, dfile);
	flip_byte(blob_file(da), 10);  /* a's manifest */
	unlink(blob_file(dfile));      /* b's file */
	write_file(path_in("store/blobs/sha256/.tmp-9-x"), "p", 1);
	seen sn = {0};
	size_t checked, bad;
	assert_int_equal(mg_store_fsck(s, on_problem, &sn, &checked, &bad, NULL), 0);
	assert_int_equal(sn.corrupt, 1);
	assert_int_equal(sn.missing, 1);
	assert_string_equal(sn.where, "b:v1");
	assert_int_equal(sn.temp, 1);
	assert_int_equal(bad, 2);
	/* gc must not sweep when a manifest cannot be read */
	mg_gc_stats st;
	mg_error err = {0};
	assert_int_equal(mg_store_gc(s, &st, &err), MG_ECORRUPT);
	assert_int_equal(st.blobs_removed, 0);
}

static void append_byte(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static size_t fsck_problems(mg_store *s)
{
	size_t checked, bad;
	assert_int_equal(mg_store_fsck(s, NULL, NULL, &checked, &bad, NULL), 0);
	return bad;
}

/* Stores path again, expecting the damaged blob to be replaced by its bytes. */
static void put_again_repairs(mg_store *s, const char *path, const char *digest)
{
	char d[MG_DIGEST_SIZE];
	uint64_t size;
	int existed = -1;
	mg_error err = {0};
	assert_int_equal(fsck_problems(s), 1);
	if (mg_store_put_file(s, path, d, &size, &existed, &err))
		fail_msg("%s", err.msg);
	assert_string_equal(d, digest);
	assert_int_equal(existed, 0);
	assert_int_equal(fsck_problems(s), 0);
	assert_int_equal(count_dir(path_in("store/blobs/sha256"), ".tmp-"), 0);
}

static void test_put_file_replaces_a_corrupt_blob(void **state)
{
	mg_store *s = *state;
	write_file(path_in("a.bin"), "hello, store", 12);
	char d[MG_DIGEST_SIZE];
	uint64_t size;
	int existed;
	assert_int_equal(mg_store_put_file(s, path_in("a.bin"), d, &size, &existed, NULL), 0);
	flip_byte(blob_file(d), 3); /* same size */
	put_again_repairs(s, path_in("a.bin"), d);
	append_byte(blob_file(d)); /* another size */
	put_again_repairs(s, path_in("a.bin"), d);
	assert_int_equal(mg_store_put_file(s, path_in("a.bin"), d, &size, &existed, NULL), 0);
	assert_int_equal(existed, 1);
}

static void test_put_file_replaces_a_corrupt_large_blob(void **state)
{
	mg_store *s = *state;
	size_t n = 17u << 20; /* hashed before copying when a blob has its size */
	char *data = calloc(1, n);
	data[7] = 7;
	write_file(path_in("large.bin"), data, n);
	free(data);
	char d[MG_DIGEST_SIZE];
	uint64_t size;
	int existed;
	assert_int_equal(mg_store_put_file(s, path_in("large.bin"), d, &size, &existed, NULL), 0);
	flip_byte(blob_file(d), n - 1);
	put_again_repairs(s, path_in("large.bin"), d);
	append_byte(blob_file(d));
	put_again_repairs(s, path_in("large.bin"), d);
}

static void test_push_replaces_a_corrupt_manifest_and_config(void **state)
{
	mg_store *s = *state;
	write_file(path_in("m.bin"), "model", 5);
	char d1[MG_DIGEST_SIZE], d2[MG_DIGEST_SIZE];
	push(s, "m:v1", path_in("m.bin"), d1);
	flip_byte(blob_file(d1), 10);
	push(s, "m:v1", path_in("m.bin"), d2); /* failed with a corrupt blob before */
	assert_string_equal(d1, d2);
	assert_int_equal(fsck_problems(s), 0);
	mg_gc_stats st;
	assert_int_equal(mg_store_gc(s, &st, NULL), 0);
	mg_manifest *m = NULL;
	mg_ref *r = ref("m:v1");
	assert_int_equal(mg_store_get_manifest(s, r, &m, d2, NULL), 0);
	append_byte(blob_file(m->config.digest));
	assert_int_equal(fsck_problems(s), 1);
	push(s, "m:v1", path_in("m.bin"), NULL);
	assert_int_equal(fsck_problems(s), 0);
	mg_manifest_free(m);
	mg_ref_free(r);
}

typedef struct removals {
	int blobs, tags;
	char tag[4][64];
} removals;

static void on_removed(const char *what, const char *digest, const char *name, void *ctx)
{
	removals *r = ctx;
	assert_true(mg_digest_valid(digest));
	if (!strcmp(what, "blob")) {
		assert_null(name);
		r->blobs++;
	} else {
		assert_string_equal(what, "tag");
		assert_true(r->tags < 4);
		snprintf(r->tag[r->tags++], sizeof(r->tag[0]), "%s", name ? name : "");
	}
}

static void test_repair_removes_corrupt_blobs_and_unreadable_tags(void **state)
{
	mg_store *s = *state;
	write_file(path_in("a.bin"), "alpha", 5);
	write_file(path_in("b.bin"), "beta", 4);
	write_file(path_in("c.bin"), "gamma", 5);
	char da[MG_DIGEST_SIZE], dc[MG_DIGEST_SIZE], file[MG_DIGEST_SIZE];
	push(s, "a:v1", path_in("a.bin"), da);
	push(s, "b:v1", path_in("b.bin"), NULL);
	push(s, "c:v1", path_in("c.bin"), dc);
	mg_digest_bytes("beta", 4, file);
	flip_byte(blob_file(file), 1); /* b's layer */
	flip_byte(blob_file(da), 10);  /* a's manifest */
	unlink(blob_file(dc));         /* c's manifest */
	removals rm = {0};
	size_t checked, bad;
	mg_repair_stats st;
	mg_error err = {0};
	if (mg_store_repair(s, NULL, on_removed, &rm, &checked, &bad, &st, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(bad, 3);
	assert_int_equal(st.blobs_removed, 2);
	assert_int_equal(rm.blobs, 2);
	assert_int_equal(st.tags_removed, 3);
	assert_string_equal(rm.tag[0], "a:v1");
	assert_string_equal(rm.tag[1], "b:v1");
	assert_string_equal(rm.tag[2], "c:v1");
	assert_false(mg_store_has_blob(s, file));
	assert_false(mg_store_has_blob(s, da));
	assert_int_equal(fsck_problems(s), 0);
	mg_gc_stats gs;
	assert_int_equal(mg_store_gc(s, &gs, NULL), 0);
	/* pushing again restores them */
	push(s, "a:v1", path_in("a.bin"), NULL);
	push(s, "b:v1", path_in("b.bin"), NULL);
	assert_int_equal(fsck_problems(s), 0);
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_store_read_blob(s, file, 64, &b, NULL), 0);
	assert_string_equal(b.data, "beta");
	mg_buf_free(&b);
	/* a whole store: nothing to remove */
	memset(&rm, 0, sizeof(rm));
	assert_int_equal(mg_store_repair(s, NULL, on_removed, &rm, &checked, &bad, &st, NULL), 0);
	assert_int_equal(bad + st.blobs_removed + st.tags_removed + (size_t)rm.tags, 0);
}

static void test_concurrent_pushes_all_land(void **state)
{
	mg_store *s = *state;
	enum { N = 6 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		char name[64], data[64];
		snprintf(name, sizeof(name), "f%d.bin", i);
		snprintf(data, sizeof(data), "content %d", i);
		write_file(path_in(name), data, strlen(data));
	}
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			mg_store *cs = NULL;
			char name[64], tag[64];
			snprintf(name, sizeof(name), "f%d.bin", i);
			snprintf(tag, sizeof(tag), "repo:t%d", i);
			mg_ref *r = NULL;
			const char *files[] = {path_in(name)};
			mg_push_result res;
			int rc = mg_store_open(&cs, path_in("store"), NULL) ||
				 mg_ref_parse(&r, tag, NULL) ||
				 mg_push_local(cs, r, files, 1, NULL, &res, NULL);
			_exit(rc ? 1 : 0);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	mg_store_entry *e;
	size_t n;
	assert_int_equal(mg_store_list(s, &e, &n, NULL), 0);
	assert_int_equal(n, N);
	mg_store_entries_free(e, n);
}

static void test_gc_waits_for_a_push_in_progress(void **state)
{
	mg_store *s = *state;
	write_file(path_in("p.bin"), "in flight", 9);
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		mg_store *cs = NULL;
		char d[MG_DIGEST_SIZE], c;
		uint64_t size;
		int existed;
		if (mg_store_open(&cs, path_in("store"), NULL) ||
		    mg_store_put_file(cs, path_in("p.bin"), d, &size, &existed, NULL))
			_exit(1);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		/* the blob is not tagged yet; a gc now must not sweep it */
		mg_ref *r = NULL;
		const char *files[] = {path_in("p.bin")};
		mg_push_result res;
		int rc = mg_ref_parse(&r, "late:v1", NULL) ||
			 mg_push_local(cs, r, files, 1, NULL, &res, NULL);
		mg_ref_free(r);
		mg_store_free(cs);
		_exit(rc ? 1 : 0);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(write(go[1], "g", 1), 1);
	mg_gc_stats st;
	assert_int_equal(mg_store_gc(s, &st, NULL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char want[MG_DIGEST_SIZE];
	mg_digest_bytes("in flight", 9, want);
	assert_true(mg_store_has_blob(s, want));
	assert_int_equal(st.blobs_removed, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_creates_a_layout_skopeo_can_read),
		T(test_open_refuses_a_folder_that_is_not_a_layout),
		T(test_put_file_stores_same_bytes_once),
		T(test_put_file_streams_large_files),
		T(test_put_file_writes_nothing_for_a_large_stored_file),
		T(test_put_file_names_missing_and_odd_inputs),
		T(test_read_blob_refuses_corrupt_bytes),
		T(test_export_blob_leaves_nothing_when_corrupt),
		T(test_push_and_pull_round_trip),
		T(test_push_refuses_duplicate_names_and_digest_refs),
		T(test_pull_refuses_unsafe_titles),
		T(test_tags_move_resolve_and_remove),
		T(test_gc_keeps_reachable_and_removes_the_rest),
		T(test_fsck_finds_corrupt_missing_and_stray_files),
		T(test_put_file_replaces_a_corrupt_blob),
		T(test_put_file_replaces_a_corrupt_large_blob),
		T(test_push_replaces_a_corrupt_manifest_and_config),
		T(test_repair_removes_corrupt_blobs_and_unreadable_tags),
		T(test_concurrent_pushes_all_land),
		T(test_gc_waits_for_a_push_in_progress),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
