/*! \file gp_ecka.h
 *  Key establishment by GP Amendment E / A Scenario #3 with ECKA-EG, as SGP.02 uses it for the ISD-P keyset
 *  (ES8.EstablishISDPKeySet) and the ISD-R keyset of an SM-SR change (ES7) — crypto.md §A, sgp02.md §6.4/§6.7.
 *
 *      SM-DP                                                    ECASD (card)
 *      STORE DATA 80 E2 09 00 [3A01 L 7F21 CERT.DP.ECDSA]  -->  verify with PK.CI, answer 85 10 RC
 *      eSK/ePK, signed = 3A02 L A6 || 7F49 41 ePK || 0085 10 RC
 *      STORE DATA 80 E2 89 01 [3A02 L A6][7F49 41 ePK][5F37 40 r||s]
 *                                                          -->  verify with PK.DP, ShS = ECDH(SK.ECASD, ePK),
 *                                                               derive, answer [85 L DR] 86 10 receipt
 *      ShS = ECDH(eSK, PK.ECASD), derive, check the receipt: only then is the keyset established.
 *
 *  KeyData = X9.63-KDF-SHA256(ShS, SharedInfo = KUQ || key type || key length [|| DR]) split as receipt key ||
 *  key 1 [|| key 2 || key 3]; receipt = AES-CMAC(receipt key, A6 TLV as sent [|| 85 L DR]). ShS and KeyData
 *  stay inside ota/keystore_ec.c; the keys come out as ota_key handles.
 *
 *  Resolved ambiguities (crypto.md §A.6): the raw point form of 7F49 in the signed data and the APDU (WHTY ES7
 *  artefact); KUQ '10' = ENC/MAC/DEK (64 bytes of key data) and '5C' = one base key (32 bytes) are both
 *  accepted; with DR (scenario parameter b2) the receipt covers A6 || 85 L DR (njiwa; unverified); HostID and
 *  card identifiers in SharedInfo (b3) are refused with -PROTO_E_UNSUPPORTED; only AES keys of 16 bytes.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"
#include "proto/ec.h"
#include "ota/keystore.h"
#include "ota/keystore_ec.h"

/*! DGIs, tags and constants (GPCS Table 11-89, GP Amd A/E, SGP.02 as read by njiwa and WHTY). */
enum ota_ecka_tag {
	OTA_ECKA_DGI_CERT = 0x3A01,		/*!< certificate of the off-card entity */
	OTA_ECKA_DGI_KEYPARAMS = 0x3A02,	/*!< key agreement CRT */
	OTA_ECKA_DGI_RC = 0x0085,		/*!< random challenge, in the signed data only */
	OTA_ECKA_TAG_CRT = 0xA6,		/*!< key agreement control reference template */
	OTA_ECKA_TAG_SCENARIO = 0x90,		/*!< 03 || scenario parameters */
	OTA_ECKA_TAG_KUQ = 0x95,		/*!< key usage qualifier */
	OTA_ECKA_TAG_KEY_ACCESS = 0x96,
	OTA_ECKA_TAG_KEY_TYPE = 0x80,
	OTA_ECKA_TAG_KEY_LEN = 0x81,
	OTA_ECKA_TAG_KEY_ID = 0x82,
	OTA_ECKA_TAG_KVN = 0x83,
	OTA_ECKA_TAG_COUNTER = 0x91,		/*!< initial challenge counter (empty in every sample) */
	OTA_ECKA_TAG_SDIN = 0x45,
	OTA_ECKA_TAG_HOST_ID = 0x84,
	OTA_ECKA_TAG_EPK = 0x7F49,
	OTA_ECKA_TAG_SIGNATURE = 0x5F37,
	OTA_ECKA_TAG_RC_DR = 0x85,		/*!< random challenge (first response) / derivation random (second) */
	OTA_ECKA_TAG_RECEIPT = 0x86,
};

#define OTA_ECKA_SCENARIO_3	0x03
#define OTA_ECKA_KEY_TYPE_AES	0x88
#define OTA_ECKA_RC_LEN		16
#define OTA_ECKA_RECEIPT_LEN	16
#define OTA_ECKA_MAX_KEYS	3

/*! Scenario parameter bits (njiwa's reading, unverified; WHTY uses 09). */
enum ota_ecka_sp {
	OTA_ECKA_SP_DELETE_KEYS = 0x01,
	OTA_ECKA_SP_DR = 0x02,
	OTA_ECKA_SP_HOST_ID = 0x04,
	OTA_ECKA_SP_CERT = 0x08,
};

/*! Key usage qualifiers. */
enum ota_ecka_kuq {
	OTA_ECKA_KUQ_SC_KEYS = 0x10,	/*!< three secure channel keys: ENC (key id), MAC (+1), DEK (+2) */
	OTA_ECKA_KUQ_BASE_KEY = 0x5C,	/*!< one secure channel base key */
};

