/* The EUM side of an EIS: CERT.ECASD.ECKA and the XML-DSig EumSignature (see eis_signer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <libxml/c14n.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include "tests/smsr/eis_signer.h"
#include "ota/keystore_ec.h"
#include "proto/buf.h"
#include "proto/ec.h"
#include "proto/gp_cert.h"
#include "proto/hex.h"

#define NS_RPS "http://namespaces.gsma.org/esim-messaging/3"
#define NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

static int s_free(struct eis_signer *s)
{
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	X509_free(s->chain);
	return 0;
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

int eis_signer_load(void *ctx, const char *key_pem, const char *cert_pem, const char *chain_pem,
		    struct eis_signer **out)
{
	struct eis_signer *s = talloc_zero(ctx, struct eis_signer);
	FILE *f;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	talloc_set_destructor(s, s_free);
	s->keyinfo = true;
	s->ecasd_usage = 0x0080;
	memcpy(s->effective, "20260101", 9);
	memcpy(s->expiry, "20460101", 9);
	f = fopen(key_pem, "r");
	if (!f)
		goto fail;
	s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	s->cert = s_read_cert(cert_pem);
	if (!s->key || !s->cert || X509_check_private_key(s->cert, s->key) != 1 ||
	    EVP_PKEY_get_base_id(s->key) != EVP_PKEY_EC)
		goto fail;
	if (chain_pem && !(s->chain = s_read_cert(chain_pem)))
		goto fail;
	*out = s;
	return 0;
fail:
	ERR_clear_error();
	talloc_free(s);
	return -EINVAL;
}

/* ECDSA-SHA256 over data as raw r||s, each half padded to the order size */
static int s_sign_raw(EVP_PKEY *pk, const uint8_t *data, size_t len, uint8_t *raw, size_t *raw_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[256];
	const unsigned char *p = der;
	size_t der_len = sizeof(der), half = ((size_t)EVP_PKEY_get_bits(pk) + 7) / 8;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig = NULL;
	int rc = -EIO;

	if (!md || half * 2 > *raw_len || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, der, &der_len, data, len) != 1)
		goto out;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!sig)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, (int)half) < 0 || BN_bn2binpad(s, raw + half, (int)half) < 0)
		goto out;
	*raw_len = 2 * half;
	rc = 0;
out:
	ERR_clear_error();
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

static void s_bcd_date(const char *yyyymmdd, uint8_t out[4])
{
	unsigned i;

	for (i = 0; i < 4; i++)
		out[i] = (uint8_t)((yyyymmdd[2 * i] - '0') << 4 | (yyyymmdd[2 * i + 1] - '0'));
}

int eis_signer_ecasd_cert(const struct eis_signer *s, void *ctx, const uint8_t eid[16], const uint8_t point[65],
			  uint8_t **cert, size_t *len)
{
	uint8_t usage[2] = {(uint8_t)(s->ecasd_usage >> 8), (uint8_t)s->ecasd_usage};
	uint8_t eff[4], exp[4], kid[SHA_DIGEST_LENGTH], pub[PROTO_EC_POINT_LEN], sd[512], raw[132], buf[640];
	struct proto_gp_cert gc = {0};
	struct proto_buf b;
	size_t pub_len = sizeof(pub), raw_len = sizeof(raw);
	int rc;

	if (strlen(s->effective) != 8 || strlen(s->expiry) != 8)
		return -EINVAL;
	if (!EVP_PKEY_get_octet_string_param(s->key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &pub_len)) {
		ERR_clear_error();
		return -EIO;
	}
	SHA1(pub, pub_len, kid);
	s_bcd_date(s->effective, eff);
	s_bcd_date(s->expiry, exp);
	gc.serial = (struct proto_gp_field){eid + 8, 8};
	gc.ca_id = (struct proto_gp_field){kid, sizeof(kid)};
	gc.subject = (struct proto_gp_field){eid, 16};
	gc.key_usage = (struct proto_gp_field){usage, 2};
	gc.effective = (struct proto_gp_field){eff, 4};
	gc.expiry = (struct proto_gp_field){exp, 4};
	gc.pk = (struct proto_gp_field){point, PROTO_EC_POINT_LEN};
	gc.has_curve_ref = true;
	gc.curve_ref = PROTO_EC_REF_P256;
	proto_buf_init(&b, sd, sizeof(sd));
	rc = proto_gp_cert_put_signed_data(&b, &gc);
	if (rc < 0)
		return rc;
	rc = s_sign_raw(s->key, sd, b.len, raw, &raw_len);
	if (rc < 0)
		return rc;
	if (s->ecasd_bad_sig)
		raw[raw_len - 1] ^= 0x01;
	gc.signature = (struct proto_gp_field){raw, raw_len};
	proto_buf_init(&b, buf, sizeof(buf));
	rc = proto_gp_cert_encode(&b, &gc);
	if (rc < 0)
		return rc;
	*cert = talloc_memdup(ctx, buf, b.len);
	*len = b.len;
	return *cert ? 0 : -ENOMEM;
}

