/* ES1 / ES4 requests, responses, callbacks and notifications of the SM-SR (sgp02.md §2.2, §2.5, §5). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "smsr/es_msg.h"

#define GSMA_ACTION "http://gsma.com/"
#define PROFILE_TYPE_MAX 128 /* ProfileType (xs:string, no bound in the XSD): what we store */
#define FCI_MAX 256	/* FunctionCallIdentifier: our bound (xs:string); it keys retry de-duplication */

/*
 * Function table. Actions:
 * - requests: as ES1_SMSR.wsdl / ES4_SMSR.wsdl (the provider WSDLs); matched tolerantly on input;
 * - sync responses: the output actions of ES1_SMSR.wsdl / ES4_SMSR.wsdl;
 * - async callbacks: the output actions of ES4_MNO.wsdl (…/ES4/eUICCManagement/ES4-<Func>Response), the only GSMA
 *   file describing what the MNO side receives; the same URI also serves for an immediate FAILED response;
 * - notifications (in no ES4 WSDL): …/ES4/PlatformManagement/ES4-Handle…Notification, mirroring ES3_SMDP.wsdl.
 * CompletionTimestamp is capitalised in all four ES4 notifications (the lower-case completionTimestamp trap is in
 * ES2-HandleProfileEnabledNotification and ES3-HandleSMSRChangeNotification only).
 */
