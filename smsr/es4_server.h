/*! \file es4_server.h
 *  The ES1/ES4 SOAP endpoint of the SM-SR: authenticates the requester by its TLS client certificate (mapped to
 *  its entity OID by the [requester] sections of the configuration), decodes the request, runs the pre-checks of
 *  sgp02.md §4.2 and answers. Synchronous functions (ES1.RegisterEIS, ES4 GetEIS, UpdatePolicyRules,
 *  UpdateSubscriptionAddress) are executed here against the store, in one write transaction each, before the
 *  response is sent. Each MNO sees only its own profiles and never key material.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct smsrd;
struct smsr_https_req;
struct smsr_es4;
struct ota_key;
struct smsr_cfg_requester;

/*! transport_key: the EUM transport key that protects key values inside registered EIS (NULL: RegisterEIS with
 *  keys is refused). */
int smsr_es4_new(void *ctx, struct smsrd *d, struct ota_key *transport_key, struct smsr_es4 **out);

/*! Handle one HTTP request of the ES1/ES4 endpoint (answers it). */
void smsr_es4_handle(struct smsr_es4 *e, struct smsr_https_req *r);

/*! The answer to one request: an HTTP-like code (200 response, 202 accepted, 4xx/5xx fault or text) and body. */
typedef void (*smsr_es4_reply_cb)(void *data, int code, const uint8_t *body, size_t len);

/*! One SOAP request from a requester authenticated by its transport (the ES3 ZeroMQ link: who from the CURVE key;
 *  NULL = unknown): the same decoding, checks and handlers as over HTTPS. fn is called exactly once, before this
 *  returns; peer names the sender in log lines. */
void smsr_es4_handle_msg(struct smsr_es4 *e, const struct smsr_cfg_requester *who, const char *peer,
			 const uint8_t *body, size_t len, smsr_es4_reply_cb fn, void *data);
