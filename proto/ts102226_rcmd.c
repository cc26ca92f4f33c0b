/* ETSI TS 102 226 §5.1 (compact) and §5.2 (expanded) remote APDU formats. */
#include <errno.h>
#include <string.h>
#include "proto/ts102226_rcmd.h"
#include "proto/bertlv.h"
#include "proto/errors.h"

enum {
	EOC_LEN = 2,		/* end-of-contents octets 00 00 */
	LEN_INDEFINITE = 0x80,	/* length octet of the AE/AF templates */
	TPDU_HDR_LEN = 5,	/* CLA INS P1 P2 P3 */
	TLV_LEN_MAX_SIZE = 4,	/* length field reserved by proto_tlv_open() */
};

const char *proto_rcmd_tag_name(uint32_t tag, bool response)
{
	switch (tag) {
	case PROTO_RCMD_TAG_CMD_SCRIPT:
		return "command scripting template";
	case PROTO_RCMD_TAG_CMD_SCRIPT_INDEF:
		return "command scripting template (indefinite)";
	case PROTO_RCMD_TAG_RSP_SCRIPT:
		return "response scripting template";
	case PROTO_RCMD_TAG_RSP_SCRIPT_INDEF:
		return "response scripting template (indefinite)";
	case PROTO_RCMD_TAG_CAPDU:
		return "C-APDU";
	case PROTO_RCMD_TAG_RAPDU:
		return "R-APDU";
	case PROTO_RCMD_TAG_IMMEDIATE_ACTION:
		return response ? "immediate action response" : "immediate action";
	case PROTO_RCMD_TAG_ERROR_ACTION:
		return "error action";
	case PROTO_RCMD_TAG_SCRIPT_CHAINING:
		return "script chaining";
	case PROTO_RCMD_TAG_N_EXECUTED:
		return "number of executed C-APDUs";
	case PROTO_RCMD_TAG_BAD_FORMAT:
		return "bad format";
	default:
		return "unknown tag";
	}
}

const char *proto_rcmd_chaining_name(uint8_t v)
{
	switch (v) {
	case PROTO_RCMD_CHAIN_FIRST:
		return "first script, delete chaining on reset";
	case PROTO_RCMD_CHAIN_FIRST_KEEP:
		return "first script, keep chaining on reset";
	case PROTO_RCMD_CHAIN_NEXT:
		return "subsequent script, more to follow";
	case PROTO_RCMD_CHAIN_LAST:
		return "last script";
	default:
		return "reserved";
	}
}

const char *proto_rcmd_bad_format_name(uint8_t v)
{
	switch (v) {
	case PROTO_RCMD_BAD_UNKNOWN_TAG:
		return "unknown tag found";
	case PROTO_RCMD_BAD_WRONG_LENGTH:
		return "wrong length found";
	case PROTO_RCMD_BAD_LENGTH_MISSING:
		return "length missing";
	default:
		return "reserved";
	}
}

uint8_t proto_rcmd_err_to_bad_format(int rc)
{
	if (rc == -PROTO_E_UNSUPPORTED)
		return PROTO_RCMD_BAD_UNKNOWN_TAG;
	if (rc == -PROTO_E_TRUNCATED)
		return PROTO_RCMD_BAD_LENGTH_MISSING;
	return PROTO_RCMD_BAD_WRONG_LENGTH;
}

/*
 * Compact format
 */

int proto_rcmd_compact_rsp_decode(const uint8_t *in, size_t len, struct proto_rcmd_compact_rsp *r)
{
	struct proto_cur c;

	memset(r, 0, sizeof(*r));
	proto_cur_init(&c, in, len);
	r->n_cmds = proto_cur_u8(&c);
	proto_cur_copy(&c, r->sw, 2);
	if (c.bad)
		goto malformed;
	r->last_sw = (uint16_t)(r->sw[0] << 8 | r->sw[1]);
	r->data_len = proto_cur_left(&c);
	r->data = proto_cur_get(&c, r->data_len);
	return 0;

malformed:
	memset(r, 0, sizeof(*r));
	return -PROTO_E_TRUNCATED;
}

int proto_rcmd_compact_rsp_encode(struct proto_buf *b, uint8_t n_cmds, uint16_t sw, const uint8_t *data,
				  size_t len)
{
	proto_buf_put_u8(b, n_cmds);
	proto_buf_put_u16(b, sw);
	if (len)
		proto_buf_put(b, data, len);
	return proto_buf_status(b);
}

