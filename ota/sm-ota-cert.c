/* sm-ota cert-issue: issue a GlobalPlatform '7F21' certificate (CERT.DP.ECDSA, CERT.SR.ECDSA, CERT.ECASD.ECKA;
 * proto/gp_cert.h, crypto.md §A.5) for test PKIs and operations tooling.
 *
 *   sm-ota cert-issue --ca-key PEM --subject-key PEM --serial HEX --ca-id HEX --subject HEX --usage HEX
 *                     [--discretionary HEX] [--effective YYYYMMDD] --expiry YYYYMMDD
 *
 * --ca-key is the issuer's EC private key (PEM; P-256 or brainpoolP256r1), --subject-key the certified key (PEM,
 * private or public). '7F49' carries the subject's point and its curve as 'F0' (00 P-256, 03 brainpoolP256r1).
 * '5F37' is ECDSA-SHA256 r||s by the issuer over '93'..'7F49'. Prints cert=<hex>. The private key goes from the
 * PEM file into the keystore (ota_eckey) and is never printed. Exit status as sm-ota. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "proto/buf.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "proto/hex.h"
#include "ota/keystore_ec.h"
#include "ota/sm-ota.h"

#define EXIT_INTERNAL 1

static EVP_PKEY *s_read_key(const char *path, bool *priv)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	*priv = k != NULL;
	if (!k) {
		rewind(f);
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	fclose(f);
	ERR_clear_error();
	return k;
}

static bool s_date(const char *s, uint8_t out[4])
{
	unsigned i;

	if (!s || strlen(s) != 8 || strspn(s, "0123456789") != 8)
		return false;
	for (i = 0; i < 4; i++)
		out[i] = (uint8_t)((s[2 * i] - '0') << 4 | (s[2 * i + 1] - '0'));
	return true;
}

static const char *s_opt(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		smota_usage();
	return argv[++*i];
}

int smota_cert_issue(int argc, char **argv)
{
	const char *ca_path = NULL, *sub_path = NULL, *serial = NULL, *ca_id = NULL, *subject = NULL, *usage = NULL,
		   *disc = NULL, *eff = NULL, *exp = NULL;
	uint8_t b_serial[32], b_caid[32], b_subject[64], b_usage[2], b_disc[32], b_eff[4], b_exp[4], point[80], d[32];
	uint8_t sd[512], sig[PROTO_EC_SIG_LEN], out[640];
	struct proto_gp_cert gc = {0};
	struct ota_eckey *sk = NULL;
	EVP_PKEY *ca = NULL, *sub = NULL;
	BIGNUM *bn = NULL;
	struct proto_buf b;
	size_t point_len = 0;
	bool ca_priv, sub_priv;
	int i, ca_ref, sub_ref, rc, ret = EXIT_INTERNAL;
	char *hex;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--ca-key"))
			ca_path = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--subject-key"))
			sub_path = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--serial"))
			serial = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--ca-id"))
			ca_id = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--subject"))
			subject = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--usage"))
			usage = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--discretionary"))
			disc = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--effective"))
			eff = s_opt(argc, argv, &i);
		else if (!strcmp(o, "--expiry"))
			exp = s_opt(argc, argv, &i);
		else
			smota_usage();
	}
	if (!ca_path || !sub_path || !serial || !ca_id || !subject || !usage || !s_date(exp, b_exp) ||
	    (eff && !s_date(eff, b_eff)))
		smota_usage();
	gc.serial = (struct proto_gp_field){b_serial, smota_hex_arg("--serial", serial, b_serial, sizeof(b_serial), 0)};
	gc.ca_id = (struct proto_gp_field){b_caid, smota_hex_arg("--ca-id", ca_id, b_caid, sizeof(b_caid), 0)};
	gc.subject = (struct proto_gp_field){b_subject,
					     smota_hex_arg("--subject", subject, b_subject, sizeof(b_subject), 0)};
	gc.key_usage = (struct proto_gp_field){b_usage, smota_hex_arg("--usage", usage, b_usage, sizeof(b_usage), 0)};
	if (disc)
		gc.discretionary = (struct proto_gp_field){
			b_disc, smota_hex_arg("--discretionary", disc, b_disc, sizeof(b_disc), 0)};
	if (eff)
		gc.effective = (struct proto_gp_field){b_eff, 4};
	gc.expiry = (struct proto_gp_field){b_exp, 4};
	if (!gc.serial.len || !gc.ca_id.len || !gc.subject.len || !gc.key_usage.len)
		smota_usage();

	ca = s_read_key(ca_path, &ca_priv);
	sub = s_read_key(sub_path, &sub_priv);
	ca_ref = ca ? proto_ec_ref_of(ca) : -1;
	sub_ref = sub ? proto_ec_ref_of(sub) : -1;
	if (!ca || !ca_priv || ca_ref < 0 || !sub || sub_ref < 0) {
		fprintf(stderr, "cert-issue: --ca-key must be an EC private key and --subject-key an EC key, both PEM "
				"on P-256 or brainpoolP256r1\n");
		ret = SMOTA_USAGE;
		goto out;
	}
	if (!EVP_PKEY_get_octet_string_param(sub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &point_len) ||
	    point_len != PROTO_EC_POINT_LEN || point[0] != 0x04) {
		fprintf(stderr, "cert-issue: the subject key is not an uncompressed 256-bit point\n");
		ret = SMOTA_USAGE;
		goto out;
	}
	gc.pk = (struct proto_gp_field){point, point_len};
	gc.has_curve_ref = true;
	gc.curve_ref = (uint8_t)sub_ref;

	/* the issuer's private scalar goes straight into the keystore */
	if (!EVP_PKEY_get_bn_param(ca, OSSL_PKEY_PARAM_PRIV_KEY, &bn) || BN_bn2binpad(bn, d, sizeof(d)) < 0)
		goto out;
	rc = ota_eckey_import(NULL, (uint8_t)ca_ref, d, sizeof(d), &sk);
	OPENSSL_cleanse(d, sizeof(d));
	if (rc < 0)
		goto out;
	proto_buf_init(&b, sd, sizeof(sd));
	if (proto_gp_cert_put_signed_data(&b, &gc) < 0 || ota_eckey_sign(sk, sd, b.len, sig) < 0)
		goto out;
	gc.signature = (struct proto_gp_field){sig, sizeof(sig)};
	proto_buf_init(&b, out, sizeof(out));
	if (proto_gp_cert_encode(&b, &gc) < 0)
		goto out;
	hex = talloc_array(NULL, char, 2 * b.len + 1);
	if (!hex)
		goto out;
	printf("cert=%s\n", proto_hex_encode_upper(b.data, b.len, hex));
	talloc_free(hex);
	ret = SMOTA_OK;
out:
	if (ret == EXIT_INTERNAL)
		fprintf(stderr, "cert-issue: crypto library failure\n");
	ERR_clear_error();
	BN_clear_free(bn);
	talloc_free(sk);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(sub);
	return ret;
}
