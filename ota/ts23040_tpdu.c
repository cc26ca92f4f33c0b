/* TS 23.040 §9.2.2.1 SMS-DELIVER, §9.2.2.2 SMS-SUBMIT; TS 23.038 §4 data coding. */
#include <errno.h>
#include <string.h>
#include "ota/ts23040_tpdu.h"
#include "proto/errors.h"

static const char semi[] = "0123456789*#abc";

int ota_tp_dcs_alphabet(uint8_t dcs, enum ota_tp_alphabet *a)
{
	uint8_t grp = dcs >> 4;

	if (grp <= 0x7) {
		/* general data coding / automatic deletion groups: bits 3-2 */
		switch ((dcs >> 2) & 3) {
		case 0:
			*a = OTA_TP_ALPHABET_7BIT;
			return 0;
		case 1:
			*a = OTA_TP_ALPHABET_8BIT;
			return 0;
		case 2:
			*a = OTA_TP_ALPHABET_UCS2;
			return 0;
		default:
			return -PROTO_E_UNSUPPORTED;
		}
	}
	switch (grp) {
	case 0xC:
	case 0xD:
		*a = OTA_TP_ALPHABET_7BIT;
		return 0;
	case 0xE:
		*a = OTA_TP_ALPHABET_UCS2;
		return 0;
	case 0xF:
		*a = (dcs & 0x04) ? OTA_TP_ALPHABET_8BIT : OTA_TP_ALPHABET_7BIT;
		return 0;
	default:
		return -PROTO_E_UNSUPPORTED;	/* reserved groups */
	}
}

static void put_addr(struct proto_buf *b, const struct ota_tp_addr *a)
{
	size_t n = strlen(a->digits), i;
	uint8_t *p;

	proto_buf_put_u8(b, (uint8_t)n);
	proto_buf_put_u8(b, a->toa);
	p = proto_buf_reserve(b, (n + 1) / 2);
	if (!p)
		return;
	for (i = 0; i < n; i++) {
		const char *d = strchr(semi, a->digits[i]);
		uint8_t v = (d && a->digits[i]) ? (uint8_t)(d - semi) : 0xF;
		if (i & 1)
			p[i / 2] = (uint8_t)((p[i / 2] & 0x0F) | v << 4);
		else
			p[i / 2] = (uint8_t)(0xF0 | v);
	}
}

static int get_addr(struct proto_cur *c, struct ota_tp_addr *a)
{
	uint8_t n = proto_cur_u8(c);
	const uint8_t *p;
	unsigned i;

	a->toa = proto_cur_u8(c);
	if (c->bad)
		return -PROTO_E_TRUNCATED;
	if (n > 20)
		return -PROTO_E_MALFORMED;
	if ((a->toa & 0x70) == 0x50)
		return -PROTO_E_UNSUPPORTED;	/* alphanumeric address (TON 101) */
	p = proto_cur_get(c, (n + 1u) / 2);
	if (!p)
		return -PROTO_E_TRUNCATED;
	for (i = 0; i < n; i++) {
		uint8_t v = (i & 1) ? p[i / 2] >> 4 : p[i / 2] & 0xF;
		if (v == 0xF)
			return -PROTO_E_MALFORMED;
		a->digits[i] = semi[v];
	}
	a->digits[n] = '\0';
	return 0;
}

static int check_addr(const struct ota_tp_addr *a)
{
	size_t n = strnlen(a->digits, sizeof(a->digits)), i;

	if (n > 20)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!strchr(semi, a->digits[i]))
			return -EINVAL;
	return 0;
}

static int ud_octets(uint8_t dcs, uint8_t udl, size_t *octets)
{
	enum ota_tp_alphabet a;
	int rc = ota_tp_dcs_alphabet(dcs, &a);

	if (rc < 0)
		a = OTA_TP_ALPHABET_8BIT;	/* reserved coding groups: treat the UD as octets */
	*octets = a == OTA_TP_ALPHABET_7BIT ? ((size_t)udl * 7 + 7) / 8 : udl;
	return 0;
}

static int put_ud(struct proto_buf *b, uint8_t dcs, uint8_t udl_7bit, const uint8_t *ud, size_t ud_len)
{
	enum ota_tp_alphabet a = OTA_TP_ALPHABET_8BIT;
	size_t want;

	ota_tp_dcs_alphabet(dcs, &a);
	if (a == OTA_TP_ALPHABET_7BIT) {
		if (udl_7bit > 160)
			return -EINVAL;
		ud_octets(dcs, udl_7bit, &want);
		if (want != ud_len)
			return -EINVAL;
		proto_buf_put_u8(b, udl_7bit);
	} else {
		if (ud_len > 140)
			return -EINVAL;
		proto_buf_put_u8(b, (uint8_t)ud_len);
	}
	proto_buf_put(b, ud, ud_len);
	return 0;
}

