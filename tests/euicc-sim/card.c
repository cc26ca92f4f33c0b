/* The simulated eUICC: ISD-R, ISD-Ps and the ES5 commands of SGP.02 §4.1.1 (sgp02.md §6.4), and the fleet table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/gp_apdu.h"
#include "proto/hex.h"
#include "proto/ts102226_rcmd.h"
#include "ota/gp_scp03.h"
#include "ota/ts102225_spkt.h"
#include "tests/euicc-sim/card.h"

/*
 * Logging
 */

enum sim_log_level sim_log_threshold = SIM_LOG_NOTICE;

static const char *const cat_names[] = {
	[SIM_DMAIN] = "DMAIN",
	[SIM_DCARD] = "DCARD",
	[SIM_DOTA] = "DOTA",
	[SIM_DKANNEL] = "DKANNEL",
};

static const char *const level_names[] = {
	[SIM_LOG_DEBUG] = "DEBUG",
	[SIM_LOG_INFO] = "INFO",
	[SIM_LOG_NOTICE] = "NOTICE",
	[SIM_LOG_ERROR] = "ERROR",
	[SIM_LOG_OFF] = "OFF",
};

void sim_log(enum sim_log_cat cat, enum sim_log_level level, const char *eid, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level < sim_log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (eid)
		fprintf(stderr, "%s %s [%s] %s\n", cat_names[cat], level_names[level], eid, line);
	else
		fprintf(stderr, "%s %s %s\n", cat_names[cat], level_names[level], line);
}

const char *sim_lcs_name(uint8_t lcs)
{
	switch (lcs) {
	case SIM_LCS_SELECTABLE:
		return "SELECTABLE";
	case SIM_LCS_PERSONALIZED:
		return "PERSONALIZED";
	case SIM_LCS_DISABLED:
		return "DISABLED";
	case SIM_LCS_ENABLED:
		return "ENABLED";
	default:
		return "unknown";
	}
}

/* AID as hex for logs (AIDs are public); buf needs 33 bytes */
static const char *aid_hex(const uint8_t *aid, size_t len, char *buf)
{
	return proto_hex_encode(aid, len > PROTO_AID_MAX_LEN ? PROTO_AID_MAX_LEN : len, buf);
}

#define AID_HEX_LEN (2 * PROTO_AID_MAX_LEN + 1)

/*
 * Card life
 */

static int card_destructor(struct sim_card *c)
{
	/* the key handles are talloc children and wipe themselves */
	c->kic = c->kid = NULL;
	return 0;
}

struct sim_card *sim_card_new(void *ctx, const struct sim_fleet_cfg *cfg, const struct sim_identity *id)
{
	struct sim_card *c = talloc_zero(ctx, struct sim_card);
	unsigned i;

	if (!c)
		return NULL;
	talloc_set_destructor(c, card_destructor);
	c->cfg = *cfg;
	c->index = id->index;
	memcpy(c->eid, id->eid, sizeof(c->eid));
	memcpy(c->eid_hex, id->eid_hex, sizeof(c->eid_hex));
	memcpy(c->msisdn, id->msisdn, sizeof(c->msisdn));
	memcpy(c->imei, id->imei, sizeof(c->imei));
	c->kvn = SIM_SCP80_KVN;
	c->algo = SIM_SCP80_ALGO;
	c->ecasd_curve = PROTO_EC_REF_P256;
	c->msl.integ = OTA_INTEG_CC;
	c->msl.cipher = true;
	c->msl.cntr = OTA_CNTR_NONE;
	c->total_mem = id->total_memory;
	c->next_seq = 1;
	for (i = 0; i < id->n_profiles && i < SIM_CARD_MAX_ISDP; i++) {
		const struct sim_profile_init *p = &id->profiles[i];
		struct sim_isdp *d = &c->isdp[i];

		d->used = true;
		memcpy(d->aid, p->aid, 16);
		d->aid_len = 16;
		d->lcs = p->lcs;
		d->fallback = p->fallback;
		d->quota = p->quota;
		d->used_nvm = p->quota / 4 * 3;	/* a downloaded profile fills most of its quota */
		memcpy(d->iccid, p->iccid, sizeof(d->iccid));
	}
	return c;
}

int sim_card_keys(struct sim_card *c)
{
	struct sim_identity id;
	int rc;

	if (c->kic && c->kid)
		return 0;
	rc = sim_fleet_identity(&c->cfg, c->index, &id);
	if (rc < 0)
		return rc;
	TALLOC_FREE(c->kic);
	TALLOC_FREE(c->kid);
	rc = ota_key_import(c, id.kic, sizeof(id.kic), &c->kic);
	if (!rc)
		rc = ota_key_import(c, id.kid, sizeof(id.kid), &c->kid);
	sim_identity_wipe(&id);
	if (rc < 0) {
		TALLOC_FREE(c->kic);
		TALLOC_FREE(c->kid);
		return rc;
	}
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_DEBUG, "ISD-R keyset KVN %u imported", c->kvn);
	return 0;
}

uint32_t sim_card_free_mem(const struct sim_card *c)
{
	uint32_t used = 0;
	unsigned i;

	for (i = 0; i < SIM_CARD_MAX_ISDP; i++)
		if (c->isdp[i].used)
			used += c->isdp[i].quota;
	return used > c->total_mem ? 0 : c->total_mem - used;
}

struct sim_isdp *sim_card_isdp_find(struct sim_card *c, const uint8_t *aid, size_t len)
{
	unsigned i;

	for (i = 0; i < SIM_CARD_MAX_ISDP; i++) {
		struct sim_isdp *d = &c->isdp[i];
		if (d->used && d->aid_len == len && !memcmp(d->aid, aid, len))
			return d;
	}
	return NULL;
}

struct sim_isdp *sim_card_isdp_find_by_tar(struct sim_card *c, const uint8_t tar[3])
{
	unsigned i;

	for (i = 0; i < SIM_CARD_MAX_ISDP; i++) {
		struct sim_isdp *d = &c->isdp[i];
		if (d->used && d->aid_len == 16 && !memcmp(d->aid + 12, tar, 3))
			return d;
	}
	return NULL;
}

