/*! \file gp_apdu.h
 *  ISO/IEC 7816-4 command and response APDUs (short length fields only) and the GlobalPlatform card
 *  management commands SGP.02 sends over ES5 (SM-SR -> ISD-R) and ES8 (SM-DP -> ISD-P).
 *
 *  C-APDU:  CLA INS P1 P2 [Lc data] [Le]     case 1: header only; case 2: Le; case 3: Lc data; case 4: Lc data Le.
 *  R-APDU:  [data] SW1 SW2
 *  Lc is one byte (1..255) and Le one byte ('00' = up to 256); extended lengths are refused everywhere.
 *
 *  Builders (proto_gp_*) append one complete encoded C-APDU to a struct proto_buf and return its length, so
 *  that a caller can wrap it straight into a TS 102 226 C-APDU TLV (see ts102226_rcmd.h). A builder whose
 *  command data would exceed 255 bytes writes nothing and returns -EINVAL; a buffer overflow is sticky in the
 *  proto_buf and returns -PROTO_E_NOSPACE. CLA is always '80' (GP proprietary, no secure messaging: ES5/ES8
 *  scripts are protected by the SCP80/SCP81/SCP03t envelope around them).
 *
 *  Byte layouts of the SGP.02 commands follow ../shared/docs/sgp02.md §6.4 (ES5 command table) and §6.7
 *  (ES8); the GP coding rules cited are GPCS v2.3.1 chapter 11 (INSTALL §11.5, DELETE §11.2, GET DATA §11.3,
 *  GET STATUS §11.4, STORE DATA §11.11 with P1 per Table 11-89, see ../shared/docs/crypto.md §1.3).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"

#define PROTO_APDU_MAX_DATA 255			/*!< largest Nc with a short Lc */
#define PROTO_APDU_MAX_LEN (4 + 1 + 255 + 1)	/*!< largest short C-APDU: header, Lc, data, Le */
#define PROTO_AID_MIN_LEN 5			/*!< ISO/IEC 7816-5: RID (5) */
#define PROTO_AID_MAX_LEN 16			/*!< ISO/IEC 7816-5: RID (5) + PIX (<= 11) */

/*! ISO/IEC 7816-3 §12.1 command cases (short form). */
enum proto_apdu_case {
	PROTO_APDU_CASE_1 = 1,	/*!< no data, no Le */
	PROTO_APDU_CASE_2 = 2,	/*!< Le only */
	PROTO_APDU_CASE_3 = 3,	/*!< Lc and data */
	PROTO_APDU_CASE_4 = 4,	/*!< Lc, data and Le */
};

/*! A command APDU. Encoders read it; proto_apdu_decode() fills it with data pointing into the input. */
struct proto_apdu {
	uint8_t cla;
	uint8_t ins;
	uint8_t p1;
	uint8_t p2;
	const uint8_t *data;	/*!< command data (may be NULL when lc is 0) */
	size_t lc;		/*!< number of data bytes, 0..255; 0 = no Lc field */
	bool le_present;	/*!< an Le field is present (case 2 or 4) */
	uint8_t le;		/*!< raw Le byte; '00' means up to 256 bytes */
};

/*! A response APDU split into its parts (points into the input). */
struct proto_rapdu {
	const uint8_t *data;	/*!< response data: the start of the input (also when len is 0) */
	size_t len;		/*!< response data length, without SW */
	uint16_t sw;		/*!< SW1 << 8 | SW2 */
};

/*! The case of a command (from lc and le_present). */
enum proto_apdu_case proto_apdu_case(const struct proto_apdu *a);

/*! Append a C-APDU. Returns the number of bytes written, -EINVAL when lc > 255 or data is NULL with lc > 0,
 *  -PROTO_E_NOSPACE when the buffer is (or becomes) full. Nothing is written on -EINVAL. */
int proto_apdu_encode(struct proto_buf *b, const struct proto_apdu *a);

/*! Parse a short C-APDU that fills in[0..len) exactly (ISO/IEC 7816-3 §12.1.3 rules):
 *  4 bytes = case 1; 5 bytes = case 2 (Le); else byte 5 is Lc and the rest must be data (case 3) or data plus
 *  one Le byte (case 4). Returns 0, -PROTO_E_TRUNCATED (fewer than 4 bytes, or fewer data bytes than Lc),
 *  -PROTO_E_TRAILING (more than Lc + 1 bytes after Lc), -PROTO_E_UNSUPPORTED (Lc byte '00' followed by data:
 *  extended length). Note that a prefix of a valid APDU may be another valid APDU (case 4 minus Le is case 3;
 *  any 4- or 5-byte prefix is case 1 or 2): the length of the container decides. */
