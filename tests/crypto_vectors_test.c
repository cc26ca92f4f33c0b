/* Every applicable section of vectors/crypto.json, byte for byte (crypto.md §F): SCP03 (pySim, kaoh), KCV,
 * SGP.22 BSP TLV protection, SGP.02 certificate, Scenario #3 reference, SCP03t reference, curves.
 * scp80_sms_aes128 belongs to scp80_vectors_test; scp81_openssl is TLS configuration, not a byte vector. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include "tests/testlib.h"
#include "tests/vectors.h"
#include "proto/buf.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "ota/keystore.h"
#include "ota/keystore_ec.h"
#include "ota/gp_scp03.h"
#include "ota/gp_ecka.h"

static void *ctx;

/* hex member -> bytes; a missing member is a failed check and yields 0 bytes */
static size_t H(json_t *o, const char *key, uint8_t *out, size_t cap)
{
	int n = vec_hex(o, key, out, cap);

	CHECK(n >= 0, "vector member %s missing or not hex", key);
	return n < 0 ? 0 : (size_t)n;
}

/* string member for an expected value; a missing member is a failed check, never a NULL */
static const char *S(json_t *o, const char *key)
{
	const char *v = vec_str(o, key);

	CHECK(v != NULL, "vector member %s missing", key);
	return v ? v : "(missing)";
}

static struct ota_key *key_hex(json_t *o, const char *key)
{
	uint8_t raw[32];
	size_t n = H(o, key, raw, sizeof(raw));
	struct ota_key *k = NULL;

	CHECK_RC(ota_key_import(ctx, raw, n, &k), 0);
	return k;
}

static void check_key(struct ota_key *k, const char *exphex, const char *what)
{
	uint8_t raw[32];
	int n;

	CHECK(k != NULL, "%s: no key", what);
	if (!k || !exphex)
		return;
	n = ota_key_export(k, raw, sizeof(raw));
	CHECK(n > 0, "%s: export", what);
	if (n > 0)
		CHECK_HEX(raw, n, exphex, what);
}

static uint16_t sw_of(const char *hex)
{
	uint8_t b[2] = { 0 };

	proto_hex_decode(hex, b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Run the commands of sequence_after_ext_auth through the host and the card session; both must agree with the
 * recorded wrapped forms, and recorded responses must unwrap (host) and re-wrap (card) exactly. */
static void run_sequence(const char *name, json_t *seq, struct ota_scp03 *host, struct ota_scp03 *card)
{
	uint8_t in[512], mem[600];
	struct proto_buf b;
	size_t i, n;

	for (i = 0; i < json_array_size(seq); i++) {
		json_t *c = json_array_get(seq, i);
		const char *rsp = vec_str(c, "response_wrapped");

		n = H(c, "plain", in, sizeof(in));
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_wrap_cmd(host, in, n, &b), 0);
		CHECK_HEX(b.data, b.len, S(c, "wrapped"), name);

		n = H(c, "wrapped", in, sizeof(in));
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_unwrap_cmd(card, in, n, &b), 0);
		CHECK_HEX(b.data, b.len, S(c, "plain"), name);

		if (!rsp)
			continue;
		n = H(c, "response_plain", in, sizeof(in));
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_wrap_rsp(card, in, n, sw_of(S(c, "response_sw")), &b), 0);
		CHECK_HEX(b.data, b.len, rsp, name);

		n = H(c, "response_wrapped", in, sizeof(in));
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_unwrap_rsp(host, in, n, sw_of(S(c, "response_sw")), &b), 0);
		CHECK_HEX(b.data, b.len, S(c, "response_plain"), name);
	}
}

/* Derivation, cryptograms, EXTERNAL AUTHENTICATE (host builds, card checks), then the command sequence. */
static void run_scp03_trace(const char *name, json_t *t, const uint8_t hc[8], const struct ota_scp03_iu_rsp *iu)
{
	json_t *d = json_object_get(t, "derived");
	struct ota_key *kenc = key_hex(json_object_get(t, "static_keys"), "enc");
	struct ota_key *kmac = key_hex(json_object_get(t, "static_keys"), "mac");
	struct ota_scp03 *host = NULL, *card = NULL;
	uint8_t ea[64], mem[64];
	struct proto_buf b;
	size_t ea_len;

	CHECK_RC(ota_scp03_new(ctx, kenc, kmac, hc, iu->card_challenge, &host), 0);
	CHECK_RC(ota_scp03_new(ctx, kenc, kmac, hc, iu->card_challenge, &card), 0);
	if (!host || !card)
		return;
	check_key(ota_scp03_session_key(host, OTA_SCP03_S_ENC), S(d, "s_enc"), name);
	check_key(ota_scp03_session_key(host, OTA_SCP03_S_MAC), S(d, "s_mac"), name);
	check_key(ota_scp03_session_key(host, OTA_SCP03_S_RMAC), S(d, "s_rmac"), name);
	CHECK_HEX(ota_scp03_card_cryptogram(host), 8, S(d, "card_cryptogram"), name);
	CHECK_HEX(ota_scp03_host_cryptogram(host), 8, S(d, "host_cryptogram"), name);
	CHECK_RC(ota_scp03_check_card_cryptogram(host, iu->card_cryptogram), 0);

	ea_len = H(t, "ext_auth_cmd", ea, sizeof(ea));
	CHECK(ea_len == 21, "%s: EXTERNAL AUTHENTICATE length", name);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_ext_auth_encode(host, ea[2], &b), 0);
	CHECK_HEX(b.data, b.len, S(t, "ext_auth_cmd"), name);
	CHECK_RC(ota_scp03_ext_auth_check(card, ea, ea_len), 0);
	CHECK(ota_scp03_security_level(card) == ea[2], "%s: card SL", name);

	run_sequence(name, json_object_get(t, "sequence_after_ext_auth"), host, card);
	talloc_free(host);
	talloc_free(card);
	talloc_free(kenc);
	talloc_free(kmac);
}

