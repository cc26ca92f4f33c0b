/* euicc-sim: a fleet of simulated SGP.02 eUICCs behind Kannel's fake SMSC (test peer of smsrd).
 *
 * Each MT SMS addressed to a fleet MSISDN goes through the card's SCP80 receive path (sim_ota.c) and its ES5
 * command handling (card.c), or through ES8 to an ISD-P by its TAR (card_es8.c: key establishment with the ECASD,
 * SCP03t profile download); PoRs and Default Notifications go back as MO SMS. Fault injection acts on what the
 * cards send (MOs), except --wrong-counter, --rollback and --fault which change how a card answers. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <event2/event.h>
#include "proto/errors.h"
#include "proto/hex.h"
#include "ota/ts102225_spkt.h"
#include "tests/euicc-sim/card.h"
#include "tests/euicc-sim/fleet.h"
#include "tests/euicc-sim/kannel_fake.h"
#include "tests/euicc-sim/sim_ota.h"

#define TICK_MS 100
#define EXPIRE_EVERY_MS 5000
#define REASM_SLOTS 4096
#define REASM_MAX_AGE 60
#define DRAIN_MS 1000
#define DRAIN_POLL_MS 20

/* One fault: fires for the next `count` events, else with probability p. */
struct fault {
	const char *name;
	double p;
	long count;
	uint64_t hits;
};

struct stats {
	uint64_t mt_sms, mt_unknown, mt_pending, mt_not_command, packets, packets_dropped, scripts, apdus;
	uint64_t por_sent, por_ok, por_errors, por_none, por_by_status[256];
	uint64_t mo_sms, mo_send_failed, notifications, notifications_new;
};

struct app {
	void *ctx;
	struct event_base *base;
	struct sim_fleet *fleet;
	struct sim_ota *ota;
	struct sim_kannel *kannel;
	struct sim_ota_out *out;
	struct event *tick, *stop, *sig_term, *sig_int;
	const char *stats_file;
	char smsr_addr[SIM_KANNEL_ADDR_MAX + 1];
	uint64_t resend_ms;
	unsigned max_sends;
	unsigned delay_ms;
	struct fault f_drop, f_delay, f_dup, f_corrupt, f_wrong_cntr, f_reorder, f_rollback;
	uint64_t rng;
	uint64_t start_ms, last_expire_ms;
	struct stats st;
	const char *stop_reason;
	bool stopping;			/* draining the MOs still queued for bearerbox */
	uint64_t drain_deadline_ms;
};

/* A delayed MO message. */
struct delayed_mo {
	struct app *app;
	struct event *ev;
	char from[SIM_KANNEL_ADDR_MAX + 1], to[SIM_KANNEL_ADDR_MAX + 1];
	unsigned n;
	struct ota_sms_ud segs[SIM_OTA_MAX_MO];
	int skip;		/* segment dropped by --drop, -1 = none */
	unsigned copies;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: reproducible faults from --seed */
static uint64_t rnd(struct app *a)
{
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return a->rng * 0x2545F4914F6CDD1DULL;
}

static double rnd01(struct app *a)
{
	return (double)(rnd(a) >> 11) / 9007199254740992.0;
}

/* Decide whether a fault fires now; commit() counts it. Split so that a fault is only spent when it applied. */
static bool fault_draw(struct app *a, const struct fault *f)
{
	if (f->count > 0)
		return true;
	return f->p > 0 && rnd01(a) < f->p;
}

static void fault_commit(struct fault *f)
{
	if (f->count > 0)
		f->count--;
	f->hits++;
	SIM_LOG(SIM_DMAIN, SIM_LOG_INFO, "fault %s injected", f->name);
}

static bool fault_fire(struct app *a, struct fault *f)
{
	if (!fault_draw(a, f))
		return false;
	fault_commit(f);
	return true;
}

/*
 * MO output with faults
 */

static void transmit(struct app *a, const char *from, const char *to, const struct ota_sms_ud *segs, unsigned n,
		     int skip, unsigned copies)
{
	unsigned c, i;

	for (c = 0; c < copies; c++)
		for (i = 0; i < n; i++) {
			if ((int)i == skip)
				continue;
			if (sim_kannel_send_mo(a->kannel, from, to, segs[i].ud, segs[i].len) < 0)
				a->st.mo_send_failed++;
			else
				a->st.mo_sms++;
		}
}

static int delayed_destructor(struct delayed_mo *d)
{
	if (d->ev)
		event_free(d->ev);
	return 0;
}

static void delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed_mo *d = arg;

