/* The keystore, EC part: private keys, ECDSA r||s signing, ECDH feeding the X9.63 KDF (crypto.md §1.2, §A.4).
 * OpenSSL errors are mapped to -PROTO_E_CRYPTO here. ShS and KeyData never leave this file. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include "ota/keystore_ec.h"
#include "proto/errors.h"

#define KEYDATA_MAX	256	/*!< largest KeyData ota_eckey_agree() derives */
#define KDF_OUT_MAX	1024	/*!< largest output of ota_eckey_x963_kdf() */

struct ota_eckey {
	uint8_t ref;				/*!< curve */
	uint8_t pub[PROTO_EC_POINT_LEN];	/*!< public point 04||X||Y */
	EVP_PKEY *pkey;				/*!< key pair; OpenSSL clears the private scalar on free */
};

static int crypto_err(void)
{
	ERR_clear_error();
	return -PROTO_E_CRYPTO;
}

static int eckey_destructor(struct ota_eckey *k)
{
	EVP_PKEY_free(k->pkey);
	OPENSSL_cleanse(k, sizeof(*k));
	return 0;
}

static struct ota_eckey *eckey_alloc(void *ctx, uint8_t ref)
{
	struct ota_eckey *k = talloc_zero(ctx, struct ota_eckey);

	if (!k)
		return NULL;
	talloc_set_name_const(k, "ota_eckey");
	talloc_set_destructor(k, eckey_destructor);
	k->ref = ref;
	return k;
}

/* d (secure BN) -> public point, then EVP_PKEY_fromdata(KEYPAIR). */
static int keypair_from_scalar(struct ota_eckey *k, const BIGNUM *d)
{
	EC_GROUP *grp = NULL;
	EC_POINT *pt = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *dom = NULL, *key = NULL, *all = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc;

	rc = proto_ec_group_new(k->ref, &grp);
	if (rc < 0)
		return rc;
	rc = -PROTO_E_KEY;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0)
		goto out;
	rc = -PROTO_E_CRYPTO;
	pt = EC_POINT_new(grp);
	if (!pt || EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, k->pub, sizeof(k->pub), NULL) != sizeof(k->pub))
		goto out;
	rc = proto_ec_params_new(k->ref, &dom);
	if (rc < 0)
		goto out;
	rc = -PROTO_E_CRYPTO;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, k->pub, sizeof(k->pub)) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
		goto out;
	key = OSSL_PARAM_BLD_to_param(bld);	/* the private part goes to secure, cleared memory */
	all = key ? OSSL_PARAM_merge(dom, key) : NULL;
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!all || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &k->pkey, EVP_PKEY_KEYPAIR, all) != 1)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(all);
	OSSL_PARAM_free(key);
	OSSL_PARAM_free(dom);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return rc;
}

int ota_eckey_import(void *ctx, uint8_t ref, const uint8_t *d, size_t d_len, struct ota_eckey **out)
{
	struct ota_eckey *k;
	BIGNUM *bd;
	int rc;

	*out = NULL;
	if (!proto_ec_ref_supported(ref))
		return -PROTO_E_UNSUPPORTED;
	if (d_len != PROTO_EC_FIELD_LEN)
		return -PROTO_E_KEY;
	k = eckey_alloc(ctx, ref);
	if (!k)
		return -ENOMEM;
	bd = BN_secure_new();
	if (!bd || !BN_bin2bn(d, (int)d_len, bd)) {
		BN_clear_free(bd);
		talloc_free(k);
		return crypto_err();
	}
	rc = keypair_from_scalar(k, bd);
	BN_clear_free(bd);
	if (rc < 0) {
		talloc_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int ota_eckey_generate(void *ctx, uint8_t ref, struct ota_eckey **out)
{
	struct ota_eckey *k;
	EVP_PKEY *dom = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t publen = 0;
	int rc;

	*out = NULL;
	k = eckey_alloc(ctx, ref);
	if (!k)
		return -ENOMEM;
	rc = proto_ec_domain_get(ref, &dom);
	if (rc < 0)
		goto err;
	rc = -PROTO_E_CRYPTO;
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, dom, NULL);
	if (!pctx || EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_generate(pctx, &k->pkey) != 1)
		goto err;
	if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, k->pub, sizeof(k->pub), &publen) != 1 ||
	    publen != sizeof(k->pub) || k->pub[0] != 0x04)
		goto err;
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(dom);
	*out = k;
	return 0;
err:
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(dom);
	talloc_free(k);
	return rc;
}

uint8_t ota_eckey_curve(const struct ota_eckey *k)
{
	return k->ref;
}

