/* The SM-DP daemon: wiring of keystore, store, ES3 link, ES2 endpoint and order procedures (see smdpd.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <event2/event.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "smdp/smdpd.h"
#include "smdp/db.h"
#include "smdp/download.h"
#include "smdp/es2_server.h"
#include "smdp/saip.h"
#include "smsr/es_msg.h"
#include "smsr/http_client.h"
#include "smsr/https.h"
#include "smsr/logging.h"
#include "smsr/zmq_link.h"
#include "ota/keystore_ec.h"
#include "ota/keystore_wrap.h"
#include "proto/ec.h"
#include "proto/errors.h"
#include "proto/hex.h"

size_t smdpd_pool_aad(uint8_t *out, size_t cap, char which, const char *iccid)
{
	size_t n = strlen(iccid);

	if (n + 1 > cap)
		return 0;
	out[0] = (uint8_t)which;
	memcpy(out + 1, iccid, n);
	return n + 1;
}

int smdpd_load_gpcert(void *ctx, const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	char hex[2048];
	size_t n;
	int rc;

	*out = NULL;
	if (!f)
		return -ENOENT;
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	hex[n] = '\0';
	hex[strcspn(hex, "\r\n")] = '\0';
	n = strlen(hex);
	if (!n || n % 2 || !(*out = talloc_size(ctx, n / 2)))
		return -EINVAL;
	rc = proto_hex_decode(hex, *out, n / 2);
	if (rc != (int)(n / 2)) {
		TALLOC_FREE(*out);
		return -EINVAL;
	}
	*len = n / 2;
	return 0;
}

int smdpd_load_eum(void *ctx, const char *eum_path, const char *ci_path, struct proto_ec_pub **out, char *why,
		   size_t cap)
{
	int rc = proto_ec_pub_from_cert_file(ctx, eum_path, ci_path, out);

	if (rc == -PROTO_E_INTEGRITY)
		snprintf(why, cap, "the EUM certificate %s is not signed by the CI %s", eum_path, ci_path);
	else if (rc < 0)
		snprintf(why, cap, "EUM certificate %s (CI %s): %s", eum_path, ci_path, proto_strerror(rc));
	return rc;
}

/* ---- profiles for the orders: template + pool record, personalised ---- */

static int reserve(void *data, uint64_t order, const char *mno, const char *type, const char *iccid, char iccid_out[21],
		   char imsi_out[16], uint64_t *required_memory)
{
	struct smdpd *d = data;
	void *tmp = talloc_new(NULL);
	struct smdp_pool_rec r;
	uint8_t *pkg;
	size_t len;
	int rc = smdp_db_profile_get(d->db, tmp, mno, type, &pkg, &len, required_memory);

	talloc_free(tmp);
	if (rc == 0)
		rc = smdp_db_pool_take(d->db, type, iccid, order, &r);
	if (rc == 0) {
		snprintf(iccid_out, 21, "%s", r.iccid);
		snprintf(imsi_out, 16, "%s", r.imsi);
	}
	return rc;
}

static int package(void *data, void *ctx, uint64_t order, const char *mno, const char *type, uint8_t **pkg,
		   size_t *pkg_len)
{
	struct smdpd *d = data;
	struct smdp_pool_rec r = {0};
	uint8_t ki[32], opc[32], aad[32];
	size_t kl = 0, ol = 0, al;
	uint64_t mem;
	int rc;

	rc = smdp_db_profile_get(d->db, ctx, mno, type, pkg, pkg_len, &mem);
	if (rc < 0)
		return rc;
	/* the order's reservation (idempotent) */
	rc = smdp_db_pool_take(d->db, type, "", order, &r);
	/* Ki and OPc leave the keystore only into the package, which leaves only under SCP03t */
	al = smdpd_pool_aad(aad, sizeof(aad), 'K', r.iccid);
	if (rc == 0)
		rc = ota_wrap_unseal(d->master, r.ki, r.ki_len, aad, al, ki, sizeof(ki), &kl);
	al = smdpd_pool_aad(aad, sizeof(aad), 'O', r.iccid);
	if (rc == 0)
		rc = ota_wrap_unseal(d->master, r.opc, r.opc_len, aad, al, opc, sizeof(opc), &ol);
	if (rc == 0 && (kl != 16 || ol != 16))
		rc = -EINVAL;
	if (rc == 0)
		rc = smdp_saip_personalise(
			*pkg, *pkg_len,
			&(struct smdp_saip_perso){.iccid = r.iccid, .imsi = r.imsi, .ki = ki, .opc = opc});
	OPENSSL_cleanse(ki, sizeof(ki));
	OPENSSL_cleanse(opc, sizeof(opc));
	if (rc < 0) {
		LOGP(DPROTO, LOGL_ERROR, "order %llu: profile %s/%s cannot be personalised: %s",
		     (unsigned long long)order, mno, type, proto_strerror(rc));
		memset(*pkg, 0, *pkg_len);
		TALLOC_FREE(*pkg);
	}
	return rc;
}