static bool s_is(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && !strcmp((const char *)n->ns->href, ns) &&
	       !strcmp((const char *)n->name, name);
}

static xmlNode *s_find(xmlNode *n, const char *ns, const char *name)
{
	xmlNode *r;

	for (; n; n = n->next) {
		if (s_is(n, ns, name))
			return n;
		if (n->type == XML_ELEMENT_NODE && (r = s_find(n->children, ns, name)))
			return r;
	}
	return NULL;
}

int eis_signer_find(xmlNode *n, xmlNode **si_eum, xmlNode **sig)
{
	xmlNode *m;

	*si_eum = s_find(n, NS_RPS, "EumSignedInfo");
	for (m = *si_eum ? (*si_eum)->next : NULL; m && m->type != XML_ELEMENT_NODE; m = m->next)
		;
	*sig = m;
	return *si_eum && s_is(m, NS_RPS, "EumSignature") ? 0 : -ENOENT;
}

static int s_visible(void *root, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = (node && node->type != XML_NAMESPACE_DECL) ? node : parent;

	for (; n; n = n->parent)
		if (n == root)
			return 1;
	return 0;
}

/* canonical bytes of the subtree at n, as a talloc child of ctx */
static int s_c14n(void *ctx, xmlNode *n, int mode, uint8_t **out, size_t *len)
{
	xmlOutputBufferPtr ob = xmlAllocOutputBuffer(NULL);

	if (!ob)
		return -ENOMEM;
	if (xmlC14NExecute(n->doc, s_visible, n, mode, NULL, 0, ob) < 0) {
		xmlOutputBufferClose(ob);
		return -EINVAL;
	}
	*len = xmlOutputBufferGetSize(ob);
	*out = talloc_memdup(ctx, xmlOutputBufferGetContent(ob), *len ? *len : 1);
	xmlOutputBufferClose(ob);
	return *out ? 0 : -ENOMEM;
}

