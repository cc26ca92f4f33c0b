/* smsr-db-bench: the SM-SR's LMDB store. Prints one key=value line per figure.
 *
 *   eis_record_bytes      size of one stored EIS record (smsr_eis_encode_record())
 *   es1_import_per_s      EIS stored per second by smsr_db_eis_import() (ES1 bulk onboarding), batches of
 *                         `batch` EIS per write transaction, durable commits (fsync), encoding included
 *   lmdb_bytes_per_eis    LMDB pages in use (all databases: EIS records, ICCID and MSISDN indexes, meta) x page
 *                         size / N, after importing N
 *   eis_get_per_s         smsr_db_eis_get() by random EID (LMDB lookup + decode into a talloc tree + free)
 *   eis_get_p50_us, eis_get_p99_us  latency of one such call
 *
 * Each generated EIS is what an EUM registers for an M2M eUICC, minus the signed XML: EumSignedInfo fields, an
 * ECASD with its keyset and a 110-byte certificate, 2 profiles (19-digit ICCID, IMSI, MSISDN, POL2 rules, SM-DP
 * and MNO OIDs), and an ISD-R SCP80 keyset with 3 AES-128 keys wrapped by ota/keystore_wrap (AES-256-GCM,
 * 45-byte blobs). Generation and key wrapping are not timed.
 *
 * EIDs are consecutive serial numbers (an EUM production lot), so each batch lands after the stored ones; with -r
 * they are scattered (batches from many lots interleaved): records then go into the middle of the B-tree and pages
 * are filled less.
 *
 * With -x, each EIS also keeps its EumSignedInfo (1,500 bytes) and EumSignature (1,100 bytes) XML text, as one
 * registered over ES1 does: records then take LMDB overflow pages.
 *
 * Usage: smsr-db-bench [-r] [-x] [N (default 100000)] [batch (default 10000)] [directory (default: a new one under
 * $TMPDIR, removed at exit)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include "ota/keystore_wrap.h"
#include "smsr/db.h"
#include "smsr/eis.h"
#include "smsr/eis_codec.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool random_eids, with_xml;

static void make_eid(uint8_t eid[16], unsigned long n)
{
	/* EUM prefix 89049032 0010 ... then a serial number */
	static const uint8_t prefix[8] = { 0x89, 0x04, 0x90, 0x32, 0x00, 0x10, 0x00, 0x00 };

	if (random_eids) {
		/* splitmix64 finaliser: a bijection, so EIDs stay unique */
		uint64_t z = n + 0x9e3779b97f4a7c15ull;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		n = (unsigned long)(z ^ (z >> 31));
	}
	memcpy(eid, prefix, 8);
	for (int i = 0; i < 8; i++)
		eid[15 - i] = (uint8_t)(n >> (8 * i));
}

static void aid(struct smsr_aid *a, const char *hex16)
{
	for (int i = 0; i < 16; i++) {
		unsigned v;

		sscanf(hex16 + 2 * i, "%2x", &v);
		a->b[i] = (uint8_t)v;
	}
	a->len = 16;
}

static struct smsr_eis *gen_eis(void *ctx, unsigned long n, const struct ota_wrap_master *m)
{
	struct smsr_eis *e = talloc_zero(ctx, struct smsr_eis);
	struct smsr_keyset *ks;
	unsigned i;

	make_eid(e->eid, n);
	e->eum_id = talloc_strdup(e, "1.3.6.1.4.1.31746.1.100");
	e->production_date = talloc_asprintf(e, "2026-%02lu-%02luT08:00:00Z", 1 + n % 12, 1 + n % 28);
	e->platform_type = talloc_strdup(e, "ACME-M2M-EUICC");
	e->platform_version = talloc_strdup(e, "4.2.0");
	aid(&e->isdp_loadfile_aid, "a0000005591010ffffffff8900000d00");
	aid(&e->isdp_module_aid, "a0000005591010ffffffff8900000e00");
	aid(&e->ecasd.aid, "a0000005591010ffffffff8900000200");
	e->ecasd.role = SMSR_SD_ECASD;
	e->ecasd.n_keysets = 1;
	e->ecasd.keysets = ks = talloc_zero_array(e, struct smsr_keyset, 1);
	ks->version = 0x73;
	ks->type = SMSR_KEYSET_CA;
	ks->n_certs = 1;
	ks->certs = talloc_zero_array(e, struct smsr_certificate, 1);
	ks->certs[0].index = 1;
	ks->certs[0].ca_id = talloc_strdup(e, "1.3.6.1.4.1.31746.2");
	ks->certs[0].len = 110;
	ks->certs[0].value = talloc_size(e, 110);
	for (i = 0; i < 110; i++)
		ks->certs[0].value[i] = (uint8_t)(n * 131 + i * 17);
	ks->certs[0].value[0] = 0x7f;
	ks->certs[0].value[1] = 0x21;
	e->cattp_support = true;
	e->cattp_version = talloc_strdup(e, "1.0.0");
	e->http_support = true;
	e->http_version = talloc_strdup(e, "1.1.0");
	e->secure_packet_version = talloc_strdup(e, "9.2.0");
	e->remote_provisioning_version = talloc_strdup(e, "4.2.0");
	e->remaining_memory = 350000;
	e->available_memory = 500000;
	e->smsr_id = talloc_strdup(e, "1.3.6.1.4.1.31746.3.1");

