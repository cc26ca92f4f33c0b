/* Scenario #3 key establishment and the EC keystore: both sides end to end on every curve, KUQ 10 and 5C, with and
 * without DR; negative paths (bad signature, wrong RC, bad receipt, off-curve ePK, malformed CRT and payloads). */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <openssl/rand.h>
#include "tests/testlib.h"
#include "proto/buf.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "ota/keystore.h"
#include "ota/keystore_ec.h"
#include "ota/gp_ecka.h"

static void *ctx;

static const uint8_t curves[] = { PROTO_EC_REF_P256, PROTO_EC_REF_BRAINPOOLP256R1, PROTO_EC_REF_FRP256V1 };

static bool same_key(struct ota_key *a, struct ota_key *b)
{
	uint8_t x[32], y[32];
	int n = a && b ? ota_key_export(a, x, sizeof(x)) : -1;

	return n > 0 && ota_key_export(b, y, sizeof(y)) == n && memcmp(x, y, (size_t)n) == 0;
}

/* The whole exchange: SM-DP builds the 3A02 STORE DATA, the card answers, the SM-DP checks the receipt. */
static void flow(uint8_t curve, uint8_t kuq, bool with_dr)
{
	struct ota_ecka_crt crt = {
		.scenario_params = OTA_ECKA_SP_CERT | OTA_ECKA_SP_DELETE_KEYS | (with_dr ? OTA_ECKA_SP_DR : 0),
		.kuq = kuq, .key_type = OTA_ECKA_KEY_TYPE_AES, .key_len = 16, .key_id = 1, .kvn = 0x30,
	};
	struct ota_eckey *sk_dp = NULL, *sk_ecasd = NULL, *esk = NULL;
	struct proto_ec_pub *pk_dp = NULL, *pk_ecasd = NULL;
	struct ota_ecka_keys kc, kd;
	uint8_t rc[16], dr[16], apdu[300], rsp[64], crtbuf[64], rcrsp[32];
	const uint8_t *rcp;
	size_t rclen, i;
	struct proto_buf b, cb;

	RAND_bytes(rc, sizeof(rc));
	RAND_bytes(dr, sizeof(dr));
	/* SK.DP.ECDSA on P-256 (the CI world), the ECASD and the ephemeral key on the curve under test */
	CHECK_RC(ota_eckey_generate(ctx, PROTO_EC_REF_P256, &sk_dp), 0);
	CHECK_RC(ota_eckey_generate(ctx, curve, &sk_ecasd), 0);
	CHECK_RC(ota_eckey_public_key(ctx, sk_dp, &pk_dp), 0);
	CHECK_RC(ota_eckey_public_key(ctx, sk_ecasd, &pk_ecasd), 0);
	if (!sk_dp || !sk_ecasd || !pk_dp || !pk_ecasd)
		return;

	/* first STORE DATA answer: 85 10 RC */
	proto_buf_init(&b, rcrsp, sizeof(rcrsp));
	CHECK_RC(ota_ecka_challenge_encode(&b, rc, sizeof(rc)), 0);
	CHECK_RC(ota_ecka_challenge_decode(b.data, b.len, &rcp, &rclen), 0);
	CHECK(rclen == 16 && memcmp(rcp, rc, 16) == 0, "RC round trip");

	proto_buf_init(&b, apdu, sizeof(apdu));
	CHECK_RC(ota_ecka_dp_keyparams(ctx, sk_dp, curve, &crt, rc, sizeof(rc), &esk, &b), 0);
	CHECK(b.len > 5 && !memcmp(apdu, "\x80\xE2\x89\x01", 4) && apdu[4] == b.len - 5, "3A02 STORE DATA header");
	CHECK(esk && ota_eckey_curve(esk) == curve, "ephemeral key on the ECASD curve");
	proto_buf_init(&cb, crtbuf, sizeof(crtbuf));
	CHECK_RC(ota_ecka_crt_encode(&cb, &crt), 0);

	proto_buf_init(&b, rsp, sizeof(rsp));
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, sizeof(rc), apdu + 5, apdu[4], with_dr ? dr : NULL,
					 with_dr ? sizeof(dr) : 0, &kc, &b), 0);
	CHECK(b.len == (with_dr ? 36u : 18u), "receipt response length");
	CHECK_RC(ota_ecka_dp_finish(ctx, esk, pk_ecasd, cb.data, cb.len, rsp, b.len, &kd), 0);
	CHECK(kc.nkeys == (kuq == OTA_ECKA_KUQ_SC_KEYS ? 3u : 1u) && kd.nkeys == kc.nkeys, "key count, KUQ %02x",
	      kuq);
	CHECK(!kc.receipt && !kd.receipt, "receipt keys dropped");
	for (i = 0; i < kc.nkeys; i++)
		CHECK(same_key(kc.key[i], kd.key[i]), "key %zu agrees (%s, KUQ %02x, DR %d)", i,
		      proto_ec_ref_name(curve), kuq, with_dr);

	/* a flipped receipt bit: no keyset */
	ota_ecka_keys_free(&kd);
	rsp[b.len - 1] ^= 1;
	CHECK_RC(ota_ecka_dp_finish(ctx, esk, pk_ecasd, cb.data, cb.len, rsp, b.len, &kd), -PROTO_E_INTEGRITY);
	CHECK(!kd.key[0] && !kd.receipt, "no keys after a bad receipt");
	rsp[b.len - 1] ^= 1;
	/* a response without the DR the CRT asked for (or with one it did not) */
	if (with_dr)
		CHECK_RC(ota_ecka_dp_finish(ctx, esk, pk_ecasd, cb.data, cb.len, rsp + 18, 18, &kd),
			 -PROTO_E_MALFORMED);

	ota_ecka_keys_free(&kc);
	ota_ecka_keys_free(&kd);
	talloc_free(esk);
	talloc_free(sk_dp);
	talloc_free(sk_ecasd);
	talloc_free(pk_dp);
	talloc_free(pk_ecasd);
}

