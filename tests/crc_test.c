/* ota/crc: ISO/IEC 13239 check values and incremental use. */
#include "tests/testlib.h"
#include "ota/crc.h"

int main(void)
{
	const uint8_t *s = (const uint8_t *)"123456789";
	uint16_t c16 = ota_crc16_init();
	uint32_t c32 = ota_crc32_init();

	CHECK(ota_crc16_final(ota_crc16_update(ota_crc16_init(), s, 9)) == 0x906E, "crc16 check value");
	CHECK(ota_crc32_final(ota_crc32_update(ota_crc32_init(), s, 9)) == 0xCBF43926, "crc32 check value");
	c16 = ota_crc16_update(c16, s, 4);
	c16 = ota_crc16_update(c16, s + 4, 5);
	c32 = ota_crc32_update(c32, s, 1);
	c32 = ota_crc32_update(c32, s + 1, 8);
	CHECK(ota_crc16_final(c16) == 0x906E && ota_crc32_final(c32) == 0xCBF43926, "incremental");
	CHECK(ota_crc16_final(ota_crc16_init()) == 0x0000 && ota_crc32_final(ota_crc32_init()) == 0, "empty");
	TEST_DONE();
}
