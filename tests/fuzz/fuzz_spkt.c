/* Fuzz the card's view of a TS 102 225 command packet (decode + decipher + RC/CC check), and the encoder:
 * whatever decodes with valid integrity re-encodes to the same bytes. */
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "ota/ts102225_spkt.h"
#include "proto/errors.h"

FUZZ_TARGET(spkt)
{
	static uint8_t scratch[70000], out[70100];
	struct ota_spkt_cmd cmd;
	struct ota_sec sec = { 0 };
	struct proto_buf b;
	int rc;

	if (size < 7)
		return 0;
	sec.kic_key = fuzz_key_for(data[5]);
	sec.kid_key = fuzz_key_for(data[6]);
	rc = ota_spkt_cmd_decode(data, size, &sec, scratch, sizeof(scratch), &cmd);
	if (rc < 0)
		return 0;
	FUZZ_ASSERT(cmd.data_len <= size);
	if (cmd.integrity == OTA_INTEGRITY_OK && ((cmd.hdr.spi[0] & 0x04) || cmd.pcntr == 0)) {
		/* a packet that verifies is exactly what our encoder makes from its fields (cipher padding is
		 * 00 for us; a packet with other pad bytes can still verify, so only compare when pad is zero) */
		const uint8_t *pad = cmd.data + cmd.data_len;
		unsigned i, nz = 0;
		for (i = 0; i < cmd.pcntr; i++)
			nz |= pad[i];
		sec.cc_len = cmd.rc_len == 4 ? 4 : 0;
		proto_buf_init(&b, out, sizeof(out));
		if (!nz && ota_spkt_cmd_encode(&b, &cmd.hdr, &sec, cmd.data, cmd.data_len) == 0)
			FUZZ_ASSERT(b.len == size && !memcmp(b.data, data, size));
	}
	return 0;
}