static void test_scp03(json_t *root)
{
	json_t *arr = json_object_get(root, "scp03"), *t;
	size_t i;

	CHECK(json_array_size(arr) == 6, "6 pySim SCP03 traces");
	json_array_foreach(arr, i, t) {
		const char *name = vec_str(t, "name");
		uint8_t cmd[32], resp[64], hc[8], kvn, mem[64];
		struct ota_scp03_iu_rsp iu;
		struct proto_buf b;
		size_t n;

		n = H(t, "init_update_cmd", cmd, sizeof(cmd));
		CHECK_RC(ota_scp03_iu_cmd_decode(cmd, n, &kvn, hc), 0);
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_iu_cmd_encode(&b, kvn, hc), 0);
		CHECK_HEX(b.data, b.len, S(t, "init_update_cmd"), name);

		n = H(t, "init_update_resp_data", resp, sizeof(resp));
		CHECK_RC(ota_scp03_iu_rsp_decode(&iu, resp, n), 0);
		CHECK(iu.kvn == kvn, "%s: KVN", name);
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_iu_rsp_encode(&b, &iu), 0);
		CHECK_HEX(b.data, b.len, S(t, "init_update_resp_data"), name);

		run_scp03_trace(name, t, hc, &iu);
	}
}

static void test_kcv(json_t *root)
{
	json_t *cases = json_object_get(json_object_get(root, "scp03_kcv"), "cases"), *c;
	size_t i;

	CHECK(json_array_size(cases) == 3, "3 KCV cases");
	json_array_foreach(cases, i, c) {
		struct ota_key *k = key_hex(c, "key");
		uint8_t kcv[3];

		CHECK_RC(ota_key_kcv(k, kcv), 0);
		CHECK_HEX(kcv, 3, S(c, "kcv"), "KCV");
		talloc_free(k);
	}
}

static void test_pseudo_random(json_t *root)
{
	json_t *arr = json_object_get(root, "scp03_pseudo_random"), *t;
	size_t i;

	CHECK(json_array_size(arr) == 2, "2 kaoh traces");
	json_array_foreach(arr, i, t) {
		const char *name = vec_str(t, "name");
		json_t *d = json_object_get(t, "derived");
		struct ota_key *kenc = key_hex(json_object_get(t, "static_keys"), "enc");
		struct ota_scp03_iu_rsp iu;
		uint8_t resp[64], hc[8], seq[3], aid[16], cc[8], ip, mem[64];
		struct proto_buf b;
		size_t n, aid_len;

		n = H(t, "init_update_resp_data", resp, sizeof(resp));
		CHECK_RC(ota_scp03_iu_rsp_decode(&iu, resp, n), 0);
		H(t, "i_param", &ip, 1);
		CHECK(iu.i == ip && iu.has_seq, "%s: i parameter", name);
		H(t, "sequence_counter", seq, sizeof(seq));
		CHECK(memcmp(iu.seq, seq, 3) == 0, "%s: sequence counter", name);
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(ota_scp03_iu_rsp_encode(&b, &iu), 0);
		CHECK_HEX(b.data, b.len, S(t, "init_update_resp_data"), name);

		aid_len = H(t, "invoking_aid", aid, sizeof(aid));
		CHECK_RC(ota_scp03_card_challenge(kenc, seq, aid, aid_len, cc), 0);
		CHECK_HEX(cc, 8, S(d, "card_challenge(pseudo-random)"), name);
		CHECK(memcmp(cc, iu.card_challenge, 8) == 0, "%s: card challenge of the response", name);

		H(t, "host_challenge", hc, sizeof(hc));
		run_scp03_trace(name, t, hc, &iu);
		talloc_free(kenc);
	}
}

/* SGP.22 BSP: X9.63 KDF and split, then the per-TLV protection with an initial MCV (same mechanics as SCP03t). */
static struct ota_scp03 *bsp_session(const uint8_t *enc, const uint8_t *mac, const uint8_t *mcv)
{
	struct ota_key *ke = NULL, *km = NULL;
	struct ota_scp03 *s = NULL;