static const struct smsr_es_func_desc s_funcs[SMSR_ES_FUNC_COUNT] = {
	[SMSR_ES1_REGISTER_EIS] = {SMSR_ES1_REGISTER_EIS, SMSR_ES_IF_ES1, "ES1-RegisterEIS", "ES1-RegisterEISRequest",
				   "ES1-RegisterEISResponse", GSMA_ACTION "ES1/eUICCManagement/ES1-RegisterEISRequest",
				   GSMA_ACTION "ES1/eUICCManagement/ES1-RegisterEISResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES4_GET_EIS] = {SMSR_ES4_GET_EIS, SMSR_ES_IF_ES4, "ES4-GetEIS", "ES4-GetEISRequest", "ES4-GetEISResponse",
			      GSMA_ACTION "ES4/ProfileManagement/ES4-GetEISRequest",
			      GSMA_ACTION "ES4/ProfileManagement/ES4-GetEISResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES4_AUDIT_EIS] = {SMSR_ES4_AUDIT_EIS, SMSR_ES_IF_ES4, "ES4-AuditEIS", "ES4-AuditEISRequest",
				"ES4-AuditEISResponse", GSMA_ACTION "ES4/ProfileManagement/ES4-AuditEIS",
				GSMA_ACTION "ES4/eUICCManagement/ES4-AuditEISResponse", SMSR_ES_ASYNC, NULL},
	[SMSR_ES4_UPDATE_POLICY_RULES] = {SMSR_ES4_UPDATE_POLICY_RULES, SMSR_ES_IF_ES4, "ES4-UpdatePolicyRules",
					  "ES4-UpdatePolicyRulesRequest", "ES4-UpdatePolicyRulesResponse",
					  GSMA_ACTION "ES4/ProfileManagement/ES4-UpdatePolicyRulesRequest",
					  GSMA_ACTION "ES4/ProfileManagement/ES4-UpdatePolicyRulesResponse",
					  SMSR_ES_SYNC, NULL},
	[SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS] =
		{SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS, SMSR_ES_IF_ES4, "ES4-UpdateSubscriptionAddress",
		 "ES4-UpdateSubscriptionAddressRequest", "ES4-UpdateSubscriptionAddressResponse",
		 GSMA_ACTION "ES4/ProfileManagement/ES4-UpdateSubscriptionAddressRequest",
		 GSMA_ACTION "ES4/ProfileManagement/ES4-UpdateSubscriptionAddressResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES4_ENABLE_PROFILE] = {SMSR_ES4_ENABLE_PROFILE, SMSR_ES_IF_ES4, "ES4-EnableProfile",
				     "ES4-EnableProfileRequest", "ES4-EnableProfileResponse",
				     GSMA_ACTION "ES4/PlatformManagement/ES4-EnableProfile",
				     GSMA_ACTION "ES4/eUICCManagement/ES4-EnableProfileResponse", SMSR_ES_ASYNC, NULL},
	[SMSR_ES4_DISABLE_PROFILE] = {SMSR_ES4_DISABLE_PROFILE, SMSR_ES_IF_ES4, "ES4-DisableProfile",
				      "ES4-DisableProfileRequest", "ES4-DisableProfileResponse",
				      GSMA_ACTION "ES4/PlatformManagement/ES4-DisableProfile",
				      GSMA_ACTION "ES4/eUICCManagement/ES4-DisableProfileResponse", SMSR_ES_ASYNC,
				      NULL},
	[SMSR_ES4_DELETE_PROFILE] = {SMSR_ES4_DELETE_PROFILE, SMSR_ES_IF_ES4, "ES4-DeleteProfile",
				     "ES4-DeleteProfileRequest", "ES4-DeleteProfileResponse",
				     GSMA_ACTION "ES4/PlatformManagement/ES4-DeleteProfile",
				     GSMA_ACTION "ES4/eUICCManagement/ES4-DeleteProfileResponse", SMSR_ES_ASYNC, NULL},
	[SMSR_ES4_PREPARE_SMSR_CHANGE] = {SMSR_ES4_PREPARE_SMSR_CHANGE, SMSR_ES_IF_ES4, "ES4-PrepareSMSRChange",
					  "ES4-PrepareSMSRChangeRequest", "ES4-PrepareSMSRChangeResponse",
					  GSMA_ACTION "ES4/eUICCManagement/ES4-PrepareSMSRChange",
					  GSMA_ACTION "ES4/eUICCManagement/ES4-PrepareSMSRChangeResponse",
					  SMSR_ES_ASYNC, NULL},
	[SMSR_ES4_SMSR_CHANGE] = {SMSR_ES4_SMSR_CHANGE, SMSR_ES_IF_ES4, "ES4-SMSRChange", "ES4-SMSRChangeRequest",
				  "ES4-SMSRChangeResponse", GSMA_ACTION "ES4/eUICCManagement/ES4-SMSRChange",
				  GSMA_ACTION "ES4/eUICCManagement/ES4-SMSRChangeResponse", SMSR_ES_ASYNC, NULL},
	[SMSR_ES4_HANDLE_PROFILE_ENABLED] = {SMSR_ES4_HANDLE_PROFILE_ENABLED, SMSR_ES_IF_ES4,
					     "ES4-HandleProfileEnabledNotification",
					     "ES4-HandleProfileEnabledNotification", NULL,
					     GSMA_ACTION "ES4/PlatformManagement/ES4-HandleProfileEnabledNotification",
					     NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	[SMSR_ES4_HANDLE_PROFILE_DISABLED] = {SMSR_ES4_HANDLE_PROFILE_DISABLED, SMSR_ES_IF_ES4,
					      "ES4-HandleProfileDisabledNotification",
					      "ES4-HandleProfileDisabledNotification", NULL,
					      GSMA_ACTION
					      "ES4/PlatformManagement/ES4-HandleProfileDisabledNotification",
					      NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	[SMSR_ES4_HANDLE_PROFILE_DELETED] = {SMSR_ES4_HANDLE_PROFILE_DELETED, SMSR_ES_IF_ES4,
					     "ES4-HandleProfileDeletedNotification",
					     "ES4-HandleProfileDeletedNotification", NULL,
					     GSMA_ACTION "ES4/PlatformManagement/ES4-HandleProfileDeletedNotification",
					     NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	[SMSR_ES4_HANDLE_SMSR_CHANGE] = {SMSR_ES4_HANDLE_SMSR_CHANGE, SMSR_ES_IF_ES4,
					 "ES4-HandleSMSRChangeNotification", "ES4-HandleSMSRChangeNotification", NULL,
					 GSMA_ACTION "ES4/PlatformManagement/ES4-HandleSMSRChangeNotification", NULL,
					 SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	/* ES3 (ES3_SMSR.wsdl / ES3_SMDP.wsdl: async results come back on the ...CallBack actions) */
	[SMSR_ES3_GET_EIS] = {SMSR_ES3_GET_EIS, SMSR_ES_IF_ES3, "ES3-GetEIS", "ES3-GetEISRequest", "ES3-GetEISResponse",
			      GSMA_ACTION "ES3/ProfileManagement/ES3-GetEISRequest",
			      GSMA_ACTION "ES3/ProfileManagement/ES3-GetEISResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES3_AUDIT_EIS] = {SMSR_ES3_AUDIT_EIS, SMSR_ES_IF_ES3, "ES3-AuditEIS", "ES3-AuditEISRequest",
				"ES3-AuditEISResponse", GSMA_ACTION "ES3/ProfileManagement/ES3-AuditEISRequest",
				GSMA_ACTION "ES3/ProfileManagementCallBack/ES3-AuditEIS", SMSR_ES_ASYNC, NULL},
	[SMSR_ES3_CREATE_ISDP] = {SMSR_ES3_CREATE_ISDP, SMSR_ES_IF_ES3, "ES3-CreateISDP", "ES3-CreateISDPRequest",
				  "ES3-CreateISDPResponse", GSMA_ACTION "ES3/ProfileManagement/ES3-CreateISDPRequest",
				  GSMA_ACTION "ES3/ProfileManagementCallBack/ES3-CreateISDP", SMSR_ES_ASYNC, NULL},
	[SMSR_ES3_SEND_DATA] = {SMSR_ES3_SEND_DATA, SMSR_ES_IF_ES3, "ES3-SendData", "ES3-SendDataRequest",
				"ES3-SendDataResponse", GSMA_ACTION "ES3/ProfileManagement/ES3-SendDataRequest",
				GSMA_ACTION "ES3/ProfileManagementCallBack/ES3-SendData", SMSR_ES_ASYNC, NULL},
	[SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED] =
		{SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED, SMSR_ES_IF_ES3, "ES3-ProfileDownloadCompleted",
		 "ES3-ProfileDownloadCompletedRequest", "ES3-ProfileDownloadCompletedResponse",
		 /* the WSDL spells the action "Downloaded" (sic); njiwa sends "Download": both are accepted */
		 GSMA_ACTION "ES3/ProfileManagement/ES3-ProfileDownloadedCompletedRequest",
		 GSMA_ACTION "ES3/ProfileManagement/ES3-ProfileDownloadedCompletedResponse", SMSR_ES_SYNC, NULL,
		 "ES3-ProfileDownloadedCompleted"},
	[SMSR_ES3_UPDATE_POLICY_RULES] = {SMSR_ES3_UPDATE_POLICY_RULES, SMSR_ES_IF_ES3, "ES3-UpdatePolicyRules",
					  "ES3-UpdatePolicyRulesRequest", "ES3-UpdatePolicyRulesResponse",
					  GSMA_ACTION "ES3/ProfileManagement/ES3-UpdatePolicyRulesRequest",
					  GSMA_ACTION "ES3/ProfileManagement/ES3-UpdatePolicyRulesResponse",
					  SMSR_ES_SYNC, NULL},
	[SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS] =
		{SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS, SMSR_ES_IF_ES3, "ES3-UpdateSubscriptionAddress",
		 "ES3-UpdateSubscriptionAddressRequest", "ES3-UpdateSubscriptionAddressResponse",
		 GSMA_ACTION "ES3/ProfileManagement/ES3-UpdateSubscriptionAddressRequest",
		 GSMA_ACTION "ES3/PlatformManagement/ES3-UpdateSubscriptionAddressResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES3_ENABLE_PROFILE] = {SMSR_ES3_ENABLE_PROFILE, SMSR_ES_IF_ES3, "ES3-EnableProfile",
				     "ES3-EnableProfileRequest", "ES3-EnableProfileResponse",
				     GSMA_ACTION "ES3/PlatformManagement/ES3-EnableProfileRequest",
				     GSMA_ACTION "ES3/PlatformManagementCallBack/ES3-EnableProfile", SMSR_ES_ASYNC,
				     NULL},
	[SMSR_ES3_DISABLE_PROFILE] = {SMSR_ES3_DISABLE_PROFILE, SMSR_ES_IF_ES3, "ES3-DisableProfile",
				      "ES3-DisableProfileRequest", "ES3-DisableProfileResponse",
				      GSMA_ACTION "ES3/PlatformManagement/ES3-DisableProfileRequest",
				      GSMA_ACTION "ES3/PlatformManagementCallBack/ES3-DisableProfile", SMSR_ES_ASYNC,
				      NULL},
	[SMSR_ES3_DELETE_ISDP] = {SMSR_ES3_DELETE_ISDP, SMSR_ES_IF_ES3, "ES3-DeleteISDP", "ES3-DeleteISDPRequest",
				  "ES3-DeleteISDPResponse", GSMA_ACTION "ES3/PlatformManagement/ES3-DeleteISDPRequest",
				  GSMA_ACTION "ES3/PlatformManagementCallBack/ES3-DeleteISDP", SMSR_ES_ASYNC, NULL},
	/* ES2 (ES2_SMDP.wsdl requests; results of async functions go back on ES2_MNO.wsdl's ...Response actions) */
	[SMSR_ES2_GET_EIS] = {SMSR_ES2_GET_EIS, SMSR_ES_IF_ES2, "ES2-GetEIS", "ES2-GetEISRequest", "ES2-GetEISResponse",
			      GSMA_ACTION "ES2/DataPreparation/ES2-GetEISRequest",
			      GSMA_ACTION "ES2/DataPreparation/ES2-GetEISResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES2_DOWNLOAD_PROFILE] = {SMSR_ES2_DOWNLOAD_PROFILE, SMSR_ES_IF_ES2, "ES2-DownloadProfile",
				       "ES2-DownloadProfileRequest", "ES2-DownloadProfileResponse",
				       GSMA_ACTION "ES2/ProfileManagement/ES2-DownloadProfile",
				       GSMA_ACTION "ES2/PlatformManagement/ES2-DownloadProfileResponse", SMSR_ES_ASYNC,
				       NULL},
	[SMSR_ES2_UPDATE_POLICY_RULES] = {SMSR_ES2_UPDATE_POLICY_RULES, SMSR_ES_IF_ES2, "ES2-UpdatePolicyRules",
					  "ES2-UpdatePolicyRulesRequest", "ES2-UpdatePolicyRulesResponse",
					  GSMA_ACTION "ES2/ProfileManagement/ES2-UpdatePolicyRulesRequest",
					  GSMA_ACTION "ES2/ProfileManagement/ES2-UpdatePolicyRulesResponse",
					  SMSR_ES_SYNC, NULL},
	[SMSR_ES2_UPDATE_SUBSCRIPTION_ADDRESS] =
		{SMSR_ES2_UPDATE_SUBSCRIPTION_ADDRESS, SMSR_ES_IF_ES2, "ES2-UpdateSubscriptionAddress",
		 "ES2-UpdateSubscriptionAddressRequest", "ES2-UpdateSubscriptionAddressResponse",
		 GSMA_ACTION "ES2/ProfileManagement/ES2-UpdateSubscriptionAddressRequest",
		 GSMA_ACTION "ES2/ProfileManagement/ES2-UpdateSubscriptionAddressResponse", SMSR_ES_SYNC, NULL},
	[SMSR_ES2_ENABLE_PROFILE] = {SMSR_ES2_ENABLE_PROFILE, SMSR_ES_IF_ES2, "ES2-EnableProfile",
				     "ES2-EnableProfileRequest", "ES2-EnableProfileResponse",
				     GSMA_ACTION "ES2/PlatformManagement/ES2-EnableProfile",
				     GSMA_ACTION "ES2/PlatformManagement/ES2-EnableProfileResponse", SMSR_ES_ASYNC,
				     NULL},
	[SMSR_ES2_DISABLE_PROFILE] = {SMSR_ES2_DISABLE_PROFILE, SMSR_ES_IF_ES2, "ES2-DisableProfile",
				      "ES2-DisableProfileRequest", "ES2-DisableProfileResponse",
				      GSMA_ACTION "ES2/PlatformManagement/ES2-DisableProfile",
				      GSMA_ACTION "ES2/PlatformManagement/ES2-DisableProfileResponse", SMSR_ES_ASYNC,
				      NULL},
	[SMSR_ES2_DELETE_PROFILE] = {SMSR_ES2_DELETE_PROFILE, SMSR_ES_IF_ES2, "ES2-DeleteProfile",
				     "ES2-DeleteProfileRequest", "ES2-DeleteProfileResponse",
				     GSMA_ACTION "ES2/PlatformManagement/ES2-DeleteProfile",
				     GSMA_ACTION "ES2/PlatformManagement/ES2-DeleteProfileResponse", SMSR_ES_ASYNC,
				     NULL},
	/* not in the WSDL; njiwa's action form (sgp02.md §2.3); the XSD spells this timestamp in lower camel case */
	[SMSR_ES2_HANDLE_PROFILE_ENABLED] = {SMSR_ES2_HANDLE_PROFILE_ENABLED, SMSR_ES_IF_ES2,
					     "ES2-HandleProfileEnabledNotification",
					     "ES2-HandleProfileEnabledNotification", NULL,
					     GSMA_ACTION
					     "ES2/ProfileManagentCallBack/ES2-HandleProfileEnabledNotification",
					     NULL, SMSR_ES_NOTIFICATION, "completionTimestamp"},
	[SMSR_ES2_HANDLE_PROFILE_DISABLED] = {SMSR_ES2_HANDLE_PROFILE_DISABLED, SMSR_ES_IF_ES2,
					      "ES2-HandleProfileDisabledNotification",
					      "ES2-HandleProfileDisabledNotification", NULL,
					      GSMA_ACTION
					      "ES2/ProfileManagentCallBack/ES2-HandleProfileDisabledNotification",
					      NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	[SMSR_ES2_HANDLE_PROFILE_DELETED] = {SMSR_ES2_HANDLE_PROFILE_DELETED, SMSR_ES_IF_ES2,
					     "ES2-HandleProfileDeletedNotification",
					     "ES2-HandleProfileDeletedNotification", NULL,
					     GSMA_ACTION
					     "ES2/ProfileManagentCallBack/ES2-HandleProfileDeletedNotification",
					     NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	/* ES3 notifications to the SM-DP (ES3_SMDP.wsdl actions) */
	[SMSR_ES3_HANDLE_PROFILE_ENABLED] = {SMSR_ES3_HANDLE_PROFILE_ENABLED, SMSR_ES_IF_ES3,
					     "ES3-HandleProfileEnabledNotification",
					     "ES3-HandleProfileEnabledNotification", NULL,
					     GSMA_ACTION "ES3/PlatformManagement/ES3-HandleProfileEnabledNotification",
					     NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	[SMSR_ES3_HANDLE_PROFILE_DISABLED] = {SMSR_ES3_HANDLE_PROFILE_DISABLED, SMSR_ES_IF_ES3,
					      "ES3-HandleProfileDisabledNotification",
					      "ES3-HandleProfileDisabledNotification", NULL,
					      GSMA_ACTION
					      "ES3/PlatformManagement/ES3-HandleProfileDisabledNotification",
					      NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
	[SMSR_ES3_HANDLE_PROFILE_DELETED] = {SMSR_ES3_HANDLE_PROFILE_DELETED, SMSR_ES_IF_ES3,
					     "ES3-HandleProfileDeletedNotification",
					     "ES3-HandleProfileDeletedNotification", NULL,
					     GSMA_ACTION "ES3/PlatformManagement/ES3-HandleProfileDeletedNotification",
					     NULL, SMSR_ES_NOTIFICATION, "CompletionTimestamp"},
};

const struct smsr_es_func_desc *smsr_es_func_desc(enum smsr_es_func f)
{
	return (unsigned)f < SMSR_ES_FUNC_COUNT ? &s_funcs[f] : NULL;
}

/* Trailing token of an action URI: after the last '/' (or ':' for URN-style actions). */
static const char *s_action_token(const char *action)
{
	const char *slash = strrchr(action, '/'), *colon = strrchr(action, ':');
	const char *t = slash > colon ? slash : colon;

	return t ? t + 1 : action;
}

const struct smsr_es_func_desc *smsr_es_func_by_action(const char *action, unsigned ifaces)
{
	const char *tok;
	unsigned i;

	if (!action)
		return NULL;
	tok = s_action_token(action);
	if (!ifaces)
		ifaces = SMSR_ES_IF_ES1 | SMSR_ES_IF_ES4;
	for (i = 0; i < SMSR_ES_FUNC_COUNT; i++) {
		const struct smsr_es_func_desc *d = &s_funcs[i];
		size_t n = strlen(d->name);

		if (d->mep == SMSR_ES_NOTIFICATION || !(d->iface & ifaces))
			continue;
		if (!strncmp(tok, d->name, n) && (tok[n] == '\0' || !strcmp(tok + n, "Request")))
			return d;
		n = d->alias ? strlen(d->alias) : 0;
		if (n && !strncmp(tok, d->alias, n) && (tok[n] == '\0' || !strcmp(tok + n, "Request")))
			return d;
	}
	return NULL;
}

const struct smsr_es_func_desc *smsr_es_func_by_elem(const char *local)
{
	unsigned i;

	for (i = 0; local && i < SMSR_ES_FUNC_COUNT; i++)
		if (s_funcs[i].mep != SMSR_ES_NOTIFICATION && !strcmp(s_funcs[i].req_elem, local))
			return &s_funcs[i];
	return NULL;
}

/*
 * Status codes (sgp02.md §5.5; Reason 4.10 for Expired per the SGP.22 reason table, [N] uses 5.3)
 */

static const struct {
	const char *subject, *reason, *name;
} s_sc[SMSR_SC_COUNT] = {
	[SMSR_SC_NONE] = { NULL, NULL, "NONE" },
	[SMSR_SC_REQUESTER_UNKNOWN] = { "1.1", "1.1", "REQUESTER_UNKNOWN" },
	[SMSR_SC_REQUESTER_NOT_ALLOWED] = { "1.1", "1.2", "REQUESTER_NOT_ALLOWED" },
	[SMSR_SC_BUSY] = { "1.2", "4.4", "BUSY" },
	[SMSR_SC_PROVIDER_ERROR] = { "1.2", "4.2", "PROVIDER_ERROR" },
	[SMSR_SC_INVALID] = { "1.6", "2.1", "INVALID" },
	[SMSR_SC_MISSING_ELEMENT] = { "1.6", "2.2", "MISSING_ELEMENT" },
	[SMSR_SC_UNSUPPORTED] = { "1.6", "3.1", "UNSUPPORTED" },
	[SMSR_SC_EXPIRED] = { "1.6", "4.10", "EXPIRED" },
	[SMSR_SC_EUICC_NOT_ALLOWED] = { "8.1", "1.2", "EUICC_NOT_ALLOWED" },
	[SMSR_SC_EUICC_REFUSED] = { "8.1", "3.8", "EUICC_REFUSED" },
	[SMSR_SC_MEMORY] = { "8.1", "4.8", "MEMORY" },
	[SMSR_SC_EID_UNKNOWN] = { "8.1.1", "1.1", "EID_UNKNOWN" },
	[SMSR_SC_EID_INVALID] = { "8.1.1", "2.1", "EID_INVALID" },
	[SMSR_SC_EID_IN_USE] = { "8.1.1", "3.3", "EID_IN_USE" },
	[SMSR_SC_PROFILE_NOT_ALLOWED] = { "8.2.1", "1.2", "PROFILE_NOT_ALLOWED" },
	[SMSR_SC_ICCID_INVALID] = { "8.2.1", "2.1", "ICCID_INVALID" },
	[SMSR_SC_ICCID_IN_USE] = { "8.2.1", "3.3", "ICCID_IN_USE" },
	[SMSR_SC_ICCID_UNKNOWN] = { "8.2.1", "3.9", "ICCID_UNKNOWN" },
	[SMSR_SC_POL1_REFUSED] = { "8.2.2", "3.8", "POL1_REFUSED" },
	[SMSR_SC_POL2_INVALID] = { "8.2.3", "2.1", "POL2_INVALID" },
	[SMSR_SC_POL2_REFUSED] = { "8.2.3", "3.8", "POL2_REFUSED" },
	[SMSR_SC_ISDP_ERROR] = { "8.3", "4.2", "ISDP_ERROR" },
	[SMSR_SC_EUICC_ERROR] = { "8.4", "4.2", "EUICC_ERROR" },
	[SMSR_SC_EIS_UNKNOWN_REQUESTER] = { "8.6", "1.1", "EIS_UNKNOWN_REQUESTER" },
	[SMSR_SC_EIS_NOT_ALLOWED] = { "8.6", "1.2", "EIS_NOT_ALLOWED" },
	[SMSR_SC_EIS_INVALID] = { "8.6", "2.1", "EIS_INVALID" },
	[SMSR_SC_EIS_SIGNATURE] = { "8.6", "6.1", "EIS_SIGNATURE" },
	[SMSR_SC_SMSR_INVALID] = { "8.7", "2.1", "SMSR_INVALID" },
	[SMSR_SC_SMSR_UNKNOWN] = { "8.7", "3.9", "SMSR_UNKNOWN" },
};

const char *smsr_sc_subject(enum smsr_sc c)
{
	return (unsigned)c < SMSR_SC_COUNT ? s_sc[c].subject : NULL;
}

const char *smsr_sc_reason(enum smsr_sc c)
{
	return (unsigned)c < SMSR_SC_COUNT ? s_sc[c].reason : NULL;
}

enum smsr_sc smsr_sc_by_code(const char *subject, const char *reason)
{
	unsigned i;

	for (i = 1; subject && reason && i < SMSR_SC_COUNT; i++)
		if (!strcmp(s_sc[i].subject, subject) && !strcmp(s_sc[i].reason, reason))
			return (enum smsr_sc)i;
	return subject && *subject ? SMSR_SC_PROVIDER_ERROR : SMSR_SC_NONE;
}

const char *smsr_sc_name(enum smsr_sc c)
{
	return (unsigned)c < SMSR_SC_COUNT ? s_sc[c].name : "?";
}

static const char *const s_exec_status[] = { "EXECUTED_SUCCESS", "EXECUTED_WITHWARNING", "FAILED", "EXPIRED" };

/*
 * Decoding
 */

/* A body-level problem -> StatusCodeData; internal failures pass their rc through. */
static int s_field_status(const struct smsr_soap_field_err *fe, struct smsr_es_error *err)
{
	enum smsr_sc code;

	if (fe->internal) {
		snprintf(err->soap.text, sizeof(err->soap.text), "%s", fe->msg);
		snprintf(err->message, sizeof(err->message), "%s", fe->msg);
		err->code = SMSR_SC_PROVIDER_ERROR;
		return fe->rc < 0 ? fe->rc : -EIO;
	}
	if (fe->missing)
		code = SMSR_SC_MISSING_ELEMENT;
	else if (fe->unexpected)
		code = !strncmp(fe->path, "Eis/", 4) ? SMSR_SC_EIS_INVALID : SMSR_SC_INVALID;
	else if (!strncmp(fe->path, "Eis", 3) && (fe->path[3] == '\0' || fe->path[3] == '/'))
		code = SMSR_SC_EIS_INVALID;
	else if (!strcmp(fe->elem, "Eid"))
		code = SMSR_SC_EID_INVALID;
	else if (!strcmp(fe->elem, "Iccid"))
		code = SMSR_SC_ICCID_INVALID;
	else if (!strncmp(fe->path, "pol2", 4))
		code = SMSR_SC_POL2_INVALID;
	else if (!strcmp(fe->elem, "CurrentSMSRid") || !strcmp(fe->elem, "Target-Smsr-id"))
		code = SMSR_SC_SMSR_INVALID;
	else
		code = SMSR_SC_INVALID;
	err->code = code;
	snprintf(err->subject_id, sizeof(err->subject_id), "%s", fe->path[0] ? fe->path : fe->elem);
	snprintf(err->message, sizeof(err->message), "%s", fe->msg);
	snprintf(err->soap.text, sizeof(err->soap.text), "%s: %.80s: %.120s (%s/%s)", err->desc ? err->desc->name : "?",
		 err->subject_id, fe->msg, smsr_sc_subject(code), smsr_sc_reason(code));
	return -EBADMSG;
}

static int s_dec_eid(struct smsr_soap_cur *c, struct smsr_es_req *r)
{
	const xmlNode *n = smsr_soap_cur_req(c, "Eid");

	if (!n || smsr_soap_get_hex(c, n, r->eid, SMSR_EID_LEN, SMSR_EID_LEN) < 0)
		return -EBADMSG;
	r->has_eid = true;
	return 0;
}

static int s_dec_iccid(struct smsr_soap_cur *c, struct smsr_es_req *r)
{
	const xmlNode *n = smsr_soap_cur_req(c, "Iccid");

	if (!n || smsr_soap_get_iccid(c, n, r->iccid, sizeof(r->iccid)))
		return -EBADMSG;
	return 0;
}

/* AuditEIS: Iccid* (none = every profile) */
static int s_dec_iccids(struct smsr_soap_cur *c, struct smsr_es_req *r)
{
	const xmlNode *n;
	unsigned i, cnt;

	for (n = c->next, cnt = 0; n; n = n->next)
		cnt += n->type == XML_ELEMENT_NODE;
	if (cnt && !(r->iccids = talloc_zero_array(r, char *, cnt)))
		return -ENOMEM;
	for (i = 0; i < cnt && (n = smsr_soap_cur_opt(c, "Iccid")); i++) {
		r->iccids[i] = talloc_zero_array(r->iccids, char, SMSR_ICCID_MAX + 1);
		if (!r->iccids[i])
			return -ENOMEM;
		if (smsr_soap_get_iccid(c, n, r->iccids[i], SMSR_ICCID_MAX + 1))
			return -EBADMSG;
		r->n_iccids++;
	}
	return c->err->set ? -EBADMSG : 0;
}

/* CreateISDP, SendData: MoreToDo? */
static int s_dec_more_to_do(struct smsr_soap_cur *c, struct smsr_es_req *r)
{
	const xmlNode *n = smsr_soap_cur_opt(c, "MoreToDo");

	if (n) {
		if (smsr_soap_get_bool(c, n, &r->more_to_do))
			return -EBADMSG;
		r->has_more_to_do = true;
	}
	return c->err->set ? -EBADMSG : 0;
}

static int s_dec_smsr_id(struct smsr_soap_cur *c, struct smsr_es_req *r, const char *elem)
{
	const xmlNode *n = smsr_soap_cur_req(c, elem);

	return n && (r->smsr_id = smsr_soap_get_oid(c, n)) ? 0 : -EBADMSG;
}

/* ProfileType? (ES3 ProfileDownloadCompleted, ES2 DownloadProfile) */
static int s_dec_profile_type(struct smsr_soap_cur *c, struct smsr_es_req *r)
{
	const xmlNode *n = smsr_soap_cur_opt(c, "ProfileType");

	if (!n)
		return c->err->set ? -EBADMSG : 0;
	if (!(r->profile_type = smsr_soap_text(c, n, false)))
		return -EBADMSG;
	if (strlen(r->profile_type) > PROFILE_TYPE_MAX)
		return smsr_soap_field_fail(c->err, n, NULL, false, "ProfileType longer than %d", PROFILE_TYPE_MAX);
	return 0;
}

/* pol2? (ES3 ProfileDownloadCompleted, ES2 UpdatePolicyRules) */
static int s_dec_pol2_opt(struct smsr_soap_cur *c, struct smsr_es_req *r)
{
	const xmlNode *n = smsr_soap_cur_opt(c, "pol2");

	if (!n)
		return c->err->set ? -EBADMSG : 0;
	if (smsr_eis_xml_pol2_decode(r, n, &r->pol2, &r->n_pol2, c->err))
		return -EBADMSG;
	r->has_pol2 = true;
	return 0;
}

static int s_dec_body(struct smsr_soap_cur *c, struct smsr_es_req *r, const struct smsr_es_decode_opts *o)
{
	const xmlNode *n;
	uint64_t v;
	int rc;

	/* BaseRequestType */
	n = smsr_soap_cur_req(c, "FunctionCallIdentifier");
	if (!n || !(r->function_call_id = smsr_soap_text(c, n, true)))
		return -EBADMSG;
	if (strlen(r->function_call_id) > FCI_MAX)
		return smsr_soap_field_fail(c->err, n, NULL, false, "FunctionCallIdentifier longer than %d", FCI_MAX);
	if ((n = smsr_soap_cur_opt(c, "ValidityPeriod"))) {
		if (smsr_soap_get_uint(c, n, 1, UINT64_MAX, &v))
			return -EBADMSG;
		r->has_validity_period = true;
		r->validity_period = v;
	}
	if (c->err->set)
		return -EBADMSG;

	switch (r->func) {
	case SMSR_ES1_REGISTER_EIS:
		n = smsr_soap_cur_req(c, "Eis");
		if (!n || smsr_eis_xml_decode(r, (xmlNode *)n, &o->eis_in, &r->eis, c->err))
			return -EBADMSG;
		break;
	case SMSR_ES4_GET_EIS:
	case SMSR_ES3_GET_EIS:
		if (s_dec_eid(c, r))
			return -EBADMSG;
		break;
	case SMSR_ES4_AUDIT_EIS:
	case SMSR_ES3_AUDIT_EIS:
		if (s_dec_eid(c, r))
			return -EBADMSG;
		rc = s_dec_iccids(c, r);
		if (rc)
			return rc;
		break;
	case SMSR_ES4_UPDATE_POLICY_RULES:
	case SMSR_ES3_UPDATE_POLICY_RULES:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "pol2");
		if (!n || smsr_eis_xml_pol2_decode(r, n, &r->pol2, &r->n_pol2, c->err))
			return -EBADMSG;
		break;
	case SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS:
	case SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "newSubscriptionAddress");
		if (!n || smsr_eis_xml_subaddr_decode(r, n, r->imsi, r->msisdn, c->err))
			return -EBADMSG;
		break;
	case SMSR_ES4_ENABLE_PROFILE:
	case SMSR_ES4_DISABLE_PROFILE:
	case SMSR_ES4_DELETE_PROFILE:
	case SMSR_ES3_ENABLE_PROFILE:
	case SMSR_ES3_DISABLE_PROFILE:
	case SMSR_ES3_DELETE_ISDP:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r))
			return -EBADMSG;
		break;
	case SMSR_ES4_PREPARE_SMSR_CHANGE:
	case SMSR_ES4_SMSR_CHANGE:
		if (s_dec_eid(c, r))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, r->func == SMSR_ES4_SMSR_CHANGE ? "Target-Smsr-id" : "CurrentSMSRid");
		if (!n || !(r->smsr_id = smsr_soap_get_oid(c, n)))
			return -EBADMSG;
		break;
	case SMSR_ES3_CREATE_ISDP:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "Mno-id");
		if (!n || !(r->mno_id = smsr_soap_get_oid(c, n)))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "RequiredMemory");
		if (!n || smsr_soap_get_uint(c, n, 0, UINT32_MAX, &r->required_memory))
			return -EBADMSG;
		if (s_dec_more_to_do(c, r))
			return -EBADMSG;
		break;
	case SMSR_ES3_SEND_DATA: {
		int len;

		if (s_dec_eid(c, r))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "Sd-aid");
		if (!n || (len = smsr_soap_get_hex(c, n, r->sd_aid.b, 5, SMSR_AID_MAX)) < 0)
			return -EBADMSG;
		r->sd_aid.len = (uint8_t)len;
		n = smsr_soap_cur_req(c, "Data");
		if (!n || smsr_soap_get_hex_alloc(c, n, &r->data, &r->data_len) < 0)
			return -EBADMSG;
		if (!r->data_len)
			return smsr_soap_field_fail(c->err, n, NULL, false, "Data is empty");
		if (s_dec_more_to_do(c, r))
			return -EBADMSG;
		break;
	}
	case SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r))
			return -EBADMSG;
		if (s_dec_profile_type(c, r))
			return -EBADMSG;
		if ((n = smsr_soap_cur_opt(c, "SubscriptionAddress"))) {
			if (smsr_eis_xml_subaddr_decode(r, n, r->imsi, r->msisdn, c->err))
				return -EBADMSG;
			r->has_subscription_address = true;
		}
		if (s_dec_pol2_opt(c, r))
			return -EBADMSG;
		if (c->err->set)
			return -EBADMSG;
		break;
	/* ES2: the SM-SR id sits at a different place in each request (euicc.request.ES2.xsd) */
	case SMSR_ES2_GET_EIS:
		if (s_dec_eid(c, r) || s_dec_smsr_id(c, r, "Smsr-id"))
			return -EBADMSG;
		break;
	case SMSR_ES2_DOWNLOAD_PROFILE:
		if (s_dec_eid(c, r) || s_dec_smsr_id(c, r, "SmSr-id"))
			return -EBADMSG;
		if (s_dec_profile_type(c, r))
			return -EBADMSG;
		if ((n = smsr_soap_cur_opt(c, "Iccid")) && smsr_soap_get_iccid(c, n, r->iccid, sizeof(r->iccid)))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "EnableProfile");
		if (!n || smsr_soap_get_bool(c, n, &r->enable_profile))
			return -EBADMSG;
		if (c->err->set)
			return -EBADMSG;
		break;
	case SMSR_ES2_UPDATE_POLICY_RULES:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r) || s_dec_smsr_id(c, r, "Smsr-id"))
			return -EBADMSG;
		if (s_dec_pol2_opt(c, r))
			return -EBADMSG;
		if (c->err->set)
			return -EBADMSG;
		break;
	case SMSR_ES2_UPDATE_SUBSCRIPTION_ADDRESS:
		if (s_dec_eid(c, r) || s_dec_smsr_id(c, r, "Smsr-id") || s_dec_iccid(c, r))
			return -EBADMSG;
		n = smsr_soap_cur_req(c, "newSubscriptionAddress");
		if (!n || smsr_eis_xml_subaddr_decode(r, n, r->imsi, r->msisdn, c->err))
			return -EBADMSG;
		break;
	case SMSR_ES2_ENABLE_PROFILE:
	case SMSR_ES2_DISABLE_PROFILE:
		if (s_dec_eid(c, r) ||
		    s_dec_smsr_id(c, r, r->func == SMSR_ES2_ENABLE_PROFILE ? "SmSr-id" : "Smsr-id") ||
		    s_dec_iccid(c, r))
			return -EBADMSG;
		break;
	case SMSR_ES2_DELETE_PROFILE:
		if (s_dec_eid(c, r) || s_dec_iccid(c, r) || s_dec_smsr_id(c, r, "Smsr-id"))
			return -EBADMSG;
		break;
	default:
		return -EINVAL;
	}
	return smsr_soap_cur_end(c);
}

