/* sm-ota: offline tool over the OTA codecs (build/parse SCP80 packets, SCP03 derivation, GP certificates).
 * Exit status: 0 done, 2 usage or malformed input, 3 integrity/signature check failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "ota/sm-ota.h"
#include "ota/keystore.h"
#include "ota/ts102225_spkt.h"
#include "ota/ts31115_sms.h"
#include "proto/hex.h"
#include "proto/errors.h"

static const char usage_text[] =
	"usage:\n"
	"  sm-ota build --spi HHHH --kic HH --kid HH --tar HHHHHH --cntr HHHHHHHHHH [--key-enc HEX] [--key-mac HEX]\n"
	"               [--cc-len 4|8] --data HEX [--out packet|ud]\n"
	"  sm-ota parse-por --spi HHHH --kic HH --kid HH [--key-enc HEX] [--key-mac HEX] [--cc-len 4|8] HEX\n"
	"  sm-ota parse-cmd [--key-enc HEX] [--key-mac HEX] [--cc-len 4|8] HEX\n"
	"  sm-ota scp03-derive --key-enc HEX --key-mac HEX --host-challenge HEX --card-challenge HEX\n"
	"  sm-ota cert-verify --ci-pk HEX CERT_HEX\n"
	"  sm-ota cert-issue --ca-key PEM --subject-key PEM --serial HEX --ca-id HEX --subject HEX --usage HEX\n"
	"                    [--discretionary HEX] [--effective YYYYMMDD] --expiry YYYYMMDD\n"
	"exit status: 0 done, 2 usage or malformed input, 3 integrity or signature check failed\n";

/* talloc root of the sub-commands in this file; freed before exiting from smota_usage() too */
static void *root;

void smota_usage(void)
{
	talloc_free(root);
	root = NULL;
	fputs(usage_text, stderr);
	exit(SMOTA_USAGE);
}

size_t smota_hex_arg(const char *opt, const char *val, uint8_t *out, size_t cap, size_t exact_len)
{
	int n = proto_hex_decode(val, out, cap);

	if (n < 0 || (exact_len && (size_t)n != exact_len)) {
		fprintf(stderr, "sm-ota: %s: expected %s%zu hex bytes\n", opt, exact_len ? "" : "at most ",
			exact_len ? exact_len : cap);
		smota_usage();
	}
	return (size_t)n;
}

/* options shared by build / parse-por / parse-cmd */
struct opts {
	const char *spi, *kic, *kid, *tar, *cntr, *key_enc, *key_mac, *cc_len, *data, *out;
	const char *positional;
};

static void parse_opts(int argc, char **argv, struct opts *o, const char *allowed, bool want_positional)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;
		char key[32];

		if (strncmp(a, "--", 2) != 0) {
			if (!want_positional || o->positional)
				smota_usage();
			o->positional = a;
			continue;
		}
		snprintf(key, sizeof(key), " %s ", a + 2);
		if (!strstr(allowed, key))
			smota_usage();
		if (!strcmp(a, "--spi"))
			slot = &o->spi;
		else if (!strcmp(a, "--kic"))
			slot = &o->kic;
		else if (!strcmp(a, "--kid"))
			slot = &o->kid;
		else if (!strcmp(a, "--tar"))
			slot = &o->tar;
		else if (!strcmp(a, "--cntr"))
			slot = &o->cntr;
		else if (!strcmp(a, "--key-enc"))
			slot = &o->key_enc;
		else if (!strcmp(a, "--key-mac"))
			slot = &o->key_mac;
		else if (!strcmp(a, "--cc-len"))
			slot = &o->cc_len;
		else if (!strcmp(a, "--data"))
			slot = &o->data;
		else if (!strcmp(a, "--out"))
			slot = &o->out;
		if (!slot || *slot || i + 1 >= argc)
			smota_usage();
		*slot = argv[++i];
	}
	if (want_positional && !o->positional)
		smota_usage();
}