	CHECK_RC(ota_key_import(ctx, enc, 16, &ke), 0);
	CHECK_RC(ota_key_import(ctx, mac, 16, &km), 0);
	CHECK_RC(ota_scp03_new_from_keys(ctx, ke, km, NULL, mcv, OTA_SCP03_SL_C_MAC | OTA_SCP03_SL_C_DEC, &s), 0);
	return s;
}

static void bsp_run(const char *name, json_t *seq, const char *tagkey, struct ota_scp03 *host,
		    struct ota_scp03 *card)
{
	static uint8_t plain[2048], out[2048], back[2048];
	struct proto_buf b;
	json_t *c;
	size_t i, n, on;
	uint8_t tag;

	json_array_foreach(seq, i, c) {
		const char *op = vec_str(c, "op");
		bool enc = !op || strncmp(op, "mac-only", 8) != 0;

		H(c, tagkey, &tag, 1);
		n = H(c, "plain", plain, sizeof(plain));
		proto_buf_init(&b, out, sizeof(out));
		CHECK_RC(ota_scp03t_wrap_tlv(host, tag, enc, plain, n, &b), 0);
		CHECK_HEX(b.data, b.len, S(c, "out"), name);
		on = b.len;
		proto_buf_init(&b, back, sizeof(back));
		CHECK_RC(ota_scp03t_unwrap_tlv(card, tag, enc, out, on, &b), 0);
		CHECK(b.len == n && memcmp(back, plain, n) == 0, "%s: card side unwrap of TLV %zu", name, i);
	}
}

static void test_bsp(json_t *root)
{
	json_t *sec = json_object_get(root, "sgp22_bsp_tlv"), *kdf = json_object_get(sec, "kdf"), *k, *seg;
	uint8_t shs[32], si[64], kd[48], mcv[16], enc[16], mac[16];
	struct ota_scp03 *host, *card;
	size_t i, shs_len, si_len;

	CHECK(json_array_size(kdf) == 2, "2 BSP KDF cases");
	json_array_foreach(kdf, i, k) {
		json_t *split = json_object_get(k, "split");

		shs_len = H(k, "shs", shs, sizeof(shs));
		si_len = H(k, "shared_info", si, sizeof(si));
		CHECK_RC(ota_eckey_x963_kdf(shs, shs_len, si, si_len, kd, sizeof(kd)), 0);
		if (vec_str(k, "out48"))
			CHECK_HEX(kd, 48, S(k, "out48"), "BSP KeyData");
		CHECK_HEX(kd, 16, S(split, "initial_mcv"), "BSP MCV0");
		CHECK_HEX(kd + 16, 16, S(split, "s_enc"), "BSP S-ENC");
		CHECK_HEX(kd + 32, 16, S(split, "s_mac"), "BSP S-MAC");
	}

	/* the sequence uses the keys of kdf[1], derived above into kd */
	host = bsp_session(kd + 16, kd + 32, kd);
	card = bsp_session(kd + 16, kd + 32, kd);
	bsp_run("BSP 87/88/87", json_object_get(sec, "tlv_sequence(keys of kdf[1], block counter starts 1)"), "tag",
		host, card);
	talloc_free(host);
	talloc_free(card);

	seg = json_object_get(sec, "tlv_86_segments_after_replaceSessionKeys");
	CHECK(vec_int(seg, "block_counter_starts", 0) == 1, "BSP 86 counter starts at 1");
	H(json_object_get(seg, "keys"), "s_enc", enc, sizeof(enc));
	H(json_object_get(seg, "keys"), "s_mac", mac, sizeof(mac));
	H(json_object_get(seg, "keys"), "initial_mcv", mcv, sizeof(mcv));
	host = bsp_session(enc, mac, mcv);
	card = bsp_session(enc, mac, mcv);
	CHECK(json_array_size(json_object_get(seg, "segments")) == 2, "2 segments");
	bsp_run("BSP 86 segments", json_object_get(seg, "segments"), "tag", host, card);
	talloc_free(host);
	talloc_free(card);
}

