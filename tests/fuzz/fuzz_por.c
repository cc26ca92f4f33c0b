/* Fuzz PoR decoding: input = SPI(2) KIc KID then a TP-UD (02 71 00 ...) or, with SPI2 b8 set, RPL..end. */
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "ota/ts102225_spkt.h"

FUZZ_TARGET(por)
{
	static uint8_t scratch[70000];
	struct ota_por por;
	struct ota_sec sec = { 0 };
	uint8_t spi[2];
	int rc;

	if (size < 4)
		return 0;
	spi[0] = data[0];
	spi[1] = data[1] & 0x7f;
	sec.kic_key = fuzz_key_for(data[2]);
	sec.kid_key = fuzz_key_for(data[3]);
	sec.cc_len = data[0] & 0x80 ? 4 : 0;
	rc = ota_por_decode(data + 4, size - 4, !(data[1] & 0x80), spi, data[2], data[3], &sec, scratch,
			    sizeof(scratch), &por);
	if (rc == 0 || por.data) {
		FUZZ_ASSERT(por.data_len <= size);
		FUZZ_ASSERT(rc != 0 || por.integrity != OTA_INTEGRITY_BAD);
	}
	return 0;
}
