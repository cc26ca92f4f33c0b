/*! \file saip_rsp.h
 *  The EUICCResponse of the TCA/SIMalliance eUICC Profile Package Interoperable Format ("SAIP", PE_Definitions
 *  ASN.1, DEFINITIONS AUTOMATIC TAGS): what the ISD-P returns, SCP03t-wrapped, after the last segment of a profile
 *  package (sgp02.md §6.7 step 4), and what the SM-DP checks.
 *
 *      EUICCResponse ::= SEQUENCE {                             30 L
 *          peStatus SEQUENCE OF PEStatus,                          A0 L { 30 L PEStatus ... }
 *          profileInstallationAborted NULL OPTIONAL,               81 00
 *          statusMessage UTF8String (SIZE (2..64)) OPTIONAL }      82 L text
 *      PEStatus ::= SEQUENCE {                                  30 L
 *          status INTEGER { ok(0), pe-not-supported(1), ... },     80 L
 *          identification UInt15 OPTIONAL,                         81 L  (PE triggering the error)
 *          additional-information UInt8 OPTIONAL,                  82 L
 *          offset UInt31 OPTIONAL }                                83 L
 *
 *  DER: definite minimal lengths, INTEGERs in the minimal two's complement form and never negative here. The
 *  decoder is strict about the known fields (order, presence, ranges, minimal INTEGERs) and skips unknown
 *  trailing context tags, since the module is EXTENSIBILITY IMPLIED. statusMessage points into the input.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"

/*! PEStatus status values (PE_Definitions; 24576..28671 and 36864..40959 carry ISO 7816 SWs 6xxx / 9xxx, 40960..
 *  65535 are proprietary). */
enum proto_saip_status {
	PROTO_SAIP_OK = 0,
	PROTO_SAIP_PE_NOT_SUPPORTED = 1,
	PROTO_SAIP_MEMORY_FAILURE = 2,
	PROTO_SAIP_BAD_VALUES = 3,
	PROTO_SAIP_NOT_ENOUGH_MEMORY = 4,
	PROTO_SAIP_INVALID_REQUEST_FORMAT = 5,
	PROTO_SAIP_INVALID_PARAMETER = 6,
	PROTO_SAIP_RUNTIME_NOT_SUPPORTED = 7,
	PROTO_SAIP_LIB_NOT_SUPPORTED = 8,
	PROTO_SAIP_TEMPLATE_NOT_SUPPORTED = 9,
	PROTO_SAIP_FEATURE_NOT_SUPPORTED = 10,
	PROTO_SAIP_PIN_CODE_MISSING = 11,
	PROTO_SAIP_UNSUPPORTED_PROFILE_VERSION = 31,
};

/*! Name of a status value ("ok", "not-enough-memory", ...; "unknown" otherwise); never NULL. */
const char *proto_saip_status_name(uint32_t status);

#define PROTO_SAIP_STATUS_MAX 65535u	  /*!< largest status value accepted */
#define PROTO_SAIP_ID_MAX 32767u	  /*!< UInt15 */
#define PROTO_SAIP_OFFSET_MAX 2147483647u /*!< UInt31 */
#define PROTO_SAIP_RSP_MAX_PE 16	  /*!< PEStatus entries we encode or decode */
#define PROTO_SAIP_MSG_MIN 2
#define PROTO_SAIP_MSG_MAX 64

/*! One PEStatus. */
struct proto_saip_pe_status {
	uint32_t status; /*!< enum proto_saip_status or an SW / proprietary value, <= 65535 */
	bool has_id;
	uint16_t id; /*!< identification, <= 32767 */
	bool has_add_info;
	uint8_t add_info; /*!< additional-information */
	bool has_offset;
	uint32_t offset; /*!< offset, <= 2^31 - 1 */
};

/*! An EUICCResponse. */
struct proto_saip_euicc_rsp {
	unsigned n_pe; /*!< PEStatus entries (0 allowed) */
	struct proto_saip_pe_status pe[PROTO_SAIP_RSP_MAX_PE];
	bool aborted;	    /*!< profileInstallationAborted present */
	const uint8_t *msg; /*!< statusMessage (UTF-8, not terminated), or NULL */
	size_t msg_len;	    /*!< 2..64 when present */
};

/*! Append the DER encoding. -EINVAL for values out of range (n_pe above the maximum, status, id, offset, a message
 *  length outside 2..64), -PROTO_E_NOSPACE. */
int proto_saip_euicc_rsp_encode(struct proto_buf *b, const struct proto_saip_euicc_rsp *r);

/*! Decode exactly one EUICCResponse occupying in[0..len). -PROTO_E_TRUNCATED, -PROTO_E_TRAILING, -PROTO_E_MALFORMED
 *  (wrong tags or order, missing peStatus or status, non-minimal or negative INTEGER, value out of range, NULL with
 *  content, message length), -PROTO_E_UNSUPPORTED (more than PROTO_SAIP_RSP_MAX_PE entries). On error r is zeroed. */
int proto_saip_euicc_rsp_decode(struct proto_saip_euicc_rsp *r, const uint8_t *in, size_t len);

/*! Whether the response reports success: not aborted, and every PEStatus (at least one) is ok. */
bool proto_saip_euicc_rsp_ok(const struct proto_saip_euicc_rsp *r);

/*! The first PEStatus that is not ok, or NULL. */
const struct proto_saip_pe_status *proto_saip_euicc_rsp_first_error(const struct proto_saip_euicc_rsp *r);
