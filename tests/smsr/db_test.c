/* smsr/db, smsr/eis_codec, smsr/eis and ota/keystore_wrap: codec round trips and corrupt input, the LMDB store
 * (indexes, duplicates, counters, journal, idempotency, schema, db_check, kill -9), and key wrapping at rest. */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <lmdb.h>
#include <talloc.h>
#include <event2/event.h>
#include "tests/testlib.h"
#include "proto/buf.h"
#include "proto/errors.h"
#include "ota/keystore.h"
#include "ota/keystore_wrap.h"
#include "smsr/eis.h"
#include "smsr/eis_codec.h"
#include "smsr/db.h"
#include "smsr/db_priv.h"	/* white box: index key packing */

static char tmpdir[256];

/* a fresh empty directory under tmpdir */
static const char *newdir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		perror(path);
	return path;
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void eid_of(uint8_t eid[16], unsigned n)
{
	memset(eid, 0, 16);
	eid[0] = 0x89;
	eid[1] = 0x04;
	eid[12] = (uint8_t)(n >> 24);
	eid[13] = (uint8_t)(n >> 16);
	eid[14] = (uint8_t)(n >> 8);
	eid[15] = (uint8_t)n;
}

static void set_aid(struct smsr_aid *a, uint8_t last)
{
	static const uint8_t base[16] = { 0xa0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xff,
					  0xff, 0xff, 0xff, 0x89, 0x00, 0x00, 0x10, 0x00 };

	memcpy(a->b, base, 16);
	a->b[15] = last;
	a->len = 16;
}

static void fill_sd(struct smsr_eis *e, struct smsr_sd *sd, enum smsr_sd_role role, unsigned seed)
{
	unsigned i, j, k;

	set_aid(&sd->aid, role == SMSR_SD_ISDR ? 0x01 : 0x02);
	sd->n_tars = 2;
	sd->tars = talloc_zero_size(e, 2 * sizeof(*sd->tars));
	sd->tars[0][0] = 0x00;
	sd->tars[0][1] = 0x00;
	sd->tars[0][2] = 0x01;
	sd->tars[1][0] = 0xb0;
	sd->tars[1][1] = 0x00;
	sd->tars[1][2] = (uint8_t)seed;
	sd->sin_len = 4;
	memcpy(sd->sin, "\x01\x02\x03\x04", 4);
	sd->sdin_len = 16;
	memset(sd->sdin, 0x5a, 16);
	sd->role = role;
	sd->n_keysets = 2;
	sd->keysets = talloc_zero_array(e, struct smsr_keyset, 2);
	for (i = 0; i < 2; i++) {
		struct smsr_keyset *ks = &sd->keysets[i];

		ks->version = (uint8_t)(1 + i);
		ks->type = i ? SMSR_KEYSET_SCP80 : SMSR_KEYSET_SCP81;
		ks->cntr = i ? 0x1234567890ull : 7;
		ks->n_keys = 3;
		ks->keys = talloc_zero_array(e, struct smsr_key, 3);
		for (j = 0; j < 3; j++) {
			struct smsr_key *key = &ks->keys[j];

			key->index = (uint8_t)(j + 1);
			key->kcv_len = 3;
			key->kcv[0] = (uint8_t)seed;
			key->kcv[1] = (uint8_t)j;
			key->kcv[2] = 0xcc;
			key->n_comp = j == 2 ? 2 : 1;
			key->comp = talloc_zero_array(e, struct smsr_key_component, key->n_comp);
			for (k = 0; k < key->n_comp; k++) {
				key->comp[k].type = 0x88;
				key->comp[k].wrapped_len = 45;
				key->comp[k].wrapped = talloc_size(e, 45);
				for (unsigned b = 0; b < 45; b++)
					key->comp[k].wrapped[b] = (uint8_t)(seed * 7 + b + j);
			}
		}
		ks->n_certs = 1;
		ks->certs = talloc_zero_array(e, struct smsr_certificate, 1);
		ks->certs[0].index = 1;
		ks->certs[0].ca_id = talloc_strdup(e, "1.3.6.1.4.1.31746.1.2");
		ks->certs[0].len = 40;
		ks->certs[0].value = talloc_zero_size(e, 40);
		ks->certs[0].value[0] = 0x7f;
		ks->certs[0].value[1] = 0x21;
	}
}

/* A fully populated EIS: every optional field present. n selects the EID, ICCIDs and MSISDNs. */
static struct smsr_eis *full_eis(void *ctx, unsigned n)
{
	struct smsr_eis *e = talloc_zero(ctx, struct smsr_eis);
	unsigned i;

	eid_of(e->eid, n);
	e->eum_id = talloc_strdup(e, "1.3.6.1.4.1.31746.1");
	e->production_date = talloc_strdup(e, "2026-11-22T06:00:00Z");
	e->platform_type = talloc_strdup(e, "M2M eUICC ACME-7");
	e->platform_version = talloc_strdup(e, "3.1.0");
	set_aid(&e->isdp_loadfile_aid, 0xd0);
	set_aid(&e->isdp_module_aid, 0xe0);
	e->isdp_module_aid.b[11] = 0x88;	/* not under the SGP.02 prefix: stored in full */
	fill_sd(e, &e->ecasd, SMSR_SD_ECASD, n);
	e->cattp_support = true;
	e->cattp_version = talloc_strdup(e, "1.0.0");
	e->http_support = true;
	e->http_version = talloc_strdup(e, "1.1.0");
	e->secure_packet_version = talloc_strdup(e, "9.2.0");
	e->remote_provisioning_version = talloc_strdup(e, "3.1.0");
	e->signed_info_xml = talloc_strdup(e, "<EumSignedInfo xmlns=\"x\"><Eid>89</Eid></EumSignedInfo>");
	e->signature_xml = talloc_strdup(e, "<ds:Signature>...</ds:Signature>");
	e->remaining_memory = 123456;
	e->available_memory = 0x1ffffffffull;
	e->last_audit_date = talloc_strdup(e, "2027-01-02T03:04:05.678Z");
	e->smsr_id = talloc_strdup(e, "1.3.6.1.4.1.99999.2");
	e->n_profiles = 3;
	e->profiles = talloc_zero_array(e, struct smsr_profile, 3);
	for (i = 0; i < 3; i++) {
		struct smsr_profile *p = &e->profiles[i];

		snprintf(p->iccid, sizeof(p->iccid), "89%05u%012u", i, n);
		set_aid(&p->isdp_aid, (uint8_t)(0x10 + i));
		p->mno_id = talloc_asprintf(e, "1.3.6.1.4.1.1000%u", i);
		p->fallback = i == 1;
		snprintf(p->imsi, sizeof(p->imsi), "2620%u%010u", i, n);
		snprintf(p->msisdn, sizeof(p->msisdn), "49%u%09u", 170 + i, n);
		p->state = i == 0 ? SMSR_PROFILE_ENABLED : i == 1 ? SMSR_PROFILE_DISABLED : SMSR_PROFILE_CREATED;
		p->smdp_id = talloc_strdup(e, "1.3.6.1.4.1.5555.1");
		p->profile_type = talloc_strdup(e, "3G_16K");
		p->allocated_memory = 16384 * (i + 1);
		p->has_free_memory = true;
		p->free_memory = i;	/* 0 for the first: present-but-zero */
		p->n_pol2 = 3;
		p->pol2 = talloc_zero_array(e, struct smsr_pol2_rule, 3);
		p->pol2[0] = (struct smsr_pol2_rule){ SMSR_POL2_DISABLE, SMSR_POL2_NOT_ALLOWED };
		p->pol2[1] = (struct smsr_pol2_rule){ SMSR_POL2_DELETE, SMSR_POL2_NOT_ALLOWED };
		p->pol2[2] = (struct smsr_pol2_rule){ SMSR_POL2_DISABLE, SMSR_POL2_AUTO_DELETE };
	}
	/* an ICCID with the padding character F (ICCIDType allows it): stored as raw text */
	e->profiles[2].iccid[19] = 'F';
	fill_sd(e, &e->isdr, SMSR_SD_ISDR, n + 1);
	e->n_audit = 2;
	e->audit = talloc_zero_array(e, struct smsr_audit_record, 2);
	for (i = 0; i < 2; i++) {
		struct smsr_audit_record *r = &e->audit[i];

		r->operation_date = talloc_strdup(e, "2026-12-01T10:00:00Z");
		r->operation_type = i ? 0x0200 : 0x0002;
		r->requester_id = talloc_strdup(e, "1.3.6.1.4.1.10000");
		r->status = i ? SMSR_EXEC_FAILED : SMSR_EXEC_SUCCESS;	/* SUCCESS = 0: present-but-zero */
		set_aid(&r->isdp_aid, 0x10);
		if (i) {
			static const uint8_t short_aid[5] = { 0xa0, 0x00, 0x00, 0x00, 0x87 };

			memcpy(r->isdp_aid.b, short_aid, 5);	/* 5 bytes: AIDType minimum */
			r->isdp_aid.len = 5;
		}
		snprintf(r->iccid, sizeof(r->iccid), "%s", e->profiles[0].iccid);
		r->imei_len = 8;
		memcpy(r->imei, "\x35\x12\x34\x56\x78\x90\x12\x30", 8);
		r->meid_len = 7;
		memcpy(r->meid, "\xa1\x00\x00\x00\x12\x34\x56", 7);
	}
	e->n_props = 2;
	e->props = talloc_zero_array(e, struct smsr_property, 2);
	e->props[0].key = talloc_strdup(e, "vendor");
	e->props[0].value = talloc_strdup(e, "");	/* present but empty */
	e->props[1].key = talloc_strdup(e, "hw.rev");
	e->props[1].value = talloc_strdup(e, "B-2");
	snprintf(e->isdr_msisdn, sizeof(e->isdr_msisdn), "%s", e->profiles[0].msisdn);
	e->has_notif_seq = true;
	e->last_notif_seq = 0;	/* present-but-zero */
	e->imei_len = 8;
	memcpy(e->imei, "\x35\x12\x34\x56\x78\x90\x12\x30", 8);
	e->last_attach = talloc_strdup(e, "2026-12-01T09:59:58+01:00");
	e->handover_pending = true;
	return e;
}

