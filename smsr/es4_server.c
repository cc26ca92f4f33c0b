/* ES1/ES4 SOAP endpoint: authentication, decoding, pre-checks, synchronous functions (see es4_server.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "smsr/es4_server.h"
#include "smsr/smsrd.h"
#include "smsr/db.h"
#include "smsr/es_msg.h"
#include "smsr/es1_register.h"
#include "smsr/es1_sig.h"
#include "smsr/es4_proc.h"
#include "smsr/https.h"
#include "smsr/logging.h"
#include "ota/keystore_wrap.h"
#include "proto/errors.h"
#include "proto/hex.h"

static const char soap_ct[] = "application/soap+xml; charset=utf-8";

struct smsr_es4 {
	struct smsrd *d;
	struct smsr_es1_keys keys;	/*!< RegisterEIS: transport key → master key */
	struct smsr_soap_entity self;
	struct smsr_soap_limits lim;
	struct smsr_es1_sig_ctx *sig; /*!< EumSignature verification (NULL: RegisterEIS refused) */
};

int smsr_es4_new(void *ctx, struct smsrd *d, struct ota_key *transport_key, struct smsr_es4 **out)
{
	struct smsr_es4 *e = talloc_zero(ctx, struct smsr_es4);

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->d = d;
	e->keys.master = d->master;
	e->keys.transport_key = transport_key;
	e->self.address = talloc_asprintf(e, "https://%s/es4", d->cfg.es4_listen);
	e->self.entity_id = d->cfg.entity_id;
	e->self.entity_name = d->cfg.entity_name;
	if (d->cfg.ci_cert_file[0]) {
		char why[256];
		int rc = smsr_es1_sig_ctx_new(e, d->cfg.ci_cert_file,
					      d->cfg.eum_cert_dir[0] ? d->cfg.eum_cert_dir : NULL, &e->sig, why,
					      sizeof(why));
		if (rc < 0) {
			LOGP(DMAIN, LOGL_ERROR, "EUM signature trust: %s", why);
			talloc_free(e);
			return rc;
		}
	}
	smsr_soap_limits_default(&e->lim);
	e->lim.max_body = d->cfg.max_body;
	*out = e;
	return 0;
}

/* where the answer of one request goes: the HTTPS request, or the ES3 ZeroMQ link */
struct s_out {
	void *ctx; /* talloc context living until the answer */
	smsr_es4_reply_cb fn;
	void *data;
	const char *peer; /* for log lines */
};

static void reply(struct s_out *o, int code, const uint8_t *body, size_t len)
{
	o->fn(o->data, code, body, len);
}

static void http_reply(void *data, int code, const uint8_t *body, size_t len)
{
	struct smsr_https_req *r = data;

	if (code >= 400 && (!len || body[0] != '<'))
		smsr_https_reply(r, code, "text/plain", body, len, NULL);
	else
		smsr_https_reply(r, code, len ? soap_ct : NULL, body, len, NULL);
}

static void now_str(char *out, size_t cap)
{
	smsr_soap_datetime(time(NULL), out, cap);
}

/* answer req with a result (sync response) */
static void respond(struct smsr_es4 *e, struct s_out *r, const struct smsr_soap_msg *msg, const struct smsr_es_req *req,
		    struct smsr_es_result *res, const char *requester)
{
	uint8_t *out;
	size_t len;
	char t[32];
	int rc;

	now_str(t, sizeof(t));
	if (!res->processing_end)
		res->processing_end = t;
	rc = smsr_es_build_response(r->ctx, &e->self, msg, req->func, res, &out, &len);
	if (rc < 0) {
		LOG_TXN(req->function_call_id, DSOAP, LOGL_ERROR, "%s: cannot build the response: %s", req->desc->name,
			proto_strerror(rc));
		reply(r, 500, (const uint8_t *)"internal error\n", 15);
		return;
	}
	if (res->code != SMSR_SC_NONE)
		LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "%s from %s: %s %s/%s (%s)", req->desc->name,
			requester, smsr_exec_status_name(res->status), smsr_sc_subject(res->code),
			smsr_sc_reason(res->code), smsr_sc_name(res->code));
	else
		LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "%s from %s: %s", req->desc->name, requester,
			smsr_exec_status_name(res->status));
	reply(r, 200, out, len);
}

