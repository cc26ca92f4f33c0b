/* proto/gp_apdu: C-APDU encode/decode, R-APDU split, SW names, and the GP/SGP.02 builders against the byte
 * layouts of ../shared/docs/sgp02.md §6.4 and §6.7. Every decoder input is also fed truncated (in a heap
 * buffer of exactly that size, so ASan sees any over-read), and every builder is run into every too-small
 * buffer. */
#include <errno.h>
#include "tests/testlib.h"
#include "proto/gp_apdu.h"
#include "proto/errors.h"

#define AID_ISDP "a0000005591010ffffffff8900001000"
#define AID_ELF "a0000005591010ffffffff8900000d00"
#define AID_MOD "a0000005591010ffffffff8900000e00"

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

/* a heap copy of exactly n bytes (n may be 0), so that a read past the end is an ASan error */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (n)
		memcpy(d, p, n);
	return d;
}

/*
 * Builders: each row calls one builder; the output must match the golden hex, and every smaller buffer must
 * give -PROTO_E_NOSPACE without writing past its end.
 */
static const struct proto_gp_key_range handover_keys[] = {
	{ .kvn = 0x01, .first_kid = 0x01, .last_kid = 0x03 },	/* SCP80 keyset, keys 1-3 */
	{ .kvn = 0x41, .first_kid = 0x01, .last_kid = 0x02 },	/* SCP81 keyset, keys 1-2 */
};

static int b_create_isdp(struct proto_buf *b)
{
	return proto_gp_es5_create_isdp(b, isdp, sizeof(isdp), NULL);
}

static int b_create_isdp_quota(struct proto_buf *b)
{
	uint32_t q = 0x1234;

	return proto_gp_es5_create_isdp(b, isdp, sizeof(isdp), &q);
}

static int b_create_isdp_quota4(struct proto_buf *b)
{
	uint32_t q = 0x00012345;

	return proto_gp_es5_create_isdp(b, isdp, sizeof(isdp), &q);
}

static int b_install_token(struct proto_buf *b)
{
	static const uint8_t priv[1] = { 0x00 };
	static const uint8_t tok[3] = { 0xAA, 0xBB, 0xCC };
	struct proto_gp_install in = {
		.elf_aid = isdp, .elf_aid_len = 5,
		.module_aid = isdp, .module_aid_len = 6,
		.app_aid = isdp, .app_aid_len = 7,
		.privileges = priv, .privileges_len = 1,
		.token = tok, .token_len = 3,
	};

	return proto_gp_install_for_install(b, PROTO_GP_INSTALL_FOR_INSTALL, &in);
}

static int b_perso(struct proto_buf *b)
{
	return proto_gp_install_for_perso(b, isdp, sizeof(isdp));
}

static int b_enable(struct proto_buf *b)
{
	return proto_gp_es5_enable_profile(b, isdp, sizeof(isdp));
}

static int b_disable(struct proto_buf *b)
{
	return proto_gp_es5_disable_profile(b, isdp, sizeof(isdp));
}

static int b_fallback(struct proto_buf *b)
{
	return proto_gp_es5_set_fallback(b, isdp, sizeof(isdp));
}

static int b_notif_confirm(struct proto_buf *b)
{
	return proto_gp_es5_notification_confirm(b, 0x0102);
}

static int b_smsr_addr(struct proto_buf *b)
{
	static const uint8_t p[] = { 0xA3, 0x03, 0x81, 0x01, 0x00 };

	return proto_gp_es5_update_smsr_addressing(b, p, sizeof(p));
}

static int b_delete_profile(struct proto_buf *b)
{
	return proto_gp_es5_delete_profile(b, isdp, sizeof(isdp));
}

static int b_finalise(struct proto_buf *b)
{
	return proto_gp_es5_finalise_isdr_handover(b, handover_keys, 2);
}

static int b_delete_both(struct proto_buf *b)
{
	return proto_gp_delete(b, PROTO_GP_DELETE_OBJECT_AND_RELATED, isdp, sizeof(isdp), handover_keys, 1);
}

static int b_get_status(struct proto_buf *b)
{
	static const uint8_t tags[] = { 0x4F, 0x9F, 0x70 };

	return proto_gp_get_status(b, PROTO_GP_STATUS_P1_APPS, PROTO_GP_STATUS_P2_TLV, isdp, sizeof(isdp), tags,
				   sizeof(tags));
}