/* A small EIS like the ES1 benchmark's: 2 profiles, ISD-R keyset with 3 keys. */
static struct smsr_eis *small_eis(void *ctx, unsigned n)
{
	struct smsr_eis *e = full_eis(ctx, n);

	e->n_profiles = 2;
	e->n_audit = 0;
	e->n_props = 0;
	e->signed_info_xml = e->signature_xml = NULL;
	e->ecasd.n_keysets = 1;
	e->isdr.n_keysets = 1;
	return e;
}

/* Clear optional field i of e (talloc children are left allocated). false when i is past the last field. */
static bool clear_field(struct smsr_eis *e, unsigned i)
{
	/* first elements (arrays stay allocated when their counts are cleared) */
	struct smsr_profile *p = e->profiles;
	struct smsr_keyset *ks = e->isdr.keysets;
	struct smsr_audit_record *r = e->audit;

	switch (i) {
	case 0: e->eum_id = NULL; break;
	case 1: e->production_date = NULL; break;
	case 2: e->platform_type = NULL; break;
	case 3: e->platform_version = NULL; break;
	case 4: e->isdp_loadfile_aid.len = 0; break;
	case 5: e->isdp_module_aid.len = 0; break;
	case 6: memset(&e->ecasd, 0, sizeof(e->ecasd)); break;
	case 7: e->cattp_support = false; break;
	case 8: e->cattp_version = NULL; break;
	case 9: e->http_support = false; break;
	case 10: e->http_version = NULL; break;
	case 11: e->secure_packet_version = NULL; break;
	case 12: e->remote_provisioning_version = NULL; break;
	case 13: e->signed_info_xml = NULL; break;
	case 14: e->signature_xml = NULL; break;
	case 15: e->remaining_memory = 0; break;
	case 16: e->available_memory = 0; break;
	case 17: e->last_audit_date = NULL; break;
	case 18: e->smsr_id = NULL; break;
	case 19: e->n_profiles = 0; break;
	case 20: memset(&e->isdr, 0, sizeof(e->isdr)); break;
	case 21: e->n_audit = 0; break;
	case 22: e->n_props = 0; break;
	case 23: e->isdr_msisdn[0] = 0; break;
	case 24: e->has_notif_seq = false; break;
	case 25: e->imei_len = 0; break;
	case 26: e->last_attach = NULL; break;
	case 27: e->handover_pending = false; break;
	case 28: p->isdp_aid.len = 0; break;
	case 29: p->mno_id = NULL; break;
	case 30: p->fallback = false; p = &e->profiles[1]; p->fallback = false; break;
	case 31: p->imsi[0] = 0; break;
	case 32: p->msisdn[0] = 0; break;
	case 33: p->state = SMSR_PROFILE_CREATED; break;
	case 34: p->smdp_id = NULL; break;
	case 35: p->profile_type = NULL; break;
	case 36: p->allocated_memory = 0; break;
	case 37: p->has_free_memory = false; break;
	case 38: p->n_pol2 = 0; break;
	case 39: p->iccid[0] = 0; break;
	case 40: e->isdr.n_tars = 0; break;
	case 41: e->isdr.sin_len = 0; break;
	case 42: e->isdr.sdin_len = 0; break;
	case 43: e->isdr.role = SMSR_SD_ISDR; e->ecasd.role = SMSR_SD_ISDR; break;
	case 44: e->isdr.n_keysets = 0; break;
	case 45: ks->version = 0; break;
	case 46: ks->type = SMSR_KEYSET_UNSPECIFIED; break;
	case 47: ks->cntr = 0; break;
	case 48: ks->n_keys = 0; break;
	case 49: ks->n_certs = 0; break;
	case 50: ks->keys[0].index = 0; break;
	case 51: ks->keys[0].kcv_len = 0; break;
	case 52: ks->keys[0].n_comp = 0; break;
	case 53: ks->keys[0].comp[0].wrapped = NULL; ks->keys[0].comp[0].wrapped_len = 0; break;
	case 54: ks->keys[0].comp[0].type = 0; break;
	case 55: ks->certs[0].index = 0; break;
	case 56: ks->certs[0].ca_id = NULL; break;
	case 57: ks->certs[0].value = NULL; ks->certs[0].len = 0; break;
	case 58: r->operation_date = NULL; break;
	case 59: r->operation_type = 0; break;
	case 60: r->requester_id = NULL; break;
	case 61: r->status = -1; break;
	case 62: r->isdp_aid.len = 0; break;
	case 63: r->iccid[0] = 0; break;
	case 64: r->imei_len = 0; break;
	case 65: r->meid_len = 0; break;
	case 66: e->props[0].key = NULL; break;
	case 67: e->props[0].value = NULL; break;
	case 68: e->props[1].value = talloc_strdup(e, ""); break;
	default: return false;
	}
	return true;
}

/* decode(enc) must give an error or a valid EIS: one that encodes again and decodes to an equal EIS.
 * eid: decode the LMDB record form with this key. */
static int decode_is_safe(void *ctx, const uint8_t *eid, const uint8_t *enc, size_t len, unsigned *ok)
{
	struct smsr_eis *d = NULL, *d2 = NULL;
	uint8_t *re;
	size_t relen;
	int rc = eid ? smsr_eis_decode_record(ctx, eid, enc, len, &d) : smsr_eis_decode(ctx, enc, len, &d);

	if (rc < 0) {
		if (d || rc == -ENOMEM)
			return -1;
		return 0;
	}
	(*ok)++;
	rc = smsr_eis_encode_alloc(ctx, d, &re, &relen);
	if (rc < 0)
		return -1;
	rc = smsr_eis_decode(ctx, re, relen, &d2);
	rc = rc < 0 || !smsr_eis_equal(d, d2) ? -1 : 0;
	talloc_free(d);
	talloc_free(d2);
	talloc_free(re);
	return rc;
}

