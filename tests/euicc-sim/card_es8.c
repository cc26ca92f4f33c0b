/* The simulated eUICC's ES8 side: ECASD key establishment of an ISD-P keyset (GP Amd E scenario #3, crypto.md §A),
 * SCP03t on that keyset (crypto.md §B.2) and the SAIP profile package loaded through it (sgp02.md §6.7). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include "proto/bertlv.h"
#include "proto/errors.h"
#include "proto/gp_cert.h"
#include "proto/hex.h"
#include "proto/saip_rsp.h"
#include "ota/gp_ecka.h"
#include "ota/gp_scp03.h"
#include "tests/euicc-sim/card.h"

/* SAIP ProfileElement tags (PE_Definitions, AUTOMATIC TAGS: the CHOICE alternatives in order) */
enum {
	PE_TAG_HEADER = 0xA0,	    /* header [0] ProfileHeader */
	PE_TAG_END = 0xAA,	    /* end [10] PE-End */
	PE_HDR_TAG_ICCID = 0x83,    /* ProfileHeader.iccid [3] OCTET STRING (SIZE (10)) */
	PE_HDR_TAG_PEHEADER = 0xA0, /* first component of every other PE: PEHeader [0] */
	PE_HDR_TAG_ID = 0x81,	    /* PEHeader.identification [1] UInt15 */
	ICCID_LEN = 10,
};

#define SCP03T_SL_ALL (OTA_SCP03_SL_C_MAC | OTA_SCP03_SL_C_DEC | OTA_SCP03_SL_R_MAC | OTA_SCP03_SL_R_ENC)
#define SCP03T_I (OTA_SCP03_I_PSEUDO_RANDOM | OTA_SCP03_I_R_MAC | OTA_SCP03_I_R_ENC)
#define SEQ_MAX 0xFFFFFF

/* The keyset and download state of one ISD-P. A talloc child of the card. */
struct sim_isdp_es8 {
	uint8_t kvn;			 /* key version number of the keyset (from the CRT) */
	uint8_t key_id;			 /* identifier of the first key (ENC) */
	uint8_t kuq;			 /* key usage qualifier it was derived with */
	struct ota_key *enc, *mac, *dek; /* children; all three the same handle for KUQ 5C */
	uint32_t seq;			 /* sequence counter of the next pseudo-random card challenge */
	struct ota_scp03 *scp;		 /* SCP03t session, NULL when none */
	unsigned n86;			 /* '86' TLVs received in this session */
	/* profile package */
	uint8_t *pkg; /* plaintext received so far (wiped when freed) */
	size_t pkg_len, pkg_cap; /* pkg holds the bytes of the PE not yet complete */
	size_t total;		 /* package bytes received */
	unsigned n_pe;
	bool done;	 /* installed or aborted: no more '86' in this session */
	bool reported;	 /* its EUICCResponse went out */
	uint32_t status; /* enum proto_saip_status of the outcome */
	bool has_err_id;
	uint16_t err_id; /* identification of the PE that failed */
	char iccid[SIM_ICCID_MAX + 1];
};

static const char *aid_hex(const uint8_t *aid, size_t len, char *buf)
{
	return proto_hex_encode(aid, len > PROTO_AID_MAX_LEN ? PROTO_AID_MAX_LEN : len, buf);
}

#define AID_HEX_LEN (2 * PROTO_AID_MAX_LEN + 1)

/*
 * PK.CI.ECDSA
 */

int sim_ci_load_pem(void *ctx, const char *path, struct proto_ec_pub **out)
{
	int rc = proto_ec_pub_from_cert_file(ctx, path, NULL, out);

	return rc == -ENOENT || rc == -ENOMEM ? rc : rc < 0 ? -EINVAL : 0;
}

/*
 * Faults
 */

