/* Every vector of ../shared/vectors/scp80.json (copied into tests/vectors), byte for byte:
 * command packets are built and compared (packet, CPL/CHL/PCNTR, CC, SMS segments, SMS-DELIVER TPDUs) and
 * decoded back as a card does; PoRs are decoded and compared field by field and, where the vector has
 * build data, rebuilt byte for byte. */
#include <talloc.h>
#include "tests/testlib.h"
#include "tests/vectors.h"
#include "ota/keystore.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "ota/ts23040_tpdu.h"
#include "proto/ts102226_rcmd.h"
#include "proto/errors.h"

static void *ctx;

static void load_keys(json_t *v, struct ota_sec *sec)
{
	uint8_t raw[32];
	int n;

	memset(sec, 0, sizeof(*sec));
	if ((n = vec_hex(v, "key_enc", raw, sizeof(raw))) > 0)
		ota_key_import(ctx, raw, (size_t)n, &sec->kic_key);
	if ((n = vec_hex(v, "key_mac", raw, sizeof(raw))) > 0)
		ota_key_import(ctx, raw, (size_t)n, &sec->kid_key);
	sec->cc_len = (uint8_t)vec_int(v, "cc_len", 0);
}

static void check_tpdus(const char *id, json_t *v, json_t *exp, struct ota_sms_ud *segs, int nseg)
{
	json_t *tpdus = json_object_get(exp, "tpdus"), *tp = json_object_get(v, "tpdu_params");
	struct ota_tp_deliver d;
	uint8_t buf[200];
	struct proto_buf b;
	char what[160];
	int i;

	if (!tpdus)
		return;
	CHECK(json_array_size(tpdus) == (size_t)nseg, "%s: %zu tpdus, %d segments", id, json_array_size(tpdus), nseg);
	memset(&d, 0, sizeof(d));
	d.first_octet = (uint8_t)vec_int(tp, "first_octet", 0x40);
	snprintf(d.oa.digits, sizeof(d.oa.digits), "%s", vec_str(tp, "oa"));
	d.oa.toa = (uint8_t)vec_int(tp, "oa_toa", 0x91);
	d.pid = (uint8_t)vec_int(tp, "pid", 0x7f);
	d.dcs = (uint8_t)vec_int(tp, "dcs", 0xf6);
	proto_hex_decode(vec_str(tp, "scts"), d.scts, 7);
	for (i = 0; i < nseg && i < (int)json_array_size(tpdus); i++) {
		struct ota_tp_deliver back;
		d.ud = segs[i].ud;
		d.ud_len = segs[i].len;
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(ota_tp_deliver_encode(&b, &d), 0);
		snprintf(what, sizeof(what), "%s tpdu %d", id, i);
		CHECK_HEX(b.data, b.len, json_string_value(json_array_get(tpdus, i)), what);
		CHECK_RC(ota_tp_deliver_decode(b.data, b.len, &back), 0);
		CHECK(back.ud_len == segs[i].len && !memcmp(back.ud, segs[i].ud, back.ud_len), "%s: tpdu ud", id);
		CHECK(!strcmp(back.oa.digits, d.oa.digits) && back.pid == d.pid && back.dcs == d.dcs, "%s: tpdu hdr",
		      id);
	}
}

