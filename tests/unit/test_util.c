/* Unit tests of util: errors, buffers, digests, atomic files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"
#include "scratch.h"

/* The path of name in the scratch folder, made on first use. */
static char *scratch(const char *name)
{
	static const char *dir;
	static char path[4096];
	if (!dir)
		dir = scratch_dir("util");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void test_error_set_returns_code_and_formats_message(void **state)
{
	(void)state;
	mg_error err = {0};
	assert_int_equal(mg_error_set(&err, MG_EINVAL, "bad '%s'", "x"), MG_EINVAL);
	assert_int_equal(err.code, MG_EINVAL);
	assert_string_equal(err.msg, "bad 'x'");
	assert_int_equal(mg_error_set(NULL, MG_EIO, "ignored"), MG_EIO);
	mg_error_sys(&err, MG_EIO, ENOENT, "cannot read '%s'", "f");
	assert_string_equal(err.msg, "cannot read 'f': No such file or directory");
}

static void test_error_message_escapes_control_characters(void **state)
{
	(void)state;
	mg_error err = {0};
	/* a hostile name: clear the screen, a new line, DEL; UTF-8 stays */
	mg_error_set(&err, MG_EINVAL, "bad '%s'", "a\x1b[2J\nb\x7f\xc3\xa9");
	assert_string_equal(err.msg, "bad 'a\\x1b[2J\\x0ab\\x7f\xc3\xa9'");
	/* escaping what was escaped changes nothing */
	mg_error copy = {0};
	mg_error_set(&copy, MG_EINVAL, "%s", err.msg);
	assert_string_equal(copy.msg, err.msg);
	/* a message full of control characters is cut, never overflows */
	char many[2000];
	memset(many, '\x1b', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	mg_error_set(&err, MG_EINVAL, "%s", many);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_int_equal(strlen(err.msg) % 4, 0);
	assert_int_equal(strncmp(err.msg, "\\x1b\\x1b", 8), 0);
}

static void test_exit_codes_follow_design(void **state)
{
	(void)state;
	assert_int_equal(mg_error_exit_code(0), 0);
	assert_int_equal(mg_error_exit_code(MG_EINVAL), 2);
	assert_int_equal(mg_error_exit_code(MG_ENOTFOUND), 2);
	assert_int_equal(mg_error_exit_code(MG_EIO), 3);
	assert_int_equal(mg_error_exit_code(MG_ECORRUPT), 3);
	assert_int_equal(mg_error_exit_code(MG_ENET), 3);
}

static void test_buf_appends_and_stays_terminated(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	assert_string_equal(mg_buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(mg_buf_printf(&b, NULL, "%d,", i), 0);
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.len < b.cap);
	assert_memory_equal(b.data, "0,1,2,", 6);
	mg_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(mg_buf_cstr(&b), "");
	mg_buf_free(&b);
	assert_null(b.data);
}

static void test_buf_refuses_to_grow_past_its_maximum(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_buf_grow(&b, MG_BUF_MAX + 1, &err), MG_ENOMEM);
	assert_non_null(strstr(err.msg, "exceed"));
	assert_int_equal(mg_buf_grow(&b, (size_t)-1, &err), MG_ENOMEM);
	mg_buf_free(&b);
}

static void test_digest_of_known_vectors(void **state)
{
	(void)state;
	char d[MG_DIGEST_SIZE];
	mg_digest_bytes("", 0, d);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	mg_digest_bytes("abc", 3, d);
	assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	mg_hash *h;
	assert_int_equal(mg_hash_new(&h, NULL), 0);
	mg_hash_update(h, "a", 1);
	mg_hash_update(h, "bc", 2);
	char d2[MG_DIGEST_SIZE];
	mg_hash_final(h, d2);
	assert_string_equal(d, d2);
	mg_hash_update(h, "abc", 3); /* final resets */
	mg_hash_final(h, d2);
	assert_string_equal(d, d2);
	mg_hash_free(h);
}

static void test_digest_valid_accepts_only_lowercase_sha256(void **state)
{
	(void)state;
	const char *ok = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	assert_true(mg_digest_valid(ok));
	assert_false(mg_digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	assert_false(mg_digest_valid("sha256:e3b0"));
	assert_false(mg_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	assert_false(mg_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"));
	assert_false(mg_digest_valid(""));
	assert_string_equal(mg_digest_hex(ok), ok + 7);
}

static void test_atomic_write_replaces_whole_file(void **state)
{
	(void)state;
	char *p = scratch("atomic.txt");
	mg_error err = {0};
	assert_int_equal(mg_file_write_atomic(p, "first", 5, &err), 0);
	assert_int_equal(mg_file_write_atomic(p, "second!", 7, &err), 0);
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&b, p, 100, &err), 0);
	assert_string_equal(b.data, "second!");
	mg_buf_reset(&b);
	assert_int_equal(mg_file_read(&b, p, 3, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, p));
	mg_buf_free(&b);
	unlink(p);
}

static void test_atomic_write_to_a_device_writes_through(void **state)
{
	(void)state;
	mg_error err = {0};
	assert_int_equal(mg_file_write_atomic("/dev/null", "x", 1, &err), 0);
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode)); /* not replaced by a regular file */
}

