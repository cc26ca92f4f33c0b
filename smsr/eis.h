/*! \file eis.h
 *  The eUICC Information Set (SGP.02 EISType, sgp02.md §3) as the SM-SR holds it in memory, plus the SM-SR's own
 *  bookkeeping for the eUICC. This is the contract between the EIS store (smsr/db_*.c, LMDB), the SOAP codecs
 *  (smsr/es1_*.c, smsr/es4_*.c: EIS <-> XML) and the ES5 procedures.
 *
 *  Ownership: a struct smsr_eis is a talloc tree; every pointer and array in it is a talloc child of the EIS
 *  (strings are talloc strings). Free the EIS to free everything.
 *
 *  Key material: key component values are NEVER held in clear here. `wrapped` is the keystore's at-rest form
 *  (encrypted under the SM-SR master key, see ota/keystore_wrap.h); only the keystore turns it into an
 *  ota_key handle. Serialisers to MNOs and SM-DPs never write keysets at all.
 *
 *  Fixed-size identifiers (EID, AIDs, TARs) are byte arrays with a length; OIDs, dates and versions are strings
 *  exactly as they appear on the wire (xs:dateTime as text, e.g. "2026-11-22T06:00:00Z").
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define SMSR_EID_LEN 16		/*!< bytes (EIDType allows up to 32, all real EIDs are 16) */
#define SMSR_AID_MAX 16		/*!< AIDType: 5..16 bytes */
#define SMSR_ICCID_MAX 20	/*!< digits (ICCIDType: 89[0-9fF]{4,18}) */
#define SMSR_MSISDN_MAX 15	/*!< digits */
#define SMSR_IMSI_MAX 15	/*!< digits */
#define SMSR_SIN_MAX 16		/*!< hexBinary16 */

struct smsr_aid {
	uint8_t len;
	uint8_t b[SMSR_AID_MAX];
};

/*! ProfileStateType */
enum smsr_profile_state {
	SMSR_PROFILE_CREATED,
	SMSR_PROFILE_DISABLED,
	SMSR_PROFILE_ENABLED,
};

/*! POL2RuleActionType */
enum smsr_pol2_action {
	SMSR_POL2_ENABLE,
	SMSR_POL2_DISABLE,
	SMSR_POL2_DELETE,
};

/*! POL2RuleQualificationType */
enum smsr_pol2_qual {
	SMSR_POL2_NOT_ALLOWED,
	SMSR_POL2_AUTO_DELETE,
};

/*! POL2RuleType (Subject is always PROFILE) */
struct smsr_pol2_rule {
	enum smsr_pol2_action action;
	enum smsr_pol2_qual qualification;
};

/*! KeysetUsageType */
enum smsr_keyset_usage {
	SMSR_KEYSET_UNSPECIFIED,	/*!< Type element absent */
	SMSR_KEYSET_SCP03,
	SMSR_KEYSET_SCP80,
	SMSR_KEYSET_SCP81,
	SMSR_KEYSET_TOKEN,		/*!< TokenGeneration */
	SMSR_KEYSET_RECEIPT,		/*!< ReceiptVerification */
	SMSR_KEYSET_CA,
};

/*! SDRoleType */
enum smsr_sd_role {
	SMSR_SD_ISDR,
	SMSR_SD_ECASD,
};

/*! KeyType/KeyComponents: one component, value wrapped by the keystore (never clear). */
struct smsr_key_component {
	uint8_t type;			/*!< GP key type coding (80 DES, 88 AES, 85 PSK-TLS, B0/B1 ECC ...) */
	uint8_t *wrapped;		/*!< keystore at-rest blob */
	size_t wrapped_len;
};

/*! KeyType */
struct smsr_key {
	uint8_t index;			/*!< KeyIndexType 0..127 */
	uint8_t kcv[3];			/*!< @kcv (public) */
	uint8_t kcv_len;
	struct smsr_key_component *comp;
	unsigned n_comp;
};

/*! GPCertificateType */
struct smsr_certificate {
	uint8_t index;
	char *ca_id;			/*!< OID */
	uint8_t *value;			/*!< GP '7F21' certificate as received */
	size_t len;
};

struct smsr_keyset {
	uint8_t version;		/*!< KVN 1..127 */
	enum smsr_keyset_usage type;
	uint64_t cntr;			/*!< Cntr from the EIS; the live SCP80 counter is in the store */
	struct smsr_key *keys;
	unsigned n_keys;
	struct smsr_certificate *certs;
	unsigned n_certs;
};

/*! SecurityDomainType (ISD-R and ECASD) */
struct smsr_sd {
	struct smsr_aid aid;
	uint8_t (*tars)[3];		/*!< explicit TARs (the implicit TAR is AID bytes 13..15) */
	unsigned n_tars;
	uint8_t sin[SMSR_SIN_MAX], sin_len;
	uint8_t sdin[SMSR_SIN_MAX], sdin_len;
	enum smsr_sd_role role;
	struct smsr_keyset *keysets;
	unsigned n_keysets;
};

/*! ProfileInfo */
struct smsr_profile {
	char iccid[SMSR_ICCID_MAX + 1];
	struct smsr_aid isdp_aid;
	char *mno_id;			/*!< OID of the owning MNO: the only requester allowed to see/act on it */
	bool fallback;
	char imsi[SMSR_IMSI_MAX + 1];	/*!< SubscriptionAddress/Imsi, "" when absent */
	char msisdn[SMSR_MSISDN_MAX + 1];	/*!< SubscriptionAddress/Msisdn, "" when absent */
	enum smsr_profile_state state;
	char *smdp_id;			/*!< NULL when absent */
	char *profile_type;		/*!< NULL when absent */
	uint64_t allocated_memory;
	bool has_free_memory;
	uint64_t free_memory;
	struct smsr_pol2_rule *pol2;
	unsigned n_pol2;
};