	transmit(d->app, d->from, d->to, d->segs, d->n, d->skip, d->copies);
	talloc_free(d);
}

static void send_message(struct app *a, const char *from, const char *to, const struct ota_sms_ud *in, unsigned n)
{
	struct ota_sms_ud segs[SIM_OTA_MAX_MO];
	unsigned copies = 1, i;
	int skip = -1;

	if (!n)
		return;
	memcpy(segs, in, n * sizeof(segs[0]));
	if (n > 1 && fault_fire(a, &a->f_reorder))
		for (i = 0; i < n / 2; i++) {
			struct ota_sms_ud t = segs[i];
			segs[i] = segs[n - 1 - i];
			segs[n - 1 - i] = t;
		}
	if (fault_fire(a, &a->f_corrupt)) {
		struct ota_sms_ud *s = &segs[rnd(a) % n];
		size_t udh = (size_t)s->ud[0] + 1;

		if (s->len > udh)
			s->ud[udh + rnd(a) % (s->len - udh)] ^= (uint8_t)(1u << (rnd(a) % 8));
	}
	if (fault_fire(a, &a->f_drop))
		skip = (int)(rnd(a) % n);
	if (fault_fire(a, &a->f_dup))
		copies = 2;
	if (a->delay_ms && fault_fire(a, &a->f_delay)) {
		struct delayed_mo *d = talloc_zero(a->ctx, struct delayed_mo);
		struct timeval tv = { a->delay_ms / 1000, (a->delay_ms % 1000) * 1000 };

		if (d) {
			talloc_set_destructor(d, delayed_destructor);
			d->app = a;
			d->ev = evtimer_new(a->base, delayed_cb, d);
			snprintf(d->from, sizeof(d->from), "%s", from);
			snprintf(d->to, sizeof(d->to), "%s", to);
			memcpy(d->segs, segs, n * sizeof(segs[0]));
			d->n = n;
			d->skip = skip;
			d->copies = copies;
			if (d->ev && evtimer_add(d->ev, &tv) == 0)
				return;
			talloc_free(d);
		}
	}
	transmit(a, from, to, segs, n, skip, copies);
}

/*
 * MT input
 */

static void on_mt(void *data, const struct sim_kannel_mt *mt)
{
	struct app *a = data;
	struct sim_ota_opts opts = { 0 };
	struct sim_card *c;
	bool wrong_cntr, rollback;
	int rc;

	a->st.mt_sms++;
	c = sim_fleet_card_by_msisdn(a->fleet, mt->to);
	if (!c) {
		a->st.mt_unknown++;
		SIM_LOG(SIM_DMAIN, SIM_LOG_INFO, "MT %s -> %s: no such eUICC in the fleet", mt->from, mt->to);
		return;
	}
	wrong_cntr = fault_draw(a, &a->f_wrong_cntr);
	rollback = fault_draw(a, &a->f_rollback);
	opts.wrong_counter = wrong_cntr;
	c->fail_next_enable = rollback;
	rc = sim_ota_mt(a->ota, c, mt->from, mt->ud, mt->len, now_ms(), &opts, a->out);
	if (rollback && !c->fail_next_enable)
		fault_commit(&a->f_rollback);
	c->fail_next_enable = false;
	if (rc < 0) {
		SIM_LOGC(c, SIM_DMAIN, SIM_LOG_ERROR, "MT from %s not handled: %s", mt->from, proto_strerror(rc));
		return;
	}
	switch (a->out->event) {
	case SIM_OTA_PENDING:
		a->st.mt_pending++;
		return;
	case SIM_OTA_IGNORED:
		a->st.mt_not_command++;
		return;
	case SIM_OTA_DROPPED:
		a->st.packets++;
		a->st.packets_dropped++;
		return;
	case SIM_OTA_PROCESSED:
		break;
	}
	a->st.packets++;
	if (wrong_cntr && a->out->status == OTA_POR_CNTR_LOW)
		fault_commit(&a->f_wrong_cntr);
	if (a->out->executed) {
		a->st.scripts++;
		a->st.apdus += a->out->script.n_executed;
	}
	if (!a->out->por) {
		a->st.por_none++;
		return;
	}
	a->st.por_sent++;
	a->st.por_by_status[a->out->status]++;
	if (a->out->status == OTA_POR_OK)
		a->st.por_ok++;
	else
		a->st.por_errors++;
	send_message(a, c->msisdn, mt->from, a->out->mo, a->out->n_mo);
}

