/* GP Amendment E Scenario #3 (ECKA-EG) key establishment for SGP.02 ES8/ES7: CRT, signed data, STORE DATA,
 * key derivation and receipt, for the SM-DP and the ECASD side (crypto.md §A). */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "ota/gp_ecka.h"

#define DGI_LONG	0xFF	/*!< DGI length escape: FF xxxx */
#define DGI_MAX		0xFFFF
#define CRT_MAX		128	/*!< room for an encoded CRT */
#define SI_MAX		(3 + 32)	/*!< SharedInfo: KUQ type len DR(<=32) */
#define SIGNED_MAX	600	/*!< signed data of a short STORE DATA */

/* STORE DATA (GPCS 11.11, Table 11-89) */
enum {
	CLA_GP = 0x80,
	INS_STORE_DATA = 0xE2,
	P1_CERT = 0x09,		/*!< not last block, DGI, response expected */
	P1_KEYPARAMS = 0x89,	/*!< last block, DGI, response expected */
	P2_CERT = 0x00,
	P2_KEYPARAMS = 0x01,
};

static size_t dgi_size(size_t len)
{
	return 2 + (len < DGI_LONG ? 1 : 3) + len;
}

static void put_dgi(struct proto_buf *b, uint16_t tag, const uint8_t *val, size_t len)
{
	proto_buf_put_u16(b, tag);
	if (len > DGI_MAX) {
		b->overflow = true;
		return;
	}
	if (len < DGI_LONG) {
		proto_buf_put_u8(b, (uint8_t)len);
	} else {
		proto_buf_put_u8(b, DGI_LONG);
		proto_buf_put_u16(b, (uint16_t)len);
	}
	proto_buf_put(b, val, len);
}

/* Read one DGI at the cursor: 0 and tag/value, or a negative error. */
static int get_dgi(struct proto_cur *c, uint16_t *tag, const uint8_t **val, size_t *len)
{
	uint8_t l;

	*tag = proto_cur_u16(c);
	l = proto_cur_u8(c);
	*len = l == DGI_LONG ? proto_cur_u16(c) : l;
	*val = proto_cur_get(c, *len);
	return c->bad ? -PROTO_E_TRUNCATED : 0;
}

/* ---- CRT ----------------------------------------------------------------------------------------------------- */

int ota_ecka_crt_encode(struct proto_buf *b, const struct ota_ecka_crt *crt)
{
	const uint8_t scenario[2] = { OTA_ECKA_SCENARIO_3, crt->scenario_params };
	size_t mark = proto_tlv_open(b, OTA_ECKA_TAG_CRT);

	proto_tlv_put(b, OTA_ECKA_TAG_SCENARIO, scenario, sizeof(scenario));
	proto_tlv_put(b, OTA_ECKA_TAG_KUQ, &crt->kuq, 1);
	if (crt->has_key_access)
		proto_tlv_put(b, OTA_ECKA_TAG_KEY_ACCESS, &crt->key_access, 1);
	proto_tlv_put(b, OTA_ECKA_TAG_KEY_TYPE, &crt->key_type, 1);
	proto_tlv_put(b, OTA_ECKA_TAG_KEY_LEN, &crt->key_len, 1);
	proto_tlv_put(b, OTA_ECKA_TAG_KEY_ID, &crt->key_id, 1);
	proto_tlv_put(b, OTA_ECKA_TAG_KVN, &crt->kvn, 1);
	proto_tlv_put(b, OTA_ECKA_TAG_COUNTER, crt->counter, crt->counter_len);
	if (crt->sdin)
		proto_tlv_put(b, OTA_ECKA_TAG_SDIN, crt->sdin, crt->sdin_len);
	if (crt->host_id)
		proto_tlv_put(b, OTA_ECKA_TAG_HOST_ID, crt->host_id, crt->host_id_len);
	proto_tlv_close(b, mark);
	return proto_buf_status(b);
}

/* bit per known CRT tag, to refuse duplicates and check the mandatory ones */
enum crt_bit {
	B_SCENARIO = 1 << 0, B_KUQ = 1 << 1, B_ACCESS = 1 << 2, B_TYPE = 1 << 3, B_LEN = 1 << 4, B_ID = 1 << 5,
	B_KVN = 1 << 6, B_COUNTER = 1 << 7, B_SDIN = 1 << 8, B_HOST = 1 << 9,
	B_MANDATORY = B_SCENARIO | B_KUQ | B_TYPE | B_LEN | B_ID | B_KVN,
};

