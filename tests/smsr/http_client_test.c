/* smsr/http_client: the asynchronous HTTP(S) client against real peers on 127.0.0.1 (free ports): our evhttp server
 * (smsr/https.h) plain and with mutual TLS, a raw listening socket that never accepts (timeouts), a closed port
 * (connection refused) and a small bufferevent peer that holds every request for a while (parallelism).
 * Checks: method, path, headers and binary bodies arrive intact both ways, status codes, errno mapping, client
 * certificates, server verification, max_inflight, pacing, and freeing the client with requests pending. */
#include <stdbool.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include "tests/testlib.h"
#include "smsr/http_client.h"
#include "smsr/https.h"
#include "smsr/logging.h"

static struct event_base *base;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- the evhttp peer ---------------------------------------------------------------------------------------- */

static int peer_code = 200;
static const void *peer_reply = "ok";
static size_t peer_reply_len = 2;
static unsigned peer_hits;
static struct {
	char method[8], uri[256], ctype[64], xtest[64], subject[128];
	uint8_t body[8192];
	size_t len;
} got;

static void peer(struct smsr_https_req *r, void *data)
{
	const char *h = smsr_https_header(r, "X-Test");
	static const char *const hdrs[] = { "X-Reply", "yes", NULL };

	peer_hits++;
	snprintf(got.method, sizeof(got.method), "%s", r->method);
	snprintf(got.uri, sizeof(got.uri), "%s", r->uri);
	snprintf(got.ctype, sizeof(got.ctype), "%s", r->content_type);
	snprintf(got.xtest, sizeof(got.xtest), "%s", h ? h : "");
	snprintf(got.subject, sizeof(got.subject), "%s", r->peer_subject ? r->peer_subject : "(none)");
	got.len = r->body_len < sizeof(got.body) ? r->body_len : sizeof(got.body);
	if (got.len)
		memcpy(got.body, r->body, got.len);
	smsr_https_reply(r, peer_code, "application/octet-stream", peer_reply, peer_reply_len, hdrs);
}

/* ---- outcomes ----------------------------------------------------------------------------------------------- */

struct outcome {
	int rc;
	long code;
	uint8_t *body;			/* talloc copy */
	size_t len;
	unsigned calls;
};

static unsigned done_count, want_count;
static void *octx;

static void done(void *data, int rc, long code, const char *body, size_t len)
{
	struct outcome *o = data;

	o->calls++;
	o->rc = rc;
	o->code = code;
	talloc_free(o->body);
	o->body = talloc_memdup(octx, body, len + 1);	/* the NUL too */
	o->len = len;
	if (++done_count == want_count)
		event_base_loopbreak(base);
}

/* run the loop until want requests are done or secs pass */
static double run(unsigned want, int secs)
{
	struct timeval limit = { secs, 0 };
	double t0 = now();

	want_count = want;
	if (done_count < want) {
		event_base_loopexit(base, &limit);
		event_base_dispatch(base);
	}
	return now() - t0;
}

static int one(struct smsr_http_client *c, const char *method, const char *url, const char *const *hdrs,
	       const void *body, size_t len, struct outcome *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	done_count = 0;
	rc = smsr_http_request(c, method, url, hdrs, body, len, done, o);
	CHECK(rc == 0, "request %s %s: %d", method, url, rc);
	CHECK(o->calls == 0, "callback from inside smsr_http_request()");
	run(1, 10);
	CHECK(o->calls == 1, "%s %s: %u calls", method, url, o->calls);
	return o->rc;
}

/* a free port with nothing listening */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

