/* sha256: a small, dependency-free SHA-256 (FIPS 180-4) for the agent, which
 * links nothing but libc and so cannot use OpenSSL. It verifies the blobs the
 * host sends and re-checks cached ones; the host side uses util's digests. */
#ifndef MG_AGENT_SHA256_H
#define MG_AGENT_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct mg_sha256 {
	uint32_t h[8];
	uint64_t len;   /* bytes hashed so far */
	uint8_t block[64];
	size_t fill;    /* bytes waiting in block */
} mg_sha256;

void mg_sha256_init(mg_sha256 *s);
void mg_sha256_update(mg_sha256 *s, const void *data, size_t len);
/* Writes "sha256:" + 64 lowercase hex digits + NUL (72 bytes). */
void mg_sha256_final(mg_sha256 *s, char out[72]);

#endif
