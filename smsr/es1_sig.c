/* EumSignature verification (XML-DSig, ECDSA-SHA256 raw r||s; sgp02.md §2.2, crypto.md §D): libxml2 + OpenSSL. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <libxml/c14n.h>
#include <libxml/globals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "smsr/es1_sig.h"
#include "smsr/logging.h"
#include "smsr/soap.h"

#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"

#define MAX_KEYINFO_CERTS 8	/* signer + intermediates carried in KeyInfo */

#define EUM_CACHE_SIZE 16	/* KeyInfo certificate sets whose chain to the CI was verified */

/* An EUM certificate (with the KeyInfo intermediates it came with) already found to chain to the CI and to allow
 * signatures: the same KeyInfo bytes need no second X.509 decode and path validation while the check time stays
 * within every certificate's validity. Keyed by SHA-256 over the DER certificates of KeyInfo in order. */
struct s_eum_cached {
	uint8_t fp[32];
	X509 *cert;			/* NULL: free slot */
	time_t not_before, not_after;	/* intersection of the validity of the EUM, intermediates and CI */
	char subject[256];
};

struct s_eum_cache {
	pthread_mutex_t lock;
	struct s_eum_cached ent[EUM_CACHE_SIZE];
	unsigned next;
	unsigned long hits, misses;
};

struct smsr_es1_sig_ctx {
	X509_STORE *store;		/* the CI, only trust anchor */
	X509 *ci;
	STACK_OF(X509) *eums;		/* configured EUM certificates (fallback when KeyInfo has none) */
	time_t at;			/* 0: now */
	struct s_eum_cache *cache;	/* mutable behind the const context: guarded by its lock */
};

/*
 * Trust context
 */

static int s_ctx_free(struct smsr_es1_sig_ctx *c)
{
	unsigned i;

	if (c->cache) {
		for (i = 0; i < EUM_CACHE_SIZE; i++)
			X509_free(c->cache->ent[i].cert);
		pthread_mutex_destroy(&c->cache->lock);
	}
	X509_STORE_free(c->store);
	X509_free(c->ci);
	sk_X509_pop_free(c->eums, X509_free);
	return 0;
}

static int s_load_pem(const char *path, X509 **out, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");

	*out = NULL;
	if (!f)
		return smsr_errf(err, err_len, errno == ENOENT ? -ENOENT : -EIO, "%s: %s", path, strerror(errno));
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!*out)
		return smsr_errf(err, err_len, -EBADMSG, "%s: not a PEM certificate", path);
	return 0;
}

static bool s_has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && !strcmp(s + n - m, suf);
}

static int s_load_dir(struct smsr_es1_sig_ctx *c, const char *dir, char *err, size_t err_len)
{
	struct dirent *de;
	char path[1024];
	X509 *x;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (!d)
		return smsr_errf(err, err_len, errno == ENOENT ? -ENOENT : -EIO, "%s: %s", dir, strerror(errno));
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (!s_has_suffix(de->d_name, ".crt") && !s_has_suffix(de->d_name, ".pem")))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
			rc = smsr_errf(err, err_len, -EINVAL, "%s: path too long", dir);
			break;
		}
		rc = s_load_pem(path, &x, err, err_len);
		if (!rc && !sk_X509_push(c->eums, x)) {
			X509_free(x);
			rc = -ENOMEM;
		}
	}
	closedir(d);
	return rc;
}

int smsr_es1_sig_ctx_new(void *ctx, const char *ci_cert_file, const char *eum_cert_dir,
			 struct smsr_es1_sig_ctx **out, char *err, size_t err_len)
{
	struct smsr_es1_sig_ctx *c;
	int rc;

	*out = NULL;
	if (!ci_cert_file || !*ci_cert_file)
		return smsr_errf(err, err_len, -EINVAL, "no CI certificate file");
	c = talloc_zero(ctx, struct smsr_es1_sig_ctx);
	if (!c)
		return -ENOMEM;
	talloc_set_destructor(c, s_ctx_free);
	c->store = X509_STORE_new();
	c->eums = sk_X509_new_null();
	c->cache = talloc_zero(c, struct s_eum_cache);
	if (c->cache && pthread_mutex_init(&c->cache->lock, NULL)) {
		talloc_free(c->cache);
		c->cache = NULL;
	}
	if (!c->store || !c->eums || !c->cache) {
		talloc_free(c);
		return -ENOMEM;
	}
	rc = s_load_pem(ci_cert_file, &c->ci, err, err_len);
	if (rc)
		goto fail;
	if (X509_check_ca(c->ci) < 1) {
		rc = smsr_errf(err, err_len, -EINVAL, "%s: not a CA certificate", ci_cert_file);
		goto fail;
	}
	if (!X509_STORE_add_cert(c->store, c->ci)) {
		ERR_clear_error();
		rc = -ENOMEM;
		goto fail;
	}
	if (eum_cert_dir && *eum_cert_dir) {
		rc = s_load_dir(c, eum_cert_dir, err, err_len);
		if (rc)
			goto fail;
	}
	*out = c;
	return 0;
fail:
	talloc_free(c);
	return rc;
}

