/*! \file es1_sig.h
 *  Verification of the EumSignature of an EIS (ES1.RegisterEIS, ES7 handover; sgp02.md §2.2, crypto.md §D).
 *
 *  What is checked, on the canonical texts struct smsr_eis keeps (signed_info_xml, signature_xml; eis_xml.h):
 *  - signature_xml is an XML-DSig SignatureType (root rps:EumSignature or ds:Signature) holding ds:SignedInfo,
 *    ds:SignatureValue, an optional ds:KeyInfo and ds:Object*; SignedInfo holds CanonicalizationMethod,
 *    SignatureMethod and exactly one Reference;
 *  - SignatureMethod is ecdsa-sha256 (xmldsig-more), DigestMethod is SHA-256 (xmlenc#sha256);
 *  - CanonicalizationMethod and the Reference transforms are Exclusive c14n 1.0 or Canonical XML 1.0 (inclusive),
 *    without comments and without InclusiveNamespaces (see "c14n" below); the enveloped-signature transform is
 *    accepted as a no-op (EumSignature is never inside EumSignedInfo); any other transform (XPath, XSLT,
 *    base64, ...) is refused;
 *  - Reference form: the Reference identifies EumSignedInfo by the EIS structure, not by dereferencing. Accepted:
 *    no URI attribute (SGP.02 as implemented by njiwa), URI="" (taken to mean "the EumSignedInfo of this EIS"),
 *    and URI="#id" when the EumSignedInfo element itself carries Id="id" (or ID/id). Everything else (any scheme,
 *    relative path, #xpointer(...), an id not on EumSignedInfo) is refused with -ENOTSUP: nothing is ever fetched;
 *  - DigestValue = SHA-256 of the canonical EumSignedInfo, compared in constant time;
 *  - SignatureValue = base64 of raw r||s, each half the size of the curve order (64 bytes for P-256); a DER value
 *    is refused. Verified with OpenSSL EVP over the canonical ds:SignedInfo;
 *  - the EUM certificate is the first ds:X509Data/ds:X509Certificate of KeyInfo (further ones are untrusted
 *    intermediates); without one, each configured EUM certificate is tried. It must chain to the CI (the only
 *    trust anchor), be valid now (or at the configured time), have an EC key, and when it has a keyUsage
 *    extension, allow digitalSignature;
 *  - Eum-id: when the EUM certificate carries subjectAltName registeredID entries, one of them must equal the
 *    Eum-id of EumSignedInfo (else -EKEYREJECTED). The test PKI and most EUM certificates carry no OID, so the
 *    binding is then reported as not checked (smsr_es1_sig_result.eum_id_bound = false); the caller should bind
 *    Eum-id to the authenticated requester instead (ES1: Eum-id == the EUM's configured entity id).
 *
 *  c14n: the stored texts are exclusive c14n of each element taken alone. Exclusive c14n is context-free, so it
 *  reproduces exactly what the EUM signed. Inclusive c14n is applied to the stored text as declared, which equals
 *  the signer's bytes only when EumSignedInfo (resp. ds:SignedInfo) had no other namespace in scope than those it
 *  uses (e.g. an EIS signed as a standalone document); otherwise the digest fails (fail closed, never a false
 *  accept). The XML is implemented with libxml2 (xmlC14NExecute) and OpenSSL EVP rather than libxmlsec1, so that
 *  no URI resolver, transform registry or global xmlsec state is involved.
 *
 *  Cache: an EUM certificate set (the DER certificates of KeyInfo, in order) that passed the chain and keyUsage
 *  checks is remembered (16 entries, SHA-256 of the bytes as key) with the intersection of the validity periods of
 *  the EUM, KeyInfo intermediates and CI certificates; the same bytes at a check time inside that window skip
 *  the X.509 decode and path validation. The signature and everything else are verified every time. A fleet file
 *  from one EUM carries the same certificate thousands of times.
 *
 *  ECASD certificate (sgp02.md §3, crypto.md §A.5): once the EumSignature is valid, every Certificate of the ECASD
 *  keysets (at least one, else -ENOKEY) must be a GP '7F21' CERT.ECASD.ECKA: decodable without trailing bytes
 *  (-EBADMSG), key usage '0080' key agreement (-EKEYREJECTED), a supported curve ('7F49/F0', P-256 when absent;
 *  -ENOTSUP) with a valid point (-EBADMSG), effective/expiry dates around the check date (-EKEYEXPIRED), and a
 *  '5F37' signature by the same EUM key that signed the EIS (-EKEYREJECTED). The '42' CA identifier and the '5F20'
 *  subject are not compared with anything: SGP.02 does not say what they must equal (crypto.md §A.5), and the
 *  EUM signature already binds the certificate. res->ecasd_failed tells this part's failures apart.
 *
 *  Input is hostile: the signature text is re-parsed with smsr_soap_parse_fragment() (no network, no DTD, no
 *  entities, size bounds). No key material is logged; err receives a one-line reason.
 *
 *  Return codes (mapped once here): 0 valid; -EINVAL bad arguments or no signature stored; -EBADMSG malformed
 *  Signature (structure, base64, lengths); -ENOTSUP unsupported algorithm, transform or Reference URI;
 *  -EKEYREJECTED digest or signature mismatch, Eum-id mismatch, unusable EUM key; -ENOKEY no EUM certificate,
 *  or it does not chain to the CI; -EKEYEXPIRED EUM (or chain) certificate expired or not yet valid; -ENOMEM;
 *  -EIO other library failures. Every one but -ENOMEM/-EIO is "EUM signature verification failed" (8.6 / 6.1).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "smsr/eis.h"

/*! Trust material, created once (configuration load) and shared by every verification. Opaque; talloc. */
struct smsr_es1_sig_ctx;

