/* smdp-ctl: the SM-DP operator's tool (profile templates, ICCID pools, ES3 CURVE keys).
 * Exit status: 0 done, 1 some records refused, 2 usage, 3 file, store or configuration error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include "smdp/config.h"
#include "smdp/db.h"
#include "smdp/saip.h"
#include "smdp/smdpd.h"
#include "smsr/logging.h"
#include "smsr/zmq_link.h"
#include "ota/keystore_wrap.h"
#include "proto/errors.h"
#include "proto/hex.h"

enum { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_ERROR };

static void usage(void)
{
	fprintf(stderr,
		"usage: smdp-ctl [-c CONFIG] COMMAND\n"
		"  profile import --mno OID --type NAME FILE [--replace]   store a profile package template\n"
		"  profile list                                            templates, sizes, RequiredMemory\n"
		"  profile make-test --size BYTES --type NAME --out FILE    write a test template\n"
		"  pool import --type NAME FILE.csv                         add ICCIDs (iccid,imsi,ki_hex,opc_hex)\n"
		"  pool status [--type NAME]                                records per state\n"
		"  keygen PREFIX                                            ES3 CURVE key pair: PREFIX.pub, "
		"PREFIX.key\n");
}

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static uint8_t *read_file(void *ctx, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			uint8_t *nb =
				cap < (16 << 20) ? talloc_realloc(ctx, buf, uint8_t, cap ? 2 * cap : 65536) : NULL;
			if (!nb) {
				talloc_free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = talloc_get_size(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int profile_import(struct smdp_db *db, int argc, char **argv)
{
	const char *mno = opt(argc, argv, "--mno"), *type = opt(argc, argv, "--type"), *file = argv[argc - 1];
	struct smdp_saip_info info;
	char why[256];
	uint8_t *pkg;
	size_t len;
	uint64_t mem;
	int rc;

	if (!mno || !type || argc < 5 || file[0] == '-') {
		usage();
		return EXIT_USAGE;
	}
	pkg = read_file(db, file, &len);
	if (!pkg) {
		fprintf(stderr, "smdp-ctl: cannot read %s\n", file);
		return EXIT_ERROR;
	}
	rc = smdp_saip_check(pkg, len, &info, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "smdp-ctl: %s is not a profile package: %s\n", file, why);
		return EXIT_REFUSED;
	}
	{
		/* every order personalises the template: refuse one that lacks a placeholder now, not at download */
		static const uint8_t zero[16];
		uint8_t *copy = talloc_memdup(db, pkg, len);
		rc = copy ? smdp_saip_personalise(copy, len,
						  &(struct smdp_saip_perso){.iccid = "8900000000000000000",
									    .imsi = "001010000000000",
									    .ki = zero,
									    .opc = zero})
			  : -ENOMEM;
		talloc_free(copy);
		if (rc < 0) {
			fprintf(stderr,
				"smdp-ctl: %s cannot be personalised (ICCID, EF-IMSI, Ki/OPc placeholders): %s\n", file,
				proto_strerror(rc));
			return EXIT_REFUSED;
		}
	}
	mem = smdp_saip_required_memory(len);
	rc = smdp_db_profile_put(db, mno, type, pkg, len, mem, flag(argc, argv, "--replace"));
	if (rc == -EEXIST) {
		fprintf(stderr, "smdp-ctl: a template for %s / %s exists (use --replace)\n", mno, type);
		return EXIT_REFUSED;
	}
	if (rc < 0) {
		fprintf(stderr, "smdp-ctl: store: %s\n", proto_strerror(rc));
		return EXIT_ERROR;
	}
	printf("profile %s / %s: %zu bytes, %u profile elements, RequiredMemory %llu\n", mno, type, len, info.n_pe,
	       (unsigned long long)mem);
	return EXIT_OK;
}

static int print_profile(void *data, const char *mno, const char *type, size_t len, uint64_t mem)
{
	printf("%s\t%s\t%zu bytes\tRequiredMemory %llu\n", mno, type, len, (unsigned long long)mem);
	return 0;
}

