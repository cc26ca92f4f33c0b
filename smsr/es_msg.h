/*! \file es_msg.h
 *  ES1 and ES4 messages of the SM-SR (sgp02.md §2.1, §2.2, §2.5, §5): the function table (elements, actions, MEP),
 *  request decoding (BaseRequestType + body fields, in XSD order, exact GSMA element names), response, callback
 *  and notification building (BaseResponseType + FunctionExecutionStatus), and the SGP.02 status codes.
 *
 *  Error model of smsr_es_decode():
 *  - envelope-level problems (XML, limits, SOAP version, WS-A headers, unknown function, body in the wrong
 *    namespace, action/body mismatch) return -SMSR_SOAP_E_* and are answered with a SOAP Fault;
 *  - body-level problems of an identified function (mandatory element missing, invalid value) return -EBADMSG and
 *    are answered with the function's response carrying FAILED and StatusCodeData (Reason 2.2 / 2.1);
 *  - -ENOMEM is a Receiver fault; other negative errnos of an identified function (e.g. a keystore callback
 *    failure) give FAILED with Subject 1.2 (Function Provider) / Reason 4.2.
 *  smsr_es_build_error_reply() produces the right one of these and the HTTP status.
 *
 *  Action matching is tolerant (sgp02.md §5.3): the trailing `ESx-<Func>` token of wsa:Action, with or without
 *  the `Request` suffix, whatever the path; it must agree with the body element.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>
#include "smsr/eis.h"
#include "smsr/eis_xml.h"
#include "smsr/soap.h"

/*! Interfaces an endpoint serves (mask). */
enum smsr_es_if {
	SMSR_ES_IF_ES1 = 1,
	SMSR_ES_IF_ES4 = 2,
	SMSR_ES_IF_ES3 = 4, /*!< SM-DP -> SM-SR (ES3_SMSR.wsdl); served only where asked for */
	SMSR_ES_IF_ES2 = 8, /*!< MNO -> SM-DP (ES2_SMDP.wsdl), served by smdpd */
};

/*! Message exchange pattern (sgp02.md §5.4). */
enum smsr_es_mep {
	SMSR_ES_SYNC,		/*!< response in the HTTP response */
	SMSR_ES_ASYNC,		/*!< HTTP 202, result later as a callback request to the requester */
	SMSR_ES_NOTIFICATION,	/*!< one-way request from the SM-SR to the MNO */
};

enum smsr_es_func {
	SMSR_ES1_REGISTER_EIS,
	SMSR_ES4_GET_EIS,
	SMSR_ES4_AUDIT_EIS,
	SMSR_ES4_UPDATE_POLICY_RULES,
	SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS,
	SMSR_ES4_ENABLE_PROFILE,
	SMSR_ES4_DISABLE_PROFILE,
	SMSR_ES4_DELETE_PROFILE,
	SMSR_ES4_PREPARE_SMSR_CHANGE,
	SMSR_ES4_SMSR_CHANGE,
	SMSR_ES4_HANDLE_PROFILE_ENABLED, /*!< ES4-HandleProfileEnabledNotification (SM-SR -> MNO) */
	SMSR_ES4_HANDLE_PROFILE_DISABLED,
	SMSR_ES4_HANDLE_PROFILE_DELETED,
	SMSR_ES4_HANDLE_SMSR_CHANGE,
	/* ES3, SM-DP -> SM-SR (sgp02.md §2.4) */
	SMSR_ES3_GET_EIS,
	SMSR_ES3_AUDIT_EIS,
	SMSR_ES3_CREATE_ISDP,
	SMSR_ES3_SEND_DATA,
	SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED,
	SMSR_ES3_UPDATE_POLICY_RULES,
	SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS,
	SMSR_ES3_ENABLE_PROFILE,
	SMSR_ES3_DISABLE_PROFILE,
	SMSR_ES3_DELETE_ISDP,
	/* ES2, MNO -> SM-DP (sgp02.md §2.3), and the SM-DP's notifications to the MNO */
	SMSR_ES2_GET_EIS,
	SMSR_ES2_DOWNLOAD_PROFILE,
	SMSR_ES2_UPDATE_POLICY_RULES,
	SMSR_ES2_UPDATE_SUBSCRIPTION_ADDRESS,
	SMSR_ES2_ENABLE_PROFILE,
	SMSR_ES2_DISABLE_PROFILE,
	SMSR_ES2_DELETE_PROFILE,
	SMSR_ES2_HANDLE_PROFILE_ENABLED,
	SMSR_ES2_HANDLE_PROFILE_DISABLED,
	SMSR_ES2_HANDLE_PROFILE_DELETED,
	/* ES3 notifications, SM-SR -> SM-DP */
	SMSR_ES3_HANDLE_PROFILE_ENABLED,
	SMSR_ES3_HANDLE_PROFILE_DISABLED,
	SMSR_ES3_HANDLE_PROFILE_DELETED,
	SMSR_ES_FUNC_COUNT
};