static void test_cert(json_t *root)
{
	json_t *v = json_object_get(root, "sgp02_cert_dp_ecdsa");
	static uint8_t cert[512], pk[80], sd[256], mem[512];
	struct proto_ec_pub *ci = NULL, *own = NULL, *dp = NULL;
	struct ota_eckey *sk = NULL;
	struct proto_gp_cert c;
	struct proto_buf b;
	uint8_t d[32], sig[64];
	size_t cert_len, n;

	cert_len = H(v, "cert_7F21", cert, sizeof(cert));
	CHECK_RC(proto_gp_cert_decode(&c, cert, cert_len), 0);
	CHECK_HEX(c.signed_data.p, c.signed_data.len, S(v, "signed_data(93..7F49)"), "cert signed data");
	CHECK_HEX(c.signature.p, c.signature.len, S(v, "signature_r_s"), "cert signature");
	CHECK_HEX(c.pk.p, c.pk.len, S(v, "pk_dp_ecdsa"), "cert PK.DP.ECDSA");
	CHECK(c.has_curve_ref && c.curve_ref == PROTO_EC_REF_P256, "cert curve P-256");
	CHECK_HEX(c.serial.p, c.serial.len, "02", "serial");
	CHECK_HEX(c.ca_id.p, c.ca_id.len, "02", "CA id");
	CHECK_HEX(c.subject.p, c.subject.len, "02", "subject");
	CHECK_HEX(c.key_usage.p, c.key_usage.len, "88", "key usage");
	CHECK_HEX(c.discretionary.p, c.discretionary.len, "c80101", "discretionary SM-DP");
	CHECK(c.expiry_date == 21450101 && !c.effective.p && c.effective_date == 0, "dates");

	n = H(v, "pk_ci_ecdsa", pk, sizeof(pk));
	CHECK_RC(proto_ec_pub_new(ctx, PROTO_EC_REF_P256, pk, n, &ci), 0);
	CHECK_RC(proto_gp_cert_verify(&c, ci), 0);
	CHECK_RC(proto_gp_cert_pubkey(ctx, &c, PROTO_EC_REF_P256, &dp), 0);

	/* rebuild from the decoded fields */
	proto_buf_init(&b, sd, sizeof(sd));
	CHECK_RC(proto_gp_cert_put_signed_data(&b, &c), 0);
	CHECK_HEX(b.data, b.len, S(v, "signed_data(93..7F49)"), "rebuilt signed data");
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(proto_gp_cert_encode(&b, &c), 0);
	CHECK_HEX(b.data, b.len, S(v, "cert_7F21"), "rebuilt 7F21");
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_ecka_cert_apdu(&b, cert, cert_len), 0);
	CHECK_HEX(b.data, b.len, S(v, "store_data_1_apdu"), "STORE DATA 3A01");

	/* the CI test key pair: public half, and a fresh signature of ours over the same data */
	n = H(v, "sk_ci_ecdsa(test key)", d, sizeof(d));
	CHECK_RC(ota_eckey_import(ctx, PROTO_EC_REF_P256, d, n, &sk), 0);
	CHECK_HEX(ota_eckey_public(sk), PROTO_EC_POINT_LEN, S(v, "pk_ci_ecdsa"), "PK.CI from SK.CI");
	CHECK_RC(ota_eckey_sign(sk, c.signed_data.p, c.signed_data.len, sig), 0);
	CHECK_RC(ota_eckey_public_key(ctx, sk, &own), 0);
	CHECK_RC(proto_ec_verify(own, c.signed_data.p, c.signed_data.len, sig, sizeof(sig)), 0);
	CHECK_RC(proto_ec_verify(ci, c.signed_data.p, c.signed_data.len, sig, sizeof(sig)), 0);
	talloc_free(sk);
	talloc_free(own);
	talloc_free(ci);
	talloc_free(dp);
}

static struct ota_eckey *eckey_hex(json_t *o, const char *key, const char *pubkey)
{
	struct ota_eckey *k = NULL;
	uint8_t d[32];
	size_t n = H(o, key, d, sizeof(d));

	CHECK_RC(ota_eckey_import(ctx, PROTO_EC_REF_P256, d, n, &k), 0);
	if (k)
		CHECK_HEX(ota_eckey_public(k), PROTO_EC_POINT_LEN, S(o, pubkey), key);
	return k;
}

static struct proto_ec_pub *pub_hex(json_t *o, const char *key)
{
	struct proto_ec_pub *pk = NULL;
	uint8_t p[80];
	size_t n = H(o, key, p, sizeof(p));

	CHECK_RC(proto_ec_pub_new(ctx, PROTO_EC_REF_P256, p, n, &pk), 0);
	return pk;
}

static void check_keyset(const struct ota_ecka_keys *k, json_t *split, const char *what)
{
	CHECK(k->nkeys == 3, "%s: 3 keys", what);
	if (k->receipt)
		check_key(k->receipt, S(split, "receipt_key"), what);
	check_key(k->key[0], S(split, "key_enc"), what);
	check_key(k->key[1], S(split, "key_mac"), what);
	check_key(k->key[2], S(split, "key_dek"), what);
}

/* split of a 64-byte KeyData given as hex, for the DR variant which has no split member */
static void check_keyset_kd(const struct ota_ecka_keys *k, const char *kdhex, const char *what)
{
	char h[4][33];
	int i;

	CHECK(strlen(kdhex) == 128, "%s: 64 bytes of KeyData", what);
	if (strlen(kdhex) != 128)
		return;
	for (i = 0; i < 4; i++) {
		memcpy(h[i], kdhex + 32 * i, 32);
		h[i][32] = 0;
	}
	if (k->receipt)
		check_key(k->receipt, h[0], what);
	for (i = 0; i < 3; i++)
		check_key(k->key[i], h[1 + i], what);
}

