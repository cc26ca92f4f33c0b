/* The card side of SCP80 over SMS-PP: ETSI TS 102 225 §5, 3GPP TS 31.115 §4 (scp80.md §1, §5, §6). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "proto/errors.h"
#include "ota/crc.h"
#include "ota/keystore.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "tests/euicc-sim/sim_ota.h"

enum {
	PKT_HDR_LEN = 10,		/* CPL CHL SPI KIc KID TAR: readable without keys */
	RHL_BASE = 10,			/* TAR CNTR PCNTR STATUS */
	PKT_MAX = 255 * 134,		/* largest reassembled packet */
	RSP_MAX = 4096,			/* largest script response we answer */
	POR_MAX = RSP_MAX + 64,
};

static const uint8_t isdr_tar[3] = { 0x00, 0x00, 0x01 };

struct sim_ota {
	struct ota_sms_reasm *reasm;
	uint8_t *pkt;		/* reassembled packet */
	uint8_t *scratch;	/* deciphered packet */
	uint8_t *rsp;		/* script response */
	uint8_t *por;		/* encoded PoR */
};

const char *sim_ota_event_name(enum sim_ota_event ev)
{
	switch (ev) {
	case SIM_OTA_PENDING:
		return "pending";
	case SIM_OTA_IGNORED:
		return "ignored";
	case SIM_OTA_DROPPED:
		return "dropped";
	case SIM_OTA_PROCESSED:
		return "processed";
	default:
		return "unknown";
	}
}

struct sim_ota *sim_ota_new(void *ctx, unsigned max_partial, unsigned max_age)
{
	struct sim_ota *o = talloc_zero(ctx, struct sim_ota);

	if (!o)
		return NULL;
	o->reasm = ota_sms_reasm_new(o, max_partial, max_age);
	o->pkt = talloc_size(o, PKT_MAX);
	o->scratch = talloc_size(o, PKT_MAX);
	o->rsp = talloc_size(o, RSP_MAX);
	o->por = talloc_size(o, POR_MAX);
	if (!o->reasm || !o->pkt || !o->scratch || !o->rsp || !o->por) {
		talloc_free(o);
		return NULL;
	}
	return o;
}

unsigned sim_ota_expire(struct sim_ota *o, uint64_t now_ms)
{
	return ota_sms_reasm_expire(o->reasm, (time_t)(now_ms / 1000));
}

/* Split a PoR / notification packet (without UDH) into TP-UDs with the given IEI. */
static int segment(struct sim_card *c, const uint8_t *pkt, size_t len, uint8_t iei, struct sim_ota_out *out)
{
	int n = ota_sms_segment(pkt, len, iei, c->mo_ref, out->mo, SIM_OTA_MAX_MO);

	if (n < 0)
		return n;
	if (n > 1)
		c->mo_ref++;
	out->n_mo = (unsigned)n;
	return 0;
}

/* A secured PoR that needs concatenation: its RC/CC input starts with the whole UDH of segment 1
 * (07 00 03 ref N 1 71 00) instead of 02 71 00 (TS 31.115 §4.4; scp80.md §6). Writes RPL..end. */
static int por_encode_concat(struct proto_buf *b, const struct ota_por_hdr *h, const struct ota_sec *sec,
			     uint8_t ref, const uint8_t *data, size_t len)
{
	uint8_t udh[8] = { 0x07, OTA_IEI_CONCAT8, 0x03, ref, 0, 1, OTA_IEI_RSP_PKT, 0x00 };
	int n = ota_por_packet_len(h, sec, true, len);

	if (n < 0)
		return n;
	udh[4] = (uint8_t)ota_sms_segment_count((size_t)n);
	return ota_por_encode_packet(b, h, sec, true, udh, sizeof(udh), data, len);
}

