/* SCP03 / SCP03t unit tests: host and card sessions against each other at every security level, APDU cases 1-4,
 * counter and chaining rules, negative paths (MAC errors close the session, bad lengths, bad states). The
 * byte-exact third-party traces are in crypto_vectors_test. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <openssl/rand.h>
#include "tests/testlib.h"
#include "proto/buf.h"
#include "proto/errors.h"
#include "ota/keystore.h"
#include "ota/gp_scp03.h"

static void *ctx;

struct pair {
	struct ota_key *kenc, *kmac;
	struct ota_scp03 *host, *card;
};

static void pair_free(struct pair *p)
{
	talloc_free(p->host);
	talloc_free(p->card);
	talloc_free(p->kenc);
	talloc_free(p->kmac);
	memset(p, 0, sizeof(*p));
}

/* A host and a card session over the same static keys and challenges (the IU exchange done by the book). */
static void pair_new(struct pair *p, size_t klen)
{
	uint8_t k[32], hc[8], cc[8], kvn, hc2[8], mem[64];
	struct ota_scp03_iu_rsp iu = { .kvn = 0x30, .scp = 0x03, .i = 0x70, .has_seq = true, .seq = { 0, 0, 1 } };
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00,
				       0x00, 0x10, 0x00 };
	struct ota_scp03_iu_rsp back;
	struct proto_buf b;

	memset(p, 0, sizeof(*p));
	RAND_bytes(k, sizeof(k));
	CHECK_RC(ota_key_import(ctx, k, klen, &p->kenc), 0);
	RAND_bytes(k, sizeof(k));
	CHECK_RC(ota_key_import(ctx, k, klen, &p->kmac), 0);
	RAND_bytes(hc, sizeof(hc));

	/* host: INITIALIZE UPDATE; card: pseudo-random challenge, session, response */
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_iu_cmd_encode(&b, 0x30, hc), 0);
	CHECK_RC(ota_scp03_iu_cmd_decode(b.data, b.len, &kvn, hc2), 0);
	CHECK(kvn == 0x30 && memcmp(hc, hc2, 8) == 0, "IU command round trip");
	CHECK_RC(ota_scp03_card_challenge(p->kenc, iu.seq, aid, sizeof(aid), cc), 0);
	CHECK_RC(ota_scp03_new(ctx, p->kenc, p->kmac, hc2, cc, &p->card), 0);
	memcpy(iu.card_challenge, cc, 8);
	memcpy(iu.card_cryptogram, ota_scp03_card_cryptogram(p->card), 8);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_iu_rsp_encode(&b, &iu), 0);
	CHECK(b.len == 32, "IU response with sequence counter is 32 bytes");

	CHECK_RC(ota_scp03_iu_rsp_decode(&back, b.data, b.len), 0);
	CHECK_RC(ota_scp03_new(ctx, p->kenc, p->kmac, hc, back.card_challenge, &p->host), 0);
	CHECK_RC(ota_scp03_check_card_cryptogram(p->host, back.card_cryptogram), 0);
}

static void open_apdu(struct pair *p, uint8_t sl)
{
	uint8_t mem[64];
	struct proto_buf b;

	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_ext_auth_encode(p->host, sl, &b), 0);
	CHECK(b.len == 21 && mem[0] == 0x84 && mem[1] == 0x82 && mem[2] == sl, "EA header");
	CHECK_RC(ota_scp03_ext_auth_check(p->card, b.data, b.len), 0);
	CHECK(ota_scp03_is_open(p->host) && ota_scp03_is_open(p->card), "both open at SL %02x", sl);
}

/* one command through host wrap and card unwrap, one response back; both directions must round-trip */
static void exchange(struct pair *p, const uint8_t *apdu, size_t len, const uint8_t *rsp, size_t rlen,
		     uint16_t sw)
{
	static uint8_t w[600], u[600], rw[600], ru[600];
	struct proto_buf b;
	size_t wlen, rwlen;
	uint8_t sl = ota_scp03_security_level(p->host);

	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p->host, apdu, len, &b), 0);
	wlen = b.len;
	if (sl & OTA_SCP03_SL_C_MAC)
		CHECK(w[0] == (apdu[0] | ((apdu[0] & 0x40) ? 0x20 : 0x04)), "SM bit in wire CLA %02x", w[0]);
	proto_buf_init(&b, u, sizeof(u));
	CHECK_RC(ota_scp03_unwrap_cmd(p->card, w, wlen, &b), 0);
	CHECK(b.len == len && memcmp(u, apdu, len) == 0, "card gets the plain APDU back (SL %02x, len %zu)", sl, len);

	proto_buf_init(&b, rw, sizeof(rw));
	CHECK_RC(ota_scp03_wrap_rsp(p->card, rsp, rlen, sw, &b), 0);
	rwlen = b.len;
	if (sw != 0x9000 && (sw >> 8) != 0x62 && (sw >> 8) != 0x63)
		CHECK(rwlen == 0, "nothing but the SW on error");
	proto_buf_init(&b, ru, sizeof(ru));
	CHECK_RC(ota_scp03_unwrap_rsp(p->host, rw, rwlen, sw, &b), 0);
	if (sw == 0x9000)
		CHECK(b.len == rlen && (!rlen || memcmp(ru, rsp, rlen) == 0), "host gets the response back");
}

