/* EumSignature verification (smsr/es1_sig.h): a fresh test PKI (scripts/gen-test-pki), the fixture signed with
 * eis-sign, decoded by the production path (smsr_es_receive), then every way it must fail.
 * Environment: TOP_SRCDIR (source tree), EIS_SIGN (the eis-sign tool, default ./smsr/eis-sign). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "tests/testlib.h"
#include "smsr/es1_sig.h"
#include "smsr/es_msg.h"

static char s_tmp[1024], s_top[1024], s_sign[PATH_MAX], s_fixture[PATH_MAX];

static int s_import(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *v, size_t len, void *wctx,
		    uint8_t **w, size_t *wl)
{
	*w = talloc_memdup(wctx, v, len ? len : 1);
	*wl = len;
	return *w ? 0 : -ENOMEM;
}

static const struct smsr_es_decode_opts s_opts = { .eis_in = { .key_import = s_import } };

static char *s_read(void *ctx, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = talloc_array(ctx, char, (size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n)
		b = NULL;
	fclose(f);
	if (b)
		b[n] = '\0';
	*len = b ? (size_t)n : 0;
	return b;
}

static int s_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int s_run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* sign the fixture: eis-sign OPTS PKI/KEY.key PKI/CERT.crt fixture > OUT; returns the path of OUT */
static const char *s_signed(void *ctx, const char *name, const char *opts, const char *pki, const char *key,
			    const char *cert)
{
	const char *out = talloc_asprintf(ctx, "%s/%s.xml", s_tmp, name);
	int rc = s_run("'%s' %s '%s/%s.key' '%s' '%s' > '%s'", s_sign, opts, pki, key, cert, s_fixture, out);

	CHECK(rc == 0, "eis-sign %s failed (%d)", name, rc);
	return out;
}

/* decode a request text as production does; NULL when decoding fails */
static struct smsr_eis *s_decode(void *ctx, const char *buf, size_t len)
{
	struct smsr_soap_msg *msg;
	struct smsr_es_req *req;
	struct smsr_es_error err;
	int rc = smsr_es_receive(ctx, buf, len, NULL, &s_opts, &msg, &req, &err);

	CHECK(rc == 0, "smsr_es_receive: %d %s", rc, err.soap.text);
	return rc ? NULL : req->eis;
}

static int s_verify_text(const struct smsr_es1_sig_ctx *c, const char *buf, size_t len, char *why, size_t cap)
{
	void *t = talloc_new(NULL);
	struct smsr_eis *e = s_decode(t, buf, len);
	int rc = e ? smsr_es1_sig_verify(c, e, NULL, why, cap) : -EINVAL;

	talloc_free(t);
	return rc;
}

static int s_verify_file(const struct smsr_es1_sig_ctx *c, const char *path)
{
	void *t = talloc_new(NULL);
	char why[256];
	size_t len;
	char *buf = s_read(t, path, &len);
	int rc = buf ? s_verify_text(c, buf, len, why, sizeof(why)) : -ENOENT;

	if (rc)
		printf("  %s: %d (%s)\n", strrchr(path, '/') + 1, rc, why);
	talloc_free(t);
	return rc;
}

static int s_verify_res(const struct smsr_es1_sig_ctx *c, const char *path, struct smsr_es1_sig_result *res)
{
	void *t = talloc_new(NULL);
	char why[256];
	size_t len;
	char *buf = s_read(t, path, &len);
	struct smsr_eis *e = buf ? s_decode(t, buf, len) : NULL;
	int rc = e ? smsr_es1_sig_verify(c, e, res, why, sizeof(why)) : -EINVAL;

	printf("  %s: %d (%s)\n", strrchr(path, '/') + 1, rc, rc ? why : "valid");
	talloc_free(t);
	return rc;
}

/* replace the first `from` after `after` by `to` (same length) in a copy of the file; returns the text */
static char *s_patch(void *ctx, const char *path, const char *after, const char *from, const char *to, size_t *len)
{
	char *buf = s_read(ctx, path, len), *p;

	if (!buf || !(p = strstr(buf, after)) || !(p = strstr(p, from)) || strlen(from) != strlen(to))
		return NULL;
	memcpy(p, to, strlen(to));
	return buf;
}

