/* ES1.RegisterEIS acceptance rules shared by the SOAP endpoint and bulk import (see es1_register.h). */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "smsr/es1_register.h"
#include "ota/keystore_wrap.h"

static int s_fail(struct smsr_es_result *res, enum smsr_sc code, const char *subject_id, const char *message, int rc)
{
	smsr_es_result_fail(res, code, subject_id, message);
	return rc;
}

int smsr_es1_register_check(const struct smsr_es1_sig_ctx *sig, struct smsr_eis *eis, const char *eum_id,
			    const char *smsr_id, struct smsr_es_result *res, char *why, size_t why_len)
{
	struct smsr_es1_sig_result sres;
	char buf[256];
	int rc;

	if (!why || !why_len) {
		why = buf;
		why_len = sizeof(buf);
	}
	if (!sig)
		return s_fail(res, SMSR_SC_EIS_SIGNATURE, "Eis/EumSignature", "no CI certificate configured", -ENOKEY);
	rc = smsr_es1_sig_verify(sig, eis, &sres, why, why_len);
	if (rc == -ENOMEM || rc == -EIO)
		return s_fail(res, SMSR_SC_PROVIDER_ERROR, NULL, "signature check error", rc);
	if (rc < 0 && sres.ecasd_failed)
		return s_fail(res, SMSR_SC_EIS_SIGNATURE, "Eis/EumSignedInfo/Ecasd",
			      "ECASD certificate verification failed", rc);
	if (rc < 0)
		return s_fail(res, SMSR_SC_EIS_SIGNATURE, "Eis/EumSignature", "EUM signature verification failed", rc);
	if (!sres.eum_id_bound && eum_id && (!eis->eum_id || strcmp(eis->eum_id, eum_id))) {
		snprintf(why, why_len, "Eum-id %.64s is not the delivering EUM %.64s", eis->eum_id ? eis->eum_id : "",
			 eum_id);
		return s_fail(res, SMSR_SC_EIS_SIGNATURE, "Eis/EumSignedInfo/Eum-id",
			      "Eum-id is not the requesting EUM", -EPERM);
	}
	snprintf(why, why_len, "EumSignature valid (%s), %u ECASD certificate(s) valid", sres.eum_subject,
		 sres.n_ecasd_certs);
	talloc_free(eis->smsr_id);
	eis->smsr_id = talloc_strdup(eis, smsr_id);
	if (!eis->smsr_id)
		return s_fail(res, SMSR_SC_PROVIDER_ERROR, NULL, "out of memory", -ENOMEM);
	return 0;
}

void smsr_es1_register_store_result(int rc, struct smsr_es_result *res)
{
	if (rc == -EEXIST)
		s_fail(res, SMSR_SC_EID_IN_USE, NULL, "EID, ICCID or MSISDN already registered", rc);
	else if (rc == -EINVAL)
		s_fail(res, SMSR_SC_EIS_INVALID, NULL, "EIS inconsistent (duplicate or missing ICCID)", rc);
	else if (rc < 0)
		s_fail(res, SMSR_SC_PROVIDER_ERROR, NULL, "store error", rc);
}

int smsr_es1_key_import(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *value, size_t len, void *wctx,
			uint8_t **wrapped, size_t *wrapped_len)
{
	const struct smsr_es1_keys *k = data;
	uint8_t aad[OTA_WRAP_AAD_KEY_LEN];

	if (!k || !k->transport_key)
		return -EPERM;
	ota_wrap_aad_key(aad, ref->eid, ref->sd == SMSR_SD_ECASD ? 1 : 0, ref->kvn, ref->key_index,
			 (uint8_t)ref->comp_no);
	return ota_wrap_import_transport(k->master, k->transport_key, value, len, aad, sizeof(aad), wctx, wrapped,
					 wrapped_len);
}
