/* SM-DP side of ES8.EstablishISDPKeySet, one core (crypto.md §A.1): steps 3 and 5 (ecka_establish_per_s): an
 * ephemeral key pair, the key parameters signed with SK.DP.ECDSA (ota_ecka_dp_keyparams), ECDH with
 * PK.ECASD.ECKA, the X9.63 KDF and the receipt check (ota_ecka_dp_finish); and with step 1 as well
 * (ecka_establish_with_cert_check_per_s): CERT.ECASD.ECKA decoded and verified with PK.EUM. Only those calls are
 * timed; the card's answers (a real ECASD computation with ota_ecka_card_keyparams) are produced outside.
 * Also the OpenSSL ceiling for the same curve: ECDSA verify + sign + keygen + ECDH per second.
 *   smdp-ecka-bench [seconds] [p256|bp256]        prints key=value lines */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "ota/gp_ecka.h"
#include "ota/keystore_ec.h"
#include "proto/buf.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* a GP certificate for pk signed by sk: CERT.ECASD.ECKA (key usage 0080) */
static size_t s_cert(struct ota_eckey *sk, const uint8_t *pk, uint8_t ref, uint8_t *out, size_t cap)
{
	static const uint8_t serial[] = {1}, ca[] = {2}, subj[] = {3}, usage[] = {0x00, 0x80},
			     exp[] = {0x20, 0x99, 1, 1};
	struct proto_gp_cert gc = {0};
	uint8_t sd[512], sig[PROTO_EC_SIG_LEN];
	struct proto_buf b;

	gc.serial = (struct proto_gp_field){serial, 1};
	gc.ca_id = (struct proto_gp_field){ca, 1};
	gc.subject = (struct proto_gp_field){subj, 1};
	gc.key_usage = (struct proto_gp_field){usage, 2};
	gc.expiry = (struct proto_gp_field){exp, 4};
	gc.pk = (struct proto_gp_field){pk, PROTO_EC_POINT_LEN};
	gc.has_curve_ref = true;
	gc.curve_ref = ref;
	proto_buf_init(&b, sd, sizeof(sd));
	if (proto_gp_cert_put_signed_data(&b, &gc) < 0 || ota_eckey_sign(sk, sd, b.len, sig) < 0)
		return 0;
	gc.signature = (struct proto_gp_field){sig, sizeof(sig)};
	proto_buf_init(&b, out, cap);
	return proto_gp_cert_encode(&b, &gc) == 0 ? b.len : 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3, timed = 0, timed_cert = 0, t, t_end;
	uint8_t ref = argc > 2 && !strcmp(argv[2], "bp256") ? PROTO_EC_REF_BRAINPOOLP256R1 : PROTO_EC_REF_P256;
	void *ctx = talloc_new(NULL);
	struct ota_eckey *eum, *ecasd, *dp;
	struct proto_ec_pub *pk_eum, *pk_dp, *pk_ecasd;
	uint8_t cert[512];
	size_t cert_len;
	struct ota_ecka_crt crt = {.scenario_params = OTA_ECKA_SP_CERT | OTA_ECKA_SP_DELETE_KEYS,
				   .kuq = OTA_ECKA_KUQ_SC_KEYS,
				   .key_type = OTA_ECKA_KEY_TYPE_AES,
				   .key_len = 16,
				   .key_id = 1,
				   .kvn = 0x30};
	uint8_t crt_tlv[64], rc16[16] = {0};
	struct proto_buf cb;
	unsigned long n = 0, m = 0;

	if (ota_eckey_generate(ctx, ref, &eum) < 0 || ota_eckey_generate(ctx, ref, &ecasd) < 0 ||
	    ota_eckey_generate(ctx, ref, &dp) < 0 || ota_eckey_public_key(ctx, eum, &pk_eum) < 0 ||
	    ota_eckey_public_key(ctx, dp, &pk_dp) < 0 || ota_eckey_public_key(ctx, ecasd, &pk_ecasd) < 0 ||
	    !(cert_len = s_cert(eum, ota_eckey_public(ecasd), ref, cert, sizeof(cert)))) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	proto_buf_init(&cb, crt_tlv, sizeof(crt_tlv));
	ota_ecka_crt_encode(&cb, &crt);
	t_end = now() + secs;
	while (now() < t_end) {
		void *it = talloc_new(ctx);
		struct ota_eckey *esk;
		struct proto_gp_cert gc;
		struct proto_ec_pub *pk;
		struct ota_ecka_keys keys = {0}, ckeys = {0};
		uint8_t apdu[256], rsp[128];
		struct proto_buf ab, rb;
		int rc;

		/* SM-DP: CERT.ECASD.ECKA, then the 3A02 key parameters */
		t = now();
		rc = proto_gp_cert_decode(&gc, cert, cert_len);
		if (rc == 0)
			rc = proto_gp_cert_verify(&gc, pk_eum);
		if (rc == 0)
			rc = proto_gp_cert_pubkey(it, &gc, ref, &pk);
		timed_cert += now() - t;
		t = now();
		proto_buf_init(&ab, apdu, sizeof(apdu));
		if (rc == 0)
			rc = ota_ecka_dp_keyparams(it, dp, ref, &crt, rc16, sizeof(rc16), &esk, &ab);
		timed += now() - t;
		if (rc < 0) {
			fprintf(stderr, "SM-DP step 3: %s\n", proto_strerror(rc));
			return 1;
		}
		/* the card (not timed): verify, agree, receipt */
		proto_buf_init(&rb, rsp, sizeof(rsp));
		rc = ota_ecka_card_keyparams(it, ecasd, pk_dp, rc16, sizeof(rc16), apdu + 5, ab.len - 5, NULL, 0,
					     &ckeys, &rb);
		ota_ecka_keys_free(&ckeys);
		if (rc < 0) {
			fprintf(stderr, "card: %s\n", proto_strerror(rc));
			return 1;
		}
		/* SM-DP: ECDH, KDF, receipt */
		t = now();
		rc = ota_ecka_dp_finish(it, esk, pk, crt_tlv, cb.len, rb.data, rb.len, &keys);
		timed += now() - t;
		ota_ecka_keys_free(&keys);
		talloc_free(it);
		if (rc < 0) {
			fprintf(stderr, "SM-DP step 5: %s\n", proto_strerror(rc));
			return 1;
		}
		n++;
	}
	printf("ecka_establish_per_s=%.0f\n", (double)n / timed);
	printf("ecka_establish_with_cert_check_per_s=%.0f\n", (double)n / (timed + timed_cert));
	/* the four EC operations (verify, keygen, sign, ECDH + KDF) through the keystore, same curve, one core */
	t = now();
	t_end = t + secs;
	while (now() < t_end) {
		void *it = talloc_new(ctx);
		struct ota_eckey *e;
		struct ota_ecka_keys keys = {0};
		uint8_t sig[PROTO_EC_SIG_LEN], msg[32] = {0};
		int v = proto_ec_verify(pk_eum, cert, 64, cert + 64, PROTO_EC_SIG_LEN);
		if ((v < 0 && v != -PROTO_E_INTEGRITY) || ota_eckey_generate(it, ref, &e) < 0 ||
		    ota_eckey_sign(dp, msg, sizeof(msg), sig) < 0 ||
		    ota_ecka_derive(it, e, pk_ecasd, &crt, NULL, 0, &keys) < 0)
			return 1;
		ota_ecka_keys_free(&keys);
		talloc_free(it);
		m++;
	}
	printf("keystore_verify_keygen_sign_ecdh_per_s=%.0f\n", (double)m / (now() - t));
	printf("ecka_curve=%s\n", ref == PROTO_EC_REF_P256 ? "P-256" : "brainpoolP256r1");
	talloc_free(ctx);
	return 0;
}
