/* Interoperable Profile packages: check, personalise, build test templates (see saip.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "smdp/saip.h"
#include "proto/bertlv.h"
#include "proto/buf.h"
#include "proto/errors.h"

/* ProfileElement CHOICE tags (AUTOMATIC TAGS, constructed) */
enum {
	PE_HEADER = 0xA0,
	PE_GFM = 0xA1,
	PE_PIN = 0xA2,
	PE_AKA = 0xA4,
	PE_END = 0xAA,
	PE_MF = 0xB0,
	PE_USIM = 0xB3,
};

int smdp_saip_iccid_encode(const char *digits, uint8_t out[10])
{
	size_t n = strlen(digits), i;

	if (n < 18 || n > 20 || strspn(digits, "0123456789") != n)
		return -EINVAL;
	memset(out, 0xFF, 10);
	for (i = 0; i < n; i++) {
		uint8_t d = (uint8_t)(digits[i] - '0');
		out[i / 2] = i % 2 ? (uint8_t)((out[i / 2] & 0x0F) | d << 4) : (uint8_t)((out[i / 2] & 0xF0) | d);
	}
	return 0;
}

void smdp_saip_iccid_decode(const uint8_t in[10], char out[21])
{
	size_t i, n = 0;

	for (i = 0; i < 20; i++) {
		uint8_t d = i % 2 ? in[i / 2] >> 4 : in[i / 2] & 0x0F;
		if (d > 9)
			break;
		out[n++] = (char)('0' + d);
	}
	out[n] = '\0';
}

/* TS 31.102 §4.2.2 EF-IMSI: 08, then (digit1 << 4 | parity) and the remaining digits swapped, F-padded */
static int imsi_encode(const char *digits, uint8_t out[9])
{
	size_t n = strlen(digits), i;
	uint8_t nib[16];

	if (n < 6 || n > 15 || strspn(digits, "0123456789") != n)
		return -EINVAL;
	nib[0] = n % 2 ? 0x9 : 0x1; /* odd number of digits: parity 1 with type 001 */
	for (i = 0; i < n; i++)
		nib[i + 1] = (uint8_t)(digits[i] - '0');
	for (i = n + 1; i < 16; i++)
		nib[i] = 0xF;
	out[0] = 0x08;
	for (i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(nib[2 * i + 1] << 4 | nib[2 * i]);
	return 0;
}

/* the value of the TLV reached by following tags (each among the children of the previous), or -ENOENT */
static int s_find(const uint8_t *pkg, size_t len, const uint32_t *path, unsigned depth, size_t *off, size_t *vlen)
{
	const uint8_t *p = pkg;
	size_t n = len;
	unsigned d;

	for (d = 0; d < depth; d++) {
		struct proto_tlv_iter it;
		struct proto_tlv t;
		int rc;
		bool found = false;

		proto_tlv_iter_init(&it, p, n);
		while ((rc = proto_tlv_iter_next(&it, &t)) > 0)
			if (t.tag == path[d] && !t.indefinite) {
				found = true;
				break;
			}
		if (rc < 0)
			return -PROTO_E_MALFORMED;
		if (!found)
			return -ENOENT;
		p = t.val;
		n = t.len;
	}
	*off = (size_t)(p - pkg);
	*vlen = n;
	return 0;
}

int smdp_saip_check(const uint8_t *pkg, size_t len, struct smdp_saip_info *info, char *why, size_t cap)
{
	struct proto_tlv_iter it;
	struct proto_tlv t, last = {0};
	unsigned n = 0;
	int rc;

	memset(info, 0, sizeof(*info));
	proto_tlv_iter_init(&it, pkg, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.indefinite || !t.constructed || proto_tlv_validate(t.val, t.len) < 0) {
			snprintf(why, cap, "profile element %u (tag %X): not a well-formed DER constructed TLV", n + 1,
				 t.tag);
			return -PROTO_E_MALFORMED;
		}
		if (n == 0) {
			size_t off, vl;
			static const uint32_t iccid_path[] = {0x83};
			if (t.tag != PE_HEADER || s_find(t.val, t.len, iccid_path, 1, &off, &vl) < 0 || vl != 10) {
				snprintf(why, cap, "the first profile element is not a header with a 10-byte iccid");
				return -PROTO_E_MALFORMED;
			}
			smdp_saip_iccid_decode(t.val + off, info->iccid);
			{
				static const uint32_t type_path[] = {0x82};
				if (s_find(t.val, t.len, type_path, 1, &off, &vl) == 0 &&
				    vl < sizeof(info->profile_type)) {
					memcpy(info->profile_type, t.val + off, vl);
					info->profile_type[vl] = '\0';
				}
			}
		}
		last = t;
		n++;
	}
	if (rc < 0) {
		snprintf(why, cap, "after profile element %u: %s", n, proto_strerror(rc));
		return rc;
	}
	if (!n || last.tag != PE_END) {
		snprintf(why, cap, "the last profile element is not the end element (AA)");
		return -PROTO_E_MALFORMED;
	}
	info->n_pe = n;
	return 0;
}

