/* proto/ts102226_rcmd: compact and expanded remote APDU formats. Golden bytes from ../shared/docs: the compact
 * response 016132 (scp80.md §6.2, §7), the gsm0348 compact script (scp80.json cmd-gsm0348-test001), the
 * NotificationConfirmation script AA{22{80E28900073A08044E02<seq>00}} (sgp02.md §6.5) and the response
 * AF80 23 14 8610<receipt>9000 0000 seen on the wire (sgp02.md §6.1). Every decoder input is also decoded
 * truncated to every length and with every byte value at every position, from heap copies of exact size. */
#include <errno.h>
#include "tests/testlib.h"
#include "proto/ts102226_rcmd.h"
#include "proto/gp_apdu.h"
#include "proto/errors.h"

#define AID_ISDP "a0000005591010ffffffff8900001000"
#define RECEIPT "000102030405060708090a0b0c0d0e0f"

static uint8_t isdp[16];

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	int n = proto_hex_decode(hex, out, cap);

	if (n < 0) {
		fprintf(stderr, "bad test hex %s\n", hex);
		exit(2);
	}
	return (size_t)n;
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (n)
		memcpy(d, p, n);
	return d;
}

/* decode a command script and walk its C-APDUs; returns the decode rc, n = number of C-APDUs walked */
static int walk_script(const uint8_t *in, size_t len, struct proto_rcmd_script *s, unsigned int *n)
{
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	int rc;

	*n = 0;
	if ((rc = proto_rcmd_script_decode(in, len, s)) < 0)
		return rc;
	proto_rcmd_script_iter_init(&it, s);
	while ((rc = proto_rcmd_script_next(&it, &c)) > 0) {
		CHECK(c.raw >= in && c.raw + c.raw_len <= in + len, "C-APDU inside the input");
		(*n)++;
	}
	CHECK(rc == 0, "script iteration ended with %d", rc);
	CHECK(*n == s->n_capdus, "iterated %u of %u C-APDUs", *n, s->n_capdus);
	return 0;
}

static int walk_rsp(const uint8_t *in, size_t len, struct proto_rcmd_rsp *r, unsigned int *n)
{
	struct proto_rcmd_iter it;
	struct proto_rapdu ra;
	int rc;

	*n = 0;
	if ((rc = proto_rcmd_rsp_decode(in, len, r)) < 0)
		return rc;
	proto_rcmd_rsp_iter_init(&it, r);
	while ((rc = proto_rcmd_rsp_next(&it, &ra)) > 0) {
		CHECK(ra.data >= in && ra.data + ra.len + 2 <= in + len, "R-APDU inside the input");
		(*n)++;
		if (*n == r->n_rapdus)
			CHECK(ra.sw == r->last_sw && ra.len == r->last_data_len && ra.data == r->last_data,
			      "last R-APDU matches the summary");
	}
	CHECK(rc == 0, "response iteration ended with %d", rc);
	CHECK(*n == r->n_rapdus, "iterated %u of %u R-APDUs", *n, r->n_rapdus);
	return 0;
}

/* every strict prefix fails; every single-byte mutation is handled without a crash */
static void robustness(const char *what, const uint8_t *in, size_t len, bool response)
{
	struct proto_rcmd_script s;
	struct proto_rcmd_rsp r;
	unsigned int n;
	size_t k, v;
	int rc;

	for (k = 0; k < len; k++) {
		uint8_t *t = dup_exact(in, k);

		rc = response ? walk_rsp(t, k, &r, &n) : walk_script(t, k, &s, &n);
		CHECK(rc < 0, "%s cut to %zu bytes decoded (rc %d)", what, k, rc);
		free(t);
	}
	for (k = 0; k < len; k++) {
		for (v = 0; v < 256; v++) {
			uint8_t *t = dup_exact(in, len);

			t[k] = (uint8_t)v;
			if (response)
				walk_rsp(t, len, &r, &n);
			else
				walk_script(t, len, &s, &n);
			free(t);
		}
	}
}

/*
 * Compact format
 */