/*
 * Timers and signals
 */

/* Send the notifications that are due (first sends and resends), expire stale partial MTs. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;
	uint64_t now = now_ms();
	uint32_t i;

	for (i = 0; i < a->fleet->notif_n; i++) {
		struct sim_card *c = a->fleet->notif_list[i];
		struct sim_notif *n;

		while ((n = sim_card_notif_due(c, now))) {
			if (!n->sends)
				a->st.notifications_new++;
			if (sim_ota_notif(a->ota, c, n, a->out) == 0) {
				SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "notification seq %u type %02x sent (%u)", n->seq,
					 n->type, n->sends + 1);
				send_message(a, c->msisdn, a->smsr_addr, a->out->mo, a->out->n_mo);
				a->st.notifications++;
			}
			sim_card_notif_sent(c, n, now, a->resend_ms, a->max_sends);
		}
	}
	sim_fleet_notif_prune(a->fleet);
	if (now - a->last_expire_ms >= EXPIRE_EVERY_MS) {
		sim_ota_expire(a->ota, now);
		a->last_expire_ms = now;
	}
}

/* Stop: a signal or the end of --duration. MOs already queued for bearerbox get up to DRAIN_MS to leave (no new
 * notifications meanwhile); a second signal stops at once. */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;
	struct timeval poll = { 0, DRAIN_POLL_MS * 1000 };

	if (!a->stopping) {
		a->stopping = true;
		a->stop_reason = fd == SIGTERM ? "SIGTERM" : fd == SIGINT ? "SIGINT" : "duration reached";
		a->drain_deadline_ms = now_ms() + DRAIN_MS;
		event_del(a->tick);
	} else if (what & EV_SIGNAL) {
		event_base_loopbreak(a->base);
		return;
	}
	if (!sim_kannel_pending(a->kannel) || !sim_kannel_connected(a->kannel) || now_ms() >= a->drain_deadline_ms) {
		event_base_loopbreak(a->base);
		return;
	}
	evtimer_add(a->stop, &poll);
}

/*
 * Statistics
 */

static void fault_stat(FILE *f, const struct fault *x)
{
	fprintf(f, "fault_%s=%llu\n", x->name, (unsigned long long)x->hits);
}