/* keys and CC length into an ota_sec; keys are talloc children of ctx */
static void load_sec(void *ctx, const struct opts *o, struct ota_sec *sec)
{
	uint8_t raw[32];
	size_t n;

	memset(sec, 0, sizeof(*sec));
	if (o->key_enc) {
		n = smota_hex_arg("--key-enc", o->key_enc, raw, sizeof(raw), 0);
		if (ota_key_import(ctx, raw, n, &sec->kic_key) < 0) {
			fprintf(stderr, "sm-ota: --key-enc: key must be 8, 16, 24 or 32 bytes\n");
			smota_usage();
		}
	}
	if (o->key_mac) {
		n = smota_hex_arg("--key-mac", o->key_mac, raw, sizeof(raw), 0);
		if (ota_key_import(ctx, raw, n, &sec->kid_key) < 0) {
			fprintf(stderr, "sm-ota: --key-mac: key must be 8, 16, 24 or 32 bytes\n");
			smota_usage();
		}
	}
	memset(raw, 0, sizeof(raw));
	if (o->cc_len) {
		if (!strcmp(o->cc_len, "4"))
			sec->cc_len = 4;
		else if (!strcmp(o->cc_len, "8"))
			sec->cc_len = 8;
		else
			smota_usage();
	}
}

static void print_hex_line(const char *key, const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (!s) {
		perror("sm-ota");
		exit(1);
	}
	printf("%s=%s\n", key, proto_hex_encode(p, n, s));
	free(s);
}

static int cmd_build(void *ctx, int argc, char **argv)
{
	struct opts o;
	struct ota_cmd_hdr h;
	struct ota_sec sec;
	struct proto_buf b;
	uint8_t *data, *pkt;
	size_t data_cap = OTA_SPKT_MAX_DATA, len;
	bool ud = false;
	int rc;

	parse_opts(argc, argv, &o, " spi kic kid tar cntr key-enc key-mac cc-len data out ", false);
	if (!o.spi || !o.kic || !o.kid || !o.tar || !o.cntr || !o.data)
		smota_usage();
	if (o.out) {
		if (!strcmp(o.out, "ud"))
			ud = true;
		else if (strcmp(o.out, "packet"))
			smota_usage();
	}
	smota_hex_arg("--spi", o.spi, h.spi, 2, 2);
	smota_hex_arg("--kic", o.kic, &h.kic, 1, 1);
	smota_hex_arg("--kid", o.kid, &h.kid, 1, 1);
	smota_hex_arg("--tar", o.tar, h.tar, 3, 3);
	smota_hex_arg("--cntr", o.cntr, h.cntr, 5, 5);
	data = talloc_size(ctx, data_cap);
	pkt = talloc_size(ctx, data_cap + 64);
	if (!data || !pkt)
		return 1;
	len = smota_hex_arg("--data", o.data, data, data_cap, 0);
	load_sec(ctx, &o, &sec);

	proto_buf_init(&b, pkt, data_cap + 64);
	rc = ota_spkt_cmd_encode(&b, &h, &sec, data, len);
	if (rc < 0) {
		fprintf(stderr, "sm-ota: build: %s\n", proto_strerror(rc));
		return SMOTA_USAGE;
	}
	if (!ud) {
		char *line = talloc_size(ctx, 2 * b.len + 1);
		if (!line)
			return 1;
		printf("%s\n", proto_hex_encode(b.data, b.len, line));
		return SMOTA_OK;
	}
	{
		struct ota_sms_ud *segs = talloc_array(ctx, struct ota_sms_ud, 255);
		char line[2 * OTA_SMS_UD_MAX + 1];
		int n, i;

		if (!segs)
			return 1;
		n = ota_sms_segment(b.data, b.len, OTA_IEI_CMD_PKT, 0, segs, 255);
		if (n < 0) {
			fprintf(stderr, "sm-ota: build: packet does not fit 255 SMS\n");
			return SMOTA_USAGE;
		}
		for (i = 0; i < n; i++)
			printf("%s\n", proto_hex_encode(segs[i].ud, segs[i].len, line));
	}
	return SMOTA_OK;
}

static const char *integrity_name(enum ota_integrity i)
{
	return i == OTA_INTEGRITY_OK ? "ok" : i == OTA_INTEGRITY_BAD ? "bad" : "none";
}

/* hex input: returns its length; the buffer is a talloc child of ctx */
static size_t load_input(void *ctx, const char *hex, uint8_t **out)
{
	size_t cap = strlen(hex) / 2 + 1;

	*out = talloc_size(ctx, cap);
	if (!*out)
		exit(1);
	return smota_hex_arg("input", hex, *out, cap, 0);
}

