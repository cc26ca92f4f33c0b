/* ES5 over SCP80 SMS: per-eUICC exchange queue, counters, segmentation, PoR matching, retries, notifications
 * (see es5_ota.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <talloc.h>
#include <event2/event.h>
#include "smsr/es5_ota.h"
#include "smsr/db.h"
#include "smsr/kannel.h"
#include "smsr/logging.h"
#include "ota/keystore_wrap.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "proto/errors.h"
#include "proto/hex.h"

#define NBUCKETS 4096
#define MAX_ATTEMPTS 16
#define MAX_SEGS 32
_Static_assert(SMSR_OTA_MAX_SCRIPT + 64 <= MAX_SEGS * 134 - 3, "a maximal script fits one concatenated SMS train");

enum exch_state {
	EX_QUEUED,
	EX_SENDING,
	EX_WAIT_POR,
};

static const char *const exch_state_names[] = { "QUEUED", "SENDING", "WAIT_POR" };

struct slot;

struct exch {
	TAILQ_ENTRY(exch) entry;
	struct slot *slot;
	struct smsr_ota *ota;
	uint64_t opid;
	uint8_t tar[3]; /* target: the ISD-R (cfg.tar) or an ISD-P (ES3.SendData) */
	uint8_t *script;
	size_t len;
	smsr_ota_done_cb done;
	void *data;
	enum exch_state state;
	unsigned attempt;		/* attempts that reached Kannel */
	unsigned unsent;		/* segments of the current attempt Kannel did not take yet */
	bool attempt_unreachable;	/* Kannel could not be reached for the current attempt */
	bool reached;			/* Kannel took a segment of some attempt: the card may execute it */
	uint64_t cntr[MAX_ATTEMPTS];	/* counter of each attempt */
	unsigned n_cntr;
	struct ota_sec sec;		/* ISD-R keys, unwrapped for this exchange */
	char msisdn[SMSR_MSISDN_MAX + 2];
	struct event *timer;
};

struct slot {
	struct slot *next;
	uint8_t eid[16];
	TAILQ_HEAD(, exch) q;
};

struct smsr_ota {
	struct event_base *base;
	struct smsr_db *db;
	const struct ota_wrap_master *master;
	struct smsr_kannel *kannel;
	struct smsr_ota_cfg cfg;
	smsr_ota_notif_cb notif_cb;
	void *notif_data;
	struct ota_sms_reasm *reasm;
	struct slot *buckets[NBUCKETS];
	unsigned pending;
	struct smsr_ota_stats st;
};

static unsigned hash_eid(const uint8_t eid[16])
{
	return smsr_eid_hash(eid) % NBUCKETS;
}

static struct slot *slot_find(struct smsr_ota *ota, const uint8_t eid[16], bool create)
{
	unsigned h = hash_eid(eid);
	struct slot *s;

	for (s = ota->buckets[h]; s; s = s->next)
		if (!memcmp(s->eid, eid, 16))
			return s;
	if (!create)
		return NULL;
	s = talloc_zero(ota, struct slot);
	if (!s)
		return NULL;
	memcpy(s->eid, eid, 16);
	TAILQ_INIT(&s->q);
	s->next = ota->buckets[h];
	ota->buckets[h] = s;
	return s;
}

static void slot_drop_if_idle(struct smsr_ota *ota, struct slot *s)
{
	struct slot **pp;

	if (!TAILQ_EMPTY(&s->q))
		return;
	for (pp = &ota->buckets[hash_eid(s->eid)]; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			talloc_free(s);
			return;
		}
	}
}

static void start_deferred(struct slot *s);

/* the exchange ends: report, free, start the next one of this eUICC */
static void finish(struct exch *x, int rc, const struct ota_por *por)
{
	struct smsr_ota *ota = x->ota;
	struct slot *s = x->slot;

	if (x->timer)
		event_del(x->timer);
	TAILQ_REMOVE(&s->q, x, entry);
	ota->pending--;
	if (rc < 0)
		LOG_EIS(s->eid, DOTA, LOGL_NOTICE, "op %llu: exchange failed in %s after %u attempts: %s",
			(unsigned long long)x->opid, exch_state_names[x->state], x->attempt, proto_strerror(rc));
	x->done(x->data, rc, por);
	talloc_free(x);
	if (!TAILQ_EMPTY(&s->q))
		start_deferred(s);
	else
		slot_drop_if_idle(ota, s);
}

