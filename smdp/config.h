/*! \file config.h
 *  smdpd configuration (INI, the same engine and [requester NAME] sections as smsrd; `smdpd --dump-config` writes
 *  every key with its help and default).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "smsr/config.h"

#define SMDP_CFG_MAX_REQUESTERS 64

struct smdp_config {
	/* [smdp] */
	char entity_id[128];
	char entity_name[64];
	/* [db] */
	char db_path[256];
	uint64_t db_map_size;
	/* [keystore] */
	char master_key_file[256];    /*!< seals Ki/OPc of the ICCID pools at rest */
	char dp_ecdsa_key_file[256];  /*!< SK.DP.ECDSA (PEM) */
	char dp_ecdsa_cert_file[256]; /*!< CERT.DP.ECDSA (GP 7F21, one line of hex) */
	char eum_cert_file[256];      /*!< EUM certificate (PEM X.509): verifies CERT.ECASD.ECKA */
	char ci_cert_file[256];	      /*!< GSMA CI certificate (PEM): the EUM certificate must chain to it */
	/* [es2] */
	char es2_listen[128];
	char tls_cert[256], tls_key[256], tls_ca[256];
	uint64_t max_body;
	/* [es3] */
	char smsr_id[128];	/*!< OID of the SM-SR (Smsr-id of ES2 requests) */
	char es3_endpoint[128]; /*!< tcp://host:port of smsrd's ES3 ZeroMQ socket */
	char es3_name[64];	/*!< our name there (the SM-SR's [requester NAME] of this SM-DP) */
	char es3_public_key[41];
	char es3_secret_key_file[256];
	char es3_smsr_key[41]; /*!< the SM-SR's CURVE public key */
	int64_t es3_resend_ms, es3_timeout_ms, es3_max_inflight, es3_hwm;
	/* [download] */
	int64_t segment_size;
	char kvn[4], scenario[4], key_usage[4]; /*!< hex */
	int64_t create_isdp_timeout_ms, send_data_timeout_ms, download_timeout_ms, enable_timeout_ms;
	int64_t max_parallel;
	int64_t max_attempts;
	int64_t max_data;
	/* [log] */
	char log_level[16];
	bool log_syslog;
	bool log_timestamps;
	char log_categories[256];
	/* [requester NAME]: the MNOs */
	struct smsr_cfg_requester requesters[SMDP_CFG_MAX_REQUESTERS];
	unsigned n_requesters;
};

void smdp_config_defaults(struct smdp_config *c);
int smdp_config_load(struct smdp_config *c, const char *path, char *err, size_t err_len);
int smdp_config_parse(struct smdp_config *c, const char *name, const char *text, char *err, size_t err_len);
int smdp_config_validate(const struct smdp_config *c, char *err, size_t err_len);
void smdp_config_write(const struct smdp_config *c, FILE *out);
const struct smsr_cfg_requester *smdp_config_requester_by_tls(const struct smdp_config *c, const char *subject,
							      const char *fingerprint);
/*! Apply [log] (as smsr_config_apply_logging). */
int smdp_config_apply_logging(const struct smdp_config *c, const char *prog, char *err, size_t err_len);
