/* Binary encoding of struct smsr_eis for the LMDB store (format in eis_codec.h).
 *
 * Field numbers below are the on-disk format of SMSR_EIS_CODEC_V1: never renumber or reuse one. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "smsr/eis_codec.h"

/* Tag classes (first tag byte with the field number in b5..b1). */
#define K_PACK 0x80	/*!< context-specific primitive: packed text */
#define K_PRIM 0xC0	/*!< private primitive: raw bytes, text or integer */
#define K_CONS 0xE0	/*!< private constructed: nested structure */
#define K_MASK 0xE0
#define F_MASK 0x1F

/* struct smsr_eis */
enum eis_field {
	EF_EID = 1,
	EF_EUM_ID = 2,
	EF_PRODUCTION_DATE = 3,
	EF_PLATFORM_TYPE = 4,
	EF_PLATFORM_VERSION = 5,
	EF_LOADFILE_AID = 6,
	EF_MODULE_AID = 7,
	EF_ECASD = 8,			/* constructed: struct smsr_sd */
	EF_CATTP_SUPPORT = 9,		/* flag */
	EF_CATTP_VERSION = 10,
	EF_HTTP_SUPPORT = 11,		/* flag */
	EF_HTTP_VERSION = 12,
	EF_SECURE_PACKET_VERSION = 13,
	EF_RPS_VERSION = 14,
	EF_SIGNED_INFO_XML = 15,
	EF_SIGNATURE_XML = 16,
	EF_REMAINING_MEMORY = 17,
	EF_AVAILABLE_MEMORY = 18,
	EF_LAST_AUDIT_DATE = 19,
	EF_SMSR_ID = 20,
	EF_PROFILE = 21,		/* constructed, repeated: struct smsr_profile */
	EF_ISDR = 22,			/* constructed: struct smsr_sd */
	EF_AUDIT = 23,			/* constructed, repeated: struct smsr_audit_record */
	EF_PROPERTY = 24,		/* constructed, repeated: struct smsr_property */
	EF_ISDR_MSISDN = 25,
	EF_LAST_NOTIF_SEQ = 26,		/* present iff has_notif_seq */
	EF_IMEI = 27,
	EF_LAST_ATTACH = 28,
	EF_HANDOVER_PENDING = 29,	/* flag */
};

/* struct smsr_sd */
enum sd_field {
	SF_AID = 1,
	SF_TARS = 2,			/* n_tars x 3 bytes */
	SF_SIN = 3,
	SF_SDIN = 4,
	SF_ROLE = 5,
	SF_KEYSET = 6,			/* constructed, repeated */
};

/* struct smsr_keyset */
enum keyset_field {
	KSF_VERSION = 1,
	KSF_TYPE = 2,
	KSF_CNTR = 3,
	KSF_KEY = 4,			/* constructed, repeated */
	KSF_CERT = 5,			/* constructed, repeated */
};

/* struct smsr_key */
enum key_field {
	KF_INDEX = 1,
	KF_KCV = 2,
	KF_COMP = 3,			/* primitive, repeated: type byte || wrapped blob */
};

/* struct smsr_certificate */
enum cert_field {
	CF_INDEX = 1,
	CF_CA_ID = 2,
	CF_VALUE = 3,
};

/* struct smsr_profile */
enum profile_field {
	PF_ICCID = 1,
	PF_ISDP_AID = 2,
	PF_MNO_ID = 3,
	PF_FALLBACK = 4,		/* flag */
	PF_IMSI = 5,
	PF_MSISDN = 6,
	PF_STATE = 7,
	PF_SMDP_ID = 8,
	PF_PROFILE_TYPE = 9,
	PF_ALLOCATED_MEMORY = 10,
	PF_FREE_MEMORY = 11,		/* present iff has_free_memory */
	PF_POL2 = 12,			/* one byte per rule: action << 4 | qualification */
};

/* struct smsr_audit_record */
enum audit_field {
	AF_OPERATION_DATE = 1,
	AF_OPERATION_TYPE = 2,
	AF_REQUESTER_ID = 3,
	AF_STATUS = 4,			/* present iff status >= 0 */
	AF_ISDP_AID = 5,
	AF_ICCID = 6,
	AF_IMEI = 7,
	AF_MEID = 8,
};

/* struct smsr_property */
enum property_field {
	RF_KEY = 1,
	RF_VALUE = 2,
};

