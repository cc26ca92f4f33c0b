/* EC public keys on the SGP.02 curves: curve table, point decoding with on-curve check, ECDSA-SHA256 r||s verify.
 * OpenSSL errors are mapped to -PROTO_E_CRYPTO here (crypto.md §1.2, §1.4). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <talloc.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/hex.h"

struct curve {
	uint8_t ref;
	const char *name;		/*!< printable name */
	const char *group_name;		/*!< OpenSSL group name, NULL = explicit parameters below */
	const char *p, *a, *b, *gx, *gy, *n;	/*!< explicit prime-field parameters (hex), cofactor 1 */
};

/* FRP256V1 (ANSSI, JORF 2011-10-21), values as in crypto.md §1.2 and crypto.json "curves" */
static const struct curve curves[] = {
	{ .ref = PROTO_EC_REF_P256, .name = "P-256", .group_name = "prime256v1" },
	{ .ref = PROTO_EC_REF_BRAINPOOLP256R1, .name = "brainpoolP256r1", .group_name = "brainpoolP256r1" },
	{
		.ref = PROTO_EC_REF_FRP256V1, .name = "FRP256V1",
		.p = "F1FD178C0B3AD58F10126DE8CE42435B3961ADBCABC8CA6DE8FCF353D86E9C03",
		.a = "F1FD178C0B3AD58F10126DE8CE42435B3961ADBCABC8CA6DE8FCF353D86E9C00",
		.b = "EE353FCA5428A9300D4ABA754A44C00FDFEC0C9AE4B1A1803075ED967B7BB73F",
		.gx = "B6B3D4C356C139EB31183D4749D423958C27D2DCAF98B70164C97A2DD98F5CFF",
		.gy = "6142E0F7C8B204911F9271F0F3ECEF8C2701C307E8E4C9E183115A1554062CFB",
		.n = "F1FD178C0B3AD58F10126DE8CE42435B53DC67E140D2BF941FFDD459C6D655E1",
	},
};

static const struct curve *curve_get(uint8_t ref)
{
	size_t i;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].ref == ref)
			return &curves[i];
	return NULL;
}

/* Every OpenSSL failure ends here: drop the error queue so it cannot leak into an unrelated later check. */
static int crypto_err(void)
{
	ERR_clear_error();
	return -PROTO_E_CRYPTO;
}

bool proto_ec_ref_supported(uint8_t ref)
{
	return curve_get(ref) != NULL;
}

const char *proto_ec_ref_name(uint8_t ref)
{
	const struct curve *c = curve_get(ref);

	return c ? c->name : "unknown";
}

int proto_ec_params_new(uint8_t ref, OSSL_PARAM **out)
{
	const struct curve *c = curve_get(ref);
	OSSL_PARAM_BLD *bld;
	BIGNUM *p = NULL, *a = NULL, *b = NULL, *n = NULL;
	uint8_t gen[PROTO_EC_POINT_LEN];
	int rc = -PROTO_E_CRYPTO;

	*out = NULL;
	if (!c)
		return -PROTO_E_UNSUPPORTED;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return crypto_err();
	if (c->group_name) {
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group_name, 0))
			goto out;
	} else {
		gen[0] = 0x04;
		if (proto_hex_decode(c->gx, gen + 1, PROTO_EC_FIELD_LEN) != PROTO_EC_FIELD_LEN ||
		    proto_hex_decode(c->gy, gen + 1 + PROTO_EC_FIELD_LEN, PROTO_EC_FIELD_LEN) != PROTO_EC_FIELD_LEN)
			goto out;
		if (!BN_hex2bn(&p, c->p) || !BN_hex2bn(&a, c->a) || !BN_hex2bn(&b, c->b) || !BN_hex2bn(&n, c->n))
			goto out;
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_EC_FIELD_TYPE, "prime-field", 0) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_P, p) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_A, a) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_B, b) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_EC_GENERATOR, gen, sizeof(gen)) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_ORDER, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_COFACTOR, BN_value_one()))
			goto out;
	}
	*out = OSSL_PARAM_BLD_to_param(bld);
	rc = *out ? 0 : -PROTO_E_CRYPTO;
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(n);
	if (rc < 0)
		ERR_clear_error();
	return rc;
}

int proto_ec_group_new(uint8_t ref, EC_GROUP **out)
{
	OSSL_PARAM *params;
	int rc;

	*out = NULL;
	rc = proto_ec_params_new(ref, &params);
	if (rc < 0)
		return rc;
	*out = EC_GROUP_new_from_params(params, NULL, NULL);
	OSSL_PARAM_free(params);
	return *out ? 0 : crypto_err();
}