/* ISD-R SCP80 keys of the configured keyset version, unwrapped into handles under x */
static int load_keys(struct smsr_ota *ota, const uint8_t eid[16], void *ctx, struct ota_sec *sec, char *msisdn,
		     size_t msisdn_len)
{
	struct smsr_eis *e;
	void *tmp = talloc_new(NULL);
	uint8_t kvn = ota->cfg.kic >> 4, aad[OTA_WRAP_AAD_KEY_LEN];
	const struct smsr_keyset *ks = NULL;
	unsigned i;
	int rc;

	rc = smsr_db_eis_get(ota->db, NULL, tmp, eid, &e);
	if (rc < 0)
		goto out;
	if (msisdn) {
		const struct smsr_profile *p = smsr_eis_profile_enabled(e);
		snprintf(msisdn, msisdn_len, "%s", e->isdr_msisdn[0] ? e->isdr_msisdn : p ? p->msisdn : "");
	}
	for (i = 0; i < e->isdr.n_keysets; i++)
		if (e->isdr.keysets[i].version == kvn)
			ks = &e->isdr.keysets[i];
	rc = -ENOENT;
	if (!ks)
		goto out;
	memset(sec, 0, sizeof(*sec));
	for (i = 0; i < ks->n_keys; i++) {
		const struct smsr_key *k = &ks->keys[i];
		struct ota_key **dst = k->index == 1 ? &sec->kic_key : k->index == 2 ? &sec->kid_key : NULL;
		if (!dst || !k->n_comp)
			continue;
		ota_wrap_aad_key(aad, eid, 0, kvn, k->index, 0);
		rc = ota_wrap_unwrap_key(ota->master, k->comp[0].wrapped, k->comp[0].wrapped_len, aad, sizeof(aad), ctx,
					 dst);
		if (rc < 0)
			goto out;
	}
	rc = sec->kic_key && sec->kid_key ? 0 : -ENOENT;
out:
	talloc_free(tmp);
	return rc;
}

struct kcb {
	struct smsr_ota *ota;
	uint8_t eid[16];
	uint64_t opid;
	unsigned attempt;
};

static struct exch *find_exch(struct smsr_ota *ota, const uint8_t eid[16], uint64_t opid)
{
	struct slot *s = slot_find(ota, eid, false);
	struct exch *x;

	if (!s)
		return NULL;
	TAILQ_FOREACH(x, &s->q, entry)
		if (x->opid == opid)
			return x;
	return NULL;
}

static void on_kannel(enum smsr_kannel_result res, int code, const char *reply, void *data)
{
	struct kcb *k = data;
	struct exch *x = find_exch(k->ota, k->eid, k->opid);

	if (x && x->attempt == k->attempt && x->state != EX_QUEUED) {
		if (x->unsent)
			x->unsent--;
		if (res == SMSR_KANNEL_REJECTED) {
			talloc_free(k);
			finish(x, -ECONNREFUSED, NULL);
			return;
		}
		if (res == SMSR_KANNEL_UNREACHABLE)
			x->attempt_unreachable = true;
		if (res == SMSR_KANNEL_ACCEPTED)
			x->reached = true;
	}
	talloc_free(k);
}

int smsr_ota_cancel(struct smsr_ota *ota, const uint8_t eid[16], uint64_t opid)
{
	struct exch *x = find_exch(ota, eid, opid);

	if (!x)
		return -ENOENT;
	if (x->reached)
		return -EINPROGRESS;
	LOG_EIS(eid, DOTA, LOGL_NOTICE, "op %llu: cancelled in %s, nothing reached Kannel", (unsigned long long)opid,
		exch_state_names[x->state]);
	finish(x, -ECANCELED, NULL);
	return 0;
}

