/* smsr/kannel: MO/DLR callback parsing (binary-safe, strict), sendsms URL encoding, and the sender against a real
 * HTTP peer on loopback standing in for smsbox: outcomes accepted / rejected / unreachable, every byte of UDH and
 * data arriving intact, our DLR token in the dlr-url, and throughput pacing. The end-to-end path through real
 * Kannel is covered by the euicc-sim integration test. */
#include <math.h>
#include <time.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "tests/testlib.h"
#include "smsr/kannel.h"
#include "smsr/https.h"
#include "smsr/logging.h"

static void test_mo_parse(void)
{
	struct smsr_kannel_mo mo;
	struct smsr_kannel_dlr dlr;

	/* as Kannel sends it: %u url-encoded UDH (q = 0x71), %e hex body */
	CHECK_RC(smsr_kannel_mo_parse("from=%2B491700000001&to=1001&udh=%02q%00&data=000E0A00FF807F&smsc=fake1"
				      "&ts=1700000000", &mo), 0);
	CHECK(!strcmp(mo.from, "+491700000001") && !strcmp(mo.to, "1001") && !strcmp(mo.smsc, "fake1") &&
	      mo.ts == 1700000000 && mo.udh_len == 3, "mo fields");
	CHECK_HEX(mo.ud, mo.ud_len, "027100000e0a00ff807f", "mo ud");
	CHECK_RC(smsr_kannel_mo_parse("from=4917&to=1001&data=6869", &mo), 0);
	CHECK(mo.udh_len == 0 && mo.ud_len == 2, "mo without udh");
	CHECK_RC(smsr_kannel_mo_parse("from=4917&to=1001&b=hi&e=6869", &mo), 0);
	CHECK(mo.udh_len == 0 && mo.ud_len == 2, "mo without udh");
	CHECK_RC(smsr_kannel_mo_parse("to=1001&data=00", &mo), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_mo_parse("from=&to=1001&data=00", &mo), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_mo_parse("from=1&to=1001&data=0", &mo), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_mo_parse("from=1&to=1001&data=0g", &mo), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_mo_parse("from=1&to=1001&udh=%05q%00&data=00", &mo), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_mo_parse("from=1&to=1001&udh=%0&data=00", &mo), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_mo_parse("from=1%00&to=1001&data=00", &mo), -PROTO_E_MALFORMED);
	{
		char q[600];
		int n = snprintf(q, sizeof(q), "from=1&to=2&udh=%%02p%%00&data=");
		memset(q + n, '0', 276);	/* 3 + 138 octets > 140 */
		q[n + 276] = 0;
		CHECK_RC(smsr_kannel_mo_parse(q, &mo), -PROTO_E_MALFORMED);
		q[n + 274] = 0;			/* 3 + 137 = 140 */
		CHECK_RC(smsr_kannel_mo_parse(q, &mo), 0);
	}
	CHECK_RC(smsr_kannel_dlr_parse("tok=op42.3&type=8&fid=", &dlr), 0);
	CHECK(!strcmp(dlr.token, "op42.3") && dlr.type == 8 && !dlr.fid[0], "dlr");
	CHECK_RC(smsr_kannel_dlr_parse("tok=x&type=0", &dlr), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_dlr_parse("type=1", &dlr), -PROTO_E_MALFORMED);
	CHECK_RC(smsr_kannel_dlr_parse("tok=x&type=1x", &dlr), -PROTO_E_MALFORMED);
}

static const struct smsr_kannel_cfg base_cfg = {
	.sendsms_url = "http://127.0.0.1:13013/cgi-bin/sendsms", .username = "ota", .password = "otapw",
	.from = "1001", .dlr_base_url = "http://127.0.0.1:18080", .dlr_mask = 31,
};

static void test_url(void)
{
	void *ctx = talloc_named_const(NULL, 0, "url");
	static const uint8_t ud[] = { 0x02, 0x70, 0x00, 0x00, 0x2b, 0x0a, 0x0d, 0x20, 0x25, 0x2b, 0x26, 0x3d, 0xff };
	char *u = smsr_kannel_sendsms_url(ctx, &base_cfg, "+491700000001", ud, sizeof(ud), 3, "op1.0");

	CHECK(u && !strcmp(u, "http://127.0.0.1:13013/cgi-bin/sendsms?username=ota&password=otapw&from=1001"
			       "&to=%2B491700000001&coding=1&pid=127&mclass=2&alt-dcs=1&udh=%02%70%00"
			       "&text=%00%2B%0A%0D%20%25%2B%26%3D%FF&dlr-mask=31"
			       "&dlr-url=http%3A%2F%2F127.0.0.1%3A18080%2Fdlr%3Ftok%3Dop1.0"
			       "%26type%3D%25d%26fid%3D%25F"),
	      "url: %s", u ? u : "(null)");
	CHECK(!smsr_kannel_sendsms_url(ctx, &base_cfg, "1", ud, sizeof(ud), 2, "t"), "udh length byte mismatch");
	CHECK(!smsr_kannel_sendsms_url(ctx, &base_cfg, "", ud, sizeof(ud), 3, "t"), "empty to");
	{
		uint8_t big[141] = { 0 };
		CHECK(!smsr_kannel_sendsms_url(ctx, &base_cfg, "1", big, sizeof(big), 0, "t"), "over 140 octets");
	}
	talloc_free(ctx);
}

