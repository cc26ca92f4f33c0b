/* smsrd configuration file: table-driven parse, validate and write-back. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smsr/config.h"
#include "smsr/logging.h"

#define S(sec, key, field, def, help)                                                                                  \
	{                                                                                                              \
		sec, key, SMSR_INI_STR, offsetof(struct smsr_config, field), sizeof(((struct smsr_config *)0)->field), \
			def, help                                                                                      \
	}
#define N(sec, key, type, field, def, help) { sec, key, type, offsetof(struct smsr_config, field), 0, def, help }

static const struct smsr_ini_item items[] = {
	S("smsr", "entity-id", entity_id, "1.3.6.1.4.1.99999.10", "this SM-SR's entity OID (wsa:From EntityId)"),
	S("smsr", "entity-name", entity_name, "SM-SR", "this SM-SR's entity name"),
	S("smsr", "sms-address", sms_address, "1001", "SMS address of the SM-SR: MT sender, MO destination"),
	S("db", "path", db_path, "/var/lib/m2m-sm/smsr", "LMDB directory of the EIS store and operation journal"),
	N("db", "map-size", SMSR_INI_SIZE, db_map_size, "8G", "LMDB map size (upper bound of the store)"),
	N("db", "group-commit", SMSR_INI_BOOL, db_group_commit, "yes",
	  "one durable commit per event-loop pass, before any reply or SMS of that pass leaves (no: one per write)"),
	S("keystore", "master-key-file", master_key_file, "/etc/m2m-sm/smsr-master.key",
	  "32-byte master key wrapping keys at rest (mode 0600)"),
	S("keystore", "transport-key-file", transport_key_file, "",
	  "AES key the EUM uses for key values in registered EIS (empty: RegisterEIS with keys refused)"),
	S("keystore", "ci-cert-file", ci_cert_file, "",
	  "GSMA CI certificate (PEM): trust anchor of EUM signatures (empty: RegisterEIS refused)"),
	S("keystore", "eum-cert-dir", eum_cert_dir, "",
	  "EUM certificates (*.crt/*.pem) for EumSignatures without KeyInfo"),
	S("es4", "listen", es4_listen, "127.0.0.1:8443", "address of the ES1/ES4 SOAP endpoint (HTTPS)"),
	S("es4", "tls-cert", tls_cert, "/etc/m2m-sm/smsr.crt", "server certificate (PEM)"),
	S("es4", "tls-key", tls_key, "/etc/m2m-sm/smsr.key", "server private key (PEM)"),
	S("es4", "tls-ca", tls_ca, "/etc/m2m-sm/ca.crt", "CA bundle for requester client certificates (mutual TLS)"),
	N("es4", "max-body", SMSR_INI_SIZE, max_body, "1M", "largest SOAP request accepted"),
	S("es4", "schema-dir", schema_dir, "/usr/share/m2m-sm/gsma-schema", "GSMA XSDs served beside our WSDL"),
	S("es4", "wsdl-dir", wsdl_dir, "/usr/share/m2m-sm/wsdl", "our WSDLs, served at /wsdl/ of the ES4 endpoint"),
	S("es3", "zmq-listen", es3_listen, "",
	  "ZeroMQ endpoint of ES3 for SM-DPs, e.g. tcp://127.0.0.1:5555 (empty: ES3 over HTTPS only)"),
	S("es3", "curve-public-key", es3_public_key, "", "this SM-SR's CURVE public key (Z85, 40 characters)"),
	S("es3", "curve-secret-key-file", es3_secret_key_file, "",
	  "file holding this SM-SR's CURVE secret key (Z85, 40 characters; mode 0600)"),
	N("es3", "resend", SMSR_INI_MS, es3_resend_ms, "5s", "resend an unanswered callback to an SM-DP after"),
	N("es3", "timeout", SMSR_INI_MS, es3_timeout_ms, "10m", "give a callback up (then retried later) after"),
	N("es3", "max-inflight", SMSR_INI_INT, es3_max_inflight, "1000", "unanswered callbacks per link"),
	N("es3", "hwm", SMSR_INI_INT, es3_hwm, "10000", "ZeroMQ high-water mark (messages queued per peer)"),
	S("kannel", "sendsms-url", sendsms_url, "http://127.0.0.1:13013/cgi-bin/sendsms", "Kannel smsbox sendsms"),
	S("kannel", "username", sendsms_user, "ota", "sendsms-user username"),
	S("kannel", "password", sendsms_password, "otapw", "sendsms-user password"),
	S("kannel", "smsc-id", smsc_id, "", "route MTs to this smsc-id (empty: Kannel's choice)"),
	S("kannel", "mo-listen", mo_listen, "127.0.0.1:18080", "address of our MO/DLR listener"),
	S("kannel", "mo-url", mo_url, "http://127.0.0.1:18080", "base URL Kannel calls for MO and DLR"),
	N("kannel", "throughput", SMSR_INI_INT, smsc_throughput, "0", "MT SMS per second per SMSC (0: unlimited)"),
	N("kannel", "max-parallel", SMSR_INI_INT, sendsms_parallel, "64", "sendsms requests in flight at once"),
	N("kannel", "dlr-mask", SMSR_INI_INT, dlr_mask, "18",
	  "delivery reports asked from Kannel: 18 = failures only (the PoR proves execution); 31 = all"),
	S("es5", "spi", spi, "1639", "SPI of ES5 command packets (hex)"),
	S("es5", "kic", kic, "12", "KIc of the ISD-R SCP80 keyset (hex)"),
	S("es5", "kid", kid, "12", "KID of the ISD-R SCP80 keyset (hex)"),
	S("es5", "tar", tar, "000001", "TAR of the ISD-R (hex)"),
	N("es5", "por-timeout", SMSR_INI_MS, por_timeout_ms, "30s", "wait for a PoR before a retry"),
	N("es5", "dlr-timeout", SMSR_INI_MS, dlr_timeout_ms, "60s", "wait for the SMSC delivery report"),
	N("es5", "retries", SMSR_INI_INT, retries, "3", "resends of an unanswered command (each with a fresh counter)"),
	N("es5", "notification-timeout", SMSR_INI_MS, notification_timeout_ms, "5m",
	  "wait for the eUICC notification after Enable/Disable"),
	S("log", "level", log_level, "info", "default level: debug, info, notice, error"),
	N("log", "syslog", SMSR_INI_BOOL, log_syslog, "no", "log to syslog instead of stderr"),
	N("log", "timestamps", SMSR_INI_BOOL, log_timestamps, "yes", "prefix stderr lines with an ISO 8601 time"),
	S("log", "categories", log_categories, "", "per-category levels, e.g. DOTA=debug,DSOAP=notice"),
};

#define R(key, field, help)                                                                                            \
	{                                                                                                              \
		"requester", key, SMSR_INI_STR, offsetof(struct smsr_cfg_requester, field),                            \
			sizeof(((struct smsr_cfg_requester *)0)->field), "", help                                      \
	}
const struct smsr_ini_item smsr_ini_requester_items[SMSR_INI_REQUESTER_ITEMS] = {
	R("entity-id", entity_id, "the requester's entity OID"),
	R("role", role, "mno, smdp or eum"),
	R("tls-subject", tls_subject, "client certificate subject that authenticates it"),
	R("tls-fingerprint", tls_fingerprint, "or the SHA-256 fingerprint of its client certificate (hex)"),
	R("callback-url", callback_url, "endpoint for async responses and notifications"),
	R("curve-public-key", curve_public_key, "SM-DP: its CURVE public key on the ES3 ZeroMQ link (Z85)"),
};

static int set_value(void *base, const struct smsr_ini_item *it, const char *v, char *err, size_t err_len)
{
	char *p = (char *)base + it->off, *end;
	double num;
	uint64_t mult = 1;

	switch (it->type) {
	case SMSR_INI_STR:
		if (strlen(v) >= it->size) {
			snprintf(err, err_len, "%s: value longer than %zu characters", it->key, it->size - 1);
			return -EINVAL;
		}
		memcpy(p, v, strlen(v) + 1);
		return 0;
	case SMSR_INI_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "on"))
			*(bool *)p = true;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "off"))
			*(bool *)p = false;
		else
			goto bad;
		return 0;
	case SMSR_INI_INT:
		errno = 0;
		*(int64_t *)p = strtoll(v, &end, 10);
		if (errno || end == v || *end || *(int64_t *)p < 0)
			goto bad;
		return 0;
	case SMSR_INI_MS:
		errno = 0;
		num = strtod(v, &end);
		if (errno || end == v || num < 0)
			goto bad;
		if (!*end || !strcmp(end, "s"))
			num *= 1000;
		else if (!strcmp(end, "m"))
			num *= 60000;
		else if (!strcmp(end, "h"))
			num *= 3600000;
		else if (strcmp(end, "ms"))
			goto bad;
		*(int64_t *)p = (int64_t)num;
		return 0;
	case SMSR_INI_SIZE:
		errno = 0;
		num = strtod(v, &end);
		if (errno || end == v || num < 0)
			goto bad;
		if (*end == 'k' || *end == 'K')
			mult = 1024, end++;
		else if (*end == 'M')
			mult = 1024 * 1024, end++;
		else if (*end == 'G')
			mult = 1024ULL * 1024 * 1024, end++;
		if (*end)
			goto bad;
		*(uint64_t *)p = (uint64_t)(num * (double)mult);
		return 0;
	}
bad:
	snprintf(err, err_len, "%s: invalid value '%s'", it->key, v);
	return -EINVAL;
}

void smsr_ini_defaults(const struct smsr_ini_schema *sc, void *base)
{
	char err[64];
	size_t i;

	memset(base, 0, sc->size);
	for (i = 0; i < sc->n_items; i++)
		set_value(base, &sc->items[i], sc->items[i].def, err, sizeof(err));
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int smsr_ini_parse(const struct smsr_ini_schema *sc, void *c, const char *name, const char *text, char *err,
		   size_t err_len)
{
	struct smsr_cfg_requester *reqs = (struct smsr_cfg_requester *)((char *)c + sc->req_off);
	unsigned *n_reqs = (unsigned *)((char *)c + sc->n_req_off);
	char section[64] = "", line[1024], msg[256];
	struct smsr_cfg_requester *req = NULL;
	const char *p = text;
	unsigned lineno = 0, i;

	smsr_ini_defaults(sc, c);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *l, *eq, *key, *val;
		bool found = false;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, err_len, "%s:%u: line too long", name, lineno);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		l = trim(line);
		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			char *close = strchr(l, ']'), *arg;
			if (!close || close[1]) {
				snprintf(err, err_len, "%s:%u: malformed section header", name, lineno);
				return -EINVAL;
			}
			*close = '\0';
			l = trim(l + 1);
			arg = strchr(l, ' ');
			if (arg)
				*arg++ = '\0';
			snprintf(section, sizeof(section), "%s", l);
			req = NULL;
			if (!strcmp(section, "requester")) {
				if (!arg || !*trim(arg) || strlen(trim(arg)) >= sizeof(req->name)) {
					snprintf(err, err_len, "%s:%u: [requester NAME] needs a name", name, lineno);
					return -EINVAL;
				}
				if (*n_reqs >= sc->max_req) {
					snprintf(err, err_len, "%s:%u: more than %u requesters", name, lineno,
						 sc->max_req);
					return -EINVAL;
				}
				req = &reqs[(*n_reqs)++];
				snprintf(req->name, sizeof(req->name), "%s", trim(arg));
				continue;
			}
			for (i = 0; i < sc->n_items; i++)
				found |= !strcmp(sc->items[i].section, section);
			if (!found || arg) {
				snprintf(err, err_len, "%s:%u: unknown section [%s]", name, lineno, section);
				return -EINVAL;
			}
			continue;
		}
		eq = strchr(l, '=');
		if (!eq) {
			snprintf(err, err_len, "%s:%u: expected key = value", name, lineno);
			return -EINVAL;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		if (req) {
			for (i = 0; i < sc->n_req_items; i++) {
				if (!strcmp(sc->req_items[i].key, key)) {
					if (set_value(req, &sc->req_items[i], val, msg, sizeof(msg)) < 0)
						goto bad;
					found = true;
				}
			}
		} else {
			for (i = 0; i < sc->n_items; i++) {
				if (!strcmp(sc->items[i].section, section) && !strcmp(sc->items[i].key, key)) {
					if (set_value(c, &sc->items[i], val, msg, sizeof(msg)) < 0)
						goto bad;
					found = true;
				}
			}
		}
		if (!found) {
			snprintf(err, err_len, "%s:%u: unknown key '%s' in [%s]", name, lineno, key,
				 section[0] ? section : "(none)");
			return -EINVAL;
		}
		continue;
bad:
		snprintf(err, err_len, "%s:%u: %s", name, lineno, msg);
		return -EINVAL;
	}
	return 0;
}

int smsr_ini_load(const struct smsr_ini_schema *sc, void *c, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;
	int rc;

	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > 1024 * 1024 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		snprintf(err, err_len, "%s: unreadable or larger than 1 MiB", path);
		return -EINVAL;
	}
	text = malloc((size_t)n + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	text[fread(text, 1, (size_t)n, f)] = '\0';
	fclose(f);
	rc = smsr_ini_parse(sc, c, path, text, err, err_len);
	free(text);
	return rc;
}

bool smsr_ini_is_oid(const char *s)
{
	bool digit = false;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digit = true;
		else if (*s == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

static bool is_hex(const char *s, size_t bytes)
{
	size_t i;

	if (strlen(s) != 2 * bytes)
		return false;
	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool smsr_ini_is_hostport(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s)
		return false;
	port = strtol(colon + 1, &end, 10);
	return !*end && end != colon + 1 && port >= 0 && port < 65536;	/* 0: any free port */
}

