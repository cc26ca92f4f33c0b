/* GlobalPlatform '7F21' certificates (GP Amd A, SGP.02; crypto.md §A.5): zero-copy decode, verify, encode. */
#include <errno.h>
#include <string.h>
#include "proto/bertlv.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"

/* Position of each known tag in the mandated order; a decoded field must come after every earlier one. */
enum field_rank {
	R_SERIAL, R_CA_ID, R_SUBJECT, R_KEY_USAGE, R_EFFECTIVE, R_EXPIRY, R_TAG45, R_DISCRETIONARY, R_PUBKEY,
	R_SIGNATURE, R_UNKNOWN,
};

static enum field_rank tag_rank(uint32_t tag)
{
	switch (tag) {
	case PROTO_GP_CERT_SERIAL:
		return R_SERIAL;
	case PROTO_GP_CERT_CA_ID:
		return R_CA_ID;
	case PROTO_GP_CERT_SUBJECT:
		return R_SUBJECT;
	case PROTO_GP_CERT_KEY_USAGE:
		return R_KEY_USAGE;
	case PROTO_GP_CERT_EFFECTIVE:
		return R_EFFECTIVE;
	case PROTO_GP_CERT_EXPIRY:
		return R_EXPIRY;
	case PROTO_GP_CERT_TAG_45:
		return R_TAG45;
	case PROTO_GP_CERT_DISCRETIONARY:
		return R_DISCRETIONARY;
	case PROTO_GP_CERT_PUBKEY:
		return R_PUBKEY;
	case PROTO_GP_CERT_SIGNATURE:
		return R_SIGNATURE;
	default:
		return R_UNKNOWN;
	}
}

/* BCD date YYYYMMDD (4 bytes) or YYMMDD (3 bytes, 20YY) to a decimal YYYYMMDD; 0 if not a plausible date. */
static uint32_t bcd_date(const uint8_t *p, size_t len)
{
	uint32_t v = 0, month, day;
	size_t i;

	if (len != 3 && len != 4)
		return 0;
	for (i = 0; i < len; i++) {
		if ((p[i] >> 4) > 9 || (p[i] & 0x0f) > 9)
			return 0;
		v = v * 100 + (p[i] >> 4) * 10 + (p[i] & 0x0f);
	}
	if (len == 3)
		v += 20000000;
	month = v / 100 % 100;
	day = v % 100;
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	return v;
}

static void set_field(struct proto_gp_field *f, const struct proto_tlv *t)
{
	f->p = t->val;
	f->len = t->len;
}

/* 7F49 { B0 point [F0 ref] }: nothing else, each once, in this order. */
static int decode_pubkey(struct proto_gp_cert *c, const struct proto_tlv *pk)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int rc, n = 0;

	proto_tlv_iter_init(&it, pk->val, pk->len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (n == 0 && t.tag == PROTO_GP_CERT_PUBKEY_Q && t.len > 0) {
			set_field(&c->pk, &t);
		} else if (n == 1 && t.tag == PROTO_GP_CERT_PUBKEY_REF && t.len == 1) {
			c->has_curve_ref = true;
			c->curve_ref = t.val[0];
		} else {
			return -PROTO_E_MALFORMED;
		}
		n++;
	}
	if (rc < 0)
		return rc;
	return c->pk.p ? 0 : -PROTO_E_MALFORMED;
}

