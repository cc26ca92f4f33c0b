/* smsr/config: the example file parses and validates, write-back parses to the same settings, every error names
 * file and line, and validation catches bad values. */
#include <errno.h>
#include "tests/testlib.h"
#include "smsr/config.h"
#include "smsr/logging.h"

static void test_example(void)
{
	const char *dir = getenv("EXAMPLES_DIR");
	struct smsr_config c, back;
	char path[512], err[256] = "", *text = NULL;
	size_t len = 0;
	FILE *m;

	snprintf(path, sizeof(path), "%s/smsrd.conf", dir ? dir : "../doc/examples");
	CHECK_RC(smsr_config_load(&c, path, err, sizeof(err)), 0);
	CHECK_RC(smsr_config_validate(&c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.entity_id, "1.3.6.1.4.1.99999.10") && c.n_requesters == 2 && c.por_timeout_ms == 30000 &&
	      c.notification_timeout_ms == 300000 && c.db_map_size == 8ULL << 30 && c.max_body == 1 << 20,
	      "example values: %s", err);
	CHECK(!strcmp(c.requesters[0].role, "mno") && !strcmp(c.requesters[1].entity_id, "1.3.6.1.4.1.99999.30"),
	      "requesters");
	CHECK(smsr_config_requester_by_tls(&c, "CN=mno1.example,O=Example MNO", NULL) == &c.requesters[0], "by tls");
	CHECK(smsr_config_requester_by_oid(&c, "1.3.6.1.4.1.99999.30") == &c.requesters[1], "by oid");
	CHECK(smsr_config_requester_by_tls(&c, "CN=other", NULL) == NULL, "unknown subject");

	/* write-back: the dump parses to exactly the same settings */
	m = open_memstream(&text, &len);
	smsr_config_write(&c, m);
	fclose(m);
	CHECK_RC(smsr_config_parse(&back, "dump", text, err, sizeof(err)), 0);
	CHECK(!memcmp(&c, &back, sizeof(c)), "write-back round trip (%s)", err);
	free(text);
}

static void test_errors(void)
{
	static const struct {
		const char *text;
		const char *want;	/* substring of the error */
	} t[] = {
		{ "[smsr]\nentity-id\n", "t:2: expected key = value" },
		{ "[nosuch]\n", "t:1: unknown section [nosuch]" },
		{ "[smsr]\nfoo = 1\n", "t:2: unknown key 'foo' in [smsr]" },
		{ "\n\n[es5]\npor-timeout = 3 weeks\n", "t:4: por-timeout: invalid value '3 weeks'" },
		{ "[db]\nmap-size = 12T\n", "t:2: map-size: invalid value '12T'" },
		{ "[log]\nsyslog = maybe\n", "t:2: syslog: invalid value 'maybe'" },
		{ "[es5]\nretries = -1\n", "t:2: retries: invalid value '-1'" },
		{ "[requester]\n", "t:1: [requester NAME] needs a name" },
		{ "[smsr\n", "t:1: malformed section header" },
		{ "key = value\n", "t:1: unknown key 'key' in [(none)]" },
	};
	struct smsr_config c;
	char err[256];
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		CHECK(smsr_config_parse(&c, "t", t[i].text, err, sizeof(err)) == -EINVAL && strstr(err, t[i].want),
		      "case %u: got '%s', want '%s'", i, err, t[i].want);
	}
	CHECK(smsr_config_load(&c, "/nonexistent/smsrd.conf", err, sizeof(err)) == -ENOENT, "missing file");
}

static void test_validate(void)
{
	static const struct {
		const char *text;
		const char *want;
	} t[] = {
		{"[smsr]\nentity-id = 1.2.x\n", "is not an OID"},
		{"[smsr]\nsms-address = abc\n", "is not a number"},
		{"[es4]\nlisten = localhost\n", "is not host:port"},
		{"[es5]\nspi = 16\n", "spi/kic/kid/tar"},
		{"[kannel]\nsendsms-url = ftp://x\n", "is not an http(s) URL"},
		{"[requester a]\nentity-id = 1.2\nrole = mno\n",
		 "needs tls-subject, tls-fingerprint or curve-public-key"},
		{"[requester a]\nentity-id = 1.2\nrole = boss\ntls-subject = CN=a\n", "role must be"},
		{"[requester a]\nentity-id = 1.2\nrole = mno\ncurve-public-key = "
		 "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n",
		 "for an smdp only"},
		{"[requester a]\nentity-id = 1.2\nrole = smdp\ncurve-public-key = short\n", "40 Z85 characters"},
		{"[es3]\nzmq-listen = tcp://127.0.0.1:5555\n", "needs curve-public-key"},
		{"[requester a]\nentity-id = 1.2\nrole = mno\ntls-subject = CN=a\n"
		 "[requester b]\nentity-id = 1.2\nrole = mno\ntls-subject = CN=b\n",
		 "duplicates"},
	};
	struct smsr_config c;
	char err[256];
	unsigned i;

	smsr_config_defaults(&c);
	CHECK_RC(smsr_config_validate(&c, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		CHECK_RC(smsr_config_parse(&c, "t", t[i].text, err, sizeof(err)), 0);
		CHECK(smsr_config_validate(&c, err, sizeof(err)) == -EINVAL && strstr(err, t[i].want),
		      "case %u: got '%s', want '%s'", i, err, t[i].want);
	}
}

static void test_logging(void)
{
	static const uint8_t eid[16] = { 0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23,
					 0x45, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x35 };
	char buf[1024];
	enum smsr_log_cat cat;
	enum smsr_log_level lvl;

	smsr_log_init("smsrd", false, false);
	smsr_log_capture(buf, sizeof(buf));
	smsr_log_set_level(-1, LOGL_INFO);
	LOG_EIS(eid, DOTA, LOGL_INFO, "PoR status %02x", 0);
	LOG_EIS(eid, DOTA, LOGL_DEBUG, "not shown");
	LOG_TXN("fci-42", DSOAP, LOGL_ERROR, "FAILED %s", "8.2.1/3.9");
	CHECK(!strcmp(buf, "smsrd DOTA <info> EID 89049032123451234512345678901235: PoR status 00\n"
			   "smsrd DSOAP <error> fci-42: FAILED 8.2.1/3.9\n"), "captured:\n%s", buf);
	smsr_log_capture(NULL, 0);
	CHECK(smsr_log_cat_parse("dota", &cat) == 0 && cat == DOTA && smsr_log_cat_parse("DZMQ", &cat) == 0 &&
	      cat == DZMQ && smsr_log_cat_parse("DNOPE", &cat) == -EINVAL, "category names");
	CHECK(smsr_log_level_parse("NOTICE", &lvl) == 0 && lvl == LOGL_NOTICE, "level names");
}

int main(void)
{
	test_example();
	test_errors();
	test_validate();
	test_logging();
	TEST_DONE();
}