void smsr_es1_sig_ctx_set_time(struct smsr_es1_sig_ctx *c, time_t t)
{
	c->at = t;
}

unsigned smsr_es1_sig_ctx_eum_count(const struct smsr_es1_sig_ctx *c)
{
	return (unsigned)sk_X509_num(c->eums);
}

void smsr_es1_sig_ctx_cache_stats(const struct smsr_es1_sig_ctx *c, unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&c->cache->lock);
	*hits = c->cache->hits;
	*misses = c->cache->misses;
	pthread_mutex_unlock(&c->cache->lock);
}

static time_t s_check_time(const struct smsr_es1_sig_ctx *c)
{
	return c->at ? c->at : time(NULL);
}

/* a cached EUM certificate for this KeyInfo fingerprint, valid at the check time (a new reference), or NULL */
static X509 *s_cache_get(const struct smsr_es1_sig_ctx *c, const uint8_t fp[32], char *subject, size_t cap)
{
	struct s_eum_cache *k = c->cache;
	time_t t = s_check_time(c);
	X509 *x = NULL;
	unsigned i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < EUM_CACHE_SIZE; i++) {
		struct s_eum_cached *e = &k->ent[i];

		if (e->cert && !memcmp(e->fp, fp, 32) && t >= e->not_before && t <= e->not_after &&
		    X509_up_ref(e->cert)) {
			x = e->cert;
			snprintf(subject, cap, "%s", e->subject);
			break;
		}
	}
	if (x)
		k->hits++;
	else
		k->misses++;
	pthread_mutex_unlock(&k->lock);
	return x;
}

static bool s_validity(X509 *x, time_t *nb, time_t *na)
{
	struct tm tm;
	time_t t;

	if (!ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm))
		return false;
	t = timegm(&tm);
	if (t > *nb)
		*nb = t;
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return false;
	t = timegm(&tm);
	if (t < *na)
		*na = t;
	return true;
}

/* remember a verified KeyInfo set (best effort: a failure only costs a later re-verification) */
static void s_cache_put(const struct smsr_es1_sig_ctx *c, const uint8_t fp[32], X509 *cert, STACK_OF(X509) *chain,
			const char *subject)
{
	struct s_eum_cache *k = c->cache;
	time_t nb = 0, na = (time_t)INT64_MAX;
	struct s_eum_cached *e;
	int i;

	if (!s_validity(cert, &nb, &na) || !s_validity(c->ci, &nb, &na))
		goto out;
	for (i = 0; chain && i < sk_X509_num(chain); i++)
		if (!s_validity(sk_X509_value(chain, i), &nb, &na))
			goto out;
	if (!X509_up_ref(cert))
		goto out;
	pthread_mutex_lock(&k->lock);
	e = &k->ent[k->next];
	k->next = (k->next + 1) % EUM_CACHE_SIZE;
	X509_free(e->cert);
	memcpy(e->fp, fp, 32);
	e->cert = cert;
	e->not_before = nb;
	e->not_after = na;
	snprintf(e->subject, sizeof(e->subject), "%s", subject);
	pthread_mutex_unlock(&k->lock);
out:
	ERR_clear_error();
}

/*
 * XML helpers
 */

static bool s_is(const xmlNode *n, const char *ns, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, local) && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, ns);
}

