/* smsr/https: mutual TLS identifies the requester by its client certificate; no certificate or one from another
 * CA is refused at the handshake; oversize bodies get 413; the plain-HTTP listener passes queries through.
 * Real sockets on 127.0.0.1 with free ports, real TLS with a test PKI made by scripts/gen-test-pki. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "tests/testlib.h"
#include "smsr/https.h"
#include "smsr/logging.h"

static char last_subject[256], last_fp[80], last_query[256], last_path[128];
static size_t last_len;

static void handler(struct smsr_https_req *r, void *data)
{
	snprintf(last_subject, sizeof(last_subject), "%s", r->peer_subject ? r->peer_subject : "(none)");
	snprintf(last_fp, sizeof(last_fp), "%s", r->peer_fingerprint ? r->peer_fingerprint : "");
	snprintf(last_query, sizeof(last_query), "%s", r->query);
	snprintf(last_path, sizeof(last_path), "%s", r->path);
	last_len = r->body_len;
	smsr_https_reply(r, 200, "text/plain", r->body_len ? r->body : (const void *)"ok",
			 r->body_len ? r->body_len : 2, NULL);
}

static void *loop(void *arg)
{
	event_base_dispatch(arg);
	return NULL;
}

static size_t sink(char *p, size_t s, size_t n, void *u)
{
	return s * n;
}

/* POST body to url with an optional client certificate; returns the HTTP code or -CURLcode */
static long post(const char *url, const char *pki, const char *client, const char *body, size_t len)
{
	CURL *c = curl_easy_init();
	char ca[512], cert[512], key[512];
	long code = 0;
	CURLcode rc;

	snprintf(ca, sizeof(ca), "%s/tls-ca.crt", pki);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (client) {
		snprintf(cert, sizeof(cert), "%s/%s.crt", pki, client);
		snprintf(key, sizeof(key), "%s/%s.key", pki, client);
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	}
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	else
		code = -(long)rc;
	curl_easy_cleanup(c);
	return code;
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "https_test");
	const char *srcdir = getenv("TOP_SRCDIR");
	char pki[] = "/tmp/https_test.XXXXXX", cmd[1024], url[128], cert[512], key[512], ca[512];
	struct event_base *base;
	struct smsr_https *tls_srv, *plain;
	struct smsr_https_tls tls = { cert, key, ca };
	pthread_t th;
	char *big;
	long code;

	smsr_log_init("https_test", false, false);
	CHECK(mkdtemp(pki) != NULL, "mkdtemp");
	snprintf(cmd, sizeof(cmd), "%s/scripts/gen-test-pki %s", srcdir ? srcdir : "..", pki);
	CHECK(system(cmd) == 0, "gen-test-pki");
	snprintf(cert, sizeof(cert), "%s/smsr-tls.crt", pki);
	snprintf(key, sizeof(key), "%s/smsr-tls.key", pki);
	snprintf(ca, sizeof(ca), "%s/tls-ca.crt", pki);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	base = event_base_new();
	CHECK_RC(smsr_https_new(ctx, base, "127.0.0.1:0", &tls, 4096, handler, NULL, &tls_srv), 0);
	CHECK_RC(smsr_https_new(ctx, base, "127.0.0.1:0", NULL, 4096, handler, NULL, &plain), 0);
	CHECK(smsr_https_port(tls_srv) > 0 && smsr_https_port(plain) > 0, "ports bound");
	{
		struct smsr_https *bad;
		struct smsr_https_tls nofile = { "/nonexistent.crt", key, ca };
		CHECK_RC(smsr_https_new(ctx, base, "127.0.0.1:0", &nofile, 4096, handler, NULL, &bad), -EINVAL);
		CHECK_RC(smsr_https_new(ctx, base, "localhost", NULL, 4096, handler, NULL, &bad), -EINVAL);
	}
	pthread_create(&th, NULL, loop, base);

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/es4", smsr_https_port(tls_srv));
	code = post(url, pki, "mno1", "<x/>", 4);
	CHECK(code == 200 && !strcmp(last_subject, "CN=mno1,O=m2m-sm test") && strlen(last_fp) == 64 &&
	      last_len == 4 && !strcmp(last_path, "/es4"),
	      "mTLS: %ld subject '%s' fp '%s'", code, last_subject, last_fp);
	code = post(url, pki, NULL, "<x/>", 4);
	CHECK(code < 0, "no client certificate accepted: %ld", code);
	code = post(url, pki, "eum", "<x/>", 4);	/* issued by the GSMA CI, not the TLS CA */
	CHECK(code < 0, "client certificate of another CA accepted: %ld", code);
	big = calloc(1, 8192);
	memset(big, 'a', 8191);
	code = post(url, pki, "mno2", big, 8191);
	CHECK(code == 413, "oversize body: %ld", code);
	free(big);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/mo?from=4917&udh=%%02q%%00", smsr_https_port(plain));
	code = post(url, pki, NULL, "", 0);
	CHECK(code == 200 && !strcmp(last_query, "from=4917&udh=%02q%00") && !strcmp(last_subject, "(none)"),
	      "plain: %ld query '%s'", code, last_query);

	event_base_loopbreak(base);
	/* wake the loop so it sees the break */
	post(url, pki, NULL, "", 0);
	pthread_join(th, NULL);
	talloc_free(ctx);
	event_base_free(base);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	CHECK(system(cmd) == 0, "cleanup");
	TEST_DONE();
}