int proto_rcmd_compact_put(struct proto_buf *b, const struct proto_apdu *a)
{
	size_t start = b->len;

	if (a->lc > PROTO_APDU_MAX_DATA || (a->lc && !a->data))
		return -EINVAL;
	proto_buf_put_u8(b, a->cla);
	proto_buf_put_u8(b, a->ins);
	proto_buf_put_u8(b, a->p1);
	proto_buf_put_u8(b, a->p2);
	if (a->lc) {
		proto_buf_put_u8(b, (uint8_t)a->lc);
		proto_buf_put(b, a->data, a->lc);
	} else {
		proto_buf_put_u8(b, a->le_present ? a->le : 0);
	}
	if (b->overflow)
		return -PROTO_E_NOSPACE;
	return (int)(b->len - start);
}

bool proto_rcmd_compact_case2_default(const uint8_t hdr[4])
{
	switch (hdr[1]) {
	case 0xB0:	/* READ BINARY */
	case 0xB2:	/* READ RECORD */
	case 0xC0:	/* GET RESPONSE */
	case 0x12:	/* FETCH */
	case 0x84:	/* GET CHALLENGE */
	case 0xCA:	/* GET DATA */
	case 0xCB:
		return true;
	case 0xF2:	/* TS 102 221 STATUS: P1 00..02; GP GET STATUS uses P1 10..80 and carries data */
		return hdr[2] <= 0x02;
	default:
		return false;
	}
}

void proto_rcmd_compact_iter_init(struct proto_rcmd_compact_iter *it, const uint8_t *data, size_t len,
				  proto_rcmd_case2_fn is_case2)
{
	it->p = data;
	it->end = data + len;
	it->is_case2 = is_case2 ? is_case2 : proto_rcmd_compact_case2_default;
}

int proto_rcmd_compact_next(struct proto_rcmd_compact_iter *it, struct proto_rcmd_capdu *c)
{
	struct proto_cur cur;
	const uint8_t *hdr;
	uint8_t p3;

	memset(c, 0, sizeof(*c));
	if (it->p >= it->end)
		return 0;
	proto_cur_init(&cur, it->p, (size_t)(it->end - it->p));
	hdr = proto_cur_get(&cur, TPDU_HDR_LEN);
	if (cur.bad)
		goto malformed;
	p3 = hdr[4];
	c->apdu.cla = hdr[0];
	c->apdu.ins = hdr[1];
	c->apdu.p1 = hdr[2];
	c->apdu.p2 = hdr[3];
	if (it->is_case2(hdr)) {
		c->apdu.le_present = true;
		c->apdu.le = p3;
	} else if (p3) {
		c->apdu.lc = p3;
		c->apdu.data = proto_cur_get(&cur, p3);
		if (cur.bad)
			goto malformed;
	}
	c->raw = it->p;
	c->raw_len = (size_t)(cur.p - it->p);
	it->p = cur.p;
	return 1;

malformed:
	memset(c, 0, sizeof(*c));
	return -PROTO_E_TRUNCATED;
}

/*
 * Expanded format: encoder
 */

static void enc_begin(struct proto_rcmd_enc *e, struct proto_buf *b, bool indefinite, bool response)
{
	uint32_t tag;

	e->b = b;
	e->start = b->len;
	e->indefinite = indefinite;
	e->response = response;
	e->mark = 0;
	if (indefinite) {
		tag = response ? PROTO_RCMD_TAG_RSP_SCRIPT_INDEF : PROTO_RCMD_TAG_CMD_SCRIPT_INDEF;
		proto_tlv_put_tag(b, tag);
		proto_buf_put_u8(b, LEN_INDEFINITE);
	} else {
		tag = response ? PROTO_RCMD_TAG_RSP_SCRIPT : PROTO_RCMD_TAG_CMD_SCRIPT;
		e->mark = proto_tlv_open(b, tag);
	}
}

void proto_rcmd_cmd_begin(struct proto_rcmd_enc *e, struct proto_buf *b, bool indefinite)
{
	enc_begin(e, b, indefinite, false);
}

void proto_rcmd_rsp_begin(struct proto_rcmd_enc *e, struct proto_buf *b, bool indefinite)
{
	enc_begin(e, b, indefinite, true);
}

