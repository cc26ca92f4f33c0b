/* smsr/soap, smsr/eis_xml, smsr/es_msg: parse every ES1/ES4 request fixture, build every response, callback,
 * notification and fault and validate the bodies against the GSMA XSD (GSMA_SCHEMA_DIR, default
 * ../../shared/gsma-schema from the tests/ directory; skipped with a notice when absent), EIS round trip and views,
 * hostile and malformed input (XXE, billion laughs, DOCTYPE, limits, wrong namespace/version, every truncation).
 *
 * Fixtures: tests/smsr/data (SOAP_TEST_DATA, else $srcdir/smsr/data, else next to this file). */
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <talloc.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include "tests/testlib.h"
#include "smsr/soap.h"
#include "smsr/eis_xml.h"
#include "smsr/es_msg.h"

#define SMSR_OID "1.3.6.1.4.1.99900"
#define MNO1 "1.3.6.1.4.1.99901"
#define MNO2 "1.3.6.1.4.1.99902"
#define SMDP1 "1.3.6.1.4.1.99910"
#define EID_HEX "89001012012341234012345678901224"
#define ES1_ACTION "http://gsma.com/ES1/eUICCManagement/ES1-RegisterEISRequest"

static char s_data_dir[PATH_MAX];
static char s_schema_dir[PATH_MAX];
static xmlSchemaPtr s_schema;	/* NULL: schema checks skipped */
static unsigned s_validated, s_import_calls;

static const struct smsr_soap_entity s_self = { "https://smsr.example.com/es4", SMSR_OID, "SM-SR" };
static const struct smsr_soap_entity s_eum = { "https://eum.example.com/es1", "1.3.6.1.4.1.99920", NULL };

/*
 * Files and paths
 */

static bool s_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static void s_paths(void)
{
	char file[PATH_MAX], tests[PATH_MAX - 64], buf[PATH_MAX + 64];
	const char *env = getenv("SOAP_TEST_DATA"), *srcdir = getenv("srcdir");

	snprintf(file, sizeof(file), "%s", __FILE__);
	/* the tests/ directory: $srcdir under automake, else two levels above this file */
	if (srcdir && *srcdir)
		snprintf(tests, sizeof(tests), "%s", srcdir);
	else
		snprintf(tests, sizeof(tests), "%s", dirname(dirname(file)));
	if (env && *env)
		snprintf(s_data_dir, sizeof(s_data_dir), "%s", env);
	else
		snprintf(s_data_dir, sizeof(s_data_dir), "%s/smsr/data", tests);
	env = getenv("GSMA_SCHEMA_DIR");
	if (env && *env)
		snprintf(buf, sizeof(buf), "%s", env);
	else
		snprintf(buf, sizeof(buf), "%s/../../shared/gsma-schema", tests);
	if (!realpath(buf, s_schema_dir))
		s_schema_dir[0] = '\0';
	if (realpath(s_data_dir, file))
		snprintf(s_data_dir, sizeof(s_data_dir), "%s", file);
}

static char *s_read(void *ctx, const char *name, size_t *len)
{
	char path[PATH_MAX + 64];
	FILE *f;
	char *b;
	long n;

	snprintf(path, sizeof(path), "%s/%s", s_data_dir, name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = talloc_array(ctx, char, (size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

/*
 * Schema validation (libxml2 xmlSchemaValidateDoc against a wrapper including the GSMA ES1 + ES4 schemas and
 * importing the SOAP 1.2 envelope and WS-Addressing schemas shipped with them)
 */

static char s_verr[2048];

static void s_collect(void *ctx, xmlErrorPtr e)
{
	size_t l = strlen(s_verr);
	if (e && e->message && l < sizeof(s_verr) - 1)
		snprintf(s_verr + l, sizeof(s_verr) - l, "%s", e->message);
}

static void s_quiet(void *ctx, xmlErrorPtr e)
{
}

static void s_schema_load(void)
{
	char es4[PATH_MAX + 64], *xsd;
	xmlSchemaParserCtxtPtr p;

	snprintf(es4, sizeof(es4), "%s/xsd/euicc.request.ES4.xsd", s_schema_dir);
	if (!s_schema_dir[0] || !s_exists(es4)) {
		printf("NOTICE: GSMA schema not found (GSMA_SCHEMA_DIR or ../../shared/gsma-schema): "
		       "XSD validation skipped\n");
		return;
	}
	xsd = talloc_asprintf(
		NULL,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"%s\""
		" elementFormDefault=\"qualified\">"
		"<xs:import namespace=\"http://www.w3.org/XML/1998/namespace\" schemaLocation=\"%s/xml-lang.xsd\"/>"
		"<xs:import namespace=\"%s\" schemaLocation=\"%s/xsd/import/soap-12.xsd\"/>"
		"<xs:import namespace=\"%s\" schemaLocation=\"%s/xsd/import/ws-addr.xsd\"/>"
		"<xs:include schemaLocation=\"%s/xsd/euicc.request.ES1.xsd\"/>"
		"<xs:include schemaLocation=\"%s/xsd/euicc.request.ES4.xsd\"/>"
		"<xs:include schemaLocation=\"%s/xsd/euicc.request.ES3.xsd\"/>"
		"<xs:include schemaLocation=\"%s/xsd/euicc.request.ES2.xsd\"/>"
		"</xs:schema>",
		SMSR_NS_RPS, s_data_dir, SMSR_NS_SOAP12, s_schema_dir, SMSR_NS_WSA, s_schema_dir, s_schema_dir,
		s_schema_dir, s_schema_dir, s_schema_dir);
	p = xmlSchemaNewMemParserCtxt(xsd, (int)strlen(xsd));
	xmlSchemaSetParserStructuredErrors(p, s_quiet, NULL);
	s_schema = xmlSchemaParse(p);
	xmlSchemaFreeParserCtxt(p);
	talloc_free(xsd);
	CHECK(s_schema != NULL, "GSMA wrapper schema does not compile (%s)", s_schema_dir);
	if (s_schema)
		printf("validating against %s\n", s_schema_dir);
}

static int s_validate_doc(xmlDoc *d)
{
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(s_schema);
	int rc;

	s_verr[0] = '\0';
	xmlSchemaSetValidStructuredErrors(v, s_collect, NULL);
	rc = xmlSchemaValidateDoc(v, d);
	xmlSchemaFreeValidCtxt(v);
	s_validated++;
	return rc;
}

/* strict: the element as the root of its own document must be declared and valid */
static int s_validate_elem(const xmlNode *n)
{
	xmlDoc *d = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *c = xmlDocCopyNode((xmlNode *)n, d, 1);
	int rc;

	xmlDocSetRootElement(d, c);
	xmlReconciliateNs(d, c);
	rc = s_validate_doc(d);
	xmlFreeDoc(d);
	return rc;
}

#define CHECK_VALID_ELEM(n, what) do { \
	if (s_schema) { int _v = s_validate_elem(n); CHECK(_v == 0, "%s: XSD: %s", (what), s_verr); } \
	} while (0)
#define CHECK_VALID_DOC(d, what) do { \
	if (s_schema) { int _v = s_validate_doc(d); CHECK(_v == 0, "%s: XSD (envelope): %s", (what), s_verr); } \
	} while (0)

/*
 * Tree helpers
 */

static xmlNode *s_find(xmlNode *n, const char *name)
{
	xmlNode *c, *r;

	for (c = n ? n->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)c->name, name))
			return c;
		if ((r = s_find(c, name)))
			return r;
	}
	return NULL;
}

static unsigned s_count(xmlNode *n, const char *name)
{
	xmlNode *c;
	unsigned k = 0;

	for (c = n ? n->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		k += !strcmp((const char *)c->name, name);
		k += s_count(c, name);
	}
	return k;
}

