/* Kannel sendsms client (libcurl multi on the libevent loop) and MO/DLR callback parsing (see kannel.h).
 * libcurl errors are mapped to enum smsr_kannel_result here and nowhere else. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <talloc.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "smsr/kannel.h"
#include "smsr/logging.h"
#include "proto/errors.h"
#include "proto/hex.h"

/* ---- callback parsing ------------------------------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* form-urldecode s[0..n) into out (cap bytes): '+' -> space, %XX -> byte. Returns the length or -1. */
static int urldecode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
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
		int h = hexval(v[i]), lo = hexval(v[i + 1]);
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

struct job {
	TAILQ_ENTRY(job) entry;
	struct smsr_kannel *k;
	char *url;
	char reply[128];
	size_t reply_len;
	CURL *easy;
	smsr_kannel_done_cb done;
	void *data;
};

struct sock_ev {
	struct event *ev;
};

struct smsr_kannel {
	struct event_base *base;
	struct smsr_kannel_cfg cfg;
	CURLM *multi;
	struct event *timer;		/* libcurl's timeout */
	struct event *pace;		/* throughput pacing */
	TAILQ_HEAD(, job) queue;
	unsigned queued, inflight;
	double next_slot_ms;		/* earliest start of the next request when paced */
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void dispatch(struct smsr_kannel *k);

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n, room = sizeof(j->reply) - 1 - j->reply_len;

	memcpy(j->reply + j->reply_len, p, len < room ? len : room);
	j->reply_len += len < room ? len : room;
	j->reply[j->reply_len] = '\0';
	return len;
}

static void finish(struct smsr_kannel *k)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(k->multi, &left))) {
		struct job *j;
		long code = 0;
		enum smsr_kannel_result res;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (m->data.result != CURLE_OK)
			res = SMSR_KANNEL_UNREACHABLE;
		else if (code >= 200 && code < 300 && (!strncmp(j->reply, "0:", 2) || !strncmp(j->reply, "3:", 2)))
			res = SMSR_KANNEL_ACCEPTED;
		else
			res = SMSR_KANNEL_REJECTED;
		if (res != SMSR_KANNEL_ACCEPTED)
			LOGP(DKANNEL, LOGL_NOTICE, "sendsms %s: HTTP %ld %s",
			     res == SMSR_KANNEL_REJECTED ? "rejected" : "failed", code,
			     res == SMSR_KANNEL_UNREACHABLE ? curl_easy_strerror(m->data.result) : j->reply);
		curl_multi_remove_handle(k->multi, m->easy_handle);
		curl_easy_cleanup(m->easy_handle);
		j->easy = NULL;
		k->inflight--;
		j->done(res, (int)code, j->reply, j->data);
		talloc_free(j);
	}
	dispatch(k);
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_kannel *k = arg;
	int running, flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(k->multi, fd, flags, &running);
	finish(k);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct smsr_kannel *k = arg;
	struct sock_ev *se = sockp;

	if (what == CURL_POLL_REMOVE) {
		if (se) {
			event_free(se->ev);
			free(se);
		}
		curl_multi_assign(k->multi, s, NULL);
		return 0;
	}
	if (!se) {
		se = calloc(1, sizeof(*se));
		if (!se)
			return -1;
		curl_multi_assign(k->multi, s, se);
	} else {
		event_free(se->ev);
	}
	se->ev = event_new(k->base, s,
			   (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST,
			   on_sock_event, k);
	return se->ev ? event_add(se->ev, NULL) : -1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smsr_kannel *k = arg;
	int running;

	curl_multi_socket_action(k->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	finish(k);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct smsr_kannel *k = arg;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (timeout_ms < 0)
		return evtimer_del(k->timer);
	return evtimer_add(k->timer, &tv);
}

static void on_pace(evutil_socket_t fd, short what, void *arg)
{
	dispatch(arg);
}

static void dispatch(struct smsr_kannel *k)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&k->queue)) && k->inflight < k->cfg.max_inflight) {
		if (k->cfg.throughput) {
			double t = now_ms();
			if (t < k->next_slot_ms) {
				double wait = k->next_slot_ms - t;
				struct timeval tv = { (long)(wait / 1000), (long)((long)wait % 1000) * 1000 + 1000 };
				evtimer_add(k->pace, &tv);
				return;
			}
			/* after an idle second, start a new schedule instead of bursting to catch up */
			if (t - k->next_slot_ms > 1000.0)
				k->next_slot_ms = t;
			k->next_slot_ms += 1000.0 / k->cfg.throughput;
		}
		TAILQ_REMOVE(&k->queue, j, entry);
		k->queued--;
		j->easy = curl_easy_init();
		if (!j->easy) {
			j->done(SMSR_KANNEL_UNREACHABLE, 0, "", j->data);
			talloc_free(j);
			continue;
		}
		curl_easy_setopt(j->easy, CURLOPT_URL, j->url);
		curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
		curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
		curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, k->cfg.timeout_ms);
		curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_multi_add_handle(k->multi, j->easy);
		k->inflight++;
	}
}

static int kannel_destructor(struct smsr_kannel *k)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&k->queue))) {
		TAILQ_REMOVE(&k->queue, j, entry);
		talloc_free(j);
	}
	curl_multi_cleanup(k->multi);	/* in-flight jobs are talloc children of k */
	if (k->timer)
		event_free(k->timer);
	if (k->pace)
		event_free(k->pace);
	return 0;
}

static int job_destructor(struct job *j)
{
	if (j->easy) {
		curl_multi_remove_handle(j->k->multi, j->easy);
		curl_easy_cleanup(j->easy);
	}
	return 0;
}

int smsr_kannel_new(void *ctx, struct event_base *base, const struct smsr_kannel_cfg *cfg,
		    struct smsr_kannel **out)
{
	struct smsr_kannel *k = talloc_zero(ctx, struct smsr_kannel);

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->base = base;
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
	TAILQ_INIT(&k->queue);
	k->multi = curl_multi_init();
	k->timer = evtimer_new(base, on_timer, k);
	k->pace = evtimer_new(base, on_pace, k);
	talloc_set_destructor(k, kannel_destructor);
	if (!k->multi || !k->timer || !k->pace || !k->cfg.sendsms_url) {
		talloc_free(k);
		return -ENOMEM;
	}
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETDATA, k);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERDATA, k);
	*out = k;
	return 0;
}

int smsr_kannel_send(struct smsr_kannel *k, const char *to, const uint8_t *ud, size_t ud_len, size_t udh_len,
		     const char *token, smsr_kannel_done_cb done, void *data)
{
	struct job *j = talloc_zero(k, struct job);

	if (!j)
		return -ENOMEM;
	j->url = smsr_kannel_sendsms_url(j, &k->cfg, to, ud, ud_len, udh_len, token);
	if (!j->url) {
		talloc_free(j);
		return -EINVAL;
	}
	j->k = k;
	j->done = done;
	j->data = data;
	talloc_set_destructor(j, job_destructor);
	TAILQ_INSERT_TAIL(&k->queue, j, entry);
	k->queued++;
	dispatch(k);
	return 0;
}

unsigned smsr_kannel_pending(const struct smsr_kannel *k)
{
	return k->queued + k->inflight;
}
