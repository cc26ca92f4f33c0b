/* smsr-bench: ES4 GetEIS against a running smsrd over HTTPS with mutual TLS, from C clients on kept-alive
 * connections (libcurl multi through smsr/http_client), random EIDs of an imported fleet. Prints key=value lines:
 *   es4_geteis_per_s, es4_geteis_p50_ms, es4_geteis_p99_ms, es4_geteis_failed
 * Usage: smsr-bench URL PKI_DIR SEED FLEET_SIZE SECONDS PARALLEL MNO_OID TEMPLATE
 * (TEMPLATE: an ES4-GetEISRequest file whose Eid and From EntityId are replaced per request). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "smsr/http_client.h"
#include "tests/euicc-sim/fleet.h"
#include "proto/hex.h"

static struct event_base *base;
static struct smsr_http_client *cli;
static struct sim_fleet_cfg fleet;
static char *tmpl_head, *tmpl_tail;	/* template split around the Eid value */
static const char *url;
static unsigned long fleet_size, done, failed;
static double t_end, *lat;
static size_t nlat, caplat;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct req {
	double t0;
};

static void issue(void);

static void on_done(void *data, int rc, long code, const char *body, size_t len)
{
	struct req *r = data;
	double t = now();

	if (rc == 0 && code == 200 && strstr(body, "EXECUTED_SUCCESS")) {
		done++;
		if (nlat == caplat) {
			caplat = caplat ? 2 * caplat : 65536;
			lat = realloc(lat, caplat * sizeof(*lat));
		}
		lat[nlat++] = (t - r->t0) * 1000;
	} else {
		failed++;
	}
	talloc_free(r);
	if (t < t_end)
		issue();
	else if (!smsr_http_client_pending(cli))
		event_base_loopbreak(base);
}

static void issue(void)
{
	static const char *hdrs[] = { "Content-Type: application/soap+xml; charset=utf-8", NULL };
	uint32_t idx = (uint32_t)(((unsigned long)rand() << 16 ^ (unsigned long)rand()) % fleet_size);
	struct req *r = talloc_zero(NULL, struct req);
	char msisdn[16];
	uint8_t eid[16];
	char *body;

	/* the EID only (no keys): derive the identity cheaply from the fleet rules */
	{
		struct sim_identity id;
		sim_fleet_identity(&fleet, idx, &id);
		memcpy(eid, id.eid, 16);
		sim_identity_wipe(&id);
	}
	(void)msisdn;
	body = talloc_asprintf(r, "%s%s%s", tmpl_head, proto_hexstr(eid, 16), tmpl_tail);
	r->t0 = now();
	if (smsr_http_request(cli, "POST", url, hdrs, body, strlen(body), on_done, r) < 0) {
		failed++;
		talloc_free(r);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char cert[512], key[512], ca[512];
	struct smsr_http_client_cfg hc = { 0 };
	unsigned parallel, i;
	double secs, t0, t;
	char *tmpl, *at, *close;
	FILE *f;
	long n;

	if (argc != 9) {
		fprintf(stderr, "usage: smsr-bench URL PKI_DIR SEED FLEET_SIZE SECONDS PARALLEL MNO_OID TEMPLATE\n");
		return 2;
	}
	url = argv[1];
	fleet_size = strtoul(argv[4], NULL, 10);
	secs = atof(argv[5]);
	parallel = (unsigned)atoi(argv[6]);
	if (sim_fleet_cfg_init(&fleet, argv[3], NULL, NULL) < 0 || !fleet_size || !parallel)
		return 2;
	f = fopen(argv[8], "r");
	if (!f)
		return 2;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	tmpl = calloc(1, (size_t)n + 1);
	if (fread(tmpl, 1, (size_t)n, f) != (size_t)n)
		return 2;
	fclose(f);
	/* the requester's OID in From, the Eid value cut out */
	at = strstr(tmpl, "EntityId=1.3.6.1.4.1.99901");
	if (at) {
		char *rest = strdup(at + strlen("EntityId=1.3.6.1.4.1.99901"));
		*at = '\0';
		tmpl = talloc_asprintf(NULL, "%sEntityId=%s%s", tmpl, argv[7], rest);
	}
	at = strstr(tmpl, "<rps:Eid>");
	close = at ? strstr(at, "</rps:Eid>") : NULL;
	if (!at || !close)
		return 2;
	at[strlen("<rps:Eid>")] = '\0';
	tmpl_head = tmpl;
	tmpl_tail = close;

	snprintf(cert, sizeof(cert), "%s/mno1.crt", argv[2]);
	snprintf(key, sizeof(key), "%s/mno1.key", argv[2]);
	snprintf(ca, sizeof(ca), "%s/tls-ca.crt", argv[2]);
	hc.max_inflight = parallel;
	hc.timeout_ms = 10000;
	hc.tls_cert = cert;
	hc.tls_key = key;
	hc.tls_ca = ca;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	if (smsr_http_client_new(NULL, base, &hc, &cli) < 0)
		return 1;
	/* warm-up: open the connections */
	t_end = now() + 1.0;
	for (i = 0; i < parallel; i++)
		issue();
	event_base_dispatch(base);
	done = failed = 0;
	nlat = 0;
	t0 = now();
	t_end = t0 + secs;
	for (i = 0; i < parallel; i++)
		issue();
	event_base_dispatch(base);
	t = now() - t0;
	qsort(lat, nlat, sizeof(*lat), cmp);
	printf("es4_geteis_per_s=%.0f\n", done / t);
	printf("es4_geteis_p50_ms=%.2f\n", nlat ? lat[nlat / 2] : 0.0);
	printf("es4_geteis_p99_ms=%.2f\n", nlat ? lat[(size_t)(nlat * 0.99)] : 0.0);
	printf("es4_geteis_failed=%lu\n", failed);
	printf("es4_geteis_parallel=%u\n", parallel);
	talloc_free(cli);
	event_base_free(base);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