int smsr_config_validate(const struct smsr_config *c, char *err, size_t err_len)
{
	unsigned i, j;

#define FAIL(...) do { snprintf(err, err_len, __VA_ARGS__); return -EINVAL; } while (0)
	if (!smsr_ini_is_oid(c->entity_id))
		FAIL("[smsr] entity-id '%s' is not an OID", c->entity_id);
	if (!c->sms_address[0] || strspn(c->sms_address, "+0123456789") != strlen(c->sms_address))
		FAIL("[smsr] sms-address '%s' is not a number", c->sms_address);
	if (!c->db_path[0])
		FAIL("[db] path is empty");
	if (c->db_map_size < 1024 * 1024)
		FAIL("[db] map-size below 1M");
	if (!smsr_ini_is_hostport(c->es4_listen))
		FAIL("[es4] listen '%s' is not host:port", c->es4_listen);
	if (!smsr_ini_is_hostport(c->mo_listen))
		FAIL("[kannel] mo-listen '%s' is not host:port", c->mo_listen);
	if (strncmp(c->sendsms_url, "http://", 7) && strncmp(c->sendsms_url, "https://", 8))
		FAIL("[kannel] sendsms-url '%s' is not an http(s) URL", c->sendsms_url);
	if (c->sendsms_parallel < 1 || c->sendsms_parallel > 1024)
		FAIL("[kannel] max-parallel %lld is not 1..1024", (long long)c->sendsms_parallel);
	if (c->dlr_mask < 1 || c->dlr_mask > 31)
		FAIL("[kannel] dlr-mask %lld is not 1..31", (long long)c->dlr_mask);
	if (!is_hex(c->spi, 2) || !is_hex(c->kic, 1) || !is_hex(c->kid, 1) || !is_hex(c->tar, 3))
		FAIL("[es5] spi/kic/kid/tar must be 2/1/1/3 bytes of hex");
	if (c->max_body < 1024)
		FAIL("[es4] max-body below 1k");
	if (c->es3_listen[0] && (strlen(c->es3_public_key) != 40 || !c->es3_secret_key_file[0]))
		FAIL("[es3] zmq-listen needs curve-public-key (40 Z85 characters) and curve-secret-key-file");
	if (c->es3_max_inflight < 1 || c->es3_hwm < 1)
		FAIL("[es3] max-inflight and hwm must be positive");
	for (i = 0; i < c->n_requesters; i++) {
		const struct smsr_cfg_requester *r = &c->requesters[i];
		if (!smsr_ini_is_oid(r->entity_id))
			FAIL("[requester %s] entity-id '%s' is not an OID", r->name, r->entity_id);
		if (strcmp(r->role, "mno") && strcmp(r->role, "smdp") && strcmp(r->role, "eum"))
			FAIL("[requester %s] role must be mno, smdp or eum", r->name);
		if (!r->tls_subject[0] && !r->tls_fingerprint[0] && !r->curve_public_key[0])
			FAIL("[requester %s] needs tls-subject, tls-fingerprint or curve-public-key", r->name);
		if (r->curve_public_key[0] && (strlen(r->curve_public_key) != 40 || strcmp(r->role, "smdp")))
			FAIL("[requester %s] curve-public-key: 40 Z85 characters, for an smdp only", r->name);
		for (j = 0; j < i; j++)
			if (!strcmp(c->requesters[j].entity_id, r->entity_id) ||
			    !strcmp(c->requesters[j].name, r->name))
				FAIL("[requester %s] duplicates [requester %s]", r->name, c->requesters[j].name);
	}
#undef FAIL
	return 0;
}