/*! One row of the function table. */
struct smsr_es_func_desc {
	enum smsr_es_func func;
	enum smsr_es_if iface;
	const char *name;		/*!< "ES4-GetEIS": the token matched at the end of wsa:Action */
	const char *req_elem;		/*!< request element received, or notification element emitted */
	const char *resp_elem;		/*!< response element emitted; NULL for notifications */
	const char *req_action;		/*!< canonical request action (ES1_SMSR/ES4_SMSR.wsdl); for a
					 *   notification, the action we emit */
	const char *resp_action;	/*!< action of the sync response or of the async callback we emit */
	enum smsr_es_mep mep;
	const char *timestamp_elem;	/*!< notifications: exact spelling of the completion timestamp element */
	const char *alias;		/*!< another action token accepted for the request (a known misspelling) */
};

/*! The table entry of f (never NULL for a valid f). */
const struct smsr_es_func_desc *smsr_es_func_desc(enum smsr_es_func f);
/*! The request function whose trailing action token matches (tolerant), among `ifaces` (0 = all), or NULL.
 *  Notifications are never matched: the SM-SR does not receive them. */
const struct smsr_es_func_desc *smsr_es_func_by_action(const char *action, unsigned ifaces);
/*! The request function whose request element is `local` (exact, case-sensitive), or NULL. */
const struct smsr_es_func_desc *smsr_es_func_by_elem(const char *local);

/*! FunctionExecutionStatus/StatusCodeData (Subject, Reason) pairs, sgp02.md §5.5 and §4.2. */
enum smsr_sc {
	SMSR_SC_NONE,			/*!< no StatusCodeData */
	SMSR_SC_REQUESTER_UNKNOWN,	/*!< 1.1 / 1.1 Function Requester unknown */
	SMSR_SC_REQUESTER_NOT_ALLOWED,	/*!< 1.1 / 1.2 Function Requester not allowed */
	SMSR_SC_BUSY,			/*!< 1.2 / 4.4 EIS busy (handover / profile change in progress) */
	SMSR_SC_PROVIDER_ERROR,		/*!< 1.2 / 4.2 Function Provider execution error */
	SMSR_SC_INVALID,		/*!< 1.6 / 2.1 Function: invalid element */
	SMSR_SC_MISSING_ELEMENT,	/*!< 1.6 / 2.2 Function: mandatory element missing */
	SMSR_SC_UNSUPPORTED,		/*!< 1.6 / 3.1 Function: unsupported */
	SMSR_SC_EXPIRED,		/*!< 1.6 / 4.10 Function: time to live expired (with Status EXPIRED) */
	SMSR_SC_EUICC_NOT_ALLOWED,	/*!< 8.1 / 1.2 eUICC: requester not allowed */
	SMSR_SC_EUICC_REFUSED,		/*!< 8.1 / 3.8 eUICC: refused */
	SMSR_SC_MEMORY,			/*!< 8.1 / 4.8 eUICC: insufficient memory */
	SMSR_SC_EID_UNKNOWN,		/*!< 8.1.1 / 1.1 EID unknown */
	SMSR_SC_EID_INVALID,		/*!< 8.1.1 / 2.1 EID invalid */
	SMSR_SC_EID_IN_USE,		/*!< 8.1.1 / 3.3 EID already registered */
	SMSR_SC_PROFILE_NOT_ALLOWED,	/*!< 8.2.1 / 1.2 Profile ICCID: not allowed / wrong state */
	SMSR_SC_ICCID_INVALID,		/*!< 8.2.1 / 2.1 ICCID invalid */
	SMSR_SC_ICCID_IN_USE,		/*!< 8.2.1 / 3.3 ICCID already in use */
	SMSR_SC_ICCID_UNKNOWN,		/*!< 8.2.1 / 3.9 ICCID unknown */
	SMSR_SC_POL1_REFUSED,		/*!< 8.2.2 / 3.8 POL1 refused (card SW 69E1) */
	SMSR_SC_POL2_INVALID,		/*!< 8.2.3 / 2.1 POL2 invalid */
	SMSR_SC_POL2_REFUSED,		/*!< 8.2.3 / 3.8 POL2 refused */
	SMSR_SC_ISDP_ERROR,		/*!< 8.3 / 4.2 ISD-P execution error */
	SMSR_SC_EUICC_ERROR,		/*!< 8.4 / 4.2 ISD-R execution error (card SW error; EuiccResponseData) */
	SMSR_SC_EIS_UNKNOWN_REQUESTER,	/*!< 8.6 / 1.1 EIS: requester unknown */
	SMSR_SC_EIS_NOT_ALLOWED,	/*!< 8.6 / 1.2 EIS: not allowed */
	SMSR_SC_EIS_INVALID,		/*!< 8.6 / 2.1 EIS content invalid (RegisterEIS) */
	SMSR_SC_EIS_SIGNATURE,		/*!< 8.6 / 6.1 EIS: EUM signature verification failed [I] */
	SMSR_SC_SMSR_INVALID,		/*!< 8.7 / 2.1 SM-SR id invalid */
	SMSR_SC_SMSR_UNKNOWN,		/*!< 8.7 / 3.9 SM-SR unknown (CurrentSMSRid / Target-Smsr-id) */
	SMSR_SC_COUNT
};

