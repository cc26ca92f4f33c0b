/* The SM-SR store: consistency check (smsrd --db-check). Reports identifiers only, never record contents. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <talloc.h>
#include "proto/errors.h"
#include "proto/hex.h"
#include "smsr/db_priv.h"
#include "smsr/eis_codec.h"

struct check {
	struct smsr_db *db;
	MDB_txn *t;
	FILE *out;
	unsigned long problems;
	size_t n_eis, ok_iccid, ok_msisdn;
};

static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct check *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	if (!c->out)
		return;
	fputs("db-check: ", c->out);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

static const char *eid_hex(const void *eid, char buf[2 * SMSR_EID_LEN + 1])
{
	return proto_hex_encode(eid, SMSR_EID_LEN, buf);
}

/* index entry key -> must hold eid */
static int check_forward(struct check *c, MDB_dbi dbi, const char *what, const char *key, const uint8_t *eid,
			 size_t *ok)
{
	char h1[2 * SMSR_EID_LEN + 1], h2[2 * SMSR_EID_LEN + 1];
	uint8_t k[SDB_IX_MAX];
	int n = sdb_ix_pack(key, k), rc;
	MDB_val v;

	if (n < 0) {
		problem(c, "EIS %s: %s %s cannot be a key", eid_hex(eid, h1), what, key);
		return 0;
	}
	rc = sdb_get(c->t, dbi, k, (size_t)n, &v);
	if (rc == -ENOENT) {
		problem(c, "EIS %s: %s %s has no index entry", eid_hex(eid, h1), what, key);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (v.mv_size != SMSR_EID_LEN || memcmp(v.mv_data, eid, SMSR_EID_LEN)) {
		problem(c, "EIS %s: %s %s index entry points to %s", eid_hex(eid, h1), what, key,
			v.mv_size == SMSR_EID_LEN ? eid_hex(v.mv_data, h2) : "(bad length)");
		return 0;
	}
	(*ok)++;
	return 0;
}

static int check_eis(struct check *c)
{
	char h[2 * SMSR_EID_LEN + 1];
	void *tmp = talloc_new(NULL);
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	unsigned i;
	int rc, mrc;

	if (!tmp)
		return -ENOMEM;
	if ((rc = sdb_err(mdb_cursor_open(c->t, c->db->eis, &cur))) < 0)
		goto out;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct smsr_eis *e;
		struct sdb_keys ks;

		talloc_free_children(tmp);
		c->n_eis++;
		if (k.mv_size != SMSR_EID_LEN) {
			problem(c, "eis record with a key of %zu bytes", k.mv_size);
			continue;
		}
		rc = smsr_eis_decode_record(tmp, k.mv_data, v.mv_data, v.mv_size, &e);
		if (rc == -ENOMEM)
			goto out;
		if (rc < 0) {
			problem(c, "EIS %s: record does not decode (%s)", eid_hex(k.mv_data, h), proto_strerror(rc));
			continue;
		}
		if ((rc = sdb_eis_keys(tmp, e, &ks)) == -EINVAL) {
			problem(c, "EIS %s: a profile without ICCID or a repeated ICCID", eid_hex(k.mv_data, h));
		} else if (rc < 0) {
			goto out;
		} else {
			for (i = 0; i < ks.n_iccid; i++) {
				if ((rc = check_forward(c, c->db->iccid, "ICCID", ks.iccid[i], k.mv_data,
							&c->ok_iccid)) < 0)
					goto out;
			}
			for (i = 0; i < ks.n_msisdn; i++) {
				if ((rc = check_forward(c, c->db->msisdn, "MSISDN", ks.msisdn[i], k.mv_data,
							&c->ok_msisdn)) < 0)
					goto out;
			}
		}
	}
	rc = sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
out:
	if (cur)
		mdb_cursor_close(cur);
	talloc_free(tmp);
	return rc;
}

/* Index entries not accounted for by the forward pass: dangling or stale ones. The forward pass verified
 * `ok` distinct (key, EID) pairs; with unique keys the index is clean iff it has exactly that many entries, so
 * the (slow) reverse walk only runs when the counts differ. */
static int check_reverse(struct check *c, MDB_dbi dbi, const char *what, size_t ok, bool iccid)
{
	char h[2 * SMSR_EID_LEN + 1], key[32];
	void *tmp;
	MDB_cursor *cur = NULL;
	MDB_stat ms;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = sdb_err(mdb_stat(c->t, dbi, &ms))) < 0)
		return rc;
	if (ms.ms_entries == ok)
		return 0;
	if (!(tmp = talloc_new(NULL)))
		return -ENOMEM;
	if ((rc = sdb_err(mdb_cursor_open(c->t, dbi, &cur))) < 0)
		goto out;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct smsr_eis *e;
		MDB_val ev;
		bool found;

		talloc_free_children(tmp);
		if (sdb_ix_unpack(k.mv_data, k.mv_size, key, sizeof(key)) < 0) {
			problem(c, "%s index: invalid key of %zu bytes", what, k.mv_size);
			continue;
		}
		if (v.mv_size != SMSR_EID_LEN) {
			problem(c, "%s %s: index value of %zu bytes", what, key, v.mv_size);
			continue;
		}
		rc = sdb_get(c->t, c->db->eis, v.mv_data, SMSR_EID_LEN, &ev);
		if (rc == -ENOENT) {
			problem(c, "%s %s: index points to missing EIS %s", what, key, eid_hex(v.mv_data, h));
			continue;
		}
		if (rc < 0)
			goto out;
		if (smsr_eis_decode_record(tmp, v.mv_data, ev.mv_data, ev.mv_size, &e) < 0)
			continue;	/* reported by the forward pass */
		if (iccid)
			found = smsr_eis_profile_by_iccid(e, key) != NULL;
		else {
			found = !strcmp(e->isdr_msisdn, key);
			for (unsigned i = 0; !found && i < e->n_profiles; i++)
				found = !strcmp(e->profiles[i].msisdn, key);
		}
		if (!found)
			problem(c, "%s %s: index points to EIS %s, which does not hold it", what, key,
				eid_hex(v.mv_data, h));
	}
	rc = sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