static void test_codec(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_eis *e = full_eis(ctx, 1), *d = NULL, *dup;
	uint8_t *enc, *m;
	size_t len, i;
	unsigned f, ok = 0, bad = 0, blocks;
	int rc;

	CHECK_RC(smsr_eis_encode_alloc(ctx, e, &enc, &len), 0);
	printf("codec: full EIS encodes to %zu bytes\n", len);
	CHECK_RC(smsr_eis_decode(ctx, enc, len, &d), 0);
	CHECK(d && smsr_eis_equal(e, d), "full EIS round trip");
	/* spot checks that the tree is really what was encoded */
	CHECK(d && !strcmp(d->profiles[2].iccid, e->profiles[2].iccid) && d->isdr.keysets[1].cntr == 0x1234567890ull &&
		      d->audit[0].status == SMSR_EXEC_SUCCESS && d->has_notif_seq && d->profiles[0].has_free_memory &&
		      d->props[0].value && !d->props[0].value[0] && !strcmp(d->last_attach, e->last_attach),
	      "decoded fields");
	dup = smsr_eis_dup(ctx, e);
	CHECK(dup && smsr_eis_equal(e, dup), "dup equal");
	dup->profiles[1].pol2[2].qualification = SMSR_POL2_NOT_ALLOWED;
	CHECK(!smsr_eis_equal(e, dup), "a changed POL2 rule makes them different");
	talloc_free(dup);
	dup = smsr_eis_dup(ctx, e);
	dup->isdr.keysets[0].keys[2].comp[1].wrapped[44] ^= 1;
	CHECK(!smsr_eis_equal(e, dup), "a changed wrapped blob makes them different");
	dup->isdr.keysets[0].keys[2].comp[1].wrapped[44] ^= 1;
	dup->eum_id = talloc_strdup(dup, "");
	CHECK(!smsr_eis_equal(e, dup), "\"\" differs from a value");
	dup->eum_id = NULL;
	CHECK(!smsr_eis_equal(e, dup), "NULL differs from a value");
	talloc_free(dup);
	talloc_free(d);

	/* every optional field absent, one at a time, then all together */
	for (f = 0;; f++) {
		struct smsr_eis *x = full_eis(ctx, 2);
		uint8_t *xe;
		size_t xl;

		if (!clear_field(x, f)) {
			talloc_free(x);
			break;
		}
		rc = smsr_eis_encode_alloc(ctx, x, &xe, &xl);
		CHECK(rc == 0, "field %u absent: encode %d", f, rc);
		d = NULL;
		rc = rc ? rc : smsr_eis_decode(ctx, xe, xl, &d);
		CHECK(rc == 0 && smsr_eis_equal(x, d), "field %u absent: round trip (%d)", f, rc);
		CHECK(rc != 0 || xl < len || f == 54, "field %u absent: shorter encoding", f);
		talloc_free(d);
		talloc_free(xe);
		talloc_free(x);
	}
	CHECK(f > 60, "clear_field covered %u fields", f);
	{
		struct smsr_eis *x = full_eis(ctx, 3);
		uint8_t *xe;
		size_t xl;

		for (f = 68; f != (unsigned)-1; f--)
			clear_field(x, f);
		x->n_profiles = x->n_audit = x->n_props = 0;
		memset(&x->isdr, 0, sizeof(x->isdr));
		memset(&x->ecasd, 0, sizeof(x->ecasd));
		CHECK_RC(smsr_eis_encode_alloc(ctx, x, &xe, &xl), 0);
		/* format byte, EID, and the two (required) security domains, empty */
		CHECK(xl == 1 + 2 + 16 + 2 + 2, "all absent: %zu bytes: %s", xl, proto_hexstr(xe, xl));
		d = NULL;
		CHECK_RC(smsr_eis_decode(ctx, xe, xl, &d), 0);
		CHECK(d && smsr_eis_equal(x, d), "all absent round trip");
		talloc_free(x);
		talloc_free(d);
	}

	/* invariants the encoder refuses */
	{
		struct smsr_eis *x = full_eis(ctx, 4);
		uint8_t buf[4096];
		struct proto_buf b;

		x->isdr.aid.len = 17;
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(smsr_eis_encode(x, &b), -EINVAL);
		x->isdr.aid.len = 16;
		x->profiles[0].state = 7;
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(smsr_eis_encode(x, &b), -EINVAL);
		x->profiles[0].state = SMSR_PROFILE_ENABLED;
		x->audit[0].status = -2;
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(smsr_eis_encode(x, &b), -EINVAL);
		x->audit[0].status = -1;
		memset(x->profiles[0].imsi, '1', sizeof(x->profiles[0].imsi));	/* no NUL */
		proto_buf_init(&b, buf, sizeof(buf));
		CHECK_RC(smsr_eis_encode(x, &b), -EINVAL);
		x->profiles[0].imsi[0] = 0;
		proto_buf_init(&b, buf, 100);
		CHECK_RC(smsr_eis_encode(x, &b), -PROTO_E_NOSPACE);
		talloc_free(x);
	}

	/* bad inputs by hand */
	{
		static const uint8_t v2[] = { 0x02, 0xc1, 0x00 }, nothing[] = { 0x01 },
				     dup_eid[] = { 0x01, 0xc1, 0x01, 0x00 },
				     unknown[] = { 0x01, 0xdd, 0x00 }, indefinite[] = { 0x01, 0xf5, 0x80, 0x00, 0x00 };

		CHECK_RC(smsr_eis_decode(ctx, v2, 0, &d), -PROTO_E_TRUNCATED);
		CHECK_RC(smsr_eis_decode(ctx, v2, sizeof(v2), &d), -PROTO_E_UNSUPPORTED);
		CHECK_RC(smsr_eis_decode(ctx, nothing, sizeof(nothing), &d), -PROTO_E_MALFORMED);	/* no EID */
		CHECK_RC(smsr_eis_decode(ctx, dup_eid, sizeof(dup_eid), &d), -PROTO_E_MALFORMED);
		CHECK_RC(smsr_eis_decode(ctx, unknown, sizeof(unknown), &d), -PROTO_E_MALFORMED);
		CHECK(smsr_eis_decode(ctx, indefinite, sizeof(indefinite), &d) < 0, "indefinite length refused");
		CHECK(d == NULL, "no EIS on error");
	}

	/* the LMDB form: no EID inside, the key supplies it */
	{
		uint8_t rec[4096];
		struct proto_buf pb;

		proto_buf_init(&pb, rec, sizeof(rec));
		CHECK_RC(smsr_eis_encode_record(e, &pb), 0);
		CHECK(pb.len == len - 18, "record form is 18 bytes shorter (%zu)", pb.len);
		d = NULL;
		CHECK_RC(smsr_eis_decode_record(ctx, e->eid, rec, pb.len, &d), 0);
		CHECK(d && smsr_eis_equal(e, d), "record form round trip");
		talloc_free(d);
		CHECK_RC(smsr_eis_decode_record(ctx, e->eid, enc, len, &d), -PROTO_E_MALFORMED);
		CHECK_RC(smsr_eis_decode(ctx, rec, pb.len, &d), -PROTO_E_MALFORMED);
		CHECK_RC(smsr_eis_decode_record(ctx, NULL, rec, pb.len, &d), -EINVAL);
	}

	/* every truncation and every single-byte mutation, of both forms: an error or a valid EIS, never a crash.
	 * The fixture still has every optional field, but one element per array, to keep the 255 x len decodes
	 * quick. */
	talloc_free(enc);
	e = full_eis(ctx, 6);
	e->n_profiles = e->n_audit = e->n_props = 1;
	e->isdr.n_keysets = e->ecasd.n_keysets = 1;
	e->isdr.keysets[0].n_keys = e->ecasd.keysets[0].n_keys = 1;
	for (int form = 0; form < 2; form++) {
		const uint8_t *key = form ? e->eid : NULL;
		uint8_t rec[4096];
		struct proto_buf pb;

		proto_buf_init(&pb, rec, sizeof(rec));
		CHECK_RC(form ? smsr_eis_encode_record(e, &pb) : smsr_eis_encode(e, &pb), 0);
		enc = rec;
		len = pb.len;
		blocks = (unsigned)talloc_total_blocks(ctx);
		ok = bad = 0;
		for (i = 0; i < len; i++) {
			if (decode_is_safe(ctx, key, enc, i, &ok) < 0)
				bad++;
		}
		CHECK(bad == 0, "%u truncations decoded to an invalid EIS", bad);
		printf("codec: %s form: %u of %zu truncations end on a field boundary and decode to a shorter EIS\n",
		       form ? "record" : "full", ok, len);
		m = talloc_memdup(ctx, enc, len);
		ok = 0;
		for (i = 0; i < len; i++) {
			for (unsigned v = 0; v < 256; v++) {
				if (v == enc[i])
					continue;
				m[i] = (uint8_t)v;
				if (decode_is_safe(ctx, key, m, len, &ok) < 0)
					bad++;
			}
			m[i] = enc[i];
		}
		CHECK(bad == 0, "%u mutations decoded to an invalid EIS", bad);
		printf("codec: %s form: %zu mutations (%u decoded to another valid EIS)\n", form ? "record" : "full",
		       len * 255, ok);
		talloc_free(m);
		CHECK(talloc_total_blocks(ctx) == blocks, "no leak across the corrupt-input runs (%zu vs %u)",
		      talloc_total_blocks(ctx), blocks);
	}
	talloc_free(ctx);
}

static void test_eis_helpers(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_eis *e = full_eis(ctx, 5);
	enum smsr_profile_state ps;
	enum smsr_pol2_action pa;
	enum smsr_pol2_qual pq;
	enum smsr_keyset_usage ku;
	enum smsr_sd_role sr;
	enum smsr_exec_status es;

	CHECK(!strcmp(smsr_profile_state_name(SMSR_PROFILE_DISABLED), "Disabled"), "state name");
	CHECK(!strcmp(smsr_pol2_qual_name(SMSR_POL2_NOT_ALLOWED), "Not-Allowed"), "qual name");
	CHECK(!strcmp(smsr_keyset_usage_name(SMSR_KEYSET_RECEIPT), "ReceiptVerification"), "usage name");
	CHECK(smsr_keyset_usage_name(SMSR_KEYSET_UNSPECIFIED) == NULL, "UNSPECIFIED has no wire name");
	CHECK(!strcmp(smsr_sd_role_name(SMSR_SD_ISDR), "ISD-R"), "role name");
	CHECK(!strcmp(smsr_exec_status_name(SMSR_EXEC_WITH_WARNING), "EXECUTED_WITHWARNING"), "status name");
	CHECK(smsr_profile_state_name((enum smsr_profile_state)9) == NULL, "out of range name");
	CHECK_RC(smsr_profile_state_parse("Enabled", &ps), 0);
	CHECK(ps == SMSR_PROFILE_ENABLED, "parse state");
	CHECK_RC(smsr_profile_state_parse("enabled", &ps), -EINVAL);
	CHECK_RC(smsr_pol2_action_parse("DELETE", &pa), 0);
	CHECK(pa == SMSR_POL2_DELETE, "parse action");
	CHECK_RC(smsr_pol2_qual_parse("Auto-Delete", &pq), 0);
	CHECK(pq == SMSR_POL2_AUTO_DELETE, "parse qual");
	CHECK_RC(smsr_keyset_usage_parse("TokenGeneration", &ku), 0);
	CHECK(ku == SMSR_KEYSET_TOKEN, "parse usage");
	CHECK_RC(smsr_keyset_usage_parse("", &ku), -EINVAL);
	CHECK_RC(smsr_keyset_usage_parse(NULL, &ku), -EINVAL);
	CHECK_RC(smsr_sd_role_parse("ECASD", &sr), 0);
	CHECK(sr == SMSR_SD_ECASD, "parse role");
	CHECK_RC(smsr_exec_status_parse("EXPIRED", &es), 0);
	CHECK(es == SMSR_EXEC_EXPIRED, "parse status");
	CHECK_RC(smsr_exec_status_parse("EXPIRED ", &es), -EINVAL);

	CHECK(smsr_eis_profile_by_iccid(e, e->profiles[1].iccid) == &e->profiles[1], "by iccid");
	CHECK(smsr_eis_profile_by_iccid(e, "8900") == NULL, "by unknown iccid");
	CHECK(smsr_eis_profile_by_aid(e, e->profiles[2].isdp_aid.b, 16) == &e->profiles[2], "by aid");
	CHECK(smsr_eis_profile_by_aid(e, e->profiles[2].isdp_aid.b, 15) == NULL, "by short aid");
	CHECK(smsr_eis_profile_enabled(e) == &e->profiles[0], "enabled");
	CHECK(smsr_profile_pol2_forbids(&e->profiles[0], SMSR_POL2_DISABLE), "DISABLE Not-Allowed");
	CHECK(!smsr_profile_pol2_forbids(&e->profiles[0], SMSR_POL2_ENABLE), "ENABLE allowed");
	CHECK(smsr_profile_pol2_auto_delete(&e->profiles[0], SMSR_POL2_DISABLE), "DISABLE Auto-Delete");
	CHECK(!smsr_profile_pol2_auto_delete(&e->profiles[0], SMSR_POL2_DELETE), "no DELETE Auto-Delete");
	e->profiles[0].state = SMSR_PROFILE_DISABLED;
	CHECK(smsr_eis_profile_enabled(e) == NULL, "none enabled");
	talloc_free(ctx);
}

/* smsr_db_check() with its report shown only when it finds something (or when want is not 0) */
static int db_check_quiet(struct smsr_db *db, int want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = smsr_db_check(db, f);

	fclose(f);
	if (rc != want)
		fputs(buf, stderr);
	free(buf);
	return rc;
}

/* open a store in a directory, quietly failing the test on error */
static struct smsr_db *open_db(void *ctx, const char *dir)
{
	struct smsr_db_cfg cfg = { .map_size = 64 << 20 };
	struct smsr_db *db = NULL;

