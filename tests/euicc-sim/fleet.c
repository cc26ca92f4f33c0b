/* Deterministic identities of the simulated eUICC fleet (see fleet.h for the exact derivation). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "tests/euicc-sim/fleet.h"

/* SGP.02 Annex H ISD-P AIDs of the two pre-provisioned profiles (sgp02.md §6.5 sample uses ...1300) */
static const uint8_t preprov_aid[SIM_PREPROV_PROFILES][16] = {
	{ 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00 },
	{ 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x11, 0x00 },
};

static bool all_digits(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool all_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

int sim_fleet_cfg_init(struct sim_fleet_cfg *cfg, const char *seed, const char *eid_prefix, const char *msisdn_prefix)
{
	size_t i, n;

	memset(cfg, 0, sizeof(*cfg));
	if (!seed)
		seed = SIM_DEFAULT_SEED;
	if (!eid_prefix)
		eid_prefix = SIM_DEFAULT_EID_PREFIX;
	if (!msisdn_prefix)
		msisdn_prefix = SIM_DEFAULT_MSISDN_PREFIX;
	if (strlen(seed) >= sizeof(cfg->seed))
		return -EINVAL;
	n = strlen(eid_prefix);
	if (n < 2 || n > SIM_EID_PREFIX_MAX || strncmp(eid_prefix, "89", 2) || !all_hex(eid_prefix))
		return -EINVAL;
	if (!*msisdn_prefix || strlen(msisdn_prefix) >= sizeof(cfg->msisdn_prefix) || !all_digits(msisdn_prefix))
		return -EINVAL;
	memcpy(cfg->seed, seed, strlen(seed) + 1);
	for (i = 0; i <= n; i++) {
		char ch = eid_prefix[i];
		cfg->eid_prefix[i] = (char)(ch >= 'a' && ch <= 'f' ? ch - 'a' + 'A' : ch);
	}
	memcpy(cfg->msisdn_prefix, msisdn_prefix, strlen(msisdn_prefix) + 1);
	return 0;
}

int sim_fleet_msisdn(const struct sim_fleet_cfg *cfg, uint32_t index, char out[SIM_MSISDN_MAX + 1])
{
	if (index >= SIM_FLEET_MAX)
		return -EINVAL;
	snprintf(out, SIM_MSISDN_MAX + 1, "%s%0*u", cfg->msisdn_prefix, SIM_MSISDN_INDEX_DIGITS, index);
	return 0;
}

/* Luhn check digit of a digit string (the digit that follows it). */
static char luhn_digit(const char *s)
{
	size_t n = strlen(s), i;
	unsigned sum = 0;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[n - 1 - i] - '0');
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

/* ISO 7064 mod 97-10 check digits of 30 decimal digits: 98 - (digits || "00") mod 97 */
static unsigned eid_check(const char *digits)
{
	unsigned r = 0;
	size_t i;

	for (i = 0; digits[i]; i++)
		r = (r * 10 + (unsigned)(digits[i] - '0')) % 97;
	r = (r * 100) % 97;
	return 98 - r;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c - 'A' + 10;
}

static int derive_bytes(const struct sim_fleet_cfg *cfg, const char *label, uint32_t index, uint8_t *out, size_t len)
{
	uint8_t msg[16], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	size_t ll = strlen(label);

	memcpy(msg, label, ll);
	msg[ll] = (uint8_t)(index >> 24);
	msg[ll + 1] = (uint8_t)(index >> 16);
	msg[ll + 2] = (uint8_t)(index >> 8);
	msg[ll + 3] = (uint8_t)index;
	if (!HMAC(EVP_sha256(), cfg->seed, (int)strlen(cfg->seed), msg, ll + 4, md, &md_len) || md_len < len)
		return -EIO;
	memcpy(out, md, len);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

static int derive_key(const struct sim_fleet_cfg *cfg, const char *label, uint32_t index, uint8_t out[SIM_KEY_LEN])
{
	return derive_bytes(cfg, label, index, out, SIM_KEY_LEN);
}

int sim_fleet_ecasd_sk(const struct sim_fleet_cfg *cfg, uint32_t index, uint8_t out[SIM_ECASD_SK_LEN])
{
	if (index >= SIM_FLEET_MAX)
		return -EINVAL;
	return derive_bytes(cfg, "ECASD", index, out, SIM_ECASD_SK_LEN);
}

int sim_fleet_identity(const struct sim_fleet_cfg *cfg, uint32_t index, struct sim_identity *out)
{
	char digits[2 * SIM_EID_LEN + 1], body[24];
	size_t plen = strlen(cfg->eid_prefix), i;
	unsigned k;
	int rc;

	memset(out, 0, sizeof(*out));
	if (index >= SIM_FLEET_MAX)
		return -EINVAL;
	out->index = index;

	/* EID: prefix, zero-padded index, check digits */
	snprintf(digits, sizeof(digits), "%s%0*u", cfg->eid_prefix, (int)(30 - plen), index);
	if (all_digits(digits))
		snprintf(digits + 30, 3, "%02u", eid_check(digits));
	else
		memcpy(digits + 30, "00", 3);
	for (i = 0; i < SIM_EID_LEN; i++)
		out->eid[i] = (uint8_t)(hex_nibble(digits[2 * i]) << 4 | hex_nibble(digits[2 * i + 1]));
	memcpy(out->eid_hex, digits, sizeof(out->eid_hex));

	sim_fleet_msisdn(cfg, index, out->msisdn);

	snprintf(body, sizeof(body), "35290611%06u", index % 1000000);
	snprintf(out->imei, sizeof(out->imei), "%.14s%c", body, luhn_digit(body));

	rc = derive_key(cfg, "KIc", index, out->kic);
	if (!rc)
		rc = derive_key(cfg, "KID", index, out->kid);
	if (!rc)
		rc = derive_key(cfg, "KIK", index, out->kik);
	if (rc) {
		sim_identity_wipe(out);
		return rc;
	}

	out->total_memory = SIM_TOTAL_MEMORY;
	out->n_profiles = SIM_PREPROV_PROFILES;
	for (k = 0; k < SIM_PREPROV_PROFILES; k++) {
		struct sim_profile_init *p = &out->profiles[k];

		memcpy(p->aid, preprov_aid[k], 16);
		snprintf(body, sizeof(body), "89490%u%013u", k, index);
		snprintf(p->iccid, sizeof(p->iccid), "%.19s%c", body, luhn_digit(body));
		p->lcs = k == 0 ? 0x3F : 0x1F;
		p->fallback = k == 0;
		p->quota = SIM_PREPROV_QUOTA;
	}
	return 0;
}

void sim_identity_wipe(struct sim_identity *id)
{
	OPENSSL_cleanse(id->kic, sizeof(id->kic));
	OPENSSL_cleanse(id->kid, sizeof(id->kid));
	OPENSSL_cleanse(id->kik, sizeof(id->kik));
}

int sim_imei_encode(const char *imei, uint8_t out[8])
{
	unsigned i;

	if (strlen(imei) != 15 || !all_digits(imei))
		return -EINVAL;
	out[0] = (uint8_t)((imei[0] - '0') << 4 | 0x0A);	/* odd number of digits, type IMEI */
	for (i = 0; i < 7; i++)
		out[1 + i] = (uint8_t)((imei[2 + 2 * i] - '0') << 4 | (imei[1 + 2 * i] - '0'));
	return 0;
}
