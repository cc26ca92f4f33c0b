/* ISO/IEC 7816-4 short APDUs and the GlobalPlatform commands of SGP.02 ES5/ES8 (sgp02.md §6.4, §6.7). */
#include <errno.h>
#include <string.h>
#include "proto/gp_apdu.h"
#include "proto/bertlv.h"
#include "proto/errors.h"

/* Annex H of SGP.02 (sgp02.md §1) */
const uint8_t proto_gp_aid_isdr[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00,
};
const uint8_t proto_gp_aid_ecasd[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x02, 0x00,
};
const uint8_t proto_gp_aid_isdp_elf[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0D, 0x00,
};
const uint8_t proto_gp_aid_isdp_module[16] = {
	0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0E, 0x00,
};

/* GPCS v2.3.1 §11.1.2 privileges byte 1 b8 (Security Domain), byte 2 b8 (Trusted Path) and b7 (Authorized
 * Management); the exact bytes of sgp02.md §6.4 */
const uint8_t proto_gp_isdp_privileges[3] = { 0x80, 0xC0, 0x00 };

/* C9 value: tag 81 (SCP), 02 bytes: SCP03, i = '70' (sgp02.md §6.4) */
const uint8_t proto_gp_isdp_app_params[4] = { 0x81, 0x02, 0x03, 0x70 };

enum {
	HDR_LEN = 4,		/* CLA INS P1 P2 */
	LE_ANY = 0x00,		/* Le '00': up to 256 bytes */
	DGI_LEN_1B_MAX = 0xFE,	/* DGI length byte 00..FE; FF introduces a 2-byte length */
	DGI_LEN_3B = 0xFF,
	KEY_RANGE_LEN = 3,	/* F2 03 <kvn> <first> <last> */
};

const struct proto_apdu_sw_str proto_apdu_sw_names[] = {
	{ PROTO_SW_OK, 0xFFFF, "success" },
	{ PROTO_SW_MORE_DATA, 0xFFFF, "more data available" },
	{ PROTO_SW_MEMORY_FAILURE, 0xFFFF, "memory failure" },
	{ PROTO_SW_WRONG_LENGTH, 0xFFFF, "wrong length" },
	{ PROTO_SW_LOGICAL_CHANNEL, 0xFFFF, "logical channel not supported" },
	{ PROTO_SW_SM_NOT_SUPPORTED, 0xFFFF, "secure messaging not supported" },
	{ PROTO_SW_SECURITY_STATUS, 0xFFFF, "security status not satisfied" },
	{ PROTO_SW_CONDITIONS_OF_USE, 0xFFFF, "conditions of use not satisfied" },
	{ PROTO_SW_POL1, 0xFFFF, "POL1 of the profile prevents this action" },
	{ PROTO_SW_WRONG_DATA, 0xFFFF, "incorrect values in command data" },
	{ PROTO_SW_FUNC_NOT_SUPPORTED, 0xFFFF, "function not supported" },
	{ PROTO_SW_NOT_FOUND, 0xFFFF, "application or file not found" },
	{ PROTO_SW_NOT_ENOUGH_MEMORY, 0xFFFF, "not enough memory space" },
	{ PROTO_SW_WRONG_P1P2, 0xFFFF, "incorrect P1 P2" },
	{ PROTO_SW_REF_NOT_FOUND, 0xFFFF, "referenced data not found" },
	{ PROTO_SW_INS_NOT_SUPPORTED, 0xFFFF, "INS not supported" },
	{ PROTO_SW_CLA_NOT_SUPPORTED, 0xFFFF, "CLA not supported" },
	{ PROTO_SW_NO_DIAGNOSIS, 0xFFFF, "no precise diagnosis" },
	{ PROTO_SW_ALGO_NOT_SUPPORTED, 0xFFFF, "algorithm not supported" },
	{ PROTO_SW_INVALID_KCV, 0xFFFF, "invalid key check value" },
	{ PROTO_SW_BYTES_AVAILABLE, 0xFF00, "response bytes available" },
	{ PROTO_SW_PROACTIVE_PENDING, 0xFF00, "success, proactive command pending" },
	{ PROTO_SW_WRONG_LE, 0xFF00, "wrong Le" },
	{ 0x6200, 0xFF00, "warning, memory unchanged" },
	{ 0x6300, 0xFF00, "warning, memory changed" },
	{ 0x6400, 0xFF00, "error, memory unchanged" },
	{ 0x6500, 0xFF00, "error, memory changed" },
	{ 0x6800, 0xFF00, "function in CLA not supported" },
	{ 0x6900, 0xFF00, "command not allowed" },
	{ 0x6A00, 0xFF00, "wrong parameters" },
	{ 0, 0, NULL },
};