/*! Load the CI certificate (PEM file, required; it must be a CA certificate) and optionally every EUM certificate
 *  (PEM, files named *.crt or *.pem) of eum_cert_dir (NULL or "" for none). The EUM certificates are only used
 *  when a signature carries no certificate; they are chain-checked at each use. *out is a talloc child of ctx.
 *  Returns 0, -ENOENT (file or directory missing), -EBADMSG (not a PEM certificate), -EINVAL (CI not a CA),
 *  -ENOMEM or -EIO; err says which file. */
int smsr_es1_sig_ctx_new(void *ctx, const char *ci_cert_file, const char *eum_cert_dir,
			 struct smsr_es1_sig_ctx **out, char *err, size_t err_len);

/*! Check certificates at time t instead of the current time (0: current time again). For tests and re-verification
 *  of old registrations. */
void smsr_es1_sig_ctx_set_time(struct smsr_es1_sig_ctx *c, time_t t);

/*! Number of EUM certificates loaded from eum_cert_dir. */
unsigned smsr_es1_sig_ctx_eum_count(const struct smsr_es1_sig_ctx *c);

/*! Key usage bit of CERT.ECASD.ECKA ('95' = '0080', key agreement). */
#define SMSR_ECASD_KEY_USAGE_KEY_AGREEMENT 0x0080

/*! Verified-EUM cache counters (KeyInfo certificate sets found already chained to the CI, or not). */
void smsr_es1_sig_ctx_cache_stats(const struct smsr_es1_sig_ctx *c, unsigned long *hits, unsigned long *misses);

/*! What a verification found (for the log and the status code). */
struct smsr_es1_sig_result {
	char eum_subject[256];		/*!< RFC 2253 subject of the EUM certificate used */
	bool eum_id_bound;		/*!< true: the certificate names the Eum-id (SAN registeredID) */
	bool from_keyinfo;		/*!< true: the certificate came from KeyInfo, false: from eum_cert_dir */
	bool ecasd_failed;		/*!< the EumSignature was valid but the ECASD certificate was refused */
	unsigned n_ecasd_certs;		/*!< CERT.ECASD.ECKA checked */
	uint8_t ecasd_curve;		/*!< key parameter reference of the (last) ECASD key (enum proto_ec_ref) */
};

/*! Verify the EumSignature of e (see the file comment). res may be NULL; err (may be NULL) gets the reason of a
 *  failure. Thread-safe for concurrent calls on the same context. */
int smsr_es1_sig_verify(const struct smsr_es1_sig_ctx *c, const struct smsr_eis *e, struct smsr_es1_sig_result *res,
			char *err, size_t err_len);