/* the EIS of req's EID, if this MNO may see it (it owns a profile on it); fills res on failure */
static struct smsr_eis *eis_for_mno(struct smsr_es4 *e, void *ctx, const struct smsr_es_req *req, const char *mno,
				    struct smsr_es_result *res)
{
	struct smsr_eis *eis;
	unsigned i;
	int rc = smsr_db_eis_get(e->d->db, NULL, ctx, req->eid, &eis);

	if (rc == -ENOENT) {
		smsr_es_result_fail(res, SMSR_SC_EID_UNKNOWN, NULL, "unknown EID");
		return NULL;
	}
	if (rc < 0) {
		smsr_es_result_fail(res, SMSR_SC_PROVIDER_ERROR, NULL, "store error");
		return NULL;
	}
	for (i = 0; i < eis->n_profiles; i++)
		if (eis->profiles[i].mno_id && !strcmp(eis->profiles[i].mno_id, mno))
			return eis;
	smsr_es_result_fail(res, SMSR_SC_EIS_NOT_ALLOWED, NULL, "no profile of the requester on this eUICC");
	return NULL;
}

/* the profile req names, owned by mno; fills res on failure */
static struct smsr_profile *profile_for_mno(struct smsr_eis *eis, const struct smsr_es_req *req, const char *mno,
					    struct smsr_es_result *res)
{
	struct smsr_profile *p = smsr_eis_profile_by_iccid(eis, req->iccid);

	if (!p) {
		smsr_es_result_fail(res, SMSR_SC_ICCID_UNKNOWN, req->iccid, "unknown ICCID on this eUICC");
		return NULL;
	}
	if (!p->mno_id || strcmp(p->mno_id, mno)) {
		smsr_es_result_fail(res, SMSR_SC_PROFILE_NOT_ALLOWED, req->iccid, "profile of another MNO");
		return NULL;
	}
	return p;
}

static int store_update(struct smsr_es4 *e, const struct smsr_eis *eis)
{
	struct smsr_db_txn *txn;
	int rc = smsr_db_txn_begin(e->d->db, &txn);

	if (rc < 0)
		return rc;
	rc = smsr_db_eis_update(e->d->db, txn, eis);
	if (rc < 0) {
		smsr_db_txn_abort(&txn);
		return rc;
	}
	return smsr_db_txn_commit(&txn);
}

/* the synchronous profile changes, stored: UpdatePolicyRules and UpdateSubscriptionAddress (ES4 by the owning MNO,
 * ES3 by the profile's SM-DP) and ES3 ProfileDownloadCompleted (Created -> Disabled; a retry finds it Disabled and
 * succeeds again) */
static void profile_update(struct smsr_es4 *e, struct smsr_eis *eis, struct smsr_profile *p,
			   const struct smsr_es_req *req, struct smsr_es_result *res)
{
	int rc;

	switch (req->func) {
	case SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED:
		if (p->state == SMSR_PROFILE_ENABLED) {
			smsr_es_result_fail(res, SMSR_SC_PROFILE_NOT_ALLOWED, req->iccid, "profile already Enabled");
			return;
		}
		p->state = SMSR_PROFILE_DISABLED;
		if (req->profile_type)
			p->profile_type = talloc_strdup(eis, req->profile_type);
		if (req->has_subscription_address) {
			snprintf(p->imsi, sizeof(p->imsi), "%s", req->imsi);
			snprintf(p->msisdn, sizeof(p->msisdn), "%s", req->msisdn);
		}
		if (req->has_pol2) {
			p->pol2 = talloc_steal(eis, req->pol2);
			p->n_pol2 = req->n_pol2;
		}
		LOG_EIS(req->eid, DSOAP, LOGL_INFO, "profile %s downloaded: Disabled", req->iccid);
		break;
	case SMSR_ES3_UPDATE_POLICY_RULES:
	case SMSR_ES4_UPDATE_POLICY_RULES:
		p->pol2 = talloc_steal(eis, req->pol2);
		p->n_pol2 = req->n_pol2;
		break;
	default: /* UpdateSubscriptionAddress */
		snprintf(p->imsi, sizeof(p->imsi), "%s", req->imsi);
		snprintf(p->msisdn, sizeof(p->msisdn), "%s", req->msisdn);
		if (p->state == SMSR_PROFILE_ENABLED && req->msisdn[0])
			snprintf(eis->isdr_msisdn, sizeof(eis->isdr_msisdn), "%s", req->msisdn);
		break;
	}
	rc = store_update(e, eis);
	if (rc == -EEXIST)
		smsr_es_result_fail(res, SMSR_SC_INVALID,
				    req->func == SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED ? "SubscriptionAddress"
										     : "newSubscriptionAddress",
				    "MSISDN used by another eUICC");
	else if (rc < 0)
		smsr_es_result_fail(res, SMSR_SC_PROVIDER_ERROR, NULL, "store error");
}