static int b_get_status_all(struct proto_buf *b)
{
	return proto_gp_get_status(b, PROTO_GP_STATUS_P1_APPS, PROTO_GP_STATUS_P2_TLV, NULL, 0, NULL, 0);
}

static int b_audit(struct proto_buf *b)
{
	static const uint8_t tags[] = { 0x7F, 0x21 };

	return proto_gp_es5_audit_get_data(b, tags, sizeof(tags));
}

static int b_get_data(struct proto_buf *b)
{
	return proto_gp_get_data(b, 0x005A, NULL, 0);
}

static int b_store_data(struct proto_buf *b)
{
	static const uint8_t d[] = { 0xAA, 0xBB, 0xCC };

	return proto_gp_store_data(b, PROTO_GP_SD_P1_DGI | PROTO_GP_SD_P1_CASE4, 0, d, sizeof(d));
}

static int b_store_data_case3(struct proto_buf *b)
{
	static const uint8_t d[] = { 0xAA };

	return proto_gp_store_data(b, PROTO_GP_SD_P1_LAST_BLOCK | PROTO_GP_SD_P1_BERTLV, 7, d, sizeof(d));
}

static const struct {
	const char *name;
	int (*fn)(struct proto_buf *b);
	const char *hex;
} builders[] = {
	/* sgp02.md §6.4 CreateISDP: ELF, module, ISD-P AID, privileges 80C000, C9 04 81020370, no token, Le 00 */
	{ "CreateISDP", b_create_isdp,
	  "80e60c003f" "10" AID_ELF "10" AID_MOD "10" AID_ISDP "0380c000" "06c90481020370" "00" "00" },
	{ "CreateISDP quota", b_create_isdp_quota,
	  "80e60c0045" "10" AID_ELF "10" AID_MOD "10" AID_ISDP "0380c000" "0cc90481020370ef0483021234" "00" "00" },
	{ "CreateISDP 4-byte quota", b_create_isdp_quota4,
	  "80e60c0047" "10" AID_ELF "10" AID_MOD "10" AID_ISDP "0380c000" "0ec90481020370ef06830400012345" "00"
	  "00" },
	{ "INSTALL with token, empty C9", b_install_token,
	  "80e604001e" "05a000000559" "06a00000055910" "07a0000005591010" "0100" "02c900" "03aabbcc" "00" },
	/* sgp02.md §6.7: 80 E6 20 00 Lc 00 00 10 <ISD-P AID> 00 00 00 */
	{ "INSTALL for perso", b_perso, "80e6200016" "0000" "10" AID_ISDP "000000" },
	/* sgp02.md §6.4: 80 E2 88 00 15 3A03 12 4F 10 <AID> */
	{ "EnableProfile", b_enable, "80e28800153a03124f10" AID_ISDP },
	{ "DisableProfile", b_disable, "80e28800153a04124f10" AID_ISDP },
	{ "SetFallBackAttribute", b_fallback, "80e28800153a05124f10" AID_ISDP },
	/* sgp02.md §6.4/§6.5: 80 E2 89 00 07 3A08 04 4E 02 <seq> 00 -- note the trailing Le */
	{ "NotificationConfirmation", b_notif_confirm, "80e28900073a08044e02010200" },
	{ "UpdateSMSRAddressingParameters", b_smsr_addr, "80e28800083a0705a303810100" },
	/* sgp02.md §6.4: 80 E4 00 40 12 4F 10 <AID> 00 */
	{ "DeleteProfile", b_delete_profile, "80e40040124f10" AID_ISDP "00" },
	/* sgp02.md §6.4 [W]: F2 03 01 01 03 + F2 03 41 01 02 */
	{ "FinaliseISDRhandover", b_finalise, "80e400000af203010103f20341010200" },
	{ "DELETE AID + key", b_delete_both, "80e40080174f10" AID_ISDP "f20301010300" },
	/* sgp02.md §6.4 eUICCCapabilityAudit (b): 80 F2 40 02 Lc 4F <AID> 5C 03 4F 9F 70 00 */
	{ "GET STATUS", b_get_status, "80f24002174f10" AID_ISDP "5c034f9f7000" },
	{ "GET STATUS all", b_get_status_all, "80f24002024f0000" },
	/* sgp02.md §6.4 eUICCCapabilityAudit (a): 80 CA BF 30 Lc 5C <tag-list> 00 */
	{ "GET DATA BF30", b_audit, "80cabf30045c027f2100" },
	{ "GET DATA case 2", b_get_data, "80ca005a00" },
	{ "STORE DATA case 4", b_store_data, "80e2090003aabbcc00" },
	{ "STORE DATA case 3", b_store_data_case3, "80e2900701aa" },
};