const char *proto_apdu_sw_name(uint16_t sw)
{
	const struct proto_apdu_sw_str *s;

	for (s = proto_apdu_sw_names; s->str; s++) {
		if ((sw & s->mask) == s->value)
			return s->str;
	}
	return "unknown status word";
}

bool proto_apdu_sw_is_ok(uint16_t sw)
{
	return sw == PROTO_SW_OK || (sw & 0xFF00) == PROTO_SW_BYTES_AVAILABLE ||
	       (sw & 0xFF00) == PROTO_SW_PROACTIVE_PENDING;
}

const char *proto_gp_ins_name(uint8_t ins)
{
	switch (ins) {
	case PROTO_GP_INS_DELETE:
		return "DELETE";
	case PROTO_GP_INS_GET_DATA:
		return "GET DATA";
	case PROTO_GP_INS_GET_STATUS:
		return "GET STATUS";
	case PROTO_GP_INS_INSTALL:
		return "INSTALL";
	case PROTO_GP_INS_LOAD:
		return "LOAD";
	case PROTO_GP_INS_PUT_KEY:
		return "PUT KEY";
	case PROTO_GP_INS_SELECT:
		return "SELECT";
	case PROTO_GP_INS_SET_STATUS:
		return "SET STATUS";
	case PROTO_GP_INS_STORE_DATA:
		return "STORE DATA";
	case PROTO_GP_INS_GET_RESPONSE:
		return "GET RESPONSE";
	case PROTO_GP_INS_INITIALIZE_UPDATE:
		return "INITIALIZE UPDATE";
	case PROTO_GP_INS_EXTERNAL_AUTHENTICATE:
		return "EXTERNAL AUTHENTICATE";
	default:
		return "unknown INS";
	}
}

const char *proto_gp_es5_dgi_name(uint16_t dgi)
{
	switch (dgi) {
	case PROTO_GP_DGI_KEYSET_CERT:
		return "EstablishKeySet certificate";
	case PROTO_GP_DGI_KEYSET_AGREEMENT:
		return "EstablishKeySet key agreement";
	case PROTO_GP_DGI_ENABLE_PROFILE:
		return "EnableProfile";
	case PROTO_GP_DGI_DISABLE_PROFILE:
		return "DisableProfile";
	case PROTO_GP_DGI_SET_FALLBACK:
		return "SetFallBackAttribute";
	case PROTO_GP_DGI_UPDATE_ADDRESSING:
		return "UpdateAddressingParameters";
	case PROTO_GP_DGI_NOTIFICATION_CONFIRM:
		return "NotificationConfirmation";
	default:
		return "unknown DGI";
	}
}

enum proto_apdu_case proto_apdu_case(const struct proto_apdu *a)
{
	if (a->lc)
		return a->le_present ? PROTO_APDU_CASE_4 : PROTO_APDU_CASE_3;
	return a->le_present ? PROTO_APDU_CASE_2 : PROTO_APDU_CASE_1;
}

