/* SHA-256 digests in the OCI form "sha256:<64 hex>". The only file in util
 * that includes OpenSSL; EVP picks the SHA-NI code path where the CPU has it. */
#include "util.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct mg_hash {
	EVP_MD_CTX *ctx;
};

int mg_hash_new(mg_hash **out, mg_error *err)
{
	mg_hash *h = calloc(1, sizeof(*h));
	if (!h)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		mg_hash_free(h);
		return mg_error_set(err, MG_ENOMEM, "cannot set up SHA-256");
	}
	*out = h;
	return 0;
}

void mg_hash_update(mg_hash *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

static void to_digest(const unsigned char md[32], char out[MG_DIGEST_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[MG_DIGEST_LEN] = '\0';
}

void mg_hash_final(mg_hash *h, char out[MG_DIGEST_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	to_digest(md, out);
	mg_hash_reset(h);
}

void mg_hash_reset(mg_hash *h)
{
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void mg_hash_free(mg_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void mg_digest_bytes(const void *data, size_t len, char out[MG_DIGEST_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	to_digest(md, out);
}

int mg_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0)
		return 0;
	for (int i = 0; i < 64; i++) {
		char c = s[7 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[71] == '\0';
}

const char *mg_digest_hex(const char *digest)
{
	return digest + 7;
}