static void test_builders(void)
{
	uint8_t out[600], want[600];
	struct proto_buf b;
	size_t i, n, cap;
	int rc;

	for (i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
		n = unhex(builders[i].hex, want, sizeof(want));
		proto_buf_init(&b, out, sizeof(out));
		rc = builders[i].fn(&b);
		CHECK(rc == (int)n, "%s: rc %d, want %zu", builders[i].name, rc, n);
		CHECK_HEX(b.data, b.len, builders[i].hex, builders[i].name);

		/* the output is a valid short C-APDU that decodes back to itself */
		{
			struct proto_apdu a;
			struct proto_buf b2;
			uint8_t re[300];

			CHECK_RC(proto_apdu_decode(out, b.len, &a), 0);
			proto_buf_init(&b2, re, sizeof(re));
			CHECK(proto_apdu_encode(&b2, &a) == (int)b.len && !memcmp(re, out, b.len), "%s: round trip",
			      builders[i].name);
		}

		/* appended after existing content, the builder leaves that content alone */
		proto_buf_init(&b, out, sizeof(out));
		proto_buf_put_u16(&b, 0xBEEF);
		CHECK(builders[i].fn(&b) == (int)n && b.len == n + 2 && out[0] == 0xBE && !memcmp(out + 2, want, n),
		      "%s: append", builders[i].name);

		for (cap = 0; cap < n; cap++) {
			uint8_t *small = malloc(cap ? cap : 1);

			proto_buf_init(&b, small, cap);
			rc = builders[i].fn(&b);
			CHECK(rc == -PROTO_E_NOSPACE, "%s: cap %zu rc %d", builders[i].name, cap, rc);
			free(small);
		}

		/* an already overflowed buffer stays overflowed */
		proto_buf_init(&b, out, 1);
		proto_buf_put_u16(&b, 0);
		CHECK_RC(builders[i].fn(&b), -PROTO_E_NOSPACE);
	}
}

