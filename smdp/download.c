/* The SM-DP's journalled procedures: ES2.DownloadProfile and the ES3 relays (see download.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <talloc.h>
#include <event2/event.h>
#include "smdp/download.h"
#include "smdp/db.h"
#include "smsr/es_msg.h"
#include "smsr/logging.h"
#include "ota/keystore_ec.h"
#include "proto/bertlv.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "proto/hex.h"

/* journalled states */
enum ord_state {
	ST_QUEUED = 1,	/* accepted, waiting for a free slot (max_parallel) */
	ST_GET_EIS,	/* ES3.GetEIS: the ECASD certificate */
	ST_CREATE_ISDP, /* ES3.CreateISDP */
	ST_ES8,		/* ES3.SendData: key establishment and profile loading (session in memory only) */
	ST_COMPLETED,	/* ES3.ProfileDownloadCompleted */
	ST_ENABLE,	/* ES3.EnableProfile (EnableProfile=true) */
	ST_CLEANUP,	/* ES3.DeleteISDP after a failure */
	ST_RELAY,	/* ES2 Enable/Disable/DeleteProfile relayed as ES3 */
	ST_CALLBACK,	/* result known: the ES2 callback to the MNO */
	ST_DONE,
};

static const char *const state_names[] = {"?",	    "QUEUED",  "GET_EIS", "CREATE_ISDP", "ES8", "COMPLETED",
					  "ENABLE", "CLEANUP", "RELAY",	  "CALLBACK",	 "DONE"};

/* journal record tags (BER-TLV, context-specific primitive) */
enum {
	J_STATE = 0x80,
	J_FUNC, /* the ES2 function of the order */
	J_EID,
	J_MNO,
	J_FCID,
	J_MSGID, /* MessageID of the ES2 request (RelatesTo of the callback) */
	J_TXID,
	J_URL,	/* where the ES2 result goes */
	J_TYPE, /* ProfileType */
	J_ICCID,
	J_IMSI,
	J_ENABLE,
	J_AID, /* ISD-P AID from CreateISDP */
	J_ATTEMPT,
	J_SEQ,	   /* ES3 requests sent so far (FunctionCallIdentifier suffix) */
	J_ES3FUNC, /* ES3 function in flight */
	J_ES3MSG,  /* its MessageID */
	J_STATUS,
	J_SC,
	J_MSG,
	J_DEADLINE,
	J_CREATED,
	J_MEMORY,     /* RequiredMemory */
	J_REASON,     /* why CLEANUP (message of the FAILED result) */
	J_DOWNLOADED, /* ProfileDownloadCompleted succeeded: the profile is on the card */
	J_ECASD,      /* curve || PK.ECASD.ECKA from the verified CERT.ECASD.ECKA (public) */
	J_RETRY,      /* CLEANUP after a restart cut the ES8 session: start again once the ISD-P is gone */
};

struct orddata {
	uint8_t state;
	uint8_t func; /* enum smsr_es_func (ES2) */
	uint8_t eid[16];
	char mno[128];
	char fcid[256];
	char msgid[256];
	char txid[128];
	char url[256];
	char type[64];
	char iccid[21];
	char imsi[16];
	bool enable;
	uint8_t aid[16], aid_len;
	uint8_t attempt;
	uint32_t seq;
	uint8_t es3func;
	char es3msg[256];
	uint8_t status; /* enum smsr_exec_status */
	uint8_t sc;	/* enum smsr_sc */
	char msg[160];
	int64_t deadline, created;
	uint64_t memory;
	bool downloaded;
	bool retry;
	uint8_t ecasd[1 + PROTO_EC_POINT_LEN]; /* curve || 04 X Y; ecasd[1] == 0 when not known yet */
};

#define BUCKETS 4096

struct ord {
	LIST_ENTRY(ord) by_id;
	LIST_ENTRY(ord) by_msg;
	TAILQ_ENTRY(ord) queue;
	struct smdp_dl *dl;
	uint64_t id;
	struct orddata d;
	bool queued, hashed_msg, running;
	bool resend_same; /* resumed with an ES3 request in flight: send it again with its identifiers */
	struct event *timer;
	unsigned es3_tries;    /* sends of the current ES3 request (lost answers) */
	unsigned cb_tries;     /* ES2 callback posts */
	unsigned cleanup_busy; /* DeleteISDP refused as busy so far */
	struct smdp_es8 *es8; /* ES8 session (memory only) */
	uint8_t *es3_body;    /* the request in flight, for resends */
	size_t es3_len;
};

struct smdp_dl {
	struct event_base *base;
	struct smdp_db *db;
	struct smdp_dl_cfg cfg;
	struct smsr_soap_entity self;
	struct ota_eckey *sk_dp;
	uint8_t *cert_dp;
	size_t cert_len;
	struct proto_ec_pub *pk_eum;
	struct smdp_dl_profiles prof;
	struct smdp_dl_es3 es3;
	struct smdp_dl_mno_out mno;
	LIST_HEAD(, ord) ids[BUCKETS];
	LIST_HEAD(, ord) msgs[BUCKETS];
	TAILQ_HEAD(, ord) waiting;
	unsigned running;
	struct smdp_dl_stats st;
};

static void step(struct ord *o);
static void fail(struct ord *o, enum smsr_sc sc, const char *msg);
static void finish(struct ord *o, enum smsr_exec_status st, enum smsr_sc sc, const char *msg);

void smdp_dl_cfg_default(struct smdp_dl_cfg *c)
{
	memset(c, 0, sizeof(*c));
	smdp_es8_cfg_default(&c->es8);
	c->create_isdp_timeout_ms = 600000;
	c->send_data_timeout_ms = 600000;
	c->download_timeout_ms = 3600000;
	c->enable_timeout_ms = 900000;
	c->es3_sync_timeout_ms = 30000;
	c->max_attempts = 2;
	c->max_parallel = 1000;
}

/* ---- journal ----------------------------------------------------------------------------------------------- */

static void put_str(struct proto_buf *b, uint32_t tag, const char *s)
{
	if (s[0])
		proto_tlv_put(b, tag, s, strlen(s));
}

static void put_u64(struct proto_buf *b, uint32_t tag, uint64_t v)
{
	uint8_t m[8];

	for (unsigned i = 0; i < 8; i++)
		m[i] = (uint8_t)(v >> (56 - 8 * i));
	proto_tlv_put(b, tag, m, 8);
}