struct sim_isdp *sim_card_enabled(struct sim_card *c)
{
	unsigned i;

	for (i = 0; i < SIM_CARD_MAX_ISDP; i++)
		if (c->isdp[i].used && c->isdp[i].lcs == SIM_LCS_ENABLED)
			return &c->isdp[i];
	return NULL;
}

static struct sim_isdp *fallback_isdp(struct sim_card *c)
{
	unsigned i;

	for (i = 0; i < SIM_CARD_MAX_ISDP; i++)
		if (c->isdp[i].used && c->isdp[i].fallback)
			return &c->isdp[i];
	return NULL;
}

/*
 * Notifications (sgp02.md §4.5, §6.5)
 */

const char *sim_notif_state_name(enum sim_notif_state s)
{
	switch (s) {
	case SIM_NOTIF_FREE:
		return "FREE";
	case SIM_NOTIF_QUEUED:
		return "QUEUED";
	case SIM_NOTIF_SENT:
		return "SENT";
	case SIM_NOTIF_EXHAUSTED:
		return "EXHAUSTED";
	case SIM_NOTIF_CONFIRMED:
		return "CONFIRMED";
	default:
		return "unknown";
	}
}

static bool notif_unconfirmed(const struct sim_notif *n)
{
	return n->state == SIM_NOTIF_QUEUED || n->state == SIM_NOTIF_SENT || n->state == SIM_NOTIF_EXHAUSTED;
}

struct sim_notif *sim_card_notif_queue(struct sim_card *c, uint8_t type, uint64_t now_ms)
{
	char a1[AID_HEX_LEN];
	struct sim_isdp *en = sim_card_enabled(c);
	struct sim_notif *n = NULL;
	unsigned i;

	if (!en)
		return NULL;
	for (i = 0; i < SIM_CARD_MAX_NOTIF; i++) {
		if (!notif_unconfirmed(&c->notif[i])) {
			n = &c->notif[i];
			break;
		}
		if (!n || (uint16_t)(c->notif[i].seq - n->seq) > 0x8000)
			n = &c->notif[i];	/* oldest so far */
	}
	if (notif_unconfirmed(n))
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_NOTICE, "notification queue full: seq %u dropped unconfirmed", n->seq);
	memset(n, 0, sizeof(*n));
	n->state = SIM_NOTIF_QUEUED;
	n->seq = c->next_seq++;
	n->type = type;
	memcpy(n->aid, en->aid, en->aid_len);
	n->aid_len = en->aid_len;
	n->due_ms = now_ms + c->notif_delay_ms;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "notification seq %u type %02x queued (enabled ISD-P %s)", n->seq, type,
		 aid_hex(en->aid, en->aid_len, a1));
	if (c->fleet)
		sim_fleet_notif_watch(c->fleet, c);
	return n;
}

struct sim_notif *sim_card_notif_due(struct sim_card *c, uint64_t now_ms)
{
	unsigned i;

	for (i = 0; i < SIM_CARD_MAX_NOTIF; i++) {
		struct sim_notif *n = &c->notif[i];
		if ((n->state == SIM_NOTIF_QUEUED || n->state == SIM_NOTIF_SENT) && n->due_ms <= now_ms)
			return n;
	}
	return NULL;
}

void sim_card_notif_sent(struct sim_card *c, struct sim_notif *n, uint64_t now_ms, uint64_t resend_ms,
			 unsigned max_sends)
{
	n->sends++;
	if (!resend_ms || (max_sends && n->sends >= max_sends)) {
		n->state = SIM_NOTIF_EXHAUSTED;
	} else {
		n->state = SIM_NOTIF_SENT;
		n->due_ms = now_ms + resend_ms;
	}
}

unsigned sim_card_notif_pending(const struct sim_card *c)
{
	unsigned i, k = 0;

	for (i = 0; i < SIM_CARD_MAX_NOTIF; i++)
		k += notif_unconfirmed(&c->notif[i]);
	return k;
}

int sim_card_notif_encode(const struct sim_card *c, const struct sim_notif *n, struct proto_buf *b)
{
	uint8_t imei[8], seq[2] = { (uint8_t)(n->seq >> 8), (uint8_t)n->seq };
	size_t mark;

	mark = proto_tlv_open(b, SIM_TAG_NOTIFICATION);
	proto_tlv_put(b, SIM_TAG_EID, c->eid, sizeof(c->eid));
	proto_tlv_put(b, SIM_TAG_NOTIF_TYPE, &n->type, 1);
	proto_tlv_put(b, SIM_TAG_SEQ, seq, 2);
	proto_tlv_put(b, PROTO_GP_TAG_AID, n->aid, n->aid_len);
	if (sim_imei_encode(c->imei, imei) == 0)
		proto_tlv_put(b, SIM_TAG_IMEI, imei, sizeof(imei));
	proto_tlv_close(b, mark);
	return proto_buf_status(b);
}

/* Confirm seq: 9000 when it was issued (again for a repeated confirmation), 6A88 when never issued. */
static uint16_t notif_confirm(struct sim_card *c, uint16_t seq)
{
	unsigned i;

	if (!seq || (uint16_t)(c->next_seq - seq) > 0x8000 || seq == c->next_seq)
		return PROTO_SW_REF_NOT_FOUND;
	for (i = 0; i < SIM_CARD_MAX_NOTIF; i++) {
		struct sim_notif *n = &c->notif[i];
		if (notif_unconfirmed(n) && n->seq == seq) {
			n->state = SIM_NOTIF_CONFIRMED;
			if (c->fleet)
				c->fleet->notif_confirmed++;
			SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "notification seq %u confirmed after %u send(s)", seq,
				 n->sends);
		}
	}
	return PROTO_SW_OK;
}

/*
 * Profile operations
 */

static void set_enabled(struct sim_card *c, struct sim_isdp *target)
{
	struct sim_isdp *cur = sim_card_enabled(c);

	if (cur)
		cur->lcs = SIM_LCS_DISABLED;
	target->lcs = SIM_LCS_ENABLED;
}

