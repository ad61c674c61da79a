/* The agent's blob cache kept within a size (evict.c). */
#ifndef MG_AGENT_EVICT_H
#define MG_AGENT_EVICT_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* The cache limit from $MODELGATE_AGENT_CACHE_MAX's value s (NULL or "":
 * the default); -1 when s is not a size. */
int mg_agent_cache_max(const char *s, uint64_t *out);
/* Removes the least recently used blobs of dir until the rest take at most
 * max bytes (0: no limit), never one whose digest is in keep; the number
 * removed. */
size_t mg_agent_evict(const char *dir, uint64_t max, const char (*keep)[MG_DIGEST_SIZE],
		      size_t nkeep);

#endif