int proto_rcmd_end(struct proto_rcmd_enc *e)
{
	if (e->indefinite)
		proto_buf_put_fill(e->b, 0, EOC_LEN);
	else
		proto_tlv_close(e->b, e->mark);
	if (e->b->overflow)
		return -PROTO_E_NOSPACE;
	return (int)(e->b->len - e->start);
}

size_t proto_rcmd_capdu_open(struct proto_rcmd_enc *e)
{
	return proto_tlv_open(e->b, PROTO_RCMD_TAG_CAPDU);
}

int proto_rcmd_capdu_close(struct proto_rcmd_enc *e, size_t mark)
{
	struct proto_buf *b = e->b;

	if (b->overflow)
		return -PROTO_E_NOSPACE;
	if (b->len == mark) {
		/* the builder failed and wrote nothing: drop the 22 tag and its reserved length too */
		b->len = mark - TLV_LEN_MAX_SIZE - proto_tlv_tag_size(PROTO_RCMD_TAG_CAPDU);
		return -EINVAL;
	}
	proto_tlv_close(b, mark);
	return proto_buf_status(b);
}

int proto_rcmd_put_capdu(struct proto_rcmd_enc *e, const struct proto_apdu *a)
{
	size_t n;
	int rc;

	if (e->response || a->lc > PROTO_APDU_MAX_DATA || (a->lc && !a->data))
		return -EINVAL;
	n = 4 + (a->lc ? 1 + a->lc : 0) + (a->le_present ? 1 : 0);
	proto_tlv_put_tag(e->b, PROTO_RCMD_TAG_CAPDU);
	proto_tlv_put_len(e->b, n);
	rc = proto_apdu_encode(e->b, a);
	return rc < 0 ? rc : 0;
}

int proto_rcmd_put_capdu_raw(struct proto_rcmd_enc *e, const uint8_t *apdu, size_t len)
{
	struct proto_apdu a;
	int rc;

	if (e->response)
		return -EINVAL;
	if ((rc = proto_apdu_decode(apdu, len, &a)) < 0)
		return rc;
	proto_tlv_put(e->b, PROTO_RCMD_TAG_CAPDU, apdu, len);
	return proto_buf_status(e->b);
}

int proto_rcmd_put_store_data_chain(struct proto_rcmd_enc *e, uint8_t p1, uint8_t first_block,
				    const uint8_t *data, size_t len)
{
	struct proto_gp_store_data_chain c;
	struct proto_apdu a;
	int rc, n = 0;

	if ((rc = proto_gp_store_data_chain_init(&c, p1, first_block, data, len, 0)) < 0)
		return rc;
	while (proto_gp_store_data_chain_next(&c, &a) > 0) {
		if ((rc = proto_rcmd_put_capdu(e, &a)) < 0)
			return rc;
		n++;
	}
	return n;
}

int proto_rcmd_put_tlvs(struct proto_rcmd_enc *e, const uint8_t *tlvs, size_t len)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int rc;

	if (len && !tlvs)
		return -EINVAL;
	/* top level only: 22 and 23 have the BER "constructed" bit set, but hold an APDU, not TLVs */
	proto_tlv_iter_init(&it, tlvs, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0)
		;
	if (rc < 0)
		return rc;
	if (len)
		proto_buf_put(e->b, tlvs, len);
	return proto_buf_status(e->b);
}

int proto_rcmd_put_chaining(struct proto_rcmd_enc *e, uint8_t v)
{
	if (e->response)
		return -EINVAL;
	proto_tlv_put(e->b, PROTO_RCMD_TAG_SCRIPT_CHAINING, &v, 1);
	return proto_buf_status(e->b);
}

int proto_rcmd_put_immediate_action(struct proto_rcmd_enc *e, const uint8_t *v, size_t len)
{
	if (len && !v)
		return -EINVAL;
	proto_tlv_put(e->b, PROTO_RCMD_TAG_IMMEDIATE_ACTION, v, len);
	return proto_buf_status(e->b);
}

int proto_rcmd_put_error_action(struct proto_rcmd_enc *e, const uint8_t *v, size_t len)
{
	if (e->response || (len && !v))
		return -EINVAL;
	proto_tlv_put(e->b, PROTO_RCMD_TAG_ERROR_ACTION, v, len);
	return proto_buf_status(e->b);
}

int proto_rcmd_put_n_executed(struct proto_rcmd_enc *e, uint8_t n)
{
	if (!e->response)
		return -EINVAL;
	proto_tlv_put(e->b, PROTO_RCMD_TAG_N_EXECUTED, &n, 1);
	return proto_buf_status(e->b);
}

