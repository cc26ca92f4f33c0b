/* Asynchronous ES4 functions as journalled procedures (see es4_proc.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <talloc.h>
#include <event2/event.h>
#include "smsr/es4_proc.h"
#include "smsr/smsrd.h"
#include "smsr/db.h"
#include "smsr/es_msg.h"
#include "smsr/es5_ota.h"
#include "smsr/es5_script.h"
#include "smsr/es3_zmq.h"
#include "smsr/http_client.h"
#include "smsr/logging.h"
#include "ota/ts102225_spkt.h"
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/hex.h"

/* journalled states (struct smsr_db_op_hdr.state) */
enum op_state {
	ST_ES5 = 1,	   /* the ES5 command is (to be) exchanged */
	ST_WAIT_NOTIF = 2, /* command accepted, waiting for the eUICC's Default Notification */
	ST_CONFIRM = 3,	   /* NotificationConfirmation being exchanged; the result is known */
	ST_CALLBACK = 4,   /* result known, response callback not yet acknowledged */
	ST_DONE = 5,
};

static const char *const state_names[] = {"?", "ES5", "WAIT_NOTIF", "CONFIRM", "CALLBACK", "DONE"};

/* private tags of the journal record (BER-TLV, context-specific primitive) */
enum {
	J_FUNC = 0x80,
	J_ICCID,
	J_AID,
	J_REQUESTER,
	J_URL,
	J_MSGID,
	J_FCID,
	J_TXID,
	J_SEQ,
	J_STATUS,
	J_SC,
	J_RSP,
	J_MSG,
	J_INTERNAL,
	J_MNO,	  /* ES3 CreateISDP: Mno-id */
	J_MEMORY, /* ES3 CreateISDP: RequiredMemory */
	J_DATA,	  /* ES3 SendData: Data */
};

struct opdata {
	uint8_t func; /* enum smsr_es_func */
	char iccid[SMSR_ICCID_MAX + 1];
	uint8_t aid[16], aid_len;
	char requester[128];
	char url[256];
	char msgid[256];
	char fcid[256];
	char txid[128];
	bool has_seq;
	uint16_t seq;
	uint8_t status;	  /* enum smsr_exec_status, when decided */
	uint8_t sc;	  /* enum smsr_sc */
	uint8_t rsp[512]; /* EuiccResponseData */
	size_t rsp_len;
	char msg[128];
	bool internal; /* started by the SM-SR itself (POL2 auto-delete): no callback */
	char mno[128]; /* ES3 CreateISDP: Mno-id of the new profile */
	uint64_t memory;     /* ES3 CreateISDP: RequiredMemory */
	const uint8_t *data; /* ES3 SendData: the script items (a talloc child of the op, or of the request) */
	size_t data_len;
};

/* the ES4 procedure an ES3 function runs: same ES5 commands, same state rules, its own callback action */
static enum smsr_es_func base_func(unsigned f)
{
	switch (f) {
	case SMSR_ES3_ENABLE_PROFILE:
		return SMSR_ES4_ENABLE_PROFILE;
	case SMSR_ES3_DISABLE_PROFILE:
		return SMSR_ES4_DISABLE_PROFILE;
	case SMSR_ES3_DELETE_ISDP:
		return SMSR_ES4_DELETE_PROFILE;
	case SMSR_ES3_AUDIT_EIS:
		return SMSR_ES4_AUDIT_EIS;
	default:
		return (enum smsr_es_func)f;
	}
}

#define PROC_BUCKETS 4096

struct op {
	LIST_ENTRY(op) by_id;	/* bucket of id in smsr_proc.ids */
	LIST_ENTRY(op) by_eid;	/* bucket of the EID in smsr_proc.eids */
	struct smsr_proc *p;
	uint64_t id;
	struct smsr_db_op_hdr hdr;
	struct opdata d;
	struct event *timer;
	unsigned cb_tries;
	bool resumed; /* picked up from the journal after a restart */
};

struct smsr_proc {
	struct smsrd *d;
	struct smsr_http_client *http;
	struct smsr_soap_entity self;
	/* operations in memory, hashed by id and by EID: lookups stay O(1) with 50k-meter batches in flight */
	LIST_HEAD(, op) ids[PROC_BUCKETS];
	LIST_HEAD(, op) eids[PROC_BUCKETS];
};

/* ---- journal record ------------------------------------------------------------------------------------- */

static void put_str(struct proto_buf *b, uint32_t tag, const char *s)
{
	if (s[0])
		proto_tlv_put(b, tag, s, strlen(s));
}

static int opdata_encode(const struct opdata *d, uint8_t *mem, size_t cap, size_t *len)
{
	struct proto_buf b;
	uint8_t seq[2] = {(uint8_t)(d->seq >> 8), (uint8_t)d->seq};

	proto_buf_init(&b, mem, cap);
	proto_tlv_put(&b, J_FUNC, &d->func, 1);
	put_str(&b, J_ICCID, d->iccid);
	if (d->aid_len)
		proto_tlv_put(&b, J_AID, d->aid, d->aid_len);
	put_str(&b, J_REQUESTER, d->requester);
	put_str(&b, J_URL, d->url);
	put_str(&b, J_MSGID, d->msgid);
	put_str(&b, J_FCID, d->fcid);
	put_str(&b, J_TXID, d->txid);
	if (d->has_seq)
		proto_tlv_put(&b, J_SEQ, seq, 2);
	proto_tlv_put(&b, J_STATUS, &d->status, 1);
	proto_tlv_put(&b, J_SC, &d->sc, 1);
	if (d->rsp_len)
		proto_tlv_put(&b, J_RSP, d->rsp, d->rsp_len);
	put_str(&b, J_MSG, d->msg);
	if (d->internal)
		proto_tlv_put(&b, J_INTERNAL, "\x01", 1);
	put_str(&b, J_MNO, d->mno);
	if (d->memory) {
		uint8_t m[8];
		for (unsigned i = 0; i < 8; i++)
			m[i] = (uint8_t)(d->memory >> (56 - 8 * i));
		proto_tlv_put(&b, J_MEMORY, m, 8);
	}
	if (d->data_len)
		proto_tlv_put(&b, J_DATA, d->data, d->data_len);
	*len = b.len;
	return proto_buf_status(&b);
}

static int get_str(const struct proto_tlv *t, char *out, size_t cap)
{
	if (t->len >= cap || memchr(t->val, 0, t->len))
		return -PROTO_E_MALFORMED;
	memcpy(out, t->val, t->len);
	out[t->len] = '\0';
	return 0;
}

