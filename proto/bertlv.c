/* BER-TLV codec (ISO/IEC 8825-1 subset used by GlobalPlatform and ETSI TS 102 226). */
#include <errno.h>
#include <string.h>
#include "proto/bertlv.h"

int proto_tlv_decode(const uint8_t *in, size_t len, struct proto_tlv *t)
{
	struct proto_cur c;
	uint8_t b, n;
	size_t l = 0;
	int i;

	proto_cur_init(&c, in, len);
	memset(t, 0, sizeof(*t));
	t->raw = in;

	b = proto_cur_u8(&c);
	if (c.bad)
		goto truncated;
	t->tag = b;
	t->tag_len = 1;
	t->constructed = b & 0x20;
	if ((b & 0x1f) == 0x1f) {
		/* subsequent tag bytes: b8 set = more follow (ISO 8825-1 8.1.2.4) */
		do {
			if (t->tag_len == 3)
				return -PROTO_E_UNSUPPORTED;
			b = proto_cur_u8(&c);
			if (c.bad)
				goto truncated;
			t->tag = t->tag << 8 | b;
			t->tag_len++;
		} while (b & 0x80);
	}

	b = proto_cur_u8(&c);
	if (c.bad)
		goto truncated;
	if (b < 0x80) {
		l = b;
	} else if (b == 0x80) {
		if (!t->constructed)
			goto malformed;
		t->indefinite = true;
		t->val = c.p;
		t->len = 0;
		t->raw_len = (size_t)(c.p - in);
		return (int)t->raw_len;
	} else {
		n = b & 0x7f;
		if (n > 3)
			goto malformed;
		for (i = 0; i < n; i++) {
			l = l << 8 | proto_cur_u8(&c);
		}
		if (c.bad)
			goto truncated;
	}
	t->val = proto_cur_get(&c, l);
	if (c.bad)
		goto truncated;
	t->len = l;
	t->raw_len = (size_t)(c.p - in);
	return (int)t->raw_len;

truncated:
	return -PROTO_E_TRUNCATED;
malformed:
	return -PROTO_E_MALFORMED;
}

int proto_tlv_decode_exact(const uint8_t *in, size_t len, struct proto_tlv *t)
{
	int rc = proto_tlv_decode(in, len, t);

	if (rc < 0)
		return rc;
	if (t->indefinite)
		return -PROTO_E_MALFORMED;
	if ((size_t)rc != len)
		return -PROTO_E_TRAILING;
	return 0;
}

void proto_tlv_iter_init(struct proto_tlv_iter *it, const uint8_t *data, size_t len)
{
	it->p = data;
	it->end = data + len;
	it->stop_at_eoc = false;
	it->eoc = NULL;
}

int proto_tlv_iter_next(struct proto_tlv_iter *it, struct proto_tlv *t)
{
	int rc;

	if (it->p >= it->end)
		return 0;
	if (it->stop_at_eoc && it->end - it->p >= 2 && it->p[0] == 0 && it->p[1] == 0) {
		it->eoc = it->p;
		it->p = it->end;
		return 0;
	}
	rc = proto_tlv_decode(it->p, (size_t)(it->end - it->p), t);
	if (rc < 0)
		return rc;
	if (t->indefinite)
		return -PROTO_E_UNSUPPORTED; /* nested indefinite forms are walked by their own parsers */
	it->p += rc;
	return 1;
}

int proto_tlv_find(const uint8_t *data, size_t len, uint32_t tag, struct proto_tlv *t)
{
	struct proto_tlv_iter it;
	int rc;

	proto_tlv_iter_init(&it, data, len);
	while ((rc = proto_tlv_iter_next(&it, t)) > 0) {
		if (t->tag == tag)
			return 1;
	}
	return rc;
}

static int validate(const uint8_t *data, size_t len, int depth)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int rc;

	if (depth > 8)
		return -PROTO_E_UNSUPPORTED;
	proto_tlv_iter_init(&it, data, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.constructed && (rc = validate(t.val, t.len, depth + 1)) < 0)
			return rc;
	}
	return rc;
}

int proto_tlv_validate(const uint8_t *data, size_t len)
{
	return validate(data, len, 0);
}

size_t proto_tlv_tag_size(uint32_t tag)
{
	return tag > 0xffff ? 3 : tag > 0xff ? 2 : 1;
}

size_t proto_tlv_len_size(size_t len)
{
	return len < 0x80 ? 1 : len <= 0xff ? 2 : len <= 0xffff ? 3 : 4;
}

void proto_tlv_put_tag(struct proto_buf *b, uint32_t tag)
{
	size_t n = proto_tlv_tag_size(tag);
	uint8_t *d = proto_buf_reserve(b, n);

	if (!d)
		return;
	while (n--) {
		*d++ = (uint8_t)(tag >> (8 * n));
	}
}

void proto_tlv_put_len(struct proto_buf *b, size_t len)
{
	size_t n = proto_tlv_len_size(len);
	uint8_t *d;

	if (len > PROTO_TLV_MAX_LEN) {
		b->overflow = true;
		return;
	}
	d = proto_buf_reserve(b, n);
	if (!d)
		return;
	if (n == 1) {
		d[0] = (uint8_t)len;
		return;
	}
	*d++ = (uint8_t)(0x80 | (n - 1));
	for (n--; n; n--)
		*d++ = (uint8_t)(len >> (8 * (n - 1)));
}

void proto_tlv_put(struct proto_buf *b, uint32_t tag, const void *val, size_t len)
{
	proto_tlv_put_tag(b, tag);
	proto_tlv_put_len(b, len);
	proto_buf_put(b, val, len);
}

size_t proto_tlv_open(struct proto_buf *b, uint32_t tag)
{
	proto_tlv_put_tag(b, tag);
	proto_buf_reserve(b, 4);
	return b->len;
}

void proto_tlv_close(struct proto_buf *b, size_t mark)
{
	size_t vlen, lsize;
	uint8_t *lp;
	struct proto_buf lb;

	if (b->overflow)
		return;
	vlen = b->len - mark;
	if (vlen > PROTO_TLV_MAX_LEN) {
		b->overflow = true;
		return;
	}
	lsize = proto_tlv_len_size(vlen);
	lp = b->data + mark - 4;
	proto_buf_init(&lb, lp, 4);
	proto_tlv_put_len(&lb, vlen);
	memmove(lp + lsize, b->data + mark, vlen);
	b->len -= 4 - lsize;
}
