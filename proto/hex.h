/*! \file hex.h
 *  Hex conversion for tools, tests and logs of public data (never of keys: see ota/keystore.h).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/*! Value of one hex digit (either case), or -1. */
int proto_hex_digit(int c);

/*! Decode hex (case-insensitive, no separators) into out. Returns the byte count, -EINVAL on a non-hex
 *  character or odd length, -PROTO_E_NOSPACE if out is too small. An empty string gives 0. */
int proto_hex_decode(const char *hex, uint8_t *out, size_t cap);

/*! As proto_hex_decode, over the first len characters of hex (which need not be NUL-terminated). */
int proto_hex_decode_n(const char *hex, size_t len, uint8_t *out, size_t cap);

/*! Encode len bytes as lower-case hex into out (needs 2*len+1 bytes). Returns out. */
char *proto_hex_encode(const uint8_t *in, size_t len, char *out);

/*! As proto_hex_encode, in upper case (xs:hexBinary as the GSMA examples write it). */
char *proto_hex_encode_upper(const uint8_t *in, size_t len, char *out);

/*! Print len bytes as lower-case hex to a static thread-local buffer (truncated with "..." beyond 512 bytes).
 *  For logs and golden test output. */
const char *proto_hexstr(const uint8_t *in, size_t len);