static void test_flows(void)
{
	size_t i;

	for (i = 0; i < sizeof(curves); i++) {
		flow(curves[i], OTA_ECKA_KUQ_SC_KEYS, false);
		flow(curves[i], OTA_ECKA_KUQ_SC_KEYS, true);
		flow(curves[i], OTA_ECKA_KUQ_BASE_KEY, false);
	}
}

/* Card-side refusals: bad signature, wrong RC, off-curve ePK (validly signed), wrong DR usage. */
static void test_card_negative(void)
{
	static const uint8_t a6[] = { 0xA6, 0x15, 0x90, 0x02, 0x03, 0x09, 0x95, 0x01, 0x10, 0x80, 0x01, 0x88, 0x81,
				      0x01, 0x10, 0x82, 0x01, 0x01, 0x83, 0x01, 0x30, 0x91, 0x00 };
	struct ota_eckey *sk_dp = NULL, *sk_ecasd = NULL, *esk = NULL;
	struct proto_ec_pub *pk_dp = NULL;
	struct ota_ecka_keys k;
	uint8_t rc[16] = { 1 }, rc2[16] = { 2 }, epk[65], sig[64], payload[300], rsp[64];
	struct proto_buf b;
	size_t plen, i;

	CHECK_RC(ota_eckey_generate(ctx, PROTO_EC_REF_P256, &sk_dp), 0);
	CHECK_RC(ota_eckey_generate(ctx, PROTO_EC_REF_P256, &sk_ecasd), 0);
	CHECK_RC(ota_eckey_generate(ctx, PROTO_EC_REF_P256, &esk), 0);
	CHECK_RC(ota_eckey_public_key(ctx, sk_dp, &pk_dp), 0);
	if (!sk_dp || !sk_ecasd || !esk || !pk_dp)
		return;
	memcpy(epk, ota_eckey_public(esk), 65);

	CHECK_RC(ota_ecka_keyparams_sign(sk_dp, a6, sizeof(a6), epk, 65, rc, 16, sig), 0);
	proto_buf_init(&b, payload, sizeof(payload));
	CHECK_RC(ota_ecka_keyparams_payload(&b, a6, sizeof(a6), epk, 65, sig, 64), 0);
	plen = b.len;

	proto_buf_init(&b, rsp, sizeof(rsp));
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc2, 16, payload, plen, NULL, 0, &k, &b),
		 -PROTO_E_INTEGRITY);	/* signed over another RC */
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, 16, payload, plen, rc, 16, &k, &b), -EINVAL);
	payload[plen - 5] ^= 0x10;	/* signature */
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, 16, payload, plen, NULL, 0, &k, &b),
		 -PROTO_E_INTEGRITY);
	payload[plen - 5] ^= 0x10;
	payload[10] ^= 0x01;		/* CRT content */
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, 16, payload, plen, NULL, 0, &k, &b),
		 -PROTO_E_INTEGRITY);
	payload[10] ^= 0x01;
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, 16, payload, plen, NULL, 0, &k, &b), 0);
	CHECK(b.len == 18 && k.nkeys == 3, "unmodified payload accepted");
	ota_ecka_keys_free(&k);

	/* every truncation of the payload is refused */
	for (i = 0; i < plen; i++) {
		int rc_ = ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, 16, payload, i, NULL, 0, &k, &b);

		CHECK(rc_ == -PROTO_E_TRUNCATED || rc_ == -PROTO_E_MALFORMED, "payload cut to %zu: %d", i, rc_);
	}
	CHECK_RC(ota_ecka_keyparams_decode(&(struct ota_ecka_keyparams){ 0 }, payload, plen + 1),
		 -PROTO_E_TRAILING);

	/* an off-curve ePK, validly signed, is refused before any ECDH */
	epk[64] ^= 0x01;
	CHECK_RC(ota_ecka_keyparams_sign(sk_dp, a6, sizeof(a6), epk, 65, rc, 16, sig), 0);
	proto_buf_init(&b, payload, sizeof(payload));
	CHECK_RC(ota_ecka_keyparams_payload(&b, a6, sizeof(a6), epk, 65, sig, 64), 0);
	plen = b.len;
	proto_buf_init(&b, rsp, sizeof(rsp));
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, 16, payload, plen, NULL, 0, &k, &b),
		 -PROTO_E_MALFORMED);
	CHECK(b.len == 0 && !k.key[0], "no response, no keys");

	talloc_free(sk_dp);
	talloc_free(sk_ecasd);
	talloc_free(esk);
	talloc_free(pk_dp);
}