/* Does in start with UDH 02 <iei> 00 followed by a length field matching the rest? */
static bool is_ud(const uint8_t *in, size_t len, uint8_t iei)
{
	return len >= 5 && in[0] == 0x02 && in[1] == iei && in[2] == 0x00 &&
	       (size_t)(in[3] << 8 | in[4]) == len - 5;
}

static int cmd_parse_por(void *ctx, int argc, char **argv)
{
	struct opts o;
	struct ota_sec sec;
	struct ota_por por;
	uint8_t spi[2], kic, kid, *in, *scratch;
	size_t len;
	bool udh;
	int rc;

	parse_opts(argc, argv, &o, " spi kic kid key-enc key-mac cc-len ", true);
	if (!o.spi || !o.kic || !o.kid)
		smota_usage();
	smota_hex_arg("--spi", o.spi, spi, 2, 2);
	smota_hex_arg("--kic", o.kic, &kic, 1, 1);
	smota_hex_arg("--kid", o.kid, &kid, 1, 1);
	load_sec(ctx, &o, &sec);
	len = load_input(ctx, o.positional, &in);
	scratch = talloc_size(ctx, len + 1);
	if (!scratch)
		return 1;
	udh = is_ud(in, len, 0x71);
	rc = ota_por_decode(in, len, udh, spi, kic, kid, &sec, scratch, len + 1, &por);
	if (rc < 0 && rc != -PROTO_E_INTEGRITY) {
		fprintf(stderr, "sm-ota: parse-por: %s\n", proto_strerror(rc));
		return SMOTA_MALFORMED;
	}
	print_hex_line("tar", por.tar, 3);
	print_hex_line("cntr", por.cntr, 5);
	printf("pcntr=%u\n", por.pcntr);
	printf("status=%02x\n", por.status);
	printf("integrity=%s\n", integrity_name(por.integrity));
	print_hex_line("data", por.data, por.data_len);
	return rc == -PROTO_E_INTEGRITY ? SMOTA_INTEGRITY : SMOTA_OK;
}

static int cmd_parse_cmd(void *ctx, int argc, char **argv)
{
	struct opts o;
	struct ota_sec sec;
	struct ota_spkt_cmd cmd;
	uint8_t *in, *scratch, *pkt;
	size_t len;
	int rc;

	parse_opts(argc, argv, &o, " key-enc key-mac cc-len ", true);
	load_sec(ctx, &o, &sec);
	len = load_input(ctx, o.positional, &in);
	pkt = in;
	if (is_ud(in, len, 0x70)) {
		pkt += 3;
		len -= 3;
	}
	scratch = talloc_size(ctx, len + 1);
	if (!scratch)
		return 1;
	rc = ota_spkt_cmd_decode(pkt, len, &sec, scratch, len + 1, &cmd);
	if (rc < 0 && rc != -PROTO_E_INTEGRITY) {
		fprintf(stderr, "sm-ota: parse-cmd: %s\n", proto_strerror(rc));
		return SMOTA_MALFORMED;
	}
	print_hex_line("spi", cmd.hdr.spi, 2);
	print_hex_line("kic", &cmd.hdr.kic, 1);
	print_hex_line("kid", &cmd.hdr.kid, 1);
	print_hex_line("tar", cmd.hdr.tar, 3);
	print_hex_line("cntr", cmd.hdr.cntr, 5);
	printf("pcntr=%u\n", cmd.pcntr);
	printf("integrity=%s\n", integrity_name(cmd.integrity));
	print_hex_line("data", cmd.data, cmd.data_len);
	return rc == -PROTO_E_INTEGRITY ? SMOTA_INTEGRITY : SMOTA_OK;
}

int main(int argc, char **argv)
{
	void *ctx;
	int rc;

	if (argc < 2)
		smota_usage();
	ctx = root = talloc_named_const(NULL, 0, "sm-ota");
	if (!strcmp(argv[1], "build"))
		rc = cmd_build(ctx, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "parse-por"))
		rc = cmd_parse_por(ctx, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "parse-cmd"))
		rc = cmd_parse_cmd(ctx, argc - 1, argv + 1);
	else if (!strcmp(argv[1], "scp03-derive"))
		rc = smota_scp03_derive(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "cert-verify"))
		rc = smota_cert_verify(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "cert-issue"))
		rc = smota_cert_issue(argc - 1, argv + 1);
	else
		smota_usage();
	talloc_free(ctx);
	root = NULL;
	return rc;
}