static const char *s_text(void *ctx, xmlNode *n)
{
	xmlChar *t;
	char *s;

	if (!n)
		return "";
	t = xmlNodeGetContent(n);
	s = talloc_strdup(ctx, t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

static char *s_dump(void *ctx, xmlNode *n)
{
	xmlBufferPtr b = xmlBufferCreate();
	char *s;

	xmlNodeDump(b, n->doc, n, 0, 0);
	s = talloc_strdup(ctx, (const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	return s;
}

/* Our own parser must accept everything we build. */
static struct smsr_soap_msg *s_reparse(void *ctx, const uint8_t *buf, size_t len, const char *what)
{
	struct smsr_soap_error err;
	struct smsr_soap_msg *m;
	int rc = smsr_soap_parse(ctx, buf, len, NULL, &m, &err);

	CHECK(rc == 0, "%s: built envelope does not re-parse: %s", what, err.text);
	if (!rc)
		CHECK_VALID_DOC(m->doc, what);
	return rc ? NULL : m;
}

/*
 * Key callbacks: a fake keystore ("wrapped" = tag byte + value XOR 0x5a)
 */

static int s_import(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *v, size_t len, void *wctx,
		    uint8_t **w, size_t *wl)
{
	size_t i;

	s_import_calls++;
	if (data)
		return *(int *)data;
	*w = talloc_array(wctx, uint8_t, len + 1);
	if (!*w)
		return -ENOMEM;
	(*w)[0] = (uint8_t)(0xa0 | ref->sd);
	for (i = 0; i < len; i++)
		(*w)[i + 1] = v[i] ^ 0x5a;
	*wl = len + 1;
	return 0;
}

static int s_export(void *data, const struct smsr_eis_key_ref *ref, const uint8_t *w, size_t wl, void *ctx,
		    uint8_t **v, size_t *vl)
{
	size_t i;

	if (wl < 1 || w[0] != (0xa0 | ref->sd))
		return -EINVAL;
	*v = talloc_array(ctx, uint8_t, wl - 1);
	if (!*v)
		return -ENOMEM;
	for (i = 1; i < wl; i++)
		(*v)[i - 1] = w[i] ^ 0x5a;
	*vl = wl - 1;
	return 0;
}

static const struct smsr_es_decode_opts s_opts = { .eis_in = { .key_import = s_import } };

static struct smsr_es_req *s_decode_file(void *ctx, const char *name, struct smsr_soap_msg **msg)
{
	struct smsr_es_error err;
	struct smsr_es_req *r;
	size_t len;
	char *x = s_read(ctx, name, &len);
	int rc = smsr_es_receive(ctx, x, len, NULL, &s_opts, msg, &r, &err);

	CHECK(rc == 0, "%s: rc %d (%s): %s", name, rc, smsr_soap_strerror(rc), err.soap.text);
	return rc ? NULL : r;
}

/*
 * 1. Every request fixture parses, validates and decodes into the right fields
 */

static void test_requests(void)
{
	static const struct {
		const char *file;
		enum smsr_es_func f;
		const char *iccid;
	} t[] = {
		{ "es1_register_eis.xml", SMSR_ES1_REGISTER_EIS, "" },
		{ "es4_get_eis.xml", SMSR_ES4_GET_EIS, "" },
		{ "es4_audit_eis.xml", SMSR_ES4_AUDIT_EIS, "" },
		{ "es4_update_policy_rules.xml", SMSR_ES4_UPDATE_POLICY_RULES, "8933010000000000010" },
		{ "es4_update_subscription_address.xml", SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS, "8933010000000000010" },
		{ "es4_enable_profile.xml", SMSR_ES4_ENABLE_PROFILE, "8949000000000000027" },
		{ "es4_disable_profile.xml", SMSR_ES4_DISABLE_PROFILE, "8933010000000000010" },
		{ "es4_delete_profile.xml", SMSR_ES4_DELETE_PROFILE, "8949000000000000027" },
		{ "es4_prepare_smsr_change.xml", SMSR_ES4_PREPARE_SMSR_CHANGE, "" },
		{ "es4_smsr_change.xml", SMSR_ES4_SMSR_CHANGE, "" },
	};
	void *ctx = talloc_new(NULL);
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct smsr_soap_msg *m;
		struct smsr_es_req *r = s_decode_file(ctx, t[i].file, &m);
		char eid[2 * SMSR_EID_LEN + 1];

		if (!r)
			continue;
		CHECK_VALID_DOC(m->doc, t[i].file);
		CHECK_VALID_ELEM(m->body, t[i].file);
		CHECK(r->func == t[i].f && r->desc == smsr_es_func_desc(t[i].f), "%s: func %d", t[i].file, r->func);
		CHECK(!strcmp(r->iccid, t[i].iccid), "%s: iccid '%s'", t[i].file, r->iccid);
		CHECK(r->function_call_id && r->function_call_id[0], "%s: FunctionCallIdentifier", t[i].file);
		if (t[i].f == SMSR_ES1_REGISTER_EIS) {
			CHECK(!r->has_eid && r->eis && !r->has_validity_period, "%s: eis", t[i].file);
			CHECK(!strcmp(r->from_entity_id, "1.3.6.1.4.1.99920"), "%s: From EntityId", t[i].file);
			continue;
		}
		CHECK(r->has_eid, "%s: no eid", t[i].file);
		proto_hex_encode(r->eid, SMSR_EID_LEN, eid);
		CHECK(!strcasecmp(eid, EID_HEX), "%s: eid %s", t[i].file, eid);
		CHECK(r->has_validity_period && r->validity_period == 3600, "%s: ValidityPeriod", t[i].file);
		CHECK(!strcmp(r->from_entity_id, MNO1), "%s: From EntityId %s", t[i].file, r->from_entity_id);
		CHECK(!strcmp(m->from_entity_name, "MNO One"), "%s: EntityName %s", t[i].file, m->from_entity_name);
		CHECK(!strcmp(r->reply_to, "https://mno1.example.com/es4-callback"), "%s: ReplyTo", t[i].file);
		CHECK(r->transaction_id && !strncmp(r->transaction_id, "urn:uuid:0b5e6f1c", 17), "%s: TransactionId",
		      t[i].file);
		CHECK(m->to_entity_id && !strcmp(m->to_entity_id, SMSR_OID), "%s: To EntityId", t[i].file);
		switch (t[i].f) {
		case SMSR_ES4_AUDIT_EIS:
			CHECK(r->n_iccids == 2 && !strcmp(r->iccids[0], "8933010000000000010") &&
			      !strcmp(r->iccids[1], "8949000000000000027"), "audit iccids");
			break;
		case SMSR_ES4_UPDATE_POLICY_RULES:
			CHECK(r->n_pol2 == 2 && r->pol2[0].action == SMSR_POL2_DISABLE &&
			      r->pol2[0].qualification == SMSR_POL2_NOT_ALLOWED &&
			      r->pol2[1].action == SMSR_POL2_DELETE &&
			      r->pol2[1].qualification == SMSR_POL2_AUTO_DELETE, "pol2");
			break;
		case SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS:
			CHECK(!strcmp(r->imsi, "208019876543210") && !strcmp(r->msisdn, "33698765432"), "address");
			break;
		case SMSR_ES4_PREPARE_SMSR_CHANGE:
		case SMSR_ES4_SMSR_CHANGE:
			CHECK(r->smsr_id && !strcmp(r->smsr_id, "1.3.6.1.4.1.99800"), "smsr id");
			break;
		default:
			break;
		}
	}
	talloc_free(ctx);
}

/*
 * 2. The function table and tolerant action matching
 */

static void test_table(void)
{
	static const struct {
		const char *action;
		unsigned ifaces;
		int f;
	} t[] = {
		{ "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile", 0, SMSR_ES4_ENABLE_PROFILE },
		{ "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfileRequest", 0, SMSR_ES4_ENABLE_PROFILE },
		{ "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile", 0, SMSR_ES4_ENABLE_PROFILE },
		{ "urn:ES4-GetEIS", 0, SMSR_ES4_GET_EIS },
		{ "ES4-GetEIS", 0, SMSR_ES4_GET_EIS },
		{ "http://gsma.com/ES4/ProfileManagement/ES4-GetEISResponse", 0, -1 },
		{ "http://gsma.com/ES4/PlatformManagement/es4-enableprofile", 0, -1 },
		{ "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfileX", 0, -1 },
		{ "http://gsma.com/ES4/PlatformManagement/ES4-HandleProfileEnabledNotification", 0, -1 },
		{ "http://gsma.com/ES2/ProfileManagement/ES2-EnableProfile", 0, -1 },
		{ ES1_ACTION, SMSR_ES_IF_ES1, SMSR_ES1_REGISTER_EIS },
		{ ES1_ACTION, SMSR_ES_IF_ES4, -1 },
		{ "http://gsma.com/ES4/eUICCManagement/ES4-SMSRChange", SMSR_ES_IF_ES4, SMSR_ES4_SMSR_CHANGE },
		{ "http://gsma.com/ES4/eUICCManagement/ES4-PrepareSMSRChange", 0, SMSR_ES4_PREPARE_SMSR_CHANGE },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct smsr_es_func_desc *d = smsr_es_func_by_action(t[i].action, t[i].ifaces);
		CHECK(t[i].f < 0 ? d == NULL : (d && (int)d->func == t[i].f), "action %s -> %s", t[i].action,
		      d ? d->name : "none");
	}
	for (i = 0; i < SMSR_ES_FUNC_COUNT; i++) {
		const struct smsr_es_func_desc *d = smsr_es_func_desc(i);
		CHECK(d && d->func == i && d->name && d->req_elem && d->req_action, "table row %u", i);
		if (d->mep == SMSR_ES_NOTIFICATION) {
			/* the ES2 XSD spells one of them "completionTimestamp" */
			CHECK(!d->resp_elem && d->timestamp_elem &&
				      !strcmp(d->timestamp_elem, d->func == SMSR_ES2_HANDLE_PROFILE_ENABLED
									 ? "completionTimestamp"
									 : "CompletionTimestamp"),
			      "%s: notification row", d->name);
			CHECK(smsr_es_func_by_elem(d->req_elem) == NULL, "%s: never received", d->name);
		} else {
			/* 0 = the default endpoint (ES1 + ES4): ES3 and ES2 rows are found only where they are served
			 */
			CHECK(d->resp_elem && d->resp_action && smsr_es_func_by_elem(d->req_elem) == d &&
				      smsr_es_func_by_action(d->req_action, d->iface) == d &&
				      (smsr_es_func_by_action(d->req_action, 0) == d) ==
					      (d->iface == SMSR_ES_IF_ES1 || d->iface == SMSR_ES_IF_ES4),
			      "%s: request row", d->name);
		}
	}
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_EID_UNKNOWN), "8.1.1") && !strcmp(smsr_sc_reason(SMSR_SC_EID_UNKNOWN),
	      "1.1"), "EID_UNKNOWN");
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_ICCID_UNKNOWN), "8.2.1") &&
	      !strcmp(smsr_sc_reason(SMSR_SC_ICCID_UNKNOWN), "3.9"), "ICCID_UNKNOWN");
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_PROFILE_NOT_ALLOWED), "8.2.1") &&
	      !strcmp(smsr_sc_reason(SMSR_SC_PROFILE_NOT_ALLOWED), "1.2"), "PROFILE_NOT_ALLOWED");
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_POL2_REFUSED), "8.2.3") && !strcmp(smsr_sc_reason(SMSR_SC_POL2_REFUSED),
	      "3.8"), "POL2_REFUSED");
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_MEMORY), "8.1") && !strcmp(smsr_sc_reason(SMSR_SC_MEMORY), "4.8"),
	      "MEMORY");
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_EUICC_ERROR), "8.4") && !strcmp(smsr_sc_reason(SMSR_SC_EUICC_ERROR),
	      "4.2"), "EUICC_ERROR");
	CHECK(!strcmp(smsr_sc_subject(SMSR_SC_BUSY), "1.2") && !strcmp(smsr_sc_reason(SMSR_SC_BUSY), "4.4"), "BUSY");
	CHECK(!strcmp(smsr_sc_reason(SMSR_SC_MISSING_ELEMENT), "2.2") && !strcmp(smsr_sc_reason(SMSR_SC_INVALID),
	      "2.1"), "format errors");
	for (i = 1; i < SMSR_SC_COUNT; i++)
		CHECK(smsr_soap_is_oid(smsr_sc_subject(i)) && smsr_soap_is_oid(smsr_sc_reason(i)) &&
		      strcmp(smsr_sc_name(i), "?"), "status code %u", i);
}

/*
 * 3. Responses (sync and async callback) for every function, SUCCESS and FAILED
 */

static struct smsr_eis *s_load_eis(void *ctx)
{
	struct smsr_soap_msg *m;
	struct smsr_es_req *r = s_decode_file(ctx, "es1_register_eis.xml", &m);

	return r ? r->eis : NULL;
}

