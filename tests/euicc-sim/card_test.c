/* Unit tests of the simulated eUICC (card.c, card_es8.c), its SCP80 receive path (sim_ota.c), the fleet derivation
 * (fleet.c) and the fake-SMSC line codec (kannel_fake.c), without Kannel. The SM-SR and SM-DP sides are played with
 * the ota/ and proto/ codecs. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "proto/bertlv.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_apdu.h"
#include "proto/gp_cert.h"
#include "proto/hex.h"
#include "proto/saip_rsp.h"
#include "proto/ts102226_rcmd.h"
#include "ota/gp_ecka.h"
#include "ota/gp_scp03.h"
#include "ota/keystore.h"
#include "ota/keystore_ec.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "tests/testlib.h"
#include "tests/euicc-sim/card.h"
#include "tests/euicc-sim/fleet.h"
#include "tests/euicc-sim/kannel_fake.h"
#include "tests/euicc-sim/sim_ota.h"

static void *ctx;
static struct sim_fleet_cfg cfg;

static const uint8_t aid_p0[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89,
				    0x00, 0x00, 0x10, 0x00 };
static const uint8_t aid_p1[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89,
				    0x00, 0x00, 0x11, 0x00 };
static const uint8_t aid_new[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89,
				     0x00, 0x00, 0x12, 0x00 };
static const uint8_t aid_absent[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89,
					0x00, 0x00, 0x77, 0x00 };
static const uint8_t tar_isdr[3] = { 0x00, 0x00, 0x01 };

static struct sim_card *new_card(uint32_t index)
{
	struct sim_identity id;
	struct sim_card *c;

	if (sim_fleet_identity(&cfg, index, &id) < 0)
		return NULL;
	sim_identity_wipe(&id);
	c = sim_card_new(ctx, &cfg, &id);
	return c;
}

/* One ES5 command builder: appends one C-APDU. */
typedef int (*build_fn)(struct proto_buf *b, const void *arg);

static int b_enable(struct proto_buf *b, const void *aid)
{
	return proto_gp_es5_enable_profile(b, aid, 16);
}

static int b_disable(struct proto_buf *b, const void *aid)
{
	return proto_gp_es5_disable_profile(b, aid, 16);
}

static int b_fallback(struct proto_buf *b, const void *aid)
{
	return proto_gp_es5_set_fallback(b, aid, 16);
}

static int b_delete(struct proto_buf *b, const void *aid)
{
	return proto_gp_es5_delete_profile(b, aid, 16);
}

static int b_status(struct proto_buf *b, const void *aid)
{
	static const uint8_t tags[] = { 0x4F, 0x9F, 0x70 };

	return proto_gp_get_status(b, PROTO_GP_STATUS_P1_APPS, PROTO_GP_STATUS_P2_TLV, aid, aid ? 16 : 0, tags,
				   aid ? 0 : sizeof(tags));
}

static int b_audit_data(struct proto_buf *b, const void *arg)
{
	static const uint8_t tags[] = { 0xFF, 0x21 };

	return proto_gp_es5_audit_get_data(b, tags, sizeof(tags));
}

static int b_confirm(struct proto_buf *b, const void *seq)
{
	return proto_gp_es5_notification_confirm(b, *(const uint16_t *)seq);
}

struct create_arg {
	const uint8_t *aid;
	uint32_t quota;
};

static int b_create(struct proto_buf *b, const void *arg)
{
	const struct create_arg *ca = arg;

	return proto_gp_es5_create_isdp(b, ca->aid, 16, &ca->quota);
}

/* Build an expanded script AA { 22 cmd ... } from up to 8 commands. */
struct cmd {
	build_fn fn;
	const void *arg;
};

static size_t build_script(uint8_t *out, size_t cap, const struct cmd *cmds, unsigned n)
{
	struct proto_rcmd_enc e;
	struct proto_buf b;
	unsigned i;
	int rc;

	proto_buf_init(&b, out, cap);
	proto_rcmd_cmd_begin(&e, &b, false);
	for (i = 0; i < n; i++) {
		size_t m = proto_rcmd_capdu_open(&e);
		cmds[i].fn(&b, cmds[i].arg);
		proto_rcmd_capdu_close(&e, m);
	}
	rc = proto_rcmd_end(&e);
	return rc < 0 ? 0 : (size_t)rc;
}

/* Run one command on the card directly; returns the SW, response data (without SW) copied to rdata. */
static uint16_t run1(struct sim_card *c, build_fn fn, const void *arg, uint8_t *rdata, size_t *rlen)
{
	uint8_t apdu[300], rsp[512];
	struct proto_buf b, r;
	struct proto_apdu a;
	uint16_t sw;

	proto_buf_init(&b, apdu, sizeof(apdu));
	fn(&b, arg);
	if (proto_apdu_decode(b.data, b.len, &a) < 0)
		return 0;
	proto_buf_init(&r, rsp, sizeof(rsp));
	sw = sim_card_apdu(c, &a, &r, 1000);
	if (rdata) {
		memcpy(rdata, r.data, r.len);
		*rlen = r.len;
	}
	return sw;
}

static uint16_t sw1(struct sim_card *c, build_fn fn, const void *arg)
{
	return run1(c, fn, arg, NULL, NULL);
}

/*
 * Card model
 */

static void test_preprovisioned(void)
{
	struct sim_card *c = new_card(7);

	CHECK(c != NULL, "card");
	CHECK(c->isdp[0].used && c->isdp[0].lcs == SIM_LCS_ENABLED && c->isdp[0].fallback, "profile 0 enabled, fb");
	CHECK(c->isdp[1].used && c->isdp[1].lcs == SIM_LCS_DISABLED && !c->isdp[1].fallback, "profile 1 disabled");
	CHECK(sim_card_free_mem(c) == SIM_TOTAL_MEMORY - 2 * SIM_PREPROV_QUOTA, "free %u", sim_card_free_mem(c));
	CHECK(sim_card_enabled(c) == &c->isdp[0], "enabled");
	CHECK(sim_card_isdp_find_by_tar(c, (const uint8_t *)"\x00\x00\x11") == &c->isdp[1], "implicit TAR");
	CHECK(c->kic == NULL && c->kid == NULL, "keys not imported before first use");
	CHECK_RC(sim_card_keys(c), 0);
	CHECK(c->kic && c->kid && ota_key_len(c->kic) == 16, "keys imported");
	talloc_free(c);
}

static void test_enable_disable(void)
{
	struct sim_card *c = new_card(7);
	static const uint8_t bad_aid[3] = { 1, 2, 3 };
	struct sim_notif *n;

	CHECK(sw1(c, b_enable, aid_p0) == 0x6985, "enable the enabled profile: 6985");
	CHECK(sw1(c, b_enable, aid_absent) == 0x6A88, "enable unknown: 6A88");
	{
		/* 4F with a 3-byte AID: 6A80 */
		uint8_t apdu[64], rsp[16];
		struct proto_buf b, r;
		struct proto_apdu a;
		uint8_t dgi[] = { 0x3A, 0x03, 0x05, 0x4F, 0x03, 0, 0, 0 };

		memcpy(dgi + 5, bad_aid, 3);
		proto_buf_init(&b, apdu, sizeof(apdu));
		proto_gp_store_data(&b, 0x88, 0x00, dgi, sizeof(dgi));
		proto_apdu_decode(b.data, b.len, &a);
		proto_buf_init(&r, rsp, sizeof(rsp));
		CHECK(sim_card_apdu(c, &a, &r, 0) == 0x6A80, "bad AID: 6A80");
	}
	CHECK(sim_card_notif_pending(c) == 0, "no notification after errors");

	/* POL1 of the enabled profile forbids disabling it: 69E1 */
	c->isdp[0].pol1_disable_not_allowed = true;
	CHECK(sw1(c, b_enable, aid_p1) == 0x69E1, "enable with POL1 disable-not-allowed: 69E1");
	c->isdp[0].pol1_disable_not_allowed = false;

	CHECK(sw1(c, b_enable, aid_p1) == 0x9000, "enable P1");
	CHECK(c->isdp[1].lcs == SIM_LCS_ENABLED && c->isdp[0].lcs == SIM_LCS_DISABLED, "P1 enabled, P0 disabled");
	CHECK(sim_card_notif_pending(c) == 1, "one notification");
	n = sim_card_notif_due(c, 1000);
	CHECK(n && n->type == SIM_NOTIF_CHANGE_OK && n->seq == 1 && !memcmp(n->aid, aid_p1, 16), "notification 02");

	CHECK(sw1(c, b_disable, aid_p0) == 0x6985, "disable a disabled profile: 6985");
	CHECK(sw1(c, b_disable, aid_absent) == 0x6A88, "disable unknown: 6A88");
	c->isdp[1].pol1_disable_not_allowed = true;
	CHECK(sw1(c, b_disable, aid_p1) == 0x69E1, "disable with POL1: 69E1");
	c->isdp[1].pol1_disable_not_allowed = false;
	CHECK(sw1(c, b_disable, aid_p1) == 0x9000, "disable P1");
	CHECK(c->isdp[0].lcs == SIM_LCS_ENABLED && c->isdp[1].lcs == SIM_LCS_DISABLED, "fall-back P0 enabled");
	CHECK(sim_card_notif_pending(c) == 2, "two notifications");
	CHECK(c->notif[1].type == SIM_NOTIF_FALLBACK && c->notif[1].seq == 2 && !memcmp(c->notif[1].aid, aid_p0, 16),
	      "notification 05 with the fall-back AID");
	CHECK(sw1(c, b_disable, aid_p0) == 0x6985, "disable the fall-back profile: 6985");

	/* roll-back: the next Enable fails to attach */
	c->fail_next_enable = true;
	CHECK(sw1(c, b_enable, aid_p1) == 0x9000, "enable accepted");
	CHECK(c->isdp[0].lcs == SIM_LCS_ENABLED && c->isdp[1].lcs == SIM_LCS_DISABLED && !c->fail_next_enable,
	      "rolled back");
	CHECK(c->notif[2].type == SIM_NOTIF_ROLLBACK && !memcmp(c->notif[2].aid, aid_p0, 16), "notification 03");

	/* autonomous fall-back */
	CHECK(sim_card_fallback_activate(c, 0) == -ENOENT, "fall-back already enabled");
	CHECK(sw1(c, b_enable, aid_p1) == 0x9000, "enable P1 again");
	CHECK_RC(sim_card_fallback_activate(c, 5), 0);
	CHECK(c->isdp[0].lcs == SIM_LCS_ENABLED, "fall-back enabled");
	talloc_free(c);
}

static void test_fallback_attr(void)
{
	struct sim_card *c = new_card(7);

	CHECK(sw1(c, b_fallback, aid_absent) == 0x6A88, "set fall-back on unknown: 6A88");
	CHECK(sw1(c, b_fallback, aid_p1) == 0x9000, "set fall-back on P1");
	CHECK(c->isdp[1].fallback && !c->isdp[0].fallback, "attribute moved");
	CHECK(sw1(c, b_disable, aid_p0) == 0x9000, "P0 (no longer fall-back) can be disabled");
	CHECK(c->isdp[1].lcs == SIM_LCS_ENABLED, "new fall-back enabled");
	talloc_free(c);
}

