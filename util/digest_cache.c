/* The digest cache: what a large file hashed to, keyed by what stat says
 * about it (device, inode, size, mtime and ctime, in nanoseconds), the way
 * git's index trusts unchanged stat data. A push or a run of a file that
 * was hashed before then skips the hashing pass (0.6 s per GiB), so a
 * repeated push to a registry costs a HEAD and nothing else.
 *
 * Any write to a file changes its ctime, which no user can set, so an
 * entry can only be stale when the file changed within the same clock tick
 * as the hashing; entries for files changed in the last two seconds are
 * therefore never recorded ("racy" in git's words). Whoever uses a cached
 * digest still meets a check: a registry verifies every upload, the agent
 * every blob; mg_file_digest_forget drops an entry that proved wrong.
 *
 * One text file, "<dev> <ino> <size> <mtime> <ctime> sha256:<hex>" a line,
 * at most MAX_ENTRIES lines, replaced by rename (no fsync: losing it costs a
 * hash). $MODELGATE_DIGEST_CACHE names it ("off" or "" disables it); else
 * $XDG_CACHE_HOME/modelgate/digests, else ~/.cache/modelgate/digests. */
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIN_SIZE ((uint64_t)1 << 20) /* smaller files hash in under a ms */
#define MAX_ENTRIES 256
#define MAX_BYTES (64u << 10)
#define RACY_NS 2000000000LL

static int cache_path(mg_buf *out)
{
	const char *env = getenv("MODELGATE_DIGEST_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (env)
		return *env && strcmp(env, "off") ? mg_buf_puts(out, env, NULL) : -1;
	if (xdg && *xdg)
		return mg_buf_printf(out, NULL, "%s/modelgate/digests", xdg);
	if (home && *home)
		return mg_buf_printf(out, NULL, "%s/.cache/modelgate/digests", home);
	return -1;
}

static long long ns_of(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* "<dev> <ino> " and the rest of the key */
static void key_of(const struct stat *st, char *id, size_t idlen, char *key, size_t keylen)
{
	snprintf(id, idlen, "%llu %llu ", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino);
	snprintf(key, keylen, "%s%llu %lld %lld ", id, (unsigned long long)st->st_size,
		 ns_of(&st->st_mtim), ns_of(&st->st_ctim));
}

static int lookup(const char *path, const char *key, char digest[MG_DIGEST_SIZE])
{
	mg_buf b = MG_BUF_INIT;
	int found = 0;
	if (mg_file_read(&b, path, MAX_BYTES, NULL))
		return 0;
	size_t klen = strlen(key);
	for (char *line = b.data, *nl; !found && line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl && (size_t)(nl - line) == klen + MG_DIGEST_LEN && !strncmp(line, key, klen)) {
			memcpy(digest, line + klen, MG_DIGEST_LEN);
			digest[MG_DIGEST_LEN] = '\0';
			found = mg_digest_valid(digest);
		}
	}
	mg_buf_free(&b);
	return found;
}

/* Rewrites the cache without the lines of file id, plus line (if any). */
static void update(const char *path, const char *id, const char *line)
{
	mg_buf old = MG_BUF_INIT, out = MG_BUF_INIT, tmp = MG_BUF_INIT;
	if (mg_file_read(&old, path, MAX_BYTES, NULL))
		mg_buf_reset(&old);
	size_t n = 0, idlen = strlen(id);
	for (char *p = old.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n++;
	size_t skip = n + 1 > MAX_ENTRIES ? n + 1 - MAX_ENTRIES : 0; /* the oldest go */
	int rc = 0;
	for (char *p = old.data, *nl; !rc && p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (!nl)
			break; /* a torn last line */
		if (skip) {
			skip--;
			continue;
		}
		if (strncmp(p, id, idlen))
			rc = mg_buf_append(&out, p, (size_t)(nl - p) + 1, NULL);
	}
	if (!rc && line)
		rc = mg_buf_puts(&out, line, NULL);
	char *slash = strrchr(path, '/');
	if (!rc && slash) {
		char *dir = strndup(path, (size_t)(slash - path));
		rc = dir ? mg_mkdirs(dir, NULL) : -1;
		free(dir);
	}
	if (!rc)
		rc = mg_buf_printf(&tmp, NULL, "%s.%ld.tmp", path, (long)getpid());
	if (!rc) {
		FILE *f = fopen(tmp.data, "we");
		int ok = f && fwrite(out.data ? out.data : "", 1, out.len, f) == out.len;
		ok = f && !fclose(f) && ok;
		if (!ok || rename(tmp.data, path))
			unlink(tmp.data);
	}
	mg_buf_free(&old);
	mg_buf_free(&out);
	mg_buf_free(&tmp);
}

int mg_file_digest_lookup(int fd, char digest[MG_DIGEST_SIZE], uint64_t *size)
{
	struct stat st;
	char id[64], key[160];
	mg_buf path = MG_BUF_INIT;
	int found = !fstat(fd, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= MIN_SIZE &&
		    !cache_path(&path);
	if (found) {
		key_of(&st, id, sizeof(id), key, sizeof(key));
		found = lookup(path.data, key, digest);
	}
	if (found)
		*size = (uint64_t)st.st_size;
	mg_buf_free(&path);
	return found;
}

int mg_file_digest(int fd, const char *name, char digest[MG_DIGEST_SIZE], uint64_t *size,
		   int *cached, mg_error *err)
{
	struct stat st, after;
	char id[64], key[160];
	mg_buf path = MG_BUF_INIT;
	if ((*cached = mg_file_digest_lookup(fd, digest, size)))
		return 0;
	if (fstat(fd, &st))
		return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", name);
	int use = S_ISREG(st.st_mode) && (uint64_t)st.st_size >= MIN_SIZE && !cache_path(&path);
	key_of(&st, id, sizeof(id), key, sizeof(key));
	int rc = mg_copy_hash(fd, name, -1, NULL, digest, size, err);
	if (!rc && (fstat(fd, &after) || *size != (uint64_t)after.st_size ||
		    ns_of(&after.st_mtim) != ns_of(&st.st_mtim) ||
		    ns_of(&after.st_ctim) != ns_of(&st.st_ctim)))
		rc = mg_error_set(err, MG_EIO, "'%s' changed while it was read", name);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long newest = ns_of(&st.st_mtim) > ns_of(&st.st_ctim) ? ns_of(&st.st_mtim)
								    : ns_of(&st.st_ctim);
	if (!rc && use && ns_of(&now) - newest > RACY_NS) {
		char line[256];
		snprintf(line, sizeof(line), "%s%s\n", key, digest);
		update(path.data, id, line);
	}
	mg_buf_free(&path);
	return rc;
}

void mg_file_digest_forget(int fd)
{
	struct stat st;
	char id[64], key[160];
	mg_buf path = MG_BUF_INIT;
	if (!fstat(fd, &st) && !cache_path(&path)) {
		key_of(&st, id, sizeof(id), key, sizeof(key));
		update(path.data, id, NULL);
	}
	mg_buf_free(&path);
}
