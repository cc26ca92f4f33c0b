/*! \file ts102226_rcmd.h
 *  ETSI TS 102 226 remote APDU structures: the compact format (§5.1) and the expanded format (§5.2) that
 *  SGP.02 uses for every ES5/ES8 script (sgp02.md §6.1, crypto.md §C.3).
 *
 *  Compact command:   C-APDU C-APDU ...   (TS 102 221 TPDU style: CLA INS P1 P2 P3 [data]; no Le on case 4)
 *  Compact response:  n_cmds(1) SW1 SW2 [response data of the last command]               (scp80.md §6.2)
 *  Expanded command:  AA L { [83 01 chaining] [81 immediate action] [82 error action] 22 L <C-APDU> ... }
 *                     or AE 80 { same } 00 00
 *  Expanded response: AB L { [80 01 n] 23 L <data SW1 SW2> ... [81 immediate action response] [90 01 type] }
 *                     or AF 80 { same } 00 00
 *  Definite lengths use 1 to 4 length bytes (81 xx, 82 xxxx, 83 xxxxxx). Inside an indefinite template every
 *  TLV is definite, so the end-of-contents octets 00 00 can only appear at a TLV boundary.
 *
 *  Encoding goes through struct proto_rcmd_enc on a bounded proto_buf. Decoding is zero-copy and strict: the
 *  input must be exactly one template (-PROTO_E_TRAILING otherwise), every item is checked once by the decode
 *  call, and the iterators then hand out the C-APDUs / R-APDUs pointing into the input.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "proto/buf.h"
#include "proto/gp_apdu.h"

/*! Tags of the expanded format (TS 102 226 §5.2.1 command, §5.2.2 response; C-APDU/R-APDU tags allocated in
 *  TS 101 220). */
enum proto_rcmd_tag {
	PROTO_RCMD_TAG_CMD_SCRIPT = 0xAA,	/*!< command scripting template, definite length */
	PROTO_RCMD_TAG_CMD_SCRIPT_INDEF = 0xAE,	/*!< command scripting template, indefinite length */
	PROTO_RCMD_TAG_RSP_SCRIPT = 0xAB,	/*!< response scripting template, definite length */
	PROTO_RCMD_TAG_RSP_SCRIPT_INDEF = 0xAF,	/*!< response scripting template, indefinite length */
	PROTO_RCMD_TAG_CAPDU = 0x22,		/*!< C-APDU */
	PROTO_RCMD_TAG_RAPDU = 0x23,		/*!< R-APDU: response data || SW1 SW2 */
	PROTO_RCMD_TAG_IMMEDIATE_ACTION = 0x81,	/*!< immediate action (command) / immediate action response */
	PROTO_RCMD_TAG_ERROR_ACTION = 0x82,	/*!< error action (command) */
	PROTO_RCMD_TAG_SCRIPT_CHAINING = 0x83,	/*!< script chaining (command), 1 byte */
	PROTO_RCMD_TAG_N_EXECUTED = 0x80,	/*!< number of executed C-APDUs (response), 1 byte */
	PROTO_RCMD_TAG_BAD_FORMAT = 0x90,	/*!< bad format (response), 1 byte error type */
};

/*! Name of an expanded-format tag; never NULL. response selects the meaning of 81. */
const char *proto_rcmd_tag_name(uint32_t tag, bool response);

/*! Script chaining values (TS 102 226 §5.2.1; SGP.02 Annex K per sgp02.md §6.1). */
enum proto_rcmd_chaining {
	PROTO_RCMD_CHAIN_FIRST = 0x01,		/*!< first script; chaining information deleted on reset */
	PROTO_RCMD_CHAIN_FIRST_KEEP = 0x11,	/*!< first script; chaining information kept across reset */
	PROTO_RCMD_CHAIN_NEXT = 0x02,		/*!< subsequent script, more to follow */
	PROTO_RCMD_CHAIN_LAST = 0x03,		/*!< last script */
};

/*! Name of a script chaining value; never NULL. */
const char *proto_rcmd_chaining_name(uint8_t v);

/*! Bad format error types (TS 102 226 §5.2.2). */
enum proto_rcmd_bad_format {
	PROTO_RCMD_BAD_UNKNOWN_TAG = 0x01,
	PROTO_RCMD_BAD_WRONG_LENGTH = 0x02,
	PROTO_RCMD_BAD_LENGTH_MISSING = 0x03,
};

/*! Name of a bad format error type; never NULL. */
const char *proto_rcmd_bad_format_name(uint8_t v);

/*! The bad format type a receiving entity reports for a proto_rcmd_script_decode() error:
 *  -PROTO_E_UNSUPPORTED (unknown tag) -> UNKNOWN_TAG, -PROTO_E_TRUNCATED -> LENGTH_MISSING, else WRONG_LENGTH. */
uint8_t proto_rcmd_err_to_bad_format(int rc);

/*
 * Compact format (TS 102 226 §5.1)
 */