static void test_create_delete(void)
{
	struct sim_card *c = new_card(7);
	struct create_arg ca = { aid_new, 65536 };
	struct create_arg big = { aid_absent, 200000 };
	uint8_t r[300];
	size_t rl = 0;
	uint32_t free0 = sim_card_free_mem(c);

	CHECK(run1(c, b_create, &ca, r, &rl) == 0x9000, "CreateISDP");
	CHECK_HEX(r, rl, "00", "INSTALL response data");
	CHECK(sim_card_free_mem(c) == free0 - 65536, "memory allocated");
	{
		struct sim_isdp *d = sim_card_isdp_find(c, aid_new, 16);
		CHECK(d && d->lcs == SIM_LCS_SELECTABLE && d->quota == 65536, "new ISD-P SELECTABLE");
	}
	CHECK(sw1(c, b_create, &ca) == 0x6A80, "same AID again: 6A80");
	CHECK(sw1(c, b_create, &big) == 0x6A84, "quota above free memory: 6A84");
	{
		uint8_t apdu[300];
		struct proto_buf b, rr;
		struct proto_apdu a;

		proto_buf_init(&b, apdu, sizeof(apdu));
		proto_gp_es5_create_isdp(&b, aid_absent, 16, NULL);
		proto_apdu_decode(b.data, b.len, &a);
		/* truncated data: 6A80 */
		a.lc -= 3;
		proto_buf_init(&rr, r, sizeof(r));
		CHECK(sim_card_apdu(c, &a, &rr, 0) == 0x6A80, "truncated INSTALL: 6A80");
		/* wrong ELF AID: 6A88 */
		apdu[5 + 16] ^= 0x01;
		proto_apdu_decode(b.data, b.len, &a);
		CHECK(sim_card_apdu(c, &a, &rr, 0) == 0x6A88, "wrong ELF: 6A88");
	}
	CHECK(sw1(c, b_delete, aid_p0) == 0x6985, "delete the enabled (fall-back) profile: 6985");
	CHECK(sw1(c, b_delete, aid_absent) == 0x6A88, "delete unknown: 6A88");
	c->isdp[1].pol1_delete_not_allowed = true;
	CHECK(sw1(c, b_delete, aid_p1) == 0x69E1, "delete with POL1: 69E1");
	c->isdp[1].pol1_delete_not_allowed = false;
	CHECK(sw1(c, b_fallback, aid_p1) == 0x9000, "move fall-back to P1");
	CHECK(sw1(c, b_delete, aid_p1) == 0x6985, "delete the fall-back profile: 6985");
	CHECK(sw1(c, b_fallback, aid_p0) == 0x9000, "fall-back back to P0");
	CHECK(run1(c, b_delete, aid_p1, r, &rl) == 0x9000, "delete P1");
	CHECK_HEX(r, rl, "00", "DELETE response data");
	CHECK(sim_card_isdp_find(c, aid_p1, 16) == NULL, "P1 gone");
	CHECK(sim_card_free_mem(c) == free0 - 65536 + 65536, "P1's quota freed");
	CHECK(sw1(c, b_delete, aid_new) == 0x9000, "delete the new ISD-P");
	CHECK(sim_card_free_mem(c) == SIM_TOTAL_MEMORY - SIM_PREPROV_QUOTA, "memory back");
	/* fill the memory exactly, then one byte more is refused */
	{
		struct create_arg all = { aid_new, sim_card_free_mem(c) };
		struct create_arg one = { aid_absent, 1 };
		CHECK(sw1(c, b_create, &all) == 0x9000, "quota = free memory");
		CHECK(sim_card_free_mem(c) == 0, "no memory left");
		CHECK(sw1(c, b_create, &one) == 0x6A84, "one byte more: 6A84");
	}
	talloc_free(c);
}

static void test_audit(void)
{
	struct sim_card *c = new_card(7);
	uint8_t r[300];
	size_t rl = 0;
	char want[256];

	CHECK(run1(c, b_status, aid_p0, r, &rl) == 0x9000, "GET STATUS P0");
	CHECK_HEX(r, rl, "e3254f10a0000005591010ffffffff89000010009f70013f530101" "8f0400010000" "910400004000",
		  "E3 of P0: AID, LCS 3F, fall-back, granted 65536, remaining 16384");
	CHECK(run1(c, b_status, aid_absent, r, &rl) == 0x6A88 && rl == 0, "GET STATUS absent: 6A88");
	CHECK(run1(c, b_status, NULL, r, &rl) == 0x9000, "GET STATUS all with tag list 4F 9F70");
	CHECK_HEX(r, rl,
		  "e3164f10a0000005591010ffffffff89000010009f70013f"
		  "e3164f10a0000005591010ffffffff89000011009f70011f",
		  "two entries, only the listed tags");
	CHECK(run1(c, b_audit_data, NULL, r, &rl) == 0x9000, "GET DATA BF30");
	snprintf(want, sizeof(want), "bf3012ff210f810102" "8204%08x" "8304%08x",
		 SIM_TOTAL_MEMORY - 2 * SIM_PREPROV_QUOTA, SIM_FREE_VOLATILE);
	CHECK_HEX(r, rl, want, "BF30 { FF21 { 81 #ISD-Ps, 82 free NVM, 83 free VM } }");
	/* more ISD-Ps than 256 bytes of E3 entries: 6310, then the rest with P2 = 03 */
	{
		struct create_arg ca = { aid_new, 0 };
		uint8_t aid[16];
		unsigned i, total = 0;
		uint8_t apdu[64];
		struct proto_buf b, rr;
		struct proto_apdu a;
		uint16_t sw;

		memcpy(aid, aid_new, 16);
		ca.aid = aid;
		for (i = 0; i < 6; i++) {
			aid[14] = (uint8_t)(0x20 + i);
			CHECK(sw1(c, b_create, &ca) == 0x9000, "create %u", i);
		}
		proto_buf_init(&b, apdu, sizeof(apdu));
		proto_gp_get_status(&b, 0x40, 0x02, NULL, 0, NULL, 0);
		proto_apdu_decode(b.data, b.len, &a);
		proto_buf_init(&rr, r, sizeof(r));
		sw = sim_card_apdu(c, &a, &rr, 0);
		CHECK(sw == 0x6310 && rr.len <= 256 && rr.len > 0, "first part: %04x, %zu bytes", sw, rr.len);
		total += (unsigned)(rr.len / 39);
		a.p2 = 0x03;
		proto_buf_init(&rr, r, sizeof(r));
		sw = sim_card_apdu(c, &a, &rr, 0);
		CHECK(sw == 0x9000, "second part: %04x", sw);
		total += (unsigned)(rr.len / 39);
		CHECK(total == 8, "8 entries of 39 bytes: %u", total);
	}
	talloc_free(c);
}

static void test_notifications(void)
{
	struct sim_card *c = new_card(7);
	struct sim_identity id;
	struct sim_notif *n;
	uint8_t buf[128], imei[8], r[16];
	struct proto_buf b;
	uint16_t seq;
	size_t rl = 0;
	char want[256], imei_hex[17];

	sim_fleet_identity(&cfg, 7, &id);
	sim_identity_wipe(&id);

	/* TS 24.008 IMEI digits as in the real notification of sgp02.md §6.5 */
	CHECK_RC(sim_imei_encode("354990075195830", imei), 0);
	CHECK_HEX(imei, 8, "3a45990057918503", "IMEI coding");

	c->notif_delay_ms = 500;
	n = sim_card_notif_queue(c, SIM_NOTIF_FIRST_ATTACH, 1000);
	CHECK(n && n->seq == 1 && n->type == 1, "declaration queued");
	CHECK(sim_card_notif_due(c, 1499) == NULL, "not due before the delay");
	CHECK(sim_card_notif_due(c, 1500) == n, "due after the delay");
	proto_buf_init(&b, buf, sizeof(buf));
	CHECK_RC(sim_card_notif_encode(c, n, &b), 0);
	sim_imei_encode(id.imei, imei);
	proto_hex_encode(imei, 8, imei_hex);
	snprintf(want, sizeof(want), "e1354c10%s4d01014e0200014f10a0000005591010ffffffff89000010001408%s", id.eid_hex,
		 imei_hex);
	CHECK_HEX(b.data, b.len, want, "E1 notification");

	/* resend timer and limit */
	sim_card_notif_sent(c, n, 1500, 2000, 2);
	CHECK(sim_card_notif_due(c, 3499) == NULL && sim_card_notif_due(c, 3500) == n, "resent after 2 s");
	CHECK(n->state == SIM_NOTIF_SENT, "SENT");
	sim_card_notif_sent(c, n, 3500, 2000, 2);
	CHECK(sim_card_notif_due(c, 99999) == NULL && sim_card_notif_pending(c) == 1, "max sends reached, pending");
	CHECK(n->state == SIM_NOTIF_EXHAUSTED, "%s", sim_notif_state_name(n->state));

	/* confirmation */
	seq = 1;
	CHECK(run1(c, b_confirm, &seq, r, &rl) == 0x9000, "confirm seq 1");
	CHECK_HEX(r, rl, "8000", "empty list of deleted ISD-Ps");
	CHECK(sim_card_notif_pending(c) == 0 && n->state == SIM_NOTIF_CONFIRMED, "confirmed");
	CHECK(run1(c, b_confirm, &seq, r, &rl) == 0x9000, "confirm again: idempotent");
	seq = 9;
	CHECK(run1(c, b_confirm, &seq, r, &rl) == 0x6A88 && rl == 0, "never issued: 6A88");

	/* queue overflow replaces the oldest */
	{
		unsigned i;
		for (i = 0; i < SIM_CARD_MAX_NOTIF + 1; i++)
			sim_card_notif_queue(c, SIM_NOTIF_CHANGE_OK, 0);
		CHECK(sim_card_notif_pending(c) == SIM_CARD_MAX_NOTIF, "queue bounded");
		CHECK(c->next_seq == 2 + SIM_CARD_MAX_NOTIF + 1, "sequence numbers advance");
	}
	talloc_free(c);
}

static void test_scripts(void)
{
	struct sim_card *c = new_card(7);
	struct sim_script_result res;
	uint8_t script[512], rsp[512];
	struct proto_buf r;
	size_t n;

	/* stops at the first error: unknown AID (6A88), the second Enable does not run */
	{
		struct cmd cmds[] = { { b_enable, aid_absent }, { b_enable, aid_p1 } };
		n = build_script(script, sizeof(script), cmds, 2);
		proto_buf_init(&r, rsp, sizeof(rsp));
		CHECK_RC(sim_card_run_script(c, script, n, &r, 0, &res), 0);
		CHECK_HEX(r.data, r.len, "ab07800101" "23026a88", "AB { 80 01 01, 23 6A88 }");
		CHECK(res.n_executed == 1 && res.last_sw == 0x6A88 && res.error, "result");
		CHECK(c->isdp[1].lcs == SIM_LCS_DISABLED, "second command not run");
	}
	/* two commands fine */
	{
		struct cmd cmds[] = { { b_status, aid_p1 }, { b_enable, aid_p1 } };
		n = build_script(script, sizeof(script), cmds, 2);
		proto_buf_init(&r, rsp, sizeof(rsp));
		CHECK_RC(sim_card_run_script(c, script, n, &r, 0, &res), 0);
		CHECK(res.n_executed == 2 && res.last_sw == 0x9000 && !res.error, "two executed");
		CHECK(r.len > 8 && r.data[0] == 0xAB && r.data[2] == 0x80 && r.data[4] == 2, "AB 80 02");
	}
	/* indefinite form answered AF 80 ... 00 00 */
	{
		static const uint8_t ae[] = { 0xAE, 0x80, 0x22, 0x05, 0x80, 0xCA, 0xFF, 0x21, 0x00, 0x00, 0x00 };
		proto_buf_init(&r, rsp, sizeof(rsp));
		CHECK_RC(sim_card_run_script(c, ae, sizeof(ae), &r, 0, &res), 0);
		CHECK(r.len > 6 && r.data[0] == 0xAF && r.data[1] == 0x80 && !r.data[r.len - 1] && !r.data[r.len - 2],
		      "AF 80 ... 00 00");
	}
	/* bad format */
	{
		static const uint8_t bad[] = { 0xAA, 0x04, 0x22, 0x09, 0x80, 0xCA };
		proto_buf_init(&r, rsp, sizeof(rsp));
		CHECK_RC(sim_card_run_script(c, bad, sizeof(bad), &r, 0, &res), 0);
		CHECK(res.bad_format && r.data[0] == 0xAB, "bad format answered");
		CHECK(r.len == 8 && r.data[5] == 0x90, "AB { 80 01 00, 90 01 type }: %s", proto_hexstr(r.data, r.len));
	}
	/* compact format: GET DATA FF21 (case 2 in TPDU form) */
	{
		static const uint8_t compact[] = { 0x80, 0xCA, 0xFF, 0x21, 0x00 };
		proto_buf_init(&r, rsp, sizeof(rsp));
		CHECK_RC(sim_card_run_script(c, compact, sizeof(compact), &r, 0, &res), 0);
		CHECK(r.len > 3 && r.data[0] == 1 && r.data[1] == 0x90 && r.data[2] == 0x00 && r.data[3] == 0xFF,
		      "compact response 01 9000 FF21...");
	}
	/* unknown INS, CLA */
	{
		static const uint8_t ins[] = { 0xAA, 0x06, 0x22, 0x04, 0x80, 0x10, 0x00, 0x00 };
		proto_buf_init(&r, rsp, sizeof(rsp));
		sim_card_run_script(c, ins, sizeof(ins), &r, 0, &res);
		CHECK(res.last_sw == 0x6D00, "unknown INS: %04x", res.last_sw);
	}
	talloc_free(c);
}