static void test_levels(void)
{
	static const uint8_t levels[] = { 0x00, 0x01, 0x03, 0x11, 0x13, 0x33 };
	static const size_t klens[] = { 16, 24, 32 };
	uint8_t apdu[300], rsp[256];
	size_t li, ki, n;

	RAND_bytes(rsp, sizeof(rsp));
	for (ki = 0; ki < 3; ki++) {
		for (li = 0; li < sizeof(levels); li++) {
			struct pair p;

			pair_new(&p, klens[ki]);
			open_apdu(&p, levels[li]);
			/* case 1, case 2, then cases 3/4 over data lengths across block boundaries */
			memcpy(apdu, "\x80\xF2\x20\x02", 4);
			exchange(&p, apdu, 4, rsp, 0, 0x9000);
			memcpy(apdu, "\x80\xCA\x00\x66\x00", 5);
			exchange(&p, apdu, 5, rsp, 17, 0x9000);
			for (n = 1; n <= 231; n += 15) {
				memcpy(apdu, "\x80\xE2\x88\x00", 4);
				apdu[4] = (uint8_t)n;
				RAND_bytes(apdu + 5, (int)n);
				exchange(&p, apdu, 5 + n, rsp, n % 40, 0x9000);
				apdu[5 + n] = 0x00;
				exchange(&p, apdu, 6 + n, rsp, 0, (n & 1) ? 0x6A88 : 0x6310);
			}
			/* supplementary channels keep their number on the wire */
			memcpy(apdu, "\x83\xCA\x00\x66\x00", 5);
			exchange(&p, apdu, 5, rsp, 3, 0x9000);
			memcpy(apdu, "\xC5\xCA\x00\x66\x00", 5);
			exchange(&p, apdu, 5, rsp, 3, 0x9000);
			pair_free(&p);
		}
	}
}