static void run_command(json_t *v)
{
	const char *id = vec_str(v, "id");
	json_t *exp = json_object_get(v, "expected"), *segs_exp = json_object_get(exp, "ud_segments");
	struct ota_cmd_hdr h;
	struct ota_sec sec;
	struct ota_spkt_cmd cmd;
	struct ota_sms_ud segs[8];
	static uint8_t data[70000], pkt[70000], scratch[70000], expect[70000];
	struct proto_buf b;
	char what[160];
	int dlen, n, i;

	load_keys(v, &sec);
	vec_hex(v, "spi", h.spi, 2);
	vec_hex(v, "kic", &h.kic, 1);
	vec_hex(v, "kid", &h.kid, 1);
	vec_hex(v, "tar", h.tar, 3);
	vec_hex(v, "cntr", h.cntr, 5);
	dlen = vec_hex(v, "data", data, sizeof(data));
	CHECK(dlen >= 0, "%s: data", id);

	proto_buf_init(&b, pkt, sizeof(pkt));
	CHECK_RC(ota_spkt_cmd_encode(&b, &h, &sec, data, (size_t)dlen), 0);
	snprintf(what, sizeof(what), "%s packet", id);
	CHECK_HEX(b.data, b.len, vec_str(exp, "packet"), what);
	CHECK(b.len >= 16 && (size_t)(b.data[0] << 8 | b.data[1]) == (size_t)vec_int(exp, "cpl", -1), "%s: cpl", id);
	CHECK(b.len >= 16 && b.data[2] == vec_int(exp, "chl", -1), "%s: chl", id);

	/* the card's view: decode the expected packet and check every field */
	n = vec_hex(exp, "packet", expect, sizeof(expect));
	CHECK_RC(ota_spkt_cmd_decode(expect, (size_t)n, &sec, scratch, sizeof(scratch), &cmd), 0);
	CHECK(cmd.data_len == (size_t)dlen && (!dlen || !memcmp(cmd.data, data, (size_t)dlen)), "%s: decoded data", id);
	CHECK(cmd.pcntr == vec_int(exp, "pcntr", -1), "%s: pcntr %u", id, cmd.pcntr);
	CHECK(!memcmp(cmd.hdr.cntr, h.cntr, 5) && !memcmp(cmd.hdr.tar, h.tar, 3), "%s: decoded header", id);
	snprintf(what, sizeof(what), "%s rc_cc_ds", id);
	CHECK_HEX(cmd.rc_cc_ds, cmd.rc_len, vec_str(exp, "rc_cc_ds"), what);
	CHECK(cmd.integrity == (cmd.rc_len ? OTA_INTEGRITY_OK : OTA_INTEGRITY_NONE), "%s: integrity", id);

	/* a flipped bit in the last byte must fail integrity (or ciphering/structure) when protected */
	if (cmd.rc_len) {
		expect[n - 1] ^= 0x01;
		CHECK(ota_spkt_cmd_decode(expect, (size_t)n, &sec, scratch, sizeof(scratch), &cmd) < 0,
		      "%s: tampered packet accepted", id);
	}

	if (segs_exp) {
		n = ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, 0, segs, 8);
		CHECK(n == (int)json_array_size(segs_exp), "%s: %d segments, want %zu", id, n,
		      json_array_size(segs_exp));
		for (i = 0; i < n && i < (int)json_array_size(segs_exp); i++) {
			snprintf(what, sizeof(what), "%s segment %d", id, i);
			CHECK_HEX(segs[i].ud, segs[i].len, json_string_value(json_array_get(segs_exp, i)), what);
		}
		check_tpdus(id, v, exp, segs, n);
	}
}

