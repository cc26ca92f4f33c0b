/*! \file fuzz.h
 *  Fuzz targets are written once and built two ways: as libFuzzer binaries (configure --enable-fuzz with clang;
 *  run by scripts/fuzz) and, with FUZZ_ALL_IN_ONE, into fuzz_replay_test, which replays the seed corpus plus
 *  deterministic mutations of it under the normal (sanitizer) build of `make check`.
 *  Targets abort() through FUZZ_ASSERT when a property (round trip, bounds) is violated.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef FUZZ_ALL_IN_ONE
#define FUZZ_TARGET(name) \
	int fuzz_##name(const uint8_t *data, size_t size); \
	int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

#define FUZZ_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); abort(); } } while (0)

/* Fixed test keys of the fuzz targets and their seed corpus (scripts/fuzz-corpus builds the corpus with them):
 * key index nibble ignored; algorithm nibble 1/D -> 8 bytes 00..07, 5 -> 16 bytes 00..0f, 9 -> 24 bytes 00..17,
 * 2 -> AES-128 00..0f. */
#include "ota/keystore.h"
struct ota_key *fuzz_key_for(uint8_t alg_byte);
