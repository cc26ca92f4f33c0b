/* EUICCResponse of the SAIP profile package format (PE_Definitions, AUTOMATIC TAGS): DER encode and decode. */
#include <errno.h>
#include <string.h>
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/saip_rsp.h"

/* Tags: SEQUENCE, and the context tags AUTOMATIC TAGS gives the components in order. */
enum {
	TAG_SEQUENCE = 0x30,
	TAG_PE_STATUS_LIST = 0xA0, /* EUICCResponse.peStatus [0], constructed */
	TAG_ABORTED = 0x81,	   /* EUICCResponse.profileInstallationAborted [1] NULL */
	TAG_MESSAGE = 0x82,	   /* EUICCResponse.statusMessage [2] UTF8String */
	TAG_STATUS = 0x80,	   /* PEStatus.status [0] */
	TAG_ID = 0x81,		   /* PEStatus.identification [1] */
	TAG_ADD_INFO = 0x82,	   /* PEStatus.additional-information [2] */
	TAG_OFFSET = 0x83,	   /* PEStatus.offset [3] */
};

const char *proto_saip_status_name(uint32_t status)
{
	switch (status) {
	case PROTO_SAIP_OK:
		return "ok";
	case PROTO_SAIP_PE_NOT_SUPPORTED:
		return "pe-not-supported";
	case PROTO_SAIP_MEMORY_FAILURE:
		return "memory-failure";
	case PROTO_SAIP_BAD_VALUES:
		return "bad-values";
	case PROTO_SAIP_NOT_ENOUGH_MEMORY:
		return "not-enough-memory";
	case PROTO_SAIP_INVALID_REQUEST_FORMAT:
		return "invalid-request-format";
	case PROTO_SAIP_INVALID_PARAMETER:
		return "invalid-parameter";
	case PROTO_SAIP_RUNTIME_NOT_SUPPORTED:
		return "runtime-not-supported";
	case PROTO_SAIP_LIB_NOT_SUPPORTED:
		return "lib-not-supported";
	case PROTO_SAIP_TEMPLATE_NOT_SUPPORTED:
		return "template-not-supported";
	case PROTO_SAIP_FEATURE_NOT_SUPPORTED:
		return "feature-not-supported";
	case PROTO_SAIP_PIN_CODE_MISSING:
		return "pin-code-missing";
	case PROTO_SAIP_UNSUPPORTED_PROFILE_VERSION:
		return "unsupported-profile-version";
	default:
		return "unknown";
	}
}

