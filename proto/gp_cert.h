/*! \file gp_cert.h
 *  GlobalPlatform-format certificates, tag '7F21' (CERT.DP.ECDSA, CERT.SR.ECDSA, CERT.ECASD.ECKA; SGP.02 Tables
 *  77/78 as cited by njiwa, GP Amd A; crypto.md §A.5):
 *
 *      7F21 L { 93 serial | 42 CA identifier | 5F20 subject identifier | 95 key usage (1-2 bytes)
 *               [5F25 effective date] | 5F24 expiration date | [45 ...] | [73 discretionary data]
 *               | 7F49 { B0 04||X||Y [F0 key parameter reference] } | 5F37 r||s }
 *
 *  Decoding is zero-copy: struct proto_gp_cert points into the input, which must outlive it. The signed data is
 *  the raw input from the '93' tag up to and including the '7F49' TLV, exactly as received (never re-encoded).
 *  The tags above must appear in this order and only once; unknown tags before '7F49' are tolerated (they are
 *  covered by the signature) and ignored; '5F37' must be the last TLV. Dates are BCD YYYYMMDD (4 bytes) or,
 *  tolerated, YYMMDD (3 bytes, read as 20YY).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"

struct proto_ec_pub;

/*! Certificate tags (GP Amd A / SGP.02). */
enum proto_gp_cert_tag {
	PROTO_GP_CERT_TAG = 0x7F21,
	PROTO_GP_CERT_SERIAL = 0x93,
	PROTO_GP_CERT_CA_ID = 0x42,
	PROTO_GP_CERT_SUBJECT = 0x5F20,
	PROTO_GP_CERT_KEY_USAGE = 0x95,
	PROTO_GP_CERT_EFFECTIVE = 0x5F25,
	PROTO_GP_CERT_EXPIRY = 0x5F24,
	PROTO_GP_CERT_TAG_45 = 0x45,		/*!< ECASD image number / SDIN in njiwa's reading */
	PROTO_GP_CERT_DISCRETIONARY = 0x73,
	PROTO_GP_CERT_PUBKEY = 0x7F49,
	PROTO_GP_CERT_PUBKEY_Q = 0xB0,
	PROTO_GP_CERT_PUBKEY_REF = 0xF0,
	PROTO_GP_CERT_SIGNATURE = 0x5F37,
};

/*! A field of the certificate: p points into the decoded input, p == NULL means absent. */
struct proto_gp_field {
	const uint8_t *p;
	size_t len;
};

struct proto_gp_cert {
	struct proto_gp_field serial;		/*!< 93, mandatory */
	struct proto_gp_field ca_id;		/*!< 42, mandatory */
	struct proto_gp_field subject;		/*!< 5F20, mandatory */
	struct proto_gp_field key_usage;	/*!< 95, mandatory, 1 or 2 bytes ('88' SM-DP/SR, '0080' ECASD) */
	struct proto_gp_field effective;	/*!< 5F25, optional */
	struct proto_gp_field expiry;		/*!< 5F24, mandatory */
	struct proto_gp_field tag45;		/*!< 45, optional */
	struct proto_gp_field discretionary;	/*!< 73, optional ('C8 01 01' SM-DP, 'C8 01 02' SM-SR) */
	struct proto_gp_field pk;		/*!< 7F49/B0: public key point, mandatory */
	bool has_curve_ref;			/*!< 7F49/F0 present */
	uint8_t curve_ref;			/*!< 7F49/F0 key parameter reference (enum proto_ec_ref) */
	struct proto_gp_field signature;	/*!< 5F37 r||s, mandatory */
	struct proto_gp_field signed_data;	/*!< raw bytes from '93' to the end of '7F49' (decode only) */
	uint32_t effective_date;		/*!< YYYYMMDD as a decimal number, 0 if absent (decode only) */
	uint32_t expiry_date;			/*!< YYYYMMDD as a decimal number (decode only) */
};

/*! Decode exactly one '7F21' certificate occupying in[0..len). Errors: -PROTO_E_TRUNCATED, -PROTO_E_MALFORMED
 *  (wrong outer tag, mandatory field missing, duplicate or misordered field, bad date, bad '7F49' content,
 *  empty or odd-length signature), -PROTO_E_TRAILING (bytes after the certificate or after '5F37'),
 *  -PROTO_E_UNSUPPORTED (over-long tags). On error c is zeroed. */
int proto_gp_cert_decode(struct proto_gp_cert *c, const uint8_t *in, size_t len);

/*! Verify the certificate signature (ECDSA-SHA256 over signed_data) with the issuer's public key. 0 valid;
 *  -PROTO_E_INTEGRITY invalid; -PROTO_E_MALFORMED signature not of the issuer curve's r||s length. */
int proto_gp_cert_verify(const struct proto_gp_cert *c, const struct proto_ec_pub *issuer);

/*! The certified public key as a proto_ec_pub under ctx, on the curve named by '7F49/F0' or, if absent,
 *  default_ref. Errors as proto_ec_pub_new(). */
int proto_gp_cert_pubkey(void *ctx, const struct proto_gp_cert *c, uint8_t default_ref, struct proto_ec_pub **out);

/*! Encode the signed part (93 .. 7F49) from the fields of c, in the canonical order; optional fields are written
 *  when their p is not NULL, F0 when has_curve_ref. Errors through proto_buf_status(). */
int proto_gp_cert_put_signed_data(struct proto_buf *b, const struct proto_gp_cert *c);

/*! Encode the whole '7F21' certificate from the fields of c (signed part as above, then '5F37'). */
int proto_gp_cert_encode(struct proto_buf *b, const struct proto_gp_cert *c);
