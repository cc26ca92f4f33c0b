/* ES8 on the SM-DP side: key establishment and SCP03t profile loading (see es8.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <openssl/rand.h>
#include "smdp/es8.h"
#include "ota/gp_ecka.h"
#include "ota/gp_scp03.h"
#include "ota/keystore_ec.h"
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/gp_apdu.h"
#include "proto/saip_rsp.h"
#include "proto/ts102226_rcmd.h"

#define MAX_ITEMS 32 /* response items read from one script */

struct smdp_es8 {
	struct smdp_es8_cfg cfg;
	enum smdp_es8_step step;
	enum smdp_es8_error err;
	struct ota_eckey *sk_dp;
	uint8_t *cert;
	size_t cert_len;
	struct proto_ec_pub *pk_ecasd;
	uint8_t aid[16];
	size_t aid_len;
	uint8_t *profile;
	size_t profile_len;
	/* key establishment */
	uint8_t rc[OTA_ECKA_RC_LEN];
	struct ota_ecka_crt crt;
	uint8_t crt_tlv[64];
	size_t crt_len;
	struct ota_eckey *esk;
	struct ota_ecka_keys keys;
	/* SCP03t */
	uint8_t host_challenge[OTA_SCP03_CHALLENGE_LEN];
	struct ota_scp03 *scp;
	bool authenticated; /* the EXTERNAL AUTHENTICATE went out */
	size_t sent;	    /* profile bytes sent (in the SendData in flight and before) */
	size_t acked;	    /* profile bytes whose '86' response was verified */
	unsigned in_flight; /* '86' TLVs in the SendData in flight */
	size_t in_flight_bytes;
	bool ea_in_flight; /* the SendData in flight starts with the EXTERNAL AUTHENTICATE */
};

static const char *const step_names[] = {"KEYEST1", "KEYEST2", "LOAD", "DONE", "FAILED"};
static const char *const error_names[] = {"none", "CERT_REFUSED", "RECEIPT", "SCP03T", "PROFILE", "MALFORMED"};

const char *smdp_es8_step_name(enum smdp_es8_step s)
{
	return (unsigned)s < sizeof(step_names) / sizeof(step_names[0]) ? step_names[s] : "?";
}

const char *smdp_es8_error_name(enum smdp_es8_error e)
{
	return (unsigned)e < sizeof(error_names) / sizeof(error_names[0]) ? error_names[e] : "?";
}

void smdp_es8_cfg_default(struct smdp_es8_cfg *c)
{
	c->kvn = 0x30;
	c->scenario = OTA_ECKA_SP_CERT | OTA_ECKA_SP_DELETE_KEYS;
	c->kuq = OTA_ECKA_KUQ_SC_KEYS;
	c->segment = 1020;
	c->max_data = 3200;
}

static int s_destructor(struct smdp_es8 *s)
{
	ota_ecka_keys_free(&s->keys);
	if (s->profile)
		memset(s->profile, 0, s->profile_len); /* personalised: Ki and OPc are inside */
	return 0;
}

