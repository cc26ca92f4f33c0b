/*! \file es3_zmq.h
 *  ES3 for SM-DPs over the ZeroMQ link (zmq_link.h): each request envelope goes through the same decoding, checks
 *  and handlers as over HTTPS (smsr_es4_handle_msg), its answer goes back as the link's reply with the HTTP-like
 *  code as the reply's action ("200" response, "202" accepted, "4xx"/"5xx" refused). The SM-DP is the requester
 *  whose [requester NAME] has the CURVE public key the link authenticated. Asynchronous results and notifications
 *  for callback addresses "zmq:NAME" go to that SM-DP as link requests; its reply acknowledges them.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct smsrd;
struct smsr_es3_zmq;

/*! The link's answer to a callback: rc 0 (acknowledged) or a negative errno (not delivered). */
typedef void (*smsr_es3_zmq_done_cb)(void *data, int rc);

/*! Bind [es3] zmq-listen (nothing to do, 0 and *out NULL, when it is empty). */
int smsr_es3_zmq_new(void *ctx, struct smsrd *d, struct smsr_es3_zmq **out);

/*! Send a callback or notification envelope to the SM-DP named in url "zmq:NAME". done runs exactly once (later). */
int smsr_es3_zmq_post(struct smsr_es3_zmq *z, const char *url, const char *action, const uint8_t *body, size_t len,
		      smsr_es3_zmq_done_cb done, void *data);