/*
 * SCP80 receive path
 */

struct host {
	struct ota_key *kic, *kid;
	uint8_t ref;
};

static void host_keys(struct host *h, uint32_t index)
{
	struct sim_identity id;

	sim_fleet_identity(&cfg, index, &id);
	ota_key_import(ctx, id.kic, 16, &h->kic);
	ota_key_import(ctx, id.kid, 16, &h->kid);
	sim_identity_wipe(&id);
}

/* Secure and send data as SMS-PP MTs (segments optionally in reverse order, optionally a duplicate). */
static int send_packet(struct sim_ota *o, struct sim_card *c, struct host *h, const char *spi_hex, uint8_t kic,
		       uint8_t kid, const uint8_t tar[3], uint64_t cntr, struct ota_key *kic_key,
		       struct ota_key *kid_key, const uint8_t *data, size_t len, bool reverse, bool dup,
		       struct sim_ota_out *out, unsigned *nseg)
{
	struct ota_cmd_hdr hdr = { .kic = kic, .kid = kid };
	struct ota_sec sec = { .kic_key = kic_key, .kid_key = kid_key };
	static uint8_t pkt[4096];
	static struct ota_sms_ud segs[32];
	struct proto_buf b;
	int n, i, rc;

	proto_hex_decode(spi_hex, hdr.spi, 2);
	memcpy(hdr.tar, tar, 3);
	ota_cntr_put(hdr.cntr, cntr);
	proto_buf_init(&b, pkt, sizeof(pkt));
	rc = ota_spkt_cmd_encode(&b, &hdr, &sec, data, len);
	if (rc < 0)
		return rc;
	n = ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, h->ref++, segs, 32);
	if (n < 0)
		return n;
	if (nseg)
		*nseg = (unsigned)n;
	for (i = 0; i < n; i++) {
		int k = reverse ? n - 1 - i : i;
		rc = sim_ota_mt(o, c, "1001", segs[k].ud, segs[k].len, 5000, NULL, out);
		if (rc < 0)
			return rc;
		if (dup && i == 0 && n > 1) {
			rc = sim_ota_mt(o, c, "1001", segs[k].ud, segs[k].len, 5000, NULL, out);
			if (rc < 0 || out->event != SIM_OTA_PENDING)
				return -1;
		}
	}
	return 0;
}

/* Reassemble the MO segments (as the SM-SR would) and decode the PoR. */
static int decode_por(const struct sim_ota_out *out, const char *spi_hex, uint8_t kic, uint8_t kid, struct host *h,
		      bool reverse, struct ota_por *por)
{
	static uint8_t ud[8192], scratch[8192];
	struct ota_sec sec = { .kic_key = h->kic, .kid_key = h->kid };
	struct ota_sms_reasm *r = ota_sms_reasm_new(ctx, 4, 60);
	struct ota_sms_reasm_out ro;
	struct proto_buf b;
	uint8_t spi[2];
	unsigned i;
	int rc = 0;

	proto_hex_decode(spi_hex, spi, 2);
	proto_buf_init(&b, ud + 64, sizeof(ud) - 64);
	for (i = 0; i < out->n_mo && rc == 0; i++) {
		unsigned k = reverse ? out->n_mo - 1 - i : i;
		rc = ota_sms_reasm_feed(r, "491700000007", out->mo[k].ud, out->mo[k].len, 0, &b, &ro);
	}
	talloc_free(r);
	if (rc != 1 || !ro.rsp_pkt)
		return -1;
	/* UDH of the segment with IE 71, then the packet */
	memmove(ud + ro.udh_len, b.data, b.len);
	memcpy(ud, ro.udh, ro.udh_len);
	return ota_por_decode(ud, ro.udh_len + b.len, true, spi, kic, kid, &sec, scratch, sizeof(scratch), por);
}

