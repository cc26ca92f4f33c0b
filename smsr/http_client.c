/* Asynchronous HTTP(S) client: libcurl multi driven by libevent socket and timer events, a request queue, a cap on
 * requests in flight and throughput pacing (see http_client.h). libcurl errors are mapped to errno values here and
 * nowhere else. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/queue.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "smsr/http_client.h"
#include "smsr/logging.h"

struct req {
	TAILQ_ENTRY(req) entry;		/* in one of the client's lists, see where */
	struct smsr_http_client *c;
	bool post;
	char *url;
	struct curl_slist *hdrs;
	uint8_t *body;			/* POST body (talloc child) */
	size_t len;
	CURL *easy;			/* while in flight */
	char *resp;			/* response body, NUL-terminated, at most SMSR_HTTP_BODY_MAX + 1 allocated */
	size_t resp_len;
	int rc;				/* failure found before starting (done list) */
	char err[CURL_ERROR_SIZE];	/* libcurl's detail for the log */
	smsr_http_done_cb done;
	void *data;
};

/* one socket libcurl asked us to watch */
struct sock_ev {
	struct event *ev;
};

TAILQ_HEAD(req_list, req);

struct smsr_http_client {
	struct event_base *base;
	struct smsr_http_client_cfg cfg;
	CURLM *multi;
	struct event *timer;		/* libcurl's timeout */
	struct event *pace;		/* throughput pacing */
	struct event *later;		/* completes the failed list from the loop */
	struct req_list queue;		/* waiting to start */
	struct req_list running;	/* in flight */
	struct req_list failed;		/* could not start, callback pending */
	unsigned queued, inflight, nfailed;
	double next_slot_ms;		/* earliest start of the next request when paced */
	bool *freed;			/* set by the destructor while a callback runs */
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ---- errors and logging ---------------------------------------------------------------------------------------- */

static int map_curl_error(CURLcode res, long os_errno)
{
	switch (res) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH || os_errno == EADDRNOTAVAIL)
			return -EHOSTUNREACH;
		if (os_errno == ETIMEDOUT)
			return -ETIMEDOUT;
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* scheme://host[:port]/path of url for the log: no user info, query or fragment */
static void log_url(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://"), *host, *at, *end;

	if (!p) {
		snprintf(out, cap, "(bad url)");
		return;
	}
	host = p + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	end = host + strcspn(host, "?#");
	snprintf(out, cap, "%.*s%.*s", (int)(p + 3 - url), url, (int)(end - host), host);
}

static void log_failure(struct smsr_http_client *c, struct req *r, int rc, CURLcode res)
{
	char u[256];

	if (!smsr_log_enabled(c->cfg.log_cat, LOGL_NOTICE))
		return;
	log_url(r->url, u, sizeof(u));
	smsr_log(c->cfg.log_cat, LOGL_NOTICE, NULL, "%s %s: %s (%s%s%s)", r->post ? "POST" : "GET", u, strerror(-rc),
		 curl_easy_strerror(res), r->err[0] ? ": " : "", r->err);
}

/* ---- completion -------------------------------------------------------------------------------------------------- */

static void dispatch(struct smsr_http_client *c);

/* Call r's callback and free r (already off every list and out of libcurl). false if the callback freed c. */
static bool complete(struct smsr_http_client *c, struct req *r, int rc, long code)
{
	bool freed = false, *outer = c->freed;

	/* r must survive c being freed by the callback */
	talloc_steal(NULL, r);
	c->freed = &freed;
	if (rc < 0)
		r->done(r->data, rc, 0, "", 0);
	else
		r->done(r->data, 0, code, r->resp ? r->resp : "", r->resp ? r->resp_len : 0);
	talloc_free(r);
	if (freed) {
		if (outer)
			*outer = true;
		return false;
	}
	c->freed = outer;
	return true;
}

static void finish(struct smsr_http_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result;
		struct req *r;
		long code = 0, os_errno = 0;
		int rc;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
		rc = map_curl_error(res, os_errno);
		if (rc < 0)
			log_failure(c, r, rc, res);
		curl_multi_remove_handle(c->multi, easy);
		curl_easy_cleanup(easy);
		r->easy = NULL;
		TAILQ_REMOVE(&c->running, r, entry);
		c->inflight--;
		if (!complete(c, r, rc, code))
			return;
	}
	dispatch(c);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_http_client *c = arg;
	struct req *r;

	while ((r = TAILQ_FIRST(&c->failed))) {
		TAILQ_REMOVE(&c->failed, r, entry);
		c->nfailed--;
		if (!complete(c, r, r->rc, 0))
			return;
	}
	dispatch(c);
}