/* EVP_PKEY_fromdata() for an EC key of the given selection from a complete parameter array. */
static int pkey_fromdata(OSSL_PARAM *params, int selection, EVP_PKEY **out)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	int ok;

	*out = NULL;
	if (!pctx)
		return crypto_err();
	ok = EVP_PKEY_fromdata_init(pctx) == 1 && EVP_PKEY_fromdata(pctx, out, selection, params) == 1;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : crypto_err();
}

int proto_ec_domain_new(uint8_t ref, EVP_PKEY **out)
{
	OSSL_PARAM *params;
	int rc;

	*out = NULL;
	rc = proto_ec_params_new(ref, &params);
	if (rc < 0)
		return rc;
	rc = pkey_fromdata(params, EVP_PKEY_KEY_PARAMETERS, out);
	OSSL_PARAM_free(params);
	return rc;
}

int proto_ec_curve_check(uint8_t ref)
{
	EVP_PKEY *dom;
	EVP_PKEY_CTX *pctx;
	int rc, ok;

	rc = proto_ec_domain_new(ref, &dom);
	if (rc < 0)
		return rc;
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, dom, NULL);
	if (!pctx) {
		EVP_PKEY_free(dom);
		return crypto_err();
	}
	ok = EVP_PKEY_param_check(pctx);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(dom);
	if (ok != 1) {
		ERR_clear_error();
		return ok == 0 ? -PROTO_E_INTEGRITY : -PROTO_E_CRYPTO;
	}
	return 0;
}

/* 0 if point is an uncompressed encoding of a point on the curve, else -PROTO_E_MALFORMED (or another error). */
/* One read-only EC_GROUP per curve for point checks, built once per process (EC_GROUP_new_from_params is costly
 * and the point operations below never modify the group, so threads may share it) */
static EC_GROUP *shared_groups[sizeof(curves) / sizeof(curves[0])];
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

/* and one domain-parameter key per curve for key generation (EVP_PKEYs are reference counted and never modified
 * once built: EVP_PKEY_up_ref() hands out the same one) */
static EVP_PKEY *shared_domains[sizeof(curves) / sizeof(curves[0])];

static void shared_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (proto_ec_group_new(curves[i].ref, &shared_groups[i]) < 0)
			shared_groups[i] = NULL;	/* point_check builds its own then */
		if (proto_ec_domain_new(curves[i].ref, &shared_domains[i]) < 0)
			shared_domains[i] = NULL; /* proto_ec_domain_get builds one then */
	}
	ERR_clear_error();
}

int proto_ec_domain_get(uint8_t ref, EVP_PKEY **out)
{
	size_t i;

	pthread_once(&shared_once, shared_init);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].ref == ref && shared_domains[i] && EVP_PKEY_up_ref(shared_domains[i]) == 1) {
			*out = shared_domains[i];
			return 0;
		}
	return proto_ec_domain_new(ref, out);
}

static const EC_GROUP *shared_group(uint8_t ref)
{
	size_t i;

	pthread_once(&shared_once, shared_init);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].ref == ref)
			return shared_groups[i];
	return NULL;
}

static int point_check(uint8_t ref, const uint8_t *point, size_t len)
{
	const EC_GROUP *grp;
	EC_GROUP *own = NULL;
	EC_POINT *pt;
	int rc = 0;

	if (!curve_get(ref))
		return -PROTO_E_UNSUPPORTED;
	if (len != PROTO_EC_POINT_LEN || point[0] != 0x04)
		return -PROTO_E_MALFORMED;
	grp = shared_group(ref);
	if (!grp) {
		rc = proto_ec_group_new(ref, &own);
		if (rc < 0)
			return rc;
		grp = own;
	}
	pt = EC_POINT_new(grp);
	if (!pt) {
		rc = crypto_err();
	} else if (EC_POINT_oct2point(grp, pt, point, len, NULL) != 1 || EC_POINT_is_on_curve(grp, pt, NULL) != 1 ||
		   EC_POINT_is_at_infinity(grp, pt)) {
		/* oct2point rejects coordinates >= p and points off the curve; is_on_curve repeats the latter */
		ERR_clear_error();
		rc = -PROTO_E_MALFORMED;
	}
	EC_POINT_free(pt);
	EC_GROUP_free(own);
	return rc;
}

bool proto_ec_point_on_curve(uint8_t ref, const uint8_t *point, size_t len)
{
	return point_check(ref, point, len) == 0;
}

