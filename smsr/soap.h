/*! \file soap.h
 *  SOAP 1.2 envelope with WS-Addressing 2005/08 headers for the SM-SR off-card interfaces (sgp02.md §5.1, §5.2):
 *  a hardened parser from a byte buffer into struct smsr_soap_msg, builders for responses, asynchronous
 *  requests/callbacks/notifications and SOAP 1.2 Faults, and the small XML cursor/builder helpers the ES codecs
 *  (eis_xml.c, es_msg.c) share. This is the only module that drives the libxml2 parser; libxml2 errors are mapped
 *  to the SMSR_SOAP_E_* codes here.
 *
 *  Hardening (style.md practice 12): the input is parsed with XML_PARSE_NONET only (never NOENT, DTDLOAD or HUGE);
 *  any DOCTYPE, and therefore any entity declaration, stops the parser at once (XXE, billion laughs); the body
 *  size, the number of elements, the nesting depth and the length of every text node and attribute value are
 *  bounded by struct smsr_soap_limits. A document that is not namespace-well-formed is refused.
 *
 *  Errors: functions return 0 or a negative value, either -errno (-ENOMEM, -EINVAL, -EIO) or -SMSR_SOAP_E_*.
 *  smsr_soap_strerror() names both; smsr_soap_fault_from_error() turns an error into the SOAP Fault to send.
 *
 *  Ownership: every output is a talloc child of the ctx passed in. A struct smsr_soap_msg owns its xmlDoc (freed
 *  by its talloc destructor); its strings and body node live as long as it does.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <libxml/tree.h>

#define SMSR_NS_RPS "http://namespaces.gsma.org/esim-messaging/3"	/*!< GSMA esim-messaging/3 */
#define SMSR_NS_SOAP12 "http://www.w3.org/2003/05/soap-envelope"
#define SMSR_NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define SMSR_NS_WSA "http://www.w3.org/2005/08/addressing"
#define SMSR_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
/*! Namespace of our own Fault subcodes (m2m:MalformedXml, ...); not a GSMA or W3C name */
#define SMSR_NS_M2M_FAULT "urn:m2m-sm:soap-fault"
#define SMSR_WSA_ANONYMOUS "http://www.w3.org/2005/08/addressing/anonymous"
/*! wsa:Action of every SOAP Fault (WS-Addressing 1.0 SOAP binding §6) */
#define SMSR_WSA_FAULT_ACTION "http://www.w3.org/2005/08/addressing/soap/fault"

/*! Named errors of the SOAP layer, above the proto/ range (proto/errors.h). */
enum smsr_soap_err {
	SMSR_SOAP_E_BASE = 4200,
	SMSR_SOAP_E_TOO_BIG,		/*!< request larger than max_body */
	SMSR_SOAP_E_LIMIT,		/*!< element count, depth, text or attribute length above the limits */
	SMSR_SOAP_E_DTD,		/*!< DOCTYPE / entity declaration (refused outright) */
	SMSR_SOAP_E_MALFORMED,		/*!< not (namespace-)well-formed XML: truncated, garbage, ... */
	SMSR_SOAP_E_VERSION,		/*!< root is not a SOAP 1.2 env:Envelope (e.g. a SOAP 1.1 envelope) */
	SMSR_SOAP_E_ENVELOPE,		/*!< envelope shape: no Body, not one Body element, stray content */
	SMSR_SOAP_E_MUST_UNDERSTAND,	/*!< a header with env:mustUnderstand we do not process */
	SMSR_SOAP_E_WSA_MISSING,	/*!< a required WS-Addressing header is absent */
	SMSR_SOAP_E_WSA_INVALID,	/*!< a WS-Addressing header is duplicated, empty or malformed */
	SMSR_SOAP_E_ACTION_MISMATCH,	/*!< wsa:Action does not match the body element */
	SMSR_SOAP_E_ACTION_UNKNOWN,	/*!< wsa:Action / body element names no function this endpoint provides */
	SMSR_SOAP_E_NAMESPACE,		/*!< body element is not in the GSMA esim-messaging/3 namespace */
	SMSR_SOAP_E_MAX,
};

/*! Name an error (negative errno or -SMSR_SOAP_E_*). Never NULL. */
const char *smsr_soap_strerror(int rc);

/*! Input bounds; zero fields take the defaults of smsr_soap_limits_default(). */
struct smsr_soap_limits {
	size_t max_body;	/*!< bytes of the whole request (default 1 MiB, at most INT_MAX) */
	unsigned max_elements;	/*!< elements in the document (default 20000) */
	unsigned max_depth;	/*!< element nesting depth, Envelope = 1 (default 32) */
	size_t max_text;	/*!< bytes of one text node, comment or attribute value (default 64 KiB) */
};