static void test_crt(void)
{
	static const uint8_t good[] = { 0xA6, 0x15, 0x90, 0x02, 0x03, 0x09, 0x95, 0x01, 0x10, 0x80, 0x01, 0x88, 0x81,
					0x01, 0x10, 0x82, 0x01, 0x01, 0x83, 0x01, 0x30, 0x91, 0x00 };
	struct ota_ecka_crt crt;
	uint8_t buf[64], si[64];
	struct proto_buf b;
	size_t i;

	CHECK_RC(ota_ecka_crt_decode(&crt, good, sizeof(good)), 0);
	for (i = 0; i < sizeof(good); i++)
		CHECK(ota_ecka_crt_decode(&crt, good, i) < 0, "CRT cut to %zu", i);
	memcpy(buf, good, sizeof(good));
	buf[sizeof(good)] = 0;
	CHECK_RC(ota_ecka_crt_decode(&crt, buf, sizeof(good) + 1), -PROTO_E_TRAILING);
	buf[6] = 0x82;	/* 95 replaced by a second 82 */
	CHECK_RC(ota_ecka_crt_decode(&crt, buf, sizeof(good)), -PROTO_E_MALFORMED);
	memcpy(buf, good, sizeof(good));
	buf[4] = 0x02;	/* scenario #2 */
	CHECK_RC(ota_ecka_crt_decode(&crt, buf, sizeof(good)), -PROTO_E_UNSUPPORTED);
	memcpy(buf, good, sizeof(good));
	buf[21] = 0x99;	/* unknown tag */
	CHECK_RC(ota_ecka_crt_decode(&crt, buf, sizeof(good)), -PROTO_E_MALFORMED);
	buf[0] = 0xA7;
	CHECK_RC(ota_ecka_crt_decode(&crt, buf, sizeof(good)), -PROTO_E_MALFORMED);
	/* missing 83 */
	memcpy(buf, good, sizeof(good));
	buf[1] = 0x12;
	buf[18] = 0x91;
	buf[19] = 0x00;
	CHECK_RC(ota_ecka_crt_decode(&crt, buf, 20), -PROTO_E_MALFORMED);

	/* SharedInfo rules */
	CHECK_RC(ota_ecka_crt_decode(&crt, good, sizeof(good)), 0);
	proto_buf_init(&b, si, sizeof(si));
	CHECK_RC(ota_ecka_shared_info(&b, &crt, si, 16), -EINVAL);		/* DR without b2 */
	crt.scenario_params |= OTA_ECKA_SP_DR;
	CHECK_RC(ota_ecka_shared_info(&b, &crt, NULL, 0), -EINVAL);		/* b2 without DR */
	CHECK_RC(ota_ecka_shared_info(&b, &crt, si, 15), -EINVAL);		/* DR length */
	crt.scenario_params |= OTA_ECKA_SP_HOST_ID;
	CHECK_RC(ota_ecka_shared_info(&b, &crt, si, 16), -PROTO_E_UNSUPPORTED);
	/* encode with the optional fields, decode back */
	memset(&crt, 0, sizeof(crt));
	crt.scenario_params = 0x0E;
	crt.kuq = 0x5C;
	crt.has_key_access = true;
	crt.key_access = 0x01;
	crt.key_type = 0x88;
	crt.key_len = 0x10;
	crt.key_id = 0x01;
	crt.kvn = 0x03;
	crt.counter = (const uint8_t *)"\x00\x00\x01";
	crt.counter_len = 3;
	crt.sdin = (const uint8_t *)"\x11\x22";
	crt.sdin_len = 2;
	crt.host_id = (const uint8_t *)"\x33";
	crt.host_id_len = 1;
	proto_buf_init(&b, buf, sizeof(buf));
	CHECK_RC(ota_ecka_crt_encode(&b, &crt), 0);
	memset(&crt, 0, sizeof(crt));
	CHECK_RC(ota_ecka_crt_decode(&crt, b.data, b.len), 0);
	CHECK(crt.has_key_access && crt.counter_len == 3 && crt.sdin_len == 2 && crt.host_id_len == 1 &&
	      crt.kuq == 0x5C, "CRT with optional fields round trip");
}