/* Packed-text alphabet: nibble value -> character; 0xF pads an odd last nibble. */
static const char pack_chars[15] = { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.', '-', ':', 'T', 'Z' };

/* character -> nibble + 1 (0 = not packable) */
static const uint8_t pack_nibble[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9,
	['9'] = 10, ['.'] = 11, ['-'] = 12, [':'] = 13, ['T'] = 14, ['Z'] = 15,
};

/*
 * Encoder. Every put is bounded by struct proto_buf; invariants are checked first and give -EINVAL.
 */

static void put_raw(struct proto_buf *b, unsigned f, const void *p, size_t len)
{
	proto_tlv_put(b, K_PRIM | f, p, len);
}

static void put_uint(struct proto_buf *b, unsigned f, uint64_t v)
{
	uint8_t tmp[8];
	unsigned n = 0;

	while (n < 8 && v >> (8 * n))
		n++;
	for (unsigned i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put_raw(b, f, tmp, n);
}

/* unsigned integer written only when not zero */
static void put_uint_nz(struct proto_buf *b, unsigned f, uint64_t v)
{
	if (v)
		put_uint(b, f, v);
}

static void put_flag(struct proto_buf *b, unsigned f, bool v)
{
	if (v)
		put_raw(b, f, NULL, 0);
}

static void put_text_len(struct proto_buf *b, unsigned f, const char *s, size_t len)
{
	size_t i, plen = (len + 1) / 2;
	uint8_t *d;

	for (i = 0; i < len; i++) {
		if (!pack_nibble[(uint8_t)s[i]])
			break;
	}
	if (i < len || !len) {
		put_raw(b, f, s, len);
		return;
	}
	proto_tlv_put_tag(b, K_PACK | f);
	proto_tlv_put_len(b, plen);
	d = proto_buf_reserve(b, plen);
	if (!d)
		return;
	for (i = 0; i + 1 < len; i += 2)
		*d++ = (uint8_t)((pack_nibble[(uint8_t)s[i]] - 1) << 4 | (pack_nibble[(uint8_t)s[i + 1]] - 1));
	if (len & 1)
		*d = (uint8_t)((pack_nibble[(uint8_t)s[len - 1]] - 1) << 4 | 0x0f);
}

/* optional text: NULL is absent */
static void put_text(struct proto_buf *b, unsigned f, const char *s)
{
	if (s)
		put_text_len(b, f, s, strlen(s));
}

/* fixed char array: "" is absent; -EINVAL if not NUL-terminated within cap */
static int put_fixstr(struct proto_buf *b, unsigned f, const char *s, size_t cap)
{
	size_t len = strnlen(s, cap);

	if (len == cap)
		return -EINVAL;
	if (len)
		put_text_len(b, f, s, len);
	return 0;
}

/* byte array with a length field: len 0 is absent */
static int put_bytes(struct proto_buf *b, unsigned f, const uint8_t *p, size_t len, size_t cap)
{
	if (len > cap)
		return -EINVAL;
	if (len)
		put_raw(b, f, p, len);
	return 0;
}

/* AIDs under the SGP.02 prefix (RID A000000559, PIX 1010FFFFFFFF89...: ISD-R, ECASD, ISD-P, executable load
 * file and module) are written as their last 4 bytes in the K_PACK class. */
static const uint8_t sgp02_aid_prefix[12] = { 0xa0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xff, 0xff, 0xff, 0xff, 0x89 };

static int put_aid(struct proto_buf *b, unsigned f, const struct smsr_aid *a)
{
	if (a->len == SMSR_AID_MAX && !memcmp(a->b, sgp02_aid_prefix, sizeof(sgp02_aid_prefix))) {
		proto_tlv_put(b, K_PACK | f, a->b + sizeof(sgp02_aid_prefix), SMSR_AID_MAX - sizeof(sgp02_aid_prefix));
		return 0;
	}
	return put_bytes(b, f, a->b, a->len, SMSR_AID_MAX);
}

static int enc_keyset(struct proto_buf *b, const struct smsr_keyset *ks)
{
	unsigned i, j;
	size_t m, mk;

	if ((unsigned)ks->type > SMSR_KEYSET_CA || (ks->n_keys && !ks->keys) || (ks->n_certs && !ks->certs))
		return -EINVAL;
	put_uint_nz(b, KSF_VERSION, ks->version);
	put_uint_nz(b, KSF_TYPE, ks->type);
	put_uint_nz(b, KSF_CNTR, ks->cntr);
	for (i = 0; i < ks->n_keys; i++) {
		const struct smsr_key *k = &ks->keys[i];

		if (k->n_comp && !k->comp)
			return -EINVAL;
		mk = proto_tlv_open(b, K_CONS | KSF_KEY);
		put_uint_nz(b, KF_INDEX, k->index);
		if (put_bytes(b, KF_KCV, k->kcv, k->kcv_len, sizeof(k->kcv)) < 0)
			return -EINVAL;
		for (j = 0; j < k->n_comp; j++) {
			const struct smsr_key_component *c = &k->comp[j];

			if (c->wrapped_len && !c->wrapped)
				return -EINVAL;
			proto_tlv_put_tag(b, K_PRIM | KF_COMP);
			proto_tlv_put_len(b, 1 + c->wrapped_len);
			proto_buf_put_u8(b, c->type);
			proto_buf_put(b, c->wrapped, c->wrapped_len);
		}
		proto_tlv_close(b, mk);
	}
	for (i = 0; i < ks->n_certs; i++) {
		const struct smsr_certificate *c = &ks->certs[i];

		if (c->len && !c->value)
			return -EINVAL;
		m = proto_tlv_open(b, K_CONS | KSF_CERT);
		put_uint_nz(b, CF_INDEX, c->index);
		put_text(b, CF_CA_ID, c->ca_id);
		if (c->len)
			put_raw(b, CF_VALUE, c->value, c->len);
		proto_tlv_close(b, m);
	}
	return 0;
}

static int enc_sd(struct proto_buf *b, unsigned f, const struct smsr_sd *sd)
{
	size_t m = proto_tlv_open(b, K_CONS | f);
	unsigned i;
	int rc;

	if ((unsigned)sd->role > SMSR_SD_ECASD || (sd->n_tars && !sd->tars) || (sd->n_keysets && !sd->keysets))
		return -EINVAL;
	if ((rc = put_aid(b, SF_AID, &sd->aid)) < 0)
		return rc;
	if (sd->n_tars)
		put_raw(b, SF_TARS, sd->tars, 3 * (size_t)sd->n_tars);
	if ((rc = put_bytes(b, SF_SIN, sd->sin, sd->sin_len, SMSR_SIN_MAX)) < 0 ||
	    (rc = put_bytes(b, SF_SDIN, sd->sdin, sd->sdin_len, SMSR_SIN_MAX)) < 0)
		return rc;
	put_uint_nz(b, SF_ROLE, sd->role);
	for (i = 0; i < sd->n_keysets; i++) {
		size_t mk = proto_tlv_open(b, K_CONS | SF_KEYSET);

		if ((rc = enc_keyset(b, &sd->keysets[i])) < 0)
			return rc;
		proto_tlv_close(b, mk);
	}
	proto_tlv_close(b, m);
	return 0;
}

static int enc_profile(struct proto_buf *b, const struct smsr_profile *p)
{
	size_t m = proto_tlv_open(b, K_CONS | EF_PROFILE);
	uint8_t *d;
	unsigned i;

	if ((unsigned)p->state > SMSR_PROFILE_ENABLED || (p->n_pol2 && !p->pol2))
		return -EINVAL;
	if (put_fixstr(b, PF_ICCID, p->iccid, sizeof(p->iccid)) < 0 || put_aid(b, PF_ISDP_AID, &p->isdp_aid) < 0)
		return -EINVAL;
	put_text(b, PF_MNO_ID, p->mno_id);
	put_flag(b, PF_FALLBACK, p->fallback);
	if (put_fixstr(b, PF_IMSI, p->imsi, sizeof(p->imsi)) < 0 ||
	    put_fixstr(b, PF_MSISDN, p->msisdn, sizeof(p->msisdn)) < 0)
		return -EINVAL;
	put_uint_nz(b, PF_STATE, p->state);
	put_text(b, PF_SMDP_ID, p->smdp_id);
	put_text(b, PF_PROFILE_TYPE, p->profile_type);
	put_uint_nz(b, PF_ALLOCATED_MEMORY, p->allocated_memory);
	if (p->has_free_memory)
		put_uint(b, PF_FREE_MEMORY, p->free_memory);
	if (p->n_pol2) {
		proto_tlv_put_tag(b, K_PRIM | PF_POL2);
		proto_tlv_put_len(b, p->n_pol2);
		d = proto_buf_reserve(b, p->n_pol2);
		for (i = 0; i < p->n_pol2; i++) {
			if ((unsigned)p->pol2[i].action > SMSR_POL2_DELETE ||
			    (unsigned)p->pol2[i].qualification > SMSR_POL2_AUTO_DELETE)
				return -EINVAL;
			if (d)
				d[i] = (uint8_t)(p->pol2[i].action << 4 | p->pol2[i].qualification);
		}
	}
	proto_tlv_close(b, m);
	return 0;
}

static int enc_audit(struct proto_buf *b, const struct smsr_audit_record *r)
{
	size_t m = proto_tlv_open(b, K_CONS | EF_AUDIT);

	if (r->status < -1 || r->status > SMSR_EXEC_EXPIRED)
		return -EINVAL;
	put_text(b, AF_OPERATION_DATE, r->operation_date);
	put_uint_nz(b, AF_OPERATION_TYPE, r->operation_type);
	put_text(b, AF_REQUESTER_ID, r->requester_id);
	if (r->status >= 0)
		put_uint(b, AF_STATUS, (uint64_t)r->status);
	if (put_aid(b, AF_ISDP_AID, &r->isdp_aid) < 0 || put_fixstr(b, AF_ICCID, r->iccid, sizeof(r->iccid)) < 0 ||
	    put_bytes(b, AF_IMEI, r->imei, r->imei_len, sizeof(r->imei)) < 0 ||
	    put_bytes(b, AF_MEID, r->meid, r->meid_len, sizeof(r->meid)) < 0)
		return -EINVAL;
	proto_tlv_close(b, m);
	return 0;
}

static int encode(const struct smsr_eis *e, struct proto_buf *b, bool with_eid)
{
	unsigned i;
	size_t m;
	int rc;

	if ((e->n_profiles && !e->profiles) || (e->n_audit && !e->audit) || (e->n_props && !e->props))
		return -EINVAL;
	proto_buf_put_u8(b, SMSR_EIS_CODEC_V1);
	if (with_eid)
		put_raw(b, EF_EID, e->eid, SMSR_EID_LEN);
	put_text(b, EF_EUM_ID, e->eum_id);
	put_text(b, EF_PRODUCTION_DATE, e->production_date);
	put_text(b, EF_PLATFORM_TYPE, e->platform_type);
	put_text(b, EF_PLATFORM_VERSION, e->platform_version);
	if ((rc = put_aid(b, EF_LOADFILE_AID, &e->isdp_loadfile_aid)) < 0 ||
	    (rc = put_aid(b, EF_MODULE_AID, &e->isdp_module_aid)) < 0 || (rc = enc_sd(b, EF_ECASD, &e->ecasd)) < 0)
		return rc;
	put_flag(b, EF_CATTP_SUPPORT, e->cattp_support);
	put_text(b, EF_CATTP_VERSION, e->cattp_version);
	put_flag(b, EF_HTTP_SUPPORT, e->http_support);
	put_text(b, EF_HTTP_VERSION, e->http_version);
	put_text(b, EF_SECURE_PACKET_VERSION, e->secure_packet_version);
	put_text(b, EF_RPS_VERSION, e->remote_provisioning_version);
	put_text(b, EF_SIGNED_INFO_XML, e->signed_info_xml);
	put_text(b, EF_SIGNATURE_XML, e->signature_xml);
	put_uint_nz(b, EF_REMAINING_MEMORY, e->remaining_memory);
	put_uint_nz(b, EF_AVAILABLE_MEMORY, e->available_memory);
	put_text(b, EF_LAST_AUDIT_DATE, e->last_audit_date);
	put_text(b, EF_SMSR_ID, e->smsr_id);
	for (i = 0; i < e->n_profiles; i++) {
		if ((rc = enc_profile(b, &e->profiles[i])) < 0)
			return rc;
	}
	if ((rc = enc_sd(b, EF_ISDR, &e->isdr)) < 0)
		return rc;
	for (i = 0; i < e->n_audit; i++) {
		if ((rc = enc_audit(b, &e->audit[i])) < 0)
			return rc;
	}
	for (i = 0; i < e->n_props; i++) {
		m = proto_tlv_open(b, K_CONS | EF_PROPERTY);
		put_text(b, RF_KEY, e->props[i].key);
		put_text(b, RF_VALUE, e->props[i].value);
		proto_tlv_close(b, m);
	}
	if ((rc = put_fixstr(b, EF_ISDR_MSISDN, e->isdr_msisdn, sizeof(e->isdr_msisdn))) < 0)
		return rc;
	if (e->has_notif_seq)
		put_uint(b, EF_LAST_NOTIF_SEQ, e->last_notif_seq);
	if ((rc = put_bytes(b, EF_IMEI, e->imei, e->imei_len, sizeof(e->imei))) < 0)
		return rc;
	put_text(b, EF_LAST_ATTACH, e->last_attach);
	put_flag(b, EF_HANDOVER_PENDING, e->handover_pending);
	if (b->len > SMSR_EIS_CODEC_MAX_LEN)
		return -PROTO_E_NOSPACE;
	return proto_buf_status(b);
}

int smsr_eis_encode(const struct smsr_eis *e, struct proto_buf *b)
{
	return encode(e, b, true);
}

int smsr_eis_encode_record(const struct smsr_eis *e, struct proto_buf *b)
{
	return encode(e, b, false);
}

int smsr_eis_encode_alloc(void *ctx, const struct smsr_eis *e, uint8_t **out, size_t *out_len)
{
	size_t cap = 2048;
	struct proto_buf b;
	uint8_t *mem;
	int rc;

	*out = NULL;
	*out_len = 0;
	for (;;) {
		mem = talloc_size(ctx, cap);
		if (!mem)
			return -ENOMEM;
		proto_buf_init(&b, mem, cap);
		rc = smsr_eis_encode(e, &b);
		if (rc == 0)
			break;
		talloc_free(mem);
		if (rc != -PROTO_E_NOSPACE || cap >= SMSR_EIS_CODEC_MAX_LEN + 16)
			return rc;
		cap *= 2;
		if (cap > SMSR_EIS_CODEC_MAX_LEN + 16)
			cap = SMSR_EIS_CODEC_MAX_LEN + 16;
	}
	*out = talloc_realloc_size(ctx, mem, b.len ? b.len : 1) ?: mem;
	*out_len = b.len;
	return 0;
}

/*
 * Decoder. Each container is walked once to count its repeated fields (so arrays are allocated at their final
 * size) and once to fill the structure. Every value is checked against its C field before it is copied.
 */

struct field {
	unsigned f;		/* field number 1..30 */
	unsigned k;		/* K_PRIM, K_PACK or K_CONS */
	const uint8_t *v;
	size_t len;
};

/* Next field of a container: 1 and fl filled, 0 at the end, < 0 on malformed input. */
static int next_field(struct proto_tlv_iter *it, struct field *fl)
{
	struct proto_tlv t;
	int rc = proto_tlv_iter_next(it, &t);

	if (rc <= 0)
		return rc;
	if (t.tag_len != 1)
		return -PROTO_E_MALFORMED;
	fl->f = t.tag & F_MASK;
	fl->k = t.tag & K_MASK;
	if (!fl->f || (fl->k != K_PRIM && fl->k != K_PACK && fl->k != K_CONS))
		return -PROTO_E_MALFORMED;
	fl->v = t.val;
	fl->len = t.len;
	return 1;
}

/* Count the occurrences of each field number in a container (validates the TLV framing at this level). */
static int count_fields(const uint8_t *p, size_t len, unsigned cnt[32])
{
	struct proto_tlv_iter it;
	struct field fl;
	int rc;

	memset(cnt, 0, 32 * sizeof(cnt[0]));
	proto_tlv_iter_init(&it, p, len);
	while ((rc = next_field(&it, &fl)) > 0)
		cnt[fl.f]++;
	return rc;
}

/* A singular field seen for the second time is malformed. */
static bool once(uint32_t *seen, unsigned f)
{
	if (*seen & (1u << f))
		return false;
	*seen |= 1u << f;
	return true;
}

/* Length of the text a K_PRIM / K_PACK field decodes to, or -1 if malformed. */
static long text_len(const struct field *fl)
{
	if (fl->k == K_PRIM) {
		if (fl->len && memchr(fl->v, 0, fl->len))
			return -1;
		return (long)fl->len;
	}
	if (fl->k != K_PACK)
		return -1;
	if (!fl->len)
		return 0;
	return (long)(2 * fl->len - ((fl->v[fl->len - 1] & 0x0f) == 0x0f));
}

/* Write the text of a field (n = text_len() characters) and a NUL. -1 if a pad nibble is misplaced. */
static int text_copy(const struct field *fl, char *out, size_t n)
{
	size_t i;

	if (fl->k == K_PRIM) {
		if (n)
			memcpy(out, fl->v, n);
		out[n] = '\0';
		return 0;
	}
	for (i = 0; i < fl->len; i++) {
		uint8_t hi = fl->v[i] >> 4, lo = fl->v[i] & 0x0f;

		if (hi == 0x0f || (lo == 0x0f && i + 1 != fl->len))
			return -1;
		out[2 * i] = pack_chars[hi];
		if (lo != 0x0f)
			out[2 * i + 1] = pack_chars[lo];
	}
	out[n] = '\0';
	return 0;
}

static int dec_text(void *ctx, const struct field *fl, char **out)
{
	long n = text_len(fl);
	char *s;

	if (n < 0)
		return -PROTO_E_MALFORMED;
	s = talloc_array(ctx, char, (size_t)n + 1);
	if (!s)
		return -ENOMEM;
	if (text_copy(fl, s, (size_t)n) < 0)
		return -PROTO_E_MALFORMED;
	*out = s;
	return 0;
}

/* into a fixed char array of cap bytes (NUL included); an empty value is malformed (absent is the encoding) */
static int dec_fixstr(const struct field *fl, char *out, size_t cap)
{
	long n = text_len(fl);

	if (n <= 0 || (size_t)n >= cap || text_copy(fl, out, (size_t)n) < 0)
		return -PROTO_E_MALFORMED;
	return 0;
}

static int dec_uint(const struct field *fl, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (fl->k != K_PRIM || fl->len > 8 || (fl->len && !fl->v[0]))
		return -PROTO_E_MALFORMED;
	for (i = 0; i < fl->len; i++)
		v = v << 8 | fl->v[i];
	if (v > max)
		return -PROTO_E_MALFORMED;
	*out = v;
	return 0;
}

/* uint into a narrow field (enum, uint8_t, uint16_t) through a temporary */
#define DEC_UINT(fl, max, lval) ({                      \
	uint64_t _v = 0;                                \
	int _rc = dec_uint((fl), (max), &_v);           \
	if (_rc == 0)                                   \
		(lval) = (__typeof__(lval))_v;          \
	_rc; })

