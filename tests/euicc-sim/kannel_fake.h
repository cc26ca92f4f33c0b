/*! \file kannel_fake.h
 *  Client of bearerbox's fake SMSC port (smsc = fake): the line protocol of kannel.md §5, escaping of §6.
 *
 *  One message per '\n'-terminated line, fields separated by single spaces, binary fields URL-encoded ('+' = space):
 *    MT (bearerbox -> us):  <from> <to> udh <UDH> data <DATA>   (Kannel 1.4.5; the older "udh <UDH> <DATA>" too)
 *                           <from> <to> data <DATA> | ucs-2 <DATA> | text <literal>
 *    MO (us -> bearerbox):  <from> <to> udh-data <UDH> <DATA>   with every byte percent-encoded
 *  Only MTs with a UDH are handed up; text, data and UCS-2 MTs are counted and never answered (an answering peer
 *  and Kannel's "Request Failed" reply would loop forever, kannel.md §11 trap 1). PID, DCS and class are not carried
 *  on this link. Bearerbox serves one fake-SMSC client at a time.
 *
 *  The client is non-blocking (libevent bufferevent) and reconnects with exponential backoff (100 ms .. 5 s)
 *  while bearerbox is down; MOs sent meanwhile wait in a bounded backlog and go out after the reconnect.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct event_base;
struct sim_kannel;

#define SIM_KANNEL_ADDR_MAX 32		/*!< longest from/to address kept */
#define SIM_KANNEL_UD_MAX 1024		/*!< longest UDH + data accepted in one MT line */

/*! Kinds of MT line. */
enum sim_kannel_mt_type {
	SIM_KANNEL_MT_UDH,		/*!< binary with UDH: ud holds UDH || data */
	SIM_KANNEL_MT_DATA,		/*!< 8-bit without UDH */
	SIM_KANNEL_MT_UCS2,
	SIM_KANNEL_MT_TEXT,
};

/*! One parsed MT line. */
struct sim_kannel_mt {
	enum sim_kannel_mt_type type;
	char from[SIM_KANNEL_ADDR_MAX + 1];
	char to[SIM_KANNEL_ADDR_MAX + 1];
	uint8_t ud[SIM_KANNEL_UD_MAX];	/*!< UDH || data (SIM_KANNEL_MT_UDH only) */
	size_t udh_len;
	size_t len;
};

/*! Link states: IDLE -start-> CONNECTING -connected-> UP -EOF/error-> BACKOFF -timer-> CONNECTING ...;
 *  a failed connect also goes to BACKOFF (100 ms, doubling up to 5 s, reset once UP). */
enum sim_kannel_state {
	SIM_KANNEL_IDLE,
	SIM_KANNEL_CONNECTING,
	SIM_KANNEL_UP,
	SIM_KANNEL_BACKOFF,
};

/*! Name of a link state; never NULL. */
const char *sim_kannel_state_name(enum sim_kannel_state s);

/*! Callbacks; data is the pointer given to sim_kannel_new(). */
struct sim_kannel_ops {
	/*! A binary MT with UDH (mt->ud = UDH || data). */
	void (*mt)(void *data, const struct sim_kannel_mt *mt);
	/*! The link came up (true) or went down (false). May be NULL. */
	void (*link)(void *data, bool up);
};

/*! Counters of the link. */
struct sim_kannel_stats {
	uint64_t connects;		/*!< successful connections */
	uint64_t mt_udh;		/*!< binary MTs with UDH handed up */
	uint64_t mt_ignored;		/*!< text / data / UCS-2 MTs, never answered */
	uint64_t mt_malformed;		/*!< lines that did not parse */
	uint64_t mo_lines;		/*!< MO lines queued for bearerbox */
	uint64_t mo_dropped;		/*!< MOs dropped because the backlog was full */
};

/*! Percent-decode in[0..len) into out (form-urlencoded: '+' -> 0x20, %XX -> byte, other bytes as they are).
 *  Returns the byte count, -EINVAL on a bad %-escape, -ENOSPC when out is too small. */
int sim_kannel_url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/*! Percent-encode every byte ("%XX"); out needs 3 * len + 1 bytes. Returns out. */
char *sim_kannel_url_encode_all(const uint8_t *in, size_t len, char *out);

/*! Parse one MT line (without the '\n'; a trailing '\r' is ignored). 0, or -EINVAL for a malformed line, -ENOSPC
 *  when the payload exceeds SIM_KANNEL_UD_MAX. */
int sim_kannel_parse_mt(const char *line, size_t len, struct sim_kannel_mt *mt);

/*! Format an MO line "<from> <to> udh-data <UDH> <DATA>\n" for ud = UDH || data (UDH length from ud[0]).
 *  Returns the line length, -EINVAL (no room for the UDH, bad addresses), -ENOSPC. */
int sim_kannel_format_mo(char *out, size_t cap, const char *from, const char *to, const uint8_t *ud, size_t len);

/*! Create a client for host:port (resolved here; loopback expected) as a talloc child of ctx. Nothing connects
 *  before sim_kannel_start(). NULL on a bad address or allocation failure. */
struct sim_kannel *sim_kannel_new(void *ctx, struct event_base *base, const char *host, uint16_t port,
				  const struct sim_kannel_ops *ops, void *data);

/*! Start connecting (and keep reconnecting). 0 or -ENOMEM. */
int sim_kannel_start(struct sim_kannel *k);

/*! Send an MO (ud = UDH || data). Queued in the backlog while disconnected. 0, -EINVAL (bad message),
 *  -ENOBUFS (backlog full: dropped). */
int sim_kannel_send_mo(struct sim_kannel *k, const char *from, const char *to, const uint8_t *ud, size_t len);

/*! Whether the link is up. */
bool sim_kannel_connected(const struct sim_kannel *k);

/*! The link state. */
enum sim_kannel_state sim_kannel_state(const struct sim_kannel *k);

/*! Bytes not yet handed to the kernel (backlog and output buffer). */
size_t sim_kannel_pending(const struct sim_kannel *k);

/*! Counters. */
const struct sim_kannel_stats *sim_kannel_stats(const struct sim_kannel *k);