/* an EUM certificate (same key as PKI/eum.key) signed by the CI that expired yesterday */
static int s_make_expired(const char *pki, const char *out)
{
	char path[PATH_MAX];
	EVP_PKEY *eum = NULL, *ci_key = NULL;
	X509 *ci = NULL, *x = X509_new();
	FILE *f;
	int ok = 0;

	snprintf(path, sizeof(path), "%s/eum.key", pki);
	if ((f = fopen(path, "r"))) {
		eum = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/ci.key", pki);
	if ((f = fopen(path, "r"))) {
		ci_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/ci.crt", pki);
	if ((f = fopen(path, "r"))) {
		ci = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (x && eum && ci_key && ci && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 4242) &&
	    X509_set_issuer_name(x, X509_get_subject_name(ci)) &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				       (const unsigned char *)"Expired EUM", -1, -1, 0) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -30L * 86400) && X509_gmtime_adj(X509_getm_notAfter(x), -86400) &&
	    X509_set_pubkey(x, eum) && X509_sign(x, ci_key, EVP_sha256()) && (f = fopen(out, "w"))) {
		ok = PEM_write_X509(f, x);
		fclose(f);
	}
	X509_free(x);
	X509_free(ci);
	EVP_PKEY_free(eum);
	EVP_PKEY_free(ci_key);
	return ok ? 0 : -EIO;
}

/* every single-byte change of the stored texts must fail, without crashing */
static void s_mutate(const struct smsr_es1_sig_ctx *c, struct smsr_eis *e, char **field, const char *what)
{
	char *orig = *field, *m = talloc_strdup(e, orig);
	size_t i, n = strlen(orig);
	unsigned accepted = 0;
	int rc;

	for (i = 0; m && i < n; i++) {
		m[i] ^= 0x01;
		*field = m;
		rc = smsr_es1_sig_verify(c, e, NULL, NULL, 0);
		if (rc == 0)
			accepted++;
		CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP || rc == -EKEYREJECTED || rc == -ENOKEY ||
		      rc == -EINVAL, "%s byte %zu: unexpected %d", what, i, rc);
		m[i] ^= 0x01;
	}
	*field = orig;
	CHECK(accepted == 0, "%s: %u single-byte changes accepted", what, accepted);
	talloc_free(m);
}

static void s_garbage(const struct smsr_es1_sig_ctx *c, struct smsr_eis *e)
{
	static const char *const bad[] = {
		"", "<", "garbage", "<a/>",
		"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
		"<rps:EumSignature xmlns:rps=\"http://namespaces.gsma.org/esim-messaging/3\"/>",
		"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo/></ds:Signature>",
		"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
		"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
		"<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>"
		"<ds:Reference><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
		"<ds:DigestValue>====</ds:DigestValue></ds:Reference></ds:SignedInfo>"
		"<ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>",
		"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
		"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>"
		"</ds:SignedInfo></ds:Signature>",
	};
	char *orig = e->signature_xml, why[256];
	unsigned i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e->signature_xml = (char *)bad[i];
		rc = smsr_es1_sig_verify(c, e, NULL, why, sizeof(why));
		CHECK(rc == -EBADMSG || rc == -ENOTSUP, "garbage %u: %d (%s)", i, rc, why);
	}
	e->signature_xml = NULL;
	CHECK_RC(smsr_es1_sig_verify(c, e, NULL, NULL, 0), -EINVAL);
	e->signature_xml = orig;
	CHECK_RC(smsr_es1_sig_verify(NULL, e, NULL, NULL, 0), -EINVAL);
}

