/*! \file db_priv.h
 *  Internals shared by smsr/db*.c (not for other modules): the store object, transaction plumbing and the one
 *  LMDB error mapping (sdb_err() in db.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>
#include "smsr/db.h"

struct smsr_db {
	MDB_env *env;
	MDB_dbi meta, eis, iccid, msisdn, cntr, journal, idem;
	MDB_txn *rtxn;			/*!< cached read-only transaction, reset while idle (renewed per read) */
	bool rtxn_active;		/*!< rtxn is renewed (a read is in progress) */
	struct smsr_db_txn *wtxn;	/*!< the caller's open write transaction, if any */
	unsigned schema;		/*!< stored schema version */
	uint8_t *scratch;		/*!< encoding buffer (talloc child), reused */
	size_t scratch_cap;
	/* group commit (smsr_db_group_enable): the writes of one event-loop pass are child transactions of `group`,
	 * which one durable commit ends at the end of that pass */
	struct event *group_ev;		/*!< activated when `group` opens; NULL: every commit is durable */
	MDB_txn *group;			/*!< the open group transaction, if any */
	smsr_db_group_fail_cb group_fail;
	void *group_fail_data;
	unsigned long group_commits, group_children;
};

struct smsr_db_txn {
	struct smsr_db *db;
	MDB_txn *txn;
	bool failed;			/*!< a call failed after writing: the transaction can only be aborted */
};

/*! A write in progress: the caller's transaction or one of our own. */
struct sdb_w {
	struct smsr_db *db;
	MDB_txn *t;
	struct smsr_db_txn *user;	/*!< NULL when t is our own */
	bool dirty;			/*!< something was written (a failure now poisons the transaction) */
};

/*! Map an LMDB return code to 0 / negative errno (the only place where MDB_* codes are interpreted). */
int sdb_err(int mdb_rc);

/*! Start a write for a public call: use txn, or begin our own (-EBUSY if the caller has one open). */
int sdb_wbegin(struct smsr_db *db, struct smsr_db_txn *txn, struct sdb_w *w);
/*! Finish it: commit our own on rc == 0, else abort; on the caller's, mark it failed if rc < 0 after a write.
 *  Returns rc, or the commit error. */
int sdb_wend(struct sdb_w *w, int rc);

/*! A read transaction for a public call: txn's, or the cached one renewed. */
int sdb_rbegin(struct smsr_db *db, struct smsr_db_txn *txn, MDB_txn **t);
void sdb_rend(struct smsr_db *db, struct smsr_db_txn *txn);

/*! mdb_get with the mapping; v points into the map until the transaction ends. */
int sdb_get(MDB_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v);
/*! mdb_put / mdb_del marking the write dirty. sdb_del maps MDB_NOTFOUND to -ENOENT. */
int sdb_put(struct sdb_w *w, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen,
	    unsigned flags);
int sdb_del(struct sdb_w *w, MDB_dbi dbi, const void *k, size_t klen);

/*! Big-endian helpers for the fixed-width values. */
static inline void sdb_put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline uint64_t sdb_get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*! Index keys (ICCID, MSISDN): text over [0-9Ff] is packed two characters a byte ('0'..'9' = 1..10, 'F' = 11,
 *  'f' = 12, 0 pads an odd length), anything else is FF followed by the text. At most SDB_IX_MAX bytes. */
#define SDB_IX_MAX 24
/*! Pack text (1..SMSR_ICCID_MAX characters): the key length, or -EINVAL. */
int sdb_ix_pack(const char *text, uint8_t out[SDB_IX_MAX]);
/*! Unpack a stored key into out (cap >= SMSR_ICCID_MAX + 1): 0, or -EIO if it is not a valid key. */
int sdb_ix_unpack(const uint8_t *key, size_t len, char *out, size_t cap);

/*! Encode an EIS into db->scratch (grown as needed). */
int sdb_encode(struct smsr_db *db, const struct smsr_eis *e, size_t *len);

/*! The ICCID and MSISDN index keys of an EIS: ICCIDs in profile order, MSISDNs deduplicated (profiles first,
 *  then isdr_msisdn). -EINVAL for a profile without ICCID or a repeated ICCID. Arrays are talloc children of
 *  ctx unless they fit the inline storage. */
struct sdb_keys {
	const char **iccid, **msisdn;
	unsigned n_iccid, n_msisdn;
	const char *inl[32];
};
int sdb_eis_keys(void *ctx, const struct smsr_eis *e, struct sdb_keys *k);

/*! Rebuild the ICCID/MSISDN indexes from the eis records inside write transaction w (upgrade step 1 and
 *  smsr_db_reindex()). */
int sdb_reindex(struct sdb_w *w);

/*! A journal value parsed in place (pointers into the value; see db_journal.c for the layout). */
struct op_view {
	struct smsr_db_op_hdr hdr;
	const uint8_t *idem;		/*!< requester OID 00 FunctionCallIdentifier, idem_len 0 if none */
	size_t idem_len;
	const uint8_t *data;
	size_t len;
};
/*! -EIO on a malformed record. */
int sdb_op_parse(const void *val, size_t vlen, struct op_view *ov);
