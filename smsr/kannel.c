/* Kannel sendsms client (on the asynchronous HTTP client, http_client.h) and MO/DLR callback parsing (see
 * kannel.h). HTTP outcomes are mapped to enum smsr_kannel_result here and nowhere else. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "smsr/kannel.h"
#include "smsr/http_client.h"
#include "smsr/logging.h"
#include "proto/errors.h"
#include "proto/hex.h"

/* ---- callback parsing ------------------------------------------------------------------------------------- */

/* form-urldecode s[0..n) into out (cap bytes): '+' -> space, %XX -> byte. Returns the length or -1. */
static int urldecode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = proto_hex_digit(s[i + 1])) < 0 || (l = proto_hex_digit(s[i + 2])) < 0)
				return -1;
			c = (uint8_t)(h << 4 | l);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o >= cap)
			return -1;
		out[o++] = c;
	}
	return (int)o;
}

/* find key=value in a query string; returns the raw value and its length, or NULL */
static const char *query_get(const char *q, const char *key, size_t *len)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		if ((size_t)(end - q) > kl && !strncmp(q, key, kl) && q[kl] == '=') {
			*len = (size_t)(end - q) - kl - 1;
			return q + kl + 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* a decoded text field into a NUL-terminated buffer */
static int get_text(const char *q, const char *key, char *out, size_t cap, bool required)
{
	size_t n;
	const char *v = query_get(q, key, &n);
	int l;

	if (!v) {
		out[0] = '\0';
		return required ? -PROTO_E_MALFORMED : 0;
	}
	l = urldecode(v, n, (uint8_t *)out, cap - 1);
	if (l < 0 || memchr(out, '\0', (size_t)l))
		return -PROTO_E_MALFORMED;
	out[l] = '\0';
	return 0;
}

int smsr_kannel_mo_parse(const char *query, struct smsr_kannel_mo *mo)
{
	const char *v;
	size_t n, i;
	int l;
	char ts[24];

	memset(mo, 0, sizeof(*mo));
	if (get_text(query, "from", mo->from, sizeof(mo->from), true) < 0 || !mo->from[0] ||
	    get_text(query, "to", mo->to, sizeof(mo->to), true) < 0 || !mo->to[0] ||
	    get_text(query, "smsc", mo->smsc, sizeof(mo->smsc), false) < 0 ||
	    get_text(query, "ts", ts, sizeof(ts), false) < 0)
		return -PROTO_E_MALFORMED;
	if (ts[0])
		mo->ts = strtoll(ts, NULL, 10);
	v = query_get(query, "udh", &n);
	if (v && n) {
		l = urldecode(v, n, mo->ud, 140);
		if (l < 1 || (size_t)mo->ud[0] + 1 != (size_t)l)
			return -PROTO_E_MALFORMED;
		mo->udh_len = (size_t)l;
	}
	v = query_get(query, "data", &n);
	if (!v)
		v = query_get(query, "e", &n);	/* the name tests/kannel/kannel.conf.in uses for %e */
	if (!v || n % 2 || mo->udh_len + n / 2 > 140)
		return -PROTO_E_MALFORMED;
	for (i = 0; i < n; i += 2) {
		int h = proto_hex_digit(v[i]), lo = proto_hex_digit(v[i + 1]);
		if (h < 0 || lo < 0)
			return -PROTO_E_MALFORMED;
		mo->ud[mo->udh_len + i / 2] = (uint8_t)(h << 4 | lo);
	}
	mo->ud_len = mo->udh_len + n / 2;
	return 0;
}

int smsr_kannel_dlr_parse(const char *query, struct smsr_kannel_dlr *dlr)
{
	char type[12];
	char *end;
	long t;

	memset(dlr, 0, sizeof(*dlr));
	if (get_text(query, "tok", dlr->token, sizeof(dlr->token), true) < 0 || !dlr->token[0] ||
	    get_text(query, "type", type, sizeof(type), true) < 0 ||
	    get_text(query, "fid", dlr->fid, sizeof(dlr->fid), false) < 0)
		return -PROTO_E_MALFORMED;
	t = strtol(type, &end, 10);
	if (*end || end == type || t <= 0 || t > 31)
		return -PROTO_E_MALFORMED;
	dlr->type = (int)t;
	return 0;
}

/* ---- sendsms URLs ------------------------------------------------------------------------------------------ */

/* append bytes, percent-encoding everything but unreserved characters (all bytes when all is set) */
static char *append_enc(char *s, const uint8_t *p, size_t n, bool all)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; s && i < n; i++) {
		uint8_t c = p[i];
		if (!all && (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'))
			s = talloc_asprintf_append_buffer(s, "%c", c);
		else
			s = talloc_asprintf_append_buffer(s, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return s;
}

char *smsr_kannel_sendsms_url(void *ctx, const struct smsr_kannel_cfg *cfg, const char *to, const uint8_t *ud,
			      size_t ud_len, size_t udh_len, const char *token)
{
	char *s, *dlr;

	if (ud_len > 140 || udh_len > ud_len || (udh_len && (size_t)ud[0] + 1 != udh_len) || !to || !*to ||
	    !token || strlen(token) > SMSR_KANNEL_TOKEN_MAX)
		return NULL;
	s = talloc_asprintf(ctx, "%s?username=", cfg->sendsms_url);
	s = append_enc(s, (const uint8_t *)cfg->username, strlen(cfg->username), false);
	s = talloc_asprintf_append_buffer(s, "&password=");
	s = append_enc(s, (const uint8_t *)cfg->password, strlen(cfg->password), false);
	s = talloc_asprintf_append_buffer(s, "&from=");
	s = append_enc(s, (const uint8_t *)cfg->from, strlen(cfg->from), false);
	s = talloc_asprintf_append_buffer(s, "&to=");
	s = append_enc(s, (const uint8_t *)to, strlen(to), false);
	if (cfg->smsc_id && *cfg->smsc_id) {
		s = talloc_asprintf_append_buffer(s, "&smsc=");
		s = append_enc(s, (const uint8_t *)cfg->smsc_id, strlen(cfg->smsc_id), false);
	}
	s = talloc_asprintf_append_buffer(s, "&coding=1&pid=127&mclass=2&alt-dcs=1");
	if (udh_len) {
		s = talloc_asprintf_append_buffer(s, "&udh=");
		s = append_enc(s, ud, udh_len, true);
	}
	s = talloc_asprintf_append_buffer(s, "&text=");
	s = append_enc(s, ud + udh_len, ud_len - udh_len, true);
	if (cfg->dlr_base_url && *cfg->dlr_base_url) {
		dlr = talloc_asprintf(s, "%s/dlr?tok=%s&type=%%d&fid=%%F", cfg->dlr_base_url, token);
		s = talloc_asprintf_append_buffer(s, "&dlr-mask=%d&dlr-url=", cfg->dlr_mask);
		s = dlr ? append_enc(s, (const uint8_t *)dlr, strlen(dlr), false) : NULL;
	}
	return s;
}

/* ---- the sender ---------------------------------------------------------------------------------------------- */

struct smsr_kannel {
	struct smsr_kannel_cfg cfg;
	struct smsr_http_client *http;
};

/* one sendsms: the caller's callback, a talloc child of the sender */
struct job {
	smsr_kannel_done_cb done;
	void *data;
};

static void on_sendsms_done(void *arg, int rc, long code, const char *body, size_t len)
{
	struct job *j = arg;
	smsr_kannel_done_cb done = j->done;
	void *data = j->data;
	enum smsr_kannel_result res;

	talloc_free(j);
	if (rc < 0)
		res = SMSR_KANNEL_UNREACHABLE;	/* logged by the HTTP client */
	else if (code >= 200 && code < 300 && (!strncmp(body, "0:", 2) || !strncmp(body, "3:", 2)))
		res = SMSR_KANNEL_ACCEPTED;
	else
		res = SMSR_KANNEL_REJECTED;
	if (res == SMSR_KANNEL_REJECTED)
		LOGP(DKANNEL, LOGL_NOTICE, "sendsms rejected: HTTP %ld %.127s", code, body);
	done(res, (int)code, body, data);
}

int smsr_kannel_new(void *ctx, struct event_base *base, const struct smsr_kannel_cfg *cfg,
		    struct smsr_kannel **out)
{
	struct smsr_kannel *k = talloc_zero(ctx, struct smsr_kannel);
	struct smsr_http_client_cfg hc = {
		.max_inflight = cfg->max_inflight,
		.throughput = cfg->throughput,
		.timeout_ms = cfg->timeout_ms,
		.log_cat = DKANNEL,
	};
	int rc;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->cfg = *cfg;
	k->cfg.sendsms_url = talloc_strdup(k, cfg->sendsms_url);
	k->cfg.username = talloc_strdup(k, cfg->username ? cfg->username : "");
	k->cfg.password = talloc_strdup(k, cfg->password ? cfg->password : "");
	k->cfg.from = talloc_strdup(k, cfg->from ? cfg->from : "");
	k->cfg.smsc_id = talloc_strdup(k, cfg->smsc_id ? cfg->smsc_id : "");
	k->cfg.dlr_base_url = talloc_strdup(k, cfg->dlr_base_url ? cfg->dlr_base_url : "");
	if (!k->cfg.max_inflight)
		k->cfg.max_inflight = 32;
	if (!k->cfg.timeout_ms)
		k->cfg.timeout_ms = 10000;
	if (!k->cfg.sendsms_url || !k->cfg.username || !k->cfg.password || !k->cfg.from || !k->cfg.smsc_id ||
	    !k->cfg.dlr_base_url) {
		talloc_free(k);
		return -ENOMEM;
	}
	rc = smsr_http_client_new(k, base, &hc, &k->http);
	if (rc < 0) {
		talloc_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int smsr_kannel_send(struct smsr_kannel *k, const char *to, const uint8_t *ud, size_t ud_len, size_t udh_len,
		     const char *token, smsr_kannel_done_cb done, void *data)
{
	struct job *j = talloc_zero(k, struct job);
	char *url;
	int rc;

	if (!j)
		return -ENOMEM;
	url = smsr_kannel_sendsms_url(j, &k->cfg, to, ud, ud_len, udh_len, token);
	if (!url) {
		talloc_free(j);
		return -EINVAL;
	}
	j->done = done;
	j->data = data;
	rc = smsr_http_request(k->http, "GET", url, NULL, NULL, 0, on_sendsms_done, j);
	talloc_free(url);
	if (rc < 0)
		talloc_free(j);
	return rc;
}

unsigned smsr_kannel_pending(const struct smsr_kannel *k)
{
	return smsr_http_client_pending(k->http);
}
