/* ES5 over SCP80 SMS end to end through REAL Kannel and the euicc-sim fleet (started by es5_ota_e2e.sh):
 * this program is the SM-SR side: an LMDB store holding the fleet's EIS (keys wrapped under a master key), the
 * Kannel sendsms client, the MO/DLR listener and the ES5 transport. It runs Enable (PoR, R-APDU 9000), the
 * eUICC's notification and our NotificationConfirmation, an unknown ISD-P (6A88), a POL1-free Disable of the
 * fallback profile (6985), counters strictly increasing, and a card whose keys the SM-SR has wrong (no verified
 * PoR: the exchange times out).
 *   es5_ota_e2e MO_PORT SENDSMS_URL USER PASSWORD SEED */
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "tests/testlib.h"
#include "tests/smsr/fleet_eis.h"
#include "smsr/db.h"
#include "smsr/es5_ota.h"
#include "smsr/es5_script.h"
#include "smsr/https.h"
#include "smsr/kannel.h"
#include "smsr/logging.h"
#include "ota/keystore_wrap.h"
#include "ota/ts102225_spkt.h"

static struct event_base *base;
static struct event *ticker;
static struct smsr_ota *ota;
static struct smsr_db *db;

/* result of the last exchange / notification */
static int last_rc;
static struct smsr_es5_result last;
static uint8_t last_rsp[512];
static bool got_result;
static struct smsr_notif last_notif;
static uint8_t notif_buf[256];
static bool got_notif;

static void on_done(void *data, int rc, const struct ota_por *por)
{
	last_rc = rc;
	memset(&last, 0, sizeof(last));
	if (rc == 0) {
		memcpy(last_rsp, por->data, por->data_len < sizeof(last_rsp) ? por->data_len : sizeof(last_rsp));
		smsr_es5_result_parse(por->status, last_rsp, por->data_len, *(unsigned *)data, &last);
	}
	got_result = true;
}

static void on_notif(void *data, const uint8_t eid[16], const uint8_t *n, size_t len)
{
	if (len <= sizeof(notif_buf)) {
		memcpy(notif_buf, n, len);
		got_notif = smsr_notif_decode(notif_buf, len, &last_notif) == 0 && !memcmp(last_notif.eid, eid, 16);
	}
}

