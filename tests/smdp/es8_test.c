/* The SM-DP's ES8 engine (smdp/es8.c) against the simulated eUICC's ECASD and ISD-P (tests/euicc-sim/card_es8.c):
 * a full key establishment and SCP03t download, and each failure branch ending in the right error. The scripts go
 * straight to the card model here; the SMS path is covered by the end-to-end tests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "testlib.h"
#include "smdp/es8.h"
#include "tests/euicc-sim/card.h"
#include "tests/euicc-sim/fleet.h"
#include "ota/keystore_ec.h"
#include "proto/bertlv.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/gp_apdu.h"
#include "proto/gp_cert.h"

static const uint8_t isdp_aid[16] = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
				     0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x12, 0x00};

struct pki {
	struct ota_eckey *ci, *dp;
	struct proto_ec_pub *ci_pub;
	uint8_t cert[512];
	size_t cert_len;
};

/* CERT.DP.ECDSA (key usage 88, C8 01 01) for dp, signed by ci */
static int s_issue(struct pki *p)
{
	static const uint8_t serial[] = {0x01}, ca[] = {0x11, 0x22}, subject[] = {0x53, 0x4D, 0x44, 0x50};
	static const uint8_t usage[] = {0x88}, eff[] = {0x20, 0x20, 0x01, 0x01}, exp[] = {0x20, 0x99, 0x12, 0x31};
	static const uint8_t disc[] = {0xC8, 0x01, 0x01};
	struct proto_gp_cert gc = {0};
	uint8_t sd[512], sig[PROTO_EC_SIG_LEN];
	struct proto_buf b;

	gc.serial = (struct proto_gp_field){serial, sizeof(serial)};
	gc.ca_id = (struct proto_gp_field){ca, sizeof(ca)};
	gc.subject = (struct proto_gp_field){subject, sizeof(subject)};
	gc.key_usage = (struct proto_gp_field){usage, sizeof(usage)};
	gc.effective = (struct proto_gp_field){eff, sizeof(eff)};
	gc.expiry = (struct proto_gp_field){exp, sizeof(exp)};
	gc.discretionary = (struct proto_gp_field){disc, sizeof(disc)};
	gc.pk = (struct proto_gp_field){ota_eckey_public(p->dp), PROTO_EC_POINT_LEN};
	gc.has_curve_ref = true;
	gc.curve_ref = PROTO_EC_REF_P256;
	proto_buf_init(&b, sd, sizeof(sd));
	if (proto_gp_cert_put_signed_data(&b, &gc) < 0 || ota_eckey_sign(p->ci, sd, b.len, sig) < 0)
		return -1;
	gc.signature = (struct proto_gp_field){sig, sizeof(sig)};
	proto_buf_init(&b, p->cert, sizeof(p->cert));
	if (proto_gp_cert_encode(&b, &gc) < 0)
		return -1;
	p->cert_len = b.len;
	return 0;
}

static int s_pki(void *ctx, struct pki *p)
{
	memset(p, 0, sizeof(*p));
	if (ota_eckey_generate(ctx, PROTO_EC_REF_P256, &p->ci) < 0 ||
	    ota_eckey_generate(ctx, PROTO_EC_REF_P256, &p->dp) < 0 || ota_eckey_public_key(ctx, p->ci, &p->ci_pub) < 0)
		return -1;
	return s_issue(p);
}

/* a SAIP package: header A0 { major 80, minor 81, iccid 83 }, fillers, end AA */
static size_t s_package(uint8_t *out, size_t cap, size_t filler)
{
	static const uint8_t iccid[10] = {0x98, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x72, 0xF0};
	struct proto_buf b, h;
	uint8_t hdr[64], fill[4096];

	proto_buf_init(&h, hdr, sizeof(hdr));
	proto_tlv_put(&h, 0x80, "\x02", 1);
	proto_tlv_put(&h, 0x81, "\x03", 1);
	proto_tlv_put(&h, 0x83, iccid, sizeof(iccid));
	proto_buf_init(&b, out, cap);
	proto_tlv_put(&b, 0xA0, hdr, h.len);
	/* genericFileManagement PEs holding one OCTET STRING each (constructed: the content must be DER too) */
	while (filler) {
		size_t n = filler > 1500 ? 1500 : filler;
		struct proto_buf f;
		uint8_t os[1600];
		memset(fill, 0x5A, n);
		proto_buf_init(&f, os, sizeof(os));
		proto_tlv_put(&f, 0x04, fill, n);
		proto_tlv_put(&b, 0xA1, os, f.len);
		filler -= n;
	}
	proto_tlv_put(&b, 0xAA, "\x30\x03\x80\x01\x01", 5);
	return proto_buf_status(&b) == 0 ? b.len : 0;
}

