/* codec-demo: the OTA codecs at work, as scripts/demo shows them until the daemons land.
 *
 * The SM-SR builds an ES5 CreateISDP (plus a GET STATUS that reads the new ISD-P back) as an expanded remote
 * command script, secures it as a TS 102 225 command packet with the ISD-R's SCP80 keyset and splits it into
 * concatenated SMS-DELIVERs. A simulated eUICC takes the segments in reverse order, reassembles, checks the CC and
 * the counter, deciphers, runs the script and answers with a ciphered, CC-protected PoR in an SMS-SUBMIT, which
 * the SM-SR verifies and decodes. Every step is printed; the exit status is 0 only if the whole exchange worked. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "proto/bertlv.h"
#include "proto/gp_apdu.h"
#include "proto/ts102226_rcmd.h"
#include "proto/hex.h"
#include "proto/errors.h"
#include "ota/keystore.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "ota/ts23040_tpdu.h"

#define STEP(...) do { printf("\n[%d] ", ++step); printf(__VA_ARGS__); putchar('\n'); } while (0)
#define FAIL(what, rc) do { printf("    FAILED: %s: %s\n", what, proto_strerror(rc)); return 1; } while (0)

static int step;

/* demo keys of the ISD-R SCP80 keyset (KVN 1, KIc/KID 12: AES-128); both sides load them into their keystore */
static const uint8_t demo_kic[16] = "m2m-sm-demo-kic!";
static const uint8_t demo_kid[16] = "m2m-sm-demo-kid!";
static const uint8_t isdp_aid[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
				      0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x12, 0x00 };

static void hexline(const char *label, const uint8_t *p, size_t n)
{
	printf("    %-14s %s\n", label, proto_hexstr(p, n));
}

