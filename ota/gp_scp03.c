/* GP Amendment D SCP03 and its SGP.02 TLV form SCP03t: session keys, cryptograms, secure messaging for both the
 * host and the card side (crypto.md §B). */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "ota/gp_scp03.h"
#include "proto/gp_apdu.h"

#define AES_BLOCK 16

enum scp03_state {
	ST_KEYS,	/*!< session keys derived, EXTERNAL AUTHENTICATE pending */
	ST_OPEN,	/*!< authenticated; secure messaging per sl */
	ST_CLOSED,	/*!< a check failed: the session is dead */
};

struct ota_scp03 {
	struct ota_key *s_enc, *s_mac, *s_rmac;		/*!< talloc children */
	uint8_t card_cryptogram[OTA_SCP03_CRYPTOGRAM_LEN];
	uint8_t host_cryptogram[OTA_SCP03_CRYPTOGRAM_LEN];
	uint8_t mcv[OTA_SCP03_MCV_LEN];			/*!< MAC chaining value */
	uint8_t ctr[AES_BLOCK];				/*!< encryption counter, big endian */
	uint8_t sl;
	enum scp03_state state;
};

/* INS codes and constants of the APDU form (GPCS 11.x, Amd D 7.1) */
enum {
	CLA_GP = 0x80,
	CLA_SM = 0x04,			/*!< secure messaging bit for channels 0-3 */
	CLA_SM_FURTHER = 0x20,		/*!< secure messaging bit for channels 4-19 (further interindustry) */
	CLA_FURTHER = 0x40,
	INS_INITIALIZE_UPDATE = 0x50,
	INS_EXTERNAL_AUTHENTICATE = 0x82,
	IU_RSP_LEN = OTA_SCP03_KEYDIV_LEN + 3 + OTA_SCP03_CHALLENGE_LEN + OTA_SCP03_CRYPTOGRAM_LEN,
	SCP_ID = 0x03,
	ERR_TLV_TAG1 = 0x9F,
};

static int scp03_destructor(struct ota_scp03 *s)
{
	/* the key handles are children and wipe themselves */
	OPENSSL_cleanse(s->mcv, sizeof(s->mcv));
	OPENSSL_cleanse(s->ctr, sizeof(s->ctr));
	return 0;
}

static bool sl_valid(uint8_t sl)
{
	switch (sl) {
	case 0x00:
	case 0x01:
	case 0x03:
	case 0x11:
	case 0x13:
	case 0x33:
		return true;
	default:
		return false;
	}
}

static bool key_is_aes(const struct ota_key *k)
{
	return k && ota_key_fits_cipher(k, OTA_CIPHER_AES_CBC);
}

static bool sw_success(uint16_t sw)
{
	return sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

static size_t pad_len(size_t len)
{
	return (len / AES_BLOCK + 1) * AES_BLOCK;
}

/* Make room for n more bytes up front so that no state changes before a -PROTO_E_NOSPACE. */
static int room(struct proto_buf *b, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return -PROTO_E_NOSPACE;
	}
	return 0;
}

static int fail_closed(struct ota_scp03 *s, int rc)
{
	s->state = ST_CLOSED;
	return rc;
}

static int ctr_incr(struct ota_scp03 *s)
{
	int i;

	for (i = AES_BLOCK - 1; i >= 0; i--)
		if (++s->ctr[i])
			return 0;
	return -PROTO_E_STATE;	/* 2^128 commands: unreachable, but never reuse an ICV */
}

/* ICV = AES-ECB(S-ENC, counter) for commands, AES-ECB(S-ENC, 80 || counter[1..15]) for responses. */
static int make_icv(struct ota_scp03 *s, bool response, uint8_t icv[AES_BLOCK])
{
	uint8_t blk[AES_BLOCK];
	int rc;

	memcpy(blk, s->ctr, AES_BLOCK);
	if (response)
		blk[0] = 0x80;
	rc = ota_key_cipher(s->s_enc, OTA_CIPHER_AES_ECB, true, NULL, blk, icv, AES_BLOCK);
	OPENSSL_cleanse(blk, sizeof(blk));
	return rc;
}

/* Pad data to out (pad_len(len) bytes, may not overlap data) and encrypt in place. */
static int encrypt_into(struct ota_scp03 *s, bool response, const uint8_t *data, size_t len, uint8_t *out)
{
	uint8_t icv[AES_BLOCK];
	size_t plen = pad_len(len);
	int rc;

	memmove(out, data, len);
	out[len] = 0x80;
	memset(out + len + 1, 0, plen - len - 1);
	rc = make_icv(s, response, icv);
	if (rc == 0)
		rc = ota_key_cipher(s->s_enc, OTA_CIPHER_AES_CBC, true, icv, out, out, plen);
	OPENSSL_cleanse(icv, sizeof(icv));
	return rc;
}