static void test_scenario3(json_t *root)
{
	json_t *v = json_object_get(root, "sgp02_scenario3_reference");
	json_t *dv = json_object_get(v, "variant_with_DR(njiwa interpretation, unverified)");
	struct ota_eckey *sk_ecasd, *esk_dp, *sk_dp;
	struct proto_ec_pub *pk_ecasd, *epk_dp, *pk_dp;
	struct ota_ecka_crt crt;
	struct ota_ecka_keys kdp, kcard;
	uint8_t a6[64], rc[16], sig[64], shs[32], si[64], kd[64], receipt[16], dr[32], mem[512], rsp[64], apdu[300];
	struct proto_buf b;
	size_t a6_len, rc_len, si_len, dr_len, apdu_len, rsp_len;

	sk_ecasd = eckey_hex(v, "sk_ecasd_ecka", "pk_ecasd_ecka");
	esk_dp = eckey_hex(v, "esk_dp_ecka", "epk_dp_ecka");
	sk_dp = eckey_hex(v, "sk_dp_ecdsa", "pk_dp_ecdsa");
	pk_ecasd = pub_hex(v, "pk_ecasd_ecka");
	epk_dp = pub_hex(v, "epk_dp_ecka");
	pk_dp = pub_hex(v, "pk_dp_ecdsa");
	if (!sk_ecasd || !esk_dp || !sk_dp || !pk_ecasd || !epk_dp || !pk_dp)
		return;

	/* CRT */
	a6_len = H(v, "a6_crt", a6, sizeof(a6));
	CHECK_RC(ota_ecka_crt_decode(&crt, a6, a6_len), 0);
	CHECK(crt.scenario_params == 0x09 && crt.kuq == 0x10 && crt.key_type == 0x88 && crt.key_len == 16 &&
	      crt.key_id == 1 && crt.kvn == 0x30 && crt.counter_len == 0, "CRT fields");
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_ecka_crt_encode(&b, &crt), 0);
	CHECK_HEX(b.data, b.len, S(v, "a6_crt"), "CRT re-encoded");

	/* signed data, the RFC 6979 reference signature, the STORE DATA */
	rc_len = H(v, "random_challenge", rc, sizeof(rc));
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_ecka_signed_data(&b, a6, a6_len, epk_dp->point, PROTO_EC_POINT_LEN, rc, rc_len), 0);
	CHECK_HEX(b.data, b.len, S(v, "signed_data"), "Scenario #3 signed data");
	CHECK_RC(proto_ec_verify(pk_dp, b.data, b.len, sig, H(v, "signature_r_s(RFC6979 deterministic)", sig, 64)),
		 0);
	proto_buf_init(&b, apdu, sizeof(apdu));
	CHECK_RC(ota_ecka_keyparams_apdu(&b, a6, a6_len, epk_dp->point, PROTO_EC_POINT_LEN, sig, sizeof(sig)), 0);
	CHECK_HEX(b.data, b.len, S(v, "store_data_2_apdu"), "STORE DATA 3A02");
	apdu_len = b.len;

	/* our own (random-nonce) signature verifies through the card-side check */
	{
		struct ota_ecka_keyparams kp;
		uint8_t own[300];

		CHECK_RC(ota_ecka_keyparams_sign(sk_dp, a6, a6_len, epk_dp->point, PROTO_EC_POINT_LEN, rc, rc_len,
						 sig), 0);
		proto_buf_init(&b, own, sizeof(own));
		CHECK_RC(ota_ecka_keyparams_payload(&b, a6, a6_len, epk_dp->point, PROTO_EC_POINT_LEN, sig, 64), 0);
		CHECK_RC(ota_ecka_keyparams_decode(&kp, own, b.len), 0);
		CHECK_RC(ota_ecka_keyparams_verify(pk_dp, &kp, rc, rc_len), 0);
	}

	/* KDF: the raw ShS of the vector gives its KeyData; both ECDH sides give the same split */
	si_len = H(v, "shared_info", si, sizeof(si));
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_ecka_shared_info(&b, &crt, NULL, 0), 0);
	CHECK_HEX(b.data, b.len, S(v, "shared_info"), "SharedInfo");
	CHECK_RC(ota_eckey_x963_kdf(shs, H(v, "shs", shs, sizeof(shs)), si, si_len, kd, 64), 0);
	CHECK_HEX(kd, 64, S(v, "keydata_64"), "KeyData");
	CHECK_RC(ota_ecka_derive(ctx, esk_dp, pk_ecasd, &crt, NULL, 0, &kdp), 0);
	check_keyset(&kdp, json_object_get(v, "split"), "SM-DP keyset");
	CHECK_RC(ota_ecka_derive(ctx, sk_ecasd, epk_dp, &crt, NULL, 0, &kcard), 0);
	check_keyset(&kcard, json_object_get(v, "split"), "ECASD keyset");
	CHECK_RC(ota_ecka_receipt(kdp.receipt, a6, a6_len, NULL, 0, receipt), 0);
	CHECK_HEX(receipt, 16, S(v, "receipt=CMAC(receipt_key, A6-CRT TLV)"), "receipt");
	CHECK_RC(ota_ecka_receipt_verify(kcard.receipt, a6, a6_len, NULL, 0, receipt, 16), 0);
	ota_ecka_keys_free(&kdp);
	ota_ecka_keys_free(&kcard);

	/* both sides end to end on the recorded STORE DATA */
	proto_buf_init(&b, rsp, sizeof(rsp));
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, rc_len, apdu + 5, apdu_len - 5, NULL, 0, &kcard,
					 &b), 0);
	rsp_len = b.len;
	CHECK(rsp_len == 18 && rsp[0] == 0x86 && rsp[1] == 0x10, "card response 86 10");
	CHECK_HEX(rsp + 2, 16, S(v, "receipt=CMAC(receipt_key, A6-CRT TLV)"), "card receipt");
	check_keyset(&kcard, json_object_get(v, "split"), "ECASD keyset (card flow)");
	CHECK_RC(ota_ecka_dp_finish(ctx, esk_dp, pk_ecasd, a6, a6_len, rsp, rsp_len, &kdp), 0);
	check_keyset(&kdp, json_object_get(v, "split"), "SM-DP keyset (finish)");
	ota_ecka_keys_free(&kdp);
	ota_ecka_keys_free(&kcard);

	/* the DR variant (njiwa's reading) */
	a6_len = H(dv, "a6_crt", a6, sizeof(a6));
	dr_len = H(dv, "dr", dr, sizeof(dr));
	CHECK_RC(ota_ecka_crt_decode(&crt, a6, a6_len), 0);
	CHECK(crt.scenario_params & OTA_ECKA_SP_DR, "DR variant asks for DR");
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_ecka_shared_info(&b, &crt, dr, dr_len), 0);
	CHECK_HEX(b.data, b.len, S(dv, "shared_info"), "SharedInfo with DR");
	CHECK_RC(ota_eckey_x963_kdf(shs, sizeof(shs), b.data, b.len, kd, 64), 0);
	CHECK_HEX(kd, 64, S(dv, "keydata_64"), "KeyData with DR");
	CHECK_RC(ota_ecka_derive(ctx, esk_dp, pk_ecasd, &crt, dr, dr_len, &kdp), 0);
	check_keyset_kd(&kdp, S(dv, "keydata_64"), "SM-DP keyset with DR");
	CHECK_RC(ota_ecka_receipt(kdp.receipt, a6, a6_len, dr, dr_len, receipt), 0);
	CHECK_HEX(receipt, 16, S(dv, "receipt=CMAC(rk, A6||85 10 DR)"), "receipt with DR");
	ota_ecka_keys_free(&kdp);

	/* ... and end to end: our signature over the variant CRT, card answers 85 DR 86 receipt */
	CHECK_RC(ota_ecka_keyparams_sign(sk_dp, a6, a6_len, epk_dp->point, PROTO_EC_POINT_LEN, rc, rc_len, sig), 0);
	proto_buf_init(&b, apdu, sizeof(apdu));
	CHECK_RC(ota_ecka_keyparams_apdu(&b, a6, a6_len, epk_dp->point, PROTO_EC_POINT_LEN, sig, 64), 0);
	apdu_len = b.len;
	proto_buf_init(&b, rsp, sizeof(rsp));
	CHECK_RC(ota_ecka_card_keyparams(ctx, sk_ecasd, pk_dp, rc, rc_len, apdu + 5, apdu_len - 5, dr, dr_len, &kcard,
					 &b), 0);
	rsp_len = b.len;
	CHECK(rsp_len == 36 && rsp[0] == 0x85 && rsp[1] == 0x10 && rsp[18] == 0x86, "card response 85 DR 86 receipt");
	CHECK_HEX(rsp + 20, 16, S(dv, "receipt=CMAC(rk, A6||85 10 DR)"), "card receipt with DR");
	CHECK_RC(ota_ecka_dp_finish(ctx, esk_dp, pk_ecasd, a6, a6_len, rsp, rsp_len, &kdp), 0);
	check_keyset_kd(&kdp, S(dv, "keydata_64"), "SM-DP keyset with DR (finish)");
	ota_ecka_keys_free(&kdp);
	ota_ecka_keys_free(&kcard);

	talloc_free(sk_ecasd);
	talloc_free(esk_dp);
	talloc_free(sk_dp);
	talloc_free(pk_ecasd);
	talloc_free(epk_dp);
	talloc_free(pk_dp);
}

