/* Keys shared by the OTA fuzz targets (created once and kept for the life of the fuzzing process). */
#include <talloc.h>
#include "tests/fuzz/fuzz.h"

struct ota_key *fuzz_key_for(uint8_t alg_byte)
{
	static struct ota_key *k8, *k16, *k24;
	uint8_t raw[24];
	int i;

	if (!k8) {
		for (i = 0; i < 24; i++)
			raw[i] = (uint8_t)i;
		if (ota_key_import(NULL, raw, 8, &k8) || ota_key_import(NULL, raw, 16, &k16) ||
		    ota_key_import(NULL, raw, 24, &k24))
			abort();
	}
	switch (alg_byte & 0x0f) {
	case 0x1:
	case 0xD:
		return k8;
	case 0x9:
		return k24;
	default:
		return k16;
	}
}