static void commit(void *data, uint64_t order, bool used)
{
	struct smdpd *d = data;
	int rc = smdp_db_pool_finish(d->db, order, used);

	if (rc < 0 && rc != -ENOENT)
		LOGP(DDB, LOGL_ERROR, "order %llu: pool record not updated: %s", (unsigned long long)order,
		     proto_strerror(rc));
}

/* ---- ES3 over the link ---- */

struct es3_ref {
	struct smdpd *d;
	uint64_t tag;
};

static void on_es3_done(void *data, int rc, const char *action, const uint8_t *body, size_t len)
{
	struct es3_ref *ref = data;
	struct smdpd *d = ref->d;
	uint64_t tag = ref->tag;
	int code = rc < 0 ? rc : action ? (int)strtol(action, NULL, 10) : 0;

	talloc_free(ref);
	if (tag & SMDP_ES2_TAG_BIT)
		smdp_es2_es3_answer(d->es2, tag, code, body, len);
	else
		smdp_dl_es3_answer(d->dl, tag, code, body, len);
}

static int es3_send(void *data, uint64_t tag, const char *action, const uint8_t *body, size_t len)
{
	struct smdpd *d = data;
	struct es3_ref *ref = talloc_zero(d, struct es3_ref);
	int rc;

	if (!ref)
		return -ENOMEM;
	ref->d = d;
	ref->tag = tag;
	rc = smsr_zlink_request(d->es3, NULL, tag, action, body, len, on_es3_done, ref);
	if (rc < 0)
		talloc_free(ref);
	return rc;
}

static int es2_es3_send(void *data, uint64_t tag, const char *action, const uint8_t *body, size_t len)
{
	struct smdpd *d = data;

	return es3_send(d, tag, action, body, len);
}

/* ---- ES2 results to MNOs ---- */

struct post_ref {
	struct smdpd *d;
	uint64_t tag;
};

static void on_posted(void *data, int rc, long code, const char *body, size_t len)
{
	struct post_ref *p = data;

	smdp_dl_mno_posted(p->d->dl, p->tag, rc == 0 && code >= 200 && code < 300);
	talloc_free(p);
}

static int mno_post(void *data, uint64_t tag, const char *url, const char *action, const uint8_t *body, size_t len)
{
	struct smdpd *d = data;
	struct post_ref *p = talloc_zero(d, struct post_ref);
	char *ct = p ? talloc_asprintf(p, "Content-Type: application/soap+xml; charset=utf-8; action=\"%s\"", action)
		     : NULL;
	const char *hdrs[] = {ct, NULL};
	int rc;

	if (!ct) {
		talloc_free(p);
		return -ENOMEM;
	}
	p->d = d;
	p->tag = tag;
	rc = smsr_http_request(d->http, "POST", url, hdrs, body, len, on_posted, p);
	if (rc < 0)
		talloc_free(p);
	return rc;
}

/* an ES3 Handle*Notification from the SM-SR: told to the profile's MNO as the ES2 one (best effort, not journalled) */
static int es3_notification(struct smdpd *d, const uint8_t *body, size_t len)
{
	void *tmp = talloc_new(NULL);
	struct smsr_soap_msg *m;
	struct smsr_es_notif_in in;
	const struct smsr_cfg_requester *mno = NULL;
	char why[256];
	uint8_t *out;
	size_t olen;
	unsigned i;
	int rc = smsr_soap_parse(tmp, body, len, NULL, &m, NULL);

	if (rc == 0 && (!m->body_name || strncmp(m->body_name, "ES3-Handle", 10))) {
		talloc_free(tmp);
		return -ENOENT; /* not a notification: a callback */
	}
	if (rc == 0)
		rc = smsr_es_notification_decode(tmp, m, SMSR_ES_IF_ES3, &in, why, sizeof(why));
	if (rc < 0) {
		LOGP(DSOAP, LOGL_NOTICE, "ES3 notification refused: %s", rc == -EBADMSG ? why : "unreadable");
		talloc_free(tmp);
		return -EBADMSG;
	}
	for (i = 0; i < d->cfg.n_requesters; i++)
		if (!strcmp(d->cfg.requesters[i].entity_id, in.mno_id))
			mno = &d->cfg.requesters[i];
	if (mno && mno->callback_url[0]) {
		struct smsr_es_notif n = {
			.eid = in.eid, .iccid = in.iccid, .completion_timestamp = in.completion_timestamp};
		struct smsr_soap_entity self = {.entity_id = d->cfg.entity_id, .entity_name = d->cfg.entity_name};
		self.address = talloc_asprintf(tmp, "https://%s/es2", d->cfg.es2_listen);
		n.func = in.func == SMSR_ES3_HANDLE_PROFILE_ENABLED    ? SMSR_ES2_HANDLE_PROFILE_ENABLED
			 : in.func == SMSR_ES3_HANDLE_PROFILE_DISABLED ? SMSR_ES2_HANDLE_PROFILE_DISABLED
								       : SMSR_ES2_HANDLE_PROFILE_DELETED;
		if (smsr_es_build_notification(tmp, &self, mno->callback_url, &n, &out, &olen, NULL) == 0)
			mno_post(d, 0, mno->callback_url, smsr_es_func_desc(n.func)->req_action, out, olen);
		LOG_EIS(in.eid, DSOAP, LOGL_INFO, "%s for %s relayed to %s", smsr_es_func_desc(in.func)->name, in.iccid,
			mno->entity_id);
	}
	talloc_free(tmp);
	return 0;
}