static void test_scp03t(json_t *root)
{
	json_t *v = json_object_get(root, "sgp02_scp03t_reference"), *d = json_object_get(v, "derived");
	struct ota_key *kenc = key_hex(json_object_get(v, "static_keys"), "enc");
	struct ota_key *kmac = key_hex(json_object_get(v, "static_keys"), "mac");
	struct ota_scp03 *host = NULL, *card = NULL;
	struct ota_scp03_iu_rsp iu;
	uint8_t hc[8], hc2[8], kvn, kid, sl, in[300], mem[300], mac[16], ea[32];
	struct proto_buf b;
	size_t n, ea_len;

	H(v, "host_challenge", hc, sizeof(hc));
	H(v, "kvn", &kvn, 1);
	H(v, "security_level", &sl, 1);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_iu_encode(&b, kvn, 0x00, hc), 0);
	CHECK_HEX(b.data, b.len, S(v, "initialize_update_tlv"), "SCP03t IU TLV");
	CHECK_RC(ota_scp03t_iu_decode(b.data, b.len, &kvn, &kid, hc2), 0);
	CHECK(kid == 0 && memcmp(hc, hc2, 8) == 0, "SCP03t IU decode");

	n = H(v, "initialize_update_response_tlv", in, sizeof(in));
	CHECK_RC(ota_scp03t_iu_rsp_decode(&iu, in, n), 0);
	CHECK_HEX(iu.card_challenge, 8, S(v, "card_challenge"), "SCP03t card challenge");
	CHECK(iu.kvn == kvn && iu.i == 0x70 && iu.has_seq, "SCP03t IU response fields");
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_iu_rsp_encode(&b, &iu), 0);
	CHECK_HEX(b.data, b.len, S(v, "initialize_update_response_tlv"), "SCP03t IU response re-encoded");

	CHECK_RC(ota_scp03_new(ctx, kenc, kmac, hc, iu.card_challenge, &host), 0);
	CHECK_RC(ota_scp03_new(ctx, kenc, kmac, hc, iu.card_challenge, &card), 0);
	if (!host || !card)
		return;
	check_key(ota_scp03_session_key(host, OTA_SCP03_S_ENC), S(d, "s_enc"), "SCP03t S-ENC");
	check_key(ota_scp03_session_key(host, OTA_SCP03_S_MAC), S(d, "s_mac"), "SCP03t S-MAC");
	check_key(ota_scp03_session_key(host, OTA_SCP03_S_RMAC), S(d, "s_rmac"), "SCP03t S-RMAC");
	CHECK_HEX(ota_scp03_card_cryptogram(host), 8, S(d, "card_cryptogram"), "SCP03t card cryptogram");
	CHECK_HEX(ota_scp03_host_cryptogram(host), 8, S(d, "host_cryptogram"), "SCP03t host cryptogram");
	CHECK_RC(ota_scp03_check_card_cryptogram(host, iu.card_cryptogram), 0);

	proto_buf_init(&b, ea, sizeof(ea));
	CHECK_RC(ota_scp03t_ext_auth_encode(host, sl, &b), 0);
	CHECK_HEX(b.data, b.len, S(v, "external_authenticate_tlv"), "SCP03t EXTERNAL AUTHENTICATE");
	ea_len = b.len;
	{
		/* the documented MAC input gives the MAC on the wire */
		struct ota_iov iov;

		n = H(v, "ea_mac_input", in, sizeof(in));
		iov = (struct ota_iov){ in, n };
		CHECK_RC(ota_key_mac(ota_scp03_session_key(host, OTA_SCP03_S_MAC), OTA_MAC_AES_CMAC, &iov, 1, mac, 16),
			 0);
		CHECK(ea_len == 19 && memcmp(mac, ea + 11, 8) == 0, "SCP03t EA MAC = CMAC(ea_mac_input)");
	}
	CHECK_RC(ota_scp03t_ext_auth_check(card, ea, ea_len), 0);

	CHECK(vec_int(v, "first_86_counter", 0) == 1, "first 86 counter 1");
	n = H(v, "first_86_plain", in, sizeof(in));
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_wrap_cmd(host, in, n, &b), 0);
	CHECK_HEX(b.data, b.len, S(v, "first_86_tlv"), "first 86 TLV");
	n = H(v, "first_86_tlv", in, sizeof(in));
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_unwrap_cmd(card, in, n, &b), 0);
	CHECK_HEX(b.data, b.len, S(v, "first_86_plain"), "first 86 unwrapped by the card");

	talloc_free(host);
	talloc_free(card);
	talloc_free(kenc);
	talloc_free(kmac);
}

