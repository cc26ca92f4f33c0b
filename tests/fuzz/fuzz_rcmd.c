/* Fuzz TS 102 226 remote command decoding: expanded command/response scripts, compact responses and compact
 * scripts, and C-APDU parsing; every item handed out lies inside the input. */
#include "tests/fuzz/fuzz.h"
#include "proto/ts102226_rcmd.h"
#include "proto/gp_apdu.h"

#define IN(p, n) (!(n) || ((const uint8_t *)(p) >= data && (const uint8_t *)(p) + (n) <= data + size))

FUZZ_TARGET(rcmd)
{
	struct proto_rcmd_script s;
	struct proto_rcmd_rsp r;
	struct proto_rcmd_compact_rsp cr;
	struct proto_rcmd_compact_iter ci;
	struct proto_rcmd_iter it;
	struct proto_rcmd_capdu c;
	struct proto_rapdu ra;
	struct proto_apdu a;

	if (proto_rcmd_script_decode(data, size, &s) == 0) {
		proto_rcmd_script_iter_init(&it, &s);
		while (proto_rcmd_script_next(&it, &c) > 0)
			FUZZ_ASSERT(IN(c.raw, c.raw_len) && IN(c.apdu.data, c.apdu.lc));
	}
	if (proto_rcmd_rsp_decode(data, size, &r) == 0) {
		proto_rcmd_rsp_iter_init(&it, &r);
		while (proto_rcmd_rsp_next(&it, &ra) > 0)
			FUZZ_ASSERT(IN(ra.data, ra.len));
	}
	if (proto_rcmd_compact_rsp_decode(data, size, &cr) == 0)
		FUZZ_ASSERT(IN(cr.data, cr.data_len));
	proto_rcmd_compact_iter_init(&ci, data, size, NULL);
	while (proto_rcmd_compact_next(&ci, &c) > 0)
		FUZZ_ASSERT(IN(c.raw, c.raw_len));
	if (proto_apdu_decode(data, size, &a) == 0)
		FUZZ_ASSERT(IN(a.data, a.lc));
	return 0;
}