static char *s_dup(void *ctx, const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = talloc_strdup(ctx, s);
	if (!d)
		*oom = true;
	return d;
}

int smsr_es_decode(void *ctx, const struct smsr_soap_msg *m, const struct smsr_es_decode_opts *o,
		   struct smsr_es_req **out, struct smsr_es_error *err)
{
	static const struct smsr_es_decode_opts no_opts;
	const struct smsr_es_func_desc *da, *db;
	struct smsr_soap_field_err fe = { 0 };
	struct smsr_soap_cur c;
	struct smsr_es_req *r;
	bool oom = false;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (!o)
		o = &no_opts;
	if (!m || !m->body)
		return -EINVAL;
	da = smsr_es_func_by_action(m->action, o->interfaces);
	if (!da) {
		snprintf(err->soap.text, sizeof(err->soap.text), "wsa:Action %s names no function of this endpoint",
			 m->action);
		return -SMSR_SOAP_E_ACTION_UNKNOWN;
	}
	if (!m->body_ns || strcmp(m->body_ns, SMSR_NS_RPS)) {
		snprintf(err->soap.text, sizeof(err->soap.text), "body element {%s}%s is not in namespace %s",
			 m->body_ns ? m->body_ns : "", m->body_name, SMSR_NS_RPS);
		return -SMSR_SOAP_E_NAMESPACE;
	}
	db = smsr_es_func_by_elem(m->body_name);
	if (db != da) {
		snprintf(err->soap.text, sizeof(err->soap.text), "body element %s does not match wsa:Action %s",
			 m->body_name, m->action);
		return -SMSR_SOAP_E_ACTION_MISMATCH;
	}
	err->desc = da;