/*! A decoded compact response (§5.1.2). data points into the input. */
struct proto_rcmd_compact_rsp {
	uint8_t n_cmds;		/*!< number of commands executed (the failed one included) */
	uint8_t sw[2];		/*!< SW1 SW2 of the last executed command */
	uint16_t last_sw;	/*!< the same as one word */
	const uint8_t *data;	/*!< response data of the last command */
	size_t data_len;
};

/*! Decode n_cmds SW1 SW2 [data]. -PROTO_E_TRUNCATED below 3 bytes. */
int proto_rcmd_compact_rsp_decode(const uint8_t *in, size_t len, struct proto_rcmd_compact_rsp *r);

/*! Append a compact response. Returns 0 or -PROTO_E_NOSPACE. */
int proto_rcmd_compact_rsp_encode(struct proto_buf *b, uint8_t n_cmds, uint16_t sw, const uint8_t *data,
				  size_t len);

/*! Append one command of a compact script in TPDU form: case 1 as CLA INS P1 P2 00, case 2 with P3 = Le,
 *  case 3 and 4 with P3 = Lc and the data (the Le of case 4 is dropped: the card answers 61xx and the
 *  compact response carries it). Returns the bytes written, -EINVAL, -PROTO_E_NOSPACE. */
int proto_rcmd_compact_put(struct proto_buf *b, const struct proto_apdu *a);

/*! Decides whether P3 of a compact command is Le (case 2: no data follows) from its 4 header bytes. */
typedef bool (*proto_rcmd_case2_fn)(const uint8_t hdr[4]);

/*! Default: TS 102 221 outgoing-data commands READ BINARY B0, READ RECORD B2, GET RESPONSE C0, FETCH 12,
 *  GET CHALLENGE 84, GET DATA CA/CB and STATUS F2 with P1 <= 02 (GP GET STATUS, P1 >= 10, carries data). */
bool proto_rcmd_compact_case2_default(const uint8_t hdr[4]);

/*! One command out of a script: the raw bytes and the parsed APDU, both pointing into the input. */
struct proto_rcmd_capdu {
	const uint8_t *raw;
	size_t raw_len;
	struct proto_apdu apdu;
};

/*! Iterator over a compact command script. */
struct proto_rcmd_compact_iter {
	const uint8_t *p, *end;
	proto_rcmd_case2_fn is_case2;
};

/*! is_case2 NULL selects proto_rcmd_compact_case2_default(). */
void proto_rcmd_compact_iter_init(struct proto_rcmd_compact_iter *it, const uint8_t *data, size_t len,
				  proto_rcmd_case2_fn is_case2);

/*! Next command: 1 and *c filled, 0 at the end, -PROTO_E_TRUNCATED when the last command is cut short
 *  (the iterator then stays at the error). */
int proto_rcmd_compact_next(struct proto_rcmd_compact_iter *it, struct proto_rcmd_capdu *c);

/*
 * Expanded format (TS 102 226 §5.2): encoder
 */

/*! An expanded command or response template being written. */
struct proto_rcmd_enc {
	struct proto_buf *b;
	size_t start;		/*!< offset of the template tag */
	size_t mark;		/*!< proto_tlv_open() mark of a definite template */
	bool indefinite;
	bool response;
};

/*! Start a command script: AA (definite, length fixed at the end) or AE 80. */
void proto_rcmd_cmd_begin(struct proto_rcmd_enc *e, struct proto_buf *b, bool indefinite);

/*! Start a response script: AB or AF 80. */
void proto_rcmd_rsp_begin(struct proto_rcmd_enc *e, struct proto_buf *b, bool indefinite);

/*! Finish the template (close AA/AB with its minimal length, or write 00 00). Returns the template length in
 *  bytes, or -PROTO_E_NOSPACE when anything did not fit. While a definite template (or a capdu_open() TLV) is
 *  open, proto_tlv_open() holds 4 length bytes, so the buffer needs up to 3 bytes of slack per open level
 *  beyond the final size. */
int proto_rcmd_end(struct proto_rcmd_enc *e);

/*! 22 L <C-APDU>. Returns 0, -EINVAL (bad APDU, see proto_apdu_encode()), -PROTO_E_NOSPACE. */
int proto_rcmd_put_capdu(struct proto_rcmd_enc *e, const struct proto_apdu *a);

/*! 22 L <raw>, for an already encoded C-APDU (checked with proto_apdu_decode(): errors as there). */
int proto_rcmd_put_capdu_raw(struct proto_rcmd_enc *e, const uint8_t *apdu, size_t len);

/*! Open a 22 TLV for one of the proto_gp_* builders, which then write into e->b; close it with
 *  proto_rcmd_capdu_close(). */
size_t proto_rcmd_capdu_open(struct proto_rcmd_enc *e);
int proto_rcmd_capdu_close(struct proto_rcmd_enc *e, size_t mark);

/*! Append one STORE DATA command per block of data (see struct proto_gp_store_data_chain), each as a 22 TLV.
 *  Returns the number of blocks, -EINVAL, -PROTO_E_NOSPACE. */
int proto_rcmd_put_store_data_chain(struct proto_rcmd_enc *e, uint8_t p1, uint8_t first_block,
				    const uint8_t *data, size_t len);