static int ord_encode(const struct orddata *d, struct proto_buf *b)
{
	uint8_t seq[4] = {(uint8_t)(d->seq >> 24), (uint8_t)(d->seq >> 16), (uint8_t)(d->seq >> 8), (uint8_t)d->seq};

	proto_tlv_put(b, J_STATE, &d->state, 1);
	proto_tlv_put(b, J_FUNC, &d->func, 1);
	proto_tlv_put(b, J_EID, d->eid, 16);
	put_str(b, J_MNO, d->mno);
	put_str(b, J_FCID, d->fcid);
	put_str(b, J_MSGID, d->msgid);
	put_str(b, J_TXID, d->txid);
	put_str(b, J_URL, d->url);
	put_str(b, J_TYPE, d->type);
	put_str(b, J_ICCID, d->iccid);
	put_str(b, J_IMSI, d->imsi);
	if (d->enable)
		proto_tlv_put(b, J_ENABLE, "\x01", 1);
	if (d->aid_len)
		proto_tlv_put(b, J_AID, d->aid, d->aid_len);
	proto_tlv_put(b, J_ATTEMPT, &d->attempt, 1);
	proto_tlv_put(b, J_SEQ, seq, 4);
	proto_tlv_put(b, J_ES3FUNC, &d->es3func, 1);
	put_str(b, J_ES3MSG, d->es3msg);
	proto_tlv_put(b, J_STATUS, &d->status, 1);
	proto_tlv_put(b, J_SC, &d->sc, 1);
	put_str(b, J_MSG, d->msg);
	put_u64(b, J_DEADLINE, (uint64_t)d->deadline);
	put_u64(b, J_CREATED, (uint64_t)d->created);
	put_u64(b, J_MEMORY, d->memory);
	if (d->downloaded)
		proto_tlv_put(b, J_DOWNLOADED, "\x01", 1);
	if (d->retry)
		proto_tlv_put(b, J_RETRY, "\x01", 1);
	if (d->ecasd[1])
		proto_tlv_put(b, J_ECASD, d->ecasd, sizeof(d->ecasd));
	return proto_buf_status(b);
}

static int get_str(const struct proto_tlv *t, char *out, size_t cap)
{
	if (t->len >= cap || memchr(t->val, 0, t->len))
		return -PROTO_E_MALFORMED;
	memcpy(out, t->val, t->len);
	out[t->len] = '\0';
	return 0;
}

static int get_u64(const struct proto_tlv *t, uint64_t *v)
{
	if (t->len != 8)
		return -PROTO_E_MALFORMED;
	*v = 0;
	for (unsigned i = 0; i < 8; i++)
		*v = *v << 8 | t->val[i];
	return 0;
}

static int ord_decode(const uint8_t *in, size_t len, struct orddata *d)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	uint64_t v = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	proto_tlv_iter_init(&it, in, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		rc = 0;
		switch (t.tag) {
		case J_STATE:
			if (t.len != 1 || !t.val[0] || t.val[0] > ST_DONE)
				goto malformed;
			d->state = t.val[0];
			break;
		case J_FUNC:
			if (t.len != 1 || t.val[0] >= SMSR_ES_FUNC_COUNT)
				goto malformed;
			d->func = t.val[0];
			break;
		case J_EID:
			if (t.len != 16)
				goto malformed;
			memcpy(d->eid, t.val, 16);
			break;
		case J_MNO:
			rc = get_str(&t, d->mno, sizeof(d->mno));
			break;
		case J_FCID:
			rc = get_str(&t, d->fcid, sizeof(d->fcid));
			break;
		case J_MSGID:
			rc = get_str(&t, d->msgid, sizeof(d->msgid));
			break;
		case J_TXID:
			rc = get_str(&t, d->txid, sizeof(d->txid));
			break;
		case J_URL:
			rc = get_str(&t, d->url, sizeof(d->url));
			break;
		case J_TYPE:
			rc = get_str(&t, d->type, sizeof(d->type));
			break;
		case J_ICCID:
			rc = get_str(&t, d->iccid, sizeof(d->iccid));
			break;
		case J_IMSI:
			rc = get_str(&t, d->imsi, sizeof(d->imsi));
			break;
		case J_ENABLE:
			d->enable = true;
			break;
		case J_AID:
			if (t.len > 16)
				goto malformed;
			memcpy(d->aid, t.val, t.len);
			d->aid_len = (uint8_t)t.len;
			break;
		case J_ATTEMPT:
			if (t.len != 1)
				goto malformed;
			d->attempt = t.val[0];
			break;
		case J_SEQ:
			if (t.len != 4)
				goto malformed;
			d->seq = (uint32_t)t.val[0] << 24 | (uint32_t)t.val[1] << 16 | (uint32_t)t.val[2] << 8 |
				 t.val[3];
			break;
		case J_ES3FUNC:
			if (t.len != 1 || t.val[0] >= SMSR_ES_FUNC_COUNT)
				goto malformed;
			d->es3func = t.val[0];
			break;
		case J_ES3MSG:
			rc = get_str(&t, d->es3msg, sizeof(d->es3msg));
			break;
		case J_STATUS:
			if (t.len != 1 || t.val[0] > SMSR_EXEC_EXPIRED)
				goto malformed;
			d->status = t.val[0];
			break;
		case J_SC:
			if (t.len != 1 || t.val[0] >= SMSR_SC_COUNT)
				goto malformed;
			d->sc = t.val[0];
			break;
		case J_MSG:
			rc = get_str(&t, d->msg, sizeof(d->msg));
			break;
		case J_DEADLINE:
			rc = get_u64(&t, &v);
			d->deadline = (int64_t)v;
			break;
		case J_CREATED:
			rc = get_u64(&t, &v);
			d->created = (int64_t)v;
			break;
		case J_MEMORY:
			rc = get_u64(&t, &d->memory);
			break;
		case J_DOWNLOADED:
			d->downloaded = true;
			break;
		case J_RETRY:
			d->retry = true;
			break;
		case J_ECASD:
			if (t.len != sizeof(d->ecasd) || t.val[1] != 0x04)
				goto malformed;
			memcpy(d->ecasd, t.val, t.len);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || !d->state)
		return rc < 0 ? rc : -PROTO_E_MALFORMED;
	return 0;
malformed:
	return -PROTO_E_MALFORMED;
}

static int ord_save(struct ord *o)
{
	uint8_t mem[2048];
	struct proto_buf b;
	int rc;

	proto_buf_init(&b, mem, sizeof(mem));
	rc = ord_encode(&o->d, &b);
	if (rc == 0)
		rc = smdp_db_order_put(o->dl->db, o->id, b.data, b.len);
	if (rc < 0)
		LOG_EIS(o->d.eid, DPROTO, LOGL_ERROR, "order %" PRIu64 ": cannot journal state %s: %s", o->id,
			state_names[o->d.state], proto_strerror(rc));
	return rc;
}

