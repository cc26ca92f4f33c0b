/*! \file keystore.h
 *  The keystore: the only module that holds key material (DEVELOPERS.md, "Keys").
 *
 *  Callers hold opaque struct ota_key handles and ask the keystore to encipher, decipher, MAC or derive with
 *  them; raw key bytes never leave keystore*.c except through ota_key_export(), which exists for the offline
 *  sm-ota tool, tests and the at-rest wrapping of the daemons' key store. Handles are talloc objects: free the
 *  handle (or its parent) and the key bytes are wiped and the cached cipher contexts released.
 *
 *  Contract: no function here logs, and no caller may log key bytes or deciphered payloads.
 *  A handle is not thread-safe (it caches OpenSSL contexts); use one per thread.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ota_key;

/*! Block cipher modes the OTA and GP layers use. DES is run as 3DES with K1=K2=K3 (OpenSSL 3 keeps single DES
 *  in the legacy provider only); DES and DES-ECB take the first 8 bytes of the key. */
enum ota_cipher {
	OTA_CIPHER_DES_CBC,	/*!< single DES, CBC (TS 102 225 KIc nibble 1) */
	OTA_CIPHER_DES_ECB,	/*!< single DES, ECB (KIc nibble D) */
	OTA_CIPHER_TDES2_CBC,	/*!< 3DES 2-key K1K2K1, outer CBC (nibble 5); 16-byte key */
	OTA_CIPHER_TDES3_CBC,	/*!< 3DES 3-key, outer CBC (nibble 9); 24-byte key */
	OTA_CIPHER_AES_CBC,	/*!< AES-128/192/256 from the key length, CBC (nibble 2) */
	OTA_CIPHER_AES_ECB,	/*!< AES, ECB (KCV, SCP03 ICV) */
	_OTA_CIPHER_NUM
};

/*! MAC algorithms: CBC-MAC (zero IV, zero-padded to the block size, last block) or AES-CMAC (full 16 bytes). */
enum ota_mac {
	OTA_MAC_DES_CBCMAC,
	OTA_MAC_TDES2_CBCMAC,
	OTA_MAC_TDES3_CBCMAC,
	OTA_MAC_AES_CMAC,
	_OTA_MAC_NUM
};

/*! One piece of a MAC or cipher input given as a scatter list. */
struct ota_iov {
	const uint8_t *p;
	size_t len;
};

/*! Block size of a cipher (8 or 16). */
size_t ota_cipher_block_size(enum ota_cipher c);
/*! Output size of a MAC before truncation (8 or 16). */
size_t ota_mac_size(enum ota_mac m);

/*! Import raw key bytes (8, 16, 24 or 32) as a new handle under talloc context ctx. -EINVAL on a bad length,
 *  -ENOMEM. The caller should wipe its copy. */
int ota_key_import(void *ctx, const uint8_t *raw, size_t len, struct ota_key **out);

/*! Load a raw key (8, 16, 24 or 32 bytes) from a file that only its owner can read (mode 0600 or stricter,
 *  owned by the effective user, no symlink). -EPERM on wrong owner or mode, -EINVAL on a bad size, or -errno. */
int ota_key_load_file(void *ctx, const char *path, struct ota_key **out);

/*! Copy the raw key out (tools, tests, at-rest wrapping only). Returns the length or -PROTO_E_NOSPACE. */
int ota_key_export(const struct ota_key *k, uint8_t *out, size_t cap);

/*! Key length in bytes. */
size_t ota_key_len(const struct ota_key *k);

/*! Whether the key length fits the cipher (e.g. 16 for 3DES 2-key, 16/24/32 for AES). */
bool ota_key_fits_cipher(const struct ota_key *k, enum ota_cipher c);
bool ota_key_fits_mac(const struct ota_key *k, enum ota_mac m);

/*! Encipher or decipher len bytes (a multiple of the block size) from in to out (may be equal) with the
 *  given IV (block-size bytes; NULL = all zero; ignored for ECB). -PROTO_E_CIPHER on a length that is not
 *  block aligned, -PROTO_E_KEY if the key does not fit, -PROTO_E_CRYPTO if OpenSSL fails. */
int ota_key_cipher(struct ota_key *k, enum ota_cipher c, bool encrypt, const uint8_t *iv,
		   const uint8_t *in, uint8_t *out, size_t len);

/*! MAC over the concatenation of the iov pieces. Writes min(outlen, ota_mac_size(m)) leftmost bytes of the
 *  MAC to out. For the CBC-MACs, the input is zero-padded to the block size when not aligned (the padding
 *  is not part of any transmitted data). */
int ota_key_mac(struct ota_key *k, enum ota_mac m, const struct ota_iov *iov, unsigned niov,
		uint8_t *out, size_t outlen);

/*! NIST SP 800-108 KDF in counter mode with AES-CMAC as PRF, in the GlobalPlatform SCP03 layout
 *  (GP Amd D 4.1.5): input = 00*11 || constant || 00 || L(16 bits) || i || context. Writes out_len bytes
 *  of public output (cryptograms, pseudo-random challenges). */
int ota_key_kdf_scp03(struct ota_key *k, uint8_t constant, const uint8_t *context, size_t context_len,
		      uint8_t *out, size_t out_len);

/*! Same KDF, but the output becomes a new key handle of key_len bytes (SCP03 session keys). */
int ota_key_derive_scp03(struct ota_key *k, uint8_t constant, const uint8_t *context, size_t context_len,
			 size_t key_len, void *ctx, struct ota_key **out);

/*! Key check value: first 3 bytes of AES-ECB(key, 16 x 01) for AES keys (GP Amd D 7.2.2),
 *  3DES-ECB(key, 8 x 00) for DES keys (GPCS). */
int ota_key_kcv(struct ota_key *k, uint8_t kcv[3]);

/*! Constant-time comparison for MACs, cryptograms and receipts. */
bool ota_mem_equal(const void *a, const void *b, size_t len);
