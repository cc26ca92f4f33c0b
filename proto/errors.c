/* Names for proto/ and ota/ error codes. */
#include <string.h>
#include <stdio.h>
#include "proto/errors.h"

static const char *const names[] = {
	[PROTO_E_MALFORMED - PROTO_E_BASE] = "malformed input",
	[PROTO_E_TRUNCATED - PROTO_E_BASE] = "input truncated",
	[PROTO_E_TRAILING - PROTO_E_BASE] = "trailing bytes after structure",
	[PROTO_E_NOSPACE - PROTO_E_BASE] = "output buffer too small",
	[PROTO_E_UNSUPPORTED - PROTO_E_BASE] = "unsupported or reserved coding",
	[PROTO_E_INTEGRITY - PROTO_E_BASE] = "integrity check failed",
	[PROTO_E_CIPHER - PROTO_E_BASE] = "ciphering error",
	[PROTO_E_KEY - PROTO_E_BASE] = "key missing or of wrong length",
	[PROTO_E_CRYPTO - PROTO_E_BASE] = "crypto library failure",
	[PROTO_E_STATE - PROTO_E_BASE] = "call out of sequence",
};

const char *proto_strerror(int rc)
{
	int e = -rc;

	if (rc >= 0)
		return "success";
	if (e > PROTO_E_BASE && e < PROTO_E_MAX && names[e - PROTO_E_BASE])
		return names[e - PROTO_E_BASE];
	if (e < PROTO_E_BASE)
		return strerror(e);
	return "unknown error";
}
