/*! \file eis_xml.h
 *  EIS <-> XML per the GSMA EISType (euicc.common.types.xsd; sgp02.md §3): exact element names and sequence order
 *  in the esim-messaging/3 namespace, with views that decide what a recipient may see.
 *
 *  Views (sgp02.md §3 "EIS in functions"):
 *  - SMSR_EIS_VIEW_FULL: everything, for ES7 handover. Keysets carry their Key (with KeyComponents) and Certificate
 *    children; each component @value is produced by the caller's key_export callback from the wrapped blob
 *    (e.g. re-encrypted under the transport key agreed with the receiving SM-SR). EumSignedInfo is emitted from
 *    signed_info_xml when present, so the EUM signature stays verifiable.
 *  - SMSR_EIS_VIEW_MNO: ProfileInfo of the viewer's Mno-id only; every Keyset (ECASD and ISD-R) reduced to
 *    Version/Type/Cntr with no Key or Certificate; AuditTrail records only when they concern a visible profile
 *    (by Iccid) or were requested by the viewer (RequesterId). EumSignedInfo is rebuilt from the fields.
 *  - SMSR_EIS_VIEW_SMDP: as MNO, for ES3: the profiles of mno_id when given (the MNO the SM-DP acts for), else
 *    the profiles whose Smdp-id is the viewer; records likewise (visible Iccid or RequesterId = viewer). Keysets
 *    keep their Certificate children (public: the SM-DP verifies CERT.ECASD.ECKA for ES8), never a Key.
 *  In every view, an optional ICCID list (AuditEIS) restricts ProfileInfo further.
 *
 *  Parsing (ES1.RegisterEIS, ES7.HandoverEUICC) fills a struct smsr_eis (eis.h). Every KeyComponents @value is
 *  handed, as received, to the caller's key_import callback (the keystore unwraps the transport encryption and
 *  wraps it at rest); the clear bytes are wiped and the attribute text in the parsed document is overwritten
 *  with zeros. EumSignedInfo and EumSignature are kept as canonical XML text in signed_info_xml/signature_xml.
 *  isdr_msisdn (the eUICC's SMS address, which EISType does not carry) starts as the MSISDN of the enabled
 *  profile.
 *
 *  Canonical form: Exclusive XML Canonicalization 1.0 without comments (http://www.w3.org/2001/10/xml-exc-c14n#)
 *  of each subtree. It is independent of the enclosing SOAP envelope (inclusive c14n would pull in the env/wsa
 *  namespace declarations the EUM never signed), re-parses standalone, and is idempotent. The XML-DSig verifier
 *  (a separate module) re-canonicalises with the method the signature names.
 *
 *  The EIS struct is not modified; every string and array of a parsed EIS is a talloc child of the EIS.
 *  smsr_eis.c helpers are not needed: the enum wire names are private tables here.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "smsr/eis.h"
#include "smsr/soap.h"

enum smsr_eis_view {
	SMSR_EIS_VIEW_FULL,
	SMSR_EIS_VIEW_MNO,
	SMSR_EIS_VIEW_SMDP,
};

/*! Which key component a callback is about. */
struct smsr_eis_key_ref {
	const uint8_t *eid;		/*!< SMSR_EID_LEN bytes */
	enum smsr_sd_role sd;		/*!< ISD-R or ECASD */
	uint8_t kvn;			/*!< Keyset/Version */
	enum smsr_keyset_usage usage;	/*!< Keyset/Type */
	uint8_t key_index;		/*!< Key/Index */
	uint8_t comp_type;		/*!< KeyComponents/@type */
	unsigned comp_no;		/*!< 0-based position among the key's components */
};

/*! Import: value/len = the @value bytes as received (transport-encrypted per SGP.02). Produce the keystore's at-rest
 *  blob as a talloc child of wctx. Return 0 or a negative errno (the EIS is then refused). */
typedef int (*smsr_eis_key_import_cb)(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *value, size_t len,
				      void *wctx, uint8_t **wrapped, size_t *wrapped_len);

/*! Export (FULL view): turn the at-rest blob into the @value bytes to emit, as a talloc child of ctx (wiped and
 *  freed by the caller of the callback after use). Return 0 or a negative errno. */
typedef int (*smsr_eis_key_export_cb)(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *wrapped,
				      size_t wrapped_len, void *ctx, uint8_t **value, size_t *value_len);

struct smsr_eis_xml_opts {
	enum smsr_eis_view view;
	const char *viewer_id;			/*!< MNO view: the MNO OID; SMDP view: the SM-DP OID */
	const char *mno_id;			/*!< SMDP view: restrict to this MNO's profiles (optional) */
	const char *const *iccids;		/*!< optional ICCID filter (AuditEIS), n_iccids entries */
	unsigned n_iccids;
	smsr_eis_key_export_cb key_export;	/*!< FULL view: required when a keyset holds keys */
	void *key_data;
};

/*! Append <rps:elem> (usually "Eis") holding e under parent, in the namespace of b->ns. Returns 0, -ENOMEM, -EINVAL
 *  (the EIS lacks something EISType requires: no EumSignature, an SD without keyset, a key without component,
 *  a view without viewer_id; err_text says what), or the export callback's error. err_text may be NULL. */
int smsr_eis_xml_encode(struct smsr_soap_bld *b, xmlNode *parent, const char *elem, const struct smsr_eis *e,
			const struct smsr_eis_xml_opts *o, char *err_text, size_t err_cap);

struct smsr_eis_xml_in {
	smsr_eis_key_import_cb key_import;	/*!< NULL: any Key element is refused (invalid) */
	void *key_data;
	const struct smsr_soap_limits *lim;	/*!< bounds for re-parsing canonical text (NULL: defaults) */
};

/*! Parse an EISType element (Eis of ES1-RegisterEISRequest). The node is not const: key values are wiped in the
 *  document after import. On success *out is a talloc child of ctx. On a content problem returns -EBADMSG with
 *  err->missing/elem/path/msg set (Reason 2.2 or 2.1); -ENOMEM or the callback's error with err->internal. */
int smsr_eis_xml_decode(void *ctx, xmlNode *eis, const struct smsr_eis_xml_in *in, struct smsr_eis **out,
			struct smsr_soap_field_err *err);

/*! POL2Type (the pol2 element of ProfileInfo and of ES4-UpdatePolicyRules): decode the Rule list into a talloc
 *  array under ctx (NULL when empty), or append it to parent. Returns 0, -EBADMSG (err set) or -ENOMEM. */
int smsr_eis_xml_pol2_decode(void *ctx, const xmlNode *pol2, struct smsr_pol2_rule **rules, unsigned *n_rules,
			     struct smsr_soap_field_err *err);
xmlNode *smsr_eis_xml_pol2_encode(struct smsr_soap_bld *b, xmlNode *parent, const char *elem,
				  const struct smsr_pol2_rule *rules, unsigned n_rules);

/*! SubscriptionAddressType {Imsi?, Msisdn?}: "" for an absent element. */
int smsr_eis_xml_subaddr_decode(void *ctx, const xmlNode *sa, char imsi[SMSR_IMSI_MAX + 1],
				char msisdn[SMSR_MSISDN_MAX + 1], struct smsr_soap_field_err *err);
xmlNode *smsr_eis_xml_subaddr_encode(struct smsr_soap_bld *b, xmlNode *parent, const char *elem, const char *imsi,
				     const char *msisdn);