static void test_compact_rsp(void)
{
	static const struct {
		const char *hex;
		int rc;
		uint8_t n;
		uint16_t sw;
		size_t data_len;
	} t[] = {
		{ "016132", 0, 1, 0x6132, 0 },				/* scp80.md §6.2 */
		{ "029000d44c99fc", 0, 2, 0x9000, 4 },
		{ "0469e1", 0, 4, 0x69E1, 0 },
		{ "0161", -PROTO_E_TRUNCATED, 0, 0, 0 },
		{ "01", -PROTO_E_TRUNCATED, 0, 0, 0 },
		{ "", -PROTO_E_TRUNCATED, 0, 0, 0 },
	};
	struct proto_rcmd_compact_rsp c;
	uint8_t in[32], out[32];
	struct proto_buf b;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *x;

		n = unhex(t[i].hex, in, sizeof(in));
		x = dup_exact(in, n);
		CHECK_RC(proto_rcmd_compact_rsp_decode(x, n, &c), t[i].rc);
		CHECK(c.n_cmds == t[i].n && c.last_sw == t[i].sw && c.data_len == t[i].data_len, "%s: fields",
		      t[i].hex);
		if (t[i].rc == 0) {
			CHECK(c.sw[0] == t[i].sw >> 8 && c.sw[1] == (t[i].sw & 0xFF), "%s: sw bytes", t[i].hex);
			CHECK(c.data == x + 3, "%s: zero-copy data", t[i].hex);
			proto_buf_init(&b, out, sizeof(out));
			CHECK_RC(proto_rcmd_compact_rsp_encode(&b, c.n_cmds, c.last_sw, c.data, c.data_len), 0);
			CHECK_HEX(out, b.len, t[i].hex, "compact response round trip");
		}
		free(x);
	}
	proto_buf_init(&b, out, 2);
	CHECK_RC(proto_rcmd_compact_rsp_encode(&b, 1, 0x9000, NULL, 0), -PROTO_E_NOSPACE);
}

static void test_compact_cmd(void)
{
	/* scp80.json cmd-gsm0348-test001: SELECT 3F00, 7F10, 6F3C (P3 = Lc) then READ RECORD 4 (P3 = Le 05) */
	static const char *script = "a0a40000023f00a0a40000027f10a0a40000026f3ca0b2010405";
	static const size_t boundaries[] = { 0, 7, 14, 21, 26 };
	struct proto_rcmd_compact_iter it;
	struct proto_rcmd_capdu c;
	uint8_t in[64], out[64];
	struct proto_buf b;
	size_t n, k, j;
	int rc, cnt;

	n = unhex(script, in, sizeof(in));
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_compact_iter_init(&it, in, n, NULL);
	cnt = 0;
	while ((rc = proto_rcmd_compact_next(&it, &c)) > 0) {
		if (cnt < 3) {
			CHECK(c.apdu.ins == 0xA4 && c.apdu.lc == 2 && !c.apdu.le_present, "SELECT %d", cnt);
			CHECK(proto_apdu_case(&c.apdu) == PROTO_APDU_CASE_3, "SELECT %d is case 3", cnt);
		} else {
			CHECK(c.apdu.ins == 0xB2 && c.apdu.lc == 0 && c.apdu.le_present && c.apdu.le == 5,
			      "READ RECORD Le 5");
		}
		CHECK(c.raw == in + boundaries[cnt] && c.raw_len == boundaries[cnt + 1] - boundaries[cnt],
		      "raw command %d", cnt);
		CHECK(proto_rcmd_compact_put(&b, &c.apdu) == (int)c.raw_len, "re-encode %d", cnt);
		cnt++;
	}
	CHECK(rc == 0 && cnt == 4, "compact script: %d commands, rc %d", cnt, rc);
	CHECK_HEX(out, b.len, script, "compact script round trip");

	/* every truncation: at a command boundary a shorter script, elsewhere -PROTO_E_TRUNCATED */
	for (k = 0; k < n; k++) {
		uint8_t *t = dup_exact(in, k);
		bool at_boundary = false;
		int want = 0;

		for (j = 0; j < 5; j++) {
			if (boundaries[j] == k) {
				at_boundary = true;
				want = (int)j;
			}
		}
		proto_rcmd_compact_iter_init(&it, t, k, NULL);
		cnt = 0;
		while ((rc = proto_rcmd_compact_next(&it, &c)) > 0)
			cnt++;
		if (at_boundary)
			CHECK(rc == 0 && cnt == want, "cut %zu: %d commands", k, cnt);
		else
			CHECK(rc == -PROTO_E_TRUNCATED, "cut %zu: rc %d", k, rc);
		free(t);
	}

	/* TPDU form of each case: case 1 gets P3 00, case 4 loses its Le */
	{
		static const struct {
			const char *apdu, *compact;
		} t[] = {
			{ "00a40004", "00a4000400" },
			{ "00b0000010", "00b0000010" },
			{ "00a40004023f00", "00a40004023f00" },
			{ "80e28900073a08044e02000100", "80e28900073a08044e020001" },
		};
		struct proto_apdu a;
		uint8_t ab[32];

		proto_buf_init(&b, out, sizeof(out));
		for (k = 0; k < 4; k++) {
			size_t an = unhex(t[k].apdu, ab, sizeof(ab));

			CHECK_RC(proto_apdu_decode(ab, an, &a), 0);
			b.len = 0;
			CHECK(proto_rcmd_compact_put(&b, &a) > 0, "compact put %zu", k);
			CHECK_HEX(out, b.len, t[k].compact, "compact TPDU form");
		}
		a.lc = 256;
		CHECK_RC(proto_rcmd_compact_put(&b, &a), -EINVAL);
	}

	/* STATUS (P1 00) is case 2, GP GET STATUS (P1 40) carries data */
	{
		static const uint8_t st[] = { 0x80, 0xF2, 0x00, 0x0C }, gs[] = { 0x80, 0xF2, 0x40, 0x02 };

		CHECK(proto_rcmd_compact_case2_default(st), "STATUS is case 2");
		CHECK(!proto_rcmd_compact_case2_default(gs), "GET STATUS is not case 2");
	}
}