/* EnableProfile (3A03) */
static uint16_t profile_enable(struct sim_card *c, const uint8_t *aid, size_t len, uint64_t now_ms)
{
	char a1[AID_HEX_LEN], a2[AID_HEX_LEN];
	struct sim_isdp *d = sim_card_isdp_find(c, aid, len), *cur;

	if (!d)
		return PROTO_SW_REF_NOT_FOUND;
	if (d->lcs != SIM_LCS_DISABLED)
		return PROTO_SW_CONDITIONS_OF_USE;
	cur = sim_card_enabled(c);
	if (cur && cur->pol1_disable_not_allowed)
		return PROTO_SW_POL1;
	if (c->fail_next_enable && cur) {
		/* the new profile does not attach: stay on (roll back to) the previous one */
		c->fail_next_enable = false;
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "enable %s: attach fails, roll back to %s", aid_hex(aid, len, a1),
			 aid_hex(cur->aid, cur->aid_len, a2));
		sim_card_notif_queue(c, SIM_NOTIF_ROLLBACK, now_ms);
		return PROTO_SW_OK;
	}
	set_enabled(c, d);
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "profile %s enabled", aid_hex(aid, len, a1));
	sim_card_notif_queue(c, SIM_NOTIF_CHANGE_OK, now_ms);
	return PROTO_SW_OK;
}

/* DisableProfile (3A04) */
static uint16_t profile_disable(struct sim_card *c, const uint8_t *aid, size_t len, uint64_t now_ms)
{
	char a1[AID_HEX_LEN], a2[AID_HEX_LEN];
	struct sim_isdp *d = sim_card_isdp_find(c, aid, len), *fb;

	if (!d)
		return PROTO_SW_REF_NOT_FOUND;
	if (d->lcs != SIM_LCS_ENABLED || d->fallback)
		return PROTO_SW_CONDITIONS_OF_USE;
	if (d->pol1_disable_not_allowed)
		return PROTO_SW_POL1;
	fb = fallback_isdp(c);
	if (!fb || (fb->lcs != SIM_LCS_DISABLED && fb->lcs != SIM_LCS_ENABLED))
		return PROTO_SW_CONDITIONS_OF_USE;
	set_enabled(c, fb);
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "profile %s disabled, fall-back %s enabled", aid_hex(aid, len, a1),
		 aid_hex(fb->aid, fb->aid_len, a2));
	sim_card_notif_queue(c, SIM_NOTIF_FALLBACK, now_ms);
	return PROTO_SW_OK;
}

/* SetFallBackAttribute (3A05) */
static uint16_t profile_set_fallback(struct sim_card *c, const uint8_t *aid, size_t len)
{
	char a1[AID_HEX_LEN];
	struct sim_isdp *d = sim_card_isdp_find(c, aid, len), *old;

	if (!d)
		return PROTO_SW_REF_NOT_FOUND;
	old = fallback_isdp(c);
	if (old)
		old->fallback = false;
	d->fallback = true;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "fall-back attribute on %s", aid_hex(aid, len, a1));
	return PROTO_SW_OK;
}

int sim_card_fallback_activate(struct sim_card *c, uint64_t now_ms)
{
	char a1[AID_HEX_LEN];
	struct sim_isdp *fb = fallback_isdp(c);

	if (!fb || fb->lcs != SIM_LCS_DISABLED)
		return -ENOENT;
	set_enabled(c, fb);
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "connectivity lost: fall-back %s enabled",
		 aid_hex(fb->aid, fb->aid_len, a1));
	sim_card_notif_queue(c, SIM_NOTIF_FALLBACK, now_ms);
	return 0;
}

/* DeleteProfile: DELETE 4F <AID> */
static uint16_t profile_delete(struct sim_card *c, const uint8_t *aid, size_t len)
{
	char a1[AID_HEX_LEN];
	struct sim_isdp *d;

	if (len == 16 && (!memcmp(aid, proto_gp_aid_isdr, 16) || !memcmp(aid, proto_gp_aid_ecasd, 16)))
		return PROTO_SW_CONDITIONS_OF_USE;
	d = sim_card_isdp_find(c, aid, len);
	if (!d)
		return PROTO_SW_REF_NOT_FOUND;
	if (d->lcs == SIM_LCS_ENABLED || d->fallback)
		return PROTO_SW_CONDITIONS_OF_USE;
	if (d->pol1_delete_not_allowed)
		return PROTO_SW_POL1;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "ISD-P %s deleted, %u bytes freed", aid_hex(aid, len, a1), d->quota);
	sim_es8_isdp_free(c, d);
	memset(d, 0, sizeof(*d));
	return PROTO_SW_OK;
}

/*
 * Command decoding
 */

/* Parse "4F L <AID>" exactly; false when malformed or the AID length is out of 5..16. */
static bool parse_aid_tlv(const uint8_t *in, size_t len, const uint8_t **aid, size_t *aid_len)
{
	struct proto_tlv t;

	if (proto_tlv_decode_exact(in, len, &t) < 0 || t.tag != PROTO_GP_TAG_AID || t.len < PROTO_AID_MIN_LEN ||
	    t.len > PROTO_AID_MAX_LEN)
		return false;
	*aid = t.val;
	*aid_len = t.len;
	return true;
}

/* Read one LV field of INSTALL data. */
static const uint8_t *get_lv(struct proto_cur *cur, size_t *len)
{
	*len = proto_cur_u8(cur);
	return proto_cur_get(cur, *len);
}