/* callbacks and notifications from the SM-SR */
static void on_es3_request(void *data, const char *peer, uint64_t msgid, const char *action, const uint8_t *body,
			   size_t len)
{
	struct smdpd *d = data;
	int rc = es3_notification(d, body, len);

	if (rc == -ENOENT)
		rc = smdp_dl_es3_callback(d->dl, body, len);

	/* journalled (or nobody waits for it): acknowledged; unreadable: refused, the SM-SR logs it */
	smsr_zlink_reply(d->es3, NULL, msgid, rc == -EBADMSG ? "400" : "200", NULL, 0);
}

/* ---- ES2 endpoint ---- */

static const struct smsr_cfg_requester *lookup(void *data, const char *subject, const char *fingerprint)
{
	struct smdpd *d = data;

	return smdp_config_requester_by_tls(&d->cfg, subject, fingerprint);
}

static void on_es2_http(struct smsr_https_req *r, void *data)
{
	struct smdpd *d = data;

	smdp_es2_handle(d->es2, r);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct smdpd *d = arg;

	LOGP(DMAIN, LOGL_NOTICE, "signal %d: stopping", (int)sig);
	event_base_loopbreak(d->base);
}

static int s_destructor(struct smdpd *d)
{
	/* events first, then their base */
	talloc_free_children(d);
	if (d->base)
		event_base_free(d->base);
	return 0;
}

static unsigned hexval(const char *s)
{
	return (unsigned)strtoul(s, NULL, 16);
}