static void test_negative(void)
{
	uint8_t apdu[300], w[600], out[600], mem[64];
	struct proto_buf b;
	struct pair p;
	size_t wlen;

	pair_new(&p, 16);
	/* before EXTERNAL AUTHENTICATE */
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xF2\x20\x02", 4, &b), -PROTO_E_STATE);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_ext_auth_encode(p.host, 0x31, &b), -EINVAL);
	CHECK_RC(ota_scp03_ext_auth_encode(p.host, 0x02, &b), -EINVAL);

	/* a bad host cryptogram or MAC in EXTERNAL AUTHENTICATE closes the card session */
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_ext_auth_encode(p.host, 0x33, &b), 0);
	mem[20] ^= 1;
	CHECK_RC(ota_scp03_ext_auth_check(p.card, mem, b.len), -PROTO_E_INTEGRITY);
	CHECK(!ota_scp03_is_open(p.card), "card closed after a bad EA");
	CHECK_RC(ota_scp03_ext_auth_check(p.card, mem, b.len), -PROTO_E_STATE);
	CHECK_RC(ota_scp03_ext_auth_encode(p.host, 0x33, &b), -PROTO_E_STATE);
	pair_free(&p);

	pair_new(&p, 16);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03_ext_auth_encode(p.host, 0x33, &b), 0);
	mem[6] ^= 1;	/* host cryptogram */
	CHECK_RC(ota_scp03_ext_auth_check(p.card, mem, b.len), -PROTO_E_INTEGRITY);
	CHECK_RC(ota_scp03_ext_auth_check(p.card, mem, 4), -PROTO_E_STATE);
	pair_free(&p);

	pair_new(&p, 16);
	CHECK_RC(ota_scp03_ext_auth_check(p.card, (const uint8_t *)"\x84\x82\x33\x00", 4), -PROTO_E_MALFORMED);
	open_apdu(&p, 0x33);

	/* malformed plain APDUs */
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xF2\x20", 3, &b), -PROTO_E_TRUNCATED);
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xE2\x88\x00\x03\x01", 6, &b), -PROTO_E_TRUNCATED);
	/* C-APDUs are parsed by proto_apdu_decode(): its codes for a short header, short data, trailing bytes */
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xE2\x88\x00\x01\x01\x00\x00", 8, &b),
		 -PROTO_E_TRAILING);
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xE2\x88\x00\x00\x01", 6, &b),
		 -PROTO_E_UNSUPPORTED);
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xE2\x88\x00\x00\x00\x01\x01", 8, &b),
		 -PROTO_E_UNSUPPORTED);
	/* 240 bytes pad to 256: does not fit a short Lc */
	memcpy(apdu, "\x80\xE2\x88\x00\xF0", 5);
	memset(apdu + 5, 0x5A, 240);
	CHECK_RC(ota_scp03_wrap_cmd(p.host, apdu, 245, &b), -EMSGSIZE);
	/* too small an output buffer changes nothing: the next command still goes through */
	apdu[4] = 16;
	proto_buf_init(&b, w, 10);
	CHECK_RC(ota_scp03_wrap_cmd(p.host, apdu, 21, &b), -PROTO_E_NOSPACE);
	exchange(&p, apdu, 21, (const uint8_t *)"\x01", 1, 0x9000);

	/* a flipped bit anywhere in a wrapped command closes the card session */
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, apdu, 21, &b), 0);
	wlen = b.len;
	w[wlen - 1] ^= 0x80;
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_scp03_unwrap_cmd(p.card, w, wlen, &b), -PROTO_E_INTEGRITY);
	CHECK(b.len == 0 && !ota_scp03_is_open(p.card), "card closed after a C-MAC error");
	CHECK_RC(ota_scp03_unwrap_cmd(p.card, w, wlen, &b), -PROTO_E_STATE);
	pair_free(&p);

	/* R-MAC errors close the host session; a missing R-MAC is an error too */
	pair_new(&p, 16);
	open_apdu(&p, 0x13);
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xCA\x00\x66\x00", 5, &b), 0);
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_scp03_unwrap_rsp(p.host, (const uint8_t *)"\x01\x02\x03", 3, 0x9000, &b), -PROTO_E_INTEGRITY);
	CHECK(!ota_scp03_is_open(p.host), "host closed after a missing R-MAC");
	pair_free(&p);

	pair_new(&p, 16);
	open_apdu(&p, 0x33);
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xCA\x00\x66\x00", 5, &b), 0);
	wlen = b.len;
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_scp03_unwrap_cmd(p.card, w, wlen, &b), 0);
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_rsp(p.card, (const uint8_t *)"\xAA\xBB", 2, 0x9000, &b), 0);
	CHECK(b.len == 24, "R-ENC pads 2 bytes to one block + R-MAC");
	wlen = b.len;
	/* an error SW is passed through without a MAC check */
	proto_buf_init(&b, out, sizeof(out));
	CHECK_RC(ota_scp03_unwrap_rsp(p.host, NULL, 0, 0x6985, &b), 0);
	w[3] ^= 1;
	CHECK_RC(ota_scp03_unwrap_rsp(p.host, w, wlen, 0x9000, &b), -PROTO_E_INTEGRITY);
	pair_free(&p);
}

/* ---- SCP03t --------------------------------------------------------------------------------------------------- */

static void open_tlv(struct pair *p)
{
	uint8_t mem[64];
	struct proto_buf b;

	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_ext_auth_encode(p->host, 0x33, &b), 0);
	CHECK(b.len == 19 && mem[0] == 0x85 && mem[1] == 0x11 && mem[2] == 0x33, "SCP03t EA header");
	CHECK_RC(ota_scp03t_ext_auth_check(p->card, b.data, b.len), 0);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_ext_auth_rsp_encode(&b), 0);
	CHECK_RC(ota_scp03t_ext_auth_rsp_check(b.data, b.len), 0);
}