static void on_http(struct smsr_https_req *r, void *data)
{
	if (!strcmp(r->path, "/mo")) {
		struct smsr_kannel_mo mo;
		if (smsr_kannel_mo_parse(r->query, &mo) == 0)
			smsr_ota_mo(ota, &mo);
		else
			LOGP(DKANNEL, LOGL_NOTICE, "malformed MO callback: %s", r->query);
	} else if (!strcmp(r->path, "/dlr")) {
		struct smsr_kannel_dlr dlr;
		if (smsr_kannel_dlr_parse(r->query, &dlr) == 0)
			smsr_ota_dlr(ota, &dlr);
	}
	smsr_https_reply(r, 200, NULL, "", 0, NULL);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* run the loop until the flag is set or secs pass (a 100 ms tick keeps EVLOOP_ONCE from idling forever) */
static void wait_for(bool *flag, int secs)
{
	double end = now() + secs;

	while (!*flag && now() < end)
		event_base_loop(base, EVLOOP_ONCE);
}

static uint64_t opid;

static void exchange(const uint8_t eid[16], enum smsr_es5_func f, const struct smsr_es5_args *a, int secs)
{
	uint8_t script[512];
	struct proto_buf b;
	static unsigned n;

	proto_buf_init(&b, script, sizeof(script));
	n = (unsigned)smsr_es5_script_build(&b, f, a);
	got_result = false;
	CHECK_RC(smsr_ota_send(ota, eid, b.data, b.len, ++opid, on_done, &n), 0);
	wait_for(&got_result, secs);
	CHECK(got_result, "%s: no result within %d s", smsr_es5_func_name(f), secs);
}

int main(int argc, char **argv)
{
	void *ctx = talloc_named_const(NULL, 0, "es5_ota_e2e");
	char dir[] = "/tmp/es5_ota_e2e.XXXXXX", listen[64], cmd[256];
	struct ota_wrap_master *master;
	struct sim_fleet_cfg fleet;
	struct smsr_https *srv;
	struct smsr_kannel *kannel;
	struct smsr_eis *eis[4];
	uint8_t eid1[16], eid2[16], eid0[16];
	uint64_t c1 = 0, c2 = 0;
	unsigned i;

	if (argc != 6) {
		fprintf(stderr, "usage: es5_ota_e2e MO_PORT SENDSMS_URL USER PASSWORD SEED\n");
		return 2;
	}
	smsr_log_init("es5_ota_e2e", false, true);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base = event_base_new();
	ticker = event_new(base, -1, EV_PERSIST, tick, NULL);
	event_add(ticker, &(struct timeval){0, 100000});
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	CHECK_RC(ota_wrap_master_generate(ctx, &master), 0);
	CHECK_RC(smsr_db_open(ctx, dir, &(struct smsr_db_cfg){.map_size = 64 << 20}, &db), 0);
	CHECK_RC(sim_fleet_cfg_init(&fleet, argv[5], NULL, NULL), 0);
	for (i = 0; i < 3; i++) {
		CHECK_RC(fleet_eis_build(ctx, &fleet, i, master, "1.3.6.1.4.1.99999.20", "1.3.6.1.4.1.99999.10",
					 &eis[i]),
			 0);
	}
	/* card 0: the SM-SR holds a wrong KID key for it */
	{
		uint8_t aad[OTA_WRAP_AAD_KEY_LEN], wrong[16] = {1};
		struct smsr_key *k = &eis[0]->isdr.keysets[0].keys[1];
		ota_wrap_aad_key(aad, eis[0]->eid, 0, 1, k->index, 0);
		CHECK_RC(ota_wrap_seal(master, wrong, 16, aad, sizeof(aad), eis[0], &k->comp[0].wrapped,
				       &k->comp[0].wrapped_len),
			 0);
	}
	CHECK_RC(smsr_db_eis_import(db, (const struct smsr_eis *const *)eis, 3, NULL), 0);
	memcpy(eid0, eis[0]->eid, 16);
	memcpy(eid1, eis[1]->eid, 16);
	memcpy(eid2, eis[2]->eid, 16);

	snprintf(listen, sizeof(listen), "127.0.0.1:%s", argv[1]);
	CHECK_RC(smsr_https_new(ctx, base, listen, NULL, 65536, on_http, NULL, &srv), 0);
	CHECK_RC(smsr_kannel_new(ctx, base,
				 &(struct smsr_kannel_cfg){.sendsms_url = argv[2],
							   .username = argv[3],
							   .password = argv[4],
							   .from = "1001",
							   .dlr_base_url = "",
							   .dlr_mask = 31},
				 &kannel),
		 0);
	CHECK_RC(smsr_ota_new(ctx, base, db, master, kannel,
			      &(struct smsr_ota_cfg){.spi = {0x16, 0x39},
						     .kic = 0x12,
						     .kid = 0x12,
						     .tar = {0, 0, 1},
						     .por_timeout_ms = 4000,
						     .retries = 1},
			      on_notif, NULL, &ota),
		 0);

	{
		/* Enable the disabled profile ...1100 of card 1: PoR OK, SW 9000, then the eUICC's notification */
		struct smsr_es5_args a = {.aid = eis[1]->profiles[1].isdp_aid.b, .aid_len = 16};
		got_notif = false;
		exchange(eid1, SMSR_ES5_ENABLE_PROFILE, &a, 20);
		CHECK(last_rc == 0 && last.outcome == SMSR_ES5_OK && last.last_sw == 0x9000,
		      "enable: rc %d outcome %d sw %04x", last_rc, last.outcome, last.last_sw);
		wait_for(&got_notif, 20);
		CHECK(got_notif && last_notif.type == SMSR_NOTIF_CHANGE_OK && last_notif.has_aid &&
			      !memcmp(last_notif.aid, a.aid, 16),
		      "notification after enable");
		a.seq = last_notif.seq;
		exchange(eid1, SMSR_ES5_NOTIFICATION_CONFIRM, &a, 20);
		CHECK(last_rc == 0 && last.outcome == SMSR_ES5_OK, "confirmation: rc %d outcome %d", last_rc,
		      last.outcome);
		CHECK_RC(smsr_db_cntr_get(db, NULL, eid1, 1, &c1), 0);
		CHECK(c1 >= 2, "two counters used: %llu", (unsigned long long)c1);
	}
	{
		/* an ISD-P the card does not have: 6A88 */
		static const uint8_t nosuch[16] = {0xA0, 0,    0,    5,	   0x59, 0x10, 0x10, 0xFF,
						   0xFF, 0xFF, 0xFF, 0x89, 0,	 0,    0x77};
		struct smsr_es5_args a = {.aid = nosuch, .aid_len = 16};
		exchange(eid2, SMSR_ES5_ENABLE_PROFILE, &a, 20);
		CHECK(last_rc == 0 && last.outcome == SMSR_ES5_SW_ERROR && last.last_sw == 0x6A88,
		      "unknown ISD-P: %04x", last.last_sw);
		/* disabling the fall-back profile is refused by the card: 6985 */
		a.aid = eis[2]->profiles[0].isdp_aid.b;
		exchange(eid2, SMSR_ES5_DISABLE_PROFILE, &a, 20);
		CHECK(last_rc == 0 && last.outcome == SMSR_ES5_SW_ERROR && last.last_sw == 0x6985,
		      "disable fallback: %04x", last.last_sw);
		CHECK_RC(smsr_db_cntr_get(db, NULL, eid2, 1, &c2), 0);
		CHECK(c2 >= 2, "counters card 2: %llu", (unsigned long long)c2);
	}
	{
		/* wrong keys on our side: the card's answer cannot be verified (or it stays silent): timeout */
		struct smsr_es5_args a = {.aid = eis[0]->profiles[1].isdp_aid.b, .aid_len = 16};
		exchange(eid0, SMSR_ES5_ENABLE_PROFILE, &a, 30);
		CHECK(last_rc == -ETIMEDOUT, "wrong keys: rc %d (%s)", last_rc, proto_strerror(last_rc));
	}
	{
		struct smsr_ota_stats st;
		smsr_ota_get_stats(ota, &st);
		printf("mt_sms=%lu mo_sms=%lu exchanges=%lu pors=%lu retries=%lu timeouts=%lu notifications=%lu "
		       "dropped=%lu\n",
		       st.mt_sms, st.mo_sms, st.exchanges, st.pors, st.retries, st.timeouts, st.notifications,
		       st.dropped);
		CHECK(st.pors == 4 && st.notifications >= 1 && st.timeouts == 1, "stats");
	}
	talloc_free(ctx);
	event_free(ticker);
	event_base_free(base);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0, "cleanup");
	TEST_DONE();
}
