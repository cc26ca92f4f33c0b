/* The SM-SR store: EIS records, the ICCID and MSISDN indexes, bulk import (db.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "smsr/db_priv.h"
#include "smsr/eis_codec.h"

static bool in_list(const char **l, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(l[i], s))
			return true;
	}
	return false;
}

int sdb_eis_keys(void *ctx, const struct smsr_eis *e, struct sdb_keys *k)
{
	unsigned need = 2 * e->n_profiles + 1, i;
	const char **mem = k->inl;

	k->n_iccid = k->n_msisdn = 0;
	if (e->n_profiles && !e->profiles)
		return -EINVAL;
	if (need > sizeof(k->inl) / sizeof(k->inl[0])) {
		mem = talloc_array(ctx, const char *, need);
		if (!mem)
			return -ENOMEM;
	}
	k->iccid = mem;
	k->msisdn = mem + e->n_profiles;
	for (i = 0; i < e->n_profiles; i++) {
		const struct smsr_profile *p = &e->profiles[i];

		if (!p->iccid[0] || strnlen(p->iccid, sizeof(p->iccid)) == sizeof(p->iccid) ||
		    in_list(k->iccid, k->n_iccid, p->iccid))
			return -EINVAL;
		k->iccid[k->n_iccid++] = p->iccid;
		if (strnlen(p->msisdn, sizeof(p->msisdn)) == sizeof(p->msisdn))
			return -EINVAL;
		if (p->msisdn[0] && !in_list(k->msisdn, k->n_msisdn, p->msisdn))
			k->msisdn[k->n_msisdn++] = p->msisdn;
	}
	if (strnlen(e->isdr_msisdn, sizeof(e->isdr_msisdn)) == sizeof(e->isdr_msisdn))
		return -EINVAL;
	if (e->isdr_msisdn[0] && !in_list(k->msisdn, k->n_msisdn, e->isdr_msisdn))
		k->msisdn[k->n_msisdn++] = e->isdr_msisdn;
	return 0;
}

static void free_keys(struct sdb_keys *k)
{
	if (k->iccid && k->iccid != k->inl)
		talloc_free(k->iccid);
	k->iccid = k->msisdn = NULL;
}

/* Index entry of a text key (packed, see sdb_ix_pack()). */
static int ix_get(MDB_txn *t, MDB_dbi dbi, const char *text, MDB_val *v)
{
	uint8_t k[SDB_IX_MAX];
	int n = sdb_ix_pack(text, k);

	return n < 0 ? n : sdb_get(t, dbi, k, (size_t)n, v);
}

static int ix_put(struct sdb_w *w, MDB_dbi dbi, const char *text, const uint8_t *eid, unsigned flags)
{
	uint8_t k[SDB_IX_MAX];
	int n = sdb_ix_pack(text, k);

	return n < 0 ? n : sdb_put(w, dbi, k, (size_t)n, eid, SMSR_EID_LEN, flags);
}

static int ix_del(struct sdb_w *w, MDB_dbi dbi, const char *text)
{
	uint8_t k[SDB_IX_MAX];
	int n = sdb_ix_pack(text, k);

	return n < 0 ? n : sdb_del(w, dbi, k, (size_t)n);
}

/* An index key must be absent or already point to eid (NULL: must be absent): else -EEXIST. */
static int index_free_for(MDB_txn *t, MDB_dbi dbi, const char *key, const uint8_t *eid)
{
	MDB_val v;
	int rc = ix_get(t, dbi, key, &v);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (eid && v.mv_size == SMSR_EID_LEN && !memcmp(v.mv_data, eid, SMSR_EID_LEN))
		return 0;
	return -EEXIST;
}

/* Insert one EIS inside w. Everything is verified before the first write, so a refusal (-EEXIST, -EINVAL)
 * leaves w untouched. */