/*! The key agreement CRT 'A6'. Byte strings point into the decoded input (or caller memory when encoding). */
struct ota_ecka_crt {
	uint8_t scenario_params;	/*!< pp of 90 02 03 pp (enum ota_ecka_sp) */
	uint8_t kuq;			/*!< 95 */
	bool has_key_access;
	uint8_t key_access;		/*!< 96, optional */
	uint8_t key_type;		/*!< 80 */
	uint8_t key_len;		/*!< 81 */
	uint8_t key_id;			/*!< 82: identifier of the first key */
	uint8_t kvn;			/*!< 83: key version number */
	const uint8_t *counter;		/*!< 91 value (may be empty; always encoded) */
	size_t counter_len;
	const uint8_t *sdin;		/*!< 45, only with OTA_ECKA_SP_HOST_ID */
	size_t sdin_len;
	const uint8_t *host_id;		/*!< 84, only with OTA_ECKA_SP_HOST_ID */
	size_t host_id_len;
};

/*! The parts of a received 3A02 STORE DATA payload, pointing into it. */
struct ota_ecka_keyparams {
	const uint8_t *dgi;	/*!< the 3A02 DGI as received (tag, length, A6): start of the signed data */
	size_t dgi_len;
	const uint8_t *crt;	/*!< the A6 TLV */
	size_t crt_len;
	const uint8_t *epk;	/*!< 7F49 value: ePK 04||X||Y */
	size_t epk_len;
	const uint8_t *sig;	/*!< 5F37 value: r||s */
	size_t sig_len;
};

/*! The derived keyset (talloc children of the ctx given to the derivation). */
struct ota_ecka_keys {
	struct ota_key *receipt;			/*!< receipt key; free it once the receipt is checked */
	struct ota_key *key[OTA_ECKA_MAX_KEYS];		/*!< ENC, MAC, DEK (KUQ 10) or the base key (KUQ 5C) */
	unsigned nkeys;
};

/*! Encode the CRT as 'A6 L { 90 95 [96] 80 81 82 83 91 [45 84] }'. */
int ota_ecka_crt_encode(struct proto_buf *b, const struct ota_ecka_crt *crt);

/*! Decode exactly one A6 TLV (zero-copy). Mandatory: 90 (03 pp), 95, 80, 81, 82, 83; order free, duplicates
 *  and unknown tags refused. -PROTO_E_MALFORMED, -PROTO_E_TRUNCATED, -PROTO_E_TRAILING, -PROTO_E_UNSUPPORTED
 *  (scenario other than 03). */
int ota_ecka_crt_decode(struct ota_ecka_crt *crt, const uint8_t *in, size_t len);

/*! SharedInfo = KUQ || key type || key length [|| DR]. -EINVAL if DR presence does not match scenario bit b2,
 *  -PROTO_E_UNSUPPORTED for HostID (b3). */
int ota_ecka_shared_info(struct proto_buf *b, const struct ota_ecka_crt *crt, const uint8_t *dr, size_t dr_len);

/*! ECDH with own (eSK.DP.ECKA on the SM-DP, SK.ECASD.ECKA on the card) and peer, X9.63 KDF, split into
 *  out (ota_key handles under ctx). -PROTO_E_UNSUPPORTED for a KUQ, key type or length we do not support. */
int ota_ecka_derive(void *ctx, struct ota_eckey *own, const struct proto_ec_pub *peer,
		    const struct ota_ecka_crt *crt, const uint8_t *dr, size_t dr_len, struct ota_ecka_keys *out);

/*! Free the handles of a keyset and clear the struct (NULL-safe). */
void ota_ecka_keys_free(struct ota_ecka_keys *k);

/*! receipt = AES-CMAC(receipt key, A6 TLV [|| 85 L DR]), 16 bytes. */
int ota_ecka_receipt(struct ota_key *receipt_key, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *dr,
		     size_t dr_len, uint8_t out[OTA_ECKA_RECEIPT_LEN]);

/*! Recompute and compare in constant time: 0 or -PROTO_E_INTEGRITY. */
int ota_ecka_receipt_verify(struct ota_key *receipt_key, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *dr,
			    size_t dr_len, const uint8_t *receipt, size_t receipt_len);

/*! Signed data: '3A02' L A6 || '7F49' L ePK || '0085' L RC (DGI lengths 1 byte up to FE, else FF xxxx). */
int ota_ecka_signed_data(struct proto_buf *b, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			 size_t epk_len, const uint8_t *rc, size_t rc_len);

