/*! \file es2_server.h
 *  The SM-DP's ES2 endpoint for MNOs (sgp02.md §2.3; SOAP conventions as ES4: mutual TLS, the requester
 *  identified by its client certificate, WS-Addressing, bodies valid against euicc.request.ES2.xsd).
 *
 *  - DownloadProfile, EnableProfile, DisableProfile, DeleteProfile: journalled orders (download.h), answered 202;
 *    the result goes to the MNO as the ES2 callback.
 *  - GetEIS, UpdatePolicyRules, UpdateSubscriptionAddress: relayed synchronously to the SM-SR over ES3; the HTTP
 *    answer waits for the SM-SR's (bounded by the ES3 timeout). GetEIS answers the MNO's view of the EIS.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct smsr_https_req;
struct smsr_soap_entity;
struct smdp_dl;
struct smdp_es2;

struct smsr_cfg_requester;

/*! The requester (an MNO) of a client certificate, or NULL. */
typedef const struct smsr_cfg_requester *(*smdp_es2_lookup_cb)(void *data, const char *subject,
							       const char *fingerprint);

/*! ES3 for the synchronous relays: send with a tag; answers come back through smdp_es2_es3_answer(). */
typedef int (*smdp_es2_es3_send_cb)(void *data, uint64_t tag, const char *action, const uint8_t *body, size_t len);

int smdp_es2_new(void *ctx, const struct smsr_soap_entity *self, const char *smsr_id, const char *es3_to,
		 size_t max_body, struct smdp_dl *dl, smdp_es2_lookup_cb lookup, void *lookup_data,
		 smdp_es2_es3_send_cb es3_send, void *es3_data, long es3_timeout_ms, struct event_base *base,
		 struct smdp_es2 **out);

/*! Handle one HTTP request of the ES2 endpoint (answers it, possibly later). */
void smdp_es2_handle(struct smdp_es2 *e, struct smsr_https_req *r);

/*! Tags of ES3 requests sent by this module have this bit set. */
#define SMDP_ES2_TAG_BIT (1ull << 63)

/*! The ES3 answer to a relay (code 200 + envelope, or < 0 when none came). */
void smdp_es2_es3_answer(struct smdp_es2 *e, uint64_t tag, int code, const uint8_t *body, size_t len);
