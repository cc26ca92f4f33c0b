/* smdpd: the SM-DP daemon. Thin main: command line, configuration, logging; the logic is in libsmdp. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <curl/curl.h>
#include "smdp/config.h"
#include "smdp/smdpd.h"
#include "smsr/logging.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: smdpd [-c FILE] [--check-config] [--dump-config] [--version]\n"
		   "  -c, --config FILE   configuration (default /etc/m2m-sm/smdpd.conf)\n"
		   "  --check-config      parse and validate the configuration, then exit (0 valid, 1 not)\n"
		   "  --dump-config       print the effective configuration with every default, then exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
		{"dump-config", no_argument, NULL, 'D'},  {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	const char *path = "/etc/m2m-sm/smdpd.conf";
	bool check = false, dump = false;
	struct smdp_config *cfg;
	struct smdpd *d;
	char err[512];
	void *ctx = talloc_new(NULL);
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
		case 'V':
			printf("smdpd (m2m-sm) %s\n", SMDPD_VERSION);
			rc = 0;
			goto out;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	rc = 1;
	cfg = talloc_zero(ctx, struct smdp_config);
	if (!cfg)
		goto out;
	if (smdp_config_load(cfg, path, err, sizeof(err)) < 0 || smdp_config_validate(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "smdpd: %s\n", err);
		goto out;
	}
	if (check || dump) {
		if (check)
			printf("%s: ok\n", path);
		else
			smdp_config_write(cfg, stdout);
		rc = 0;
		goto out;
	}
	if (smdp_config_apply_logging(cfg, "smdpd", err, sizeof(err)) < 0) {
		fprintf(stderr, "smdpd: %s\n", err);
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = smdpd_start(ctx, cfg, &d);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot start: %d", rc);
		talloc_free(ctx);
		curl_global_cleanup();
		return 1;
	}
	smdpd_run(d);
	curl_global_cleanup();
	LOGP(DMAIN, LOGL_NOTICE, "stopped");
	rc = 0;
out:
	talloc_free(ctx);
	return rc;
}