	CHECK_RC(smsr_db_open(ctx, dir, &cfg, &db), 0);
	return db;
}

static void test_ix_keys(void)
{
	static const char *const keys[] = { "8949100000000000001", "89491000000000000012", "894910000000000000F",
					    "894910000000000000f", "1", "12", "120", "+4915112345", "89 49", NULL };
	uint8_t k[SDB_IX_MAX], k2[SDB_IX_MAX];
	char out[32];
	int n, n2;

	for (unsigned i = 0; keys[i]; i++) {
		n = sdb_ix_pack(keys[i], k);
		CHECK(n > 0 && sdb_ix_unpack(k, (size_t)n, out, sizeof(out)) == 0 && !strcmp(out, keys[i]),
		      "index key %s round trip", keys[i]);
		for (unsigned j = 0; keys[j]; j++) {
			n2 = sdb_ix_pack(keys[j], k2);
			CHECK((i == j) == (n == n2 && !memcmp(k, k2, (size_t)n)), "keys %s and %s", keys[i], keys[j]);
		}
	}
	CHECK(sdb_ix_pack("8949100000000000001", k) == 10, "19-digit ICCID in 10 bytes");
	CHECK_RC(sdb_ix_pack("", k), -EINVAL);
	CHECK_RC(sdb_ix_pack("123456789012345678901", k), -EINVAL);
	CHECK_RC(sdb_ix_unpack((const uint8_t *)"\x10", 1, out, sizeof(out)), 0);	/* "0" */
	CHECK_RC(sdb_ix_unpack((const uint8_t *)"\x0f", 1, out, sizeof(out)), -EIO);
	CHECK_RC(sdb_ix_unpack((const uint8_t *)"\x1d", 1, out, sizeof(out)), -EIO);
	CHECK_RC(sdb_ix_unpack((const uint8_t *)"\xff", 1, out, sizeof(out)), -EIO);
}

static void test_db_eis(void)
{
	void *ctx = talloc_new(NULL);
	const char *dir = newdir("eis");
	struct smsr_db *db = open_db(ctx, dir);
	struct smsr_eis *a = full_eis(ctx, 10), *b = full_eis(ctx, 11), *g = NULL, *c;
	uint8_t eid[16], unknown[16];
	size_t n;

	if (!db)
		return;
	CHECK(smsr_db_schema_version(db) == SMSR_DB_SCHEMA_VERSION, "fresh store at the current schema");
	CHECK_RC(smsr_db_eis_insert(db, NULL, a), 0);
	CHECK_RC(smsr_db_eis_insert(db, NULL, b), 0);
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, a->eid, &g), 0);
	CHECK(g && smsr_eis_equal(a, g), "get = inserted");
	talloc_free(g);
	CHECK_RC(smsr_db_eis_get_by_iccid(db, NULL, ctx, b->profiles[2].iccid, &g), 0);
	CHECK(g && smsr_eis_equal(b, g), "by ICCID");
	talloc_free(g);
	CHECK_RC(smsr_db_eis_get_by_msisdn(db, NULL, ctx, b->profiles[1].msisdn, &g), 0);
	CHECK(g && smsr_eis_equal(b, g), "by MSISDN");
	talloc_free(g);
	CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, a->isdr_msisdn, eid), 0);
	CHECK(!memcmp(eid, a->eid, 16), "MO routing by the ISD-R MSISDN");
	eid_of(unknown, 999);
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, unknown, &g), -ENOENT);
	CHECK(g == NULL, "no EIS for an unknown EID");
	CHECK_RC(smsr_db_eid_by_iccid(db, NULL, "89000000000000000000", eid), -ENOENT);
	CHECK_RC(smsr_db_eid_by_iccid(db, NULL, "", eid), -EINVAL);
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == 2, "2 EIS");

	/* duplicates: nothing written */
	c = full_eis(ctx, 12);
	snprintf(c->profiles[1].iccid, sizeof(c->profiles[1].iccid), "%s", a->profiles[1].iccid);
	CHECK_RC(smsr_db_eis_insert(db, NULL, c), -EEXIST);
	CHECK_RC(smsr_db_eid_by_iccid(db, NULL, c->profiles[0].iccid, eid), -ENOENT);
	CHECK_RC(smsr_db_eis_insert(db, NULL, a), -EEXIST);
	c = full_eis(ctx, 12);
	snprintf(c->isdr_msisdn, sizeof(c->isdr_msisdn), "%s", b->profiles[2].msisdn);
	CHECK_RC(smsr_db_eis_insert(db, NULL, c), -EEXIST);
	c = full_eis(ctx, 12);
	snprintf(c->profiles[1].iccid, sizeof(c->profiles[1].iccid), "%s", c->profiles[0].iccid);
	CHECK_RC(smsr_db_eis_insert(db, NULL, c), -EINVAL);
	c->profiles[1].iccid[0] = 0;
	CHECK_RC(smsr_db_eis_insert(db, NULL, c), -EINVAL);
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == 2, "still 2 EIS");

	/* update: the indexes follow ICCID and MSISDN changes */
	{
		struct smsr_eis *u = smsr_eis_dup(ctx, a);
		char old_iccid[21], old_msisdn[16];

		snprintf(old_iccid, sizeof(old_iccid), "%s", u->profiles[1].iccid);
		snprintf(old_msisdn, sizeof(old_msisdn), "%s", u->profiles[1].msisdn);
		snprintf(u->profiles[1].iccid, sizeof(u->profiles[1].iccid), "8988888888888888888");
		snprintf(u->profiles[1].msisdn, sizeof(u->profiles[1].msisdn), "4915199999999");
		u->profiles[0].state = SMSR_PROFILE_DISABLED;
		u->profiles[1].state = SMSR_PROFILE_ENABLED;
		u->n_profiles = 2;	/* third profile deleted */
		CHECK_RC(smsr_db_eis_update(db, NULL, u), 0);
		CHECK_RC(smsr_db_eid_by_iccid(db, NULL, old_iccid, eid), -ENOENT);
		CHECK_RC(smsr_db_eid_by_iccid(db, NULL, a->profiles[2].iccid, eid), -ENOENT);
		CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, old_msisdn, eid), -ENOENT);
		CHECK_RC(smsr_db_eid_by_iccid(db, NULL, "8988888888888888888", eid), 0);
		CHECK(!memcmp(eid, a->eid, 16), "new ICCID indexed");
		CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, "4915199999999", eid), 0);
		CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, a->isdr_msisdn, eid), 0);
		CHECK_RC(smsr_db_eis_get(db, NULL, ctx, a->eid, &g), 0);
		CHECK(g && smsr_eis_equal(u, g), "get = updated");
		talloc_free(g);
		/* an update that would steal b's ICCID changes nothing */
		snprintf(u->profiles[0].iccid, sizeof(u->profiles[0].iccid), "%s", b->profiles[0].iccid);
		u->remaining_memory = 1;
		CHECK_RC(smsr_db_eis_update(db, NULL, u), -EEXIST);
		CHECK_RC(smsr_db_eis_get(db, NULL, ctx, a->eid, &g), 0);
		CHECK(g && g->remaining_memory == a->remaining_memory, "refused update not applied");
		talloc_free(g);
		c = full_eis(ctx, 13);
		CHECK_RC(smsr_db_eis_update(db, NULL, c), -ENOENT);
	}

	CHECK_RC(db_check_quiet(db, 0), 0);
	CHECK_RC(smsr_db_eis_delete(db, NULL, b->eid), 0);
	CHECK_RC(smsr_db_eis_delete(db, NULL, b->eid), -ENOENT);
	CHECK_RC(smsr_db_eid_by_iccid(db, NULL, b->profiles[0].iccid, eid), -ENOENT);
	CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, b->isdr_msisdn, eid), -ENOENT);
	/* b's identifiers are free again */
	CHECK_RC(smsr_db_eis_insert(db, NULL, b), 0);
	CHECK_RC(db_check_quiet(db, 0), 0);

	/* write transactions: all or nothing */
	{
		struct smsr_db_txn *txn = NULL, *txn2 = NULL;
		struct smsr_eis *d1 = full_eis(ctx, 20), *d2 = full_eis(ctx, 21);
		uint64_t v;

		CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
		CHECK_RC(smsr_db_txn_begin(db, &txn2), -EBUSY);
		CHECK(txn2 == NULL, "no second transaction");
		CHECK_RC(smsr_db_eis_insert(db, txn, d1), 0);
		CHECK_RC(smsr_db_eis_insert(db, NULL, d2), -EBUSY);
		CHECK_RC(smsr_db_cntr_next(db, d1->eid, 1, &v), -EBUSY);
		CHECK_RC(smsr_db_eis_get(db, txn, ctx, d1->eid, &g), 0);	/* read your writes */
		talloc_free(g);
		CHECK_RC(smsr_db_eis_get(db, NULL, ctx, d1->eid, &g), -ENOENT);	/* others do not see it */
		CHECK_RC(smsr_db_eis_insert(db, txn, a), -EEXIST);	/* a failed check leaves txn usable */
		CHECK_RC(smsr_db_eis_insert(db, txn, d2), 0);
		smsr_db_txn_abort(&txn);
		CHECK(txn == NULL, "abort clears the pointer");
		CHECK_RC(smsr_db_eis_get(db, NULL, ctx, d1->eid, &g), -ENOENT);
		CHECK_RC(smsr_db_eid_by_iccid(db, NULL, d2->profiles[0].iccid, eid), -ENOENT);
		CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
		CHECK_RC(smsr_db_eis_insert(db, txn, d1), 0);
		CHECK_RC(smsr_db_eis_insert(db, txn, d2), 0);
		CHECK_RC(smsr_db_txn_commit(&txn), 0);
		CHECK_RC(smsr_db_eis_get(db, NULL, ctx, d2->eid, &g), 0);
		talloc_free(g);
		CHECK_RC(smsr_db_eis_count(db, &n), 0);
		CHECK(n == 4, "4 EIS after the transaction (%zu)", n);
	}
	CHECK_RC(db_check_quiet(db, 0), 0);
	smsr_db_close(&db);
	CHECK(db == NULL, "close clears the pointer");
	smsr_db_close(&db);

	/* everything is still there after reopening */
	db = open_db(ctx, dir);
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, b->eid, &g), 0);
	CHECK(g && smsr_eis_equal(b, g), "b after reopen");
	CHECK_RC(smsr_db_check(db, NULL), 0);
	smsr_db_close(&db);
	talloc_free(ctx);
}