static int opdata_decode(const uint8_t *in, size_t len, struct opdata *d)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int rc;

	memset(d, 0, sizeof(*d));
	proto_tlv_iter_init(&it, in, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		switch (t.tag) {
		case J_FUNC:
			if (t.len != 1 || t.val[0] >= SMSR_ES_FUNC_COUNT)
				return -PROTO_E_MALFORMED;
			d->func = t.val[0];
			break;
		case J_ICCID:
			rc = get_str(&t, d->iccid, sizeof(d->iccid));
			break;
		case J_AID:
			if (t.len > 16)
				return -PROTO_E_MALFORMED;
			memcpy(d->aid, t.val, t.len);
			d->aid_len = (uint8_t)t.len;
			break;
		case J_REQUESTER:
			rc = get_str(&t, d->requester, sizeof(d->requester));
			break;
		case J_URL:
			rc = get_str(&t, d->url, sizeof(d->url));
			break;
		case J_MSGID:
			rc = get_str(&t, d->msgid, sizeof(d->msgid));
			break;
		case J_FCID:
			rc = get_str(&t, d->fcid, sizeof(d->fcid));
			break;
		case J_TXID:
			rc = get_str(&t, d->txid, sizeof(d->txid));
			break;
		case J_SEQ:
			if (t.len != 2)
				return -PROTO_E_MALFORMED;
			d->seq = (uint16_t)(t.val[0] << 8 | t.val[1]);
			d->has_seq = true;
			break;
		case J_STATUS:
			if (t.len != 1 || t.val[0] > SMSR_EXEC_EXPIRED)
				return -PROTO_E_MALFORMED;
			d->status = t.val[0];
			break;
		case J_SC:
			if (t.len != 1 || t.val[0] >= SMSR_SC_COUNT)
				return -PROTO_E_MALFORMED;
			d->sc = t.val[0];
			break;
		case J_RSP:
			if (t.len > sizeof(d->rsp))
				return -PROTO_E_MALFORMED;
			memcpy(d->rsp, t.val, t.len);
			d->rsp_len = t.len;
			break;
		case J_MSG:
			rc = get_str(&t, d->msg, sizeof(d->msg));
			break;
		case J_INTERNAL:
			d->internal = true;
			break;
		case J_MNO:
			rc = get_str(&t, d->mno, sizeof(d->mno));
			break;
		case J_MEMORY:
			if (t.len != 8)
				return -PROTO_E_MALFORMED;
			for (unsigned i = 0; i < 8; i++)
				d->memory = d->memory << 8 | t.val[i];
			break;
		case J_DATA:
			/* points into the caller's buffer: op_new() copies it */
			d->data = t.val;
			d->data_len = t.len;
			break;
		default:
			return -PROTO_E_MALFORMED;
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int op_save(struct op *o)
{
	size_t cap = 2048 + o->d.data_len, len;
	uint8_t *mem = talloc_size(NULL, cap);
	int rc = mem ? opdata_encode(&o->d, mem, cap, &len) : -ENOMEM;

	if (rc == 0)
		rc = smsr_db_op_update(o->p->d->db, NULL, o->id, &o->hdr, mem, len);
	talloc_free(mem);
	if (rc < 0)
		LOG_EIS(o->hdr.eid, DPROTO, LOGL_ERROR, "op %llu: cannot journal state %s: %s",
			(unsigned long long)o->id, state_names[o->hdr.state], proto_strerror(rc));
	return rc;
}

static void op_state(struct op *o, enum op_state st)
{
	LOG_EIS(o->hdr.eid, DPROTO, LOGL_INFO, "op %llu %s: %s -> %s", (unsigned long long)o->id,
		smsr_es_func_desc(o->d.func)->name, state_names[o->hdr.state], state_names[st]);
	o->hdr.state = st;
	/* once decided, a SendData script is never sent again: the journal keeps the result, not the script */
	if (st >= ST_CALLBACK)
		o->d.data_len = 0;
	op_save(o);
}

/* ---- helpers ------------------------------------------------------------------------------------------------ */

static unsigned id_bucket(uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 52) % PROC_BUCKETS;
}

static unsigned eid_bucket(const uint8_t eid[16])
{
	return smsr_eid_hash(eid) % PROC_BUCKETS;
}

static struct op *op_by_id(struct smsr_proc *p, uint64_t id)
{
	struct op *o;

	LIST_FOREACH(o, &p->ids[id_bucket(id)], by_id)
	if (o->id == id)
		return o;
	return NULL;
}

static struct op *op_busy(struct smsr_proc *p, const uint8_t eid[16])
{
	struct op *o;

	LIST_FOREACH(o, &p->eids[eid_bucket(eid)], by_eid)
	if (!memcmp(o->hdr.eid, eid, 16) && o->hdr.state < ST_CALLBACK)
		return o;
	return NULL;
}

/* the operation of eid that a Default Notification answers: waiting for it, or (after a restart) still
 * exchanging the Enable/Disable command */
static struct op *op_waiting_notif(struct smsr_proc *p, const uint8_t eid[16])
{
	struct op *o;

	LIST_FOREACH(o, &p->eids[eid_bucket(eid)], by_eid)
	if (!memcmp(o->hdr.eid, eid, 16) && !o->d.internal &&
	    (o->hdr.state == ST_WAIT_NOTIF ||
	     (o->hdr.state == ST_ES5 &&
	      (base_func(o->d.func) == SMSR_ES4_ENABLE_PROFILE || base_func(o->d.func) == SMSR_ES4_DISABLE_PROFILE))))
		return o;
	return NULL;
}

static void op_free(struct op *o)
{
	talloc_free(o);
}

static int op_destructor(struct op *o)
{
	LIST_REMOVE(o, by_id);
	LIST_REMOVE(o, by_eid);
	if (o->timer)
		event_free(o->timer);
	return 0;
}

static void arm(struct op *o, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(o->timer, &tv);
}

/* wait for the notification no longer than the configured timeout nor past the validity period */
static void arm_notif(struct op *o)
{
	long ms = o->p->d->cfg.notification_timeout_ms;

	if (o->hdr.deadline) {
		long left = (long)(o->hdr.deadline - time(NULL)) * 1000 + 500;
		if (left < ms)
			ms = left > 0 ? left : 0;
	}
	arm(o, ms);
}

static void send_callback(struct op *o);
static void start_es5(struct op *o);

/* the result is decided: go to CALLBACK (internal operations go straight to DONE) */
static void decide(struct op *o, enum smsr_exec_status st, enum smsr_sc sc, const uint8_t *rsp, size_t rsp_len,
		   const char *msg)
{
	if (st != SMSR_EXEC_SUCCESS && o->hdr.deadline && time(NULL) > o->hdr.deadline) {
		/* ValidityPeriod elapsed before the function completed (sgp02.md §5.4) */
		st = SMSR_EXEC_EXPIRED;
		sc = SMSR_SC_EXPIRED;
		msg = "validity period elapsed";
	}
	o->d.status = (uint8_t)st;
	o->d.sc = (uint8_t)sc;
	o->d.rsp_len = rsp_len < sizeof(o->d.rsp) ? rsp_len : sizeof(o->d.rsp);
	if (o->d.rsp_len)
		memcpy(o->d.rsp, rsp, o->d.rsp_len);
	snprintf(o->d.msg, sizeof(o->d.msg), "%s", msg ? msg : "");
	LOG_EIS(o->hdr.eid, DPROTO, LOGL_NOTICE, "op %llu %s: %s%s%s", (unsigned long long)o->id,
		smsr_es_func_desc(o->d.func)->name, smsr_exec_status_name(st), msg && *msg ? ": " : "", msg ? msg : "");
	if (o->d.internal || !o->d.url[0]) {
		op_state(o, ST_DONE);
		op_free(o);
		return;
	}
	op_state(o, ST_CALLBACK);
	send_callback(o);
}

static enum smsr_sc sw_to_sc(uint16_t sw)
{
	switch (sw) {
	case 0x69E1:
		return SMSR_SC_POL1_REFUSED;
	case 0x6985:
		return SMSR_SC_PROFILE_NOT_ALLOWED;
	case 0x6A88:
	case 0x6A82:
		return SMSR_SC_ICCID_UNKNOWN;
	case 0x6A84:
		return SMSR_SC_MEMORY;
	default:
		return SMSR_SC_EUICC_ERROR;
	}
}

static void mno_notify(struct smsr_proc *p, enum smsr_es_func f, const uint8_t eid[16], const struct smsr_profile *pr);

/* ---- ES5 exchanges -------------------------------------------------------------------------------------------- */

struct es5_ref {
	struct smsr_proc *p;
	uint64_t id;
	unsigned expected;
	bool confirm;
};

static void apply_delete(struct smsr_proc *p, struct op *o);
static int apply_create(struct smsr_proc *p, struct op *o);
static void apply_audit(struct smsr_proc *p, struct op *o, const struct smsr_es5_result *r);

static void on_es5(void *data, int rc, const struct ota_por *por)
{
	struct es5_ref *ref = data;
	struct op *o = op_by_id(ref->p, ref->id);
	struct smsr_es5_result r;

	if (!o) {
		talloc_free(ref);
		return;
	}
	if (ref->confirm) {
		talloc_free(ref);
		/* the result was decided when the notification came; the confirmation's own outcome is logged */
		if (rc < 0 || por->status)
			LOG_EIS(o->hdr.eid, DPROTO, LOGL_NOTICE, "op %llu: NotificationConfirmation not acknowledged",
				(unsigned long long)o->id);
		decide(o, (enum smsr_exec_status)o->d.status, (enum smsr_sc)o->d.sc, o->d.rsp, o->d.rsp_len, o->d.msg);
		return;
	}
	if (o->hdr.state != ST_ES5) {
		/* superseded: the notification decided while this (resent) command was in flight */
		talloc_free(ref);
		return;
	}
	if (rc < 0) {
		talloc_free(ref);
		decide(o, SMSR_EXEC_FAILED, SMSR_SC_EUICC_ERROR, NULL, 0, "no verified PoR from the eUICC");
		return;
	}
	if (o->d.func == SMSR_ES3_SEND_DATA) {
		/* ES8 is end to end between the SM-DP and the ISD-P: the response script goes back as it came, the
		 * SM-DP reads its R-APDUs and SCP03t responses (sgp02.md §2.4 EuiccResponseData) */
		talloc_free(ref);
		if (por->status)
			decide(o, SMSR_EXEC_FAILED, SMSR_SC_ISDP_ERROR, por->data, por->data_len,
			       ota_por_status_name(por->status));
		else if (por->data_len > sizeof(o->d.rsp))
			decide(o, SMSR_EXEC_FAILED, SMSR_SC_ISDP_ERROR, NULL, 0, "response script too long");
		else
			decide(o, SMSR_EXEC_SUCCESS, SMSR_SC_NONE, por->data, por->data_len, NULL);
		return;
	}
	smsr_es5_result_parse(por->status, por->data, por->data_len, ref->expected, &r);
	talloc_free(ref);
	if (r.outcome == SMSR_ES5_POR_ERROR) {
		decide(o, SMSR_EXEC_FAILED, SMSR_SC_EUICC_ERROR, NULL, 0, ota_por_status_name(r.por_status));
		return;
	}
	if (r.outcome == SMSR_ES5_SW_ERROR && r.last_sw == 0x6985 && o->resumed &&
	    (base_func(o->d.func) == SMSR_ES4_ENABLE_PROFILE || base_func(o->d.func) == SMSR_ES4_DISABLE_PROFILE)) {
		/* resent after a restart and refused as "already in that state": the attempt before the crash was
		 * executed; its notification decides */
		LOG_EIS(o->hdr.eid, DPROTO, LOGL_NOTICE, "op %llu: resent command found the change already made",
			(unsigned long long)o->id);
		op_state(o, ST_WAIT_NOTIF);
		arm_notif(o);
		return;
	}
	if (r.outcome != SMSR_ES5_OK) {
		decide(o, SMSR_EXEC_FAILED, r.outcome == SMSR_ES5_SW_ERROR ? sw_to_sc(r.last_sw) : SMSR_SC_EUICC_ERROR,
		       r.rsp, r.rsp_len,
		       r.outcome == SMSR_ES5_SW_ERROR ? "the eUICC refused the command" : "malformed response script");
		return;
	}
	switch (base_func(o->d.func)) {
	case SMSR_ES4_ENABLE_PROFILE:
	case SMSR_ES4_DISABLE_PROFILE:
		op_state(o, ST_WAIT_NOTIF);
		arm_notif(o);
		break;
	case SMSR_ES3_CREATE_ISDP:
		if (apply_create(o->p, o) < 0)
			decide(o, SMSR_EXEC_FAILED, SMSR_SC_PROVIDER_ERROR, r.rsp, r.rsp_len, "store error");
		else
			decide(o, SMSR_EXEC_SUCCESS, SMSR_SC_NONE, r.rsp, r.rsp_len, NULL);
		break;
	case SMSR_ES4_DELETE_PROFILE:
		apply_delete(o->p, o);
		decide(o, SMSR_EXEC_SUCCESS, SMSR_SC_NONE, r.rsp, r.rsp_len, NULL);
		break;
	case SMSR_ES4_AUDIT_EIS:
		apply_audit(o->p, o, &r);
		decide(o, SMSR_EXEC_SUCCESS, SMSR_SC_NONE, NULL, 0, NULL);
		break;
	default:
		decide(o, SMSR_EXEC_FAILED, SMSR_SC_UNSUPPORTED, NULL, 0, "unsupported");
	}
}

/* send a script to the ISD-R (tar NULL) or to the SD of tar; on_es5 gets the PoR */
static int send_script(struct op *o, const uint8_t *tar, const uint8_t *script, size_t len, unsigned n, bool confirm)
{
	struct es5_ref *ref;
	int rc;

	ref = talloc_zero(o->p, struct es5_ref);
	if (!ref)
		return -ENOMEM;
	ref->p = o->p;
	ref->id = o->id;
	ref->expected = (unsigned)n;
	ref->confirm = confirm;
	rc = smsr_ota_send_tar(o->p->d->ota, o->hdr.eid, tar, script, len, o->id, on_es5, ref);
	if (rc < 0)
		talloc_free(ref);
	return rc;
}

static int exchange(struct op *o, enum smsr_es5_func f, const struct smsr_es5_args *a, bool confirm)
{
	uint8_t script[1024];
	struct proto_buf b;
	int n;

	proto_buf_init(&b, script, sizeof(script));
	n = smsr_es5_script_build(&b, f, a);
	if (n < 0)
		return n;
	return send_script(o, NULL, b.data, b.len, (unsigned)n, confirm);
}

/* the script items of an ES3.SendData (TS 102 226 TLVs: C-APDUs or SCP03t TLVs, each in a '22' TLV, sgp02.md §6.1):
 * how many, or -PROTO_E_MALFORMED */
static int count_items(const uint8_t *data, size_t len)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int n = 0, rc;

	proto_tlv_iter_init(&it, data, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag != 0x22)
			return -PROTO_E_MALFORMED;
		n++;
	}
	return rc < 0 ? rc : n ? n : -PROTO_E_MALFORMED;
}

