/* ota/ts31115_sms: segmentation boundaries, UDH parsing, reassembly in every arrival order, duplicates,
 * interleaved originators, reference reuse, expiry and eviction. */
#include <talloc.h>
#include "tests/testlib.h"
#include "ota/ts31115_sms.h"
#include "proto/errors.h"

static void test_segment_sizes(void)
{
	static const struct { size_t len; unsigned n; } t[] = {
		{ 0, 1 }, { 137, 1 }, { 138, 2 }, { 132 + 134, 2 }, { 132 + 134 + 1, 3 }, { 132 + 134 * 254, 255 },
		{ 132 + 134 * 254 + 1, 256 },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(ota_sms_segment_count(t[i].len) == t[i].n, "len %zu -> %u", t[i].len,
		      ota_sms_segment_count(t[i].len));
}

static void test_segment_layout(void)
{
	static struct ota_sms_ud segs[255];
	uint8_t pkt[400];
	size_t i;
	int n;

	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	n = ota_sms_segment(pkt, 137, OTA_IEI_CMD_PKT, 7, segs, 255);
	CHECK(n == 1 && segs[0].len == 140 && !memcmp(segs[0].ud, "\x02\x70\x00", 3), "single 137");
	n = ota_sms_segment(pkt, 300, OTA_IEI_CMD_PKT, 0xab, segs, 255);
	CHECK(n == 3, "300 -> %d", n);
	CHECK_HEX(segs[0].ud, 8, "070003ab03017000", "segment 1 UDH");
	CHECK(segs[0].len == 140 && segs[0].ud[8] == 0 && segs[0].ud[139] == 131, "segment 1 payload");
	CHECK_HEX(segs[1].ud, 6, "050003ab0302", "segment 2 UDH");
	CHECK(segs[1].len == 140 && segs[1].ud[6] == 132, "segment 2 payload");
	CHECK(segs[2].len == 6 + 300 - 266 && segs[2].ud[6] == (uint8_t)266, "segment 3 payload");
	n = ota_sms_segment(pkt, 300, OTA_IEI_RSP_PKT, 1, segs, 2);
	CHECK_RC(n, -PROTO_E_NOSPACE);
	CHECK_RC(ota_sms_segment(pkt, 10, 0x00, 1, segs, 2), -EINVAL);
}

static void test_parse(void)
{
	static const struct {
		const char *hex;
		int rc;
		bool concat;
		uint16_t ref;
		uint8_t total, seq;
		bool c70, c71;
		size_t pl;
	} t[] = {
		{"027000aabb", 0, false, 0, 0, 0, true, false, 2},
		{"027100", 0, false, 0, 0, 0, false, true, 0},
		{"0700030a020170001122", 0, true, 0x0a, 2, 1, true, false, 2},
		{"0770000003070201aa", 0, true, 7, 2, 1, true, false, 1},	       /* IE 70 first */
		{"050804123403", -PROTO_E_MALFORMED, false, 0, 0, 0, false, false, 0}, /* IE longer than UDHL */
		{"08080412340302710011", 0, true, 0x1234, 3, 2, false, true, 1},       /* 16-bit ref */
		{"0500030a0203", -PROTO_E_MALFORMED, false, 0, 0, 0, false, false, 0}, /* seq > total */
		{"0500030a0200", -PROTO_E_MALFORMED, false, 0, 0, 0, false, false, 0}, /* seq 0 */
		{"0400020a02", -PROTO_E_MALFORMED, false, 0, 0, 0, false, false, 0},   /* IEDL 2 */
		{"03700500", -PROTO_E_MALFORMED, false, 0, 0, 0, false, false, 0},     /* IE runs past UDH */
		{"05", -PROTO_E_TRUNCATED, false, 0, 0, 0, false, false, 0},
		{"", -PROTO_E_TRUNCATED, false, 0, 0, 0, false, false, 0},
		{"0024010070", 0, false, 0, 0, 0, false, false, 4}, /* UDHL 0 */
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t in[64];
		struct ota_sms_udh h;
		int n = proto_hex_decode(t[i].hex, in, sizeof(in)), rc = ota_sms_ud_parse(in, (size_t)n, &h);

		CHECK(rc == t[i].rc, "%s: rc %d", t[i].hex, rc);
		if (!rc)
			CHECK(h.concat == t[i].concat && h.ref == t[i].ref && h.total == t[i].total &&
				      h.seq == t[i].seq && h.cmd_pkt == t[i].c70 && h.rsp_pkt == t[i].c71 &&
				      h.payload_len == t[i].pl,
			      "%s: fields", t[i].hex);
	}
}

/* feed the segments of a 401-byte packet in every order of a 4-segment message (24 permutations) */
static void test_reassembly_orders(void)
{
	void *ctx = talloc_named_const(NULL, 0, "reasm");
	struct ota_sms_reasm *r = ota_sms_reasm_new(ctx, 8, 60);
	struct ota_sms_ud segs[4];
	uint8_t pkt[401], out[600];
	int perm[4] = { 0, 1, 2, 3 }, count = 0, i;
	size_t j;

	for (j = 0; j < sizeof(pkt); j++)
		pkt[j] = (uint8_t)(j * 7);
	CHECK(ota_sms_segment(pkt, sizeof(pkt), OTA_IEI_CMD_PKT, 0x42, segs, 4) == 4, "4 segments");
	/* Heap's algorithm over perm */
	{
		int c[4] = { 0 }, k = 0;
		for (;;) {
			struct proto_buf b;
			struct ota_sms_reasm_out o;
			int rc = 0;

			proto_buf_init(&b, out, sizeof(out));
			for (i = 0; i < 4; i++) {
				const struct ota_sms_ud *sg = &segs[perm[i]];
				rc = ota_sms_reasm_feed(r, "491700000001", sg->ud, sg->len, 1000, &b, &o);
				CHECK(rc == (i == 3 ? 1 : 0), "perm %d step %d rc %d", count, i, rc);
			}
			CHECK(rc == 1 && b.len == sizeof(pkt) && !memcmp(out, pkt, sizeof(pkt)), "perm %d data", count);
			CHECK(o.cmd_pkt && !o.rsp_pkt && o.segments == 4 && o.udh_len == 8, "perm %d IEs", count);
			count++;
			while (k < 4 && c[k] >= k) {
				c[k] = 0;
				k++;
			}
			if (k >= 4)
				break;
			if (k % 2 == 0) {
				int t = perm[0]; perm[0] = perm[k]; perm[k] = t;
			} else {
				int t = perm[c[k]]; perm[c[k]] = perm[k]; perm[k] = t;
			}
			c[k]++;
			k = 1;
		}
	}
	CHECK(count == 24, "%d permutations", count);
	CHECK(ota_sms_reasm_pending(r) == 0, "nothing pending");
	talloc_free(ctx);
}

static void test_reassembly_faults(void)
{
	void *ctx = talloc_named_const(NULL, 0, "reasm");
	struct ota_sms_reasm *r = ota_sms_reasm_new(ctx, 2, 30);
	struct ota_sms_ud a[3], b2[3];
	struct ota_sms_reasm_out o;
	uint8_t pa[300], pb[300], out[400];
	struct proto_buf b;

	memset(pa, 0xa1, sizeof(pa));
	memset(pb, 0xb2, sizeof(pb));
	ota_sms_segment(pa, sizeof(pa), OTA_IEI_RSP_PKT, 5, a, 3);
	ota_sms_segment(pb, sizeof(pb), OTA_IEI_RSP_PKT, 5, b2, 3);	/* same ref, other originator */

	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[0].ud, a[0].len, 0, &b, &o), 0);
	CHECK_RC(ota_sms_reasm_feed(r, "1002", b2[2].ud, b2[2].len, 0, &b, &o), 0);
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[0].ud, a[0].len, 1, &b, &o), 0);	/* duplicate */
	CHECK_RC(ota_sms_reasm_feed(r, "1002", b2[0].ud, b2[0].len, 1, &b, &o), 0);
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[2].ud, a[2].len, 2, &b, &o), 0);
	CHECK(ota_sms_reasm_pending(r) == 2 && b.len == 0, "two pending, nothing out");
	CHECK_RC(ota_sms_reasm_feed(r, "1002", b2[1].ud, b2[1].len, 2, &b, &o), 1);
	CHECK(b.len == 300 && out[0] == 0xb2 && out[299] == 0xb2 && o.rsp_pkt, "originator 1002 complete");
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[1].ud, a[1].len, 3, &b, &o), 1);
	CHECK(b.len == 300 && out[0] == 0xa1 && out[150] == 0xa1, "originator 1001 complete");

	/* expiry: a partial message older than max_age is dropped */
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[0].ud, a[0].len, 100, &b, &o), 0);
	CHECK(ota_sms_reasm_expire(r, 200) == 1 && ota_sms_reasm_pending(r) == 0, "expired");
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[1].ud, a[1].len, 201, &b, &o), 0);
	CHECK_RC(ota_sms_reasm_feed(r, "1001", a[2].ud, a[2].len, 201, &b, &o), 0);
	CHECK(ota_sms_reasm_pending(r) == 1, "late segments wait for the lost first one");

	/* eviction: capacity 2, a third message evicts the oldest */
	CHECK_RC(ota_sms_reasm_feed(r, "2001", a[0].ud, a[0].len, 202, &b, &o), 0);
	CHECK_RC(ota_sms_reasm_feed(r, "3001", a[0].ud, a[0].len, 203, &b, &o), 0);
	CHECK(ota_sms_reasm_pending(r) == 2, "bounded");

	/* output too small: error, message dropped */
	{
		uint8_t small[10];
		proto_buf_init(&b, small, sizeof(small));
		CHECK_RC(ota_sms_reasm_feed(r, "3001", a[1].ud, a[1].len, 204, &b, &o), 0);
		CHECK_RC(ota_sms_reasm_feed(r, "3001", a[2].ud, a[2].len, 204, &b, &o), -PROTO_E_NOSPACE);
	}
	/* empty segments (UDH only) are legal and reassemble to nothing (found by fuzz_sms: read past the UD) */
	{
		uint8_t *e1 = malloc(6), *e2 = malloc(6);
		memcpy(e1, "\x05\x00\x03\x77\x02\x01", 6);
		memcpy(e2, "\x05\x00\x03\x77\x02\x02", 6);
		proto_buf_init(&b, out, sizeof(out));
		CHECK_RC(ota_sms_reasm_feed(r, "4001", e2, 6, 205, &b, &o), 0);
		CHECK_RC(ota_sms_reasm_feed(r, "4001", e2, 6, 205, &b, &o), 0);	/* duplicate empty segment */
		CHECK_RC(ota_sms_reasm_feed(r, "4001", e1, 6, 205, &b, &o), 1);
		CHECK(b.len == 0 && o.segments == 2, "empty segments");
		free(e1);
		free(e2);
	}
	/* more than one SMS worth of TP-UD is refused (found by fuzz_sms: the UDH copy overflowed) */
	{
		uint8_t big[OTA_SMS_UD_MAX + 20] = { 0xa6, 0x71, 0x00 };
		proto_buf_init(&b, out, sizeof(out));
		CHECK_RC(ota_sms_reasm_feed(r, "5001", big, sizeof(big), 206, &b, &o), -PROTO_E_MALFORMED);
	}
	/* a single SMS passes straight through */
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_sms_reasm_feed(r, "1001", (const uint8_t *)"\x02\x71\x00\x01", 4, 300, &b, &o), 1);
	CHECK(b.len == 1 && o.rsp_pkt && o.segments == 1, "single");
	CHECK_RC(ota_sms_reasm_feed(r, "1001", (const uint8_t *)"\x05\x00\x03", 3, 300, &b, &o), -PROTO_E_TRUNCATED);
	talloc_free(ctx);
}

int main(void)
{
	test_segment_sizes();
	test_segment_layout();
	test_parse();
	test_reassembly_orders();
	test_reassembly_faults();
	TEST_DONE();
}
