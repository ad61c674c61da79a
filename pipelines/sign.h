/* sign: Ed25519 keys and signatures (OpenSSL), for bundles and for the
 * signed gate result attached to a model in the registry. Keys are PEM
 * files: a private key (PKCS#8, mode 0600) and its public key (SPKI).
 * Signatures travel base64-encoded. Only sign.c includes OpenSSL. */
#ifndef MG_SIGN_H
#define MG_SIGN_H

#include <stddef.h>

#include "util/util.h"

/* Writes a new key pair: path (private, mode 0600, refused if it exists
 * unless overwrite) and path + ".pub". */
int mg_keygen(const char *path, int overwrite, mg_error *err);

/* Signs data with the private key in key_path; the base64 signature goes
 * to sig_b64 (appended). A key that is not an Ed25519 private key is
 * MG_EINVAL naming the file. */
int mg_sign(const char *key_path, const void *data, size_t len, mg_buf *sig_b64, mg_error *err);

/* Verifies a base64 signature of data with the public key in pub_path:
 * 0 when valid, MG_ECORRUPT when the signature does not match (the message
 * names what was signed, `what`), MG_EINVAL for a bad key or encoding. */
int mg_verify(const char *pub_path, const void *data, size_t len, const char *sig_b64,
	      const char *what, mg_error *err);

/* The key id: "sha256:" + hex of the public key's DER, for messages and
 * for recording which key signed. */
int mg_key_id(const char *key_path, char out[MG_DIGEST_SIZE], mg_error *err);

#endif