int sim_es8_fault_parse(const char *spec, uint32_t index, struct sim_es8_faults *f)
{
	const char *at = strchr(spec, '@');
	size_t klen;
	bool *flag;
	char *end;
	unsigned long idx;

	if (!at)
		return -EINVAL;
	klen = (size_t)(at - spec);
	if (klen == 7 && !strncmp(spec, "receipt", klen))
		flag = &f->receipt;
	else if (klen == 3 && !strncmp(spec, "mac", klen))
		flag = &f->mac;
	else if (klen == 6 && !strncmp(spec, "memory", klen))
		flag = &f->memory;
	else if (klen == 5 && !strncmp(spec, "ecasd", klen))
		flag = &f->ecasd;
	else
		return -EINVAL;
	if (!strcmp(at + 1, "*")) {
		*flag = true;
		return 1;
	}
	if (at[1] < '0' || at[1] > '9')
		return -EINVAL;
	errno = 0;
	idx = strtoul(at + 1, &end, 10);
	if (errno || *end || idx >= SIM_FLEET_MAX)
		return -EINVAL;
	if (idx != index)
		return 0;
	*flag = true;
	return 1;
}

/*
 * ISD-P ES8 state
 */

static void pkg_free(struct sim_isdp_es8 *e)
{
	if (e->pkg) {
		OPENSSL_cleanse(e->pkg, e->pkg_cap); /* profile data: Ki, OPc, PINs */
		TALLOC_FREE(e->pkg);
	}
	e->pkg_len = e->pkg_cap = 0;
}

static int es8_destructor(struct sim_isdp_es8 *e)
{
	pkg_free(e);
	return 0; /* the key handles and the session are children and wipe themselves */
}

void sim_es8_isdp_free(struct sim_card *c, struct sim_isdp *d)
{
	TALLOC_FREE(d->es8);
	if (c->perso_aid_len == d->aid_len && !memcmp(c->perso_aid, d->aid, d->aid_len)) {
		c->perso_aid_len = 0;
		TALLOC_FREE(c->pk_dp);
	}
}

static int ecasd_key(struct sim_card *c)
{
	uint8_t d[SIM_ECASD_SK_LEN];
	int rc;

	if (c->ecasd_sk)
		return 0;
	rc = sim_fleet_ecasd_sk(&c->cfg, c->index, d);
	if (rc == 0)
		rc = ota_eckey_import(c, c->ecasd_curve, d, sizeof(d), &c->ecasd_sk);
	OPENSSL_cleanse(d, sizeof(d));
	return rc;
}

static uint32_t today(const struct sim_card *c)
{
	struct tm tm;
	time_t now;

	if (c->today)
		return c->today;
	now = time(NULL);
	if (!gmtime_r(&now, &tm))
		return 0;
	return (uint32_t)(tm.tm_year + 1900) * 10000 + (uint32_t)(tm.tm_mon + 1) * 100 + (uint32_t)tm.tm_mday;
}

/*
 * Key establishment
 */

/* Read one LV field of INSTALL data. */
static const uint8_t *get_lv(struct proto_cur *cur, size_t *len)
{
	*len = proto_cur_u8(cur);
	return proto_cur_get(cur, *len);
}

/* INSTALL [for personalization] (GPCS §11.5.2.3): '00 00 L <AID> 00 00 00' */
static uint16_t install_perso(struct sim_card *c, struct sim_isdp *target, const struct proto_apdu *a)
{
	char a1[AID_HEX_LEN];
	struct proto_cur cur;
	const uint8_t *app;
	size_t elf_len, mod_len, app_len, n;
	struct sim_isdp *d;

	if (a->p2 != 0x00)
		return PROTO_SW_WRONG_P1P2;
	proto_cur_init(&cur, a->data, a->lc);
	get_lv(&cur, &elf_len);
	get_lv(&cur, &mod_len);
	app = get_lv(&cur, &app_len);
	while (!cur.bad && proto_cur_left(&cur))
		get_lv(&cur, &n); /* privileges, parameters, token: empty in SGP.02 */
	if (cur.bad || elf_len || mod_len || app_len < PROTO_AID_MIN_LEN || app_len > PROTO_AID_MAX_LEN)
		return PROTO_SW_WRONG_DATA;
	d = sim_card_isdp_find(c, app, app_len);
	if (!d)
		return PROTO_SW_REF_NOT_FOUND;
	if (target && d != target)
		return PROTO_SW_WRONG_DATA;
	if (d->lcs != SIM_LCS_SELECTABLE && d->lcs != SIM_LCS_PERSONALIZED)
		return PROTO_SW_CONDITIONS_OF_USE;
	memcpy(c->perso_aid, d->aid, d->aid_len);
	c->perso_aid_len = d->aid_len;
	TALLOC_FREE(c->pk_dp);
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "ISD-P %s selected for personalization", aid_hex(d->aid, d->aid_len, a1));
	return PROTO_SW_OK;
}