/* ES3.SendData: the items in an expanded script AA, to the ISD-P by its implicit TAR (AID bytes 13..15, TS 101 220) */
static int send_data(struct op *o)
{
	size_t cap = o->d.data_len + 8;
	uint8_t *script = talloc_size(o, cap);
	struct proto_buf b;
	int n = count_items(o->d.data, o->d.data_len), rc;

	if (!script)
		return -ENOMEM;
	if (n < 0 || o->d.aid_len != 16) {
		talloc_free(script);
		return n < 0 ? n : -EINVAL;
	}
	proto_buf_init(&b, script, cap);
	proto_tlv_put(&b, 0xAA, o->d.data, o->d.data_len);
	rc = proto_buf_status(&b);
	if (rc == 0)
		rc = send_script(o, o->d.aid + 12, b.data, b.len, (unsigned)n, false);
	talloc_free(script);
	return rc;
}

static void start_es5(struct op *o)
{
	struct smsr_es5_args a = {.aid = o->d.aid, .aid_len = o->d.aid_len};
	enum smsr_es5_func f;
	uint8_t(*aids)[16] = NULL;
	int rc;

	if (o->d.func == SMSR_ES3_SEND_DATA) {
		rc = send_data(o);
		goto sent;
	}
	switch (base_func(o->d.func)) {
	case SMSR_ES3_CREATE_ISDP:
		f = SMSR_ES5_CREATE_ISDP;
		a.quota = o->d.memory > UINT32_MAX ? UINT32_MAX : (uint32_t)o->d.memory;
		break;
	case SMSR_ES4_ENABLE_PROFILE:
		f = SMSR_ES5_ENABLE_PROFILE;
		break;
	case SMSR_ES4_DISABLE_PROFILE:
		f = SMSR_ES5_DISABLE_PROFILE;
		break;
	case SMSR_ES4_DELETE_PROFILE:
		f = SMSR_ES5_DELETE_PROFILE;
		break;
	default: {
		/* AuditEIS: every ISD-P the EIS knows */
		struct smsr_eis *eis;
		unsigned i;
		f = SMSR_ES5_AUDIT;
		if (smsr_db_eis_get(o->p->d->db, NULL, o, o->hdr.eid, &eis) == 0 && eis->n_profiles) {
			aids = talloc_zero_size(o, 16 * (size_t)eis->n_profiles);
			for (i = 0; aids && i < eis->n_profiles; i++)
				memcpy(aids[i], eis->profiles[i].isdp_aid.b, 16);
			a.audit_aids = (const uint8_t(*)[16])aids;
			a.n_audit_aids = aids ? eis->n_profiles : 0;
		}
		break;
	}
	}
	rc = exchange(o, f, &a, false);
	talloc_free(aids);
sent:
	if (rc < 0) {
		decide(o, SMSR_EXEC_FAILED, SMSR_SC_PROVIDER_ERROR, NULL, 0, proto_strerror(rc));
		return;
	}
	/* ValidityPeriod: a command still waiting to reach Kannel when it elapses is withdrawn (EXPIRED) */
	if (o->hdr.deadline) {
		long left = (long)(o->hdr.deadline - time(NULL)) * 1000 + 1000;
		arm(o, left > 0 ? left : 0);
	}
}

