/*! \file card.h
 *  The simulated eUICC, transport independent: ISD-R with its SCP80 keyset and replay counter, ISD-Ps with
 *  life-cycle state, fall-back attribute, quota and POL1 flags, the card's memory, and the ES5 commands of
 *  sgp02.md §6.4 run from TS 102 226 expanded (or compact) scripts. Also the fleet table (cards by MSISDN,
 *  created lazily) and the small logging helper all euicc-sim files share.
 *
 *  Rules the model follows (sgp02.md §4.1, §4.4, §4.5, §6.4, §6.5):
 *  - one ENABLED profile at a time; EnableProfile only from DISABLED (6985 otherwise), 69E1 when the POL1 of the
 *    currently enabled profile forbids disabling it, 6A88 unknown ISD-P; the previous profile becomes DISABLED;
 *  - DisableProfile only for the ENABLED, non fall-back profile (6985), 69E1 POL1; the fall-back profile is then
 *    enabled (6985 when there is none);
 *  - DeleteProfile: 6985 enabled or fall-back, 69E1 POL1, 6A88 unknown; frees the quota;
 *  - CreateISDP: 6A84 quota above free memory or no ISD-P slot left, 6A80 bad data or AID already present,
 *    6A88 ELF/module AID not the SGP.02 ISD-P ones; the new ISD-P is SELECTABLE with the EF/83 quota;
 *  - after a successful Enable (type 02), a rolled-back Enable (03) or a Disable / fall-back activation (05) a
 *    Default Notification is queued; NotificationConfirmation (3A08) confirms it;
 *  - ES8 (card_es8.c): key establishment of an ISD-P keyset by the ECASD and the SCP03t profile download into the
 *    ISD-P, see "ES8" below;
 *  - MasterDelete and the ISD-R keyset establishment of an SM-SR change (ES7) are not simulated.
 *
 *  Key material: the card keeps ota_key handles only (imported on first use from the fleet derivation and the
 *  raw bytes wiped); nothing here logs keys or deciphered payloads.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"
#include "proto/gp_apdu.h"
#include "proto/ec.h"
#include "ota/keystore.h"
#include "ota/keystore_ec.h"
#include "tests/euicc-sim/fleet.h"

/*
 * Logging
 */

/*! Log categories. */
enum sim_log_cat {
	SIM_DMAIN,	/*!< process, options, statistics */
	SIM_DCARD,	/*!< card model, ES5 commands */
	SIM_DOTA,	/*!< SCP80 receive path, PoR, notifications */
	SIM_DKANNEL,	/*!< fake SMSC link */
};

enum sim_log_level {
	SIM_LOG_DEBUG,
	SIM_LOG_INFO,
	SIM_LOG_NOTICE,
	SIM_LOG_ERROR,
	SIM_LOG_OFF,
};

/*! Threshold: messages below it are dropped. Default SIM_LOG_NOTICE. */
extern enum sim_log_level sim_log_threshold;

/*! Print one line to stderr: "<category> <LEVEL> [<eid>] message". eid may be NULL. Never pass keys or deciphered
 *  payloads. */
