/*! \file config.h
 *  smsrd configuration: an INI-style file (`[section]`, `key = value`, `#` comments, repeated `[requester NAME]`
 *  sections), described once by a table of typed items with defaults and help text. The same table drives parsing,
 *  validation (`smsrd --check-config`), the effective-config dump (`smsrd --dump-config`, which writes back a file
 *  that parses to the same settings) and the documentation of doc/examples/smsrd.conf.
 *
 *  Durations accept a unit suffix: ms, s, m, h (bare numbers are seconds). Sizes accept k, M, G.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SMSR_CFG_MAX_REQUESTERS 64

/*
 * The INI engine both daemons' configurations use: a table of items (section, key, type, field offset, default,
 * help), "[requester NAME]" sections filling an array of struct smsr_cfg_requester, one error "file:line: reason".
 */
struct smsr_cfg_requester;

enum smsr_ini_type {
	SMSR_INI_STR,  /*!< char[] */
	SMSR_INI_BOOL, /*!< bool */
	SMSR_INI_INT,  /*!< int64_t */
	SMSR_INI_MS,   /*!< int64_t milliseconds, written with a unit */
	SMSR_INI_SIZE, /*!< uint64_t bytes */
};

struct smsr_ini_item {
	const char *section;
	const char *key;
	enum smsr_ini_type type;
	size_t off;
	size_t size; /*!< SMSR_INI_STR: buffer size */
	const char *def;
	const char *help;
};

struct smsr_ini_schema {
	const char *prog; /*!< "smsrd": header of the written file */
	size_t size;	  /*!< of the configuration struct */
	const struct smsr_ini_item *items;
	size_t n_items;
	const struct smsr_ini_item *req_items; /*!< keys of [requester NAME] */
	size_t n_req_items;
	size_t req_off, n_req_off; /*!< offsets of the requester array and its count */
	unsigned max_req;
};

#define SMSR_INI_REQUESTER_ITEMS 6
/*! The keys of a [requester NAME] section (struct smsr_cfg_requester). */
extern const struct smsr_ini_item smsr_ini_requester_items[SMSR_INI_REQUESTER_ITEMS];

void smsr_ini_defaults(const struct smsr_ini_schema *sc, void *base);
int smsr_ini_parse(const struct smsr_ini_schema *sc, void *base, const char *name, const char *text, char *err,
		   size_t err_len);
int smsr_ini_load(const struct smsr_ini_schema *sc, void *base, const char *path, char *err, size_t err_len);
void smsr_ini_write(const struct smsr_ini_schema *sc, const void *base, FILE *out);
/*! The requester of reqs[0..n) with this TLS subject or fingerprint, or NULL. */
const struct smsr_cfg_requester *smsr_requester_by_tls(const struct smsr_cfg_requester *reqs, unsigned n,
						       const char *subject, const char *fingerprint);
/*! Value checks shared by the validators. */
bool smsr_ini_is_oid(const char *s);
bool smsr_ini_is_hostport(const char *s);

/*! A requester (MNO, SM-DP or EUM) known to this SM-SR: authenticated by its TLS client certificate and mapped to
 *  its entity OID. */
struct smsr_cfg_requester {
	char name[64];
	char entity_id[128];		/*!< OID */
	char role[16];			/*!< mno | smdp | eum */
	char tls_subject[256];		/*!< expected client certificate subject (RFC 2253), or "" */
	char tls_fingerprint[96];	/*!< SHA-256 of the client certificate, hex, or "" */
	char callback_url[256];		/*!< async responses and notifications when no ReplyTo */
	char curve_public_key[41];	/*!< SM-DP on the ES3 ZeroMQ link: its CURVE public key (Z85), or "" */
};