int proto_apdu_encode(struct proto_buf *b, const struct proto_apdu *a)
{
	size_t start = b->len;

	if (a->lc > PROTO_APDU_MAX_DATA || (a->lc && !a->data))
		return -EINVAL;
	proto_buf_put_u8(b, a->cla);
	proto_buf_put_u8(b, a->ins);
	proto_buf_put_u8(b, a->p1);
	proto_buf_put_u8(b, a->p2);
	if (a->lc) {
		proto_buf_put_u8(b, (uint8_t)a->lc);
		proto_buf_put(b, a->data, a->lc);
	}
	if (a->le_present)
		proto_buf_put_u8(b, a->le);
	if (b->overflow)
		return -PROTO_E_NOSPACE;
	return (int)(b->len - start);
}

int proto_apdu_decode(const uint8_t *in, size_t len, struct proto_apdu *a)
{
	struct proto_cur c;
	size_t left;
	int rc = -PROTO_E_TRUNCATED;

	memset(a, 0, sizeof(*a));
	proto_cur_init(&c, in, len);
	a->cla = proto_cur_u8(&c);
	a->ins = proto_cur_u8(&c);
	a->p1 = proto_cur_u8(&c);
	a->p2 = proto_cur_u8(&c);
	if (c.bad)
		goto malformed;
	left = proto_cur_left(&c);
	if (left == 0)
		return 0;			/* case 1 */
	if (left == 1) {
		a->le_present = true;		/* case 2 */
		a->le = proto_cur_u8(&c);
		return 0;
	}
	a->lc = proto_cur_u8(&c);
	if (a->lc == 0) {
		rc = -PROTO_E_UNSUPPORTED;	/* '00' then more bytes: extended length */
		goto malformed;
	}
	a->data = proto_cur_get(&c, a->lc);
	if (c.bad)
		goto malformed;
	left = proto_cur_left(&c);
	if (left > 1) {
		rc = -PROTO_E_TRAILING;
		goto malformed;
	}
	if (left == 1) {
		a->le_present = true;		/* case 4 */
		a->le = proto_cur_u8(&c);
	}
	return 0;

malformed:
	memset(a, 0, sizeof(*a));
	return rc;
}

int proto_apdu_rsp_decode(const uint8_t *in, size_t len, struct proto_rapdu *r)
{
	memset(r, 0, sizeof(*r));
	if (len < 2)
		return -PROTO_E_TRUNCATED;
	r->data = in;
	r->len = len - 2;
	r->sw = (uint16_t)(in[len - 2] << 8 | in[len - 1]);
	return 0;
}

int proto_apdu_rsp_encode(struct proto_buf *b, const uint8_t *data, size_t len, uint16_t sw)
{
	if (len)
		proto_buf_put(b, data, len);
	proto_buf_put_u16(b, sw);
	return proto_buf_status(b);
}

/* Builders write the header and a placeholder Lc, then the data straight into the buffer; cmd_end() patches
 * Lc, appends Le and rolls everything back when the data turned out longer than a short Lc allows. */
struct cmd {
	size_t start;	/* offset of CLA */
	size_t data;	/* offset of the first data byte */
};

static int cmd_begin(struct proto_buf *b, struct cmd *c, uint8_t ins, uint8_t p1, uint8_t p2)
{
	if (b->overflow)
		return -PROTO_E_NOSPACE;
	c->start = b->len;
	proto_buf_put_u8(b, PROTO_GP_CLA);
	proto_buf_put_u8(b, ins);
	proto_buf_put_u8(b, p1);
	proto_buf_put_u8(b, p2);
	proto_buf_put_u8(b, 0);		/* Lc, patched by cmd_end() */
	c->data = b->len;
	return 0;
}

static int cmd_end(struct proto_buf *b, const struct cmd *c, bool le)
{
	size_t n;

	if (b->overflow)
		return -PROTO_E_NOSPACE;
	n = b->len - c->data;
	if (n > PROTO_APDU_MAX_DATA) {
		b->len = c->start;
		return -EINVAL;
	}
	if (n == 0)
		b->len--;		/* no data: no Lc field (case 1 or 2) */
	else
		b->data[c->data - 1] = (uint8_t)n;
	if (le)
		proto_buf_put_u8(b, LE_ANY);
	if (b->overflow)
		return -PROTO_E_NOSPACE;
	return (int)(b->len - c->start);
}

