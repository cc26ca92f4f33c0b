/* The SM-DP's LMDB store (see db.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <lmdb.h>
#include "smdp/db.h"
#include "smsr/db.h"
#include "smsr/logging.h"

#define SCHEMA_VERSION 1

struct smdp_db {
	MDB_env *env;
	MDB_dbi meta, profiles, pool, pool_free, reserv, orders, fcid;
};

static int s_destructor(struct smdp_db *db)
{
	if (db->env)
		mdb_env_close(db->env);
	return 0;
}

/* the named databases of the environment */
static const struct {
	const char *name;
	size_t off;
} dbis[] = {
	{"meta", offsetof(struct smdp_db, meta)},     {"profiles", offsetof(struct smdp_db, profiles)},
	{"pool", offsetof(struct smdp_db, pool)},     {"pool_free", offsetof(struct smdp_db, pool_free)},
	{"reserv", offsetof(struct smdp_db, reserv)}, {"orders", offsetof(struct smdp_db, orders)},
	{"fcid", offsetof(struct smdp_db, fcid)},
};

int smdp_db_open(void *ctx, const char *path, uint64_t map_size, struct smdp_db **out)
{
	struct smdp_db *db = talloc_zero(ctx, struct smdp_db);
	MDB_txn *t = NULL;
	MDB_val k = {4, "sver"}, v;
	uint32_t ver = SCHEMA_VERSION;
	int rc;

	*out = NULL;
	if (!db)
		return -ENOMEM;
	talloc_set_destructor(db, s_destructor);
	mkdir(path, 0700);
	rc = mdb_env_create(&db->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(db->env, 8);
	if (rc == 0)
		rc = mdb_env_set_mapsize(db->env, map_size);
	if (rc == 0)
		rc = mdb_env_open(db->env, path, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(db->env, NULL, 0, &t);
	for (unsigned i = 0; rc == 0 && i < sizeof(dbis) / sizeof(dbis[0]); i++)
		rc = mdb_dbi_open(t, dbis[i].name, MDB_CREATE, (MDB_dbi *)((char *)db + dbis[i].off));
	if (rc == 0) {
		rc = mdb_get(t, db->meta, &k, &v);
		if (rc == MDB_NOTFOUND) {
			v = (MDB_val){sizeof(ver), &ver};
			rc = mdb_put(t, db->meta, &k, &v, 0);
		} else if (rc == 0 && (v.mv_size != sizeof(ver) || memcmp(v.mv_data, &ver, sizeof(ver)))) {
			LOGP(DDB, LOGL_ERROR, "SM-DP store %s has schema version other than %d", path, SCHEMA_VERSION);
			rc = EINVAL;
		}
	}
	if (rc == 0)
		rc = mdb_txn_commit(t);
	else if (t)
		mdb_txn_abort(t);
	if (rc) {
		LOGP(DDB, LOGL_ERROR, "cannot open the SM-DP store %s: %s", path, mdb_strerror(rc));
		talloc_free(db);
		return smsr_db_errno(rc);
	}
	*out = db;
	return 0;
}

static int wbegin(struct smdp_db *db, MDB_txn **t)
{
	return smsr_db_errno(mdb_txn_begin(db->env, NULL, 0, t));
}

static int rbegin(struct smdp_db *db, MDB_txn **t)
{
	return smsr_db_errno(mdb_txn_begin(db->env, NULL, MDB_RDONLY, t));
}

static int commit(MDB_txn *t, int rc)
{
	if (rc) {
		mdb_txn_abort(t);
		return rc;
	}
	return smsr_db_errno(mdb_txn_commit(t));
}

/* "a\0b" keys */
static size_t key2(char *out, size_t cap, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la + lb + 2 > cap)
		return 0;
	memcpy(out, a, la + 1);
	memcpy(out + la + 1, b, lb + 1);
	return la + lb + 2;
}

static void put_u64(uint8_t *b, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t *b)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* ---- profiles ---- */

int smdp_db_profile_put(struct smdp_db *db, const char *mno, const char *type, const uint8_t *pkg, size_t len,
			uint64_t required_memory, bool replace)
{
	char kb[512];
	MDB_val k = {key2(kb, sizeof(kb), mno, type), kb}, v;
	MDB_txn *t;
	int rc;

	if (!k.mv_size || !len)
		return -EINVAL;
	rc = wbegin(db, &t);
	if (rc)
		return rc;
	v.mv_size = 8 + len;
	rc = smsr_db_errno(mdb_put(t, db->profiles, &k, &v, MDB_RESERVE | (replace ? 0 : MDB_NOOVERWRITE)));
	if (rc == 0) {
		put_u64(v.mv_data, required_memory);
		memcpy((uint8_t *)v.mv_data + 8, pkg, len);
	}
	return commit(t, rc);
}

int smdp_db_profile_get(struct smdp_db *db, void *ctx, const char *mno, const char *type, uint8_t **pkg, size_t *len,
			uint64_t *required_memory)
{
	char kb[512];
	MDB_val k = {key2(kb, sizeof(kb), mno, type), kb}, v;
	MDB_txn *t;
	int rc;

	*pkg = NULL;
	if (!k.mv_size)
		return -ENOENT;
	rc = rbegin(db, &t);
	if (rc)
		return rc;
	rc = smsr_db_errno(mdb_get(t, db->profiles, &k, &v));
	if (rc == 0 && v.mv_size <= 8)
		rc = -EIO;
	if (rc == 0) {
		*required_memory = get_u64(v.mv_data);
		*len = v.mv_size - 8;
		*pkg = talloc_memdup(ctx, (uint8_t *)v.mv_data + 8, *len);
		if (!*pkg)
			rc = -ENOMEM;
	}
	mdb_txn_abort(t);
	return rc;
}

int smdp_db_profile_list(struct smdp_db *db, smdp_db_profile_cb cb, void *data)
{
	MDB_txn *t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = rbegin(db, &t), op = MDB_FIRST;

	if (rc)
		return rc;
	rc = smsr_db_errno(mdb_cursor_open(t, db->profiles, &c));
	while (rc == 0 && mdb_cursor_get(c, &k, &v, op) == 0) {
		const char *mno = k.mv_data, *type = mno + strlen(mno) + 1;
		op = MDB_NEXT;
		rc = cb(data, mno, type, v.mv_size - 8, get_u64(v.mv_data));
	}
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	return rc < 0 ? rc : 0;
}

/* ---- pools: pool[iccid] = state(1) order(8) type(NUL) imsi(NUL) ki_len(1) ki opc_len(1) opc ---- */

static int rec_encode(const char *type, const struct smdp_pool_rec *r, uint8_t *out, size_t cap, size_t *len)
{
	size_t lt = strlen(type) + 1, li = strlen(r->imsi) + 1, n = 1 + 8 + lt + li + 2 + r->ki_len + r->opc_len;

	if (n > cap || r->ki_len > SMDP_SEALED_MAX || r->opc_len > SMDP_SEALED_MAX)
		return -EINVAL;
	out[0] = r->state;
	put_u64(out + 1, r->order);
	memcpy(out + 9, type, lt);
	memcpy(out + 9 + lt, r->imsi, li);
	out[9 + lt + li] = r->ki_len;
	memcpy(out + 10 + lt + li, r->ki, r->ki_len);
	out[10 + lt + li + r->ki_len] = r->opc_len;
	memcpy(out + 11 + lt + li + r->ki_len, r->opc, r->opc_len);
	*len = n;
	return 0;
}

static int rec_decode(const MDB_val *v, const char *iccid, char *type, size_t tcap, struct smdp_pool_rec *r)
{
	const uint8_t *p = v->mv_data, *end = p + v->mv_size, *z;
	size_t lt, li;

	memset(r, 0, sizeof(*r));
	if (v->mv_size < 9 + 2 + 2 || !(z = memchr(p + 9, 0, (size_t)(end - p - 9))))
		return -EIO;
	lt = (size_t)(z - (p + 9)) + 1;
	if (!(z = memchr(p + 9 + lt, 0, (size_t)(end - p - 9 - lt))))
		return -EIO;
	li = (size_t)(z - (p + 9 + lt)) + 1;
	if (lt > tcap || li > sizeof(r->imsi) || p + 10 + lt + li > end)
		return -EIO;
	r->state = p[0];
	r->order = get_u64(p + 1);
	memcpy(type, p + 9, lt);
	memcpy(r->imsi, p + 9 + lt, li);
	r->ki_len = p[9 + lt + li];
	if (r->ki_len > SMDP_SEALED_MAX || p + 11 + lt + li + r->ki_len > end)
		return -EIO;
	memcpy(r->ki, p + 10 + lt + li, r->ki_len);
	r->opc_len = p[10 + lt + li + r->ki_len];
	if (r->opc_len > SMDP_SEALED_MAX || p + 11 + lt + li + r->ki_len + r->opc_len != end)
		return -EIO;
	memcpy(r->opc, p + 11 + lt + li + r->ki_len, r->opc_len);
	snprintf(r->iccid, sizeof(r->iccid), "%s", iccid);
	return 0;
}

int smdp_db_pool_add(struct smdp_db *db, const char *type, const struct smdp_pool_rec *recs, unsigned n, unsigned *bad)
{
	MDB_txn *t;
	unsigned i;
	int rc = wbegin(db, &t);

	*bad = 0;
	for (i = 0; rc == 0 && i < n; i++) {
		uint8_t vb[256];
		char kb[128];
		struct smdp_pool_rec r = recs[i];
		MDB_val k = {strlen(r.iccid), r.iccid}, v = {0, vb}, fk = {key2(kb, sizeof(kb), type, r.iccid), kb},
			e = {0, ""};
		r.state = SMDP_POOL_FREE;
		r.order = 0;
		rc = rec_encode(type, &r, vb, sizeof(vb), &v.mv_size);
		if (rc == 0 && (!k.mv_size || !fk.mv_size))
			rc = -EINVAL;
		if (rc == 0)
			rc = smsr_db_errno(mdb_put(t, db->pool, &k, &v, MDB_NOOVERWRITE));
		if (rc == 0)
			rc = smsr_db_errno(mdb_put(t, db->pool_free, &fk, &e, 0));
		if (rc)
			*bad = i;
	}
	return commit(t, rc);
}

static int reserve(struct smdp_db *db, MDB_txn *t, const char *iccid, uint64_t order, const char *want_type,
		   struct smdp_pool_rec *out)
{
	char type[128], kb[160];
	uint8_t vb[256], ob[8];
	MDB_val k = {strlen(iccid), (void *)iccid}, v, fk, ok = {8, ob}, ov;
	int rc = smsr_db_errno(mdb_get(t, db->pool, &k, &v));

	if (rc == 0)
		rc = rec_decode(&v, iccid, type, sizeof(type), out);
	if (rc == 0 && strcmp(type, want_type))
		rc = -ENOENT;
	if (rc)
		return rc;
	if (out->state != SMDP_POOL_FREE)
		return out->order == order && out->state == SMDP_POOL_RESERVED ? 0 : -EBUSY;
	out->state = SMDP_POOL_RESERVED;
	out->order = order;
	rc = rec_encode(type, out, vb, sizeof(vb), &v.mv_size);
	v.mv_data = vb;
	if (rc == 0)
		rc = smsr_db_errno(mdb_put(t, db->pool, &k, &v, 0));
	fk = (MDB_val){key2(kb, sizeof(kb), type, iccid), kb};
	if (rc == 0)
		rc = smsr_db_errno(mdb_del(t, db->pool_free, &fk, NULL));
	put_u64(ob, order);
	ov = (MDB_val){strlen(iccid), (void *)iccid};
	if (rc == 0)
		rc = smsr_db_errno(mdb_put(t, db->reserv, &ok, &ov, 0));
	return rc;
}

int smdp_db_pool_take(struct smdp_db *db, const char *type, const char *iccid, uint64_t order,
		      struct smdp_pool_rec *out)
{
	uint8_t ob[8];
	MDB_val ok = {8, ob}, v;
	char held[SMDP_ICCID_MAX + 1];
	MDB_txn *t;
	int rc = wbegin(db, &t);

	if (rc)
		return rc;
	put_u64(ob, order);
	/* idempotent: the order's reservation */
	if (mdb_get(t, db->reserv, &ok, &v) == 0 && v.mv_size <= SMDP_ICCID_MAX) {
		memcpy(held, v.mv_data, v.mv_size);
		held[v.mv_size] = '\0';
		rc = reserve(db, t, held, order, type, out);
		mdb_txn_abort(t);
		return rc;
	}
	if (iccid && *iccid) {
		rc = reserve(db, t, iccid, order, type, out);
	} else {
		char kb[160];
		MDB_cursor *c;
		MDB_val fk = {key2(kb, sizeof(kb), type, ""), kb}, e;
		size_t pre = strlen(type) + 1;
		rc = smsr_db_errno(mdb_cursor_open(t, db->pool_free, &c));
		if (rc == 0) {
			fk.mv_size = pre;
			rc = mdb_cursor_get(c, &fk, &e, MDB_SET_RANGE) == 0 && fk.mv_size > pre &&
					     !memcmp(fk.mv_data, kb, pre) && fk.mv_size - pre <= SMDP_ICCID_MAX + 1
				     ? 0
				     : -ENOSPC;
			if (rc == 0) {
				memcpy(held, (const char *)fk.mv_data + pre, fk.mv_size - pre);
				held[fk.mv_size - pre - 1] = '\0';
			}
			mdb_cursor_close(c);
		}
		if (rc == 0)
			rc = reserve(db, t, held, order, type, out);
	}
	return commit(t, rc);
}

int smdp_db_pool_finish(struct smdp_db *db, uint64_t order, bool used)
{
	uint8_t ob[8], vb[256];
	char iccid[SMDP_ICCID_MAX + 1], type[128], kb[160];
	struct smdp_pool_rec r;
	MDB_val ok = {8, ob}, v, k, fk, e = {0, ""};
	MDB_txn *t;
	int rc = wbegin(db, &t);

	if (rc)
		return rc;
	put_u64(ob, order);
	rc = smsr_db_errno(mdb_get(t, db->reserv, &ok, &v));
	if (rc == 0 && v.mv_size > SMDP_ICCID_MAX)
		rc = -EIO;
	if (rc == 0) {
		memcpy(iccid, v.mv_data, v.mv_size);
		iccid[v.mv_size] = '\0';
		k = (MDB_val){strlen(iccid), iccid};
		rc = smsr_db_errno(mdb_get(t, db->pool, &k, &v));
	}
	if (rc == 0)
		rc = rec_decode(&v, iccid, type, sizeof(type), &r);
	if (rc == 0) {
		r.state = used ? SMDP_POOL_USED : SMDP_POOL_FREE;
		if (!used)
			r.order = 0;
		rc = rec_encode(type, &r, vb, sizeof(vb), &v.mv_size);
		v.mv_data = vb;
	}
	if (rc == 0)
		rc = smsr_db_errno(mdb_put(t, db->pool, &k, &v, 0));
	if (rc == 0 && !used) {
		fk = (MDB_val){key2(kb, sizeof(kb), type, iccid), kb};
		rc = smsr_db_errno(mdb_put(t, db->pool_free, &fk, &e, 0));
	}
	if (rc == 0)
		rc = smsr_db_errno(mdb_del(t, db->reserv, &ok, NULL));
	return commit(t, rc);
}

int smdp_db_pool_count(struct smdp_db *db, const char *type, uint64_t counts[3])
{
	MDB_txn *t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = rbegin(db, &t), op = MDB_FIRST;

	counts[0] = counts[1] = counts[2] = 0;
	if (rc)
		return rc;
	rc = smsr_db_errno(mdb_cursor_open(t, db->pool, &c));
	while (rc == 0 && mdb_cursor_get(c, &k, &v, op) == 0) {
		op = MDB_NEXT;
		if (v.mv_size > 9 && v.mv_data && ((const uint8_t *)v.mv_data)[0] < 3 &&
		    (!type || (memchr((const uint8_t *)v.mv_data + 9, 0, v.mv_size - 9) &&
			       !strcmp((const char *)v.mv_data + 9, type))))
			counts[((const uint8_t *)v.mv_data)[0]]++;
	}
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	return rc;
}

/* ---- orders ---- */

int smdp_db_next_id(struct smdp_db *db, uint64_t *id)
{
	MDB_val k = {4, "next"}, v;
	uint8_t b[8];
	MDB_txn *t;
	int rc = wbegin(db, &t);

	if (rc)
		return rc;
	*id = 1;
	if (mdb_get(t, db->meta, &k, &v) == 0 && v.mv_size == 8)
		*id = get_u64(v.mv_data);
	put_u64(b, *id + 1);
	v = (MDB_val){8, b};
	rc = smsr_db_errno(mdb_put(t, db->meta, &k, &v, 0));
	return commit(t, rc);
}

int smdp_db_order_create(struct smdp_db *db, uint64_t id, const char *requester, const char *fcid, const uint8_t *rec,
			 size_t len)
{
	char kb[512];
	uint8_t ib[8];
	MDB_val k = {8, ib}, v = {len, (void *)rec}, fk = {key2(kb, sizeof(kb), requester, fcid), kb}, fv = {8, ib};
	MDB_txn *t;
	int rc = wbegin(db, &t);

	if (rc)
		return rc;
	put_u64(ib, id);
	if (fcid && *fcid)
		rc = fk.mv_size ? smsr_db_errno(mdb_put(t, db->fcid, &fk, &fv, MDB_NOOVERWRITE)) : -EINVAL;
	if (rc == 0)
		rc = smsr_db_errno(mdb_put(t, db->orders, &k, &v, MDB_NOOVERWRITE));
	return commit(t, rc);
}

int smdp_db_order_put(struct smdp_db *db, uint64_t id, const uint8_t *rec, size_t len)
{
	uint8_t ib[8];
	MDB_val k = {8, ib}, v = {len, (void *)rec};
	MDB_txn *t;
	int rc = wbegin(db, &t);

	if (rc)
		return rc;
	put_u64(ib, id);
	rc = smsr_db_errno(mdb_put(t, db->orders, &k, &v, 0));
	return commit(t, rc);
}

int smdp_db_order_by_fcid(struct smdp_db *db, const char *requester, const char *fcid, uint64_t *id)
{
	char kb[512];
	MDB_val k = {key2(kb, sizeof(kb), requester, fcid), kb}, v;
	MDB_txn *t;
	int rc;

	if (!k.mv_size || !*fcid)
		return -ENOENT;
	rc = rbegin(db, &t);
	if (rc)
		return rc;
	rc = smsr_db_errno(mdb_get(t, db->fcid, &k, &v));
	if (rc == 0 && v.mv_size == 8)
		*id = get_u64(v.mv_data);
	else if (rc == 0)
		rc = -EIO;
	mdb_txn_abort(t);
	return rc;
}

int smdp_db_order_foreach(struct smdp_db *db, int (*cb)(void *data, uint64_t id, const uint8_t *rec, size_t len),
			  void *data)
{
	MDB_txn *t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = rbegin(db, &t), op = MDB_FIRST;

	if (rc)
		return rc;
	rc = smsr_db_errno(mdb_cursor_open(t, db->orders, &c));
	while (rc >= 0 && mdb_cursor_get(c, &k, &v, op) == 0) {
		op = MDB_NEXT;
		if (k.mv_size == 8)
			rc = cb(data, get_u64(k.mv_data), v.mv_data, v.mv_size);
	}
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(t);
	return rc < 0 ? rc : 0;
}
