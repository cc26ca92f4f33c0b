/*! \file crc.h
 *  Redundancy checks of ETSI TS 102 225 §5.1.3 (KID with SPI = RC): CRC-16 and CRC-32 of ISO/IEC 13239.
 *  CRC-16: poly 0x1021 reflected, init 0xFFFF, xorout 0xFFFF (check "123456789" = 0x906E).
 *  CRC-32: poly 0x04C11DB7 reflected, init/xorout 0xFFFFFFFF (check 0xCBF43926). Both go on the wire
 *  big endian. Use as crc = ota_crc16_init(); crc = ota_crc16_update(crc, p, n)...; ota_crc16_final(crc).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

static inline uint16_t ota_crc16_init(void) { return 0xFFFF; }
uint16_t ota_crc16_update(uint16_t crc, const uint8_t *p, size_t n);
static inline uint16_t ota_crc16_final(uint16_t crc) { return crc ^ 0xFFFF; }

static inline uint32_t ota_crc32_init(void) { return 0xFFFFFFFF; }
uint32_t ota_crc32_update(uint32_t crc, const uint8_t *p, size_t n);
static inline uint32_t ota_crc32_final(uint32_t crc) { return crc ^ 0xFFFFFFFF; }