void smsr_soap_limits_default(struct smsr_soap_limits *l);

/*! Details of a parse error, for the log line and the Fault. */
struct smsr_soap_error {
	char text[256];			/*!< human-readable reason, never empty after a failure */
	char problem_ns[160];		/*!< namespace of the offending header (MUST_UNDERSTAND, WSA_*) or "" */
	char problem_local[64];		/*!< its local name, "" when none */
	const char *wsa_detail;		/*!< WS-A second-level subcode (local name, wsa namespace) or NULL */
};

/*! A received SOAP 1.2 request. All strings are trimmed copies, NULL when the header is absent. */
struct smsr_soap_msg {
	xmlDoc *doc;			/*!< owned; freed with the message */
	char *action;			/*!< wsa:Action (required) */
	char *message_id;		/*!< wsa:MessageID (required) */
	char *relates_to;		/*!< wsa:RelatesTo */
	char *to;			/*!< wsa:To */
	char *to_entity_id;		/*!< EntityId query parameter of wsa:To */
	char *from_address;		/*!< wsa:From/wsa:Address (required) */
	char *from_entity_id;		/*!< EntityId query parameter of From/Address (an OID), NULL if absent */
	char *from_entity_name;		/*!< EntityName query parameter of From/Address */
	char *reply_to;			/*!< wsa:ReplyTo/wsa:Address */
	char *transaction_id;		/*!< TransactionId query parameter of wsa:MessageID (sgp02.md §5.2) */
	char *message_date;		/*!< MessageDate query parameter of wsa:MessageID */
	xmlNode *body;			/*!< the single element child of env:Body */
	const char *body_name;		/*!< its local name */
	const char *body_ns;		/*!< its namespace URI, NULL when unqualified */
};

/*! Parse and check a SOAP 1.2 request of len bytes. Requires wsa:Action, wsa:MessageID and wsa:From/wsa:Address
 *  (wsa:To is optional on input), a Body with exactly one element, and no mustUnderstand header other than the
 *  WS-Addressing ones. On success *out is a talloc child of ctx; on failure *out is NULL, err (if not NULL) is
 *  filled and a negative code is returned. lim may be NULL for the defaults. */
int smsr_soap_parse(void *ctx, const void *buf, size_t len, const struct smsr_soap_limits *lim,
		    struct smsr_soap_msg **out, struct smsr_soap_error *err);

/*! Parse a standalone XML fragment with the same hardening (used to re-read stored canonical XML). The document
 *  is a talloc child of ctx (xmlFreeDoc in its destructor): free it with talloc_free(holder), where *holder is
 *  what is returned in holder. Returns 0 or a negative code. */
int smsr_soap_parse_fragment(void *ctx, const char *xml, size_t len, const struct smsr_soap_limits *lim,
			     void **holder, xmlDoc **doc, struct smsr_soap_error *err);

/*! Canonical XML (mode XML_C14N_EXCLUSIVE_1_0 or XML_C14N_1_0, no comments) of the subtree rooted at n,
 *  NUL-terminated (not counted in *out_len, which may be NULL), talloc'd on ctx. libxml2's error handlers are
 *  silenced for the call. Returns 0, -EBADMSG when libxml2 refuses the subtree (e.g. a relative namespace URI),
 *  -EINVAL without a document, -ENOMEM. */
int smsr_soap_c14n(void *ctx, xmlNode *n, int mode, char **out, size_t *out_len);

/*! Who we are, for From/Address, MessageID and Fault headers. */
struct smsr_soap_entity {
	const char *address;		/*!< our endpoint URI without query ("https://smsr.example.com/es4") */
	const char *entity_id;		/*!< our OID: From EntityId and MessageID prefix (required) */
	const char *entity_name;	/*!< optional EntityName (e.g. "SM-SR") */
};

/*! (a) Synchronous response: Action = action, RelatesTo = req->message_id, From = self, To = the request's
 *  ReplyTo when present and not anonymous, otherwise the request's From address. body is moved into the envelope
 *  when it is the root element of its document (the caller still frees that document, now without it), otherwise
 *  deep-copied. *out is NUL-terminated UTF-8 with an XML declaration, *out_len excludes the
 *  NUL. message_id (optional) receives the new wsa:MessageID. */
int smsr_soap_build_response(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *req,
			     const char *action, xmlNode *body, uint8_t **out, size_t *out_len,
			     char **message_id);

/*! (b) A request we originate: an asynchronous callback (relates_to = the original request's MessageID) or a
 *  notification (relates_to NULL). MessageID = "//<self OID>/urn:uuid:<random v4>?[TransactionId=..&]MessageDate=.."
 *  (sgp02.md §5.2); To = to (the peer's endpoint, with its ?EntityId=); message_id (optional) receives it. */
