/* proto/saip_rsp: EUICCResponse DER against hand-encoded bytes (PE_Definitions, AUTOMATIC TAGS), and the decoder's
 * refusals. */
#include <string.h>
#include "proto/saip_rsp.h"
#include "tests/testlib.h"

static int enc(const struct proto_saip_euicc_rsp *r, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_buf b;
	int rc;

	proto_buf_init(&b, out, cap);
	rc = proto_saip_euicc_rsp_encode(&b, r);
	*len = b.len;
	return rc;
}

static int dec_hex(struct proto_saip_euicc_rsp *r, const char *hex)
{
	static uint8_t buf[256];
	int n = proto_hex_decode(hex, buf, sizeof(buf));

	if (n < 0)
		return -1000;
	return proto_saip_euicc_rsp_decode(r, buf, (size_t)n);
}

static void test_encode(void)
{
	struct proto_saip_euicc_rsp r;
	uint8_t out[256];
	size_t len;

	/* one ok PEStatus: 30 { A0 { 30 { 80 01 00 } } } */
	memset(&r, 0, sizeof(r));
	r.n_pe = 1;
	CHECK_RC(enc(&r, out, sizeof(out), &len), 0);
	CHECK_HEX(out, len, "3007a0053003800100", "ok");

	/* not-enough-memory for PE 5, installation aborted */
	r.pe[0].status = PROTO_SAIP_NOT_ENOUGH_MEMORY;
	r.pe[0].has_id = true;
	r.pe[0].id = 5;
	r.aborted = true;
	CHECK_RC(enc(&r, out, sizeof(out), &len), 0);
	CHECK_HEX(out, len, "300ca00830068001048101058100", "memory, aborted");

	/* INTEGERs that need a leading 00 (top bit), two bytes, every optional field and a status message */
	memset(&r, 0, sizeof(r));
	r.n_pe = 2;
	r.pe[0].status = 0x9000;
	r.pe[0].has_id = true;
	r.pe[0].id = 300;
	r.pe[0].has_add_info = true;
	r.pe[0].add_info = 255;
	r.pe[0].has_offset = true;
	r.pe[0].offset = 128;
	r.pe[1].status = PROTO_SAIP_OK;
	r.msg = (const uint8_t *)"ok";
	r.msg_len = 2;
	CHECK_RC(enc(&r, out, sizeof(out), &len), 0);
	CHECK_HEX(out, len,
		  "301e"
		  "a018"
		  "301180030090008102012c820200ff"
		  "83020080"
		  "3003800100"
		  "82026f6b",
		  "all fields");

	/* an empty list is valid DER (SEQUENCE OF with no element) */
	memset(&r, 0, sizeof(r));
	CHECK_RC(enc(&r, out, sizeof(out), &len), 0);
	CHECK_HEX(out, len, "3002a000", "empty peStatus");
	CHECK(!proto_saip_euicc_rsp_ok(&r), "an empty list is not success");

	/* range checks */
	r.n_pe = 1;
	r.pe[0].status = 65536;
	CHECK_RC(enc(&r, out, sizeof(out), &len), -EINVAL);
	r.pe[0].status = 0;
	r.pe[0].has_id = true;
	r.pe[0].id = 32768;
	CHECK_RC(enc(&r, out, sizeof(out), &len), -EINVAL);
	r.pe[0].has_id = false;
	r.msg = (const uint8_t *)"x";
	r.msg_len = 1;
	CHECK_RC(enc(&r, out, sizeof(out), &len), -EINVAL);
	r.msg = NULL;
	r.n_pe = PROTO_SAIP_RSP_MAX_PE + 1;
	CHECK_RC(enc(&r, out, sizeof(out), &len), -EINVAL);
	r.n_pe = 1;
	CHECK_RC(enc(&r, out, 5, &len), -PROTO_E_NOSPACE);
}

