/* The SM-DP's ES2 SOAP endpoint (see es2_server.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <talloc.h>
#include <event2/event.h>
#include "smdp/es2_server.h"
#include "smdp/download.h"
#include "smsr/config.h"
#include "smsr/es_msg.h"
#include "smsr/https.h"
#include "smsr/logging.h"
#include "proto/errors.h"

static const char soap_ct[] = "application/soap+xml; charset=utf-8";

/* an MNO request waiting for the SM-SR's answer */
struct relay {
	LIST_ENTRY(relay) entry;
	struct smdp_es2 *e;
	uint64_t tag;
	struct smsr_https_req *r;
	struct smsr_soap_msg *msg; /* the MNO's request (RelatesTo of our answer) */
	struct smsr_es_req *req;
	enum smsr_es_func es3func;
	char *mno;
	struct event *timer;
};

struct smdp_es2 {
	struct smsr_soap_entity self;
	char *smsr_id, *es3_to;
	struct smsr_soap_limits lim;
	struct smdp_dl *dl;
	smdp_es2_lookup_cb lookup;
	void *lookup_data;
	smdp_es2_es3_send_cb es3_send;
	void *es3_data;
	long es3_timeout_ms;
	struct event_base *base;
	uint64_t next_tag;
	LIST_HEAD(, relay) relays;
};

int smdp_es2_new(void *ctx, const struct smsr_soap_entity *self, const char *smsr_id, const char *es3_to,
		 size_t max_body, struct smdp_dl *dl, smdp_es2_lookup_cb lookup, void *lookup_data,
		 smdp_es2_es3_send_cb es3_send, void *es3_data, long es3_timeout_ms, struct event_base *base,
		 struct smdp_es2 **out)
{
	struct smdp_es2 *e = talloc_zero(ctx, struct smdp_es2);

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->self = *self;
	e->smsr_id = talloc_strdup(e, smsr_id);
	e->es3_to = talloc_strdup(e, es3_to);
	smsr_soap_limits_default(&e->lim);
	if (max_body)
		e->lim.max_body = max_body;
	e->dl = dl;
	e->lookup = lookup;
	e->lookup_data = lookup_data;
	e->es3_send = es3_send;
	e->es3_data = es3_data;
	e->es3_timeout_ms = es3_timeout_ms;
	e->base = base;
	/* relay tags of this run never repeat a previous run's (a late answer is matched by tag) */
	e->next_tag = ((uint64_t)time(NULL) & 0xFFFFFFFF) << 24;
	LIST_INIT(&e->relays);
	*out = e;
	return 0;
}

static void respond(struct smdp_es2 *e, struct smsr_https_req *r, const struct smsr_soap_msg *msg,
		    const struct smsr_es_req *req, struct smsr_es_result *res, const char *who)
{
	char t[32];
	uint8_t *out;
	size_t len;
	int rc;

	if (!res->processing_end)
		res->processing_end = smsr_soap_datetime(time(NULL), t, sizeof(t));
	rc = smsr_es_build_response(r, &e->self, msg, req->func, res, &out, &len);
	if (rc < 0) {
		LOG_TXN(req->function_call_id, DSOAP, LOGL_ERROR, "%s: cannot build the response: %s", req->desc->name,
			proto_strerror(rc));
		smsr_https_reply(r, 500, "text/plain", "internal error\n", 15, NULL);
		return;
	}
	LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "%s from %s: %s%s%s", req->desc->name, who,
		smsr_exec_status_name(res->status), res->code ? " " : "", res->code ? smsr_sc_name(res->code) : "");
	smsr_https_reply(r, 200, soap_ct, out, len, NULL);
}

static int relay_destructor(struct relay *rl)
{
	LIST_REMOVE(rl, entry);
	if (rl->timer)
		event_free(rl->timer);
	return 0;
}

