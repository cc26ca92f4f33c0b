/* ota/ts102225_spkt: every SPI combination round trips through encode and the card's decode; PoRs likewise;
 * wrong keys, reserved codings, tampering, counters and the error -> PoR status mapping. */
#include <talloc.h>
#include "tests/testlib.h"
#include "ota/ts102225_spkt.h"
#include "proto/errors.h"

static void *ctx;
static struct ota_key *k8, *k16, *k24, *k32, *k16b;

static struct ota_key *mk(size_t len, uint8_t seed)
{
	uint8_t raw[32];
	struct ota_key *k;
	size_t i;

	for (i = 0; i < len; i++)
		raw[i] = (uint8_t)(seed + 7 * i);
	ota_key_import(ctx, raw, len, &k);
	return k;
}

/* a key that fits the algorithm nibble */
static struct ota_key *key_for(uint8_t nibble, bool alt)
{
	switch (nibble) {
	case 0x1:
	case 0xD:
		return k8;
	case 0x5:
		return alt ? k16b : k16;
	case 0x9:
		return k24;
	default:
		return alt ? k32 : k16;
	}
}

static void test_cmd_all_spi(void)
{
	static const uint8_t kic_algs[] = { 0x1, 0x5, 0x9, 0xD, 0x2 };
	static const uint8_t cc_algs[] = { 0x1, 0x5, 0x9, 0x2 };
	static const uint8_t rc_algs[] = { 0x1, 0x5 };
	uint8_t data[300], pkt[400], scratch[400];
	unsigned integ, ciph, cntr, a, b, dl, combos = 0;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	for (integ = 0; integ <= 2; integ++)
	for (ciph = 0; ciph <= 1; ciph++)
	for (cntr = 0; cntr <= 3; cntr++)
	for (a = 0; a < (ciph ? sizeof(kic_algs) : 1); a++)
	for (b = 0; b < (integ == 2 ? sizeof(cc_algs) : integ == 1 ? sizeof(rc_algs) : 1); b++)
	for (dl = 0; dl <= 40; dl += 13) {
		struct ota_cmd_hdr h = { .tar = { 0xb0, 0x00, 0x11 }, .cntr = { 0, 0, 0, 1, (uint8_t)dl } };
		uint8_t kid_nib = integ == 2 ? cc_algs[b] : integ == 1 ? rc_algs[b] : 0x5;
		struct ota_sec sec = { .kic_key = ciph ? key_for(kic_algs[a], false) : NULL,
				       .kid_key = integ == 2 ? key_for(kid_nib, true) : NULL };
		struct ota_spkt_cmd cmd;
		struct proto_buf buf;
		int rc;

		h.spi[0] = (uint8_t)(integ | ciph << 2 | cntr << 3);
		h.spi[1] = 0x21;
		h.kic = (uint8_t)(0x10 | (ciph ? kic_algs[a] : 0x5));
		h.kid = (uint8_t)(0x20 | kid_nib);
		proto_buf_init(&buf, pkt, sizeof(pkt));
		rc = ota_spkt_cmd_encode(&buf, &h, &sec, data, dl);
		CHECK(rc == 0, "encode spi %02x%02x kic %02x kid %02x: %s", h.spi[0], h.spi[1], h.kic, h.kid,
		      proto_strerror(rc));
		if (rc)
			continue;
		CHECK((size_t)(pkt[0] << 8 | pkt[1]) == buf.len - 2, "cpl");
		rc = ota_spkt_cmd_decode(pkt, buf.len, &sec, scratch, sizeof(scratch), &cmd);
		CHECK(rc == 0 && cmd.data_len == dl && !memcmp(cmd.data, data, dl) && !memcmp(cmd.hdr.cntr, h.cntr, 5),
		      "decode spi %02x kic %02x kid %02x dl %u: %s", h.spi[0], h.kic, h.kid, dl, proto_strerror(rc));
		CHECK(cmd.integrity == (integ ? OTA_INTEGRITY_OK : OTA_INTEGRITY_NONE), "integrity flag");
		if (ciph)
			CHECK((buf.len - 10) % ota_cipher_block_size(OTA_CIPHER_AES_CBC) == 0 ||
			      (buf.len - 10) % 8 == 0, "ciphered part block aligned");
		/* tampering with any byte of a protected packet is detected */
		if (integ) {
			for (i = 0; i < buf.len; i++) {
				pkt[i] ^= 0x40;
				rc = ota_spkt_cmd_decode(pkt, buf.len, &sec, scratch, sizeof(scratch), &cmd);
				CHECK(rc < 0, "tampered byte %zu accepted (spi %02x kic %02x kid %02x)", i, h.spi[0],
				      h.kic, h.kid);
				pkt[i] ^= 0x40;
			}
		}
		combos++;
	}
	CHECK(combos > 300, "only %u combinations", combos);
}