/* The ISD-P that key establishment applies to: the one INSTALL [for personalization] selected, or the addressed
 * one; NULL when none or when they differ. */
static struct sim_isdp *perso_target(struct sim_card *c, struct sim_isdp *target)
{
	struct sim_isdp *sel = c->perso_aid_len ? sim_card_isdp_find(c, c->perso_aid, c->perso_aid_len) : NULL;

	if (target)
		return sel && sel != target ? NULL : target;
	return sel;
}

static bool cert_is_smdp(const struct proto_gp_cert *gc)
{
	const struct proto_gp_field *u = &gc->key_usage;
	struct proto_tlv t;

	if (!((u->len == 1 && u->p[0] == 0x88) || (u->len == 2 && u->p[0] == 0x00 && u->p[1] == 0x88)))
		return false;
	if (!gc->discretionary.p || proto_tlv_find(gc->discretionary.p, gc->discretionary.len, 0xC8, &t) != 1)
		return false;
	return t.len == 1 && t.val[0] == 0x01;
}

/* STORE DATA 3A01: CERT.DP.ECDSA */
static uint16_t store_cert(struct sim_card *c, struct sim_isdp *d, const uint8_t *data, size_t len,
			   struct proto_buf *rdata)
{
	struct proto_gp_cert gc;
	struct proto_ec_pub *pk = NULL;
	const uint8_t *cert;
	size_t cert_len;
	uint32_t date = today(c);
	const char *why = NULL;
	int rc;

	TALLOC_FREE(c->pk_dp);
	if (c->faults.ecasd) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "fault ecasd: CERT.DP.ECDSA refused");
		return PROTO_SW_WRONG_DATA;
	}
	if (!c->ci) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_NOTICE, "no PK.CI.ECDSA configured (--ci-cert): CERT.DP.ECDSA refused");
		return PROTO_SW_WRONG_DATA;
	}
	rc = ota_ecka_cert_payload_decode(data, len, &cert, &cert_len);
	if (rc == 0)
		rc = proto_gp_cert_decode(&gc, cert, cert_len);
	if (rc < 0)
		why = proto_strerror(rc);
	else if (proto_gp_cert_verify(&gc, c->ci) < 0)
		why = "signature not verified with PK.CI.ECDSA";
	else if (!cert_is_smdp(&gc))
		why = "not an SM-DP certificate (key usage 88, C8 01 01)";
	else if (gc.expiry_date < date)
		why = "expired";
	else if (gc.effective_date > date)
		why = "not yet valid";
	else if (proto_gp_cert_pubkey(c, &gc, c->ci->ref, &pk) < 0)
		why = "public key unusable";
	if (why) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "CERT.DP.ECDSA refused: %s", why);
		return PROTO_SW_WRONG_DATA;
	}
	if (RAND_bytes(c->rc, sizeof(c->rc)) != 1) {
		talloc_free(pk);
		return PROTO_SW_NO_DIAGNOSIS;
	}
	c->pk_dp = pk;
	ota_ecka_challenge_encode(rdata, c->rc, sizeof(c->rc));
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "CERT.DP.ECDSA verified (%s), random challenge issued",
		 proto_ec_ref_name(pk->ref));
	(void)d;
	return PROTO_SW_OK;
}

/* STORE DATA 3A02: key parameters; installs the keyset into d */
static uint16_t store_keyparams(struct sim_card *c, struct sim_isdp *d, const uint8_t *data, size_t len,
				struct proto_buf *rdata)
{
	char a1[AID_HEX_LEN];
	struct ota_ecka_keyparams kp;
	struct ota_ecka_crt crt;
	struct ota_ecka_keys keys;
	struct proto_ec_pub *pk_dp = c->pk_dp;
	struct sim_isdp_es8 *e;
	uint8_t dr[16];
	bool has_dr;
	size_t mark = rdata->len;
	void *tmp;
	unsigned i;
	int rc;