/*
 * Expanded format
 */
static void test_expanded_golden(void)
{
	/* sgp02.md §6.5: MT SMS reply to a notification, AA{22{80E28900073A08044E02<seq>00}} */
	static const char *confirm_def = "aa0f220d80e28900073a08044e02000100";
	/* sgp02.md §6.3 HTTPS variant, indefinite (with the 22 TLV that §6.1 requires) */
	static const char *confirm_indef = "ae80220d80e28900073a08044e020001000000";
	/* chaining first + EnableProfile */
	static const char *enable = "aa1f830101221a80e28800153a03124f10" AID_ISDP;
	/* sgp02.md §6.1, seen on the wire */
	static const char *receipt_rsp = "af80231486" "10" RECEIPT "90000000";
	struct proto_rcmd_script s;
	struct proto_rcmd_rsp r;
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	struct proto_rcmd_enc e;
	struct proto_rapdu ra;
	uint8_t in[128], out[128];
	struct proto_buf b;
	unsigned int cnt;
	size_t n, m;

	/* NotificationConfirmation, definite */
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_cmd_begin(&e, &b, false);
	m = proto_rcmd_capdu_open(&e);
	CHECK(proto_gp_es5_notification_confirm(&b, 0x0001) == 13, "confirm APDU");
	CHECK_RC(proto_rcmd_capdu_close(&e, m), 0);
	CHECK(proto_rcmd_end(&e) == 17, "definite template length");
	CHECK_HEX(out, b.len, confirm_def, "AA NotificationConfirmation");

	n = unhex(confirm_def, in, sizeof(in));
	CHECK_RC(walk_script(in, n, &s, &cnt), 0);
	CHECK(!s.indefinite && s.n_capdus == 1 && !s.has_chaining && s.raw_len == n && s.content == in + 2 &&
	      s.content_len == 15, "AA decoded");
	proto_rcmd_script_iter_init(&it, &s);
	CHECK(proto_rcmd_script_next(&it, &c) == 1, "one C-APDU");
	CHECK(c.apdu.ins == PROTO_GP_INS_STORE_DATA && c.apdu.p1 == 0x89 && c.apdu.lc == 7 && c.apdu.le_present,
	      "STORE DATA 89 with Le");
	CHECK_HEX(c.raw, c.raw_len, "80e28900073a08044e02000100", "raw C-APDU");
	robustness("AA confirm", in, n, false);

	/* NotificationConfirmation, indefinite */
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_cmd_begin(&e, &b, true);
	m = proto_rcmd_capdu_open(&e);
	proto_gp_es5_notification_confirm(&b, 0x0001);
	CHECK_RC(proto_rcmd_capdu_close(&e, m), 0);
	CHECK(proto_rcmd_end(&e) == 19, "indefinite template length");
	CHECK_HEX(out, b.len, confirm_indef, "AE80 NotificationConfirmation 0000");
	n = unhex(confirm_indef, in, sizeof(in));
	CHECK_RC(walk_script(in, n, &s, &cnt), 0);
	CHECK(s.indefinite && s.n_capdus == 1 && s.content == in + 2 && s.content_len == 15 && s.raw_len == n,
	      "AE decoded");
	robustness("AE confirm", in, n, false);

	/* chaining + EnableProfile */
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_cmd_begin(&e, &b, false);
	CHECK_RC(proto_rcmd_put_chaining(&e, PROTO_RCMD_CHAIN_FIRST), 0);
	m = proto_rcmd_capdu_open(&e);
	proto_gp_es5_enable_profile(&b, isdp, sizeof(isdp));
	CHECK_RC(proto_rcmd_capdu_close(&e, m), 0);
	CHECK(proto_rcmd_end(&e) > 0, "enable end");
	CHECK_HEX(out, b.len, enable, "AA chaining + EnableProfile");
	n = unhex(enable, in, sizeof(in));
	CHECK_RC(walk_script(in, n, &s, &cnt), 0);
	CHECK(s.has_chaining && s.chaining == PROTO_RCMD_CHAIN_FIRST && s.n_capdus == 1, "chaining decoded");
	robustness("AA enable", in, n, false);

	/* the receipt response from the wire: no 80 TLV, one R-APDU with 86 10 <receipt> 9000 */
	n = unhex(receipt_rsp, in, sizeof(in));
	CHECK_RC(walk_rsp(in, n, &r, &cnt), 0);
	CHECK(r.indefinite && !r.has_n_executed && r.n_rapdus == 1 && r.has_last_sw && r.last_sw == PROTO_SW_OK &&
	      !r.bad_format && r.raw_len == n, "AF80 receipt decoded");
	CHECK_HEX(r.last_data, r.last_data_len, "8610" RECEIPT, "receipt R-APDU data");
	proto_rcmd_rsp_iter_init(&it, &r);
	CHECK(proto_rcmd_rsp_next(&it, &ra) == 1 && ra.sw == 0x9000 && ra.len == 18, "iterate the R-APDU");
	CHECK_RC(proto_rcmd_rsp_next(&it, &ra), 0);
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_rsp_begin(&e, &b, true);
	CHECK_RC(proto_rcmd_put_rapdu(&e, r.last_data, r.last_data_len, r.last_sw), 0);
	CHECK(proto_rcmd_end(&e) == (int)n, "AF80 re-encoded length");
	CHECK_HEX(out, b.len, receipt_rsp, "AF80 receipt re-encoded");
	robustness("AF80 receipt", in, n, true);
}