static void test_builder_args(void)
{
	uint8_t out[1024], big[300];
	uint8_t aid17[17];
	struct proto_buf b;
	struct proto_gp_install in;
	uint32_t q = 1;

	memset(big, 0x5A, sizeof(big));
	memset(aid17, 0xA0, sizeof(aid17));
	proto_buf_init(&b, out, sizeof(out));

	/* AIDs must be 5..16 bytes */
	CHECK_RC(proto_gp_es5_enable_profile(&b, aid17, 17), -EINVAL);
	CHECK_RC(proto_gp_es5_enable_profile(&b, aid17, 4), -EINVAL);
	CHECK_RC(proto_gp_es5_enable_profile(&b, NULL, 0), -EINVAL);
	CHECK_RC(proto_gp_es5_disable_profile(&b, NULL, 16), -EINVAL);
	CHECK_RC(proto_gp_es5_create_isdp(&b, aid17, 17, &q), -EINVAL);
	CHECK_RC(proto_gp_install_for_perso(&b, aid17, 0), -EINVAL);
	CHECK_RC(proto_gp_es5_delete_profile(&b, NULL, 0), -EINVAL);
	CHECK_RC(proto_gp_es5_finalise_isdr_handover(&b, NULL, 0), -EINVAL);
	CHECK_RC(proto_gp_delete(&b, 0, NULL, 0, NULL, 0), -EINVAL);
	CHECK_RC(proto_gp_get_status(&b, 0x40, 0x02, aid17, 17, NULL, 0), -EINVAL);
	CHECK(b.len == 0, "argument errors wrote %zu bytes", b.len);

	/* oversize data: nothing written, buffer usable afterwards */
	CHECK_RC(proto_gp_store_data(&b, 0x88, 0, big, 256), -EINVAL);
	CHECK_RC(proto_gp_store_data(&b, 0x88, 0, big, 0), -EINVAL);
	CHECK_RC(proto_gp_get_data(&b, 0xBF30, big, 256), -EINVAL);
	CHECK_RC(proto_gp_es5_audit_get_data(&b, big, 256), -EINVAL);
	CHECK_RC(proto_gp_es5_audit_get_data(&b, big, 254), -EINVAL);		/* 5C 81 FE ... = 257 */
	CHECK_RC(proto_gp_es5_update_smsr_addressing(&b, big, 253), -EINVAL);	/* 3A07 FE + 253 = 256 */
	CHECK(proto_gp_es5_update_smsr_addressing(&b, big, 252) == 5 + 255, "3A07 with 252 bytes fits");
	b.len = 0;
	CHECK_RC(proto_gp_es5_finalise_isdr_handover(&b, handover_keys, 52), -EINVAL);
	CHECK(b.len == 0, "oversize wrote %zu bytes", b.len);

	memset(&in, 0, sizeof(in));
	in.app_aid = isdp;
	in.app_aid_len = 16;
	in.app_params = big;
	in.app_params_len = 232;		/* 00 00 10<AID> 00 Lp C9 81 E8<232> 00 = 257 bytes */
	CHECK_RC(proto_gp_install_for_install(&b, 0x0C, &in), -EINVAL);
	CHECK(b.len == 0, "oversize INSTALL rolled back (len %zu)", b.len);
	in.app_params_len = 0;
	in.privileges = big;
	in.privileges_len = 4;
	CHECK_RC(proto_gp_install_for_install(&b, 0x0C, &in), -EINVAL);
	in.privileges_len = 0;
	in.app_aid_len = 0;
	CHECK_RC(proto_gp_install_for_install(&b, 0x0C, &in), -EINVAL);
	in.app_aid_len = 16;
	in.token = big;
	in.token_len = 240;
	CHECK_RC(proto_gp_install_for_install(&b, 0x0C, &in), -EINVAL);
	CHECK(b.len == 0, "oversize INSTALL token rolled back (len %zu)", b.len);

	/* the largest STORE DATA that fits */
	CHECK(proto_gp_store_data(&b, 0x89, 0, big, 255) == 4 + 1 + 255 + 1, "STORE DATA 255 bytes");
	CHECK(out[4] == 0xFF && out[260] == 0x00, "Lc FF, Le 00");
}

static void test_dgi(void)
{
	uint8_t out[400], v[300];
	struct proto_buf b;

	memset(v, 0x11, sizeof(v));
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(proto_gp_dgi_put(&b, 0x3A01, v, 0xFE), 0);
	CHECK_HEX(out, 3, "3a01fe", "DGI 1-byte length");
	CHECK(b.len == 3 + 0xFE, "DGI FE len");
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(proto_gp_dgi_put(&b, 0x3A01, v, 0xFF), 0);
	CHECK_HEX(out, 5, "3a01ff00ff", "DGI 3-byte length");
	CHECK(b.len == 5 + 0xFF, "DGI FF len");
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(proto_gp_dgi_put(&b, 0x0070, NULL, 0), 0);
	CHECK_HEX(out, b.len, "007000", "empty DGI");
	CHECK_RC(proto_gp_dgi_put(&b, 0x0070, v, 0x10000), -EINVAL);
	CHECK_RC(proto_gp_dgi_put(&b, 0x0070, NULL, 1), -EINVAL);
	proto_buf_init(&b, out, 4);
	CHECK_RC(proto_gp_dgi_put(&b, 0x3A01, v, 2), -PROTO_E_NOSPACE);
}

