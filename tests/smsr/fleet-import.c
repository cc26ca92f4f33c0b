/* fleet-import: register the EIS of simulated eUICCs 0..N-1 (tests/euicc-sim/fleet.h) directly in an SM-SR store,
 * keys sealed under the SM-SR master key, in bulk import batches. Test and demo tooling (smsrd must not be running
 * on the same store).
 *   fleet-import DB_DIR MASTER_KEY_FILE SEED COUNT MNO_OID SMSR_OID
 * DB_DIR "-": store nothing, only print (the fleet is registered another way, e.g. ES1 with fleet-eis-xml).
 * Prints the EID, MSISDN and ICCIDs of the first eUICCs, one `key=value` line each, for scripts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <talloc.h>
#include "tests/smsr/fleet_eis.h"
#include "smsr/db.h"
#include "ota/keystore_wrap.h"
#include "proto/errors.h"
#include "proto/hex.h"

int main(int argc, char **argv)
{
	void *ctx = talloc_named_const(NULL, 0, "fleet-import");
	struct ota_wrap_master *m;
	struct sim_fleet_cfg cfg;
	struct smsr_db *db = NULL;
	bool print_only;
	unsigned long count, i, batch = 10000;
	int rc;

	if (argc != 7 || (count = strtoul(argv[4], NULL, 10)) == 0) {
		fprintf(stderr, "usage: fleet-import DB_DIR MASTER_KEY_FILE SEED COUNT MNO_OID SMSR_OID\n");
		return 2;
	}
	print_only = !strcmp(argv[1], "-");
	if (print_only)
		count = count < 16 ? count : 16;
	if ((rc = ota_wrap_master_load(ctx, argv[2], &m)) < 0 ||
	    (rc = sim_fleet_cfg_init(&cfg, argv[3], NULL, NULL)) < 0 ||
	    (!print_only && (rc = smsr_db_open(ctx, argv[1], NULL, &db)) < 0)) {
		fprintf(stderr, "fleet-import: %s\n", proto_strerror(rc));
		return 1;
	}
	for (i = 0; i < count; i += batch) {
		void *tmp = talloc_new(ctx);
		unsigned long n = count - i < batch ? count - i : batch, j;
		struct smsr_eis **eis = talloc_array(tmp, struct smsr_eis *, n);

		for (j = 0; j < n; j++) {
			rc = fleet_eis_build(tmp, &cfg, (uint32_t)(i + j), m, argv[5], argv[6], &eis[j]);
			if (rc < 0)
				goto fail;
			if (i + j < 16) {
				printf("eid%lu=%s\nmsisdn%lu=%s\n", i + j, proto_hexstr(eis[j]->eid, 16), i + j,
				       eis[j]->isdr_msisdn);
				printf("iccid%lu_0=%s\niccid%lu_1=%s\n", i + j, eis[j]->profiles[0].iccid, i + j,
				       eis[j]->profiles[1].iccid);
			}
		}
		rc = print_only ? 0 : smsr_db_eis_import(db, (const struct smsr_eis *const *)eis, n, NULL);
		if (rc < 0)
			goto fail;
		talloc_free(tmp);
	}
	talloc_free(ctx);
	return 0;
fail:
	fprintf(stderr, "fleet-import: %s\n", proto_strerror(rc));
	talloc_free(ctx);
	return 1;
}
