/*! \file saip.h
 *  Interoperable Profile packages (TCA/SIMalliance eUICC Profile Package, "SAIP", PE_Definitions with AUTOMATIC
 *  TAGS): a concatenation of DER ProfileElements. This module checks a package, personalises a template for one
 *  order and builds test templates.
 *
 *  Personalisation writes fixed-size values in place, at their ASN.1 positions in the template, which must carry
 *  placeholders of the right size (a template without one of them is refused, never silently left as it is):
 *  - ICCID:   header [0] (A0) / iccid [3] (83), 10 bytes of swapped BCD, F-padded;
 *  - IMSI:    usim [19] (B3) / ef-imsi [3] (A3) / fillFileContent [3] (83), 9 bytes: length 08, then the digits
 *             swapped BCD with the parity nibble (TS 31.102 §4.2.2);
 *  - Ki, OPc: akaParameter [4] (A4) / algoConfiguration [1] (A1) / algoParameter [0] (A0) / key [2] (82) and
 *             opc [3] (83), 16 bytes each.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

/*! What a package says about itself. */
struct smdp_saip_info {
	unsigned n_pe;	       /*!< profile elements */
	char iccid[21];	       /*!< from the header */
	char profile_type[65]; /*!< header profileType [2], "" when absent */
};

/*! Check a package: DER TLVs back to back (definite lengths, nested contents of constructed PEs well formed),
 *  the header first with a 10-byte iccid, the end PE last. 0, -PROTO_E_MALFORMED / -PROTO_E_TRUNCATED /
 *  -PROTO_E_TRAILING with why filled. */
int smdp_saip_check(const uint8_t *pkg, size_t len, struct smdp_saip_info *info, char *why, size_t cap);

/*! Per-order data (Ki/OPc in clear only for the time of smdp_saip_personalise()). */
struct smdp_saip_perso {
	const char *iccid;	 /*!< 18..20 digits */
	const char *imsi;	 /*!< 6..15 digits */
	const uint8_t *ki, *opc; /*!< 16 bytes each */
};

/*! Write the order's values into pkg (len bytes) in place. -ENOENT (a placeholder is missing or has another size),
 *  -EINVAL (bad ICCID/IMSI digits), -PROTO_E_MALFORMED. */
int smdp_saip_personalise(uint8_t *pkg, size_t len, const struct smdp_saip_perso *p);

/*! RequiredMemory for ES3.CreateISDP: the package size plus 10 % for the card's own structures, rounded up to KiB. */
uint64_t smdp_saip_required_memory(size_t len);

/*! A test template of about size bytes (at least ~300): header (profileType type), mf, usim with ef-imsi, pinCodes,
 *  akaParameter (Milenage) with placeholders, genericFileManagement fillers, end. The same size and type always
 *  give the same bytes. Written into a talloc buffer under ctx. */
int smdp_saip_build_test(void *ctx, size_t size, const char *type, uint8_t **out, size_t *out_len);

/*! Swapped-BCD ICCID (10 bytes) from digits, and back. */
int smdp_saip_iccid_encode(const char *digits, uint8_t out[10]);
void smdp_saip_iccid_decode(const uint8_t in[10], char out[21]);