static void test_store_data_chain(void)
{
	static const struct {
		size_t len, block_size;
		uint8_t p1, first;
		size_t n_blocks;
	} t[] = {
		{ 1, 0, 0x09, 0, 1 },
		{ 255, 0, 0x09, 0, 1 },
		{ 256, 0, 0x09, 0, 2 },
		{ 600, 0, 0x09, 0, 3 },
		{ 600, 0, 0x88, 1, 3 },
		{ 510, 255, 0x19, 0, 2 },	/* BER-TLV | DGI bits kept as given */
		{ 10, 3, 0x08, 252, 4 },	/* P2 252..255 */
		{ 256, 1, 0x00, 0, 256 },	/* P2 00..FF */
	};
	static uint8_t payload[1000];
	struct proto_gp_store_data_chain c;
	struct proto_apdu a;
	size_t i, k, off;
	int rc;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t bs = t[i].block_size ? t[i].block_size : 255;

		CHECK_RC(proto_gp_store_data_chain_init(&c, t[i].p1, t[i].first, payload, t[i].len, t[i].block_size),
			 0);
		off = 0;
		k = 0;
		while ((rc = proto_gp_store_data_chain_next(&c, &a)) > 0) {
			bool last = off + a.lc == t[i].len;

			CHECK(a.cla == 0x80 && a.ins == 0xE2, "chain %zu: header", i);
			CHECK(a.p2 == (uint8_t)(t[i].first + k), "chain %zu block %zu: P2 %02x", i, k, a.p2);
			CHECK(a.p1 == ((t[i].p1 & 0x7F) | (last ? 0x80 : 0)), "chain %zu block %zu: P1 %02x", i, k,
			      a.p1);
			CHECK(a.lc == (last ? t[i].len - off : bs), "chain %zu block %zu: lc %zu", i, k, a.lc);
			CHECK(a.data == payload + off, "chain %zu block %zu: zero-copy data", i, k);
			CHECK(a.le_present == !!(t[i].p1 & 0x01) && a.le == 0, "chain %zu block %zu: Le", i, k);
			off += a.lc;
			k++;
		}
		CHECK(rc == 0 && off == t[i].len && k == t[i].n_blocks, "chain %zu: %zu blocks, %zu bytes", i, k, off);
		CHECK_RC(proto_gp_store_data_chain_next(&c, &a), 0);
	}

	/* two blocks of a 300-byte payload encoded: 80 E2 09 00 FF ... 00 and 80 E2 89 01 2D ... 00 */
	{
		uint8_t out[600];
		struct proto_buf b;

		proto_buf_init(&b, out, sizeof(out));
		CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 0, payload, 300, 0), 0);
		while (proto_gp_store_data_chain_next(&c, &a) > 0)
			CHECK(proto_apdu_encode(&b, &a) > 0, "encode block");
		CHECK(b.len == 261 + 4 + 1 + 45 + 1, "chain encoded length %zu", b.len);
		CHECK_HEX(out, 5, "80e20900ff", "first block header");
		CHECK_HEX(out + 261, 5, "80e289012d", "last block header");
		CHECK(out[260] == 0 && out[b.len - 1] == 0, "Le on both blocks");
	}

	CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 0, payload, 0, 0), -EINVAL);
	CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 0, NULL, 10, 0), -EINVAL);
	CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 0, payload, 10, 256), -EINVAL);
	CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 0, payload, 257, 1), -EINVAL);	/* 257 blocks */
	CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 255, payload, 256, 0), -EINVAL);	/* P2 would wrap */
	CHECK_RC(proto_gp_store_data_chain_init(&c, 0x09, 255, payload, 255, 0), 0);
}

/*
 * C-APDU codec
 */