static int pool_import(struct smdp_db *db, const struct smdp_config *cfg, int argc, char **argv)
{
	const char *type = opt(argc, argv, "--type"), *file = argv[argc - 1];
	struct ota_wrap_master *m;
	struct smdp_pool_rec *recs;
	unsigned n = 0, cap = 1024, bad = 0, refused = 0, lineno = 0;
	char line[512];
	FILE *f;
	int rc;

	if (!type || argc < 4 || file[0] == '-') {
		usage();
		return EXIT_USAGE;
	}
	rc = ota_wrap_master_load(db, cfg->master_key_file, &m);
	if (rc < 0) {
		fprintf(stderr, "smdp-ctl: master key %s: %s\n", cfg->master_key_file, proto_strerror(rc));
		return EXIT_ERROR;
	}
	f = fopen(file, "r");
	recs = talloc_array(db, struct smdp_pool_rec, cap);
	if (!f || !recs) {
		fprintf(stderr, "smdp-ctl: cannot read %s\n", file);
		if (f)
			fclose(f);
		return EXIT_ERROR;
	}
	while (fgets(line, sizeof(line), f)) {
		char *iccid, *imsi, *ki, *opc, *save = NULL;
		uint8_t raw[2][16], aad[32], *blob;
		size_t blen, al;
		struct smdp_pool_rec *r;
		int k;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		iccid = strtok_r(line, ",", &save);
		imsi = strtok_r(NULL, ",", &save);
		ki = strtok_r(NULL, ",", &save);
		opc = strtok_r(NULL, ",", &save);
		if (!opc || strlen(iccid) < 18 || strlen(iccid) > 20 || strspn(iccid, "0123456789") != strlen(iccid) ||
		    strlen(imsi) < 6 || strlen(imsi) > 15 || strspn(imsi, "0123456789") != strlen(imsi) ||
		    strlen(ki) != 32 || strlen(opc) != 32 || proto_hex_decode(ki, raw[0], 16) != 16 ||
		    proto_hex_decode(opc, raw[1], 16) != 16) {
			fprintf(stderr, "%s:%u: refused: expected iccid,imsi,ki(32 hex),opc(32 hex)\n", file, lineno);
			OPENSSL_cleanse(line, sizeof(line));
			refused++;
			continue;
		}
		if (n == cap && !(recs = talloc_realloc(db, recs, struct smdp_pool_rec, cap *= 2)))
			break;
		r = &recs[n];
		memset(r, 0, sizeof(*r));
		snprintf(r->iccid, sizeof(r->iccid), "%s", iccid);
		snprintf(r->imsi, sizeof(r->imsi), "%s", imsi);
		for (k = 0; k < 2; k++) {
			al = smdpd_pool_aad(aad, sizeof(aad), k ? 'O' : 'K', r->iccid);
			rc = ota_wrap_seal(m, raw[k], 16, aad, al, recs, &blob, &blen);
			if (rc < 0 || blen > SMDP_SEALED_MAX)
				break;
			memcpy(k ? r->opc : r->ki, blob, blen);
			*(k ? &r->opc_len : &r->ki_len) = (uint8_t)blen;
			talloc_free(blob);
		}
		OPENSSL_cleanse(raw, sizeof(raw));
		OPENSSL_cleanse(line, sizeof(line)); /* it held Ki and OPc in hex */
		if (k < 2) {
			fprintf(stderr, "smdp-ctl: sealing failed\n");
			fclose(f);
			return EXIT_ERROR;
		}
		n++;
	}
	fclose(f);
	if (refused) {
		fprintf(stderr, "smdp-ctl: %u line(s) refused, nothing imported\n", refused);
		return EXIT_REFUSED;
	}
	rc = smdp_db_pool_add(db, type, recs, n, &bad);
	if (rc == -EEXIST) {
		fprintf(stderr, "smdp-ctl: ICCID %s is already in a pool (or twice in the file), nothing imported\n",
			recs[bad].iccid);
		return EXIT_REFUSED;
	}
	if (rc < 0) {
		fprintf(stderr, "smdp-ctl: store: %s\n", proto_strerror(rc));
		return EXIT_ERROR;
	}
	printf("pool %s: %u ICCIDs imported\n", type, n);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	void *ctx = talloc_new(NULL);
	const char *path = "/etc/m2m-sm/smdpd.conf";
	struct smdp_config *cfg = talloc_zero(ctx, struct smdp_config);
	struct smdp_db *db;
	char err[512];
	int a = 1, rc = EXIT_USAGE;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		path = argv[2];
		a = 3;
	}
	if (argc - a < 1) {
		usage();
		talloc_free(ctx);
		return EXIT_USAGE;
	}
	argc -= a;
	argv += a;
	if (!strcmp(argv[0], "keygen") && argc == 2) {
		char pub[41], sec[41], name[512];
		FILE *f;
		if (smsr_zlink_keypair(pub, sec) < 0) {
			rc = EXIT_ERROR;
			goto out;
		}
		snprintf(name, sizeof(name), "%s.key", argv[1]);
		f = fopen(name, "wx");
		if (!f || fprintf(f, "%s\n", sec) < 0 || fclose(f)) {
			fprintf(stderr, "smdp-ctl: cannot create %s (exists?)\n", name);
			rc = EXIT_ERROR;
			goto out;
		}
		chmod(name, 0600);
		snprintf(name, sizeof(name), "%s.pub", argv[1]);
		f = fopen(name, "w");
		OPENSSL_cleanse(sec, sizeof(sec));
		rc = !f || fprintf(f, "%s\n", pub) < 0 || fclose(f) ? EXIT_ERROR : EXIT_OK;
		if (rc == EXIT_OK)
			printf("%s\n", pub);
		goto out;
	}
	if (!strcmp(argv[0], "profile") && argc >= 2 && !strcmp(argv[1], "make-test")) {
		const char *size = opt(argc, argv, "--size"), *type = opt(argc, argv, "--type"),
			   *out = opt(argc, argv, "--out");
		uint8_t *pkg;
		size_t len;
		FILE *f;
		if (!size || !type || !out) {
			usage();
			goto out;
		}
		if (smdp_saip_build_test(ctx, (size_t)strtoul(size, NULL, 10), type, &pkg, &len) < 0) {
			fprintf(stderr, "smdp-ctl: bad size or type\n");
			goto out;
		}
		f = fopen(out, "wb");
		rc = !f || fwrite(pkg, 1, len, f) != len || fclose(f) ? EXIT_ERROR : EXIT_OK;
		if (rc == EXIT_OK)
			printf("%s: %zu bytes\n", out, len);
		else
			fprintf(stderr, "smdp-ctl: cannot write %s\n", out);
		goto out;
	}
	if (smdp_config_load(cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "smdp-ctl: %s\n", err);
		rc = EXIT_ERROR;
		goto out;
	}
	smsr_log_init("smdp-ctl", false, false);
	if (smdp_db_open(ctx, cfg->db_path, cfg->db_map_size, &db) < 0) {
		rc = EXIT_ERROR;
		goto out;
	}
	if (!strcmp(argv[0], "profile") && argc >= 2 && !strcmp(argv[1], "import")) {
		rc = profile_import(db, argc, argv);
	} else if (!strcmp(argv[0], "profile") && argc == 2 && !strcmp(argv[1], "list")) {
		rc = smdp_db_profile_list(db, print_profile, NULL) < 0 ? EXIT_ERROR : EXIT_OK;
	} else if (!strcmp(argv[0], "pool") && argc >= 2 && !strcmp(argv[1], "import")) {
		rc = pool_import(db, cfg, argc, argv);
	} else if (!strcmp(argv[0], "pool") && argc >= 2 && !strcmp(argv[1], "status")) {
		uint64_t c[3];
		const char *type = opt(argc, argv, "--type");
		rc = smdp_db_pool_count(db, type, c) < 0 ? EXIT_ERROR : EXIT_OK;
		if (rc == EXIT_OK)
			printf("pool %s: %llu free, %llu reserved, %llu used\n", type ? type : "(all)",
			       (unsigned long long)c[0], (unsigned long long)c[1], (unsigned long long)c[2]);
	} else {
		usage();
	}
out:
	talloc_free(ctx);
	return rc;
}