int ota_ecka_crt_decode(struct ota_ecka_crt *crt, const uint8_t *in, size_t len)
{
	struct proto_tlv outer, t;
	struct proto_tlv_iter it;
	unsigned seen = 0, bit;
	uint8_t *one;
	int rc;

	memset(crt, 0, sizeof(*crt));
	rc = proto_tlv_decode_exact(in, len, &outer);
	if (rc < 0)
		goto fail;
	if (outer.tag != OTA_ECKA_TAG_CRT)
		goto malformed;
	proto_tlv_iter_init(&it, outer.val, outer.len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		one = NULL;
		switch (t.tag) {
		case OTA_ECKA_TAG_SCENARIO:
			bit = B_SCENARIO;
			if (t.len != 2)
				goto malformed;
			if (t.val[0] != OTA_ECKA_SCENARIO_3) {
				rc = -PROTO_E_UNSUPPORTED;
				goto fail;
			}
			crt->scenario_params = t.val[1];
			break;
		case OTA_ECKA_TAG_KUQ:
			bit = B_KUQ;
			one = &crt->kuq;
			break;
		case OTA_ECKA_TAG_KEY_ACCESS:
			bit = B_ACCESS;
			one = &crt->key_access;
			crt->has_key_access = true;
			break;
		case OTA_ECKA_TAG_KEY_TYPE:
			bit = B_TYPE;
			one = &crt->key_type;
			break;
		case OTA_ECKA_TAG_KEY_LEN:
			bit = B_LEN;
			one = &crt->key_len;
			break;
		case OTA_ECKA_TAG_KEY_ID:
			bit = B_ID;
			one = &crt->key_id;
			break;
		case OTA_ECKA_TAG_KVN:
			bit = B_KVN;
			one = &crt->kvn;
			break;
		case OTA_ECKA_TAG_COUNTER:
			bit = B_COUNTER;
			crt->counter = t.val;
			crt->counter_len = t.len;
			break;
		case OTA_ECKA_TAG_SDIN:
			bit = B_SDIN;
			crt->sdin = t.val;
			crt->sdin_len = t.len;
			break;
		case OTA_ECKA_TAG_HOST_ID:
			bit = B_HOST;
			crt->host_id = t.val;
			crt->host_id_len = t.len;
			break;
		default:
			goto malformed;
		}
		if (seen & bit)
			goto malformed;
		seen |= bit;
		if (one) {
			if (t.len != 1)
				goto malformed;
			*one = t.val[0];
		}
	}
	if (rc < 0)
		goto fail;
	if ((seen & B_MANDATORY) != B_MANDATORY)
		goto malformed;
	return 0;

malformed:
	rc = -PROTO_E_MALFORMED;
fail:
	memset(crt, 0, sizeof(*crt));
	return rc;
}

/* ---- derivation and receipt ---------------------------------------------------------------------------------- */

static bool dr_len_ok(size_t len)
{
	return len == 16 || len == 24 || len == 32;	/* GP Amd A Table 3-27 */
}

int ota_ecka_shared_info(struct proto_buf *b, const struct ota_ecka_crt *crt, const uint8_t *dr, size_t dr_len)
{
	bool want_dr = crt->scenario_params & OTA_ECKA_SP_DR;

	if (crt->scenario_params & OTA_ECKA_SP_HOST_ID)
		return -PROTO_E_UNSUPPORTED;	/* HostID-LV || IIN/CIN or SIN/SDIN: sources disagree (§A.6) */
	if (want_dr != (dr != NULL) || (dr && !dr_len_ok(dr_len)))
		return -EINVAL;
	proto_buf_put_u8(b, crt->kuq);
	proto_buf_put_u8(b, crt->key_type);
	proto_buf_put_u8(b, crt->key_len);
	if (dr)
		proto_buf_put(b, dr, dr_len);
	return proto_buf_status(b);
}

void ota_ecka_keys_free(struct ota_ecka_keys *k)
{
	unsigned i;

	if (!k)
		return;
	talloc_free(k->receipt);
	for (i = 0; i < OTA_ECKA_MAX_KEYS; i++)
		talloc_free(k->key[i]);
	memset(k, 0, sizeof(*k));
}