/* CreateISDP: INSTALL [for install and make selectable] (GPCS §11.5; sgp02.md §6.4) */
static uint16_t create_isdp(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata)
{
	char a1[AID_HEX_LEN];
	struct proto_cur cur;
	const uint8_t *elf, *mod, *app, *priv, *params, *tok;
	size_t elf_len, mod_len, app_len, priv_len, params_len, tok_len;
	struct proto_tlv_iter it;
	struct proto_tlv t;
	bool has_c9 = false;
	uint32_t quota = 0;
	unsigned i;
	int rc;

	if (a->p1 != (PROTO_GP_INSTALL_FOR_INSTALL | PROTO_GP_INSTALL_FOR_MAKE_SELECTABLE) || a->p2 != 0x00)
		return PROTO_SW_WRONG_P1P2;
	proto_cur_init(&cur, a->data, a->lc);
	elf = get_lv(&cur, &elf_len);
	mod = get_lv(&cur, &mod_len);
	app = get_lv(&cur, &app_len);
	priv = get_lv(&cur, &priv_len);
	params = get_lv(&cur, &params_len);
	tok = get_lv(&cur, &tok_len);
	(void)priv;
	(void)tok;
	if (cur.bad || proto_cur_left(&cur) || app_len < PROTO_AID_MIN_LEN || app_len > PROTO_AID_MAX_LEN)
		return PROTO_SW_WRONG_DATA;
	if (elf_len != 16 || memcmp(elf, proto_gp_aid_isdp_elf, 16) || mod_len != 16 ||
	    memcmp(mod, proto_gp_aid_isdp_module, 16))
		return PROTO_SW_REF_NOT_FOUND;

	/* install parameters: C9 (application specific) and optional EF { 83 quota } */
	proto_tlv_iter_init(&it, params, params_len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag == PROTO_GP_TAG_APP_PARAMS) {
			has_c9 = true;
		} else if (t.tag == PROTO_GP_TAG_SYS_PARAMS) {
			struct proto_tlv q;
			int f = proto_tlv_find(t.val, t.len, PROTO_GP_TAG_NVM_QUOTA, &q);
			if (f < 0 || (f == 1 && (q.len < 1 || q.len > 4)))
				return PROTO_SW_WRONG_DATA;
			if (f == 1)
				for (i = 0, quota = 0; i < q.len; i++)
					quota = quota << 8 | q.val[i];
		}
	}
	if (rc < 0 || !has_c9)
		return PROTO_SW_WRONG_DATA;

	if ((app_len == 16 && (!memcmp(app, proto_gp_aid_isdr, 16) || !memcmp(app, proto_gp_aid_ecasd, 16))) ||
	    sim_card_isdp_find(c, app, app_len))
		return PROTO_SW_WRONG_DATA;
	if (quota > sim_card_free_mem(c))
		return PROTO_SW_NOT_ENOUGH_MEMORY;
	for (i = 0; i < SIM_CARD_MAX_ISDP; i++)
		if (!c->isdp[i].used)
			break;
	if (i == SIM_CARD_MAX_ISDP)
		return PROTO_SW_NOT_ENOUGH_MEMORY;
	memset(&c->isdp[i], 0, sizeof(c->isdp[i]));
	c->isdp[i].used = true;
	memcpy(c->isdp[i].aid, app, app_len);
	c->isdp[i].aid_len = (uint8_t)app_len;
	c->isdp[i].lcs = SIM_LCS_SELECTABLE;
	c->isdp[i].quota = quota;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "ISD-P %s created, quota %u, free %u", aid_hex(app, app_len, a1), quota,
		 sim_card_free_mem(c));
	proto_buf_put_u8(rdata, 0x00);
	return PROTO_SW_OK;
}

/* STORE DATA with an SGP.02 DGI (sgp02.md §6.4) */
static uint16_t store_data(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata, uint64_t now_ms)
{
	const uint8_t *v, *aid;
	size_t vlen, aid_len;
	uint16_t dgi;

	if (!(a->p1 & PROTO_GP_SD_P1_LAST_BLOCK) || !(a->p1 & PROTO_GP_SD_P1_DGI))
		return PROTO_SW_WRONG_P1P2;	/* multi-block and non-DGI STORE DATA are not simulated */
	if (a->lc < 3)
		return PROTO_SW_WRONG_LENGTH;
	dgi = (uint16_t)(a->data[0] << 8 | a->data[1]);
	if (a->data[2] == 0xFF) {
		if (a->lc < 5)
			return PROTO_SW_WRONG_LENGTH;
		vlen = (size_t)(a->data[3] << 8 | a->data[4]);
		v = a->data + 5;
	} else {
		vlen = a->data[2];
		v = a->data + 3;
	}
	if ((size_t)(v - a->data) + vlen != a->lc)
		return PROTO_SW_WRONG_LENGTH;

	switch (dgi) {
	case PROTO_GP_DGI_ENABLE_PROFILE:
	case PROTO_GP_DGI_DISABLE_PROFILE:
	case PROTO_GP_DGI_SET_FALLBACK:
		if (!parse_aid_tlv(v, vlen, &aid, &aid_len))
			return PROTO_SW_WRONG_DATA;
		if (dgi == PROTO_GP_DGI_ENABLE_PROFILE)
			return profile_enable(c, aid, aid_len, now_ms);
		if (dgi == PROTO_GP_DGI_DISABLE_PROFILE)
			return profile_disable(c, aid, aid_len, now_ms);
		return profile_set_fallback(c, aid, aid_len);
	case PROTO_GP_DGI_NOTIFICATION_CONFIRM: {
		struct proto_tlv t;
		uint16_t sw;

		if (proto_tlv_decode_exact(v, vlen, &t) < 0 || t.tag != PROTO_GP_TAG_SEQ_NUMBER || t.len != 2)
			return PROTO_SW_WRONG_DATA;
		sw = notif_confirm(c, (uint16_t)(t.val[0] << 8 | t.val[1]));
		if (sw == PROTO_SW_OK)
			proto_tlv_put(rdata, SIM_TAG_CONFIRM_RSP, NULL, 0);	/* no ISD-P deleted by POL1 */
		return sw;
	}
	case PROTO_GP_DGI_UPDATE_ADDRESSING:
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "SM-SR addressing parameters updated (%zu bytes)", vlen);
		return PROTO_SW_OK;
	default:
		return PROTO_SW_FUNC_NOT_SUPPORTED;
	}
}