static int pub_destructor(struct proto_ec_pub *pk)
{
	EVP_PKEY_free(pk->pkey);
	pk->pkey = NULL;
	return 0;
}

int proto_ec_pub_new(void *ctx, uint8_t ref, const uint8_t *point, size_t len, struct proto_ec_pub **out)
{
	struct proto_ec_pub *pk;
	OSSL_PARAM *dom = NULL, *pub = NULL, *all = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc;

	*out = NULL;
	rc = point_check(ref, point, len);
	if (rc < 0)
		return rc;
	pk = talloc_zero(ctx, struct proto_ec_pub);
	if (!pk)
		return -ENOMEM;
	talloc_set_name_const(pk, "proto_ec_pub");
	talloc_set_destructor(pk, pub_destructor);
	pk->ref = ref;
	memcpy(pk->point, point, PROTO_EC_POINT_LEN);

	rc = proto_ec_params_new(ref, &dom);
	if (rc < 0)
		goto err;
	rc = -PROTO_E_CRYPTO;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pk->point, PROTO_EC_POINT_LEN))
		goto err;
	pub = OSSL_PARAM_BLD_to_param(bld);
	all = pub ? OSSL_PARAM_merge(dom, pub) : NULL;
	if (!all)
		goto err;
	rc = pkey_fromdata(all, EVP_PKEY_PUBLIC_KEY, &pk->pkey);
	if (rc < 0)
		goto err;
	OSSL_PARAM_free(all);
	OSSL_PARAM_free(pub);
	OSSL_PARAM_free(dom);
	OSSL_PARAM_BLD_free(bld);
	*out = pk;
	return 0;

err:
	ERR_clear_error();
	OSSL_PARAM_free(all);
	OSSL_PARAM_free(pub);
	OSSL_PARAM_free(dom);
	OSSL_PARAM_BLD_free(bld);
	talloc_free(pk);
	return rc;
}

int proto_ec_verify(const struct proto_ec_pub *pk, const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL;
	int der_len, ok, rc = -PROTO_E_CRYPTO;

	if (sig_len != PROTO_EC_SIG_LEN)
		return -PROTO_E_MALFORMED;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, PROTO_EC_FIELD_LEN, NULL);
	s = BN_bin2bn(sig + PROTO_EC_FIELD_LEN, PROTO_EC_FIELD_LEN, NULL);
	if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;	/* owned by es now */
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto out;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pk->pkey, NULL) != 1)
		goto out;
	/* 1 valid, 0 invalid; OpenSSL reports r or s of 0 or >= n as invalid too */
	ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, len);
	rc = ok == 1 ? 0 : -PROTO_E_INTEGRITY;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return rc;
}

int proto_ec_ref_of(const EVP_PKEY *k)
{
	char name[64];
	size_t i;

	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL)) {
		ERR_clear_error();
		return -PROTO_E_UNSUPPORTED;
	}
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].group_name && (!strcmp(name, curves[i].group_name) || !strcmp(name, curves[i].name)))
			return curves[i].ref;
	return -PROTO_E_UNSUPPORTED;
}

int proto_ec_pub_from_pkey(void *ctx, const EVP_PKEY *k, struct proto_ec_pub **out)
{
	uint8_t point[PROTO_EC_POINT_LEN + 1];
	size_t len = 0;
	int ref = proto_ec_ref_of(k);

	*out = NULL;
	if (ref < 0)
		return ref;
	if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len))
		return crypto_err();
	return proto_ec_pub_new(ctx, (uint8_t)ref, point, len, out);
}

static X509 *s_read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

int proto_ec_pub_from_cert_file(void *ctx, const char *path, const char *issuer_path, struct proto_ec_pub **out)
{
	X509 *x = s_read_cert(path), *issuer = issuer_path ? s_read_cert(issuer_path) : NULL;
	FILE *probe;
	int rc;

	*out = NULL;
	if (!x || (issuer_path && !issuer)) {
		probe = fopen(x ? issuer_path : path, "r");
		rc = probe ? -PROTO_E_MALFORMED : -ENOENT;
		if (probe)
			fclose(probe);
	} else if (issuer && X509_verify(x, X509_get0_pubkey(issuer)) != 1) {
		rc = -PROTO_E_INTEGRITY;
	} else {
		rc = proto_ec_pub_from_pkey(ctx, X509_get0_pubkey(x), out);
	}
	X509_free(x);
	X509_free(issuer);
	ERR_clear_error();
	return rc;
}