static void test_scp03t(void)
{
	static uint8_t data[2100], w[2200], u[2200], rw[2200], ru[2200];
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 102, 103, 111, 112, 119, 120, 200, 239, 240, 255, 256,
					1007, 1008, 2000 };
	struct ota_scp03_iu_rsp iu, back;
	struct proto_buf b;
	struct pair p;
	uint8_t mem[64], kvn, kid, hc[8];
	size_t i, wlen, rwlen;

	pair_new(&p, 16);
	/* IU TLVs */
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_iu_encode(&b, 0x30, 0x00, (const uint8_t *)"\1\2\3\4\5\6\7\x8"), 0);
	CHECK_RC(ota_scp03t_iu_decode(b.data, b.len, &kvn, &kid, hc), 0);
	CHECK_RC(ota_scp03t_iu_decode(b.data, b.len - 1, &kvn, &kid, hc), -PROTO_E_TRUNCATED);
	memset(&iu, 0, sizeof(iu));
	iu.scp = 3;
	iu.i = 0x70;
	iu.has_seq = true;
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_iu_rsp_encode(&b, &iu), 0);
	CHECK(b.len == 34 && mem[0] == 0x84 && mem[1] == 0x20, "84 20 IU response");
	CHECK_RC(ota_scp03t_iu_rsp_decode(&back, b.data, b.len), 0);
	CHECK_RC(ota_scp03t_iu_rsp_decode(&back, b.data, b.len - 3), -PROTO_E_TRUNCATED);
	mem[1] = 0x1D;	/* 29 bytes but i says a sequence counter follows */
	CHECK_RC(ota_scp03t_iu_rsp_decode(&back, b.data, 31), -PROTO_E_MALFORMED);
	CHECK_RC(ota_scp03t_iu_rsp_decode(&back, (const uint8_t *)"\x9F\x45\x01\x01", 4), -EREMOTEIO);
	CHECK_RC(ota_scp03t_ext_auth_rsp_check((const uint8_t *)"\x9F\x45\x01\x02", 4), -EREMOTEIO);
	CHECK_RC(ota_scp03t_ext_auth_rsp_check((const uint8_t *)"\x85\x01\x00", 3), -PROTO_E_MALFORMED);

	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03t_wrap_cmd(p.host, data, 1, &b), -PROTO_E_STATE);
	open_tlv(&p);

	RAND_bytes(data, sizeof(data));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		proto_buf_init(&b, w, sizeof(w));
		CHECK_RC(ota_scp03t_wrap_cmd(p.host, data, n, &b), 0);
		wlen = b.len;
		CHECK(w[0] == 0x86, "86 tag");
		proto_buf_init(&b, u, sizeof(u));
		CHECK_RC(ota_scp03t_unwrap_cmd(p.card, w, wlen, &b), 0);
		CHECK(b.len == n && memcmp(u, data, n) == 0, "SCP03t command of %zu bytes round trip", n);

		proto_buf_init(&b, rw, sizeof(rw));
		CHECK_RC(ota_scp03t_wrap_rsp(p.card, data + 1, n, &b), 0);
		rwlen = b.len;
		if (!n)
			CHECK(rwlen == 2 && rw[0] == 0x86 && rw[1] == 0x00, "86 00 response");
		proto_buf_init(&b, ru, sizeof(ru));
		CHECK_RC(ota_scp03t_unwrap_rsp(p.host, rw, rwlen, &b), 0);
		CHECK(b.len == n && memcmp(ru, data + 1, n) == 0, "SCP03t response of %zu bytes round trip", n);
	}

	/* error TLV from the card */
	proto_buf_init(&b, ru, sizeof(ru));
	CHECK_RC(ota_scp03t_unwrap_rsp(p.host, (const uint8_t *)"\x9F\x46\x01\x01", 4, &b), -EREMOTEIO);

	/* every truncation of a protected TLV is refused without consuming the session */
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03t_wrap_cmd(p.host, data, 300, &b), 0);
	wlen = b.len;
	for (i = 0; i < wlen; i++) {
		int rc;

		proto_buf_init(&b, u, sizeof(u));
		rc = ota_scp03t_unwrap_cmd(p.card, w, i, &b);
		CHECK(rc == -PROTO_E_TRUNCATED, "truncation to %zu bytes: %d", i, rc);
	}
	proto_buf_init(&b, u, sizeof(u));
	CHECK_RC(ota_scp03t_unwrap_cmd(p.card, w, wlen, &b), 0);

	/* a MAC error on the card side closes the session */
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03t_wrap_cmd(p.host, data, 40, &b), 0);
	wlen = b.len;
	w[10] ^= 0x01;
	proto_buf_init(&b, u, sizeof(u));
	CHECK_RC(ota_scp03t_unwrap_cmd(p.card, w, wlen, &b), -PROTO_E_INTEGRITY);
	CHECK(b.len == 0 && !ota_scp03_is_open(p.card), "SCP03t card closed after a MAC error");
	CHECK_RC(ota_scp03t_unwrap_cmd(p.card, w, wlen, &b), -PROTO_E_STATE);
	pair_free(&p);

	/* an R-MAC error on the host side */
	pair_new(&p, 16);
	open_tlv(&p);
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03t_wrap_cmd(p.host, data, 5, &b), 0);
	wlen = b.len;
	proto_buf_init(&b, u, sizeof(u));
	CHECK_RC(ota_scp03t_unwrap_cmd(p.card, w, wlen, &b), 0);
	proto_buf_init(&b, rw, sizeof(rw));
	CHECK_RC(ota_scp03t_wrap_rsp(p.card, data, 33, &b), 0);
	rwlen = b.len;
	rw[rwlen - 8] ^= 0x40;
	proto_buf_init(&b, ru, sizeof(ru));
	CHECK_RC(ota_scp03t_unwrap_rsp(p.host, rw, rwlen, &b), -PROTO_E_INTEGRITY);
	CHECK(!ota_scp03_is_open(p.host), "SCP03t host closed after an R-MAC error");
	pair_free(&p);

	/* the EA TLV itself: wrong MAC */
	pair_new(&p, 16);
	proto_buf_init(&b, mem, sizeof(mem));
	CHECK_RC(ota_scp03t_ext_auth_encode(p.host, 0x33, &b), 0);
	mem[18] ^= 1;
	CHECK_RC(ota_scp03t_ext_auth_check(p.card, mem, b.len), -PROTO_E_INTEGRITY);
	pair_free(&p);
}