int main(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_es1_sig_ctx *c, *c_dir, *c_bad;
	struct smsr_es1_sig_result res;
	const char *p, *pki, *pki2, *eum_crt;
	char path[PATH_MAX], why[256];
	struct smsr_eis *e;
	size_t len;
	char *buf;

	snprintf(s_top, sizeof(s_top), "%s", getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : "../..");
	snprintf(s_sign, sizeof(s_sign), "%s", getenv("EIS_SIGN") ? getenv("EIS_SIGN") : "./smsr/eis-sign");
	snprintf(s_fixture, sizeof(s_fixture), "%s/tests/smsr/data/es1_register_eis.xml", s_top);
	snprintf(s_tmp, sizeof(s_tmp), "%s/es1_sig_test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(s_tmp)) {
		perror("mkdtemp");
		return 1;
	}
	pki = talloc_asprintf(ctx, "%s/pki", s_tmp);
	pki2 = talloc_asprintf(ctx, "%s/pki2", s_tmp);
	CHECK(s_run("'%s/scripts/gen-test-pki' '%s' && '%s/scripts/gen-test-pki' '%s'", s_top, pki, s_top, pki2) == 0,
	      "gen-test-pki");
	eum_crt = talloc_asprintf(ctx, "%s/eum.crt", pki);

	/* trust context */
	snprintf(path, sizeof(path), "%s/ci.crt", pki);
	CHECK_RC(smsr_es1_sig_ctx_new(ctx, path, NULL, &c, why, sizeof(why)), 0);
	if (!c)
		TEST_DONE();
	CHECK_RC(smsr_es1_sig_ctx_new(ctx, "/nonexistent/ci.crt", NULL, &c_bad, why, sizeof(why)), -ENOENT);
	snprintf(path, sizeof(path), "%s/smsr-master.key", pki);
	CHECK_RC(smsr_es1_sig_ctx_new(ctx, path, NULL, &c_bad, why, sizeof(why)), -EBADMSG);
	snprintf(path, sizeof(path), "%s/smsr-tls.crt", pki);
	CHECK_RC(smsr_es1_sig_ctx_new(ctx, path, NULL, &c_bad, why, sizeof(why)), -EINVAL);
	snprintf(path, sizeof(path), "%s/eumdir", s_tmp);
	CHECK(s_run("mkdir '%s' && cp '%s' '%s/'", path, eum_crt, path) == 0, "eum dir");
	CHECK_RC(smsr_es1_sig_ctx_new(ctx, talloc_asprintf(ctx, "%s/ci.crt", pki), path, &c_dir, why, sizeof(why)), 0);
	CHECK(c_dir && smsr_es1_sig_ctx_eum_count(c_dir) == 1, "one EUM certificate loaded");

	/* a good signature, decoded as production does */
	p = s_signed(ctx, "signed", "", pki, "eum", eum_crt);
	CHECK_RC(s_verify_file(c, p), 0);
	buf = s_read(ctx, p, &len);
	e = buf ? s_decode(ctx, buf, len) : NULL;
	CHECK(e != NULL, "signed fixture decodes");
	if (!e)
		TEST_DONE();
	CHECK_RC(smsr_es1_sig_verify(c, e, &res, why, sizeof(why)), 0);
	CHECK(res.from_keyinfo && strstr(res.eum_subject, "CN=Test EUM") && !res.eum_id_bound, "result: %s",
	      res.eum_subject);
	CHECK(!strstr(e->signature_xml, "URI="), "default Reference has no URI");
	{
		unsigned long h0, m0, h1, m1;

		smsr_es1_sig_ctx_cache_stats(c, &h0, &m0);
		CHECK_RC(smsr_es1_sig_verify(c, e, &res, why, sizeof(why)), 0);
		smsr_es1_sig_ctx_cache_stats(c, &h1, &m1);
		CHECK(h1 == h0 + 1 && m1 == m0 && strstr(res.eum_subject, "CN=Test EUM"),
		      "second verification takes the EUM certificate from the cache (%lu/%lu hits)", h1, m1);
	}

	/* URI="" is accepted as "the EumSignedInfo"; external and XPointer URIs are refused, nothing is fetched */
	CHECK_RC(s_verify_file(c, s_signed(ctx, "uri_empty", "-u ''", pki, "eum", eum_crt)), 0);
	p = s_signed(ctx, "uri_http", "-u http://127.0.0.1:9/eis.xml", pki, "eum", eum_crt);
	CHECK_RC(s_verify_file(c, p), -ENOTSUP);
	CHECK_RC(s_verify_file(c, s_signed(ctx, "uri_file", "-u file:///etc/passwd", pki, "eum", eum_crt)), -ENOTSUP);
	CHECK_RC(s_verify_file(c, s_signed(ctx, "uri_xptr", "-u '#xpointer(/)'", pki, "eum", eum_crt)), -ENOTSUP);
	CHECK_RC(s_verify_file(c, s_signed(ctx, "uri_id", "-u '#si-1'", pki, "eum", eum_crt)), -ENOTSUP);

	/* no KeyInfo: only a configured EUM certificate can verify */
	p = s_signed(ctx, "nokeyinfo", "-n", pki, "eum", eum_crt);
	CHECK_RC(s_verify_file(c, p), -ENOKEY);
	CHECK_RC(s_verify_file(c_dir, p), 0);

	/* inclusive c14n inside the SOAP envelope: the envelope namespaces were signed, the stored text lacks them */
	CHECK_RC(s_verify_file(c, s_signed(ctx, "inclusive", "-c inc", pki, "eum", eum_crt)), -EKEYREJECTED);

	/* EumSignedInfo changed after signing */
	p = talloc_asprintf(ctx, "%s/signed.xml", s_tmp);
	buf = s_patch(ctx, p, "<rps:EumSignedInfo", "<rps:PlatformVersion>4.2.0", "<rps:PlatformVersion>4.2.1", &len);
	CHECK(buf && s_verify_text(c, buf, len, why, sizeof(why)) == -EKEYREJECTED, "PlatformVersion changed");
	buf = s_patch(ctx, p, "<rps:EumSignedInfo", "99920</rps:Eum-id>", "99921</rps:Eum-id>", &len);
	CHECK(buf && s_verify_text(c, buf, len, why, sizeof(why)) == -EKEYREJECTED, "Eum-id changed");
	s_mutate(c, e, &e->signed_info_xml, "EumSignedInfo");

	/* an EumSignedInfo that c14n refuses (relative namespace URI): a field fault at decode, nothing stored */
	buf = s_read(ctx, p, &len);
	{
		char *at = buf ? strstr(buf, "<rps:EumSignedInfo") : NULL;
		struct smsr_soap_msg *msg;
		struct smsr_es_req *req;
		struct smsr_es_error err;
		char *bad;
		int rc;

		CHECK(at != NULL, "EumSignedInfo in signed.xml");
		if (at) {
			at += strlen("<rps:EumSignedInfo");
			bad = talloc_asprintf(ctx, "%.*s xmlns:z=\"rel\" z:a=\"1\"%s", (int)(at - buf), buf, at);
			rc = smsr_es_receive(ctx, bad, strlen(bad), NULL, &s_opts, &msg, &req, &err);
			CHECK(rc < 0 && strstr(err.soap.text, "EumSignedInfo cannot be canonicalised"),
			      "relative namespace URI: %d %s", rc, err.soap.text);
		}
	}

	/* SignatureValue altered (same length, then wrong length) */
	buf = s_read(ctx, p, &len);
	{
		char *v = buf ? strstr(buf, "<ds:SignatureValue>") : NULL;

		if (v) {
			v += strlen("<ds:SignatureValue>");
			v[5] = v[5] == 'A' ? 'B' : 'A';
		}
		CHECK(v && s_verify_text(c, buf, len, why, sizeof(why)) == -EKEYREJECTED, "SignatureValue altered");
	}
	s_mutate(c, e, &e->signature_xml, "EumSignature");

	/* EUM certificate from another CI; then another CI's EUM certificate carried for our EUM key */
	p = s_signed(ctx, "other_ca", "", pki2, "eum", talloc_asprintf(ctx, "%s/eum.crt", pki2));
	CHECK_RC(s_verify_file(c, p), -ENOKEY);
	/* the other CI's EUM certificate carried with its own CI as "intermediate": still not our CI */
	p = s_signed(ctx, "other_chain", talloc_asprintf(ctx, "-C '%s/ci.crt'", pki2), pki2, "eum",
		     talloc_asprintf(ctx, "%s/eum.crt", pki2));
	CHECK_RC(s_verify_file(c, p), -ENOKEY);
	/* the CI itself as signer */
	CHECK_RC(s_verify_file(c, s_signed(ctx, "ci_signs", "", pki, "ci", talloc_asprintf(ctx, "%s/ci.crt", pki))),
		 -ENOKEY);

	/* expired EUM certificate; and a valid one checked at a time after its end */
	snprintf(path, sizeof(path), "%s/eum-expired.crt", s_tmp);
	CHECK_RC(s_make_expired(pki, path), 0);
	CHECK_RC(s_verify_file(c, s_signed(ctx, "expired", "", pki, "eum", path)), -EKEYEXPIRED);
	smsr_es1_sig_ctx_set_time(c, time(NULL) + 20L * 366 * 86400);
	CHECK_RC(smsr_es1_sig_verify(c, e, NULL, why, sizeof(why)), -EKEYEXPIRED);
	smsr_es1_sig_ctx_set_time(c, 0);
	CHECK_RC(smsr_es1_sig_verify(c, e, NULL, why, sizeof(why)), 0);

	/* CERT.ECASD.ECKA: checked after the EumSignature, with the same EUM key */
	CHECK(res.n_ecasd_certs == 1 && res.ecasd_curve == 0x00 && !res.ecasd_failed, "one P-256 ECASD certificate");
	CHECK_RC(s_verify_res(c, s_signed(ctx, "ecasd_kept", "-k", pki, "eum", eum_crt), &res), -EBADMSG);
	CHECK(res.ecasd_failed, "the fixture's truncated ECASD certificate is refused as such");
	CHECK_RC(s_verify_res(c, s_signed(ctx, "ecasd_badsig", "-B", pki, "eum", eum_crt), &res), -EKEYREJECTED);
	CHECK(res.ecasd_failed, "an ECASD certificate not signed by the EUM key is refused");
	CHECK_RC(s_verify_res(c, s_signed(ctx, "ecasd_usage", "-U 0002", pki, "eum", eum_crt), &res), -EKEYREJECTED);
	CHECK(res.ecasd_failed, "an ECASD certificate without key agreement usage is refused");
	CHECK_RC(s_verify_res(c, s_signed(ctx, "ecasd_expired", "-x 20250101", pki, "eum", eum_crt), &res),
		 -EKEYEXPIRED);
	CHECK(res.ecasd_failed, "an expired ECASD certificate is refused");
	snprintf(path, sizeof(path), "%s/no_ecasd_cert.xml", s_tmp);
	CHECK(s_run("sed '/<rps:Ecasd>/,/<\\/rps:Ecasd>/{/<rps:Certificate>/,/<\\/rps:Certificate>/d}' '%s' > '%s' && "
		    "'%s' -i -k '%s/eum.key' '%s' '%s'", s_fixture, path, s_sign, pki, eum_crt, path) == 0,
	      "EIS without ECASD certificate signed");
	CHECK_RC(s_verify_res(c, path, &res), -ENOKEY);
	CHECK(res.ecasd_failed, "an Ecasd without CERT.ECASD.ECKA is refused");
	snprintf(path, sizeof(path), "%s/ecasd_added.xml", s_tmp);
	CHECK(s_run("sed '/<rps:Ecasd>/,/<\\/rps:Ecasd>/{/<rps:Certificate>/,/<\\/rps:Certificate>/d}' '%s' > '%s' && "
		    "'%s' -i '%s/eum.key' '%s' '%s'", s_fixture, path, s_sign, pki, eum_crt, path) == 0,
	      "EIS with an added ECASD certificate signed");
	CHECK_RC(s_verify_res(c, path, &res), 0);
	CHECK(res.n_ecasd_certs == 1, "the added certificate is checked");

	/* the fixture as committed: dummy signature */
	CHECK_RC(s_verify_file(c, s_fixture), -EKEYREJECTED);

	/* garbage instead of a Signature */
	s_garbage(c, e);

	talloc_free(ctx);
	s_run("rm -rf '%s'", s_tmp);
	TEST_DONE();
}