static void test_ota(void)
{
	struct sim_ota *o = sim_ota_new(ctx, 16, 60);
	struct sim_card *c = new_card(7);
	struct sim_ota_out *out = talloc_zero(ctx, struct sim_ota_out);
	struct host h = { 0 }, wrong = { 0 };
	struct ota_por por;
	uint8_t script[1024];
	size_t n;
	unsigned nseg = 0;
	struct cmd enable[] = { { b_enable, aid_p1 } };

	host_keys(&h, 7);
	host_keys(&wrong, 8);
	n = build_script(script, sizeof(script), enable, 1);

	/* Enable with SPI 1621 (CC, ciphering, counter higher; PoR required, unsecured) */
	CHECK_RC(send_packet(o, c, &h, "1621", 0x12, 0x12, tar_isdr, 1, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->event == SIM_OTA_PROCESSED && out->status == 0 && out->executed && out->por && out->n_mo == 1,
	      "Enable processed, PoR");
	CHECK(out->mo[0].ud[0] == 0x02 && out->mo[0].ud[1] == 0x71 && out->mo[0].ud[2] == 0x00, "UDH 027100");
	CHECK_RC(decode_por(out, "1621", 0x12, 0x12, &h, false, &por), 0);
	CHECK(por.status == 0 && por.integrity == OTA_INTEGRITY_NONE && !por.ciphered, "PoR 00 in clear");
	CHECK_HEX(por.cntr, 5, "0000000001", "PoR echoes the CNTR");
	CHECK_HEX(por.tar, 3, "000001", "PoR TAR");
	CHECK_HEX(por.data, por.data_len, "ab07800101230290" "00", "AB { 80 01 01, 23 9000 }");
	CHECK(c->cntr == 1 && c->isdp[1].lcs == SIM_LCS_ENABLED, "counter updated, profile enabled");

	/* replay: CNTR low (02) */
	CHECK_RC(send_packet(o, c, &h, "1621", 0x12, 0x12, tar_isdr, 1, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x02 && !out->executed && out->por, "replay: 02");
	CHECK_RC(decode_por(out, "1621", 0x12, 0x12, &h, false, &por), 0);
	CHECK(por.status == 0x02 && por.data_len == 0, "PoR 02 without data");
	CHECK(c->cntr == 1, "counter unchanged");

	/* mode 11 (SPI1 1E): must be exactly stored + 1 */
	CHECK_RC(send_packet(o, c, &h, "1E21", 0x12, 0x12, tar_isdr, 3, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x03, "one-higher mode, CNTR + 2: 03 (got %02x)", out->status);
	CHECK_RC(send_packet(o, c, &h, "1E21", 0x12, 0x12, tar_isdr, 1, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x02, "one-higher mode, CNTR equal: 02");
	CHECK_RC(send_packet(o, c, &h, "1E21", 0x12, 0x12, tar_isdr, 2, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x00 && out->script.last_sw == 0x6985 && c->cntr == 2,
	      "one-higher mode, CNTR + 1: 00, Enable of the enabled profile 6985");
	/* counter blocked at the maximum */
	c->cntr = OTA_CNTR_MAX;
	CHECK_RC(send_packet(o, c, &h, "1621", 0x12, 0x12, tar_isdr, 5, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x04, "counter blocked: 04");
	c->cntr = 2;

	/* no counter (SPI1 06): no check, no update */
	CHECK_RC(send_packet(o, c, &h, "0621", 0x12, 0x12, tar_isdr, 0, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x00 && c->cntr == 2, "no counter: processed, stored counter kept");

	/* fault: wrong counter */
	{
		struct sim_ota_opts opts = { .wrong_counter = true };
		struct ota_cmd_hdr hdr = { .spi = { 0x16, 0x21 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 } };
		struct ota_sec sec = { .kic_key = h.kic, .kid_key = h.kid };
		uint8_t pkt[256];
		struct ota_sms_ud seg[1];
		struct proto_buf b;

		ota_cntr_put(hdr.cntr, 10);
		proto_buf_init(&b, pkt, sizeof(pkt));
		ota_spkt_cmd_encode(&b, &hdr, &sec, script, n);
		ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, 0, seg, 1);
		CHECK_RC(sim_ota_mt(o, c, "1001", seg[0].ud, seg[0].len, 0, &opts, out), 0);
		CHECK(out->status == 0x02 && !out->executed && c->cntr == 2, "--wrong-counter: 02, nothing run");
	}

	/* wrong KID key: RC/CC failed (01); the counter is not touched */
	CHECK_RC(send_packet(o, c, &h, "1621", 0x12, 0x12, tar_isdr, 20, h.kic, wrong.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x01 && !out->executed && c->cntr == 2, "wrong CC: 01, counter unchanged");
	/* wrong KIc key: ciphering error (05) or CC failure (01) */
	CHECK_RC(send_packet(o, c, &h, "1621", 0x12, 0x12, tar_isdr, 21, wrong.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK((out->status == 0x05 || out->status == 0x01) && !out->executed && c->cntr == 2,
	      "wrong KIc: %02x", out->status);
	/* error PoR secured as SPI2 asks (CC 29 and ciphered + CC 39) */
	CHECK_RC(send_packet(o, c, &h, "1639", 0x12, 0x12, tar_isdr, 22, h.kic, wrong.kid, script, n, false, false,
			     out, NULL), 0);
	CHECK_RC(decode_por(out, "1639", 0x12, 0x12, &h, false, &por), 0);
	CHECK(por.status == 0x01 && por.ciphered && por.integrity == OTA_INTEGRITY_OK, "01 ciphered with CC");

	/* unknown TAR: 09 in clear, even when SPI2 asks for CC */
	{
		static const uint8_t tar_x[3] = { 0xB0, 0x00, 0x10 };
		CHECK_RC(send_packet(o, c, &h, "1629", 0x12, 0x12, tar_x, 30, h.kic, h.kid, script, n, false, false,
				     out, NULL), 0);
		CHECK(out->status == 0x09 && out->por, "TAR unknown: 09");
		CHECK_RC(decode_por(out, "1629", 0x12, 0x12, &h, false, &por), 0);
		CHECK(por.status == 0x09 && por.integrity == OTA_INTEGRITY_NONE && !por.ciphered, "09 in clear");
		CHECK_HEX(por.tar, 3, "b00010", "09 echoes the TAR");
	}
	/* key version not on the card (KIc/KID 22): 06 in clear */
	CHECK_RC(send_packet(o, c, &h, "1629", 0x22, 0x22, tar_isdr, 31, h.kic, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x06, "unknown key version: 06 (got %02x)", out->status);
	CHECK_RC(decode_por(out, "1629", 0x22, 0x22, &h, false, &por), 0);
	CHECK(por.status == 0x06 && por.integrity == OTA_INTEGRITY_NONE, "06 in clear");

	/* minimum security level: CC without ciphering is refused with 0A (secured per SPI2 29) */
	CHECK_RC(send_packet(o, c, &h, "1229", 0x12, 0x12, tar_isdr, 32, NULL, h.kid, script, n, false, false, out,
			     NULL), 0);
	CHECK(out->status == 0x0A && !out->executed, "insufficient security level: 0A");
	CHECK_RC(decode_por(out, "1229", 0x12, 0x12, &h, false, &por), 0);
	CHECK(por.status == 0x0A && por.integrity == OTA_INTEGRITY_OK, "0A with CC");
	CHECK(c->cntr == 2, "counter untouched by refused packets");

	/* PoR security per SPI2: 29 = CC, 39 = CC + ciphered, 00 = none, 22 = on error only */
	{
		struct cmd audit[] = { { b_audit_data, NULL } };
		struct cmd bad[] = { { b_enable, aid_absent } };
		uint8_t s2[64], s3[64];
		size_t n2 = build_script(s2, sizeof(s2), audit, 1), n3 = build_script(s3, sizeof(s3), bad, 1);

		CHECK_RC(send_packet(o, c, &h, "1629", 0x12, 0x12, tar_isdr, 40, h.kic, h.kid, s2, n2, false, false,
				     out, NULL), 0);
		CHECK_RC(decode_por(out, "1629", 0x12, 0x12, &h, false, &por), 0);
		CHECK(por.status == 0 && por.integrity == OTA_INTEGRITY_OK && !por.ciphered, "PoR with CC");
		CHECK_RC(send_packet(o, c, &h, "1639", 0x12, 0x12, tar_isdr, 41, h.kic, h.kid, s2, n2, false, false,
				     out, NULL), 0);
		CHECK_RC(decode_por(out, "1639", 0x12, 0x12, &h, false, &por), 0);
		CHECK(por.status == 0 && por.integrity == OTA_INTEGRITY_OK && por.ciphered, "PoR ciphered with CC");
		CHECK(por.data_len > 4 && por.data[0] == 0xAB, "deciphered response script");
		CHECK_RC(send_packet(o, c, &h, "1600", 0x12, 0x12, tar_isdr, 42, h.kic, h.kid, s2, n2, false, false,
				     out, NULL), 0);
		CHECK(out->executed && !out->por && out->n_mo == 0, "SPI2 00: no PoR");
		CHECK_RC(send_packet(o, c, &h, "1622", 0x12, 0x12, tar_isdr, 43, h.kic, h.kid, s2, n2, false, false,
				     out, NULL), 0);
		CHECK(out->executed && !out->por, "PoR on error, success: none");
		CHECK_RC(send_packet(o, c, &h, "1622", 0x12, 0x12, tar_isdr, 44, h.kic, h.kid, s3, n3, false, false,
				     out, NULL), 0);
		CHECK(out->executed && out->por && out->script.last_sw == 0x6A88, "PoR on error, 6A88: PoR");
		CHECK_RC(send_packet(o, c, &h, "1622", 0x12, 0x12, tar_isdr, 44, h.kic, h.kid, s2, n2, false, false,
				     out, NULL), 0);
		CHECK(out->por && out->status == 0x02, "PoR on error, replay: PoR 02");
		/* 4-byte AES CMAC in the command: the PoR CC is 4 bytes too */
		{
			struct ota_cmd_hdr hdr = { .spi = { 0x16, 0x29 }, .kic = 0x12, .kid = 0x12,
						   .tar = { 0, 0, 1 } };
			struct ota_sec sec = { .kic_key = h.kic, .kid_key = h.kid, .cc_len = 4 };
			struct ota_sec hs = { .kic_key = h.kic, .kid_key = h.kid, .cc_len = 4 };
			uint8_t pkt[256], scratch[512];
			struct ota_sms_ud seg[1];
			struct proto_buf b;

			ota_cntr_put(hdr.cntr, 50);
			proto_buf_init(&b, pkt, sizeof(pkt));
			ota_spkt_cmd_encode(&b, &hdr, &sec, s2, n2);
			ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, 0, seg, 1);
			CHECK_RC(sim_ota_mt(o, c, "1001", seg[0].ud, seg[0].len, 0, NULL, out), 0);
			CHECK_RC(ota_por_decode(out->mo[0].ud, out->mo[0].len, true, hdr.spi, 0x12, 0x12, &hs, scratch,
						sizeof(scratch), &por), 0);
			CHECK(por.status == 0 && por.rc_len == 4 && por.integrity == OTA_INTEGRITY_OK, "CMAC-4 PoR");
		}
	}

	/* a long script (2 segments) fed in reverse order, with a duplicate: one PoR */
	{
		struct create_arg ca = { aid_new, 4096 };
		struct cmd cmds[] = { { b_create, &ca }, { b_status, aid_p0 }, { b_status, aid_p1 },
				      { b_status, aid_new }, { b_audit_data, NULL } };
		size_t ln = build_script(script, sizeof(script), cmds, 5);

		CHECK_RC(send_packet(o, c, &h, "1621", 0x12, 0x12, tar_isdr, 60, h.kic, h.kid, script, ln, true, true,
				     out, &nseg), 0);
		CHECK(nseg == 2, "command packet in %u segments", nseg);
		CHECK(out->event == SIM_OTA_PROCESSED && out->status == 0 && out->script.n_executed == 5,
		      "reassembled in reverse order: %s %02x %u", sim_ota_event_name(out->event), out->status,
		      out->script.n_executed);
		/* the PoR is longer than 137 bytes: segmented, IE 71 in segment 1 only */
		CHECK(out->n_mo == 2, "PoR in %u segments", out->n_mo);
		CHECK(out->mo[0].ud[0] == 0x07 && out->mo[0].ud[1] == 0x00 && out->mo[0].ud[6] == 0x71, "seg 1 UDH");
		CHECK(out->mo[1].ud[0] == 0x05 && out->mo[1].ud[1] == 0x00 && out->mo[1].ud[5] == 2, "seg 2 UDH");
		CHECK_RC(decode_por(out, "1621", 0x12, 0x12, &h, true, &por), 0);
		CHECK(por.status == 0 && por.data_len > 137 && por.data[0] == 0xAB, "long PoR reassembled");

		/* the same with PoR CC and ciphering: the CC covers the UDH of segment 1 */
		CHECK(sw1(c, b_delete, aid_new) == 0x9000, "delete the new ISD-P");
		CHECK_RC(send_packet(o, c, &h, "1639", 0x12, 0x12, tar_isdr, 61, h.kic, h.kid, script, ln, false,
				     false, out, NULL), 0);
		CHECK(out->n_mo >= 2 && out->status == 0, "secured long PoR segmented");
		CHECK_RC(decode_por(out, "1639", 0x12, 0x12, &h, false, &por), 0);
		CHECK(por.status == 0 && por.ciphered && por.integrity == OTA_INTEGRITY_OK, "CC over the segment UDH");
	}

	/* undecodable packet: no PoR; MT without IE 70: ignored */
	{
		static const uint8_t trunc[] = { 0x02, 0x70, 0x00, 0x00, 0x30, 0x15, 0x16 };
		static const uint8_t plain[] = { 0x02, 0x05, 0x00, 0x41, 0x42 };
		static const uint8_t badudh[] = { 0x09, 0x70, 0x00 };

		CHECK_RC(sim_ota_mt(o, c, "1001", trunc, sizeof(trunc), 0, NULL, out), 0);
		CHECK(out->event == SIM_OTA_DROPPED && out->n_mo == 0, "truncated packet: dropped, no PoR");
		CHECK_RC(sim_ota_mt(o, c, "1001", plain, sizeof(plain), 0, NULL, out), 0);
		CHECK(out->event == SIM_OTA_IGNORED && out->n_mo == 0, "no IE 70: ignored");
		CHECK_RC(sim_ota_mt(o, c, "1001", badudh, sizeof(badudh), 0, NULL, out), 0);
		CHECK(out->event == SIM_OTA_IGNORED, "bad UDH: ignored");
	}
	/* CC-failing packet with a structure error after deciphering gives 05 or 01, never a crash */
	{
		uint8_t pkt[64];
		static struct ota_sms_ud seg[1];
		struct ota_cmd_hdr hdr = { .spi = { 0x16, 0x21 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 } };
		struct ota_sec sec = { .kic_key = h.kic, .kid_key = h.kid };
		struct proto_buf b;

		proto_buf_init(&b, pkt, sizeof(pkt));
		ota_spkt_cmd_encode(&b, &hdr, &sec, script, 5);
		b.data[b.len - 1] ^= 0xFF;
		ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, 0, seg, 1);
		CHECK_RC(sim_ota_mt(o, c, "1001", seg[0].ud, seg[0].len, 0, NULL, out), 0);
		CHECK(out->status == 0x01 || out->status == 0x05, "tampered ciphertext: %02x", out->status);
	}

	/* notification as an MO command packet (sgp02.md §6.5) */
	{
		struct sim_notif *nt = sim_card_notif_queue(c, SIM_NOTIF_CHANGE_OK, 0);
		struct ota_sec sec = { .kid_key = h.kid };
		struct ota_spkt_cmd cmd;
		uint8_t scratch[256];

		CHECK_RC(sim_ota_notif(o, c, nt, out), 0);
		CHECK(out->n_mo == 1, "one SMS");
		CHECK(out->mo[0].ud[0] == 0x02 && out->mo[0].ud[1] == 0x70 && out->mo[0].ud[2] == 0x00, "UDH 027000");
		CHECK_RC(ota_spkt_cmd_decode(out->mo[0].ud + 3, out->mo[0].len - 3u, &sec, scratch, sizeof(scratch),
					     &cmd), 0);
		CHECK_HEX(cmd.hdr.spi, 2, "0200", "SPI 0200");
		CHECK(cmd.hdr.kic == 0x10 && cmd.hdr.kid == 0x12 && cmd.chl == 0x15, "KIc 10, KID 12, CHL 15");
		CHECK_HEX(cmd.hdr.tar, 3, "000001", "TAR");
		CHECK_HEX(cmd.hdr.cntr, 5, "0000000000", "CNTR 0");
		CHECK(cmd.integrity == OTA_INTEGRITY_OK && cmd.data_len > 2 && cmd.data[0] == 0xE1, "CC ok, E1");
	}
	talloc_free(out);
	talloc_free(c);
	talloc_free(o);
	talloc_free(h.kic);
	talloc_free(h.kid);
	talloc_free(wrong.kic);
	talloc_free(wrong.kid);
}

/*
 * Fleet
 */

/*
 * ES8: key establishment and SCP03t profile download, the SM-DP played with ota/ (gp_ecka.h, gp_scp03.h)
 */

/* The transport to the card: a script run directly on the ISD-R (target NULL) or an ISD-P, or a real SCP80 command
 * packet (SPI 1621, ISD-R keyset) to a TAR through the card's SMS receive path. */
struct es8_link {
	struct sim_card *c;
	struct sim_isdp *target;
	struct sim_ota *o; /* non-NULL: over SCP80 */
	struct host h;
	uint8_t tar[3];
	uint64_t cntr;
	struct sim_ota_out *out;
	uint8_t por_status; /* of the last packet */
	uint8_t por_tar[3];
};

/* A script being built: AA { 22 {item} ... } */
struct sb {
	uint8_t buf[4096];
	struct proto_buf b;
	struct proto_rcmd_enc e;
};

static void sb_begin(struct sb *s)
{
	proto_buf_init(&s->b, s->buf, sizeof(s->buf));
	proto_rcmd_cmd_begin(&s->e, &s->b, false);
}

/* 22 { raw item } */
static void sb_item(struct sb *s, const uint8_t *item, size_t len)
{
	size_t m = proto_rcmd_capdu_open(&s->e);

	proto_buf_put(&s->b, item, len);
	proto_rcmd_capdu_close(&s->e, m);
}

/* The answer: the values of the 23 TLVs (copied into rsp_mem). */
static uint8_t rsp_mem[8192];
struct es8_rsp {
	unsigned n;
	const uint8_t *v[16];
	size_t len[16];
	bool bad_format;
};

static uint16_t item_sw(const struct es8_rsp *r, unsigned i)
{
	return r->len[i] >= 2 ? (uint16_t)(r->v[i][r->len[i] - 2] << 8 | r->v[i][r->len[i] - 1]) : 0;
}

static int es8_run(struct es8_link *l, struct sb *s, struct es8_rsp *r)
{
	struct proto_tlv top, t;
	struct proto_tlv_iter it;
	size_t rlen;
	int n = proto_rcmd_end(&s->e), rc;

	memset(r, 0, sizeof(*r));
	if (n < 0)
		return n;
	if (l->o) {
		struct ota_por por;

		rc = send_packet(l->o, l->c, &l->h, "1621", 0x12, 0x12, l->tar, ++l->cntr, l->h.kic, l->h.kid,
				 s->b.data, s->b.len, false, false, l->out, NULL);
		if (rc < 0 || !l->out->por)
			return -1;
		rc = decode_por(l->out, "1621", 0x12, 0x12, &l->h, false, &por);
		if (rc < 0)
			return rc;
		l->por_status = por.status;
		memcpy(l->por_tar, por.tar, 3);
		if (por.status != OTA_POR_OK)
			return 0;
		memcpy(rsp_mem, por.data, por.data_len);
		rlen = por.data_len;
	} else {
		struct sim_script_result res;
		struct proto_buf b;

		proto_buf_init(&b, rsp_mem, sizeof(rsp_mem));
		rc = sim_card_run_script_on(l->c, l->target, s->b.data, s->b.len, &b, 1000, &res);
		if (rc < 0)
			return rc;
		rlen = b.len;
	}
	if (proto_tlv_decode_exact(rsp_mem, rlen, &top) < 0 || top.tag != PROTO_RCMD_TAG_RSP_SCRIPT)
		return -PROTO_E_MALFORMED;
	proto_tlv_iter_init(&it, top.val, top.len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (t.tag == PROTO_RCMD_TAG_BAD_FORMAT)
			r->bad_format = true;
		if (t.tag != PROTO_RCMD_TAG_RAPDU || r->n == 16)
			continue;
		r->v[r->n] = t.val;
		r->len[r->n++] = t.len;
	}
	return rc;
}

/* The SM-DP side of one download. */
struct dp {
	struct ota_eckey *sk; /* SK.DP.ECDSA */
	uint8_t cert[512];    /* CERT.DP.ECDSA */
	size_t cert_len;
	struct proto_ec_pub *pk_ecasd; /* from CERT.ECASD.ECKA (here: from the fleet derivation) */
	uint8_t curve;
	uint8_t rc[16];
	struct ota_ecka_crt crt;
	uint8_t crt_tlv[64];
	size_t crt_len;
	struct ota_ecka_keys keys;
	struct ota_scp03 *scp;
	uint8_t hc[8];
	uint8_t seq[3]; /* sequence counter of the card's last IU response */
};

static const uint8_t bcd_20260101[4] = {0x20, 0x26, 0x01, 0x01}, bcd_20360101[4] = {0x20, 0x36, 0x01, 0x01};

/* Issue a GP certificate for the public key of subject, signed by issuer (as sm-ota cert-issue does). */
static size_t issue_cert(struct ota_eckey *issuer, struct ota_eckey *subject, uint8_t usage, const uint8_t *disc,
			 size_t disc_len, uint8_t *out, size_t cap)
{
	static const uint8_t serial[] = {0x01, 0x02, 0x03}, caid[] = {0xCA, 0x01}, subj[] = {'S', 'M', '-', 'D', 'P'};
	uint8_t sd[512], sig[PROTO_EC_SIG_LEN];
	struct proto_gp_cert gc;
	struct proto_buf b;

	memset(&gc, 0, sizeof(gc));
	gc.serial = (struct proto_gp_field){serial, sizeof(serial)};
	gc.ca_id = (struct proto_gp_field){caid, sizeof(caid)};
	gc.subject = (struct proto_gp_field){subj, sizeof(subj)};
	gc.key_usage = (struct proto_gp_field){&usage, 1};
	gc.effective = (struct proto_gp_field){bcd_20260101, 4};
	gc.expiry = (struct proto_gp_field){bcd_20360101, 4};
	if (disc)
		gc.discretionary = (struct proto_gp_field){disc, disc_len};
	gc.pk = (struct proto_gp_field){ota_eckey_public(subject), PROTO_EC_POINT_LEN};
	gc.has_curve_ref = true;
	gc.curve_ref = ota_eckey_curve(subject);
	proto_buf_init(&b, sd, sizeof(sd));
	if (proto_gp_cert_put_signed_data(&b, &gc) < 0 || ota_eckey_sign(issuer, sd, b.len, sig) < 0)
		return 0;
	gc.signature = (struct proto_gp_field){sig, sizeof(sig)};
	proto_buf_init(&b, out, cap);
	return proto_gp_cert_encode(&b, &gc) < 0 ? 0 : b.len;
}

static const uint8_t disc_smdp[] = {0xC8, 0x01, 0x01}, disc_smsr[] = {0xC8, 0x01, 0x02};

/* A new SM-DP whose certificate is issued by ci; the ECASD public key of card c on its curve. */
static struct dp *dp_new(struct ota_eckey *ci, struct sim_card *c, uint8_t kuq)
{
	struct dp *d = talloc_zero(ctx, struct dp);
	struct ota_eckey *ecasd = NULL;
	uint8_t sk[SIM_ECASD_SK_LEN];
	struct proto_buf b;

	ota_eckey_generate(d, PROTO_EC_REF_P256, &d->sk);
	d->cert_len = issue_cert(ci, d->sk, 0x88, disc_smdp, sizeof(disc_smdp), d->cert, sizeof(d->cert));
	sim_fleet_ecasd_sk(&c->cfg, c->index, sk);
	ota_eckey_import(d, c->ecasd_curve, sk, sizeof(sk), &ecasd);
	ota_eckey_public_key(d, ecasd, &d->pk_ecasd);
	talloc_free(ecasd);
	d->curve = c->ecasd_curve;
	d->crt = (struct ota_ecka_crt){.scenario_params = OTA_ECKA_SP_CERT | OTA_ECKA_SP_DELETE_KEYS,
				       .kuq = kuq,
				       .key_type = OTA_ECKA_KEY_TYPE_AES,
				       .key_len = 16,
				       .key_id = 0x01,
				       .kvn = 0x30};
	proto_buf_init(&b, d->crt_tlv, sizeof(d->crt_tlv));
	ota_ecka_crt_encode(&b, &d->crt);
	d->crt_len = b.len;
	return d;
}

static int dp_destructor(struct dp *d)
{
	ota_ecka_keys_free(&d->keys);
	return 0;
}

/* KEYEST1: [INSTALL [for personalization]] + STORE DATA 3A01; returns the SW of the last command. */
static uint16_t es8_keyest1(struct es8_link *l, struct dp *d, const uint8_t *aid, bool with_install, unsigned *n)
{
	struct sb s;
	struct es8_rsp r;
	const uint8_t *rc;
	size_t rc_len, m;

	sb_begin(&s);
	if (with_install) {
		m = proto_rcmd_capdu_open(&s.e);
		proto_gp_install_for_perso(&s.b, aid, 16);
		proto_rcmd_capdu_close(&s.e, m);
	}
	m = proto_rcmd_capdu_open(&s.e);
	ota_ecka_cert_apdu(&s.b, d->cert, d->cert_len);
	proto_rcmd_capdu_close(&s.e, m);
	if (es8_run(l, &s, &r) < 0 || !r.n)
		return 0;
	*n = r.n;
	if (item_sw(&r, r.n - 1) == 0x9000 &&
	    (ota_ecka_challenge_decode(r.v[r.n - 1], r.len[r.n - 1] - 2, &rc, &rc_len) < 0 || rc_len != 16))
		return 1;
	if (item_sw(&r, r.n - 1) == 0x9000)
		memcpy(d->rc, rc, 16);
	return item_sw(&r, r.n - 1);
}

/* KEYEST2: STORE DATA 3A02; *sw gets the card's SW; returns ota_ecka_dp_finish() (receipt check). */
static int es8_keyest2(struct es8_link *l, struct dp *d, uint16_t *sw)
{
	struct ota_eckey *esk = NULL;
	struct sb s;
	struct es8_rsp r;
	size_t m;
	int rc;

	sb_begin(&s);
	m = proto_rcmd_capdu_open(&s.e);
	rc = ota_ecka_dp_keyparams(d, d->sk, d->curve, &d->crt, d->rc, 16, &esk, &s.b);
	proto_rcmd_capdu_close(&s.e, m);
	*sw = 0;
	if (rc < 0 || es8_run(l, &s, &r) < 0 || r.n != 1) {
		talloc_free(esk);
		return -1;
	}
	*sw = item_sw(&r, 0);
	rc = *sw == 0x9000
		     ? ota_ecka_dp_finish(d, esk, d->pk_ecasd, d->crt_tlv, d->crt_len, r.v[0], r.len[0] - 2, &d->keys)
		     : -1;
	talloc_free(esk);
	return rc;
}

/* SCP03t INITIALIZE UPDATE: checks the precomputed card challenge and the card cryptogram. */
static int es8_iu(struct es8_link *l, struct dp *d, const uint8_t *aid)
{
	struct ota_scp03_iu_rsp iu;
	uint8_t cc[8];
	struct sb s;
	struct es8_rsp r;
	size_t m;
	int rc;

	memset(d->hc, 0x5A, sizeof(d->hc));
	d->hc[7] = (uint8_t)l->cntr;
	sb_begin(&s);
	m = proto_rcmd_capdu_open(&s.e);
	ota_scp03t_iu_encode(&s.b, d->crt.kvn, 0x00, d->hc);
	proto_rcmd_capdu_close(&s.e, m);
	if (es8_run(l, &s, &r) < 0 || r.n != 1)
		return -1;
	rc = ota_scp03t_iu_rsp_decode(&iu, r.v[0], r.len[0]);
	if (rc < 0)
		return rc;
	if (iu.kvn != d->crt.kvn || iu.i != 0x70 || !iu.has_seq)
		return -2;
	memcpy(d->seq, iu.seq, 3);
	/* i = 70: the SM-DP can precompute the challenge from the counter and the ISD-P AID */
	if (ota_scp03_card_challenge(d->keys.key[0], iu.seq, aid, 16, cc) < 0 || memcmp(cc, iu.card_challenge, 8))
		return -3;
	TALLOC_FREE(d->scp);
	rc = ota_scp03_new(d, d->keys.key[0], d->keys.nkeys > 1 ? d->keys.key[1] : d->keys.key[0], d->hc,
			   iu.card_challenge, &d->scp);
	if (rc == 0)
		rc = ota_scp03_check_card_cryptogram(d->scp, iu.card_cryptogram);
	return rc;
}

/* Load a package: EXTERNAL AUTHENTICATE and seg-byte '86' segments, per_script TLVs per script. Returns 1 with the
 * EUICCResponse in *er, 0 when every segment was answered '86 00', or -EREMOTEIO with the error TLV value in *err,
 * or another error. *segs counts the segments answered. tamper flips a MAC byte of segment tamper (1-based). */
static int es8_load(struct es8_link *l, struct dp *d, const uint8_t *pkg, size_t len, size_t seg, unsigned per_script,
		    bool send_ea, unsigned tamper, struct proto_saip_euicc_rsp *er, uint8_t *err, unsigned *segs)
{
	static uint8_t plain[1024];
	size_t off = 0;
	unsigned k = 0, i;
	bool ea = send_ea;
	int rc;

	*segs = 0;
	while (off < len) {
		struct sb s;
		struct es8_rsp r;
		unsigned want = 0;

		sb_begin(&s);
		if (ea) {
			size_t m = proto_rcmd_capdu_open(&s.e);
			ota_scp03t_ext_auth_encode(d->scp, 0x33, &s.b);
			proto_rcmd_capdu_close(&s.e, m);
			want++;
		}
		for (i = 0; i < per_script && off < len; i++) {
			size_t n = len - off < seg ? len - off : seg, m = proto_rcmd_capdu_open(&s.e);
			ota_scp03t_wrap_cmd(d->scp, pkg + off, n, &s.b);
			if (++k == tamper)
				s.b.data[s.b.len - 1] ^= 0x01;
			proto_rcmd_capdu_close(&s.e, m);
			off += n;
			want++;
		}
		if (es8_run(l, &s, &r) < 0 || !r.n)
			return -1;
		for (i = 0; i < r.n; i++) {
			struct proto_buf ob;
			if (r.len[i] >= 4 && r.v[i][0] == 0x9F && r.v[i][1] == 0x46) {
				*err = r.v[i][3];
				return -EREMOTEIO;
			}
			if (ea && i == 0) {
				rc = ota_scp03t_ext_auth_rsp_check(r.v[0], r.len[0]);
				if (rc < 0)
					return rc;
				continue;
			}
			proto_buf_init(&ob, plain, sizeof(plain));
			rc = ota_scp03t_unwrap_rsp(d->scp, r.v[i], r.len[i], &ob);
			if (rc < 0)
				return rc;
			(*segs)++;
			if (ob.len) {
				rc = proto_saip_euicc_rsp_decode(er, ob.data, ob.len);
				return rc < 0 ? rc : (i + 1 == r.n ? 1 : -2);
			}
		}
		if (r.n != want)
			return -3;
		ea = false;
	}
	return 0;
}

/* A small SAIP package: header (ICCID 8949012345678901234), genericFileManagement with filler bytes, akaParameter,
 * end. Returns its size. */
static size_t build_package(uint8_t *out, size_t cap, bool header_first, size_t filler)
{
	static const uint8_t iccid[10] = {0x98, 0x94, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0xF4};
	static const uint8_t id1[] = {0x81, 0x01, 0x01}, id2[] = {0x81, 0x01, 0x02}, id3[] = {0x81, 0x01, 0x03};
	uint8_t fill[2048];
	struct proto_buf b;
	size_t m, m2, i;

	for (i = 0; i < filler && i < sizeof(fill); i++)
		fill[i] = (uint8_t)i;
	proto_buf_init(&b, out, cap);
	if (header_first) {
		m = proto_tlv_open(&b, 0xA0);
		proto_tlv_put(&b, 0x80, "\x02", 1);
		proto_tlv_put(&b, 0x81, "\x03", 1);
		proto_tlv_put(&b, 0x83, iccid, sizeof(iccid));
		proto_tlv_put(&b, 0xA5, NULL, 0);
		proto_tlv_put(&b, 0xA6, NULL, 0);
		proto_tlv_close(&b, m);
	}
	m = proto_tlv_open(&b, 0xA1); /* genericFileManagement */
	proto_tlv_put(&b, 0xA0, id1, sizeof(id1));
	m2 = proto_tlv_open(&b, 0xA1);
	proto_tlv_put(&b, 0x04, fill, filler);
	proto_tlv_close(&b, m2);
	proto_tlv_close(&b, m);
	m = proto_tlv_open(&b, 0xA4); /* akaParameter */
	proto_tlv_put(&b, 0xA0, id2, sizeof(id2));
	m2 = proto_tlv_open(&b, 0xA1);
	proto_tlv_put(&b, 0x80, "\x01", 1);
	proto_tlv_put(&b, 0x81, fill, 16);
	proto_tlv_close(&b, m2);
	proto_tlv_close(&b, m);
	m = proto_tlv_open(&b, 0xAA); /* end */
	proto_tlv_put(&b, 0xA0, id3, sizeof(id3));
	proto_tlv_close(&b, m);
	return proto_buf_status(&b) < 0 ? 0 : b.len;
}

/* A card with a new ISD-P (aid_new, quota) made by CreateISDP; the CI key set. */
static struct sim_card *es8_card(uint32_t index, const struct proto_ec_pub *ci, uint32_t quota, uint8_t curve)
{
	struct sim_card *c = new_card(index);
	struct create_arg ca = {aid_new, quota};

	c->ci = ci;
	c->today = 20261122;
	c->ecasd_curve = curve;
	if (sw1(c, b_create, &ca) != 0x9000)
		return NULL;
	return c;
}

/* Key establishment and IU on a fresh card: 0 when the ISD-P is PERSONALIZED and the session is initialised. */
static int es8_prepare(struct es8_link *l, struct dp *d)
{
	uint16_t sw;
	unsigned n;

	if (es8_keyest1(l, d, aid_new, true, &n) != 0x9000 || es8_keyest2(l, d, &sw) != 0)
		return -1;
	return es8_iu(l, d, aid_new);
}

static void test_es8_download(void)
{
	struct ota_eckey *ci_sk = NULL;
	struct proto_ec_pub *ci = NULL;
	struct sim_card *c;
	struct sim_isdp *d;
	struct dp *dp;
	struct es8_link l = {0};
	struct proto_saip_euicc_rsp er;
	static uint8_t pkg[2048];
	size_t pkg_len = build_package(pkg, sizeof(pkg), true, 500);
	uint8_t err = 0;
	unsigned n = 0, segs;
	uint16_t sw;

	CHECK_RC(ota_eckey_generate(ctx, PROTO_EC_REF_P256, &ci_sk), 0);
	CHECK_RC(ota_eckey_public_key(ctx, ci_sk, &ci), 0);
	c = es8_card(7, ci, 4096, PROTO_EC_REF_P256);
	CHECK(c != NULL, "CreateISDP");
	d = sim_card_isdp_find(c, aid_new, 16);
	CHECK(d && d->lcs == SIM_LCS_SELECTABLE, "new ISD-P SELECTABLE");
	dp = dp_new(ci_sk, c, OTA_ECKA_KUQ_SC_KEYS);
	talloc_set_destructor(dp, dp_destructor);
	CHECK(dp->cert_len > 0 && pkg_len > 500, "certificate and package built");

	/* KEYEST1 through the ISD-R: INSTALL [for personalization] + CERT.DP.ECDSA -> 85 10 RC */
	l.c = c;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x9000 && n == 2, "KEYEST1 via the ISD-R: 9000, RC");
	/* KEYEST2 to the ISD-P: receipt verified by the SM-DP */
	l.target = d;
	CHECK_RC(es8_keyest2(&l, dp, &sw), 0);
	CHECK(sw == 0x9000 && dp->keys.nkeys == 3, "KEYEST2: receipt verified, three keys");
	CHECK(d->lcs == SIM_LCS_PERSONALIZED && d->es8, "ISD-P PERSONALIZED with a keyset");
	CHECK(c->pk_dp == NULL, "challenge spent");
	/* a second 3A02 without a new certificate: 6985 */
	CHECK(es8_keyest2(&l, dp, &sw) == -1 && sw == 0x6985, "3A02 again: 6985 (got %04x)", sw);

	/* SCP03t: IU (challenge precomputed from counter 000001), EA + 2 segments, then 2 more segments */
	CHECK_RC(es8_iu(&l, dp, aid_new), 0);
	CHECK_HEX(dp->seq, 3, "000001", "first sequence counter");
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 2, true, 0, &er, &err, &segs), 1);
	CHECK(segs == (pkg_len + 159) / 160 && segs >= 4, "every segment answered (%u)", segs);
	CHECK(proto_saip_euicc_rsp_ok(&er), "EUICCResponse ok");
	CHECK(d->lcs == SIM_LCS_DISABLED && !strcmp(d->iccid, "8949012345678901234"), "DISABLED with ICCID %s",
	      d->iccid);
	CHECK(d->used_nvm == pkg_len, "used memory = package size");
	/* no further session on an ISD-P that holds a profile */
	CHECK(es8_iu(&l, dp, aid_new) == -EREMOTEIO, "IU on a DISABLED ISD-P: error TLV");
	/* deleting the ISD-P drops its keyset */
	CHECK(sw1(c, b_delete, aid_new) == 0x9000 && !sim_card_isdp_find(c, aid_new, 16), "deleted");
	talloc_free(dp);
	talloc_free(c);

	/* the same over SCP80 command packets to the ISD-P's implicit TAR (000012), with KUQ 5C */
	{
		struct sim_ota *o = sim_ota_new(ctx, 16, 60);
		static const uint8_t tar_isdp[3] = {0x00, 0x00, 0x12}, tar_none[3] = {0x00, 0x00, 0x77};
		struct sb s;
		struct es8_rsp r;

		c = es8_card(9, ci, 4096, PROTO_EC_REF_P256);
		d = sim_card_isdp_find(c, aid_new, 16);
		dp = dp_new(ci_sk, c, OTA_ECKA_KUQ_BASE_KEY);
		talloc_set_destructor(dp, dp_destructor);
		memset(&l, 0, sizeof(l));
		l.c = c;
		l.o = o;
		l.out = talloc_zero(ctx, struct sim_ota_out);
		host_keys(&l.h, 9);
		memcpy(l.tar, tar_isdp, 3);
		/* KEYEST1 without INSTALL [for personalization]: the addressed ISD-P is the target */
		CHECK(es8_keyest1(&l, dp, aid_new, false, &n) == 0x9000 && n == 1, "KEYEST1 via the ISD-P TAR");
		CHECK(l.por_status == 0 && !memcmp(l.por_tar, tar_isdp, 3), "PoR 00 echoes the ISD-P TAR");
		CHECK(l.out->n_mo >= 1 && c->cntr == l.cntr, "counter of the ISD-R keyset updated");
		CHECK_RC(es8_keyest2(&l, dp, &sw), 0);
		CHECK(dp->keys.nkeys == 1 && d->lcs == SIM_LCS_PERSONALIZED, "KUQ 5C: one base key, PERSONALIZED");
		CHECK_RC(es8_iu(&l, dp, aid_new), 0);
		CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 200, 2, true, 0, &er, &err, &segs), 1);
		CHECK(proto_saip_euicc_rsp_ok(&er) && d->lcs == SIM_LCS_DISABLED && d->iccid[0] == '8',
		      "installed over SCP80");
		/* a TAR that names no ISD-P: 09 */
		memcpy(l.tar, tar_none, 3);
		sb_begin(&s);
		sb_item(&s, (const uint8_t *)"\x84\x0a\x30\x00\x01\x02\x03\x04\x05\x06\x07\x08", 12);
		CHECK(es8_run(&l, &s, &r) == 0 && l.por_status == 0x09 && !memcmp(l.por_tar, tar_none, 3),
		      "unknown ISD-P TAR: 09, TAR echoed");
		talloc_free(l.out);
		talloc_free(dp);
		talloc_free(c);
		talloc_free(o);
		talloc_free(l.h.kic);
		talloc_free(l.h.kid);
	}

	/* brainpoolP256r1 ECASD key (the first index whose scalar is below the brainpool order) */
	{
		uint32_t idx;
		struct ota_eckey *k = NULL;
		uint8_t sk[SIM_ECASD_SK_LEN];

		for (idx = 0; idx < 64; idx++) {
			sim_fleet_ecasd_sk(&cfg, idx, sk);
			if (ota_eckey_import(ctx, PROTO_EC_REF_BRAINPOOLP256R1, sk, sizeof(sk), &k) == 0)
				break;
		}
		talloc_free(k);
		c = es8_card(idx, ci, 0, PROTO_EC_REF_BRAINPOOLP256R1);
		d = sim_card_isdp_find(c, aid_new, 16);
		dp = dp_new(ci_sk, c, OTA_ECKA_KUQ_SC_KEYS);
		talloc_set_destructor(dp, dp_destructor);
		memset(&l, 0, sizeof(l));
		l.c = c;
		l.target = d;
		CHECK_RC(es8_prepare(&l, dp), 0);
		CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 1000, 4, true, 0, &er, &err, &segs), 1);
		CHECK(proto_saip_euicc_rsp_ok(&er) && d->lcs == SIM_LCS_DISABLED && segs == 1,
		      "brainpoolP256r1 ECASD, no quota, one segment");
		talloc_free(dp);
		talloc_free(c);
	}
	talloc_free(ci);
	talloc_free(ci_sk);
}

static void test_es8_failures(void)
{
	struct ota_eckey *ci_sk = NULL, *other_sk = NULL;
	struct proto_ec_pub *ci = NULL;
	struct sim_card *c;
	struct sim_isdp *d;
	struct dp *dp;
	struct es8_link l;
	struct proto_saip_euicc_rsp er;
	const struct proto_saip_pe_status *pe;
	static uint8_t pkg[2048], bad[2048];
	size_t pkg_len = build_package(pkg, sizeof(pkg), true, 500), bad_len;
	uint8_t err = 0;
	unsigned n = 0, segs;
	uint16_t sw;

	ota_eckey_generate(ctx, PROTO_EC_REF_P256, &ci_sk);
	ota_eckey_generate(ctx, PROTO_EC_REF_P256, &other_sk);
	ota_eckey_public_key(ctx, ci_sk, &ci);

#define FRESH(kuq)                                                                                                     \
	do {                                                                                                           \
		c = es8_card(7, ci, 4096, PROTO_EC_REF_P256);                                                          \
		d = sim_card_isdp_find(c, aid_new, 16);                                                                \
		dp = dp_new(ci_sk, c, kuq);                                                                            \
		talloc_set_destructor(dp, dp_destructor);                                                              \
		memset(&l, 0, sizeof(l));                                                                              \
		l.c = c;                                                                                               \
		l.target = d;                                                                                          \
	} while (0)
#define DONE()                                                                                                         \
	do {                                                                                                           \
		talloc_free(dp);                                                                                       \
		talloc_free(c);                                                                                        \
	} while (0)

	/* CERT.DP.ECDSA of another CI: 6A80, the script stops, no challenge; 3A02 then 6985 */
	FRESH(OTA_ECKA_KUQ_SC_KEYS);
	dp->cert_len = issue_cert(other_sk, dp->sk, 0x88, disc_smdp, sizeof(disc_smdp), dp->cert, sizeof(dp->cert));
	l.target = NULL;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x6A80 && n == 2, "wrong CI: 6A80");
	CHECK(c->pk_dp == NULL, "no PK.DP kept");
	CHECK(es8_keyest2(&l, dp, &sw) == -1 && sw == 0x6985, "3A02 without a challenge: 6985");
	CHECK(d->lcs == SIM_LCS_SELECTABLE && !d->es8, "nothing installed");
	/* an SM-SR certificate (C8 01 02) is not CERT.DP.ECDSA */
	dp->cert_len = issue_cert(ci_sk, dp->sk, 0x88, disc_smsr, sizeof(disc_smsr), dp->cert, sizeof(dp->cert));
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x6A80, "SM-SR certificate: 6A80");
	/* expired (today after 20360101) and not yet valid (before 20260101) */
	dp->cert_len = issue_cert(ci_sk, dp->sk, 0x88, disc_smdp, sizeof(disc_smdp), dp->cert, sizeof(dp->cert));
	c->today = 20360102;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x6A80, "expired: 6A80");
	c->today = 20251231;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x6A80, "not yet valid: 6A80");
	c->today = 20360101;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x9000, "valid on its expiry date");
	/* no CI key configured */
	c->ci = NULL;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x6A80, "no CI: 6A80");
	c->ci = ci;
	/* --fault ecasd */
	c->faults.ecasd = true;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x6A80, "fault ecasd: 6A80");
	c->faults.ecasd = false;
	/* INSTALL [for personalization] of an unknown ISD-P, STORE DATA without selection */
	CHECK(es8_keyest1(&l, dp, aid_absent, true, &n) == 0x6A88 && n == 1, "INSTALL perso unknown: 6A88");
	c->perso_aid_len = 0;
	CHECK(es8_keyest1(&l, dp, aid_new, false, &n) == 0x6985, "3A01 without a selected ISD-P: 6985");
	/* INSTALL [for personalization] of the enabled profile's ISD-P: 6985 */
	CHECK(es8_keyest1(&l, dp, aid_p0, true, &n) == 0x6985 && n == 1, "INSTALL perso of a profile: 6985");
	DONE();

	/* wrong receipt (fault): the SM-DP's check fails */
	FRESH(OTA_ECKA_KUQ_SC_KEYS);
	c->faults.receipt = true;
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x9000, "KEYEST1");
	CHECK_RC(es8_keyest2(&l, dp, &sw), -PROTO_E_INTEGRITY);
	CHECK(sw == 0x9000 && dp->keys.nkeys == 0, "fault receipt: receipt refused by the SM-DP");
	DONE();

	/* a key parameter signature by another key: 6A80, nothing installed */
	FRESH(OTA_ECKA_KUQ_SC_KEYS);
	CHECK(es8_keyest1(&l, dp, aid_new, true, &n) == 0x9000, "KEYEST1");
	{
		struct ota_eckey *keep = dp->sk;
		dp->sk = other_sk;
		CHECK(es8_keyest2(&l, dp, &sw) == -1 && sw == 0x6A80, "3A02 signed by another key: 6A80");
		dp->sk = keep;
	}
	CHECK(d->lcs == SIM_LCS_SELECTABLE && !d->es8, "nothing installed");
	DONE();

	/* MAC errors */
	FRESH(OTA_ECKA_KUQ_SC_KEYS);
	CHECK_RC(es8_prepare(&l, dp), 0);
	c->faults.mac = true;
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 2, true, 0, &er, &err, &segs), -EREMOTEIO);
	CHECK(err == SIM_SCP03T_ERR_SECURITY && segs == 0, "fault mac: 9F46 01 01 on the first 86");
	CHECK(d->lcs == SIM_LCS_PERSONALIZED, "still PERSONALIZED");
	c->faults.mac = false;
	/* the session is closed: an 86 now is out of session */
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 1, false, 0, &er, &err, &segs), -EREMOTEIO);
	CHECK(err == SIM_SCP03T_ERR_NO_SESSION, "86 after the error: no session (%02x)", err);
	/* a tampered C-MAC on the second segment: the first is acknowledged, then 9F46 01 01 */
	CHECK_RC(es8_iu(&l, dp, aid_new), 0);
	CHECK_HEX(dp->seq, 3, "000002", "sequence counter incremented");
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 1, true, 2, &er, &err, &segs), -EREMOTEIO);
	CHECK(err == SIM_SCP03T_ERR_SECURITY && segs == 1, "tampered MAC: 9F46 01 01 after one segment");
	/* an SCP03t TLV through the ISD-R is no C-APDU: bad format */
	{
		struct sb s;
		struct es8_rsp r;

		l.target = NULL;
		sb_begin(&s);
		sb_item(&s, (const uint8_t *)"\x86\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09", 11);
		CHECK(es8_run(&l, &s, &r) == 0 && r.bad_format && r.n == 0, "SCP03t via the ISD-R: bad format");
		l.target = d;
	}
	DONE();

	/* memory: a package above the ISD-P's quota, and the memory fault */
	c = es8_card(7, ci, 300, PROTO_EC_REF_P256);
	d = sim_card_isdp_find(c, aid_new, 16);
	dp = dp_new(ci_sk, c, OTA_ECKA_KUQ_SC_KEYS);
	talloc_set_destructor(dp, dp_destructor);
	memset(&l, 0, sizeof(l));
	l.c = c;
	l.target = d;
	CHECK_RC(es8_prepare(&l, dp), 0);
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 4, true, 0, &er, &err, &segs), 1);
	pe = proto_saip_euicc_rsp_first_error(&er);
	CHECK(pe && pe->status == PROTO_SAIP_NOT_ENOUGH_MEMORY && er.aborted && segs == 4,
	      "above the quota: not-enough-memory, reported on the last segment of the script (%u)", segs);
	CHECK(d->lcs == SIM_LCS_PERSONALIZED && !d->iccid[0] && d->used_nvm == 0, "no profile");
	DONE();
	FRESH(OTA_ECKA_KUQ_SC_KEYS);
	c->faults.memory = true;
	CHECK_RC(es8_prepare(&l, dp), 0);
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 4, true, 0, &er, &err, &segs), 1);
	pe = proto_saip_euicc_rsp_first_error(&er);
	CHECK(pe && pe->status == PROTO_SAIP_NOT_ENOUGH_MEMORY && pe->has_id && pe->id == 3 && er.aborted,
	      "fault memory: not-enough-memory at the end PE");
	CHECK(d->lcs == SIM_LCS_PERSONALIZED && !d->iccid[0], "no profile");
	c->faults.memory = false;
	/* a retry in a new session succeeds */
	CHECK_RC(es8_iu(&l, dp, aid_new), 0);
	CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 4, true, 0, &er, &err, &segs), 1);
	CHECK(proto_saip_euicc_rsp_ok(&er) && d->lcs == SIM_LCS_DISABLED, "retry installs");
	DONE();

	/* malformed packages */
	FRESH(OTA_ECKA_KUQ_SC_KEYS);
	CHECK_RC(es8_prepare(&l, dp), 0);
	bad_len = build_package(bad, sizeof(bad), false, 100); /* no header */
	CHECK_RC(es8_load(&l, dp, bad, bad_len, 160, 4, true, 0, &er, &err, &segs), 1);
	pe = proto_saip_euicc_rsp_first_error(&er);
	CHECK(pe && pe->status == PROTO_SAIP_INVALID_REQUEST_FORMAT && pe->has_id && pe->id == 1 && er.aborted,
	      "first PE not the header: invalid-request-format in PE 1");
	CHECK(d->lcs == SIM_LCS_PERSONALIZED, "no profile");
	/* a length inside the genericFileManagement PE that overruns it */
	CHECK_RC(es8_iu(&l, dp, aid_new), 0);
	memcpy(bad, pkg, pkg_len);
	{
		size_t gfm = 2 + pkg[1], inner = gfm + 4 + 5; /* after the header; A1 82 LL LL, A0 03 81 01 01 */
		CHECK(pkg[gfm] == 0xA1 && pkg[gfm + 1] == 0x82 && pkg[inner] == 0xA1 && pkg[inner + 1] == 0x82,
		      "package layout");
		bad[inner + 3] += 1; /* the inner A1 now overruns its PE */
	}
	CHECK_RC(es8_load(&l, dp, bad, pkg_len, 160, 4, true, 0, &er, &err, &segs), 1);
	pe = proto_saip_euicc_rsp_first_error(&er);
	CHECK(pe && pe->status == PROTO_SAIP_INVALID_REQUEST_FORMAT && er.aborted, "malformed DER: aborted");
	/* indefinite length of the first PE */
	CHECK_RC(es8_iu(&l, dp, aid_new), 0);
	memcpy(bad, pkg, pkg_len);
	bad[1] = 0x80;
	CHECK_RC(es8_load(&l, dp, bad, pkg_len, 160, 4, true, 0, &er, &err, &segs), 1);
	CHECK(er.aborted && segs == 4, "indefinite length: aborted, reported at the end of the script");
	/* 86 before EXTERNAL AUTHENTICATE (wrapped by an open host session of other keys) */
	CHECK_RC(es8_iu(&l, dp, aid_new), 0);
	{
		static const uint8_t k[16] = {1};
		struct ota_key *ke = NULL, *km = NULL, *kr = NULL;

		ota_key_import(ctx, k, 16, &ke);
		ota_key_import(ctx, k, 16, &km);
		ota_key_import(ctx, k, 16, &kr);
		TALLOC_FREE(dp->scp);
		CHECK_RC(ota_scp03_new_from_keys(dp, ke, km, kr, NULL, 0x33, &dp->scp), 0);
		CHECK_RC(es8_load(&l, dp, pkg, pkg_len, 160, 1, false, 0, &er, &err, &segs), -EREMOTEIO);
		CHECK(err == SIM_SCP03T_ERR_NO_SESSION, "86 before EA: 9F46 01 02 (%02x)", err);
	}
	CHECK(d->lcs == SIM_LCS_PERSONALIZED, "no profile");
	DONE();
