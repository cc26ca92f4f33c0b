/*! \file testlib.h
 *  Minimal table-driven test helpers: every CHECK counts, a failed one prints what and where, and
 *  TEST_DONE() prints a summary and turns any failure into exit status 1 (automake test harness).
 */
#pragma once
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include "proto/hex.h"
#include "proto/errors.h"

static int tl_pass, tl_fail;

#define CHECK(cond, ...) do { \
	if (cond) { tl_pass++; } else { \
		tl_fail++; \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
	} } while (0)

/* compare a byte buffer against expected lower/upper-case hex */
#define CHECK_HEX(buf, len, exphex, what) do { \
	char *_got = malloc(2 * (size_t)(len) + 1); \
	proto_hex_encode((const uint8_t *)(buf), (size_t)(len), _got); \
	CHECK(strcasecmp(_got, (exphex)) == 0, "%s:\n   got %s\n  want %s", (what), _got, (exphex)); \
	free(_got); \
	} while (0)

#define CHECK_RC(expr, want) do { int _rc = (expr); \
	CHECK(_rc == (want), "%s returned %d (%s), want %d", #expr, _rc, proto_strerror(_rc), (int)(want)); \
	} while (0)

#define TEST_DONE() do { \
	printf("%s: %d checks passed, %d failed\n", __FILE__, tl_pass, tl_fail); \
	return (tl_fail || !tl_pass) ? 1 : 0; } while (0)
