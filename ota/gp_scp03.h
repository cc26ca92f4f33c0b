/*! \file gp_scp03.h
 *  GlobalPlatform Secure Channel Protocol '03' (GP Card Spec v2.2 Amendment D v1.1.1) and SCP03t, its TLV form
 *  that SGP.02 uses for the profile download to the ISD-P (crypto.md §B).
 *
 *  A struct ota_scp03 is one secure channel session, for either end: the host (SM-DP, off-card entity) uses
 *  *_wrap_cmd / *_unwrap_rsp, the card (eUICC simulator) uses *_ext_auth_check / *_unwrap_cmd / *_wrap_rsp. It is
 *  a talloc object owning its session keys (S-ENC, S-MAC, S-RMAC as ota_key handles, wiped on free), the MAC
 *  chaining value and the encryption counter.
 *
 *  Life cycle: ota_scp03_new() derives the session keys and both cryptograms from the static keys and the two
 *  challenges; the host sends EXTERNAL AUTHENTICATE (ota_scp03_ext_auth_encode / ota_scp03t_ext_auth_encode),
 *  the card checks it (ota_scp03_ext_auth_check / ota_scp03t_ext_auth_check); then the session is open with the
 *  agreed security level. Rules (Amd D 6.2): the MAC chaining value starts at 16 x 00 for EXTERNAL AUTHENTICATE
 *  and is the full 16-byte CMAC of the last command afterwards; the encryption counter is incremented before every
 *  command (TLV) after EXTERNAL AUTHENTICATE, with or without data, so the first uses 1; ICV = AES(S-ENC, counter)
 *  for commands and AES(S-ENC, 80 || counter[1..15]) for responses; data is padded 80 00.. (always) and encrypted
 *  before the MAC is computed; R-MAC = CMAC(S-RMAC, chaining value of the answered command || response data ||
 *  SW) and does not change the chain; no R-MAC on error status words or on the EXTERNAL AUTHENTICATE response.
 *  A failed MAC check closes the session (-PROTO_E_STATE afterwards).
 *
 *  SCP03t (SGP.02 via WHTY Scp03t.java and njiwa Scp03.java; mechanics confirmed by the SGP.22 BSP vectors):
 *  INITIALIZE UPDATE = '84 0A KVN KID HC', its response '84 20 <IU response>'; EXTERNAL AUTHENTICATE =
 *  '85 11 SL host-cryptogram C-MAC' with MAC input 16x00 || 85 11 SL host-cryptogram, response '85 00'; every
 *  further command is '86 L C MAC' with L = BER length of C plus the 8 MAC bytes and MAC = CMAC(S-MAC, chain ||
 *  86 || L || C). Responses are '86 00' (no data, no MAC) or '86 L C' R-MAC' with R-MAC = CMAC(S-RMAC, chain ||
 *  86 || L || C') as in WHTY; error responses carry a '9F..' tag. The same per-TLV mechanics with another tag
 *  and a given initial chaining value are SGP.22's BSP: see ota_scp03t_wrap_tlv().
 *
 *  Only short APDUs (Lc <= 255 after wrapping) are handled.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"
#include "ota/keystore.h"

/*! Security level bits, P1 of EXTERNAL AUTHENTICATE (Amd D Table 7-4): 00, 01, 03, 11, 13 and 33 are valid. */
enum ota_scp03_sl {
	OTA_SCP03_SL_C_MAC = 0x01,
	OTA_SCP03_SL_C_DEC = 0x02,
	OTA_SCP03_SL_R_MAC = 0x10,
	OTA_SCP03_SL_R_ENC = 0x20,
};

/*! Bits of the "i" parameter in the INITIALIZE UPDATE response (Amd D 5.1); 70 in SGP.02 ISD-P keysets. */
enum ota_scp03_i {
	OTA_SCP03_I_PSEUDO_RANDOM = 0x10,	/*!< card challenge is pseudo-random; sequence counter present */
	OTA_SCP03_I_R_MAC = 0x20,
	OTA_SCP03_I_R_ENC = 0x40,
};

