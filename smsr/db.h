/*! \file db.h
 *  The SM-SR's persistent store (LMDB): EIS records with their ICCID and MSISDN indexes, the live SCP80
 *  counters, and the journal of accepted operations with its idempotency index.
 *
 *  Durability: every write is committed with LMDB's default synchronous commit, so a function that returned 0
 *  has its effect on disk; nothing is half-applied (one LMDB write transaction per call or per struct
 *  smsr_db_txn, and checks come before writes). Killing any process at any moment leaves the store as of its
 *  last commit (smsr_db_check() passes). The product rules map onto it like this:
 *  - an operation accepted from an MNO: smsr_db_op_create() (and any EIS change) returns 0 before the SOAP
 *    acknowledgement is sent; a retry with the same (requester, FunctionCallIdentifier) gets -EEXIST and the
 *    first operation's id;
 *  - SCP80 counters: smsr_db_cntr_next() / smsr_db_cntr_reserve() commit before returning, so a value handed
 *    out is never handed out again, even after a crash: use it only after the call returned 0;
 *  - with group commit (smsr_db_group_enable(), smsrd) "commit" means merged into the loop pass's group, made
 *    durable at the end of that pass, before any socket write the pass queued (see there);
 *  - keys: the store only sees wrapped key blobs (ota/keystore_wrap.h) and never logs; smsr_db_check() reports
 *    identifiers (EID, ICCID, MSISDN, operation ids) only.
 *
 *  On-disk layout (schema SMSR_DB_SCHEMA_VERSION, an LMDB environment directory with named databases):
 *  | DBI          | key                                   | value                                               |
 *  |--------------|---------------------------------------|-----------------------------------------------------|
 *  | `meta`       | "schema"                              | u32 BE schema version                               |
 *  |              | "op_seq"                              | u64 BE last operation id handed out                 |
 *  | `eis`        | EID (16 bytes)                        | smsr_eis_encode_record() (smsr/eis_codec.h)         |
 *  | `iccid2eid`  | ICCID, packed (below)                 | EID                                                 |
 *  | `msisdn2eid` | MSISDN (profiles, isdr_msisdn), packed| EID                                                 |
 *  | `cntr`       | EID || KVN (17 bytes)                 | u64 BE last SCP80 counter value handed out          |
 *  | `journal`    | operation id (u64 BE)                 | 01 state created(i64 BE) deadline(i64 BE) EID       |
 *  |              |                                       | idem-key-len(u16 BE) idem-key data                  |
 *  | `idem`       | requester OID || 00 || FunctionCallId | operation id (u64 BE)                               |
 *
 *  Index keys: text over [0-9Ff] is packed two characters a byte ('0'..'9' = 1..10, 'F' = 11, 'f' = 12, 0 pads
 *  an odd length: a 19-digit ICCID takes 10 bytes); other text is stored as FF || text. Bulk imports sort their
 *  records and index entries and append (MDB_APPEND) where keys fall after the stored ones, so consecutive EIDs
 *  of a production lot fill LMDB pages completely.
 *
 *  Caveats (lifetimes and threads, read these first):
 *  - One struct smsr_db per process (one MDB_env), opened after any daemonising fork and never used in a child
 *    after fork(). A struct smsr_db is not thread-safe: serialise all calls on it (one thread, or a mutex).
 *  - `txn` arguments: NULL runs the call in a transaction of its own (a cached read transaction for reads, a
 *    committed write transaction for writes); a struct smsr_db_txn from smsr_db_txn_begin() makes the call part
 *    of that write transaction, so several updates (e.g. an EIS and its journal record) commit or abort together.
 *    While a write transaction is open, write calls with txn NULL and the counter calls return -EBUSY (LMDB
 *    allows one write transaction per thread; a second would deadlock).
 *  - Keep write transactions short (no network I/O inside): they serialise every writer of the environment,
 *    including other processes.
 *  - Results are copied out before the LMDB transaction ends: returned EIS and operation records are talloc
 *    trees under the caller's ctx and stay valid after commit or abort. A returned EIS is one talloc pooled
 *    object (see eis_codec.h): free it whole.
 *  - Read-modify-write of an EIS must read inside the same smsr_db_txn as the write, or a concurrent writer's
 *    update is lost.
 *  - Map size: a fixed address-space reservation (cfg.map_size, default 8 GiB; a typical EIS without signed XML
 *    takes 0.9 to 1.2 KB with its index entries, so about 1 GiB per million); writes beyond it fail with -ENOSPC
 *    and leave the store untouched. An EIS holding signed_info_xml/signature_xml (some KB) goes to LMDB overflow
 *    pages: count whole 4 KiB pages per record then.
 *
 *  Errors: 0 or a negative errno. LMDB's codes are mapped once: not found -ENOENT, key exists -EEXIST, map or
 *  transaction full -ENOSPC, anything else -EIO (system errors from LMDB keep their errno). A corrupt record
 *  gives the codec's -PROTO_E_* error (see smsr_db_check()).
 */