#undef FRESH
#undef DONE
	talloc_free(ci);
	talloc_free(ci_sk);
	talloc_free(other_sk);
}

/* PK.CI.ECDSA from a PEM X.509 certificate (--ci-cert), as scripts/gen-test-pki writes ci.crt */
static void test_es8_ci_load(void)
{
	char path[] = "/tmp/card_test_ci_XXXXXX";
	struct proto_ec_pub *pk = NULL;
	uint8_t point[80];
	size_t point_len = 0;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(k && x && f, "key, certificate, file");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test CI", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	CHECK(X509_sign(x, k, EVP_sha256()) > 0, "self-signed");
	CHECK(PEM_write_X509(f, x) == 1, "PEM written");
	fclose(f);
	EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &point_len);
	CHECK_RC(sim_ci_load_pem(ctx, path, &pk), 0);
	CHECK(pk && pk->ref == PROTO_EC_REF_P256 && point_len == 65 && !memcmp(pk->point, point, 65),
	      "CI public key loaded");
	talloc_free(pk);
	/* a file that is not a PEM certificate, and no file */
	f = fopen(path, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	CHECK_RC(sim_ci_load_pem(ctx, path, &pk), -EINVAL);
	unlink(path);
	CHECK_RC(sim_ci_load_pem(ctx, path, &pk), -ENOENT);
	CHECK(pk == NULL, "nothing returned");
	X509_free(x);
	EVP_PKEY_free(k);
}