	if (!pk_dp)
		return PROTO_SW_CONDITIONS_OF_USE; /* no verified certificate, no challenge */
	c->pk_dp = NULL;			   /* the challenge is spent, whatever happens */
	rc = ecasd_key(c);
	if (rc < 0) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_ERROR, "SK.ECASD.ECKA unusable on %s: %s",
			 proto_ec_ref_name(c->ecasd_curve), proto_strerror(rc));
		talloc_free(pk_dp);
		return PROTO_SW_NO_DIAGNOSIS;
	}
	rc = ota_ecka_keyparams_decode(&kp, data, len);
	if (rc == 0)
		rc = ota_ecka_crt_decode(&crt, kp.crt, kp.crt_len);
	if (rc < 0) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "key parameters refused: %s", proto_strerror(rc));
		talloc_free(pk_dp);
		return PROTO_SW_WRONG_DATA;
	}
	has_dr = crt.scenario_params & OTA_ECKA_SP_DR;
	if (has_dr && RAND_bytes(dr, sizeof(dr)) != 1) {
		talloc_free(pk_dp);
		return PROTO_SW_NO_DIAGNOSIS;
	}
	tmp = talloc_new(c);
	e = talloc_zero(c, struct sim_isdp_es8);
	if (!tmp || !e) {
		talloc_free(tmp);
		talloc_free(e);
		talloc_free(pk_dp);
		return PROTO_SW_NO_DIAGNOSIS;
	}
	talloc_set_destructor(e, es8_destructor);
	rc = ota_ecka_card_keyparams(tmp, c->ecasd_sk, pk_dp, c->rc, sizeof(c->rc), data, len, has_dr ? dr : NULL,
				     has_dr ? sizeof(dr) : 0, &keys, rdata);
	OPENSSL_cleanse(dr, sizeof(dr));
	OPENSSL_cleanse(c->rc, sizeof(c->rc));
	talloc_free(pk_dp);
	if (rc < 0 || !keys.nkeys) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "key agreement refused: %s", proto_strerror(rc));
		rdata->len = mark;
		rdata->overflow = false;
		talloc_free(tmp);
		talloc_free(e);
		return PROTO_SW_WRONG_DATA;
	}
	if (c->faults.receipt) {
		rdata->data[rdata->len - 1] ^= 0x01; /* last byte of '86 10 receipt' */
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "fault receipt: wrong receipt returned");
	}
	for (i = 0; i < keys.nkeys; i++)
		talloc_steal(e, keys.key[i]);
	talloc_free(tmp);
	e->enc = keys.key[0];
	e->mac = keys.nkeys > 1 ? keys.key[1] : keys.key[0];
	e->dek = keys.nkeys > 2 ? keys.key[2] : keys.key[0];
	e->kvn = crt.kvn;
	e->key_id = crt.key_id;
	e->kuq = crt.kuq;
	e->seq = 1;
	if (crt.counter_len >= 1 && crt.counter_len <= 3) {
		e->seq = 0;
		for (i = 0; i < crt.counter_len; i++)
			e->seq = e->seq << 8 | crt.counter[i];
	}
	sim_es8_isdp_free(c, d); /* a previous keyset, the personalization selection */
	d->es8 = e;
	d->lcs = SIM_LCS_PERSONALIZED;
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "ISD-P %s: SCP03 keyset KVN %02x (KUQ %02x) established, PERSONALIZED",
		 aid_hex(d->aid, d->aid_len, a1), e->kvn, e->kuq);
	return PROTO_SW_OK;
}