static int write_stats(struct app *a, const char *path)
{
	const struct sim_kannel_stats *ks = sim_kannel_stats(a->kannel);
	char tmp[4096];
	unsigned s;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
#define ST(k, v) fprintf(f, "%s=%llu\n", k, (unsigned long long)(v))
	ST("duration_ms", now_ms() - a->start_ms);
	ST("fleet", a->fleet->n);
	ST("cards_active", a->fleet->active);
	ST("mt_sms", a->st.mt_sms);
	ST("mt_ignored", ks->mt_ignored);
	ST("mt_malformed", ks->mt_malformed);
	ST("mt_unknown_msisdn", a->st.mt_unknown);
	ST("mt_segments_pending", a->st.mt_pending);
	ST("mt_not_command", a->st.mt_not_command);
	ST("packets", a->st.packets);
	ST("packets_dropped", a->st.packets_dropped);
	ST("scripts", a->st.scripts);
	ST("apdus", a->st.apdus);
	ST("por_sent", a->st.por_sent);
	ST("por_ok", a->st.por_ok);
	ST("por_errors", a->st.por_errors);
	for (s = 1; s < 256; s++)
		if (a->st.por_by_status[s])
			fprintf(f, "por_error_%02x=%llu\n", s, (unsigned long long)a->st.por_by_status[s]);
	ST("por_none", a->st.por_none);
	ST("mo_sms", a->st.mo_sms);
	ST("mo_send_failed", a->st.mo_send_failed);
	ST("notifications", a->st.notifications);
	ST("notifications_new", a->st.notifications_new);
	ST("notifications_confirmed", a->fleet->notif_confirmed);
	ST("kannel_connects", ks->connects);
	ST("kannel_mo_pending_bytes", sim_kannel_pending(a->kannel));
#undef ST
	fault_stat(f, &a->f_drop);
	fault_stat(f, &a->f_delay);
	fault_stat(f, &a->f_dup);
	fault_stat(f, &a->f_corrupt);
	fault_stat(f, &a->f_wrong_cntr);
	fault_stat(f, &a->f_reorder);
	fault_stat(f, &a->f_rollback);
	if (fclose(f) != 0)
		return -errno;
	if (rename(tmp, path) < 0)
		return -errno;
	return 0;
}

/*
 * Command line
 */

static const char usage_text[] =
	"usage:\n"
	"  euicc-sim --kannel HOST:PORT [--fleet N] [--seed S] [--eid-prefix HEX] [--msisdn-prefix DIGITS]\n"
	"            [--sm-sr-address ADDR] [--duration SECONDS] [--stats-file PATH] [--first-attach N]\n"
	"            [--notif-delay MS] [--notif-resend SECONDS] [--notif-max-sends N] [--msl SPI1]\n"
	"            [--drop F] [--delay MS[:F]] [--duplicate F] [--corrupt F] [--wrong-counter F] [--reorder F]\n"
	"            [--rollback F] [--ci-cert PEM] [--fault KIND@IDX]... [-v]... [-q]\n"
	"  euicc-sim --print-identity [--seed S] [--eid-prefix HEX] [--msisdn-prefix DIGITS] --index I [--count N]\n"
	"F is a probability with a decimal point (0.25) or a count of events (3 = the next three).\n"
	"Faults act on the MO SMS the cards send (drop one segment, delay, send twice, flip one bit, reverse the\n"
	"segments); --wrong-counter answers PoR status 02 without running the script; --rollback makes an Enable\n"
	"fail to attach (notification 03). --ci-cert is the GSMA CI's X.509 certificate (PEM) the ECASD verifies\n"
	"CERT.DP.ECDSA with (without it every CERT.DP.ECDSA is refused). --fault KIND@IDX (IDX a fleet index or *):\n"
	"receipt = wrong key establishment receipt, mac = MAC error on the first SCP03t '86', memory = profile\n"
	"package refused for lack of memory, ecasd = CERT.DP.ECDSA refused. Defaults: --fleet 1 --seed 1 "
	"--eid-prefix " SIM_DEFAULT_EID_PREFIX "\n"
	"--msisdn-prefix " SIM_DEFAULT_MSISDN_PREFIX " --sm-sr-address 1001 --duration 300 (0 = until a signal)\n"
	"--notif-delay 1000 --notif-resend 30 --notif-max-sends 5 --msl 06 (CC and ciphering required).\n";

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static unsigned long parse_ulong(const char *opt, const char *v, unsigned long max)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || end == v || *end || x > max || *v == '-') {
		fprintf(stderr, "euicc-sim: %s: bad number '%s'\n", opt, v);
		usage();
	}
	return x;
}

static void parse_fault(struct fault *f, const char *v)
{
	char *end;

	if (strchr(v, '.')) {
		f->p = strtod(v, &end);
		if (*end || f->p < 0 || f->p > 1) {
			fprintf(stderr, "euicc-sim: --%s: probability must be within 0..1\n", f->name);
			usage();
		}
	} else {
		f->count = (long)parse_ulong(f->name, v, 1000000000);
	}
}