static void s_check_response(void *ctx, const uint8_t *buf, size_t len, const struct smsr_es_func_desc *d,
			     const char *relates_to, const struct smsr_es_result *r, const char *what)
{
	struct smsr_soap_msg *m = s_reparse(ctx, buf, len, what);
	xmlNode *st;

	if (!m)
		return;
	CHECK(!strcmp(m->action, d->resp_action), "%s: action %s", what, m->action);
	CHECK(m->relates_to && !strcmp(m->relates_to, relates_to), "%s: RelatesTo", what);
	CHECK(!strcmp(m->body_name, d->resp_elem) && m->body_ns && !strcmp(m->body_ns, SMSR_NS_RPS), "%s: body %s",
	      what, m->body_name);
	CHECK(m->from_entity_id && !strcmp(m->from_entity_id, SMSR_OID), "%s: From EntityId", what);
	CHECK(!strncmp(m->message_id, "//" SMSR_OID "/urn:uuid:", strlen("//" SMSR_OID "/urn:uuid:")) &&
	      strstr(m->message_id, "MessageDate="), "%s: MessageID %s", what, m->message_id);
	CHECK_VALID_ELEM(m->body, what);
	st = s_find(m->body, "FunctionExecutionStatus");
	CHECK(st && !strcmp(s_text(ctx, s_find(st, "Status")), r->status == SMSR_EXEC_SUCCESS ? "EXECUTED_SUCCESS" :
	      r->status == SMSR_EXEC_FAILED ? "FAILED" : r->status == SMSR_EXEC_EXPIRED ? "EXPIRED" :
	      "EXECUTED_WITHWARNING"), "%s: Status", what);
	if (r->status != SMSR_EXEC_SUCCESS && r->code != SMSR_SC_NONE) {
		CHECK(!strcmp(s_text(ctx, s_find(st, "Subject")), smsr_sc_subject(r->code)) &&
		      !strcmp(s_text(ctx, s_find(st, "Reason")), smsr_sc_reason(r->code)), "%s: StatusCodeData", what);
	} else {
		CHECK(!s_find(st, "StatusCodeData"), "%s: no StatusCodeData", what);
	}
}

static void test_responses(void)
{
	static const char *const files[] = {
		[SMSR_ES1_REGISTER_EIS] = "es1_register_eis.xml",
		[SMSR_ES4_GET_EIS] = "es4_get_eis.xml",
		[SMSR_ES4_AUDIT_EIS] = "es4_audit_eis.xml",
		[SMSR_ES4_UPDATE_POLICY_RULES] = "es4_update_policy_rules.xml",
		[SMSR_ES4_UPDATE_SUBSCRIPTION_ADDRESS] = "es4_update_subscription_address.xml",
		[SMSR_ES4_ENABLE_PROFILE] = "es4_enable_profile.xml",
		[SMSR_ES4_DISABLE_PROFILE] = "es4_disable_profile.xml",
		[SMSR_ES4_DELETE_PROFILE] = "es4_delete_profile.xml",
		[SMSR_ES4_PREPARE_SMSR_CHANGE] = "es4_prepare_smsr_change.xml",
		[SMSR_ES4_SMSR_CHANGE] = "es4_smsr_change.xml",
	};
	static const uint8_t rapdu[] = { 0x69, 0xe1 };
	void *ctx = talloc_new(NULL);
	struct smsr_eis *eis = s_load_eis(ctx);
	unsigned f, v;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		const struct smsr_es_func_desc *d = smsr_es_func_desc(f);
		struct smsr_soap_msg *m;
		struct smsr_es_req *req = s_decode_file(ctx, files[f], &m);

		if (!req)
			continue;
		for (v = 0; v < 4; v++) {
			struct smsr_es_result r = {
				.status = SMSR_EXEC_SUCCESS,
				.processing_start = "2026-01-10T10:00:01Z",
				.processing_end = "2026-01-10T10:00:02.5+01:00",
			};
			char what[128];
			uint8_t *out;
			size_t len;
			struct smsr_soap_msg *cb;
			int rc;

			if (v == 1) {
				r.status = SMSR_EXEC_FAILED;
				r.code = f == SMSR_ES4_ENABLE_PROFILE ? SMSR_SC_POL1_REFUSED : SMSR_SC_EID_UNKNOWN;
				r.subject_id = EID_HEX;
				r.message = "no such eUICC <&>";
				r.euicc_data = rapdu;
				r.euicc_len = sizeof(rapdu);
			} else if (v == 2) {
				r.status = SMSR_EXEC_EXPIRED;
				r.code = SMSR_SC_EXPIRED;
				r.acceptable_validity = 7200;
			} else if (v == 3) {
				r.status = SMSR_EXEC_WITH_WARNING;
				r.code = SMSR_SC_BUSY;
				r.processing_start = r.processing_end = NULL;
			} else if (eis) {
				r.eis = eis;
				r.eis_opts.view = SMSR_EIS_VIEW_MNO;
				r.eis_opts.viewer_id = MNO1;
			}
			snprintf(what, sizeof(what), "%s response v%u", d->name, v);
			rc = smsr_es_build_response(ctx, &s_self, m, f, &r, &out, &len);
			CHECK(rc == 0, "%s: rc %d", what, rc);
			if (!rc)
				s_check_response(ctx, out, len, d, m->message_id, &r, what);
			if (d->mep != SMSR_ES_ASYNC)
				continue;
			snprintf(what, sizeof(what), "%s callback v%u", d->name, v);
			rc = smsr_es_build_callback(ctx, &s_self, req, "https://unused.example", &r, &out, &len, NULL);
			CHECK(rc == 0, "%s: rc %d", what, rc);
			if (rc)
				continue;
			s_check_response(ctx, out, len, d, req->message_id, &r, what);
			cb = s_reparse(ctx, out, len, what);
			CHECK(cb && cb->to && !strcmp(cb->to, "https://mno1.example.com/es4-callback"), "%s: To", what);
			CHECK(cb && cb->transaction_id && !strcmp(cb->transaction_id, req->transaction_id),
			      "%s: TransactionId propagated", what);
		}
		if (f == SMSR_ES4_GET_EIS) {
			/* an invalid dateTime is refused rather than producing an invalid document */
			struct smsr_es_result r = { .status = SMSR_EXEC_SUCCESS, .processing_start = "yesterday" };
			uint8_t *out;
			size_t len;
			CHECK_RC(smsr_es_build_response(ctx, &s_self, m, f, &r, &out, &len), -EINVAL);
		}
	}
	talloc_free(ctx);
}

/*
 * 3c. ES2 (MNO -> SM-DP): requests decode only where ES2 is served, validate, and the responses, callbacks and
 *     notifications smdpd sends validate
 */

static void test_es2(void)
{
	static const struct {
		const char *file;
		enum smsr_es_func f;
	} t[] = {
		{"es2_download_profile.xml", SMSR_ES2_DOWNLOAD_PROFILE},
		{"es2_delete_profile.xml", SMSR_ES2_DELETE_PROFILE},
		{"es2_get_eis.xml", SMSR_ES2_GET_EIS},
	};
	static const struct smsr_es_decode_opts es2 = {.interfaces = SMSR_ES_IF_ES2};
	void *ctx = talloc_new(NULL);
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct smsr_es_func_desc *d = smsr_es_func_desc(t[i].f);
		struct smsr_es_result res = {.status = SMSR_EXEC_SUCCESS, .iccid = "8949000000000000027"};
		struct smsr_soap_msg *m;
		struct smsr_es_error err;
		struct smsr_es_req *r;
		uint8_t *out;
		size_t len;
		char *x = s_read(ctx, t[i].file, &len), what[128];
		int rc;

		rc = smsr_es_receive(ctx, x, len, NULL, &s_opts, &m, &r, &err);
		CHECK(rc == -SMSR_SOAP_E_ACTION_UNKNOWN, "%s on an ES4 endpoint: rc %d", t[i].file, rc);
		rc = smsr_es_receive(ctx, x, len, NULL, &es2, &m, &r, &err);
		CHECK(rc == 0, "%s: rc %d (%s)", t[i].file, rc, err.soap.text);
		if (rc)
			continue;
		CHECK_VALID_DOC(m->doc, t[i].file);
		CHECK(r->func == t[i].f && r->smsr_id && !strcmp(r->smsr_id, "1.3.6.1.4.1.99900"), "%s: Smsr-id",
		      t[i].file);
		if (t[i].f == SMSR_ES2_DOWNLOAD_PROFILE)
			CHECK(r->enable_profile && r->profile_type && !strcmp(r->profile_type, "M2M-16K") &&
				      !r->iccid[0],
			      "DownloadProfile fields");
		if (t[i].f == SMSR_ES2_DELETE_PROFILE)
			CHECK(!strcmp(r->iccid, "8949000000000000027"), "DeleteProfile: Iccid before Smsr-id");
		snprintf(what, sizeof(what), "%s response", d->name);
		rc = smsr_es_build_response(ctx, &s_self, m, t[i].f, &res, &out, &len);
		CHECK(rc == 0, "%s: rc %d", what, rc);
		if (!rc)
			s_check_response(ctx, out, len, d, m->message_id, &res, what);
		if (d->mep == SMSR_ES_ASYNC) {
			snprintf(what, sizeof(what), "%s callback", d->name);
			rc = smsr_es_build_callback(ctx, &s_self, r, "https://unused.example", &res, &out, &len, NULL);
			CHECK(rc == 0, "%s: rc %d", what, rc);
			if (!rc) {
				s_check_response(ctx, out, len, d, r->message_id, &res, what);
				if (t[i].f == SMSR_ES2_DOWNLOAD_PROFILE)
					CHECK(strstr(talloc_strndup(ctx, (const char *)out, len),
						     "8949000000000000027</rps:Iccid>") != NULL,
					      "DownloadProfile callback carries the Iccid");
			}
		}
	}
	for (i = SMSR_ES2_HANDLE_PROFILE_ENABLED; i <= SMSR_ES2_HANDLE_PROFILE_DELETED; i++) {
		static const uint8_t eid[16] = {0x89, 0x00, 0x10, 0x12, 0x01, 0x23, 0x41, 0x23,
						0x40, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x24};
		struct smsr_es_notif n = {.func = i,
					  .eid = eid,
					  .iccid = "8949000000000000027",
					  .completion_timestamp = "2026-11-22T10:00:00Z"};
		struct smsr_soap_msg *m;
		uint8_t *out;
		size_t len;
		int rc = smsr_es_build_notification(ctx, &s_self, "https://mno1.example/es2", &n, &out, &len, NULL);

		CHECK(rc == 0, "%s: rc %d", smsr_es_func_desc(i)->name, rc);
		if (!rc && smsr_soap_parse(ctx, out, len, NULL, &m, NULL) == 0)
			CHECK_VALID_DOC(m->doc, smsr_es_func_desc(i)->name);
	}
	/* ES3 notifications (SM-SR -> SM-DP, with Mno-id) validate and decode on the SM-DP side */
	for (i = SMSR_ES3_HANDLE_PROFILE_ENABLED; i <= SMSR_ES3_HANDLE_PROFILE_DELETED; i++) {
		static const uint8_t eid[16] = {0x89, 0x00, 0x10, 0x12, 0x01, 0x23, 0x41, 0x23,
						0x40, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x24};
		struct smsr_es_notif n = {.func = i,
					  .eid = eid,
					  .iccid = "8949000000000000027",
					  .mno_id = MNO1,
					  .completion_timestamp = "2026-11-22T10:00:00Z"};
		struct smsr_es_notif_in in;
		struct smsr_soap_msg *m;
		char why[256];
		uint8_t *out;
		size_t len;
		int rc = smsr_es_build_notification(ctx, &s_self, "zmq:smdp1", &n, &out, &len, NULL);

		CHECK(rc == 0, "%s: rc %d", smsr_es_func_desc(i)->name, rc);
		if (rc || smsr_soap_parse(ctx, out, len, NULL, &m, NULL) != 0)
			continue;
		CHECK_VALID_DOC(m->doc, smsr_es_func_desc(i)->name);
		rc = smsr_es_notification_decode(ctx, m, SMSR_ES_IF_ES3, &in, why, sizeof(why));
		CHECK(rc == 0 && in.func == i && !memcmp(in.eid, eid, 16) && !strcmp(in.iccid, "8949000000000000027") &&
			      in.mno_id && !strcmp(in.mno_id, MNO1),
		      "%s decoded: %s", smsr_es_func_desc(i)->name, rc ? why : "");
		CHECK(smsr_es_notification_decode(ctx, m, SMSR_ES_IF_ES2, &in, why, sizeof(why)) == -EBADMSG,
		      "not an ES2 notification");
	}
	talloc_free(ctx);
}