/* Decrypt len bytes into out and strip the 80 00.. padding; *plain_len gets the data length. */
static int decrypt_into(struct ota_scp03 *s, bool response, const uint8_t *in, size_t len, uint8_t *out,
			size_t *plain_len)
{
	uint8_t icv[AES_BLOCK];
	size_t n;
	int rc;

	if (len == 0 || len % AES_BLOCK)
		return -PROTO_E_MALFORMED;
	rc = make_icv(s, response, icv);
	if (rc == 0)
		rc = ota_key_cipher(s->s_enc, OTA_CIPHER_AES_CBC, false, icv, in, out, len);
	OPENSSL_cleanse(icv, sizeof(icv));
	if (rc < 0)
		return rc;
	for (n = len; n > 0 && out[n - 1] == 0x00 && len - n < AES_BLOCK; n--)
		;
	if (n == 0 || out[n - 1] != 0x80 || len - n >= AES_BLOCK)
		return -PROTO_E_MALFORMED;
	*plain_len = n - 1;
	return 0;
}

static int cmac(struct ota_key *k, const struct ota_iov *iov, unsigned n, uint8_t full[AES_BLOCK])
{
	return ota_key_mac(k, OTA_MAC_AES_CMAC, iov, n, full, AES_BLOCK);
}

/* C-MAC over chain || hdr || body; the chain becomes the full CMAC. */
static int cmd_mac(struct ota_scp03 *s, const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen,
		   uint8_t full[AES_BLOCK])
{
	struct ota_iov iov[3] = { { s->mcv, AES_BLOCK }, { hdr, hlen }, { body, blen } };

	return cmac(s->s_mac, iov, 3, full);
}

/* Constant-time check of a received 8-byte MAC against a full CMAC. */
static bool mac_ok(const uint8_t full[AES_BLOCK], const uint8_t *rx)
{
	return ota_mem_equal(full, rx, OTA_SCP03_MAC_LEN);
}

/* CLA as covered by the C-MAC (Amd D 6.2.4): logical channel number zeroed, GP secure messaging indicated by b3
 * (crypto.md §B.1: (CLA & F0) | 04); for channels 4-19 the wire SM bit b6 is dropped first. */
static uint8_t mac_cla(uint8_t cla)
{
	if (cla & CLA_FURTHER)
		cla &= (uint8_t)~CLA_SM_FURTHER;
	return (uint8_t)((cla & 0xF0) | CLA_SM);
}

static uint8_t wire_cla(uint8_t cla)
{
	return (uint8_t)(cla | ((cla & CLA_FURTHER) ? CLA_SM_FURTHER : CLA_SM));
}

static uint8_t plain_cla(uint8_t cla)
{
	return (uint8_t)(cla & ~((cla & CLA_FURTHER) ? CLA_SM_FURTHER : CLA_SM));
}

int ota_scp03_iu_cmd_encode(struct proto_buf *b, uint8_t kvn, const uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN])
{
	const uint8_t hdr[5] = { CLA_GP, INS_INITIALIZE_UPDATE, kvn, 0x00, OTA_SCP03_CHALLENGE_LEN };

	proto_buf_put(b, hdr, sizeof(hdr));
	proto_buf_put(b, host_challenge, OTA_SCP03_CHALLENGE_LEN);
	proto_buf_put_u8(b, 0x00);
	return proto_buf_status(b);
}

int ota_scp03_iu_cmd_decode(const uint8_t *apdu, size_t len, uint8_t *kvn,
			    uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN])
{
	struct proto_apdu a;
	int rc = proto_apdu_decode(apdu, len, &a);

	if (rc < 0)
		return rc;
	if ((apdu[0] & 0xF0) != CLA_GP || apdu[1] != INS_INITIALIZE_UPDATE || a.lc != OTA_SCP03_CHALLENGE_LEN)
		return -PROTO_E_MALFORMED;
	*kvn = apdu[2];
	memcpy(host_challenge, a.data, OTA_SCP03_CHALLENGE_LEN);
	return 0;
}

int ota_scp03_iu_rsp_decode(struct ota_scp03_iu_rsp *r, const uint8_t *data, size_t len)
{
	struct proto_cur c;

	memset(r, 0, sizeof(*r));
	if (len != IU_RSP_LEN && len != IU_RSP_LEN + OTA_SCP03_SEQ_LEN)
		return -PROTO_E_MALFORMED;
	proto_cur_init(&c, data, len);
	proto_cur_copy(&c, r->key_div, sizeof(r->key_div));
	r->kvn = proto_cur_u8(&c);
	r->scp = proto_cur_u8(&c);
	r->i = proto_cur_u8(&c);
	proto_cur_copy(&c, r->card_challenge, sizeof(r->card_challenge));
	proto_cur_copy(&c, r->card_cryptogram, sizeof(r->card_cryptogram));
	if (r->scp != SCP_ID)
		return -PROTO_E_UNSUPPORTED;
	r->has_seq = r->i & OTA_SCP03_I_PSEUDO_RANDOM;
	if (r->has_seq != (len == IU_RSP_LEN + OTA_SCP03_SEQ_LEN))
		return -PROTO_E_MALFORMED;
	if (r->has_seq)
		proto_cur_copy(&c, r->seq, sizeof(r->seq));
	return c.bad ? -PROTO_E_TRUNCATED : 0;
}

