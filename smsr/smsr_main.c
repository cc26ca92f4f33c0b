/* smsrd: the SM-SR daemon. Thin main: command line, configuration, logging; the logic is in libsmsr. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <curl/curl.h>
#include "smsr/config.h"
#include "smsr/logging.h"
#include "smsr/smsrd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: smsrd [-c FILE] [--check-config] [--dump-config] [--db-check] [--version]\n"
		   "  -c, --config FILE   configuration (default /etc/m2m-sm/smsrd.conf)\n"
		   "  --check-config      parse and validate the configuration, then exit (0 valid, 1 not)\n"
		   "  --dump-config       print the effective configuration with every default, then exit\n"
		   "  --db-check          verify the EIS store (indexes, records, schema), then exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check-config", no_argument, NULL, 'C' },
		{ "dump-config", no_argument, NULL, 'D' },  { "db-check", no_argument, NULL, 'B' },
		{ "version", no_argument, NULL, 'V' },      { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "/etc/m2m-sm/smsrd.conf";
	bool check = false, dump = false, dbcheck = false;
	struct smsr_config cfg;
	struct smsrd *d;
	char err[512];
	void *ctx;
	int o, rc;

	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'D':
			dump = true;
			break;
		case 'B':
			dbcheck = true;
			break;
		case 'V':
			printf("smsrd (m2m-sm) %s\n", SMSRD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (smsr_config_load(&cfg, path, err, sizeof(err)) < 0 || smsr_config_validate(&cfg, err, sizeof(err)) < 0 ||
	    smsr_config_apply_logging(&cfg, "smsrd", err, sizeof(err)) < 0) {
		fprintf(stderr, "smsrd: %s\n", err);
		return 1;
	}
	if (check) {
		printf("smsrd: %s: configuration valid\n", path);
		return 0;
	}
	if (dump) {
		smsr_config_write(&cfg, stdout);
		return 0;
	}
	if (dbcheck)
		return smsrd_db_check(&cfg, stdout) == 0 ? 0 : 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ctx = talloc_named_const(NULL, 0, "smsrd");
	rc = smsrd_start(ctx, &cfg, &d);
	if (rc == 0)
		rc = smsrd_run(d);
	talloc_free(ctx);
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}