static const xmlNode *s_elem(const xmlNode *n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static const xmlNode *s_first(const xmlNode *parent)
{
	return s_elem(parent->children);
}

static const xmlNode *s_next(const xmlNode *n)
{
	return s_elem(n->next);
}

/* an attribute without namespace, as a talloc string under ctx; NULL when absent (*oom on allocation failure) */
static char *s_attr(void *ctx, const xmlNode *n, const char *name, bool *present)
{
	xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
	char *s;

	*present = v != NULL;
	if (!v)
		return NULL;
	s = talloc_strdup(ctx, (const char *)v);
	xmlFree(v);
	return s;
}

/* text content of an element holding only text, talloc'd */
static char *s_text(void *ctx, const xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *s;

	if (!v)
		return talloc_strdup(ctx, "");
	s = talloc_strdup(ctx, (const char *)v);
	xmlFree(v);
	return s;
}

/* strict base64 (RFC 4648 alphabet, '=' padding), XML white space ignored */
static int s_b64(void *ctx, const char *s, uint8_t **out, size_t *out_len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0, q = 0, pad = 0;
	uint32_t acc = 0;
	uint8_t *b = talloc_array(ctx, uint8_t, n / 4 * 3 + 3);
	const char *p;

	if (!b)
		return -ENOMEM;
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			continue;
		if (*s == '=') {
			pad++;
			acc <<= 6;
		} else {
			p = strchr(alpha, *s);
			if (!p || pad)
				goto bad;
			acc = acc << 6 | (uint32_t)(p - alpha);
		}
		if (++q == 4) {
			/* at most two '=', and the bits they leave unused must be zero (one encoding per value) */
			if (pad > 2 || (pad == 1 && (acc & 0xff)) || (pad == 2 && (acc & 0xffff)))
				goto bad;
			b[o++] = (uint8_t)(acc >> 16);
			if (pad < 2)
				b[o++] = (uint8_t)(acc >> 8);
			if (pad < 1)
				b[o++] = (uint8_t)acc;
			q = 0;
			acc = 0;
			if (pad)
				pad = 3;	/* padding only in the last quantum */
		}
	}
	if (q || !o)
		goto bad;
	*out = b;
	*out_len = o;
	return 0;
bad:
	talloc_free(b);
	return -EBADMSG;
}

/*
 * Signature structure
 */

struct s_sig {
	void *tmp;
	char *err;
	size_t err_len;
	xmlNode *signed_info;		/* ds:SignedInfo in the re-parsed signature */
	int si_mode;			/* CanonicalizationMethod */
	int ref_mode;			/* c14n of the Reference */
	uint8_t *digest;
	size_t digest_len;
	uint8_t *sigval;
	size_t sigval_len;
	X509 *cert;			/* signer from KeyInfo, or NULL */
	STACK_OF(X509) *chain;		/* further KeyInfo certificates (untrusted) */
	const uint8_t *der[MAX_KEYINFO_CERTS + 1];	/* KeyInfo certificates as received, decoded on demand */
	size_t der_len[MAX_KEYINFO_CERTS + 1];
	unsigned n_der;
	bool cached;			/* cert came from the verified-EUM cache */
	uint8_t fp[32];			/* cache key of the KeyInfo certificates */
};

/* Algorithm of a c14n method/transform; no child element (InclusiveNamespaces) is supported */
static int s_c14n_alg(struct s_sig *s, const xmlNode *n, const char *what, int *mode, bool *enveloped)
{
	bool present;
	char *alg = s_attr(s->tmp, n, "Algorithm", &present);

	if (enveloped)
		*enveloped = false;
	if (!alg)
		return present ? -ENOMEM : smsr_errf(s->err, s->err_len, -EBADMSG, "%s without Algorithm", what);
	if (s_first(n))
		return smsr_errf(s->err, s->err_len, -ENOTSUP, "%s parameters (e.g. InclusiveNamespaces) not supported",
				 what);
	if (!strcmp(alg, ALG_EXC_C14N))
		*mode = XML_C14N_EXCLUSIVE_1_0;
	else if (!strcmp(alg, ALG_C14N))
		*mode = XML_C14N_1_0;
	else if (enveloped && !strcmp(alg, ALG_ENVELOPED))
		*enveloped = true;
	else
		return smsr_errf(s->err, s->err_len, -ENOTSUP, "%s %.100s not supported", what, alg);
	return 0;
}

/* URI of the Reference: only forms that designate the EumSignedInfo itself, nothing is dereferenced */
static int s_check_uri(struct s_sig *s, const xmlNode *ref, const xmlNode *si_root)
{
	static const char *const id_attrs[] = { "Id", "ID", "id" };
	bool present;
	char *uri = s_attr(s->tmp, ref, "URI", &present);
	char *id;
	unsigned i;

	if (!present || (uri && !*uri))
		return 0;
	if (!uri)
		return -ENOMEM;
	if (uri[0] != '#' || !uri[1] || !strncmp(uri, "#xpointer(", 10))
		return smsr_errf(s->err, s->err_len, -ENOTSUP,
				 "Reference URI \"%.80s\" refused (only none, \"\" or #id)", uri);
	for (i = 0; i < sizeof(id_attrs) / sizeof(id_attrs[0]); i++) {
		id = s_attr(s->tmp, si_root, id_attrs[i], &present);
		if (id && !strcmp(id, uri + 1))
			return 0;
	}
	return smsr_errf(s->err, s->err_len, -ENOTSUP, "Reference URI \"%.80s\" is not the EumSignedInfo", uri);
}