	e->n_profiles = 2;
	e->profiles = talloc_zero_array(e, struct smsr_profile, 2);
	for (i = 0; i < 2; i++) {
		struct smsr_profile *p = &e->profiles[i];

		snprintf(p->iccid, sizeof(p->iccid), "8949%u%014lu", 1 + i, n);
		aid(&p->isdp_aid, i ? "a0000005591010ffffffff8900001200" : "a0000005591010ffffffff8900001100");
		p->mno_id = talloc_strdup(e, i ? "1.3.6.1.4.1.20001" : "1.3.6.1.4.1.20000");
		p->fallback = i == 0;
		snprintf(p->imsi, sizeof(p->imsi), "2620%u%010lu", 1 + i, n);
		snprintf(p->msisdn, sizeof(p->msisdn), "49%u%010lu", 151 + i, n);
		p->state = i ? SMSR_PROFILE_DISABLED : SMSR_PROFILE_ENABLED;
		p->smdp_id = talloc_strdup(e, "1.3.6.1.4.1.31746.4.1");
		p->profile_type = talloc_strdup(e, "M2M_LTE_64K");
		p->allocated_memory = 65536;
		p->n_pol2 = 1;
		p->pol2 = talloc_zero_array(e, struct smsr_pol2_rule, 1);
		p->pol2[0].action = i ? SMSR_POL2_DELETE : SMSR_POL2_DISABLE;
		p->pol2[0].qualification = SMSR_POL2_NOT_ALLOWED;
	}
	snprintf(e->isdr_msisdn, sizeof(e->isdr_msisdn), "%s", e->profiles[0].msisdn);
	if (with_xml) {
		e->signed_info_xml = talloc_zero_size(e, 1501);
		e->signature_xml = talloc_zero_size(e, 1101);
		for (i = 0; i < 1500; i++)
			e->signed_info_xml[i] = "<EumSignedInfo>0123456789abcdef"[(n + i) % 31];
		for (i = 0; i < 1100; i++)
			e->signature_xml[i] = "<ds:SignatureValue>ABCDEF+/"[(n * 7 + i) % 26];
	}

	aid(&e->isdr.aid, "a0000005591010ffffffff8900000100");
	e->isdr.role = SMSR_SD_ISDR;
	e->isdr.n_keysets = 1;
	e->isdr.keysets = ks = talloc_zero_array(e, struct smsr_keyset, 1);
	ks->version = 1;
	ks->type = SMSR_KEYSET_SCP80;
	ks->n_keys = 3;
	ks->keys = talloc_zero_array(e, struct smsr_key, 3);
	for (i = 0; i < 3; i++) {
		struct smsr_key *k = &ks->keys[i];
		uint8_t raw[16], ad[OTA_WRAP_AAD_KEY_LEN];

		for (int j = 0; j < 16; j++)
			raw[j] = (uint8_t)(rand() >> 3);
		k->index = (uint8_t)(i + 1);
		k->kcv_len = 3;
		memcpy(k->kcv, raw, 3);	/* stand-in: public, not derived here */
		k->n_comp = 1;
		k->comp = talloc_zero_array(e, struct smsr_key_component, 1);
		k->comp[0].type = 0x88;
		ota_wrap_aad_key(ad, e->eid, SMSR_SD_ISDR, ks->version, k->index, 0);
		if (ota_wrap_seal(m, raw, 16, ad, sizeof(ad), e, &k->comp[0].wrapped, &k->comp[0].wrapped_len) < 0)
			abort();
		memset(raw, 0, sizeof(raw));
	}
	return e;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long n, batch;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	void *ctx = talloc_named_const(NULL, 0, "smsr-db-bench");
	struct smsr_db_cfg cfg = { 0 };
	struct ota_wrap_master *m;
	struct smsr_db *db;
	struct smsr_db_stat st;
	char dir[512], cmd[600];
	double t_import = 0, t0, t, *lat;
	unsigned long i, done, lookups, enc_bytes = 0;
	bool own_dir;
	int rc;