static void write_value(FILE *out, const void *base, const struct smsr_ini_item *it)
{
	const char *p = (const char *)base + it->off;

	switch (it->type) {
	case SMSR_INI_STR:
		fprintf(out, "%s = %s\n", it->key, p);
		break;
	case SMSR_INI_BOOL:
		fprintf(out, "%s = %s\n", it->key, *(const bool *)p ? "yes" : "no");
		break;
	case SMSR_INI_INT:
		fprintf(out, "%s = %lld\n", it->key, (long long)*(const int64_t *)p);
		break;
	case SMSR_INI_MS:
		fprintf(out, "%s = %lldms\n", it->key, (long long)*(const int64_t *)p);
		break;
	case SMSR_INI_SIZE:
		fprintf(out, "%s = %llu\n", it->key, (unsigned long long)*(const uint64_t *)p);
		break;
	}
}

void smsr_ini_write(const struct smsr_ini_schema *sc, const void *c, FILE *out)
{
	const struct smsr_cfg_requester *reqs = (const struct smsr_cfg_requester *)((const char *)c + sc->req_off);
	unsigned n_reqs = *(const unsigned *)((const char *)c + sc->n_req_off);
	const char *sec = "";
	size_t i;
	unsigned j;

	fprintf(out, "# %s configuration (effective settings; `%s --dump-config` writes this)\n", sc->prog, sc->prog);
	for (i = 0; i < sc->n_items; i++) {
		if (strcmp(sec, sc->items[i].section)) {
			sec = sc->items[i].section;
			fprintf(out, "\n[%s]\n", sec);
		}
		fprintf(out, "# %s (default: %s)\n", sc->items[i].help,
			sc->items[i].def[0] ? sc->items[i].def : "empty");
		write_value(out, c, &sc->items[i]);
	}
	for (j = 0; j < n_reqs; j++) {
		fprintf(out, "\n[requester %s]\n", reqs[j].name);
		for (i = 0; i < sc->n_req_items; i++) {
			fprintf(out, "# %s\n", sc->req_items[i].help);
			write_value(out, &reqs[j], &sc->req_items[i]);
		}
	}
}