static void test_atomic_write_through_a_link_keeps_the_link(void **state)
{
	(void)state;
	char dir[4096], link[4200], target[4200], chain[4200];
	snprintf(dir, sizeof(dir), "%s", scratch("links"));
	mg_error err = {0};
	assert_int_equal(mg_mkdirs(dir, &err), 0);
	snprintf(link, sizeof(link), "%s/config.json", dir);
	snprintf(target, sizeof(target), "%s/real.json", dir);
	snprintf(chain, sizeof(chain), "%s/chain.json", dir);
	unlink(link);
	unlink(target);
	unlink(chain);
	/* config.json -> chain.json -> real.json (not there yet), relative */
	assert_int_equal(symlink("chain.json", link), 0);
	assert_int_equal(symlink("real.json", chain), 0);
	char *real = NULL;
	assert_int_equal(mg_path_follow(&real, link, &err), 0);
	assert_string_equal(real, target);
	free(real);
	assert_int_equal(mg_file_write_atomic(link, "one", 3, &err), 0);
	assert_int_equal(mg_file_write_atomic(link, "two", 3, &err), 0);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(chain, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&b, target, 100, &err), 0);
	assert_string_equal(b.data, "two");
	mg_buf_free(&b);
	/* a loop is an error naming the path, not a hang */
	unlink(chain);
	assert_int_equal(symlink("config.json", chain), 0);
	assert_int_equal(mg_file_write_atomic(link, "x", 1, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "too many levels of symbolic links"));
	unlink(link);
	unlink(chain);
	unlink(target);
}

static void test_file_read_names_missing_file(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_file_read(&b, "/nonexistent/x.onnx", 10, &err), MG_ENOTFOUND);
	assert_string_equal(err.msg, "cannot read '/nonexistent/x.onnx': No such file or directory");
	mg_buf_free(&b);
}

static void test_tmpfile_commit_failure_leaves_no_file(void **state)
{
	(void)state;
	char *p = scratch("dir-for-tmp");
	mg_error err = {0};
	assert_int_equal(mg_mkdirs(p, &err), 0);
	int fd;
	char *tmp;
	assert_int_equal(mg_tmpfile_open(&fd, &tmp, p, &err), 0);
	assert_non_null(strstr(tmp, "/.tmp-"));
	/* renaming onto a path in a missing folder fails: tmp must be gone */
	char dest[4200];
	snprintf(dest, sizeof(dest), "%s/missing/x", p);
	assert_int_equal(mg_tmpfile_commit(fd, tmp, dest, &err), MG_EIO);
	assert_int_equal(access(tmp, F_OK), -1);
	free(tmp);
	rmdir(p);
}

/* Writes n bytes of a pattern through a writer (direct or not) into path,
 * in pieces that are not multiples of the block size, and reads them back. */
static void write_through_writer(const char *path, size_t n, int direct)
{
	mg_error err = {0};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	mg_writer *w = NULL;
	assert_int_equal(mg_writer_new(&w, fd, path, 1u << 20, direct, &err), 0);
	size_t done = 0;
	while (done < n) {
		size_t cap;
		char *b = mg_writer_buffer(w, &cap);
		size_t k = n - done < cap ? n - done : cap;
		for (size_t i = 0; i < k; i++)
			b[i] = (char)((done + i) * 7 + (done + i) / 4093);
		assert_int_equal(mg_writer_submit(w, k, &err), 0);
		done += k;
	}
	assert_int_equal(mg_writer_finish(w, &err), 0);
	mg_writer_free(w);
	assert_int_equal(close(fd), 0);
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&b, path, n + 1, &err), 0);
	assert_int_equal(b.len, n);
	for (size_t i = 0; i < n; i++)
		if (b.data[i] != (char)(i * 7 + i / 4093))
			fail_msg("byte %zu of %s differs", i, path);
	mg_buf_free(&b);
	unlink(path);
}

static void test_writer_direct_keeps_every_byte(void **state)
{
	(void)state;
	/* whole blocks go around the cache, the tail through it; tmpfs may
	 * refuse direct writes: then everything goes through the cache */
	size_t n = (3u << 20) + 12345;
	write_through_writer(scratch("direct.bin"), n, 1);
	write_through_writer(scratch("buffered.bin"), n, 0);
	char shm[64];
	snprintf(shm, sizeof(shm), "/dev/shm/mg-direct-%ld", (long)getpid());
	write_through_writer(shm, n, 1);
	write_through_writer(scratch("small.bin"), 100, 1);
}

