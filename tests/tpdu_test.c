/* ota/ts23040_tpdu: SMS-DELIVER / SMS-SUBMIT round trips, DCS alphabets, address coding, bad input. */
#include "tests/testlib.h"
#include "ota/ts23040_tpdu.h"
#include "proto/errors.h"

static void test_deliver(void)
{
	/* from scp80.json cmd-pysim-unittest-01: OA 12345678 (0x91), PID 7F, DCS F6 */
	const char *want = "400891214365877ff62270520000000005027000aabb";
	uint8_t ud[] = { 0x02, 0x70, 0x00, 0xaa, 0xbb }, mem[200];
	struct ota_tp_deliver d = { .first_octet = OTA_TP_UDHI, .oa = { "12345678", 0x91 }, .pid = 0x7f, .dcs = 0xf6,
				    .scts = { 0x22, 0x70, 0x52, 0, 0, 0, 0 }, .ud = ud, .ud_len = sizeof(ud) }, back;
	struct proto_buf b;

	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_tp_deliver_encode(&b, &d), 0);
	CHECK_HEX(b.data, b.len, want, "deliver");
	CHECK_RC(ota_tp_deliver_decode(b.data, b.len, &back), 0);
	CHECK(!strcmp(back.oa.digits, "12345678") && back.oa.toa == 0x91 && back.udl == 5 && back.ud_len == 5 &&
	      (back.first_octet & OTA_TP_UDHI), "deliver decoded");
	/* odd number of digits: F filler */
	strcpy(d.oa.digits, "4917000001*");
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_tp_deliver_encode(&b, &d), 0);
	CHECK_HEX(b.data + 1, 8, "0b919471000010fa", "odd address");
	CHECK(b.data[8] == 0xfa, "filler nibble");
	CHECK_RC(ota_tp_deliver_decode(b.data, b.len, &back), 0);
	CHECK(!strcmp(back.oa.digits, "4917000001*"), "odd digits back: %s", back.oa.digits);
	strcpy(d.oa.digits, "12x");
	CHECK_RC(ota_tp_deliver_encode(&b, &d), -EINVAL);
	CHECK_RC(ota_tp_deliver_decode(b.data, b.len - 1, &back), -PROTO_E_TRUNCATED);
	mem[b.len] = 0;
	CHECK_RC(ota_tp_deliver_decode(b.data, b.len + 1, &back), -PROTO_E_TRAILING);
	CHECK_RC(ota_tp_deliver_decode((const uint8_t *)"\x01", 1, &back), -PROTO_E_MALFORMED);	/* MTI submit */
	/* alphanumeric OA is not supported by the simulator's decoder */
	CHECK_RC(ota_tp_deliver_decode((const uint8_t *)"\x00\x04\xd0\x41\x42\x00\xf6\0\0\0\0\0\0\0\0", 15, &back),
		 -PROTO_E_UNSUPPORTED);
}

static void test_submit(void)
{
	uint8_t ud[140], mem[200];
	struct ota_tp_submit s = { .first_octet = OTA_TP_UDHI | 0x10 /* VPF relative */, .mr = 9,
				   .da = { "1001", 0x81 }, .pid = 0x7f, .dcs = 0x16, .vp = { 0xa7 }, .vp_len = 1,
				   .ud = ud, .ud_len = sizeof(ud) }, back;
	struct proto_buf b;

	memset(ud, 0x33, sizeof(ud));
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_tp_submit_encode(&b, &s), 0);
	CHECK_HEX(b.data, 10, "5109048101107f16a78c", "submit header");
	CHECK_RC(ota_tp_submit_decode(b.data, b.len, &back), 0);
	CHECK(back.mr == 9 && !strcmp(back.da.digits, "1001") && back.vp_len == 1 && back.vp[0] == 0xa7 &&
	      back.ud_len == 140 && back.udl == 140, "submit decoded");
	s.vp_len = 7;
	CHECK_RC(ota_tp_submit_encode(&b, &s), -EINVAL);	/* VPF says 1 */
	s.vp_len = 1;
	s.ud_len = 141;
	CHECK_RC(ota_tp_submit_encode(&b, &s), -EINVAL);
	/* 7-bit: 160 septets fit 140 octets */
	s.dcs = 0x00;
	s.udl = 160;
	s.ud_len = 140;
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_tp_submit_encode(&b, &s), 0);
	CHECK_RC(ota_tp_submit_decode(b.data, b.len, &back), 0);
	CHECK(back.udl == 160 && back.ud_len == 140, "7-bit lengths");
	/* UDL larger than the UD: truncated; UDL beyond 140 octets: malformed */
	mem[9] = 161;
	CHECK_RC(ota_tp_submit_decode(b.data, b.len, &back), -PROTO_E_MALFORMED);
}

static void test_dcs(void)
{
	static const struct { uint8_t dcs; int rc; enum ota_tp_alphabet a; } t[] = {
		{ 0x00, 0, OTA_TP_ALPHABET_7BIT }, { 0x04, 0, OTA_TP_ALPHABET_8BIT }, { 0x08, 0, OTA_TP_ALPHABET_UCS2 },
		{ 0x16, 0, OTA_TP_ALPHABET_8BIT }, { 0xf6, 0, OTA_TP_ALPHABET_8BIT }, { 0xf2, 0, OTA_TP_ALPHABET_7BIT },
		{ 0xc0, 0, OTA_TP_ALPHABET_7BIT }, { 0xe0, 0, OTA_TP_ALPHABET_UCS2 }, { 0x0c, -PROTO_E_UNSUPPORTED, 0 },
		{ 0x80, -PROTO_E_UNSUPPORTED, 0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum ota_tp_alphabet a = OTA_TP_ALPHABET_8BIT;
		int rc = ota_tp_dcs_alphabet(t[i].dcs, &a);
		CHECK(rc == t[i].rc && (rc || a == t[i].a), "dcs %02x", t[i].dcs);
	}
}

int main(void)
{
	test_deliver();
	test_submit();
	test_dcs();
	TEST_DONE();
}
