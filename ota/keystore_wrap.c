/* The keystore at rest: master key handling and AES-256-GCM wrapping of key components (keystore_wrap.h).
 * OpenSSL errors are mapped to -PROTO_E_CRYPTO (and a failed GCM tag to -PROTO_E_INTEGRITY) here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "ota/keystore_wrap.h"
#include "proto/errors.h"

#define WRAP_FORMAT_V1 0x01

struct ota_wrap_master {
	uint8_t key[OTA_WRAP_MASTER_LEN];	/*!< wiped by the destructor */
};

static int master_destructor(struct ota_wrap_master *m)
{
	OPENSSL_cleanse(m->key, sizeof(m->key));
	return 0;
}

static struct ota_wrap_master *master_new(void *ctx)
{
	struct ota_wrap_master *m = talloc_zero(ctx, struct ota_wrap_master);

	if (m)
		talloc_set_destructor(m, master_destructor);
	return m;
}

int ota_wrap_master_generate(void *ctx, struct ota_wrap_master **out)
{
	struct ota_wrap_master *m = master_new(ctx);

	*out = NULL;
	if (!m)
		return -ENOMEM;
	if (RAND_priv_bytes(m->key, sizeof(m->key)) != 1) {
		talloc_free(m);
		return -PROTO_E_CRYPTO;
	}
	*out = m;
	return 0;
}

/* read exactly n bytes */
static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EINVAL;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int ota_wrap_master_load(void *ctx, const char *path, struct ota_wrap_master **out)
{
	struct ota_wrap_master *m = NULL;
	struct stat st;
	uint8_t extra;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != OTA_WRAP_MASTER_LEN) {
		rc = -EINVAL;
		goto out_close;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO))) {
		rc = -EPERM;
		goto out_close;
	}
	m = master_new(ctx);
	if (!m) {
		rc = -ENOMEM;
		goto out_close;
	}
	if ((rc = read_full(fd, m->key, sizeof(m->key))) < 0)
		goto out_free;
	/* the file must not have grown between fstat and read */
	if (read(fd, &extra, 1) != 0) {
		rc = -EINVAL;
		goto out_free;
	}
	close(fd);
	*out = m;
	return 0;

out_free:
	talloc_free(m);
out_close:
	close(fd);
	return rc;
}

/* fsync the directory holding path so a new file's name survives a crash */
static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, rc = 0;

	if (!slash) {
		dir[0] = '.';
		n = 1;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
	}
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int ota_wrap_master_create(void *ctx, const char *path, struct ota_wrap_master **out)
{
	struct ota_wrap_master *m;
	int fd, rc;

	*out = NULL;
	rc = ota_wrap_master_generate(ctx, &m);
	if (rc < 0)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, S_IRUSR | S_IWUSR);
	if (fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = write_full(fd, m->key, sizeof(m->key));
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0) {
		unlink(path);
		goto out_free;
	}
	if ((rc = fsync_parent(path)) < 0)
		goto out_free;
	*out = m;
	return 0;

out_free:
	talloc_free(m);
	return rc;
}

void ota_wrap_aad_key(uint8_t out[OTA_WRAP_AAD_KEY_LEN], const uint8_t eid[16], uint8_t sd, uint8_t kvn,
		      uint8_t key_index, uint8_t comp_index)
{
	out[0] = 'K';
	memcpy(out + 1, eid, 16);
	out[17] = sd;
	out[18] = kvn;
	out[19] = key_index;
	out[20] = comp_index;
}

/* AES-256-GCM in one direction. For decryption, tag is the expected tag and a mismatch gives
 * -PROTO_E_INTEGRITY. out must hold len bytes. */
static int gcm(const struct ota_wrap_master *m, bool enc, const uint8_t nonce[OTA_WRAP_NONCE_LEN],
	       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	       uint8_t tag[OTA_WRAP_TAG_LEN])
{
	static const uint8_t fmt = WRAP_FORMAT_V1;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl, rc = -PROTO_E_CRYPTO;

	if (!c)
		return -ENOMEM;
	if (len > INT_MAX || aad_len > INT_MAX)
		goto out;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, OTA_WRAP_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, m->key, nonce, enc) != 1)
		goto out;
	/* AAD = format byte || caller context */
	if (EVP_CipherUpdate(c, NULL, &outl, &fmt, 1) != 1)
		goto out;
	if (aad_len && EVP_CipherUpdate(c, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	if (EVP_CipherUpdate(c, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(c, out + outl, &outl) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, OTA_WRAP_TAG_LEN, tag) != 1)
			goto out;
	} else {
		if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, OTA_WRAP_TAG_LEN, tag) != 1)
			goto out;
		if (EVP_CipherFinal_ex(c, out + outl, &outl) != 1) {
			rc = -PROTO_E_INTEGRITY;
			goto out;
		}
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int ota_wrap_seal(const struct ota_wrap_master *m, const uint8_t *raw, size_t len, const uint8_t *aad,
		  size_t aad_len, void *ctx, uint8_t **blob, size_t *blob_len)
{
	uint8_t *b;
	int rc;

	*blob = NULL;
	*blob_len = 0;
	if (!len || len > OTA_WRAP_MAX_KEY || (aad_len && !aad))
		return -EINVAL;
	b = talloc_size(ctx, len + OTA_WRAP_OVERHEAD);
	if (!b)
		return -ENOMEM;
	b[0] = WRAP_FORMAT_V1;
	if (RAND_bytes(b + 1, OTA_WRAP_NONCE_LEN) != 1) {
		rc = -PROTO_E_CRYPTO;
		goto fail;
	}
	rc = gcm(m, true, b + 1, aad, aad_len, raw, len, b + 1 + OTA_WRAP_NONCE_LEN,
		 b + 1 + OTA_WRAP_NONCE_LEN + len);
	if (rc < 0)
		goto fail;
	*blob = b;
	*blob_len = len + OTA_WRAP_OVERHEAD;
	return 0;

fail:
	talloc_free(b);
	return rc;
}

