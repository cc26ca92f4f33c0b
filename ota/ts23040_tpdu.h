/*! \file ts23040_tpdu.h
 *  3GPP TS 23.040 §9.2.2 SMS-DELIVER and SMS-SUBMIT TPDUs (the eUICC simulator's and the SMPP/fake-SMSC
 *  side's view of an SMS), with TS 23.038 data coding schemes. User data is carried as octets; for the GSM
 *  7-bit alphabet TP-UDL counts septets and ud_len is the packed octet count (no unpacking is done here).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"

/*! TP-MTI (first octet b1b0) */
enum ota_tp_mti {
	OTA_TP_MTI_DELIVER = 0,
	OTA_TP_MTI_SUBMIT = 1,
};

#define OTA_TP_UDHI 0x40	/*!< first octet b7: TP-UD starts with a header */
#define OTA_TP_PID_SIM_DATA_DOWNLOAD 0x7F	/*!< TS 23.040 §9.2.3.9: (U)SIM data download */
#define OTA_TP_DCS_8BIT_CLASS2 0xF6		/*!< TS 23.038 group 1111: 8-bit data, class 2 */

/*! TP-DA / TP-OA: up to 20 digits (semi-octets 0-9 * # a b c) and the type of address. */
struct ota_tp_addr {
	char digits[21];
	uint8_t toa;	/*!< e.g. 0x91 international, 0x81 unknown */
};

/*! Alphabet of a TP-DCS (TS 23.038 §4). */
enum ota_tp_alphabet {
	OTA_TP_ALPHABET_7BIT,
	OTA_TP_ALPHABET_8BIT,
	OTA_TP_ALPHABET_UCS2,
};
int ota_tp_dcs_alphabet(uint8_t dcs, enum ota_tp_alphabet *a);

struct ota_tp_deliver {
	uint8_t first_octet;	/*!< MTI 00, MMS, LP, SRI, UDHI, RP as sent; encode forces MTI */
	struct ota_tp_addr oa;
	uint8_t pid;
	uint8_t dcs;
	uint8_t scts[7];	/*!< service centre time stamp, semi-octets as on the wire */
	uint8_t udl;		/*!< TP-UDL (septets for 7-bit) */
	const uint8_t *ud;	/*!< TP-UD octets (points into the input when decoded) */
	size_t ud_len;
};

struct ota_tp_submit {
	uint8_t first_octet;	/*!< MTI 01, RD, VPF, SRR, UDHI, RP */
	uint8_t mr;		/*!< message reference */
	struct ota_tp_addr da;
	uint8_t pid;
	uint8_t dcs;
	uint8_t vp[7];		/*!< validity period, length from VPF: 0, 1 (relative) or 7 */
	uint8_t vp_len;
	uint8_t udl;
	const uint8_t *ud;
	size_t ud_len;
};

/*! Encode; for 8-bit and UCS2 udl is set from ud_len, for 7-bit the caller's udl is used. */
int ota_tp_deliver_encode(struct proto_buf *b, const struct ota_tp_deliver *d);
int ota_tp_deliver_decode(const uint8_t *in, size_t len, struct ota_tp_deliver *d);
int ota_tp_submit_encode(struct proto_buf *b, const struct ota_tp_submit *s);
int ota_tp_submit_decode(const uint8_t *in, size_t len, struct ota_tp_submit *s);
