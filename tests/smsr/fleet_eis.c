/* EIS of a simulated eUICC (see fleet_eis.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "tests/smsr/fleet_eis.h"
#include "ota/keystore_wrap.h"

static const uint8_t isdr_aid[16] = {0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 1, 0};
static const uint8_t ecasd_aid[16] = {0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 2, 0};
static const uint8_t elf_aid[16] = {0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 0x0D, 0};
static const uint8_t mod_aid[16] = {0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 0x0E, 0};

static void set_aid(struct smsr_aid *a, const uint8_t *b)
{
	a->len = 16;
	memcpy(a->b, b, 16);
}

int fleet_eis_build(void *ctx, const struct sim_fleet_cfg *cfg, uint32_t index, const struct ota_wrap_master *m,
		    const char *mno_id, const char *smsr_id, struct smsr_eis **out)
{
	struct sim_identity id;
	struct smsr_eis *e;
	struct smsr_keyset *ks;
	uint64_t used = 0;
	unsigned i;
	int rc;

	*out = NULL;
	rc = sim_fleet_identity(cfg, index, &id);
	if (rc < 0)
		return rc;
	e = talloc_zero(ctx, struct smsr_eis);
	if (!e)
		goto nomem;
	memcpy(e->eid, id.eid, 16);
	e->eum_id = talloc_strdup(e, "1.3.6.1.4.1.99999.30");
	e->production_date = talloc_strdup(e, "2026-01-01T00:00:00Z");
	e->platform_type = talloc_strdup(e, "m2m-sm euicc-sim");
	e->platform_version = talloc_strdup(e, "1.0.0");
	set_aid(&e->isdp_loadfile_aid, elf_aid);
	set_aid(&e->isdp_module_aid, mod_aid);
	set_aid(&e->ecasd.aid, ecasd_aid);
	e->ecasd.role = SMSR_SD_ECASD;
	e->ecasd.keysets = talloc_zero_array(e, struct smsr_keyset, 1); /* SecurityDomainType needs one */
	if (!e->ecasd.keysets)
		goto nomem;
	e->ecasd.keysets[0].version = 0x73;
	e->ecasd.keysets[0].type = SMSR_KEYSET_CA;
	e->ecasd.n_keysets = 1;
	e->secure_packet_version = talloc_strdup(e, "13.1.0");
	e->remote_provisioning_version = talloc_strdup(e, "3.1.0");
	e->smsr_id = talloc_strdup(e, smsr_id);
	/* A simulated EUM's EIS: the XML-DSig EumSignature has the right shape but no valid value (the SM-SR does not
	 * verify EumSignature yet; test fleets are imported directly, not through ES1). */
	e->signed_info_xml =
		talloc_asprintf(e,
				"<rps:EumSignedInfo xmlns:rps=\"http://namespaces.gsma.org/esim-messaging/3\">"
				"<rps:Eid>%s</rps:Eid></rps:EumSignedInfo>",
				id.eid_hex);
	e->signature_xml = talloc_strdup(
		e, "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
		   "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
		   "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>"
		   "<ds:Reference><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
		   "<ds:DigestValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</ds:DigestValue></ds:Reference></"
		   "ds:SignedInfo>"
		   "<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>");
	snprintf(e->isdr_msisdn, sizeof(e->isdr_msisdn), "%s", id.msisdn);

	/* ISD-R: TAR 000001, SCP80 keyset KVN 1 with KIc, KID, KIK (AES, type 88) */
	set_aid(&e->isdr.aid, isdr_aid);
	e->isdr.role = SMSR_SD_ISDR;
	e->isdr.tars = talloc_zero_size(e, 3);
	e->isdr.keysets = talloc_zero_array(e, struct smsr_keyset, 1);
	if (!e->eum_id || !e->smsr_id || !e->isdr.tars || !e->isdr.keysets)
		goto nomem;
	e->isdr.tars[0][2] = 0x01;
	e->isdr.n_tars = 1;
	e->isdr.n_keysets = 1;
	ks = &e->isdr.keysets[0];
	ks->version = SIM_SCP80_KVN;
	ks->type = SMSR_KEYSET_SCP80;
	ks->keys = talloc_zero_array(e, struct smsr_key, 3);
	if (!ks->keys)
		goto nomem;
	ks->n_keys = 3;
	for (i = 0; i < 3; i++) {
		const uint8_t *raw = i == 0 ? id.kic : i == 1 ? id.kid : id.kik;
		struct smsr_key *k = &ks->keys[i];
		uint8_t aad[OTA_WRAP_AAD_KEY_LEN];
		struct ota_key *h;

		k->index = (uint8_t)(i + 1);
		k->comp = talloc_zero_array(e, struct smsr_key_component, 1);
		if (!k->comp)
			goto nomem;
		k->n_comp = 1;
		k->comp[0].type = 0x88;
		ota_wrap_aad_key(aad, id.eid, 0, SIM_SCP80_KVN, k->index, 0);
		rc = ota_wrap_seal(m, raw, SIM_KEY_LEN, aad, sizeof(aad), e, &k->comp[0].wrapped,
				   &k->comp[0].wrapped_len);
		if (rc < 0)
			goto fail;
		if (ota_key_import(NULL, raw, SIM_KEY_LEN, &h) == 0) {
			ota_key_kcv(h, k->kcv);
			k->kcv_len = 3;
			talloc_free(h);
		}
	}

	e->profiles = talloc_zero_array(e, struct smsr_profile, id.n_profiles);
	if (!e->profiles)
		goto nomem;
	e->n_profiles = id.n_profiles;
	for (i = 0; i < id.n_profiles; i++) {
		struct smsr_profile *p = &e->profiles[i];
		const struct sim_profile_init *pi = &id.profiles[i];

		snprintf(p->iccid, sizeof(p->iccid), "%s", pi->iccid);
		set_aid(&p->isdp_aid, pi->aid);
		p->mno_id = talloc_strdup(e, mno_id);
		p->fallback = pi->fallback;
		p->state = pi->lcs == 0x3F   ? SMSR_PROFILE_ENABLED
			   : pi->lcs == 0x1F ? SMSR_PROFILE_DISABLED
					     : SMSR_PROFILE_CREATED;
		if (p->state == SMSR_PROFILE_ENABLED)
			snprintf(p->msisdn, sizeof(p->msisdn), "%s", id.msisdn);
		p->allocated_memory = pi->quota;
		used += pi->quota;
		if (!p->mno_id)
			goto nomem;
	}
	e->available_memory = id.total_memory;
	e->remaining_memory = id.total_memory - used;
	sim_identity_wipe(&id);
	*out = e;
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	sim_identity_wipe(&id);
	talloc_free(e);
	return rc;
}
