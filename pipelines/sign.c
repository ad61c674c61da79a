/* Ed25519 keys and signatures through OpenSSL's EVP API: key generation
 * (PKCS#8 private key, mode 0600, and its SPKI public key, both PEM), one-shot
 * signing and verification of a byte string, and key ids (the SHA-256 of the
 * public key's DER). Signatures travel base64-encoded. The only file in
 * pipelines that includes OpenSSL; its errors become ours here, naming the
 * key file. */
#include "sign.h"

#include "registry/remote.h" /* mg_base64_encode/decode */

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX (64u << 10)
#define ED25519_SIG_LEN 64

/* The folder of path, for temporary files ("." when it has none). */
static char *dir_of(const char *path, mg_error *err)
{
	char *dir = mg_strdup(path, err);
	if (!dir)
		return NULL;
	char *slash = strrchr(dir, '/');
	if (!slash)
		memcpy(dir, ".", 2);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/* Writes data to path atomically with the given mode. Without overwrite an
 * existing path is refused (link(2) fails rather than replace it). */
static int write_key_file(const char *path, const void *data, size_t len, mode_t mode,
			  int overwrite, mg_error *err)
{
	char *dir = dir_of(path, err);
	if (!dir)
		return MG_ENOMEM;
	int fd = -1;
	char *tmp = NULL;
	int rc = mg_tmpfile_open(&fd, &tmp, dir, err);
	free(dir);
	if (rc)
		return rc;
	if (fchmod(fd, mode) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot set the mode of '%s'", path);
	if (!rc)
		rc = mg_write_all(fd, data, len, path, err);
	if (!rc && fsync(fd) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", path);
	if (close(fd) < 0 && !rc)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", path);
	if (!rc) {
		if (overwrite) {
			if (rename(tmp, path) < 0)
				rc = mg_error_sys(err, MG_EIO, errno, "cannot rename '%s' to '%s'", tmp, path);
		} else if (link(tmp, path) < 0) {
			rc = errno == EEXIST
				     ? mg_error_set(err, MG_EEXISTS, "'%s' exists; refusing to overwrite a key", path)
				     : mg_error_sys(err, MG_EIO, errno, "cannot create '%s'", path);
		}
	}
	unlink(tmp);
	free(tmp);
	return rc;
}

/* The PEM text of a BIO's contents. */
static int bio_to_file(BIO *bio, const char *path, mode_t mode, int overwrite, mg_error *err)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	if (n <= 0)
		return mg_error_set(err, MG_ERROR, "cannot encode the key for '%s'", path);
	return write_key_file(path, data, (size_t)n, mode, overwrite, err);
}

int mg_keygen(const char *path, int overwrite, mg_error *err)
{
	EVP_PKEY *pkey = NULL;
	BIO *priv = NULL, *pub = NULL;
	char *pub_path = NULL;
	int rc = 0;
	mg_buf p = MG_BUF_INIT;
	if (!*path)
		return mg_error_set(err, MG_EINVAL, "empty key file name");
	if ((rc = mg_buf_printf(&p, err, "%s.pub", path)))
		return rc;
	pub_path = mg_buf_detach(&p);
	struct stat st;
	if (!overwrite && (lstat(path, &st) == 0 || lstat(pub_path, &st) == 0)) {
		rc = mg_error_set(err, MG_EEXISTS, "'%s' exists; refusing to overwrite a key",
				  lstat(path, &st) == 0 ? path : pub_path);
		goto done;
	}
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	priv = BIO_new(BIO_s_mem());
	pub = BIO_new(BIO_s_mem());
	if (!pkey || !priv || !pub ||
	    PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, pkey) != 1) {
		rc = mg_error_set(err, MG_ERROR, "cannot generate an Ed25519 key for '%s'", path);
		goto done;
	}
	/* the public key first: a failure then leaves no private key behind */
	if ((rc = bio_to_file(pub, pub_path, 0644, overwrite, err)))
		goto done;
	if ((rc = bio_to_file(priv, path, 0600, overwrite, err))) {
		unlink(pub_path);
		goto done;
	}
done:
	ERR_clear_error();
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(pkey);
	free(pub_path);
	return rc;
}

/* Reads a PEM key file: a private key when want_private, else a public key
 * (or a private key, whose public half is used). */
static int load_key(EVP_PKEY **out, const char *path, int want_private, mg_error *err)
{
	mg_buf text = MG_BUF_INIT;
	int rc = mg_file_read(&text, path, KEY_FILE_MAX, err);
	if (rc)
		return rc;
	EVP_PKEY *pkey = NULL;
	BIO *bio = BIO_new_mem_buf(text.data ? text.data : "", (int)text.len);
	if (!bio) {
		mg_buf_free(&text);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	if (want_private) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	} else {
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		if (!pkey) {
			BIO_free(bio);
			bio = BIO_new_mem_buf(text.data ? text.data : "", (int)text.len);
			if (bio)
				pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
		}
	}
	BIO_free(bio);
	mg_buf_free(&text);
	ERR_clear_error();
	if (!pkey)
		return mg_error_set(err, MG_EINVAL, "'%s' is not a PEM %s key", path,
				    want_private ? "private" : "public");
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return mg_error_set(err, MG_EINVAL, "'%s' is not an Ed25519 %s key", path,
				    want_private ? "private" : "public");
	}
	*out = pkey;
	return 0;
}

int mg_sign(const char *key_path, const void *data, size_t len, mg_buf *sig_b64, mg_error *err)
{
	EVP_PKEY *pkey = NULL;
	int rc = load_key(&pkey, key_path, 1, err);
	if (rc)
		return rc;
	unsigned char sig[ED25519_SIG_LEN];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, data, len) != 1) {
		rc = mg_error_set(err, MG_ERROR, "cannot sign with '%s'", key_path);
	} else {
		char *b64 = mg_base64_encode(sig, siglen, err);
		if (!b64)
			rc = MG_ENOMEM;
		else
			rc = mg_buf_puts(sig_b64, b64, err);
		free(b64);
	}
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}

int mg_verify(const char *pub_path, const void *data, size_t len, const char *sig_b64,
	      const char *what, mg_error *err)
{
	mg_buf sig = MG_BUF_INIT;
	if (mg_base64_decode(&sig, sig_b64, NULL) != 0) {
		mg_buf_free(&sig);
		return mg_error_set(err, MG_EINVAL, "the signature of '%s' is not valid base64", what);
	}
	EVP_PKEY *pkey = NULL;
	int rc = load_key(&pkey, pub_path, 0, err);
	if (rc) {
		mg_buf_free(&sig);
		return rc;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
		rc = mg_error_set(err, MG_ERROR, "cannot verify with '%s'", pub_path);
	} else if (sig.len != ED25519_SIG_LEN ||
		   EVP_DigestVerify(ctx, (const unsigned char *)sig.data, sig.len, data, len) != 1) {
		rc = mg_error_set(err, MG_ECORRUPT,
				  "the signature of '%s' does not match the key '%s'", what, pub_path);
	}
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	mg_buf_free(&sig);
	return rc;
}

int mg_key_id(const char *key_path, char out[MG_DIGEST_SIZE], mg_error *err)
{
	EVP_PKEY *pkey = NULL;
	int rc = load_key(&pkey, key_path, 0, err);
	if (rc)
		return rc;
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der);
	if (n <= 0)
		rc = mg_error_set(err, MG_ERROR, "cannot encode the public key of '%s'", key_path);
	else
		mg_digest_bytes(der, (size_t)n, out);
	OPENSSL_free(der);
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return rc;
}