static void test_db_import(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_db *db = open_db(ctx, newdir("import"));
	const struct smsr_eis *batch[200];
	int rc[200];
	size_t n, i;

	if (!db)
		return;
	for (i = 0; i < 200; i++)
		batch[i] = small_eis(ctx, 1000 + (unsigned)i);
	CHECK_RC(smsr_db_eis_import(db, batch, 100, rc), 0);
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == 100, "100 imported");
	/* a batch with 3 bad records: nothing written, each bad one reported */
	batch[150] = batch[10];				/* EID already stored */
	batch[160] = small_eis(ctx, 1160);
	snprintf(((struct smsr_eis *)batch[160])->profiles[1].iccid, 21, "%s", batch[120]->profiles[0].iccid);
	batch[170] = small_eis(ctx, 1170);
	((struct smsr_eis *)batch[170])->profiles[0].iccid[0] = 0;	/* invalid */
	CHECK_RC(smsr_db_eis_import(db, batch + 100, 100, rc), -EEXIST);
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == 100, "failed batch wrote nothing");
	for (i = 0; i < 100; i++) {
		int want = i == 50 || i == 60 ? -EEXIST : i == 70 ? -EINVAL : 0;

		CHECK(rc[i] == want, "rc[%zu] = %d, want %d", i, rc[i], want);
	}
	/* the same batch without the bad records goes in */
	{
		const struct smsr_eis *good[100];
		size_t ng = 0;

		for (i = 0; i < 100; i++) {
			if (!rc[i])
				good[ng++] = batch[100 + i];
		}
		CHECK_RC(smsr_db_eis_import(db, good, ng, NULL), 0);
		CHECK_RC(smsr_db_eis_count(db, &n), 0);
		CHECK(n == 197, "197 after the resubmission (%zu)", n);
	}
	CHECK_RC(smsr_db_eis_import(db, batch, 0, NULL), 0);
	CHECK_RC(db_check_quiet(db, 0), 0);
	smsr_db_close(&db);
	talloc_free(ctx);
}

static void test_db_cntr(void)
{
	void *ctx = talloc_new(NULL);
	const char *dir = newdir("cntr");
	struct smsr_db *db = open_db(ctx, dir);
	struct smsr_eis *e = full_eis(ctx, 30);
	uint8_t unknown[16];
	uint64_t v = 0, prev, first;
	int i;

	if (!db)
		return;
	eid_of(unknown, 31);
	CHECK_RC(smsr_db_cntr_next(db, unknown, 1, &v), -ENOENT);
	CHECK_RC(smsr_db_eis_insert(db, NULL, e), 0);
	/* ISD-R keyset version 2 has Cntr 0x1234567890: the first value is one above */
	CHECK_RC(smsr_db_cntr_get(db, NULL, e->eid, 2, &v), -ENOENT);
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 2, &v), 0);
	CHECK(v == 0x1234567891ull, "seeded from the EIS Cntr: %llx", (unsigned long long)v);
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 9, &v), 0);
	CHECK(v == 1, "keyset without Cntr starts at 1");
	prev = v;
	for (i = 0; i < 20; i++) {
		CHECK_RC(smsr_db_cntr_next(db, e->eid, 9, &v), 0);
		CHECK(v == prev + 1, "strictly increasing by one");
		prev = v;
	}
	CHECK_RC(smsr_db_cntr_reserve(db, e->eid, 9, 100, &first), 0);
	CHECK(first == prev + 1, "block starts after the last value");
	CHECK_RC(smsr_db_cntr_reserve(db, e->eid, 9, 0, &first), -EINVAL);
	CHECK_RC(smsr_db_cntr_get(db, NULL, e->eid, 9, &v), 0);
	CHECK(v == prev + 100, "stored value is the block end");
	prev = v;
	CHECK_RC(smsr_db_cntr_raise(db, NULL, e->eid, 9, 5), 0);
	CHECK_RC(smsr_db_cntr_get(db, NULL, e->eid, 9, &v), 0);
	CHECK(v == prev, "raise never lowers");
	CHECK_RC(smsr_db_cntr_raise(db, NULL, e->eid, 9, 5000), 0);
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 9, &v), 0);
	CHECK(v == 5001, "raised");
	CHECK_RC(smsr_db_cntr_raise(db, NULL, e->eid, 9, SMSR_DB_CNTR_MAX + 1), -ERANGE);
	CHECK_RC(smsr_db_cntr_raise(db, NULL, e->eid, 9, SMSR_DB_CNTR_MAX - 1), 0);
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 9, &v), 0);
	CHECK(v == SMSR_DB_CNTR_MAX, "last value");
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 9, &v), -ERANGE);
	CHECK_RC(smsr_db_cntr_get(db, NULL, e->eid, 9, &v), 0);
	CHECK(v == SMSR_DB_CNTR_MAX, "exhausted counter unchanged");

	/* counters survive close/reopen and the deletion of the EIS */
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 2, &prev), 0);
	CHECK_RC(smsr_db_eis_delete(db, NULL, e->eid), 0);
	smsr_db_close(&db);
	db = open_db(ctx, dir);
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 2, &v), 0);
	CHECK(v == prev + 1, "after reopen: %llx after %llx", (unsigned long long)v, (unsigned long long)prev);
	CHECK_RC(smsr_db_eis_insert(db, NULL, e), 0);	/* re-registered with the old, lower Cntr */
	CHECK_RC(smsr_db_cntr_next(db, e->eid, 2, &v), 0);
	CHECK(v == prev + 2, "re-registration does not move the counter back");
	CHECK_RC(db_check_quiet(db, 0), 0);
	smsr_db_close(&db);
	talloc_free(ctx);
}

/* group commit: the writes of one loop pass are read back before the pass ends, one durable commit ends it */
static void test_db_group(void)
{
	void *ctx = talloc_new(NULL);
	const char *dir = newdir("group");
	struct smsr_db *db = open_db(ctx, dir);
	struct event_base *base = event_base_new();
	struct smsr_eis *e1 = full_eis(ctx, 40), *e2 = full_eis(ctx, 41), *got;
	unsigned long commits = 9, children = 9;
	struct smsr_db_txn *txn;
	uint64_t v;

	if (!db || !base) {
		CHECK(0, "setup");
		goto out;
	}
	CHECK_RC(smsr_db_group_enable(db, base, NULL, NULL), 0);
	CHECK_RC(smsr_db_group_enable(db, base, NULL, NULL), -EALREADY);
	CHECK_RC(smsr_db_eis_insert(db, NULL, e1), 0);
	CHECK_RC(smsr_db_cntr_next(db, e1->eid, 2, &v), 0);
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, e1->eid, &got), 0);
	CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
	CHECK_RC(smsr_db_eis_insert(db, txn, e2), 0);
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, e2->eid, &got), 0);
	CHECK_RC(smsr_db_group_flush(db), -EBUSY);
	CHECK_RC(smsr_db_txn_commit(&txn), 0);
	smsr_db_group_stats(db, &commits, &children);
	CHECK(commits == 0 && children == 3, "three writes, nothing durable yet (%lu, %lu)", commits, children);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	smsr_db_group_stats(db, &commits, &children);
	CHECK(commits == 1 && children == 3, "one durable commit for the pass (%lu, %lu)", commits, children);
	/* an aborted transaction inside a group leaves nothing */
	CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
	CHECK_RC(smsr_db_eis_delete(db, txn, e1->eid), 0);
	smsr_db_txn_abort(&txn);
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, e1->eid, &got), 0);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	/* a group still open at close is committed */
	CHECK_RC(smsr_db_cntr_next(db, e1->eid, 2, &v), 0);
	smsr_db_close(&db);
	db = open_db(ctx, dir);
	CHECK(db && smsr_db_eis_get(db, NULL, ctx, e1->eid, &got) == 0 &&
		      smsr_db_eis_get(db, NULL, ctx, e2->eid, &got) == 0,
	      "both EIS after reopen");
	CHECK(db && smsr_db_cntr_get(db, NULL, e1->eid, 2, &v) == 0 && v == 0x1234567892ull,
	      "the counter taken just before close is durable");
	CHECK(db && db_check_quiet(db, 0) == 0, "db_check");
	smsr_db_close(&db);
out:
	if (base)
		event_base_free(base);
	talloc_free(ctx);
}