int proto_apdu_decode(const uint8_t *in, size_t len, struct proto_apdu *a);

/*! Split an R-APDU into data and SW. -PROTO_E_TRUNCATED when shorter than 2 bytes. */
int proto_apdu_rsp_decode(const uint8_t *in, size_t len, struct proto_rapdu *r);

/*! Append data || SW1 SW2. Returns 0 or -PROTO_E_NOSPACE. */
int proto_apdu_rsp_encode(struct proto_buf *b, const uint8_t *data, size_t len, uint16_t sw);

/*! Status words met in SGP.02 ES5/ES8 responses (ISO/IEC 7816-4 §5.6, ETSI TS 102 221 §10.2.1,
 *  GPCS v2.3.1 chapter 11, SGP.02 §4.1.1 as quoted in sgp02.md §6.4). SW1-only groups carry a count in SW2. */
enum proto_apdu_sw {
	PROTO_SW_OK = 0x9000,		      /*!< normal ending */
	PROTO_SW_BYTES_AVAILABLE = 0x6100,    /*!< 61xx: xx response bytes still available */
	PROTO_SW_PROACTIVE_PENDING = 0x9100,  /*!< 91xx (TS 102 221): normal ending, proactive command */
	PROTO_SW_MORE_DATA = 0x6310,	      /*!< GP GET STATUS: more data available */
	PROTO_SW_MEMORY_FAILURE = 0x6581,     /*!< memory failure */
	PROTO_SW_WRONG_LENGTH = 0x6700,	      /*!< wrong length */
	PROTO_SW_LOGICAL_CHANNEL = 0x6881,    /*!< logical channel not supported */
	PROTO_SW_SM_NOT_SUPPORTED = 0x6882,   /*!< secure messaging not supported */
	PROTO_SW_SECURITY_STATUS = 0x6982,    /*!< security status not satisfied */
	PROTO_SW_CONDITIONS_OF_USE = 0x6985,  /*!< conditions of use not satisfied (wrong state, fall-back) */
	PROTO_SW_POL1 = 0x69E1,		      /*!< SGP.02: POL1 of the profile prevents this action */
	PROTO_SW_WRONG_DATA = 0x6A80,	      /*!< incorrect values in command data */
	PROTO_SW_FUNC_NOT_SUPPORTED = 0x6A81, /*!< function not supported */
	PROTO_SW_NOT_FOUND = 0x6A82,	      /*!< application / file not found */
	PROTO_SW_NOT_ENOUGH_MEMORY = 0x6A84,  /*!< not enough memory space */
	PROTO_SW_WRONG_P1P2 = 0x6A86,	      /*!< incorrect P1 P2 */
	PROTO_SW_REF_NOT_FOUND = 0x6A88,      /*!< referenced data not found (ISD-P absent) */
	PROTO_SW_WRONG_LE = 0x6C00,	      /*!< 6Cxx: wrong Le, xx is the exact length */
	PROTO_SW_INS_NOT_SUPPORTED = 0x6D00,  /*!< INS not supported */
	PROTO_SW_CLA_NOT_SUPPORTED = 0x6E00,  /*!< CLA not supported */
	PROTO_SW_NO_DIAGNOSIS = 0x6F00,	      /*!< no precise diagnosis */
	PROTO_SW_ALGO_NOT_SUPPORTED = 0x9484, /*!< GP: algorithm not supported */
	PROTO_SW_INVALID_KCV = 0x9485,	      /*!< GP: invalid key check value */
};

/*! One row of the SW value-string table: matches when (sw & mask) == value. */
struct proto_apdu_sw_str {
	uint16_t value;
	uint16_t mask;
	const char *str;
};

/*! SW names, exact words first, then SW1 groups; ends with { 0, 0, NULL }. */
extern const struct proto_apdu_sw_str proto_apdu_sw_names[];

/*! Name of a status word ("success", "POL1 of the profile prevents this action", ...); never NULL
 *  ("unknown status word" when not listed). */