static int eis_insert(struct sdb_w *w, const struct smsr_eis *e)
{
	struct smsr_db *db = w->db;
	struct sdb_keys k = { 0 };
	MDB_val v;
	size_t len;
	unsigned i;
	int rc;

	if ((rc = sdb_eis_keys(db, e, &k)) < 0)
		goto out;
	rc = sdb_get(w->t, db->eis, e->eid, SMSR_EID_LEN, &v);
	if (rc == 0)
		rc = -EEXIST;
	if (rc != -ENOENT)
		goto out;
	for (i = 0; i < k.n_iccid; i++) {
		if ((rc = index_free_for(w->t, db->iccid, k.iccid[i], NULL)) < 0)
			goto out;
	}
	for (i = 0; i < k.n_msisdn; i++) {
		if ((rc = index_free_for(w->t, db->msisdn, k.msisdn[i], NULL)) < 0)
			goto out;
	}
	if ((rc = sdb_encode(db, e, &len)) < 0)
		goto out;
	if ((rc = sdb_put(w, db->eis, e->eid, SMSR_EID_LEN, db->scratch, len, MDB_NOOVERWRITE)) < 0)
		goto out;
	for (i = 0; i < k.n_iccid; i++) {
		if ((rc = ix_put(w, db->iccid, k.iccid[i], e->eid, MDB_NOOVERWRITE)) < 0)
			goto out;
	}
	for (i = 0; i < k.n_msisdn; i++) {
		if ((rc = ix_put(w, db->msisdn, k.msisdn[i], e->eid, MDB_NOOVERWRITE)) < 0)
			goto out;
	}
out:
	free_keys(&k);
	return rc;
}

int smsr_db_eis_insert(struct smsr_db *db, struct smsr_db_txn *txn, const struct smsr_eis *e)
{
	struct sdb_w w;
	int rc = sdb_wbegin(db, txn, &w);

	if (rc < 0)
		return rc;
	return sdb_wend(&w, eis_insert(&w, e));
}

/* Decode the stored EIS of eid under ctx (copied out of the map). */
static int eis_load(struct smsr_db *db, MDB_txn *t, void *ctx, const uint8_t *eid, struct smsr_eis **out)
{
	MDB_val v;
	int rc = sdb_get(t, db->eis, eid, SMSR_EID_LEN, &v);

	if (rc < 0)
		return rc;
	return smsr_eis_decode_record(ctx, eid, v.mv_data, v.mv_size, out);
}

/* Delete index entries of keys that point to eid (entries of other EIDs, from a corrupted index, stay). */
static int index_drop(struct sdb_w *w, MDB_dbi dbi, const char **keys, unsigned n, const char **keep,
		      unsigned n_keep, const uint8_t *eid)
{
	MDB_val v;
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		if (in_list(keep, n_keep, keys[i]))
			continue;
		rc = ix_get(w->t, dbi, keys[i], &v);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return rc;
		if (v.mv_size != SMSR_EID_LEN || memcmp(v.mv_data, eid, SMSR_EID_LEN))
			continue;
		if ((rc = ix_del(w, dbi, keys[i])) < 0)
			return rc;
	}
	return 0;
}