static int s_parse_reference(struct s_sig *s, const xmlNode *ref, const xmlNode *si_root)
{
	const xmlNode *n = s_first(ref), *t;
	bool present, env, have_c14n = false;
	char *alg, *v;
	int rc, mode;

	rc = s_check_uri(s, ref, si_root);
	if (rc)
		return rc;
	s->ref_mode = XML_C14N_1_0;	/* XML-DSig §4.3.3.2: a node-set without c14n transform -> inclusive c14n */
	if (s_is(n, SMSR_NS_DSIG, "Transforms")) {
		t = s_first(n);
		if (!t)
			return smsr_errf(s->err, s->err_len, -EBADMSG, "empty Transforms");
		for (; t; t = s_next(t)) {
			if (!s_is(t, SMSR_NS_DSIG, "Transform"))
				return smsr_errf(s->err, s->err_len, -EBADMSG, "unexpected element in Transforms");
			rc = s_c14n_alg(s, t, "Transform", &mode, &env);
			if (rc)
				return rc;
			if (env)
				continue;	/* EumSignature is never inside EumSignedInfo */
			if (have_c14n)
				return smsr_errf(s->err, s->err_len, -ENOTSUP, "more than one c14n Transform");
			have_c14n = true;
			s->ref_mode = mode;
		}
		n = s_next(n);
	}
	if (!s_is(n, SMSR_NS_DSIG, "DigestMethod"))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "Reference without DigestMethod");
	alg = s_attr(s->tmp, n, "Algorithm", &present);
	if (!alg || strcmp(alg, ALG_SHA256))
		return smsr_errf(s->err, s->err_len, -ENOTSUP, "DigestMethod %.100s not supported (SHA-256 only)",
				 alg ? alg : "(none)");
	n = s_next(n);
	if (!s_is(n, SMSR_NS_DSIG, "DigestValue") || s_next(n))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "Reference: DigestValue missing or followed by junk");
	v = s_text(s->tmp, n);
	if (!v)
		return -ENOMEM;
	rc = s_b64(s->tmp, v, &s->digest, &s->digest_len);
	if (rc == -ENOMEM)
		return rc;
	if (rc || s->digest_len != 32)
		return smsr_errf(s->err, s->err_len, -EBADMSG, "DigestValue is not base64 of 32 bytes");
	return 0;
}

static int s_parse_signed_info(struct s_sig *s, const xmlNode *si, const xmlNode *si_root)
{
	const xmlNode *n = s_first(si);
	bool present;
	char *alg;
	int rc;

	if (n && s_is(n, SMSR_NS_DSIG, "CanonicalizationMethod")) {
		rc = s_c14n_alg(s, n, "CanonicalizationMethod", &s->si_mode, NULL);
		if (rc)
			return rc;
	} else {
		return smsr_errf(s->err, s->err_len, -EBADMSG, "SignedInfo without CanonicalizationMethod");
	}
	n = s_next(n);
	if (!s_is(n, SMSR_NS_DSIG, "SignatureMethod"))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "SignedInfo without SignatureMethod");
	alg = s_attr(s->tmp, n, "Algorithm", &present);
	if (!alg || strcmp(alg, ALG_ECDSA_SHA256) || s_first(n))
		return smsr_errf(s->err, s->err_len, -ENOTSUP,
				 "SignatureMethod %.100s not supported (ecdsa-sha256 only)", alg ? alg : "(none)");
	n = s_next(n);
	if (!s_is(n, SMSR_NS_DSIG, "Reference"))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "SignedInfo without Reference");
	if (s_next(n))
		return smsr_errf(s->err, s->err_len, -ENOTSUP, "SignedInfo must hold exactly one Reference");
	return s_parse_reference(s, n, si_root);
}

static int s_add_cert(struct s_sig *s, const xmlNode *n)
{
	uint8_t *der;
	size_t len;
	char *v = s_text(s->tmp, n);
	int rc;

	if (!v)
		return -ENOMEM;
	rc = s_b64(s->tmp, v, &der, &len);
	if (rc == -ENOMEM)
		return rc;
	if (rc || len > 65536)
		return smsr_errf(s->err, s->err_len, -EBADMSG, "X509Certificate is not base64 DER");
	if (s->n_der > MAX_KEYINFO_CERTS)
		return smsr_errf(s->err, s->err_len, -EBADMSG, "too many certificates in KeyInfo");
	s->der[s->n_der] = der;
	s->der_len[s->n_der++] = len;
	return 0;
}