/* the value of the first PE with tag pe, then the path below it */
static int s_find_pe(const uint8_t *pkg, size_t len, uint32_t pe, const uint32_t *path, unsigned depth, size_t want,
		     size_t *off)
{
	uint32_t full[8];
	size_t vlen;
	int rc;

	full[0] = pe;
	memcpy(full + 1, path, depth * sizeof(*path));
	rc = s_find(pkg, len, full, depth + 1, off, &vlen);
	if (rc == 0 && vlen != want)
		rc = -ENOENT;
	return rc;
}

int smdp_saip_personalise(uint8_t *pkg, size_t len, const struct smdp_saip_perso *p)
{
	static const uint32_t iccid_path[] = {0x83}, imsi_path[] = {0xA3, 0x83}, ki_path[] = {0xA1, 0xA0, 0x82},
			      opc_path[] = {0xA1, 0xA0, 0x83};
	size_t o_iccid, o_imsi, o_ki, o_opc;
	uint8_t iccid[10], imsi[9];
	int rc;

	if (smdp_saip_iccid_encode(p->iccid, iccid) < 0 || imsi_encode(p->imsi, imsi) < 0)
		return -EINVAL;
	/* find every placeholder before writing any: a template lacking one is left untouched */
	rc = s_find_pe(pkg, len, PE_HEADER, iccid_path, 1, 10, &o_iccid);
	if (rc == 0)
		rc = s_find_pe(pkg, len, PE_USIM, imsi_path, 2, 9, &o_imsi);
	if (rc == 0)
		rc = s_find_pe(pkg, len, PE_AKA, ki_path, 3, 16, &o_ki);
	if (rc == 0)
		rc = s_find_pe(pkg, len, PE_AKA, opc_path, 3, 16, &o_opc);
	if (rc < 0)
		return rc;
	memcpy(pkg + o_iccid, iccid, 10);
	memcpy(pkg + o_imsi, imsi, 9);
	memcpy(pkg + o_ki, p->ki, 16);
	memcpy(pkg + o_opc, p->opc, 16);
	return 0;
}

uint64_t smdp_saip_required_memory(size_t len)
{
	uint64_t need = (uint64_t)len + len / 10;

	return (need + 1023) / 1024 * 1024;
}

/* PEHeader ::= SEQUENCE { mandated NULL OPTIONAL, identification UInt15 }: [0] A0 { [1] 81 INTEGER } */
static void s_pe_header(struct proto_buf *b, unsigned id)
{
	uint8_t v[2] = {(uint8_t)(id >> 8), (uint8_t)id};
	uint8_t h[4];
	struct proto_buf hb;

	proto_buf_init(&hb, h, sizeof(h));
	/* minimal two's complement: one byte up to 127 */
	if (id < 0x80)
		proto_tlv_put(&hb, 0x81, v + 1, 1);
	else
		proto_tlv_put(&hb, 0x81, v, 2);
	proto_tlv_put(b, 0xA0, hb.data, hb.len);
}