static void test_cmd_errors(void)
{
	uint8_t pkt[200], scratch[200], data[8] = { 1, 2, 3 };
	struct ota_cmd_hdr h = { .spi = { 0x16, 0x21 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 } };
	struct ota_sec sec = { .kic_key = k16, .kid_key = k16 }, nokey = { 0 };
	struct ota_spkt_cmd cmd;
	struct proto_buf b;
	size_t len;

	proto_buf_init(&b, pkt, sizeof(pkt));
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &nokey, data, 3), -PROTO_E_KEY);
	CHECK(b.len == 0, "nothing written on error");
	h.kic = 0x13;	/* proprietary nibble */
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), -PROTO_E_UNSUPPORTED);
	h.kic = 0x12;
	h.spi[0] = 0x17;	/* DS */
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), -PROTO_E_UNSUPPORTED);
	h.spi[0] = 0x16;
	h.kic = 0x15;	/* 3DES-2key with a 24-byte key */
	sec.kic_key = k24;
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), -PROTO_E_KEY);
	h.kic = 0x12;
	sec.kic_key = k16;
	proto_buf_init(&b, pkt, 20);
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), -PROTO_E_NOSPACE);

	proto_buf_init(&b, pkt, sizeof(pkt));
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), 0);
	len = b.len;
	CHECK_RC(ota_spkt_cmd_decode(pkt, len, &sec, scratch, sizeof(scratch), &cmd), 0);
	CHECK_RC(ota_spkt_cmd_decode(pkt, len - 1, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_TRUNCATED);
	CHECK_RC(ota_spkt_cmd_decode(pkt, 5, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_TRUNCATED);
	pkt[len] = 0;
	CHECK_RC(ota_spkt_cmd_decode(pkt, len + 1, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_TRAILING);
	CHECK_RC(ota_spkt_cmd_decode(pkt, len, &nokey, scratch, sizeof(scratch), &cmd), -PROTO_E_KEY);
	CHECK_RC(ota_spkt_cmd_decode(pkt, len, &sec, scratch, 8, &cmd), -PROTO_E_NOSPACE);
	/* a wrong KID key: the card answers 01 */
	sec.kid_key = k32;
	CHECK_RC(ota_spkt_cmd_decode(pkt, len, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_INTEGRITY);
	CHECK(ota_spkt_err_to_por_status(-PROTO_E_INTEGRITY) == OTA_POR_RC_CC_DS_FAILED, "01");
	sec.kid_key = k16;
	/* ciphered part not block aligned: 05 */
	pkt[1] -= 1;
	CHECK_RC(ota_spkt_cmd_decode(pkt, len - 1, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_CIPHER);
	CHECK(ota_spkt_err_to_por_status(-PROTO_E_CIPHER) == OTA_POR_CIPHERING_ERROR, "05");
	pkt[1] += 1;
	/* CHL 0x11 reads as an AES CMAC-4: the CC then covers other bytes and fails */
	pkt[2] = 0x11;
	CHECK_RC(ota_spkt_cmd_decode(pkt, len, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_INTEGRITY);
	/* CHL that fits no CC length of the SPI: 06 */
	pkt[2] = 0x16;
	CHECK_RC(ota_spkt_cmd_decode(pkt, len, &sec, scratch, sizeof(scratch), &cmd), -PROTO_E_UNSUPPORTED);
	CHECK(ota_spkt_err_to_por_status(-PROTO_E_UNSUPPORTED) == OTA_POR_UNIDENTIFIED_SECURITY_ERROR, "06");
	pkt[2] = 0x0c;
	CHECK(ota_spkt_cmd_decode(pkt, len, &sec, scratch, sizeof(scratch), &cmd) < 0, "CHL below 13");
	CHECK(ota_spkt_err_to_por_status(-PROTO_E_MALFORMED) == 0xFF, "too malformed to answer");

	/* AES CMAC-4 is read from CHL */
	pkt[2] = 0x15;
	sec.cc_len = 4;
	proto_buf_init(&b, pkt, sizeof(pkt));
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), 0);
	CHECK(pkt[2] == 0x11, "CHL with CMAC-4");
	sec.cc_len = 0;
	CHECK_RC(ota_spkt_cmd_decode(pkt, b.len, &sec, scratch, sizeof(scratch), &cmd), 0);
	CHECK(cmd.rc_len == 4, "cc len 4 decoded");
	sec.cc_len = 5;
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, 3), -EINVAL);
}

static void test_por(void)
{
	static const uint8_t spi2s[] = { 0x01, 0x21, 0x05, 0x09, 0x11, 0x15, 0x19, 0x39, 0x29 };
	static const uint8_t kids[] = { 0x12, 0x15, 0x11 };
	uint8_t ud[300], scratch[300], data[40];
	unsigned s, k, dl;

	memset(data, 0x5a, sizeof(data));
	for (s = 0; s < sizeof(spi2s); s++)
	for (k = 0; k < sizeof(kids); k++)
	for (dl = 0; dl <= 33; dl += 11) {
		struct ota_por_hdr h = { .spi = { 0x16, spi2s[s] }, .kic = kids[k], .kid = kids[k],
					 .tar = { 0, 0, 1 }, .cntr = { 0, 0, 0, 0, 9 }, .status = 0 };
		struct ota_sec sec = { .kic_key = kids[k] == 0x11 ? k8 : k16, .kid_key = kids[k] == 0x11 ? k8 : k16 };
		struct ota_spi spi;
		struct ota_por por;
		struct proto_buf b;
		int rc;

		ota_spi_decode(h.spi, &spi);
		proto_buf_init(&b, ud, sizeof(ud));
		rc = ota_por_encode(&b, &h, &sec, true, data, dl);
		if (spi.por_integ == OTA_INTEG_RC && (kids[k] & 0xf) == 0x2) {
			/* RC with KID nibble 2 is reserved */
			CHECK_RC(rc, -PROTO_E_UNSUPPORTED);
			continue;
		}
		CHECK(rc == 0, "por encode spi2 %02x kid %02x: %s", spi2s[s], kids[k], proto_strerror(rc));
		if (rc)
			continue;
		CHECK(ud[0] == 2 && ud[1] == 0x71 && ud[2] == 0, "por udh");
		rc = ota_por_decode(ud, b.len, true, h.spi, h.kic, h.kid, &sec, scratch, sizeof(scratch), &por);
		CHECK(rc == 0 && por.data_len == dl && !memcmp(por.data, data, dl) && por.status == 0 &&
		      por.ciphered == spi.por_ciphered && !memcmp(por.cntr, h.cntr, 5),
		      "por decode spi2 %02x kid %02x dl %u: %s", spi2s[s], kids[k], dl, proto_strerror(rc));
		CHECK(por.integrity == (spi.por_integ ? OTA_INTEGRITY_OK : OTA_INTEGRITY_NONE), "por integrity");

		/* an error PoR in clear (status 06) is understood whatever SPI2 asks */
		h.status = OTA_POR_UNIDENTIFIED_SECURITY_ERROR;
		proto_buf_init(&b, ud, sizeof(ud));
		CHECK_RC(ota_por_encode(&b, &h, &sec, false, NULL, 0), 0);
		CHECK(b.len == 3 + 2 + 1 + 3 + 7, "clear error PoR length %zu", b.len);
		rc = ota_por_decode(ud, b.len, true, h.spi, h.kic, h.kid, &sec, scratch, sizeof(scratch), &por);
		CHECK(rc == 0 && por.status == 0x06 && !por.ciphered && por.integrity == OTA_INTEGRITY_NONE,
		      "clear 06 PoR, spi2 %02x: %s", spi2s[s], proto_strerror(rc));
	}
}

static void test_por_udh_variants(void)
{
	uint8_t ud[300], ud2[300], scratch[300];
	struct ota_por_hdr h = { .spi = { 0x16, 0x29 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 } };
	struct ota_sec sec = { .kic_key = k16, .kid_key = k16 };
	struct ota_por por;
	struct proto_buf b;

	proto_buf_init(&b, ud, sizeof(ud));
	CHECK_RC(ota_por_encode(&b, &h, &sec, true, (const uint8_t *)"\x01\x90\x00", 3), 0);
	/* a UDH without IE 71 is not a PoR */
	memcpy(ud2, ud, b.len);
	ud2[1] = 0x70;
	CHECK_RC(ota_por_decode(ud2, b.len, true, h.spi, 0x12, 0x12, &sec, scratch, sizeof(scratch), &por),
		 -PROTO_E_MALFORMED);
	/* UDH with another IE before 71: the CC covers the whole UDH, so it no longer verifies */
	ud2[0] = 0x05;
	ud2[1] = 0x24;	/* national language single shift, 1 byte */
	ud2[2] = 0x01;
	ud2[3] = 0x00;
	ud2[4] = 0x71;
	ud2[5] = 0x00;
	memcpy(ud2 + 6, ud + 3, b.len - 3);
	CHECK_RC(ota_por_decode(ud2, b.len + 3, true, h.spi, 0x12, 0x12, &sec, scratch, sizeof(scratch), &por),
		 -PROTO_E_INTEGRITY);
	CHECK_RC(ota_por_decode(ud, 2, true, h.spi, 0x12, 0x12, &sec, scratch, sizeof(scratch), &por),
		 -PROTO_E_TRUNCATED);
	CHECK_RC(ota_por_decode(ud, b.len - 1, true, h.spi, 0x12, 0x12, &sec, scratch, sizeof(scratch), &por),
		 -PROTO_E_TRUNCATED);
}

static void test_counters(void)
{
	uint8_t c[5];

	ota_cntr_put(c, 0x0102030405ULL);
	CHECK(c[0] == 1 && c[4] == 5 && ota_cntr_get(c) == 0x0102030405ULL, "cntr bytes");
	CHECK(ota_cntr_check(OTA_CNTR_HIGHER, 5, 6) == OTA_POR_OK, "higher ok");
	CHECK(ota_cntr_check(OTA_CNTR_HIGHER, 5, 99) == OTA_POR_OK, "higher ok jump");
	CHECK(ota_cntr_check(OTA_CNTR_HIGHER, 5, 5) == OTA_POR_CNTR_LOW, "higher equal");
	CHECK(ota_cntr_check(OTA_CNTR_ONE_HIGHER, 5, 6) == OTA_POR_OK, "one higher ok");
	CHECK(ota_cntr_check(OTA_CNTR_ONE_HIGHER, 5, 7) == OTA_POR_CNTR_HIGH, "one higher jump");
	CHECK(ota_cntr_check(OTA_CNTR_ONE_HIGHER, 5, 4) == OTA_POR_CNTR_LOW, "one higher low");
	CHECK(ota_cntr_check(OTA_CNTR_HIGHER, OTA_CNTR_MAX, 0) == OTA_POR_CNTR_BLOCKED, "blocked");
	CHECK(ota_cntr_check(OTA_CNTR_NO_CHECK, 5, 0) == OTA_POR_OK, "no check");
	CHECK(!strcmp(ota_por_status_name(0x09), "TAR unknown") && !strcmp(ota_por_status_name(0xC3), "proprietary") &&
	      !strcmp(ota_por_status_name(0x0D), "reserved"), "status names");
}

int main(void)
{
	ctx = talloc_named_const(NULL, 0, "spkt_test");
	k8 = mk(8, 0x11);
	k16 = mk(16, 0x21);
	k16b = mk(16, 0x91);
	k24 = mk(24, 0x31);
	k32 = mk(32, 0x41);
	test_cmd_all_spi();
	test_cmd_errors();
	test_por();
	test_por_udh_variants();
	test_counters();
	talloc_free(ctx);
	TEST_DONE();
}