uint16_t sim_es8_apdu(struct sim_card *c, struct sim_isdp *target, const struct proto_apdu *a, struct proto_buf *rdata)
{
	struct sim_isdp *d;
	uint16_t dgi;

	if (a->ins == PROTO_GP_INS_INSTALL && a->p1 == PROTO_GP_INSTALL_FOR_PERSONALIZATION)
		return install_perso(c, target, a);
	if (a->ins != PROTO_GP_INS_STORE_DATA || a->lc < 2)
		return 0;
	dgi = (uint16_t)(a->data[0] << 8 | a->data[1]);
	if (dgi != PROTO_GP_DGI_KEYSET_CERT && dgi != PROTO_GP_DGI_KEYSET_AGREEMENT)
		return 0;
	if ((a->p1 & (PROTO_GP_SD_P1_DGI | PROTO_GP_SD_P1_BERTLV)) != PROTO_GP_SD_P1_DGI ||
	    (dgi == PROTO_GP_DGI_KEYSET_AGREEMENT && !(a->p1 & PROTO_GP_SD_P1_LAST_BLOCK)))
		return PROTO_SW_WRONG_P1P2;
	d = perso_target(c, target);
	if (!d || (d->lcs != SIM_LCS_SELECTABLE && d->lcs != SIM_LCS_PERSONALIZED))
		return PROTO_SW_CONDITIONS_OF_USE;
	if (dgi == PROTO_GP_DGI_KEYSET_CERT)
		return store_cert(c, d, a->data, a->lc, rdata);
	return store_keyparams(c, d, a->data, a->lc, rdata);
}

/*
 * Profile package (SAIP): incremental parsing of the profile elements
 */

/* ProfileElement tags: context-specific, constructed; [31] and above in two bytes (BF 1F..BF 7F). */
static bool pe_tag_ok(const struct proto_tlv *t)
{
	if (t->tag_len == 1)
		return (t->tag & 0xE0) == 0xA0 && (t->tag & 0x1F) != 0x1F;
	return t->tag_len == 2 && (t->tag >> 8) == 0xBF && (t->tag & 0xFF) >= 0x1F && !(t->tag & 0x80);
}

/* identification from the PEHeader of a non-header PE; -1 when absent */
static int pe_id(const struct proto_tlv *t)
{
	struct proto_tlv h, i;

	if (t->tag == PE_TAG_HEADER || proto_tlv_decode(t->val, t->len, &h) < 0 || h.tag != PE_HDR_TAG_PEHEADER ||
	    proto_tlv_find(h.val, h.len, PE_HDR_TAG_ID, &i) != 1 || i.len < 1 || i.len > 2)
		return -1;
	return i.len == 1 ? i.val[0] : (i.val[0] << 8 | i.val[1]) & 0x7FFF;
}

/* ICCID: 10 bytes of BCD with swapped nibbles, F fillers at the end only; 18 to 20 digits */
static bool iccid_decode(const uint8_t *v, size_t len, char out[SIM_ICCID_MAX + 1])
{
	size_t i, n = 0;
	bool filler = false;

	if (len != ICCID_LEN)
		return false;
	for (i = 0; i < 2 * len; i++) {
		uint8_t nib = i & 1 ? v[i / 2] >> 4 : v[i / 2] & 0x0F;

		if (nib == 0x0F) {
			filler = true;
			continue;
		}
		if (nib > 9 || filler)
			return false;
		out[n++] = (char)('0' + nib);
	}
	out[n] = '\0';
	return n >= 18;
}

/* End of the package: 1 with e->status set */
static int pkg_end(struct sim_isdp_es8 *e, uint32_t status, int id)
{
	e->done = true;
	e->status = status;
	e->has_err_id = status != PROTO_SAIP_OK && id >= 0;
	e->err_id = e->has_err_id ? (uint16_t)id : 0;
	return 1;
}

