/* ota-bench: throughput of the SCP80 codec on one core. Prints one key=value line per figure.
 *
 *   build_aes128_cc_cipher_64b_per_s  command packets built: SPI 1621, KIc/KID 12 (AES-128 CBC + CMAC-8),
 *                                     64-byte secured data, fresh counter each packet
 *   por_verify_aes128_per_s           PoRs decoded, deciphered and CC-verified: SPI 1639 (PoR ciphered + CC),
 *                                     AES-128, 16 bytes of additional data
 *
 * Usage: ota-bench [seconds per figure, default 2] [--first-packet]  (--first-packet prints the first packet's
 * hex so scripts/bench can check the Python reference builds the same bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "ota/keystore.h"
#include "ota/ts102225_spkt.h"
#include "proto/hex.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const uint8_t key_enc[16] = { 0x20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
static const uint8_t key_mac[16] = { 0x20, 0x11, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
	bool first = argc > 2 && !strcmp(argv[2], "--first-packet");
	void *ctx = talloc_named_const(NULL, 0, "ota-bench");
	struct ota_sec sec = { 0 };
	struct ota_cmd_hdr h = { .spi = { 0x16, 0x21 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 } };
	uint8_t data[64], pkt[256], ud[256], scratch[256];
	struct proto_buf b;
	unsigned long n = 0, sink = 0, i;

	if (secs <= 0)
		secs = 2.0;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	if (ota_key_import(ctx, key_enc, 16, &sec.kic_key) < 0 || ota_key_import(ctx, key_mac, 16, &sec.kid_key) < 0)
		return 1;

	if (first) {
		ota_cntr_put(h.cntr, 1);
		proto_buf_init(&b, pkt, sizeof(pkt));
		if (ota_spkt_cmd_encode(&b, &h, &sec, data, sizeof(data)) < 0)
			return 1;
		printf("first_packet=%s\n", proto_hexstr(b.data, b.len));
	}

	t0 = now();
	do {
		for (i = 0; i < 4096; i++) {
			ota_cntr_put(h.cntr, ++n);
			proto_buf_init(&b, pkt, sizeof(pkt));
			if (ota_spkt_cmd_encode(&b, &h, &sec, data, sizeof(data)) < 0)
				return 1;
			sink += pkt[b.len - 1];
		}
		t = now() - t0;
	} while (t < secs);
	printf("build_aes128_cc_cipher_64b_per_s=%.0f\n", n / t);

	{
		struct ota_por_hdr ph = { .spi = { 0x16, 0x39 }, .kic = 0x12, .kid = 0x12, .tar = { 0, 0, 1 },
					  .status = 0 };
		struct ota_por por;
		size_t ud_len;

		ota_cntr_put(ph.cntr, 42);
		proto_buf_init(&b, ud, sizeof(ud));
		if (ota_por_encode(&b, &ph, &sec, true, data, 16) < 0)
			return 1;
		ud_len = b.len;
		n = 0;
		t0 = now();
		do {
			for (i = 0; i < 4096; i++) {
				if (ota_por_decode(ud, ud_len, true, ph.spi, 0x12, 0x12, &sec, scratch, sizeof(scratch),
						   &por) != 0 || por.integrity != OTA_INTEGRITY_OK)
					return 1;
				sink += por.status;
				n++;
			}
			t = now() - t0;
		} while (t < secs);
		printf("por_verify_aes128_per_s=%.0f\n", n / t);
	}
	talloc_free(ctx);
	return sink == 0xdeadbeef;
}
