/* sm-ota sub-commands for the GP crypto: scp03-derive and cert-verify.
 *
 *   sm-ota scp03-derive --key-enc HEX --key-mac HEX --host-challenge HEX --card-challenge HEX
 *   sm-ota cert-verify --ci-pk HEX CERT_HEX
 *
 * The issuer of a '7F21' certificate (the CI for CERT.DP/SR.ECDSA, the EUM for CERT.ECASD.ECKA) signs with its
 * own key, whose curve the certificate does not state: '7F49/F0' names the curve of the certified (subject) key.
 * So the curve of --ci-pk is taken from the point itself: the certificate's F0 curve if the point lies on it
 * (issuer and subject on the same curve, the usual SGP.02 case), else the first supported curve it lies on in
 * the order P-256, brainpoolP256r1, FRP256V1 (a point of one of these curves does not satisfy the equation of
 * another except by construction). A point on none of them is a usage error (exit 2). */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "proto/hex.h"
#include "ota/gp_scp03.h"
#include "ota/keystore.h"
#include "ota/sm-ota.h"

#define EXIT_INTERNAL 1	/*!< a crypto library failure: not the input's fault */

static void print_hex(const char *name, const uint8_t *p, size_t len)
{
	char *h = talloc_array(NULL, char, 2 * len + 1);

	if (!h) {
		fprintf(stderr, "out of memory\n");
		return;
	}
	printf("%s=%s\n", name, p ? proto_hex_encode(p, len, h) : "");
	talloc_free(h);
}

static void print_key(const char *name, struct ota_key *k)
{
	uint8_t raw[32];
	int n = ota_key_export(k, raw, sizeof(raw));

	if (n > 0)
		print_hex(name, raw, (size_t)n);
	memset(raw, 0, sizeof(raw));
}

/* One "--opt VALUE" pair at argv[*i]; calls smota_usage() if the value is missing. */
static const char *opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		smota_usage();
	*i += 1;
	return argv[*i];
}

static size_t aes_key_arg(const char *opt, const char *val, uint8_t out[32])
{
	size_t n = smota_hex_arg(opt, val, out, 32, 0);

	if (n != 16 && n != 24 && n != 32)
		smota_usage();
	return n;
}

int smota_scp03_derive(int argc, char **argv)
{
	const char *kenc_hex = NULL, *kmac_hex = NULL, *hc_hex = NULL, *cc_hex = NULL;
	uint8_t kenc_raw[32], kmac_raw[32], hc[OTA_SCP03_CHALLENGE_LEN], cc[OTA_SCP03_CHALLENGE_LEN];
	struct ota_key *kenc = NULL, *kmac = NULL;
	struct ota_scp03 *s = NULL;
	void *ctx;
	size_t nenc, nmac;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key-enc"))
			kenc_hex = opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--key-mac"))
			kmac_hex = opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--host-challenge"))
			hc_hex = opt_value(argc, argv, &i);
		else if (!strcmp(argv[i], "--card-challenge"))
			cc_hex = opt_value(argc, argv, &i);
		else
			smota_usage();
	}
	if (!kenc_hex || !kmac_hex || !hc_hex || !cc_hex)
		smota_usage();
	nenc = aes_key_arg("--key-enc", kenc_hex, kenc_raw);
	nmac = aes_key_arg("--key-mac", kmac_hex, kmac_raw);
	smota_hex_arg("--host-challenge", hc_hex, hc, sizeof(hc), sizeof(hc));
	smota_hex_arg("--card-challenge", cc_hex, cc, sizeof(cc), sizeof(cc));

	ctx = talloc_new(NULL);
	rc = ota_key_import(ctx, kenc_raw, nenc, &kenc);
	if (rc == 0)
		rc = ota_key_import(ctx, kmac_raw, nmac, &kmac);
	memset(kenc_raw, 0, sizeof(kenc_raw));
	memset(kmac_raw, 0, sizeof(kmac_raw));
	if (rc == 0)
		rc = ota_scp03_new(ctx, kenc, kmac, hc, cc, &s);
	if (rc < 0) {
		fprintf(stderr, "scp03-derive: %s\n", proto_strerror(rc));
		talloc_free(ctx);
		return EXIT_INTERNAL;
	}
	print_key("s_enc", ota_scp03_session_key(s, OTA_SCP03_S_ENC));
	print_key("s_mac", ota_scp03_session_key(s, OTA_SCP03_S_MAC));
	print_key("s_rmac", ota_scp03_session_key(s, OTA_SCP03_S_RMAC));
	print_hex("card_cryptogram", ota_scp03_card_cryptogram(s), OTA_SCP03_CRYPTOGRAM_LEN);
	print_hex("host_cryptogram", ota_scp03_host_cryptogram(s), OTA_SCP03_CRYPTOGRAM_LEN);
	talloc_free(ctx);
	return SMOTA_OK;
}

