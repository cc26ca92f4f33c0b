/* The SM-SR store: the operation journal and its idempotency index (db.h).
 *
 * Journal value: 01 | state | created (i64 BE) | deadline (i64 BE) | EID (16) | idem key length (u16 BE) |
 *                idem key (requester OID 00 FunctionCallIdentifier) | data */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "smsr/db_priv.h"

#define OP_FORMAT_V1 0x01
#define OP_HDR_LEN (1 + 1 + 8 + 8 + SMSR_EID_LEN + 2)
#define OP_ID_LEN 8

static const char META_OP_SEQ[] = "op_seq";

int sdb_op_parse(const void *val, size_t vlen, struct op_view *ov)
{
	const uint8_t *p = val;

	if (vlen < OP_HDR_LEN || p[0] != OP_FORMAT_V1)
		return -EIO;
	ov->hdr.state = p[1];
	ov->hdr.created = (int64_t)sdb_get_be(p + 2, 8);
	ov->hdr.deadline = (int64_t)sdb_get_be(p + 10, 8);
	memcpy(ov->hdr.eid, p + 18, SMSR_EID_LEN);
	ov->idem_len = (size_t)sdb_get_be(p + 34, 2);
	if (ov->idem_len > vlen - OP_HDR_LEN)
		return -EIO;
	ov->idem = p + OP_HDR_LEN;
	if (ov->idem_len && (ov->idem_len < 2 || !memchr(ov->idem, 0, ov->idem_len)))
		return -EIO;
	ov->data = ov->idem + ov->idem_len;
	ov->len = vlen - OP_HDR_LEN - ov->idem_len;
	return 0;
}

/* Build a journal value in a new talloc buffer under ctx. */
static uint8_t *op_build(void *ctx, const struct smsr_db_op_hdr *h, const uint8_t *idem, size_t idem_len,
			 const void *data, size_t len, size_t *vlen)
{
	uint8_t *p = talloc_size(ctx, OP_HDR_LEN + idem_len + len);

	if (!p)
		return NULL;
	p[0] = OP_FORMAT_V1;
	p[1] = h->state;
	sdb_put_be(p + 2, (uint64_t)h->created, 8);
	sdb_put_be(p + 10, (uint64_t)h->deadline, 8);
	memcpy(p + 18, h->eid, SMSR_EID_LEN);
	sdb_put_be(p + 34, idem_len, 2);
	if (idem_len)
		memcpy(p + OP_HDR_LEN, idem, idem_len);
	if (len)
		memcpy(p + OP_HDR_LEN + idem_len, data, len);
	*vlen = OP_HDR_LEN + idem_len + len;
	return p;
}

/* requester || 00 || fcid into buf (SMSR_DB_IDEM_MAX bytes). 0 and *len, or -EINVAL. */
static int idem_key(const char *requester, const char *fcid, uint8_t *buf, size_t *len)
{
	size_t rl, fl;

	if (!requester || !fcid)
		return -EINVAL;
	rl = strlen(requester);
	fl = strlen(fcid);
	if (!rl || rl + 1 + fl > SMSR_DB_IDEM_MAX)
		return -EINVAL;
	memcpy(buf, requester, rl);
	buf[rl] = 0;
	memcpy(buf + rl + 1, fcid, fl);
	*len = rl + 1 + fl;
	return 0;
}

static int op_read(struct smsr_db *db, MDB_txn *t, uint64_t id, MDB_val *v, struct op_view *ov)
{
	uint8_t k[OP_ID_LEN];
	int rc;

	sdb_put_be(k, id, OP_ID_LEN);
	if ((rc = sdb_get(t, db->journal, k, OP_ID_LEN, v)) < 0)
		return rc;
	return sdb_op_parse(v->mv_data, v->mv_size, ov);
}