static bool aid_ok(const uint8_t *aid, size_t len, bool optional)
{
	if (len == 0)
		return optional;
	return aid && len >= PROTO_AID_MIN_LEN && len <= PROTO_AID_MAX_LEN;
}

/* a length-prefixed field (LV) of the INSTALL data: one length byte */
static void put_lv(struct proto_buf *b, const uint8_t *v, size_t len)
{
	proto_buf_put_u8(b, (uint8_t)len);
	if (len)
		proto_buf_put(b, v, len);
}

int proto_gp_install_for_install(struct proto_buf *b, uint8_t p1, const struct proto_gp_install *in)
{
	struct cmd c;
	size_t lp_off, ef;
	uint8_t q[4];
	int rc;

	if (!aid_ok(in->elf_aid, in->elf_aid_len, true) || !aid_ok(in->module_aid, in->module_aid_len, true) ||
	    !aid_ok(in->app_aid, in->app_aid_len, false) || in->privileges_len > 3 ||
	    (in->privileges_len && !in->privileges) || (in->app_params_len && !in->app_params) ||
	    (in->token_len && !in->token) || in->app_params_len > PROTO_APDU_MAX_DATA ||
	    in->token_len > PROTO_APDU_MAX_DATA)
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_INSTALL, p1, 0)) < 0)
		return rc;
	put_lv(b, in->elf_aid, in->elf_aid_len);
	put_lv(b, in->module_aid, in->module_aid_len);
	put_lv(b, in->app_aid, in->app_aid_len);
	put_lv(b, in->privileges, in->privileges_len);

	/* install parameters field: Lp, then C9 (mandatory) and the optional EF system parameters */
	proto_buf_put_u8(b, 0);
	lp_off = b->len;
	proto_tlv_put(b, PROTO_GP_TAG_APP_PARAMS, in->app_params, in->app_params_len);
	if (in->has_nvm_quota) {
		ef = proto_tlv_open(b, PROTO_GP_TAG_SYS_PARAMS);
		if (in->nvm_quota <= 0xFFFF) {
			q[0] = (uint8_t)(in->nvm_quota >> 8);
			q[1] = (uint8_t)in->nvm_quota;
			proto_tlv_put(b, PROTO_GP_TAG_NVM_QUOTA, q, 2);
		} else {
			q[0] = (uint8_t)(in->nvm_quota >> 24);
			q[1] = (uint8_t)(in->nvm_quota >> 16);
			q[2] = (uint8_t)(in->nvm_quota >> 8);
			q[3] = (uint8_t)in->nvm_quota;
			proto_tlv_put(b, PROTO_GP_TAG_NVM_QUOTA, q, 4);
		}
		proto_tlv_close(b, ef);
	}
	if (!b->overflow) {
		if (b->len - lp_off > 0xFF) {
			b->len = c.start;
			return -EINVAL;
		}
		b->data[lp_off - 1] = (uint8_t)(b->len - lp_off);
	}
	put_lv(b, in->token, in->token_len);
	return cmd_end(b, &c, true);
}

int proto_gp_es5_create_isdp(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len, const uint32_t *quota)
{
	struct proto_gp_install in = {
		.elf_aid = proto_gp_aid_isdp_elf,
		.elf_aid_len = sizeof(proto_gp_aid_isdp_elf),
		.module_aid = proto_gp_aid_isdp_module,
		.module_aid_len = sizeof(proto_gp_aid_isdp_module),
		.app_aid = isdp_aid,
		.app_aid_len = aid_len,
		.privileges = proto_gp_isdp_privileges,
		.privileges_len = sizeof(proto_gp_isdp_privileges),
		.app_params = proto_gp_isdp_app_params,
		.app_params_len = sizeof(proto_gp_isdp_app_params),
		.has_nvm_quota = quota != NULL,
		.nvm_quota = quota ? *quota : 0,
	};

	return proto_gp_install_for_install(b, PROTO_GP_INSTALL_FOR_INSTALL | PROTO_GP_INSTALL_FOR_MAKE_SELECTABLE,
					    &in);
}