/* The issuer's curve as explained at the top of this file; -1 if the point is on no supported curve. */
static int issuer_curve(const struct proto_gp_cert *c, const uint8_t *pt, size_t len)
{
	static const uint8_t order[] = { PROTO_EC_REF_P256, PROTO_EC_REF_BRAINPOOLP256R1, PROTO_EC_REF_FRP256V1 };
	size_t i;

	if (c->has_curve_ref && proto_ec_point_on_curve(c->curve_ref, pt, len))
		return c->curve_ref;
	for (i = 0; i < sizeof(order); i++)
		if (proto_ec_point_on_curve(order[i], pt, len))
			return order[i];
	return -1;
}

int smota_cert_verify(int argc, char **argv)
{
	const char *ci_hex = NULL, *cert_hex = NULL;
	uint8_t ci[PROTO_EC_POINT_LEN], *cert;
	struct proto_ec_pub *issuer = NULL;
	struct proto_gp_cert c;
	void *ctx;
	size_t cert_len;
	int i, rc, ref, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ci-pk"))
			ci_hex = opt_value(argc, argv, &i);
		else if (!strncmp(argv[i], "--", 2) || cert_hex)
			smota_usage();
		else
			cert_hex = argv[i];
	}
	if (!ci_hex || !cert_hex)
		smota_usage();
	smota_hex_arg("--ci-pk", ci_hex, ci, sizeof(ci), sizeof(ci));

	ctx = talloc_new(NULL);
	cert = talloc_size(ctx, strlen(cert_hex) / 2 + 1);
	if (!cert) {
		talloc_free(ctx);
		return EXIT_INTERNAL;
	}
	cert_len = smota_hex_arg("CERT_HEX", cert_hex, cert, strlen(cert_hex) / 2 + 1, 0);

	rc = proto_gp_cert_decode(&c, cert, cert_len);
	if (rc < 0) {
		fprintf(stderr, "cert-verify: malformed certificate: %s\n", proto_strerror(rc));
		ret = SMOTA_MALFORMED;
		goto out;
	}
	ref = issuer_curve(&c, ci, sizeof(ci));
	if (ref < 0) {
		fprintf(stderr, "cert-verify: --ci-pk is not a point on a supported curve\n");
		ret = SMOTA_USAGE;
		goto out;
	}
	rc = proto_ec_pub_new(ctx, (uint8_t)ref, ci, sizeof(ci), &issuer);
	if (rc == 0)
		rc = proto_gp_cert_verify(&c, issuer);
	if (rc < 0 && rc != -PROTO_E_INTEGRITY) {
		fprintf(stderr, "cert-verify: %s\n", rc == -PROTO_E_MALFORMED ?
			"malformed certificate: signature length does not fit the issuer curve" : proto_strerror(rc));
		ret = rc == -PROTO_E_MALFORMED ? SMOTA_MALFORMED : EXIT_INTERNAL;
		goto out;
	}
	print_hex("serial", c.serial.p, c.serial.len);
	print_hex("ca_id", c.ca_id.p, c.ca_id.len);
	print_hex("subject", c.subject.p, c.subject.len);
	print_hex("key_usage", c.key_usage.p, c.key_usage.len);
	print_hex("effective", c.effective.p, c.effective.len);
	print_hex("expiry", c.expiry.p, c.expiry.len);
	print_hex("pk", c.pk.p, c.pk.len);
	printf("signature=%s\n", rc == 0 ? "ok" : "bad");
	ret = rc == 0 ? SMOTA_OK : SMOTA_INTEGRITY;
out:
	talloc_free(ctx);
	return ret;
}