const char *proto_apdu_sw_name(uint16_t sw);

/*! True for normal endings: 9000, 61xx and 91xx. */
bool proto_apdu_sw_is_ok(uint16_t sw);

/*! GlobalPlatform CLA and INS bytes (GPCS v2.3.1 chapter 11 / ISO/IEC 7816-4 §5.1). */
enum proto_gp_cla {
	PROTO_GP_CLA = 0x80,		/*!< proprietary, no secure messaging */
	PROTO_GP_CLA_SM = 0x84,		/*!< proprietary with GP secure messaging */
};

enum proto_gp_ins {
	PROTO_GP_INS_DELETE = 0xE4,
	PROTO_GP_INS_GET_DATA = 0xCA,
	PROTO_GP_INS_GET_STATUS = 0xF2,
	PROTO_GP_INS_INSTALL = 0xE6,
	PROTO_GP_INS_LOAD = 0xE8,
	PROTO_GP_INS_PUT_KEY = 0xD8,
	PROTO_GP_INS_SELECT = 0xA4,
	PROTO_GP_INS_SET_STATUS = 0xF0,
	PROTO_GP_INS_STORE_DATA = 0xE2,
	PROTO_GP_INS_GET_RESPONSE = 0xC0,
	PROTO_GP_INS_INITIALIZE_UPDATE = 0x50,
	PROTO_GP_INS_EXTERNAL_AUTHENTICATE = 0x82,
};

/*! Name of an INS byte ("STORE DATA", ...); never NULL. */
const char *proto_gp_ins_name(uint8_t ins);

/*! Tags of the GP/SGP.02 data fields built or parsed here. */
enum proto_gp_tag {
	PROTO_GP_TAG_AID = 0x4F,	    /*!< AID (GPCS DELETE / GET STATUS data; SGP.02 ES5 data) */
	PROTO_GP_TAG_SEQ_NUMBER = 0x4E,	    /*!< SGP.02 notification sequence number (sgp02.md §6.5) */
	PROTO_GP_TAG_TAG_LIST = 0x5C,	    /*!< tag list (GET STATUS / GET DATA) */
	PROTO_GP_TAG_SD_PROPS = 0x53,	    /*!< SGP.02 GET STATUS ISD-P properties (b1 = fall-back) */
	PROTO_GP_TAG_LCS = 0x9F70,	    /*!< life-cycle state (GET STATUS) */
	PROTO_GP_TAG_REGISTRY_ENTRY = 0xE3, /*!< GP registry entry (GET STATUS response) */
	PROTO_GP_TAG_APP_PARAMS = 0xC9,	    /*!< application specific install parameters (GPCS §11.5) */
	PROTO_GP_TAG_SYS_PARAMS = 0xEF,	    /*!< system specific install parameters */
	PROTO_GP_TAG_NVM_QUOTA = 0x83,	    /*!< in EF: TS 102 226 cumulative granted non-volatile memory */
	PROTO_GP_TAG_KEY_RANGE = 0xF2,	    /*!< SGP.02 FinaliseISDRhandover DELETE: KVN, first and last KeyID */
	PROTO_GP_TAG_EUICC_INFO = 0xBF30,   /*!< GET DATA object for eUICCCapabilityAudit (sgp02.md §6.4) */
	PROTO_GP_TAG_TOKEN_CRT = 0xB6,	    /*!< MasterDelete: control reference template of the Delete Token */
	PROTO_GP_TAG_SD_PROVIDER = 0x42,    /*!< in B6: ISD-P SIN */
	PROTO_GP_TAG_SD_IMAGE = 0x45,	    /*!< in B6: ISD-P SDIN */
	PROTO_GP_TAG_APP_PROVIDER = 0x5F20, /*!< in B6: application provider identifier */
	PROTO_GP_TAG_TOKEN_ID = 0x93,	    /*!< in B6: token identifier */
	PROTO_GP_TAG_DELETE_TOKEN = 0x9E,   /*!< the Delete Token (issued by the SM-DP) */
};