int proto_gp_cert_decode(struct proto_gp_cert *c, const uint8_t *in, size_t len)
{
	struct proto_tlv outer, t;
	struct proto_tlv_iter it;
	enum field_rank last = R_SERIAL, r;
	bool first = true;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = proto_tlv_decode_exact(in, len, &outer);
	if (rc < 0)
		goto fail;
	if (outer.tag != PROTO_GP_CERT_TAG)
		goto malformed;

	proto_tlv_iter_init(&it, outer.val, outer.len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (c->signature.p) {
			/* nothing may follow the signature */
			rc = -PROTO_E_TRAILING;
			goto fail;
		}
		r = tag_rank(t.tag);
		if (first) {
			if (r != R_SERIAL)
				goto malformed;
			c->signed_data.p = t.raw;
			first = false;
		} else if (r != R_UNKNOWN && r <= last) {
			goto malformed;		/* duplicate or out of order */
		}
		if (r == R_UNKNOWN) {
			if (last >= R_PUBKEY)
				goto malformed;	/* only the signature may follow 7F49 */
			continue;
		}
		if (r == R_SIGNATURE && last != R_PUBKEY)
			goto malformed;		/* the signature must directly follow 7F49 */
		last = r;
		switch (r) {
		case R_SERIAL:
			set_field(&c->serial, &t);
			break;
		case R_CA_ID:
			set_field(&c->ca_id, &t);
			break;
		case R_SUBJECT:
			set_field(&c->subject, &t);
			break;
		case R_KEY_USAGE:
			if (t.len != 1 && t.len != 2)
				goto malformed;
			set_field(&c->key_usage, &t);
			break;
		case R_EFFECTIVE:
			c->effective_date = bcd_date(t.val, t.len);
			if (!c->effective_date)
				goto malformed;
			set_field(&c->effective, &t);
			break;
		case R_EXPIRY:
			c->expiry_date = bcd_date(t.val, t.len);
			if (!c->expiry_date)
				goto malformed;
			set_field(&c->expiry, &t);
			break;
		case R_TAG45:
			set_field(&c->tag45, &t);
			break;
		case R_DISCRETIONARY:
			set_field(&c->discretionary, &t);
			break;
		case R_PUBKEY:
			if (!t.constructed)
				goto malformed;
			rc = decode_pubkey(c, &t);
			if (rc < 0)
				goto fail;
			c->signed_data.len = (size_t)(t.raw + t.raw_len - c->signed_data.p);
			break;
		case R_SIGNATURE:
			if (t.len == 0 || t.len % 2 || t.len > 2 * 66)
				goto malformed;
			set_field(&c->signature, &t);
			break;
		default:
			goto malformed;
		}
	}
	if (rc < 0)
		goto fail;
	if (!c->serial.p || !c->ca_id.p || !c->subject.p || !c->key_usage.p || !c->expiry.p || !c->pk.p ||
	    !c->signature.p)
		goto malformed;
	if (!c->serial.len || !c->ca_id.len)
		goto malformed;
	return 0;

malformed:
	rc = -PROTO_E_MALFORMED;
fail:
	memset(c, 0, sizeof(*c));
	return rc;
}

int proto_gp_cert_verify(const struct proto_gp_cert *c, const struct proto_ec_pub *issuer)
{
	if (!c->signed_data.p || !c->signature.p)
		return -PROTO_E_MALFORMED;
	return proto_ec_verify(issuer, c->signed_data.p, c->signed_data.len, c->signature.p, c->signature.len);
}

int proto_gp_cert_pubkey(void *ctx, const struct proto_gp_cert *c, uint8_t default_ref, struct proto_ec_pub **out)
{
	*out = NULL;
	if (!c->pk.p)
		return -PROTO_E_MALFORMED;
	return proto_ec_pub_new(ctx, c->has_curve_ref ? c->curve_ref : default_ref, c->pk.p, c->pk.len, out);
}

static void put_field(struct proto_buf *b, uint32_t tag, const struct proto_gp_field *f)
{
	if (f->p)
		proto_tlv_put(b, tag, f->p, f->len);
}

int proto_gp_cert_put_signed_data(struct proto_buf *b, const struct proto_gp_cert *c)
{
	size_t mark;

	if (!c->serial.p || !c->ca_id.p || !c->subject.p || !c->key_usage.p || !c->expiry.p || !c->pk.p)
		return -EINVAL;
	put_field(b, PROTO_GP_CERT_SERIAL, &c->serial);
	put_field(b, PROTO_GP_CERT_CA_ID, &c->ca_id);
	put_field(b, PROTO_GP_CERT_SUBJECT, &c->subject);
	put_field(b, PROTO_GP_CERT_KEY_USAGE, &c->key_usage);
	put_field(b, PROTO_GP_CERT_EFFECTIVE, &c->effective);
	put_field(b, PROTO_GP_CERT_EXPIRY, &c->expiry);
	put_field(b, PROTO_GP_CERT_TAG_45, &c->tag45);
	put_field(b, PROTO_GP_CERT_DISCRETIONARY, &c->discretionary);
	mark = proto_tlv_open(b, PROTO_GP_CERT_PUBKEY);
	put_field(b, PROTO_GP_CERT_PUBKEY_Q, &c->pk);
	if (c->has_curve_ref)
		proto_tlv_put(b, PROTO_GP_CERT_PUBKEY_REF, &c->curve_ref, 1);
	proto_tlv_close(b, mark);
	return proto_buf_status(b);
}

int proto_gp_cert_encode(struct proto_buf *b, const struct proto_gp_cert *c)
{
	size_t mark;
	int rc;

	if (!c->signature.p)
		return -EINVAL;
	mark = proto_tlv_open(b, PROTO_GP_CERT_TAG);
	rc = proto_gp_cert_put_signed_data(b, c);
	if (rc < 0)
		return rc;
	put_field(b, PROTO_GP_CERT_SIGNATURE, &c->signature);
	proto_tlv_close(b, mark);
	return proto_buf_status(b);
}
