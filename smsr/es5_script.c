/* ES5 function scripts, response classification, notifications and audit entries (SGP.02 §4.1.1). */
#include <errno.h>
#include <string.h>
#include "smsr/es5_script.h"
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/gp_apdu.h"
#include "proto/ts102226_rcmd.h"

/* E1 notification tags (sgp02.md §6.5) */
enum {
	TAG_NOTIF = 0xE1,
	TAG_EID = 0x4C,
	TAG_NOTIF_TYPE = 0x4D,
	TAG_SEQ = 0x4E,
	TAG_AID = 0x4F,
	TAG_AID_ALT1 = 0x2F,
	TAG_AID_ALT2 = 0xAF,
	TAG_IMEI = 0x14,
	TAG_IMEI_CR = 0x94,
	TAG_MEID = 0x6D,
	TAG_MEID_CR = 0xED,
	TAG_RESOURCES = 0xFF21,		/* TS 102 226 §8.2.1.7.2 extended card resources */
	TAG_RES_FREE_NVM = 0x82,
	TAG_CONFIRM = 0x80,		/* NotificationConfirmation response */
	TAG_GRANTED_NVM = 0x8F,
	TAG_REMAINING_NVM = 0x91,
};

static const char *const func_names[_SMSR_ES5_FUNC_NUM] = {
	[SMSR_ES5_CREATE_ISDP] = "CreateISDP",
	[SMSR_ES5_ENABLE_PROFILE] = "EnableProfile",
	[SMSR_ES5_DISABLE_PROFILE] = "DisableProfile",
	[SMSR_ES5_SET_FALLBACK] = "SetFallBackAttribute",
	[SMSR_ES5_DELETE_PROFILE] = "DeleteProfile",
	[SMSR_ES5_AUDIT] = "eUICCCapabilityAudit",
	[SMSR_ES5_NOTIFICATION_CONFIRM] = "NotificationConfirmation",
	[SMSR_ES5_MASTER_DELETE] = "MasterDelete",
};

const char *smsr_es5_func_name(enum smsr_es5_func f)
{
	return (unsigned)f < _SMSR_ES5_FUNC_NUM ? func_names[f] : "unknown";
}

static const uint8_t audit_tags[] = { 0x4F, 0x9F, 0x70, 0x53, TAG_GRANTED_NVM, TAG_REMAINING_NVM };

int smsr_es5_script_build(struct proto_buf *b, enum smsr_es5_func f, const struct smsr_es5_args *a)
{
	struct proto_rcmd_enc e;
	size_t start = b->len, mark;
	int n = 1, rc = 0;
	unsigned i;

	if ((unsigned)f >= _SMSR_ES5_FUNC_NUM)
		return -EINVAL;
	if (f != SMSR_ES5_AUDIT && f != SMSR_ES5_NOTIFICATION_CONFIRM && (a->aid_len < 5 || a->aid_len > 16))
		return -EINVAL;
	proto_rcmd_cmd_begin(&e, b, false);
	mark = proto_rcmd_capdu_open(&e);
	switch (f) {
	case SMSR_ES5_CREATE_ISDP:
		rc = proto_gp_es5_create_isdp(e.b, a->aid, a->aid_len, a->quota ? &a->quota : NULL);
		break;
	case SMSR_ES5_ENABLE_PROFILE:
		rc = proto_gp_es5_enable_profile(e.b, a->aid, a->aid_len);
		break;
	case SMSR_ES5_DISABLE_PROFILE:
		rc = proto_gp_es5_disable_profile(e.b, a->aid, a->aid_len);
		break;
	case SMSR_ES5_SET_FALLBACK:
		rc = proto_gp_es5_set_fallback(e.b, a->aid, a->aid_len);
		break;
	case SMSR_ES5_DELETE_PROFILE:
		rc = proto_gp_es5_delete_profile(e.b, a->aid, a->aid_len);
		break;
	case SMSR_ES5_NOTIFICATION_CONFIRM:
		rc = proto_gp_es5_notification_confirm(e.b, a->seq);
		break;
	case SMSR_ES5_MASTER_DELETE:
		rc = proto_gp_es5_master_delete(e.b, a->aid, a->aid_len, a->token);
		break;
	case SMSR_ES5_AUDIT:
		rc = proto_gp_get_data(e.b, TAG_RESOURCES, NULL, 0);
		for (i = 0; rc >= 0 && i < a->n_audit_aids; i++) {
			if ((rc = proto_rcmd_capdu_close(&e, mark)) < 0)
				break;
			mark = proto_rcmd_capdu_open(&e);
			rc = proto_gp_get_status(e.b, PROTO_GP_STATUS_P1_APPS, PROTO_GP_STATUS_P2_TLV,
						 a->audit_aids[i], 16, audit_tags, sizeof(audit_tags));
			n++;
		}
		break;
	default:
		rc = -EINVAL;
	}
	if (rc >= 0)
		rc = proto_rcmd_capdu_close(&e, mark);
	if (rc >= 0)
		rc = proto_rcmd_end(&e);
	if (rc < 0) {
		b->len = start;
		return rc;
	}
	return n;
}