/*
 * 3b. ES3 (SM-DP -> SM-SR): every request of an SM-DP decodes (only where ES3 is served), validates, and every
 *     response or callback we would send validates
 */

static void test_es3(void)
{
	static const struct {
		const char *file;
		enum smsr_es_func f;
	} t[] = {
		{"es3_get_eis.xml", SMSR_ES3_GET_EIS},
		{"es3_audit_eis.xml", SMSR_ES3_AUDIT_EIS},
		{"es3_create_isdp.xml", SMSR_ES3_CREATE_ISDP},
		{"es3_send_data.xml", SMSR_ES3_SEND_DATA},
		{"es3_profile_download_completed.xml", SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED},
		{"es3_update_policy_rules.xml", SMSR_ES3_UPDATE_POLICY_RULES},
		{"es3_update_subscription_address.xml", SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS},
		{"es3_enable_profile.xml", SMSR_ES3_ENABLE_PROFILE},
		{"es3_disable_profile.xml", SMSR_ES3_DISABLE_PROFILE},
		{"es3_delete_isdp.xml", SMSR_ES3_DELETE_ISDP},
	};
	static const struct smsr_es_decode_opts es3 = {.interfaces = SMSR_ES_IF_ES3};
	static const uint8_t isdp[16] = {0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 0x12, 0};
	static const uint8_t rsp[] = {0xAB, 0x04, 0x80, 0x01, 0x01, 0x23, 0x02, 0x90, 0x00};
	void *ctx = talloc_new(NULL);
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct smsr_es_func_desc *d = smsr_es_func_desc(t[i].f);
		struct smsr_es_result res = {.status = SMSR_EXEC_SUCCESS,
					     .euicc_data = rsp,
					     .euicc_len = sizeof(rsp),
					     .isdp_aid = isdp,
					     .isdp_aid_len = sizeof(isdp)};
		struct smsr_soap_msg *m;
		struct smsr_es_error err;
		struct smsr_es_req *r;
		uint8_t *out;
		size_t len;
		char *x = s_read(ctx, t[i].file, &len), what[128];
		int rc;

		/* an ES1/ES4 endpoint does not take ES3 */
		rc = smsr_es_receive(ctx, x, len, NULL, &s_opts, &m, &r, &err);
		CHECK(rc == -SMSR_SOAP_E_ACTION_UNKNOWN, "%s on an ES4 endpoint: rc %d", t[i].file, rc);
		rc = smsr_es_receive(ctx, x, len, NULL, &es3, &m, &r, &err);
		CHECK(rc == 0, "%s: rc %d (%s)", t[i].file, rc, err.soap.text);
		if (rc)
			continue;
		CHECK_VALID_DOC(m->doc, t[i].file);
		CHECK(r->func == t[i].f && r->has_eid && r->has_validity_period && r->validity_period == 3600 &&
			      !strcmp(r->from_entity_id, "1.3.6.1.4.1.99910"),
		      "%s: func, Eid, ValidityPeriod, From", t[i].file);
		switch (t[i].f) {
		case SMSR_ES3_GET_EIS:
			CHECK(!r->iccid[0], "GetEIS: no Iccid");
			break;
		case SMSR_ES3_AUDIT_EIS:
			CHECK(r->n_iccids == 1 && !strcmp(r->iccids[0], "8949000000000000027"), "AuditEIS: Iccid*");
			break;
		case SMSR_ES3_CREATE_ISDP:
			CHECK(!strcmp(r->iccid, "8949000000000000027") && r->mno_id && !strcmp(r->mno_id, MNO1) &&
				      r->required_memory == 65536 && r->has_more_to_do && r->more_to_do,
			      "CreateISDP fields");
			break;
		case SMSR_ES3_SEND_DATA:
			CHECK(r->sd_aid.len == 16 && !memcmp(r->sd_aid.b, isdp, 16) && r->data_len == 11 &&
				      r->data[0] == 0xAA && r->data[10] == 0x12 && r->has_more_to_do && !r->more_to_do,
			      "SendData fields");
			break;
		case SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED:
			CHECK(r->profile_type && !strcmp(r->profile_type, "M2M-16K") && r->has_subscription_address &&
				      !strcmp(r->imsi, "262011234567890") && !strcmp(r->msisdn, "491701234567") &&
				      r->has_pol2 && r->n_pol2 == 1 && r->pol2[0].action == SMSR_POL2_DISABLE,
			      "ProfileDownloadCompleted fields (action spelled 'Downloaded' as in the WSDL)");
			break;
		case SMSR_ES3_UPDATE_POLICY_RULES:
			CHECK(r->n_pol2 == 1 && r->pol2[0].qualification == SMSR_POL2_NOT_ALLOWED, "UpdatePolicyRules");
			break;
		case SMSR_ES3_UPDATE_SUBSCRIPTION_ADDRESS:
			CHECK(!strcmp(r->imsi, "262011234567891") && !strcmp(r->msisdn, "491701234568"), "address");
			break;
		default:
			CHECK(!strcmp(r->iccid, "8949000000000000027"), "%s: Iccid", t[i].file);
			break;
		}
		snprintf(what, sizeof(what), "%s response", d->name);
		rc = smsr_es_build_response(ctx, &s_self, m, t[i].f, &res, &out, &len);
		CHECK(rc == 0, "%s: rc %d", what, rc);
		if (!rc)
			s_check_response(ctx, out, len, d, m->message_id, &res, what);
		if (d->mep == SMSR_ES_ASYNC) {
			snprintf(what, sizeof(what), "%s callback", d->name);
			rc = smsr_es_build_callback(ctx, &s_self, r, "https://unused.example", &res, &out, &len, NULL);
			CHECK(rc == 0, "%s: rc %d", what, rc);
			if (!rc)
				s_check_response(ctx, out, len, d, r->message_id, &res, what);
		}
		/* the SM-DP side: the same request re-encoded decodes to the same fields, and the result decodes */
		{
			struct smsr_es_req *r2;
			struct smsr_soap_msg *m2;
			struct smsr_es_result_in in;
			char why[256];

			rc = smsr_es_build_request(ctx, &s_self, "https://smsr.example", "zmq:smdp1", r, &out, &len,
						   NULL);
			CHECK(rc == 0, "%s: request re-encoded: rc %d", d->name, rc);
			rc = rc ? rc : smsr_es_receive(ctx, out, len, NULL, &es3, &m2, &r2, &err);
			CHECK(rc == 0, "%s: re-encoded request decodes: rc %d (%s)", d->name, rc,
			      rc ? err.soap.text : "");
			if (!rc) {
				CHECK_VALID_DOC(m2->doc, "re-encoded request");
				CHECK(r2->func == r->func && !memcmp(r2->eid, r->eid, 16) &&
					      !strcmp(r2->iccid, r->iccid) && r2->data_len == r->data_len &&
					      r2->required_memory == r->required_memory && r2->n_pol2 == r->n_pol2 &&
					      !strcmp(r2->imsi, r->imsi) &&
					      !strcmp(r2->function_call_id, r->function_call_id) && m2->reply_to &&
					      !strcmp(m2->reply_to, "zmq:smdp1"),
				      "%s: round trip", d->name);
			}
			rc = smsr_es_build_response(ctx, &s_self, m, t[i].f, &res, &out, &len);
			rc = rc ? rc : smsr_soap_parse(ctx, out, len, NULL, &m2, NULL);
			rc = rc ? rc : smsr_es_result_decode(ctx, m2, t[i].f, &in, why, sizeof(why));
			CHECK(rc == 0 && in.status == SMSR_EXEC_SUCCESS, "%s: result decodes: %s", d->name,
			      rc ? why : "");
			if (!rc && (t[i].f == SMSR_ES3_CREATE_ISDP || t[i].f == SMSR_ES3_SEND_DATA))
				CHECK(in.euicc_len == sizeof(rsp) && !memcmp(in.euicc_data, rsp, sizeof(rsp)) &&
					      (t[i].f != SMSR_ES3_CREATE_ISDP ||
					       (in.isdp_aid_len == 16 && !memcmp(in.isdp_aid, isdp, 16))),
				      "%s: EuiccResponseData / Isd-p-aid decoded", d->name);
		}
		if (t[i].f == SMSR_ES3_CREATE_ISDP) {
			res.isdp_aid = NULL;
			CHECK_RC(smsr_es_build_response(ctx, &s_self, m, t[i].f, &res, &out, &len), -EINVAL);
		}
	}
	/* the action spelled as njiwa sends it is taken too; a wrong body for the action is refused */
	CHECK(smsr_es_func_by_action("http://gsma.com/ES3/ProfileManagement/ES3-ProfileDownloadCompletedRequest",
				     SMSR_ES_IF_ES3) == smsr_es_func_desc(SMSR_ES3_PROFILE_DOWNLOAD_COMPLETED),
	      "ProfileDownloadCompleted action without the 'ed'");
	{
		size_t len;
		char *x = s_read(ctx, "es3_send_data.xml", &len), *at = x ? strstr(x, "<rps:Data>") : NULL;
		struct smsr_soap_msg *m;
		struct smsr_es_error err;
		struct smsr_es_req *r;

		if (at) {
			memcpy(at + strlen("<rps:Data>"), "XYZ", 3);
			CHECK(smsr_es_receive(ctx, x, len, NULL, &es3, &m, &r, &err) == -EBADMSG &&
				      err.desc == smsr_es_func_desc(SMSR_ES3_SEND_DATA),
			      "SendData with non-hex Data: FAILED");
		}
	}
	talloc_free(ctx);
}