/* DELETE (GPCS §11.2): DeleteProfile */
static uint16_t delete_cmd(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata)
{
	const uint8_t *aid;
	size_t aid_len;
	uint16_t sw;

	if (a->p1 != 0x00 || (a->p2 != PROTO_GP_DELETE_OBJECT && a->p2 != PROTO_GP_DELETE_SGP02_ISDP &&
			      a->p2 != PROTO_GP_DELETE_OBJECT_AND_RELATED))
		return PROTO_SW_WRONG_P1P2;
	/* key deletion (FinaliseISDRhandover, F2) and MasterDelete tokens (B6/9E) are not simulated */
	if (!parse_aid_tlv(a->data, a->lc, &aid, &aid_len))
		return PROTO_SW_WRONG_DATA;
	sw = profile_delete(c, aid, aid_len);
	if (sw == PROTO_SW_OK)
		proto_buf_put_u8(rdata, 0x00);
	return sw;
}

/* Parse a 5C tag list into tags[]; returns the count or -1 when malformed. */
static int parse_tag_list(const uint8_t *p, size_t len, uint32_t *tags, unsigned max)
{
	unsigned n = 0;
	size_t i = 0;

	while (i < len) {
		uint32_t tag = p[i++];

		if ((tag & 0x1F) == 0x1F) {
			if (i >= len)
				return -1;
			tag = tag << 8 | p[i++];
			if (tag & 0x80)
				return -1;	/* 3-byte tags are not used here */
		}
		if (n == max)
			return -1;
		tags[n++] = tag;
	}
	return (int)n;
}

static bool tag_wanted(const uint32_t *tags, int n, uint32_t tag)
{
	int i;

	if (n < 0)
		return true;	/* no tag list: everything */
	for (i = 0; i < n; i++)
		if (tags[i] == tag)
			return true;
	return false;
}

static void put_u32_tlv(struct proto_buf *b, uint32_t tag, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	proto_tlv_put(b, tag, x, 4);
}

/* E3 registry entry of one ISD-P (sgp02.md §6.4 "Table 28") */
static void put_registry_entry(struct proto_buf *b, const struct sim_isdp *d, const uint32_t *tags, int n)
{
	size_t mark = proto_tlv_open(b, PROTO_GP_TAG_REGISTRY_ENTRY);
	uint8_t props = d->fallback ? 0x01 : 0x00;

	if (tag_wanted(tags, n, PROTO_GP_TAG_AID))
		proto_tlv_put(b, PROTO_GP_TAG_AID, d->aid, d->aid_len);
	if (tag_wanted(tags, n, PROTO_GP_TAG_LCS))
		proto_tlv_put(b, PROTO_GP_TAG_LCS, &d->lcs, 1);
	if (tag_wanted(tags, n, PROTO_GP_TAG_SD_PROPS))
		proto_tlv_put(b, PROTO_GP_TAG_SD_PROPS, &props, 1);
	if (tag_wanted(tags, n, SIM_TAG_GRANTED_NVM))
		put_u32_tlv(b, SIM_TAG_GRANTED_NVM, d->quota);
	if (tag_wanted(tags, n, SIM_TAG_REMAINING_NVM))
		put_u32_tlv(b, SIM_TAG_REMAINING_NVM, d->quota > d->used_nvm ? d->quota - d->used_nvm : 0);
	proto_tlv_close(b, mark);
}

/* size of one E3 entry, to decide on 6310 */
static size_t registry_entry_size(const struct sim_isdp *d, const uint32_t *tags, int n)
{
	uint8_t tmp[128];
	struct proto_buf b;

	proto_buf_init(&b, tmp, sizeof(tmp));
	put_registry_entry(&b, d, tags, n);
	return b.len;
}

/* GET STATUS (GPCS §11.4), P1 40: ISD-Ps; one E3 per ISD-P; 6310 when more than 256 bytes */
static uint16_t get_status(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata)
{
	uint32_t tags[8];
	int n_tags = -1;
	const uint8_t *aid = NULL;
	size_t aid_len = 0, start = rdata->len;
	struct proto_tlv_iter it;
	struct proto_tlv t;
	unsigned i, first;
	int rc;

	if (a->p1 != PROTO_GP_STATUS_P1_APPS || (a->p2 & ~PROTO_GP_STATUS_P2_NEXT) != PROTO_GP_STATUS_P2_TLV)
		return PROTO_SW_WRONG_P1P2;
	proto_tlv_iter_init(&it, a->data, a->lc);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag == PROTO_GP_TAG_AID) {
			if (t.len && (t.len < PROTO_AID_MIN_LEN || t.len > PROTO_AID_MAX_LEN))
				return PROTO_SW_WRONG_DATA;
			aid = t.val;
			aid_len = t.len;
		} else if (t.tag == PROTO_GP_TAG_TAG_LIST) {
			n_tags = parse_tag_list(t.val, t.len, tags, 8);
			if (n_tags < 0)
				return PROTO_SW_WRONG_DATA;
		}
	}
	if (rc < 0 || !aid)
		return PROTO_SW_WRONG_DATA;
	if (aid_len) {
		struct sim_isdp *d = sim_card_isdp_find(c, aid, aid_len);
		if (!d)
			return PROTO_SW_REF_NOT_FOUND;
		put_registry_entry(rdata, d, tags, n_tags);
		return PROTO_SW_OK;
	}
	first = (a->p2 & PROTO_GP_STATUS_P2_NEXT) ? c->status_cursor : 0;
	for (i = first; i < SIM_CARD_MAX_ISDP; i++) {
		const struct sim_isdp *d = &c->isdp[i];

		if (!d->used)
			continue;
		if (rdata->len - start + registry_entry_size(d, tags, n_tags) > 256) {
			c->status_cursor = i;
			return PROTO_SW_MORE_DATA;
		}
		put_registry_entry(rdata, d, tags, n_tags);
	}
	c->status_cursor = 0;
	if (rdata->len == start)
		return PROTO_SW_REF_NOT_FOUND;
	return PROTO_SW_OK;
}

static unsigned count_isdp(const struct sim_card *c)
{
	unsigned i, n = 0;

	for (i = 0; i < SIM_CARD_MAX_ISDP; i++)
		n += c->isdp[i].used;
	return n;
}

