/* Fuzz the SM-SR's ES1/ES4 entry point with any bytes as a SOAP request: smsr_es_receive() (bounded parse, no
 * DTD or entities, every function decoded, a RegisterEIS EIS with its key values through the import callback);
 * then what smsrd does next with the result: the EumSignature and ECASD check of a decoded EIS (against a fixed
 * fuzz CI, so it always fails, after real work), the FAILED response to a decoded request, or the Fault/FAILED
 * reply to a refused one. Properties: no crash, no leak (talloc tree freed), a refusal always names its reason,
 * a reply can always be built. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include "tests/fuzz/fuzz.h"
#include "smsr/es1_sig.h"
#include "smsr/es_msg.h"

/* a throw-away CI (self-signed P-256): only the code path matters, no EIS is signed under it */
static const char fuzz_ci_pem[] = "-----BEGIN CERTIFICATE-----\n"
				  "MIIBtzCCAV2gAwIBAgIUTZ77L47VU63KBsdz3Wlm4Ng0Q54wCgYIKoZIzj0EAwIw\n"
				  "KDEUMBIGA1UECgwLbTJtLXNtIGZ1enoxEDAOBgNVBAMMB0Z1enogQ0kwIBcNMjYx\n"
				  "MTIyMDk0NDE4WhgPMjEyNjEwMjkwOTQ0MThaMCgxFDASBgNVBAoMC20ybS1zbSBm\n"
				  "dXp6MRAwDgYDVQQDDAdGdXp6IENJMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
				  "v1XJb7VmkmDXHQOFw7EwCquBjUJzQiUjtACsOnC8jxqEwAPv86WoIfTCI9ATRze5\n"
				  "PFZRwM7aXHhcIGQFNYMEUaNjMGEwHQYDVR0OBBYEFCPQxpB5WgivBpG91PHyQQK/\n"
				  "rlzHMB8GA1UdIwQYMBaAFCPQxpB5WgivBpG91PHyQQK/rlzHMA8GA1UdEwEB/wQF\n"
				  "MAMBAf8wDgYDVR0PAQH/BAQDAgIEMAoGCCqGSM49BAMCA0gAMEUCIQD3qCKJ1kz3\n"
				  "+7mbU2v59L5nWO0MADfki1CkcWJmHUqLbwIgBM0nCClVpnhyvdzZz2/4bpFi0TBf\n"
				  "oIdM7O8rM2UxMtA=\n"
				  "-----END CERTIFICATE-----\n";

static int s_import(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *v, size_t len, void *wctx,
		    uint8_t **wrapped, size_t *wrapped_len)
{
	(void)data;
	(void)ref;
	*wrapped = talloc_memdup(wctx, v, len ? len : 1);
	*wrapped_len = len;
	return *wrapped ? 0 : -ENOMEM;
}

static struct smsr_es1_sig_ctx *s_sig(void)
{
	static struct smsr_es1_sig_ctx *sig;
	static int done;
	char path[] = "/tmp/fuzz_soap_ci.XXXXXX";
	int fd;

	if (done)
		return sig;
	done = 1;
	fd = mkstemp(path);
	if (fd < 0 || write(fd, fuzz_ci_pem, sizeof(fuzz_ci_pem) - 1) != (ssize_t)(sizeof(fuzz_ci_pem) - 1))
		abort();
	close(fd);
	if (smsr_es1_sig_ctx_new(NULL, path, NULL, &sig, NULL, 0) < 0)
		abort();
	unlink(path);
	return sig;
}

FUZZ_TARGET(soap)
{
	static const struct smsr_es_decode_opts opts = {.interfaces = SMSR_ES_IF_ES1 | SMSR_ES_IF_ES4 | SMSR_ES_IF_ES3,
							.eis_in = {.key_import = s_import}};
	static const struct smsr_soap_entity self = {"https://smsr.fuzz/es4", "1.3.6.1.4.1.99999.10", "SM-SR"};
	static const uint8_t isdp[16] = {0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 0x12, 0};
	struct smsr_es_result res = {.status = SMSR_EXEC_FAILED,
				     .code = SMSR_SC_EUICC_ERROR,
				     .message = "fuzz",
				     .isdp_aid = isdp,
				     .isdp_aid_len = sizeof(isdp)};
	void *ctx = talloc_new(NULL);
	struct smsr_soap_msg *msg = NULL;
	struct smsr_es_req *req = NULL;
	struct smsr_es_error err;
	uint8_t *out = NULL;
	size_t out_len = 0;
	char why[256];
	int rc, http = 0;

	memset(&err, 0, sizeof(err));
	rc = smsr_es_receive(ctx, data, size, NULL, &opts, &msg, &req, &err);
	if (rc == 0) {
		FUZZ_ASSERT(req != NULL && req->desc != NULL);
		if (req->eis)
			FUZZ_ASSERT(smsr_es1_sig_verify(s_sig(), req->eis, NULL, why, sizeof(why)) < 0 && why[0]);
		if (msg && msg->message_id && req->desc->resp_elem)
			FUZZ_ASSERT(smsr_es_build_response(ctx, &self, msg, req->func, &res, &out, &out_len) == 0 &&
				    out_len > 0);
	} else {
		FUZZ_ASSERT(err.soap.text[0] != '\0');
		FUZZ_ASSERT(smsr_es_build_error_reply(ctx, &self, msg, rc, &err, &out, &out_len, &http) == 0 &&
			    http >= 200 && out_len > 0);
	}
	talloc_free(ctx);
	return 0;
}