/* Build the PoR MO(s). secured = false sends it in clear without RC/CC (statuses 06, 09). */
static int por_build(struct sim_ota *o, struct sim_card *c, const struct ota_por_hdr *h, const struct ota_sec *sec,
		     bool secured, const uint8_t *data, size_t len, struct sim_ota_out *out)
{
	struct proto_buf b;
	struct ota_spi s;
	int rc;

	proto_buf_init(&b, o->por, POR_MAX);
	rc = ota_por_encode(&b, h, sec, secured, data, len);
	if (rc < 0 && secured) {
		SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "PoR cannot be secured as SPI2 asks (%s): sent in clear",
			 proto_strerror(rc));
		secured = false;
		proto_buf_init(&b, o->por, POR_MAX);
		rc = ota_por_encode(&b, h, sec, false, data, len);
	}
	if (rc < 0)
		return rc;
	out->por = true;
	if (b.len <= OTA_SMS_UD_MAX) {
		memcpy(out->mo[0].ud, b.data, b.len);
		out->mo[0].len = (uint8_t)b.len;
		out->n_mo = 1;
		return 0;
	}
	ota_spi_decode(h->spi, &s);
	if (secured && s.por_integ != OTA_INTEG_NONE) {
		proto_buf_init(&b, o->por, POR_MAX);
		rc = por_encode_concat(&b, h, sec, c->mo_ref, data, len);
		if (rc < 0)
			return rc;
		return segment(c, b.data, b.len, OTA_IEI_RSP_PKT, out);
	}
	return segment(c, b.data + 3, b.len - 3, OTA_IEI_RSP_PKT, out);
}

/* Handle one complete command packet. */
static int process_packet(struct sim_ota *o, struct sim_card *c, const uint8_t *pkt, size_t len, uint64_t now_ms,
			  const struct sim_ota_opts *opts, struct sim_ota_out *out)
{
	struct ota_spkt_cmd cmd;
	struct ota_spi spi;
	struct ota_por_hdr ph;
	struct ota_sec sec;
	struct proto_buf rsp;
	struct sim_isdp *target = NULL;
	bool secured = true, send;
	uint64_t rcvd;
	int rc;

	memset(&ph, 0, sizeof(ph));
	memset(&sec, 0, sizeof(sec));
	proto_buf_init(&rsp, o->rsp, RSP_MAX);
	if (len < PKT_HDR_LEN || (size_t)(pkt[0] << 8 | pkt[1]) != len - 2) {
		SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "command packet header unreadable (%zu bytes): no PoR", len);
		out->event = SIM_OTA_DROPPED;
		return 0;
	}
	memcpy(ph.spi, pkt + 3, 2);
	ph.kic = pkt[5];
	ph.kid = pkt[6];
	memcpy(ph.tar, pkt + 7, 3);
	ota_spi_decode(ph.spi, &spi);
	out->event = SIM_OTA_PROCESSED;

	/* the ISD-R, or an ISD-P by its implicit TAR (ES8), both secured with the ISD-R keyset */
	if (memcmp(ph.tar, isdr_tar, 3) && !(target = sim_card_isdp_find_by_tar(c, ph.tar))) {
		ph.status = OTA_POR_TAR_UNKNOWN;
		secured = false;
		goto por;
	}
	rc = sim_card_keys(c);
	if (rc < 0) {
		SIM_LOGC(c, SIM_DOTA, SIM_LOG_ERROR, "keys unavailable: %s", proto_strerror(rc));
		return rc;
	}
	if ((ph.kic >> 4) == c->kvn && (ph.kic & 0x0F) == c->algo)
		sec.kic_key = c->kic;
	if ((ph.kid >> 4) == c->kvn && (ph.kid & 0x0F) == c->algo)
		sec.kid_key = c->kid;

	rc = ota_spkt_cmd_decode(pkt, len, &sec, o->scratch, PKT_MAX, &cmd);
	if (rc == -PROTO_E_INTEGRITY)
		memcpy(ph.cntr, cmd.hdr.cntr, 5);
	if (rc < 0) {
		ph.status = ota_spkt_err_to_por_status(rc);
		if (ph.status == 0xFF) {
			SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "command packet undecodable (%s): no PoR",
				 proto_strerror(rc));
			out->event = SIM_OTA_DROPPED;
			return 0;
		}
		if (ph.status == OTA_POR_UNIDENTIFIED_SECURITY_ERROR)
			secured = false;
		goto por;
	}
	memcpy(ph.cntr, cmd.hdr.cntr, 5);
	if (spi.integ == OTA_INTEG_CC && (ph.kid & 0x0F) == 0x2)
		sec.cc_len = cmd.rc_len;	/* answer with the CMAC length of the command */

	if (spi.integ < c->msl.integ || (c->msl.cipher && !spi.ciphered) || spi.cntr < c->msl.cntr) {
		ph.status = OTA_POR_INSUFFICIENT_SECURITY_LEVEL;
		goto por;
	}
	rcvd = ota_cntr_get(cmd.hdr.cntr);
	ph.status = opts && opts->wrong_counter ? OTA_POR_CNTR_LOW : ota_cntr_check(spi.cntr, c->cntr, rcvd);
	if (ph.status != OTA_POR_OK)
		goto por;
	if (spi.cntr == OTA_CNTR_HIGHER || spi.cntr == OTA_CNTR_ONE_HIGHER)
		c->cntr = rcvd;

	rc = sim_card_run_script_on(c, target, cmd.data, cmd.data_len, &rsp, now_ms, &out->script);
	if (rc < 0) {
		SIM_LOGC(c, SIM_DOTA, SIM_LOG_NOTICE, "script response too long (%s)", proto_strerror(rc));
		ph.status = OTA_POR_INSUFFICIENT_MEMORY;
		rsp.len = 0;
	} else {
		out->executed = true;
	}

