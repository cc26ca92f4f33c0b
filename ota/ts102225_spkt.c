/* ETSI TS 102 225 §5.1 (command packet) and §5.2 (response packet) in the TS 31.115 SMS dialect. */
#include <errno.h>
#include <string.h>
#include "ota/ts102225_spkt.h"
#include "ota/crc.h"
#include "proto/errors.h"

/* offsets in a command packet */
enum {
	CMD_OFF_CHL = 2,
	CMD_OFF_SPI = 3,
	CMD_OFF_KIC = 5,
	CMD_OFF_KID = 6,
	CMD_OFF_TAR = 7,
	CMD_OFF_CNTR = 10,	/* first enciphered byte */
	CMD_HDR_LEN = 10,	/* CPL..TAR */
	CHL_BASE = 13,		/* SPI KIc KID TAR CNTR PCNTR */
	RHL_BASE = 10,		/* TAR CNTR PCNTR STATUS */
};

static const char *const status_names[] = {
	[0x00] = "PoR OK",
	[0x01] = "RC/CC/DS failed",
	[0x02] = "CNTR low",
	[0x03] = "CNTR high",
	[0x04] = "CNTR blocked",
	[0x05] = "Ciphering error",
	[0x06] = "Unidentified security error",
	[0x07] = "Insufficient memory to process incoming message",
	[0x08] = "More time",
	[0x09] = "TAR unknown",
	[0x0A] = "Insufficient security level",
	[0x0B] = "Actual response data to be sent using SMS-SUBMIT (TS 31.115)",
	[0x0C] = "Actual response data to be sent using ProcessUnstructuredSS-Request (TS 31.115)",
};

const char *ota_por_status_name(uint8_t status)
{
	if (status <= 0x0C)
		return status_names[status];
	if (status >= 0xC0 && status <= 0xFE)
		return "proprietary";
	return "reserved";
}

void ota_spi_decode(const uint8_t spi[2], struct ota_spi *s)
{
	s->integ = (enum ota_integ)(spi[0] & 0x03);
	s->ciphered = spi[0] & 0x04;
	s->cntr = (enum ota_cntr_mode)((spi[0] >> 3) & 0x03);
	s->por = (enum ota_por_mode)(spi[1] & 0x03);
	s->por_integ = (enum ota_integ)((spi[1] >> 2) & 0x03);
	s->por_ciphered = spi[1] & 0x10;
	s->por_via_submit = spi[1] & 0x20;
}

int ota_kic_cipher(uint8_t kic, enum ota_cipher *c)
{
	switch (kic & 0x0f) {
	case 0x1:
		*c = OTA_CIPHER_DES_CBC;
		return 0;
	case 0x5:
		*c = OTA_CIPHER_TDES2_CBC;
		return 0;
	case 0x9:
		*c = OTA_CIPHER_TDES3_CBC;
		return 0;
	case 0xD:
		*c = OTA_CIPHER_DES_ECB;
		return 0;
	case 0x2:
		*c = OTA_CIPHER_AES_CBC;
		return 0;
	default:
		return -PROTO_E_UNSUPPORTED;
	}
}

int ota_kid_integrity(enum ota_integ integ, uint8_t kid, uint8_t cc_len, size_t *rc_len, enum ota_mac *mac)
{
	*mac = OTA_MAC_AES_CMAC;
	switch (integ) {
	case OTA_INTEG_NONE:
		*rc_len = 0;
		return 0;
	case OTA_INTEG_RC:
		switch (kid & 0x0f) {
		case 0x1:
			*rc_len = 2;	/* CRC-16 */
			return 0;
		case 0x5:
			*rc_len = 4;	/* CRC-32 */
			return 0;
		default:
			return -PROTO_E_UNSUPPORTED;
		}
	case OTA_INTEG_CC:
		switch (kid & 0x0f) {
		case 0x1:
			*mac = OTA_MAC_DES_CBCMAC;
			*rc_len = 8;
			return 0;
		case 0x5:
			*mac = OTA_MAC_TDES2_CBCMAC;
			*rc_len = 8;
			return 0;
		case 0x9:
			*mac = OTA_MAC_TDES3_CBCMAC;
			*rc_len = 8;
			return 0;
		case 0x2:
			*mac = OTA_MAC_AES_CMAC;
			if (cc_len != 0 && cc_len != 4 && cc_len != 8)
				return -EINVAL;
			*rc_len = cc_len ? cc_len : 8;
			return 0;
		default:
			return -PROTO_E_UNSUPPORTED;
		}
	default:
		return -PROTO_E_UNSUPPORTED;	/* DS: reserved for digital signature, not used */
	}
}