const char *smsr_sc_subject(enum smsr_sc c);	/*!< "8.1.1"; NULL for SMSR_SC_NONE */
const char *smsr_sc_reason(enum smsr_sc c);	/*!< "1.1"; NULL for SMSR_SC_NONE */
const char *smsr_sc_name(enum smsr_sc c);	/*!< "EID_UNKNOWN" (for logs); never NULL */
/*! The code of a received Subject/Reason pair; an unknown pair is SMSR_SC_PROVIDER_ERROR, none SMSR_SC_NONE. */
enum smsr_sc smsr_sc_by_code(const char *subject, const char *reason);

/*! A decoded request (all strings are talloc children of the request; it does not point into the message). */
struct smsr_es_req {
	const struct smsr_es_func_desc *desc;
	enum smsr_es_func func;
	/* BaseRequestType */
	char *function_call_id;		/*!< FunctionCallIdentifier (white space preserved) */
	bool has_validity_period;
	uint64_t validity_period;	/*!< ValidityPeriod, seconds (> 0) */
	/* body */
	bool has_eid;
	uint8_t eid[SMSR_EID_LEN];	/*!< Eid (every ES4 request) */
	char iccid[SMSR_ICCID_MAX + 1];	/*!< Iccid, "" when the function has none */
	char **iccids;			/*!< AuditEIS: Iccid* (none = all profiles) */
	unsigned n_iccids;
	struct smsr_pol2_rule *pol2;	/*!< UpdatePolicyRules: pol2 (may hold zero rules) */
	unsigned n_pol2;
	char imsi[SMSR_IMSI_MAX + 1];	/*!< UpdateSubscriptionAddress: newSubscriptionAddress ("" when absent) */
	char msisdn[SMSR_MSISDN_MAX + 1];
	char *smsr_id;			/*!< PrepareSMSRChange: CurrentSMSRid; SMSRChange: Target-Smsr-id */
	/* ES3 */
	char *mno_id;			/*!< CreateISDP: Mno-id */
	uint64_t required_memory;	/*!< CreateISDP: RequiredMemory (bytes) */
	bool has_more_to_do, more_to_do;	/*!< CreateISDP, SendData: MoreToDo */
	struct smsr_aid sd_aid;		/*!< SendData: Sd-aid (the target security domain, an ISD-P) */
	uint8_t *data;			/*!< SendData: Data (the command script for the target SD) */
	size_t data_len;
	char *profile_type;		/*!< ProfileDownloadCompleted: ProfileType (NULL when absent) */
	bool has_subscription_address;	/*!< ProfileDownloadCompleted: SubscriptionAddress (imsi/msisdn) */
	bool has_pol2;			/*!< ProfileDownloadCompleted, ES2 UpdatePolicyRules: pol2 present */
	bool enable_profile;		/*!< ES2 DownloadProfile: EnableProfile */
	struct smsr_eis *eis;		/*!< RegisterEIS: the EIS (keys wrapped by the import callback) */
	/* envelope, copied for the asynchronous answer */
	char *message_id;
	char *from_address;
	char *from_entity_id;		/*!< the requester OID (NULL if the From address carried none) */
	char *reply_to;
	char *transaction_id;
};