static void test_mkdirs_refuses_a_file_in_the_way(void **state)
{
	(void)state;
	char *p = scratch("plainfile");
	mg_error err = {0};
	assert_int_equal(mg_file_write_atomic(p, "x", 1, &err), 0);
	char sub[4200];
	snprintf(sub, sizeof(sub), "%s/sub", p);
	assert_int_not_equal(mg_mkdirs(sub, &err), 0);
	assert_non_null(strstr(err.msg, p));
	unlink(p);
}

static void test_safe_names(void **state)
{
	(void)state;
	assert_true(mg_name_is_safe("model.onnx"));
	assert_true(mg_name_is_safe("..hidden"));
	assert_false(mg_name_is_safe(""));
	assert_false(mg_name_is_safe("."));
	assert_false(mg_name_is_safe(".."));
	assert_false(mg_name_is_safe("a/b"));
	assert_false(mg_name_is_safe("/etc/passwd"));
	assert_false(mg_name_is_safe("a\\b"));
	assert_false(mg_name_is_safe("a\nb"));
}

static void test_path_join_and_formatting(void **state)
{
	(void)state;
	char *p = mg_path_join("a/", "b", NULL);
	assert_string_equal(p, "a/b");
	free(p);
	p = mg_path_join("/", "b", NULL);
	assert_string_equal(p, "/b");
	free(p);
	char s[32];
	mg_format_size(s, sizeof(s), 812);
	assert_string_equal(s, "812 B");
	mg_format_size(s, sizeof(s), 3u << 29);
	assert_string_equal(s, "1.5 GiB");
	mg_format_time(s, sizeof(s), 1700000000);
	assert_string_equal(s, "2023-11-14T22:13:20Z");
	size_t out;
	assert_int_equal(mg_size_mul(SIZE_MAX / 2, 3, &out), -1);
	assert_int_equal(mg_size_mul(6, 7, &out), 0);
	assert_int_equal(out, 42);
}

static void test_closest_names_a_misspelling_and_nothing_far(void **state)
{
	(void)state;
	static const char *const keys[] = {"model", "baseline", "dataset", "targets", "gates", "max_drop", NULL};
	assert_string_equal(mg_closest("basline", keys), "baseline");   /* a deletion */
	assert_string_equal(mg_closest("baseliine", keys), "baseline"); /* an insertion */
	assert_string_equal(mg_closest("modle", keys), "model");        /* a swap of neighbours */
	assert_string_equal(mg_closest("gate", keys), "gates");
	assert_string_equal(mg_closest("max_dorp", keys), "max_drop");
	assert_null(mg_closest("zzzzzzzz", keys));
	assert_null(mg_closest("baseline_model", keys)); /* six edits: no guess */
	assert_null(mg_closest("x", keys));
	assert_null(mg_closest("", keys));
}

static void test_nearness_is_a_misspelling_and_no_further(void **state)
{
	(void)state;
	assert_int_equal(mg_nearness("pussh", "push"), 1);
	assert_int_equal(mg_nearness("anotation", "annotation"), 1);
	assert_int_equal(mg_nearness("hstroy", "history"), 2);
	assert_int_equal(mg_nearness("pshu", "push"), SIZE_MAX); /* 2 of 4 letters */
	assert_int_equal(mg_nearness("iteratoins", "iterations"), 1); /* a swap is one */
	assert_int_equal(mg_nearness("push", "push"), 0);
	assert_int_equal(mg_nearness("ls", "rm"), SIZE_MAX);  /* all of it differs */
	assert_int_equal(mg_nearness("gx", "gc"), SIZE_MAX);  /* half of a short name */
	assert_int_equal(mg_nearness("frobnicate", "fsck"), SIZE_MAX);
	char long_word[200];
	memset(long_word, 'a', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	assert_int_equal(mg_nearness(long_word, "push"), SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_set_returns_code_and_formats_message),
		cmocka_unit_test(test_error_message_escapes_control_characters),
		cmocka_unit_test(test_exit_codes_follow_design),
		cmocka_unit_test(test_buf_appends_and_stays_terminated),
		cmocka_unit_test(test_buf_refuses_to_grow_past_its_maximum),
		cmocka_unit_test(test_digest_of_known_vectors),
		cmocka_unit_test(test_digest_valid_accepts_only_lowercase_sha256),
		cmocka_unit_test(test_atomic_write_replaces_whole_file),
		cmocka_unit_test(test_atomic_write_to_a_device_writes_through),
		cmocka_unit_test(test_atomic_write_through_a_link_keeps_the_link),
		cmocka_unit_test(test_file_read_names_missing_file),
		cmocka_unit_test(test_tmpfile_commit_failure_leaves_no_file),
		cmocka_unit_test(test_writer_direct_keeps_every_byte),
		cmocka_unit_test(test_mkdirs_refuses_a_file_in_the_way),
		cmocka_unit_test(test_safe_names),
		cmocka_unit_test(test_path_join_and_formatting),
		cmocka_unit_test(test_closest_names_a_misspelling_and_nothing_far),
		cmocka_unit_test(test_nearness_is_a_misspelling_and_no_further),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
