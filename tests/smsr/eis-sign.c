/* eis-sign: put an EUM XML-DSig EumSignature (ECDSA-SHA256, raw r||s) on the EumSignedInfo of an EIS, in the form
 * smsr/es1_sig.h verifies. Test and operations tool; never for production keys on a shared host.
 *
 *   eis-sign [-i | -o OUT] [-u URI] [-n] [-c exc|inc] [-C CHAIN.crt] EUM.key EUM.crt FILE
 *
 * FILE is any XML holding rps:EumSignedInfo followed by rps:EumSignature (an ES1-RegisterEISRequest envelope, an
 * Eis element, ...). The content of the first EumSignature is replaced by ds:SignedInfo, ds:SignatureValue and
 * ds:KeyInfo/ds:X509Data/ds:X509Certificate (EUM.crt, then CHAIN.crt if given). Output to stdout, to OUT (-o) or
 * FILE itself (-i).
 *   -u URI   put URI="URI" on the Reference (default: no URI attribute, as SGP.02/njiwa); for tests of refusal
 *   -n       no KeyInfo (the verifier then uses its configured EUM certificates)
 *   -c inc   inclusive c14n (CanonicalizationMethod and Transform) instead of exclusive c14n
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define NS_RPS "http://namespaces.gsma.org/esim-messaging/3"
#define NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

static void usage(void)
{
	fprintf(stderr, "usage: eis-sign [-i | -o OUT] [-u URI] [-n] [-c exc|inc] [-C CHAIN.crt] "
		"EUM.key EUM.crt FILE\n");
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "eis-sign: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static bool is(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && !strcmp((const char *)n->ns->href, ns) &&
	       !strcmp((const char *)n->name, name);
}

static xmlNode *find(xmlNode *n, const char *ns, const char *name)
{
	xmlNode *r;

	for (; n; n = n->next) {
		if (is(n, ns, name))
			return n;
		if (n->type == XML_ELEMENT_NODE && (r = find(n->children, ns, name)))
			return r;
	}
	return NULL;
}

static int visible(void *root, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = (node && node->type != XML_NAMESPACE_DECL) ? node : parent;

	for (; n; n = n->parent)
		if (n == root)
			return 1;
	return 0;
}

/* canonical bytes of the subtree at n; malloc'd */
static unsigned char *c14n(xmlNode *n, int mode, size_t *len)
{
	xmlOutputBufferPtr ob = xmlAllocOutputBuffer(NULL);
	unsigned char *out;

	if (!ob || xmlC14NExecute(n->doc, visible, n, mode, NULL, 0, ob) < 0)
		die("c14n failed");
	*len = xmlOutputBufferGetSize(ob);
	out = malloc(*len + 1);
	if (!out)
		die("out of memory");
	memcpy(out, xmlOutputBufferGetContent(ob), *len);
	xmlOutputBufferClose(ob);
	return out;
}

static char *b64(const unsigned char *v, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (!s)
		die("out of memory");
	EVP_EncodeBlock((unsigned char *)s, v, (int)len);
	return s;
}