static int send_attempt(struct exch *x)
{
	struct smsr_ota *ota = x->ota;
	struct ota_cmd_hdr h;
	uint8_t pkt[MAX_SEGS * 134 + 16];
	struct ota_sms_ud segs[MAX_SEGS];
	struct proto_buf b;
	uint64_t cntr;
	char token[SMSR_KANNEL_TOKEN_MAX];
	int n, i, rc;

	if (x->n_cntr >= MAX_ATTEMPTS)
		return -ETIMEDOUT;
	rc = smsr_db_cntr_next(ota->db, x->slot->eid, ota->cfg.kic >> 4, &cntr);
	if (rc < 0)
		return rc;
	x->cntr[x->n_cntr++] = cntr;
	memcpy(h.spi, ota->cfg.spi, 2);
	h.kic = ota->cfg.kic;
	h.kid = ota->cfg.kid;
	memcpy(h.tar, x->tar, 3);
	ota_cntr_put(h.cntr, cntr);
	proto_buf_init(&b, pkt, sizeof(pkt));
	rc = ota_spkt_cmd_encode(&b, &h, &x->sec, x->script, x->len);
	if (rc < 0)
		return rc;
	n = ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, (uint8_t)cntr, segs, MAX_SEGS);
	if (n < 0)
		return n;
	x->attempt++;
	x->unsent = (unsigned)n;
	x->attempt_unreachable = false;
	x->state = EX_SENDING;
	for (i = 0; i < n; i++) {
		struct kcb *k = talloc_zero(ota, struct kcb);
		if (!k)
			return -ENOMEM;
		k->ota = ota;
		memcpy(k->eid, x->slot->eid, 16);
		k->opid = x->opid;
		k->attempt = x->attempt;
		snprintf(token, sizeof(token), "o%llu.a%u.s%d", (unsigned long long)x->opid, x->attempt, i + 1);
		rc = smsr_kannel_send(ota->kannel, x->msisdn, segs[i].ud, segs[i].len, segs[i].ud[0] + 1u, token,
				      on_kannel, k);
		if (rc < 0) {
			talloc_free(k);
			return rc;
		}
		ota->st.mt_sms++;
	}
	LOG_EIS(x->slot->eid, DOTA, LOGL_INFO, "op %llu: attempt %u, CNTR %llu, %zu-byte packet in %d SMS to %s",
		(unsigned long long)x->opid, x->attempt, (unsigned long long)cntr, b.len, n, x->msisdn);
	x->state = EX_WAIT_POR;
	{
		struct timeval tv = { ota->cfg.por_timeout_ms / 1000, (ota->cfg.por_timeout_ms % 1000) * 1000 };
		evtimer_add(x->timer, &tv);
	}
	return 0;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct exch *x = arg;
	struct smsr_ota *ota = x->ota;
	int rc;

	/* an attempt Kannel never took does not count against the retries: Kannel down loses nothing */
	if (x->attempt_unreachable && x->attempt)
		x->attempt--;
	if (x->attempt > ota->cfg.retries) {
		ota->st.timeouts++;
		finish(x, -ETIMEDOUT, NULL);
		return;
	}
	ota->st.retries++;
	LOG_EIS(x->slot->eid, DOTA, LOGL_NOTICE, "op %llu: no PoR within %ld ms, %s", (unsigned long long)x->opid,
		ota->cfg.por_timeout_ms, x->attempt_unreachable ? "Kannel unreachable, resending" : "resending");
	rc = send_attempt(x);
	if (rc < 0)
		finish(x, rc, NULL);
}

static void start(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;
	struct exch *x = TAILQ_FIRST(&s->q);
	int rc;

	if (!x || x->state != EX_QUEUED)
		return;
	rc = load_keys(x->ota, s->eid, x, &x->sec, x->msisdn, sizeof(x->msisdn));
	if (rc == 0 && !x->msisdn[0])
		rc = -ENOENT;
	if (rc == 0)
		rc = send_attempt(x);
	if (rc < 0)
		finish(x, rc, NULL);
}

static void start_deferred(struct slot *s)
{
	struct exch *x = TAILQ_FIRST(&s->q);

	event_base_once(x->ota->base, -1, EV_TIMEOUT, start, s, &(struct timeval){ 0, 0 });
}

static int exch_destructor(struct exch *x)
{
	if (x->timer)
		event_free(x->timer);
	return 0;
}

int smsr_ota_send(struct smsr_ota *ota, const uint8_t eid[16], const uint8_t *script, size_t len, uint64_t opid,
		  smsr_ota_done_cb done, void *data)
{
	return smsr_ota_send_tar(ota, eid, NULL, script, len, opid, done, data);
}