static void print_identity(const struct sim_fleet_cfg *cfg, uint32_t index, uint32_t count)
{
	char hex[2 * 16 + 1];
	uint32_t i;
	unsigned k;

	for (i = index; i < index + count; i++) {
		struct sim_identity id;

		if (sim_fleet_identity(cfg, i, &id) < 0) {
			fprintf(stderr, "euicc-sim: index %u out of range\n", i);
			exit(2);
		}
		printf("index=%u\n", i);
		printf("eid=%s\n", id.eid_hex);
		printf("msisdn=%s\n", id.msisdn);
		printf("imei=%s\n", id.imei);
		printf("isdr_aid=%s\n", proto_hex_encode(proto_gp_aid_isdr, 16, hex));
		printf("isdr_tar=000001\n");
		printf("scp80_kvn=%02x\n", SIM_SCP80_KVN);
		printf("scp80_kic_id=%02x\n", SIM_SCP80_KVN << 4 | SIM_SCP80_ALGO);
		printf("scp80_kid_id=%02x\n", SIM_SCP80_KVN << 4 | SIM_SCP80_ALGO);
		/* key values for test tooling and EIS generation (this mode exists for that) */
		printf("kic=%s\n", proto_hex_encode(id.kic, sizeof(id.kic), hex));
		printf("kid=%s\n", proto_hex_encode(id.kid, sizeof(id.kid), hex));
		printf("kik=%s\n", proto_hex_encode(id.kik, sizeof(id.kik), hex));
		printf("total_memory=%u\n", id.total_memory);
		printf("profile_count=%u\n", id.n_profiles);
		for (k = 0; k < id.n_profiles; k++) {
			const struct sim_profile_init *p = &id.profiles[k];

			printf("profile%u_aid=%s\n", k, proto_hex_encode(p->aid, 16, hex));
			printf("profile%u_tar=%s\n", k, proto_hex_encode(p->aid + 12, 3, hex));
			printf("profile%u_iccid=%s\n", k, p->iccid);
			printf("profile%u_state=%s\n", k, p->lcs == SIM_LCS_ENABLED ? "enabled" : "disabled");
			printf("profile%u_lcs=%02x\n", k, p->lcs);
			printf("profile%u_fallback=%u\n", k, p->fallback);
			printf("profile%u_quota=%u\n", k, p->quota);
		}
		sim_identity_wipe(&id);
	}
}

enum {
	OPT_KANNEL = 256,
	OPT_FLEET,
	OPT_SEED,
	OPT_EID_PREFIX,
	OPT_MSISDN_PREFIX,
	OPT_SMSR,
	OPT_DURATION,
	OPT_STATS,
	OPT_FIRST_ATTACH,
	OPT_NOTIF_DELAY,
	OPT_NOTIF_RESEND,
	OPT_NOTIF_MAX,
	OPT_MSL,
	OPT_DROP,
	OPT_DELAY,
	OPT_DUP,
	OPT_CORRUPT,
	OPT_WRONG_CNTR,
	OPT_REORDER,
	OPT_ROLLBACK,
	OPT_PRINT_ID,
	OPT_INDEX,
	OPT_COUNT,
	OPT_CI_CERT,
	OPT_FAULT,
};

