/*! \file fleet_eis.h
 *  The EIS of a simulated eUICC (tests/euicc-sim/fleet.h), as an EUM would register it: EumSignedInfo, the ISD-R
 *  with its SCP80 keyset (KVN 1; key 1 = KIc, 2 = KID, 3 = KIK, wrapped under the SM-SR master key), the two
 *  pre-provisioned profiles and the memory figures. Tests, benchmarks and the demo register fleets with it.
 */
#pragma once
#include <stdint.h>
#include "smsr/eis.h"
#include "tests/euicc-sim/fleet.h"

struct ota_wrap_master;

/*! Build the EIS of fleet eUICC index under ctx. Profiles belong to mno_id; the SM-SR is smsr_id. */
int fleet_eis_build(void *ctx, const struct sim_fleet_cfg *cfg, uint32_t index, const struct ota_wrap_master *m,
		    const char *mno_id, const char *smsr_id, struct smsr_eis **out);