	while (argc > 1 && (!strcmp(argv[1], "-r") || !strcmp(argv[1], "-x"))) {
		if (argv[1][1] == 'r')
			random_eids = true;
		else
			with_xml = true;
		argv++;
		argc--;
	}
	n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	batch = argc > 2 ? strtoul(argv[2], NULL, 0) : 10000;
	own_dir = argc <= 3;

	if (!n || !batch)
		return 2;
	if (own_dir) {
		snprintf(dir, sizeof(dir), "%s/smsr-db-bench.XXXXXX", base);
		if (!mkdtemp(dir))
			return 1;
	} else {
		snprintf(dir, sizeof(dir), "%s", argv[3]);
	}
	/* about 1 KiB per EIS (4.3 KiB with -x) plus headroom */
	cfg.map_size = (size_t)n * (with_xml ? 8192 : 4096) + ((size_t)1 << 30);
	srand(1);
	if (ota_wrap_master_generate(ctx, &m) < 0 || (rc = smsr_db_open(ctx, dir, &cfg, &db)) < 0) {
		fprintf(stderr, "open failed\n");
		return 1;
	}

	for (done = 0; done < n; done += batch) {
		unsigned long b = n - done < batch ? n - done : batch;
		void *bctx = talloc_new(ctx);
		const struct smsr_eis **v = talloc_array(bctx, const struct smsr_eis *, b);

		for (i = 0; i < b; i++) {
			v[i] = gen_eis(bctx, done + i, m);
			if (done == 0 && i < 1000) {
				uint8_t rec[8192];
				struct proto_buf pb;

				proto_buf_init(&pb, rec, sizeof(rec));
				if (smsr_eis_encode_record(v[i], &pb) == 0)
					enc_bytes += pb.len;
			}
		}
		t0 = now();
		rc = smsr_db_eis_import(db, v, b, NULL);
		t_import += now() - t0;
		talloc_free(bctx);
		if (rc < 0) {
			fprintf(stderr, "import failed at %lu: %d\n", done, rc);
			return 1;
		}
	}
	printf("n_eis=%lu\n", n);
	printf("eid_order=%s\n", random_eids ? "random" : "sequential");
	printf("signed_xml=%s\n", with_xml ? "yes" : "no");
	printf("batch=%lu\n", batch);
	printf("eis_record_bytes=%lu\n", enc_bytes / (n < 1000 ? n : 1000));
	printf("es1_import_per_s=%.0f\n", n / t_import);

	if (smsr_db_stat(db, &st) == 0) {
		printf("lmdb_bytes_per_eis=%.0f\n", (double)st.pages * st.page_size / n);
		printf("lmdb_eis_bytes_per_eis=%.0f\n", (double)st.eis_pages * st.page_size / n);
		printf("lmdb_index_bytes_per_eis=%.0f\n", (double)st.index_pages * st.page_size / n);
		printf("lmdb_file_bytes_per_eis=%.0f\n", (double)(st.last_page + 1) * st.page_size / n);
	}

	/* random GetEIS: as many lookups as EIS (at most 1M), each timed */
	lookups = n < 1000000 ? n : 1000000;
	if (lookups < 100000)
		lookups = 100000;
	lat = malloc(lookups * sizeof(*lat));
	if (!lat)
		return 1;
	t0 = now();
	for (i = 0; i < lookups; i++) {
		uint8_t eid[16];
		struct smsr_eis *e;
		double s;

		make_eid(eid, ((unsigned long)rand() << 16 ^ (unsigned long)rand()) % n);
		s = now();
		rc = smsr_db_eis_get(db, NULL, ctx, eid, &e);
		talloc_free(e);
		lat[i] = now() - s;
		if (rc < 0) {
			fprintf(stderr, "get failed: %d\n", rc);
			return 1;
		}
	}
	t = now() - t0;
	qsort(lat, lookups, sizeof(*lat), cmp_double);
	printf("eis_get_per_s=%.0f\n", lookups / t);
	printf("eis_get_p50_us=%.2f\n", lat[lookups / 2] * 1e6);
	printf("eis_get_p99_us=%.2f\n", lat[lookups * 99 / 100] * 1e6);
	free(lat);

	smsr_db_close(&db);
	talloc_free(ctx);
	if (own_dir) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
