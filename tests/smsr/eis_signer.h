/*! \file eis_signer.h
 *  The EUM side of an EIS, for tests, the demo and operations tooling: issue the CERT.ECASD.ECKA of an eUICC and
 *  put the XML-DSig EumSignature (ECDSA-SHA256, raw r||s) on its EumSignedInfo, in the form smsr/es1_sig.h verifies.
 *  Never for production keys on a shared host.
 *
 *  CERT.ECASD.ECKA as issued here (GP '7F21', proto/gp_cert.h; crypto.md §A.5):
 *      93 = EID bytes 9..16 | 42 = SHA-1 of the EUM public key (its key identifier) | 5F20 = EID |
 *      95 = key usage (0080, key agreement) | 5F25 effective | 5F24 expiry | 7F49 { B0 point, F0 00 (P-256) } |
 *      5F37 = r||s by the EUM key over 93..7F49.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

enum eis_signer_ecasd {
	EIS_SIGNER_ECASD_ISSUE, /*!< write a fresh CERT.ECASD.ECKA into the Ecasd (default) */
	EIS_SIGNER_ECASD_KEEP,	/*!< leave the Ecasd as it is */
};

/*! EUM credentials and signing options; talloc object, the OpenSSL objects are freed with it. */
struct eis_signer {
	EVP_PKEY *key;	 /*!< SK.EUM.ECDSA */
	X509 *cert;	 /*!< CERT.EUM.ECDSA */
	X509 *chain;	 /*!< optional intermediate for KeyInfo */
	const char *uri; /*!< Reference URI, NULL: no attribute (SGP.02/njiwa) */
	bool keyinfo;	 /*!< put the EUM certificate (and chain) in KeyInfo; default true */
	bool inclusive;	 /*!< inclusive c14n instead of exclusive */
	enum eis_signer_ecasd ecasd;
	char effective[9]; /*!< ECASD certificate dates, YYYYMMDD; defaults 20260101 / 20460101 */
	char expiry[9];
	uint16_t ecasd_usage; /*!< key usage to certify (0x0080; other values for refusal tests) */
	bool ecasd_bad_sig;   /*!< flip a bit of the ECASD certificate signature (refusal tests) */
};

/*! Load the EUM key and certificate (PEM; they must match) and an optional chain certificate (NULL). */
int eis_signer_load(void *ctx, const char *key_pem, const char *cert_pem, const char *chain_pem,
		    struct eis_signer **out);

/*! Issue CERT.ECASD.ECKA for eid over the P-256 point (04||X||Y). *cert is a talloc child of ctx. */
int eis_signer_ecasd_cert(const struct eis_signer *s, void *ctx, const uint8_t eid[16], const uint8_t point[65],
			  uint8_t **cert, size_t *len);

/*! Sign the EumSignedInfo si_eum into the EumSignature element sig (its content is replaced). With
 *  EIS_SIGNER_ECASD_ISSUE the first Ecasd Certificate/Value is first replaced by a certificate over ecasd_point
 *  (NULL: a fresh random key), or a Certificate is added to the first Ecasd Keyset. Returns 0 or a negative errno
 *  (-EINVAL: no Eid / Ecasd where needed). */
int eis_signer_sign(const struct eis_signer *s, xmlNode *si_eum, xmlNode *sig, const uint8_t *ecasd_point);

/*! The first rps:EumSignedInfo under n (depth first) and the rps:EumSignature following it, or -ENOENT. */
int eis_signer_find(xmlNode *n, xmlNode **si_eum, xmlNode **sig);