/* the KeyInfo certificates: from the cache when this exact set was verified before, else decoded */
static int s_keyinfo_certs(const struct smsr_es1_sig_ctx *c, struct s_sig *s, struct smsr_es1_sig_result *res)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const unsigned char *p;
	unsigned i, fp_len = 0;
	uint8_t l[4];
	X509 *x;
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

	for (i = 0; ok && i < s->n_der; i++) {
		l[0] = (uint8_t)(s->der_len[i] >> 24);
		l[1] = (uint8_t)(s->der_len[i] >> 16);
		l[2] = (uint8_t)(s->der_len[i] >> 8);
		l[3] = (uint8_t)s->der_len[i];
		ok = EVP_DigestUpdate(md, l, 4) == 1 && EVP_DigestUpdate(md, s->der[i], s->der_len[i]) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, s->fp, &fp_len) == 1 && fp_len == sizeof(s->fp);
	EVP_MD_CTX_free(md);
	if (!ok) {
		ERR_clear_error();
		return -EIO;
	}
	s->cert = s_cache_get(c, s->fp, res->eum_subject, sizeof(res->eum_subject));
	if (s->cert) {
		s->cached = true;
		return 0;
	}
	for (i = 0; i < s->n_der; i++) {
		p = s->der[i];
		x = d2i_X509(NULL, &p, (long)s->der_len[i]);
		if (!x || p != s->der[i] + s->der_len[i]) {
			X509_free(x);
			ERR_clear_error();
			return smsr_errf(s->err, s->err_len, -EBADMSG, "X509Certificate is not one DER certificate");
		}
		if (!i) {
			s->cert = x;
		} else if (!sk_X509_push(s->chain, x)) {
			X509_free(x);
			return -ENOMEM;
		}
	}
	return 0;
}

/* KeyInfo: X509Data/X509Certificate elements; KeyName, KeyValue and the rest are ignored (never trusted) */
static int s_parse_keyinfo(struct s_sig *s, const xmlNode *ki)
{
	const xmlNode *d, *n;
	int rc;

	for (d = s_first(ki); d; d = s_next(d)) {
		if (!s_is(d, SMSR_NS_DSIG, "X509Data"))
			continue;
		for (n = s_first(d); n; n = s_next(n)) {
			if (!s_is(n, SMSR_NS_DSIG, "X509Certificate"))
				continue;
			rc = s_add_cert(s, n);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int s_parse_signature(struct s_sig *s, xmlNode *root, const xmlNode *si_root)
{
	const xmlNode *n;
	char *v;
	int rc;

	if (!s_is(root, SMSR_NS_RPS, "EumSignature") && !s_is(root, SMSR_NS_DSIG, "Signature"))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "not an EumSignature / ds:Signature");
	n = s_first(root);
	if (!s_is(n, SMSR_NS_DSIG, "SignedInfo"))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "Signature without SignedInfo");
	s->signed_info = (xmlNode *)n;
	rc = s_parse_signed_info(s, n, si_root);
	if (rc)
		return rc;
	n = s_next(n);
	if (!s_is(n, SMSR_NS_DSIG, "SignatureValue"))
		return smsr_errf(s->err, s->err_len, -EBADMSG, "Signature without SignatureValue");
	v = s_text(s->tmp, n);
	if (!v)
		return -ENOMEM;
	rc = s_b64(s->tmp, v, &s->sigval, &s->sigval_len);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return smsr_errf(s->err, s->err_len, -EBADMSG, "SignatureValue is not base64");
	n = s_next(n);
	if (s_is(n, SMSR_NS_DSIG, "KeyInfo")) {
		rc = s_parse_keyinfo(s, n);
		if (rc)
			return rc;
		n = s_next(n);
	}
	for (; n; n = s_next(n))
		if (!s_is(n, SMSR_NS_DSIG, "Object"))
			return smsr_errf(s->err, s->err_len, -EBADMSG, "unexpected element in Signature");
	return 0;
}

/*
 * Crypto (OpenSSL errors are mapped here)
 */

/* raw r||s over data with SHA-256: 0, -EKEYREJECTED (no match / unusable key), -EBADMSG (length), -ENOMEM */
static int s_ecdsa_verify_rs(struct s_sig *s, EVP_PKEY *pk, const uint8_t *data, size_t len, const uint8_t *rs,
			     size_t rs_len, const char *what)
{
	unsigned char *der = NULL;
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *ss = NULL;
	size_t half;
	int der_len, rc = -ENOMEM, ok;

	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
		return smsr_errf(s->err, s->err_len, -EKEYREJECTED, "EUM certificate key is not an EC key");
	half = ((size_t)EVP_PKEY_get_bits(pk) + 7) / 8;
	if (!half || rs_len != 2 * half)
		return smsr_errf(s->err, s->err_len, -EBADMSG, "%s is %zu bytes, want %zu (raw r||s)", what, rs_len,
				 2 * half);
	r = BN_bin2bn(rs, (int)half, NULL);
	ss = BN_bin2bn(rs + half, (int)half, NULL);
	sig = ECDSA_SIG_new();
	if (!r || !ss || !sig)
		goto out;
	if (!ECDSA_SIG_set0(sig, r, ss))
		goto out;
	r = ss = NULL;
	der_len = i2d_ECDSA_SIG(sig, &der);
	md = EVP_MD_CTX_new();
	if (der_len <= 0 || !md)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) != 1) {
		rc = smsr_errf(s->err, s->err_len, -EKEYREJECTED, "EUM key unusable for ECDSA");
		goto out;
	}
	ok = EVP_DigestVerify(md, der, (size_t)der_len, data, len);
	rc = ok == 1 ? 0 : smsr_errf(s->err, s->err_len, -EKEYREJECTED, "%s does not verify", what);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	BN_free(r);
	BN_free(ss);
	return rc;
}