int smsr_soap_build_request(void *ctx, const struct smsr_soap_entity *self, const char *to, const char *action,
			    const char *relates_to, const char *transaction_id, xmlNode *body, uint8_t **out,
			    size_t *out_len, char **message_id);
/*! The same with a wsa:ReplyTo address (where the asynchronous result is wanted; NULL = none). */
int smsr_soap_build_request_ex(void *ctx, const struct smsr_soap_entity *self, const char *to, const char *reply_to,
			       const char *action, const char *relates_to, const char *transaction_id, xmlNode *body,
			       uint8_t **out, size_t *out_len, char **message_id);

/*! SOAP 1.2 fault codes (SOAP 1.2 Part 1 §5.4.6). */
enum smsr_soap_fault_code {
	SMSR_SOAP_FAULT_VERSION_MISMATCH,
	SMSR_SOAP_FAULT_MUST_UNDERSTAND,
	SMSR_SOAP_FAULT_DATA_ENCODING_UNKNOWN,
	SMSR_SOAP_FAULT_SENDER,
	SMSR_SOAP_FAULT_RECEIVER,
};

struct smsr_soap_fault {
	enum smsr_soap_fault_code code;
	const char *subcode_ns;		/*!< namespace of the first-level subcode, NULL for none */
	const char *subcode;		/*!< its local name */
	const char *subcode2;		/*!< optional second-level subcode, same namespace */
	const char *reason;		/*!< env:Reason/env:Text (xml:lang="en") */
	const char *problem_ns;		/*!< WS-A ProblemHeaderQName / env:NotUnderstood header, or NULL */
	const char *problem_local;
	const char *problem_action;	/*!< wsa:ProblemAction detail for ActionNotSupported, or NULL */
};

/*! The Fault for an error returned by smsr_soap_parse() or the ES decoders (err may be NULL). The strings of f
 *  point into err or static storage. */
void smsr_soap_fault_from_error(int rc, const struct smsr_soap_error *err, const char *action,
				struct smsr_soap_fault *f);

/*! HTTP status for a fault (SOAP 1.2 Part 2 §7.5.1.2): 400 for env:Sender, 500 otherwise. */
int smsr_soap_fault_http_status(const struct smsr_soap_fault *f);

/*! (c) A SOAP 1.2 Fault envelope. req may be NULL (the request could not be parsed); when given, RelatesTo is its
 *  MessageID. Action = SMSR_WSA_FAULT_ACTION. A VersionMismatch fault carries env:Upgrade, MustUnderstand carries
 *  env:NotUnderstood, WS-A faults carry wsa:ProblemHeaderQName / wsa:ProblemAction in env:Detail. */
int smsr_soap_build_fault(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *req,
			  const struct smsr_soap_fault *f, uint8_t **out, size_t *out_len);

/*! Format a time as xs:dateTime in UTC ("2026-11-22T06:00:00Z") into out (at least 21 bytes). Returns out. */
char *smsr_soap_datetime(time_t t, char *out, size_t cap);

/*
 * Helpers for the ES codecs (eis_xml.c, es_msg.c): a strict child-element cursor that checks XSD sequence order,
 * namespace qualification (elementFormDefault="qualified") and simple-type lexical forms, reporting the first
 * problem as "mandatory element missing" (Reason 2.2) or "invalid" (Reason 2.1) with the element concerned.
 */

/*! The first decoding problem of a body. */
struct smsr_soap_field_err {
	bool set;			/*!< a problem was recorded */
	bool missing;			/*!< true: mandatory element missing (2.2); false: invalid (2.1) */
	bool unexpected;		/*!< an element the XSD sequence does not allow there (invalid) */
	bool internal;			/*!< allocation or callback failure, not the requester's fault */
	int rc;				/*!< negative errno for internal failures */
	char elem[64];			/*!< local name of the element concerned */
	char path[128];			/*!< its path below the function element, e.g. "Eis/ProfileInfo/Iccid" */
	char msg[200];			/*!< explanation for the log and StatusCodeData/Message */
};