int ota_scp03_iu_rsp_encode(struct proto_buf *b, const struct ota_scp03_iu_rsp *r)
{
	proto_buf_put(b, r->key_div, sizeof(r->key_div));
	proto_buf_put_u8(b, r->kvn);
	proto_buf_put_u8(b, r->scp);
	proto_buf_put_u8(b, r->i);
	proto_buf_put(b, r->card_challenge, sizeof(r->card_challenge));
	proto_buf_put(b, r->card_cryptogram, sizeof(r->card_cryptogram));
	if (r->has_seq)
		proto_buf_put(b, r->seq, sizeof(r->seq));
	return proto_buf_status(b);
}

int ota_scp03_card_challenge(struct ota_key *key_enc, const uint8_t seq[OTA_SCP03_SEQ_LEN], const uint8_t *aid,
			     size_t aid_len, uint8_t out[OTA_SCP03_CHALLENGE_LEN])
{
	uint8_t context[OTA_SCP03_SEQ_LEN + 16];

	if (aid_len < 5 || aid_len > 16 || !key_is_aes(key_enc))
		return -EINVAL;
	memcpy(context, seq, OTA_SCP03_SEQ_LEN);
	memcpy(context + OTA_SCP03_SEQ_LEN, aid, aid_len);
	return ota_key_kdf_scp03(key_enc, OTA_SCP03_DC_CARD_CHALLENGE, context, OTA_SCP03_SEQ_LEN + aid_len, out,
				 OTA_SCP03_CHALLENGE_LEN);
}

static struct ota_scp03 *scp03_alloc(void *ctx)
{
	struct ota_scp03 *s = talloc_zero(ctx, struct ota_scp03);

	if (!s)
		return NULL;
	talloc_set_name_const(s, "ota_scp03");
	talloc_set_destructor(s, scp03_destructor);
	return s;
}

int ota_scp03_new(void *ctx, struct ota_key *key_enc, struct ota_key *key_mac,
		  const uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN],
		  const uint8_t card_challenge[OTA_SCP03_CHALLENGE_LEN], struct ota_scp03 **out)
{
	struct ota_scp03 *s;
	uint8_t context[2 * OTA_SCP03_CHALLENGE_LEN];
	int rc;

	*out = NULL;
	if (!key_is_aes(key_enc) || !key_is_aes(key_mac))
		return -EINVAL;
	s = scp03_alloc(ctx);
	if (!s)
		return -ENOMEM;
	memcpy(context, host_challenge, OTA_SCP03_CHALLENGE_LEN);
	memcpy(context + OTA_SCP03_CHALLENGE_LEN, card_challenge, OTA_SCP03_CHALLENGE_LEN);
	rc = ota_key_derive_scp03(key_enc, OTA_SCP03_DC_S_ENC, context, sizeof(context), ota_key_len(key_enc), s,
				  &s->s_enc);
	if (rc == 0)
		rc = ota_key_derive_scp03(key_mac, OTA_SCP03_DC_S_MAC, context, sizeof(context),
					  ota_key_len(key_mac), s, &s->s_mac);
	if (rc == 0)
		rc = ota_key_derive_scp03(key_mac, OTA_SCP03_DC_S_RMAC, context, sizeof(context),
					  ota_key_len(key_mac), s, &s->s_rmac);
	if (rc == 0)
		rc = ota_key_kdf_scp03(s->s_mac, OTA_SCP03_DC_CARD_CRYPTOGRAM, context, sizeof(context),
				       s->card_cryptogram, OTA_SCP03_CRYPTOGRAM_LEN);
	if (rc == 0)
		rc = ota_key_kdf_scp03(s->s_mac, OTA_SCP03_DC_HOST_CRYPTOGRAM, context, sizeof(context),
				       s->host_cryptogram, OTA_SCP03_CRYPTOGRAM_LEN);
	if (rc < 0) {
		talloc_free(s);
		return rc;
	}
	s->state = ST_KEYS;
	*out = s;
	return 0;
}

int ota_scp03_new_from_keys(void *ctx, struct ota_key *s_enc, struct ota_key *s_mac, struct ota_key *s_rmac,
			    const uint8_t mcv[OTA_SCP03_MCV_LEN], uint8_t sl, struct ota_scp03 **out)
{
	struct ota_scp03 *s;

	*out = NULL;
	if (!key_is_aes(s_enc) || !key_is_aes(s_mac) || (s_rmac && !key_is_aes(s_rmac)) ||
	    ((sl & OTA_SCP03_SL_R_MAC) && !s_rmac))
		return -EINVAL;
	s = scp03_alloc(ctx);
	if (!s)
		return -ENOMEM;
	s->s_enc = talloc_steal(s, s_enc);
	s->s_mac = talloc_steal(s, s_mac);
	s->s_rmac = s_rmac ? talloc_steal(s, s_rmac) : NULL;
	if (mcv)
		memcpy(s->mcv, mcv, OTA_SCP03_MCV_LEN);
	s->sl = sl;
	s->state = ST_OPEN;
	*out = s;
	return 0;
}

const uint8_t *ota_scp03_card_cryptogram(const struct ota_scp03 *s)
{
	return s->card_cryptogram;
}

const uint8_t *ota_scp03_host_cryptogram(const struct ota_scp03 *s)
{
	return s->host_cryptogram;
}