/* the EUM certificate chains to the CI and is usable for signatures */
static int s_check_cert(const struct smsr_es1_sig_ctx *c, struct s_sig *s, X509 *cert, STACK_OF(X509) *chain)
{
	X509_STORE_CTX *xc;
	int ok, e, rc = 0;

	if (!X509_cmp(cert, c->ci))
		return smsr_errf(s->err, s->err_len, -ENOKEY, "signed with the CI certificate, not an EUM certificate");
	xc = X509_STORE_CTX_new();
	if (!xc)
		return -ENOMEM;
	if (!X509_STORE_CTX_init(xc, c->store, cert, chain)) {
		X509_STORE_CTX_free(xc);
		ERR_clear_error();
		return -ENOMEM;
	}
	if (c->at)
		X509_STORE_CTX_set_time(xc, 0, c->at);
	ok = X509_verify_cert(xc);
	if (ok != 1) {
		e = X509_STORE_CTX_get_error(xc);
		switch (e) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
		case X509_V_ERR_CERT_NOT_YET_VALID:
		case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
		case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
			rc = -EKEYEXPIRED;
			break;
		case X509_V_ERR_OUT_OF_MEM:
			rc = -ENOMEM;
			break;
		default:
			rc = -ENOKEY;
			break;
		}
		rc = smsr_errf(s->err, s->err_len, rc, "EUM certificate not accepted: %s (depth %d)",
			       X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(xc));
	} else if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) &&
		   !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE)) {
		rc = smsr_errf(s->err, s->err_len, -ENOKEY, "EUM certificate keyUsage lacks digitalSignature");
	}
	X509_STORE_CTX_free(xc);
	ERR_clear_error();
	return rc;
}

/* Eum-id against SAN registeredID: 0 (bound or not determinable), -EKEYREJECTED on a mismatch */
static int s_check_eum_id(struct s_sig *s, X509 *cert, const char *eum_id, bool *bound)
{
	GENERAL_NAMES *gns = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	bool any = false;
	char oid[128];
	int i;

	*bound = false;
	for (i = 0; gns && i < sk_GENERAL_NAME_num(gns); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);

		if (gn->type != GEN_RID)
			continue;
		any = true;
		if (OBJ_obj2txt(oid, sizeof(oid), gn->d.registeredID, 1) > 0 && eum_id && !strcmp(oid, eum_id))
			*bound = true;
	}
	GENERAL_NAMES_free(gns);
	ERR_clear_error();
	if (any && !*bound)
		return smsr_errf(s->err, s->err_len, -EKEYREJECTED, "Eum-id %.64s is not named by the EUM certificate",
				 eum_id ? eum_id : "(none)");
	return 0;
}

/* today (UTC, or the configured check time) as YYYYMMDD */
static uint32_t s_today(const struct smsr_es1_sig_ctx *c)
{
	time_t t = c->at ? c->at : time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 0;
	return (uint32_t)(tm.tm_year + 1900) * 10000u + (uint32_t)(tm.tm_mon + 1) * 100u + (uint32_t)tm.tm_mday;
}

/* One CERT.ECASD.ECKA (crypto.md §A.5): GP '7F21', key agreement, a supported curve and a valid point, within its
 * dates, signed by the EUM key that signed the EIS. */
