/* proto/bertlv: tag and length forms, zero-copy iteration, nested encoding, bounded output, bad input. */
#include "tests/testlib.h"
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/hex.h"

static void test_decode_forms(void)
{
	static const struct {
		const char *hex;
		int rc;		/* consumed or error */
		uint32_t tag;
		size_t len;
		bool constructed, indefinite;
	} t[] = {
		{ "5a0101", 3, 0x5a, 1, false, false },
		{ "8000", 2, 0x80, 0, false, false },
		{ "7f2103930101", 6, 0x7f21, 3, true, false },
		{ "5f2001aa", 4, 0x5f20, 1, false, false },
		{ "bf30020000", 5, 0xbf30, 2, true, false },
		{ "9f7001ff", 4, 0x9f70, 1, false, false },
		{ "df810101ee", 5, 0xdf8101, 1, false, false },	/* 3-byte tag */
		{ "df81810101", -PROTO_E_UNSUPPORTED, 0, 0, false, false },	/* 4-byte tag */
		{ "228100", 3, 0x22, 0, true, false },		/* non-minimal length accepted */
		{ "aa820003010203", 7, 0xaa, 3, true, false },
		{ "aa83000001ff", 6, 0xaa, 1, true, false },
		{ "aa8400000001ff", -PROTO_E_MALFORMED, 0, 0, false, false },	/* 4 length bytes */
		{ "ae80220100", 2, 0xae, 0, true, true },	/* indefinite, constructed */
		{ "8a80", -PROTO_E_MALFORMED, 0, 0, false, false },	/* indefinite on a primitive tag */
		{ "", -PROTO_E_TRUNCATED, 0, 0, false, false },
		{ "5a", -PROTO_E_TRUNCATED, 0, 0, false, false },
		{ "5a02aa", -PROTO_E_TRUNCATED, 0, 0, false, false },
		{ "7f", -PROTO_E_TRUNCATED, 0, 0, false, false },
		{ "5a82ff", -PROTO_E_TRUNCATED, 0, 0, false, false },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t in[32];
		struct proto_tlv tlv;
		int n = proto_hex_decode(t[i].hex, in, sizeof(in)), rc = proto_tlv_decode(in, (size_t)n, &tlv);

		CHECK(rc == t[i].rc, "%s: rc %d want %d", t[i].hex, rc, t[i].rc);
		if (rc > 0) {
			CHECK(tlv.tag == t[i].tag && tlv.len == t[i].len && tlv.constructed == t[i].constructed &&
			      tlv.indefinite == t[i].indefinite, "%s: tag %x len %zu", t[i].hex, tlv.tag, tlv.len);
			CHECK(tlv.raw == in && (tlv.indefinite || tlv.raw_len == (size_t)rc), "%s: raw", t[i].hex);
			CHECK(tlv.val >= in && tlv.val + tlv.len <= in + n, "%s: value inside input", t[i].hex);
		}
	}
}

static void test_iter_find(void)
{
	uint8_t in[64];
	int n = proto_hex_decode("4f10a0000005591010ffffffff89000010009f700107530100", in, sizeof(in));
	struct proto_tlv_iter it;
	struct proto_tlv t;
	uint32_t tags[4];
	int k = 0, rc;

	proto_tlv_iter_init(&it, in, (size_t)n);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0 && k < 4)
		tags[k++] = t.tag;
	CHECK(rc == 0 && k == 3 && tags[0] == 0x4f && tags[1] == 0x9f70 && tags[2] == 0x53, "iteration: %d %d", rc, k);
	CHECK(proto_tlv_find(in, (size_t)n, 0x9f70, &t) == 1 && t.len == 1 && t.val[0] == 0x07, "find 9f70");
	CHECK(proto_tlv_find(in, (size_t)n, 0x5a, &t) == 0, "find absent");
	CHECK(proto_tlv_find(in, (size_t)n - 1, 0x5a, &t) == -PROTO_E_TRUNCATED, "find in truncated");

	/* stop at end-of-contents */
	n = proto_hex_decode("2201aa23020102000099", in, sizeof(in));
	proto_tlv_iter_init(&it, in, (size_t)n);
	it.stop_at_eoc = true;
	k = 0;
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0)
		k++;
	CHECK(rc == 0 && k == 2 && it.eoc == in + 7, "eoc stop: rc %d k %d", rc, k);

	/* 23 has b6 set, so a strict BER walk treats it as constructed and finds 01 02 truncated */
	CHECK_RC(proto_tlv_validate(in, 7), -PROTO_E_TRUNCATED);
	n = proto_hex_decode("e3094f03a000009f700107", in, sizeof(in));
	CHECK_RC(proto_tlv_validate(in, (size_t)n), 0);
	n = proto_hex_decode("e30a4f03a000009f70010753", in, sizeof(in));	/* nested, last byte missing */
	CHECK_RC(proto_tlv_validate(in, (size_t)n), -PROTO_E_TRUNCATED);
}