/*! Derivation constants of the SCP03 KDF (Amd D Table 4-1). */
enum ota_scp03_dc {
	OTA_SCP03_DC_CARD_CRYPTOGRAM = 0x00,
	OTA_SCP03_DC_HOST_CRYPTOGRAM = 0x01,
	OTA_SCP03_DC_CARD_CHALLENGE = 0x02,
	OTA_SCP03_DC_S_ENC = 0x04,
	OTA_SCP03_DC_S_MAC = 0x06,
	OTA_SCP03_DC_S_RMAC = 0x07,
};

/*! SCP03t / BSP TLV tags. */
enum ota_scp03t_tag {
	OTA_SCP03T_TAG_IU = 0x84,	/*!< INITIALIZE UPDATE and its response */
	OTA_SCP03T_TAG_EA = 0x85,	/*!< EXTERNAL AUTHENTICATE and its response */
	OTA_SCP03T_TAG_DATA = 0x86,	/*!< protected command / response data */
};

#define OTA_SCP03_CHALLENGE_LEN	8
#define OTA_SCP03_CRYPTOGRAM_LEN	8
#define OTA_SCP03_MAC_LEN	8	/*!< truncated C-MAC / R-MAC on the wire */
#define OTA_SCP03_MCV_LEN	16	/*!< MAC chaining value */
#define OTA_SCP03_SEQ_LEN	3	/*!< sequence counter for pseudo-random challenges */
#define OTA_SCP03_KEYDIV_LEN	10

/*! Response data of INITIALIZE UPDATE (Amd D 7.1.2): 29 bytes, or 32 with the sequence counter. */
struct ota_scp03_iu_rsp {
	uint8_t key_div[OTA_SCP03_KEYDIV_LEN];	/*!< key diversification data */
	uint8_t kvn;				/*!< key version number */
	uint8_t scp;				/*!< SCP identifier, 03 */
	uint8_t i;				/*!< "i" parameter (enum ota_scp03_i) */
	uint8_t card_challenge[OTA_SCP03_CHALLENGE_LEN];
	uint8_t card_cryptogram[OTA_SCP03_CRYPTOGRAM_LEN];
	bool has_seq;				/*!< sequence counter present (i has OTA_SCP03_I_PSEUDO_RANDOM) */
	uint8_t seq[OTA_SCP03_SEQ_LEN];
};

/*! Session keys, for ota_scp03_session_key(). */
enum ota_scp03_key {
	OTA_SCP03_S_ENC,
	OTA_SCP03_S_MAC,
	OTA_SCP03_S_RMAC,
};

struct ota_scp03;

/*! INITIALIZE UPDATE command APDU '80 50 KVN 00 08 HC 00' (key identifier 00: the first key of the set). */
int ota_scp03_iu_cmd_encode(struct proto_buf *b, uint8_t kvn, const uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN]);

/*! Card side: parse an INITIALIZE UPDATE APDU (with or without Le). -PROTO_E_MALFORMED. */
int ota_scp03_iu_cmd_decode(const uint8_t *apdu, size_t len, uint8_t *kvn,
			    uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN]);

/*! Parse INITIALIZE UPDATE response data (without SW). -PROTO_E_MALFORMED on a length that does not match i,
 *  -PROTO_E_UNSUPPORTED if the SCP identifier is not 03. */
int ota_scp03_iu_rsp_decode(struct ota_scp03_iu_rsp *r, const uint8_t *data, size_t len);

/*! Card side: encode INITIALIZE UPDATE response data (the sequence counter only if has_seq). */
int ota_scp03_iu_rsp_encode(struct proto_buf *b, const struct ota_scp03_iu_rsp *r);

/*! Pseudo-random card challenge (Amd D 6.2.2.1): KDF(Key-ENC, 02, seq || invoking AID, 64 bits). Lets the
 *  SM-DP precompute the card challenge of an ISD-P with i = 70. */
int ota_scp03_card_challenge(struct ota_key *key_enc, const uint8_t seq[OTA_SCP03_SEQ_LEN], const uint8_t *aid,
			     size_t aid_len, uint8_t out[OTA_SCP03_CHALLENGE_LEN]);

/*! New session under ctx: S-ENC from key_enc (its length), S-MAC and S-RMAC from key_mac (its length), card and
 *  host cryptograms, all with context host challenge || card challenge. The static keys are only used during
 *  the call. -EINVAL if a key is not an AES key, -ENOMEM, errors of the keystore. */