static int get_ud(struct proto_cur *c, uint8_t dcs, uint8_t *udl, const uint8_t **ud, size_t *ud_len)
{
	size_t n;

	*udl = proto_cur_u8(c);
	if (c->bad)
		return -PROTO_E_TRUNCATED;
	ud_octets(dcs, *udl, &n);
	if (n > 140)
		return -PROTO_E_MALFORMED;
	*ud = proto_cur_get(c, n);
	if (!*ud)
		return -PROTO_E_TRUNCATED;
	*ud_len = n;
	if (proto_cur_left(c))
		return -PROTO_E_TRAILING;
	return 0;
}

int ota_tp_deliver_encode(struct proto_buf *b, const struct ota_tp_deliver *d)
{
	size_t start = b->len;
	int rc;

	if ((rc = check_addr(&d->oa)) < 0)
		return rc;
	proto_buf_put_u8(b, (uint8_t)((d->first_octet & ~0x03) | OTA_TP_MTI_DELIVER));
	put_addr(b, &d->oa);
	proto_buf_put_u8(b, d->pid);
	proto_buf_put_u8(b, d->dcs);
	proto_buf_put(b, d->scts, 7);
	rc = put_ud(b, d->dcs, d->udl, d->ud, d->ud_len);
	if (rc == 0)
		rc = proto_buf_status(b);
	if (rc < 0)
		b->len = start;
	return rc;
}

int ota_tp_deliver_decode(const uint8_t *in, size_t len, struct ota_tp_deliver *d)
{
	struct proto_cur c;
	int rc;

	memset(d, 0, sizeof(*d));
	proto_cur_init(&c, in, len);
	d->first_octet = proto_cur_u8(&c);
	if (c.bad)
		return -PROTO_E_TRUNCATED;
	if ((d->first_octet & 0x03) != OTA_TP_MTI_DELIVER)
		return -PROTO_E_MALFORMED;
	if ((rc = get_addr(&c, &d->oa)) < 0)
		return rc;
	d->pid = proto_cur_u8(&c);
	d->dcs = proto_cur_u8(&c);
	proto_cur_copy(&c, d->scts, 7);
	if (c.bad)
		return -PROTO_E_TRUNCATED;
	return get_ud(&c, d->dcs, &d->udl, &d->ud, &d->ud_len);
}

static size_t vp_len_for(uint8_t first_octet)
{
	switch ((first_octet >> 3) & 3) {
	case 0:
		return 0;	/* not present */
	case 2:
		return 1;	/* relative */
	default:
		return 7;	/* enhanced or absolute */
	}
}

int ota_tp_submit_encode(struct proto_buf *b, const struct ota_tp_submit *s)
{
	size_t start = b->len;
	int rc;

	if ((rc = check_addr(&s->da)) < 0)
		return rc;
	if (vp_len_for(s->first_octet) != s->vp_len)
		return -EINVAL;
	proto_buf_put_u8(b, (uint8_t)((s->first_octet & ~0x03) | OTA_TP_MTI_SUBMIT));
	proto_buf_put_u8(b, s->mr);
	put_addr(b, &s->da);
	proto_buf_put_u8(b, s->pid);
	proto_buf_put_u8(b, s->dcs);
	proto_buf_put(b, s->vp, s->vp_len);
	rc = put_ud(b, s->dcs, s->udl, s->ud, s->ud_len);
	if (rc == 0)
		rc = proto_buf_status(b);
	if (rc < 0)
		b->len = start;
	return rc;
}

int ota_tp_submit_decode(const uint8_t *in, size_t len, struct ota_tp_submit *s)
{
	struct proto_cur c;
	int rc;

	memset(s, 0, sizeof(*s));
	proto_cur_init(&c, in, len);
	s->first_octet = proto_cur_u8(&c);
	s->mr = proto_cur_u8(&c);
	if (c.bad)
		return -PROTO_E_TRUNCATED;
	if ((s->first_octet & 0x03) != OTA_TP_MTI_SUBMIT)
		return -PROTO_E_MALFORMED;
	if ((rc = get_addr(&c, &s->da)) < 0)
		return rc;
	s->pid = proto_cur_u8(&c);
	s->dcs = proto_cur_u8(&c);
	s->vp_len = (uint8_t)vp_len_for(s->first_octet);
	proto_cur_copy(&c, s->vp, s->vp_len);
	if (c.bad)
		return -PROTO_E_TRUNCATED;
	return get_ud(&c, s->dcs, &s->udl, &s->ud, &s->ud_len);
}