/* ---- EIS updates ------------------------------------------------------------------------------------------------- */

static int eis_store(struct smsr_proc *p, const struct smsr_eis *e)
{
	struct smsr_db_txn *txn;
	int rc = smsr_db_txn_begin(p->d->db, &txn);

	if (rc < 0)
		return rc;
	rc = smsr_db_eis_update(p->d->db, txn, e);
	if (rc < 0) {
		smsr_db_txn_abort(&txn);
		return rc;
	}
	return smsr_db_txn_commit(&txn);
}

static void apply_delete(struct smsr_proc *p, struct op *o)
{
	void *tmp = talloc_new(NULL);
	struct smsr_eis *e;
	struct smsr_profile *pr;
	unsigned i;

	if (smsr_db_eis_get(p->d->db, NULL, tmp, o->hdr.eid, &e) == 0 &&
	    (pr = smsr_eis_profile_by_aid(e, o->d.aid, o->d.aid_len))) {
		struct smsr_profile gone = *pr;
		i = (unsigned)(pr - e->profiles);
		e->remaining_memory += pr->allocated_memory;
		memmove(&e->profiles[i], &e->profiles[i + 1], (e->n_profiles - i - 1) * sizeof(*pr));
		e->n_profiles--;
		if (eis_store(p, e) == 0)
			mno_notify(p, SMSR_ES4_HANDLE_PROFILE_DELETED, o->hdr.eid, &gone);
	}
	talloc_free(tmp);
}

/* ES3.CreateISDP executed: the new ISD-P enters the EIS in state Created, owned by the MNO and the SM-DP, its
 * RequiredMemory taken from the eUICC's remaining memory (idempotent: a resumed operation finds it there) */
static int apply_create(struct smsr_proc *p, struct op *o)
{
	void *tmp = talloc_new(NULL);
	struct smsr_eis *e;
	struct smsr_profile *pr;
	int rc = smsr_db_eis_get(p->d->db, NULL, tmp, o->hdr.eid, &e);

	if (rc < 0 || smsr_eis_profile_by_aid(e, o->d.aid, o->d.aid_len))
		goto out;
	pr = talloc_realloc(e, e->profiles, struct smsr_profile, e->n_profiles + 1);
	if (!pr) {
		rc = -ENOMEM;
		goto out;
	}
	e->profiles = pr;
	pr = &e->profiles[e->n_profiles++];
	memset(pr, 0, sizeof(*pr));
	snprintf(pr->iccid, sizeof(pr->iccid), "%s", o->d.iccid);
	memcpy(pr->isdp_aid.b, o->d.aid, o->d.aid_len);
	pr->isdp_aid.len = o->d.aid_len;
	pr->mno_id = talloc_strdup(e, o->d.mno);
	pr->smdp_id = talloc_strdup(e, o->d.requester);
	pr->state = SMSR_PROFILE_CREATED;
	pr->allocated_memory = o->d.memory;
	e->remaining_memory = e->remaining_memory > o->d.memory ? e->remaining_memory - o->d.memory : 0;
	rc = eis_store(p, e);
out:
	talloc_free(tmp);
	return rc;
}

static void apply_audit(struct smsr_proc *p, struct op *o, const struct smsr_es5_result *r)
{
	void *tmp = talloc_new(NULL);
	struct smsr_es5_isdp_status st[16];
	struct smsr_eis *e;
	char now[32];
	unsigned i;
	int n;

	/* the last R-APDU holds the last ISD-P's entry; the response script has all of them */
	if (smsr_db_eis_get(p->d->db, NULL, tmp, o->hdr.eid, &e) < 0)
		goto out;
	n = smsr_es5_status_decode(r->last_data, r->last_len, st, 16);
	for (i = 0; n > 0 && i < (unsigned)n; i++) {
		struct smsr_profile *pr = smsr_eis_profile_by_aid(e, st[i].aid, st[i].aid_len);
		if (!pr)
			continue;
		pr->state = st[i].lcs == 0x3F	? SMSR_PROFILE_ENABLED
			    : st[i].lcs == 0x1F ? SMSR_PROFILE_DISABLED
						: SMSR_PROFILE_CREATED;
		pr->fallback = st[i].fallback;
	}
	e->last_audit_date = talloc_strdup(e, smsr_soap_datetime(time(NULL), now, sizeof(now)));
	eis_store(p, e);
out:
	talloc_free(tmp);
}

