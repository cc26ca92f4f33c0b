/*! \file kannel.h
 *  The SM-SR's only contact with Kannel (kannel.md §6, §12): MT SMS as sendsms GETs, one per SMS segment we built
 *  ourselves (UDH + data <= 140 octets, every byte percent-encoded, coding=1 pid=127 mclass=2 alt-dcs=1,
 *  dlr-mask and a dlr-url carrying our own token), and the MO / DLR callbacks smsbox makes to our listener.
 *
 *  Our MO service in Kannel must call:   <mo-url>/mo?from=%p&to=%P&udh=%u&e=%e&smsc=%i&ts=%T  (`data` is
 *  accepted for e)
 *  and every MT carries the DLR URL:      <mo-url>/dlr?tok=<token>&type=%d&fid=%F
 *  (see tests/kannel/kannel.conf.in). %e is the body in hex and %u the UDH url-encoded: both binary-safe.
 *
 *  The sender queues requests, keeps at most max_inflight HTTP requests open and at most throughput sendsms
 *  per second (0 = unlimited), and reports each outcome to its caller: accepted ("0: Accepted for delivery" or
 *  "3: Queued for later delivery"), rejected (4xx, a reason), or unreachable (connection refused: Kannel down).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct event_base;
struct smsr_kannel;

#define SMSR_KANNEL_TOKEN_MAX 64

/*! A parsed MO callback. Pointers are talloc children of the ctx given to the parser. */
struct smsr_kannel_mo {
	char from[24];		/*!< the eUICC's MSISDN ('+' kept if present) */
	char to[24];		/*!< our SMS address */
	char smsc[64];
	uint8_t ud[140 * 2];	/*!< UDH followed by data, as one TP-UD */
	size_t ud_len;
	size_t udh_len;		/*!< 0 when the MO has no UDH */
	long long ts;		/*!< Kannel's time stamp (epoch seconds), 0 if absent */
};

/*! A parsed DLR callback. */
struct smsr_kannel_dlr {
	char token[SMSR_KANNEL_TOKEN_MAX + 1];
	int type;		/*!< 1 delivered, 2 failed, 4 buffered, 8 SMSC accepted, 16 SMSC rejected */
	char fid[64];
};

/*! Parse the query of an MO callback. -PROTO_E_MALFORMED for a missing from/to, bad hex or url-encoding, a UDH
 *  whose length byte does not match, or more than 140 octets of TP-UD. */
int smsr_kannel_mo_parse(const char *query, struct smsr_kannel_mo *mo);
/*! Parse the query of a DLR callback. */
int smsr_kannel_dlr_parse(const char *query, struct smsr_kannel_dlr *dlr);

/*! Settings of the sender. */
struct smsr_kannel_cfg {
	const char *sendsms_url;	/*!< http://127.0.0.1:13013/cgi-bin/sendsms */
	const char *username, *password;
	const char *from;		/*!< our SMS address */
	const char *smsc_id;		/*!< "" or NULL: Kannel's routing */
	const char *dlr_base_url;	/*!< <mo-url>, the DLR path and token are appended */
	int dlr_mask;			/*!< e.g. 31 */
	unsigned throughput;		/*!< sendsms per second, 0 = unlimited */
	unsigned max_inflight;		/*!< parallel HTTP requests, e.g. 32 */
	long timeout_ms;		/*!< per request */
};

/*! The full sendsms URL for one SMS: to, TP-UD (the UDH is udh_len octets at its start), our token.
 *  A talloc string under ctx, NULL on bad arguments (TP-UD over 140 octets, UDH length byte mismatch). */
char *smsr_kannel_sendsms_url(void *ctx, const struct smsr_kannel_cfg *cfg, const char *to, const uint8_t *ud,
			      size_t ud_len, size_t udh_len, const char *token);

/*! Outcome of one sendsms. */
enum smsr_kannel_result {
	SMSR_KANNEL_ACCEPTED,	/*!< Kannel took it (maybe queued in its store) */
	SMSR_KANNEL_REJECTED,	/*!< Kannel refused it (4xx/5xx): resending the same request will not help */
	SMSR_KANNEL_UNREACHABLE,	/*!< no answer: connection refused or timed out; try again later */
};

typedef void (*smsr_kannel_done_cb)(enum smsr_kannel_result res, int http_code, const char *reply, void *data);

int smsr_kannel_new(void *ctx, struct event_base *base, const struct smsr_kannel_cfg *cfg,
		    struct smsr_kannel **out);

/*! Queue one SMS. done is called exactly once, from the event loop, unless the sender is freed first. */
int smsr_kannel_send(struct smsr_kannel *k, const char *to, const uint8_t *ud, size_t ud_len, size_t udh_len,
		     const char *token, smsr_kannel_done_cb done, void *data);

/*! Requests queued or in flight. */
unsigned smsr_kannel_pending(const struct smsr_kannel *k);