static const struct smsr_ini_schema schema = {
	.prog = "smsrd",
	.size = sizeof(struct smsr_config),
	.items = items,
	.n_items = sizeof(items) / sizeof(items[0]),
	.req_items = smsr_ini_requester_items,
	.n_req_items = SMSR_INI_REQUESTER_ITEMS,
	.req_off = offsetof(struct smsr_config, requesters),
	.n_req_off = offsetof(struct smsr_config, n_requesters),
	.max_req = SMSR_CFG_MAX_REQUESTERS,
};

void smsr_config_defaults(struct smsr_config *c)
{
	smsr_ini_defaults(&schema, c);
}

int smsr_config_parse(struct smsr_config *c, const char *name, const char *text, char *err, size_t err_len)
{
	return smsr_ini_parse(&schema, c, name, text, err, err_len);
}

int smsr_config_load(struct smsr_config *c, const char *path, char *err, size_t err_len)
{
	return smsr_ini_load(&schema, c, path, err, err_len);
}

void smsr_config_write(const struct smsr_config *c, FILE *out)
{
	smsr_ini_write(&schema, c, out);
}

const struct smsr_cfg_requester *smsr_requester_by_tls(const struct smsr_cfg_requester *reqs, unsigned n,
						       const char *subject, const char *fingerprint)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		const struct smsr_cfg_requester *r = &reqs[i];
		if ((subject && r->tls_subject[0] && !strcmp(r->tls_subject, subject)) ||
		    (fingerprint && r->tls_fingerprint[0] && !strcasecmp(r->tls_fingerprint, fingerprint)))
			return r;
	}
	return NULL;
}