static void test_db_journal(void)
{
	void *ctx = talloc_new(NULL);
	const char *dir = newdir("journal");
	struct smsr_db *db = open_db(ctx, dir);
	struct smsr_db_op_hdr h = { .state = 1, .created = 1700000000, .deadline = 1700003600 };
	struct smsr_db_op *op = NULL, *list = NULL;
	uint64_t id1 = 0, id2 = 0, id3 = 0, id;
	size_t n;

	if (!db)
		return;
	eid_of(h.eid, 40);
	CHECK_RC(smsr_db_op_create(db, NULL, &h, "1.2.3.4", "FCI-0001", "abc", 3, &id1), 0);
	CHECK_RC(smsr_db_op_create(db, NULL, &h, "1.2.3.4", "FCI-0002", NULL, 0, &id2), 0);
	CHECK(id2 > id1, "ids increase");
	/* a retry gets the first operation back and writes nothing */
	id = 0;
	CHECK_RC(smsr_db_op_create(db, NULL, &h, "1.2.3.4", "FCI-0001", "xyz", 3, &id), -EEXIST);
	CHECK(id == id1, "retry maps to the first operation");
	/* same FunctionCallIdentifier from another requester is another operation */
	CHECK_RC(smsr_db_op_create(db, NULL, &h, "1.2.3.5", "FCI-0001", NULL, 0, &id3), 0);
	CHECK(id3 > id2, "another requester, another op");
	CHECK_RC(smsr_db_op_create(db, NULL, &h, "1.2.3.5", NULL, NULL, 0, &id), -EINVAL);
	CHECK_RC(smsr_db_op_create(db, NULL, &h, NULL, NULL, NULL, 0, &id), 0);	/* no idempotency key */
	CHECK_RC(smsr_db_idem_get(db, NULL, "1.2.3.4", "FCI-0002", &id), 0);
	CHECK(id == id2, "idem lookup");
	CHECK_RC(smsr_db_idem_get(db, NULL, "1.2.3.4", "FCI-0003", &id), -ENOENT);

	CHECK_RC(smsr_db_op_get(db, NULL, ctx, id1, &op), 0);
	CHECK(op && op->id == id1 && op->hdr.state == 1 && op->hdr.created == 1700000000 &&
		      op->hdr.deadline == 1700003600 && !memcmp(op->hdr.eid, h.eid, 16) && op->len == 3 &&
		      !memcmp(op->data, "abc", 3) && !strcmp(op->requester, "1.2.3.4") &&
		      !strcmp(op->fcid, "FCI-0001"),
	      "op read back");
	talloc_free(op);
	CHECK_RC(smsr_db_op_set_state(db, NULL, id1, 3), 0);
	h.state = 3;
	h.deadline = -5;
	CHECK_RC(smsr_db_op_update(db, NULL, id2, &h, "defg", 4), 0);
	CHECK_RC(smsr_db_op_get(db, NULL, ctx, id2, &op), 0);
	CHECK(op && op->hdr.state == 3 && op->hdr.deadline == -5 && op->len == 4 && !strcmp(op->fcid, "FCI-0002"),
	      "updated op keeps its key");
	talloc_free(op);
	CHECK_RC(smsr_db_op_get(db, NULL, ctx, id1, &op), 0);
	CHECK(op && op->hdr.state == 3 && op->len == 3, "set_state keeps the data");
	talloc_free(op);
	CHECK_RC(smsr_db_op_set_state(db, NULL, 999, 3), -ENOENT);

	CHECK_RC(smsr_db_op_list(db, ctx, 3, &list, &n), 0);
	CHECK(n == 2 && list && list[0].id == id1 && list[1].id == id2, "two ops in state 3, oldest first");
	talloc_free(list);
	CHECK_RC(smsr_db_op_list(db, ctx, -1, &list, &n), 0);
	CHECK(n == 4, "four ops");
	talloc_free(list);
	CHECK_RC(smsr_db_op_list(db, ctx, 77, &list, &n), 0);
	CHECK(n == 0 && list == NULL, "none in state 77");

	/* journal and EIS change in one transaction */
	h.state = 5;
	{
		struct smsr_db_txn *txn;
		struct smsr_eis *e = full_eis(ctx, 41);
		uint64_t idt;

		CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
		CHECK_RC(smsr_db_eis_insert(db, txn, e), 0);
		CHECK_RC(smsr_db_op_create(db, txn, &h, "1.2.3.4", "FCI-0009", NULL, 0, &idt), 0);
		smsr_db_txn_abort(&txn);
		CHECK_RC(smsr_db_idem_get(db, NULL, "1.2.3.4", "FCI-0009", &id), -ENOENT);
		CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
		CHECK_RC(smsr_db_eis_insert(db, txn, e), 0);
		CHECK_RC(smsr_db_op_create(db, txn, &h, "1.2.3.4", "FCI-0009", NULL, 0, &id), 0);
		CHECK(id == idt, "an aborted id is handed out again (it was never committed)");
		CHECK_RC(smsr_db_txn_commit(&txn), 0);
	}

	CHECK_RC(smsr_db_op_delete(db, NULL, id1), 0);
	CHECK_RC(smsr_db_op_delete(db, NULL, id1), -ENOENT);
	CHECK_RC(smsr_db_idem_get(db, NULL, "1.2.3.4", "FCI-0001", &id), -ENOENT);
	CHECK_RC(db_check_quiet(db, 0), 0);
	smsr_db_close(&db);
	/* restart recovery: the journal survives, ids keep increasing */
	db = open_db(ctx, dir);
	CHECK_RC(smsr_db_op_list(db, ctx, 3, &list, &n), 0);
	CHECK(n == 1 && list && list[0].id == id2, "after reopen");
	talloc_free(list);
	CHECK_RC(smsr_db_op_create(db, NULL, &h, "1.2.3.4", "FCI-0001", NULL, 0, &id), 0);
	CHECK(id > id3, "ids are never reused");
	CHECK_RC(smsr_db_check(db, NULL), 0);
	smsr_db_close(&db);
	talloc_free(ctx);
}

/* a full map: -ENOSPC, nothing half-written, and a caller's transaction that hit it can only be aborted */
static void test_db_mapfull(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_db_cfg cfg = { .map_size = 1 << 20 };
	struct smsr_db *db = NULL;
	struct smsr_db_txn *txn = NULL;
	const struct smsr_eis *batch[50];
	size_t n_ok = 0, n;
	unsigned i;
	int rc = 0;

	CHECK_RC(smsr_db_open(ctx, newdir("mapfull"), &cfg, &db), 0);
	if (!db)
		return;
	for (i = 0; i < 50; i++)
		batch[i] = small_eis(ctx, 3000 + i);
	for (i = 0; i < 10000 && rc == 0; i++) {
		rc = smsr_db_eis_insert(db, NULL, small_eis(ctx, 2000 + i));
		if (rc == 0)
			n_ok++;
	}
	CHECK(rc == -ENOSPC, "map full gives -ENOSPC (%d after %zu EIS)", rc, n_ok);
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == n_ok, "the failed insert left nothing");
	CHECK_RC(smsr_db_eis_import(db, batch, 50, NULL), -ENOSPC);
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == n_ok, "the failed import left nothing");
	CHECK_RC(smsr_db_check(db, NULL), 0);
	CHECK_RC(smsr_db_txn_begin(db, &txn), 0);
	for (i = 0, rc = 0; i < 50 && rc == 0; i++)
		rc = smsr_db_eis_insert(db, txn, batch[i]);
	CHECK(rc == -ENOSPC, "-ENOSPC inside a transaction (%d)", rc);
	CHECK_RC(smsr_db_eis_insert(db, txn, batch[49]), -EIO);
	CHECK_RC(smsr_db_txn_commit(&txn), -EIO);
	CHECK(txn == NULL, "commit clears the pointer");
	CHECK_RC(smsr_db_eis_count(db, &n), 0);
	CHECK(n == n_ok, "the failed transaction left nothing");
	/* deleting makes room again */
	{
		uint8_t eid[16];

		eid_of(eid, 2000);
		CHECK_RC(smsr_db_eis_delete(db, NULL, eid), 0);
	}
	CHECK_RC(smsr_db_check(db, NULL), 0);
	smsr_db_close(&db);
	talloc_free(ctx);
}

/* raw LMDB access to a closed store, to fake old, newer and corrupted stores */
struct raw {
	MDB_env *env;
	MDB_txn *txn;
};

static int raw_open(struct raw *r, const char *dir)
{
	int rc;

	if ((rc = mdb_env_create(&r->env)) || (rc = mdb_env_set_maxdbs(r->env, 8)) ||
	    (rc = mdb_env_set_mapsize(r->env, 64 << 20)) || (rc = mdb_env_open(r->env, dir, 0, 0600)) ||
	    (rc = mdb_txn_begin(r->env, NULL, 0, &r->txn)))
		return rc;
	return 0;
}

static int raw_put(struct raw *r, const char *dbname, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_dbi dbi;
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	int rc = mdb_dbi_open(r->txn, dbname, MDB_CREATE, &dbi);

	return rc ? rc : mdb_put(r->txn, dbi, &key, &val, 0);
}

/* index entry with a text key, packed as the store does */
static int raw_put_ix(struct raw *r, const char *dbname, const char *text, const uint8_t *eid)
{
	uint8_t k[SDB_IX_MAX];
	int n = sdb_ix_pack(text, k);

	return n < 0 ? n : raw_put(r, dbname, k, (size_t)n, eid, 16);
}

static int raw_del(struct raw *r, const char *dbname, const void *k, size_t kl)
{
	MDB_dbi dbi;
	MDB_val key = { kl, (void *)k };
	int rc = mdb_dbi_open(r->txn, dbname, 0, &dbi);

	return rc ? rc : mdb_del(r->txn, dbi, &key, NULL);
}

static void raw_close(struct raw *r)
{
	if (mdb_txn_commit(r->txn))
		fprintf(stderr, "raw commit failed\n");
	mdb_env_close(r->env);
}

