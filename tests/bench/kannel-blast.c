/* kannel-blast: Kannel's own MT capacity on a given configuration, for the enable_e2e comparison (issue 3 §9):
 * COUNT binary MT SMS through sendsms with the very parameters smsrd uses (smsr/kannel.c: udh, pid=127, mclass=2,
 * coding=1, dlr-mask and a dlr-url with a token), 140-octet TP-UD without a command-packet IEI (euicc-sim counts
 * them and stays silent), to the MSISDNs of fleet cards 0..FLEET-1 in turn, PARALLEL requests in flight.
 *   kannel-blast SENDSMS_URL USER PASSWORD DLR_BASE_URL SEED FLEET COUNT PARALLEL [DLR_MASK (default 18)]
 * Prints kannel_blast_accepted=, kannel_blast_refused=, kannel_blast_http_per_s= (sendsms answers per second).
 * Delivery to the SMSC is measured by the caller (bearerbox access log). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "smsr/kannel.h"
#include "tests/euicc-sim/fleet.h"

static struct event_base *base;
static struct smsr_kannel *kannel;
static struct sim_fleet_cfg fleet;
static unsigned long fleet_n, count, issued, accepted, refused;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void issue(void);

static void on_done(enum smsr_kannel_result res, int code, const char *reply, void *data)
{
	(void)code;
	(void)reply;
	(void)data;
	if (res == SMSR_KANNEL_ACCEPTED)
		accepted++;
	else
		refused++;
	if (issued < count)
		issue();
	else if (!smsr_kannel_pending(kannel))
		event_base_loopbreak(base);
}

static void issue(void)
{
	char msisdn[SIM_MSISDN_MAX + 1], token[32];
	uint8_t ud[140];
	unsigned i;

	for (i = 0; i < sizeof(ud); i++)
		ud[i] = (uint8_t)(i * 7 + issued);
	sim_fleet_msisdn(&fleet, (uint32_t)(issued % fleet_n), msisdn);
	snprintf(token, sizeof(token), "b%lu", issued);
	issued++;
	if (smsr_kannel_send(kannel, msisdn, ud, sizeof(ud), 0, token, on_done, NULL) < 0)
		refused++;
}

int main(int argc, char **argv)
{
	struct smsr_kannel_cfg kc = {0};
	unsigned long parallel, i;
	double t0, t;

	if (argc != 9 && argc != 10) {
		fprintf(stderr, "usage: kannel-blast SENDSMS_URL USER PASSWORD DLR_BASE_URL SEED FLEET COUNT PARALLEL "
				"[DLR_MASK]\n");
		return 2;
	}
	fleet_n = strtoul(argv[6], NULL, 10);
	count = strtoul(argv[7], NULL, 10);
	parallel = strtoul(argv[8], NULL, 10);
	if (sim_fleet_cfg_init(&fleet, argv[5], NULL, NULL) < 0 || !fleet_n || !count || !parallel)
		return 2;
	kc.sendsms_url = argv[1];
	kc.username = argv[2];
	kc.password = argv[3];
	kc.from = "1001";
	kc.dlr_base_url = argv[4];
	kc.dlr_mask = argc == 10 ? atoi(argv[9]) : 18;
	kc.max_inflight = (unsigned)parallel;
	kc.timeout_ms = 10000;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	if (!base || smsr_kannel_new(NULL, base, &kc, &kannel) < 0)
		return 1;
	t0 = now();
	for (i = 0; i < parallel && issued < count; i++)
		issue();
	event_base_dispatch(base);
	t = now() - t0;
	printf("kannel_blast_accepted=%lu\nkannel_blast_refused=%lu\nkannel_blast_http_per_s=%.0f\n", accepted, refused,
	       t > 0 ? (double)accepted / t : 0.0);
	talloc_free(kannel);
	event_base_free(base);
	curl_global_cleanup();
	return refused ? 1 : 0;
}
