/* fleet-eis-xml: act as the EUM of the simulated fleet (tests/euicc-sim/fleet.h): write the signed EIS of eUICCs
 * FIRST..FIRST+COUNT-1 as an EUM would deliver them, for ES1.RegisterEIS and `smsr-ctl eis import`. Test, demo and
 * benchmark tooling; never for production keys.
 *
 *   fleet-eis-xml [-o OUT | -d DIR] [-f FIRST] EUM.key EUM.crt TRANSPORT.key SEED COUNT MNO_OID EUM_OID SMSR_OID
 *
 * Each EIS: the fleet identity (EID, MSISDN, the two pre-provisioned profiles of MNO_OID), ISD-R keyset KVN 1 with
 * the key values under the transport key (AES-128-ECB, PKCS#7; ota_wrap_import_transport), Eum-id EUM_OID, a
 * CERT.ECASD.ECKA for the eUICC's SK.ECASD.ECKA (sim_fleet_ecasd_sk) and the EumSignature (eis_signer.h).
 *   -o OUT  one file <rps:EisList> holding every Eis (default stdout)
 *   -d DIR  one ES1-RegisterEISRequest SOAP envelope per eUICC, DIR/register-<index>.xml
 * Prints nothing else; the fleet's EIDs/MSISDNs/ICCIDs are those of fleet-import. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include "tests/smsr/eis_signer.h"
#include "tests/smsr/fleet_eis.h"
#include "smsr/eis_xml.h"
#include "smsr/soap.h"
#include "ota/keystore.h"
#include "ota/keystore_ec.h"
#include "ota/keystore_wrap.h"
#include "proto/ec.h"
#include "proto/errors.h"

struct s_keys {
	const struct ota_wrap_master *m;
	uint8_t tk[16];
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "fleet-eis-xml: %s%s%s\n", what, rc ? ": " : "", rc ? proto_strerror(rc) : "");
	exit(1);
}

/* at-rest blob -> clear key -> AES-128-ECB/PKCS#7 under the transport key */
static int s_export(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *wrapped, size_t wrapped_len,
		    void *ctx, uint8_t **value, size_t *value_len)
{
	struct s_keys *k = data;
	uint8_t aad[OTA_WRAP_AAD_KEY_LEN], raw[32], *out;
	struct ota_key *h;
	EVP_CIPHER_CTX *c;
	int n, n2 = 0, rc, len;

	ota_wrap_aad_key(aad, ref->eid, ref->sd == SMSR_SD_ECASD ? 1 : 0, ref->kvn, ref->key_index,
			 (uint8_t)ref->comp_no);
	rc = ota_wrap_unwrap_key(k->m, wrapped, wrapped_len, aad, sizeof(aad), ctx, &h);
	if (rc < 0)
		return rc;
	len = ota_key_export(h, raw, sizeof(raw));
	talloc_free(h);
	if (len < 0)
		return len;
	out = talloc_size(ctx, (size_t)len + 16);
	c = EVP_CIPHER_CTX_new();
	rc = out && c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k->tk, NULL) == 1 &&
			     EVP_EncryptUpdate(c, out, &n, raw, len) == 1 && EVP_EncryptFinal_ex(c, out + n, &n2) == 1
		     ? 0
		     : -EIO;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (rc)
		return rc;
	*value = out;
	*value_len = (size_t)(n + n2);
	return 0;
}

/* the Eis of fleet index under parent, signed */
static void s_eis(void *tmp, const struct sim_fleet_cfg *cfg, uint32_t index, struct s_keys *k,
		  const struct eis_signer *sg, const char *mno, const char *eum, const char *smsr,
		  struct smsr_soap_bld *b, xmlNode *parent)
{
	struct smsr_eis_xml_opts o = {.view = SMSR_EIS_VIEW_FULL, .key_export = s_export, .key_data = k};
	uint8_t sk[SIM_ECASD_SK_LEN];
	struct ota_eckey *ek;
	struct smsr_eis *e;
	xmlNode *si, *sig;
	char why[256];
	int rc;

	rc = fleet_eis_build(tmp, cfg, index, k->m, mno, smsr, &e);
	if (rc < 0)
		die("fleet_eis_build", rc);
	talloc_free(e->eum_id);
	e->eum_id = talloc_strdup(e, eum);
	e->signed_info_xml = NULL; /* rebuilt from the fields, then signed */
	if ((rc = smsr_eis_xml_encode(b, parent, "Eis", e, &o, why, sizeof(why))) < 0) {
		fprintf(stderr, "fleet-eis-xml: %s\n", why);
		die("encoding the EIS", rc);
	}
	if ((rc = sim_fleet_ecasd_sk(cfg, index, sk)) < 0 ||
	    (rc = ota_eckey_import(tmp, PROTO_EC_REF_P256, sk, sizeof(sk), &ek)) < 0)
		die("SK.ECASD.ECKA", rc);
	OPENSSL_cleanse(sk, sizeof(sk));
	if (eis_signer_find(xmlGetLastChild(parent), &si, &sig) < 0)
		die("no EumSignedInfo/EumSignature in the encoded EIS", 0);
	if ((rc = eis_signer_sign(sg, si, sig, ota_eckey_public(ek))) < 0)
		die("signing", rc);
}