static void relay_done(struct relay *rl, int code, const uint8_t *body, size_t len)
{
	struct smdp_es2 *e = rl->e;
	struct smsr_es_result res = {.status = SMSR_EXEC_SUCCESS};
	struct smsr_es_result_in in;
	struct smsr_soap_msg *m;
	char why[256];
	int rc = code == 200 && len ? smsr_soap_parse(rl, body, len, NULL, &m, NULL) : -EBADMSG;

	if (rc == 0)
		rc = smsr_es_result_decode(rl, m, rl->es3func, &in, why, sizeof(why));
	if (rc < 0) {
		LOG_TXN(rl->req->function_call_id, DSOAP, LOGL_NOTICE, "%s: no usable answer from the SM-SR (%d)",
			rl->req->desc->name, code);
		smsr_es_result_fail(&res, SMSR_SC_PROVIDER_ERROR, NULL, "the SM-SR did not answer");
	} else if (in.status != SMSR_EXEC_SUCCESS && in.status != SMSR_EXEC_WITH_WARNING) {
		smsr_es_result_fail(&res, smsr_sc_by_code(in.subject, in.reason), NULL,
				    in.message[0] ? talloc_strdup(rl, in.message) : NULL);
		res.status = in.status;
	} else if (rl->es3func == SMSR_ES3_GET_EIS) {
		/* what the SM-SR let the SM-DP see, reduced to this MNO's view */
		res.eis = in.eis;
		res.eis_opts.view = SMSR_EIS_VIEW_MNO;
		res.eis_opts.viewer_id = rl->mno;
	}
	respond(e, rl->r, rl->msg, rl->req, &res, rl->mno);
	talloc_free(rl);
}

static void relay_timeout(evutil_socket_t fd, short what, void *arg)
{
	relay_done(arg, -ETIMEDOUT, NULL, 0);
}

void smdp_es2_es3_answer(struct smdp_es2 *e, uint64_t tag, int code, const uint8_t *body, size_t len)
{
	struct relay *rl;

	LIST_FOREACH(rl, &e->relays, entry)
	if (rl->tag == tag) {
		relay_done(rl, code, body, len);
		return;
	}
}

/* GetEIS, UpdatePolicyRules, UpdateSubscriptionAddress: the same function on ES3, answered when the SM-SR answers */
static void relay(struct smdp_es2 *e, struct smsr_https_req *r, struct smsr_soap_msg *msg, struct smsr_es_req *req,
		  const char *mno)
{
	struct relay *rl = talloc_zero(e, struct relay);
	struct smsr_es_req rq = *req;
	uint8_t *out;
	size_t len;
	int rc;

	if (!rl)
		goto err;
	rl->e = e;
	rl->r = r;
	rl->msg = msg;
	rl->req = req;
	rl->mno = talloc_strdup(rl, mno);
	rl->tag = SMDP_ES2_TAG_BIT | ++e->next_tag;
	LIST_INSERT_HEAD(&e->relays, rl, entry);
	talloc_set_destructor(rl, relay_destructor);
	rl->es3func = req->func == SMSR_ES2_GET_EIS		  ? SMSR_ES3_GET_EIS
		      : req->func == SMSR_ES2_UPDATE_POLICY_RULES ? SMSR_ES3_UPDATE_POLICY_RULES
								  : SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS;
	rq.func = rl->es3func;
	rq.desc = smsr_es_func_desc(rl->es3func);
	rq.has_validity_period = false;
	rc = smsr_es_build_request(rl, &e->self, e->es3_to, NULL, &rq, &out, &len, NULL);
	if (rc == 0)
		rc = e->es3_send(e->es3_data, rl->tag, rq.desc->req_action, out, len);
	rl->timer = evtimer_new(e->base, relay_timeout, rl);
	if (rc < 0 || !rl->timer) {
		talloc_free(rl);
		goto err;
	}
	{
		struct timeval tv = {e->es3_timeout_ms / 1000, (e->es3_timeout_ms % 1000) * 1000};
		evtimer_add(rl->timer, &tv);
	}
	return;
err : {
	struct smsr_es_result res = {.status = SMSR_EXEC_FAILED};
	smsr_es_result_fail(&res, SMSR_SC_PROVIDER_ERROR, NULL, "the SM-SR cannot be reached");
	respond(e, r, msg, req, &res, mno);
}
}

