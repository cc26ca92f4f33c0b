/* Client of Kannel's fake SMSC (kannel.md §5, §6, §10): line protocol, escaping, reconnect with backoff. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <talloc.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "tests/euicc-sim/card.h"
#include "tests/euicc-sim/kannel_fake.h"
#include "proto/hex.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define BACKLOG_MAX (16 * 1024 * 1024)	/* MO bytes kept while bearerbox is away */
#define LINE_MAX_LEN (64 * 1024)	/* a longer line without '\n' is a protocol error */

struct sim_kannel {
	struct event_base *base;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char name[80];			/* host:port for logs */
	struct sim_kannel_ops ops;
	void *data;
	struct bufferevent *bev;	/* set in CONNECTING and UP */
	enum sim_kannel_state state;
	struct evbuffer *backlog;	/* MO lines waiting for a connection */
	struct event *retry;
	unsigned backoff_ms;
	struct sim_kannel_stats stats;
};

static void try_connect(struct sim_kannel *k);

const char *sim_kannel_state_name(enum sim_kannel_state s)
{
	switch (s) {
	case SIM_KANNEL_IDLE:
		return "IDLE";
	case SIM_KANNEL_CONNECTING:
		return "CONNECTING";
	case SIM_KANNEL_UP:
		return "UP";
	case SIM_KANNEL_BACKOFF:
		return "BACKOFF";
	default:
		return "unknown";
	}
}

/*
 * Line codec
 */

int sim_kannel_url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		uint8_t b;

		if (in[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -EINVAL;
			hi = proto_hex_digit((unsigned char)in[i + 1]);
			lo = proto_hex_digit((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			b = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else if (in[i] == '+') {
			b = 0x20;
		} else {
			b = (uint8_t)in[i];
		}
		if (n == cap)
			return -ENOSPC;
		out[n++] = b;
	}
	return (int)n;
}

char *sim_kannel_url_encode_all(const uint8_t *in, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[3 * i] = '%';
		out[3 * i + 1] = hex[in[i] >> 4];
		out[3 * i + 2] = hex[in[i] & 0x0F];
	}
	out[3 * len] = '\0';
	return out;
}

/* Split line into at most max space-separated tokens (kept as pointer + length). */
static unsigned tokenize(const char *line, size_t len, const char **tok, size_t *tlen, unsigned max)
{
	unsigned n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		size_t s = i;
		while (i < len && line[i] != ' ')
			i++;
		tok[n] = line + s;
		tlen[n] = i - s;
		n++;
		if (i < len)
			i++;	/* the separator */
	}
	if (i < len && n == max)
		tlen[max - 1] = len - (size_t)(tok[max - 1] - line);	/* the rest, spaces included */
	return n;
}

static bool tok_is(const char *t, size_t l, const char *s)
{
	return l == strlen(s) && !memcmp(t, s, l);
}

static int copy_addr(char *dst, const char *t, size_t l)
{
	uint8_t tmp[SIM_KANNEL_ADDR_MAX];
	int n;

	if (!l)
		return -EINVAL;
	n = sim_kannel_url_decode(t, l, tmp, sizeof(tmp));
	if (n < 0)
		return -EINVAL;
	memcpy(dst, tmp, (size_t)n);
	dst[n] = '\0';
	if (strlen(dst) != (size_t)n || memchr(dst, ' ', (size_t)n))
		return -EINVAL;
	return 0;
}