/*! Record a problem (only the first one is kept). Returns -EBADMSG (or rc for internal problems). */
int smsr_soap_field_fail(struct smsr_soap_field_err *e, const xmlNode *at, const char *elem, bool missing,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*! Cursor over the element children of one element, in document order. */
struct smsr_soap_cur {
	const xmlNode *parent;
	const xmlNode *next;		/*!< next element child not yet consumed, NULL at the end */
	const char *ns;			/*!< namespace every child must be in */
	void *ctx;			/*!< talloc context for strings */
	struct smsr_soap_field_err *err;
};

/*! Start a cursor on the children of parent. Fails (invalid) if parent holds non-white-space text. */
int smsr_soap_cur_init(struct smsr_soap_cur *c, void *ctx, const xmlNode *parent, const char *ns,
		       struct smsr_soap_field_err *err);
/*! The next child if it is `name`, consumed; else NULL (optional element). A child with that local name in
 *  another namespace is an error (returned as NULL with err set). */
const xmlNode *smsr_soap_cur_opt(struct smsr_soap_cur *c, const char *name);
/*! Like smsr_soap_cur_opt() but records "mandatory element missing" when absent. */
const xmlNode *smsr_soap_cur_req(struct smsr_soap_cur *c, const char *name);
/*! 0 if every child was consumed, else records "unexpected element" and returns -EBADMSG. */
int smsr_soap_cur_end(struct smsr_soap_cur *c);

/*! Simple-type content of an element (text only, white space collapsed at both ends for every type except
 *  xs:string; preserve=true keeps it). Returns a talloc string under ctx, or NULL with err set. */
char *smsr_soap_text(struct smsr_soap_cur *c, const xmlNode *n, bool preserve);
/*! hexBinary with min..max bytes into out (cap >= max); returns the byte count or -EBADMSG. */
int smsr_soap_get_hex(struct smsr_soap_cur *c, const xmlNode *n, uint8_t *out, size_t min, size_t max);
/*! hexBinary of any length as a talloc buffer. */
int smsr_soap_get_hex_alloc(struct smsr_soap_cur *c, const xmlNode *n, uint8_t **out, size_t *len);
/*! xs:nonNegativeInteger/xs:integer bounded to lo..hi. */
int smsr_soap_get_uint(struct smsr_soap_cur *c, const xmlNode *n, uint64_t lo, uint64_t hi, uint64_t *out);
int smsr_soap_get_bool(struct smsr_soap_cur *c, const xmlNode *n, bool *out);
/*! Lexical checks of the GSMA simple types; each returns a talloc string or NULL with err set. */
char *smsr_soap_get_oid(struct smsr_soap_cur *c, const xmlNode *n);		/*!< ObjectIdentifierType */
char *smsr_soap_get_datetime(struct smsr_soap_cur *c, const xmlNode *n);	/*!< xs:dateTime */
char *smsr_soap_get_version(struct smsr_soap_cur *c, const xmlNode *n);	/*!< ThreeDigitVersion */
char *smsr_soap_get_string100(struct smsr_soap_cur *c, const xmlNode *n);	/*!< String100 (<= 100 chars) */
/*! ICCIDType into out[cap] (89[0-9fF]{4,18}); digit strings (IMSI \d{0,15}, MSISDN \d{3,15}) likewise. */
int smsr_soap_get_iccid(struct smsr_soap_cur *c, const xmlNode *n, char *out, size_t cap);
int smsr_soap_get_digits(struct smsr_soap_cur *c, const xmlNode *n, size_t min, size_t max, char *out, size_t cap);
/*! An enumeration: index in names[] (NULL-terminated) of the exact, case-sensitive value. */
int smsr_soap_get_enum(struct smsr_soap_cur *c, const xmlNode *n, const char *const *names);

/*! Lexical validators (no XML involved). */
bool smsr_soap_is_oid(const char *s);
bool smsr_soap_is_datetime(const char *s);

/*! Sticky builder: every add is a no-op once an allocation failed; test `oom` at the end. */
struct smsr_soap_bld {
	xmlNs *ns;			/*!< namespace of the elements added (the rps namespace) */
	bool oom;
	int rc;				/*!< first non-allocation error (e.g. from a key callback), 0 if none */
};

/*! Add <ns:name>text</ns:name> (text NULL: an empty element) under parent. Returns the node or NULL. */
xmlNode *smsr_soap_add(struct smsr_soap_bld *b, xmlNode *parent, const char *name, const char *text);
xmlNode *smsr_soap_add_hex(struct smsr_soap_bld *b, xmlNode *parent, const char *name, const uint8_t *v, size_t len);
xmlNode *smsr_soap_add_uint(struct smsr_soap_bld *b, xmlNode *parent, const char *name, uint64_t v);
/*! Set an attribute (no namespace). */
void smsr_soap_set_attr(struct smsr_soap_bld *b, xmlNode *n, const char *name, const char *value);
void smsr_soap_set_attr_hex(struct smsr_soap_bld *b, xmlNode *n, const char *name, const uint8_t *v, size_t len);

/*! A fresh document whose root is <rps:name xmlns:rps="..."> (the body element of a message), owned by a talloc
 *  holder under ctx (xmlFreeDoc in its destructor). Returns the root or NULL; *holder receives the owner. */
xmlNode *smsr_soap_body_new(void *ctx, const char *name, struct smsr_soap_bld *b, void **holder);
