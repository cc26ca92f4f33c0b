/*! \file es5_script.h
 *  ES5 (SM-SR -> ISD-R) function scripts and their results (SGP.02 §4.1.1, sgp02.md §6.4-§6.5): the expanded
 *  remote command script each function sends, the classification of the response script the PoR carries, the
 *  Default Notification (E1) the eUICC sends, and the GET STATUS registry entries an audit returns.
 *  Pure codecs over proto/: no I/O, no state.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"
#include "proto/gp_apdu.h"

enum smsr_es5_func {
	SMSR_ES5_CREATE_ISDP,
	SMSR_ES5_ENABLE_PROFILE,
	SMSR_ES5_DISABLE_PROFILE,
	SMSR_ES5_SET_FALLBACK,
	SMSR_ES5_DELETE_PROFILE,
	SMSR_ES5_AUDIT,			/*!< eUICCCapabilityAudit: GET DATA FF21 + GET STATUS per ISD-P */
	SMSR_ES5_NOTIFICATION_CONFIRM,
	SMSR_ES5_MASTER_DELETE,		/*!< DELETE with the SM-DP's Delete Token (args.token) */
	_SMSR_ES5_FUNC_NUM
};

const char *smsr_es5_func_name(enum smsr_es5_func f);

/*! Arguments; which ones a function uses is in its comment in smsr_es5_script_build(). */
struct smsr_es5_args {
	const uint8_t *aid;		/*!< ISD-P AID (create, enable, disable, fallback, delete) */
	size_t aid_len;
	uint32_t quota;			/*!< RequiredMemory for CreateISDP (0 = no EF/83) */
	uint16_t seq;			/*!< notification sequence number to confirm */
	const uint8_t (*audit_aids)[16];	/*!< ISD-Ps to GET STATUS in an audit (16-byte AIDs) */
	unsigned n_audit_aids;
	const struct proto_gp_delete_token *token;	/*!< MasterDelete */
};

/*! Append the expanded command script (AA ...) of f. Returns the number of C-APDUs in it, or -EINVAL / -PROTO_E_*.
 *  CreateISDP: INSTALL [for install and make selectable] (aid, quota). Enable/Disable/SetFallback: STORE DATA
 *  3A03/3A04/3A05 (aid). Delete: DELETE 4F aid. Audit: GET DATA FF21 then GET STATUS for each audit_aids.
 *  NotificationConfirmation: STORE DATA 3A08 4E seq. MasterDelete: DELETE 4F aid B6{...} 9E token (aid, token). */
int smsr_es5_script_build(struct proto_buf *b, enum smsr_es5_func f, const struct smsr_es5_args *a);

/*! How an ES5 exchange ended, from the PoR status and the response script. */
enum smsr_es5_outcome {
	SMSR_ES5_OK,			/*!< every command executed with a normal ending SW */
	SMSR_ES5_SW_ERROR,		/*!< a command ended with an error SW (last_sw) */
	SMSR_ES5_POR_ERROR,		/*!< the PoR status is not 00 (por_status): security or counter problem */
	SMSR_ES5_BAD_RESPONSE,		/*!< PoR data is not a valid response script, or a bad-format TLV */
};

struct smsr_es5_result {
	enum smsr_es5_outcome outcome;
	uint8_t por_status;
	unsigned n_executed;
	unsigned n_expected;
	uint16_t last_sw;
	const uint8_t *last_data;	/*!< response data of the last R-APDU (points into the PoR data) */
	size_t last_len;
	const uint8_t *rsp;		/*!< the whole response script, for EuiccResponseData */
	size_t rsp_len;
};

/*! Classify the outcome of a script of n_expected commands from its PoR status and additional data. */
void smsr_es5_result_parse(uint8_t por_status, const uint8_t *data, size_t len, unsigned n_expected,
			   struct smsr_es5_result *r);

/*! Default Notification types (sgp02.md §6.5, tag 4D). */
enum smsr_notif_type {
	SMSR_NOTIF_FIRST_ATTACH = 0x01,		/*!< eUICC declaration */
	SMSR_NOTIF_CHANGE_OK = 0x02,		/*!< profile change succeeded */
	SMSR_NOTIF_CHANGE_FAILED = 0x03,	/*!< profile change failed, rolled back */
	SMSR_NOTIF_VOID = 0x04,
	SMSR_NOTIF_FALLBACK = 0x05,		/*!< profile change after fall-back */
};

/*! A decoded E1 notification (pointers into the input). */
struct smsr_notif {
	uint8_t eid[16];
	uint8_t type;
	uint16_t seq;
	bool has_aid;
	uint8_t aid[16];
	uint8_t aid_len;
	const uint8_t *imei;	/*!< tag 14/94 value, or NULL */
	size_t imei_len;
	const uint8_t *meid;	/*!< tag 6D/ED value, or NULL */
	size_t meid_len;
};

/*! Decode an E1 notification exactly filling in[0..len). */
int smsr_notif_decode(const uint8_t *in, size_t len, struct smsr_notif *n);
/*! Encode one (the simulator and tests). */
int smsr_notif_encode(struct proto_buf *b, const struct smsr_notif *n);

/*! One GET STATUS registry entry (E3) of an audit. */
struct smsr_es5_isdp_status {
	uint8_t aid[16];
	uint8_t aid_len;
	uint8_t lcs;		/*!< 9F70: 07 selectable, 0F personalized, 1F disabled, 3F enabled */
	bool fallback;		/*!< 53 b1 */
	bool has_granted, has_remaining;
	uint64_t granted;	/*!< 8F cumulative granted NVM */
	uint64_t remaining;	/*!< 91 cumulative remaining NVM */
};

/*! Decode the data of a GET STATUS response (one or more E3 entries); returns the number decoded (<= max). */
int smsr_es5_status_decode(const uint8_t *in, size_t len, struct smsr_es5_isdp_status *out, unsigned max);

/*! Free NVM from the FF21 resources of a GET DATA response (tag 82), -PROTO_E_MALFORMED if absent. */
int smsr_es5_free_memory_decode(const uint8_t *in, size_t len, uint64_t *free_nvm);

/*! The ISD-P AIDs a NotificationConfirmation response reports deleted on the card (80 { 4F ... }). */
int smsr_es5_confirm_decode(const uint8_t *in, size_t len, uint8_t (*aids)[16], uint8_t *aid_lens, unsigned max);
