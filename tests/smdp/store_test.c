/* The SM-DP's preparation layer: configuration, the LMDB store (templates, ICCID pools, order journal, persistence
 * across a reopen) and SAIP packages (check, in-place personalisation, test templates, malformed input). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "testlib.h"
#include "smdp/config.h"
#include "smdp/db.h"
#include "smdp/saip.h"
#include "proto/bertlv.h"

static void test_config(void)
{
	static const char good[] = "[es3]\ncurve-public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
				   "smsr-public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
				   "curve-secret-key-file = /x\n"
				   "[requester mno1]\nentity-id = 1.2.3\nrole = mno\ntls-subject = CN=mno1\n";
	static const struct {
		const char *extra, *want;
	} bad[] = {
		{"[download]\nkey-usage = 11\n", "key-usage must be 10 or 5C"},
		{"[download]\nsegment-size = 5000\n", "segment-size"},
		{"[es3]\nendpoint = ipc://x\n", "not tcp://"},
		{"[requester x]\nentity-id = 1.2\nrole = smdp\ntls-subject = CN=x\n", "role must be mno"},
		{"[smdp]\nentity-id = one\n", "not an OID"},
	};
	struct smdp_config c;
	char err[256], text[1024];
	unsigned i;

	CHECK_RC(smdp_config_parse(&c, "t", good, err, sizeof(err)), 0);
	CHECK_RC(smdp_config_validate(&c, err, sizeof(err)), 0);
	CHECK(c.n_requesters == 1 && c.segment_size == 1020 && c.es3_resend_ms == 5000 && !strcmp(c.kvn, "30"),
	      "defaults and the requester");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", good, bad[i].extra);
		err[0] = '\0';
		CHECK(smdp_config_parse(&c, "t", text, err, sizeof(err)) == 0 &&
			      smdp_config_validate(&c, err, sizeof(err)) == -EINVAL && strstr(err, bad[i].want),
		      "bad %u: '%s'", i, err);
	}
	CHECK(smdp_config_parse(&c, "t", "[nosuch]\n", err, sizeof(err)) == -EINVAL && strstr(err, "t:1"),
	      "unknown section with its line");
	/* the shipped example is valid */
	if (getenv("EXAMPLES_DIR")) {
		char path[512];
		snprintf(path, sizeof(path), "%s/smdpd.conf", getenv("EXAMPLES_DIR"));
		CHECK(smdp_config_load(&c, path, err, sizeof(err)) == 0 &&
			      smdp_config_validate(&c, err, sizeof(err)) == 0,
		      "doc/examples/smdpd.conf: %s", err);
	}
}