/* r could not be started: its callback runs from the loop */
static void fail_later(struct smsr_http_client *c, struct req *r, int rc)
{
	r->rc = rc;
	TAILQ_INSERT_TAIL(&c->failed, r, entry);
	c->nfailed++;
	event_active(c->later, EV_TIMEOUT, 0);
}

/* ---- libcurl on libevent ----------------------------------------------------------------------------------------- */

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_http_client *c = arg;
	int running, flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(c->multi, fd, flags, &running);
	finish(c);
}

static int sock_ev_destructor(struct sock_ev *se)
{
	if (se->ev)
		event_free(se->ev);
	return 0;
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct smsr_http_client *c = arg;
	struct sock_ev *se = sockp;

	if (what == CURL_POLL_REMOVE) {
		talloc_free(se);
		curl_multi_assign(c->multi, s, NULL);
		return 0;
	}
	if (!se) {
		se = talloc_zero(c, struct sock_ev);
		if (!se)
			return -1;
		talloc_set_destructor(se, sock_ev_destructor);
		curl_multi_assign(c->multi, s, se);
	} else {
		event_free(se->ev);
	}
	se->ev = event_new(c->base, s,
			   (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST,
			   on_sock_event, c);
	return se->ev ? event_add(se->ev, NULL) : -1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_http_client *c = arg;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	finish(c);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct smsr_http_client *c = arg;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (timeout_ms < 0)
		return evtimer_del(c->timer);
	return evtimer_add(c->timer, &tv);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n, room = SMSR_HTTP_BODY_MAX - r->resp_len, take = len < room ? len : room;

	if (!take)
		return len;
	if (!r->resp || talloc_get_size(r->resp) < r->resp_len + take + 1) {
		size_t sz = r->resp ? talloc_get_size(r->resp) : 1024;
		char *nr;

		while (sz < r->resp_len + take + 1)
			sz *= 2;
		if (sz > SMSR_HTTP_BODY_MAX + 1)
			sz = SMSR_HTTP_BODY_MAX + 1;
		nr = talloc_realloc_size(r, r->resp, sz);
		if (!nr)
			return 0;	/* CURLE_WRITE_ERROR */
		r->resp = nr;
	}
	memcpy(r->resp + r->resp_len, p, take);
	r->resp_len += take;
	r->resp[r->resp_len] = '\0';
	return len;
}

static int setup_easy(struct smsr_http_client *c, struct req *r)
{
	const struct smsr_http_client_cfg *cfg = &c->cfg;
	CURL *e = curl_easy_init();
	CURLcode res = CURLE_OK;

	if (!e)
		return -ENOMEM;
#define SET(opt, val) do { if (res == CURLE_OK) res = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, r->url);
	SET(CURLOPT_PRIVATE, r);
	SET(CURLOPT_ERRORBUFFER, r->err);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, r);
	SET(CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->tls_ca) {
		SET(CURLOPT_CAINFO, cfg->tls_ca);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (cfg->tls_cert) {
		SET(CURLOPT_SSLCERT, cfg->tls_cert);
		SET(CURLOPT_SSLKEY, cfg->tls_key);
	}
	if (r->hdrs)
		SET(CURLOPT_HTTPHEADER, r->hdrs);
	if (r->post) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	}
#undef SET
	if (res != CURLE_OK) {
		curl_easy_cleanup(e);
		return res == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	r->easy = e;
	return 0;
}

static void dispatch(struct smsr_http_client *c)
{
	struct req *r;
	int rc;

	while ((r = TAILQ_FIRST(&c->queue)) && c->inflight < c->cfg.max_inflight) {
		if (c->cfg.throughput) {
			double t = now_ms();

			if (t < c->next_slot_ms) {
				double wait = c->next_slot_ms - t;
				struct timeval tv = { (long)(wait / 1000), (long)((long)wait % 1000) * 1000 + 1000 };

				evtimer_add(c->pace, &tv);
				return;
			}
			/* after an idle second, start a new schedule instead of bursting to catch up */
			if (t - c->next_slot_ms > 1000.0)
				c->next_slot_ms = t;
			c->next_slot_ms += 1000.0 / c->cfg.throughput;
		}
		TAILQ_REMOVE(&c->queue, r, entry);
		c->queued--;
		rc = setup_easy(c, r);
		if (rc == 0 && curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			rc = -ENOMEM;
		}
		if (rc < 0) {
			log_failure(c, r, rc, CURLE_FAILED_INIT);
			fail_later(c, r, rc);
			continue;
		}
		TAILQ_INSERT_TAIL(&c->running, r, entry);
		c->inflight++;
	}
}

static void on_pace(evutil_socket_t fd, short what, void *arg)
{
	dispatch(arg);
}

/* ---- public ------------------------------------------------------------------------------------------------------ */

static int req_destructor(struct req *r)
{
	if (r->easy) {
		curl_multi_remove_handle(r->c->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->hdrs);
	return 0;
}

static void free_list(struct req_list *l)
{
	struct req *r;

	while ((r = TAILQ_FIRST(l))) {
		TAILQ_REMOVE(l, r, entry);
		talloc_free(r);
	}
}

static int client_destructor(struct smsr_http_client *c)
{
	if (c->freed)
		*c->freed = true;
	/* requests first: their easy handles leave the multi handle before it goes */
	free_list(&c->queue);
	free_list(&c->running);
	free_list(&c->failed);
	if (c->multi)
		curl_multi_cleanup(c->multi);	/* remaining struct sock_ev are talloc children, freed after */
	if (c->timer)
		event_free(c->timer);
	if (c->pace)
		event_free(c->pace);
	if (c->later)
		event_free(c->later);
	return 0;
}

int smsr_http_client_new(void *ctx, struct event_base *base, const struct smsr_http_client_cfg *cfg,
			 struct smsr_http_client **out)
{
	struct smsr_http_client *c;

	*out = NULL;
	if (!base || !cfg || !cfg->tls_cert != !cfg->tls_key)
		return -EINVAL;
	c = talloc_zero(ctx, struct smsr_http_client);
	if (!c)
		return -ENOMEM;
	c->base = base;
	c->cfg = *cfg;
	if (!c->cfg.max_inflight)
		c->cfg.max_inflight = 32;
	if (!c->cfg.timeout_ms)
		c->cfg.timeout_ms = 10000;
	TAILQ_INIT(&c->queue);
	TAILQ_INIT(&c->running);
	TAILQ_INIT(&c->failed);
	talloc_set_destructor(c, client_destructor);
	c->cfg.tls_cert = cfg->tls_cert ? talloc_strdup(c, cfg->tls_cert) : NULL;
	c->cfg.tls_key = cfg->tls_key ? talloc_strdup(c, cfg->tls_key) : NULL;
	c->cfg.tls_ca = cfg->tls_ca ? talloc_strdup(c, cfg->tls_ca) : NULL;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	c->pace = evtimer_new(base, on_pace, c);
	c->later = evtimer_new(base, on_later, c);
	if (!c->multi || !c->timer || !c->pace || !c->later || (cfg->tls_cert && !c->cfg.tls_cert) ||
	    (cfg->tls_key && !c->cfg.tls_key) || (cfg->tls_ca && !c->cfg.tls_ca)) {
		talloc_free(c);
		return -ENOMEM;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*out = c;
	return 0;
}

static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	return colon && colon != h && !strpbrk(h, "\r\n");
}

int smsr_http_request(struct smsr_http_client *c, const char *method, const char *url, const char *const *headers,
		      const void *body, size_t len, smsr_http_done_cb done, void *data)
{
	bool post, expect = false;
	struct req *r;
	size_t i;

	if (!method || !url || !done || (len && !body))
		return -EINVAL;
	if (!strcmp(method, "POST"))
		post = true;
	else if (!strcmp(method, "GET") && !len)
		post = false;
	else
		return -EINVAL;
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
		return -EINVAL;
	for (i = 0; headers && headers[i]; i++) {
		if (!header_ok(headers[i]))
			return -EINVAL;
		expect |= !strncasecmp(headers[i], "Expect:", 7);
	}
	r = talloc_zero(c, struct req);
	if (!r)
		return -ENOMEM;
	r->c = c;
	r->post = post;
	r->done = done;
	r->data = data;
	talloc_set_destructor(r, req_destructor);
	r->url = talloc_strdup(r, url);
	if (!r->url)
		goto nomem;
	if (post && len) {
		r->body = talloc_memdup(r, body, len);
		if (!r->body)
			goto nomem;
		r->len = len;
	}
	for (i = 0; headers && headers[i]; i++) {
		struct curl_slist *l = curl_slist_append(r->hdrs, headers[i]);

		if (!l)
			goto nomem;
		r->hdrs = l;
	}
	/* no "Expect: 100-continue" round trip for larger bodies unless the caller asks for it */
	if (post && !expect) {
		struct curl_slist *l = curl_slist_append(r->hdrs, "Expect:");

		if (!l)
			goto nomem;
		r->hdrs = l;
	}
	TAILQ_INSERT_TAIL(&c->queue, r, entry);
	c->queued++;
	dispatch(c);
	return 0;
nomem:
	talloc_free(r);
	return -ENOMEM;
}

unsigned smsr_http_client_pending(const struct smsr_http_client *c)
{
	return c->queued + c->inflight + c->nfailed;
}