/*! INSTALL P1 (GPCS v2.3.1 §11.5): bits may be combined, e.g. install + make selectable = '0C'. */
enum proto_gp_install_p1 {
	PROTO_GP_INSTALL_FOR_LOAD = 0x02,
	PROTO_GP_INSTALL_FOR_INSTALL = 0x04,
	PROTO_GP_INSTALL_FOR_MAKE_SELECTABLE = 0x08,
	PROTO_GP_INSTALL_FOR_EXTRADITION = 0x10,
	PROTO_GP_INSTALL_FOR_PERSONALIZATION = 0x20,
	PROTO_GP_INSTALL_FOR_REGISTRY_UPDATE = 0x40,
};

/*! STORE DATA P1 bits (GPCS v2.3.1 Table 11-89, crypto.md §1.3). P2 is the block number from '00'. */
enum proto_gp_store_data_p1 {
	PROTO_GP_SD_P1_LAST_BLOCK = 0x80,	/*!< b8: last (or only) block */
	PROTO_GP_SD_P1_ENC_APP = 0x20,		/*!< b7b6 = 01: application dependent encryption */
	PROTO_GP_SD_P1_ENC_DEK = 0x60,		/*!< b7b6 = 11: encrypted with the DEK */
	PROTO_GP_SD_P1_DGI = 0x08,		/*!< b5b4 = 01: DGI format */
	PROTO_GP_SD_P1_BERTLV = 0x10,		/*!< b5b4 = 10: BER-TLV format */
	PROTO_GP_SD_P1_CASE4 = 0x01,		/*!< b1: case 4, response data expected (Le '00' is sent) */
};

/*! DELETE P2 (GPCS v2.3.1 §11.2). */
enum proto_gp_delete_p2 {
	PROTO_GP_DELETE_OBJECT = 0x00,		/*!< delete object (and FinaliseISDRhandover key deletion) */
	PROTO_GP_DELETE_SGP02_ISDP = 0x40,	/*!< as sent by ES5.DeleteProfile (sgp02.md §6.4) */
	PROTO_GP_DELETE_OBJECT_AND_RELATED = 0x80,
};

/*! GET STATUS P1 (subset) and P2 (GPCS v2.3.1 §11.4). */
enum proto_gp_get_status_p {
	PROTO_GP_STATUS_P1_ISD = 0x80,
	PROTO_GP_STATUS_P1_APPS = 0x40,		/*!< applications and security domains (ISD-Ps) */
	PROTO_GP_STATUS_P1_ELF = 0x20,
	PROTO_GP_STATUS_P1_ELF_MODULES = 0x10,
	PROTO_GP_STATUS_P2_NEXT = 0x01,		/*!< next occurrence (after 6310) */
	PROTO_GP_STATUS_P2_TLV = 0x02,		/*!< response in TLV format */
};

/*! STORE DATA DGIs of the SGP.02 ES5/ES8 functions (sgp02.md §6.4, §6.6). */
enum proto_gp_es5_dgi {
	PROTO_GP_DGI_KEYSET_CERT = 0x3A01,		/*!< Establish*KeySet part 1: off-card certificate 7F21 */
	PROTO_GP_DGI_KEYSET_AGREEMENT = 0x3A02,		/*!< Establish*KeySet part 2: A6 CRT, 7F49, 5F37 */
	PROTO_GP_DGI_ENABLE_PROFILE = 0x3A03,
	PROTO_GP_DGI_DISABLE_PROFILE = 0x3A04,
	PROTO_GP_DGI_SET_FALLBACK = 0x3A05,
	PROTO_GP_DGI_UPDATE_ADDRESSING = 0x3A07,	/*!< UpdateSMSRAddressingParameters / connectivity params */
	PROTO_GP_DGI_NOTIFICATION_CONFIRM = 0x3A08,
};

/*! Name of an SGP.02 DGI ("EnableProfile", ...); never NULL. */
const char *proto_gp_es5_dgi_name(uint16_t dgi);

/*! Well-known AIDs (SGP.02 Annex H, sgp02.md §1). */
extern const uint8_t proto_gp_aid_isdr[16];		/*!< A0000005591010FFFFFFFF8900000100 */
extern const uint8_t proto_gp_aid_ecasd[16];		/*!< A0000005591010FFFFFFFF8900000200 */
extern const uint8_t proto_gp_aid_isdp_elf[16];		/*!< A0000005591010FFFFFFFF8900000D00 */
extern const uint8_t proto_gp_aid_isdp_module[16];	/*!< A0000005591010FFFFFFFF8900000E00 */