int ota_ecka_derive(void *ctx, struct ota_eckey *own, const struct proto_ec_pub *peer,
		    const struct ota_ecka_crt *crt, const uint8_t *dr, size_t dr_len, struct ota_ecka_keys *out)
{
	uint8_t si[SI_MAX];
	struct proto_buf b;
	struct ota_key *keys[1 + OTA_ECKA_MAX_KEYS];
	size_t lens[1 + OTA_ECKA_MAX_KEYS];
	unsigned n, i;
	int rc;

	memset(out, 0, sizeof(*out));
	switch (crt->kuq) {
	case OTA_ECKA_KUQ_SC_KEYS:
		n = 3;
		break;
	case OTA_ECKA_KUQ_BASE_KEY:
		n = 1;
		break;
	default:
		return -PROTO_E_UNSUPPORTED;
	}
	if (crt->key_type != OTA_ECKA_KEY_TYPE_AES || crt->key_len != 16)
		return -PROTO_E_UNSUPPORTED;
	proto_buf_init(&b, si, sizeof(si));
	rc = ota_ecka_shared_info(&b, crt, dr, dr_len);
	if (rc < 0)
		return rc;
	/* KeyData = receipt key || key 1 [|| key 2 || key 3]; the receipt key is 16 bytes like the keys */
	for (i = 0; i <= n; i++)
		lens[i] = crt->key_len;
	rc = ota_eckey_agree(own, peer, si, b.len, lens, n + 1, ctx, keys);
	if (rc < 0)
		return rc;
	out->receipt = keys[0];
	for (i = 0; i < n; i++)
		out->key[i] = keys[1 + i];
	out->nkeys = n;
	return 0;
}

int ota_ecka_receipt(struct ota_key *receipt_key, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *dr,
		     size_t dr_len, uint8_t out[OTA_ECKA_RECEIPT_LEN])
{
	uint8_t hdr[2] = { OTA_ECKA_TAG_RC_DR, (uint8_t)dr_len };
	struct ota_iov iov[3] = { { crt_tlv, crt_len }, { hdr, sizeof(hdr) }, { dr, dr_len } };

	if (dr && !dr_len_ok(dr_len))
		return -EINVAL;
	return ota_key_mac(receipt_key, OTA_MAC_AES_CMAC, iov, dr ? 3 : 1, out, OTA_ECKA_RECEIPT_LEN);
}