	r = talloc_zero(ctx, struct smsr_es_req);
	if (!r)
		return -ENOMEM;
	r->desc = da;
	r->func = da->func;
	r->message_id = s_dup(r, m->message_id, &oom);
	r->from_address = s_dup(r, m->from_address, &oom);
	r->from_entity_id = s_dup(r, m->from_entity_id, &oom);
	r->reply_to = s_dup(r, m->reply_to, &oom);
	r->transaction_id = s_dup(r, m->transaction_id, &oom);
	if (oom) {
		talloc_free(r);
		return -ENOMEM;
	}
	rc = smsr_soap_cur_init(&c, r, m->body, SMSR_NS_RPS, &fe);
	if (!rc)
		rc = s_dec_body(&c, r, o);
	if (rc == -ENOMEM && !fe.set) {
		fe.set = fe.internal = true;
		fe.rc = -ENOMEM;
		snprintf(fe.msg, sizeof(fe.msg), "out of memory");
	}
	if (rc || fe.set) {
		if (fe.set) {
			rc = s_field_status(&fe, err);
		} else if (rc == -EBADMSG) {
			err->code = SMSR_SC_INVALID;
			snprintf(err->soap.text, sizeof(err->soap.text), "%s: invalid request", da->name);
		}
		talloc_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int smsr_es_receive(void *ctx, const void *buf, size_t len, const struct smsr_soap_limits *lim,
		    const struct smsr_es_decode_opts *o, struct smsr_soap_msg **msg, struct smsr_es_req **out,
		    struct smsr_es_error *err)
{
	int rc;

	*msg = NULL;
	*out = NULL;
	memset(err, 0, sizeof(*err));
	rc = smsr_soap_parse(ctx, buf, len, lim, msg, &err->soap);
	if (rc)
		return rc;
	return smsr_es_decode(ctx, *msg, o, out, err);
}

/*
 * Building
 */

static int s_check_time(const char *t, const char *what, char *err_text, size_t err_cap)
{
	if (!t || smsr_soap_is_datetime(t))
		return 0;
	if (err_text && err_cap)
		snprintf(err_text, err_cap, "%s is not an xs:dateTime", what);
	return -EINVAL;
}

static void s_add_status(struct smsr_soap_bld *b, xmlNode *parent, const char *name, const struct smsr_es_result *r)
{
	xmlNode *fes = smsr_soap_add(b, parent, name, NULL), *scd;

	smsr_soap_add(b, fes, "Status", s_exec_status[r->status]);
	if (r->status == SMSR_EXEC_SUCCESS || r->code == SMSR_SC_NONE)
		return;
	scd = smsr_soap_add(b, fes, "StatusCodeData", NULL);
	smsr_soap_add(b, scd, "Subject", smsr_sc_subject(r->code));
	smsr_soap_add(b, scd, "Reason", smsr_sc_reason(r->code));
	if (r->subject_id)
		smsr_soap_add(b, scd, "SubjectIdentifier", r->subject_id);
	if (r->message)
		smsr_soap_add(b, scd, "Message", r->message);
}

void smsr_es_result_fail(struct smsr_es_result *r, enum smsr_sc code, const char *subject_id, const char *message)
{
	r->status = SMSR_EXEC_FAILED;
	r->code = code;
	r->subject_id = subject_id;
	r->message = message;
}

int smsr_es_response_body(void *ctx, enum smsr_es_func f, const struct smsr_es_result *r, void **holder,
			  xmlNode **body, char *err_text, size_t err_cap)
{
	const struct smsr_es_func_desc *d = smsr_es_func_desc(f);
	struct smsr_soap_bld b;
	xmlNode *root;
	int rc = 0;

	*holder = NULL;
	*body = NULL;
	if (err_text && err_cap)
		err_text[0] = '\0';
	if (!d || !d->resp_elem || !r || (unsigned)r->status > SMSR_EXEC_EXPIRED || (unsigned)r->code >= SMSR_SC_COUNT)
		return -EINVAL;
	if (s_check_time(r->processing_start, "ProcessingStart", err_text, err_cap) ||
	    s_check_time(r->processing_end, "ProcessingEnd", err_text, err_cap))
		return -EINVAL;
	root = smsr_soap_body_new(ctx, d->resp_elem, &b, holder);
	if (!root)
		return -ENOMEM;
	if (r->processing_start)
		smsr_soap_add(&b, root, "ProcessingStart", r->processing_start);
	if (r->processing_end)
		smsr_soap_add(&b, root, "ProcessingEnd", r->processing_end);
	if (r->acceptable_validity)
		smsr_soap_add_uint(&b, root, "AcceptableValidityPeriod", r->acceptable_validity);
	s_add_status(&b, root, "FunctionExecutionStatus", r);
	switch (f) {
	case SMSR_ES4_GET_EIS:
	case SMSR_ES4_AUDIT_EIS:
		if (r->eis)
			rc = smsr_eis_xml_encode(&b, root, "Eis", r->eis, &r->eis_opts, err_text, err_cap);
		break;
	case SMSR_ES4_ENABLE_PROFILE:
	case SMSR_ES4_DISABLE_PROFILE:
	case SMSR_ES4_DELETE_PROFILE:
	case SMSR_ES3_SEND_DATA:
	case SMSR_ES3_ENABLE_PROFILE:
	case SMSR_ES3_DISABLE_PROFILE:
	case SMSR_ES3_DELETE_ISDP:
		if (r->euicc_data)
			smsr_soap_add_hex(&b, root, "EuiccResponseData", r->euicc_data, r->euicc_len);
		break;
	case SMSR_ES3_GET_EIS:
	case SMSR_ES3_AUDIT_EIS:
	case SMSR_ES2_GET_EIS:
		if (r->eis)
			rc = smsr_eis_xml_encode(&b, root, "Eis", r->eis, &r->eis_opts, err_text, err_cap);
		break;
	case SMSR_ES2_DOWNLOAD_PROFILE:
		if (r->iccid)
			smsr_soap_add(&b, root, "Iccid", r->iccid);
		break;
	case SMSR_ES3_CREATE_ISDP:
		/* Isd-p-aid is mandatory in the response, also when the function failed (the AID that was
		 * attempted): without it there is no valid response */
		if (!r->isdp_aid && r->status != SMSR_EXEC_SUCCESS) {
			/* refused before an AID was chosen: the SGP.02 ISD-P AID prefix, no instance */
			static const uint8_t none[12] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10,
							 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89};
			smsr_soap_add_hex(&b, root, "Isd-p-aid", none, sizeof(none));
			break;
		}
		if (!r->isdp_aid || r->isdp_aid_len < 5 || r->isdp_aid_len > SMSR_AID_MAX) {
			if (err_text && err_cap)
				snprintf(err_text, err_cap, "ES3-CreateISDPResponse needs Isd-p-aid");
			rc = -EINVAL;
			break;
		}
		smsr_soap_add_hex(&b, root, "Isd-p-aid", r->isdp_aid, r->isdp_aid_len);
		if (r->euicc_data)
			smsr_soap_add_hex(&b, root, "EuiccResponseData", r->euicc_data, r->euicc_len);
		break;
	default:
		break;
	}
	if (!rc && b.oom)
		rc = -ENOMEM;
	if (!rc)
		rc = b.rc;
	if (rc) {
		TALLOC_FREE(*holder);
		return rc;
	}
	*body = root;
	return 0;
}

int smsr_es_build_response(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *req,
			   enum smsr_es_func f, const struct smsr_es_result *r, uint8_t **out, size_t *out_len)
{
	void *holder;
	xmlNode *body;
	int rc;