static int eis_update(struct sdb_w *w, const struct smsr_eis *e)
{
	struct smsr_db *db = w->db;
	struct sdb_keys nk = { 0 }, ok = { 0 };
	struct smsr_eis *old = NULL;
	void *tmp = talloc_new(NULL);
	size_t len;
	unsigned i;
	int rc;

	if (!tmp)
		return -ENOMEM;
	if ((rc = sdb_eis_keys(tmp, e, &nk)) < 0 || (rc = eis_load(db, w->t, tmp, e->eid, &old)) < 0 ||
	    (rc = sdb_eis_keys(tmp, old, &ok)) < 0)
		goto out;
	/* checks: every key of the new EIS is free or already ours */
	for (i = 0; i < nk.n_iccid; i++) {
		if ((rc = index_free_for(w->t, db->iccid, nk.iccid[i], e->eid)) < 0)
			goto out;
	}
	for (i = 0; i < nk.n_msisdn; i++) {
		if ((rc = index_free_for(w->t, db->msisdn, nk.msisdn[i], e->eid)) < 0)
			goto out;
	}
	if ((rc = sdb_encode(db, e, &len)) < 0)
		goto out;
	/* writes */
	if ((rc = index_drop(w, db->iccid, ok.iccid, ok.n_iccid, nk.iccid, nk.n_iccid, e->eid)) < 0 ||
	    (rc = index_drop(w, db->msisdn, ok.msisdn, ok.n_msisdn, nk.msisdn, nk.n_msisdn, e->eid)) < 0)
		goto out;
	for (i = 0; i < nk.n_iccid; i++) {
		if ((rc = ix_put(w, db->iccid, nk.iccid[i], e->eid, 0)) < 0)
			goto out;
	}
	for (i = 0; i < nk.n_msisdn; i++) {
		if ((rc = ix_put(w, db->msisdn, nk.msisdn[i], e->eid, 0)) < 0)
			goto out;
	}
	rc = sdb_put(w, db->eis, e->eid, SMSR_EID_LEN, db->scratch, len, 0);
out:
	talloc_free(tmp);
	return rc;
}

int smsr_db_eis_update(struct smsr_db *db, struct smsr_db_txn *txn, const struct smsr_eis *e)
{
	struct sdb_w w;
	int rc = sdb_wbegin(db, txn, &w);

	if (rc < 0)
		return rc;
	return sdb_wend(&w, eis_update(&w, e));
}

/* Delete every entry of an index that points to eid (full scan: only for a record that does not decode). */
static int index_drop_scan(struct sdb_w *w, MDB_dbi dbi, const uint8_t *eid)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = sdb_err(mdb_cursor_open(w->t, dbi, &c))) < 0)
		return rc;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size != SMSR_EID_LEN || memcmp(v.mv_data, eid, SMSR_EID_LEN))
			continue;
		w->dirty = true;
		if ((mrc = mdb_cursor_del(c, 0)) != MDB_SUCCESS)
			break;
	}
	mdb_cursor_close(c);
	return sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
}

int smsr_db_eis_delete(struct smsr_db *db, struct smsr_db_txn *txn, const uint8_t eid[SMSR_EID_LEN])
{
	struct sdb_keys k = { 0 };
	struct smsr_eis *old = NULL;
	struct sdb_w w;
	void *tmp;
	int rc = sdb_wbegin(db, txn, &w);

	if (rc < 0)
		return rc;
	tmp = talloc_new(NULL);
	if (!tmp) {
		rc = -ENOMEM;
		goto out;
	}
	rc = eis_load(db, w.t, tmp, eid, &old);
	if (rc == 0)
		rc = sdb_eis_keys(tmp, old, &k);
	if (rc == -ENOENT || rc == -ENOMEM)
		goto out;
	if (rc < 0) {
		/* a record that does not decode can still be deleted: find its index entries the slow way */
		if ((rc = index_drop_scan(&w, db->iccid, eid)) < 0 || (rc = index_drop_scan(&w, db->msisdn, eid)) < 0)
			goto out;
	} else if ((rc = index_drop(&w, db->iccid, k.iccid, k.n_iccid, NULL, 0, eid)) < 0 ||
		   (rc = index_drop(&w, db->msisdn, k.msisdn, k.n_msisdn, NULL, 0, eid)) < 0) {
		goto out;
	}
	rc = sdb_del(&w, db->eis, eid, SMSR_EID_LEN);
out:
	talloc_free(tmp);
	return sdb_wend(&w, rc);
}

int smsr_db_eis_get(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, const uint8_t eid[SMSR_EID_LEN],
		    struct smsr_eis **out)
{
	MDB_txn *t;
	int rc;

	*out = NULL;
	if ((rc = sdb_rbegin(db, txn, &t)) < 0)
		return rc;
	rc = eis_load(db, t, ctx, eid, out);
	sdb_rend(db, txn);
	return rc;
}