static void test_db_schema_check(void)
{
	void *ctx = talloc_new(NULL);
	const char *dir;
	struct smsr_db *db = NULL;
	struct raw r;
	uint8_t rec[4096], eid[16], v[4] = { 0, 0, 0, 2 };
	struct proto_buf pb;
	struct smsr_eis *e = full_eis(ctx, 50), *e2 = full_eis(ctx, 51), *g;

	/* a store written before versioning: EIS records, no indexes, no schema key -> upgraded at open */
	dir = newdir("schema0");
	CHECK_RC(raw_open(&r, dir), 0);
	proto_buf_init(&pb, rec, sizeof(rec));
	CHECK_RC(smsr_eis_encode_record(e, &pb), 0);
	CHECK_RC(raw_put(&r, "eis", e->eid, 16, pb.data, pb.len), 0);
	proto_buf_init(&pb, rec, sizeof(rec));
	CHECK_RC(smsr_eis_encode_record(e2, &pb), 0);
	CHECK_RC(raw_put(&r, "eis", e2->eid, 16, pb.data, pb.len), 0);
	raw_close(&r);
	db = open_db(ctx, dir);
	CHECK(db && smsr_db_schema_version(db) == SMSR_DB_SCHEMA_VERSION, "upgraded to the current schema");
	CHECK_RC(smsr_db_eid_by_iccid(db, NULL, e2->profiles[1].iccid, eid), 0);
	CHECK(!memcmp(eid, e2->eid, 16), "upgrade step 1 built the ICCID index");
	CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, e->isdr_msisdn, eid), 0);
	CHECK_RC(db_check_quiet(db, 0), 0);
	smsr_db_close(&db);

	/* a store from a newer version is refused and left untouched */
	CHECK_RC(raw_open(&r, dir), 0);
	CHECK_RC(raw_put(&r, "meta", "schema", 6, v, 4), 0);
	raw_close(&r);
	CHECK_RC(smsr_db_open(ctx, dir, NULL, &db), -EPROTONOSUPPORT);
	CHECK(db == NULL, "no handle");
	v[3] = 1;
	CHECK_RC(raw_open(&r, dir), 0);
	CHECK_RC(raw_put(&r, "meta", "schema", 6, v, 4), 0);
	raw_close(&r);

	/* corruptions db_check must find, then reindex repairs the index ones */
	CHECK_RC(raw_open(&r, dir), 0);
	{
		uint8_t k[SDB_IX_MAX];
		int kl = sdb_ix_pack(e->profiles[0].iccid, k);

		CHECK_RC(raw_del(&r, "iccid2eid", k, (size_t)kl), 0);	/* missing */
	}
	CHECK_RC(raw_put_ix(&r, "iccid2eid", e->profiles[1].iccid, e2->eid), 0);	/* points elsewhere */
	CHECK_RC(raw_put_ix(&r, "msisdn2eid", "4900000", e->eid), 0);	/* stale */
	eid_of(eid, 59);
	CHECK_RC(raw_put_ix(&r, "iccid2eid", "8999999999999999999", eid), 0);	/* dangling */
	raw_close(&r);
	db = open_db(ctx, dir);
	/* missing, points elsewhere (seen from the EIS and from the entry), dangling, stale */
	{
		char *buf = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);

		CHECK(smsr_db_check(db, f) == 5, "5 problems found");
		fclose(f);
		CHECK(strstr(buf, "has no index entry") && strstr(buf, "index entry points to") &&
			      strstr(buf, "index points to missing EIS") && strstr(buf, "which does not hold it") &&
			      strstr(buf, "5 problem(s)"),
		      "report names each problem:\n%s", buf);
		free(buf);
	}
	CHECK_RC(smsr_db_reindex(db), 0);
	CHECK_RC(db_check_quiet(db, 0), 0);
	smsr_db_close(&db);

	/* a record that does not decode, and a journal/idem mismatch */
	CHECK_RC(raw_open(&r, dir), 0);
	CHECK_RC(raw_put(&r, "eis", e->eid, 16, "\x01\xc1\x01", 3), 0);
	CHECK_RC(raw_put(&r, "idem", "1.2\0x", 5, "\0\0\0\0\0\0\0\x07", 8), 0);
	raw_close(&r);
	db = open_db(ctx, dir);
	CHECK(db_check_quiet(db, 2) >= 2, "undecodable EIS and dangling idem entry found");
	CHECK_RC(smsr_db_eis_get(db, NULL, ctx, e->eid, &g), -PROTO_E_TRUNCATED);
	CHECK_RC(smsr_db_eis_update(db, NULL, e), -PROTO_E_TRUNCATED);
	CHECK_RC(smsr_db_eis_delete(db, NULL, e->eid), 0);	/* the corrupt record and its index entries go */
	CHECK_RC(smsr_db_eid_by_iccid(db, NULL, e->profiles[2].iccid, eid), -ENOENT);
	CHECK_RC(smsr_db_eid_by_msisdn(db, NULL, e->isdr_msisdn, eid), -ENOENT);
	CHECK(db_check_quiet(db, 1) == 1, "only the dangling idem entry is left");
	smsr_db_close(&db);
	talloc_free(ctx);
}

/*
 * kill -9 at random moments while a child writes; the store must always reopen consistent, with counters that
 * never went backwards.
 */
static const unsigned CRASH_ROUNDS = 6;

static void crash_child(const char *dir, int fd, unsigned round)
{
	void *ctx = talloc_new(NULL);
	struct smsr_db *db = NULL;
	struct smsr_db_cfg cfg = { .map_size = 256 << 20 };
	uint8_t eid0[16];
	unsigned i;

	if (smsr_db_open(ctx, dir, &cfg, &db) < 0)
		_exit(2);
	eid_of(eid0, 1);
	for (i = 0;; i++) {
		unsigned n = 100000 * (round + 1) + i;
		struct smsr_eis *e = small_eis(ctx, n);
		struct smsr_db_op_hdr h = { .state = (uint8_t)i, .created = i };
		struct smsr_db_txn *txn;
		uint64_t v, id;
		char fcid[32];

		if (smsr_db_eis_insert(db, NULL, e) < 0)
			_exit(3);
		if (i % 3 == 0) {
			/* an EIS update and a journal record, atomically */
			snprintf(e->profiles[0].iccid, sizeof(e->profiles[0].iccid), "8977%015u", n);
			snprintf(fcid, sizeof(fcid), "F%u", n);
			if (smsr_db_txn_begin(db, &txn) < 0 || smsr_db_eis_update(db, txn, e) < 0 ||
			    smsr_db_op_create(db, txn, &h, "1.2.3", fcid, e->eid, 16, &id) < 0 ||
			    smsr_db_txn_commit(&txn) < 0)
				_exit(4);
		}
		if (i % 5 == 4 && smsr_db_eis_delete(db, NULL, e->eid) < 0)
			_exit(5);
		if (i % 7 == 0) {
			/* a bulk import of 20 */
			const struct smsr_eis *batch[20];

			for (unsigned j = 0; j < 20; j++)
				batch[j] = small_eis(e, 10000000 + 100 * n + j);
			if (smsr_db_eis_import(db, batch, 20, NULL) < 0)
				_exit(8);
		}
		if (smsr_db_cntr_next(db, eid0, 1, &v) < 0)
			_exit(6);
		/* reported only after the commit returned */
		if (write(fd, &v, sizeof(v)) != sizeof(v))
			_exit(7);
		talloc_free(e);
	}
}

static void test_db_crash(void)
{
	void *ctx = talloc_new(NULL);
	const char *dir = newdir("crash");
	struct smsr_db *db = open_db(ctx, dir);
	struct smsr_eis *e0 = small_eis(ctx, 1);
	uint64_t stored = 0, v, max_seen;
	unsigned round, seed = (unsigned)time(NULL);
	size_t n_eis;

	if (!db)
		return;
	if (getenv("DB_TEST_SEED"))
		seed = (unsigned)strtoul(getenv("DB_TEST_SEED"), NULL, 0);
	srand(seed);
	printf("crash: seed %u (DB_TEST_SEED=%u to repeat)\n", seed, seed);
	CHECK_RC(smsr_db_eis_insert(db, NULL, e0), 0);
	smsr_db_close(&db);	/* never across fork() */

	for (round = 0; round < CRASH_ROUNDS; round++) {
		int p[2], status;
		pid_t pid;
		ssize_t r;
		unsigned delay_ms = 30 + (unsigned)rand() % 300;

		if (pipe(p) < 0) {
			CHECK(0, "pipe");
			break;
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			crash_child(dir, p[1], round);
			_exit(1);
		}
		close(p[1]);
		usleep(delay_ms * 1000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "round %u: child killed (status %x)", round,
		      status);
		max_seen = 0;
		while ((r = read(p[0], &v, sizeof(v))) == sizeof(v)) {
			CHECK(v > max_seen, "round %u: values handed out increase", round);
			CHECK(v > stored, "round %u: value %llu not above the previous round's %llu", round,
			      (unsigned long long)v, (unsigned long long)stored);
			max_seen = v;
		}
		close(p[0]);

		db = open_db(ctx, dir);
		if (!db)
			break;
		CHECK_RC(db_check_quiet(db, 0), 0);
		CHECK_RC(smsr_db_cntr_get(db, NULL, e0->eid, 1, &v), 0);
		CHECK(v >= max_seen && v >= stored, "round %u: stored counter %llu went back (seen %llu, before %llu)",
		      round, (unsigned long long)v, (unsigned long long)max_seen, (unsigned long long)stored);
		stored = v;
		CHECK_RC(smsr_db_cntr_next(db, e0->eid, 1, &v), 0);
		CHECK(v == stored + 1, "round %u: next after restart", round);
		stored = v;
		smsr_db_eis_count(db, &n_eis);
		printf("crash: round %u killed after %u ms: counter at %llu, %zu EIS\n", round, delay_ms,
		       (unsigned long long)stored, n_eis);
		smsr_db_close(&db);
	}
	talloc_free(ctx);
}

/*
 * Key wrapping at rest.
 */