/* Append plaintext and parse the complete PEs: 0 more expected, 1 the package ended (installed or aborted). */
static int pkg_feed(struct sim_card *c, struct sim_isdp *d, struct sim_isdp_es8 *e, const uint8_t *p, size_t n)
{
	size_t limit = d->quota ? d->quota : sim_card_free_mem(c), off = 0;

	if (limit > SIM_PROFILE_MAX)
		limit = SIM_PROFILE_MAX;
	if (!n)
		return 0;
	if (e->total + n > limit)
		return pkg_end(e, PROTO_SAIP_NOT_ENOUGH_MEMORY, -1);
	if (e->pkg_len + n > e->pkg_cap) {
		size_t cap = e->pkg_cap ? e->pkg_cap : 1024;
		uint8_t *np;

		while (cap < e->pkg_len + n)
			cap *= 2;
		np = talloc_size(e, cap);
		if (!np)
			return -ENOMEM;
		if (e->pkg_len)
			memcpy(np, e->pkg, e->pkg_len);
		if (e->pkg)
			OPENSSL_cleanse(e->pkg, e->pkg_cap);
		talloc_free(e->pkg);
		e->pkg = np;
		e->pkg_cap = cap;
	}
	memcpy(e->pkg + e->pkg_len, p, n);
	e->pkg_len += n;
	e->total += n;

	while (off < e->pkg_len) {
		struct proto_tlv t, ic;
		int rc = proto_tlv_decode(e->pkg + off, e->pkg_len - off, &t), id;

		if (rc == -PROTO_E_TRUNCATED)
			break; /* the PE continues in the next segment */
		if (rc < 0 || t.indefinite || !pe_tag_ok(&t))
			return pkg_end(e, PROTO_SAIP_INVALID_REQUEST_FORMAT, -1);
		id = pe_id(&t);
		if (proto_tlv_validate(t.val, t.len) < 0)
			return pkg_end(e, PROTO_SAIP_INVALID_REQUEST_FORMAT, id);
		if (!e->n_pe) {
			if (t.tag != PE_TAG_HEADER)
				return pkg_end(e, PROTO_SAIP_INVALID_REQUEST_FORMAT, id);
			if (proto_tlv_find(t.val, t.len, PE_HDR_TAG_ICCID, &ic) != 1 ||
			    !iccid_decode(ic.val, ic.len, e->iccid))
				return pkg_end(e, PROTO_SAIP_BAD_VALUES, -1);
		} else if (t.tag == PE_TAG_HEADER) {
			return pkg_end(e, PROTO_SAIP_INVALID_REQUEST_FORMAT, -1);
		}
		e->n_pe++;
		off += (size_t)rc;
		if (t.tag == PE_TAG_END) {
			if (off != e->pkg_len)
				return pkg_end(e, PROTO_SAIP_INVALID_REQUEST_FORMAT, -1); /* bytes after end */
			if (c->faults.memory) {
				SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "fault memory: package refused");
				return pkg_end(e, PROTO_SAIP_NOT_ENOUGH_MEMORY, id);
			}
			return pkg_end(e, PROTO_SAIP_OK, id);
		}
	}
	/* keep only the incomplete PE */
	memmove(e->pkg, e->pkg + off, e->pkg_len - off);
	OPENSSL_cleanse(e->pkg + e->pkg_len - off, off);
	e->pkg_len -= off;
	return 0;
}

/* The package ended: apply the outcome to the ISD-P and encode the EUICCResponse. */
static int pkg_finish(struct sim_card *c, struct sim_isdp *d, struct sim_isdp_es8 *e, struct proto_buf *b)
{
	char a1[AID_HEX_LEN];
	struct proto_saip_euicc_rsp r;

	memset(&r, 0, sizeof(r));
	r.n_pe = 1;
	r.pe[0].status = e->status;
	r.pe[0].has_id = e->has_err_id;
	r.pe[0].id = e->err_id;
	r.aborted = e->status != PROTO_SAIP_OK;
	if (e->status == PROTO_SAIP_OK) {
		d->lcs = SIM_LCS_DISABLED;
		memcpy(d->iccid, e->iccid, sizeof(d->iccid));
		d->used_nvm = (uint32_t)e->total;
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO,
			 "ISD-P %s: profile ICCID %s installed (%zu bytes, %u PEs), DISABLED",
			 aid_hex(d->aid, d->aid_len, a1), d->iccid, e->total, e->n_pe);
	} else {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "ISD-P %s: profile installation aborted after %zu bytes: %s%s%u",
			 aid_hex(d->aid, d->aid_len, a1), e->total, proto_saip_status_name(e->status),
			 e->has_err_id ? " in PE " : "", e->has_err_id ? e->err_id : 0);
	}
	pkg_free(e);
	return proto_saip_euicc_rsp_encode(b, &r);
}

