/*! \file sim_ota.h
 *  The card's SCP80 receive path over SMS-PP (ETSI TS 102 225, 3GPP TS 31.115), and its MO notifications.
 *
 *  MT path, as a real card does it:
 *  1. reassemble concatenated MTs (IE 00/08, any order, duplicates dropped; keyed by card and sender);
 *  2. a complete TP-UD without IE 70 is ignored; a packet whose header cannot be read (shorter than CPL..TAR, or CPL
 *     not matching) gets no PoR at all;
 *  3. TAR: 000001 = ISD-R; the implicit TAR of an existing ISD-P (AID bytes 13..15) = that ISD-P (ES8, with the
 *     ISD-R's keyset, counter and PoR rules; the PoR echoes the TAR); anything else = status 09, PoR in clear;
 *  4. keys: the ISD-R keyset when the KVN (high nibble) and algorithm (low nibble) of KIc/KID name it; a key the
 *     SPI needs and the card lacks = status 06, PoR in clear. Decode and verify with ota_spkt_cmd_decode():
 *     RC/CC wrong = 01, ciphering error = 05 (a wrong KIc gives 05 or 01), structure errors = no PoR;
 *  5. minimum security level of the ISD-R (struct sim_msl) not met = 0A;
 *  6. counter check per SPI1 b5b4 (ota_cntr_check(): 02 low, 03 high, 04 blocked), done only after the RC/CC
 *     succeeded; the stored counter is updated only then and only in modes 10/11;
 *  7. run the script on the ISD-R or the ISD-P (card.h) and answer with a PoR per SPI2: b2b1 00 none, 01 always, 10
 * only when the status is not 00 or the script stopped on an error SW. Statuses 01 02 03 04 05 0A and 00 are secured as
 * SPI2 asks (ciphering, RC/CC with the command's keys, AES CC length as in the command); 06 and 09 go in clear without
 * RC/CC. SPI2 b6 (DELIVER-REPORT vs SUBMIT) cannot be honoured over a fake SMSC: the PoR is always an MO (SMS-SUBMIT).
 *  8. PoRs longer than 137 octets are segmented (concatenation IE 00 first, IE 71 only in segment 1). A secured
 *     segmented PoR has its RC/CC computed over the whole UDH of segment 1 (07 00 03 ref N 1 71 00), the rule
 *     ota_por_decode() applies to a TP-UD with a longer UDH; single-SMS PoRs come from ota_por_encode().
 *
 *  Notifications go MO as command packets (sgp02.md §6.5): UDH 02 70 00, SPI 02 00 (CC only, no counter, no PoR),
 *  KIc 10, KID 12 (ISD-R KVN and algorithm), TAR 000001, CNTR 0, data E1 {...}.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "ota/ts31115_sms.h"
#include "tests/euicc-sim/card.h"

#define SIM_OTA_MAX_MO 32	/*!< segments of one MO message */

/*! What happened to one MT. */
enum sim_ota_event {
	SIM_OTA_PENDING,	/*!< a segment was stored (or a duplicate dropped); the packet is not complete */
	SIM_OTA_IGNORED,	/*!< not a command packet, or a malformed UDH */
	SIM_OTA_DROPPED,	/*!< a command packet too malformed to answer: no PoR */
	SIM_OTA_PROCESSED,	/*!< a command packet was handled; status says how */
};

/*! Name of an event; never NULL. */
const char *sim_ota_event_name(enum sim_ota_event ev);

/*! Result of one MT, or a notification: the MO SMS to send (TP-UDs, in order). */
struct sim_ota_out {
	enum sim_ota_event event;
	uint8_t status;			/*!< PoR status (SIM_OTA_PROCESSED) */
	bool executed;			/*!< the script ran */
	struct sim_script_result script;
	bool por;			/*!< a PoR is in mo[] */
	unsigned n_mo;
	struct ota_sms_ud mo[SIM_OTA_MAX_MO];
};

/*! Fault switches for one MT. */
struct sim_ota_opts {
	bool wrong_counter;		/*!< answer CNTR low (02) whatever the counter says; nothing runs */
};

/*! Receive-path state shared by all cards: the reassembly table and scratch buffers. */
struct sim_ota;

/*! max_partial concatenated messages in progress (oldest evicted), max_age seconds to wait for missing segments.
 *  A talloc child of ctx; NULL on allocation failure. */
struct sim_ota *sim_ota_new(void *ctx, unsigned max_partial, unsigned max_age);

/*! Feed one MT TP-UD (UDH included) sent by `from` to card c at time now_ms. Fills *out (event, status, MOs).
 *  Returns 0, or a negative error for local failures (-ENOMEM); protocol errors are reported in *out. */
int sim_ota_mt(struct sim_ota *o, struct sim_card *c, const char *from, const uint8_t *ud, size_t len,
	       uint64_t now_ms, const struct sim_ota_opts *opts, struct sim_ota_out *out);

/*! Build the MO command packet(s) of notification n. 0 or a negative error. */
int sim_ota_notif(struct sim_ota *o, struct sim_card *c, const struct sim_notif *n, struct sim_ota_out *out);

/*! Drop partial messages older than max_age. Returns how many were dropped. */
unsigned sim_ota_expire(struct sim_ota *o, uint64_t now_ms);
