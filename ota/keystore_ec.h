/*! \file keystore_ec.h
 *  The elliptic-curve part of the keystore: private keys (static SK.DP.ECDSA / SK.SR.ECDSA / SK.ECASD.ECKA, and
 *  ephemeral eSK.xx.ECKA) that never leave keystore_ec.c.
 *
 *  A struct ota_eckey is an opaque talloc handle owning an OpenSSL EVP_PKEY; freeing it (or its parent) releases
 *  the key, which OpenSSL clears. Callers can sign with it (ECDSA-SHA256, plain r||s, GPCS B.4.3) and run key
 *  agreement with it: the ECDH shared secret ShS goes straight into the X9.63 KDF inside this module and only the
 *  derived keys come out, as ota_key handles (ota/keystore.h). Curves are GP key parameter references
 *  (proto/ec.h). OpenSSL errors are mapped to -PROTO_E_CRYPTO here.
 *
 *  Contract as for keystore.h: nothing here logs; no caller logs key material.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "proto/ec.h"
#include "ota/keystore.h"

struct ota_eckey;

/*! Import a private scalar d (PROTO_EC_FIELD_LEN bytes, big endian, 0 < d < n) on curve ref; the public point is
 *  computed. The caller should wipe its copy. -PROTO_E_UNSUPPORTED curve, -PROTO_E_KEY bad d, -ENOMEM,
 *  -PROTO_E_CRYPTO. */
int ota_eckey_import(void *ctx, uint8_t ref, const uint8_t *d, size_t d_len, struct ota_eckey **out);

/*! Load a PEM private EC key (SK.DP.ECDSA, SK.SR.ECDSA as scripts/gen-test-pki writes them) on P-256 or
 *  brainpoolP256r1. -ENOENT (unreadable), -PROTO_E_KEY (not an EC private key), -PROTO_E_UNSUPPORTED (curve). */
int ota_eckey_load_pem(void *ctx, const char *path, struct ota_eckey **out);

/*! Generate a fresh key pair on curve ref (ephemeral ECKA keys). */
int ota_eckey_generate(void *ctx, uint8_t ref, struct ota_eckey **out);

/*! Curve (key parameter reference) of the key. */
uint8_t ota_eckey_curve(const struct ota_eckey *k);

/*! The public point 04||X||Y (PROTO_EC_POINT_LEN bytes, valid while k lives). */
const uint8_t *ota_eckey_public(const struct ota_eckey *k);

/*! The public half as a new proto_ec_pub under ctx (e.g. to verify one's own signatures). */
int ota_eckey_public_key(void *ctx, const struct ota_eckey *k, struct proto_ec_pub **out);

/*! ECDSA-SHA256 signature over msg in plain r||s form (PROTO_EC_SIG_LEN bytes, each half left-padded). The
 *  nonce is random (OpenSSL 3.0 has no RFC 6979). */
int ota_eckey_sign(struct ota_eckey *k, const uint8_t *msg, size_t len, uint8_t sig[PROTO_EC_SIG_LEN]);

/*! Key agreement and derivation in one step (GPCS B.4.4/B.4.5, TR-03111 4.3.2.2 and 4.3.3):
 *  ShS = x([k] peer), KeyData = X9.63-KDF-SHA256(ShS, shared_info, sum of key_lens), split in order into nkeys new
 *  ota_key handles under ctx (keys[i] of key_lens[i] bytes, 16/24/32 each). ShS and KeyData are wiped. On error
 *  no handle is returned. -PROTO_E_KEY if peer is on another curve, -EINVAL on bad lengths. */
int ota_eckey_agree(struct ota_eckey *k, const struct proto_ec_pub *peer, const uint8_t *shared_info,
		    size_t si_len, const size_t *key_lens, unsigned nkeys, void *ctx, struct ota_key **keys);

/*! ANSI X9.63 KDF with SHA-256 over a caller-supplied secret z (OpenSSL EVP_KDF "X963KDF"). For conformance
 *  vectors and for secrets that did not come from an ota_eckey; out_len up to 1024 bytes. */
int ota_eckey_x963_kdf(const uint8_t *z, size_t z_len, const uint8_t *shared_info, size_t si_len,
		       uint8_t *out, size_t out_len);
