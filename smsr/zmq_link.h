/*! \file zmq_link.h
 *  A reliable request/response link over ZeroMQ 4 for ES3 between smdpd and smsrd, driven by libevent.
 *
 *  Roles: the server (smsrd) binds a ROUTER socket, the client (smdpd) connects a DEALER whose routing id is its
 *  configured name. Both are secured with CURVE: the server admits only the public keys configured for its peers
 *  (ZAP, served in-process on the event loop) and knows each message's sender by the peer name bound to its key.
 *  Either side sends requests and answers them: the server reaches a client by name (ROUTER_MANDATORY: a peer not
 *  connected is detected, the request stays queued and is resent).
 *
 *  Message schema, version 1 (declared once, here): after the ROUTER's routing frame, exactly five frames
 *    [0] "m2m-sm/es3/1"   version
 *    [1] "req" | "rsp"    kind
 *    [2] msg-id           8 bytes big endian, chosen by the request's sender, unique per sender
 *    [3] action           request: the SOAP action (or any verb); response: a status ("200", "202", "400"...)
 *    [4] body             opaque bytes (a SOAP envelope), at most max_body
 *  Anything else is dropped with a log line.
 *
 *  Reliability: a request is kept until its response (same msg-id) comes, and sent again every resend_ms (ZeroMQ
 *  queues while disconnected; a restarted peer gets it again). Receivers see duplicates and must de-duplicate
 *  (ES3 does it by FunctionCallIdentifier; answering a duplicate again is harmless: the first response settles
 *  the request, later ones are dropped). After timeout_ms the done callback gets -ETIMEDOUT. At most max_inflight
 *  requests wait for a response: beyond that smsr_zlink_request() returns -EAGAIN (backpressure).
 *  Nothing here logs message bodies.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct smsr_zlink;

#define SMSR_ZLINK_VERSION "m2m-sm/es3/1"

/*! A client the server admits: its name (the User-Id given with its messages) and CURVE public key (Z85). */
struct smsr_zlink_peer_cfg {
	const char *name;
	const char *public_key;
};

struct smsr_zlink_cfg {
	const char *endpoint; /*!< tcp://host:port: bound (server) or connected (client) */
	bool server;
	const char *name;	/*!< client: its routing id, the name the server knows it by */
	const char *public_key; /*!< own CURVE key pair (Z85, 40 characters each) */
	const char *secret_key; /*!< own CURVE secret key (Z85), or NULL: */
	const char *secret_key_file;		 /*!< read from this file (one line, owner-only permissions) */
	const char *server_key;			 /*!< client: the server's public key */
	const struct smsr_zlink_peer_cfg *peers; /*!< server: admitted clients */
	unsigned n_peers;
	long resend_ms;	       /*!< resend an unanswered request after (default 5 s) */
	long timeout_ms;       /*!< give it up after (default 10 min) */
	unsigned max_inflight; /*!< unanswered requests (default 1000) */
	int hwm;	       /*!< ZMQ_SNDHWM / ZMQ_RCVHWM (default 10000) */
	size_t max_body;       /*!< largest body accepted (default 1 MiB) */
};

/*! A request from peer (the client's name on the server; "" on a client). Answer it, now or later, with
 *  smsr_zlink_reply(). The strings and body are valid during the call only. */
typedef void (*smsr_zlink_req_cb)(void *data, const char *peer, uint64_t msgid, const char *action, const uint8_t *body,
				  size_t len);

/*! The outcome of a request: rc 0 and the response (status in action), or -ETIMEDOUT. */
typedef void (*smsr_zlink_done_cb)(void *data, int rc, const char *action, const uint8_t *body, size_t len);

/*! Called when a request slot frees up after -EAGAIN (may be NULL). */
typedef void (*smsr_zlink_room_cb)(void *data);

/*! Create the link under ctx (a talloc destructor closes it). -EINVAL (bad keys or endpoint), -EADDRINUSE, -ENOMEM,
 *  -EIO (other ZeroMQ errors). */
int smsr_zlink_new(void *ctx, struct event_base *base, const struct smsr_zlink_cfg *cfg, smsr_zlink_req_cb on_req,
		   void *data, struct smsr_zlink **out);

/*! Send a request to peer (server: a client's name; client: NULL). done runs exactly once (unless the link is freed
 *  first), never from inside this call. -EAGAIN when max_inflight requests are waiting, -EMSGSIZE, -EINVAL. */
int smsr_zlink_request(struct smsr_zlink *l, const char *peer, uint64_t msgid, const char *action, const uint8_t *body,
		       size_t len, smsr_zlink_done_cb done, void *data);

/*! Answer the request msgid of peer with a status and body. 0 or -EIO / -EHOSTUNREACH (the peer will resend). */
int smsr_zlink_reply(struct smsr_zlink *l, const char *peer, uint64_t msgid, const char *status, const uint8_t *body,
		     size_t len);

/*! Requests waiting for a response. */
unsigned smsr_zlink_inflight(const struct smsr_zlink *l);

/*! Be told when a request slot frees up. */
void smsr_zlink_set_room_cb(struct smsr_zlink *l, smsr_zlink_room_cb cb, void *data);

/*! The TCP port the server bound (for endpoints with port 0 or "*"), or -1. */
int smsr_zlink_port(const struct smsr_zlink *l);

/*! A fresh CURVE key pair (Z85, NUL-terminated). 0 or -EIO. */
int smsr_zlink_keypair(char pub[41], char sec[41]);

/*! Counters for tests and logs. */
struct smsr_zlink_stats {
	uint64_t sent, resent, received, replies, dropped, refused_auth;
};
const struct smsr_zlink_stats *smsr_zlink_stats(const struct smsr_zlink *l);