static void test_curves(json_t *root)
{
	json_t *v = json_object_get(root, "curves"), *refs = json_object_get(v, "key_parameter_reference");
	json_t *frp = json_object_get(v, "frp256v1");
	static const uint8_t supported[] = { PROTO_EC_REF_P256, PROTO_EC_REF_BRAINPOOLP256R1, PROTO_EC_REF_FRP256V1 };
	BIGNUM *p = NULL, *a = NULL, *b = NULL, *gx = NULL, *gy = NULL, *n = NULL;
	EC_GROUP *mine = NULL, *ref = NULL;
	EC_POINT *g = NULL;
	const char *key;
	json_t *val;
	size_t i;

	/* every reference we support is in the table; the table's others are refused */
	json_object_foreach(refs, key, val) {
		uint8_t r;
		bool want = false;

		CHECK(proto_hex_decode(key, &r, 1) == 1, "reference %s", key);
		for (i = 0; i < sizeof(supported); i++)
			want |= supported[i] == r;
		CHECK(proto_ec_ref_supported(r) == want, "support of curve reference %s", key);
	}

	/* FRP256V1: built-in parameters equal the vector's, the group passes a full check */
	CHECK(BN_hex2bn(&p, S(frp, "p")) && BN_hex2bn(&a, S(frp, "a")) &&
	      BN_hex2bn(&b, S(frp, "b")) && BN_hex2bn(&gx, S(frp, "gx")) &&
	      BN_hex2bn(&gy, S(frp, "gy")) && BN_hex2bn(&n, S(frp, "n")), "FRP256V1 parameters parse");
	CHECK(vec_int(frp, "h", 0) == 1, "FRP256V1 cofactor 1");
	ref = EC_GROUP_new_curve_GFp(p, a, b, NULL);
	g = ref ? EC_POINT_new(ref) : NULL;
	CHECK(g && EC_POINT_set_affine_coordinates(ref, g, gx, gy, NULL) == 1 &&
	      EC_GROUP_set_generator(ref, g, n, BN_value_one()) == 1, "FRP256V1 reference group");
	CHECK_RC(proto_ec_group_new(PROTO_EC_REF_FRP256V1, &mine), 0);
	CHECK(mine && ref && EC_GROUP_cmp(mine, ref, NULL) == 0, "FRP256V1 parameters equal the vector");
	CHECK(ref && EC_GROUP_check(ref, NULL) == 1, "EC_GROUP_check(FRP256V1)");
	for (i = 0; i < sizeof(supported); i++)
		CHECK_RC(proto_ec_curve_check(supported[i]), 0);

	/* ECDH works on each curve: both ends derive the same keys */
	for (i = 0; i < sizeof(supported); i++) {
		static const uint8_t si[3] = { 0x10, 0x88, 0x10 };
		const size_t lens[2] = { 16, 16 };
		struct ota_eckey *x = NULL, *y = NULL;
		struct proto_ec_pub *px = NULL, *py = NULL;
		struct ota_key *kx[2] = { NULL, NULL }, *ky[2] = { NULL, NULL };
		uint8_t rx[16], ry[16];

		CHECK_RC(ota_eckey_generate(ctx, supported[i], &x), 0);
		CHECK_RC(ota_eckey_generate(ctx, supported[i], &y), 0);
		if (!x || !y)
			continue;
		CHECK_RC(ota_eckey_public_key(ctx, x, &px), 0);
		CHECK_RC(ota_eckey_public_key(ctx, y, &py), 0);
		CHECK_RC(ota_eckey_agree(x, py, si, 3, lens, 2, ctx, kx), 0);
		CHECK_RC(ota_eckey_agree(y, px, si, 3, lens, 2, ctx, ky), 0);
		CHECK(kx[1] && ky[1] && ota_key_export(kx[1], rx, 16) == 16 && ota_key_export(ky[1], ry, 16) == 16 &&
		      memcmp(rx, ry, 16) == 0, "ECDH agrees on %s", proto_ec_ref_name(supported[i]));
		talloc_free(x);
		talloc_free(y);
		talloc_free(px);
		talloc_free(py);
		talloc_free(kx[0]);
		talloc_free(kx[1]);
		talloc_free(ky[0]);
		talloc_free(ky[1]);
	}
	EC_POINT_free(g);
	EC_GROUP_free(ref);
	EC_GROUP_free(mine);
	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(gx);
	BN_free(gy);
	BN_free(n);
}

