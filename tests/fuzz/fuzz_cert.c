/* Fuzz GP '7F21' certificate decoding and verification against a fixed issuer key (the WHTY CI test key). */
#include <string.h>
#include <talloc.h>
#include "tests/fuzz/fuzz.h"
#include "proto/gp_cert.h"
#include "proto/ec.h"
#include "proto/hex.h"

FUZZ_TARGET(cert)
{
	static struct proto_ec_pub *ci;
	struct proto_gp_cert c;

	if (!ci) {
		uint8_t pk[65];
		proto_hex_decode("04f5d2ffb5293ed953053daf0865f7fcaee9790216ad861246777b3ccbe4077ba2"
				 "61bb8a999dd9d56f987e5ac8548afba5b11a91a786acfca4982b18c5192d15ca", pk, sizeof(pk));
		if (proto_ec_pub_new(NULL, 0x00, pk, sizeof(pk), &ci) < 0)
			abort();
	}
	if (proto_gp_cert_decode(&c, data, size) == 0) {
		FUZZ_ASSERT(c.signed_data.p >= data && c.signed_data.p + c.signed_data.len <= data + size);
		proto_gp_cert_verify(&c, ci);
	}
	return 0;
}