int ota_ecka_receipt_verify(struct ota_key *receipt_key, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *dr,
			    size_t dr_len, const uint8_t *receipt, size_t receipt_len)
{
	uint8_t want[OTA_ECKA_RECEIPT_LEN];
	int rc;

	if (receipt_len != OTA_ECKA_RECEIPT_LEN)
		return -PROTO_E_INTEGRITY;
	rc = ota_ecka_receipt(receipt_key, crt_tlv, crt_len, dr, dr_len, want);
	if (rc < 0)
		return rc;
	rc = ota_mem_equal(want, receipt, OTA_ECKA_RECEIPT_LEN) ? 0 : -PROTO_E_INTEGRITY;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/* ---- signed data and STORE DATA ------------------------------------------------------------------------------ */

int ota_ecka_signed_data(struct proto_buf *b, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			 size_t epk_len, const uint8_t *rc, size_t rc_len)
{
	put_dgi(b, OTA_ECKA_DGI_KEYPARAMS, crt_tlv, crt_len);
	proto_tlv_put(b, OTA_ECKA_TAG_EPK, epk, epk_len);	/* raw 04||X||Y, no B0/F0 inside (§A.3) */
	put_dgi(b, OTA_ECKA_DGI_RC, rc, rc_len);
	return proto_buf_status(b);
}

int ota_ecka_keyparams_sign(struct ota_eckey *sk, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			    size_t epk_len, const uint8_t *rc, size_t rc_len, uint8_t sig[PROTO_EC_SIG_LEN])
{
	uint8_t buf[SIGNED_MAX];
	struct proto_buf b;
	int ret;

	proto_buf_init(&b, buf, sizeof(buf));
	ret = ota_ecka_signed_data(&b, crt_tlv, crt_len, epk, epk_len, rc, rc_len);
	if (ret < 0)
		return ret == -PROTO_E_NOSPACE ? -EMSGSIZE : ret;
	return ota_eckey_sign(sk, b.data, b.len, sig);
}

static size_t keyparams_size(size_t crt_len, size_t epk_len, size_t sig_len)
{
	return dgi_size(crt_len) + proto_tlv_tag_size(OTA_ECKA_TAG_EPK) + proto_tlv_len_size(epk_len) + epk_len +
	       proto_tlv_tag_size(OTA_ECKA_TAG_SIGNATURE) + proto_tlv_len_size(sig_len) + sig_len;
}

int ota_ecka_keyparams_payload(struct proto_buf *b, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			       size_t epk_len, const uint8_t *sig, size_t sig_len)
{
	put_dgi(b, OTA_ECKA_DGI_KEYPARAMS, crt_tlv, crt_len);
	proto_tlv_put(b, OTA_ECKA_TAG_EPK, epk, epk_len);
	proto_tlv_put(b, OTA_ECKA_TAG_SIGNATURE, sig, sig_len);
	return proto_buf_status(b);
}

static void put_store_data_hdr(struct proto_buf *b, uint8_t p1, uint8_t p2, size_t lc)
{
	const uint8_t hdr[5] = { CLA_GP, INS_STORE_DATA, p1, p2, (uint8_t)lc };

	proto_buf_put(b, hdr, sizeof(hdr));
}

int ota_ecka_keyparams_apdu(struct proto_buf *b, const uint8_t *crt_tlv, size_t crt_len, const uint8_t *epk,
			    size_t epk_len, const uint8_t *sig, size_t sig_len)
{
	size_t lc = keyparams_size(crt_len, epk_len, sig_len);

	if (lc > 0xFF)
		return -EMSGSIZE;
	put_store_data_hdr(b, P1_KEYPARAMS, P2_KEYPARAMS, lc);
	return ota_ecka_keyparams_payload(b, crt_tlv, crt_len, epk, epk_len, sig, sig_len);
}

int ota_ecka_keyparams_decode(struct ota_ecka_keyparams *kp, const uint8_t *payload, size_t len)
{
	struct proto_cur c;
	struct proto_tlv crt, t;
	const uint8_t *val;
	size_t vlen;
	uint16_t tag;
	int rc;

	memset(kp, 0, sizeof(*kp));
	proto_cur_init(&c, payload, len);
	rc = get_dgi(&c, &tag, &val, &vlen);
	if (rc < 0)
		goto fail;
	if (tag != OTA_ECKA_DGI_KEYPARAMS)
		goto malformed;
	rc = proto_tlv_decode(val, vlen, &crt);
	if (rc < 0)
		goto fail;
	if (crt.tag != OTA_ECKA_TAG_CRT || crt.indefinite || (size_t)rc != vlen)
		goto malformed;
	kp->dgi = payload;
	kp->dgi_len = (size_t)(c.p - payload);
	kp->crt = crt.raw;
	kp->crt_len = crt.raw_len;

	rc = proto_tlv_decode(c.p, proto_cur_left(&c), &t);
	if (rc < 0)
		goto fail;
	if (t.tag != OTA_ECKA_TAG_EPK || t.indefinite)
		goto malformed;
	kp->epk = t.val;
	kp->epk_len = t.len;
	proto_cur_get(&c, (size_t)rc);

	rc = proto_tlv_decode(c.p, proto_cur_left(&c), &t);
	if (rc < 0)
		goto fail;
	if (t.tag != OTA_ECKA_TAG_SIGNATURE || t.indefinite)
		goto malformed;
	kp->sig = t.val;
	kp->sig_len = t.len;
	proto_cur_get(&c, (size_t)rc);
	if (proto_cur_left(&c)) {
		rc = -PROTO_E_TRAILING;
		goto fail;
	}
	return 0;

malformed:
	rc = -PROTO_E_MALFORMED;
fail:
	memset(kp, 0, sizeof(*kp));
	return rc;
}

int ota_ecka_keyparams_verify(const struct proto_ec_pub *pk, const struct ota_ecka_keyparams *kp, const uint8_t *rc,
			      size_t rc_len)
{
	uint8_t buf[SIGNED_MAX];
	struct proto_buf b;

	if (!kp->dgi || !kp->epk || !kp->sig)
		return -PROTO_E_MALFORMED;
	/* signed data = the received 3A02 DGI and 7F49 TLV exactly as sent (contiguous) || 0085 L RC */
	proto_buf_init(&b, buf, sizeof(buf));
	proto_buf_put(&b, kp->dgi, (size_t)(kp->epk + kp->epk_len - kp->dgi));
	put_dgi(&b, OTA_ECKA_DGI_RC, rc, rc_len);
	if (proto_buf_status(&b) < 0)
		return -EMSGSIZE;
	return proto_ec_verify(pk, b.data, b.len, kp->sig, kp->sig_len);
}

int ota_ecka_cert_apdu(struct proto_buf *b, const uint8_t *cert, size_t cert_len)
{
	size_t lc = dgi_size(cert_len);

	if (lc > 0xFF)
		return -EMSGSIZE;
	put_store_data_hdr(b, P1_CERT, P2_CERT, lc);
	put_dgi(b, OTA_ECKA_DGI_CERT, cert, cert_len);
	return proto_buf_status(b);
}

int ota_ecka_cert_payload_decode(const uint8_t *payload, size_t len, const uint8_t **cert, size_t *cert_len)
{
	struct proto_cur c;
	uint16_t tag;
	int rc;

	*cert = NULL;
	*cert_len = 0;
	proto_cur_init(&c, payload, len);
	rc = get_dgi(&c, &tag, cert, cert_len);
	if (rc == 0 && tag != OTA_ECKA_DGI_CERT)
		rc = -PROTO_E_MALFORMED;
	if (rc == 0 && proto_cur_left(&c))
		rc = -PROTO_E_TRAILING;
	if (rc < 0) {
		*cert = NULL;
		*cert_len = 0;
	}
	return rc;
}

/* ---- card responses ------------------------------------------------------------------------------------------ */

int ota_ecka_challenge_encode(struct proto_buf *b, const uint8_t *rc, size_t rc_len)
{
	proto_tlv_put(b, OTA_ECKA_TAG_RC_DR, rc, rc_len);
	return proto_buf_status(b);
}

int ota_ecka_challenge_decode(const uint8_t *rsp, size_t len, const uint8_t **rc, size_t *rc_len)
{
	struct proto_tlv t;
	int ret;

	*rc = NULL;
	*rc_len = 0;
	ret = proto_tlv_decode(rsp, len, &t);
	if (ret < 0)
		return ret;
	if ((size_t)ret != len)
		return -PROTO_E_TRAILING;
	if (t.tag != OTA_ECKA_TAG_RC_DR || t.len != OTA_ECKA_RC_LEN)
		return -PROTO_E_MALFORMED;
	*rc = t.val;
	*rc_len = t.len;
	return 0;
}

int ota_ecka_receipt_rsp_encode(struct proto_buf *b, const uint8_t *dr, size_t dr_len,
				const uint8_t receipt[OTA_ECKA_RECEIPT_LEN])
{
	if (dr)
		proto_tlv_put(b, OTA_ECKA_TAG_RC_DR, dr, dr_len);
	proto_tlv_put(b, OTA_ECKA_TAG_RECEIPT, receipt, OTA_ECKA_RECEIPT_LEN);
	return proto_buf_status(b);
}

int ota_ecka_receipt_rsp_decode(const uint8_t *rsp, size_t len, const uint8_t **dr, size_t *dr_len,
				const uint8_t **receipt)
{
	struct proto_tlv_iter it;
	struct proto_tlv t;
	int rc, n = 0;

	*dr = NULL;
	*dr_len = 0;
	*receipt = NULL;
	proto_tlv_iter_init(&it, rsp, len);
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0) {
		if (*receipt) {
			rc = -PROTO_E_TRAILING;
			break;
		}
		if (n == 0 && t.tag == OTA_ECKA_TAG_RC_DR && dr_len_ok(t.len)) {
			*dr = t.val;
			*dr_len = t.len;
		} else if (t.tag == OTA_ECKA_TAG_RECEIPT && t.len == OTA_ECKA_RECEIPT_LEN) {
			*receipt = t.val;
		} else {
			rc = -PROTO_E_MALFORMED;
			break;
		}
		n++;
	}
	if (rc == 0 && !*receipt)
		rc = -PROTO_E_MALFORMED;
	if (rc < 0) {
		*dr = NULL;
		*dr_len = 0;
		*receipt = NULL;
		return rc;
	}
	return 0;
}