const uint8_t *ota_eckey_public(const struct ota_eckey *k)
{
	return k->pub;
}

int ota_eckey_public_key(void *ctx, const struct ota_eckey *k, struct proto_ec_pub **out)
{
	return proto_ec_pub_new(ctx, k->ref, k->pub, sizeof(k->pub), out);
}

int ota_eckey_sign(struct ota_eckey *k, const uint8_t *msg, size_t len, uint8_t sig[PROTO_EC_SIG_LEN])
{
	EVP_MD_CTX *md;
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	uint8_t der[160];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	int rc = -PROTO_E_CRYPTO;

	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, k->pkey, NULL) != 1 ||
	    EVP_DigestSign(md, der, &der_len, msg, len) != 1)
		goto out;
	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!es)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, PROTO_EC_FIELD_LEN) != PROTO_EC_FIELD_LEN ||
	    BN_bn2binpad(s, sig + PROTO_EC_FIELD_LEN, PROTO_EC_FIELD_LEN) != PROTO_EC_FIELD_LEN)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		ERR_clear_error();
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}

int ota_eckey_x963_kdf(const uint8_t *z, size_t z_len, const uint8_t *shared_info, size_t si_len,
		       uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4], *p = params;
	int rc = -PROTO_E_CRYPTO;

	if (!z_len || !out_len || out_len > KDF_OUT_MAX)
		return -EINVAL;
	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_X963KDF, NULL);
	if (!kdf)
		return crypto_err();
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, z_len);
	if (si_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)shared_info, si_len);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		ERR_clear_error();
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

int ota_eckey_agree(struct ota_eckey *k, const struct proto_ec_pub *peer, const uint8_t *shared_info,
		    size_t si_len, const size_t *key_lens, unsigned nkeys, void *ctx, struct ota_key **keys)
{
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t shs[PROTO_EC_FIELD_LEN], keydata[KEYDATA_MAX];
	size_t shs_len = sizeof(shs), total = 0, off = 0;
	unsigned i;
	int rc;

	if (!nkeys || nkeys > 8)
		return -EINVAL;
	for (i = 0; i < nkeys; i++) {
		keys[i] = NULL;
		if (key_lens[i] != 16 && key_lens[i] != 24 && key_lens[i] != 32)
			return -EINVAL;
		total += key_lens[i];
	}
	if (peer->ref != k->ref)
		return -PROTO_E_KEY;

	/* ShS = x-coordinate of [k]peer, FE2OS, 32 bytes (EVP_PKEY_derive already returns just that) */
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	/* the peer point was validated when it was decoded (proto_ec_pub_new: on the curve; every supported curve has
	 * cofactor 1), so OpenSSL's own peer check (a full [n]Q multiplication) is skipped */
	if (!pctx || EVP_PKEY_derive_init(pctx) != 1 || EVP_PKEY_derive_set_peer_ex(pctx, peer->pkey, 0) != 1 ||
	    EVP_PKEY_derive(pctx, shs, &shs_len) != 1 || shs_len != sizeof(shs)) {
		rc = crypto_err();
		goto out;
	}
	rc = ota_eckey_x963_kdf(shs, shs_len, shared_info, si_len, keydata, total);
	if (rc < 0)
		goto out;
	for (i = 0; i < nkeys; i++) {
		rc = ota_key_import(ctx, keydata + off, key_lens[i], &keys[i]);
		if (rc < 0)
			goto out;
		off += key_lens[i];
	}
out:
	if (rc < 0) {
		for (i = 0; i < nkeys; i++) {
			talloc_free(keys[i]);
			keys[i] = NULL;
		}
	}
	EVP_PKEY_CTX_free(pctx);
	OPENSSL_cleanse(shs, sizeof(shs));
	OPENSSL_cleanse(keydata, sizeof(keydata));
	return rc;
}

int ota_eckey_load_pem(void *ctx, const char *path, struct ota_eckey **out)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;
	BIGNUM *bn = NULL;
	uint8_t d[PROTO_EC_FIELD_LEN];
	int ref, rc = -PROTO_E_KEY;

	*out = NULL;
	if (!f)
		return -ENOENT;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!k)
		return -PROTO_E_KEY;
	ref = proto_ec_ref_of(k);
	if (ref < 0) {
		rc = ref;
		goto out;
	}
	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn) || BN_bn2binpad(bn, d, sizeof(d)) < 0)
		goto out;
	rc = ota_eckey_import(ctx, (uint8_t)ref, d, sizeof(d), out);
	OPENSSL_cleanse(d, sizeof(d));
out:
	BN_clear_free(bn);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}
