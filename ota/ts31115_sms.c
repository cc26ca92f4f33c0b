/* TS 31.115 SMS-PP secured packet carriage: concatenation and reassembly (TS 23.040 §9.2.3.24). */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "ota/ts31115_sms.h"
#include "proto/errors.h"

enum {
	SEG1_HDR = 8,			/* 07 00 03 ref N 1 70 00 */
	SEGK_HDR = 6,			/* 05 00 03 ref N k */
	SEG1_PAYLOAD = OTA_SMS_UD_MAX - SEG1_HDR,	/* 132 */
	SEGK_PAYLOAD = OTA_SMS_UD_MAX - SEGK_HDR,	/* 134 */
	SINGLE_PAYLOAD = OTA_SMS_UD_MAX - 3,		/* 137 */
};

unsigned ota_sms_segment_count(size_t len)
{
	if (len <= SINGLE_PAYLOAD)
		return 1;
	return 1 + (unsigned)((len - SEG1_PAYLOAD + SEGK_PAYLOAD - 1) / SEGK_PAYLOAD);
}

int ota_sms_segment(const uint8_t *pkt, size_t len, uint8_t iei, uint8_t ref, struct ota_sms_ud *segs,
		    size_t max_segs)
{
	unsigned n = ota_sms_segment_count(len), k;
	size_t off = 0;

	if ((iei != OTA_IEI_CMD_PKT && iei != OTA_IEI_RSP_PKT) || (len && !pkt))
		return -EINVAL;
	if (n > 255 || n > max_segs)
		return -PROTO_E_NOSPACE;
	if (n == 1) {
		segs[0].ud[0] = 0x02;
		segs[0].ud[1] = iei;
		segs[0].ud[2] = 0x00;
		memcpy(segs[0].ud + 3, pkt, len);
		segs[0].len = (uint8_t)(3 + len);
		return 1;
	}
	for (k = 1; k <= n; k++) {
		struct ota_sms_ud *s = &segs[k - 1];
		size_t room = k == 1 ? SEG1_PAYLOAD : SEGK_PAYLOAD, chunk = len - off < room ? len - off : room;
		uint8_t *u = s->ud;

		*u++ = k == 1 ? 0x07 : 0x05;
		*u++ = OTA_IEI_CONCAT8;
		*u++ = 0x03;
		*u++ = ref;
		*u++ = (uint8_t)n;
		*u++ = (uint8_t)k;
		if (k == 1) {
			*u++ = iei;
			*u++ = 0x00;
		}
		memcpy(u, pkt + off, chunk);
		off += chunk;
		s->len = (uint8_t)(u - s->ud + chunk);
	}
	return (int)n;
}

int ota_sms_ud_parse(const uint8_t *ud, size_t len, struct ota_sms_udh *h)
{
	size_t udhl, i;

	memset(h, 0, sizeof(*h));
	if (len < 1)
		return -PROTO_E_TRUNCATED;
	udhl = ud[0];
	if (udhl + 1 > len)
		return -PROTO_E_TRUNCATED;
	for (i = 1; i < udhl + 1;) {
		uint8_t iei, iedl;
		const uint8_t *v;

		if (i + 2 > udhl + 1)
			goto malformed;
		iei = ud[i];
		iedl = ud[i + 1];
		v = ud + i + 2;
		if (i + 2 + iedl > udhl + 1)
			goto malformed;
		switch (iei) {
		case OTA_IEI_CONCAT8:
			if (iedl != 3)
				goto malformed;
			h->concat = true;
			h->ref = v[0];
			h->total = v[1];
			h->seq = v[2];
			break;
		case OTA_IEI_CONCAT16:
			if (iedl != 4)
				goto malformed;
			h->concat = true;
			h->ref = (uint16_t)(v[0] << 8 | v[1]);
			h->total = v[2];
			h->seq = v[3];
			break;
		case OTA_IEI_CMD_PKT:
			h->cmd_pkt = true;
			break;
		case OTA_IEI_RSP_PKT:
			h->rsp_pkt = true;
			break;
		default:
			break;	/* other IEs are allowed and ignored */
		}
		i += 2 + iedl;
	}
	if (h->concat && (h->total == 0 || h->seq == 0 || h->seq > h->total))
		goto malformed;
	h->udh = ud;
	h->udh_len = udhl + 1;
	h->payload = ud + udhl + 1;
	h->payload_len = len - udhl - 1;
	return 0;
malformed:
	return -PROTO_E_MALFORMED;
}

struct partial {
	bool used;
	char orig[32];
	uint16_t ref;
	uint8_t total;
	uint8_t have;		/* segments received */
	time_t first_seen;
	uint8_t *seg[256];	/* talloc'd payload per seq */
	uint8_t seg_len[256];
	struct ota_sms_reasm_out info;
};