/*! AuditTrailRecordType */
struct smsr_audit_record {
	char *operation_date;		/*!< xs:dateTime */
	uint16_t operation_type;	/*!< e.g. 0x0200 EnableProfile, 0x0002 "change succeeded" */
	char *requester_id;		/*!< NULL when absent */
	int status;			/*!< enum smsr_exec_status, -1 when absent */
	struct smsr_aid isdp_aid;	/*!< len 0 when absent */
	char iccid[SMSR_ICCID_MAX + 1];	/*!< "" when absent */
	uint8_t imei[8], imei_len;
	uint8_t meid[7], meid_len;
};

/*! StatusType */
enum smsr_exec_status {
	SMSR_EXEC_SUCCESS,		/*!< EXECUTED_SUCCESS */
	SMSR_EXEC_WITH_WARNING,		/*!< EXECUTED_WITHWARNING */
	SMSR_EXEC_FAILED,		/*!< FAILED */
	SMSR_EXEC_EXPIRED,		/*!< EXPIRED */
};

struct smsr_property {
	char *key;
	char *value;
};

struct smsr_eis {
	/* EumSignedInfo: immutable after registration */
	uint8_t eid[SMSR_EID_LEN];
	char *eum_id;
	char *production_date;
	char *platform_type;
	char *platform_version;
	struct smsr_aid isdp_loadfile_aid;
	struct smsr_aid isdp_module_aid;
	struct smsr_sd ecasd;
	bool cattp_support;
	char *cattp_version;		/*!< NULL when absent */
	bool http_support;
	char *http_version;		/*!< NULL when absent */
	char *secure_packet_version;
	char *remote_provisioning_version;
	/*! EumSignedInfo and EumSignature exactly as registered (canonical XML text), kept for ES7 handover and
	 *  re-verification; NULL for an EIS not received over ES1 */
	char *signed_info_xml;
	char *signature_xml;

	uint64_t remaining_memory;
	uint64_t available_memory;	/*!< AvailableMemoryForProfiles */
	char *last_audit_date;		/*!< NULL when absent */
	char *smsr_id;
	struct smsr_profile *profiles;
	unsigned n_profiles;
	struct smsr_sd isdr;
	struct smsr_audit_record *audit;
	unsigned n_audit;
	struct smsr_property *props;
	unsigned n_props;

	/* SM-SR bookkeeping (not in EISType) */
	char isdr_msisdn[SMSR_MSISDN_MAX + 1];	/*!< SMS address of the eUICC (that of the enabled profile) */
	uint16_t last_notif_seq;	/*!< last Default Notification sequence number accepted */
	bool has_notif_seq;
	uint8_t imei[8], imei_len;
	char *last_attach;		/*!< xs:dateTime of the last first-attach/notification, NULL if never */
	bool handover_pending;
};

/*! Value-string names (wire spelling) of the enums, and their parsers (0 or -EINVAL). */
const char *smsr_profile_state_name(enum smsr_profile_state s);
int smsr_profile_state_parse(const char *s, enum smsr_profile_state *out);
const char *smsr_pol2_action_name(enum smsr_pol2_action a);
int smsr_pol2_action_parse(const char *s, enum smsr_pol2_action *out);
const char *smsr_pol2_qual_name(enum smsr_pol2_qual q);
int smsr_pol2_qual_parse(const char *s, enum smsr_pol2_qual *out);
const char *smsr_keyset_usage_name(enum smsr_keyset_usage u);
int smsr_keyset_usage_parse(const char *s, enum smsr_keyset_usage *out);
const char *smsr_sd_role_name(enum smsr_sd_role r);
int smsr_sd_role_parse(const char *s, enum smsr_sd_role *out);
const char *smsr_exec_status_name(enum smsr_exec_status s);
int smsr_exec_status_parse(const char *s, enum smsr_exec_status *out);

/*! The profile with this ICCID / ISD-P AID, or NULL. */
struct smsr_profile *smsr_eis_profile_by_iccid(const struct smsr_eis *e, const char *iccid);
struct smsr_profile *smsr_eis_profile_by_aid(const struct smsr_eis *e, const uint8_t *aid, size_t aid_len);
/*! The enabled profile, or NULL. */
struct smsr_profile *smsr_eis_profile_enabled(const struct smsr_eis *e);
/*! Whether a POL2 rule forbids (Not-Allowed) this action on the profile. */
bool smsr_profile_pol2_forbids(const struct smsr_profile *p, enum smsr_pol2_action a);
/*! Whether a POL2 rule asks Auto-Delete after this action (e.g. DISABLE). */
bool smsr_profile_pol2_auto_delete(const struct smsr_profile *p, enum smsr_pol2_action a);

/*! A deep copy of e under ctx (NULL on allocation failure). */
struct smsr_eis *smsr_eis_dup(void *ctx, const struct smsr_eis *e);
/*! Field-by-field equality (tests, round trips). */
bool smsr_eis_equal(const struct smsr_eis *a, const struct smsr_eis *b);

/*! FNV-1a of an EID, for in-memory hash tables keyed by eUICC. */
uint32_t smsr_eid_hash(const uint8_t eid[SMSR_EID_LEN]);