/* ---- in memory ------------------------------------------------------------------------------------------------ */

static unsigned h_id(uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 52) % BUCKETS;
}

static unsigned h_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % BUCKETS;
}

static struct ord *ord_by_id(struct smdp_dl *dl, uint64_t id)
{
	struct ord *o;

	LIST_FOREACH(o, &dl->ids[h_id(id)], by_id)
	if (o->id == id)
		return o;
	return NULL;
}

static struct ord *ord_by_msg(struct smdp_dl *dl, const char *msgid)
{
	struct ord *o;

	LIST_FOREACH(o, &dl->msgs[h_str(msgid)], by_msg)
	if (!strcmp(o->d.es3msg, msgid))
		return o;
	return NULL;
}

static void unhash_msg(struct ord *o)
{
	if (o->hashed_msg)
		LIST_REMOVE(o, by_msg);
	o->hashed_msg = false;
}

static void hash_msg(struct ord *o)
{
	unhash_msg(o);
	if (o->d.es3msg[0]) {
		LIST_INSERT_HEAD(&o->dl->msgs[h_str(o->d.es3msg)], o, by_msg);
		o->hashed_msg = true;
	}
}

static int ord_destructor(struct ord *o)
{
	LIST_REMOVE(o, by_id);
	unhash_msg(o);
	if (o->queued)
		TAILQ_REMOVE(&o->dl->waiting, o, queue);
	if (o->running)
		o->dl->running--;
	if (o->timer)
		event_free(o->timer);
	return 0;
}

