/* The keystore: symmetric keys, ciphering, CBC-MAC/CMAC and the SCP03 KDF.
 * OpenSSL errors are mapped to -PROTO_E_CRYPTO here and nowhere else in ota/. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <string.h>
#include <talloc.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include "ota/keystore.h"
#include "proto/errors.h"

struct ota_key {
	uint8_t raw[32];		/*!< key bytes; wiped by the destructor */
	size_t len;
	EVP_CIPHER_CTX *ctx[_OTA_CIPHER_NUM][2];	/*!< lazily keyed contexts, [cipher][encrypt] */
	uint8_t chain[_OTA_CIPHER_NUM][2][16];	/*!< CBC chaining value each context holds (see cbc_run) */
	uint8_t cmac_k1[16], cmac_k2[16];	/*!< AES-CMAC subkeys (SP 800-38B 6.1) */
	bool cmac_ready;
};

static int key_destructor(struct ota_key *k)
{
	int i, j;

	for (i = 0; i < _OTA_CIPHER_NUM; i++)
		for (j = 0; j < 2; j++)
			EVP_CIPHER_CTX_free(k->ctx[i][j]);
	OPENSSL_cleanse(k, sizeof(*k));
	return 0;
}

size_t ota_cipher_block_size(enum ota_cipher c)
{
	return (c == OTA_CIPHER_AES_CBC || c == OTA_CIPHER_AES_ECB) ? 16 : 8;
}

size_t ota_mac_size(enum ota_mac m)
{
	return m == OTA_MAC_AES_CMAC ? 16 : 8;
}

int ota_key_import(void *ctx, const uint8_t *raw, size_t len, struct ota_key **out)
{
	struct ota_key *k;

	*out = NULL;
	if (len != 8 && len != 16 && len != 24 && len != 32)
		return -EINVAL;
	k = talloc_zero(ctx, struct ota_key);
	if (!k)
		return -ENOMEM;
	talloc_set_name_const(k, "ota_key");
	memcpy(k->raw, raw, len);
	k->len = len;
	talloc_set_destructor(k, key_destructor);
	*out = k;
	return 0;
}