/* ---- the two sides ------------------------------------------------------------------------------------------- */

int ota_ecka_dp_keyparams(void *ctx, struct ota_eckey *sk, uint8_t curve, const struct ota_ecka_crt *crt,
			  const uint8_t *rc, size_t rc_len, struct ota_eckey **esk, struct proto_buf *apdu)
{
	uint8_t crtbuf[CRT_MAX], sig[PROTO_EC_SIG_LEN];
	struct proto_buf cb;
	int ret;

	*esk = NULL;
	proto_buf_init(&cb, crtbuf, sizeof(crtbuf));
	ret = ota_ecka_crt_encode(&cb, crt);
	if (ret < 0)
		return ret;
	ret = ota_eckey_generate(ctx, curve, esk);
	if (ret < 0)
		return ret;
	ret = ota_ecka_keyparams_sign(sk, cb.data, cb.len, ota_eckey_public(*esk), PROTO_EC_POINT_LEN, rc, rc_len,
				      sig);
	if (ret == 0)
		ret = ota_ecka_keyparams_apdu(apdu, cb.data, cb.len, ota_eckey_public(*esk), PROTO_EC_POINT_LEN, sig,
					      sizeof(sig));
	if (ret < 0) {
		talloc_free(*esk);
		*esk = NULL;
	}
	return ret;
}

