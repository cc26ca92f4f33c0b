/* Fuzz proto/bertlv: decode, iterate, validate; re-encoding a decoded definite TLV gives the same value. */
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "proto/bertlv.h"

FUZZ_TARGET(tlv)
{
	struct proto_tlv t;
	struct proto_tlv_iter it;
	uint8_t out[1024];
	struct proto_buf b;
	int rc;

	rc = proto_tlv_decode(data, size, &t);
	if (rc > 0) {
		FUZZ_ASSERT((size_t)rc <= size);
		FUZZ_ASSERT(t.indefinite || (t.val + t.len <= data + size && t.raw_len == (size_t)rc));
		if (!t.indefinite && t.len < 512) {
			proto_buf_init(&b, out, sizeof(out));
			proto_tlv_put(&b, t.tag, t.val, t.len);
			FUZZ_ASSERT(proto_buf_status(&b) == 0);
			FUZZ_ASSERT(b.len <= (size_t)rc);	/* we encode minimal lengths */
			FUZZ_ASSERT(!memcmp(b.data + b.len - t.len, t.val, t.len));
		}
	}
	proto_tlv_iter_init(&it, data, size);
	it.stop_at_eoc = size & 1;
	while ((rc = proto_tlv_iter_next(&it, &t)) > 0)
		FUZZ_ASSERT(t.val >= data && t.val + t.len <= data + size);
	proto_tlv_validate(data, size);
	proto_tlv_find(data, size, 0x7f21, &t);
	return 0;
}