static void test_decode(void)
{
	struct proto_saip_euicc_rsp r;
	const struct proto_saip_pe_status *e;

	CHECK_RC(dec_hex(&r, "3007a0053003800100"), 0);
	CHECK(r.n_pe == 1 && r.pe[0].status == 0 && !r.pe[0].has_id && !r.aborted && !r.msg, "ok fields");
	CHECK(proto_saip_euicc_rsp_ok(&r), "ok");

	CHECK_RC(dec_hex(&r, "300ca00830068001048101058100"), 0);
	e = proto_saip_euicc_rsp_first_error(&r);
	CHECK(e && e->status == 4 && e->has_id && e->id == 5 && r.aborted, "memory error decoded");
	CHECK(!proto_saip_euicc_rsp_ok(&r), "not ok");
	CHECK(!strcmp(proto_saip_status_name(e->status), "not-enough-memory"), "name");

	CHECK_RC(dec_hex(&r, "301ea018301180030090008102012c820200ff83020080300380010082026f6b"), 0);
	CHECK(r.n_pe == 2 && r.pe[0].status == 0x9000 && r.pe[0].id == 300 && r.pe[0].add_info == 255 &&
		      r.pe[0].offset == 128 && r.pe[1].status == 0 && r.msg_len == 2 && !memcmp(r.msg, "ok", 2),
	      "all fields decoded");
	CHECK(!proto_saip_euicc_rsp_ok(&r), "a 9000 status is not ok");

	/* aborted although every status is ok: not a success */
	CHECK_RC(dec_hex(&r, "3009a00530038001008100"), 0);
	CHECK(r.aborted && !proto_saip_euicc_rsp_ok(&r), "aborted");

	/* unknown extensions after the known fields are skipped */
	CHECK_RC(dec_hex(&r, "300ca00830068001008401aa8500"), 0);
	CHECK(r.n_pe == 1 && r.pe[0].status == 0, "PEStatus extension skipped");
	CHECK_RC(dec_hex(&r, "3009a00530038001008500"), 0);
	CHECK(proto_saip_euicc_rsp_ok(&r), "EUICCResponse extension skipped");

	/* refusals */
	CHECK_RC(dec_hex(&r, "3008a00630048002000100"), -PROTO_E_TRAILING);    /* a byte after the SEQUENCE */
	CHECK_RC(dec_hex(&r, "3008a006300480020001"), -PROTO_E_MALFORMED);     /* 00 01: not minimal */
	CHECK_RC(dec_hex(&r, "3007a00530038001ff"), -PROTO_E_MALFORMED);       /* negative */
	CHECK_RC(dec_hex(&r, "3007a0053003810105"), -PROTO_E_MALFORMED);       /* no status */
	CHECK_RC(dec_hex(&r, "30028100"), -PROTO_E_MALFORMED);		       /* no peStatus */
	CHECK_RC(dec_hex(&r, "300aa0053003800100810100"), -PROTO_E_MALFORMED); /* NULL with content */
	CHECK_RC(dec_hex(&r, "300aa0083006810105800104"), -PROTO_E_MALFORMED); /* id before status */
	CHECK_RC(dec_hex(&r, "3009a00530038001000000"), -PROTO_E_MALFORMED);   /* 00 00 inside */
	CHECK_RC(dec_hex(&r, "3007a005300380010000"), -PROTO_E_TRAILING);
	CHECK_RC(dec_hex(&r, "3007a00530038001"), -PROTO_E_TRUNCATED);
	CHECK_RC(dec_hex(&r, "3105a003300100"), -PROTO_E_MALFORMED);		 /* SET, not SEQUENCE */
	CHECK_RC(dec_hex(&r, "300aa0053003800100820141"), -PROTO_E_MALFORMED);	 /* message of 1 byte */
	CHECK_RC(dec_hex(&r, "300ba005300380010081008100"), -PROTO_E_MALFORMED); /* aborted twice */
	CHECK_RC(dec_hex(&r, "3005a003040100"), -PROTO_E_MALFORMED);		 /* list element not a SEQUENCE */
	CHECK(r.n_pe == 0 && !r.aborted, "zeroed on error");
}

int main(void)
{
	test_encode();
	test_decode();
	TEST_DONE();
}
