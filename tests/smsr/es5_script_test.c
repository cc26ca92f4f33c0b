/* smsr/es5_script: golden ES5 scripts (sgp02.md §6.4), response classification, the real-card notification
 * sample of sgp02.md §6.5, audit entries, confirmation responses, and bad input. */
#include "tests/testlib.h"
#include "smsr/es5_script.h"
#include "proto/errors.h"

static const uint8_t aid13[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
				   0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x13, 0x00 };
#define AID13 "a0000005591010ffffffff8900001300"

static void test_scripts(void)
{
	static const struct {
		enum smsr_es5_func f;
		int n;
		const char *want;
	} t[] = {
		{ SMSR_ES5_ENABLE_PROFILE, 1, "aa1c221a80e28800153a03124f10" AID13 },
		{ SMSR_ES5_DISABLE_PROFILE, 1, "aa1c221a80e28800153a04124f10" AID13 },
		{ SMSR_ES5_SET_FALLBACK, 1, "aa1c221a80e28800153a05124f10" AID13 },
		{ SMSR_ES5_DELETE_PROFILE, 1, "aa1a221880e40040124f10" AID13 "00" },
		{ SMSR_ES5_NOTIFICATION_CONFIRM, 1, "aa0f220d80e28900073a08044e02002a00" },
		{ SMSR_ES5_CREATE_ISDP, 1,
		  "aa4d224b80e60c004510a0000005591010ffffffff8900000d0010a0000005591010ffffffff"
		  "8900000e0010" AID13 "0380c0000cc90481020370ef04830280000000" },
	};
	struct smsr_es5_args a = { .aid = aid13, .aid_len = 16, .seq = 42, .quota = 0x8000 };
	uint8_t mem[512];
	struct proto_buf b;
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(smsr_es5_script_build(&b, t[i].f, &a), t[i].n);
		CHECK_HEX(b.data, b.len, t[i].want, smsr_es5_func_name(t[i].f));
	}
	{
		const uint8_t aids[2][16] = {
			{ 0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 0x10, 0 },
			{ 0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 0x11, 0 },
		};
		struct smsr_es5_args au = { .audit_aids = aids, .n_audit_aids = 2 };
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(smsr_es5_script_build(&b, SMSR_ES5_AUDIT, &au), 3);
		CHECK(b.len > 2 && b.data[0] == 0xAA && b.data[4] == 0x80 && b.data[5] == 0xCA && b.data[6] == 0xFF &&
		      b.data[7] == 0x21, "audit starts with GET DATA FF21");
	}
	{
		/* MasterDelete: bytes laid out by hand from the sgp02.md §6.4 row (no independent vector exists) */
		static const uint8_t sin[] = { 1, 2, 3 }, sdin[] = { 4, 5 }, pid[] = { 6, 7 }, tid[] = { 8 },
				     tok[] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
		struct proto_gp_delete_token dt = { sin, sdin, pid, tid, tok, 3, 2, 2, 1, 8 };
		struct smsr_es5_args md = { .aid = aid13, .aid_len = 16, .token = &dt };

		proto_buf_init(&b, mem, sizeof(mem));
		CHECK_RC(smsr_es5_script_build(&b, SMSR_ES5_MASTER_DELETE, &md), 1);
		CHECK_HEX(b.data, b.len,
			  "aa37223580e400402f4f10" AID13 "b611420301020345020405" "5f20020607930108"
			  "9e08111213141516171800",
			  "MasterDelete");
		dt.token_len = 0;
		proto_buf_init(&b, mem, sizeof(mem));
		CHECK(smsr_es5_script_build(&b, SMSR_ES5_MASTER_DELETE, &md) == -EINVAL && b.len == 0,
		      "MasterDelete without a token refused, nothing written");
		md.token = NULL;
		CHECK(smsr_es5_script_build(&b, SMSR_ES5_MASTER_DELETE, &md) == -EINVAL, "no token at all");
	}
	a.aid_len = 3;
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(smsr_es5_script_build(&b, SMSR_ES5_ENABLE_PROFILE, &a), -EINVAL);
	CHECK(b.len == 0, "nothing written");
	a.aid_len = 16;
	proto_buf_init(&b, mem, 20);
	CHECK(smsr_es5_script_build(&b, SMSR_ES5_CREATE_ISDP, &a) < 0 && b.len == 0, "no space, nothing written");
}

