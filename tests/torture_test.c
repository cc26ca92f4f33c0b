/* Codec torture: for every decoder and a set of valid inputs, decode every truncation and every single-byte
 * mutation (each position x all 255 other values), each from an exactly sized heap copy so that ASan catches
 * any read past the end. A decoder must return an error or a result that lies inside its input; never crash.
 * Built and run under ASan/UBSan by scripts/check. */
#include <talloc.h>
#include "tests/testlib.h"
#include "proto/bertlv.h"
#include "proto/gp_apdu.h"
#include "proto/ts102226_rcmd.h"
#include "proto/gp_cert.h"
#include "proto/ec.h"
#include "ota/keystore.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "ota/ts23040_tpdu.h"
#include "proto/errors.h"

static void *ctx;
static struct ota_sec sec;
static struct proto_ec_pub *ci_pk;

/* A decoder under test: returns < 0 for an error, >= 0 for success; must check its own output bounds and
 * return 99 if a success result points outside [in, in + len). */
typedef int (*decoder)(const uint8_t *in, size_t len);

#define INSIDE(p, n, in, len) (!(n) || ((const uint8_t *)(p) >= (in) && (const uint8_t *)(p) + (n) <= (in) + (len)))

static unsigned long runs;

static int run(decoder fn, const uint8_t *src, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, src, len);
	rc = fn(copy, len);
	free(copy);
	runs++;
	return rc;
}

static void torture_bin(const char *name, decoder fn, const uint8_t *in, size_t len)
{
	uint8_t *m = malloc(len + 1);
	size_t i;
	int rc, ok_mut = 0, v;

	rc = run(fn, in, len);
	CHECK(rc >= 0 && rc != 99, "%s: valid input rejected: %d (%s)", name, rc, proto_strerror(rc));
	for (i = 0; i < len; i++) {
		rc = run(fn, in, i);
		CHECK(rc != 99, "%s: truncation to %zu gives a result outside the input", name, i);
	}
	for (i = 0; i < len; i++) {
		memcpy(m, in, len);
		for (v = 0; v < 256; v++) {
			if (v == in[i])
				continue;
			m[i] = (uint8_t)v;
			rc = run(fn, m, len);
			CHECK(rc != 99, "%s: mutation %zu=%02x gives a result outside the input", name, i, v);
			ok_mut += rc >= 0;
		}
	}
	printf("%-10s %4zu bytes: %zu truncations, %zu mutations (%d decoded)\n", name, len, len, len * 255, ok_mut);
	free(m);
}

static void torture(const char *name, decoder fn, const char *hex)
{
	size_t cap = strlen(hex) / 2 + 1;
	uint8_t *in = malloc(cap);
	int len = proto_hex_decode(hex, in, cap);

	CHECK(len >= 0, "%s: bad hex", name);
	torture_bin(name, fn, in, len > 0 ? (size_t)len : 0);
	free(in);
}

static int d_tlv(const uint8_t *in, size_t len)
{
	struct proto_tlv t;
	int rc = proto_tlv_validate(in, len);
	if (rc == 0 && proto_tlv_decode(in, len, &t) > 0 && !INSIDE(t.val, t.len, in, len))
		return 99;
	return rc;
}

static int d_spkt(const uint8_t *in, size_t len)
{
	static uint8_t scratch[400];
	struct ota_spkt_cmd c;
	int rc = ota_spkt_cmd_decode(in, len, &sec, scratch, sizeof(scratch), &c);
	if (rc == 0 && !INSIDE(c.data, c.data_len, in, len) && !INSIDE(c.data, c.data_len, scratch, sizeof(scratch)))
		return 99;
	return rc;
}

static const uint8_t por_spi[2] = { 0x16, 0x39 };

static int d_por(const uint8_t *in, size_t len)
{
	static uint8_t scratch[400];
	struct ota_por p;
	int rc = ota_por_decode(in, len, true, por_spi, 0x12, 0x12, &sec, scratch, sizeof(scratch), &p);
	if (rc == 0 && !INSIDE(p.data, p.data_len, in, len) && !INSIDE(p.data, p.data_len, scratch, sizeof(scratch)))
		return 99;
	return rc;
}