#pragma once
struct event_base;
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "smsr/eis.h"

#define SMSR_DB_SCHEMA_VERSION 1	/*!< layout written by this code; older ones are upgraded at open */
#define SMSR_DB_CNTR_MAX 0xFFFFFFFFFFull	/*!< SCP80 counters are 5 bytes (TS 102 225 §5.1.1) */
#define SMSR_DB_IDEM_MAX 500		/*!< bytes of requester OID + FunctionCallIdentifier (LMDB key limit) */

struct smsr_db;
struct smsr_db_txn;

/*! Open parameters (all zero = defaults). */
struct smsr_db_cfg {
	size_t map_size;	/*!< bytes of address space for the environment; 0 = 8 GiB */
	unsigned max_readers;	/*!< LMDB reader slots (processes x threads reading at once); 0 = 126 */
	bool no_sync;		/*!< tests and benchmarks only: commits survive the death of any process but not of
				 *   the operating system or the machine */
};

/*! An LMDB return code as 0 or a negative errno (-ENOENT, -EEXIST, -ENOSPC for a full map, -EIO): the one
 *  mapping of LMDB errors, also used by the SM-DP's store. */
int smsr_db_errno(int mdb_rc);

/*! Open (creating if needed) the store in directory dir (which must exist) under talloc ctx: sets up the
 *  environment, clears reader slots left by dead processes (mdb_reader_check), creates the databases and runs
 *  the numbered upgrade steps from the stored schema version to SMSR_DB_SCHEMA_VERSION in one transaction.
 *  -EPROTONOSUPPORT if the store was written by a newer schema (it is left untouched), -ENOMEM, or an LMDB
 *  error. Freeing the returned object (talloc_free or smsr_db_close) closes the environment. */
int smsr_db_open(void *ctx, const char *dir, const struct smsr_db_cfg *cfg, struct smsr_db **out);

/*! Group commit: called when the durable commit of a pass's writes fails (the process state is then ahead of the
 *  store; the only safe reaction is to stop and let the journal resume on restart). */
typedef void (*smsr_db_group_fail_cb)(void *data, int rc);

/*! Group commit on a libevent loop (smsrd). Every write transaction (smsr_db_txn_begin() or an internal one)
 *  becomes a child of one group transaction; its "commit" only merges into the group. The first write of a pass of
 *  the loop opens the group and activates an event of the same priority as every other event, so it runs after
 *  the callbacks already active in that pass and ends the group with one durable LMDB commit. Replies, SMS and
 *  callbacks that those callbacks queued leave only later: libevent writes sockets from events of the next pass
 *  (bufferevent write events, libcurl timers), so "persisted before acknowledged" still holds, with one fsync per
 *  pass instead of one per write. Reads without a transaction see the group's writes. fail (NULL: abort()) is
 *  called when the group commit fails. 0, -ENOMEM, -EALREADY. */
int smsr_db_group_enable(struct smsr_db *db, struct event_base *base, smsr_db_group_fail_cb fail, void *data);

/*! Commit the open group now (shutdown, tests). 0, -EBUSY (a caller's transaction is open) or the commit error. */
int smsr_db_group_flush(struct smsr_db *db);

/*! Durable group commits so far and the write transactions they carried. */
void smsr_db_group_stats(const struct smsr_db *db, unsigned long *commits, unsigned long *children);

/*! Close the store and clear *db; NULL-tolerant. Aborts a write transaction left open. */
void smsr_db_close(struct smsr_db **db);

/*! The schema version stored in the open environment (SMSR_DB_SCHEMA_VERSION after a successful open). */
unsigned smsr_db_schema_version(const struct smsr_db *db);

/*! Begin a write transaction (one at a time per struct smsr_db; -EBUSY if one is open). */
int smsr_db_txn_begin(struct smsr_db *db, struct smsr_db_txn **txn);
/*! Commit and free *txn (cleared even on failure). A transaction in which a call failed with anything but
 *  -ENOENT, -EEXIST or -EINVAL (which leave it untouched) cannot be committed: -EIO, and it is aborted. */
int smsr_db_txn_commit(struct smsr_db_txn **txn);
/*! Abort and free *txn; NULL-tolerant. */
void smsr_db_txn_abort(struct smsr_db_txn **txn);

