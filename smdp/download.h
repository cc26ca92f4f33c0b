/*! \file download.h
 *  The SM-DP's journalled procedures (sgp02.md §6.7): ES2.DownloadProfile as an explicit state machine, and the
 *  ES2 functions relayed to the SM-SR over ES3 (Enable/Disable/DeleteProfile).
 *
 *  A DownloadProfile order is accepted (checked, its ICCID reserved in the pool, journalled) before the MNO gets
 *  its 202; from then on it survives any restart. States (journalled; each ES3 step has its own timeout):
 *
 *    GET_EIS -> CREATE_ISDP -> ES8 (KEYEST1, KEYEST2, LOAD: ES3.SendData each) -> COMPLETED
 *      -> [ENABLE] -> CALLBACK -> DONE
 *    any failure after CREATE_ISDP -> CLEANUP (ES3.DeleteISDP: no orphan ISD-P) -> CALLBACK (FAILED) -> DONE
 *
 *  The ES8 session (ephemeral key, SCP03 session keys) lives in memory only: an order found in ES8 after a restart
 *  goes through CLEANUP and, while attempts are left, starts again at CREATE_ISDP (each attempt has its own
 *  FunctionCallIdentifiers, so the SM-SR's idempotency never replays the old ISD-P). The pool record is committed
 *  (USED) when the profile is on the card, released when the order fails with the ISD-P deleted.
 *
 *  ES3 runs over a transport given as callbacks (the ZeroMQ link in smdpd, anything in tests): requests go out as
 *  SOAP envelopes with wsa:ReplyTo, synchronous answers and asynchronous callbacks come back as envelopes and are
 *  matched to the order by RelatesTo.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "smdp/es8.h"

struct event_base;
struct smsr_es_req;
struct smsr_soap_entity;
struct ota_eckey;
struct proto_ec_pub;
struct smdp_dl;
struct smdp_db;

/*! One MNO known to the SM-DP (ES2 requester). */
struct smdp_dl_mno {
	const char *entity_id;
	const char *callback_url; /*!< ES2 results and notifications when the request had no wsa:ReplyTo */
};

/*! Where profiles come from (the profile store and ICCID pools; smdpd wires smdp/db + smdp/saip). */
struct smdp_dl_profiles {
	/*! Reserve a pool record for order (iccid "" = the next free one of the type) of MNO mno's profile type:
	 *  0 and the ICCID, IMSI and RequiredMemory; -ENOENT (no such profile type for this MNO / ICCID not in the
	 *  pool), -EBUSY (ICCID taken), -ENOSPC (pool empty). Idempotent per order id. Nothing is deciphered here. */
	int (*reserve)(void *data, uint64_t order, const char *mno, const char *type, const char *iccid,
		       char iccid_out[21], char imsi_out[16], uint64_t *required_memory);
	/*! The package of order's reserved record, personalised (Ki and OPc in it): a talloc child of ctx that the
	 *  caller wipes. */
	int (*package)(void *data, void *ctx, uint64_t order, const char *mno, const char *type, uint8_t **pkg,
		       size_t *pkg_len);
	/*! The order's record is on a card (USED) or free again (released). */
	void (*commit)(void *data, uint64_t order, bool used);
	void *data;
};

/*! ES3 transport: send one request envelope. The answer comes back through smdp_dl_es3_answer() (code 200 with a
 *  response envelope, 202 accepted, other codes refused or lost) and a callback later through
 *  smdp_dl_es3_callback(). Returns 0 or a negative errno (-EAGAIN: backpressure, retried later). */
struct smdp_dl_es3 {
	int (*send)(void *data, uint64_t tag, const char *action, const uint8_t *body, size_t len);
	const char *to;	      /*!< wsa:To of the SM-SR */
	const char *reply_to; /*!< our wsa:ReplyTo for callbacks, e.g. "zmq:smdp1" */
	void *data;
};

/*! ES2 results to MNOs: post a callback / notification envelope; done later through smdp_dl_mno_posted(). */
struct smdp_dl_mno_out {
	int (*post)(void *data, uint64_t tag, const char *url, const char *action, const uint8_t *body, size_t len);
	void *data;
};

struct smdp_dl_cfg {
	const char *smsr_id; /*!< the SM-SR this SM-DP works with (Smsr-id of ES2 requests) */
	struct smdp_es8_cfg es8;
	long create_isdp_timeout_ms;
	long send_data_timeout_ms;
	long download_timeout_ms; /*!< whole order (ES2 ValidityPeriod when smaller) */
	long enable_timeout_ms;
	long es3_sync_timeout_ms; /*!< answer to any ES3 request */
	unsigned max_attempts;	  /*!< download attempts of one order (restart, transient failure) */
	unsigned max_parallel;	  /*!< orders running at once; more wait in the journal */
	const struct smdp_dl_mno *mnos;
	unsigned n_mnos;
};

void smdp_dl_cfg_default(struct smdp_dl_cfg *c);

/*! Hooks for tests: how far orders got (for progress bars and timelines). */
struct smdp_dl_stats {
	uint64_t accepted, done, failed, es3_requests, send_data, profile_bytes;
};

/*! self: our SOAP identity. sk_dp / cert_dp: SK.DP.ECDSA and CERT.DP.ECDSA. pk_eum: the EUM key that signs
 *  CERT.ECASD.ECKA. db: the order journal (smdp/db.h). */
int smdp_dl_new(void *ctx, struct event_base *base, struct smdp_db *db, const struct smdp_dl_cfg *cfg,
		const struct smsr_soap_entity *self, struct ota_eckey *sk_dp, const uint8_t *cert_dp, size_t cert_len,
		const struct proto_ec_pub *pk_eum, const struct smdp_dl_profiles *prof, const struct smdp_dl_es3 *es3,
		const struct smdp_dl_mno_out *mno_out, struct smdp_dl **out);

/*! The result of accepting an ES2 request. */
struct smdp_dl_accept {
	bool refused; /*!< answer FAILED now (code/message); else 202 */
	int code;     /*!< enum smsr_sc */
	const char *message;
	const char *subject_id;
};

/*! ES2 DownloadProfile / EnableProfile / DisableProfile / DeleteProfile from MNO mno (entity id): journalled
 *  before return (0 and a->refused false: answer 202), or refused (a->refused, answer FAILED), or -errno (store
 *  failure: answer a provider error). A retry (same requester and FunctionCallIdentifier) is accepted again. */
int smdp_dl_accept(struct smdp_dl *dl, const struct smsr_es_req *req, const char *mno, struct smdp_dl_accept *a);

/*! Resume the journalled orders after a restart; returns how many. */
int smdp_dl_recover(struct smdp_dl *dl);

/*! The ES3 transport's answer to the request sent with tag: code 200 + envelope, 202, or <0 (-ETIMEDOUT...). */
void smdp_dl_es3_answer(struct smdp_dl *dl, uint64_t tag, int code, const uint8_t *body, size_t len);

/*! An ES3 callback envelope from the SM-SR. Returns 0 once its result is journalled (acknowledge it then),
 *  -ENOENT when no order waits for it (acknowledge anyway), -EBADMSG when it cannot be read (do not). */
int smdp_dl_es3_callback(struct smdp_dl *dl, const uint8_t *body, size_t len);

/*! The MNO acknowledged (ok) or not the envelope posted with tag. */
void smdp_dl_mno_posted(struct smdp_dl *dl, uint64_t tag, bool ok);

const struct smdp_dl_stats *smdp_dl_stats(const struct smdp_dl *dl);