/* ---- notifications to MNOs and callbacks ------------------------------------------------------------------------- */

static void on_post(void *data, int rc, long code, const char *body, size_t len)
{
	struct es5_ref *ref = data; /* reused as {p, id} */
	struct op *o = ref->id ? op_by_id(ref->p, ref->id) : NULL;

	talloc_free(ref);
	if (!o)
		return; /* a notification, or the operation is gone */
	if (rc == 0 && code >= 200 && code < 300) {
		op_state(o, ST_DONE);
		op_free(o);
		return;
	}
	o->cb_tries++;
	LOG_EIS(o->hdr.eid, DSOAP, LOGL_NOTICE, "op %llu: callback to %s not acknowledged (%s, HTTP %ld), retry %u",
		(unsigned long long)o->id, o->d.url, rc < 0 ? proto_strerror(rc) : "answered", code, o->cb_tries);
	arm(o, o->cb_tries > 5 ? 60000 : 1000L << o->cb_tries);
}

static void on_zmq_post(void *data, int rc)
{
	on_post(data, rc, rc == 0 ? 200 : 0, NULL, 0);
}

static void post(struct smsr_proc *p, uint64_t id, const char *url, const char *action, const uint8_t *body, size_t len)
{
	struct es5_ref *ref = talloc_zero(p, struct es5_ref);

	if (ref && !strncmp(url, "zmq:", 4)) {
		/* an SM-DP on the ES3 ZeroMQ link */
		ref->p = p;
		ref->id = id;
		if (smsr_es3_zmq_post(p->d->es3z, url, action, body, len, on_zmq_post, ref) < 0)
			on_zmq_post(ref, -ENOTCONN);
		return;
	}
	char *ct = talloc_asprintf(ref, "Content-Type: application/soap+xml; charset=utf-8; action=\"%s\"", action);
	const char *hdrs[] = {ct, NULL};

	if (!ref || !ct)
		return;
	ref->p = p;
	ref->id = id;
	if (smsr_http_request(p->http, "POST", url, hdrs, body, len, on_post, ref) < 0)
		talloc_free(ref);
}

static void send_callback(struct op *o)
{
	void *tmp = talloc_new(NULL);
	const struct smsr_es_func_desc *desc = smsr_es_func_desc(o->d.func);
	struct smsr_es_req rq = {.desc = desc, .func = desc->func};
	struct smsr_es_result r = {.status = (enum smsr_exec_status)o->d.status, .code = (enum smsr_sc)o->d.sc};
	struct smsr_eis *eis = NULL;
	uint8_t *out;
	size_t len;
	int rc;

	rq.message_id = o->d.msgid;
	rq.function_call_id = o->d.fcid;
	rq.transaction_id = o->d.txid[0] ? o->d.txid : NULL;
	r.message = o->d.msg[0] ? o->d.msg : NULL;
	if (o->d.rsp_len && base_func(desc->func) != SMSR_ES4_AUDIT_EIS) {
		r.euicc_data = o->d.rsp;
		r.euicc_len = o->d.rsp_len;
	}
	if (desc->func == SMSR_ES3_CREATE_ISDP) {
		r.isdp_aid = o->d.aid;
		r.isdp_aid_len = o->d.aid_len;
	}
	if (base_func(desc->func) == SMSR_ES4_AUDIT_EIS && r.status == SMSR_EXEC_SUCCESS &&
	    smsr_db_eis_get(o->p->d->db, NULL, tmp, o->hdr.eid, &eis) == 0) {
		r.eis = eis;
		r.eis_opts.view = desc->func == SMSR_ES3_AUDIT_EIS ? SMSR_EIS_VIEW_SMDP : SMSR_EIS_VIEW_MNO;
		r.eis_opts.viewer_id = o->d.requester;
	}
	rc = smsr_es_build_callback(tmp, &o->p->self, &rq, o->d.url, &r, &out, &len, NULL);
	if (rc < 0) {
		LOG_EIS(o->hdr.eid, DSOAP, LOGL_ERROR, "op %llu: cannot build the callback: %s",
			(unsigned long long)o->id, proto_strerror(rc));
		op_state(o, ST_DONE);
		op_free(o);
	} else {
		post(o->p, o->id, o->d.url, desc->resp_action, out, len);
	}
	talloc_free(tmp);
}

static void mno_notify(struct smsr_proc *p, enum smsr_es_func f, const uint8_t eid[16], const struct smsr_profile *pr)
{
	const struct smsr_cfg_requester *mno = pr->mno_id ? smsr_config_requester_by_oid(&p->d->cfg, pr->mno_id) : NULL;
	const struct smsr_cfg_requester *dp =
		pr->smdp_id ? smsr_config_requester_by_oid(&p->d->cfg, pr->smdp_id) : NULL;
	void *tmp = talloc_new(NULL);
	char now[32];
	struct smsr_es_notif n = {.func = f, .eid = eid, .iccid = pr->iccid, .mno_id = pr->mno_id};
	uint8_t *out;
	size_t len;

	n.completion_timestamp = smsr_soap_datetime(time(NULL), now, sizeof(now));
	if (mno && mno->callback_url[0] &&
	    smsr_es_build_notification(tmp, &p->self, mno->callback_url, &n, &out, &len, NULL) == 0)
		post(p, 0, mno->callback_url, smsr_es_func_desc(f)->req_action, out, len);
	/* the SM-DP that downloaded the profile hears it too (ES3), over its link or its callback URL */
	if (dp && !strcmp(dp->role, "smdp") && pr->mno_id) {
		const char *url = dp->curve_public_key[0] ? talloc_asprintf(tmp, "zmq:%s", dp->name) : dp->callback_url;
		n.func = f == SMSR_ES4_HANDLE_PROFILE_ENABLED	 ? SMSR_ES3_HANDLE_PROFILE_ENABLED
			 : f == SMSR_ES4_HANDLE_PROFILE_DISABLED ? SMSR_ES3_HANDLE_PROFILE_DISABLED
								 : SMSR_ES3_HANDLE_PROFILE_DELETED;
		if (url && url[0] && smsr_es_build_notification(tmp, &p->self, url, &n, &out, &len, NULL) == 0)
			post(p, 0, url, smsr_es_func_desc(n.func)->req_action, out, len);
	}
	talloc_free(tmp);
}

/* ---- timers ---------------------------------------------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct op *o = arg;

	switch (o->hdr.state) {
	case ST_WAIT_NOTIF:
		decide(o, SMSR_EXEC_FAILED, SMSR_SC_EUICC_ERROR, NULL, 0, "no notification from the eUICC in time");
		break;
	case ST_ES5:
		/* the validity period elapsed: withdraw the command if it never reached Kannel (on_es5 then decides
		 * EXPIRED, and o may be gone); otherwise the card may run it and its answer decides */
		if (smsr_ota_cancel(o->p->d->ota, o->hdr.eid, o->id) == -EINPROGRESS)
			LOG_EIS(o->hdr.eid, DPROTO, LOGL_NOTICE,
				"op %llu: validity period elapsed after the command reached Kannel; the eUICC decides",
				(unsigned long long)o->id);
		break;
	case ST_CALLBACK:
		send_callback(o);
		break;
	default:
		break;
	}
}