/*! Details of a decode failure. */
struct smsr_es_error {
	const struct smsr_es_func_desc *desc;	/*!< function identified (FAILED response possible), or NULL */
	struct smsr_soap_error soap;		/*!< fault-level details; soap.text is always the log line */
	enum smsr_sc code;			/*!< status-level: StatusCodeData */
	char subject_id[128];			/*!< SubjectIdentifier: path of the element concerned */
	char message[200];			/*!< StatusCodeData/Message */
};

struct smsr_es_decode_opts {
	unsigned interfaces;		/*!< SMSR_ES_IF_* this endpoint serves; 0 = ES1 and ES4 */
	struct smsr_eis_xml_in eis_in;	/*!< RegisterEIS: key import callback and limits */
};

/*! Identify and decode the function of a parsed message. Returns 0 (*out set, a talloc child of ctx),
 *  -SMSR_SOAP_E_* (fault), -EBADMSG (FAILED response) or another negative errno; err (required) says why. */
int smsr_es_decode(void *ctx, const struct smsr_soap_msg *m, const struct smsr_es_decode_opts *o,
		   struct smsr_es_req **out, struct smsr_es_error *err);

/*! smsr_soap_parse() + smsr_es_decode() on a request buffer. *msg is set whenever the envelope parsed (so that an
 *  error reply can carry RelatesTo), even if decoding then failed. */
int smsr_es_receive(void *ctx, const void *buf, size_t len, const struct smsr_soap_limits *lim,
		    const struct smsr_es_decode_opts *o, struct smsr_soap_msg **msg, struct smsr_es_req **out,
		    struct smsr_es_error *err);

/*! The outcome of a function, for its response (sync) or callback (async). */
struct smsr_es_result {
	enum smsr_exec_status status;
	enum smsr_sc code;		/*!< StatusCodeData when != SMSR_SC_NONE (ignored for EXECUTED_SUCCESS) */
	const char *subject_id;		/*!< StatusCodeData/SubjectIdentifier (optional) */
	const char *message;		/*!< StatusCodeData/Message (optional) */
	const char *processing_start;	/*!< xs:dateTime or NULL */
	const char *processing_end;
	uint64_t acceptable_validity;	/*!< AcceptableValidityPeriod, 0 = absent */
	const uint8_t *euicc_data;	/*!< Enable/Disable/DeleteProfile: EuiccResponseData (NULL = absent) */
	const uint8_t *isdp_aid;	/*!< ES3-CreateISDP: Isd-p-aid of the new ISD-P (required there) */
	size_t isdp_aid_len;
	size_t euicc_len;
	const struct smsr_eis *eis;	/*!< GetEIS / AuditEIS on success: the Eis element (NULL = absent) */
	const char *iccid;		/*!< ES2-DownloadProfile: Iccid of the downloaded profile (NULL = absent) */
	struct smsr_eis_xml_opts eis_opts;	/*!< view of that EIS (normally SMSR_EIS_VIEW_MNO) */
};

/*! Make r a FAILED result with StatusCodeData code (subject_id and message optional; not copied). */
void smsr_es_result_fail(struct smsr_es_result *r, enum smsr_sc code, const char *subject_id, const char *message);

/*! The response element of f (<rps:ESx-<Func>Response>) in its own document owned by *holder (a talloc child
 *  of ctx). err_text (optional) explains -EINVAL. */
int smsr_es_response_body(void *ctx, enum smsr_es_func f, const struct smsr_es_result *r, void **holder,
			  xmlNode **body, char *err_text, size_t err_cap);

/*! Synchronous response envelope to req (Action = resp_action of f, RelatesTo = req's MessageID). Valid for a
 *  sync function, and for an async function answered at once (e.g. FAILED after validation). */