/* every top-level section must be run here or be named as somebody else's */
static void test_sections_known(json_t *root)
{
	static const char *const known[] = {
		"meta", "scp03", "scp03_kcv", "scp03_pseudo_random", "sgp22_bsp_tlv", "sgp02_cert_dp_ecdsa",
		"sgp02_scenario3_reference", "sgp02_scp03t_reference", "curves",
		"scp80_sms_aes128",	/* scp80_vectors_test */
		"scp81_openssl",	/* TLS configuration facts, exercised by the SCP81 server tests */
	};
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach(root, key, val) {
		bool found = false;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			found |= strcmp(key, known[i]) == 0;
		CHECK(found, "crypto.json section %s is not covered by any test", key);
	}
}

int main(void)
{
	json_t *root = vec_load("crypto.json");
	void *top = talloc_new(NULL);

	ctx = talloc_new(top);
	test_sections_known(root);
	test_scp03(root);
	test_kcv(root);
	test_pseudo_random(root);
	test_bsp(root);
	test_cert(root);
	test_scenario3(root);
	test_scp03t(root);
	test_curves(root);

	CHECK(talloc_total_blocks(ctx) == 1, "talloc blocks left: %zu", talloc_total_blocks(ctx));
	talloc_free(top);
	json_decref(root);
	TEST_DONE();
}