/* a listening socket that never accepts: connects succeed (backlog), no answer ever comes */
static int mute_listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	listen(fd, 64);
	getsockname(fd, (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return fd;
}

/* ---- plain HTTP ---------------------------------------------------------------------------------------------- */

static void test_plain(void *ctx, int port)
{
	struct smsr_http_client_cfg cfg = { .log_cat = DSOAP };
	struct smsr_http_client *c;
	struct outcome o;
	char url[256];
	uint8_t bin[3000], big_reply[SMSR_HTTP_BODY_MAX + 1000];
	static const char *const hdrs[] = { "Content-Type: application/soap+xml; charset=utf-8", "X-Test: a b:c",
					    NULL };
	static const int codes[] = { 200, 202, 204, 400, 404, 500, 503 };
	size_t i;

	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7 + (i >> 8));
	bin[0] = 0;
	bin[1] = 0xff;

	/* GET with headers; a binary reply with a NUL inside */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cgi-bin/x?a=%%00%%FF&b=1", port);
	peer_reply = "\0r\xffz";
	peer_reply_len = 4;
	CHECK_RC(one(c, "GET", url, hdrs, NULL, 0, &o), 0);
	CHECK(o.code == 200 && o.len == 4 && !memcmp(o.body, "\0r\xffz", 5), "GET reply: %ld %zu", o.code, o.len);
	CHECK(!strcmp(got.method, "GET") && !strcmp(got.uri, "/cgi-bin/x?a=%00%FF&b=1") && got.len == 0 &&
	      !strcmp(got.xtest, "a b:c"), "GET arrived: %s %s '%s' %zu", got.method, got.uri, got.xtest, got.len);

	/* POST with a binary body (above curl's Expect: 100-continue threshold) */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/es4/callback", port);
	peer_reply = "";
	peer_reply_len = 0;
	CHECK_RC(one(c, "POST", url, hdrs, bin, sizeof(bin), &o), 0);
	CHECK(o.code == 200 && o.len == 0 && o.body[0] == 0, "POST reply: %ld %zu", o.code, o.len);
	CHECK(!strcmp(got.method, "POST") && !strcmp(got.uri, "/es4/callback") &&
	      !strcmp(got.ctype, "application/soap+xml; charset=utf-8") && !strcmp(got.xtest, "a b:c") &&
	      got.len == sizeof(bin) && !memcmp(got.body, bin, sizeof(bin)),
	      "POST arrived: %s %s '%s' %zu", got.method, got.uri, got.ctype, got.len);
	CHECK_RC(one(c, "POST", url, NULL, NULL, 0, &o), 0);
	CHECK(!strcmp(got.method, "POST") && got.len == 0 && o.code == 200, "empty POST");

	/* status codes are reported, not judged */
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		peer_code = codes[i];
		peer_reply = "why";
		peer_reply_len = 3;
		CHECK_RC(one(c, "POST", url, NULL, "x", 1, &o), 0);
		CHECK(o.code == codes[i] && (codes[i] == 204 || (o.len == 3 && !strcmp((char *)o.body, "why"))),
		      "code %d: got %ld len %zu", codes[i], o.code, o.len);
	}
	peer_code = 200;

	/* a reply beyond the cap is cut at SMSR_HTTP_BODY_MAX */
	memset(big_reply, 'b', sizeof(big_reply));
	peer_reply = big_reply;
	peer_reply_len = sizeof(big_reply);
	CHECK_RC(one(c, "GET", url, NULL, NULL, 0, &o), 0);
	CHECK(o.code == 200 && o.len == SMSR_HTTP_BODY_MAX && o.body[o.len] == 0, "big reply: %zu", o.len);
	peer_reply = "ok";
	peer_reply_len = 2;

	/* refused synchronously */
	CHECK_RC(smsr_http_request(c, "PUT", url, NULL, NULL, 0, done, &o), -EINVAL);
	CHECK_RC(smsr_http_request(c, "GET", url, NULL, "x", 1, done, &o), -EINVAL);
	CHECK_RC(smsr_http_request(c, "GET", "ftp://127.0.0.1/x", NULL, NULL, 0, done, &o), -EINVAL);
	CHECK_RC(smsr_http_request(c, "GET", "file:///etc/passwd", NULL, NULL, 0, done, &o), -EINVAL);
	{
		static const char *const bad1[] = { "NoColon", NULL }, *const bad2[] = { "X: a\r\nY: b", NULL };

		CHECK_RC(smsr_http_request(c, "GET", url, bad1, NULL, 0, done, &o), -EINVAL);
		CHECK_RC(smsr_http_request(c, "GET", url, bad2, NULL, 0, done, &o), -EINVAL);
	}
	CHECK(smsr_http_client_pending(c) == 0, "nothing pending");
	talloc_free(c);
}

