/* The agent's blob cache kept within a size: after a new blob arrives, the
 * least recently used blobs go first until the rest fit. A blob's last use
 * is the newer of its own mtime (when it was written) and its .ok record's
 * (touched each time the blob is found present: touching the blob itself
 * would change its ctime and cost a re-hash). Blobs this agent process has
 * used are never removed. The limit is $MODELGATE_AGENT_CACHE_MAX: bytes,
 * or with a K, M or G suffix (binary); 0 keeps everything; default 2G. */
#include "runners/agent/evict.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX ((uint64_t)2 << 30)

typedef struct entry {
	char name[65];
	uint64_t size;
	long long used; /* ns */
} entry;

int mg_agent_cache_max(const char *s, uint64_t *out)
{
	if (!s || !*s) {
		*out = DEFAULT_MAX;
		return 0;
	}
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;
	if (end == s || *s == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int is_blob_name(const char *n)
{
	if (strlen(n) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return 1;
}

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static int by_use(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	return x->used < y->used ? -1 : x->used > y->used;
}

static int kept(const char *name, const char (*keep)[MG_DIGEST_SIZE], size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (!strcmp(keep[i] + 7, name))
			return 1;
	return 0;
}

size_t mg_agent_evict(const char *dir, uint64_t max, const char (*keep)[MG_DIGEST_SIZE],
		      size_t nkeep)
{
	DIR *d = max ? opendir(dir) : NULL;
	if (!d)
		return 0;
	entry *e = NULL;
	size_t n = 0, cap = 0, removed = 0;
	uint64_t total = 0;
	char path[4200];
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st, ok;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!is_blob_name(de->d_name) || stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			entry *g = realloc(e, (cap = cap ? cap * 2 : 64) * sizeof(*e));
			if (!g)
				break;
			e = g;
		}
		snprintf(e[n].name, sizeof(e[n].name), "%.64s", de->d_name); /* 64 hex digits */
		e[n].size = (uint64_t)st.st_size;
		e[n].used = mtime_ns(&st);
		snprintf(path, sizeof(path), "%s/%s.ok", dir, de->d_name);
		if (!stat(path, &ok) && mtime_ns(&ok) > e[n].used)
			e[n].used = mtime_ns(&ok);
		total += e[n].size;
		n++;
	}
	closedir(d);
	if (total > max)
		qsort(e, n, sizeof(*e), by_use);
	for (size_t i = 0; i < n && total > max; i++) {
		if (kept(e[i].name, keep, nkeep))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e[i].name);
		if (unlink(path))
			continue;
		snprintf(path, sizeof(path), "%s/%s.ok", dir, e[i].name);
		unlink(path);
		total -= e[i].size;
		removed++;
	}
	free(e);
	return removed;
}