/* the eUICC: reassemble, verify, run the script, answer */
static int euicc(void *ctx, struct ota_sms_ud *segs, int nseg, struct proto_buf *por_tpdu)
{
	struct ota_sec sec = { 0 };
	struct ota_sms_reasm *reasm = ota_sms_reasm_new(ctx, 4, 60);
	uint8_t pkt[1024], scratch[1024], rsp[512], ud[200];
	struct proto_buf b, rb;
	struct ota_sms_reasm_out o;
	struct ota_spkt_cmd cmd;
	struct ota_spi spi;
	struct proto_rcmd_script script;
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	struct proto_rcmd_enc e;
	uint64_t stored_cntr = 0;
	uint8_t status;
	int i, rc = 0, n = 0;

	ota_key_import(ctx, demo_kic, 16, &sec.kic_key);
	ota_key_import(ctx, demo_kid, 16, &sec.kid_key);

	STEP("eUICC: SMS-DELIVERs arrive in reverse order; reassemble (TS 31.115 / TS 23.040)");
	proto_buf_init(&b, pkt, sizeof(pkt));
	for (i = nseg - 1; i >= 0; i--) {
		uint8_t tpdu[200];
		struct proto_buf tb;
		struct ota_tp_deliver d = { .first_octet = OTA_TP_UDHI, .oa = { "1001", 0x81 },
					    .pid = OTA_TP_PID_SIM_DATA_DOWNLOAD, .dcs = OTA_TP_DCS_8BIT_CLASS2,
					    .scts = { 0x62, 0x11, 0x22, 0x10, 0x00, 0x00, 0x00 },
					    .ud = segs[i].ud, .ud_len = segs[i].len }, got;
		proto_buf_init(&tb, tpdu, sizeof(tpdu));
		if ((rc = ota_tp_deliver_encode(&tb, &d)) < 0)
			FAIL("SMS-DELIVER", rc);
		if ((rc = ota_tp_deliver_decode(tb.data, tb.len, &got)) < 0)
			FAIL("SMS-DELIVER decode", rc);
		rc = ota_sms_reasm_feed(reasm, got.oa.digits, got.ud, got.ud_len, 0, &b, &o);
		printf("    segment %d/%d (%zu-byte TPDU, PID %02x DCS %02x): %s\n", i + 1, nseg, tb.len, got.pid,
		       got.dcs,
		       rc == 1	 ? "packet complete"
		       : rc == 0 ? "stored"
				 : proto_strerror(rc));
		if (rc < 0)
			FAIL("reassembly", rc);
	}
	if (rc != 1 || !o.cmd_pkt)
		FAIL("reassembly", -PROTO_E_TRUNCATED);

	STEP("eUICC: check CC, decipher, check counter (TS 102 225 §5.1)");
	rc = ota_spkt_cmd_decode(b.data, b.len, &sec, scratch, sizeof(scratch), &cmd);
	status = ota_spkt_err_to_por_status(rc);
	ota_spi_decode(cmd.hdr.spi, &spi);
	if (status == OTA_POR_OK)
		status = ota_cntr_check(spi.cntr, stored_cntr, ota_cntr_get(cmd.hdr.cntr));
	printf("    TAR %s, CNTR %llu (stored %llu), CC %s -> PoR status %02x (%s)\n", proto_hexstr(cmd.hdr.tar, 3),
	       (unsigned long long)ota_cntr_get(cmd.hdr.cntr), (unsigned long long)stored_cntr,
	       cmd.integrity == OTA_INTEGRITY_OK ? "ok" : "bad", status, ota_por_status_name(status));
	if (status != OTA_POR_OK)
		return 1;

	STEP("eUICC: run the expanded remote command script (TS 102 226 §5.2)");
	if ((rc = proto_rcmd_script_decode(cmd.data, cmd.data_len, &script)) < 0)
		FAIL("script", rc);
	proto_buf_init(&rb, rsp, sizeof(rsp));
	proto_rcmd_rsp_begin(&e, &rb, false);
	proto_rcmd_put_n_executed(&e, (uint8_t)script.n_capdus);	/* every command of this script succeeds */
	proto_rcmd_script_iter_init(&it, &script);
	while (proto_rcmd_script_next(&it, &c) > 0) {
		n++;
		printf("    C-APDU %d: %-11s %s\n", n, proto_gp_ins_name(c.apdu.ins), proto_hexstr(c.raw, c.raw_len));
		if (c.apdu.ins == PROTO_GP_INS_GET_STATUS) {
			/* registry entry of the new ISD-P: AID, life cycle CREATED (03), properties */
			uint8_t entry[64];
			struct proto_buf eb;
			size_t m;
			proto_buf_init(&eb, entry, sizeof(entry));
			m = proto_tlv_open(&eb, PROTO_GP_TAG_REGISTRY_ENTRY);
			proto_tlv_put(&eb, PROTO_GP_TAG_AID, isdp_aid, sizeof(isdp_aid));
			proto_tlv_put(&eb, PROTO_GP_TAG_LCS, "\x03", 1);
			proto_tlv_put(&eb, PROTO_GP_TAG_SD_PROPS, "\x00", 1);
			proto_tlv_close(&eb, m);
			proto_rcmd_put_rapdu(&e, eb.data, eb.len, PROTO_SW_OK);
		} else {
			proto_rcmd_put_rapdu(&e, NULL, 0, PROTO_SW_OK);
		}
	}
	if ((rc = proto_rcmd_end(&e)) < 0)
		FAIL("response script", rc);
	hexline("response", rb.data, rb.len);

	STEP("eUICC: PoR, ciphered and with CC as SPI2 asks, sent by SMS-SUBMIT (TS 31.115 §4.4)");
	{
		struct ota_por_hdr ph = { .kic = cmd.hdr.kic, .kid = cmd.hdr.kid, .status = status };
		struct proto_buf ub;
		struct ota_tp_submit s = { .first_octet = OTA_TP_UDHI, .mr = 1, .da = { "1001", 0x81 },
					   .pid = OTA_TP_PID_SIM_DATA_DOWNLOAD, .dcs = OTA_TP_DCS_8BIT_CLASS2 };
		memcpy(ph.spi, cmd.hdr.spi, 2);
		memcpy(ph.tar, cmd.hdr.tar, 3);
		memcpy(ph.cntr, cmd.hdr.cntr, 5);
		proto_buf_init(&ub, ud, sizeof(ud));
		if ((rc = ota_por_encode(&ub, &ph, &sec, true, rb.data, rb.len)) < 0)
			FAIL("PoR", rc);
		s.ud = ub.data;
		s.ud_len = ub.len;
		if ((rc = ota_tp_submit_encode(por_tpdu, &s)) < 0)
			FAIL("SMS-SUBMIT", rc);
		hexline("SMS-SUBMIT", por_tpdu->data, por_tpdu->len);
	}
	return 0;
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "codec-demo");
	struct ota_sec sec = { 0 };
	struct ota_cmd_hdr h = { .spi = { 0x16, 0x39 }, .kic = 0x12, .kid = 0x12, .tar = { 0x00, 0x00, 0x01 } };
	uint8_t script[512], pkt[1024], tpdu[200], scratch[256];
	struct proto_buf b, pb, tb;
	struct proto_rcmd_enc e;
	struct ota_sms_ud segs[8];
	struct ota_spi spi;
	uint32_t quota = 0x8000;
	size_t mark;
	int rc, n, i, failed;

	printf("m2m-sm codec demo: ES5 CreateISDP over SCP80 SMS, and its PoR\n");
	ota_key_import(ctx, demo_kic, 16, &sec.kic_key);
	ota_key_import(ctx, demo_kid, 16, &sec.kid_key);
	ota_spi_decode(h.spi, &spi);

	STEP("SM-SR: ES5.CreateISDP as an expanded remote command script (SGP.02 §4.1.1.1, TS 102 226)");
	proto_buf_init(&b, script, sizeof(script));
	proto_rcmd_cmd_begin(&e, &b, false);
	mark = proto_rcmd_capdu_open(&e);
	proto_gp_es5_create_isdp(e.b, isdp_aid, sizeof(isdp_aid), &quota);
	proto_rcmd_capdu_close(&e, mark);
	mark = proto_rcmd_capdu_open(&e);
	proto_gp_get_status(e.b, PROTO_GP_STATUS_P1_APPS, PROTO_GP_STATUS_P2_TLV, isdp_aid, sizeof(isdp_aid),
			    (const uint8_t *)"\x4f\x9f\x70\x53", 4);
	proto_rcmd_capdu_close(&e, mark);
	if ((rc = proto_rcmd_end(&e)) < 0)
		FAIL("script", rc);
	printf("    ISD-P AID      %s, RequiredMemory %u bytes\n", proto_hexstr(isdp_aid, 16), quota);
	hexline("script", b.data, b.len);

	STEP("SM-SR: secure it with the ISD-R keyset: SPI %02x%02x (CC, ciphering, counter must be higher; PoR "
	     "ciphered with CC by SMS-SUBMIT), KIc/KID %02x/%02x (AES-128), TAR %s", h.spi[0], h.spi[1], h.kic, h.kid,
	     proto_hexstr(h.tar, 3));
	ota_cntr_put(h.cntr, 1);
	proto_buf_init(&pb, pkt, sizeof(pkt));
	if ((rc = ota_spkt_cmd_encode(&pb, &h, &sec, b.data, b.len)) < 0)
		FAIL("command packet", rc);
	printf("    CPL %u, CHL %u, CNTR 1, %zu bytes on the air\n", pkt[0] << 8 | pkt[1], pkt[2], pb.len);
	hexline("packet", pb.data, pb.len);

	STEP("SM-SR: split into SMS ourselves (IE 00 first, IE 70 in segment 1 only)");
	n = ota_sms_segment(pb.data, pb.len, OTA_IEI_CMD_PKT, 0x2a, segs, 8);
	if (n < 0)
		FAIL("segmentation", n);
	for (i = 0; i < n; i++)
		printf("    SMS %d/%d TP-UD (%3u bytes) %s\n", i + 1, n, segs[i].len,
		       proto_hexstr(segs[i].ud, segs[i].len));

	proto_buf_init(&tb, tpdu, sizeof(tpdu));
	if (euicc(ctx, segs, n, &tb))
		return 1;

	STEP("SM-SR: the PoR arrives; verify CC, decipher, read the response script");
	{
		struct ota_tp_submit s;
		struct ota_por por;
		struct proto_rcmd_rsp r;
		struct proto_rcmd_iter it;
		struct proto_rapdu ra;

		if ((rc = ota_tp_submit_decode(tb.data, tb.len, &s)) < 0)
			FAIL("SMS-SUBMIT", rc);
		rc = ota_por_decode(s.ud, s.ud_len, true, h.spi, h.kic, h.kid, &sec, scratch, sizeof(scratch), &por);
		if (rc < 0)
			FAIL("PoR", rc);
		printf("    PoR: TAR %s CNTR %llu status %02x (%s), CC %s, %s\n", proto_hexstr(por.tar, 3),
		       (unsigned long long)ota_cntr_get(por.cntr), por.status, ota_por_status_name(por.status),
		       por.integrity == OTA_INTEGRITY_OK ? "ok" : "not ok", por.ciphered ? "was ciphered" : "in clear");
		if ((rc = proto_rcmd_rsp_decode(por.data, por.data_len, &r)) < 0)
			FAIL("response script", rc);
		proto_rcmd_rsp_iter_init(&it, &r);
		failed = 0;
		for (i = 1; proto_rcmd_rsp_next(&it, &ra) > 0; i++) {
			printf("    R-APDU %d: SW %04x (%s)%s%s\n", i, ra.sw, proto_apdu_sw_name(ra.sw),
			       ra.len ? ", data " : "", ra.len ? proto_hexstr(ra.data, ra.len) : "");
			failed |= !proto_apdu_sw_is_ok(ra.sw);
		}
		printf("    %u of 2 commands executed\n", r.n_executed);
		if (por.status || por.integrity != OTA_INTEGRITY_OK || failed || r.n_executed != 2) {
			printf("\nresult: CreateISDP FAILED\n");
			return 1;
		}
	}
	printf("\nresult: CreateISDP EXECUTED_SUCCESS (%d SMS out, 1 SMS back)\n", n);
	talloc_free(ctx);
	return 0;
}