static void test_responses(void)
{
	static const uint8_t r86[18] = { 0x86, 0x10 }, r85[4] = { 0x85, 0x02, 1, 2 };
	const uint8_t *dr, *receipt, *rc;
	size_t dr_len, rc_len;
	uint8_t buf[64];

	CHECK_RC(ota_ecka_receipt_rsp_decode(r86, sizeof(r86), &dr, &dr_len, &receipt), 0);
	CHECK(!dr && receipt == r86 + 2, "receipt only");
	CHECK_RC(ota_ecka_receipt_rsp_decode(r86, 17, &dr, &dr_len, &receipt), -PROTO_E_TRUNCATED);
	CHECK_RC(ota_ecka_receipt_rsp_decode(r85, sizeof(r85), &dr, &dr_len, &receipt), -PROTO_E_MALFORMED);
	CHECK_RC(ota_ecka_receipt_rsp_decode(r86, 0, &dr, &dr_len, &receipt), -PROTO_E_MALFORMED);
	memcpy(buf, r86, 18);
	memcpy(buf + 18, r86, 18);
	CHECK_RC(ota_ecka_receipt_rsp_decode(buf, 36, &dr, &dr_len, &receipt), -PROTO_E_TRAILING);
	CHECK_RC(ota_ecka_challenge_decode(r85, sizeof(r85), &rc, &rc_len), -PROTO_E_MALFORMED);
	CHECK_RC(ota_ecka_cert_payload_decode((const uint8_t *)"\x3A\x01\x02\x7F", 4, &rc, &rc_len),
		 -PROTO_E_TRUNCATED);
	CHECK_RC(ota_ecka_cert_payload_decode((const uint8_t *)"\x3A\x02\x01\x7F", 4, &rc, &rc_len),
		 -PROTO_E_MALFORMED);
	CHECK_RC(ota_ecka_cert_payload_decode((const uint8_t *)"\x3A\x01\x01\x7F", 4, &rc, &rc_len), 0);
	CHECK(rc_len == 1 && rc[0] == 0x7F, "3A01 payload");
}