	rc = smsr_es_response_body(NULL, f, r, &holder, &body, NULL, 0);
	if (rc)
		return rc;
	rc = smsr_soap_build_response(ctx, self, req, smsr_es_func_desc(f)->resp_action, body, out, out_len, NULL);
	talloc_free(holder);
	return rc;
}

int smsr_es_build_callback(void *ctx, const struct smsr_soap_entity *self, const struct smsr_es_req *req,
			   const char *to, const struct smsr_es_result *r, uint8_t **out, size_t *out_len,
			   char **message_id)
{
	void *holder;
	xmlNode *body;
	int rc;

	if (!req || !req->desc || !req->message_id)
		return -EINVAL;
	if (req->reply_to && strcmp(req->reply_to, SMSR_WSA_ANONYMOUS))
		to = req->reply_to;
	if (!to)
		return -EINVAL;
	rc = smsr_es_response_body(NULL, req->func, r, &holder, &body, NULL, 0);
	if (rc)
		return rc;
	rc = smsr_soap_build_request(ctx, self, to, req->desc->resp_action, req->message_id, req->transaction_id, body,
				     out, out_len, message_id);
	talloc_free(holder);
	return rc;
}

int smsr_es_notification_body(void *ctx, const struct smsr_es_notif *n, void **holder, xmlNode **body,
			      char *err_text, size_t err_cap)
{
	const struct smsr_es_func_desc *d = n ? smsr_es_func_desc(n->func) : NULL;
	struct smsr_soap_bld b;
	xmlNode *root;
	int rc = 0;

	*holder = NULL;
	*body = NULL;
	if (err_text && err_cap)
		err_text[0] = '\0';
	if (!d || d->mep != SMSR_ES_NOTIFICATION || !n->completion_timestamp)
		return -EINVAL;
	if (s_check_time(n->completion_timestamp, d->timestamp_elem, err_text, err_cap))
		return -EINVAL;
	if (n->func == SMSR_ES4_HANDLE_SMSR_CHANGE ? !n->eis : (!n->eid || !n->iccid))
		return -EINVAL;
	root = smsr_soap_body_new(ctx, d->req_elem, &b, holder);
	if (!root)
		return -ENOMEM;
	if (n->func == SMSR_ES4_HANDLE_SMSR_CHANGE) {
		rc = smsr_eis_xml_encode(&b, root, "Eis", n->eis, &n->eis_opts, err_text, err_cap);
	} else {
		smsr_soap_add_hex(&b, root, "Eid", n->eid, SMSR_EID_LEN);
		smsr_soap_add(&b, root, "Iccid", n->iccid);
		if (d->iface == SMSR_ES_IF_ES3)
			smsr_soap_add(&b, root, "Mno-id", n->mno_id ? n->mno_id : "");
	}
	smsr_soap_add(&b, root, d->timestamp_elem, n->completion_timestamp);
	if (!rc && b.oom)
		rc = -ENOMEM;
	if (rc) {
		TALLOC_FREE(*holder);
		return rc;
	}
	*body = root;
	return 0;
}

int smsr_es_build_notification(void *ctx, const struct smsr_soap_entity *self, const char *to,
			       const struct smsr_es_notif *n, uint8_t **out, size_t *out_len, char **message_id)
{
	void *holder;
	xmlNode *body;
	int rc;

	rc = smsr_es_notification_body(NULL, n, &holder, &body, NULL, 0);
	if (rc)
		return rc;
	rc = smsr_soap_build_request(ctx, self, to, smsr_es_func_desc(n->func)->req_action, NULL, NULL, body, out,
				     out_len, message_id);
	talloc_free(holder);
	return rc;
}

int smsr_es_build_error_reply(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *msg, int rc,
			      const struct smsr_es_error *err, uint8_t **out, size_t *out_len, int *http_status)
{
	struct smsr_soap_fault f;
	bool status_level;

	status_level = msg && err && err->desc && err->desc->resp_elem && rc < 0 && rc != -ENOMEM &&
		       (rc == -EBADMSG || -rc < SMSR_SOAP_E_BASE);
	if (status_level) {
		struct smsr_es_result r = {
			.status = SMSR_EXEC_FAILED,
			.code = rc == -EBADMSG ? err->code : SMSR_SC_PROVIDER_ERROR,
			.subject_id = err->subject_id[0] ? err->subject_id : NULL,
			.message = err->message[0] ? err->message : NULL,
		};
		int brc = smsr_es_build_response(ctx, self, msg, err->desc->func, &r, out, out_len);
		if (!brc) {
			*http_status = 200;
			return 0;
		}
		/* a response the schema cannot carry without data we do not have (ES3-CreateISDPResponse needs an
		 * Isd-p-aid): answer with the Fault instead */
		if (brc == -ENOMEM)
			rc = -ENOMEM;
		else if (brc != -EINVAL)
			return brc;
	}
	smsr_soap_fault_from_error(rc, err ? &err->soap : NULL, msg ? msg->action : NULL, &f);
	*http_status = smsr_soap_fault_http_status(&f);
	return smsr_soap_build_fault(ctx, self, msg, &f, out, out_len);
}

/* ---- the requester's side (smdpd: ES3 requests out, responses and callbacks in) -------------------------------- */

static void s_add_eid(struct smsr_soap_bld *b, xmlNode *root, const uint8_t *eid)
{
	smsr_soap_add_hex(b, root, "Eid", eid, SMSR_EID_LEN);
}

int smsr_es_request_body(void *ctx, const struct smsr_es_req *r, void **holder, xmlNode **body)
{
	const struct smsr_es_func_desc *d = smsr_es_func_desc(r->func);
	struct smsr_soap_bld b;
	xmlNode *root;

	*holder = NULL;
	*body = NULL;
	if (!d || d->iface != SMSR_ES_IF_ES3 || !r->function_call_id)
		return -EINVAL;
	root = smsr_soap_body_new(ctx, d->req_elem, &b, holder);
	if (!root)
		return -ENOMEM;
	smsr_soap_add(&b, root, "FunctionCallIdentifier", r->function_call_id);
	if (r->has_validity_period)
		smsr_soap_add_uint(&b, root, "ValidityPeriod", r->validity_period);
	s_add_eid(&b, root, r->eid);
	switch (r->func) {
	case SMSR_ES3_GET_EIS:
		break;
	case SMSR_ES3_AUDIT_EIS:
		for (unsigned i = 0; i < r->n_iccids; i++)
			smsr_soap_add(&b, root, "Iccid", r->iccids[i]);
		break;
	case SMSR_ES3_CREATE_ISDP:
		smsr_soap_add(&b, root, "Iccid", r->iccid);
		smsr_soap_add(&b, root, "Mno-id", r->mno_id ? r->mno_id : "");
		smsr_soap_add_uint(&b, root, "RequiredMemory", r->required_memory);
		if (r->has_more_to_do)
			smsr_soap_add(&b, root, "MoreToDo", r->more_to_do ? "true" : "false");
		break;
	case SMSR_ES3_SEND_DATA:
		smsr_soap_add_hex(&b, root, "Sd-aid", r->sd_aid.b, r->sd_aid.len);
		smsr_soap_add_hex(&b, root, "Data", r->data, r->data_len);
		if (r->has_more_to_do)
			smsr_soap_add(&b, root, "MoreToDo", r->more_to_do ? "true" : "false");
		break;
	case SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED:
		smsr_soap_add(&b, root, "Iccid", r->iccid);
		if (r->profile_type)
			smsr_soap_add(&b, root, "ProfileType", r->profile_type);
		if (r->has_subscription_address)
			smsr_eis_xml_subaddr_encode(&b, root, "SubscriptionAddress", r->imsi, r->msisdn);
		if (r->has_pol2)
			smsr_eis_xml_pol2_encode(&b, root, "pol2", r->pol2, r->n_pol2);
		break;
	case SMSR_ES3_UPDATE_POLICY_RULES:
		/* pol2 is mandatory here (an empty rule list clears POL2) */
		smsr_soap_add(&b, root, "Iccid", r->iccid);
		smsr_eis_xml_pol2_encode(&b, root, "pol2", r->pol2, r->n_pol2);
		break;
	case SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS:
		smsr_soap_add(&b, root, "Iccid", r->iccid);
		smsr_eis_xml_subaddr_encode(&b, root, "newSubscriptionAddress", r->imsi, r->msisdn);
		break;
	default: /* Enable, Disable, DeleteISDP */
		smsr_soap_add(&b, root, "Iccid", r->iccid);
		break;
	}
	if (b.oom || b.rc) {
		int rc = b.oom ? -ENOMEM : b.rc;
		TALLOC_FREE(*holder);
		return rc;
	}
	*body = root;
	return 0;
}

int smsr_es_build_request(void *ctx, const struct smsr_soap_entity *self, const char *to, const char *reply_to,
			  const struct smsr_es_req *r, uint8_t **out, size_t *out_len, char **message_id)
{
	void *holder;
	xmlNode *body;
	int rc = smsr_es_request_body(NULL, r, &holder, &body);

	if (rc)
		return rc;
	rc = smsr_soap_build_request_ex(ctx, self, to, reply_to, smsr_es_func_desc(r->func)->req_action, NULL,
					r->transaction_id, body, out, out_len, message_id);
	talloc_free(holder);
	return rc;
}

int smsr_es_result_decode(void *ctx, const struct smsr_soap_msg *m, enum smsr_es_func f, struct smsr_es_result_in *out,
			  char *err, size_t cap)
{
	const struct smsr_es_func_desc *d = smsr_es_func_desc(f);
	struct smsr_soap_field_err fe = {0};
	struct smsr_soap_cur c, sc;
	const xmlNode *n, *st;
	char *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!d || !d->resp_elem || !m->body || strcmp(m->body_name, d->resp_elem) || !m->body_ns ||
	    strcmp(m->body_ns, SMSR_NS_RPS)) {
		snprintf(err, cap, "expected %s, got %s", d ? d->resp_elem : "?",
			 m->body_name ? m->body_name : "nothing");
		return -EBADMSG;
	}
	if (smsr_soap_cur_init(&c, ctx, m->body, SMSR_NS_RPS, &fe))
		goto malformed;
	smsr_soap_cur_opt(&c, "ProcessingStart");
	smsr_soap_cur_opt(&c, "ProcessingEnd");
	smsr_soap_cur_opt(&c, "AcceptableValidityPeriod");
	n = smsr_soap_cur_req(&c, "FunctionExecutionStatus");
	if (!n || smsr_soap_cur_init(&sc, ctx, n, SMSR_NS_RPS, &fe))
		goto malformed;
	st = smsr_soap_cur_req(&sc, "Status");
	if (!st || (rc = smsr_soap_get_enum(&sc, st,
					    (const char *const[]){s_exec_status[0], s_exec_status[1], s_exec_status[2],
								  s_exec_status[3], NULL})) < 0)
		goto malformed;
	out->status = (enum smsr_exec_status)rc;
	if ((n = smsr_soap_cur_opt(&sc, "StatusCodeData"))) {
		struct smsr_soap_cur dc;
		if (smsr_soap_cur_init(&dc, ctx, n, SMSR_NS_RPS, &fe))
			goto malformed;
		if ((n = smsr_soap_cur_req(&dc, "Subject")) && (s = smsr_soap_text(&dc, n, false)))
			snprintf(out->subject, sizeof(out->subject), "%s", s);
		if ((n = smsr_soap_cur_req(&dc, "Reason")) && (s = smsr_soap_text(&dc, n, false)))
			snprintf(out->reason, sizeof(out->reason), "%s", s);
		if ((n = smsr_soap_cur_opt(&dc, "SubjectIdentifier")))
			smsr_soap_text(&dc, n, false);
		if ((n = smsr_soap_cur_opt(&dc, "Message")) && (s = smsr_soap_text(&dc, n, false)))
			snprintf(out->message, sizeof(out->message), "%s", s);
	}
	if (fe.set)
		goto malformed;
	switch (f) {
	case SMSR_ES3_GET_EIS:
	case SMSR_ES3_AUDIT_EIS:
		if ((n = smsr_soap_cur_opt(&c, "Eis"))) {
			struct smsr_eis_xml_in in = {0};
			if (smsr_eis_xml_decode(ctx, (xmlNode *)n, &in, &out->eis, &fe) < 0)
				goto malformed;
		}
		break;
	case SMSR_ES3_CREATE_ISDP:
		n = smsr_soap_cur_req(&c, "Isd-p-aid");
		rc = n ? smsr_soap_get_hex(&c, n, out->isdp_aid, 5, sizeof(out->isdp_aid)) : -EBADMSG;
		if (rc < 0)
			goto malformed;
		out->isdp_aid_len = (size_t)rc;
		/* fall through */
	case SMSR_ES3_SEND_DATA:
	case SMSR_ES3_ENABLE_PROFILE:
	case SMSR_ES3_DISABLE_PROFILE:
	case SMSR_ES3_DELETE_ISDP:
		if ((n = smsr_soap_cur_opt(&c, "EuiccResponseData")) &&
		    smsr_soap_get_hex_alloc(&c, n, &out->euicc_data, &out->euicc_len) < 0)
			goto malformed;
		break;
	default:
		break;
	}
	if (fe.set || smsr_soap_cur_end(&c) < 0)
		goto malformed;
	return 0;
malformed:
	snprintf(err, cap, "%s: %s %s", d->resp_elem, fe.set ? fe.path : "", fe.set ? fe.msg : "malformed");
	return -EBADMSG;
}