/*
 * 4. Notifications to the MNO
 */

static void test_notifications(void)
{
	static const enum smsr_es_func fs[] = { SMSR_ES4_HANDLE_PROFILE_ENABLED, SMSR_ES4_HANDLE_PROFILE_DISABLED,
						SMSR_ES4_HANDLE_PROFILE_DELETED, SMSR_ES4_HANDLE_SMSR_CHANGE };
	void *ctx = talloc_new(NULL);
	struct smsr_eis *eis = s_load_eis(ctx);
	unsigned i;

	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		const struct smsr_es_func_desc *d = smsr_es_func_desc(fs[i]);
		struct smsr_es_notif n = {
			.func = fs[i],
			.eid = eis ? eis->eid : NULL,
			.iccid = "8933010000000000010",
			.completion_timestamp = "2026-01-10T10:05:00Z",
			.eis = eis,
			.eis_opts = { .view = SMSR_EIS_VIEW_MNO, .viewer_id = MNO1 },
		};
		struct smsr_soap_msg *m;
		char *mid = NULL;
		uint8_t *out;
		size_t len;
		int rc = smsr_es_build_notification(ctx, &s_self, "https://mno1.example.com/es4?EntityId=" MNO1, &n,
						    &out, &len, &mid);

		CHECK(rc == 0, "%s: rc %d", d->name, rc);
		if (rc)
			continue;
		m = s_reparse(ctx, out, len, d->name);
		if (!m)
			continue;
		CHECK(!strcmp(m->action, d->req_action) && !m->relates_to, "%s: action/RelatesTo", d->name);
		CHECK(mid && !strcmp(mid, m->message_id), "%s: MessageID returned", d->name);
		CHECK(m->to_entity_id && !strcmp(m->to_entity_id, MNO1), "%s: To EntityId", d->name);
		CHECK(!strcmp(m->body_name, d->req_elem), "%s: body %s", d->name, m->body_name);
		CHECK(s_find(m->body, "CompletionTimestamp") && !s_find(m->body, "completionTimestamp"),
		      "%s: CompletionTimestamp spelling", d->name);
		CHECK_VALID_ELEM(m->body, d->name);
		if (fs[i] == SMSR_ES4_HANDLE_SMSR_CHANGE)
			CHECK(s_count(m->body, "ProfileInfo") == 2 && !s_find(m->body, "Key"), "%s: MNO view", d->name);
	}
	{
		struct smsr_es_notif n = { .func = SMSR_ES4_GET_EIS, .completion_timestamp = "2026-01-10T10:05:00Z" };
		uint8_t *out;
		size_t len;
		CHECK_RC(smsr_es_build_notification(ctx, &s_self, "https://x", &n, &out, &len, NULL), -EINVAL);
	}
	talloc_free(ctx);
}

/*
 * 5. EIS: decoded fields, keys never in clear, FULL round trip, MNO / SM-DP views
 */

static char *s_full_request(void *ctx, const struct smsr_eis *e, size_t *len, char **eis_xml)
{
	struct smsr_eis_xml_opts o = { .view = SMSR_EIS_VIEW_FULL, .key_export = s_export };
	struct smsr_soap_bld b;
	char err[200];
	void *holder;
	xmlNode *root = smsr_soap_body_new(ctx, "ES1-RegisterEISRequest", &b, &holder);
	uint8_t *out = NULL;
	int rc;

	smsr_soap_add(&b, root, "FunctionCallIdentifier", "round-trip");
	rc = smsr_eis_xml_encode(&b, root, "Eis", e, &o, err, sizeof(err));
	CHECK(rc == 0, "FULL encode: %d %s", rc, err);
	if (rc)
		return NULL;
	CHECK_VALID_ELEM(root, "FULL ES1-RegisterEISRequest");
	*eis_xml = s_dump(ctx, s_find(root, "Eis"));
	rc = smsr_soap_build_request(ctx, &s_eum, "https://smsr.example.com/es1?EntityId=" SMSR_OID, ES1_ACTION, NULL,
				     NULL, root, &out, len, NULL);
	CHECK(rc == 0, "FULL envelope: %d", rc);
	talloc_free(holder);
	return (char *)out;
}

static struct smsr_eis *s_decode_buf(void *ctx, const char *buf, size_t len)
{
	struct smsr_soap_msg *m;
	struct smsr_es_req *r;
	struct smsr_es_error err;
	int rc = smsr_es_receive(ctx, buf, len, NULL, &s_opts, &m, &r, &err);

	CHECK(rc == 0, "decode: %d %s", rc, err.soap.text);
	return rc ? NULL : r->eis;
}

static void test_eis(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_soap_msg *m;
	struct smsr_es_req *r;
	struct smsr_eis *a, *b2, *c;
	char *x1, *x2, *x3, *x4, *buf, *full, *sig, *si;
	xmlChar *dump = NULL;
	size_t len;
	int dlen;

	s_import_calls = 0;
	r = s_decode_file(ctx, "es1_register_eis.xml", &m);
	if (!r || !r->eis)
		goto out;
	a = r->eis;
	CHECK(s_import_calls == 4, "import called %u times", s_import_calls);
	CHECK_HEX(a->eid, SMSR_EID_LEN, EID_HEX, "eid");
	CHECK(!strcmp(a->eum_id, "1.3.6.1.4.1.99920") && !strcmp(a->production_date, "2025-11-22T06:00:00Z") &&
	      !strcmp(a->platform_type, "M2M-OS & friends") && !strcmp(a->platform_version, "4.2.0"), "signed info");
	CHECK_HEX(a->isdp_loadfile_aid.b, a->isdp_loadfile_aid.len, "a0000005591010ffffffff8900000d00", "elf aid");
	CHECK(a->ecasd.role == SMSR_SD_ECASD && a->ecasd.n_keysets == 1 && a->ecasd.keysets[0].type == SMSR_KEYSET_CA &&
	      a->ecasd.keysets[0].n_certs == 1 && a->ecasd.keysets[0].certs[0].len == 39, "ecasd");
	CHECK(!a->cattp_support && !a->cattp_version && a->http_support && !strcmp(a->http_version, "1.1.0") &&
	      !strcmp(a->secure_packet_version, "13.0.0") && !strcmp(a->remote_provisioning_version, "3.1.0"),
	      "capabilities");
	CHECK(a->remaining_memory == 401408 && a->available_memory == 524288 &&
	      !strcmp(a->last_audit_date, "2026-01-08T12:30:00Z") && !strcmp(a->smsr_id, SMSR_OID), "memory");
	CHECK(a->n_profiles == 3, "profiles %u", a->n_profiles);
	if (a->n_profiles == 3) {
		const struct smsr_profile *p = a->profiles;
		CHECK(!strcmp(p[0].iccid, "8933010000000000010") && !strcmp(p[0].mno_id, MNO1) && p[0].fallback &&
		      !strcmp(p[0].imsi, "208011234567890") && !strcmp(p[0].msisdn, "33612345678") &&
		      p[0].state == SMSR_PROFILE_ENABLED && !strcmp(p[0].smdp_id, SMDP1) &&
		      !strcmp(p[0].profile_type, "3G_16K") && p[0].allocated_memory == 65536 && p[0].has_free_memory &&
		      p[0].free_memory == 1024 && p[0].n_pol2 == 1 && p[0].pol2[0].action == SMSR_POL2_DISABLE, "p0");
		CHECK(!strcmp(p[1].mno_id, MNO2) && !p[1].msisdn[0] && p[1].state == SMSR_PROFILE_DISABLED &&
		      !p[1].smdp_id && !p[1].profile_type && !p[1].has_free_memory && p[1].n_pol2 == 0, "p1");
		CHECK(!p[2].imsi[0] && !strcmp(p[2].msisdn, "491700000027") && p[2].n_pol2 == 2 &&
		      p[2].pol2[1].qualification == SMSR_POL2_AUTO_DELETE, "p2");
	}
	CHECK(a->isdr.role == SMSR_SD_ISDR && a->isdr.n_tars == 1 && a->isdr.n_keysets == 2 &&
	      a->isdr.keysets[0].type == SMSR_KEYSET_SCP80 && a->isdr.keysets[0].cntr == 5 &&
	      a->isdr.keysets[0].n_keys == 3 && a->isdr.keysets[1].version == 64 && a->isdr.keysets[1].n_keys == 1 &&
	      a->isdr.keysets[1].keys[0].kcv_len == 0, "isd-r");
	if (a->isdr.n_keysets == 2 && a->isdr.keysets[0].n_keys == 3) {
		const struct smsr_key *k = &a->isdr.keysets[0].keys[0];
		CHECK(k->index == 1 && k->kcv_len == 3 && k->n_comp == 1 && k->comp[0].type == 0x88 &&
		      k->comp[0].wrapped_len == 33 && k->comp[0].wrapped[1] == (0x00 ^ 0x5a), "key 1 wrapped");
	}
	CHECK(a->n_audit == 3 && a->audit[0].operation_type == 0x0200 && a->audit[0].status == SMSR_EXEC_SUCCESS &&
	      !strcmp(a->audit[0].requester_id, MNO1) && a->audit[1].status == SMSR_EXEC_FAILED &&
	      a->audit[2].status == -1 && a->audit[2].imei_len == 8 && !a->audit[2].requester_id, "audit");
	CHECK(a->n_props == 2 && !strcmp(a->props[0].key, "vendor.batch") && !strcmp(a->props[1].value, ""), "props");
	CHECK(a->signed_info_xml && !strncmp(a->signed_info_xml, "<rps:EumSignedInfo xmlns:rps=\"" SMSR_NS_RPS "\">",
					      strlen("<rps:EumSignedInfo xmlns:rps=\"" SMSR_NS_RPS "\">")),
	      "signed_info_xml %.60s", a->signed_info_xml);
	CHECK(a->signature_xml && !strncmp(a->signature_xml, "<rps:EumSignature", 17) &&
	      strstr(a->signature_xml, "xmlns:ds=\"" SMSR_NS_DSIG "\"") && !strstr(a->signature_xml, "wsa"),
	      "signature_xml %.60s", a->signature_xml);
	CHECK(a->signed_info_xml && strstr(a->signed_info_xml, "M2M-OS &amp; friends") &&
	      !strstr(a->signed_info_xml, "env:") && !strstr(a->signed_info_xml, "\r"), "canonical form");

	/* no clear key value is left in the parsed document */
	xmlDocDumpMemory(m->doc, &dump, &dlen);
	CHECK(dump && !strstr((char *)dump, "00112233445566778899AABBCCDDEEFF") &&
	      !strstr((char *)dump, "30405060708090A0B0C0D0E0F0001020"), "key values wiped from the request document");
	xmlFree(dump);

	/* FULL round trip: struct -> XML -> struct -> XML, byte-identical Eis */
	buf = s_full_request(ctx, a, &len, &x1);
	b2 = buf ? s_decode_buf(ctx, buf, len) : NULL;
	if (b2) {
		CHECK(!strcmp(a->signed_info_xml, b2->signed_info_xml), "signed_info_xml survives the round trip");
		CHECK(!strcmp(a->signature_xml, b2->signature_xml), "signature_xml survives the round trip");
		full = s_full_request(ctx, b2, &len, &x2);
		CHECK(full && !strcmp(x1, x2), "FULL round trip differs:\n%s\n---\n%s", x1, x2);
		CHECK(strstr(x1, "00112233445566778899AABBCCDDEEF1") && strstr(x1, "Certificate"),
		      "FULL view carries keys and certificates");
	}
	/* EumSignedInfo rebuilt from the fields (no stored text) gives the same fields back */
	si = a->signed_info_xml;
	a->signed_info_xml = NULL;
	buf = s_full_request(ctx, a, &len, &x3);
	c = buf ? s_decode_buf(ctx, buf, len) : NULL;
	if (c) {
		c->signed_info_xml = NULL;
		full = s_full_request(ctx, c, &len, &x4);
		CHECK(full && !strcmp(x3, x4), "round trip from fields differs:\n%s\n---\n%s", x3, x4);
	}
	a->signed_info_xml = si;

	/* missing EumSignature cannot be encoded */
	{
		struct smsr_eis_xml_opts o = { .view = SMSR_EIS_VIEW_MNO, .viewer_id = MNO1 };
		struct smsr_soap_bld bb;
		void *holder;
		char err[200];
		xmlNode *root = smsr_soap_body_new(ctx, "ES4-GetEISResponse", &bb, &holder);
		sig = a->signature_xml;
		a->signature_xml = NULL;
		CHECK_RC(smsr_eis_xml_encode(&bb, root, "Eis", a, &o, err, sizeof(err)), -EINVAL);
		a->signature_xml = sig;
		talloc_free(holder);
	}
out:
	talloc_free(ctx);
}