int proto_rcmd_put_rapdu(struct proto_rcmd_enc *e, const uint8_t *data, size_t len, uint16_t sw)
{
	if (!e->response || (len && !data))
		return -EINVAL;
	proto_tlv_put_tag(e->b, PROTO_RCMD_TAG_RAPDU);
	proto_tlv_put_len(e->b, len + 2);
	return proto_apdu_rsp_encode(e->b, data, len, sw);
}

int proto_rcmd_put_bad_format(struct proto_rcmd_enc *e, uint8_t type)
{
	if (!e->response)
		return -EINVAL;
	proto_tlv_put(e->b, PROTO_RCMD_TAG_BAD_FORMAT, &type, 1);
	return proto_buf_status(e->b);
}

/*
 * Expanded format: decoders
 */

/* The template around the items: where the content is and how long the whole thing is. */
struct tmpl {
	bool indefinite;
	const uint8_t *content;
	size_t content_len;
	size_t raw_len;
};

typedef int (*item_fn)(void *ctx, const struct proto_tlv *t);

/* Decode the template (tag_def with a definite length or tag_indef with 80 ... 00 00), hand every item TLV to
 * item(), and require the template to fill the input exactly. */
static int tmpl_walk(const uint8_t *in, size_t len, uint32_t tag_def, uint32_t tag_indef, struct tmpl *tp,
		     item_fn item, void *ctx)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int rc;

	memset(tp, 0, sizeof(*tp));
	if ((rc = proto_tlv_decode(in, len, &t)) < 0)
		goto malformed;
	tp->content = t.val;
	if (t.tag == tag_def && !t.indefinite) {
		tp->content_len = t.len;
		tp->raw_len = (size_t)rc;		/* tag + length + value */
		proto_tlv_iter_init(&it, t.val, t.len);
	} else if (t.tag == tag_indef && t.indefinite) {
		tp->indefinite = true;
		proto_tlv_iter_init(&it, t.val, len - (size_t)rc);
		it.stop_at_eoc = true;
	} else {
		rc = -PROTO_E_MALFORMED;		/* other tag, or the wrong length form for this tag */
		goto malformed;
	}
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag == 0) {
			rc = -PROTO_E_MALFORMED;	/* 00 00 inside a definite template, or 00 xx */
			goto malformed;
		}
		if ((rc = item(ctx, &t)) < 0)
			goto malformed;
	}
	if (rc < 0)
		goto malformed;
	if (tp->indefinite) {
		if (!it.eoc) {
			rc = -PROTO_E_TRUNCATED;	/* ran out of input before 00 00 */
			goto malformed;
		}
		tp->content_len = (size_t)(it.eoc - tp->content);
		tp->raw_len = (size_t)(it.eoc + EOC_LEN - in);
	}
	if (tp->raw_len != len) {
		rc = -PROTO_E_TRAILING;
		goto malformed;
	}
	return 0;

malformed:
	memset(tp, 0, sizeof(*tp));
	return rc;
}

static int script_item(void *ctx, const struct proto_tlv *t)
{
	struct proto_rcmd_script *s = ctx;
	struct proto_apdu a;
	int rc;

	switch (t->tag) {
	case PROTO_RCMD_TAG_CAPDU:
		rc = proto_apdu_decode(t->val, t->len, &a);
		if (rc == -PROTO_E_UNSUPPORTED)
			return rc;
		if (rc < 0)
			return -PROTO_E_MALFORMED;
		s->n_capdus++;
		return 0;
	case PROTO_RCMD_TAG_SCRIPT_CHAINING:
		if (t->len != 1 || s->has_chaining)
			return -PROTO_E_MALFORMED;
		s->has_chaining = true;
		s->chaining = t->val[0];
		return 0;
	case PROTO_RCMD_TAG_IMMEDIATE_ACTION:
		if (!s->immediate_action) {
			s->immediate_action = t->val;
			s->immediate_action_len = t->len;
		}
		return 0;
	case PROTO_RCMD_TAG_ERROR_ACTION:
		if (!s->error_action) {
			s->error_action = t->val;
			s->error_action_len = t->len;
		}
		return 0;
	default:
		return -PROTO_E_UNSUPPORTED;
	}
}