/* Compute the RC or CC over iov into out[0..rc_len). */
static int integrity_compute(enum ota_integ integ, uint8_t kid, const struct ota_sec *sec, size_t rc_len,
			     enum ota_mac mac, const struct ota_iov *iov, unsigned niov, uint8_t *out)
{
	unsigned i;

	if (integ == OTA_INTEG_RC) {
		if (rc_len == 2) {
			uint16_t c = ota_crc16_init();
			for (i = 0; i < niov; i++)
				c = ota_crc16_update(c, iov[i].p, iov[i].len);
			c = ota_crc16_final(c);
			out[0] = (uint8_t)(c >> 8);
			out[1] = (uint8_t)c;
		} else {
			uint32_t c = ota_crc32_init();
			for (i = 0; i < niov; i++)
				c = ota_crc32_update(c, iov[i].p, iov[i].len);
			c = ota_crc32_final(c);
			out[0] = (uint8_t)(c >> 24);
			out[1] = (uint8_t)(c >> 16);
			out[2] = (uint8_t)(c >> 8);
			out[3] = (uint8_t)c;
		}
		return 0;
	}
	if (!sec->kid_key || !ota_key_fits_mac(sec->kid_key, mac))
		return -PROTO_E_KEY;
	return ota_key_mac(sec->kid_key, mac, iov, niov, out, rc_len);
}

/* Resolve the security of one direction: cipher (if ciphered), integrity length and MAC. */
static int resolve(bool ciphered, enum ota_integ integ, uint8_t kic, uint8_t kid, const struct ota_sec *sec,
		   enum ota_cipher *cipher, size_t *bs, size_t *rc_len, enum ota_mac *mac)
{
	int rc;

	*bs = 1;
	if (ciphered) {
		rc = ota_kic_cipher(kic, cipher);
		if (rc < 0)
			return rc;
		if (!sec->kic_key || !ota_key_fits_cipher(sec->kic_key, *cipher))
			return -PROTO_E_KEY;
		*bs = ota_cipher_block_size(*cipher);
	}
	return ota_kid_integrity(integ, kid, sec->cc_len, rc_len, mac);
}