/*! Append ready-made TLVs (e.g. the 22 / 84 / 85 / 86 TLVs of an ES3.SendData payload, sgp02.md §6.1) after
 *  checking that they are a sequence of well-formed definite TLVs (top level only: tags 22/23 carry the BER
 *  constructed bit but hold an APDU). Errors as proto_tlv_iter_next(). */
int proto_rcmd_put_tlvs(struct proto_rcmd_enc *e, const uint8_t *tlvs, size_t len);

/*! 83 01 <v> (command only). */
int proto_rcmd_put_chaining(struct proto_rcmd_enc *e, uint8_t v);

/*! 81 L <v>: immediate action (command) or immediate action response (response). */
int proto_rcmd_put_immediate_action(struct proto_rcmd_enc *e, const uint8_t *v, size_t len);

/*! 82 L <v>: error action (command only). */
int proto_rcmd_put_error_action(struct proto_rcmd_enc *e, const uint8_t *v, size_t len);

/*! 80 01 <n> (response only). */
int proto_rcmd_put_n_executed(struct proto_rcmd_enc *e, uint8_t n);

/*! 23 L <data SW1 SW2> (response only). */
int proto_rcmd_put_rapdu(struct proto_rcmd_enc *e, const uint8_t *data, size_t len, uint16_t sw);

/*! 90 01 <type> (response only). */
int proto_rcmd_put_bad_format(struct proto_rcmd_enc *e, uint8_t type);

/*
 * Expanded format: decoders
 */

/*! A decoded command scripting template. */
struct proto_rcmd_script {
	bool indefinite;		/*!< AE 80 ... 00 00 */
	const uint8_t *content;		/*!< template value (without the end-of-contents octets) */
	size_t content_len;
	size_t raw_len;			/*!< whole template incl. tag, length and EOC (== input length) */
	unsigned int n_capdus;
	bool has_chaining;
	uint8_t chaining;		/*!< enum proto_rcmd_chaining */
	const uint8_t *immediate_action; /*!< value of the first 81 TLV, NULL if none */
	size_t immediate_action_len;
	const uint8_t *error_action;	/*!< value of the first 82 TLV, NULL if none */
	size_t error_action_len;
};

/*! Decode and check a command script: tag AA with a definite or AE with the indefinite length, items 22 (a valid
 *  short C-APDU), 81, 82 and 83 (one byte, at most once). Errors: -PROTO_E_TRUNCATED (input ends inside a TLV
 *  or before the end-of-contents octets), -PROTO_E_MALFORMED (wrong template tag or length form, bad item
 *  length, 00 00 where no EOC may be, a 22 value that is no valid short C-APDU), -PROTO_E_UNSUPPORTED (unknown
 *  item tag, nested indefinite TLV, extended-length C-APDU), -PROTO_E_TRAILING (bytes after the template). */
int proto_rcmd_script_decode(const uint8_t *in, size_t len, struct proto_rcmd_script *s);

/*! Iterator over the C-APDUs of a decoded script (skips 81/82/83). */
struct proto_rcmd_iter {
	const uint8_t *p, *end;
};

void proto_rcmd_script_iter_init(struct proto_rcmd_iter *it, const struct proto_rcmd_script *s);

/*! Next C-APDU: 1 and *c filled, 0 at the end, < 0 only for a script that did not come from
 *  proto_rcmd_script_decode(). */
int proto_rcmd_script_next(struct proto_rcmd_iter *it, struct proto_rcmd_capdu *c);

/*! A decoded response scripting template. */
struct proto_rcmd_rsp {
	bool indefinite;		/*!< AF 80 ... 00 00 */
	const uint8_t *content;
	size_t content_len;
	size_t raw_len;
	bool has_n_executed;		/*!< an 80 TLV was present (it is absent in some wire captures) */
	uint8_t n_executed;
	unsigned int n_rapdus;
	bool has_last_sw;		/*!< at least one R-APDU */
	uint16_t last_sw;		/*!< SW of the last R-APDU */
	const uint8_t *last_data;	/*!< response data of the last R-APDU */
	size_t last_data_len;
	bool bad_format;		/*!< a 90 TLV was present */
	uint8_t bad_format_type;	/*!< enum proto_rcmd_bad_format */
	const uint8_t *immediate_action_rsp; /*!< value of the first 81 TLV, NULL if none */
	size_t immediate_action_rsp_len;
};

/*! Decode and check a response script: tag AB (definite) or AF (indefinite), items 80 (1 byte, at most once),
 *  23 (at least the 2 SW bytes), 81, 90 (1 byte, at most once). Errors as proto_rcmd_script_decode(). */
int proto_rcmd_rsp_decode(const uint8_t *in, size_t len, struct proto_rcmd_rsp *r);

void proto_rcmd_rsp_iter_init(struct proto_rcmd_iter *it, const struct proto_rcmd_rsp *r);

/*! Next R-APDU: 1 and *ra filled (data and SW pointing into the input), 0 at the end. */
int proto_rcmd_rsp_next(struct proto_rcmd_iter *it, struct proto_rapdu *ra);
