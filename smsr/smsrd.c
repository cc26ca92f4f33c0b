/* The SM-SR daemon's assembly: store, keystore, listeners, Kannel client and ES5 transport (see smsrd.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "smsr/smsrd.h"
#include "smsr/db.h"
#include "smsr/es4_server.h"
#include "smsr/es4_proc.h"
#include "smsr/es3_zmq.h"
#include "smsr/es5_ota.h"
#include "smsr/es5_script.h"
#include "smsr/https.h"
#include "smsr/kannel.h"
#include "smsr/logging.h"
#include "ota/keystore_wrap.h"
#include "proto/errors.h"
#include "proto/hex.h"

static int smsrd_destructor(struct smsrd *d)
{
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	/* components are talloc children of d and go first; the loop goes last */
	TALLOC_FREE(d->proc);
	TALLOC_FREE(d->ota);
	TALLOC_FREE(d->kannel);
	TALLOC_FREE(d->mo);
	TALLOC_FREE(d->es4);
	if (d->db) {
		unsigned long commits, children;

		smsr_db_group_stats(d->db, &commits, &children);
		if (commits)
			LOGP(DDB, LOGL_NOTICE, "group commit: %lu durable commits carried %lu write transactions",
			     commits, children);
	}
	smsr_db_close(&d->db);
	if (d->base)
		event_base_free(d->base);
	return 0;
}

/* the durable commit of a pass failed: what was done in memory is not in the store; stop, the journal resumes */
static void on_db_fail(void *data, int rc)
{
	(void)data;
	LOGP(DDB, LOGL_FATAL, "store commit failed (%s): stopping so that the journal resumes consistently",
	     proto_strerror(rc));
	abort();
}

/* Kannel's MO and DLR callbacks: answer 200 at once (smsbox retries otherwise) */
static void on_mo_http(struct smsr_https_req *r, void *data)
{
	struct smsrd *d = data;

	if (!strcmp(r->path, "/mo")) {
		struct smsr_kannel_mo mo;
		if (smsr_kannel_mo_parse(r->query, &mo) == 0) {
			smsr_ota_mo(d->ota, &mo);
		} else {
			LOGP(DKANNEL, LOGL_NOTICE, "malformed MO callback from %s dropped", r->peer_addr);
		}
		smsr_https_reply(r, 200, NULL, "", 0, NULL);
	} else if (!strcmp(r->path, "/dlr")) {
		struct smsr_kannel_dlr dlr;
		if (smsr_kannel_dlr_parse(r->query, &dlr) == 0)
			smsr_ota_dlr(d->ota, &dlr);
		smsr_https_reply(r, 200, NULL, "", 0, NULL);
	} else {
		smsr_https_reply(r, 404, "text/plain", "not found\n", 10, NULL);
	}
}

static void on_es4_http(struct smsr_https_req *r, void *data)
{
	struct smsrd *d = data;

	smsr_es4_handle(d->es4srv, r);
}