int smsr_ota_send_tar(struct smsr_ota *ota, const uint8_t eid[16], const uint8_t tar[3], const uint8_t *script,
		      size_t len, uint64_t opid, smsr_ota_done_cb done, void *data)
{
	struct slot *s = slot_find(ota, eid, true);
	struct exch *x;
	bool idle;

	if (!s)
		return -ENOMEM;
	x = talloc_zero(s, struct exch);
	if (!x || !(x->script = talloc_memdup(x, script, len)) || !(x->timer = evtimer_new(ota->base, on_timeout, x))) {
		talloc_free(x);
		slot_drop_if_idle(ota, s);
		return -ENOMEM;
	}
	talloc_set_destructor(x, exch_destructor);
	x->slot = s;
	x->ota = ota;
	x->opid = opid;
	memcpy(x->tar, tar ? tar : ota->cfg.tar, 3);
	x->len = len;
	x->done = done;
	x->data = data;
	x->state = EX_QUEUED;
	idle = TAILQ_EMPTY(&s->q);
	TAILQ_INSERT_TAIL(&s->q, x, entry);
	ota->pending++;
	ota->st.exchanges++;
	if (idle)
		start_deferred(s);
	return 0;
}

/* a reassembled PoR from eUICC eid */
static void on_por(struct smsr_ota *ota, const uint8_t eid[16], const uint8_t *udh, size_t udh_len,
		   const uint8_t *pkt, size_t len)
{
	struct slot *s = slot_find(ota, eid, false);
	struct exch *x = s ? TAILQ_FIRST(&s->q) : NULL;
	uint8_t ud[MAX_SEGS * 140], scratch[MAX_SEGS * 140];
	struct ota_por por;
	uint64_t cntr;
	unsigned i;
	int rc;

	if (!x || x->state == EX_QUEUED || udh_len + len > sizeof(ud)) {
		ota->st.dropped++;
		LOG_EIS(eid, DOTA, LOGL_NOTICE, "PoR with no exchange in flight, dropped");
		return;
	}
	memcpy(ud, udh, udh_len);
	memcpy(ud + udh_len, pkt, len);
	rc = ota_por_decode(ud, udh_len + len, true, ota->cfg.spi, ota->cfg.kic, ota->cfg.kid, &x->sec, scratch,
			    sizeof(scratch), &por);
	if (rc < 0) {
		ota->st.dropped++;
		LOG_EIS(eid, DOTA, LOGL_NOTICE, "op %llu: PoR rejected: %s", (unsigned long long)x->opid,
			proto_strerror(rc));
		return;	/* a forged or damaged PoR does not end the exchange; the timer does */
	}
	cntr = ota_cntr_get(por.cntr);
	for (i = 0; i < x->n_cntr; i++)
		if (x->cntr[i] == cntr)
			break;
	if (i == x->n_cntr || memcmp(por.tar, x->tar, 3)) {
		ota->st.dropped++;
		LOG_EIS(eid, DOTA, LOGL_NOTICE, "op %llu: PoR for CNTR %llu TAR %s matches no attempt, dropped",
			(unsigned long long)x->opid, (unsigned long long)cntr, proto_hexstr(por.tar, 3));
		return;
	}
	ota->st.pors++;
	LOG_EIS(eid, DOTA, LOGL_INFO, "op %llu: PoR for attempt %u: status %02x (%s), %zu bytes of response",
		(unsigned long long)x->opid, i + 1, por.status, ota_por_status_name(por.status), por.data_len);
	if (por.status == OTA_POR_CNTR_LOW) {
		/* the card has seen a higher counter (e.g. after a restore): move ours past it and try again */
		smsr_db_cntr_raise(ota->db, NULL, eid, ota->cfg.kic >> 4, cntr + 1);
	}
	finish(x, 0, &por);
}