static struct op *op_new(struct smsr_proc *p, uint64_t id, const struct smsr_db_op_hdr *h, const struct opdata *d)
{
	struct op *o = talloc_zero(p, struct op);

	if (!o)
		return NULL;
	o->p = p;
	o->id = id;
	o->hdr = *h;
	o->d = *d;
	if (d->data_len && !(o->d.data = talloc_memdup(o, d->data, d->data_len))) {
		talloc_free(o);
		return NULL;
	}
	o->timer = evtimer_new(p->d->base, on_timer, o);
	talloc_set_destructor(o, op_destructor);
	LIST_INSERT_HEAD(&p->ids[id_bucket(id)], o, by_id);
	LIST_INSERT_HEAD(&p->eids[eid_bucket(h->eid)], o, by_eid);
	return o;
}

/* ---- accept ------------------------------------------------------------------------------------------------------ */

static int refuse(struct smsr_es_result *res, enum smsr_sc sc, const char *msg)
{
	smsr_es_result_fail(res, sc, NULL, msg);
	return -EPERM;
}

/* who may act on a profile: its MNO over ES4, its SM-DP over ES3 */
static bool owns(const struct smsr_profile *pr, const struct smsr_cfg_requester *who)
{
	const char *id = !strcmp(who->role, "smdp") ? pr->smdp_id : pr->mno_id;

	return id && !strcmp(id, who->entity_id);
}

/* ES3.CreateISDP pre-checks (sgp02.md §4.2) and the AID of the new ISD-P: SGP.02 Annex H form
 * A0000005591010FFFFFFFF89 00 00 nn 00 with the lowest nn (from 12) no ISD-P of this eUICC uses */
static int accept_create(const struct smsr_eis *e, const struct smsr_es_req *req, struct opdata *d,
			 struct smsr_es_result *res)
{
	static const uint8_t prefix[12] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89};
	uint8_t aid[16];
	unsigned nn;

	if (smsr_eis_profile_by_iccid(e, req->iccid))
		return refuse(res, SMSR_SC_ICCID_IN_USE, "ICCID already on this eUICC");
	if (req->required_memory > e->remaining_memory)
		return refuse(res, SMSR_SC_MEMORY, "RequiredMemory exceeds the eUICC's remaining memory");
	memcpy(aid, prefix, 12);
	for (nn = 0x12; nn <= 0xFF; nn++) {
		aid[12] = 0x00, aid[13] = 0x00, aid[14] = (uint8_t)nn, aid[15] = 0x00;
		if (!smsr_eis_profile_by_aid(e, aid, 16))
			break;
	}
	if (nn > 0xFF)
		return refuse(res, SMSR_SC_MEMORY, "no ISD-P AID left on this eUICC");
	memcpy(d->aid, aid, 16);
	d->aid_len = 16;
	snprintf(d->iccid, sizeof(d->iccid), "%s", req->iccid);
	snprintf(d->mno, sizeof(d->mno), "%s", req->mno_id ? req->mno_id : "");
	d->memory = req->required_memory;
	return 0;
}

int smsr_proc_accept(struct smsr_proc *p, const struct smsr_es_req *req, const struct smsr_cfg_requester *who,
		     struct smsr_es_result *res)
{
	void *tmp = talloc_new(NULL);
	struct smsr_eis *e;
	struct smsr_profile *pr = NULL, *en;
	struct smsr_db_op_hdr h = {.state = ST_ES5};
	struct opdata d = {.func = (uint8_t)req->func};
	uint8_t *mem = NULL;
	size_t len, cap = 2048 + req->data_len;
	uint64_t id;
	unsigned i;
	bool owner = false;
	int rc;