int ota_spkt_cmd_encode(struct proto_buf *out, const struct ota_cmd_hdr *h, const struct ota_sec *sec,
			const uint8_t *data, size_t len)
{
	struct ota_spi s;
	enum ota_cipher cipher = OTA_CIPHER_AES_CBC;
	enum ota_mac mac;
	size_t bs, rc_len, pcntr, cpl, start = out->len;
	uint8_t *pkt, *p;
	int rc;

	if (len > OTA_SPKT_MAX_DATA || (len && !data))
		return -EINVAL;
	ota_spi_decode(h->spi, &s);
	rc = resolve(s.ciphered, s.integ, h->kic, h->kid, sec, &cipher, &bs, &rc_len, &mac);
	if (rc < 0)
		return rc;
	pcntr = s.ciphered ? (bs - (6 + rc_len + len) % bs) % bs : 0;
	cpl = 1 + CHL_BASE + rc_len + len + pcntr;
	if (cpl > 0xFFFF)
		return -EINVAL;

	pkt = proto_buf_reserve(out, 2 + cpl);
	if (!pkt)
		return -PROTO_E_NOSPACE;
	pkt[0] = (uint8_t)(cpl >> 8);
	pkt[1] = (uint8_t)cpl;
	pkt[CMD_OFF_CHL] = (uint8_t)(CHL_BASE + rc_len);
	memcpy(pkt + CMD_OFF_SPI, h->spi, 2);
	pkt[CMD_OFF_KIC] = h->kic;
	pkt[CMD_OFF_KID] = h->kid;
	memcpy(pkt + CMD_OFF_TAR, h->tar, 3);
	p = pkt + CMD_OFF_CNTR;
	memcpy(p, h->cntr, 5);
	p[5] = (uint8_t)pcntr;
	if (len)
		memcpy(p + 6 + rc_len, data, len);
	memset(p + 6 + rc_len + len, 0, pcntr);

	if (rc_len) {
		struct ota_iov iov[3] = {
			{ pkt, CMD_HDR_LEN + 6 },		/* CPL..PCNTR */
			{ p + 6 + rc_len, len + pcntr },	/* data and padding */
		};
		rc = integrity_compute(s.integ, h->kid, sec, rc_len, mac, iov, 2, p + 6);
		if (rc < 0)
			goto fail;
	}
	if (s.ciphered) {
		rc = ota_key_cipher(sec->kic_key, cipher, true, NULL, p, p, 6 + rc_len + len + pcntr);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	out->len = start;
	return rc;
}

/* Decipher the secured part (CNTR onwards) into scratch and point *p at the plaintext. */
static int decipher(const struct ota_sec *sec, enum ota_cipher cipher, size_t bs, const uint8_t **p, size_t len,
		    uint8_t *scratch, size_t scratch_cap)
{
	int rc;

	if (len % bs)
		return -PROTO_E_CIPHER;
	if (scratch_cap < len)
		return -PROTO_E_NOSPACE;
	rc = ota_key_cipher(sec->kic_key, cipher, false, NULL, *p, scratch, len);
	if (rc < 0)
		return rc;
	*p = scratch;
	return 0;
}

int ota_spkt_cmd_decode(const uint8_t *in, size_t len, const struct ota_sec *sec,
			uint8_t *scratch, size_t scratch_cap, struct ota_spkt_cmd *out)
{
	struct proto_cur c;
	struct ota_spi s;
	enum ota_cipher cipher = OTA_CIPHER_AES_CBC;
	enum ota_mac mac;
	size_t bs, rc_len, sec_len;
	const uint8_t *sp;
	uint8_t calc[8];
	int rc;

	memset(out, 0, sizeof(*out));
	proto_cur_init(&c, in, len);
	out->cpl = proto_cur_u16(&c);
	out->chl = proto_cur_u8(&c);
	proto_cur_copy(&c, out->hdr.spi, 2);
	out->hdr.kic = proto_cur_u8(&c);
	out->hdr.kid = proto_cur_u8(&c);
	proto_cur_copy(&c, out->hdr.tar, 3);
	if (c.bad)
		return -PROTO_E_TRUNCATED;
	if (out->cpl < len - 2)
		return -PROTO_E_TRAILING;
	if (out->cpl > len - 2)
		return -PROTO_E_TRUNCATED;
	if (out->chl < CHL_BASE || (size_t)out->chl + 1 > out->cpl)
		goto malformed;

	ota_spi_decode(out->hdr.spi, &s);
	rc = resolve(s.ciphered, s.integ, out->hdr.kic, out->hdr.kid, sec, &cipher, &bs, &rc_len, &mac);
	if (rc == -PROTO_E_KEY || rc == -EINVAL)
		return rc;
	if (rc < 0)
		return -PROTO_E_UNSUPPORTED;
	/* AES CC length is agreed, not signalled: read it from CHL (4 or 8) */
	if (s.integ == OTA_INTEG_CC && mac == OTA_MAC_AES_CMAC &&
	    (out->chl == CHL_BASE + 4 || out->chl == CHL_BASE + 8))
		rc_len = out->chl - CHL_BASE;
	if (out->chl != CHL_BASE + rc_len)
		return -PROTO_E_UNSUPPORTED;
	out->rc_len = (uint8_t)rc_len;

	sec_len = len - CMD_OFF_CNTR;
	sp = in + CMD_OFF_CNTR;
	if (s.ciphered && (rc = decipher(sec, cipher, bs, &sp, sec_len, scratch, scratch_cap)) < 0)
		return rc;
	proto_cur_init(&c, sp, sec_len);
	proto_cur_copy(&c, out->hdr.cntr, 5);
	out->pcntr = proto_cur_u8(&c);
	proto_cur_copy(&c, out->rc_cc_ds, rc_len);
	if (c.bad)
		goto malformed;
	if (out->pcntr > proto_cur_left(&c) || (s.ciphered && out->pcntr >= bs))
		return s.ciphered ? -PROTO_E_CIPHER : -PROTO_E_MALFORMED;
	out->data = c.p;
	out->data_len = proto_cur_left(&c) - out->pcntr;

	if (!rc_len) {
		out->integrity = OTA_INTEGRITY_NONE;
		return 0;
	}
	{
		uint8_t hdr[CMD_HDR_LEN + 6];
		struct ota_iov iov[2] = {
			{ hdr, sizeof(hdr) },
			{ out->data, out->data_len + out->pcntr },
		};
		memcpy(hdr, in, CMD_HDR_LEN);
		memcpy(hdr + CMD_HDR_LEN, out->hdr.cntr, 5);
		hdr[CMD_HDR_LEN + 5] = out->pcntr;
		rc = integrity_compute(s.integ, out->hdr.kid, sec, rc_len, mac, iov, 2, calc);
		if (rc < 0)
			return rc;
	}
	if (!ota_mem_equal(calc, out->rc_cc_ds, rc_len)) {
		out->integrity = OTA_INTEGRITY_BAD;
		return -PROTO_E_INTEGRITY;
	}
	out->integrity = OTA_INTEGRITY_OK;
	return 0;

malformed:
	return -PROTO_E_MALFORMED;
}

uint8_t ota_spkt_err_to_por_status(int rc)
{
	switch (-rc) {
	case 0:
		return OTA_POR_OK;
	case PROTO_E_INTEGRITY:
		return OTA_POR_RC_CC_DS_FAILED;
	case PROTO_E_CIPHER:
		return OTA_POR_CIPHERING_ERROR;
	case PROTO_E_UNSUPPORTED:
	case PROTO_E_KEY:
		return OTA_POR_UNIDENTIFIED_SECURITY_ERROR;
	case PROTO_E_NOSPACE:
		return OTA_POR_INSUFFICIENT_MEMORY;
	default:
		return 0xFF;
	}
}

uint64_t ota_cntr_get(const uint8_t c[5])
{
	return (uint64_t)c[0] << 32 | (uint64_t)c[1] << 24 | (uint64_t)c[2] << 16 | (uint64_t)c[3] << 8 | c[4];
}

void ota_cntr_put(uint8_t c[5], uint64_t v)
{
	c[0] = (uint8_t)(v >> 32);
	c[1] = (uint8_t)(v >> 24);
	c[2] = (uint8_t)(v >> 16);
	c[3] = (uint8_t)(v >> 8);
	c[4] = (uint8_t)v;
}

uint8_t ota_cntr_check(enum ota_cntr_mode mode, uint64_t stored, uint64_t rcvd)
{
	switch (mode) {
	case OTA_CNTR_HIGHER:
		if (stored >= OTA_CNTR_MAX)
			return OTA_POR_CNTR_BLOCKED;
		return rcvd > stored ? OTA_POR_OK : OTA_POR_CNTR_LOW;
	case OTA_CNTR_ONE_HIGHER:
		if (stored >= OTA_CNTR_MAX)
			return OTA_POR_CNTR_BLOCKED;
		if (rcvd <= stored)
			return OTA_POR_CNTR_LOW;
		return rcvd == stored + 1 ? OTA_POR_OK : OTA_POR_CNTR_HIGH;
	default:
		return OTA_POR_OK;
	}
}

/* Layout of a response packet: security of SPI2 (none when !secured) and the resulting lengths. */
struct por_layout {
	struct ota_spi s;
	enum ota_cipher cipher;
	enum ota_mac mac;
	size_t bs, rc_len, pcntr, rpl;
	bool ciphered;
};

static int por_layout(const struct ota_por_hdr *h, const struct ota_sec *sec, bool secured, size_t len,
		      struct por_layout *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	l->cipher = OTA_CIPHER_AES_CBC;
	l->mac = OTA_MAC_AES_CMAC;
	l->bs = 1;
	if (len > OTA_SPKT_MAX_DATA)
		return -EINVAL;
	ota_spi_decode(h->spi, &l->s);
	if (secured) {
		l->ciphered = l->s.por_ciphered;
		rc = resolve(l->ciphered, l->s.por_integ, h->kic, h->kid, sec, &l->cipher, &l->bs, &l->rc_len, &l->mac);
		if (rc < 0)
			return rc;
	}
	l->pcntr = l->ciphered ? (l->bs - (7 + l->rc_len + len) % l->bs) % l->bs : 0;
	l->rpl = 1 + RHL_BASE + l->rc_len + len + l->pcntr;
	return l->rpl > 0xFFFF ? -EINVAL : 0;
}

int ota_por_packet_len(const struct ota_por_hdr *h, const struct ota_sec *sec, bool secured, size_t len)
{
	struct por_layout l;
	int rc = por_layout(h, sec, secured, len, &l);

	return rc < 0 ? rc : (int)(2 + l.rpl);
}

int ota_por_encode_packet(struct proto_buf *out, const struct ota_por_hdr *h, const struct ota_sec *sec,
			  bool secured, const uint8_t *udh, size_t udh_len, const uint8_t *data, size_t len)
{
	struct por_layout l;
	size_t start = out->len;
	uint8_t *u, *p;
	int rc;

	if ((len && !data) || (udh_len && !udh))
		return -EINVAL;
	rc = por_layout(h, sec, secured, len, &l);
	if (rc < 0)
		return rc;
	u = proto_buf_reserve(out, 2 + l.rpl);
	if (!u)
		return -PROTO_E_NOSPACE;
	u[0] = (uint8_t)(l.rpl >> 8);
	u[1] = (uint8_t)l.rpl;
	u[2] = (uint8_t)(RHL_BASE + l.rc_len);
	memcpy(u + 3, h->tar, 3);
	p = u + 6;	/* CNTR: first enciphered byte */
	memcpy(p, h->cntr, 5);
	p[5] = (uint8_t)l.pcntr;
	p[6] = h->status;
	if (len)
		memcpy(p + 7 + l.rc_len, data, len);
	memset(p + 7 + l.rc_len + len, 0, l.pcntr);
	if (l.rc_len) {
		struct ota_iov iov[3] = {
			{ udh, udh_len },
			{ u, 6 + 7 },			/* RPL RHL TAR CNTR PCNTR STATUS */
			{ p + 7 + l.rc_len, len + l.pcntr },
		};
		rc = integrity_compute(l.s.por_integ, h->kid, sec, l.rc_len, l.mac, iov, 3, p + 7);
		if (rc < 0)
			goto fail;
	}
	if (l.ciphered) {
		rc = ota_key_cipher(sec->kic_key, l.cipher, true, NULL, p, p, 7 + l.rc_len + len + l.pcntr);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	out->len = start;
	return rc;
}

int ota_por_encode(struct proto_buf *ud, const struct ota_por_hdr *h, const struct ota_sec *sec, bool secured,
		   const uint8_t *data, size_t len)
{
	static const uint8_t udh[3] = { 0x02, 0x71, 0x00 };	/* TS 31.115 §4.4 */
	size_t start = ud->len;
	int rc;

	proto_buf_put(ud, udh, sizeof(udh));
	if (proto_buf_status(ud) < 0)
		return -PROTO_E_NOSPACE;
	rc = ota_por_encode_packet(ud, h, sec, secured, udh, sizeof(udh), data, len);
	if (rc < 0)
		ud->len = start;
	return rc;
}

/* One interpretation of the PoR body (ciphered or not). Returns 0 (integrity OK or NONE),
 * -PROTO_E_INTEGRITY (structure fine, RC/CC wrong), or another error when the structure does not fit. */
static int por_try(const uint8_t *udh, size_t udh_len, const uint8_t *rp, size_t rp_len, bool ciphered,
		   const struct ota_spi *s, uint8_t kic, uint8_t kid, const struct ota_sec *sec,
		   uint8_t *scratch, size_t scratch_cap, struct ota_por *out)
{
	struct proto_cur c;
	enum ota_cipher cipher = OTA_CIPHER_AES_CBC;
	enum ota_mac mac = OTA_MAC_AES_CMAC;
	size_t bs = 1, rc_len = 0, body_len = rp_len - 6;
	const uint8_t *body = rp + 6;
	enum ota_integ integ = out->rhl > RHL_BASE ? s->por_integ : OTA_INTEG_NONE;
	uint8_t calc[8];
	int rc;

	rc = resolve(ciphered, integ, kic, kid, sec, &cipher, &bs, &rc_len, &mac);
	if (rc < 0)
		return rc;
	if (integ == OTA_INTEG_CC && mac == OTA_MAC_AES_CMAC && (out->rhl == RHL_BASE + 4 || out->rhl == RHL_BASE + 8))
		rc_len = out->rhl - RHL_BASE;
	if (out->rhl != RHL_BASE + rc_len)
		return -PROTO_E_MALFORMED;
	if (ciphered && (rc = decipher(sec, cipher, bs, &body, body_len, scratch, scratch_cap)) < 0)
		return rc;
	proto_cur_init(&c, body, body_len);
	proto_cur_copy(&c, out->cntr, 5);
	out->pcntr = proto_cur_u8(&c);
	out->status = proto_cur_u8(&c);
	proto_cur_copy(&c, out->rc_cc_ds, rc_len);
	if (c.bad)
		return -PROTO_E_TRUNCATED;
	if (out->pcntr > proto_cur_left(&c) || (ciphered && out->pcntr >= bs) ||
	    (!ciphered && s->por_ciphered && out->pcntr))
		return -PROTO_E_MALFORMED;
	if (ciphered && !rc_len) {
		/* no CC to decide: padding must be 00 octets, else this was not a ciphered PoR (or a wrong key) */
		size_t i;
		for (i = proto_cur_left(&c) - out->pcntr; i < proto_cur_left(&c); i++)
			if (c.p[i])
				return -PROTO_E_MALFORMED;
	}
	out->rc_len = (uint8_t)rc_len;
	out->ciphered = ciphered;
	out->data = c.p;
	out->data_len = proto_cur_left(&c) - out->pcntr;
	if (!rc_len) {
		out->integrity = OTA_INTEGRITY_NONE;
		return 0;
	}
	{
		uint8_t mid[7];
		struct ota_iov iov[4] = {
			{ udh, udh_len },
			{ rp, 6 },		/* RPL RHL TAR */
			{ mid, 7 },		/* CNTR PCNTR STATUS */
			{ out->data, out->data_len + out->pcntr },
		};
		memcpy(mid, out->cntr, 5);
		mid[5] = out->pcntr;
		mid[6] = out->status;
		rc = integrity_compute(integ, kid, sec, rc_len, mac, iov, 4, calc);
		if (rc < 0)
			return rc;
	}
	if (!ota_mem_equal(calc, out->rc_cc_ds, rc_len)) {
		out->integrity = OTA_INTEGRITY_BAD;
		return -PROTO_E_INTEGRITY;
	}
	out->integrity = OTA_INTEGRITY_OK;
	return 0;
}

static const uint8_t implied_udh[3] = { 0x02, 0x71, 0x00 };

int ota_por_decode(const uint8_t *in, size_t len, bool udh_present, const uint8_t spi[2], uint8_t kic, uint8_t kid,
		   const struct ota_sec *sec, uint8_t *scratch, size_t scratch_cap, struct ota_por *out)
{
	const uint8_t *udh = implied_udh, *rp = in;
	size_t udh_len = sizeof(implied_udh), rp_len = len;
	struct ota_spi s;
	struct ota_por first;
	int rc1 = -PROTO_E_MALFORMED, rc2;

	memset(out, 0, sizeof(*out));
	if (udh_present) {
		size_t i;
		bool has71 = false;

		if (len < 1 || (size_t)in[0] + 1 > len)
			return -PROTO_E_TRUNCATED;
		udh = in;
		udh_len = (size_t)in[0] + 1;
		/* walk the information elements; IE 71 (response packet) must be there */
		for (i = 1; i < udh_len;) {
			if (i + 2 > udh_len || i + 2 + in[i + 1] > udh_len)
				return -PROTO_E_MALFORMED;
			if (in[i] == 0x71)
				has71 = true;
			i += 2 + in[i + 1];
		}
		if (!has71)
			return -PROTO_E_MALFORMED;
		rp = in + udh_len;
		rp_len = len - udh_len;
	}
	if (rp_len < 6)
		return -PROTO_E_TRUNCATED;
	out->rpl = (uint16_t)(rp[0] << 8 | rp[1]);
	out->rhl = rp[2];
	memcpy(out->tar, rp + 3, 3);
	if (out->rpl < rp_len - 2)
		return -PROTO_E_TRAILING;
	if (out->rpl > rp_len - 2)
		return -PROTO_E_TRUNCATED;
	if (out->rhl < RHL_BASE || (size_t)out->rhl + 1 > out->rpl)
		return -PROTO_E_MALFORMED;

	ota_spi_decode(spi, &s);
	/* a PoR that asks for integrity but has RHL 10 carries no CC: it was sent in clear */
	if (s.por_ciphered && (s.por_integ == OTA_INTEG_NONE || out->rhl > RHL_BASE)) {
		rc1 = por_try(udh, udh_len, rp, rp_len, true, &s, kic, kid, sec, scratch, scratch_cap, out);
		if (rc1 == 0 || rc1 == -PROTO_E_KEY)
			return rc1;
		first = *out;
	}
	/* clear interpretation: PoRs without ciphering, and error PoRs sent in clear (e.g. status 06) */
	rc2 = por_try(udh, udh_len, rp, rp_len, false, &s, kic, kid, sec, scratch, scratch_cap, out);
	if (rc2 == 0)
		return 0;
	if (rc1 == -PROTO_E_INTEGRITY) {
		*out = first;
		return rc1;
	}
	return rc2;
}