int ota_wrap_key(const struct ota_wrap_master *m, const struct ota_key *k, const uint8_t *aad, size_t aad_len,
		 void *ctx, uint8_t **blob, size_t *blob_len)
{
	uint8_t raw[32];
	int n, rc;

	*blob = NULL;
	*blob_len = 0;
	n = ota_key_export(k, raw, sizeof(raw));
	if (n < 0)
		return n;
	rc = ota_wrap_seal(m, raw, (size_t)n, aad, aad_len, ctx, blob, blob_len);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int ota_wrap_unseal(const struct ota_wrap_master *m, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
		    size_t aad_len, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t tag[OTA_WRAP_TAG_LEN];
	size_t len;
	int rc;

	*out_len = 0;
	if (!blob || blob_len < 1)
		return -PROTO_E_INTEGRITY;
	if (blob[0] != WRAP_FORMAT_V1)
		return -PROTO_E_UNSUPPORTED;
	if (blob_len <= OTA_WRAP_OVERHEAD || blob_len > OTA_WRAP_OVERHEAD + OTA_WRAP_MAX_KEY)
		return -PROTO_E_INTEGRITY;
	if (aad_len && !aad)
		return -EINVAL;
	len = blob_len - OTA_WRAP_OVERHEAD;
	if (len > cap)
		return -PROTO_E_NOSPACE;
	memcpy(tag, blob + blob_len - OTA_WRAP_TAG_LEN, OTA_WRAP_TAG_LEN);
	rc = gcm(m, false, blob + 1, aad, aad_len, blob + 1 + OTA_WRAP_NONCE_LEN, len, out, tag);
	if (rc == 0)
		*out_len = len;
	else
		OPENSSL_cleanse(out, len);
	return rc;
}

int ota_wrap_unwrap_key(const struct ota_wrap_master *m, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
			size_t aad_len, void *ctx, struct ota_key **out)
{
	uint8_t raw[OTA_WRAP_MAX_KEY];
	size_t len;
	int rc;

	*out = NULL;
	rc = ota_wrap_unseal(m, blob, blob_len, aad, aad_len, raw, sizeof(raw), &len);
	if (rc == 0) {
		rc = ota_key_import(ctx, raw, len, out);
		if (rc == -EINVAL)
			rc = -PROTO_E_KEY;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int ota_wrap_import_transport(const struct ota_wrap_master *m, struct ota_key *transport_key, const uint8_t *enc,
			      size_t enc_len, const uint8_t *aad, size_t aad_len, void *ctx, uint8_t **blob,
			      size_t *blob_len)
{
	uint8_t clear[OTA_WRAP_MAX_KEY + 16];
	unsigned pad, bad, i;
	int rc;

	*blob = NULL;
	*blob_len = 0;
	if (!enc_len || enc_len % 16)
		return -PROTO_E_CIPHER;
	if (enc_len > sizeof(clear))
		return -EINVAL;
	if (!ota_key_fits_cipher(transport_key, OTA_CIPHER_AES_ECB))
		return -PROTO_E_KEY;
	rc = ota_key_cipher(transport_key, OTA_CIPHER_AES_ECB, false, NULL, enc, clear, enc_len);
	if (rc < 0)
		goto out;
	/* PKCS#7: last byte n in 1..16, the last n bytes all equal n; checked without early exit */
	pad = clear[enc_len - 1];
	bad = (unsigned)(pad == 0) | (unsigned)(pad > 16);
	for (i = 1; i <= 16; i++) {
		unsigned in_pad = (unsigned)(i <= pad);

		bad |= in_pad & (unsigned)(clear[enc_len - i] != pad);
	}
	if (bad) {
		rc = -PROTO_E_INTEGRITY;
		goto out;
	}
	if (enc_len - pad > OTA_WRAP_MAX_KEY || enc_len == pad) {
		rc = -EINVAL;
		goto out;
	}
	rc = ota_wrap_seal(m, clear, enc_len - pad, aad, aad_len, ctx, blob, blob_len);
out:
	OPENSSL_cleanse(clear, sizeof(clear));
	return rc;
}