int sim_kannel_parse_mt(const char *line, size_t len, struct sim_kannel_mt *mt)
{
	const char *tok[7];
	size_t tlen[7];
	unsigned n;
	int r;

	memset(mt, 0, sizeof(*mt));
	if (len && line[len - 1] == '\r')
		len--;
	n = tokenize(line, len, tok, tlen, 7);
	if (n < 3 || copy_addr(mt->from, tok[0], tlen[0]) || copy_addr(mt->to, tok[1], tlen[1]))
		return -EINVAL;
	if (tok_is(tok[2], tlen[2], "udh") || tok_is(tok[2], tlen[2], "udh-data")) {
		const char *d;
		size_t dl;
		int h;

		/* 1.4.5: udh <U> data <D>; older: udh <U> <D> */
		if (n == 6 && tok_is(tok[4], tlen[4], "data")) {
			d = tok[5];
			dl = tlen[5];
		} else if (n == 5) {
			d = tok[4];
			dl = tlen[4];
		} else {
			return -EINVAL;
		}
		h = sim_kannel_url_decode(tok[3], tlen[3], mt->ud, sizeof(mt->ud));
		if (h < 0)
			return h;
		if (h < 1 || (size_t)mt->ud[0] + 1 != (size_t)h)
			return -EINVAL;
		r = sim_kannel_url_decode(d, dl, mt->ud + h, sizeof(mt->ud) - (size_t)h);
		if (r < 0)
			return r;
		mt->type = SIM_KANNEL_MT_UDH;
		mt->udh_len = (size_t)h;
		mt->len = (size_t)h + (size_t)r;
		return 0;
	}
	if (tok_is(tok[2], tlen[2], "text")) {
		mt->type = SIM_KANNEL_MT_TEXT;
		return 0;
	}
	if (tok_is(tok[2], tlen[2], "data") || tok_is(tok[2], tlen[2], "ucs-2")) {
		mt->type = tok_is(tok[2], tlen[2], "data") ? SIM_KANNEL_MT_DATA : SIM_KANNEL_MT_UCS2;
		if (n != 4)
			return -EINVAL;
		r = sim_kannel_url_decode(tok[3], tlen[3], mt->ud, sizeof(mt->ud));
		if (r < 0)
			return r;
		mt->len = (size_t)r;
		return 0;
	}
	return -EINVAL;
}

static bool addr_ok(const char *a)
{
	size_t n = strlen(a);

	return n && n <= SIM_KANNEL_ADDR_MAX && !strpbrk(a, " \r\n");
}

int sim_kannel_format_mo(char *out, size_t cap, const char *from, const char *to, const uint8_t *ud, size_t len)
{
	size_t udh, need;
	int n;

	if (!len || (size_t)ud[0] + 1 > len || !addr_ok(from) || !addr_ok(to))
		return -EINVAL;
	udh = (size_t)ud[0] + 1;
	need = strlen(from) + strlen(to) + strlen(" udh-data   \n") + 3 * len + 1;
	if (need > cap)
		return -ENOSPC;
	n = snprintf(out, cap, "%s %s udh-data ", from, to);
	sim_kannel_url_encode_all(ud, udh, out + n);
	n += (int)(3 * udh);
	out[n++] = ' ';
	sim_kannel_url_encode_all(ud + udh, len - udh, out + n);
	n += (int)(3 * (len - udh));
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

/*
 * Connection
 */

static void schedule_retry(struct sim_kannel *k)
{
	struct timeval tv = { k->backoff_ms / 1000, (k->backoff_ms % 1000) * 1000 };

	k->state = SIM_KANNEL_BACKOFF;
	evtimer_add(k->retry, &tv);
	k->backoff_ms = k->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : k->backoff_ms * 2;
}

static void link_down(struct sim_kannel *k, const char *why)
{
	bool was_up = k->state == SIM_KANNEL_UP;

	if (k->bev) {
		struct evbuffer *out = bufferevent_get_output(k->bev);

		/* whatever did not reach the kernel goes back to the backlog, in front */
		if (evbuffer_get_length(out))
			evbuffer_prepend_buffer(k->backlog, out);
		bufferevent_free(k->bev);
		k->bev = NULL;
	}
	if (was_up) {
		SIM_LOG(SIM_DKANNEL, SIM_LOG_NOTICE, "fake SMSC %s: link down (%s)", k->name, why);
		if (k->ops.link)
			k->ops.link(k->data, false);
	} else {
		SIM_LOG(SIM_DKANNEL, SIM_LOG_INFO, "fake SMSC %s: connect failed (%s), retry in %u ms", k->name, why,
			k->backoff_ms);
	}
	schedule_retry(k);
}

static void handle_line(struct sim_kannel *k, const char *line, size_t len)
{
	struct sim_kannel_mt *mt = talloc(k, struct sim_kannel_mt);
	int rc;

	if (!mt)
		return;
	rc = sim_kannel_parse_mt(line, len, mt);
	if (rc < 0) {
		k->stats.mt_malformed++;
		SIM_LOG(SIM_DKANNEL, SIM_LOG_NOTICE, "fake SMSC %s: malformed line (%zu bytes) ignored", k->name, len);
	} else if (mt->type != SIM_KANNEL_MT_UDH) {
		k->stats.mt_ignored++;
		SIM_LOG(SIM_DKANNEL, SIM_LOG_INFO, "MT %s -> %s without UDH: ignored, never answered", mt->from,
			mt->to);
	} else {
		k->stats.mt_udh++;
		k->ops.mt(k->data, mt);
	}
	talloc_free(mt);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct sim_kannel *k = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		handle_line(k, line, n);
		free(line);
		if (!k->bev)
			return;	/* callbacks may not close us, but be safe */
	}
	if (evbuffer_get_length(in) > LINE_MAX_LEN)
		link_down(k, "line too long");
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sim_kannel *k = arg;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		k->state = SIM_KANNEL_UP;
		k->backoff_ms = BACKOFF_MIN_MS;
		k->stats.connects++;
		SIM_LOG(SIM_DKANNEL, SIM_LOG_NOTICE, "fake SMSC %s: connected, %zu backlog bytes to send", k->name,
			evbuffer_get_length(k->backlog));
		bufferevent_write_buffer(bev, k->backlog);
		if (k->ops.link)
			k->ops.link(k->data, true);
		return;
	}
	if (what & BEV_EVENT_EOF)
		link_down(k, "EOF");
	else if (what & BEV_EVENT_ERROR)
		link_down(k, strerror(EVUTIL_SOCKET_ERROR()));
}

