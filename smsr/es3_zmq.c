/* ES3 for SM-DPs over ZeroMQ (see es3_zmq.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "smsr/es3_zmq.h"
#include "smsr/smsrd.h"
#include "smsr/es4_server.h"
#include "smsr/logging.h"
#include "smsr/zmq_link.h"
#include "proto/errors.h"

struct smsr_es3_zmq {
	struct smsrd *d;
	struct smsr_zlink *link;
	uint64_t next_id;
};

struct answer {
	struct smsr_es3_zmq *z;
	const char *peer;
	uint64_t msgid;
};

static void on_answer(void *data, int code, const uint8_t *body, size_t len)
{
	struct answer *a = data;
	char action[8];

	snprintf(action, sizeof(action), "%d", code);
	if (smsr_zlink_reply(a->z->link, a->peer, a->msgid, action, body, len) < 0)
		LOGP(DZMQ, LOGL_NOTICE, "ES3 answer to %s could not be queued (the SM-DP will resend)", a->peer);
}

static void on_request(void *data, const char *peer, uint64_t msgid, const char *action, const uint8_t *body,
		       size_t len)
{
	struct smsr_es3_zmq *z = data;
	const struct smsr_cfg_requester *who = smsr_config_requester_by_name(&z->d->cfg, peer);
	struct answer a = {.z = z, .peer = peer, .msgid = msgid};

	if (who && strcmp(who->role, "smdp"))
		who = NULL;
	smsr_es4_handle_msg(z->d->es4srv, who, peer, body, len, on_answer, &a);
}

int smsr_es3_zmq_new(void *ctx, struct smsrd *d, struct smsr_es3_zmq **out)
{
	const struct smsr_config *c = &d->cfg;
	struct smsr_zlink_peer_cfg *peers;
	struct smsr_zlink_cfg lc = {0};
	struct smsr_es3_zmq *z;
	unsigned i, n = 0;
	int rc;

	*out = NULL;
	if (!c->es3_listen[0])
		return 0;
	z = talloc_zero(ctx, struct smsr_es3_zmq);
	peers = z ? talloc_zero_array(z, struct smsr_zlink_peer_cfg, c->n_requesters + 1) : NULL;
	if (!peers) {
		talloc_free(z);
		return -ENOMEM;
	}
	z->d = d;
	/* message ids of this run never collide with a previous run's (late answers are matched by id) */
	z->next_id = (uint64_t)time(NULL) << 24;
	for (i = 0; i < c->n_requesters; i++)
		if (c->requesters[i].curve_public_key[0]) {
			peers[n].name = c->requesters[i].name;
			peers[n].public_key = c->requesters[i].curve_public_key;
			n++;
		}
	lc.endpoint = c->es3_listen;
	lc.server = true;
	lc.public_key = c->es3_public_key;
	lc.secret_key_file = c->es3_secret_key_file;
	lc.peers = peers;
	lc.n_peers = n;
	lc.resend_ms = c->es3_resend_ms;
	lc.timeout_ms = c->es3_timeout_ms;
	lc.max_inflight = (unsigned)c->es3_max_inflight;
	lc.hwm = (int)c->es3_hwm;
	lc.max_body = c->max_body;
	rc = smsr_zlink_new(z, d->base, &lc, on_request, z, &z->link);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_ERROR, "[es3] zmq-listen %s: %s", c->es3_listen, proto_strerror(rc));
		talloc_free(z);
		return rc;
	}
	LOGP(DMAIN, LOGL_NOTICE, "ES3 over ZeroMQ on %s (%u SM-DP key%s)", c->es3_listen, n, n == 1 ? "" : "s");
	*out = z;
	return 0;
}

struct post {
	smsr_es3_zmq_done_cb done;
	void *data;
};

static void on_posted(void *data, int rc, const char *action, const uint8_t *body, size_t len)
{
	struct post *p = data;

	/* the SM-DP acknowledges with "200" once it journalled the result */
	if (rc == 0 && (!action || strcmp(action, "200")))
		rc = -EPROTO;
	p->done(p->data, rc);
	talloc_free(p);
}

int smsr_es3_zmq_post(struct smsr_es3_zmq *z, const char *url, const char *action, const uint8_t *body, size_t len,
		      smsr_es3_zmq_done_cb done, void *data)
{
	struct post *p;
	int rc;

	if (!z || strncmp(url, "zmq:", 4))
		return -EINVAL;
	p = talloc_zero(z, struct post);
	if (!p)
		return -ENOMEM;
	p->done = done;
	p->data = data;
	rc = smsr_zlink_request(z->link, url + 4, ++z->next_id, action, body, len, on_posted, p);
	if (rc < 0)
		talloc_free(p);
	return rc;
}
