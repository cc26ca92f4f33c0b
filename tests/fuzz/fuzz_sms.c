/* Fuzz TS 31.115 UDH parsing, reassembly and TS 23.040 TPDU decoding. The first byte picks the path. */
#include <string.h>
#include <talloc.h>
#include "tests/fuzz/fuzz.h"
#include "ota/ts31115_sms.h"
#include "ota/ts23040_tpdu.h"

FUZZ_TARGET(sms)
{
	static struct ota_sms_reasm *r;
	static uint8_t out[300 * 140];
	static time_t t;
	struct ota_sms_udh h;
	struct ota_sms_reasm_out o;
	struct ota_tp_deliver d;
	struct ota_tp_submit s;
	struct proto_buf b;
	size_t off = 0;

	if (!r)
		r = ota_sms_reasm_new(NULL, 16, 5);
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		/* several TP-UDs, each prefixed by its length, from a few originators */
		data++, size--;
		while (off < size) {
			size_t n = data[off++];
			char orig[2] = { (char)('a' + (n & 3)), 0 };
			if (n > size - off)
				n = size - off;
			proto_buf_init(&b, out, sizeof(out));
			if (ota_sms_ud_parse(data + off, n, &h) == 0)
				FUZZ_ASSERT(h.payload + h.payload_len == data + off + n);
			if (ota_sms_reasm_feed(r, orig, data + off, n, t++ / 4, &b, &o) == 1)
				FUZZ_ASSERT(b.len <= 255 * 140);
			off += n;
		}
		break;
	case 1:
		if (ota_tp_deliver_decode(data + 1, size - 1, &d) == 0)
			FUZZ_ASSERT(d.ud + d.ud_len == data + size);
		break;
	default:
		if (ota_tp_submit_decode(data + 1, size - 1, &s) == 0)
			FUZZ_ASSERT(s.ud + s.ud_len == data + size);
		break;
	}
	return 0;
}