out:
	if (cur)
		mdb_cursor_close(cur);
	talloc_free(tmp);
	return rc;
}

static int check_journal(struct check *c, uint64_t op_seq)
{
	MDB_cursor *cur = NULL;
	struct op_view ov;
	MDB_val k, v, iv;
	uint64_t id;
	int rc, mrc;

	if ((rc = sdb_err(mdb_cursor_open(c->t, c->db->journal, &cur))) < 0)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			problem(c, "journal record with a key of %zu bytes", k.mv_size);
			continue;
		}
		id = sdb_get_be(k.mv_data, 8);
		if (id > op_seq)
			problem(c, "operation %llu: above the last id handed out (%llu)", (unsigned long long)id,
				(unsigned long long)op_seq);
		if (sdb_op_parse(v.mv_data, v.mv_size, &ov) < 0) {
			problem(c, "operation %llu: record does not parse", (unsigned long long)id);
			continue;
		}
		if (!ov.idem_len)
			continue;
		rc = sdb_get(c->t, c->db->idem, ov.idem, ov.idem_len, &iv);
		if (rc == -ENOENT) {
			problem(c, "operation %llu: no idempotency entry", (unsigned long long)id);
			continue;
		}
		if (rc < 0)
			goto out;
		if (iv.mv_size != 8 || memcmp(iv.mv_data, k.mv_data, 8))
			problem(c, "operation %llu: idempotency entry points elsewhere", (unsigned long long)id);
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (mrc != MDB_NOTFOUND) {
		rc = sdb_err(mrc);
		goto out;
	}

	/* idem -> journal */
	if ((rc = sdb_err(mdb_cursor_open(c->t, c->db->idem, &cur))) < 0)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size != 8) {
			problem(c, "idempotency entry with a value of %zu bytes", v.mv_size);
			continue;
		}
		id = sdb_get_be(v.mv_data, 8);
		rc = sdb_get(c->t, c->db->journal, v.mv_data, 8, &iv);
		if (rc == -ENOENT) {
			problem(c, "idempotency entry points to missing operation %llu", (unsigned long long)id);
			continue;
		}
		if (rc < 0)
			goto out;
		if (sdb_op_parse(iv.mv_data, iv.mv_size, &ov) < 0)
			continue;	/* reported above */
		if (ov.idem_len != k.mv_size || memcmp(ov.idem, k.mv_data, k.mv_size))
			problem(c, "idempotency entry for operation %llu: the operation has another key",
				(unsigned long long)id);
	}
	rc = sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
out:
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

static int check_cntr(struct check *c)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = sdb_err(mdb_cursor_open(c->t, c->db->cntr, &cur))) < 0)
		return rc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == MDB_SUCCESS;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != SMSR_EID_LEN + 1 || v.mv_size != 8 || sdb_get_be(v.mv_data, 8) > SMSR_DB_CNTR_MAX)
			problem(c, "counter record with a %zu-byte key / %zu-byte value out of range", k.mv_size,
				v.mv_size);
	}
	rc = sdb_err(mrc == MDB_NOTFOUND ? MDB_SUCCESS : mrc);
	mdb_cursor_close(cur);
	return rc;
}

static int check_meta(struct check *c, uint64_t *op_seq)
{
	MDB_val v;
	int rc = sdb_get(c->t, c->db->meta, "schema", 6, &v);

	if (rc == -ENOENT || (rc == 0 && v.mv_size != 4))
		problem(c, "meta: no valid schema version");
	else if (rc < 0)
		return rc;
	else if (sdb_get_be(v.mv_data, 4) != SMSR_DB_SCHEMA_VERSION)
		problem(c, "meta: schema version %llu, this code expects %d",
			(unsigned long long)sdb_get_be(v.mv_data, 4), SMSR_DB_SCHEMA_VERSION);
	*op_seq = 0;
	rc = sdb_get(c->t, c->db->meta, "op_seq", 6, &v);
	if (rc == 0 && v.mv_size == 8)
		*op_seq = sdb_get_be(v.mv_data, 8);
	else if (rc == 0)
		problem(c, "meta: op_seq of %zu bytes", v.mv_size);
	else if (rc != -ENOENT)
		return rc;
	return 0;
}

int smsr_db_check(struct smsr_db *db, FILE *report)
{
	struct check c = { .db = db, .out = report };
	uint64_t op_seq;
	int rc;

	if ((rc = sdb_rbegin(db, NULL, &c.t)) < 0)
		return rc;
	if ((rc = check_meta(&c, &op_seq)) < 0 || (rc = check_eis(&c)) < 0 ||
	    (rc = check_reverse(&c, db->iccid, "ICCID", c.ok_iccid, true)) < 0 ||
	    (rc = check_reverse(&c, db->msisdn, "MSISDN", c.ok_msisdn, false)) < 0 ||
	    (rc = check_journal(&c, op_seq)) < 0 || (rc = check_cntr(&c)) < 0)
		goto out;
	if (report)
		fprintf(report, "db-check: schema %u, %zu EIS, %zu ICCID and %zu MSISDN index entries verified, "
			"%lu problem(s)\n", db->schema, c.n_eis, c.ok_iccid, c.ok_msisdn, c.problems);
	rc = c.problems > INT32_MAX ? INT32_MAX : (int)c.problems;
out:
	sdb_rend(db, NULL);
	return rc;
}