static void arm(struct ord *o, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(o->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

static struct ord *ord_new(struct smdp_dl *dl, uint64_t id, const struct orddata *d)
{
	struct ord *o = talloc_zero(dl, struct ord);

	if (!o)
		return NULL;
	o->dl = dl;
	o->id = id;
	o->d = *d;
	o->timer = evtimer_new(dl->base, on_timer, o);
	LIST_INSERT_HEAD(&dl->ids[h_id(id)], o, by_id);
	talloc_set_destructor(o, ord_destructor);
	if (!o->timer) {
		talloc_free(o);
		return NULL;
	}
	hash_msg(o);
	return o;
}

static void set_state(struct ord *o, enum ord_state st)
{
	LOG_EIS(o->d.eid, DPROTO, LOGL_INFO, "order %" PRIu64 " %s: %s -> %s", o->id,
		smsr_es_func_desc(o->d.func)->name, state_names[o->d.state], state_names[st]);
	o->d.state = (uint8_t)st;
	ord_save(o);
}

/* a slot for one more running order, or queue it */
static bool take_slot(struct ord *o)
{
	struct smdp_dl *dl = o->dl;

	if (o->running)
		return true;
	if (dl->running >= dl->cfg.max_parallel) {
		if (!o->queued) {
			TAILQ_INSERT_TAIL(&dl->waiting, o, queue);
			o->queued = true;
		}
		return false;
	}
	if (o->queued) {
		TAILQ_REMOVE(&dl->waiting, o, queue);
		o->queued = false;
	}
	o->running = true;
	dl->running++;
	return true;
}

static void release_slot(struct ord *o)
{
	struct smdp_dl *dl = o->dl;
	struct ord *next;

	if (!o->running)
		return;
	o->running = false;
	dl->running--;
	next = TAILQ_FIRST(&dl->waiting);
	if (next && take_slot(next))
		step(next);
}

/* ---- ES3 requests ----------------------------------------------------------------------------------------------- */

static uint64_t tag_of(const struct ord *o)
{
	return o->id << 20 | (o->d.seq & 0xFFFFF);
}

static long timeout_of(const struct ord *o, enum smsr_es_func f)
{
	const struct smdp_dl_cfg *c = &o->dl->cfg;

	switch (f) {
	case SMSR_ES3_CREATE_ISDP:
		return c->create_isdp_timeout_ms;
	case SMSR_ES3_SEND_DATA:
		return c->send_data_timeout_ms;
	case SMSR_ES3_ENABLE_PROFILE:
	case SMSR_ES3_DISABLE_PROFILE:
	case SMSR_ES3_DELETE_ISDP:
		return c->enable_timeout_ms;
	default:
		/* the transport resends a synchronous request itself and reports its own timeout (then
		 * smdp_dl_es3_answer() sends it again): this is only the backstop */
		return c->es3_sync_timeout_ms + 5000;
	}
}

/* a step timeout, cut at the order's deadline (ValidityPeriod or download-timeout); cleanup is never cut */
static long bounded(const struct ord *o, long ms)
{
	long left;

	if (!o->d.deadline || o->d.state == ST_CLEANUP)
		return ms;
	left = (long)(o->d.deadline - time(NULL)) * 1000 + 200;
	return left < ms ? (left > 0 ? left : 0) : ms;
}

static int es3_resend(struct ord *o)
{
	int rc = o->dl->es3.send(o->dl->es3.data, tag_of(o), smsr_es_func_desc(o->d.es3func)->req_action, o->es3_body,
				 o->es3_len);

	/* a request refused by backpressure (-EAGAIN) was not sent: it does not count as a try */
	if (rc != -EAGAIN) {
		o->es3_tries++;
		o->dl->st.es3_requests++;
	}
	return rc;
}

/* send ES3 function f for o (fields in rq besides the base ones); the answer/callback continues the order */
static void es3_call(struct ord *o, struct smsr_es_req *rq, bool new_request)
{
	const struct smsr_es_func_desc *desc = smsr_es_func_desc(rq->func);
	char fcid[64];
	char *msgid = NULL;
	uint8_t *out;
	size_t len;
	int rc;

	if (new_request)
		o->d.seq++;
	snprintf(fcid, sizeof(fcid), "smdp-%" PRIu64 "-%u-%u", o->id, o->d.attempt, o->d.seq);
	rq->desc = desc;
	rq->function_call_id = fcid;
	rq->has_eid = true;
	memcpy(rq->eid, o->d.eid, 16);
	rq->transaction_id = o->d.txid[0] ? o->d.txid : NULL;
	rc = smsr_es_build_request(o, &o->dl->self, o->dl->es3.to, o->dl->es3.reply_to, rq, &out, &len, &msgid);
	if (rc < 0) {
		LOG_EIS(o->d.eid, DPROTO, LOGL_ERROR, "order %" PRIu64 ": cannot build %s: %s", o->id, desc->name,
			proto_strerror(rc));
		fail(o, SMSR_SC_PROVIDER_ERROR, "internal error building an ES3 request");
		return;
	}
	talloc_free(o->es3_body);
	o->es3_body = out;
	o->es3_len = len;
	o->es3_tries = 0;
	o->d.es3func = (uint8_t)rq->func;
	/* a resent request keeps the MessageID of the first: the SM-SR's callback relates to that one */
	if (new_request || !o->d.es3msg[0])
		snprintf(o->d.es3msg, sizeof(o->d.es3msg), "%s", msgid);
	talloc_free(msgid);
	hash_msg(o);
	/* journalled before it leaves: a callback can always be matched, also after a restart */
	ord_save(o);
	LOG_EIS(o->d.eid, DPROTO, LOGL_DEBUG, "order %" PRIu64 ": %s (%s)", o->id, desc->name, fcid);
	rc = es3_resend(o);
	arm(o, rc == -EAGAIN ? 200 : bounded(o, timeout_of(o, rq->func)));
}

/* ---- ES2 results ---------------------------------------------------------------------------------------------- */

static void send_callback(struct ord *o)
{
	void *tmp = talloc_new(NULL);
	const struct smsr_es_func_desc *desc = smsr_es_func_desc(o->d.func);
	struct smsr_es_req rq = {.desc = desc, .func = desc->func};
	struct smsr_es_result r = {.status = (enum smsr_exec_status)o->d.status, .code = (enum smsr_sc)o->d.sc};
	char t[32];
	uint8_t *out;
	size_t len;
	int rc;

	rq.message_id = o->d.msgid;
	rq.function_call_id = o->d.fcid;
	rq.transaction_id = o->d.txid[0] ? o->d.txid : NULL;
	r.message = o->d.msg[0] ? o->d.msg : NULL;
	r.processing_end = smsr_soap_datetime(time(NULL), t, sizeof(t));
	/* the ICCID whenever the profile is on the card, also when enabling it failed or expired */
	if (o->d.func == SMSR_ES2_DOWNLOAD_PROFILE && (o->d.status == SMSR_EXEC_SUCCESS || o->d.downloaded))
		r.iccid = o->d.iccid;
	rc = smsr_es_build_callback(tmp, &o->dl->self, &rq, o->d.url, &r, &out, &len, NULL);
	if (rc < 0) {
		LOG_EIS(o->d.eid, DSOAP, LOGL_ERROR, "order %" PRIu64 ": cannot build the ES2 callback: %s", o->id,
			proto_strerror(rc));
		set_state(o, ST_DONE);
		talloc_free(o);
	} else {
		o->cb_tries++;
		if (o->dl->mno.post(o->dl->mno.data, o->id, o->d.url, desc->resp_action, out, len) < 0)
			arm(o, o->cb_tries > 5 ? 60000 : 1000L << o->cb_tries);
	}
	talloc_free(tmp);
}

void smdp_dl_mno_posted(struct smdp_dl *dl, uint64_t tag, bool ok)
{
	struct ord *o = ord_by_id(dl, tag);

	if (!o || o->d.state != ST_CALLBACK)
		return;
	if (ok) {
		set_state(o, ST_DONE);
		talloc_free(o);
		return;
	}
	LOG_EIS(o->d.eid, DSOAP, LOGL_NOTICE, "order %" PRIu64 ": ES2 callback to %s not acknowledged, retry %u", o->id,
		o->d.url, o->cb_tries);
	arm(o, o->cb_tries > 5 ? 60000 : 1000L << o->cb_tries);
}

/* the result is decided: report it */
static void finish(struct ord *o, enum smsr_exec_status st, enum smsr_sc sc, const char *msg)
{
	if (st == SMSR_EXEC_FAILED && sc == SMSR_SC_EXPIRED)
		st = SMSR_EXEC_EXPIRED; /* sgp02.md §5.4: the ValidityPeriod elapsed before the function completed */
	o->d.status = (uint8_t)st;
	o->d.sc = (uint8_t)sc;
	snprintf(o->d.msg, sizeof(o->d.msg), "%s", msg ? msg : "");
	TALLOC_FREE(o->es8);
	TALLOC_FREE(o->es3_body);
	unhash_msg(o);
	o->d.es3msg[0] = '\0';
	if (st == SMSR_EXEC_SUCCESS)
		o->dl->st.done++;
	else
		o->dl->st.failed++;
	LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 " %s: %s%s%s (ICCID %s)", o->id,
		smsr_es_func_desc(o->d.func)->name, smsr_exec_status_name(st), msg && *msg ? ": " : "", msg ? msg : "",
		o->d.iccid[0] ? o->d.iccid : "none");
	evtimer_del(o->timer);
	set_state(o, ST_CALLBACK);
	release_slot(o);
	o->cb_tries = 0;
	send_callback(o);
}

/* a failure: with an ISD-P possibly on the card (from CreateISDP sent until the download completed), delete it
 * first (sgp02.md §6.7 error sub-routine); fail_refused() when CreateISDP itself was refused: no ISD-P was made */
static void fail_isdp(struct ord *o, enum smsr_sc sc, const char *msg, bool isdp)
{
	o->d.status = SMSR_EXEC_FAILED;
	o->d.sc = (uint8_t)sc;
	snprintf(o->d.msg, sizeof(o->d.msg), "%s", msg ? msg : "");
	if (o->d.func == SMSR_ES2_DOWNLOAD_PROFILE && isdp) {
		LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 ": %s in %s; deleting the ISD-P", o->id, msg,
			state_names[o->d.state]);
		TALLOC_FREE(o->es8);
		set_state(o, ST_CLEANUP);
		step(o);
		return;
	}
	if (o->d.func == SMSR_ES2_DOWNLOAD_PROFILE && !o->d.downloaded)
		o->dl->prof.commit(o->dl->prof.data, o->id, false);
	finish(o, SMSR_EXEC_FAILED, sc, msg);
}

static void fail(struct ord *o, enum smsr_sc sc, const char *msg)
{
	fail_isdp(o, sc, msg, o->d.state == ST_CREATE_ISDP || o->d.state == ST_ES8 || o->d.state == ST_COMPLETED);
}

/* ---- the steps -------------------------------------------------------------------------------------------- */

