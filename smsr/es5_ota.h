/*! \file es5_ota.h
 *  ES5 transport over SCP80 SMS (SGP.02 §2.4.3, TS 102 225, TS 31.115): one command exchange at a time per eUICC.
 *
 *  smsr_ota_send() queues an expanded script for an eUICC. When its turn comes the layer loads the eUICC's ISD-R
 *  SCP80 keyset (unwrapped by the keystore into handles), takes a fresh counter from the store (persisted before
 *  anything is sent), builds the command packet, segments it itself and hands each SMS to Kannel with a DLR token.
 *  The PoR (an MO with IE 71, routed by the sender's MSISDN) is matched to the exchange in flight by TAR and
 *  counter, verified and handed to the caller. Without a PoR before por_timeout the command is sent again with a
 *  fresh counter, at most `retries` times; then the caller gets -ETIMEDOUT. MO command packets (IE 70) are the
 *  eUICC's Default Notifications: verified with the ISD-R keys (no counter check, sgp02.md §6.5) and handed to
 *  the notification callback.
 *
 *  States of an exchange (logged with the EID): QUEUED -> SENDING (counter taken, SMS handed to Kannel) ->
 *  WAIT_POR -> done | retry (back to SENDING) | failed. A PoR that answers an earlier attempt of the exchange in
 *  flight is accepted (the card executed that attempt); later PoRs for the same exchange are dropped and logged.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct event_base;
struct smsr_db;
struct smsr_kannel;
struct smsr_kannel_mo;
struct smsr_kannel_dlr;
struct ota_wrap_master;
struct ota_por;
struct smsr_ota;

/*! Largest script one exchange carries: one SCP80 command packet in at most 32 concatenated SMS (134 bytes each,
 *  less the packet header, the CC and the cipher padding). */
#define SMSR_OTA_MAX_SCRIPT 4096

struct smsr_ota_cfg {
	uint8_t spi[2];
	uint8_t kic, kid;		/*!< high nibble = keyset version (KVN), low nibble = algorithm */
	uint8_t tar[3];
	long por_timeout_ms;
	unsigned retries;
	unsigned reasm_max;		/*!< concatenated MOs in progress at once */
};

/*! Result of one exchange: rc 0 and the verified PoR (status, additional data = response script), or rc < 0
 *  (-ETIMEDOUT: no PoR after every retry; -ENOENT: eUICC or keys unknown; -ECONNREFUSED: Kannel refused the SMS;
 *  -PROTO_E_*: the PoR could not be verified and no retry was left). */
typedef void (*smsr_ota_done_cb)(void *data, int rc, const struct ota_por *por);

/*! A verified Default Notification (E1 TLV bytes) from eUICC eid. */
typedef void (*smsr_ota_notif_cb)(void *data, const uint8_t eid[16], const uint8_t *notif, size_t len);

int smsr_ota_new(void *ctx, struct event_base *base, struct smsr_db *db, const struct ota_wrap_master *master,
		 struct smsr_kannel *kannel, const struct smsr_ota_cfg *cfg, smsr_ota_notif_cb notif_cb,
		 void *notif_data, struct smsr_ota **out);

/*! Queue a script for eUICC eid; opid names the exchange in logs and DLR tokens. done is called exactly once
 *  (never from inside this call) unless the layer is freed first. */
int smsr_ota_send(struct smsr_ota *ota, const uint8_t eid[16], const uint8_t *script, size_t len, uint64_t opid,
		  smsr_ota_done_cb done, void *data);

/*! The same addressed to another security domain by TAR (an ISD-P's implicit TAR, for ES3.SendData / ES8): the
 *  packet is secured with the ISD-R keyset all the same (sgp02.md §6.2); tar NULL = the configured ISD-R TAR. */
int smsr_ota_send_tar(struct smsr_ota *ota, const uint8_t eid[16], const uint8_t tar[3], const uint8_t *script,
		      size_t len, uint64_t opid, smsr_ota_done_cb done, void *data);

/*! Withdraw the exchange of opid if no SMS of it ever reached Kannel (still queued behind another exchange, or
 *  every attempt so far found Kannel unreachable): its done callback runs now with -ECANCELED and 0 is returned.
 *  -EINPROGRESS: Kannel took an SMS of it, the card may execute it, so it runs to its end; -ENOENT: no such
 *  exchange. Used when a ValidityPeriod elapses. */
int smsr_ota_cancel(struct smsr_ota *ota, const uint8_t eid[16], uint64_t opid);

/*! An MO from the Kannel listener (the caller has parsed it). */
void smsr_ota_mo(struct smsr_ota *ota, const struct smsr_kannel_mo *mo);
/*! A DLR from the Kannel listener. */
void smsr_ota_dlr(struct smsr_ota *ota, const struct smsr_kannel_dlr *dlr);

/*! Counters for statistics and benchmarks. */
struct smsr_ota_stats {
	unsigned long mt_sms, mo_sms, exchanges, pors, retries, timeouts, notifications, dropped;
};
void smsr_ota_get_stats(const struct smsr_ota *ota, struct smsr_ota_stats *st);
/*! Exchanges queued or in flight. */
unsigned smsr_ota_pending(const struct smsr_ota *ota);