static xmlNode *s_view(void *ctx, const struct smsr_eis *e, const struct smsr_eis_xml_opts *o, void **holder)
{
	struct smsr_es_result r = { .status = SMSR_EXEC_SUCCESS, .eis = e, .eis_opts = *o };
	char err[200];
	xmlNode *body;
	int rc = smsr_es_response_body(ctx, SMSR_ES4_GET_EIS, &r, holder, &body, err, sizeof(err));

	CHECK(rc == 0, "view %d: rc %d %s", o->view, rc, err);
	return rc ? NULL : body;
}

static void test_views(void)
{
	void *ctx = talloc_new(NULL);
	struct smsr_eis *e = s_load_eis(ctx);
	struct smsr_eis_xml_opts o = { .view = SMSR_EIS_VIEW_MNO, .viewer_id = MNO1 };
	const char *only27[] = { "8949000000000000027" };
	void *holder;
	xmlNode *b;
	char *s;

	if (!e)
		goto out;
	/* MNO1: its two profiles, no keys or certificates, only its audit record */
	b = s_view(ctx, e, &o, &holder);
	if (b) {
		s = s_dump(ctx, b);
		CHECK_VALID_ELEM(b, "MNO view");
		CHECK(s_count(b, "ProfileInfo") == 2 && strstr(s, "8933010000000000010") &&
		      strstr(s, "8949000000000000027") && !strstr(s, "8944000000000000018"), "MNO1 profiles");
		CHECK(!s_find(b, "Key") && !s_find(b, "KeyComponents") && !s_find(b, "Certificate") &&
		      !strstr(s, "00112233") && !strstr(s, "7F2181"), "MNO view: no keys, no certificates");
		CHECK(s_count(b, "Keyset") == 3 && s_count(b, "Cntr") == 3 && s_count(b, "Version") == 3,
		      "MNO view: keysets reduced to Version/Type/Cntr");
		CHECK(s_count(b, "Record") == 1 && !strstr(s, MNO2), "MNO view: no records of other MNOs");
		CHECK(!strstr(s, "3A45990057918503"), "MNO view: unattributed records hidden");
		talloc_free(holder);
	}
	/* MNO2 sees one profile and its own failed request */
	o.viewer_id = MNO2;
	b = s_view(ctx, e, &o, &holder);
	if (b) {
		s = s_dump(ctx, b);
		CHECK_VALID_ELEM(b, "MNO2 view");
		CHECK(s_count(b, "ProfileInfo") == 1 && strstr(s, "8944000000000000018") && s_count(b, "Record") == 1 &&
		      !strstr(s, MNO1 "<"), "MNO2 view");
		talloc_free(holder);
	}
	/* an unknown MNO sees no profile, and the document is still valid (ProfileInfo 0..n) */
	o.viewer_id = "1.2.3";
	b = s_view(ctx, e, &o, &holder);
	if (b) {
		CHECK_VALID_ELEM(b, "stranger view");
		CHECK(!s_find(b, "ProfileInfo") && !s_find(b, "AuditTrail"), "stranger view");
		talloc_free(holder);
	}
	/* AuditEIS ICCID filter */
	o.viewer_id = MNO1;
	o.iccids = only27;
	o.n_iccids = 1;
	b = s_view(ctx, e, &o, &holder);
	if (b) {
		CHECK(s_count(b, "ProfileInfo") == 1 && strstr(s_dump(ctx, b), "8949000000000000027"), "iccid filter");
		talloc_free(holder);
	}
	/* SM-DP views: by Smdp-id, or by the MNO it acts for */
	memset(&o, 0, sizeof(o));
	o.view = SMSR_EIS_VIEW_SMDP;
	o.viewer_id = SMDP1;
	b = s_view(ctx, e, &o, &holder);
	if (b) {
		CHECK_VALID_ELEM(b, "SM-DP view");
		/* no Key, but the ECASD's Certificate (CERT.ECASD.ECKA, public, needed for ES8) */
		CHECK(s_count(b, "ProfileInfo") == 2 && !s_find(b, "Key") && s_find(b, "Certificate"), "SM-DP view");
		talloc_free(holder);
	}
	o.mno_id = MNO2;
	b = s_view(ctx, e, &o, &holder);
	if (b) {
		CHECK(s_count(b, "ProfileInfo") == 1 && strstr(s_dump(ctx, b), "8944000000000000018"),
		      "SM-DP view for MNO2");
		talloc_free(holder);
	}
	/* FULL view without an export callback is refused (keys present) */
	memset(&o, 0, sizeof(o));
	{
		struct smsr_es_result r = { .status = SMSR_EXEC_SUCCESS, .eis = e, .eis_opts = o };
		xmlNode *body;
		CHECK_RC(smsr_es_response_body(ctx, SMSR_ES4_GET_EIS, &r, &holder, &body, NULL, 0), -EINVAL);
	}
	/* a view without a viewer is refused */
	o.view = SMSR_EIS_VIEW_MNO;
	{
		struct smsr_es_result r = { .status = SMSR_EXEC_SUCCESS, .eis = e, .eis_opts = o };
		xmlNode *body;
		CHECK_RC(smsr_es_response_body(ctx, SMSR_ES4_GET_EIS, &r, &holder, &body, NULL, 0), -EINVAL);
	}
out:
	talloc_free(ctx);
}

/*
 * 6. Hostile and malformed input: the right error, the right reply, never a crash
 */

struct bad_case {
	const char *name;
	int rc;
	int http;
	const char *code;	/* fault env:Code/env:Value, NULL for a FAILED response */
	const char *subcode;	/* first env:Subcode/env:Value, or NULL */
	enum smsr_sc sc;	/* FAILED: StatusCodeData */
	const char *subject_id;	/* FAILED: SubjectIdentifier, or NULL */
};

static void s_check_bad(void *ctx, const char *buf, size_t len, const struct smsr_soap_limits *lim,
			const struct smsr_es_decode_opts *opts, const struct bad_case *t)
{
	struct smsr_soap_msg *msg, *rep;
	struct smsr_es_req *req;
	struct smsr_es_error err;
	uint8_t *out;
	size_t olen;
	int rc, http = 0;

	rc = smsr_es_receive(ctx, buf, len, lim, opts ? opts : &s_opts, &msg, &req, &err);
	CHECK(rc == t->rc, "%s: rc %d (%s) want %d (%s): %s", t->name, rc, smsr_soap_strerror(rc), t->rc,
	      smsr_soap_strerror(t->rc), err.soap.text);
	CHECK(rc == 0 || err.soap.text[0], "%s: no error text", t->name);
	if (rc == 0)
		return;
	rc = smsr_es_build_error_reply(ctx, &s_self, msg, rc, &err, &out, &olen, &http);
	CHECK(rc == 0, "%s: reply rc %d", t->name, rc);
	CHECK(http == t->http, "%s: http %d want %d", t->name, http, t->http);
	if (rc)
		return;
	rep = s_reparse(ctx, out, olen, t->name);
	if (!rep)
		return;
	CHECK(msg ? (rep->relates_to && !strcmp(rep->relates_to, msg->message_id)) : !rep->relates_to,
	      "%s: RelatesTo", t->name);
	CHECK_VALID_ELEM(rep->body, t->name);
	if (t->code) {
		xmlNode *code = s_find(rep->body, "Code"), *sub = s_find(code, "Subcode");
		CHECK(!strcmp(rep->body_name, "Fault") && !strcmp(rep->action, SMSR_WSA_FAULT_ACTION), "%s: fault",
		      t->name);
		CHECK(code && !strcmp(s_text(ctx, s_find(code, "Value")), t->code), "%s: code %s", t->name,
		      code ? s_text(ctx, s_find(code, "Value")) : "-");
		if (t->subcode)
			CHECK(sub && !strcmp(s_text(ctx, s_find(sub, "Value")), t->subcode), "%s: subcode %s",
			      t->name, sub ? s_text(ctx, s_find(sub, "Value")) : "-");
		CHECK(s_text(ctx, s_find(rep->body, "Text"))[0], "%s: reason text", t->name);
	} else {
		xmlNode *st = s_find(rep->body, "FunctionExecutionStatus");
		CHECK(strcmp(rep->body_name, "Fault") && !strcmp(s_text(ctx, s_find(st, "Status")), "FAILED"),
		      "%s: FAILED response", t->name);
		CHECK(!strcmp(s_text(ctx, s_find(st, "Subject")), smsr_sc_subject(t->sc)) &&
		      !strcmp(s_text(ctx, s_find(st, "Reason")), smsr_sc_reason(t->sc)), "%s: %s/%s want %s/%s",
		      t->name, s_text(ctx, s_find(st, "Subject")), s_text(ctx, s_find(st, "Reason")),
		      smsr_sc_subject(t->sc), smsr_sc_reason(t->sc));
		if (t->subject_id)
			CHECK(!strcmp(s_text(ctx, s_find(st, "SubjectIdentifier")), t->subject_id),
			      "%s: SubjectIdentifier %s", t->name, s_text(ctx, s_find(st, "SubjectIdentifier")));
	}
}