/* CERT.ECASD.ECKA from the EIS, verified with the EUM key (crypto.md §A.1 step 1) */
static int ecasd_key(struct ord *o, const struct smsr_eis *e, char *why, size_t cap)
{
	struct proto_ec_pub *pk;
	unsigned i, j;

	for (i = 0; i < e->ecasd.n_keysets; i++)
		for (j = 0; j < e->ecasd.keysets[i].n_certs; j++) {
			const struct smsr_certificate *c = &e->ecasd.keysets[i].certs[j];
			struct proto_gp_cert gc;
			int rc = proto_gp_cert_decode(&gc, c->value, c->len);

			if (rc == 0 &&
			    (gc.key_usage.len != 2 || gc.key_usage.p[0] != 0x00 || gc.key_usage.p[1] != 0x80))
				rc = -PROTO_E_MALFORMED;
			if (rc == 0)
				rc = proto_gp_cert_verify(&gc, o->dl->pk_eum);
			if (rc == 0)
				rc = proto_gp_cert_pubkey(o, &gc, PROTO_EC_REF_P256, &pk);
			if (rc == 0) {
				/* journalled with the order: a restart after CreateISDP still knows it */
				o->d.ecasd[0] = pk->ref;
				memcpy(o->d.ecasd + 1, pk->point, PROTO_EC_POINT_LEN);
				talloc_free(pk);
				return 0;
			}
			snprintf(why, cap, "CERT.ECASD.ECKA refused: %s", proto_strerror(rc));
			return rc;
		}
	snprintf(why, cap, "the EIS has no CERT.ECASD.ECKA");
	return -ENOENT;
}

static void start_es8(struct ord *o)
{
	void *tmp = talloc_new(NULL);
	struct proto_ec_pub *pk = NULL;
	uint8_t *pkg = NULL;
	size_t pkg_len = 0;
	int rc =
		o->d.ecasd[1] ? proto_ec_pub_new(tmp, o->d.ecasd[0], o->d.ecasd + 1, PROTO_EC_POINT_LEN, &pk) : -ENOKEY;

	if (rc == 0)
		rc = o->dl->prof.package(o->dl->prof.data, tmp, o->id, o->d.mno, o->d.type, &pkg, &pkg_len);
	if (rc == 0)
		rc = smdp_es8_new(o, &o->dl->cfg.es8, o->dl->sk_dp, o->dl->cert_dp, o->dl->cert_len, pk, o->d.aid,
				  o->d.aid_len, pkg, pkg_len, &o->es8);
	if (pkg)
		memset(pkg, 0, pkg_len);
	talloc_free(tmp);
	if (rc < 0) {
		fail(o, SMSR_SC_PROVIDER_ERROR, "profile preparation failed");
		return;
	}
	o->dl->st.profile_bytes += pkg_len;
	step(o);
}

static void send_next_data(struct ord *o)
{
	uint8_t *mem = talloc_size(o, o->dl->cfg.es8.max_data + 512);
	struct smsr_es_req rq = {.func = SMSR_ES3_SEND_DATA};
	struct proto_buf b;
	bool more;
	int rc;

	if (!mem) {
		fail(o, SMSR_SC_PROVIDER_ERROR, "out of memory");
		return;
	}
	proto_buf_init(&b, mem, talloc_get_size(mem));
	rc = smdp_es8_next(o->es8, &b, &more);
	if (rc < 0) {
		talloc_free(mem);
		fail(o, SMSR_SC_PROVIDER_ERROR, "ES8 script could not be built");
		return;
	}
	memcpy(rq.sd_aid.b, o->d.aid, o->d.aid_len);
	rq.sd_aid.len = o->d.aid_len;
	rq.data = b.data;
	rq.data_len = b.len;
	rq.has_more_to_do = true;
	rq.more_to_do = more;
	o->dl->st.send_data++;
	es3_call(o, &rq, true);
	talloc_free(mem);
}

/* run the current state (first entry, or resumed) */
static void step(struct ord *o)
{
	struct smsr_es_req rq = {0};

	switch (o->d.state) {
	case ST_QUEUED:
		if (!take_slot(o))
			return;
		/* relays too: the EIS says whether the profile belongs to the requesting MNO */
		set_state(o, ST_GET_EIS);
		step(o);
		return;
	case ST_GET_EIS:
		rq.func = SMSR_ES3_GET_EIS;
		break;
	case ST_CREATE_ISDP:
		rq.func = SMSR_ES3_CREATE_ISDP;
		snprintf(rq.iccid, sizeof(rq.iccid), "%s", o->d.iccid);
		rq.mno_id = o->d.mno;
		rq.required_memory = o->d.memory;
		rq.has_more_to_do = true;
		rq.more_to_do = true;
		break;
	case ST_ES8:
		if (!o->es8) {
			start_es8(o);
			return;
		}
		send_next_data(o);
		return;
	case ST_COMPLETED:
		rq.func = SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED;
		snprintf(rq.iccid, sizeof(rq.iccid), "%s", o->d.iccid);
		rq.profile_type = o->d.type[0] ? o->d.type : NULL;
		if (o->d.imsi[0]) {
			rq.has_subscription_address = true;
			snprintf(rq.imsi, sizeof(rq.imsi), "%s", o->d.imsi);
		}
		break;
	case ST_ENABLE:
		rq.func = SMSR_ES3_ENABLE_PROFILE;
		snprintf(rq.iccid, sizeof(rq.iccid), "%s", o->d.iccid);
		break;
	case ST_CLEANUP:
		rq.func = SMSR_ES3_DELETE_ISDP;
		snprintf(rq.iccid, sizeof(rq.iccid), "%s", o->d.iccid);
		break;
	case ST_RELAY:
		rq.func = o->d.func == SMSR_ES2_ENABLE_PROFILE	  ? SMSR_ES3_ENABLE_PROFILE
			  : o->d.func == SMSR_ES2_DISABLE_PROFILE ? SMSR_ES3_DISABLE_PROFILE
								  : SMSR_ES3_DELETE_ISDP;
		snprintf(rq.iccid, sizeof(rq.iccid), "%s", o->d.iccid);
		break;
	case ST_CALLBACK:
		send_callback(o);
		return;
	default:
		return;
	}
	es3_call(o, &rq, !o->resend_same);
	o->resend_same = false;
}

