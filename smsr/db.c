/* The SM-SR store: LMDB environment, transactions, schema version and upgrade steps (db.h).
 * LMDB return codes are interpreted here (sdb_err) and nowhere else. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <event2/event.h>
#include "proto/buf.h"
#include "smsr/db_priv.h"
#include "smsr/eis_codec.h"

#define DEFAULT_MAP_SIZE ((size_t)8 << 30)
#define MAX_DBS 8

static const char META_SCHEMA[] = "schema";

int smsr_db_errno(int mdb_rc)
{
	return sdb_err(mdb_rc);
}

int sdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return -ENOSPC;
	default:
		/* LMDB's own codes are negative; positive values are system errno values */
		return rc > 0 ? -rc : -EIO;
	}
}

/* Begin an LMDB transaction; if another process grew the map, adopt its size and retry once. */
static int begin(struct smsr_db *db, unsigned flags, MDB_txn **t)
{
	int rc = mdb_txn_begin(db->env, NULL, flags, t);

	if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(db->env, 0) == MDB_SUCCESS)
		rc = mdb_txn_begin(db->env, NULL, flags, t);
	return sdb_err(rc);
}

/* a write transaction: top-level, or a child of the pass's group transaction (opened on first use) */
static int begin_write(struct smsr_db *db, MDB_txn **t)
{
	int rc;

	if (!db->group_ev)
		return begin(db, 0, t);
	if (!db->group) {
		rc = begin(db, 0, &db->group);
		if (rc < 0)
			return rc;
		event_active(db->group_ev, EV_TIMEOUT, 0);
	}
	rc = sdb_err(mdb_txn_begin(db->env, db->group, 0, t));
	if (rc == 0)
		db->group_children++;
	return rc;
}

static void group_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_db *db = arg;
	int rc;

	(void)fd;
	(void)what;
	if (db->wtxn) {
		/* a caller keeps a transaction open across passes: commit when it is done */
		event_active(db->group_ev, EV_TIMEOUT, 0);
		return;
	}
	rc = smsr_db_group_flush(db);
	if (rc < 0) {
		if (db->group_fail)
			db->group_fail(db->group_fail_data, rc);
		else
			abort();
	}
}

int smsr_db_group_flush(struct smsr_db *db)
{
	int rc;

	if (!db->group)
		return 0;
	if (db->wtxn)
		return -EBUSY;
	rc = sdb_err(mdb_txn_commit(db->group));
	db->group = NULL;
	if (rc == 0)
		db->group_commits++;
	return rc;
}

int smsr_db_group_enable(struct smsr_db *db, struct event_base *base, smsr_db_group_fail_cb fail, void *data)
{
	if (db->group_ev)
		return -EALREADY;
	db->group_ev = event_new(base, -1, 0, group_commit_cb, db);
	if (!db->group_ev)
		return -ENOMEM;
	db->group_fail = fail;
	db->group_fail_data = data;
	return 0;
}

void smsr_db_group_stats(const struct smsr_db *db, unsigned long *commits, unsigned long *children)
{
	*commits = db->group_commits;
	*children = db->group_children;
}

int sdb_get(MDB_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v)
{
	MDB_val key = { .mv_size = klen, .mv_data = (void *)k };

	return sdb_err(mdb_get(t, dbi, &key, v));
}

int sdb_put(struct sdb_w *w, MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen, unsigned flags)
{
	MDB_val key = { .mv_size = klen, .mv_data = (void *)k };
	MDB_val val = { .mv_size = vlen, .mv_data = (void *)v };

	w->dirty = true;
	return sdb_err(mdb_put(w->t, dbi, &key, &val, flags));
}

int sdb_del(struct sdb_w *w, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val key = { .mv_size = klen, .mv_data = (void *)k };

	w->dirty = true;
	return sdb_err(mdb_del(w->t, dbi, &key, NULL));
}

int sdb_wbegin(struct smsr_db *db, struct smsr_db_txn *txn, struct sdb_w *w)
{
	memset(w, 0, sizeof(*w));
	w->db = db;
	if (txn) {
		if (txn->db != db)
			return -EINVAL;
		if (txn->failed)
			return -EIO;
		w->user = txn;
		w->t = txn->txn;
		return 0;
	}
	if (db->wtxn)
		return -EBUSY;
	return begin_write(db, &w->t);
}