	/* a retry of a journalled request is answered 202 whatever the state now is: its result is (or was) the
	 * callback of the first one */
	if (req->function_call_id &&
	    smsr_db_idem_get(p->d->db, NULL, who->entity_id, req->function_call_id, &id) == 0) {
		LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "retry of op %llu", (unsigned long long)id);
		rc = 0;
		goto out;
	}
	snprintf(d.url, sizeof(d.url), "%s",
		 req->reply_to && (strncmp(req->reply_to, "http", 4) == 0 || strncmp(req->reply_to, "zmq:", 4) == 0)
			 ? req->reply_to
			 : who->callback_url);
	if (!d.url[0]) {
		/* the result could never be delivered: refuse now rather than accept silently */
		rc = refuse(res, SMSR_SC_INVALID, "no usable wsa:ReplyTo and no callback URL for the requester");
		goto out;
	}
	rc = smsr_db_eis_get(p->d->db, NULL, tmp, req->eid, &e);
	if (rc == -ENOENT) {
		rc = refuse(res, SMSR_SC_EID_UNKNOWN, "unknown EID");
		goto out;
	}
	if (rc < 0)
		goto out;
	for (i = 0; i < e->n_profiles; i++)
		owner |= owns(&e->profiles[i], who);
	/* ES3.CreateISDP: any SM-DP known to this SM-SR may create an ISD-P on a registered eUICC */
	if (!owner && req->func != SMSR_ES3_CREATE_ISDP) {
		struct op *b = op_busy(p, req->eid);
		if (b && !strcmp(b->d.requester, who->entity_id)) {
			/* its own CreateISDP still runs: the ISD-P may yet appear, ask again later */
			rc = refuse(res, SMSR_SC_BUSY, "an operation of the requester is in progress on this eUICC");
			goto out;
		}
		rc = refuse(res, SMSR_SC_EIS_NOT_ALLOWED, "no profile of the requester on this eUICC");
		goto out;
	}
	if (e->handover_pending || op_busy(p, req->eid)) {
		rc = refuse(res, SMSR_SC_BUSY, "another operation is in progress on this eUICC");
		goto out;
	}
	if (req->func == SMSR_ES3_CREATE_ISDP) {
		rc = accept_create(e, req, &d, res);
		if (rc < 0)
			goto out;
	} else if (req->func == SMSR_ES3_SEND_DATA) {
		pr = smsr_eis_profile_by_aid(e, req->sd_aid.b, req->sd_aid.len);
		if (!pr || !owns(pr, who)) {
			smsr_es_result_fail(res, SMSR_SC_INVALID, "Sd-aid", "no ISD-P of this SM-DP with that AID");
			rc = -EPERM;
			goto out;
		}
		if (req->data_len + 4 > SMSR_OTA_MAX_SCRIPT) {
			/* refused now rather than journalled and failed at send time */
			smsr_es_result_fail(res, SMSR_SC_INVALID, "Data",
					    "longer than one SCP80 command packet carries");
			rc = -EPERM;
			goto out;
		}
		if (count_items(req->data, req->data_len) < 0) {
			smsr_es_result_fail(res, SMSR_SC_INVALID, "Data", "not a sequence of TS 102 226 '22' TLVs");
			rc = -EPERM;
			goto out;
		}
		memcpy(d.aid, pr->isdp_aid.b, pr->isdp_aid.len);
		d.aid_len = pr->isdp_aid.len;
		snprintf(d.iccid, sizeof(d.iccid), "%s", pr->iccid);
		d.data = req->data;
		d.data_len = req->data_len;
	} else if (base_func(req->func) != SMSR_ES4_AUDIT_EIS) {
		pr = smsr_eis_profile_by_iccid(e, req->iccid);
		if (!pr) {
			rc = refuse(res, SMSR_SC_ICCID_UNKNOWN, "unknown ICCID on this eUICC");
			goto out;
		}
		if (!owns(pr, who)) {
			rc = refuse(res, SMSR_SC_PROFILE_NOT_ALLOWED, "profile of another MNO");
			goto out;
		}
		en = smsr_eis_profile_enabled(e);
		switch (base_func(req->func)) {
		case SMSR_ES4_ENABLE_PROFILE:
			if (pr->state != SMSR_PROFILE_DISABLED)
				rc = refuse(res, SMSR_SC_PROFILE_NOT_ALLOWED, "profile not in state Disabled");
			else if ((en && smsr_profile_pol2_forbids(en, SMSR_POL2_DISABLE)) ||
				 smsr_profile_pol2_forbids(pr, SMSR_POL2_ENABLE))
				rc = refuse(res, SMSR_SC_POL2_REFUSED, "POL2 forbids it");
			break;
		case SMSR_ES4_DISABLE_PROFILE:
			if (pr->state != SMSR_PROFILE_ENABLED || pr->fallback)
				rc = refuse(res, SMSR_SC_PROFILE_NOT_ALLOWED,
					    "profile not Enabled, or the fall-back profile");
			else if (smsr_profile_pol2_forbids(pr, SMSR_POL2_DISABLE))
				rc = refuse(res, SMSR_SC_POL2_REFUSED, "POL2 forbids it");
			break;
		case SMSR_ES4_DELETE_PROFILE:
			/* ES3.DeleteISDP also removes an ISD-P left in Created by a failed download (sgp02.md §6.7) */
			if ((pr->state != SMSR_PROFILE_DISABLED &&
			     !(req->func == SMSR_ES3_DELETE_ISDP && pr->state == SMSR_PROFILE_CREATED)) ||
			    pr->fallback)
				rc = refuse(res, SMSR_SC_PROFILE_NOT_ALLOWED, "profile Enabled, Created or fall-back");
			else if (smsr_profile_pol2_forbids(pr, SMSR_POL2_DELETE))
				rc = refuse(res, SMSR_SC_POL2_REFUSED, "POL2 forbids it");
			break;
		default:
			rc = refuse(res, SMSR_SC_UNSUPPORTED, "unsupported");
		}
		if (rc < 0)
			goto out;
		snprintf(d.iccid, sizeof(d.iccid), "%s", pr->iccid);
		memcpy(d.aid, pr->isdp_aid.b, pr->isdp_aid.len);
		d.aid_len = pr->isdp_aid.len;
	}
	snprintf(d.requester, sizeof(d.requester), "%s", who->entity_id);
	snprintf(d.msgid, sizeof(d.msgid), "%s", req->message_id ? req->message_id : "");
	snprintf(d.fcid, sizeof(d.fcid), "%s", req->function_call_id ? req->function_call_id : "");
	snprintf(d.txid, sizeof(d.txid), "%s", req->transaction_id ? req->transaction_id : "");
	memcpy(h.eid, req->eid, 16);
	h.created = time(NULL);
	h.deadline = req->has_validity_period ? h.created + (int64_t)req->validity_period : 0;
	mem = talloc_size(tmp, cap);
	rc = mem ? opdata_encode(&d, mem, cap, &len) : -ENOMEM;
	if (rc < 0)
		goto out;
	rc = smsr_db_op_create(p->d->db, NULL, &h, who->entity_id, req->function_call_id, mem, len, &id);
	if (rc == -EEXIST) {
		/* a retry: answered 202 again; the result comes (or came) as a callback */
		struct op *o = op_by_id(p, id);
		LOG_TXN(req->function_call_id, DSOAP, LOGL_INFO, "retry of op %llu (%s)", (unsigned long long)id,
			o ? state_names[o->hdr.state] : "completed");
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	/* journalled: from here the operation survives any crash */
	{
		struct op *o = op_new(p, id, &h, &d);
		if (!o) {
			/* not started: take it out of the journal so the FAILED answer stays true */
			smsr_db_op_delete(p->d->db, NULL, id);
			rc = -ENOMEM;
			goto out;
		}
		LOG_EIS(h.eid, DPROTO, LOGL_INFO, "op %llu %s accepted from %s (%s)", (unsigned long long)id,
			smsr_es_func_desc(d.func)->name, d.requester, d.fcid);
		start_es5(o);
	}
out:
	talloc_free(tmp);
	return rc;
}

/* ---- notifications from the eUICC -------------------------------------------------------------------------------- */

static void confirm_only(struct smsr_proc *p, const uint8_t eid[16], uint16_t seq)
{
	struct smsr_db_op_hdr h = {.state = ST_CONFIRM};
	struct opdata d = {.func = SMSR_ES4_ENABLE_PROFILE, .internal = true, .has_seq = true, .seq = seq};
	uint8_t mem[256];
	size_t len;
	uint64_t id;
	struct op *o;

	memcpy(h.eid, eid, 16);
	h.created = time(NULL);
	if (opdata_encode(&d, mem, sizeof(mem), &len) < 0 ||
	    smsr_db_op_create(p->d->db, NULL, &h, NULL, NULL, mem, len, &id) < 0 || !(o = op_new(p, id, &h, &d)))
		return;
	if (exchange(o, SMSR_ES5_NOTIFICATION_CONFIRM, &(struct smsr_es5_args){.seq = seq}, true) < 0)
		op_free(o);
}

/* POL2 Auto-Delete: a DeleteProfile the SM-SR starts itself (journalled, no requester callback; the owner gets
 * HandleProfileDeletedNotification) */
static void auto_delete(struct smsr_proc *p, const uint8_t eid[16], const struct smsr_profile *pr)
{
	struct smsr_db_op_hdr h = {.state = ST_ES5};
	struct opdata d = {.func = SMSR_ES4_DELETE_PROFILE, .internal = true};
	uint8_t mem[512];
	size_t len;
	uint64_t id;
	struct op *o;

	memcpy(h.eid, eid, 16);
	h.created = time(NULL);
	snprintf(d.iccid, sizeof(d.iccid), "%s", pr->iccid);
	memcpy(d.aid, pr->isdp_aid.b, pr->isdp_aid.len);
	d.aid_len = pr->isdp_aid.len;
	snprintf(d.requester, sizeof(d.requester), "%s", pr->mno_id ? pr->mno_id : "");
	if (opdata_encode(&d, mem, sizeof(mem), &len) < 0 ||
	    smsr_db_op_create(p->d->db, NULL, &h, NULL, NULL, mem, len, &id) < 0 || !(o = op_new(p, id, &h, &d)))
		return;
	LOG_EIS(eid, DPROTO, LOGL_NOTICE, "op %llu: POL2 Auto-Delete of ICCID %s after its disabling",
		(unsigned long long)id, pr->iccid);
	start_es5(o);
}