/* a reassembled command packet from eUICC eid: its Default Notification */
static void on_notification(struct smsr_ota *ota, const uint8_t eid[16], const uint8_t *pkt, size_t len)
{
	void *tmp = talloc_new(NULL);
	struct ota_sec sec;
	struct ota_spkt_cmd cmd;
	uint8_t scratch[MAX_SEGS * 140];
	int rc;

	rc = load_keys(ota, eid, tmp, &sec, NULL, 0);
	if (rc == 0)
		rc = ota_spkt_cmd_decode(pkt, len, &sec, scratch, sizeof(scratch), &cmd);
	if (rc == 0 && (cmd.integrity != OTA_INTEGRITY_OK || memcmp(cmd.hdr.tar, ota->cfg.tar, 3)))
		rc = -PROTO_E_INTEGRITY;
	if (rc < 0) {
		ota->st.dropped++;
		LOG_EIS(eid, DOTA, LOGL_NOTICE, "MO command packet rejected: %s", proto_strerror(rc));
	} else {
		ota->st.notifications++;
		ota->notif_cb(ota->notif_data, eid, cmd.data, cmd.data_len);
	}
	talloc_free(tmp);
}

void smsr_ota_mo(struct smsr_ota *ota, const struct smsr_kannel_mo *mo)
{
	uint8_t pkt[MAX_SEGS * 140], eid[16];
	struct ota_sms_reasm_out o;
	struct proto_buf b;
	const char *from = mo->from[0] == '+' ? mo->from + 1 : mo->from;
	int rc;

	ota->st.mo_sms++;
	if (!mo->udh_len) {
		ota->st.dropped++;
		LOGP(DOTA, LOGL_NOTICE, "MO from %s without UDH, not an OTA packet: dropped", from);
		return;
	}
	proto_buf_init(&b, pkt, sizeof(pkt));
	rc = ota_sms_reasm_feed(ota->reasm, from, mo->ud, mo->ud_len, time(NULL), &b, &o);
	if (rc <= 0) {
		if (rc < 0) {
			ota->st.dropped++;
			LOGP(DOTA, LOGL_NOTICE, "MO from %s: %s", from, proto_strerror(rc));
		}
		return;
	}
	rc = smsr_db_eid_by_msisdn(ota->db, NULL, from, eid);
	if (rc < 0) {
		ota->st.dropped++;
		LOGP(DOTA, LOGL_NOTICE, "MO from unknown MSISDN %s: dropped", from);
		return;
	}
	if (o.rsp_pkt)
		on_por(ota, eid, o.udh, o.udh_len, b.data, b.len);
	else if (o.cmd_pkt)
		on_notification(ota, eid, b.data, b.len);
	else
		ota->st.dropped++;
}

void smsr_ota_dlr(struct smsr_ota *ota, const struct smsr_kannel_dlr *dlr)
{
	/* delivery reports are informative for SCP80 (the PoR is the proof of execution): log failures */
	if (dlr->type & (2 | 16))
		LOGP(DKANNEL, LOGL_NOTICE, "DLR %s: type %d (not delivered)", dlr->token, dlr->type);
	else
		LOGP(DKANNEL, LOGL_DEBUG, "DLR %s: type %d", dlr->token, dlr->type);
}

int smsr_ota_new(void *ctx, struct event_base *base, struct smsr_db *db, const struct ota_wrap_master *master,
		 struct smsr_kannel *kannel, const struct smsr_ota_cfg *cfg, smsr_ota_notif_cb notif_cb,
		 void *notif_data, struct smsr_ota **out)
{
	struct smsr_ota *ota = talloc_zero(ctx, struct smsr_ota);

	*out = NULL;
	if (!ota)
		return -ENOMEM;
	ota->base = base;
	ota->db = db;
	ota->master = master;
	ota->kannel = kannel;
	ota->cfg = *cfg;
	if (ota->cfg.retries >= MAX_ATTEMPTS)
		ota->cfg.retries = MAX_ATTEMPTS - 1;
	ota->notif_cb = notif_cb;
	ota->notif_data = notif_data;
	ota->reasm = ota_sms_reasm_new(ota, cfg->reasm_max ? cfg->reasm_max : 1024, 120);
	if (!ota->reasm) {
		talloc_free(ota);
		return -ENOMEM;
	}
	*out = ota;
	return 0;
}

void smsr_ota_get_stats(const struct smsr_ota *ota, struct smsr_ota_stats *st)
{
	*st = ota->st;
}

unsigned smsr_ota_pending(const struct smsr_ota *ota)
{
	return ota->pending;
}
