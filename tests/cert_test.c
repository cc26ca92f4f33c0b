/* GP '7F21' certificates and EC public keys: decode, verify and encode; every truncation and byte mutation of a
 * real certificate (no crash, never a valid signature); structural refusals; certificates on all three curves. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "tests/testlib.h"
#include "proto/bertlv.h"
#include "proto/buf.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "ota/keystore_ec.h"

static void *ctx;

/* CERT.DP.ECDSA signed by WHTY's CI test key (crypto.json sgp02_cert_dp_ecdsa, crypto.md §F item 5) */
static const char cert_hex[] =
	"7f2181a59301024201025f2001029501885f2404214501017303c801017f4946b041046466e042804faac48f839ea53e85d0"
	"b8b93f2f015028a472f07f3227af408170acfb39d198ba7d0dcff3de5032a6cc8f6acc84ef556bfe530dec0ff75f2af59af0"
	"01005f37405f8fb981d078662bba38f22f4041ac8299b6869f724545fdcf0c2b8b575ae8ec3d6a12e2adab160646266ceea0"
	"67baefbfb4899a5f71162b56770c63d029236d";
static const char ci_hex[] =
	"04f5d2ffb5293ed953053daf0865f7fcaee9790216ad861246777b3ccbe4077ba261bb8a999dd9d56f987e5ac8548afba5b1"
	"1a91a786acfca4982b18c5192d15ca";

static uint8_t cert[256], ci_pt[65];
static size_t cert_len;
static struct proto_ec_pub *ci;

static void test_vector_cert(void)
{
	struct proto_gp_cert c;
	struct proto_ec_pub *pk = NULL;

	cert_len = (size_t)proto_hex_decode(cert_hex, cert, sizeof(cert));
	CHECK(proto_hex_decode(ci_hex, ci_pt, sizeof(ci_pt)) == 65, "CI point");
	CHECK_RC(proto_ec_pub_new(ctx, PROTO_EC_REF_P256, ci_pt, 65, &ci), 0);
	CHECK_RC(proto_gp_cert_decode(&c, cert, cert_len), 0);
	CHECK_RC(proto_gp_cert_verify(&c, ci), 0);
	CHECK(c.signed_data.p == cert + 4 && c.signed_data.len == cert_len - 4 - 67, "signed data 93..7F49");
	CHECK_RC(proto_gp_cert_pubkey(ctx, &c, PROTO_EC_REF_BRAINPOOLP256R1, &pk), 0);
	CHECK(pk && pk->ref == PROTO_EC_REF_P256, "F0 wins over the default curve");
	talloc_free(pk);
}

/* Every prefix, and every prefix of the content under a consistent outer header, must be refused. */
static void test_truncations(void)
{
	struct proto_gp_cert c;
	uint8_t buf[256];
	size_t i;
	int rc;

	for (i = 0; i < cert_len; i++) {
		rc = proto_gp_cert_decode(&c, cert, i);
		CHECK(rc == -PROTO_E_TRUNCATED, "cert cut to %zu bytes: %d", i, rc);
		CHECK(!c.signed_data.p && !c.pk.p, "nothing left in c after an error");
	}
	/* content 93.. cut to i bytes, outer header rewritten to match */
	for (i = 0; i < cert_len - 4; i++) {
		struct proto_buf b;

		proto_buf_init(&b, buf, sizeof(buf));
		proto_tlv_put(&b, PROTO_GP_CERT_TAG, cert + 4, i);
		rc = proto_gp_cert_decode(&c, buf, b.len);
		CHECK(rc < 0, "content cut to %zu bytes decoded", i);
	}
	/* trailing byte after the certificate */
	memcpy(buf, cert, cert_len);
	buf[cert_len] = 0x00;
	CHECK_RC(proto_gp_cert_decode(&c, buf, cert_len + 1), -PROTO_E_TRAILING);
}

/* Every byte, mutated four ways: the decoder survives, and no mutation ever verifies. */
static void test_mutations(void)
{
	static const uint8_t how[][2] = { { 0x01, 0 }, { 0x80, 0 }, { 0x00, 1 }, { 0xFF, 1 } };
	struct proto_gp_cert c;
	uint8_t buf[256];
	size_t i, h;
	int decoded = 0;

	for (i = 0; i < cert_len; i++) {
		for (h = 0; h < 4; h++) {
			memcpy(buf, cert, cert_len);
			buf[i] = how[h][1] ? how[h][0] : (uint8_t)(buf[i] ^ how[h][0]);
			if (buf[i] == cert[i])
				continue;
			if (proto_gp_cert_decode(&c, buf, cert_len) < 0)
				continue;
			decoded++;
			CHECK(proto_gp_cert_verify(&c, ci) < 0, "mutation %02x at %zu still verifies", buf[i], i);
		}
	}
	CHECK(decoded > 100, "most content mutations still decode (%d)", decoded);
}