#define SND "env:Sender"
/* bad_case tails: a fault (rc, http, code, subcode), a FAILED response (StatusCodeData, SubjectIdentifier), success */
#define FAULT(rc, http, code, sub) (rc), (http), (code), (sub), SMSR_SC_NONE, NULL
#define STATUS(sc, subj) -EBADMSG, 200, NULL, NULL, (sc), (subj)
#define ACCEPTED 0, 0, NULL, NULL, SMSR_SC_NONE, NULL
#define DTD FAULT(-SMSR_SOAP_E_DTD, 400, SND, "m2m:DtdNotAllowed")
#define MAL FAULT(-SMSR_SOAP_E_MALFORMED, 400, SND, "m2m:MalformedXml")
#define LIM FAULT(-SMSR_SOAP_E_LIMIT, 400, SND, "m2m:LimitExceeded")

static void test_bad_files(void)
{
	static const struct bad_case t[] = {
		{ "bad_xxe.xml", DTD },
		{ "bad_billion_laughs.xml", DTD },
		{ "bad_doctype.xml", DTD },
		{ "bad_wrong_namespace.xml", FAULT(-SMSR_SOAP_E_NAMESPACE, 400, SND, "m2m:WrongNamespace") },
		{ "bad_soap11.xml", FAULT(-SMSR_SOAP_E_VERSION, 500, "env:VersionMismatch", NULL) },
		{ "bad_no_action.xml",
		  FAULT(-SMSR_SOAP_E_WSA_MISSING, 400, SND, "wsa:MessageAddressingHeaderRequired") },
		{ "bad_must_understand.xml", FAULT(-SMSR_SOAP_E_MUST_UNDERSTAND, 500, "env:MustUnderstand", NULL) },
		{ "bad_unknown_function.xml", FAULT(-SMSR_SOAP_E_ACTION_UNKNOWN, 400, SND, "wsa:ActionNotSupported") },
		{ "bad_es2_function.xml", FAULT(-SMSR_SOAP_E_ACTION_UNKNOWN, 400, SND, "wsa:ActionNotSupported") },
		{ "bad_action_mismatch.xml",
		  FAULT(-SMSR_SOAP_E_ACTION_MISMATCH, 400, SND, "wsa:InvalidAddressingHeader") },
		{ "bad_truncated.xml", MAL },
		{ "bad_two_bodies.xml", FAULT(-SMSR_SOAP_E_ENVELOPE, 400, SND, "m2m:InvalidEnvelope") },
		{ "bad_missing_iccid.xml", STATUS(SMSR_SC_MISSING_ELEMENT, "Iccid") },
		{ "bad_eid.xml", STATUS(SMSR_SC_EID_INVALID, "Eid") },
	};
	void *ctx = talloc_new(NULL);
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len;
		char *x = s_read(ctx, t[i].name, &len);
		s_check_bad(ctx, x, len, NULL, NULL, &t[i]);
	}
	talloc_free(ctx);
}