void smsr_es5_result_parse(uint8_t por_status, const uint8_t *data, size_t len, unsigned n_expected,
			   struct smsr_es5_result *r)
{
	struct proto_rcmd_rsp rsp;

	memset(r, 0, sizeof(*r));
	r->por_status = por_status;
	r->n_expected = n_expected;
	r->rsp = data;
	r->rsp_len = len;
	if (por_status != 0) {
		r->outcome = SMSR_ES5_POR_ERROR;
		return;
	}
	if (proto_rcmd_rsp_decode(data, len, &rsp) < 0 || rsp.bad_format || !rsp.has_last_sw) {
		r->outcome = SMSR_ES5_BAD_RESPONSE;
		return;
	}
	r->n_executed = rsp.has_n_executed ? rsp.n_executed : rsp.n_rapdus;
	r->last_sw = rsp.last_sw;
	r->last_data = rsp.last_data;
	r->last_len = rsp.last_data_len;
	if (!proto_apdu_sw_is_ok(rsp.last_sw))
		r->outcome = SMSR_ES5_SW_ERROR;
	else if (r->n_executed < n_expected || rsp.n_rapdus < n_expected)
		r->outcome = SMSR_ES5_BAD_RESPONSE;	/* the card stopped without saying why */
	else
		r->outcome = SMSR_ES5_OK;
}

int smsr_notif_decode(const uint8_t *in, size_t len, struct smsr_notif *n)
{
	struct proto_tlv outer, t;
	struct proto_tlv_iter it;
	bool eid = false, type = false, seq = false;
	int rc;

	memset(n, 0, sizeof(*n));
	rc = proto_tlv_decode_exact(in, len, &outer);
	if (rc < 0)
		return rc;
	if (outer.tag != TAG_NOTIF)
		return -PROTO_E_MALFORMED;
	proto_tlv_iter_init(&it, outer.val, outer.len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		switch (t.tag) {
		case TAG_EID:
			if (t.len != 16)
				return -PROTO_E_MALFORMED;
			memcpy(n->eid, t.val, 16);
			eid = true;
			break;
		case TAG_NOTIF_TYPE:
			if (t.len != 1)
				return -PROTO_E_MALFORMED;
			n->type = t.val[0];
			type = true;
			break;
		case TAG_SEQ:
			if (t.len != 2)
				return -PROTO_E_MALFORMED;
			n->seq = (uint16_t)(t.val[0] << 8 | t.val[1]);
			seq = true;
			break;
		case TAG_AID:
		case TAG_AID_ALT1:
		case TAG_AID_ALT2:
			if (t.len < 5 || t.len > 16)
				return -PROTO_E_MALFORMED;
			memcpy(n->aid, t.val, t.len);
			n->aid_len = (uint8_t)t.len;
			n->has_aid = true;
			break;
		case TAG_IMEI:
		case TAG_IMEI_CR:
			n->imei = t.val;
			n->imei_len = t.len;
			break;
		case TAG_MEID:
		case TAG_MEID_CR:
			n->meid = t.val;
			n->meid_len = t.len;
			break;
		default:
			break;	/* tolerate what later versions add */
		}
	}
	if (rc < 0)
		return rc;
	if (!eid || !type || !seq)
		return -PROTO_E_MALFORMED;
	return 0;
}

