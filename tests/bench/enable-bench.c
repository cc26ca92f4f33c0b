/* enable-bench: ES4 EnableProfile end to end, for the enable_e2e figure (issue 3 §9): the disabled profile of fleet
 * cards 0..COUNT-1 is enabled, one request per card over HTTPS with mutual TLS, WINDOW operations outstanding at
 * any time (a closed loop, as an MNO batch tool with a window works: each callback lets the next request go); the
 * results come back as ES4-EnableProfileResponse callbacks to the listener this program runs on 127.0.0.1:PORT
 * (configure it as the requester's callback-url).
 *   enable-bench URL PKI_DIR SEED COUNT WINDOW MNO_OID CALLBACK_PORT TIMEOUT_S
 * Prints enable_e2e_ops, enable_e2e_per_s (steady state: callbacks between the 10th and 90th percentile),
 * enable_e2e_first_to_last_per_s, enable_e2e_p50_s, enable_e2e_p99_s, enable_e2e_failed,
 * es4_enable_accepted_per_s (HTTP 202 answers per second while submitting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include "smsr/http_client.h"
#include "tests/euicc-sim/fleet.h"

static struct event_base *base;
static struct smsr_http_client *cli;
static struct sim_fleet_cfg fleet;
static const char *url, *mno;
static unsigned long count, window, issued, accepted, refused, ok, failed;
static double t0, t_accepted, t_last, *sent_at, *lat, *arrived;
static size_t nlat, narrived;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void issue(void);

static void on_done(void *data, int rc, long code, const char *body, size_t len)
{
	(void)data;
	(void)body;
	(void)len;
	if (rc == 0 && code == 202)
		accepted++;
	else
		refused++;
	if (accepted + refused == count)
		t_accepted = now();
	if (rc != 0 || code != 202) {
		failed++; /* no callback will come for it: keep the window full */
		if (issued < count)
			issue();
	}
}

static void issue(void)
{
	static const char *hdrs[] = {"Content-Type: application/soap+xml; charset=utf-8", NULL};
	struct sim_identity id;
	char *body;
	unsigned long n = issued++;

	if (sim_fleet_identity(&fleet, (uint32_t)n, &id) < 0) {
		refused++;
		return;
	}
	body = talloc_asprintf(
		NULL,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" "
		"xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" "
		"xmlns:rps=\"http://namespaces.gsma.org/esim-messaging/3\"><env:Header>"
		"<wsa:From><wsa:Address>https://mno.bench/es4?EntityId=%s</wsa:Address></wsa:From>"
		"<wsa:To env:mustUnderstand=\"true\">https://smsr.bench/es4</wsa:To>"
		"<wsa:MessageID>//%s/urn:uuid:enable-bench-%lu</wsa:MessageID>"
		"<wsa:Action env:mustUnderstand=\"true\">http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile"
		"</wsa:Action></env:Header><env:Body><rps:ES4-EnableProfileRequest>"
		"<rps:FunctionCallIdentifier>eb-%lu</rps:FunctionCallIdentifier>"
		"<rps:ValidityPeriod>3600</rps:ValidityPeriod><rps:Eid>%s</rps:Eid><rps:Iccid>%s</rps:Iccid>"
		"</rps:ES4-EnableProfileRequest></env:Body></env:Envelope>",
		mno, mno, n, n, id.eid_hex, id.profiles[1].iccid);
	sim_identity_wipe(&id);
	sent_at[n] = now();
	if (!body || smsr_http_request(cli, "POST", url, hdrs, body, strlen(body), on_done, NULL) < 0)
		refused++;
	talloc_free(body);
}