por:
	out->status = ph.status;
	switch (spi.por) {
	case OTA_POR_REQUIRED:
		send = true;
		break;
	case OTA_POR_ON_ERROR:
		send = ph.status != OTA_POR_OK || out->script.error;
		break;
	default:
		send = false;
		break;
	}
	SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "packet SPI %02x%02x TAR %02x%02x%02x CNTR %llu: status %02x (%s), "
		 "%u cmd(s), last SW %04x, PoR %s", ph.spi[0], ph.spi[1], ph.tar[0], ph.tar[1], ph.tar[2],
		 (unsigned long long)ota_cntr_get(ph.cntr), ph.status, ota_por_status_name(ph.status),
		 out->script.n_executed, out->script.last_sw, send ? (secured ? "as SPI2 asks" : "in clear") : "none");
	if (!send)
		return 0;
	return por_build(o, c, &ph, &sec, secured, ph.status == OTA_POR_OK ? rsp.data : NULL,
			 ph.status == OTA_POR_OK ? rsp.len : 0, out);
}

int sim_ota_mt(struct sim_ota *o, struct sim_card *c, const char *from, const uint8_t *ud, size_t len,
	       uint64_t now_ms, const struct sim_ota_opts *opts, struct sim_ota_out *out)
{
	struct ota_sms_reasm_out ro;
	struct proto_buf pkt;
	char orig[32];
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(orig, sizeof(orig), "%s|%s", c->msisdn, from);
	proto_buf_init(&pkt, o->pkt, PKT_MAX);
	rc = ota_sms_reasm_feed(o->reasm, orig, ud, len, (time_t)(now_ms / 1000), &pkt, &ro);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "MT from %s ignored: %s", from, proto_strerror(rc));
		out->event = SIM_OTA_IGNORED;
		return 0;
	}
	if (rc == 0) {
		out->event = SIM_OTA_PENDING;
		return 0;
	}
	if (!ro.cmd_pkt) {
		SIM_LOGC(c, SIM_DOTA, SIM_LOG_INFO, "MT from %s without command packet IE: ignored", from);
		out->event = SIM_OTA_IGNORED;
		return 0;
	}
	return process_packet(o, c, pkt.data, pkt.len, now_ms, opts, out);
}

int sim_ota_notif(struct sim_ota *o, struct sim_card *c, const struct sim_notif *n, struct sim_ota_out *out)
{
	struct ota_cmd_hdr h = {
		.spi = { 0x02, 0x00 },		/* CC, no ciphering, no counter, no PoR (sgp02.md §6.5) */
		.kic = (uint8_t)(c->kvn << 4),	/* 10: key 1, implicit algorithm (not ciphered) */
		.kid = (uint8_t)(c->kvn << 4 | c->algo),
		.tar = { 0x00, 0x00, 0x01 },
	};
	struct ota_sec sec = { 0 };
	struct proto_buf b, e1;
	uint8_t body[128];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sim_card_keys(c);
	if (rc < 0)
		return rc;
	sec.kid_key = c->kid;
	proto_buf_init(&e1, body, sizeof(body));
	rc = sim_card_notif_encode(c, n, &e1);
	if (rc < 0)
		return rc;
	proto_buf_init(&b, o->por, POR_MAX);
	rc = ota_spkt_cmd_encode(&b, &h, &sec, e1.data, e1.len);
	if (rc < 0)
		return rc;
	out->event = SIM_OTA_PROCESSED;
	return segment(c, b.data, b.len, OTA_IEI_CMD_PKT, out);
}