int ota_ecka_dp_finish(void *ctx, struct ota_eckey *esk, const struct proto_ec_pub *pk_ecasd, const uint8_t *crt_tlv,
		       size_t crt_len, const uint8_t *rsp, size_t rsp_len, struct ota_ecka_keys *out)
{
	struct ota_ecka_crt crt;
	const uint8_t *dr, *receipt;
	size_t dr_len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ota_ecka_receipt_rsp_decode(rsp, rsp_len, &dr, &dr_len, &receipt);
	if (rc < 0)
		return rc;
	rc = ota_ecka_crt_decode(&crt, crt_tlv, crt_len);
	if (rc < 0)
		return rc;
	if (!!(crt.scenario_params & OTA_ECKA_SP_DR) != (dr != NULL))
		return -PROTO_E_MALFORMED;	/* the card must send DR exactly when the CRT asks for it */
	rc = ota_ecka_derive(ctx, esk, pk_ecasd, &crt, dr, dr_len, out);
	if (rc < 0)
		return rc;
	rc = ota_ecka_receipt_verify(out->receipt, crt_tlv, crt_len, dr, dr_len, receipt, OTA_ECKA_RECEIPT_LEN);
	if (rc < 0) {
		ota_ecka_keys_free(out);
		return rc;
	}
	talloc_free(out->receipt);
	out->receipt = NULL;
	return 0;
}

int ota_ecka_card_keyparams(void *ctx, struct ota_eckey *sk_ecasd, const struct proto_ec_pub *pk_dp,
			    const uint8_t *rc, size_t rc_len, const uint8_t *payload, size_t len, const uint8_t *dr,
			    size_t dr_len, struct ota_ecka_keys *keys, struct proto_buf *rsp)
{
	struct ota_ecka_keyparams kp;
	struct ota_ecka_crt crt;
	struct proto_ec_pub *epk = NULL;
	uint8_t receipt[OTA_ECKA_RECEIPT_LEN];
	int ret;

	memset(keys, 0, sizeof(*keys));
	ret = ota_ecka_keyparams_decode(&kp, payload, len);
	if (ret < 0)
		return ret;
	ret = ota_ecka_keyparams_verify(pk_dp, &kp, rc, rc_len);
	if (ret < 0)
		return ret;
	ret = ota_ecka_crt_decode(&crt, kp.crt, kp.crt_len);
	if (ret < 0)
		return ret;
	ret = proto_ec_pub_new(ctx, ota_eckey_curve(sk_ecasd), kp.epk, kp.epk_len, &epk);
	if (ret < 0)
		return ret;
	ret = ota_ecka_derive(ctx, sk_ecasd, epk, &crt, dr, dr_len, keys);
	talloc_free(epk);
	if (ret < 0)
		return ret;
	ret = ota_ecka_receipt(keys->receipt, kp.crt, kp.crt_len, dr, dr_len, receipt);
	if (ret == 0)
		ret = ota_ecka_receipt_rsp_encode(rsp, dr, dr_len, receipt);
	if (ret < 0) {
		ota_ecka_keys_free(keys);
		return ret;
	}
	talloc_free(keys->receipt);
	keys->receipt = NULL;
	return 0;
}