int ota_scp03_check_card_cryptogram(struct ota_scp03 *s, const uint8_t cryptogram[OTA_SCP03_CRYPTOGRAM_LEN])
{
	if (!ota_mem_equal(s->card_cryptogram, cryptogram, OTA_SCP03_CRYPTOGRAM_LEN))
		return fail_closed(s, -PROTO_E_INTEGRITY);
	return 0;
}

struct ota_key *ota_scp03_session_key(const struct ota_scp03 *s, enum ota_scp03_key which)
{
	switch (which) {
	case OTA_SCP03_S_ENC:
		return s->s_enc;
	case OTA_SCP03_S_MAC:
		return s->s_mac;
	case OTA_SCP03_S_RMAC:
		return s->s_rmac;
	default:
		return NULL;
	}
}

uint8_t ota_scp03_security_level(const struct ota_scp03 *s)
{
	return s->state == ST_OPEN ? s->sl : 0;
}

bool ota_scp03_is_open(const struct ota_scp03 *s)
{
	return s->state == ST_OPEN;
}

/* Open the session after EXTERNAL AUTHENTICATE: chain = its C-MAC, counter 0. */
static void open_session(struct ota_scp03 *s, uint8_t sl, const uint8_t full[AES_BLOCK])
{
	memcpy(s->mcv, full, AES_BLOCK);
	memset(s->ctr, 0, sizeof(s->ctr));
	s->sl = sl;
	s->state = ST_OPEN;
}

/* ---- APDU form ---------------------------------------------------------------------------------------------- */

/* EXTERNAL AUTHENTICATE in either form: hdr (APDU header or 85 L SL) || host cryptogram || C-MAC, the MAC over
 * a zero chaining value; opens the session on the MAC. */
static int ext_auth_encode(struct ota_scp03 *s, uint8_t sl, const uint8_t *hdr, size_t hdr_len, struct proto_buf *b)
{
	uint8_t full[AES_BLOCK];
	int rc;

	if (s->state != ST_KEYS)
		return -PROTO_E_STATE;
	if (!sl_valid(sl))
		return -EINVAL;
	rc = room(b, hdr_len + OTA_SCP03_CRYPTOGRAM_LEN + OTA_SCP03_MAC_LEN);
	if (rc < 0)
		return rc;
	memset(s->mcv, 0, sizeof(s->mcv));
	rc = cmd_mac(s, hdr, hdr_len, s->host_cryptogram, OTA_SCP03_CRYPTOGRAM_LEN, full);
	if (rc < 0)
		return fail_closed(s, rc);
	proto_buf_put(b, hdr, hdr_len);
	proto_buf_put(b, s->host_cryptogram, OTA_SCP03_CRYPTOGRAM_LEN);
	proto_buf_put(b, full, OTA_SCP03_MAC_LEN);
	open_session(s, sl, full);
	return proto_buf_status(b);
}

int ota_scp03_ext_auth_encode(struct ota_scp03 *s, uint8_t sl, struct proto_buf *b)
{
	const uint8_t hdr[5] = { CLA_GP | CLA_SM, INS_EXTERNAL_AUTHENTICATE, sl, 0x00,
				 OTA_SCP03_CRYPTOGRAM_LEN + OTA_SCP03_MAC_LEN };

	return ext_auth_encode(s, sl, hdr, sizeof(hdr), b);
}

int ota_scp03_ext_auth_check(struct ota_scp03 *s, const uint8_t *apdu, size_t len)
{
	uint8_t hdr[5], full[AES_BLOCK];
	struct proto_apdu a;
	int rc;

	if (s->state != ST_KEYS)
		return -PROTO_E_STATE;
	rc = proto_apdu_decode(apdu, len, &a);
	if (rc < 0)
		return rc;
	if (apdu[1] != INS_EXTERNAL_AUTHENTICATE || apdu[3] != 0x00 || a.le_present ||
	    a.lc != OTA_SCP03_CRYPTOGRAM_LEN + OTA_SCP03_MAC_LEN)
		return -PROTO_E_MALFORMED;
	if (!sl_valid(apdu[2]))
		return -EINVAL;
	memcpy(hdr, apdu, sizeof(hdr));
	hdr[0] = mac_cla(apdu[0]);
	memset(s->mcv, 0, sizeof(s->mcv));
	rc = cmd_mac(s, hdr, sizeof(hdr), a.data, OTA_SCP03_CRYPTOGRAM_LEN, full);
	if (rc < 0)
		return fail_closed(s, rc);
	/* evaluate both comparisons before branching */
	if (!((int)ota_mem_equal(a.data, s->host_cryptogram, OTA_SCP03_CRYPTOGRAM_LEN) &
	      (int)mac_ok(full, a.data + OTA_SCP03_CRYPTOGRAM_LEN)))
		return fail_closed(s, -PROTO_E_INTEGRITY);
	open_session(s, apdu[2], full);
	return 0;
}