struct smsr_config {
	/* [smsr] */
	char entity_id[128];
	char entity_name[64];
	char sms_address[24];		/*!< the SM-SR's SMS address (MO destination, MT sender) */
	/* [db] */
	char db_path[256];
	uint64_t db_map_size;		/*!< bytes */
	bool db_group_commit;		/*!< smsr_db_group_enable() */
	/* [keystore] */
	char master_key_file[256];
	char transport_key_file[256];	/*!< EUM transport key for keys in registered EIS ("" = none) */
	char ci_cert_file[256];		/*!< GSMA CI certificate: trust anchor of EUM signatures ("" = none) */
	char eum_cert_dir[256];		/*!< EUM certificates for EumSignatures without KeyInfo ("" = none) */
	/* [es4] */
	char es4_listen[128];		/*!< host:port */
	char tls_cert[256], tls_key[256], tls_ca[256];
	uint64_t max_body;		/*!< bytes */
	char schema_dir[256];		/*!< GSMA XSDs served with our WSDL */
	char wsdl_dir[256];		/*!< our WSDLs (smsr/wsdl), served under /wsdl/ */
	/* [es3] */
	char es3_listen[128];	       /*!< ZeroMQ endpoint ("" = none) */
	char es3_public_key[41];       /*!< CURVE public key (Z85) */
	char es3_secret_key_file[256]; /*!< the secret key's file (read by the ES3 link only) */
	int64_t es3_resend_ms, es3_timeout_ms, es3_max_inflight, es3_hwm;
	/* [kannel] */
	char sendsms_url[256];
	char sendsms_user[64], sendsms_password[64];
	char smsc_id[64];
	char mo_listen[128];		/*!< host:port of our MO/DLR listener */
	char mo_url[256];		/*!< base URL Kannel calls for MO and DLR */
	int64_t smsc_throughput;	/*!< SMS per second per SMSC, 0 = unlimited */
	int64_t dlr_mask;		/*!< Kannel dlr-mask, 1..31 */
	int64_t sendsms_parallel;	/*!< sendsms requests in flight */
	/* [es5] */
	char spi[8], kic[4], kid[4], tar[8];	/*!< hex */
	int64_t por_timeout_ms;
	int64_t dlr_timeout_ms;
	int64_t retries;
	int64_t notification_timeout_ms;
	/* [log] */
	char log_level[16];
	bool log_syslog;
	bool log_timestamps;
	char log_categories[256];	/*!< "DOTA=debug,DSOAP=notice" */
	/* [requester NAME] */
	struct smsr_cfg_requester requesters[SMSR_CFG_MAX_REQUESTERS];
	unsigned n_requesters;
};

/*! Fill every field with its default. */
void smsr_config_defaults(struct smsr_config *c);

/*! Parse path into c (defaults first). On error returns -EINVAL and writes "file:line: reason" into err. */
int smsr_config_load(struct smsr_config *c, const char *path, char *err, size_t err_len);
/*! Same from a string (tests); name is used in error messages. */
int smsr_config_parse(struct smsr_config *c, const char *name, const char *text, char *err, size_t err_len);

/*! Cross-field validation (addresses, OIDs, hex fields, requesters). 0 or -EINVAL with the reason in err. */
int smsr_config_validate(const struct smsr_config *c, char *err, size_t err_len);

/*! Write the effective configuration, every item with its help text as a comment. */
void smsr_config_write(const struct smsr_config *c, FILE *out);

/*! The requester with this TLS subject or fingerprint, or NULL. */
const struct smsr_cfg_requester *smsr_config_requester_by_tls(const struct smsr_config *c, const char *subject,
								const char *fingerprint);
/*! The requester of this [requester NAME] section, or NULL. */
const struct smsr_cfg_requester *smsr_config_requester_by_name(const struct smsr_config *c, const char *name);
/*! The requester with this entity OID, or NULL. */
const struct smsr_cfg_requester *smsr_config_requester_by_oid(const struct smsr_config *c, const char *oid);

/*! Apply the [log] section: program name prog, level, syslog, timestamps and per-category levels. 0, or -EINVAL
 *  with err naming the bad entry. */
int smsr_config_apply_logging(const struct smsr_config *c, const char *prog, char *err, size_t err_len);