#define ENV_HEAD                                                                                                       \
	"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" "                                         \
	"xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">"                                                          \
	"<env:Header><wsa:From><wsa:Address>http://eum.example?EntityId=%s</wsa:Address></wsa:From>"                   \
	"<wsa:To>http://smsr.example</wsa:To><wsa:MessageID>urn:uuid:fleet-eis-xml-%u</wsa:MessageID>"                 \
	"<wsa:Action>http://gsma.com/ES1/eUICCManagement/ES1-RegisterEISRequest</wsa:Action></env:Header>"             \
	"<env:Body/></env:Envelope>"

int main(int argc, char **argv)
{
	const char *out = NULL, *dir = NULL;
	unsigned long first = 0, count, i;
	struct ota_wrap_master *m;
	struct sim_fleet_cfg cfg;
	struct eis_signer *sg;
	struct s_keys k;
	FILE *f;
	void *ctx = talloc_named_const(NULL, 0, "fleet-eis-xml");
	int opt, rc;

	while ((opt = getopt(argc, argv, "o:d:f:")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			first = strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 8 || (out && dir) || !(count = strtoul(argv[optind + 4], NULL, 10)))
		goto usage;
	if (eis_signer_load(ctx, argv[optind], argv[optind + 1], NULL, &sg) < 0)
		die("cannot load the EUM key and certificate", 0);
	f = fopen(argv[optind + 2], "rb");
	if (!f || fread(k.tk, 1, sizeof(k.tk), f) != sizeof(k.tk))
		die("the transport key file must hold 16 raw bytes", 0);
	fclose(f);
	if ((rc = ota_wrap_master_generate(ctx, &m)) < 0 ||
	    (rc = sim_fleet_cfg_init(&cfg, argv[optind + 3], NULL, NULL)) < 0)
		die("setup", rc);
	k.m = m;
	xmlInitParser();
	if (dir) {
		for (i = first; i < first + count; i++) {
			void *tmp = talloc_new(ctx);
			char path[4096], *env = talloc_asprintf(tmp, ENV_HEAD, argv[optind + 6], (unsigned)i);
			struct smsr_soap_bld b = {0};
			xmlDoc *doc = xmlReadMemory(env, (int)strlen(env), NULL, NULL, XML_PARSE_NONET);
			xmlNode *body = doc ? xmlGetLastChild(xmlDocGetRootElement(doc)) : NULL, *req;

			if (!body)
				die("envelope", 0);
			b.ns = xmlNewNs(body, BAD_CAST SMSR_NS_RPS, BAD_CAST "rps");
			req = xmlNewChild(body, b.ns, BAD_CAST "ES1-RegisterEISRequest", NULL);
			xmlNewChild(req, b.ns, BAD_CAST "FunctionCallIdentifier", BAD_CAST "fleet-eis-xml");
			s_eis(tmp, &cfg, (uint32_t)i, &k, sg, argv[optind + 5], argv[optind + 6], argv[optind + 7], &b,
			      req);
			snprintf(path, sizeof(path), "%s/register-%lu.xml", dir, i);
			if (xmlSaveFileEnc(path, doc, "UTF-8") < 0)
				die(path, 0);
			xmlFreeDoc(doc);
			talloc_free(tmp);
		}
	} else {
		f = out ? fopen(out, "w") : stdout;
		if (!f)
			die(out, 0);
		fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rps:EisList xmlns:rps=\"%s\">\n", SMSR_NS_RPS);
		for (i = first; i < first + count; i++) {
			void *tmp = talloc_new(ctx), *holder;
			struct smsr_soap_bld b = {0};
			xmlNode *root = smsr_soap_body_new(tmp, "EisList", &b, &holder);
			xmlBufferPtr xb = xmlBufferCreate();

			if (!root || !xb)
				die("out of memory", 0);
			s_eis(tmp, &cfg, (uint32_t)i, &k, sg, argv[optind + 5], argv[optind + 6], argv[optind + 7], &b,
			      root);
			if (xmlNodeDump(xb, root->doc, xmlGetLastChild(root), 0, 0) < 0)
				die("serialising", 0);
			fprintf(f, "%s\n", (const char *)xmlBufferContent(xb));
			xmlBufferFree(xb);
			talloc_free(tmp);
		}
		fprintf(f, "</rps:EisList>\n");
		if ((out && fclose(f)) || (!out && fflush(f)))
			die("cannot write the output", 0);
	}
	OPENSSL_cleanse(k.tk, sizeof(k.tk));
	talloc_free(ctx);
	xmlCleanupParser();
	return 0;
usage:
	fprintf(stderr, "usage: fleet-eis-xml [-o OUT | -d DIR] [-f FIRST] EUM.key EUM.crt TRANSPORT.key SEED COUNT "
			"MNO_OID EUM_OID SMSR_OID\n");
	return 2;
}