int ota_key_load_file(void *ctx, const char *path, struct ota_key **out)
{
	uint8_t raw[33];
	struct stat st;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	n = read(fd, raw, sizeof(raw));
	close(fd);
	rc = n < 0 ? -EIO : ota_key_import(ctx, raw, (size_t)n, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int ota_key_export(const struct ota_key *k, uint8_t *out, size_t cap)
{
	if (cap < k->len)
		return -PROTO_E_NOSPACE;
	memcpy(out, k->raw, k->len);
	return (int)k->len;
}

size_t ota_key_len(const struct ota_key *k)
{
	return k->len;
}

bool ota_key_fits_cipher(const struct ota_key *k, enum ota_cipher c)
{
	switch (c) {
	case OTA_CIPHER_DES_CBC:
	case OTA_CIPHER_DES_ECB:
		return k->len == 8 || k->len == 16 || k->len == 24;
	case OTA_CIPHER_TDES2_CBC:
		return k->len == 16;
	case OTA_CIPHER_TDES3_CBC:
		return k->len == 24;
	case OTA_CIPHER_AES_CBC:
	case OTA_CIPHER_AES_ECB:
		return k->len == 16 || k->len == 24 || k->len == 32;
	default:
		return false;
	}
}

static enum ota_cipher mac_cipher(enum ota_mac m)
{
	switch (m) {
	case OTA_MAC_DES_CBCMAC:
		return OTA_CIPHER_DES_CBC;
	case OTA_MAC_TDES2_CBCMAC:
		return OTA_CIPHER_TDES2_CBC;
	case OTA_MAC_TDES3_CBCMAC:
		return OTA_CIPHER_TDES3_CBC;
	default:
		return OTA_CIPHER_AES_CBC;
	}
}

bool ota_key_fits_mac(const struct ota_key *k, enum ota_mac m)
{
	if ((unsigned)m >= _OTA_MAC_NUM)
		return false;
	return ota_key_fits_cipher(k, mac_cipher(m));
}

static const uint8_t zero_iv[16];

static bool is_ecb(enum ota_cipher c)
{
	return c == OTA_CIPHER_DES_ECB || c == OTA_CIPHER_AES_ECB;
}

/* Get (keying on first use) the context for cipher c in direction enc. */
static EVP_CIPHER_CTX *get_ctx(struct ota_key *k, enum ota_cipher c, bool enc)
{
	EVP_CIPHER_CTX *ctx = k->ctx[c][enc];
	const EVP_CIPHER *cipher = NULL;
	uint8_t tmp[24];
	const uint8_t *key = k->raw;

	if (ctx)
		return ctx;
	if (!ota_key_fits_cipher(k, c))
		return NULL;
	switch (c) {
	case OTA_CIPHER_DES_CBC:
	case OTA_CIPHER_DES_ECB:
		/* single DES = 3DES EDE with K1 = K2 = K3 */
		memcpy(tmp, k->raw, 8);
		memcpy(tmp + 8, k->raw, 8);
		memcpy(tmp + 16, k->raw, 8);
		key = tmp;
		cipher = c == OTA_CIPHER_DES_CBC ? EVP_des_ede3_cbc() : EVP_des_ede3_ecb();
		break;
	case OTA_CIPHER_TDES2_CBC:
		cipher = EVP_des_ede_cbc();
		break;
	case OTA_CIPHER_TDES3_CBC:
		cipher = EVP_des_ede3_cbc();
		break;
	case OTA_CIPHER_AES_CBC:
		cipher = k->len == 16 ? EVP_aes_128_cbc() : k->len == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
		break;
	case OTA_CIPHER_AES_ECB:
		cipher = k->len == 16 ? EVP_aes_128_ecb() : k->len == 24 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
		break;
	default:
		return NULL;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key, is_ecb(c) ? NULL : zero_iv, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
		goto out;
	}
	k->ctx[c][enc] = ctx;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return ctx;
}

/* Run len bytes (block aligned) through a keyed context as CBC with the given IV.
 *
 * Resetting the IV of an OpenSSL 3 context goes through a parameter lookup by name that costs more than the
 * AES itself for short packets, so contexts are never re-initialised: each remembers the chaining value it
 * ended with (the last ciphertext block), and the first block is corrected for it instead. Encrypting:
 * E(P1 ^ IV) = E((P1 ^ IV ^ chain) ^ chain). Decrypting: P1 = D(C1) ^ IV = (D(C1) ^ chain) ^ chain ^ IV. */
static int cbc_run(struct ota_key *k, enum ota_cipher c, bool enc, const uint8_t *iv, const uint8_t *in,
		   uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx;
	size_t bs = ota_cipher_block_size(c), i, done;
	uint8_t *chain, first[16], last_in[16];
	int outl;

	if ((unsigned)c >= _OTA_CIPHER_NUM)
		return -EINVAL;
	chain = k->chain[c][enc];
	ctx = get_ctx(k, c, enc);
	if (!ctx)
		return -PROTO_E_CRYPTO;
	if (!iv)
		iv = zero_iv;
	if (!len)
		return 0;
	if (is_ecb(c)) {
		for (done = 0; done < len;) {
			size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
			if (EVP_CipherUpdate(ctx, out + done, &outl, in + done, (int)chunk) != 1)
				return -PROTO_E_CRYPTO;
			done += chunk;
		}
		return 0;
	}
	if (enc) {
		for (i = 0; i < bs; i++)
			first[i] = in[i] ^ iv[i] ^ chain[i];
		if (EVP_CipherUpdate(ctx, out, &outl, first, (int)bs) != 1)
			return -PROTO_E_CRYPTO;
	} else {
		memcpy(last_in, in + len - bs, bs);
		memcpy(first, in, bs);
		if (EVP_CipherUpdate(ctx, out, &outl, first, (int)bs) != 1)
			return -PROTO_E_CRYPTO;
		for (i = 0; i < bs; i++)
			out[i] ^= iv[i] ^ chain[i];
	}
	for (done = bs; done < len;) {
		size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
		if (EVP_CipherUpdate(ctx, out + done, &outl, in + done, (int)chunk) != 1)
			return -PROTO_E_CRYPTO;
		done += chunk;
	}
	memcpy(chain, enc ? out + len - bs : last_in, bs);
	return 0;
}

int ota_key_cipher(struct ota_key *k, enum ota_cipher c, bool encrypt, const uint8_t *iv,
		   const uint8_t *in, uint8_t *out, size_t len)
{
	if ((unsigned)c >= _OTA_CIPHER_NUM)
		return -EINVAL;
	if (len % ota_cipher_block_size(c))
		return -PROTO_E_CIPHER;
	if (!ota_key_fits_cipher(k, c))
		return -PROTO_E_KEY;
	return cbc_run(k, c, encrypt, iv, in, out, len);
}

static void dbl(uint8_t out[16], const uint8_t in[16])
{
	uint8_t carry = in[0] & 0x80;
	int i;

	for (i = 0; i < 15; i++)
		out[i] = (uint8_t)(in[i] << 1 | in[i + 1] >> 7);
	out[15] = (uint8_t)(in[15] << 1);
	if (carry)
		out[15] ^= 0x87;
}

static int cmac_subkeys(struct ota_key *k)
{
	uint8_t l[16] = { 0 };
	int rc;

	if (k->cmac_ready)
		return 0;
	rc = ota_key_cipher(k, OTA_CIPHER_AES_CBC, true, NULL, l, l, 16);
	if (rc < 0)
		return rc;
	dbl(k->cmac_k1, l);
	dbl(k->cmac_k2, k->cmac_k1);
	OPENSSL_cleanse(l, sizeof(l));
	k->cmac_ready = true;
	return 0;
}

/* CBC over the message, holding back its last (possibly partial) block, which is finished per algorithm:
 * CMAC xors K1 (complete) or pads 80 00.. and xors K2; CBC-MAC zero-pads. The MAC is the last cipher block.
 * The IV is zero for the first run through cbc_run and the previous output block for the following ones. */
int ota_key_mac(struct ota_key *k, enum ota_mac m, const struct ota_iov *iov, unsigned niov,
		uint8_t *out, size_t outlen)
{
	enum ota_cipher c;
	uint8_t blk[16], scratch[256], iv[16] = { 0 };
	size_t bs, fill = 0, total = 0, consumed = 0, i;
	unsigned v;
	int rc;

	if ((unsigned)m >= _OTA_MAC_NUM)
		return -EINVAL;
	c = mac_cipher(m);
	if (!ota_key_fits_cipher(k, c))
		return -PROTO_E_KEY;
	bs = ota_cipher_block_size(c);
	if (m == OTA_MAC_AES_CMAC && (rc = cmac_subkeys(k)) < 0)
		return rc;
	for (v = 0; v < niov; v++)
		total += iov[v].len;

	for (v = 0; v < niov; v++) {
		const uint8_t *p = iov[v].p;
		size_t n = iov[v].len;

		while (n > 0) {
			size_t nb = fill == 0 ? n / bs : 0;

			if (nb && consumed + nb * bs == total)
				nb--;	/* keep the message's last block back */
			if (nb) {
				size_t bytes = nb * bs;
				if (bytes > sizeof(scratch))
					bytes = sizeof(scratch);
				if ((rc = cbc_run(k, c, true, iv, p, scratch, bytes)) < 0)
					return rc;
				memcpy(iv, scratch + bytes - bs, bs);
				p += bytes;
				n -= bytes;
				consumed += bytes;
				continue;
			}
			i = bs - fill < n ? bs - fill : n;
			memcpy(blk + fill, p, i);
			fill += i;
			p += i;
			n -= i;
			consumed += i;
			if (fill == bs && consumed < total) {
				if ((rc = cbc_run(k, c, true, iv, blk, scratch, bs)) < 0)
					return rc;
				memcpy(iv, scratch, bs);
				fill = 0;
			}
		}
	}

	/* final block */
	if (m == OTA_MAC_AES_CMAC) {
		const uint8_t *sub = k->cmac_k1;
		if (fill < bs) {
			blk[fill++] = 0x80;
			memset(blk + fill, 0, bs - fill);
			sub = k->cmac_k2;
		}
		for (i = 0; i < bs; i++)
			blk[i] ^= sub[i];
	} else if (fill < bs) {
		memset(blk + fill, 0, bs - fill);
	}
	if ((rc = cbc_run(k, c, true, iv, blk, scratch, bs)) < 0)
		return rc;
	memcpy(out, scratch, outlen < bs ? outlen : bs);
	OPENSSL_cleanse(blk, sizeof(blk));
	return 0;
}

static int kdf(struct ota_key *k, uint8_t constant, const uint8_t *context, size_t context_len,
	       uint8_t *out, size_t out_len)
{
	uint8_t hdr[16] = { 0 };
	uint8_t blk[16];
	uint16_t bits = (uint16_t)(out_len * 8);
	size_t done = 0;
	uint8_t i = 1;
	int rc;

	if (out_len == 0 || out_len > 64 || k->len < 16)
		return -EINVAL;
	/* label: 11 bytes 00, constant, separator 00, L (2 bytes), counter i */
	hdr[11] = constant;
	hdr[12] = 0;
	hdr[13] = (uint8_t)(bits >> 8);
	hdr[14] = (uint8_t)bits;
	while (done < out_len) {
		struct ota_iov iov[2] = { { hdr, 16 }, { context, context_len } };
		size_t n = out_len - done < 16 ? out_len - done : 16;
		hdr[15] = i++;
		rc = ota_key_mac(k, OTA_MAC_AES_CMAC, iov, 2, blk, 16);
		if (rc < 0)
			return rc;
		memcpy(out + done, blk, n);
		done += n;
	}
	OPENSSL_cleanse(blk, sizeof(blk));
	return 0;
}

int ota_key_kdf_scp03(struct ota_key *k, uint8_t constant, const uint8_t *context, size_t context_len,
		      uint8_t *out, size_t out_len)
{
	return kdf(k, constant, context, context_len, out, out_len);
}

int ota_key_derive_scp03(struct ota_key *k, uint8_t constant, const uint8_t *context, size_t context_len,
			 size_t key_len, void *ctx, struct ota_key **out)
{
	uint8_t raw[32];
	int rc;

	*out = NULL;
	if (key_len != 16 && key_len != 24 && key_len != 32)
		return -EINVAL;
	rc = kdf(k, constant, context, context_len, raw, key_len);
	if (rc == 0)
		rc = ota_key_import(ctx, raw, key_len, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

int ota_key_kcv(struct ota_key *k, uint8_t kcv[3])
{
	uint8_t blk[16];
	int rc;

	if (k->len == 16 || k->len == 24 || k->len == 32) {
		/* AES interpretation unless the caller asked for DES: GP uses AES KCV for AES keys */
		memset(blk, 0x01, 16);
		rc = ota_key_cipher(k, OTA_CIPHER_AES_ECB, true, NULL, blk, blk, 16);
	} else {
		memset(blk, 0, 8);
		rc = ota_key_cipher(k, OTA_CIPHER_DES_ECB, true, NULL, blk, blk, 8);
	}
	if (rc == 0)
		memcpy(kcv, blk, 3);
	return rc;
}

bool ota_mem_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