/*
 * EIS records and their indexes.
 */

/*! Store a new EIS. Checks first, then writes the record and its index entries: -EEXIST (nothing written) if the
 *  EID, one of its ICCIDs or one of its MSISDNs (profiles' SubscriptionAddress/Msisdn and isdr_msisdn) is
 *  already present for another eUICC; -EINVAL if a profile has no ICCID, two profiles share one, or the EIS
 *  cannot be encoded. Keyset counters are not copied to the counter store (see smsr_db_cntr_next()). */
int smsr_db_eis_insert(struct smsr_db *db, struct smsr_db_txn *txn, const struct smsr_eis *e);

/*! Replace the stored EIS with the same EID; the indexes follow ICCIDs and MSISDNs that appear or disappear.
 *  -ENOENT if the EID is unknown; -EEXIST or -EINVAL as for insert (nothing written). */
int smsr_db_eis_update(struct smsr_db *db, struct smsr_db_txn *txn, const struct smsr_eis *e);

/*! Delete an EIS and its index entries. Its SCP80 counters are kept, so a re-registered eUICC never sees a
 *  counter go backwards. -ENOENT if unknown. A record that no longer decodes is deleted too (its index entries
 *  are then found by scanning the indexes). */
int smsr_db_eis_delete(struct smsr_db *db, struct smsr_db_txn *txn, const uint8_t eid[SMSR_EID_LEN]);

/*! Load the EIS of an eUICC into a new talloc tree under ctx. -ENOENT, -ENOMEM, or a codec error. */
int smsr_db_eis_get(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, const uint8_t eid[SMSR_EID_LEN],
		    struct smsr_eis **out);
/*! Load the EIS holding the profile with this ICCID / the eUICC reachable at this MSISDN. */
int smsr_db_eis_get_by_iccid(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, const char *iccid,
			     struct smsr_eis **out);
int smsr_db_eis_get_by_msisdn(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, const char *msisdn,
			      struct smsr_eis **out);
/*! Only the EID (no decoding), e.g. to route an MO SMS. -ENOENT if unknown. */
int smsr_db_eid_by_iccid(struct smsr_db *db, struct smsr_db_txn *txn, const char *iccid,
			 uint8_t eid[SMSR_EID_LEN]);
int smsr_db_eid_by_msisdn(struct smsr_db *db, struct smsr_db_txn *txn, const char *msisdn,
			  uint8_t eid[SMSR_EID_LEN]);
/*! Number of stored EIS. */
int smsr_db_eis_count(struct smsr_db *db, size_t *n);

/*! Bulk import (ES1 onboarding): insert n EIS in ONE write transaction, all or nothing.
 *  Every record is checked as smsr_db_eis_insert() would, against the store and against the records before it
 *  in the batch. If any record fails, nothing at all is written and the function returns the first failure
 *  (-EEXIST, -EINVAL); rc[i] (if rc is not NULL, n entries) then tells each record's result: 0 (would have been
 *  accepted), -EEXIST (EID, ICCID or MSISDN already in the store or earlier in the batch) or -EINVAL.
 *  Resubmit the batch without the failed records. -ENOSPC, -EIO: nothing written, rc[] not meaningful.
 *  A batch may not run inside a caller's transaction. Batches of 1,000 to 50,000 records work well. */
int smsr_db_eis_import(struct smsr_db *db, const struct smsr_eis *const *eis, size_t n, int *rc);

/*
 * SCP80 counters, one per (EID, KVN): the last value handed out. Never decreases.
 */

/*! Hand out the next counter value for (eid, kvn): stored + 1, committed before returning. The first call for a
 *  pair starts from the Cntr of the ISD-R keyset with that version in the stored EIS (or 0): the first value is
 *  that Cntr + 1. -ENOENT if neither a counter nor the EIS exists, -ERANGE when the 5-byte counter is
 *  exhausted, -EBUSY inside a write transaction. */
int smsr_db_cntr_next(struct smsr_db *db, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn, uint64_t *value);

/*! Reserve n (>= 1) consecutive values at once: *first .. *first + n - 1, committed before returning (values
 *  not used after a crash are skipped, never reused). Errors as smsr_db_cntr_next(); -EINVAL for n == 0. */
int smsr_db_cntr_reserve(struct smsr_db *db, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn, uint32_t n,
			 uint64_t *first);

/*! The last value handed out (or raised to). -ENOENT if the pair never had one. */
int smsr_db_cntr_get(struct smsr_db *db, struct smsr_db_txn *txn, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn,
		     uint64_t *value);

/*! Raise the stored value to at least min (e.g. after a PoR "counter low" or an ES7 handover); never lowers it.
 *  -ERANGE beyond SMSR_DB_CNTR_MAX. */