const struct smsr_cfg_requester *smsr_config_requester_by_tls(const struct smsr_config *c, const char *subject,
							      const char *fingerprint)
{
	return smsr_requester_by_tls(c->requesters, c->n_requesters, subject, fingerprint);
}

const struct smsr_cfg_requester *smsr_config_requester_by_name(const struct smsr_config *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->n_requesters; i++)
		if (!strcmp(c->requesters[i].name, name))
			return &c->requesters[i];
	return NULL;
}

const struct smsr_cfg_requester *smsr_config_requester_by_oid(const struct smsr_config *c, const char *oid)
{
	unsigned i;

	for (i = 0; i < c->n_requesters; i++)
		if (!strcmp(c->requesters[i].entity_id, oid))
			return &c->requesters[i];
	return NULL;
}

int smsr_config_apply_logging(const struct smsr_config *c, const char *prog, char *err, size_t err_len)
{
	enum smsr_log_level lvl;
	char cats[sizeof(c->log_categories)], *tok, *save = NULL;

	if (smsr_log_level_parse(c->log_level, &lvl) < 0) {
		snprintf(err, err_len, "[log] level '%s' unknown", c->log_level);
		return -EINVAL;
	}
	smsr_log_init(prog, c->log_syslog, c->log_timestamps);
	smsr_log_set_level(-1, lvl);
	snprintf(cats, sizeof(cats), "%s", c->log_categories);
	for (tok = strtok_r(cats, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		enum smsr_log_cat cat;
		if (!eq || (*eq = '\0', smsr_log_cat_parse(tok, &cat) < 0) || smsr_log_level_parse(eq + 1, &lvl) < 0) {
			snprintf(err, err_len, "[log] categories: bad entry '%s'", tok);
			return -EINVAL;
		}
		smsr_log_set_level(cat, lvl);
	}
	return 0;
}