/*
 * SCP03t
 */

static int scp03t_error(struct sim_card *c, struct sim_isdp_es8 *e, uint8_t code, const char *why,
			struct proto_buf *rsp)
{
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "SCP03t error %02x: %s", code, why);
	if (e)
		TALLOC_FREE(e->scp);
	proto_tlv_put(rsp, SIM_TAG_SCP03T_ERROR, &code, 1);
	return proto_buf_status(rsp) < 0 ? proto_buf_status(rsp) : 1;
}

bool sim_es8_is_scp03t(const uint8_t *item, size_t len)
{
	struct proto_tlv t;

	return len &&
	       (item[0] == OTA_SCP03T_TAG_IU || item[0] == OTA_SCP03T_TAG_EA || item[0] == OTA_SCP03T_TAG_DATA) &&
	       proto_tlv_decode_exact(item, len, &t) == 0;
}

/* 84: INITIALIZE UPDATE */
static int scp03t_iu(struct sim_card *c, struct sim_isdp *d, struct sim_isdp_es8 *e, const uint8_t *tlv, size_t len,
		     struct proto_buf *rsp)
{
	struct ota_scp03_iu_rsp r;
	uint8_t kvn, kid, hc[OTA_SCP03_CHALLENGE_LEN];
	int rc;

	if (ota_scp03t_iu_decode(tlv, len, &kvn, &kid, hc) < 0)
		return scp03t_error(c, e, SIM_SCP03T_ERR_FORMAT, "INITIALIZE UPDATE does not decode", rsp);
	if (!e)
		return scp03t_error(c, e, SIM_SCP03T_ERR_KEY, "no keyset", rsp);
	if ((kvn && kvn != e->kvn) || (kid && kid != e->key_id))
		return scp03t_error(c, e, SIM_SCP03T_ERR_KEY, "unknown KVN or key identifier", rsp);
	if (d->lcs != SIM_LCS_PERSONALIZED)
		return scp03t_error(c, e, SIM_SCP03T_ERR_STATE, "ISD-P not PERSONALIZED", rsp);
	if (e->seq > SEQ_MAX)
		return scp03t_error(c, e, SIM_SCP03T_ERR_KEY, "sequence counter exhausted", rsp);
	memset(&r, 0, sizeof(r));
	memcpy(r.key_div, c->eid + SIM_EID_LEN - OTA_SCP03_KEYDIV_LEN, OTA_SCP03_KEYDIV_LEN);
	r.kvn = e->kvn;
	r.scp = 0x03;
	r.i = SCP03T_I;
	r.has_seq = true;
	r.seq[0] = (uint8_t)(e->seq >> 16);
	r.seq[1] = (uint8_t)(e->seq >> 8);
	r.seq[2] = (uint8_t)e->seq;
	TALLOC_FREE(e->scp);
	rc = ota_scp03_card_challenge(e->enc, r.seq, d->aid, d->aid_len, r.card_challenge);
	if (rc == 0)
		rc = ota_scp03_new(e, e->enc, e->mac, hc, r.card_challenge, &e->scp);
	if (rc < 0)
		return rc;
	e->seq++; /* a challenge is never used twice */
	memcpy(r.card_cryptogram, ota_scp03_card_cryptogram(e->scp), OTA_SCP03_CRYPTOGRAM_LEN);
	/* a new session starts a new download attempt */
	pkg_free(e);
	e->n_pe = 0;
	e->n86 = 0;
	e->total = 0;
	e->done = e->reported = false;
	return ota_scp03t_iu_rsp_encode(rsp, &r);
}