static const struct option long_opts[] = {
	{"kannel", required_argument, NULL, OPT_KANNEL},
	{"fleet", required_argument, NULL, OPT_FLEET},
	{"seed", required_argument, NULL, OPT_SEED},
	{"eid-prefix", required_argument, NULL, OPT_EID_PREFIX},
	{"msisdn-prefix", required_argument, NULL, OPT_MSISDN_PREFIX},
	{"sm-sr-address", required_argument, NULL, OPT_SMSR},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"stats-file", required_argument, NULL, OPT_STATS},
	{"first-attach", required_argument, NULL, OPT_FIRST_ATTACH},
	{"notif-delay", required_argument, NULL, OPT_NOTIF_DELAY},
	{"notif-resend", required_argument, NULL, OPT_NOTIF_RESEND},
	{"notif-max-sends", required_argument, NULL, OPT_NOTIF_MAX},
	{"msl", required_argument, NULL, OPT_MSL},
	{"drop", required_argument, NULL, OPT_DROP},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"duplicate", required_argument, NULL, OPT_DUP},
	{"corrupt", required_argument, NULL, OPT_CORRUPT},
	{"wrong-counter", required_argument, NULL, OPT_WRONG_CNTR},
	{"reorder", required_argument, NULL, OPT_REORDER},
	{"rollback", required_argument, NULL, OPT_ROLLBACK},
	{"ci-cert", required_argument, NULL, OPT_CI_CERT},
	{"fault", required_argument, NULL, OPT_FAULT},
	{"print-identity", no_argument, NULL, OPT_PRINT_ID},
	{"index", required_argument, NULL, OPT_INDEX},
	{"count", required_argument, NULL, OPT_COUNT},
	{"verbose", no_argument, NULL, 'v'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *kannel, *seed, *eid_prefix, *msisdn_prefix, *ci_cert;
	const char *faults[64];
	unsigned n_faults;
	uint32_t fleet, first_attach, index, count;
	unsigned long duration, notif_delay, notif_resend, notif_max;
	uint8_t msl;
	bool print_id, has_index;
};