static int dec_flag(const struct field *fl, bool *out)
{
	if (fl->k != K_PRIM || fl->len)
		return -PROTO_E_MALFORMED;
	*out = true;
	return 0;
}

/* non-empty byte string of at most cap bytes into a fixed array */
static int dec_bytes(const struct field *fl, uint8_t *out, size_t cap, uint8_t *len_out)
{
	if (fl->k != K_PRIM || !fl->len || fl->len > cap)
		return -PROTO_E_MALFORMED;
	memcpy(out, fl->v, fl->len);
	*len_out = (uint8_t)fl->len;
	return 0;
}

static int dec_aid(const struct field *fl, struct smsr_aid *a)
{
	if (fl->k == K_PACK) {
		if (fl->len != SMSR_AID_MAX - sizeof(sgp02_aid_prefix))
			return -PROTO_E_MALFORMED;
		memcpy(a->b, sgp02_aid_prefix, sizeof(sgp02_aid_prefix));
		memcpy(a->b + sizeof(sgp02_aid_prefix), fl->v, fl->len);
		a->len = SMSR_AID_MAX;
		return 0;
	}
	return dec_bytes(fl, a->b, SMSR_AID_MAX, &a->len);
}

/* non-empty byte string into a talloc copy */
static int dec_blob(void *ctx, const struct field *fl, uint8_t **out, size_t *len_out)
{
	if (fl->k != K_PRIM || !fl->len)
		return -PROTO_E_MALFORMED;
	*out = talloc_memdup(ctx, fl->v, fl->len);
	if (!*out)
		return -ENOMEM;
	*len_out = fl->len;
	return 0;
}

