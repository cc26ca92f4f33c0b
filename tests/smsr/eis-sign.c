/* eis-sign: act as the EUM on an EIS: issue its CERT.ECASD.ECKA and put the XML-DSig EumSignature (ECDSA-SHA256,
 * raw r||s) on its EumSignedInfo, in the form smsr/es1_sig.h verifies (tests/smsr/eis_signer.h). Test and
 * operations tool; never for production keys on a shared host.
 *
 *   eis-sign [-i | -o OUT] [-u URI] [-n] [-c exc|inc] [-C CHAIN.crt] [-k] [-x YYYYMMDD] [-U USAGE] [-B]
 *            EUM.key EUM.crt FILE
 *
 * FILE is any XML holding rps:EumSignedInfo followed by rps:EumSignature (an ES1-RegisterEISRequest envelope, an
 * Eis element, ...). The first Ecasd Certificate/Value gets a fresh CERT.ECASD.ECKA signed by EUM.key (over a new
 * random P-256 key), then the content of the first EumSignature is replaced by ds:SignedInfo, ds:SignatureValue
 * and ds:KeyInfo/ds:X509Data/ds:X509Certificate (EUM.crt, then CHAIN.crt if given). Output to stdout, to OUT (-o)
 * or FILE itself (-i).
 *   -u URI       put URI="URI" on the Reference (default: no URI attribute, as SGP.02/njiwa); for refusal tests
 *   -n           no KeyInfo (the verifier then uses its configured EUM certificates)
 *   -c inc       inclusive c14n (CanonicalizationMethod and Transform) instead of exclusive c14n
 *   -k           keep the Ecasd as it is (no new ECASD certificate)
 *   -x YYYYMMDD  expiry date of the ECASD certificate (default 20460101)
 *   -U USAGE     key usage of the ECASD certificate, 4 hex digits (default 0080); for refusal tests
 *   -B           spoil the ECASD certificate signature; for refusal tests
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <talloc.h>
#include "tests/smsr/eis_signer.h"
#include "proto/errors.h"

static void usage(void)
{
	fprintf(stderr, "usage: eis-sign [-i | -o OUT] [-u URI] [-n] [-c exc|inc] [-C CHAIN.crt] [-k] [-x YYYYMMDD] "
			"[-U USAGE] [-B] EUM.key EUM.crt FILE\n");
	exit(2);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "eis-sign: %s%s%s\n", what, rc ? ": " : "", rc ? proto_strerror(rc) : "");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *out_path = NULL, *uri = NULL, *chain_path = NULL, *expiry = NULL;
	bool in_place = false, keyinfo = true, inclusive = false, keep = false, bad = false;
	unsigned long usage_bits = 0x0080;
	struct eis_signer *s;
	xmlNode *si_eum, *sig;
	char tmp[4096], *end;
	xmlDoc *doc;
	int opt, rc;

	while ((opt = getopt(argc, argv, "io:u:nc:C:kx:U:B")) != -1) {
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
			if (!strcmp(optarg, "inc"))
				inclusive = true;
			else if (strcmp(optarg, "exc"))
				usage();
			break;
		case 'k':
			keep = true;
			break;
		case 'x':
			if (strlen(optarg) != 8 || strspn(optarg, "0123456789") != 8)
				usage();
			expiry = optarg;
			break;
		case 'U':
			usage_bits = strtoul(optarg, &end, 16);
			if (*end || !*optarg || usage_bits > 0xffff)
				usage();
			break;
		case 'B':
			bad = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3 || (in_place && out_path))
		usage();
	rc = eis_signer_load(NULL, argv[optind], argv[optind + 1], chain_path, &s);
	if (rc < 0)
		die("cannot load the EUM key and certificate (or they do not match)", 0);
	s->uri = uri;
	s->keyinfo = keyinfo;
	s->inclusive = inclusive;
	s->ecasd = keep ? EIS_SIGNER_ECASD_KEEP : EIS_SIGNER_ECASD_ISSUE;
	s->ecasd_usage = (uint16_t)usage_bits;
	s->ecasd_bad_sig = bad;
	if (expiry)
		memcpy(s->expiry, expiry, 9);

	doc = xmlReadFile(argv[optind + 2], NULL, XML_PARSE_NONET);
	if (!doc)
		die("cannot parse the input XML", 0);
	if (eis_signer_find(xmlDocGetRootElement(doc), &si_eum, &sig) < 0)
		die("no rps:EumSignedInfo followed by rps:EumSignature", 0);
	rc = eis_signer_sign(s, si_eum, sig, NULL);
	if (rc < 0)
		die("signing failed", rc);
	if (in_place) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", argv[optind + 2]) >= sizeof(tmp))
			die("path too long", 0);
		if (xmlSaveFileEnc(tmp, doc, "UTF-8") < 0 || rename(tmp, argv[optind + 2]))
			die("cannot write the output", 0);
	} else if (xmlSaveFileEnc(out_path ? out_path : "-", doc, "UTF-8") < 0) {
		die("cannot write the output", 0);
	}
	xmlFreeDoc(doc);
	talloc_free(s);
	xmlCleanupParser();
	return 0;
}
