/* Reliable request/response over ZeroMQ with CURVE, on libevent (see zmq_link.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <talloc.h>
#include <zmq.h>
#include <event2/event.h>
#include "smsr/zmq_link.h"
#include "smsr/logging.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define N_FRAMES 5
#define TICK_MS 100

struct pending {
	TAILQ_ENTRY(pending) entry;
	char *peer; /* "" on a client */
	uint64_t msgid;
	char *action;
	uint8_t *body;
	size_t len;
	int64_t next_ms; /* next (re)send */
	int64_t deadline_ms;
	bool sent; /* handed to ZeroMQ at least once */
	smsr_zlink_done_cb done;
	void *data;
};

struct smsr_zlink {
	struct smsr_zlink_cfg cfg;
	struct smsr_zlink_peer_cfg *peers;
	void *zctx, *sock, *zap;
	struct event *ev_sock, *ev_zap, *tick, *drain;
	smsr_zlink_req_cb on_req;
	void *data;
	smsr_zlink_room_cb room_cb;
	void *room_data;
	TAILQ_HEAD(pending_q, pending) pending;
	unsigned n_pending;
	bool was_full;
	int port;
	struct smsr_zlink_stats st;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_u64(uint8_t b[8], uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t b[8])
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* ZeroMQ's descriptor is edge-triggered: after anything that may have changed its state, look again */
static void kick(struct smsr_zlink *l)
{
	event_active(l->drain, EV_TIMEOUT, 0);
}

/* ---- sending ------------------------------------------------------------------------------------------------ */

/* one message: [peer] version kind msgid action body. 0, -EAGAIN (HWM), -EHOSTUNREACH (server: not connected) */
static int send_msg(struct smsr_zlink *l, const char *peer, const char *kind, uint64_t msgid, const char *action,
		    const uint8_t *body, size_t len)
{
	uint8_t id[8];
	int rc = 0;

	put_u64(id, msgid);
	if (l->cfg.server && zmq_send(l->sock, peer, strlen(peer), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = -errno;
	if (!rc && zmq_send(l->sock, SMSR_ZLINK_VERSION, strlen(SMSR_ZLINK_VERSION), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = -errno;
	if (!rc && zmq_send(l->sock, kind, strlen(kind), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = -errno;
	if (!rc && zmq_send(l->sock, id, sizeof(id), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = -errno;
	if (!rc && zmq_send(l->sock, action, strlen(action), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		rc = -errno;
	if (!rc && zmq_send(l->sock, body, len, ZMQ_DONTWAIT) < 0)
		rc = -errno;
	kick(l);
	/* a multipart message is atomic: a failure on the first frame sent nothing */
	return rc;
}

static void try_send(struct smsr_zlink *l, struct pending *p, int64_t now)
{
	int rc = send_msg(l, p->peer, "req", p->msgid, p->action, p->body, p->len);

	p->next_ms = now + (rc ? TICK_MS * 5 : l->cfg.resend_ms);
	if (rc == 0) {
		if (p->sent)
			l->st.resent++;
		else
			l->st.sent++;
		p->sent = true;
	} else if (rc != -EAGAIN && rc != -EHOSTUNREACH) {
		LOGP(DZMQ, LOGL_NOTICE, "request %llu to %s not sent: %s", (unsigned long long)p->msgid,
		     *p->peer ? p->peer : "the server", zmq_strerror(-rc));
	}
}

static void pending_done(struct smsr_zlink *l, struct pending *p, int rc, const char *action, const uint8_t *body,
			 size_t len)
{
	smsr_zlink_done_cb done = p->done;
	void *data = p->data;

	TAILQ_REMOVE(&l->pending, p, entry);
	l->n_pending--;
	done(data, rc, action, body, len);
	talloc_free(p);
	if (l->was_full && l->n_pending < l->cfg.max_inflight) {
		l->was_full = false;
		if (l->room_cb)
			l->room_cb(l->room_data);
	}
}

int smsr_zlink_request(struct smsr_zlink *l, const char *peer, uint64_t msgid, const char *action, const uint8_t *body,
		       size_t len, smsr_zlink_done_cb done, void *data)
{
	struct pending *p;

	if (!done || !action || (l->cfg.server && (!peer || !*peer)))
		return -EINVAL;
	if (len > l->cfg.max_body)
		return -EMSGSIZE;
	if (l->n_pending >= l->cfg.max_inflight) {
		l->was_full = true;
		return -EAGAIN;
	}
	p = talloc_zero(l, struct pending);
	if (!p || !(p->peer = talloc_strdup(p, l->cfg.server ? peer : "")) || !(p->action = talloc_strdup(p, action)) ||
	    !(p->body = talloc_memdup(p, len ? body : (const uint8_t *)"", len ? len : 1))) {
		talloc_free(p);
		return -ENOMEM;
	}
	p->msgid = msgid;
	p->len = len;
	p->done = done;
	p->data = data;
	p->deadline_ms = now_ms() + l->cfg.timeout_ms;
	TAILQ_INSERT_TAIL(&l->pending, p, entry);
	l->n_pending++;
	/* sent from the event loop: done never runs inside this call */
	p->next_ms = 0;
	kick(l);
	return 0;
}

int smsr_zlink_reply(struct smsr_zlink *l, const char *peer, uint64_t msgid, const char *status, const uint8_t *body,
		     size_t len)
{
	int rc = send_msg(l, l->cfg.server ? peer : "", "rsp", msgid, status, body, len);

	if (rc == 0)
		l->st.replies++;
	return rc;
}

unsigned smsr_zlink_inflight(const struct smsr_zlink *l)
{
	return l->n_pending;
}

void smsr_zlink_set_room_cb(struct smsr_zlink *l, smsr_zlink_room_cb cb, void *data)
{
	l->room_cb = cb;
	l->room_data = data;
}

/* ---- receiving ---------------------------------------------------------------------------------------------- */

/* read the remaining frames of a message and drop them */
static void skip_rest(void *sock)
{
	int more = 1;
	size_t sz = sizeof(more);
	zmq_msg_t m;

	while (more && zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			break;
		}
		zmq_msg_close(&m);
	}
}

static void on_message(struct smsr_zlink *l, zmq_msg_t *f, unsigned n, const char *peer)
{
	char kind[4], action[256];
	uint64_t msgid;
	struct pending *p;
	size_t alen;

	if (n != N_FRAMES || zmq_msg_size(&f[0]) != strlen(SMSR_ZLINK_VERSION) ||
	    memcmp(zmq_msg_data(&f[0]), SMSR_ZLINK_VERSION, strlen(SMSR_ZLINK_VERSION)) || zmq_msg_size(&f[1]) != 3 ||
	    zmq_msg_size(&f[2]) != 8 || (alen = zmq_msg_size(&f[3])) >= sizeof(action) ||
	    zmq_msg_size(&f[4]) > l->cfg.max_body) {
		l->st.dropped++;
		LOGP(DZMQ, LOGL_NOTICE, "message from %s dropped: not an %s message (%u frames)",
		     *peer ? peer : "server", SMSR_ZLINK_VERSION, n);
		return;
	}
	memcpy(kind, zmq_msg_data(&f[1]), 3);
	kind[3] = '\0';
	msgid = get_u64(zmq_msg_data(&f[2]));
	memcpy(action, zmq_msg_data(&f[3]), alen);
	action[alen] = '\0';
	if (memchr(action, 0, alen)) {
		l->st.dropped++;
		return;
	}
	l->st.received++;
	if (!strcmp(kind, "req")) {
		l->on_req(l->data, peer, msgid, action, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
		return;
	}
	if (strcmp(kind, "rsp")) {
		l->st.dropped++;
		LOGP(DZMQ, LOGL_NOTICE, "message of kind '%s' from %s dropped", kind, *peer ? peer : "server");
		return;
	}
	TAILQ_FOREACH(p, &l->pending, entry)
	if (p->msgid == msgid && !strcmp(p->peer, peer)) {
		pending_done(l, p, 0, action, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
		return;
	}
	LOGP(DZMQ, LOGL_DEBUG, "response %llu from %s matches no request (answered before)", (unsigned long long)msgid,
	     *peer ? peer : "server");
}

static void read_all(struct smsr_zlink *l)
{
	for (;;) {
		zmq_msg_t f[N_FRAMES + 1];
		char peer[256] = "";
		unsigned n = 0, i;
		int more = 1;
		size_t sz = sizeof(more);
		bool bad = false;

		zmq_msg_init(&f[0]);
		if (zmq_msg_recv(&f[0], l->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[0]);
			return;
		}
		if (l->cfg.server) {
			/* the routing frame: it must be the name the CURVE key was admitted under (the User-Id ZAP
			 * gave, carried by the message's own frames) */
			size_t rl = zmq_msg_size(&f[0]);
			if (rl >= sizeof(peer) || !rl) {
				bad = true;
			} else {
				memcpy(peer, zmq_msg_data(&f[0]), rl);
				peer[rl] = '\0';
			}
			zmq_msg_close(&f[0]);
			n = 0;
		} else {
			n = 1;
		}
		while (n <= N_FRAMES && zmq_getsockopt(l->sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
			zmq_msg_init(&f[n]);
			if (zmq_msg_recv(&f[n], l->sock, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&f[n]);
				break;
			}
			n++;
		}
		if (l->cfg.server && !bad) {
			const char *uid = n ? zmq_msg_gets(&f[0], "User-Id") : NULL;
			if (!uid || strcmp(uid, peer)) {
				LOGP(DZMQ, LOGL_NOTICE, "message from routing id '%s' authenticated as '%s', dropped",
				     peer, uid ? uid : "nobody");
				bad = true;
			}
		}
		if (n > N_FRAMES)
			skip_rest(l->sock);
		if (!bad)
			on_message(l, f, n > N_FRAMES ? N_FRAMES + 1 : n, peer);
		else
			l->st.dropped++;
		for (i = 0; i < n && i <= N_FRAMES; i++)
			zmq_msg_close(&f[i]);
	}
}

/* ---- ZAP: which CURVE keys may connect (RFC 27), answered on the event loop ----------------------------------- */

static void zap_serve(struct smsr_zlink *l)
{
	for (;;) {
		zmq_msg_t f[8];
		unsigned n = 0, i;
		int more = 1;
		size_t sz = sizeof(more);
		const char *user = NULL;
		char key[41] = "";

		zmq_msg_init(&f[0]);
		if (zmq_msg_recv(&f[0], l->zap, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&f[0]);
			return;
		}
		n = 1;
		while (n < 8 && zmq_getsockopt(l->zap, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
			zmq_msg_init(&f[n]);
			if (zmq_msg_recv(&f[n], l->zap, ZMQ_DONTWAIT) < 0) {
				zmq_msg_close(&f[n]);
				break;
			}
			n++;
		}
		skip_rest(l->zap);
		/* version, request id, domain, address, identity, mechanism, credentials (the 32-byte client key) */
		if (n == 7 && zmq_msg_size(&f[5]) == 5 && !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
		    zmq_msg_size(&f[6]) == 32 && zmq_z85_encode(key, zmq_msg_data(&f[6]), 32)) {
			for (i = 0; i < l->cfg.n_peers; i++)
				if (!strcmp(l->peers[i].public_key, key))
					user = l->peers[i].name;
		}
		if (!user) {
			l->st.refused_auth++;
			LOGP(DZMQ, LOGL_NOTICE, "ES3 connection with an unknown CURVE key %s refused",
			     key[0] ? key : "(none)");
		}
		if (n >= 2) {
			zmq_send(l->zap, "1.0", 3, ZMQ_SNDMORE);
			zmq_send(l->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
			zmq_send(l->zap, user ? "200" : "400", 3, ZMQ_SNDMORE);
			zmq_send(l->zap, user ? "OK" : "unknown key", user ? 2 : 11, ZMQ_SNDMORE);
			zmq_send(l->zap, user ? user : "", user ? strlen(user) : 0, ZMQ_SNDMORE);
			zmq_send(l->zap, "", 0, 0);
		}
		for (i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
	}
}

/* ---- event loop --------------------------------------------------------------------------------------------- */

static void service(struct smsr_zlink *l)
{
	int ev;
	size_t sz;
	unsigned rounds;

	for (rounds = 0; rounds < 64; rounds++) {
		bool busy = false;
		sz = sizeof(ev);
		if (l->zap && zmq_getsockopt(l->zap, ZMQ_EVENTS, &ev, &sz) == 0 && (ev & ZMQ_POLLIN)) {
			zap_serve(l);
			busy = true;
		}
		sz = sizeof(ev);
		if (zmq_getsockopt(l->sock, ZMQ_EVENTS, &ev, &sz) == 0 && (ev & ZMQ_POLLIN)) {
			read_all(l);
			busy = true;
		}
		if (!busy)
			break;
	}
}

static void resend_due(struct smsr_zlink *l)
{
	int64_t now = now_ms();
	struct pending *p, *next;

	for (p = TAILQ_FIRST(&l->pending); p; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (now >= p->deadline_ms) {
			LOGP(DZMQ, LOGL_NOTICE, "request %llu to %s: no response in time", (unsigned long long)p->msgid,
			     *p->peer ? p->peer : "the server");
			pending_done(l, p, -ETIMEDOUT, NULL, NULL, 0);
			continue;
		}
		if (now >= p->next_ms)
			try_send(l, p, now);
	}
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
	service(arg);
}

/* after any send or new request: read what came in, and send the new requests (appended at the tail with
 * next_ms 0); the periodic tick does the resend scan over every pending request */
static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_zlink *l = arg;
	struct pending *p, *first = NULL;
	int64_t now = now_ms();

	for (p = TAILQ_LAST(&l->pending, pending_q); p && !p->next_ms; p = TAILQ_PREV(p, pending_q, entry))
		first = p;
	for (p = first; p; p = TAILQ_NEXT(p, entry))
		try_send(l, p, now);
	service(l);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_zlink *l = arg;

	resend_due(l);
	service(l);
}

/* ---- setup -------------------------------------------------------------------------------------------------- */

static int s_destructor(struct smsr_zlink *l)
{
	if (l->ev_sock)
		event_free(l->ev_sock);
	if (l->ev_zap)
		event_free(l->ev_zap);
	if (l->tick)
		event_free(l->tick);
	if (l->drain)
		event_free(l->drain);
	if (l->sock)
		zmq_close(l->sock);
	if (l->zap)
		zmq_close(l->zap);
	if (l->zctx)
		zmq_ctx_term(l->zctx);
	return 0;
}

static bool z85_key(const char *k)
{
	uint8_t bin[32];

	return k && strlen(k) == 40 && zmq_z85_decode(bin, k) != NULL;
}

static int setopt(void *s, int opt, const void *v, size_t len)
{
	return zmq_setsockopt(s, opt, v, len) == 0 ? 0 : -EINVAL;
}

static int setint(void *s, int opt, int v)
{
	return setopt(s, opt, &v, sizeof(v));
}

static struct event *fd_event(struct smsr_zlink *l, void *sock)
{
	int fd;
	size_t sz = sizeof(fd);

	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) < 0)
		return NULL;
	return event_new(event_get_base(l->drain), fd, EV_READ | EV_PERSIST, on_fd, l);
}

static int link_new(void *ctx, struct event_base *base, const struct smsr_zlink_cfg *cfg, smsr_zlink_req_cb on_req,
		    void *data, struct smsr_zlink **out);

/* the CURVE secret key from its file: one line of 40 Z85 characters, no group or other permissions */
static int load_secret(const char *path, char out[41])
{
	char line[64] = "";
	struct stat st;
	FILE *f = fopen(path, "r");
	int rc = -EINVAL;

	if (!f)
		return -ENOENT;
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & 077)) {
		LOGP(DZMQ, LOGL_ERROR, "CURVE secret key file %s: readable by group or others (chmod 600)", path);
		rc = -EPERM;
	} else if (fgets(line, sizeof(line), f) && (line[strcspn(line, "\r\n")] = '\0', strlen(line) == 40)) {
		memcpy(out, line, 41);
		rc = 0;
	}
	fclose(f);
	memset(line, 0, sizeof(line));
	return rc;
}

int smsr_zlink_new(void *ctx, struct event_base *base, const struct smsr_zlink_cfg *cfg, smsr_zlink_req_cb on_req,
		   void *data, struct smsr_zlink **out)
{
	char secret[41] = "";
	int rc;

	*out = NULL;
	if (!cfg->secret_key && cfg->secret_key_file) {
		struct smsr_zlink_cfg c = *cfg;
		rc = load_secret(cfg->secret_key_file, secret);
		if (rc < 0) {
			LOGP(DZMQ, LOGL_ERROR, "CURVE secret key file %s: no 40-character Z85 key (%s)",
			     cfg->secret_key_file, strerror(-rc));
			return rc;
		}
		c.secret_key = secret;
		c.secret_key_file = NULL;
		rc = smsr_zlink_new(ctx, base, &c, on_req, data, out);
		memset(secret, 0, sizeof(secret));
		return rc;
	}
	return link_new(ctx, base, cfg, on_req, data, out);
}

static int link_new(void *ctx, struct event_base *base, const struct smsr_zlink_cfg *cfg, smsr_zlink_req_cb on_req,
		    void *data, struct smsr_zlink **out)
{
	struct smsr_zlink *l;
	struct timeval tick = {0, TICK_MS * 1000};
	unsigned i;
	int rc = -EINVAL;

	*out = NULL;
	if (!cfg->endpoint || !on_req || !z85_key(cfg->public_key) || !z85_key(cfg->secret_key) ||
	    (!cfg->server && (!z85_key(cfg->server_key) || !cfg->name || !*cfg->name || strlen(cfg->name) > 255)))
		return -EINVAL;
	for (i = 0; cfg->server && i < cfg->n_peers; i++)
		if (!z85_key(cfg->peers[i].public_key) || !cfg->peers[i].name || !*cfg->peers[i].name)
			return -EINVAL;
	l = talloc_zero(ctx, struct smsr_zlink);
	if (!l)
		return -ENOMEM;
	talloc_set_destructor(l, s_destructor);
	l->cfg = *cfg;
	if (!l->cfg.resend_ms)
		l->cfg.resend_ms = 5000;
	if (!l->cfg.timeout_ms)
		l->cfg.timeout_ms = 600000;
	if (!l->cfg.max_inflight)
		l->cfg.max_inflight = 1000;
	if (!l->cfg.hwm)
		l->cfg.hwm = 10000;
	if (!l->cfg.max_body)
		l->cfg.max_body = 1 << 20;
	l->cfg.peers = NULL;
	l->peers = talloc_zero_array(l, struct smsr_zlink_peer_cfg, cfg->n_peers + 1);
	for (i = 0; l->peers && i < cfg->n_peers; i++) {
		l->peers[i].name = talloc_strdup(l, cfg->peers[i].name);
		l->peers[i].public_key = talloc_strdup(l, cfg->peers[i].public_key);
	}
	l->on_req = on_req;
	l->data = data;
	l->port = -1;
	TAILQ_INIT(&l->pending);
	l->drain = event_new(base, -1, 0, on_drain, l);
	l->tick = event_new(base, -1, EV_PERSIST, on_tick, l);
	l->zctx = zmq_ctx_new();
	if (!l->peers || !l->drain || !l->tick || !l->zctx) {
		rc = -ENOMEM;
		goto fail;
	}
	if (cfg->server) {
		/* the ZAP handler must exist before the first CURVE handshake */
		l->zap = zmq_socket(l->zctx, ZMQ_REP);
		if (!l->zap || zmq_bind(l->zap, ZAP_ENDPOINT) < 0) {
			rc = -EIO;
			goto fail;
		}
		l->sock = zmq_socket(l->zctx, ZMQ_ROUTER);
		if (!l->sock || setint(l->sock, ZMQ_CURVE_SERVER, 1) ||
		    setopt(l->sock, ZMQ_CURVE_SECRETKEY, cfg->secret_key, 40) ||
		    setopt(l->sock, ZMQ_ZAP_DOMAIN, "m2m-sm", 6) || setint(l->sock, ZMQ_ROUTER_MANDATORY, 1))
			goto fail;
	} else {
		l->sock = zmq_socket(l->zctx, ZMQ_DEALER);
		if (!l->sock || setopt(l->sock, ZMQ_CURVE_SERVERKEY, cfg->server_key, 40) ||
		    setopt(l->sock, ZMQ_CURVE_PUBLICKEY, cfg->public_key, 40) ||
		    setopt(l->sock, ZMQ_CURVE_SECRETKEY, cfg->secret_key, 40) ||
		    setopt(l->sock, ZMQ_ROUTING_ID, cfg->name, strlen(cfg->name)) ||
		    setint(l->sock, ZMQ_RECONNECT_IVL, 100) || setint(l->sock, ZMQ_RECONNECT_IVL_MAX, 2000))
			goto fail;
	}
	if (setint(l->sock, ZMQ_SNDHWM, l->cfg.hwm) || setint(l->sock, ZMQ_RCVHWM, l->cfg.hwm) ||
	    setint(l->sock, ZMQ_LINGER, 0) ||
	    setopt(l->sock, ZMQ_MAXMSGSIZE, &(int64_t){(int64_t)l->cfg.max_body + 4096}, sizeof(int64_t)))
		goto fail;
	if (cfg->server) {
		char last[256];
		size_t sz = sizeof(last);
		if (zmq_bind(l->sock, cfg->endpoint) < 0) {
			rc = errno == EADDRINUSE ? -EADDRINUSE : -EINVAL;
			goto fail;
		}
		if (zmq_getsockopt(l->sock, ZMQ_LAST_ENDPOINT, last, &sz) == 0 && strrchr(last, ':'))
			l->port = (int)strtol(strrchr(last, ':') + 1, NULL, 10);
	} else if (zmq_connect(l->sock, cfg->endpoint) < 0) {
		goto fail;
	}
	l->ev_sock = fd_event(l, l->sock);
	if (!l->ev_sock || event_add(l->ev_sock, NULL) || event_add(l->tick, &tick)) {
		rc = -EIO;
		goto fail;
	}
	if (l->zap && (!(l->ev_zap = fd_event(l, l->zap)) || event_add(l->ev_zap, NULL))) {
		rc = -EIO;
		goto fail;
	}
	*out = l;
	return 0;
fail:
	talloc_free(l);
	return rc;
}

int smsr_zlink_port(const struct smsr_zlink *l)
{
	return l->port;
}

int smsr_zlink_keypair(char pub[41], char sec[41])
{
	return zmq_curve_keypair(pub, sec) == 0 ? 0 : -EIO;
}

const struct smsr_zlink_stats *smsr_zlink_stats(const struct smsr_zlink *l)
{
	return &l->st;
}