static void test_apdu_codec(void)
{
	static const struct {
		const char *hex;
		enum proto_apdu_case cs;
		uint8_t cla, ins, p1, p2;
		size_t lc;
		uint8_t le;
	} ok[] = {
		{ "00a40004", PROTO_APDU_CASE_1, 0x00, 0xA4, 0x00, 0x04, 0, 0 },
		{ "80ca005a00", PROTO_APDU_CASE_2, 0x80, 0xCA, 0x00, 0x5A, 0, 0x00 },
		{ "00b0000010", PROTO_APDU_CASE_2, 0x00, 0xB0, 0x00, 0x00, 0, 0x10 },
		{ "00a40004023f00", PROTO_APDU_CASE_3, 0x00, 0xA4, 0x00, 0x04, 2, 0 },
		{ "80e28900073a08044e02000100", PROTO_APDU_CASE_4, 0x80, 0xE2, 0x89, 0x00, 7, 0x00 },
		{ "80e2090001ff10", PROTO_APDU_CASE_4, 0x80, 0xE2, 0x09, 0x00, 1, 0x10 },
	};
	uint8_t in[300], out[300];
	struct proto_apdu a;
	struct proto_buf b;
	size_t i, n, k;
	int rc;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = unhex(ok[i].hex, in, sizeof(in));
		CHECK_RC(proto_apdu_decode(in, n, &a), 0);
		CHECK(proto_apdu_case(&a) == ok[i].cs, "%s: case %d", ok[i].hex, proto_apdu_case(&a));
		CHECK(a.cla == ok[i].cla && a.ins == ok[i].ins && a.p1 == ok[i].p1 && a.p2 == ok[i].p2,
		      "%s: header", ok[i].hex);
		CHECK(a.lc == ok[i].lc && (a.lc == 0 || a.data == in + 5), "%s: lc %zu", ok[i].hex, a.lc);
		CHECK(a.le == ok[i].le, "%s: le %02x", ok[i].hex, a.le);
		proto_buf_init(&b, out, sizeof(out));
		CHECK(proto_apdu_encode(&b, &a) == (int)n, "%s: encode length", ok[i].hex);
		CHECK_HEX(out, b.len, ok[i].hex, "C-APDU round trip");

		/* every truncation: < 4 bytes fails; 4 and 5 are cases 1 and 2; inside the data fails; without the
		 * Le byte a case 4 is a case 3 */
		for (k = 0; k < n; k++) {
			uint8_t *t = dup_exact(in, k);

			rc = proto_apdu_decode(t, k, &a);
			if (k < 4)
				CHECK(rc == -PROTO_E_TRUNCATED, "%s cut %zu: rc %d", ok[i].hex, k, rc);
			else if (k == 4)
				CHECK(rc == 0 && proto_apdu_case(&a) == PROTO_APDU_CASE_1, "%s cut 4", ok[i].hex);
			else if (k == 5)
				CHECK(rc == 0 && proto_apdu_case(&a) == PROTO_APDU_CASE_2, "%s cut 5", ok[i].hex);
			else if (k < 5 + ok[i].lc)
				CHECK(rc == -PROTO_E_TRUNCATED, "%s cut %zu: rc %d", ok[i].hex, k, rc);
			else
				CHECK(rc == 0 && proto_apdu_case(&a) == PROTO_APDU_CASE_3, "%s cut %zu", ok[i].hex, k);
			free(t);
		}
	}

	/* errors */
	n = unhex("00a40004023f000000", in, sizeof(in));
	CHECK_RC(proto_apdu_decode(in, n, &a), -PROTO_E_TRAILING);
	n = unhex("80ca0000000003010203", in, sizeof(in));
	CHECK_RC(proto_apdu_decode(in, n, &a), -PROTO_E_UNSUPPORTED);		/* extended Lc */
	n = unhex("80ca00000000", in, sizeof(in));
	CHECK_RC(proto_apdu_decode(in, n, &a), -PROTO_E_UNSUPPORTED);		/* extended Le */
	CHECK_RC(proto_apdu_decode(in, 0, &a), -PROTO_E_TRUNCATED);

	/* every byte value at every position of a case-4 APDU: never a crash, any result is consistent */
	n = unhex("80e28900073a08044e02000100", in, sizeof(in));
	for (i = 0; i < n; i++) {
		for (k = 0; k < 256; k++) {
			uint8_t *t = dup_exact(in, n);

			t[i] = (uint8_t)k;
			if (proto_apdu_decode(t, n, &a) == 0)
				CHECK(4 + (a.lc ? 1 + a.lc : 0) + (a.le_present ? 1 : 0) == n, "mutation %zu/%zu", i,
				      k);
			free(t);
		}
	}

	/* encoder: oversize data and NULL data are refused without writing */
	memset(&a, 0, sizeof(a));
	a.cla = 0x80;
	a.ins = 0xE2;
	a.data = in;
	a.lc = 256;
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(proto_apdu_encode(&b, &a), -EINVAL);
	a.lc = 1;
	a.data = NULL;
	CHECK_RC(proto_apdu_encode(&b, &a), -EINVAL);
	CHECK(b.len == 0, "refused APDU wrote %zu bytes", b.len);
	a.data = in;
	a.lc = 255;
	a.le_present = true;
	CHECK(proto_apdu_encode(&b, &a) == PROTO_APDU_MAX_LEN, "largest short APDU");
	proto_buf_init(&b, out, PROTO_APDU_MAX_LEN - 1);
	CHECK_RC(proto_apdu_encode(&b, &a), -PROTO_E_NOSPACE);
}