int ota_scp03_wrap_cmd(struct ota_scp03 *s, const uint8_t *apdu, size_t len, struct proto_buf *out)
{
	struct proto_apdu a;
	uint8_t hdr[5], full[AES_BLOCK], *p;
	size_t dlen;
	bool enc;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	rc = proto_apdu_decode(apdu, len, &a);
	if (rc < 0)
		return rc;
	if (!(s->sl & OTA_SCP03_SL_C_MAC)) {
		proto_buf_put(out, apdu, len);
		return proto_buf_status(out);
	}
	enc = (s->sl & OTA_SCP03_SL_C_DEC) && a.lc > 0;
	dlen = enc ? pad_len(a.lc) : a.lc;
	if (dlen + OTA_SCP03_MAC_LEN > 0xFF)
		return -EMSGSIZE;
	rc = room(out, 5 + dlen + OTA_SCP03_MAC_LEN + a.le_present);
	if (rc < 0)
		return rc;

	/* the counter moves for every command, with or without data (Amd D 6.2.6) */
	rc = ctr_incr(s);
	if (rc < 0)
		return fail_closed(s, rc);
	p = proto_buf_reserve(out, 5 + dlen + OTA_SCP03_MAC_LEN + a.le_present);
	hdr[0] = mac_cla(a.cla);
	hdr[1] = a.ins;
	hdr[2] = a.p1;
	hdr[3] = a.p2;
	hdr[4] = (uint8_t)(dlen + OTA_SCP03_MAC_LEN);
	if (enc)
		rc = encrypt_into(s, false, a.data, a.lc, p + 5);
	else if (dlen)
		memcpy(p + 5, a.data, dlen);
	if (rc == 0)
		rc = cmd_mac(s, hdr, sizeof(hdr), p + 5, dlen, full);
	if (rc < 0) {
		out->len -= 5 + dlen + OTA_SCP03_MAC_LEN + a.le_present;
		return fail_closed(s, rc);
	}
	memcpy(s->mcv, full, AES_BLOCK);
	p[0] = wire_cla(a.cla);
	memcpy(p + 1, hdr + 1, 4);
	memcpy(p + 5 + dlen, full, OTA_SCP03_MAC_LEN);
	if (a.le_present)
		p[5 + dlen + OTA_SCP03_MAC_LEN] = a.le;
	return 0;
}

int ota_scp03_unwrap_cmd(struct ota_scp03 *s, const uint8_t *apdu, size_t len, struct proto_buf *out)
{
	struct proto_apdu a;
	uint8_t hdr[5], full[AES_BLOCK], *p;
	size_t clen, plen, start;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	rc = proto_apdu_decode(apdu, len, &a);
	if (rc < 0)
		return rc;
	if (!(s->sl & OTA_SCP03_SL_C_MAC)) {
		proto_buf_put(out, apdu, len);
		return proto_buf_status(out);
	}
	if (a.lc < OTA_SCP03_MAC_LEN)
		return fail_closed(s, -PROTO_E_INTEGRITY);	/* no room for a C-MAC: not a protected command */
	clen = a.lc - OTA_SCP03_MAC_LEN;
	rc = room(out, 5 + clen + a.le_present);
	if (rc < 0)
		return rc;

	rc = ctr_incr(s);
	if (rc < 0)
		return fail_closed(s, rc);
	hdr[0] = mac_cla(a.cla);
	hdr[1] = a.ins;
	hdr[2] = a.p1;
	hdr[3] = a.p2;
	hdr[4] = (uint8_t)a.lc;
	rc = cmd_mac(s, hdr, sizeof(hdr), a.data, clen, full);
	if (rc < 0)
		return fail_closed(s, rc);
	if (!mac_ok(full, a.data + clen))
		return fail_closed(s, -PROTO_E_INTEGRITY);
	memcpy(s->mcv, full, AES_BLOCK);

	start = out->len;
	p = proto_buf_reserve(out, 5 + clen + a.le_present);
	p[0] = plain_cla(a.cla);
	p[1] = a.ins;
	p[2] = a.p1;
	p[3] = a.p2;
	plen = clen;
	if ((s->sl & OTA_SCP03_SL_C_DEC) && clen > 0) {
		rc = decrypt_into(s, false, a.data, clen, p + 5, &plen);
		if (rc < 0) {
			out->len = start;
			return fail_closed(s, rc);
		}
	} else if (clen) {
		memcpy(p + 5, a.data, clen);
	}
	if (plen) {
		p[4] = (uint8_t)plen;
		if (a.le_present)
			p[5 + plen] = a.le;
		out->len = start + 5 + plen + a.le_present;
	} else {
		/* case 1 or 2: no Lc */
		if (a.le_present)
			p[4] = a.le;
		out->len = start + 4 + a.le_present;
	}
	return 0;
}

