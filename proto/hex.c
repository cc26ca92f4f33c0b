/* Hex helpers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "proto/hex.h"
#include "proto/errors.h"

int proto_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int proto_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (hex[0]) {
		int hi = proto_hex_digit(hex[0]), lo;
		if (hi < 0 || !hex[1] || (lo = proto_hex_digit(hex[1])) < 0)
			return -EINVAL;
		if (n >= cap)
			return -PROTO_E_NOSPACE;
		out[n++] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	return (int)n;
}

char *proto_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
	return out;
}

const char *proto_hexstr(const uint8_t *in, size_t len)
{
	static __thread char buf[2 * 512 + 4];

	if (len > 512) {
		proto_hex_encode(in, 512, buf);
		memcpy(buf + 1024, "...", 4);
		return buf;
	}
	return proto_hex_encode(in, len, buf);
}