static int d_udh(const uint8_t *in, size_t len)
{
	struct ota_sms_udh h;
	int rc = ota_sms_ud_parse(in, len, &h);
	if (rc == 0 && !INSIDE(h.payload, h.payload_len, in, len))
		return 99;
	return rc;
}

static int d_deliver(const uint8_t *in, size_t len)
{
	struct ota_tp_deliver d;
	int rc = ota_tp_deliver_decode(in, len, &d);
	if (rc == 0 && !INSIDE(d.ud, d.ud_len, in, len))
		return 99;
	return rc;
}

static int d_submit(const uint8_t *in, size_t len)
{
	struct ota_tp_submit s;
	int rc = ota_tp_submit_decode(in, len, &s);
	if (rc == 0 && !INSIDE(s.ud, s.ud_len, in, len))
		return 99;
	return rc;
}

static int d_cert(const uint8_t *in, size_t len)
{
	struct proto_gp_cert c;
	int rc = proto_gp_cert_decode(&c, in, len);
	if (rc < 0)
		return rc;
	if (!INSIDE(c.signed_data.p, c.signed_data.len, in, len) || !INSIDE(c.pk.p, c.pk.len, in, len))
		return 99;
	proto_gp_cert_verify(&c, ci_pk);
	return 0;
}

int main(void)
{
	uint8_t raw[16];
	int i;

	ctx = talloc_named_const(NULL, 0, "torture");
	for (i = 0; i < 16; i++)
		raw[i] = (uint8_t)(0x20 + i);
	ota_key_import(ctx, raw, 16, &sec.kic_key);
	raw[1] = 0x11;
	ota_key_import(ctx, raw, 16, &sec.kid_key);
	{
		uint8_t pk[65];
		proto_hex_decode("04f5d2ffb5293ed953053daf0865f7fcaee9790216ad861246777b3ccbe4077ba2"
				 "61bb8a999dd9d56f987e5ac8548afba5b11a91a786acfca4982b18c5192d15ca", pk, sizeof(pk));
		CHECK_RC(proto_ec_pub_new(ctx, 0x00, pk, sizeof(pk), &ci_pk), 0);
	}

	torture("tlv", d_tlv, "e3124f10a0000005591010ffffffff89000010009f700107");
	torture("tlv", d_tlv, "e1354c10890010120123412340123456789012244d01024e0200004f10a0000005591010ffffffff8900001300"
			      "14083a45990057918503");
	{
		/* SPI 1621 and a PoR with SPI2 39 (ciphered + CC), AES-128 */
		struct ota_cmd_hdr h = { .spi = { 0x16, 0x21 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 },
					 .cntr = { 0, 0, 0, 0, 7 } };
		struct ota_por_hdr ph = { .spi = { 0x16, 0x39 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 },
					  .cntr = { 0, 0, 0, 0, 7 } };
		uint8_t buf[200];
		struct proto_buf b;

		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, (const uint8_t *)"\xaa\x06\x22\x04\x80\xca\x00\xe0", 8), 0);
		torture_bin("spkt", d_spkt, b.data, b.len);
		h.spi[0] = 0x09;	/* CRC-32, clear */
		h.kid = 0x15;
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, (const uint8_t *)"\x01\x02", 2), 0);
		torture_bin("spkt-rc", d_spkt, b.data, b.len);
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(ota_por_encode(&b, &ph, &sec, true, (const uint8_t *)"\xab\x07\x80\x01\x01\x23\x02\x90\x00", 9), 0);
		torture_bin("por", d_por, b.data, b.len);
	}
	torture("udh", d_udh, "0700030a0301700000281506192222b00011");
	torture("deliver", d_deliver, "400891214365877ff62270520000000005027000aabb");
	torture("submit", d_submit, "5109048101107f16a70402710001");
	torture("cert", d_cert, "7f2181a59301024201025f2001029501885f2404214501017303c801017f4946b041046466e042804faac48f83"
				"9ea53e85d0b8b93f2f015028a472f07f3227af408170acfb39d198ba7d0dcff3de5032a6cc8f6acc84ef556bfe"
				"530dec0ff75f2af59af001005f37405f8fb981d078662bba38f22f4041ac8299b6869f724545fdcf0c2b8b575a"
				"e8ec3d6a12e2adab160646266ceea067baefbfb4899a5f71162b56770c63d029236d");
	printf("%lu decodes\n", runs);
	talloc_free(ctx);
	TEST_DONE();
}
