/*! \file keystore_wrap.h
 *  The keystore at rest: key components stored in the EIS store are wrapped under a master key.
 *
 *  A master key (32 bytes) is an opaque handle, loaded from a file that only its owner can read (or created
 *  once with random bytes). Key component bytes are sealed with AES-256-GCM under the master key into a blob,
 *  the value of struct smsr_key_component.wrapped (smsr/eis.h):
 *
 *      blob = 01 (format) || nonce (12 random bytes) || ciphertext (same length as the key) || GCM tag (16)
 *      GCM AAD = 01 || caller context
 *
 *  The caller context binds a blob to its place (e.g. ota_wrap_aad_key(): EID, security domain, KVN, key index,
 *  component), so a blob copied into another EIS or another keyset fails to unwrap. Unwrapping yields an
 *  ota_key handle: the raw bytes never reach the caller.
 *
 *  Keys that arrive in an EIS at registration (ES1.RegisterEIS, ES7.HandoverEUICC) are "encrypted with the
 *  transport key" (SGP.02 EISType/KeyComponents); ota_wrap_import_transport() deciphers such a value and wraps
 *  it without handing the clear key out.
 *
 *  Caveats:
 *  - No function here logs; callers must not log blobs' clear contents (they cannot get them) nor key handles.
 *  - A master handle is immutable after creation and may be shared by threads; the key bytes are wiped when the
 *    handle (a talloc object) is freed. Stack buffers holding clear key bytes are wiped before returning.
 *  - Rotating the master key means unwrapping and re-wrapping every blob; the format byte leaves room for a key
 *    identifier in a later format.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "ota/keystore.h"

#define OTA_WRAP_MASTER_LEN 32		/*!< AES-256 */
#define OTA_WRAP_NONCE_LEN 12
#define OTA_WRAP_TAG_LEN 16
#define OTA_WRAP_OVERHEAD (1 + OTA_WRAP_NONCE_LEN + OTA_WRAP_TAG_LEN)	/*!< blob = key length + 29 */
#define OTA_WRAP_MAX_KEY 256		/*!< largest component sealed (PSK-TLS keys included) */
#define OTA_WRAP_AAD_KEY_LEN 21		/*!< length of the ota_wrap_aad_key() context */

struct ota_wrap_master;

/*! Load the master key from path: a regular file (symlinks refused) of exactly 32 bytes, owned by the effective
 *  user, with no group or other permission bits (0600 or stricter). 0 and *out; -EPERM on wrong owner or
 *  mode, -EINVAL on a wrong size or file type, -ENOMEM, or the -errno of open/read. */
int ota_wrap_master_load(void *ctx, const char *path, struct ota_wrap_master **out);

/*! Create a new master key file at path (mode 0600, O_EXCL, fsync'd with its directory) from the OpenSSL RNG and
 *  return its handle. -EEXIST if path exists (never overwrites a master key), -PROTO_E_CRYPTO if the RNG fails,
 *  or the -errno of the file operations. */
int ota_wrap_master_create(void *ctx, const char *path, struct ota_wrap_master **out);

/*! A random master key held in memory only (tests, benchmarks). */
int ota_wrap_master_generate(void *ctx, struct ota_wrap_master **out);

/*! The context for a key component of an EIS keyset (OTA_WRAP_AAD_KEY_LEN bytes):
 *  'K' || EID (16) || sd (0 ISD-R, 1 ECASD) || KVN || key index || component index. */
void ota_wrap_aad_key(uint8_t out[OTA_WRAP_AAD_KEY_LEN], const uint8_t eid[16], uint8_t sd, uint8_t kvn,
		      uint8_t key_index, uint8_t comp_index);

/*! Seal raw key bytes (1..OTA_WRAP_MAX_KEY) with the context aad (may be empty) into a new talloc blob under ctx
 *  of len + OTA_WRAP_OVERHEAD bytes. -EINVAL on a bad length, -ENOMEM, -PROTO_E_CRYPTO. The caller wipes raw. */
int ota_wrap_seal(const struct ota_wrap_master *m, const uint8_t *raw, size_t len, const uint8_t *aad,
		  size_t aad_len, void *ctx, uint8_t **blob, size_t *blob_len);

/*! Seal the key held by a handle (e.g. a freshly generated ISD-R key) the same way. */
int ota_wrap_key(const struct ota_wrap_master *m, const struct ota_key *k, const uint8_t *aad, size_t aad_len,
		 void *ctx, uint8_t **blob, size_t *blob_len);

/*! Unwrap a blob sealed with the same master key and context into a new key handle under ctx.
 *  -PROTO_E_INTEGRITY if the blob was altered, truncated, sealed under another master key or another context;
 *  -PROTO_E_UNSUPPORTED for another format byte; -PROTO_E_KEY if the clear key is not 8, 16, 24 or 32 bytes
 *  (ota_key_import()); -ENOMEM; -PROTO_E_CRYPTO. */
int ota_wrap_unwrap_key(const struct ota_wrap_master *m, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
			size_t aad_len, void *ctx, struct ota_key **out);

/*! Unseal a blob into caller memory (at most cap bytes): for values that must end up in a payload rather than in a
 *  key handle (Ki and OPc written into a personalised profile package, which then travels under SCP03t). Errors as
 *  ota_wrap_unwrap_key(), -PROTO_E_NOSPACE; the caller wipes out. */
int ota_wrap_unseal(const struct ota_wrap_master *m, const uint8_t *blob, size_t blob_len, const uint8_t *aad,
		    size_t aad_len, uint8_t *out, size_t cap, size_t *out_len);

/*! Decipher a key component value received "encrypted with the transport key" and seal it under the master key
 *  (blob as ota_wrap_seal()).
 *
 *  UNVERIFIED MECHANISM: SGP.02 does not say how the transport key is applied. This follows [K]:
 *  AES-ECB under the transport key (an AES key handle, normally 16 bytes) with PKCS#7 padding, i.e. enc_len is a
 *  non-zero multiple of 16 and the clear value is the deciphered bytes minus 1..16 padding bytes. Check against
 *  the EUM's actual transport-key agreement before production.
 *
 *  -PROTO_E_CIPHER if enc_len is not a non-zero multiple of 16, -PROTO_E_KEY if the transport key is not an AES
 *  key, -PROTO_E_INTEGRITY on bad padding, -EINVAL if the clear value is longer than OTA_WRAP_MAX_KEY, -ENOMEM,
 *  -PROTO_E_CRYPTO. */
int ota_wrap_import_transport(const struct ota_wrap_master *m, struct ota_key *transport_key, const uint8_t *enc,
			      size_t enc_len, const uint8_t *aad, size_t aad_len, void *ctx, uint8_t **blob,
			      size_t *blob_len);