static int dec_key(void *ctx, const struct field *in, struct smsr_key *k)
{
	struct proto_tlv_iter it;
	struct field fl;
	unsigned cnt[32], nc = 0;
	uint32_t seen = 0;
	int rc;

	if (in->k != K_CONS)
		return -PROTO_E_MALFORMED;
	if ((rc = count_fields(in->v, in->len, cnt)) < 0)
		return rc;
	if (cnt[KF_COMP]) {
		k->comp = talloc_zero_array(ctx, struct smsr_key_component, cnt[KF_COMP]);
		if (!k->comp)
			return -ENOMEM;
	}
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (fl.f != KF_COMP && !once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case KF_INDEX:
			rc = DEC_UINT(&fl, UINT8_MAX, k->index);
			break;
		case KF_KCV:
			rc = dec_bytes(&fl, k->kcv, sizeof(k->kcv), &k->kcv_len);
			break;
		case KF_COMP:
			if (fl.k != K_PRIM || !fl.len)
				goto malformed;
			k->comp[nc].type = fl.v[0];
			if (fl.len > 1) {
				k->comp[nc].wrapped = talloc_memdup(ctx, fl.v + 1, fl.len - 1);
				if (!k->comp[nc].wrapped)
					return -ENOMEM;
				k->comp[nc].wrapped_len = fl.len - 1;
			}
			nc++;
			rc = 0;
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	k->n_comp = nc;
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_cert(void *ctx, const struct field *in, struct smsr_certificate *c)
{
	struct proto_tlv_iter it;
	struct field fl;
	uint32_t seen = 0;
	int rc;

	if (in->k != K_CONS)
		goto malformed;
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (!once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case CF_INDEX:
			rc = DEC_UINT(&fl, UINT8_MAX, c->index);
			break;
		case CF_CA_ID:
			rc = dec_text(ctx, &fl, &c->ca_id);
			break;
		case CF_VALUE:
			rc = dec_blob(ctx, &fl, &c->value, &c->len);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_keyset(void *ctx, const struct field *in, struct smsr_keyset *ks)
{
	struct proto_tlv_iter it;
	struct field fl;
	unsigned cnt[32], nk = 0, nc = 0;
	uint32_t seen = 0;
	int rc;

	if (in->k != K_CONS)
		goto malformed;
	if ((rc = count_fields(in->v, in->len, cnt)) < 0)
		return rc;
	if (cnt[KSF_KEY] && !(ks->keys = talloc_zero_array(ctx, struct smsr_key, cnt[KSF_KEY])))
		return -ENOMEM;
	if (cnt[KSF_CERT] && !(ks->certs = talloc_zero_array(ctx, struct smsr_certificate, cnt[KSF_CERT])))
		return -ENOMEM;
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (fl.f != KSF_KEY && fl.f != KSF_CERT && !once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case KSF_VERSION:
			rc = DEC_UINT(&fl, UINT8_MAX, ks->version);
			break;
		case KSF_TYPE:
			rc = DEC_UINT(&fl, SMSR_KEYSET_CA, ks->type);
			break;
		case KSF_CNTR:
			rc = dec_uint(&fl, UINT64_MAX, &ks->cntr);
			break;
		case KSF_KEY:
			rc = dec_key(ctx, &fl, &ks->keys[nk++]);
			break;
		case KSF_CERT:
			rc = dec_cert(ctx, &fl, &ks->certs[nc++]);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	ks->n_keys = nk;
	ks->n_certs = nc;
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_sd(void *ctx, const struct field *in, struct smsr_sd *sd)
{
	struct proto_tlv_iter it;
	struct field fl;
	unsigned cnt[32], nk = 0;
	uint32_t seen = 0;
	int rc;

	if (in->k != K_CONS)
		goto malformed;
	if ((rc = count_fields(in->v, in->len, cnt)) < 0)
		return rc;
	if (cnt[SF_KEYSET] && !(sd->keysets = talloc_zero_array(ctx, struct smsr_keyset, cnt[SF_KEYSET])))
		return -ENOMEM;
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (fl.f != SF_KEYSET && !once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case SF_AID:
			rc = dec_aid(&fl, &sd->aid);
			break;
		case SF_TARS:
			if (fl.k != K_PRIM || !fl.len || fl.len % 3)
				goto malformed;
			sd->tars = talloc_memdup(ctx, fl.v, fl.len);
			if (!sd->tars)
				return -ENOMEM;
			talloc_set_name_const(sd->tars, "uint8_t[3]");
			sd->n_tars = (unsigned)(fl.len / 3);
			break;
		case SF_SIN:
			rc = dec_bytes(&fl, sd->sin, SMSR_SIN_MAX, &sd->sin_len);
			break;
		case SF_SDIN:
			rc = dec_bytes(&fl, sd->sdin, SMSR_SIN_MAX, &sd->sdin_len);
			break;
		case SF_ROLE:
			rc = DEC_UINT(&fl, SMSR_SD_ECASD, sd->role);
			break;
		case SF_KEYSET:
			rc = dec_keyset(ctx, &fl, &sd->keysets[nk++]);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	sd->n_keysets = nk;
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_profile(void *ctx, const struct field *in, struct smsr_profile *p)
{
	struct proto_tlv_iter it;
	struct field fl;
	uint32_t seen = 0;
	size_t i;
	int rc;

	if (in->k != K_CONS)
		goto malformed;
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (!once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case PF_ICCID:
			rc = dec_fixstr(&fl, p->iccid, sizeof(p->iccid));
			break;
		case PF_ISDP_AID:
			rc = dec_aid(&fl, &p->isdp_aid);
			break;
		case PF_MNO_ID:
			rc = dec_text(ctx, &fl, &p->mno_id);
			break;
		case PF_FALLBACK:
			rc = dec_flag(&fl, &p->fallback);
			break;
		case PF_IMSI:
			rc = dec_fixstr(&fl, p->imsi, sizeof(p->imsi));
			break;
		case PF_MSISDN:
			rc = dec_fixstr(&fl, p->msisdn, sizeof(p->msisdn));
			break;
		case PF_STATE:
			rc = DEC_UINT(&fl, SMSR_PROFILE_ENABLED, p->state);
			break;
		case PF_SMDP_ID:
			rc = dec_text(ctx, &fl, &p->smdp_id);
			break;
		case PF_PROFILE_TYPE:
			rc = dec_text(ctx, &fl, &p->profile_type);
			break;
		case PF_ALLOCATED_MEMORY:
			rc = dec_uint(&fl, UINT64_MAX, &p->allocated_memory);
			break;
		case PF_FREE_MEMORY:
			rc = dec_uint(&fl, UINT64_MAX, &p->free_memory);
			p->has_free_memory = true;
			break;
		case PF_POL2:
			if (fl.k != K_PRIM || !fl.len)
				goto malformed;
			p->pol2 = talloc_array(ctx, struct smsr_pol2_rule, fl.len);
			if (!p->pol2)
				return -ENOMEM;
			for (i = 0; i < fl.len; i++) {
				uint8_t a = fl.v[i] >> 4, q = fl.v[i] & 0x0f;

				if (a > SMSR_POL2_DELETE || q > SMSR_POL2_AUTO_DELETE)
					goto malformed;
				p->pol2[i].action = (enum smsr_pol2_action)a;
				p->pol2[i].qualification = (enum smsr_pol2_qual)q;
			}
			p->n_pol2 = (unsigned)fl.len;
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_audit(void *ctx, const struct field *in, struct smsr_audit_record *r)
{
	struct proto_tlv_iter it;
	struct field fl;
	uint32_t seen = 0;
	int rc;

	if (in->k != K_CONS)
		goto malformed;
	r->status = -1;
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (!once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case AF_OPERATION_DATE:
			rc = dec_text(ctx, &fl, &r->operation_date);
			break;
		case AF_OPERATION_TYPE:
			rc = DEC_UINT(&fl, UINT16_MAX, r->operation_type);
			break;
		case AF_REQUESTER_ID:
			rc = dec_text(ctx, &fl, &r->requester_id);
			break;
		case AF_STATUS:
			rc = DEC_UINT(&fl, SMSR_EXEC_EXPIRED, r->status);
			break;
		case AF_ISDP_AID:
			rc = dec_aid(&fl, &r->isdp_aid);
			break;
		case AF_ICCID:
			rc = dec_fixstr(&fl, r->iccid, sizeof(r->iccid));
			break;
		case AF_IMEI:
			rc = dec_bytes(&fl, r->imei, sizeof(r->imei), &r->imei_len);
			break;
		case AF_MEID:
			rc = dec_bytes(&fl, r->meid, sizeof(r->meid), &r->meid_len);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_property(void *ctx, const struct field *in, struct smsr_property *pr)
{
	struct proto_tlv_iter it;
	struct field fl;
	uint32_t seen = 0;
	int rc;

	if (in->k != K_CONS)
		goto malformed;
	proto_tlv_iter_init(&it, in->v, in->len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (!once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case RF_KEY:
			rc = dec_text(ctx, &fl, &pr->key);
			break;
		case RF_VALUE:
			rc = dec_text(ctx, &fl, &pr->value);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	return rc;

malformed:
	return -PROTO_E_MALFORMED;
}

static int dec_eis(struct smsr_eis *e, const uint8_t *eid, const uint8_t *p, size_t len)
{
	struct proto_tlv_iter it;
	struct field fl;
	unsigned cnt[32], np = 0, na = 0, nr = 0;
	uint32_t seen = 0;
	int rc;

	if ((rc = count_fields(p, len, cnt)) < 0)
		return rc;
	if (cnt[EF_PROFILE] && !(e->profiles = talloc_zero_array(e, struct smsr_profile, cnt[EF_PROFILE])))
		return -ENOMEM;
	if (cnt[EF_AUDIT] && !(e->audit = talloc_zero_array(e, struct smsr_audit_record, cnt[EF_AUDIT])))
		return -ENOMEM;
	if (cnt[EF_PROPERTY] && !(e->props = talloc_zero_array(e, struct smsr_property, cnt[EF_PROPERTY])))
		return -ENOMEM;

	proto_tlv_iter_init(&it, p, len);
	while ((rc = next_field(&it, &fl)) > 0) {
		if (fl.f != EF_PROFILE && fl.f != EF_AUDIT && fl.f != EF_PROPERTY && !once(&seen, fl.f))
			goto malformed;
		switch (fl.f) {
		case EF_EID:
			if (fl.k != K_PRIM || fl.len != SMSR_EID_LEN)
				goto malformed;
			memcpy(e->eid, fl.v, SMSR_EID_LEN);
			break;
		case EF_EUM_ID:
			rc = dec_text(e, &fl, &e->eum_id);
			break;
		case EF_PRODUCTION_DATE:
			rc = dec_text(e, &fl, &e->production_date);
			break;
		case EF_PLATFORM_TYPE:
			rc = dec_text(e, &fl, &e->platform_type);
			break;
		case EF_PLATFORM_VERSION:
			rc = dec_text(e, &fl, &e->platform_version);
			break;
		case EF_LOADFILE_AID:
			rc = dec_aid(&fl, &e->isdp_loadfile_aid);
			break;
		case EF_MODULE_AID:
			rc = dec_aid(&fl, &e->isdp_module_aid);
			break;
		case EF_ECASD:
			rc = dec_sd(e, &fl, &e->ecasd);
			break;
		case EF_CATTP_SUPPORT:
			rc = dec_flag(&fl, &e->cattp_support);
			break;
		case EF_CATTP_VERSION:
			rc = dec_text(e, &fl, &e->cattp_version);
			break;
		case EF_HTTP_SUPPORT:
			rc = dec_flag(&fl, &e->http_support);
			break;
		case EF_HTTP_VERSION:
			rc = dec_text(e, &fl, &e->http_version);
			break;
		case EF_SECURE_PACKET_VERSION:
			rc = dec_text(e, &fl, &e->secure_packet_version);
			break;
		case EF_RPS_VERSION:
			rc = dec_text(e, &fl, &e->remote_provisioning_version);
			break;
		case EF_SIGNED_INFO_XML:
			rc = dec_text(e, &fl, &e->signed_info_xml);
			break;
		case EF_SIGNATURE_XML:
			rc = dec_text(e, &fl, &e->signature_xml);
			break;
		case EF_REMAINING_MEMORY:
			rc = dec_uint(&fl, UINT64_MAX, &e->remaining_memory);
			break;
		case EF_AVAILABLE_MEMORY:
			rc = dec_uint(&fl, UINT64_MAX, &e->available_memory);
			break;
		case EF_LAST_AUDIT_DATE:
			rc = dec_text(e, &fl, &e->last_audit_date);
			break;
		case EF_SMSR_ID:
			rc = dec_text(e, &fl, &e->smsr_id);
			break;
		case EF_PROFILE:
			rc = dec_profile(e, &fl, &e->profiles[np++]);
			break;
		case EF_ISDR:
			rc = dec_sd(e, &fl, &e->isdr);
			break;
		case EF_AUDIT:
			rc = dec_audit(e, &fl, &e->audit[na++]);
			break;
		case EF_PROPERTY:
			rc = dec_property(e, &fl, &e->props[nr++]);
			break;
		case EF_ISDR_MSISDN:
			rc = dec_fixstr(&fl, e->isdr_msisdn, sizeof(e->isdr_msisdn));
			break;
		case EF_LAST_NOTIF_SEQ:
			rc = DEC_UINT(&fl, UINT16_MAX, e->last_notif_seq);
			e->has_notif_seq = true;
			break;
		case EF_IMEI:
			rc = dec_bytes(&fl, e->imei, sizeof(e->imei), &e->imei_len);
			break;
		case EF_LAST_ATTACH:
			rc = dec_text(e, &fl, &e->last_attach);
			break;
		case EF_HANDOVER_PENDING:
			rc = dec_flag(&fl, &e->handover_pending);
			break;
		default:
			goto malformed;
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	/* the EID is the record's identity: exactly one source, the record or the caller (LMDB key) */
	if (!(seen & (1u << EF_EID)) == !eid)
		goto malformed;
	if (eid)
		memcpy(e->eid, eid, SMSR_EID_LEN);
	e->n_profiles = np;
	e->n_audit = na;
	e->n_props = nr;
	return 0;

malformed:
	return -PROTO_E_MALFORMED;
}

static int decode(void *ctx, const uint8_t *eid, const uint8_t *in, size_t len, struct smsr_eis **out)
{
	struct smsr_eis *e;
	int rc;

	*out = NULL;
	if (!len)
		return -PROTO_E_TRUNCATED;
	if (in[0] != SMSR_EIS_CODEC_V1)
		return -PROTO_E_UNSUPPORTED;
	if (len > SMSR_EIS_CODEC_MAX_LEN)
		return -PROTO_E_MALFORMED;
	/* One allocation for the whole tree: a typical record (637 bytes: 2 profiles, 2 keysets, 3 keys) becomes
	 * about 30 talloc children holding 1.1 KB; anything beyond the pool falls back to ordinary allocations. */
	e = talloc_pooled_object(ctx, struct smsr_eis, (unsigned)(8 + len / 24), 2 * len + 128);
	if (!e)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	rc = dec_eis(e, eid, in + 1, len - 1);
	if (rc < 0) {
		talloc_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

int smsr_eis_decode(void *ctx, const uint8_t *in, size_t len, struct smsr_eis **out)
{
	return decode(ctx, NULL, in, len, out);
}

int smsr_eis_decode_record(void *ctx, const uint8_t eid[SMSR_EID_LEN], const uint8_t *in, size_t len,
			   struct smsr_eis **out)
{
	if (!eid) {
		*out = NULL;
		return -EINVAL;
	}
	return decode(ctx, eid, in, len, out);
}