int sdb_wend(struct sdb_w *w, int rc)
{
	if (w->user) {
		if (rc < 0 && w->dirty)
			w->user->failed = true;
		return rc;
	}
	if (!w->t)
		return rc;
	if (rc < 0) {
		mdb_txn_abort(w->t);
	} else {
		int crc = sdb_err(mdb_txn_commit(w->t));

		if (crc < 0)
			rc = crc;
	}
	w->t = NULL;
	return rc;
}

int sdb_rbegin(struct smsr_db *db, struct smsr_db_txn *txn, MDB_txn **t)
{
	int rc;

	if (txn) {
		if (txn->db != db)
			return -EINVAL;
		*t = txn->txn;
		return 0;
	}
	if (db->group) {
		/* the pass's writes are not committed yet: read through them */
		*t = db->wtxn ? db->wtxn->txn : db->group;
		return 0;
	}
	if (db->rtxn_active)
		return -EBUSY;
	if (!db->rtxn) {
		rc = begin(db, MDB_RDONLY, &db->rtxn);
	} else {
		rc = mdb_txn_renew(db->rtxn);
		if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(db->env, 0) == MDB_SUCCESS)
			rc = mdb_txn_renew(db->rtxn);
		rc = sdb_err(rc);
	}
	if (rc < 0)
		return rc;
	db->rtxn_active = true;
	*t = db->rtxn;
	return 0;
}

void sdb_rend(struct smsr_db *db, struct smsr_db_txn *txn)
{
	if (txn || !db->rtxn_active)
		return;
	mdb_txn_reset(db->rtxn);
	db->rtxn_active = false;
}

int sdb_encode(struct smsr_db *db, const struct smsr_eis *e, size_t *len)
{
	struct proto_buf b;
	uint8_t *n;
	int rc;

	for (;;) {
		proto_buf_init(&b, db->scratch, db->scratch_cap);
		rc = smsr_eis_encode_record(e, &b);
		if (rc != -PROTO_E_NOSPACE || db->scratch_cap > SMSR_EIS_CODEC_MAX_LEN)
			break;
		n = talloc_realloc(db, db->scratch, uint8_t, 2 * db->scratch_cap);
		if (!n)
			return -ENOMEM;
		db->scratch = n;
		db->scratch_cap *= 2;
	}
	if (rc == -PROTO_E_NOSPACE)
		return -EINVAL;	/* larger than the format allows */
	*len = b.len;
	return rc;
}

int sdb_ix_pack(const char *text, uint8_t out[SDB_IX_MAX])
{
	size_t n = text ? strnlen(text, SMSR_ICCID_MAX + 1) : 0, i;
	uint8_t nib;

	if (!n || n > SMSR_ICCID_MAX)
		return -EINVAL;
	memset(out, 0, (n + 1) / 2);
	for (i = 0; i < n; i++) {
		char ch = text[i];

		if (ch >= '0' && ch <= '9')
			nib = (uint8_t)(ch - '0' + 1);
		else if (ch == 'F')
			nib = 11;
		else if (ch == 'f')
			nib = 12;
		else
			goto raw;
		out[i / 2] |= (uint8_t)(i & 1 ? nib : nib << 4);
	}
	return (int)((n + 1) / 2);
raw:
	out[0] = 0xff;
	memcpy(out + 1, text, n);
	return (int)(n + 1);
}

int sdb_ix_unpack(const uint8_t *key, size_t len, char *out, size_t cap)
{
	static const char chars[13] = { 0, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'F', 'f' };
	size_t i, n = 0;

	if (!len || cap < SMSR_ICCID_MAX + 1)
		return -EIO;
	if (key[0] == 0xff) {
		if (len < 2 || len > SMSR_ICCID_MAX + 1 || memchr(key + 1, 0, len - 1))
			return -EIO;
		memcpy(out, key + 1, len - 1);
		out[len - 1] = '\0';
		return 0;
	}
	if (len > (SMSR_ICCID_MAX + 1) / 2)
		return -EIO;
	for (i = 0; i < 2 * len; i++) {
		uint8_t nib = i & 1 ? key[i / 2] & 0x0f : key[i / 2] >> 4;

		if (nib == 0 && i == 2 * len - 1)
			break;	/* pad */
		if (nib == 0 || nib > 12)
			return -EIO;
		out[n++] = chars[nib];
	}
	out[n] = '\0';
	return 0;
}