/* Data-less commands interleaved with encrypted ones keep host and card in step (the counter rule itself is
 * pinned by the pySim SL 33 traces in crypto_vectors_test); a card that missed a command rejects the next one. */
static void test_counter(void)
{
	uint8_t w[64], u[64];
	struct proto_buf b;
	struct pair p;
	size_t wlen;
	int i;

	pair_new(&p, 16);
	open_apdu(&p, 0x03);
	for (i = 0; i < 3; i++)
		exchange(&p, (const uint8_t *)"\x80\xF2\x20\x02", 4, NULL, 0, 0x9000);
	exchange(&p, (const uint8_t *)"\x80\xE2\x88\x00\x02\x01\x02", 7, NULL, 0, 0x9000);
	/* the card misses one command: chain and counter are off, the next command is refused */
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xF2\x20\x02", 4, &b), 0);
	proto_buf_init(&b, w, sizeof(w));
	CHECK_RC(ota_scp03_wrap_cmd(p.host, (const uint8_t *)"\x80\xE2\x88\x00\x02\x01\x02", 7, &b), 0);
	wlen = b.len;
	proto_buf_init(&b, u, sizeof(u));
	CHECK_RC(ota_scp03_unwrap_cmd(p.card, w, wlen, &b), -PROTO_E_INTEGRITY);
	pair_free(&p);
}

static void test_bad_args(void)
{
	uint8_t k[16] = { 0 }, cc[8];
	struct ota_key *des = NULL, *aes = NULL;
	struct ota_scp03 *s = NULL;
	struct ota_scp03_iu_rsp iu;

	CHECK_RC(ota_key_import(ctx, k, 8, &des), 0);
	CHECK_RC(ota_key_import(ctx, k, 16, &aes), 0);
	CHECK_RC(ota_scp03_new(ctx, des, aes, cc, cc, &s), -EINVAL);
	CHECK(s == NULL, "no session");
	CHECK_RC(ota_scp03_card_challenge(aes, cc, k, 4, cc), -EINVAL);
	CHECK_RC(ota_scp03_card_challenge(aes, cc, k, 17, cc), -EINVAL);
	CHECK_RC(ota_scp03_iu_rsp_decode(&iu, k, 16), -PROTO_E_MALFORMED);
	talloc_free(des);
	talloc_free(aes);
}

int main(void)
{
	void *top = talloc_new(NULL);

	ctx = talloc_new(top);
	test_levels();
	test_negative();
	test_scp03t();
	test_counter();
	test_bad_args();
	CHECK(talloc_total_blocks(ctx) == 1, "talloc blocks left: %zu", talloc_total_blocks(ctx));
	talloc_free(top);
	TEST_DONE();
}