int ota_scp03_new(void *ctx, struct ota_key *key_enc, struct ota_key *key_mac,
		  const uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN],
		  const uint8_t card_challenge[OTA_SCP03_CHALLENGE_LEN], struct ota_scp03 **out);

/*! New session that is already open, from given session keys (which it takes over: they become its talloc
 *  children), an initial MAC chaining value (NULL = 16 x 00) and a security level. s_rmac may be NULL if sl has no
 *  R-MAC. For protocols that share SCP03's secure messaging but not its handshake (SGP.22 BSP). */
int ota_scp03_new_from_keys(void *ctx, struct ota_key *s_enc, struct ota_key *s_mac, struct ota_key *s_rmac,
			    const uint8_t mcv[OTA_SCP03_MCV_LEN], uint8_t sl, struct ota_scp03 **out);

/*! The session's card / host cryptogram (8 bytes). */
const uint8_t *ota_scp03_card_cryptogram(const struct ota_scp03 *s);
const uint8_t *ota_scp03_host_cryptogram(const struct ota_scp03 *s);

/*! Host side: compare a received card cryptogram in constant time. 0 or -PROTO_E_INTEGRITY (session closed). */
int ota_scp03_check_card_cryptogram(struct ota_scp03 *s, const uint8_t cryptogram[OTA_SCP03_CRYPTOGRAM_LEN]);

/*! A session key handle (owned by the session), or NULL. */
struct ota_key *ota_scp03_session_key(const struct ota_scp03 *s, enum ota_scp03_key which);

/*! Security level once open (0 before). */
uint8_t ota_scp03_security_level(const struct ota_scp03 *s);

/*! Whether EXTERNAL AUTHENTICATE has succeeded and no MAC check has failed since. */
bool ota_scp03_is_open(const struct ota_scp03 *s);

/*! Host: EXTERNAL AUTHENTICATE APDU '84 82 SL 00 10 host-cryptogram C-MAC' (chain 16 x 00); opens the session.
 *  -EINVAL invalid SL, -PROTO_E_STATE if already open or closed. */
int ota_scp03_ext_auth_encode(struct ota_scp03 *s, uint8_t sl, struct proto_buf *b);

/*! Card: check an EXTERNAL AUTHENTICATE APDU (host cryptogram and C-MAC, in constant time) and open the session.
 *  -PROTO_E_MALFORMED, -PROTO_E_INTEGRITY (session closed), -EINVAL invalid SL. */
int ota_scp03_ext_auth_check(struct ota_scp03 *s, const uint8_t *apdu, size_t len);

/*! Host: wrap a plain short C-APDU (case 1-4) per the security level: C-DECRYPTION of the data if any, C-MAC,
 *  CLA with the secure messaging bit, Le kept. -PROTO_E_MALFORMED bad APDU, -PROTO_E_UNSUPPORTED extended
 *  length, -EMSGSIZE if the wrapped Lc exceeds 255, -PROTO_E_NOSPACE, -PROTO_E_STATE. */
int ota_scp03_wrap_cmd(struct ota_scp03 *s, const uint8_t *apdu, size_t len, struct proto_buf *out);

/*! Card: verify the C-MAC of a wrapped C-APDU, decrypt, and write the plain C-APDU (secure messaging bit cleared,
 *  Le kept). -PROTO_E_INTEGRITY (session closed), -PROTO_E_MALFORMED (bad padding or length; session closed). */
int ota_scp03_unwrap_cmd(struct ota_scp03 *s, const uint8_t *apdu, size_t len, struct proto_buf *out);

/*! Card: protect response data for the last command: R-ENCRYPTION of the data if any, R-MAC over chain ||
 *  data' || SW. Writes the response data field without SW (nothing at all for an error SW). */
int ota_scp03_wrap_rsp(struct ota_scp03 *s, const uint8_t *data, size_t len, uint16_t sw, struct proto_buf *out);

/*! Host: check the R-MAC of a response data field (without SW) and decrypt it. Error SWs pass through unchanged.
 *  -PROTO_E_INTEGRITY on a missing or wrong R-MAC (session closed), -PROTO_E_MALFORMED bad ciphertext. */
