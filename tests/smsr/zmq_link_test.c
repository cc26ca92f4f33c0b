/* The ES3 ZeroMQ link (smsr/zmq_link.c) over real sockets on 127.0.0.1: requests both ways, CURVE admission by key,
 * resends across a server restart, timeouts, backpressure, malformed and oversized messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <zmq.h>
#include <event2/event.h>
#include "testlib.h"
#include "smsr/zmq_link.h"
#include "smsr/logging.h"

static struct event_base *base;

struct side {
	struct smsr_zlink *l;
	unsigned reqs; /* requests received */
	uint64_t last_msgid;
	char last_action[64];
	char last_peer[64];
	size_t last_len;
	bool answer;	   /* answer requests at once */
	unsigned dup_of_7; /* times msgid 7 arrived */
};

struct result {
	int done;
	int rc;
	char action[16];
	char body[64];
};

static void on_req(void *data, const char *peer, uint64_t msgid, const char *action, const uint8_t *body, size_t len)
{
	struct side *s = data;

	s->reqs++;
	s->last_msgid = msgid;
	s->last_len = len;
	snprintf(s->last_action, sizeof(s->last_action), "%s", action);
	snprintf(s->last_peer, sizeof(s->last_peer), "%s", peer);
	if (msgid == 7)
		s->dup_of_7++;
	if (s->answer)
		smsr_zlink_reply(s->l, peer, msgid, "200", (const uint8_t *)"pong", 4);
}

static void on_done(void *data, int rc, const char *action, const uint8_t *body, size_t len)
{
	struct result *r = data;

	r->done++;
	r->rc = rc;
	snprintf(r->action, sizeof(r->action), "%s", action ? action : "");
	snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body ? (const char *)body : "");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* run the loop until *flag becomes non-zero or ms elapse */