/* the MNO's endpoint: ES4-EnableProfileResponse callbacks (and the Handle*Notifications, only answered) */
static void on_callback(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *b = malloc(len + 1), *m;
	unsigned long n;

	(void)arg;
	if (b) {
		evbuffer_copyout(in, b, len);
		b[len] = '\0';
		if (strstr(b, "ES4-EnableProfileResponse") && (m = strstr(b, "urn:uuid:enable-bench-")) &&
		    (n = strtoul(m + strlen("urn:uuid:enable-bench-"), NULL, 10)) < count) {
			t_last = now();
			arrived[narrived++] = t_last;
			if (strstr(b, "EXECUTED_SUCCESS")) {
				ok++;
				lat[nlat++] = t_last - sent_at[n];
			} else {
				failed++;
			}
		}
		free(b);
	}
	evhttp_send_reply(req, 202, "Accepted", NULL);
	if (ok + failed >= count)
		event_base_loopbreak(base);
	else if (issued < count && issued - ok - failed < window)
		issue();
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char cert[512], key[512], ca[512];
	struct smsr_http_client_cfg hc = {0};
	struct evhttp *http;
	struct event *to;
	unsigned long i;
	double t;

	if (argc != 9) {
		fprintf(stderr, "usage: enable-bench URL PKI_DIR SEED COUNT WINDOW MNO_OID CALLBACK_PORT TIMEOUT_S\n");
		return 2;
	}
	url = argv[1];
	count = strtoul(argv[4], NULL, 10);
	window = strtoul(argv[5], NULL, 10);
	mno = argv[6];
	if (sim_fleet_cfg_init(&fleet, argv[3], NULL, NULL) < 0 || !count || !window)
		return 2;
	sent_at = calloc(count, sizeof(*sent_at));
	lat = calloc(count, sizeof(*lat));
	arrived = calloc(count, sizeof(*arrived));
	snprintf(cert, sizeof(cert), "%s/mno1.crt", argv[2]);
	snprintf(key, sizeof(key), "%s/mno1.key", argv[2]);
	snprintf(ca, sizeof(ca), "%s/tls-ca.crt", argv[2]);
	hc.max_inflight = 32;
	hc.timeout_ms = 30000;
	hc.tls_cert = cert;
	hc.tls_key = key;
	hc.tls_ca = ca;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	http = base ? evhttp_new(base) : NULL;
	if (!sent_at || !lat || !arrived || !http ||
	    evhttp_bind_socket(http, "127.0.0.1", (uint16_t)atoi(argv[7])) < 0 ||
	    smsr_http_client_new(NULL, base, &hc, &cli) < 0) {
		fprintf(stderr, "enable-bench: setup failed\n");
		return 1;
	}
	evhttp_set_gencb(http, on_callback, NULL);
	to = evtimer_new(base, on_timeout, NULL);
	{
		struct timeval tv = {atol(argv[8]), 0};

		evtimer_add(to, &tv);
	}
	t0 = now();
	for (i = 0; i < window && issued < count; i++)
		issue();
	event_base_dispatch(base);
	t = (t_last > t0 ? t_last : now()) - t0;
	qsort(lat, nlat, sizeof(*lat), cmp);
	printf("enable_e2e_ops=%lu\n", ok);
	/* steady state: between the 10th and the 90th percentile of the callbacks (no ramp-up, no drain) */
	{
		size_t a = narrived / 10, z = narrived * 9 / 10;

		printf("enable_e2e_per_s=%.1f\n",
		       z > a && arrived[z] > arrived[a] ? (double)(z - a) / (arrived[z] - arrived[a]) : 0.0);
	}
	printf("enable_e2e_first_to_last_per_s=%.1f\n", t > 0 ? (double)ok / t : 0.0);
	printf("enable_e2e_p50_s=%.2f\n", nlat ? lat[nlat / 2] : 0.0);
	printf("enable_e2e_p99_s=%.2f\n", nlat ? lat[(size_t)((double)nlat * 0.99)] : 0.0);
	printf("enable_e2e_failed=%lu\n", count - ok);
	printf("enable_e2e_window=%lu\n", window);
	printf("es4_enable_accepted_per_s=%.0f\n", t_accepted > t0 ? (double)accepted / (t_accepted - t0) : 0.0);
	event_free(to);
	talloc_free(cli);
	evhttp_free(http);
	event_base_free(base);
	curl_global_cleanup();
	return ok == count ? 0 : 1;
}
