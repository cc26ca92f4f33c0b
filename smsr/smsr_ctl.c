/* smsr-ctl: operations on an SM-SR store, next to (or instead of) a running smsrd. Thin main; the logic is in
 * libsmsr (es1_import.h).
 *
 *   smsr-ctl [-c FILE] eis import [--eum OID | --any-eum] [--jobs N] [--batch N] FILE
 *
 * Exit codes: 0 every EIS imported or already present unchanged; 1 some EIS refused (one "refused ..." line
 * each on stdout); 2 usage; 3 configuration, store or file error. The last stdout line is a summary:
 *   eis_import seen=N imported=N unchanged=N refused=N seconds=S per_s=R */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <libxml/parser.h>
#include "smsr/config.h"
#include "smsr/db.h"
#include "smsr/es1_import.h"
#include "smsr/logging.h"
#include "ota/keystore.h"
#include "ota/keystore_wrap.h"
#include "proto/errors.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: smsr-ctl [-c FILE] eis import [--eum OID | --any-eum] [--jobs N] [--batch N] FILE\n"
		   "  -c, --config FILE  smsrd configuration (default /etc/m2m-sm/smsrd.conf): store, keys, CI, EUMs\n"
		   "  --eum OID          the EUM that delivered the file: every Eum-id must be OID (unless the EUM\n"
		   "                     certificate names its Eum-ids); default: the only [requester] with role eum\n"
		   "  --any-eum          accept any Eum-id signed by an EUM certificate chained to the CI\n"
		   "  --jobs N           signature verification threads (default: online CPUs)\n"
		   "  --batch N          EIS per store transaction (default 512)\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* the EUM OID: --eum, else the single configured EUM requester */
static const char *default_eum(const struct smsr_config *cfg)
{
	const char *found = NULL;
	unsigned i;

	for (i = 0; i < cfg->n_requesters; i++) {
		if (strcmp(cfg->requesters[i].role, "eum"))
			continue;
		if (found)
			return NULL;
		found = cfg->requesters[i].entity_id;
	}
	return found;
}

static int eis_import(void *ctx, const struct smsr_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{"eum", required_argument, NULL, 'e'},
		{"any-eum", no_argument, NULL, 'a'},
		{"jobs", required_argument, NULL, 'j'},
		{"batch", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	struct smsr_es1_import_opts o = {.report = stdout, .smsr_id = cfg->entity_id};
	struct smsr_es1_import_stats st;
	struct smsr_es1_keys keys = {0};
	struct smsr_es1_sig_ctx *sig = NULL;
	struct ota_wrap_master *master;
	struct smsr_db *db = NULL;
	bool any = false;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char err[512], *end;
	double t0, dt;
	int c, rc;

	o.jobs = cpus > 0 ? (unsigned)cpus : 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o.eum_id = optarg;
			break;
		case 'a':
			any = true;
			break;
		case 'j':
		case 'b': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !v || v > 100000) {
				usage(stderr);
				return 2;
			}
			if (c == 'j')
				o.jobs = (unsigned)v;
			else
				o.batch = (unsigned)v;
			break;
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1 || (any && o.eum_id)) {
		usage(stderr);
		return 2;
	}
	if (!any && !o.eum_id && !(o.eum_id = default_eum(cfg))) {
		fprintf(stderr,
			"smsr-ctl: say which EUM delivered the file (--eum OID, or --any-eum): the configuration "
			"does not have exactly one [requester] with role eum\n");
		return 2;
	}
	if (!cfg->ci_cert_file[0]) {
		fprintf(stderr, "smsr-ctl: [keystore] ci_cert is not set: EUM signatures cannot be verified\n");
		return 3;
	}
	rc = smsr_es1_sig_ctx_new(ctx, cfg->ci_cert_file, cfg->eum_cert_dir, &sig, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "smsr-ctl: %s\n", err);
		return 3;
	}
	if ((rc = ota_wrap_master_load(ctx, cfg->master_key_file, &master)) < 0) {
		fprintf(stderr, "smsr-ctl: master key %s: %s\n", cfg->master_key_file, proto_strerror(rc));
		return 3;
	}
	keys.master = master;
	if (cfg->transport_key_file[0] &&
	    (rc = ota_key_load_file(ctx, cfg->transport_key_file, &keys.transport_key)) < 0) {
		fprintf(stderr, "smsr-ctl: transport key %s: %s\n", cfg->transport_key_file, proto_strerror(rc));
		return 3;
	}
	rc = smsr_db_open(ctx, cfg->db_path, &(struct smsr_db_cfg){.map_size = cfg->db_map_size}, &db);
	if (rc < 0) {
		fprintf(stderr, "smsr-ctl: store %s: %s\n", cfg->db_path, proto_strerror(rc));
		return 3;
	}
	t0 = now_s();
	rc = smsr_es1_import_file(db, sig, &keys, argv[optind], &o, &st, err, sizeof(err));
	dt = now_s() - t0;
	smsr_db_close(&db);
	printf("eis_import seen=%llu imported=%llu unchanged=%llu refused=%llu seconds=%.3f per_s=%.0f\n",
	       (unsigned long long)st.seen, (unsigned long long)st.imported, (unsigned long long)st.unchanged,
	       (unsigned long long)st.refused, dt, dt > 0 ? (double)st.seen / dt : 0.0);
	if (rc < 0) {
		fprintf(stderr, "smsr-ctl: %s\n", err[0] ? err : proto_strerror(rc));
		return 3;
	}
	return st.refused ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "/etc/m2m-sm/smsrd.conf";
	struct smsr_config cfg;
	char err[512];
	void *ctx;
	int o, rc;

	while ((o = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || strcmp(argv[optind], "eis") || strcmp(argv[optind + 1], "import")) {
		usage(stderr);
		return 2;
	}
	smsr_config_defaults(&cfg);
	if (smsr_config_load(&cfg, path, err, sizeof(err)) < 0 || smsr_config_validate(&cfg, err, sizeof(err)) < 0 ||
	    smsr_config_apply_logging(&cfg, "smsr-ctl", err, sizeof(err)) < 0) {
		fprintf(stderr, "smsr-ctl: %s\n", err);
		return 3;
	}
	xmlInitParser();
	ctx = talloc_named_const(NULL, 0, "smsr-ctl");
	rc = eis_import(ctx, &cfg, argc - optind - 1, argv + optind + 1);
	talloc_free(ctx);
	xmlCleanupParser();
	return rc;
}