int smsr_notif_encode(struct proto_buf *b, const struct smsr_notif *n)
{
	uint8_t seq[2] = { (uint8_t)(n->seq >> 8), (uint8_t)n->seq };
	size_t start = b->len, mark = proto_tlv_open(b, TAG_NOTIF);

	proto_tlv_put(b, TAG_EID, n->eid, 16);
	proto_tlv_put(b, TAG_NOTIF_TYPE, &n->type, 1);
	proto_tlv_put(b, TAG_SEQ, seq, 2);
	if (n->has_aid)
		proto_tlv_put(b, TAG_AID, n->aid, n->aid_len);
	if (n->imei)
		proto_tlv_put(b, TAG_IMEI, n->imei, n->imei_len);
	if (n->meid)
		proto_tlv_put(b, TAG_MEID, n->meid, n->meid_len);
	proto_tlv_close(b, mark);
	if (proto_buf_status(b) < 0) {
		b->len = start;
		return -PROTO_E_NOSPACE;
	}
	return 0;
}

static uint64_t be_num(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

int smsr_es5_status_decode(const uint8_t *in, size_t len, struct smsr_es5_isdp_status *out, unsigned max)
{
	struct proto_tlv_iter it, inner;
	struct proto_tlv e, t;
	unsigned n = 0;
	int rc;

	proto_tlv_iter_init(&it, in, len);
	while ((rc = proto_tlv_iter_next(&it, &e)) > 0) {
		struct smsr_es5_isdp_status *s;
		bool have_aid = false, have_lcs = false;

		if (e.tag != 0xE3)
			return -PROTO_E_MALFORMED;
		if (n >= max)
			return -PROTO_E_NOSPACE;
		s = &out[n];
		memset(s, 0, sizeof(*s));
		proto_tlv_iter_init(&inner, e.val, e.len);
		while ((rc = proto_tlv_iter_next(&inner, &t)) > 0) {
			switch (t.tag) {
			case 0x4F:
				if (t.len < 5 || t.len > 16)
					return -PROTO_E_MALFORMED;
				memcpy(s->aid, t.val, t.len);
				s->aid_len = (uint8_t)t.len;
				have_aid = true;
				break;
			case 0x9F70:
				if (t.len < 1)
					return -PROTO_E_MALFORMED;
				s->lcs = t.val[0];
				have_lcs = true;
				break;
			case 0x53:
				s->fallback = t.len >= 1 && (t.val[0] & 0x01);
				break;
			case TAG_GRANTED_NVM:
				if (t.len > 8)
					return -PROTO_E_MALFORMED;
				s->granted = be_num(t.val, t.len);
				s->has_granted = true;
				break;
			case TAG_REMAINING_NVM:
				if (t.len > 8)
					return -PROTO_E_MALFORMED;
				s->remaining = be_num(t.val, t.len);
				s->has_remaining = true;
				break;
			default:
				break;
			}
		}
		if (rc < 0)
			return rc;
		if (!have_aid || !have_lcs)
			return -PROTO_E_MALFORMED;
		n++;
	}
	return rc < 0 ? rc : (int)n;
}

int smsr_es5_free_memory_decode(const uint8_t *in, size_t len, uint64_t *free_nvm)
{
	struct proto_tlv outer, t;
	int rc = proto_tlv_decode_exact(in, len, &outer);

	if (rc < 0)
		return rc;
	if (outer.tag != TAG_RESOURCES)
		return -PROTO_E_MALFORMED;
	rc = proto_tlv_find(outer.val, outer.len, TAG_RES_FREE_NVM, &t);
	if (rc < 0)
		return rc;
	if (rc == 0 || t.len < 1 || t.len > 8)
		return -PROTO_E_MALFORMED;
	*free_nvm = be_num(t.val, t.len);
	return 0;
}

int smsr_es5_confirm_decode(const uint8_t *in, size_t len, uint8_t (*aids)[16], uint8_t *aid_lens, unsigned max)
{
	struct proto_tlv outer, t;
	struct proto_tlv_iter it;
	unsigned n = 0;
	int rc;

	if (len == 0)
		return 0;
	rc = proto_tlv_decode_exact(in, len, &outer);
	if (rc < 0)
		return rc;
	if (outer.tag != TAG_CONFIRM)
		return -PROTO_E_MALFORMED;
	proto_tlv_iter_init(&it, outer.val, outer.len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag != 0x4F || t.len < 5 || t.len > 16)
			return -PROTO_E_MALFORMED;
		if (n >= max)
			return -PROTO_E_NOSPACE;
		memcpy(aids[n], t.val, t.len);
		aid_lens[n++] = (uint8_t)t.len;
	}
	return rc < 0 ? rc : (int)n;
}
