/* CRC-16 / CRC-32 of ISO/IEC 13239 (TS 102 225 RC), table driven, tables built at first use. */
#include <pthread.h>
#include "ota/crc.h"

static uint16_t t16[256];
static uint32_t t32[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
	unsigned i, j;

	for (i = 0; i < 256; i++) {
		uint16_t c16 = (uint16_t)i;
		uint32_t c32 = i;
		for (j = 0; j < 8; j++) {
			c16 = (c16 & 1) ? (uint16_t)((c16 >> 1) ^ 0x8408) : (uint16_t)(c16 >> 1);
			c32 = (c32 & 1) ? (c32 >> 1) ^ 0xEDB88320u : c32 >> 1;
		}
		t16[i] = c16;
		t32[i] = c32;
	}
}

uint16_t ota_crc16_update(uint16_t crc, const uint8_t *p, size_t n)
{
	pthread_once(&once, build_tables);
	while (n--)
		crc = (uint16_t)((crc >> 8) ^ t16[(crc ^ *p++) & 0xff]);
	return crc;
}

uint32_t ota_crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	pthread_once(&once, build_tables);
	while (n--)
		crc = (crc >> 8) ^ t32[(crc ^ *p++) & 0xff];
	return crc;
}