/* a card with one new (SELECTABLE) ISD-P of the given quota, the CI key ci */
static struct sim_card *s_card(void *ctx, const struct proto_ec_pub *ci, uint32_t quota, struct sim_isdp **isdp)
{
	struct sim_fleet_cfg fc;
	struct sim_identity id;
	struct sim_card *c;
	uint8_t script[128], rsp[512];
	struct proto_buf b, r;
	struct sim_script_result res;
	uint8_t q[2] = {(uint8_t)(quota >> 8), (uint8_t)quota};
	uint8_t params[16] = {0xC9, 0x04, 0x81, 0x02, 0x03, 0x70, 0xEF, 0x04, 0x83, 0x02};
	uint8_t apdu[96];
	size_t n = 0;

	if (sim_fleet_cfg_init(&fc, "es8-test", "8900101201", "4917") < 0 || sim_fleet_identity(&fc, 0, &id) < 0)
		return NULL;
	c = sim_card_new(ctx, &fc, &id);
	sim_identity_wipe(&id);
	if (!c || sim_card_keys(c) < 0)
		return NULL;
	c->ci = ci;
	/* INSTALL [for install and make selectable] of the ISD-P (sgp02.md §6.4), quota in EF/83 */
	params[10] = q[0];
	params[11] = q[1];
	apdu[n++] = 0x80, apdu[n++] = 0xE6, apdu[n++] = 0x0C, apdu[n++] = 0x00, n++;
	apdu[n++] = 16;
	memcpy(apdu + n,
	       (const uint8_t[]){0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00,
				 0x0D, 0x00},
	       16);
	n += 16;
	apdu[n++] = 16;
	memcpy(apdu + n,
	       (const uint8_t[]){0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00,
				 0x0E, 0x00},
	       16);
	n += 16;
	apdu[n++] = 16;
	memcpy(apdu + n, isdp_aid, 16);
	n += 16;
	apdu[n++] = 3, apdu[n++] = 0x80, apdu[n++] = 0xC0, apdu[n++] = 0x00;
	apdu[n++] = 12;
	memcpy(apdu + n, params, 12);
	n += 12;
	apdu[n++] = 0;
	apdu[4] = (uint8_t)(n - 5);
	apdu[n++] = 0x00; /* Le */
	proto_buf_init(&b, script, sizeof(script));
	proto_buf_put_u8(&b, 0xAA);
	proto_buf_put_u8(&b, (uint8_t)(n + 2));
	proto_buf_put_u8(&b, 0x22);
	proto_buf_put_u8(&b, (uint8_t)n);
	proto_buf_put(&b, apdu, n);
	proto_buf_init(&r, rsp, sizeof(rsp));
	if (sim_card_run_script(c, b.data, b.len, &r, 0, &res) < 0 || res.error) {
		fprintf(stderr, "CreateISDP on the card: SW %04x\n", res.last_sw);
		return NULL;
	}
	*isdp = sim_card_isdp_find(c, isdp_aid, 16);
	return *isdp ? c : NULL;
}

/* drive one download; returns the final step */
static enum smdp_es8_step s_run(void *ctx, struct sim_card *c, struct sim_isdp *d, struct pki *p,
				const struct smdp_es8_cfg *cfg, const uint8_t *pkg, size_t pkg_len, unsigned *senddata,
				char *why, size_t cap)
{
	uint8_t sk[SIM_ECASD_SK_LEN];
	struct ota_eckey *ecasd;
	struct proto_ec_pub *pk;
	struct smdp_es8 *s;
	int rc;

	*senddata = 0;
	why[0] = '\0';
	/* PK.ECASD.ECKA as the EUM certified it (the simulator derives its SK from the fleet seed) */
	if (sim_fleet_ecasd_sk(&c->cfg, c->index, sk) < 0 ||
	    ota_eckey_import(ctx, PROTO_EC_REF_P256, sk, 32, &ecasd) < 0 || ota_eckey_public_key(ctx, ecasd, &pk) < 0)
		return SMDP_ES8_FAILED;
	memset(sk, 0, sizeof(sk));
	if (smdp_es8_new(ctx, cfg, p->dp, p->cert, p->cert_len, pk, isdp_aid, 16, pkg, pkg_len, &s) < 0)
		return SMDP_ES8_FAILED;
	while (smdp_es8_step(s) < SMDP_ES8_DONE) {
		uint8_t data[8192], script[8200], rsp[4096];
		struct proto_buf b, sb, rb;
		struct sim_script_result res;
		bool more;

		proto_buf_init(&b, data, sizeof(data));
		rc = smdp_es8_next(s, &b, &more);
		CHECK(rc == 0 && b.len <= cfg->max_data + 64, "next SendData built (%zu bytes, %s)", b.len,
		      proto_strerror(rc));
		if (rc)
			break;
		(*senddata)++;
		/* what the SM-SR does with a SendData Data: one expanded script for the ISD-P's TAR */
		proto_buf_init(&sb, script, sizeof(script));
		proto_tlv_put(&sb, 0xAA, b.data, b.len);
		proto_buf_init(&rb, rsp, sizeof(rsp));
		rc = sim_card_run_script_on(c, d, sb.data, sb.len, &rb, 0, &res);
		CHECK(rc == 0, "card ran the script");
		if (smdp_es8_response(s, rb.data, rb.len, why, cap) < 0)
			break;
	}
	return smdp_es8_step(s) == SMDP_ES8_FAILED ? SMDP_ES8_FAILED : smdp_es8_step(s);
}