static void test_rapdu(void)
{
	static const struct {
		const char *hex;
		int rc;
		size_t len;
		uint16_t sw;
	} t[] = {
		{ "9000", 0, 0, 0x9000 },
		{ "6132", 0, 0, 0x6132 },
		{ "8610000102030405060708090a0b0c0d0e0f9000", 0, 18, 0x9000 },
		{ "69e1", 0, 0, 0x69E1 },
		{ "90", -PROTO_E_TRUNCATED, 0, 0 },
		{ "", -PROTO_E_TRUNCATED, 0, 0 },
	};
	uint8_t in[64], out[64];
	struct proto_rapdu r;
	struct proto_buf b;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *x;

		n = unhex(t[i].hex, in, sizeof(in));
		x = dup_exact(in, n);
		CHECK_RC(proto_apdu_rsp_decode(x, n, &r), t[i].rc);
		CHECK(r.len == t[i].len && r.sw == t[i].sw, "%s: len %zu sw %04x", t[i].hex, r.len, r.sw);
		if (t[i].rc == 0) {
			CHECK(r.data == x, "%s: data points into input", t[i].hex);
			proto_buf_init(&b, out, sizeof(out));
			CHECK_RC(proto_apdu_rsp_encode(&b, r.data, r.len, r.sw), 0);
			CHECK_HEX(out, b.len, t[i].hex, "R-APDU round trip");
		}
		free(x);
	}
	proto_buf_init(&b, out, 3);
	CHECK_RC(proto_apdu_rsp_encode(&b, in, 2, 0x9000), -PROTO_E_NOSPACE);
}

static void test_names(void)
{
	static const struct {
		uint16_t sw;
		const char *name;
		bool ok;
	} t[] = {
		{ PROTO_SW_OK, "success", true },
		{ 0x6985, "conditions of use not satisfied", false },
		{ 0x69E1, "POL1 of the profile prevents this action", false },
		{ 0x6A80, "incorrect values in command data", false },
		{ 0x6A82, "application or file not found", false },
		{ 0x6A84, "not enough memory space", false },
		{ 0x6A88, "referenced data not found", false },
		{ 0x6581, "memory failure", false },
		{ 0x6310, "more data available", false },
		{ 0x6132, "response bytes available", true },
		{ 0x910F, "success, proactive command pending", true },
		{ 0x6C10, "wrong Le", false },
		{ 0x6A87, "wrong parameters", false },
		{ 0x1234, "unknown status word", false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(!strcmp(proto_apdu_sw_name(t[i].sw), t[i].name), "SW %04x: '%s'", t[i].sw,
		      proto_apdu_sw_name(t[i].sw));
		CHECK(proto_apdu_sw_is_ok(t[i].sw) == t[i].ok, "SW %04x ok", t[i].sw);
	}
	for (i = 0; proto_apdu_sw_names[i].str; i++)
		CHECK(!strcmp(proto_apdu_sw_name(proto_apdu_sw_names[i].value), proto_apdu_sw_names[i].str),
		      "table row %zu is reachable", i);
	CHECK(!strcmp(proto_gp_ins_name(PROTO_GP_INS_STORE_DATA), "STORE DATA"), "INS name");
	CHECK(!strcmp(proto_gp_ins_name(0x00), "unknown INS"), "unknown INS");
	CHECK(!strcmp(proto_gp_es5_dgi_name(PROTO_GP_DGI_NOTIFICATION_CONFIRM), "NotificationConfirmation"), "DGI");
	CHECK(!strcmp(proto_gp_es5_dgi_name(0x3A06), "unknown DGI"), "unknown DGI");
	CHECK_HEX(proto_gp_aid_isdr, 16, "a0000005591010ffffffff8900000100", "ISD-R AID");
	CHECK_HEX(proto_gp_aid_ecasd, 16, "a0000005591010ffffffff8900000200", "ECASD AID");
}

int main(void)
{
	unhex(AID_ISDP, isdp, sizeof(isdp));
	test_builders();
	test_builder_args();
	test_dgi();
	test_store_data_chain();
	test_apdu_codec();
	test_rapdu();
	test_names();
	TEST_DONE();
}
