/*! \file ts31115_sms.h
 *  3GPP TS 31.115 SMS-PP carriage of secured packets: TP-UD with the command/response packet IEs 70/71,
 *  concatenation done by us (TS 23.040 §9.2.3.24.1), and reassembly of concatenated MO packets.
 *
 *  Single SMS: UD = 02 70 00 || packet (packet <= 137 octets).
 *  Concatenated: segment 1 = 07 00 03 ref N 1 70 00 || up to 132 octets; segment k >= 2 = 05 00 03 ref N k ||
 *  up to 134 octets. The concatenation IE comes first and IE 70 is only in segment 1 (scp80.md §1). Receivers
 *  accept any IE order, IE 08 (16-bit reference), and IE 70/71 in any segment.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>
#include "proto/buf.h"

#define OTA_SMS_UD_MAX 140	/*!< octets of TP-UD in one 8-bit SMS */

enum ota_sms_iei {
	OTA_IEI_CONCAT8 = 0x00,		/*!< concatenated SM, 8-bit reference (TS 23.040 §9.2.3.24.1) */
	OTA_IEI_CONCAT16 = 0x08,	/*!< concatenated SM, 16-bit reference (§9.2.3.24.8) */
	OTA_IEI_CMD_PKT = 0x70,		/*!< (U)SIM toolkit security header: command packet (TS 31.115 §4.2) */
	OTA_IEI_RSP_PKT = 0x71,		/*!< response packet (TS 31.115 §4.4) */
};

/*! One SMS worth of TP-UD. */
struct ota_sms_ud {
	uint8_t len;
	uint8_t ud[OTA_SMS_UD_MAX];
};

/*! Split a secured packet into TP-UDs, IEI 0x70 (command) or 0x71 (response). Returns the number of
 *  segments (1..255) or -PROTO_E_NOSPACE when more than max_segs are needed, -EINVAL on bad arguments. */
int ota_sms_segment(const uint8_t *pkt, size_t len, uint8_t iei, uint8_t ref, struct ota_sms_ud *segs,
		    size_t max_segs);

/*! Number of SMS a packet of len octets needs. */
unsigned ota_sms_segment_count(size_t len);

/*! What the UDH of one TP-UD says. Pointers go into the input. */
struct ota_sms_udh {
	bool concat;		/*!< IE 00 or 08 present */
	uint16_t ref;
	uint8_t total;
	uint8_t seq;
	bool cmd_pkt;		/*!< IE 70 present */
	bool rsp_pkt;		/*!< IE 71 present */
	const uint8_t *udh;	/*!< UDHL and the IEs */
	size_t udh_len;
	const uint8_t *payload;	/*!< TP-UD after the UDH */
	size_t payload_len;
};

/*! Parse a TP-UD that starts with a UDH (TP-UDHI set). -PROTO_E_MALFORMED for a bad UDH or concatenation IE
 *  (seq 0, seq > total, total 0). */
int ota_sms_ud_parse(const uint8_t *ud, size_t len, struct ota_sms_udh *h);

/*! Reassembly of concatenated packets from many originators, arriving in any order, with duplicates. */
struct ota_sms_reasm;

/*! max_partial: messages in progress at once (oldest evicted beyond it); max_age: seconds a partial message
 *  waits for its missing segments. A talloc child of ctx. */
struct ota_sms_reasm *ota_sms_reasm_new(void *ctx, unsigned max_partial, unsigned max_age);

/*! Result of feeding one TP-UD. */
struct ota_sms_reasm_out {
	bool cmd_pkt, rsp_pkt;	/*!< IE 70 / 71 seen in some segment */
	uint8_t udh[OTA_SMS_UD_MAX];	/*!< UDH of the segment that carried IE 70/71 (for the PoR CC) */
	size_t udh_len;
	unsigned segments;
};

/*! Feed one TP-UD from originator orig at time now. Returns 1 when a packet is complete (its bytes appended
 *  to out, *o filled), 0 when stored awaiting more segments (or a duplicate segment was dropped), or a
 *  negative error (-PROTO_E_MALFORMED for a TP-UD over 140 octets or a malformed UDH, -PROTO_E_NOSPACE if
 *  out is too small: the message is then dropped). */
int ota_sms_reasm_feed(struct ota_sms_reasm *r, const char *orig, const uint8_t *ud, size_t len, time_t now,
		       struct proto_buf *out, struct ota_sms_reasm_out *o);

/*! Drop partial messages older than max_age; returns how many were dropped. */
unsigned ota_sms_reasm_expire(struct ota_sms_reasm *r, time_t now);

/*! Number of partial messages held. */
unsigned ota_sms_reasm_pending(const struct ota_sms_reasm *r);
