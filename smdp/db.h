/*! \file db.h
 *  The SM-DP's store (LMDB): profile templates per (MNO, profile type), ICCID pools per profile type with the
 *  subscription data of each ICCID (IMSI; Ki and OPc sealed under the master key by the caller), and the order
 *  journal with its (requester, FunctionCallIdentifier) index. Every write is one durable LMDB transaction,
 *  committed before the function returns.
 *
 *  Pool record states: FREE -> RESERVED (by one order; the same order gets the same record again) -> USED (the
 *  profile is on a card) or back to FREE (the order failed and nothing of it is on a card).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smdp_db;

#define SMDP_ICCID_MAX 20
#define SMDP_IMSI_MAX 15
#define SMDP_SEALED_MAX 64 /*!< a sealed 16-byte key is 45 bytes */

enum smdp_pool_state {
	SMDP_POOL_FREE,
	SMDP_POOL_RESERVED,
	SMDP_POOL_USED,
};

struct smdp_pool_rec {
	char iccid[SMDP_ICCID_MAX + 1];
	char imsi[SMDP_IMSI_MAX + 1];
	uint8_t ki[SMDP_SEALED_MAX], opc[SMDP_SEALED_MAX]; /*!< sealed blobs (ota_wrap_seal) */
	uint8_t ki_len, opc_len;
	uint8_t state;	/*!< enum smdp_pool_state */
	uint64_t order; /*!< RESERVED/USED: the order */
};

/*! Open (create) the store in directory path. -errno / -EIO. */
int smdp_db_open(void *ctx, const char *path, uint64_t map_size, struct smdp_db **out);

/* ---- profile templates ---- */

/*! Store a template: -EEXIST unless replace. */
int smdp_db_profile_put(struct smdp_db *db, const char *mno, const char *type, const uint8_t *pkg, size_t len,
			uint64_t required_memory, bool replace);
/*! The template (a talloc copy under ctx). -ENOENT. */
int smdp_db_profile_get(struct smdp_db *db, void *ctx, const char *mno, const char *type, uint8_t **pkg, size_t *len,
			uint64_t *required_memory);
typedef int (*smdp_db_profile_cb)(void *data, const char *mno, const char *type, size_t len, uint64_t required_memory);
int smdp_db_profile_list(struct smdp_db *db, smdp_db_profile_cb cb, void *data);

/* ---- ICCID pools ---- */

/*! Add records to the pool of type, all or nothing: -EEXIST (with *bad the index of the first ICCID already known
 *  in any pool or twice in recs). */
int smdp_db_pool_add(struct smdp_db *db, const char *type, const struct smdp_pool_rec *recs, unsigned n, unsigned *bad);
/*! Reserve a record for order: the one with iccid (when not "") or the next FREE one of type. An order that holds a
 *  reservation gets it again. -ENOENT (iccid not in this pool), -EBUSY (reserved or used by another order), -ENOSPC
 *  (no FREE record left). */
int smdp_db_pool_take(struct smdp_db *db, const char *type, const char *iccid, uint64_t order,
		      struct smdp_pool_rec *out);
/*! End order's reservation: USED, or FREE again. 0, -ENOENT when it holds none. */
int smdp_db_pool_finish(struct smdp_db *db, uint64_t order, bool used);
/*! Records of type per state (type NULL: all pools). */
int smdp_db_pool_count(struct smdp_db *db, const char *type, uint64_t counts[3]);

/* ---- order journal ---- */

int smdp_db_next_id(struct smdp_db *db, uint64_t *id);
/*! A new order with its idempotency key (-EEXIST when (requester, fcid) is taken; fcid "" = none). */
int smdp_db_order_create(struct smdp_db *db, uint64_t id, const char *requester, const char *fcid, const uint8_t *rec,
			 size_t len);
int smdp_db_order_put(struct smdp_db *db, uint64_t id, const uint8_t *rec, size_t len);
int smdp_db_order_by_fcid(struct smdp_db *db, const char *requester, const char *fcid, uint64_t *id);
/*! Every order in id order; cb returns < 0 to stop with that error. */
int smdp_db_order_foreach(struct smdp_db *db, int (*cb)(void *data, uint64_t id, const uint8_t *rec, size_t len),
			  void *data);