static void put_card_resources(struct sim_card *c, struct proto_buf *b)
{
	size_t mark = proto_tlv_open(b, SIM_TAG_CARD_RESOURCES);
	uint8_t napps = (uint8_t)count_isdp(c);

	proto_tlv_put(b, SIM_TAG_RES_APPS, &napps, 1);
	put_u32_tlv(b, SIM_TAG_RES_FREE_NVM, sim_card_free_mem(c));
	put_u32_tlv(b, SIM_TAG_RES_FREE_VM, SIM_FREE_VOLATILE);
	proto_tlv_close(b, mark);
}

/* GET DATA (GPCS §11.3): BF30 eUICCCapabilityAudit object with the card resources FF21, or FF21 alone */
static uint16_t get_data(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata)
{
	uint16_t tag = (uint16_t)(a->p1 << 8 | a->p2);
	uint32_t tags[8];
	int n_tags = -1;

	if (tag == SIM_TAG_CARD_RESOURCES) {
		put_card_resources(c, rdata);
		return PROTO_SW_OK;
	}
	if (tag != (PROTO_GP_TAG_EUICC_INFO & 0xFFFF) || a->p1 != 0xBF)
		return PROTO_SW_REF_NOT_FOUND;
	if (a->lc) {
		struct proto_tlv t;
		if (proto_tlv_decode_exact(a->data, a->lc, &t) < 0 || t.tag != PROTO_GP_TAG_TAG_LIST)
			return PROTO_SW_WRONG_DATA;
		n_tags = parse_tag_list(t.val, t.len, tags, 8);
		if (n_tags < 0)
			return PROTO_SW_WRONG_DATA;
	}
	{
		size_t mark = proto_tlv_open(rdata, PROTO_GP_TAG_EUICC_INFO);
		if (tag_wanted(tags, n_tags, SIM_TAG_CARD_RESOURCES))
			put_card_resources(c, rdata);
		proto_tlv_close(rdata, mark);
	}
	return PROTO_SW_OK;
}

/* An APDU addressed to an ISD-P (ES8): key establishment, connectivity parameters; nothing of the ISD-R's. */
static uint16_t isdp_apdu(struct sim_card *c, struct sim_isdp *d, const struct proto_apdu *a, struct proto_buf *rdata)
{
	uint16_t sw = sim_es8_apdu(c, d, a, rdata);

	if (sw)
		return sw;
	if (a->ins != PROTO_GP_INS_STORE_DATA)
		return PROTO_SW_INS_NOT_SUPPORTED;
	if (a->lc >= 2 && (a->data[0] << 8 | a->data[1]) == PROTO_GP_DGI_UPDATE_ADDRESSING) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "ISD-P connectivity parameters stored (%zu bytes)", a->lc);
		return PROTO_SW_OK;
	}
	return PROTO_SW_FUNC_NOT_SUPPORTED;
}

/* One C-APDU for the ISD-R (target NULL) or an ISD-P. */
static uint16_t card_apdu(struct sim_card *c, struct sim_isdp *target, const struct proto_apdu *a,
			  struct proto_buf *rdata, uint64_t now_ms)
{
	size_t start = rdata->len;
	uint16_t sw;

	if ((a->cla & 0xFC) != PROTO_GP_CLA) {
		sw = PROTO_SW_CLA_NOT_SUPPORTED;
		goto out;
	}
	if (target) {
		sw = isdp_apdu(c, target, a, rdata);
		goto out;
	}
	sw = sim_es8_apdu(c, NULL, a, rdata);
	if (sw)
		goto out;
	switch (a->ins) {
	case PROTO_GP_INS_INSTALL:
		sw = create_isdp(c, a, rdata);
		break;
	case PROTO_GP_INS_STORE_DATA:
		sw = store_data(c, a, rdata, now_ms);
		break;
	case PROTO_GP_INS_DELETE:
		sw = delete_cmd(c, a, rdata);
		break;
	case PROTO_GP_INS_GET_STATUS:
		sw = get_status(c, a, rdata);
		break;
	case PROTO_GP_INS_GET_DATA:
		sw = get_data(c, a, rdata);
		break;
	default:
		sw = PROTO_SW_INS_NOT_SUPPORTED;
		break;
	}
out:
	if (proto_buf_status(rdata) < 0) {
		rdata->overflow = false;
		rdata->len = start;
		sw = PROTO_SW_NO_DIAGNOSIS;
	}
	/* no data with an error SW, except the partial GET STATUS answer with 6310 */
	if (sw != PROTO_SW_OK && sw != PROTO_SW_MORE_DATA)
		rdata->len = start;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_DEBUG, "%s%s %02x%02x%02x%02x -> %04x (%s)", target ? "ISD-P " : "",
		 proto_gp_ins_name(a->ins), a->cla, a->ins, a->p1, a->p2, sw, proto_apdu_sw_name(sw));
	return sw;
}

uint16_t sim_card_apdu(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata, uint64_t now_ms)
{
	return card_apdu(c, NULL, a, rdata, now_ms);
}

/*
 * Scripts (TS 102 226 §5.1, §5.2)
 */

/* Errors stop a script; normal endings and warnings (62xx, 63xx) do not. */
static bool sw_is_error(uint16_t sw)
{
	uint8_t sw1 = (uint8_t)(sw >> 8);

	return !(sw == PROTO_SW_OK || sw1 == 0x61 || sw1 == 0x91 || sw1 == 0x62 || sw1 == 0x63);
}

#define SCRIPT_MAX_RSP 4096

/* The items of an expanded command script (TS 102 226 §5.2.1) that proto_rcmd_script_decode() refuses because a
 * '22' item of an ISD-P script holds an SCP03t TLV instead of a C-APDU: the template is walked here with the same
 * rules otherwise (81/82/83 items, '22' holding a valid short C-APDU or, for an ISD-P, an SCP03t TLV). */