static void test_results(void)
{
	static const struct {
		uint8_t por_status;
		const char *rsp;
		unsigned expected;
		enum smsr_es5_outcome outcome;
		uint16_t sw;
	} t[] = {
		{ 0x00, "ab0780010123029000", 1, SMSR_ES5_OK, 0x9000 },
		{ 0x00, "ab078001012302" "6985", 1, SMSR_ES5_SW_ERROR, 0x6985 },
		{ 0x00, "ab078001012302" "69e1", 1, SMSR_ES5_SW_ERROR, 0x69E1 },
		{ 0x00, "ab0b80010223029000230269" "e1", 2, SMSR_ES5_SW_ERROR, 0x69E1 },
		{ 0x00, "ab0780010123029000", 2, SMSR_ES5_BAD_RESPONSE, 0x9000 },	/* stopped early */
		{ 0x00, "af80800101230290000000", 1, SMSR_ES5_OK, 0x9000 },
		{ 0x00, "ab03900101", 1, SMSR_ES5_BAD_RESPONSE, 0 },
		{ 0x00, "016132", 1, SMSR_ES5_BAD_RESPONSE, 0 },
		{ 0x00, "", 1, SMSR_ES5_BAD_RESPONSE, 0 },
		{ 0x01, "", 1, SMSR_ES5_POR_ERROR, 0 },
		{ 0x09, "", 1, SMSR_ES5_POR_ERROR, 0 },
	};
	uint8_t in[64];
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smsr_es5_result r;
		int n = proto_hex_decode(t[i].rsp, in, sizeof(in));
		smsr_es5_result_parse(t[i].por_status, in, (size_t)n, t[i].expected, &r);
		CHECK(r.outcome == t[i].outcome && r.last_sw == t[i].sw, "case %u: outcome %d sw %04x", i, r.outcome,
		      r.last_sw);
	}
}

static void test_notification(void)
{
	/* sgp02.md §6.5: real MO notification (WHTY SmsController sample) */
	const char *hex = "e1354c10890010120123412340123456789012244d01024e020000"
			  "4f10a0000005591010ffffffff8900001300" "14083a45990057918503";
	uint8_t in[128], out[128];
	struct smsr_notif n;
	struct proto_buf b;
	int len = proto_hex_decode(hex, in, sizeof(in));
	size_t i;

	CHECK_RC(smsr_notif_decode(in, (size_t)len, &n), 0);
	CHECK(n.type == SMSR_NOTIF_CHANGE_OK && n.seq == 0 && n.has_aid && n.aid_len == 16 && n.imei_len == 8 &&
	      !memcmp(n.aid, aid13, 16), "notification fields");
	CHECK_HEX(n.eid, 16, "89001012012341234012345678901224", "EID");
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(smsr_notif_encode(&b, &n), 0);
	CHECK_HEX(b.data, b.len, hex, "re-encoded");
	for (i = 0; i < (size_t)len; i++)
		CHECK(smsr_notif_decode(in, i, &n) < 0, "truncation to %zu accepted", i);
	CHECK_RC(smsr_notif_decode((const uint8_t *)"\xe1\x03\x4d\x01\x02", 5, &n), -PROTO_E_MALFORMED);
	in[2] = 0x4d;	/* EID tag replaced: EID missing, type length wrong */
	CHECK(smsr_notif_decode(in, (size_t)len, &n) < 0, "bad notification accepted");
}

static void test_audit(void)
{
	uint8_t in[128], aids[4][16], lens[4];
	struct smsr_es5_isdp_status st[4];
	uint64_t free_nvm = 0;
	int n;

	n = proto_hex_decode("e3194f10" AID13 "9f70013f530101" "e31a4f10a0000005591010ffffffff89000010009f70011f"
			     "8f0200ff", in, sizeof(in));
	CHECK_RC(smsr_es5_status_decode(in, (size_t)n, st, 4), 2);
	CHECK(st[0].lcs == 0x3F && st[0].fallback && st[1].lcs == 0x1F && !st[1].fallback && st[1].has_granted &&
	      st[1].granted == 0xFF, "audit entries");
	CHECK_RC(smsr_es5_status_decode(in, (size_t)n, st, 1), -PROTO_E_NOSPACE);
	CHECK_RC(smsr_es5_status_decode(in, (size_t)n - 1, st, 4), -PROTO_E_TRUNCATED);
	n = proto_hex_decode("ff210d8102000382030100008302ffff", in, sizeof(in));
	CHECK_RC(smsr_es5_free_memory_decode(in, (size_t)n, &free_nvm), 0);
	CHECK(free_nvm == 0x010000, "free NVM %llu", (unsigned long long)free_nvm);
	n = proto_hex_decode("ff2104810200038302ffff", in, sizeof(in));
	CHECK(smsr_es5_free_memory_decode(in, (size_t)n, &free_nvm) < 0, "82 missing");
	n = proto_hex_decode("80124f10" AID13, in, sizeof(in));
	CHECK_RC(smsr_es5_confirm_decode(in, (size_t)n, aids, lens, 4), 1);
	CHECK(lens[0] == 16 && !memcmp(aids[0], aid13, 16), "deleted AID");
	CHECK_RC(smsr_es5_confirm_decode(in, 0, aids, lens, 4), 0);
	CHECK_RC(smsr_es5_confirm_decode((const uint8_t *)"\x80\x00", 2, aids, lens, 4), 0);
	CHECK(smsr_es5_confirm_decode((const uint8_t *)"\x81\x00", 2, aids, lens, 4) < 0, "wrong tag");
}

int main(void)
{
	test_scripts();
	test_results();
	test_notification();
	test_audit();
	TEST_DONE();
}