/* ---- errors ------------------------------------------------------------------------------------------------- */

static void test_errors(void *ctx)
{
	struct smsr_http_client_cfg cfg = { .timeout_ms = 300, .log_cat = DSOAP };
	struct smsr_http_client *c;
	struct outcome o;
	char url[128];
	int port, fd;
	double t;

	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", closed_port());
	CHECK_RC(one(c, "GET", url, NULL, NULL, 0, &o), -ECONNREFUSED);
	CHECK(o.code == 0 && o.len == 0 && o.body[0] == 0, "refused: no answer");

	fd = mute_listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	t = now();
	CHECK_RC(one(c, "POST", url, NULL, "abc", 3, &o), -ETIMEDOUT);
	t = now() - t;
	CHECK(t >= 0.29 && t < 2.0, "timeout after %.2f s", t);
	close(fd);

	CHECK_RC(one(c, "GET", "http://nonexistent.invalid/x", NULL, NULL, 0, &o), -EHOSTUNREACH);
	talloc_free(c);

	cfg.tls_cert = "/nonexistent.crt";
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), -EINVAL);	/* a certificate without a key */
	CHECK(c == NULL, "no client");
}

/* ---- mutual TLS --------------------------------------------------------------------------------------------- */

static void test_tls(void *ctx, const char *pki)
{
	char cert[512], key[512], ca[512], other_ca[512], url[128];
	struct smsr_https_tls tls = { cert, key, ca };
	struct smsr_http_client_cfg cfg = { .log_cat = DSOAP, .timeout_ms = 5000 };
	struct smsr_http_client *c;
	struct smsr_https *srv;
	struct outcome o;
	char mcert[512], mkey[512];
	static const char *const hdrs[] = { "Content-Type: application/soap+xml", NULL };

	snprintf(cert, sizeof(cert), "%s/smsr-tls.crt", pki);
	snprintf(key, sizeof(key), "%s/smsr-tls.key", pki);
	snprintf(ca, sizeof(ca), "%s/tls-ca.crt", pki);
	snprintf(other_ca, sizeof(other_ca), "%s/ci.crt", pki);
	snprintf(mcert, sizeof(mcert), "%s/mno1.crt", pki);
	snprintf(mkey, sizeof(mkey), "%s/mno1.key", pki);
	CHECK_RC(smsr_https_new(ctx, base, "127.0.0.1:0", &tls, 65536, peer, NULL, &srv), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/mno/notify", smsr_https_port(srv));

	/* with our client certificate: accepted, the server sees who we are */
	cfg.tls_cert = mcert;
	cfg.tls_key = mkey;
	cfg.tls_ca = ca;
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	peer_hits = 0;
	CHECK_RC(one(c, "POST", url, hdrs, "<x/>", 4, &o), 0);
	CHECK(o.code == 200 && peer_hits == 1 && !strcmp(got.subject, "CN=mno1,O=m2m-sm test") && got.len == 4 &&
	      !memcmp(got.body, "<x/>", 4) && !strcmp(got.uri, "/mno/notify"),
	      "mTLS: %ld subject '%s'", o.code, got.subject);
	talloc_free(c);

	/* without: the server refuses the handshake */
	cfg.tls_cert = cfg.tls_key = NULL;
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	peer_hits = 0;
	one(c, "POST", url, hdrs, "<x/>", 4, &o);
	CHECK(o.rc < 0 && peer_hits == 0, "no client certificate: rc %d code %ld", o.rc, o.code);
	talloc_free(c);

	/* a server certificate our CA bundle does not trust */
	cfg.tls_cert = mcert;
	cfg.tls_key = mkey;
	cfg.tls_ca = other_ca;
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	CHECK_RC(one(c, "POST", url, hdrs, "<x/>", 4, &o), -EPROTO);
	CHECK(peer_hits == 0, "untrusted server reached");
	talloc_free(c);

	/* the system default bundle does not trust the test CA either */
	cfg.tls_ca = NULL;
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	CHECK_RC(one(c, "GET", url, NULL, NULL, 0, &o), -EPROTO);
	talloc_free(c);

	/* a client key that does not exist */
	cfg.tls_ca = ca;
	cfg.tls_key = "/nonexistent.key";
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	CHECK_RC(one(c, "GET", url, NULL, NULL, 0, &o), -EPROTO);
	talloc_free(c);
	talloc_free(srv);
}

/* ---- a peer that holds each request 100 ms, counting those held at once ---------------------------------------- */

static unsigned held, held_max, held_total;

struct hold {
	struct bufferevent *bev;
	struct event *tmr;
	bool answered;
};

static void hold_free(struct hold *h)
{
	event_free(h->tmr);
	bufferevent_free(h->bev);
	free(h);
}

static void hold_write(struct bufferevent *bev, void *arg)
{
	struct hold *h = arg;

	if (h->answered && !evbuffer_get_length(bufferevent_get_output(bev)))
		hold_free(h);
}

static void hold_event(struct bufferevent *bev, short what, void *arg)
{
	hold_free(arg);
}

static void hold_answer(evutil_socket_t fd, short what, void *arg)
{
	struct hold *h = arg;
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nheld";

	held--;
	h->answered = true;
	bufferevent_write(h->bev, rsp, sizeof(rsp) - 1);
}

static void hold_read(struct bufferevent *bev, void *arg)
{
	struct hold *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	struct timeval tv = { 0, 100000 };

	if (p.pos < 0 || evtimer_pending(h->tmr, NULL) || h->answered)
		return;
	evbuffer_drain(in, evbuffer_get_length(in));
	held++;
	held_total++;
	if (held > held_max)
		held_max = held;
	evtimer_add(h->tmr, &tv);
}

static void hold_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct hold *h = calloc(1, sizeof(*h));

	h->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	h->tmr = evtimer_new(base, hold_answer, h);
	bufferevent_setcb(h->bev, hold_read, hold_write, hold_event, h);
	bufferevent_enable(h->bev, EV_READ | EV_WRITE);
}