/* the result of the ES3 function in flight */
static void on_result(struct ord *o, const struct smsr_es_result_in *r)
{
	enum smsr_sc sc = smsr_sc_by_code(r->subject, r->reason);
	bool ok = r->status == SMSR_EXEC_SUCCESS || r->status == SMSR_EXEC_WITH_WARNING;
	char why[256];

	evtimer_del(o->timer);
	unhash_msg(o);
	o->d.es3msg[0] = '\0';
	TALLOC_FREE(o->es3_body);
	switch (o->d.state) {
	case ST_GET_EIS:
		if (!ok || !r->eis) {
			fail(o, ok ? SMSR_SC_EID_UNKNOWN : sc, r->message[0] ? r->message : "ES3 GetEIS failed");
			return;
		}
		if (o->d.func != SMSR_ES2_DOWNLOAD_PROFILE) {
			/* an MNO acts only on its own profiles: the SM-SR checks the SM-DP, the SM-DP checks the MNO */
			const struct smsr_profile *pr = smsr_eis_profile_by_iccid(r->eis, o->d.iccid);
			if (!pr) {
				finish(o, SMSR_EXEC_FAILED, SMSR_SC_ICCID_UNKNOWN,
				       "no profile of this SM-DP with that ICCID");
				return;
			}
			if (!pr->mno_id || strcmp(pr->mno_id, o->d.mno)) {
				finish(o, SMSR_EXEC_FAILED, SMSR_SC_PROFILE_NOT_ALLOWED, "profile of another MNO");
				return;
			}
			set_state(o, ST_RELAY);
			break;
		}
		if (ecasd_key(o, r->eis, why, sizeof(why)) < 0) {
			LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 ": %s", o->id, why);
			fail(o, SMSR_SC_EIS_SIGNATURE, why);
			return;
		}
		set_state(o, ST_CREATE_ISDP);
		break;
	case ST_CREATE_ISDP:
		if (!ok) {
			/* refused: no ISD-P was made */
			fail_isdp(o, sc, r->message[0] ? r->message : "ES3 CreateISDP failed", false);
			return;
		}
		memcpy(o->d.aid, r->isdp_aid, r->isdp_aid_len);
		o->d.aid_len = (uint8_t)r->isdp_aid_len;
		LOG_EIS(o->d.eid, DPROTO, LOGL_INFO, "order %" PRIu64 ": ISD-P %s created", o->id,
			proto_hexstr(o->d.aid, o->d.aid_len));
		set_state(o, ST_ES8);
		break;
	case ST_ES8:
		if (!ok) {
			fail(o, SMSR_SC_ISDP_ERROR, r->message[0] ? r->message : "ES3 SendData failed");
			return;
		}
		if (smdp_es8_response(o->es8, r->euicc_data, r->euicc_len, why, sizeof(why)) < 0) {
			enum smdp_es8_error e = smdp_es8_error(o->es8);
			LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 ": ES8 failed: %s", o->id, why);
			fail(o, e == SMDP_ES8_E_PROFILE ? SMSR_SC_MEMORY : SMSR_SC_ISDP_ERROR, why);
			return;
		}
		LOG_EIS(o->d.eid, DPROTO, LOGL_INFO, "order %" PRIu64 ": ES8 %s (%zu bytes of the profile loaded)",
			o->id,
			smdp_es8_step(o->es8) == SMDP_ES8_KEYEST2
				? "CERT.DP.ECDSA accepted by the ECASD, random challenge"
			: smdp_es8_step(o->es8) == SMDP_ES8_LOAD && !smdp_es8_loaded(o->es8)
				? "receipt verified: ISD-P keyset established; SCP03t card cryptogram verified"
				: "profile segments acknowledged (R-MAC verified)",
			smdp_es8_loaded(o->es8));
		if (smdp_es8_step(o->es8) == SMDP_ES8_DONE) {
			TALLOC_FREE(o->es8);
			set_state(o, ST_COMPLETED);
		}
		break;
	case ST_COMPLETED:
		if (!ok) {
			fail(o, sc, r->message[0] ? r->message : "ES3 ProfileDownloadCompleted failed");
			return;
		}
		o->dl->prof.commit(o->dl->prof.data, o->id, true);
		o->d.downloaded = true;
		if (o->d.enable) {
			set_state(o, ST_ENABLE);
			break;
		}
		finish(o, SMSR_EXEC_SUCCESS, SMSR_SC_NONE, NULL);
		return;
	case ST_ENABLE:
		/* the profile is on the card (Disabled) whatever the enable gives */
		if (!ok) {
			finish(o, SMSR_EXEC_FAILED, sc, r->message[0] ? r->message : "downloaded, but not enabled");
			return;
		}
		finish(o, SMSR_EXEC_SUCCESS, SMSR_SC_NONE, NULL);
		return;
	case ST_CLEANUP:
		if (sc == SMSR_SC_BUSY && o->cleanup_busy++ < 60) {
			/* the SM-SR still runs an operation on this eUICC (e.g. the CreateISDP we gave up on): ask
			 * again */
			arm(o, 5000);
			return;
		}
		if (ok || sc == SMSR_SC_ICCID_UNKNOWN || sc == SMSR_SC_EIS_NOT_ALLOWED) {
			/* nothing of it left on the card (no profile of this SM-DP there at all: 8.6/1.2), and no
			 * CreateISDP of ours runs any more (that is answered busy): the ICCID may serve again */
			o->dl->prof.commit(o->dl->prof.data, o->id, false);
		} else {
			LOG_EIS(o->d.eid, DPROTO, LOGL_ERROR,
				"order %" PRIu64 ": ISD-P %s could not be deleted (%s/%s); "
				"its ICCID %s stays reserved",
				o->id, proto_hexstr(o->d.aid, o->d.aid_len), r->subject, r->reason, o->d.iccid);
		}
		if (o->d.retry && o->d.attempt + 1u < o->dl->cfg.max_attempts) {
			/* a restart cut the session: try again from CreateISDP with fresh identifiers */
			o->d.retry = false;
			o->d.attempt++;
			o->d.aid_len = 0;
			o->d.status = 0;
			o->d.sc = 0;
			o->d.msg[0] = '\0';
			set_state(o, ST_GET_EIS);
			break;
		}
		finish(o, SMSR_EXEC_FAILED, (enum smsr_sc)o->d.sc, o->d.msg);
		return;
	case ST_RELAY:
		finish(o, ok ? SMSR_EXEC_SUCCESS : (enum smsr_exec_status)r->status, ok ? SMSR_SC_NONE : sc,
		       r->message[0] ? r->message : NULL);
		return;
	default:
		return;
	}
	step(o);
}

static bool is_async(enum smsr_es_func f)
{
	return smsr_es_func_desc(f)->mep == SMSR_ES_ASYNC;
}

