/*! \file ts102225_spkt.h
 *  ETSI TS 102 225 secured packets in the 3GPP TS 31.115 SMS dialect: command packets (§5.1) and
 *  response packets / PoR (§5.2), every SPI combination, keys by keystore handle only.
 *
 *  Command packet:  CPL(2) CHL(1) SPI(2) KIc KID TAR(3) | CNTR(5) PCNTR RC/CC/DS secured-data pad
 *  Response packet: [UDH 02 71 00] RPL(2) RHL TAR(3) | CNTR(5) PCNTR STATUS RC/CC/DS additional-data pad
 *  The part after '|' is enciphered when the SPI asks for it (IV zero, pad 0x00 to the cipher block).
 *  CC/RC input: command = CPL..TAR CNTR PCNTR data pad (no UDH); response = UDH RPL..STATUS data pad.
 *  See ../shared/docs/scp80.md for the byte-level rules and their confidence.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"
#include "ota/keystore.h"

/*! SPI1 b2b1 / SPI2 b4b3: integrity mechanism (TS 102 225 §5.1.1) */
enum ota_integ {
	OTA_INTEG_NONE = 0,
	OTA_INTEG_RC = 1,
	OTA_INTEG_CC = 2,
	OTA_INTEG_DS = 3,
};

/*! SPI1 b5b4: counter handling */
enum ota_cntr_mode {
	OTA_CNTR_NONE = 0,		/*!< no counter available */
	OTA_CNTR_NO_CHECK = 1,		/*!< counter available, no replay or sequence checking */
	OTA_CNTR_HIGHER = 2,		/*!< process only if CNTR > value in the RE */
	OTA_CNTR_ONE_HIGHER = 3,	/*!< process only if CNTR = value in the RE + 1 */
};

/*! SPI2 b2b1: PoR required */
enum ota_por_mode {
	OTA_POR_NONE = 0,
	OTA_POR_REQUIRED = 1,
	OTA_POR_ON_ERROR = 2,
	OTA_POR_RESERVED = 3,
};

/*! Response status codes (TS 102 225 §5.2, TS 31.115 §4.4) */
enum ota_por_status {
	OTA_POR_OK = 0x00,
	OTA_POR_RC_CC_DS_FAILED = 0x01,
	OTA_POR_CNTR_LOW = 0x02,
	OTA_POR_CNTR_HIGH = 0x03,
	OTA_POR_CNTR_BLOCKED = 0x04,
	OTA_POR_CIPHERING_ERROR = 0x05,
	OTA_POR_UNIDENTIFIED_SECURITY_ERROR = 0x06,
	OTA_POR_INSUFFICIENT_MEMORY = 0x07,
	OTA_POR_MORE_TIME = 0x08,
	OTA_POR_TAR_UNKNOWN = 0x09,
	OTA_POR_INSUFFICIENT_SECURITY_LEVEL = 0x0A,
	OTA_POR_RESPONSE_VIA_SMS_SUBMIT = 0x0B,
	OTA_POR_RESPONSE_VIA_USSD = 0x0C,
};

/*! Name of a PoR status ("PoR OK", "CNTR low", ..., "reserved", "proprietary"). */
const char *ota_por_status_name(uint8_t status);

/*! Decoded SPI (both bytes). */
struct ota_spi {
	enum ota_integ integ;		/*!< SPI1 b2b1 */
	bool ciphered;			/*!< SPI1 b3 */
	enum ota_cntr_mode cntr;	/*!< SPI1 b5b4 */
	enum ota_por_mode por;		/*!< SPI2 b2b1 */
	enum ota_integ por_integ;	/*!< SPI2 b4b3 */
	bool por_ciphered;		/*!< SPI2 b5 */
	bool por_via_submit;		/*!< SPI2 b6: PoR by SMS-SUBMIT, else SMS-DELIVER-REPORT */
};

void ota_spi_decode(const uint8_t spi[2], struct ota_spi *s);

/*! Keys and options that secure a packet. Keys are looked up by the caller (by KIc/KID and keyset) and
 *  passed as handles; either may be NULL when the SPI does not need it. */
struct ota_sec {
	struct ota_key *kic_key;	/*!< ciphering key (KIc) */
	struct ota_key *kid_key;	/*!< RC/CC key (KID); RC needs none */
	uint8_t cc_len;			/*!< AES-CMAC CC length, 4 or 8; 0 = 8. DES/3DES CC is always 8 */
};

/*! Cipher for a KIc byte (low nibble: 1 DES-CBC, 5 3DES-2key, 9 3DES-3key, D DES-ECB, 2 AES-CBC).
 *  -PROTO_E_UNSUPPORTED for implicit (0), proprietary and reserved nibbles. */
int ota_kic_cipher(uint8_t kic, enum ota_cipher *c);

/*! Length of the RC/CC/DS field for an integrity mechanism, KID byte and CC length option; MAC algorithm
 *  in *mac for CC. -PROTO_E_UNSUPPORTED for DS, implicit and reserved nibbles. */
int ota_kid_integrity(enum ota_integ integ, uint8_t kid, uint8_t cc_len, size_t *rc_len, enum ota_mac *mac);

/*! Command packet header fields chosen by the sender. */
struct ota_cmd_hdr {
	uint8_t spi[2];
	uint8_t kic;
	uint8_t kid;
	uint8_t tar[3];
	uint8_t cntr[5];
};

/*! Largest secured data we accept in one command packet (CPL is 2 bytes). */
#define OTA_SPKT_MAX_DATA 65000