static char *s_b64(void *ctx, const uint8_t *v, size_t len)
{
	char *s = talloc_size(ctx, 4 * ((len + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, v, (int)len);
	return s;
}

static xmlNode *s_add(xmlNode *parent, xmlNs *ns, const char *name, const char *alg, const char *text)
{
	xmlNode *n = xmlNewChild(parent, ns, BAD_CAST name, NULL);

	if (n && alg)
		xmlSetProp(n, BAD_CAST "Algorithm", BAD_CAST alg);
	if (n && text)
		xmlNodeAddContent(n, BAD_CAST text);
	return n;
}

static int s_add_cert(void *ctx, xmlNode *x509data, xmlNs *ds, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	char *t;

	if (len <= 0)
		return -EIO;
	t = s_b64(ctx, der, (size_t)len);
	OPENSSL_free(der);
	return t && s_add(x509data, ds, "X509Certificate", NULL, t) ? 0 : -ENOMEM;
}

static char *s_text(void *ctx, xmlNode *n)
{
	xmlChar *c = n ? xmlNodeGetContent(n) : NULL;
	char *t = c ? talloc_strdup(ctx, (const char *)c) : NULL;

	xmlFree(c);
	return t;
}

/* replace (or add) the Ecasd certificate by one over point (NULL: a fresh key) */
static int s_issue_ecasd(const struct eis_signer *s, void *tmp, xmlNode *si_eum, const uint8_t *point)
{
	xmlNode *ecasd = s_find(si_eum->children, NS_RPS, "Ecasd"), *ce, *val, *ks;
	char *eid_hex = s_text(tmp, s_find(si_eum->children, NS_RPS, "Eid")), *hex;
	struct ota_eckey *k = NULL;
	uint8_t eid[16], *cert;
	size_t len;
	int rc;

	if (!ecasd || !eid_hex || proto_hex_decode(eid_hex, eid, sizeof(eid)) != (int)sizeof(eid))
		return -EINVAL;
	if (!point) {
		rc = ota_eckey_generate(tmp, PROTO_EC_REF_P256, &k);
		if (rc < 0)
			return rc;
		point = ota_eckey_public(k);
	}
	rc = eis_signer_ecasd_cert(s, tmp, eid, point, &cert, &len);
	if (rc < 0)
		return rc;
	hex = talloc_size(tmp, 2 * len + 1);
	if (!hex)
		return -ENOMEM;
	proto_hex_encode_upper(cert, len, hex);
	ce = s_find(ecasd->children, NS_RPS, "Certificate");
	val = ce ? s_find(ce->children, NS_RPS, "Value") : NULL;
	if (val) {
		xmlNodeSetContent(val, BAD_CAST hex);
		return 0;
	}
	ks = s_find(ecasd->children, NS_RPS, "Keyset");
	if (!ks)
		return -EINVAL;
	ce = s_add(ks, ecasd->ns, "Certificate", NULL, NULL);
	if (!ce || !s_add(ce, ecasd->ns, "Index", NULL, "1") ||
	    !s_add(ce, ecasd->ns, "CaId", NULL, s_text(tmp, s_find(si_eum->children, NS_RPS, "Eum-id"))) ||
	    !s_add(ce, ecasd->ns, "Value", NULL, hex))
		return -ENOMEM;
	return 0;
}

static int s_sign(const struct eis_signer *s, void *tmp, xmlNode *si_eum, xmlNode *sig)
{
	const char *alg = s->inclusive ? ALG_C14N : ALG_EXC_C14N;
	int mode = s->inclusive ? XML_C14N_1_0 : XML_C14N_EXCLUSIVE_1_0, rc;
	uint8_t *bytes, md[32], raw[132];
	size_t len, raw_len = sizeof(raw);
	xmlNode *n, *si, *ref, *tr, *ki, *xd;
	unsigned int md_len;
	xmlNs *ds;

	while ((n = sig->children)) {
		xmlUnlinkNode(n);
		xmlFreeNode(n);
	}
	ds = xmlSearchNsByHref(sig->doc, sig, BAD_CAST NS_DSIG);
	if (!ds && !(ds = xmlNewNs(sig, BAD_CAST NS_DSIG, BAD_CAST "ds")))
		return -ENOMEM;
	rc = s_c14n(tmp, si_eum, mode, &bytes, &len);
	if (rc < 0)
		return rc;
	if (!EVP_Digest(bytes, len, md, &md_len, EVP_sha256(), NULL))
		return -EIO;
	si = s_add(sig, ds, "SignedInfo", NULL, NULL);
	if (!si || !s_add(si, ds, "CanonicalizationMethod", alg, NULL) ||
	    !s_add(si, ds, "SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", NULL) ||
	    !(ref = s_add(si, ds, "Reference", NULL, NULL)))
		return -ENOMEM;
	if (s->uri)
		xmlSetProp(ref, BAD_CAST "URI", BAD_CAST s->uri);
	if (!(tr = s_add(ref, ds, "Transforms", NULL, NULL)) || !s_add(tr, ds, "Transform", alg, NULL) ||
	    !s_add(ref, ds, "DigestMethod", "http://www.w3.org/2001/04/xmlenc#sha256", NULL) ||
	    !s_add(ref, ds, "DigestValue", NULL, s_b64(tmp, md, md_len)))
		return -ENOMEM;
	rc = s_c14n(tmp, si, mode, &bytes, &len);
	if (rc < 0)
		return rc;
	rc = s_sign_raw(s->key, bytes, len, raw, &raw_len);
	if (rc < 0)
		return rc;
	if (!s_add(sig, ds, "SignatureValue", NULL, s_b64(tmp, raw, raw_len)))
		return -ENOMEM;
	if (!s->keyinfo)
		return 0;
	if (!(ki = s_add(sig, ds, "KeyInfo", NULL, NULL)) || !(xd = s_add(ki, ds, "X509Data", NULL, NULL)))
		return -ENOMEM;
	rc = s_add_cert(tmp, xd, ds, s->cert);
	if (!rc && s->chain)
		rc = s_add_cert(tmp, xd, ds, s->chain);
	return rc;
}

int eis_signer_sign(const struct eis_signer *s, xmlNode *si_eum, xmlNode *sig, const uint8_t *ecasd_point)
{
	void *tmp = talloc_new(NULL);
	int rc = tmp ? 0 : -ENOMEM;

	if (!rc && s->ecasd == EIS_SIGNER_ECASD_ISSUE)
		rc = s_issue_ecasd(s, tmp, si_eum, ecasd_point);
	if (!rc)
		rc = s_sign(s, tmp, si_eum, sig);
	talloc_free(tmp);
	return rc;
}