static void test_expanded_rsp(void)
{
	static const struct {
		const char *hex;
		int rc;
		bool has_n;
		uint8_t n_exec;
		unsigned int n_rapdus;
		uint16_t last_sw;
		bool bad;
		uint8_t bad_type;
	} t[] = {
		{ "ab07800101230290" "00", 0, true, 1, 1, 0x9000, false, 0 },
		{ "ab0f800102" "2304aabb9000" "2304ccdd6a88", 0, true, 2, 2, 0x6A88, false, 0 },
		{ "ab03900101", 0, false, 0, 0, 0, true, PROTO_RCMD_BAD_UNKNOWN_TAG },
		{ "ab00", 0, false, 0, 0, 0, false, 0 },
		{ "af80800101230269e10000", 0, true, 1, 1, 0x69E1, false, 0 },
		/* R-APDU data that contains 00 00 inside an indefinite template */
		{ "af80800101" "2306000000009000" "0000", 0, true, 1, 1, 0x9000, false, 0 },
		/* immediate action response is accepted and skipped by the iterator */
		{ "ab0a" "810101" "800101" "23029000", 0, true, 1, 1, 0x9000, false, 0 },
		/* errors */
		{ "ab048002" "0101", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* 80 of 2 bytes */
		{ "ab06800101800102", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* 80 twice */
		{ "ab03230190", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* R-APDU without SW */
		{ "ab0490020102", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* 90 of 2 bytes */
		{ "ab03840100", -PROTO_E_UNSUPPORTED, false, 0, 0, 0, false, 0 },	/* unknown tag */
		{ "aa0423029000", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* command template */
		{ "ab8023029000" "0000", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* AB indefinite */
		{ "af0423029000", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* AF definite */
		{ "af8023029000", -PROTO_E_TRUNCATED, false, 0, 0, 0, false, 0 },	/* no EOC */
		{ "af802302900000", -PROTO_E_TRUNCATED, false, 0, 0, 0, false, 0 },	/* half an EOC */
		{ "af802302900000" "01ff", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* 00 01 xx */
		{ "af80230290000000" "00", -PROTO_E_TRAILING, false, 0, 0, 0, false, 0 },
		{ "ab0423029000" "00", -PROTO_E_TRAILING, false, 0, 0, 0, false, 0 },
		{ "ab06" "0000" "23029000", -PROTO_E_MALFORMED, false, 0, 0, 0, false, 0 },	/* EOC in definite */
		{ "af80" "0000" "23029000", -PROTO_E_TRAILING, false, 0, 0, 0, false, 0 },	/* EOC first */
		{ "af80" "af8023029000" "0000" "0000", -PROTO_E_UNSUPPORTED, false, 0, 0, 0, false, 0 },
	};
	struct proto_rcmd_rsp r;
	uint8_t in[64];
	unsigned int cnt;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *x;

		n = unhex(t[i].hex, in, sizeof(in));
		x = dup_exact(in, n);
		rc = walk_rsp(x, n, &r, &cnt);
		CHECK(rc == t[i].rc, "%s: rc %d (%s), want %d", t[i].hex, rc, proto_strerror(rc), t[i].rc);
		if (rc == 0) {
			CHECK(r.has_n_executed == t[i].has_n && r.n_executed == t[i].n_exec, "%s: n executed",
			      t[i].hex);
			CHECK(r.n_rapdus == t[i].n_rapdus && r.last_sw == t[i].last_sw && r.has_last_sw == !!r.n_rapdus,
			      "%s: R-APDUs %u last %04x", t[i].hex, r.n_rapdus, r.last_sw);
			CHECK(r.bad_format == t[i].bad && r.bad_format_type == t[i].bad_type, "%s: bad format",
			      t[i].hex);
			robustness(t[i].hex, x, n, true);
		}
		free(x);
	}
}

static void test_expanded_cmd_errors(void)
{
	static const struct {
		const char *hex;
		int rc;
		unsigned int n;
	} t[] = {
		{ "aa00", 0, 0 },
		{ "ae800000", 0, 0 },
		{ "aa0a" "820100" "810100" "22045080cafe", -PROTO_E_TRUNCATED, 0 },	/* item overruns */
		{ "aa0c" "820100" "810101" "2204" "80ca0000", 0, 1 },
		/* a C-APDU whose data holds 00 00 00 00, inside AE 80, before a chaining TLV */
		{ "ae80" "2209" "80e2880004" "00000000" "830103" "0000", 0, 1 },
		{ "aa0483020101", -PROTO_E_MALFORMED, 0 },		/* chaining of 2 bytes */
		{ "aa06830101830102", -PROTO_E_MALFORMED, 0 },		/* chaining twice */
		{ "aa052203" "80ca00", -PROTO_E_MALFORMED, 0 },		/* C-APDU of 3 bytes */
		{ "aa082206" "80ca00000201", -PROTO_E_MALFORMED, 0 },	/* C-APDU shorter than its Lc */
		{ "aa092207" "80ca0000000100", -PROTO_E_UNSUPPORTED, 0 },	/* extended length C-APDU */
		{ "aa022200", -PROTO_E_MALFORMED, 0 },			/* empty C-APDU */
		{ "aa03840100", -PROTO_E_UNSUPPORTED, 0 },		/* unknown tag */
		{ "aa045f200100", -PROTO_E_UNSUPPORTED, 0 },		/* unknown 2-byte tag */
		{ "ab0422029000", -PROTO_E_MALFORMED, 0 },		/* response template */
		{ "2204" "80ca0000", -PROTO_E_MALFORMED, 0 },		/* no template */
		{ "aa80" "220480ca0000" "0000", -PROTO_E_MALFORMED, 0 },	/* AA indefinite */
		{ "ae06" "220480ca0000", -PROTO_E_MALFORMED, 0 },	/* AE definite */
		{ "ae80" "220480ca0000", -PROTO_E_TRUNCATED, 0 },	/* no EOC */
		{ "ae80" "220480ca0000" "00", -PROTO_E_TRUNCATED, 0 },	/* half an EOC */
		{ "ae80" "220480ca0000" "0001ff", -PROTO_E_MALFORMED, 0 },	/* 00 01: not an EOC */
		{ "ae80" "220480ca0000" "0000" "0000", -PROTO_E_TRAILING, 0 },
		{ "aa08" "220480ca0000" "0000", -PROTO_E_MALFORMED, 0 },	/* EOC in a definite template */
		{ "aa06" "220480ca0000" "00", -PROTO_E_TRAILING, 0 },
		{ "aa07" "220480ca0000", -PROTO_E_TRUNCATED, 0 },	/* template longer than the input */
		{ "ae80" "ae80" "220480ca0000" "0000" "0000", -PROTO_E_UNSUPPORTED, 0 },	/* nested AE */
		{ "aa85" "0000000000", -PROTO_E_MALFORMED, 0 },		/* 5 length bytes */
		{ "aa", -PROTO_E_TRUNCATED, 0 },
	};
	struct proto_rcmd_script s;
	uint8_t in[64];
	unsigned int cnt;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *x;

		n = unhex(t[i].hex, in, sizeof(in));
		x = dup_exact(in, n);
		rc = walk_script(x, n, &s, &cnt);
		CHECK(rc == t[i].rc, "%s: rc %d (%s), want %d", t[i].hex, rc, proto_strerror(rc), t[i].rc);
		if (rc == 0) {
			CHECK(cnt == t[i].n, "%s: %u C-APDUs", t[i].hex, cnt);
			robustness(t[i].hex, x, n, false);
		}
		free(x);
	}
	CHECK(proto_rcmd_err_to_bad_format(-PROTO_E_UNSUPPORTED) == PROTO_RCMD_BAD_UNKNOWN_TAG, "bad fmt 01");
	CHECK(proto_rcmd_err_to_bad_format(-PROTO_E_MALFORMED) == PROTO_RCMD_BAD_WRONG_LENGTH, "bad fmt 02");
	CHECK(proto_rcmd_err_to_bad_format(-PROTO_E_TRUNCATED) == PROTO_RCMD_BAD_LENGTH_MISSING, "bad fmt 03");
}

/* an indefinite script with 81/82 items and a C-APDU of 255 data bytes full of 00 (its 22 TLV uses 82 0105) */
static void test_indefinite_nested(void)
{
	static uint8_t zeros[255];
	static const uint8_t ia[] = { 0x01 };
	struct proto_rcmd_script s;
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	struct proto_rcmd_enc e;
	struct proto_apdu a = {
		.cla = 0x80, .ins = 0xE2, .p1 = 0x89, .p2 = 0x00, .data = zeros, .lc = 255, .le_present = true,
	};
	static uint8_t out[600];
	struct proto_buf b;
	unsigned int cnt;
	int len;

	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_cmd_begin(&e, &b, true);
	CHECK_RC(proto_rcmd_put_immediate_action(&e, ia, 1), 0);
	CHECK_RC(proto_rcmd_put_error_action(&e, NULL, 0), 0);
	CHECK_RC(proto_rcmd_put_capdu(&e, &a), 0);
	a.lc = 0;
	a.le_present = false;
	CHECK_RC(proto_rcmd_put_capdu(&e, &a), 0);
	len = proto_rcmd_end(&e);
	CHECK(len == 2 + 3 + 2 + 4 + 261 + 2 + 4 + 2, "nested indefinite length %d", len);
	CHECK_HEX(out, 11, "ae80810101820022820105", "header and 22 82 0105");
	CHECK_HEX(out + len - 8, 8, "2204" "80e28900" "0000", "last C-APDU and EOC");

	CHECK_RC(walk_script(out, (size_t)len, &s, &cnt), 0);
	CHECK(s.indefinite && s.n_capdus == 2 && s.immediate_action && s.immediate_action_len == 1 &&
	      s.error_action && s.error_action_len == 0, "nested script decoded");
	proto_rcmd_script_iter_init(&it, &s);
	CHECK(proto_rcmd_script_next(&it, &c) == 1 && c.apdu.lc == 255 && c.raw_len == 261, "first C-APDU");
	CHECK(proto_rcmd_script_next(&it, &c) == 1 && c.apdu.lc == 0 && c.raw_len == 4, "second C-APDU");
	CHECK_RC(proto_rcmd_script_next(&it, &c), 0);

	/* truncations (the mutation sweep over 280 bytes is cheap enough) */
	robustness("nested AE", out, (size_t)len, false);
}

/* definite templates with 82 xxxx and 83 xxxxxx lengths */
static void test_long_forms(void)
{
	static const struct {
		size_t n_cmds;
		const char *prefix;
	} t[] = {
		{ 1, "aa820109" },	/* 1 x (22 82 0105 + 261) = 265 */
		{ 300, "aa8301368c" },	/* 300 x 265 = 79500 = 0x01368C */
	};
	static uint8_t zeros[255];
	struct proto_apdu a = {
		.cla = 0x80, .ins = 0xE2, .p1 = 0x09, .data = zeros, .lc = 255, .le_present = true,
	};
	struct proto_rcmd_script s;
	struct proto_rcmd_rsp r;
	struct proto_rcmd_enc e;
	struct proto_buf b;
	unsigned int cnt;
	size_t i, k, cap;
	uint8_t *out;
	int len, rc;

	for (i = 0; i < 2; i++) {
		cap = t[i].n_cmds * 265 + 16;
		out = malloc(cap);
		proto_buf_init(&b, out, cap);
		proto_rcmd_cmd_begin(&e, &b, false);
		for (k = 0; k < t[i].n_cmds; k++)
			CHECK_RC(proto_rcmd_put_capdu(&e, &a), 0);
		len = proto_rcmd_end(&e);
		CHECK(len == (int)(strlen(t[i].prefix) / 2 + t[i].n_cmds * 265), "long form %zu: %d bytes", i, len);
		CHECK_HEX(out, strlen(t[i].prefix) / 2, t[i].prefix, "long form length field");
		CHECK_RC(walk_script(out, (size_t)len, &s, &cnt), 0);
		CHECK(cnt == t[i].n_cmds, "long form %zu: %u C-APDUs", i, cnt);
		/* a few truncations, including inside the length field */
		for (k = 0; k < 8; k++) {
			uint8_t *x = dup_exact(out, k);

			CHECK(proto_rcmd_script_decode(x, k, &s) < 0, "long form cut %zu", k);
			free(x);
		}
		{
			uint8_t *x = dup_exact(out, (size_t)len - 1);

			CHECK_RC(proto_rcmd_script_decode(x, (size_t)len - 1, &s), -PROTO_E_TRUNCATED);
			free(x);
		}
		free(out);
	}

	/* a response with an 82-length R-APDU */
	out = malloc(600);
	proto_buf_init(&b, out, 600);
	proto_rcmd_rsp_begin(&e, &b, false);
	CHECK_RC(proto_rcmd_put_n_executed(&e, 1), 0);
	CHECK_RC(proto_rcmd_put_rapdu(&e, zeros, 255, 0x9000), 0);
	len = proto_rcmd_end(&e);
	CHECK(len == 4 + 3 + 4 + 257, "long response %d", len);
	CHECK_HEX(out, 10, "ab820108800101238201", "long response header");
	rc = walk_rsp(out, (size_t)len, &r, &cnt);
	CHECK(rc == 0 && r.n_rapdus == 1 && r.last_data_len == 255 && r.last_sw == 0x9000, "long response decoded");
	free(out);
}

static void test_encoder_misc(void)
{
	static uint8_t payload[600];
	struct proto_rcmd_script s;
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	struct proto_rcmd_enc e;
	uint8_t out[1024], tl[32], aid17[17];
	struct proto_buf b;
	size_t i, n, before, off;
	int len;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	memset(aid17, 0xA0, sizeof(aid17));

	/* a STORE DATA chain as a script: P2 00, 01, 02, b8 on the last, data reassembles */
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_cmd_begin(&e, &b, false);
	CHECK_RC(proto_rcmd_put_chaining(&e, PROTO_RCMD_CHAIN_NEXT), 0);
	CHECK(proto_rcmd_put_store_data_chain(&e, PROTO_GP_SD_P1_DGI | PROTO_GP_SD_P1_CASE4, 0, payload, 600) == 3,
	      "three blocks");
	len = proto_rcmd_end(&e);
	CHECK(len > 0, "chain script encoded");
	CHECK_RC(proto_rcmd_script_decode(out, (size_t)len, &s), 0);
	CHECK(s.n_capdus == 3 && s.chaining == PROTO_RCMD_CHAIN_NEXT, "chain script decoded");
	proto_rcmd_script_iter_init(&it, &s);
	off = 0;
	for (i = 0; proto_rcmd_script_next(&it, &c) > 0; i++) {
		CHECK(c.apdu.p2 == i && c.apdu.p1 == (i == 2 ? 0x89 : 0x09), "block %zu: P1 %02x P2 %02x", i,
		      c.apdu.p1, c.apdu.p2);
		CHECK(!memcmp(c.apdu.data, payload + off, c.apdu.lc), "block %zu data", i);
		off += c.apdu.lc;
	}
	CHECK(off == 600, "chain reassembled %zu bytes", off);
	CHECK_RC(proto_rcmd_put_store_data_chain(&e, 0x09, 0, payload, 0), -EINVAL);

	/* a failing builder inside capdu_open/close leaves no trace */
	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_cmd_begin(&e, &b, false);
	before = b.len;
	{
		size_t m = proto_rcmd_capdu_open(&e);

		CHECK_RC(proto_gp_es5_enable_profile(&b, aid17, 17), -EINVAL);
		CHECK_RC(proto_rcmd_capdu_close(&e, m), -EINVAL);
	}
	CHECK(b.len == before, "failed builder rolled back (%zu vs %zu)", b.len, before);
	{
		struct proto_apdu a = { .cla = 0x80, .ins = 0xCA, .lc = 256, .data = payload };

		CHECK_RC(proto_rcmd_put_capdu(&e, &a), -EINVAL);
		CHECK(b.len == before, "oversize C-APDU rolled back");
	}
	n = unhex("80ca00", tl, sizeof(tl));
	CHECK_RC(proto_rcmd_put_capdu_raw(&e, tl, n), -PROTO_E_TRUNCATED);
	n = unhex("80ca005a00", tl, sizeof(tl));
	CHECK_RC(proto_rcmd_put_capdu_raw(&e, tl, n), 0);
	/* ES3.SendData payload of ready TLVs */
	n = unhex("220580ca005a00" "8603010203", tl, sizeof(tl));
	CHECK_RC(proto_rcmd_put_tlvs(&e, tl, n), 0);
	CHECK(proto_rcmd_put_tlvs(&e, tl, n - 1) < 0, "truncated TLVs refused");
	/* items of the other direction */
	CHECK_RC(proto_rcmd_put_rapdu(&e, NULL, 0, 0x9000), -EINVAL);
	CHECK_RC(proto_rcmd_put_n_executed(&e, 1), -EINVAL);
	CHECK_RC(proto_rcmd_put_bad_format(&e, 1), -EINVAL);
	len = proto_rcmd_end(&e);
	CHECK_HEX(out, (size_t)len, "aa13" "220580ca005a00" "220580ca005a00" "8603010203" "", "mixed script");
	/* 86 is not a command-script item: the decoder refuses it (unknown tag) */
	CHECK_RC(proto_rcmd_script_decode(out, (size_t)len, &s), -PROTO_E_UNSUPPORTED);

	proto_buf_init(&b, out, sizeof(out));
	proto_rcmd_rsp_begin(&e, &b, false);
	CHECK_RC(proto_rcmd_put_chaining(&e, 1), -EINVAL);
	CHECK_RC(proto_rcmd_put_error_action(&e, NULL, 0), -EINVAL);
	CHECK_RC(proto_rcmd_put_capdu_raw(&e, tl, 5), -EINVAL);
	CHECK_RC(proto_rcmd_put_n_executed(&e, 2), 0);
	CHECK_RC(proto_rcmd_put_rapdu(&e, NULL, 0, 0x9000), 0);
	CHECK_RC(proto_rcmd_put_rapdu(&e, NULL, 0, 0x6A88), 0);
	CHECK_RC(proto_rcmd_put_bad_format(&e, PROTO_RCMD_BAD_WRONG_LENGTH), 0);
	len = proto_rcmd_end(&e);
	CHECK_HEX(out, (size_t)len, "ab0e800102230290002302" "6a88900102", "response items");

	/* every too-small buffer fails with NOSPACE and never writes outside it; definite templates and the
	 * capdu_open() path need up to 6 bytes of slack while open (proto_tlv_open() reserves 4 length bytes) */
	for (i = 0; i < 2; i++) {
		int final = i == 1 ? 19 : 17;
		size_t cap;

		for (cap = 0; cap < (size_t)final + 8; cap++) {
			uint8_t *small = malloc(cap ? cap : 1);
			size_t m;

			proto_buf_init(&b, small, cap);
			proto_rcmd_cmd_begin(&e, &b, i == 1);
			m = proto_rcmd_capdu_open(&e);
			proto_gp_es5_notification_confirm(&b, 1);
			proto_rcmd_capdu_close(&e, m);
			len = proto_rcmd_end(&e);
			if (cap < (size_t)final)
				CHECK(len == -PROTO_E_NOSPACE, "%s cap %zu: %d", i ? "AE" : "AA", cap, len);
			else if (cap >= (size_t)final + 6)
				CHECK(len == final, "%s cap %zu: %d", i ? "AE" : "AA", cap, len);
			else
				CHECK(len == final || len == -PROTO_E_NOSPACE, "%s cap %zu: %d", i ? "AE" : "AA", cap,
				      len);
			free(small);
		}

		/* put_capdu() from a struct needs no slack for the 22 TLV */
		for (cap = 0; cap < (size_t)final + 8; cap++) {
			static const uint8_t d[] = { 0x3A, 0x08, 0x04, 0x4E, 0x02, 0x00, 0x01 };
			struct proto_apdu a = { .cla = 0x80, .ins = 0xE2, .p1 = 0x89, .data = d, .lc = 7,
						.le_present = true };
			uint8_t *small = malloc(cap ? cap : 1);

			proto_buf_init(&b, small, cap);
			proto_rcmd_cmd_begin(&e, &b, i == 1);
			proto_rcmd_put_capdu(&e, &a);
			len = proto_rcmd_end(&e);
			if (cap < (size_t)final)
				CHECK(len == -PROTO_E_NOSPACE, "put_capdu cap %zu: %d", cap, len);
			else if (i == 1 || cap >= (size_t)final + 3)
				CHECK(len == final, "put_capdu cap %zu: %d", cap, len);
			free(small);
		}
	}
}

static void test_names(void)
{
	CHECK(!strcmp(proto_rcmd_tag_name(0x81, false), "immediate action"), "81 cmd");
	CHECK(!strcmp(proto_rcmd_tag_name(0x81, true), "immediate action response"), "81 rsp");
	CHECK(!strcmp(proto_rcmd_tag_name(0xAF, true), "response scripting template (indefinite)"), "AF");
	CHECK(!strcmp(proto_rcmd_tag_name(0x99, true), "unknown tag"), "99");
	CHECK(!strcmp(proto_rcmd_chaining_name(0x11), "first script, keep chaining on reset"), "chain 11");
	CHECK(!strcmp(proto_rcmd_chaining_name(0x04), "reserved"), "chain 04");
	CHECK(!strcmp(proto_rcmd_bad_format_name(3), "length missing"), "bad 03");
}

int main(void)
{
	unhex(AID_ISDP, isdp, sizeof(isdp));
	test_compact_rsp();
	test_compact_cmd();
	test_expanded_golden();
	test_expanded_rsp();
	test_expanded_cmd_errors();
	test_indefinite_nested();
	test_long_forms();
	test_encoder_misc();
	test_names();
	TEST_DONE();
}
