/*! \file smdpd.h
 *  The SM-DP daemon: keystore (master key, SK/CERT.DP.ECDSA, the EUM certificate checked against the CI), the
 *  store, the ES3 ZeroMQ link to smsrd, the ES2 HTTPS endpoint for MNOs and the order procedures.
 */
#pragma once
#include <stdio.h>
#include "smdp/config.h"

struct event;
struct event_base;
struct smdp_db;
struct smdp_dl;
struct smdp_es2;
struct smsr_https;
struct smsr_http_client;
struct smsr_zlink;
struct ota_eckey;
struct ota_wrap_master;
struct proto_ec_pub;

struct smdpd {
	struct smdp_config cfg;
	struct event_base *base;
	struct smdp_db *db;
	struct ota_wrap_master *master;
	struct ota_eckey *sk_dp;
	uint8_t *cert_dp;
	size_t cert_dp_len;
	struct proto_ec_pub *pk_eum;
	struct smsr_zlink *es3;
	struct smdp_dl *dl;
	struct smdp_es2 *es2;
	struct smsr_https *https;
	struct smsr_http_client *http;
	struct event *sigterm, *sigint;
};

int smdpd_start(void *ctx, const struct smdp_config *cfg, struct smdpd **out);
int smdpd_run(struct smdpd *d);

/*! Load CERT.DP.ECDSA (one line of hex) from path into a talloc buffer. */
int smdpd_load_gpcert(void *ctx, const char *path, uint8_t **out, size_t *len);

/*! PK.EUM from the EUM certificate at eum_path, which must verify with the CI certificate at ci_path. */
int smdpd_load_eum(void *ctx, const char *eum_path, const char *ci_path, struct proto_ec_pub **out, char *why,
		   size_t cap);

/*! The AAD of a sealed pool value: "K" or "O" (Ki, OPc) || ICCID. */
size_t smdpd_pool_aad(uint8_t *out, size_t cap, char which, const char *iccid);
