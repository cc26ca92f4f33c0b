/*! \file errors.h
 *  Error codes shared by the proto/ and ota/ codecs.
 *
 *  Every function in proto/ and ota/ returns 0 (or a non-negative count) on success and a negative value on
 *  failure: either a negated errno (-ENOMEM, -EINVAL, -ENOSPC) or one of the named codec errors below, which live
 *  in a reserved range well above any errno. proto_strerror() names both.
 */
#pragma once

enum proto_err {
	PROTO_E_BASE = 4000,
	PROTO_E_MALFORMED,   /*!< input does not follow the encoding (bad tag, bad length form, ...) */
	PROTO_E_TRUNCATED,   /*!< input ends before the structure it announces */
	PROTO_E_TRAILING,    /*!< bytes left over after a complete structure */
	PROTO_E_NOSPACE,     /*!< the bounded output buffer is too small */
	PROTO_E_UNSUPPORTED, /*!< valid but unsupported (reserved algorithm nibble, 4-byte tag, ...) */
	PROTO_E_INTEGRITY,   /*!< RC/CC/signature/receipt check failed */
	PROTO_E_CIPHER,	     /*!< ciphertext length is not a multiple of the block size, or a key does not fit */
	PROTO_E_KEY,	     /*!< a key needed by the SPI is missing or has the wrong length for the algorithm */
	PROTO_E_CRYPTO,	     /*!< the crypto library failed (mapped from OpenSSL at the boundary) */
	PROTO_E_STATE,	     /*!< call out of sequence (secure channel not open, counter exhausted, ...) */
	PROTO_E_MAX,
};

/*! Name an error code returned by proto/ or ota/ (negative errno or -PROTO_E_*). Never returns NULL. */
const char *proto_strerror(int rc);