/*! ISD-P privileges for CreateISDP: Security Domain + Trusted Path + Authorized Management (sgp02.md §6.4). */
extern const uint8_t proto_gp_isdp_privileges[3];	/*!< 80 C0 00 */

/*! C9 content for CreateISDP: SCP03 with i = '70' (sgp02.md §6.4). */
extern const uint8_t proto_gp_isdp_app_params[4];	/*!< 81 02 03 70 */

/*! Fields of INSTALL [for install (and make selectable)] (GPCS v2.3.1 §11.5). AIDs are 0 or 5..16
 *  bytes, privileges 0..3 bytes. */
struct proto_gp_install {
	const uint8_t *elf_aid;		/*!< Executable Load File AID */
	size_t elf_aid_len;
	const uint8_t *module_aid;	/*!< Executable Module AID */
	size_t module_aid_len;
	const uint8_t *app_aid;		/*!< Application (instance) AID */
	size_t app_aid_len;
	const uint8_t *privileges;
	size_t privileges_len;
	const uint8_t *app_params;	/*!< value of C9; C9 is always written (C9 00 when empty) */
	size_t app_params_len;
	bool has_nvm_quota;		/*!< write EF { 83 <quota> } */
	uint32_t nvm_quota;		/*!< 2 bytes when <= 0xFFFF, else 4 bytes */
	const uint8_t *token;		/*!< install token (none when token_len is 0) */
	size_t token_len;
};

/*! INSTALL [for install] with the given P1 (usually FOR_INSTALL | FOR_MAKE_SELECTABLE): CLA 80, INS E6, P2 00,
 *  case 4 (Le '00'). Returns the APDU length, -EINVAL on a bad field length or data > 255 bytes,
 *  -PROTO_E_NOSPACE. */
int proto_gp_install_for_install(struct proto_buf *b, uint8_t p1, const struct proto_gp_install *in);

/*! ES5.CreateISDP (sgp02.md §6.4): 80 E6 0C 00 Lc 10 <ELF> 10 <module> L <isdp_aid> 03 80C000
 *  Lp C9 04 81020370 [EF 04 83 02 <quota>] 00 00. quota NULL = no EF. */
int proto_gp_es5_create_isdp(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len, const uint32_t *quota);

/*! INSTALL [for personalization] (sgp02.md §6.7): 80 E6 20 00 Lc 00 00 L <aid> 00 00 00 (case 3, as in the
 *  ES8 trace; no Le). */
int proto_gp_install_for_perso(struct proto_buf *b, const uint8_t *aid, size_t aid_len);

/*! One STORE DATA command: 80 E2 p1 p2 Lc data [00]; Le '00' iff p1 has PROTO_GP_SD_P1_CASE4. 1..255 bytes of
 *  data, else -EINVAL. */
int proto_gp_store_data(struct proto_buf *b, uint8_t p1, uint8_t p2, const uint8_t *data, size_t len);

/*! Append a DGI: tag (2 bytes), length (1 byte 00..FE, or FF + 2 bytes), value (crypto.md §1.3).
 *  Returns 0, -EINVAL above 0xFFFF bytes, -PROTO_E_NOSPACE. */
int proto_gp_dgi_put(struct proto_buf *b, uint16_t dgi, const uint8_t *val, size_t len);

/*! Splits a long STORE DATA payload into <= block_size-byte blocks: P2 counts up from first_block, b8 of P1 is
 *  set on the last block only, all other P1 bits (format, encryption, case 4) are kept on every block, and
 *  Le '00' goes with every block when P1 b1 is set. Iterate with proto_gp_store_data_chain_next(). */
struct proto_gp_store_data_chain {
	uint8_t cla;		/*!< '80' after init; may be changed before the first next() */
	uint8_t p1;		/*!< P1 without b8 */
	unsigned int block;	/*!< P2 of the next block */
	const uint8_t *data;
	size_t len;
	size_t off;		/*!< bytes already handed out */
	size_t block_size;
};

/*! Prepare a chain. block_size 0 means 255. -EINVAL for an empty payload, block_size > 255, or more blocks
 *  than P2 can number (first_block + n - 1 > 255). */
int proto_gp_store_data_chain_init(struct proto_gp_store_data_chain *c, uint8_t p1, uint8_t first_block,
				   const uint8_t *data, size_t len, size_t block_size);