int smsr_es_build_response(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *req,
			   enum smsr_es_func f, const struct smsr_es_result *r, uint8_t **out, size_t *out_len);

/*! Asynchronous callback request for the completed function req (to req's ReplyTo, else `to`; RelatesTo =
 *  req's MessageID; TransactionId propagated). message_id (optional) receives the new MessageID. */
int smsr_es_build_callback(void *ctx, const struct smsr_soap_entity *self, const struct smsr_es_req *req,
			   const char *to, const struct smsr_es_result *r, uint8_t **out, size_t *out_len,
			   char **message_id);

/*! An ES4 notification to an MNO. */
struct smsr_es_notif {
	enum smsr_es_func func;			/*!< one of SMSR_ES{2,3,4}_HANDLE_* */
	const uint8_t *eid;			/*!< SMSR_EID_LEN bytes (Profile notifications) */
	const char *iccid;			/*!< Profile notifications */
	const char *mno_id;			/*!< ES3 notifications: Mno-id */
	const char *completion_timestamp;	/*!< xs:dateTime */
	const struct smsr_eis *eis;		/*!< HandleSMSRChangeNotification */
	struct smsr_eis_xml_opts eis_opts;	/*!< its view (SMSR_EIS_VIEW_MNO with the MNO's OID) */
};

int smsr_es_notification_body(void *ctx, const struct smsr_es_notif *n, void **holder, xmlNode **body,
			      char *err_text, size_t err_cap);
int smsr_es_build_notification(void *ctx, const struct smsr_soap_entity *self, const char *to,
			       const struct smsr_es_notif *n, uint8_t **out, size_t *out_len, char **message_id);

/*! The reply to a request that failed with rc (from smsr_es_receive/smsr_es_decode): a SOAP Fault, or the
 *  function's response with FAILED. msg may be NULL. *http_status: 400/500 for faults, 200 for a response. */
int smsr_es_build_error_reply(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *msg, int rc,
			      const struct smsr_es_error *err, uint8_t **out, size_t *out_len, int *http_status);

/*
 * The requester's side (smdpd): ES3 requests out, their responses and callbacks in.
 */

/*! The request element of r->func (an ES3 function) from r's fields: FunctionCallIdentifier, ValidityPeriod, Eid
 *  and the function's own (Iccid, Mno-id, RequiredMemory, MoreToDo, Sd-aid, Data, ProfileType,
 *  SubscriptionAddress, pol2), in XSD order. */
int smsr_es_request_body(void *ctx, const struct smsr_es_req *r, void **holder, xmlNode **body);

/*! The whole request envelope (Action = the function's request action, ReplyTo = reply_to when not NULL). */
int smsr_es_build_request(void *ctx, const struct smsr_soap_entity *self, const char *to, const char *reply_to,
			  const struct smsr_es_req *r, uint8_t **out, size_t *out_len, char **message_id);

/*! A received response or callback of an ES3 function. */
struct smsr_es_result_in {
	enum smsr_exec_status status;
	char subject[16], reason[16]; /*!< StatusCodeData ("" when absent) */
	char message[200];
	uint8_t isdp_aid[SMSR_AID_MAX]; /*!< CreateISDP */
	size_t isdp_aid_len;
	uint8_t *euicc_data; /*!< EuiccResponseData (talloc, NULL when absent) */
	size_t euicc_len;
	struct smsr_eis *eis; /*!< GetEIS / AuditEIS (NULL when absent) */
};

/*! Decode the response element of f in m (strict XSD order). 0 or -EBADMSG with the reason in err. */
int smsr_es_result_decode(void *ctx, const struct smsr_soap_msg *m, enum smsr_es_func f, struct smsr_es_result_in *out,
			  char *err, size_t cap);

/*! A received Handle*Notification (the SM-DP receives ES3 ones from the SM-SR). */
struct smsr_es_notif_in {
	enum smsr_es_func func;
	uint8_t eid[SMSR_EID_LEN];
	char iccid[SMSR_ICCID_MAX + 1];
	char *mno_id; /*!< ES3 */
	char *completion_timestamp;
};

/*! Decode a Profile Handle*Notification of the interfaces ifaces in m. 0 or -EBADMSG (err says why). */
int smsr_es_notification_decode(void *ctx, const struct smsr_soap_msg *m, unsigned ifaces, struct smsr_es_notif_in *out,
				char *err, size_t cap);