int ota_scp03_wrap_rsp(struct ota_scp03 *s, const uint8_t *data, size_t len, uint16_t sw, struct proto_buf *out)
{
	uint8_t swb[2] = { sw >> 8, sw & 0xff }, full[AES_BLOCK], *p;
	size_t dlen, maclen;
	bool enc;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	if (!sw_success(sw))
		return 0;	/* error status: only the SW goes back (Amd D 6.2.5) */
	enc = (s->sl & OTA_SCP03_SL_R_ENC) && len > 0;
	dlen = enc ? pad_len(len) : len;
	maclen = (s->sl & OTA_SCP03_SL_R_MAC) ? OTA_SCP03_MAC_LEN : 0;
	rc = room(out, dlen + maclen);
	if (rc < 0)
		return rc;
	p = proto_buf_reserve(out, dlen + maclen);
	if (enc)
		rc = encrypt_into(s, true, data, len, p);
	else if (dlen)
		memmove(p, data, dlen);
	if (rc == 0 && maclen) {
		struct ota_iov iov[3] = { { s->mcv, AES_BLOCK }, { p, dlen }, { swb, 2 } };
		rc = cmac(s->s_rmac, iov, 3, full);
		memcpy(p + dlen, full, OTA_SCP03_MAC_LEN);
	}
	if (rc < 0) {
		out->len -= dlen + maclen;
		return fail_closed(s, rc);
	}
	return 0;
}

int ota_scp03_unwrap_rsp(struct ota_scp03 *s, const uint8_t *data, size_t len, uint16_t sw, struct proto_buf *out)
{
	uint8_t swb[2] = { sw >> 8, sw & 0xff }, full[AES_BLOCK], *p;
	size_t blen = len, plen;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	if (!sw_success(sw) || !(s->sl & (OTA_SCP03_SL_R_MAC | OTA_SCP03_SL_R_ENC))) {
		proto_buf_put(out, data, len);
		return proto_buf_status(out);
	}
	if (s->sl & OTA_SCP03_SL_R_MAC) {
		struct ota_iov iov[3];

		if (len < OTA_SCP03_MAC_LEN)
			return fail_closed(s, -PROTO_E_INTEGRITY);
		blen = len - OTA_SCP03_MAC_LEN;
		iov[0] = (struct ota_iov){ s->mcv, AES_BLOCK };
		iov[1] = (struct ota_iov){ data, blen };
		iov[2] = (struct ota_iov){ swb, 2 };
		rc = cmac(s->s_rmac, iov, 3, full);
		if (rc < 0)
			return fail_closed(s, rc);
		if (!mac_ok(full, data + blen))
			return fail_closed(s, -PROTO_E_INTEGRITY);
	}
	if (!(s->sl & OTA_SCP03_SL_R_ENC) || blen == 0) {
		proto_buf_put(out, data, blen);
		return proto_buf_status(out);
	}
	rc = room(out, blen);
	if (rc < 0)
		return rc;
	p = proto_buf_reserve(out, blen);
	rc = decrypt_into(s, true, data, blen, p, &plen);
	if (rc < 0) {
		out->len -= blen;
		return fail_closed(s, rc);
	}
	out->len -= blen - plen;
	return 0;
}

/* ---- TLV form (SCP03t) ---------------------------------------------------------------------------------------- */


static bool tlv_is_error(const struct proto_tlv *t)
{
	return t->tag_len == 2 && (t->tag >> 8) == ERR_TLV_TAG1;
}

int ota_scp03t_iu_encode(struct proto_buf *b, uint8_t kvn, uint8_t kid,
			 const uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN])
{
	uint8_t v[2 + OTA_SCP03_CHALLENGE_LEN] = { kvn, kid };

	memcpy(v + 2, host_challenge, OTA_SCP03_CHALLENGE_LEN);
	proto_tlv_put(b, OTA_SCP03T_TAG_IU, v, sizeof(v));
	return proto_buf_status(b);
}

int ota_scp03t_iu_decode(const uint8_t *tlv, size_t len, uint8_t *kvn, uint8_t *kid,
			 uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN])
{
	struct proto_tlv t;
	int rc = proto_tlv_decode_exact(tlv, len, &t);

	if (rc < 0)
		return rc;
	if (t.tag != OTA_SCP03T_TAG_IU || t.len != 2 + OTA_SCP03_CHALLENGE_LEN)
		return -PROTO_E_MALFORMED;
	*kvn = t.val[0];
	*kid = t.val[1];
	memcpy(host_challenge, t.val + 2, OTA_SCP03_CHALLENGE_LEN);
	return 0;
}

int ota_scp03t_iu_rsp_encode(struct proto_buf *b, const struct ota_scp03_iu_rsp *r)
{
	size_t mark = proto_tlv_open(b, OTA_SCP03T_TAG_IU);

	ota_scp03_iu_rsp_encode(b, r);
	proto_tlv_close(b, mark);
	return proto_buf_status(b);
}

int ota_scp03t_iu_rsp_decode(struct ota_scp03_iu_rsp *r, const uint8_t *tlv, size_t len)
{
	struct proto_tlv t;
	int rc = proto_tlv_decode_exact(tlv, len, &t);

	memset(r, 0, sizeof(*r));
	if (rc < 0)
		return rc;
	if (tlv_is_error(&t))
		return -EREMOTEIO;
	if (t.tag != OTA_SCP03T_TAG_IU)
		return -PROTO_E_MALFORMED;
	return ota_scp03_iu_rsp_decode(r, t.val, t.len);
}

int ota_scp03t_ext_auth_encode(struct ota_scp03 *s, uint8_t sl, struct proto_buf *b)
{
	const uint8_t hdr[3] = { OTA_SCP03T_TAG_EA, 1 + OTA_SCP03_CRYPTOGRAM_LEN + OTA_SCP03_MAC_LEN, sl };

	return ext_auth_encode(s, sl, hdr, sizeof(hdr), b);
}