void smsr_proc_notification(struct smsr_proc *p, const uint8_t eid[16], const uint8_t *n, size_t len)
{
	void *tmp = talloc_new(NULL);
	struct smsr_notif nt;
	struct smsr_eis *e;
	struct smsr_profile *now_en = NULL, *was_en, was_copy;
	struct op *o = op_waiting_notif(p, eid);
	bool dup, changed = false;
	unsigned i;

	if (smsr_notif_decode(n, len, &nt) < 0 || memcmp(nt.eid, eid, 16) ||
	    smsr_db_eis_get(p->d->db, NULL, tmp, eid, &e) < 0) {
		LOG_EIS(eid, DPROTO, LOGL_NOTICE, "notification dropped (undecodable, other EID or unknown eUICC)");
		goto out;
	}
	dup = e->has_notif_seq && nt.seq <= e->last_notif_seq && nt.seq + 0x8000u > e->last_notif_seq;
	LOG_EIS(eid, DPROTO, LOGL_INFO, "notification type %02x seq %u%s", nt.type, nt.seq, dup ? " (duplicate)" : "");
	if (!dup) {
		was_en = smsr_eis_profile_enabled(e);
		if (was_en)
			was_copy = *was_en;
		e->last_notif_seq = nt.seq;
		e->has_notif_seq = true;
		if (nt.imei && nt.imei_len <= sizeof(e->imei)) {
			memcpy(e->imei, nt.imei, nt.imei_len);
			e->imei_len = (uint8_t)nt.imei_len;
		}
		if ((nt.type == SMSR_NOTIF_CHANGE_OK || nt.type == SMSR_NOTIF_FALLBACK ||
		     nt.type == SMSR_NOTIF_FIRST_ATTACH) &&
		    nt.has_aid && (now_en = smsr_eis_profile_by_aid(e, nt.aid, nt.aid_len))) {
			for (i = 0; i < e->n_profiles; i++)
				if (&e->profiles[i] != now_en && e->profiles[i].state == SMSR_PROFILE_ENABLED)
					e->profiles[i].state = SMSR_PROFILE_DISABLED;
			changed = now_en->state != SMSR_PROFILE_ENABLED;
			now_en->state = SMSR_PROFILE_ENABLED;
			if (now_en->msisdn[0])
				snprintf(e->isdr_msisdn, sizeof(e->isdr_msisdn), "%s", now_en->msisdn);
		}
		eis_store(p, e);
		if (changed) {
			mno_notify(p, SMSR_ES4_HANDLE_PROFILE_ENABLED, eid, now_en);
			if (was_en && memcmp(was_copy.isdp_aid.b, now_en->isdp_aid.b, 16)) {
				mno_notify(p, SMSR_ES4_HANDLE_PROFILE_DISABLED, eid, &was_copy);
				/* POL2 DISABLE / Auto-Delete of the profile that was just disabled */
				if (smsr_profile_pol2_auto_delete(&was_copy, SMSR_POL2_DISABLE))
					auto_delete(p, eid, &was_copy);
			}
		}
	}
	if (o && !dup &&
	    (o->hdr.state == ST_WAIT_NOTIF ||
	     (o->hdr.state == ST_ES5 &&
	      (base_func(o->d.func) == SMSR_ES4_ENABLE_PROFILE || base_func(o->d.func) == SMSR_ES4_DISABLE_PROFILE)))) {
		/* in ES5 state: an earlier attempt (before a restart) was executed and its PoR lost; the
		 * notification is the proof, and the resent command's own answer is then ignored */
		bool expired = o->hdr.deadline && time(NULL) > o->hdr.deadline;
		evtimer_del(o->timer);
		if (expired) {
			/* sgp02.md §4.5.5: after the validity period the SM-SR does not confirm; the eUICC rolls back
			 */
			decide(o, SMSR_EXEC_EXPIRED, SMSR_SC_EXPIRED, NULL, 0, "validity period elapsed");
			goto out;
		}
		if (nt.type == SMSR_NOTIF_CHANGE_OK || nt.type == SMSR_NOTIF_FALLBACK) {
			o->d.status = SMSR_EXEC_SUCCESS;
			o->d.sc = SMSR_SC_NONE;
		} else {
			o->d.status = SMSR_EXEC_FAILED;
			o->d.sc = SMSR_SC_EUICC_REFUSED;
			snprintf(o->d.msg, sizeof(o->d.msg), "the eUICC rolled back (notification %02x)", nt.type);
		}
		o->d.has_seq = true;
		o->d.seq = nt.seq;
		op_state(o, ST_CONFIRM);
		if (exchange(o, SMSR_ES5_NOTIFICATION_CONFIRM, &(struct smsr_es5_args){.seq = nt.seq}, true) < 0)
			decide(o, (enum smsr_exec_status)o->d.status, (enum smsr_sc)o->d.sc, NULL, 0, o->d.msg);
	} else {
		confirm_only(p, eid, nt.seq);
	}
out:
	talloc_free(tmp);
}

/* ---- recovery -----------------------------------------------------------------------------------------------------
 */

int smsr_proc_recover(struct smsr_proc *p)
{
	void *tmp = talloc_new(NULL);
	struct smsr_db_op *ops;
	size_t n, i;
	int resumed = 0;

	if (smsr_db_op_list(p->d->db, tmp, -1, &ops, &n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct opdata d;
		struct op *o;

		if (ops[i].hdr.state == ST_DONE || opdata_decode(ops[i].data, ops[i].len, &d) < 0)
			continue;
		o = op_new(p, ops[i].id, &ops[i].hdr, &d);
		if (!o)
			break;
		o->resumed = true;
		resumed++;
		LOG_EIS(o->hdr.eid, DPROTO, LOGL_NOTICE, "op %llu %s resumed in %s", (unsigned long long)o->id,
			smsr_es_func_desc(d.func)->name, state_names[o->hdr.state]);
		switch (o->hdr.state) {
		case ST_ES5:
			start_es5(o);
			break;
		case ST_WAIT_NOTIF:
			arm_notif(o);
			break;
		case ST_CONFIRM:
			if (exchange(o, SMSR_ES5_NOTIFICATION_CONFIRM, &(struct smsr_es5_args){.seq = d.seq}, true) < 0)
				decide(o, (enum smsr_exec_status)d.status, (enum smsr_sc)d.sc, NULL, 0, d.msg);
			break;
		case ST_CALLBACK:
			send_callback(o);
			break;
		default:
			break;
		}
	}
out:
	talloc_free(tmp);
	return resumed;
}

int smsr_proc_new(void *ctx, struct smsrd *d, struct smsr_proc **out)
{
	struct smsr_proc *p = talloc_zero(ctx, struct smsr_proc);
	struct smsr_http_client_cfg hc = {.max_inflight = 16, .timeout_ms = 10000, .log_cat = DSOAP};

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->d = d;
	for (unsigned i = 0; i < PROC_BUCKETS; i++) {
		LIST_INIT(&p->ids[i]);
		LIST_INIT(&p->eids[i]);
	}
	p->self.address = talloc_asprintf(p, "https://%s/es4", d->cfg.es4_listen);
	p->self.entity_id = d->cfg.entity_id;
	p->self.entity_name = d->cfg.entity_name;
	hc.tls_cert = d->cfg.tls_cert;
	hc.tls_key = d->cfg.tls_key;
	hc.tls_ca = d->cfg.tls_ca;
	if (smsr_http_client_new(p, d->base, &hc, &p->http) < 0) {
		talloc_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}