static int db_destructor(struct smsr_db *db)
{
	if (db->wtxn) {
		mdb_txn_abort(db->wtxn->txn);
		db->wtxn->txn = NULL;
		db->wtxn->db = NULL;
		db->wtxn = NULL;
	}
	if (db->group && mdb_txn_commit(db->group) != MDB_SUCCESS)
		abort();	/* writes that were answered for would be lost */
	db->group = NULL;
	if (db->group_ev)
		event_free(db->group_ev);
	if (db->rtxn)
		mdb_txn_abort(db->rtxn);
	if (db->env)
		mdb_env_close(db->env);
	return 0;
}

/*
 * Schema: numbered upgrade steps. steps[i] takes a store from version i to i + 1, inside the open
 * transaction; all databases of the current layout exist already (created at open).
 */

/* 0 -> 1: a store from before versioning (or a new one): the indexes are (re)built from the EIS records. */
static int step_1_indexes(struct sdb_w *w)
{
	return sdb_reindex(w);
}

static int (*const steps[SMSR_DB_SCHEMA_VERSION])(struct sdb_w *w) = {
	[0] = step_1_indexes,
};

static int read_schema(MDB_txn *t, MDB_dbi meta, unsigned *v)
{
	MDB_val val;
	int rc = sdb_get(t, meta, META_SCHEMA, sizeof(META_SCHEMA) - 1, &val);

	if (rc == -ENOENT) {
		*v = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (val.mv_size != 4)
		return -EIO;
	*v = (unsigned)sdb_get_be(val.mv_data, 4);
	return 0;
}

static int open_dbis(struct smsr_db *db, MDB_txn *t)
{
	static const struct {
		const char *name;
		size_t off;
	} dbis[] = {
		{ "eis", offsetof(struct smsr_db, eis) },
		{ "iccid2eid", offsetof(struct smsr_db, iccid) },
		{ "msisdn2eid", offsetof(struct smsr_db, msisdn) },
		{ "cntr", offsetof(struct smsr_db, cntr) },
		{ "journal", offsetof(struct smsr_db, journal) },
		{ "idem", offsetof(struct smsr_db, idem) },
	};
	unsigned i;
	int rc;

	for (i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
		rc = sdb_err(mdb_dbi_open(t, dbis[i].name, MDB_CREATE, (MDB_dbi *)((char *)db + dbis[i].off)));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Open the databases and bring the schema up to date, in one write transaction. */
static int setup(struct smsr_db *db)
{
	struct sdb_w w = { .db = db };
	uint8_t vbuf[4];
	unsigned v;
	int rc;

	rc = begin(db, 0, &w.t);
	if (rc < 0)
		return rc;
	if ((rc = sdb_err(mdb_dbi_open(w.t, "meta", MDB_CREATE, &db->meta))) < 0 ||
	    (rc = read_schema(w.t, db->meta, &v)) < 0)
		goto out;
	if (v > SMSR_DB_SCHEMA_VERSION) {
		rc = -EPROTONOSUPPORT;	/* written by newer code: touch nothing */
		goto out;
	}
	if ((rc = open_dbis(db, w.t)) < 0)
		goto out;
	for (; v < SMSR_DB_SCHEMA_VERSION; v++) {
		if ((rc = steps[v](&w)) < 0)
			goto out;
		sdb_put_be(vbuf, v + 1, 4);
		if ((rc = sdb_put(&w, db->meta, META_SCHEMA, sizeof(META_SCHEMA) - 1, vbuf, 4, 0)) < 0)
			goto out;
	}
	db->schema = v;
out:
	return sdb_wend(&w, rc);
}

int smsr_db_open(void *ctx, const char *dir, const struct smsr_db_cfg *cfg, struct smsr_db **out)
{
	static const struct smsr_db_cfg defaults;
	struct smsr_db *db;
	unsigned flags = MDB_NOTLS;
	int dead, rc;

	*out = NULL;
	if (!cfg)
		cfg = &defaults;
	db = talloc_zero(ctx, struct smsr_db);
	if (!db)
		return -ENOMEM;
	talloc_set_destructor(db, db_destructor);
	db->scratch_cap = 4096;
	db->scratch = talloc_array(db, uint8_t, db->scratch_cap);
	if (!db->scratch) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = sdb_err(mdb_env_create(&db->env))) < 0)
		goto fail;
	if ((rc = sdb_err(mdb_env_set_maxdbs(db->env, MAX_DBS))) < 0 ||
	    (rc = sdb_err(mdb_env_set_mapsize(db->env, cfg->map_size ? cfg->map_size : DEFAULT_MAP_SIZE))) < 0)
		goto fail;
	if (cfg->max_readers && (rc = sdb_err(mdb_env_set_maxreaders(db->env, cfg->max_readers))) < 0)
		goto fail;
	if (cfg->no_sync)
		flags |= MDB_NOSYNC;
	if ((rc = sdb_err(mdb_env_open(db->env, dir, flags, 0600))) < 0)
		goto fail;
	/* reader slots of processes that died (kill -9) would pin old pages forever */
	if ((rc = sdb_err(mdb_reader_check(db->env, &dead))) < 0)
		goto fail;
	if ((rc = setup(db)) < 0)
		goto fail;
	*out = db;
	return 0;

fail:
	talloc_free(db);	/* the destructor closes the environment */
	return rc;
}

void smsr_db_close(struct smsr_db **db)
{
	if (!db || !*db)
		return;
	talloc_free(*db);
	*db = NULL;
}

unsigned smsr_db_schema_version(const struct smsr_db *db)
{
	return db->schema;
}

static int txn_destructor(struct smsr_db_txn *txn)
{
	if (txn->txn)
		mdb_txn_abort(txn->txn);
	if (txn->db && txn->db->wtxn == txn)
		txn->db->wtxn = NULL;
	return 0;
}

int smsr_db_txn_begin(struct smsr_db *db, struct smsr_db_txn **out)
{
	struct smsr_db_txn *txn;
	int rc;

	*out = NULL;
	if (db->wtxn)
		return -EBUSY;
	txn = talloc_zero(db, struct smsr_db_txn);
	if (!txn)
		return -ENOMEM;
	txn->db = db;
	rc = begin_write(db, &txn->txn);
	if (rc < 0) {
		talloc_free(txn);
		return rc;
	}
	talloc_set_destructor(txn, txn_destructor);
	db->wtxn = txn;
	*out = txn;
	return 0;
}

int smsr_db_txn_commit(struct smsr_db_txn **ptxn)
{
	struct smsr_db_txn *txn = ptxn ? *ptxn : NULL;
	int rc;

	if (!txn)
		return -EINVAL;
	*ptxn = NULL;
	if (!txn->txn) {
		rc = -EIO;	/* the store was closed under it */
	} else if (txn->failed) {
		rc = -EIO;	/* the destructor aborts */
	} else {
		rc = sdb_err(mdb_txn_commit(txn->txn));
		txn->txn = NULL;	/* committed or (on failure) freed by LMDB */
	}
	talloc_free(txn);
	return rc;
}

void smsr_db_txn_abort(struct smsr_db_txn **ptxn)
{
	if (!ptxn || !*ptxn)
		return;
	talloc_free(*ptxn);
	*ptxn = NULL;
}

static void add_stat(MDB_txn *t, MDB_dbi dbi, size_t *pages, size_t *entries)
{
	MDB_stat ms;

	if (mdb_stat(t, dbi, &ms) != MDB_SUCCESS)
		return;
	*pages += ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages;
	if (entries)
		*entries += ms.ms_entries;
}

int smsr_db_stat(struct smsr_db *db, struct smsr_db_stat *st)
{
	MDB_envinfo info;
	MDB_stat es;
	MDB_txn *t;
	size_t dummy = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = sdb_err(mdb_env_stat(db->env, &es))) < 0 || (rc = sdb_err(mdb_env_info(db->env, &info))) < 0)
		return rc;
	st->page_size = es.ms_psize;
	st->map_size = info.me_mapsize;
	st->last_page = info.me_last_pgno;
	if ((rc = sdb_rbegin(db, NULL, &t)) < 0)
		return rc;
	add_stat(t, 0, &st->pages, NULL);	/* the main DB: the names of the others */
	add_stat(t, db->meta, &st->pages, NULL);
	add_stat(t, db->eis, &st->eis_pages, &st->eis_entries);
	add_stat(t, db->iccid, &st->index_pages, &dummy);
	add_stat(t, db->msisdn, &st->index_pages, &dummy);
	add_stat(t, db->cntr, &st->pages, NULL);
	add_stat(t, db->journal, &st->pages, NULL);
	add_stat(t, db->idem, &st->pages, NULL);
	st->pages += st->eis_pages + st->index_pages;
	sdb_rend(db, NULL);
	return 0;
}
