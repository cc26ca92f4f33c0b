/*! \file fleet.h
 *  Deterministic identities of the simulated eUICC fleet, so that test tooling and the SM-SR's EIS can be
 *  generated to match euicc-sim without talking to it.
 *
 *  Everything about eUICC number `index` (0-based) follows from (seed, index, eid_prefix, msisdn_prefix):
 *
 *    EID     32 decimal digits as 16 bytes of BCD (one digit per nibble, high nibble first):
 *            eid_prefix ‖ index in decimal, zero-padded to 30 - len(eid_prefix) digits ‖ 2 check digits,
 *            check = 98 - (N mod 97) where N is the 30 digits followed by "00" (ISO 7064 mod 97-10, as SGP.29);
 *            default prefix 8900101201234123.
 *    MSISDN  msisdn_prefix ‖ index zero-padded to 7 digits (default prefix 49170: index 1 = 491700000001).
 *    IMEI    TAC 35290611 ‖ (index mod 1000000) zero-padded to 6 digits ‖ Luhn check digit (15 digits).
 *    keys    ISD-R SCP80 keyset KVN 1, AES-128 (KIc = KID = 0x12): each key is the first 16 bytes of
 *            HMAC-SHA256(key = the seed string's bytes, message = label ‖ index as 4 bytes big endian), with the
 *            ASCII labels "KIc", "KID" and "KIK" (no terminating NUL). Python:
 *            hmac.new(seed.encode(), b"KIc" + index.to_bytes(4, "big"), "sha256").digest()[:16]
 *    ECASD   SK.ECASD.ECKA on P-256 = HMAC-SHA256(seed, "ECASD" ‖ index as 4 bytes big endian), all 32 bytes (as a
 *            scalar; the chance that it is not below the curve order is about 2^-32). Derived on demand
 *            (sim_fleet_ecasd_sk), not in struct sim_identity. The EUM's CERT.ECASD.ECKA certifies its public key.
 *    profiles  ISD-P A0000005591010FFFFFFFF8900001000 ENABLED (3F), fall-back attribute set, quota 65536;
 *              ISD-P A0000005591010FFFFFFFF8900001100 DISABLED (1F), quota 65536; implicit TARs 000010 and 000011.
 *            ICCID of profile k (0 or 1): "89490" ‖ k ‖ index zero-padded to 13 digits ‖ Luhn check digit
 *            (20 digits).
 *    memory  total non-volatile memory for profiles 262144 bytes (free = total - sum of the ISD-P quotas).
 *
 *  fleet.c needs only OpenSSL (HMAC): other tools can link it alone.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define SIM_EID_LEN 16			/*!< bytes */
#define SIM_KEY_LEN 16			/*!< AES-128 */
#define SIM_ECASD_SK_LEN 32		/*!< P-256 private scalar */
#define SIM_MSISDN_MAX 15		/*!< digits */
#define SIM_ICCID_MAX 20		/*!< digits */
#define SIM_EID_PREFIX_MAX 20		/*!< nibbles, so at least 10 digits are left for the index */
#define SIM_MSISDN_INDEX_DIGITS 7
#define SIM_FLEET_MAX 10000000		/*!< index < this (7 MSISDN digits) */
#define SIM_PREPROV_PROFILES 2
#define SIM_TOTAL_MEMORY 262144
#define SIM_PREPROV_QUOTA 65536
#define SIM_SCP80_KVN 0x01
#define SIM_SCP80_ALGO 0x02		/*!< low nibble of KIc/KID: AES */

#define SIM_DEFAULT_SEED "1"
#define SIM_DEFAULT_EID_PREFIX "8900101201234123"
#define SIM_DEFAULT_MSISDN_PREFIX "49170"

/*! Fleet-wide parameters. */
struct sim_fleet_cfg {
	char seed[64];					/*!< HMAC key, as given on the command line */
	char eid_prefix[SIM_EID_PREFIX_MAX + 1];	/*!< hex nibbles (normally decimal digits), starts "89" */
	char msisdn_prefix[SIM_MSISDN_MAX - SIM_MSISDN_INDEX_DIGITS + 1];	/*!< digits */
};

/*! A pre-provisioned profile. */
struct sim_profile_init {
	uint8_t aid[16];
	char iccid[SIM_ICCID_MAX + 1];
	uint8_t lcs;		/*!< GP life-cycle state (enum sim_lcs in card.h) */
	bool fallback;
	uint32_t quota;		/*!< allocated (granted) non-volatile memory */
};

/*! Everything derived for one eUICC. Holds raw keys: wipe with sim_identity_wipe() after use. */
struct sim_identity {
	uint32_t index;
	uint8_t eid[SIM_EID_LEN];
	char eid_hex[2 * SIM_EID_LEN + 1];	/*!< upper-case digits */
	char msisdn[SIM_MSISDN_MAX + 1];
	char imei[16];				/*!< 15 digits */
	uint8_t kic[SIM_KEY_LEN];
	uint8_t kid[SIM_KEY_LEN];
	uint8_t kik[SIM_KEY_LEN];
	uint32_t total_memory;
	unsigned n_profiles;
	struct sim_profile_init profiles[SIM_PREPROV_PROFILES];
};

/*! Fill cfg; NULL arguments take the defaults above. -EINVAL for a seed longer than 63 bytes, an EID prefix that is
 *  not 2..20 hex nibbles starting "89", or an MSISDN prefix that is not 1..8 digits. */
int sim_fleet_cfg_init(struct sim_fleet_cfg *cfg, const char *seed, const char *eid_prefix, const char *msisdn_prefix);

/*! MSISDN of eUICC index (cheap: no crypto). -EINVAL when index >= SIM_FLEET_MAX. */
int sim_fleet_msisdn(const struct sim_fleet_cfg *cfg, uint32_t index, char out[SIM_MSISDN_MAX + 1]);

/*! Derive the full identity of eUICC index. 0, -EINVAL (index out of range), -EIO (OpenSSL HMAC failed). */
int sim_fleet_identity(const struct sim_fleet_cfg *cfg, uint32_t index, struct sim_identity *out);

/*! SK.ECASD.ECKA of eUICC index (see above). 0, -EINVAL, -EIO. The caller wipes it after use. */
int sim_fleet_ecasd_sk(const struct sim_fleet_cfg *cfg, uint32_t index, uint8_t out[SIM_ECASD_SK_LEN]);

/*! Wipe the key bytes of an identity. */
void sim_identity_wipe(struct sim_identity *id);

/*! Encode an IMEI (15 digits) as TS 24.008 mobile identity digits: (d1 << 4 | 0xA) then digits swapped in pairs,
 *  8 bytes (the value of TS 102 223 §8.20 tag 14 as the eUICC notification carries it, sgp02.md §6.5). */
int sim_imei_encode(const char *imei, uint8_t out[8]);