static void run_until(const int *flag, long ms)
{
	int64_t end = now_ms() + ms;
	struct timeval tv = {0, 20000};

	while (!*flag && now_ms() < end) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static void run_for(long ms)
{
	int never = 0;

	run_until(&never, ms);
}

static char srv_pub[41], srv_sec[41], cli_pub[41], cli_sec[41], bad_pub[41], bad_sec[41], raw_pub[41], raw_sec[41];
static char endpoint[64];

static struct smsr_zlink *s_server(void *ctx, struct side *s, size_t max_body)
{
	struct smsr_zlink_peer_cfg peers[] = {{"smdp1", cli_pub}, {"raw", raw_pub}};
	struct smsr_zlink_cfg c = {.endpoint = endpoint,
				   .server = true,
				   .public_key = srv_pub,
				   .secret_key = srv_sec,
				   .peers = peers,
				   .n_peers = 2,
				   .resend_ms = 300,
				   .timeout_ms = 3000,
				   .max_body = max_body};
	int rc = smsr_zlink_new(ctx, base, &c, on_req, s, &s->l);

	CHECK(rc == 0, "server on %s: %d", endpoint, rc);
	return rc ? NULL : s->l;
}

static struct smsr_zlink *s_client(void *ctx, struct side *s, const char *pub, const char *sec, unsigned inflight)
{
	struct smsr_zlink_cfg c = {.endpoint = endpoint,
				   .name = "smdp1",
				   .public_key = pub,
				   .secret_key = sec,
				   .server_key = srv_pub,
				   .resend_ms = 300,
				   .timeout_ms = 3000,
				   .max_inflight = inflight};
	int rc = smsr_zlink_new(ctx, base, &c, on_req, s, &s->l);

	CHECK(rc == 0, "client: %d", rc);
	return rc ? NULL : s->l;
}

static unsigned room;
static void on_room(void *data)
{
	room++;
}

int main(void)
{
	void *ctx = talloc_new(NULL);
	struct side srv = {.answer = true}, cli = {0}, bad = {0};
	struct result r = {0}, r2 = {0}, r3 = {0};
	void *zctx;
	int port;

	smsr_log_init("zmq_link_test", false, false);
	base = event_base_new();
	CHECK(smsr_zlink_keypair(srv_pub, srv_sec) == 0 && smsr_zlink_keypair(cli_pub, cli_sec) == 0 &&
		      smsr_zlink_keypair(bad_pub, bad_sec) == 0 && smsr_zlink_keypair(raw_pub, raw_sec) == 0,
	      "key pairs");
	/* a free port: bind to an ephemeral one first */
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:*");
	if (!s_server(ctx, &srv, 4096))
		goto out;
	port = smsr_zlink_port(srv.l);
	CHECK(port > 0, "bound port %d", port);
	snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", port);
	if (!s_client(ctx, &cli, cli_pub, cli_sec, 2))
		goto out;

	/* client -> server, answered at once */
	CHECK(smsr_zlink_request(cli.l, NULL, 1, "ping", (const uint8_t *)"hello", 5, on_done, &r) == 0, "request 1");
	CHECK(r.done == 0, "done never runs inside the call");
	run_until(&r.done, 3000);
	CHECK(r.done == 1 && r.rc == 0 && !strcmp(r.action, "200") && !strcmp(r.body, "pong"), "answer: %d %s %s", r.rc,
	      r.action, r.body);
	CHECK(srv.reqs == 1 && !strcmp(srv.last_peer, "smdp1") && !strcmp(srv.last_action, "ping") && srv.last_len == 5,
	      "server saw it from smdp1 (peer '%s')", srv.last_peer);

	/* server -> client by name, answered later */
	memset(&r, 0, sizeof(r));
	CHECK(smsr_zlink_request(srv.l, "smdp1", 2, "callback", (const uint8_t *)"x", 1, on_done, &r) == 0, "callback");
	{
		int got = 0;
		int64_t end = now_ms() + 3000;
		while (!cli.reqs && now_ms() < end)
			run_for(20);
		got = cli.reqs;
		CHECK(got == 1 && cli.last_msgid == 2 && !strcmp(cli.last_peer, ""), "client got the callback");
		run_for(100);
		CHECK(r.done == 0, "not answered yet");
		CHECK(smsr_zlink_reply(cli.l, NULL, 2, "200", NULL, 0) == 0, "late reply");
		run_until(&r.done, 3000);
		CHECK(r.done == 1 && r.rc == 0 && !strcmp(r.action, "200"), "server got the late answer");
	}

	/* backpressure: 2 in flight at most */
	srv.answer = false;
	memset(&r, 0, sizeof(r));
	smsr_zlink_set_room_cb(cli.l, on_room, NULL);
	CHECK(smsr_zlink_request(cli.l, NULL, 7, "a", (const uint8_t *)"1", 1, on_done, &r) == 0 &&
		      smsr_zlink_request(cli.l, NULL, 8, "b", (const uint8_t *)"2", 1, on_done, &r2) == 0,
	      "two requests");
	CHECK(smsr_zlink_request(cli.l, NULL, 9, "c", (const uint8_t *)"3", 1, on_done, &r3) == -EAGAIN &&
		      smsr_zlink_inflight(cli.l) == 2,
	      "third refused with -EAGAIN");
	/* the server restarts while 7 and 8 are unanswered: both are resent to the new one */
	run_for(200);
	talloc_free(srv.l);
	srv.l = NULL;
	run_for(400);
	srv.answer = true;
	srv.dup_of_7 = 0;
	if (!s_server(ctx, &srv, 4096))
		goto out;
	run_until(&r2.done, 4000);
	run_until(&r.done, 1000);
	CHECK(r.done == 1 && r.rc == 0 && r2.done == 1 && r2.rc == 0, "both answered by the restarted server");
	CHECK(srv.dup_of_7 >= 1, "the new server received request 7 (%u times)", srv.dup_of_7);
	CHECK(room >= 1 && smsr_zlink_inflight(cli.l) == 0, "room again (%u)", room);

	/* a client with an unknown key gets nothing through */
	{
		unsigned before = srv.reqs;
		const struct smsr_zlink_stats *st = smsr_zlink_stats(srv.l);
		memset(&r3, 0, sizeof(r3));
		if (s_client(ctx, &bad, bad_pub, bad_sec, 10)) {
			CHECK(smsr_zlink_request(bad.l, NULL, 1, "ping", (const uint8_t *)"x", 1, on_done, &r3) == 0,
			      "request with an unknown key");
			run_until(&r3.done, 5000);
			CHECK(r3.done == 1 && r3.rc == -ETIMEDOUT, "it timed out (%d)", r3.rc);
			CHECK(srv.reqs == before && st->refused_auth >= 1, "the server refused the key (%llu)",
			      (unsigned long long)st->refused_auth);
			talloc_free(bad.l);
		}
	}

	/* sizes: max_body passes, one more byte is refused by the sender; a malformed message is dropped */
	{
		static uint8_t big[4097];
		const struct smsr_zlink_stats *st = smsr_zlink_stats(srv.l);
		uint64_t dropped;
		void *raw;
		int one = 1;

		memset(big, 'B', sizeof(big));
		memset(&r, 0, sizeof(r));
		CHECK(smsr_zlink_request(cli.l, NULL, 20, "big", big, 4096, on_done, &r) == 0, "body at the limit");
		run_until(&r.done, 3000);
		CHECK(r.done && r.rc == 0 && srv.last_len == 4096, "4096 bytes went through");
		/* the client's own limit is the default 1 MiB: the server refuses what exceeds its 4096 */
		memset(&r, 0, sizeof(r));
		dropped = st->dropped;
		CHECK(smsr_zlink_request(cli.l, NULL, 21, "big", big, 4097, on_done, &r) == 0, "body over the limit");
		run_for(800);
		CHECK(!r.done && st->dropped > dropped, "dropped by the server (%llu)",
		      (unsigned long long)st->dropped);
		/* a CURVE-authenticated peer sending a wrong version frame */
		zctx = zmq_ctx_new();
		raw = zmq_socket(zctx, ZMQ_DEALER);
		zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, srv_pub, 40);
		zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, raw_pub, 40);
		zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, raw_sec, 40);
		zmq_setsockopt(raw, ZMQ_ROUTING_ID, "raw", 3);
		zmq_setsockopt(raw, ZMQ_LINGER, &one, sizeof(one));
		dropped = st->dropped;
		if (zmq_connect(raw, endpoint) == 0) {
			zmq_send(raw, "m2m-sm/es3/9", 12, ZMQ_SNDMORE);
			zmq_send(raw, "req", 3, ZMQ_SNDMORE);
			zmq_send(raw, "12345678", 8, ZMQ_SNDMORE);
			zmq_send(raw, "x", 1, ZMQ_SNDMORE);
			zmq_send(raw, "y", 1, 0);
			run_for(800);
			CHECK(st->dropped > dropped, "wrong version dropped");
		}
		zmq_close(raw);
		/* a routing id that is not the name the key was admitted under */
		raw = zmq_socket(zctx, ZMQ_DEALER);
		zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, srv_pub, 40);
		zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, raw_pub, 40);
		zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, raw_sec, 40);
		zmq_setsockopt(raw, ZMQ_ROUTING_ID, "mallory", 7);
		zmq_setsockopt(raw, ZMQ_LINGER, &one, sizeof(one));
		dropped = st->dropped;
		{
			unsigned before = srv.reqs;
			if (zmq_connect(raw, endpoint) == 0) {
				zmq_send(raw, SMSR_ZLINK_VERSION, strlen(SMSR_ZLINK_VERSION), ZMQ_SNDMORE);
				zmq_send(raw, "req", 3, ZMQ_SNDMORE);
				zmq_send(raw, "12345678", 8, ZMQ_SNDMORE);
				zmq_send(raw, "x", 1, ZMQ_SNDMORE);
				zmq_send(raw, "y", 1, 0);
				run_for(800);
				CHECK(st->dropped > dropped && srv.reqs == before, "spoofed routing id dropped");
			}
		}
		zmq_close(raw);
		zmq_ctx_term(zctx);
		memset(&r, 0, sizeof(r));
		CHECK(smsr_zlink_request(cli.l, NULL, 22, "ping", (const uint8_t *)"ok", 2, on_done, &r) == 0, "after");
		run_until(&r.done, 3000);
		CHECK(r.done && r.rc == 0, "the link still works");
	}
out:
	talloc_free(ctx);
	event_base_free(base);
	TEST_DONE();
}
