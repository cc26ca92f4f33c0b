/* The SM-SR store: SCP80 counters per (EID, KVN), committed before they are used (db.h). */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "smsr/db_priv.h"
#include "smsr/eis_codec.h"

#define CNTR_KEY_LEN (SMSR_EID_LEN + 1)
#define CNTR_VAL_LEN 8

static void cntr_key(uint8_t k[CNTR_KEY_LEN], const uint8_t *eid, uint8_t kvn)
{
	memcpy(k, eid, SMSR_EID_LEN);
	k[SMSR_EID_LEN] = kvn;
}

/* The stored value, copied out. -ENOENT if none. */
static int cntr_read(struct smsr_db *db, MDB_txn *t, const uint8_t *k, uint64_t *value)
{
	MDB_val v;
	int rc = sdb_get(t, db->cntr, k, CNTR_KEY_LEN, &v);

	if (rc < 0)
		return rc;
	if (v.mv_size != CNTR_VAL_LEN)
		return -EIO;
	*value = sdb_get_be(v.mv_data, CNTR_VAL_LEN);
	return 0;
}

/* Where a pair without a stored counter starts: the Cntr of the ISD-R keyset with that version in the EIS
 * (registration or handover value), 0 if the EIS has no such keyset; -ENOENT if there is no EIS. */
static int cntr_seed(struct smsr_db *db, MDB_txn *t, const uint8_t *eid, uint8_t kvn, uint64_t *value)
{
	struct smsr_eis *e = NULL;
	MDB_val v;
	unsigned i;
	int rc = sdb_get(t, db->eis, eid, SMSR_EID_LEN, &v);

	if (rc < 0)
		return rc;
	if ((rc = smsr_eis_decode_record(NULL, eid, v.mv_data, v.mv_size, &e)) < 0)
		return rc;
	*value = 0;
	for (i = 0; i < e->isdr.n_keysets; i++) {
		if (e->isdr.keysets[i].version == kvn) {
			*value = e->isdr.keysets[i].cntr;
			break;
		}
	}
	talloc_free(e);
	return *value > SMSR_DB_CNTR_MAX ? -ERANGE : 0;
}

/* The current value of a pair: stored, else seeded. */
static int cntr_current(struct smsr_db *db, MDB_txn *t, const uint8_t *k, uint64_t *value)
{
	int rc = cntr_read(db, t, k, value);

	if (rc == -ENOENT)
		rc = cntr_seed(db, t, k, k[SMSR_EID_LEN], value);
	return rc;
}

static int cntr_store(struct sdb_w *w, const uint8_t *k, uint64_t value)
{
	uint8_t buf[CNTR_VAL_LEN];

	sdb_put_be(buf, value, CNTR_VAL_LEN);
	return sdb_put(w, w->db->cntr, k, CNTR_KEY_LEN, buf, CNTR_VAL_LEN, 0);
}

int smsr_db_cntr_reserve(struct smsr_db *db, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn, uint32_t n,
			 uint64_t *first)
{
	uint8_t k[CNTR_KEY_LEN];
	uint64_t cur = 0;
	struct sdb_w w;
	int rc;

	if (!n)
		return -EINVAL;
	/* always a transaction of our own: the value must be durable before the caller uses it */
	if ((rc = sdb_wbegin(db, NULL, &w)) < 0)
		return rc;
	cntr_key(k, eid, kvn);
	if ((rc = cntr_current(db, w.t, k, &cur)) < 0)
		goto out;
	if (cur > SMSR_DB_CNTR_MAX - n) {
		rc = -ERANGE;
		goto out;
	}
	rc = cntr_store(&w, k, cur + n);
out:
	rc = sdb_wend(&w, rc);
	if (rc == 0)
		*first = cur + 1;
	return rc;
}

int smsr_db_cntr_next(struct smsr_db *db, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn, uint64_t *value)
{
	return smsr_db_cntr_reserve(db, eid, kvn, 1, value);
}

int smsr_db_cntr_get(struct smsr_db *db, struct smsr_db_txn *txn, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn,
		     uint64_t *value)
{
	uint8_t k[CNTR_KEY_LEN];
	MDB_txn *t;
	int rc;

	if ((rc = sdb_rbegin(db, txn, &t)) < 0)
		return rc;
	cntr_key(k, eid, kvn);
	rc = cntr_read(db, t, k, value);
	sdb_rend(db, txn);
	return rc;
}

int smsr_db_cntr_raise(struct smsr_db *db, struct smsr_db_txn *txn, const uint8_t eid[SMSR_EID_LEN], uint8_t kvn,
		       uint64_t min)
{
	uint8_t k[CNTR_KEY_LEN];
	uint64_t cur = 0;
	struct sdb_w w;
	int rc;

	if (min > SMSR_DB_CNTR_MAX)
		return -ERANGE;
	if ((rc = sdb_wbegin(db, txn, &w)) < 0)
		return rc;
	cntr_key(k, eid, kvn);
	rc = cntr_read(db, w.t, k, &cur);
	if (rc == -ENOENT) {
		/* first use of the pair: persist max(seed, min); without an EIS the pair starts at min */
		rc = cntr_seed(db, w.t, eid, kvn, &cur);
		if (rc == -ENOENT) {
			cur = 0;
			rc = 0;
		}
		if (rc == 0)
			rc = cntr_store(&w, k, cur > min ? cur : min);
	} else if (rc == 0 && cur < min) {
		rc = cntr_store(&w, k, min);
	}
	return sdb_wend(&w, rc);
}