/* EID of an index key, copied out */
static int index_lookup(MDB_txn *t, MDB_dbi dbi, const char *key, uint8_t *eid)
{
	MDB_val v;
	int rc;

	if (!key || !key[0])
		return -EINVAL;
	rc = ix_get(t, dbi, key, &v);
	if (rc == -EINVAL)
		return -ENOENT;	/* longer than any stored key */
	if (rc < 0)
		return rc;
	if (v.mv_size != SMSR_EID_LEN)
		return -EIO;
	memcpy(eid, v.mv_data, SMSR_EID_LEN);
	return 0;
}

static int eid_by(struct smsr_db *db, struct smsr_db_txn *txn, MDB_dbi dbi, const char *key, uint8_t *eid)
{
	MDB_txn *t;
	int rc;

	if ((rc = sdb_rbegin(db, txn, &t)) < 0)
		return rc;
	rc = index_lookup(t, dbi, key, eid);
	sdb_rend(db, txn);
	return rc;
}

static int eis_by(struct smsr_db *db, struct smsr_db_txn *txn, MDB_dbi dbi, void *ctx, const char *key,
		  struct smsr_eis **out)
{
	uint8_t eid[SMSR_EID_LEN];
	MDB_txn *t;
	int rc;

	*out = NULL;
	if ((rc = sdb_rbegin(db, txn, &t)) < 0)
		return rc;
	if ((rc = index_lookup(t, dbi, key, eid)) == 0) {
		rc = eis_load(db, t, ctx, eid, out);
		if (rc == -ENOENT)
			rc = -EIO;	/* a dangling index entry */
	}
	sdb_rend(db, txn);
	return rc;
}

int smsr_db_eid_by_iccid(struct smsr_db *db, struct smsr_db_txn *txn, const char *iccid, uint8_t eid[SMSR_EID_LEN])
{
	return eid_by(db, txn, db->iccid, iccid, eid);
}

int smsr_db_eid_by_msisdn(struct smsr_db *db, struct smsr_db_txn *txn, const char *msisdn,
			  uint8_t eid[SMSR_EID_LEN])
{
	return eid_by(db, txn, db->msisdn, msisdn, eid);
}

int smsr_db_eis_get_by_iccid(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, const char *iccid,
			     struct smsr_eis **out)
{
	return eis_by(db, txn, db->iccid, ctx, iccid, out);
}

int smsr_db_eis_get_by_msisdn(struct smsr_db *db, struct smsr_db_txn *txn, void *ctx, const char *msisdn,
			      struct smsr_eis **out)
{
	return eis_by(db, txn, db->msisdn, ctx, msisdn, out);
}

int smsr_db_eis_count(struct smsr_db *db, size_t *n)
{
	MDB_stat ms;
	MDB_txn *t;
	int rc;

	*n = 0;
	if ((rc = sdb_rbegin(db, NULL, &t)) < 0)
		return rc;
	rc = sdb_err(mdb_stat(t, db->eis, &ms));
	if (rc == 0)
		*n = ms.ms_entries;
	sdb_rend(db, NULL);
	return rc;
}

/* Insertion order for a batch: by EID, so the B-tree is walked left to right. */
static int cmp_eid(const void *a, const void *b)
{
	const struct smsr_eis *const *x = a, *const *y = b;

	return memcmp((*x)->eid, (*y)->eid, SMSR_EID_LEN);
}

/* One index entry of a batch (the EID points into the caller's EIS). */
struct ix_ent {
	uint8_t key[SDB_IX_MAX];
	size_t len;
	const uint8_t *eid;
};

static int ix_ent_set(struct ix_ent *x, const char *text, const uint8_t *eid)
{
	int n = sdb_ix_pack(text, x->key);

	if (n < 0)
		return n;
	x->len = (size_t)n;
	x->eid = eid;
	return 0;
}

