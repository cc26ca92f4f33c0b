/*! \file bertlv.h
 *  BER-TLV as used by GlobalPlatform, ETSI TS 102 223/226 and SGP.02 (ISO/IEC 8825-1 subset).
 *
 *  Tags are 1 to 3 bytes and are held as the big-endian value of their raw bytes (0x5A, 0x7F21, 0xBF3001 would
 *  be three bytes). Lengths are definite: 00..7F, 81 xx, 82 xxxx, 83 xxxxxx; the indefinite form 80 is
 *  reported as such (for the AE/AF scripting templates of TS 102 226) and the caller walks the content up to
 *  the end-of-contents octets 00 00. Decoding is zero-copy: struct proto_tlv points into the input buffer,
 *  which must outlive it. Encoding writes minimal lengths into a bounded struct proto_buf.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"

#define PROTO_TLV_MAX_LEN 0xFFFFFF	/*!< largest definite length we encode or accept (3 length bytes) */

struct proto_tlv {
	uint32_t tag;		/*!< raw tag bytes, big endian (1-3 bytes) */
	uint8_t tag_len;	/*!< number of tag bytes */
	bool constructed;	/*!< b6 of the first tag byte */
	bool indefinite;	/*!< length octet was 0x80; val runs to the end of the input, len is 0 */
	const uint8_t *val;	/*!< value (points into the input) */
	size_t len;		/*!< value length */
	const uint8_t *raw;	/*!< first tag byte */
	size_t raw_len;		/*!< tag + length + value (definite form only) */
};

/*! Decode one TLV at the start of in[0..len). On success fills t and returns the bytes consumed (> 0).
 *  Errors: -PROTO_E_TRUNCATED, -PROTO_E_MALFORMED (reserved length forms 84..FF, tag 00/FF padding is
 *  not skipped here), -PROTO_E_UNSUPPORTED (tags of more than 3 bytes). */
int proto_tlv_decode(const uint8_t *in, size_t len, struct proto_tlv *t);

/*! Decode a single definite-length TLV that fills in[0..len) exactly. 0 and t filled, -PROTO_E_TRAILING when
 *  bytes follow it, -PROTO_E_MALFORMED for the indefinite form, or the errors of proto_tlv_decode(). */
int proto_tlv_decode_exact(const uint8_t *in, size_t len, struct proto_tlv *t);

/*! Zero-copy iterator over a sequence of TLVs. */
struct proto_tlv_iter {
	const uint8_t *p, *end;
	bool stop_at_eoc;	/*!< end cleanly at 00 00 (content of an indefinite-length TLV) */
	const uint8_t *eoc;	/*!< set to the end-of-contents octets when stop_at_eoc hit them */
};

void proto_tlv_iter_init(struct proto_tlv_iter *it, const uint8_t *data, size_t len);

/*! Next TLV: 1 and t filled, 0 at the end, negative on malformed input. */
int proto_tlv_iter_next(struct proto_tlv_iter *it, struct proto_tlv *t);

/*! Find the first TLV with this tag among the top-level TLVs of data. 1 found, 0 not found, < 0 malformed. */
int proto_tlv_find(const uint8_t *data, size_t len, uint32_t tag, struct proto_tlv *t);

/*! Check that data is exactly a sequence of well-formed definite TLVs (recursively into constructed ones, to
 *  a depth of 8). 0 or a negative error. */
int proto_tlv_validate(const uint8_t *data, size_t len);

/*! Number of bytes needed to encode this tag / this length. */
size_t proto_tlv_tag_size(uint32_t tag);
size_t proto_tlv_len_size(size_t len);

void proto_tlv_put_tag(struct proto_buf *b, uint32_t tag);
void proto_tlv_put_len(struct proto_buf *b, size_t len);

/*! Append tag, minimal length and value. Errors surface through proto_buf_status(). */
void proto_tlv_put(struct proto_buf *b, uint32_t tag, const void *val, size_t len);

/*! Open a constructed TLV whose length is not yet known: writes the tag and reserves the worst-case length
 *  field (4 bytes). Returns a mark for proto_tlv_close(). */
size_t proto_tlv_open(struct proto_buf *b, uint32_t tag);

/*! Close a TLV opened by proto_tlv_open(): writes the minimal length and moves the value down. */
void proto_tlv_close(struct proto_buf *b, size_t mark);
