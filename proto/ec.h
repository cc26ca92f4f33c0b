/*! \file ec.h
 *  Elliptic-curve public keys as SGP.02 and GlobalPlatform carry them (crypto.md §1.2).
 *
 *  Curves are named by their GP key parameter reference (GPCS v2.3.1 Table B-2, tag 'F0'). Only the 256-bit
 *  curves SGP.02 uses are supported: '00' NIST P-256, '03' brainpoolP256r1 and '40' FRP256V1, which OpenSSL
 *  does not know and which is built from explicit domain parameters. Points are the uncompressed encoding
 *  04||X||Y (GPCS B.4.4); every decoded point is checked to lie on its curve. Signatures are ECDSA with
 *  SHA-256 in the plain r||s format of GPCS B.4.3 (each half left-padded to 32 bytes), never DER.
 *
 *  Public keys are talloc objects owning an OpenSSL EVP_PKEY, released by their destructor. OpenSSL errors are
 *  mapped to -PROTO_E_CRYPTO here. Private keys live in ota/keystore_ec.h, never here.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <openssl/types.h>
#include <openssl/ec.h>

/*! GP key parameter references (GPCS v2.3.1 Table B-2; '40' = FRP256V1 per SGP.02 v4.1 Table 24 as cited by njiwa). */
enum proto_ec_ref {
	PROTO_EC_REF_P256 = 0x00,		/*!< NIST P-256 (prime256v1, secp256r1) */
	PROTO_EC_REF_BRAINPOOLP256R1 = 0x03,	/*!< brainpoolP256r1 (RFC 5639) */
	PROTO_EC_REF_FRP256V1 = 0x40,		/*!< ANSSI FRP256V1, explicit parameters */
};

#define PROTO_EC_FIELD_LEN	32			/*!< bytes of a coordinate, a private scalar, ShS */
#define PROTO_EC_POINT_LEN	(1 + 2 * PROTO_EC_FIELD_LEN)	/*!< uncompressed point 04||X||Y */
#define PROTO_EC_SIG_LEN	(2 * PROTO_EC_FIELD_LEN)	/*!< plain signature r||s */

/*! A public key on a supported curve. Read-only for callers; free with talloc_free(). */
struct proto_ec_pub {
	uint8_t ref;				/*!< key parameter reference (enum proto_ec_ref) */
	uint8_t point[PROTO_EC_POINT_LEN];	/*!< 04||X||Y as decoded */
	EVP_PKEY *pkey;				/*!< owned; freed by the talloc destructor */
};

/*! Whether ref names a supported curve. */
bool proto_ec_ref_supported(uint8_t ref);

/*! Printable curve name ("P-256", "brainpoolP256r1", "FRP256V1"), or "unknown". */
const char *proto_ec_ref_name(uint8_t ref);

/*! Domain parameters of a curve as a new OSSL_PARAM array (a group name, or the explicit prime-field parameters
 *  of FRP256V1), to be merged with key material and handed to EVP_PKEY_fromdata(). Free with OSSL_PARAM_free().
 *  -PROTO_E_UNSUPPORTED for an unknown ref, -PROTO_E_CRYPTO. */
int proto_ec_params_new(uint8_t ref, OSSL_PARAM **out);

/*! A new EC_GROUP for the curve (caller frees with EC_GROUP_free()). -PROTO_E_UNSUPPORTED, -PROTO_E_CRYPTO. */
int proto_ec_group_new(uint8_t ref, EC_GROUP **out);

/*! Domain-parameter-only EVP_PKEY for the curve, e.g. to generate key pairs (caller frees with EVP_PKEY_free()). */
int proto_ec_domain_new(uint8_t ref, EVP_PKEY **out);

/*! The same, shared: one per curve and process (the caller still frees its reference with EVP_PKEY_free()). */
int proto_ec_domain_get(uint8_t ref, EVP_PKEY **out);

/*! Full validation of the curve's domain parameters (EVP_PKEY_param_check: prime field, discriminant, generator
 *  order, cofactor). 0 if valid, -PROTO_E_INTEGRITY if not, -PROTO_E_UNSUPPORTED, -PROTO_E_CRYPTO. */
int proto_ec_curve_check(uint8_t ref);

/*! Whether point (len bytes) is a valid uncompressed point on the curve. */
bool proto_ec_point_on_curve(uint8_t ref, const uint8_t *point, size_t len);

/*! Decode a public key 04||X||Y (exactly PROTO_EC_POINT_LEN bytes) on curve ref into a new talloc object under ctx.
 *  Errors: -PROTO_E_UNSUPPORTED unknown curve; -PROTO_E_MALFORMED wrong length, not uncompressed, coordinates out
 *  of range or point not on the curve; -ENOMEM; -PROTO_E_CRYPTO. */
int proto_ec_pub_new(void *ctx, uint8_t ref, const uint8_t *point, size_t len, struct proto_ec_pub **out);

/*! The key parameter reference of an OpenSSL EC key on a supported named curve (P-256, brainpoolP256r1), or
 *  -PROTO_E_UNSUPPORTED. */
int proto_ec_ref_of(const EVP_PKEY *k);

/*! The public half of an OpenSSL EC key as a new proto_ec_pub under ctx (checked as proto_ec_pub_new()). */
int proto_ec_pub_from_pkey(void *ctx, const EVP_PKEY *k, struct proto_ec_pub **out);

/*! The public key of the PEM X.509 certificate in path (a CI or EUM certificate). When issuer_path is given, the
 *  certificate must verify with that PEM certificate's key (-PROTO_E_INTEGRITY otherwise). -ENOENT (unreadable),
 *  -PROTO_E_MALFORMED (not a certificate), -PROTO_E_UNSUPPORTED (curve). */
int proto_ec_pub_from_cert_file(void *ctx, const char *path, const char *issuer_path, struct proto_ec_pub **out);

/*! Verify a plain r||s ECDSA-SHA256 signature over msg. 0 valid; -PROTO_E_INTEGRITY invalid; -PROTO_E_MALFORMED
 *  if sig_len is not PROTO_EC_SIG_LEN; -PROTO_E_CRYPTO. */
int proto_ec_verify(const struct proto_ec_pub *pk, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len);