static int script_content_lenient(const uint8_t *in, size_t len, const uint8_t **content, size_t *clen)
{
	struct proto_tlv top, t;
	struct proto_tlv_iter it;
	struct proto_apdu a;
	int rc;

	rc = proto_tlv_decode(in, len, &top);
	if (rc < 0)
		return rc;
	if (top.tag == PROTO_RCMD_TAG_CMD_SCRIPT && !top.indefinite) {
		if (top.raw_len != len)
			return -PROTO_E_TRAILING;
	} else if (top.tag != PROTO_RCMD_TAG_CMD_SCRIPT_INDEF || !top.indefinite) {
		return -PROTO_E_MALFORMED;
	}
	proto_tlv_iter_init(&it, top.val, top.indefinite ? (size_t)(in + len - top.val) : top.len);
	it.stop_at_eoc = top.indefinite;
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag == PROTO_RCMD_TAG_CAPDU) {
			if (!sim_es8_is_scp03t(t.val, t.len) && proto_apdu_decode(t.val, t.len, &a) < 0)
				return -PROTO_E_MALFORMED;
		} else if (t.tag == PROTO_RCMD_TAG_SCRIPT_CHAINING) {
			if (t.len != 1)
				return -PROTO_E_MALFORMED;
		} else if (t.tag != PROTO_RCMD_TAG_IMMEDIATE_ACTION && t.tag != PROTO_RCMD_TAG_ERROR_ACTION) {
			return -PROTO_E_UNSUPPORTED;
		}
	}
	if (rc < 0)
		return rc;
	if (top.indefinite && (!it.eoc || it.eoc + 2 != in + len))
		return -PROTO_E_TRUNCATED;
	*content = top.val;
	*clen = top.indefinite ? (size_t)(it.eoc - top.val) : top.len;
	return 0;
}

static int run_expanded(struct sim_card *c, struct sim_isdp *target, const uint8_t *in, size_t len,
			struct proto_buf *rsp, uint64_t now_ms, struct sim_script_result *res)
{
	struct proto_rcmd_script s;
	struct proto_rcmd_enc e;
	struct proto_tlv_iter it;
	struct proto_tlv t;
	struct proto_buf rapdus;
	const uint8_t *content, *last86 = NULL;
	size_t clen;
	bool indefinite = len && in[0] == PROTO_RCMD_TAG_CMD_SCRIPT_INDEF;
	uint8_t *mem;
	int rc;

	rc = proto_rcmd_script_decode(in, len, &s);
	if (rc == 0) {
		content = s.content;
		clen = s.content_len;
	} else if (!target || script_content_lenient(in, len, &content, &clen) < 0) {
		res->bad_format = res->error = true;
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "script bad format: %s", proto_strerror(rc));
		proto_rcmd_rsp_begin(&e, rsp, indefinite);
		proto_rcmd_put_n_executed(&e, 0);
		proto_rcmd_put_bad_format(&e, proto_rcmd_err_to_bad_format(rc));
		rc = proto_rcmd_end(&e);
		return rc < 0 ? rc : 0;
	}
	mem = talloc_size(c, SCRIPT_MAX_RSP);
	if (!mem)
		return -ENOMEM;
	proto_buf_init(&rapdus, mem, SCRIPT_MAX_RSP);
	/* the last '86' of the script, where a failed profile installation is reported */
	proto_tlv_iter_init(&it, content, clen);
	while (target && proto_tlv_iter_next(&it, &t) > 0)
		if (t.tag == PROTO_RCMD_TAG_CAPDU && t.len && t.val[0] == OTA_SCP03T_TAG_DATA &&
		    sim_es8_is_scp03t(t.val, t.len))
			last86 = t.val;
	proto_tlv_iter_init(&it, content, clen);
	while (proto_tlv_iter_next(&it, &t) > 0) {
		uint8_t data[258];
		struct proto_buf rd;
		struct proto_apdu a;
		uint16_t sw;

		if (t.tag != PROTO_RCMD_TAG_CAPDU)
			continue; /* 81, 82, 83 */
		proto_buf_init(&rd, data, 256);
		res->n_executed++;
		if (target && sim_es8_is_scp03t(t.val, t.len)) {
			/* SCP03t: the R-APDU TLV holds the response TLV alone */
			rc = sim_es8_scp03t(c, target, t.val, t.len, t.val == last86, &rd);
			if (rc < 0) {
				SIM_LOGC(c, SIM_DCARD, SIM_LOG_ERROR, "SCP03t TLV not handled: %s", proto_strerror(rc));
				rd.len = 0;
				rc = 1;
				proto_tlv_put(&rd, SIM_TAG_SCP03T_ERROR, (const uint8_t[]){SIM_SCP03T_ERR_STATE}, 1);
			}
			proto_tlv_put(&rapdus, PROTO_RCMD_TAG_RAPDU, data, rd.len);
			res->last_sw = rc == 1 ? PROTO_SW_SECURITY_STATUS : PROTO_SW_OK;
			if (rc) {
				res->error = true;
				break;
			}
			continue;
		}
		proto_apdu_decode(t.val, t.len, &a); /* checked by the decoders above */
		sw = card_apdu(c, target, &a, &rd, now_ms);
		res->last_sw = sw;
		rd.cap = sizeof(data);
		proto_buf_put_u16(&rd, sw);
		proto_tlv_put(&rapdus, PROTO_RCMD_TAG_RAPDU, data, rd.len);
		if (sw_is_error(sw)) {
			res->error = true;
			break;
		}
	}
	proto_rcmd_rsp_begin(&e, rsp, indefinite);
	proto_rcmd_put_n_executed(&e, (uint8_t)(res->n_executed > 255 ? 255 : res->n_executed));
	if (!rapdus.overflow)
		proto_buf_put(rsp, rapdus.data, rapdus.len);
	else
		rsp->overflow = true;
	talloc_free(mem);
	rc = proto_rcmd_end(&e);
	return rc < 0 ? rc : 0;
}

static int run_compact(struct sim_card *c, struct sim_isdp *target, const uint8_t *in, size_t len,
		       struct proto_buf *rsp, uint64_t now_ms, struct sim_script_result *res)
{
	struct proto_rcmd_compact_iter it;
	struct proto_rcmd_capdu cmd;
	uint8_t data[258];
	struct proto_buf rd;
	int rc;

