/*! \file eis_codec.h
 *  Compact, versioned binary encoding of struct smsr_eis: the value of an LMDB `eis` record (smsr/db.h).
 *
 *  Layout: one format byte (SMSR_EIS_CODEC_V1), then a sequence of BER-TLVs (proto/bertlv.h) with one-byte
 *  private-use tags whose low five bits are a field number (1..30) scoped to the enclosing structure:
 *    - `C0|n`  field n, primitive: raw bytes, text, or an unsigned integer (big endian, minimal, 0 = empty);
 *    - `80|n`  field n, text packed two characters a byte over the alphabet `0-9 . - : T Z` (OIDs, ICCIDs,
 *              MSISDNs, versions and xs:dateTime values in UTC), the odd last nibble padded with F;
 *    - `E0|n`  field n, constructed (a nested structure; repeated for arrays).
 *  AIDs starting with the SGP.02 prefix A0000005591010FFFFFFFF89 are written as `80|n` with their last 4 bytes.
 *  Absent optional fields (NULL strings, "" fixed strings, false flags, zero integers, len-0 AIDs) are not
 *  written. The field numbers are listed in eis_codec.c and are part of the on-disk format: never renumber,
 *  only add (new fields in version 1 readers are malformed, so adding fields means a new format byte).
 *
 *  Decoding is strict and bounded: a field appearing twice, an unknown tag, a length beyond its container, a
 *  value longer than its C field, an out-of-range enum, a NUL inside a text, or a non-minimal integer all make the
 *  decoder return an error; it never reads outside the input and never crashes on corrupt input. A record
 *  that decodes is a valid struct smsr_eis: encoding it again succeeds and decodes to an equal EIS.
 *
 *  Caveats:
 *  - smsr_eis_decode() copies everything out of the input: the input (e.g. an MDB_val) may go away right after.
 *  - The decoded tree is allocated as one talloc pooled object; freeing children individually does not return
 *    memory until the whole EIS is freed. talloc_steal() of children out of it works but keeps the pool alive.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "proto/buf.h"
#include "smsr/eis.h"

#define SMSR_EIS_CODEC_V1 0x01		/*!< format byte of the current encoding */
#define SMSR_EIS_CODEC_MAX_LEN (16u << 20)	/*!< largest record encoded or accepted (bytes) */

/*! Encode e into b. 0, -EINVAL when e breaks an invariant of eis.h that the format cannot carry (an AID, SIN,
 *  KCV, IMEI or MEID longer than its array, an enum out of range, an audit status below -1, an array count with a
 *  NULL array, a fixed string without its NUL), or -PROTO_E_NOSPACE when b is too small (nothing useful is left
 *  in b then). */
int smsr_eis_encode(const struct smsr_eis *e, struct proto_buf *b);

/*! The same without the EID field: the form stored in LMDB, whose key is the EID. */
int smsr_eis_encode_record(const struct smsr_eis *e, struct proto_buf *b);

/*! Encode e into a new talloc buffer under ctx (*out, *out_len). 0, -EINVAL as above, -ENOMEM, or
 *  -PROTO_E_NOSPACE beyond SMSR_EIS_CODEC_MAX_LEN. */
int smsr_eis_encode_alloc(void *ctx, const struct smsr_eis *e, uint8_t **out, size_t *out_len);

/*! Decode in[0..len) into a new EIS under ctx. 0 and *out set; -PROTO_E_TRUNCATED, -PROTO_E_MALFORMED,
 *  -PROTO_E_UNSUPPORTED (another format byte: written by a newer version), or -ENOMEM.
 *  *out is NULL on error. */
int smsr_eis_decode(void *ctx, const uint8_t *in, size_t len, struct smsr_eis **out);

/*! Decode the LMDB form (smsr_eis_encode_record()); eid (the record's key) becomes e->eid. A record that holds
 *  an EID field is malformed here (and one without is malformed for smsr_eis_decode()). */
int smsr_eis_decode_record(void *ctx, const uint8_t eid[SMSR_EID_LEN], const uint8_t *in, size_t len,
			   struct smsr_eis **out);