int proto_gp_install_for_perso(struct proto_buf *b, const uint8_t *aid, size_t aid_len)
{
	struct cmd c;
	int rc;

	if (!aid_ok(aid, aid_len, false))
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_INSTALL, PROTO_GP_INSTALL_FOR_PERSONALIZATION, 0)) < 0)
		return rc;
	put_lv(b, NULL, 0);	/* no ELF AID */
	put_lv(b, NULL, 0);	/* no module AID */
	put_lv(b, aid, aid_len);
	put_lv(b, NULL, 0);	/* no privileges */
	put_lv(b, NULL, 0);	/* no install parameters */
	put_lv(b, NULL, 0);	/* no token */
	return cmd_end(b, &c, false);
}

int proto_gp_store_data(struct proto_buf *b, uint8_t p1, uint8_t p2, const uint8_t *data, size_t len)
{
	struct proto_apdu a = {
		.cla = PROTO_GP_CLA,
		.ins = PROTO_GP_INS_STORE_DATA,
		.p1 = p1,
		.p2 = p2,
		.data = data,
		.lc = len,
		.le_present = p1 & PROTO_GP_SD_P1_CASE4,
		.le = LE_ANY,
	};

	if (b->overflow)
		return -PROTO_E_NOSPACE;
	if (len == 0)
		return -EINVAL;
	return proto_apdu_encode(b, &a);
}

int proto_gp_dgi_put(struct proto_buf *b, uint16_t dgi, const uint8_t *val, size_t len)
{
	if (len > 0xFFFF || (len && !val))
		return -EINVAL;
	proto_buf_put_u16(b, dgi);
	if (len <= DGI_LEN_1B_MAX) {
		proto_buf_put_u8(b, (uint8_t)len);
	} else {
		proto_buf_put_u8(b, DGI_LEN_3B);
		proto_buf_put_u16(b, (uint16_t)len);
	}
	if (len)
		proto_buf_put(b, val, len);
	return proto_buf_status(b);
}

int proto_gp_store_data_chain_init(struct proto_gp_store_data_chain *c, uint8_t p1, uint8_t first_block,
				   const uint8_t *data, size_t len, size_t block_size)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	if (block_size == 0)
		block_size = PROTO_APDU_MAX_DATA;
	if (len == 0 || !data || block_size > PROTO_APDU_MAX_DATA)
		return -EINVAL;
	n = (len + block_size - 1) / block_size;
	if (n > 256u - first_block)
		return -EINVAL;
	c->cla = PROTO_GP_CLA;
	c->p1 = p1 & (uint8_t)~PROTO_GP_SD_P1_LAST_BLOCK;
	c->block = first_block;
	c->data = data;
	c->len = len;
	c->block_size = block_size;
	return 0;
}

int proto_gp_store_data_chain_next(struct proto_gp_store_data_chain *c, struct proto_apdu *a)
{
	size_t n;

	if (c->off >= c->len)
		return 0;
	n = c->len - c->off;
	if (n > c->block_size)
		n = c->block_size;
	memset(a, 0, sizeof(*a));
	a->cla = c->cla;
	a->ins = PROTO_GP_INS_STORE_DATA;
	a->p1 = c->p1;
	if (c->off + n == c->len)
		a->p1 |= PROTO_GP_SD_P1_LAST_BLOCK;
	a->p2 = (uint8_t)c->block;
	a->data = c->data + c->off;
	a->lc = n;
	a->le_present = c->p1 & PROTO_GP_SD_P1_CASE4;
	a->le = LE_ANY;
	c->off += n;
	c->block++;
	return 1;
}