/* ---- the sender against a loopback HTTP peer --------------------------------------------------------------- */

static int peer_code = 202;
static const char *peer_reply = "0: Accepted for delivery";
static char peer_query[2048];
static unsigned peer_hits, done_count, accepted, rejected, unreachable;
static struct event_base *base;

static void peer(struct smsr_https_req *r, void *data)
{
	peer_hits++;
	snprintf(peer_query, sizeof(peer_query), "%s", r->query);
	smsr_https_reply(r, peer_code, "text/plain", peer_reply, strlen(peer_reply), NULL);
}

static void done(enum smsr_kannel_result res, int code, const char *reply, void *data)
{
	done_count++;
	accepted += res == SMSR_KANNEL_ACCEPTED;
	rejected += res == SMSR_KANNEL_REJECTED;
	unreachable += res == SMSR_KANNEL_UNREACHABLE;
	if (done_count == *(unsigned *)data)
		event_base_loopbreak(base);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* send n SMS and run the loop until all are done (10 s at most) */
static double run(struct smsr_kannel *k, unsigned n)
{
	static const uint8_t ud[] = { 0x02, 0x70, 0x00, 0x00, 0x0d, 0x0d, 0xff, 0x00, 0x25 };
	struct timeval limit = { 10, 0 };
	unsigned i;
	double t0 = now();

	done_count = accepted = rejected = unreachable = 0;
	for (i = 0; i < n; i++)
		CHECK_RC(smsr_kannel_send(k, "491700000001", ud, sizeof(ud), 3, "tok1", done, &n), 0);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	return now() - t0;
}

static void test_sender(void)
{
	void *ctx = talloc_named_const(NULL, 0, "sender");
	struct smsr_https *srv;
	struct smsr_kannel *k;
	struct smsr_kannel_cfg cfg = base_cfg;
	char url[128];
	double t;

	base = event_base_new();
	CHECK_RC(smsr_https_new(ctx, base, "127.0.0.1:0", NULL, 65536, peer, NULL, &srv), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cgi-bin/sendsms", smsr_https_port(srv));
	cfg.sendsms_url = url;
	CHECK_RC(smsr_kannel_new(ctx, base, &cfg, &k), 0);

	run(k, 5);
	CHECK(done_count == 5 && accepted == 5 && peer_hits == 5, "accepted: %u/%u", accepted, done_count);
	CHECK(strstr(peer_query, "udh=%02%70%00&text=%00%0D%0D%FF%00%25") && strstr(peer_query, "dlr-url=") &&
	      strstr(peer_query, "tok%3Dtok1"), "query: %s", peer_query);
	peer_reply = "3: Queued for later delivery";
	run(k, 1);
	CHECK(accepted == 1, "queued counts as accepted");
	peer_code = 400;
	peer_reply = "UDH field misformed, rejected";
	run(k, 2);
	CHECK(rejected == 2 && smsr_kannel_pending(k) == 0, "rejected: %u", rejected);
	talloc_free(k);

	/* pacing: 12 SMS at 10/s take at least 1.1 s */
	peer_code = 202;
	peer_reply = "0: Accepted for delivery";
	cfg.throughput = 10;
	CHECK_RC(smsr_kannel_new(ctx, base, &cfg, &k), 0);
	t = run(k, 12);
	CHECK(accepted == 12 && t >= 1.05 && t < 3.0, "paced: %u in %.2f s", accepted, t);
	talloc_free(k);

	/* Kannel down: connection refused */
	talloc_free(srv);
	cfg.throughput = 0;
	CHECK_RC(smsr_kannel_new(ctx, base, &cfg, &k), 0);
	run(k, 3);
	CHECK(unreachable == 3, "unreachable: %u", unreachable);
	talloc_free(ctx);
	event_base_free(base);
}

int main(void)
{
	smsr_log_init("kannel_test", false, false);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_mo_parse();
	test_url();
	test_sender();
	curl_global_cleanup();
	TEST_DONE();
}