/* Build a certificate from raw TLVs (the signed part) and sign it with sk; returns the length. */
static size_t build(uint8_t *out, size_t cap, const uint8_t *body, size_t body_len, struct ota_eckey *sk,
		    const uint8_t *after, size_t after_len)
{
	uint8_t sig[64], inner[512];
	struct proto_buf b;

	CHECK_RC(ota_eckey_sign(sk, body, body_len, sig), 0);
	proto_buf_init(&b, inner, sizeof(inner));
	proto_buf_put(&b, body, body_len);
	proto_tlv_put(&b, PROTO_GP_CERT_SIGNATURE, sig, sizeof(sig));
	proto_buf_put(&b, after, after_len);
	CHECK_RC(proto_buf_status(&b), 0);
	{
		struct proto_buf o;

		proto_buf_init(&o, out, cap);
		proto_tlv_put(&o, PROTO_GP_CERT_TAG, inner, b.len);
		CHECK_RC(proto_buf_status(&o), 0);
		return o.len;
	}
}

/* The signed part with optional extras; point = subject key. */
static size_t body(uint8_t *out, size_t cap, const uint8_t *point, int ref, const char *extra_hex, bool date3)
{
	struct proto_buf b;
	uint8_t extra[64];
	int n = extra_hex ? proto_hex_decode(extra_hex, extra, sizeof(extra)) : 0;
	size_t m;

	proto_buf_init(&b, out, cap);
	proto_tlv_put(&b, 0x93, "\x01\x02", 2);
	proto_tlv_put(&b, 0x42, "\x45\x55\x4D", 3);
	proto_tlv_put(&b, 0x5F20, "\x89\x04\x90\x32", 4);
	proto_tlv_put(&b, 0x95, "\x00\x80", 2);
	proto_tlv_put(&b, 0x5F25, "\x20\x24\x02\x29", 4);
	if (date3)
		proto_tlv_put(&b, 0x5F24, "\x49\x12\x31", 3);
	else
		proto_tlv_put(&b, 0x5F24, "\x20\x49\x12\x31", 4);
	proto_tlv_put(&b, 0x45, "\x01", 1);
	if (n > 0)
		proto_buf_put(&b, extra, (size_t)n);
	proto_tlv_put(&b, 0x73, "\xC8\x01\x01", 3);
	m = proto_tlv_open(&b, 0x7F49);
	proto_tlv_put(&b, 0xB0, point, 65);
	if (ref >= 0) {
		uint8_t r = (uint8_t)ref;
		proto_tlv_put(&b, 0xF0, &r, 1);
	}
	proto_tlv_close(&b, m);
	return b.len;
}

static void test_curves(void)
{
	static const uint8_t refs[] = { PROTO_EC_REF_P256, PROTO_EC_REF_BRAINPOOLP256R1, PROTO_EC_REF_FRP256V1 };
	uint8_t bd[256], cbuf[400], rebuilt[400];
	size_t i, bl, cl;

	for (i = 0; i < sizeof(refs); i++) {
		struct ota_eckey *issuer = NULL, *subject = NULL;
		struct proto_ec_pub *ipk = NULL, *spk = NULL;
		struct proto_gp_cert c;
		struct proto_buf b;

		CHECK_RC(ota_eckey_generate(ctx, refs[i], &issuer), 0);
		CHECK_RC(ota_eckey_generate(ctx, refs[i], &subject), 0);
		if (!issuer || !subject)
			continue;
		CHECK_RC(ota_eckey_public_key(ctx, issuer, &ipk), 0);

		/* all optional fields, 3-byte expiry, an unknown tag before 7F49 (covered by the signature) */
		bl = body(bd, sizeof(bd), ota_eckey_public(subject), refs[i], "c9020102", true);
		cl = build(cbuf, sizeof(cbuf), bd, bl, issuer, NULL, 0);
		CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), 0);
		CHECK_RC(proto_gp_cert_verify(&c, ipk), 0);
		CHECK(c.effective_date == 20240229 && c.expiry_date == 20491231, "dates %u %u", c.effective_date,
		      c.expiry_date);
		CHECK(c.tag45.len == 1 && c.key_usage.len == 2 && c.has_curve_ref && c.curve_ref == refs[i], "fields");
		CHECK_RC(proto_gp_cert_pubkey(ctx, &c, PROTO_EC_REF_P256, &spk), 0);
		CHECK(spk && spk->ref == refs[i] && !memcmp(spk->point, ota_eckey_public(subject), 65), "subject key");
		talloc_free(spk);
		spk = NULL;

		/* canonical certificate (no unknown tag, 4-byte date, no F0): encode reproduces it exactly */
		bl = body(bd, sizeof(bd), ota_eckey_public(subject), -1, NULL, false);
		cl = build(cbuf, sizeof(cbuf), bd, bl, issuer, NULL, 0);
		CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), 0);
		CHECK_RC(proto_gp_cert_verify(&c, ipk), 0);
		CHECK(!c.has_curve_ref, "no F0");
		proto_buf_init(&b, rebuilt, sizeof(rebuilt));
		CHECK_RC(proto_gp_cert_encode(&b, &c), 0);
		CHECK(b.len == cl && !memcmp(rebuilt, cbuf, cl), "encode(decode(x)) == x");
		/* without F0, the caller's default curve applies */
		CHECK_RC(proto_gp_cert_pubkey(ctx, &c, refs[i], &spk), 0);
		CHECK(spk && spk->ref == refs[i], "default curve used");
		talloc_free(spk);
		spk = NULL;
		if (refs[i] != PROTO_EC_REF_P256)
			CHECK_RC(proto_gp_cert_pubkey(ctx, &c, PROTO_EC_REF_P256, &spk), -PROTO_E_MALFORMED);

		/* the issuer's key on another curve cannot verify (signature made on refs[i]) */
		CHECK(proto_gp_cert_verify(&c, ci) < 0, "foreign issuer refused");

		/* trailing TLV after 5F37 */
		cl = build(cbuf, sizeof(cbuf), bd, bl, issuer, (const uint8_t *)"\x93\x00", 2);
		CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), -PROTO_E_TRAILING);

		talloc_free(issuer);
		talloc_free(subject);
		talloc_free(ipk);
		talloc_free(spk);
	}
}