int smsr_db_cntr_raise(struct smsr_db *db, struct smsr_db_txn *txn, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn,
		       uint64_t min);

/*
 * Journal of operations accepted from MNOs / SM-DPs / SM-SRs, and the idempotency index.
 */

/*! Fixed header of a journal record; the rest is opaque bytes owned by the caller's procedure (FSM state). */
struct smsr_db_op_hdr {
	uint8_t state;			/*!< caller-defined FSM state; smsr_db_op_list() filters on it */
	int64_t created;		/*!< seconds since the epoch */
	int64_t deadline;		/*!< seconds since the epoch (validity period end) */
	uint8_t eid[SMSR_EID_LEN];	/*!< the eUICC concerned (all zero if none) */
};

/*! One journal record, as returned by smsr_db_op_get() / smsr_db_op_list(). */
struct smsr_db_op {
	uint64_t id;
	struct smsr_db_op_hdr hdr;
	char *requester;		/*!< requester OID of the idempotency key, NULL if none */
	char *fcid;			/*!< FunctionCallIdentifier, NULL if none */
	uint8_t *data;			/*!< opaque bytes (NULL when len is 0) */
	size_t len;
};

/*! Journal a new operation with a fresh id (strictly increasing, never reused) and commit it (or make it part of
 *  txn). With requester and fcid (both non-NULL) the pair becomes its idempotency key: if the pair is already
 *  known, nothing is written, *id is set to the existing operation and -EEXIST is returned. -EINVAL if
 *  requester and fcid together exceed SMSR_DB_IDEM_MAX bytes or only one of them is given. */
int smsr_db_op_create(struct smsr_db *db, struct smsr_db_txn *txn, const struct smsr_db_op_hdr *h,
		      const char *requester, const char *fcid, const void *data, size_t len, uint64_t *id);

/*! Load an operation under ctx. -ENOENT, -ENOMEM, -EIO (corrupt record). */
int smsr_db_op_get(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, uint64_t id, struct smsr_db_op **out);

/*! Replace an operation's header and data (its idempotency key stays). -ENOENT if unknown. */
int smsr_db_op_update(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id, const struct smsr_db_op_hdr *h,
		      const void *data, size_t len);

/*! Change only the state. -ENOENT if unknown. */
int smsr_db_op_set_state(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id, uint8_t state);

/*! Delete an operation and its idempotency entry (a later retry with the same key is then a new operation).
 *  -ENOENT if unknown. */
int smsr_db_op_delete(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id);

/*! All operations in a state (state < 0: all), oldest first, as a talloc array under ctx (*out NULL and *n 0
 *  when none). For restart recovery. */
int smsr_db_op_list(struct smsr_db *db, void *ctx, int state, struct smsr_db_op **out, size_t *n);

/*! The operation id for an idempotency key. -ENOENT if unknown, -EINVAL as for smsr_db_op_create(). */
int smsr_db_idem_get(struct smsr_db *db, struct smsr_db_txn *txn, const char *requester, const char *fcid,
		     uint64_t *id);

/*
 * Maintenance (smsrd --db-check).
 */

/*! Verify the store: the schema version; every EIS record decodes and is stored under its own EID; every index
 *  entry points to an EIS that holds that ICCID/MSISDN and every ICCID/MSISDN of every EIS has its entry; every
 *  journal record parses and its idempotency entry points back to it and vice versa; counter records are well
 *  formed. Each problem is printed as one line to report (may be NULL), followed by a summary line.
 *  Returns 0 if consistent, the number of problems (> 0) otherwise, or a negative errno if the check itself could
 *  not run. Runs in one read transaction (a consistent snapshot; writers are not blocked). */
int smsr_db_check(struct smsr_db *db, FILE *report);

/*! Rebuild the ICCID and MSISDN indexes from the EIS records in one write transaction (repair after
 *  smsr_db_check() found index problems). -EEXIST if two EIS claim the same ICCID or MSISDN (nothing changed),
 *  or a codec error for an EIS record that does not decode. */
int smsr_db_reindex(struct smsr_db *db);

/*! Space used, from mdb_env_stat()/mdb_stat(). */
struct smsr_db_stat {
	size_t page_size;
	size_t pages;			/*!< branch + leaf + overflow pages of all databases, meta included */
	size_t eis_entries, eis_pages;
	size_t index_pages;		/*!< iccid2eid + msisdn2eid */
	size_t map_size;
	size_t last_page;		/*!< highest page number in use (file size / page_size - 1) */
};
int smsr_db_stat(struct smsr_db *db, struct smsr_db_stat *st);