static void test_saip(void)
{
	void *ctx = talloc_new(NULL);
	static const uint8_t ki[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				       0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00};
	static const uint8_t opc[16] = {0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5,
					0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5};
	struct smdp_saip_perso p = {.iccid = "8949000000000000110", .imsi = "262011234567890", .ki = ki, .opc = opc};
	struct smdp_saip_info info;
	uint8_t *pkg, *copy, iccid[10];
	size_t len;
	char why[256];
	int rc;

	CHECK_RC(smdp_saip_build_test(ctx, 16384, "M2M-16K", &pkg, &len), 0);
	CHECK(len >= 16000 && len <= 16600, "template of %zu bytes", len);
	CHECK_RC(smdp_saip_check(pkg, len, &info, why, sizeof(why)), 0);
	CHECK(!strcmp(info.profile_type, "M2M-16K") && info.n_pe >= 6, "type %s, %u PEs", info.profile_type, info.n_pe);
	copy = talloc_memdup(ctx, pkg, len);
	CHECK_RC(smdp_saip_personalise(copy, len, &p), 0);
	CHECK_RC(smdp_saip_check(copy, len, &info, why, sizeof(why)), 0);
	CHECK(!strcmp(info.iccid, "8949000000000000110"), "ICCID %s in the header", info.iccid);
	CHECK_RC(smdp_saip_iccid_encode("8949000000000000110", iccid), 0);
	CHECK_HEX(iccid, 10, "989400000000000011f0", "ICCID swapped BCD, F-padded");
	/* the exact bytes at the placeholders: ef-imsi and the Milenage key/opc */
	{
		struct proto_tlv t;
		CHECK(proto_tlv_find(copy, len, 0xB3, &t) == 1, "usim PE");
		CHECK(memmem(t.val, t.len, "\x83\x09\x08\x29\x26\x10\x21\x43\x65\x87\x09", 11) != NULL,
		      "EF-IMSI 08 29 26 10 21 43 65 87 09 (parity 9, swapped digits)");
		CHECK(proto_tlv_find(copy, len, 0xA4, &t) == 1 && memmem(t.val, t.len, ki, 16) &&
			      memmem(t.val, t.len, opc, 16),
		      "Ki and OPc in akaParameter");
		CHECK(memmem(copy, len, ki, 16) == memmem(t.val, t.len, ki, 16), "Ki nowhere else");
	}
	CHECK(memcmp(pkg, copy, len) != 0 && smdp_saip_personalise(copy, len, &p) == 0, "personalised again");
	/* refused: no placeholder, bad digits, malformed packages */
	{
		static const uint8_t no_aka[] = {0xA0, 0x0C, 0x83, 0x0A, 0x98, 0,    0,	   0,
						 0,    0,    0,	   0,	 0,    0xF0, 0xAA, 0x00};
		uint8_t m[sizeof(no_aka)];
		memcpy(m, no_aka, sizeof(m));
		CHECK_RC(smdp_saip_check(m, sizeof(m), &info, why, sizeof(why)), 0);
		CHECK_RC(smdp_saip_personalise(m, sizeof(m), &p), -ENOENT);
		CHECK(!memcmp(m, no_aka, sizeof(m)), "a template lacking placeholders is left untouched");
		p.imsi = "26201x";
		CHECK_RC(smdp_saip_personalise(copy, len, &p), -EINVAL);
		p.imsi = "262011234567890";
		CHECK(smdp_saip_check(pkg, len - 1, &info, why, sizeof(why)) < 0, "truncated: %s", why);
		CHECK(smdp_saip_check(pkg + 2, len - 2, &info, why, sizeof(why)) < 0, "no header: %s", why);
		memcpy(m, no_aka, sizeof(m));
		m[sizeof(m) - 2] = 0xA1;
		CHECK(smdp_saip_check(m, sizeof(m), &info, why, sizeof(why)) < 0 && strstr(why, "end"), "no end PE");
		memcpy(m, no_aka, sizeof(m));
		m[3] = 0x09;
		CHECK(smdp_saip_check(m, sizeof(m), &info, why, sizeof(why)) < 0, "inner DER broken: %s", why);
	}
	CHECK(smdp_saip_required_memory(16384) == 18432 && smdp_saip_required_memory(1000) == 2048, "RequiredMemory");
	rc = smdp_saip_build_test(ctx, 2 << 20, "x", &pkg, &len);
	CHECK(rc == -EINVAL, "2 MiB template refused");
	talloc_free(ctx);
}

static int count_orders(void *data, uint64_t id, const uint8_t *rec, size_t len)
{
	(*(unsigned *)data)++;
	return len == 3 && !memcmp(rec, "abc", 3) ? 0 : -EIO;
}