/* LMDB's default key order: memcmp over the common length, then the shorter first */
static int cmp_key(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

static int cmp_ix(const void *a, const void *b)
{
	const struct ix_ent *x = a, *y = b;

	return cmp_key(x->key, x->len, y->key, y->len);
}

/* Appender for keys put in ascending order: MDB_APPEND (pages filled completely instead of split in half) as
 * soon as the keys are beyond the last key already in the database; a key equal to the previous one gives
 * -EEXIST either way. */
struct appender {
	uint8_t last[SMSR_DB_IDEM_MAX];
	size_t last_len;
	bool have_last, appending;
};

static int appender_init(struct sdb_w *w, MDB_dbi dbi, struct appender *a)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	a->have_last = a->appending = false;
	if ((rc = sdb_err(mdb_cursor_open(w->t, dbi, &c))) < 0)
		return rc;
	rc = sdb_err(mdb_cursor_get(c, &k, &v, MDB_LAST));
	if (rc == 0 && k.mv_size <= sizeof(a->last)) {
		memcpy(a->last, k.mv_data, k.mv_size);	/* copied: a put may move the page */
		a->last_len = k.mv_size;
		a->have_last = true;
	}
	mdb_cursor_close(c);
	return rc == -ENOENT ? 0 : rc < 0 ? rc : 0;
}

static int append_put(struct sdb_w *w, MDB_dbi dbi, struct appender *a, const void *k, size_t klen, const void *v,
		      size_t vlen)
{
	if (!a->appending && (!a->have_last || cmp_key(k, klen, a->last, a->last_len) > 0))
		a->appending = true;
	return sdb_put(w, dbi, k, klen, v, vlen, MDB_NOOVERWRITE | (a->appending ? MDB_APPEND : 0));
}

static int put_index_sorted(struct sdb_w *w, MDB_dbi dbi, struct ix_ent *ix, size_t n)
{
	struct appender a;
	size_t i;
	int rc;

	qsort(ix, n, sizeof(*ix), cmp_ix);
	if ((rc = appender_init(w, dbi, &a)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = append_put(w, dbi, &a, ix[i].key, ix[i].len, ix[i].eid, SMSR_EID_LEN)) < 0)
			return rc;
	}
	return 0;
}

/* The fast path: records in EID order, then each index in key order, appended where possible. Stops at the
 * first failure (the transaction is then dropped by the caller). */