/* STORE DATA, last block, DGI format: <dgi> L 4F L <aid> (EnableProfile, DisableProfile, SetFallBack) */
static int es5_aid_store_data(struct proto_buf *b, uint16_t dgi, const uint8_t *aid, size_t aid_len)
{
	uint8_t v[2 + PROTO_AID_MAX_LEN];
	struct cmd c;
	int rc;

	if (!aid_ok(aid, aid_len, false))
		return -EINVAL;
	v[0] = PROTO_GP_TAG_AID;
	v[1] = (uint8_t)aid_len;
	memcpy(v + 2, aid, aid_len);
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_STORE_DATA, PROTO_GP_SD_P1_LAST_BLOCK | PROTO_GP_SD_P1_DGI, 0)) < 0)
		return rc;
	proto_gp_dgi_put(b, dgi, v, 2 + aid_len);
	return cmd_end(b, &c, false);
}

int proto_gp_es5_enable_profile(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len)
{
	return es5_aid_store_data(b, PROTO_GP_DGI_ENABLE_PROFILE, isdp_aid, aid_len);
}

int proto_gp_es5_disable_profile(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len)
{
	return es5_aid_store_data(b, PROTO_GP_DGI_DISABLE_PROFILE, isdp_aid, aid_len);
}

int proto_gp_es5_set_fallback(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len)
{
	return es5_aid_store_data(b, PROTO_GP_DGI_SET_FALLBACK, isdp_aid, aid_len);
}

int proto_gp_es5_notification_confirm(struct proto_buf *b, uint16_t seq)
{
	uint8_t v[4] = { PROTO_GP_TAG_SEQ_NUMBER, 2, (uint8_t)(seq >> 8), (uint8_t)seq };
	struct cmd c;
	int rc;

	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_STORE_DATA,
			    PROTO_GP_SD_P1_LAST_BLOCK | PROTO_GP_SD_P1_DGI | PROTO_GP_SD_P1_CASE4, 0)) < 0)
		return rc;
	proto_gp_dgi_put(b, PROTO_GP_DGI_NOTIFICATION_CONFIRM, v, sizeof(v));
	return cmd_end(b, &c, true);
}

int proto_gp_es5_update_smsr_addressing(struct proto_buf *b, const uint8_t *params, size_t len)
{
	struct cmd c;
	int rc;

	if (len == 0 || !params || len > PROTO_APDU_MAX_DATA)
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_STORE_DATA, PROTO_GP_SD_P1_LAST_BLOCK | PROTO_GP_SD_P1_DGI, 0)) < 0)
		return rc;
	proto_gp_dgi_put(b, PROTO_GP_DGI_UPDATE_ADDRESSING, params, len);
	return cmd_end(b, &c, false);
}

int proto_gp_delete(struct proto_buf *b, uint8_t p2, const uint8_t *aid, size_t aid_len,
		    const struct proto_gp_key_range *keys, size_t n_keys)
{
	uint8_t kr[KEY_RANGE_LEN];
	struct cmd c;
	size_t i;
	int rc;

	if (!aid_ok(aid, aid_len, true) || (n_keys && !keys) || (!aid_len && !n_keys) ||
	    n_keys > PROTO_APDU_MAX_DATA / (2 + KEY_RANGE_LEN))
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_DELETE, 0, p2)) < 0)
		return rc;
	if (aid_len)
		proto_tlv_put(b, PROTO_GP_TAG_AID, aid, aid_len);
	for (i = 0; i < n_keys; i++) {
		kr[0] = keys[i].kvn;
		kr[1] = keys[i].first_kid;
		kr[2] = keys[i].last_kid;
		proto_tlv_put(b, PROTO_GP_TAG_KEY_RANGE, kr, sizeof(kr));
	}
	return cmd_end(b, &c, true);
}