static void parse_args(int argc, char **argv, struct app *a, struct options *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "vqh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_KANNEL:
			o->kannel = optarg;
			break;
		case OPT_FLEET:
			o->fleet = (uint32_t)parse_ulong("--fleet", optarg, SIM_FLEET_MAX);
			break;
		case OPT_SEED:
			o->seed = optarg;
			break;
		case OPT_EID_PREFIX:
			o->eid_prefix = optarg;
			break;
		case OPT_MSISDN_PREFIX:
			o->msisdn_prefix = optarg;
			break;
		case OPT_SMSR:
			if (!*optarg || strlen(optarg) > SIM_KANNEL_ADDR_MAX || strchr(optarg, ' '))
				usage();
			snprintf(a->smsr_addr, sizeof(a->smsr_addr), "%s", optarg);
			break;
		case OPT_DURATION:
			o->duration = parse_ulong("--duration", optarg, 86400 * 365);
			break;
		case OPT_STATS:
			a->stats_file = optarg;
			break;
		case OPT_FIRST_ATTACH:
			o->first_attach = (uint32_t)parse_ulong("--first-attach", optarg, SIM_FLEET_MAX);
			break;
		case OPT_NOTIF_DELAY:
			o->notif_delay = parse_ulong("--notif-delay", optarg, 3600000);
			break;
		case OPT_NOTIF_RESEND:
			o->notif_resend = parse_ulong("--notif-resend", optarg, 86400);
			break;
		case OPT_NOTIF_MAX:
			o->notif_max = parse_ulong("--notif-max-sends", optarg, 1000000);
			break;
		case OPT_MSL: {
			uint8_t b;
			if (proto_hex_decode(optarg, &b, 1) != 1)
				usage();
			o->msl = b;
			break;
		}
		case OPT_DROP:
			parse_fault(&a->f_drop, optarg);
			break;
		case OPT_DELAY: {
			char ms[32], *colon;

			if (snprintf(ms, sizeof(ms), "%s", optarg) >= (int)sizeof(ms))
				usage();
			colon = strchr(ms, ':');
			if (colon) {
				*colon = '\0';
				parse_fault(&a->f_delay, colon + 1);
			} else {
				a->f_delay.p = 1.0;
			}
			a->delay_ms = (unsigned)parse_ulong("--delay", ms, 3600000);
			break;
		}
		case OPT_DUP:
			parse_fault(&a->f_dup, optarg);
			break;
		case OPT_CORRUPT:
			parse_fault(&a->f_corrupt, optarg);
			break;
		case OPT_WRONG_CNTR:
			parse_fault(&a->f_wrong_cntr, optarg);
			break;
		case OPT_REORDER:
			parse_fault(&a->f_reorder, optarg);
			break;
		case OPT_ROLLBACK:
			parse_fault(&a->f_rollback, optarg);
			break;
		case OPT_CI_CERT:
			o->ci_cert = optarg;
			break;
		case OPT_FAULT: {
			struct sim_es8_faults f = {0};
			if (o->n_faults == sizeof(o->faults) / sizeof(o->faults[0]) ||
			    sim_es8_fault_parse(optarg, 0, &f) < 0) {
				fprintf(stderr, "euicc-sim: --fault %s: want receipt|mac|memory|ecasd@INDEX or @*\n",
					optarg);
				usage();
			}
			o->faults[o->n_faults++] = optarg;
			break;
		}
		case OPT_PRINT_ID:
			o->print_id = true;
			break;
		case OPT_INDEX:
			o->index = (uint32_t)parse_ulong("--index", optarg, SIM_FLEET_MAX - 1);
			o->has_index = true;
			break;
		case OPT_COUNT:
			o->count = (uint32_t)parse_ulong("--count", optarg, SIM_FLEET_MAX);
			break;
		case 'v':
			if (sim_log_threshold > SIM_LOG_DEBUG)
				sim_log_threshold--;
			break;
		case 'q':
			sim_log_threshold = SIM_LOG_ERROR;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* HOST:PORT into host (a copy: argv stays intact for ps) and port */
static int split_host_port(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned long p;
	char *end;

	if (!colon || colon == s || (size_t)(colon - s) >= cap)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	p = strtoul(colon + 1, &end, 10);
	if (*end || !p || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .fleet = 1, .duration = 300, .notif_delay = 1000, .notif_resend = 30, .notif_max = 5,
			     .msl = 0x06, .count = 1 };
	struct sim_kannel_ops ops = { .mt = on_mt };
	struct sim_fleet_cfg cfg;
	struct app a;
	char host[256];
	uint16_t port;
	uint32_t i;
	int rc, ret = 0;

	memset(&a, 0, sizeof(a));
	snprintf(a.smsr_addr, sizeof(a.smsr_addr), "1001");
	a.f_drop.name = "drop";
	a.f_delay.name = "delay";
	a.f_dup.name = "duplicate";
	a.f_corrupt.name = "corrupt";
	a.f_wrong_cntr.name = "wrong_counter";
	a.f_reorder.name = "reorder";
	a.f_rollback.name = "rollback";
	parse_args(argc, argv, &a, &o);

	if (sim_fleet_cfg_init(&cfg, o.seed, o.eid_prefix, o.msisdn_prefix) < 0) {
		fprintf(stderr, "euicc-sim: bad --seed, --eid-prefix or --msisdn-prefix\n");
		usage();
	}
	if (o.print_id) {
		if (!o.has_index || !o.count || o.index + (uint64_t)o.count > SIM_FLEET_MAX)
			usage();
		print_identity(&cfg, o.index, o.count);
		return 0;
	}
	if (!o.kannel || o.fleet == 0 || split_host_port(o.kannel, host, sizeof(host), &port) < 0)
		usage();
	a.resend_ms = (uint64_t)o.notif_resend * 1000;
	a.max_sends = (unsigned)o.notif_max;
	a.rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)strlen(cfg.seed);
	for (i = 0; cfg.seed[i]; i++)
		a.rng = (a.rng ^ (uint8_t)cfg.seed[i]) * 0x100000001B3ULL;
	if (!a.rng)
		a.rng = 1;

	signal(SIGPIPE, SIG_IGN);
	a.ctx = talloc_named_const(NULL, 0, "euicc-sim");
	a.base = event_base_new();
	a.fleet = sim_fleet_new(a.ctx, &cfg, o.fleet);
	a.ota = sim_ota_new(a.ctx, REASM_SLOTS, REASM_MAX_AGE);
	a.out = talloc_zero(a.ctx, struct sim_ota_out);
	if (!a.ctx || !a.base || !a.fleet || !a.ota || !a.out) {
		fprintf(stderr, "euicc-sim: out of memory\n");
		return 1;
	}
	if (o.ci_cert) {
		struct proto_ec_pub *ci;
		rc = sim_ci_load_pem(a.ctx, o.ci_cert, &ci);
		if (rc < 0) {
			fprintf(stderr, "euicc-sim: --ci-cert %s: %s\n", o.ci_cert,
				rc == -EINVAL ? "not a PEM certificate with a P-256 or brainpoolP256r1 key"
					      : strerror(-rc));
			return 2;
		}
		a.fleet->ci = ci;
	} else {
		SIM_LOG(SIM_DMAIN, SIM_LOG_NOTICE, "no --ci-cert: the ECASD refuses every CERT.DP.ECDSA (ES8)");
	}
	a.fleet->faults = o.faults;
	a.fleet->n_faults = o.n_faults;
	a.fleet->notif_delay_ms = o.notif_delay;
	a.fleet->msl.integ = o.msl & 0x03;		/* an SPI1 byte: b2b1 integrity, b3 ciphering, b5b4 counter */
	a.fleet->msl.cipher = o.msl & 0x04;
	a.fleet->msl.cntr = (o.msl >> 3) & 0x03;
	a.kannel = sim_kannel_new(a.ctx, a.base, host, port, &ops, &a);
	if (!a.kannel) {
		fprintf(stderr, "euicc-sim: cannot resolve %s:%u\n", host, port);
		return 2;
	}
	a.start_ms = a.last_expire_ms = now_ms();

	/* eUICC declarations (first attach) requested on the command line */
	for (i = 0; i < o.first_attach && i < o.fleet; i++) {
		struct sim_card *c = sim_fleet_card(a.fleet, i);
		if (c)
			sim_card_notif_queue(c, SIM_NOTIF_FIRST_ATTACH, a.start_ms);
	}

	{
		struct timeval tick = { 0, TICK_MS * 1000 };
		struct timeval dur = { (time_t)o.duration, 0 };

		a.tick = event_new(a.base, -1, EV_PERSIST, tick_cb, &a);
		a.sig_term = evsignal_new(a.base, SIGTERM, stop_cb, &a);
		a.sig_int = evsignal_new(a.base, SIGINT, stop_cb, &a);
		a.stop = evtimer_new(a.base, stop_cb, &a);
		if (!a.tick || !a.sig_term || !a.sig_int || !a.stop) {
			fprintf(stderr, "euicc-sim: event setup failed\n");
			return 1;
		}
		event_add(a.tick, &tick);
		event_add(a.sig_term, NULL);
		event_add(a.sig_int, NULL);
		if (o.duration)
			evtimer_add(a.stop, &dur);
	}
	SIM_LOG(SIM_DMAIN, SIM_LOG_NOTICE, "fleet of %u eUICCs (MSISDN %s%0*u..), fake SMSC %s:%u, SM-SR %s, "
		"duration %lu s", o.fleet, cfg.msisdn_prefix, SIM_MSISDN_INDEX_DIGITS, 0, host, port, a.smsr_addr,
		o.duration);
	sim_kannel_start(a.kannel);
	event_base_dispatch(a.base);

	SIM_LOG(SIM_DMAIN, SIM_LOG_NOTICE, "stopping (%s): %llu MT, %llu packets, %llu PoR (%llu ok), %llu MO, "
		"%llu notifications", a.stop_reason ? a.stop_reason : "event loop ended",
		(unsigned long long)a.st.mt_sms, (unsigned long long)a.st.packets, (unsigned long long)a.st.por_sent,
		(unsigned long long)a.st.por_ok, (unsigned long long)a.st.mo_sms,
		(unsigned long long)a.st.notifications);
	if (a.stats_file) {
		rc = write_stats(&a, a.stats_file);
		if (rc < 0) {
			SIM_LOG(SIM_DMAIN, SIM_LOG_ERROR, "cannot write %s: %s", a.stats_file, strerror(-rc));
			ret = 1;
		}
	}
	event_free(a.tick);
	event_free(a.sig_term);
	event_free(a.sig_int);
	event_free(a.stop);
	talloc_free(a.ctx);	/* cards (key handles wiped), reassembly, Kannel link, delayed MOs */
	event_base_free(a.base);
	return ret;
}