static int import_fast(struct sdb_w *w, void *tmp, const struct smsr_eis **sorted, size_t n)
{
	struct smsr_db *db = w->db;
	struct ix_ent *iccid, *msisdn;
	size_t i, n_icc = 0, n_msi = 0, cap_icc = 0, cap_msi = 0, len;
	struct appender a;
	unsigned j;
	int rc;

	for (i = 0; i < n; i++) {
		cap_icc += sorted[i]->n_profiles;
		cap_msi += sorted[i]->n_profiles + 1;
	}
	iccid = talloc_array(tmp, struct ix_ent, cap_icc + 1);
	msisdn = talloc_array(tmp, struct ix_ent, cap_msi + 1);
	if (!iccid || !msisdn)
		return -ENOMEM;
	if ((rc = appender_init(w, db->eis, &a)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		const struct smsr_eis *e = sorted[i];
		struct sdb_keys k;

		if ((rc = sdb_eis_keys(tmp, e, &k)) < 0)
			return rc;
		for (j = 0; j < k.n_iccid; j++) {
			if ((rc = ix_ent_set(&iccid[n_icc++], k.iccid[j], e->eid)) < 0)
				return rc;
		}
		for (j = 0; j < k.n_msisdn; j++) {
			if ((rc = ix_ent_set(&msisdn[n_msi++], k.msisdn[j], e->eid)) < 0)
				return rc;
		}
		if ((rc = sdb_encode(db, e, &len)) < 0 ||
		    (rc = append_put(w, db->eis, &a, e->eid, SMSR_EID_LEN, db->scratch, len)) < 0)
			return rc;
	}
	if ((rc = put_index_sorted(w, db->iccid, iccid, n_icc)) < 0)
		return rc;
	return put_index_sorted(w, db->msisdn, msisdn, n_msi);
}

/* The slow path after a failed batch: every record checked (and written when good) in a transaction that is
 * then dropped, so that rc[] says exactly which records fail. */
static int import_report(struct smsr_db *db, const struct smsr_eis *const *eis, size_t n, int *rc)
{
	struct sdb_w w;
	int r, first = 0;
	size_t i;

	if ((r = sdb_wbegin(db, NULL, &w)) < 0)
		return r;
	for (i = 0; i < n; i++) {
		r = eis_insert(&w, eis[i]);
		if (r < 0 && r != -EEXIST && r != -EINVAL) {
			first = r;	/* a store error: no report */
			break;
		}
		rc[i] = r;
		if (r < 0 && !first)
			first = r;
	}
	sdb_wend(&w, -ECANCELED);	/* never committed */
	return first;
}

int smsr_db_eis_import(struct smsr_db *db, const struct smsr_eis *const *eis, size_t n, int *rc)
{
	const struct smsr_eis **sorted;
	void *tmp;
	struct sdb_w w;
	size_t i;
	int r;

	if (rc) {
		for (i = 0; i < n; i++)
			rc[i] = 0;
	}
	if (!n)
		return 0;
	if (!(tmp = talloc_new(NULL)))
		return -ENOMEM;
	sorted = talloc_array(tmp, const struct smsr_eis *, n);
	if (!sorted) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(sorted, eis, n * sizeof(*eis));
	qsort(sorted, n, sizeof(*sorted), cmp_eid);
	if ((r = sdb_wbegin(db, NULL, &w)) < 0)
		goto out;
	r = sdb_wend(&w, import_fast(&w, tmp, sorted, n));
	if ((r == -EEXIST || r == -EINVAL) && rc) {
		int first = import_report(db, eis, n, rc);

		if (first)
			r = first;	/* the first failure in the caller's order */
	}
out:
	talloc_free(tmp);
	return r;
}

int sdb_reindex(struct sdb_w *w)
{
	struct smsr_db *db = w->db;
	void *tmp = talloc_new(NULL);
	MDB_cursor *c = NULL;
	MDB_val k, v;
	unsigned i;
	int rc, mrc;

	if (!tmp)
		return -ENOMEM;
	w->dirty = true;
	if ((rc = sdb_err(mdb_drop(w->t, db->iccid, 0))) < 0 || (rc = sdb_err(mdb_drop(w->t, db->msisdn, 0))) < 0 ||
	    (rc = sdb_err(mdb_cursor_open(w->t, db->eis, &c))) < 0)
		goto out;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct smsr_eis *e;
		struct sdb_keys ks;

		if (k.mv_size != SMSR_EID_LEN) {
			rc = -EIO;
			goto out;
		}
		if ((rc = smsr_eis_decode_record(tmp, k.mv_data, v.mv_data, v.mv_size, &e)) < 0)
			goto out;
		if ((rc = sdb_eis_keys(tmp, e, &ks)) < 0)
			goto out;
		for (i = 0; i < ks.n_iccid && rc == 0; i++)
			rc = ix_put(w, db->iccid, ks.iccid[i], k.mv_data, MDB_NOOVERWRITE);
		for (i = 0; i < ks.n_msisdn && rc == 0; i++)
			rc = ix_put(w, db->msisdn, ks.msisdn[i], k.mv_data, MDB_NOOVERWRITE);
		if (rc < 0)
			goto out;
		talloc_free_children(tmp);
	}
	rc = sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
out:
	if (c)
		mdb_cursor_close(c);
	talloc_free(tmp);
	return rc;
}

int smsr_db_reindex(struct smsr_db *db)
{
	struct sdb_w w;
	int rc = sdb_wbegin(db, NULL, &w);

	if (rc < 0)
		return rc;
	return sdb_wend(&w, sdb_reindex(&w));
}