static void try_connect(struct sim_kannel *k)
{
	k->state = SIM_KANNEL_CONNECTING;
	k->bev = bufferevent_socket_new(k->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!k->bev) {
		schedule_retry(k);
		return;
	}
	bufferevent_setcb(k->bev, read_cb, NULL, event_cb, k);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(k->bev, (struct sockaddr *)&k->addr, (int)k->addr_len) < 0)
		link_down(k, "connect");
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	try_connect(arg);
}

static int kannel_destructor(struct sim_kannel *k)
{
	if (k->bev)
		bufferevent_free(k->bev);
	if (k->retry)
		event_free(k->retry);
	if (k->backlog)
		evbuffer_free(k->backlog);
	return 0;
}

struct sim_kannel *sim_kannel_new(void *ctx, struct event_base *base, const char *host, uint16_t port,
				  const struct sim_kannel_ops *ops, void *data)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char service[8];
	struct sim_kannel *k;

	snprintf(service, sizeof(service), "%u", port);
	if (!ops || !ops->mt || getaddrinfo(host, service, &hints, &ai) || !ai)
		return NULL;
	k = talloc_zero(ctx, struct sim_kannel);
	if (!k) {
		freeaddrinfo(ai);
		return NULL;
	}
	talloc_set_destructor(k, kannel_destructor);
	memcpy(&k->addr, ai->ai_addr, ai->ai_addrlen);
	k->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(k->name, sizeof(k->name), "%s:%u", host, port);
	k->base = base;
	k->ops = *ops;
	k->data = data;
	k->backoff_ms = BACKOFF_MIN_MS;
	k->backlog = evbuffer_new();
	k->retry = evtimer_new(base, retry_cb, k);
	if (!k->backlog || !k->retry) {
		talloc_free(k);
		return NULL;
	}
	return k;
}

int sim_kannel_start(struct sim_kannel *k)
{
	if (k->state == SIM_KANNEL_IDLE)
		try_connect(k);
	return 0;
}

int sim_kannel_send_mo(struct sim_kannel *k, const char *from, const char *to, const uint8_t *ud, size_t len)
{
	char line[64 + 3 * SIM_KANNEL_UD_MAX];
	int n = sim_kannel_format_mo(line, sizeof(line), from, to, ud, len);

	if (n < 0)
		return -EINVAL;
	if (k->state == SIM_KANNEL_UP) {
		bufferevent_write(k->bev, line, (size_t)n);
	} else {
		if (evbuffer_get_length(k->backlog) + (size_t)n > BACKLOG_MAX) {
			k->stats.mo_dropped++;
			return -ENOBUFS;
		}
		evbuffer_add(k->backlog, line, (size_t)n);
	}
	k->stats.mo_lines++;
	return 0;
}

bool sim_kannel_connected(const struct sim_kannel *k)
{
	return k->state == SIM_KANNEL_UP;
}

enum sim_kannel_state sim_kannel_state(const struct sim_kannel *k)
{
	return k->state;
}

size_t sim_kannel_pending(const struct sim_kannel *k)
{
	size_t n = evbuffer_get_length(k->backlog);

	if (k->bev)
		n += evbuffer_get_length(bufferevent_get_output(k->bev));
	return n;
}

const struct sim_kannel_stats *sim_kannel_stats(const struct sim_kannel *k)
{
	return &k->stats;
}