/*! Build a command packet (CPL..end) into out. Returns 0 or a negative error (-PROTO_E_KEY when the SPI
 *  needs a key that is missing or does not fit, -PROTO_E_UNSUPPORTED, -PROTO_E_NOSPACE, -EINVAL). */
int ota_spkt_cmd_encode(struct proto_buf *out, const struct ota_cmd_hdr *h, const struct ota_sec *sec,
			const uint8_t *data, size_t len);

/*! Integrity outcome of a decoded packet. */
enum ota_integrity {
	OTA_INTEGRITY_NONE,	/*!< the packet carries no RC/CC/DS */
	OTA_INTEGRITY_OK,
	OTA_INTEGRITY_BAD,
};

/*! A decoded command packet (the card's view). data points into the input (clear packets) or into the
 *  caller's scratch buffer (ciphered packets). */
struct ota_spkt_cmd {
	uint16_t cpl;
	uint8_t chl;
	struct ota_cmd_hdr hdr;
	uint8_t pcntr;
	uint8_t rc_cc_ds[8];
	uint8_t rc_len;
	const uint8_t *data;
	size_t data_len;
	enum ota_integrity integrity;
};

/*! Decode and verify a command packet (CPL..end). scratch must hold len bytes when the packet is ciphered.
 *  Returns 0 when parsed and the RC/CC (if any) verified; -PROTO_E_INTEGRITY with *out filled when the
 *  RC/CC is wrong; -PROTO_E_CIPHER for a ciphered length that is not block aligned; -PROTO_E_UNSUPPORTED
 *  for a reserved algorithm or a CHL that does not match the SPI; -PROTO_E_KEY for a missing key;
 *  -PROTO_E_MALFORMED / _TRUNCATED / _TRAILING for structure errors. */
int ota_spkt_cmd_decode(const uint8_t *in, size_t len, const struct ota_sec *sec,
			uint8_t *scratch, size_t scratch_cap, struct ota_spkt_cmd *out);

/*! The PoR status a receiving entity answers for a decode error (01, 05, 06, ...); 0xFF when the packet
 *  is too malformed to answer at all. */
uint8_t ota_spkt_err_to_por_status(int rc);

/*! Counter check of the receiving entity (TS 102 225 §5.1.1 b5b4): returns OTA_POR_OK or CNTR_LOW / HIGH /
 *  BLOCKED. stored and rcvd are 40-bit values. */
uint8_t ota_cntr_check(enum ota_cntr_mode mode, uint64_t stored, uint64_t rcvd);

/*! 5-byte counter <-> integer */
uint64_t ota_cntr_get(const uint8_t c[5]);
void ota_cntr_put(uint8_t c[5], uint64_t v);
#define OTA_CNTR_MAX 0xFFFFFFFFFFULL

/*! Response packet fields chosen by the responder. Security comes from the command's SPI2 and KIc/KID. */
struct ota_por_hdr {
	uint8_t spi[2];		/*!< SPI of the command this answers */
	uint8_t kic;
	uint8_t kid;
	uint8_t tar[3];
	uint8_t cntr[5];
	uint8_t status;
};

/*! Build a PoR as TP-UD: 02 71 00 RPL..end. When secured is false the PoR goes in clear without RC/CC
 *  whatever SPI2 asks (error PoRs, e.g. status 06). */
int ota_por_encode(struct proto_buf *ud, const struct ota_por_hdr *h, const struct ota_sec *sec, bool secured,
		   const uint8_t *data, size_t len);

/*! Build a PoR packet (RPL..end, no UDH) whose RC/CC covers udh first: for a PoR that must be segmented, the UDH of
 *  segment 1 (TS 31.115; the exact UDH in the CC of a segmented PoR is unconfirmed, see scp80.md §9).
 *  ota_por_packet_len() gives its length beforehand (2 + RPL), so that the caller can fill the segment count. */
int ota_por_packet_len(const struct ota_por_hdr *h, const struct ota_sec *sec, bool secured, size_t len);
int ota_por_encode_packet(struct proto_buf *out, const struct ota_por_hdr *h, const struct ota_sec *sec,
			  bool secured, const uint8_t *udh, size_t udh_len, const uint8_t *data, size_t len);

/*! A decoded PoR. */
struct ota_por {
	uint16_t rpl;
	uint8_t rhl;
	uint8_t tar[3];
	uint8_t cntr[5];
	uint8_t pcntr;
	uint8_t status;
	uint8_t rc_cc_ds[8];
	uint8_t rc_len;
	bool ciphered;		/*!< it was enciphered (and deciphered here) */
	const uint8_t *data;	/*!< additional response data (points into the input or into scratch) */
	size_t data_len;
	enum ota_integrity integrity;
};

/*! Decode a PoR. in is either a TP-UD whose UDH carries IE 71 (any other IEs allowed; the whole UDH enters
 *  the CC, TS 31.115) or, with udh_present false, RPL..end (the UDH 02 71 00 is then implied).
 *  spi/kic/kid are those of the command. Error PoRs in clear without RC/CC are recognised even when SPI2
 *  asks for security. Returns 0, -PROTO_E_INTEGRITY (out filled, integrity BAD), or a structure error. */
int ota_por_decode(const uint8_t *in, size_t len, bool udh_present, const uint8_t spi[2], uint8_t kic, uint8_t kid,
		   const struct ota_sec *sec, uint8_t *scratch, size_t scratch_cap, struct ota_por *out);