int ota_scp03t_ext_auth_check(struct ota_scp03 *s, const uint8_t *tlv, size_t len)
{
	struct proto_tlv t;
	uint8_t full[AES_BLOCK];
	int rc;

	if (s->state != ST_KEYS)
		return -PROTO_E_STATE;
	rc = proto_tlv_decode_exact(tlv, len, &t);
	if (rc < 0)
		return rc;
	if (t.tag != OTA_SCP03T_TAG_EA || t.len != 1 + OTA_SCP03_CRYPTOGRAM_LEN + OTA_SCP03_MAC_LEN ||
	    t.val != tlv + 2)
		return -PROTO_E_MALFORMED;
	if (!sl_valid(t.val[0]))
		return -EINVAL;
	memset(s->mcv, 0, sizeof(s->mcv));
	/* MAC input: chain || 85 11 SL host-cryptogram, i.e. the TLV as received without the MAC */
	rc = cmd_mac(s, tlv, 3, t.val + 1, OTA_SCP03_CRYPTOGRAM_LEN, full);
	if (rc < 0)
		return fail_closed(s, rc);
	/* evaluate both comparisons before branching */
	if (!((int)ota_mem_equal(t.val + 1, s->host_cryptogram, OTA_SCP03_CRYPTOGRAM_LEN) &
	      (int)mac_ok(full, t.val + 1 + OTA_SCP03_CRYPTOGRAM_LEN)))
		return fail_closed(s, -PROTO_E_INTEGRITY);
	open_session(s, t.val[0], full);
	return 0;
}

int ota_scp03t_ext_auth_rsp_encode(struct proto_buf *b)
{
	proto_tlv_put(b, OTA_SCP03T_TAG_EA, NULL, 0);
	return proto_buf_status(b);
}

int ota_scp03t_ext_auth_rsp_check(const uint8_t *tlv, size_t len)
{
	struct proto_tlv t;
	int rc = proto_tlv_decode_exact(tlv, len, &t);

	if (rc < 0)
		return rc;
	if (tlv_is_error(&t))
		return -EREMOTEIO;
	return (t.tag == OTA_SCP03T_TAG_EA && t.len == 0) ? 0 : -PROTO_E_MALFORMED;
}

/* Write tag || BER(L) and reserve L bytes; returns the start of the TLV, the header length and the value. */
static uint8_t *tlv_reserve(struct proto_buf *out, uint32_t tag, size_t l, size_t *hlen, uint8_t **val)
{
	size_t start = out->len;

	proto_tlv_put_tag(out, tag);
	proto_tlv_put_len(out, l);
	*hlen = out->len - start;
	*val = proto_buf_reserve(out, l);
	return *val ? out->data + start : NULL;
}

static size_t tlv_size(uint32_t tag, size_t l)
{
	return proto_tlv_tag_size(tag) + proto_tlv_len_size(l) + l;
}

int ota_scp03t_wrap_tlv(struct ota_scp03 *s, uint32_t tag, bool encrypt, const uint8_t *data, size_t len,
			struct proto_buf *out)
{
	uint8_t full[AES_BLOCK], *hdr, *val;
	size_t dlen, l, hlen, start = out->len;
	bool enc = encrypt && len > 0;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	if (tag == 0 || tag > 0xFFFFFF)
		return -EINVAL;
	dlen = enc ? pad_len(len) : len;
	l = dlen + OTA_SCP03_MAC_LEN;
	if (l > PROTO_TLV_MAX_LEN)
		return -EMSGSIZE;
	rc = room(out, tlv_size(tag, l));
	if (rc < 0)
		return rc;

	rc = ctr_incr(s);	/* per TLV, also for MAC-only ones */
	if (rc < 0)
		return fail_closed(s, rc);
	hdr = tlv_reserve(out, tag, l, &hlen, &val);
	if (enc)
		rc = encrypt_into(s, false, data, len, val);
	else if (dlen)
		memmove(val, data, dlen);
	if (rc == 0)
		rc = cmd_mac(s, hdr, hlen, val, dlen, full);
	if (rc < 0) {
		out->len = start;
		return fail_closed(s, rc);
	}
	memcpy(s->mcv, full, AES_BLOCK);
	memcpy(val + dlen, full, OTA_SCP03_MAC_LEN);
	return 0;
}

int ota_scp03t_unwrap_tlv(struct ota_scp03 *s, uint32_t tag, bool decrypt, const uint8_t *tlv, size_t len,
			  struct proto_buf *out)
{
	struct proto_tlv t;
	uint8_t full[AES_BLOCK], *p;
	size_t clen, plen;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	rc = proto_tlv_decode_exact(tlv, len, &t);
	if (rc < 0)
		return rc;
	if (t.tag != tag)
		return -PROTO_E_MALFORMED;
	if (t.len < OTA_SCP03_MAC_LEN)
		return fail_closed(s, -PROTO_E_INTEGRITY);
	clen = t.len - OTA_SCP03_MAC_LEN;
	rc = room(out, clen);
	if (rc < 0)
		return rc;

