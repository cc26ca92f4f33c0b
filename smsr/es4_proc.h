/*! \file es4_proc.h
 *  Asynchronous ES4 functions (EnableProfile, DisableProfile, DeleteProfile, AuditEIS) as journalled procedures
 *  (SGP.02 §3.2-3.7, sgp02.md §4.2 and §4.5). A request that passes the pre-checks is written to the operation
 *  journal (idempotent on requester + FunctionCallIdentifier) BEFORE the 202 is sent, then driven by this state
 *  machine, every state change persisted:
 *
 *    ES5 --PoR 9000--> WAIT_NOTIF --E1 02/05--> CONFIRM --PoR--> CALLBACK --2xx--> DONE      (Enable, Disable)
 *     |                   | E1 03 / timeout ----------' (FAILED)       ^
 *     `--PoR with an error SW / no PoR / Delete and Audit done --------'
 *
 *  CALLBACK posts <ES4-Func>Response to the requester's ReplyTo (or its configured callback URL) until it is
 *  acknowledged, with back-off; a restart resumes every operation from its journalled state (an exchange that
 *  was in flight is resent with a fresh counter). After a successful change the owners get the
 *  Handle*Notification (best effort) and a POL2 DISABLE/Auto-Delete rule deletes the disabled profile.
 *
 *  Timeouts (configuration [es5]): notification-timeout for WAIT_NOTIF; the ES5 layer's por-timeout/retries.
 */
#pragma once
#include <stdint.h>

struct smsrd;
struct smsr_es_req;
struct smsr_es_result;
struct smsr_cfg_requester;
struct smsr_proc;

int smsr_proc_new(void *ctx, struct smsrd *d, struct smsr_proc **out);

/*! An asynchronous request from an authenticated requester. Returns 0 when the operation was journalled (or is a
 *  retry of a known one): answer 202. Returns -EPERM with *res filled when a pre-check fails: answer with that
 *  FAILED response synchronously. Other negative errors: store failure (answer FAILED 1.2/4.2). */
int smsr_proc_accept(struct smsr_proc *p, const struct smsr_es_req *req, const struct smsr_cfg_requester *who,
		     struct smsr_es_result *res);

/*! A verified Default Notification from eUICC eid (the ES5 layer's notification callback). */
void smsr_proc_notification(struct smsr_proc *p, const uint8_t eid[16], const uint8_t *n, size_t len);

/*! Resume the journalled operations after a restart. Returns how many were resumed. */
int smsr_proc_recover(struct smsr_proc *p);