int smdp_es8_new(void *ctx, const struct smdp_es8_cfg *cfg, struct ota_eckey *sk_dp, const uint8_t *cert_dp,
		 size_t cert_len, const struct proto_ec_pub *pk_ecasd, const uint8_t *isdp_aid, size_t aid_len,
		 const uint8_t *profile, size_t profile_len, struct smdp_es8 **out)
{
	struct smdp_es8 *s;
	int rc;

	*out = NULL;
	if (aid_len < 5 || aid_len > 16 || !profile_len || cfg->segment < 16 || cfg->segment > 4000 ||
	    cfg->max_data < cfg->segment + 32)
		return -EINVAL;
	s = talloc_zero(ctx, struct smdp_es8);
	if (!s)
		return -ENOMEM;
	talloc_set_destructor(s, s_destructor);
	s->cfg = *cfg;
	s->sk_dp = sk_dp;
	s->cert = talloc_memdup(s, cert_dp, cert_len);
	s->cert_len = cert_len;
	s->profile = talloc_memdup(s, profile, profile_len);
	s->profile_len = profile_len;
	memcpy(s->aid, isdp_aid, aid_len);
	s->aid_len = aid_len;
	rc = proto_ec_pub_new(s, pk_ecasd->ref, pk_ecasd->point, sizeof(pk_ecasd->point), &s->pk_ecasd);
	if (!s->cert || !s->profile || rc < 0) {
		talloc_free(s);
		return rc < 0 ? rc : -ENOMEM;
	}
	s->crt = (struct ota_ecka_crt){
		.scenario_params = cfg->scenario,
		.kuq = cfg->kuq,
		.key_type = OTA_ECKA_KEY_TYPE_AES,
		.key_len = 16,
		.key_id = 0x01,
		.kvn = cfg->kvn,
	};
	{
		struct proto_buf b;
		proto_buf_init(&b, s->crt_tlv, sizeof(s->crt_tlv));
		rc = ota_ecka_crt_encode(&b, &s->crt);
		s->crt_len = b.len;
	}
	if (rc < 0) {
		talloc_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

enum smdp_es8_step smdp_es8_step(const struct smdp_es8 *s)
{
	return s->step;
}

enum smdp_es8_error smdp_es8_error(const struct smdp_es8 *s)
{
	return s->err;
}

size_t smdp_es8_loaded(const struct smdp_es8 *s)
{
	return s->acked;
}

/* one '22' item (TS 102 226) around what a writer puts into b */
static size_t s_open(struct proto_buf *b)
{
	return proto_tlv_open(b, PROTO_RCMD_TAG_CAPDU);
}

static int s_close(struct proto_buf *b, size_t mark)
{
	if (proto_buf_status(b) == 0)
		proto_tlv_close(b, mark);
	return proto_buf_status(b);
}

int smdp_es8_next(struct smdp_es8 *s, struct proto_buf *b, bool *more_to_do)
{
	size_t mark;
	int rc = 0;

	*more_to_do = true;
	switch (s->step) {
	case SMDP_ES8_KEYEST1:
		mark = s_open(b);
		rc = proto_gp_install_for_perso(b, s->aid, s->aid_len);
		if (rc >= 0) /* the builder returns the APDU length */
			rc = s_close(b, mark);
		if (rc == 0) {
			mark = s_open(b);
			rc = ota_ecka_cert_apdu(b, s->cert, s->cert_len);
			if (rc == 0)
				rc = s_close(b, mark);
		}
		break;
	case SMDP_ES8_KEYEST2:
		talloc_free(s->esk);
		s->esk = NULL;
		mark = s_open(b);
		rc = ota_ecka_dp_keyparams(s, s->sk_dp, s->pk_ecasd->ref, &s->crt, s->rc, sizeof(s->rc), &s->esk, b);
		if (rc == 0)
			rc = s_close(b, mark);
		/* the SCP03t INITIALIZE UPDATE rides in the same script: the card runs it on the keyset it has just
		 * established (a refused 3A02 stops the script before it), saving one SMS round trip */
		if (rc == 0 && RAND_bytes(s->host_challenge, sizeof(s->host_challenge)) != 1)
			rc = -PROTO_E_CRYPTO;
		if (rc == 0) {
			mark = s_open(b);
			rc = ota_scp03t_iu_encode(b, s->cfg.kvn, 0x00, s->host_challenge);
			if (rc == 0)
				rc = s_close(b, mark);
		}
		break;
	case SMDP_ES8_LOAD:
		s->in_flight = 0;
		s->in_flight_bytes = 0;
		s->ea_in_flight = false;
		if (!s->authenticated) {
			mark = s_open(b);
			rc = ota_scp03t_ext_auth_encode(
				s->scp,
				OTA_SCP03_SL_C_MAC | OTA_SCP03_SL_C_DEC | OTA_SCP03_SL_R_MAC | OTA_SCP03_SL_R_ENC, b);
			if (rc == 0)
				rc = s_close(b, mark);
			s->authenticated = true;
			s->ea_in_flight = true;
		}
		/* '86' segments while one more fits (segment + padding, MAC, headers) */
		while (rc == 0 && s->sent < s->profile_len &&
		       (!s->in_flight || b->len + s->cfg.segment + 16 + 8 + 8 <= s->cfg.max_data)) {
			size_t n =
				s->profile_len - s->sent < s->cfg.segment ? s->profile_len - s->sent : s->cfg.segment;
			mark = s_open(b);
			rc = ota_scp03t_wrap_cmd(s->scp, s->profile + s->sent, n, b);
			if (rc == 0)
				rc = s_close(b, mark);
			s->sent += n;
			s->in_flight++;
			s->in_flight_bytes += n;
		}
		*more_to_do = s->sent < s->profile_len;
		break;
	default:
		return -EINVAL;
	}
	return rc;
}

/* one answered item of a response script: the whole '23' value (for SCP03t TLVs) and its last two bytes read as
 * the SW (for C-APDUs) */
struct item {
	const uint8_t *val;
	size_t len;
	uint16_t sw;
};

/* the items of a response script (proto_rcmd_rsp_decode: AB/AF, 80, 23, 81, 90) */
static int s_items(const uint8_t *rsp, size_t len, struct item *items, unsigned *n, bool *bad_format)
{
	struct proto_rcmd_rsp r;
	struct proto_rcmd_iter it;
	struct proto_rapdu ra;
	int rc = proto_rcmd_rsp_decode(rsp, len, &r);

	*n = 0;
	*bad_format = r.bad_format;
	if (rc < 0)
		return rc;
	proto_rcmd_rsp_iter_init(&it, &r);
	while ((rc = proto_rcmd_rsp_next(&it, &ra)) > 0) {
		if (*n == MAX_ITEMS)
			return -PROTO_E_MALFORMED;
		items[*n] = (struct item){ra.data, ra.len + 2, ra.sw};
		(*n)++;
	}
	return rc;
}

static int s_fail(struct smdp_es8 *s, enum smdp_es8_error e, char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int s_fail(struct smdp_es8 *s, enum smdp_es8_error e, char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	s->step = SMDP_ES8_FAILED;
	s->err = e;
	if (why && cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	talloc_free(s->esk);
	s->esk = NULL;
	ota_ecka_keys_free(&s->keys);
	TALLOC_FREE(s->scp);
	return -EPROTO;
}

int smdp_es8_response(struct smdp_es8 *s, const uint8_t *rsp, size_t len, char *why, size_t cap)
{
	struct item items[MAX_ITEMS];
	unsigned n, i = 0;
	bool bad;
	int rc;

	if (s->step >= SMDP_ES8_DONE)
		return -EINVAL;
	rc = rsp ? s_items(rsp, len, items, &n, &bad) : -PROTO_E_MALFORMED;
	if (rc < 0)
		return s_fail(s, SMDP_ES8_E_MALFORMED, why, cap, "%s: response script unreadable (%s)",
			      smdp_es8_step_name(s->step), proto_strerror(rc));
	if (bad)
		return s_fail(s, SMDP_ES8_E_MALFORMED, why, cap, "%s: the eUICC reports a bad script format",
			      smdp_es8_step_name(s->step));
	switch (s->step) {
	case SMDP_ES8_KEYEST1: {
		const uint8_t *rc_p;
		size_t rc_len;
		if (n != 2 || items[0].sw != 0x9000 || items[1].sw != 0x9000)
			return s_fail(s, SMDP_ES8_E_CERT_REFUSED, why, cap, "KEYEST1: %s refused, SW %04X",
				      n < 2 ? "INSTALL [for personalization]" : "CERT.DP.ECDSA",
				      n ? items[n - 1].sw : 0);
		if (ota_ecka_challenge_decode(items[1].val, items[1].len - 2, &rc_p, &rc_len) < 0 ||
		    rc_len != sizeof(s->rc))
			return s_fail(s, SMDP_ES8_E_MALFORMED, why, cap, "KEYEST1: no random challenge");
		memcpy(s->rc, rc_p, rc_len);
		s->step = SMDP_ES8_KEYEST2;
		return 0;
	}
	case SMDP_ES8_KEYEST2:
		if (n < 1 || items[0].sw != 0x9000)
			return s_fail(s, SMDP_ES8_E_RECEIPT, why, cap, "KEYEST2: key parameters refused, SW %04X",
				      n ? items[0].sw : 0);
		rc = ota_ecka_dp_finish(s, s->esk, s->pk_ecasd, s->crt_tlv, s->crt_len, items[0].val, items[0].len - 2,
					&s->keys);
		talloc_free(s->esk);
		s->esk = NULL;
		if (rc < 0)
			return s_fail(s, SMDP_ES8_E_RECEIPT, why, cap, "KEYEST2: receipt not verified (%s)",
				      proto_strerror(rc));
		/* the INITIALIZE UPDATE answer follows in the same script */
		{
			struct ota_scp03_iu_rsp r;
			struct ota_key *enc = s->keys.key[0],
				       *mac = s->keys.nkeys > 1 ? s->keys.key[1] : s->keys.key[0];
			if (n != 2)
				return s_fail(s, SMDP_ES8_E_SCP03T, why, cap,
					      "KEYEST2: no answer to the SCP03t INITIALIZE UPDATE");
			rc = ota_scp03t_iu_rsp_decode(&r, items[1].val, items[1].len);
			if (rc == 0 && r.kvn != s->cfg.kvn)
				rc = -PROTO_E_MALFORMED;
			if (rc == 0)
				rc = ota_scp03_new(s, enc, mac, s->host_challenge, r.card_challenge, &s->scp);
			if (rc == 0)
				rc = ota_scp03_check_card_cryptogram(s->scp, r.card_cryptogram);
			if (rc < 0)
				return s_fail(s, SMDP_ES8_E_SCP03T, why, cap, "KEYEST2: SCP03t INITIALIZE UPDATE: %s",
					      rc == -EREMOTEIO ? "error TLV from the ISD-P" : proto_strerror(rc));
			s->step = SMDP_ES8_LOAD;
			return 0;
		}
	case SMDP_ES8_LOAD: {
		uint8_t out[1024];
		struct proto_buf ob;
		unsigned want = s->in_flight + (s->ea_in_flight ? 1 : 0), k;
		proto_buf_init(&ob, out, sizeof(out));
		if (s->ea_in_flight) {
			rc = n ? ota_scp03t_ext_auth_rsp_check(items[0].val, items[0].len) : -PROTO_E_MALFORMED;
			if (rc < 0)
				return s_fail(s, SMDP_ES8_E_SCP03T, why, cap,
					      "LOAD: EXTERNAL AUTHENTICATE refused (%s)",
					      rc == -EREMOTEIO ? "error TLV" : proto_strerror(rc));
			i = 1;
		}
		for (k = 0; i < n; i++, k++) {
			proto_buf_init(&ob, out, sizeof(out));
			rc = ota_scp03t_unwrap_rsp(s->scp, items[i].val, items[i].len, &ob);
			if (rc < 0)
				return s_fail(s, SMDP_ES8_E_SCP03T, why, cap, "LOAD: segment %u: %s", k + 1,
					      rc == -EREMOTEIO ? "error TLV from the ISD-P" : proto_strerror(rc));
			if (ob.len) {
				/* the EUICCResponse: only after the last segment of a script */
				struct proto_saip_euicc_rsp er;
				const struct proto_saip_pe_status *pe;
				if (proto_saip_euicc_rsp_decode(&er, ob.data, ob.len) < 0)
					return s_fail(s, SMDP_ES8_E_MALFORMED, why, cap,
						      "LOAD: EUICCResponse unreadable");
				if (!proto_saip_euicc_rsp_ok(&er)) {
					pe = proto_saip_euicc_rsp_first_error(&er);
					return s_fail(s, SMDP_ES8_E_PROFILE, why, cap,
						      "LOAD: EUICCResponse reports %s%s (PE %u)",
						      pe ? proto_saip_status_name(pe->status) : "an error",
						      er.aborted ? ", installation aborted" : "",
						      pe && pe->has_id ? pe->id : 0);
				}
				if (i + 1 != n || s->sent != s->profile_len)
					return s_fail(s, SMDP_ES8_E_PROFILE, why, cap,
						      "LOAD: EUICCResponse before the end of the package");
			}
		}
		if (n != want)
			return s_fail(s, SMDP_ES8_E_SCP03T, why, cap, "LOAD: %u of %u TLVs answered", n, want);
		s->acked += s->in_flight_bytes;
		s->in_flight = 0;
		s->in_flight_bytes = 0;
		s->ea_in_flight = false;
		if (s->acked == s->profile_len) {
			/* the last segment must have carried a successful EUICCResponse */
			if (!ob.len)
				return s_fail(s, SMDP_ES8_E_PROFILE, why, cap,
					      "LOAD: no EUICCResponse after the last segment");
			s->step = SMDP_ES8_DONE;
			TALLOC_FREE(s->scp);
			ota_ecka_keys_free(&s->keys);
		}
		return 0;
	}
	default:
		return -EINVAL;
	}
}
