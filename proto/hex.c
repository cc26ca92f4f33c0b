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

int proto_hex_decode_n(const char *hex, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0, i;

	if (len % 2)
		return -EINVAL;
	if (len / 2 > cap)
		return -PROTO_E_NOSPACE;	/* before anything is written */
	for (i = 0; i < len; i += 2) {
		int hi = proto_hex_digit(hex[i]), lo = proto_hex_digit(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (int)n;
}

int proto_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	return proto_hex_decode_n(hex, strlen(hex), out, cap);
}

static char *hex_encode(const char *digits, const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
	return out;
}

char *proto_hex_encode(const uint8_t *in, size_t len, char *out)
{
	return hex_encode("0123456789abcdef", in, len, out);
}

char *proto_hex_encode_upper(const uint8_t *in, size_t len, char *out)
{
	return hex_encode("0123456789ABCDEF", in, len, out);
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