static void test_encode(void)
{
	uint8_t mem[600], val[300];
	struct proto_buf b;
	size_t m1, m2;

	memset(val, 0xab, sizeof(val));
	proto_buf_init(&b, mem, sizeof(mem));
	proto_tlv_put(&b, 0x4f, val, 3);
	CHECK_HEX(b.data, b.len, "4f03ababab", "short");
	proto_buf_init(&b, mem, sizeof(mem));
	proto_tlv_put(&b, 0x7f49, val, 0x80);
	CHECK(b.len == 2 + 2 + 0x80 && mem[2] == 0x81 && mem[3] == 0x80, "81 form");
	proto_buf_init(&b, mem, sizeof(mem));
	proto_tlv_put(&b, 0xdf8101, val, 256);
	CHECK(b.len == 3 + 3 + 256 && mem[3] == 0x82 && mem[4] == 0x01 && mem[5] == 0x00, "82 form, 3-byte tag");

	/* nested with open/close: lengths are minimal after closing */
	proto_buf_init(&b, mem, sizeof(mem));
	m1 = proto_tlv_open(&b, 0xaa);
	proto_tlv_put(&b, 0x22, val, 2);
	m2 = proto_tlv_open(&b, 0xe3);
	proto_tlv_put(&b, 0x4f, val, 1);
	proto_tlv_close(&b, m2);
	proto_tlv_close(&b, m1);
	CHECK_RC(proto_buf_status(&b), 0);
	CHECK_HEX(b.data, b.len, "aa092202ababe3034f01ab", "nested");
	proto_buf_init(&b, mem, sizeof(mem));
	m1 = proto_tlv_open(&b, 0xaa);
	proto_tlv_put(&b, 0x22, val, 200);
	proto_tlv_close(&b, m1);
	CHECK(b.len == 1 + 2 + 2 + 1 + 200 && mem[1] == 0x81 && mem[2] == 203, "nested 81 form: %zu", b.len);

	/* bounded output: overflow is sticky and nothing is written past cap */
	proto_buf_init(&b, mem, 4);
	proto_tlv_put(&b, 0x4f, val, 3);
	CHECK(b.len == 2 && b.overflow, "overflow on value");
	proto_tlv_put(&b, 0x01, val, 0);
	CHECK_RC(proto_buf_status(&b), -PROTO_E_NOSPACE);
	CHECK(proto_tlv_len_size(0x7f) == 1 && proto_tlv_len_size(0x80) == 2 && proto_tlv_len_size(0x100) == 3 &&
	      proto_tlv_len_size(0x10000) == 4, "len sizes");
}

/* the hex helpers every codec test leans on */
static void test_hex(void)
{
	static const uint8_t v[] = { 0x00, 0x9f, 0xab, 0x10 };
	uint8_t out[4] = { 0x55, 0x55, 0x55, 0x55 };
	char h[9];

	CHECK(strcmp(proto_hex_encode(v, 4, h), "009fab10") == 0, "lower: %s", h);
	CHECK(strcmp(proto_hex_encode_upper(v, 4, h), "009FAB10") == 0, "upper: %s", h);
	CHECK(proto_hex_decode("009FaB10", out, 4) == 4 && memcmp(out, v, 4) == 0, "mixed case decodes");
	CHECK(proto_hex_decode("", out, 4) == 0, "empty gives 0");
	CHECK(proto_hex_decode("009", out, 4) == -EINVAL, "odd length");
	CHECK(proto_hex_decode("0g", out, 4) == -EINVAL, "non-hex");
	CHECK(proto_hex_decode_n("009fab10  ", 8, out, 4) == 4 && memcmp(out, v, 4) == 0, "_n stops at len");
	memset(out, 0x55, sizeof(out));
	CHECK(proto_hex_decode("009fab1011", out, 2) == -PROTO_E_NOSPACE && out[0] == 0x55 && out[1] == 0x55,
	      "too long: refused before anything is written");
}

int main(void)
{
	test_hex();
	test_decode_forms();
	test_iter_find();
	test_encode();
	TEST_DONE();
}