int smdp_saip_build_test(void *ctx, size_t size, const char *type, uint8_t **out, size_t *out_len)
{
	size_t cap = size + 1024;
	uint8_t *mem = talloc_zero_size(ctx, cap), tmp[2048], inner[2048], zero[1536];
	struct proto_buf b, t, i;
	unsigned id = 1;

	if (!mem || !type || strlen(type) > 64 || size > (1 << 20)) {
		talloc_free(mem);
		return -EINVAL;
	}
	memset(zero, 0, sizeof(zero));
	proto_buf_init(&b, mem, cap);
	/* header: major 2, minor 3, profileType, iccid placeholder, eUICC-Mandatory-services {usim} */
	proto_buf_init(&t, tmp, sizeof(tmp));
	proto_tlv_put(&t, 0x80, "\x02", 1);
	proto_tlv_put(&t, 0x81, "\x03", 1);
	proto_tlv_put(&t, 0x82, type, strlen(type));
	proto_tlv_put(&t, 0x83, "\x98\x00\x00\x00\x00\x00\x00\x00\x00\xF0", 10);
	proto_tlv_put(&t, 0xA5, "\x84\x00", 2);
	proto_tlv_put(&b, PE_HEADER, t.data, t.len);
	/* mf: header, templateID */
	proto_buf_init(&t, tmp, sizeof(tmp));
	s_pe_header(&t, id++);
	proto_tlv_put(&t, 0x81, "\x67\x81\x0F\x01\x01\x01\x01", 7);
	proto_tlv_put(&b, PE_MF, t.data, t.len);
	/* usim: header, templateID, ef-imsi { fillFileContent placeholder } */
	proto_buf_init(&t, tmp, sizeof(tmp));
	s_pe_header(&t, id++);
	proto_tlv_put(&t, 0x81, "\x67\x81\x0F\x01\x01\x01\x04", 7);
	proto_buf_init(&i, inner, sizeof(inner));
	proto_tlv_put(&i, 0x83, "\x08\x09\x10\x10\x10\x32\x54\x76\x98", 9);
	proto_tlv_put(&t, 0xA3, i.data, i.len);
	proto_tlv_put(&b, PE_USIM, t.data, t.len);
	/* akaParameter: header, algoConfiguration { algoParameter { Milenage, options, key, opc placeholders } } */
	proto_buf_init(&t, tmp, sizeof(tmp));
	s_pe_header(&t, id++);
	proto_buf_init(&i, inner, sizeof(inner));
	proto_tlv_put(&i, 0x80, "\x01", 1);
	proto_tlv_put(&i, 0x81, "\x00", 1);
	proto_tlv_put(&i, 0x82, zero, 16);
	proto_tlv_put(&i, 0x83, zero, 16);
	{
		uint8_t ap[64];
		struct proto_buf a;
		proto_buf_init(&a, ap, sizeof(ap));
		proto_tlv_put(&a, 0xA0, i.data, i.len);
		proto_tlv_put(&t, 0xA1, a.data, a.len);
	}
	proto_tlv_put(&b, PE_AKA, t.data, t.len);
	/* fillers: genericFileManagement PEs with opaque file contents, until size is reached */
	while (proto_buf_status(&b) == 0 && b.len + 16 < size) {
		size_t want = size - b.len - 16, n = want > 1400 ? 1400 : want;
		proto_buf_init(&t, tmp, sizeof(tmp));
		s_pe_header(&t, id++);
		proto_buf_init(&i, inner, sizeof(inner));
		memset(zero, (int)(0x30 + b.len % 64), n);
		proto_tlv_put(&i, 0x83, zero, n);
		proto_tlv_put(&t, 0xA1, i.data, i.len);
		proto_tlv_put(&b, PE_GFM, t.data, t.len);
		if (n < 16)
			break;
	}
	/* end */
	proto_buf_init(&t, tmp, sizeof(tmp));
	s_pe_header(&t, id++);
	proto_tlv_put(&b, PE_END, t.data, t.len);
	if (proto_buf_status(&b) < 0) {
		talloc_free(mem);
		return proto_buf_status(&b);
	}
	*out = mem;
	*out_len = b.len;
	return 0;
}