/* 85: EXTERNAL AUTHENTICATE */
static int scp03t_ea(struct sim_card *c, struct sim_isdp_es8 *e, const uint8_t *tlv, size_t len, struct proto_buf *rsp)
{
	if (!e || !e->scp || ota_scp03_is_open(e->scp))
		return scp03t_error(c, e, SIM_SCP03T_ERR_NO_SESSION, "EXTERNAL AUTHENTICATE without INITIALIZE UPDATE",
				    rsp);
	if (ota_scp03t_ext_auth_check(e->scp, tlv, len) < 0)
		return scp03t_error(c, e, SIM_SCP03T_ERR_SECURITY, "host cryptogram or C-MAC wrong", rsp);
	if (ota_scp03_security_level(e->scp) != SCP03T_SL_ALL)
		return scp03t_error(c, e, SIM_SCP03T_ERR_SL, "security level other than 33", rsp);
	SIM_LOGC(c, SIM_DCARD, SIM_LOG_DEBUG, "SCP03t session open (KVN %02x)", e->kvn);
	return ota_scp03t_ext_auth_rsp_encode(rsp);
}

/* 86: a profile package segment. An installation that fails is reported on the last '86' of the script (the
 * segments after the failing one are still MAC-checked, then discarded), so that the R-MAC of the EUICCResponse
 * follows the last command the SM-DP wrapped; a successful one on the segment that carries the end PE. */
static int scp03t_data(struct sim_card *c, struct sim_isdp *d, struct sim_isdp_es8 *e, const uint8_t *tlv, size_t len,
		       bool last, struct proto_buf *rsp)
{
	uint8_t der[128];
	struct proto_buf pb, db;
	uint8_t *plain;
	int rc;

	if (!e || !e->scp || !ota_scp03_is_open(e->scp))
		return scp03t_error(c, e, SIM_SCP03T_ERR_NO_SESSION, "'86' without an open session", rsp);
	if (e->reported || (e->done && e->status == PROTO_SAIP_OK))
		return scp03t_error(c, e, SIM_SCP03T_ERR_STATE, "'86' after the end of the package", rsp);
	if (c->faults.mac && e->n86 == 0) {
		SIM_LOGC(c, SIM_DCARD, SIM_LOG_INFO, "fault mac: first '86' reported as a MAC error");
		return scp03t_error(c, e, SIM_SCP03T_ERR_SECURITY, "C-MAC wrong (fault injected)", rsp);
	}
	e->n86++;
	plain = talloc_size(e, len);
	if (!plain)
		return -ENOMEM;
	proto_buf_init(&pb, plain, len);
	rc = ota_scp03t_unwrap_cmd(e->scp, tlv, len, &pb);
	if (rc < 0) {
		talloc_free(plain);
		return scp03t_error(c, e, SIM_SCP03T_ERR_SECURITY, proto_strerror(rc), rsp);
	}
	rc = e->done ? 0 : pkg_feed(c, d, e, pb.data, pb.len); /* after a failure: discarded */
	OPENSSL_cleanse(plain, len);
	talloc_free(plain);
	if (rc < 0)
		return rc;
	if (!e->done || (e->status != PROTO_SAIP_OK && !last))
		return ota_scp03t_wrap_rsp(e->scp, NULL, 0, rsp);
	proto_buf_init(&db, der, sizeof(der));
	rc = pkg_finish(c, d, e, &db);
	if (rc == 0)
		rc = ota_scp03t_wrap_rsp(e->scp, db.data, db.len, rsp);
	e->reported = true;
	TALLOC_FREE(e->scp); /* the download is over */
	if (rc == 0 && e->status != PROTO_SAIP_OK)
		rc = 2;
	return rc;
}

int sim_es8_scp03t(struct sim_card *c, struct sim_isdp *d, const uint8_t *tlv, size_t len, bool last,
		   struct proto_buf *rsp)
{
	struct sim_isdp_es8 *e = d->es8;

	switch (len ? tlv[0] : 0) {
	case OTA_SCP03T_TAG_IU:
		return scp03t_iu(c, d, e, tlv, len, rsp);
	case OTA_SCP03T_TAG_EA:
		return scp03t_ea(c, e, tlv, len, rsp);
	case OTA_SCP03T_TAG_DATA:
		return scp03t_data(c, d, e, tlv, len, last, rsp);
	default:
		return scp03t_error(c, e, SIM_SCP03T_ERR_FORMAT, "unknown SCP03t tag", rsp);
	}
}