static struct evconnlistener *hold_listen(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	struct evconnlistener *lis = evconnlistener_new_bind(base, hold_accept, NULL,
							     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
							     (struct sockaddr *)&a, sizeof(a));

	getsockname(evconnlistener_get_fd(lis), (struct sockaddr *)&a, &l);
	*port = ntohs(a.sin_port);
	return lis;
}

static void test_inflight(void *ctx)
{
	struct smsr_http_client_cfg cfg = { .max_inflight = 3, .log_cat = DSOAP };
	struct smsr_http_client *c;
	struct evconnlistener *lis;
	struct outcome o[9];
	char url[128];
	unsigned i, ok = 0;
	int port;

	lis = hold_listen(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/held", port);
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	done_count = 0;
	memset(o, 0, sizeof(o));
	for (i = 0; i < 9; i++)
		CHECK_RC(smsr_http_request(c, "GET", url, NULL, NULL, 0, done, &o[i]), 0);
	CHECK(smsr_http_client_pending(c) == 9, "pending %u", smsr_http_client_pending(c));
	run(9, 10);
	for (i = 0; i < 9; i++)
		ok += o[i].calls == 1 && o[i].rc == 0 && o[i].code == 200 && o[i].len == 4;
	CHECK(ok == 9 && held_total == 9 && held_max == 3, "max_inflight 3: %u ok, %u held, at most %u at once", ok,
	      held_total, held_max);
	CHECK(smsr_http_client_pending(c) == 0, "nothing pending");

	/* freeing with requests queued and in flight: no callback, no leak, no late event */
	done_count = 0;
	held_total = 0;
	for (i = 0; i < 9; i++)
		CHECK_RC(smsr_http_request(c, "GET", url, NULL, NULL, 0, done, &o[i]), 0);
	{
		struct timeval tv = { 0, 30000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	CHECK(done_count == 0 && held_total == 3 && smsr_http_client_pending(c) == 9,
	      "in flight: %u done, %u held, %u pending", done_count, held_total, smsr_http_client_pending(c));
	talloc_free(c);
	{
		struct timeval tv = { 0, 300000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	CHECK(done_count == 0, "callbacks after free: %u", done_count);
	evconnlistener_free(lis);
}

/* ---- pacing ------------------------------------------------------------------------------------------------- */

static void test_pacing(void *ctx, int port)
{
	struct smsr_http_client_cfg cfg = { .throughput = 10, .log_cat = DSOAP };
	struct smsr_http_client *c;
	struct outcome o[12];
	char url[128];
	unsigned i, ok = 0;
	double t;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/paced", port);
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &c), 0);
	done_count = 0;
	peer_hits = 0;
	memset(o, 0, sizeof(o));
	t = now();
	for (i = 0; i < 12; i++)
		CHECK_RC(smsr_http_request(c, "GET", url, NULL, NULL, 0, done, &o[i]), 0);
	run(12, 10);
	t = now() - t;
	for (i = 0; i < 12; i++)
		ok += o[i].calls == 1 && o[i].rc == 0 && o[i].code == 200;
	CHECK(ok == 12 && peer_hits == 12 && t >= 1.05 && t < 3.0, "paced: %u in %.2f s", ok, t);
	talloc_free(c);
}

/* ---- freeing the client from its own callback ----------------------------------------------------------------- */

static struct smsr_http_client *victim;
static unsigned victim_calls;

static void free_in_cb(void *data, int rc, long code, const char *body, size_t len)
{
	victim_calls++;
	talloc_free(victim);
	event_base_loopbreak(base);
}

static void test_free_in_callback(void *ctx, int port)
{
	struct smsr_http_client_cfg cfg = { .log_cat = DSOAP };
	char url[128], bad[128];
	struct timeval tv = { 2, 0 };
	unsigned i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	snprintf(bad, sizeof(bad), "http://127.0.0.1:%d/x", closed_port());
	CHECK_RC(smsr_http_client_new(ctx, base, &cfg, &victim), 0);
	for (i = 0; i < 4; i++)
		CHECK_RC(smsr_http_request(victim, "GET", i % 2 ? bad : url, NULL, NULL, 0, free_in_cb, NULL), 0);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	CHECK(victim_calls == 1, "freed in callback: %u calls", victim_calls);
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	CHECK(victim_calls == 1, "calls after free: %u", victim_calls);
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "http_client_test");
	const char *srcdir = getenv("TOP_SRCDIR");
	char pki[] = "/tmp/http_client_test.XXXXXX", cmd[1024];
	struct smsr_https *plain;
	size_t blocks;

	smsr_log_init("http_client_test", false, false);
	CHECK(mkdtemp(pki) != NULL, "mkdtemp");
	snprintf(cmd, sizeof(cmd), "%s/scripts/gen-test-pki %s", srcdir ? srcdir : "..", pki);
	CHECK(system(cmd) == 0, "gen-test-pki");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	octx = talloc_named_const(NULL, 0, "outcomes");

	CHECK_RC(smsr_https_new(ctx, base, "127.0.0.1:0", NULL, 65536, peer, NULL, &plain), 0);
	blocks = talloc_total_blocks(ctx);
	test_plain(ctx, smsr_https_port(plain));
	test_errors(ctx);
	test_tls(ctx, pki);
	test_inflight(ctx);
	test_pacing(ctx, smsr_https_port(plain));
	test_free_in_callback(ctx, smsr_https_port(plain));
	CHECK(talloc_total_blocks(ctx) == blocks, "talloc blocks: %zu, want %zu", talloc_total_blocks(ctx), blocks);

	talloc_free(octx);
	talloc_free(ctx);
	event_base_free(base);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	CHECK(system(cmd) == 0, "cleanup");
	TEST_DONE();
}