void smdp_dl_es3_answer(struct smdp_dl *dl, uint64_t tag, int code, const uint8_t *body, size_t len)
{
	struct ord *o = ord_by_id(dl, tag >> 20);
	struct smsr_soap_msg *m;
	struct smsr_es_result_in r;
	char why[256];
	void *tmp;
	int rc;

	if (!o || (o->d.seq & 0xFFFFF) != (tag & 0xFFFFF) || !o->es3_body)
		return; /* stale: an answer to an earlier request */
	if (code == 202 && is_async(o->d.es3func))
		return; /* accepted: the callback continues (the step timeout is armed) */
	if (code < 0) {
		/* the transport gave up on it: send again (same FunctionCallIdentifier: the SM-SR de-duplicates) */
		if (o->es3_tries < 5) {
			LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 ": %s not answered (%s), sending again",
				o->id, smsr_es_func_desc(o->d.es3func)->name, proto_strerror(code));
			es3_resend(o);
			return;
		}
		fail(o, SMSR_SC_PROVIDER_ERROR, "the SM-SR does not answer");
		return;
	}
	tmp = talloc_new(NULL);
	rc = code == 200 && len ? smsr_soap_parse(tmp, body, len, NULL, &m, NULL) : -EBADMSG;
	if (rc == 0)
		rc = smsr_es_result_decode(tmp, m, o->d.es3func, &r, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "answer %d without a response", code);
	if (rc < 0) {
		LOG_EIS(o->d.eid, DSOAP, LOGL_NOTICE, "order %" PRIu64 ": %s: %s", o->id,
			smsr_es_func_desc(o->d.es3func)->name, why);
		fail(o, SMSR_SC_PROVIDER_ERROR, "unreadable answer from the SM-SR");
	} else {
		/* a sync function's response, or an async one refused at once (FAILED) */
		on_result(o, &r);
	}
	talloc_free(tmp);
}

int smdp_dl_es3_callback(struct smdp_dl *dl, const uint8_t *body, size_t len)
{
	void *tmp = talloc_new(NULL);
	struct smsr_soap_msg *m;
	struct smsr_es_result_in r;
	struct ord *o;
	char why[256];
	int rc = smsr_soap_parse(tmp, body, len, NULL, &m, NULL);

	if (rc < 0 || !m->relates_to) {
		LOGP(DSOAP, LOGL_NOTICE, "ES3 callback unreadable or without RelatesTo, refused");
		rc = -EBADMSG;
		goto out;
	}
	o = ord_by_msg(dl, m->relates_to);
	if (!o) {
		LOGP(DSOAP, LOGL_INFO, "ES3 callback for %s: no order waits for it (answered before)", m->relates_to);
		rc = -ENOENT;
		goto out;
	}
	rc = smsr_es_result_decode(tmp, m, o->d.es3func, &r, why, sizeof(why));
	if (rc < 0) {
		LOG_EIS(o->d.eid, DSOAP, LOGL_NOTICE, "order %" PRIu64 ": callback refused: %s", o->id, why);
		rc = -EBADMSG;
		goto out;
	}
	on_result(o, &r);
	rc = 0;
out:
	talloc_free(tmp);
	return rc;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ord *o = arg;

	switch (o->d.state) {
	case ST_CALLBACK:
		send_callback(o);
		return;
	case ST_QUEUED:
	case ST_DONE:
		return;
	default:
		break;
	}
	if (!o->es3_body) {
		step(o);
		return;
	}
	if (o->es3_tries == 0) {
		/* not sent yet (backpressure) */
		if (es3_resend(o) == -EAGAIN)
			arm(o, 200);
		else
			arm(o, timeout_of(o, o->d.es3func));
		return;
	}
	if (o->d.state == ST_CLEANUP && o->es3_tries < 5) {
		es3_resend(o);
		arm(o, timeout_of(o, o->d.es3func));
		return;
	}
	if (o->d.deadline && time(NULL) >= o->d.deadline && o->d.state != ST_CLEANUP) {
		LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 ": validity period elapsed in %s", o->id,
			state_names[o->d.state]);
		fail(o, SMSR_SC_EXPIRED, "validity period elapsed");
		return;
	}
	LOG_EIS(o->d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 ": no result for %s in time", o->id,
		smsr_es_func_desc(o->d.es3func)->name);
	if (o->d.state == ST_CLEANUP) {
		LOG_EIS(o->d.eid, DPROTO, LOGL_ERROR, "order %" PRIu64 ": ISD-P deletion never confirmed", o->id);
		finish(o, SMSR_EXEC_FAILED, (enum smsr_sc)o->d.sc, o->d.msg);
		return;
	}
	fail(o, SMSR_SC_EXPIRED, "no result from the SM-SR in time");
}

/* ---- accept, recover ------------------------------------------------------------------------------------------ */

static const struct smdp_dl_mno *mno_by_id(const struct smdp_dl *dl, const char *id)
{
	for (unsigned i = 0; i < dl->cfg.n_mnos; i++)
		if (!strcmp(dl->cfg.mnos[i].entity_id, id))
			return &dl->cfg.mnos[i];
	return NULL;
}

static int refuse(struct smdp_dl_accept *a, enum smsr_sc sc, const char *subject, const char *msg)
{
	a->refused = true;
	a->code = sc;
	a->subject_id = subject;
	a->message = msg;
	return 0;
}