/* Structural refusals, each on an otherwise valid certificate. */
static void test_structure(void)
{
	static const struct {
		const char *extra;	/* inserted after 45 */
		int want;
		const char *what;
	} cases[] = {
		{ "930101", -PROTO_E_MALFORMED, "duplicate 93" },
		{ "420101", -PROTO_E_MALFORMED, "42 out of order" },
		{ "5f240420491231", -PROTO_E_MALFORMED, "duplicate 5F24" },
		{ "9f7f00", 0, "unknown tag tolerated" },
	};
	struct ota_eckey *k = NULL;
	struct proto_gp_cert c;
	uint8_t bd[256], cbuf[400];
	size_t i, bl, cl;

	CHECK_RC(ota_eckey_generate(ctx, PROTO_EC_REF_P256, &k), 0);
	if (!k)
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bl = body(bd, sizeof(bd), ota_eckey_public(k), 0, cases[i].extra, false);
		cl = build(cbuf, sizeof(cbuf), bd, bl, k, NULL, 0);
		CHECK(proto_gp_cert_decode(&c, cbuf, cl) == cases[i].want, "%s", cases[i].what);
	}

	/* byte surgery on a canonical certificate: 93 02 | 42 03 | 5F20 04 | 95 02 | 5F25 04 | 5F24 04 | 45 01 ... */
	bl = body(bd, sizeof(bd), ota_eckey_public(k), 0, NULL, false);
	cl = build(cbuf, sizeof(cbuf), bd, bl, k, NULL, 0);
	CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), 0);
	{
		struct {
			size_t off;
			uint8_t val;
			int want;
			const char *what;
		} edits[] = {
			{ 3, 0x42, -PROTO_E_MALFORMED, "first TLV not 93" },
			{ 0, 0x5F, -PROTO_E_MALFORMED, "outer tag 5F21" },
			{ 1, 0x22, -PROTO_E_MALFORMED, "outer tag 7F22" },
		};
		uint8_t tmp[400];
		size_t e;

		for (e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
			memcpy(tmp, cbuf, cl);
			tmp[edits[e].off] = edits[e].val;
			CHECK(proto_gp_cert_decode(&c, tmp, cl) < 0, "%s", edits[e].what);
		}
	}

	/* dates: bad BCD, month 13, 2-byte date */
	{
		static const char *bad[] = { "5f24042049123a", "5f240420491301", "5f24022049" };
		uint8_t tmp[256];
		struct proto_buf b;
		size_t j;

		for (j = 0; j < 3; j++) {
			uint8_t d[8];
			int n = proto_hex_decode(bad[j], d, sizeof(d));

			/* 93 42 5F20 95 then the bad expiry, then 7F49 of the canonical body */
			proto_buf_init(&b, tmp, sizeof(tmp));
			proto_buf_put(&b, bd, 4 + 5 + 7 + 4);
			proto_buf_put(&b, d, (size_t)n);
			proto_buf_put(&b, bd + bl - (3 + 2 + 65 + 3), 3 + 2 + 65 + 3);
			cl = build(cbuf, sizeof(cbuf), tmp, b.len, k, NULL, 0);
			CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), -PROTO_E_MALFORMED);
		}
		/* the same construction with a good date decodes: the offsets above are right */
		proto_buf_init(&b, tmp, sizeof(tmp));
		proto_buf_put(&b, bd, 4 + 5 + 7 + 4);
		proto_buf_put(&b, "\x5f\x24\x04\x20\x49\x12\x31", 7);
		proto_buf_put(&b, bd + bl - (3 + 2 + 65 + 3), 3 + 2 + 65 + 3);
		cl = build(cbuf, sizeof(cbuf), tmp, b.len, k, NULL, 0);
		CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), 0);
		/* and without 5F24 at all: missing mandatory field */
		proto_buf_init(&b, tmp, sizeof(tmp));
		proto_buf_put(&b, bd, 4 + 5 + 7 + 4);
		proto_buf_put(&b, bd + bl - (3 + 2 + 65 + 3), 3 + 2 + 65 + 3);
		cl = build(cbuf, sizeof(cbuf), tmp, b.len, k, NULL, 0);
		CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), -PROTO_E_MALFORMED);
	}

	/* 7F49 content: extra TLV, F0 of 2 bytes, F0 before B0, empty (prefix, subject point?, suffix) */
	{
		static const struct {
			const char *pre, *post;
			bool point;
		} bad[] = {
			{ "7f4949b041", "f00100810100", true },
			{ "7f4947b041", "f0020000", true },
			{ "7f4946f00100b041", "", true },
			{ "7f4900", "", false },
			{ "7f4946b041", "810100", true },
		};
		uint8_t tmp[256], d[16];
		struct proto_buf b;
		size_t j;

		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			proto_buf_init(&b, tmp, sizeof(tmp));
			proto_buf_put(&b, bd, bl - (3 + 2 + 65 + 3));
			proto_buf_put(&b, d, (size_t)proto_hex_decode(bad[j].pre, d, sizeof(d)));
			if (bad[j].point)
				proto_buf_put(&b, ota_eckey_public(k), 65);
			proto_buf_put(&b, d, (size_t)proto_hex_decode(bad[j].post, d, sizeof(d)));
			CHECK_RC(proto_buf_status(&b), 0);
			cl = build(cbuf, sizeof(cbuf), tmp, b.len, k, NULL, 0);
			CHECK_RC(proto_gp_cert_decode(&c, cbuf, cl), -PROTO_E_MALFORMED);
		}
	}
	talloc_free(k);
}