static int s_check_ecasd_cert(const struct smsr_es1_sig_ctx *c, struct s_sig *s, EVP_PKEY *eum,
			      const struct smsr_certificate *ce, unsigned no, uint8_t *curve)
{
	struct proto_gp_cert gc;
	uint32_t today = s_today(c);
	unsigned usage;
	int rc;

	rc = proto_gp_cert_decode(&gc, ce->value, ce->len);
	if (rc < 0)
		return smsr_errf(s->err, s->err_len, -EBADMSG,
				 "ECASD certificate %u is not a GP '7F21' certificate (%s)", no, proto_strerror(rc));
	usage = gc.key_usage.len == 2 ? (unsigned)gc.key_usage.p[0] << 8 | gc.key_usage.p[1] : 0;
	if (!(usage & SMSR_ECASD_KEY_USAGE_KEY_AGREEMENT))
		return smsr_errf(s->err, s->err_len, -EKEYREJECTED,
				 "ECASD certificate %u: key usage is not key agreement ('0080')", no);
	*curve = gc.has_curve_ref ? gc.curve_ref : PROTO_EC_REF_P256;
	if (!proto_ec_ref_supported(*curve))
		rc = -PROTO_E_UNSUPPORTED;
	else
		rc = proto_ec_point_on_curve(*curve, gc.pk.p, gc.pk.len) ? 0 : -PROTO_E_MALFORMED;
	if (rc == -PROTO_E_UNSUPPORTED)
		return smsr_errf(s->err, s->err_len, -ENOTSUP, "ECASD certificate %u: curve %02X not supported", no,
				 *curve);
	if (rc < 0)
		return smsr_errf(s->err, s->err_len, -EBADMSG, "ECASD certificate %u: public key is not a point of %s",
				 no, proto_ec_ref_name(*curve));
	if (gc.effective_date && today < gc.effective_date)
		return smsr_errf(s->err, s->err_len, -EKEYEXPIRED, "ECASD certificate %u not valid before %u", no,
				 gc.effective_date);
	if (today > gc.expiry_date)
		return smsr_errf(s->err, s->err_len, -EKEYEXPIRED, "ECASD certificate %u expired on %u", no,
				 gc.expiry_date);
	return s_ecdsa_verify_rs(s, eum, gc.signed_data.p, gc.signed_data.len, gc.signature.p, gc.signature.len,
				 "ECASD certificate signature");
}

/* Every certificate of the ECASD keysets; at least one is required */
static int s_check_ecasd(const struct smsr_es1_sig_ctx *c, struct s_sig *s, const struct smsr_eis *e, X509 *eum,
			 struct smsr_es1_sig_result *res)
{
	unsigned i, j, n = 0;
	int rc;

	for (i = 0; i < e->ecasd.n_keysets; i++) {
		const struct smsr_keyset *ks = &e->ecasd.keysets[i];

		for (j = 0; j < ks->n_certs; j++) {
			rc = s_check_ecasd_cert(c, s, X509_get0_pubkey(eum), &ks->certs[j], ++n, &res->ecasd_curve);
			if (rc)
				return rc;
		}
	}
	if (!n)
		return smsr_errf(s->err, s->err_len, -ENOKEY, "the ECASD carries no CERT.ECASD.ECKA");
	res->n_ecasd_certs = n;
	return 0;
}

static void s_subject(X509 *cert, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, out, (int)cap - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
	ERR_clear_error();
}

/* chain + signature + Eum-id with one candidate certificate */
static int s_try_cert(const struct smsr_es1_sig_ctx *c, struct s_sig *s, const struct smsr_eis *e, X509 *cert,
		      STACK_OF(X509) *chain, const uint8_t *si, size_t si_len, struct smsr_es1_sig_result *res)
{
	int rc = s->cached && cert == s->cert ? 0 : s_check_cert(c, s, cert, chain);

	if (!rc)
		rc = s_ecdsa_verify_rs(s, X509_get0_pubkey(cert), si, si_len, s->sigval, s->sigval_len,
				       "SignatureValue");
	if (!rc)
		rc = s_check_eum_id(s, cert, e->eum_id, &res->eum_id_bound);
	if (!rc) {
		rc = s_check_ecasd(c, s, e, cert, res);
		res->ecasd_failed = rc != 0;
	}
	if (!rc && !(s->cached && cert == s->cert))
		s_subject(cert, res->eum_subject, sizeof(res->eum_subject));
	if (!rc && cert == s->cert && !s->cached)
		s_cache_put(c, s->fp, cert, chain, res->eum_subject);
	return rc;
}

static int s_sig_free(struct s_sig *s)
{
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	return 0;
}