/* A non-negative INTEGER in minimal two's complement form (a leading 00 when the top bit would be set). */
static void put_uint(struct proto_buf *b, uint32_t tag, uint32_t v)
{
	uint8_t x[5] = {0, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	unsigned i = 0;

	while (i < 4 && x[i] == 0 && !(x[i + 1] & 0x80))
		i++;
	proto_tlv_put(b, tag, x + i, 5 - i);
}

/* Read a non-negative minimal INTEGER of at most max. */
static int get_uint(const struct proto_tlv *t, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (t->constructed || t->len < 1 || t->len > 5 || (t->val[0] & 0x80))
		return -PROTO_E_MALFORMED;
	if (t->len > 1 && t->val[0] == 0 && !(t->val[1] & 0x80))
		return -PROTO_E_MALFORMED; /* not minimal */
	for (i = 0; i < t->len; i++)
		x = x << 8 | t->val[i];
	if (x > max)
		return -PROTO_E_MALFORMED;
	*v = (uint32_t)x;
	return 0;
}

int proto_saip_euicc_rsp_encode(struct proto_buf *b, const struct proto_saip_euicc_rsp *r)
{
	size_t top, list;
	unsigned i;

	if (r->n_pe > PROTO_SAIP_RSP_MAX_PE ||
	    (r->msg && (r->msg_len < PROTO_SAIP_MSG_MIN || r->msg_len > PROTO_SAIP_MSG_MAX)))
		return -EINVAL;
	for (i = 0; i < r->n_pe; i++) {
		const struct proto_saip_pe_status *p = &r->pe[i];
		if (p->status > PROTO_SAIP_STATUS_MAX || (p->has_id && p->id > PROTO_SAIP_ID_MAX) ||
		    (p->has_offset && p->offset > PROTO_SAIP_OFFSET_MAX))
			return -EINVAL;
	}
	top = proto_tlv_open(b, TAG_SEQUENCE);
	list = proto_tlv_open(b, TAG_PE_STATUS_LIST);
	for (i = 0; i < r->n_pe; i++) {
		const struct proto_saip_pe_status *p = &r->pe[i];
		size_t m = proto_tlv_open(b, TAG_SEQUENCE);

		put_uint(b, TAG_STATUS, p->status);
		if (p->has_id)
			put_uint(b, TAG_ID, p->id);
		if (p->has_add_info)
			put_uint(b, TAG_ADD_INFO, p->add_info);
		if (p->has_offset)
			put_uint(b, TAG_OFFSET, p->offset);
		proto_tlv_close(b, m);
	}
	proto_tlv_close(b, list);
	if (r->aborted)
		proto_tlv_put(b, TAG_ABORTED, NULL, 0);
	if (r->msg)
		proto_tlv_put(b, TAG_MESSAGE, r->msg, r->msg_len);
	proto_tlv_close(b, top);
	return proto_buf_status(b);
}

/* One PEStatus SEQUENCE value: status, then the optional fields in order, then unknown extensions. */
static int decode_pe_status(struct proto_saip_pe_status *p, const uint8_t *in, size_t len)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	uint32_t v, last = 0;
	bool have_status = false;
	int rc;

	proto_tlv_iter_init(&it, in, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.indefinite)
			return -PROTO_E_MALFORMED;
		if (t.tag >= TAG_STATUS && t.tag <= TAG_OFFSET) {
			if (t.tag < last || (last && t.tag == last))
				return -PROTO_E_MALFORMED; /* out of order or repeated */
			last = t.tag;
		}
		switch (t.tag) {
		case TAG_STATUS:
			rc = get_uint(&t, PROTO_SAIP_STATUS_MAX, &p->status);
			have_status = true;
			break;
		case TAG_ID:
			rc = get_uint(&t, PROTO_SAIP_ID_MAX, &v);
			p->has_id = true;
			p->id = (uint16_t)v;
			break;
		case TAG_ADD_INFO:
			rc = get_uint(&t, 255, &v);
			p->has_add_info = true;
			p->add_info = (uint8_t)v;
			break;
		case TAG_OFFSET:
			rc = get_uint(&t, PROTO_SAIP_OFFSET_MAX, &p->offset);
			p->has_offset = true;
			break;
		default:
			if ((t.tag & 0xC0) != 0x80 || !last)
				return -PROTO_E_MALFORMED; /* only context-tagged extensions, after status */
			last = 0xFFFFFF;
			rc = 0;
			break;
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	return have_status ? 0 : -PROTO_E_MALFORMED;
}

int proto_saip_euicc_rsp_decode(struct proto_saip_euicc_rsp *r, const uint8_t *in, size_t len)
{
	struct proto_tlv top, t, pe;
	struct proto_tlv_iter it, it2;
	uint32_t last = 0;
	bool have_list = false;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = proto_tlv_decode_exact(in, len, &top);
	if (rc < 0)
		goto fail;
	if (top.tag != TAG_SEQUENCE)
		goto malformed;
	proto_tlv_iter_init(&it, top.val, top.len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.indefinite)
			goto malformed;
		if (t.tag == TAG_PE_STATUS_LIST || t.tag == TAG_ABORTED || t.tag == TAG_MESSAGE) {
			/* A0 < 81 < 82 in component order: compare the tag numbers */
			uint32_t num = t.tag & 0x1F;
			if ((have_list && num <= last) || (!have_list && t.tag != TAG_PE_STATUS_LIST))
				goto malformed;
			last = num;
		}
		switch (t.tag) {
		case TAG_PE_STATUS_LIST:
			have_list = true;
			proto_tlv_iter_init(&it2, t.val, t.len);
			while ((rc = proto_tlv_iter_next(&it2, &pe)) > 0) {
				if (pe.tag != TAG_SEQUENCE || pe.indefinite)
					goto malformed;
				if (r->n_pe == PROTO_SAIP_RSP_MAX_PE) {
					rc = -PROTO_E_UNSUPPORTED;
					goto fail;
				}
				rc = decode_pe_status(&r->pe[r->n_pe], pe.val, pe.len);
				if (rc < 0)
					goto fail;
				r->n_pe++;
			}
			if (rc < 0)
				goto fail;
			break;
		case TAG_ABORTED:
			if (t.len)
				goto malformed;
			r->aborted = true;
			break;
		case TAG_MESSAGE:
			if (t.len < PROTO_SAIP_MSG_MIN || t.len > PROTO_SAIP_MSG_MAX)
				goto malformed;
			r->msg = t.val;
			r->msg_len = t.len;
			break;
		default:
			if ((t.tag & 0xC0) != 0x80 || !have_list)
				goto malformed;
			last = 0x1F; /* an extension: nothing known may follow */
			break;
		}
	}
	if (rc < 0)
		goto fail;
	if (!have_list)
		goto malformed;
	return 0;

malformed:
	rc = -PROTO_E_MALFORMED;
fail:
	memset(r, 0, sizeof(*r));
	return rc;
}

const struct proto_saip_pe_status *proto_saip_euicc_rsp_first_error(const struct proto_saip_euicc_rsp *r)
{
	unsigned i;

	for (i = 0; i < r->n_pe; i++)
		if (r->pe[i].status != PROTO_SAIP_OK)
			return &r->pe[i];
	return NULL;
}

bool proto_saip_euicc_rsp_ok(const struct proto_saip_euicc_rsp *r)
{
	return !r->aborted && r->n_pe > 0 && !proto_saip_euicc_rsp_first_error(r);
}