int smdpd_start(void *ctx, const struct smdp_config *cfg, struct smdpd **out)
{
	struct smdpd *d = talloc_zero(ctx, struct smdpd);
	struct smsr_http_client_cfg hc = {.max_inflight = 64, .timeout_ms = 10000, .log_cat = DSOAP};
	struct smsr_https_tls tls;
	struct smsr_zlink_cfg zc = {0};
	struct smdp_dl_cfg dc;
	struct smsr_soap_entity self;
	struct smdp_dl_mno *mnos;
	char why[256];
	unsigned i;
	int rc = -EINVAL;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	talloc_set_destructor(d, s_destructor);
	d->cfg = *cfg;
	d->base = event_base_new();
	if (!d->base)
		goto fail;
	rc = smdp_db_open(d, cfg->db_path, cfg->db_map_size, &d->db);
	if (rc < 0)
		goto fail;
	rc = ota_wrap_master_load(d, cfg->master_key_file, &d->master);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot load the master key %s: %s", cfg->master_key_file, proto_strerror(rc));
		goto fail;
	}
	rc = ota_eckey_load_pem(d, cfg->dp_ecdsa_key_file, &d->sk_dp);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot load SK.DP.ECDSA %s: %s", cfg->dp_ecdsa_key_file, proto_strerror(rc));
		goto fail;
	}
	rc = smdpd_load_gpcert(d, cfg->dp_ecdsa_cert_file, &d->cert_dp, &d->cert_dp_len);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot load CERT.DP.ECDSA %s: %s", cfg->dp_ecdsa_cert_file,
		     proto_strerror(rc));
		goto fail;
	}
	rc = smdpd_load_eum(d, cfg->eum_cert_file, cfg->ci_cert_file, &d->pk_eum, why, sizeof(why));
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "%s", why);
		goto fail;
	}
	zc.endpoint = cfg->es3_endpoint;
	zc.name = cfg->es3_name;
	zc.public_key = cfg->es3_public_key;
	zc.secret_key_file = cfg->es3_secret_key_file;
	zc.server_key = cfg->es3_smsr_key;
	zc.resend_ms = cfg->es3_resend_ms;
	zc.timeout_ms = cfg->es3_timeout_ms;
	zc.max_inflight = (unsigned)cfg->es3_max_inflight;
	zc.hwm = (int)cfg->es3_hwm;
	zc.max_body = cfg->max_body;
	rc = smsr_zlink_new(d, d->base, &zc, on_es3_request, d, &d->es3);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "[es3] endpoint %s: %s", cfg->es3_endpoint, proto_strerror(rc));
		goto fail;
	}
	hc.tls_cert = cfg->tls_cert;
	hc.tls_key = cfg->tls_key;
	hc.tls_ca = cfg->tls_ca;
	rc = smsr_http_client_new(d, d->base, &hc, &d->http);
	if (rc < 0)
		goto fail;
	self.address = talloc_asprintf(d, "https://%s/es2", cfg->es2_listen);
	self.entity_id = d->cfg.entity_id;
	self.entity_name = d->cfg.entity_name;
	smdp_dl_cfg_default(&dc);
	dc.smsr_id = d->cfg.smsr_id;
	dc.es8.kvn = (uint8_t)hexval(cfg->kvn);
	dc.es8.scenario = (uint8_t)hexval(cfg->scenario);
	dc.es8.kuq = (uint8_t)hexval(cfg->key_usage);
	dc.es8.segment = (size_t)cfg->segment_size;
	dc.es8.max_data = (size_t)cfg->max_data;
	dc.create_isdp_timeout_ms = cfg->create_isdp_timeout_ms;
	dc.send_data_timeout_ms = cfg->send_data_timeout_ms;
	dc.download_timeout_ms = cfg->download_timeout_ms;
	dc.enable_timeout_ms = cfg->enable_timeout_ms;
	dc.es3_sync_timeout_ms = cfg->es3_timeout_ms;
	dc.max_attempts = (unsigned)cfg->max_attempts;
	dc.max_parallel = (unsigned)cfg->max_parallel;
	mnos = talloc_zero_array(d, struct smdp_dl_mno, cfg->n_requesters + 1);
	for (i = 0; mnos && i < cfg->n_requesters; i++) {
		mnos[i].entity_id = d->cfg.requesters[i].entity_id;
		mnos[i].callback_url = d->cfg.requesters[i].callback_url;
	}
	dc.mnos = mnos;
	dc.n_mnos = cfg->n_requesters;
	rc = smdp_dl_new(
		d, d->base, d->db, &dc, &self, d->sk_dp, d->cert_dp, d->cert_dp_len, d->pk_eum,
		&(struct smdp_dl_profiles){.reserve = reserve, .package = package, .commit = commit, .data = d},
		&(struct smdp_dl_es3){.send = es3_send,
				      .to = "zmq:smsr",
				      .reply_to = talloc_asprintf(d, "zmq:%s", cfg->es3_name),
				      .data = d},
		&(struct smdp_dl_mno_out){.post = mno_post, .data = d}, &d->dl);
	if (rc < 0)
		goto fail;
	rc = smdp_es2_new(d, &self, d->cfg.smsr_id, "zmq:smsr", cfg->max_body, d->dl, lookup, d, es2_es3_send, d,
			  cfg->es3_timeout_ms, d->base, &d->es2);
	if (rc < 0)
		goto fail;
	tls = (struct smsr_https_tls){cfg->tls_cert, cfg->tls_key, cfg->tls_ca};
	rc = smsr_https_new(d, d->base, cfg->es2_listen, &tls, cfg->max_body, on_es2_http, d, &d->https);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot serve ES2 on %s: %s", cfg->es2_listen, proto_strerror(rc));
		goto fail;
	}
	rc = smdp_dl_recover(d->dl);
	if (rc > 0)
		LOGP(DMAIN, LOGL_NOTICE, "%d journalled orders resumed", rc);
	d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_signal, d);
	if (!d->sigterm || !d->sigint || evsignal_add(d->sigterm, NULL) || evsignal_add(d->sigint, NULL)) {
		rc = -ENOMEM;
		goto fail;
	}
	LOGP(DMAIN, LOGL_NOTICE, "smdpd %s: ES2 on https://%s/es2, ES3 to %s as %s", d->cfg.entity_id, cfg->es2_listen,
	     cfg->es3_endpoint, cfg->es3_name);
	*out = d;
	return 0;
fail:
	talloc_free(d);
	return rc < 0 ? rc : -EINVAL;
}

int smdpd_run(struct smdpd *d)
{
	event_base_dispatch(d->base);
	return 0;
}