static void test_wrap(void)
{
	void *ctx = talloc_new(NULL);
	static const uint8_t raw[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
					 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f };
	static const uint8_t msg[40] = { 1, 2, 3 };
	struct ota_wrap_master *m = NULL, *m2 = NULL, *ml = NULL;
	struct ota_key *ref = NULL, *k = NULL, *tk = NULL;
	uint8_t aad[OTA_WRAP_AAD_KEY_LEN], aad2[OTA_WRAP_AAD_KEY_LEN], eid[16], *blob, *blob2, mac1[16], mac2[16];
	uint8_t c1[32], c2[32];
	size_t blen, blen2, i;
	struct ota_iov iov = { msg, sizeof(msg) };
	char path[600];
	unsigned bad;
	int fd;

	eid_of(eid, 60);
	ota_wrap_aad_key(aad, eid, 0, 1, 2, 0);
	ota_wrap_aad_key(aad2, eid, 0, 1, 3, 0);	/* another key index */
	CHECK(aad[0] == 'K' && !memcmp(aad + 1, eid, 16) && aad[17] == 0 && aad[18] == 1 && aad[19] == 2 &&
		      aad[20] == 0,
	      "AAD layout");
	CHECK_RC(ota_wrap_master_generate(ctx, &m), 0);
	CHECK_RC(ota_wrap_master_generate(ctx, &m2), 0);
	CHECK_RC(ota_key_import(ctx, raw, 16, &ref), 0);
	CHECK_RC(ota_wrap_seal(m, raw, 16, aad, sizeof(aad), ctx, &blob, &blen), 0);
	CHECK(blen == 16 + OTA_WRAP_OVERHEAD && blob[0] == 0x01, "blob size and format");
	CHECK(!memmem(blob, blen, raw, 16) && !memmem(blob, blen, raw, 8), "no clear key in the blob");
	CHECK_RC(ota_wrap_seal(m, raw, 16, aad, sizeof(aad), ctx, &blob2, &blen2), 0);
	CHECK(blen2 == blen && memcmp(blob, blob2, blen), "random nonce: two seals differ");
	CHECK_RC(ota_wrap_unwrap_key(m, blob, blen, aad, sizeof(aad), ctx, &k), 0);
	CHECK(k && ota_key_len(k) == 16, "unwrapped handle");
	if (k) {
		CHECK_RC(ota_key_mac(k, OTA_MAC_AES_CMAC, &iov, 1, mac1, 16), 0);
		CHECK_RC(ota_key_mac(ref, OTA_MAC_AES_CMAC, &iov, 1, mac2, 16), 0);
		CHECK(!memcmp(mac1, mac2, 16), "unwrapped key MACs like the raw key");
		CHECK_RC(ota_key_cipher(k, OTA_CIPHER_AES_CBC, true, NULL, msg, c1, 32), 0);
		CHECK_RC(ota_key_cipher(ref, OTA_CIPHER_AES_CBC, true, NULL, msg, c2, 32), 0);
		CHECK(!memcmp(c1, c2, 32), "unwrapped key ciphers like the raw key");
		talloc_free(k);
	}
	k = NULL;
	CHECK_RC(ota_wrap_unwrap_key(m, blob, blen, aad2, sizeof(aad2), ctx, &k), -PROTO_E_INTEGRITY);
	CHECK(k == NULL, "no handle on failure");
	CHECK_RC(ota_wrap_unwrap_key(m, blob, blen, NULL, 0, ctx, &k), -PROTO_E_INTEGRITY);
	CHECK_RC(ota_wrap_unwrap_key(m2, blob, blen, aad, sizeof(aad), ctx, &k), -PROTO_E_INTEGRITY);
	CHECK_RC(ota_wrap_unwrap_key(m, blob, blen - 1, aad, sizeof(aad), ctx, &k), -PROTO_E_INTEGRITY);
	CHECK_RC(ota_wrap_unwrap_key(m, blob, OTA_WRAP_OVERHEAD, aad, sizeof(aad), ctx, &k), -PROTO_E_INTEGRITY);
	CHECK_RC(ota_wrap_unwrap_key(m, blob, 0, aad, sizeof(aad), ctx, &k), -PROTO_E_INTEGRITY);
	bad = 0;
	for (i = 0; i < blen; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int rc;

			blob[i] ^= (uint8_t)(1 << bit);
			rc = ota_wrap_unwrap_key(m, blob, blen, aad, sizeof(aad), ctx, &k);
			if (rc != (i ? -PROTO_E_INTEGRITY : -PROTO_E_UNSUPPORTED) || k)
				bad++;
			blob[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK(bad == 0, "%u bit flips not detected", bad);
	CHECK_RC(ota_wrap_seal(m, raw, 0, NULL, 0, ctx, &blob2, &blen2), -EINVAL);
	CHECK_RC(ota_wrap_seal(m, raw, 5, NULL, 0, ctx, &blob2, &blen2), 0);
	CHECK_RC(ota_wrap_unwrap_key(m, blob2, blen2, NULL, 0, ctx, &k), -PROTO_E_KEY);	/* not a key length */

	/* a key handle wrapped directly */
	CHECK_RC(ota_wrap_key(m, ref, aad, sizeof(aad), ctx, &blob2, &blen2), 0);
	CHECK_RC(ota_wrap_unwrap_key(m, blob2, blen2, aad, sizeof(aad), ctx, &k), 0);
	if (k) {
		CHECK_RC(ota_key_mac(k, OTA_MAC_AES_CMAC, &iov, 1, mac1, 16), 0);
		CHECK(!memcmp(mac1, mac2, 16), "wrapped handle round trip");
		TALLOC_FREE(k);
	}

	/* transport-key import ([K]: AES-ECB + PKCS#7, unverified) */
	{
		static const uint8_t tkey[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
						  0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00 };
		uint8_t pt[32], ct[32];
		struct ota_key *des = NULL;

		CHECK_RC(ota_key_import(ctx, tkey, 16, &tk), 0);
		memcpy(pt, raw, 16);
		memset(pt + 16, 16, 16);	/* a full padding block */
		CHECK_RC(ota_key_cipher(tk, OTA_CIPHER_AES_ECB, true, NULL, pt, ct, 32), 0);
		CHECK_RC(ota_wrap_import_transport(m, tk, ct, 32, aad, sizeof(aad), ctx, &blob2, &blen2), 0);
		CHECK_RC(ota_wrap_unwrap_key(m, blob2, blen2, aad, sizeof(aad), ctx, &k), 0);
		if (k) {
			CHECK_RC(ota_key_mac(k, OTA_MAC_AES_CMAC, &iov, 1, mac1, 16), 0);
			CHECK(!memcmp(mac1, mac2, 16), "transport import yields the key");
			TALLOC_FREE(k);
		}
		CHECK_RC(ota_wrap_import_transport(m, tk, ct, 31, aad, sizeof(aad), ctx, &blob2, &blen2),
			 -PROTO_E_CIPHER);
		CHECK_RC(ota_wrap_import_transport(m, tk, ct, 0, aad, sizeof(aad), ctx, &blob2, &blen2),
			 -PROTO_E_CIPHER);
		pt[31] = 17;
		CHECK_RC(ota_key_cipher(tk, OTA_CIPHER_AES_ECB, true, NULL, pt, ct, 32), 0);
		CHECK_RC(ota_wrap_import_transport(m, tk, ct, 32, aad, sizeof(aad), ctx, &blob2, &blen2),
			 -PROTO_E_INTEGRITY);
		pt[31] = 16;
		pt[20] = 15;
		CHECK_RC(ota_key_cipher(tk, OTA_CIPHER_AES_ECB, true, NULL, pt, ct, 32), 0);
		CHECK_RC(ota_wrap_import_transport(m, tk, ct, 32, aad, sizeof(aad), ctx, &blob2, &blen2),
			 -PROTO_E_INTEGRITY);
		CHECK(blob2 == NULL, "no blob on failure");
		CHECK_RC(ota_key_import(ctx, tkey, 8, &des), 0);
		CHECK_RC(ota_wrap_import_transport(m, des, ct, 32, aad, sizeof(aad), ctx, &blob2, &blen2),
			 -PROTO_E_KEY);
	}

	/* master key file: created 0600, loaded back, permissions enforced */
	snprintf(path, sizeof(path), "%s/master.key", tmpdir);
	CHECK_RC(ota_wrap_master_load(ctx, path, &ml), -ENOENT);
	CHECK_RC(ota_wrap_master_create(ctx, path, &m2), 0);
	{
		struct stat st;

		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32, "file mode 0600");
	}
	CHECK_RC(ota_wrap_master_create(ctx, path, &ml), -EEXIST);
	CHECK_RC(ota_wrap_master_load(ctx, path, &ml), 0);
	CHECK_RC(ota_wrap_seal(m2, raw, 16, aad, sizeof(aad), ctx, &blob2, &blen2), 0);
	CHECK_RC(ota_wrap_unwrap_key(ml, blob2, blen2, aad, sizeof(aad), ctx, &k), 0);
	TALLOC_FREE(k);
	TALLOC_FREE(ml);
	CHECK(chmod(path, 0640) == 0, "chmod");
	CHECK_RC(ota_wrap_master_load(ctx, path, &ml), -EPERM);
	CHECK(chmod(path, 0604) == 0, "chmod");
	CHECK_RC(ota_wrap_master_load(ctx, path, &ml), -EPERM);
	CHECK(chmod(path, 0400) == 0, "chmod");
	CHECK_RC(ota_wrap_master_load(ctx, path, &ml), 0);
	TALLOC_FREE(ml);
	{
		char link[620], shortf[620];

		snprintf(link, sizeof(link), "%s/master.link", tmpdir);
		CHECK(symlink(path, link) == 0, "symlink");
		CHECK_RC(ota_wrap_master_load(ctx, link, &ml), -EINVAL);
		snprintf(shortf, sizeof(shortf), "%s/short.key", tmpdir);
		fd = open(shortf, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0 && write(fd, raw, 16) == 16, "short key file");
		close(fd);
		CHECK_RC(ota_wrap_master_load(ctx, shortf, &ml), -EINVAL);
		CHECK_RC(ota_wrap_master_load(ctx, tmpdir, &ml), -EINVAL);
	}
	CHECK(ml == NULL, "no handle on failure");
	talloc_free(ctx);
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	size_t leaked;

	snprintf(tmpdir, sizeof(tmpdir), "%s/db_test.XXXXXX", base);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	talloc_enable_null_tracking();
	test_codec();
	test_eis_helpers();
	test_ix_keys();
	test_db_eis();
	test_db_import();
	test_db_cntr();
	test_db_group();
	test_db_journal();
	test_db_schema_check();
	test_db_mapfull();
	test_wrap();
	test_db_crash();
	leaked = talloc_total_blocks(NULL);
	CHECK(leaked == 1, "talloc blocks left: %zu", leaked);
	if (leaked != 1)
		talloc_report_full(NULL, stderr);
	talloc_disable_null_tracking();
	rm_rf(tmpdir);
	TEST_DONE();
}