static void run_response(json_t *v)
{
	const char *id = vec_str(v, "id");
	json_t *exp = json_object_get(v, "expected"), *iv = json_object_get(exp, "integrity_valid");
	json_t *cr = json_object_get(exp, "compact_response"), *build = json_object_get(v, "build");
	struct ota_sec sec;
	struct ota_por por;
	uint8_t spi[2], kic, kid, ud[400], scratch[400], out[400];
	struct proto_buf b;
	char what[160];
	int n, rc, want_rc;

	load_keys(v, &sec);
	vec_hex(v, "spi", spi, 2);
	vec_hex(v, "kic", &kic, 1);
	vec_hex(v, "kid", &kid, 1);
	n = vec_hex(v, "ud", ud, sizeof(ud));
	want_rc = json_is_false(iv) ? -PROTO_E_INTEGRITY : 0;
	rc = ota_por_decode(ud, (size_t)n, true, spi, kic, kid, &sec, scratch, sizeof(scratch), &por);
	CHECK(rc == want_rc, "%s: decode rc %d (%s), want %d", id, rc, proto_strerror(rc), want_rc);
	CHECK(por.rpl == vec_int(exp, "rpl", -1) && por.rhl == vec_int(exp, "rhl", -1), "%s: rpl/rhl", id);
	snprintf(what, sizeof(what), "%s tar", id);
	CHECK_HEX(por.tar, 3, vec_str(exp, "tar"), what);
	snprintf(what, sizeof(what), "%s cntr", id);
	CHECK_HEX(por.cntr, 5, vec_str(exp, "cntr"), what);
	CHECK(por.pcntr == vec_int(exp, "pcntr", -1), "%s: pcntr %u", id, por.pcntr);
	CHECK(por.status == vec_int(exp, "status", -1), "%s: status %02x", id, por.status);
	CHECK(!strcmp(ota_por_status_name(por.status), vec_str(exp, "status_name")), "%s: status name '%s' vs '%s'",
	      id, ota_por_status_name(por.status), vec_str(exp, "status_name"));
	snprintf(what, sizeof(what), "%s rc_cc_ds", id);
	CHECK_HEX(por.rc_cc_ds, por.rc_len, vec_str(exp, "rc_cc_ds"), what);
	CHECK(por.ciphered == json_is_true(json_object_get(exp, "ciphered")), "%s: ciphered", id);
	CHECK(por.integrity == (json_is_null(iv) ? OTA_INTEGRITY_NONE : json_is_true(iv) ? OTA_INTEGRITY_OK
									   : OTA_INTEGRITY_BAD), "%s: integrity", id);
	snprintf(what, sizeof(what), "%s additional data", id);
	CHECK_HEX(por.data, por.data_len, vec_str(exp, "additional_data"), what);

	/* the same PoR without its UDH (RPL..end) decodes identically: the UDH 02 71 00 is implied */
	{
		struct ota_por p2;
		rc = ota_por_decode(ud + 3, (size_t)n - 3, false, spi, kic, kid, &sec, scratch, sizeof(scratch), &p2);
		CHECK(rc == want_rc && p2.status == por.status && p2.integrity == por.integrity, "%s: raw form", id);
	}

	if (json_is_object(cr)) {
		struct proto_rcmd_compact_rsp c;
		CHECK_RC(proto_rcmd_compact_rsp_decode(por.data, por.data_len, &c), 0);
		CHECK(c.n_cmds == vec_int(cr, "number_of_commands", -1), "%s: compact n", id);
		snprintf(what, sizeof(what), "%s compact sw", id);
		CHECK_HEX(c.sw, 2, vec_str(cr, "last_sw"), what);
		snprintf(what, sizeof(what), "%s compact data", id);
		CHECK_HEX(c.data, c.data_len, vec_str(cr, "last_response_data"), what);
	} else {
		/* the vectors give no compact response for error statuses (08 more time, 0A, 0C): data is not one */
		CHECK(por.data_len == 0 || por.status != OTA_POR_OK, "%s: compact_response null but data present", id);
	}

	/* rebuild the PoR from its fields when the vector says how */
	if (build && want_rc == 0) {
		struct ota_por_hdr h;
		uint8_t bdata[300];
		int bl = vec_hex(build, "data", bdata, sizeof(bdata));
		bool secured = por.ciphered || por.rc_len;

		memcpy(h.spi, spi, 2);
		h.kic = kic;
		h.kid = kid;
		memcpy(h.tar, por.tar, 3);
		memcpy(h.cntr, por.cntr, 5);
		h.status = por.status;
		proto_buf_init(&b, out, sizeof(out));
		CHECK_RC(ota_por_encode(&b, &h, &sec, secured, bdata, bl > 0 ? (size_t)bl : 0), 0);
		snprintf(what, sizeof(what), "%s rebuilt PoR", id);
		CHECK_HEX(b.data, b.len, vec_str(v, "ud"), what);
	}
}

int main(void)
{
	json_t *root, *vecs, *v;
	size_t i, ncmd = 0, nrsp = 0;

	ctx = talloc_named_const(NULL, 0, "scp80_vectors_test");
	root = vec_load("scp80.json");
	vecs = json_object_get(root, "vectors");
	json_array_foreach(vecs, i, v) {
		const char *kind = vec_str(v, "kind");
		if (!strcmp(kind, "command")) {
			run_command(v);
			ncmd++;
		} else if (!strcmp(kind, "response")) {
			run_response(v);
			nrsp++;
		} else {
			CHECK(0, "unknown vector kind %s", kind);
		}
	}
	printf("scp80.json: %zu command and %zu response vectors\n", ncmd, nrsp);
	CHECK(ncmd == 67 && nrsp == 29, "vector count changed: %zu/%zu", ncmd, nrsp);
	json_decref(root);
	talloc_free(ctx);
	TEST_DONE();
}