void sim_log(enum sim_log_cat cat, enum sim_log_level level, const char *eid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define SIM_LOG(cat, level, fmt, ...) do { \
	if ((level) >= sim_log_threshold) \
		sim_log(cat, level, NULL, fmt, ##__VA_ARGS__); \
	} while (0)

/*! Log about a card: the EID goes on every line. */
#define SIM_LOGC(card, cat, level, fmt, ...) do { \
	if ((level) >= sim_log_threshold) \
		sim_log(cat, level, (card)->eid_hex, fmt, ##__VA_ARGS__); \
	} while (0)

/*
 * Card model
 */

/*! ISD-P life-cycle states (GET STATUS 9F70, sgp02.md §4.1). */
enum sim_lcs {
	SIM_LCS_SELECTABLE = 0x07,
	SIM_LCS_PERSONALIZED = 0x0F,
	SIM_LCS_DISABLED = 0x1F,
	SIM_LCS_ENABLED = 0x3F,
};

/*! Name of a life-cycle state; never NULL. */
const char *sim_lcs_name(uint8_t lcs);

/*! Default Notification types (sgp02.md §6.5, tag 4D). */
enum sim_notif_type {
	SIM_NOTIF_FIRST_ATTACH = 0x01,	/*!< eUICC declaration, first network attachment */
	SIM_NOTIF_CHANGE_OK = 0x02,	/*!< profile change succeeded */
	SIM_NOTIF_ROLLBACK = 0x03,	/*!< profile change failed, previous profile re-enabled */
	SIM_NOTIF_FALLBACK = 0x05,	/*!< profile change after fall-back */
};

/*! Notification-related tags (sgp02.md §6.5). */
enum sim_notif_tag {
	SIM_TAG_NOTIFICATION = 0xE1,
	SIM_TAG_EID = 0x4C,
	SIM_TAG_NOTIF_TYPE = 0x4D,
	SIM_TAG_SEQ = 0x4E,
	SIM_TAG_IMEI = 0x14,
	SIM_TAG_CONFIRM_RSP = 0x80,	/*!< NotificationConfirmation response: deleted ISD-P AIDs */
	SIM_TAG_CARD_RESOURCES = 0xFF21,	/*!< TS 102 226 §8.2.1.7.2 extended card resources */
	SIM_TAG_RES_APPS = 0x81,
	SIM_TAG_RES_FREE_NVM = 0x82,
	SIM_TAG_RES_FREE_VM = 0x83,
	SIM_TAG_GRANTED_NVM = 0x8F,
	SIM_TAG_REMAINING_NVM = 0x91,
};

#define SIM_CARD_MAX_ISDP 8
#define SIM_CARD_MAX_NOTIF 4
#define SIM_FREE_VOLATILE 8192		/*!< reported in FF21/83 */

struct sim_isdp_es8;

/*! One ISD-P. */
struct sim_isdp {
	bool used;
	uint8_t aid[PROTO_AID_MAX_LEN];
	uint8_t aid_len;
	uint8_t lcs;			/*!< enum sim_lcs */
	bool fallback;
	bool pol1_disable_not_allowed;	/*!< POL1 rules checked by the ISD-R (SW 69E1) */
	bool pol1_delete_not_allowed;
	uint32_t quota;			/*!< granted non-volatile memory */
	uint32_t used_nvm;		/*!< part of the quota the profile uses (remaining = quota - used) */
	char iccid[SIM_ICCID_MAX + 1];	/*!< "" for ISD-Ps created over the air (until a profile is installed) */
	struct sim_isdp_es8 *es8; /*!< SCP03 keyset and download state (card_es8.c); NULL before key establishment */
};

/*! Life of one Default Notification (sgp02.md §4.5 seen from the card):
 *  FREE -queue-> QUEUED -sent-> SENT -sent-> ... SENT or EXHAUSTED (resend timer off or max sends reached);
 *  QUEUED / SENT / EXHAUSTED -NotificationConfirmation-> CONFIRMED (the slot is reused later). */
enum sim_notif_state {
	SIM_NOTIF_FREE,			/*!< slot unused */
	SIM_NOTIF_QUEUED,		/*!< raised, first send at due_ms (after REFRESH and attach) */
	SIM_NOTIF_SENT,			/*!< sent, awaiting confirmation; resent at due_ms */
	SIM_NOTIF_EXHAUSTED,		/*!< awaiting confirmation, not sent again */
	SIM_NOTIF_CONFIRMED,		/*!< confirmed by the SM-SR */
};

/*! Name of a notification state; never NULL. */
const char *sim_notif_state_name(enum sim_notif_state s);

/*! One Default Notification. */
struct sim_notif {
	enum sim_notif_state state;
	uint16_t seq;
	uint8_t type;			/*!< enum sim_notif_type */
	uint8_t aid[PROTO_AID_MAX_LEN];	/*!< ISD-P enabled when it was raised */
	uint8_t aid_len;
	uint64_t due_ms;		/*!< next (re)send time (QUEUED, SENT) */
	unsigned sends;			/*!< times sent so far */
};

/*! Minimum security level the ISD-R demands of command packets (below it: PoR status 0A). */
struct sim_msl {
	uint8_t integ;			/*!< enum ota_integ: at least this */
	bool cipher;			/*!< ciphering required */
	uint8_t cntr;			/*!< enum ota_cntr_mode: at least this */
};

/*! ES8 faults of one card (euicc-sim --fault KIND@IDX). */
struct sim_es8_faults {
	bool receipt; /*!< 3A02 answers a wrong receipt (the keyset is installed all the same) */
	bool mac;     /*!< the first '86' of every SCP03t session is answered as a MAC error */
	bool memory;  /*!< the end of every profile package is answered "not enough memory" */
	bool ecasd;   /*!< CERT.DP.ECDSA is refused (6A80) */
};

struct sim_fleet;

/*! One simulated eUICC. A talloc child of its fleet (or of the context given to sim_card_new()). */
struct sim_card {
	struct sim_fleet *fleet;	/*!< NULL for a stand-alone card */
	struct sim_fleet_cfg cfg;	/*!< to re-derive the keys on first use */
	uint32_t index;
	uint8_t eid[SIM_EID_LEN];
	char eid_hex[2 * SIM_EID_LEN + 1];
	char msisdn[SIM_MSISDN_MAX + 1];
	char imei[16];

	/* ISD-R SCP80 keyset */
	uint8_t kvn;
	uint8_t algo;			/*!< KIc/KID low nibble (2 = AES) */
	struct ota_key *kic, *kid;	/*!< NULL until first used */
	uint64_t cntr;			/*!< replay counter of the keyset (TS 102 225 §5.1.1) */
	struct sim_msl msl;
	uint8_t mo_ref;			/*!< concatenation reference of the next segmented MO */

	/* memory and profiles */
	uint32_t total_mem;
	struct sim_isdp isdp[SIM_CARD_MAX_ISDP];
	unsigned status_cursor;		/*!< GET STATUS: next ISD-P after 6310 */

	/* notifications */
	uint16_t next_seq;
	struct sim_notif notif[SIM_CARD_MAX_NOTIF];
	uint64_t notif_delay_ms;	/*!< from a profile switch to the first send (REFRESH + attach) */
	bool in_notif_list;		/*!< listed in the fleet's notification list */

	/* ECASD and ES8 key establishment (card_es8.c) */
	const struct proto_ec_pub *ci; /*!< PK.CI.ECDSA (borrowed); NULL: CERT.DP.ECDSA refused */
	uint8_t ecasd_curve;	       /*!< curve of SK.ECASD.ECKA (enum proto_ec_ref), P-256 by default */
	struct ota_eckey *ecasd_sk;    /*!< SK.ECASD.ECKA, imported on first use from sim_fleet_ecasd_sk() */
	uint8_t perso_aid[PROTO_AID_MAX_LEN]; /*!< ISD-P selected by INSTALL [for personalization] */
	uint8_t perso_aid_len;		      /*!< 0: none */
	struct proto_ec_pub *pk_dp;	      /*!< PK.DP.ECDSA of the verified certificate */
	uint8_t rc[16];			      /*!< challenge issued with 85 10 (valid while pk_dp is set) */
	uint32_t today;			      /*!< YYYYMMDD for certificate dates; 0 = the system's UTC date */

	/* behaviour switches (tests, fault injection) */
	bool fail_next_enable;		/*!< the next Enable fails to attach: roll back, notification 03 */
	struct sim_es8_faults faults;
};

/*! Create a card from an identity (pre-provisioned profiles, memory). The keys are not imported here: see
 *  sim_card_keys(). ctx is the talloc parent. NULL on allocation failure. */
struct sim_card *sim_card_new(void *ctx, const struct sim_fleet_cfg *cfg, const struct sim_identity *id);

/*! Import the ISD-R keys into ota_key handles if not done yet (derivation from cfg and index, raw bytes wiped).
 *  0, -ENOMEM, -EIO. */
int sim_card_keys(struct sim_card *c);

/*! Free memory for new ISD-Ps: total minus the quotas of all ISD-Ps. */
uint32_t sim_card_free_mem(const struct sim_card *c);

/*! Find an ISD-P by AID, or NULL. */
struct sim_isdp *sim_card_isdp_find(struct sim_card *c, const uint8_t *aid, size_t len);

/*! Find an ISD-P by implicit TAR (AID bytes 13..15), or NULL. */
struct sim_isdp *sim_card_isdp_find_by_tar(struct sim_card *c, const uint8_t tar[3]);

/*! The enabled ISD-P, or NULL. */
struct sim_isdp *sim_card_enabled(struct sim_card *c);

/*! Result of one script run. */
struct sim_script_result {
	unsigned n_executed;		/*!< commands executed, the failing one included */
	uint16_t last_sw;		/*!< SW of the last executed command (0 when none ran) */
	bool bad_format;		/*!< the script could not be decoded */
	bool error;			/*!< bad format or an error SW stopped the script */
};

/*! Execute one C-APDU on the ISD-R at time now_ms (for notification timers). Response data (at most 256 bytes)
 *  is appended to rdata; returns the status word. */
uint16_t sim_card_apdu(struct sim_card *c, const struct proto_apdu *a, struct proto_buf *rdata, uint64_t now_ms);

/*! Run a TS 102 226 script on the ISD-P target, or on the ISD-R when target is NULL. An ISD-P accepts INSTALL
 *  [for personalization], the STORE DATA of key establishment (3A01, 3A02) and of connectivity parameters (3A07),
 *  and SCP03t TLVs each carried in a '22' item (its '23' then holds the response TLV alone, without SW); other
 *  commands are answered 6D00. Scripts are answered as sim_card_run_script() describes; an SCP03t error TLV stops
 *  the script (res->error, res->last_sw 6982), so does an aborted profile installation (res->error, last_sw 9000,
 *  after the '86' carrying the EUICCResponse). */
int sim_card_run_script_on(struct sim_card *c, struct sim_isdp *target, const uint8_t *in, size_t len,
			   struct proto_buf *rsp, uint64_t now_ms, struct sim_script_result *res);

/*! Run a TS 102 226 script on the ISD-R: expanded (AA / AE, answered AB / AF with 80 n and one 23 R-APDU per
 *  executed command, stopping at the first error SW; a script that does not decode is answered AB {80 00, 90 type})
 *  or, when the data does not start with AA/AE, compact (answered n SW data). Returns 0 or -PROTO_E_NOSPACE. */
int sim_card_run_script(struct sim_card *c, const uint8_t *in, size_t len, struct proto_buf *rsp, uint64_t now_ms,
			struct sim_script_result *res);

/*! Queue a Default Notification of the given type for the currently enabled profile, first sent at
 *  now_ms + notif_delay_ms. Returns the notification, or NULL when no profile is enabled. When the queue is full
 *  the oldest entry is replaced. */
struct sim_notif *sim_card_notif_queue(struct sim_card *c, uint8_t type, uint64_t now_ms);

/*! Autonomous fall-back activation (lost connectivity, sgp02.md §4.4): enable the fall-back profile, notification 05.
 *  0, -ENOENT when there is no fall-back profile or it is already enabled. */
int sim_card_fallback_activate(struct sim_card *c, uint64_t now_ms);

/*! A QUEUED or SENT notification whose (re)send time has come at now_ms, or NULL. */
struct sim_notif *sim_card_notif_due(struct sim_card *c, uint64_t now_ms);

/*! Record that n was sent at now_ms: SENT and due again after resend_ms, or EXHAUSTED when resend_ms is 0 or it has
 *  been sent max_sends times (0 = no limit). */
void sim_card_notif_sent(struct sim_card *c, struct sim_notif *n, uint64_t now_ms, uint64_t resend_ms,
			 unsigned max_sends);

/*! Number of unconfirmed notifications (QUEUED, SENT, EXHAUSTED). */
unsigned sim_card_notif_pending(const struct sim_card *c);

/*! Encode n as E1 { 4C EID, 4D type, 4E seq, 4F AID, 14 IMEI } (sgp02.md §6.5). 0 or -PROTO_E_NOSPACE. */
int sim_card_notif_encode(const struct sim_card *c, const struct sim_notif *n, struct proto_buf *b);

/*
 * ES8 (card_es8.c): ECASD key establishment and SCP03t profile download into an ISD-P
 *
 *  Key establishment (GP Amd E scenario #3, crypto.md §A), over the ISD-R TAR or the ISD-P's own TAR:
 *  - INSTALL [for personalization] 80 E6 20 00 of an ISD-P selects it (6A88 unknown, 6985 when it holds a profile);
 *    over the ISD-P TAR the ISD-P is also selected implicitly;
 *  - STORE DATA 3A01 CERT.DP.ECDSA: verified with PK.CI.ECDSA (signature, key usage 88, discretionary data
 *    C8 01 01, effective and expiry dates against c->today), PK.DP.ECDSA kept, answer 85 10 <random challenge>;
 *    6A80 for a bad certificate or no CI key, 6985 without a selected ISD-P;
 *  - STORE DATA 3A02: signature checked with PK.DP.ECDSA over the DGI and the challenge, ECDH with SK.ECASD.ECKA,
 *    the derived keyset (KUQ 10: ENC/MAC/DEK; KUQ 5C: one base key for all three) installed with the CRT's KVN,
 *    ISD-P SELECTABLE -> PERSONALIZED, answer [85 DR] 86 10 receipt; 6985 without a challenge, 6A80 otherwise;
 *    nothing is installed on error, and the challenge is spent either way.
 *  SCP03t (crypto.md §B.2) on that keyset, with i = 70 and a pseudo-random card challenge from a 3-byte sequence
 *  counter per keyset (000001 first, incremented at every INITIALIZE UPDATE): 84 -> 84 L <IU response>,
 *  85 (SL 33 only) -> 85 00, 86 -> 86 00, or for the segment that completes (or aborts) the profile package
 *  86 L <wrapped EUICCResponse>. The plaintext is a concatenation of SAIP profile elements (DER), parsed as it
 *  arrives: the first must be the header A0 with the ICCID (83, 10 bytes of swapped BCD), the last the end AA.
 *  At the end the ISD-P is DISABLED with that ICCID and uses the package size of its quota. A malformed package,
 *  a first PE that is not the header, or a package above the quota (or, without quota, the free memory) aborts
 *  the installation: EUICCResponse with the error and profileInstallationAborted, the ISD-P stays PERSONALIZED.
 *  The EUICCResponse of a failure goes on the last '86' of the script in which it happened (later segments of
 *  that script are MAC-checked and discarded): its R-MAC then chains on the last command the SM-DP wrapped.
 *  Errors (answered '9F46 01 xx', and the session is closed): enum sim_scp03t_err.
 */

#define SIM_TAG_SCP03T_ERROR 0x9F46 /*!< SCP03t error TLV (WHTY's tag; the value is our choice, below) */

/*! Values of the SCP03t error TLV 9F46 01 xx (the simulator's own coding: SGP.02's is not at hand). */
enum sim_scp03t_err {
	SIM_SCP03T_ERR_SECURITY = 0x01,	  /*!< MAC or cryptogram verification failed */
	SIM_SCP03T_ERR_NO_SESSION = 0x02, /*!< 85 or 86 without the secure channel they need */
	SIM_SCP03T_ERR_KEY = 0x03,	  /*!< no keyset, or KVN / key identifier not known */
	SIM_SCP03T_ERR_FORMAT = 0x04,	  /*!< the TLV does not decode */
	SIM_SCP03T_ERR_SL = 0x05,	  /*!< security level other than 33 */
	SIM_SCP03T_ERR_STATE = 0x06,	  /*!< the ISD-P is not PERSONALIZED, or the package is already done */
};

#define SIM_PROFILE_MAX (1024 * 1024) /*!< largest profile package held during a download */

/*! Load PK.CI.ECDSA from a PEM X.509 certificate (as scripts/gen-test-pki writes ci.crt) into a new proto_ec_pub
 *  under ctx. -ENOENT, -EINVAL (not an EC key on a supported curve), -ENOMEM. */
int sim_ci_load_pem(void *ctx, const char *path, struct proto_ec_pub **out);

/*! ES8 part of an APDU addressed to target (NULL = through the ISD-R): INSTALL [for personalization] and STORE DATA
 *  3A01/3A02. Returns the SW, or 0 when the APDU is not an ES8 one (the caller handles it). */
uint16_t sim_es8_apdu(struct sim_card *c, struct sim_isdp *target, const struct proto_apdu *a, struct proto_buf *rdata);

/*! One SCP03t TLV for ISD-P d: writes the response TLV to rsp. last: this is the last '86' of its script (a failed
 *  installation is reported there). 0; 1 when an error TLV was written (the session is closed); 2 when the
 *  EUICCResponse of an aborted installation was written; -PROTO_E_NOSPACE, -ENOMEM. */
int sim_es8_scp03t(struct sim_card *c, struct sim_isdp *d, const uint8_t *tlv, size_t len, bool last,
		   struct proto_buf *rsp);

/*! Whether item (the value of a '22' TLV) is an SCP03t TLV: one TLV of tag 84, 85 or 86 filling it. */
bool sim_es8_is_scp03t(const uint8_t *item, size_t len);

/*! Release the ES8 state of an ISD-P (keys, session, partial package), e.g. before deleting it. */
void sim_es8_isdp_free(struct sim_card *c, struct sim_isdp *d);

/*! Apply a fault specification "KIND@IDX" or "KIND@*" (KIND receipt, mac, memory, ecasd) to f when it concerns
 *  index (or all). Returns 1 when it applies, 0 when not, -EINVAL for a bad specification. */
int sim_es8_fault_parse(const char *spec, uint32_t index, struct sim_es8_faults *f);

/*
 * Fleet: the card population, addressed by MSISDN
 */

/*! The fleet: N eUICCs, a card state created on first use. */
struct sim_fleet {
	struct sim_fleet_cfg cfg;
	uint32_t n;			/*!< number of eUICCs */
	struct sim_card **cards;	/*!< [n], NULL until first used */
	uint32_t *hash;			/*!< open addressing, MSISDN -> index + 1 (0 = empty) */
	uint32_t hash_mask;
	uint32_t active;		/*!< cards created so far */
	struct sim_card **notif_list;	/*!< cards with notifications to (re)send */
	uint32_t notif_n, notif_cap;
	uint64_t notif_delay_ms;	/*!< copied into each new card */
	struct sim_msl msl;		/*!< copied into each new card (default: CC and ciphering) */
	uint64_t notif_confirmed;	/*!< NotificationConfirmations that confirmed a pending notification */
	const struct proto_ec_pub *ci;	/*!< PK.CI.ECDSA given to each new card (borrowed) */
	const char **faults;		/*!< ES8 fault specifications applied to each new card (borrowed) */
	unsigned n_faults;
};

/*! Create a fleet of n eUICCs (1..SIM_FLEET_MAX) as a talloc child of ctx. Only the MSISDN table is built here.
 *  NULL on a bad n or allocation failure. */
struct sim_fleet *sim_fleet_new(void *ctx, const struct sim_fleet_cfg *cfg, uint32_t n);

/*! Index of the eUICC with this MSISDN: 0 and *index, or -ENOENT. */
int sim_fleet_lookup(const struct sim_fleet *f, const char *msisdn, uint32_t *index);

/*! The card of an index, created on first use. NULL when out of range or out of memory. */
struct sim_card *sim_fleet_card(struct sim_fleet *f, uint32_t index);

/*! The card of an MSISDN (created on first use), or NULL when unknown. */
struct sim_card *sim_fleet_card_by_msisdn(struct sim_fleet *f, const char *msisdn);

/*! Put a card on the notification list (idempotent). */
void sim_fleet_notif_watch(struct sim_fleet *f, struct sim_card *c);

/*! Drop the cards with nothing left to send (no QUEUED or SENT notification) from the notification list. */
void sim_fleet_notif_prune(struct sim_fleet *f);