static void on_notification(void *data, const uint8_t eid[16], const uint8_t *n, size_t len)
{
	struct smsrd *d = data;

	smsr_proc_notification(d->proc, eid, n, len);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct smsrd *d = arg;

	LOGP(DMAIN, LOGL_NOTICE, "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(d->base, NULL);
}

static int hexcfg(const char *s, uint8_t *out, size_t n)
{
	return proto_hex_decode(s, out, n) == (int)n ? 0 : -EINVAL;
}

int smsrd_start(void *ctx, const struct smsr_config *cfg, struct smsrd **out)
{
	struct smsrd *d = talloc_zero(ctx, struct smsrd);
	struct smsr_https_tls tls;
	struct smsr_ota_cfg ocfg = { 0 };
	struct smsr_kannel_cfg kcfg = { 0 };
	int rc;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	talloc_set_destructor(d, smsrd_destructor);
	d->base = event_base_new();
	if (!d->base) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = smsr_db_open(d, cfg->db_path, &(struct smsr_db_cfg){ .map_size = cfg->db_map_size }, &d->db);
	if (rc < 0) {
		LOGP(DDB, LOGL_ERROR, "cannot open the store in %s: %s", cfg->db_path, proto_strerror(rc));
		goto fail;
	}
	if (cfg->db_group_commit && (rc = smsr_db_group_enable(d->db, d->base, on_db_fail, d)) < 0) {
		LOGP(DDB, LOGL_ERROR, "cannot enable group commit: %s", proto_strerror(rc));
		goto fail;
	}
	rc = ota_wrap_master_load(d, cfg->master_key_file, &d->master);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot load the master key %s: %s", cfg->master_key_file, proto_strerror(rc));
		goto fail;
	}
	if (cfg->transport_key_file[0] && (rc = ota_key_load_file(d, cfg->transport_key_file, &d->transport_key)) < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot load the transport key %s: %s", cfg->transport_key_file,
		     proto_strerror(rc));
		goto fail;
	}
	rc = smsr_es4_new(d, d, d->transport_key, &d->es4srv);
	if (rc < 0)
		goto fail;
	tls = (struct smsr_https_tls){ cfg->tls_cert, cfg->tls_key, cfg->tls_ca };
	rc = smsr_https_new(d, d->base, cfg->es4_listen, &tls, cfg->max_body, on_es4_http, d, &d->es4);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot serve ES1/ES4 on %s: %s", cfg->es4_listen, proto_strerror(rc));
		goto fail;
	}
	rc = smsr_https_new(d, d->base, cfg->mo_listen, NULL, 64 * 1024, on_mo_http, d, &d->mo);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "cannot listen for Kannel on %s: %s", cfg->mo_listen, proto_strerror(rc));
		goto fail;
	}
	kcfg.sendsms_url = cfg->sendsms_url;
	kcfg.username = cfg->sendsms_user;
	kcfg.password = cfg->sendsms_password;
	kcfg.from = cfg->sms_address;
	kcfg.smsc_id = cfg->smsc_id;
	kcfg.dlr_base_url = cfg->mo_url;
	kcfg.dlr_mask = (int)cfg->dlr_mask;
	kcfg.max_inflight = (unsigned)cfg->sendsms_parallel;
	kcfg.throughput = (unsigned)cfg->smsc_throughput;
	rc = smsr_kannel_new(d, d->base, &kcfg, &d->kannel);
	if (rc < 0)
		goto fail;
	if (hexcfg(cfg->spi, ocfg.spi, 2) || hexcfg(cfg->kic, &ocfg.kic, 1) || hexcfg(cfg->kid, &ocfg.kid, 1) ||
	    hexcfg(cfg->tar, ocfg.tar, 3)) {
		rc = -EINVAL;
		goto fail;
	}
	ocfg.por_timeout_ms = cfg->por_timeout_ms;
	ocfg.retries = (unsigned)cfg->retries;
	rc = smsr_ota_new(d, d->base, d->db, d->master, d->kannel, &ocfg, on_notification, d, &d->ota);
	if (rc < 0)
		goto fail;
	rc = smsr_proc_new(d, d, &d->proc);
	if (rc < 0)
		goto fail;
	/* ES3 for SM-DPs over ZeroMQ: bound before the recovery, which may resend callbacks to them */
	rc = smsr_es3_zmq_new(d, d, &d->es3z);
	if (rc < 0)
		goto fail;
	rc = smsr_proc_recover(d->proc);
	if (rc > 0)
		LOGP(DMAIN, LOGL_NOTICE, "%d journalled operations resumed", rc);
	d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_signal, d);
	if (!d->sigterm || !d->sigint || evsignal_add(d->sigterm, NULL) || evsignal_add(d->sigint, NULL)) {
		rc = -ENOMEM;
		goto fail;
	}
	LOGP(DMAIN, LOGL_NOTICE, "SM-SR %s up: ES1/ES4 https://%s, Kannel MO/DLR http://%s, store %s",
	     cfg->entity_id, cfg->es4_listen, cfg->mo_listen, cfg->db_path);
	*out = d;
	return 0;
fail:
	talloc_free(d);
	return rc;
}

int smsrd_run(struct smsrd *d)
{
	int rc = event_base_dispatch(d->base);

	LOGP(DMAIN, LOGL_NOTICE, "stopped (%u ES5 exchanges were in flight; the journal keeps them)",
	     smsr_ota_pending(d->ota));
	return rc < 0 ? -EIO : 0;
}

int smsrd_db_check(const struct smsr_config *cfg, FILE *out)
{
	void *ctx = talloc_new(NULL);
	struct smsr_db *db;
	int rc = smsr_db_open(ctx, cfg->db_path, &(struct smsr_db_cfg){ .map_size = cfg->db_map_size }, &db);

	if (rc < 0) {
		fprintf(out, "cannot open the store in %s: %s\n", cfg->db_path, proto_strerror(rc));
	} else {
		rc = smsr_db_check(db, out);
		fprintf(out, "store %s: schema %u, %s\n", cfg->db_path, smsr_db_schema_version(db),
			rc == 0 ? "consistent" : "INCONSISTENT");
	}
	talloc_free(ctx);
	return rc;
}