static void test_download(void)
{
	void *ctx = talloc_new(NULL);
	struct smdp_es8_cfg cfg;
	struct sim_isdp *d;
	struct pki p;
	struct sim_card *c;
	static uint8_t pkg[20000];
	size_t len = s_package(pkg, sizeof(pkg), 16000);
	unsigned n;
	char why[256];

	smdp_es8_cfg_default(&cfg);
	CHECK(s_pki(ctx, &p) == 0 && len > 16000, "test PKI and a %zu-byte package", len);
	c = s_card(ctx, p.ci_pub, 32768, &d);
	CHECK(c != NULL, "card with a new ISD-P");
	if (!c)
		goto out;
	CHECK(s_run(ctx, c, d, &p, &cfg, pkg, len, &n, why, sizeof(why)) == SMDP_ES8_DONE, "download: %s", why);
	CHECK(d->lcs == SIM_LCS_DISABLED && !strcmp(d->iccid, "8949000000000000270"), "ISD-P Disabled, ICCID %s (%s)",
	      d->iccid, sim_lcs_name(d->lcs));
	/* keyest 1 + 2, IU, then ceil(len / ~3 segments per SendData) */
	CHECK(n >= 4 && n <= 3 + (len + 2 * cfg.segment) / (2 * cfg.segment) + 1, "%u SendData for %zu bytes", n, len);
	printf("download of %zu bytes: %u SendData\n", len, n);
out:
	talloc_free(ctx);
}

static void test_failures(void)
{
	static const struct {
		const char *fault;
		enum smdp_es8_error want;
		const char *what;
	} t[] = {
		{"ecasd@0", SMDP_ES8_E_CERT_REFUSED, "the ECASD refuses CERT.DP.ECDSA"},
		{"receipt@0", SMDP_ES8_E_RECEIPT, "wrong receipt"},
		{"mac@0", SMDP_ES8_E_SCP03T, "SCP03t MAC error"},
		{"memory@0", SMDP_ES8_E_PROFILE, "memory full (EUICCResponse)"},
	};
	static uint8_t pkg[8000];
	size_t len = s_package(pkg, sizeof(pkg), 5000);
	unsigned i, n;
	char why[256];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		void *ctx = talloc_new(NULL);
		struct smdp_es8_cfg cfg;
		struct sim_isdp *d;
		struct sim_card *c;
		struct pki p;

		smdp_es8_cfg_default(&cfg);
		if (s_pki(ctx, &p) < 0 || !(c = s_card(ctx, p.ci_pub, 32768, &d))) {
			CHECK(0, "%s: setup", t[i].what);
			talloc_free(ctx);
			continue;
		}
		CHECK(sim_es8_fault_parse(t[i].fault, 0, &c->faults) == 1, "fault %s", t[i].fault);
		CHECK(s_run(ctx, c, d, &p, &cfg, pkg, len, &n, why, sizeof(why)) == SMDP_ES8_FAILED && strlen(why),
		      "%s: failed (%s)", t[i].what, why);
		CHECK(d->lcs != SIM_LCS_DISABLED, "%s: no profile installed", t[i].what);
		talloc_free(ctx);
	}
	/* a CERT.DP.ECDSA from another CI, and a package bigger than the ISD-P's quota */
	{
		void *ctx = talloc_new(NULL);
		struct smdp_es8_cfg cfg;
		struct sim_isdp *d;
		struct sim_card *c;
		struct pki p, other;

		smdp_es8_cfg_default(&cfg);
		if (s_pki(ctx, &p) == 0 && s_pki(ctx, &other) == 0 && (c = s_card(ctx, other.ci_pub, 32768, &d)))
			CHECK(s_run(ctx, c, d, &p, &cfg, pkg, len, &n, why, sizeof(why)) == SMDP_ES8_FAILED &&
				      strstr(why, "KEYEST1"),
			      "certificate of a foreign CI refused at KEYEST1 (%s)", why);
		if ((c = s_card(ctx, p.ci_pub, 2048, &d)))
			CHECK(s_run(ctx, c, d, &p, &cfg, pkg, len, &n, why, sizeof(why)) == SMDP_ES8_FAILED &&
				      strstr(why, "EUICCResponse") && d->lcs == SIM_LCS_PERSONALIZED,
			      "package above the quota refused by the ISD-P (%s)", why);
		talloc_free(ctx);
	}
}

int main(void)
{
	test_download();
	test_failures();
	TEST_DONE();
}