int ota_scp03_unwrap_rsp(struct ota_scp03 *s, const uint8_t *data, size_t len, uint16_t sw, struct proto_buf *out);

/*! SCP03t INITIALIZE UPDATE TLV '84 0A KVN KID HC'. */
int ota_scp03t_iu_encode(struct proto_buf *b, uint8_t kvn, uint8_t kid,
			 const uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN]);

/*! Card: parse the SCP03t INITIALIZE UPDATE TLV. */
int ota_scp03t_iu_decode(const uint8_t *tlv, size_t len, uint8_t *kvn, uint8_t *kid,
			 uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN]);

/*! Card: SCP03t INITIALIZE UPDATE response TLV '84 L <IU response data>'. */
int ota_scp03t_iu_rsp_encode(struct proto_buf *b, const struct ota_scp03_iu_rsp *r);

/*! Host: parse the SCP03t INITIALIZE UPDATE response TLV. -EREMOTEIO for a '9F..' error TLV. */
int ota_scp03t_iu_rsp_decode(struct ota_scp03_iu_rsp *r, const uint8_t *tlv, size_t len);

/*! Host: SCP03t EXTERNAL AUTHENTICATE TLV '85 11 SL host-cryptogram C-MAC'; opens the session. */
int ota_scp03t_ext_auth_encode(struct ota_scp03 *s, uint8_t sl, struct proto_buf *b);

/*! Card: check the SCP03t EXTERNAL AUTHENTICATE TLV and open the session. */
int ota_scp03t_ext_auth_check(struct ota_scp03 *s, const uint8_t *tlv, size_t len);

/*! Card: the EXTERNAL AUTHENTICATE response '85 00'. */
int ota_scp03t_ext_auth_rsp_encode(struct proto_buf *b);

/*! Host: check the EXTERNAL AUTHENTICATE response: 0 for '85 00', -EREMOTEIO for a '9F..' error TLV (e.g.
 *  '9F45 01 0x' in WHTY), -PROTO_E_MALFORMED otherwise. */
int ota_scp03t_ext_auth_rsp_check(const uint8_t *tlv, size_t len);

/*! Generic per-TLV protection (SCP03t '86', SGP.22 BSP '86'/'87'/'88'): counter++, C = AES-CBC(S-ENC,
 *  ICV(counter), pad80(data)) if encrypt and data is not empty (else C = data), L = len(C) + 8,
 *  MAC = CMAC(S-MAC, chain || tag || BER(L) || C), output tag || BER(L) || C || MAC[0..8], chain = MAC. */
int ota_scp03t_wrap_tlv(struct ota_scp03 *s, uint32_t tag, bool encrypt, const uint8_t *data, size_t len,
			struct proto_buf *out);

/*! Card: the inverse of ota_scp03t_wrap_tlv() for one TLV of the expected tag occupying tlv[0..len). */
int ota_scp03t_unwrap_tlv(struct ota_scp03 *s, uint32_t tag, bool decrypt, const uint8_t *tlv, size_t len,
			  struct proto_buf *out);

/*! Host: wrap a command as '86' (encrypted when the security level has C-DECRYPTION). */
int ota_scp03t_wrap_cmd(struct ota_scp03 *s, const uint8_t *data, size_t len, struct proto_buf *out);

/*! Card: unwrap a '86' command TLV. */
int ota_scp03t_unwrap_cmd(struct ota_scp03 *s, const uint8_t *tlv, size_t len, struct proto_buf *out);

/*! Card: response TLV for the last command: '86 00' without data, else '86 L C' [R-MAC]. */
int ota_scp03t_wrap_rsp(struct ota_scp03 *s, const uint8_t *data, size_t len, struct proto_buf *out);

/*! Host: check and decrypt a response TLV. -EREMOTEIO for a '9F..' error TLV (left for the caller to read),
 *  -PROTO_E_INTEGRITY (session closed), -PROTO_E_MALFORMED. */
int ota_scp03t_unwrap_rsp(struct ota_scp03 *s, const uint8_t *tlv, size_t len, struct proto_buf *out);