static void test_points(void)
{
	static const uint8_t refs[] = { PROTO_EC_REF_P256, PROTO_EC_REF_BRAINPOOLP256R1, PROTO_EC_REF_FRP256V1 };
	struct proto_ec_pub *pk = NULL;
	struct ota_eckey *k = NULL;
	uint8_t pt[66];
	size_t i;

	for (i = 0; i < sizeof(refs); i++) {
		CHECK_RC(ota_eckey_generate(ctx, refs[i], &k), 0);
		if (!k)
			continue;
		memcpy(pt, ota_eckey_public(k), 65);
		CHECK(proto_ec_point_on_curve(refs[i], pt, 65), "own point on %s", proto_ec_ref_name(refs[i]));
		CHECK(!proto_ec_point_on_curve(refs[(i + 1) % 3], pt, 65), "not on the next curve");
		pt[64] ^= 1;
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 65, &pk), -PROTO_E_MALFORMED);	/* off-curve */
		pt[64] ^= 1;
		pt[0] = 0x02;
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 65, &pk), -PROTO_E_MALFORMED);	/* not uncompressed */
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 33, &pk), -PROTO_E_MALFORMED);	/* compressed size */
		pt[0] = 0x04;
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 64, &pk), -PROTO_E_MALFORMED);
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 66, &pk), -PROTO_E_MALFORMED);
		memset(pt + 1, 0xFF, 32);	/* x >= p */
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 65, &pk), -PROTO_E_MALFORMED);
		memset(pt + 1, 0x00, 64);	/* (0, 0) */
		CHECK_RC(proto_ec_pub_new(ctx, refs[i], pt, 65, &pk), -PROTO_E_MALFORMED);
		CHECK(pk == NULL, "no key on failure");
		talloc_free(k);
		k = NULL;
	}
	CHECK_RC(proto_ec_pub_new(ctx, 0x01, ci_pt, 65, &pk), -PROTO_E_UNSUPPORTED);
	CHECK(!strcmp(proto_ec_ref_name(0x40), "FRP256V1") && !strcmp(proto_ec_ref_name(0x09), "unknown"), "names");
}

int main(void)
{
	void *top = talloc_new(NULL);

	ctx = talloc_new(top);
	test_vector_cert();
	test_truncations();
	test_mutations();
	test_curves();
	test_structure();
	test_points();
	talloc_free(ci);
	CHECK(talloc_total_blocks(ctx) == 1, "talloc blocks left: %zu", talloc_total_blocks(ctx));
	talloc_free(top);
	TEST_DONE();
}