/* the profile of req that the requesting SM-DP manages (ES3); fills res on failure */
static struct smsr_profile *profile_for_smdp(struct smsr_es4 *e, void *ctx, const struct smsr_es_req *req,
					     const char *smdp, struct smsr_eis **eis, struct smsr_es_result *res)
{
	struct smsr_profile *p;
	int rc = smsr_db_eis_get(e->d->db, NULL, ctx, req->eid, eis);

	if (rc < 0) {
		smsr_es_result_fail(res, rc == -ENOENT ? SMSR_SC_EID_UNKNOWN : SMSR_SC_PROVIDER_ERROR, NULL,
				    rc == -ENOENT ? "unknown EID" : "store error");
		return NULL;
	}
	p = smsr_eis_profile_by_iccid(*eis, req->iccid);
	if (!p) {
		smsr_es_result_fail(res, SMSR_SC_ICCID_UNKNOWN, req->iccid, "unknown ICCID on this eUICC");
		return NULL;
	}
	if (!p->smdp_id || strcmp(p->smdp_id, smdp)) {
		smsr_es_result_fail(res, SMSR_SC_PROFILE_NOT_ALLOWED, req->iccid, "profile of another SM-DP");
		return NULL;
	}
	return p;
}

static void handle_sync(struct smsr_es4 *e, struct s_out *r, const struct smsr_soap_msg *msg, struct smsr_es_req *req,
			const struct smsr_cfg_requester *who)
{
	struct smsr_es_result res = {.status = SMSR_EXEC_SUCCESS, .code = SMSR_SC_NONE};
	struct smsr_eis *eis = NULL;
	struct smsr_profile *p;
	char start[32];
	char why[256];
	int rc;

	now_str(start, sizeof(start));
	res.processing_start = start;
	switch (req->func) {
	case SMSR_ES1_REGISTER_EIS:
		if (strcmp(who->role, "eum")) {
			smsr_es_result_fail(&res, SMSR_SC_REQUESTER_NOT_ALLOWED, NULL, "only an EUM registers eUICCs");
			break;
		}
		rc = smsr_es1_register_check(e->sig, req->eis, who->entity_id, e->d->cfg.entity_id, &res, why,
					     sizeof(why));
		if (rc < 0) {
			LOG_EIS(req->eis->eid, DSOAP, LOGL_NOTICE, "RegisterEIS refused (%s): %s",
				smsr_sc_name(res.code), why);
			break;
		}
		LOG_EIS(req->eis->eid, DSOAP, LOGL_INFO, "%s", why);
		rc = smsr_db_eis_insert(e->d->db, NULL, req->eis);
		smsr_es1_register_store_result(rc, &res);
		if (rc == 0)
			LOG_EIS(req->eis->eid, DDB, LOGL_INFO, "registered by %s (%u profiles)", who->entity_id,
				req->eis->n_profiles);
		break;
	case SMSR_ES4_GET_EIS:
		eis = eis_for_mno(e, r->ctx, req, who->entity_id, &res);
		if (eis) {
			res.eis = eis;
			res.eis_opts.view = SMSR_EIS_VIEW_MNO;
			res.eis_opts.viewer_id = who->entity_id;
		}
		break;
	case SMSR_ES4_UPDATE_POLICY_RULES:
	case SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS:
		eis = eis_for_mno(e, r->ctx, req, who->entity_id, &res);
		if (eis && (p = profile_for_mno(eis, req, who->entity_id, &res)))
			profile_update(e, eis, p, req, &res);
		break;
	case SMSR_ES3_GET_EIS:
		rc = smsr_db_eis_get(e->d->db, NULL, r->ctx, req->eid, &eis);
		if (rc == -ENOENT) {
			smsr_es_result_fail(&res, SMSR_SC_EID_UNKNOWN, NULL, "unknown EID");
		} else if (rc < 0) {
			smsr_es_result_fail(&res, SMSR_SC_PROVIDER_ERROR, NULL, "store error");
		} else {
			/* the SM-DP sees its own profiles and the certificates it needs for ES8 */
			res.eis = eis;
			res.eis_opts.view = SMSR_EIS_VIEW_SMDP;
			res.eis_opts.viewer_id = who->entity_id;
		}
		break;
	case SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED:
	case SMSR_ES3_UPDATE_POLICY_RULES:
	case SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS:
		if ((p = profile_for_smdp(e, r->ctx, req, who->entity_id, &eis, &res)))
			profile_update(e, eis, p, req, &res);
		break;
	case SMSR_ES4_ENABLE_PROFILE:
	case SMSR_ES4_DISABLE_PROFILE:
	case SMSR_ES4_DELETE_PROFILE:
	case SMSR_ES4_AUDIT_EIS:
	case SMSR_ES3_AUDIT_EIS:
	case SMSR_ES3_CREATE_ISDP:
	case SMSR_ES3_SEND_DATA:
	case SMSR_ES3_ENABLE_PROFILE:
	case SMSR_ES3_DISABLE_PROFILE:
	case SMSR_ES3_DELETE_ISDP:
		/* asynchronous: journalled before the 202, the result comes as a callback */
		rc = smsr_proc_accept(e->d->proc, req, who, &res);
		if (rc == 0) {
			LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "%s from %s: accepted (202)", req->desc->name,
				who->entity_id);
			reply(r, 202, (const uint8_t *)"", 0);
			return;
		}
		if (rc != -EPERM)
			smsr_es_result_fail(&res, SMSR_SC_PROVIDER_ERROR, NULL, "store error");
		break;
	default:
		smsr_es_result_fail(&res, SMSR_SC_UNSUPPORTED, NULL, "not supported by this SM-SR");
		break;
	}
	respond(e, r, msg, req, &res, who->entity_id);
}

