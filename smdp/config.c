/* smdpd configuration: the items table on the shared INI engine (see config.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smdp/config.h"
#include "smsr/logging.h"

#define S(sec, key, field, def, help)                                                                                  \
	{                                                                                                              \
		sec, key, SMSR_INI_STR, offsetof(struct smdp_config, field), sizeof(((struct smdp_config *)0)->field), \
			def, help                                                                                      \
	}
#define N(sec, key, type, field, def, help)                                                                            \
	{                                                                                                              \
		sec, key, type, offsetof(struct smdp_config, field), 0, def, help                                      \
	}

static const struct smsr_ini_item items[] = {
	S("smdp", "entity-id", entity_id, "1.3.6.1.4.1.99999.40", "this SM-DP's entity OID (wsa:From EntityId)"),
	S("smdp", "entity-name", entity_name, "SM-DP", "this SM-DP's entity name"),
	S("db", "path", db_path, "/var/lib/m2m-sm/smdp", "LMDB directory: profiles, ICCID pools, order journal"),
	N("db", "map-size", SMSR_INI_SIZE, db_map_size, "4G", "LMDB map size"),
	S("keystore", "master-key-file", master_key_file, "/etc/m2m-sm/smdp-master.key",
	  "32-byte master key sealing Ki and OPc at rest (mode 0600)"),
	S("keystore", "dp-ecdsa-key-file", dp_ecdsa_key_file, "/etc/m2m-sm/smdp-ecdsa.key",
	  "SK.DP.ECDSA (PEM EC key): signs the ES8 key parameters"),
	S("keystore", "dp-ecdsa-cert-file", dp_ecdsa_cert_file, "/etc/m2m-sm/smdp-ecdsa.gpcert",
	  "CERT.DP.ECDSA issued by the CI (GP 7F21 certificate as one line of hex)"),
	S("keystore", "eum-cert-file", eum_cert_file, "/etc/m2m-sm/eum.crt",
	  "EUM certificate (PEM): verifies the eUICCs' CERT.ECASD.ECKA"),
	S("keystore", "ci-cert-file", ci_cert_file, "/etc/m2m-sm/gsma-ci.crt",
	  "GSMA CI certificate (PEM): the EUM certificate must be signed by it"),
	S("es2", "listen", es2_listen, "127.0.0.1:8444", "address of the ES2 SOAP endpoint for MNOs (HTTPS)"),
	S("es2", "tls-cert", tls_cert, "/etc/m2m-sm/smdp.crt", "server certificate (PEM)"),
	S("es2", "tls-key", tls_key, "/etc/m2m-sm/smdp.key", "server private key (PEM)"),
	S("es2", "tls-ca", tls_ca, "/etc/m2m-sm/ca.crt", "CA bundle for MNO client certificates (mutual TLS)"),
	N("es2", "max-body", SMSR_INI_SIZE, max_body, "1M", "largest SOAP request accepted"),
	S("es3", "smsr-id", smsr_id, "1.3.6.1.4.1.99999.10", "the SM-SR's entity OID"),
	S("es3", "endpoint", es3_endpoint, "tcp://127.0.0.1:5555", "smsrd's ES3 ZeroMQ endpoint"),
	S("es3", "name", es3_name, "smdp1", "our name at the SM-SR (its [requester NAME] for this SM-DP)"),
	S("es3", "curve-public-key", es3_public_key, "", "this SM-DP's CURVE public key (Z85, 40 characters)"),
	S("es3", "curve-secret-key-file", es3_secret_key_file, "",
	  "file holding this SM-DP's CURVE secret key (Z85; mode 0600)"),
	S("es3", "smsr-public-key", es3_smsr_key, "", "the SM-SR's CURVE public key (Z85)"),
	N("es3", "resend", SMSR_INI_MS, es3_resend_ms, "5s", "resend an unanswered ES3 request after"),
	N("es3", "timeout", SMSR_INI_MS, es3_timeout_ms, "30s", "an ES3 request without an answer fails after"),
	N("es3", "max-inflight", SMSR_INI_INT, es3_max_inflight, "1000", "ES3 requests waiting for an answer"),
	N("es3", "hwm", SMSR_INI_INT, es3_hwm, "10000", "ZeroMQ high-water mark"),
	N("download", "segment-size", SMSR_INI_INT, segment_size, "1020", "profile bytes per SCP03t '86' TLV"),
	N("download", "max-data", SMSR_INI_INT, max_data, "3200",
	  "bytes of one ES3.SendData (one SCP80 packet, at most 32 concatenated SMS)"),
	S("download", "kvn", kvn, "30", "key version of the ISD-P keyset (hex)"),
	S("download", "scenario-params", scenario, "09", "ECKA scenario #3 parameters (hex; crypto.md §A.2)"),
	S("download", "key-usage", key_usage, "10", "key usage qualifier: 10 (ENC/MAC/DEK) or 5C (base key)"),
	N("download", "create-isdp-timeout", SMSR_INI_MS, create_isdp_timeout_ms, "10m", "wait for ES3.CreateISDP"),
	N("download", "send-data-timeout", SMSR_INI_MS, send_data_timeout_ms, "10m", "wait for each ES3.SendData"),
	N("download", "download-timeout", SMSR_INI_MS, download_timeout_ms, "1h", "whole order (or ValidityPeriod)"),
	N("download", "enable-timeout", SMSR_INI_MS, enable_timeout_ms, "15m", "wait for ES3.EnableProfile"),
	N("download", "max-parallel", SMSR_INI_INT, max_parallel, "1000", "orders running at once (more wait)"),
	N("download", "max-attempts", SMSR_INI_INT, max_attempts, "2", "attempts of one order cut by a restart"),
	S("log", "level", log_level, "info", "default level: debug, info, notice, error"),
	N("log", "syslog", SMSR_INI_BOOL, log_syslog, "no", "log to syslog instead of stderr"),
	N("log", "timestamps", SMSR_INI_BOOL, log_timestamps, "yes", "prefix stderr lines with an ISO 8601 time"),
	S("log", "categories", log_categories, "", "per-category levels, e.g. DPROTO=debug"),
};

static const struct smsr_ini_schema schema = {
	.prog = "smdpd",
	.size = sizeof(struct smdp_config),
	.items = items,
	.n_items = sizeof(items) / sizeof(items[0]),
	.req_items = smsr_ini_requester_items,
	.n_req_items = SMSR_INI_REQUESTER_ITEMS,
	.req_off = offsetof(struct smdp_config, requesters),
	.n_req_off = offsetof(struct smdp_config, n_requesters),
	.max_req = SMDP_CFG_MAX_REQUESTERS,
};

void smdp_config_defaults(struct smdp_config *c)
{
	smsr_ini_defaults(&schema, c);
}

int smdp_config_parse(struct smdp_config *c, const char *name, const char *text, char *err, size_t err_len)
{
	return smsr_ini_parse(&schema, c, name, text, err, err_len);
}

int smdp_config_load(struct smdp_config *c, const char *path, char *err, size_t err_len)
{
	return smsr_ini_load(&schema, c, path, err, err_len);
}

void smdp_config_write(const struct smdp_config *c, FILE *out)
{
	smsr_ini_write(&schema, c, out);
}

static bool hexbyte(const char *s, unsigned *v)
{
	char *end;

	*v = (unsigned)strtoul(s, &end, 16);
	return strlen(s) == 2 && !*end;
}

int smdp_config_validate(const struct smdp_config *c, char *err, size_t err_len)
{
	unsigned i, v;

#define FAIL(...)                                                                                                      \
	do {                                                                                                           \
		snprintf(err, err_len, __VA_ARGS__);                                                                   \
		return -EINVAL;                                                                                        \
	} while (0)
	if (!smsr_ini_is_oid(c->entity_id))
		FAIL("[smdp] entity-id '%s' is not an OID", c->entity_id);
	if (!smsr_ini_is_oid(c->smsr_id))
		FAIL("[es3] smsr-id '%s' is not an OID", c->smsr_id);
	if (!c->db_path[0])
		FAIL("[db] path is empty");
	if (!smsr_ini_is_hostport(c->es2_listen))
		FAIL("[es2] listen '%s' is not host:port", c->es2_listen);
	if (strncmp(c->es3_endpoint, "tcp://", 6))
		FAIL("[es3] endpoint '%s' is not tcp://host:port", c->es3_endpoint);
	if (strlen(c->es3_public_key) != 40 || strlen(c->es3_smsr_key) != 40 || !c->es3_secret_key_file[0])
		FAIL("[es3] needs curve-public-key, smsr-public-key (40 Z85 characters) and curve-secret-key-file");
	if (!c->es3_name[0])
		FAIL("[es3] name is empty");
	if (c->segment_size < 16 || c->segment_size > 4000)
		FAIL("[download] segment-size %lld is not 16..4000", (long long)c->segment_size);
	if (c->max_data < c->segment_size + 32 || c->max_data > 4000)
		FAIL("[download] max-data must be above segment-size + 32 and at most 4000");
	if (!hexbyte(c->kvn, &v) || v < 1 || v > 0x7F)
		FAIL("[download] kvn '%s' is not 01..7F (hex)", c->kvn);
	if (!hexbyte(c->scenario, &v))
		FAIL("[download] scenario-params '%s' is not one byte of hex", c->scenario);
	if (!hexbyte(c->key_usage, &v) || (v != 0x10 && v != 0x5C))
		FAIL("[download] key-usage must be 10 or 5C");
	if (c->max_parallel < 1 || c->max_attempts < 1 || c->es3_max_inflight < 1 || c->es3_hwm < 1)
		FAIL("[download] max-parallel, max-attempts and [es3] max-inflight, hwm must be positive");
	for (i = 0; i < c->n_requesters; i++) {
		const struct smsr_cfg_requester *r = &c->requesters[i];
		if (!smsr_ini_is_oid(r->entity_id))
			FAIL("[requester %s] entity-id '%s' is not an OID", r->name, r->entity_id);
		if (strcmp(r->role, "mno"))
			FAIL("[requester %s] role must be mno (ES2)", r->name);
		if (!r->tls_subject[0] && !r->tls_fingerprint[0])
			FAIL("[requester %s] needs tls-subject or tls-fingerprint", r->name);
	}
#undef FAIL
	return 0;
}

const struct smsr_cfg_requester *smdp_config_requester_by_tls(const struct smdp_config *c, const char *subject,
							      const char *fingerprint)
{
	return smsr_requester_by_tls(c->requesters, c->n_requesters, subject, fingerprint);
}

int smdp_config_apply_logging(const struct smdp_config *c, const char *prog, char *err, size_t err_len)
{
	struct smsr_config sc;

	/* the [log] keys have the same meaning as smsrd's */
	smsr_config_defaults(&sc);
	snprintf(sc.log_level, sizeof(sc.log_level), "%s", c->log_level);
	sc.log_syslog = c->log_syslog;
	sc.log_timestamps = c->log_timestamps;
	snprintf(sc.log_categories, sizeof(sc.log_categories), "%s", c->log_categories);
	return smsr_config_apply_logging(&sc, prog, err, err_len);
}