/*! Fill *a with the next block (data points into the payload). 1 = a block, 0 = done. */
int proto_gp_store_data_chain_next(struct proto_gp_store_data_chain *c, struct proto_apdu *a);

/*! ES5.EnableProfile: 80 E2 88 00 L 3A03 L 4F L <ISD-P AID> (sgp02.md §6.4). */
int proto_gp_es5_enable_profile(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len);

/*! ES5.DisableProfile: 80 E2 88 00 L 3A04 L 4F L <ISD-P AID>. */
int proto_gp_es5_disable_profile(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len);

/*! ES5.SetFallBackAttribute: 80 E2 88 00 L 3A05 L 4F L <ISD-P AID>. */
int proto_gp_es5_set_fallback(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len);

/*! ES5.NotificationConfirmation: 80 E2 89 00 07 3A08 04 4E 02 <seq> 00 (case 4). */
int proto_gp_es5_notification_confirm(struct proto_buf *b, uint16_t seq);

/*! ES5.UpdateSMSRAddressingParameters: 80 E2 88 00 L 3A07 L <params>; params is the already encoded DGI
 *  content (e.g. A3 {...}, whose layout is known from one implementation only, sgp02.md §6.4). */
int proto_gp_es5_update_smsr_addressing(struct proto_buf *b, const uint8_t *params, size_t len);

/*! A keyset range for DELETE [key] in FinaliseISDRhandover: F2 03 <kvn> <first_kid> <last_kid>. */
struct proto_gp_key_range {
	uint8_t kvn;
	uint8_t first_kid;
	uint8_t last_kid;
};

/*! DELETE: 80 E4 00 p2 Lc [4F L <aid>] {F2 03 kvn first last} 00 (case 4). aid may be NULL (aid_len 0) when
 *  key ranges are given; at least one of them is needed (-EINVAL otherwise). */
int proto_gp_delete(struct proto_buf *b, uint8_t p2, const uint8_t *aid, size_t aid_len,
		    const struct proto_gp_key_range *keys, size_t n_keys);

/*! ES5.DeleteProfile: 80 E4 00 40 L 4F L <ISD-P AID> 00. */
int proto_gp_es5_delete_profile(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len);

/*! The Delete Token of ES5.MasterDelete, as the SM-DP issues it (SGP.02 §3.10): the SM-SR only places it. */
struct proto_gp_delete_token {
	const uint8_t *sin, *sdin, *provider_id, *token_id, *token;
	size_t sin_len, sdin_len, provider_id_len, token_id_len, token_len;
};

/*! ES5.MasterDelete (sgp02.md §6.4): 80 E4 00 40 Lc 4F L <ISD-P AID> B6 L { 42 L <SIN> 45 L <SDIN>
 *  5F20 L <provider id> 93 L <token id> } 9E L <token> 00. Every field is required (-EINVAL when empty). */
int proto_gp_es5_master_delete(struct proto_buf *b, const uint8_t *isdp_aid, size_t aid_len,
			       const struct proto_gp_delete_token *t);

/*! ES5.FinaliseISDRhandover: 80 E4 00 00 L {F2 03 kvn first last}... 00 (sgp02.md §6.4, [W] layout). */
int proto_gp_es5_finalise_isdr_handover(struct proto_buf *b, const struct proto_gp_key_range *keys, size_t n_keys);

/*! GET STATUS: 80 F2 p1 p2 Lc 4F L <aid> [5C L <tags>] 00. aid_len 0 writes 4F 00 (match all); tags_len 0
 *  omits 5C. */
int proto_gp_get_status(struct proto_buf *b, uint8_t p1, uint8_t p2, const uint8_t *aid, size_t aid_len,
			const uint8_t *tags, size_t tags_len);

/*! GET DATA: 80 CA <tag hi> <tag lo> [Lc data] 00 (case 2 without data, case 4 with). */
int proto_gp_get_data(struct proto_buf *b, uint16_t tag, const uint8_t *data, size_t len);

/*! eUICCCapabilityAudit GET DATA: 80 CA BF 30 Lc 5C L <tags> 00 (sgp02.md §6.4). */
int proto_gp_es5_audit_get_data(struct proto_buf *b, const uint8_t *tags, size_t tags_len);
