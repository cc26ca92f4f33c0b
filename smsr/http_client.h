/*! \file http_client.h
 *  Asynchronous HTTP(S) client on the libevent loop (libcurl multi underneath): the Kannel sendsms GETs and the
 *  SOAP callbacks and notifications POSTed to MNOs over mutual TLS.
 *
 *  Requests are queued; at most max_inflight run in parallel and at most throughput are started per second.
 *  Only http and https are spoken, TLS 1.2 at least, server certificates and host names are always verified,
 *  redirects are never followed. libcurl's errors are mapped to negative errno values here and nowhere else.
 *
 *  Each request that gets no HTTP answer is logged once (category cfg.log_cat, level NOTICE) with its method,
 *  scheme, host, port and path: never its query, user info, headers or bodies, which may carry private data
 *  (the Kannel password is in the sendsms query). HTTP status codes are the caller's to judge and log.
 *
 *  Lifetime: the client is a talloc child of the ctx given to smsr_http_client_new(). Freeing it cancels every
 *  queued and in-flight request without calling their callbacks; this is allowed from inside a callback too.
 *  The event base must outlive the client.
 */
#pragma once
#include <stddef.h>
#include "smsr/logging.h"

struct event_base;
struct smsr_http_client;

/*! Largest response body kept; the rest is read and dropped. */
#define SMSR_HTTP_BODY_MAX (64 * 1024)

/*! Settings of a client. Strings are copied. */
struct smsr_http_client_cfg {
	unsigned max_inflight;		/*!< parallel requests, 0 = 32 */
	unsigned throughput;		/*!< requests started per second, 0 = unlimited */
	long timeout_ms;		/*!< per request, from its start (connect included), 0 = 10000 */
	const char *tls_cert, *tls_key;	/*!< PEM client certificate and key for https (NULL = none) */
	const char *tls_ca;		/*!< PEM CA bundle, the only one trusted for servers (NULL = system) */
	enum smsr_log_cat log_cat;	/*!< category of the client's log lines (0 = DMAIN) */
};

/*! Create a client. 0, -EINVAL (bad cfg: a key without a certificate or the reverse), -ENOMEM. */
int smsr_http_client_new(void *ctx, struct event_base *base, const struct smsr_http_client_cfg *cfg,
			 struct smsr_http_client **out);

/*! Outcome of one request.
 *  rc 0: an HTTP answer came; http_code is its status and body (never NULL, NUL-terminated, len excludes the NUL)
 *  holds its first SMSR_HTTP_BODY_MAX octets, valid during the call only.
 *  rc < 0: no answer (http_code 0, body "" and len 0): -ECONNREFUSED (nothing listening), -ETIMEDOUT (timeout_ms
 *  passed), -EHOSTUNREACH (unknown or unreachable host), -EPROTO (TLS failure: handshake, server certificate not
 *  trusted, our certificate or key unusable), -EIO otherwise (connection reset, empty reply, local failure; also
 *  a server refusing our certificate under TLS 1.3, whose alert comes after the handshake, on the first read).
 *  Called exactly once, from the event loop, never from inside smsr_http_request(), unless the client is freed
 *  first. The callback may queue new requests and may free the client. */
typedef void (*smsr_http_done_cb)(void *data, int rc, long http_code, const char *body, size_t len);

/*! Queue one request. method "GET" or "POST"; url http://... or https://...; headers a NULL-terminated array of
 *  "Name: value" strings or NULL; body (POST only, may be empty) is copied, as are url and headers.
 *  0 (done will be called), -EINVAL (other method or scheme, body with GET, a header without ':' or with CR/LF),
 *  -ENOMEM. */
int smsr_http_request(struct smsr_http_client *c, const char *method, const char *url, const char *const *headers,
		      const void *body, size_t len, smsr_http_done_cb done, void *data);

/*! Requests queued or in flight whose callback has not been called yet. */
unsigned smsr_http_client_pending(const struct smsr_http_client *c);