int smsr_db_op_create(struct smsr_db *db, struct smsr_db_txn *txn, const struct smsr_db_op_hdr *h,
		      const char *requester, const char *fcid, const void *data, size_t len, uint64_t *id)
{
	uint8_t ik[SMSR_DB_IDEM_MAX], k[OP_ID_LEN], seq[8], *val = NULL;
	size_t ilen = 0, vlen;
	uint64_t next = 0;
	struct sdb_w w;
	MDB_val v;
	int rc;

	if ((requester || fcid) && (rc = idem_key(requester, fcid, ik, &ilen)) < 0)
		return rc;
	if (len && !data)
		return -EINVAL;
	if ((rc = sdb_wbegin(db, txn, &w)) < 0)
		return rc;
	/* checks first: a retry changes nothing and returns the first operation */
	if (ilen) {
		rc = sdb_get(w.t, db->idem, ik, ilen, &v);
		if (rc == 0) {
			if (v.mv_size != OP_ID_LEN) {
				rc = -EIO;
				goto out;
			}
			*id = sdb_get_be(v.mv_data, OP_ID_LEN);
			rc = -EEXIST;
			goto out;
		}
		if (rc != -ENOENT)
			goto out;
	}
	rc = sdb_get(w.t, db->meta, META_OP_SEQ, sizeof(META_OP_SEQ) - 1, &v);
	if (rc == 0 && v.mv_size == 8)
		next = sdb_get_be(v.mv_data, 8) + 1;
	else if (rc == -ENOENT)
		next = 1;
	else {
		rc = rc < 0 ? rc : -EIO;
		goto out;
	}
	val = op_build(NULL, h, ik, ilen, data, len, &vlen);
	if (!val) {
		rc = -ENOMEM;
		goto out;
	}
	sdb_put_be(seq, next, 8);
	sdb_put_be(k, next, OP_ID_LEN);
	if ((rc = sdb_put(&w, db->meta, META_OP_SEQ, sizeof(META_OP_SEQ) - 1, seq, 8, 0)) < 0 ||
	    (rc = sdb_put(&w, db->journal, k, OP_ID_LEN, val, vlen, MDB_NOOVERWRITE)) < 0)
		goto out;
	if (ilen && (rc = sdb_put(&w, db->idem, ik, ilen, k, OP_ID_LEN, MDB_NOOVERWRITE)) < 0)
		goto out;
	*id = next;
out:
	talloc_free(val);
	if (rc == -EEXIST && w.dirty)
		rc = -EIO;	/* op id or idem key collided after the checks: the store is inconsistent */
	return sdb_wend(&w, rc);
}

static int op_export(void *ctx, uint64_t id, const struct op_view *ov, struct smsr_db_op *op)
{
	const char *sep;

	memset(op, 0, sizeof(*op));
	op->id = id;
	op->hdr = ov->hdr;
	if (ov->idem_len) {
		sep = memchr(ov->idem, 0, ov->idem_len);
		op->requester = talloc_strndup(ctx, (const char *)ov->idem, (size_t)(sep - (const char *)ov->idem));
		op->fcid = talloc_strndup(ctx, sep + 1, ov->idem_len - (size_t)(sep + 1 - (const char *)ov->idem));
		if (!op->requester || !op->fcid)
			return -ENOMEM;
	}
	if (ov->len) {
		op->data = talloc_memdup(ctx, ov->data, ov->len);
		if (!op->data)
			return -ENOMEM;
		op->len = ov->len;
	}
	return 0;
}

int smsr_db_op_get(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, uint64_t id, struct smsr_db_op **out)
{
	struct smsr_db_op *op = NULL;
	struct op_view ov;
	MDB_txn *t;
	MDB_val v;
	int rc;

	*out = NULL;
	if ((rc = sdb_rbegin(db, txn, &t)) < 0)
		return rc;
	if ((rc = op_read(db, t, id, &v, &ov)) < 0)
		goto out;
	op = talloc_zero(ctx, struct smsr_db_op);
	if (!op) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = op_export(op, id, &ov, op)) < 0) {
		TALLOC_FREE(op);
		goto out;
	}
	*out = op;
out:
	sdb_rend(db, txn);
	return rc;
}

/* Rewrite a record with a new header and data (data NULL: keep the old data). */
static int op_rewrite(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id, const struct smsr_db_op_hdr *h,
		      uint8_t state, const void *data, size_t len, bool keep_data)
{
	uint8_t k[OP_ID_LEN], *val = NULL;
	struct smsr_db_op_hdr nh;
	struct op_view ov;
	struct sdb_w w;
	size_t vlen;
	MDB_val v;
	int rc;

	if (!keep_data && len && !data)
		return -EINVAL;
	if ((rc = sdb_wbegin(db, txn, &w)) < 0)
		return rc;
	if ((rc = op_read(db, w.t, id, &v, &ov)) < 0)
		goto out;
	nh = h ? *h : ov.hdr;
	if (!h)
		nh.state = state;
	/* built (copied out of the map) before the put invalidates v */
	val = op_build(NULL, &nh, ov.idem, ov.idem_len, keep_data ? ov.data : data, keep_data ? ov.len : len,
		       &vlen);
	if (!val) {
		rc = -ENOMEM;
		goto out;
	}
	sdb_put_be(k, id, OP_ID_LEN);
	rc = sdb_put(&w, db->journal, k, OP_ID_LEN, val, vlen, 0);
out:
	talloc_free(val);
	return sdb_wend(&w, rc);
}