/* GET /wsdl/<file> and /wsdl/gsma-schema/<path>: our WSDLs (their service address rewritten to this endpoint) and
 * the GSMA XSDs they include, for SOAP toolkits; /es4?wsdl is the ES4 WSDL */
static void serve_wsdl(struct smsr_es4 *e, struct smsr_https_req *r)
{
	const char *rel = NULL, *dir = e->d->cfg.wsdl_dir;
	char path[768];
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f;
	bool wsdl;

	if (!strcmp(r->path, "/es4") && !strcmp(r->query, "wsdl"))
		rel = "smsr-es4.wsdl";
	else if (!strncmp(r->path, "/wsdl/gsma-schema/", 18))
		rel = r->path + 18, dir = e->d->cfg.schema_dir;
	else if (!strncmp(r->path, "/wsdl/", 6))
		rel = r->path + 6;
	/* plain relative names only: no "..", no hidden files, no absolute paths */
	if (!rel || !*rel || strstr(rel, "..") || rel[0] == '/' ||
	    strspn(rel, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != strlen(rel) ||
	    strstr(rel, "/.") || rel[0] == '.' ||
	    snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path) || !(f = fopen(path, "rb"))) {
		smsr_https_reply(r, 404, "text/plain", "not found\n", 10, NULL);
		return;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = cap < (4 << 20) ? talloc_realloc(r, buf, uint8_t, cap ? 2 * cap : 65536) : NULL;
			if (!nb)
				break;
			buf = nb;
			cap = talloc_get_size(buf);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	wsdl = strlen(rel) > 5 && !strcmp(rel + strlen(rel) - 5, ".wsdl");
	if (wsdl) {
		/* point the service address at this endpoint */
		char *text = talloc_strndup(r, (const char *)buf, n), *at;
		const char *ours = e->self.address;
		while (text && (at = strstr(text, "https://smsr.example.com/es"))) {
			char *rest = at + strlen("https://smsr.example.com/es") + 1;
			*at = '\0';
			text = talloc_asprintf(r, "%s%s%s", text, ours, rest);
		}
		if (text) {
			buf = (uint8_t *)text;
			n = strlen(text);
		}
	}
	smsr_https_reply(r, 200, wsdl ? "application/wsdl+xml" : "application/xml", buf, n, NULL);
}

/* decode, authenticate (who: NULL = unknown requester), check and run one request; the answer goes to o */
static void handle(struct smsr_es4 *e, struct s_out *o, const struct smsr_cfg_requester *who, const uint8_t *body,
		   size_t body_len)
{
	struct smsr_es_decode_opts opts = {0};
	struct smsr_soap_msg *msg = NULL;
	struct smsr_es_req *req = NULL;
	struct smsr_es_error err;
	uint8_t *out;
	size_t len;
	int rc, http;

	opts.interfaces = !who			       ? SMSR_ES_IF_ES4
			  : !strcmp(who->role, "eum")  ? SMSR_ES_IF_ES1
			  : !strcmp(who->role, "smdp") ? SMSR_ES_IF_ES3
						       : SMSR_ES_IF_ES4;
	opts.eis_in.key_import = smsr_es1_key_import;
	opts.eis_in.key_data = &e->keys;
	opts.eis_in.lim = &e->lim;
	rc = smsr_es_receive(o->ctx, body, body_len, &e->lim, &opts, &msg, &req, &err);
	if (rc < 0) {
		LOGP(DSOAP, LOGL_NOTICE, "request from %s (%s) rejected: %s", o->peer,
		     who ? who->entity_id : "unknown requester", err.soap.text);
		if (smsr_es_build_error_reply(o->ctx, &e->self, msg, rc, &err, &out, &len, &http) == 0)
			reply(o, http, out, len);
		else
			reply(o, 400, (const uint8_t *)"bad request\n", 12);
		return;
	}
	if (!who) {
		struct smsr_es_result res = {.status = SMSR_EXEC_FAILED,
					     .code = SMSR_SC_REQUESTER_UNKNOWN,
					     .message = "client certificate not configured as a requester"};
		LOGP(DSOAP, LOGL_NOTICE, "%s from unknown requester %s", req->desc->name, o->peer);
		respond(e, o, msg, req, &res, "unknown");
		return;
	}
	if (req->from_entity_id && strcmp(req->from_entity_id, who->entity_id)) {
		struct smsr_es_result res = {.status = SMSR_EXEC_FAILED,
					     .code = SMSR_SC_REQUESTER_NOT_ALLOWED,
					     .message = "wsa:From EntityId does not match the authenticated requester"};
		respond(e, o, msg, req, &res, who->entity_id);
		return;
	}
	handle_sync(e, o, msg, req, who);
}

void smsr_es4_handle(struct smsr_es4 *e, struct smsr_https_req *r)
{
	struct s_out o = {.ctx = r, .fn = http_reply, .data = r};

	if (!strcmp(r->method, "GET")) {
		serve_wsdl(e, r);
		return;
	}
	if (strcmp(r->method, "POST")) {
		smsr_https_reply(r, 405, "text/plain", "POST only\n", 10, (const char *const[]){"Allow", "POST", NULL});
		return;
	}
	o.peer = r->peer_subject ? talloc_asprintf(r, "%s (%s)", r->peer_addr, r->peer_subject) : r->peer_addr;
	handle(e, &o, smsr_config_requester_by_tls(&e->d->cfg, r->peer_subject, r->peer_fingerprint), r->body,
	       r->body_len);
}

void smsr_es4_handle_msg(struct smsr_es4 *e, const struct smsr_cfg_requester *who, const char *peer,
			 const uint8_t *body, size_t len, smsr_es4_reply_cb fn, void *data)
{
	struct s_out o = {.ctx = talloc_new(NULL), .fn = fn, .data = data, .peer = peer};

	handle(e, &o, who, body, len);
	talloc_free(o.ctx);
}