static xmlNode *add(xmlNode *parent, xmlNs *ns, const char *name, const char *alg, const char *text)
{
	xmlNode *n = xmlNewChild(parent, ns, BAD_CAST name, NULL);

	if (!n)
		die("out of memory");
	if (alg)
		xmlSetProp(n, BAD_CAST "Algorithm", BAD_CAST alg);
	if (text)
		xmlNodeAddContent(n, BAD_CAST text);
	return n;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		die(path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		die("cannot read the certificate");
	return x;
}

static void add_cert(xmlNode *x509data, xmlNs *ds, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	char *s;

	if (len <= 0)
		die("i2d_X509");
	s = b64(der, (size_t)len);
	add(x509data, ds, "X509Certificate", NULL, s);
	free(s);
	OPENSSL_free(der);
}

/* ECDSA-SHA256 over data as raw r||s (each half padded to the order size) */
static char *sign(EVP_PKEY *pk, const unsigned char *data, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[256], raw[132];
	const unsigned char *p = der;
	size_t der_len = sizeof(der), half = ((size_t)EVP_PKEY_get_bits(pk) + 7) / 8;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	char *out;

	if (!md || half * 2 > sizeof(raw) || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, der, &der_len, data, len) != 1)
		die("signing failed (not an EC key?)");
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!sig)
		die("d2i_ECDSA_SIG");
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, (int)half) < 0 || BN_bn2binpad(s, raw + half, (int)half) < 0)
		die("BN_bn2binpad");
	out = b64(raw, 2 * half);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return out;
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *uri = NULL, *chain_path = NULL, *alg = ALG_EXC_C14N;
	bool in_place = false, keyinfo = true;
	int mode = XML_C14N_EXCLUSIVE_1_0, opt;
	xmlNode *si_eum, *sig, *n, *si, *ref, *tr, *ki, *xd;
	unsigned char *bytes, md[32];
	char *txt, tmp[4096];
	unsigned int md_len;
	EVP_PKEY *pk;
	xmlDoc *doc;
	xmlNs *ds;
	size_t len;
	FILE *f;
	X509 *cert;

	while ((opt = getopt(argc, argv, "io:u:nc:C:")) != -1) {
		switch (opt) {
		case 'i':
			in_place = true;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'u':
			uri = optarg;
			break;
		case 'n':
			keyinfo = false;
			break;
		case 'C':
			chain_path = optarg;
			break;
		case 'c':
			if (!strcmp(optarg, "inc")) {
				mode = XML_C14N_1_0;
				alg = ALG_C14N;
			} else if (strcmp(optarg, "exc")) {
				usage();
			}
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || (in_place && out_path))
		usage();
	f = fopen(argv[optind], "r");
	if (!f)
		die(argv[optind]);
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk)
		die("cannot read the EUM key");
	cert = read_cert(argv[optind + 1]);
	if (X509_check_private_key(cert, pk) != 1)
		die("the key does not match the certificate");

	doc = xmlReadFile(argv[optind + 2], NULL, XML_PARSE_NONET);
	if (!doc)
		die("cannot parse the input XML");
	si_eum = find(xmlDocGetRootElement(doc), NS_RPS, "EumSignedInfo");
	for (sig = si_eum ? si_eum->next : NULL; sig && sig->type != XML_ELEMENT_NODE; sig = sig->next)
		;
	if (!si_eum || !is(sig, NS_RPS, "EumSignature"))
		die("no rps:EumSignedInfo followed by rps:EumSignature");
	while ((n = sig->children)) {
		xmlUnlinkNode(n);
		xmlFreeNode(n);
	}
	ds = xmlSearchNsByHref(doc, sig, BAD_CAST NS_DSIG);
	if (!ds)
		ds = xmlNewNs(sig, BAD_CAST NS_DSIG, BAD_CAST "ds");
	if (!ds)
		die("out of memory");

	bytes = c14n(si_eum, mode, &len);
	if (!EVP_Digest(bytes, len, md, &md_len, EVP_sha256(), NULL))
		die("EVP_Digest");
	free(bytes);

	si = add(sig, ds, "SignedInfo", NULL, NULL);
	add(si, ds, "CanonicalizationMethod", alg, NULL);
	add(si, ds, "SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", NULL);
	ref = add(si, ds, "Reference", NULL, NULL);
	if (uri)
		xmlSetProp(ref, BAD_CAST "URI", BAD_CAST uri);
	tr = add(ref, ds, "Transforms", NULL, NULL);
	add(tr, ds, "Transform", alg, NULL);
	add(ref, ds, "DigestMethod", "http://www.w3.org/2001/04/xmlenc#sha256", NULL);
	txt = b64(md, md_len);
	add(ref, ds, "DigestValue", NULL, txt);
	free(txt);

	bytes = c14n(si, mode, &len);
	txt = sign(pk, bytes, len);
	free(bytes);
	add(sig, ds, "SignatureValue", NULL, txt);
	free(txt);
	if (keyinfo) {
		ki = add(sig, ds, "KeyInfo", NULL, NULL);
		xd = add(ki, ds, "X509Data", NULL, NULL);
		add_cert(xd, ds, cert);
		if (chain_path) {
			X509 *c = read_cert(chain_path);

			add_cert(xd, ds, c);
			X509_free(c);
		}
	}

	if (in_place) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", argv[optind + 2]) >= sizeof(tmp))
			die("path too long");
		if (xmlSaveFileEnc(tmp, doc, "UTF-8") < 0 || rename(tmp, argv[optind + 2]))
			die("cannot write the output");
	} else if (xmlSaveFileEnc(out_path ? out_path : "-", doc, "UTF-8") < 0) {
		die("cannot write the output");
	}
	xmlFreeDoc(doc);
	X509_free(cert);
	EVP_PKEY_free(pk);
	xmlCleanupParser();
	return 0;
}