/* replace the first occurrence of `from` in s (talloc'd result) */
static char *s_subst(void *ctx, const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	if (!p) {
		fprintf(stderr, "fixture lacks '%s'\n", from);
		exit(2);
	}
	return talloc_asprintf(ctx, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

static void test_bad_generated(void)
{
	void *ctx = talloc_new(NULL);
	size_t glen, elen, rlen;
	const char *get = s_read(ctx, "es4_get_eis.xml", &glen);
	const char *ena = s_read(ctx, "es4_enable_profile.xml", &elen);
	const char *reg = s_read(ctx, "es1_register_eis.xml", &rlen);
	struct smsr_soap_limits small = { .max_body = 1000 }, few = { .max_elements = 10 };
	struct smsr_soap_limits shallow = { .max_depth = 3 };
	char *x, *big;
	int eio = -EIO;
	struct smsr_es_decode_opts fail_keys = { .eis_in = { .key_import = s_import, .key_data = &eio } };
	struct smsr_es_decode_opts no_keys = { .eis_in = { .key_import = NULL } };
	struct smsr_es_decode_opts es4_only = { .interfaces = SMSR_ES_IF_ES4, .eis_in = { .key_import = s_import } };
	uint8_t garbage[512];
	unsigned i;

#define BAD(buf, len, lim, opts, ...) do { \
		const struct bad_case _c = { __VA_ARGS__ }; \
		s_check_bad(ctx, (buf), (len), (lim), (opts), &_c); \
	} while (0)

	BAD("", 0, NULL, NULL, "empty", MAL);
	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 97 + 13);
	BAD((char *)garbage, sizeof(garbage), NULL, NULL, "garbage", MAL);
	/* the DOCTYPE refusal does not depend on the encoding: UTF-16 input is parsed, and its DTD refused */
	{
		size_t dlen, k;
		const char *doc = s_read(ctx, "bad_xxe.xml", &dlen);
		const char *u8 = s_subst(ctx, get, "encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
		char *u16;
		doc = s_subst(ctx, doc, "encoding=\"UTF-8\"", "encoding=\"UTF-16\"");
		u16 = talloc_array(ctx, char, 2 * strlen(doc) + 2);
		u16[0] = '\xff';
		u16[1] = '\xfe';
		for (k = 0; doc[k]; k++) {
			u16[2 + 2 * k] = doc[k];
			u16[3 + 2 * k] = '\0';
		}
		BAD(u16, 2 + 2 * k, NULL, NULL, "UTF-16 XXE", DTD);
		u16 = talloc_realloc(ctx, u16, char, 2 * strlen(u8) + 2);
		for (k = 0; u8[k]; k++) {
			u16[2 + 2 * k] = u8[k];
			u16[3 + 2 * k] = '\0';
		}
		BAD(u16, 2 + 2 * k, NULL, NULL, "UTF-16 request", ACCEPTED);
	}
	BAD(get, glen, &small, NULL, "oversize body", FAULT(-SMSR_SOAP_E_TOO_BIG, 400, SND, "m2m:MessageTooLarge"));
	BAD(get, glen, &few, NULL, "too many elements", LIM);
	BAD(get, glen, &shallow, NULL, "too deep", LIM);
	big = talloc_array(ctx, char, 70001);
	memset(big, 'x', 70000);
	big[70000] = '\0';
	x = s_subst(ctx, get, "fci-get-1", big);
	BAD(x, strlen(x), NULL, NULL, "oversize text", LIM);
	x = s_subst(ctx, get, "<rps:Eid>", talloc_asprintf(ctx, "<rps:Eid a=\"%s\">", big));
	BAD(x, strlen(x), NULL, NULL, "oversize attribute", LIM);
	x = s_subst(ctx, get, "<rps:Eid>", "<rps:Eid><!--");
	x = s_subst(ctx, x, "</rps:Eid>", talloc_asprintf(ctx, "%s--></rps:Eid>", big));
	BAD(x, strlen(x), NULL, NULL, "oversize comment", LIM);
	{
		char *deep = talloc_strdup(ctx, "");
		for (i = 0; i < 300; i++)
			deep = talloc_asprintf_append(deep, "<d%u>", i);
		for (i = 300; i-- > 0;)
			deep = talloc_asprintf_append(deep, "</d%u>", i);
		x = s_subst(ctx, get, "fci-get-1", deep);
		BAD(x, strlen(x), NULL, NULL, "300 levels", LIM);
	}
	x = s_subst(ctx, get, "<rps:Eid>", "<x:Eid>");
	BAD(x, strlen(x), NULL, NULL, "undeclared prefix", MAL);
	x = s_subst(ctx, get, "fci-get-1", "&undefined;");
	BAD(x, strlen(x), NULL, NULL, "undefined entity", MAL);
	x = s_subst(ctx, get, "<env:Body>", "<env:Body><?php evil?>");
	BAD(x, strlen(x), NULL, NULL, "processing instruction",
	    FAULT(-SMSR_SOAP_E_ENVELOPE, 400, SND, "m2m:InvalidEnvelope"));
	x = s_subst(ctx, get, "<env:Body>", "<env:Body>text");
	BAD(x, strlen(x), NULL, NULL, "text in Body", FAULT(-SMSR_SOAP_E_ENVELOPE, 400, SND, "m2m:InvalidEnvelope"));
	x = s_subst(ctx, get, "<env:Body>", "<env:Body></env:Body><env:Body>");
	BAD(x, strlen(x), NULL, NULL, "two Bodies", FAULT(-SMSR_SOAP_E_ENVELOPE, 400, SND, "m2m:InvalidEnvelope"));
	x = s_subst(ctx, get, "  </env:Header>", "<wsa:MessageID>urn:uuid:1</wsa:MessageID></env:Header>");
	BAD(x, strlen(x), NULL, NULL, "duplicate MessageID",
	    FAULT(-SMSR_SOAP_E_WSA_INVALID, 400, SND, "wsa:InvalidAddressingHeader"));
	x = s_subst(ctx, get, "<wsa:From><wsa:Address>", "<wsa:From><wsa:ReferenceParameters/><wsa:Address>");
	BAD(x, strlen(x), NULL, NULL, "From without leading Address",
	    FAULT(-SMSR_SOAP_E_WSA_INVALID, 400, SND, "wsa:InvalidAddressingHeader"));
	x = s_subst(ctx, get, "<wsa:From>", "<wsa:FaultTo>");
	x = s_subst(ctx, x, "</wsa:From>", "</wsa:FaultTo>");
	BAD(x, strlen(x), NULL, NULL, "no From",
	    FAULT(-SMSR_SOAP_E_WSA_MISSING, 400, SND, "wsa:MessageAddressingHeaderRequired"));
	x = s_subst(ctx, get, "EntityId=1.3.6.1.4.1.99901", "EntityId=mno-one");
	BAD(x, strlen(x), NULL, NULL, "EntityId not an OID",
	    FAULT(-SMSR_SOAP_E_WSA_INVALID, 400, SND, "wsa:InvalidAddressingHeader"));
	x = s_subst(ctx, get, "<rps:ES4-GetEISRequest>", "<ES4-GetEISRequest xmlns=\"\">");
	x = s_subst(ctx, x, "</rps:ES4-GetEISRequest>", "</ES4-GetEISRequest>");
	BAD(x, strlen(x), NULL, NULL, "unqualified body",
	    FAULT(-SMSR_SOAP_E_NAMESPACE, 400, SND, "m2m:WrongNamespace"));
	x = s_subst(ctx, get, "<rps:FunctionCallIdentifier>fci-get-1</rps:FunctionCallIdentifier>", "");
	BAD(x, strlen(x), NULL, NULL, "missing FunctionCallIdentifier",
	    STATUS(SMSR_SC_MISSING_ELEMENT, "FunctionCallIdentifier"));
	x = s_subst(ctx, get, "<rps:Eid>", "<rps:Eid xmlns:rps=\"urn:other\">");
	BAD(x, strlen(x), NULL, NULL, "Eid in another namespace", STATUS(SMSR_SC_EID_INVALID, NULL));
	x = s_subst(ctx, get, "<rps:ValidityPeriod>3600", "<rps:ValidityPeriod>0");
	BAD(x, strlen(x), NULL, NULL, "ValidityPeriod 0", STATUS(SMSR_SC_INVALID, "ValidityPeriod"));
	x = s_subst(ctx, get, "</rps:Eid>", "</rps:Eid><rps:Iccid>8933010000000000010</rps:Iccid>");
	BAD(x, strlen(x), NULL, NULL, "unexpected element", STATUS(SMSR_SC_INVALID, "Iccid"));
	x = s_subst(ctx, ena, "<rps:Iccid>8949000000000000027", "<rps:Iccid>1234567");
	BAD(x, strlen(x), NULL, NULL, "bad ICCID", STATUS(SMSR_SC_ICCID_INVALID, "Iccid"));
	x = s_subst(ctx, ena, "ES4-EnableProfile<", "ES4-EnableProfileRequest<");
	BAD(x, strlen(x), NULL, NULL, "tolerant Request suffix", ACCEPTED);
	x = s_subst(ctx, ena, "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile",
		    "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile");
	BAD(x, strlen(x), NULL, NULL, "tolerant path", ACCEPTED);
	x = s_subst(ctx, ena, "ES4-EnableProfile<", "es4-enableprofile<");
	BAD(x, strlen(x), NULL, NULL, "action is case-sensitive",
	    FAULT(-SMSR_SOAP_E_ACTION_UNKNOWN, 400, SND, "wsa:ActionNotSupported"));
	{
		size_t plen;
		const char *pol = s_read(ctx, "es4_update_policy_rules.xml", &plen);
		x = s_subst(ctx, pol, "<rps:pol2>", "<rps:Pol2>");
		x = s_subst(ctx, x, "</rps:pol2>", "</rps:Pol2>");
		BAD(x, strlen(x), NULL, NULL, "Pol2 case trap", STATUS(SMSR_SC_MISSING_ELEMENT, "pol2"));
		x = s_subst(ctx, pol, "<rps:Action>DISABLE", "<rps:Action>disable");
		BAD(x, strlen(x), NULL, NULL, "POL2 action", STATUS(SMSR_SC_POL2_INVALID,
		    "pol2/Rule/Action"));
	}
	/* RegisterEIS content problems */
	x = s_subst(ctx, reg, "<rps:Role>ECASD</rps:Role>", "<rps:Role>ISD-R</rps:Role>");
	BAD(x, strlen(x), NULL, NULL, "ECASD role", STATUS(SMSR_SC_EIS_INVALID, "Eis/EumSignedInfo/Ecasd/Role"));
	x = s_subst(ctx, reg, "<rps:Smsr-id>1.3.6.1.4.1.99900</rps:Smsr-id>\n        <rps:ProfileInfo>",
		    "<rps:ProfileInfo>");
	BAD(x, strlen(x), NULL, NULL, "EIS without Smsr-id", STATUS(SMSR_SC_MISSING_ELEMENT, "Eis/Smsr-id"));
	x = s_subst(ctx, reg, "<rps:Iccid>8944000000000000018", "<rps:Iccid>8933010000000000010");
	BAD(x, strlen(x), NULL, NULL, "duplicate ICCID", STATUS(SMSR_SC_EIS_INVALID, NULL));
	x = s_subst(ctx, reg, "<rps:Eid>89001012012341234012345678901224</rps:Eid>\n            <rps:Smsr-id>",
		    "<rps:Eid>89001012012341234012345678909999</rps:Eid>\n            <rps:Smsr-id>");
	BAD(x, strlen(x), NULL, NULL, "audit record of another EID", STATUS(SMSR_SC_EIS_INVALID, NULL));
	x = s_subst(ctx, reg, "<ds:SignedInfo>", "<ds:Foo/><ds:SignedInfo>");
	BAD(x, strlen(x), NULL, NULL, "EumSignature shape",
	    STATUS(SMSR_SC_MISSING_ELEMENT, "Eis/EumSignature/SignedInfo"));
	x = s_subst(ctx, reg, "<rps:EumSignedInfo>", "<rps:EumSignedInfo xmlns:rel=\"relative/uri\">");
	BAD(x, strlen(x), NULL, NULL, "relative namespace URI", STATUS(SMSR_SC_EIS_INVALID, "Eis/EumSignedInfo"));
	x = s_subst(ctx, reg, "value=\"0011", "value=\"0G11");
	BAD(x, strlen(x), NULL, NULL, "key value not hex", STATUS(SMSR_SC_EIS_INVALID, NULL));
	BAD(reg, rlen, NULL, &no_keys, "keys without a keystore", STATUS(SMSR_SC_EIS_INVALID, NULL));
	BAD(reg, rlen, NULL, &fail_keys, "keystore failure", -EIO, 200, NULL, NULL, SMSR_SC_PROVIDER_ERROR, NULL);
	BAD(reg, rlen, NULL, &es4_only, "ES1 on an ES4 endpoint",
	    FAULT(-SMSR_SOAP_E_ACTION_UNKNOWN, 400, SND, "wsa:ActionNotSupported"));
#undef BAD
	talloc_free(ctx);
}

/* every truncation of one valid request, and single-byte mutations: an error (never a crash), and a reply */
static void test_truncations(void)
{
	void *root = talloc_new(NULL);
	size_t len, cut, i;
	const char *reg = s_read(root, "es1_register_eis.xml", &len);
	const char *end = strstr(reg, "</env:Envelope>");
	size_t complete = (size_t)(end - reg) + strlen("</env:Envelope>");
	unsigned bad_rc = 0, bad_reply = 0, ok_full = 0, mut_ok = 0;
	uint32_t seed = 12345;

	for (cut = 0; cut < len; cut++) {
		void *ctx = talloc_new(root);
		struct smsr_soap_msg *msg;
		struct smsr_es_req *req;
		struct smsr_es_error err;
		uint8_t *out;
		size_t olen;
		int http, rc = smsr_es_receive(ctx, reg, cut, NULL, &s_opts, &msg, &req, &err);

		if (cut >= complete) {
			ok_full += rc == 0;
		} else if (rc == 0) {
			bad_rc++;
		} else if (smsr_es_build_error_reply(ctx, &s_self, msg, rc, &err, &out, &olen, &http) ||
			   !err.soap.text[0]) {
			bad_reply++;
		}
		talloc_free(ctx);
	}
	CHECK(bad_rc == 0, "%u truncations accepted", bad_rc);
	CHECK(bad_reply == 0, "%u truncations without a reply", bad_reply);
	CHECK(ok_full == len - complete, "complete document with trailing white space");

	for (i = 0; i < 3000; i++) {
		void *ctx = talloc_new(root);
		char *m = talloc_memdup(ctx, reg, len + 1);
		struct smsr_soap_msg *msg;
		struct smsr_es_req *req;
		struct smsr_es_error err;
		uint8_t *out;
		size_t olen;
		int http, rc;

		seed = seed * 1103515245 + 12345;
		m[(seed >> 8) % len] = (char)(seed >> 24);
		rc = smsr_es_receive(ctx, m, len, NULL, &s_opts, &msg, &req, &err);
		if (rc)
			CHECK(smsr_es_build_error_reply(ctx, &s_self, msg, rc, &err, &out, &olen, &http) == 0,
			      "mutation %zu: no reply", i);
		else
			mut_ok++;
		talloc_free(ctx);
	}
	printf("truncations: %zu, mutations still valid: %u/3000\n", len, mut_ok);
	talloc_free(root);
}

/* helpers of soap.h */
static void test_helpers(void)
{
	static const struct {
		const char *s;
		bool ok;
	} dt[] = {
		{ "2026-01-10T10:00:00Z", true }, { "2026-01-10T10:00:00", true },
		{ "2026-01-10T10:00:00.123+05:30", true }, { "-0044-03-15T12:00:00Z", true },
		{ "12026-01-10T10:00:00Z", true }, { "2026-1-10T10:00:00Z", false }, { "2026-13-10T10:00:00Z", false },
		{ "2026-01-10 10:00:00Z", false }, { "2026-01-10T10:00:00ZZ", false }, { "", false },
		{ "2026-01-10T10:00:00.Z", false },
	};
	static const struct {
		const char *s;
		bool ok;
	} oid[] = { { "1.3.6.1", true }, { "1", true }, { "1.", false }, { ".1", false }, { "1..2", false },
		    { "", false }, { "1.a", false } };
	char t[32];
	unsigned i;

	for (i = 0; i < sizeof(dt) / sizeof(dt[0]); i++)
		CHECK(smsr_soap_is_datetime(dt[i].s) == dt[i].ok, "dateTime '%s'", dt[i].s);
	for (i = 0; i < sizeof(oid) / sizeof(oid[0]); i++)
		CHECK(smsr_soap_is_oid(oid[i].s) == oid[i].ok, "OID '%s'", oid[i].s);
	CHECK(!strcmp(smsr_soap_datetime(0, t, sizeof(t)), "1970-01-01T00:00:00Z"), "datetime %s", t);
	CHECK(smsr_soap_strerror(-SMSR_SOAP_E_DTD)[0] && smsr_soap_strerror(-ENOMEM)[0] &&
	      !strcmp(smsr_soap_strerror(-99999), "unknown error"), "strerror");
}

int main(int argc, char **argv)
{
	size_t blocks;

	LIBXML_TEST_VERSION;
	talloc_enable_null_tracking();
	blocks = talloc_total_blocks(NULL);
	s_paths();
	s_schema_load();

	test_helpers();
	test_table();
	test_requests();
	test_responses();
	test_es3();
	test_es2();
	test_notifications();
	test_eis();
	test_views();
	test_bad_files();
	test_bad_generated();
	test_truncations();

	CHECK(talloc_total_blocks(NULL) == blocks, "talloc leak: %zu blocks, want %zu", talloc_total_blocks(NULL),
	      blocks);
	printf("XSD validations: %u%s\n", s_validated, s_schema ? "" : " (schema absent: skipped)");
	xmlSchemaFree(s_schema);
	xmlCleanupParser();
	talloc_disable_null_tracking();
	TEST_DONE();
}