/*! Sign the key parameters with SK.DP.ECDSA / SK.SR.ECDSA: r||s over ota_ecka_signed_data(). */
int ota_ecka_keyparams_sign(struct ota_eckey *sk, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			    size_t epk_len, const uint8_t *rc, size_t rc_len, uint8_t sig[PROTO_EC_SIG_LEN]);

/*! STORE DATA payload '3A02' L A6 || '7F49' L ePK || '5F37' L r||s. */
int ota_ecka_keyparams_payload(struct proto_buf *b, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			       size_t epk_len, const uint8_t *sig, size_t sig_len);

/*! The whole STORE DATA APDU '80 E2 89 01 Lc <payload>' (last block, DGI, response expected, block 1; no Le).
 *  -EMSGSIZE if the payload exceeds 255 bytes. */
int ota_ecka_keyparams_apdu(struct proto_buf *b, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			    size_t epk_len, const uint8_t *sig, size_t sig_len);

/*! Card: split a 3A02 STORE DATA payload (exactly 3A02, 7F49, 5F37 in this order). */
int ota_ecka_keyparams_decode(struct ota_ecka_keyparams *kp, const uint8_t *payload, size_t len);

/*! Card: verify the key parameter signature with PK.DP.ECDSA (from the verified certificate) over the DGI as
 *  received || 7F49 ePK || 0085 RC. 0, -PROTO_E_INTEGRITY, -PROTO_E_MALFORMED. */
int ota_ecka_keyparams_verify(const struct proto_ec_pub *pk, const struct ota_ecka_keyparams *kp, const uint8_t *rc,
			      size_t rc_len);

/*! STORE DATA APDU '80 E2 09 00 Lc 3A01 L <certificate>' (not last block, DGI, response expected; no Le). */
int ota_ecka_cert_apdu(struct proto_buf *b, const uint8_t *cert, size_t cert_len);

/*! Card: the certificate from a 3A01 STORE DATA payload. */
int ota_ecka_cert_payload_decode(const uint8_t *payload, size_t len, const uint8_t **cert, size_t *cert_len);

/*! Card: first response '85 L RC'. */
int ota_ecka_challenge_encode(struct proto_buf *b, const uint8_t *rc, size_t rc_len);

/*! SM-DP: the random challenge of the first response (exactly one 85 TLV of 16 bytes). */
int ota_ecka_challenge_decode(const uint8_t *rsp, size_t len, const uint8_t **rc, size_t *rc_len);

/*! Card: second response '[85 L DR] 86 10 receipt'. */
int ota_ecka_receipt_rsp_encode(struct proto_buf *b, const uint8_t *dr, size_t dr_len,
				const uint8_t receipt[OTA_ECKA_RECEIPT_LEN]);

/*! SM-DP: split the second response; *dr = NULL if absent. */
int ota_ecka_receipt_rsp_decode(const uint8_t *rsp, size_t len, const uint8_t **dr, size_t *dr_len,
				const uint8_t **receipt);

/*! SM-DP step 3: generate eSK/ePK on curve, encode the CRT, sign with sk and write the 3A02 STORE DATA APDU.
 *  *esk (under ctx) must be kept for ota_ecka_dp_finish() and freed after it. */
int ota_ecka_dp_keyparams(void *ctx, struct ota_eckey *sk, uint8_t curve, const struct ota_ecka_crt *crt,
			  const uint8_t *rc, size_t rc_len, struct ota_eckey **esk, struct proto_buf *apdu);

/*! SM-DP step 5: parse the card's response, derive with (esk, PK.ECASD.ECKA), and check the receipt over the
 *  CRT as sent (crt_tlv). Keys are returned only if the receipt matches (the receipt key is already freed);
 *  -PROTO_E_INTEGRITY otherwise. */
int ota_ecka_dp_finish(void *ctx, struct ota_eckey *esk, const struct proto_ec_pub *pk_ecasd, const uint8_t *crt_tlv,
		       size_t crt_len, const uint8_t *rsp, size_t rsp_len, struct ota_ecka_keys *out);

/*! Card (ECASD) side of the 3A02 STORE DATA: decode, verify the signature with pk_dp (PK.DP/SR.ECDSA) over the
 *  payload and the RC it issued, check ePK is on the ECASD curve, derive with sk_ecasd (and dr, which the caller
 *  draws when the CRT asks for it: OTA_ECKA_SP_DR), and write the response '[85 DR] 86 receipt' to rsp. The
 *  keyset goes to keys (receipt key already freed). */
int ota_ecka_card_keyparams(void *ctx, struct ota_eckey *sk_ecasd, const struct proto_ec_pub *pk_dp,
			    const uint8_t *rc, size_t rc_len, const uint8_t *payload, size_t len, const uint8_t *dr,
			    size_t dr_len, struct ota_ecka_keys *keys, struct proto_buf *rsp);