int smdp_dl_accept(struct smdp_dl *dl, const struct smsr_es_req *req, const char *mno, struct smdp_dl_accept *a)
{
	const struct smdp_dl_mno *m = mno_by_id(dl, mno);
	struct orddata d = {.state = ST_QUEUED, .func = (uint8_t)req->func};
	uint64_t id;
	struct ord *o;
	int rc;

	memset(a, 0, sizeof(*a));
	if (req->function_call_id && smdp_db_order_by_fcid(dl->db, mno, req->function_call_id, &id) == 0) {
		LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "retry of order %" PRIu64, id);
		return 0;
	}
	if (!req->smsr_id || strcmp(req->smsr_id, dl->cfg.smsr_id))
		return refuse(a, SMSR_SC_SMSR_UNKNOWN, "Smsr-id", "this SM-DP works with another SM-SR");
	snprintf(d.url, sizeof(d.url), "%s",
		 req->reply_to && !strncmp(req->reply_to, "http", 4) ? req->reply_to
		 : m						     ? m->callback_url
								     : "");
	if (!d.url[0])
		return refuse(a, SMSR_SC_INVALID, NULL, "no usable wsa:ReplyTo and no callback URL for the requester");
	memcpy(d.eid, req->eid, 16);
	snprintf(d.mno, sizeof(d.mno), "%s", mno);
	snprintf(d.fcid, sizeof(d.fcid), "%s", req->function_call_id ? req->function_call_id : "");
	snprintf(d.msgid, sizeof(d.msgid), "%s", req->message_id ? req->message_id : "");
	snprintf(d.txid, sizeof(d.txid), "%s", req->transaction_id ? req->transaction_id : "");
	snprintf(d.iccid, sizeof(d.iccid), "%s", req->iccid);
	d.created = time(NULL);
	d.deadline = d.created + dl->cfg.download_timeout_ms / 1000;
	if (req->has_validity_period && (int64_t)req->validity_period < dl->cfg.download_timeout_ms / 1000)
		d.deadline = d.created + (int64_t)req->validity_period;
	rc = smdp_db_next_id(dl->db, &id);
	if (rc < 0)
		return rc;
	if (req->func == SMSR_ES2_DOWNLOAD_PROFILE) {
		d.enable = req->enable_profile;
		snprintf(d.type, sizeof(d.type), "%s", req->profile_type ? req->profile_type : "");
		rc = dl->prof.reserve(dl->prof.data, id, mno, d.type, req->iccid, d.iccid, d.imsi, &d.memory);
		switch (rc) {
		case 0:
			break;
		case -ENOENT:
			return refuse(a, req->iccid[0] ? SMSR_SC_ICCID_UNKNOWN : SMSR_SC_INVALID,
				      req->iccid[0] ? "Iccid" : "ProfileType",
				      req->iccid[0] ? "ICCID not in a pool of this MNO's profile type"
						    : "no such profile type for this MNO");
		case -EBUSY:
			return refuse(a, SMSR_SC_ICCID_IN_USE, "Iccid", "ICCID already reserved or used");
		case -ENOSPC:
			return refuse(a, SMSR_SC_PROVIDER_ERROR, "ProfileType", "no ICCID left in the pool");
		default:
			return rc;
		}
	}
	o = ord_new(dl, id, &d);
	if (!o) {
		if (req->func == SMSR_ES2_DOWNLOAD_PROFILE)
			dl->prof.commit(dl->prof.data, id, false);
		return -ENOMEM;
	}
	{
		uint8_t mem[2048];
		struct proto_buf b;
		proto_buf_init(&b, mem, sizeof(mem));
		rc = ord_encode(&o->d, &b);
		if (rc == 0)
			rc = smdp_db_order_create(dl->db, id, mno, d.fcid, b.data, b.len);
	}
	if (rc < 0) {
		if (req->func == SMSR_ES2_DOWNLOAD_PROFILE)
			dl->prof.commit(dl->prof.data, id, false);
		talloc_free(o);
		return rc;
	}
	/* journalled: from here the order survives any crash */
	dl->st.accepted++;
	LOG_EIS(d.eid, DPROTO, LOGL_INFO, "order %" PRIu64 " %s accepted from %s (%s, ICCID %s)", id,
		smsr_es_func_desc(d.func)->name, mno, d.fcid, d.iccid);
	step(o);
	return 0;
}

static int recover_one(void *data, uint64_t id, const uint8_t *rec, size_t len)
{
	struct smdp_dl *dl = data;
	struct orddata d;
	struct ord *o;

	if (ord_decode(rec, len, &d) < 0) {
		LOGP(DDB, LOGL_ERROR, "order %" PRIu64 ": journal record unreadable, skipped", id);
		return 0;
	}
	if (d.state == ST_DONE)
		return 0;
	o = ord_new(dl, id, &d);
	if (!o)
		return -ENOMEM;
	LOG_EIS(d.eid, DPROTO, LOGL_NOTICE, "order %" PRIu64 " %s resumed in %s", id, smsr_es_func_desc(d.func)->name,
		state_names[d.state]);
	return 1;
}

int smdp_dl_recover(struct smdp_dl *dl)
{
	struct ord *o;
	unsigned i;
	int n = 0, rc = smdp_db_order_foreach(dl->db, recover_one, dl);

	if (rc < 0)
		return rc;
	for (i = 0; i < BUCKETS; i++) {
		struct ord *next;
		for (o = LIST_FIRST(&dl->ids[i]); o; o = next) {
			next = LIST_NEXT(o, by_id);
			n++;
			switch (o->d.state) {
			case ST_QUEUED:
			case ST_CALLBACK:
				step(o); /* QUEUED waits for a slot there; CALLBACK needs none */
				continue;
			case ST_ES8:
				/* the SCP03 session died with the process: delete the ISD-P, then start again */
				o->d.status = SMSR_EXEC_FAILED;
				o->d.sc = SMSR_SC_PROVIDER_ERROR;
				o->d.retry = true;
				snprintf(o->d.msg, sizeof(o->d.msg), "restarted during the download");
				o->d.es3msg[0] = '\0';
				unhash_msg(o);
				set_state(o, ST_CLEANUP);
				break;
			default:
				/* an ES3 request was in flight: sent again with its FunctionCallIdentifier (the SM-SR
				 * answers a retry with the same operation), its callback matched by the journalled id;
				 * also when the order has to wait for a slot first */
				o->resend_same = o->d.es3msg[0] != '\0';
				break;
			}
			if (take_slot(o))
				step(o);
		}
	}
	return n;
}

const struct smdp_dl_stats *smdp_dl_stats(const struct smdp_dl *dl)
{
	return &dl->st;
}

int smdp_dl_new(void *ctx, struct event_base *base, struct smdp_db *db, const struct smdp_dl_cfg *cfg,
		const struct smsr_soap_entity *self, struct ota_eckey *sk_dp, const uint8_t *cert_dp, size_t cert_len,
		const struct proto_ec_pub *pk_eum, const struct smdp_dl_profiles *prof, const struct smdp_dl_es3 *es3,
		const struct smdp_dl_mno_out *mno_out, struct smdp_dl **out)
{
	struct smdp_dl *dl = talloc_zero(ctx, struct smdp_dl);
	unsigned i;

	*out = NULL;
	if (!dl)
		return -ENOMEM;
	dl->base = base;
	dl->db = db;
	dl->cfg = *cfg;
	dl->self = *self;
	dl->sk_dp = sk_dp;
	dl->cert_dp = talloc_memdup(dl, cert_dp, cert_len);
	dl->cert_len = cert_len;
	dl->prof = *prof;
	dl->es3 = *es3;
	dl->mno = *mno_out;
	for (i = 0; i < BUCKETS; i++) {
		LIST_INIT(&dl->ids[i]);
		LIST_INIT(&dl->msgs[i]);
	}
	TAILQ_INIT(&dl->waiting);
	if (!dl->cert_dp || proto_ec_pub_new(dl, pk_eum->ref, pk_eum->point, sizeof(pk_eum->point), &dl->pk_eum) < 0) {
		talloc_free(dl);
		return -ENOMEM;
	}
	*out = dl;
	return 0;
}