static void test_es8_faults_parse(void)
{
	struct sim_es8_faults f = {0};

	CHECK(sim_es8_fault_parse("mac@3", 3, &f) == 1 && f.mac, "mac@3 applies to 3");
	CHECK(sim_es8_fault_parse("receipt@3", 4, &f) == 0 && !f.receipt, "receipt@3 not to 4");
	CHECK(sim_es8_fault_parse("memory@*", 9, &f) == 1 && f.memory, "memory@* applies to all");
	CHECK(sim_es8_fault_parse("ecasd@0", 0, &f) == 1 && f.ecasd, "ecasd@0");
	CHECK(sim_es8_fault_parse("mac", 0, &f) == -EINVAL, "no @");
	CHECK(sim_es8_fault_parse("bogus@1", 1, &f) == -EINVAL, "unknown kind");
	CHECK(sim_es8_fault_parse("mac@x", 1, &f) == -EINVAL, "bad index");
	CHECK(sim_es8_fault_parse("mac@-1", 1, &f) == -EINVAL, "negative index");
}

static void test_fleet(void)
{
	struct sim_fleet *f;
	struct sim_identity id, id2;
	struct sim_card *c;
	struct timespec t0, t1;
	uint32_t idx = 0;
	double ms;
	char m[16];

	/* exact derivation (fleet.h): values cross-checked with Python hmac/hashlib */
	{
		struct sim_fleet_cfg c42;
		CHECK_RC(sim_fleet_cfg_init(&c42, "42", NULL, NULL), 0);
		CHECK_RC(sim_fleet_identity(&c42, 1, &id), 0);
		CHECK(!strcmp(id.eid_hex, "89001012012341230000000000000161"), "EID %s", id.eid_hex);
		CHECK(!strcmp(id.msisdn, "491700000001"), "MSISDN %s", id.msisdn);
		CHECK(!strcmp(id.imei, "352906110000017"), "IMEI %s", id.imei);
		CHECK_HEX(id.kic, 16, "539e71ac62ddf89734d873eb6cc27536",
			  "KIc = HMAC-SHA256(\"42\", \"KIc\" 00000001)");
		CHECK(!strcmp(id.profiles[0].iccid, "89490000000000000015"), "ICCID 0 %s", id.profiles[0].iccid);
		CHECK(!strcmp(id.profiles[1].iccid, "89490100000000000014"), "ICCID 1 %s", id.profiles[1].iccid);
		sim_identity_wipe(&id);
		CHECK(sim_fleet_cfg_init(&c42, "1", "12", NULL) == -EINVAL, "EID prefix must start 89");
		CHECK(sim_fleet_cfg_init(&c42, "1", NULL, "12a") == -EINVAL, "MSISDN prefix digits");
	}
	sim_fleet_identity(&cfg, 5, &id);
	sim_fleet_identity(&cfg, 5, &id2);
	CHECK(!memcmp(&id, &id2, sizeof(id)), "deterministic");
	sim_fleet_identity(&cfg, 6, &id2);
	CHECK(memcmp(id.kic, id2.kic, 16) && memcmp(id.eid, id2.eid, 16), "distinct per index");
	sim_identity_wipe(&id);
	sim_identity_wipe(&id2);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	f = sim_fleet_new(ctx, &cfg, 100000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(f != NULL, "fleet of 100000");
	CHECK(ms < 2000, "fleet created in %.1f ms", ms);
	printf("fleet of 100000 eUICCs created in %.1f ms\n", ms);
	CHECK(f->active == 0, "no card state yet");
	sim_fleet_msisdn(&cfg, 99999, m);
	CHECK(sim_fleet_lookup(f, m, &idx) == 0 && idx == 99999, "lookup last");
	CHECK(sim_fleet_lookup(f, "491700100000", &idx) == -ENOENT, "outside the fleet");
	CHECK(sim_fleet_card_by_msisdn(f, "999") == NULL, "unknown MSISDN");
	c = sim_fleet_card_by_msisdn(f, "491700012345");
	CHECK(c && c->index == 12345 && f->active == 1 && c->fleet == f, "lazy card");
	CHECK(sim_fleet_card(f, 12345) == c, "same card again");
	{
		unsigned i, ok = 0;
		for (i = 0; i < 100000; i += 997) {
			sim_fleet_msisdn(&cfg, i, m);
			ok += sim_fleet_lookup(f, m, &idx) == 0 && idx == i;
		}
		CHECK(ok == 101, "lookups %u", ok);
	}
	/* notification list */
	sim_card_notif_queue(c, SIM_NOTIF_FIRST_ATTACH, 0);
	CHECK(f->notif_n == 1 && c->in_notif_list, "watched");
	{
		uint16_t seq = 1;
		CHECK(sw1(c, b_confirm, &seq) == 0x9000, "confirm");
	}
	sim_fleet_notif_prune(f);
	CHECK(f->notif_n == 0 && !c->in_notif_list && f->notif_confirmed == 1, "pruned after confirmation");
	talloc_free(f);
}

/*
 * Fake SMSC line codec
 */

static void test_kannel_codec(void)
{
	struct sim_kannel_mt mt;
	char line[512];
	uint8_t b[64];
	static const uint8_t ud[] = { 0x02, 0x71, 0x00, 0x00, 0x0A, 0x0D, 0x20, 0x25, 0x2B, 0xFF };
	static const char *mt145 = "1001 491700000001 udh %02p%00 data %00%2B%15+%25%FF";
	static const char *mt_old = "1001 491700000001 udh %02p%00 %00%2B%15+%25%FF\r";
	int n;

	CHECK(sim_kannel_url_decode("a+%41%2b%2B", 11, b, sizeof(b)) == 5 && !memcmp(b, "a A++", 5), "url decode");
	CHECK(sim_kannel_url_decode("%4", 2, b, sizeof(b)) == -EINVAL, "bad escape");
	CHECK(sim_kannel_url_decode("%zz", 3, b, sizeof(b)) == -EINVAL, "bad hex");

	CHECK_RC(sim_kannel_parse_mt(mt145, strlen(mt145), &mt), 0);
	CHECK(mt.type == SIM_KANNEL_MT_UDH && !strcmp(mt.from, "1001") && !strcmp(mt.to, "491700000001"), "MT fields");
	CHECK_HEX(mt.ud, mt.len, "027000002b152025ff", "UDH + data, '+' is a space");
	CHECK(mt.udh_len == 3, "UDH length");
	CHECK_RC(sim_kannel_parse_mt(mt_old, strlen(mt_old), &mt), 0);
	CHECK_HEX(mt.ud, mt.len, "027000002b152025ff", "older 'udh U D' form");
	CHECK_RC(sim_kannel_parse_mt("1001 4917 text hello world", 26, &mt), 0);
	CHECK(mt.type == SIM_KANNEL_MT_TEXT, "text MT");
	CHECK_RC(sim_kannel_parse_mt("1001 4917 data %41%42", 21, &mt), 0);
	CHECK(mt.type == SIM_KANNEL_MT_DATA && mt.len == 2, "data MT");
	{
		static const char *l = "1001 4917 udh %03p%00 data %00";
		CHECK(sim_kannel_parse_mt(l, strlen(l), &mt) == -EINVAL, "UDH length mismatch");
	}
	CHECK(sim_kannel_parse_mt("garbage", 7, &mt) == -EINVAL, "garbage");
	CHECK(sim_kannel_parse_mt("1001 4917 bogus x", 17, &mt) == -EINVAL, "unknown type");

	n = sim_kannel_format_mo(line, sizeof(line), "491700000001", "1001", ud, sizeof(ud));
	CHECK(n > 0 && !strcmp(line, "491700000001 1001 udh-data %02%71%00 %00%0A%0D%20%25%2B%FF\n"), "MO line: %s",
	      line);
	CHECK(sim_kannel_format_mo(line, sizeof(line), "a b", "1001", ud, sizeof(ud)) == -EINVAL, "bad address");
	CHECK(sim_kannel_format_mo(line, 20, "4917", "1001", ud, sizeof(ud)) == -ENOSPC, "no room");
}

int main(void)
{
	size_t blocks;

	sim_log_threshold = SIM_LOG_OFF;
	ctx = talloc_named_const(NULL, 0, "card_test");
	sim_fleet_cfg_init(&cfg, "test", NULL, NULL);
	blocks = talloc_total_blocks(ctx);

	test_preprovisioned();
	test_enable_disable();
	test_fallback_attr();
	test_create_delete();
	test_audit();
	test_notifications();
	test_scripts();
	test_ota();
	test_es8_faults_parse();
	test_es8_ci_load();
	test_es8_download();
	test_es8_failures();
	test_fleet();
	test_kannel_codec();

	CHECK(talloc_total_blocks(ctx) == blocks, "no talloc leak: %zu blocks, want %zu", talloc_total_blocks(ctx),
	      blocks);
	talloc_free(ctx);
	TEST_DONE();
}