int smsr_es_notification_decode(void *ctx, const struct smsr_soap_msg *m, unsigned ifaces, struct smsr_es_notif_in *out,
				char *err, size_t cap)
{
	struct smsr_soap_field_err fe = {0};
	const struct smsr_es_func_desc *d = NULL;
	struct smsr_soap_cur c;
	struct smsr_es_req r = {0};
	const xmlNode *n;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; m->body_name && i < SMSR_ES_FUNC_COUNT; i++)
		if (s_funcs[i].mep == SMSR_ES_NOTIFICATION && (s_funcs[i].iface & ifaces) &&
		    !strcmp(s_funcs[i].req_elem, m->body_name) && s_funcs[i].func != SMSR_ES4_HANDLE_SMSR_CHANGE)
			d = &s_funcs[i];
	if (!d || !m->body_ns || strcmp(m->body_ns, SMSR_NS_RPS)) {
		snprintf(err, cap, "%s is no profile notification", m->body_name ? m->body_name : "nothing");
		return -EBADMSG;
	}
	out->func = d->func;
	if (smsr_soap_cur_init(&c, ctx, m->body, SMSR_NS_RPS, &fe) || s_dec_eid(&c, &r) || s_dec_iccid(&c, &r))
		goto malformed;
	memcpy(out->eid, r.eid, SMSR_EID_LEN);
	memcpy(out->iccid, r.iccid, sizeof(out->iccid));
	if (d->iface == SMSR_ES_IF_ES3) {
		n = smsr_soap_cur_req(&c, "Mno-id");
		if (!n || !(out->mno_id = smsr_soap_get_oid(&c, n)))
			goto malformed;
	}
	n = smsr_soap_cur_req(&c, d->timestamp_elem);
	if (!n || !(out->completion_timestamp = smsr_soap_get_datetime(&c, n)) || smsr_soap_cur_end(&c) < 0)
		goto malformed;
	return 0;
malformed:
	snprintf(err, cap, "%s: %s %s", d->req_elem, fe.set ? fe.path : "", fe.set ? fe.msg : "malformed");
	return -EBADMSG;
}
