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
#include "ota/gp_scp03.h"
#include "ota/gp_ecka.h"
#include "proto/errors.h"
#include "tests/vectors.h"

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

static int d_script(const uint8_t *in, size_t len)
{
	struct proto_rcmd_script sc;
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	int rc = proto_rcmd_script_decode(in, len, &sc);
	if (rc < 0)
		return rc;
	proto_rcmd_script_iter_init(&it, &sc);
	while ((rc = proto_rcmd_script_next(&it, &c)) > 0)
		if (!INSIDE(c.raw, c.raw_len, in, len) || !INSIDE(c.apdu.data, c.apdu.lc, in, len))
			return 99;
	return rc;
}

static int d_rsp(const uint8_t *in, size_t len)
{
	struct proto_rcmd_rsp r;
	struct proto_rcmd_iter it;
	struct proto_rapdu ra;
	int rc = proto_rcmd_rsp_decode(in, len, &r);
	if (rc < 0)
		return rc;
	proto_rcmd_rsp_iter_init(&it, &r);
	while ((rc = proto_rcmd_rsp_next(&it, &ra)) > 0)
		if (!INSIDE(ra.data, ra.len, in, len))
			return 99;
	return rc;
}

static int d_apdu(const uint8_t *in, size_t len)
{
	struct proto_apdu a;
	int rc = proto_apdu_decode(in, len, &a);
	if (rc == 0 && !INSIDE(a.data, a.lc, in, len))
		return 99;
	return rc;
}

static int d_iu_rsp(const uint8_t *in, size_t len)
{
	struct ota_scp03_iu_rsp r;
	return ota_scp03_iu_rsp_decode(&r, in, len);
}

static int d_crt(const uint8_t *in, size_t len)
{
	struct ota_ecka_crt crt;
	int rc = ota_ecka_crt_decode(&crt, in, len);
	if (rc == 0 && !INSIDE(crt.counter, crt.counter_len, in, len))
		return 99;
	return rc;
}

static int d_keyparams(const uint8_t *in, size_t len)
{
	struct ota_ecka_keyparams kp;
	int rc = ota_ecka_keyparams_decode(&kp, in, len);
	if (rc == 0 && (!INSIDE(kp.dgi, kp.dgi_len, in, len) || !INSIDE(kp.crt, kp.crt_len, in, len) ||
			!INSIDE(kp.epk, kp.epk_len, in, len) || !INSIDE(kp.sig, kp.sig_len, in, len)))
		return 99;
	return rc;
}

static int d_receipt(const uint8_t *in, size_t len)
{
	const uint8_t *dr, *receipt;
	size_t dr_len;
	int rc = ota_ecka_receipt_rsp_decode(in, len, &dr, &dr_len, &receipt);
	if (rc == 0 && (!INSIDE(dr, dr_len, in, len) || !INSIDE(receipt, 16, in, len)))
		return 99;
	return rc;
}

/* SCP03t: a fresh card session (same keys and challenges, opened by the host's EXTERNAL AUTHENTICATE) for every
 * attempt, since a MAC failure closes the session as it should */
static struct ota_key *t_enc, *t_mac;
static const uint8_t t_hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, t_cc[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
static uint8_t t_ea[32];
static size_t t_ea_len;

static int d_scp03t(const uint8_t *in, size_t len)
{
	struct ota_scp03 *card;
	uint8_t out[512];
	struct proto_buf b;
	int rc;

	if (ota_scp03_new(ctx, t_enc, t_mac, t_hc, t_cc, &card) || ota_scp03t_ext_auth_check(card, t_ea, t_ea_len))
		return 99;
	proto_buf_init(&b, out, sizeof(out));
	rc = ota_scp03t_unwrap_cmd(card, in, len, &b);
	talloc_free(card);
	return rc;
}

static void torture_scp03t(void)
{
	struct ota_scp03 *host;
	uint8_t raw[16], w[300], data[100];
	struct proto_buf b;
	size_t i;

	for (i = 0; i < 16; i++)
		raw[i] = (uint8_t)(0x40 + i);
	ota_key_import(ctx, raw, 16, &t_enc);
	raw[0] = 0x99;
	ota_key_import(ctx, raw, 16, &t_mac);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	CHECK_RC(ota_scp03_new(ctx, t_enc, t_mac, t_hc, t_cc, &host), 0);
	proto_buf_init(&b, t_ea, sizeof(t_ea));
	CHECK_RC(ota_scp03t_ext_auth_encode(host, 0x33, &b), 0);
	t_ea_len = b.len;
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03t_wrap_cmd(host, data, sizeof(data), &b), 0);
	torture_bin("scp03t-86", d_scp03t, b.data, b.len);
	talloc_free(host);
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
	torture("tlv", d_tlv,
		"e1354c10890010120123412340123456789012244d01024e0200004f10a0000005591010ffffffff8900001300"
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
		CHECK_RC(ota_por_encode(&b, &ph, &sec, true, (const uint8_t *)"\xab\x07\x80\x01\x01\x23\x02\x90\x00",
					9),
			 0);
		torture_bin("por", d_por, b.data, b.len);
	}
	torture("udh", d_udh, "0700030a0301700000281506192222b00011");
	torture("deliver", d_deliver, "400891214365877ff62270520000000005027000aabb");
	torture("submit", d_submit, "5109048101107f16a70402710001");
	torture("script", d_script,
		"aa6d224b80e60c004510a0000005591010ffffffff8900000d0010a0000005591010ffffffff8900000e001"
		"0a0000005591010ffffffff89000012000380c0000cc90481020370ef04830280000000221e80f24002184f10"
		"a0000005591010ffffffff89000012005c044f9f705300");
	torture("script", d_script, "ae80220d80e28900073a08044e020001008301030000");
	torture("rsp", d_rsp, "ab2680010223029000231de3194f10a0000005591010ffffffff89000012009f7001035301009000");
	torture("rsp", d_rsp, "af8023148610000102030405060708090a0b0c0d0e0f90000000");
	torture("apdu", d_apdu, "80e28800153a03124f10a0000005591010ffffffff8900001200");
	torture("iu-rsp", d_iu_rsp, "000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002");
	torture("crt", d_crt, "a615900203099501108001888101108201018301309100");
	torture("receipt", d_receipt, "8610b5c6ea8b5bde27d34dec04b18d005179");
	{
		/* the 3A02 STORE DATA payload of crypto.json sgp02_scenario3_reference */
		json_t *root = vec_load("crypto.json");
		const char *apdu = vec_str(json_object_get(root, "sgp02_scenario3_reference"), "store_data_2_apdu");
		CHECK(apdu && strlen(apdu) > 10, "store_data_2_apdu in crypto.json");
		if (apdu && strlen(apdu) > 10)
			torture("keyparams", d_keyparams, apdu + 10);
		json_decref(root);
	}
	torture_scp03t();
	torture("cert", d_cert,
		"7f2181a59301024201025f2001029501885f2404214501017303c801017f4946b041046466e042804faac48f83"
		"9ea53e85d0b8b93f2f015028a472f07f3227af408170acfb39d198ba7d0dcff3de5032a6cc8f6acc84ef556bfe"
		"530dec0ff75f2af59af001005f37405f8fb981d078662bba38f22f4041ac8299b6869f724545fdcf0c2b8b575a"
		"e8ec3d6a12e2adab160646266ceea067baefbfb4899a5f71162b56770c63d029236d");
	printf("%lu decodes\n", runs);
	talloc_free(ctx);
	TEST_DONE();
}
