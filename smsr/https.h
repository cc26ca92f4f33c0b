/*! \file https.h
 *  The daemons' HTTP(S) servers on libevent's evhttp: the ES1/ES4 SOAP endpoint (TLS 1.2+, mutual TLS: the
 *  client certificate must chain to the configured CA and identifies the requester) and the plain-HTTP MO/DLR
 *  listener Kannel calls on loopback. Bodies are bounded (413 beyond max_body); the listen backlog is large
 *  because smsbox opens hundreds of callback connections in bursts (kannel.md §10).
 *
 *  The handler runs on the event loop and must answer every request exactly once with smsr_https_reply() before
 *  it returns (work that must be durable first, such as an LMDB write, is done synchronously).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct event_base;
struct evhttp_request;
struct smsr_https;

/*! One request as the handler sees it. Strings are valid until the reply. */
struct smsr_https_req {
	const char *method;		/*!< "GET", "POST", ... */
	const char *uri;		/*!< path and query as received */
	const char *path;		/*!< decoded path without the query */
	const char *query;		/*!< raw query string, or "" */
	const uint8_t *body;
	size_t body_len;
	const char *content_type;	/*!< or "" */
	const char *peer_subject;	/*!< verified client certificate subject (RFC 2253) or NULL */
	const char *peer_fingerprint;	/*!< SHA-256 of the client certificate, lower-case hex, or NULL */
	const char *peer_addr;		/*!< "127.0.0.1:54321" */
	struct evhttp_request *ev;	/*!< libevent request (opaque); NULL once the client is gone */
};

typedef void (*smsr_https_handler)(struct smsr_https_req *r, void *data);

/*! TLS settings; cert NULL = plain HTTP. ca non-NULL = require and verify client certificates against it. */
struct smsr_https_tls {
	const char *cert;
	const char *key;
	const char *ca;
};

/*! Listen on host:port ("127.0.0.1:0" picks a free port; see smsr_https_port()). -EADDRINUSE, -EINVAL (bad address
 *  or TLS files, with a log line), -ENOMEM. The server is a talloc child of ctx. */
int smsr_https_new(void *ctx, struct event_base *base, const char *listen, const struct smsr_https_tls *tls,
		   size_t max_body, smsr_https_handler handler, void *data, struct smsr_https **out);

/*! The port actually bound. */
int smsr_https_port(const struct smsr_https *s);

/*! Answer a request: status code, content type (NULL for none), body (may be empty), extra header pairs
 *  {name, value, ..., NULL} or NULL. */
void smsr_https_reply(struct smsr_https_req *r, int code, const char *content_type, const void *body, size_t len,
		      const char *const *headers);

/*! Value of a request header, or NULL. */
const char *smsr_https_header(const struct smsr_https_req *r, const char *name);