int smsr_db_op_update(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id, const struct smsr_db_op_hdr *h,
		      const void *data, size_t len)
{
	if (!h)
		return -EINVAL;
	return op_rewrite(db, txn, id, h, 0, data, len, false);
}

int smsr_db_op_set_state(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id, uint8_t state)
{
	return op_rewrite(db, txn, id, NULL, state, NULL, 0, true);
}

int smsr_db_op_delete(struct smsr_db *db, struct smsr_db_txn *txn, uint64_t id)
{
	uint8_t k[OP_ID_LEN], ik[SMSR_DB_IDEM_MAX];
	struct op_view ov;
	struct sdb_w w;
	size_t ilen;
	MDB_val v;
	int rc;

	if ((rc = sdb_wbegin(db, txn, &w)) < 0)
		return rc;
	if ((rc = op_read(db, w.t, id, &v, &ov)) < 0)
		goto out;
	ilen = ov.idem_len;
	memcpy(ik, ov.idem, ilen);	/* copied out before the first write */
	sdb_put_be(k, id, OP_ID_LEN);
	if (ilen) {
		/* drop the idempotency entry only if it is this operation's */
		rc = sdb_get(w.t, db->idem, ik, ilen, &v);
		if (rc == 0 && v.mv_size == OP_ID_LEN && !memcmp(v.mv_data, k, OP_ID_LEN))
			rc = sdb_del(&w, db->idem, ik, ilen);
		else if (rc == 0 || rc == -ENOENT)
			rc = 0;
		if (rc < 0)
			goto out;
	}
	rc = sdb_del(&w, db->journal, k, OP_ID_LEN);
out:
	return sdb_wend(&w, rc);
}

int smsr_db_op_list(struct smsr_db *db, void *ctx, int state, struct smsr_db_op **out, size_t *n)
{
	struct smsr_db_op *arr = NULL;
	size_t cnt = 0, cap = 0;
	MDB_cursor *c = NULL;
	struct op_view ov;
	MDB_txn *t;
	MDB_val k, v;
	int rc, mrc;

	*out = NULL;
	*n = 0;
	if ((rc = sdb_rbegin(db, NULL, &t)) < 0)
		return rc;
	if ((rc = sdb_err(mdb_cursor_open(t, db->journal, &c))) < 0)
		goto out;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != OP_ID_LEN || sdb_op_parse(v.mv_data, v.mv_size, &ov) < 0) {
			rc = -EIO;
			goto out;
		}
		if (state >= 0 && ov.hdr.state != state)
			continue;
		if (cnt == cap) {
			struct smsr_db_op *na;

			cap = cap ? 2 * cap : 16;
			na = talloc_realloc(ctx, arr, struct smsr_db_op, cap);
			if (!na) {
				rc = -ENOMEM;
				goto out;
			}
			arr = na;
		}
		if ((rc = op_export(arr, sdb_get_be(k.mv_data, OP_ID_LEN), &ov, &arr[cnt])) < 0)
			goto out;
		cnt++;
	}
	rc = sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
out:
	if (c)
		mdb_cursor_close(c);
	sdb_rend(db, NULL);
	if (rc < 0 || !cnt) {
		talloc_free(arr);
		return rc;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

int smsr_db_idem_get(struct smsr_db *db, struct smsr_db_txn *txn, const char *requester, const char *fcid,
		     uint64_t *id)
{
	uint8_t ik[SMSR_DB_IDEM_MAX];
	size_t ilen;
	MDB_txn *t;
	MDB_val v;
	int rc;

	if ((rc = idem_key(requester, fcid, ik, &ilen)) < 0)
		return rc;
	if ((rc = sdb_rbegin(db, txn, &t)) < 0)
		return rc;
	rc = sdb_get(t, db->idem, ik, ilen, &v);
	if (rc == 0 && v.mv_size != OP_ID_LEN)
		rc = -EIO;
	if (rc == 0)
		*id = sdb_get_be(v.mv_data, OP_ID_LEN);
	sdb_rend(db, txn);
	return rc;
}