	proto_buf_init(&rd, data, 256);
	proto_rcmd_compact_iter_init(&it, in, len, NULL);
	while ((rc = proto_rcmd_compact_next(&it, &cmd)) > 0) {
		proto_buf_init(&rd, data, 256);
		res->last_sw = card_apdu(c, target, &cmd.apdu, &rd, now_ms);
		res->n_executed++;
		if (sw_is_error(res->last_sw)) {
			res->error = true;
			break;
		}
	}
	if (rc < 0 && !res->error) {
		/* a truncated command: report it as the failing one */
		res->n_executed++;
		res->last_sw = PROTO_SW_WRONG_LENGTH;
		res->error = true;
		rd.len = 0;
	}
	return proto_rcmd_compact_rsp_encode(rsp, (uint8_t)(res->n_executed > 255 ? 255 : res->n_executed),
					     res->last_sw, rd.data, res->n_executed ? rd.len : 0);
}

int sim_card_run_script_on(struct sim_card *c, struct sim_isdp *target, const uint8_t *in, size_t len,
			   struct proto_buf *rsp, uint64_t now_ms, struct sim_script_result *res)
{
	memset(res, 0, sizeof(*res));
	if (len && (in[0] == PROTO_RCMD_TAG_CMD_SCRIPT || in[0] == PROTO_RCMD_TAG_CMD_SCRIPT_INDEF))
		return run_expanded(c, target, in, len, rsp, now_ms, res);
	return run_compact(c, target, in, len, rsp, now_ms, res);
}

int sim_card_run_script(struct sim_card *c, const uint8_t *in, size_t len, struct proto_buf *rsp, uint64_t now_ms,
			struct sim_script_result *res)
{
	return sim_card_run_script_on(c, NULL, in, len, rsp, now_ms, res);
}

/*
 * Fleet table
 */

static uint32_t msisdn_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

struct sim_fleet *sim_fleet_new(void *ctx, const struct sim_fleet_cfg *cfg, uint32_t n)
{
	struct sim_fleet *f;
	uint32_t cap = 16, i;

	if (!n || n > SIM_FLEET_MAX)
		return NULL;
	f = talloc_zero(ctx, struct sim_fleet);
	if (!f)
		return NULL;
	f->cfg = *cfg;
	f->n = n;
	f->msl.integ = OTA_INTEG_CC;
	f->msl.cipher = true;
	while (cap < 2 * n)
		cap <<= 1;
	f->hash_mask = cap - 1;
	f->cards = talloc_zero_array(f, struct sim_card *, n);
	f->hash = talloc_zero_array(f, uint32_t, cap);
	if (!f->cards || !f->hash) {
		talloc_free(f);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char msisdn[SIM_MSISDN_MAX + 1];
		uint32_t h;

		sim_fleet_msisdn(cfg, i, msisdn);
		for (h = msisdn_hash(msisdn) & f->hash_mask; f->hash[h]; h = (h + 1) & f->hash_mask)
			;
		f->hash[h] = i + 1;
	}
	return f;
}

int sim_fleet_lookup(const struct sim_fleet *f, const char *msisdn, uint32_t *index)
{
	uint32_t h;

	for (h = msisdn_hash(msisdn) & f->hash_mask; f->hash[h]; h = (h + 1) & f->hash_mask) {
		char m[SIM_MSISDN_MAX + 1];

		sim_fleet_msisdn(&f->cfg, f->hash[h] - 1, m);
		if (!strcmp(m, msisdn)) {
			*index = f->hash[h] - 1;
			return 0;
		}
	}
	return -ENOENT;
}

struct sim_card *sim_fleet_card(struct sim_fleet *f, uint32_t index)
{
	struct sim_identity id;
	struct sim_card *c;
	unsigned i;

	if (index >= f->n)
		return NULL;
	if (f->cards[index])
		return f->cards[index];
	if (sim_fleet_identity(&f->cfg, index, &id) < 0)
		return NULL;
	sim_identity_wipe(&id);	/* the keys are derived again when first used */
	c = sim_card_new(f, &f->cfg, &id);
	if (!c)
		return NULL;
	c->fleet = f;
	c->notif_delay_ms = f->notif_delay_ms;
	c->msl = f->msl;
	c->ci = f->ci;
	for (i = 0; i < f->n_faults; i++)
		sim_es8_fault_parse(f->faults[i], index, &c->faults);
	f->cards[index] = c;
	f->active++;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_DEBUG, "card %u (MSISDN %s) activated", index, c->msisdn);
	return c;
}

struct sim_card *sim_fleet_card_by_msisdn(struct sim_fleet *f, const char *msisdn)
{
	uint32_t index;

	if (sim_fleet_lookup(f, msisdn, &index) < 0)
		return NULL;
	return sim_fleet_card(f, index);
}

void sim_fleet_notif_watch(struct sim_fleet *f, struct sim_card *c)
{
	if (c->in_notif_list)
		return;
	if (f->notif_n == f->notif_cap) {
		uint32_t cap = f->notif_cap ? 2 * f->notif_cap : 64;
		struct sim_card **l = talloc_realloc(f, f->notif_list, struct sim_card *, cap);
		if (!l) {
			SIM_LOGC(c, SIM_DCARD, SIM_LOG_ERROR, "out of memory: notification not watched");
			return;
		}
		f->notif_list = l;
		f->notif_cap = cap;
	}
	f->notif_list[f->notif_n++] = c;
	c->in_notif_list = true;
}

void sim_fleet_notif_prune(struct sim_fleet *f)
{
	uint32_t i = 0;

	while (i < f->notif_n) {
		struct sim_card *c = f->notif_list[i];
		bool keep = false;
		unsigned k;

		for (k = 0; k < SIM_CARD_MAX_NOTIF; k++)
			if (c->notif[k].state == SIM_NOTIF_QUEUED || c->notif[k].state == SIM_NOTIF_SENT)
				keep = true;
		if (keep) {
			i++;
			continue;
		}
		c->in_notif_list = false;
		f->notif_list[i] = f->notif_list[--f->notif_n];
	}
}