/* The EC keystore itself. */
static void test_eckey(void)
{
	static const uint8_t msg[] = "signed data";
	uint8_t d[32], sig[64];
	struct ota_eckey *k = NULL, *k2 = NULL, *other = NULL;
	struct proto_ec_pub *pk = NULL, *pk2 = NULL, *po = NULL;
	const size_t lens[2] = { 16, 16 };
	struct ota_key *keys[2];
	size_t i;

	/* d = 0, d = n (P-256 order) and a short d are refused */
	memset(d, 0, sizeof(d));
	CHECK_RC(ota_eckey_import(ctx, PROTO_EC_REF_P256, d, 32, &k), -PROTO_E_KEY);
	proto_hex_decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", d, 32);
	CHECK_RC(ota_eckey_import(ctx, PROTO_EC_REF_P256, d, 32, &k), -PROTO_E_KEY);
	CHECK_RC(ota_eckey_import(ctx, PROTO_EC_REF_P256, d, 31, &k), -PROTO_E_KEY);
	CHECK_RC(ota_eckey_import(ctx, 0x01, d, 32, &k), -PROTO_E_UNSUPPORTED);
	CHECK_RC(ota_eckey_generate(ctx, 0x07, &k), -PROTO_E_UNSUPPORTED);
	CHECK(k == NULL, "no key on failure");

	for (i = 0; i < sizeof(curves); i++) {
		memset(d, 0, 31);		/* a small scalar is valid on every curve */
		d[31] = (uint8_t)(i + 1);
		CHECK_RC(ota_eckey_import(ctx, curves[i], d, 32, &k), 0);
		CHECK_RC(ota_eckey_generate(ctx, curves[i], &other), 0);
		if (!k || !other)
			continue;
		CHECK_RC(ota_eckey_public_key(ctx, k, &pk), 0);
		CHECK_RC(ota_eckey_public_key(ctx, other, &po), 0);
		CHECK_RC(ota_eckey_sign(k, msg, sizeof(msg), sig), 0);
		CHECK_RC(proto_ec_verify(pk, msg, sizeof(msg), sig, sizeof(sig)), 0);
		CHECK_RC(proto_ec_verify(po, msg, sizeof(msg), sig, sizeof(sig)), -PROTO_E_INTEGRITY);
		CHECK_RC(proto_ec_verify(pk, msg, sizeof(msg) - 1, sig, sizeof(sig)), -PROTO_E_INTEGRITY);
		CHECK_RC(proto_ec_verify(pk, msg, sizeof(msg), sig, 63), -PROTO_E_MALFORMED);
		sig[40] ^= 1;
		CHECK_RC(proto_ec_verify(pk, msg, sizeof(msg), sig, sizeof(sig)), -PROTO_E_INTEGRITY);
		memset(sig, 0, sizeof(sig));	/* r = s = 0 */
		CHECK_RC(proto_ec_verify(pk, msg, sizeof(msg), sig, sizeof(sig)), -PROTO_E_INTEGRITY);
		memset(sig, 0xFF, sizeof(sig));	/* r, s >= n */
		CHECK_RC(proto_ec_verify(pk, msg, sizeof(msg), sig, sizeof(sig)), -PROTO_E_INTEGRITY);

		/* the same d imported twice signs for the same public key */
		CHECK_RC(ota_eckey_import(ctx, curves[i], d, 32, &k2), 0);
		CHECK_RC(ota_eckey_public_key(ctx, k2, &pk2), 0);
		CHECK(pk2 && !memcmp(pk2->point, pk->point, 65), "import is deterministic");

		/* key agreement with a peer on another curve is refused */
		po->ref = curves[(i + 1) % sizeof(curves)];
		CHECK_RC(ota_eckey_agree(k, po, NULL, 0, lens, 2, ctx, keys), -PROTO_E_KEY);
		CHECK(!keys[0] && !keys[1], "no keys");
		po->ref = curves[i];
		CHECK_RC(ota_eckey_agree(k, po, NULL, 0, lens, 0, ctx, keys), -EINVAL);
		talloc_free(k);
		talloc_free(k2);
		talloc_free(other);
		talloc_free(pk);
		talloc_free(pk2);
		talloc_free(po);
		k = k2 = other = NULL;
		pk = pk2 = po = NULL;
	}
	CHECK_RC(ota_eckey_x963_kdf(d, 0, NULL, 0, sig, 16), -EINVAL);
	CHECK_RC(ota_eckey_x963_kdf(d, 32, NULL, 0, sig, 16), 0);
}

int main(void)
{
	void *top = talloc_new(NULL);

	ctx = talloc_new(top);
	test_eckey();
	test_crt();
	test_responses();
	test_flows();
	test_card_negative();
	CHECK(talloc_total_blocks(ctx) == 1, "talloc blocks left: %zu", talloc_total_blocks(ctx));
	talloc_free(top);
	TEST_DONE();
}