int proto_rcmd_script_decode(const uint8_t *in, size_t len, struct proto_rcmd_script *s)
{
	struct tmpl tp;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = tmpl_walk(in, len, PROTO_RCMD_TAG_CMD_SCRIPT, PROTO_RCMD_TAG_CMD_SCRIPT_INDEF, &tp, script_item, s);
	if (rc < 0)
		goto malformed;
	s->indefinite = tp.indefinite;
	s->content = tp.content;
	s->content_len = tp.content_len;
	s->raw_len = tp.raw_len;
	return 0;

malformed:
	memset(s, 0, sizeof(*s));
	return rc;
}

static void iter_init(struct proto_rcmd_iter *it, const uint8_t *content, size_t len)
{
	it->p = content;
	it->end = content ? content + len : content;
}

void proto_rcmd_script_iter_init(struct proto_rcmd_iter *it, const struct proto_rcmd_script *s)
{
	iter_init(it, s->content, s->content_len);
}

/* next TLV with this tag, skipping the others */
static int iter_next(struct proto_rcmd_iter *it, uint32_t tag, struct proto_tlv *t)
{
	int rc;

	while (it->p < it->end) {
		if ((rc = proto_tlv_decode(it->p, (size_t)(it->end - it->p), t)) < 0 || t->indefinite) {
			it->p = it->end;
			return rc < 0 ? rc : -PROTO_E_UNSUPPORTED;
		}
		it->p += rc;
		if (t->tag == tag)
			return 1;
	}
	return 0;
}

int proto_rcmd_script_next(struct proto_rcmd_iter *it, struct proto_rcmd_capdu *c)
{
	struct proto_tlv t;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = iter_next(it, PROTO_RCMD_TAG_CAPDU, &t)) <= 0)
		return rc;
	if ((rc = proto_apdu_decode(t.val, t.len, &c->apdu)) < 0)
		return rc;
	c->raw = t.val;
	c->raw_len = t.len;
	return 1;
}

static int rsp_item(void *ctx, const struct proto_tlv *t)
{
	struct proto_rcmd_rsp *r = ctx;
	struct proto_rapdu ra;

	switch (t->tag) {
	case PROTO_RCMD_TAG_RAPDU:
		if (proto_apdu_rsp_decode(t->val, t->len, &ra) < 0)
			return -PROTO_E_MALFORMED;
		r->n_rapdus++;
		r->has_last_sw = true;
		r->last_sw = ra.sw;
		r->last_data = ra.data;
		r->last_data_len = ra.len;
		return 0;
	case PROTO_RCMD_TAG_N_EXECUTED:
		if (t->len != 1 || r->has_n_executed)
			return -PROTO_E_MALFORMED;
		r->has_n_executed = true;
		r->n_executed = t->val[0];
		return 0;
	case PROTO_RCMD_TAG_BAD_FORMAT:
		if (t->len != 1 || r->bad_format)
			return -PROTO_E_MALFORMED;
		r->bad_format = true;
		r->bad_format_type = t->val[0];
		return 0;
	case PROTO_RCMD_TAG_IMMEDIATE_ACTION:
		if (!r->immediate_action_rsp) {
			r->immediate_action_rsp = t->val;
			r->immediate_action_rsp_len = t->len;
		}
		return 0;
	default:
		return -PROTO_E_UNSUPPORTED;
	}
}

int proto_rcmd_rsp_decode(const uint8_t *in, size_t len, struct proto_rcmd_rsp *r)
{
	struct tmpl tp;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = tmpl_walk(in, len, PROTO_RCMD_TAG_RSP_SCRIPT, PROTO_RCMD_TAG_RSP_SCRIPT_INDEF, &tp, rsp_item, r);
	if (rc < 0)
		goto malformed;
	r->indefinite = tp.indefinite;
	r->content = tp.content;
	r->content_len = tp.content_len;
	r->raw_len = tp.raw_len;
	return 0;

malformed:
	memset(r, 0, sizeof(*r));
	return rc;
}

void proto_rcmd_rsp_iter_init(struct proto_rcmd_iter *it, const struct proto_rcmd_rsp *r)
{
	iter_init(it, r->content, r->content_len);
}

int proto_rcmd_rsp_next(struct proto_rcmd_iter *it, struct proto_rapdu *ra)
{
	struct proto_tlv t;
	int rc;

	memset(ra, 0, sizeof(*ra));
	if ((rc = iter_next(it, PROTO_RCMD_TAG_RAPDU, &t)) <= 0)
		return rc;
	return proto_apdu_rsp_decode(t.val, t.len, ra) < 0 ? -PROTO_E_MALFORMED : 1;
}