int proto_gp_es5_delete_profile(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len)
{
	if (!aid_len)
		return -EINVAL;
	return proto_gp_delete(b, PROTO_GP_DELETE_SGP02_ISDP, isdp_aid, aid_len, NULL, 0);
}

int proto_gp_es5_master_delete(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len,
			       const struct proto_gp_delete_token *t)
{
	struct cmd c;
	size_t crt;
	int rc;

	if (!aid_ok(isdp_aid, aid_len, false) || !t || !t->sin_len || !t->sdin_len || !t->provider_id_len ||
	    !t->token_id_len || !t->token_len || !t->sin || !t->sdin || !t->provider_id || !t->token_id || !t->token)
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_DELETE, 0, PROTO_GP_DELETE_SGP02_ISDP)) < 0)
		return rc;
	proto_tlv_put(b, PROTO_GP_TAG_AID, isdp_aid, aid_len);
	crt = proto_tlv_open(b, PROTO_GP_TAG_TOKEN_CRT);
	proto_tlv_put(b, PROTO_GP_TAG_SD_PROVIDER, t->sin, t->sin_len);
	proto_tlv_put(b, PROTO_GP_TAG_SD_IMAGE, t->sdin, t->sdin_len);
	proto_tlv_put(b, PROTO_GP_TAG_APP_PROVIDER, t->provider_id, t->provider_id_len);
	proto_tlv_put(b, PROTO_GP_TAG_TOKEN_ID, t->token_id, t->token_id_len);
	proto_tlv_close(b, crt);
	proto_tlv_put(b, PROTO_GP_TAG_DELETE_TOKEN, t->token, t->token_len);
	return cmd_end(b, &c, true);
}

int proto_gp_es5_finalise_isdr_handover(struct proto_buf *b, const struct proto_gp_key_range *keys, size_t n_keys)
{
	if (!n_keys)
		return -EINVAL;
	return proto_gp_delete(b, PROTO_GP_DELETE_OBJECT, NULL, 0, keys, n_keys);
}

int proto_gp_get_status(struct proto_buf *b, uint8_t p1, uint8_t p2, const uint8_t *aid, size_t aid_len,
			const uint8_t *tags, size_t tags_len)
{
	struct cmd c;
	int rc;

	if (!aid_ok(aid, aid_len, true) || (tags_len && !tags) || tags_len > PROTO_APDU_MAX_DATA)
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_GET_STATUS, p1, p2)) < 0)
		return rc;
	proto_tlv_put(b, PROTO_GP_TAG_AID, aid, aid_len);
	if (tags_len)
		proto_tlv_put(b, PROTO_GP_TAG_TAG_LIST, tags, tags_len);
	return cmd_end(b, &c, true);
}

int proto_gp_get_data(struct proto_buf *b, uint16_t tag, const uint8_t *data, size_t len)
{
	struct cmd c;
	int rc;

	if ((len && !data) || len > PROTO_APDU_MAX_DATA)
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_GET_DATA, (uint8_t)(tag >> 8), (uint8_t)tag)) < 0)
		return rc;
	if (len)
		proto_buf_put(b, data, len);
	return cmd_end(b, &c, true);
}

int proto_gp_es5_audit_get_data(struct proto_buf *b, const uint8_t *tags, size_t tags_len)
{
	struct cmd c;
	int rc;

	if (!tags_len || !tags || tags_len > PROTO_APDU_MAX_DATA)
		return -EINVAL;
	if ((rc = cmd_begin(b, &c, PROTO_GP_INS_GET_DATA, (uint8_t)(PROTO_GP_TAG_EUICC_INFO >> 8),
			    (uint8_t)PROTO_GP_TAG_EUICC_INFO)) < 0)
		return rc;
	proto_tlv_put(b, PROTO_GP_TAG_TAG_LIST, tags, tags_len);
	return cmd_end(b, &c, true);
}