void smdp_es2_handle(struct smdp_es2 *e, struct smsr_https_req *r)
{
	static const struct smsr_es_decode_opts opts = {.interfaces = SMSR_ES_IF_ES2};
	const struct smsr_cfg_requester *who;
	struct smsr_soap_msg *msg = NULL;
	struct smsr_es_req *req = NULL;
	struct smsr_es_error err;
	struct smsr_es_result res = {.status = SMSR_EXEC_FAILED};
	struct smdp_dl_accept a;
	uint8_t *out;
	size_t len;
	int rc, http;

	if (strcmp(r->method, "POST")) {
		smsr_https_reply(r, 405, "text/plain", "POST only\n", 10, (const char *const[]){"Allow", "POST", NULL});
		return;
	}
	who = e->lookup(e->lookup_data, r->peer_subject, r->peer_fingerprint);
	rc = smsr_es_receive(r, r->body, r->body_len, &e->lim, &opts, &msg, &req, &err);
	if (rc < 0) {
		LOGP(DSOAP, LOGL_NOTICE, "ES2 request from %s (%s) rejected: %s", r->peer_addr,
		     who ? who->entity_id : "unknown requester", err.soap.text);
		if (smsr_es_build_error_reply(r, &e->self, msg, rc, &err, &out, &len, &http) == 0)
			smsr_https_reply(r, http, soap_ct, out, len, NULL);
		else
			smsr_https_reply(r, 400, "text/plain", "bad request\n", 12, NULL);
		return;
	}
	if (!who || strcmp(who->role, "mno")) {
		smsr_es_result_fail(&res, SMSR_SC_REQUESTER_UNKNOWN, NULL,
				    "client certificate not configured as an MNO");
		respond(e, r, msg, req, &res, "unknown");
		return;
	}
	if (req->from_entity_id && strcmp(req->from_entity_id, who->entity_id)) {
		smsr_es_result_fail(&res, SMSR_SC_REQUESTER_NOT_ALLOWED, NULL,
				    "wsa:From EntityId does not match the client certificate");
		respond(e, r, msg, req, &res, who->entity_id);
		return;
	}
	if (req->smsr_id && strcmp(req->smsr_id, e->smsr_id)) {
		smsr_es_result_fail(&res, SMSR_SC_SMSR_UNKNOWN, "Smsr-id", "this SM-DP works with another SM-SR");
		respond(e, r, msg, req, &res, who->entity_id);
		return;
	}
	switch (req->func) {
	case SMSR_ES2_GET_EIS:
	case SMSR_ES2_UPDATE_POLICY_RULES:
	case SMSR_ES2_UPDATE_SUBSCRIPTION_ADDRESS:
		relay(e, r, msg, req, who->entity_id);
		return;
	default:
		break;
	}
	rc = smdp_dl_accept(e->dl, req, who->entity_id, &a);
	if (rc < 0) {
		LOG_TXN(req->function_call_id, DSOAP, LOGL_ERROR, "%s: store error: %s", req->desc->name,
			proto_strerror(rc));
		smsr_es_result_fail(&res, SMSR_SC_PROVIDER_ERROR, NULL, "store error");
		respond(e, r, msg, req, &res, who->entity_id);
		return;
	}
	if (a.refused) {
		smsr_es_result_fail(&res, (enum smsr_sc)a.code, a.subject_id, a.message);
		respond(e, r, msg, req, &res, who->entity_id);
		return;
	}
	LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "%s from %s: accepted (202)", req->desc->name, who->entity_id);
	smsr_https_reply(r, 202, NULL, "", 0, NULL);
}