int smsr_es1_sig_verify(const struct smsr_es1_sig_ctx *c, const struct smsr_eis *e, struct smsr_es1_sig_result *res,
			char *err, size_t err_len)
{
	struct smsr_es1_sig_result dummy;
	struct smsr_soap_error perr;
	char *si_c14n = NULL, *ref_c14n = NULL;
	uint8_t md[32];
	size_t si_len, ref_len;
	xmlDoc *sig_doc, *si_doc;
	void *h_sig, *h_si;
	xmlNode *si_root;
	struct s_sig *s;
	unsigned int md_len = 0;
	int rc, i;

	if (!res)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	if (err && err_len)
		err[0] = '\0';
	if (!c || !e)
		return smsr_errf(err, err_len, -EINVAL, "no trust context or EIS");
	if (!e->signed_info_xml || !e->signature_xml)
		return smsr_errf(err, err_len, -EINVAL, "EIS has no EumSignedInfo/EumSignature text");
	s = talloc_zero(NULL, struct s_sig);
	if (!s)
		return -ENOMEM;
	talloc_set_destructor(s, s_sig_free);
	s->tmp = s;
	s->err = err;
	s->err_len = err_len;
	s->chain = sk_X509_new_null();
	if (!s->chain) {
		rc = -ENOMEM;
		goto out;
	}

	rc = smsr_soap_parse_fragment(s, e->signed_info_xml, strlen(e->signed_info_xml), NULL, &h_si, &si_doc, &perr);
	if (rc) {
		rc = rc == -ENOMEM ? rc : smsr_errf(err, err_len, -EBADMSG, "EumSignedInfo: %s", perr.text);
		goto out;
	}
	si_root = xmlDocGetRootElement(si_doc);
	if (!s_is(si_root, SMSR_NS_RPS, "EumSignedInfo")) {
		rc = smsr_errf(err, err_len, -EBADMSG, "stored EumSignedInfo is not rps:EumSignedInfo");
		goto out;
	}
	rc = smsr_soap_parse_fragment(s, e->signature_xml, strlen(e->signature_xml), NULL, &h_sig, &sig_doc, &perr);
	if (rc) {
		rc = rc == -ENOMEM ? rc : smsr_errf(err, err_len, -EBADMSG, "EumSignature: %s", perr.text);
		goto out;
	}
	rc = s_parse_signature(s, xmlDocGetRootElement(sig_doc), si_root);
	if (rc)
		goto out;

	/* Reference: digest of the canonical EumSignedInfo */
	rc = smsr_soap_c14n(s, si_root, s->ref_mode, &ref_c14n, &ref_len);
	if (rc) {
		rc = rc == -ENOMEM ? rc : smsr_errf(err, err_len, rc, "EumSignedInfo cannot be canonicalised");
		goto out;
	}
	if (!EVP_Digest(ref_c14n, ref_len, md, &md_len, EVP_sha256(), NULL) || md_len != sizeof(md)) {
		ERR_clear_error();
		rc = -EIO;
		goto out;
	}
	if (CRYPTO_memcmp(md, s->digest, sizeof(md))) {
		rc = smsr_errf(err, err_len, -EKEYREJECTED, "DigestValue does not match EumSignedInfo");
		goto out;
	}

	/* SignatureValue over the canonical SignedInfo */
	rc = smsr_soap_c14n(s, s->signed_info, s->si_mode, &si_c14n, &si_len);
	if (rc) {
		rc = rc == -ENOMEM ? rc : smsr_errf(err, err_len, rc, "SignedInfo cannot be canonicalised");
		goto out;
	}
	if (s->n_der) {
		rc = s_keyinfo_certs(c, s, res);
		if (rc)
			goto out;
	}
	if (s->cert) {
		res->from_keyinfo = true;
		rc = s_try_cert(c, s, e, s->cert, s->chain, (const uint8_t *)si_c14n, si_len, res);
		goto out;
	}
	if (!sk_X509_num(c->eums)) {
		rc = smsr_errf(err, err_len, -ENOKEY, "no EUM certificate in KeyInfo and none configured");
		goto out;
	}
	for (i = 0; i < sk_X509_num(c->eums); i++) {
		rc = s_try_cert(c, s, e, sk_X509_value(c->eums, i), NULL, (const uint8_t *)si_c14n, si_len, res);
		if (rc != -EKEYREJECTED && rc != -ENOKEY && rc != -EKEYEXPIRED)
			goto out;	/* success, malformed value, or internal error */
	}
	/* keep the reason of the last candidate in err, the code says why the set failed */
out:
	talloc_free(s);
	return rc;
}
