/*! \file es8.h
 *  ES8 on the SM-DP side (sgp02.md §2.8, §6.7; crypto.md §A, §B.2): the scripts the SM-DP sends to a new ISD-P
 *  through ES3.SendData, and the checks of what comes back. Transport-free: the caller (the download procedure)
 *  carries each Data to the SM-SR and feeds the EuiccResponseData back.
 *
 *  Steps (enum smdp_es8_step), each one ES3.SendData:
 *  - KEYEST1: 22{INSTALL [for personalization] of the ISD-P} 22{STORE DATA 3A01 CERT.DP.ECDSA}; the ECASD answers
 *    '85 10 <random challenge>'.
 *  - KEYEST2: 22{STORE DATA 3A02 A6-CRT 7F49 ePK.DP.ECKA 5F37 signature} 22{84 0A KVN 00 host challenge}: the
 *    answer '[85 DR] 86 10 receipt' is verified with the keys derived from ECDH(eSK.DP.ECKA, PK.ECASD.ECKA) (only
 *    then the SCP03 keyset exists), then the card cryptogram of the SCP03t INITIALIZE UPDATE answer that the card
 *    ran on that keyset in the same script.
 *  - LOAD: 22{85 EXTERNAL AUTHENTICATE} (first time) and 22{86 segment}... of the profile package, as many as fit in
 *    max_data bytes; every response TLV is checked (R-MAC), the last carries the EUICCResponse.
 *  - DONE (EUICCResponse ok) or FAILED (why says what; the ISD-P must then be deleted: sgp02.md §6.7 error
 *    sub-routine).
 *  The ephemeral key, the derived keys and the SCP03 session live under the handle and die with it. Nothing here
 *  logs.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/buf.h"
#include "proto/ec.h"

struct ota_eckey;

enum smdp_es8_step {
	SMDP_ES8_KEYEST1,
	SMDP_ES8_KEYEST2,
	SMDP_ES8_LOAD,
	SMDP_ES8_DONE,
	SMDP_ES8_FAILED,
};

const char *smdp_es8_step_name(enum smdp_es8_step s);

/*! Why a step failed (for the ES2 result and the log). */
enum smdp_es8_error {
	SMDP_ES8_E_NONE,
	SMDP_ES8_E_CERT_REFUSED, /*!< the ECASD refused CERT.DP.ECDSA (or INSTALL [for personalization]) */
	SMDP_ES8_E_RECEIPT,	 /*!< receipt mismatch or key agreement refused */
	SMDP_ES8_E_SCP03T,	 /*!< SCP03t error: cryptogram, MAC, or a '9F' error TLV from the ISD-P */
	SMDP_ES8_E_PROFILE,	 /*!< EUICCResponse reports an error (e.g. memory) or installation aborted */
	SMDP_ES8_E_MALFORMED,	 /*!< the response script could not be read */
};

const char *smdp_es8_error_name(enum smdp_es8_error e);

struct smdp_es8_cfg {
	uint8_t kvn;	  /*!< KVN of the new ISD-P keyset (30) */
	uint8_t scenario; /*!< scenario parameters (09: certificate verification precedes, delete keys) */
	uint8_t kuq;	  /*!< key usage qualifier: 10 (ENC/MAC/DEK) or 5C (one base key) */
	size_t segment;	  /*!< plaintext bytes of the profile per '86' TLV */
	size_t max_data;  /*!< bytes of one SendData Data (the SMS packet the SM-SR builds from it) */
};

void smdp_es8_cfg_default(struct smdp_es8_cfg *c);

struct smdp_es8;

/*! A session for one download under ctx. sk_dp (SK.DP.ECDSA) is borrowed; cert_dp (CERT.DP.ECDSA '7F21' TLV),
 *  pk_ecasd (from the verified CERT.ECASD.ECKA), the ISD-P AID and the personalised package are copied. */
int smdp_es8_new(void *ctx, const struct smdp_es8_cfg *cfg, struct ota_eckey *sk_dp, const uint8_t *cert_dp,
		 size_t cert_len, const struct proto_ec_pub *pk_ecasd, const uint8_t *isdp_aid, size_t aid_len,
		 const uint8_t *profile, size_t profile_len, struct smdp_es8 **out);

enum smdp_es8_step smdp_es8_step(const struct smdp_es8 *s);
enum smdp_es8_error smdp_es8_error(const struct smdp_es8 *s);
/*! Profile bytes acknowledged by the ISD-P so far, of the package size. */
size_t smdp_es8_loaded(const struct smdp_es8 *s);

/*! The Data of the next ES3.SendData into b ('22' TLVs); *more_to_do: further SendData follow. -EINVAL when the
 *  session is DONE or FAILED, -PROTO_E_NOSPACE, -PROTO_E_CRYPTO. */
int smdp_es8_next(struct smdp_es8 *s, struct proto_buf *b, bool *more_to_do);

/*! The EuiccResponseData of that SendData (the 'AB' response script). 0: the step succeeded (the session moved
 *  on); -EPROTO: it failed (step FAILED, smdp_es8_error() says why, why the details). */
int smdp_es8_response(struct smdp_es8 *s, const uint8_t *rsp, size_t len, char *why, size_t cap);
