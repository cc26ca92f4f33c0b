/*! \file es1_register.h
 *  ES1.RegisterEIS (sgp02.md §3.9), shared by the SOAP endpoint (es4_server.c) and bulk onboarding
 *  (`smsr-ctl eis import`, es1_import.h): what makes a decoded EIS acceptable, and how the store's answer maps to a
 *  FunctionExecutionStatus.
 *
 *  smsr_es1_register_check():
 *  - the EumSignature and the ECASD certificate verify (es1_sig.h); a refusal is FAILED 8.6 / 6.1 with
 *    SubjectIdentifier Eis/EumSignature or Eis/EumSignedInfo/Ecasd; a library failure is 1.2 / 4.2;
 *  - Eum-id: when the EUM certificate names Eum-ids (SAN registeredID) the verifier already bound it; otherwise it
 *    must equal eum_id, the EUM that delivers the EIS (the authenticated ES1 requester, or the operator's --eum),
 *    else 8.6 / 6.1 on Eis/EumSignedInfo/Eum-id. eum_id NULL accepts any Eum-id signed by a CI-chained EUM;
 *  - the EIS is then marked as managed by this SM-SR (Smsr-id).
 *  Nothing is stored. why (optional) gets the verifier's one-line reason for the log.
 */
#pragma once
#include <stddef.h>
#include "smsr/eis.h"
#include "smsr/eis_xml.h"
#include "smsr/es_msg.h"
#include "smsr/es1_sig.h"

struct ota_wrap_master;
struct ota_key;

/*! 0 when the EIS may be stored (res untouched); otherwise res is FAILED with its status code and the return is the
 *  verifier's negative errno (-EPERM for an Eum-id mismatch). */
int smsr_es1_register_check(const struct smsr_es1_sig_ctx *sig, struct smsr_eis *eis, const char *eum_id,
			    const char *smsr_id, struct smsr_es_result *res, char *why, size_t why_len);

/*! Map the result of smsr_db_eis_insert()/import for one EIS: 0 → res untouched; -EEXIST → 8.1.1 / 3.3 (EID,
 *  ICCID or MSISDN already registered); -EINVAL → 8.6 / 2.1; anything else → 1.2 / 4.2. */
void smsr_es1_register_store_result(int rc, struct smsr_es_result *res);

/*! Key import for smsr_eis_xml_decode(): @value is under the EUM transport key (ota_wrap_import_transport); the
 *  keystore re-seals it under the master key. data is a struct smsr_es1_keys. -EPERM without a transport key. */
struct smsr_es1_keys {
	const struct ota_wrap_master *master;
	struct ota_key *transport_key; /*!< NULL: EIS carrying keys are refused */
};
int smsr_es1_key_import(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *value, size_t len, void *wctx,
			uint8_t **wrapped, size_t *wrapped_len);