	rc = ctr_incr(s);
	if (rc < 0)
		return fail_closed(s, rc);
	/* MAC over the header exactly as received */
	rc = cmd_mac(s, tlv, (size_t)(t.val - tlv), t.val, clen, full);
	if (rc < 0)
		return fail_closed(s, rc);
	if (!mac_ok(full, t.val + clen))
		return fail_closed(s, -PROTO_E_INTEGRITY);
	memcpy(s->mcv, full, AES_BLOCK);
	if (!decrypt || clen == 0) {
		proto_buf_put(out, t.val, clen);
		return proto_buf_status(out);
	}
	p = proto_buf_reserve(out, clen);
	rc = decrypt_into(s, false, t.val, clen, p, &plen);
	if (rc < 0) {
		out->len -= clen;
		return fail_closed(s, rc);
	}
	out->len -= clen - plen;
	return 0;
}

int ota_scp03t_wrap_cmd(struct ota_scp03 *s, const uint8_t *data, size_t len, struct proto_buf *out)
{
	return ota_scp03t_wrap_tlv(s, OTA_SCP03T_TAG_DATA, s->sl & OTA_SCP03_SL_C_DEC, data, len, out);
}

int ota_scp03t_unwrap_cmd(struct ota_scp03 *s, const uint8_t *tlv, size_t len, struct proto_buf *out)
{
	return ota_scp03t_unwrap_tlv(s, OTA_SCP03T_TAG_DATA, s->sl & OTA_SCP03_SL_C_DEC, tlv, len, out);
}

int ota_scp03t_wrap_rsp(struct ota_scp03 *s, const uint8_t *data, size_t len, struct proto_buf *out)
{
	uint8_t full[AES_BLOCK], *hdr, *val;
	size_t dlen, maclen, l, hlen, start = out->len;
	bool enc;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	if (len == 0) {
		proto_tlv_put(out, OTA_SCP03T_TAG_DATA, NULL, 0);
		return proto_buf_status(out);
	}
	enc = s->sl & OTA_SCP03_SL_R_ENC;
	dlen = enc ? pad_len(len) : len;
	maclen = (s->sl & OTA_SCP03_SL_R_MAC) ? OTA_SCP03_MAC_LEN : 0;
	l = dlen + maclen;
	if (l > PROTO_TLV_MAX_LEN)
		return -EMSGSIZE;
	rc = room(out, tlv_size(OTA_SCP03T_TAG_DATA, l));
	if (rc < 0)
		return rc;
	hdr = tlv_reserve(out, OTA_SCP03T_TAG_DATA, l, &hlen, &val);
	if (enc)
		rc = encrypt_into(s, true, data, len, val);
	else
		memmove(val, data, dlen);
	if (rc == 0 && maclen) {
		struct ota_iov iov[3] = { { s->mcv, AES_BLOCK }, { hdr, hlen }, { val, dlen } };
		rc = cmac(s->s_rmac, iov, 3, full);
		memcpy(val + dlen, full, OTA_SCP03_MAC_LEN);
	}
	if (rc < 0) {
		out->len = start;
		return fail_closed(s, rc);
	}
	return 0;
}

int ota_scp03t_unwrap_rsp(struct ota_scp03 *s, const uint8_t *tlv, size_t len, struct proto_buf *out)
{
	struct proto_tlv t;
	uint8_t full[AES_BLOCK], *p;
	size_t clen, plen;
	int rc;

	if (s->state != ST_OPEN)
		return -PROTO_E_STATE;
	rc = proto_tlv_decode_exact(tlv, len, &t);
	if (rc < 0)
		return rc;
	if (tlv_is_error(&t))
		return -EREMOTEIO;
	if (t.tag != OTA_SCP03T_TAG_DATA)
		return -PROTO_E_MALFORMED;
	if (t.len == 0)
		return 0;	/* '86 00': OK without data */
	clen = t.len;
	if (s->sl & OTA_SCP03_SL_R_MAC) {
		struct ota_iov iov[3];

		if (t.len < OTA_SCP03_MAC_LEN)
			return fail_closed(s, -PROTO_E_INTEGRITY);
		clen -= OTA_SCP03_MAC_LEN;
		iov[0] = (struct ota_iov){ s->mcv, AES_BLOCK };
		iov[1] = (struct ota_iov){ tlv, (size_t)(t.val - tlv) };
		iov[2] = (struct ota_iov){ t.val, clen };
		rc = cmac(s->s_rmac, iov, 3, full);
		if (rc < 0)
			return fail_closed(s, rc);
		if (!mac_ok(full, t.val + clen))
			return fail_closed(s, -PROTO_E_INTEGRITY);
	}
	if (!(s->sl & OTA_SCP03_SL_R_ENC)) {
		proto_buf_put(out, t.val, clen);
		return proto_buf_status(out);
	}
	rc = room(out, clen);
	if (rc < 0)
		return rc;
	p = proto_buf_reserve(out, clen);
	rc = decrypt_into(s, true, t.val, clen, p, &plen);
	if (rc < 0) {
		out->len -= clen;
		return fail_closed(s, rc);
	}
	out->len -= clen - plen;
	return 0;
}