struct ota_sms_reasm {
	unsigned max_partial;
	unsigned max_age;
	unsigned pending;
	struct partial *p;	/* array of max_partial */
};

struct ota_sms_reasm *ota_sms_reasm_new(void *ctx, unsigned max_partial, unsigned max_age)
{
	struct ota_sms_reasm *r;

	if (!max_partial)
		return NULL;
	r = talloc_zero(ctx, struct ota_sms_reasm);
	if (!r)
		return NULL;
	r->p = talloc_zero_array(r, struct partial, max_partial);
	if (!r->p) {
		talloc_free(r);
		return NULL;
	}
	r->max_partial = max_partial;
	r->max_age = max_age;
	return r;
}

static void partial_clear(struct ota_sms_reasm *r, struct partial *p)
{
	unsigned i;

	if (!p->used)
		return;
	for (i = 0; i < 256; i++)
		TALLOC_FREE(p->seg[i]);
	memset(p, 0, sizeof(*p));
	r->pending--;
}

unsigned ota_sms_reasm_expire(struct ota_sms_reasm *r, time_t now)
{
	unsigned i, n = 0;

	for (i = 0; i < r->max_partial; i++) {
		struct partial *p = &r->p[i];
		if (p->used && now - p->first_seen > (time_t)r->max_age) {
			partial_clear(r, p);
			n++;
		}
	}
	return n;
}

unsigned ota_sms_reasm_pending(const struct ota_sms_reasm *r)
{
	return r->pending;
}

static void note_ies(struct ota_sms_reasm_out *o, const struct ota_sms_udh *h)
{
	if ((h->cmd_pkt || h->rsp_pkt) && !o->udh_len && h->udh_len <= sizeof(o->udh)) {
		memcpy(o->udh, h->udh, h->udh_len);
		o->udh_len = h->udh_len;
	}
	o->cmd_pkt |= h->cmd_pkt;
	o->rsp_pkt |= h->rsp_pkt;
}

int ota_sms_reasm_feed(struct ota_sms_reasm *r, const char *orig, const uint8_t *ud, size_t len, time_t now,
		       struct proto_buf *out, struct ota_sms_reasm_out *o)
{
	struct ota_sms_udh h;
	struct partial *p = NULL, *oldest = NULL, *free_slot = NULL;
	unsigned i;
	int rc;

	if (len > OTA_SMS_UD_MAX)
		return -PROTO_E_MALFORMED;	/* one SMS carries at most 140 octets of TP-UD (found by fuzz_sms) */
	rc = ota_sms_ud_parse(ud, len, &h);
	if (rc < 0)
		return rc;
	memset(o, 0, sizeof(*o));
	if (!h.concat || h.total == 1) {
		note_ies(o, &h);
		o->segments = 1;
		proto_buf_put(out, h.payload, h.payload_len);
		return proto_buf_status(out) < 0 ? -PROTO_E_NOSPACE : 1;
	}
	if (strlen(orig) >= sizeof(p->orig))
		return -EINVAL;

	ota_sms_reasm_expire(r, now);
	for (i = 0; i < r->max_partial; i++) {
		struct partial *q = &r->p[i];
		if (!q->used) {
			if (!free_slot)
				free_slot = q;
			continue;
		}
		if (q->ref == h.ref && !strcmp(q->orig, orig)) {
			p = q;
			break;
		}
		if (!oldest || q->first_seen < oldest->first_seen)
			oldest = q;
	}
	if (p && p->total != h.total) {
		/* same reference reused for another message: start over */
		partial_clear(r, p);
		free_slot = p;
		p = NULL;
	}
	if (!p) {
		if (!free_slot) {
			partial_clear(r, oldest);
			free_slot = oldest;
		}
		p = free_slot;
		p->used = true;
		memcpy(p->orig, orig, strlen(orig) + 1);	/* length checked above */
		p->ref = h.ref;
		p->total = h.total;
		p->first_seen = now;
		r->pending++;
	}
	if (p->seg[h.seq - 1])
		return 0;	/* duplicate segment */
	/* at least one byte so that an empty segment still marks its slot as received */
	p->seg[h.seq - 1] = talloc_size(r, h.payload_len ? h.payload_len : 1);
	if (!p->seg[h.seq - 1])
		return -ENOMEM;
	memcpy(p->seg[h.seq - 1], h.payload, h.payload_len);
	p->seg_len[h.seq - 1] = (uint8_t)h.payload_len;
	p->have++;
	note_ies(&p->info, &h);
	if (p->have < p->total)
		return 0;

	*o = p->info;
	o->segments = p->total;
	for (i = 0; i < p->total; i++)
		proto_buf_put(out, p->seg[i], p->seg_len[i]);
	partial_clear(r, p);
	return proto_buf_status(out) < 0 ? -PROTO_E_NOSPACE : 1;
}