static void test_db(void)
{
	void *ctx = talloc_new(NULL);
	char dir[] = "/tmp/smdp_store_test.XXXXXX";
	struct smdp_db *db;
	struct smdp_pool_rec recs[3] = {0}, r;
	uint64_t counts[3], id, id2, mem;
	uint8_t *pkg;
	size_t len;
	unsigned bad, n = 0, i;
	char cmd[128];

	if (!mkdtemp(dir)) {
		CHECK(0, "temp dir");
		return;
	}
	CHECK_RC(smdp_db_open(ctx, dir, 16 << 20, &db), 0);
	CHECK_RC(smdp_db_profile_put(db, "1.2.3", "T1", (const uint8_t *)"PKG1", 4, 1024, false), 0);
	CHECK_RC(smdp_db_profile_put(db, "1.2.3", "T1", (const uint8_t *)"PKG2", 4, 1024, false), -EEXIST);
	CHECK_RC(smdp_db_profile_put(db, "1.2.3", "T1", (const uint8_t *)"PKG2", 4, 2048, true), 0);
	CHECK(smdp_db_profile_get(db, ctx, "1.2.3", "T1", &pkg, &len, &mem) == 0 && len == 4 &&
		      !memcmp(pkg, "PKG2", 4) && mem == 2048,
	      "template replaced");
	CHECK_RC(smdp_db_profile_get(db, ctx, "1.2.4", "T1", &pkg, &len, &mem), -ENOENT);
	for (i = 0; i < 3; i++) {
		snprintf(recs[i].iccid, sizeof(recs[i].iccid), "894900000000000010%u", i);
		snprintf(recs[i].imsi, sizeof(recs[i].imsi), "26201000000000%u", i);
		recs[i].ki_len = recs[i].opc_len = 45;
		memset(recs[i].ki, 0x10 + (int)i, 45);
	}
	CHECK_RC(smdp_db_pool_add(db, "T1", recs, 2, &bad), 0);
	CHECK(smdp_db_pool_add(db, "T1", recs + 1, 2, &bad) == -EEXIST && bad == 0, "duplicate ICCID refused");
	CHECK(smdp_db_pool_count(db, "T1", counts) == 0 && counts[0] == 2 && counts[1] == 0, "2 free (not 3)");
	CHECK(smdp_db_pool_take(db, "T1", "", 7, &r) == 0 && !strcmp(r.iccid, recs[0].iccid) &&
		      !strcmp(r.imsi, recs[0].imsi) && r.ki_len == 45 && r.ki[0] == 0x10,
	      "order 7 takes the first free record");
	CHECK(smdp_db_pool_take(db, "T1", "", 7, &r) == 0 && !strcmp(r.iccid, recs[0].iccid), "idempotent per order");
	CHECK_RC(smdp_db_pool_take(db, "T1", recs[0].iccid, 8, &r), -EBUSY);
	CHECK_RC(smdp_db_pool_take(db, "T2", "", 8, &r), -ENOSPC);
	CHECK_RC(smdp_db_pool_take(db, "T1", "8949000000000000999", 8, &r), -ENOENT);
	CHECK(smdp_db_pool_take(db, "T1", "", 8, &r) == 0 && !strcmp(r.iccid, recs[1].iccid), "order 8 the second");
	CHECK_RC(smdp_db_pool_take(db, "T1", "", 9, &r), -ENOSPC);
	CHECK_RC(smdp_db_pool_finish(db, 8, false), 0);
	CHECK_RC(smdp_db_pool_finish(db, 7, true), 0);
	CHECK_RC(smdp_db_pool_finish(db, 7, true), -ENOENT);
	CHECK(smdp_db_pool_count(db, NULL, counts) == 0 && counts[0] == 1 && counts[1] == 0 && counts[2] == 1,
	      "1 free again, 1 used");
	CHECK(smdp_db_pool_take(db, "T1", "", 9, &r) == 0 && !strcmp(r.iccid, recs[1].iccid), "the freed one again");
	CHECK(smdp_db_next_id(db, &id) == 0 && smdp_db_next_id(db, &id2) == 0 && id2 == id + 1, "ids");
	CHECK_RC(smdp_db_order_create(db, id, "1.2.3", "fc-1", (const uint8_t *)"abc", 3), 0);
	CHECK_RC(smdp_db_order_create(db, id2, "1.2.3", "fc-1", (const uint8_t *)"abc", 3), -EEXIST);
	CHECK_RC(smdp_db_order_create(db, id2, "1.2.4", "fc-1", (const uint8_t *)"abc", 3), 0);
	CHECK(smdp_db_order_by_fcid(db, "1.2.3", "fc-1", &mem) == 0 && mem == id, "FCID index");
	CHECK_RC(smdp_db_order_by_fcid(db, "1.2.3", "fc-2", &mem), -ENOENT);
	/* everything is there after a reopen */
	talloc_free(db);
	CHECK_RC(smdp_db_open(ctx, dir, 16 << 20, &db), 0);
	CHECK(smdp_db_order_foreach(db, count_orders, &n) == 0 && n == 2, "2 orders after reopen");
	CHECK(smdp_db_pool_count(db, "T1", counts) == 0 && counts[1] == 1 && counts[2] == 1, "pool after reopen");
	CHECK(smdp_db_pool_take(db, "T1", "", 9, &r) == 0 && !strcmp(r.iccid, recs[1].iccid), "reservation kept");
	talloc_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0, "cleanup");
}

int main(void)
{
	test_config();
	test_saip();
	test_db();
	TEST_DONE();
}
